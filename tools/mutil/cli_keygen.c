/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_keygen.c — `mutil keygen NAME [--force]`: generates a CURVE keypair
    and writes it as a zcert pair (NAME, NAME_secret) with mu_keys_save,
    printing the public key in Z85. */
#include "cli.h"

#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#define KEYGEN_HELP                                                                 \
    "Generates a new random CURVE keypair and writes two files in czmq's zcert\n"   \
    "format, which czmq (zcert_load) and pyzmq (zmq.auth.load_certificate) read:\n" \
    "  NAME         the public certificate (mode 0644): give it to the peers\n"     \
    "               that must recognize this key, e.g. a server's allow-list\n"     \
    "               directory;\n"                                                   \
    "  NAME_secret  the public and secret keys (mode 0600 from its creation):\n"    \
    "               keep it private.\n"                                             \
    "Each file is written to a temporary name, synced and renamed into place.\n"    \
    "The public key is printed in Z85 (40 characters) on standard output.\n"        \
    "\n"                                                                            \
    "options:\n"                                                                    \
    "  --force   replace NAME and NAME_secret when they exist (without it,\n"       \
    "            existing files are left alone and keygen fails)\n"                 \
    "\n"                                                                            \
    "Exit status: 0 ok, 1 the files exist or cannot be written, 2 bad usage.\n"

static int
usage_failure(const cli_command_t *self)
{
    cli_print_usage(stderr, "", self);
    return CLI_EXIT_USAGE;
}

/*  True when path exists (as anything, even a dangling link). */
static bool
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int
keygen_run(const cli_command_t *self, int argc, char **argv)
{
    static const char *const flags[] = { "--force", NULL };
    unsigned seen = 0;
    int status = cli_args_split(self, "", self->name, &argc, argv, flags, &seen);
    if (status != CLI_ARGS_OPERAND)
        return status;
    if (argc != 1 || argv[0][0] == '\0') {
        if (argc > 1)
            cli_error(self->name, "unexpected argument '%s'", argv[1]);
        else
            cli_error(self->name, argc ? "NAME is empty" : "missing NAME");
        return usage_failure(self);
    }
    const char *name = argv[0];
    bool force = seen & 1;

    char secret_path[4096];
    if ((size_t) snprintf(secret_path, sizeof secret_path, "%s_secret", name)
        >= sizeof secret_path) {
        cli_error(self->name, "NAME is too long");
        return CLI_EXIT_FAIL;
    }
    if (!force && (exists(name) || exists(secret_path))) {
        cli_error(self->name, "'%s' already exists; use --force to replace it",
                  exists(name) ? name : secret_path);
        return CLI_EXIT_FAIL;
    }
    mu_keys_t *keys = mu_keys_new();
    if (keys == NULL) {
        cli_error(self->name, "cannot generate a keypair: %s", mu_last_error());
        return CLI_EXIT_FAIL;
    }
    int rc = mu_keys_save(keys, name);
    if (rc == 0)
        printf("%s\n", mu_keys_public_txt(keys));
    else
        cli_error(self->name, "cannot write '%s' and '%s': %s", name, secret_path, mu_strerror(rc));
    mu_keys_destroy(&keys);
    return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

const cli_command_t cli_cmd_keygen = {
    "keygen",
    "NAME [--force]",
    "generate a CURVE keypair into the zcert files NAME and NAME_secret",
    KEYGEN_HELP,
    keygen_run,
    NULL
};

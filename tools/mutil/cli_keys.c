/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_keys.c — loading the keys of the connection commands (--secret-file,
    --cert, --server-key), with messages that say what is wrong with a file
    and what to do about it. */
#include "cli.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INSECURE_HINT "(or pass --allow-insecure-secret to accept it)"

/*  Explains MU_EINSECURE for the secret file path: a symbolic link, or a
    mode that lets group or others in. */
static void
report_insecure(const char *who, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        cli_error(who, "%s: %s", path, mu_strerror(MU_EINSECURE));
    else if (S_ISLNK(st.st_mode))
        cli_error(who, "%s: is a symbolic link; give the secret file's own path " INSECURE_HINT,
                  path);
    else
        cli_error(who,
                  "%s: mode %04o lets group or others access this secret; run "
                  "'chmod 600 %s' " INSECURE_HINT,
                  path, (unsigned) (st.st_mode & 07777), path);
}

/*  Reports a file error rc about path that is not specific to its contents. */
static void
report_file_error(const char *who, const char *path, int rc)
{
    if (rc == MU_EINSECURE)
        report_insecure(who, path);
    else if (rc == MU_EISDIR)
        cli_error(who, "%s: is a directory, not a file", path);
    else if (rc == MU_ENOTREG)
        cli_error(who, "%s: not a regular file (a device, FIFO or socket)", path);
    else
        cli_error(who, "%s: %s", path, mu_strerror(rc));
}

bool
cli_load_secret(const char *who, const char *path, int flags, char **secret_p, size_t *size_p)
{
    int rc = mu_keys_read_secret_file(path, flags, secret_p, size_p);
    if (rc == MU_EINVAL)
        cli_error(who, "%s: passphrase shorter than %d bytes", path, MU_KEYS_SECRET_MIN);
    else if (rc == MU_EFBIG)
        cli_error(who, "%s: passphrase longer than %d bytes (the limit)", path, MU_KEYS_SECRET_MAX);
    else if (rc != 0)
        report_file_error(who, path, rc);
    return rc == 0;
}

/*  The file a secret key of cert path is read from: path itself when it
    names the "_secret" file or has no "_secret" file beside it. */
static void
secret_file_of(const char *path, char *out, size_t cap)
{
    size_t n = strlen(path);
    bool is_secret = n >= 7 && strcmp(path + n - 7, "_secret") == 0;
    snprintf(out, cap, "%s%s", path, is_secret ? "" : "_secret");
    if (access(out, F_OK) != 0)
        snprintf(out, cap, "%s", path);
}

mu_keys_t *
cli_load_cert(const char *who, const char *path, int flags, bool need_secret)
{
    mu_keys_t *keys = mu_keys_load(path, flags);
    int rc = keys ? 0 : mu_last_code();
    char secret[4096];
    secret_file_of(path, secret, sizeof secret);
    if (rc == MU_EINVAL)
        cli_error(who, "%s: not a valid cert file", path);
    else if (rc == MU_EMISMATCH)
        cli_error(who,
                  "%s: the secret key in %s does not belong to the public key in %s: "
                  "the pair does not match (make a new one with 'mutil keygen NAME')",
                  path, secret, path);
    else if (rc == MU_EINSECURE)
        report_insecure(who, secret);
    else if (rc != 0)
        report_file_error(who, path, rc);
    else if (need_secret && mu_keys_secret(keys) == NULL) {
        cli_error(who, "%s: no secret key (%s_secret is missing)", path, path);
        mu_keys_destroy(&keys);
    }
    return keys;
}

mu_keys_t *
cli_load_server_key(const char *who, const char *key)
{
    mu_keys_t *keys = NULL;
    if (strlen(key) == MU_KEY_TEXT - 1)
        keys = mu_keys_new_public_txt(key);
    if (keys != NULL)
        return keys;
    keys = mu_keys_load(key, MU_KEYS_PUBLIC_ONLY);
    int rc = keys ? 0 : mu_last_code();
    if (rc == MU_ENOENT)
        cli_error(who, "--server-key %s: no such file, and not a key (40 Z85 characters)", key);
    else if (rc == MU_EINVAL)
        cli_error(who, "--server-key %s: not a valid cert file", key);
    else if (rc != 0)
        report_file_error(who, key, rc);
    return keys;
}

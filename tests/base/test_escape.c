/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_escape.c — mu_escape (include/mu_text.h), as exported by libmutil, and the logs
    that use it: `mutil serve` logging a hostile client name, `mutil call`
    printing a hostile error text from a server.

    The mutil tool is "$top_builddir/mutil" (top_builddir defaults to "."). */
#include "mu_test.h"
#include "mutil.h"
#include <czmq.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/wait.h>

/* Escapes size bytes into a buffer of cap and compares with want. */
static bool
escapes_to(const void *data, size_t size, size_t cap, const char *want)
{
    char out[2048];
    if (cap > sizeof out)
        return false;
    memset(out, 'Z', sizeof out);
    mu_escape(out, cap, data, size);
    if (strcmp(out, want) != 0 || strlen(out) >= cap) {
        printf("# escaped to \"%s\", expected \"%s\"\n", out, want);
        return false;
    }
    return true;
}

/* Every single byte: printable ASCII kept (the backslash doubled), \n \r
   \t named, every other control, DEL and each lone byte >= 0x80 (never
   well-formed UTF-8 on its own) as \xHH. */
static void
test_every_byte(void)
{
    for (int b = 0; b < 256; b++) {
        uint8_t byte = (uint8_t) b;
        char want[8];
        if (b == '\\')
            strcpy(want, "\\\\");
        else if (b == '\n')
            strcpy(want, "\\n");
        else if (b == '\r')
            strcpy(want, "\\r");
        else if (b == '\t')
            strcpy(want, "\\t");
        else if (b >= 0x20 && b < 0x7f)
            snprintf(want, sizeof want, "%c", b);
        else
            snprintf(want, sizeof want, "\\x%02x", b);
        MU_CHECK(escapes_to(&byte, 1, 64, want));
    }
    MU_CHECK(escapes_to("", 0, 8, ""));
    MU_CHECK(escapes_to(NULL, 0, 8, ""));
    MU_CHECK(escapes_to("a\0b", 3, 64, "a\\x00b"));
}

/* Well-formed UTF-8 is kept, the same way wherever it stands; malformed
   sequences and characters that steer the display are escaped byte by
   byte. */
static void
test_utf8(void)
{
    MU_CHECK(escapes_to("caf\xc3\xa9", 5, 64, "caf\xc3\xa9"));
    MU_CHECK(escapes_to("\xe6\x97\xa5\xe6\x9c\xac", 6, 64, "\xe6\x97\xa5\xe6\x9c\xac"));
    MU_CHECK(escapes_to("\xf0\x9f\x98\x80!", 5, 64, "\xf0\x9f\x98\x80!"));
    MU_CHECK(escapes_to("\xc3\xa9\xff\xc3\xa9", 5, 64, "\xc3\xa9\\xff\xc3\xa9"));
    /* Overlong, surrogate, beyond U+10FFFF, truncated, a lone continuation. */
    MU_CHECK(escapes_to("\xc0\x80", 2, 64, "\\xc0\\x80"));
    MU_CHECK(escapes_to("\xe0\x80\xaf", 3, 64, "\\xe0\\x80\\xaf"));
    MU_CHECK(escapes_to("\xed\xa0\x80", 3, 64, "\\xed\\xa0\\x80"));
    MU_CHECK(escapes_to("\xf4\x90\x80\x80", 4, 64, "\\xf4\\x90\\x80\\x80"));
    MU_CHECK(escapes_to("\xe6\x97", 2, 64, "\\xe6\\x97"));
    MU_CHECK(escapes_to("\xe6\x97x", 3, 64, "\\xe6\\x97x"));
    MU_CHECK(escapes_to("\x80", 1, 64, "\\x80"));
    /* C1 CSI, line separator, right-to-left override: well-formed, escaped. */
    MU_CHECK(escapes_to("\xc2\x9b"
                        "31m",
                        5, 64, "\\xc2\\x9b31m"));
    MU_CHECK(escapes_to("\xe2\x80\xa8", 3, 64, "\\xe2\\x80\\xa8"));
    MU_CHECK(escapes_to("\xe2\x80\xae", 3, 64, "\\xe2\\x80\\xae"));
    MU_CHECK(escapes_to("\xc2\xa0", 2, 64, "\xc2\xa0")); /* NBSP: printable */
}

/* A copy that does not fit is cut before an escape or a character, never
   inside one, and ends with "..."; the result always fits cap. */
static void
test_truncation(void)
{
    MU_CHECK(escapes_to("abcdefg", 7, 8, "abcdefg")); /* exactly fits */
    MU_CHECK(escapes_to("abcdefgh", 8, 8, "abcd..."));
    MU_CHECK(escapes_to("\n\n\n\n", 4, 8, "\\n\\n..."));
    MU_CHECK(escapes_to("\x1b\x1b", 2, 8, "\\x1b..."));
    MU_CHECK(escapes_to("\x1b", 1, 8, "\\x1b"));
    MU_CHECK(escapes_to("\xc3\xa9\xc3\xa9\xc3\xa9", 6, 8, "\xc3\xa9\xc3\xa9\xc3\xa9"));
    MU_CHECK(escapes_to("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8, 8, "\xc3\xa9\xc3\xa9..."));
    /* Random bytes: bounded by cap; MU_ESCAPE_ROOM never cuts. */
    uint8_t noise[1000];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (uint8_t) (i * 7919u >> 3);
    char out[MU_ESCAPE_ROOM(sizeof noise)];
    for (size_t cap = 8; cap < 200; cap++) {
        mu_escape(out, cap, noise, sizeof noise);
        MU_CHECK(strlen(out) < cap);
        MU_CHECK(strcmp(out + strlen(out) - 3, "...") == 0);
        for (size_t i = 0; out[i]; i++)
            MU_CHECK((unsigned char) out[i] >= 0x20 && out[i] != 0x7f);
    }
    mu_escape(out, sizeof out, noise, sizeof noise);
    MU_CHECK(strcmp(out + strlen(out) - 3, "...") != 0);
}

/* ---- end to end: the tool's logs ------------------------------------------------------ */

static char tmpdir[256];

/* The path of the mutil tool. */
static const char *
mutil_path(void)
{
    static char path[512];
    const char *dir = getenv("top_builddir");
    snprintf(path, sizeof path, "%s/mutil", dir && *dir ? dir : ".");
    return path;
}

/* Runs mutil with argv (NULL-terminated) in a child, stdout to out_fd
   (-1: /dev/null) and stderr to the file err_path. */
static pid_t
spawn_mutil(char *const argv[], int out_fd, const char *err_path)
{
    pid_t pid = fork();
    if (pid == 0) {
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int out = out_fd >= 0 ? out_fd : open("/dev/null", O_WRONLY);
        if (err < 0 || out < 0 || dup2(err, 2) < 0 || dup2(out, 1) < 0)
            _exit(126);
        execv(mutil_path(), argv);
        _exit(127);
    }
    return pid;
}

/* Reads a whole (small) file into buf; returns its length or -1. */
static ssize_t
read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

/* The number of lines of text that contain needle. */
static int
lines_with(const char *text, const char *needle)
{
    int count = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t) (end - line) : strlen(line);
        char copy[4096];
        snprintf(copy, sizeof copy, "%.*s", (int) len, line);
        count += strstr(copy, needle) != NULL;
        line += len + (end ? 1 : 0);
    }
    return count;
}

/* A client named "evil\nFAKE LOG LINE\x1b[31m" joins `mutil serve`: the
   server's log has one line for it, with the name escaped. */
static void
test_serve_logs_name_escaped(void)
{
    char endpoint[300], err_path[300];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/serve", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/serve.err", tmpdir);
    int ready[2];
    MU_CHECK(pipe(ready) == 0);
    char *argv[] = { "mutil", "serve", "--bind", endpoint, "--insecure", NULL };
    pid_t server = spawn_mutil(argv, ready[1], err_path);
    close(ready[1]);
    MU_CHECK(server > 0);
    int first = mu_test_wait_byte(ready[0], 10000); /* it prints its endpoint */
    close(ready[0]);
    MU_CHECK(first == 'i');
    mu_client_t *client = mu_client_new();
    MU_CHECK(client);
    void *reply = NULL;
    size_t size = 0;
    int rc = mu_client_set_insecure(client);
    if (rc == 0)
        rc = mu_client_set_name(client, "evil\nFAKE LOG LINE\x1b[31m");
    if (rc == 0)
        rc = mu_client_connect(client, endpoint);
    if (rc == 0) /* answered: the server logged the join before */
        rc = mu_client_request(client, "hi", 2, &reply, &size, mu_test_ms(10000));
    free(reply);
    mu_client_destroy(&client);
    kill(server, SIGINT);
    int status = -1;
    waitpid(server, &status, 0);
    MU_CHECK_EQ(rc, 0);
    char log[8192];
    MU_CHECK(read_file(err_path, log, sizeof log) > 0);
    MU_CHECK_EQ(lines_with(log, "FAKE LOG LINE"), 1);
    MU_CHECK(strstr(log, "joined (name 'evil\\nFAKE LOG LINE\\x1b[31m',") != NULL);
    MU_CHECK(strchr(log, '\x1b') == NULL);
}

/* A server answers `mutil call` with an error text holding a newline and
   an escape sequence: the tool prints it escaped, on one line. */
static void
test_call_prints_error_escaped(void)
{
    zsys_handler_set(NULL);
    char endpoint[300], err_path[300];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/errsrv", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/call.err", tmpdir);
    mu_server_t *server = mu_server_new();
    MU_CHECK(server);
    MU_CHECK_EQ(mu_server_set_insecure(server), 0);
    MU_CHECK_EQ(mu_server_bind(server, endpoint), 0);
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%d", mu_test_ms(20000));
    char *argv[] = { "mutil", "call", endpoint, "x", "--insecure", "--timeout", timeout, NULL };
    pid_t call = spawn_mutil(argv, -1, err_path);
    MU_CHECK(call > 0);
    int status = -1;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(30000);
    while (waitpid(call, &status, WNOHANG) == 0 && mu_test_now_ms() < deadline) {
        mu_event_t *ev = NULL;
        if (mu_server_recv(server, &ev, 100) != 0)
            continue;
        if (mu_event_kind(ev) == MU_SERVER_REQUEST
            && mu_server_reply_error(server, ev, MU_EACCES, "denied\nmutil call: FAKE LINE\x1b[2J")
                   != 0)
            printf("# the error reply was not sent\n");
        mu_event_destroy(&ev);
    }
    mu_server_destroy(&server);
    MU_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    char log[8192];
    MU_CHECK(read_file(err_path, log, sizeof log) > 0);
    MU_CHECK_EQ(lines_with(log, "FAKE LINE"), 1);
    MU_CHECK(strstr(log, "denied\\nmutil call: FAKE LINE\\x1b[2J (MU_EACCES)") != NULL);
    MU_CHECK(strchr(log, '\x1b') == NULL);
}

int
main(void)
{
    mu_test_start(120);
    if (!mu_test_scratch_dir(tmpdir, sizeof tmpdir, "mu_test_escape"))
        return 1;
    MU_RUN(test_every_byte);
    MU_RUN(test_utf8);
    MU_RUN(test_truncation);
    MU_RUN(test_serve_logs_name_escaped);
    MU_RUN(test_call_prints_error_escaped);
    zsys_shutdown();
    mu_test_remove_scratch_dir(tmpdir);
    MU_DONE();
}

/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_transfer.c — the local side of `mutil get` and `mutil put` (the
    connection side is in cli_conn.c):
      - which file LOCAL means: an existing directory receives REMOTE's
        base name, as cp does; "-" is standard output (get: the verified
        download is copied there at the end) or standard input (put: read
        in place when it is a regular file, else spooled to an unlinked
        temporary file first, since an upload must know its size and may
        start over after a reconnect);
      - checks before connecting that name the path that is wrong and say
        what to do (--force, --resume);
      - the resumable download: get always receives into LOCAL.partial
        (MU_FILE_RESUME), which the library keeps after a failure or an
        interruption; --resume continues it, --force starts it over, and
        without either an existing LOCAL.partial is left alone and named;
      - Ctrl-C: SIGINT/SIGTERM set czmq's zsys_interrupted, the call ends
        with MU_EINTR, what is kept is said, and the tool dies of the same
        signal (so a calling shell sees an interrupted command);
      - the progress bar, fitted to the terminal's width. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <czmq.h>

/* ---- signals ---------------------------------------------------------------- */

static volatile sig_atomic_t caught_signal;

static void
on_interrupt(int signo)
{
    caught_signal = signo;
    zsys_interrupted = 1;
}

void
cli_catch_interrupts(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int
cli_interrupted(void)
{
    return caught_signal;
}

void
cli_die_of_interrupt(void)
{
    int signo = caught_signal;
    if (signo == 0)
        return;
    fflush(NULL);
    signal(signo, SIG_DFL);
    raise(signo);
}

/* ---- progress bar ----------------------------------------------------------- */

#define BAR_MAX 60
#define BAR_MIN 10

int
cli_progress_draw(void *arg, uint64_t done, uint64_t total)
{
    cli_progress_t *p = arg;
    int64_t now = zclock_mono();
    if (!p->started) {
        p->started = true;
        p->start_ms = now;
        p->first = done; /* a resumed download starts past 0 */
    }
    if (done < total && now - p->last_ms < 100 && p->last_ms != 0)
        return 0;
    p->last_ms = now;
    if (p->lines) {
        fprintf(stderr, "mutil %s: %llu of %llu bytes\n", p->who, (unsigned long long) done,
                (unsigned long long) total);
        return 0;
    }
    double secs = (double) (now - p->start_ms) / 1000.0;
    double rate = secs > 0 ? (double) (done - p->first) / secs / 1048576.0 : 0;
    char text[96];
    int len = snprintf(text, sizeof text, " %3d%%  %.1f of %.1f MiB  %.1f MiB/s ",
                       total ? (int) (done * 100 / total) : 100, (double) done / 1048576.0,
                       (double) total / 1048576.0, rate);
    /* the bar takes what the text leaves of the line, within limits; on a
       terminal too narrow for it, the text alone (cut to fit) */
    size_t columns = cli_terminal_width(2);
    int room = columns ? (int) columns - 1 - len - 2 : BAR_MAX / 2;
    int width = room > BAR_MAX ? BAR_MAX : room;
    if (width >= BAR_MIN) {
        int filled = total ? (int) (done * (uint64_t) width / total) : width;
        static const char hashes[BAR_MAX + 1] =
            "############################################################";
        static const char dots[BAR_MAX + 1] =
            "............................................................";
        fprintf(stderr, "\r[%.*s%.*s]%s", filled, hashes, width - filled, dots, text);
    } else {
        int fit = columns > 1 ? (int) columns - 1 : len;
        fprintf(stderr, "\r%.*s", fit < len ? fit : len, text + 1);
    }
    if (done == total)
        fputc('\n', stderr);
    return 0;
}

/* ---- paths ------------------------------------------------------------------ */

static char *
join_path(const char *dir, const char *name)
{
    size_t len = strlen(dir);
    bool slash = len > 0 && dir[len - 1] == '/';
    char *path = malloc(len + 1 + strlen(name) + 1);
    if (path)
        sprintf(path, "%s%s%s", dir, slash ? "" : "/", name);
    return path;
}

/*  REMOTE's last path component, or NULL when it has none ("", "a/"). */
static const char *
base_name(const char *remote)
{
    const char *slash = strrchr(remote, '/');
    const char *name = slash ? slash + 1 : remote;
    return *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 ? name : NULL;
}

/*  Checks that the directory path is to be written in exists. */
static bool
parent_ok(const char *who, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t) (slash - path)) : strdup(".");
    if (dir == NULL) {
        cli_error(who, "out of memory");
        return false;
    }
    struct stat st;
    bool ok = stat(*dir ? dir : "/", &st) == 0 && S_ISDIR(st.st_mode);
    if (!ok && errno == ENOENT)
        cli_error(who, "cannot write '%s': directory '%s' does not exist", path, dir);
    else if (!ok)
        cli_error(who, "cannot write '%s': '%s' is not a directory", path, dir);
    free(dir);
    return ok;
}

/* ---- get -------------------------------------------------------------------- */

/*  get to "-": a private directory receives the download. */
static int
open_stdout_spool(cli_local_t *self)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = join_path(tmp && *tmp ? tmp : "/tmp", "mutil-get.XXXXXX");
    if (dir == NULL || mkdtemp(dir) == NULL) {
        cli_error(self->who, "cannot make a temporary directory: %s", strerror(errno));
        free(dir);
        return CLI_EXIT_FAIL;
    }
    self->spool_dir = dir;
    self->path = join_path(dir, "download");
    return self->path ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/*  Decides what to do with an earlier LOCAL.partial. */
static int
check_partial(cli_local_t *self, int flags)
{
    struct stat st;
    if (stat(self->partial, &st) != 0 || (flags & MU_FILE_RESUME))
        return CLI_EXIT_OK;
    if (flags & MU_FILE_OVERWRITE) {
        if (unlink(self->partial) == 0)
            return CLI_EXIT_OK;
        cli_error(self->who, "cannot remove '%s': %s", self->partial, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    cli_error(self->who,
              "'%s' holds %llu bytes from an earlier try: add --resume to continue "
              "it, or --force to start over",
              self->partial, (unsigned long long) st.st_size);
    return CLI_EXIT_FAIL;
}

int
cli_get_local_open(cli_local_t *self, const char *who, const char *local, const char *remote,
                   int *flags)
{
    *self = (cli_local_t) { .who = who, .name = local, .spool_fd = -1 };
    if (local[0] == '\0') {
        cli_error(who, "LOCAL is empty (- is standard output)");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(local, "-") == 0) {
        self->name = "standard output";
        if (*flags & MU_FILE_RESUME) {
            cli_error(who, "--resume needs a LOCAL file, not - (standard output)");
            return CLI_EXIT_USAGE;
        }
        return open_stdout_spool(self);
    }
    struct stat st;
    if (stat(local, &st) == 0 && S_ISDIR(st.st_mode)) {
        const char *name = base_name(remote);
        if (name == NULL) {
            cli_error(who, "'%s' is a directory and REMOTE '%s' names no file to put in it", local,
                      remote);
            return CLI_EXIT_FAIL;
        }
        self->path = join_path(local, name);
    } else
        self->path = strdup(local);
    self->name = self->path;
    self->partial = self->path ? malloc(strlen(self->path) + sizeof ".partial") : NULL;
    if (self->partial == NULL) {
        cli_error(who, "out of memory");
        return CLI_EXIT_FAIL;
    }
    sprintf(self->partial, "%s.partial", self->path);
    if (!parent_ok(who, self->path))
        return CLI_EXIT_FAIL;
    if (lstat(self->path, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error(who, "'%s' is a directory", self->path);
        return CLI_EXIT_FAIL;
    }
    if (lstat(self->path, &st) == 0 && !(*flags & MU_FILE_OVERWRITE)) {
        cli_error(who, "'%s' already exists: add --force to replace it", self->path);
        return CLI_EXIT_FAIL;
    }
    int status = check_partial(self, *flags);
    *flags |= MU_FILE_RESUME;
    return status;
}

/*  Copies the finished download to standard output. */
static int
copy_to_stdout(cli_local_t *self)
{
    FILE *in = fopen(self->path, "rb");
    if (in == NULL) {
        cli_error(self->who, "%s: %s", self->path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    char buf[65536];
    size_t n;
    while (!cli_interrupted() && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, stdout) != n)
            break;
    int status = ferror(in) || !feof(in) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    fclose(in);
    return status; /* a failed write is reported by main's final flush */
}

/*  The size of path.partial, 0 when there is none. */
static uint64_t
partial_size(const cli_local_t *self)
{
    struct stat st;
    return self->partial && stat(self->partial, &st) == 0 ? (uint64_t) st.st_size : 0;
}

int
cli_get_local_close(cli_local_t *self, int rc)
{
    int status = rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    if (self->spool_dir) {
        if (rc == 0)
            status = copy_to_stdout(self);
        unlink(self->path);
        rmdir(self->spool_dir);
    }
    uint64_t kept = rc != 0 ? partial_size(self) : 0;
    bool interrupted = rc == MU_EINTR && cli_interrupted();
    if (kept)
        cli_error(self->who,
                  "%s%llu bytes kept in '%s': run the same command with --resume "
                  "to continue",
                  interrupted ? "interrupted; " : "", (unsigned long long) kept, self->partial);
    else if (interrupted)
        cli_error(self->who, "interrupted");
    cli_local_free(self);
    return status;
}

/* ---- put -------------------------------------------------------------------- */

/*  put from "-": the library reads a path, from the start, maybe twice. */
static int
open_stdin(cli_local_t *self)
{
    struct stat st;
    int fd = fstat(0, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
    if (fd < 0) {
        const char *tmp = getenv("TMPDIR");
        fd = open(tmp && *tmp ? tmp : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) {
            cli_error(self->who, "cannot make a temporary file: %s", strerror(errno));
            return CLI_EXIT_FAIL;
        }
        self->spool_fd = fd;
        char buf[65536];
        ssize_t n;
        while ((n = read(0, buf, sizeof buf)) != 0) {
            if (n < 0 && errno == EINTR && !cli_interrupted())
                continue;
            if (n < 0 || write(fd, buf, (size_t) n) != n) {
                cli_error(self->who, "spooling standard input: %s", strerror(errno));
                return CLI_EXIT_FAIL;
            }
        }
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    self->path = strdup(path);
    return self->path ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int
cli_put_local_open(cli_local_t *self, const char *who, const char *local)
{
    *self = (cli_local_t) { .who = who, .name = local, .spool_fd = -1 };
    if (local[0] == '\0') {
        cli_error(who, "LOCAL is empty (- is standard input)");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(local, "-") == 0) {
        self->name = "standard input";
        return open_stdin(self);
    }
    struct stat st;
    if (stat(local, &st) != 0) {
        cli_error(who, "cannot read '%s': %s", local, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (S_ISDIR(st.st_mode)) {
        cli_error(who, "'%s' is a directory: put sends one file", local);
        return CLI_EXIT_FAIL;
    }
    if (!S_ISREG(st.st_mode)) {
        cli_error(who, "'%s' is not a regular file (use - to send standard input)", local);
        return CLI_EXIT_FAIL;
    }
    self->path = strdup(local);
    return self->path ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

void
cli_local_free(cli_local_t *self)
{
    if (self->spool_fd >= 0)
        close(self->spool_fd);
    free(self->path);
    free(self->partial);
    free(self->spool_dir);
    *self = (cli_local_t) { .who = self->who, .name = "", .spool_fd = -1 };
}

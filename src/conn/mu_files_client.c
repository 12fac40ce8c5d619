/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_files_client.c — mu_client_get / mu_client_put (contract in
    include/mu_files.h; wire messages in doc/wire.md).

    DATA messages are written from the received message (no copy); credit
    goes back on receipt, before the write, so the server keeps sending
    meanwhile; write-back of the temporary file starts every
    MU__WRITEBACK_STEP bytes so the final fsync has little left. A download
    re-opens at the bytes written after a reconnect (MU_EPIPE from
    mu__client_recv_file) or STALL_MS of silence, until the call's
    deadline; an upload starts over from byte 0 in that case. */
#include "conn/mu_files_priv.h"
#include "base/mu_fs.h"
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_DEFAULT (256 * 1024)
#define WINDOW_DEFAULT 64
#define CREDIT_MAX (1u << 20)
#define TIMEOUT_DEFAULT_MS 60000
#define STALL_MS 5000 /* silence before re-opening */

typedef struct {
    size_t chunk;
    unsigned window;
    int64_t deadline;
    int flags;
    mu_progress_fn *progress;
    void *progress_arg;
    int alg; /* MU__DIGEST_* (the public MU_FILE_DIGEST_* are the wire ids) */
} opts_t;

static int
opts_parse(const mu_file_options_t *options, opts_t *out)
{
    mu_file_options_t none = { 0 };
    const mu_file_options_t *o = options ? options : &none;
    if (o->chunk_size > MU__CHUNK_MAX || o->window > MU__WINDOW_MAX || o->timeout_ms < -1
        || (o->flags & ~(MU_FILE_RESUME | MU_FILE_OVERWRITE))
        || (o->digest != 0 && mu__fdigest_len(o->digest) == 0))
        return MU_EINVAL;
    out->alg = o->digest ? o->digest : MU__DIGEST_XXH3_128;
    out->chunk = o->chunk_size ? o->chunk_size : CHUNK_DEFAULT;
    out->window = o->window ? o->window : WINDOW_DEFAULT;
    out->deadline = mu__deadline_ms(o->timeout_ms ? o->timeout_ms : TIMEOUT_DEFAULT_MS);
    out->flags = o->flags;
    out->progress = o->progress;
    out->progress_arg = o->progress_arg;
    return 0;
}

/* Checks a remote path before sending it (the server checks it again). */
static int
remote_check(const char *remote)
{
    size_t len = strlen(remote);
    return len == 0 || len > MU__PATH_MAX_BYTES ? MU_EINVAL : 0;
}

/* Sends a message within the transfer's deadline: 0 or MU_ETIMEDOUT. */
static int
xfer_send(mu_client_t *client, int kind, uint64_t id, const void *data, size_t size,
          int64_t deadline)
{
    int rc = mu__client_send(client, kind, id, data, size, mu__remaining_ms(deadline));
    return rc == MU_EAGAIN ? MU_ETIMEDOUT : rc;
}

static void
xfer_cancel(mu_client_t *client, uint64_t id)
{
    (void) mu__client_send(client, MU__K_CANCEL, id, NULL, 0, 100);
}

/* Builds an open message: the fixed fields (head_len bytes) then the path. */
static uint8_t *
open_payload(const uint8_t *head, size_t head_len, const char *remote, size_t *size_p)
{
    size_t path_len = strlen(remote);
    uint8_t *payload = malloc(head_len + path_len);
    if (payload) {
        memcpy(payload, head, head_len);
        memcpy(payload + head_len, remote, path_len);
        *size_p = head_len + path_len;
    }
    return payload;
}

/*  Waits for the next message of transfer id. Returns 0 (kind set; the
    message in msg, which the caller initialised and closes, its payload
    data/size pointing into it), MU_EPIPE (reconnected, or silent for
    STALL_MS when stall is set: open again), MU_ETIMEDOUT or MU_EINTR. */
static int
xfer_recv(mu_client_t *client, uint64_t id, int64_t deadline, bool stall, int *kind_p,
          zmq_msg_t *msg, const uint8_t **data_p, size_t *size_p)
{
    int64_t since = mu__now_ms();
    for (;;) {
        int wait = mu__remaining_ms(deadline);
        if (wait == 0)
            return MU_ETIMEDOUT;
        if (wait < 0 || wait > 200)
            wait = 200;
        uint64_t msg_id;
        int rc = mu__client_recv_file(client, kind_p, &msg_id, msg, data_p, size_p, wait);
        if (rc == MU_EAGAIN) {
            if (stall && mu__now_ms() - since > STALL_MS)
                return MU_EPIPE;
            continue;
        }
        if (rc < 0 || msg_id == id)
            return rc;
        /* else the tail of an abandoned transfer: skip it */
    }
}

/* Set while the failure of the current call is one the server answered
   (its message already recorded with mu__fail). */
static __thread bool remote_failed;

/* The code a server's error stands for in a transfer call: an MU_E* code
   or an errno value (above -1000) as it is; MU_EREMOTE for any other, and
   for MU_EPIPE, which in this file means "the connection changed, open
   again": a server answering it would make the call open the transfer
   again and again until its deadline. */
static int
remote_code(int code)
{
    bool known = code > -1000 || strcmp(mu_errname(code), "MU_E?") != 0;
    return known && code != MU_EPIPE ? code : MU_EREMOTE;
}

/* The code of an error message (MU_EPROTO when it cannot be decoded); its
   text is recorded for mu_last_error as "server: ...". */
static int
error_code(const uint8_t *data, size_t size)
{
    int code;
    const char *msg;
    size_t msg_len;
    mu__err_read(data, size, MU_EPROTO, &code, &msg, &msg_len);
    remote_failed = true;
    return mu__fail(remote_code(code), "server: %.*s", (int) msg_len, msg);
}

/* --- the receiving end of a download --- */

typedef struct {
    mu__fhash_t hash;
    int fd;
    char *tmp; /* LOCAL.part-XXXXXX or LOCAL.partial */
    bool keep; /* LOCAL.partial: kept after a failure */
    uint64_t written;
} local_t;

static char *
str_concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

/* Hashes the bytes a LOCAL.partial already holds. */
static int
local_hash_prefix(local_t *lf)
{
    struct stat st;
    if (fstat(lf->fd, &st) < 0)
        return -errno;
    size_t cap = 1024 * 1024;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return MU_ENOMEM;
    int rc = 0;
    while (rc == 0 && lf->written < (uint64_t) st.st_size) {
        uint64_t left = (uint64_t) st.st_size - lf->written;
        size_t n = left < cap ? (size_t) left : cap;
        if ((rc = mu__files_read_all(lf->fd, buf, n, lf->written)) == 0) {
            mu__fhash_update(&lf->hash, buf, n);
            lf->written += n;
        }
    }
    free(buf);
    return rc;
}

/*  Opens LOCAL.partial, created or continued, never through a symbolic
    link (-ELOOP: a link planted there would have the download append to
    the file it leads to, then be renamed into place) nor as anything but
    a regular file (MU_ENOTREG; O_NONBLOCK so that a FIFO does not block
    the open). A LOCAL.partial that cannot be opened is not the call's to
    remove: lf->tmp is dropped then. */
static int
local_open_partial(local_t *lf)
{
    lf->fd = open(lf->tmp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    struct stat st;
    int rc = lf->fd < 0               ? -errno
             : fstat(lf->fd, &st) < 0 ? -errno
             : !S_ISREG(st.st_mode)   ? MU_ENOTREG
                                      : 0;
    if (rc == 0)
        return local_hash_prefix(lf);
    if (lf->fd >= 0)
        close(lf->fd);
    lf->fd = -1;
    free(lf->tmp);
    lf->tmp = NULL;
    return rc;
}

/*  Opens the temporary file: a fresh LOCAL.part-XXXXXX, or LOCAL.partial
    (created or continued) with MU_FILE_RESUME. */
static int
local_open(local_t *lf, const char *local, bool resume, int alg)
{
    lf->fd = -1;
    lf->written = 0;
    lf->keep = resume;
    lf->tmp = NULL;
    if (mu__fhash_init(&lf->hash, alg) < 0)
        return MU_ENOMEM;
    lf->tmp = str_concat(local, resume ? ".partial" : ".part-XXXXXX");
    if (!lf->tmp)
        return MU_ENOMEM;
    if (resume)
        return local_open_partial(lf);
    lf->fd = mkostemp(lf->tmp, O_CLOEXEC);
    if (lf->fd < 0) {
        int rc = -errno;
        free(lf->tmp);
        lf->tmp = NULL;
        return rc;
    }
    (void) fchmod(lf->fd, 0644); /* mkstemp's 0600 is too private for a download */
    return 0;
}

/* Puts the finished temporary file in place. */
static int
local_commit(local_t *lf, const char *local, bool overwrite)
{
    if (fsync(lf->fd) < 0)
        return -errno;
    int rc = mu__files_rename(AT_FDCWD, lf->tmp, AT_FDCWD, local, overwrite);
    if (rc < 0)
        return rc;
    free(lf->tmp);
    lf->tmp = NULL;
    close(lf->fd);
    lf->fd = -1;
    return mu__sync_parent(local);
}

/*  Closes the temporary file and removes it, unless it is a LOCAL.partial
    worth continuing (not empty, not after a digest mismatch or a refused
    offset). */
static void
local_close(local_t *lf, int rc)
{
    struct stat st;
    bool keep = lf->keep && rc != MU_EDIGEST && rc != MU_EINVAL && lf->fd >= 0
                && fstat(lf->fd, &st) == 0 && st.st_size > 0;
    if (lf->fd >= 0)
        close(lf->fd);
    if (lf->tmp && !keep)
        unlink(lf->tmp);
    free(lf->tmp);
    lf->tmp = NULL;
    mu__fhash_free(&lf->hash);
}

/* State of one download attempt. */
typedef struct {
    uint64_t id, total;
    bool have_info;
    unsigned window; /* as accepted by the server */
    unsigned since_grant;
} get_attempt_t;

/* Handles a DATA message: position checks, credit, write, hash, progress.
   Credit goes out first, so the server sends on while this chunk is
   written and hashed (the chunks in flight stay within the window plus
   the one in hand). Returns 0 or an error that ends the call. */
static int
get_on_data(mu_client_t *client, const opts_t *o, local_t *lf, get_attempt_t *a,
            const uint8_t *data, size_t size)
{
    if (!a->have_info || size < 9 || size - 8 > o->chunk || mu__get_le64(data) != lf->written
        || lf->written + (size - 8) > a->total)
        return MU_EPROTO;
    unsigned half = a->window / 2 ? a->window / 2 : 1;
    if (++a->since_grant >= half) {
        uint8_t credit[4];
        mu__put_le32(credit, a->since_grant);
        a->since_grant = 0;
        int rc = xfer_send(client, MU__K_GET_CREDIT, a->id, credit, 4, o->deadline);
        if (rc < 0)
            return rc;
    }
    int rc = mu__pwrite_all(lf->fd, data + 8, size - 8, lf->written);
    if (rc < 0)
        return rc;
    mu__files_writeback(lf->fd, lf->written, lf->written + (size - 8));
    mu__fhash_update(&lf->hash, data + 8, size - 8);
    lf->written += size - 8;
    if (o->progress && o->progress(o->progress_arg, lf->written, a->total) != 0)
        return MU_EINTR;
    return 0;
}

/* Handles the END message: everything arrived and the digest matches? */
static int
get_on_end(local_t *lf, const get_attempt_t *a, const uint8_t *data, size_t size)
{
    if (!a->have_info || size != mu__fdigest_len(lf->hash.alg) || lf->written != a->total)
        return MU_EPROTO;
    uint8_t digest[MU__DIGEST_MAX];
    size_t len = mu__fhash_final(&lf->hash, digest);
    return memcmp(digest, data, len) == 0 ? 0 : MU_EDIGEST;
}

/* Handles one message of a download attempt: 1 = go on, 0 = done, < 0. */
static int
get_on_msg(mu_client_t *client, const opts_t *o, local_t *lf, get_attempt_t *a, int kind,
           const uint8_t *data, size_t size)
{
    switch (kind) {
    case MU__K_GET_INFO: /* once: a size that changes mid-transfer is refused */
        if (a->have_info || size != 13 || mu__get_le64(data) < lf->written
            || mu__get_le32(data + 8) == 0 || mu__get_le32(data + 8) > o->window
            || data[12] != lf->hash.alg)
            return MU_EPROTO;
        a->total = mu__get_le64(data);
        a->window = mu__get_le32(data + 8);
        a->have_info = true;
        if (o->progress && o->progress(o->progress_arg, lf->written, a->total) != 0)
            return MU_EINTR;
        return 1;
    case MU__K_GET_DATA: {
        int rc = get_on_data(client, o, lf, a, data, size);
        return rc < 0 ? rc : 1;
    }
    case MU__K_GET_END:
        return get_on_end(lf, a, data, size);
    case MU__K_ERR:
        return error_code(data, size);
    default:
        return MU_EPROTO;
    }
}

/*  Runs download attempts from the bytes written until one ends: a lost
    connection (MU_EPIPE) opens the transfer again at lf->written. */
static int
get_run(mu_client_t *client, const char *remote, const opts_t *o, local_t *lf)
{
    for (;;) {
        get_attempt_t a = { .id = mu__client_next_id(client) };
        uint8_t head[17];
        mu__put_le64(head, lf->written);
        mu__put_le32(head + 8, (uint32_t) o->chunk);
        mu__put_le32(head + 12, o->window);
        head[16] = (uint8_t) o->alg;
        size_t size;
        uint8_t *payload = open_payload(head, sizeof head, remote, &size);
        if (!payload)
            return MU_ENOMEM;
        int rc = xfer_send(client, MU__K_GET_OPEN, a.id, payload, size, o->deadline);
        free(payload);
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        while (rc == 0) {
            int kind;
            const uint8_t *data;
            rc = xfer_recv(client, a.id, o->deadline, true, &kind, &msg, &data, &size);
            if (rc == 0) {
                rc = get_on_msg(client, o, lf, &a, kind, data, size);
                if (rc == 1)
                    rc = 0;
                else if (rc == 0)
                    break;
            }
        }
        zmq_msg_close(&msg);
        if (rc == 0)
            return 0;
        xfer_cancel(client, a.id); /* also when the same server still has it */
        if (rc != MU_EPIPE)
            return rc;
    }
}

/* What mu_client_get and mu_client_put check first: the options (into
   *o) and the remote path; also makes sure libsodium is ready. Returns 0,
   MU_EINVAL or MU_ENOMEM. */
static int
call_prologue(const mu_file_options_t *options, const char *remote, opts_t *o)
{
    remote_failed = false;
    int rc = opts_parse(options, o);
    if (rc < 0 || (rc = remote_check(remote)) < 0)
        return rc;
    return sodium_init() < 0 ? MU_ENOMEM : 0;
}

/* Records the detail of a failed call, unless the server's message was. */
static int
call_result(int rc, const char *what, const char *from, const char *to)
{
    if (rc < 0 && !remote_failed)
        return mu__fail(rc, "%s '%s' to '%s'", what, from, to);
    return rc;
}

static int
get_call(mu_client_t *self, const char *remote, const char *local, const mu_file_options_t *options)
{
    opts_t o;
    int rc = call_prologue(options, remote, &o);
    if (rc < 0)
        return rc;
    struct stat st;
    if (!(o.flags & MU_FILE_OVERWRITE) && lstat(local, &st) == 0)
        return MU_EEXIST;
    mu__ignore_sigxfsz(); /* a write past RLIMIT_FSIZE fails with MU_EFBIG */
    local_t lf;
    if ((rc = local_open(&lf, local, (o.flags & MU_FILE_RESUME) != 0, o.alg)) == 0
        && (rc = get_run(self, remote, &o, &lf)) == 0)
        rc = local_commit(&lf, local, (o.flags & MU_FILE_OVERWRITE) != 0);
    local_close(&lf, rc);
    return rc;
}

/* --- the sending end of an upload --- */

typedef struct {
    mu__fhash_t hash;
    uint64_t id, size, sent;
    uint32_t credit;
    bool ready, end_sent, pending;
    uint8_t *buf; /* 8-byte offset + chunk */
    size_t buf_len;
} put_attempt_t;

/* Sends chunks against credit, then the END with the digest. */
static int
put_pump(mu_client_t *client, const opts_t *o, int fd, put_attempt_t *a)
{
    while (a->ready && a->credit > 0 && a->sent < a->size) {
        if (!a->pending) {
            uint64_t left = a->size - a->sent;
            size_t n = left < o->chunk ? (size_t) left : o->chunk;
            int rc = mu__files_read_all(fd, a->buf + 8, n, a->sent);
            if (rc < 0)
                return rc;
            mu__put_le64(a->buf, a->sent);
            mu__fhash_update(&a->hash, a->buf + 8, n);
            a->buf_len = 8 + n;
            a->pending = true;
        }
        int rc = xfer_send(client, MU__K_PUT_DATA, a->id, a->buf, a->buf_len, o->deadline);
        if (rc < 0)
            return rc;
        a->pending = false;
        a->sent += a->buf_len - 8;
        a->credit--;
        if (o->progress && o->progress(o->progress_arg, a->sent, a->size) != 0)
            return MU_EINTR;
    }
    if (a->ready && a->sent == a->size && !a->end_sent) {
        uint8_t digest[MU__DIGEST_MAX];
        size_t len = mu__fhash_final(&a->hash, digest);
        int rc = xfer_send(client, MU__K_PUT_END, a->id, digest, len, o->deadline);
        if (rc < 0)
            return rc;
        a->end_sent = true;
    }
    return 0;
}

/* Handles one message of an upload attempt: 1 = go on, 0 = done, < 0. */
static int
put_on_msg(put_attempt_t *a, int kind, const uint8_t *data, size_t size)
{
    switch (kind) {
    case MU__K_PUT_READY:
    case MU__K_PUT_CREDIT: {
        if (size != 4)
            return MU_EPROTO;
        uint64_t credit = (uint64_t) a->credit + mu__get_le32(data);
        a->credit = credit > CREDIT_MAX ? CREDIT_MAX : (uint32_t) credit;
        a->ready = true;
        return 1;
    }
    case MU__K_PUT_DONE:
        return a->end_sent ? 0 : MU_EPROTO;
    case MU__K_ERR:
        return error_code(data, size);
    default:
        return MU_EPROTO;
    }
}

/* One upload attempt from byte 0: 0, an error, or MU_EPIPE (try again). */
static int
put_attempt(mu_client_t *client, const char *remote, const opts_t *o, int fd, put_attempt_t *a)
{
    uint8_t head[21];
    mu__put_le64(head, a->size);
    mu__put_le32(head + 8, (uint32_t) o->chunk);
    mu__put_le32(head + 12, o->window);
    mu__put_le32(head + 16, (o->flags & MU_FILE_OVERWRITE) ? 1 : 0);
    head[20] = (uint8_t) o->alg;
    size_t size;
    uint8_t *payload = open_payload(head, sizeof head, remote, &size);
    if (!payload)
        return MU_ENOMEM;
    int rc = xfer_send(client, MU__K_PUT_OPEN, a->id, payload, size, o->deadline);
    free(payload);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    bool done = false;
    while (rc == 0 && !done && (rc = put_pump(client, o, fd, a)) == 0) {
        int kind;
        const uint8_t *data;
        /* After END the server fsyncs: no stall limit while it does. */
        rc = xfer_recv(client, a->id, o->deadline, !a->end_sent, &kind, &msg, &data, &size);
        if (rc == 0) {
            rc = put_on_msg(a, kind, data, size);
            done = rc == 0;
            if (rc == 1)
                rc = 0;
        }
    }
    zmq_msg_close(&msg);
    if (done)
        return 0;
    xfer_cancel(client, a->id);
    return rc;
}

static int
put_call(mu_client_t *self, const char *local, const char *remote, const mu_file_options_t *options)
{
    opts_t o;
    int rc = call_prologue(options, remote, &o);
    if (rc < 0)
        return rc;
    int fd = open(local, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0)
        rc = -errno;
    else if (S_ISDIR(st.st_mode))
        rc = MU_EISDIR;
    else if (!S_ISREG(st.st_mode))
        rc = MU_EINVAL;
    put_attempt_t *a = rc == 0 ? malloc(sizeof *a) : NULL;
    uint8_t *buf = a ? malloc(8 + o.chunk) : NULL;
    if (rc == 0 && !buf)
        rc = MU_ENOMEM;
    while (rc == 0) {
        memset(a, 0, sizeof *a);
        a->id = mu__client_next_id(self);
        a->size = (uint64_t) st.st_size;
        a->buf = buf;
        if (mu__fhash_init(&a->hash, o.alg) < 0) {
            rc = MU_ENOMEM;
            break;
        }
        rc = put_attempt(self, remote, &o, fd, a);
        mu__fhash_free(&a->hash);
        if (rc == MU_EPIPE)
            rc = 0; /* reconnected: upload again from the start */
        else
            break;
    }
    free(buf);
    free(a);
    close(fd);
    return rc;
}

int
mu_client_get(mu_client_t *self, const char *remote, const char *local,
              const mu_file_options_t *options)
{
    assert(self && remote && local);
    return call_result(get_call(self, remote, local, options), "download", remote, local);
}

int
mu_client_put(mu_client_t *self, const char *local, const char *remote,
              const mu_file_options_t *options)
{
    assert(self && local && remote);
    return call_result(put_call(self, local, remote, options), "upload", local, remote);
}

/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_files_server.c — a server's file service: downloads and uploads
    below its root (contracts in include/mu_server.h and
    src/conn/mu_files_priv.h; wire messages in doc/wire.md; design in
    doc/conn.md). It reaches the server only through its port.

    Downloads are served in mu__files_server_work, at most WORK_BUDGET
    bytes (at least one chunk) and WORK_CHUNKS chunks per transfer per call
    (tiny chunks must not keep the server from its other peers), read with
    pread straight into the outgoing message; the digest of a file served
    before and unchanged since comes from the digest cache. Credit is
    capped at IN_FLIGHT_MAX bytes per transfer, and each DATA frame counts
    against its peer's and the server's transfer budgets from its read
    until libzmq has written it. Uploads go to "NAME.part-XXXXXX" in the
    target directory (".mu.part-XXXXXX" when NAME is too long); a failing
    transfer's temp file is removed before its error is sent. Limits: chunk
    1..4 MiB and window 1..1024 (else MU_EPROTO), 32 transfers per peer
    (then MU_EAGAIN); the transfer digest is the one the client asked for
    (an unknown algorithm id: MU_ENOTSUP). */
#include "conn/mu_files_priv.h"
#include "base/mu_fs.h"
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUT_WINDOW_MAX 64                /* chunks the server lets in flight */
#define IN_FLIGHT_MAX (64 * 1024 * 1024) /* credit in bytes, at most */
#define WORK_BUDGET (1024 * 1024)        /* bytes per transfer per work call */
#define WORK_CHUNKS 256                  /* chunks per transfer per work call */
#define WORK_RETRY_MS 5                  /* after a full peer queue */
#define TRANSFERS_PER_PEER 32

typedef struct transfer_t transfer_t;

struct mu__files_server_t {
    mu__files_root_t root;
    mu__files_port_t port; /* the server's side */
    transfer_t *transfers; /* singly linked, newest first */
};

/* ------------------------------------------------------------------ */
/* Server: transfers                                                   */

typedef enum { XFER_GET, XFER_PUT } xfer_kind_t;

struct transfer_t {
    mu__fhash_t hash; /* of the algorithm the client asked for */
    transfer_t *next;
    uint64_t peer, id;
    xfer_kind_t kind;
    int fd;
    uint64_t size; /* file size (get) / announced size (put) */
    uint64_t pos;  /* get: next byte to send; put: bytes received */
    size_t chunk;
    /* get */
    uint64_t hashed; /* prefix bytes hashed so far (resume) */
    uint64_t start;  /* offset asked for */
    uint32_t credit;
    bool info_pending, end_pending, frame_ready;
    bool digest_known;  /* from the digest cache: nothing to hash */
    mu__stat_key_t key; /* the file as opened */
    bool key_cacheable; /* old enough for its digest to be cached */
    uint8_t digest[MU__DIGEST_MAX];
    zmq_msg_t frame; /* the next DATA message, when frame_ready */
    /* put */
    int dir_fd;
    char *base, *tmp;
    bool overwrite;
    uint32_t window; /* the asked window, clamped (get: the first credit) */
    uint32_t since_grant, owed;
};

static transfer_t *
transfer_new(uint64_t peer, uint64_t id, xfer_kind_t kind, int alg)
{
    transfer_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (mu__fhash_init(&t->hash, alg) < 0) {
        free(t);
        return NULL;
    }
    t->peer = peer;
    t->id = id;
    t->kind = kind;
    t->fd = -1;
    t->dir_fd = -1;
    return t;
}

/* Frees a transfer; an unfinished upload's temporary file is removed. */
static void
transfer_free(transfer_t *t)
{
    if (t->fd >= 0)
        close(t->fd);
    if (t->tmp && t->dir_fd >= 0)
        unlinkat(t->dir_fd, t->tmp, 0);
    if (t->dir_fd >= 0)
        close(t->dir_fd);
    free(t->tmp);
    free(t->base);
    if (t->frame_ready)
        zmq_msg_close(&t->frame);
    mu__fhash_free(&t->hash);
    free(t);
}

static transfer_t *
transfer_find(mu__files_server_t *self, uint64_t peer, uint64_t id, size_t *count_p)
{
    transfer_t *found = NULL;
    size_t count = 0;
    for (transfer_t *t = self->transfers; t; t = t->next) {
        if (t->peer != peer)
            continue;
        count++;
        if (t->id == id)
            found = t;
    }
    if (count_p)
        *count_p = count;
    return found;
}

static void
transfer_remove(mu__files_server_t *self, transfer_t *t)
{
    for (transfer_t **p = &self->transfers; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    transfer_free(t);
}

/* Answers an error for transfer id (best effort: a full queue loses it and
   the client's timeout covers that). */
static void
send_error(const mu__files_port_t *port, uint64_t peer, uint64_t id, int code, const char *message)
{
    size_t size;
    void *payload = mu__err_encode(code, message, &size);
    if (payload) {
        (void) port->send(port->ctx, peer, MU__K_ERR, id, payload, size);
        free(payload);
    }
}

/* Fails a transfer: the transfer (and its temp file) goes first, so a
   client that sees the error never sees the temp file. */
static void
transfer_fail(mu__files_server_t *self, const mu__files_port_t *port, transfer_t *t, int code,
              const char *message)
{
    uint64_t peer = t->peer, id = t->id;
    transfer_remove(self, t);
    send_error(port, peer, id, code, message);
}

mu__files_server_t *
mu__files_server_new(const char *root, const mu__files_port_t *port)
{
    assert(root && port);
    if (sodium_init() < 0) {
        errno = ENOMEM;
        return NULL;
    }
    mu__files_server_t *self = calloc(1, sizeof *self);
    if (!self) {
        errno = ENOMEM;
        return NULL;
    }
    int rc = mu__files_root_init(&self->root, root);
    if (rc < 0) {
        free(self);
        errno = -rc;
        return NULL;
    }
    self->port = *port;
    mu__ignore_sigxfsz(); /* uploads past RLIMIT_FSIZE fail with MU_EFBIG */
    return self;
}

void
mu__files_server_destroy(mu__files_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu__files_server_t *self = *self_p;
    while (self->transfers) {
        transfer_t *t = self->transfers;
        self->transfers = t->next;
        transfer_free(t);
    }
    close(self->root.fd);
    free(self);
    *self_p = NULL;
}

void
mu__files_server_peer_gone(mu__files_server_t *self, uint64_t peer)
{
    transfer_t **p = &self->transfers;
    while (*p) {
        transfer_t *t = *p;
        if (t->peer == peer) {
            *p = t->next;
            transfer_free(t);
        } else {
            p = &t->next;
        }
    }
}

/* Copies a checked path into a NUL-terminated string (NULL: no memory). */
static char *
path_dup(const uint8_t *path, size_t len)
{
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, path, len);
        s[len] = '\0';
    }
    return s;
}

static const char *
path_refusal(int code)
{
    return code == MU_EINVAL ? "invalid path (empty, too long or embedded NUL)"
                             : "path leaves the root";
}

/* Checks chunk size and window of an open message. */
static bool
params_ok(uint32_t chunk, uint32_t window)
{
    return chunk >= 1 && chunk <= MU__CHUNK_MAX && window >= 1 && window <= MU__WINDOW_MAX;
}

/*  Bounds the chunks a transfer may have in flight by IN_FLIGHT_MAX bytes
    (what the server queues is bounded by the transfer budgets in
    mu__server_data_frame, whatever credit a client grants). */
static uint32_t
credit_clamp(uint64_t credit, size_t chunk)
{
    uint64_t most = IN_FLIGHT_MAX / chunk ? IN_FLIGHT_MAX / chunk : 1;
    return (uint32_t) (credit < most ? credit : most);
}

/* The common part of GET_OPEN and PUT_OPEN: a request of head bytes
   (offset or size, chunk, window..., the digest algorithm id last)
   followed by the path. Checks it and
   makes the transfer (chunk size and window, the asked window clamped,
   set) and the path (*t_p, *path_p; the caller owns both).
   Returns 1 when made; 0 when refused (answered with an error); MU_EPROTO
   when malformed (answered too). */
static int
open_request(const mu__files_port_t *port, uint64_t peer, uint64_t id, const uint8_t *data,
             size_t size, size_t head, xfer_kind_t kind, size_t count, transfer_t **t_p,
             char **path_p)
{
    if (size < head || !params_ok(mu__get_le32(data + 8), mu__get_le32(data + 12))) {
        send_error(port, peer, id, MU_EPROTO,
                   kind == XFER_GET ? "malformed download request" : "malformed upload request");
        return MU_EPROTO;
    }
    int alg = data[head - 1];
    if (mu__fdigest_len(alg) == 0) {
        char why[160];
        snprintf(why, sizeof why,
                 "unknown transfer digest algorithm %d (this server knows 1 = BLAKE2b-256, "
                 "2 = XXH3-128; an older client?)",
                 alg);
        send_error(port, peer, id, MU_ENOTSUP, why);
        return 0;
    }
    int rc = mu__files_path_check(data + head, size - head);
    if (rc < 0) {
        send_error(port, peer, id, rc, path_refusal(rc));
        return 0;
    }
    if (count >= TRANSFERS_PER_PEER) {
        send_error(port, peer, id, MU_EAGAIN, "too many transfers");
        return 0;
    }
    *t_p = transfer_new(peer, id, kind, alg);
    *path_p = path_dup(data + head, size - head);
    if (!*t_p || !*path_p) {
        if (*t_p)
            transfer_free(*t_p); /* with its hash state */
        *t_p = NULL;
        free(*path_p);
        send_error(port, peer, id, MU_ENOMEM, "out of memory");
        return 0;
    }
    (*t_p)->chunk = mu__get_le32(data + 8);
    (*t_p)->window = credit_clamp(mu__get_le32(data + 12), (*t_p)->chunk);
    return 1;
}

/* GET_OPEN: opens the file and queues the transfer; work() sends INFO,
   hashes the prefix below the offset, then the chunks. */
static int
on_get_open(mu__files_server_t *self, const mu__files_port_t *port, uint64_t peer, uint64_t id,
            const uint8_t *data, size_t size, size_t count)
{
    transfer_t *t;
    char *path;
    int rc = open_request(port, peer, id, data, size, 17, XFER_GET, count, &t, &path);
    if (rc <= 0)
        return rc;
    t->start = mu__get_le64(data);
    t->credit = t->window;
    t->fd = mu__files_root_open(&self->root, path, O_RDONLY | O_NONBLOCK);
    free(path);
    struct stat st;
    rc = t->fd < 0 ? t->fd : fstat(t->fd, &st) < 0 ? -errno : 0;
    if (rc == 0 && S_ISDIR(st.st_mode))
        rc = MU_EISDIR;
    else if (rc == 0 && !S_ISREG(st.st_mode))
        rc = MU_EACCES;
    else if (rc == 0 && t->start > (uint64_t) st.st_size)
        rc = MU_EINVAL;
    if (rc < 0) {
        send_error(port, peer, id, rc,
                   rc == MU_EINVAL ? "offset beyond the end of the file" : mu_strerror(rc));
        transfer_free(t);
        return 0;
    }
    t->size = (uint64_t) st.st_size;
    t->pos = t->start;
    t->info_pending = true;
    mu__stat_key_make(&st, &t->key);
    t->key_cacheable = mu__stat_key_settled(&st);
    t->digest_known = mu__digest_cache_get(&t->key, t->hash.alg, t->digest);
    if (t->digest_known)
        t->hashed = t->start; /* the prefix need not be hashed either */
    posix_fadvise(t->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    t->next = self->transfers;
    self->transfers = t;
    return 0;
}

/* Creates the upload's temporary file beside its destination. */
static int
put_create_temp(transfer_t *t)
{
    size_t base_len = strlen(t->base);
    size_t cap = base_len + 16 < 32 ? 32 : base_len + 16;
    t->tmp = malloc(cap);
    if (!t->tmp)
        return MU_ENOMEM;
    for (int attempt = 0; attempt < 16; attempt++) {
        char suffix[7];
        mu__files_random_suffix(suffix, 6);
        if (base_len + 12 <= 255)
            snprintf(t->tmp, cap, "%s.part-%s", t->base, suffix);
        else
            snprintf(t->tmp, cap, ".mu.part-%s", suffix);
        t->fd = openat(t->dir_fd, t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (t->fd >= 0)
            return 0;
        if (errno != EEXIST)
            break;
    }
    int rc = -errno;
    free(t->tmp);
    t->tmp = NULL;
    return rc;
}

/*  Resolves an upload's directory and name, checks the destination and
    creates the temporary file. */
static int
put_prepare(mu__files_server_t *self, transfer_t *t, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (*base == '\0' || strcmp(base, ".") == 0)
        return MU_EISDIR;
    if (!(t->base = strdup(base)))
        return MU_ENOMEM;
    if (slash) {
        char *dir = path_dup((const uint8_t *) path, (size_t) (slash - path));
        if (!dir)
            return MU_ENOMEM;
        t->dir_fd = *dir ? mu__files_root_open_dirs(&self->root, dir)
                         : mu__files_root_open(&self->root, ".", O_RDONLY | O_DIRECTORY);
        free(dir);
    } else {
        t->dir_fd = mu__files_root_open(&self->root, ".", O_RDONLY | O_DIRECTORY);
    }
    if (t->dir_fd < 0)
        return t->dir_fd;
    struct stat st;
    if (fstatat(t->dir_fd, t->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISDIR(st.st_mode))
            return MU_EISDIR;
        if (S_ISLNK(st.st_mode)) {
            /* A link that leaves the root is refused like a path that does;
               one that stays below it is replaced (never written through). */
            int fd = mu__files_root_open(&self->root, path, O_PATH);
            if (fd == MU_EACCES)
                return MU_EACCES;
            if (fd >= 0)
                close(fd);
        }
        if (!t->overwrite)
            return MU_EEXIST;
    } else if (errno != ENOENT) {
        return -errno;
    }
    return put_create_temp(t);
}

/* Sends an upload's owed credit (kept for work() when the queue is full). */
static int
put_flush_credit(const mu__files_port_t *port, transfer_t *t)
{
    if (t->owed == 0)
        return 0;
    uint8_t payload[4];
    mu__put_le32(payload, t->owed);
    int rc = port->send(port->ctx, t->peer, MU__K_PUT_CREDIT, t->id, payload, 4);
    if (rc == 0)
        t->owed = 0;
    return rc;
}

static int
on_put_open(mu__files_server_t *self, const mu__files_port_t *port, uint64_t peer, uint64_t id,
            const uint8_t *data, size_t size, size_t count)
{
    transfer_t *t;
    char *path;
    int rc = open_request(port, peer, id, data, size, 21, XFER_PUT, count, &t, &path);
    if (rc <= 0)
        return rc;
    t->size = mu__get_le64(data);
    if (t->window > PUT_WINDOW_MAX)
        t->window = PUT_WINDOW_MAX;
    t->overwrite = (mu__get_le32(data + 16) & 1) != 0;
    rc = put_prepare(self, t, path);
    free(path);
    if (rc < 0) {
        send_error(port, peer, id, rc,
                   rc == MU_ENOTDIR ? "a component of the path is a file, not a directory"
                                    : mu_strerror(rc));
        transfer_free(t);
        return 0;
    }
    t->next = self->transfers;
    self->transfers = t;
    uint8_t payload[4];
    mu__put_le32(payload, t->window);
    rc = port->send(port->ctx, peer, MU__K_PUT_READY, id, payload, 4);
    if (rc == MU_EAGAIN)
        t->owed = t->window; /* READY lost to a full queue: credit later */
    else if (rc < 0)
        transfer_remove(self, t);
    return 0;
}

static int
on_put_data(mu__files_server_t *self, const mu__files_port_t *port, transfer_t *t,
            const uint8_t *data, size_t size)
{
    if (size < 9 || size - 8 > t->chunk || mu__get_le64(data) != t->pos
        || t->pos + (size - 8) > t->size) {
        transfer_fail(self, port, t, MU_EPROTO, "upload chunk out of place");
        return MU_EPROTO;
    }
    int rc = mu__pwrite_all(t->fd, data + 8, size - 8, t->pos);
    if (rc < 0) {
        transfer_fail(self, port, t, rc, mu_strerror(rc));
        return 0;
    }
    mu__fhash_update(&t->hash, data + 8, size - 8);
    uint64_t before = t->pos;
    t->pos += size - 8;
    mu__files_writeback(t->fd, before, t->pos); /* the fsync is on the server's thread */
    uint32_t half = t->window / 2 ? t->window / 2 : 1;
    if (++t->since_grant >= half) {
        t->owed += t->since_grant;
        t->since_grant = 0;
        if (put_flush_credit(port, t) == MU_EHOSTUNREACH)
            transfer_remove(self, t);
    }
    return 0;
}

/* PUT_END: verify, fsync, rename into place, fsync the directory. */
static int
on_put_end(mu__files_server_t *self, const mu__files_port_t *port, transfer_t *t,
           const uint8_t *data, size_t size)
{
    size_t len = mu__fdigest_len(t->hash.alg);
    if (size != len || t->pos != t->size) {
        transfer_fail(self, port, t, MU_EPROTO, "upload ended early");
        return MU_EPROTO;
    }
    uint8_t digest[MU__DIGEST_MAX];
    (void) mu__fhash_final(&t->hash, digest);
    int rc = 0;
    if (memcmp(digest, data, len) != 0)
        rc = MU_EDIGEST;
    else if (fsync(t->fd) < 0)
        rc = -errno;
    else
        rc = mu__files_rename(t->dir_fd, t->tmp, t->dir_fd, t->base, t->overwrite);
    if (rc < 0) {
        transfer_fail(self, port, t, rc, mu_strerror(rc));
        return 0;
    }
    free(t->tmp);
    t->tmp = NULL; /* in place: nothing to remove any more */
    if (fsync(t->dir_fd) < 0) {
        transfer_fail(self, port, t, -errno, "fsync of the directory failed");
        return 0;
    }
    (void) port->send(port->ctx, t->peer, MU__K_PUT_DONE, t->id, NULL, 0);
    port->count_file(port->ctx, t->peer, 1);
    transfer_remove(self, t);
    return 0;
}

int
mu__files_server_on_msg(mu__files_server_t *self, uint64_t peer, int kind, uint64_t id,
                        const void *data, size_t size)
{
    const mu__files_port_t *port = &self->port;
    const uint8_t *bytes = data;
    size_t count;
    transfer_t *t = transfer_find(self, peer, id, &count);
    if ((kind == MU__K_GET_OPEN || kind == MU__K_PUT_OPEN) && t) {
        send_error(port, peer, id, MU_EPROTO, "transfer id already in use");
        return MU_EPROTO;
    }
    switch (kind) {
    case MU__K_GET_OPEN:
        return on_get_open(self, port, peer, id, bytes, size, count);
    case MU__K_PUT_OPEN:
        return on_put_open(self, port, peer, id, bytes, size, count);
    case MU__K_CANCEL:
        if (t)
            transfer_remove(self, t);
        return 0;
    case MU__K_GET_CREDIT:
        if (size != 4) {
            send_error(port, peer, id, MU_EPROTO, "malformed credit");
            return MU_EPROTO;
        }
        if (t && t->kind == XFER_GET) {
            t->credit = credit_clamp((uint64_t) t->credit + mu__get_le32(bytes), t->chunk);
        }
        return 0;
    case MU__K_PUT_DATA:
        return t && t->kind == XFER_PUT ? on_put_data(self, port, t, bytes, size) : 0;
    case MU__K_PUT_END:
        return t && t->kind == XFER_PUT ? on_put_end(self, port, t, bytes, size) : 0;
    default:
        send_error(port, peer, id, MU_EPROTO, "unknown file message");
        return MU_EPROTO;
    }
}

/* What a transfer's step left to do: nothing until a message comes
   (IDLE; also a transfer waiting for budget, which the server's poll
   wakes), more now, retry soon (a full queue), or it ended. */
typedef enum { STEP_IDLE, STEP_MORE, STEP_BLOCKED, STEP_GONE } step_t;

/* Maps a failed send: a full queue waits, a gone peer ends the transfer. */
static step_t
send_failed(mu__files_server_t *self, transfer_t *t, int rc)
{
    if (rc == MU_EAGAIN)
        return STEP_BLOCKED;
    transfer_remove(self, t);
    return STEP_GONE;
}

/* Hashes (part of) the prefix a resuming client already has. */
static int
get_hash_prefix(transfer_t *t, size_t *budget)
{
    if (t->hashed >= t->start)
        return 0;
    uint8_t *buf = malloc(t->chunk);
    if (!buf)
        return MU_ENOMEM;
    int rc = 0;
    while (rc == 0 && t->hashed<t->start && * budget> 0) {
        uint64_t left = t->start - t->hashed;
        size_t n = left < t->chunk ? (size_t) left : t->chunk;
        if ((rc = mu__files_read_all(t->fd, buf, n, t->hashed)) == 0) {
            mu__fhash_update(&t->hash, buf, n);
            t->hashed += n;
            *budget = *budget > n ? *budget - n : 0;
        }
    }
    free(buf);
    return rc;
}

/* Reads the next chunk straight into a DATA message (no copy on the way
   to libzmq) and hashes it unless the digest is already known. Returns 0,
   MU_EAGAIN (the peer's or the server's transfer budget is spent: wait
   for bytes to drain), MU_EHOSTUNREACH or a read error. */
static int
get_fill_frame(const mu__files_port_t *port, transfer_t *t)
{
    uint64_t left = t->size - t->pos;
    size_t n = left < t->chunk ? (size_t) left : t->chunk;
    int rc;
    uint8_t *payload = port->data_frame(port->ctx, t->peer, &t->frame, MU__K_GET_DATA, t->id, 8 + n,
                                        &rc);
    if (!payload)
        return rc;
    if ((rc = mu__files_read_all(t->fd, payload + 8, n, t->pos)) < 0) {
        zmq_msg_close(&t->frame);
        return rc;
    }
    mu__put_le64(payload, t->pos);
    if (!t->digest_known)
        mu__fhash_update(&t->hash, payload + 8, n);
    t->frame_ready = true;
    return 0;
}

/*  Once every byte was read: the digest, from the hash or the cache. The
    file must be the one opened (same stat key) or the digest may not
    describe what was sent: then the transfer fails with MU_EIO (and a
    cached entry is dropped). A digest computed over a settled file is
    cached. */
static int
get_finish_digest(transfer_t *t)
{
    struct stat st;
    mu__stat_key_t now;
    if (fstat(t->fd, &st) < 0)
        return -errno;
    mu__stat_key_make(&st, &now);
    bool same = memcmp(&now, &t->key, sizeof now) == 0;
    if (!same) { /* the bytes sent may mix two versions: no digest vouches for them */
        if (t->digest_known)
            mu__digest_cache_drop(&t->key);
        return MU_EIO;
    }
    if (t->digest_known)
        return 0;
    (void) mu__fhash_final(&t->hash, t->digest);
    if (t->key_cacheable)
        mu__digest_cache_put(&t->key, t->hash.alg, t->digest);
    return 0;
}

/* One bounded step of a download. */
static step_t
get_step(mu__files_server_t *self, const mu__files_port_t *port, transfer_t *t)
{
    int rc;
    if (t->info_pending) {
        uint8_t payload[13];
        mu__put_le64(payload, t->size);
        mu__put_le32(payload + 8, t->credit);
        payload[12] = (uint8_t) t->hash.alg;
        if ((rc = port->send(port->ctx, t->peer, MU__K_GET_INFO, t->id, payload, 13)) < 0)
            return send_failed(self, t, rc);
        t->info_pending = false;
    }
    size_t budget = WORK_BUDGET > t->chunk ? WORK_BUDGET : t->chunk;
    if ((rc = get_hash_prefix(t, &budget)) < 0) {
        transfer_fail(self, port, t, rc, "reading the file failed");
        return STEP_GONE;
    }
    if (t->hashed < t->start)
        return STEP_MORE;
    for (int chunks = 0; t->pos < t->size && t->credit > 0 && budget > 0 && chunks < WORK_CHUNKS;
         chunks++) {
        if (!t->frame_ready && (rc = get_fill_frame(port, t)) < 0) {
            if (rc == MU_EAGAIN)
                return STEP_IDLE; /* over budget: resumed when bytes drain */
            if (rc == MU_EHOSTUNREACH)
                return send_failed(self, t, rc);
            transfer_fail(self, port, t, rc, "reading the file failed");
            return STEP_GONE;
        }
        size_t n = zmq_msg_size(&t->frame) - MU__HDR_SIZE - 8;
        if ((rc = port->send_frame(port->ctx, t->peer, &t->frame)) < 0)
            return send_failed(self, t, rc);
        t->frame_ready = false;
        t->pos += n;
        t->credit--;
        budget = budget > n ? budget - n : 0;
    }
    if (t->pos == t->size && !t->end_pending) {
        if ((rc = get_finish_digest(t)) < 0) {
            transfer_fail(self, port, t, rc, "the file changed while it was sent");
            return STEP_GONE;
        }
        t->end_pending = true;
    }
    if (t->end_pending) {
        if ((rc = port->send(port->ctx, t->peer, MU__K_GET_END, t->id, t->digest,
                             mu__fdigest_len(t->hash.alg)))
            < 0)
            return send_failed(self, t, rc);
        port->count_file(port->ctx, t->peer, 0);
        transfer_remove(self, t);
        return STEP_GONE;
    }
    return t->credit > 0 ? STEP_MORE : STEP_IDLE;
}

int
mu__files_server_work(mu__files_server_t *self)
{
    const mu__files_port_t *port = &self->port;
    bool more = false, blocked = false;
    transfer_t *t = self->transfers;
    while (t) {
        transfer_t *next = t->next; /* t may be freed by its step */
        step_t step;
        if (t->kind == XFER_GET) {
            step = get_step(self, port, t);
        } else {
            int rc = put_flush_credit(port, t);
            step = rc == 0 ? STEP_IDLE : send_failed(self, t, rc);
        }
        more |= step == STEP_MORE;
        blocked |= step == STEP_BLOCKED;
        t = next;
    }
    return more ? 0 : blocked ? WORK_RETRY_MS : -1;
}
/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_files.c — file transfer between mu_server and mu_client: the server's
    file service (downloads and uploads below its root) and the public
    mu_client_get / mu_client_put. The contracts are in include/mu_server.h,
    include/mu_client.h and src/conn/mu_conn.h.

    Wire messages (kinds 0x40..0x5f; header as in mu_conn.h, id = the
    transfer id the client chose with mu__client_next_id; integers
    little-endian; "path" is the rest of the payload, 1..1024 bytes, no NUL,
    relative to the server's root):

    client -> server
      0x40 GET_OPEN   u64 offset | u32 chunk_size | u32 window | path
                      Starts a download at offset (resume). window = the
                      number of DATA chunks the server may send before more
                      credit comes.
      0x41 GET_CREDIT u32 chunks: more credit for a download.
      0x42 CANCEL     (empty) abandons a download or upload; no answer. The
                      server removes an upload's temporary file.
      0x43 PUT_OPEN   u64 size | u32 chunk_size | u32 window | u32 flags
                      (1 = overwrite) | path. Starts an upload of size bytes.
      0x44 PUT_DATA   u64 offset | bytes (1..chunk_size), only against credit.
      0x45 PUT_END    32-byte BLAKE2b digest of the whole file.

    server -> client
      0x50 GET_INFO   u64 size of the file | u32 window the server accepted
                      (it may lower the asked one); DATA follows against
                      credit. The client grants credit as it writes chunks.
      0x51 GET_DATA   u64 offset | bytes (1..chunk_size).
      0x52 GET_END    32-byte BLAKE2b digest of the whole file (also of the
                      prefix below offset, which the client already has).
      0x53 PUT_READY  u32 credit: the temporary file exists; send DATA.
      0x54 PUT_CREDIT u32 chunks: more credit for an upload.
      0x55 PUT_DONE   (empty) the file is fsync'ed, verified and in place.
    Refusals and failures are MU__K_ERR (mu_conn.h) with the transfer id.
    Messages for a transfer the server does not know (cancelled, failed,
    finished) are ignored: they are the normal tail of an abandoned one.

    The digest is crypto_generichash (BLAKE2b) with a 32-byte output and no
    key.

    Server side. Paths are opened with openat2(RESOLVE_BENEATH) below an
    O_PATH fd of the root; where openat2 is missing (ENOSYS, or no
    <linux/openat2.h> at build time) the path is walked component by
    component with O_NOFOLLOW, which refuses every symlink. An upload's
    missing directories are created (mkdirat relative to the fd of the
    deepest one that exists, each new one opened with O_NOFOLLOW before
    the next is made in it). Downloads are
    served in mu__files_server_work, at most WORK_BUDGET bytes (at least one
    chunk) and WORK_CHUNKS chunks per transfer per call (tiny chunks must
    not keep the server from its other peers and messages), read with pread straight into the
    outgoing message; the digest of a file served before and unchanged
    since comes from a process-wide cache (see "the digest cache" below)
    instead of being computed again; credit is capped at
    IN_FLIGHT_MAX bytes per transfer, and each DATA frame counts against
    its peer's and the server's transfer budgets (mu_server_set_transfer_
    budget, src/conn/mu_budget.h) from its read until libzmq has written it:
    past a budget the transfer waits, and resumes when bytes drain. Uploads go to "NAME.part-XXXXXX" in
    the target directory (".mu.part-XXXXXX" when NAME is too long); a
    failing transfer's temp file is removed before its error is sent. A
    server killed by SIGKILL leaves its temp files behind. Limits: chunk
    1..4 MiB and window 1..1024 (else MU_EPROTO), 32 transfers per peer
    (then MU_EAGAIN). MU_FILES_RESOLVE=walk in the environment forces the
    component walk (a testing aid).

    Client side. DATA messages are written from the received message (no
    copy); credit goes back on receipt, before the write, so the server
    keeps sending meanwhile; write-back of the temporary file starts every
    WRITEBACK_STEP bytes so the final fsync has little left. A download
    re-opens at the bytes written after a reconnect (MU_EPIPE from
    mu__client_recv_file) or STALL_MS of silence, until the call's
    deadline; an upload starts over from byte 0 in that case. */
#include "conn/mu_conn.h"
#include <fcntl.h>
#include <pthread.h>
#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2 1
#endif
#endif
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum {
    K_GET_OPEN = 0x40,
    K_GET_CREDIT = 0x41,
    K_CANCEL = 0x42,
    K_PUT_OPEN = 0x43,
    K_PUT_DATA = 0x44,
    K_PUT_END = 0x45,
    K_GET_INFO = 0x50,
    K_GET_DATA = 0x51,
    K_GET_END = 0x52,
    K_PUT_READY = 0x53,
    K_PUT_CREDIT = 0x54,
    K_PUT_DONE = 0x55
};

#define DIGEST_BYTES 32
#define PATH_MAX_BYTES 1024
#define CHUNK_DEFAULT (256 * 1024)
#define CHUNK_MAX (4 * 1024 * 1024)
#define WINDOW_DEFAULT 8
#define WINDOW_MAX 1024
#define PUT_WINDOW_MAX 64            /* chunks the server lets in flight */
#define CREDIT_MAX (1u << 20)
#define IN_FLIGHT_MAX (64 * 1024 * 1024)  /* server: credit in bytes, at most */
#define WORK_BUDGET (1024 * 1024)    /* bytes per transfer per work call */
#define WORK_CHUNKS 256              /* chunks per transfer per work call */
#define WORK_RETRY_MS 5              /* after a full peer queue */
#define WRITEBACK_STEP (8 * 1024 * 1024)  /* receivers start write-back this often */
#define TRANSFERS_PER_PEER 32
#define TIMEOUT_DEFAULT_MS 60000
#define STALL_MS 5000                /* client: silence before re-opening */


/* Writes all of data at offset; returns 0 or -errno. */
static int
write_all(int fd, const uint8_t *data, size_t size, uint64_t offset)
{
    while (size > 0) {
        ssize_t n = pwrite(fd, data, size, (off_t) offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        data += n;
        size -= (size_t) n;
        offset += (uint64_t) n;
    }
    return 0;
}

/* Reads exactly size bytes at offset; returns 0, -errno, or MU_EIO when
   the file ends first (it shrank). */
static int
read_all(int fd, uint8_t *data, size_t size, uint64_t offset)
{
    while (size > 0) {
        ssize_t n = pread(fd, data, size, (off_t) offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return MU_EIO;
        data += n;
        size -= (size_t) n;
        offset += (uint64_t) n;
    }
    return 0;
}

/* A random suffix of letters and digits (NUL-terminated, len chars). */
static void
random_suffix(char *out, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[len] = '\0';
}

/* Renames old to new in dirfd; without overwrite an existing new is left
   alone and MU_EEXIST returned. Returns 0 or -errno. */
static int
rename_into_place(int old_dir, const char *old_name, int new_dir, const char *new_name,
                  bool overwrite)
{
    if (overwrite)
        return renameat(old_dir, old_name, new_dir, new_name) < 0 ? -errno : 0;
    if (renameat2(old_dir, old_name, new_dir, new_name, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    /* The file system cannot rename without replacing: link + unlink. */
    if (linkat(old_dir, old_name, new_dir, new_name, 0) < 0)
        return -errno;
    unlinkat(old_dir, old_name, 0);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Server: paths below the root                                        */

typedef struct transfer_t transfer_t;

struct mu__files_server_t {
    int root_fd;              /* O_PATH | O_DIRECTORY */
    bool walk;                /* openat2 unavailable: walk components */
    transfer_t *transfers;    /* singly linked, newest first */
};

/*  Checks a requested path: MU_EINVAL for empty, too long or an embedded
    NUL; MU_EACCES for absolute or a ".." component. */
static int
path_check(const uint8_t *path, size_t len)
{
    if (len == 0 || len > PATH_MAX_BYTES || memchr(path, '\0', len))
        return MU_EINVAL;
    if (path[0] == '/')
        return MU_EACCES;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        if (j - i == 2 && path[i] == '.' && path[i + 1] == '.')
            return MU_EACCES;
        i = j + 1;
    }
    return 0;
}

/* Maps a resolution errno to a code: leaving the root or a refused link is
   MU_EACCES. */
static int
resolve_error(int err)
{
    return err == EXDEV || err == ELOOP ? MU_EACCES : -err;
}

/*  Fallback without openat2: opens path component by component with
    O_NOFOLLOW, so every symlink is refused (stricter than RESOLVE_BENEATH,
    which allows links that stay below the root). */
static int
walk_open(int root_fd, const char *path, int flags, mode_t mode)
{
    char *copy = strdup(path);
    if (!copy)
        return MU_ENOMEM;
    int cur = root_fd, rc = 0;
    char *save = NULL, *comp = strtok_r(copy, "/", &save);
    while (comp && strcmp(comp, ".") == 0)
        comp = strtok_r(NULL, "/", &save);
    while (comp) {
        char *next = strtok_r(NULL, "/", &save);
        while (next && strcmp(next, ".") == 0)
            next = strtok_r(NULL, "/", &save);
        struct stat st;
        if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
            rc = MU_EACCES;
            break;
        }
        int fd = next ? openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                      : openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0) {
            rc = resolve_error(errno);
            break;
        }
        if (cur != root_fd)
            close(cur);
        cur = fd;
        comp = next;
    }
    free(copy);
    if (rc < 0) {
        if (cur != root_fd)
            close(cur);
        return rc;
    }
    if (cur == root_fd) {   /* the path named the root itself */
        cur = openat(root_fd, ".", flags | O_CLOEXEC, mode);
        if (cur < 0)
            return -errno;
    }
    return cur;
}

/*  Opens path below the root with flags, never leaving it. Returns the fd
    or a negative code. */
static int
root_open(mu__files_server_t *self, const char *path, int flags)
{
#ifdef HAVE_OPENAT2
    if (!self->walk) {
        struct open_how how = {
            .flags = (uint64_t) (flags | O_CLOEXEC),
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, self->root_fd, path, &how, sizeof how);
        if (fd >= 0)
            return (int) fd;
        if (errno != ENOSYS)
            return resolve_error(errno);
        self->walk = true;
    }
#endif
    return walk_open(self->root_fd, path, flags, 0);
}

/*  Opens the existing directory dir/comp below the root (the path rules of
    root_open apply), or, when it does not exist, creates comp in parent_fd
    and opens it with O_NOFOLLOW, so a symlink swapped in meanwhile is
    refused. *created_p says it was created: then every later component is
    new too, and root_open is skipped. Returns the fd or a negative code. */
static int
dir_step(mu__files_server_t *self, int parent_fd, const char *prefix, const char *comp,
         bool *created_p)
{
    if (!*created_p) {
        int fd = root_open(self, prefix, O_RDONLY | O_DIRECTORY);
        if (fd != MU_ENOENT)
            return fd;
    }
    if (mkdirat(parent_fd, comp, 0755) < 0 && errno != EEXIST)
        return -errno;
    *created_p = true;
    (void) fsync(parent_fd);   /* the new entry survives a crash with the file */
    int fd = openat(parent_fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? resolve_error(errno) : fd;
}

/*  Opens the directory dir below the root, creating its missing
    components (mode 0755) the way mkdir -p does. dir has passed
    path_check (no ".." component, not absolute); existing components
    follow root_open's rules, created ones are opened relative to their
    parent's fd. Returns the fd or a negative code: MU_ENOTDIR when a
    component is not a directory, MU_EACCES when one leaves the root. */
static int
root_open_dirs(mu__files_server_t *self, const char *dir)
{
    int fd = root_open(self, dir, O_RDONLY | O_DIRECTORY);
    if (fd != MU_ENOENT)
        return fd;
    char *prefix = strdup(dir);
    if (!prefix)
        return MU_ENOMEM;
    int cur = root_open(self, ".", O_RDONLY | O_DIRECTORY);
    bool created = false;
    for (size_t i = 0, len = strlen(dir); cur >= 0 && i < len;) {
        size_t j = i;
        while (j < len && dir[j] != '/')
            j++;
        char comp[256];
        if (j - i >= sizeof comp) {
            close(cur);
            cur = MU_ENAMETOOLONG;
            break;
        }
        memcpy(comp, dir + i, j - i);
        comp[j - i] = '\0';
        prefix[j] = '\0';
        if (comp[0] != '\0' && strcmp(comp, ".") != 0) {
            int next = dir_step(self, cur, prefix, comp, &created);
            close(cur);
            cur = next;
        }
        if (j < len)
            prefix[j] = '/';
        i = j + 1;
    }
    free(prefix);
    return cur;
}

mu__files_server_t *
mu__files_server_new(const char *root)
{
    assert(root);
    if (sodium_init() < 0) {
        errno = ENOMEM;
        return NULL;
    }
    mu__files_server_t *self = calloc(1, sizeof *self);
    if (!self) {
        errno = ENOMEM;
        return NULL;
    }
    self->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (self->root_fd < 0) {
        int err = errno;
        free(self);
        errno = err;
        return NULL;
    }
    mu__ignore_sigxfsz();   /* uploads past RLIMIT_FSIZE fail with MU_EFBIG */
    /* Testing aid: MU_FILES_RESOLVE=walk uses the pre-openat2 fallback. */
    const char *mode = getenv("MU_FILES_RESOLVE");
    self->walk = mode && strcmp(mode, "walk") == 0;
    return self;
}

/* ------------------------------------------------------------------ */
/* Server: the digest cache                                            */

/*  Digests of files served whole, so that downloading an unchanged file
    again skips hashing it (BLAKE2b runs at about 1 GB/s per core, the
    largest cost of a download from the page cache). Shared by the servers
    of the process (a mutex guards it), DIGEST_CACHE_SLOTS entries, the
    least recently used replaced.

    A file is identified by its stat key: device, inode, size, mtime and
    ctime (nanoseconds). Any write, truncate, chmod or rename of the file
    changes its ctime, a replacement changes the inode. Timestamps come
    from a coarse clock, so a change within the same tick as the hashing
    could keep the key: a digest is cached only when the file's mtime and
    ctime were at least SETTLED_SECS old when the file was opened (as git
    does for its index), and only when the key read after the last byte
    was hashed equals the key read at the open. A download served from the
    cache checks the key again after the last byte was read: if it changed
    the entry is dropped and the download fails with MU_EIO, as the cached
    digest may not describe the bytes sent. */

#define DIGEST_CACHE_SLOTS 64
#define SETTLED_SECS 2

typedef struct {
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
} stat_key_t;

typedef struct {
    stat_key_t key;
    uint8_t digest[DIGEST_BYTES];
    uint64_t used;        /* 0: empty; else a use stamp */
} digest_slot_t;

static pthread_mutex_t digest_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static digest_slot_t digest_cache[DIGEST_CACHE_SLOTS];
static uint64_t digest_cache_clock;

static void
stat_key_make(const struct stat *st, stat_key_t *key)
{
    memset(key, 0, sizeof *key);   /* compared with memcmp */
    key->dev = (uint64_t) st->st_dev;
    key->ino = (uint64_t) st->st_ino;
    key->size = (uint64_t) st->st_size;
    key->mtime_s = st->st_mtim.tv_sec;
    key->mtime_ns = st->st_mtim.tv_nsec;
    key->ctime_s = st->st_ctim.tv_sec;
    key->ctime_ns = st->st_ctim.tv_nsec;
}

/* True when the file's timestamps are SETTLED_SECS in the past. */
static bool
stat_key_settled(const struct stat *st)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return false;
    return st->st_mtim.tv_sec + SETTLED_SECS < now.tv_sec
           && st->st_ctim.tv_sec + SETTLED_SECS < now.tv_sec;
}

/* The slot holding key, or NULL; the lock is held. */
static digest_slot_t *
digest_cache_find(const stat_key_t *key)
{
    for (size_t i = 0; i < DIGEST_CACHE_SLOTS; i++)
        if (digest_cache[i].used && memcmp(&digest_cache[i].key, key, sizeof *key) == 0)
            return &digest_cache[i];
    return NULL;
}

/* Copies the cached digest of key into digest: true, or false (none). */
static bool
digest_cache_get(const stat_key_t *key, uint8_t digest[DIGEST_BYTES])
{
    pthread_mutex_lock(&digest_cache_lock);
    digest_slot_t *slot = digest_cache_find(key);
    if (slot) {
        memcpy(digest, slot->digest, DIGEST_BYTES);
        slot->used = ++digest_cache_clock;
    }
    pthread_mutex_unlock(&digest_cache_lock);
    return slot != NULL;
}

static void
digest_cache_put(const stat_key_t *key, const uint8_t digest[DIGEST_BYTES])
{
    pthread_mutex_lock(&digest_cache_lock);
    digest_slot_t *slot = digest_cache_find(key);
    if (!slot) {   /* the least recently used (empty slots have used 0) */
        slot = &digest_cache[0];
        for (size_t i = 1; i < DIGEST_CACHE_SLOTS; i++)
            if (digest_cache[i].used < slot->used)
                slot = &digest_cache[i];
    }
    slot->key = *key;
    memcpy(slot->digest, digest, DIGEST_BYTES);
    slot->used = ++digest_cache_clock;
    pthread_mutex_unlock(&digest_cache_lock);
}

static void
digest_cache_drop(const stat_key_t *key)
{
    pthread_mutex_lock(&digest_cache_lock);
    digest_slot_t *slot = digest_cache_find(key);
    if (slot)
        slot->used = 0;
    pthread_mutex_unlock(&digest_cache_lock);
}

/* ------------------------------------------------------------------ */
/* Server: transfers                                                   */

typedef enum { XFER_GET, XFER_PUT } xfer_kind_t;

struct transfer_t {
    crypto_generichash_state hash;   /* first: needs 64-byte alignment */
    transfer_t *next;
    uint64_t peer, id;
    xfer_kind_t kind;
    int fd;
    uint64_t size;        /* file size (get) / announced size (put) */
    uint64_t pos;         /* get: next byte to send; put: bytes received */
    size_t chunk;
    /* get */
    uint64_t hashed;      /* prefix bytes hashed so far (resume) */
    uint64_t start;       /* offset asked for */
    uint32_t credit;
    bool info_pending, end_pending, frame_ready;
    bool digest_known;    /* from the digest cache: nothing to hash */
    stat_key_t key;       /* the file as opened */
    bool key_cacheable;   /* old enough for its digest to be cached */
    uint8_t digest[DIGEST_BYTES];
    zmq_msg_t frame;      /* the next DATA message, when frame_ready */
    /* put */
    int dir_fd;
    char *base, *tmp;
    bool overwrite;
    uint32_t window, since_grant, owed;
};

static transfer_t *
transfer_new(uint64_t peer, uint64_t id, xfer_kind_t kind)
{
    size_t size = (sizeof(transfer_t) + 63) & ~(size_t) 63;
    transfer_t *t = aligned_alloc(64, size);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    t->peer = peer;
    t->id = id;
    t->kind = kind;
    t->fd = -1;
    t->dir_fd = -1;
    crypto_generichash_init(&t->hash, NULL, 0, DIGEST_BYTES);
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
send_error(mu_server_t *server, uint64_t peer, uint64_t id, int code, const char *message)
{
    size_t size;
    void *payload = mu__err_encode(code, message, &size);
    if (payload) {
        (void) mu__server_send(server, peer, MU__K_ERR, id, payload, size);
        free(payload);
    }
}

/* Fails a transfer: the transfer (and its temp file) goes first, so a
   client that sees the error never sees the temp file. */
static void
transfer_fail(mu__files_server_t *self, mu_server_t *server, transfer_t *t, int code,
              const char *message)
{
    uint64_t peer = t->peer, id = t->id;
    transfer_remove(self, t);
    send_error(server, peer, id, code, message);
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
    close(self->root_fd);
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
    return chunk >= 1 && chunk <= CHUNK_MAX && window >= 1 && window <= WINDOW_MAX;
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
   (offset or size, chunk, window...) followed by the path. Checks it and
   makes the transfer and the path (*t_p, *path_p; the caller owns both).
   Returns 1 when made; 0 when refused (answered with an error); MU_EPROTO
   when malformed (answered too). */
static int
open_request(mu_server_t *server, uint64_t peer, uint64_t id, const uint8_t *data,
             size_t size, size_t head, xfer_kind_t kind, size_t count, transfer_t **t_p,
             char **path_p)
{
    if (size < head || !params_ok(mu__get_le32(data + 8), mu__get_le32(data + 12))) {
        send_error(server, peer, id, MU_EPROTO,
                   kind == XFER_GET ? "malformed download request" : "malformed upload request");
        return MU_EPROTO;
    }
    int rc = path_check(data + head, size - head);
    if (rc < 0) {
        send_error(server, peer, id, rc, path_refusal(rc));
        return 0;
    }
    if (count >= TRANSFERS_PER_PEER) {
        send_error(server, peer, id, MU_EAGAIN, "too many transfers");
        return 0;
    }
    *t_p = transfer_new(peer, id, kind);
    *path_p = path_dup(data + head, size - head);
    if (!*t_p || !*path_p) {
        free(*t_p);
        free(*path_p);
        send_error(server, peer, id, MU_ENOMEM, "out of memory");
        return 0;
    }
    return 1;
}

/* GET_OPEN: opens the file and queues the transfer; work() sends INFO,
   hashes the prefix below the offset, then the chunks. */
static int
on_get_open(mu__files_server_t *self, mu_server_t *server, uint64_t peer, uint64_t id,
            const uint8_t *data, size_t size, size_t count)
{
    transfer_t *t;
    char *path;
    int rc = open_request(server, peer, id, data, size, 16, XFER_GET, count, &t, &path);
    if (rc <= 0)
        return rc;
    t->start = mu__get_le64(data);
    t->chunk = mu__get_le32(data + 8);
    t->credit = credit_clamp(mu__get_le32(data + 12), t->chunk);
    t->fd = root_open(self, path, O_RDONLY | O_NONBLOCK);
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
        send_error(server, peer, id, rc,
                   rc == MU_EINVAL ? "offset beyond the end of the file" : mu_strerror(rc));
        transfer_free(t);
        return 0;
    }
    t->size = (uint64_t) st.st_size;
    t->pos = t->start;
    t->info_pending = true;
    stat_key_make(&st, &t->key);
    t->key_cacheable = stat_key_settled(&st);
    t->digest_known = digest_cache_get(&t->key, t->digest);
    if (t->digest_known)
        t->hashed = t->start;   /* the prefix need not be hashed either */
    posix_fadvise(t->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    t->next = self->transfers;
    self->transfers = t;
    return 0;
}

/*  A receiver wrote a file from byte before to byte after: when that
    crossed a WRITEBACK_STEP boundary, starts writing the last whole step
    back now, so the fsync at the end has little left to wait for. */
static void
start_writeback(int fd, uint64_t before, uint64_t after)
{
    if (before / WRITEBACK_STEP != after / WRITEBACK_STEP) {
        uint64_t end = after / WRITEBACK_STEP * WRITEBACK_STEP;
        (void) sync_file_range(fd, (off_t) (end - WRITEBACK_STEP), WRITEBACK_STEP,
                               SYNC_FILE_RANGE_WRITE);
    }
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
        random_suffix(suffix, 6);
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
        t->dir_fd = *dir ? root_open_dirs(self, dir)
                         : root_open(self, ".", O_RDONLY | O_DIRECTORY);
        free(dir);
    } else {
        t->dir_fd = root_open(self, ".", O_RDONLY | O_DIRECTORY);
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
            int fd = root_open(self, path, O_PATH);
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
put_flush_credit(mu_server_t *server, transfer_t *t)
{
    if (t->owed == 0)
        return 0;
    uint8_t payload[4];
    mu__put_le32(payload, t->owed);
    int rc = mu__server_send(server, t->peer, K_PUT_CREDIT, t->id, payload, 4);
    if (rc == 0)
        t->owed = 0;
    return rc;
}

static int
on_put_open(mu__files_server_t *self, mu_server_t *server, uint64_t peer, uint64_t id,
            const uint8_t *data, size_t size, size_t count)
{
    transfer_t *t;
    char *path;
    int rc = open_request(server, peer, id, data, size, 20, XFER_PUT, count, &t, &path);
    if (rc <= 0)
        return rc;
    t->size = mu__get_le64(data);
    t->chunk = mu__get_le32(data + 8);
    t->window = credit_clamp(mu__get_le32(data + 12), t->chunk);
    if (t->window > PUT_WINDOW_MAX)
        t->window = PUT_WINDOW_MAX;
    t->overwrite = (mu__get_le32(data + 16) & 1) != 0;
    rc = put_prepare(self, t, path);
    free(path);
    if (rc < 0) {
        send_error(server, peer, id, rc,
                   rc == MU_ENOTDIR ? "a component of the path is a file, not a directory"
                                    : mu_strerror(rc));
        transfer_free(t);
        return 0;
    }
    t->next = self->transfers;
    self->transfers = t;
    uint8_t payload[4];
    mu__put_le32(payload, t->window);
    rc = mu__server_send(server, peer, K_PUT_READY, id, payload, 4);
    if (rc == MU_EAGAIN)
        t->owed = t->window;   /* READY lost to a full queue: credit later */
    else if (rc < 0)
        transfer_remove(self, t);
    return 0;
}

static int
on_put_data(mu__files_server_t *self, mu_server_t *server, transfer_t *t,
            const uint8_t *data, size_t size)
{
    if (size < 9 || size - 8 > t->chunk || mu__get_le64(data) != t->pos
        || t->pos + (size - 8) > t->size) {
        transfer_fail(self, server, t, MU_EPROTO, "upload chunk out of place");
        return MU_EPROTO;
    }
    int rc = write_all(t->fd, data + 8, size - 8, t->pos);
    if (rc < 0) {
        transfer_fail(self, server, t, rc, mu_strerror(rc));
        return 0;
    }
    crypto_generichash_update(&t->hash, data + 8, size - 8);
    uint64_t before = t->pos;
    t->pos += size - 8;
    start_writeback(t->fd, before, t->pos);   /* the fsync is on the server's thread */
    uint32_t half = t->window / 2 ? t->window / 2 : 1;
    if (++t->since_grant >= half) {
        t->owed += t->since_grant;
        t->since_grant = 0;
        if (put_flush_credit(server, t) == MU_EHOSTUNREACH)
            transfer_remove(self, t);
    }
    return 0;
}

/* PUT_END: verify, fsync, rename into place, fsync the directory. */
static int
on_put_end(mu__files_server_t *self, mu_server_t *server, transfer_t *t,
           const uint8_t *data, size_t size)
{
    if (size != DIGEST_BYTES || t->pos != t->size) {
        transfer_fail(self, server, t, MU_EPROTO, "upload ended early");
        return MU_EPROTO;
    }
    uint8_t digest[DIGEST_BYTES];
    crypto_generichash_final(&t->hash, digest, DIGEST_BYTES);
    int rc = 0;
    if (sodium_memcmp(digest, data, DIGEST_BYTES) != 0)
        rc = MU_EDIGEST;
    else if (fsync(t->fd) < 0)
        rc = -errno;
    else
        rc = rename_into_place(t->dir_fd, t->tmp, t->dir_fd, t->base, t->overwrite);
    if (rc < 0) {
        transfer_fail(self, server, t, rc, mu_strerror(rc));
        return 0;
    }
    free(t->tmp);
    t->tmp = NULL;      /* in place: nothing to remove any more */
    if (fsync(t->dir_fd) < 0) {
        transfer_fail(self, server, t, -errno, "fsync of the directory failed");
        return 0;
    }
    (void) mu__server_send(server, t->peer, K_PUT_DONE, t->id, NULL, 0);
    mu__server_count_file(server, t->peer, 1);
    transfer_remove(self, t);
    return 0;
}

int
mu__files_server_on_msg(mu__files_server_t *self, mu_server_t *server, uint64_t peer,
                        int kind, uint64_t id, const void *data, size_t size)
{
    const uint8_t *bytes = data;
    size_t count;
    transfer_t *t = transfer_find(self, peer, id, &count);
    if ((kind == K_GET_OPEN || kind == K_PUT_OPEN) && t) {
        send_error(server, peer, id, MU_EPROTO, "transfer id already in use");
        return MU_EPROTO;
    }
    switch (kind) {
    case K_GET_OPEN:
        return on_get_open(self, server, peer, id, bytes, size, count);
    case K_PUT_OPEN:
        return on_put_open(self, server, peer, id, bytes, size, count);
    case K_CANCEL:
        if (t)
            transfer_remove(self, t);
        return 0;
    case K_GET_CREDIT:
        if (size != 4) {
            send_error(server, peer, id, MU_EPROTO, "malformed credit");
            return MU_EPROTO;
        }
        if (t && t->kind == XFER_GET) {
            t->credit = credit_clamp((uint64_t) t->credit + mu__get_le32(bytes), t->chunk);
        }
        return 0;
    case K_PUT_DATA:
        return t && t->kind == XFER_PUT ? on_put_data(self, server, t, bytes, size) : 0;
    case K_PUT_END:
        return t && t->kind == XFER_PUT ? on_put_end(self, server, t, bytes, size) : 0;
    default:
        send_error(server, peer, id, MU_EPROTO, "unknown file message");
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
    while (rc == 0 && t->hashed < t->start && *budget > 0) {
        uint64_t left = t->start - t->hashed;
        size_t n = left < t->chunk ? (size_t) left : t->chunk;
        if ((rc = read_all(t->fd, buf, n, t->hashed)) == 0) {
            crypto_generichash_update(&t->hash, buf, n);
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
get_fill_frame(mu_server_t *server, transfer_t *t)
{
    uint64_t left = t->size - t->pos;
    size_t n = left < t->chunk ? (size_t) left : t->chunk;
    int rc;
    uint8_t *payload = mu__server_data_frame(server, t->peer, &t->frame, K_GET_DATA, t->id,
                                             8 + n, &rc);
    if (!payload)
        return rc;
    if ((rc = read_all(t->fd, payload + 8, n, t->pos)) < 0) {
        zmq_msg_close(&t->frame);
        return rc;
    }
    mu__put_le64(payload, t->pos);
    if (!t->digest_known)
        crypto_generichash_update(&t->hash, payload + 8, n);
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
    stat_key_t now;
    if (fstat(t->fd, &st) < 0)
        return -errno;
    stat_key_make(&st, &now);
    bool same = memcmp(&now, &t->key, sizeof now) == 0;
    if (t->digest_known) {
        if (!same)
            digest_cache_drop(&t->key);
        return same ? 0 : MU_EIO;
    }
    crypto_generichash_final(&t->hash, t->digest, DIGEST_BYTES);
    if (same && t->key_cacheable)
        digest_cache_put(&t->key, t->digest);
    return 0;
}

/* One bounded step of a download. */
static step_t
get_step(mu__files_server_t *self, mu_server_t *server, transfer_t *t)
{
    int rc;
    if (t->info_pending) {
        uint8_t payload[12];
        mu__put_le64(payload, t->size);
        mu__put_le32(payload + 8, t->credit);
        if ((rc = mu__server_send(server, t->peer, K_GET_INFO, t->id, payload, 12)) < 0)
            return send_failed(self, t, rc);
        t->info_pending = false;
    }
    size_t budget = WORK_BUDGET > t->chunk ? WORK_BUDGET : t->chunk;
    if ((rc = get_hash_prefix(t, &budget)) < 0) {
        transfer_fail(self, server, t, rc, "reading the file failed");
        return STEP_GONE;
    }
    if (t->hashed < t->start)
        return STEP_MORE;
    for (int chunks = 0; t->pos < t->size && t->credit > 0 && budget > 0 && chunks < WORK_CHUNKS;
         chunks++) {
        if (!t->frame_ready && (rc = get_fill_frame(server, t)) < 0) {
            if (rc == MU_EAGAIN)
                return STEP_IDLE;   /* over budget: resumed when bytes drain */
            if (rc == MU_EHOSTUNREACH)
                return send_failed(self, t, rc);
            transfer_fail(self, server, t, rc, "reading the file failed");
            return STEP_GONE;
        }
        size_t n = zmq_msg_size(&t->frame) - MU__HDR_SIZE - 8;
        if ((rc = mu__server_send_frame(server, t->peer, &t->frame)) < 0)
            return send_failed(self, t, rc);
        t->frame_ready = false;
        t->pos += n;
        t->credit--;
        budget = budget > n ? budget - n : 0;
    }
    if (t->pos == t->size && !t->end_pending) {
        if ((rc = get_finish_digest(t)) < 0) {
            transfer_fail(self, server, t, rc, "the file changed while it was sent");
            return STEP_GONE;
        }
        t->end_pending = true;
    }
    if (t->end_pending) {
        if ((rc = mu__server_send(server, t->peer, K_GET_END, t->id, t->digest,
                                  DIGEST_BYTES)) < 0)
            return send_failed(self, t, rc);
        mu__server_count_file(server, t->peer, 0);
        transfer_remove(self, t);
        return STEP_GONE;
    }
    return t->credit > 0 ? STEP_MORE : STEP_IDLE;
}

int
mu__files_server_work(mu__files_server_t *self, mu_server_t *server)
{
    bool more = false, blocked = false;
    transfer_t *t = self->transfers;
    while (t) {
        transfer_t *next = t->next;   /* t may be freed by its step */
        step_t step;
        if (t->kind == XFER_GET) {
            step = get_step(self, server, t);
        } else {
            int rc = put_flush_credit(server, t);
            step = rc == 0 ? STEP_IDLE : send_failed(self, t, rc);
        }
        more |= step == STEP_MORE;
        blocked |= step == STEP_BLOCKED;
        t = next;
    }
    return more ? 0 : blocked ? WORK_RETRY_MS : -1;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */

typedef struct {
    size_t chunk;
    unsigned window;
    int64_t deadline;
    int flags;
    mu_progress_fn *progress;
    void *progress_arg;
} opts_t;

static int
opts_parse(const mu_file_options_t *options, opts_t *out)
{
    mu_file_options_t none = { 0 };
    const mu_file_options_t *o = options ? options : &none;
    if (o->chunk_size > CHUNK_MAX || o->window > WINDOW_MAX || o->timeout_ms < -1
        || (o->flags & ~(MU_FILE_RESUME | MU_FILE_OVERWRITE)))
        return MU_EINVAL;
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
    return len == 0 || len > PATH_MAX_BYTES ? MU_EINVAL : 0;
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
    (void) mu__client_send(client, K_CANCEL, id, NULL, 0, 100);
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

/* The code of an error message (MU_EPROTO when it cannot be decoded); its
   text becomes mu_client_last_error. */
static int
error_code(const uint8_t *data, size_t size)
{
    int code;
    const char *msg;
    size_t msg_len;
    if (mu__err_decode(data, size, &code, &msg, &msg_len) != 0) {
        code = MU_EPROTO;
        msg = "malformed error message";
        msg_len = strlen(msg);
    }
    mu__client_set_last_error(msg, msg_len);
    return code;
}

/* --- the receiving end of a download --- */

typedef struct {
    crypto_generichash_state hash;
    int fd;
    char *tmp;            /* LOCAL.part-XXXXXX or LOCAL.partial */
    bool keep;            /* LOCAL.partial: kept after a failure */
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
        if ((rc = read_all(lf->fd, buf, n, lf->written)) == 0) {
            crypto_generichash_update(&lf->hash, buf, n);
            lf->written += n;
        }
    }
    free(buf);
    return rc;
}

/*  Opens the temporary file: a fresh LOCAL.part-XXXXXX, or LOCAL.partial
    (created or continued) with MU_FILE_RESUME. */
static int
local_open(local_t *lf, const char *local, bool resume)
{
    lf->fd = -1;
    lf->written = 0;
    lf->keep = resume;
    crypto_generichash_init(&lf->hash, NULL, 0, DIGEST_BYTES);
    lf->tmp = str_concat(local, resume ? ".partial" : ".part-XXXXXX");
    if (!lf->tmp)
        return MU_ENOMEM;
    if (resume) {
        lf->fd = open(lf->tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        return lf->fd < 0 ? -errno : local_hash_prefix(lf);
    }
    lf->fd = mkostemp(lf->tmp, O_CLOEXEC);
    if (lf->fd < 0) {
        int rc = -errno;
        free(lf->tmp);
        lf->tmp = NULL;
        return rc;
    }
    (void) fchmod(lf->fd, 0644);   /* mkstemp's 0600 is too private for a download */
    return 0;
}

/* fsyncs the directory that holds path. */
static int
sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t) (slash - path)) : strdup(".");
    if (!dir)
        return MU_ENOMEM;
    int fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* Puts the finished temporary file in place. */
static int
local_commit(local_t *lf, const char *local, bool overwrite)
{
    if (fsync(lf->fd) < 0)
        return -errno;
    int rc = rename_into_place(AT_FDCWD, lf->tmp, AT_FDCWD, local, overwrite);
    if (rc < 0)
        return rc;
    free(lf->tmp);
    lf->tmp = NULL;
    close(lf->fd);
    lf->fd = -1;
    return sync_parent(local);
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
}

/* State of one download attempt. */
typedef struct {
    uint64_t id, total;
    bool have_info;
    unsigned window;      /* as accepted by the server */
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
        int rc = xfer_send(client, K_GET_CREDIT, a->id, credit, 4, o->deadline);
        if (rc < 0)
            return rc;
    }
    int rc = write_all(lf->fd, data + 8, size - 8, lf->written);
    if (rc < 0)
        return rc;
    start_writeback(lf->fd, lf->written, lf->written + (size - 8));
    crypto_generichash_update(&lf->hash, data + 8, size - 8);
    lf->written += size - 8;
    if (o->progress && o->progress(lf->written, a->total, o->progress_arg) != 0)
        return MU_EINTR;
    return 0;
}

/* Handles the END message: everything arrived and the digest matches? */
static int
get_on_end(const local_t *lf, const get_attempt_t *a, const uint8_t *data, size_t size)
{
    if (!a->have_info || size != DIGEST_BYTES || lf->written != a->total)
        return MU_EPROTO;
    crypto_generichash_state copy = lf->hash;
    uint8_t digest[DIGEST_BYTES];
    crypto_generichash_final(&copy, digest, DIGEST_BYTES);
    return sodium_memcmp(digest, data, DIGEST_BYTES) == 0 ? 0 : MU_EDIGEST;
}

/* Handles one message of a download attempt: 1 = go on, 0 = done, < 0. */
static int
get_on_msg(mu_client_t *client, const opts_t *o, local_t *lf, get_attempt_t *a, int kind,
           const uint8_t *data, size_t size)
{
    switch (kind) {
    case K_GET_INFO:
        if (size != 12 || mu__get_le64(data) < lf->written || mu__get_le32(data + 8) == 0
            || mu__get_le32(data + 8) > o->window)
            return MU_EPROTO;
        a->total = mu__get_le64(data);
        a->window = mu__get_le32(data + 8);
        a->have_info = true;
        if (o->progress && o->progress(lf->written, a->total, o->progress_arg) != 0)
            return MU_EINTR;
        return 1;
    case K_GET_DATA: {
        int rc = get_on_data(client, o, lf, a, data, size);
        return rc < 0 ? rc : 1;
    }
    case K_GET_END:
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
        uint8_t head[16];
        mu__put_le64(head, lf->written);
        mu__put_le32(head + 8, (uint32_t) o->chunk);
        mu__put_le32(head + 12, o->window);
        size_t size;
        uint8_t *payload = open_payload(head, sizeof head, remote, &size);
        if (!payload)
            return MU_ENOMEM;
        int rc = xfer_send(client, K_GET_OPEN, a.id, payload, size, o->deadline);
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
        xfer_cancel(client, a.id);   /* also when the same server still has it */
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
    mu__client_set_last_error("", 0);
    int rc = opts_parse(options, o);
    if (rc < 0 || (rc = remote_check(remote)) < 0)
        return rc;
    return sodium_init() < 0 ? MU_ENOMEM : 0;
}

int
mu_client_get(mu_client_t *self, const char *remote, const char *local,
              const mu_file_options_t *options)
{
    assert(self && remote && local);
    opts_t o;
    int rc = call_prologue(options, remote, &o);
    if (rc < 0)
        return rc;
    struct stat st;
    if (!(o.flags & MU_FILE_OVERWRITE) && lstat(local, &st) == 0)
        return MU_EEXIST;
    mu__ignore_sigxfsz();   /* a write past RLIMIT_FSIZE fails with MU_EFBIG */
    local_t lf;
    if ((rc = local_open(&lf, local, (o.flags & MU_FILE_RESUME) != 0)) == 0
        && (rc = get_run(self, remote, &o, &lf)) == 0)
        rc = local_commit(&lf, local, (o.flags & MU_FILE_OVERWRITE) != 0);
    local_close(&lf, rc);
    return rc;
}

/* --- the sending end of an upload --- */

typedef struct {
    crypto_generichash_state hash;
    uint64_t id, size, sent;
    uint32_t credit;
    bool ready, end_sent, pending;
    uint8_t *buf;          /* 8-byte offset + chunk */
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
            int rc = read_all(fd, a->buf + 8, n, a->sent);
            if (rc < 0)
                return rc;
            mu__put_le64(a->buf, a->sent);
            crypto_generichash_update(&a->hash, a->buf + 8, n);
            a->buf_len = 8 + n;
            a->pending = true;
        }
        int rc = xfer_send(client, K_PUT_DATA, a->id, a->buf, a->buf_len, o->deadline);
        if (rc < 0)
            return rc;
        a->pending = false;
        a->sent += a->buf_len - 8;
        a->credit--;
        if (o->progress && o->progress(a->sent, a->size, o->progress_arg) != 0)
            return MU_EINTR;
    }
    if (a->ready && a->sent == a->size && !a->end_sent) {
        uint8_t digest[DIGEST_BYTES];
        crypto_generichash_final(&a->hash, digest, DIGEST_BYTES);
        int rc = xfer_send(client, K_PUT_END, a->id, digest, DIGEST_BYTES, o->deadline);
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
    case K_PUT_READY:
    case K_PUT_CREDIT: {
        if (size != 4)
            return MU_EPROTO;
        uint64_t credit = (uint64_t) a->credit + mu__get_le32(data);
        a->credit = credit > CREDIT_MAX ? CREDIT_MAX : (uint32_t) credit;
        a->ready = true;
        return 1;
    }
    case K_PUT_DONE:
        return a->end_sent ? 0 : MU_EPROTO;
    case MU__K_ERR:
        return error_code(data, size);
    default:
        return MU_EPROTO;
    }
}

/* One upload attempt from byte 0: 0, an error, or MU_EPIPE (try again). */
static int
put_attempt(mu_client_t *client, const char *remote, const opts_t *o, int fd,
            put_attempt_t *a)
{
    uint8_t head[20];
    mu__put_le64(head, a->size);
    mu__put_le32(head + 8, (uint32_t) o->chunk);
    mu__put_le32(head + 12, o->window);
    mu__put_le32(head + 16, (o->flags & MU_FILE_OVERWRITE) ? 1 : 0);
    size_t size;
    uint8_t *payload = open_payload(head, sizeof head, remote, &size);
    if (!payload)
        return MU_ENOMEM;
    int rc = xfer_send(client, K_PUT_OPEN, a->id, payload, size, o->deadline);
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

int
mu_client_put(mu_client_t *self, const char *local, const char *remote,
              const mu_file_options_t *options)
{
    assert(self && local && remote);
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
    put_attempt_t *a = rc == 0 ? aligned_alloc(64, (sizeof *a + 63) & ~(size_t) 63) : NULL;
    uint8_t *buf = a ? malloc(8 + o.chunk) : NULL;
    if (rc == 0 && !buf)
        rc = MU_ENOMEM;
    while (rc == 0) {
        memset(a, 0, sizeof *a);
        a->id = mu__client_next_id(self);
        a->size = (uint64_t) st.st_size;
        a->buf = buf;
        crypto_generichash_init(&a->hash, NULL, 0, DIGEST_BYTES);
        rc = put_attempt(self, remote, &o, fd, a);
        if (rc == MU_EPIPE)
            rc = 0;        /* reconnected: upload again from the start */
        else
            break;
    }
    free(buf);
    free(a);
    close(fd);
    return rc;
}

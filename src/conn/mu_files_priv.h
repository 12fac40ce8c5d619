/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_files_priv.h — private: file transfer between mu_server and mu_client
    (the wire messages are in doc/wire.md, the design in doc/conn.md).
    Never installed.

    The parts: mu_files_io.c (helpers both ends use), mu_files_root.c
    (paths below a server's root), mu_files_digest.c (the process-wide
    digest cache), mu_files_server.c (the server's file service),
    mu_files_client.c (mu_client_get / mu_client_put). The file service
    reaches its server only through the port (mu__files_port_t) the server
    hands it: it never calls mu_server.c. */
#ifndef MU_FILES_PRIV_H_INCLUDED
#define MU_FILES_PRIV_H_INCLUDED

#include "conn/mu_conn.h"
#include <stdbool.h>
#include <sys/stat.h>

/*  File message kinds (0x40..0x5f of mu_conn.h's kinds). */
enum {
    MU__K_GET_OPEN = 0x40,
    MU__K_GET_CREDIT = 0x41,
    MU__K_CANCEL = 0x42,
    MU__K_PUT_OPEN = 0x43,
    MU__K_PUT_DATA = 0x44,
    MU__K_PUT_END = 0x45,
    MU__K_GET_INFO = 0x50,
    MU__K_GET_DATA = 0x51,
    MU__K_GET_END = 0x52,
    MU__K_PUT_READY = 0x53,
    MU__K_PUT_CREDIT = 0x54,
    MU__K_PUT_DONE = 0x55
};

/*  Transfer digest algorithms: their wire ids (doc/wire.md). */
enum { MU__DIGEST_BLAKE2B_256 = 1, MU__DIGEST_XXH3_128 = 2 };
#define MU__DIGEST_MAX 32 /* the longest digest, BLAKE2b-256 */
#define MU__PATH_MAX_BYTES 1024
#define MU__CHUNK_MAX (4 * 1024 * 1024)
#define MU__WINDOW_MAX 1024
#define MU__WRITEBACK_STEP (8 * 1024 * 1024) /* receivers start write-back this often */

/* ---- helpers of both ends (mu_files_io.c) ---- */

/*  Reads exactly size bytes at offset; returns 0, -errno, or MU_EIO when
    the file ends first (it shrank). */
int mu__files_read_all(int fd, uint8_t *data, size_t size, uint64_t offset);

/*  A random suffix of letters and digits (NUL-terminated, len chars). */
void mu__files_random_suffix(char *out, size_t len);

/*  Renames old to new; without overwrite an existing new is left alone and
    MU_EEXIST returned. Returns 0 or -errno. */
int mu__files_rename(int old_dir, const char *old_name, int new_dir, const char *new_name,
                     bool overwrite);

/*  A receiver wrote fd from byte before to byte after: when that crossed a
    MU__WRITEBACK_STEP boundary, starts writing the last whole step back, so
    the final fsync has little left to wait for. */
void mu__files_writeback(int fd, uint64_t before, uint64_t after);

/* ---- transfer digests (mu_files_hash.c) ---- */

/*  A streaming digest of one algorithm (its state on the heap). */
typedef struct {
    int alg;
    void *state;
} mu__fhash_t;

/*  Bytes of alg's digest: 16 (XXH3-128), 32 (BLAKE2b-256); 0 for an
    unknown id. */
size_t mu__fdigest_len(int alg);
const char *mu__fdigest_name(int alg);

/*  Starts a digest. Returns 0, MU_EINVAL (unknown alg) or MU_ENOMEM; after
    an error h holds nothing (mu__fhash_free is still fine). */
int mu__fhash_init(mu__fhash_t *h, int alg);
void mu__fhash_update(mu__fhash_t *h, const void *data, size_t size);
/*  The digest of the bytes so far (h may go on); returns its length. */
size_t mu__fhash_final(mu__fhash_t *h, uint8_t out[MU__DIGEST_MAX]);
void mu__fhash_free(mu__fhash_t *h);

/* ---- paths below a server's root (mu_files_root.c) ---- */

typedef struct {
    int fd;    /* O_PATH | O_DIRECTORY */
    bool walk; /* openat2 unavailable: walk components */
} mu__files_root_t;

/*  Opens root (an existing directory). Returns 0 or -errno. */
int mu__files_root_init(mu__files_root_t *self, const char *root);

/*  Checks a requested path: MU_EINVAL for empty, too long or an embedded
    NUL; MU_EACCES for absolute or a ".." component. */
int mu__files_path_check(const uint8_t *path, size_t len);

/*  Opens path below the root with flags, never leaving it (openat2
    RESOLVE_BENEATH, or a component walk refusing every symlink). Returns
    the fd or a negative code (MU_EACCES: it leaves the root). */
int mu__files_root_open(mu__files_root_t *self, const char *path, int flags);

/*  Opens the directory dir below the root, creating missing components
    (mode 0755) as mkdir -p, each new one opened relative to its parent
    without following links. Returns the fd or a negative code: MU_ENOTDIR,
    MU_EACCES, MU_ENAMETOOLONG. */
int mu__files_root_open_dirs(mu__files_root_t *self, const char *dir);

/* ---- the digest cache (mu_files_digest.c) ---- */

/*  A file's identity: device, inode, size, mtime and ctime. */
typedef struct {
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
} mu__stat_key_t;

void mu__stat_key_make(const struct stat *st, mu__stat_key_t *key);

/*  True when the file's timestamps are old enough for its digest to be
    cached. */
bool mu__stat_key_settled(const struct stat *st);

/*  Copies the cached alg digest of key: true, or false (none). */
bool mu__digest_cache_get(const mu__stat_key_t *key, int alg, uint8_t digest[MU__DIGEST_MAX]);
void mu__digest_cache_put(const mu__stat_key_t *key, int alg, const uint8_t digest[MU__DIGEST_MAX]);
/*  Drops the digests (every algorithm) of key. */
void mu__digest_cache_drop(const mu__stat_key_t *key);

/* ---- the server's file service (mu_files_server.c) ---- */

/*  What the file service may ask of its server; ctx is the server. */
typedef struct {
    void *ctx;
    /*  Sends one protocol message to a peer without blocking (payload
        copied). Returns 0, MU_EHOSTUNREACH (peer gone), MU_EAGAIN (its
        queue is full) or MU_ENOMEM. */
    int (*send)(void *ctx, uint64_t peer, int kind, uint64_t id, const void *data, size_t size);
    /*  Sends a frame made by data_frame: on success msg is left empty; on
        an error it stays the caller's. */
    int (*send_frame)(void *ctx, uint64_t peer, zmq_msg_t *msg);
    /*  Initialises msg as a frame of file data counted against the peer's
        and the server's transfer budgets; returns the payload room, or
        NULL with *rc_p MU_EAGAIN (over budget: the server wakes up when
        bytes drain), MU_EHOSTUNREACH or MU_ENOMEM. */
    uint8_t *(*data_frame)(void *ctx, uint64_t peer, zmq_msg_t *msg, int kind, uint64_t id,
                           size_t size, int *rc_p);
    /*  Counts a file sent (received 0) or received (1). */
    void (*count_file)(void *ctx, uint64_t peer, int received);
} mu__files_port_t;

typedef struct mu__files_server_t mu__files_server_t;

/*  Creates the file service for root (an existing directory), talking to
    its server through port (copied). Returns NULL with errno set. */
mu__files_server_t *mu__files_server_new(const char *root, const mu__files_port_t *port);
void mu__files_server_destroy(mu__files_server_t **self_p);

/*  Handles one file-kind message from peer. Returns 0, or a negative code
    when the message was malformed (already answered with MU__K_ERR; the
    server counts a protocol error). */
int mu__files_server_on_msg(mu__files_server_t *self, uint64_t peer, int kind, uint64_t id,
                            const void *data, size_t size);

/*  Does a bounded amount of pending work. Returns the ms until it wants to
    run again (0: more now, -1: nothing pending). */
int mu__files_server_work(mu__files_server_t *self);

/*  Forgets every transfer of a peer that left (temp files removed). */
void mu__files_server_peer_gone(mu__files_server_t *self, uint64_t peer);

#endif

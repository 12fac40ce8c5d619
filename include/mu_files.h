/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_files.h — file transfer between a mu_server and a mu_client.

    Server. With mu_server_set_root, clients may download and upload files
    below that directory; this is handled inside mu_server_recv and never
    shows up as an event. Paths are relative to the root; absolute paths,
    ".." components, embedded NULs, paths over 1024 bytes and symlinks that
    leave the root are refused (MU_EACCES or MU_EINVAL at the client). An
    upload's missing directories below the root are created (mode 0755,
    as mkdir -p) without following links; a component that is not a
    directory gives MU_ENOTDIR. Uploads are written to a temporary file in
    the target directory, fsynced, checked against the digest the client
    sends and renamed into place; a failing write (disk full,
    RLIMIT_FSIZE) removes the temporary file and answers its error
    (MU_ENOSPC, MU_EFBIG), and the server keeps serving. Chunks are sent
    only against credit the receiver grants, a bounded number per transfer
    per mu_server_recv call, and the file data read but not yet written
    out by libzmq is bounded by two byte budgets
    (mu_server_set_transfer_budget): past one, a download waits (it is
    never failed for it) and resumes when bytes drain.

    Client. mu_client_get downloads REMOTE (relative to the server's root)
    to LOCAL; mu_client_put uploads. Chunks (default 256 KiB) flow against
    a window of credit (default 64 chunks); the receiver writes
    LOCAL.part-XXXXXX in LOCAL's directory, fsyncs it, checks the digest
    of the whole file (computed while the bytes arrive) and renames it into
    place. The digest algorithm is the client's choice, sent with the
    request: XXH3-128 by default (integrity against an authenticated or
    deliberately insecure server, at memory speed), BLAKE2b-256 with
    MU_FILE_DIGEST_BLAKE2B; a server that does not know the algorithm
    refuses the transfer with MU_ENOTSUP. A
    download interrupted by a lost connection or a restarted server resumes
    from the bytes already written until the call's timeout expires. With
    MU_FILE_RESUME, a partial file LOCAL.partial left by an earlier failed
    call is continued. A digest mismatch gives MU_EDIGEST and keeps
    nothing. When the server refused a transfer, mu_last_error() holds its
    message ("server: ...").

    Signals: a write past RLIMIT_FSIZE raises SIGXFSZ, whose default action
    kills the process; mu_server_set_root and mu_client_get set SIGXFSZ to
    SIG_IGN when its disposition is the default (a handler or SIG_IGN the
    application set is kept), so such writes fail with MU_EFBIG.

    Design and figures: doc/conn.md; wire messages: doc/wire.md. */
#ifndef MU_FILES_H_INCLUDED
#define MU_FILES_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"
#include "mu_server.h"
#include "mu_client.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  Progress of a file transfer: bytes done so far of total. Return 0 to go
    on, non-zero to cancel (the call then returns MU_EINTR). */
typedef int mu_progress_fn(void *arg, uint64_t done, uint64_t total);

/*  Options of mu_client_get / mu_client_put (NULL: defaults). */
typedef struct {
    size_t chunk_size;        /* bytes per chunk; 0 = 256 KiB; max 4 MiB */
    unsigned window;          /* chunks in flight; 0 = 64; max 1024 */
    int timeout_ms;           /* whole transfer, -1 = none; 0 = 60 s */
    int flags;                /* MU_FILE_* */
    mu_progress_fn *progress; /* may be NULL */
    void *progress_arg;
    int digest; /* MU_FILE_DIGEST_*; 0 = XXH3-128 */
} mu_file_options_t;

#define MU_FILE_RESUME 1    /* continue LOCAL.partial (get) */
#define MU_FILE_OVERWRITE 2 /* replace an existing destination */

#define MU_FILE_DIGEST_BLAKE2B 1  /* BLAKE2b-256 (libsodium, no key) */
#define MU_FILE_DIGEST_XXH3_128 2 /* XXH3-128 (libxxhash), the default */

/*  Serves files below dir (which must exist and be a directory). Any time.
    Returns 0, MU_ENOENT, MU_ENOTDIR or MU_EACCES. */
MU_EXPORT MU_NODISCARD int mu_server_set_root(mu_server_t *self, const char *dir);

/*  Bounds the file data queued for sending (read, not yet written out by
    libzmq): per_peer_bytes for one peer's downloads together,
    per_server_bytes for all peers (defaults 64 MiB and 512 MiB). A
    download that would pass either waits until bytes drain; a peer or
    server with nothing queued still takes one chunk, so a chunk larger
    than a budget moves too, one at a time. Any time; applies to the next
    chunk. Returns 0 or MU_EINVAL (a budget of 0, per_peer_bytes >
    per_server_bytes). */
MU_EXPORT MU_NODISCARD int mu_server_set_transfer_budget(mu_server_t *self, size_t per_peer_bytes,
                                                         size_t per_server_bytes);

/*  Downloads remote to local (see above). Returns 0, MU_ENOENT, MU_EACCES,
    MU_EINVAL (bad path or options), MU_ENOTSUP (the server does not know
    the digest algorithm), MU_EISDIR, MU_EEXIST (local exists and
    no MU_FILE_OVERWRITE), MU_EDIGEST, MU_ETIMEDOUT, a connection failure
    (as mu_client_request), MU_EINTR (cancelled by progress, or a signal
    interrupted the wait: any caught signal, as in mu_client_request, or
    zsys_interrupted set by czmq's handler), MU_EIO (the file changed on the server
    while it was sent), MU_EAGAIN (the server already runs 32 transfers
    for this client), MU_EPROTO (the server broke the protocol: a second
    size, a chunk out of place, past the size or larger than asked, a
    window or digest algorithm other than asked, an end before the last
    byte or with a digest of another length, a message of an upload),
    another code the server answered (an MU_E* code or an errno value of
    the server's; any other code, and MU_EPIPE, come back as MU_EREMOTE;
    mu_last_error() holds "server: ..."), -ELOOP or MU_ENOTREG (with
    MU_FILE_RESUME: local.partial is a symbolic link, never followed, or
    not a regular file; it is left alone), or -errno of a local write
    (MU_ENOSPC, MU_EFBIG...); on error no file is left at local (nor a
    temp file; with MU_FILE_RESUME the bytes received are kept in
    local.partial, and the bytes it held before the call are never
    changed, except after MU_EDIGEST or MU_EINVAL: the digest of the
    whole did not match, or the server refused the offset, so
    local.partial cannot be continued and is removed). */
MU_EXPORT MU_NODISCARD int mu_client_get(mu_client_t *self, const char *remote, const char *local,
                                         const mu_file_options_t *options);

/*  Uploads local to remote. Returns like mu_client_get (errors of the
    server's writing come back as its codes, e.g. MU_ENOSPC, MU_EFBIG;
    MU_EPROTO for a PUT_DONE before the digest was sent or a message of a
    download). Credit the server grants beyond 2^20 chunks is capped
    there; a server that grants none makes the call wait, re-opening the
    upload after 5 s of silence, until its timeout. */
MU_EXPORT MU_NODISCARD int mu_client_put(mu_client_t *self, const char *local, const char *remote,
                                         const mu_file_options_t *options);

#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_error.h — the one error convention of libmutil.

    Functions that can fail return int: 0 (or a non-negative count) on success,
    a negative code on failure. Codes that have an errno equivalent ARE that
    errno, negated (MU_EINVAL == -EINVAL), so a system error passes through
    unchanged as -errno. Codes with no errno equivalent sit below -1000.
    Constructors return NULL and set errno to the code's nearest errno
    (mu_error_errno). Every failure also records, for the calling thread, its
    code and a message with the detail (which file, which key, what the peer
    said): mu_last_code and mu_last_error. Every code has one line in
    MU_ERRORS, so mu_strerror and mu_error_errno cannot drift. */
#ifndef MU_ERROR_H_INCLUDED
#define MU_ERROR_H_INCLUDED

#include <errno.h>
#include "mu_defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  XX(name, value, nearest errno, message) */
/* clang-format off */
#define MU_ERRORS(XX)                                                                                          \
    XX(MU_EINVAL,       (-EINVAL),       EINVAL,       "invalid argument")                                     \
    XX(MU_ENOMEM,       (-ENOMEM),       ENOMEM,       "out of memory")                                        \
    XX(MU_EAGAIN,       (-EAGAIN),       EAGAIN,       "operation would block; try again")                     \
    XX(MU_ETIMEDOUT,    (-ETIMEDOUT),    ETIMEDOUT,    "timed out")                                            \
    XX(MU_EMSGSIZE,     (-EMSGSIZE),     EMSGSIZE,     "message larger than the allowed maximum")              \
    XX(MU_EPROTO,       (-EPROTO),       EPROTO,       "protocol error: malformed input from peer")            \
    XX(MU_EPIPE,        (-EPIPE),        EPIPE,        "peer closed its end")                                  \
    XX(MU_EACCES,       (-EACCES),       EACCES,       "access denied")                                        \
    XX(MU_ENOENT,       (-ENOENT),       ENOENT,       "no such file or entry")                                \
    XX(MU_EEXIST,       (-EEXIST),       EEXIST,       "already exists")                                       \
    XX(MU_EHOSTUNREACH, (-EHOSTUNREACH), EHOSTUNREACH, "no route to that peer")                                \
    XX(MU_ENOTSUP,      (-ENOTSUP),      ENOTSUP,      "operation not supported here")                         \
    XX(MU_EBADF,        (-EBADF),        EBADF,        "bad file descriptor")                                  \
    XX(MU_EINTR,        (-EINTR),        EINTR,        "interrupted")                                          \
    XX(MU_ENOTDIR,      (-ENOTDIR),      ENOTDIR,      "not a directory")                                      \
    XX(MU_EISDIR,       (-EISDIR),       EISDIR,       "is a directory")                                       \
    XX(MU_ENAMETOOLONG, (-ENAMETOOLONG), ENAMETOOLONG, "name too long")                                        \
    XX(MU_EFBIG,        (-EFBIG),        EFBIG,        "file too large")                                       \
    XX(MU_ENOSPC,       (-ENOSPC),       ENOSPC,       "no space left on device")                              \
    XX(MU_EIO,          (-EIO),          EIO,          "input/output error")                                   \
    XX(MU_ECONNREFUSED, (-ECONNREFUSED), ECONNREFUSED, "connection refused: nothing listens at that endpoint") \
    XX(MU_EADDRINUSE,   (-EADDRINUSE),   EADDRINUSE,   "address already in use")                               \
    XX(MU_ECLOSED,      (-1001),         EPIPE,        "closed: end of stream")                                \
    XX(MU_ETRUNCATED,   (-1002),         EBADMSG,      "truncated: stream ended inside a frame")               \
    XX(MU_EAUTH,        (-1003),         EACCES,       "authentication failed")                                \
    XX(MU_ETYPE,        (-1004),         EINVAL,       "value has another type than requested")                \
    XX(MU_ELIMIT,       (-1005),         EMSGSIZE,     "a limit was exceeded")                                 \
    XX(MU_ECORRUPT,     (-1006),         EBADMSG,      "stored data is corrupt")                               \
    XX(MU_EREMOTE,      (-1007),         EREMOTEIO,    "the peer answered with an error")                      \
    XX(MU_EDIGEST,      (-1008),         EBADMSG,      "digest mismatch: data differs from the sender's")      \
    XX(MU_ENOHOST,      (-1009),         EHOSTUNREACH, "unknown host: the name does not resolve")              \
    XX(MU_EHANDSHAKE,   (-1010),         EPROTO,       "security handshake failed: keys or security mode differ from the peer's") \
    XX(MU_EINSECURE,    (-1011),         EPERM,        "secret file not private: group or others may access it, or it is a symbolic link") \
    XX(MU_ENOTREG,      (-1012),         EINVAL,       "not a regular file")                                   \
    XX(MU_EMISMATCH,    (-1013),         EKEYREJECTED, "keys do not match: the secret key is not the public key's") \
    XX(MU_ECANCELED,    (-ECANCELED),    ECANCELED,    "canceled: stopped before the work was done (a deadline expired)")
/* clang-format on */

enum {
#define MU__ERROR_ENUM(name, value, errno_value, message) name = value,
    MU_ERRORS(MU__ERROR_ENUM)
#undef MU__ERROR_ENUM
        MU_OK = 0
};

/*  Returns a static, human-readable message for an error code. Codes outside
    the table are treated as negated errno values (strerror); never NULL. */
MU_EXPORT const char *mu_strerror(int code);

/*  Returns the symbolic name of a code ("MU_EPROTO"), or "MU_E?" for a code
    outside the table. Never NULL. */
MU_EXPORT const char *mu_errname(int code);

/*  Returns the positive errno nearest to a code: -code for codes that are
    a negated errno, a close errno for the others (MU_EAUTH: EACCES,
    MU_ECORRUPT: EBADMSG...), EINVAL for a code outside the table, 0 for 0. */
MU_EXPORT int mu_error_errno(int code);

/*  Returns the code of the last failure a mutil call reported in the
    calling thread (0 if none yet). Calls that succeed leave it alone. */
MU_EXPORT int mu_last_code(void);

/*  Returns a message describing the last failure a mutil call reported in
    the calling thread: mu_strerror of its code, then the detail when there
    is one ("cannot open '/x/key': permission denied"). "" if none yet. The
    string is the thread's own and stays valid until its next failure. */
MU_EXPORT const char *mu_last_error(void);

#ifdef __cplusplus
}
#endif
#endif

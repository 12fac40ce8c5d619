/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_error.h — the one error convention of libmutil.

    Functions that can fail return int: 0 (or a non-negative count) on success,
    a negative code on failure. Codes that have an errno equivalent ARE that
    errno, negated (MU_EINVAL == -EINVAL), so a system error passes through
    unchanged as -errno. Codes with no errno equivalent sit below -1000.
    Constructors return NULL and set errno to the positive form of the code.
    Every code has one line in MU_ERRORS, so mu_strerror cannot drift. */
#ifndef MU_ERROR_H_INCLUDED
#define MU_ERROR_H_INCLUDED

#include <errno.h>
#include "mu_defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  XX(name, value, message) */
#define MU_ERRORS(XX)                                                              \
    XX(MU_EINVAL,       (-EINVAL),       "invalid argument")                       \
    XX(MU_ENOMEM,       (-ENOMEM),       "out of memory")                          \
    XX(MU_EAGAIN,       (-EAGAIN),       "operation would block; try again")       \
    XX(MU_ETIMEDOUT,    (-ETIMEDOUT),    "timed out")                              \
    XX(MU_EMSGSIZE,     (-EMSGSIZE),     "message larger than the allowed maximum") \
    XX(MU_EPROTO,       (-EPROTO),       "protocol error: malformed input from peer") \
    XX(MU_EPIPE,        (-EPIPE),        "peer closed its end")                    \
    XX(MU_EACCES,       (-EACCES),       "access denied")                          \
    XX(MU_ENOENT,       (-ENOENT),       "no such file or entry")                  \
    XX(MU_EEXIST,       (-EEXIST),       "already exists")                         \
    XX(MU_EHOSTUNREACH, (-EHOSTUNREACH), "no route to that peer")                  \
    XX(MU_ENOTSUP,      (-ENOTSUP),      "operation not supported here")           \
    XX(MU_EBADF,        (-EBADF),        "bad file descriptor")                    \
    XX(MU_EINTR,        (-EINTR),        "interrupted")                            \
    XX(MU_ENOTDIR,      (-ENOTDIR),      "not a directory")                        \
    XX(MU_EISDIR,       (-EISDIR),       "is a directory")                         \
    XX(MU_ENAMETOOLONG, (-ENAMETOOLONG), "name too long")                          \
    XX(MU_EFBIG,        (-EFBIG),        "file too large")                         \
    XX(MU_ENOSPC,       (-ENOSPC),       "no space left on device")                \
    XX(MU_EIO,          (-EIO),          "input/output error")                     \
    XX(MU_ECONNREFUSED, (-ECONNREFUSED), "connection refused: nothing listens at that endpoint") \
    XX(MU_ECLOSED,      (-1001),         "closed: end of stream")                  \
    XX(MU_ETRUNCATED,   (-1002),         "truncated: stream ended inside a frame") \
    XX(MU_EAUTH,        (-1003),         "authentication failed")                  \
    XX(MU_ETYPE,        (-1004),         "value has another type than requested")  \
    XX(MU_ELIMIT,       (-1005),         "input exceeds a decoding limit")         \
    XX(MU_ECORRUPT,     (-1006),         "stored data is corrupt")                 \
    XX(MU_EREMOTE,      (-1007),         "the peer answered with an error")        \
    XX(MU_EDIGEST,      (-1008),         "digest mismatch: data differs from the sender's") \
    XX(MU_ENOHOST,      (-1009),         "unknown host: the name does not resolve") \
    XX(MU_EHANDSHAKE,   (-1010),         "security handshake failed: keys or security mode differ from the peer's") \
    XX(MU_EINSECURE,    (-1011),         "secret file not private: group or others may access it, or it is a symbolic link") \
    XX(MU_ENOTREG,      (-1012),         "not a regular file")                     \
    XX(MU_EMISMATCH,    (-1013),         "keys do not match: the secret key is not the public key's")

enum {
#define MU__ERROR_ENUM(name, value, message) name = value,
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

#ifdef __cplusplus
}
#endif
#endif

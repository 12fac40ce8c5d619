/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_keys.h — identities and CURVE keys.

    A mu_keys_t holds one CURVE (Curve25519) keypair: a 32-byte public key
    and, when known, its 32-byte secret key. Keys come from three places:
      - generated at random (mu_keys_new);
      - derived from a shared passphrase (mu_keys_from_secret): both ends of a
        connection derive the same server keypair and the same client keypair,
        so a program that knows the passphrase authenticates the other side
        and the traffic is CURVE-encrypted (the derivation: doc/keys.md);
      - loaded from czmq's zcert files (mu_keys_load): a public file NAME and a
        secret file NAME_secret, text, keys in Z85. Files written by
        mu_keys_save are read by czmq's zcert_load and pyzmq's
        zmq.auth.load_certificate, and theirs by mu_keys_load.

    A mu_allow_t is the set of client public keys a server accepts: built in
    memory, loaded from a directory of public cert files, or the explicit
    "allow any" set (mu_allow_new_any), which a server never gets by default.

    All functions are thread-safe on distinct objects; a mu_keys_t or
    mu_allow_t that is only read may be shared by threads. */
#ifndef MU_KEYS_H_INCLUDED
#define MU_KEYS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MU_KEY_BYTES 32         /* a public or secret key */
#define MU_KEY_TEXT 41          /* a key in Z85: 40 characters + NUL */
#define MU_KEYS_SECRET_MIN 8    /* shortest passphrase, bytes */
#define MU_KEYS_SECRET_MAX 4096 /* longest passphrase in a file, bytes */

/*  Flags of mu_keys_read_secret_file and mu_keys_load. */
#define MU_KEYS_ALLOW_INSECURE \
    1                         /* accept a secret file that group or others
                                       may access, or a symbolic link to it */
#define MU_KEYS_PUBLIC_ONLY 2 /* mu_keys_load: read the public key only */

typedef struct mu_keys_t mu_keys_t;
typedef struct mu_allow_t mu_allow_t;

/*  Which keypair of a shared secret to derive. */
typedef enum { MU_KEYS_SERVER = 1, MU_KEYS_CLIENT = 2 } mu_keys_role_t;

/*  Generates a new random keypair. Returns NULL with errno set (ENOMEM, or
    EIO when libsodium cannot initialize: no system randomness); the detail
    is in mu_last_error(). */
MU_EXPORT MU_NODISCARD mu_keys_t *mu_keys_new(void);

/*  Derives the server or client keypair of a shared passphrase (secret,
    size bytes, any bytes; at least MU_KEYS_SECRET_MIN). The same secret
    always gives the same keys, with the derivation described in
    doc/keys.md; it costs tens of milliseconds: derive once per process.
    secret NULL or a role outside the enum is a caller bug (asserted).
    Returns NULL with errno EINVAL (shorter than MU_KEYS_SECRET_MIN bytes),
    ENOMEM (also when Argon2id cannot get its 64 MiB) or EIO (libsodium
    cannot initialize). */
MU_EXPORT MU_NODISCARD mu_keys_t *mu_keys_from_secret(const void *secret, size_t size,
                                                      mu_keys_role_t role);

/*  Reads a passphrase file for mu_keys_from_secret: the whole regular file
    with one trailing newline (LF or CRLF) removed, MU_KEYS_SECRET_MIN to
    MU_KEYS_SECRET_MAX bytes once the newline is removed. Like ssh with its
    keys, it refuses a secret file that is not private: the file is opened
    without following a symbolic link (O_NOFOLLOW) and, once open, must
    grant group and others nothing (mode & 077 == 0); flags
    MU_KEYS_ALLOW_INSECURE (0 otherwise) lifts both rules. On success
    *secret_p is a malloc'd buffer (caller frees; wipe it with
    sodium_memzero) and *size_p its size. Returns 0, -errno of open/read
    (MU_ENOENT, MU_EACCES...), MU_EISDIR (a directory), MU_ENOTREG (a
    device, FIFO or socket), MU_EINSECURE (group or others have access, or
    path is a symbolic link), MU_EINVAL (fewer than MU_KEYS_SECRET_MIN
    bytes), MU_EFBIG (more than MU_KEYS_SECRET_MAX bytes) or
    MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_keys_read_secret_file(const char *path, int flags, char **secret_p,
                                                    size_t *size_p);

/*  Makes a keypair from raw keys: public_key (32 bytes, required) and
    secret_key (32 bytes, or NULL for a public-only key). When both are
    given they must match. Returns NULL with errno EKEYREJECTED
    (mu_last_code() MU_EMISMATCH: the keys do not match) or ENOMEM. */
MU_EXPORT MU_NODISCARD mu_keys_t *mu_keys_new_from(const uint8_t *public_key,
                                                   const uint8_t *secret_key);

/*  Makes a public-only key from its 40-character Z85 text. Returns NULL
    with errno EINVAL (not 40 valid Z85 characters) or ENOMEM. */
MU_EXPORT MU_NODISCARD mu_keys_t *mu_keys_new_public_txt(const char *public_txt);

/*  Loads a zcert pair: path is the public file; path + "_secret" is read
    when it exists (then the keys must match). A path that names the
    "_secret" file itself is accepted too. A file a secret key is taken
    from must be private, as for mu_keys_read_secret_file (not a symbolic
    link, mode & 077 == 0). flags: MU_KEYS_PUBLIC_ONLY reads the public key
    alone (path + "_secret" is not read, a secret key in path is ignored);
    MU_KEYS_ALLOW_INSECURE accepts a secret file that is not private; 0
    for neither (other bits are a caller bug, asserted). Returns NULL with
    mu_last_code() MU_ENOENT (no public file), MU_EACCES, MU_EISDIR,
    MU_ENOTREG, MU_EINSECURE (the secret file is not private),
    MU_EMISMATCH (the secret key is not the public key's, in one file or
    across the pair), MU_EINVAL (not a cert file: no curve section, bad
    Z85, over 64 KiB, a "_secret" file without a secret key) or
    MU_ENOMEM, errno set to the nearest errno (mu_error_errno), and
    mu_last_error() naming the file and what is wrong. */
MU_EXPORT MU_NODISCARD mu_keys_t *mu_keys_load(const char *path, int flags);

/*  Writes path (public cert, mode 0644) and, when the secret is known,
    path + "_secret" (mode 0600, created that way, never world-readable even
    for an instant), in zcert format with a "created-by" metadata line. Each
    file is written to a temporary name, fsync'ed and renamed. Returns 0,
    MU_EINVAL (path empty or too long) or -errno of the file calls; the
    detail names the file. */
MU_EXPORT MU_NODISCARD int mu_keys_save(const mu_keys_t *self, const char *path);

/*  The 32-byte public key (valid while self lives). */
MU_EXPORT const uint8_t *mu_keys_public(const mu_keys_t *self);

/*  The 32-byte secret key, or NULL for a public-only key. */
MU_EXPORT const uint8_t *mu_keys_secret(const mu_keys_t *self);

/*  The public key in Z85 (40 characters, NUL-terminated; valid while self
    lives). */
MU_EXPORT const char *mu_keys_public_txt(const mu_keys_t *self);

/*  Copies self. Returns NULL with errno ENOMEM. */
MU_EXPORT MU_NODISCARD mu_keys_t *mu_keys_dup(const mu_keys_t *self);

/*  Destroys the keypair, wiping the secret; accepts NULL and *self_p NULL. */
MU_EXPORT void mu_keys_destroy(mu_keys_t **self_p);

/*  Converts 32 bytes to Z85 text (text: MU_KEY_TEXT bytes) and back.
    mu_key_from_txt returns 0 or MU_EINVAL (not exactly 40 Z85 characters). */
MU_EXPORT void mu_key_to_txt(const uint8_t *key, char *text);
MU_EXPORT MU_NODISCARD int mu_key_from_txt(const char *text, uint8_t *key);

/*  Creates an empty allow-list (accepts nobody). NULL with errno ENOMEM. */
MU_EXPORT MU_NODISCARD mu_allow_t *mu_allow_new(void);

/*  Creates the list that accepts any client key (CURVE still encrypts, but
    anybody who knows the server's public key gets in). Only by this name.
    NULL with errno ENOMEM. */
MU_EXPORT MU_NODISCARD mu_allow_t *mu_allow_new_any(void);

/*  Adds a 32-byte public key. Returns 0 or MU_ENOMEM. Adding a key twice is
    not an error. */
MU_EXPORT MU_NODISCARD int mu_allow_add(mu_allow_t *self, const uint8_t *public_key);

/*  Adds every public cert in directory dir (regular files, or links to
    them, whose names neither start with '.' nor end in "_secret"; files
    that are not certs or cannot be read are skipped and counted in
    *skipped_p when it is not NULL). Returns the number of certs loaded
    (>= 0; a key already in the list counts but is not added twice),
    or -errno of opendir (MU_ENOENT, MU_ENOTDIR, MU_EACCES) or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_allow_load_dir(mu_allow_t *self, const char *dir, int *skipped_p);

/*  True (1) when the list accepts public_key (32 bytes), else 0. */
MU_EXPORT int mu_allow_contains(const mu_allow_t *self, const uint8_t *public_key);

/*  True (1) for a list made by mu_allow_new_any. */
MU_EXPORT int mu_allow_is_any(const mu_allow_t *self);

/*  Number of keys in the list (0 for the "any" list). */
MU_EXPORT size_t mu_allow_size(const mu_allow_t *self);

/*  Copies self. Returns NULL with errno ENOMEM. */
MU_EXPORT MU_NODISCARD mu_allow_t *mu_allow_dup(const mu_allow_t *self);

/*  Destroys the list; accepts NULL and *self_p NULL. */
MU_EXPORT void mu_allow_destroy(mu_allow_t **self_p);

#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_keys_int.h — what the parts of mu_keys share. Never installed.
      mu_keys.c   keypairs: random, derived from a passphrase, raw, Z85
      mu_cert.c   files: zcert text (parse, format), mu_keys_load and
                  mu_keys_save, passphrase files
      mu_allow.c  allow-lists of client keys (and mu_allow_load_dir)
    mu_allow.c uses mu_cert.c, which uses mu_keys.c. */
#ifndef MU_KEYS_INT_H_INCLUDED
#define MU_KEYS_INT_H_INCLUDED

#include "base/mu_internal.h"

#define MU_SECRET_SUFFIX "_secret"

/*  True when secret_key is the secret of public_key. */
bool mu__keys_match(const uint8_t *public_key, const uint8_t *secret_key);

/*  What a cert file holds. */
typedef struct {
    uint8_t public_key[MU_KEY_BYTES];
    uint8_t secret_key[MU_KEY_BYTES];
    bool has_public, has_secret;
} mu__cert_t;

/*  Reads and parses one cert file; private: the file must be reached
    without a symbolic link and grant group and others nothing. Returns 0,
    -errno of open/read, MU_EISDIR, MU_ENOTREG, MU_EINSECURE, MU_EINVAL
    (not a cert, or over 64 KiB), MU_EMISMATCH or MU_ENOMEM, and records
    the failure (mu__fail) naming path and what is wrong. */
int mu__cert_load(const char *path, bool private, mu__cert_t *cert);

/*  True when name ends with "_secret" (a secret cert file's name). */
bool mu__cert_is_secret_name(const char *name);

#endif

/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_keys.c — CURVE keypairs: random, derived from a shared passphrase,
    made from raw keys or Z85 text. The contract is in include/mu_keys.h;
    the derivation is described in doc/keys.md. */
#include "net/mu_keys_int.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define MU_KDF_CONTEXT "mu_keys_" /* crypto_kdf context: 8 bytes */
#define MU_SALT_SOURCE "mutil mu_keys shared-secret salt, version 1"

struct mu_keys_t {
    uint8_t public_key[MU_KEY_BYTES];
    uint8_t secret_key[MU_KEY_BYTES];
    bool has_secret;
    char public_txt[MU_KEY_TEXT];
};

/* ---- helpers ------------------------------------------------------------- */

/*  sodium_init() is idempotent and thread-safe; it fails only when the
    system gives no randomness. Returns 0 or MU_EIO. */
static int
sodium_ready(void)
{
    return sodium_init() < 0 ? MU_EIO : 0;
}

bool
mu__keys_match(const uint8_t *public_key, const uint8_t *secret_key)
{
    uint8_t derived[MU_KEY_BYTES];
    bool match = crypto_scalarmult_base(derived, secret_key) == 0
                 && sodium_memcmp(derived, public_key, MU_KEY_BYTES) == 0;
    sodium_memzero(derived, sizeof derived);
    return match;
}

static mu_keys_t *
keys_alloc(const uint8_t *public_key, const uint8_t *secret_key)
{
    mu_keys_t *self = calloc(1, sizeof *self);
    if (self == NULL)
        return mu__fail_null(MU_ENOMEM, "keypair");
    memcpy(self->public_key, public_key, MU_KEY_BYTES);
    if (secret_key) {
        memcpy(self->secret_key, secret_key, MU_KEY_BYTES);
        self->has_secret = true;
    }
    mu_key_to_txt(self->public_key, self->public_txt);
    return self;
}

/* ---- Z85 ----------------------------------------------------------------- */

void
mu_key_to_txt(const uint8_t *key, char *text)
{
    assert(key && text);
    char *done = zmq_z85_encode(text, key, MU_KEY_BYTES);
    assert(done); /* 32 is a multiple of 4: cannot fail */
    (void) done;
}

int
mu_key_from_txt(const char *text, uint8_t *key)
{
    assert(text && key);
    if (strlen(text) != MU_KEY_TEXT - 1)
        return MU_EINVAL;
    uint8_t decoded[MU_KEY_BYTES];
    if (zmq_z85_decode(decoded, text) == NULL)
        return MU_EINVAL;
    memcpy(key, decoded, MU_KEY_BYTES);
    return 0;
}

/* ---- keypairs ------------------------------------------------------------ */

mu_keys_t *
mu_keys_new(void)
{
    if (sodium_ready() != 0)
        return mu__fail_null(MU_EIO, "libsodium cannot initialize: no system randomness");
    uint8_t public_key[MU_KEY_BYTES], secret_key[MU_KEY_BYTES];
    crypto_box_keypair(public_key, secret_key);
    mu_keys_t *self = keys_alloc(public_key, secret_key);
    sodium_memzero(secret_key, sizeof secret_key);
    return self;
}

/*  The fixed Argon2id salt: the first 16 bytes of a BLAKE2b hash of a
    constant string (so it is not a bare literal, and changing the string
    versions the derivation). */
static void
derivation_salt(uint8_t salt[crypto_pwhash_SALTBYTES])
{
    crypto_generichash(salt, crypto_pwhash_SALTBYTES, (const uint8_t *) MU_SALT_SOURCE,
                       strlen(MU_SALT_SOURCE), NULL, 0);
}

mu_keys_t *
mu_keys_from_secret(const void *secret, size_t size, mu_keys_role_t role)
{
    assert(secret && (role == MU_KEYS_SERVER || role == MU_KEYS_CLIENT));
    if (size < MU_KEYS_SECRET_MIN)
        return mu__fail_null(MU_EINVAL, "passphrase of %zu bytes: at least %d needed", size,
                             MU_KEYS_SECRET_MIN);
    if (sodium_ready() != 0)
        return mu__fail_null(MU_EIO, "libsodium cannot initialize: no system randomness");
    uint8_t salt[crypto_pwhash_SALTBYTES];
    uint8_t master[crypto_kdf_KEYBYTES];
    uint8_t seed[crypto_box_SEEDBYTES];
    uint8_t public_key[MU_KEY_BYTES], secret_key[MU_KEY_BYTES];
    derivation_salt(salt);
    mu_keys_t *self = NULL;
    if (crypto_pwhash(master, sizeof master, secret, size, salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                      crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13)
        != 0)
        /* the only way it fails with valid limits */
        mu__fail_null(MU_ENOMEM, "Argon2id could not get its memory");
    else if (crypto_kdf_derive_from_key(seed, sizeof seed, (uint64_t) role, MU_KDF_CONTEXT, master)
                 != 0
             || crypto_box_seed_keypair(public_key, secret_key, seed) != 0)
        /* unreachable with these constant sizes */
        mu__fail_null(MU_EINVAL, "key derivation refused its sizes");
    else
        self = keys_alloc(public_key, secret_key);
    sodium_memzero(master, sizeof master);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(secret_key, sizeof secret_key);
    return self;
}

mu_keys_t *
mu_keys_new_from(const uint8_t *public_key, const uint8_t *secret_key)
{
    assert(public_key);
    if (secret_key && !mu__keys_match(public_key, secret_key))
        return mu__fail_null(MU_EMISMATCH, "mu_keys_new_from");
    return keys_alloc(public_key, secret_key);
}

mu_keys_t *
mu_keys_new_public_txt(const char *public_txt)
{
    assert(public_txt);
    uint8_t public_key[MU_KEY_BYTES];
    if (mu_key_from_txt(public_txt, public_key) != 0)
        return mu__fail_null(MU_EINVAL, "not a key in Z85 (40 characters): '%.60s'", public_txt);
    return keys_alloc(public_key, NULL);
}

const uint8_t *
mu_keys_public(const mu_keys_t *self)
{
    assert(self);
    return self->public_key;
}

const uint8_t *
mu_keys_secret(const mu_keys_t *self)
{
    assert(self);
    return self->has_secret ? self->secret_key : NULL;
}

const char *
mu_keys_public_txt(const mu_keys_t *self)
{
    assert(self);
    return self->public_txt;
}

mu_keys_t *
mu_keys_dup(const mu_keys_t *self)
{
    assert(self);
    return keys_alloc(self->public_key, self->has_secret ? self->secret_key : NULL);
}

void
mu_keys_destroy(mu_keys_t **self_p)
{
    if (self_p && *self_p) {
        sodium_memzero(*self_p, sizeof **self_p);
        free(*self_p);
        *self_p = NULL;
    }
}

/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_files_hash.c — the transfer digests of file transfer
    (src/conn/mu_files_priv.h): XXH3-128 (the default) and BLAKE2b-256,
    behind one streaming interface. Why two: doc/conn.md. */
#include "conn/mu_files_priv.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

size_t
mu__fdigest_len(int alg)
{
    switch (alg) {
    case MU__DIGEST_XXH3_128:
        return 16;
    case MU__DIGEST_BLAKE2B_256:
        return 32;
    default:
        return 0;
    }
}

const char *
mu__fdigest_name(int alg)
{
    return alg == MU__DIGEST_XXH3_128      ? "XXH3-128"
           : alg == MU__DIGEST_BLAKE2B_256 ? "BLAKE2b-256"
                                           : "?";
}

int
mu__fhash_init(mu__fhash_t *h, int alg)
{
    h->alg = alg;
    h->state = NULL;
    if (alg == MU__DIGEST_XXH3_128) {
        XXH3_state_t *s = XXH3_createState();
        if (!s)
            return MU_ENOMEM;
        XXH3_128bits_reset(s);
        h->state = s;
        return 0;
    }
    if (alg == MU__DIGEST_BLAKE2B_256) {
        size_t size = (sizeof(crypto_generichash_state) + 63) & ~(size_t) 63;
        crypto_generichash_state *s = aligned_alloc(64, size);
        if (!s)
            return MU_ENOMEM;
        crypto_generichash_init(s, NULL, 0, 32);
        h->state = s;
        return 0;
    }
    return MU_EINVAL;
}

void
mu__fhash_update(mu__fhash_t *h, const void *data, size_t size)
{
    if (h->alg == MU__DIGEST_XXH3_128)
        (void) XXH3_128bits_update(h->state, data, size);
    else
        crypto_generichash_update(h->state, data, size);
}

size_t
mu__fhash_final(mu__fhash_t *h, uint8_t out[MU__DIGEST_MAX])
{
    if (h->alg == MU__DIGEST_XXH3_128) {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->state));
        memcpy(out, c.digest, 16);
        return 16;
    }
    crypto_generichash_state copy = *(crypto_generichash_state *) h->state;
    crypto_generichash_final(&copy, out, 32);
    return 32;
}

void
mu__fhash_free(mu__fhash_t *h)
{
    if (!h->state)
        return;
    if (h->alg == MU__DIGEST_XXH3_128)
        XXH3_freeState(h->state);
    else
        free(h->state);
    h->state = NULL;
}

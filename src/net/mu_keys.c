/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_keys.c — CURVE keypairs (random, derived from a shared secret, or
    loaded from zcert files) and allow-lists of client keys. The contract is
    in include/mu_keys.h.

    zcert files are read and written here rather than through czmq's zcert:
    the secret file must be created 0600 from the start and replaced
    atomically, and loading must tell a missing file from a broken one. The
    reader understands the subset of the zconfig text format that certs use
    ("section" lines at column 0, "    name = value" lines under them,
    '#' comments) and is bounded to 64 KiB. */
#include "base/mu_internal.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define MU_CERT_MAX_BYTES (64 * 1024)       /* larger files are not certs */
#define MU_SECRET_SUFFIX "_secret"
#define MU_KDF_CONTEXT "mu_keys_"           /* crypto_kdf context: 8 bytes */
#define MU_SALT_SOURCE "mutil mu_keys shared-secret salt, version 1"

struct mu_keys_t {
    uint8_t public_key[MU_KEY_BYTES];
    uint8_t secret_key[MU_KEY_BYTES];
    bool has_secret;
    char public_txt[MU_KEY_TEXT];
};

struct mu_allow_t {
    bool any;                           /* made by mu_allow_new_any */
    uint8_t (*keys)[MU_KEY_BYTES];      /* sorted by memcmp, no duplicates */
    size_t size, capacity;
};

/* ---- helpers ------------------------------------------------------------- */

/*  sodium_init() is idempotent and thread-safe; it fails only when the
    system gives no randomness. Returns 0 or MU_EIO. */
static int
sodium_ready(void)
{
    return sodium_init() < 0 ? MU_EIO : 0;
}

/*  True when secret_key is the secret of public_key. */
static bool
keys_match(const uint8_t *public_key, const uint8_t *secret_key)
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
    if (self == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(self->public_key, public_key, MU_KEY_BYTES);
    if (secret_key) {
        memcpy(self->secret_key, secret_key, MU_KEY_BYTES);
        self->has_secret = true;
    }
    mu_key_to_txt(self->public_key, self->public_txt);
    return self;
}

static bool
ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && strcmp(text + n - m, suffix) == 0;
}

/* ---- Z85 ----------------------------------------------------------------- */

void
mu_key_to_txt(const uint8_t *key, char *text)
{
    assert(key && text);
    char *done = zmq_z85_encode(text, key, MU_KEY_BYTES);
    assert(done);       /* 32 is a multiple of 4: cannot fail */
    (void) done;
}

int
mu_key_from_txt(const char *text, uint8_t *key)
{
    assert(key);
    if (text == NULL || strlen(text) != MU_KEY_TEXT - 1)
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
    if (sodium_ready() != 0) {
        errno = EIO;
        return NULL;
    }
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
    if (secret == NULL || size < MU_KEYS_SECRET_MIN
        || (role != MU_KEYS_SERVER && role != MU_KEYS_CLIENT)) {
        errno = EINVAL;
        return NULL;
    }
    if (sodium_ready() != 0) {
        errno = EIO;
        return NULL;
    }
    uint8_t salt[crypto_pwhash_SALTBYTES];
    uint8_t master[crypto_kdf_KEYBYTES];
    uint8_t seed[crypto_box_SEEDBYTES];
    uint8_t public_key[MU_KEY_BYTES], secret_key[MU_KEY_BYTES];
    derivation_salt(salt);
    mu_keys_t *self = NULL;
    if (crypto_pwhash(master, sizeof master, secret, size, salt,
                      crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        errno = ENOMEM;     /* the only way it fails with valid limits */
    else if (crypto_kdf_derive_from_key(seed, sizeof seed, (uint64_t) role, MU_KDF_CONTEXT,
                                        master) != 0
             || crypto_box_seed_keypair(public_key, secret_key, seed) != 0)
        errno = EINVAL;     /* unreachable with these constant sizes */
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
    if (public_key == NULL || (secret_key && !keys_match(public_key, secret_key))) {
        errno = EINVAL;
        return NULL;
    }
    return keys_alloc(public_key, secret_key);
}

mu_keys_t *
mu_keys_new_public_txt(const char *public_txt)
{
    uint8_t public_key[MU_KEY_BYTES];
    if (mu_key_from_txt(public_txt, public_key) != 0) {
        errno = EINVAL;
        return NULL;
    }
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

/* ---- reading files --------------------------------------------------------- */

/*  Opens path for reading and checks what it is: a regular file, and when
    private is true, one reached without a symbolic link (O_NOFOLLOW) that
    grants group and others nothing. Returns the descriptor, or -errno of
    open/fstat, MU_EISDIR, MU_ENOTREG or MU_EINSECURE. */
static int
open_regular(const char *path, bool private)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (private ? O_NOFOLLOW : 0));
    if (fd < 0)
        return private && errno == ELOOP ? MU_EINSECURE : -errno;
    struct stat st;
    int rc = fstat(fd, &st) != 0 ? -errno
             : S_ISDIR(st.st_mode) ? MU_EISDIR
             : !S_ISREG(st.st_mode) ? MU_ENOTREG
             : private && (st.st_mode & 077) != 0 ? MU_EINSECURE : 0;
    if (rc != 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/*  Reads a whole regular file of at most max bytes into a malloc'd buffer
    (NUL-terminated; *size_p excludes the NUL); private as for
    open_regular. Returns 0, an error of open_regular or read, MU_EFBIG
    (larger than max) or MU_ENOMEM. The buffer is wiped on failure. */
static int
read_whole_file(const char *path, bool private, size_t max, char **data_p, size_t *size_p)
{
    int fd = open_regular(path, private);
    if (fd < 0)
        return fd;
    /* Read one byte more than allowed to see a file that grew. */
    char *data = malloc(max + 2);
    if (data == NULL) {
        close(fd);
        return MU_ENOMEM;
    }
    size_t size = 0;
    int rc = 0;
    while (size <= max) {
        ssize_t n = read(fd, data + size, max + 1 - size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        size += (size_t) n;
    }
    close(fd);
    if (rc == 0 && size > max)
        rc = MU_EFBIG;
    if (rc != 0) {
        sodium_memzero(data, max + 2);
        free(data);
        return rc;
    }
    data[size] = '\0';
    *data_p = data;
    *size_p = size;
    return 0;
}

int
mu_keys_read_secret_file(const char *path, int flags, char **secret_p, size_t *size_p)
{
    assert(path && secret_p && size_p);
    if (flags & ~MU_KEYS_ALLOW_INSECURE)
        return MU_EINVAL;
    char *data;
    size_t size;
    /* Room for the passphrase and its CRLF; the limit is checked after. */
    int rc = read_whole_file(path, !(flags & MU_KEYS_ALLOW_INSECURE), MU_KEYS_SECRET_MAX + 2,
                             &data, &size);
    if (rc != 0)
        return rc;          /* MU_EFBIG when over 4098 bytes */
    size_t full = size;
    if (size > 0 && data[size - 1] == '\n') {
        size--;
        if (size > 0 && data[size - 1] == '\r')
            size--;
    }
    rc = size > MU_KEYS_SECRET_MAX ? MU_EFBIG : size < MU_KEYS_SECRET_MIN ? MU_EINVAL : 0;
    if (rc != 0) {
        sodium_memzero(data, full);
        free(data);
        return rc;
    }
    sodium_memzero(data + size, full - size);
    *secret_p = data;
    *size_p = size;
    return 0;
}

/* ---- the zcert format -------------------------------------------------------- */

/*  What a cert file holds. */
typedef struct {
    uint8_t public_key[MU_KEY_BYTES];
    uint8_t secret_key[MU_KEY_BYTES];
    bool has_public, has_secret;
} cert_t;

/*  Parses the value after '=' (quoted with " or ', or bare up to blank or
    '#') of a "name = value" line into value (size cap). Returns 0 or
    MU_EINVAL. */
static int
parse_value(const char *p, const char *end, char *value, size_t cap)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    const char *start = p, *stop;
    if (p < end && (*p == '"' || *p == '\'')) {
        char quote = *p++;
        start = p;
        while (p < end && *p != quote)
            p++;
        if (p == end)
            return MU_EINVAL;
        stop = p++;
    } else {
        while (p < end && *p != ' ' && *p != '\t' && *p != '#')
            p++;
        stop = p;
    }
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p < end && *p != '#')
        return MU_EINVAL;           /* trailing garbage */
    size_t n = (size_t) (stop - start);
    if (n >= cap)
        return MU_EINVAL;
    memcpy(value, start, n);
    value[n] = '\0';
    return 0;
}

/*  Handles one "    name = value" line of the curve section. */
static int
parse_curve_line(const char *p, const char *end, cert_t *cert)
{
    const char *name = p;
    while (p < end && *p != ' ' && *p != '\t' && *p != '=')
        p++;
    size_t name_len = (size_t) (p - name);
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end || *p != '=')
        return MU_EINVAL;
    char value[MU_KEY_TEXT + 1];
    bool is_public = name_len == 10 && memcmp(name, "public-key", 10) == 0;
    bool is_secret = name_len == 10 && memcmp(name, "secret-key", 10) == 0;
    if (!is_public && !is_secret)
        return 0;                   /* other curve entries are not ours */
    int rc = parse_value(p + 1, end, value, sizeof value);
    bool *seen = is_public ? &cert->has_public : &cert->has_secret;
    if (rc == 0 && !*seen)
        rc = mu_key_from_txt(value, is_public ? cert->public_key : cert->secret_key);
    else if (rc == 0)
        rc = MU_EINVAL;             /* the same key twice */
    sodium_memzero(value, sizeof value);
    if (rc == 0)
        *seen = true;
    return rc;
}

/*  Parses a cert file's text. Returns 0, MU_EINVAL (not a cert: no
    curve/public-key, bad syntax, bad Z85, a NUL byte) or MU_EMISMATCH (a
    secret key that does not belong to the public key). */
static int
parse_cert(const char *text, size_t size, cert_t *cert)
{
    memset(cert, 0, sizeof *cert);
    if (memchr(text, '\0', size))
        return MU_EINVAL;
    bool in_curve = false;
    const char *p = text, *end = text + size;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t) (end - p));
        const char *line_end = eol ? eol : end;
        if (line_end > p && line_end[-1] == '\r')
            line_end--;
        const char *q = p;
        while (q < line_end && *q == ' ')
            q++;
        if (q < line_end && *q != '#') {
            if (q == p) {           /* a section at column 0 */
                const char *name = q;
                while (q < line_end && *q != ' ' && *q != '\t' && *q != '#' && *q != '=')
                    q++;
                in_curve = q - name == 5 && memcmp(name, "curve", 5) == 0;
            } else if (in_curve && parse_curve_line(q, line_end, cert) != 0) {
                return MU_EINVAL;
            }
        }
        p = eol ? eol + 1 : end;
    }
    int rc = !cert->has_public ? MU_EINVAL
             : cert->has_secret && !keys_match(cert->public_key, cert->secret_key) ? MU_EMISMATCH
             : 0;
    if (rc != 0)
        sodium_memzero(cert, sizeof *cert);
    return rc;
}

/*  Reads and parses one cert file (private as for open_regular). Returns
    0, an error of read_whole_file, MU_EINVAL, MU_EMISMATCH or MU_ENOMEM. */
static int
load_cert(const char *path, bool private, cert_t *cert)
{
    char *text;
    size_t size;
    int rc = read_whole_file(path, private, MU_CERT_MAX_BYTES, &text, &size);
    if (rc == MU_EFBIG)
        return MU_EINVAL;           /* too big to be a cert */
    if (rc != 0)
        return rc;
    rc = parse_cert(text, size, cert);
    sodium_memzero(text, size);
    free(text);
    return rc;
}

/*  Loads path, a cert file; one that holds a secret key (the "_secret"
    file, or a public file that has one) must be private unless the flags
    allow otherwise. With MU_KEYS_PUBLIC_ONLY the secret key is dropped. */
static int
load_one(const char *path, int flags, cert_t *cert)
{
    bool strict = !(flags & (MU_KEYS_ALLOW_INSECURE | MU_KEYS_PUBLIC_ONLY));
    int rc = load_cert(path, strict && ends_with(path, MU_SECRET_SUFFIX), cert);
    if (rc == 0 && cert->has_secret && (flags & MU_KEYS_PUBLIC_ONLY)) {
        sodium_memzero(cert->secret_key, MU_KEY_BYTES);
        cert->has_secret = false;
    }
    if (rc == 0 && cert->has_secret && strict && !ends_with(path, MU_SECRET_SUFFIX))
        rc = load_cert(path, true, cert);   /* again, now as the secret file it is */
    return rc;
}

/*  The public file's keys, completed by its "_secret" file when there is
    one (and flags want it). Returns 0 or an error code. */
static int
load_pair(const char *path, int flags, cert_t *cert)
{
    int rc = load_one(path, flags, cert);
    if (rc != 0 || ends_with(path, MU_SECRET_SUFFIX) || (flags & MU_KEYS_PUBLIC_ONLY))
        return rc;
    size_t n = strlen(path) + sizeof MU_SECRET_SUFFIX;
    char *secret_path = malloc(n);
    if (secret_path == NULL)
        return MU_ENOMEM;
    snprintf(secret_path, n, "%s%s", path, MU_SECRET_SUFFIX);
    cert_t secret;
    rc = load_one(secret_path, flags, &secret);
    free(secret_path);
    if (rc == MU_ENOENT)
        return 0;                   /* a public-only cert */
    if (rc == 0 && !secret.has_secret)
        rc = MU_EINVAL;             /* a "_secret" file without the secret */
    else if (rc == 0 && memcmp(secret.public_key, cert->public_key, MU_KEY_BYTES) != 0)
        rc = MU_EMISMATCH;          /* the secret file is of another key */
    if (rc == 0) {
        memcpy(cert->secret_key, secret.secret_key, MU_KEY_BYTES);
        cert->has_secret = true;
    }
    sodium_memzero(&secret, sizeof secret);
    return rc;
}

mu_keys_t *
mu_keys_load(const char *path, int flags)
{
    assert(path);
    cert_t cert;
    int rc = (flags & ~(MU_KEYS_ALLOW_INSECURE | MU_KEYS_PUBLIC_ONLY)) ? MU_EINVAL
             : load_pair(path, flags, &cert);
    mu_keys_t *self = NULL;
    if (rc == 0)
        self = keys_alloc(cert.public_key, cert.has_secret ? cert.secret_key : NULL);
    else
        errno = -rc;
    sodium_memzero(&cert, sizeof cert);
    return self;
}

/* ---- writing files ---------------------------------------------------------- */

/*  Formats a cert (public only when secret_txt is NULL) into buf. */
static int
format_cert(char *buf, size_t cap, const char *public_txt, const char *secret_txt)
{
    int n = snprintf(buf, cap,
                     "#   ****  Generated by mutil %d.%d.%d (mu_keys_save)  ****\n"
                     "#   ZeroMQ CURVE %s Certificate\n"
                     "#   %s\n"
                     "\n"
                     "metadata\n"
                     "    created-by = \"mutil %d.%d.%d\"\n"
                     "curve\n"
                     "    public-key = \"%s\"\n"
                     "%s%s%s",
                     MU_VERSION_MAJOR, MU_VERSION_MINOR, MU_VERSION_PATCH,
                     secret_txt ? "**Secret**" : "Public",
                     secret_txt ? "Keep this file private: never share it nor relax its mode."
                                : "Exchange it over a trusted channel, or verify it after.",
                     MU_VERSION_MAJOR, MU_VERSION_MINOR, MU_VERSION_PATCH, public_txt,
                     secret_txt ? "    secret-key = \"" : "", secret_txt ? secret_txt : "",
                     secret_txt ? "\"\n" : "");
    return n > 0 && (size_t) n < cap ? n : MU_EINVAL;
}

static int
write_all(int fd, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        data += n;
        size -= (size_t) n;
    }
    return 0;
}

/*  fsyncs the directory of path so a rename survives a crash. */
static int
sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int) (slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 || errno == EINVAL ? 0 : -errno;
    close(fd);
    return rc;
}

/*  Writes size bytes to path through a hidden temporary file in the same
    directory, created 0600 by mkostemp and given mode before any byte is
    written, then fsync'ed and renamed over path. */
static int
write_file_atomic(const char *path, const char *data, size_t size, mode_t mode)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t) (slash - path) + 1 : 0;
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%.*s.%s.XXXXXX", (int) dir_len, path, path + dir_len);
    if (n < 0 || (size_t) n >= sizeof tmp)
        return MU_EINVAL;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (mode != 0600 && fchmod(fd, mode) != 0)
        rc = -errno;
    if (rc == 0)
        rc = write_all(fd, data, size);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    else
        rc = sync_parent(path);
    return rc;
}

int
mu_keys_save(const mu_keys_t *self, const char *path)
{
    assert(self && path);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    /* Room for "_secret" and the temporary name's "." and ".XXXXXX". */
    if (*base == '\0' || strlen(path) + sizeof MU_SECRET_SUFFIX + 8 >= PATH_MAX)
        return MU_EINVAL;
    char text[1024];
    int rc = 0;
    /* The secret first: a failure in between leaves a pair that
       mu_keys_load refuses (mismatch) rather than a silently old secret. */
    if (self->has_secret) {
        char secret_txt[MU_KEY_TEXT];
        char secret_path[PATH_MAX];
        mu_key_to_txt(self->secret_key, secret_txt);
        snprintf(secret_path, sizeof secret_path, "%s%s", path, MU_SECRET_SUFFIX);
        int n = format_cert(text, sizeof text, self->public_txt, secret_txt);
        rc = n < 0 ? n : write_file_atomic(secret_path, text, (size_t) n, 0600);
        sodium_memzero(secret_txt, sizeof secret_txt);
        sodium_memzero(text, sizeof text);
    }
    if (rc == 0) {
        int n = format_cert(text, sizeof text, self->public_txt, NULL);
        rc = n < 0 ? n : write_file_atomic(path, text, (size_t) n, 0644);
    }
    return rc;
}

/* ---- allow-lists -------------------------------------------------------------- */

static mu_allow_t *
allow_alloc(bool any)
{
    mu_allow_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    self->any = any;
    return self;
}

mu_allow_t *
mu_allow_new(void)
{
    return allow_alloc(false);
}

mu_allow_t *
mu_allow_new_any(void)
{
    return allow_alloc(true);
}

/*  Index of the first key >= key in the sorted array. */
static size_t
allow_lower_bound(const mu_allow_t *self, const uint8_t *key)
{
    size_t lo = 0, hi = self->size;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(self->keys[mid], key, MU_KEY_BYTES) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int
mu_allow_add(mu_allow_t *self, const uint8_t *public_key)
{
    assert(self && public_key);
    size_t at = allow_lower_bound(self, public_key);
    if (at < self->size && memcmp(self->keys[at], public_key, MU_KEY_BYTES) == 0)
        return 0;
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 16;
        void *keys = realloc(self->keys, capacity * MU_KEY_BYTES);
        if (keys == NULL)
            return MU_ENOMEM;
        self->keys = keys;
        self->capacity = capacity;
    }
    memmove(self->keys[at + 1], self->keys[at], (self->size - at) * MU_KEY_BYTES);
    memcpy(self->keys[at], public_key, MU_KEY_BYTES);
    self->size++;
    return 0;
}

int
mu_allow_load_dir(mu_allow_t *self, const char *dir, int *skipped_p)
{
    assert(self && dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return -errno;
    int added = 0, skipped = 0, rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir(d)) != NULL) {
        const char *name = entry->d_name;
        if (name[0] == '.' || ends_with(name, MU_SECRET_SUFFIX))
            continue;               /* hidden (our temporaries) or secret */
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s", dir, name);
        struct stat st;
        if (n < 0 || (size_t) n >= sizeof path || stat(path, &st) != 0
            || !S_ISREG(st.st_mode))
            continue;               /* gone, dangling link, directory... */
        cert_t cert;
        int lrc = load_cert(path, false, &cert);
        if (lrc == MU_ENOMEM)
            rc = MU_ENOMEM;
        else if (lrc != 0)
            skipped++;
        else if ((rc = mu_allow_add(self, cert.public_key)) == 0)
            added++;
        sodium_memzero(&cert, sizeof cert);
    }
    closedir(d);
    if (skipped_p)
        *skipped_p = skipped;
    return rc != 0 ? rc : added;
}

int
mu_allow_contains(const mu_allow_t *self, const uint8_t *public_key)
{
    assert(self && public_key);
    if (self->any)
        return 1;
    size_t at = allow_lower_bound(self, public_key);
    return at < self->size && memcmp(self->keys[at], public_key, MU_KEY_BYTES) == 0;
}

int
mu_allow_is_any(const mu_allow_t *self)
{
    assert(self);
    return self->any;
}

size_t
mu_allow_size(const mu_allow_t *self)
{
    assert(self);
    return self->size;
}

mu_allow_t *
mu_allow_dup(const mu_allow_t *self)
{
    assert(self);
    mu_allow_t *copy = allow_alloc(self->any);
    if (copy && self->size > 0) {
        copy->keys = malloc(self->size * MU_KEY_BYTES);
        if (copy->keys == NULL) {
            free(copy);
            errno = ENOMEM;
            return NULL;
        }
        memcpy(copy->keys, self->keys, self->size * MU_KEY_BYTES);
        copy->size = copy->capacity = self->size;
    }
    return copy;
}

void
mu_allow_destroy(mu_allow_t **self_p)
{
    if (self_p && *self_p) {
        free((*self_p)->keys);
        free(*self_p);
        *self_p = NULL;
    }
}

/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_cert.c — CURVE keys in files: czmq's zcert text format (parsed
    and written here), mu_keys_load, mu_keys_save and passphrase files.
    The contract is in include/mu_keys.h; why czmq's zcert is not used is
    in doc/keys.md.

    The reader understands the subset of the zconfig text format that certs
    use ("section" lines at column 0, "    name = value" lines under them,
    '#' comments) and is bounded to 64 KiB. */
#include "net/mu_keys_int.h"
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MU_CERT_MAX_BYTES (64 * 1024) /* larger files are not certs */

bool
mu__cert_is_secret_name(const char *name)
{
    size_t n = strlen(name), m = strlen(MU_SECRET_SUFFIX);
    return n >= m && strcmp(name + n - m, MU_SECRET_SUFFIX) == 0;
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
    int rc = fstat(fd, &st) != 0                  ? -errno
             : S_ISDIR(st.st_mode)                ? MU_EISDIR
             : !S_ISREG(st.st_mode)               ? MU_ENOTREG
             : private && (st.st_mode & 077) != 0 ? MU_EINSECURE
                                                  : 0;
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
    assert(path && secret_p && size_p && !(flags & ~MU_KEYS_ALLOW_INSECURE));
    char *data;
    size_t size;
    /* Room for the passphrase and its CRLF; the limit is checked after. */
    int rc = read_whole_file(path, !(flags & MU_KEYS_ALLOW_INSECURE), MU_KEYS_SECRET_MAX + 2, &data,
                             &size);
    if (rc != 0) /* MU_EFBIG when over 4098 bytes */
        return mu__fail(rc, "passphrase file '%s'", path);
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
        return mu__fail(rc, "passphrase file '%s': %zu bytes, %d..%d allowed", path, size,
                        MU_KEYS_SECRET_MIN, MU_KEYS_SECRET_MAX);
    }
    sodium_memzero(data + size, full - size);
    *secret_p = data;
    *size_p = size;
    return 0;
}

/* ---- the zcert format -------------------------------------------------------- */

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
        return MU_EINVAL; /* trailing garbage */
    size_t n = (size_t) (stop - start);
    if (n >= cap)
        return MU_EINVAL;
    memcpy(value, start, n);
    value[n] = '\0';
    return 0;
}

/*  Handles one "    name = value" line of the curve section. */
static int
parse_curve_line(const char *p, const char *end, mu__cert_t *cert)
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
        return 0; /* other curve entries are not ours */
    int rc = parse_value(p + 1, end, value, sizeof value);
    bool *seen = is_public ? &cert->has_public : &cert->has_secret;
    if (rc == 0 && !*seen)
        rc = mu_key_from_txt(value, is_public ? cert->public_key : cert->secret_key);
    else if (rc == 0)
        rc = MU_EINVAL; /* the same key twice */
    sodium_memzero(value, sizeof value);
    if (rc == 0)
        *seen = true;
    return rc;
}

/*  Parses a cert file's text. Returns 0, MU_EINVAL (not a cert: no
    curve/public-key, bad syntax, bad Z85, a NUL byte) or MU_EMISMATCH (a
    secret key that does not belong to the public key); what is wrong goes
    to why (cap bytes). */
static int
parse_cert(const char *text, size_t size, mu__cert_t *cert, char *why, size_t cap)
{
    memset(cert, 0, sizeof *cert);
    if (memchr(text, '\0', size)) {
        snprintf(why, cap, "a NUL byte: not a cert");
        return MU_EINVAL;
    }
    bool in_curve = false;
    const char *p = text, *end = text + size;
    for (int line = 1; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t) (end - p));
        const char *line_end = eol ? eol : end;
        if (line_end > p && line_end[-1] == '\r')
            line_end--;
        const char *q = p;
        while (q < line_end && *q == ' ')
            q++;
        if (q < line_end && *q != '#') {
            if (q == p) { /* a section at column 0 */
                const char *name = q;
                while (q < line_end && *q != ' ' && *q != '\t' && *q != '#' && *q != '=')
                    q++;
                in_curve = q - name == 5 && memcmp(name, "curve", 5) == 0;
            } else if (in_curve && parse_curve_line(q, line_end, cert) != 0) {
                snprintf(why, cap, "line %d: a bad or repeated curve key", line);
                sodium_memzero(cert, sizeof *cert);
                return MU_EINVAL;
            }
        }
        p = eol ? eol + 1 : end;
    }
    int rc = 0;
    if (!cert->has_public) {
        snprintf(why, cap, "no curve public-key: not a cert");
        rc = MU_EINVAL;
    } else if (cert->has_secret && !mu__keys_match(cert->public_key, cert->secret_key)) {
        snprintf(why, cap, "its secret key is not its public key's");
        rc = MU_EMISMATCH;
    }
    if (rc != 0)
        sodium_memzero(cert, sizeof *cert);
    return rc;
}

int
mu__cert_load(const char *path, bool private, mu__cert_t *cert)
{
    char *text;
    size_t size;
    int rc = read_whole_file(path, private, MU_CERT_MAX_BYTES, &text, &size);
    if (rc == MU_EFBIG)
        return mu__fail(MU_EINVAL, "key file '%s': over %d KiB: not a cert", path,
                        MU_CERT_MAX_BYTES / 1024);
    if (rc != 0)
        return mu__fail(rc, "key file '%s'", path);
    char why[128];
    rc = parse_cert(text, size, cert, why, sizeof why);
    sodium_memzero(text, size);
    free(text);
    return rc != 0 ? mu__fail(rc, "key file '%s': %s", path, why) : 0;
}

/*  Loads path, a cert file; one that holds a secret key (the "_secret"
    file, or a public file that has one) must be private unless the flags
    allow otherwise. With MU_KEYS_PUBLIC_ONLY the secret key is dropped. */
static int
load_one(const char *path, int flags, mu__cert_t *cert)
{
    bool strict = !(flags & (MU_KEYS_ALLOW_INSECURE | MU_KEYS_PUBLIC_ONLY));
    int rc = mu__cert_load(path, strict && mu__cert_is_secret_name(path), cert);
    if (rc == 0 && cert->has_secret && (flags & MU_KEYS_PUBLIC_ONLY)) {
        sodium_memzero(cert->secret_key, MU_KEY_BYTES);
        cert->has_secret = false;
    }
    if (rc == 0 && cert->has_secret && strict && !mu__cert_is_secret_name(path))
        rc = mu__cert_load(path, true, cert); /* again, now as the secret file it is */
    return rc;
}

/*  The public file's keys, completed by its "_secret" file when there is
    one (and flags want it). Returns 0 or an error code. */
static int
load_pair(const char *path, int flags, mu__cert_t *cert)
{
    int rc = load_one(path, flags, cert);
    if (rc != 0 || mu__cert_is_secret_name(path) || (flags & MU_KEYS_PUBLIC_ONLY))
        return rc;
    size_t n = strlen(path) + sizeof MU_SECRET_SUFFIX;
    char *secret_path = malloc(n);
    if (secret_path == NULL)
        return mu__fail(MU_ENOMEM, "key file '%s'", path);
    snprintf(secret_path, n, "%s%s", path, MU_SECRET_SUFFIX);
    mu__cert_t secret;
    rc = load_one(secret_path, flags, &secret);
    if (rc == MU_ENOENT)
        rc = 0; /* a public-only cert */
    else if (rc == 0 && !secret.has_secret)
        rc = mu__fail(MU_EINVAL, "key file '%s': no secret key", secret_path);
    else if (rc == 0 && memcmp(secret.public_key, cert->public_key, MU_KEY_BYTES) != 0)
        rc = mu__fail(MU_EMISMATCH,
                      "key file '%s' holds the secret of another public key "
                      "than '%s'",
                      secret_path, path);
    else if (rc == 0) {
        memcpy(cert->secret_key, secret.secret_key, MU_KEY_BYTES);
        cert->has_secret = true;
    }
    free(secret_path);
    sodium_memzero(&secret, sizeof secret);
    return rc;
}

mu_keys_t *
mu_keys_load(const char *path, int flags)
{
    assert(path && !(flags & ~(MU_KEYS_ALLOW_INSECURE | MU_KEYS_PUBLIC_ONLY)));
    mu__cert_t cert;
    int rc = load_pair(path, flags, &cert);
    mu_keys_t *self = NULL;
    if (rc == 0)
        self = mu_keys_new_from(cert.public_key, cert.has_secret ? cert.secret_key : NULL);
    else
        errno = mu_error_errno(rc); /* the detail is recorded where it failed */
    sodium_memzero(&cert, sizeof cert);
    return self;
}

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

int
mu_keys_save(const mu_keys_t *self, const char *path)
{
    assert(self && path);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    /* Room for "_secret" and the temporary name's "." and ".XXXXXX". */
    if (*base == '\0' || strlen(path) + sizeof MU_SECRET_SUFFIX + 8 >= PATH_MAX)
        return mu__fail(MU_EINVAL, "key file name '%.80s': empty or too long", path);
    char text[1024];
    int rc = 0;
    /* The secret first: a failure in between leaves a pair that
       mu_keys_load refuses (mismatch) rather than a silently old secret. */
    if (mu_keys_secret(self)) {
        char secret_txt[MU_KEY_TEXT];
        char secret_path[PATH_MAX];
        mu_key_to_txt(mu_keys_secret(self), secret_txt);
        snprintf(secret_path, sizeof secret_path, "%s%s", path, MU_SECRET_SUFFIX);
        int n = format_cert(text, sizeof text, mu_keys_public_txt(self), secret_txt);
        rc = n < 0 ? n : mu__atomic_write(secret_path, text, (size_t) n, 0600);
        sodium_memzero(secret_txt, sizeof secret_txt);
        sodium_memzero(text, sizeof text);
        if (rc != 0)
            return mu__fail(rc, "writing '%s'", secret_path);
    }
    int n = format_cert(text, sizeof text, mu_keys_public_txt(self), NULL);
    rc = n < 0 ? n : mu__atomic_write(path, text, (size_t) n, 0644);
    return rc != 0 ? mu__fail(rc, "writing '%s'", path) : 0;
}

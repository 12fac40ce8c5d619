/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_keys.c — mu_keys (keypairs, zcert files, shared secrets, passphrase
    files, allow-lists) and the private ZAP handler of src/net/mu_zap.c, which is
    compiled into this program (its symbols are hidden in libmutil), tested
    with real CURVE and NULL handshakes over tcp://127.0.0.1. */
#include "mu_test.h"
#include "net/mu_zap.h"
#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static char tmpdir[64];

/*  tmpdir/name in a static buffer (one of four, so several may be live). */
static const char *
tmp_path(const char *name)
{
    static char paths[4][256];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", tmpdir, name);
    return p;
}

/*  Writes path with mode 0600 (secrets must be private; tests that want
    another mode chmod it). */
static int
write_text(const char *path, const char *text, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, size);
    int rc = fchmod(fd, 0600);
    return close(fd) == 0 && rc == 0 && n == (ssize_t) size ? 0 : -1;
}

static int
write_str(const char *path, const char *text)
{
    return write_text(path, text, strlen(text));
}

static int
file_mode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int) (st.st_mode & 07777) : -1;
}

static int
count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static int
same_keys(const mu_keys_t *a, const mu_keys_t *b)
{
    if (memcmp(mu_keys_public(a), mu_keys_public(b), MU_KEY_BYTES) != 0)
        return 0;
    if ((mu_keys_secret(a) == NULL) != (mu_keys_secret(b) == NULL))
        return 0;
    return mu_keys_secret(a) == NULL
           || memcmp(mu_keys_secret(a), mu_keys_secret(b), MU_KEY_BYTES) == 0;
}

/*  Loads path with flags expecting failure; returns the failure's code
    negated (-mu_last_code(): ENOENT, -MU_EINSECURE...; 0 if it loaded),
    or 9999 when errno is not the code's nearest errno or the detail does
    not name the file. */
static int
load_flags_errno(const char *path, int flags)
{
    errno = 0;
    mu_keys_t *keys = mu_keys_load(path, flags);
    if (keys) {
        mu_keys_destroy(&keys);
        return 0;
    }
    int code = mu_last_code();
    if (errno != mu_error_errno(code) || !strstr(mu_last_error(), "key file '"))
        return 9999; /* matches no expected value */
    return -code;
}

static int
load_errno(const char *path)
{
    return load_flags_errno(path, 0);
}

/*  Runs fn(path) without the power to bypass file modes and returns its
    result (a positive errno, at most 255). Root reads any file, so for
    root (as in the CI) fn runs in a forked child that became "nobody"; the
    child touches no ZeroMQ and leaves with _exit. Others run fn here. */
static int
without_root(int (*fn)(const char *), const char *path)
{
    if (geteuid() != 0)
        return fn(path);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(255);
        _exit(fn(path) & 0xff);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int
load_errno_fn(const char *path)
{
    return load_errno(path);
}

static int
load_dir_errno_fn(const char *path)
{
    mu_allow_t *allow = mu_allow_new();
    int skipped, rc = allow ? mu_allow_load_dir(allow, path, &skipped) : MU_ENOMEM;
    mu_allow_destroy(&allow);
    return rc < 0 ? -rc : 0;
}

static int
secret_file_errno_fn(const char *path)
{
    char *secret = NULL;
    size_t size;
    int rc = mu_keys_read_secret_file(path, 0, &secret, &size);
    free(secret);
    return -rc;
}

/* ---- keypairs and files --------------------------------------------------- */

static void
test_generate_save_load(void)
{
    mu_keys_t *keys = mu_keys_new();
    MU_CHECK(keys);
    MU_CHECK(mu_keys_secret(keys) != NULL);
    MU_CHECK_EQ(strlen(mu_keys_public_txt(keys)), 40);
    uint8_t decoded[MU_KEY_BYTES];
    MU_CHECK_EQ(mu_key_from_txt(mu_keys_public_txt(keys), decoded), 0);
    MU_CHECK(memcmp(decoded, mu_keys_public(keys), MU_KEY_BYTES) == 0);

    mu_keys_t *other = mu_keys_new();
    MU_CHECK(other);
    MU_CHECK(!same_keys(keys, other));
    mu_keys_destroy(&other);

    MU_CHECK_EQ(mu_keys_save(keys, tmp_path("rt")), 0);
    mu_keys_t *loaded = mu_keys_load(tmp_path("rt"), 0);
    MU_CHECK(loaded);
    MU_CHECK(same_keys(keys, loaded));
    MU_CHECK_EQ(strcmp(mu_keys_public_txt(loaded), mu_keys_public_txt(keys)), 0);

    /* Naming the secret file itself loads the pair too. */
    mu_keys_t *from_secret = mu_keys_load(tmp_path("rt_secret"), 0);
    MU_CHECK(from_secret);
    MU_CHECK(same_keys(keys, from_secret));

    mu_keys_t *copy = mu_keys_dup(keys);
    MU_CHECK(copy);
    MU_CHECK(same_keys(keys, copy));

    /* Saving again replaces the files. */
    mu_keys_t *fresh = mu_keys_new();
    MU_CHECK(fresh);
    MU_CHECK_EQ(mu_keys_save(fresh, tmp_path("rt")), 0);
    mu_keys_t *reloaded = mu_keys_load(tmp_path("rt"), 0);
    MU_CHECK(reloaded);
    MU_CHECK(same_keys(fresh, reloaded));

    mu_keys_destroy(&keys);
    mu_keys_destroy(&loaded);
    mu_keys_destroy(&from_secret);
    mu_keys_destroy(&copy);
    mu_keys_destroy(&fresh);
    mu_keys_destroy(&reloaded);
    MU_CHECK(reloaded == NULL);
    mu_keys_destroy(&reloaded); /* *self_p NULL */
    mu_keys_destroy(NULL);
}

static void
test_file_modes(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/modes", tmpdir);
    MU_CHECK_EQ(mkdir(dir, 0755), 0);
    mu_keys_t *keys = mu_keys_new();
    MU_CHECK(keys);
    char path[300], secret[320];
    snprintf(path, sizeof path, "%s/k", dir);
    snprintf(secret, sizeof secret, "%s/k_secret", dir);

    /* The modes are set explicitly, whatever the umask. */
    mode_t old = umask(0);
    int rc = mu_keys_save(keys, path);
    umask(old);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK_EQ(file_mode(path), 0644);
    MU_CHECK_EQ(file_mode(secret), 0600);

    old = umask(077);
    rc = mu_keys_save(keys, path);
    umask(old);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK_EQ(file_mode(path), 0644);
    MU_CHECK_EQ(file_mode(secret), 0600);
    /* No temporary file is left behind. */
    MU_CHECK_EQ(count_entries(dir), 2);

    /* The zcert sections and the metadata line. */
    char *text = NULL;
    size_t size = 0;
    MU_CHECK_EQ(mu_keys_read_secret_file(secret, 0, &text, &size), 0);
    MU_CHECK(strstr(text, "\ncurve\n    public-key = \"") != NULL);
    MU_CHECK(strstr(text, "    secret-key = \"") != NULL);
    MU_CHECK(strstr(text, "    created-by = \"mutil ") != NULL);
    free(text);
    MU_CHECK_EQ(mu_keys_read_secret_file(path, MU_KEYS_ALLOW_INSECURE, &text, &size), 0);
    MU_CHECK(strstr(text, mu_keys_public_txt(keys)) != NULL);
    MU_CHECK(strstr(text, "secret-key") == NULL);
    free(text);
    mu_keys_destroy(&keys);
}

static void
test_czmq_interop(void)
{
    /* Ours → czmq. */
    mu_keys_t *keys = mu_keys_new();
    MU_CHECK(keys);
    MU_CHECK_EQ(mu_keys_save(keys, tmp_path("ours")), 0);
    zcert_t *cert = zcert_load(tmp_path("ours"));
    MU_CHECK(cert);
    MU_CHECK(memcmp(zcert_public_key(cert), mu_keys_public(keys), MU_KEY_BYTES) == 0);
    MU_CHECK(memcmp(zcert_secret_key(cert), mu_keys_secret(keys), MU_KEY_BYTES) == 0);
    MU_CHECK_EQ(strcmp(zcert_public_txt(cert), mu_keys_public_txt(keys)), 0);
    MU_CHECK_EQ(strncmp(zcert_meta(cert, "created-by"), "mutil ", 6), 0);
    zcert_destroy(&cert);

    /* czmq → ours: a full pair and a public-only cert. */
    zcert_t *theirs = zcert_new();
    MU_CHECK(theirs);
    zcert_set_meta(theirs, "name", "%s", "czmq made this");
    MU_CHECK_EQ(zcert_save(theirs, tmp_path("theirs")), 0);
    MU_CHECK_EQ(zcert_save_public(theirs, tmp_path("theirs_pub")), 0);
    mu_keys_t *loaded = mu_keys_load(tmp_path("theirs"), 0);
    MU_CHECK(loaded);
    MU_CHECK(memcmp(mu_keys_public(loaded), zcert_public_key(theirs), MU_KEY_BYTES) == 0);
    MU_CHECK(mu_keys_secret(loaded) != NULL);
    MU_CHECK(memcmp(mu_keys_secret(loaded), zcert_secret_key(theirs), MU_KEY_BYTES) == 0);
    mu_keys_t *pub = mu_keys_load(tmp_path("theirs_pub"), 0);
    MU_CHECK(pub);
    MU_CHECK(mu_keys_secret(pub) == NULL);
    MU_CHECK(memcmp(mu_keys_public(pub), zcert_public_key(theirs), MU_KEY_BYTES) == 0);
    zcert_destroy(&theirs);
    mu_keys_destroy(&keys);
    mu_keys_destroy(&loaded);
    mu_keys_destroy(&pub);
}

static void
test_public_only(void)
{
    mu_keys_t *full = mu_keys_new();
    MU_CHECK(full);
    mu_keys_t *pub = mu_keys_new_public_txt(mu_keys_public_txt(full));
    MU_CHECK(pub);
    MU_CHECK(mu_keys_secret(pub) == NULL);
    MU_CHECK(memcmp(mu_keys_public(pub), mu_keys_public(full), MU_KEY_BYTES) == 0);

    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/pubonly", tmpdir);
    MU_CHECK_EQ(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/p", dir);
    MU_CHECK_EQ(mu_keys_save(pub, path), 0);
    MU_CHECK_EQ(count_entries(dir), 1); /* no _secret file */
    MU_CHECK_EQ(file_mode(path), 0644);
    mu_keys_t *loaded = mu_keys_load(path, 0);
    MU_CHECK(loaded);
    MU_CHECK(mu_keys_secret(loaded) == NULL);
    MU_CHECK(same_keys(loaded, pub));
    mu_keys_t *copy = mu_keys_dup(loaded);
    MU_CHECK(copy);
    MU_CHECK(mu_keys_secret(copy) == NULL);

    /* mu_keys_new_from: public only, matching pair, mismatched pair. */
    mu_keys_t *raw = mu_keys_new_from(mu_keys_public(full), NULL);
    MU_CHECK(raw);
    MU_CHECK(mu_keys_secret(raw) == NULL);
    mu_keys_destroy(&raw);
    raw = mu_keys_new_from(mu_keys_public(full), mu_keys_secret(full));
    MU_CHECK(raw);
    MU_CHECK(same_keys(raw, full));
    mu_keys_destroy(&raw);
    mu_keys_t *other = mu_keys_new();
    MU_CHECK(other);
    errno = 0;
    MU_CHECK(mu_keys_new_from(mu_keys_public(full), mu_keys_secret(other)) == NULL);
    MU_CHECK_EQ(errno, EKEYREJECTED);
    MU_CHECK_EQ(mu_last_code(), MU_EMISMATCH);

    mu_keys_destroy(&other);
    mu_keys_destroy(&copy);
    mu_keys_destroy(&loaded);
    mu_keys_destroy(&pub);
    mu_keys_destroy(&full);
}

/*  A cert text with the given key lines (already formatted). */
static void
cert_text(char *buf, size_t cap, const char *public_txt, const char *secret_txt)
{
    snprintf(buf, cap,
             "#   a hand-written cert\n\nmetadata\n    name = \"x\"\ncurve\n"
             "    public-key = \"%s\"\n%s%s%s",
             public_txt, secret_txt ? "    secret-key = \"" : "", secret_txt ? secret_txt : "",
             secret_txt ? "\"\n" : "");
}

static void
test_load_errors(void)
{
    char text[512];
    MU_CHECK_EQ(load_errno(tmp_path("missing")), ENOENT);

    MU_CHECK_EQ(write_str(tmp_path("garbage"), "this is not a certificate\n"), 0);
    MU_CHECK_EQ(load_errno(tmp_path("garbage")), EINVAL);
    MU_CHECK_EQ(write_str(tmp_path("empty"), ""), 0);
    MU_CHECK_EQ(load_errno(tmp_path("empty")), EINVAL);
    MU_CHECK_EQ(write_str(tmp_path("nocurve"), "metadata\n    public-key = \"x\"\n"), 0);
    MU_CHECK_EQ(load_errno(tmp_path("nocurve")), EINVAL);
    MU_CHECK_EQ(write_text(tmp_path("binary"), "curve\n\0\n", 8), 0);
    MU_CHECK_EQ(load_errno(tmp_path("binary")), EINVAL);

    /* Bad Z85: a character outside the alphabet, a short key. */
    cert_text(text, sizeof text, "abcdefghij,bcdefghijabcdefghijabcdefghij", NULL);
    MU_CHECK_EQ(write_str(tmp_path("badz85"), text), 0);
    MU_CHECK_EQ(load_errno(tmp_path("badz85")), EINVAL);
    cert_text(text, sizeof text, "abcdefghij", NULL);
    MU_CHECK_EQ(write_str(tmp_path("shortkey"), text), 0);
    MU_CHECK_EQ(load_errno(tmp_path("shortkey")), EINVAL);
    /* An unterminated quote. */
    MU_CHECK_EQ(write_str(tmp_path("quote"), "curve\n    public-key = \"abc\n"), 0);
    MU_CHECK_EQ(load_errno(tmp_path("quote")), EINVAL);

    mu_keys_t *a = mu_keys_new(), *b = mu_keys_new();
    MU_CHECK(a && b);
    char a_secret[MU_KEY_TEXT], b_secret[MU_KEY_TEXT];
    mu_key_to_txt(mu_keys_secret(a), a_secret);
    mu_key_to_txt(mu_keys_secret(b), b_secret);

    /* A hand-written valid pair loads (the parser is not only ours). */
    cert_text(text, sizeof text, mu_keys_public_txt(a), a_secret);
    MU_CHECK_EQ(write_str(tmp_path("hand_secret"), text), 0);
    mu_keys_t *hand = mu_keys_load(tmp_path("hand_secret"), 0);
    MU_CHECK(hand);
    MU_CHECK(same_keys(hand, a));
    mu_keys_destroy(&hand);

    /* A secret file whose secret is not that of its public key. */
    cert_text(text, sizeof text, mu_keys_public_txt(a), b_secret);
    MU_CHECK_EQ(write_str(tmp_path("mixed_secret"), text), 0);
    MU_CHECK_EQ(load_errno(tmp_path("mixed_secret")), -MU_EMISMATCH);

    /* A public file of a with the (valid) secret file of b. */
    MU_CHECK_EQ(mu_keys_save(a, tmp_path("pa")), 0);
    MU_CHECK_EQ(mu_keys_save(b, tmp_path("pb")), 0);
    MU_CHECK_EQ(rename(tmp_path("pb_secret"), tmp_path("pa_secret")), 0);
    MU_CHECK_EQ(load_errno(tmp_path("pa")), -MU_EMISMATCH);
    /* ...which does not matter when only the public key is wanted. */
    mu_keys_t *only = mu_keys_load(tmp_path("pa"), MU_KEYS_PUBLIC_ONLY);
    MU_CHECK(only && mu_keys_secret(only) == NULL);
    MU_CHECK(memcmp(mu_keys_public(only), mu_keys_public(a), MU_KEY_BYTES) == 0);
    mu_keys_destroy(&only);
    /* A broken secret file next to a good public file. */
    MU_CHECK_EQ(write_str(tmp_path("pa_secret"), "garbage\n"), 0);
    MU_CHECK_EQ(load_errno(tmp_path("pa")), EINVAL);
    /* A secret file without a public file: the public file is missing. */
    MU_CHECK_EQ(mu_keys_save(b, tmp_path("pc")), 0);
    MU_CHECK_EQ(unlink(tmp_path("pc")), 0);
    MU_CHECK_EQ(load_errno(tmp_path("pc")), ENOENT);

    /* Over 64 KiB, even with a valid cert inside. */
    size_t big = 64 * 1024 + 1;
    char *huge = malloc(big + 1);
    MU_CHECK(huge);
    cert_text(text, sizeof text, mu_keys_public_txt(a), NULL);
    memset(huge, '#', big);
    huge[big] = '\0';
    memcpy(huge + big - strlen(text), text, strlen(text));
    huge[big - strlen(text) - 1] = '\n';
    MU_CHECK_EQ(write_text(tmp_path("huge"), huge, big), 0);
    free(huge);
    MU_CHECK_EQ(load_errno(tmp_path("huge")), EINVAL);

    /* A directory is not a cert; a path through a file is ENOTDIR. */
    MU_CHECK_EQ(load_errno(tmpdir), EISDIR);
    char through[300];
    snprintf(through, sizeof through, "%s/x", tmp_path("garbage"));
    MU_CHECK_EQ(load_errno(through), ENOTDIR);

    /* EACCES: a file without read permission (for root, checked as
       "nobody" in a child); the directory and ENOTDIR cases above need no
       such help. */
    MU_CHECK_EQ(mu_keys_save(a, tmp_path("locked")), 0);
    MU_CHECK_EQ(chmod(tmp_path("locked"), 0), 0);
    MU_CHECK_EQ(without_root(load_errno_fn, tmp_path("locked")), EACCES);
    /* The secret file is 0600: a user who is not its owner cannot load the
       pair (the public file alone is readable). */
    if (geteuid() == 0) {
        MU_CHECK_EQ(mu_keys_save(a, tmp_path("owned")), 0);
        MU_CHECK_EQ(without_root(load_errno_fn, tmp_path("owned")), EACCES);
        MU_CHECK_EQ(without_root(load_errno_fn, tmp_path("owned_secret")), EACCES);
        MU_CHECK_EQ(without_root(secret_file_errno_fn, tmp_path("owned_secret")), EACCES);
    }

    /* mu_keys_save: empty path, a path ending in '/', a path too long,
       a missing directory (-errno of the file calls). */
    MU_CHECK_EQ(mu_keys_save(a, ""), MU_EINVAL);
    MU_CHECK_EQ(mu_keys_save(a, tmp_path("dir/")), MU_EINVAL);
    char *long_path = malloc(5000);
    MU_CHECK(long_path);
    memset(long_path, 'a', 4999);
    long_path[4999] = '\0';
    int rc = mu_keys_save(a, long_path);
    free(long_path);
    MU_CHECK_EQ(rc, MU_EINVAL);
    MU_CHECK_EQ(mu_keys_save(a, tmp_path("nodir/k")), MU_ENOENT);
    MU_CHECK_EQ(mu_keys_save(a, through), MU_ENOTDIR);

    mu_keys_destroy(&a);
    mu_keys_destroy(&b);
}

static void
test_z85(void)
{
    /* The server public key of the zmq_curve(7) example. */
    static const uint8_t key[32] = { 0x54, 0xFC, 0xBA, 0x24, 0xE9, 0x32, 0x49, 0x96,
                                     0x93, 0x16, 0xFB, 0x61, 0x7C, 0x87, 0x2B, 0xB0,
                                     0xC1, 0xD1, 0xFF, 0x14, 0x80, 0x04, 0x27, 0xC5,
                                     0x94, 0xCB, 0xFA, 0xCF, 0x1B, 0xC2, 0xD6, 0x52 };
    static const char key_txt[] = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    /* The test vector of ZeroMQ's RFC 32 (8 bytes → "HelloWorld"), 4 times. */
    static const uint8_t hello[8] = { 0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B };
    uint8_t hello4[MU_KEY_BYTES];
    for (int i = 0; i < 4; i++)
        memcpy(hello4 + 8 * i, hello, 8);
    char hello_txt[MU_KEY_TEXT];
    mu_key_to_txt(hello4, hello_txt);
    MU_CHECK_EQ(strcmp(hello_txt, "HelloWorldHelloWorldHelloWorldHelloWorld"), 0);
    char text[MU_KEY_TEXT];
    mu_key_to_txt(key, text);
    MU_CHECK_EQ(strcmp(text, key_txt), 0);
    uint8_t back[MU_KEY_BYTES];
    MU_CHECK_EQ(mu_key_from_txt(key_txt, back), 0);
    MU_CHECK(memcmp(back, key, sizeof key) == 0);

    /* Bad text leaves the key untouched. */
    uint8_t untouched[MU_KEY_BYTES];
    memset(untouched, 0x5a, sizeof untouched);
    MU_CHECK_EQ(mu_key_from_txt("", untouched), MU_EINVAL);
    MU_CHECK_EQ(mu_key_from_txt("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf", untouched), MU_EINVAL);
    MU_CHECK_EQ(mu_key_from_txt("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7x", untouched), MU_EINVAL);
    MU_CHECK_EQ(mu_key_from_txt("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf~", untouched), MU_EINVAL);
    MU_CHECK_EQ(mu_key_from_txt("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf\"", untouched), MU_EINVAL);
    /* "#####" is 5 valid characters whose value exceeds 32 bits. */
    MU_CHECK_EQ(mu_key_from_txt("#####>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", untouched), MU_EINVAL);
    for (size_t i = 0; i < sizeof untouched; i++)
        MU_CHECK_EQ(untouched[i], 0x5a);

    mu_keys_t *keys = mu_keys_new_public_txt(key_txt);
    MU_CHECK(keys);
    MU_CHECK(memcmp(mu_keys_public(keys), key, sizeof key) == 0);
    MU_CHECK_EQ(strcmp(mu_keys_public_txt(keys), key_txt), 0);
    mu_keys_destroy(&keys);
    errno = 0;
    MU_CHECK(mu_keys_new_public_txt("not z85 at all") == NULL);
    MU_CHECK_EQ(errno, EINVAL);
}

/* Caller bugs are asserts: a child that derives keys for a role outside
   the enum dies of SIGABRT (it touches no ZeroMQ). */
static void
test_caller_bug_aborts(void)
{
    fflush(stdout);
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        mu_keys_t *keys = mu_keys_from_secret("long enough", 11, (mu_keys_role_t) 3);
        _exit(keys ? 0 : 1);
    }
    int status;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    MU_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

static void
test_shared_secret(void)
{
    static const char secret[] = "correct horse battery staple";
    int64_t start = mu_test_now_ms();
    mu_keys_t *server = mu_keys_from_secret(secret, strlen(secret), MU_KEYS_SERVER);
    int64_t took = mu_test_now_ms() - start;
    printf("# one derivation (Argon2id interactive) took %lld ms\n", (long long) took);
    mu_keys_t *server2 = mu_keys_from_secret(secret, strlen(secret), MU_KEYS_SERVER);
    mu_keys_t *client = mu_keys_from_secret(secret, strlen(secret), MU_KEYS_CLIENT);
    mu_keys_t *other = mu_keys_from_secret("correct horse battery stapler", 29, MU_KEYS_SERVER);
    MU_CHECK(server && server2 && client && other);
    MU_CHECK(same_keys(server, server2));
    MU_CHECK(memcmp(mu_keys_public(server), mu_keys_public(client), MU_KEY_BYTES) != 0);
    MU_CHECK(memcmp(mu_keys_public(server), mu_keys_public(other), MU_KEY_BYTES) != 0);
    /* Each derived pair is a real pair. */
    mu_keys_t *check = mu_keys_new_from(mu_keys_public(client), mu_keys_secret(client));
    MU_CHECK(check);
    mu_keys_destroy(&check);
    /* Binary secrets work; exactly 8 bytes is enough. */
    static const uint8_t binary[8] = { 0, 1, 2, 3, 0, 5, 6, 7 };
    mu_keys_t *bin = mu_keys_from_secret(binary, sizeof binary, MU_KEYS_CLIENT);
    MU_CHECK(bin);
    MU_CHECK(memcmp(mu_keys_public(bin), mu_keys_public(client), MU_KEY_BYTES) != 0);
    mu_keys_destroy(&bin);

    errno = 0;
    MU_CHECK(mu_keys_from_secret("1234567", 7, MU_KEYS_SERVER) == NULL);
    MU_CHECK_EQ(errno, EINVAL);

    mu_keys_destroy(&server);
    mu_keys_destroy(&server2);
    mu_keys_destroy(&client);
    mu_keys_destroy(&other);
}

/*  Reads path with mu_keys_read_secret_file and compares with expected
    (NULL: expect the error code rc). */
static int
secret_file_is(const char *path, const char *expected, size_t expected_size, int rc)
{
    char *secret = (char *) "untouched";
    size_t size = 12345;
    int got = mu_keys_read_secret_file(path, 0, &secret, &size);
    if (got != rc)
        return 0;
    if (rc != 0)
        return strcmp(secret, "untouched") == 0 && size == 12345;
    int same = size == expected_size && memcmp(secret, expected, size) == 0;
    sodium_memzero(secret, size);
    free(secret);
    return same;
}

static void
test_read_secret_file(void)
{
    const char *p = tmp_path("pass");
    MU_CHECK_EQ(write_str(p, "passphrase\n"), 0);
    MU_CHECK(secret_file_is(p, "passphrase", 10, 0));
    MU_CHECK_EQ(write_str(p, "passphrase\r\n"), 0);
    MU_CHECK(secret_file_is(p, "passphrase", 10, 0));
    MU_CHECK_EQ(write_str(p, "passphrase"), 0);
    MU_CHECK(secret_file_is(p, "passphrase", 10, 0));
    /* Only one newline is removed; inner bytes are kept. */
    MU_CHECK_EQ(write_str(p, "pass\nphrase\n\n"), 0);
    MU_CHECK(secret_file_is(p, "pass\nphrase\n", 12, 0));
    MU_CHECK_EQ(write_text(p, "12345678", 8), 0);
    MU_CHECK(secret_file_is(p, "12345678", 8, 0));

    /* 4096 bytes (with or without the newline) is the limit. */
    char *big = malloc(4200);
    MU_CHECK(big);
    memset(big, 'x', 4200);
    big[4096] = '\n';
    int rc = write_text(p, big, 4097);
    int fits = rc == 0 && secret_file_is(p, big, 4096, 0);
    big[4096] = '\r';
    big[4097] = '\n';
    int fits_crlf = write_text(p, big, 4098) == 0 && secret_file_is(p, big, 4096, 0);
    big[4096] = 'x';
    int too_big = write_text(p, big, 4097) == 0 && secret_file_is(p, NULL, 0, MU_EFBIG);
    int way_too_big = write_text(p, big, 4200) == 0 && secret_file_is(p, NULL, 0, MU_EFBIG);
    free(big);
    MU_CHECK(fits);
    MU_CHECK(fits_crlf);
    MU_CHECK(too_big);
    MU_CHECK(way_too_big);

    MU_CHECK_EQ(write_str(p, "short\n"), 0);
    MU_CHECK(secret_file_is(p, NULL, 0, MU_EINVAL));
    MU_CHECK_EQ(write_str(p, "1234567\r\n"), 0);
    MU_CHECK(secret_file_is(p, NULL, 0, MU_EINVAL));
    MU_CHECK(secret_file_is(tmp_path("no-such-pass"), NULL, 0, MU_ENOENT));
    MU_CHECK(secret_file_is(tmpdir, NULL, 0, MU_EISDIR));
    MU_CHECK(secret_file_is("/dev/null", NULL, 0, MU_ENOTREG));
    const char *fifo = tmp_path("fifo");
    MU_CHECK_EQ(mkfifo(fifo, 0600), 0);
    MU_CHECK(secret_file_is(fifo, NULL, 0, MU_ENOTREG)); /* at once: no writer needed */
}

/*  Reads path with flags; returns the code (the secret is freed). */
static int
read_secret_rc(const char *path, int flags)
{
    char *secret = NULL;
    size_t size = 0;
    int rc = mu_keys_read_secret_file(path, flags, &secret, &size);
    if (rc == 0) {
        sodium_memzero(secret, size);
        free(secret);
    }
    return rc;
}

/*  A passphrase file must be private and named directly, like an ssh key:
    any access for group or others, or a symbolic link, is MU_EINSECURE;
    MU_KEYS_ALLOW_INSECURE accepts both. */
static void
test_secret_file_private(void)
{
    char dir[256], p[300], link[300], via[320];
    snprintf(dir, sizeof dir, "%s/private", tmpdir);
    MU_CHECK_EQ(mkdir(dir, 0755), 0);
    snprintf(p, sizeof p, "%s/pass", dir);
    MU_CHECK_EQ(write_str(p, "correct horse battery\n"), 0);
    MU_CHECK_EQ(read_secret_rc(p, 0), 0);
    MU_CHECK_EQ(chmod(p, 0400), 0);
    MU_CHECK_EQ(read_secret_rc(p, 0), 0);
    static const mode_t open_modes[] = { 0640, 0644, 0604, 0660, 0610, 0601, 0620 };
    for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
        MU_CHECK_EQ(chmod(p, open_modes[i]), 0);
        MU_CHECK_EQ(read_secret_rc(p, 0), MU_EINSECURE);
        MU_CHECK_EQ(read_secret_rc(p, MU_KEYS_ALLOW_INSECURE), 0);
    }
    MU_CHECK_EQ(chmod(p, 0600), 0);
    /* A symbolic link to a private file: refused unless allowed. */
    snprintf(link, sizeof link, "%s/link", dir);
    MU_CHECK_EQ(symlink(p, link), 0);
    MU_CHECK_EQ(read_secret_rc(link, 0), MU_EINSECURE);
    MU_CHECK_EQ(read_secret_rc(link, MU_KEYS_ALLOW_INSECURE), 0);
    /* A link to a directory above the file is fine: the file is named. */
    snprintf(link, sizeof link, "%s/dirlink", tmpdir);
    MU_CHECK_EQ(symlink(dir, link), 0);
    snprintf(via, sizeof via, "%s/pass", link);
    MU_CHECK_EQ(read_secret_rc(via, 0), 0);
}

/*  A cert's secret key comes only from a private file named directly
    (NAME_secret, or a public file that holds a secret key). */
static void
test_cert_secret_private(void)
{
    mu_keys_t *a = mu_keys_new();
    MU_CHECK(a);
    MU_CHECK_EQ(mu_keys_save(a, tmp_path("sp")), 0);
    MU_CHECK_EQ(load_errno(tmp_path("sp")), 0);
    MU_CHECK_EQ(chmod(tmp_path("sp_secret"), 0640), 0);
    MU_CHECK_EQ(load_errno(tmp_path("sp")), -MU_EINSECURE);
    MU_CHECK_EQ(load_errno(tmp_path("sp_secret")), -MU_EINSECURE);
    MU_CHECK_EQ(load_flags_errno(tmp_path("sp"), MU_KEYS_ALLOW_INSECURE), 0);
    mu_keys_t *pub = mu_keys_load(tmp_path("sp"), MU_KEYS_PUBLIC_ONLY);
    MU_CHECK(pub && mu_keys_secret(pub) == NULL);
    mu_keys_destroy(&pub);
    MU_CHECK_EQ(chmod(tmp_path("sp_secret"), 0600), 0);

    /* Links: a public cert may be one; its secret file may not. */
    char target[300];
    snprintf(target, sizeof target, "%s", tmp_path("sp"));
    MU_CHECK_EQ(symlink(target, tmp_path("sl")), 0);
    mu_keys_t *linked = mu_keys_load(tmp_path("sl"), 0); /* no sl_secret */
    MU_CHECK(linked && mu_keys_secret(linked) == NULL);
    mu_keys_destroy(&linked);
    snprintf(target, sizeof target, "%s", tmp_path("sp_secret"));
    MU_CHECK_EQ(symlink(target, tmp_path("sl_secret")), 0);
    MU_CHECK_EQ(load_errno(tmp_path("sl")), -MU_EINSECURE);
    MU_CHECK_EQ(load_flags_errno(tmp_path("sl"), MU_KEYS_ALLOW_INSECURE), 0);

    /* A secret key inside the public file makes that file a secret one. */
    char text[512], secret_txt[MU_KEY_TEXT];
    mu_key_to_txt(mu_keys_secret(a), secret_txt);
    cert_text(text, sizeof text, mu_keys_public_txt(a), secret_txt);
    MU_CHECK_EQ(write_str(tmp_path("both"), text), 0);
    mu_keys_t *both = mu_keys_load(tmp_path("both"), 0);
    MU_CHECK(both && mu_keys_secret(both) != NULL);
    mu_keys_destroy(&both);
    MU_CHECK_EQ(chmod(tmp_path("both"), 0644), 0);
    MU_CHECK_EQ(load_errno(tmp_path("both")), -MU_EINSECURE);
    both = mu_keys_load(tmp_path("both"), MU_KEYS_PUBLIC_ONLY);
    MU_CHECK(both && mu_keys_secret(both) == NULL);
    mu_keys_destroy(&both);

    mu_keys_destroy(&a);
}

/* ---- allow-lists ------------------------------------------------------------ */

static void
test_allow(void)
{
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(allow);
    MU_CHECK_EQ(mu_allow_is_any(allow), 0);
    MU_CHECK_EQ(mu_allow_size(allow), 0);
    uint8_t keys[50][MU_KEY_BYTES];
    for (int i = 0; i < 50; i++)
        randombytes_buf(keys[i], MU_KEY_BYTES);
    MU_CHECK_EQ(mu_allow_contains(allow, keys[0]), 0);
    for (int i = 0; i < 40; i++)
        MU_CHECK_EQ(mu_allow_add(allow, keys[i]), 0);
    MU_CHECK_EQ(mu_allow_add(allow, keys[7]), 0); /* twice: not an error */
    MU_CHECK_EQ(mu_allow_size(allow), 40);
    for (int i = 0; i < 50; i++)
        MU_CHECK_EQ(mu_allow_contains(allow, keys[i]), i < 40);

    mu_allow_t *copy = mu_allow_dup(allow);
    MU_CHECK(copy);
    MU_CHECK_EQ(mu_allow_size(copy), 40);
    MU_CHECK_EQ(mu_allow_add(copy, keys[45]), 0);
    MU_CHECK_EQ(mu_allow_contains(copy, keys[45]), 1);
    MU_CHECK_EQ(mu_allow_contains(allow, keys[45]), 0);

    mu_allow_t *any = mu_allow_new_any();
    MU_CHECK(any);
    MU_CHECK_EQ(mu_allow_is_any(any), 1);
    MU_CHECK_EQ(mu_allow_size(any), 0);
    for (int i = 0; i < 50; i++)
        MU_CHECK_EQ(mu_allow_contains(any, keys[i]), 1);
    mu_allow_t *any_copy = mu_allow_dup(any);
    MU_CHECK(any_copy);
    MU_CHECK_EQ(mu_allow_is_any(any_copy), 1);
    mu_allow_t *empty = mu_allow_new();
    MU_CHECK(empty);
    mu_allow_t *empty_copy = mu_allow_dup(empty);
    MU_CHECK(empty_copy);
    MU_CHECK_EQ(mu_allow_size(empty_copy), 0);
    MU_CHECK_EQ(mu_allow_is_any(empty_copy), 0);
    MU_CHECK_EQ(mu_allow_contains(empty_copy, keys[0]), 0);
    mu_allow_destroy(&empty_copy);
    mu_allow_destroy(&empty);

    mu_allow_destroy(&allow);
    mu_allow_destroy(&copy);
    mu_allow_destroy(&any);
    mu_allow_destroy(&any_copy);
    MU_CHECK(any == NULL);
    mu_allow_destroy(&any);
    mu_allow_destroy(NULL);
}

static void
test_allow_load_dir(void)
{
    char dir[256], path[320];
    snprintf(dir, sizeof dir, "%s/allow", tmpdir);
    MU_CHECK_EQ(mkdir(dir, 0755), 0);
    mu_keys_t *a = mu_keys_new(), *b = mu_keys_new(), *c = mu_keys_new();
    MU_CHECK(a && b && c);
    snprintf(path, sizeof path, "%s/alice", dir);
    MU_CHECK_EQ(mu_keys_save(a, path), 0); /* with alice_secret */
    snprintf(path, sizeof path, "%s/bob.cert", dir);
    MU_CHECK_EQ(mu_keys_save(b, path), 0);
    mu_keys_t *c_pub = mu_keys_new_from(mu_keys_public(c), NULL);
    MU_CHECK(c_pub);
    snprintf(path, sizeof path, "%s/.hidden", dir);
    MU_CHECK_EQ(mu_keys_save(c_pub, path), 0); /* hidden: ignored */
    snprintf(path, sizeof path, "%s/README", dir);
    MU_CHECK_EQ(write_str(path, "not a cert\n"), 0); /* skipped, counted */
    snprintf(path, sizeof path, "%s/broken", dir);
    MU_CHECK_EQ(write_str(path, "curve\n    public-key = \"short\"\n"), 0);
    snprintf(path, sizeof path, "%s/subdir", dir);
    MU_CHECK_EQ(mkdir(path, 0755), 0); /* not a file: ignored */

    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(allow);
    int skipped = -1;
    MU_CHECK_EQ(mu_allow_load_dir(allow, dir, &skipped), 2);
    MU_CHECK_EQ(skipped, 2);
    MU_CHECK_EQ(mu_allow_size(allow), 2);
    MU_CHECK_EQ(mu_allow_contains(allow, mu_keys_public(a)), 1);
    MU_CHECK_EQ(mu_allow_contains(allow, mu_keys_public(b)), 1);
    MU_CHECK_EQ(mu_allow_contains(allow, mu_keys_public(c)), 0);
    /* Loading again adds nothing new; skipped_p may be NULL. */
    MU_CHECK_EQ(mu_allow_load_dir(allow, dir, NULL), 2);
    MU_CHECK_EQ(mu_allow_size(allow), 2);

    /* Errors of opendir. */
    MU_CHECK_EQ(mu_allow_load_dir(allow, tmp_path("no-such-dir"), &skipped), MU_ENOENT);
    snprintf(path, sizeof path, "%s/README", dir);
    MU_CHECK_EQ(mu_allow_load_dir(allow, path, &skipped), MU_ENOTDIR);
    /* EACCES: a directory without read permission (for root, checked as
       "nobody" in a child). */
    snprintf(path, sizeof path, "%s/subdir", dir);
    MU_CHECK_EQ(chmod(path, 0), 0);
    MU_CHECK_EQ(without_root(load_dir_errno_fn, path), EACCES);
    MU_CHECK_EQ(chmod(path, 0755), 0);
    MU_CHECK_EQ(mu_allow_size(allow), 2);

    mu_allow_destroy(&allow);
    mu_keys_destroy(&a);
    mu_keys_destroy(&b);
    mu_keys_destroy(&c);
    mu_keys_destroy(&c_pub);
}

/* ---- ZAP ----------------------------------------------------------------------- */

/*  A ROUTER server in domain (CURVE with keys, or NULL when keys is NULL),
    bound to an ephemeral port (*port_p). */
static zsock_t *
make_server(const mu_keys_t *keys, const mu__zap_domain_t *domain, int *port_p)
{
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    if (router == NULL)
        return NULL;
    zsock_set_linger(router, 0);
    if (mu__zap_setup_server(zsock_resolve(router), keys, domain) != 0
        || (*port_p = zsock_bind(router, "tcp://127.0.0.1:*")) <= 0)
        zsock_destroy(&router);
    return router;
}

/*  A DEALER client (CURVE when keys is not NULL) connected to port, that
    has sent one message "hello". */
static zsock_t *
make_client(const mu_keys_t *keys, const uint8_t *server_public, int port)
{
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    if (dealer == NULL)
        return NULL;
    zsock_set_linger(dealer, 0);
    if ((keys && mu__zap_setup_client(zsock_resolve(dealer), keys, server_public) != 0)
        || zsock_connect(dealer, "tcp://127.0.0.1:%d", port) != 0
        || zstr_send(dealer, "hello") != 0)
        zsock_destroy(&dealer);
    return dealer;
}

/*  Waits up to timeout_ms for [identity, "hello"] on router and copies the
    User-Id property of the payload (or "(none)") into user_id. Returns 1
    when the message arrived, 0 on time-out. */
static int
receive_hello(zsock_t *router, int timeout_ms, char *user_id, size_t cap)
{
    zmq_pollitem_t item = { zsock_resolve(router), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&item, 1, mu_test_ms(timeout_ms)) <= 0)
        return 0;
    zframe_t *identity = zframe_recv(router);
    zframe_t *payload = identity ? zframe_recv(router) : NULL;
    int ok = payload && zframe_streq(payload, "hello");
    const char *meta = payload ? zframe_meta(payload, "User-Id") : NULL;
    snprintf(user_id, cap, "%s", meta ? meta : "(none)");
    zframe_destroy(&identity);
    zframe_destroy(&payload);
    return ok;
}

/*  Waits up to timeout_ms (scaled) until domain counted at least n
    failures (the handler offers no event to wait on: the counter is
    polled). */
static int
wait_failures(const mu__zap_domain_t *domain, uint64_t n, int timeout_ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    while (mu__zap_failures(domain) < n && mu_test_now_ms() < deadline)
        zclock_sleep(10);
    return mu__zap_failures(domain) >= n;
}

static void
test_zap_allowed_and_refused(void)
{
    mu_keys_t *server_keys = mu_keys_new(), *good = mu_keys_new(), *bad = mu_keys_new();
    MU_CHECK(server_keys && good && bad);
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(allow);
    MU_CHECK_EQ(mu_allow_add(allow, mu_keys_public(good)), 0);
    mu__zap_domain_t *domain = mu__zap_register(allow);
    mu_allow_destroy(&allow); /* the domain keeps its own copy */
    MU_CHECK(domain);
    MU_CHECK_EQ(strncmp(mu__zap_domain_name(domain), "mu-", 3), 0);
    MU_CHECK_EQ(mu__zap_failures(domain), 0);

    int port = 0;
    zsock_t *router = make_server(server_keys, domain, &port);
    MU_CHECK(router);
    char user_id[64];

    /* An allowed client gets through, with its key as User-Id. */
    zsock_t *client = make_client(good, mu_keys_public(server_keys), port);
    MU_CHECK(client);
    MU_CHECK(receive_hello(router, 10000, user_id, sizeof user_id));
    MU_CHECK_EQ(strcmp(user_id, mu_keys_public_txt(good)), 0);
    MU_CHECK_EQ(mu__zap_failures(domain), 0);

    /* A client with the wrong server key fails the CURVE handshake itself
       (it never reaches ZAP) and gets nothing through either. */
    mu_keys_t *impostor = mu_keys_new();
    MU_CHECK(impostor);
    zsock_t *lost = make_client(good, mu_keys_public(impostor), port);
    MU_CHECK(lost);
    MU_CHECK(!receive_hello(router, 700, user_id, sizeof user_id));
    MU_CHECK_EQ(mu__zap_failures(domain), 0);

    /* An unlisted client is refused by ZAP and counted. */
    zsock_t *intruder = make_client(bad, mu_keys_public(server_keys), port);
    MU_CHECK(intruder);
    MU_CHECK(wait_failures(domain, 1, 10000));
    MU_CHECK(!receive_hello(router, 500, user_id, sizeof user_id));

    /* The allowed client still works alongside. */
    MU_CHECK_EQ(zstr_send(client, "hello"), 0);
    MU_CHECK(receive_hello(router, 10000, user_id, sizeof user_id));
    MU_CHECK_EQ(strcmp(user_id, mu_keys_public_txt(good)), 0);

    zsock_destroy(&lost);
    zsock_destroy(&intruder);
    zsock_destroy(&client);
    zsock_destroy(&router);
    mu__zap_unregister(&domain);
    MU_CHECK(domain == NULL);
    mu__zap_unregister(&domain); /* *domain_p NULL */
    mu__zap_unregister(NULL);
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&good);
    mu_keys_destroy(&bad);
    mu_keys_destroy(&impostor);
}

static void
test_zap_two_domains(void)
{
    mu_keys_t *s1 = mu_keys_new(), *s2 = mu_keys_new(), *c1 = mu_keys_new(), *c2 = mu_keys_new();
    MU_CHECK(s1 && s2 && c1 && c2);
    mu_allow_t *allow1 = mu_allow_new(), *allow2 = mu_allow_new();
    MU_CHECK(allow1 && allow2);
    MU_CHECK_EQ(mu_allow_add(allow1, mu_keys_public(c1)), 0);
    MU_CHECK_EQ(mu_allow_add(allow2, mu_keys_public(c2)), 0);
    mu__zap_domain_t *d1 = mu__zap_register(allow1), *d2 = mu__zap_register(allow2);
    MU_CHECK(d1 && d2);
    MU_CHECK(strcmp(mu__zap_domain_name(d1), mu__zap_domain_name(d2)) != 0);
    int port1 = 0, port2 = 0;
    zsock_t *r1 = make_server(s1, d1, &port1), *r2 = make_server(s2, d2, &port2);
    MU_CHECK(r1 && r2);
    char user_id[64];

    zsock_t *c1_to_1 = make_client(c1, mu_keys_public(s1), port1);
    zsock_t *c2_to_2 = make_client(c2, mu_keys_public(s2), port2);
    MU_CHECK(c1_to_1 && c2_to_2);
    MU_CHECK(receive_hello(r1, 10000, user_id, sizeof user_id));
    MU_CHECK_EQ(strcmp(user_id, mu_keys_public_txt(c1)), 0);
    MU_CHECK(receive_hello(r2, 10000, user_id, sizeof user_id));
    MU_CHECK_EQ(strcmp(user_id, mu_keys_public_txt(c2)), 0);

    /* c1 is not on server 2's list: refused there and counted there only. */
    zsock_t *c1_to_2 = make_client(c1, mu_keys_public(s2), port2);
    MU_CHECK(c1_to_2);
    MU_CHECK(wait_failures(d2, 1, 10000));
    MU_CHECK(!receive_hello(r2, 500, user_id, sizeof user_id));
    MU_CHECK_EQ(mu__zap_failures(d1), 0);

    /* A domain's list is a copy: changing allow1 now changes nothing. */
    MU_CHECK_EQ(mu_allow_add(allow1, mu_keys_public(c2)), 0);
    zsock_t *c2_to_1 = make_client(c2, mu_keys_public(s1), port1);
    MU_CHECK(c2_to_1);
    MU_CHECK(wait_failures(d1, 1, 10000));
    MU_CHECK(!receive_hello(r1, 500, user_id, sizeof user_id));

    zsock_destroy(&c2_to_1);
    zsock_destroy(&c1_to_2);
    zsock_destroy(&c1_to_1);
    zsock_destroy(&c2_to_2);
    zsock_destroy(&r1);
    zsock_destroy(&r2);
    mu__zap_unregister(&d1);
    mu__zap_unregister(&d2);
    mu_allow_destroy(&allow1);
    mu_allow_destroy(&allow2);
    mu_keys_destroy(&s1);
    mu_keys_destroy(&s2);
    mu_keys_destroy(&c1);
    mu_keys_destroy(&c2);
}

static void
test_zap_null_mechanism(void)
{
    char user_id[64];
    /* An insecure domain accepts NULL peers (with an empty User-Id). */
    mu__zap_domain_t *insecure = mu__zap_register(NULL);
    MU_CHECK(insecure);
    int port = 0;
    zsock_t *router = make_server(NULL, insecure, &port);
    MU_CHECK(router);
    zsock_t *client = make_client(NULL, NULL, port);
    MU_CHECK(client);
    MU_CHECK(receive_hello(router, 10000, user_id, sizeof user_id));
    MU_CHECK_EQ(strcmp(user_id, ""), 0);
    MU_CHECK_EQ(mu__zap_failures(insecure), 0);

    /* A secure domain refuses a NULL handshake through ZAP and counts it
       (a socket set up without keys in a domain that has a list). */
    mu_allow_t *any = mu_allow_new_any();
    MU_CHECK(any);
    mu__zap_domain_t *secure = mu__zap_register(any);
    mu_allow_destroy(&any);
    MU_CHECK(secure);
    int port2 = 0;
    zsock_t *router2 = make_server(NULL, secure, &port2);
    MU_CHECK(router2);
    zsock_t *client2 = make_client(NULL, NULL, port2);
    MU_CHECK(client2);
    MU_CHECK(wait_failures(secure, 1, 10000));
    MU_CHECK(!receive_hello(router2, 500, user_id, sizeof user_id));

    /* "Allow any" takes any CURVE client key. */
    mu_keys_t *server_keys = mu_keys_new(), *anybody = mu_keys_new();
    MU_CHECK(server_keys && anybody);
    int port3 = 0;
    zsock_t *router3 = make_server(server_keys, secure, &port3);
    MU_CHECK(router3);
    zsock_t *client3 = make_client(anybody, mu_keys_public(server_keys), port3);
    MU_CHECK(client3);
    MU_CHECK(receive_hello(router3, 10000, user_id, sizeof user_id));
    MU_CHECK_EQ(strcmp(user_id, mu_keys_public_txt(anybody)), 0);

    zsock_destroy(&client3);
    zsock_destroy(&router3);
    zsock_destroy(&client2);
    zsock_destroy(&router2);
    zsock_destroy(&client);
    zsock_destroy(&router);
    mu__zap_unregister(&secure);
    mu__zap_unregister(&insecure);
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&anybody);
}

/*  The ZAP handler of a private context (what a flow runner runs): it
    serves that context only, in this process only; its domain admits the
    listed key and refuses and counts another; a second handler on the
    same context cannot start; it lets go when its context ends. */
static void
test_zap_context_handler(void)
{
    mu_keys_t *server = mu_keys_new(), *good = mu_keys_new(), *bad = mu_keys_new();
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(server && good && bad && allow);
    MU_CHECK_EQ(mu_allow_add(allow, mu_keys_public(good)), 0);
    void *ctx = zmq_ctx_new(), *other = zmq_ctx_new();
    mu__zap_t *zap = mu__zap_new_for(ctx, "test context");
    MU_CHECK(zap != NULL);
    MU_CHECK(mu__zap_serves(zap, ctx));
    MU_CHECK(!mu__zap_serves(zap, other));
    MU_CHECK(!mu__zap_serves(NULL, ctx));
    errno = 0;
    MU_CHECK(mu__zap_new_for(ctx, "second") == NULL && errno == EADDRINUSE);
    mu__zap_domain_t *domain = mu__zap_add_domain(zap, allow);
    MU_CHECK(domain != NULL);

    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    MU_CHECK_EQ(mu__zap_setup_server(router, server, domain), 0);
    MU_CHECK_EQ(zmq_bind(router, "tcp://127.0.0.1:*"), 0);
    char ep[64];
    size_t len = sizeof ep;
    MU_CHECK_EQ(zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, ep, &len), 0);
    int port = atoi(strrchr(ep, ':') + 1);
    char user_id[64];
    zsock_t *ok_client = make_client(good, mu_keys_public(server), port);
    MU_CHECK(ok_client != NULL);
    MU_CHECK_EQ(receive_hello((zsock_t *) router, 20000, user_id, sizeof user_id), 1);
    char good_txt[MU_KEY_TEXT];
    mu_key_to_txt(mu_keys_public(good), good_txt);
    MU_CHECK_EQ(strcmp(user_id, good_txt), 0);
    zsock_t *bad_client = make_client(bad, mu_keys_public(server), port);
    MU_CHECK(bad_client != NULL);
    MU_CHECK(wait_failures(domain, 1, 20000));
    MU_CHECK_EQ(receive_hello((zsock_t *) router, 200, user_id, sizeof user_id), 0);
    zsock_destroy(&ok_client);
    zsock_destroy(&bad_client);

    pid_t pid = fork(); /* a forked child has no handler thread */
    if (pid == 0)
        _exit(mu__zap_serves(zap, ctx) ? 1 : 0);
    int status = -1;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    MU_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    zmq_close(router);
    mu__zap_unregister(&domain);
    MU_CHECK_EQ(zmq_ctx_term(ctx), 0); /* the handler let go of its socket */
    mu__zap_destroy(&zap);
    MU_CHECK(zap == NULL);
    zmq_ctx_term(other);
    mu_allow_destroy(&allow);
    mu_keys_destroy(&server);
    mu_keys_destroy(&good);
    mu_keys_destroy(&bad);
}

/*  Sends a raw ZAP request (frames as given, n of them) to the handler
    and returns the reply (NULL on time-out). */
static zmsg_t *
zap_ask(const char *const *frames, const size_t *sizes, int n)
{
    zsock_t *req = zsock_new(ZMQ_REQ);
    if (req == NULL)
        return NULL;
    zsock_set_linger(req, 0);
    zsock_set_rcvtimeo(req, mu_test_ms(5000));
    zmsg_t *reply = NULL;
    if (zsock_connect(req, "inproc://zeromq.zap.01") == 0) {
        zmsg_t *request = zmsg_new();
        for (int i = 0; i < n; i++)
            zmsg_addmem(request, frames[i], sizes[i]);
        if (zmsg_send(&request, req) == 0)
            reply = zmsg_recv(req);
        zmsg_destroy(&request);
    }
    zsock_destroy(&req);
    return reply;
}

/*  True when reply is [1.0, id, status, *, user_id, ""]. */
static int
reply_is(zmsg_t *reply, const char *id, const char *status, const char *user_id)
{
    if (reply == NULL || zmsg_size(reply) != 6)
        return 0;
    zframe_t *f = zmsg_first(reply);
    int ok = zframe_streq(f, "1.0");
    ok = ok && zframe_streq(zmsg_next(reply), id);
    ok = ok && zframe_streq(zmsg_next(reply), status);
    ok = ok && zmsg_next(reply) != NULL;
    ok = ok && zframe_streq(zmsg_next(reply), user_id);
    ok = ok && zframe_size(zmsg_next(reply)) == 0;
    return ok;
}

static void
test_zap_protocol(void)
{
    mu_keys_t *client = mu_keys_new();
    MU_CHECK(client);
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(allow);
    MU_CHECK_EQ(mu_allow_add(allow, mu_keys_public(client)), 0);
    mu__zap_domain_t *domain = mu__zap_register(allow);
    mu_allow_destroy(&allow);
    MU_CHECK(domain);
    const char *name = mu__zap_domain_name(domain);
    const char *key = (const char *) mu_keys_public(client);

    const char *good[] = { "1.0", "id-7", name, "10.0.0.1", "", "CURVE", key };
    size_t good_sizes[] = { 3, 4, strlen(name), 8, 0, 5, 32 };
    zmsg_t *reply = zap_ask(good, good_sizes, 7);
    int ok = reply_is(reply, "id-7", "200", mu_keys_public_txt(client));
    zmsg_destroy(&reply);
    MU_CHECK(ok);

    /* Wrong version, too few frames, a 31-byte key, an extra credential
       frame, an unknown domain: 400, the id echoed. */
    const char *bad_version[] = { "2.0", "id-8", name, "10.0.0.1", "", "CURVE", key };
    reply = zap_ask(bad_version, good_sizes, 7);
    ok = reply_is(reply, "id-8", "400", "");
    zmsg_destroy(&reply);
    MU_CHECK(ok);
    reply = zap_ask(good, good_sizes, 4);
    ok = reply_is(reply, "id-7", "400", "");
    zmsg_destroy(&reply);
    MU_CHECK(ok);
    size_t short_key[] = { 3, 4, strlen(name), 8, 0, 5, 31 };
    reply = zap_ask(good, short_key, 7);
    ok = reply_is(reply, "id-7", "400", "");
    zmsg_destroy(&reply);
    MU_CHECK(ok);
    const char *extra[] = { "1.0", "id-9", name, "a", "", "CURVE", key, "x" };
    size_t extra_sizes[] = { 3, 4, strlen(name), 1, 0, 5, 32, 1 };
    reply = zap_ask(extra, extra_sizes, 8);
    ok = reply_is(reply, "id-9", "400", "");
    zmsg_destroy(&reply);
    MU_CHECK(ok);
    const char *unknown[] = { "1.0", "id-10", "mu-0", "10.0.0.1", "", "CURVE", key };
    size_t unknown_sizes[] = { 3, 5, 4, 8, 0, 5, 32 };
    reply = zap_ask(unknown, unknown_sizes, 7);
    ok = reply_is(reply, "id-10", "400", "");
    zmsg_destroy(&reply);
    MU_CHECK(ok);
    /* PLAIN is refused on a CURVE domain. */
    const char *plain[] = { "1.0", "id-11", name, "a", "", "PLAIN", "user", "pass" };
    size_t plain_sizes[] = { 3, 5, strlen(name), 1, 0, 5, 4, 4 };
    reply = zap_ask(plain, plain_sizes, 8);
    ok = reply_is(reply, "id-11", "400", "");
    zmsg_destroy(&reply);
    MU_CHECK(ok);
    /* Malformed requests touch no domain; the short key, the extra frame
       and PLAIN count on this one. */
    MU_CHECK_EQ(mu__zap_failures(domain), 3);
    mu__zap_unregister(&domain);
    mu_keys_destroy(&client);
}

/*  Counts, in the log file path, the refusal lines of domain name and the
    refusals that its "N more refused handshakes" lines report. */
static void
count_log_lines(const char *path, const char *name, int *refused_p, int *summaries_p,
                uint64_t *more_p)
{
    char line[512], domain[96];
    snprintf(domain, sizeof domain, "ZAP domain '%s'", name);
    *refused_p = *summaries_p = 0;
    *more_p = 0;
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        const char *text = strstr(line, "mutil: ");
        if (text == NULL || strstr(line, domain) == NULL)
            continue;
        if (strstr(text, "more refused handshakes")) {
            (*summaries_p)++;
            *more_p += strtoull(text + 7, NULL, 10);
        } else if (strstr(text, "refused CURVE handshake")) {
            (*refused_p)++;
        }
    }
    if (f)
        fclose(f);
}

/*  A flood of refused handshakes logs a bounded number of lines (at most
    one per second per domain, plus the lines that count the rest), and
    every refusal is still counted, in the counter and in the log. */
static void
test_zap_log_rate_limit(void)
{
    enum { N = 300 };
    mu_keys_t *stranger = mu_keys_new();
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(stranger && allow);
    mu__zap_domain_t *domain = mu__zap_register(allow);
    mu_allow_destroy(&allow);
    MU_CHECK(domain);
    char log_path[256];
    snprintf(log_path, sizeof log_path, "%s", tmp_path("zap.log"));
    MU_CHECK_EQ(mu_log_set_file(log_path), 0); /* appends: the test reads it meanwhile */
    const char *name = mu__zap_domain_name(domain);
    const char *frames[] = {
        "1.0", "r", name, "10.0.0.9", "", "CURVE", (const char *) mu_keys_public(stranger)
    };
    size_t sizes[] = { 3, 1, strlen(name), 8, 0, 5, 32 };
    int64_t start = mu_test_now_ms();
    int answered = 0;
    for (int i = 0; i < N; i++) {
        zmsg_t *reply = zap_ask(frames, sizes, 7);
        answered += reply_is(reply, "r", "400", "");
        zmsg_destroy(&reply);
    }
    int64_t seconds = (mu_test_now_ms() - start) / 1000;
    uint64_t failures = mu__zap_failures(domain);
    /* The handler reports the refusals it did not log once their second is
       over, without another request: wait for that line (up to 5 s). */
    int refused, summaries = 0;
    uint64_t more;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(5000);
    while (summaries == 0 && mu_test_now_ms() < deadline) {
        usleep(20 * 1000);
        count_log_lines(log_path, name, &refused, &summaries, &more);
    }
    int reported_while_running = summaries > 0;
    char saved[64];
    snprintf(saved, sizeof saved, "%s", name);
    mu__zap_unregister(&domain); /* would report the refusals not logged yet */
    mu_log_reset();
    count_log_lines(log_path, saved, &refused, &summaries, &more);
    mu_keys_destroy(&stranger);
    printf("# %d refusals in %lld s: %d lines logged, %d lines count %llu more\n", N,
           (long long) seconds, refused, summaries, (unsigned long long) more);
    MU_CHECK_EQ(answered, N);
    MU_CHECK_EQ(failures, N);
    MU_CHECK(reported_while_running);
    MU_CHECK(refused >= 1 && refused <= seconds + 2);
    MU_CHECK(summaries >= 1 && summaries <= 2 * seconds + 3);
    MU_CHECK_EQ((uint64_t) refused + more, N);
}

/*  The peer bytes of a refused request reach the log escaped: one line,
    no raw newline or ESC. */
static void
test_zap_log_escapes(void)
{
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(allow);
    mu__zap_domain_t *domain = mu__zap_register(allow);
    mu_allow_destroy(&allow);
    MU_CHECK(domain);
    char log_path[256];
    snprintf(log_path, sizeof log_path, "%s", tmp_path("zap-escape.log"));
    unlink(log_path);
    MU_CHECK_EQ(mu_log_set_file(log_path), 0);
    const char *name = mu__zap_domain_name(domain);
    const char *frames[] = { "1.0", "e", name, "10.0.0.7\nFAKE\x1b[31m", "", "PLAIN", "u", "p" };
    size_t sizes[] = { 3, 1, strlen(name), 18, 0, 5, 1, 1 };
    zmsg_t *reply = zap_ask(frames, sizes, 8);
    int ok = reply_is(reply, "e", "400", "");
    zmsg_destroy(&reply);
    mu__zap_unregister(&domain);
    mu_log_reset();
    char text[4096] = "";
    FILE *f = fopen(log_path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    MU_CHECK(ok);
    MU_CHECK(strstr(text, "from 10.0.0.7\\nFAKE\\x1b[31m (key -)") != NULL);
    MU_CHECK(strchr(text, '\x1b') == NULL);
    MU_CHECK(strstr(text, "\nFAKE") == NULL);
}

static void
test_zap_lifecycle(void)
{
    char user_id[64];
    /* The handler starts with the first domain and stops with the last,
       again and again. */
    for (int round = 0; round < 5; round++) {
        mu__zap_domain_t *a = mu__zap_register(NULL);
        mu__zap_domain_t *b = mu__zap_register(NULL);
        MU_CHECK(a && b);
        mu__zap_unregister(&a); /* b keeps the handler running */
        int port = 0;
        zsock_t *router = make_server(NULL, b, &port);
        MU_CHECK(router);
        zsock_t *client = make_client(NULL, NULL, port);
        MU_CHECK(client);
        int got = receive_hello(router, 10000, user_id, sizeof user_id);
        zsock_destroy(&client);
        zsock_destroy(&router);
        mu__zap_unregister(&b);
        MU_CHECK(got);
    }
    /* After the last unregister the ZAP endpoint is free... */
    zsock_t *rep = zsock_new(ZMQ_REP);
    MU_CHECK(rep);
    zsock_set_linger(rep, 0);
    MU_CHECK_EQ(zsock_bind(rep, "inproc://zeromq.zap.01"), 0);
    /* ...and while someone else holds it (czmq's zauth would),
       registering fails with EADDRINUSE. */
    errno = 0;
    mu__zap_domain_t *d = mu__zap_register(NULL);
    int err = errno;
    zsock_unbind(rep, "inproc://zeromq.zap.01");
    zsock_destroy(&rep);
    MU_CHECK(d == NULL);
    MU_CHECK_EQ(err, EADDRINUSE);
    /* Once it is released, registering works again. */
    d = mu__zap_register(NULL);
    MU_CHECK(d);
    mu__zap_unregister(&d);
}

/*  Registers and unregisters domains in a loop; returns the failures. */
static void *
churn(void *arg)
{
    (void) arg;
    intptr_t failed = 0;
    for (int i = 0; i < 25; i++) {
        mu__zap_domain_t *d = mu__zap_register(NULL);
        if (d == NULL) {
            failed++;
        } else if (i % 5 == 0) {
            /* A request on the own domain while others churn: 200. */
            const char *name = mu__zap_domain_name(d);
            const char *frames[] = { "1.0", "t", name, "127.0.0.1", "", "NULL" };
            size_t sizes[] = { 3, 1, strlen(name), 9, 0, 4 };
            zmsg_t *reply = zap_ask(frames, sizes, 6);
            failed += !reply_is(reply, "t", "200", "");
            zmsg_destroy(&reply);
        }
        mu__zap_unregister(&d);
    }
    return (void *) failed;
}

static void
test_zap_threads(void)
{
    /* Threads start and stop the handler under each other's feet: every
       registration succeeds (no EADDRINUSE from a handler still stopping,
       no deadlock between a stop and a request). */
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        MU_CHECK_EQ(pthread_create(&threads[i], NULL, churn, NULL), 0);
    intptr_t failed = 0;
    for (int i = 0; i < 4; i++) {
        void *result;
        MU_CHECK_EQ(pthread_join(threads[i], &result), 0);
        failed += (intptr_t) result;
    }
    MU_CHECK_EQ(failed, 0);
    /* Everything unregistered: the endpoint is free again. */
    zsock_t *rep = zsock_new(ZMQ_REP);
    MU_CHECK(rep);
    zsock_set_linger(rep, 0);
    int rc = zsock_bind(rep, "inproc://zeromq.zap.01");
    zsock_unbind(rep, "inproc://zeromq.zap.01");
    zsock_destroy(&rep);
    MU_CHECK_EQ(rc, 0);
}

static void
test_zap_setup_errors(void)
{
    mu_keys_t *full = mu_keys_new();
    MU_CHECK(full);
    mu_keys_t *pub = mu_keys_new_from(mu_keys_public(full), NULL);
    MU_CHECK(pub);
    mu__zap_domain_t *domain = mu__zap_register(NULL);
    MU_CHECK(domain);
    zsock_t *sock = zsock_new(ZMQ_ROUTER);
    MU_CHECK(sock);
    void *raw = zsock_resolve(sock);

    MU_CHECK_EQ(mu__zap_setup_server(raw, pub, domain), MU_EINVAL); /* no secret */
    MU_CHECK_EQ(mu__zap_setup_server(NULL, full, domain), MU_EINVAL);
    MU_CHECK_EQ(mu__zap_setup_server(raw, full, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu__zap_setup_client(raw, pub, mu_keys_public(full)), MU_EINVAL);
    MU_CHECK_EQ(mu__zap_setup_client(raw, full, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu__zap_setup_client(raw, NULL, mu_keys_public(full)), MU_EINVAL);
    MU_CHECK_EQ(mu__zap_setup_client(NULL, full, mu_keys_public(full)), MU_EINVAL);

    /* The server set-up lands in the socket options. */
    MU_CHECK_EQ(mu__zap_setup_server(raw, full, domain), 0);
    MU_CHECK_EQ(zsock_curve_server(sock), 1);
    char *zap_domain = zsock_zap_domain(sock);
    MU_CHECK(zap_domain);
    int same = strcmp(zap_domain, mu__zap_domain_name(domain)) == 0;
    zstr_free(&zap_domain);
    MU_CHECK(same);
    zsock_t *client = zsock_new(ZMQ_DEALER);
    MU_CHECK(client);
    MU_CHECK_EQ(mu__zap_setup_client(zsock_resolve(client), full, mu_keys_public(full)), 0);
    char *server_key = zsock_curve_serverkey(client);
    MU_CHECK(server_key);
    same = strcmp(server_key, mu_keys_public_txt(full)) == 0;
    zstr_free(&server_key);
    MU_CHECK(same);

    zsock_destroy(&client);
    zsock_destroy(&sock);
    mu__zap_unregister(&domain);
    mu_keys_destroy(&full);
    mu_keys_destroy(&pub);
}

int
main(void)
{
    mu_test_start(120);
    zsys_handler_set(NULL);
    /* 0755 so that the "nobody" children of without_root reach the files
       (the secret files themselves stay 0600). */
    if (!mu_test_scratch_dir(tmpdir, sizeof tmpdir, "test_keys") || chmod(tmpdir, 0755) != 0) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    MU_RUN(test_generate_save_load);
    MU_RUN(test_file_modes);
    MU_RUN(test_czmq_interop);
    MU_RUN(test_public_only);
    MU_RUN(test_load_errors);
    MU_RUN(test_z85);
    MU_RUN(test_shared_secret);
    MU_RUN(test_caller_bug_aborts);
    MU_RUN(test_read_secret_file);
    MU_RUN(test_secret_file_private);
    MU_RUN(test_cert_secret_private);
    MU_RUN(test_allow);
    MU_RUN(test_allow_load_dir);
    MU_RUN(test_zap_allowed_and_refused);
    MU_RUN(test_zap_two_domains);
    MU_RUN(test_zap_null_mechanism);
    MU_RUN(test_zap_protocol);
    MU_RUN(test_zap_context_handler);
    MU_RUN(test_zap_log_rate_limit);
    MU_RUN(test_zap_log_escapes);
    MU_RUN(test_zap_lifecycle);
    MU_RUN(test_zap_threads);
    MU_RUN(test_zap_setup_errors);
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", tmpdir);
    if (system(command) != 0)
        printf("# could not remove %s\n", tmpdir);
    MU_DONE();
}

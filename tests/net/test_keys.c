/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_keys.c — mu_keys: keypairs and zcert files (modes, czmq interop,
    public-only certificates, load errors), Z85, shared secrets, passphrase
    files and private secret files. Allow-lists and ZAP handshakes are in
    test_keys_allow.c, the ZAP protocol, logs and lifecycle in
    test_keys_zap.c. */
#include "keys_cases.h"

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

static int
load_errno_fn(const char *path)
{
    return load_errno(path);
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

int
main(void)
{
    if (!keys_suite_begin())
        return 1;
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
    keys_suite_end();
    MU_DONE();
}

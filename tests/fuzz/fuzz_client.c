/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  fuzz_client.c — libFuzzer target for mu_client and its file transfer
    (src/conn/mu_client.c, src/conn/mu_files_client.c) against a hostile
    or broken server: the mirror of fuzz_server.c. The target plays the
    server with a raw ROUTER; one insecure mu_client, connected to it for
    the whole run, takes the input as what its server sends. The client
    refuses inproc:// endpoints (mu_client_connect's contract), so the
    ROUTER binds an abstract ipc:// one; nothing waits on a clock: every
    step synchronises on messages.

    Input: byte 0 — bit 0: the download resumes (MU_FILE_RESUME) a
    LOCAL.partial holding PREFIX; bit 1: the target writes the right
    digest into every GET_END of the algorithm's length (of PREFIX when
    resuming, then the GET_DATA bytes it sent for that transfer id), so
    downloads can complete; bit 2: both transfers ask for BLAKE2b-256
    (else XXH3-128); bit 3: the destination exists (MU_FILE_OVERWRITE):
    its bytes must survive a failed download. Then records, as in
    fuzz_server: a 16-bit little-endian head (bits 0..14: the frame's
    length, cut to what the input holds; bit 15: another frame of the same
    message follows) and the frame as a server sends it (version, kind,
    id, payload: doc/wire.md). A head of 0xffff is no frame: it moves on
    to the next phase. A frame's id below 8 is taken relative to the first
    id the phase's call uses (a reopened transfer takes the next ones).

    Phases, each with its messages queued before its call, then ERR
    MU_ECANCELED for the phase's 8 ids (and one more per "hello first"
    the input held so far: one of any id makes a running transfer open
    again under its next id), so that every call ends without
    waiting for its timeout (whatever the input left is stale for the
    calls after it, as a hostile server's tail would be):
      0. mu_client_get of "remote" to DIR/dst (chunk 64, window 4);
      1. mu_client_put of DIR/src (300 bytes, chunk 64, window 4);
      2. mu_client_request;
      3. mu_client_stream_send, then mu_client_recv until a last push of
         the target's (pushes and stream chunks of streams never opened).
    Then a request the target answers must succeed (the client answered)
    and every message the client sent is read up to it.

    Checked after every input (a failure aborts):
      - every call returns 0 or a code of the table or an errno value;
        a transfer never MU_EPIPE (its own "reconnected": a request may
        pass on the server's);
      - a download that succeeded put in place a file whose digest a
        GET_END of that call carried (and that starts with PREFIX when
        resuming); a failed one left the destination as it was (absent,
        or its old bytes), and with MU_FILE_RESUME a LOCAL.partial that
        still starts with PREFIX, if any;
      - no "*.part-*" file, no other file in DIR, nothing changed next to
        DIR; the upload's source unchanged;
      - every message of the client is one well-formed frame of a
        client-to-server kind; GET_CREDIT grants 1..1024 chunks;
      - items from mu_client_recv are well formed; the queue is empty at
        the end;
      - as many file descriptors open as before; the heap grew by at most
        HEAP_SLACK.
    libFuzzer's -timeout raises SIGALRM now and then: a call waiting in
    poll() then returns MU_EINTR, as documented; the phases take it as a
    result, the target's own waits wait again.
    FUZZ_CLIENT_TRACE=1 prints each call's result. */
#include "base/mu_internal.h"
#include "conn/mu_files_priv.h"
#include <czmq.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sanitizer/allocator_interface.h>
#include <sodium.h>
#include <sys/stat.h>
#include <xxhash.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CALL_MS 1000 /* each call's timeout: reached only by odd inputs */
#define SYNC_MS 20000
#define HEAP_SLACK (4u * 1024 * 1024)
#define IDS 8 /* ids a phase covers */
#define PREFIX "PREFIX-0123"
#define PREFIX_LEN 11
#define OLD_DST "the old destination"
#define SRC_SIZE 300
#define F_RESUME 1
#define F_FIX 2
#define F_BLAKE 4
#define F_EXISTS 8

static zsock_t *router_sock;
static void *router;
static uint8_t rid[256];
static size_t rid_len;
static mu_client_t *client;
static char sentinel[PATH_MAX], dir[PATH_MAX + 16], dst[PATH_MAX + 32], partial[PATH_MAX + 48],
    src[PATH_MAX + 32], outside[PATH_MAX + 32];
static uint8_t src_bytes[SRC_SIZE];
static bool trace;

/* ---- failures and the scratch directory --------------------------- */

static void cleanup(void);

static void
fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_client: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void
write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        fail("cannot write", path);
}

/* The bytes of path (malloc'd, *size_p), or NULL when it cannot be read. */
static uint8_t *
read_file(const char *path, size_t *size_p)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *more = realloc(buf, cap *= 2);
            if (!more)
                free(buf);
            buf = more;
        }
    }
    fclose(f);
    if (!buf)
        fail("out of memory", NULL);
    *size_p = len;
    return buf;
}

static int
fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        fail("cannot list /proc/self/fd", NULL);
    int count = 0;
    while (readdir(d))
        count++;
    closedir(d);
    return count;
}

/* The names in a directory, sorted, one a line (malloc'd). */
static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *
list_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        fail("cannot list", path);
    char *names[64];
    size_t count = 0, len = 1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (count == 64)
            fail("too many files in", path);
        names[count] = strdup(e->d_name);
        if (!names[count])
            fail("out of memory", NULL);
        len += strlen(names[count++]) + 1;
    }
    closedir(d);
    qsort(names, count, sizeof *names, by_name);
    char *out = malloc(len);
    if (!out)
        fail("out of memory", NULL);
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        strcat(out, names[i]);
        strcat(out, "\n");
        free(names[i]);
    }
    return out;
}

/* ---- the server's side ---------------------------------------------- */

static void
send_frame(const void *frame, size_t size, bool more)
{
    if (zmq_send(router, rid, rid_len, ZMQ_SNDMORE) != (int) rid_len
        || zmq_send(router, frame, size, more ? ZMQ_SNDMORE : 0) != (int) size)
        fail("the ROUTER cannot send", zmq_strerror(errno));
}

static void
send_simple(int kind, uint64_t id, const void *data, size_t size)
{
    uint8_t frame[MU__HDR_SIZE + 64];
    mu__hdr_encode(frame, kind, id);
    if (size)
        memcpy(frame + MU__HDR_SIZE, data, size);
    send_frame(frame, MU__HDR_SIZE + size, false);
}

static void
send_err(uint64_t id, int code, const char *text)
{
    size_t size;
    void *payload = mu__err_encode(code, text, &size);
    if (!payload)
        fail("out of memory", NULL);
    send_simple(MU__K_ERR, id, payload, size);
    free(payload);
}

static bool
client_kind(int kind)
{
    return (kind >= MU__K_HELLO && kind <= MU__K_STREAM_END)
           || (kind >= MU__K_GET_OPEN && kind <= MU__K_PUT_END);
}

/* Reads and checks one message of the client; waits up to wait_ms.
   Returns its kind (*id_p set), or -1 when none came. */
static int
recv_client(int wait_ms, uint64_t *id_p)
{
    zmq_pollitem_t item = { router, 0, ZMQ_POLLIN, 0 };
    int ready;
    while ((ready = zmq_poll(&item, 1, wait_ms)) < 0 && errno == EINTR)
        ;
    if (ready <= 0)
        return -1;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, router, 0) < 0 || !zmq_msg_more(&msg) || zmq_msg_size(&msg) > sizeof rid)
        fail("the client's message has no routing id", NULL);
    rid_len = zmq_msg_size(&msg);
    memcpy(rid, zmq_msg_data(&msg), rid_len);
    if (zmq_msg_recv(&msg, router, 0) < 0 || zmq_msg_more(&msg))
        fail("the client sent a message of more than one frame", NULL);
    int kind;
    const uint8_t *data;
    size_t size;
    if (mu__frame_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &kind, id_p, &data, &size) != 0
        || !client_kind(kind))
        fail("the client sent a malformed frame or a server's kind", NULL);
    if (kind == MU__K_GET_CREDIT
        && (size != 4 || mu__get_le32(data) == 0 || mu__get_le32(data) > MU__WINDOW_MAX))
        fail("the client granted an odd credit", NULL);
    if ((kind == MU__K_BYE || kind == MU__K_PING || kind == MU__K_CANCEL) && size != 0)
        fail("the client sent a payload where none goes", NULL);
    zmq_msg_close(&msg);
    return kind;
}

/* ---- the input ------------------------------------------------------ */

/* The hashes of the GET_DATA bytes sent per transfer id of the download
   phase (ids base..base+IDS-1), for bit 1 of the input. */
typedef struct {
    bool used;
    mu__fhash_t hash;
} fix_t;

typedef struct {
    int flags, alg;
    uint64_t base;   /* the phase's first id */
    uint64_t span;   /* ids its ERRs end: IDS + reopenings */
    uint64_t reopen; /* "hello first" ERRs queued so far: any id reopens a transfer */
    fix_t fix[IDS];  /* download phase, F_FIX */
    uint8_t ends[IDS * 4][MU__DIGEST_MAX]; /* digests of GET_ENDs sent */
    size_t end_count;
} phase_t;

static void
fix_free(phase_t *p)
{
    for (size_t i = 0; i < IDS; i++)
        if (p->fix[i].used)
            mu__fhash_free(&p->fix[i].hash);
    memset(p->fix, 0, sizeof p->fix);
}

/* Notes a one-frame download message; fixes a GET_END's digest (F_FIX)
   and keeps the digest of every GET_END of a phase id. */
static void
note_download(phase_t *p, uint8_t *frame, size_t size)
{
    int kind;
    uint64_t id;
    const uint8_t *data;
    size_t len;
    if (mu__frame_decode(frame, size, &kind, &id, &data, &len) != 0 || id < p->base
        || id >= p->base + IDS)
        return;
    fix_t *f = &p->fix[id - p->base];
    if (!f->used) {
        if (mu__fhash_init(&f->hash, p->alg) != 0)
            fail("out of memory", NULL);
        f->used = true;
        if (p->flags & F_RESUME)
            mu__fhash_update(&f->hash, PREFIX, PREFIX_LEN);
    }
    if (kind == MU__K_GET_DATA && len > 8)
        mu__fhash_update(&f->hash, data + 8, len - 8);
    if (kind == MU__K_GET_END && len == mu__fdigest_len(p->alg)) {
        if (p->flags & F_FIX)
            mu__fhash_final(&f->hash, frame + MU__HDR_SIZE);
        if (p->end_count < IDS * 4)
            memcpy(p->ends[p->end_count++], frame + MU__HDR_SIZE, len);
    }
}

/* Queues the input's messages of one phase (ids below IDS made relative
   to p->base), then the ERRs that end its call. Returns where the next
   phase's records start. */
static const uint8_t *
queue_phase(phase_t *p, int phase, const uint8_t *data, const uint8_t *end)
{
    while (end - data >= 2) {
        unsigned head = data[0] | (unsigned) data[1] << 8;
        data += 2;
        if (head == 0xffff) {
            if (phase < 3)
                break; /* the next phase */
            continue;
        }
        size_t len = head & 0x7fff;
        bool more = (head & 0x8000) != 0;
        if (len > (size_t) (end - data))
            len = (size_t) (end - data);
        /* a copy of its own size, so that a read past it is caught */
        uint8_t *frame = malloc(len ? len : 1);
        if (!frame)
            fail("out of memory", NULL);
        memcpy(frame, data, len);
        data += len;
        /* the last frame of the input, and of a phase, ends its message */
        more = more && end - data >= 2 && !(phase < 3 && data[0] == 0xff && data[1] == 0xff);
        if (len >= MU__HDR_SIZE) {
            uint64_t id = mu__get_le64(frame + 2);
            if (id < IDS)
                mu__put_le64(frame + 2, p->base + id);
        }
        if (phase == 0 && !more)
            note_download(p, frame, len);
        if (!more && len > MU__HDR_SIZE + 4 && frame[1] == MU__K_ERR
            && memmem(frame + MU__HDR_SIZE + 4, len - MU__HDR_SIZE - 4, "hello first", 11))
            p->reopen++; /* a transfer opens again under the next id */
        if (trace && len >= MU__HDR_SIZE)
            fprintf(stderr, "fuzz_client: phase %d -> kind 0x%02x id %" PRIu64 " %zu bytes%s\n",
                    phase, frame[1], mu__get_le64(frame + 2), len - MU__HDR_SIZE,
                    more ? " (more)" : "");
        send_frame(frame, len, more);
        free(frame);
    }
    p->span = IDS + p->reopen; /* left over, they reopen later phases' too */
    for (uint64_t i = 0; i < p->span; i++)
        send_err(p->base + i, MU_ECANCELED, "fuzz_client: end of the phase");
    return data;
}

/* The first id of a phase's call: the client's next but one (the ids of
   the phase before, up to its IDS, are skipped: its ERRs are stale). */
static uint64_t
phase_base(const phase_t *p)
{
    uint64_t id;
    while ((id = mu__client_next_id(client)) < p->base + p->span)
        ;
    return id + 1;
}

/* A code a call may return. */
static void
check_code(const char *call, int rc)
{
    if (trace)
        fprintf(stderr, "fuzz_client: %s -> %d %s (%s) at %" PRId64 " ms\n", call, rc,
                mu_errname(rc), rc ? mu_last_error() : "", mu__now_ms() % 100000);
    bool transfer = strcmp(call, "mu_client_get") == 0 || strcmp(call, "mu_client_put") == 0;
    if (rc > 0 || (transfer && rc == MU_EPIPE)
        || (rc <= -1000 && strcmp(mu_errname(rc), "MU_E?") == 0))
        fail("a call returned an undocumented code", call);
}

static bool
starts_with(const uint8_t *data, size_t size, const char *prefix, size_t len)
{
    return size >= len && memcmp(data, prefix, len) == 0;
}

/* The directory holds only what it may after the download: src, dst
   (and dst.partial when resuming). */
static void
check_dir(bool may_partial)
{
    char *names = list_dir(dir);
    char *save = NULL;
    for (char *name = strtok_r(names, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
        if (strcmp(name, "src") == 0 || strcmp(name, "dst") == 0)
            continue;
        if (may_partial && strcmp(name, "dst.partial") == 0)
            continue;
        fail("a file that should not be in the destination directory", name);
    }
    free(names);
    char *next = list_dir(sentinel);
    if (strcmp(next, "dir\noutside\n") != 0)
        fail("something changed next to the destination directory", next);
    free(next);
    size_t size;
    uint8_t *bytes = read_file(outside, &size);
    if (!bytes || size != 7 || memcmp(bytes, "outside", 7) != 0)
        fail("the file next to the destination directory changed", NULL);
    free(bytes);
}

static void
check_download(const phase_t *p, int rc)
{
    size_t size;
    uint8_t *bytes = read_file(dst, &size);
    if (rc == 0) {
        if (!bytes)
            fail("a download succeeded without its file", NULL);
        uint8_t digest[MU__DIGEST_MAX];
        mu__fhash_t h;
        if (mu__fhash_init(&h, p->alg) != 0)
            fail("out of memory", NULL);
        mu__fhash_update(&h, bytes, size);
        size_t len = mu__fhash_final(&h, digest);
        mu__fhash_free(&h);
        bool sent = false;
        for (size_t i = 0; i < p->end_count && !sent; i++)
            sent = memcmp(p->ends[i], digest, len) == 0;
        if (!sent)
            fail("a download put in place a file of a digest no GET_END carried", NULL);
        if ((p->flags & F_RESUME) && !starts_with(bytes, size, PREFIX, PREFIX_LEN))
            fail("a resumed download lost the bytes it had", NULL);
    } else if (p->flags & F_EXISTS) {
        if (!bytes || size != strlen(OLD_DST) || memcmp(bytes, OLD_DST, size) != 0)
            fail("a failed download changed the existing destination", NULL);
    } else if (bytes) {
        fail("a failed download left a file", NULL);
    }
    free(bytes);
    bytes = read_file(partial, &size);
    if (bytes && !(p->flags & F_RESUME))
        fail("a LOCAL.partial without MU_FILE_RESUME", NULL);
    if (bytes && rc == 0)
        fail("a LOCAL.partial left after a download succeeded", NULL);
    if (bytes && !starts_with(bytes, size, PREFIX, PREFIX_LEN))
        fail("LOCAL.partial lost the bytes it had", NULL);
    free(bytes);
    check_dir((p->flags & F_RESUME) != 0);
}

static void
run_download(phase_t *p, const uint8_t **data, const uint8_t *end)
{
    if (p->flags & F_RESUME)
        write_file(partial, PREFIX, PREFIX_LEN);
    if (p->flags & F_EXISTS)
        write_file(dst, OLD_DST, strlen(OLD_DST));
    p->base = phase_base(p);
    *data = queue_phase(p, 0, *data, end);
    mu_file_options_t o = { .chunk_size = 64,
                            .window = 4,
                            .timeout_ms = CALL_MS,
                            .digest = p->alg,
                            .flags = ((p->flags & F_RESUME) ? MU_FILE_RESUME : 0)
                                     | ((p->flags & F_EXISTS) ? MU_FILE_OVERWRITE : 0) };
    int rc = mu_client_get(client, "remote", dst, &o);
    check_code("mu_client_get", rc);
    check_download(p, rc);
    fix_free(p);
    unlink(dst);
    unlink(partial);
}

static void
run_upload(phase_t *p, const uint8_t **data, const uint8_t *end)
{
    p->base = phase_base(p);
    *data = queue_phase(p, 1, *data, end);
    mu_file_options_t o = { .chunk_size = 64,
                            .window = 4,
                            .timeout_ms = CALL_MS,
                            .digest = p->alg };
    check_code("mu_client_put", mu_client_put(client, src, "remote", &o));
    size_t size;
    uint8_t *bytes = read_file(src, &size);
    if (!bytes || size != SRC_SIZE || memcmp(bytes, src_bytes, SRC_SIZE) != 0)
        fail("an upload changed its source", NULL);
    free(bytes);
    check_dir(false);
}

static void
run_request(phase_t *p, const uint8_t **data, const uint8_t *end)
{
    p->base = phase_base(p);
    *data = queue_phase(p, 2, *data, end);
    void *reply = NULL;
    size_t size = 0;
    int rc = mu_client_request(client, "request", 7, &reply, &size, CALL_MS);
    check_code("mu_client_request", rc);
    if ((rc == 0) != (reply != NULL))
        fail("a request's reply and its code disagree", NULL);
    if (reply && ((char *) reply)[size] != '\0')
        fail("a reply without its NUL", NULL);
    free(reply);
}

/* Receives until the target's last push; checks each item. */
static void
recv_until(const uint8_t *mark, size_t mark_len)
{
    for (;;) {
        mu_client_kind_t kind;
        uint64_t id;
        int last;
        void *item;
        size_t size;
        int rc = mu_client_recv(client, &kind, &id, &last, &item, &size, SYNC_MS);
        if (rc == MU_EINTR)
            continue; /* libFuzzer's SIGALRM (its -timeout) interrupted the wait */
        if (rc != 0)
            fail("the client's queue did not give the last push", mu_errname(rc));
        if ((kind != MU_CLIENT_PUSH && kind != MU_CLIENT_STREAM) || (last != 0 && last != 1)
            || (kind == MU_CLIENT_PUSH && (id != 0 || last)) || ((char *) item)[size] != '\0')
            fail("a malformed item from mu_client_recv", NULL);
        bool done = kind == MU_CLIENT_PUSH && size == mark_len && memcmp(item, mark, size) == 0;
        free(item);
        if (done)
            return;
    }
}

static void
run_stream(phase_t *p, const uint8_t **data, const uint8_t *end)
{
    p->base = phase_base(p);
    *data = queue_phase(p, 3, *data, end);
    check_code("mu_client_stream_send",
               mu_client_stream_send(client, p->base, "chunk", 5, 1, CALL_MS));
    uint8_t mark[16];
    randombytes_buf(mark, sizeof mark);
    send_simple(MU__K_PUSH, 0, mark, sizeof mark);
    recv_until(mark, sizeof mark);
}

/* A request the target answers at once must succeed; reads everything the
   client sent up to it. */
static void
sync_client(const phase_t *p)
{
    uint64_t id = phase_base(p);
    void *reply = NULL;
    size_t size;
    int rc;
    do { /* a signal (libFuzzer's SIGALRM) interrupts a wait: MU_EINTR */
        send_simple(MU__K_REP, id, "sync", 4);
        rc = mu_client_request(client, "sync", 4, &reply, &size, SYNC_MS);
    } while (rc == MU_EINTR && (id = mu__client_next_id(client) + 1));
    if (rc != 0 || size != 4 || memcmp(reply, "sync", 4) != 0)
        fail("the client no longer answers", mu_errname(rc));
    free(reply);
    uint64_t got;
    int kind;
    while ((kind = recv_client(SYNC_MS, &got)) != MU__K_REQ || got != id)
        if (kind < 0)
            fail("the client's request never came", NULL);
    void *item;
    if (mu_client_recv(client, NULL, NULL, NULL, &item, &size, 0) != MU_EAGAIN)
        fail("the client's queue is not empty at the end", NULL);
}

/* ---- set-up --------------------------------------------------------- */

static void
rmrf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[PATH_MAX + 300];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rmrf(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void
cleanup(void)
{
    mu_client_destroy(&client);
    zsock_destroy(&router_sock);
    router = NULL;
    if (sentinel[0])
        rmrf(sentinel);
    sentinel[0] = '\0';
}

static void
make_tree(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(sentinel, sizeof sentinel, "%s/fuzz_client.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(sentinel))
        fail("cannot make a scratch directory", sentinel);
    snprintf(dir, sizeof dir, "%s/dir", sentinel);
    snprintf(dst, sizeof dst, "%s/dst", dir);
    snprintf(partial, sizeof partial, "%s/dst.partial", dir);
    snprintf(src, sizeof src, "%s/src", dir);
    snprintf(outside, sizeof outside, "%s/outside", sentinel);
    if (mkdir(dir, 0700) != 0)
        fail("cannot make", dir);
    for (size_t i = 0; i < SRC_SIZE; i++)
        src_bytes[i] = (uint8_t) (i * 7 + 1);
    write_file(src, src_bytes, SRC_SIZE);
    write_file(outside, "outside", 7);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    setenv("ZSYS_SIGHANDLER", "false", 1); /* leave SIGINT to libFuzzer */
    trace = getenv("FUZZ_CLIENT_TRACE") != NULL;
    if (sodium_init() < 0)
        fail("sodium_init failed", NULL);
    make_tree();
    char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "ipc://@mu-fuzz-client-%ld", (long) getpid());
    router_sock = zsock_new(ZMQ_ROUTER);
    int zero = 0, one = 1;
    router = router_sock ? zsock_resolve(router_sock) : NULL;
    if (!router || zmq_setsockopt(router, ZMQ_SNDHWM, &zero, sizeof zero) != 0
        || zmq_setsockopt(router, ZMQ_RCVHWM, &zero, sizeof zero) != 0
        || zmq_setsockopt(router, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0
        || zmq_bind(router, endpoint) != 0)
        fail("cannot bind", endpoint);
    client = mu_client_new();
    if (!client || mu_client_set_insecure(client) != 0 || mu_client_connect(client, endpoint) != 0)
        fail("cannot connect the client", endpoint);
    uint64_t id;
    if (recv_client(SYNC_MS, &id) != MU__K_HELLO)
        fail("no hello from the client", NULL);
    uint8_t peer[8] = { 1 };
    send_simple(MU__K_WELCOME, 0, peer, sizeof peer);
    if (mu_client_wait_ready(client, SYNC_MS) != 0)
        fail("the client did not get ready", NULL);
    phase_t first = { 0 };
    sync_client(&first);
    atexit(cleanup); /* after czmq's own: runs before it */
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t heap = __sanitizer_get_current_allocated_bytes();
    int fds = fd_count();
    phase_t p = { .flags = data[0] };
    p.alg = (data[0] & F_BLAKE) ? MU__DIGEST_BLAKE2B_256 : MU__DIGEST_XXH3_128;
    const uint8_t *next = data + 1, *end = data + size;
    run_download(&p, &next, end);
    run_upload(&p, &next, end);
    run_request(&p, &next, end);
    run_stream(&p, &next, end);
    sync_client(&p);
    check_dir(false);
    if (fd_count() != fds)
        fail("file descriptors leaked", NULL);
    if (__sanitizer_get_current_allocated_bytes() > heap + HEAP_SLACK)
        fail("the heap grew", NULL);
    return 0;
}

/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  fuzz_server.c — libFuzzer target for mu_server's message dispatch and
    its file service (src/conn/mu_server.c, src/conn/mu_files.c), driven in-process
    through the server's own ROUTER: the target binds it to an inproc://
    endpoint as well (mu_server_zsock) and plays the peer with a DEALER, so
    every message takes the real path (mu_server_recv, the dispatch, the
    file handler) with no network, and delivery is synchronous.

    Two insecure servers serve the same root below a sentinel directory
    (server_tree.h): one resolves paths with openat2, the other with the
    component walk (MU_FILES_RESOLVE=walk).

    Input: byte 0 — bit 0: the walking server; bit 1: the target writes
    the right BLAKE2b digest into every 32-byte PUT_END (of the PUT_DATA
    bytes it sent for that transfer id), so uploads that ask for BLAKE2b,
    as the seeds' do, can complete. Then records: a
    16-bit little-endian head (bits 0..14: the frame's length, cut to what
    the input holds; bit 15: another frame of the same message follows)
    and the frame as a peer sends it (version, kind, id, payload:
    src/conn/mu_conn.h, src/conn/mu_files.c). The peer says HELLO first, then the
    input's messages, then BYE; a PING from the peer once it has left must
    then come back as an error with its id (which proves every message
    before it was handled).

    Checked after every input (a failure aborts):
      - every message of the server is one frame, of a server-to-client
        kind, with the payload size its kind has; errors decode with a
        negative code;
      - no payload holds the secret bytes kept outside the root;
      - the sentinel tree outside the root is as it was (nothing written,
        created or removed outside the root);
      - no "*.part-*" file below the root once the peer has left (the
        target does not send uploads to such names);
      - as many file descriptors open as before, no peer left joined;
      - the heap holds at most HEAP_SLACK bytes more than before;
      - the server answered within SYNC_MS.
    FUZZ_SERVER_TRACE=1 in the environment prints every message of the
    server (to see what an input does). */
#include "base/mu_internal.h" /* mu__now_ms */
#include "conn/mu_conn.h"
#include "server_tree.h"
#include <czmq.h>
#include <sanitizer/allocator_interface.h>
#include <sodium.h>
#include <time.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SYNC_MS 20000
#define HEAP_SLACK (4u * 1024 * 1024)
#define UPLOADS 32
#define K_PUT_OPEN 0x43
#define K_PUT_DATA 0x44
#define K_PUT_END 0x45

typedef struct {
    mu_server_t *server;
    zsock_t *dealer;
    void *handle;
    uint64_t sync_id; /* the PING that ends the input */
    bool synced;      /* its answer came */
} link_t;

static link_t links[2];
static bool trace; /* FUZZ_SERVER_TRACE set: print what the server sends */

/* ---- the peer's side ------------------------------------------------- */

/* The payload size a server-to-client kind must have (-1: any, -2: the
   kind is not one the server sends a peer while it runs). */
static long
reply_size(int kind)
{
    switch (kind) {
    case MU__K_WELCOME:
        return 8;
    case MU__K_PONG:
        return 0;
    case MU__K_ERR:
        return -1;
    case 0x50:
        return 13; /* GET_INFO: size, window, digest algorithm */
    case 0x51:
        return -1; /* GET_DATA */
    case 0x52:
        return -1; /* GET_END: 16 (XXH3-128) or 32 (BLAKE2b-256), checked below */
    case 0x53:
    case 0x54:
        return 4; /* PUT_READY, PUT_CREDIT */
    case 0x55:
        return 0; /* PUT_DONE */
    default:
        return -2;
    }
}

/* Checks one message of the server; notes the answer to the sync PING. */
static void
check_reply(link_t *link, zmq_msg_t *msg)
{
    int kind, code;
    uint64_t id;
    const uint8_t *data;
    const char *text = "";
    size_t size, text_len = 0;
    if (zmq_msg_more(msg))
        tree_fail("the server sent a message of more than one frame", NULL);
    if (mu__frame_decode(zmq_msg_data(msg), zmq_msg_size(msg), &kind, &id, &data, &size) != 0)
        tree_fail("the server sent a malformed frame", NULL);
    long want = reply_size(kind);
    if (want == -2 || (want >= 0 && size != (size_t) want))
        tree_fail("the server sent an unexpected kind or size", NULL);
    if (kind == 0x51 && size < 9)
        tree_fail("GET_DATA without data", NULL);
    if (kind == 0x52 && size != 16 && size != 32)
        tree_fail("GET_END with a digest of neither 16 nor 32 bytes", NULL);
    if (kind == MU__K_ERR
        && (mu__err_decode(data, size, &code, &text, &text_len) != 0 || code >= 0))
        tree_fail("the server sent a malformed error", NULL);
    if (data && tree_has_secret(data, size))
        tree_fail("the server sent bytes of a file outside the root", NULL);
    if (kind == MU__K_ERR && id == link->sync_id)
        link->synced = true;
    if (trace)
        fprintf(stderr, "fuzz_server: <- kind 0x%02x id %" PRIu64 " %zu bytes%s%.*s\n", kind, id,
                size, kind == MU__K_ERR ? ": " : "", kind == MU__K_ERR ? (int) text_len : 0,
                kind == MU__K_ERR ? text : "");
}

/* Lets the server work until it has nothing more to do now, then reads
   and checks everything it sent the peer. */
static void
pump(link_t *link)
{
    mu_event_t *event;
    int rc;
    while ((rc = mu_server_recv(link->server, &event, 0)) == 0)
        mu_event_destroy(&event); /* a request is answered MU_EREMOTE */
    if (rc != MU_EAGAIN)
        tree_fail("mu_server_recv failed", mu_strerror(rc));
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (zmq_msg_recv(&msg, link->handle, ZMQ_DONTWAIT) >= 0)
        check_reply(link, &msg);
    zmq_msg_close(&msg);
}

/* Sends one frame to the server, letting it work while the pipe is full. */
static void
send_frame(link_t *link, const void *frame, size_t size, bool more)
{
    int64_t deadline = mu__now_ms() + SYNC_MS;
    while (zmq_send(link->handle, frame, size, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) < 0) {
        if (errno != EAGAIN || mu__now_ms() > deadline)
            tree_fail("the server takes no more messages", NULL);
        pump(link);
    }
}

static void
send_simple(link_t *link, int kind, uint64_t id, const void *data, size_t size)
{
    uint8_t frame[MU__HDR_SIZE + 16];
    mu__hdr_encode(frame, kind, id);
    if (size)
        memcpy(frame + MU__HDR_SIZE, data, size);
    send_frame(link, frame, MU__HDR_SIZE + size, false);
}

/* Says BYE, then waits for the answer to a PING sent once gone. */
static void
leave_and_sync(link_t *link)
{
    send_simple(link, MU__K_BYE, 0, NULL, 0);
    randombytes_buf(&link->sync_id, sizeof link->sync_id);
    link->synced = false;
    send_simple(link, MU__K_PING, link->sync_id, NULL, 0);
    int64_t deadline = mu__now_ms() + SYNC_MS;
    while (!link->synced) {
        if (mu__now_ms() > deadline)
            tree_fail("the server stopped answering", NULL);
        pump(link);
    }
}

/* ---- digests for PUT_END (input bit 1) ------------------------------ */

typedef struct {
    crypto_generichash_state hash;
    uint64_t id;
    bool used;
} upload_t;

static upload_t uploads[UPLOADS];
static size_t uploads_next;

static upload_t *
upload_find(uint64_t id)
{
    for (size_t i = 0; i < UPLOADS; i++)
        if (uploads[i].used && uploads[i].id == id)
            return &uploads[i];
    return NULL;
}

/* Follows the uploads of a one-frame message; fixes a PUT_END's digest. */
static void
upload_note(uint8_t *frame, size_t size)
{
    int kind;
    uint64_t id;
    const uint8_t *data;
    size_t len;
    if (mu__frame_decode(frame, size, &kind, &id, &data, &len) != 0)
        return;
    upload_t *u = upload_find(id);
    if (kind == K_PUT_OPEN) {
        if (!u) {
            u = &uploads[uploads_next++ % UPLOADS];
            u->id = id;
            u->used = true;
        }
        crypto_generichash_init(&u->hash, NULL, 0, 32);
    } else if (kind == K_PUT_DATA && u && len > 8) {
        crypto_generichash_update(&u->hash, data + 8, len - 8);
    } else if (kind == K_PUT_END && u && len == 32) {
        crypto_generichash_state copy = u->hash;
        crypto_generichash_final(&copy, frame + MU__HDR_SIZE, 32);
    }
}

/* ---- the input ------------------------------------------------------ */

/* True for a PUT_OPEN of a path holding ".part-": the upload of such a
   name, when it succeeds, would look like a temporary file left behind. */
static bool
uploads_part_name(const uint8_t *frame, size_t size)
{
    int kind;
    uint64_t id;
    const uint8_t *data;
    size_t len;
    return mu__frame_decode(frame, size, &kind, &id, &data, &len) == 0 && kind == K_PUT_OPEN
           && len > 20 && memmem(data + 20, len - 20, ".part-", 6);
}

/* Sends the input's messages, letting the server work after each one
   (except uploads to a "*.part-*" name: see uploads_part_name). */
static void
send_input(link_t *link, const uint8_t *data, size_t size, bool fix_digests)
{
    memset(uploads, 0, sizeof uploads);
    uploads_next = 0;
    while (size >= 2) {
        size_t len = (size_t) (data[0] | (data[1] & 0x7f) << 8);
        bool more = (data[1] & 0x80) != 0;
        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        /* a copy of its own size, so that a read past it is caught */
        uint8_t *frame = malloc(len ? len : 1);
        if (!frame)
            tree_fail("out of memory", NULL);
        memcpy(frame, data, len);
        data += len;
        size -= len;
        more = more && size >= 2; /* the last frame ends its message */
        if (fix_digests)
            upload_note(frame, len);
        if (more || !uploads_part_name(frame, len)) {
            send_frame(link, frame, len, more);
            if (!more)
                pump(link); /* as a peer waits for answers: chunks flow */
        }
        free(frame);
    }
}

static void
cleanup(void)
{
    for (size_t i = 0; i < 2; i++) {
        zsock_destroy(&links[i].dealer);
        mu_server_destroy(&links[i].server);
    }
    tree_destroy();
}

static void
start_link(link_t *link, const char *root, bool walk, int index)
{
    char endpoint[96];
    if (walk)
        setenv("MU_FILES_RESOLVE", "walk", 1);
    link->server = mu_server_new();
    snprintf(endpoint, sizeof endpoint, "ipc://@mu-fuzz-server-%ld-%d", (long) getpid(), index);
    if (!link->server || mu_server_set_insecure(link->server) != 0
        || mu_server_set_root(link->server, root) != 0
        || mu_server_bind(link->server, endpoint) < 0)
        tree_fail("cannot start a server", endpoint);
    unsetenv("MU_FILES_RESOLVE");
    snprintf(endpoint, sizeof endpoint, "inproc://mu-fuzz-server-%d", index);
    if (zmq_bind(mu_server_zsock(link->server), endpoint) != 0)
        tree_fail("cannot bind", endpoint);
    link->dealer = zsock_new(ZMQ_DEALER);
    if (!link->dealer || zsock_connect(link->dealer, "%s", endpoint) != 0)
        tree_fail("cannot connect", endpoint);
    link->handle = zsock_resolve(link->dealer);
    send_simple(link, MU__K_HELLO, 0, "warm-up", 7);
    leave_and_sync(link);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    setenv("ZSYS_SIGHANDLER", "false", 1); /* leave SIGINT to libFuzzer */
    trace = getenv("FUZZ_SERVER_TRACE") != NULL;
    if (sodium_init() < 0)
        tree_fail("sodium_init failed", NULL);
    const char *root = tree_create();
    start_link(&links[0], root, false, 0);
    start_link(&links[1], root, true, 1);
    atexit(cleanup); /* after czmq's own: runs before it */
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    link_t *link = &links[data[0] & 1];
    size_t heap = __sanitizer_get_current_allocated_bytes();
    tree_new_secret();
    char *outside = tree_snapshot();
    int fds = tree_fd_count();

    send_simple(link, MU__K_HELLO, 0, "fuzz", 4);
    send_input(link, data + 1, size - 1, (data[0] & 2) != 0);
    leave_and_sync(link);

    char *now = tree_snapshot();
    if (strcmp(now, outside) != 0) {
        fprintf(stderr, "before:\n%safter:\n%s", outside, now);
        tree_fail("the tree outside the root changed", NULL);
    }
    free(now);
    free(outside);
    if (mu_server_peers(link->server) != 0)
        tree_fail("a peer is still joined after BYE", NULL);
    if (tree_fd_count() != fds)
        tree_fail("file descriptors leaked", NULL);
    if (tree_reset() != 0)
        tree_fail("a temporary upload file was left behind", NULL);
    if (__sanitizer_get_current_allocated_bytes() > heap + HEAP_SLACK)
        tree_fail("the heap grew", NULL);
    return 0;
}

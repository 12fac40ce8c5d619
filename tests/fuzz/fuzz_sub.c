/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  fuzz_sub.c — libFuzzer target for mu_sub (src/net/mu_sub.c) against a
    hostile publisher: the input is a sequence of multipart messages that
    a raw libzmq XPUB (the target's) sends over inproc:// to a real mu_sub,
    whose socket the target connects itself (mu_sub_connect takes tcp and
    ipc only). inproc has no I/O thread and no high-water mark here (0 on
    both ends), so every message is in the subscriber's queue once zmq_send
    returns; a sync is a two-frame sentinel message, read up to.

    Each input gets a new subscriber and publisher (nothing carries over).
    Byte 0: bit 0 set: the subscriber holds "" (every topic); clear: "a"
    and "b". Then records, each an op byte:
      op % 8 in 0..4   a message: frames (1..5) from op >> 5, then the
                       topic (byte t: t < 0xe0: t % 32 bytes of input;
                       0xe0..0xef: 240..255 bytes 'a'; 0xf0..: 256 +
                       (t - 0xf0) * 8192 bytes 'b'), the payload (byte
                       p: p % 64 bytes of input), with 3 frames or more
                       the trailer (byte k: k & 3 the session, 3: 8 bytes
                       of input; (k >> 2) & 3 the sequence: the session's
                       counter + 1, 1 byte, 8 bytes of input, UINT64_MAX -
                       1 byte; (k >> 4) & 3 the flags FIRST, REPLAY; k >> 6
                       == 3: the trailer's length is the next byte % 40),
                       then 1 byte of input per frame after the third;
      op % 8 == 5      a sync, then "a" subscribed if it was not held,
                       else unsubscribed (mu_sub forgets the sequences of
                       the topics it covered; with "a" and "b", its topics
                       stop or start arriving);
      op % 8 in 6..7   a sync.
    At most 400 messages per input, a sync every 200 and at the end.

    Checked (a failure aborts): every message mu_sub hands out is the next
    one that the rules of include/mu_pubsub.h and doc/pubsub.md say it must
    deliver, in order, with its topic, payload and replay flag: libzmq's
    prefix filter; 2 frames delivered whatever the topic; 3 frames with a
    17-byte trailer and a topic of at most 255 bytes go through the
    sequence check, anything else is malformed; the check (per session
    and topic): a first message is delivered, FIRST without REPLAY starts
    over, a number not above the last is a duplicate (dropped), else the
    gap is missed (not for replays; saturating); an unsubscribe forgets
    the topics of its prefix. The counters received, bytes_received,
    missed, duplicates and malformed equal the model's after every sync.
    Nothing may leak (LeakSanitizer at exit; every object is destroyed
    after each input). Not covered: the sequence table's start-over at
    65,536 entries (an input holds far fewer). */
#include "mutil.h"
#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SYNC_MS 20000
#define MAX_MESSAGES 400
#define SYNC_EVERY 200
#define MAX_TOPIC MU_PUBSUB_MAX_TOPIC
#define FLAG_FIRST 1
#define FLAG_REPLAY 2

static const char SENTINEL[] = "b\xff\xfe-fuzz-sync";
#define SENTINEL_SIZE (sizeof SENTINEL - 1)

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_sub: %s\n", what);
    abort();
}

/* ---- the input ---------------------------------------------------------- */

typedef struct {
    const uint8_t *p, *end;
} input_t;

static uint8_t
take_byte(input_t *in)
{
    return in->p < in->end ? *in->p++ : 0;
}

/* Up to n bytes of input into out (zeros past the end). */
static void
take_bytes(input_t *in, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = take_byte(in);
}

/* ---- the model ------------------------------------------------------------ */

typedef struct {
    uint8_t session[8];
    size_t topic_size;
    uint8_t topic[MAX_TOPIC];
    uint64_t last;
    bool used;
} seq_entry_t;

typedef struct {
    uint8_t *topic, *payload;
    size_t topic_size, size;
    int replay;
} expected_t;

typedef struct {
    seq_entry_t seqs[MAX_MESSAGES];
    size_t nseqs;
    expected_t queue[MAX_MESSAGES + 8];
    size_t head, tail;
    bool all;    /* "" held */
    bool a_held; /* "a" held */
    uint64_t counter[3];
    mu_sub_stats_t st; /* what mu_sub's must be */
} model_t;

static model_t model;

static bool
starts_with(const uint8_t *topic, size_t size, char c)
{
    return size > 0 && topic[0] == (uint8_t) c;
}

static bool
passes_filter(const uint8_t *topic, size_t size)
{
    return model.all || (model.a_held && starts_with(topic, size, 'a'))
           || starts_with(topic, size, 'b');
}

static seq_entry_t *
seq_find(const uint8_t *session, const uint8_t *topic, size_t topic_size, bool *made)
{
    *made = false;
    for (size_t i = 0; i < model.nseqs; i++) {
        seq_entry_t *e = &model.seqs[i];
        if (e->used && e->topic_size == topic_size && memcmp(e->session, session, 8) == 0
            && memcmp(e->topic, topic, topic_size) == 0)
            return e;
    }
    if (model.nseqs == MAX_MESSAGES)
        fail("model: sequence table full");
    seq_entry_t *e = &model.seqs[model.nseqs++];
    e->used = true;
    memcpy(e->session, session, 8);
    e->topic_size = topic_size;
    memcpy(e->topic, topic, topic_size);
    *made = true;
    return e;
}

/* The rule of mu_sub for a 3-frame message: deliver or not. */
static bool
model_sequence(const uint8_t *trailer, const uint8_t *topic, size_t topic_size)
{
    uint64_t seq = 0;
    for (int i = 0; i < 8; i++)
        seq |= (uint64_t) trailer[8 + i] << (8 * i);
    uint8_t flags = trailer[16];
    bool made;
    seq_entry_t *e = seq_find(trailer, topic, topic_size, &made);
    if (made || ((flags & FLAG_FIRST) && !(flags & FLAG_REPLAY))) {
        e->last = seq;
        return true;
    }
    if (seq <= e->last) {
        model.st.duplicates++;
        return false;
    }
    if (!(flags & FLAG_REPLAY)) {
        uint64_t gap = seq - e->last - 1;
        model.st.missed = gap > UINT64_MAX - model.st.missed ? UINT64_MAX : model.st.missed + gap;
    }
    e->last = seq;
    return true;
}

static void
expect(const uint8_t *topic, size_t topic_size, const uint8_t *payload, size_t size, int replay)
{
    if (model.tail == sizeof model.queue / sizeof model.queue[0])
        fail("model: queue full");
    expected_t *x = &model.queue[model.tail++];
    x->topic = malloc(topic_size ? topic_size : 1);
    x->payload = malloc(size ? size : 1);
    if (!x->topic || !x->payload)
        fail("model: no memory");
    memcpy(x->topic, topic, topic_size);
    memcpy(x->payload, payload, size);
    x->topic_size = topic_size;
    x->size = size;
    x->replay = replay;
    model.st.received++;
    model.st.bytes_received += size;
}

/* What mu_sub must make of a message of n frames. */
static void
model_message(int n, uint8_t *const *frames, const size_t *sizes)
{
    if (!passes_filter(frames[0], sizes[0]))
        return; /* libzmq's filter: never reaches mu_sub */
    bool framed = n == 2 || (n == 3 && sizes[0] <= MAX_TOPIC && sizes[2] == 17);
    if (!framed) {
        model.st.malformed++;
        return;
    }
    if (n == 3 && !model_sequence(frames[2], frames[0], sizes[0]))
        return;
    expect(frames[0], sizes[0], frames[1], sizes[1], n == 3 && (frames[2][16] & FLAG_REPLAY));
}

static void
model_forget(char c)
{
    for (size_t i = 0; i < model.nseqs; i++)
        if (model.seqs[i].used && starts_with(model.seqs[i].topic, model.seqs[i].topic_size, c))
            model.seqs[i].used = false;
}

static void
model_clear(void)
{
    for (size_t i = model.head; i < model.tail; i++) {
        free(model.queue[i].topic);
        free(model.queue[i].payload);
    }
    memset(&model, 0, sizeof model);
}

/* ---- the bed ------------------------------------------------------------ */

typedef struct {
    zsock_t *xpub;
    void *h;
    mu_sub_t *sub;
} bed_t;

static void
xpub_expect_subscription(bed_t *b, uint8_t kind)
{
    uint8_t got[8];
    int n = zmq_recv(b->h, got, sizeof got, 0);
    if (n < 1 || got[0] != kind)
        fail("the publisher did not get the subscription message");
}

static void
bed_open(bed_t *b, bool all)
{
    static unsigned serial;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://fuzz-sub-%u", serial++);
    b->xpub = zsock_new(ZMQ_XPUB);
    b->sub = mu_sub_new();
    if (!b->xpub || !b->sub)
        fail("no socket");
    b->h = zsock_resolve(b->xpub);
    zsock_set_sndhwm(b->xpub, 0);
    zsock_set_rcvtimeo(b->xpub, SYNC_MS);
    if (zmq_bind(b->h, ep) != 0 || mu_sub_set_hwm(b->sub, 0) != 0
        || zmq_connect(zsock_resolve(mu_sub_zsock(b->sub)), ep) != 0)
        fail("no inproc link");
    const char *prefixes = all ? "" : "ab";
    size_t count = all ? 1 : 2;
    for (size_t i = 0; i < count; i++) {
        if (mu_sub_subscribe(b->sub, prefixes + i, all ? 0 : 1) != 0)
            fail("subscribe");
        xpub_expect_subscription(b, 1);
    }
    model.all = all;
}

static void
bed_close(bed_t *b)
{
    mu_sub_destroy(&b->sub);
    zsock_destroy(&b->xpub);
}

static void
send_message(bed_t *b, int n, uint8_t *const *frames, const size_t *sizes)
{
    for (int i = 0; i < n; i++)
        if (zmq_send(b->h, frames[i], sizes[i], i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
            fail("zmq_send");
}

static void
check_stats(bed_t *b)
{
    mu_sub_stats_t st = { .size = sizeof st };
    if (mu_sub_stats(b->sub, &st) != 0)
        fail("mu_sub_stats");
    if (st.received != model.st.received || st.bytes_received != model.st.bytes_received
        || st.missed != model.st.missed || st.duplicates != model.st.duplicates
        || st.malformed != model.st.malformed) {
        fprintf(stderr,
                "fuzz_sub: got received %llu bytes %llu missed %llu duplicates %llu malformed "
                "%llu; model %llu %llu %llu %llu %llu\n",
                (unsigned long long) st.received, (unsigned long long) st.bytes_received,
                (unsigned long long) st.missed, (unsigned long long) st.duplicates,
                (unsigned long long) st.malformed, (unsigned long long) model.st.received,
                (unsigned long long) model.st.bytes_received, (unsigned long long) model.st.missed,
                (unsigned long long) model.st.duplicates, (unsigned long long) model.st.malformed);
        fail("counters differ from the model's");
    }
}

/* Sends the sentinel and reads up to it, each delivery checked. */
static void
sync_bed(bed_t *b)
{
    uint8_t *frames[2] = { (uint8_t *) SENTINEL, (uint8_t *) "s" };
    size_t sizes[2] = { SENTINEL_SIZE, 1 };
    send_message(b, 2, frames, sizes);
    model.st.received++;
    model.st.bytes_received++;
    while (true) {
        mu_sub_msg_t m;
        if (mu_sub_recv(b->sub, &m, SYNC_MS) != 0)
            fail("the subscriber did not deliver the sentinel");
        if (m.topic_size == SENTINEL_SIZE && memcmp(m.topic, SENTINEL, SENTINEL_SIZE) == 0) {
            if (model.head != model.tail)
                fail("messages the model expected were not delivered");
            if (m.replay)
                fail("the sentinel came as a replay");
            break;
        }
        if (model.head == model.tail)
            fail("the subscriber delivered a message the model did not expect");
        expected_t *x = &model.queue[model.head++];
        if (m.topic_size != x->topic_size || memcmp(m.topic, x->topic, x->topic_size) != 0)
            fail("a delivered message's topic differs");
        if (m.size != x->size || (m.size && memcmp(m.data, x->payload, x->size) != 0))
            fail("a delivered message's payload differs");
        if (m.replay != x->replay)
            fail("a delivered message's replay flag differs");
        free(x->topic);
        free(x->payload);
        x->topic = x->payload = NULL;
    }
    model.head = model.tail = 0;
    check_stats(b);
}

/* ---- one message from the input ----------------------------------------- */

static const uint8_t SESSIONS[3][8] = { { 1, 2, 3, 4, 5, 6, 7, 8 },
                                        { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
                                        { 0 } };
static const int FRAME_COUNTS[8] = { 3, 3, 3, 2, 1, 4, 5, 3 };

static uint8_t topic_buf[256 + 15 * 8192];

static void
one_message(bed_t *b, input_t *in, uint8_t op)
{
    int n = FRAME_COUNTS[op >> 5];
    uint8_t t = take_byte(in);
    size_t topic_size;
    if (t < 0xe0) {
        topic_size = t % 32;
        take_bytes(in, topic_buf, topic_size);
    } else if (t < 0xf0) {
        topic_size = 240 + (size_t) (t - 0xe0);
        memset(topic_buf, 'a', topic_size);
    } else {
        topic_size = 256 + (size_t) (t - 0xf0) * 8192;
        memset(topic_buf, 'b', topic_size);
    }
    if (topic_size == SENTINEL_SIZE && memcmp(topic_buf, SENTINEL, SENTINEL_SIZE) == 0)
        topic_buf[0] = 'c'; /* never the sentinel */
    uint8_t payload[64];
    size_t size = take_byte(in) % 64;
    take_bytes(in, payload, size);
    uint8_t trailer[40] = { 0 };
    size_t trailer_size = 17;
    if (n >= 3) {
        uint8_t k = take_byte(in);
        int sel = k & 3;
        if (sel < 3)
            memcpy(trailer, SESSIONS[sel], 8);
        else
            take_bytes(in, trailer, 8);
        uint64_t seq = 0;
        switch ((k >> 2) & 3) {
        case 0:
            seq = sel < 3 ? ++model.counter[sel] : 1;
            break;
        case 1:
            seq = take_byte(in);
            break;
        case 2:
            for (int i = 0; i < 8; i++)
                seq |= (uint64_t) take_byte(in) << (8 * i);
            break;
        default:
            seq = UINT64_MAX - take_byte(in);
        }
        for (int i = 0; i < 8; i++)
            trailer[8 + i] = (uint8_t) (seq >> (8 * i));
        trailer[16] = (uint8_t) ((k >> 4) & 3);
        if ((k >> 6) == 3)
            trailer_size = take_byte(in) % 40;
    }
    uint8_t extra[2];
    take_bytes(in, extra, n > 3 ? (size_t) (n - 3) : 0);
    uint8_t *frames[5] = { topic_buf, payload, trailer, &extra[0], &extra[1] };
    size_t sizes[5] = { topic_size, size, trailer_size, 1, 1 };
    send_message(b, n, frames, sizes);
    model_message(n, frames, sizes);
}

/* Syncs, then toggles the subscription to "a". */
static void
toggle_a(bed_t *b)
{
    sync_bed(b);
    if (model.a_held) {
        if (mu_sub_unsubscribe(b->sub, "a", 1) != 0)
            fail("unsubscribe");
        model.a_held = false;
        model_forget('a');
        xpub_expect_subscription(b, 0);
    } else {
        if (mu_sub_subscribe(b->sub, "a", 1) != 0)
            fail("subscribe");
        model.a_held = true;
        xpub_expect_subscription(b, 1);
    }
}

/* Two sockets are made and closed per input; libzmq's reaper frees
   closed ones in the background, and a lagging reaper once took czmq's
   default limit of 1,024 sockets (zsock_new asserts when libzmq refuses
   one): room for a few thousand inputs' worth. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    zsys_set_max_sockets(16384);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    input_t in = { data + 1, data + size };
    model_clear();
    bed_t b = { 0 };
    bool all = data[0] & 1;
    bed_open(&b, all);
    model.a_held = !all;
    int messages = 0, since_sync = 0;
    while (in.p < in.end && messages < MAX_MESSAGES) {
        uint8_t op = take_byte(&in);
        if (op % 8 <= 4) {
            one_message(&b, &in, op);
            messages++;
            if (++since_sync == SYNC_EVERY) {
                sync_bed(&b);
                since_sync = 0;
            }
        } else if (op % 8 == 5) {
            toggle_a(&b);
            since_sync = 0;
        } else {
            sync_bed(&b);
            since_sync = 0;
        }
    }
    sync_bed(&b);
    bed_close(&b);
    model_clear();
    return 0;
}

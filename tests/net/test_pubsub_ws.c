/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_pubsub_ws.c — the proxy's WebSocket front, white-box: its index of
    client subscriptions (each matching client called once, removal,
    limits), its protocol (every error a client can cause, with its code;
    publishes made compact; binary frames), the frames it makes (text for a
    UTF-8 topic and a JSON payload, binary otherwise), and mu_proxy_set_ws's
    errors; and one pass end to end with a mu__ws client (subscribe,
    text and binary frames, an error, unsubscribe and disconnect reaching
    the upstream publisher). The rest with real ws clients:
    bindings/python/tests/test_proxy_ws.py. */
#include "mu_test.h"
#include "net/mu_proxy_ws_int.h"
#include "net/mu_ws.h"
#include <poll.h>
#include <string.h>

/* ---- the index ---------------------------------------------------------- */

typedef struct {
    uint64_t ids[2048];
    size_t n;
    char prefixes[8][16];
    size_t np;
} seen_t;

static void
saw_client(void *arg, uint64_t client)
{
    seen_t *s = arg;
    if (s->n < 2048)
        s->ids[s->n] = client;
    s->n++;
}

static void
saw_prefix(void *arg, const void *prefix, size_t size)
{
    seen_t *s = arg;
    if (s->np < 8 && size < 16) {
        memcpy(s->prefixes[s->np], prefix, size);
        s->prefixes[s->np][size] = 0;
    }
    s->np++;
}

static size_t
match(mu__pws_index_t *index, const char *topic, seen_t *s)
{
    memset(s, 0, sizeof *s);
    return mu__pws_index_match(index, topic, strlen(topic), saw_client, s);
}

static void
test_index_matches_each_client_once(void)
{
    mu__pws_index_t *index = mu__pws_index_new(3, MU_PROXY_WS_MAX_PREFIX_BYTES);
    MU_CHECK(index);
    MU_CHECK_EQ(mu__pws_index_add(index, 1), 0);
    MU_CHECK_EQ(mu__pws_index_add(index, 2), 0);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 1, "a", 1), 1);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 1, "ab", 2), 1);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 1, "a", 1), 0); /* held already */
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 2, "", 0), 1);
    seen_t s;
    MU_CHECK_EQ(match(index, "abc", &s), 2);
    MU_CHECK(s.ids[0] + s.ids[1] == 3 && s.ids[0] != s.ids[1]);
    MU_CHECK_EQ(match(index, "b", &s), 1);
    MU_CHECK_EQ(s.ids[0], 2);
    MU_CHECK_EQ(match(index, "", &s), 1);
    MU_CHECK_EQ(mu__pws_index_unsubscribe(index, 2, "", 0), 0);
    MU_CHECK_EQ(mu__pws_index_unsubscribe(index, 2, "", 0), MU_ENOENT);
    MU_CHECK_EQ(mu__pws_index_unsubscribe(index, 2, "zz", 2), MU_ENOENT);
    MU_CHECK_EQ(mu__pws_index_unsubscribe(index, 9, "a", 1), MU_ENOENT);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 9, "a", 1), MU_ENOENT);
    MU_CHECK_EQ(match(index, "b", &s), 0);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 1, "c", 1), 1);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 1, "d", 1), MU_ENOSPC); /* holds 3 */
    memset(&s, 0, sizeof s);
    mu__pws_index_remove(index, 1, saw_prefix, &s);
    MU_CHECK_EQ(s.np, 3);
    MU_CHECK_EQ(match(index, "abc", &s), 0);
    mu__pws_index_remove(index, 1, saw_prefix, &s); /* gone: nothing */
    mu__pws_index_destroy(&index);
    MU_CHECK(index == NULL);
}

static void
test_index_many_clients_on_one_prefix(void)
{
    mu__pws_index_t *index = mu__pws_index_new(MU_PROXY_WS_MAX_PREFIXES,
                                               MU_PROXY_WS_MAX_PREFIX_BYTES);
    MU_CHECK(index);
    for (uint64_t id = 1; id <= 1000; id++) {
        MU_CHECK_EQ(mu__pws_index_add(index, id), 0);
        MU_CHECK_EQ(mu__pws_index_subscribe(index, id, "t.", 2), 1);
        if (id % 3 == 0)
            MU_CHECK_EQ(mu__pws_index_subscribe(index, id, "t.x", 3), 1);
    }
    seen_t s;
    MU_CHECK_EQ(match(index, "t.x.1", &s), 1000);
    for (uint64_t id = 2; id <= 1000; id += 2)
        mu__pws_index_remove(index, id, NULL, NULL);
    MU_CHECK_EQ(match(index, "t.x.1", &s), 500);
    for (size_t i = 0; i < 500; i++)
        MU_CHECK(s.ids[i] % 2 == 1);
    mu__pws_index_destroy(&index); /* with clients left: freed (ASan) */
}

/* The bytes of distinct prefixes all clients hold together are bounded
   (libzmq keeps a trie node per prefix byte in each socket on the way: one
   client's 1,024 distinct prefixes of 255 bytes grew the proxy by 68 MB
   under ASan, and max_clients of them were allowed): a new prefix over
   the bound is refused (MU_ELIMIT, which the front answers MU_ENOSPC), a
   prefix some client holds already is not new, and letting go of
   prefixes, or a client's removal, makes room again. */
static void
test_index_bounds_distinct_prefix_bytes(void)
{
    mu__pws_index_t *index = mu__pws_index_new(1000, 10 * 256);
    MU_CHECK(index);
    MU_CHECK_EQ(mu__pws_index_add(index, 1), 0);
    MU_CHECK_EQ(mu__pws_index_add(index, 2), 0);
    char prefix[255];
    for (int i = 0; i < 10; i++) {
        memset(prefix, 'a' + i, sizeof prefix);
        MU_CHECK_EQ(mu__pws_index_subscribe(index, 1, prefix, sizeof prefix), 1);
    }
    memset(prefix, 'z', sizeof prefix);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 1, prefix, sizeof prefix), MU_ELIMIT);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 2, prefix, sizeof prefix), MU_ELIMIT);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 2, "", 0), MU_ELIMIT); /* 1 byte too */
    memset(prefix, 'a', sizeof prefix);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 2, prefix, sizeof prefix), 1);   /* not new */
    MU_CHECK_EQ(mu__pws_index_unsubscribe(index, 1, prefix, sizeof prefix), 0); /* 2 holds it */
    memset(prefix, 'z', sizeof prefix);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 2, prefix, sizeof prefix), MU_ELIMIT);
    memset(prefix, 'b', sizeof prefix);
    MU_CHECK_EQ(mu__pws_index_unsubscribe(index, 1, prefix, sizeof prefix), 0); /* the last */
    memset(prefix, 'z', sizeof prefix);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 2, prefix, sizeof prefix), 1);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 2, "", 0), MU_ELIMIT);
    mu__pws_index_remove(index, 1, NULL, NULL); /* 8 prefixes freed */
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 2, "", 0), 1);
    for (int i = 0; i < 7; i++) {
        memset(prefix, 'c' + i, sizeof prefix);
        MU_CHECK_EQ(mu__pws_index_subscribe(index, 2, prefix, sizeof prefix), 1);
    }
    memset(prefix, 'y', sizeof prefix);
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 2, prefix, 254), 1); /* exactly full */
    MU_CHECK_EQ(mu__pws_index_subscribe(index, 2, "x", 1), MU_ELIMIT);
    mu__pws_index_destroy(&index);
}

/* ---- the protocol ------------------------------------------------------- */

/* Parses text; returns the code, *c the command (freed by the caller). */
static int
parse(const char *text, mu__pws_command_t **c)
{
    return mu__pws_parse_text(text, strlen(text), c);
}

static void
test_parse_commands(void)
{
    mu__pws_command_t *c = NULL;
    MU_CHECK_EQ(parse("{\"subscribe\": \"a.b\"}", &c), 0);
    MU_CHECK(c->verb == MU__PWS_SUBSCRIBE && c->topic_size == 3);
    MU_CHECK(memcmp(c->topic, "a.b", 3) == 0);
    mu__pws_command_free(&c);
    MU_CHECK(c == NULL);
    MU_CHECK_EQ(parse(" {\"unsubscribe\":\"\"} ", &c), 0);
    MU_CHECK(c->verb == MU__PWS_UNSUBSCRIBE && c->topic_size == 0);
    mu__pws_command_free(&c);
    MU_CHECK_EQ(parse("{\"data\": {\"k\" : [1, 2.5, null, \"\\u0000\"]}, \"publish\": \"t\"}", &c),
                0);
    MU_CHECK(c->verb == MU__PWS_PUBLISH && c->topic_size == 1);
    MU_CHECK_EQ(c->size, strlen("{\"k\":[1,2.5,null,\"\\u0000\"]}"));
    MU_CHECK(memcmp(c->data, "{\"k\":[1,2.5,null,\"\\u0000\"]}", c->size) == 0);
    mu__pws_command_free(&c);
    MU_CHECK_EQ(parse("{\"publish\": \"t\\u0000z\", \"data\": 7}", &c), 0); /* NUL in a topic */
    MU_CHECK(c->topic_size == 3 && c->topic[1] == 0);
    mu__pws_command_free(&c);
}

static void
test_parse_errors(void)
{
    static const struct {
        const char *text;
        int code;
        bool malformed;
        const char *words;
    } cases[] = {
        { "", MU_EPROTO, true, "malformed JSON" },
        { "{\"subscribe\": ", MU_EPROTO, true, "malformed JSON" },
        { "{\"subscribe\": \"a\"} x", MU_EPROTO, true, "malformed JSON" },
        { "{\"subscribe\": \"a\", \"subscribe\": \"b\"}", MU_EPROTO, true, "malformed JSON" },
        { "[]", MU_EPROTO, true, "JSON object" },
        { "3", MU_EPROTO, true, "JSON object" },
        { "{}", MU_EPROTO, false, "no command" },
        { "{\"Subscribe\": \"a\"}", MU_EPROTO, false, "unknown key \"Subscribe\"" },
        { "{\"subscribe\": \"a\", \"publish\": \"b\"}", MU_EPROTO, false, "one command" },
        { "{\"unsubscribe\": \"a\", \"data\": 1}", MU_EPROTO, false, "publish only" },
        { "{\"subscribe\": true}", MU_EPROTO, false, "subscribe: the prefix must be a string" },
        { "{\"publish\": 1, \"data\": 1}", MU_EPROTO, false, "publish: the topic must be" },
        { "{\"publish\": \"t\"}", MU_EPROTO, false, "\"data\" is missing" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mu__pws_command_t *c = NULL;
        int rc = parse(cases[i].text, &c);
        if (rc != cases[i].code || !c || c->malformed != cases[i].malformed
            || !strstr(c->error, cases[i].words))
            printf("# case '%s': %d '%s'\n", cases[i].text, rc, c ? c->error : "(null)");
        MU_CHECK_EQ(rc, cases[i].code);
        MU_CHECK(c && c->malformed == cases[i].malformed);
        MU_CHECK(strstr(c->error, cases[i].words));
        mu__pws_command_free(&c);
    }
    char text[400];
    snprintf(text, sizeof text, "{\"subscribe\": \"%0256d\"}", 0);
    mu__pws_command_t *c = NULL;
    MU_CHECK_EQ(parse(text, &c), MU_EINVAL);
    MU_CHECK(strstr(c->error, "256 bytes, at most 255"));
    mu__pws_command_free(&c);
    /* a long unknown key is quoted in part, cut between characters */
    snprintf(text, sizeof text, "{\"%s\": 1}",
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    MU_CHECK_EQ(parse(text, &c), MU_EPROTO);
    MU_CHECK(strstr(c->error, "unknown key \"\xc3\xa9"));
    mu__pws_buf_t buf = { 0 };
    MU_CHECK_EQ(mu__pws_format_error(&buf, c->error, MU_EPROTO), 0);
    const char *tail = ",\"code\":\"MU_EPROTO\"}";
    MU_CHECK(buf.size > strlen(tail));
    MU_CHECK(memcmp(buf.data + buf.size - strlen(tail), tail, strlen(tail)) == 0);
    mu__pws_buf_free(&buf);
    mu__pws_command_free(&c);
}

static void
test_parse_binary(void)
{
    mu__pws_command_t c = { 0 };
    MU_CHECK_EQ(mu__pws_parse_binary((const uint8_t *) "\x03topdata", 8, &c), 0);
    MU_CHECK(c.verb == MU__PWS_PUBLISH && c.topic_size == 3 && c.size == 4);
    MU_CHECK(memcmp(c.topic, "top", 3) == 0 && memcmp(c.data, "data", 4) == 0);
    memset(&c, 0, sizeof c);
    MU_CHECK_EQ(mu__pws_parse_binary((const uint8_t *) "\x00", 1, &c), 0); /* empty topic */
    MU_CHECK(c.topic_size == 0 && c.size == 0);
    memset(&c, 0, sizeof c);
    MU_CHECK_EQ(mu__pws_parse_binary((const uint8_t *) "\x05top", 4, &c), MU_EPROTO);
    MU_CHECK(c.malformed && strstr(c.error, "runs past"));
    memset(&c, 0, sizeof c);
    MU_CHECK_EQ(mu__pws_parse_binary((const uint8_t *) "", 0, &c), MU_EPROTO);
    MU_CHECK(c.malformed && strstr(c.error, "empty"));
}

/* ---- frames ------------------------------------------------------------- */

/* Formats (topic, payload); returns 1 for binary, 0 for text, or the code. */
static int
format(mu__pws_buf_t *buf, const char *topic, size_t topic_size, const char *payload, size_t size)
{
    bool binary;
    int rc = mu__pws_format(buf, topic, topic_size, payload, size, &binary);
    return rc ? rc : binary;
}

static bool
frame_is(const mu__pws_buf_t *buf, const char *want, size_t size)
{
    return buf->size == size && memcmp(buf->data, want, size) == 0;
}

static void
test_format_text_and_binary(void)
{
    mu__pws_buf_t buf = { 0 };
    MU_CHECK_EQ(format(&buf, "a", 1, "{\"x\": 1}", 8), 0);
    MU_CHECK(frame_is(&buf, "{\"topic\":\"a\",\"data\":{\"x\": 1}}", 29));
    MU_CHECK_EQ(format(&buf, "q\"\\\n\x01", 5, " [1] ", 5), 0);
    const char *escaped = "{\"topic\":\"q\\\"\\\\\\u000a\\u0001\",\"data\": [1] }";
    MU_CHECK(frame_is(&buf, escaped, strlen(escaped)));
    MU_CHECK_EQ(format(&buf, "caf\xc3\xa9", 5, "\"\xe2\x82\xac\"", 5), 0);
    /* not JSON: binary */
    MU_CHECK_EQ(format(&buf, "t", 1, "\x01\x02", 2), 1);
    MU_CHECK(frame_is(&buf, "\x01t\x01\x02", 4));
    MU_CHECK_EQ(format(&buf, "t", 1, "", 0), 1);
    MU_CHECK_EQ(format(&buf, "t", 1, "{\"a\":1} {", 9), 1); /* trailing bytes */
    MU_CHECK_EQ(format(&buf, "t", 1, "tru", 3), 1);         /* a broken literal */
    MU_CHECK_EQ(format(&buf, "t", 1, "\"a\0b\"", 5), 1);    /* a raw NUL */
    MU_CHECK_EQ(format(&buf, "t", 1, "\"\xff\"", 3), 1);    /* bad UTF-8 in a string */
    MU_CHECK_EQ(format(&buf, "t", 1, "[[[[1]]]]", 9), 0);
    /* a topic that is not UTF-8: binary, whatever the payload */
    MU_CHECK_EQ(format(&buf, "\xff", 1, "1", 1), 1);
    MU_CHECK_EQ(format(&buf, "\xc0\x80", 2, "1", 1), 1);         /* overlong */
    MU_CHECK_EQ(format(&buf, "\xed\xa0\x80", 3, "1", 1), 1);     /* a surrogate */
    MU_CHECK_EQ(format(&buf, "\xf4\x90\x80\x80", 4, "1", 1), 1); /* over U+10FFFF */
    MU_CHECK_EQ(format(&buf, "\xe2\x82", 2, "1", 1), 1);         /* cut */
    MU_CHECK_EQ(format(&buf, "\xf0\x9f\x98\x80", 4, "1", 1), 0); /* an emoji is fine */
    /* a binary frame cannot say a topic over 255 bytes */
    char topic[300];
    memset(topic, 't', sizeof topic);
    MU_CHECK_EQ(format(&buf, topic, 256, "\xff", 1), MU_EMSGSIZE);
    MU_CHECK_EQ(format(&buf, topic, 300, "1", 1), 0); /* text can */
    mu__pws_buf_free(&buf);
}

static void
test_format_replies(void)
{
    mu__pws_buf_t buf = { 0 };
    MU_CHECK_EQ(mu__pws_format_reply(&buf, "subscribed", "p\"", 2), 0);
    MU_CHECK(frame_is(&buf, "{\"subscribed\":\"p\\\"\"}", 20));
    MU_CHECK_EQ(mu__pws_format_error(&buf, "bad \"thing\"", MU_EACCES), 0);
    const char *want = "{\"error\":\"bad \\\"thing\\\"\",\"code\":\"MU_EACCES\"}";
    MU_CHECK(frame_is(&buf, want, strlen(want)));
    /* a message cut inside a character is made ASCII */
    MU_CHECK_EQ(mu__pws_format_error(&buf, "cut \xc3", MU_EPROTO), 0);
    want = "{\"error\":\"cut ?\",\"code\":\"MU_EPROTO\"}";
    MU_CHECK(frame_is(&buf, want, strlen(want)));
    mu__pws_buf_free(&buf);
}

/* ---- mu_proxy_set_ws ------------------------------------------------------ */

static void
test_set_ws_errors(void)
{
    mu_proxy_t *proxy = mu_proxy_new();
    MU_CHECK(proxy);
    MU_CHECK_EQ(mu_proxy_ws_port(proxy), 0);
    mu_proxy_ws_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_proxy_ws_stats(proxy, &st), 0);
    MU_CHECK_EQ(st.clients + st.accepted, 0);
    st.size = 4;
    MU_CHECK_EQ(mu_proxy_ws_stats(proxy, &st), MU_EINVAL);
    mu_proxy_ws_t ws = { .max_message = MU_PUBSUB_MAX_MESSAGE + 1 };
    MU_CHECK_EQ(mu_proxy_set_ws(proxy, &ws), MU_EINVAL);
    ws = (mu_proxy_ws_t) { .overflow = (mu_proxy_ws_overflow_t) 7 };
    MU_CHECK_EQ(mu_proxy_set_ws(proxy, &ws), MU_EINVAL);
    ws = (mu_proxy_ws_t) { .port = 70000 };
    MU_CHECK_EQ(mu_proxy_set_ws(proxy, &ws), MU_EINVAL);
    ws = (mu_proxy_ws_t) { .key_file = "/nonexistent/key.pem" };
    MU_CHECK_EQ(mu_proxy_set_ws(proxy, &ws), MU_EINVAL);
    ws = (mu_proxy_ws_t) { .cert_file = "/nonexistent/c.pem", .key_file = "/nonexistent/k.pem" };
    MU_CHECK_EQ(mu_proxy_set_ws(proxy, &ws), MU_EINVAL);
    ws = (mu_proxy_ws_t) { 0 };
    int port = mu_proxy_set_ws(proxy, &ws);
    MU_CHECK(port > 0);
    MU_CHECK_EQ(mu_proxy_ws_port(proxy), port);
    MU_CHECK_EQ(mu_proxy_set_ws(proxy, &ws), MU_EINVAL); /* once */
    mu_proxy_t *other = mu_proxy_new();
    MU_CHECK(other);
    ws.port = port;
    MU_CHECK_EQ(mu_proxy_set_ws(other, &ws), MU_EADDRINUSE);
    mu_proxy_destroy(&other);
    MU_CHECK(mu_proxy_connect(proxy, MU_PROXY_UPSTREAM, "ipc:///nonexistent/up") == 0);
    MU_CHECK_EQ(mu_proxy_start(proxy), 0);
    ws.port = 0;
    MU_CHECK_EQ(mu_proxy_set_ws(proxy, &ws), MU_EINVAL); /* after start */
    st.size = sizeof st;
    MU_CHECK_EQ(mu_proxy_ws_stats(proxy, &st), 0);
    MU_CHECK_EQ(st.clients, 0);
    mu_proxy_destroy(&proxy);
    /* set, never started: destroyed cleanly */
    proxy = mu_proxy_new();
    MU_CHECK(proxy && mu_proxy_set_ws(proxy, &ws) > 0);
    mu_proxy_destroy(&proxy);
}

/* ---- end to end, with a mu__ws client ------------------------------------ */

/* The client's next event of kind within a scaled bound; false (printed)
   on a timeout or another kind. */
static bool
client_event(mu__ws_t *client, mu__ws_kind_t kind, mu__ws_event_t *ev)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(10000);
    while (mu__ws_recv(client, ev) != 0) {
        int64_t left = deadline - mu_test_now_ms();
        struct pollfd p = { .fd = mu__ws_fd(client), .events = POLLIN };
        if (left <= 0 || poll(&p, 1, (int) left) < 0) {
            printf("# no client event (wanted kind %d)\n", (int) kind);
            return false;
        }
    }
    if (ev->kind != kind)
        printf("# client event %d of %zu bytes, wanted %d\n", (int) ev->kind, ev->size, (int) kind);
    return ev->kind == kind;
}

/* Whether the client's next event is a text frame equal to want. */
static bool
client_text(mu__ws_t *client, const char *want)
{
    mu__ws_event_t ev;
    if (!client_event(client, MU__WS_TEXT, &ev))
        return false;
    if (ev.size == strlen(want) && memcmp(ev.data, want, ev.size) == 0)
        return true;
    printf("# got '%.*s', wanted '%s'\n", (int) ev.size, (const char *) ev.data, want);
    return false;
}

static bool
client_says(mu__ws_t *client, const char *text)
{
    return mu__ws_send(client, 1, text, strlen(text), false) == 0;
}

/* Reads pub's subscriptions until prefix is (or is no longer) subscribed. */
static bool
upstream_sees(mu_pub_t *pub, const char *prefix, int subscribed)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(10000);
    while (mu_pub_is_subscribed(pub, prefix, strlen(prefix)) != subscribed) {
        if (mu_test_now_ms() > deadline)
            return false;
        int rc = mu_pub_handle(pub, 100); /* a subscription read, or a timeout */
        if (rc < 0 && rc != MU_ETIMEDOUT)
            return false;
    }
    return true;
}

static void
test_end_to_end(void)
{
    mu_pub_t *pub = mu_pub_new();
    MU_CHECK(pub && mu_pub_bind(pub, "tcp://127.0.0.1:*") > 0);
    mu_proxy_t *proxy = mu_proxy_new();
    MU_CHECK(proxy && mu_proxy_connect(proxy, MU_PROXY_UPSTREAM, mu_pub_endpoint(pub)) == 0);
    mu_proxy_ws_t ws = { 0 };
    int port = mu_proxy_set_ws(proxy, &ws);
    MU_CHECK(port > 0 && mu_proxy_start(proxy) == 0);
    mu__ws_config_t c = { .listen = false, .host = "127.0.0.1", .port = port };
    mu__ws_t *client = mu__ws_new(&c);
    MU_CHECK(client);
    mu__ws_event_t ev;
    MU_CHECK(client_event(client, MU__WS_OPEN, &ev));
    MU_CHECK(client_says(client, "{\"subscribe\": \"t.\"}"));
    MU_CHECK(client_text(client, "{\"subscribed\":\"t.\"}"));
    MU_CHECK(upstream_sees(pub, "t.", 1));
    MU_CHECK_EQ(mu_pub_send(pub, "t.1", 3, "[1, 2]", 6), 0);
    MU_CHECK(client_text(client, "{\"topic\":\"t.1\",\"data\":[1, 2]}"));
    MU_CHECK_EQ(mu_pub_send(pub, "t.2", 3, "\x01\x02", 2), 0);
    MU_CHECK(client_event(client, MU__WS_BINARY, &ev));
    MU_CHECK(ev.size == 6 && memcmp(ev.data, "\x03t.2\x01\x02", 6) == 0);
    MU_CHECK(client_says(client, "{\"publish\": \"t.3\", \"data\": 1}"));
    MU_CHECK(client_text(client, "{\"error\":\"publish: publishing is not allowed on this "
                                 "proxy\",\"code\":\"MU_EACCES\"}"));
    MU_CHECK(client_says(client, "{\"unsubscribe\": \"t.\"}"));
    MU_CHECK(client_text(client, "{\"unsubscribed\":\"t.\"}"));
    MU_CHECK(upstream_sees(pub, "t.", 0));
    MU_CHECK(client_says(client, "{\"subscribe\": \"gone\"}"));
    MU_CHECK(client_text(client, "{\"subscribed\":\"gone\"}"));
    MU_CHECK(upstream_sees(pub, "gone", 1));
    mu__ws_destroy(&client); /* the disconnect lets go of its prefixes */
    MU_CHECK(upstream_sees(pub, "gone", 0));
    mu_proxy_ws_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_proxy_ws_stats(proxy, &st), 0);
    MU_CHECK_EQ(st.accepted, 1);
    MU_CHECK_EQ(st.subscribes, 2);
    MU_CHECK_EQ(st.unsubscribes, 1);
    MU_CHECK_EQ(st.forwarded, 2);
    MU_CHECK_EQ(st.errors, 1);
    MU_CHECK_EQ(st.denied, 1);
    mu_proxy_destroy(&proxy);
    mu_pub_destroy(&pub);
}

int
main(void)
{
    mu_test_start(60);
    MU_RUN(test_index_matches_each_client_once);
    MU_RUN(test_index_many_clients_on_one_prefix);
    MU_RUN(test_index_bounds_distinct_prefix_bytes);
    MU_RUN(test_parse_commands);
    MU_RUN(test_parse_errors);
    MU_RUN(test_parse_binary);
    MU_RUN(test_format_text_and_binary);
    MU_RUN(test_format_replies);
    MU_RUN(test_set_ws_errors);
    MU_RUN(test_end_to_end);
    MU_DONE();
}

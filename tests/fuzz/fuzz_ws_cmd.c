/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  fuzz_ws_cmd.c — libFuzzer target for the proxy's WebSocket protocol
    (src/net/mu_proxy_ws_json.c): a client's text command
    (mu__pws_parse_text), a client's binary frame (mu__pws_parse_binary),
    and the frame made of an upstream message (mu__pws_format), each
    checked against jansson and the protocol of doc/pubsub.md
    ("WebSocket").

    Input: byte 0 % 3 chooses. 0: the rest is a text frame. A command
    parsed must be what jansson reads in it (one verb, its string's bytes
    as the topic, at most 255; for publish, data that reads back equal to
    the input's "data"); a refusal has a code of the table (MU_EPROTO,
    MU_EINVAL, MU_ENOMEM), the "malformed" mark exactly when jansson finds
    no JSON object, and an error message that makes a valid JSON error
    reply; an accepted topic makes a valid reply. 1: the rest is a binary
    frame, against the format [length][topic][payload]. 2: byte 1 is the
    topic's length (cut to what the input holds), then the topic, then the
    payload: the frame is text exactly when the topic is UTF-8 (jansson's
    view) and the payload one JSON text, then it reads back as {"topic":
    topic, "data": payload} and ends with the payload's very bytes; else
    it is [length][topic][payload], or MU_EMSGSIZE for a topic over 255
    bytes. Disagreement aborts. */
#include "mutil.h"
#include "net/mu_proxy_ws_int.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_ws_cmd: %s\n", what);
    abort();
}

/* buf (size bytes) must be a JSON object; returned (decref it). */
static json_t *
read_object(const char *buf, size_t size, const char *what)
{
    json_error_t error;
    json_t *v = json_loadb(buf, size, FLAGS, &error);
    if (!json_is_object(v)) {
        fprintf(stderr, "fuzz_ws_cmd: %.*s\n", (int) (size < 300 ? size : 300), buf);
        fail(what);
    }
    return v;
}

static bool
string_is(json_t *v, const void *bytes, size_t size)
{
    return json_is_string(v) && json_string_length(v) == size
           && memcmp(json_string_value(v), bytes, size) == 0;
}

static void
check_error_reply(const mu__pws_command_t *c, int rc)
{
    if (!memchr(c->error, 0, sizeof c->error) || !c->error[0])
        fail("an error without a message");
    mu__pws_buf_t buf = { 0 };
    if (mu__pws_format_error(&buf, c->error, rc) != 0)
        return; /* no memory */
    json_t *reply = read_object(buf.data, buf.size, "an error reply that is not a JSON object");
    if (!json_is_string(json_object_get(reply, "error"))
        || !string_is(json_object_get(reply, "code"), mu_errname(rc), strlen(mu_errname(rc)))
        || json_object_size(reply) != 2)
        fail("an error reply without its message or code");
    json_decref(reply);
    mu__pws_buf_free(&buf);
}

static const char *const VERBS[] = { NULL, "subscribe", "unsubscribe", "publish" };

static void
check_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = 0;
    mu__pws_command_t *c = NULL;
    int rc = mu__pws_parse_text(text, size, &c);
    json_error_t error;
    json_t *root = json_loadb(text, size, FLAGS | JSON_REJECT_DUPLICATES, &error);
    if (rc == MU_ENOMEM && !c) {
        json_decref(root);
        free(text);
        return;
    }
    if (!c)
        fail("no command and not MU_ENOMEM");
    if (rc != 0) {
        if (rc != MU_EPROTO && rc != MU_EINVAL && rc != MU_ENOMEM)
            fail("a code outside the table");
        if (c->malformed != !json_is_object(root))
            fail("the malformed mark and jansson disagree");
        if (root && json_is_object(root) && rc == MU_EINVAL) {
            /* a topic over 255 bytes: the one verb's value */
            bool long_one = false;
            for (int v = 1; v <= 3; v++) {
                json_t *t = json_object_get(root, VERBS[v]);
                if (json_is_string(t) && json_string_length(t) > MU_PUBSUB_MAX_TOPIC)
                    long_one = true;
            }
            if (!long_one)
                fail("MU_EINVAL without a topic over 255 bytes");
        }
        check_error_reply(c, rc);
    } else {
        if (!json_is_object(root))
            fail("a command accepted where jansson finds no object");
        if (c->verb < MU__PWS_SUBSCRIBE || c->verb > MU__PWS_PUBLISH)
            fail("a bad verb");
        if (c->topic_size > MU_PUBSUB_MAX_TOPIC)
            fail("a topic over 255 bytes accepted");
        if (!string_is(json_object_get(root, VERBS[c->verb]), c->topic, c->topic_size))
            fail("the topic differs from the verb's string");
        size_t keys = json_object_size(root);
        if (keys != (c->verb == MU__PWS_PUBLISH ? 2u : 1u))
            fail("a command with other keys accepted");
        if (c->verb == MU__PWS_PUBLISH) {
            json_t *back = json_loadb(c->data, c->size, FLAGS, &error);
            if (!back || !json_equal(back, json_object_get(root, "data")))
                fail("published data does not read back equal");
            json_decref(back);
        } else if (c->data)
            fail("data with a subscribe or unsubscribe");
        mu__pws_buf_t buf = { 0 };
        if (mu__pws_format_reply(&buf, "subscribed", c->topic, c->topic_size) == 0) {
            json_t *reply = read_object(buf.data, buf.size, "a reply that is not a JSON object");
            if (!string_is(json_object_get(reply, "subscribed"), c->topic, c->topic_size))
                fail("the reply does not name the prefix");
            json_decref(reply);
        }
        mu__pws_buf_free(&buf);
    }
    mu__pws_command_free(&c);
    json_decref(root);
    free(text);
}

static void
check_binary(const uint8_t *data, size_t size)
{
    uint8_t *frame = malloc(size ? size : 1); /* its own size: ASan sees overreads */
    if (!frame)
        return;
    memcpy(frame, data, size);
    mu__pws_command_t c;
    memset(&c, 0, sizeof c);
    int rc = mu__pws_parse_binary(frame, size, &c);
    bool ok = size >= 1 && (size_t) frame[0] + 1 <= size;
    if ((rc == 0) != ok || (rc != 0 && (rc != MU_EPROTO || !c.malformed)))
        fail("a binary frame judged against the format");
    if (rc == 0
        && (c.verb != MU__PWS_PUBLISH || c.topic != frame + 1 || c.topic_size != frame[0]
            || c.data != (const void *) (frame + 1 + frame[0]) || c.size != size - 1 - frame[0]))
        fail("a binary frame's parts misplaced");
    if (rc != 0)
        check_error_reply(&c, rc);
    free(frame);
}

static void
check_format(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    size_t topic_size = data[0] < size - 1 ? data[0] : size - 1;
    if (size >= 3 && data[0] == 0xff && data[1] == 0xff) /* now and then a long topic */
        topic_size = size - 1 < 300 ? size - 1 : 300;
    const uint8_t *topic = data + 1, *payload = topic + topic_size;
    size_t psize = size - 1 - topic_size;
    mu__pws_buf_t buf = { 0 };
    bool binary = false;
    int rc = mu__pws_format(&buf, topic, topic_size, payload, psize, &binary);
    json_error_t error;
    json_t *as_json = json_loadb((const char *) payload, psize, FLAGS, &error);
    json_t *topic_string = json_stringn((const char *) topic, topic_size); /* NULL: not UTF-8 */
    bool text = as_json && topic_string;
    if (rc == MU_ENOMEM) {
        /* nothing to check */
    } else if (text) {
        if (rc != 0 || binary)
            fail("a UTF-8 topic with a JSON payload not made a text frame");
        json_t *frame = read_object(buf.data, buf.size, "a text frame that is not a JSON object");
        if (json_object_size(frame) != 2
            || !string_is(json_object_get(frame, "topic"), topic, topic_size)
            || !json_equal(json_object_get(frame, "data"), as_json))
            fail("a text frame that does not read back as the message");
        if (buf.size < psize + 1 || memcmp(buf.data + buf.size - 1 - psize, payload, psize) != 0
            || buf.data[buf.size - 1] != '}')
            fail("a text frame whose data is not the payload verbatim");
        json_decref(frame);
    } else if (topic_size > 255) {
        if (rc != MU_EMSGSIZE)
            fail("a binary frame with a topic over 255 bytes not refused");
    } else {
        if (rc != 0 || !binary || buf.size != 1 + topic_size + psize
            || (uint8_t) buf.data[0] != topic_size || memcmp(buf.data + 1, topic, topic_size) != 0
            || memcmp(buf.data + 1 + topic_size, payload, psize) != 0)
            fail("a binary frame not [length][topic][payload]");
    }
    json_decref(as_json);
    json_decref(topic_string);
    mu__pws_buf_free(&buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0:
        check_text(data + 1, size - 1);
        break;
    case 1:
        check_binary(data + 1, size - 1);
        break;
    default:
        check_format(data + 1, size - 1);
    }
    return 0;
}

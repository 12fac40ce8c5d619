/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_proxy_ws_json.c — the WebSocket front's protocol: a client's text
    frame (one JSON object: subscribe, unsubscribe or publish) and binary
    frame (a publish) parsed into a command, with a clear message when
    something is wrong; the frames the front sends made: a message from
    upstream as text {"topic","data"} when its payload is one JSON text,
    else binary; the replies and errors. Contract: net/mu_proxy_ws_int.h;
    the protocol: include/mu_pubsub.h and doc/pubsub.md. */
#include "net/mu_proxy_ws_int.h"
#include "base/mu_utf8.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#define DECODE_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* ---- buffers ------------------------------------------------------------ */

static int
reserve(mu__pws_buf_t *buf, size_t more)
{
    if (buf->cap - buf->size >= more)
        return 0;
    char *grown = more < SIZE_MAX - buf->size
                      ? mu__grow(buf->data, &buf->cap, 256, buf->size + more)
                      : NULL;
    if (!grown)
        return MU_ENOMEM;
    buf->data = grown;
    return 0;
}

static int
put(mu__pws_buf_t *buf, const void *data, size_t size)
{
    if (reserve(buf, size) != 0)
        return MU_ENOMEM;
    if (size)
        memcpy(buf->data + buf->size, data, size);
    buf->size += size;
    return 0;
}

static int
puts_(mu__pws_buf_t *buf, const char *text)
{
    return put(buf, text, strlen(text));
}

/* s (size bytes of UTF-8) as a JSON string, quotes included. */
static int
put_string(mu__pws_buf_t *buf, const void *s, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    if (reserve(buf, size * 6 + 2) != 0)
        return MU_ENOMEM;
    const uint8_t *p = s;
    char *out = buf->data + buf->size;
    *out++ = '"';
    for (size_t i = 0; i < size; i++) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            *out++ = '\\';
            *out++ = (char) c;
        } else if (c < 0x20) {
            memcpy(out, "\\u00", 4);
            out[4] = hex[c >> 4];
            out[5] = hex[c & 15];
            out += 6;
        } else
            *out++ = (char) c;
    }
    *out++ = '"';
    buf->size = (size_t) (out - buf->data);
    return 0;
}

void
mu__pws_buf_free(mu__pws_buf_t *buf)
{
    free(buf->data);
    *buf = (mu__pws_buf_t) { 0 };
}

/* ---- checks ------------------------------------------------------------- */

/* True when data is one JSON text. A first byte that cannot start one
   answers without parsing (most binary payloads). */
static bool
is_json(const void *data, size_t size)
{
    const char *p = data, *end = p + size;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p == end || !strchr("{[\"-0123456789tfn", *p) || *p == '\0')
        return false;
    json_error_t error;
    json_t *value = json_loadb(data, size, DECODE_FLAGS, &error);
    json_decref(value);
    return value != NULL;
}

/* ---- outgoing frames ---------------------------------------------------- */

int
mu__pws_format(mu__pws_buf_t *buf, const void *topic, size_t topic_size, const void *payload,
               size_t size, bool *binary_p)
{
    buf->size = 0;
    *binary_p = !mu__utf8_valid(topic, topic_size) || !is_json(payload, size);
    if (*binary_p) {
        if (topic_size > 255)
            return MU_EMSGSIZE;
        uint8_t n = (uint8_t) topic_size;
        if (put(buf, &n, 1) || put(buf, topic, topic_size) || put(buf, payload, size))
            return MU_ENOMEM;
        return 0;
    }
    if (puts_(buf, "{\"topic\":") || put_string(buf, topic, topic_size) || puts_(buf, ",\"data\":")
        || put(buf, payload, size) || puts_(buf, "}"))
        return MU_ENOMEM;
    return 0;
}

int
mu__pws_format_reply(mu__pws_buf_t *buf, const char *key, const void *value, size_t size)
{
    buf->size = 0;
    if (puts_(buf, "{") || put_string(buf, key, strlen(key)) || puts_(buf, ":")
        || put_string(buf, value, size) || puts_(buf, "}"))
        return MU_ENOMEM;
    return 0;
}

int
mu__pws_format_error(mu__pws_buf_t *buf, const char *message, int code)
{
    buf->size = 0;
    const char *name = mu_errname(code);
    char safe[256];
    size_t n = strlen(message);
    if (!mu__utf8_valid((const uint8_t *) message, n)) { /* a cut inside a character */
        n = n < sizeof safe ? n : sizeof safe - 1;
        for (size_t i = 0; i < n; i++)
            safe[i] = (uint8_t) message[i] < 0x80 ? message[i] : '?';
        safe[n] = 0;
        message = safe;
    }
    if (puts_(buf, "{\"error\":") || put_string(buf, message, n) || puts_(buf, ",\"code\":")
        || put_string(buf, name, strlen(name)) || puts_(buf, "}"))
        return MU_ENOMEM;
    return 0;
}

/* ---- client commands ---------------------------------------------------- */

/* Records the error in c: returns code. */
static int fail(mu__pws_command_t *c, int code, bool malformed, const char *fmt, ...)
    MU_PRINTF(4, 5);

static int
fail(mu__pws_command_t *c, int code, bool malformed, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    c->malformed = malformed;
    return code;
}

/* How many bytes of the UTF-8 text s to quote in an error: at most max,
   cut before a character, not inside it. */
static int
quotable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return (int) n;
    while (max > 0 && ((uint8_t) s[max] & 0xc0) == 0x80)
        max--;
    return (int) max;
}

static const char *const VERBS[] = { NULL, "subscribe", "unsubscribe", "publish" };

/* Finds the one command of object in c->verb. Returns 0 or MU_EPROTO. */
static int
find_verb(json_t *object, mu__pws_command_t *c)
{
    const char *key;
    json_t *value;
    int verbs = 0;
    json_object_foreach(object, key, value)
    {
        int v = 0;
        for (int i = MU__PWS_SUBSCRIBE; i <= MU__PWS_PUBLISH; i++)
            if (strcmp(key, VERBS[i]) == 0)
                v = i;
        if (v) {
            c->verb = (mu__pws_verb_t) v;
            verbs++;
        } else if (strcmp(key, "data") != 0)
            return fail(c, MU_EPROTO, false,
                        "unknown key \"%.*s\": a command is subscribe, unsubscribe or publish",
                        quotable(key, 40), key);
    }
    if (verbs == 0)
        return fail(c, MU_EPROTO, false,
                    "no command: expected {\"subscribe\": prefix}, {\"unsubscribe\": prefix} or "
                    "{\"publish\": topic, \"data\": value}");
    if (verbs > 1)
        return fail(c, MU_EPROTO, false, "one command per message, not %d", verbs);
    if (c->verb != MU__PWS_PUBLISH && json_object_get(object, "data"))
        return fail(c, MU_EPROTO, false, "\"data\" goes with publish only");
    return 0;
}

/* Fills c from a parsed object. Returns 0 or an error code. */
static int
read_object(json_t *object, mu__pws_command_t *c, json_t **topic_p)
{
    int rc = find_verb(object, c);
    if (rc != 0)
        return rc;
    const char *verb = VERBS[c->verb];
    const char *what = c->verb == MU__PWS_PUBLISH ? "topic" : "prefix";
    json_t *topic = json_object_get(object, verb);
    if (!json_is_string(topic))
        return fail(c, MU_EPROTO, false, "%s: the %s must be a string", verb, what);
    size_t size = json_string_length(topic);
    if (size > MU_PUBSUB_MAX_TOPIC)
        return fail(c, MU_EINVAL, false, "%s: the %s is %zu bytes, at most %d", verb, what, size,
                    MU_PUBSUB_MAX_TOPIC);
    if (c->verb == MU__PWS_PUBLISH && !json_object_get(object, "data"))
        return fail(c, MU_EPROTO, false, "publish: \"data\" is missing");
    *topic_p = topic;
    return 0;
}

int
mu__pws_parse_text(const char *text, size_t size, mu__pws_command_t **command_p)
{
    mu__pws_command_t head = { 0 }, *c = &head;
    json_error_t error;
    json_t *root = json_loadb(text, size, DECODE_FLAGS | JSON_REJECT_DUPLICATES, &error);
    json_t *topic = NULL;
    int rc = 0;
    if (!root)
        rc = fail(c, MU_EPROTO, true, "malformed JSON: %s (at byte %d)", error.text,
                  error.position);
    else if (!json_is_object(root))
        rc = fail(c, MU_EPROTO, true,
                  "a command is a JSON object, e.g. {\"subscribe\": \"prefix\"}");
    else
        rc = read_object(root, c, &topic);
    size_t topic_size = topic ? json_string_length(topic) : 0;
    *command_p = malloc(sizeof *c + topic_size + 1);
    if (!*command_p) {
        json_decref(root);
        return MU_ENOMEM;
    }
    **command_p = head;
    c = *command_p;
    if (rc == 0) {
        memcpy(c->text, json_string_value(topic), topic_size);
        c->topic = c->text;
        c->topic_size = topic_size;
        if (c->verb == MU__PWS_PUBLISH) {
            c->owned = json_dumps(json_object_get(root, "data"), JSON_COMPACT | JSON_ENCODE_ANY);
            if (!c->owned)
                rc = fail(c, MU_ENOMEM, false, "publish: no memory for the data");
            c->data = c->owned;
            c->size = c->owned ? strlen(c->owned) : 0;
        }
    }
    json_decref(root);
    return rc;
}

int
mu__pws_parse_binary(const uint8_t *frame, size_t size, mu__pws_command_t *c)
{
    if (size == 0)
        return fail(c, MU_EPROTO, true,
                    "an empty binary frame: expected [topic length][topic][payload]");
    if ((size_t) frame[0] + 1 > size)
        return fail(c, MU_EPROTO, true,
                    "binary frame: topic length %u runs past the frame's %zu bytes", frame[0],
                    size);
    c->verb = MU__PWS_PUBLISH;
    c->topic = frame + 1;
    c->topic_size = frame[0];
    c->data = frame + 1 + frame[0];
    c->size = size - 1 - frame[0];
    return 0;
}

void
mu__pws_command_free(mu__pws_command_t **command_p)
{
    if (!command_p || !*command_p)
        return;
    free((*command_p)->owned);
    free(*command_p);
    *command_p = NULL;
}

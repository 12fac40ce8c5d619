/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_json_parse.c — JSON -> MessagePack (mu_json_to_pack, see mu_json.h).

    jansson parses the text into its tree (strict: UTF-8 checked, duplicate
    keys refused, NUL allowed in strings); the tree is then walked twice
    without recursion, with a heap stack of the containers being walked.
    The first walk checks the limits, the number ranges and the reserved
    "$bin" / "$ext" objects and appends nothing; the second appends to the
    writer. So a value that fails leaves the writer as it was. */
#include "base/mu_internal.h"
#include "codec/mu_json_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_LIMIT(limits, field, fallback) \
    ((limits) && (limits)->field ? (limits)->field : (fallback))

/*  A container being walked: the next array item or object member. */
typedef struct {
    json_t *node;
    size_t index; /* arrays: next item */
    void *iter;   /* objects: next member, NULL at the end */
    void *cur;    /* objects: the member being visited */
} s_frame_t;

typedef struct {
    size_t max_depth, max_count, max_bytes, max_values;
    mu_pack_t *out; /* NULL: the checking walk */
    s_frame_t *stack;
    size_t depth, cap;
    size_t values;
} s_walk_t;

/* ---- where a value is (for the detail of an error) -------------------------- */

/*  Appends the JSON Pointer of the value being visited (the stack's next
    items; the root is "") to buf. Keys are written as they are, with "~"
    and "/" escaped as RFC 6901 says; cut at cap. */
static void
s_path(const s_walk_t *w, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < w->depth && o + 1 < cap; i++) {
        const s_frame_t *f = &w->stack[i];
        if (json_is_array(f->node)) {
            o += (size_t) snprintf(buf + o, cap - o, "/%zu", f->index - 1);
            continue;
        }
        buf[o++] = '/';
        const char *key = f->cur ? json_object_iter_key(f->cur) : "";
        for (; *key && o + 3 < cap; key++) {
            if (*key == '~' || *key == '/') {
                buf[o++] = '~';
                buf[o++] = *key == '~' ? '0' : '1';
            } else {
                buf[o++] = *key;
            }
        }
        buf[o < cap ? o : cap - 1] = '\0';
    }
    if (o >= cap)
        buf[cap - 1] = '\0';
}

/*  Fails the walk with code; the detail names the value's path. */
static int
s_fail(const s_walk_t *w, int code, const char *what)
{
    char path[256];
    s_path(w, path, sizeof path);
    return mu__fail(code, "mu_json_to_pack: %s at \"%s\"", what, path);
}

/* ---- reserved objects: {"$bin": B64} and {"$ext": T, "data": B64} ------------- */

typedef enum { S_PLAIN, S_BIN, S_EXT } s_kind_t;

/*  Tells whether an object has one of the reserved shapes (by its keys). */
static s_kind_t
s_reserved_kind(json_t *object)
{
    size_t n = json_object_size(object);
    if (n == 1 && json_object_get(object, MU__JSON_BIN_KEY))
        return S_BIN;
    if (n == 2 && json_object_get(object, MU__JSON_EXT_KEY)
        && json_object_get(object, MU__JSON_DATA_KEY))
        return S_EXT;
    return S_PLAIN;
}

/*  Checks (checking walk) or appends a reserved object's bin or ext. */
static int
s_reserved(s_walk_t *w, json_t *object, s_kind_t kind)
{
    json_t *text = json_object_get(object, kind == S_BIN ? MU__JSON_BIN_KEY : MU__JSON_DATA_KEY);
    json_t *type = kind == S_EXT ? json_object_get(object, MU__JSON_EXT_KEY) : NULL;
    const char *what = kind == S_BIN ? "\"$bin\" needs a base64 string"
                                     : "\"$ext\" needs an integer -128..127 and \"data\" a "
                                       "base64 string";
    size_t bytes = 0;
    if (!json_is_string(text)
        || !mu__b64_check(json_string_value(text), json_string_length(text), &bytes)
        || (type
            && (!json_is_integer(type) || json_integer_value(type) < -128
                || json_integer_value(type) > 127)))
        return s_fail(w, MU_ETYPE, what);
    if (bytes > w->max_bytes)
        return s_fail(w, MU_ELIMIT, "a bin or ext payload over max_bytes");
    if (!w->out)
        return 0;
    uint8_t *data = malloc(bytes ? bytes : 1);
    if (!data)
        return mu__fail(MU_ENOMEM, "mu_json_to_pack: out of memory for %zu bytes", bytes);
    mu__b64_decode(json_string_value(text), json_string_length(text), data);
    int rc = type ? mu_pack_ext(w->out, (int8_t) json_integer_value(type), data, bytes)
                  : mu_pack_bin(w->out, data, bytes);
    free(data);
    return rc;
}

/* ---- the walk ----------------------------------------------------------------- */

/*  Counts one value against max_values. */
static int
s_count_value(s_walk_t *w)
{
    if (++w->values > w->max_values)
        return s_fail(w, MU_ELIMIT, "more values than max_values");
    return 0;
}

/*  Starts walking a container: checks depth and count, appends its header
    and pushes it. */
static int
s_push(s_walk_t *w, json_t *node)
{
    bool array = json_is_array(node);
    size_t n = array ? json_array_size(node) : json_object_size(node);
    if (w->depth + 1 > w->max_depth)
        return s_fail(w, MU_ELIMIT, "nesting deeper than max_depth");
    if (n > w->max_count || n > UINT32_MAX)
        return s_fail(w, MU_ELIMIT, array ? "an array over max_count" : "an object over max_count");
    if (w->depth == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        s_frame_t *stack = realloc(w->stack, cap * sizeof *stack);
        if (!stack)
            return mu__fail(MU_ENOMEM, "mu_json_to_pack: out of memory for the stack");
        w->stack = stack;
        w->cap = cap;
    }
    w->stack[w->depth++] = (s_frame_t) { node, 0, array ? NULL : json_object_iter(node), NULL };
    if (w->out)
        return array ? mu_pack_array(w->out, (uint32_t) n) : mu_pack_map(w->out, (uint32_t) n);
    return 0;
}

/*  Appends a str (checks its size). */
static int
s_string(s_walk_t *w, const char *s, size_t len)
{
    if (len > w->max_bytes)
        return s_fail(w, MU_ELIMIT, "a string over max_bytes");
    return w->out ? mu_pack_str(w->out, s, len) : 0;
}

/*  Visits one value: a scalar or reserved object is appended, a container
    pushed. */
static int
s_visit(s_walk_t *w, json_t *node)
{
    int rc = s_count_value(w);
    if (rc != 0)
        return rc;
    switch (json_typeof(node)) {
    case JSON_NULL:
        return w->out ? mu_pack_nil(w->out) : 0;
    case JSON_TRUE:
    case JSON_FALSE:
        return w->out ? mu_pack_bool(w->out, json_is_true(node)) : 0;
    case JSON_INTEGER:
        return w->out ? mu_pack_int(w->out, (int64_t) json_integer_value(node)) : 0;
    case JSON_REAL:
        return w->out ? mu_pack_double(w->out, json_real_value(node)) : 0;
    case JSON_STRING:
        return s_string(w, json_string_value(node), json_string_length(node));
    case JSON_OBJECT: {
        s_kind_t kind = s_reserved_kind(node);
        return kind == S_PLAIN ? s_push(w, node) : s_reserved(w, node, kind);
    }
    case JSON_ARRAY:
        return s_push(w, node);
    }
    return s_fail(w, MU_ETYPE, "a value of an unknown jansson type");
}

/*  Walks the tree below root: visits it, then every item and member of the
    containers on the stack, in document order. */
static int
s_walk(s_walk_t *w, json_t *root)
{
    w->depth = 0;
    w->values = 0;
    int rc = s_visit(w, root);
    while (rc == 0 && w->depth > 0) {
        s_frame_t *f = &w->stack[w->depth - 1];
        json_t *child = NULL;
        if (json_is_array(f->node)) {
            if (f->index < json_array_size(f->node))
                child = json_array_get(f->node, f->index++);
        } else if (f->iter) {
            f->cur = f->iter;
            f->iter = json_object_iter_next(f->node, f->cur);
            child = json_object_iter_value(f->cur);
            rc = s_count_value(w);
            if (rc == 0)
                rc = s_string(w, json_object_iter_key(f->cur), json_object_iter_key_len(f->cur));
            if (rc != 0)
                break;
        }
        if (child == NULL) {
            w->depth--;
            continue;
        }
        rc = s_visit(w, child);
    }
    return rc;
}

/* ---- parsing ------------------------------------------------------------------- */

/*  The code of a jansson parse failure. */
static int
s_parse_code(const json_error_t *error)
{
    switch (json_error_code(error)) {
    case json_error_out_of_memory:
        return MU_ENOMEM;
    case json_error_numeric_overflow:
    case json_error_stack_overflow:
        return MU_ELIMIT;
    default:
        return MU_EPROTO;
    }
}

int
mu_json_to_pack(const char *json, size_t size, const mu_unpack_limits_t *limits, mu_pack_t *out)
{
    assert(out);
    assert(json || size == 0);
    size_t max_size = S_LIMIT(limits, max_size, MU_UNPACK_MAX_SIZE_DEFAULT);
    if (size > max_size)
        return mu__fail(MU_ELIMIT, "mu_json_to_pack: %zu bytes of JSON, over max_size %zu", size,
                        max_size);
    json_error_t error;
    json_t *root = json_loadb(json ? json : "", size,
                              JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &error);
    if (!root) {
        char text[2 * JSON_ERROR_TEXT_LENGTH]; /* jansson quotes the input: escape it */
        mu_escape(text, sizeof text, error.text, strlen(error.text));
        return mu__fail(s_parse_code(&error), "JSON line %d, column %d (byte %d): %s", error.line,
                        error.column, error.position, text);
    }
    s_walk_t w = {
        .max_depth = S_LIMIT(limits, max_depth, MU_UNPACK_MAX_DEPTH_DEFAULT),
        .max_count = S_LIMIT(limits, max_count, MU_UNPACK_MAX_COUNT_DEFAULT),
        .max_bytes = S_LIMIT(limits, max_bytes, MU_UNPACK_MAX_BYTES_DEFAULT),
        .max_values = S_LIMIT(limits, max_values, MU_UNPACK_MAX_VALUES_DEFAULT),
    };
    int rc = s_walk(&w, root);
    if (rc == 0) {
        w.out = out;
        rc = s_walk(&w, root);
    }
    free(w.stack);
    json_decref(root);
    return rc;
}

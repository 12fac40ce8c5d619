/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/json_c.c — bench/json's json-c side, in a file of its own: json-c
    and jansson declare functions of the same names (json_object_get,
    json_object_iter_next), so their headers cannot meet in one file. Both
    libraries version their symbols, so one program may link both. Built
    only when configure found json-c (HAVE_JSONC). */
#include "config.h"

#include <stdlib.h>
#include <json-c/json.h>

#include "json_c.h"

void *
bench_jsonc_new(void)
{
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        abort();
    return tok;
}

void
bench_jsonc_free(void *tok)
{
    json_tokener_free(tok);
}

/*  Parses the document with the reused tokener; aborts on failure. */
static struct json_object *
load(void *tok, const char *doc, size_t len)
{
    json_tokener_reset(tok);
    struct json_object *root = json_tokener_parse_ex(tok, doc, (int) len);
    if (!root)
        abort();
    return root;
}

void
bench_jsonc_parse(void *tok, const char *doc, size_t len)
{
    json_object_put(load(tok, doc, len));
}

void
bench_jsonc_rt(void *tok, const char *doc, size_t len)
{
    struct json_object *root = load(tok, doc, len);
    size_t out = 0;
    if (!json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN, &out) || out == 0)
        abort();
    json_object_put(root);
}

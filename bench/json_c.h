/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  json_c.h — bench/json's json-c operations (bench/json_c.c). */
#ifndef MU_BENCH_JSON_C_H_INCLUDED
#define MU_BENCH_JSON_C_H_INCLUDED

#include <stddef.h>

/*  A json-c tokener to reuse; free with bench_jsonc_free. */
void *bench_jsonc_new(void);
void bench_jsonc_free(void *tok);

/*  Parses the len bytes of doc into json-c's tree and frees it. */
void bench_jsonc_parse(void *tok, const char *doc, size_t len);

/*  Parses, writes compact text (JSON_C_TO_STRING_PLAIN) and frees. */
void bench_jsonc_rt(void *tok, const char *doc, size_t len);

#endif

/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_proxy_ws_int.h — the proxy's WebSocket front (mu_proxy_set_ws):
    the front itself (mu_proxy_ws.c, owned by mu_proxy.c), its index of
    client subscriptions (mu_proxy_ws_index.c) and its JSON protocol
    (mu_proxy_ws_json.c). Never installed. Contract: include/mu_pubsub.h;
    design: doc/pubsub.md ("WebSocket"). */
#ifndef MU_PROXY_WS_INT_H_INCLUDED
#define MU_PROXY_WS_INT_H_INCLUDED

#include "base/mu_internal.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the front (mu_proxy_ws.c) ------------------------------------------ */

typedef struct mu__pws_t mu__pws_t;

/*  Creates the front: the WebSocket endpoint listens when this returns.
    NULL with the failure recorded (the codes of mu_proxy_set_ws). */
mu__pws_t *mu__pws_new(const mu_proxy_ws_t *settings);

/*  Connects the front to the proxy's sockets (up: the XSUB, down: the
    XPUB, libzmq handles the proxy's thread has not started using yet):
    binds an inproc endpoint on each, connects the front's SUB and
    publisher to them and starts the front's thread. Returns 0, or
    MU_EINVAL / MU_ENOMEM (recorded). */
int mu__pws_start(mu__pws_t *self, void *up, void *down);

/*  Stops the thread and closes the clients and the front's sockets
    (before the proxy closes its own); sets *self_p to NULL; accepts NULL. */
void mu__pws_destroy(mu__pws_t **self_p);

int mu__pws_port(const mu__pws_t *self);

/*  Fills all (size set) with the counters. */
void mu__pws_stats(const mu__pws_t *self, mu_proxy_ws_stats_t *all);

/* ---- the subscription index (mu_proxy_ws_index.c) ------------------------ */

/*  Which client holds which prefixes, and for a topic which clients hold a
    prefix of it: a map from prefix to its clients, probed at each prefix
    length of the topic that some prefix has. One thread. */
typedef struct mu__pws_index_t mu__pws_index_t;

/*  Called for each prefix a removed client held (to unsubscribe it). */
typedef void mu__pws_prefix_fn(void *arg, const void *prefix, size_t size);

/*  Called once per matching client for a topic. */
typedef void mu__pws_client_fn(void *arg, uint64_t client);

/*  max_prefixes: per client; max_bytes: of the distinct prefixes all
    clients hold, each counted once as its size + 1. */
mu__pws_index_t *mu__pws_index_new(size_t max_prefixes, size_t max_bytes);
void mu__pws_index_destroy(mu__pws_index_t **self_p);

/*  Adds client (a new id) with no prefixes. Returns 0 or MU_ENOMEM. */
int mu__pws_index_add(mu__pws_index_t *self, uint64_t client);

/*  Removes client, calling fn for each prefix it held (once the index
    has forgotten the client's holding of it). Unknown: nothing. */
void mu__pws_index_remove(mu__pws_index_t *self, uint64_t client, mu__pws_prefix_fn *fn, void *arg);

/*  Adds prefix (at most MU_PUBSUB_MAX_TOPIC bytes) to client's. Returns 1
    (added), 0 (the client held it already), MU_ENOENT (no such client),
    MU_ENOSPC (the client holds max_prefixes), MU_ELIMIT (a new distinct
    prefix over max_bytes) or MU_ENOMEM. */
int mu__pws_index_subscribe(mu__pws_index_t *self, uint64_t client, const void *prefix,
                            size_t size);

/*  Removes prefix from client's. Returns 0 or MU_ENOENT (not held). */
int mu__pws_index_unsubscribe(mu__pws_index_t *self, uint64_t client, const void *prefix,
                              size_t size);

/*  true when some client holds prefix. */
bool mu__pws_index_held(mu__pws_index_t *self, const void *prefix, size_t size);

/*  Calls fn once for each client holding a prefix of topic. Returns the
    number of calls. */
size_t mu__pws_index_match(mu__pws_index_t *self, const void *topic, size_t size,
                           mu__pws_client_fn *fn, void *arg);

/* ---- the protocol (mu_proxy_ws_json.c) ---------------------------------- */

/*  A client's command, parsed. */
typedef enum { MU__PWS_SUBSCRIBE = 1, MU__PWS_UNSUBSCRIBE, MU__PWS_PUBLISH } mu__pws_verb_t;

typedef struct {
    mu__pws_verb_t verb;
    const uint8_t *topic; /* the prefix or topic */
    size_t topic_size;
    const void *data; /* PUBLISH: the payload (text: the data's compact JSON) */
    size_t size;
    bool malformed;  /* on error: not JSON, not an object, a bad binary frame */
    char error[200]; /* on error: what was wrong (UTF-8) */
    char *owned;     /* private: the text command's data */
    uint8_t text[];  /* private: the text command's topic */
} mu__pws_command_t;

/*  Parses a text frame (size bytes, NUL-terminated after them) into a new
    command (free with mu__pws_command_free). Returns 0, or a code (the
    reply's "code": MU_EPROTO, MU_EINVAL for a topic over
    MU_PUBSUB_MAX_TOPIC, MU_ENOMEM) with (*command_p)->error set, or
    *command_p NULL for MU_ENOMEM. */
int mu__pws_parse_text(const char *text, size_t size, mu__pws_command_t **command_p);

/*  Parses a binary frame [1 byte topic length][topic][payload] into a
    publish in *command (zeroed by the caller; topic and data point into
    frame, nothing to free). Returns 0, or MU_EPROTO with command->error
    set (empty, or the length byte runs past the frame). */
int mu__pws_parse_binary(const uint8_t *frame, size_t size, mu__pws_command_t *command);

void mu__pws_command_free(mu__pws_command_t **command_p);

/*  A growing byte buffer for frames. */
typedef struct {
    char *data;
    size_t size, cap;
} mu__pws_buf_t;

/*  Makes the frame for an upstream message in buf: text {"topic","data"}
    when the topic is UTF-8 and payload one JSON text, else binary (topic
    at most 255 bytes; *binary_p set). Returns 0, MU_EMSGSIZE (a binary
    frame's topic over 255 bytes) or MU_ENOMEM. */
int mu__pws_format(mu__pws_buf_t *buf, const void *topic, size_t topic_size, const void *payload,
                   size_t size, bool *binary_p);

/*  Makes {"<key>": "<value>"} (key "subscribed" / "unsubscribed") or
    {"error": "<message>", "code": "<name>"} in buf. Returns 0 or
    MU_ENOMEM. */
int mu__pws_format_reply(mu__pws_buf_t *buf, const char *key, const void *value, size_t size);
int mu__pws_format_error(mu__pws_buf_t *buf, const char *message, int code);

void mu__pws_buf_free(mu__pws_buf_t *buf);

#endif

/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_conn.c — the wire helpers shared by mu_server, mu_client and file
    transfer: header and error-payload encoding, the stats fill. The format
    is described in doc/wire.md. */
#include "conn/mu_conn.h"
#include <stdlib.h>
#include <string.h>

void
mu__hdr_encode(uint8_t hdr[MU__HDR_SIZE], int kind, uint64_t id)
{
    hdr[0] = MU__PROTO_VERSION;
    hdr[1] = (uint8_t) kind;
    mu__put_le64(hdr + 2, id);
}

int
mu__frame_decode(const void *frame, size_t size, int *kind_p, uint64_t *id_p,
                 const uint8_t **data_p, size_t *size_p)
{
    const uint8_t *bytes = frame;
    if (size < MU__HDR_SIZE || bytes[0] != MU__PROTO_VERSION)
        return MU_EPROTO;
    *kind_p = bytes[1];
    *id_p = mu__get_le64(bytes + 2);
    *size_p = size - MU__HDR_SIZE;
    *data_p = *size_p ? bytes + MU__HDR_SIZE : NULL;
    return 0;
}

uint8_t *
mu__frame_init(zmq_msg_t *msg, int kind, uint64_t id, size_t size)
{
    if (zmq_msg_init_size(msg, MU__HDR_SIZE + size) != 0) {
        zmq_msg_init(msg);
        return NULL;
    }
    uint8_t *bytes = zmq_msg_data(msg);
    mu__hdr_encode(bytes, kind, id);
    return bytes + MU__HDR_SIZE;
}

void *
mu__err_encode(int code, const char *message, size_t *size_p)
{
    size_t len = message ? strlen(message) : 0;
    uint8_t *buf = malloc(4 + len);
    if (!buf)
        return NULL;
    uint32_t bits = (uint32_t) code;
    for (int i = 0; i < 4; i++)
        buf[i] = (uint8_t) (bits >> (8 * i));
    if (len)
        memcpy(buf + 4, message, len);
    *size_p = 4 + len;
    return buf;
}

int
mu__err_decode(const void *data, size_t size, int *code_p, const char **msg_p, size_t *msg_len_p)
{
    const uint8_t *bytes = data;
    if (!data || size < 4)
        return MU_EPROTO;
    uint32_t bits = 0;
    for (int i = 3; i >= 0; i--)
        bits = (bits << 8) | bytes[i];
    int32_t code = (int32_t) bits;
    if (code >= 0)
        return MU_EPROTO;
    *code_p = code;
    *msg_p = (const char *) bytes + 4;
    *msg_len_p = size - 4;
    return 0;
}

int
mu__frame_copy(zmq_msg_t *msg, int kind, uint64_t id, const void *data, size_t size)
{
    uint8_t *payload = mu__frame_init(msg, kind, id, size);
    if (!payload)
        return MU_ENOMEM;
    if (size)
        memcpy(payload, data, size);
    return 0;
}

void
mu__err_read(const void *data, size_t size, int fallback, int *code_p, const char **msg_p,
             size_t *msg_len_p)
{
    if (mu__err_decode(data, size, code_p, msg_p, msg_len_p) != 0) {
        *code_p = fallback;
        *msg_p = "malformed error message";
        *msg_len_p = strlen(*msg_p);
    }
}

/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mutil.h — umbrella header of libmutil: include this one.

    libmutil builds message pipelines and authenticated services on ZeroMQ.
    Link with: cc app.c $(pkg-config --cflags --libs libmutil) */
#ifndef MUTIL_H_INCLUDED
#define MUTIL_H_INCLUDED

#include "mu_defs.h"
#include "mu_error.h"
#include "mu_text.h"
#include "mu_numeric.h"
#include "mu_pipe.h"
#include "mu_pack.h"
#include "mu_json.h"
#include "mu_lru.h"
#include "mu_shard.h"
#include "mu_keys.h"
#include "mu_server.h"
#include "mu_client.h"
#include "mu_files.h"
#include "mu_socket.h"
#include "mu_pubsub.h"
#include "mu_service.h"
#include "mu_pool.h"
#include "mu_producer.h"
#include "mu_bus.h"
#include "mu_flow.h"
#include "mu_flow_conf.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  Returns the library's version as MU_MAKE_VERSION(major, minor, patch),
    which may differ from MU_VERSION of the headers a program was built with. */
MU_EXPORT int mu_version(void);

/*  Returns the library's version as a static string, e.g. "0.1.0". */
MU_EXPORT const char *mu_version_string(void);

#ifdef __cplusplus
}
#endif
#endif

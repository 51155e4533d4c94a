/*
 * envelope.h - the only codec entry points for donthu.v1.Envelope.
 *
 * Every message on every socket and every event in every feed is one
 * Envelope. Decoding is bounded (size cap before unpack, since protobuf-c
 * allocates in proportion to its input) and checks the schema version.
 * protobuf-c does NOT validate UTF-8: validators must (cm_text_*).
 */
#ifndef CM_ENVELOPE_H
#define CM_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "donthu/v1/envelope.pb-c.h"

typedef Donthu__V1__Envelope cm_env;

#define CM_ENV_SCHEMA_VERSION 1
/* Largest envelope accepted from a socket or stored in a feed. */
#define CM_ENV_MAX_BYTES (1024 * 1024)

/** Decode len bytes. Caller owns *out; free with cm_env_free().
 * Errors: CM_ETOOBIG (len > CM_ENV_MAX_BYTES), CM_EDECODE (not a valid
 * Envelope), CM_EPROTO_VERSION (schema_version is not 1). *out is NULL then. */
int cm_env_unpack(const void *buf, size_t len, cm_env **out);

/* Largest FetchReply a consumer accepts: a batch of events is bigger than any
 * single request (the producer caps a batch at 4 MiB). */
#define CM_ENV_MAX_BATCH_BYTES (64 * 1024 * 1024)

/** As cm_env_unpack with an explicit size cap (feed replies). */
int cm_env_unpack_limit(const void *buf, size_t len, size_t limit, cm_env **out);

struct cm_arena;
/** As cm_env_unpack, but everything decoded lives in a (common/mem.h): never
 * cm_env_free it; it is gone at the next cm_arena_reset(a). Errors: as
 * cm_env_unpack (a failed decode may leave garbage in a until its reset). */
int cm_env_unpack_arena(const void *buf, size_t len, struct cm_arena *a, cm_env **out);

/** Free a decoded envelope; accepts a pointer to NULL; sets *e to NULL.
 * Never call it on an envelope built by hand. */
void cm_env_free(cm_env **e);

/** Encoded size of e. */
size_t cm_env_size(const cm_env *e);

/** Pack e into a new zmq message of exactly its size. out is initialised
 * here; the caller sends or closes it. Errors: CM_ETOOBIG, -ENOMEM. */
int cm_env_pack_msg(const cm_env *e, zmq_msg_t *out);

/** Pack e into a new heap buffer; caller frees *buf with free(). Errors: CM_ETOOBIG. */
int cm_env_pack_alloc(const cm_env *e, uint8_t **buf, size_t *len);

/** Name of the body type ("submit", "petition_received", ...), for logs and
 * metrics; "none" when unset. */
const char *cm_env_body_name(const cm_env *e);

#endif

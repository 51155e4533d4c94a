#include "common/envelope.h"
#include "common/err.h"
#include "common/mem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

/* Whether m or any message below it holds fields this version does not know. */
static bool has_unknown(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (m->n_unknown_fields)
		return true;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(const void *)(base + f->quantifier_offset);
			ProtobufCMessage *const *arr =
				*(ProtobufCMessage *const *const *)(const void *)(base + f->offset);
			for (size_t k = 0; k < n; k++)
				if (arr[k] && has_unknown(arr[k]))
					return true;
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(const void *)(base + f->quantifier_offset) != f->id)
			continue;
		{
			const ProtobufCMessage *sub =
				*(const ProtobufCMessage *const *)(const void *)(base + f->offset);
			if (sub && has_unknown(sub))
				return true;
		}
	}
	return false;
}

/* protobuf-c 1.4 keeps unknown fields and writes them back when packing, but
 * some shapes of them (found by fuzz_envelope) come back out as bytes it cannot
 * read again. Fields from a newer producer must survive into the feed, so an
 * envelope carrying unknown fields is accepted only if it round-trips. */
static bool round_trips(const cm_env *e)
{
	size_t n = donthu__v1__envelope__get_packed_size(e);
	uint8_t *buf = cm_xmalloc(n ? n : 1);
	cm_env *again;

	donthu__v1__envelope__pack(e, buf);
	again = donthu__v1__envelope__unpack(NULL, n, buf);
	free(buf);
	if (!again)
		return false;
	donthu__v1__envelope__free_unpacked(again, NULL);
	return true;
}

int cm_env_unpack(const void *buf, size_t len, cm_env **out)
{
	return cm_env_unpack_limit(buf, len, CM_ENV_MAX_BYTES, out);
}

static void *arena_alloc(void *data, size_t n)
{
	return cm_arena_alloc(data, n);
}

static void arena_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

static int unpack(const void *buf, size_t len, size_t limit, ProtobufCAllocator *pa,
		  cm_env **out)
{
	cm_env *e;
	int rc = 0;

	*out = NULL;
	if (len > limit)
		return CM_ETOOBIG;
	e = donthu__v1__envelope__unpack(pa, len, buf);
	if (!e)
		return CM_EDECODE;
	if (has_unknown(&e->base) && !round_trips(e))
		rc = CM_EDECODE;
	else if (e->schema_version != CM_ENV_SCHEMA_VERSION)
		rc = CM_EPROTO_VERSION;
	if (rc) {
		/* An arena's memory goes with the arena; nothing to walk. */
		if (!pa)
			donthu__v1__envelope__free_unpacked(e, NULL);
		return rc;
	}
	*out = e;
	return 0;
}

int cm_env_unpack_limit(const void *buf, size_t len, size_t limit, cm_env **out)
{
	return unpack(buf, len, limit, NULL, out);
}

int cm_env_unpack_arena(const void *buf, size_t len, struct cm_arena *a, cm_env **out)
{
	/* protobuf-c mallocs every string, array and sub-message one by one
	 * and free_unpacked walks them all back: about 20 malloc/free pairs
	 * per submission, where one arena reset per batch does. */
	ProtobufCAllocator pa = {.alloc = arena_alloc, .free = arena_free, .allocator_data = a};

	return unpack(buf, len, CM_ENV_MAX_BYTES, &pa, out);
}

void cm_env_free(cm_env **e)
{
	if (e && *e) {
		donthu__v1__envelope__free_unpacked(*e, NULL);
		*e = NULL;
	}
}

size_t cm_env_size(const cm_env *e)
{
	return donthu__v1__envelope__get_packed_size(e);
}

int cm_env_pack_msg(const cm_env *e, zmq_msg_t *out)
{
	size_t n = donthu__v1__envelope__get_packed_size(e);

	if (n > CM_ENV_MAX_BYTES * 16)
		return CM_ETOOBIG;
	if (zmq_msg_init_size(out, n) != 0)
		return -ENOMEM;
	donthu__v1__envelope__pack(e, zmq_msg_data(out));
	return 0;
}

int cm_env_pack_alloc(const cm_env *e, uint8_t **buf, size_t *len)
{
	size_t n = donthu__v1__envelope__get_packed_size(e);

	if (n > CM_ENV_MAX_BYTES) {
		*buf = NULL;
		*len = 0;
		return CM_ETOOBIG;
	}
	*buf = cm_xmalloc(n);
	*len = donthu__v1__envelope__pack(e, *buf);
	return 0;
}

const char *cm_env_body_name(const cm_env *e)
{
	const ProtobufCFieldDescriptor *f;

	if (!e || e->body_case == DONTHU__V1__ENVELOPE__BODY__NOT_SET)
		return "none";
	f = protobuf_c_message_descriptor_get_field(&donthu__v1__envelope__descriptor,
						    (unsigned)e->body_case);
	return f ? f->name : "unknown";
}

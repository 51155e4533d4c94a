#include "common/envelope.h"
#include "common/err.h"
#include "common/mem.h"

#include <errno.h>
#include <stdlib.h>

int cm_env_unpack(const void *buf, size_t len, cm_env **out)
{
	cm_env *e;

	*out = NULL;
	if (len > CM_ENV_MAX_BYTES)
		return CM_ETOOBIG;
	e = donthu__v1__envelope__unpack(NULL, len, buf);
	if (!e)
		return CM_EDECODE;
	if (e->schema_version != CM_ENV_SCHEMA_VERSION) {
		donthu__v1__envelope__free_unpacked(e, NULL);
		return CM_EPROTO_VERSION;
	}
	*out = e;
	return 0;
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

/* The JSON mapping reads hand-written and demo files: it must refuse
 * anything malformed with a usable error, free everything it built, and
 * read back whatever it renders as the same message. The Envelope is the
 * root because it reaches every message type in the schema. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/pbjson.h"
#include "donthu/v1/envelope.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = cm_xmalloc(*len);
	protobuf_c_message_pack(m, buf);
	return buf;
}

/* What the renderer produced must parse back to the very same wire bytes. */
static void check_reads_back(json_t *doc, const uint8_t *want, size_t want_len)
{
	struct cm_pbjson_err err;
	ProtobufCMessage *m = NULL;
	uint8_t *got;
	size_t len;
	char *text;

	cm_require(cm_pbjson_parse(&donthu__v1__envelope__descriptor, doc, &m, &err) == 0);
	got = pack(m, &len);
	cm_require(len == want_len && memcmp(got, want, len) == 0);
	protobuf_c_message_free_unpacked(m, NULL);
	free(got);

	/* Through text too: number formatting must not lose a bit. */
	text = json_dumps(doc, JSON_COMPACT);
	cm_require(text != NULL);
	cm_require(cm_pbjson_parse_text(&donthu__v1__envelope__descriptor, text, strlen(text), &m,
					&err) == 0);
	got = pack(m, &len);
	cm_require(len == want_len && memcmp(got, want, len) == 0);
	protobuf_c_message_free_unpacked(m, NULL);
	free(got);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_pbjson_err err;
	ProtobufCMessage *m = NULL, *back;
	json_t *plain, *full, *again, *errj;
	uint8_t *wire;
	size_t len;
	int rc;

	rc = cm_pbjson_parse_text(&donthu__v1__envelope__descriptor, (const char *)data, size, &m,
				  &err);
	if (rc) {
		cm_require(rc == CM_EINVALID || rc == CM_EDECODE);
		cm_require(m == NULL && err.message[0]);
		/* The CLI prints errors as JSON: both strings must be UTF-8. */
		errj = json_pack("{s:s,s:s}", "path", err.path, "message", err.message);
		cm_require(errj != NULL);
		json_decref(errj);
		return 0;
	}
	wire = pack(m, &len);
	plain = cm_pbjson_render(m, 0);
	full = cm_pbjson_render(m, CM_PBJSON_EMIT_DEFAULTS);
	check_reads_back(plain, wire, len);
	check_reads_back(full, wire, len);

	/* The message after a trip over the wire renders the same. */
	back = protobuf_c_message_unpack(&donthu__v1__envelope__descriptor, NULL, len, wire);
	cm_require(back != NULL);
	again = cm_pbjson_render(back, 0);
	cm_require(json_equal(plain, again));

	json_decref(again);
	json_decref(full);
	json_decref(plain);
	protobuf_c_message_free_unpacked(back, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	free(wire);
	return 0;
}

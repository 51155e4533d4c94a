/*
 * pbjson.h - JSON <-> protobuf-c for any message, driven by its descriptor.
 *
 * The mapping (docs/JSON.md has the integrator's version) is proto3 JSON
 * with a few conveniences and no leniency about mistakes:
 *  - keys are the .proto field names (snake_case) or their lowerCamelCase
 *    form; an unknown key, or one field given twice, is an error;
 *  - null means "absent"; a oneof is written as its one member's key (two
 *    members is an error);
 *  - enums: full value name, the name without the enum's prefix (both
 *    case-insensitive), or the number of a defined value;
 *  - integers: JSON integers or decimal strings, range-checked for the
 *    field's type; int64/uint64 beyond +-2^53 are rendered as strings;
 *  - int64 fields named *_at_ms also take an RFC 3339 time with offset;
 *  - bytes: standard base64 (padding optional) or exactly 64 hex digits
 *    (always read as hex); fields named sha256/pseudonym holding 32 bytes
 *    are rendered as lowercase hex, every other bytes value as base64;
 *  - float/double take numbers and "NaN", "Infinity", "-Infinity";
 *  - strings must be valid UTF-8 without NUL.
 * Unknown wire fields of a message (n_unknown_fields) are not rendered.
 *
 * Thread-safety: no shared state; any thread.
 */
#ifndef CM_PBJSON_H
#define CM_PBJSON_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* Messages nested deeper than this are refused (the schema never comes
 * close; the cap bounds the recursion a hostile document can cause). */
#define CM_PBJSON_MAX_DEPTH 32

/* Where and why a document was refused. path is "" for the whole document,
 * else the keys as written in the input, e.g.
 * "petition.petitioners[1].id_kind"; message is one English sentence such
 * as "unknown value \"CCCDD\" for enum donthu.v1.IdKind (expected ...)".
 * Both are NUL-terminated and truncated to fit. */
struct cm_pbjson_err {
	char path[256];
	char message[256];
};

enum cm_pbjson_flags {
	/* Also render fields at their default value: 0, false, "", the enum's
	 * zero value, [] for empty repeated fields and null for absent
	 * sub-messages. Oneof members that are not set stay omitted. */
	CM_PBJSON_EMIT_DEFAULTS = 1u << 0,
};

/** Build a message of type desc from the JSON object in.
 * On success *out is a new message allocated exactly as protobuf-c's unpack
 * would with the default allocator: free it with
 * protobuf_c_message_free_unpacked(*out, NULL) (or <type>__free_unpacked).
 * On error *out is NULL and err (may be NULL) says where and why.
 * Errors: CM_EINVALID (the document does not fit the message: unknown key,
 * wrong JSON type, value out of range, bad enum name, bad base64, invalid
 * UTF-8 or NUL, two oneof members, nesting over CM_PBJSON_MAX_DEPTH);
 * -EINVAL for a NULL desc, in or out (caller bug; err says so). */
int cm_pbjson_parse(const ProtobufCMessageDescriptor *desc, const json_t *in,
		    ProtobufCMessage **out, struct cm_pbjson_err *err);

/** Parse len bytes of JSON text (one object; duplicate keys refused) and
 * build a message as cm_pbjson_parse does. The caller caps len.
 * Errors: CM_EDECODE (not JSON: err->message has line and column),
 * CM_EINVALID and -EINVAL as for cm_pbjson_parse. */
int cm_pbjson_parse_text(const ProtobufCMessageDescriptor *desc, const char *text,
			 size_t len, ProtobufCMessage **out, struct cm_pbjson_err *err);

/** Render m as a JSON object (a new reference; caller json_decref()s it).
 * Keys are the .proto names in field-number order. Fields at their default
 * value are omitted unless flags has CM_PBJSON_EMIT_DEFAULTS; a set oneof
 * member and a present sub-message are always rendered. Invalid UTF-8 in a
 * string (protobuf-c does not validate the wire) is rendered with U+FFFD in
 * its place. Never returns NULL for a non-NULL m (out of memory aborts);
 * returns NULL for a NULL m. */
json_t *cm_pbjson_render(const ProtobufCMessage *m, unsigned flags);

#endif

#include "common/pbjson.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/mem.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Above this magnitude a double no longer holds every integer, so 64-bit
 * values beyond it are rendered as strings to survive JavaScript readers. */
#define SAFE_INT_MAX (1ULL << 53)
/* How much of an offending value is quoted back in an error message. */
#define SNIP_BYTES 40

struct pctx {
	struct cm_pbjson_err *err;
	char path[512];
	size_t plen;
	unsigned depth;
};

/* --- small text helpers ---------------------------------------------- */

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static char to_upper(char ch)
{
	return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

static bool is_hex(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static int hex_val(char ch)
{
	if (is_digit(ch))
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return ch - 'A' + 10;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* ASCII-only case-insensitive compare of NUL-terminated a with b (n bytes):
 * enum names are ASCII, and locale-dependent toupper() has no place here. */
static bool ascii_caseeq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] == '\0' || to_upper(a[i]) != to_upper(b[i]))
			return false;
	return a[n] == '\0';
}

/* Length of the well-formed UTF-8 sequence at s (n bytes left), 0 when
 * there is none: overlongs, surrogates and values above U+10FFFF fail. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* Offset of the first invalid UTF-8 byte in s, or n when all is valid. */
static size_t utf8_bad_at(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		k = utf8_seq(u + i, n - i);
		if (!k)
			return i;
		i += k;
	}
	return n;
}

/* Error text ends up in JSON printed by the CLI, and jansson refuses
 * invalid UTF-8: mend what truncation or quoted input may have broken. */
static void utf8_mend(char *s)
{
	size_t n = strlen(s), i = 0, k;

	while (i < n) {
		k = utf8_seq((const unsigned char *)s + i, n - i);
		if (!k) {
			s[i] = '?';
			k = 1;
		}
		i += k;
	}
}

/* Quote at most SNIP_BYTES of user input back in a message, with control
 * characters, quotes and backslashes blanked so the message stays legible. */
static const char *snip(const char *s, size_t n, char out[SNIP_BYTES + 4])
{
	size_t i, k = n < SNIP_BYTES ? n : SNIP_BYTES;

	for (i = 0; i < k; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[i] = (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\') ? '?' : (char)ch;
	}
	if (k < n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}

/* --- error reporting and the path -------------------------------------- */

static int fail(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct pctx *c, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!c->err)
		return CM_EINVALID;
	n = c->plen < sizeof(c->err->path) - 1 ? c->plen : sizeof(c->err->path) - 1;
	memcpy(c->err->path, c->path, n);
	c->err->path[n] = '\0';
	va_start(ap, fmt);
	vsnprintf(c->err->message, sizeof(c->err->message), fmt, ap);
	va_end(ap);
	utf8_mend(c->err->path);
	utf8_mend(c->err->message);
	return CM_EINVALID;
}

static void path_add(struct pctx *c, const char *s, size_t n)
{
	size_t room = sizeof(c->path) - 1 - c->plen, i;

	if (n > room)
		n = room;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		c->path[c->plen++] = ch < 0x20 ? '?' : (char)ch;
	}
	c->path[c->plen] = '\0';
}

static size_t path_push_key(struct pctx *c, const char *key, size_t klen)
{
	size_t old = c->plen;

	if (c->plen)
		path_add(c, ".", 1);
	path_add(c, key, klen);
	return old;
}

static size_t path_push_index(struct pctx *c, size_t i)
{
	size_t old = c->plen;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "[%zu]", i);

	path_add(c, buf, (size_t)n);
	return old;
}

static void path_pop(struct pctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

/* --- descriptor helpers ----------------------------------------------- */

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction or exponent";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "an unknown JSON value";
}

static const char *pb_type_name(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
		return "int32";
	case PROTOBUF_C_TYPE_SINT32:
		return "sint32";
	case PROTOBUF_C_TYPE_SFIXED32:
		return "sfixed32";
	case PROTOBUF_C_TYPE_INT64:
		return "int64";
	case PROTOBUF_C_TYPE_SINT64:
		return "sint64";
	case PROTOBUF_C_TYPE_SFIXED64:
		return "sfixed64";
	case PROTOBUF_C_TYPE_UINT32:
		return "uint32";
	case PROTOBUF_C_TYPE_FIXED32:
		return "fixed32";
	case PROTOBUF_C_TYPE_UINT64:
		return "uint64";
	case PROTOBUF_C_TYPE_FIXED64:
		return "fixed64";
	case PROTOBUF_C_TYPE_FLOAT:
		return "float";
	case PROTOBUF_C_TYPE_DOUBLE:
		return "double";
	case PROTOBUF_C_TYPE_BOOL:
		return "bool";
	case PROTOBUF_C_TYPE_ENUM:
		return "enum";
	case PROTOBUF_C_TYPE_STRING:
		return "string";
	case PROTOBUF_C_TYPE_BYTES:
		return "bytes";
	case PROTOBUF_C_TYPE_MESSAGE:
		return "message";
	}
	return "?";
}

static size_t elt_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		/* protoc-c forces every generated enum to int size. */
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

static bool is_signed_int(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_INT32 || t == PROTOBUF_C_TYPE_SINT32 ||
	       t == PROTOBUF_C_TYPE_SFIXED32 || t == PROTOBUF_C_TYPE_INT64 ||
	       t == PROTOBUF_C_TYPE_SINT64 || t == PROTOBUF_C_TYPE_SFIXED64;
}

static bool is_64bit_int(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_INT64 || t == PROTOBUF_C_TYPE_SINT64 ||
	       t == PROTOBUF_C_TYPE_SFIXED64 || t == PROTOBUF_C_TYPE_UINT64 ||
	       t == PROTOBUF_C_TYPE_FIXED64;
}

static void *member(const ProtobufCMessage *m, unsigned offset)
{
	return (char *)m + offset;
}

/* Field by its .proto name or that name in lowerCamelCase (proto3's JSON
 * name: each underscore dropped and the letter after it upper-cased). */
static bool camel_eq(const char *name, const char *key, size_t klen)
{
	size_t k = 0;
	bool up = false;

	for (; *name; name++) {
		char ch = *name;

		if (ch == '_') {
			up = true;
			continue;
		}
		if (up)
			ch = to_upper(ch);
		up = false;
		if (k >= klen || key[k] != ch)
			return false;
		k++;
	}
	return k == klen;
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
						  const char *key, size_t klen)
{
	unsigned i;

	for (i = 0; i < d->n_fields; i++)
		if (strlen(d->fields[i].name) == klen && memcmp(d->fields[i].name, key, klen) == 0)
			return &d->fields[i];
	for (i = 0; i < d->n_fields; i++)
		if (camel_eq(d->fields[i].name, key, klen))
			return &d->fields[i];
	return NULL;
}

/* The value prefix protoc style guides prescribe: the enum's name in
 * UPPER_SNAKE_CASE plus "_" ("IdKind" -> "ID_KIND_"). A value that does not
 * carry it simply has no short name. */
static size_t enum_prefix(const ProtobufCEnumDescriptor *ed, char *buf, size_t cap)
{
	const char *s = ed->short_name;
	size_t n = 0, i;

	for (i = 0; s[i] && n + 3 < cap; i++) {
		bool upper = s[i] >= 'A' && s[i] <= 'Z';

		if (upper && i > 0) {
			char prev = s[i - 1];
			bool prev_lower = (prev >= 'a' && prev <= 'z') || is_digit(prev);
			bool next_lower = s[i + 1] >= 'a' && s[i + 1] <= 'z';
			bool prev_upper = prev >= 'A' && prev <= 'Z';

			if (prev_lower || (prev_upper && next_lower))
				buf[n++] = '_';
		}
		buf[n++] = to_upper(s[i]);
	}
	buf[n++] = '_';
	buf[n] = '\0';
	return n;
}

/* --- parsing scalars --------------------------------------------------- */

/* Strict decimal: optional '-', no '+', no leading zeros, no spaces.
 * Returns 0, -EINVAL (not a decimal integer) or -ERANGE (over 2^64-1). */
static int parse_decimal(const char *s, size_t n, bool *neg, uint64_t *mag)
{
	uint64_t v = 0;
	bool over = false;
	size_t i = 0;

	*neg = false;
	if (i < n && s[i] == '-') {
		*neg = true;
		i++;
	}
	if (i == n || (s[i] == '0' && i + 1 < n))
		return -EINVAL;
	for (; i < n; i++) {
		unsigned d;

		if (!is_digit(s[i]))
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			over = true;
		v = v * 10 + d;
	}
	if (over)
		return -ERANGE;
	*mag = v;
	return 0;
}

struct irange {
	uint64_t pos_max; /* largest positive magnitude */
	uint64_t neg_max; /* largest negative magnitude, 0 for unsigned */
};

static struct irange int_range(ProtobufCType t)
{
	struct irange r;

	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		r.pos_max = INT32_MAX;
		r.neg_max = (uint64_t)INT32_MAX + 1;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		r.pos_max = UINT32_MAX;
		r.neg_max = 0;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		r.pos_max = UINT64_MAX;
		r.neg_max = 0;
		break;
	default:
		r.pos_max = INT64_MAX;
		r.neg_max = (uint64_t)INT64_MAX + 1;
		break;
	}
	return r;
}

static void mag_from_i64(int64_t v, bool *neg, uint64_t *mag)
{
	*neg = v < 0;
	*mag = *neg ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
}

/* Read any integer field as sign + magnitude, range-checked for its type. */
static int get_integer(struct pctx *c, const ProtobufCFieldDescriptor *f, const json_t *v,
		       bool *neg, uint64_t *mag)
{
	struct irange r = int_range(f->type);
	char sn[SNIP_BYTES + 4];

	if (json_is_integer(v)) {
		mag_from_i64(json_integer_value(v), neg, mag);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		int rc = parse_decimal(s, n, neg, mag);

		if (rc == -EINVAL && is_signed_int(f->type) && is_64bit_int(f->type) &&
		    ends_with(f->name, "_at_ms") && !memchr(s, '\0', n)) {
			int64_t ms;

			if (cm_time_parse(s, &ms) == 0) {
				mag_from_i64(ms, neg, mag);
				return 0;
			}
			return fail(c, "\"%s\" is neither milliseconds since the epoch nor an RFC 3339 "
				    "time with offset (\"2026-07-01T08:00:00+07:00\")",
				    snip(s, n, sn));
		}
		if (rc == -EINVAL)
			return fail(c, "\"%s\" is not a decimal integer (%s)", snip(s, n, sn),
				    pb_type_name(f->type));
		if (rc == -ERANGE)
			return fail(c, "\"%s\" is out of range for %s", snip(s, n, sn),
				    pb_type_name(f->type));
	} else if (json_is_real(v)) {
		return fail(c, "expected an integer (%s), got %.17g; write integers without a "
			    "fraction or exponent", pb_type_name(f->type), json_real_value(v));
	} else {
		return fail(c, "expected an integer (%s), got %s", pb_type_name(f->type),
			    json_kind(v));
	}
	if (*mag == 0)
		*neg = false;
	if ((*neg && *mag > r.neg_max) || (!*neg && *mag > r.pos_max))
		return fail(c, "%s%" PRIu64 " is out of range for %s (%s%" PRIu64 "..%" PRIu64 ")",
			    *neg ? "-" : "", *mag, pb_type_name(f->type), r.neg_max ? "-" : "",
			    r.neg_max, r.pos_max);
	return 0;
}

static int get_double(struct pctx *c, const ProtobufCFieldDescriptor *f, const json_t *v,
		      double *out)
{
	char sn[SNIP_BYTES + 4];

	if (json_is_real(v)) {
		*out = json_real_value(v);
	} else if (json_is_integer(v)) {
		*out = (double)json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);

		/* JSON has no literal for these; proto3 JSON spells them so. */
		if (n == 3 && memcmp(s, "NaN", 3) == 0)
			*out = NAN;
		else if (n == 8 && memcmp(s, "Infinity", 8) == 0)
			*out = INFINITY;
		else if (n == 9 && memcmp(s, "-Infinity", 9) == 0)
			*out = -INFINITY;
		else
			return fail(c, "expected a number (%s) or \"NaN\", \"Infinity\", "
				    "\"-Infinity\", got \"%s\"", pb_type_name(f->type), snip(s, n, sn));
	} else {
		return fail(c, "expected a number (%s), got %s", pb_type_name(f->type), json_kind(v));
	}
	if (f->type == PROTOBUF_C_TYPE_FLOAT && isfinite(*out) && fabs(*out) > FLT_MAX)
		return fail(c, "%g is out of range for float", *out);
	return 0;
}

static int get_enum(struct pctx *c, const ProtobufCFieldDescriptor *f, const json_t *v, int *out)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	char prefix[128], sn[SNIP_BYTES + 4], msg[256];
	size_t plen, used, i;
	const char *s;
	size_t n;

	if (json_is_integer(v)) {
		json_int_t i64 = json_integer_value(v);

		if (i64 >= INT32_MIN && i64 <= INT32_MAX &&
		    protobuf_c_enum_descriptor_get_value(ed, (int)i64)) {
			*out = (int)i64;
			return 0;
		}
		return fail(c, "%" JSON_INTEGER_FORMAT " is not a value of enum %s", i64, ed->name);
	}
	if (!json_is_string(v))
		return fail(c, "expected an enum name (%s), got %s", ed->name, json_kind(v));
	s = json_string_value(v);
	n = json_string_length(v);
	plen = enum_prefix(ed, prefix, sizeof(prefix));
	for (i = 0; i < ed->n_values; i++) {
		const char *name = ed->values[i].name;

		if (ascii_caseeq(name, s, n) ||
		    (strncmp(name, prefix, plen) == 0 && ascii_caseeq(name + plen, s, n))) {
			*out = ed->values[i].value;
			return 0;
		}
	}
	/* Name the accepted short names: the integrator's fix is one of them. */
	used = (size_t)snprintf(msg, sizeof(msg), "unknown value \"%s\" for enum %s; expected one of",
				snip(s, n, sn), ed->name);
	for (i = 0; i < ed->n_values && used < sizeof(msg); i++) {
		const char *name = ed->values[i].name;
		size_t k;

		if (ends_with(name, "_UNSPECIFIED"))
			continue;
		if (strncmp(name, prefix, plen) == 0)
			name += plen;
		k = strlen(name);
		if (used + k + 2 + 5 >= sizeof(msg)) {
			used += (size_t)snprintf(msg + used, sizeof(msg) - used, " ...");
			break;
		}
		used += (size_t)snprintf(msg + used, sizeof(msg) - used, " %s%s", name,
					 i + 1 < ed->n_values ? "," : "");
	}
	return fail(c, "%s", msg);
}

static int check_text(struct pctx *c, const char *s, size_t n)
{
	const char *nul = memchr(s, '\0', n);
	size_t bad = utf8_bad_at(s, n);

	if (nul && (size_t)(nul - s) < bad)
		return fail(c, "string contains NUL (\\u0000) at byte %zu", (size_t)(nul - s));
	if (bad < n)
		return fail(c, "string is not valid UTF-8 at byte %zu", bad);
	return 0;
}

static int get_string(struct pctx *c, const json_t *v, char **out)
{
	const char *s;
	size_t n;
	int rc;

	if (!json_is_string(v))
		return fail(c, "expected a string, got %s", json_kind(v));
	s = json_string_value(v);
	n = json_string_length(v);
	rc = check_text(c, s, n);
	if (rc)
		return rc;
	*out = cm_xstrndup(s, n);
	return 0;
}

static int b64_val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (is_digit(ch))
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

static int get_bytes(struct pctx *c, const json_t *v, ProtobufCBinaryData *out)
{
	const char *s;
	size_t n, m, i, o = 0, pad = 0;
	uint32_t acc = 0;
	uint8_t *buf;

	if (!json_is_string(v))
		return fail(c, "expected a base64 or 64-hex-digit string, got %s", json_kind(v));
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 64) {
		for (i = 0; i < n && is_hex(s[i]); i++)
			;
		if (i == n) {
			buf = cm_xmalloc(32);
			for (i = 0; i < 32; i++)
				buf[i] = (uint8_t)(hex_val(s[2 * i]) << 4 | hex_val(s[2 * i + 1]));
			out->data = buf;
			out->len = 32;
			return 0;
		}
	}
	while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
		pad++;
	m = n - pad;
	for (i = 0; i < m; i++)
		if (b64_val(s[i]) < 0)
			return fail(c, "not base64: the character at offset %zu is not in the standard "
				    "alphabet (A-Z a-z 0-9 + /, then = padding)", i);
	if (m % 4 == 1 || (pad && (n % 4 != 0 || (4 - m % 4) % 4 != pad)))
		return fail(c, "not base64: %zu characters with %zu padding is not a valid length",
			    m, pad);
	out->len = m / 4 * 3 + (m % 4 ? m % 4 - 1 : 0);
	if (!out->len) {
		out->data = NULL;
		return 0;
	}
	buf = cm_xmalloc(out->len);
	for (i = 0; i < m; i++) {
		acc = acc << 6 | (uint32_t)b64_val(s[i]);
		if (i % 4 == 3) {
			buf[o++] = (uint8_t)(acc >> 16);
			buf[o++] = (uint8_t)(acc >> 8);
			buf[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	if (m % 4 == 2) {
		buf[o++] = (uint8_t)(acc >> 4);
	} else if (m % 4 == 3) {
		buf[o++] = (uint8_t)(acc >> 10);
		buf[o++] = (uint8_t)(acc >> 2);
	}
	out->data = buf;
	return 0;
}

/* --- parsing messages -------------------------------------------------- */

static int parse_message(struct pctx *c, const ProtobufCMessageDescriptor *d, const json_t *in,
			 ProtobufCMessage **slot);

static int parse_value(struct pctx *c, const ProtobufCFieldDescriptor *f, const json_t *v,
		       void *slot)
{
	bool neg = false;
	uint64_t mag = 0;
	double dv = 0;
	int rc;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		rc = get_integer(c, f, v, &neg, &mag);
		if (rc)
			return rc;
		if (!is_signed_int(f->type)) {
			if (elt_size(f->type) == 4)
				*(uint32_t *)slot = (uint32_t)mag;
			else
				*(uint64_t *)slot = mag;
		} else {
			/* Range-checked above, so the negation cannot overflow. */
			int64_t sv = neg ? -(int64_t)(mag - 1) - 1 : (int64_t)mag;

			if (elt_size(f->type) == 4)
				*(int32_t *)slot = (int32_t)sv;
			else
				*(int64_t *)slot = sv;
		}
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		rc = get_double(c, f, v, &dv);
		if (rc)
			return rc;
		if (f->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)slot = (float)dv;
		else
			*(double *)slot = dv;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return fail(c, "expected true or false, got %s", json_kind(v));
		*(protobuf_c_boolean *)slot = json_is_true(v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		return get_enum(c, f, v, (int *)slot);
	case PROTOBUF_C_TYPE_STRING:
		return get_string(c, v, (char **)slot);
	case PROTOBUF_C_TYPE_BYTES:
		return get_bytes(c, v, (ProtobufCBinaryData *)slot);
	case PROTOBUF_C_TYPE_MESSAGE:
		return parse_message(c, f->descriptor, v, (ProtobufCMessage **)slot);
	}
	return fail(c, "field type %d is not supported", (int)f->type);
}

/* Every allocation is linked into the message before anything else can
 * fail, and counts only cover filled elements, so free_unpacked can always
 * release a half-built message. */
static int parse_repeated(struct pctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			  const json_t *v)
{
	size_t *n = member(m, f->quantifier_offset);
	void **arr = member(m, f->offset);
	size_t count, sz = elt_size(f->type), i, old;
	int rc;

	if (!json_is_array(v))
		return fail(c, "expected an array, got %s", json_kind(v));
	count = json_array_size(v);
	if (!count)
		return 0;
	*arr = cm_xcalloc(count, sz);
	for (i = 0; i < count; i++) {
		const json_t *e = json_array_get(v, i);
		void *slot = (char *)*arr + i * sz;

		old = path_push_index(c, i);
		if (json_is_null(e)) {
			rc = fail(c, "null is not allowed in an array");
		} else {
			rc = parse_value(c, f, e, slot);
			if (f->type != PROTOBUF_C_TYPE_MESSAGE || *(ProtobufCMessage **)slot)
				*n = i + 1;
		}
		if (rc)
			return rc;
		path_pop(c, old);
	}
	return 0;
}

static int parse_field(struct pctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		       const json_t *v, const char **keys)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return parse_repeated(c, m, f, v);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = member(m, f->quantifier_offset);

		if (*which) {
			const ProtobufCFieldDescriptor *o = protobuf_c_message_descriptor_get_field(d, *which);
			const char *other = o ? keys[o - d->fields] : NULL;

			return fail(c, "\"%s\" and \"%s\" are members of one oneof in %s; give only one",
				    other ? other : "?", keys[f - d->fields], d->name);
		}
		/* Set before parsing so a half-built member is freed on error. */
		*which = f->id;
	} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
		   f->type != PROTOBUF_C_TYPE_MESSAGE) {
		*(protobuf_c_boolean *)member(m, f->quantifier_offset) = 1;
	}
	return parse_value(c, f, v, member(m, f->offset));
}

static int parse_message(struct pctx *c, const ProtobufCMessageDescriptor *d, const json_t *in,
			 ProtobufCMessage **slot)
{
	const char **keys = NULL;
	ProtobufCMessage *m;
	const char *key;
	void *iter;
	json_t *v;
	unsigned i;
	int rc = 0;

	if (!json_is_object(in))
		return fail(c, "expected an object (%s), got %s", d->name, json_kind(in));
	if (c->depth >= CM_PBJSON_MAX_DEPTH)
		return fail(c, "messages nested deeper than %d", CM_PBJSON_MAX_DEPTH);
	m = cm_xmalloc(d->sizeof_message);
	d->message_init(m);
	*slot = m;
	c->depth++;
	/* The key that set each field: a field given twice (snake and camel)
	 * and oneof clashes are reported by the names the writer used. */
	keys = cm_xcalloc(d->n_fields, sizeof(*keys));
	for (iter = json_object_iter((json_t *)in); iter; iter = json_object_iter_next((json_t *)in, iter)) {
		const ProtobufCFieldDescriptor *f;
		size_t klen, old, idx;
		char sn[SNIP_BYTES + 4];

		key = json_object_iter_key(iter);
		klen = json_object_iter_key_len(iter);
		v = json_object_iter_value(iter);
		old = path_push_key(c, key, klen);
		f = find_field(d, key, klen);
		if (!f) {
			rc = fail(c, "unknown field \"%s\" in %s", snip(key, klen, sn), d->name);
			goto out;
		}
		idx = (size_t)(f - d->fields);
		if (keys[idx]) {
			rc = fail(c, "field %s is given twice (as \"%s\" and \"%s\")", f->name,
				  keys[idx], snip(key, klen, sn));
			goto out;
		}
		keys[idx] = key;
		if (!json_is_null(v)) {
			rc = parse_field(c, m, f, v, keys);
			if (rc)
				goto out;
		}
		path_pop(c, old);
	}
	for (i = 0; i < d->n_fields; i++) {
		if (d->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && !keys[i]) {
			rc = fail(c, "required field %s of %s is missing", d->fields[i].name, d->name);
			goto out;
		}
	}
	c->depth--;
out:
	free(keys);
	return rc;
}

/* --- public parse entry points ---------------------------------------- */

static void set_err(struct cm_pbjson_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(struct cm_pbjson_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->path[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	utf8_mend(err->message);
}

int cm_pbjson_parse(const ProtobufCMessageDescriptor *desc, const json_t *in,
		    ProtobufCMessage **out, struct cm_pbjson_err *err)
{
	struct pctx c = { .err = err };
	ProtobufCMessage *m = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (err)
		err->path[0] = err->message[0] = '\0';
	if (!desc || !in || !out) {
		set_err(err, "cm_pbjson_parse called without a descriptor, document or result");
		return -EINVAL;
	}
	rc = parse_message(&c, desc, in, &m);
	if (rc) {
		protobuf_c_message_free_unpacked(m, NULL);
		return rc;
	}
	*out = m;
	return 0;
}

int cm_pbjson_parse_text(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
			 ProtobufCMessage **out, struct cm_pbjson_err *err)
{
	json_error_t je;
	json_t *root;
	int rc;

	if (out)
		*out = NULL;
	if (!desc || (!text && len) || !out) {
		set_err(err, "cm_pbjson_parse_text called without a descriptor, text or result");
		return -EINVAL;
	}
	/* NUL is let through so our check can name the field that holds it. */
	root = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!root) {
		set_err(err, "not JSON: line %d, column %d: %s%s", je.line, je.column, je.text,
			json_error_code(&je) == json_error_numeric_overflow && strstr(je.text, "integer")
				? " (write integers above 9223372036854775807 as decimal strings)"
				: "");
		return CM_EDECODE;
	}
	rc = cm_pbjson_parse(desc, root, out, err);
	json_decref(root);
	return rc;
}

/* --- rendering --------------------------------------------------------- */

/* jansson returns NULL only when out of memory (inputs here are always
 * valid), and out of memory aborts in this project. */
static json_t *jnew(json_t *j)
{
	cm_require(j != NULL);
	return j;
}

static void jset(json_t *obj, const char *key, json_t *v)
{
	cm_require(json_object_set_new(obj, key, v) == 0);
}

static json_t *render_i64(int64_t v)
{
	char buf[24];

	if (v >= -(int64_t)SAFE_INT_MAX && v <= (int64_t)SAFE_INT_MAX)
		return jnew(json_integer((json_int_t)v));
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return jnew(json_string(buf));
}

static json_t *render_u64(uint64_t v)
{
	char buf[24];

	if (v <= SAFE_INT_MAX)
		return jnew(json_integer((json_int_t)v));
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return jnew(json_string(buf));
}

static json_t *render_double(double d)
{
	if (isnan(d))
		return jnew(json_string("NaN"));
	if (isinf(d))
		return jnew(json_string(d > 0 ? "Infinity" : "-Infinity"));
	return jnew(json_real(d));
}

static json_t *render_text(const char *s)
{
	size_t n, i, k, o = 0;
	char *buf;
	json_t *j;

	if (!s)
		return jnew(json_string(""));
	n = strlen(s);
	if (utf8_bad_at(s, n) == n)
		return jnew(json_stringn(s, n));
	buf = cm_xmalloc(n * 3 + 1);
	for (i = 0; i < n; i += k) {
		k = utf8_seq((const unsigned char *)s + i, n - i);
		if (k) {
			memcpy(buf + o, s + i, k);
			o += k;
		} else {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		}
	}
	j = jnew(json_stringn(buf, o));
	free(buf);
	return j;
}

static json_t *render_bytes(const ProtobufCFieldDescriptor *f, const ProtobufCBinaryData *b)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	char *buf;
	json_t *j;

	/* Digests read better as the hex every tool prints; only 32 bytes, so
	 * the text always reads back as the same value. */
	if (b->len == 32 && (strcmp(f->name, "sha256") == 0 || strcmp(f->name, "pseudonym") == 0)) {
		char h[65];

		for (i = 0; i < 32; i++) {
			h[2 * i] = hex[b->data[i] >> 4];
			h[2 * i + 1] = hex[b->data[i] & 15];
		}
		h[64] = '\0';
		return jnew(json_string(h));
	}
	buf = cm_xmalloc((b->len + 2) / 3 * 4 + 1);
	for (i = 0; i + 2 < b->len; i += 3) {
		uint32_t v = (uint32_t)b->data[i] << 16 | (uint32_t)b->data[i + 1] << 8 | b->data[i + 2];

		buf[o++] = b64[v >> 18];
		buf[o++] = b64[(v >> 12) & 63];
		buf[o++] = b64[(v >> 6) & 63];
		buf[o++] = b64[v & 63];
	}
	if (b->len - i == 1) {
		uint32_t v = (uint32_t)b->data[i] << 16;

		buf[o++] = b64[v >> 18];
		buf[o++] = b64[(v >> 12) & 63];
		buf[o++] = '=';
		buf[o++] = '=';
	} else if (b->len - i == 2) {
		uint32_t v = (uint32_t)b->data[i] << 16 | (uint32_t)b->data[i + 1] << 8;

		buf[o++] = b64[v >> 18];
		buf[o++] = b64[(v >> 12) & 63];
		buf[o++] = b64[(v >> 6) & 63];
		buf[o++] = '=';
	}
	j = jnew(json_stringn(buf, o));
	free(buf);
	return j;
}

static json_t *render_msg(const ProtobufCMessage *m, unsigned flags);

static json_t *render_value(const ProtobufCFieldDescriptor *f, const void *slot, unsigned flags)
{
	const ProtobufCEnumValue *ev;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return jnew(json_integer(*(const int32_t *)slot));
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return jnew(json_integer(*(const uint32_t *)slot));
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return render_i64(*(const int64_t *)slot);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return render_u64(*(const uint64_t *)slot);
	case PROTOBUF_C_TYPE_FLOAT:
		return render_double(*(const float *)slot);
	case PROTOBUF_C_TYPE_DOUBLE:
		return render_double(*(const double *)slot);
	case PROTOBUF_C_TYPE_BOOL:
		return jnew(json_boolean(*(const protobuf_c_boolean *)slot));
	case PROTOBUF_C_TYPE_ENUM:
		/* A number from a newer peer has no name here: keep the number. */
		ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)slot);
		return ev ? jnew(json_string(ev->name)) : jnew(json_integer(*(const int *)slot));
	case PROTOBUF_C_TYPE_STRING:
		return render_text(*(char *const *)slot);
	case PROTOBUF_C_TYPE_BYTES:
		return render_bytes(f, slot);
	case PROTOBUF_C_TYPE_MESSAGE:
		if (!*(ProtobufCMessage *const *)slot)
			return jnew(json_null());
		return render_msg(*(ProtobufCMessage *const *)slot, flags);
	}
	return jnew(json_null());
}

static bool is_default(const ProtobufCFieldDescriptor *f, const void *slot)
{
	static const unsigned char zero[16];

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return !*(char *const *)slot || !**(char *const *)slot;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)slot)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return !*(ProtobufCMessage *const *)slot;
	default:
		/* Bitwise, as protobuf-c's packer decides: -0.0 is not a default. */
		return memcmp(slot, zero, elt_size(f->type)) == 0;
	}
}

static json_t *render_msg(const ProtobufCMessage *m, unsigned flags)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	bool all = flags & CM_PBJSON_EMIT_DEFAULTS;
	json_t *obj = jnew(json_object());
	unsigned i;

	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *slot = member(m, f->offset);

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)member(m, f->quantifier_offset), k;
			size_t sz = elt_size(f->type);
			const char *arr = *(char *const *)slot;
			json_t *a;

			if (!n && !all)
				continue;
			a = jnew(json_array());
			for (k = 0; k < n && arr; k++)
				cm_require(json_array_append_new(a, render_value(f, arr + k * sz, flags)) == 0);
			jset(obj, f->name, a);
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(const uint32_t *)member(m, f->quantifier_offset) != f->id)
				continue;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
			   f->type != PROTOBUF_C_TYPE_MESSAGE) {
			if (!*(const protobuf_c_boolean *)member(m, f->quantifier_offset) && !all)
				continue;
		} else if (f->label != PROTOBUF_C_LABEL_REQUIRED && !all && is_default(f, slot)) {
			continue;
		}
		jset(obj, f->name, render_value(f, slot, flags));
	}
	return obj;
}

json_t *cm_pbjson_render(const ProtobufCMessage *m, unsigned flags)
{
	if (!m)
		return NULL;
	return render_msg(m, flags);
}

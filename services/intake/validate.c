#include "validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/text.h"

/* One validation run: where we are in the message and where to report. */
struct vs {
	const struct intake_vctx *ctx;
	struct intake_verr *err;
	char path[sizeof(((struct intake_verr *)0)->field)];
	size_t len;
};

#define TRY(expr)                        \
	do {                             \
		int rc_ = (expr);        \
		if (rc_)                 \
			return rc_;      \
	} while (0)

__attribute__((format(printf, 2, 3))) static size_t enter(struct vs *v, const char *fmt, ...)
{
	size_t old = v->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v->path + v->len, sizeof(v->path) - v->len, fmt, ap);
	va_end(ap);
	/* A path deeper than the buffer is cut, never overrun: the field
	 * names of this schema keep real paths far below the limit. */
	if (n > 0)
		v->len += (size_t)n < sizeof(v->path) - v->len ? (size_t)n
							       : sizeof(v->path) - 1 - v->len;
	return old;
}

/* Every field visited enters the path, valid or not, so this is on the hot
 * path of every submission: a copy, not a formatted print. */
static size_t enter_field(struct vs *v, const char *name)
{
	size_t old = v->len, room = sizeof(v->path) - 1 - v->len, n = strlen(name);

	if (v->len && room > 0) {
		v->path[v->len++] = '.';
		room--;
	}
	if (n > room)
		n = room;
	memcpy(v->path + v->len, name, n);
	v->len += n;
	v->path[v->len] = '\0';
	return old;
}

/* "[j]" after the path; on the hot path like enter_field, so no printf. */
static size_t enter_index(struct vs *v, size_t j)
{
	char buf[24];
	size_t n = sizeof(buf), old = v->len, room = sizeof(v->path) - 1 - v->len;

	buf[--n] = ']';
	do {
		buf[--n] = (char)('0' + j % 10);
		j /= 10;
	} while (j);
	buf[--n] = '[';
	/* Cut, never overrun: a path too long keeps the end of "[j]" (the
	 * index is what tells elements apart), where enter() keeps a name's
	 * start. */
	n = sizeof(buf) - n < room ? n : sizeof(buf) - room;
	memcpy(v->path + v->len, buf + n, sizeof(buf) - n);
	v->len += sizeof(buf) - n;
	v->path[v->len] = '\0';
	return old;
}

/* ".name[j]" */
static size_t enter_elem(struct vs *v, const char *name, size_t j)
{
	size_t old = enter_field(v, name);

	enter_index(v, j);
	return old;
}

static void leave(struct vs *v, size_t old)
{
	v->len = old;
	v->path[old] = '\0';
}

__attribute__((format(printf, 4, 5))) static int fail(struct vs *v, const char *code,
						      const char *leaf, const char *fmt, ...)
{
	va_list ap;

	v->err->code = code;
	/* path is shorter than field, so the leaf always has room to start. */
	memcpy(v->err->field, v->path, v->len + 1);
	if (leaf)
		snprintf(v->err->field + v->len, sizeof(v->err->field) - v->len, "%s%s",
			 v->len ? "." : "", leaf);
	va_start(ap, fmt);
	vsnprintf(v->err->message, sizeof(v->err->message), fmt, ap);
	va_end(ap);
	return CM_EINVALID;
}

static bool empty(const char *s)
{
	return !s || !*s;
}

/* ---- text: every string field of the request, found by descriptor ------ */

struct text_rule {
	const char *name; /* proto field name; the same name means the same rule */
	uint32_t cap;
	bool multi_line;
};

/* Dates are capped loosely: the date checks give the better error. Sorted
 * by name for bsearch. */
#define DATE_CAP 32
static const struct text_rule text_rules[] = {
	{ "accepted_by_agency", INTAKE_MAX_CODE, false },
	{ "address", INTAKE_MAX_ADDRESS, false },
	{ "agency", INTAKE_MAX_CODE, false },
	{ "also_sent_to", INTAKE_MAX_NAME, false },
	{ "assigned_agency", INTAKE_MAX_CODE, false },
	{ "case_number", INTAKE_MAX_NUMBER, false },
	{ "conclusion", INTAKE_MAX_TEXT, true },
	{ "date", DATE_CAP, false },
	{ "decision_date", DATE_CAP, false },
	{ "decision_number", INTAKE_MAX_NUMBER, false },
	{ "description", INTAKE_MAX_DETAIL, true },
	{ "detail", INTAKE_MAX_DETAIL, true },
	{ "document_number", INTAKE_MAX_NUMBER, false },
	{ "due_date", DATE_CAP, false },
	{ "email", INTAKE_MAX_EMAIL, false },
	{ "field", INTAKE_MAX_CODE, false },
	{ "follow_up", INTAKE_MAX_DETAIL, true },
	{ "forwarded_by", INTAKE_MAX_NAME, false },
	{ "forwarding_letter", INTAKE_MAX_NUMBER, false },
	{ "full_name", INTAKE_MAX_NAME, false },
	{ "guidance_letter", INTAKE_MAX_NUMBER, false },
	{ "guided_to_agency", INTAKE_MAX_CODE, false },
	{ "handling_agency", INTAKE_MAX_CODE, false },
	{ "id_number", INTAKE_MAX_ID_NUMBER, false },
	{ "issuing_agency", INTAKE_MAX_CODE, false },
	{ "location", INTAKE_MAX_ADDRESS, false },
	{ "location_unit", INTAKE_MAX_CODE, false },
	{ "managing_agency", INTAKE_MAX_CODE, false },
	{ "media_type", 255, false },
	{ "month", DATE_CAP, false },
	{ "name", INTAKE_MAX_NAME, false },
	{ "note", INTAKE_MAX_DETAIL, true },
	{ "notes", INTAKE_MAX_DETAIL, true },
	{ "number", INTAKE_MAX_NUMBER, false },
	{ "officer", INTAKE_MAX_NAME, false },
	{ "petition_date", DATE_CAP, false },
	{ "phone", INTAKE_MAX_PHONE, false },
	{ "planned_dates", DATE_CAP, false },
	{ "position", INTAKE_MAX_NAME, false },
	{ "prior_handling", INTAKE_MAX_DETAIL, true },
	{ "reason", INTAKE_MAX_DETAIL, true },
	{ "receiving_agency", INTAKE_MAX_CODE, false },
	{ "reception_id", INTAKE_MAX_NUMBER, false },
	{ "refusal_reason", INTAKE_MAX_DETAIL, true },
	{ "source_id", INTAKE_MAX_SOURCE_ID, false },
	{ "source_system", INTAKE_MAX_SOURCE_SYSTEM, false },
	{ "summary", INTAKE_MAX_SUMMARY, true },
	{ "task", INTAKE_MAX_DETAIL, true },
	{ "text", INTAKE_MAX_TEXT, true },
	{ "title", INTAKE_MAX_ADDRESS, false },
	{ "to_agency", INTAKE_MAX_CODE, false },
	{ "to_body", INTAKE_MAX_NAME, false },
	{ "to_officer", INTAKE_MAX_NAME, false },
	{ "uri", INTAKE_MAX_URI, false },
};

/* A field added to the proto without a rule here still gets checked, under
 * the strictest short-text rule. */
static const struct text_rule default_rule = { "", INTAKE_MAX_NAME, false };

static int rule_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct text_rule *)elem)->name);
}

static const struct text_rule *rule_for(const char *name)
{
	const struct text_rule *r;

	r = bsearch(name, text_rules, CM_ARRAY_LEN(text_rules), sizeof(text_rules[0]), rule_cmp);
	/* Tests abort here (CM_ASSERT_ABORT=1), so a new field cannot slip
	 * into the schema without someone choosing its cap. */
	if (cm_fails_assert(r != NULL))
		return &default_rule;
	return r;
}

/* Which rule a string field takes depends only on its descriptor, which is
 * static: remember it by descriptor address instead of a bsearch of strcmp
 * per string per submission. Collisions just look the rule up again. */
#define RULE_CACHE 256
static struct {
	const ProtobufCFieldDescriptor *f;
	const struct text_rule *r;
} rule_cache[RULE_CACHE];

static const struct text_rule *rule_of(const ProtobufCFieldDescriptor *f)
{
	size_t h = ((uintptr_t)f >> 3) % RULE_CACHE;

	if (rule_cache[h].f != f) {
		rule_cache[h].r = rule_for(f->name);
		rule_cache[h].f = f;
	}
	return rule_cache[h].r;
}

static bool is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] & 0x80)
			return false;
	return true;
}

static int check_string(struct vs *v, char **ps, const struct text_rule *r)
{
	char *s = *ps, *nfc = NULL;
	const char *why = NULL;
	size_t len;
	int rc;

	if (empty(s))
		return 0;
	len = strlen(s);
	rc = cm_text_check(s, len, r->multi_line ? CM_TEXT_MULTI_LINE : CM_TEXT_SINGLE_LINE, &why);
	if (rc == CM_EINVALID)
		return fail(v, "invalid_utf8", NULL, "%s", why);
	if (rc)
		return fail(v, "control_character", NULL, "%s%s", why,
			    r->multi_line ? "" : " (single-line field)");
	if (!is_ascii(s, len) && !cm_text_is_nfc_quick(s)) {
		if (cm_text_nfc(s, &nfc) != 0)
			return fail(v, "invalid_utf8", NULL, "cannot be normalised to NFC");
		if (strcmp(nfc, s) != 0) {
			len = strlen(nfc);
			if (v->ctx->arena) {
				*ps = memcpy(cm_arena_alloc(v->ctx->arena, len + 1), nfc, len + 1);
				free(nfc);
			} else {
				free(s);
				*ps = nfc;
			}
		} else {
			free(nfc);
		}
	}
	if (len > r->cap)
		return fail(v, "too_long", NULL, "%zu bytes, at most %u", len, (unsigned)r->cap);
	return 0;
}

static int check_enum(struct vs *v, const ProtobufCFieldDescriptor *f, int value)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;

	if (!protobuf_c_enum_descriptor_get_value(ed, value))
		return fail(v, "invalid_enum", NULL, "%d is not a value of %s", value,
			    ed->short_name);
	return 0;
}

static int walk(struct vs *v, ProtobufCMessage *m);

static int walk_value(struct vs *v, const ProtobufCFieldDescriptor *f, void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return check_string(v, p, rule_of(f));
	case PROTOBUF_C_TYPE_ENUM:
		return check_enum(v, f, *(int *)p);
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage **)p ? walk(v, *(ProtobufCMessage **)p) : 0;
	default:
		return 0;
	}
}

/* Walking the descriptors instead of naming fields by hand means no string
 * or enum anywhere in the request escapes the UTF-8, control-character, NFC,
 * cap and enum checks, including fields added to the proto later. */
static int walk(struct vs *v, ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	char *base = (char *)m;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		void *member = base + f->offset;
		size_t old;
		int rc = 0;

		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			/* Members of a oneof share storage; only the one
			 * named by the case field is live. */
			if (*(uint32_t *)(void *)(base + f->quantifier_offset) != f->id)
				continue;
		}
		old = enter_field(v, f->name);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)(void *)(base + f->quantifier_offset);
			char *arr = *(char **)member;
			size_t esz;

			switch (f->type) {
			case PROTOBUF_C_TYPE_STRING:
				esz = sizeof(char *);
				break;
			case PROTOBUF_C_TYPE_ENUM:
				esz = sizeof(int);
				break;
			case PROTOBUF_C_TYPE_MESSAGE:
				esz = sizeof(ProtobufCMessage *);
				break;
			default:
				n = 0;
				esz = 0;
				break;
			}
			for (size_t j = 0; j < n && !rc; j++) {
				size_t o = enter_index(v, j);

				rc = walk_value(v, f, arr + j * esz);
				if (!rc)
					leave(v, o);
			}
		} else {
			rc = walk_value(v, f, member);
		}
		if (rc)
			return rc;
		leave(v, old);
	}
	return 0;
}

/* ---- shared field checks ------------------------------------------------ */

static int need(struct vs *v, const char *s, const char *leaf)
{
	if (empty(s))
		return fail(v, "missing_field", leaf, "%s is required", leaf);
	return 0;
}

static int need_enum(struct vs *v, int value, const char *leaf)
{
	if (value == 0)
		return fail(v, "missing_field", leaf, "%s is required", leaf);
	return 0;
}

static void fmt_day(cm_day_t day, char buf[11])
{
	cm_day_format(day, buf);
}

static int instant(struct vs *v, int64_t ms, const char *leaf)
{
	const struct intake_vctx *c = v->ctx;
	char a[30], b[30];

	if (ms == 0)
		return fail(v, "missing_field", leaf, "%s is required", leaf);
	if (ms < c->floor_ms) {
		cm_time_format(c->floor_ms, b);
		return fail(v, "date_too_old", leaf, "%s is before %s", leaf, b);
	}
	/* ms is at least the floor here, so ms - skew cannot overflow;
	 * now + skew could, with a skew configured absurdly large. */
	if (ms - c->skew_ms > c->now_ms) {
		cm_time_format(ms, a);
		cm_time_format(c->now_ms, b);
		return fail(v, "date_in_future", leaf, "%s %s is after now (%s)", leaf, a, b);
	}
	return 0;
}

static int date_str(struct vs *v, const char *s, const char *leaf, cm_day_t *out)
{
	if (cm_day_parse(s, out) != 0)
		return fail(v, "invalid_date", leaf, "\"%s\" is not a real date YYYY-MM-DD", s);
	return 0;
}

/* A date written on a document cannot be later than the day it reached us. */
static int date_not_after(struct vs *v, const char *s, const char *leaf, cm_day_t limit)
{
	cm_day_t day;
	char a[11];

	TRY(date_str(v, s, leaf, &day));
	if (day > limit) {
		fmt_day(limit, a);
		return fail(v, "date_in_future", leaf, "%s %s is after %s", leaf, s, a);
	}
	return 0;
}

static int agency_known(struct vs *v, const char *code, const char *leaf,
			const struct cm_agency **out)
{
	const struct cm_agency *a = cm_register_agency(v->ctx->reg, code);

	if (!a)
		return fail(v, "unknown_agency", leaf, "no agency \"%s\" in the register", code);
	if (out)
		*out = a;
	return 0;
}

static int agency_active(struct vs *v, const char *code, const char *leaf, cm_day_t day)
{
	const struct cm_agency *a = NULL;
	char d[11];

	TRY(agency_known(v, code, leaf, &a));
	if (!cm_agency_active(a, day)) {
		fmt_day(day, d);
		if (a->successor_code)
			return fail(v, "unknown_agency", leaf,
				    "agency \"%s\" is not active on %s (successor: %s)", code, d,
				    a->successor_code);
		return fail(v, "unknown_agency", leaf, "agency \"%s\" is not active on %s", code, d);
	}
	return 0;
}

/* Units are checked for existence only: citizens and old documents name
 * units that a merger has since replaced, and routing resolves successors. */
static int unit_known(struct vs *v, const char *code, const char *leaf)
{
	if (!cm_register_unit(v->ctx->reg, code))
		return fail(v, "unknown_unit", leaf, "no administrative unit \"%s\" in the register",
			    code);
	return 0;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "<AGENCY>-<YYYY>-<serial>": agency codes contain '-' themselves
 * ("DN-STC"), so the number is read from the right. */
static int case_number(struct vs *v, const char *s, const char *leaf)
{
	const char *dash2 = strrchr(s, '-'), *dash1 = NULL;
	size_t serial_len, agency_len;

	if (dash2 && dash2 - s >= 5 && dash2[-5] == '-')
		dash1 = dash2 - 5;
	if (!dash1)
		goto bad;
	agency_len = (size_t)(dash1 - s);
	serial_len = strlen(dash2 + 1);
	if (agency_len == 0 || agency_len > INTAKE_MAX_CODE)
		goto bad;
	if (!all_digits(dash1 + 1, 4) || serial_len < 6 || serial_len > 12 ||
	    !all_digits(dash2 + 1, serial_len))
		goto bad;
	for (size_t i = 0; i < agency_len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			goto bad;
	return 0;
bad:
	return fail(v, "invalid_value", leaf,
		    "\"%s\" is not a case number <AGENCY>-<YYYY>-<NNNNNN>", s);
}

static bool id_number_ok(Donthu__V1__IdKind kind, const char *s)
{
	size_t n = strlen(s);

	switch (kind) {
	case DONTHU__V1__ID_KIND__ID_KIND_CCCD:
	case DONTHU__V1__ID_KIND__ID_KIND_PERSONAL_NUMBER:
		return n == 12 && all_digits(s, n);
	case DONTHU__V1__ID_KIND__ID_KIND_PASSPORT:
		if (n < 6 || n > 9)
			return false;
		for (size_t i = 0; i < n; i++)
			if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
				return false;
		return true;
	case DONTHU__V1__ID_KIND__ID_KIND_OTHER:
		/* Control characters are already gone; refuse blank ones. */
		for (size_t i = 0; i < n; i++)
			if (s[i] != ' ')
				return n <= INTAKE_MAX_ID_NUMBER;
		return false;
	default:
		return false;
	}
}

static int phone_ok(struct vs *v, const char *s)
{
	bool digit = false;

	for (const char *p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if (!strchr("+ ()-.", *p))
			return fail(v, "invalid_value", "phone",
				    "phone may hold only digits and + ( ) - . and space");
	}
	if (!digit)
		return fail(v, "invalid_value", "phone", "phone has no digits");
	return 0;
}

static int email_ok(struct vs *v, const char *s)
{
	const char *at = strchr(s, '@');

	if (!at || at == s || !at[1] || strchr(at + 1, '@') || strchr(s, ' '))
		return fail(v, "invalid_value", "email", "\"%s\" is not an e-mail address", s);
	return 0;
}

/* The first field that identifies p, or NULL when p names nobody. */
static const char *identity_leaf(const Donthu__V1__Person *p)
{
	if (!empty(p->full_name))
		return "full_name";
	if (!empty(p->id_number) || (p->id_kind != DONTHU__V1__ID_KIND__ID_KIND_UNSPECIFIED &&
				      p->id_kind != DONTHU__V1__ID_KIND__ID_KIND_NONE))
		return "id_number";
	if (!empty(p->address))
		return "address";
	if (!empty(p->phone))
		return "phone";
	if (!empty(p->email))
		return "email";
	return NULL;
}

static int person(struct vs *v, const Donthu__V1__Person *p)
{
	bool has_id = !empty(p->id_number);

	switch (p->id_kind) {
	case DONTHU__V1__ID_KIND__ID_KIND_UNSPECIFIED:
		if (has_id)
			return fail(v, "missing_field", "id_kind",
				    "id_kind is required with an id_number");
		break;
	case DONTHU__V1__ID_KIND__ID_KIND_NONE:
		if (has_id)
			return fail(v, "kind_mismatch", "id_number",
				    "id_kind NONE but an id_number is given");
		break;
	default:
		if (!has_id)
			return fail(v, "missing_field", "id_number", "id_number is required with id_kind %s",
				    protobuf_c_enum_descriptor_get_value(&donthu__v1__id_kind__descriptor,
									 p->id_kind)->name);
		if (!id_number_ok(p->id_kind, p->id_number))
			return fail(v, "invalid_id_number", "id_number", "not a valid %s number",
				    protobuf_c_enum_descriptor_get_value(&donthu__v1__id_kind__descriptor,
									 p->id_kind)->name);
		break;
	}
	if (!empty(p->phone))
		TRY(phone_ok(v, p->phone));
	if (!empty(p->email))
		TRY(email_ok(v, p->email));
	return 0;
}

/* RFC 6838 restricted-name characters, "type/subtype" without parameters. */
static bool media_type_ok(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t n;

	if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
		return false;
	n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (s + i == slash)
			continue;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!#$&^_.+-", c)))
			return false;
	}
	return (size_t)(slash - s) <= 127 && strlen(slash + 1) <= 127;
}

static int attachment(struct vs *v, const Donthu__V1__Attachment *a)
{
	if (a->sha256.len != 32)
		return fail(v, "invalid_attachment", "sha256", "sha256 must be 32 bytes, not %zu",
			    a->sha256.len);
	if (a->size < 1 || a->size > INTAKE_MAX_ATTACHMENT_BYTES)
		return fail(v, "invalid_attachment", "size",
			    "size %llu is outside 1 .. 2147483648 bytes",
			    (unsigned long long)a->size);
	if (!media_type_ok(a->media_type))
		return fail(v, "invalid_attachment", "media_type",
			    "\"%s\" is not a media type \"type/subtype\"", a->media_type);
	return 0;
}

/* ---- petition ----------------------------------------------------------- */

static bool is_complaint(Donthu__V1__PetitionKind k)
{
	return k == DONTHU__V1__PETITION_KIND__PETITION_KIND_COMPLAINT;
}

static int respondent_common(struct vs *v, const Donthu__V1__Respondent *r, cm_day_t received)
{
	size_t old = enter_field(v, "respondent");

	if (!empty(r->issuing_agency))
		TRY(agency_known(v, r->issuing_agency, "issuing_agency", NULL));
	if (!empty(r->managing_agency))
		TRY(agency_known(v, r->managing_agency, "managing_agency", NULL));
	if (!empty(r->decision_date))
		TRY(date_not_after(v, r->decision_date, "decision_date", received));
	leave(v, old);
	return 0;
}

static int complaint(struct vs *v, const Donthu__V1__Petition *p, cm_day_t received)
{
	const Donthu__V1__Respondent *r = p->respondent;
	const Donthu__V1__PriorDecision *pd = p->prior_decision;
	size_t old;

	TRY(need_enum(v, (int)p->complaint_subject, "complaint_subject"));
	TRY(need_enum(v, (int)p->round, "round"));
	if (!r)
		return fail(v, "missing_field", "respondent", "respondent is required for a complaint");
	old = enter_field(v, "respondent");
	TRY(need(v, r->issuing_agency, "issuing_agency"));
	if (empty(r->decision_number) && empty(r->description))
		return fail(v, "missing_field", "decision_number",
			    "a complaint needs the decision_number or a description of the act");
	leave(v, old);
	if (p->round == DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_SECOND) {
		if (!pd)
			return fail(v, "missing_field", "prior_decision",
				    "a second-round complaint needs the first-round decision");
		old = enter_field(v, "prior_decision");
		TRY(need(v, pd->number, "number"));
		TRY(need(v, pd->date, "date"));
		TRY(date_not_after(v, pd->date, "date", received));
		TRY(need(v, pd->issuing_agency, "issuing_agency"));
		TRY(agency_known(v, pd->issuing_agency, "issuing_agency", NULL));
		leave(v, old);
	}
	return 0;
}

static int petitioners(struct vs *v, const Donthu__V1__Petition *p)
{
	bool named = false;

	if (p->n_petitioners > INTAKE_MAX_PETITIONERS)
		return fail(v, "too_many", "petitioners", "%zu petitioners, at most %d",
			    p->n_petitioners, INTAKE_MAX_PETITIONERS);
	for (size_t i = 0; i < p->n_petitioners; i++) {
		const Donthu__V1__Person *pe = p->petitioners[i];
		size_t old = enter_elem(v, "petitioners", i);

		if (p->anonymous && identity_leaf(pe))
			return fail(v, "kind_mismatch", identity_leaf(pe),
				    "an anonymous petition identifies no petitioner");
		TRY(person(v, pe));
		if (!empty(pe->full_name) && !empty(pe->address))
			named = true;
		leave(v, old);
	}
	if (p->anonymous)
		return 0;
	if (p->n_petitioners == 0)
		return fail(v, "missing_field", "petitioners",
			    "a petition that is not anonymous needs a petitioner");
	if (!named) {
		enter(v, ".petitioners[0]");
		return fail(v, "missing_field", empty(p->petitioners[0]->full_name) ? "full_name" : "address",
			    "at least one petitioner needs a full_name and an address");
	}
	return 0;
}

static int petition(struct vs *v, const Donthu__V1__Petition *p)
{
	cm_day_t received;

	TRY(need_enum(v, (int)p->channel, "channel"));
	TRY(need_enum(v, (int)p->kind, "kind"));
	TRY(instant(v, p->received_at_ms, "received_at_ms"));
	received = cm_day_of_ms(p->received_at_ms);
	TRY(need(v, p->receiving_agency, "receiving_agency"));
	TRY(agency_active(v, p->receiving_agency, "receiving_agency", received));
	if (!empty(p->location_unit))
		TRY(unit_known(v, p->location_unit, "location_unit"));
	if (!empty(p->field) && !cm_register_field_known(v->ctx->reg, p->field))
		return fail(v, "unknown_field", "field", "no field \"%s\" in the register", p->field);

	if (p->signer_count == 0)
		return fail(v, "zero_signers", "signer_count", "signer_count must be at least 1");
	if (p->signer_count > INTAKE_MAX_SIGNERS)
		return fail(v, "invalid_value", "signer_count", "signer_count %u is over %d",
			    p->signer_count, INTAKE_MAX_SIGNERS);
	if (p->signer_count < p->n_petitioners)
		return fail(v, "invalid_value", "signer_count",
			    "signer_count %u is less than the %zu petitioners listed", p->signer_count,
			    p->n_petitioners);

	if (p->anonymous) {
		switch (p->kind) {
		case DONTHU__V1__PETITION_KIND__PETITION_KIND_DENUNCIATION:
		case DONTHU__V1__PETITION_KIND__PETITION_KIND_RECOMMENDATION:
		case DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK:
			break;
		default:
			return fail(v, "kind_mismatch", "anonymous",
				    "only denunciations, recommendations and feedback may be anonymous");
		}
	} else if (p->anonymous_verifiable) {
		return fail(v, "kind_mismatch", "anonymous_verifiable",
			    "anonymous_verifiable is set on a petition that is not anonymous");
	}
	TRY(petitioners(v, p));

	if (!is_complaint(p->kind) && p->kind != DONTHU__V1__PETITION_KIND__PETITION_KIND_MIXED) {
		if (p->complaint_subject)
			return fail(v, "kind_mismatch", "complaint_subject",
				    "complaint_subject is only for complaints");
		if (p->round)
			return fail(v, "kind_mismatch", "round", "round is only for complaints");
		if (p->prior_decision)
			return fail(v, "kind_mismatch", "prior_decision",
				    "prior_decision is only for complaints");
	}
	switch (p->kind) {
	case DONTHU__V1__PETITION_KIND__PETITION_KIND_COMPLAINT:
		TRY(complaint(v, p, received));
		break;
	case DONTHU__V1__PETITION_KIND__PETITION_KIND_DENUNCIATION:
		if (!p->respondent)
			return fail(v, "missing_field", "respondent",
				    "respondent is required for a denunciation");
		if (empty(p->respondent->name) && empty(p->respondent->description)) {
			enter_field(v, "respondent");
			return fail(v, "missing_field", "name",
				    "a denunciation needs the name or a description of the person denounced");
		}
		break;
	default:
		break;
	}
	TRY(need(v, p->summary, "summary"));
	if (p->respondent)
		TRY(respondent_common(v, p->respondent, received));

	if (p->channel == DONTHU__V1__CHANNEL__CHANNEL_FORWARDED)
		TRY(need(v, p->forwarded_by, "forwarded_by"));
	if (p->delegation_size > 0) {
		if (p->channel != DONTHU__V1__CHANNEL__CHANNEL_IN_PERSON)
			return fail(v, "kind_mismatch", "delegation_size",
				    "a delegation only comes in person");
		if (p->delegation_size < 2 || p->delegation_size > INTAKE_MAX_DELEGATION)
			return fail(v, "invalid_value", "delegation_size",
				    "delegation_size %u is outside 2 .. %d", p->delegation_size,
				    INTAKE_MAX_DELEGATION);
	}
	if (!empty(p->petition_date))
		TRY(date_not_after(v, p->petition_date, "petition_date", received));

	if (p->n_attachments > INTAKE_MAX_ATTACHMENTS)
		return fail(v, "too_many", "attachments", "%zu attachments, at most %d",
			    p->n_attachments, INTAKE_MAX_ATTACHMENTS);
	for (size_t i = 0; i < p->n_attachments; i++) {
		size_t old = enter_elem(v, "attachments", i);

		TRY(attachment(v, p->attachments[i]));
		leave(v, old);
	}
	if (p->n_also_sent_to > INTAKE_MAX_ALSO_SENT_TO)
		return fail(v, "too_many", "also_sent_to", "%zu bodies, at most %d",
			    p->n_also_sent_to, INTAKE_MAX_ALSO_SENT_TO);
	return 0;
}

/* ---- case action -------------------------------------------------------- */

static int money(struct vs *v, int64_t x, const char *leaf)
{
	if (x < 0)
		return fail(v, "invalid_value", leaf, "%s is negative", leaf);
	return 0;
}

static int area(struct vs *v, double x, const char *leaf)
{
	if (!isfinite(x) || x < 0)
		return fail(v, "invalid_value", leaf, "%s must be a finite area >= 0", leaf);
	return 0;
}

static int action_body(struct vs *v, const Donthu__V1__CaseAction *a, cm_day_t day)
{
	switch (a->action_case) {
	case DONTHU__V1__CASE_ACTION__ACTION_ACCEPT:
		TRY(need_enum(v, (int)a->accept->complexity, "complexity"));
		if (!empty(a->accept->handling_agency))
			TRY(agency_active(v, a->accept->handling_agency, "handling_agency", day));
		return 0;
	case DONTHU__V1__CASE_ACTION__ACTION_REFUSE:
		TRY(need_enum(v, (int)a->refuse->reason, "reason"));
		if (a->refuse->reason == DONTHU__V1__REFUSAL_REASON__REFUSAL_REASON_OTHER)
			TRY(need(v, a->refuse->detail, "detail"));
		return 0;
	case DONTHU__V1__CASE_ACTION__ACTION_GUIDE:
		/* Guidance inside competence (what to add) names no agency;
		 * guidance elsewhere names it. One of the two must be there. */
		if (empty(a->guide->to_agency) && empty(a->guide->detail))
			return fail(v, "missing_field", "to_agency",
				    "guidance needs the to_agency or a detail");
		if (!empty(a->guide->to_agency))
			TRY(agency_active(v, a->guide->to_agency, "to_agency", day));
		return 0;
	case DONTHU__V1__CASE_ACTION__ACTION_FORWARD:
		TRY(need(v, a->forward->to_agency, "to_agency"));
		return agency_active(v, a->forward->to_agency, "to_agency", day);
	case DONTHU__V1__CASE_ACTION__ACTION_GIVE_BACK:
		return need(v, a->give_back->to_body, "to_body");
	case DONTHU__V1__CASE_ACTION__ACTION_FILE_AWAY:
		TRY(need_enum(v, (int)a->file_away->reason, "reason"));
		if (a->file_away->reason == DONTHU__V1__FILE_REASON__FILE_REASON_OTHER)
			TRY(need(v, a->file_away->detail, "detail"));
		return 0;
	case DONTHU__V1__CASE_ACTION__ACTION_EXTEND:
		if (a->extend->days == 0)
			return fail(v, "missing_field", "days", "days is required");
		if (a->extend->days > INTAKE_MAX_EXTEND_DAYS)
			return fail(v, "invalid_value", "days", "days %u is over %d", a->extend->days,
				    INTAKE_MAX_EXTEND_DAYS);
		return need(v, a->extend->reason, "reason");
	case DONTHU__V1__CASE_ACTION__ACTION_SUSPEND:
		return need(v, a->suspend->reason, "reason");
	case DONTHU__V1__CASE_ACTION__ACTION_TERMINATE:
		return need(v, a->terminate->reason, "reason");
	case DONTHU__V1__CASE_ACTION__ACTION_DECIDE:
		TRY(need_enum(v, (int)a->decide->outcome, "outcome"));
		TRY(money(v, a->decide->money_to_recover_vnd, "money_to_recover_vnd"));
		TRY(money(v, a->decide->money_to_return_vnd, "money_to_return_vnd"));
		TRY(area(v, a->decide->land_to_recover_m2, "land_to_recover_m2"));
		return area(v, a->decide->land_to_return_m2, "land_to_return_m2");
	case DONTHU__V1__CASE_ACTION__ACTION_ENFORCEMENT:
		TRY(money(v, a->enforcement->money_recovered_vnd, "money_recovered_vnd"));
		TRY(money(v, a->enforcement->money_returned_vnd, "money_returned_vnd"));
		TRY(area(v, a->enforcement->land_recovered_m2, "land_recovered_m2"));
		return area(v, a->enforcement->land_returned_m2, "land_returned_m2");
	case DONTHU__V1__CASE_ACTION__ACTION_REASSIGN:
		TRY(need(v, a->reassign->to_agency, "to_agency"));
		TRY(agency_active(v, a->reassign->to_agency, "to_agency", day));
		return need(v, a->reassign->reason, "reason");
	case DONTHU__V1__CASE_ACTION__ACTION_URGE:
		TRY(need(v, a->urge->to_agency, "to_agency"));
		return agency_active(v, a->urge->to_agency, "to_agency", day);
	default:
		/* resume, withdraw, recomplaint, close: nothing required. */
		return 0;
	}
}

static int case_action(struct vs *v, const Donthu__V1__CaseAction *a)
{
	size_t old;
	cm_day_t day;

	TRY(need(v, a->case_number, "case_number"));
	TRY(case_number(v, a->case_number, "case_number"));
	if (a->action_case == DONTHU__V1__CASE_ACTION__ACTION__NOT_SET)
		return fail(v, "missing_field", "action", "one action (accept, refuse, ...) is required");
	TRY(instant(v, a->effective_at_ms, "effective_at_ms"));
	day = cm_day_of_ms(a->effective_at_ms);
	old = enter_field(v, intake_action_name(a->action_case));
	TRY(action_body(v, a, day));
	leave(v, old);
	return 0;
}

/* ---- reception book ----------------------------------------------------- */

static int reception(struct vs *v, const Donthu__V1__ReceptionRecord *r)
{
	cm_day_t day;
	bool addressed = false;

	TRY(need(v, r->agency, "agency"));
	TRY(instant(v, r->received_at_ms, "received_at_ms"));
	day = cm_day_of_ms(r->received_at_ms);
	TRY(agency_active(v, r->agency, "agency", day));
	TRY(need(v, r->summary, "summary"));
	TRY(need_enum(v, (int)r->kind, "kind"));
	TRY(need_enum(v, (int)r->reception_kind, "reception_kind"));
	TRY(need_enum(v, (int)r->mode, "mode"));
	/* Online reception exists from 1 July 2026 (Law 136/2025, Điều 3a). */
	if (r->mode == DONTHU__V1__RECEPTION_MODE__RECEPTION_MODE_ONLINE &&
	    day < cm_day_from_ymd(2026, 7, 1))
		return fail(v, "invalid_value", "mode", "online reception exists from 2026-07-01");

	if (r->citizen_count == 0)
		return fail(v, "zero_signers", "citizen_count", "citizen_count must be at least 1");
	if (r->citizen_count > INTAKE_MAX_SIGNERS)
		return fail(v, "invalid_value", "citizen_count", "citizen_count %u is over %d",
			    r->citizen_count, INTAKE_MAX_SIGNERS);
	if (r->n_citizens == 0)
		return fail(v, "missing_field", "citizens", "the citizens received must be named");
	if (r->n_citizens > INTAKE_MAX_CITIZENS)
		return fail(v, "too_many", "citizens", "%zu citizens, at most %d", r->n_citizens,
			    INTAKE_MAX_CITIZENS);
	if (r->citizen_count < r->n_citizens)
		return fail(v, "invalid_value", "citizen_count",
			    "citizen_count %u is less than the %zu citizens listed", r->citizen_count,
			    r->n_citizens);
	for (size_t i = 0; i < r->n_citizens; i++) {
		size_t old = enter_elem(v, "citizens", i);

		TRY(need(v, r->citizens[i]->full_name, "full_name"));
		TRY(person(v, r->citizens[i]));
		if (!empty(r->citizens[i]->address))
			addressed = true;
		leave(v, old);
	}
	if (!addressed) {
		enter(v, ".citizens[0]");
		return fail(v, "missing_field", "address", "at least one citizen needs an address");
	}
	/* Working rule (legal-reference §4.1): five or more people about one
	 * matter are a delegation. */
	if (r->delegation && r->citizen_count < 5)
		return fail(v, "invalid_value", "delegation",
			    "a delegation has at least 5 citizens, citizen_count is %u",
			    r->citizen_count);

	if (r->refused)
		TRY(need(v, r->refusal_reason, "refusal_reason"));
	else if (!empty(r->refusal_reason))
		return fail(v, "kind_mismatch", "refusal_reason",
			    "refusal_reason is set but refused is false");

	/* The head receives in person at periodic receptions and must at
	 * unscheduled ones (Luật TCD Điều 18 k3); staff hold regular ones. */
	switch (r->reception_kind) {
	case DONTHU__V1__RECEPTION_KIND__RECEPTION_KIND_PERIODIC:
		TRY(need_enum(v, (int)r->head_role, "head_role"));
		break;
	case DONTHU__V1__RECEPTION_KIND__RECEPTION_KIND_REGULAR:
		if (r->head_role)
			return fail(v, "kind_mismatch", "head_role",
				    "head_role is for periodic or unscheduled receptions");
		break;
	default:
		break;
	}
	if (!empty(r->guided_to_agency))
		TRY(agency_active(v, r->guided_to_agency, "guided_to_agency", day));
	if (!empty(r->accepted_by_agency))
		TRY(agency_active(v, r->accepted_by_agency, "accepted_by_agency", day));
	if (!empty(r->location_unit))
		TRY(unit_known(v, r->location_unit, "location_unit"));
	if (!empty(r->case_number))
		TRY(case_number(v, r->case_number, "case_number"));
	return 0;
}

static int schedule(struct vs *v, const Donthu__V1__ReceptionSchedule *s)
{
	char first[11];
	cm_day_t start, end, days[INTAKE_MAX_PLANNED_DATES];
	int y, m, d;

	TRY(need(v, s->agency, "agency"));
	TRY(agency_known(v, s->agency, "agency", NULL));
	TRY(need_enum(v, (int)s->head_role, "head_role"));
	TRY(need(v, s->month, "month"));
	if (strlen(s->month) != 7)
		return fail(v, "invalid_date", "month", "\"%s\" is not a month YYYY-MM", s->month);
	snprintf(first, sizeof(first), "%s-01", s->month);
	if (cm_day_parse(first, &start) != 0)
		return fail(v, "invalid_date", "month", "\"%s\" is not a month YYYY-MM", s->month);
	cm_day_to_ymd(start, &y, &m, &d);
	end = start + cm_days_in_month(y, m) - 1;
	if (cm_day_start_ms(end + 1) <= v->ctx->floor_ms)
		return fail(v, "date_too_old", "month", "month %s is before the floor", s->month);

	if (s->n_planned_dates == 0)
		return fail(v, "missing_field", "planned_dates", "at least one planned date is required");
	if (s->n_planned_dates > INTAKE_MAX_PLANNED_DATES)
		return fail(v, "too_many", "planned_dates", "%zu planned dates, at most %d",
			    s->n_planned_dates, INTAKE_MAX_PLANNED_DATES);
	for (size_t i = 0; i < s->n_planned_dates; i++) {
		size_t old = enter_elem(v, "planned_dates", i);

		if (cm_day_parse(s->planned_dates[i], &days[i]) != 0)
			return fail(v, "invalid_date", NULL, "\"%s\" is not a real date YYYY-MM-DD",
				    s->planned_dates[i]);
		if (days[i] < start || days[i] > end)
			return fail(v, "invalid_date", NULL, "%s is not in %s", s->planned_dates[i],
				    s->month);
		for (size_t j = 0; j < i; j++)
			if (days[j] == days[i])
				return fail(v, "invalid_value", NULL, "%s is planned twice",
					    s->planned_dates[i]);
		leave(v, old);
		if (!cm_agency_active(cm_register_agency(v->ctx->reg, s->agency), days[i]))
			return fail(v, "unknown_agency", "agency", "agency \"%s\" is not active on %s",
				    s->agency, s->planned_dates[i]);
	}
	return 0;
}

static int conclusion(struct vs *v, const Donthu__V1__ReceptionConclusion *c)
{
	cm_day_t day;

	TRY(need(v, c->agency, "agency"));
	TRY(instant(v, c->concluded_at_ms, "concluded_at_ms"));
	day = cm_day_of_ms(c->concluded_at_ms);
	TRY(agency_active(v, c->agency, "agency", day));
	TRY(need(v, c->reception_id, "reception_id"));
	TRY(need(v, c->conclusion, "conclusion"));
	if (!empty(c->case_number))
		TRY(case_number(v, c->case_number, "case_number"));
	if (c->n_tasks > INTAKE_MAX_TASKS)
		return fail(v, "too_many", "tasks", "%zu tasks, at most %d", c->n_tasks,
			    INTAKE_MAX_TASKS);
	for (size_t i = 0; i < c->n_tasks; i++) {
		const Donthu__V1__ConclusionTask *t = c->tasks[i];
		size_t old = enter_elem(v, "tasks", i);
		cm_day_t due;

		TRY(need(v, t->assigned_agency, "assigned_agency"));
		TRY(agency_active(v, t->assigned_agency, "assigned_agency", day));
		TRY(need(v, t->task, "task"));
		TRY(need(v, t->due_date, "due_date"));
		TRY(date_str(v, t->due_date, "due_date", &due));
		if (due < day)
			return fail(v, "invalid_date", "due_date",
				    "due_date %s is before the conclusion", t->due_date);
		leave(v, old);
	}
	return 0;
}

/* ---- the request -------------------------------------------------------- */

static int idempotency_key(struct vs *v, const Donthu__V1__IdempotencyKey *k)
{
	if (!k)
		return fail(v, "missing_key", "key", "the idempotency key is required");
	if (empty(k->source_system))
		return fail(v, "missing_key", "key.source_system", "key.source_system is required");
	if (empty(k->source_id))
		return fail(v, "missing_key", "key.source_id", "key.source_id is required");
	return 0;
}

static int key_charset(struct vs *v, const Donthu__V1__IdempotencyKey *k)
{
	for (const char *p = k->source_system; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return fail(v, "invalid_value", "key.source_system",
				    "source_system may hold only A-Z a-z 0-9 . _ : -");
	}
	return 0;
}

void intake_vctx_init(struct intake_vctx *ctx, const struct cm_register *reg, int64_t now_ms)
{
	ctx->reg = reg;
	ctx->now_ms = now_ms;
	ctx->skew_ms = INTAKE_SKEW_MS_DEFAULT;
	ctx->floor_ms = INTAKE_FLOOR_MS_DEFAULT;
	ctx->arena = NULL;
}

int intake_validate_submit(Donthu__V1__SubmitRequest *req, const struct intake_vctx *ctx,
			   struct intake_verr *err)
{
	struct vs v = { .ctx = ctx, .err = err };
	size_t old = 0;

	memset(err, 0, sizeof(*err));
	cm_require(ctx->reg != NULL);
	TRY(idempotency_key(&v, req->key));
	TRY(walk(&v, &req->base));
	TRY(key_charset(&v, req->key));

	switch (req->item_case) {
	case DONTHU__V1__SUBMIT_REQUEST__ITEM_PETITION:
		old = enter_field(&v, "petition");
		TRY(petition(&v, req->petition));
		break;
	case DONTHU__V1__SUBMIT_REQUEST__ITEM_ACTION:
		old = enter_field(&v, "action");
		TRY(case_action(&v, req->action));
		break;
	case DONTHU__V1__SUBMIT_REQUEST__ITEM_RECEPTION:
		old = enter_field(&v, "reception");
		TRY(reception(&v, req->reception));
		break;
	case DONTHU__V1__SUBMIT_REQUEST__ITEM_SCHEDULE:
		old = enter_field(&v, "schedule");
		TRY(schedule(&v, req->schedule));
		break;
	case DONTHU__V1__SUBMIT_REQUEST__ITEM_CONCLUSION:
		old = enter_field(&v, "conclusion");
		TRY(conclusion(&v, req->conclusion));
		break;
	default:
		return fail(&v, "missing_field", "item",
			    "one item (petition, action, reception, schedule, conclusion) is required");
	}
	leave(&v, old);
	return 0;
}

/* ---- wire bytes ---------------------------------------------------------- */

/* Reads a varint; false when it runs off the end or past 64 bits. */
static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

#define WIRE_MAX_DEPTH 32
#define WIRE_MAX_FIELDS 64

/*
 * Malformed bytes end the scan without an error: the unpack that follows
 * refuses them with a better reason. Only what protobuf-c would accept and
 * silently cut short is reported here.
 */
static int wire_scan(struct vs *v, const ProtobufCMessageDescriptor *d, const uint8_t *p,
		     const uint8_t *end, unsigned depth, bool transparent_submit)
{
	unsigned seen[WIRE_MAX_FIELDS] = { 0 };

	if (depth > WIRE_MAX_DEPTH)
		return 0;
	while (p < end) {
		const ProtobufCFieldDescriptor *f;
		uint64_t tag, n;
		size_t old, fi;
		int rc;

		if (!read_varint(&p, end, &tag))
			return 0;
		switch (tag & 7) {
		case 0:
			if (!read_varint(&p, end, &n))
				return 0;
			continue;
		case 1:
			if (end - p < 8)
				return 0;
			p += 8;
			continue;
		case 5:
			if (end - p < 4)
				return 0;
			p += 4;
			continue;
		case 2:
			break;
		default:
			return 0;
		}
		if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p))
			return 0;
		f = tag >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3))
					   : NULL;
		if (!f || (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)) {
			p += n;
			continue;
		}
		fi = (size_t)(f - d->fields);
		/* The submit body's paths read as intake_validate_submit's. */
		if (transparent_submit && f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    f->descriptor == &donthu__v1__submit_request__descriptor)
			old = v->len;
		else
			old = enter_field(v, f->name);
		if (f->label == PROTOBUF_C_LABEL_REPEATED && fi < WIRE_MAX_FIELDS)
			enter_index(v, seen[fi]++);
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			const uint8_t *nul = memchr(p, 0, (size_t)n);

			if (nul)
				return fail(v, "control_character", NULL, "NUL at byte %zu",
					    (size_t)(nul - p));
		} else {
			rc = wire_scan(v, f->descriptor, p, p + n, depth + 1, false);
			if (rc)
				return rc;
		}
		leave(v, old);
		p += n;
	}
	return 0;
}

int intake_validate_wire(const void *buf, size_t len, struct intake_verr *err)
{
	struct vs v = { .err = err };
	const uint8_t *p = buf;

	memset(err, 0, sizeof(*err));
	return wire_scan(&v, &donthu__v1__envelope__descriptor, p, p + len, 0, true);
}

/* ---- lifecycle ---------------------------------------------------------- */

const char *intake_status_name(Donthu__V1__CaseStatus s)
{
	static const char *const names[] = {
		"unspecified", "received", "accepted", "suspended", "decided",
		"withdrawn",   "terminated", "closed", "refused",  "guided",
		"forwarded",   "returned", "filed",
	};

	if ((unsigned)s >= CM_ARRAY_LEN(names))
		return "unknown";
	return names[s];
}

const char *intake_action_name(Donthu__V1__CaseAction__ActionCase c)
{
	static const char *const names[] = {
		"accept",    "refuse",	 "guide",	"forward",  "give_back", "file_away",
		"extend",    "suspend",	 "resume",	"withdraw", "terminate", "decide",
		"enforcement", "recomplaint", "reassign", "urge",   "close",
	};
	unsigned i = (unsigned)c - DONTHU__V1__CASE_ACTION__ACTION_ACCEPT;

	if ((unsigned)c < DONTHU__V1__CASE_ACTION__ACTION_ACCEPT || i >= CM_ARRAY_LEN(names))
		return "none";
	return names[i];
}

#define ST(x) DONTHU__V1__CASE_STATUS__CASE_STATUS_##x
#define AC(x) DONTHU__V1__CASE_ACTION__ACTION_##x

/* The next status, or ST(UNSPECIFIED) when the action is not allowed. */
static Donthu__V1__CaseStatus next_status(Donthu__V1__CaseStatus cur, const Donthu__V1__CaseAction *a)
{
	bool whole = a->action_case == AC(WITHDRAW) && !a->withdraw->partial;

	switch (cur) {
	case ST(RECEIVED):
		switch (a->action_case) {
		case AC(ACCEPT):
			return ST(ACCEPTED);
		case AC(REFUSE):
			return ST(REFUSED);
		case AC(GUIDE):
			return ST(GUIDED);
		case AC(FORWARD):
			return ST(FORWARDED);
		case AC(GIVE_BACK):
			return ST(RETURNED);
		case AC(FILE_AWAY):
			return ST(FILED);
		case AC(WITHDRAW):
			return whole ? ST(WITHDRAWN) : cur;
		case AC(REASSIGN):
		case AC(URGE):
			return cur;
		default:
			return ST(UNSPECIFIED);
		}
	case ST(ACCEPTED):
		switch (a->action_case) {
		case AC(EXTEND):
		case AC(REASSIGN):
		case AC(URGE):
			return cur;
		case AC(SUSPEND):
			return ST(SUSPENDED);
		case AC(TERMINATE):
			return ST(TERMINATED);
		case AC(DECIDE):
			return ST(DECIDED);
		case AC(WITHDRAW):
			return whole ? ST(WITHDRAWN) : cur;
		default:
			return ST(UNSPECIFIED);
		}
	case ST(SUSPENDED):
		switch (a->action_case) {
		case AC(RESUME):
			return ST(ACCEPTED);
		case AC(TERMINATE):
			return ST(TERMINATED);
		case AC(WITHDRAW):
			return whole ? ST(WITHDRAWN) : cur;
		case AC(REASSIGN):
		case AC(URGE):
			return cur;
		default:
			return ST(UNSPECIFIED);
		}
	case ST(DECIDED):
		switch (a->action_case) {
		case AC(ENFORCEMENT):
		case AC(RECOMPLAINT):
			return cur;
		case AC(CLOSE):
			return ST(CLOSED);
		default:
			return ST(UNSPECIFIED);
		}
	default:
		/* Closed, refused, guided, forwarded, returned, filed,
		 * withdrawn and terminated cases are finished here. */
		return ST(UNSPECIFIED);
	}
}

int intake_transition(Donthu__V1__CaseStatus cur, const Donthu__V1__CaseAction *a,
		      Donthu__V1__CaseStatus *next, struct intake_verr *err)
{
	Donthu__V1__CaseStatus n;
	const char *name = intake_action_name(a->action_case);

	memset(err, 0, sizeof(*err));
	if (a->action_case == DONTHU__V1__CASE_ACTION__ACTION__NOT_SET) {
		err->code = "missing_field";
		snprintf(err->field, sizeof(err->field), "action.action");
		snprintf(err->message, sizeof(err->message), "no action is set");
		return CM_EINVALID;
	}
	n = next_status(cur, a);
	if (n == ST(UNSPECIFIED)) {
		err->code = "invalid_transition";
		snprintf(err->field, sizeof(err->field), "action.%s", name);
		if (a->action_case == AC(WITHDRAW))
			name = a->withdraw->partial ? "withdraw (partial)" : "withdraw (whole)";
		snprintf(err->message, sizeof(err->message), "cannot %s a case that is %s", name,
			 intake_status_name(cur));
		return CM_ESTATE;
	}
	*next = n;
	return 0;
}

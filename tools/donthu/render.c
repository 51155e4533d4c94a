/*
 * render.c - text output of the donthu tool: display widths, tables, event
 * lines, JSON lines.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#include "cli.h"
#include "common/clock.h"
#include "common/mem.h"
#include "common/pbjson.h"

/* ------------------------------------------------------------ widths --- */

size_t cli_width(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t w = 0;

	while (*p) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);

		if (n <= 0) {
			/* Invalid byte: the terminal shows one replacement glyph. */
			w++;
			p++;
			continue;
		}
		{
			int cw = utf8proc_charwidth(cp);

			w += cw > 0 ? (size_t)cw : 0;
		}
		p += n;
	}
	return w;
}

void cli_pad(FILE *out, const char *s, size_t width, bool right)
{
	size_t w = cli_width(s);

	if (right)
		for (size_t i = w; i < width; i++)
			fputc(' ', out);
	fputs(s, out);
	if (!right)
		for (size_t i = w; i < width; i++)
			fputc(' ', out);
}

char *cli_ellipsize(const char *s, size_t max)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t w = 0;

	if (cli_width(s) <= max)
		return cm_xstrdup(s);
	while (*p) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);
		int cw;

		if (n <= 0)
			n = 1, cw = 1;
		else
			cw = utf8proc_charwidth(cp);
		if (w + (size_t)(cw > 0 ? cw : 0) + 1 > max)
			break;
		w += (size_t)(cw > 0 ? cw : 0);
		p += n;
	}
	return cm_xasprintf("%.*s…", (int)((const char *)p - s), s);
}

/* ------------------------------------------------------------- tables --- */

void cli_table_init(struct cli_table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	cm_require(ncols > 0 && ncols <= CM_ARRAY_LEN(t->right));
	t->ncols = ncols;
	t->sep = "  ";
}

void cli_table_row(struct cli_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = cm_xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
	}
	for (size_t i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = cm_xstrdup(cells[i] ? cells[i] : "");
	t->nrows++;
}

void cli_table_rowv(struct cli_table *t, ...)
{
	const char *cells[CM_ARRAY_LEN(t->right)];
	va_list ap;

	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++)
		cells[i] = va_arg(ap, const char *);
	va_end(ap);
	cli_table_row(t, cells);
}

void cli_table_print(const struct cli_table *t, FILE *out)
{
	size_t *w = cm_xcalloc(t->ncols, sizeof(size_t));

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			size_t cw = cli_width(t->cells[r * t->ncols + i]);

			if (cw > w[i])
				w[i] = cw;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];
			bool last = i + 1 == t->ncols;

			if (i)
				fputs(t->sep, out);
			/* No trailing blanks: the last column is not padded. */
			if (last && !t->right[i])
				fputs(s, out);
			else
				cli_pad(out, s, w[i], t->right[i]);
		}
		fputc('\n', out);
	}
	free(w);
}

void cli_table_free(struct cli_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* --------------------------------------------------------------- time --- */

void cli_time_short(int64_t ms, char buf[24])
{
	char full[30];

	/* "2026-07-01T08:30:00.250+07:00" -> "2026-07-01 08:30:00": the zone
	 * is always Vietnam's, and milliseconds are noise to a reader. */
	cm_time_format(ms, full);
	memcpy(buf, full, 19);
	buf[10] = ' ';
	buf[19] = '\0';
}

/* ------------------------------------------------------------- values --- */

const char *cli_enum_short(const ProtobufCEnumDescriptor *d, int value, char buf[64])
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
	char prefix[64];
	size_t n = 0;

	if (!v) {
		snprintf(buf, 64, "%d", value);
		return buf;
	}
	/* The prefix is the type name in UPPER_SNAKE_CASE: IdKind -> ID_KIND_. */
	for (const char *p = d->short_name; *p && n + 3 < sizeof(prefix); p++) {
		if (p != d->short_name && *p >= 'A' && *p <= 'Z' &&
		    ((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= '0' && p[-1] <= '9')))
			prefix[n++] = '_';
		prefix[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	}
	prefix[n++] = '_';
	prefix[n] = '\0';
	if (strncmp(v->name, prefix, n) == 0 && v->name[n])
		return v->name + n;
	return v->name;
}

int cli_enum_parse(const ProtobufCEnumDescriptor *d, const char *text)
{
	char *end = NULL, buf[64];
	long n;

	if (!text || !*text)
		return -1;
	n = strtol(text, &end, 10);
	if (*end == '\0')
		return protobuf_c_enum_descriptor_get_value(d, (int)n) && n != 0 ? (int)n : -1;
	for (unsigned i = 0; i < d->n_values; i++) {
		const ProtobufCEnumValue *v = &d->values[i];
		const char *s = cli_enum_short(d, v->value, buf);

		if (v->value != 0 && (strcasecmp(text, v->name) == 0 || strcasecmp(text, s) == 0))
			return v->value;
	}
	return -1;
}

char *cli_enum_list(const ProtobufCEnumDescriptor *d)
{
	char *out = cm_xstrdup(""), buf[64];

	for (unsigned i = 0; i < d->n_values; i++) {
		char *next;

		if (d->values[i].value == 0)
			continue;
		next = cm_xasprintf("%s%s%s", out, *out ? ", " : "",
				    cli_enum_short(d, d->values[i].value, buf));
		free(out);
		out = next;
	}
	return out;
}

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->s = cm_xrealloc(b->s, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static bool skipped(const char *name, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (strcmp(*skip, name) == 0)
			return true;
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Whether a field holds something other than its default. */
static bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;
	const void *p = base + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return s && *s;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(void *const *)p != NULL;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len > 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)p != 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)p != 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)p != 0;
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)p != 0;
	default:
		return *(const uint32_t *)p != 0;
	}
}

static void scalar(struct sbuf *b, const ProtobufCFieldDescriptor *f, const void *p)
{
	char ebuf[64], tbuf[24];

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		sb_printf(b, "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		sb_printf(b, "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (ends_with(f->name, "_at_ms")) {
			cli_time_short(*(const int64_t *)p, tbuf);
			sb_printf(b, "\"%s\"", tbuf);
		} else {
			sb_printf(b, "%" PRId64, *(const int64_t *)p);
		}
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		sb_printf(b, "%" PRIu64, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		sb_printf(b, "%g", (double)*(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		sb_printf(b, "%g", *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		sb_printf(b, "%s", *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM:
		sb_printf(b, "%s", cli_enum_short(f->descriptor, *(const int *)p, ebuf));
		break;
	case PROTOBUF_C_TYPE_STRING: {
		char *cut = cli_ellipsize(*(char *const *)p, 60);

		sb_printf(b, strpbrk(cut, " \t\"") ? "\"%s\"" : "%s", cut);
		free(cut);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES:
		sb_printf(b, "<%zu bytes>", ((const ProtobufCBinaryData *)p)->len);
		break;
	default:
		sb_printf(b, "?");
	}
}

static void facts(struct sbuf *b, const ProtobufCMessage *m, const char *prefix,
		  const char *const *skip, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *p = (const char *)m + f->offset;

		if (skipped(f->name, skip) || !present(m, f))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);

			if (f->type == PROTOBUF_C_TYPE_STRING) {
				char *const *v = *(char *const *const *)p;

				sb_printf(b, "%s%s%s=", b->len ? " " : "", prefix, f->name);
				for (size_t k = 0; k < n; k++)
					sb_printf(b, "%s%s", k ? "," : "", v[k]);
			} else {
				sb_printf(b, "%s%s%s=[%zu]", b->len ? " " : "", prefix, f->name, n);
			}
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)p;
			size_t before = b->len;
			char *np;

			if (depth >= 2) {
				sb_printf(b, "%s%s%s={…}", b->len ? " " : "", prefix, f->name);
				continue;
			}
			np = cm_xasprintf("%s%s.", prefix, f->name);
			facts(b, sub, np, skip, depth + 1);
			free(np);
			/* A member set to an empty message still says something
			 * (an "accept" action has no fields). */
			if (b->len == before)
				sb_printf(b, "%s%s%s", b->len ? " " : "", prefix, f->name);
			continue;
		}
		sb_printf(b, "%s%s%s=", b->len ? " " : "", prefix, f->name);
		scalar(b, f, p);
	}
}

char *cli_facts(const ProtobufCMessage *m, const char *const *skip)
{
	struct sbuf b = {.s = cm_xstrdup(""), .cap = 1};

	facts(&b, m, "", skip, 0);
	return b.s;
}

void cli_print_json_value(FILE *out, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (s) {
		fputs(s, out);
		fputc('\n', out);
		free(s);
	}
	json_decref(v);
}

void cli_print_json(FILE *out, const ProtobufCMessage *m)
{
	cli_print_json_value(out, cm_pbjson_render(m, 0));
}

/* ------------------------------------------------------------- events --- */

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

const char *cli_event_topic(const cm_env *ev, char *buf, size_t size)
{
	char name[64];

	if (ev->body_case == DONTHU__V1__ENVELOPE__BODY_ESCALATION && ev->escalation) {
		const Donthu__V1__Escalation *e = ev->escalation;
		const char *agency = *e->agency ? e->agency : "-";

		/* As the deadline service publishes them (deadline_topic): a
		 * delegation (đoàn đông người) goes out as a flag. */
		if (e->reason == DONTHU__V1__ESCALATION_REASON__ESCALATION_REASON_DELEGATION) {
			snprintf(buf, size, "flag.delegation.%s", agency);
			return buf;
		}
		snprintf(name, sizeof(name), "%s",
			 cli_enum_short(&donthu__v1__escalation_level__descriptor, (int)e->level,
					name));
		lower(name);
		snprintf(buf, size, "esc.%s.%s", name, agency);
		return buf;
	}
	if (ev->body_case == DONTHU__V1__ENVELOPE__BODY_FLAGGED && ev->flagged) {
		snprintf(name, sizeof(name), "%s",
			 cli_enum_short(&donthu__v1__flag_kind__descriptor, (int)ev->flagged->kind,
					name));
		lower(name);
		snprintf(buf, size, "flag.%s.%s", name, ev->flagged->agency);
		return buf;
	}
	return NULL;
}

static const char *const common_skip[] = {"case_number", "key", "registered_at_ms", "explain",
					  "legal_basis", "petitioners", "citizens", NULL};

static char *petition_facts(const Donthu__V1__PetitionReceived *pr)
{
	static const char *const skip[] = {"received_at_ms", "text", "attachments", "respondent",
					   "prior_decision", "petitioners", "also_sent_to", NULL};
	char *body = pr->petition ? cli_facts(&pr->petition->base, skip) : cm_xstrdup("");
	char *s = cm_xasprintf("%s persons=%zu", body, pr->n_petitioners);

	free(body);
	return s;
}

static char *action_facts(const Donthu__V1__CaseActionRecorded *a)
{
	static const char *const skip[] = {"case_number", NULL};
	const Donthu__V1__CaseAction *ca = a->action;
	char b1[64], b2[64];
	const char *what = "action";
	char *rest, *s;

	if (ca) {
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
			&donthu__v1__case_action__descriptor, (unsigned)ca->action_case);

		if (f)
			what = f->name;
	}
	rest = ca ? cli_facts(&ca->base, skip) : cm_xstrdup("");
	s = cm_xasprintf("%s %s→%s %s", what,
			 cli_enum_short(&donthu__v1__case_status__descriptor, (int)a->status_before, b1),
			 cli_enum_short(&donthu__v1__case_status__descriptor, (int)a->status_after, b2),
			 rest);
	free(rest);
	return s;
}

char *cli_event_line(const cm_env *ev)
{
	char when[24], *facts_s = NULL, *line;
	const ProtobufCMessage *body = NULL;
	const ProtobufCFieldDescriptor *f;

	cli_time_short(ev->occurred_at_ms, when);
	f = protobuf_c_message_descriptor_get_field(&donthu__v1__envelope__descriptor,
						    (unsigned)ev->body_case);
	if (f && f->type == PROTOBUF_C_TYPE_MESSAGE)
		body = *(const ProtobufCMessage *const *)((const char *)ev + f->offset);
	if (ev->body_case == DONTHU__V1__ENVELOPE__BODY_PETITION_RECEIVED && ev->petition_received)
		facts_s = petition_facts(ev->petition_received);
	else if (ev->body_case == DONTHU__V1__ENVELOPE__BODY_CASE_ACTION && ev->case_action)
		facts_s = action_facts(ev->case_action);
	else if (body)
		facts_s = cli_facts(body, common_skip);
	else
		facts_s = cm_xstrdup("");
	line = cm_xasprintf("%s  %-8s %6" PRIu64 "  %-19s %s", when, ev->producer, ev->sequence,
			    cm_env_body_name(ev), facts_s);
	free(facts_s);
	return line;
}

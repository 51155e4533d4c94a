#include "common/register.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

#include "csv_impl.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE SIZE_MAX
/* Codes are identifiers typed by people and carried in every event; a cap
 * keeps them readable and keeps messages short. */
#define CODE_MAX 64
/* No real cell lists more than a few dozen codes; the cap bounds the
 * duplicate check, which is quadratic. */
#define LIST_MAX 1024

struct map_slot {
	const char *key;
	size_t idx;
};

/* Open addressing over codes; built once at load, read-only afterwards. */
struct map {
	struct map_slot *slot;
	size_t mask;
};

struct field_rec {
	const char *code;
	size_t *depts;		/* departments managing it, in file order */
	size_t ndepts;
};

struct unit_rec {
	struct cm_unit pub;	/* first: pointers handed out are to it */
	unsigned line;
	size_t successor;
	size_t *communes;	/* commune-level agencies covering it */
	size_t ncommunes;
};

struct agency_rec {
	struct cm_agency pub;	/* first: pointers handed out are to it */
	unsigned line;
	size_t parent;
	size_t successor;
};

struct cm_register {
	struct cm_csv fcsv, ucsv, acsv;	/* own every string below */
	struct field_rec *fields;
	size_t nfields;
	struct unit_rec *units;
	size_t nunits;
	struct agency_rec *agencies;
	size_t nagencies;
	struct map fmap, umap, amap;
	char version[7 + 2 * crypto_hash_sha256_BYTES + 1];
};

enum { F_CODE, F_NAME, F_DESC, F_NCOLS };
static const char *const field_cols[] = {"code", "name_vi", "description"};

enum { U_CODE, U_NAME, U_TYPE, U_PROVINCE, U_FROM, U_TO, U_SUCC, U_FORMED, U_NOTE, U_NCOLS };
static const char *const unit_cols[] = {"code",		  "name",	   "type",
					"province_code",  "effective_from", "effective_to",
					"successor_code", "formed_from",    "source_note"};

enum { A_CODE, A_NAME, A_LEVEL, A_PARENT, A_FIELDS, A_UNITS, A_FROM, A_TO, A_SUCC, A_NOTE,
       A_NCOLS };
static const char *const agency_cols[] = {"code",	    "name",	      "level",
					  "parent_code",    "fields",	      "units",
					  "effective_from", "effective_to", "successor_code",
					  "source_note"};

static const char *const level_names[] = {
	[CM_LEVEL_CENTRAL] = "central",
	[CM_LEVEL_PROVINCE] = "province",
	[CM_LEVEL_COMMUNE] = "commune",
	[CM_LEVEL_DEPARTMENT] = "department",
	[CM_LEVEL_INSPECTORATE] = "inspectorate",
	[CM_LEVEL_OFFICE] = "office",
	[CM_LEVEL_RECEPTION_BOARD] = "reception_board",
	[CM_LEVEL_PUBLIC_SERVICE_UNIT] = "public_service_unit",
	[CM_LEVEL_POLICE] = "police",
	[CM_LEVEL_DISTRICT] = "district",
};

/* Where a message goes, and which file and row it is about. */
struct ctx {
	char *err;
	size_t errlen;
	const struct cm_csv *csv;
	unsigned line;
};

static int row_err(const struct ctx *c, const char *col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int row_err(const struct ctx *c, const char *col, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (!c->err || c->errlen == 0)
		return CM_ECONFIG;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%u: column %s: %s", c->csv->name, c->line, col, why);
	return CM_ECONFIG;
}

/* A cell quoted into a message: cut at a character boundary, control bytes
 * shown as '?', so the message stays valid UTF-8 on one line. */
static const char *show(const char *s, char buf[48])
{
	size_t n = strlen(s);

	if (n > 40) {
		n = 40;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	strcpy(buf + n, strlen(s) > n ? "..." : "");
	return buf;
}

/* ---- map ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void map_init(struct map *m, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	m->slot = cm_xcalloc(cap, sizeof(*m->slot));
	m->mask = cap - 1;
}

/* Insert key -> idx; returns NONE, or the index already stored for key. */
static size_t map_put(struct map *m, const char *key, size_t idx)
{
	size_t i = (size_t)hash_str(key) & m->mask;

	while (m->slot[i].key) {
		if (strcmp(m->slot[i].key, key) == 0)
			return m->slot[i].idx;
		i = (i + 1) & m->mask;
	}
	m->slot[i] = (struct map_slot){.key = key, .idx = idx};
	return NONE;
}

static size_t map_get(const struct map *m, const char *key)
{
	size_t i;

	if (!m->slot || !key)
		return NONE;
	i = (size_t)hash_str(key) & m->mask;
	while (m->slot[i].key) {
		if (strcmp(m->slot[i].key, key) == 0)
			return m->slot[i].idx;
		i = (i + 1) & m->mask;
	}
	return NONE;
}

/* ---- cell checks ---- */

static bool is_code_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '.';
}

/* Codes are ASCII so they compare byte for byte wherever they travel. */
static int check_code(const struct ctx *c, const char *col, const char *s)
{
	char b[48];
	size_t n = strlen(s);

	if (n == 0)
		return row_err(c, col, "empty code");
	if (n > CODE_MAX)
		return row_err(c, col, "code longer than %d characters", CODE_MAX);
	for (size_t i = 0; i < n; i++)
		if (!is_code_char(s[i]))
			return row_err(c, col, "\"%s\" is not a code (ASCII letters, digits, - _ .)",
				       show(s, b));
	return 0;
}

static int check_opt_code(const struct ctx *c, const char *col, const char *s)
{
	return s[0] ? check_code(c, col, s) : 0;
}

static int check_text(const struct ctx *c, const char *col, const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return row_err(c, col, "empty");
	if (s[0] == ' ' || s[n - 1] == ' ')
		return row_err(c, col, "leading or trailing space");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return row_err(c, col, "control character");
	return 0;
}

static int check_type(const struct ctx *c, const char *col, const char *s)
{
	char b[48];

	if (!s[0])
		return row_err(c, col, "empty");
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return row_err(c, col, "\"%s\" is not a type (a-z, 0-9, _)", show(s, b));
	return 0;
}

static int parse_day(const struct ctx *c, const char *col, const char *s, cm_day_t empty,
		     cm_day_t *out)
{
	char b[48];

	if (!s[0]) {
		*out = empty;
		return 0;
	}
	if (cm_day_parse(s, out) != 0)
		return row_err(c, col, "\"%s\" is not a date (YYYY-MM-DD)", show(s, b));
	return 0;
}

static int parse_dates(const struct ctx *c, const char *from, const char *to, cm_day_t *pf,
		       cm_day_t *pt)
{
	char a[11], b[11];
	int rc;

	rc = parse_day(c, "effective_from", from, INT32_MIN, pf);
	if (rc)
		return rc;
	rc = parse_day(c, "effective_to", to, INT32_MAX, pt);
	if (rc)
		return rc;
	if (*pt < *pf) {
		cm_day_format(*pt, a);
		cm_day_format(*pf, b);
		return row_err(c, "effective_to", "%s is before effective_from %s", a, b);
	}
	return 0;
}

/* Split a ';'-separated cell in place into codes; an empty cell is an
 * empty list. *out is NULL when there are none. */
static int split_list(const struct ctx *c, const char *col, char *cell, const char ***out,
		      size_t *n)
{
	const char **v = NULL;
	size_t k = 0, cap = 0;
	char *p = cell, b[48];
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!cell[0])
		return 0;
	for (;;) {
		char *semi = strchr(p, ';');

		if (semi)
			*semi = '\0';
		rc = check_code(c, col, p);
		if (rc)
			goto fail;
		if (k == LIST_MAX) {
			rc = row_err(c, col, "more than %d codes", LIST_MAX);
			goto fail;
		}
		for (size_t i = 0; i < k; i++) {
			if (strcmp(v[i], p) == 0) {
				rc = row_err(c, col, "\"%s\" listed twice", show(p, b));
				goto fail;
			}
		}
		if (k == cap) {
			cap = cap ? 2 * cap : 4;
			v = cm_xrealloc(v, cap * sizeof(*v));
		}
		v[k++] = p;
		if (!semi)
			break;
		p = semi + 1;
	}
	*out = v;
	*n = k;
	return 0;
fail:
	free(v);
	return rc;
}

static int parse_level(const struct ctx *c, const char *s, enum cm_agency_level *out)
{
	char b[48];

	for (size_t i = 1; i < CM_ARRAY_LEN(level_names); i++) {
		if (level_names[i] && strcmp(s, level_names[i]) == 0) {
			*out = (enum cm_agency_level)i;
			return 0;
		}
	}
	return row_err(c, "level", "unknown level \"%s\"", show(s, b));
}

/* ---- loading ---- */

static int load_fields(struct cm_register *r, struct ctx *c)
{
	char b[48];
	int rc;

	c->csv = &r->fcsv;
	r->nfields = r->fcsv.nrows;
	r->fields = cm_xcalloc(r->nfields ? r->nfields : 1, sizeof(*r->fields));
	map_init(&r->fmap, r->nfields);
	for (size_t i = 0; i < r->nfields; i++) {
		char **cell = r->fcsv.rows[i].cells;
		size_t dup;

		c->line = r->fcsv.rows[i].line;
		rc = check_code(c, "code", cell[F_CODE]);
		if (!rc)
			rc = check_text(c, "name_vi", cell[F_NAME]);
		if (rc)
			return rc;
		r->fields[i].code = cell[F_CODE];
		dup = map_put(&r->fmap, cell[F_CODE], i);
		if (dup != NONE)
			return row_err(c, "code", "duplicate code \"%s\" (first on line %u)",
				       show(cell[F_CODE], b), r->fcsv.rows[dup].line);
	}
	return 0;
}

static int load_units(struct cm_register *r, struct ctx *c)
{
	char b[48];
	int rc;

	c->csv = &r->ucsv;
	r->nunits = r->ucsv.nrows;
	r->units = cm_xcalloc(r->nunits ? r->nunits : 1, sizeof(*r->units));
	map_init(&r->umap, r->nunits);
	for (size_t i = 0; i < r->nunits; i++) {
		struct unit_rec *u = &r->units[i];
		char **cell = r->ucsv.rows[i].cells;
		const char **formed;
		size_t dup;

		c->line = u->line = r->ucsv.rows[i].line;
		u->successor = NONE;
		rc = check_code(c, "code", cell[U_CODE]);
		if (!rc)
			rc = check_text(c, "name", cell[U_NAME]);
		if (!rc)
			rc = check_type(c, "type", cell[U_TYPE]);
		if (!rc)
			rc = check_code(c, "province_code", cell[U_PROVINCE]);
		if (!rc)
			rc = parse_dates(c, cell[U_FROM], cell[U_TO], &u->pub.effective_from,
					 &u->pub.effective_to);
		if (!rc)
			rc = check_opt_code(c, "successor_code", cell[U_SUCC]);
		if (!rc)
			rc = split_list(c, "formed_from", cell[U_FORMED], &formed,
					&u->pub.nformed_from);
		if (rc)
			return rc;
		u->pub.code = cell[U_CODE];
		u->pub.name = cell[U_NAME];
		u->pub.type = cell[U_TYPE];
		u->pub.province_code = cell[U_PROVINCE];
		u->pub.successor_code = cell[U_SUCC][0] ? cell[U_SUCC] : NULL;
		u->pub.formed_from = formed;
		dup = map_put(&r->umap, u->pub.code, i);
		if (dup != NONE)
			return row_err(c, "code", "duplicate code \"%s\" (first on line %u)",
				       show(u->pub.code, b), r->units[dup].line);
	}
	return 0;
}

static int load_agencies(struct cm_register *r, struct ctx *c)
{
	char b[48];
	int rc;

	c->csv = &r->acsv;
	r->nagencies = r->acsv.nrows;
	r->agencies = cm_xcalloc(r->nagencies ? r->nagencies : 1, sizeof(*r->agencies));
	map_init(&r->amap, r->nagencies);
	for (size_t i = 0; i < r->nagencies; i++) {
		struct agency_rec *a = &r->agencies[i];
		char **cell = r->acsv.rows[i].cells;
		const char **fields, **units;
		size_t dup;

		c->line = a->line = r->acsv.rows[i].line;
		a->parent = a->successor = NONE;
		rc = check_code(c, "code", cell[A_CODE]);
		if (!rc)
			rc = check_text(c, "name", cell[A_NAME]);
		if (!rc)
			rc = parse_level(c, cell[A_LEVEL], &a->pub.level);
		if (!rc)
			rc = check_opt_code(c, "parent_code", cell[A_PARENT]);
		if (!rc)
			rc = split_list(c, "fields", cell[A_FIELDS], &fields, &a->pub.nfields);
		if (rc)
			return rc;
		a->pub.fields = fields;
		rc = split_list(c, "units", cell[A_UNITS], &units, &a->pub.nunits);
		if (rc)
			return rc;
		a->pub.units = units;
		rc = parse_dates(c, cell[A_FROM], cell[A_TO], &a->pub.effective_from,
				 &a->pub.effective_to);
		if (!rc)
			rc = check_opt_code(c, "successor_code", cell[A_SUCC]);
		if (rc)
			return rc;
		a->pub.code = cell[A_CODE];
		a->pub.name = cell[A_NAME];
		a->pub.parent_code = cell[A_PARENT][0] ? cell[A_PARENT] : NULL;
		a->pub.successor_code = cell[A_SUCC][0] ? cell[A_SUCC] : NULL;
		dup = map_put(&r->amap, a->pub.code, i);
		if (dup != NONE)
			return row_err(c, "code", "duplicate code \"%s\" (first on line %u)",
				       show(a->pub.code, b), r->agencies[dup].line);
	}
	return 0;
}

/*
 * Find a cycle in the links next[] (NONE ends a chain). Each chain is walked
 * once: nodes on the current walk carry its stamp, finished nodes carry
 * SIZE_MAX - 1. Returns the node whose link closes a cycle, or NONE.
 */
static size_t find_cycle(const size_t *next, size_t n, size_t *stamp)
{
	const size_t done = SIZE_MAX - 1;

	for (size_t i = 0; i < n; i++)
		stamp[i] = NONE;
	for (size_t i = 0; i < n; i++) {
		size_t j = i, prev = NONE;

		while (j != NONE && stamp[j] == NONE) {
			stamp[j] = i;
			prev = j;
			j = next[j];
		}
		if (j != NONE && stamp[j] == i)
			return prev;
		for (j = i; j != NONE && stamp[j] == i; j = next[j])
			stamp[j] = done;
	}
	return NONE;
}

/* "A -> B -> A" for a message (from is on the cycle), cut short when long. */
static void describe_cycle(char *buf, size_t len, const size_t *next, size_t from,
			   const char *(*code)(const struct cm_register *, size_t),
			   const struct cm_register *r)
{
	size_t used = 0, j = from;

	buf[0] = '\0';
	for (size_t steps = 0; steps < 8; steps++) {
		int k = snprintf(buf + used, len - used, "%s -> ", code(r, j));

		if (k < 0 || (size_t)k >= len - used)
			return;
		used += (size_t)k;
		j = next[j];
		if (j == from) {
			snprintf(buf + used, len - used, "%s", code(r, j));
			return;
		}
	}
	snprintf(buf + used, len - used, "...");
}

static const char *unit_code_at(const struct cm_register *r, size_t i)
{
	return r->units[i].pub.code;
}

static const char *agency_code_at(const struct cm_register *r, size_t i)
{
	return r->agencies[i].pub.code;
}

/* A successor must take over the day after its predecessor ends; a gap
 * would leave petitions with nobody to resolve to. */
static int check_handover(const struct ctx *c, cm_day_t to, cm_day_t sfrom, cm_day_t sto,
			  const char *succ)
{
	char b[48], d[11];

	if (to == INT32_MAX)
		return row_err(c, "effective_to", "empty, but a successor is named");
	if (to + 1 < sfrom || to + 1 > sto) {
		cm_day_format(to + 1, d);
		return row_err(c, "successor_code", "successor \"%s\" is not active on %s",
			       show(succ, b), d);
	}
	return 0;
}

static int link_units(struct cm_register *r, struct ctx *c)
{
	size_t *next = cm_xcalloc(r->nunits + 1, sizeof(*next));
	size_t *stamp = cm_xcalloc(r->nunits + 1, sizeof(*stamp));
	char b[48], cyc[200];
	size_t bad;
	int rc = 0;

	c->csv = &r->ucsv;
	for (size_t i = 0; i < r->nunits; i++) {
		struct unit_rec *u = &r->units[i];

		c->line = u->line;
		if (u->pub.successor_code) {
			u->successor = map_get(&r->umap, u->pub.successor_code);
			if (u->successor == NONE) {
				rc = row_err(c, "successor_code", "unknown unit \"%s\"",
					     show(u->pub.successor_code, b));
				goto out;
			}
		}
		next[i] = u->successor;
		for (size_t k = 0; k < u->pub.nformed_from; k++) {
			size_t f = map_get(&r->umap, u->pub.formed_from[k]);

			if (f == NONE) {
				rc = row_err(c, "formed_from", "unknown unit \"%s\"",
					     show(u->pub.formed_from[k], b));
				goto out;
			}
			if (r->units[f].pub.effective_to >= u->pub.effective_from) {
				rc = row_err(c, "formed_from",
					     "\"%s\" does not end before this unit starts",
					     show(u->pub.formed_from[k], b));
				goto out;
			}
		}
	}
	bad = find_cycle(next, r->nunits, stamp);
	if (bad != NONE) {
		c->line = r->units[bad].line;
		describe_cycle(cyc, sizeof(cyc), next, bad, unit_code_at, r);
		rc = row_err(c, "successor_code", "successor cycle %s", cyc);
		goto out;
	}
	for (size_t i = 0; i < r->nunits; i++) {
		const struct unit_rec *u = &r->units[i], *s;

		if (u->successor == NONE)
			continue;
		s = &r->units[u->successor];
		c->line = u->line;
		rc = check_handover(c, u->pub.effective_to, s->pub.effective_from,
				    s->pub.effective_to, s->pub.code);
		if (rc)
			goto out;
	}
out:
	free(next);
	free(stamp);
	return rc;
}

static int link_agencies(struct cm_register *r, struct ctx *c)
{
	size_t *next = cm_xcalloc(r->nagencies + 1, sizeof(*next));
	size_t *up = cm_xcalloc(r->nagencies + 1, sizeof(*up));
	size_t *stamp = cm_xcalloc(r->nagencies + 1, sizeof(*stamp));
	char b[48], cyc[200];
	size_t bad;
	int rc = 0;

	c->csv = &r->acsv;
	for (size_t i = 0; i < r->nagencies; i++) {
		struct agency_rec *a = &r->agencies[i];

		c->line = a->line;
		if (a->pub.parent_code) {
			a->parent = map_get(&r->amap, a->pub.parent_code);
			if (a->parent == NONE) {
				rc = row_err(c, "parent_code", "unknown agency \"%s\"",
					     show(a->pub.parent_code, b));
				goto out;
			}
		}
		if (a->pub.successor_code) {
			a->successor = map_get(&r->amap, a->pub.successor_code);
			if (a->successor == NONE) {
				rc = row_err(c, "successor_code", "unknown agency \"%s\"",
					     show(a->pub.successor_code, b));
				goto out;
			}
		}
		up[i] = a->parent;
		next[i] = a->successor;
		for (size_t k = 0; k < a->pub.nfields; k++) {
			if (map_get(&r->fmap, a->pub.fields[k]) == NONE) {
				rc = row_err(c, "fields", "unknown field \"%s\"",
					     show(a->pub.fields[k], b));
				goto out;
			}
		}
		for (size_t k = 0; k < a->pub.nunits; k++) {
			if (map_get(&r->umap, a->pub.units[k]) == NONE) {
				rc = row_err(c, "units", "unknown unit \"%s\"",
					     show(a->pub.units[k], b));
				goto out;
			}
		}
		if (a->pub.level == CM_LEVEL_COMMUNE && a->pub.nunits == 0) {
			rc = row_err(c, "units", "a commune-level agency must name its unit");
			goto out;
		}
	}
	bad = find_cycle(up, r->nagencies, stamp);
	if (bad != NONE) {
		c->line = r->agencies[bad].line;
		describe_cycle(cyc, sizeof(cyc), up, bad, agency_code_at, r);
		rc = row_err(c, "parent_code", "parent cycle %s", cyc);
		goto out;
	}
	bad = find_cycle(next, r->nagencies, stamp);
	if (bad != NONE) {
		c->line = r->agencies[bad].line;
		describe_cycle(cyc, sizeof(cyc), next, bad, agency_code_at, r);
		rc = row_err(c, "successor_code", "successor cycle %s", cyc);
		goto out;
	}
	for (size_t i = 0; i < r->nagencies; i++) {
		const struct agency_rec *a = &r->agencies[i], *s;

		if (a->successor == NONE)
			continue;
		s = &r->agencies[a->successor];
		c->line = a->line;
		rc = check_handover(c, a->pub.effective_to, s->pub.effective_from,
				    s->pub.effective_to, s->pub.code);
		if (rc)
			goto out;
	}
out:
	free(next);
	free(up);
	free(stamp);
	return rc;
}

static void push_idx(size_t **v, size_t *n, size_t idx)
{
	*v = cm_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = idx;
}

/* The two indexes routing asks most: unit -> its UBNDs, field -> departments. */
static void build_indexes(struct cm_register *r)
{
	for (size_t i = 0; i < r->nagencies; i++) {
		const struct cm_agency *a = &r->agencies[i].pub;

		if (a->level == CM_LEVEL_COMMUNE) {
			for (size_t k = 0; k < a->nunits; k++) {
				struct unit_rec *u = &r->units[map_get(&r->umap, a->units[k])];

				push_idx(&u->communes, &u->ncommunes, i);
			}
		}
		if (a->level == CM_LEVEL_DEPARTMENT) {
			for (size_t k = 0; k < a->nfields; k++) {
				struct field_rec *f = &r->fields[map_get(&r->fmap, a->fields[k])];

				push_idx(&f->depts, &f->ndepts, i);
			}
		}
	}
}

static void hash_file(crypto_hash_sha256_state *st, const char *name, const char *raw, size_t len)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "%s\n%zu\n", name, len);

	crypto_hash_sha256_update(st, (const unsigned char *)head, (unsigned long long)n);
	crypto_hash_sha256_update(st, (const unsigned char *)raw, len);
}

int cm_register_load(const char *dir, struct cm_register **out, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		const char *const *cols;
		size_t ncols;
	} files[3] = {
		{"fields.csv", field_cols, F_NCOLS},
		{"units.csv", unit_cols, U_NCOLS},
		{"agencies.csv", agency_cols, A_NCOLS},
	};
	struct cm_register *r = cm_xcalloc(1, sizeof(*r));
	struct cm_csv *csv[3] = {&r->fcsv, &r->ucsv, &r->acsv};
	struct ctx c = {.err = err, .errlen = errlen};
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	*out = NULL;
	/* SHA-256 in libsodium is plain code with no CPU dispatch or random
	 * state, so it needs no sodium_init(). */
	crypto_hash_sha256_init(&st);
	for (size_t i = 0; i < 3; i++) {
		char *path = cm_xasprintf("%s/%s", dir, files[i].name);
		char *raw = NULL;
		size_t rawlen = 0;

		rc = cm_csv_read_file(path, files[i].name, files[i].cols, files[i].ncols, csv[i],
				      &raw, &rawlen, err, errlen);
		free(path);
		if (rc)
			goto fail;
		hash_file(&st, files[i].name, raw, rawlen);
		free(raw);
	}
	crypto_hash_sha256_final(&st, digest);
	memcpy(r->version, "sha256:", 7);
	sodium_bin2hex(r->version + 7, sizeof(r->version) - 7, digest, sizeof(digest));

	rc = load_fields(r, &c);
	if (!rc)
		rc = load_units(r, &c);
	if (!rc)
		rc = load_agencies(r, &c);
	if (!rc)
		rc = link_units(r, &c);
	if (!rc)
		rc = link_agencies(r, &c);
	if (rc)
		goto fail;
	build_indexes(r);
	cm_log_info(CONFIG, "register %s: %zu agencies, %zu units, %zu fields, %s", dir,
		    r->nagencies, r->nunits, r->nfields, r->version);
	*out = r;
	return 0;
fail:
	cm_register_free(&r);
	return rc;
}

void cm_register_free(struct cm_register **pr)
{
	struct cm_register *r = pr ? *pr : NULL;

	if (!r)
		return;
	for (size_t i = 0; r->fields && i < r->nfields; i++)
		free(r->fields[i].depts);
	for (size_t i = 0; r->units && i < r->nunits; i++) {
		free((void *)r->units[i].pub.formed_from);
		free(r->units[i].communes);
	}
	for (size_t i = 0; r->agencies && i < r->nagencies; i++) {
		free((void *)r->agencies[i].pub.fields);
		free((void *)r->agencies[i].pub.units);
	}
	free(r->fields);
	free(r->units);
	free(r->agencies);
	free(r->fmap.slot);
	free(r->umap.slot);
	free(r->amap.slot);
	cm_csv_free(&r->fcsv);
	cm_csv_free(&r->ucsv);
	cm_csv_free(&r->acsv);
	free(r);
	*pr = NULL;
}

/* ---- lookups ---- */

const struct cm_agency *cm_register_agency(const struct cm_register *r, const char *code)
{
	size_t i = r ? map_get(&r->amap, code) : NONE;

	return i == NONE ? NULL : &r->agencies[i].pub;
}

const struct cm_unit *cm_register_unit(const struct cm_register *r, const char *code)
{
	size_t i = r ? map_get(&r->umap, code) : NONE;

	return i == NONE ? NULL : &r->units[i].pub;
}

bool cm_register_field_known(const struct cm_register *r, const char *code)
{
	return r && map_get(&r->fmap, code) != NONE;
}

bool cm_agency_active(const struct cm_agency *a, cm_day_t day)
{
	return a && day >= a->effective_from && day <= a->effective_to;
}

bool cm_unit_active(const struct cm_unit *u, cm_day_t day)
{
	return u && day >= u->effective_from && day <= u->effective_to;
}

/* Index of an agency handed out by this register; a pointer from elsewhere
 * (another register, a copy) is found again by its code. */
static size_t agency_index(const struct cm_register *r, const struct cm_agency *a)
{
	uintptr_t p = (uintptr_t)a, base = (uintptr_t)r->agencies;

	if (!a)
		return NONE;
	if (p >= base && p < base + r->nagencies * sizeof(*r->agencies) &&
	    (p - base) % sizeof(*r->agencies) == 0)
		return (p - base) / sizeof(*r->agencies);
	return map_get(&r->amap, a->code);
}

static size_t resolve_agency_idx(const struct cm_register *r, size_t i, cm_day_t day)
{
	/* Load refused cycles; the bound is a second line of defence. */
	for (size_t steps = 0; i != NONE && steps <= r->nagencies; steps++) {
		if (cm_agency_active(&r->agencies[i].pub, day))
			return i;
		i = r->agencies[i].successor;
	}
	return NONE;
}

static size_t resolve_unit_idx(const struct cm_register *r, size_t i, cm_day_t day)
{
	for (size_t steps = 0; i != NONE && steps <= r->nunits; steps++) {
		if (cm_unit_active(&r->units[i].pub, day))
			return i;
		i = r->units[i].successor;
	}
	return NONE;
}

const struct cm_agency *cm_register_resolve(const struct cm_register *r, const char *code,
					    cm_day_t day)
{
	size_t i;

	if (!r)
		return NULL;
	i = resolve_agency_idx(r, map_get(&r->amap, code), day);
	return i == NONE ? NULL : &r->agencies[i].pub;
}

const struct cm_unit *cm_register_resolve_unit(const struct cm_register *r, const char *code,
					       cm_day_t day)
{
	size_t i;

	if (!r)
		return NULL;
	i = resolve_unit_idx(r, map_get(&r->umap, code), day);
	return i == NONE ? NULL : &r->units[i].pub;
}

const struct cm_agency *cm_register_parent(const struct cm_register *r, const struct cm_agency *a)
{
	size_t i = r ? agency_index(r, a) : NONE;

	if (i == NONE || r->agencies[i].parent == NONE)
		return NULL;
	return &r->agencies[r->agencies[i].parent].pub;
}

const struct cm_agency *cm_register_commune_of_unit(const struct cm_register *r,
						   const char *unit_code, cm_day_t day)
{
	const struct unit_rec *u;
	size_t i;

	if (!r)
		return NULL;
	i = resolve_unit_idx(r, map_get(&r->umap, unit_code), day);
	if (i == NONE)
		return NULL;
	u = &r->units[i];
	for (size_t k = 0; k < u->ncommunes; k++)
		if (cm_agency_active(&r->agencies[u->communes[k]].pub, day))
			return &r->agencies[u->communes[k]].pub;
	return NULL;
}

const struct cm_agency *cm_register_department_for_field(const struct cm_register *r,
							 const char *field, cm_day_t day)
{
	const struct field_rec *f;
	size_t i = r ? map_get(&r->fmap, field) : NONE;

	if (i == NONE)
		return NULL;
	f = &r->fields[i];
	for (size_t k = 0; k < f->ndepts; k++)
		if (cm_agency_active(&r->agencies[f->depts[k]].pub, day))
			return &r->agencies[f->depts[k]].pub;
	return NULL;
}

bool cm_register_is_under(const struct cm_register *r, const struct cm_agency *a,
			  const struct cm_agency *anc)
{
	size_t i, target;

	if (!r)
		return false;
	i = agency_index(r, a);
	target = agency_index(r, anc);
	if (target == NONE)
		return false;
	for (size_t steps = 0; i != NONE && steps <= r->nagencies; steps++) {
		if (i == target)
			return true;
		i = r->agencies[i].parent;
	}
	return false;
}

const struct cm_agency *cm_register_agency_at(const struct cm_register *r, size_t i)
{
	return r && i < r->nagencies ? &r->agencies[i].pub : NULL;
}

size_t cm_register_agency_count(const struct cm_register *r)
{
	return r ? r->nagencies : 0;
}

const char *cm_register_version(const struct cm_register *r)
{
	return r ? r->version : NULL;
}

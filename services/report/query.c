/*
 * query.c - reports, case lists and histories from the read models.
 *
 * Replies are built from malloc'ed parts exactly as protobuf-c's unpack would
 * lay them out, so the caller frees them with the generated *__free_unpacked.
 */
#include "query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "indicators.h"

#define KIND(x) DONTHU__V1__PETITION_KIND__PETITION_KIND_##x

static char *xs(const char *s)
{
	return cm_xstrdup(s ? s : "");
}

static Donthu__V1__ErrorDetail *mkerr(const char *code, const char *field, const char *msg)
{
	Donthu__V1__ErrorDetail *e = cm_xmalloc(sizeof(*e));

	donthu__v1__error_detail__init(e);
	e->code = xs(code);
	e->field = xs(field);
	e->message = xs(msg);
	return e;
}

static void fmt_day(cm_day_t d, char buf[11])
{
	if (d)
		cm_day_format(d, buf);
	else
		buf[0] = '\0';
}

int report_query_period(const struct report_periods *p, const Donthu__V1__ReportQuery *q,
			cm_day_t *from, cm_day_t *to, const char **why)
{
	bool has_from = q->from_date && *q->from_date, has_to = q->to_date && *q->to_date;

	if (has_from || has_to) {
		if (!has_from || !has_to || cm_day_parse(q->from_date, from) ||
		    cm_day_parse(q->to_date, to) || *from > *to) {
			*why = "from_date and to_date must both be YYYY-MM-DD with from <= to";
			return CM_EINVALID;
		}
		return 0;
	}
	if (!q->period || !*q->period) {
		*why = "give a period (\"2026-Q1\", \"2026-6M\", \"2026-9M\", \"2026-Y\") or "
		       "from_date and to_date";
		return CM_EINVALID;
	}
	if (report_period_resolve(p, q->period, from, to) != 0) {
		*why = "unknown period: use YYYY-Q1..Q4, YYYY-6M, YYYY-9M, YYYY-Y, YYYY-MM, "
		       "YYYY or YYYY-MM-DD..YYYY-MM-DD";
		return CM_EINVALID;
	}
	return 0;
}

/* ------------------------------------------------------------- scope --- */

struct scope {
	const char **codes;	/* row agencies; [0] is the asked agency */
	const char **names;
	size_t n, cap;
};

static void scope_add(struct scope *s, const char *code, const char *name)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->codes = cm_xrealloc(s->codes, s->cap * sizeof(*s->codes));
		s->names = cm_xrealloc(s->names, s->cap * sizeof(*s->names));
	}
	s->codes[s->n] = code;
	s->names[s->n++] = name;
}

static int level_rank(enum cm_agency_level l)
{
	/* Order rows as the forms list units: province bodies, then communes. */
	switch (l) {
	case CM_LEVEL_PROVINCE: return 0;
	case CM_LEVEL_INSPECTORATE: return 1;
	case CM_LEVEL_OFFICE: return 2;
	case CM_LEVEL_RECEPTION_BOARD: return 3;
	case CM_LEVEL_DEPARTMENT: return 4;
	case CM_LEVEL_PUBLIC_SERVICE_UNIT: return 5;
	case CM_LEVEL_POLICE: return 6;
	case CM_LEVEL_DISTRICT: return 7;
	case CM_LEVEL_COMMUNE: return 8;
	default: return 9;
	}
}

struct ranked {
	const struct cm_agency *a;
	int rank;
};

static int cmp_ranked(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;

	if (a->rank != b->rank)
		return a->rank - b->rank;
	return strcmp(a->a->code, b->a->code);
}

/* Runs on query worker threads: no shared state (the register is
 * read-only). */
static void build_scope(const struct report_qctx *x, const char *agency, bool subunits,
			cm_day_t day, struct scope *s)
{
	const struct cm_agency *top = x->reg ? cm_register_agency(x->reg, agency) : NULL;
	struct ranked *v;
	size_t n = 0;

	scope_add(s, top ? top->code : agency, top ? top->name : agency);
	if (!top || !subunits)
		return;
	v = cm_xcalloc(cm_register_agency_count(x->reg) + 1, sizeof(*v));
	for (size_t i = 0; i < cm_register_agency_count(x->reg); i++) {
		const struct cm_agency *a = cm_register_agency_at(x->reg, i);
		if (a != top && cm_agency_active(a, day) && cm_register_is_under(x->reg, a, top))
			v[n++] = (struct ranked){a, level_rank(a->level)};
	}
	qsort(v, n, sizeof(*v), cmp_ranked);
	for (size_t i = 0; i < n; i++)
		scope_add(s, v[i].a->code, v[i].a->name);
	free(v);
}

/* Which row a stored agency's counters go to, or -1. */
static int row_of(const struct report_qctx *x, const struct scope *s, const char *code,
		  cm_day_t day)
{
	const struct cm_agency *a = x->reg ? cm_register_agency(x->reg, code) : NULL;
	const struct cm_agency *r = a ? cm_register_resolve(x->reg, code, day) : NULL;
	const char *target = r ? r->code : code;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->codes[i], target) == 0)
			return (int)i;
	/* Under a row agency but not itself a row (inactive on the day and with
	 * no successor in the list): count it under the nearest row ancestor. */
	if (r && s->n > 1) {
		for (const struct cm_agency *p = cm_register_parent(x->reg, r); p;
		     p = cm_register_parent(x->reg, p))
			for (size_t i = 0; i < s->n; i++)
				if (strcmp(s->codes[i], p->code) == 0)
					return (int)i;
	}
	return -1;
}

/* ----------------------------------------------------------- summing --- */

/* Sums for the indicators a form needs, per dim: slot[ind] >= 0 when needed. */
struct acc {
	int64_t *v;		/* nslots * ndims */
};

struct sumctx {
	const int *slot;
	const bool *isday;	/* dim is a receipt day: split at `split` */
	cm_day_t split;
	uint16_t split_hm;	/* the same split in half months (month rows) */
	char level;
	size_t ndims;
	int64_t *v;
	int32_t end;		/* last bucket wanted */
	size_t plen;		/* key prefix length: agency\0level */
	uint8_t prefix[REPORT_CODE_MAX + 2];
	int err;
};

static int sum_row(const struct cm_val *k, const struct cm_val *val, void *arg)
{
	struct sumctx *s = arg;
	int n;

	if (k->size != s->plen + 4 || memcmp(k->data, s->prefix, s->plen) != 0)
		return 1;
	if ((int32_t)(cm_be32_get((const uint8_t *)k->data + s->plen) - 0x80000000u) > s->end)
		return 1;
	n = report_row_count(val->data, val->size);
	if (n < 0) {
		s->err = n;
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct report_cell c;
		report_row_entry(val->data, (size_t)i, &c);
		if (c.ind < REPORT_IND_COUNT && s->slot[c.ind] >= 0) {
			size_t d;
			if (s->isday[c.ind])
				d = (s->level == REPORT_LEVEL_DAY ? c.dim < s->split
								   : c.dim < s->split_hm)
					    ? 0
					    : 1;
			else
				d = c.dim < s->ndims ? c.dim : s->ndims - 1;
			s->v[(size_t)s->slot[c.ind] * s->ndims + d] += c.v;
		}
	}
	return 0;
}

static int sum_buckets(struct cm_txn *t, const char *agency, char level, int32_t from, int32_t to,
		       struct sumctx *s)
{
	uint8_t key[REPORT_CODE_MAX + 8];
	size_t klen;
	int rc;

	if (from > to)
		return 0;
	klen = report_counter_key(agency, level, from, key);
	s->plen = klen - 4;
	s->level = level;
	memcpy(s->prefix, key, s->plen);
	s->end = to;
	s->err = 0;
	rc = cm_txn_iter(t, REPORT_DB_COUNTERS, key, klen, sum_row, s);
	if (rc < 0)
		return rc;
	return s->err;
}

/* Sum [from, to] (days, both included) into s->v: whole months from month
 * rows, the partial months at the ends from day rows; only day rows when
 * months_ok is false (month rows cannot split receipt days at `from`). */
static int sum_days(struct cm_txn *t, const char *agency, cm_day_t from, cm_day_t to,
		    bool months_ok, struct sumctx *s)
{
	int32_t mf, mt, m0, m1;
	int rc;

	if (from > to)
		return 0;
	if (!months_ok)
		return sum_buckets(t, agency, REPORT_LEVEL_DAY, from, to, s);
	mf = report_month_of(from);
	mt = report_month_of(to);
	if (mf == mt) {
		if (from == report_month_first(mf) && to == report_month_last(mf))
			return sum_buckets(t, agency, REPORT_LEVEL_MONTH, mf, mf, s);
		return sum_buckets(t, agency, REPORT_LEVEL_DAY, from, to, s);
	}
	m0 = mf + 1;
	m1 = mt - 1;
	if (from == report_month_first(mf))
		m0 = mf;
	else if ((rc = sum_buckets(t, agency, REPORT_LEVEL_DAY, from, report_month_last(mf), s)))
		return rc;
	if (to == report_month_last(mt))
		m1 = mt;
	else if ((rc = sum_buckets(t, agency, REPORT_LEVEL_DAY, report_month_first(mt), to, s)))
		return rc;
	return sum_buckets(t, agency, REPORT_LEVEL_MONTH, m0, m1, s);
}

/* Everything before day `before`. */
static int sum_before(struct cm_txn *t, const char *agency, cm_day_t before, struct sumctx *s)
{
	int32_t m = report_month_of(before);
	int rc = sum_buckets(t, agency, REPORT_LEVEL_MONTH, INT32_MIN + 1, m - 1, s);

	if (rc)
		return rc;
	return sum_buckets(t, agency, REPORT_LEVEL_DAY, report_month_first(m), before - 1, s);
}

/* --------------------------------------------------------- the report --- */

struct agencies_ctx {
	char **codes;
	size_t n, cap;
	int err;
};

static int first_agency(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct agencies_ctx *a = arg;
	size_t n = strnlen(k->data, k->size);

	(void)v;
	if (n == k->size || n > REPORT_CODE_MAX) {
		a->err = CM_ECORRUPT;
		return 1;
	}
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->codes = cm_xrealloc(a->codes, a->cap * sizeof(*a->codes));
	}
	a->codes[a->n++] = cm_xstrndup(k->data, n);
	return 1;
}

/* The agencies that have counters: one seek per agency (counter keys start
 * with "<agency>\0"; the next agency is the first key after "<agency>\1"). */
static int list_agencies(struct cm_txn *t, struct agencies_ctx *a)
{
	char from[REPORT_CODE_MAX + 2];
	size_t flen = 0;
	int rc;

	for (;;) {
		size_t before = a->n;
		rc = cm_txn_iter(t, REPORT_DB_COUNTERS, flen ? from : NULL, flen, first_agency, a);
		if (rc < 0)
			return rc;
		if (a->err)
			return a->err;
		if (a->n == before)
			return 0;
		flen = strlen(a->codes[a->n - 1]);
		memcpy(from, a->codes[a->n - 1], flen);
		from[flen++] = '\1';
	}
}

/* dims: code -> id for every field seen */
struct dims_ctx {
	struct cm_txn *t;
	size_t max;
};

static int max_dim(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct dims_ctx *d = arg;
	const uint8_t *b = v->data;

	(void)k;
	if (v->size == 2 && (size_t)((b[0] << 8) | b[1]) > d->max)
		d->max = (size_t)((b[0] << 8) | b[1]);
	return 0;
}

/* Per-term dim masks, resolved once per query. Field code "-" is "no field";
 * on a receipt-day indicator the selectors are "carried" (dim 0 after the
 * split) and "new" (dim 1). */
static int term_mask(struct cm_txn *t, const struct report_term *term, size_t ndims, bool *mask)
{
	bool v = term->fsel != RFS_ONLY;
	bool isday = report_ind_dim_is_day(term->ind);

	for (size_t d = 0; d < ndims; d++)
		mask[d] = isday && d > 1 ? false : term->fsel == RFS_ALL ? true : v;
	if (term->fsel == RFS_ALL)
		return 0;
	for (size_t i = 0; i < term->nfields; i++) {
		uint16_t id;
		int rc;

		if (isday) {
			if (strcmp(term->fields[i], "carried") == 0)
				mask[0] = !v;
			else if (strcmp(term->fields[i], "new") == 0)
				mask[1] = !v;
			continue;
		}
		if (strcmp(term->fields[i], "-") == 0) {
			mask[0] = !v;
			continue;
		}
		rc = report_dim_get(t, term->fields[i], 0, &id);
		if (rc == -ENOENT)
			continue;
		if (rc)
			return rc;
		if (id < ndims)
			mask[id] = !v;
	}
	return 0;
}

static void set_cell(Donthu__V1__ReportCell *c, const struct report_column *col, int64_t v)
{
	donthu__v1__report_cell__init(c);
	if (col->is_double) {
		c->v_case = DONTHU__V1__REPORT_CELL__V_D;
		c->d = (double)v / col->scale;
	} else {
		c->v_case = DONTHU__V1__REPORT_CELL__V_I;
		c->i = v;
	}
}

static Donthu__V1__ReportRow *new_row(const char *label, const char *agency, size_t ncells,
				      bool total)
{
	Donthu__V1__ReportRow *r = cm_xmalloc(sizeof(*r));

	donthu__v1__report_row__init(r);
	r->label = xs(label);
	r->agency = xs(agency);
	r->total = total;
	r->n_cells = ncells;
	r->cells = cm_xcalloc(ncells ? ncells : 1, sizeof(*r->cells));
	for (size_t i = 0; i < ncells; i++)
		r->cells[i] = cm_xmalloc(sizeof(**r->cells));
	return r;
}

static void add_row(Donthu__V1__ReportReply *r, Donthu__V1__ReportRow *row)
{
	r->rows = cm_xrealloc(r->rows, (r->n_rows + 1) * sizeof(*r->rows));
	r->rows[r->n_rows++] = row;
}

static int form_report(struct cm_txn *t, const struct report_qctx *x,
		       const struct report_formset *set, const struct report_form *f,
		       const Donthu__V1__ReportQuery *q, cm_day_t from, cm_day_t to,
		       Donthu__V1__ReportReply *r)
{
	struct agencies_ctx ag = {0};
	struct dims_ctx dc = {t, 0};
	struct scope sc = {0};
	int slot[REPORT_IND_COUNT];
	bool isday[REPORT_IND_COUNT], months_ok = true;
	size_t nslots = 0, ndims, width;
	int fy, fm, fd;
	int64_t *before = NULL, *range = NULL, *vals = NULL, *tot;
	bool **masks = NULL;
	size_t nterms = 0;
	int rc;

	for (size_t i = 0; i < REPORT_IND_COUNT; i++) {
		slot[i] = -1;
		isday[i] = report_ind_dim_is_day((unsigned)i);
	}
	for (size_t c = 0; c < f->ncols; c++)
		for (size_t k = 0; k < f->cols[c].nterms; k++) {
			uint16_t ind = f->cols[c].terms[k].ind;
			if (slot[ind] < 0)
				slot[ind] = (int)nslots++;
			nterms++;
		}
	/* Month rows hold receipt days by half month: exact when the period
	 * starts on the 1st or the 15th (every legal period does). */
	cm_day_to_ymd(from, &fy, &fm, &fd);
	for (size_t i = 0; i < REPORT_IND_COUNT; i++)
		if (slot[i] >= 0 && isday[i] && fd != 1 && fd != 15)
			months_ok = false;
	rc = cm_txn_iter(t, REPORT_DB_DIMS, NULL, 0, max_dim, &dc);
	if (rc < 0)
		return rc;
	ndims = dc.max + 2; /* 0 = no field, ids 1..max, one slot for overflow */
	width = nslots * ndims;
	build_scope(x, q->agency, q->include_subunits, to, &sc);
	before = cm_xcalloc(sc.n * width, sizeof(*before));
	range = cm_xcalloc(sc.n * width, sizeof(*range));
	rc = list_agencies(t, &ag);
	if (rc)
		goto out;
	for (size_t i = 0; i < ag.n && rc == 0; i++) {
		int row = row_of(x, &sc, ag.codes[i], to);
		struct sumctx s = {.slot = slot, .isday = isday, .split = from,
				   .split_hm = report_half_month(fy, fm, fd), .ndims = ndims};
		if (row < 0)
			continue;
		s.v = before + (size_t)row * width;
		rc = sum_before(t, ag.codes[i], from, &s);
		if (rc == 0) {
			s.v = range + (size_t)row * width;
			rc = sum_days(t, ag.codes[i], from, to, months_ok, &s);
		}
	}
	if (rc)
		goto out;
	masks = cm_xcalloc(nterms ? nterms : 1, sizeof(*masks));
	nterms = 0;
	for (size_t c = 0; c < f->ncols && rc == 0; c++)
		for (size_t k = 0; k < f->cols[c].nterms && rc == 0; k++) {
			masks[nterms] = cm_xcalloc(ndims, sizeof(bool));
			rc = term_mask(t, &f->cols[c].terms[k], ndims, masks[nterms++]);
		}
	if (rc)
		goto out;
	vals = cm_xcalloc((sc.n + 1) * f->ncols, sizeof(*vals));
	tot = vals + sc.n * f->ncols;
	for (size_t row = 0; row < sc.n; row++) {
		size_t mi = 0;
		for (size_t c = 0; c < f->ncols; c++) {
			int64_t v = 0;
			for (size_t k = 0; k < f->cols[c].nterms; k++, mi++) {
				const struct report_term *tm = &f->cols[c].terms[k];
				const int64_t *b = before + row * width + (size_t)slot[tm->ind] * ndims;
				const int64_t *g = range + row * width + (size_t)slot[tm->ind] * ndims;
				int64_t s = 0;
				for (size_t d = 0; d < ndims; d++) {
					if (!masks[mi][d])
						continue;
					if (tm->mode != RFM_RANGE)
						s += b[d];
					if (tm->mode != RFM_BEFORE)
						s += g[d];
				}
				v += tm->sign * s;
			}
			vals[row * f->ncols + c] = v;
			tot[c] += v;
		}
	}
	for (size_t row = 0; row <= sc.n; row++) {
		bool total = row == sc.n;
		Donthu__V1__ReportRow *rr = new_row(total ? "Tổng cộng" : sc.names[row],
						    total ? q->agency : sc.codes[row], f->ncols,
						    total);
		for (size_t c = 0; c < f->ncols; c++)
			set_cell(rr->cells[c], &f->cols[c], vals[row * f->ncols + c]);
		add_row(r, rr);
	}
	(void)set;
out:
	for (size_t i = 0; masks && i < nterms; i++)
		free(masks[i]);
	free(masks);
	for (size_t i = 0; i < ag.n; i++)
		free(ag.codes[i]);
	free(ag.codes);
	free(sc.codes);
	free(sc.names);
	free(before);
	free(range);
	free(vals);
	return rc;
}

/* ------------------------------------------------------ the mass list --- */

static bool is_central(const struct report_qctx *x, const char *code)
{
	const struct cm_agency *a;

	if (!code || !*code)
		return false;
	a = x->reg ? cm_register_agency(x->reg, code) : NULL;
	if (a && a->level == CM_LEVEL_CENTRAL)
		return true;
	for (size_t i = 0; x->mass && i < x->mass->ncentral; i++) {
		const char *p = x->mass->central[i];
		size_t n = strlen(p);
		if (n && p[n - 1] == '*' ? strncmp(code, p, n - 1) == 0 : strcmp(code, p) == 0)
			return true;
	}
	return false;
}

static cm_day_t add_months(cm_day_t day, int months)
{
	int y, m, d, last;

	cm_day_to_ymd(day, &y, &m, &d);
	m += months;
	y += (m - 1) / 12;
	m = (m - 1) % 12 + 1;
	last = cm_days_in_month(y, m);
	return cm_day_from_ymd(y, m, d > last ? last : d);
}

size_t report_mass_criteria(const struct report_qctx *x, const struct report_case *c,
			    cm_day_t asof, const char *names[8])
{
	static const struct report_mass_cfg defaults = {5, 2, 6, 3, NULL, 0};
	const struct report_mass_cfg *cfg = x->mass ? x->mass : &defaults;
	uint32_t signers = c->r_signers > c->signers ? c->r_signers : c->signers;
	size_t n = 0;
	bool central = is_central(x, c->forwarded_by) || is_central(x, c->r_to[0]) ||
		       is_central(x, c->r_to[1]);

	for (int i = 0; i < RC_SENT; i++)
		central |= is_central(x, c->sent_to[i]);
	if (signers >= cfg->signers || c->r_many ||
	    (c->flags & (1u << DONTHU__V1__FLAG_KIND__FLAG_KIND_MANY_SIGNERS)))
		names[n++] = "many_signers";
	if (c->delegation >= 5 || c->r_delegation ||
	    (c->flags & (1u << DONTHU__V1__FLAG_KIND__FLAG_KIND_DELEGATION)))
		names[n++] = "delegation";
	if (cfg->repeats && c->repeat_count >= cfg->repeats)
		names[n++] = "repeated";
	if (c->has_intake && report_case_open(c) && c->received &&
	    add_months(c->received, (int)cfg->open_months) < asof)
		names[n++] = "prolonged";
	if (c->recomplaint_after_r2)
		names[n++] = "recomplaint_after_r2";
	if (central)
		names[n++] = "sent_central";
	if (c->loop || (cfg->transfers && c->transfers >= cfg->transfers) ||
	    (c->flags & (1u << DONTHU__V1__FLAG_KIND__FLAG_KIND_TRANSFER_LOOP)))
		names[n++] = "transfer_loop";
	return n;
}

static const char *kind_vi(uint8_t k)
{
	switch (k) {
	case KIND(COMPLAINT): return "Khiếu nại";
	case KIND(DENUNCIATION): return "Tố cáo";
	case KIND(RECOMMENDATION): return "Kiến nghị";
	case KIND(FEEDBACK): return "Phản ánh";
	case KIND(MIXED): return "Nhiều nội dung";
	default: return "";
	}
}

static const char *status_name(uint8_t s)
{
	static const char *const n[] = {"", "received", "accepted", "suspended", "decided",
					"withdrawn", "terminated", "closed", "refused", "guided",
					"forwarded", "returned", "filed"};
	return s < CM_ARRAY_LEN(n) ? n[s] : "unknown";
}

struct mass_ctx {
	const struct report_qctx *x;
	const struct scope *sc;
	cm_day_t to;
	Donthu__V1__ReportReply *r;
	size_t matched;
	int err;
};

static const struct report_column mass_cols[] = {
	{.number = "1", .title = "Số hồ sơ"},
	{.number = "2", .title = "Cơ quan đang giải quyết"},
	{.number = "3", .title = "Loại đơn"},
	{.number = "4", .title = "Ngày tiếp nhận"},
	{.number = "5", .title = "Số người đứng tên"},
	{.number = "6", .title = "Số lần đơn lặp lại"},
	{.number = "7", .title = "Số lần chuyển"},
	{.number = "8", .title = "Tình trạng"},
	{.number = "9", .title = "Tiêu chí"},
};

static void cell_s(Donthu__V1__ReportCell *c, const char *s)
{
	donthu__v1__report_cell__init(c);
	c->v_case = DONTHU__V1__REPORT_CELL__V_S;
	c->s = xs(s);
}

static void cell_i(Donthu__V1__ReportCell *c, int64_t v)
{
	donthu__v1__report_cell__init(c);
	c->v_case = DONTHU__V1__REPORT_CELL__V_I;
	c->i = v;
}

static int mass_visit(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct mass_ctx *m = arg;
	struct report_case c;
	const char *names[8];
	char cn[REPORT_CASE_MAX + 1], crit[200] = "", day[11];
	const char *h;
	size_t n;
	Donthu__V1__ReportRow *row;

	if (report_case_decode(v->data, v->size, &c) != 0) {
		m->err = CM_ECORRUPT;
		return 1;
	}
	if (!c.has_intake || c.received > m->to)
		return 0;
	h = report_case_handling(&c);
	if (row_of(m->x, m->sc, h, m->to) < 0 && row_of(m->x, m->sc, c.agency, m->to) < 0)
		return 0;
	n = report_mass_criteria(m->x, &c, m->to, names);
	if (n == 0)
		return 0;
	m->matched++;
	if (m->r->n_rows >= REPORT_MASS_ROWS_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		strcat(crit, i ? "," : "");
		strcat(crit, names[i]);
	}
	snprintf(cn, sizeof(cn), "%.*s", (int)(k->size < REPORT_CASE_MAX ? k->size : REPORT_CASE_MAX),
		 (const char *)k->data);
	fmt_day(c.received, day);
	row = new_row(cn, h, CM_ARRAY_LEN(mass_cols), false);
	cell_s(row->cells[0], cn);
	cell_s(row->cells[1], h);
	cell_s(row->cells[2], kind_vi(c.kind));
	cell_s(row->cells[3], day);
	cell_i(row->cells[4], c.r_signers > c.signers ? c.r_signers : c.signers);
	cell_i(row->cells[5], c.repeat_count);
	cell_i(row->cells[6], c.transfers);
	cell_s(row->cells[7], status_name(c.status));
	cell_s(row->cells[8], crit);
	add_row(m->r, row);
	return 0;
}

static int mass_report(struct cm_txn *t, const struct report_qctx *x,
		       const Donthu__V1__ReportQuery *q, cm_day_t to, Donthu__V1__ReportReply *r)
{
	struct scope sc = {0};
	struct mass_ctx m = {x, &sc, to, r, 0, 0};
	Donthu__V1__ReportRow *tot;
	int rc;

	build_scope(x, q->agency, q->include_subunits, to, &sc);
	rc = cm_txn_iter(t, REPORT_DB_CASES, NULL, 0, mass_visit, &m);
	free(sc.codes);
	free(sc.names);
	if (rc < 0)
		return rc;
	if (m.err)
		return m.err;
	tot = new_row("Tổng cộng", q->agency, CM_ARRAY_LEN(mass_cols), true);
	cell_i(tot->cells[0], (int64_t)m.matched);
	for (size_t i = 1; i < CM_ARRAY_LEN(mass_cols); i++)
		cell_s(tot->cells[i], "");
	add_row(r, tot);
	if (m.matched > REPORT_MASS_ROWS_MAX) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%zu cases match; the first %d are listed, the total "
			 "row counts all",
			 m.matched, REPORT_MASS_ROWS_MAX);
		r->error = mkerr("truncated", "", msg);
	}
	return 0;
}

int report_query_report(struct cm_txn *t, const struct report_qctx *x,
			const Donthu__V1__ReportQuery *q, Donthu__V1__ReportReply **out)
{
	Donthu__V1__ReportReply *r = cm_xmalloc(sizeof(*r));
	const struct report_formset *set = NULL;
	const struct report_form *f = NULL;
	bool mass = q->form && strcmp(q->form, "mass") == 0;
	const struct report_periods *periods;
	struct report_periods defp;
	char fd[11], td[11];
	const char *why = NULL;
	cm_day_t from, to;
	int rc = 0;

	donthu__v1__report_reply__init(r);
	*out = r;
	r->form = xs(q->form);
	r->agency = xs(q->agency);
	if (!q->agency || !*q->agency) {
		r->error = mkerr("missing_field", "agency", "an agency code is required");
		return 0;
	}
	if (!mass) {
		f = q->form && x->forms ? report_forms_find(x->forms, q->form, &set) : NULL;
		if (!f) {
			r->error = mkerr("unknown_form", "form",
					 "unknown form; see docs/REPORTS.md for the shipped forms");
			return 0;
		}
	}
	if (x->reg && !cm_register_agency(x->reg, q->agency)) {
		r->error = mkerr("unknown_agency", "agency", "agency not in the register");
		return 0;
	}
	if (set) {
		periods = &set->periods;
	} else {
		report_periods_default(&defp);
		periods = &defp;
	}
	if (report_query_period(periods, q, &from, &to, &why) != 0) {
		r->error = mkerr("invalid_period", "period", why);
		return 0;
	}
	cm_day_format(from, fd);
	cm_day_format(to, td);
	r->from_date = xs(fd);
	r->to_date = xs(td);
	if (mass) {
		r->title = xs("DANH SÁCH VỤ VIỆC ĐÔNG NGƯỜI, PHỨC TẠP, KÉO DÀI");
		r->form_version = xs("mass");
		r->n_columns = CM_ARRAY_LEN(mass_cols);
	} else {
		char *v = cm_xasprintf("%s@%s", set->id, x->forms->version);
		r->title = xs(f->title);
		r->form_version = v;
		r->n_columns = f->ncols;
	}
	r->columns = cm_xcalloc(r->n_columns, sizeof(*r->columns));
	for (size_t i = 0; i < r->n_columns; i++) {
		const struct report_column *c = mass ? &mass_cols[i] : &f->cols[i];
		Donthu__V1__ReportColumn *col = cm_xmalloc(sizeof(*col));
		donthu__v1__report_column__init(col);
		col->number = xs(c->number);
		col->title = xs(c->title);
		col->group = xs(c->group);
		col->indicator = xs(c->expr);
		r->columns[i] = col;
	}
	rc = mass ? mass_report(t, x, q, to, r) : form_report(t, x, set, f, q, from, to, r);
	if (rc) {
		donthu__v1__report_reply__free_unpacked(r, NULL);
		*out = NULL;
	}
	return rc;
}

/* --------------------------------------------------------- case lists --- */

static void fill_summary(const struct report_qctx *x, const char *cn, const struct report_case *c,
			 Donthu__V1__CaseSummary *s)
{
	const char *names[8];
	char day[11];
	size_t n;

	donthu__v1__case_summary__init(s);
	s->case_number = xs(cn);
	s->kind = (Donthu__V1__PetitionKind)c->kind;
	s->status = (Donthu__V1__CaseStatus)c->status;
	s->receiving_agency = xs(c->agency);
	s->handling_agency = xs(report_case_handling(c));
	fmt_day(c->received, day);
	s->received_date = xs(day);
	s->field = xs(c->classified && c->r_field[0] ? c->r_field : c->field);
	s->signer_count = c->r_signers > c->signers ? c->r_signers : c->signers;
	s->repeat_count = c->repeat_count;
	s->overdue = report_case_overdue(c);
	fmt_day(report_case_next_due(c), day);
	s->next_due_date = xs(day);
	s->summary = xs(c->summary);
	n = report_mass_criteria(x, c, x->today, names);
	s->n_criteria = n;
	s->criteria = cm_xcalloc(n ? n : 1, sizeof(*s->criteria));
	for (size_t i = 0; i < n; i++)
		s->criteria[i] = xs(names[i]);
}

struct list_ctx {
	const struct report_qctx *x;
	const Donthu__V1__CaseListQuery *q;
	const struct scope *sc;
	cm_day_t from, to;
	bool has_range;
	uint32_t limit;
	Donthu__V1__CaseListReply *r;
	int err;
};

static bool list_match(struct list_ctx *l, const struct report_case *c)
{
	const Donthu__V1__CaseListQuery *q = l->q;

	if (!c->has_intake)
		return false;
	if (q->kind && c->kind != (uint8_t)q->kind)
		return false;
	if (q->status && c->status != (uint8_t)q->status)
		return false;
	if (q->overdue_only && !report_case_overdue(c))
		return false;
	if (l->has_range && (c->received < l->from || c->received > l->to))
		return false;
	if (q->field && *q->field &&
	    strcmp(q->field, c->classified && c->r_field[0] ? c->r_field : c->field) != 0)
		return false;
	if (l->sc && row_of(l->x, l->sc, c->agency, l->x->today) < 0 &&
	    row_of(l->x, l->sc, report_case_handling(c), l->x->today) < 0)
		return false;
	return true;
}

static int list_visit(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct list_ctx *l = arg;
	struct report_case c;
	Donthu__V1__CaseSummary *s;
	char cn[REPORT_CASE_MAX + 1];

	if (l->q->after_case && *l->q->after_case && k->size == strlen(l->q->after_case) &&
	    memcmp(k->data, l->q->after_case, k->size) == 0)
		return 0;
	if (report_case_decode(v->data, v->size, &c) != 0) {
		l->err = CM_ECORRUPT;
		return 1;
	}
	if (!list_match(l, &c))
		return 0;
	snprintf(cn, sizeof(cn), "%.*s", (int)(k->size < REPORT_CASE_MAX ? k->size : REPORT_CASE_MAX),
		 (const char *)k->data);
	s = cm_xmalloc(sizeof(*s));
	fill_summary(l->x, cn, &c, s);
	l->r->cases = cm_xrealloc(l->r->cases, (l->r->n_cases + 1) * sizeof(*l->r->cases));
	l->r->cases[l->r->n_cases++] = s;
	return l->r->n_cases >= l->limit ? 1 : 0;
}

int report_query_cases(struct cm_txn *t, const struct report_qctx *x,
		       const Donthu__V1__CaseListQuery *q, Donthu__V1__CaseListReply **out)
{
	Donthu__V1__CaseListReply *r = cm_xmalloc(sizeof(*r));
	struct list_ctx l = {.x = x, .q = q, .r = r};
	struct scope sc = {0};
	const char *after = q->after_case && *q->after_case ? q->after_case : NULL;
	int rc;

	donthu__v1__case_list_reply__init(r);
	*out = r;
	l.limit = q->limit ? q->limit : 100;
	if (l.limit > REPORT_CASES_LIMIT_MAX)
		l.limit = REPORT_CASES_LIMIT_MAX;
	if ((q->from_date && *q->from_date) || (q->to_date && *q->to_date)) {
		l.from = INT32_MIN;
		l.to = INT32_MAX;
		if ((q->from_date && *q->from_date && cm_day_parse(q->from_date, &l.from)) ||
		    (q->to_date && *q->to_date && cm_day_parse(q->to_date, &l.to))) {
			r->error = mkerr("invalid_date", "from_date",
					 "from_date and to_date are YYYY-MM-DD");
			return 0;
		}
		l.has_range = true;
	}
	if (q->agency && *q->agency) {
		if (x->reg && !cm_register_agency(x->reg, q->agency)) {
			r->error = mkerr("unknown_agency", "agency", "agency not in the register");
			return 0;
		}
		build_scope(x, q->agency, q->include_subunits, x->today, &sc);
		l.sc = &sc;
	}
	/* Case numbers sort by agency, year and serial, so the walk in key
	 * order is also a stable page order. */
	rc = cm_txn_iter(t, REPORT_DB_CASES, after, after ? strlen(after) : 0, list_visit, &l);
	free(sc.codes);
	free(sc.names);
	if (rc < 0 || l.err) {
		donthu__v1__case_list_reply__free_unpacked(r, NULL);
		*out = NULL;
		return rc < 0 ? rc : l.err;
	}
	return 0;
}

struct hist_ctx {
	struct cm_txn *t;
	const uint8_t *prefix;
	size_t plen;
	Donthu__V1__CaseHistoryReply *r;
	int err;
};

static int hist_visit(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct hist_ctx *h = arg;
	ProtobufCBinaryData *b;
	struct cm_val ev;
	int rc;

	(void)v;
	if (k->size != h->plen + 17 || memcmp(k->data, h->prefix, h->plen) != 0)
		return 1;
	/* the index key ends with u8 producer, be64 seq: which log, which key */
	{
		const uint8_t *p = (const uint8_t *)k->data + h->plen + 8;
		if (p[0] < RP_INTAKE || p[0] > RP_DEADLINE) {
			h->err = CM_ECORRUPT;
			return 1;
		}
		rc = cm_txn_get(h->t, REPORT_DB_EV_INTAKE + p[0] - RP_INTAKE, p + 1, 8, &ev);
	}
	if (rc) {
		h->err = rc == -ENOENT ? CM_ECORRUPT : rc;
		return 1;
	}
	h->r->events = cm_xrealloc(h->r->events, (h->r->n_events + 1) * sizeof(*h->r->events));
	b = &h->r->events[h->r->n_events++];
	b->len = ev.size;
	b->data = cm_xmalloc(ev.size ? ev.size : 1);
	memcpy(b->data, ev.data, ev.size);
	return 0;
}

int report_query_history(struct cm_txn *t, const struct report_qctx *x, const char *case_number,
			 Donthu__V1__CaseHistoryReply **out)
{
	Donthu__V1__CaseHistoryReply *r = cm_xmalloc(sizeof(*r));
	uint8_t prefix[REPORT_CASE_MAX + 1];
	struct hist_ctx h = {t, prefix, 0, r, 0};
	struct report_case c;
	size_t n;
	int rc;

	donthu__v1__case_history_reply__init(r);
	*out = r;
	n = case_number ? strlen(case_number) : 0;
	if (n == 0 || n > REPORT_CASE_MAX) {
		r->error = mkerr("missing_field", "case_number", "a case number is required");
		return 0;
	}
	rc = report_case_get(t, case_number, &c);
	if (rc == -ENOENT) {
		r->error = mkerr("unknown_case", "case_number", "no such case");
		return 0;
	}
	if (rc)
		goto fail;
	r->summary = cm_xmalloc(sizeof(*r->summary));
	fill_summary(x, case_number, &c, r->summary);
	memcpy(prefix, case_number, n);
	prefix[n] = '\0';
	h.plen = n + 1;
	rc = cm_txn_iter(t, REPORT_DB_HISTORY, prefix, h.plen, hist_visit, &h);
	if (rc >= 0 && h.err)
		rc = h.err;
	if (rc >= 0)
		return 0;
fail:
	donthu__v1__case_history_reply__free_unpacked(r, NULL);
	*out = NULL;
	return rc;
}

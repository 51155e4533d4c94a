/*
 * test_report_model - a report built incrementally equals the report rebuilt
 * from scratch.
 *
 * A year of generated province data (three feeds) is applied three ways:
 *  A. live: the feeds interleaved at random, small transactions, counters
 *     flushed after every event (what the service's consumers do);
 *  B. rebuild: every feed replayed from sequence 1, intake then routing then
 *     deadline, large transactions flushed once each;
 *  C. rebuild with the feeds in the opposite order (deadline and routing
 *     before intake has said anything about the case), writing summaries
 *     back every seven cases instead of once per transaction.
 * Every cell of every shipped form, for the province with all its units, for
 * every legal period of the year and a few odd ranges, must be identical, and
 * so must the mass/complex/prolonged list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/mem.h"
#include "common/register.h"
#include "common/store.h"
#include "forms.h"
#include "model.h"
#include "query.h"
#include "report_gen.h"
#include "schema.h"
#include "testsupport.h"

#define CASES 20000

struct ev {
	int producer;
	cm_env *env;
	const uint8_t *raw;
	size_t len;
};

static struct {
	char *dir;
	struct cm_register *reg;
	struct report_forms *forms;
	struct gen_feed feeds[3];
	struct ev *decoded[3];
	struct cm_store *st[3];
	struct report_mass_cfg mass;
} T;

struct batch {
	struct report_model *m;
	struct ev **evs;
	size_t n;
	bool per_event;
};

static int batch_txn(struct cm_txn *t, void *arg)
{
	struct batch *b = arg;
	int rc = 0;

	/* The store may run this twice (map growth): start clean each time. */
	report_model_discard(b->m);
	for (size_t i = 0; i < b->n && rc == 0; i++) {
		const struct ev *e = b->evs[i];
		rc = report_apply(b->m, t, e->producer, e->env, e->raw, e->len);
		if (rc == 0 && b->per_event)
			rc = report_model_flush(b->m, t);
	}
	return rc ? rc : report_model_flush(b->m, t);
}

static struct cm_store *open_store(const char *name)
{
	struct cm_store_opts so = {0};
	struct cm_store *s;
	char *path = cm_xasprintf("%s/%s", T.dir, name);

	so.path = path;
	so.dbi_names = report_dbi_names;
	so.ndbi = REPORT_DB_COUNT;
	so.nosync = true; /* a test of logic, not of durability */
	so.map_size = 256u << 20;
	assert_int_equal(cm_store_open(&so, &s), 0);
	assert_int_equal(cm_store_write(s, report_schema_init, NULL), 0);
	free(path);
	return s;
}

static void replay(struct cm_store *s, struct ev **order, size_t n, size_t per_txn, bool per_event,
		   size_t cache)
{
	struct report_model *m = report_model_new(true);

	if (cache)
		report_model_cache_limit(m, cache);
	for (size_t i = 0; i < n; i += per_txn) {
		struct batch b = {m, order + i, n - i < per_txn ? n - i : per_txn, per_event};
		assert_int_equal(cm_store_write(s, batch_txn, &b), 0);
	}
	report_model_free(&m);
}

static int setup(void **state)
{
	char err[512] = "";
	const char *agencies[256];
	size_t na = 0;
	const char *fields[80];
	size_t nf = 0;
	static const char *const central[] = {"TTCP"};
	cm_day_t day = cm_day_from_ymd(2026, 6, 1);
	struct gen_params p = {0};
	size_t total = 0;

	(void)state;
	T.dir = cm_test_tmpdir("report-model");
	if (cm_register_load(DONTHU_DATA_DIR "/register", &T.reg, err, sizeof(err)))
		fail_msg("register: %s", err);
	if (report_forms_load(DONTHU_DATA_DIR "/forms", &T.forms, err, sizeof(err)))
		fail_msg("forms: %s", err);
	T.mass = (struct report_mass_cfg){5, 2, 6, 3, central, 1};
	/* Every unit of the province, plus merged-away ones whose successors
	 * must absorb their counts. */
	for (size_t i = 0; i < cm_register_agency_count(T.reg) && na < 250; i++) {
		const struct cm_agency *a = cm_register_agency_at(T.reg, i);
		if (cm_agency_active(a, day) || strcmp(a->code, "QN-UBND") == 0 ||
		    strcmp(a->code, "UBND-OLD-TAMKY") == 0)
			agencies[na++] = a->code;
	}
	{
		/* Field codes as publishers send them, none and an unknown one. */
		static const char *const f[] = {"dat-dai", "nha-o", "lao-dong", "bao-hiem-xa-hoi",
						"phap-luat", "ho-tich", "to-chuc-can-bo",
						"phong-chong-tham-nhung", "y-te", "giao-duc",
						"moi-truong", "dang-doan-the", "", "", "khong-ro"};
		for (size_t i = 0; i < CM_ARRAY_LEN(f); i++)
			fields[nf++] = f[i];
	}
	p.seed = 20261127;
	p.cases = CASES;
	p.first_day = cm_day_from_ymd(2025, 10, 1);
	p.last_day = cm_day_from_ymd(2026, 12, 14);
	p.agencies = agencies;
	p.nagencies = na;
	p.fields = fields;
	p.nfields = nf;
	gen_feeds(&p, T.feeds);
	for (int f = 0; f < 3; f++) {
		T.decoded[f] = cm_xcalloc(T.feeds[f].n + 1, sizeof(struct ev));
		for (size_t i = 0; i < T.feeds[f].n; i++) {
			struct ev *e = &T.decoded[f][i];
			e->producer = report_producer_id(T.feeds[f].producer);
			e->raw = T.feeds[f].ev[i].buf;
			e->len = T.feeds[f].ev[i].len;
			assert_int_equal(cm_env_unpack(e->raw, e->len, &e->env), 0);
			assert_int_equal(e->env->sequence, i + 1);
		}
		total += T.feeds[f].n;
	}
	print_message("generated %zu cases: %zu intake, %zu routing, %zu deadline events\n",
		      (size_t)CASES, T.feeds[0].n, T.feeds[1].n, T.feeds[2].n);

	/* A: live, feeds interleaved at random, small transactions. */
	{
		struct ev **order = cm_xcalloc(total, sizeof(*order));
		size_t pos[3] = {0, 0, 0}, k = 0;
		uint64_t r = 88172645463325252ULL;
		while (k < total) {
			int f;
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			f = (int)(r % 3);
			if (pos[f] >= T.feeds[f].n)
				continue;
			order[k++] = &T.decoded[f][pos[f]++];
		}
		T.st[0] = open_store("live");
		replay(T.st[0], order, total, 300, true, 0);
		free(order);
	}
	/* B: rebuild, intake then routing then deadline, and C: the reverse. */
	for (int v = 1; v <= 2; v++) {
		struct ev **order = cm_xcalloc(total, sizeof(*order));
		size_t k = 0;
		for (int i = 0; i < 3; i++) {
			int f = v == 1 ? i : 2 - i;
			for (size_t j = 0; j < T.feeds[f].n; j++)
				order[k++] = &T.decoded[f][j];
		}
		T.st[v] = open_store(v == 1 ? "rebuild" : "reverse");
		/* C also writes summaries back early, every few cases. */
		replay(T.st[v], order, total, 20000, false, v == 2 ? 7 : 0);
		free(order);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		cm_store_close(&T.st[i]);
		for (size_t j = 0; j < T.feeds[i].n; j++)
			cm_env_free(&T.decoded[i][j].env);
		free(T.decoded[i]);
	}
	gen_free(T.feeds);
	cm_register_free(&T.reg);
	report_forms_free(&T.forms);
	if (!getenv("KEEP_TMP"))
		cm_test_rmrf(T.dir);
	free(T.dir);
	return 0;
}

struct q {
	Donthu__V1__ReportQuery in;
	Donthu__V1__ReportReply *out;
};

static int q_txn(struct cm_txn *t, void *arg)
{
	struct q *q = arg;
	struct report_qctx x = {T.reg, T.forms, &T.mass, cm_day_from_ymd(2026, 12, 20)};
	return report_query_report(t, &x, &q->in, &q->out);
}

static Donthu__V1__ReportReply *run(struct cm_store *s, const char *form, const char *agency,
				    const char *period, bool sub)
{
	struct q q = {DONTHU__V1__REPORT_QUERY__INIT, NULL};

	q.in.form = (char *)form;
	q.in.agency = (char *)agency;
	q.in.period = (char *)period;
	q.in.include_subunits = sub;
	assert_int_equal(cm_store_read(s, q_txn, &q), 0);
	assert_non_null(q.out);
	if (q.out->error && strcmp(q.out->error->code, "truncated") != 0)
		fail_msg("%s: %s", form, q.out->error->message);
	return q.out;
}

static bool same_cell(const Donthu__V1__ReportCell *a, const Donthu__V1__ReportCell *b)
{
	if (a->v_case != b->v_case)
		return false;
	switch (a->v_case) {
	case DONTHU__V1__REPORT_CELL__V_I: return a->i == b->i;
	/* Both are the same integer sum divided by the same scale. */
	case DONTHU__V1__REPORT_CELL__V_D: return a->d == b->d;
	case DONTHU__V1__REPORT_CELL__V_S: return strcmp(a->s, b->s) == 0;
	default: return true;
	}
}

static size_t compare(const Donthu__V1__ReportReply *a, const Donthu__V1__ReportReply *b,
		      const char *what)
{
	size_t cells = 0;

	assert_int_equal(a->n_rows, b->n_rows);
	assert_int_equal(a->n_columns, b->n_columns);
	for (size_t i = 0; i < a->n_rows; i++) {
		assert_string_equal(a->rows[i]->agency, b->rows[i]->agency);
		assert_string_equal(a->rows[i]->label, b->rows[i]->label);
		assert_int_equal(a->rows[i]->n_cells, b->rows[i]->n_cells);
		for (size_t c = 0; c < a->rows[i]->n_cells; c++, cells++)
			if (!same_cell(a->rows[i]->cells[c], b->rows[i]->cells[c]))
				fail_msg("%s: row %s column %s differs", what, a->rows[i]->agency,
					 a->columns[c]->number);
	}
	return cells;
}

static void test_incremental_equals_rebuild(void **state)
{
	static const char *const periods[] = {
		"2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2026-6M", "2026-9M", "2026-Y",
		"2025-Q4", "2026-02", "2026-01-07..2026-11-23",
	};
	size_t cells = 0, nonzero = 0;

	(void)state;
	for (size_t s = 0; s < T.forms->nsets; s++) {
		const struct report_formset *set = &T.forms->sets[s];
		for (size_t f = 0; f < set->nforms; f++) {
			char code[64];
			snprintf(code, sizeof(code), "%s:%s", set->id, set->forms[f].code);
			for (size_t p = 0; p < CM_ARRAY_LEN(periods); p++) {
				Donthu__V1__ReportReply *r[3];
				char what[128];
				for (int v = 0; v < 3; v++)
					r[v] = run(T.st[v], code, "DN-UBND", periods[p], true);
				snprintf(what, sizeof(what), "%s %s", code, periods[p]);
				cells += compare(r[0], r[1], what);
				compare(r[0], r[2], what);
				for (size_t c = 0; c < r[0]->n_columns; c++) {
					const Donthu__V1__ReportCell *x =
						r[0]->rows[r[0]->n_rows - 1]->cells[c];
					nonzero += x->v_case == DONTHU__V1__REPORT_CELL__V_I ? x->i != 0
										       : x->d != 0;
				}
				for (int v = 0; v < 3; v++)
					donthu__v1__report_reply__free_unpacked(r[v], NULL);
			}
		}
	}
	print_message("compared %zu cells; %zu total-row cells are non-zero\n", cells, nonzero);
	/* The data must exercise the forms, not compare zeros with zeros. */
	assert_true(nonzero > 1000);
}

static void test_mass_list_equal(void **state)
{
	Donthu__V1__ReportReply *r[3];

	(void)state;
	for (int v = 0; v < 3; v++)
		r[v] = run(T.st[v], "mass", "DN-UBND", "2026-Y", true);
	assert_true(r[0]->n_rows > 10);
	compare(r[0], r[1], "mass");
	compare(r[0], r[2], "mass");
	for (int v = 0; v < 3; v++)
		donthu__v1__report_reply__free_unpacked(r[v], NULL);
}

/* A unit's own report equals its row in the province report, and the total
 * row is the sum of the rows. */
static void test_rollup_consistent(void **state)
{
	Donthu__V1__ReportReply *prov = run(T.st[0], "01/XLD", "DN-UBND", "2026-Y", true);
	size_t checked = 0;

	(void)state;
	for (size_t c = 0; c < prov->n_columns; c++) {
		int64_t sum = 0;
		for (size_t i = 0; i + 1 < prov->n_rows; i++)
			sum += prov->rows[i]->cells[c]->i;
		assert_int_equal(sum, prov->rows[prov->n_rows - 1]->cells[c]->i);
	}
	for (size_t i = 1; i + 1 < prov->n_rows && checked < 12; i += 7, checked++) {
		Donthu__V1__ReportReply *one =
			run(T.st[0], "01/XLD", prov->rows[i]->agency, "2026-Y", false);
		for (size_t c = 0; c < prov->n_columns; c++)
			assert_int_equal(one->rows[0]->cells[c]->i, prov->rows[i]->cells[c]->i);
		donthu__v1__report_reply__free_unpacked(one, NULL);
	}
	donthu__v1__report_reply__free_unpacked(prov, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_incremental_equals_rebuild),
		cmocka_unit_test(test_mass_list_equal),
		cmocka_unit_test(test_rollup_consistent),
	};
	return cmocka_run_group_tests_name("report_model", tests, setup, teardown);
}

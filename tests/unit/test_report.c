/*
 * test_report - the report service's pure logic and small hand-computed
 * scenarios: periods, the form language, every shipped TT 01/2024 form on a
 * handful of events whose expected table was worked out by hand, roll-up of
 * merged agencies, case lists, histories, the mass list, and the exports.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/register.h"
#include "common/store.h"
#include "export.h"
#include "forms.h"
#include "indicators.h"
#include "model.h"
#include "periods.h"
#include "query.h"
#include "schema.h"
#include "testsupport.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x
#define KIND(x) DONTHU__V1__PETITION_KIND__PETITION_KIND_##x
#define ACT(x) DONTHU__V1__CASE_ACTION__ACTION_##x
#define ST(x) DONTHU__V1__CASE_STATUS__CASE_STATUS_##x

/* ------------------------------------------------------------ periods --- */

static cm_day_t D(const char *s)
{
	cm_day_t d = 0;
	assert_int_equal(cm_day_parse(s, &d), 0);
	return d;
}

static void check_period(const struct report_periods *p, const char *spec, const char *from,
			 const char *to)
{
	cm_day_t f, t;
	assert_int_equal(report_period_resolve(p, spec, &f, &t), 0);
	assert_int_equal(f, D(from));
	assert_int_equal(t, D(to));
}

static void test_periods(void **state)
{
	struct report_periods p;
	cm_day_t f = 1, t = 2;

	(void)state;
	report_periods_default(&p);
	check_period(&p, "2026-Q1", "2025-12-15", "2026-03-14");
	check_period(&p, "2026-q2", "2026-03-15", "2026-06-14");
	check_period(&p, "2026-Q3", "2026-06-15", "2026-09-14");
	check_period(&p, "2026-Q4", "2026-09-15", "2026-12-14");
	check_period(&p, "2026-6M", "2025-12-15", "2026-06-14");
	check_period(&p, "2026-9M", "2025-12-15", "2026-09-14");
	check_period(&p, "2026-Y", "2025-12-15", "2026-12-14");
	check_period(&p, "2024-02", "2024-02-01", "2024-02-29");
	check_period(&p, "2025", "2025-01-01", "2025-12-31");
	check_period(&p, "2026-01-01..2026-01-31", "2026-01-01", "2026-01-31");
	assert_int_equal(report_period_resolve(&p, "2026-Q5", &f, &t), CM_EINVALID);
	assert_int_equal(report_period_resolve(&p, "2026-02-01..2026-01-01", &f, &t), CM_EINVALID);
	assert_int_equal(report_period_resolve(&p, "26-Q1", &f, &t), CM_EINVALID);
	assert_int_equal(report_period_resolve(&p, "2026-13", &f, &t), CM_EINVALID);
	assert_int_equal(f, 1);
	assert_int_equal(t, 2);
	/* A data file may define its own table. */
	p.n = 0;
	assert_int_equal(report_periods_add(&p, "H1", "01-01", "06-30"), 0);
	assert_int_equal(report_periods_add(&p, "H1", "01-01", "06-30"), CM_EINVALID);
	assert_int_equal(report_periods_add(&p, "X", "02-30", "06-30"), CM_EINVALID);
	assert_int_equal(report_periods_add(&p, "Y", "01-01", "-06-30"), CM_EINVALID);
	check_period(&p, "2026-H1", "2026-01-01", "2026-06-30");
}

/* ------------------------------------------------------- form language --- */

static void test_indicator_names(void **state)
{
	char buf[REPORT_IND_NAME_MAX];

	(void)state;
	for (unsigned i = 0; i < REPORT_IND_COUNT; i++) {
		assert_non_null(report_ind_name(i, buf));
		assert_int_equal(report_ind_lookup(buf), (int)i);
		assert_non_null(report_ind_help(i));
	}
	assert_null(report_ind_name(REPORT_IND_COUNT, buf));
	assert_int_equal(report_ind_lookup("xld.vv.kn.within"),
			 report_ind_xld(RU_VV, RK_KN, RXM_WITHIN));
	assert_int_equal(report_ind_lookup("gq.tc.next_right"), report_ind_gq(RK_TC, RGM_NEXT_RIGHT));
	assert_int_equal(report_ind_lookup("tcd.head.sessions"),
			 report_ind_tcd(RTC_HEAD, RTM_SESSIONS));
	assert_int_equal(report_ind_unit(report_ind_gq(RK_KN, RGM_MONEY_RECOVER)), RIU_VND);
	assert_int_equal(report_ind_unit(report_ind_gq(RK_KN, RGM_LAND_RETURN)), RIU_CM2);
	assert_true(report_ind_dim_is_day(report_ind_xld(RU_DON, RK_TC, RXM_HANDLED)));
	assert_false(report_ind_dim_is_day(report_ind_xld(RU_DON, RK_TC, RXM_ELIG)));
	assert_int_equal(report_ind_lookup("xld.vv.kn.nope"), -1);
}

static void test_expr(void **state)
{
	static const char *const groups[] = {"land", "dat-dai;nha-o", NULL};
	struct report_term *t;
	size_t n;
	const char *why;

	(void)state;
	assert_int_equal(report_expr_parse("before(xld.don.kn.recv) - before(xld.don.kn.handled) "
					   "+ range(xld.vv.kn.elig@land,y-te)",
					   groups, &t, &n, &why),
			 0);
	assert_int_equal(n, 3);
	assert_int_equal(t[0].mode, RFM_BEFORE);
	assert_int_equal(t[1].sign, -1);
	assert_int_equal(t[2].fsel, RFS_ONLY);
	assert_int_equal(t[2].nfields, 3);
	assert_string_equal(t[2].fields[0], "dat-dai");
	assert_string_equal(t[2].fields[2], "y-te");
	report_terms_free(t, n);
	assert_int_equal(report_expr_parse("upto(gq.kn.accept@!land,-)", groups, &t, &n, &why), 0);
	assert_int_equal(t[0].fsel, RFS_EXCEPT);
	assert_int_equal(t[0].nfields, 3);
	report_terms_free(t, n);
	assert_int_equal(report_expr_parse("0", groups, &t, &n, &why), 0);
	assert_int_equal(n, 0);
	assert_int_equal(report_expr_parse("0 + range(don.reply)", NULL, &t, &n, &why), CM_EINVALID);
	assert_int_equal(report_expr_parse("sum(don.reply)", NULL, &t, &n, &why), CM_EINVALID);
	assert_int_equal(report_expr_parse("range(don.nope)", NULL, &t, &n, &why), CM_EINVALID);
	assert_string_equal(why, "unknown indicator");
	assert_int_equal(report_expr_parse("range(don.reply) range(don.reply)", NULL, &t, &n, &why),
			 CM_EINVALID);
	assert_int_equal(report_expr_parse("range(don.reply@)", NULL, &t, &n, &why), CM_EINVALID);
	assert_int_equal(report_expr_parse("range(don.reply", NULL, &t, &n, &why), CM_EINVALID);
	assert_int_equal(report_expr_parse("", NULL, &t, &n, &why), CM_EINVALID);
}

static void expect_bad_set(const char *json, const char *needle)
{
	struct report_formset s;
	char err[300] = "";

	assert_int_equal(report_formset_parse(json, strlen(json), "t.json", &s, err, sizeof(err)),
			 CM_ECONFIG);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_formset_errors(void **state)
{
	struct report_formset s;
	const char *ok = "{\"set\":\"x\",\"forms\":[{\"code\":\"A\",\"title\":\"T\",\"columns\":"
			 "[{\"n\":\"1\",\"title\":\"c\",\"value\":\"range(don.reply)\"}]}]}";
	char err[300];

	(void)state;
	assert_int_equal(report_formset_parse(ok, strlen(ok), "t.json", &s, err, sizeof(err)), 0);
	assert_int_equal(s.nforms, 1);
	assert_int_equal(s.periods.n, 7); /* the default table */
	report_formset_clear(&s);
	expect_bad_set("{", "line");
	expect_bad_set("{\"forms\":[]}", "\"set\"");
	expect_bad_set("{\"set\":\"x\",\"forms\":[{\"code\":\"A\",\"title\":\"T\",\"columns\":"
		       "[{\"n\":\"1\",\"title\":\"c\",\"value\":\"range(xx)\"}]}]}",
		       "column 1: unknown indicator");
	expect_bad_set("{\"set\":\"x\",\"forms\":[{\"code\":\"A\",\"title\":\"T\",\"columns\":"
		       "[{\"n\":\"1\",\"title\":\"c\",\"value\":\"0\"},"
		       "{\"n\":\"1\",\"title\":\"d\",\"value\":\"0\"}]}]}",
		       "used twice");
	expect_bad_set("{\"set\":\"x\",\"forms\":[{\"code\":\"A\",\"title\":\"T\",\"columns\":"
		       "[{\"n\":\"1\",\"title\":\"c\",\"value\":\"0\",\"unit\":\"usd\"}]}]}",
		       "unit");
	expect_bad_set("{\"set\":\"x\",\"forms\":[{\"code\":\"A\",\"title\":\"T\",\"columns\":"
		       "[{\"n\":\"1\",\"title\":\"c\",\"value\":\"0\",\"colour\":1}]}]}",
		       "unknown key");
	expect_bad_set("{\"set\":\"x\",\"periods\":[{\"name\":\"Q1\",\"from\":\"12-32\",\"to\":\"03-14\"}],"
		       "\"forms\":[]}",
		       "periods[0]");
	expect_bad_set("{\"set\":\"x\",\"forms\":[{\"code\":\"A\",\"title\":\"T\",\"columns\":"
		       "[{\"n\":\"1\",\"title\":\"c\",\"value\":\"0\"}]},{\"code\":\"A\",\"title\":\"T\","
		       "\"columns\":[{\"n\":\"1\",\"title\":\"c\",\"value\":\"0\"}]}]}",
		       "defined twice");
}

static struct report_forms *shipped_forms(void)
{
	struct report_forms *f = NULL;
	char err[512] = "";

	if (report_forms_load(DONTHU_DATA_DIR "/forms", &f, err, sizeof(err)) != 0)
		fail_msg("shipped forms do not load: %s", err);
	return f;
}

static void test_shipped_forms(void **state)
{
	static const char *const tt01[] = {"01/TCD", "01/XLD", "02/XLD", "03/XLD", "04/XLD",
					   "01/KQGQ", "02/KQGQ", "03/KQGQ", "04/KQGQ"};
	struct report_forms *f = shipped_forms();
	const struct report_formset *set;
	const struct report_form *form;

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_LEN(tt01); i++) {
		form = report_forms_find(f, tt01[i], &set);
		assert_non_null(form);
		assert_string_equal(set->id, "tt01-2024");
		assert_false(set->provisional);
		assert_true(form->ncols > 10);
		/* Columns are numbered 1..n on every shipped form. */
		for (size_t c = 0; c < form->ncols; c++) {
			char n[24];
			snprintf(n, sizeof(n), "%zu", c + 1);
			assert_string_equal(form->cols[c].number, n);
		}
	}
	/* TT 06/2025 is marked provisional: an unqualified code prefers the
	 * TT 01/2024 form, and one only it has is still found. */
	assert_non_null(report_forms_find(f, "03/GQKN", &set));
	assert_string_equal(set->id, "tt06-2025");
	form = report_forms_find(f, "tt06-2025:01/TCD", &set);
	assert_non_null(form);
	assert_string_equal(set->id, "tt06-2025");
	assert_true(set->provisional);
	form = report_forms_find(f, "01/TCD", &set);
	assert_string_equal(set->id, "tt01-2024");
	assert_non_null(report_forms_find(f, "tt06-2025:05/KQTH", &set));
	assert_null(report_forms_find(f, "tt01-2024:05/KQTH", &set));
	assert_null(report_forms_find(f, "nope:01/TCD", &set));
	report_forms_free(&f);
}

/* ------------------------------------------------- scenario machinery --- */

struct world {
	char *dir;
	struct cm_store *store;
	struct cm_register *reg;
	struct report_forms *forms;
	struct report_model *model;
	struct report_mass_cfg mass;
	uint64_t seq[4];
};

static struct world W;

static int world_setup(void **state)
{
	struct cm_store_opts so = {0};
	char err[512] = "";
	static const char *const central[] = {"TTCP", "QH-*"};

	(void)state;
	memset(&W, 0, sizeof(W));
	W.dir = cm_test_tmpdir("report");
	so.path = W.dir;
	so.dbi_names = report_dbi_names;
	so.ndbi = REPORT_DB_COUNT;
	so.nosync = true;
	assert_int_equal(cm_store_open(&so, &W.store), 0);
	assert_int_equal(cm_store_write(W.store, report_schema_init, NULL), 0);
	if (cm_register_load(DONTHU_DATA_DIR "/register", &W.reg, err, sizeof(err)))
		fail_msg("register: %s", err);
	W.forms = shipped_forms();
	W.model = report_model_new(true);
	W.mass = (struct report_mass_cfg){5, 2, 6, 3, central, 2};
	return 0;
}

static int world_teardown(void **state)
{
	(void)state;
	cm_store_close(&W.store);
	cm_register_free(&W.reg);
	report_forms_free(&W.forms);
	report_model_free(&W.model);
	if (!getenv("KEEP_TMP"))
		cm_test_rmrf(W.dir);
	free(W.dir);
	return 0;
}

struct one {
	int producer;
	cm_env *env;
	uint8_t *raw;
	size_t len;
};

static int apply_txn(struct cm_txn *t, void *arg)
{
	struct one *o = arg;
	int rc;

	report_model_discard(W.model);
	rc = report_apply(W.model, t, o->producer, o->env, o->raw, o->len);
	return rc ? rc : report_model_flush(W.model, t);
}

/* Number, pack, decode and apply one event as the feed would deliver it. */
static void emit(int producer, cm_env *e, const char *case_number, int64_t at_ms)
{
	struct one o = {producer};
	static const char *const names[] = {"", "intake", "routing", "deadline"};

	e->schema_version = 1;
	e->producer = (char *)names[producer];
	e->sequence = ++W.seq[producer];
	e->case_number = (char *)(case_number ? case_number : "");
	e->occurred_at_ms = at_ms;
	assert_int_equal(cm_env_pack_alloc(e, &o.raw, &o.len), 0);
	assert_int_equal(cm_env_unpack(o.raw, o.len, &o.env), 0);
	assert_int_equal(cm_store_write(W.store, apply_txn, &o), 0);
	cm_env_free(&o.env);
	free(o.raw);
}

static int64_t ms_of(const char *day)
{
	return cm_day_start_ms(D(day)) + 9 * 3600 * 1000LL;
}

struct pet_opts {
	uint32_t signers;
	const char *field;
	bool second;
	bool prior;
	uint32_t delegation;
	const char *also_sent_to;
};

static void petition(const char *cn, const char *agency, int kind, const char *day,
		     const struct pet_opts *o)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__PetitionReceived pr = DONTHU__V1__PETITION_RECEIVED__INIT;
	Donthu__V1__Petition p = DONTHU__V1__PETITION__INIT;
	Donthu__V1__PriorDecision pd = DONTHU__V1__PRIOR_DECISION__INIT;
	char *sent[1];

	p.channel = DONTHU__V1__CHANNEL__CHANNEL_POST;
	p.received_at_ms = ms_of(day);
	p.receiving_agency = (char *)agency;
	p.kind = (Donthu__V1__PetitionKind)kind;
	p.signer_count = o && o->signers ? o->signers : 1;
	p.field = (char *)(o && o->field ? o->field : "");
	p.summary = "Tóm tắt nội dung";
	p.delegation_size = o ? o->delegation : 0;
	if (o && o->second)
		p.round = DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_SECOND;
	if (o && (o->prior || o->second)) {
		pd.number = "01/QĐ";
		pd.date = "2025-01-01";
		p.prior_decision = &pd;
	}
	if (o && o->also_sent_to) {
		sent[0] = (char *)o->also_sent_to;
		p.also_sent_to = sent;
		p.n_also_sent_to = 1;
	}
	pr.case_number = (char *)cn;
	pr.petition = &p;
	e.body_case = BODY(PETITION_RECEIVED);
	e.petition_received = &pr;
	emit(1, &e, cn, p.received_at_ms);
}

/* A case action; set exactly one of the action pointers in a. */
static void action(const char *cn, const char *agency, int kind, const char *day,
		   Donthu__V1__CaseAction *a, int before, int after)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__CaseActionRecorded car = DONTHU__V1__CASE_ACTION_RECORDED__INIT;

	a->case_number = (char *)cn;
	a->effective_at_ms = ms_of(day);
	car.case_number = (char *)cn;
	car.action = a;
	car.agency = (char *)agency;
	car.kind = (Donthu__V1__PetitionKind)kind;
	car.status_before = (Donthu__V1__CaseStatus)before;
	car.status_after = (Donthu__V1__CaseStatus)after;
	e.body_case = BODY(CASE_ACTION);
	e.case_action = &car;
	emit(1, &e, cn, a->effective_at_ms);
}

static void accept(const char *cn, const char *ag, int kind, const char *day)
{
	Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
	Donthu__V1__Accept acc = DONTHU__V1__ACCEPT__INIT;

	a.action_case = ACT(ACCEPT);
	a.accept = &acc;
	action(cn, ag, kind, day, &a, ST(RECEIVED), ST(ACCEPTED));
}

static void simple(const char *cn, const char *ag, int kind, const char *day, int which)
{
	Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
	Donthu__V1__Guide g = DONTHU__V1__GUIDE__INIT;
	Donthu__V1__Forward f = DONTHU__V1__FORWARD__INIT;
	Donthu__V1__Withdraw w = DONTHU__V1__WITHDRAW__INIT;
	Donthu__V1__Urge u = DONTHU__V1__URGE__INIT;
	int before = ST(RECEIVED), after = ST(RECEIVED);

	a.action_case = which;
	switch (which) {
	case ACT(GUIDE): a.guide = &g; after = ST(GUIDED); break;
	case ACT(FORWARD): a.forward = &f; after = ST(FORWARDED); break;
	case ACT(WITHDRAW): a.withdraw = &w; before = ST(ACCEPTED); after = ST(WITHDRAWN); break;
	case ACT(URGE): a.urge = &u; break;
	default: fail();
	}
	action(cn, ag, kind, day, &a, before, after);
}

static void decide(const char *cn, const char *ag, int kind, const char *day,
		   Donthu__V1__Decide *d)
{
	Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;

	a.action_case = ACT(DECIDE);
	a.decide = d;
	action(cn, ag, kind, day, &a, ST(ACCEPTED), ST(DECIDED));
}

static void enforce(const char *cn, const char *ag, int kind, const char *day,
		    Donthu__V1__Enforcement *en)
{
	Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;

	a.action_case = ACT(ENFORCEMENT);
	a.enforcement = en;
	action(cn, ag, kind, day, &a, ST(DECIDED), ST(DECIDED));
}

static void classified(const char *cn, int kind, bool within, const char *day)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__Classified c = DONTHU__V1__CLASSIFIED__INIT;

	c.case_number = (char *)cn;
	c.content_kind = (Donthu__V1__PetitionKind)kind;
	c.eligible = true;
	c.within_competence = within;
	e.body_case = BODY(CLASSIFIED);
	e.classified = &c;
	emit(2, &e, cn, ms_of(day));
}

static void duplicate(const char *cn, const char *orig, bool repeat, const char *day)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__DuplicateLinked d = DONTHU__V1__DUPLICATE_LINKED__INIT;

	d.case_number = (char *)cn;
	d.original_case = (char *)orig;
	d.repeat = repeat;
	e.body_case = BODY(DUPLICATE_LINKED);
	e.duplicate_linked = &d;
	emit(2, &e, cn, ms_of(day));
}

static void clock_stopped(const char *cn, const char *ag, const char *stage, const char *day,
			  bool met)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ClockStopped s = DONTHU__V1__CLOCK_STOPPED__INIT;
	char id[80];

	snprintf(id, sizeof(id), "%s/%s", cn, stage);
	s.case_number = (char *)cn;
	s.clock_id = id;
	s.stage = (char *)stage;
	s.completed_date = (char *)day;
	s.met = met;
	s.agency = (char *)ag;
	e.body_case = BODY(CLOCK_STOPPED);
	e.clock_stopped = &s;
	emit(3, &e, cn, ms_of(day));
}

struct rec_opts {
	int kind;	/* ReceptionKind */
	bool head;
	uint32_t citizens;
	const char *case_number;
	const char *prior;
	bool refused;
};

static void reception(const char *ag, const char *day, const struct rec_opts *o)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ReceptionRecorded rr = DONTHU__V1__RECEPTION_RECORDED__INIT;
	Donthu__V1__ReceptionRecord r = DONTHU__V1__RECEPTION_RECORD__INIT;

	r.agency = (char *)ag;
	r.received_at_ms = ms_of(day);
	r.reception_kind = (Donthu__V1__ReceptionKind)o->kind;
	r.head_role = o->head ? DONTHU__V1__HEAD_ROLE__HEAD_ROLE_COMMUNE_CHAIRMAN : 0;
	r.citizen_count = o->citizens;
	r.case_number = (char *)(o->case_number ? o->case_number : "");
	r.prior_handling = (char *)(o->prior ? o->prior : "");
	r.refused = o->refused;
	rr.record_id = "R";
	rr.record = &r;
	e.body_case = BODY(RECEPTION_RECORDED);
	e.reception_recorded = &rr;
	emit(1, &e, o->case_number, r.received_at_ms);
}

struct q {
	const Donthu__V1__ReportQuery *in;
	Donthu__V1__ReportReply *out;
	struct report_qctx x;
};

static int query_txn(struct cm_txn *t, void *arg)
{
	struct q *q = arg;
	return report_query_report(t, &q->x, q->in, &q->out);
}

static struct report_qctx qctx(void)
{
	struct report_qctx x = {W.reg, W.forms, &W.mass, D("2026-06-01")};
	return x;
}

static Donthu__V1__ReportReply *report(const char *form, const char *agency, const char *period,
				       bool sub)
{
	Donthu__V1__ReportQuery in = DONTHU__V1__REPORT_QUERY__INIT;
	struct q q = {&in, NULL, qctx()};

	in.form = (char *)form;
	in.agency = (char *)agency;
	in.period = (char *)period;
	in.include_subunits = sub;
	assert_int_equal(cm_store_read(W.store, query_txn, &q), 0);
	assert_non_null(q.out);
	if (q.out->error)
		fail_msg("%s %s %s: %s: %s", form, agency, period, q.out->error->code,
			 q.out->error->message);
	return q.out;
}

/* The value of column `number` in the row of agency (NULL: the total row),
 * as an integer (doubles are money or land and compared *100). */
static int64_t cell(const Donthu__V1__ReportReply *r, const char *agency, int number)
{
	char n[24];
	size_t col = SIZE_MAX;

	snprintf(n, sizeof(n), "%d", number);
	for (size_t c = 0; c < r->n_columns; c++)
		if (strcmp(r->columns[c]->number, n) == 0)
			col = c;
	assert_true(col != SIZE_MAX);
	for (size_t i = 0; i < r->n_rows; i++) {
		const Donthu__V1__ReportRow *row = r->rows[i];
		if (agency ? (!row->total && strcmp(row->agency, agency) == 0) : row->total) {
			const Donthu__V1__ReportCell *c = row->cells[col];
			if (c->v_case == DONTHU__V1__REPORT_CELL__V_D)
				return (int64_t)llround(c->d * 100);
			assert_int_equal(c->v_case, DONTHU__V1__REPORT_CELL__V_I);
			return c->i;
		}
	}
	fail_msg("no row for %s", agency ? agency : "(total)");
	return 0;
}

/* Compare a whole row: expected[i] is column i+1 (doubles *100). */
static void expect_row(const Donthu__V1__ReportReply *r, const char *agency, const int64_t *exp,
		       size_t n)
{
	assert_int_equal(r->n_columns, n);
	for (size_t i = 0; i < n; i++) {
		int64_t got = cell(r, agency, (int)i + 1);
		if (got != exp[i])
			fail_msg("%s row %s column %zu: expected %lld, got %lld", r->form,
				 agency ? agency : "total", i + 1, (long long)exp[i],
				 (long long)got);
	}
}

/* ---------------------------------------------------------- scenarios --- */

#define X "UBND-20242"	/* Hải Châu: complaints */
#define Y "UBND-20257"	/* Hòa Cường: denunciations */
#define Z "UBND-20209"	/* Thanh Khê: kiến nghị, phản ánh */
#define WW "UBND-20305" /* An Khê: the reception book */

static void load_scenarios(void)
{
	struct pet_opts o;

	/* ---- complaints at X (and one at X's predecessor district) ---- */
	petition("C0", "UBND-OLD-HAICHAU", KIND(COMPLAINT), "2025-06-01",
		 &(struct pet_opts){.field = "dat-dai"});
	petition("C1", X, KIND(COMPLAINT), "2025-12-01", &(struct pet_opts){.field = "dat-dai"});
	accept("C1", X, KIND(COMPLAINT), "2025-12-20");
	{
		Donthu__V1__Decide d = DONTHU__V1__DECIDE__INIT;
		d.outcome = DONTHU__V1__DECISION_OUTCOME__DECISION_OUTCOME_PARTLY_RIGHT;
		d.money_to_recover_vnd = 5000000;
		d.land_to_recover_m2 = 12.5;
		d.people_to_sanction = 2;
		decide("C1", X, KIND(COMPLAINT), "2026-01-10", &d);
	}
	{
		Donthu__V1__Enforcement en = DONTHU__V1__ENFORCEMENT__INIT;
		en.money_recovered_vnd = 3000000;
		en.completed = true;
		enforce("C1", X, KIND(COMPLAINT), "2026-02-01", &en);
	}
	o = (struct pet_opts){.signers = 6, .field = "lao-dong", .second = true};
	petition("C2", X, KIND(COMPLAINT), "2026-01-05", &o);
	accept("C2", X, KIND(COMPLAINT), "2026-01-06");
	{
		Donthu__V1__Decide d = DONTHU__V1__DECIDE__INIT;
		d.effect = DONTHU__V1__DECISION_EFFECT__DECISION_EFFECT_ANNULLED;
		decide("C2", X, KIND(COMPLAINT), "2026-03-01", &d);
	}
	clock_stopped("C2", X, "kn.resolve.r2", "2026-03-01", false);
	petition("C3", X, KIND(COMPLAINT), "2026-02-01", &(struct pet_opts){.field = "giao-duc"});
	classified("C3", KIND(COMPLAINT), false, "2026-02-02");
	simple("C3", X, KIND(COMPLAINT), "2026-02-03", ACT(GUIDE));
	petition("C4", X, KIND(COMPLAINT), "2026-02-10",
		 &(struct pet_opts){.field = "dat-dai", .prior = true});
	duplicate("C4", "C1", true, "2026-02-11");
	simple("C4", X, KIND(COMPLAINT), "2026-02-12", ACT(GUIDE));
	petition("C5", X, KIND(COMPLAINT), "2026-03-10", NULL);
	simple("C5", X, KIND(COMPLAINT), "2026-03-12", ACT(URGE));
	petition("C6", X, KIND(COMPLAINT), "2026-03-20", NULL);

	/* ---- denunciations at Y, and one at the merged province ---- */
	petition("Q1", "QN-UBND", KIND(DENUNCIATION), "2025-03-01", NULL);
	accept("Q1", "QN-UBND", KIND(DENUNCIATION), "2025-03-05");
	petition("T1", Y, KIND(DENUNCIATION), "2026-01-02",
		 &(struct pet_opts){.field = "phong-chong-tham-nhung"});
	accept("T1", Y, KIND(DENUNCIATION), "2026-01-05");
	{
		Donthu__V1__Decide d = DONTHU__V1__DECIDE__INIT;
		d.outcome = DONTHU__V1__DECISION_OUTCOME__DECISION_OUTCOME_RIGHT;
		d.conclusion = true;
		d.people_referred = 1;
		d.money_to_return_vnd = 2000000;
		decide("T1", Y, KIND(DENUNCIATION), "2026-02-10", &d);
	}
	{
		Donthu__V1__Enforcement en = DONTHU__V1__ENFORCEMENT__INIT;
		en.money_returned_vnd = 2000000;
		en.completed = true;
		enforce("T1", Y, KIND(DENUNCIATION), "2026-03-01", &en);
	}
	petition("T2", Y, KIND(DENUNCIATION), "2026-01-20",
		 &(struct pet_opts){.field = "to-chuc-can-bo"});
	duplicate("T2", "T1", true, "2026-01-21");
	accept("T2", Y, KIND(DENUNCIATION), "2026-01-25");
	{
		Donthu__V1__Decide d = DONTHU__V1__DECIDE__INIT;
		d.outcome = DONTHU__V1__DECISION_OUTCOME__DECISION_OUTCOME_WRONG;
		decide("T2", Y, KIND(DENUNCIATION), "2026-03-05", &d);
	}
	petition("T3", Y, KIND(DENUNCIATION), "2026-02-01", &(struct pet_opts){.field = "dat-dai"});
	simple("T3", Y, KIND(DENUNCIATION), "2026-02-02", ACT(FORWARD));
	petition("T4", Y, KIND(DENUNCIATION), "2026-02-15", &(struct pet_opts){.field = "dat-dai"});
	accept("T4", Y, KIND(DENUNCIATION), "2026-02-16");
	simple("T4", Y, KIND(DENUNCIATION), "2026-03-01", ACT(WITHDRAW));

	/* ---- kiến nghị, phản ánh at Z ---- */
	petition("P1", Z, KIND(FEEDBACK), "2026-02-01", &(struct pet_opts){.field = "dat-dai"});
	accept("P1", Z, KIND(FEEDBACK), "2026-02-02");
	{
		Donthu__V1__Decide d = DONTHU__V1__DECIDE__INIT;
		decide("P1", Z, KIND(FEEDBACK), "2026-02-20", &d);
	}
	petition("P2", Z, KIND(RECOMMENDATION), "2026-02-05",
		 &(struct pet_opts){.also_sent_to = "TTCP"});
	simple("P2", Z, KIND(RECOMMENDATION), "2026-02-06", ACT(FORWARD));
	petition("P3", Z, KIND(FEEDBACK), "2026-02-07", &(struct pet_opts){.field = "y-te"});

	/* ---- the reception book at WW ---- */
	reception(WW, "2026-01-10", &(struct rec_opts){.kind = 1, .citizens = 1});
	reception(WW, "2026-01-11", &(struct rec_opts){.kind = 1, .citizens = 7, .prior = "đã trả lời"});
	reception(WW, "2026-01-15",
		  &(struct rec_opts){.kind = 2, .head = true, .citizens = 2, .case_number = "CX"});
	reception(WW, "2026-01-15",
		  &(struct rec_opts){.kind = 2, .head = true, .citizens = 1, .case_number = "CX"});
	reception(WW, "2026-02-01", &(struct rec_opts){.kind = 3, .citizens = 1});
	reception(WW, "2026-02-02", &(struct rec_opts){.kind = 1, .citizens = 3, .refused = true});
}

static int scen_setup(void **state)
{
	world_setup(state);
	load_scenarios();
	return 0;
}

static void test_xld02(void **state)
{
	/* carried: C0 (old district, merged into X) and C1; received C2..C5. */
	static const int64_t e[] = {6, 2, 4, 4, 1, 3, 4, 3, 3, 1, 1, 1, 0, 0, 0,
				    1, 0, 0, 2, 2, 1, 1, 2, 1, 1, 0};
	Donthu__V1__ReportReply *r = report("02/XLD", X, "2026-Q1", false);

	(void)state;
	assert_string_equal(r->title, "TỔNG HỢP KẾT QUẢ XỬ LÝ ĐƠN KHIẾU NẠI");
	assert_string_equal(r->from_date, "2025-12-15");
	assert_string_equal(r->to_date, "2026-03-14");
	expect_row(r, X, e, CM_ARRAY_LEN(e));
	expect_row(r, NULL, e, CM_ARRAY_LEN(e));
	donthu__v1__report_reply__free_unpacked(r, NULL);
	/* The province with its sub-units: X's row is the same, and the
	 * total adds nothing else for complaints. */
	r = report("02/XLD", "DN-UBND", "2026-Q1", true);
	expect_row(r, X, e, CM_ARRAY_LEN(e));
	expect_row(r, NULL, e, CM_ARRAY_LEN(e));
	assert_int_equal(cell(r, "DN-UBND", 1), 0);
	donthu__v1__report_reply__free_unpacked(r, NULL);
	/* A range starting mid-month (read from day rows only): C2 was
	 * received the day before it, C3 and C4 inside it. */
	{
		Donthu__V1__ReportQuery in = DONTHU__V1__REPORT_QUERY__INIT;
		struct q q = {&in, NULL, qctx()};
		in.form = "02/XLD";
		in.agency = (char *)X;
		in.from_date = "2026-01-06";
		in.to_date = "2026-02-20";
		assert_int_equal(cm_store_read(W.store, query_txn, &q), 0);
		assert_int_equal(cell(q.out, X, 4), 3);
		assert_int_equal(cell(q.out, X, 5), 1);
		assert_int_equal(cell(q.out, X, 6), 2);
		donthu__v1__report_reply__free_unpacked(q.out, NULL);
	}
	/* Next quarter: C5 carried over, C6 received. */
	r = report("02/XLD", X, "2026-Q2", false);
	assert_int_equal(cell(r, X, 2), 2); /* C0 and C5 */
	assert_int_equal(cell(r, X, 3), 1); /* C6 */
	assert_int_equal(cell(r, X, 4), 0);
	donthu__v1__report_reply__free_unpacked(r, NULL);
}

static void test_xld03(void **state)
{
	static const int64_t e[] = {4, 0, 4, 4, 0, 4, 4, 3, 2, 0, 2, 0, 0, 1, 0, 0, 0,
				    0, 0, 3, 2, 2, 0, 1, 1, 0, 0};
	Donthu__V1__ReportReply *r = report("03/XLD", Y, "2026-Q1", false);

	(void)state;
	expect_row(r, Y, e, CM_ARRAY_LEN(e));
	donthu__v1__report_reply__free_unpacked(r, NULL);
}

static void test_xld04_and_01(void **state)
{
	static const int64_t e4[] = {3, 0, 3, 2, 0, 2, 2, 2, 0, 1, 0, 1, 0, 2, 1, 1, 1, 0, 1, 0};
	static const int64_t e1[] = {3, 0, 0, 0, 3, 2, 1, 2, 2, 0, 0, 2,
				     0, 0, 2, 1, 0, 0, 1, 1, 0, 1, 0, 0};
	Donthu__V1__ReportReply *r = report("04/XLD", Z, "2026-Q1", false);

	(void)state;
	expect_row(r, Z, e4, CM_ARRAY_LEN(e4));
	donthu__v1__report_reply__free_unpacked(r, NULL);
	r = report("01/XLD", Z, "2026-Q1", false);
	expect_row(r, Z, e1, CM_ARRAY_LEN(e1));
	donthu__v1__report_reply__free_unpacked(r, NULL);
	/* 01/XLD for X: C2 has six signers (several), the others one. */
	r = report("01/XLD", X, "2026-Q1", false);
	assert_int_equal(cell(r, X, 1), 6);
	assert_int_equal(cell(r, X, 2), 0);	/* carried, several signers */
	assert_int_equal(cell(r, X, 3), 2);	/* carried, one signer: C0, C1 */
	assert_int_equal(cell(r, X, 4), 1);	/* received, several: C2 */
	assert_int_equal(cell(r, X, 5), 3);
	assert_int_equal(cell(r, X, 6), 4);
	assert_int_equal(cell(r, X, 7), 2);	/* C0 and C5 wait */
	assert_int_equal(cell(r, X, 23), 1);	/* the urge */
	donthu__v1__report_reply__free_unpacked(r, NULL);
}

static void test_kqgq01_02(void **state)
{
	/* money in million VND and land in m², both *100 here */
	static const int64_t e1[] = {2, 0, 2, 2, 2, 2, 0, 500, 1250, 0, 0, 0, 0, 0,
				     0, 2, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1};
	static const int64_t e2[] = {2, 1, 500, 1250, 300, 0, 0, 0, 0, 0,
				     0, 0, 0, 0, 0, 0, 0, 0, 0};
	Donthu__V1__ReportReply *r = report("01/KQGQ", X, "2026-Q1", false);

	(void)state;
	expect_row(r, X, e1, CM_ARRAY_LEN(e1));
	donthu__v1__report_reply__free_unpacked(r, NULL);
	r = report("02/KQGQ", X, "2026-Q1", false);
	expect_row(r, X, e2, CM_ARRAY_LEN(e2));
	donthu__v1__report_reply__free_unpacked(r, NULL);
}

static void test_kqgq03_04(void **state)
{
	static const int64_t e3[] = {3, 0, 3, 3, 1, 3, 1, 1, 1, 0, 0, 0, 200, 0,
				     0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0};
	static const int64_t e4[] = {2, 1, 0, 0, 0, 0, 200, 0, 200, 0, 0, 0, 0};
	Donthu__V1__ReportReply *r = report("03/KQGQ", Y, "2026-Q1", false);

	(void)state;
	expect_row(r, Y, e3, CM_ARRAY_LEN(e3));
	donthu__v1__report_reply__free_unpacked(r, NULL);
	r = report("04/KQGQ", Y, "2026-Q1", false);
	expect_row(r, Y, e4, CM_ARRAY_LEN(e4));
	donthu__v1__report_reply__free_unpacked(r, NULL);
	/* QN-UBND merged into DN-UBND: its open denunciation is carried over
	 * under the province's own row. */
	r = report("03/KQGQ", "DN-UBND", "2026-Q1", true);
	assert_int_equal(cell(r, "DN-UBND", 2), 1);
	assert_int_equal(cell(r, Y, 3), 3);
	assert_int_equal(cell(r, NULL, 1), 4);
	donthu__v1__report_reply__free_unpacked(r, NULL);
	r = report("03/KQGQ", "DN-UBND", "2026-Q1", false);
	assert_int_equal(r->n_rows, 2);
	assert_int_equal(cell(r, "DN-UBND", 2), 1);
	assert_int_equal(cell(r, "DN-UBND", 3), 0);
	donthu__v1__report_reply__free_unpacked(r, NULL);
}

static void test_tcd01(void **state)
{
	static const int64_t e[] = {5, 12, 5, 2, 8, 1, 1, 1, 7, 0, 1, 1, 2, 3, 1,
				    1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0};
	Donthu__V1__ReportReply *r = report("01/TCD", WW, "2026-Q1", false);

	(void)state;
	expect_row(r, WW, e, CM_ARRAY_LEN(e));
	donthu__v1__report_reply__free_unpacked(r, NULL);
	/* The provisional TT 06/2025 01/TCD reuses the layout. */
	r = report("tt06-2025:01/TCD", WW, "2026-Q1", false);
	expect_row(r, WW, e, CM_ARRAY_LEN(e));
	assert_non_null(strstr(r->form_version, "tt06-2025"));
	donthu__v1__report_reply__free_unpacked(r, NULL);
}

static void test_bad_queries(void **state)
{
	Donthu__V1__ReportQuery in = DONTHU__V1__REPORT_QUERY__INIT;
	struct q q = {&in, NULL, qctx()};
	static const struct {
		const char *form, *agency, *period, *code;
	} cases[] = {
		{"99/XLD", X, "2026-Q1", "unknown_form"},
		{"01/XLD", "NOPE", "2026-Q1", "unknown_agency"},
		{"01/XLD", X, "2026-Q9", "invalid_period"},
		{"01/XLD", "", "2026-Q1", "missing_field"},
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_LEN(cases); i++) {
		in.form = (char *)cases[i].form;
		in.agency = (char *)cases[i].agency;
		in.period = (char *)cases[i].period;
		assert_int_equal(cm_store_read(W.store, query_txn, &q), 0);
		assert_non_null(q.out->error);
		assert_string_equal(q.out->error->code, cases[i].code);
		donthu__v1__report_reply__free_unpacked(q.out, NULL);
	}
	in.form = "01/XLD";
	in.agency = (char *)X;
	in.period = "";
	in.from_date = "2026-01-01";
	in.to_date = "2026-01-31";
	assert_int_equal(cm_store_read(W.store, query_txn, &q), 0);
	assert_null(q.out->error);
	assert_string_equal(q.out->from_date, "2026-01-01");
	assert_int_equal(cell(q.out, X, 5), 0);	/* C2 has six signers */
	assert_int_equal(cell(q.out, X, 4), 1);
	donthu__v1__report_reply__free_unpacked(q.out, NULL);
}

struct lq {
	const Donthu__V1__CaseListQuery *in;
	Donthu__V1__CaseListReply *out;
	const char *cn;
	Donthu__V1__CaseHistoryReply *hist;
};

static int list_txn(struct cm_txn *t, void *arg)
{
	struct lq *q = arg;
	struct report_qctx x = qctx();
	if (q->cn)
		return report_query_history(t, &x, q->cn, &q->hist);
	return report_query_cases(t, &x, q->in, &q->out);
}

static void test_case_list_and_history(void **state)
{
	Donthu__V1__CaseListQuery in = DONTHU__V1__CASE_LIST_QUERY__INIT;
	struct lq q = {&in, NULL, NULL, NULL};
	const char *prev = "";

	(void)state;
	in.agency = (char *)X;
	in.kind = KIND(COMPLAINT);
	assert_int_equal(cm_store_read(W.store, list_txn, &q), 0);
	assert_null(q.out->error);
	/* C0 (old district resolved to X), C1..C6 */
	assert_int_equal(q.out->n_cases, 7);
	for (size_t i = 0; i < q.out->n_cases; i++) {
		assert_true(strcmp(q.out->cases[i]->case_number, prev) > 0);
		prev = q.out->cases[i]->case_number;
	}
	donthu__v1__case_list_reply__free_unpacked(q.out, NULL);
	in.status = ST(DECIDED);
	assert_int_equal(cm_store_read(W.store, list_txn, &q), 0);
	assert_int_equal(q.out->n_cases, 2);
	assert_string_equal(q.out->cases[1]->case_number, "C2");
	assert_int_equal(q.out->cases[1]->signer_count, 6);
	assert_int_equal(q.out->cases[1]->n_criteria, 1);
	assert_string_equal(q.out->cases[1]->criteria[0], "many_signers");
	donthu__v1__case_list_reply__free_unpacked(q.out, NULL);
	/* paging */
	in.status = 0;
	in.limit = 3;
	assert_int_equal(cm_store_read(W.store, list_txn, &q), 0);
	assert_int_equal(q.out->n_cases, 3);
	in.after_case = cm_xstrdup(q.out->cases[2]->case_number);
	donthu__v1__case_list_reply__free_unpacked(q.out, NULL);
	assert_int_equal(cm_store_read(W.store, list_txn, &q), 0);
	assert_int_equal(q.out->n_cases, 3);
	assert_true(strcmp(q.out->cases[0]->case_number, in.after_case) > 0);
	free(in.after_case);
	donthu__v1__case_list_reply__free_unpacked(q.out, NULL);

	/* History of C1: petition, accept, decide, enforcement (intake) and
	 * the DuplicateLinked naming it as original (routing), in time order. */
	q.cn = "C1";
	assert_int_equal(cm_store_read(W.store, list_txn, &q), 0);
	assert_null(q.hist->error);
	assert_string_equal(q.hist->summary->case_number, "C1");
	assert_int_equal(q.hist->summary->repeat_count, 1);
	assert_int_equal(q.hist->n_events, 5);
	{
		int64_t last = 0;
		static const int bodies[] = {BODY(PETITION_RECEIVED), BODY(CASE_ACTION),
					     BODY(CASE_ACTION), BODY(CASE_ACTION),
					     BODY(DUPLICATE_LINKED)};
		for (size_t i = 0; i < q.hist->n_events; i++) {
			cm_env *ev = NULL;
			assert_int_equal(cm_env_unpack(q.hist->events[i].data, q.hist->events[i].len,
						       &ev),
					 0);
			assert_true(ev->occurred_at_ms >= last);
			last = ev->occurred_at_ms;
			assert_int_equal(ev->body_case, bodies[i]);
			cm_env_free(&ev);
		}
	}
	donthu__v1__case_history_reply__free_unpacked(q.hist, NULL);
	q.cn = "NOPE";
	assert_int_equal(cm_store_read(W.store, list_txn, &q), 0);
	assert_string_equal(q.hist->error->code, "unknown_case");
	donthu__v1__case_history_reply__free_unpacked(q.hist, NULL);
}

static void test_mass_list(void **state)
{
	Donthu__V1__ReportReply *r = report("mass", "DN-UBND", "2026-Q2", true);
	bool c2 = false, p2 = false, c0 = false;

	(void)state;
	for (size_t i = 0; i < r->n_rows; i++) {
		const Donthu__V1__ReportRow *row = r->rows[i];
		const char *crit = row->total ? "" : row->cells[8]->s;
		if (row->total) {
			assert_int_equal(row->cells[0]->i, (int64_t)r->n_rows - 1);
			continue;
		}
		if (strcmp(row->label, "C2") == 0)
			c2 = strstr(crit, "many_signers") != NULL;
		if (strcmp(row->label, "P2") == 0)
			p2 = strstr(crit, "sent_central") != NULL;
		/* received 2025-06-01 and still open on 2026-06-14 */
		if (strcmp(row->label, "C0") == 0)
			c0 = strstr(crit, "prolonged") != NULL;
	}
	assert_true(c2);
	assert_true(p2);
	assert_true(c0);
	donthu__v1__report_reply__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------- exports --- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = cm_xmalloc(1 << 20);

	assert_non_null(f);
	*len = fread(b, 1, (1 << 20) - 1, f);
	b[*len] = '\0';
	fclose(f);
	return b;
}

static void test_exports(void **state)
{
	Donthu__V1__ReportReply *r = report("01/KQGQ", "DN-UBND", "2026-Q1", true);
	char *csv = cm_xasprintf("%s/r.csv", W.dir), *js = cm_xasprintf("%s/r.json", W.dir);
	char *xl = cm_xasprintf("%s/r.xlsx", W.dir), *b;
	json_error_t je;
	json_t *j;
	size_t len, lines = 0;

	(void)state;
	assert_int_equal(report_export_file(r, csv, 0), 0);
	b = slurp(csv, &len);
	assert_memory_equal(b, "\xEF\xBB\xBF", 3);
	assert_non_null(strstr(b, "TỔNG HỢP KẾT QUẢ GIẢI QUYẾT KHIẾU NẠI THUỘC THẨM QUYỀN"));
	assert_non_null(strstr(b, "Số liệu tính từ ngày,15/12/2025,đến ngày,14/03/2026"));
	assert_non_null(strstr(b, "Kiến nghị thu hồi cho Nhà nước"));
	assert_non_null(strstr(b, "Tổng cộng"));
	assert_non_null(strstr(b, ",5.00,12.50,"));
	for (size_t i = 0; i < len; i++)
		lines += b[i] == '\n';
	/* 4 title lines, 4 header rows (3 group levels + titles), numbers,
	 * one row per agency, the total */
	assert_int_equal(lines, 4 + 4 + 1 + r->n_rows);
	free(b);

	assert_int_equal(report_export_file(r, js, 0), 0);
	j = json_load_file(js, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "form")), "01/KQGQ");
	assert_int_equal(json_array_size(json_object_get(j, "rows")), r->n_rows);
	assert_int_equal(json_array_size(json_object_get(j, "columns")), 27);
	json_decref(j);

	assert_int_equal(report_export_file(r, xl, 0), 0);
	b = slurp(xl, &len);
	assert_true(len > 1000);
	assert_memory_equal(b, "PK", 2); /* a zip container */
	free(b);

	assert_int_equal(report_export_file(r, "/tmp/x.pdf", 0), -EINVAL);
	assert_int_equal(report_format_parse("XLSX"), REPORT_FMT_XLSX);
	free(csv);
	free(js);
	free(xl);
	donthu__v1__report_reply__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------ codecs --- */

static void test_case_codec(void **state)
{
	struct report_case c, d;
	uint8_t buf[REPORT_CASE_ENC_MAX];
	size_t n;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.has_intake = 1;
	c.kind = 2;
	snprintf(c.agency, sizeof(c.agency), "UBND-20242");
	snprintf(c.summary, sizeof(c.summary), "Đường ngập");
	c.received = 20500;
	c.money_recover = 123456789012LL;
	c.nenf = 2;
	c.enf[1].land_rec = 77;
	c.nclocks = 1;
	c.clocks[0].id = 42;
	c.clocks[0].due = 20600;
	c.clocks[0].overdue = 1;
	snprintf(c.dup_of, sizeof(c.dup_of), "A-1");
	n = report_case_encode(&c, buf);
	assert_true(n < REPORT_CASE_ENC_MAX);
	assert_int_equal(report_case_decode(buf, n, &d), 0);
	assert_memory_equal(&c, &d, sizeof(c));
	assert_true(report_case_overdue(&d));
	assert_int_equal(report_case_next_due(&d), 20600);
	assert_int_equal(report_case_decode(buf, n - 1, &d), CM_ECORRUPT);
	buf[0] = 9;
	assert_int_equal(report_case_decode(buf, n, &d), CM_ECORRUPT);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_periods),
		cmocka_unit_test(test_indicator_names),
		cmocka_unit_test(test_expr),
		cmocka_unit_test(test_formset_errors),
		cmocka_unit_test(test_shipped_forms),
		cmocka_unit_test(test_case_codec),
	};
	const struct CMUnitTest scen[] = {
		cmocka_unit_test(test_xld02),
		cmocka_unit_test(test_xld03),
		cmocka_unit_test(test_xld04_and_01),
		cmocka_unit_test(test_kqgq01_02),
		cmocka_unit_test(test_kqgq03_04),
		cmocka_unit_test(test_tcd01),
		cmocka_unit_test(test_bad_queries),
		cmocka_unit_test(test_case_list_and_history),
		cmocka_unit_test(test_mass_list),
		cmocka_unit_test(test_exports),
	};
	int rc = cmocka_run_group_tests_name("report_pure", pure, NULL, NULL);

	return rc | cmocka_run_group_tests_name("report_scenarios", scen, scen_setup,
						world_teardown);
}

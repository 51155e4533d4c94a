/*
 * test_deadline_timers.c - the clock engine (services/deadline/timers.c)
 * over a temporary store, the shipped policy and the shipped calendars.
 *
 * Events are fed as the consumers would (one write transaction each) and
 * "now" is passed to dl_engine_raise() directly, so months of deadlines run
 * in milliseconds. Every date below is worked out by hand in its comment.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/feed.h"
#include "common/mem.h"
#include "common/store.h"
#include "testsupport.h"
#include "timers.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x
#define LVL(x) DONTHU__V1__ESCALATION_LEVEL__ESCALATION_LEVEL_##x
#define REASON(x) DONTHU__V1__ESCALATION_REASON__ESCALATION_REASON_##x
#define KIND(x) DONTHU__V1__PETITION_KIND__PETITION_KIND_##x

struct fx {
	char *dir;
	struct cm_store *store;
	struct cm_feed *feed;
	struct cal *cal;
	struct dl_policy *pol;
	struct dl_engine e;
	uint64_t seen;		/* feed events already looked at */
	cm_env **ev;		/* events since the last take() */
	size_t nev;
};

static cm_day_t D(int y, int m, int d)
{
	return cm_day_from_ymd(y, m, d);
}

/* 09:00 local on a day. */
static int64_t AT(int y, int m, int d)
{
	return cm_day_start_ms(D(y, m, d)) + 9 * 3600 * 1000LL;
}

/* 00:00 local, when escalations of that day come due. */
static int64_t MIDNIGHT(int y, int m, int d)
{
	return cm_day_start_ms(D(y, m, d));
}

static void open_store(struct fx *f)
{
	struct cm_store_opts so = {.path = f->dir, .dbi_names = dl_dbi_names, .ndbi = DL_DB_COUNT};
	struct cm_feed_opts fo = {.producer = "deadline", .log_dbi = DL_DB_LOG};

	assert_int_equal(cm_store_open(&so, &f->store), 0);
	assert_int_equal(cm_store_write(f->store, dl_schema_init, NULL), 0);
	assert_int_equal(cm_feed_new(f->store, &fo, &f->feed), 0);
	f->e = (struct dl_engine){
		.feed = f->feed,
		.cal = f->cal,
		.pol = f->pol,
		.lv = {.warning_wd = 3,
		       .head_after_wd = 5,
		       .chairman_after_wd = 10,
		       .inspectorate_after_wd = 20,
		       .reception_grace_days = 5},
		.chairman_office = "DN-VP",
		.inspectorate = "DN-TTR",
	};
}

static void close_store(struct fx *f)
{
	cm_feed_free(&f->feed);
	cm_store_close(&f->store);
}

static void drop_events(struct fx *f)
{
	for (size_t i = 0; i < f->nev; i++)
		cm_env_free(&f->ev[i]);
	free(f->ev);
	f->ev = NULL;
	f->nev = 0;
}

static int setup(void **state)
{
	struct fx *f = cm_xcalloc(1, sizeof(*f));
	char err[CAL_ERR_LEN + DL_ERR_LEN];

	f->dir = cm_test_tmpdir("dltimers");
	if (cal_load(CAL_DATA_DIR, NULL, &f->cal, err, sizeof(err)) != 0)
		fail_msg("calendar: %s", err);
	if (dl_policy_load(POLICY_FILE, &f->pol, err, sizeof(err)) != 0)
		fail_msg("policy: %s", err);
	open_store(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	drop_events(f);
	close_store(f);
	cal_free(&f->cal);
	dl_policy_free(&f->pol);
	cm_test_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* ------------------------------------------------------------ driving --- */

struct apply_ctx {
	struct fx *f;
	const cm_env *ev;
};

static int apply_fn(struct cm_txn *t, void *arg)
{
	struct apply_ctx *a = arg;

	return dl_engine_apply(&a->f->e, t, a->ev);
}

static void apply(struct fx *f, cm_env *ev)
{
	struct apply_ctx a = {.f = f, .ev = ev};

	ev->schema_version = 1;
	assert_int_equal(cm_store_write(f->store, apply_fn, &a), 0);
	cm_feed_committed(f->feed);
}

struct raise_ctx {
	struct fx *f;
	int64_t now;
	unsigned max, visited;
	bool more;
};

static int raise_fn(struct cm_txn *t, void *arg)
{
	struct raise_ctx *r = arg;

	return dl_engine_raise(&r->f->e, t, r->now, r->max, &r->visited, &r->more);
}

static int earliest_fn(struct cm_txn *t, void *arg)
{
	int rc = dl_engine_earliest(t, arg);
	return rc == -ENOENT ? 0 : rc;
}

/* Raise everything due at now, in batches of max, as the service does. */
static void raise_now(struct fx *f, int64_t now, unsigned max)
{
	for (int guard = 0; guard < 10000; guard++) {
		struct raise_ctx r = {.f = f, .now = now, .max = max};
		int64_t earliest = -1;

		assert_int_equal(cm_store_write(f->store, raise_fn, &r), 0);
		cm_feed_committed(f->feed);
		assert_int_equal(cm_store_read(f->store, earliest_fn, &earliest), 0);
		if (earliest < 0 || earliest > now)
			return;
	}
	fail_msg("raise never finished");
}

static int collect_cb(uint64_t seq, const void *buf, size_t len, void *arg)
{
	struct fx *f = arg;
	cm_env *ev = NULL;

	assert_int_equal(seq, f->seen + 1);
	f->seen = seq;
	assert_int_equal(cm_env_unpack(buf, len, &ev), 0);
	f->ev = cm_xrealloc(f->ev, (f->nev + 1) * sizeof(*f->ev));
	f->ev[f->nev++] = ev;
	return 0;
}

/* The events appended since the last call. */
static void take(struct fx *f)
{
	drop_events(f);
	while (f->seen < cm_feed_head(f->feed))
		assert_true(cm_feed_read(f->feed, f->seen + 1, 1000, collect_cb, f) > 0);
}

static size_t count_body(struct fx *f, int body)
{
	size_t n = 0;

	for (size_t i = 0; i < f->nev; i++)
		n += f->ev[i]->body_case == (Donthu__V1__Envelope__BodyCase)body;
	return n;
}

static const Donthu__V1__DeadlineSet *find_set(struct fx *f, const char *rule)
{
	for (size_t i = 0; i < f->nev; i++)
		if (f->ev[i]->body_case == BODY(DEADLINE_SET) &&
		    strcmp(f->ev[i]->deadline_set->rule_id, rule) == 0)
			return f->ev[i]->deadline_set;
	return NULL;
}

static const Donthu__V1__ClockStopped *find_stop(struct fx *f, const char *clock)
{
	for (size_t i = 0; i < f->nev; i++)
		if (f->ev[i]->body_case == BODY(CLOCK_STOPPED) &&
		    strcmp(f->ev[i]->clock_stopped->clock_id, clock) == 0)
			return f->ev[i]->clock_stopped;
	return NULL;
}

static const Donthu__V1__Escalation *find_esc(struct fx *f, const char *clock, int level)
{
	for (size_t i = 0; i < f->nev; i++)
		if (f->ev[i]->body_case == BODY(ESCALATION) &&
		    strcmp(f->ev[i]->escalation->clock_id, clock) == 0 &&
		    (int)f->ev[i]->escalation->level == level)
			return f->ev[i]->escalation;
	return NULL;
}

static const Donthu__V1__DeadlineChanged *find_change(struct fx *f, const char *clock,
						      int reason)
{
	for (size_t i = 0; i < f->nev; i++)
		if (f->ev[i]->body_case == BODY(DEADLINE_CHANGED) &&
		    strcmp(f->ev[i]->deadline_changed->clock_id, clock) == 0 &&
		    (int)f->ev[i]->deadline_changed->reason == reason)
			return f->ev[i]->deadline_changed;
	return NULL;
}

static struct dl_counts counts(struct fx *f)
{
	struct dl_counts c;

	assert_int_equal(cm_store_read(f->store, (cm_store_fn)dl_engine_counts, &c), 0);
	return c;
}

/* ------------------------------------------------------ building events --- */

struct petition {
	cm_env env;
	Donthu__V1__PetitionReceived pr;
	Donthu__V1__Petition p;
};

static void petition(struct fx *f, const char *num, int kind, int64_t at, int subject, int round)
{
	struct petition b;

	donthu__v1__envelope__init(&b.env);
	donthu__v1__petition_received__init(&b.pr);
	donthu__v1__petition__init(&b.p);
	b.p.kind = (Donthu__V1__PetitionKind)kind;
	b.p.received_at_ms = at;
	b.p.receiving_agency = "DN-TTR";
	b.p.complaint_subject = (Donthu__V1__ComplaintSubject)subject;
	b.p.round = (Donthu__V1__ComplaintRound)round;
	b.pr.case_number = (char *)num;
	b.pr.petition = &b.p;
	b.env.case_number = (char *)num;
	b.env.occurred_at_ms = at;
	b.env.body_case = BODY(PETITION_RECEIVED);
	b.env.petition_received = &b.pr;
	apply(f, &b.env);
}

/* One case action; set exactly one of the pointers in a. */
static void action(struct fx *f, const char *num, int64_t at, Donthu__V1__CaseAction *a,
		   int status_after)
{
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__CaseActionRecorded car = DONTHU__V1__CASE_ACTION_RECORDED__INIT;

	a->case_number = (char *)num;
	a->effective_at_ms = at;
	car.case_number = (char *)num;
	car.action = a;
	car.status_after = (Donthu__V1__CaseStatus)status_after;
	car.agency = "DN-TTR";
	env.case_number = (char *)num;
	env.occurred_at_ms = at;
	env.body_case = BODY(CASE_ACTION);
	env.case_action = &car;
	apply(f, &env);
}

static void do_accept(struct fx *f, const char *num, int64_t at, int complexity, bool remote)
{
	Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
	Donthu__V1__Accept ac = DONTHU__V1__ACCEPT__INIT;

	ac.complexity = (Donthu__V1__Complexity)complexity;
	ac.remote_area = remote;
	a.action_case = DONTHU__V1__CASE_ACTION__ACTION_ACCEPT;
	a.accept = &ac;
	action(f, num, at, &a, 2);
}

static void extend(struct fx *f, const char *num, int64_t at, unsigned days, int complexity)
{
	Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
	Donthu__V1__Extend ex = DONTHU__V1__EXTEND__INIT;

	ex.days = days;
	ex.complexity = (Donthu__V1__Complexity)complexity;
	ex.reason = "verification at several places";
	a.action_case = DONTHU__V1__CASE_ACTION__ACTION_EXTEND;
	a.extend = &ex;
	action(f, num, at, &a, 2);
}

static void simple_action(struct fx *f, const char *num, int64_t at, int which, int status_after)
{
	Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
	Donthu__V1__Suspend su = DONTHU__V1__SUSPEND__INIT;
	Donthu__V1__Resume re = DONTHU__V1__RESUME__INIT;
	Donthu__V1__Decide de = DONTHU__V1__DECIDE__INIT;
	Donthu__V1__Enforcement en = DONTHU__V1__ENFORCEMENT__INIT;
	Donthu__V1__Forward fw = DONTHU__V1__FORWARD__INIT;
	Donthu__V1__Withdraw wd = DONTHU__V1__WITHDRAW__INIT;

	a.action_case = (Donthu__V1__CaseAction__ActionCase)which;
	switch (which) {
	case DONTHU__V1__CASE_ACTION__ACTION_SUSPEND: a.suspend = &su; break;
	case DONTHU__V1__CASE_ACTION__ACTION_RESUME: a.resume = &re; break;
	case DONTHU__V1__CASE_ACTION__ACTION_DECIDE: a.decide = &de; break;
	case DONTHU__V1__CASE_ACTION__ACTION_ENFORCEMENT:
		en.completed = true;
		a.enforcement = &en;
		break;
	case DONTHU__V1__CASE_ACTION__ACTION_FORWARD: a.forward = &fw; break;
	case DONTHU__V1__CASE_ACTION__ACTION_WITHDRAW: a.withdraw = &wd; break;
	default: fail_msg("unexpected action %d", which);
	}
	action(f, num, at, &a, status_after);
}

struct explain_q {
	const char *id;
	char *buf;
	size_t len;
};

static int explain_fn(struct cm_txn *t, void *arg)
{
	struct explain_q *q = arg;

	return dl_engine_explain(t, q->id, q->buf, q->len);
}

struct recompute_q {
	struct fx *f;
	struct dl_recompute saved, work;
	unsigned max;
};

/* As the service does it: each attempt starts again from the saved progress. */
static int recompute_fn(struct cm_txn *t, void *arg)
{
	struct recompute_q *q = arg;

	q->work = q->saved;
	return dl_engine_recompute(&q->f->e, t, &q->work, q->max);
}

static void recompute_all(struct fx *f, enum dl_recompute_what what, unsigned max)
{
	struct recompute_q q = {.f = f, .max = max};

	q.saved.what = what;
	snprintf(q.saved.version, sizeof(q.saved.version), "test");
	for (int i = 0; i < 10000 && !q.saved.done; i++) {
		assert_int_equal(cm_store_write(f->store, recompute_fn, &q), 0);
		cm_feed_committed(f->feed);
		q.saved = q.work;
	}
	assert_true(q.saved.done);
}

/* ---------------------------------------------------------- the tests --- */

/* A feedback petition received Mon 9/3/2026 and never handled:
 *   xld.handle 10 WD: due Mon 23/3; WARNING 3 WD before = 18/3 (18, 19, 20);
 *   OVERDUE 24/3; HEAD 5 WD after = 30/3 (24-27, 30); CHAIRMAN 10 WD after =
 *   6/4 (31/3-3/4, 6/4); INSPECTORATE 20 WD after = 20/4 (7-10/4, 13-17/4,
 *   20/4). xld.unhandled45: 9/3 + 45 = Thu 23/4, CHAIRMAN on 24/4. */
static void test_unhandled_chain(void **state)
{
	struct fx *f = *state;
	const char *c = "DN-TTR-2026-000001/xld.handle";
	const char *u = "DN-TTR-2026-000001/xld.unhandled45";
	const Donthu__V1__DeadlineSet *ds;

	petition(f, "DN-TTR-2026-000001", KIND(FEEDBACK), AT(2026, 3, 9), 0, 0);
	take(f);
	assert_int_equal(count_body(f, BODY(DEADLINE_SET)), 2);
	ds = find_set(f, "xld.handle");
	assert_non_null(ds);
	assert_string_equal(ds->due_date, "2026-03-23");
	assert_string_equal(ds->trigger_date, "2026-03-09");
	assert_string_equal(ds->clock_id, c);
	assert_string_equal(ds->agency, "DN-TTR");
	assert_non_null(strstr(ds->explain, "10 working days after 2026-03-09"));
	assert_string_equal(find_set(f, "xld.unhandled45")->due_date, "2026-04-23");
	assert_int_equal(counts(f).open, 2);

	raise_now(f, MIDNIGHT(2026, 3, 18) - 1, 100);
	take(f);
	assert_int_equal(f->nev, 0);
	raise_now(f, MIDNIGHT(2026, 3, 18), 100);
	take(f);
	assert_int_equal(f->nev, 1);
	assert_non_null(find_esc(f, c, LVL(WARNING)));
	assert_int_equal(find_esc(f, c, LVL(WARNING))->days_overdue, -5);
	assert_non_null(strstr(find_esc(f, c, LVL(WARNING))->detail, "3 working days left"));
	/* Raised once: the same instant again raises nothing. */
	raise_now(f, MIDNIGHT(2026, 3, 18) + 3600 * 1000, 100);
	take(f);
	assert_int_equal(f->nev, 0);

	raise_now(f, MIDNIGHT(2026, 3, 24), 100);
	take(f);
	assert_int_equal(f->nev, 1);
	assert_int_equal(find_esc(f, c, LVL(OVERDUE))->days_overdue, 1);
	assert_string_equal(find_esc(f, c, LVL(OVERDUE))->notify_agency, "DN-TTR");
	assert_int_equal(counts(f).overdue, 1);
	raise_now(f, MIDNIGHT(2026, 3, 30) - 1, 100);
	take(f);
	assert_int_equal(f->nev, 0);
	raise_now(f, MIDNIGHT(2026, 3, 30), 100);
	take(f);
	assert_non_null(find_esc(f, c, LVL(HEAD)));
	raise_now(f, MIDNIGHT(2026, 4, 6), 100);
	take(f);
	assert_non_null(find_esc(f, c, LVL(CHAIRMAN)));
	assert_string_equal(find_esc(f, c, LVL(CHAIRMAN))->notify_agency, "DN-VP");
	raise_now(f, MIDNIGHT(2026, 4, 20), 100);
	take(f);
	assert_non_null(find_esc(f, c, LVL(INSPECTORATE)));
	assert_string_equal(find_esc(f, c, LVL(INSPECTORATE))->notify_agency, "DN-TTR");
	raise_now(f, MIDNIGHT(2026, 4, 24) - 1, 100);
	take(f);
	assert_int_equal(f->nev, 0);
	raise_now(f, MIDNIGHT(2026, 4, 24), 100);
	take(f);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0]->escalation->level, LVL(CHAIRMAN));
	assert_int_equal(f->ev[0]->escalation->reason, REASON(UNHANDLED_45_DAYS));
	assert_string_equal(f->ev[0]->escalation->clock_id, u);
	assert_string_equal(f->ev[0]->escalation->case_number, "DN-TTR-2026-000001");
	/* Nothing more, ever, for these two clocks. */
	raise_now(f, MIDNIGHT(2027, 1, 1), 100);
	take(f);
	assert_int_equal(f->nev, 0);
	assert_int_equal(counts(f).open, 2);
}

/* After downtime every level that fell due is raised once, in one go, and a
 * reopened store raises nothing again. */
static void test_downtime_raises_once(void **state)
{
	struct fx *f = *state;
	const char *c = "DN-TTR-2026-000002/xld.handle";

	petition(f, "DN-TTR-2026-000002", KIND(RECOMMENDATION), AT(2026, 3, 9), 0, 0);
	take(f);
	/* Batches of one entry: the index is re-read between them. */
	raise_now(f, MIDNIGHT(2026, 5, 1), 1);
	take(f);
	assert_int_equal(count_body(f, BODY(ESCALATION)), 6);
	for (int l = LVL(WARNING); l <= LVL(INSPECTORATE); l++)
		assert_non_null(find_esc(f, c, l));
	/* The warning comes after the due date: it says how late, not "-N left". */
	assert_null(strstr(find_esc(f, c, LVL(WARNING))->detail, "left"));
	assert_non_null(strstr(find_esc(f, c, LVL(WARNING))->detail, "days overdue"));
	close_store(f);
	open_store(f);
	raise_now(f, MIDNIGHT(2026, 6, 1), 100);
	take(f);
	assert_int_equal(f->nev, 0);
}

/* A first-round complaint received 2/3/2026 and accepted 10/3 as complex:
 * the handling clocks stop met; resolution is 45 days: 10/3 + 45 = Fri 24/4.
 * A 10-day extension is refused (already at the complex cap). Decided 30/4:
 * missed. Sending 3 WD: 4, 5, 6/5 (30/4-3/5 off) -> 6/5. Legal effect 30/4 +
 * 30 = Sat 30/5 -> Mon 1/6; it elapses at the start of 2/6 and the follow-up
 * starts with day 0 = 1/6: 1/6 + 30 = Wed 1/7. */
static void test_complaint_round(void **state)
{
	struct fx *f = *state;
	const char *num = "DN-TTR-2026-000003";
	const Donthu__V1__DeadlineSet *ds;
	const Donthu__V1__ClockStopped *st;

	petition(f, num, KIND(COMPLAINT), AT(2026, 3, 2), 1, 1);
	take(f);
	assert_int_equal(count_body(f, BODY(DEADLINE_SET)), 3);
	/* 2/3 + 10 WD (v1): 3-6/3 (4), 9-13/3 (9), 16/3 (10). */
	assert_string_equal(find_set(f, "kn.accept")->due_date, "2026-03-16");
	assert_int_equal(find_set(f, "kn.accept")->rule_version, 1);

	do_accept(f, num, AT(2026, 3, 10), DONTHU__V1__COMPLEXITY__COMPLEXITY_COMPLEX, false);
	take(f);
	st = find_stop(f, "DN-TTR-2026-000003/kn.accept");
	assert_non_null(st);
	assert_true(st->met);
	assert_string_equal(st->completed_date, "2026-03-10");
	assert_string_equal(st->reason, "accept");
	assert_non_null(find_stop(f, "DN-TTR-2026-000003/xld.handle"));
	assert_non_null(find_stop(f, "DN-TTR-2026-000003/xld.unhandled45"));
	ds = find_set(f, "kn.resolve.r1");
	assert_non_null(ds);
	assert_int_equal(ds->length, 45);
	assert_int_equal(ds->unit, DONTHU__V1__DAY_UNIT__DAY_UNIT_CALENDAR);
	assert_string_equal(ds->due_date, "2026-04-24");
	assert_non_null(strstr(ds->explain, "complex case: 45 CAL"));
	assert_int_equal(counts(f).open, 1);

	extend(f, num, AT(2026, 4, 1), 10, 0);
	take(f);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0]->body_case, BODY(EXTENSION_REJECTED));
	assert_non_null(strstr(f->ev[0]->extension_rejected->reason, "beyond the cap"));
	assert_string_equal(f->ev[0]->extension_rejected->clock_id,
			    "DN-TTR-2026-000003/kn.resolve.r1");

	simple_action(f, num, AT(2026, 4, 30), DONTHU__V1__CASE_ACTION__ACTION_DECIDE, 4);
	take(f);
	st = find_stop(f, "DN-TTR-2026-000003/kn.resolve.r1");
	assert_false(st->met);
	assert_string_equal(st->due_date, "2026-04-24");
	assert_string_equal(find_set(f, "kn.send.r1")->due_date, "2026-05-06");
	assert_string_equal(find_set(f, "kn.effect.r1")->due_date, "2026-06-01");

	raise_now(f, MIDNIGHT(2026, 6, 2), 100);
	take(f);
	/* The sending clock escalates only as far as the head. */
	assert_non_null(find_esc(f, "DN-TTR-2026-000003/kn.send.r1", LVL(HEAD)));
	assert_null(find_esc(f, "DN-TTR-2026-000003/kn.send.r1", LVL(CHAIRMAN)));
	st = find_stop(f, "DN-TTR-2026-000003/kn.effect.r1");
	assert_non_null(st);
	assert_true(st->met);
	assert_string_equal(st->reason, "elapsed");
	ds = find_set(f, "kn.followup");
	assert_non_null(ds);
	assert_string_equal(ds->trigger_date, "2026-06-01");
	assert_string_equal(ds->due_date, "2026-07-01");

	simple_action(f, num, AT(2026, 6, 10), DONTHU__V1__CASE_ACTION__ACTION_ENFORCEMENT, 4);
	take(f);
	assert_true(find_stop(f, "DN-TTR-2026-000003/kn.followup")->met);
	assert_non_null(find_stop(f, "DN-TTR-2026-000003/kn.send.r1"));
	assert_false(find_stop(f, "DN-TTR-2026-000003/kn.send.r1")->met);
	assert_int_equal(counts(f).open, 0);
	assert_int_equal(counts(f).overdue, 0);
}

/* A complex denunciation accepted Mon 5/1/2026: 5/1 + 30 = Wed 4/2.
 * Extended by 30: 5/1 + 60 = Fri 6/3. A second extension is refused (a
 * complex case gets one). Suspended 9/2 with 6/3 - 9/2 = 25 days left;
 * resumed 23/2: 23/2 + 25 = Fri 20/3. Concluded 19/3, met: sending 5 WD
 * (20, 23-26/3) -> 26/3; processing 7 WD (20, 23-27, 30/3) -> 30/3. */
static void test_denunciation(void **state)
{
	struct fx *f = *state;
	const char *num = "DN-TTR-2026-000004";
	const char *clk = "DN-TTR-2026-000004/tc.resolve";
	const Donthu__V1__DeadlineChanged *dc;
	char text[DL_EXPLAIN_MAX];

	petition(f, num, KIND(DENUNCIATION), AT(2026, 1, 2), 0, 0);
	do_accept(f, num, AT(2026, 1, 5), DONTHU__V1__COMPLEXITY__COMPLEXITY_COMPLEX, false);
	take(f);
	assert_string_equal(find_set(f, "tc.resolve")->due_date, "2026-02-04");

	extend(f, num, AT(2026, 1, 20), 30, 0);
	take(f);
	dc = find_change(f, clk, DONTHU__V1__CHANGE_REASON__CHANGE_REASON_EXTENDED);
	assert_non_null(dc);
	assert_string_equal(dc->old_due_date, "2026-02-04");
	assert_string_equal(dc->new_due_date, "2026-03-06");
	assert_non_null(strstr(dc->explain, "extended 1 time by 30 days in all: 60 CAL"));

	extend(f, num, AT(2026, 2, 2), 30, 0);
	take(f);
	assert_int_equal(count_body(f, BODY(EXTENSION_REJECTED)), 1);
	assert_non_null(strstr(f->ev[0]->extension_rejected->reason, "1 time"));

	simple_action(f, num, AT(2026, 2, 9), DONTHU__V1__CASE_ACTION__ACTION_SUSPEND, 3);
	take(f);
	dc = find_change(f, clk, DONTHU__V1__CHANGE_REASON__CHANGE_REASON_PAUSED);
	assert_non_null(dc);
	assert_string_equal(dc->new_due_date, "");
	/* A suspended clock raises nothing, however late it gets. */
	raise_now(f, MIDNIGHT(2026, 3, 10), 100);
	take(f);
	assert_null(find_esc(f, clk, LVL(OVERDUE)));

	simple_action(f, num, AT(2026, 2, 23), DONTHU__V1__CASE_ACTION__ACTION_RESUME, 2);
	take(f);
	dc = find_change(f, clk, DONTHU__V1__CHANGE_REASON__CHANGE_REASON_RESUMED);
	assert_non_null(dc);
	assert_string_equal(dc->new_due_date, "2026-03-20");
	assert_non_null(strstr(dc->explain, "suspended on 2026-02-09 with 25 days left"));
	assert_non_null(strstr(dc->explain, "resumed on 2026-02-23 after 14 days suspended"));
	assert_non_null(strstr(dc->explain, "25 calendar days after 2026-02-23"));
	/* The stored explanation is the one the event carried. */
	{
		struct explain_q q = {clk, text, sizeof(text)};
		assert_int_equal(cm_store_read(f->store, explain_fn, &q), 0);
		assert_string_equal(text, dc->explain);
	}

	simple_action(f, num, AT(2026, 3, 19), DONTHU__V1__CASE_ACTION__ACTION_DECIDE, 4);
	take(f);
	assert_true(find_stop(f, clk)->met);
	assert_string_equal(find_set(f, "tc.send_conclusion")->due_date, "2026-03-26");
	assert_string_equal(find_set(f, "tc.followup")->due_date, "2026-03-30");
}

/* Routing: a denunciation classified outside competence before intake's
 * receipt is applied; received Fri 28/8/2026, the forwarding clock runs 5 WD
 * from receipt: 29/8-2/9 off, 3, 4, 7, 8, 9/9 -> 9/9. Flags escalate at once. */
static void test_routing(void **state)
{
	struct fx *f = *state;
	const char *num = "DN-TTR-2026-000005";
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__Classified cl = DONTHU__V1__CLASSIFIED__INIT;
	Donthu__V1__CaseFlagged fl = DONTHU__V1__CASE_FLAGGED__INIT;
	Donthu__V1__Filed fi = DONTHU__V1__FILED__INIT;

	cl.case_number = (char *)num;
	cl.content_kind = KIND(DENUNCIATION);
	cl.within_competence = false;
	env.body_case = BODY(CLASSIFIED);
	env.classified = &cl;
	env.occurred_at_ms = AT(2026, 8, 28);
	apply(f, &env);
	take(f);
	assert_int_equal(f->nev, 0);
	petition(f, num, KIND(DENUNCIATION), AT(2026, 8, 28), 0, 0);
	take(f);
	assert_string_equal(find_set(f, "tc.forward")->due_date, "2026-09-09");

	fl.case_number = (char *)num;
	fl.kind = DONTHU__V1__FLAG_KIND__FLAG_KIND_DELEGATION;
	fl.count = 12;
	fl.agency = "UBND-20242";
	fl.detail = "đoàn 12 người";
	fl.rule_id = "route.delegation";
	donthu__v1__envelope__init(&env);
	env.body_case = BODY(FLAGGED);
	env.flagged = &fl;
	env.occurred_at_ms = AT(2026, 8, 28);
	apply(f, &env);
	fl.kind = DONTHU__V1__FLAG_KIND__FLAG_KIND_SERIOUS_HARM;
	apply(f, &env);
	fl.kind = DONTHU__V1__FLAG_KIND__FLAG_KIND_ANONYMOUS_UNVERIFIABLE; /* not escalated */
	apply(f, &env);
	take(f);
	assert_int_equal(f->nev, 2);
	assert_int_equal(f->ev[0]->escalation->reason, REASON(DELEGATION));
	assert_int_equal(f->ev[0]->escalation->level, LVL(HEAD));
	assert_string_equal(f->ev[0]->escalation->agency, "UBND-20242");
	assert_string_equal(f->ev[0]->escalation->raised_date, "2026-08-28");
	assert_non_null(strstr(f->ev[0]->escalation->detail, "Luật TCD Điều 29"));
	assert_int_equal(f->ev[1]->escalation->reason, REASON(SERIOUS_HARM));
	assert_int_equal(f->ev[1]->escalation->level, LVL(CHAIRMAN));
	assert_string_equal(f->ev[1]->escalation->notify_agency, "DN-VP");

	simple_action(f, num, AT(2026, 9, 3), DONTHU__V1__CASE_ACTION__ACTION_FORWARD, 10);
	take(f);
	assert_true(find_stop(f, "DN-TTR-2026-000005/tc.forward")->met);
	assert_true(find_stop(f, "DN-TTR-2026-000005/xld.handle")->met);
	assert_true(find_stop(f, "DN-TTR-2026-000005/tc.accept")->met);

	/* Filed by routing: the handling clocks of another case stop. */
	petition(f, "DN-TTR-2026-000006", KIND(FEEDBACK), AT(2026, 9, 3), 0, 0);
	fi.case_number = "DN-TTR-2026-000006";
	fi.reason = DONTHU__V1__FILE_REASON__FILE_REASON_INELIGIBLE;
	donthu__v1__envelope__init(&env);
	env.body_case = BODY(FILED);
	env.filed = &fi;
	env.occurred_at_ms = AT(2026, 9, 4);
	apply(f, &env);
	take(f);
	assert_string_equal(find_stop(f, "DN-TTR-2026-000006/xld.handle")->reason, "filed");
	assert_string_equal(find_stop(f, "DN-TTR-2026-000006/xld.handle")->completed_date,
			    "2026-09-04");
}

static void reception(struct fx *f, const char *agency, int role, int64_t at)
{
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ReceptionRecorded rr = DONTHU__V1__RECEPTION_RECORDED__INIT;
	Donthu__V1__ReceptionRecord r = DONTHU__V1__RECEPTION_RECORD__INIT;

	r.agency = (char *)agency;
	r.received_at_ms = at;
	r.reception_kind = DONTHU__V1__RECEPTION_KIND__RECEPTION_KIND_PERIODIC;
	r.head_role = (Donthu__V1__HeadRole)role;
	rr.record_id = "R";
	rr.record = &r;
	env.body_case = BODY(RECEPTION_RECORDED);
	env.reception_recorded = &rr;
	env.occurred_at_ms = at;
	apply(f, &env);
}

/* Commune chairman of UBND-20242: June 2026 is judged by weeks (≥ 1 a week,
 * Luật TCD Điều 15): the weeks whose Thursday is in June start 1, 8, 15 and
 * 22/6; receptions on 3, 10 and 24/6 leave the week of 15/6 empty. July is
 * judged by the month (≥ 2 days, Law 136/2025): one day on 15/7 is short.
 * August has two. The agency head of DN-SNV scheduled August and held none.
 * Months are judged 5 days after they end (grace). */
static void test_reception_compliance(void **state)
{
	struct fx *f = *state;
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ScheduleRecorded sr = DONTHU__V1__SCHEDULE_RECORDED__INIT;
	Donthu__V1__ReceptionSchedule s = DONTHU__V1__RECEPTION_SCHEDULE__INIT;
	const Donthu__V1__Escalation *es;

	reception(f, "UBND-20242", 1, AT(2026, 6, 3));
	reception(f, "UBND-20242", 1, AT(2026, 6, 10));
	reception(f, "UBND-20242", 1, AT(2026, 6, 24));
	reception(f, "UBND-20242", 1, AT(2026, 7, 15));
	reception(f, "UBND-20242", 1, AT(2026, 8, 5));
	reception(f, "UBND-20242", 1, AT(2026, 8, 19));
	s.agency = "DN-SNV";
	s.head_role = DONTHU__V1__HEAD_ROLE__HEAD_ROLE_AGENCY_HEAD;
	s.month = "2026-08";
	sr.record_id = "L";
	sr.schedule = &s;
	env.body_case = BODY(SCHEDULE_RECORDED);
	env.schedule_recorded = &sr;
	apply(f, &env);
	take(f);
	assert_int_equal(f->nev, 0);

	raise_now(f, MIDNIGHT(2026, 7, 6) - 1, 100);
	take(f);
	assert_int_equal(f->nev, 0);
	raise_now(f, MIDNIGHT(2026, 7, 6), 100);
	take(f);
	assert_int_equal(f->nev, 1);
	es = f->ev[0]->escalation;
	assert_int_equal(es->reason, REASON(RECEPTION_MISSED));
	assert_int_equal(es->level, LVL(CHAIRMAN));
	assert_string_equal(es->agency, "UBND-20242");
	assert_string_equal(es->due_date, "2026-06-30");
	assert_non_null(strstr(es->detail, "1 of 4 weeks in 2026-06"));
	assert_non_null(strstr(es->detail, "2026-06-15"));
	assert_string_equal(es->case_number, "");

	raise_now(f, MIDNIGHT(2026, 8, 6), 100);
	take(f);
	assert_int_equal(f->nev, 1);
	assert_non_null(strstr(f->ev[0]->escalation->detail, "1 of the 2 periodic reception days "
							      "required in 2026-07"));
	raise_now(f, MIDNIGHT(2026, 9, 6), 100);
	take(f);
	assert_int_equal(f->nev, 1);
	assert_string_equal(f->ev[0]->escalation->agency, "DN-SNV");
	assert_non_null(strstr(f->ev[0]->escalation->detail, "agency head: 0 of the 1"));
	/* September: nobody held a reception. */
	raise_now(f, MIDNIGHT(2026, 10, 6), 100);
	take(f);
	assert_int_equal(f->nev, 2);
}

/* Reloading a calendar with one more day off (Fri 20/3/2026) moves the
 * handling clock of a petition received 9/3 from 23/3 to 24/3 (10 WD:
 * 10-13/3, 16-19/3, 23, 24/3) and says so; a clock the day does not touch
 * stays. Then a policy with kn.accept v1 at 12 working days moves an open
 * acceptance clock: 2/3 + 12 WD = 3-6, 9-13, 16, 17, 18/3 -> 18/3. */
static void test_recompute(void **state)
{
	struct fx *f = *state;
	char *caldir = cm_xasprintf("%s/cal", f->dir), *src, *text, *at;
	char *polpath = cm_xasprintf("%s/policy.json", f->dir);
	char err[CAL_ERR_LEN + DL_ERR_LEN];
	struct cal *newcal = NULL;
	struct dl_policy *newpol = NULL;
	FILE *fp;
	long sz;

	petition(f, "DN-TTR-2026-000007", KIND(FEEDBACK), AT(2026, 3, 9), 0, 0);
	petition(f, "DN-TTR-2026-000008", KIND(FEEDBACK), AT(2026, 5, 4), 0, 0);
	petition(f, "DN-TTR-2026-000009", KIND(COMPLAINT), AT(2026, 3, 2), 1, 1);
	take(f);

	/* The shipped 2026 file with one more day off. */
	assert_int_equal(mkdir(caldir, 0700), 0);
	src = cm_xasprintf("%s/2026.json", CAL_DATA_DIR);
	fp = fopen(src, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	sz = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = cm_xcalloc(1, (size_t)sz + 200);
	assert_int_equal(fread(text, 1, (size_t)sz, fp), (size_t)sz);
	fclose(fp);
	at = strstr(text, "\"days_off\": [");
	assert_non_null(at);
	at += strlen("\"days_off\": [");
	{
		char *out = cm_xasprintf("%.*s\n    {\"date\": \"2026-03-20\", \"name\": \"Ngày nghỉ "
					 "thử\", \"kind\": \"holiday\"},%s",
					 (int)(at - text), text, at);
		cm_test_write_file(caldir, "2026.json", out);
		free(out);
	}
	assert_int_equal(cal_load(caldir, NULL, &newcal, err, sizeof(err)), 0);
	cal_free(&f->cal);
	f->cal = newcal;
	f->e.cal = newcal;
	/* Batches of one clock exercise the resumption between transactions. */
	recompute_all(f, DL_RECOMPUTE_CALENDAR, 1);
	take(f);
	{
		const Donthu__V1__DeadlineChanged *dc = find_change(
			f, "DN-TTR-2026-000007/xld.handle",
			DONTHU__V1__CHANGE_REASON__CHANGE_REASON_CALENDAR);
		const Donthu__V1__Envelope *last = f->ev[f->nev - 1];
		assert_non_null(dc);
		assert_string_equal(dc->old_due_date, "2026-03-23");
		assert_string_equal(dc->new_due_date, "2026-03-24");
		assert_non_null(strstr(dc->explain, "2026-03-20 holiday: Ngày nghỉ thử"));
		/* 2/3 + 10 WD: 3-6/3, 9-13/3, 16/3: untouched by 20/3. */
		assert_null(find_change(f, "DN-TTR-2026-000009/kn.accept",
					DONTHU__V1__CHANGE_REASON__CHANGE_REASON_CALENDAR));
		assert_null(find_change(f, "DN-TTR-2026-000008/xld.handle",
					DONTHU__V1__CHANGE_REASON__CHANGE_REASON_CALENDAR));
		assert_int_equal(last->body_case, BODY(CALENDAR_RELOADED));
		assert_string_equal(last->calendar_reloaded->what, "calendar");
		/* Open: 2 + 2 + 3 clocks. Only 000007's handling clock changes
		 * its due day (000009's escalation days after 16/3 move too,
		 * silently: its due day does not). */
		assert_int_equal(last->calendar_reloaded->clocks_recomputed, 7);
		assert_int_equal(last->calendar_reloaded->clocks_changed, 1);
		assert_int_equal(count_body(f, BODY(DEADLINE_CHANGED)), 1);
	}
	/* Once more: nothing changes. */
	recompute_all(f, DL_RECOMPUTE_CALENDAR, 1000);
	take(f);
	assert_int_equal(count_body(f, BODY(DEADLINE_CHANGED)), 0);
	assert_int_equal(f->ev[f->nev - 1]->calendar_reloaded->clocks_changed, 0);

	/* The policy with kn.accept v1 at 12 working days. */
	fp = fopen(POLICY_FILE, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	sz = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	free(text);
	text = cm_xcalloc(1, (size_t)sz + 1);
	assert_int_equal(fread(text, 1, (size_t)sz, fp), (size_t)sz);
	fclose(fp);
	at = strstr(text, "\"effective_from\": \"1990-01-01\", \"length\": 10, \"unit\": \"WD\", "
			  "\"makeup_saturdays\": \"ignore\"");
	assert_non_null(at);
	at = strstr(at, "10");
	at[0] = '1';
	at[1] = '2';
	cm_test_write_file(f->dir, "policy.json", text);
	assert_int_equal(dl_policy_load(polpath, &newpol, err, sizeof(err)), 0);
	dl_policy_free(&f->pol);
	f->pol = newpol;
	f->e.pol = newpol;
	recompute_all(f, DL_RECOMPUTE_POLICY, 2);
	take(f);
	{
		const Donthu__V1__DeadlineChanged *dc = find_change(
			f, "DN-TTR-2026-000009/kn.accept",
			DONTHU__V1__CHANGE_REASON__CHANGE_REASON_POLICY);
		assert_non_null(dc);
		assert_string_equal(dc->old_due_date, "2026-03-16");
		assert_string_equal(dc->new_due_date, "2026-03-18");
		assert_int_equal(count_body(f, BODY(DEADLINE_CHANGED)), 1);
		assert_string_equal(f->ev[f->nev - 1]->calendar_reloaded->what, "policy");
	}
	free(text);
	free(src);
	free(caldir);
	free(polpath);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unhandled_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_downtime_raises_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_complaint_round, setup, teardown),
		cmocka_unit_test_setup_teardown(test_denunciation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reception_compliance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recompute, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

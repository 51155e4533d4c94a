#include "report_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/envelope.h"
#include "common/mem.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x
#define KIND(x) DONTHU__V1__PETITION_KIND__PETITION_KIND_##x

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	/* splitmix64: tiny, fast, and the same everywhere */
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static unsigned pick(struct rng *r, unsigned n)
{
	return (unsigned)(next(r) % n);
}

static bool chance(struct rng *r, unsigned percent)
{
	return pick(r, 100) < percent;
}

/* Events of one case carry increasing instants: day start + 8h + k seconds. */
struct clockpos {
	cm_day_t day;
	int k;
};

static int64_t at(struct clockpos *c, cm_day_t day)
{
	if (day < c->day)
		day = c->day;
	if (day != c->day)
		c->k = 0;
	c->day = day;
	return cm_day_start_ms(day) + 8 * 3600 * 1000LL + (c->k++) * 1000LL;
}

static void push(struct gen_feed *f, cm_env *e, const char *case_number, int64_t ms)
{
	struct gen_event *g;

	e->schema_version = CM_ENV_SCHEMA_VERSION;
	e->producer = (char *)f->producer;
	e->case_number = (char *)(case_number ? case_number : "");
	e->occurred_at_ms = ms;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 4096;
		f->ev = cm_xrealloc(f->ev, f->cap * sizeof(*f->ev));
	}
	g = &f->ev[f->n++];
	g->at_ms = ms;
	/* Room for the sequence field appended after sorting. */
	g->len = cm_env_size(e);
	g->buf = cm_xmalloc(g->len + 11);
	donthu__v1__envelope__pack(e, g->buf);
}

static int cmp_ev(const void *a, const void *b)
{
	const struct gen_event *x = a, *y = b;
	if (x->at_ms != y->at_ms)
		return x->at_ms < y->at_ms ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void finish(struct gen_feed *f)
{
	/* A stable order for equal instants: sort by time, then by position. */
	qsort(f->ev, f->n, sizeof(*f->ev), cmp_ev);
	for (size_t i = 0; i < f->n; i++) {
		/* Field 4 (sequence, varint) appended: protobuf takes fields in any
		 * order, so the producer's numbering is added without re-packing. */
		uint64_t v = i + 1;
		uint8_t *p = f->ev[i].buf + f->ev[i].len;
		*p++ = 0x20;
		while (v >= 0x80) {
			*p++ = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		*p++ = (uint8_t)v;
		f->ev[i].len = (size_t)(p - f->ev[i].buf);
	}
}

struct cinfo {
	char number[48];
	const char *agency;
	int kind;
	cm_day_t received;
	bool decided;
};

static void gen_case(const struct gen_params *p, struct rng *r, size_t i, struct cinfo *ci,
		     struct gen_feed f[3])
{
	static const int kinds[] = {KIND(COMPLAINT), KIND(COMPLAINT), KIND(DENUNCIATION),
				    KIND(RECOMMENDATION), KIND(FEEDBACK), KIND(FEEDBACK),
				    KIND(MIXED)};
	struct cinfo *c = &ci[i];
	struct clockpos cp = {0, 0};
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__PetitionReceived pr = DONTHU__V1__PETITION_RECEIVED__INIT;
	Donthu__V1__Petition pet = DONTHU__V1__PETITION__INIT;
	Donthu__V1__PriorDecision prior = DONTHU__V1__PRIOR_DECISION__INIT;
	const char *field = p->fields[pick(r, (unsigned)p->nfields)];
	cm_day_t h, d;
	int kind = kinds[pick(r, CM_ARRAY_LEN(kinds))];
	uint32_t signers = chance(r, 85) ? 1 : 2 + pick(r, 12);
	bool second = kind == KIND(COMPLAINT) && chance(r, 15);
	unsigned o = pick(r, 100);
	int64_t ms;

	c->kind = kind;

	pet.channel = (Donthu__V1__Channel)(1 + pick(r, 7));
	pet.received_at_ms = cm_day_start_ms(c->received) + 3600 * 1000;
	pet.receiving_agency = (char *)c->agency;
	pet.kind = (Donthu__V1__PetitionKind)kind;
	pet.signer_count = signers;
	pet.field = (char *)field;
	pet.summary = "Nội dung đơn (tổng hợp)";
	pet.delegation_size = chance(r, 3) ? 5 + pick(r, 20) : 0;
	pet.round = second ? DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_SECOND
			   : (kind == KIND(COMPLAINT) ? DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_FIRST
						      : 0);
	if (second || chance(r, 5)) {
		prior.number = "12/QĐ-UBND";
		prior.date = "2025-01-10";
		prior.outcome = (Donthu__V1__DecisionOutcome)(1 + pick(r, 3));
		pet.prior_decision = &prior;
	}
	if (chance(r, 2)) {
		static char *central[] = {"TTCP"};
		pet.n_also_sent_to = 1;
		pet.also_sent_to = central;
	}
	pr.case_number = c->number;
	pr.petition = &pet;
	pr.registered_at_ms = pet.received_at_ms;
	e.body_case = BODY(PETITION_RECEIVED);
	e.petition_received = &pr;
	ms = at(&cp, c->received);
	push(&f[0], &e, c->number, ms);

	/* A reception-book line for some of them. */
	if (chance(r, 12)) {
		cm_env re = DONTHU__V1__ENVELOPE__INIT;
		Donthu__V1__ReceptionRecorded rr = DONTHU__V1__RECEPTION_RECORDED__INIT;
		Donthu__V1__ReceptionRecord rec = DONTHU__V1__RECEPTION_RECORD__INIT;
		char rid[64];
		snprintf(rid, sizeof(rid), "%s-T-%07zu", c->agency, i + 1);
		rec.agency = (char *)c->agency;
		rec.received_at_ms = pet.received_at_ms;
		rec.kind = (Donthu__V1__PetitionKind)kind;
		rec.citizen_count = chance(r, 10) ? 5 + pick(r, 10) : 1 + pick(r, 2);
		rec.reception_kind = (Donthu__V1__ReceptionKind)(1 + pick(r, 3));
		rec.head_role = rec.reception_kind != 1 && chance(r, 60)
					? DONTHU__V1__HEAD_ROLE__HEAD_ROLE_COMMUNE_CHAIRMAN
					: 0;
		rec.case_number = c->number;
		rec.prior_handling = chance(r, 20) ? (char *)"UBND xã đã trả lời" : (char *)"";
		rec.delegation = rec.citizen_count >= 5;
		rec.refused = chance(r, 2);
		rr.record_id = rid;
		rr.record = &rec;
		re.body_case = BODY(RECEPTION_RECORDED);
		re.reception_recorded = &rr;
		push(&f[0], &re, c->number, at(&cp, c->received));
	}

	/* Routing classifies the next day; some petitions are duplicates of
	 * an earlier case of the same agency. */
	{
		cm_env re = DONTHU__V1__ENVELOPE__INIT;
		Donthu__V1__Classified cl = DONTHU__V1__CLASSIFIED__INIT;
		cl.case_number = c->number;
		cl.content_kind = (Donthu__V1__PetitionKind)kind;
		cl.eligible = !chance(r, 4);
		cl.within_competence = o < 65;
		cl.signer_count = signers;
		cl.many_signers = signers >= 5;
		cl.delegation = pet.delegation_size >= 5;
		cl.receiving_agency = (char *)c->agency;
		cl.field = (char *)field;
		re.body_case = BODY(CLASSIFIED);
		re.classified = &cl;
		push(&f[1], &re, c->number, at(&cp, c->received + 1));
	}
	if (i > 0 && chance(r, 6)) {
		size_t j = i - 1 - pick(r, (unsigned)(i < 200 ? i : 200));
		if (ci[j].agency == c->agency) {
			cm_env re = DONTHU__V1__ENVELOPE__INIT;
			Donthu__V1__DuplicateLinked dl = DONTHU__V1__DUPLICATE_LINKED__INIT;
			dl.case_number = c->number;
			dl.original_case = ci[j].number;
			dl.similarity = 0.9;
			dl.repeat = chance(r, 60);
			re.body_case = BODY(DUPLICATE_LINKED);
			re.duplicate_linked = &dl;
			push(&f[1], &re, c->number, at(&cp, c->received + 1));
		}
	}
	if (signers >= 5 && chance(r, 50)) {
		cm_env re = DONTHU__V1__ENVELOPE__INIT;
		Donthu__V1__CaseFlagged fl = DONTHU__V1__CASE_FLAGGED__INIT;
		fl.case_number = c->number;
		fl.kind = DONTHU__V1__FLAG_KIND__FLAG_KIND_MANY_SIGNERS;
		fl.count = signers;
		fl.agency = (char *)c->agency;
		re.body_case = BODY(FLAGGED);
		re.flagged = &fl;
		push(&f[1], &re, c->number, at(&cp, c->received + 1));
	}

	/* The handling outcome. */
	h = c->received + 1 + (cm_day_t)pick(r, 15);
	{
		cm_env ae = DONTHU__V1__ENVELOPE__INIT;
		Donthu__V1__CaseActionRecorded car = DONTHU__V1__CASE_ACTION_RECORDED__INIT;
		Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
		Donthu__V1__Accept acc = DONTHU__V1__ACCEPT__INIT;
		Donthu__V1__Guide gd = DONTHU__V1__GUIDE__INIT;
		Donthu__V1__Forward fw = DONTHU__V1__FORWARD__INIT;
		Donthu__V1__FileAway fa = DONTHU__V1__FILE_AWAY__INIT;
		Donthu__V1__Refuse rf = DONTHU__V1__REFUSE__INIT;
		Donthu__V1__Withdraw wd = DONTHU__V1__WITHDRAW__INIT;
		const char *other = p->agencies[pick(r, (unsigned)p->nagencies)];

		a.case_number = c->number;
		a.effective_at_ms = cm_day_start_ms(h) + 9 * 3600 * 1000;
		car.case_number = c->number;
		car.action = &a;
		car.agency = (char *)c->agency;
		car.kind = (Donthu__V1__PetitionKind)kind;
		car.status_before = DONTHU__V1__CASE_STATUS__CASE_STATUS_RECEIVED;
		if (o < 60) {
			a.action_case = DONTHU__V1__CASE_ACTION__ACTION_ACCEPT;
			acc.complexity = DONTHU__V1__COMPLEXITY__COMPLEXITY_NORMAL;
			if (chance(r, 10))
				acc.handling_agency = (char *)other;
			a.accept = &acc;
			car.status_after = DONTHU__V1__CASE_STATUS__CASE_STATUS_ACCEPTED;
		} else if (o < 75) {
			a.action_case = DONTHU__V1__CASE_ACTION__ACTION_GUIDE;
			gd.to_agency = (char *)other;
			a.guide = &gd;
			car.status_after = DONTHU__V1__CASE_STATUS__CASE_STATUS_GUIDED;
		} else if (o < 85) {
			a.action_case = DONTHU__V1__CASE_ACTION__ACTION_FORWARD;
			fw.to_agency = (char *)other;
			a.forward = &fw;
			car.status_after = DONTHU__V1__CASE_STATUS__CASE_STATUS_FORWARDED;
		} else if (o < 90) {
			a.action_case = DONTHU__V1__CASE_ACTION__ACTION_FILE_AWAY;
			fa.reason = DONTHU__V1__FILE_REASON__FILE_REASON_INELIGIBLE;
			a.file_away = &fa;
			car.status_after = DONTHU__V1__CASE_STATUS__CASE_STATUS_FILED;
		} else if (o < 95) {
			a.action_case = DONTHU__V1__CASE_ACTION__ACTION_REFUSE;
			rf.reason = chance(r, 20) ? DONTHU__V1__REFUSAL_REASON__REFUSAL_REASON_COURT_ACCEPTED
						  : DONTHU__V1__REFUSAL_REASON__REFUSAL_REASON_TIME_LIMIT_EXPIRED;
			a.refuse = &rf;
			car.status_after = DONTHU__V1__CASE_STATUS__CASE_STATUS_REFUSED;
		} else if (o < 97) {
			a.action_case = DONTHU__V1__CASE_ACTION__ACTION_WITHDRAW;
			a.withdraw = &wd;
			car.status_after = DONTHU__V1__CASE_STATUS__CASE_STATUS_WITHDRAWN;
		} else {
			goto routing_only; /* still waiting */
		}
		ae.body_case = BODY(CASE_ACTION);
		ae.case_action = &car;
		push(&f[0], &ae, c->number, at(&cp, h));
		if (o >= 60 && o < 85) {
			cm_env re = DONTHU__V1__ENVELOPE__INIT;
			Donthu__V1__Transferred tr = DONTHU__V1__TRANSFERRED__INIT;
			tr.case_number = c->number;
			tr.from_agency = (char *)c->agency;
			tr.to_agency = (char *)other;
			tr.kind = o < 75 ? DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_GUIDE
					 : DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_FORWARD;
			re.body_case = BODY(TRANSFERRED);
			re.transferred = &tr;
			push(&f[1], &re, c->number, at(&cp, h));
		}
		if (o >= 85 && o < 90) {
			cm_env re = DONTHU__V1__ENVELOPE__INIT;
			Donthu__V1__Filed fl = DONTHU__V1__FILED__INIT;
			fl.case_number = c->number;
			fl.reason = DONTHU__V1__FILE_REASON__FILE_REASON_INELIGIBLE;
			re.body_case = BODY(FILED);
			re.filed = &fl;
			push(&f[1], &re, c->number, at(&cp, h));
		}
		if (o >= 60)
			return;
	}

	/* Accepted: a clock, then a resolution for most. */
	{
		cm_env de = DONTHU__V1__ENVELOPE__INIT;
		Donthu__V1__DeadlineSet ds = DONTHU__V1__DEADLINE_SET__INIT;
		char clock[80], due[11];
		const char *stage = kind == KIND(COMPLAINT)      ? "kn.resolve.r1"
				    : kind == KIND(DENUNCIATION) ? "tc.resolve"
								 : "kp.resolve";
		cm_day_t due_day = h + 30;
		bool resolve = chance(r, 80);
		unsigned how = pick(r, 100);

		snprintf(clock, sizeof(clock), "%s/%s", c->number, stage);
		cm_day_format(due_day, due);
		ds.case_number = c->number;
		ds.clock_id = clock;
		ds.stage = (char *)stage;
		ds.due_date = due;
		ds.length = 30;
		ds.unit = DONTHU__V1__DAY_UNIT__DAY_UNIT_CALENDAR;
		ds.agency = (char *)c->agency;
		de.body_case = BODY(DEADLINE_SET);
		de.deadline_set = &ds;
		push(&f[2], &de, c->number, at(&cp, h));

		d = h + 5 + (cm_day_t)pick(r, 50);
		if (d > due_day) {
			cm_env ee = DONTHU__V1__ENVELOPE__INIT;
			Donthu__V1__Escalation es = DONTHU__V1__ESCALATION__INIT;
			char raised[11];
			cm_day_format(due_day + 1, raised);
			es.level = DONTHU__V1__ESCALATION_LEVEL__ESCALATION_LEVEL_OVERDUE;
			es.reason = DONTHU__V1__ESCALATION_REASON__ESCALATION_REASON_DEADLINE;
			es.case_number = c->number;
			es.agency = (char *)c->agency;
			es.clock_id = clock;
			es.stage = (char *)stage;
			es.due_date = due;
			es.days_overdue = 1;
			es.raised_date = raised;
			ee.body_case = BODY(ESCALATION);
			ee.escalation = &es;
			push(&f[2], &ee, c->number, at(&cp, due_day + 1));
		}
		if (!resolve)
			return;
		{
			cm_env ae = DONTHU__V1__ENVELOPE__INIT;
			Donthu__V1__CaseActionRecorded car = DONTHU__V1__CASE_ACTION_RECORDED__INIT;
			Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
			Donthu__V1__Decide dec = DONTHU__V1__DECIDE__INIT;
			Donthu__V1__Withdraw wd = DONTHU__V1__WITHDRAW__INIT;
			Donthu__V1__Terminate tm = DONTHU__V1__TERMINATE__INIT;
			cm_env se = DONTHU__V1__ENVELOPE__INIT;
			Donthu__V1__ClockStopped cs = DONTHU__V1__CLOCK_STOPPED__INIT;
			char done[11];

			a.case_number = c->number;
			a.effective_at_ms = cm_day_start_ms(d) + 10 * 3600 * 1000;
			car.case_number = c->number;
			car.action = &a;
			car.agency = (char *)c->agency;
			car.kind = (Donthu__V1__PetitionKind)kind;
			car.status_before = DONTHU__V1__CASE_STATUS__CASE_STATUS_ACCEPTED;
			if (how < 85) {
				a.action_case = DONTHU__V1__CASE_ACTION__ACTION_DECIDE;
				dec.outcome = (Donthu__V1__DecisionOutcome)(1 + pick(r, 3));
				dec.effect = second ? (Donthu__V1__DecisionEffect)(1 + pick(r, 3)) : 0;
				dec.conclusion = kind == KIND(DENUNCIATION);
				if (chance(r, 30)) {
					dec.money_to_recover_vnd = (int64_t)(1 + pick(r, 500)) * 1000000;
					dec.land_to_recover_m2 = (double)pick(r, 5000) / 4.0;
				}
				if (chance(r, 20)) {
					dec.money_to_return_vnd = (int64_t)(1 + pick(r, 100)) * 500000;
					dec.land_to_return_m2 = (double)pick(r, 300) / 2.0;
					dec.people_rights_restored = 1 + pick(r, 3);
				}
				if (chance(r, 10))
					dec.people_to_sanction = 1 + pick(r, 3);
				if (chance(r, 3))
					dec.people_referred = 1 + pick(r, 2);
				a.decide = &dec;
				car.status_after = DONTHU__V1__CASE_STATUS__CASE_STATUS_DECIDED;
				c->decided = true;
			} else if (how < 95) {
				a.action_case = DONTHU__V1__CASE_ACTION__ACTION_WITHDRAW;
				a.withdraw = &wd;
				car.status_after = DONTHU__V1__CASE_STATUS__CASE_STATUS_WITHDRAWN;
			} else {
				a.action_case = DONTHU__V1__CASE_ACTION__ACTION_TERMINATE;
				tm.reason = "chết";
				a.terminate = &tm;
				car.status_after = DONTHU__V1__CASE_STATUS__CASE_STATUS_TERMINATED;
			}
			ae.body_case = BODY(CASE_ACTION);
			ae.case_action = &car;
			push(&f[0], &ae, c->number, at(&cp, d));

			cm_day_format(d, done);
			cs.case_number = c->number;
			cs.clock_id = clock;
			cs.stage = (char *)stage;
			cs.due_date = due;
			cs.completed_date = done;
			cs.met = d <= due_day;
			cs.agency = (char *)c->agency;
			se.body_case = BODY(CLOCK_STOPPED);
			se.clock_stopped = &cs;
			push(&f[2], &se, c->number, at(&cp, d));
		}
		if (c->decided && chance(r, 50)) {
			cm_env ae = DONTHU__V1__ENVELOPE__INIT;
			Donthu__V1__CaseActionRecorded car = DONTHU__V1__CASE_ACTION_RECORDED__INIT;
			Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
			Donthu__V1__Enforcement en = DONTHU__V1__ENFORCEMENT__INIT;
			cm_day_t ed = d + 10 + (cm_day_t)pick(r, 60);
			a.case_number = c->number;
			a.effective_at_ms = cm_day_start_ms(ed) + 11 * 3600 * 1000;
			a.action_case = DONTHU__V1__CASE_ACTION__ACTION_ENFORCEMENT;
			en.money_recovered_vnd = (int64_t)pick(r, 200) * 1000000;
			en.land_recovered_m2 = (double)pick(r, 100);
			en.money_returned_vnd = (int64_t)pick(r, 50) * 100000;
			en.people_sanctioned = pick(r, 2);
			en.completed = chance(r, 70);
			a.enforcement = &en;
			car.case_number = c->number;
			car.action = &a;
			car.agency = (char *)c->agency;
			car.kind = (Donthu__V1__PetitionKind)kind;
			car.status_before = DONTHU__V1__CASE_STATUS__CASE_STATUS_DECIDED;
			car.status_after = DONTHU__V1__CASE_STATUS__CASE_STATUS_DECIDED;
			ae.body_case = BODY(CASE_ACTION);
			ae.case_action = &car;
			push(&f[0], &ae, c->number, at(&cp, ed));
		}
		if (c->decided && chance(r, 5)) {
			cm_env ae = DONTHU__V1__ENVELOPE__INIT;
			Donthu__V1__CaseActionRecorded car = DONTHU__V1__CASE_ACTION_RECORDED__INIT;
			Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
			Donthu__V1__Recomplaint rc = DONTHU__V1__RECOMPLAINT__INIT;
			cm_day_t rd = d + 20 + (cm_day_t)pick(r, 30);
			a.case_number = c->number;
			a.effective_at_ms = cm_day_start_ms(rd) + 12 * 3600 * 1000;
			a.action_case = DONTHU__V1__CASE_ACTION__ACTION_RECOMPLAINT;
			rc.redenunciation = kind == KIND(DENUNCIATION);
			a.recomplaint = &rc;
			car.case_number = c->number;
			car.action = &a;
			car.agency = (char *)c->agency;
			car.kind = (Donthu__V1__PetitionKind)kind;
			car.status_before = DONTHU__V1__CASE_STATUS__CASE_STATUS_DECIDED;
			car.status_after = DONTHU__V1__CASE_STATUS__CASE_STATUS_DECIDED;
			ae.body_case = BODY(CASE_ACTION);
			ae.case_action = &car;
			push(&f[0], &ae, c->number, at(&cp, rd));
		}
	}
	return;
routing_only:
	if (chance(r, 30)) {
		cm_env ae = DONTHU__V1__ENVELOPE__INIT;
		Donthu__V1__CaseActionRecorded car = DONTHU__V1__CASE_ACTION_RECORDED__INIT;
		Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
		Donthu__V1__Urge ur = DONTHU__V1__URGE__INIT;
		a.case_number = c->number;
		a.effective_at_ms = cm_day_start_ms(h) + 9 * 3600 * 1000;
		a.action_case = DONTHU__V1__CASE_ACTION__ACTION_URGE;
		a.urge = &ur;
		car.case_number = c->number;
		car.action = &a;
		car.agency = (char *)c->agency;
		car.kind = (Donthu__V1__PetitionKind)kind;
		car.status_before = DONTHU__V1__CASE_STATUS__CASE_STATUS_RECEIVED;
		car.status_after = DONTHU__V1__CASE_STATUS__CASE_STATUS_RECEIVED;
		ae.body_case = BODY(CASE_ACTION);
		ae.case_action = &car;
		push(&f[0], &ae, c->number, at(&cp, h));
	}
}

static int cmp_case(const void *a, const void *b)
{
	const struct cinfo *x = a, *y = b;
	int r;

	if (x->received != y->received)
		return x->received < y->received ? -1 : 1;
	r = strcmp(x->agency, y->agency);
	return r ? r : strcmp(x->number, y->number);
}

void gen_feeds(const struct gen_params *p, struct gen_feed feeds[3])
{
	struct rng r = {p->seed}, rd = {p->seed ^ 0x5DEECE66DULL};
	struct cinfo *ci = cm_xcalloc(p->cases ? p->cases : 1, sizeof(*ci));
	unsigned *serial = cm_xcalloc(p->nagencies, sizeof(*serial));
	cm_day_t span = p->last_day - p->first_day + 1;

	memset(feeds, 0, 3 * sizeof(*feeds));
	feeds[0].producer = "intake";
	feeds[1].producer = "routing";
	feeds[2].producer = "deadline";
	/* Cases are numbered as intake numbers them: per agency, in order of
	 * receipt ("<agency>-<year>-<serial>"), so case keys of the same period
	 * sit together as they do in production. */
	for (size_t i = 0; i < p->cases; i++) {
		ci[i].agency = p->agencies[pick(&rd, (unsigned)p->nagencies)];
		ci[i].received = p->first_day + (cm_day_t)pick(&rd, (unsigned)span);
		snprintf(ci[i].number, sizeof(ci[i].number), "%09zu", i);
	}
	qsort(ci, p->cases, sizeof(*ci), cmp_case);
	for (size_t i = 0; i < p->cases; i++) {
		size_t a = 0;
		int y, m, d;
		while (p->agencies[a] != ci[i].agency)
			a++;
		cm_day_to_ymd(ci[i].received, &y, &m, &d);
		snprintf(ci[i].number, sizeof(ci[i].number), "%s-%04d-%06u", ci[i].agency, y,
			 ++serial[a]);
	}
	free(serial);
	for (size_t i = 0; i < p->cases; i++)
		gen_case(p, &r, i, ci, feeds);
	for (int i = 0; i < 3; i++)
		finish(&feeds[i]);
	free(ci);
}

void gen_free(struct gen_feed feeds[3])
{
	for (int i = 0; i < 3; i++) {
		for (size_t j = 0; j < feeds[i].n; j++)
			free(feeds[i].ev[j].buf);
		free(feeds[i].ev);
		memset(&feeds[i], 0, sizeof(feeds[i]));
	}
}

#include "apply.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "schema.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x
#define ST(x) DONTHU__V1__CASE_STATUS__CASE_STATUS_##x
#define AC(x) DONTHU__V1__CASE_ACTION__ACTION_##x
#define BIT(f) (1ull << (f))

static bool empty(const char *s)
{
	return !s || !*s;
}

static void copy_id(char *dst, const char *src)
{
	size_t n = src ? strnlen(src, ROUTING_ID_MAX) : 0;

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ----------------------------------------------------------- emitting --- */

static int emit(struct routing_engine *e, struct cm_txn *t, const char *case_number, int64_t at,
		cm_env *ev)
{
	uint64_t seq;

	ev->case_number = (char *)case_number;
	/* Never 0: the feed would stamp its own clock, and a replay would
	 * differ. */
	ev->occurred_at_ms = at ? at : 1;
	return cm_feed_append(e->feed, t, ev, &seq);
}

static int emit_assigned(struct routing_engine *e, struct cm_txn *t, const char *case_number,
			 int64_t at, const char *agency, const char *previous,
			 Donthu__V1__AssignReason reason, const struct routing_rule *rule,
			 const char *note)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__Assigned m = DONTHU__V1__ASSIGNED__INIT;

	m.case_number = (char *)case_number;
	m.agency = (char *)agency;
	m.previous_agency = (char *)(previous ? previous : "");
	m.reason = reason;
	m.rule_id = rule->id;
	m.legal_basis = rule->basis;
	m.note = (char *)(note ? note : "");
	ev.body_case = BODY(ASSIGNED);
	ev.assigned = &m;
	switch (reason) {
	case DONTHU__V1__ASSIGN_REASON__ASSIGN_REASON_REHOMED: e->pending.rehomed++; break;
	case DONTHU__V1__ASSIGN_REASON__ASSIGN_REASON_OVERRIDE: e->pending.overrides++; break;
	default: e->pending.assigned++; break;
	}
	return emit(e, t, case_number, at, &ev);
}

static int emit_flag(struct routing_engine *e, struct cm_txn *t, const char *case_number,
		     int64_t at, Donthu__V1__FlagKind kind, uint32_t count, const char *agency,
		     const char *detail, const struct routing_rule *rule)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__CaseFlagged m = DONTHU__V1__CASE_FLAGGED__INIT;

	m.case_number = (char *)case_number;
	m.kind = kind;
	m.count = count;
	m.agency = (char *)(agency ? agency : "");
	m.detail = (char *)(detail ? detail : "");
	m.rule_id = rule->id;
	m.legal_basis = rule->basis;
	ev.body_case = BODY(FLAGGED);
	ev.flagged = &m;
	if ((unsigned)kind < CM_ARRAY_LEN(e->pending.flags))
		e->pending.flags[kind]++;
	return emit(e, t, case_number, at, &ev);
}

static int emit_filed(struct routing_engine *e, struct cm_txn *t, const char *case_number,
		      int64_t at, Donthu__V1__FileReason reason, const struct routing_rule *rule)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__Filed m = DONTHU__V1__FILED__INIT;

	m.case_number = (char *)case_number;
	m.reason = reason;
	m.rule_id = rule->id;
	m.legal_basis = rule->basis;
	ev.body_case = BODY(FILED);
	ev.filed = &m;
	e->pending.filed++;
	return emit(e, t, case_number, at, &ev);
}

/* ------------------------------------------------------ transfers --- */

static bool in_list(const char (*list)[ROUTING_ID_MAX + 1], uint32_t n, const char *code)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(list[i], code) == 0)
			return true;
	return false;
}

static bool in_froms(const struct routing_group *g, const char *code)
{
	return in_list(g->froms, g->nfroms, code);
}

static bool in_tos(const struct routing_group *g, const char *code)
{
	return in_list(g->tos, g->ntos, code);
}

static void add_list(char (*list)[ROUTING_ID_MAX + 1], uint32_t *n, const char *code)
{
	if (empty(code) || in_list((const char (*)[ROUTING_ID_MAX + 1])list, *n, code))
		return;
	/* Keep the latest: the oldest origin is the least likely to come
	 * back round. */
	if (*n == ROUTING_MAX_FROMS) {
		memmove(list[0], list[1], (ROUTING_MAX_FROMS - 1) * sizeof(list[0]));
		(*n)--;
	}
	copy_id(list[(*n)++], code);
}

/* Raise the transfer-loop flag for case c when to is a body the matter was
 * already sent away from, or the body that forwarded this petition here. */
static int check_loop(struct routing_engine *e, struct cm_txn *t, const char *case_number,
		      int64_t at, struct routing_case *c, const struct routing_group *g,
		      const char *from, const char *to, const char *forwarded_by, uint64_t facts)
{
	const struct routing_rule *r;
	char path[512];
	size_t o = 0;

	if (c->loop_flagged || empty(to))
		return 0;
	if (in_froms(g, to)) {
		/* "A → B → A": where the matter has been, then where it goes. */
		for (uint32_t i = 0; i < g->nfroms && o < sizeof(path); i++)
			o += (size_t)snprintf(path + o, sizeof(path) - o, "%s → ", g->froms[i]);
		if (o < sizeof(path) && !in_froms(g, from))
			o += (size_t)snprintf(path + o, sizeof(path) - o, "%s → ", from);
		if (o < sizeof(path))
			snprintf(path + o, sizeof(path) - o, "%s", to);
	} else if (!empty(forwarded_by) && strcmp(forwarded_by, to) == 0) {
		snprintf(path, sizeof(path), "%s → %s → %s", forwarded_by, from, to);
	} else {
		return 0;
	}
	if (!(r = routing_loop_flag(e->rules, c->kind, facts)))
		return 0;
	c->loop_flagged = true;
	return emit_flag(e, t, case_number, at, DONTHU__V1__FLAG_KIND__FLAG_KIND_TRANSFER_LOOP,
			 g->nfroms + 1, from, path, r);
}

static int emit_transfer(struct routing_engine *e, struct cm_txn *t, const char *case_number,
			 int64_t at, struct routing_case *c, struct routing_group *g,
			 Donthu__V1__TransferKind kind, const char *to,
			 const struct routing_rule *rule, uint32_t due, const char *forwarded_by,
			 uint64_t facts)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__Transferred m = DONTHU__V1__TRANSFERRED__INIT;
	int rc;

	m.case_number = (char *)case_number;
	m.from_agency = c->holder;
	m.to_agency = (char *)to;
	m.kind = kind;
	m.rule_id = rule->id;
	m.legal_basis = rule->basis;
	m.due_working_days = due;
	ev.body_case = BODY(TRANSFERRED);
	ev.transferred = &m;
	e->pending.transfers++;
	if ((rc = emit(e, t, case_number, at, &ev)))
		return rc;
	rc = check_loop(e, t, case_number, at, c, g, c->holder, to, forwarded_by, facts);
	add_list(g->froms, &g->nfroms, c->holder);
	add_list(g->tos, &g->ntos, to);
	if (kind == DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_GUIDE)
		g->guided = true;
	else if (kind == DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_FORWARD)
		g->forwarded = true;
	return rc;
}

/* ------------------------------------------------------ re-homing --- */

/* Move case c to a new holding agency, keeping the open index in step. */
static int set_holder(struct cm_txn *t, const char *case_number, struct routing_case *c,
		      const char *holder)
{
	int rc;

	if (strcmp(c->holder, holder) == 0)
		return 0;
	if (c->open && ((rc = routing_open_del(t, c->holder, case_number)) ||
			(rc = routing_open_put(t, holder, case_number))))
		return rc;
	copy_id(c->holder, holder);
	return 0;
}

/* If c's holder is not active on day and has a successor, move the case to
 * it and say so. */
static int rehome_case(struct routing_engine *e, struct cm_txn *t, const char *case_number,
		       struct routing_case *c, cm_day_t day, int64_t at)
{
	const struct cm_agency *a = cm_register_agency(e->reg, c->holder), *s;
	char note[256], prev[ROUTING_ID_MAX + 1], date[11];
	int rc;

	if (!a || cm_agency_active(a, day))
		return 0;
	s = cm_register_resolve(e->reg, c->holder, day);
	if (!s || strcmp(s->code, c->holder) == 0)
		return 0;
	cm_day_format(a->effective_to, date);
	snprintf(note, sizeof(note), "%s ended %s; successor %s", a->code,
		 a->effective_to == INT32_MAX ? "(not yet)" : date, s->code);
	copy_id(prev, c->holder);
	if ((rc = set_holder(t, case_number, c, s->code)))
		return rc;
	return emit_assigned(e, t, case_number, at, s->code, prev,
			     DONTHU__V1__ASSIGN_REASON__ASSIGN_REASON_REHOMED,
			     e->rules->action[RA_REHOME], note);
}

/* ------------------------------------------------------- petitions --- */

struct match {
	bool found;
	uint64_t serial;
	double similarity;
	char case_number[ROUTING_ID_MAX + 1];
	struct routing_case c;
};

/* The most similar earlier petition of the same person about the same
 * respondent, at or above the threshold; ties go to the earliest. */
static int find_match(struct routing_engine *e, struct cm_txn *t, const struct routing_sketch *sk,
		      const uint64_t *pks, size_t npk, struct match *m)
{
	memset(m, 0, sizeof(*m));
	if (!sk->n)
		return 0;
	for (size_t i = 0; i < npk; i++) {
		uint64_t *cand = NULL;
		size_t n = 0, visited = 0;
		int rc = routing_dedup_candidates(t, ROUTING_DB_DEDUP, pks[i], sk, &cand, &n,
						  &visited);

		if (rc)
			return rc;
		e->pending.dedup_lookups++;
		e->pending.dedup_visited += visited;
		for (size_t k = 0; k < n; k++) {
			char num[ROUTING_ID_MAX + 1];
			struct routing_case c;
			double sim;

			if (m->found && cand[k] == m->serial)
				continue;
			rc = routing_serial_get(t, cand[k], num);
			if (rc == 0)
				rc = routing_case_get(t, num, &c);
			if (rc) {
				free(cand);
				return rc;
			}
			sim = routing_sketch_similarity(sk, &c.sketch);
			if (sim < e->rules->dedup.threshold)
				continue;
			if (!m->found || sim > m->similarity ||
			    (sim == m->similarity && cand[k] < m->serial)) {
				m->found = true;
				m->serial = cand[k];
				m->similarity = sim;
				copy_id(m->case_number, num);
				m->c = c;
			}
		}
		free(cand);
	}
	return 0;
}

static bool terminal(Donthu__V1__CaseStatus s)
{
	switch (s) {
	case ST(CLOSED):
	case ST(REFUSED):
	case ST(GUIDED):
	case ST(FORWARDED):
	case ST(RETURNED):
	case ST(FILED):
	case ST(WITHDRAWN):
	case ST(TERMINATED):
		return true;
	default:
		return false;
	}
}

static int emit_classified(struct routing_engine *e, struct cm_txn *t, const char *case_number,
			   int64_t at, const Donthu__V1__Petition *p,
			   const struct routing_decision *d)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__Classified m = DONTHU__V1__CLASSIFIED__INIT;

	m.case_number = (char *)case_number;
	m.content_kind = p->kind;
	m.split_advised = d->split_advised;
	m.eligible = d->eligible;
	m.ineligible_reason = (char *)(d->ineligible_reason ? d->ineligible_reason : "");
	m.within_competence = d->within_competence;
	m.signer_count = d->signer_count;
	m.many_signers = d->many_signers;
	m.delegation = d->delegation;
	m.rule_id = d->eligibility->id;
	m.legal_basis = d->eligibility->basis;
	m.receiving_agency = p->receiving_agency;
	m.field = p->field;
	ev.body_case = BODY(CLASSIFIED);
	ev.classified = &m;
	return emit(e, t, case_number, at, &ev);
}

/* A copy of the same content at another body is not a repeat, nor is the
 * matter arriving where it was transferred. A copy carries
 * sent_to_several_bodies only when this body does not process it (Luật TC
 * Điều 24 k3), which the deadline service reads as "stop its clocks"; a copy
 * that reached the competent body is simply linked. */
static int emit_link(struct routing_engine *e, struct cm_txn *t, const char *case_number,
		     int64_t at, const char *root, double sim, bool several, bool arrival,
		     bool not_processed)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__DuplicateLinked m = DONTHU__V1__DUPLICATE_LINKED__INIT;
	enum routing_action rule = arrival	? RA_LINK_TRANSFERRED
				   : several	? RA_LINK_SEVERAL_BODIES
						: RA_LINK_REPEAT;

	m.case_number = (char *)case_number;
	m.original_case = (char *)root;
	m.similarity = sim;
	m.repeat = !several && !arrival;
	m.sent_to_several_bodies = several && not_processed;
	m.rule_id = e->rules->action[rule]->id;
	m.legal_basis = e->rules->action[rule]->basis;
	ev.body_case = BODY(DUPLICATE_LINKED);
	ev.duplicate_linked = &m;
	e->pending.duplicates++;
	return emit(e, t, case_number, at, &ev);
}

static Donthu__V1__TransferKind transfer_kind(enum routing_outcome o)
{
	switch (o) {
	case RO_GUIDE: return DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_GUIDE;
	case RO_FORWARD: return DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_FORWARD;
	default: return DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_RETURN;
	}
}

static int apply_petition(struct routing_engine *e, struct cm_txn *t, const cm_env *env)
{
	const Donthu__V1__PetitionReceived *pr = env->petition_received;
	const Donthu__V1__Petition *p = pr ? pr->petition : NULL;
	const char *num = pr ? pr->case_number : NULL;
	const struct routing_rules *R = e->rules;
	struct routing_case c, prev;
	struct routing_group g;
	struct routing_history h = {0};
	struct routing_decision d;
	struct match m;
	uint64_t pks[64];
	size_t npk = 0;
	const char *copies[1];
	char *rkey = NULL;
	int64_t at;
	bool several = false, arrival = false;
	int rc;

	if (!p || empty(num) || strlen(num) > ROUTING_ID_MAX || empty(p->receiving_agency)) {
		cm_log_warn(ROUTING, "intake event %" PRIu64 ": petition without case number or "
				     "receiving agency; skipped",
			    env->sequence);
		e->pending.skipped++;
		return 0;
	}
	rc = routing_case_get(t, num, &prev);
	if (rc == 0)
		return 0; /* routed already: the same petition twice is a no-op */
	if (rc != -ENOENT)
		return rc;
	at = env->occurred_at_ms ? env->occurred_at_ms : p->received_at_ms;
	memset(&c, 0, sizeof(c));
	c.kind = (uint8_t)p->kind;
	c.round = (uint8_t)p->round;
	c.received_day = cm_day_of_ms(p->received_at_ms);
	copy_id(c.receiving, p->receiving_agency);
	copy_id(c.root, num);
	if ((rc = routing_next_serial(t, &c.serial)))
		return rc;
	if (routing_sketch_text(&R->dedup, p->summary, p->text, &c.sketch) != 0)
		c.sketch.n = 0; /* intake checked UTF-8; never match on garbage */
	if (p->respondent)
		rc = routing_respondent_key(p->respondent->name, p->respondent->issuing_agency,
					    p->respondent->managing_agency, &rkey);
	else
		rc = routing_respondent_key(NULL, NULL, NULL, &rkey);
	if (rc)
		rkey = cm_xstrdup("");
	for (size_t i = 0; i < pr->n_petitioners && npk < R->dedup.max_pseudonyms &&
			   npk < CM_ARRAY_LEN(pks);
	     i++) {
		const ProtobufCBinaryData *ps = &pr->petitioners[i]->pseudonym;
		if (ps->len)
			pks[npk++] = routing_person_key(ps->data, ps->len, rkey);
	}
	free(rkey);

	if ((rc = find_match(e, t, &c.sketch, pks, npk, &m)))
		return rc;
	memset(&g, 0, sizeof(g));
	g.decided_day = ROUTING_DAY_NONE;
	if (m.found) {
		rc = routing_group_get(t, m.c.root, &g);
		if (rc)
			return rc == -ENOENT ? CM_ECORRUPT : rc;
		copy_id(c.root, m.c.root);
		/* The matter arriving where it was guided or forwarded is neither
		 * a repeat nor a copy; otherwise a copy of the same content at
		 * another body within the window was sent to several bodies. */
		arrival = p->channel == DONTHU__V1__CHANNEL__CHANNEL_FORWARDED ||
			  in_tos(&g, p->receiving_agency);
		several = !arrival && strcmp(m.c.receiving, p->receiving_agency) != 0 &&
			  c.received_day - m.c.received_day <= (cm_day_t)R->several_bodies_window_days;
		h.duplicate = true;
		h.transferred_here = arrival;
		h.several_bodies = several;
		h.group_open = g.open > 0;
		h.group_guided = g.guided;
		h.group_forwarded = g.forwarded;
		h.group_decided_in_effect =
			g.decided_day != ROUTING_DAY_NONE &&
			(int64_t)g.decided_day + R->legal_effect_days <= (int64_t)c.received_day;
		if (several) {
			copies[0] = m.c.receiving;
			h.copies = copies;
			h.ncopies = 1;
		}
	}
	routing_decide(R, e->reg, e->fm, p, &h, &d);
	e->pending.petitions++;

	if ((rc = emit_classified(e, t, num, at, p, &d)))
		return rc;
	if (m.found && (rc = emit_link(e, t, num, at, c.root, m.similarity, several, arrival,
				       d.outcome == RO_FILE)))
		return rc;
	for (size_t i = 0; i < d.nflags; i++) {
		const struct routing_flag *f = &d.flags[i];
		char detail[160] = "";

		if (f->kind == DONTHU__V1__FLAG_KIND__FLAG_KIND_SENT_TO_SEVERAL_BODIES && several)
			snprintf(detail, sizeof(detail), "same content received by %s as %s",
				 m.c.receiving, m.case_number);
		if ((rc = emit_flag(e, t, num, at, f->kind,
				    f->kind == DONTHU__V1__FLAG_KIND__FLAG_KIND_SENT_TO_SEVERAL_BODIES
					    ? f->count + (several ? 1 : 0)
					    : f->count,
				    d.receiving ? d.receiving->code : p->receiving_agency, detail,
				    f->rule)))
			return rc;
	}

	copy_id(c.holder, d.receiving ? d.receiving->code : p->receiving_agency);
	c.open = d.outcome != RO_FILE;
	/* Someone else says the competent body is one that already passed the
	 * matter on: the petition is going round in circles, whatever this body
	 * does with it now. */
	if (!d.within_competence && d.competent &&
	    (rc = check_loop(e, t, num, at, &c, &g, c.holder, d.competent->code, p->forwarded_by,
			     d.facts)))
		return rc;
	switch (d.outcome) {
	case RO_ASSIGN: {
		bool rehomed = d.rehomed && d.competent && strcmp(d.to, d.competent->code) == 0;
		char note[256];

		if (rehomed)
			snprintf(note, sizeof(note), "%s named %s, which has ended; successor %s",
				 d.competence->id, d.declared, d.to);
		else
			snprintf(note, sizeof(note), "handling rule %s", d.handling->id);
		rc = emit_assigned(e, t, num, at, d.to, rehomed ? d.declared : "",
				   rehomed ? DONTHU__V1__ASSIGN_REASON__ASSIGN_REASON_REHOMED
					   : DONTHU__V1__ASSIGN_REASON__ASSIGN_REASON_RULE,
				   rehomed ? R->action[RA_REHOME] : d.competence, note);
		copy_id(c.holder, d.to);
		break;
	}
	case RO_GUIDE:
	case RO_FORWARD:
	case RO_RETURN:
		rc = emit_transfer(e, t, num, at, &c, &g, transfer_kind(d.outcome), d.to, d.handling,
				   d.due_working_days, p->forwarded_by, d.facts);
		break;
	case RO_FILE:
		rc = emit_filed(e, t, num, at, d.file_reason, d.handling);
		break;
	default:
		break;
	}
	if (rc)
		return rc;

	/* State: the case, its serial, its index entries, its matter. */
	if ((rc = routing_case_put(t, num, &c)))
		return rc;
	{
		uint8_t k[8];
		cm_be64_put(k, c.serial);
		if ((rc = cm_txn_put(t, ROUTING_DB_SERIALS, k, 8, num, strlen(num),
				     CM_PUT_NOOVERWRITE)))
			return rc;
	}
	for (size_t i = 0; i < npk && c.sketch.n; i++)
		if ((rc = routing_dedup_add(t, ROUTING_DB_DEDUP, pks[i], &c.sketch, c.serial)))
			return rc;
	g.cases++;
	if (c.open) {
		g.open++;
		if ((rc = routing_open_put(t, c.holder, num)))
			return rc;
	}
	return routing_group_put(t, c.root, &g);
}

/* --------------------------------------------------------- actions --- */

static int apply_action(struct routing_engine *e, struct cm_txn *t, const cm_env *env)
{
	const Donthu__V1__CaseActionRecorded *car = env->case_action;
	const Donthu__V1__CaseAction *a = car ? car->action : NULL;
	const char *num = car ? car->case_number : NULL;
	const struct routing_rules *R = e->rules;
	struct routing_case c;
	struct routing_group g;
	int64_t at = env->occurred_at_ms;
	cm_day_t day;
	bool was_open, open;
	uint64_t facts = 0;
	int rc;

	if (!a || empty(num) || strlen(num) > ROUTING_ID_MAX) {
		e->pending.skipped++;
		return 0;
	}
	rc = routing_case_get(t, num, &c);
	if (rc == -ENOENT) {
		cm_log_warn(ROUTING, "intake event %" PRIu64 ": action on case %s, which routing "
				     "never saw; skipped",
			    env->sequence, num);
		e->pending.skipped++;
		return 0;
	}
	if (rc || (rc = routing_group_get(t, c.root, &g)))
		return rc == -ENOENT ? CM_ECORRUPT : rc;
	if (!at)
		at = a->effective_at_ms;
	day = cm_day_of_ms(a->effective_at_ms ? a->effective_at_ms : at);
	e->pending.actions++;
	was_open = c.open;

	if ((rc = rehome_case(e, t, num, &c, day, at)))
		return rc;
	switch (a->action_case) {
	case AC(REASSIGN): {
		const char *to = a->reassign ? a->reassign->to_agency : NULL;
		char prev[ROUTING_ID_MAX + 1];

		if (empty(to) || strcmp(to, c.holder) == 0)
			break;
		copy_id(prev, c.holder);
		if ((rc = set_holder(t, num, &c, to)) ||
		    (rc = emit_assigned(e, t, num, at, to, prev,
					DONTHU__V1__ASSIGN_REASON__ASSIGN_REASON_OVERRIDE,
					R->action[RA_REASSIGN], a->reassign->reason)) ||
		    (rc = rehome_case(e, t, num, &c, day, at)))
			return rc;
		break;
	}
	case AC(GUIDE):
		if (a->guide && !empty(a->guide->to_agency))
			rc = emit_transfer(e, t, num, at, &c, &g,
					   DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_GUIDE,
					   a->guide->to_agency, R->action[RA_GUIDE], 0, NULL, facts);
		break;
	case AC(FORWARD):
		if (a->forward && !empty(a->forward->to_agency))
			rc = emit_transfer(e, t, num, at, &c, &g,
					   DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_FORWARD,
					   a->forward->to_agency, R->action[RA_FORWARD], 0, NULL,
					   facts);
		break;
	case AC(GIVE_BACK):
		if (a->give_back && !empty(a->give_back->to_body))
			rc = emit_transfer(e, t, num, at, &c, &g,
					   DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_RETURN,
					   a->give_back->to_body, R->action[RA_GIVE_BACK], 0, NULL,
					   facts);
		break;
	case AC(FILE_AWAY):
		rc = emit_filed(e, t, num, at,
				a->file_away ? a->file_away->reason
					     : DONTHU__V1__FILE_REASON__FILE_REASON_OTHER,
				R->action[RA_FILE_AWAY]);
		break;
	case AC(DECIDE):
		g.decided_day = day;
		break;
	default:
		break;
	}
	if (rc)
		return rc;

	/* Open follows intake's status: a case routing filed is open again if
	 * an officer accepts it anyway. */
	open = car->status_after != ST(UNSPECIFIED) ? !terminal(car->status_after) : was_open;
	if (open != was_open) {
		rc = open ? routing_open_put(t, c.holder, num) : routing_open_del(t, c.holder, num);
		if (rc)
			return rc;
		if (open)
			g.open++;
		else if (g.open)
			g.open--;
		c.open = open;
	}
	if ((rc = routing_case_put(t, num, &c)))
		return rc;
	return routing_group_put(t, c.root, &g);
}

int routing_apply(struct routing_engine *e, struct cm_txn *t, const cm_env *ev)
{
	/* The consumer runs a batch again from its first event when the
	 * transaction is retried: the counters start over with it. */
	if (ev->sequence && ev->sequence <= e->pending.last_seq)
		memset(&e->pending, 0, sizeof(e->pending));
	e->pending.last_seq = ev->sequence;
	switch (ev->body_case) {
	case BODY(PETITION_RECEIVED):
		return apply_petition(e, t, ev);
	case BODY(CASE_ACTION):
		return apply_action(e, t, ev);
	default:
		return 0;
	}
}

/* ------------------------------------------------------ re-home all --- */

struct collect {
	size_t plen;
	const char *prefix;
	char **cases;
	size_t n, cap;
};

static int collect_cb(const struct cm_val *key, const struct cm_val *val, void *arg)
{
	struct collect *c = arg;
	const char *k = key->data;

	(void)val;
	if (key->size <= c->plen || memcmp(k, c->prefix, c->plen) != 0)
		return 1;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->cases = cm_xrealloc(c->cases, c->cap * sizeof(*c->cases));
	}
	c->cases[c->n++] = cm_xstrndup(k + c->plen, key->size - c->plen);
	return 0;
}

int routing_rehome_open(struct routing_engine *e, struct cm_txn *t, cm_day_t day, int64_t at_ms,
			uint64_t *moved)
{
	size_t n = cm_register_agency_count(e->reg);
	uint64_t count = 0;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct cm_agency *a = cm_register_agency_at(e->reg, i);
		struct collect col = {0};
		char prefix[ROUTING_ID_MAX + 2];
		int plen;

		if (!a || cm_agency_active(a, day) || !a->successor_code)
			continue;
		plen = snprintf(prefix, sizeof(prefix), "%s%c", a->code, 0);
		if (plen <= 0 || (size_t)plen >= sizeof(prefix))
			continue;
		col.prefix = prefix;
		col.plen = (size_t)plen;
		/* Collect first: re-homing writes the same sub-database. */
		rc = cm_txn_iter(t, ROUTING_DB_OPEN, prefix, (size_t)plen, collect_cb, &col);
		if (rc > 0)
			rc = 0;
		for (size_t k = 0; k < col.n && rc == 0; k++) {
			struct routing_case c;

			rc = routing_case_get(t, col.cases[k], &c);
			if (rc == 0 && strcmp(c.holder, a->code) == 0) {
				rc = rehome_case(e, t, col.cases[k], &c, day, at_ms);
				if (rc == 0 && strcmp(c.holder, a->code) != 0) {
					count++;
					rc = routing_case_put(t, col.cases[k], &c);
				}
			} else if (rc == -ENOENT) {
				rc = 0; /* a stale index entry: nothing to move */
			}
		}
		for (size_t k = 0; k < col.n; k++)
			free(col.cases[k]);
		free(col.cases);
	}
	if (moved)
		*moved = count;
	return rc;
}

/*
 * model.c - applying the three feeds to the case summaries and the counters.
 *
 * Every case event follows one shape: read the summary, list what it
 * contributes to the counters, change the summary, list again, and buffer
 * (new - old). Facts that never change once they happened (a reception, a
 * clock that stopped, an urge) are buffered directly. The buffer is merged
 * and written row by row in report_model_flush().
 */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "indicators.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x
#define ACT(x) DONTHU__V1__CASE_ACTION__ACTION_##x
#define KIND(x) DONTHU__V1__PETITION_KIND__PETITION_KIND_##x
#define CSTAT(x) DONTHU__V1__CASE_STATUS__CASE_STATUS_##x

/* A delegation (đoàn đông người) is five or more people about one matter
 * (legal-reference.md §4.1, working rule). */
#define DELEGATION_MIN 5

/* ------------------------------------------------------------- codec --- */

#define CASE_VERSION 1

struct wbuf {
	uint8_t *p;
	size_t n;
};

static void w8(struct wbuf *w, uint8_t v)
{
	w->p[w->n++] = v;
}

static void w16(struct wbuf *w, uint16_t v)
{
	w->p[w->n++] = (uint8_t)(v >> 8);
	w->p[w->n++] = (uint8_t)v;
}

static void w32(struct wbuf *w, uint32_t v)
{
	cm_be32_put(w->p + w->n, v);
	w->n += 4;
}

static void w64(struct wbuf *w, uint64_t v)
{
	cm_be64_put(w->p + w->n, v);
	w->n += 8;
}

static void wstr(struct wbuf *w, const char *s, size_t cap)
{
	size_t l = strnlen(s, cap);
	w->p[w->n++] = (uint8_t)l;
	memcpy(w->p + w->n, s, l);
	w->n += l;
}

struct rbuf {
	const uint8_t *p;
	size_t n, at;
	bool bad;
};

static bool need(struct rbuf *r, size_t k)
{
	if (r->bad || r->at + k > r->n) {
		r->bad = true;
		return false;
	}
	return true;
}

static uint8_t r8(struct rbuf *r)
{
	return need(r, 1) ? r->p[r->at++] : 0;
}

static uint16_t r16(struct rbuf *r)
{
	uint16_t v;
	if (!need(r, 2))
		return 0;
	v = (uint16_t)((r->p[r->at] << 8) | r->p[r->at + 1]);
	r->at += 2;
	return v;
}

static uint32_t r32(struct rbuf *r)
{
	uint32_t v;
	if (!need(r, 4))
		return 0;
	v = cm_be32_get(r->p + r->at);
	r->at += 4;
	return v;
}

static uint64_t r64(struct rbuf *r)
{
	uint64_t v;
	if (!need(r, 8))
		return 0;
	v = cm_be64_get(r->p + r->at);
	r->at += 8;
	return v;
}

static void rstr(struct rbuf *r, char *out, size_t cap)
{
	uint8_t l = r8(r);
	if (l > cap || !need(r, l)) {
		r->bad = true;
		out[0] = '\0';
		return;
	}
	memcpy(out, r->p + r->at, l);
	out[l] = '\0';
	r->at += l;
}

size_t report_case_encode(const struct report_case *c, uint8_t *buf)
{
	struct wbuf w = {buf, 0};

	w8(&w, CASE_VERSION);
	w8(&w, c->has_intake);
	w8(&w, c->kind);
	w8(&w, c->subject);
	w8(&w, c->round);
	w8(&w, c->channel);
	w8(&w, c->status);
	w8(&w, c->complexity);
	w8(&w, c->anonymous);
	w8(&w, c->serious_harm);
	w8(&w, c->has_prior);
	w8(&w, c->prior_outcome);
	w8(&w, c->remote);
	wstr(&w, c->agency, REPORT_CODE_MAX);
	wstr(&w, c->handling, REPORT_CODE_MAX);
	wstr(&w, c->field, REPORT_CODE_MAX);
	w16(&w, c->field_dim);
	w32(&w, (uint32_t)c->received);
	w32(&w, c->signers);
	w32(&w, c->delegation);
	wstr(&w, c->forwarded_by, REPORT_CODE_MAX);
	for (int i = 0; i < RC_SENT; i++)
		wstr(&w, c->sent_to[i], REPORT_CODE_MAX);
	w8(&w, c->i_outcome);
	w8(&w, c->refuse_reason);
	w8(&w, c->file_reason);
	w32(&w, (uint32_t)c->i_outcome_day);
	w32(&w, (uint32_t)c->accepted);
	w32(&w, (uint32_t)c->resolved);
	w8(&w, c->resolved_how);
	w8(&w, c->outcome);
	w8(&w, c->effect);
	w8(&w, c->conclusion);
	w64(&w, (uint64_t)c->money_recover);
	w64(&w, (uint64_t)c->money_return);
	w64(&w, (uint64_t)c->land_recover);
	w64(&w, (uint64_t)c->land_return);
	w32(&w, c->to_sanction);
	w32(&w, c->referred);
	w32(&w, c->rights_restored);
	w8(&w, c->nenf);
	for (int i = 0; i < c->nenf; i++) {
		w32(&w, (uint32_t)c->enf[i].day);
		w64(&w, (uint64_t)c->enf[i].money_rec);
		w64(&w, (uint64_t)c->enf[i].money_ret);
		w64(&w, (uint64_t)c->enf[i].land_rec);
		w64(&w, (uint64_t)c->enf[i].land_ret);
		w32(&w, c->enf[i].sanctioned);
	}
	w32(&w, (uint32_t)c->enf_done);
	w16(&w, c->recomplaints);
	w16(&w, c->urges);
	w16(&w, c->actions);
	w8(&w, c->redenunciation);
	w8(&w, c->recomplaint_after_r2);
	w32(&w, (uint32_t)c->closed);
	w32(&w, (uint32_t)c->last_action);
	wstr(&w, c->summary, sizeof(c->summary) - 1);

	w8(&w, c->has_routing);
	w8(&w, c->classified);
	w8(&w, c->r_kind);
	w8(&w, c->r_eligible);
	w8(&w, c->r_within);
	w8(&w, c->r_many);
	w8(&w, c->r_delegation);
	w32(&w, c->r_signers);
	wstr(&w, c->r_field, REPORT_CODE_MAX);
	w16(&w, c->r_field_dim);
	wstr(&w, c->assigned, REPORT_CODE_MAX);
	w8(&w, c->r_outcome);
	w8(&w, c->r_file_reason);
	w32(&w, (uint32_t)c->r_outcome_day);
	w16(&w, c->transfers);
	w8(&w, c->loop);
	w8(&w, c->nvisited);
	for (int i = 0; i < c->nvisited; i++)
		w32(&w, c->visited[i]);
	wstr(&w, c->r_to[0], REPORT_CODE_MAX);
	wstr(&w, c->r_to[1], REPORT_CODE_MAX);
	wstr(&w, c->dup_of, REPORT_CASE_MAX);
	w8(&w, c->dup_repeat);
	w16(&w, c->repeat_count);
	w16(&w, c->dup_count);
	w32(&w, c->flags);

	w8(&w, c->nclocks);
	for (int i = 0; i < c->nclocks; i++) {
		w32(&w, c->clocks[i].id);
		w32(&w, (uint32_t)c->clocks[i].due);
		w8(&w, c->clocks[i].overdue);
		w8(&w, c->clocks[i].resolve);
	}
	w16(&w, c->met);
	w16(&w, c->missed);
	w16(&w, c->escalations);
	w8(&w, c->max_level);
	wstr(&w, c->dl_agency, REPORT_CODE_MAX);
	return w.n;
}

int report_case_decode(const void *p, size_t n, struct report_case *c)
{
	struct rbuf r = {p, n, 0, false};

	memset(c, 0, sizeof(*c));
	if (r8(&r) != CASE_VERSION)
		return CM_ECORRUPT;
	c->has_intake = r8(&r);
	c->kind = r8(&r);
	c->subject = r8(&r);
	c->round = r8(&r);
	c->channel = r8(&r);
	c->status = r8(&r);
	c->complexity = r8(&r);
	c->anonymous = r8(&r);
	c->serious_harm = r8(&r);
	c->has_prior = r8(&r);
	c->prior_outcome = r8(&r);
	c->remote = r8(&r);
	rstr(&r, c->agency, REPORT_CODE_MAX);
	rstr(&r, c->handling, REPORT_CODE_MAX);
	rstr(&r, c->field, REPORT_CODE_MAX);
	c->field_dim = r16(&r);
	c->received = (cm_day_t)r32(&r);
	c->signers = r32(&r);
	c->delegation = r32(&r);
	rstr(&r, c->forwarded_by, REPORT_CODE_MAX);
	for (int i = 0; i < RC_SENT; i++)
		rstr(&r, c->sent_to[i], REPORT_CODE_MAX);
	c->i_outcome = r8(&r);
	c->refuse_reason = r8(&r);
	c->file_reason = r8(&r);
	c->i_outcome_day = (cm_day_t)r32(&r);
	c->accepted = (cm_day_t)r32(&r);
	c->resolved = (cm_day_t)r32(&r);
	c->resolved_how = r8(&r);
	c->outcome = r8(&r);
	c->effect = r8(&r);
	c->conclusion = r8(&r);
	c->money_recover = (int64_t)r64(&r);
	c->money_return = (int64_t)r64(&r);
	c->land_recover = (int64_t)r64(&r);
	c->land_return = (int64_t)r64(&r);
	c->to_sanction = r32(&r);
	c->referred = r32(&r);
	c->rights_restored = r32(&r);
	c->nenf = r8(&r);
	if (c->nenf > RC_ENF)
		return CM_ECORRUPT;
	for (int i = 0; i < c->nenf; i++) {
		c->enf[i].day = (cm_day_t)r32(&r);
		c->enf[i].money_rec = (int64_t)r64(&r);
		c->enf[i].money_ret = (int64_t)r64(&r);
		c->enf[i].land_rec = (int64_t)r64(&r);
		c->enf[i].land_ret = (int64_t)r64(&r);
		c->enf[i].sanctioned = r32(&r);
	}
	c->enf_done = (cm_day_t)r32(&r);
	c->recomplaints = r16(&r);
	c->urges = r16(&r);
	c->actions = r16(&r);
	c->redenunciation = r8(&r);
	c->recomplaint_after_r2 = r8(&r);
	c->closed = (cm_day_t)r32(&r);
	c->last_action = (cm_day_t)r32(&r);
	rstr(&r, c->summary, sizeof(c->summary) - 1);

	c->has_routing = r8(&r);
	c->classified = r8(&r);
	c->r_kind = r8(&r);
	c->r_eligible = r8(&r);
	c->r_within = r8(&r);
	c->r_many = r8(&r);
	c->r_delegation = r8(&r);
	c->r_signers = r32(&r);
	rstr(&r, c->r_field, REPORT_CODE_MAX);
	c->r_field_dim = r16(&r);
	rstr(&r, c->assigned, REPORT_CODE_MAX);
	c->r_outcome = r8(&r);
	c->r_file_reason = r8(&r);
	c->r_outcome_day = (cm_day_t)r32(&r);
	c->transfers = r16(&r);
	c->loop = r8(&r);
	c->nvisited = r8(&r);
	if (c->nvisited > RC_VISITED)
		return CM_ECORRUPT;
	for (int i = 0; i < c->nvisited; i++)
		c->visited[i] = r32(&r);
	rstr(&r, c->r_to[0], REPORT_CODE_MAX);
	rstr(&r, c->r_to[1], REPORT_CODE_MAX);
	rstr(&r, c->dup_of, REPORT_CASE_MAX);
	c->dup_repeat = r8(&r);
	c->repeat_count = r16(&r);
	c->dup_count = r16(&r);
	c->flags = r32(&r);

	c->nclocks = r8(&r);
	if (c->nclocks > RC_CLOCKS)
		return CM_ECORRUPT;
	for (int i = 0; i < c->nclocks; i++) {
		c->clocks[i].id = r32(&r);
		c->clocks[i].due = (cm_day_t)r32(&r);
		c->clocks[i].overdue = r8(&r);
		c->clocks[i].resolve = r8(&r);
	}
	c->met = r16(&r);
	c->missed = r16(&r);
	c->escalations = r16(&r);
	c->max_level = r8(&r);
	rstr(&r, c->dl_agency, REPORT_CODE_MAX);
	return r.bad || r.at != r.n ? CM_ECORRUPT : 0;
}

int report_case_get(struct cm_txn *t, const char *case_number, struct report_case *c)
{
	struct cm_val v;
	int rc = cm_txn_get(t, REPORT_DB_CASES, case_number, strlen(case_number), &v);

	if (rc)
		return rc;
	return report_case_decode(v.data, v.size, c);
}

/* ------------------------------------------------------ derived views --- */

static int map_kind(uint8_t k)
{
	switch (k) {
	case KIND(COMPLAINT): return RK_KN;
	case KIND(DENUNCIATION): return RK_TC;
	default: return RK_KNPA;
	}
}

int report_case_kind(const struct report_case *c)
{
	return map_kind(c->classified && c->r_kind ? c->r_kind : c->kind);
}

const char *report_case_handling(const struct report_case *c)
{
	if (c->handling[0])
		return c->handling;
	if (c->assigned[0])
		return c->assigned;
	return c->agency;
}

bool report_case_open(const struct report_case *c)
{
	switch (c->status) {
	case CSTAT(UNSPECIFIED):
	case CSTAT(RECEIVED):
	case CSTAT(ACCEPTED):
	case CSTAT(SUSPENDED): return true;
	default: return false;
	}
}

bool report_case_overdue(const struct report_case *c)
{
	for (int i = 0; i < c->nclocks; i++)
		if (c->clocks[i].overdue)
			return true;
	return false;
}

cm_day_t report_case_next_due(const struct report_case *c)
{
	cm_day_t best = 0;

	for (int i = 0; i < c->nclocks; i++)
		if (c->clocks[i].due && (!best || c->clocks[i].due < best))
			best = c->clocks[i].due;
	return best;
}

/* ------------------------------------------------------ contributions --- */

struct clist {
	struct report_contrib *v;
	size_t n;
};

static void add(struct clist *l, const char *agency, cm_day_t day, uint16_t ind, uint16_t dim,
		int64_t v)
{
	if (v == 0 || !agency[0] || cm_fails_assert(l->n < REPORT_CONTRIB_MAX))
		return;
	l->v[l->n++] = (struct report_contrib){agency, day, ind, dim, v};
}

/* The first handling outcome, whichever feed said it first (by its day; a
 * tie goes to intake). Deterministic whatever order the feeds arrived in. */
static uint8_t eff_outcome(const struct report_case *c, cm_day_t *day)
{
	bool i = c->has_intake && c->i_outcome, r = c->r_outcome != 0;

	if (i && (!r || c->i_outcome_day <= c->r_outcome_day)) {
		*day = c->i_outcome_day;
		return c->i_outcome;
	}
	if (r) {
		*day = c->r_outcome_day;
		return c->r_outcome;
	}
	return RO_NONE;
}

static bool eligible(const struct report_case *c, uint8_t outcome)
{
	uint8_t fr = c->i_outcome == RO_FILE ? c->file_reason : c->r_file_reason;

	if (c->classified)
		return c->r_eligible;
	if (outcome == RO_FILE &&
	    (fr == DONTHU__V1__FILE_REASON__FILE_REASON_INELIGIBLE ||
	     fr == DONTHU__V1__FILE_REASON__FILE_REASON_ANONYMOUS))
		return false;
	return true;
}

static bool within(const struct report_case *c, uint8_t outcome)
{
	if (outcome == RO_ACCEPT)
		return true;
	if (c->classified)
		return c->r_within;
	return outcome == RO_REFUSE &&
	       c->refuse_reason != DONTHU__V1__REFUSAL_REASON__REFUSAL_REASON_OUTSIDE_COMPETENCE;
}

/* The receipt day as a 16-bit dim (days since 1970: good until 2149). */
static uint16_t day_dim(cm_day_t d)
{
	return d < 1 ? 1 : d > 0xFFFE ? 0xFFFE : (uint16_t)d;
}

static void contrib_xld(const struct report_case *c, struct clist *l)
{
	const char *a = c->agency;
	uint32_t signers = c->classified && c->r_signers ? c->r_signers : c->signers;
	bool dup = c->dup_of[0] != '\0', many = signers >= 2;
	bool deleg = c->delegation >= DELEGATION_MIN || c->r_delegation;
	int k = report_case_kind(c);
	uint16_t dim = c->classified && c->r_field[0] ? c->r_field_dim : c->field_dim;
	cm_day_t h = 0;
	uint8_t out = eff_outcome(c, &h);
	bool elig = out != RO_NONE && eligible(c, out);
	bool next = (k == RK_KN && c->round == DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_SECOND) ||
		    (k == RK_TC && (c->dup_repeat || c->redenunciation));
	int m;

	if (!elig || out == RO_NONE)
		m = -1;
	else if (within(c, out))
		m = RXM_WITHIN;
	else if (out == RO_GUIDE)
		m = RXM_GUIDE;
	else if (out == RO_FORWARD)
		m = RXM_FORWARD;
	else if (out == RO_RETURN)
		m = RXM_RETURN;
	else if (out == RO_FILE)
		m = RXM_FILE;
	else
		m = -1; /* refused as outside competence: neither column */
	for (int u = 0; u < RU_COUNT; u++) {
		if (u == RU_VV && dup)
			continue;
		add(l, a, c->received, report_ind_xld(u, k, RXM_RECV), 0, 1);
		if (many)
			add(l, a, c->received, report_ind_xld(u, k, RXM_RECV_MANY), 0, 1);
		if (u == RU_DON && dup)
			add(l, a, c->received, report_ind_xld(u, k, RXM_DUPLICATE), 0, 1);
		if (deleg)
			add(l, a, c->received, report_ind_xld(u, k, RXM_DELEGATION), 0, 1);
		if (out == RO_NONE)
			continue;
		add(l, a, h, report_ind_xld(u, k, RXM_HANDLED), day_dim(c->received), 1);
		if (many)
			add(l, a, h, report_ind_xld(u, k, RXM_HANDLED_MANY), day_dim(c->received), 1);
		if (!elig) {
			add(l, a, h, report_ind_xld(u, k, RXM_INELIGIBLE), 0, 1);
			continue;
		}
		add(l, a, h, report_ind_xld(u, k, RXM_ELIG), dim, 1);
		if (m >= 0)
			add(l, a, h, report_ind_xld(u, k, m), 0, 1);
		if (m == RXM_WITHIN && next)
			add(l, a, h, report_ind_xld(u, k, RXM_WITHIN_NEXT), 0, 1);
		if (c->refuse_reason == DONTHU__V1__REFUSAL_REASON__REFUSAL_REASON_COURT_ACCEPTED)
			add(l, a, h, report_ind_xld(u, k, RXM_COURT), 0, 1);
		else if (!c->has_prior)
			add(l, a, h, report_ind_xld(u, k, RXM_PRIOR0), 0, 1);
		else
			add(l, a, h, report_ind_xld(u, k, c->dup_repeat ? RXM_PRIOR2 : RXM_PRIOR1),
			    0, 1);
		if (c->dup_repeat) {
			add(l, a, h, report_ind_xld(u, k, RXM_REPEAT), 0, 1);
			if (!c->has_prior)
				add(l, a, h, report_ind_xld(u, k, RXM_REPEAT_OVERDUE), 0, 1);
		}
	}
}

static void contrib_gq(const struct report_case *c, struct clist *l)
{
	const char *a = c->handling[0] ? c->handling : c->agency;
	int k = report_case_kind(c);
	cm_day_t acc = c->accepted ? c->accepted : c->resolved, d = c->resolved;
	bool next = k == RK_TC && (c->redenunciation || c->dup_repeat);

	if (!acc)
		return;
	add(l, a, acc, report_ind_gq(k, RGM_ACCEPT), 0, 1);
	if (next)
		add(l, a, acc, report_ind_gq(k, RGM_ACCEPT_NEXT), 0, 1);
	if (c->resolved_how == RR_NONE)
		return;
	add(l, a, d, report_ind_gq(k, RGM_RESOLVED), 0, 1);
	if (c->resolved_how == RR_WITHDRAWN) {
		add(l, a, d, report_ind_gq(k, RGM_WITHDRAWN), 0, 1);
		return;
	}
	if (c->resolved_how == RR_TERMINATED) {
		add(l, a, d, report_ind_gq(k, RGM_TERMINATED), 0, 1);
		return;
	}
	add(l, a, d, report_ind_gq(k, RGM_BY_DECISION), 0, 1);
	if (k == RK_KN && c->round == DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_SECOND) {
		if (c->effect == DONTHU__V1__DECISION_EFFECT__DECISION_EFFECT_UPHELD)
			add(l, a, d, report_ind_gq(k, RGM_R2_UPHELD), 0, 1);
		else if (c->effect)
			add(l, a, d, report_ind_gq(k, RGM_R2_CHANGED), 0, 1);
	} else if (next) {
		add(l, a, d, report_ind_gq(k, RGM_NEXT), 0, 1);
		if (c->outcome)
			add(l, a, d, report_ind_gq(k, RGM_NEXT_RIGHT + c->outcome - 1), 0, 1);
	} else {
		add(l, a, d, report_ind_gq(k, RGM_FIRST), 0, 1);
		if (c->outcome)
			add(l, a, d, report_ind_gq(k, RGM_RIGHT + c->outcome - 1), 0, 1);
	}
	add(l, a, d, report_ind_gq(k, RGM_MONEY_RECOVER), 0, c->money_recover);
	add(l, a, d, report_ind_gq(k, RGM_LAND_RECOVER), 0, c->land_recover);
	add(l, a, d, report_ind_gq(k, RGM_MONEY_RETURN), 0, c->money_return);
	add(l, a, d, report_ind_gq(k, RGM_LAND_RETURN), 0, c->land_return);
	add(l, a, d, report_ind_gq(k, RGM_RIGHTS_RESTORED), 0, c->rights_restored);
	add(l, a, d, report_ind_gq(k, RGM_SANCTION), 0, c->to_sanction);
	if (c->referred) {
		add(l, a, d, report_ind_gq(k, RGM_REFERRED_CASES), 0, 1);
		add(l, a, d, report_ind_gq(k, RGM_REFERRED_PEOPLE), 0, c->referred);
	}
	add(l, a, d, report_ind_gq(k, RGM_THI_DECIDED), 0, 1);
	for (int i = 0; i < c->nenf; i++) {
		const struct rc_enf *e = &c->enf[i];
		add(l, a, e->day, report_ind_gq(k, RGM_THI_MONEY_RECOVERED), 0, e->money_rec);
		add(l, a, e->day, report_ind_gq(k, RGM_THI_LAND_RECOVERED), 0, e->land_rec);
		add(l, a, e->day, report_ind_gq(k, RGM_THI_MONEY_RETURNED), 0, e->money_ret);
		add(l, a, e->day, report_ind_gq(k, RGM_THI_LAND_RETURNED), 0, e->land_ret);
		add(l, a, e->day, report_ind_gq(k, RGM_THI_SANCTIONED), 0, e->sanctioned);
	}
	if (c->enf_done)
		add(l, a, c->enf_done, report_ind_gq(k, RGM_THI_DONE), 0, 1);
}

size_t report_case_contrib(const struct report_case *c, struct report_contrib *out)
{
	struct clist l = {out, 0};

	/* Nothing is counted before intake has said what the petition is: the
	 * routing or deadline part alone has no agency, kind or receipt day. */
	if (!c->has_intake)
		return 0;
	contrib_xld(c, &l);
	contrib_gq(c, &l);
	return l.n;
}

/* Case summaries held for write-back before the oldest are written early. */
#define CACHE_MAX 131072

/* --------------------------------------------------- the delta buffer --- */

/* Changes are summed in a hash table keyed by (agency, level, bucket,
 * indicator, dim) until the flush, so a large rebuild transaction touches
 * each counter row once, and a retraction and re-add of the same
 * contribution cancel before any row is read. Agency codes are interned to
 * small ids; the table of codes only grows and holds no store state, so it
 * survives aborted transactions. */

struct dkey {
	uint32_t agency;
	int32_t bucket;
	uint16_t ind, dim;
	uint8_t level;
};

struct dslot {
	struct dkey k;
	int64_t v;
	bool used;
};

struct report_model {
	bool history;
	/* interned agency codes */
	char **codes;
	size_t ncodes, capcodes;
	uint32_t *itab;		/* code hash table: id + 1, 0 = empty */
	size_t icap;
	uint32_t last;		/* id returned last */
	/* the deltas */
	struct dslot *slot;
	size_t cap, used;
	uint32_t *touched;	/* indices of used slots, to clear quickly */
	/* flush scratch */
	struct dslot *sorted;
	size_t nsorted_cap;
	struct report_cell *cells;
	size_t ncells;
	uint8_t *rowbuf;
	size_t rowcap;
	/* case summaries of this transaction */
	struct loaded **ents;
	size_t nents, capents;
	uint32_t *ctab;		/* index + 1 into ents, 0 = empty */
	size_t ccap, cache_max;
	/* month of the last day asked, cm_day_to_ymd is not free */
	cm_day_t mday;
	int32_t mmonth;
	bool mvalid;
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdULL;
	z = (z ^ (z >> 33)) * 0xc4ceb9fe1a85ec53ULL;
	return z ^ (z >> 33);
}

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void itab_grow(struct report_model *m)
{
	size_t cap = m->icap ? m->icap * 2 : 256;
	uint32_t *t = cm_xcalloc(cap, sizeof(*t));

	for (size_t i = 0; i < m->ncodes; i++) {
		size_t j = str_hash(m->codes[i]) & (cap - 1);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = (uint32_t)i + 1;
	}
	free(m->itab);
	m->itab = t;
	m->icap = cap;
}

static uint32_t intern(struct report_model *m, const char *code)
{
	size_t j;

	/* Consecutive calls are nearly always for the same agency. */
	if (m->ncodes && strcmp(m->codes[m->last], code) == 0)
		return m->last;
	if (2 * (m->ncodes + 1) > m->icap)
		itab_grow(m);
	j = str_hash(code) & (m->icap - 1);
	while (m->itab[j]) {
		if (strcmp(m->codes[m->itab[j] - 1], code) == 0)
			return m->last = m->itab[j] - 1;
		j = (j + 1) & (m->icap - 1);
	}
	if (m->ncodes == m->capcodes) {
		m->capcodes = m->capcodes ? 2 * m->capcodes : 256;
		m->codes = cm_xrealloc(m->codes, m->capcodes * sizeof(*m->codes));
	}
	m->codes[m->ncodes] = cm_xstrndup(code, strnlen(code, REPORT_CODE_MAX));
	m->itab[j] = (uint32_t)++m->ncodes;
	return m->last = (uint32_t)m->ncodes - 1;
}

static size_t dhash(const struct dkey *k)
{
	uint64_t a = ((uint64_t)k->agency << 32) | (uint32_t)k->bucket;
	uint64_t b = ((uint64_t)k->ind << 24) | ((uint64_t)k->dim << 8) | k->level;
	return (size_t)mix64(a ^ mix64(b));
}

static bool dkey_eq(const struct dkey *a, const struct dkey *b)
{
	return a->agency == b->agency && a->bucket == b->bucket && a->ind == b->ind &&
	       a->dim == b->dim && a->level == b->level;
}

static void dtab_grow(struct report_model *m)
{
	size_t cap = m->cap ? m->cap * 2 : 4096;
	struct dslot *t = cm_xcalloc(cap, sizeof(*t));
	uint32_t *touched = cm_xcalloc(cap, sizeof(*touched));
	size_t n = 0;

	for (size_t i = 0; i < m->used; i++) {
		const struct dslot *s = &m->slot[m->touched[i]];
		size_t j = dhash(&s->k) & (cap - 1);
		while (t[j].used)
			j = (j + 1) & (cap - 1);
		t[j] = *s;
		touched[n++] = (uint32_t)j;
	}
	free(m->slot);
	free(m->touched);
	m->slot = t;
	m->touched = touched;
	m->cap = cap;
}

static void cache_clear(struct report_model *m);

struct report_model *report_model_new(bool history)
{
	struct report_model *m = cm_xcalloc(1, sizeof(*m));

	m->history = history;
	m->cache_max = CACHE_MAX;
	dtab_grow(m);
	return m;
}

void report_model_free(struct report_model **mp)
{
	struct report_model *m;

	if (!mp || !*mp)
		return;
	m = *mp;
	for (size_t i = 0; i < m->ncodes; i++)
		free(m->codes[i]);
	free(m->codes);
	free(m->itab);
	free(m->slot);
	free(m->touched);
	free(m->sorted);
	free(m->cells);
	free(m->rowbuf);
	cache_clear(m);
	free(m->ents);
	free(m->ctab);
	free(m);
	*mp = NULL;
}

void report_model_discard(struct report_model *m)
{
	cache_clear(m);
	for (size_t i = 0; i < m->used; i++)
		m->slot[m->touched[i]].used = false;
	m->used = 0;
}

static void add_delta(struct report_model *m, const struct dkey *k, int64_t v)
{
	size_t j;

	if (2 * (m->used + 1) > m->cap)
		dtab_grow(m);
	j = dhash(k) & (m->cap - 1);
	while (m->slot[j].used) {
		if (dkey_eq(&m->slot[j].k, k)) {
			m->slot[j].v += v;
			return;
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->slot[j].k = *k;
	m->slot[j].v = v;
	m->slot[j].used = true;
	m->touched[m->used++] = (uint32_t)j;
}

static int32_t month_of(struct report_model *m, cm_day_t day)
{
	if (!m->mvalid || m->mday != day) {
		m->mday = day;
		m->mmonth = report_month_of(day);
		m->mvalid = true;
	}
	return m->mmonth;
}

/* Receipt-day dims stay exact on day rows; month rows keep the half month of
 * receipt (1st-14th, 15th-end), exact for every period that starts on the
 * 1st or the 15th (the legal ones do); queries starting on another day read
 * day rows instead. Keeps month rows small. */
static uint16_t month_dim(struct report_model *m, uint16_t ind, uint16_t dim)
{
	int y, mo, d;

	if (!report_ind_dim_is_day(ind))
		return dim;
	cm_day_to_ymd((cm_day_t)dim, &y, &mo, &d);
	(void)m;
	return report_half_month(y, mo, d);
}

static void buffer(struct report_model *m, const char *agency, cm_day_t day, uint16_t ind,
		   uint16_t dim, int64_t v)
{
	struct dkey k;

	if (v == 0 || !agency || !agency[0])
		return;
	k.agency = intern(m, agency);
	k.ind = ind;
	k.level = REPORT_LEVEL_DAY;
	k.bucket = day;
	k.dim = dim;
	add_delta(m, &k, v);
	k.level = REPORT_LEVEL_MONTH;
	k.bucket = month_of(m, day);
	k.dim = month_dim(m, ind, dim);
	add_delta(m, &k, v);
}

static int cmp_contrib(const void *pa, const void *pb)
{
	const struct report_contrib *a = pa, *b = pb;
	int r = strcmp(a->agency, b->agency);

	if (r)
		return r;
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	if (a->ind != b->ind)
		return a->ind < b->ind ? -1 : 1;
	return a->dim < b->dim ? -1 : a->dim > b->dim;
}

static bool same_contrib(const struct report_contrib *a, const struct report_contrib *b)
{
	return a->day == b->day && a->ind == b->ind && a->dim == b->dim && a->v == b->v &&
	       strcmp(a->agency, b->agency) == 0;
}

/* A case has a few dozen contributions at most, most of them already in
 * order: an insertion sort beats qsort's indirect merge sort, which was 9%
 * of a rebuild. Equal keys can only be paired differently, which changes
 * no sum. */
static void sort_contrib(struct report_contrib *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct report_contrib x = a[i];
		size_t j = i;

		while (j && cmp_contrib(&a[j - 1], &x) > 0) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = x;
	}
}

/* Buffer now - old. Most events change one or two contributions of a case
 * (or none: a deadline moved), so the lists are compared first and only
 * the difference reaches the hash table. */
static void buffer_diff(struct report_model *m, struct report_contrib *old, size_t nold,
			struct report_contrib *now, size_t nnow)
{
	size_t i = 0, j = 0;

	if (nold == nnow) {
		while (i < nold && same_contrib(&old[i], &now[i]))
			i++;
		if (i == nold)
			return;
		i = 0;
	}
	sort_contrib(old, nold);
	sort_contrib(now, nnow);
	while (i < nold || j < nnow) {
		int c = i >= nold ? 1 : j >= nnow ? -1 : cmp_contrib(&old[i], &now[j]);
		if (c < 0) {
			buffer(m, old[i].agency, old[i].day, old[i].ind, old[i].dim, -old[i].v);
			i++;
		} else if (c > 0) {
			buffer(m, now[j].agency, now[j].day, now[j].ind, now[j].dim, now[j].v);
			j++;
		} else {
			buffer(m, now[j].agency, now[j].day, now[j].ind, now[j].dim,
			       now[j].v - old[i].v);
			i++;
			j++;
		}
	}
}

static int cmp_slot(const void *pa, const void *pb)
{
	const struct dkey *a = &((const struct dslot *)pa)->k, *b = &((const struct dslot *)pb)->k;

	if (a->agency != b->agency)
		return a->agency < b->agency ? -1 : 1;
	if (a->level != b->level)
		return a->level < b->level ? -1 : 1;
	if (a->bucket != b->bucket)
		return a->bucket < b->bucket ? -1 : 1;
	if (a->ind != b->ind)
		return a->ind < b->ind ? -1 : 1;
	return a->dim < b->dim ? -1 : a->dim > b->dim;
}

static bool same_row(const struct dkey *a, const struct dkey *b)
{
	return a->agency == b->agency && a->level == b->level && a->bucket == b->bucket;
}

/* Merge the row's stored entries with deltas d[0..n) (sorted, non-zero). */
static int write_row(struct report_model *m, struct cm_txn *t, const struct dslot *d, size_t n)
{
	uint8_t key[REPORT_CODE_MAX + 8];
	size_t klen = report_counter_key(m->codes[d[0].k.agency], (char)d[0].k.level,
					 d[0].k.bucket, key);
	struct cm_val v = {NULL, 0};
	int rc = cm_txn_get(t, REPORT_DB_COUNTERS, key, klen, &v), cnt = 0;
	size_t i = 0, j = 0, out = 0, need;

	if (rc && rc != -ENOENT)
		return rc;
	if (rc == 0) {
		cnt = report_row_count(v.data, v.size);
		if (cnt < 0)
			return cnt;
	}
	need = (size_t)cnt + n;
	if (need > m->ncells) {
		m->ncells = need * 2;
		m->cells = cm_xrealloc(m->cells, m->ncells * sizeof(*m->cells));
	}
	while (i < (size_t)cnt || j < n) {
		struct report_cell s = {0, 0, 0};
		if (i < (size_t)cnt)
			report_row_entry(v.data, i, &s);
		if (j >= n || (i < (size_t)cnt && (s.ind < d[j].k.ind ||
						   (s.ind == d[j].k.ind && s.dim < d[j].k.dim)))) {
			m->cells[out++] = s;
			i++;
		} else if (i < (size_t)cnt && s.ind == d[j].k.ind && s.dim == d[j].k.dim) {
			s.v += d[j].v;
			m->cells[out++] = s;
			i++;
			j++;
		} else {
			m->cells[out++] = (struct report_cell){d[j].k.ind, d[j].k.dim, d[j].v};
			j++;
		}
	}
	if (1 + 12 * out > m->rowcap) {
		m->rowcap = 2 * (1 + 12 * out);
		m->rowbuf = cm_xrealloc(m->rowbuf, m->rowcap);
	}
	need = report_row_encode(m->cells, out, m->rowbuf);
	if (need == 1)
		return rc == 0 ? cm_txn_del(t, REPORT_DB_COUNTERS, key, klen) : 0;
	return cm_txn_put(t, REPORT_DB_COUNTERS, key, klen, m->rowbuf, need, 0);
}

static int cache_write_back(struct report_model *m, struct cm_txn *t);

int report_model_flush(struct report_model *m, struct cm_txn *t)
{
	size_t n = 0;
	int rc = cache_write_back(m, t);

	if (rc || m->used == 0)
		return rc;
	if (m->used > m->nsorted_cap) {
		m->nsorted_cap = m->used * 2;
		m->sorted = cm_xrealloc(m->sorted, m->nsorted_cap * sizeof(*m->sorted));
	}
	/* What nets to zero (a retraction and a re-add) is dropped here, so
	 * an event that changed nothing countable writes no row. */
	for (size_t i = 0; i < m->used; i++) {
		struct dslot *s = &m->slot[m->touched[i]];
		if (s->v != 0)
			m->sorted[n++] = *s;
		s->used = false;
	}
	m->used = 0;
	if (n > 1)
		qsort(m->sorted, n, sizeof(*m->sorted), cmp_slot);
	for (size_t i = 0; i < n && rc == 0;) {
		size_t start = i;
		while (i < n && same_row(&m->sorted[start].k, &m->sorted[i].k))
			i++;
		rc = write_row(m, t, &m->sorted[start], i - start);
	}
	return rc;
}

/* ------------------------------------------------------------ helpers --- */

int report_producer_id(const char *name)
{
	if (!name)
		return 0;
	if (strcmp(name, "intake") == 0)
		return RP_INTAKE;
	if (strcmp(name, "routing") == 0)
		return RP_ROUTING;
	if (strcmp(name, "deadline") == 0)
		return RP_DEADLINE;
	return 0;
}

static void setcode(rc_code dst, const char *src)
{
	size_t n = src ? strnlen(src, REPORT_CODE_MAX) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static cm_day_t day_of(int64_t ms)
{
	return cm_day_of_ms(ms);
}

static cm_day_t parse_day(const char *s)
{
	cm_day_t d = 0;
	if (s && *s && cm_day_parse(s, &d) != 0)
		d = 0;
	return d;
}

static uint32_t hash32(const char *s)
{
	uint32_t h = 2166136261u;
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h ? h : 1;
}

/* Land arrives in m² as a double; counters keep hundredths as integers so
 * sums are exact and order-independent. */
static int64_t land(double m2)
{
	if (!(m2 > 0) || m2 > 1e15)
		return 0;
	return (int64_t)llround(m2 * 100.0);
}

/* Case-list index: the receiving agency and the handling one (if other). */
static size_t index_keys(const char *case_number, const struct report_case *c,
			 uint8_t keys[2][REPORT_CODE_MAX + REPORT_CASE_MAX + 8], size_t len[2])
{
	const char *ag[2] = {c->agency, report_case_handling(c)};
	size_t n = 0, cl = strnlen(case_number, REPORT_CASE_MAX);

	if (!c->has_intake)
		return 0;
	for (int i = 0; i < 2; i++) {
		size_t al = strnlen(ag[i], REPORT_CODE_MAX);
		if (!al || (i == 1 && strcmp(ag[0], ag[1]) == 0))
			continue;
		memcpy(keys[n], ag[i], al);
		keys[n][al] = '\0';
		cm_be32_put(keys[n] + al + 1, (uint32_t)c->received + 0x80000000u);
		memcpy(keys[n] + al + 5, case_number, cl);
		len[n] = al + 5 + cl;
		n++;
	}
	return n;
}

/* Summaries read in this transaction, written back at the flush. A case
 * touched by several events of a large (rebuild) transaction is then read,
 * compared and written once, and its contributions computed twice in all
 * rather than twice per event. */
struct loaded {
	char key[REPORT_CASE_MAX + 1];
	struct report_case before, c;
	bool existed;
	size_t nold;
	struct report_contrib old[];	/* borrow strings from `before` */
};

void report_model_cache_limit(struct report_model *m, size_t n)
{
	m->cache_max = n ? n : 1;
}

static void cache_clear(struct report_model *m)
{
	for (size_t i = 0; i < m->nents; i++)
		free(m->ents[i]);
	m->nents = 0;
	if (m->ctab)
		memset(m->ctab, 0, m->ccap * sizeof(*m->ctab));
}

static void ctab_grow(struct report_model *m)
{
	size_t cap = m->ccap ? m->ccap * 2 : 1024;

	free(m->ctab);
	m->ctab = cm_xcalloc(cap, sizeof(*m->ctab));
	m->ccap = cap;
	for (size_t i = 0; i < m->nents; i++) {
		size_t j = str_hash(m->ents[i]->key) & (cap - 1);
		while (m->ctab[j])
			j = (j + 1) & (cap - 1);
		m->ctab[j] = (uint32_t)i + 1;
	}
}

static int write_back(struct report_model *m, struct cm_txn *t, struct loaded *x)
{
	struct report_contrib now[REPORT_CONTRIB_MAX];
	size_t nnow;
	uint8_t buf[REPORT_CASE_ENC_MAX];
	uint8_t ok[2][REPORT_CODE_MAX + REPORT_CASE_MAX + 8], nk[2][REPORT_CODE_MAX +
								      REPORT_CASE_MAX + 8];
	size_t okl[2], nkl[2], no, nn;
	int rc;

	if (x->existed && memcmp(&x->before, &x->c, sizeof(x->c)) == 0)
		return 0;
	nnow = report_case_contrib(&x->c, now);
	buffer_diff(m, x->old, x->nold, now, nnow);
	no = x->existed ? index_keys(x->key, &x->before, ok, okl) : 0;
	nn = index_keys(x->key, &x->c, nk, nkl);
	for (size_t i = 0; i < no; i++) {
		bool keep = false;
		for (size_t j = 0; j < nn; j++)
			keep |= okl[i] == nkl[j] && memcmp(ok[i], nk[j], okl[i]) == 0;
		if (!keep && (rc = cm_txn_del(t, REPORT_DB_BYAGENCY, ok[i], okl[i])) &&
		    rc != -ENOENT)
			return rc;
	}
	for (size_t j = 0; j < nn; j++) {
		bool had = false;
		for (size_t i = 0; i < no; i++)
			had |= okl[i] == nkl[j] && memcmp(ok[i], nk[j], nkl[j]) == 0;
		if (!had && (rc = cm_txn_put(t, REPORT_DB_BYAGENCY, nk[j], nkl[j], "", 0, 0)))
			return rc;
	}
	return cm_txn_put(t, REPORT_DB_CASES, x->key, strlen(x->key), buf,
			  report_case_encode(&x->c, buf), 0);
}

static int cache_write_back(struct report_model *m, struct cm_txn *t)
{
	int rc = 0;

	for (size_t i = 0; i < m->nents && rc == 0; i++)
		rc = write_back(m, t, m->ents[i]);
	cache_clear(m);
	return rc;
}

static int load(struct report_model *m, struct cm_txn *t, const char *case_number,
		struct loaded **out)
{
	struct report_contrib tmp[REPORT_CONTRIB_MAX];
	struct report_case c;
	struct loaded *x;
	size_t j, nold, klen;
	bool existed;
	int rc;

	if (m->ctab) {
		j = str_hash(case_number) & (m->ccap - 1);
		while (m->ctab[j]) {
			x = m->ents[m->ctab[j] - 1];
			if (strcmp(x->key, case_number) == 0) {
				*out = x;
				return 0;
			}
			j = (j + 1) & (m->ccap - 1);
		}
	}
	/* Bound the memory of a huge transaction: write back what is held
	 * (allowed at any point inside the transaction) and start afresh.
	 * This frees every entry: a caller loading a second case must be done
	 * with the first (apply_routing's duplicate link is). */
	if (m->nents >= m->cache_max && (rc = cache_write_back(m, t)))
		return rc;
	rc = report_case_get(t, case_number, &c);
	existed = rc == 0;
	if (rc == -ENOENT) {
		memset(&c, 0, sizeof(c));
		rc = 0;
	}
	if (rc)
		return rc;
	nold = report_case_contrib(&c, tmp);
	/* One allocation per case (and no snprintf): this runs for every case
	 * a transaction touches. */
	x = cm_xmalloc(sizeof(*x) + nold * sizeof(x->old[0]));
	klen = strnlen(case_number, REPORT_CASE_MAX);
	memcpy(x->key, case_number, klen);
	x->key[klen] = '\0';
	x->c = c;
	x->before = c;
	x->existed = existed;
	x->nold = nold;
	/* Re-pointed at the copy: the contributions borrow its agency strings,
	 * and x->c is about to change. */
	for (size_t i = 0; i < nold; i++) {
		x->old[i] = tmp[i];
		x->old[i].agency = (const char *)&x->before + (tmp[i].agency - (const char *)&c);
	}
	if (m->nents == m->capents) {
		m->capents = m->capents ? 2 * m->capents : 256;
		m->ents = cm_xrealloc(m->ents, m->capents * sizeof(*m->ents));
	}
	m->ents[m->nents++] = x;
	if (2 * m->nents > m->ccap)
		ctab_grow(m);
	else {
		j = str_hash(case_number) & (m->ccap - 1);
		while (m->ctab[j])
			j = (j + 1) & (m->ccap - 1);
		m->ctab[j] = (uint32_t)m->nents;
	}
	*out = x;
	return 0;
}

/* ------------------------------------------------------------- intake --- */

static int apply_petition(struct report_model *m, struct cm_txn *t,
			  const Donthu__V1__PetitionReceived *pr)
{
	const Donthu__V1__Petition *p = pr->petition;
	struct loaded *x;
	int rc;

	if (!p || !pr->case_number || !*pr->case_number)
		return 0;
	if ((rc = load(m, t, pr->case_number, &x)))
		return rc;
	x->c.has_intake = 1;
	x->c.kind = (uint8_t)p->kind;
	x->c.subject = (uint8_t)p->complaint_subject;
	x->c.round = (uint8_t)p->round;
	x->c.channel = (uint8_t)p->channel;
	if (!x->c.status)
		x->c.status = CSTAT(RECEIVED);
	x->c.anonymous = p->anonymous;
	x->c.serious_harm = p->serious_harm;
	x->c.has_prior = p->prior_decision && p->prior_decision->number &&
			p->prior_decision->number[0];
	x->c.prior_outcome = p->prior_decision ? (uint8_t)p->prior_decision->outcome : 0;
	setcode(x->c.agency, p->receiving_agency);
	setcode(x->c.field, p->field);
	if ((rc = report_dim_get(t, x->c.field, 1, &x->c.field_dim)))
		return rc;
	x->c.received = day_of(p->received_at_ms);
	x->c.signers = p->signer_count ? p->signer_count : 1;
	x->c.delegation = p->delegation_size;
	setcode(x->c.forwarded_by, p->forwarded_by);
	for (size_t i = 0; i < RC_SENT; i++)
		setcode(x->c.sent_to[i], i < p->n_also_sent_to ? p->also_sent_to[i] : "");
	snprintf(x->c.summary, sizeof(x->c.summary), "%s", p->summary ? p->summary : "");
	/* Never cut a UTF-8 sequence in half. */
	for (size_t n = strlen(x->c.summary); n > 0 && ((uint8_t)x->c.summary[n - 1] & 0xC0) == 0x80;)
		n--, x->c.summary[n] = '\0';
	{
		size_t n = strlen(x->c.summary);
		if (n && (uint8_t)x->c.summary[n - 1] >= 0xC0)
			x->c.summary[n - 1] = '\0';
	}
	return 0;
}

static void add_enf(struct report_case *c, cm_day_t day, const Donthu__V1__Enforcement *e)
{
	struct rc_enf *x;

	/* A long tail of enforcement steps is folded into the last slot: sums
	 * stay right, only the day of the later steps is approximated. */
	if (c->nenf < RC_ENF)
		x = &c->enf[c->nenf++];
	else
		x = &c->enf[RC_ENF - 1];
	x->day = day;
	x->money_rec += e->money_recovered_vnd > 0 ? e->money_recovered_vnd : 0;
	x->money_ret += e->money_returned_vnd > 0 ? e->money_returned_vnd : 0;
	x->land_rec += land(e->land_recovered_m2);
	x->land_ret += land(e->land_returned_m2);
	x->sanctioned += e->people_sanctioned;
}

static void set_outcome(struct report_case *c, uint8_t o, cm_day_t day)
{
	if (c->i_outcome == RO_NONE) {
		c->i_outcome = o;
		c->i_outcome_day = day;
	}
}

static int apply_action(struct report_model *m, struct cm_txn *t,
			const Donthu__V1__CaseActionRecorded *car)
{
	const Donthu__V1__CaseAction *a = car->action;
	struct loaded *x;
	cm_day_t day;
	int rc;

	if (!a || !car->case_number || !*car->case_number)
		return 0;
	day = day_of(a->effective_at_ms);
	if ((rc = load(m, t, car->case_number, &x)))
		return rc;
	if (!x->c.agency[0])
		setcode(x->c.agency, car->agency);
	x->c.status = (uint8_t)car->status_after;
	x->c.actions++;
	x->c.last_action = day;
	switch (a->action_case) {
	case ACT(ACCEPT):
		set_outcome(&x->c, RO_ACCEPT, day);
		if (!x->c.accepted)
			x->c.accepted = day;
		if (a->accept) {
			x->c.complexity = (uint8_t)a->accept->complexity;
			x->c.remote = a->accept->remote_area;
			if (a->accept->handling_agency && a->accept->handling_agency[0])
				setcode(x->c.handling, a->accept->handling_agency);
		}
		break;
	case ACT(REFUSE):
		set_outcome(&x->c, RO_REFUSE, day);
		if (a->refuse)
			x->c.refuse_reason = (uint8_t)a->refuse->reason;
		break;
	case ACT(GUIDE): set_outcome(&x->c, RO_GUIDE, day); break;
	case ACT(FORWARD): set_outcome(&x->c, RO_FORWARD, day); break;
	case ACT(GIVE_BACK): set_outcome(&x->c, RO_RETURN, day); break;
	case ACT(FILE_AWAY):
		set_outcome(&x->c, RO_FILE, day);
		if (a->file_away)
			x->c.file_reason = (uint8_t)a->file_away->reason;
		break;
	case ACT(EXTEND):
		if (a->extend && a->extend->complexity)
			x->c.complexity = (uint8_t)a->extend->complexity;
		break;
	case ACT(WITHDRAW):
		if (a->withdraw && !a->withdraw->partial) {
			/* Before acceptance it ends the handling of the petition;
			 * after, it resolves the case (rút đơn). */
			if (x->c.accepted) {
				x->c.resolved = day;
				x->c.resolved_how = RR_WITHDRAWN;
			} else {
				set_outcome(&x->c, RO_WITHDRAWN, day);
			}
		}
		break;
	case ACT(TERMINATE):
		x->c.resolved = day;
		x->c.resolved_how = RR_TERMINATED;
		break;
	case ACT(DECIDE):
		/* A case is counted once, by its latest resolution. */
		x->c.resolved = day;
		x->c.resolved_how = RR_DECIDED;
		if (a->decide) {
			const Donthu__V1__Decide *d = a->decide;
			x->c.outcome = d->outcome <= 3 ? (uint8_t)d->outcome : 0;
			x->c.effect = (uint8_t)d->effect;
			x->c.conclusion = d->conclusion;
			x->c.money_recover = d->money_to_recover_vnd > 0 ? d->money_to_recover_vnd : 0;
			x->c.money_return = d->money_to_return_vnd > 0 ? d->money_to_return_vnd : 0;
			x->c.land_recover = land(d->land_to_recover_m2);
			x->c.land_return = land(d->land_to_return_m2);
			x->c.to_sanction = d->people_to_sanction;
			x->c.referred = d->people_referred;
			x->c.rights_restored = d->people_rights_restored;
		}
		break;
	case ACT(ENFORCEMENT):
		if (a->enforcement) {
			add_enf(&x->c, day, a->enforcement);
			if (a->enforcement->completed && !x->c.enf_done)
				x->c.enf_done = day;
		}
		break;
	case ACT(RECOMPLAINT):
		x->c.recomplaints++;
		if (a->recomplaint && a->recomplaint->redenunciation)
			x->c.redenunciation = 1;
		if ((car->status_before == CSTAT(DECIDED) || car->status_before == CSTAT(CLOSED)) &&
		    x->c.round == DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_SECOND)
			x->c.recomplaint_after_r2 = 1;
		break;
	case ACT(REASSIGN):
		if (a->reassign && a->reassign->to_agency && a->reassign->to_agency[0])
			setcode(x->c.handling, a->reassign->to_agency);
		break;
	case ACT(URGE): {
		/* An urge is a fact of the day it was sent, under the agency that
		 * holds the case; both are known from this event alone. */
		int k = map_kind((uint8_t)car->kind);
		x->c.urges++;
		buffer(m, car->agency, day, report_ind_xld(RU_DON, k, RXM_URGE), 0, 1);
		buffer(m, car->agency, day, report_ind_xld(RU_VV, k, RXM_URGE), 0, 1);
		break;
	}
	case ACT(CLOSE):
		if (!x->c.closed)
			x->c.closed = day;
		break;
	default: break;
	}
	return 0;
}

static int seen(struct cm_txn *t, const void *key, size_t klen, bool *was)
{
	struct cm_val v;
	int rc = cm_txn_get(t, REPORT_DB_SEEN, key, klen, &v);

	*was = rc == 0;
	if (rc == -ENOENT)
		rc = cm_txn_put(t, REPORT_DB_SEEN, key, klen, "", 0, 0);
	return rc;
}

static int apply_reception(struct report_model *m, struct cm_txn *t,
			   const Donthu__V1__ReceptionRecorded *rr)
{
	const Donthu__V1__ReceptionRecord *r = rr->record;
	enum report_tcd_cat cat;
	uint32_t people;
	bool repeat, deleg, was;
	cm_day_t day;
	int rc;

	if (!r || !r->agency || !*r->agency)
		return 0;
	day = day_of(r->received_at_ms);
	if (r->reception_kind == DONTHU__V1__RECEPTION_KIND__RECEPTION_KIND_PERIODIC ||
	    r->reception_kind == DONTHU__V1__RECEPTION_KIND__RECEPTION_KIND_UNSCHEDULED)
		cat = r->head_role ? RTC_HEAD : RTC_DELEGATED;
	else
		cat = RTC_REGULAR;
	if (r->refused) {
		buffer(m, r->agency, day, report_ind_tcd(cat, RTM_REFUSED), 0, 1);
		return 0;
	}
	people = r->citizen_count ? r->citizen_count : (rr->n_citizens ? (uint32_t)rr->n_citizens : 1);
	repeat = r->prior_handling && r->prior_handling[0];
	if (r->case_number && r->case_number[0]) {
		uint8_t key[REPORT_CASE_MAX + 2];
		size_t n = strnlen(r->case_number, REPORT_CASE_MAX);
		key[0] = 'c';
		memcpy(key + 1, r->case_number, n);
		if ((rc = seen(t, key, n + 1, &was)))
			return rc;
		repeat |= was;
	}
	deleg = r->delegation || people >= DELEGATION_MIN;
	buffer(m, r->agency, day, report_ind_tcd(cat, RTM_VISITS), 0, 1);
	buffer(m, r->agency, day, report_ind_tcd(cat, RTM_PEOPLE), 0, people);
	buffer(m, r->agency, day, report_ind_tcd(cat, repeat ? RTM_REPEAT : RTM_FIRST), 0, 1);
	if (deleg) {
		buffer(m, r->agency, day, report_ind_tcd(cat, RTM_DEL_GROUPS), 0, 1);
		buffer(m, r->agency, day, report_ind_tcd(cat, RTM_DEL_PEOPLE), 0, people);
		buffer(m, r->agency, day,
		       report_ind_tcd(cat, repeat ? RTM_DEL_REPEAT : RTM_DEL_FIRST), 0, 1);
	}
	if (cat != RTC_REGULAR) {
		uint8_t key[REPORT_CODE_MAX + 8];
		size_t n = strnlen(r->agency, REPORT_CODE_MAX);
		key[0] = 's';
		memcpy(key + 1, r->agency, n);
		key[n + 1] = '\0';
		cm_be32_put(key + n + 2, (uint32_t)day);
		key[n + 6] = (uint8_t)cat;
		if ((rc = seen(t, key, n + 7, &was)))
			return rc;
		if (!was)
			buffer(m, r->agency, day, report_ind_tcd(cat, RTM_SESSIONS), 0, 1);
	}
	return 0;
}

/* ------------------------------------------------------------ routing --- */

static cm_day_t ev_day(const cm_env *ev)
{
	return day_of(ev->occurred_at_ms);
}

static void visit(struct report_case *c, const char *agency)
{
	uint32_t h = hash32(agency);

	if (!agency || !*agency)
		return;
	for (int i = 0; i < c->nvisited; i++)
		if (c->visited[i] == h) {
			c->loop = 1;
			return;
		}
	if (c->nvisited < RC_VISITED)
		c->visited[c->nvisited++] = h;
}

static int apply_routing(struct report_model *m, struct cm_txn *t, const cm_env *ev)
{
	const char *cn = ev->case_number;
	struct loaded *x;
	int rc;

	switch (ev->body_case) {
	case BODY(CLASSIFIED): cn = ev->classified->case_number; break;
	case BODY(ASSIGNED): cn = ev->assigned->case_number; break;
	case BODY(TRANSFERRED): cn = ev->transferred->case_number; break;
	case BODY(FILED): cn = ev->filed->case_number; break;
	case BODY(DUPLICATE_LINKED): cn = ev->duplicate_linked->case_number; break;
	case BODY(FLAGGED): cn = ev->flagged->case_number; break;
	default: return 0;
	}
	if (!cn || !*cn)
		return 0;
	if ((rc = load(m, t, cn, &x)))
		return rc;
	x->c.has_routing = 1;
	switch (ev->body_case) {
	case BODY(CLASSIFIED): {
		const Donthu__V1__Classified *c = ev->classified;
		x->c.classified = 1;
		x->c.r_kind = (uint8_t)c->content_kind;
		x->c.r_eligible = c->eligible;
		x->c.r_within = c->within_competence;
		x->c.r_signers = c->signer_count;
		x->c.r_many = c->many_signers;
		x->c.r_delegation = c->delegation;
		setcode(x->c.r_field, c->field);
		if ((rc = report_dim_get(t, x->c.r_field, 1, &x->c.r_field_dim)))
			return rc;
		break;
	}
	case BODY(ASSIGNED): setcode(x->c.assigned, ev->assigned->agency); break;
	case BODY(TRANSFERRED): {
		const Donthu__V1__Transferred *tr = ev->transferred;
		uint8_t o = tr->kind == DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_GUIDE     ? RO_GUIDE
			    : tr->kind == DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_RETURN ? RO_RETURN
											   : RO_FORWARD;
		if (!x->c.r_outcome) {
			x->c.r_outcome = o;
			x->c.r_outcome_day = ev_day(ev);
		}
		x->c.transfers++;
		if (x->c.transfers == 1)
			visit(&x->c, tr->from_agency);
		visit(&x->c, tr->to_agency);
		if (!x->c.r_to[0][0])
			setcode(x->c.r_to[0], tr->to_agency);
		setcode(x->c.r_to[1], tr->to_agency);
		break;
	}
	case BODY(FILED):
		if (!x->c.r_outcome) {
			x->c.r_outcome = RO_FILE;
			x->c.r_outcome_day = ev_day(ev);
		}
		x->c.r_file_reason = (uint8_t)ev->filed->reason;
		break;
	case BODY(DUPLICATE_LINKED): {
		const Donthu__V1__DuplicateLinked *d = ev->duplicate_linked;
		struct loaded *o;
		if (!d->original_case || !*d->original_case || strcmp(d->original_case, cn) == 0)
			break;
		snprintf(x->c.dup_of, sizeof(x->c.dup_of), "%s", d->original_case);
		x->c.dup_repeat = d->repeat;
		/* The original learns it has one more petition (and repeat). */
		if ((rc = load(m, t, d->original_case, &o)))
			return rc;
		o->c.has_routing = 1;
		o->c.dup_count++;
		if (d->repeat)
			o->c.repeat_count++;
		return 0;
	}
	case BODY(FLAGGED):
		if (ev->flagged->kind < 32)
			x->c.flags |= 1u << ev->flagged->kind;
		if (ev->flagged->kind == DONTHU__V1__FLAG_KIND__FLAG_KIND_TRANSFER_LOOP)
			x->c.loop = 1;
		break;
	default: break;
	}
	return 0;
}

/* ----------------------------------------------------------- deadline --- */

static struct rc_clock *find_clock(struct report_case *c, uint32_t id)
{
	for (int i = 0; i < c->nclocks; i++)
		if (c->clocks[i].id == id)
			return &c->clocks[i];
	return NULL;
}

static void drop_clock(struct report_case *c, uint32_t id)
{
	for (int i = 0; i < c->nclocks; i++)
		if (c->clocks[i].id == id) {
			c->clocks[i] = c->clocks[--c->nclocks];
			return;
		}
}

static bool resolve_stage(const char *stage)
{
	return stage && strstr(stage, "resolve") != NULL;
}

static int stage_kind(const char *stage)
{
	if (stage && strncmp(stage, "kn.", 3) == 0)
		return RK_KN;
	if (stage && strncmp(stage, "tc.", 3) == 0)
		return RK_TC;
	return RK_KNPA;
}

static int apply_deadline(struct report_model *m, struct cm_txn *t, const cm_env *ev)
{
	const char *cn;
	struct loaded *x;
	int rc;

	switch (ev->body_case) {
	case BODY(DEADLINE_SET): cn = ev->deadline_set->case_number; break;
	case BODY(DEADLINE_CHANGED): cn = ev->deadline_changed->case_number; break;
	case BODY(CLOCK_STOPPED): cn = ev->clock_stopped->case_number; break;
	case BODY(ESCALATION): cn = ev->escalation->case_number; break;
	default: return 0;
	}
	if (!cn || !*cn)
		return 0;
	if ((rc = load(m, t, cn, &x)))
		return rc;
	switch (ev->body_case) {
	case BODY(DEADLINE_SET): {
		const Donthu__V1__DeadlineSet *d = ev->deadline_set;
		uint32_t id = hash32(d->clock_id);
		struct rc_clock *k = find_clock(&x->c, id);
		if (!k && x->c.nclocks < RC_CLOCKS) {
			k = &x->c.clocks[x->c.nclocks++];
			memset(k, 0, sizeof(*k));
			k->id = id;
		}
		if (k) {
			k->due = parse_day(d->due_date);
			k->resolve = resolve_stage(d->stage);
		}
		if (d->agency && d->agency[0])
			setcode(x->c.dl_agency, d->agency);
		break;
	}
	case BODY(DEADLINE_CHANGED): {
		struct rc_clock *k = find_clock(&x->c, hash32(ev->deadline_changed->clock_id));
		if (k)
			k->due = parse_day(ev->deadline_changed->new_due_date);
		break;
	}
	case BODY(CLOCK_STOPPED): {
		const Donthu__V1__ClockStopped *s = ev->clock_stopped;
		const char *ag = s->agency && s->agency[0] ? s->agency : x->c.dl_agency;
		cm_day_t day = parse_day(s->completed_date);
		uint16_t ind;
		if (!day)
			day = ev_day(ev);
		drop_clock(&x->c, hash32(s->clock_id));
		if (s->met)
			x->c.met++;
		else
			x->c.missed++;
		if (resolve_stage(s->stage))
			ind = report_ind_gq(stage_kind(s->stage), s->met ? RGM_DL_MET : RGM_DL_MISSED);
		else
			ind = s->met ? RI_DL_HANDLE_MET : RI_DL_HANDLE_MISSED;
		buffer(m, ag, day, ind, 0, 1);
		break;
	}
	case BODY(ESCALATION): {
		const Donthu__V1__Escalation *e = ev->escalation;
		struct rc_clock *k = find_clock(&x->c, hash32(e->clock_id));
		if (e->level >= DONTHU__V1__ESCALATION_LEVEL__ESCALATION_LEVEL_OVERDUE) {
			cm_day_t day = parse_day(e->raised_date);
			if (k)
				k->overdue = 1;
			x->c.escalations++;
			if (e->level == DONTHU__V1__ESCALATION_LEVEL__ESCALATION_LEVEL_OVERDUE)
				buffer(m, e->agency && e->agency[0] ? e->agency : x->c.dl_agency,
				       day ? day : ev_day(ev), RI_ESCALATED, 0, 1);
		}
		if ((uint8_t)e->level > x->c.max_level)
			x->c.max_level = (uint8_t)e->level;
		break;
	}
	default: break;
	}
	return 0;
}

/* ------------------------------------------------------------ history --- */

static int put_history(struct cm_txn *t, const char *case_number, const cm_env *ev, int producer)
{
	uint8_t key[REPORT_CASE_MAX + 20];
	size_t n = strnlen(case_number, REPORT_CASE_MAX);

	memcpy(key, case_number, n);
	key[n] = '\0';
	cm_be64_put(key + n + 1, (uint64_t)ev->occurred_at_ms);
	key[n + 9] = (uint8_t)producer;
	cm_be64_put(key + n + 10, ev->sequence);
	return cm_txn_put(t, REPORT_DB_HISTORY, key, n + 18, "", 0, 0);
}

static int put_event(struct cm_txn *t, const cm_env *ev, int producer, const void *raw, size_t len)
{
	uint8_t key[8];

	/* Feed sequences only grow, so the copy is appended: no search, full
	 * pages. */
	cm_be64_put(key, ev->sequence);
	return cm_txn_put(t, REPORT_DB_EV_INTAKE + (unsigned)producer - RP_INTAKE, key, 8, raw, len,
			  CM_PUT_APPEND);
}

/* The case an event is about: the envelope says it for every case event;
 * older producers may only have it in the body. */
static const char *case_of(const cm_env *ev)
{
	if (ev->case_number && ev->case_number[0])
		return ev->case_number;
	switch (ev->body_case) {
	case BODY(PETITION_RECEIVED): return ev->petition_received->case_number;
	case BODY(CASE_ACTION): return ev->case_action->case_number;
	case BODY(CLASSIFIED): return ev->classified->case_number;
	case BODY(ASSIGNED): return ev->assigned->case_number;
	case BODY(TRANSFERRED): return ev->transferred->case_number;
	case BODY(FILED): return ev->filed->case_number;
	case BODY(DUPLICATE_LINKED): return ev->duplicate_linked->case_number;
	case BODY(FLAGGED): return ev->flagged->case_number;
	case BODY(DEADLINE_SET): return ev->deadline_set->case_number;
	case BODY(DEADLINE_CHANGED): return ev->deadline_changed->case_number;
	case BODY(CLOCK_STOPPED): return ev->clock_stopped->case_number;
	case BODY(ESCALATION): return ev->escalation->case_number;
	default: return NULL;
	}
}

int report_apply(struct report_model *m, struct cm_txn *t, int producer, const cm_env *ev,
		 const void *raw, size_t len)
{
	const char *cn;
	int rc = 0;

	switch (ev->body_case) {
	case BODY(PETITION_RECEIVED):
		if (producer == RP_INTAKE)
			rc = apply_petition(m, t, ev->petition_received);
		break;
	case BODY(CASE_ACTION):
		if (producer == RP_INTAKE)
			rc = apply_action(m, t, ev->case_action);
		break;
	case BODY(RECEPTION_RECORDED):
		if (producer == RP_INTAKE)
			rc = apply_reception(m, t, ev->reception_recorded);
		break;
	case BODY(CLASSIFIED):
	case BODY(ASSIGNED):
	case BODY(TRANSFERRED):
	case BODY(FILED):
	case BODY(DUPLICATE_LINKED):
	case BODY(FLAGGED):
		if (producer == RP_ROUTING)
			rc = apply_routing(m, t, ev);
		break;
	case BODY(DEADLINE_SET):
	case BODY(DEADLINE_CHANGED):
	case BODY(CLOCK_STOPPED):
	case BODY(ESCALATION):
		if (producer == RP_DEADLINE)
			rc = apply_deadline(m, t, ev);
		break;
	default: break;
	}
	if (rc || !m->history || !raw)
		return rc;
	cn = case_of(ev);
	if (!cn || !cn[0] || producer < RP_INTAKE || producer > RP_DEADLINE)
		return 0;
	rc = put_event(t, ev, producer, raw, len);
	if (rc == 0)
		rc = put_history(t, cn, ev, producer);
	if (rc == 0 && ev->body_case == BODY(DUPLICATE_LINKED) && ev->duplicate_linked &&
	    ev->duplicate_linked->original_case && ev->duplicate_linked->original_case[0] &&
	    strcmp(cn, ev->duplicate_linked->original_case) != 0)
		rc = put_history(t, ev->duplicate_linked->original_case, ev, producer);
	return rc;
}

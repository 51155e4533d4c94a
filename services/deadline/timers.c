#include "timers.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x
#define ACT(x) DONTHU__V1__CASE_ACTION__ACTION_##x
#define KIND(x) DONTHU__V1__PETITION_KIND__PETITION_KIND_##x
#define REASON(x) DONTHU__V1__ESCALATION_REASON__ESCALATION_REASON_##x
#define CHANGE(x) DONTHU__V1__CHANGE_REASON__CHANGE_REASON_##x

#define HIST_MAX 1024
/* The reception check's id in the due index; '~' sorts after every case
 * number and no rule id may start with it. */
#define RCP_PREFIX "~rcp/"

/* What one transaction is doing: the engine, its transaction, and the
 * instant that stamps the events it appends. */
struct tx {
	struct dl_engine *e;
	struct cm_txn *t;
	int64_t at_ms;
};

static int64_t day_ms(cm_day_t d)
{
	return cm_day_start_ms(d);
}

static void fmt_day(cm_day_t d, char out[11])
{
	cm_day_format(d, out);
}

/* ------------------------------------------------------------ events --- */

static int append(struct tx *x, cm_env *ev)
{
	uint64_t seq;

	ev->occurred_at_ms = x->at_ms;
	return cm_feed_append(x->e->feed, x->t, ev, &seq);
}

static const char *notify_for(struct dl_engine *e, enum dl_level l, const char *agency)
{
	if (l == DL_LVL_CHAIRMAN && e->chairman_office && *e->chairman_office)
		return e->chairman_office;
	if (l == DL_LVL_INSPECTORATE && e->inspectorate && *e->inspectorate)
		return e->inspectorate;
	return agency;
}

struct esc {
	enum dl_level level;
	int reason;
	const char *case_number;
	const char *agency;
	const char *clock_id;
	const char *stage;
	cm_day_t due;		/* INT32_MIN: none */
	cm_day_t raised;
	const char *detail;
};

static int emit_escalation(struct tx *x, const struct esc *s)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__Escalation es = DONTHU__V1__ESCALATION__INIT;
	char due[11] = "", raised[11];

	es.level = (Donthu__V1__EscalationLevel)s->level;
	es.reason = (Donthu__V1__EscalationReason)s->reason;
	es.case_number = (char *)(s->case_number ? s->case_number : "");
	es.agency = (char *)(s->agency ? s->agency : "");
	es.notify_agency = (char *)notify_for(x->e, s->level, es.agency);
	es.clock_id = (char *)(s->clock_id ? s->clock_id : "");
	es.stage = (char *)(s->stage ? s->stage : "");
	if (s->due != INT32_MIN) {
		fmt_day(s->due, due);
		es.days_overdue = s->raised - s->due;
	}
	es.due_date = due;
	es.detail = (char *)(s->detail ? s->detail : "");
	fmt_day(s->raised, raised);
	es.raised_date = raised;
	ev.case_number = es.case_number;
	ev.body_case = BODY(ESCALATION);
	ev.escalation = &es;
	return append(x, &ev);
}

/* ------------------------------------------------------------- cases --- */

static int case_get(struct cm_txn *t, const char *num, size_t len, struct dl_case *c)
{
	struct cm_val v;
	int rc = cm_txn_get(t, DL_DB_CASES, num, len, &v);

	if (rc)
		return rc;
	return dl_case_decode(v.data, v.size, c);
}

static int case_put(struct cm_txn *t, const char *num, const struct dl_case *c)
{
	uint8_t b[DL_CASE_ENC_MAX];

	return cm_txn_put(t, DL_DB_CASES, num, strlen(num), b, dl_case_encode(c, b), 0);
}

/* The case, or a fresh stub when routing speaks of it before intake's
 * PetitionReceived has been applied (the two feeds are consumed apart). */
static int case_get_or_stub(struct cm_txn *t, const char *num, struct dl_case *c)
{
	int rc = case_get(t, num, strlen(num), c);

	if (rc == -ENOENT) {
		memset(c, 0, sizeof(*c));
		c->complexity = DL_CPLX_NORMAL;
		c->round = 1;
		c->subject = 1;
		return 0;
	}
	return rc;
}

static bool code_ok(const char *s)
{
	return s && *s && strlen(s) <= DL_CODE_MAX && !strchr(s, '/');
}

/* ------------------------------------------------------------ clocks --- */

static int clock_get(struct cm_txn *t, const char *id, size_t len, struct dl_clock *c)
{
	struct cm_val v;
	int rc = cm_txn_get(t, DL_DB_CLOCKS, id, len, &v);

	if (rc)
		return rc;
	return dl_clock_decode(v.data, v.size, c);
}

static int clock_put(struct cm_txn *t, const char *id, size_t len, const struct dl_clock *c)
{
	uint8_t b[DL_CLOCK_ENC];

	dl_clock_encode(c, b);
	return cm_txn_put(t, DL_DB_CLOCKS, id, len, b, sizeof(b), 0);
}

/* Split "<case>/<rule>" at the last '/'. */
static bool split_id(const char *id, size_t len, size_t *caselen, const char **rule,
		     size_t *rulelen)
{
	const char *slash = NULL;

	for (size_t i = 0; i < len; i++)
		if (id[i] == '/')
			slash = id + i;
	if (!slash || slash == id || (size_t)(slash - id) > DL_CODE_MAX)
		return false;
	*caselen = (size_t)(slash - id);
	*rule = slash + 1;
	*rulelen = len - *caselen - 1;
	return true;
}

static int index_set(struct cm_txn *t, const char *id, size_t len, struct dl_clock *c, int64_t ms)
{
	uint8_t key[8 + DL_CLOCK_ID_MAX];
	size_t klen;
	int rc;

	if (c->idx_ms == ms)
		return 0;
	if (c->idx_ms) {
		klen = dl_due_key(c->idx_ms, id, len, key, sizeof(key));
		rc = cm_txn_del(t, DL_DB_DUE, key, klen);
		if (rc && rc != -ENOENT)
			return rc;
	}
	c->idx_ms = 0;
	if (ms > 0) {
		klen = dl_due_key(ms, id, len, key, sizeof(key));
		if (klen == 0)
			return -EINVAL;
		rc = cm_txn_put(t, DL_DB_DUE, key, klen, "", 0, 0);
		if (rc)
			return rc;
		c->idx_ms = ms;
	}
	return 0;
}

static unsigned cal_flags(const struct dl_clock *c)
{
	return (c->flags & DL_CLK_IGNORE_MAKEUP) ? CAL_F_IGNORE_MAKEUP : 0;
}

/* Instant at which `level` of a clock comes due; 0 when the level is off for
 * it. Every level counts from the due day, so the chain stays in order. */
static int64_t level_instant(const struct dl_engine *e, const struct dl_rule *r,
			     const struct dl_clock *c, enum dl_level l)
{
	int64_t overdue = day_ms(c->due + 1);
	cm_day_t d;
	unsigned k;

	if (r->escalate_at_due || l == DL_LVL_OVERDUE)
		return overdue;
	switch (l) {
	case DL_LVL_WARNING:
		k = r->warn_wd >= 0 ? (unsigned)r->warn_wd : e->lv.warning_wd;
		if (k == 0)
			return 0;
		if (cal_sub_working_days(e->cal, c->due, (int)k, cal_flags(c), &d, NULL) != 0)
			d = c->due;
		/* A period shorter than the warning warns the day after it starts. */
		if (d <= c->anchor)
			d = c->anchor + 1;
		if (d > c->due)
			d = c->due;
		return day_ms(d);
	case DL_LVL_HEAD: k = e->lv.head_after_wd; break;
	case DL_LVL_CHAIRMAN: k = e->lv.chairman_after_wd; break;
	case DL_LVL_INSPECTORATE: k = e->lv.inspectorate_after_wd; break;
	default: return 0;
	}
	if (cal_add_working_days(e->cal, c->due, (int)k, cal_flags(c), &d, NULL) != 0)
		return overdue;
	return day_ms(d) > overdue ? day_ms(d) : overdue;
}

/* The next thing to happen to an open clock: its lowest level not yet raised,
 * or the end of a waiting period. 0: nothing more. */
static int64_t next_instant(const struct dl_engine *e, const struct dl_rule *r,
			    const struct dl_clock *c, enum dl_level *lvl)
{
	*lvl = 0;
	if (c->state != DL_CLOCK_OPEN)
		return 0;
	if (r->waiting)
		return day_ms(c->due + 1);
	for (int l = DL_LVL_WARNING; l < DL_LVL_COUNT; l++) {
		int64_t ms;
		if (!(r->levels & (1u << l)) || (c->raised & (1u << l)))
			continue;
		ms = level_instant(e, r, c, (enum dl_level)l);
		if (ms == 0)
			continue;
		*lvl = (enum dl_level)l;
		return ms;
	}
	return 0;
}

static int reindex(struct tx *x, const struct dl_rule *r, const char *id, size_t len,
		   struct dl_clock *c)
{
	enum dl_level l;

	return index_set(x->t, id, len, c, next_instant(x->e, r, c, &l));
}

/* --------------------------------------------------------- explanations --- */

struct expl {
	char hist[HIST_MAX];
	size_t histlen;
};

static int expl_get(struct cm_txn *t, const char *id, size_t len, struct expl *h)
{
	struct cm_val v;
	int rc = cm_txn_get(t, DL_DB_EXPLAIN, id, len, &v);
	const uint8_t *b;
	size_t n;

	h->hist[0] = '\0';
	h->histlen = 0;
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	b = v.data;
	if (v.size < 2)
		return CM_ECORRUPT;
	n = (size_t)((b[0] << 8) | b[1]);
	if (n + 2 > v.size || n >= HIST_MAX)
		return CM_ECORRUPT;
	memcpy(h->hist, b + 2, n);
	h->hist[n] = '\0';
	h->histlen = n;
	return 0;
}

static void hist_add(struct expl *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void hist_add(struct expl *h, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (h->histlen + n + 2 >= HIST_MAX)
		return;
	if (h->histlen) {
		memcpy(h->hist + h->histlen, "; ", 2);
		h->histlen += 2;
	}
	memcpy(h->hist + h->histlen, line, n + 1);
	h->histlen += n;
}

/* Recompute a clock's due day from its anchor, and its explanation, and store
 * the explanation. text (DL_EXPLAIN_MAX) receives it for the event. */
static int compute_and_explain(struct tx *x, const struct dl_rule *r, const struct dl_version *v,
			       const char *id, size_t len, struct dl_clock *c,
			       const struct expl *h, char *text)
{
	struct cal_explain ex;
	uint8_t *buf;
	size_t tl;
	int rc;

	rc = dl_due(x->e->cal, (enum dl_unit)c->unit, c->flags & DL_CLK_IGNORE_MAKEUP, c->anchor,
		    c->n, &c->due, &ex);
	if (rc)
		return rc;
	dl_explain(r, v, (enum dl_variant)c->variant, c->trigger, c->length, c->ext_days,
		   c->ext_count, h ? h->hist : NULL, &ex, text, DL_EXPLAIN_MAX);
	tl = strlen(text);
	buf = cm_xmalloc(2 + (h ? h->histlen : 0) + tl);
	buf[0] = (uint8_t)((h ? h->histlen : 0) >> 8);
	buf[1] = (uint8_t)(h ? h->histlen : 0);
	if (h && h->histlen)
		memcpy(buf + 2, h->hist, h->histlen);
	memcpy(buf + 2 + (h ? h->histlen : 0), text, tl);
	rc = cm_txn_put(x->t, DL_DB_EXPLAIN, id, len, buf, 2 + (h ? h->histlen : 0) + tl, 0);
	free(buf);
	return rc;
}

/* The version a clock was set with (it may have left the policy after a
 * reload; the version in force on the trigger day stands in then). */
static const struct dl_version *clock_version(const struct dl_rule *r, const struct dl_clock *c)
{
	for (size_t i = 0; i < r->nversions; i++)
		if (r->versions[i].version == c->version)
			return &r->versions[i];
	return dl_rule_version(r, c->trigger);
}

/* ----------------------------------------------------- starting clocks --- */

static int start_clock(struct tx *x, const char *case_number, const struct dl_case *cs,
		       const struct dl_rule *r, cm_day_t trigger)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__DeadlineSet ds = DONTHU__V1__DEADLINE_SET__INIT;
	const struct dl_version *v = dl_rule_version(r, trigger);
	char id[DL_CLOCK_ID_MAX], td[11], dd[11];
	struct dl_clock c = {0}, old;
	char *text;
	size_t len;
	int rc;

	if (!v)
		return 0; /* not yet in force on the trigger day */
	len = dl_clock_id(case_number, r->id, id, sizeof(id));
	if (len == 0)
		return 0;
	rc = clock_get(x->t, id, len, &old);
	if (rc == 0)
		return 0; /* a stage runs once per case */
	if (rc != -ENOENT)
		return rc;
	c.state = DL_CLOCK_OPEN;
	c.unit = (uint8_t)v->unit;
	c.flags = v->ignore_makeup ? DL_CLK_IGNORE_MAKEUP : 0;
	c.complexity = cs->complexity;
	c.remote = cs->remote;
	c.variant = (uint8_t)dl_version_variant(v, cs->complexity, cs->remote);
	c.version = (uint16_t)v->version;
	c.length = (uint16_t)dl_version_length(v, (enum dl_variant)c.variant);
	c.n = c.length;
	c.trigger = trigger;
	c.anchor = trigger;
	text = cm_xmalloc(DL_EXPLAIN_MAX);
	rc = compute_and_explain(x, r, v, id, len, &c, NULL, text);
	if (rc == -ERANGE || rc == -EINVAL) {
		char d[11];
		fmt_day(trigger, d);
		cm_log_warn_err(DEADLINE, rc, "clock %s not started: trigger %s is outside the calendar",
				id, d);
		free(text);
		return 0;
	}
	if (rc || (rc = reindex(x, r, id, len, &c)) || (rc = clock_put(x->t, id, len, &c)) ||
	    (rc = dl_meta_add(x->t, "open", 1)))
		goto out;
	fmt_day(trigger, td);
	fmt_day(c.due, dd);
	ds.case_number = (char *)case_number;
	ds.clock_id = id;
	ds.stage = (char *)r->stage;
	ds.rule_id = (char *)r->id;
	ds.rule_version = v->version;
	ds.article = (char *)v->article;
	ds.trigger_date = td;
	ds.due_date = dd;
	ds.length = c.length;
	ds.unit = (Donthu__V1__DayUnit)c.unit;
	ds.agency = (char *)cs->agency;
	ds.explain = text;
	ev.case_number = (char *)case_number;
	ev.body_case = BODY(DEADLINE_SET);
	ev.deadline_set = &ds;
	rc = append(x, &ev);
out:
	free(text);
	return rc;
}

static int start_rules(struct tx *x, const char *case_number, const struct dl_case *cs,
		       enum dl_trigger trig, cm_day_t day, int kind)
{
	const struct dl_policy *p = x->e->pol;
	int rc;

	for (size_t i = 0; i < dl_policy_nrules(p); i++) {
		const struct dl_rule *r = dl_policy_rule_at(p, i);
		if (r->trigger != trig || !dl_rule_matches(r, kind, cs->subject, cs->round))
			continue;
		if ((rc = start_clock(x, case_number, cs, r, day)))
			return rc;
	}
	return 0;
}

/* ------------------------------------------- the clocks of one case --- */

struct case_clock {
	char id[DL_CLOCK_ID_MAX];
	size_t len;
	struct dl_clock c;
	const struct dl_rule *r;
};

struct collect {
	const struct dl_policy *pol;
	const char *prefix;
	size_t plen;
	struct case_clock *v;
	size_t n, cap;
	int err;
};

static int collect_one(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct collect *cl = arg;
	struct case_clock *cc;
	size_t caselen, rulelen;
	const char *rule;

	if (k->size < cl->plen || memcmp(k->data, cl->prefix, cl->plen) != 0)
		return 1;
	if (k->size >= DL_CLOCK_ID_MAX)
		return 0;
	if (cl->n == cl->cap) {
		cl->cap = cl->cap ? cl->cap * 2 : 8;
		cl->v = cm_xrealloc(cl->v, cl->cap * sizeof(*cl->v));
	}
	cc = &cl->v[cl->n];
	memcpy(cc->id, k->data, k->size);
	cc->id[k->size] = '\0';
	cc->len = k->size;
	if (dl_clock_decode(v->data, v->size, &cc->c) != 0) {
		cl->err = CM_ECORRUPT;
		return -1;
	}
	if (!split_id(cc->id, cc->len, &caselen, &rule, &rulelen))
		return 0;
	cc->r = dl_policy_rule(cl->pol, rule, rulelen);
	cl->n++;
	return 0;
}

/* Every clock of a case, copied out so the caller may write while it goes
 * through them. Caller frees cl->v. */
static int case_clocks(struct tx *x, const char *case_number, struct collect *cl)
{
	char prefix[DL_CODE_MAX + 2];
	int rc;

	memset(cl, 0, sizeof(*cl));
	cl->pol = x->e->pol;
	cl->plen = (size_t)snprintf(prefix, sizeof(prefix), "%s/", case_number);
	cl->prefix = prefix;
	rc = cm_txn_iter(x->t, DL_DB_CLOCKS, prefix, cl->plen, collect_one, cl);
	cl->prefix = NULL;
	if (rc < 0)
		return cl->err ? cl->err : rc;
	return 0;
}

static void clear_raised(struct dl_clock *c, int64_t *overdue_delta)
{
	if (c->raised & (1u << DL_LVL_OVERDUE))
		(*overdue_delta)--;
	c->raised = 0;
}

static int stop_clock(struct tx *x, const char *case_number, const struct dl_case *cs,
		      struct case_clock *cc, cm_day_t day, const char *why)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ClockStopped st = DONTHU__V1__CLOCK_STOPPED__INIT;
	struct dl_clock *c = &cc->c;
	char dd[11], cd[11];
	bool paused = c->state == DL_CLOCK_PAUSED;
	int rc;

	/* A suspended clock cannot be missed; a waiting period ended early is
	 * not an obligation either. */
	if (paused || (cc->r && cc->r->waiting) || day <= c->due)
		c->flags |= DL_CLK_MET;
	if ((rc = index_set(x->t, cc->id, cc->len, c, 0)))
		return rc;
	c->state = DL_CLOCK_STOPPED;
	c->stopped = day;
	if ((rc = clock_put(x->t, cc->id, cc->len, c)) || (rc = dl_meta_add(x->t, "open", -1)))
		return rc;
	if ((c->raised & (1u << DL_LVL_OVERDUE)) && (rc = dl_meta_add(x->t, "overdue", -1)))
		return rc;
	fmt_day(c->due, dd);
	fmt_day(day, cd);
	st.case_number = (char *)case_number;
	st.clock_id = cc->id;
	st.stage = (char *)(cc->r ? cc->r->stage : "");
	st.due_date = dd;
	st.completed_date = cd;
	st.met = (c->flags & DL_CLK_MET) != 0;
	st.agency = (char *)cs->agency;
	st.reason = (char *)why;
	ev.case_number = (char *)case_number;
	ev.body_case = BODY(CLOCK_STOPPED);
	ev.clock_stopped = &st;
	return append(x, &ev);
}

/* Stop the open clocks of a case that stop on `stop` (every one when all). */
static int stop_clocks(struct tx *x, const char *case_number, const struct dl_case *cs,
		       enum dl_stop stop, bool all, cm_day_t day)
{
	struct collect cl;
	int rc = case_clocks(x, case_number, &cl);

	for (size_t i = 0; rc == 0 && i < cl.n; i++) {
		struct case_clock *cc = &cl.v[i];
		if (cc->c.state == DL_CLOCK_STOPPED)
			continue;
		if (!all && (!cc->r || !(cc->r->stop_on & (1u << stop))))
			continue;
		rc = stop_clock(x, case_number, cs, cc, day, dl_stop_name(stop));
	}
	free(cl.v);
	return rc;
}

static int emit_changed(struct tx *x, const char *case_number, const char *id, int reason,
			cm_day_t old_due, bool has_new, cm_day_t new_due, const char *text)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__DeadlineChanged dc = DONTHU__V1__DEADLINE_CHANGED__INIT;
	char od[11], nd[11] = "";

	fmt_day(old_due, od);
	if (has_new)
		fmt_day(new_due, nd);
	dc.case_number = (char *)case_number;
	dc.clock_id = (char *)id;
	dc.reason = (Donthu__V1__ChangeReason)reason;
	dc.old_due_date = od;
	dc.new_due_date = nd;
	dc.explain = (char *)(text ? text : "");
	ev.case_number = (char *)case_number;
	ev.body_case = BODY(DEADLINE_CHANGED);
	ev.deadline_changed = &dc;
	return append(x, &ev);
}

static int emit_rejected(struct tx *x, const char *case_number, const char *id, const char *why)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ExtensionRejected er = DONTHU__V1__EXTENSION_REJECTED__INIT;

	er.case_number = (char *)case_number;
	er.clock_id = (char *)id;
	er.reason = (char *)why;
	ev.case_number = (char *)case_number;
	ev.body_case = BODY(EXTENSION_REJECTED);
	ev.extension_rejected = &er;
	return append(x, &ev);
}

/* Store a clock whose period or anchor changed for a legal act (extension,
 * resumption): new due day, fresh escalation chain, history line, event. */
static int rearm_changed(struct tx *x, const char *case_number, struct case_clock *cc,
			 const struct dl_version *v, struct expl *h, int reason, cm_day_t old_due)
{
	char *text = cm_xmalloc(DL_EXPLAIN_MAX);
	int64_t od = 0;
	int rc;

	rc = compute_and_explain(x, cc->r, v, cc->id, cc->len, &cc->c, h, text);
	if (rc)
		goto out;
	/* A new due day is a new schedule: its levels may be raised again. */
	clear_raised(&cc->c, &od);
	if ((od && (rc = dl_meta_add(x->t, "overdue", od))) ||
	    (rc = reindex(x, cc->r, cc->id, cc->len, &cc->c)) ||
	    (rc = clock_put(x->t, cc->id, cc->len, &cc->c)))
		goto out;
	rc = emit_changed(x, case_number, cc->id, reason, old_due, true, cc->c.due, text);
out:
	free(text);
	return rc;
}

static int do_extend(struct tx *x, const char *case_number, struct dl_case *cs, cm_day_t day,
		     const Donthu__V1__Extend *ext)
{
	struct collect cl;
	bool any = false;
	char why[512], d[11];
	int rc;

	if (ext && (int)ext->complexity > cs->complexity &&
	    ext->complexity <= DONTHU__V1__COMPLEXITY__COMPLEXITY_ESPECIALLY_COMPLEX) {
		cs->complexity = (uint8_t)ext->complexity;
		if ((rc = case_put(x->t, case_number, cs)))
			return rc;
	}
	if ((rc = case_clocks(x, case_number, &cl)))
		return rc;
	fmt_day(day, d);
	for (size_t i = 0; rc == 0 && i < cl.n; i++) {
		struct case_clock *cc = &cl.v[i];
		const struct dl_version *v;
		unsigned granted = 0;
		struct expl h;

		if (cc->c.state == DL_CLOCK_STOPPED || !cc->r || cc->r->waiting)
			continue;
		v = clock_version(cc->r, &cc->c);
		if (!v || v->ext.mode == DL_EXT_NONE)
			continue;
		any = true;
		if (dl_extension_check(v, cs->complexity, cs->remote, cc->c.ext_count,
				       (unsigned)cc->c.length + cc->c.ext_days, ext ? ext->days : 0,
				       &granted, why, sizeof(why)) != 0) {
			rc = emit_rejected(x, case_number, cc->id, why);
			continue;
		}
		if ((rc = expl_get(x->t, cc->id, cc->len, &h)))
			break;
		cc->c.ext_count++;
		cc->c.ext_days = (uint16_t)(cc->c.ext_days + granted);
		cc->c.n += (int32_t)granted;
		hist_add(&h, "extended on %s by %u %s (extension %u, %s case)", d, granted,
			 cc->c.unit == DL_UNIT_WD ? "working days" : "days", cc->c.ext_count,
			 cs->complexity == DL_CPLX_ESPECIALLY ? "especially complex"
			 : cs->complexity == DL_CPLX_COMPLEX  ? "complex"
							      : "normal");
		if (cc->c.state == DL_CLOCK_PAUSED) {
			/* The suspended count grows; the due day is fixed on resumption. */
			uint8_t hb[2 + HIST_MAX];
			hb[0] = (uint8_t)(h.histlen >> 8);
			hb[1] = (uint8_t)h.histlen;
			memcpy(hb + 2, h.hist, h.histlen);
			if ((rc = cm_txn_put(x->t, DL_DB_EXPLAIN, cc->id, cc->len, hb, 2 + h.histlen,
					     0)) ||
			    (rc = clock_put(x->t, cc->id, cc->len, &cc->c)))
				break;
			continue;
		}
		rc = rearm_changed(x, case_number, cc, v, &h, CHANGE(EXTENDED), cc->c.due);
	}
	if (rc == 0 && !any)
		rc = emit_rejected(x, case_number, "",
				   "no open clock of this case may be extended (the policy allows "
				   "extensions of denunciation resolution, denunciation acceptance "
				   "and, up to their caps, complex or remote complaints)");
	free(cl.v);
	return rc;
}

static int do_suspend(struct tx *x, const char *case_number, const struct dl_case *cs,
		      cm_day_t day)
{
	struct collect cl;
	char d[11];
	int rc = case_clocks(x, case_number, &cl);

	(void)cs;
	fmt_day(day, d);
	for (size_t i = 0; rc == 0 && i < cl.n; i++) {
		struct case_clock *cc = &cl.v[i];
		const struct dl_version *v;
		uint8_t hb[2 + HIST_MAX];
		struct expl h;
		int left;

		if (cc->c.state != DL_CLOCK_OPEN || !cc->r)
			continue;
		v = clock_version(cc->r, &cc->c);
		if (!v || !v->pauses || day < v->pauses_from)
			continue;
		rc = dl_remaining(x->e->cal, (enum dl_unit)cc->c.unit,
				  cc->c.flags & DL_CLK_IGNORE_MAKEUP, cc->c.anchor, cc->c.n, day,
				  &left);
		if (rc || (rc = expl_get(x->t, cc->id, cc->len, &h)))
			break;
		hist_add(&h, "suspended on %s with %d %s left", d, left,
			 cc->c.unit == DL_UNIT_WD ? "working days" : "days");
		cc->c.n = left;
		cc->c.paused = day;
		cc->c.state = DL_CLOCK_PAUSED;
		hb[0] = (uint8_t)(h.histlen >> 8);
		hb[1] = (uint8_t)h.histlen;
		memcpy(hb + 2, h.hist, h.histlen);
		if ((rc = index_set(x->t, cc->id, cc->len, &cc->c, 0)) ||
		    (rc = clock_put(x->t, cc->id, cc->len, &cc->c)) ||
		    (rc = cm_txn_put(x->t, DL_DB_EXPLAIN, cc->id, cc->len, hb, 2 + h.histlen, 0)))
			break;
		rc = emit_changed(x, case_number, cc->id, CHANGE(PAUSED), cc->c.due, false, 0, h.hist);
	}
	free(cl.v);
	return rc;
}

static int do_resume(struct tx *x, const char *case_number, const struct dl_case *cs,
		     cm_day_t day)
{
	struct collect cl;
	char d[11];
	int rc = case_clocks(x, case_number, &cl);

	(void)cs;
	fmt_day(day, d);
	for (size_t i = 0; rc == 0 && i < cl.n; i++) {
		struct case_clock *cc = &cl.v[i];
		const struct dl_version *v;
		struct expl h;
		cm_day_t from;

		if (cc->c.state != DL_CLOCK_PAUSED || !cc->r)
			continue;
		v = clock_version(cc->r, &cc->c);
		if (!v || (rc = expl_get(x->t, cc->id, cc->len, &h)))
			break;
		from = day < cc->c.paused ? cc->c.paused : day;
		hist_add(&h, "resumed on %s after %d days suspended", d, from - cc->c.paused);
		cc->c.paused_days = (uint16_t)(cc->c.paused_days + (from - cc->c.paused));
		cc->c.anchor = from;
		cc->c.state = DL_CLOCK_OPEN;
		rc = rearm_changed(x, case_number, cc, v, &h, CHANGE(RESUMED), cc->c.due);
	}
	free(cl.v);
	return rc;
}

/* ---------------------------------------------------------- receptions --- */

static int month_of(cm_day_t d)
{
	int y, m, dd;

	cm_day_to_ymd(d, &y, &m, &dd);
	return y * 12 + (m - 1);
}

static cm_day_t month_first(int mon)
{
	return cm_day_from_ymd(mon / 12, mon % 12 + 1, 1);
}

static cm_day_t month_last(int mon)
{
	return month_first(mon + 1) - 1;
}

static size_t rcp_id(int mon, char *buf, size_t cap)
{
	return (size_t)snprintf(buf, cap, RCP_PREFIX "%04d-%02d", mon / 12, mon % 12 + 1);
}

static int rcp_schedule(struct tx *x, int mon)
{
	uint8_t key[64], b[8];
	char id[32];
	size_t len = rcp_id(mon, id, sizeof(id));
	int64_t ms = day_ms(month_first(mon + 1) + (cm_day_t)x->e->lv.reception_grace_days);
	int rc;

	cm_be64_put(b, (uint64_t)mon);
	if ((rc = cm_txn_put(x->t, DL_DB_META, "rcp_next", 8, b, 8, 0)))
		return rc;
	return cm_txn_put(x->t, DL_DB_DUE, key, dl_due_key(ms, id, len, key, sizeof(key)), "", 0, 0);
}

/* Track a head of agency from the first month we hear of them, and make sure
 * a monthly check is scheduled. */
static int head_seen(struct tx *x, const char *agency, int role, cm_day_t day)
{
	uint8_t key[DL_CODE_MAX + 2], b[4];
	size_t klen = dl_head_key(agency, role, key, sizeof(key));
	struct cm_val v;
	uint64_t next;
	int rc;

	if (klen == 0)
		return 0;
	rc = cm_txn_get(x->t, DL_DB_HEADS, key, klen, &v);
	if (rc == 0 && v.size == 4 && (cm_day_t)cm_be32_get(v.data) <= day)
		goto sched;
	if (rc && rc != -ENOENT)
		return rc;
	cm_be32_put(b, (uint32_t)day);
	if ((rc = cm_txn_put(x->t, DL_DB_HEADS, key, klen, b, 4, 0)))
		return rc;
sched:
	rc = cm_txn_get(x->t, DL_DB_META, "rcp_next", 8, &v);
	if (rc == -ENOENT)
		return rcp_schedule(x, month_of(day));
	if (rc)
		return rc;
	if (v.size != 8)
		return CM_ECORRUPT;
	next = cm_be64_get(v.data);
	(void)next; /* months before it were judged already; later ones will be */
	return 0;
}

static int do_reception(struct tx *x, const Donthu__V1__ReceptionRecorded *rr)
{
	const Donthu__V1__ReceptionRecord *r = rr->record;
	uint8_t key[DL_CODE_MAX + 6];
	size_t klen;
	cm_day_t day;
	int rc;

	if (!r || r->reception_kind != DONTHU__V1__RECEPTION_KIND__RECEPTION_KIND_PERIODIC ||
	    r->head_role == DONTHU__V1__HEAD_ROLE__HEAD_ROLE_UNSPECIFIED || r->refused ||
	    !code_ok(r->agency) || r->received_at_ms <= 0)
		return 0;
	day = cm_day_of_ms(r->received_at_ms);
	klen = dl_head_key(r->agency, r->head_role, key, sizeof(key));
	if (klen == 0)
		return 0;
	cm_be32_put(key + klen, (uint32_t)day);
	if ((rc = cm_txn_put(x->t, DL_DB_RECEPTIONS, key, klen + 4, "", 0, 0)))
		return rc;
	return head_seen(x, r->agency, r->head_role, day);
}

static int do_schedule(struct tx *x, const Donthu__V1__ScheduleRecorded *sr)
{
	const Donthu__V1__ReceptionSchedule *s = sr->schedule;
	char first[16];
	cm_day_t d;

	if (!s || s->head_role == DONTHU__V1__HEAD_ROLE__HEAD_ROLE_UNSPECIFIED ||
	    !code_ok(s->agency) || !s->month || strlen(s->month) != 7)
		return 0;
	snprintf(first, sizeof(first), "%s-01", s->month);
	if (cm_day_parse(first, &d) != 0)
		return 0;
	return head_seen(x, s->agency, s->head_role, d);
}

struct rcp_count {
	const uint8_t *prefix;
	size_t plen;
	cm_day_t to;
	unsigned days;
};

static int count_one(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct rcp_count *c = arg;

	(void)v;
	if (k->size != c->plen + 4 || memcmp(k->data, c->prefix, c->plen) != 0 ||
	    (cm_day_t)cm_be32_get((const uint8_t *)k->data + c->plen) > c->to)
		return 1;
	c->days++;
	return 0;
}

/* Periodic reception days held in [from, to]. */
static int receptions_in(struct cm_txn *t, const uint8_t *prefix, size_t plen, cm_day_t from,
			 cm_day_t to, unsigned *days)
{
	uint8_t key[DL_CODE_MAX + 6];
	struct rcp_count c = {.prefix = prefix, .plen = plen, .to = to};
	int rc;

	memcpy(key, prefix, plen);
	cm_be32_put(key + plen, (uint32_t)from);
	rc = cm_txn_iter(t, DL_DB_RECEPTIONS, key, plen + 4, count_one, &c);
	*days = c.days;
	return rc < 0 ? rc : 0;
}

struct head {
	char agency[DL_CODE_MAX + 1];
	int role;
	cm_day_t first;
};

struct heads {
	struct head *v;
	size_t n, cap;
};

static int head_one(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct heads *h = arg;
	const uint8_t *b = k->data;

	if (k->size < 3 || k->size > DL_CODE_MAX + 2 || b[k->size - 2] != 0 || v->size != 4)
		return 0;
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = cm_xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	memcpy(h->v[h->n].agency, b, k->size - 2);
	h->v[h->n].agency[k->size - 2] = '\0';
	h->v[h->n].role = b[k->size - 1];
	h->v[h->n].first = (cm_day_t)cm_be32_get(v->data);
	h->n++;
	return 0;
}

static const char *role_label(int role)
{
	switch (role) {
	case 1: return "commune chairman";
	case 2: return "provincial chairman";
	case 3: return "agency head";
	case 4: return "public service unit head";
	default: return "head";
	}
}

static int judge_month(struct tx *x, int mon, cm_day_t today)
{
	struct heads hs = {0};
	cm_day_t first = month_first(mon), last = month_last(mon);
	int rc = cm_txn_iter(x->t, DL_DB_HEADS, NULL, 0, head_one, &hs);

	if (rc > 0)
		rc = 0;
	for (size_t i = 0; rc == 0 && i < hs.n; i++) {
		struct head *h = &hs.v[i];
		const struct dl_reception_rule *rr = dl_policy_reception(x->e->pol, h->role);
		const struct dl_reception_version *v = rr ? dl_reception_version(rr, first) : NULL;
		uint8_t prefix[DL_CODE_MAX + 2];
		size_t plen = dl_head_key(h->agency, h->role, prefix, sizeof(prefix));
		char detail[600], id[DL_CLOCK_ID_MAX], ms[16];
		unsigned days = 0, weeks = 0, missed = 0;

		if (!v || h->first > last || plen == 0)
			continue;
		snprintf(ms, sizeof(ms), "%04d-%02d", mon / 12, mon % 12 + 1);
		if (v->per == DL_PER_MONTH) {
			if ((rc = receptions_in(x->t, prefix, plen, first, last, &days)))
				break;
			if (days >= v->min)
				continue;
			snprintf(detail, sizeof(detail),
				 "%s: %u of the %u periodic reception day%s required in %s (%s)",
				 role_label(h->role), days, v->min, v->min == 1 ? "" : "s", ms,
				 v->article);
		} else {
			char list[200] = "";
			size_t ll = 0;
			/* A week belongs to the month that holds its Thursday. */
			cm_day_t mon0 = first - cm_day_weekday(first);
			for (cm_day_t w = mon0; w <= last; w += 7) {
				bool working = false;
				if (w + 3 < first || w + 3 > last || w + 6 < h->first)
					continue;
				for (cm_day_t d = w; d < w + 7; d++)
					working = working || cal_is_working_day(x->e->cal, d, 0);
				if (!working)
					continue; /* a week of days off (Tết) asks nothing */
				weeks++;
				if ((rc = receptions_in(x->t, prefix, plen, w, w + 6, &days)))
					break;
				if (days >= v->min)
					continue;
				missed++;
				if (ll < sizeof(list) - 16) {
					char wd[11];
					fmt_day(w, wd);
					ll += (size_t)snprintf(list + ll, sizeof(list) - ll, "%s%s",
							       ll ? ", " : "", wd);
				}
			}
			if (rc)
				break;
			if (missed == 0)
				continue;
			snprintf(detail, sizeof(detail),
				 "%s: %u of %u weeks in %s without a periodic reception day (weeks of "
				 "%s) (%s)",
				 role_label(h->role), missed, weeks, ms, list, v->article);
		}
		snprintf(id, sizeof(id), "reception/%s/%d/%s", h->agency, h->role, ms);
		{
			struct esc s = {
				.level = rr->level,
				.reason = REASON(RECEPTION_MISSED),
				.agency = h->agency,
				.clock_id = id,
				.stage = rr->id,
				.due = last,
				.raised = today,
				.detail = detail,
			};
			rc = emit_escalation(x, &s);
		}
	}
	free(hs.v);
	return rc;
}

/* ----------------------------------------------------- applying events --- */

static int do_petition(struct tx *x, const Donthu__V1__PetitionReceived *pr)
{
	const Donthu__V1__Petition *p = pr->petition;
	struct dl_case cs;
	cm_day_t day;
	int rc;

	if (!p || !code_ok(pr->case_number) || p->received_at_ms <= 0)
		return 0;
	if ((rc = case_get_or_stub(x->t, pr->case_number, &cs)))
		return rc;
	if (cs.flags & DL_CASE_RECEIVED)
		return 0;
	day = cm_day_of_ms(p->received_at_ms);
	cs.flags |= DL_CASE_RECEIVED;
	cs.kind = (uint8_t)p->kind;
	cs.subject = p->complaint_subject ==
				     DONTHU__V1__COMPLAINT_SUBJECT__COMPLAINT_SUBJECT_DISCIPLINARY_DECISION
			     ? 2
			     : 1;
	cs.round = p->round == DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_SECOND ? 2 : 1;
	cs.received = day;
	if (!cs.agency[0] && code_ok(p->receiving_agency))
		snprintf(cs.agency, sizeof(cs.agency), "%s", p->receiving_agency);
	if ((rc = case_put(x->t, pr->case_number, &cs)) || (rc = dl_meta_add(x->t, "cases", 1)))
		return rc;
	if ((rc = start_rules(x, pr->case_number, &cs, DL_TRIG_RECEIVED, day, cs.kind)))
		return rc;
	/* Routing decisions that arrived before the receipt. */
	if ((cs.flags & DL_CASE_OUTSIDE) &&
	    (rc = start_rules(x, pr->case_number, &cs, DL_TRIG_OUTSIDE_COMPETENCE, day, cs.kind)))
		return rc;
	if ((cs.flags & DL_CASE_FILED) &&
	    (rc = stop_clocks(x, pr->case_number, &cs, DL_STOP_FILED, false,
			      cs.pending_day > day ? cs.pending_day : day)))
		return rc;
	if (cs.flags & DL_CASE_NOT_PROCESSED)
		rc = stop_clocks(x, pr->case_number, &cs, DL_STOP_NOT_PROCESSED, false,
				 cs.pending_day > day ? cs.pending_day : day);
	return rc;
}

static int do_action(struct tx *x, const Donthu__V1__CaseActionRecorded *car)
{
	const Donthu__V1__CaseAction *a = car->action;
	const char *num = car->case_number;
	struct dl_case cs;
	cm_day_t day;
	int rc;

	if (!a || !code_ok(num) || a->effective_at_ms <= 0)
		return 0;
	rc = case_get(x->t, num, strlen(num), &cs);
	if (rc == -ENOENT || (rc == 0 && !(cs.flags & DL_CASE_RECEIVED))) {
		cm_log_warn(DEADLINE, "action on case %s before its receipt; ignored", num);
		return 0;
	}
	if (rc)
		return rc;
	day = cm_day_of_ms(a->effective_at_ms);
	switch (a->action_case) {
	case ACT(ACCEPT):
		if (a->accept) {
			int cx = a->accept->complexity;
			cs.complexity = (uint8_t)(cx >= DL_CPLX_NORMAL && cx <= DL_CPLX_ESPECIALLY
							  ? cx
							  : DL_CPLX_NORMAL);
			cs.remote = a->accept->remote_area;
			if (code_ok(a->accept->handling_agency))
				snprintf(cs.agency, sizeof(cs.agency), "%s",
					 a->accept->handling_agency);
			if ((rc = case_put(x->t, num, &cs)))
				return rc;
		}
		if ((rc = stop_clocks(x, num, &cs, DL_STOP_ACCEPT, false, day)))
			return rc;
		return start_rules(x, num, &cs, DL_TRIG_ACCEPTED, day, cs.kind);
	case ACT(REFUSE): return stop_clocks(x, num, &cs, DL_STOP_REFUSE, false, day);
	case ACT(GUIDE): return stop_clocks(x, num, &cs, DL_STOP_GUIDE, false, day);
	case ACT(FORWARD): return stop_clocks(x, num, &cs, DL_STOP_FORWARD, false, day);
	case ACT(GIVE_BACK): return stop_clocks(x, num, &cs, DL_STOP_RETURN, false, day);
	case ACT(FILE_AWAY): return stop_clocks(x, num, &cs, DL_STOP_FILE, false, day);
	case ACT(EXTEND): return do_extend(x, num, &cs, day, a->extend);
	case ACT(SUSPEND): return do_suspend(x, num, &cs, day);
	case ACT(RESUME): return do_resume(x, num, &cs, day);
	case ACT(WITHDRAW):
		if (car->status_after != DONTHU__V1__CASE_STATUS__CASE_STATUS_WITHDRAWN)
			return 0; /* partial: the rest of the case goes on */
		return stop_clocks(x, num, &cs, DL_STOP_WITHDRAW, true, day);
	case ACT(TERMINATE): return stop_clocks(x, num, &cs, DL_STOP_TERMINATE, true, day);
	case ACT(DECIDE):
		if ((rc = stop_clocks(x, num, &cs, DL_STOP_DECIDE, false, day)))
			return rc;
		return start_rules(x, num, &cs, DL_TRIG_DECIDED, day, cs.kind);
	case ACT(ENFORCEMENT):
		if ((rc = stop_clocks(x, num, &cs, DL_STOP_ENFORCEMENT, false, day)))
			return rc;
		if (a->enforcement && a->enforcement->completed)
			rc = stop_clocks(x, num, &cs, DL_STOP_ENFORCED, false, day);
		return rc;
	case ACT(RECOMPLAINT):
		if ((rc = stop_clocks(x, num, &cs, DL_STOP_RECOMPLAINT, false, day)))
			return rc;
		if (!a->recomplaint || !a->recomplaint->redenunciation)
			return 0;
		if ((rc = stop_clocks(x, num, &cs, DL_STOP_REDENOUNCE, false, day)))
			return rc;
		return start_rules(x, num, &cs, DL_TRIG_REDENOUNCED, day, cs.kind);
	case ACT(REASSIGN):
		if (a->reassign && code_ok(a->reassign->to_agency)) {
			snprintf(cs.agency, sizeof(cs.agency), "%s", a->reassign->to_agency);
			return case_put(x->t, num, &cs);
		}
		return 0;
	case ACT(CLOSE): return stop_clocks(x, num, &cs, DL_STOP_CLOSE, true, day);
	default: return 0;
	}
}

/* A denunciation outside competence: the forwarding clock, from receipt. */
static int outside_competence(struct tx *x, const char *num, int kind, cm_day_t day)
{
	struct dl_case cs;
	int rc = case_get_or_stub(x->t, num, &cs);

	if (rc)
		return rc;
	if (!(cs.flags & DL_CASE_RECEIVED)) {
		cs.flags |= DL_CASE_OUTSIDE;
		cs.pending_day = day;
		return case_put(x->t, num, &cs);
	}
	return start_rules(x, num, &cs, DL_TRIG_OUTSIDE_COMPETENCE, cs.received,
			   kind ? kind : cs.kind);
}

static int routing_stop(struct tx *x, const char *num, enum dl_stop stop, uint8_t pending,
			cm_day_t day)
{
	struct dl_case cs;
	int rc = case_get_or_stub(x->t, num, &cs);

	if (rc)
		return rc;
	if (!(cs.flags & DL_CASE_RECEIVED)) {
		cs.flags |= pending;
		cs.pending_day = day;
		return case_put(x->t, num, &cs);
	}
	return stop_clocks(x, num, &cs, stop, false, day < cs.received ? cs.received : day);
}

static int flag_reason(int kind)
{
	switch (kind) {
	case DONTHU__V1__FLAG_KIND__FLAG_KIND_MANY_SIGNERS: return REASON(MANY_SIGNERS);
	case DONTHU__V1__FLAG_KIND__FLAG_KIND_DELEGATION: return REASON(DELEGATION);
	case DONTHU__V1__FLAG_KIND__FLAG_KIND_TRANSFER_LOOP: return REASON(TRANSFER_LOOP);
	case DONTHU__V1__FLAG_KIND__FLAG_KIND_SERIOUS_HARM: return REASON(SERIOUS_HARM);
	default: return 0;
	}
}

static int do_flag(struct tx *x, const Donthu__V1__CaseFlagged *f, cm_day_t day)
{
	const struct dl_flag_rule *fr = dl_policy_flag(x->e->pol, f->kind);
	char detail[700];
	struct dl_case cs;
	const char *agency = f->agency;
	int reason = flag_reason(f->kind);

	if (!fr || !reason || !code_ok(f->case_number))
		return 0;
	if (!code_ok(agency)) {
		int rc = case_get(x->t, f->case_number, strlen(f->case_number), &cs);
		if (rc && rc != -ENOENT)
			return rc;
		agency = rc == 0 ? cs.agency : "";
	}
	snprintf(detail, sizeof(detail), "%s (count %u; routing rule %s; %s)",
		 f->detail && *f->detail ? f->detail : "flagged by routing", f->count,
		 f->rule_id && *f->rule_id ? f->rule_id : "-", fr->article);
	{
		struct esc s = {
			.level = fr->level,
			.reason = reason,
			.case_number = f->case_number,
			.agency = agency,
			.clock_id = "",
			.stage = "flag",
			.due = INT32_MIN,
			.raised = day,
			.detail = detail,
		};
		return emit_escalation(x, &s);
	}
}

int dl_engine_apply(struct dl_engine *e, struct cm_txn *t, const cm_env *ev)
{
	struct tx x = {.e = e, .t = t, .at_ms = ev->occurred_at_ms};
	cm_day_t day = cm_day_of_ms(ev->occurred_at_ms);

	switch (ev->body_case) {
	case BODY(PETITION_RECEIVED):
		return ev->petition_received ? do_petition(&x, ev->petition_received) : 0;
	case BODY(CASE_ACTION):
		return ev->case_action ? do_action(&x, ev->case_action) : 0;
	case BODY(RECEPTION_RECORDED):
		return ev->reception_recorded ? do_reception(&x, ev->reception_recorded) : 0;
	case BODY(SCHEDULE_RECORDED):
		return ev->schedule_recorded ? do_schedule(&x, ev->schedule_recorded) : 0;
	case BODY(CLASSIFIED): {
		const Donthu__V1__Classified *c = ev->classified;
		if (!c || c->within_competence || !code_ok(c->case_number))
			return 0;
		return outside_competence(&x, c->case_number, c->content_kind, day);
	}
	case BODY(ASSIGNED): {
		const Donthu__V1__Assigned *a = ev->assigned;
		struct dl_case cs;
		int rc;
		if (!a || !code_ok(a->case_number) || !code_ok(a->agency))
			return 0;
		if ((rc = case_get_or_stub(t, a->case_number, &cs)))
			return rc;
		snprintf(cs.agency, sizeof(cs.agency), "%s", a->agency);
		return case_put(t, a->case_number, &cs);
	}
	case BODY(TRANSFERRED): {
		const Donthu__V1__Transferred *tr = ev->transferred;
		if (!tr || tr->kind != DONTHU__V1__TRANSFER_KIND__TRANSFER_KIND_FORWARD ||
		    !code_ok(tr->case_number))
			return 0;
		return outside_competence(&x, tr->case_number, 0, day);
	}
	case BODY(FILED):
		if (!ev->filed || !code_ok(ev->filed->case_number))
			return 0;
		return routing_stop(&x, ev->filed->case_number, DL_STOP_FILED, DL_CASE_FILED, day);
	case BODY(DUPLICATE_LINKED):
		if (!ev->duplicate_linked || !ev->duplicate_linked->sent_to_several_bodies ||
		    !code_ok(ev->duplicate_linked->case_number))
			return 0;
		return routing_stop(&x, ev->duplicate_linked->case_number, DL_STOP_NOT_PROCESSED,
				    DL_CASE_NOT_PROCESSED, day);
	case BODY(FLAGGED):
		return ev->flagged ? do_flag(&x, ev->flagged, day) : 0;
	default:
		return 0;
	}
}

/* ----------------------------------------------------- raising what is due --- */

struct due_entry {
	int64_t ms;
	char id[DL_CLOCK_ID_MAX];
	size_t len;
};

struct due_scan {
	int64_t now;
	unsigned max;
	struct due_entry *v;
	size_t n;
	bool more;
};

static int due_one(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct due_scan *s = arg;
	int64_t ms;

	(void)v;
	if (k->size <= 8)
		return 0;
	ms = (int64_t)cm_be64_get(k->data);
	if (ms > s->now)
		return 1;
	if (s->n == s->max) {
		s->more = true;
		return 1;
	}
	if (k->size - 8 >= DL_CLOCK_ID_MAX)
		return 0;
	s->v[s->n].ms = ms;
	memcpy(s->v[s->n].id, (const uint8_t *)k->data + 8, k->size - 8);
	s->v[s->n].id[k->size - 8] = '\0';
	s->v[s->n].len = k->size - 8;
	s->n++;
	return 0;
}

static int raise_reception(struct tx *x, const struct due_entry *de, cm_day_t today)
{
	uint8_t key[64];
	int y = 0, m = 0, rc;

	rc = cm_txn_del(x->t, DL_DB_DUE, key, dl_due_key(de->ms, de->id, de->len, key, sizeof(key)));
	if (rc && rc != -ENOENT)
		return rc;
	if (sscanf(de->id + strlen(RCP_PREFIX), "%d-%d", &y, &m) != 2 || m < 1 || m > 12)
		return 0;
	if ((rc = judge_month(x, y * 12 + m - 1, today)))
		return rc;
	return rcp_schedule(x, y * 12 + m);
}

static int level_detail(const struct dl_rule *r, const struct dl_clock *c, enum dl_level l,
			cm_day_t today, const struct dl_engine *e, char *buf, size_t len)
{
	char dd[11];
	int left = 0;

	fmt_day(c->due, dd);
	if (l == DL_LVL_WARNING && today <= c->due) {
		cal_count_working_days(e->cal, today, c->due, cal_flags(c), &left);
		return snprintf(buf, len, "%s: due %s, %d working day%s left", r->title, dd, left,
				left == 1 ? "" : "s");
	}
	/* A warning raised after its due date (the service was down, or the
	 * clock jumped) says how late things are, not "-1 days left". */
	return snprintf(buf, len, "%s: due %s, %d day%s overdue", r->title, dd, today - c->due,
			today - c->due == 1 ? "" : "s");
}

static int raise_clock(struct tx *x, const struct due_entry *de, int64_t now, cm_day_t today)
{
	struct case_clock cc;
	struct dl_case cs;
	size_t caselen, rulelen;
	const char *rule;
	char num[DL_CODE_MAX + 1];
	uint8_t key[8 + DL_CLOCK_ID_MAX];
	int64_t od = 0;
	bool found;
	int rc;

	memcpy(cc.id, de->id, de->len + 1);
	cc.len = de->len;
	rc = clock_get(x->t, cc.id, cc.len, &cc.c);
	if (rc && rc != -ENOENT)
		return rc;
	found = rc == 0;
	if (!found || cc.c.idx_ms != de->ms || !split_id(cc.id, cc.len, &caselen, &rule, &rulelen) ||
	    !(cc.r = dl_policy_rule(x->e->pol, rule, rulelen))) {
		/* A stale entry (the clock moved on) or a rule that left the
		 * policy: drop the entry, keep the record. */
		rc = cm_txn_del(x->t, DL_DB_DUE, key,
				dl_due_key(de->ms, cc.id, cc.len, key, sizeof(key)));
		if (rc && rc != -ENOENT)
			return rc;
		if (found && cc.c.idx_ms == de->ms) {
			cc.c.idx_ms = 0;
			return clock_put(x->t, cc.id, cc.len, &cc.c);
		}
		return 0;
	}
	memcpy(num, cc.id, caselen);
	num[caselen] = '\0';
	rc = case_get(x->t, num, caselen, &cs);
	if (rc == -ENOENT)
		memset(&cs, 0, sizeof(cs));
	else if (rc)
		return rc;
	if (cc.r->waiting) {
		if (cc.c.state != DL_CLOCK_OPEN || day_ms(cc.c.due + 1) > now)
			return reindex(x, cc.r, cc.id, cc.len, &cc.c);
		cc.c.flags |= DL_CLK_ELAPSED;
		if ((rc = stop_clock(x, num, &cs, &cc, cc.c.due, "elapsed")))
			return rc;
		if (cc.r->then >= 0) {
			const struct dl_rule *next = dl_policy_rule_at(x->e->pol, (size_t)cc.r->then);
			/* Day 0 of what follows is the last day of the waiting period. */
			if (next)
				rc = start_clock(x, num, &cs, next, cc.c.due);
		}
		return rc;
	}
	for (;;) {
		enum dl_level l;
		int64_t ms = next_instant(x->e, cc.r, &cc.c, &l);
		char detail[512];

		if (ms == 0 || ms > now)
			break;
		level_detail(cc.r, &cc.c, l, today, x->e, detail, sizeof(detail));
		{
			struct esc s = {
				.level = l,
				.reason = cc.r->reason == DL_REASON_UNHANDLED_45
						  ? REASON(UNHANDLED_45_DAYS)
						  : REASON(DEADLINE),
				.case_number = num,
				.agency = cs.agency,
				.clock_id = cc.id,
				.stage = cc.r->stage,
				.due = cc.c.due,
				.raised = today,
				.detail = detail,
			};
			if ((rc = emit_escalation(x, &s)))
				return rc;
		}
		cc.c.raised |= (uint8_t)(1u << l);
		if (l == DL_LVL_OVERDUE)
			od++;
	}
	if ((od && (rc = dl_meta_add(x->t, "overdue", od))) ||
	    (rc = reindex(x, cc.r, cc.id, cc.len, &cc.c)))
		return rc;
	return clock_put(x->t, cc.id, cc.len, &cc.c);
}

int dl_engine_raise(struct dl_engine *e, struct cm_txn *t, int64_t now_ms, unsigned max,
		    unsigned *visited, bool *more)
{
	struct tx x = {.e = e, .t = t, .at_ms = now_ms};
	struct due_scan s = {.now = now_ms, .max = max ? max : 1};
	cm_day_t today = cm_day_of_ms(now_ms);
	int rc;

	*visited = 0;
	*more = false;
	s.v = cm_xcalloc(s.max, sizeof(*s.v));
	rc = cm_txn_iter(t, DL_DB_DUE, NULL, 0, due_one, &s);
	if (rc < 0)
		goto out;
	rc = 0;
	for (size_t i = 0; rc == 0 && i < s.n; i++) {
		if (strncmp(s.v[i].id, RCP_PREFIX, strlen(RCP_PREFIX)) == 0)
			rc = raise_reception(&x, &s.v[i], today);
		else
			rc = raise_clock(&x, &s.v[i], now_ms, today);
	}
	*visited = (unsigned)s.n;
	*more = s.more;
out:
	free(s.v);
	return rc;
}

static int first_one(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	(void)v;
	if (k->size < 8)
		return 0;
	*(int64_t *)arg = (int64_t)cm_be64_get(k->data);
	return 1;
}

int dl_engine_earliest(struct cm_txn *t, int64_t *ms)
{
	int64_t v = -1;
	int rc = cm_txn_iter(t, DL_DB_DUE, NULL, 0, first_one, &v);

	if (rc < 0)
		return rc;
	if (v < 0)
		return -ENOENT;
	*ms = v;
	return 0;
}

/* ------------------------------------------------------- recomputation --- */

struct rc_scan {
	struct dl_engine *e;
	struct dl_recompute *rc;
	unsigned max;
	bool skip_first;
	struct case_clock *v;
	size_t n, cap;
	bool end;
	int err;
};

/* What a clock becomes under the current calendar and policy. Returns true
 * when anything stored about it changes. */
static bool recompute_clock(struct dl_engine *e, enum dl_recompute_what what,
			    const struct dl_rule *r, struct dl_clock *c, bool *header)
{
	const struct dl_version *v;
	struct dl_clock before = *c;
	enum dl_level l;

	*header = false;
	if (what == DL_RECOMPUTE_POLICY) {
		unsigned len;
		enum dl_variant var;
		v = dl_rule_version(r, c->trigger);
		if (!v)
			return false;
		var = dl_version_variant(v, c->complexity, c->remote);
		len = dl_version_length(v, var);
		if (v->version != c->version || len != c->length || var != c->variant ||
		    (v->ignore_makeup != ((c->flags & DL_CLK_IGNORE_MAKEUP) != 0)) ||
		    (v->unit != c->unit && c->anchor == c->trigger)) {
			*header = true;
			if (v->unit != c->unit && c->anchor == c->trigger &&
			    c->state == DL_CLOCK_OPEN) {
				c->unit = (uint8_t)v->unit;
				c->n = (int32_t)(len + c->ext_days);
			} else {
				c->n += (int32_t)len - (int32_t)c->length;
				if (c->n < 0)
					c->n = 0;
			}
			c->version = (uint16_t)v->version;
			c->length = (uint16_t)len;
			c->variant = (uint8_t)var;
			c->flags = (uint8_t)((c->flags & ~DL_CLK_IGNORE_MAKEUP) |
					     (v->ignore_makeup ? DL_CLK_IGNORE_MAKEUP : 0));
		}
	}
	if (c->state != DL_CLOCK_OPEN)
		return *header;
	if (dl_due(e->cal, (enum dl_unit)c->unit, c->flags & DL_CLK_IGNORE_MAKEUP, c->anchor, c->n,
		   &c->due, NULL) != 0)
		c->due = before.due;
	return *header || c->due != before.due ||
	       next_instant(e, r, c, &l) != before.idx_ms;
}

static int rc_one(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct rc_scan *s = arg;
	struct case_clock cc;
	size_t caselen, rulelen;
	const char *rule;
	bool header;

	if (s->skip_first) {
		s->skip_first = false;
		if (k->size == s->rc->afterlen && memcmp(k->data, s->rc->after, k->size) == 0)
			return 0;
	}
	if (s->rc->visited >= s->max)
		return 1;
	s->rc->visited++;
	if (k->size >= DL_CLOCK_ID_MAX)
		return 0;
	memcpy(s->rc->after, k->data, k->size);
	s->rc->afterlen = k->size;
	if (dl_clock_decode(v->data, v->size, &cc.c) != 0) {
		s->err = CM_ECORRUPT;
		return -1;
	}
	if (cc.c.state == DL_CLOCK_STOPPED)
		return 0;
	memcpy(cc.id, k->data, k->size);
	cc.id[k->size] = '\0';
	cc.len = k->size;
	if (!split_id(cc.id, cc.len, &caselen, &rule, &rulelen) ||
	    !(cc.r = dl_policy_rule(s->e->pol, rule, rulelen)))
		return 0;
	s->rc->recomputed++;
	if (!recompute_clock(s->e, s->rc->what, cc.r, &cc.c, &header))
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = cm_xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = cc;
	return 0;
}

static int apply_recomputed(struct tx *x, struct dl_recompute *rc, struct case_clock *cc)
{
	struct dl_clock old;
	const struct dl_version *v;
	char num[DL_CODE_MAX + 1];
	size_t caselen, rulelen;
	const char *rule;
	struct expl h;
	char *text;
	int r;

	if ((r = clock_get(x->t, cc->id, cc->len, &old)))
		return r;
	if (!split_id(cc->id, cc->len, &caselen, &rule, &rulelen))
		return 0;
	memcpy(num, cc->id, caselen);
	num[caselen] = '\0';
	v = clock_version(cc->r, &cc->c);
	if (!v)
		return 0;
	if (cc->c.state != DL_CLOCK_OPEN)
		return clock_put(x->t, cc->id, cc->len, &cc->c);
	if ((r = expl_get(x->t, cc->id, cc->len, &h)))
		return r;
	text = cm_xmalloc(DL_EXPLAIN_MAX);
	cc->c.idx_ms = old.idx_ms;
	if ((r = compute_and_explain(x, cc->r, v, cc->id, cc->len, &cc->c, &h, text)) ||
	    (r = reindex(x, cc->r, cc->id, cc->len, &cc->c)) ||
	    (r = clock_put(x->t, cc->id, cc->len, &cc->c)))
		goto out;
	if (cc->c.due != old.due) {
		rc->changed++;
		r = emit_changed(x, num, cc->id,
				 rc->what == DL_RECOMPUTE_POLICY ? CHANGE(POLICY) : CHANGE(CALENDAR),
				 old.due, true, cc->c.due, text);
	}
out:
	free(text);
	return r;
}

int dl_engine_recompute(struct dl_engine *e, struct cm_txn *t, struct dl_recompute *rc,
			unsigned max)
{
	struct tx x = {.e = e, .t = t, .at_ms = cm_clock_now_ms()};
	struct rc_scan s = {.e = e, .rc = rc, .skip_first = rc->afterlen > 0};
	int r;

	s.max = (unsigned)(rc->visited + (max ? max : 1));
	r = cm_txn_iter(t, DL_DB_CLOCKS, rc->afterlen ? rc->after : NULL, rc->afterlen, rc_one, &s);
	if (r < 0) {
		r = s.err ? s.err : r;
		goto out;
	}
	s.end = r == 0;
	r = 0;
	for (size_t i = 0; r == 0 && i < s.n; i++)
		r = apply_recomputed(&x, rc, &s.v[i]);
	if (r == 0 && s.end) {
		cm_env ev = DONTHU__V1__ENVELOPE__INIT;
		Donthu__V1__CalendarReloaded cr = DONTHU__V1__CALENDAR_RELOADED__INIT;
		cr.version = rc->version;
		cr.clocks_recomputed = (uint32_t)rc->recomputed;
		cr.clocks_changed = (uint32_t)rc->changed;
		cr.what = rc->what == DL_RECOMPUTE_POLICY ? "policy" : "calendar";
		ev.body_case = BODY(CALENDAR_RELOADED);
		ev.calendar_reloaded = &cr;
		r = append(&x, &ev);
		rc->done = r == 0;
	}
out:
	free(s.v);
	return r;
}

int dl_engine_explain(struct cm_txn *t, const char *clock_id, char *buf, size_t len)
{
	struct cm_val v;
	const uint8_t *b;
	size_t hl, n;
	int rc = cm_txn_get(t, DL_DB_EXPLAIN, clock_id, strlen(clock_id), &v);

	if (rc)
		return rc;
	b = v.data;
	if (v.size < 2)
		return CM_ECORRUPT;
	hl = (size_t)((b[0] << 8) | b[1]);
	if (hl + 2 > v.size)
		return CM_ECORRUPT;
	n = v.size - 2 - hl;
	if (len == 0)
		return 0;
	if (n >= len)
		n = len - 1;
	memcpy(buf, b + 2 + hl, n);
	buf[n] = '\0';
	return 0;
}

int dl_engine_counts(struct cm_txn *t, struct dl_counts *out)
{
	int rc;

	if ((rc = dl_meta_get(t, "open", &out->open)) ||
	    (rc = dl_meta_get(t, "overdue", &out->overdue)))
		return rc;
	return dl_meta_get(t, "cases", &out->cases);
}

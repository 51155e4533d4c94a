/*
 * handlers.c - intake's requests: group-committed submissions, and the admin
 * and feed sockets.
 *
 * Submissions received in one loop turn are validated, written in ONE write
 * transaction, committed durably, and only then answered (architecture.md
 * "Intake: acknowledge only what is on disk"). A failed commit answers every
 * submission of the batch UNAVAILABLE: nothing of it is on disk.
 */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/admin.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "intake.h"
#include "schema.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x
#define ITEM(x) DONTHU__V1__SUBMIT_REQUEST__ITEM_##x
#define STATUS(x) DONTHU__V1__SUBMIT_STATUS__SUBMIT_STATUS_##x
#define CASE(x) DONTHU__V1__CASE_STATUS__CASE_STATUS_##x


/* What the admin socket's backup copies (one service per process). */
static struct cm_admin_backup backup_target;

static void set_reject(struct intake_pending *p, const char *code, const char *field,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_reject(struct intake_pending *p, const char *code, const char *field,
		       const char *fmt, ...)
{
	va_list ap;

	p->status = STATUS(REJECTED);
	p->err.code = code;
	snprintf(p->err.field, sizeof(p->err.field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(p->err.message, sizeof(p->err.message), fmt, ap);
	va_end(ap);
}

static int local_year(int64_t ms)
{
	int y, m, d;
	cm_day_to_ymd(cm_day_of_ms(ms), &y, &m, &d);
	return y;
}

/* ------------------------------------------------------------ replies --- */

static void reply(struct intake *in, struct intake_pending *p)
{
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__SubmitReply r = DONTHU__V1__SUBMIT_REPLY__INIT;
	Donthu__V1__ErrorDetail ed = DONTHU__V1__ERROR_DETAIL__INIT;
	Donthu__V1__SubmitRequest *q = p->env ? p->env->submit : NULL;

	r.request_id = q ? q->request_id : 0;
	r.status = p->status;
	if (p->status == STATUS(ACCEPTED) || p->status == STATUS(DUPLICATE)) {
		int item = q ? (int)q->item_case : 0;
		if (item == ITEM(PETITION) || item == ITEM(ACTION))
			r.case_number = p->id;
		else
			r.record_id = p->id;
		r.feed_seq = p->feed_seq;
		r.case_status = p->case_status;
	} else {
		ed.code = (char *)(p->err.code ? p->err.code : "unavailable");
		ed.field = p->err.field;
		ed.message = p->err.message;
		r.error = &ed;
	}
	switch (p->status) {
	case STATUS(ACCEPTED): (*in->m.accepted)++; break;
	case STATUS(DUPLICATE): (*in->m.duplicate)++; break;
	case STATUS(REJECTED): {
		char labels[96];
		(*in->m.rejected)++;
		snprintf(labels, sizeof(labels), "code=\"%s\"", ed.code);
		(*cm_metrics_counter(in->metrics, "rejections_total", labels,
				     "Rejected submissions by error code"))++;
		break;
	}
	default: (*in->m.unavailable)++; break;
	}
	env.schema_version = CM_ENV_SCHEMA_VERSION;
	env.producer = "intake";
	env.body_case = BODY(SUBMIT_REPLY);
	env.submit_reply = &r;
	cm_rpc_reply(in->submit, &p->req, &env);
	/* Decoded into in->arena: released by the reset after the batch. */
	p->env = NULL;
}

/* Called once nothing decoded into the arena is referenced any more. */
static void release_arena(struct intake *in)
{
	if (in->nbatch == 0)
		cm_arena_reset(&in->arena);
}

/* ------------------------------------------------- the batch's writes --- */

static int check_idem(struct cm_txn *t, const Donthu__V1__IdempotencyKey *k,
		      struct intake_pending *p, bool *dup)
{
	uint8_t key[512];
	size_t klen = intake_idem_key(k->source_system, k->source_id, key, sizeof(key));
	struct intake_idem v;
	struct cm_val val;
	int rc;

	*dup = false;
	rc = cm_txn_get(t, INTAKE_DB_IDEM, key, klen, &val);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	rc = intake_idem_decode(val.data, val.size, &v);
	if (rc)
		return rc;
	p->status = STATUS(DUPLICATE);
	snprintf(p->id, sizeof(p->id), "%s", v.id);
	p->feed_seq = v.feed_seq;
	p->case_status = v.case_status;
	*dup = true;
	return 0;
}

static int put_idem(struct cm_txn *t, const Donthu__V1__SubmitRequest *q,
		    const struct intake_pending *p)
{
	uint8_t key[512], val[INTAKE_ENC_MAX];
	size_t klen = intake_idem_key(q->key->source_system, q->key->source_id, key, sizeof(key));
	struct intake_idem v = {.item = (uint8_t)q->item_case,
				.case_status = p->case_status,
				.feed_seq = p->feed_seq};

	snprintf(v.id, sizeof(v.id), "%s", p->id);
	return cm_txn_put(t, INTAKE_DB_IDEM, key, klen, val, intake_idem_encode(&v, val),
			  CM_PUT_NOOVERWRITE);
}

/* What the feed carries of the people of one submission: a PersonRef (with
 * its pseudonym) each, and the array of pointers the event wants. Taken from
 * the batch's arena, which the batch's reset releases. */
struct person_refs {
	Donthu__V1__PersonRef *refs;
	Donthu__V1__PersonRef **refp;
	uint8_t (*pseud)[INTAKE_PSEUDONYM_BYTES];
};

static void person_refs_init(struct intake *in, struct person_refs *pr, size_t n)
{
	n = n ? n : 1;
	pr->refs = cm_arena_alloc(&in->arena, n * sizeof(*pr->refs));
	pr->refp = cm_arena_alloc(&in->arena, n * sizeof(*pr->refp));
	pr->pseud = cm_arena_alloc(&in->arena, n * sizeof(*pr->pseud));
}

/* Seal the people into the vault under id and fill refs[] with pseudonyms. */
static int seal_people(struct intake *in, struct cm_txn *t, const char *id,
		       Donthu__V1__Person **people, size_t n, Donthu__V1__PersonRef *refs,
		       Donthu__V1__PersonRef **refp, uint8_t (*pseud)[INTAKE_PSEUDONYM_BYTES])
{
	Donthu__V1__RevealReply rr = DONTHU__V1__REVEAL_REPLY__INIT;
	uint8_t stack[1024], *plain;
	void *sealed;
	size_t plen;
	int rc;

	for (size_t i = 0; i < n; i++) {
		donthu__v1__person_ref__init(&refs[i]);
		intake_pseudonym(in->keys, people[i], pseud[i]);
		refs[i].pseudonym.data = pseud[i];
		refs[i].pseudonym.len = INTAKE_PSEUDONYM_BYTES;
		refs[i].is_representative = people[i]->is_representative;
		refs[i].identity_protection = people[i]->identity_protection;
		refs[i].has_id_number = people[i]->id_number && people[i]->id_number[0];
		refp[i] = &refs[i];
	}
	if (n == 0)
		return 0;
	rr.n_petitioners = n;
	rr.petitioners = people;
	plen = donthu__v1__reveal_reply__get_packed_size(&rr);
	plain = plen <= sizeof(stack) ? stack : cm_xmalloc(plen);
	donthu__v1__reveal_reply__pack(&rr, plain);
	/* Sealed straight into the vault's page: no copy of the box. */
	rc = cm_txn_reserve(t, INTAKE_DB_VAULT, id, strlen(id), intake_sealed_size(plen),
			    CM_PUT_NOOVERWRITE, &sealed);
	if (rc == 0)
		intake_seal_into(in->keys, plain, plen, sealed);
	sodium_memzero(plain, plen);
	if (plain != stack)
		free(plain);
	return rc;
}

static int do_petition(struct intake *in, struct cm_txn *t, struct intake_pending *p)
{
	Donthu__V1__SubmitRequest *q = p->env->submit;
	Donthu__V1__Petition *pet = q->petition;
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__PetitionReceived pr = DONTHU__V1__PETITION_RECEIVED__INIT;
	size_t n = pet->n_petitioners;
	struct person_refs refs;
	Donthu__V1__Person **people = pet->petitioners;
	struct intake_case c = {.status = CASE(RECEIVED),
				.kind = (uint8_t)pet->kind,
				.round = (uint8_t)pet->round,
				.received_at_ms = pet->received_at_ms};
	uint8_t cval[INTAKE_ENC_MAX];
	uint64_t serial;
	int rc;

	person_refs_init(in, &refs, n);
	rc = intake_next_serial(t, pet->receiving_agency, local_year(pet->received_at_ms), "C",
				&serial);
	if (rc)
		goto out;
	snprintf(p->id, sizeof(p->id), "%s-%04d-%06" PRIu64, pet->receiving_agency,
		 local_year(pet->received_at_ms), serial);
	rc = seal_people(in, t, p->id, people, n, refs.refs, refs.refp, refs.pseud);
	if (rc)
		goto out;
	/* The event carries the petition without its people: only pseudonyms
	 * leave intake. Restored below because free_unpacked walks them. */
	pet->n_petitioners = 0;
	pet->petitioners = NULL;
	pr.case_number = p->id;
	pr.petition = pet;
	pr.n_petitioners = n;
	pr.petitioners = refs.refp;
	pr.key = q->key;
	pr.registered_at_ms = cm_clock_now_ms();
	ev.case_number = p->id;
	ev.body_case = BODY(PETITION_RECEIVED);
	ev.petition_received = &pr;
	rc = cm_feed_append(in->feed, t, &ev, &p->feed_seq);
	pet->n_petitioners = n;
	pet->petitioners = people;
	if (rc)
		goto out;
	snprintf(c.agency, sizeof(c.agency), "%s", pet->receiving_agency);
	rc = cm_txn_put(t, INTAKE_DB_CASES, p->id, strlen(p->id), cval, intake_case_encode(&c, cval),
			CM_PUT_NOOVERWRITE);
	if (rc)
		goto out;
	p->case_status = CASE(RECEIVED);
	p->status = STATUS(ACCEPTED);
	rc = put_idem(t, q, p);
out:
	return rc;
}

static int do_action(struct intake *in, struct cm_txn *t, struct intake_pending *p)
{
	Donthu__V1__SubmitRequest *q = p->env->submit;
	Donthu__V1__CaseAction *a = q->action;
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__CaseActionRecorded car = DONTHU__V1__CASE_ACTION_RECORDED__INIT;
	Donthu__V1__CaseStatus next;
	struct intake_case c;
	uint8_t cval[INTAKE_ENC_MAX];
	struct cm_val v;
	int rc = cm_txn_get(t, INTAKE_DB_CASES, a->case_number, strlen(a->case_number), &v);

	if (rc == -ENOENT) {
		set_reject(p, "unknown_case", "action.case_number", "no case %s", a->case_number);
		return 0;
	}
	if (rc || (rc = intake_case_decode(v.data, v.size, &c)))
		return rc;
	if (a->effective_at_ms < c.received_at_ms - in->cfg.skew_ms) {
		set_reject(p, "invalid_date", "action.effective_at_ms",
			   "the action takes effect before the case was received");
		return 0;
	}
	if (intake_transition((Donthu__V1__CaseStatus)c.status, a, &next, &p->err) != 0) {
		p->status = STATUS(REJECTED);
		snprintf(p->err.field, sizeof(p->err.field), "action");
		return 0;
	}
	car.case_number = a->case_number;
	car.action = a;
	car.status_before = (Donthu__V1__CaseStatus)c.status;
	car.status_after = next;
	car.key = q->key;
	car.agency = c.agency;
	car.kind = (Donthu__V1__PetitionKind)c.kind;
	car.registered_at_ms = cm_clock_now_ms();
	ev.case_number = a->case_number;
	ev.body_case = BODY(CASE_ACTION);
	ev.case_action = &car;
	rc = cm_feed_append(in->feed, t, &ev, &p->feed_seq);
	if (rc)
		return rc;
	c.status = (uint8_t)next;
	c.actions++;
	rc = cm_txn_put(t, INTAKE_DB_CASES, a->case_number, strlen(a->case_number), cval,
			intake_case_encode(&c, cval), 0);
	if (rc)
		return rc;
	snprintf(p->id, sizeof(p->id), "%s", a->case_number);
	p->case_status = (uint8_t)next;
	p->status = STATUS(ACCEPTED);
	return put_idem(t, q, p);
}

static int new_record_id(struct cm_txn *t, const char *agency, int year, const char *series,
			 char *out, size_t cap)
{
	uint64_t serial;
	int rc = intake_next_serial(t, agency, year, series, &serial);

	if (rc == 0)
		snprintf(out, cap, "%s-%04d-%s%06" PRIu64, agency, year, series, serial);
	return rc;
}

static int put_record(struct cm_txn *t, const char *id, uint8_t type, const char *agency)
{
	struct intake_record r = {.type = type};
	uint8_t val[INTAKE_ENC_MAX];

	snprintf(r.agency, sizeof(r.agency), "%s", agency);
	return cm_txn_put(t, INTAKE_DB_RECORDS, id, strlen(id), val, intake_record_encode(&r, val),
			  CM_PUT_NOOVERWRITE);
}

static int do_reception(struct intake *in, struct cm_txn *t, struct intake_pending *p)
{
	Donthu__V1__SubmitRequest *q = p->env->submit;
	Donthu__V1__ReceptionRecord *r = q->reception;
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ReceptionRecorded rr = DONTHU__V1__RECEPTION_RECORDED__INIT;
	size_t n = r->n_citizens;
	Donthu__V1__Person **people = r->citizens;
	struct person_refs refs;
	struct cm_val v;
	int rc = 0;

	person_refs_init(in, &refs, n);
	if (r->case_number && r->case_number[0]) {
		rc = cm_txn_get(t, INTAKE_DB_CASES, r->case_number, strlen(r->case_number), &v);
		if (rc == -ENOENT) {
			set_reject(p, "unknown_case", "reception.case_number", "no case %s",
				   r->case_number);
			rc = 0;
			goto out;
		}
		if (rc)
			goto out;
	}
	rc = new_record_id(t, r->agency, local_year(r->received_at_ms), "T", p->id, sizeof(p->id));
	if (rc)
		goto out;
	rc = seal_people(in, t, p->id, people, n, refs.refs, refs.refp, refs.pseud);
	if (rc)
		goto out;
	r->n_citizens = 0;
	r->citizens = NULL;
	rr.record_id = p->id;
	rr.record = r;
	rr.n_citizens = n;
	rr.citizens = refs.refp;
	rr.key = q->key;
	ev.case_number = r->case_number;
	ev.body_case = BODY(RECEPTION_RECORDED);
	ev.reception_recorded = &rr;
	rc = cm_feed_append(in->feed, t, &ev, &p->feed_seq);
	r->n_citizens = n;
	r->citizens = people;
	if (rc)
		goto out;
	rc = put_record(t, p->id, (uint8_t)q->item_case, r->agency);
	if (rc)
		goto out;
	p->status = STATUS(ACCEPTED);
	rc = put_idem(t, q, p);
out:
	return rc;
}

static int do_schedule(struct intake *in, struct cm_txn *t, struct intake_pending *p)
{
	Donthu__V1__SubmitRequest *q = p->env->submit;
	Donthu__V1__ReceptionSchedule *s = q->schedule;
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ScheduleRecorded sr = DONTHU__V1__SCHEDULE_RECORDED__INIT;
	int rc = new_record_id(t, s->agency, atoi(s->month), "L", p->id, sizeof(p->id));

	if (rc)
		return rc;
	sr.record_id = p->id;
	sr.schedule = s;
	sr.key = q->key;
	ev.body_case = BODY(SCHEDULE_RECORDED);
	ev.schedule_recorded = &sr;
	rc = cm_feed_append(in->feed, t, &ev, &p->feed_seq);
	if (rc || (rc = put_record(t, p->id, (uint8_t)q->item_case, s->agency)))
		return rc;
	p->status = STATUS(ACCEPTED);
	return put_idem(t, q, p);
}

static int do_conclusion(struct intake *in, struct cm_txn *t, struct intake_pending *p)
{
	Donthu__V1__SubmitRequest *q = p->env->submit;
	Donthu__V1__ReceptionConclusion *c = q->conclusion;
	cm_env ev = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ConclusionRecorded cr = DONTHU__V1__CONCLUSION_RECORDED__INIT;
	struct intake_record rec;
	struct cm_val v;
	int rc = cm_txn_get(t, INTAKE_DB_RECORDS, c->reception_id, strlen(c->reception_id), &v);

	if (rc == 0)
		rc = intake_record_decode(v.data, v.size, &rec);
	if (rc == -ENOENT || (rc == 0 && rec.type != ITEM(RECEPTION))) {
		set_reject(p, "unknown_record", "conclusion.reception_id", "no reception record %s",
			   c->reception_id);
		return 0;
	}
	if (rc)
		return rc;
	rc = new_record_id(t, c->agency, local_year(c->concluded_at_ms ? c->concluded_at_ms
								    : cm_clock_now_ms()),
			   "K", p->id, sizeof(p->id));
	if (rc)
		return rc;
	cr.record_id = p->id;
	cr.conclusion = c;
	cr.key = q->key;
	ev.case_number = c->case_number;
	ev.body_case = BODY(CONCLUSION_RECORDED);
	ev.conclusion_recorded = &cr;
	rc = cm_feed_append(in->feed, t, &ev, &p->feed_seq);
	if (rc || (rc = put_record(t, p->id, (uint8_t)q->item_case, c->agency)))
		return rc;
	p->status = STATUS(ACCEPTED);
	return put_idem(t, q, p);
}

struct batch_txn {
	struct intake *in;
	uint64_t new_cases;
};

/* May run more than once (the store grows the map and retries), so every
 * result is recomputed from scratch on each run. */
static int batch_txn(struct cm_txn *t, void *arg)
{
	struct batch_txn *b = arg;
	struct intake *in = b->in;
	int rc = 0;

	b->new_cases = 0;
	for (size_t i = 0; i < in->nbatch && rc == 0; i++) {
		struct intake_pending *p = &in->batch[i];
		Donthu__V1__SubmitRequest *q;
		bool dup;

		if (!p->valid)
			continue;
		q = p->env->submit;
		p->status = STATUS(UNAVAILABLE);
		p->err.code = NULL;
		p->id[0] = '\0';
		p->feed_seq = 0;
		p->case_status = 0;
		rc = check_idem(t, q->key, p, &dup);
		if (rc || dup)
			continue;
		switch (q->item_case) {
		case ITEM(PETITION):
			rc = do_petition(in, t, p);
			if (rc == 0)
				b->new_cases++;
			break;
		case ITEM(ACTION): rc = do_action(in, t, p); break;
		case ITEM(RECEPTION): rc = do_reception(in, t, p); break;
		case ITEM(SCHEDULE): rc = do_schedule(in, t, p); break;
		case ITEM(CONCLUSION): rc = do_conclusion(in, t, p); break;
		default: set_reject(p, "missing_field", "item", "no item"); break;
		}
	}
	return rc;
}

static void process_batch(struct intake *in)
{
	struct intake_vctx vctx = {
		.reg = in->reg,
		.now_ms = cm_clock_now_ms(),
		.skew_ms = in->cfg.skew_ms,
		.floor_ms = cm_day_start_ms(cm_day_from_ymd(2000, 1, 1)),
		.arena = &in->arena,
	};
	struct batch_txn b = {.in = in};
	size_t nvalid = 0;
	uint64_t t0;
	int rc = 0;

	for (size_t i = 0; i < in->nbatch; i++) {
		struct intake_pending *p = &in->batch[i];
		memset(&p->err, 0, sizeof(p->err));
		p->valid = false;
		if (intake_validate_submit(p->env->submit, &vctx, &p->err) != 0) {
			p->status = STATUS(REJECTED);
			continue;
		}
		p->valid = true;
		nvalid++;
	}
	if (nvalid) {
		t0 = cm_clock_mono_ns();
		rc = cm_store_write(in->store, batch_txn, &b);
		cm_histogram_observe(in->m.commit_seconds, (double)(cm_clock_mono_ns() - t0) / 1e9);
		cm_histogram_observe(in->m.batch_size, (double)nvalid);
		(*in->m.batches)++;
		if (rc) {
			if (rc != in->store_err)
				cm_log_error_err(INTAKE, rc,
						 "cannot store a batch of %zu; answering UNAVAILABLE",
						 nvalid);
			in->store_err = rc;
			for (size_t i = 0; i < in->nbatch; i++) {
				struct intake_pending *p = &in->batch[i];
				if (!p->valid)
					continue;
				p->status = STATUS(UNAVAILABLE);
				p->err.code = rc == -ENOSPC ? "storage_full" : "storage_error";
				snprintf(p->err.field, sizeof(p->err.field), "%s", "");
				snprintf(p->err.message, sizeof(p->err.message),
					 "not stored: %s; retry later with the same idempotency key",
					 cm_strerror(rc));
			}
		} else {
			if (in->store_err)
				cm_log_notice(INTAKE, "storing again after: %s",
					      cm_strerror(in->store_err));
			in->store_err = 0;
			in->cases += b.new_cases;
			cm_feed_committed(in->feed);
		}
	}
	for (size_t i = 0; i < in->nbatch; i++)
		reply(in, &in->batch[i]);
	in->nbatch = 0;
	release_arena(in);
}

/* --------------------------------------------------------- rpc hooks --- */

static void on_submit(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	struct intake *in = arg;
	struct intake_pending *p;

	(void)r;
	if (in->nbatch == in->capbatch) {
		in->capbatch = in->capbatch ? in->capbatch * 2 : 256;
		in->batch = cm_xrealloc(in->batch, in->capbatch * sizeof(*in->batch));
	}
	p = &in->batch[in->nbatch++];
	memset(p, 0, sizeof(*p));
	p->req = req;
	p->env = env;
	if (in->stopping) {
		p->status = STATUS(UNAVAILABLE);
		p->err.code = "shutting_down";
		snprintf(p->err.message, sizeof(p->err.message),
			 "intake is shutting down; retry with the same idempotency key");
	}
	/* A batch never grows past batch_max: the rest waits for the next turn. */
	if (in->nbatch >= in->cfg.batch_max && !in->stopping)
		process_batch(in);
}

static void on_submit_batch_end(struct cm_rpc *r, void *arg)
{
	struct intake *in = arg;

	(void)r;
	if (in->nbatch == 0) {
		/* Only rejected frames this turn: their envelopes are done. */
		release_arena(in);
		return;
	}
	if (in->stopping) {
		intake_drain_unavailable(in);
		return;
	}
	process_batch(in);
}

void intake_drain_unavailable(struct intake *in)
{
	for (size_t i = 0; i < in->nbatch; i++) {
		struct intake_pending *p = &in->batch[i];
		p->status = STATUS(UNAVAILABLE);
		p->err.code = "shutting_down";
		snprintf(p->err.message, sizeof(p->err.message),
			 "intake is shutting down; retry with the same idempotency key");
		reply(in, p);
	}
	in->nbatch = 0;
	release_arena(in);
}

static void on_submit_bad(struct cm_rpc *r, struct cm_rpc_req *req, int err, const char *what,
			  void *arg)
{
	struct intake *in = arg;
	struct intake_pending p = {.req = req, .status = STATUS(REJECTED)};

	(void)r;
	p.err.code = err == CM_ETOOBIG		? "too_large"
		     : err == CM_EPROTO_VERSION ? "unsupported_version"
		     : err == CM_EINVALID	? "unsupported"
						: "malformed";
	snprintf(p.err.field, sizeof(p.err.field), "%s",
		 err == CM_EPROTO_VERSION ? "schema_version" : err == CM_EINVALID ? "body" : "");
	snprintf(p.err.message, sizeof(p.err.message), "%s",
		 what ? what
		 : err == CM_EDECODE ? "the frame is not a valid donthu.v1.Envelope"
				     : cm_strerror(err));
	reply(in, &p);
}

/* protobuf-c stops a string at an embedded NUL without a word, so NUL bytes
 * are looked for in the raw frame before it is decoded. */
static bool on_submit_raw(struct cm_rpc *r, struct cm_rpc_req **req, const void *buf, size_t len,
			  void *arg)
{
	struct intake *in = arg;
	struct intake_pending p = {.status = STATUS(REJECTED)};
	cm_env *env = NULL;

	(void)r;
	if (intake_validate_wire(buf, len, &p.err) == 0)
		return false;
	/* Decode anyway to echo the request id, if the frame allows it. */
	if (cm_env_unpack_arena(buf, len, &in->arena, &env) == 0 && env->body_case == BODY(SUBMIT))
		p.env = env;
	p.req = *req;
	*req = NULL;
	reply(in, &p);
	return true;
}

/* ---------------------------------------------------- admin and feed --- */

static void on_status(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	struct intake *in = arg;
	cm_env out = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__StatusReply sr = DONTHU__V1__STATUS_REPLY__INIT;
	char health[160];

	cm_env_free(&env);
	sr.service = "intake";
	sr.version = DONTHU_VERSION;
	sr.now_ms = cm_clock_now_ms();
	sr.simulated_clock = cm_clock_is_simulated();
	sr.feed_head = cm_feed_head(in->feed);
	sr.cases = in->cases;
	sr.health = intake_health(in, health, sizeof(health)) ? health : "ok";
	out.schema_version = CM_ENV_SCHEMA_VERSION;
	out.producer = "intake";
	out.body_case = BODY(STATUS_REPLY);
	out.status_reply = &sr;
	cm_rpc_reply(r, &req, &out);
}

struct reveal_ctx {
	struct intake *in;
	const Donthu__V1__RevealRequest *q;
	uint8_t *sealed;
	size_t slen;
};

/* The audit line is written (and committed) before anything is revealed:
 * no reveal without its trace. */
static int reveal_txn(struct cm_txn *t, void *arg)
{
	struct reveal_ctx *x = arg;
	struct cm_val k, v;
	unsigned char key[8];
	uint64_t serial = 1;
	char *line, when[30];
	int rc;

	free(x->sealed);
	x->sealed = NULL;
	rc = cm_txn_get(t, INTAKE_DB_VAULT, x->q->case_number, strlen(x->q->case_number), &v);
	if (rc)
		return rc;
	x->sealed = cm_xmalloc(v.size);
	memcpy(x->sealed, v.data, v.size);
	x->slen = v.size;
	rc = cm_txn_last(t, INTAKE_DB_AUDIT, &k, &v);
	if (rc == 0)
		serial = cm_be64_get(k.data) + 1;
	else if (rc != -ENOENT)
		return rc;
	cm_time_format(cm_clock_now_ms(), when);
	line = cm_xasprintf("{\"at\":\"%s\",\"case\":\"%s\",\"by\":\"%s\",\"reason_bytes\":%zu}", when,
			    x->q->case_number, x->q->requested_by, strlen(x->q->reason));
	cm_be64_put(key, serial);
	rc = cm_txn_put(t, INTAKE_DB_AUDIT, key, 8, line, strlen(line), CM_PUT_APPEND);
	free(line);
	return rc;
}

static void on_reveal(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	struct intake *in = arg;
	Donthu__V1__RevealRequest *q = env->reveal;
	struct reveal_ctx x = {.in = in, .q = q};
	Donthu__V1__RevealReply *rr = NULL;
	cm_env out = DONTHU__V1__ENVELOPE__INIT;
	uint8_t *plain = NULL;
	size_t plen;
	int rc;

	if (!q || !q->case_number || !*q->case_number || !q->requested_by || !*q->requested_by ||
	    !q->reason || strlen(q->reason) < 10) {
		cm_rpc_reply_error(r, &req, "missing_field", "reveal",
				   "case_number, requested_by and a reason of at least 10 "
				   "characters are required");
		goto out;
	}
	rc = cm_store_write(in->store, reveal_txn, &x);
	if (rc) {
		cm_rpc_reply_error(r, &req, rc == -ENOENT ? "unknown_case" : "storage_error",
				   "reveal.case_number",
				   rc == -ENOENT ? "no sealed identity for that case or record"
						 : cm_strerror(rc));
		goto out;
	}
	cm_log_notice(AUDIT, "identity revealed: case=%s by=%s reason=\"%s\"", q->case_number,
		      q->requested_by, q->reason);
	(*in->m.reveals)++;
	rc = intake_unseal(in->keys, x.sealed, x.slen, &plain, &plen);
	if (rc == 0)
		rr = donthu__v1__reveal_reply__unpack(NULL, plen, plain);
	if (!rr) {
		cm_rpc_reply_error(r, &req, "sealed_unreadable", "reveal.case_number",
				   rc == CM_EKEY ? "the key that sealed it is not loaded"
						 : "the sealed identity does not verify");
		goto out;
	}
	out.schema_version = CM_ENV_SCHEMA_VERSION;
	out.producer = "intake";
	out.body_case = BODY(REVEAL_REPLY);
	out.reveal_reply = rr;
	cm_rpc_reply(r, &req, &out);
	donthu__v1__reveal_reply__free_unpacked(rr, NULL);
out:
	if (plain) {
		sodium_memzero(plain, plen);
		free(plain);
	}
	free(x.sealed);
	cm_env_free(&env);
}

void intake_handlers_register(struct intake *in)
{
	cm_rpc_on(in->submit, BODY(SUBMIT), on_submit, in);
	cm_rpc_on_bad(in->submit, on_submit_bad, in);
	cm_rpc_on_raw(in->submit, on_submit_raw, in);
	cm_rpc_on_batch_end(in->submit, on_submit_batch_end, in);
	cm_rpc_set_budget(in->submit, in->cfg.batch_max);

	cm_rpc_on(in->feed_rpc, BODY(STATUS), on_status, in);

	cm_rpc_on(in->admin, BODY(STATUS), on_status, in);
	cm_admin_serve_clock(in->admin, "intake");
	cm_rpc_on(in->admin, BODY(REVEAL), on_reveal, in);
	backup_target.service = "intake";
	backup_target.store = in->store;
	cm_admin_serve_backup(in->admin, &backup_target);
}

int intake_health(void *arg, char *reason, size_t size)
{
	struct intake *in = arg;

	if (in->store_err) {
		snprintf(reason, size, "cannot store: %s", cm_strerror(in->store_err));
		return 1;
	}
	if (in->stopping) {
		snprintf(reason, size, "shutting down");
		return 1;
	}
	return 0;
}

void intake_metrics_init(struct intake *in)
{
	static const double sizes[] = {1, 4, 16, 64, 256, 1024, 4096};
	static const double secs[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1};
	const char *h = "Submissions answered, by result";

	in->metrics = cm_metrics_new("donthu_intake");
	in->m.accepted = cm_metrics_counter(in->metrics, "submissions_total", "result=\"accepted\"", h);
	in->m.duplicate =
		cm_metrics_counter(in->metrics, "submissions_total", "result=\"duplicate\"", h);
	in->m.rejected = cm_metrics_counter(in->metrics, "submissions_total", "result=\"rejected\"", h);
	in->m.unavailable =
		cm_metrics_counter(in->metrics, "submissions_total", "result=\"unavailable\"", h);
	in->m.batches = cm_metrics_counter(in->metrics, "batches_total", NULL, "Group commits");
	in->m.reveals = cm_metrics_counter(in->metrics, "identity_reveals_total", NULL,
					   "Identities revealed through the admin socket");
	in->m.batch_size = cm_metrics_histogram(in->metrics, "batch_size", "Submissions per commit",
						sizes, CM_ARRAY_LEN(sizes));
	in->m.commit_seconds = cm_metrics_histogram(in->metrics, "commit_seconds",
						    "Write transaction and durable commit time", secs,
						    CM_ARRAY_LEN(secs));
}

void intake_metrics_extra(void *arg, struct cm_buf *out)
{
	struct intake *in = arg;
	struct cm_store_stats st;

	cm_store_get_stats(in->store, &st);
	cm_buf_printf(out, "# HELP donthu_intake_feed_head_seq Last sequence on the intake feed\n"
			   "# TYPE donthu_intake_feed_head_seq gauge\n"
			   "donthu_intake_feed_head_seq %" PRIu64 "\n",
		      cm_feed_head(in->feed));
	cm_buf_printf(out, "# HELP donthu_intake_cases Cases registered\n"
			   "# TYPE donthu_intake_cases gauge\ndonthu_intake_cases %" PRIu64 "\n",
		      in->cases);
	cm_buf_printf(out, "# HELP donthu_intake_store_bytes Store map size and bytes used\n"
			   "# TYPE donthu_intake_store_bytes gauge\n"
			   "donthu_intake_store_bytes{kind=\"map\"} %" PRIu64 "\n"
			   "donthu_intake_store_bytes{kind=\"used\"} %" PRIu64 "\n",
		      st.map_size, st.used_bytes);
	cm_buf_printf(out, "# HELP donthu_intake_store_healthy 1 when the last commit succeeded\n"
			   "# TYPE donthu_intake_store_healthy gauge\n"
			   "donthu_intake_store_healthy %d\n",
		      in->store_err ? 0 : 1);
}

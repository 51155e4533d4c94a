/*
 * deadline_test - the real donthu-intake and donthu-deadline binaries over
 * ipc:// sockets in a temporary directory, both on simulated clocks moved by
 * ClockControl on their admin sockets:
 *
 *  - a feedback petition runs from receipt through every escalation level to
 *    the provincial chairman (and the 45-day escalation) in milliseconds; a
 *    PUB subscriber sees each escalation with its feed sequence number, and a
 *    monitor that stops fetching halfway and resumes from its own sequence
 *    misses nothing;
 *  - a clock move made while the restarted deadline service cannot catch up
 *    (intake down) is answered only after it has, with what fell due raised;
 *  - the deadline service is stopped, the clock moves on while it is down,
 *    and on restart everything that fell due is raised once; a second
 *    restart raises nothing;
 *  - a day off added to the calendar file and a reload recompute the open
 *    clock it touches and say so; a malformed calendar is refused and the
 *    old one kept;
 *  - with donthu-routing running too (when it is built), routing's decisions
 *    reach the deadlines: a denunciation outside competence gets its 5-day
 *    forwarding clock, and a delegation is published under its own topic;
 *  - with CURVE on intake and deadline, the deadline service consumes
 *    intake's feed with its key, and only an allowlisted client reads the
 *    deadline feed or hears the PUB socket.
 * The routing consumer is off in the first group: deadlines run on intake alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/mem.h"
#include "svc.h"
#include "testsupport.h"

#define SUBMIT(x) DONTHU__V1__SUBMIT_STATUS__SUBMIT_STATUS_##x
#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x
#define LVL(x) DONTHU__V1__ESCALATION_LEVEL__ESCALATION_LEVEL_##x
#define REASON(x) DONTHU__V1__ESCALATION_REASON__ESCALATION_REASON_##x

static char *tmp;
static char ep_submit[300], ep_ifeed[300], ep_iadmin[300];
static char ep_dfeed[300], ep_dadmin[300], ep_dpub[300];
static char ep_rfeed[300], ep_radmin[300];
static char *ienv[16], *denv[24], *renv[16];
static struct svc intake, deadline, routing;
static void *zctx, *sub;
static bool with_routing, with_curve;
static char isrv_pub[41], isrv_sec[41], dsrv_pub[41], dsrv_sec[41], cli_pub[41], cli_sec[41];

static int64_t local(int y, int m, int d, int h)
{
	return cm_day_start_ms(cm_day_from_ymd(y, m, d)) + (int64_t)h * 3600 * 1000;
}

static void copy_file(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	char buf[4096];
	size_t n;

	assert_non_null(a);
	assert_non_null(b);
	while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
		assert_int_equal(fwrite(buf, 1, n, b), n);
	fclose(a);
	fclose(b);
}

static void set_env(char **env, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Replace or add KEY=value in a NULL-terminated list. */
static void set_env(char **env, const char *key, const char *fmt, ...)
{
	char val[512];
	va_list ap;
	size_t i, kl = strlen(key);

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	for (i = 0; env[i]; i++)
		if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
			break;
	free(env[i]);
	env[i] = cm_xasprintf("%s=%s", key, val);
}

static void free_env(char **env)
{
	for (int i = 0; env[i]; i++) {
		free(env[i]);
		env[i] = NULL;
	}
}

static void write_key(const char *name, const char *key)
{
	char *text = cm_xasprintf("%s\n", key);

	cm_test_write_file(tmp, name, text);
	free(text);
}

static int setup_common(bool routing_on, bool curve_on)
{
	char *keys, *cal, *p;

	with_routing = routing_on;
	with_curve = curve_on;
	tmp = cm_test_tmpdir(routing_on ? "deadline-rt" : "deadline-it");
	snprintf(ep_submit, sizeof(ep_submit), "ipc://%s/submit.sock", tmp);
	snprintf(ep_ifeed, sizeof(ep_ifeed), "ipc://%s/ifeed.sock", tmp);
	snprintf(ep_iadmin, sizeof(ep_iadmin), "ipc://%s/iadmin.sock", tmp);
	snprintf(ep_dfeed, sizeof(ep_dfeed), "ipc://%s/dfeed.sock", tmp);
	snprintf(ep_dadmin, sizeof(ep_dadmin), "ipc://%s/dadmin.sock", tmp);
	snprintf(ep_dpub, sizeof(ep_dpub), "ipc://%s/dpub.sock", tmp);
	snprintf(ep_rfeed, sizeof(ep_rfeed), "ipc://%s/rfeed.sock", tmp);
	snprintf(ep_radmin, sizeof(ep_radmin), "ipc://%s/radmin.sock", tmp);
	keys = cm_xasprintf("%s/keys", tmp);
	svc_write_identity_key(keys);
	free(keys);
	/* The deadline service gets its own copy of the calendar to edit. */
	cal = cm_xasprintf("%s/calendar", tmp);
	assert_int_equal(mkdir(cal, 0700), 0);
	for (int y = 2025; y <= 2026; y++) {
		char *from = cm_xasprintf("%s/calendar/%d.json", DONTHU_DATA_DIR, y);
		char *to = cm_xasprintf("%s/%d.json", cal, y);
		copy_file(from, to);
		free(from);
		free(to);
	}
	set_env(ienv, "DONTHU_INTAKE_DATA_DIR", "%s/intake", tmp);
	set_env(ienv, "DONTHU_INTAKE_LISTEN", "%s", ep_submit);
	set_env(ienv, "DONTHU_INTAKE_FEED_LISTEN", "%s", ep_ifeed);
	set_env(ienv, "DONTHU_INTAKE_ADMIN_LISTEN", "%s", ep_iadmin);
	set_env(ienv, "DONTHU_INTAKE_HTTP_PORT", "0");
	set_env(ienv, "DONTHU_INTAKE_REGISTER_DIR", "%s/register", DONTHU_DATA_DIR);
	set_env(ienv, "DONTHU_INTAKE_IDENTITY_KEYS_DIR", "%s/keys", tmp);
	set_env(ienv, "DONTHU_INTAKE_CLOCK", "simulated");
	set_env(ienv, "DONTHU_INTAKE_CLOCK_START", "2026-03-09T10:00:00+07:00");
	set_env(ienv, "DONTHU_LOG", "warn");
	set_env(denv, "DONTHU_DEADLINE_DATA_DIR", "%s/deadline", tmp);
	set_env(denv, "DONTHU_DEADLINE_FEED_LISTEN", "%s", ep_dfeed);
	set_env(denv, "DONTHU_DEADLINE_ADMIN_LISTEN", "%s", ep_dadmin);
	set_env(denv, "DONTHU_DEADLINE_PUB_LISTEN", "%s", ep_dpub);
	set_env(denv, "DONTHU_DEADLINE_HTTP_PORT", "0");
	set_env(denv, "DONTHU_DEADLINE_INTAKE_FEED", "%s", ep_ifeed);
	set_env(denv, "DONTHU_DEADLINE_ROUTING_FEED", "%s", routing_on ? ep_rfeed : "");
	set_env(denv, "DONTHU_DEADLINE_CALENDAR_DIR", "%s", cal);
	set_env(denv, "DONTHU_DEADLINE_POLICY_FILE", "%s/policy/deadline-policy.json",
		DONTHU_DATA_DIR);
	set_env(denv, "DONTHU_DEADLINE_CLOCK", "simulated");
	set_env(denv, "DONTHU_DEADLINE_CLOCK_START", "2026-03-09T10:00:00+07:00");
	set_env(denv, "DONTHU_LOG", "warn");
	if (curve_on) {
		char *allow;
		assert_int_equal(zmq_curve_keypair(isrv_pub, isrv_sec), 0);
		assert_int_equal(zmq_curve_keypair(dsrv_pub, dsrv_sec), 0);
		assert_int_equal(zmq_curve_keypair(cli_pub, cli_sec), 0);
		write_key("intake.secret", isrv_sec);
		write_key("intake.public", isrv_pub);
		write_key("deadline.secret", dsrv_sec);
		allow = cm_xasprintf("# clients\n%s # deadline\n%s # test client\n", dsrv_pub,
				     cli_pub);
		cm_test_write_file(tmp, "allow", allow);
		free(allow);
		set_env(ienv, "DONTHU_INTAKE_CURVE_SECRET_FILE", "%s/intake.secret", tmp);
		set_env(ienv, "DONTHU_INTAKE_CURVE_ALLOW_FILE", "%s/allow", tmp);
		set_env(denv, "DONTHU_DEADLINE_CURVE_SECRET_FILE", "%s/deadline.secret", tmp);
		set_env(denv, "DONTHU_DEADLINE_CURVE_ALLOW_FILE", "%s/allow", tmp);
		set_env(denv, "DONTHU_DEADLINE_INTAKE_CURVE_PUBLIC_FILE", "%s/intake.public", tmp);
	}
	free(cal);
	intake.bin = DONTHU_INTAKE_BIN;
	intake.env = ienv;
	snprintf(intake.log, sizeof(intake.log), "%s/intake.log", tmp);
	deadline.bin = DONTHU_DEADLINE_BIN;
	deadline.env = denv;
	snprintf(deadline.log, sizeof(deadline.log), "%s/deadline.log", tmp);
	zctx = zmq_ctx_new();
	assert_int_equal(svc_start(&intake, ep_iadmin), 0);
	if (routing_on) {
#ifdef DONTHU_ROUTING_BIN
		set_env(renv, "DONTHU_ROUTING_DATA_DIR", "%s/routing", tmp);
		set_env(renv, "DONTHU_ROUTING_FEED_LISTEN", "%s", ep_rfeed);
		set_env(renv, "DONTHU_ROUTING_ADMIN_LISTEN", "%s", ep_radmin);
		set_env(renv, "DONTHU_ROUTING_INTAKE_FEED", "%s", ep_ifeed);
		set_env(renv, "DONTHU_ROUTING_HTTP_PORT", "0");
		set_env(renv, "DONTHU_ROUTING_REGISTER_DIR", "%s/register", DONTHU_DATA_DIR);
		set_env(renv, "DONTHU_ROUTING_RULES_FILE", "%s/routing/rules.json", DONTHU_DATA_DIR);
		set_env(renv, "DONTHU_ROUTING_CLOCK", "simulated");
		set_env(renv, "DONTHU_ROUTING_CLOCK_START", "2026-03-09T10:00:00+07:00");
		set_env(renv, "DONTHU_LOG", "warn");
		routing.bin = DONTHU_ROUTING_BIN;
		routing.env = renv;
		snprintf(routing.log, sizeof(routing.log), "%s/routing.log", tmp);
		assert_int_equal(svc_start(&routing, ep_radmin), 0);
#endif
	}
	assert_int_equal(svc_start(&deadline, ep_dadmin), 0);
	/* A live subscriber from the start: escalations and flags. */
	sub = zmq_socket(zctx, ZMQ_SUB);
	{
		int linger = 0;
		zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof(linger));
	}
	p = routing_on ? "flag.delegation." : "esc.";
	zmq_setsockopt(sub, ZMQ_SUBSCRIBE, p, strlen(p));
	if (curve_on) {
		zmq_setsockopt(sub, ZMQ_CURVE_SERVERKEY, dsrv_pub, 40);
		zmq_setsockopt(sub, ZMQ_CURVE_PUBLICKEY, cli_pub, 40);
		zmq_setsockopt(sub, ZMQ_CURVE_SECRETKEY, cli_sec, 40);
	}
	assert_int_equal(zmq_connect(sub, ep_dpub), 0);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_common(false, false);
}

static int setup_routing(void **state)
{
	(void)state;
	return setup_common(true, false);
}

static int setup_curve(void **state)
{
	(void)state;
	return setup_common(false, true);
}

static int teardown(void **state)
{
	(void)state;
	zmq_close(sub);
	assert_int_equal(svc_stop(&deadline), 0);
	if (with_routing)
		assert_int_equal(svc_stop(&routing), 0);
	assert_int_equal(svc_stop(&intake), 0);
	zmq_ctx_term(zctx);
	if (getenv("KEEP_TMP") == NULL)
		cm_test_rmrf(tmp);
	else
		fprintf(stderr, "kept %s\n", tmp);
	free_env(ienv);
	free_env(denv);
	free_env(renv);
	free(tmp);
	return 0;
}

/* ---------------------------------------------------------- requests --- */

struct pet {
	Donthu__V1__SubmitRequest q;
	Donthu__V1__IdempotencyKey key;
	Donthu__V1__Petition p;
	Donthu__V1__Person person;
	Donthu__V1__Person *people[1];
	Donthu__V1__Respondent resp;
	char sid[48];
};

static void make(struct pet *b, const char *sid, int kind, const char *agency, int64_t at)
{
	memset(b, 0, sizeof(*b));
	donthu__v1__submit_request__init(&b->q);
	donthu__v1__idempotency_key__init(&b->key);
	donthu__v1__petition__init(&b->p);
	donthu__v1__person__init(&b->person);
	donthu__v1__respondent__init(&b->resp);
	snprintf(b->sid, sizeof(b->sid), "%s", sid);
	b->key.source_system = "test.deadline";
	b->key.source_id = b->sid;
	b->person.full_name = "Công dân thử nghiệm";
	b->person.id_kind = DONTHU__V1__ID_KIND__ID_KIND_CCCD;
	b->person.id_number = "079912340000";
	b->person.address = "12 Lê Duẩn, phường Hải Châu";
	b->people[0] = &b->person;
	b->p.channel = DONTHU__V1__CHANNEL__CHANNEL_POST;
	b->p.received_at_ms = at;
	b->p.receiving_agency = (char *)agency;
	b->p.kind = (Donthu__V1__PetitionKind)kind;
	b->p.n_petitioners = 1;
	b->p.petitioners = b->people;
	b->p.signer_count = 1;
	b->p.summary = "Đường Lê Duẩn ngập nước sau mưa";
	b->p.text = "Đường Lê Duẩn ngập nước mỗi khi mưa lớn, đề nghị nạo vét cống.";
	b->p.signed_ = 1;
	b->q.request_id = 1;
	b->q.key = &b->key;
	b->q.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_PETITION;
	b->q.petition = &b->p;
}

static void submit(Donthu__V1__SubmitRequest *q, char *case_number, size_t cap)
{
	cm_env env = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;

	env.schema_version = 1;
	env.body_case = BODY(SUBMIT);
	env.submit = q;
	if (with_curve)
		assert_int_equal(svc_call_curve(zctx, ep_submit, isrv_pub, cli_pub, cli_sec, &env,
						5000, &rep),
				 0);
	else
		assert_int_equal(svc_call(zctx, ep_submit, &env, 5000, &rep), 0);
	assert_non_null(rep->submit_reply);
	if (rep->submit_reply->status != SUBMIT(ACCEPTED))
		fail_msg("submission %s not accepted: %s %s", q->key->source_id,
			 rep->submit_reply->error ? rep->submit_reply->error->code : "",
			 rep->submit_reply->error ? rep->submit_reply->error->message : "");
	snprintf(case_number, cap, "%s", rep->submit_reply->case_number);
	cm_env_free(&rep);
}

/* ClockControl on an admin socket: set (set >= 0) or advance. */
static void clock_to(const char *ep, int64_t set, int64_t advance)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
	Donthu__V1__ClockControl c = DONTHU__V1__CLOCK_CONTROL__INIT;

	if (set >= 0) {
		c.op_case = DONTHU__V1__CLOCK_CONTROL__OP_SET_MS;
		c.set_ms = set;
	} else {
		c.op_case = DONTHU__V1__CLOCK_CONTROL__OP_ADVANCE_MS;
		c.advance_ms = advance;
	}
	req.schema_version = 1;
	req.body_case = BODY(CLOCK);
	req.clock = &c;
	assert_int_equal(svc_call(zctx, ep, &req, 5000, &rep), 0);
	assert_non_null(rep->control_reply);
	assert_true(rep->control_reply->ok);
	cm_env_free(&rep);
}

static Donthu__V1__StatusReply *status(const char *ep, cm_env **hold)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__StatusRequest st = DONTHU__V1__STATUS_REQUEST__INIT;

	req.schema_version = 1;
	req.body_case = BODY(STATUS);
	req.status = &st;
	assert_int_equal(svc_call(zctx, ep, &req, 5000, hold), 0);
	assert_non_null((*hold)->status_reply);
	return (*hold)->status_reply;
}

/* Wait until the deadline service has applied all of intake's feed (and of
 * routing's, when it runs). */
static void wait_caught_up(void)
{
	for (int i = 0; i < 400; i++) {
		cm_env *a = NULL, *b = NULL, *c = NULL;
		uint64_t ihead = status(ep_iadmin, &a)->feed_head, rhead = 0;
		Donthu__V1__StatusReply *d;
		bool ok = true;
		if (with_routing)
			rhead = status(ep_radmin, &c)->feed_head;
		d = status(ep_dadmin, &b);
		for (size_t k = 0; k < d->n_consumers; k++) {
			const Donthu__V1__ConsumerPosition *cp = d->consumers[k];
			uint64_t want = strcmp(cp->producer, "intake") == 0 ? ihead : rhead;
			ok = ok && cp->applied_seq >= want;
		}
		ok = ok && d->n_consumers == (with_routing ? 2u : 1u);
		cm_env_free(&a);
		cm_env_free(&b);
		cm_env_free(&c);
		if (ok)
			return;
		usleep(25000);
	}
	fail_msg("deadline did not catch up");
}

/* ------------------------------------------------------ reading events --- */

struct evs {
	uint64_t *seq;
	cm_env **ev;
	size_t n;
};

static void evs_free(struct evs *e)
{
	for (size_t i = 0; i < e->n; i++)
		cm_env_free(&e->ev[i]);
	free(e->ev);
	free(e->seq);
	memset(e, 0, sizeof(*e));
}

static void keep_cb(const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct evs *e = arg;
	cm_env *copy = NULL;

	(void)ev;
	assert_int_equal(cm_env_unpack(raw, len, &copy), 0);
	e->ev = cm_xrealloc(e->ev, (e->n + 1) * sizeof(*e->ev));
	e->seq = cm_xrealloc(e->seq, (e->n + 1) * sizeof(*e->seq));
	e->ev[e->n] = copy;
	e->seq[e->n] = copy->sequence;
	e->n++;
}

static void fetch_all(struct evs *e)
{
	uint64_t count = 0;

	evs_free(e);
	assert_int_equal(svc_fetch_all(zctx, ep_dfeed, keep_cb, e, &count), 0);
}

/* One FetchRequest from `from`, as a monitor makes it. */
static void fetch_from(uint64_t from, uint32_t max, struct evs *e)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
	Donthu__V1__FetchRequest f = DONTHU__V1__FETCH_REQUEST__INIT;

	f.consumer = "monitor";
	f.from_seq = from;
	f.max_events = max;
	req.schema_version = 1;
	req.body_case = BODY(FETCH);
	req.fetch = &f;
	assert_int_equal(svc_call(zctx, ep_dfeed, &req, 5000, &rep), 0);
	assert_non_null(rep->fetch_reply);
	for (size_t i = 0; i < rep->fetch_reply->n_events; i++)
		keep_cb(NULL, rep->fetch_reply->events[i].data, rep->fetch_reply->events[i].len, e);
	cm_env_free(&rep);
}

static size_t count_esc(const struct evs *e, const char *case_number, int level, int reason)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n; i++) {
		const Donthu__V1__Escalation *es = e->ev[i]->escalation;
		if (e->ev[i]->body_case != BODY(ESCALATION) ||
		    strcmp(es->case_number, case_number) != 0)
			continue;
		if ((level == 0 || (int)es->level == level) &&
		    (reason == 0 || (int)es->reason == reason))
			n++;
	}
	return n;
}

static const Donthu__V1__Escalation *get_esc(const struct evs *e, const char *case_number,
					     int level, int reason)
{
	for (size_t i = 0; i < e->n; i++) {
		const Donthu__V1__Escalation *es = e->ev[i]->escalation;
		if (e->ev[i]->body_case == BODY(ESCALATION) &&
		    strcmp(es->case_number, case_number) == 0 && (int)es->level == level &&
		    (int)es->reason == reason)
			return es;
	}
	return NULL;
}

static const cm_env *get_body(const struct evs *e, const char *case_number, int body,
			      const char *rule)
{
	for (size_t i = 0; i < e->n; i++) {
		const cm_env *ev = e->ev[i];
		if ((int)ev->body_case != body || strcmp(ev->case_number, case_number) != 0)
			continue;
		if (rule && body == BODY(DEADLINE_SET) && strcmp(ev->deadline_set->rule_id, rule) != 0)
			continue;
		return ev;
	}
	return NULL;
}

/* Fetch until `n` escalations of the case are on the feed (or fail). */
static void wait_esc(struct evs *e, const char *case_number, size_t n)
{
	for (int i = 0; i < 400; i++) {
		fetch_all(e);
		if (count_esc(e, case_number, 0, 0) >= n)
			return;
		usleep(25000);
	}
	fail_msg("only %zu of %zu escalations of %s arrived", count_esc(e, case_number, 0, 0), n,
		 case_number);
}

struct pubmsg {
	char topic[128];
	cm_env *ev;
};

/* Receive what the subscriber has, waiting up to wait_ms for the first. */
static size_t drain_sub(struct pubmsg *out, size_t cap, int wait_ms)
{
	size_t n = 0;

	while (n < cap) {
		zmq_pollitem_t it = {.socket = sub, .events = ZMQ_POLLIN};
		zmq_msg_t t, b;
		int more = 0;
		size_t ml = sizeof(more);

		if (zmq_poll(&it, 1, n == 0 ? wait_ms : 200) <= 0)
			break;
		zmq_msg_init(&t);
		zmq_msg_init(&b);
		assert_true(zmq_msg_recv(&t, sub, 0) >= 0);
		zmq_getsockopt(sub, ZMQ_RCVMORE, &more, &ml);
		assert_true(more);
		assert_true(zmq_msg_recv(&b, sub, 0) >= 0);
		snprintf(out[n].topic, sizeof(out[n].topic), "%.*s", (int)zmq_msg_size(&t),
			 (const char *)zmq_msg_data(&t));
		assert_int_equal(cm_env_unpack(zmq_msg_data(&b), zmq_msg_size(&b), &out[n].ev), 0);
		zmq_msg_close(&t);
		zmq_msg_close(&b);
		n++;
	}
	return n;
}

/* ------------------------------------------------------------ the tests --- */

static char case1[64];

/* Feedback received Mon 9/3/2026, never handled. xld.handle: 10 WD, due
 * 23/3; WARNING on 18/3 (3 WD before: 18, 19, 20), OVERDUE 24/3, HEAD 30/3
 * (5 WD after due), CHAIRMAN 6/4 (10 WD), INSPECTORATE 20/4 (20 WD).
 * xld.unhandled45: 9/3 + 45 = 23/4, CHAIRMAN (unhandled 45 days) on 24/4. */
static void test_45_day_case(void **state)
{
	struct pet b;
	struct evs all = {0}, mon = {0};
	struct pubmsg pm[64];
	uint64_t last = 0, prev = 0;
	size_t np;

	(void)state;
	make(&b, "it-1", DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK, "DN-TTR",
	     local(2026, 3, 9, 9));
	submit(&b.q, case1, sizeof(case1));
	wait_caught_up();
	fetch_all(&all);
	assert_non_null(get_body(&all, case1, BODY(DEADLINE_SET), "xld.handle"));
	assert_string_equal(get_body(&all, case1, BODY(DEADLINE_SET), "xld.handle")
				    ->deadline_set->due_date,
			    "2026-03-23");
	assert_string_equal(get_body(&all, case1, BODY(DEADLINE_SET), "xld.unhandled45")
				    ->deadline_set->due_date,
			    "2026-04-23");

	/* 47 days, one at a time, on both services. */
	for (int day = 1; day <= 47; day++) {
		clock_to(ep_iadmin, -1, CM_DAY_MS);
		clock_to(ep_dadmin, -1, CM_DAY_MS);
		if (day == 20) {
			/* On 29/3 a monitor reads what there is so far (the
			 * warning and the overdue), then goes away. */
			wait_esc(&all, case1, 2);
			for (;;) {
				size_t before = mon.n;
				fetch_from(last + 1, 3, &mon);
				if (mon.n == before)
					break;
				last = mon.seq[mon.n - 1];
			}
		}
	}
	wait_esc(&all, case1, 6);
	assert_int_equal(count_esc(&all, case1, 0, 0), 6);
	assert_string_equal(get_esc(&all, case1, LVL(WARNING), REASON(DEADLINE))->raised_date,
			    "2026-03-18");
	assert_string_equal(get_esc(&all, case1, LVL(OVERDUE), REASON(DEADLINE))->raised_date,
			    "2026-03-24");
	assert_string_equal(get_esc(&all, case1, LVL(HEAD), REASON(DEADLINE))->raised_date,
			    "2026-03-30");
	assert_string_equal(get_esc(&all, case1, LVL(CHAIRMAN), REASON(DEADLINE))->raised_date,
			    "2026-04-06");
	assert_string_equal(get_esc(&all, case1, LVL(INSPECTORATE), REASON(DEADLINE))->raised_date,
			    "2026-04-20");
	{
		const Donthu__V1__Escalation *u =
			get_esc(&all, case1, LVL(CHAIRMAN), REASON(UNHANDLED_45_DAYS));
		assert_non_null(u);
		assert_string_equal(u->raised_date, "2026-04-24");
		assert_string_equal(u->due_date, "2026-04-23");
		assert_string_equal(u->notify_agency, "DN-VP");
		/* No personal data in an escalation. */
		assert_null(strstr(u->detail, "Công dân"));
		assert_null(strstr(u->detail, "079912340000"));
	}

	/* The monitor comes back and resumes from its own sequence. */
	for (;;) {
		size_t before = mon.n;
		fetch_from(last + 1, 4, &mon);
		if (mon.n == before)
			break;
		last = mon.seq[mon.n - 1];
	}
	assert_int_equal(mon.n, all.n);
	for (size_t i = 0; i < mon.n; i++)
		assert_int_equal(mon.seq[i], i + 1);
	assert_int_equal(count_esc(&mon, case1, 0, 0), 6);

	/* The live subscriber saw each escalation once, with its feed sequence. */
	np = drain_sub(pm, CM_ARRAY_LEN(pm), 2000);
	assert_int_equal(np, 6);
	for (size_t i = 0; i < np; i++) {
		const Donthu__V1__Escalation *es = pm[i].ev->escalation;
		char want[128];
		assert_non_null(es);
		assert_true(pm[i].ev->sequence > prev);
		prev = pm[i].ev->sequence;
		snprintf(want, sizeof(want), "esc.%s.DN-TTR",
			 es->level == LVL(WARNING)	  ? "warning"
			 : es->level == LVL(OVERDUE)	  ? "overdue"
			 : es->level == LVL(HEAD)	  ? "head"
			 : es->level == LVL(CHAIRMAN)	  ? "chairman"
							  : "inspectorate");
		assert_string_equal(pm[i].topic, want);
		/* The sequence is the one the feed gave the same event. */
		for (size_t k = 0; k < all.n; k++)
			if (all.seq[k] == pm[i].ev->sequence)
				assert_int_equal(all.ev[k]->body_case, BODY(ESCALATION));
		cm_env_free(&pm[i].ev);
	}
	{
		cm_env *h = NULL;
		Donthu__V1__StatusReply *st = status(ep_dadmin, &h);
		assert_int_equal(st->open_clocks, 2);
		assert_int_equal(st->overdue, 1);
		assert_int_equal(st->cases, 1);
		assert_string_equal(st->health, "ok");
		cm_env_free(&h);
	}
	evs_free(&all);
	evs_free(&mon);
}

static void accept_case(const char *num, const char *sid, int64_t at)
{
	Donthu__V1__SubmitRequest q = DONTHU__V1__SUBMIT_REQUEST__INIT;
	Donthu__V1__IdempotencyKey k = DONTHU__V1__IDEMPOTENCY_KEY__INIT;
	Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
	Donthu__V1__Accept ac = DONTHU__V1__ACCEPT__INIT;
	char out[64];

	k.source_system = "test.deadline";
	k.source_id = (char *)sid;
	ac.complexity = DONTHU__V1__COMPLEXITY__COMPLEXITY_NORMAL;
	a.case_number = (char *)num;
	a.effective_at_ms = at;
	a.officer = "cb-01";
	a.action_case = DONTHU__V1__CASE_ACTION__ACTION_ACCEPT;
	a.accept = &ac;
	q.request_id = 2;
	q.key = &k;
	q.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_ACTION;
	q.action = &a;
	submit(&q, out, sizeof(out));
	assert_string_equal(out, num);
}

/* Recommendation received Mon 4/5/2026: xld.handle due 18/5 (5-8, 11-15,
 * 18/5); WARNING 13/5, OVERDUE 19/5, HEAD 25/5, CHAIRMAN 1/6, INSPECTORATE
 * 15/6; xld.unhandled45: 4/5 + 45 = Thu 18/6, CHAIRMAN 19/6. The service is
 * down through all of it and comes back on 1/7/2026. A second petition of
 * the same day was accepted on 11/5, in time, while the service was down:
 * it must not be escalated for what the service had not yet read. */
static void test_restart_while_due(void **state)
{
	struct pet b;
	struct evs all = {0};
	char c[64], ok[64];
	const cm_env *st;
	uint64_t head;

	(void)state;
	clock_to(ep_iadmin, local(2026, 5, 4, 10), 0);
	make(&b, "it-2", DONTHU__V1__PETITION_KIND__PETITION_KIND_RECOMMENDATION, "DN-TTR",
	     local(2026, 5, 4, 9));
	submit(&b.q, c, sizeof(c));
	make(&b, "it-2b", DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK, "DN-TTR",
	     local(2026, 5, 4, 9));
	submit(&b.q, ok, sizeof(ok));
	wait_caught_up();
	assert_int_equal(svc_stop(&deadline), 0);
	clock_to(ep_iadmin, local(2026, 5, 11, 10), 0);
	accept_case(ok, "it-2b-accept", local(2026, 5, 11, 9));
	set_env(denv, "DONTHU_DEADLINE_CLOCK_START", "2026-07-01T10:00:00+07:00");
	assert_int_equal(svc_start(&deadline, ep_dadmin), 0);
	wait_esc(&all, c, 6);
	assert_int_equal(count_esc(&all, c, 0, 0), 6);
	for (int l = LVL(WARNING); l <= LVL(INSPECTORATE); l++)
		assert_int_equal(count_esc(&all, c, l, REASON(DEADLINE)), 1);
	assert_string_equal(get_esc(&all, c, LVL(HEAD), REASON(DEADLINE))->raised_date,
			    "2026-07-01");
	assert_int_equal(get_esc(&all, c, LVL(HEAD), REASON(DEADLINE))->days_overdue, 44);
	assert_non_null(get_esc(&all, c, LVL(CHAIRMAN), REASON(UNHANDLED_45_DAYS)));
	assert_int_equal(count_esc(&all, ok, 0, 0), 0);
	st = get_body(&all, ok, BODY(CLOCK_STOPPED), NULL);
	assert_non_null(st);
	assert_true(st->clock_stopped->met);
	assert_string_equal(st->clock_stopped->completed_date, "2026-05-11");
	/* The first case raised all it had before: nothing again. */
	assert_int_equal(count_esc(&all, case1, 0, 0), 6);
	head = all.seq[all.n - 1];

	/* Down and up again at the same instant: nothing is raised twice. */
	assert_int_equal(svc_stop(&deadline), 0);
	assert_int_equal(svc_start(&deadline, ep_dadmin), 0);
	clock_to(ep_dadmin, -1, 0);
	wait_caught_up();
	fetch_all(&all);
	assert_int_equal(all.seq[all.n - 1], head);
	assert_int_equal(count_esc(&all, c, 0, 0), 6);
	evs_free(&all);
}

/* Feedback received Mon 3/8/2026, 10 WD: due in August, so by 1/10/2026 it
 * is overdue. Deadline restarts behind intake's feed with intake down, so it
 * cannot catch up: status must say so, and a clock move must not be answered
 * until intake is back, deadline has caught up and the escalations for the
 * new time are on its feed (the reply promises they are). */
static void test_clock_while_catching_up(void **state)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL, *hold = NULL;
	Donthu__V1__ClockControl cc = DONTHU__V1__CLOCK_CONTROL__INIT;
	const Donthu__V1__StatusReply *st;
	struct evs all = {0};
	struct pet b;
	char c[64];
	void *dealer;
	zmq_msg_t m;
	zmq_pollitem_t it;
	int linger = 0;

	(void)state;
	clock_to(ep_iadmin, local(2026, 8, 3, 10), 0);
	assert_int_equal(svc_stop(&deadline), 0);
	make(&b, "it-cu", DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK, "DN-TTR",
	     local(2026, 8, 3, 9));
	submit(&b.q, c, sizeof(c));
	assert_int_equal(svc_stop(&intake), 0);
	set_env(denv, "DONTHU_DEADLINE_CLOCK_START", "2026-08-03T10:00:00+07:00");
	assert_int_equal(svc_start(&deadline, ep_dadmin), 0);

	st = status(ep_dadmin, &hold);
	assert_non_null(strstr(st->health, "catching up"));
	cm_env_free(&hold);

	/* The clock move is sent, and stays unanswered while intake is down. */
	cc.op_case = DONTHU__V1__CLOCK_CONTROL__OP_SET_MS;
	cc.set_ms = local(2026, 10, 1, 10);
	req.schema_version = 1;
	req.body_case = BODY(CLOCK);
	req.clock = &cc;
	dealer = zmq_socket(zctx, ZMQ_DEALER);
	zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_connect(dealer, ep_dadmin), 0);
	assert_int_equal(cm_env_pack_msg(&req, &m), 0);
	assert_true(zmq_msg_send(&m, dealer, 0) >= 0);
	/* Status is answered meanwhile: the held move blocks nothing. */
	st = status(ep_dadmin, &hold);
	assert_non_null(strstr(st->health, "catching up"));
	assert_int_equal(st->now_ms, local(2026, 10, 1, 10));
	cm_env_free(&hold);
	it.socket = dealer;
	it.events = ZMQ_POLLIN;
	assert_int_equal(zmq_poll(&it, 1, 0), 0);

	assert_int_equal(svc_start(&intake, ep_iadmin), 0);
	assert_int_equal(zmq_poll(&it, 1, 30000), 1);
	zmq_msg_init(&m);
	assert_true(zmq_msg_recv(&m, dealer, 0) >= 0);
	assert_int_equal(cm_env_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &rep), 0);
	zmq_msg_close(&m);
	zmq_close(dealer);
	assert_non_null(rep->control_reply);
	assert_true(rep->control_reply->ok);
	assert_non_null(strstr(rep->control_reply->detail, "caught up"));
	cm_env_free(&rep);
	/* Read at once, not waited for: the reply came after the commit. */
	fetch_all(&all);
	assert_int_equal(count_esc(&all, c, LVL(OVERDUE), REASON(DEADLINE)), 1);
	evs_free(&all);
	st = status(ep_dadmin, &hold);
	assert_string_equal(st->health, "ok");
	cm_env_free(&hold);
}

/* A fresh deadline store that has applied nothing from routing waits for
 * routing's first answer before it raises anything: routing's events may
 * stop or move clocks intake's events started. */
static void test_waits_for_routing_first_answer(void **state)
{
	const Donthu__V1__StatusReply *st;
	cm_env *hold = NULL;
	unsigned long applied = 0, head = 1;
	const char *at;

	(void)state;
	assert_int_equal(svc_stop(&deadline), 0);
	assert_int_equal(svc_stop(&routing), 0);
	set_env(denv, "DONTHU_DEADLINE_DATA_DIR", "%s/deadline-fresh", tmp);
	assert_int_equal(svc_start(&deadline, ep_dadmin), 0);
	/* Intake's whole feed applied, routing silent: still catching up. */
	for (int i = 0; i < 200 && applied != head; i++) {
		st = status(ep_dadmin, &hold);
		at = strstr(st->health, "intake ");
		if (!at || sscanf(at, "intake %lu/%lu", &applied, &head) != 2)
			applied = 0, head = 1;
		cm_env_free(&hold);
		if (applied != head)
			usleep(50 * 1000);
	}
	assert_int_equal(applied, head);
	st = status(ep_dadmin, &hold);
	assert_non_null(strstr(st->health, "catching up"));
	assert_non_null(strstr(st->health, "routing 0/?"));
	cm_env_free(&hold);
	assert_int_equal(svc_start(&routing, ep_radmin), 0);
	wait_caught_up();
	for (int i = 0; i < 200; i++) {
		st = status(ep_dadmin, &hold);
		if (strcmp(st->health, "ok") == 0)
			break;
		cm_env_free(&hold);
		usleep(50 * 1000);
	}
	assert_non_null(hold);
	assert_string_equal(st->health, "ok");
	cm_env_free(&hold);
}

static void reload(const char *what, bool ok, const char *needle)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
	Donthu__V1__ReloadRequest r = DONTHU__V1__RELOAD_REQUEST__INIT;

	r.what = (char *)what;
	req.schema_version = 1;
	req.body_case = BODY(RELOAD);
	req.reload = &r;
	assert_int_equal(svc_call(zctx, ep_dadmin, &req, 30000, &rep), 0);
	assert_non_null(rep->control_reply);
	if (rep->control_reply->ok != ok)
		fail_msg("reload %s: ok=%d (%s)", what, rep->control_reply->ok,
			 rep->control_reply->error ? rep->control_reply->error->message
						   : rep->control_reply->detail);
	if (needle) {
		const char *s = ok ? rep->control_reply->detail : rep->control_reply->error->message;
		if (!strstr(s, needle))
			fail_msg("reload %s: \"%s\" does not mention \"%s\"", what, s, needle);
	}
	cm_env_free(&rep);
}

/* Feedback received Wed 1/7/2026: 10 WD -> 2, 3, 6-10, 13-15/7 -> 15/7. A
 * day off on Fri 10/7 moves it to 16/7. */
static void test_calendar_reload(void **state)
{
	struct pet b;
	struct evs all = {0};
	const cm_env *ev;
	char c[64], *path, *text;
	FILE *f;
	long sz;

	(void)state;
	clock_to(ep_iadmin, local(2026, 7, 1, 10), 0);
	make(&b, "it-3", DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK, "DN-TTR",
	     local(2026, 7, 1, 9));
	submit(&b.q, c, sizeof(c));
	wait_caught_up();
	fetch_all(&all);
	assert_string_equal(get_body(&all, c, BODY(DEADLINE_SET), "xld.handle")
				    ->deadline_set->due_date,
			    "2026-07-15");

	/* A malformed year file is refused; the old calendar stays. */
	path = cm_xasprintf("%s/calendar", tmp);
	cm_test_write_file(path, "2027.json", "{\"format\": 1, \"year\": 2027,");
	reload("calendar", false, "2027.json");
	free(path);
	path = cm_xasprintf("%s/calendar/2027.json", tmp);
	assert_int_equal(unlink(path), 0);
	free(path);

	path = cm_xasprintf("%s/calendar/2026.json", tmp);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = cm_xcalloc(1, (size_t)sz + 1);
	assert_int_equal(fread(text, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	{
		char *at = strstr(text, "\"days_off\": [");
		char *dir = cm_xasprintf("%s/calendar", tmp), *out;
		assert_non_null(at);
		at += strlen("\"days_off\": [");
		out = cm_xasprintf("%.*s\n    {\"date\": \"2026-07-10\", \"name\": \"Nghỉ đột xuất "
				   "(thử)\", \"kind\": \"holiday\"},%s",
				   (int)(at - text), text, at);
		cm_test_write_file(dir, "2026.json", out);
		free(out);
		free(dir);
	}
	free(text);
	free(path);
	reload("calendar", true, "1 changed");
	fetch_all(&all);
	ev = get_body(&all, c, BODY(DEADLINE_CHANGED), NULL);
	assert_non_null(ev);
	assert_int_equal(ev->deadline_changed->reason,
			 DONTHU__V1__CHANGE_REASON__CHANGE_REASON_CALENDAR);
	assert_string_equal(ev->deadline_changed->old_due_date, "2026-07-15");
	assert_string_equal(ev->deadline_changed->new_due_date, "2026-07-16");
	assert_non_null(strstr(ev->deadline_changed->explain, "Nghỉ đột xuất (thử)"));
	ev = all.ev[all.n - 1];
	assert_int_equal(ev->body_case, BODY(CALENDAR_RELOADED));
	assert_string_equal(ev->calendar_reloaded->what, "calendar");
	assert_int_equal(ev->calendar_reloaded->clocks_changed, 1);
	/* Open: the three cases' two handling clocks each. */
	assert_int_equal(ev->calendar_reloaded->clocks_recomputed, 6);
	/* And the policy reloads too (unchanged file: nothing moves). */
	reload("policy", true, "0 changed");
	reload("everything", false, NULL);
	evs_free(&all);
}

/* --------------------------------------------- with the routing service --- */

static void test_routing_events(void **state)
{
	struct pet b;
	struct evs all = {0};
	struct pubmsg pm[8];
	char d[64], g[64];
	const cm_env *ev;
	size_t np;

	(void)state;
	/* A denunciation at the inspectorate about a hospital official: routing
	 * finds it outside competence, so it must be forwarded within 5 WD of
	 * receipt on Mon 9/3. */
	make(&b, "rt-1", DONTHU__V1__PETITION_KIND__PETITION_KIND_DENUNCIATION, "DN-TTR",
	     local(2026, 3, 9, 9));
	b.resp.name = "Ông Trần Văn Bình";
	b.resp.managing_agency = "DN-SYT";
	b.p.respondent = &b.resp;
	b.p.summary = "Tố cáo nhận tiền";
	b.p.text = "Bác sĩ khoa nội nhận tiền của người bệnh để xếp giường.";
	submit(&b.q, d, sizeof(d));
	/* A delegation of eight at a ward's reception desk. */
	make(&b, "rt-2", DONTHU__V1__PETITION_KIND__PETITION_KIND_RECOMMENDATION, "UBND-20257",
	     local(2026, 3, 9, 9));
	b.p.channel = DONTHU__V1__CHANNEL__CHANNEL_IN_PERSON;
	b.p.delegation_size = 8;
	b.p.signer_count = 8;
	b.p.field = "giao-duc";
	b.p.summary = "Kiến nghị sửa trường";
	b.p.text = "Dãy phòng học xuống cấp, đề nghị sửa chữa.";
	submit(&b.q, g, sizeof(g));
	wait_caught_up();
	fetch_all(&all);
	ev = get_body(&all, d, BODY(DEADLINE_SET), "tc.forward");
	assert_non_null(ev);
	assert_string_equal(ev->deadline_set->trigger_date, "2026-03-09");
	/* 10-13/3 (4), 16/3 (5). */
	assert_string_equal(ev->deadline_set->due_date, "2026-03-16");
	assert_int_equal(count_esc(&all, g, 0, REASON(DELEGATION)), 1);
	np = drain_sub(pm, CM_ARRAY_LEN(pm), 2000);
	assert_int_equal(np, 1);
	assert_int_equal(strncmp(pm[0].topic, "flag.delegation.", 16), 0);
	assert_int_equal(pm[0].ev->escalation->reason, REASON(DELEGATION));
	assert_true(pm[0].ev->sequence > 0);
	cm_env_free(&pm[0].ev);
	evs_free(&all);
}

/* ----------------------------------------------------------- CURVE --- */

static int curve_fetch(const char *pub, const char *sec, int timeout_ms, struct evs *e)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
	Donthu__V1__FetchRequest f = DONTHU__V1__FETCH_REQUEST__INIT;
	int rc;

	f.consumer = "monitor";
	f.from_seq = 1;
	f.max_events = 1000;
	req.schema_version = 1;
	req.body_case = BODY(FETCH);
	req.fetch = &f;
	rc = pub ? svc_call_curve(zctx, ep_dfeed, dsrv_pub, pub, sec, &req, timeout_ms, &rep)
		 : svc_call(zctx, ep_dfeed, &req, timeout_ms, &rep);
	if (rc)
		return rc;
	assert_non_null(rep->fetch_reply);
	for (size_t i = 0; i < rep->fetch_reply->n_events; i++)
		keep_cb(NULL, rep->fetch_reply->events[i].data, rep->fetch_reply->events[i].len, e);
	cm_env_free(&rep);
	return 0;
}

/* Feedback received 9/3/2026: its warning comes on 18/3 (see test_45_day_case). */
static void test_curve(void **state)
{
	struct pet b;
	struct evs e = {0};
	struct pubmsg pm[4];
	char c[64], bad_pub[41], bad_sec[41];

	(void)state;
	make(&b, "cv-1", DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK, "DN-TTR",
	     local(2026, 3, 9, 9));
	submit(&b.q, c, sizeof(c));
	wait_caught_up();
	assert_int_equal(curve_fetch(cli_pub, cli_sec, 5000, &e), 0);
	assert_non_null(get_body(&e, c, BODY(DEADLINE_SET), "xld.handle"));
	evs_free(&e);
	/* Not on the allowlist, or no CURVE at all: nothing. */
	assert_int_equal(zmq_curve_keypair(bad_pub, bad_sec), 0);
	assert_true(curve_fetch(bad_pub, bad_sec, 500, &e) != 0);
	assert_true(curve_fetch(NULL, NULL, 500, &e) != 0);
	assert_int_equal(e.n, 0);
	clock_to(ep_dadmin, local(2026, 3, 18, 10), 0);
	assert_int_equal(drain_sub(pm, CM_ARRAY_LEN(pm), 3000), 1);
	assert_string_equal(pm[0].topic, "esc.warning.DN-TTR");
	cm_env_free(&pm[0].ev);
}

int main(void)
{
	const struct CMUnitTest alone[] = {
		cmocka_unit_test(test_45_day_case),
		cmocka_unit_test(test_restart_while_due),
		cmocka_unit_test(test_calendar_reload),
		cmocka_unit_test(test_clock_while_catching_up),
	};
	int rc = cmocka_run_group_tests_name("deadline on intake alone", alone, setup, teardown);
#ifdef DONTHU_ROUTING_BIN
	const struct CMUnitTest with[] = {
		cmocka_unit_test(test_routing_events),
		cmocka_unit_test(test_waits_for_routing_first_answer),
	};
	rc |= cmocka_run_group_tests_name("deadline with routing", with, setup_routing, teardown);
#endif
	{
		const struct CMUnitTest curve[] = {
			cmocka_unit_test(test_curve),
		};
		rc |= cmocka_run_group_tests_name("deadline with CURVE", curve, setup_curve,
						  teardown);
	}
	return rc;
}

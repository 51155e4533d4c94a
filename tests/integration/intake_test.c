/*
 * intake_test - the real donthu-intake binary, driven over ipc:// sockets in
 * a temporary directory with the shipped register and a fresh identity key.
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

static char *tmp;
static char ep_submit[300], ep_feed[300], ep_admin[300];
static char *envv[16];
static struct svc intake;
static void *zctx;

/* Names and numbers that must never appear in any stored byte. */
#define SECRET_NAME "Nguyễn Thị Bí Mật"
#define SECRET_ID "079912345678"

static void start_intake(void)
{
	assert_int_equal(svc_start(&intake, ep_admin), 0);
}

static int setup(void **state)
{
	(void)state;
	tmp = cm_test_tmpdir("intake");
	snprintf(ep_submit, sizeof(ep_submit), "ipc://%s/submit.sock", tmp);
	snprintf(ep_feed, sizeof(ep_feed), "ipc://%s/feed.sock", tmp);
	snprintf(ep_admin, sizeof(ep_admin), "ipc://%s/admin.sock", tmp);
	{
		char *keys = cm_xasprintf("%s/keys", tmp);
		svc_write_identity_key(keys);
		free(keys);
	}
	envv[0] = cm_xasprintf("DONTHU_INTAKE_DATA_DIR=%s/data", tmp);
	envv[1] = cm_xasprintf("DONTHU_INTAKE_LISTEN=%s", ep_submit);
	envv[2] = cm_xasprintf("DONTHU_INTAKE_FEED_LISTEN=%s", ep_feed);
	envv[3] = cm_xasprintf("DONTHU_INTAKE_ADMIN_LISTEN=%s", ep_admin);
	envv[4] = cm_xasprintf("DONTHU_INTAKE_HTTP_PORT=0");
	envv[5] = cm_xasprintf("DONTHU_INTAKE_REGISTER_DIR=%s", DONTHU_DATA_DIR "/register");
	envv[6] = cm_xasprintf("DONTHU_INTAKE_IDENTITY_KEYS_DIR=%s/keys", tmp);
	envv[7] = cm_xasprintf("DONTHU_INTAKE_CLOCK=simulated");
	envv[8] = cm_xasprintf("DONTHU_INTAKE_CLOCK_START=2026-03-10T09:00:00+07:00");
	envv[9] = cm_xasprintf("DONTHU_LOG=warn");
	envv[10] = NULL;
	intake.bin = DONTHU_INTAKE_BIN;
	intake.env = envv;
	snprintf(intake.log, sizeof(intake.log), "%s/intake.log", tmp);
	zctx = zmq_ctx_new();
	start_intake();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(svc_stop(&intake), 0);
	zmq_ctx_term(zctx);
	if (getenv("KEEP_TMP") == NULL)
		cm_test_rmrf(tmp);
	for (int i = 0; envv[i]; i++)
		free(envv[i]);
	free(tmp);
	return 0;
}

/* ------------------------------------------------ building requests --- */

struct petition_buf {
	Donthu__V1__SubmitRequest q;
	Donthu__V1__IdempotencyKey key;
	Donthu__V1__Petition p;
	Donthu__V1__Person person;
	Donthu__V1__Person *people[1];
	char source_id[64];
};

static void make_petition(struct petition_buf *b, uint64_t request_id, const char *agency,
			  const char *source_id)
{
	donthu__v1__submit_request__init(&b->q);
	donthu__v1__idempotency_key__init(&b->key);
	donthu__v1__petition__init(&b->p);
	donthu__v1__person__init(&b->person);
	snprintf(b->source_id, sizeof(b->source_id), "%s", source_id);
	b->key.source_system = "test.portal";
	b->key.source_id = b->source_id;
	b->person.full_name = SECRET_NAME;
	b->person.id_kind = DONTHU__V1__ID_KIND__ID_KIND_CCCD;
	b->person.id_number = SECRET_ID;
	b->person.address = "12 Lê Duẩn, Phường Hải Châu";
	b->people[0] = &b->person;
	b->p.channel = DONTHU__V1__CHANNEL__CHANNEL_PORTAL;
	b->p.received_at_ms = cm_day_start_ms(cm_day_from_ymd(2026, 3, 9)) + 3600 * 1000;
	b->p.receiving_agency = (char *)agency;
	b->p.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK;
	b->p.n_petitioners = 1;
	b->p.petitioners = b->people;
	b->p.signer_count = 1;
	b->p.summary = "Đường Lê Duẩn ngập nước sau mưa";
	b->p.signed_ = 1;
	b->q.request_id = request_id;
	b->q.key = &b->key;
	b->q.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_PETITION;
	b->q.petition = &b->p;
}

static void wrap(cm_env *env, Donthu__V1__SubmitRequest *q)
{
	donthu__v1__envelope__init(env);
	env->schema_version = 1;
	env->body_case = DONTHU__V1__ENVELOPE__BODY_SUBMIT;
	env->submit = q;
}

static Donthu__V1__SubmitReply *call_submit(Donthu__V1__SubmitRequest *q, cm_env **hold)
{
	cm_env env;

	wrap(&env, q);
	assert_int_equal(svc_call(zctx, ep_submit, &env, 5000, hold), 0);
	assert_non_null((*hold)->submit_reply);
	return (*hold)->submit_reply;
}

static int send_raw(void *sock, const void *buf, size_t n)
{
	return zmq_send(sock, buf, n, 0) == (int)n ? 0 : -1;
}

/* --------------------------------------------------------- the tests --- */

struct seen {
	uint8_t *answered;	/* by request id */
	uint64_t *serial_max;
	char **case_of;
};

/* Several clients keep many requests in flight; every request is answered
 * exactly once, and case numbers are unique and gap-free per agency and year. */
static void test_pipelined_10000(void **state)
{
	enum { CLIENTS = 4, PER = 2500, WINDOW = 256, TOTAL = CLIENTS * PER };
		/* Agencies no other test uses, so their serials start at 1 here. */
	static const char *agencies[2] = {"DN-SXD", "UBND-20257"};
	void *socks[CLIENTS];
	uint64_t sent[CLIENTS] = {0}, got[CLIENTS] = {0};
	uint8_t *answered = cm_xcalloc(TOTAL + 1, 1);
	uint8_t *serials[2] = {cm_xcalloc(TOTAL + 1, 1), cm_xcalloc(TOTAL + 1, 1)};
	uint64_t done = 0;

	(void)state;
	for (int c = 0; c < CLIENTS; c++) {
		int hwm = 0;
		socks[c] = zmq_socket(zctx, ZMQ_DEALER);
		zmq_setsockopt(socks[c], ZMQ_SNDHWM, &hwm, sizeof(hwm));
		zmq_setsockopt(socks[c], ZMQ_RCVHWM, &hwm, sizeof(hwm));
		assert_int_equal(zmq_connect(socks[c], ep_submit), 0);
	}
	while (done < TOTAL) {
		zmq_pollitem_t items[CLIENTS];
		for (int c = 0; c < CLIENTS; c++) {
			while (sent[c] < PER && sent[c] - got[c] < WINDOW) {
				struct petition_buf b;
				char sid[64];
				uint64_t id = (uint64_t)c * PER + sent[c] + 1;
				cm_env env;
				zmq_msg_t m;
				snprintf(sid, sizeof(sid), "pipe-%" PRIu64, id);
				make_petition(&b, id, agencies[id % 2], sid);
				wrap(&env, &b.q);
				assert_int_equal(cm_env_pack_msg(&env, &m), 0);
				assert_true(zmq_msg_send(&m, socks[c], 0) >= 0);
				sent[c]++;
			}
			items[c].socket = socks[c];
			items[c].events = ZMQ_POLLIN;
		}
		assert_true(zmq_poll(items, CLIENTS, 10000) > 0);
		for (int c = 0; c < CLIENTS; c++) {
			zmq_msg_t m;
			if (!(items[c].revents & ZMQ_POLLIN))
				continue;
			zmq_msg_init(&m);
			while (zmq_msg_recv(&m, socks[c], ZMQ_DONTWAIT) >= 0) {
				cm_env *rep = NULL;
				Donthu__V1__SubmitReply *r;
				const char *cn, *dash;
				int a;
				unsigned long long serial;
				assert_int_equal(cm_env_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &rep),
						 0);
				r = rep->submit_reply;
				assert_non_null(r);
				assert_true(r->request_id >= 1 && r->request_id <= TOTAL);
				assert_int_equal(answered[r->request_id], 0);
				answered[r->request_id] = 1;
				assert_int_equal(r->status, SUBMIT(ACCEPTED));
				a = (int)(r->request_id % 2);
				cn = r->case_number;
				assert_int_equal(strncmp(cn, agencies[a], strlen(agencies[a])), 0);
				assert_int_equal(strncmp(cn + strlen(agencies[a]), "-2026-", 6), 0);
				dash = strrchr(cn, '-');
				serial = strtoull(dash + 1, NULL, 10);
				assert_true(serial >= 1 && serial <= TOTAL / 2);
				assert_int_equal(serials[a][serial], 0);
				serials[a][serial] = 1;
				cm_env_free(&rep);
				got[c]++;
				done++;
			}
			zmq_msg_close(&m);
		}
	}
	/* Gap-free: each agency got serials 1..TOTAL/2 exactly. */
	for (int a = 0; a < 2; a++)
		for (int s = 1; s <= TOTAL / 2; s++)
			assert_int_equal(serials[a][s], 1);
	for (int c = 0; c < CLIENTS; c++)
		zmq_close(socks[c]);
	free(answered);
	free(serials[0]);
	free(serials[1]);
}

/* The same idempotency key gets DUPLICATE with the first case number, also
 * after a restart. */
static void test_idempotent_across_restart(void **state)
{
	struct petition_buf b;
	cm_env *hold = NULL;
	Donthu__V1__SubmitReply *r;
	char first[80];

	(void)state;
	make_petition(&b, 1, "DN-TTR", "idem-1");
	r = call_submit(&b.q, &hold);
	assert_int_equal(r->status, SUBMIT(ACCEPTED));
	snprintf(first, sizeof(first), "%s", r->case_number);
	cm_env_free(&hold);

	make_petition(&b, 2, "DN-TTR", "idem-1");
	r = call_submit(&b.q, &hold);
	assert_int_equal(r->status, SUBMIT(DUPLICATE));
	assert_string_equal(r->case_number, first);
	cm_env_free(&hold);

	assert_int_equal(svc_stop(&intake), 0);
	start_intake();
	make_petition(&b, 3, "DN-TTR", "idem-1");
	r = call_submit(&b.q, &hold);
	assert_int_equal(r->status, SUBMIT(DUPLICATE));
	assert_string_equal(r->case_number, first);
	cm_env_free(&hold);
}

struct key_count {
	size_t n;
	char **keys;
	unsigned *count;
};

static void count_keys(const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct key_count *kc = arg;
	const char *sid;

	(void)raw;
	(void)len;
	if (ev->body_case != DONTHU__V1__ENVELOPE__BODY_PETITION_RECEIVED)
		return;
	sid = ev->petition_received->key->source_id;
	if (strncmp(sid, "kill-", 5) != 0)
		return;
	kc->count[strtoul(sid + 5, NULL, 10)]++;
}

/* SIGKILL during a stream of submissions whose client retries on timeout:
 * after restart every ACCEPTED submission is on the feed exactly once, and
 * nothing unacknowledged was half-stored. */
static void test_sigkill_with_retries(void **state)
{
	enum { N = 3000 };
	uint8_t *acked = cm_xcalloc(N, 1);
	struct key_count kc = {.count = cm_xcalloc(N, sizeof(unsigned))};
	void *sock = NULL;
	uint64_t events = 0;
	int next = 0, killed = 0, inflight = 0;

	(void)state;
	while (next < N || inflight) {
		zmq_pollitem_t it;
		if (!sock) {
			int linger = 0;
			sock = zmq_socket(zctx, ZMQ_DEALER);
			zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
			assert_int_equal(zmq_connect(sock, ep_submit), 0);
			/* Retry everything not yet acknowledged, same keys. */
			inflight = 0;
			for (int i = 0; i < next; i++) {
				if (acked[i])
					continue;
				struct petition_buf b;
				char sid[32];
				cm_env env;
				zmq_msg_t m;
				snprintf(sid, sizeof(sid), "kill-%d", i);
				make_petition(&b, (uint64_t)i, "DN-TTR", sid);
				wrap(&env, &b.q);
				cm_env_pack_msg(&env, &m);
				zmq_msg_send(&m, sock, 0);
				inflight++;
			}
		}
		while (next < N && inflight < 64) {
			struct petition_buf b;
			char sid[32];
			cm_env env;
			zmq_msg_t m;
			snprintf(sid, sizeof(sid), "kill-%d", next);
			make_petition(&b, (uint64_t)next, "DN-TTR", sid);
			wrap(&env, &b.q);
			cm_env_pack_msg(&env, &m);
			zmq_msg_send(&m, sock, 0);
			next++;
			inflight++;
		}
		if (!killed && next > N / 2) {
			svc_kill(&intake);
			killed = 1;
			start_intake();
			zmq_close(sock);
			sock = NULL;
			continue;
		}
		it.socket = sock;
		it.events = ZMQ_POLLIN;
		if (zmq_poll(&it, 1, 2000) <= 0) {
			/* Timed out: the request or its answer was lost; retry. */
			zmq_close(sock);
			sock = NULL;
			continue;
		}
		for (;;) {
			zmq_msg_t m;
			cm_env *rep = NULL;
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
				zmq_msg_close(&m);
				break;
			}
			if (cm_env_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &rep) == 0 &&
			    rep->submit_reply) {
				Donthu__V1__SubmitReply *r = rep->submit_reply;
				assert_true(r->status == SUBMIT(ACCEPTED) ||
					    r->status == SUBMIT(DUPLICATE) ||
					    r->status == SUBMIT(UNAVAILABLE));
				if (r->status != SUBMIT(UNAVAILABLE) && !acked[r->request_id]) {
					acked[r->request_id] = 1;
					inflight--;
				}
			}
			cm_env_free(&rep);
			zmq_msg_close(&m);
		}
	}
	zmq_close(sock);
	assert_true(killed);
	assert_int_equal(svc_fetch_all(zctx, ep_feed, count_keys, &kc, &events), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(acked[i], 1);
		if (kc.count[i] != 1)
			fail_msg("submission kill-%d is on the feed %u times", i, kc.count[i]);
	}
	free(acked);
	free(kc.count);
}

struct bad_case {
	const char *name;
	void (*mutate)(struct petition_buf *b);
	const char *code;
	const char *field_prefix;
};

static void m_no_key(struct petition_buf *b) { b->q.key = NULL; }
static void m_zero_signers(struct petition_buf *b) { b->p.signer_count = 0; }
static void m_bad_enum(struct petition_buf *b) { b->p.kind = 77; }
static void m_bad_utf8(struct petition_buf *b) { b->p.summary = "ngập \xff\xfe nước"; }
static void m_unknown_agency(struct petition_buf *b) { b->p.receiving_agency = "NO-SUCH"; }
static void m_future(struct petition_buf *b) { b->p.received_at_ms += 30LL * 86400 * 1000; }
static void m_old(struct petition_buf *b) { b->p.received_at_ms = cm_day_start_ms(cm_day_from_ymd(1999, 12, 31)); }
static void m_unknown_unit(struct petition_buf *b) { b->p.location_unit = "99999"; }
static void m_no_summary(struct petition_buf *b) { b->p.summary = ""; }
static void m_no_channel(struct petition_buf *b) { b->p.channel = 0; }
static void m_long_name(struct petition_buf *b)
{
	static char name[400];
	memset(name, 'a', sizeof(name) - 1);
	b->person.full_name = name;
}
static void m_bad_cccd(struct petition_buf *b) { b->person.id_number = "12AB"; }

static const struct bad_case bad_cases[] = {
	{"no idempotency key", m_no_key, "missing_key", ""},
	{"zero signers", m_zero_signers, "zero_signers", "petition.signer_count"},
	{"enum out of range", m_bad_enum, "invalid_enum", "petition.kind"},
	{"invalid UTF-8", m_bad_utf8, "invalid_utf8", "petition.summary"},
	{"unknown agency", m_unknown_agency, "unknown_agency", "petition.receiving_agency"},
	{"date in the future", m_future, "date_in_future", "petition.received_at_ms"},
	{"date before the floor", m_old, "date_too_old", "petition.received_at_ms"},
	{"unknown unit", m_unknown_unit, "unknown_unit", "petition.location_unit"},
	{"missing summary", m_no_summary, "missing_field", "petition.summary"},
	{"missing channel", m_no_channel, "missing_field", "petition.channel"},
	{"name too long", m_long_name, "too_long", "petition.petitioners[0].full_name"},
	{"bad CCCD", m_bad_cccd, "invalid_id_number", "petition.petitioners[0].id_number"},
};

static void assert_still_serving(void)
{
	struct petition_buf b;
	cm_env *hold = NULL;
	char sid[64];
	static int k;

	snprintf(sid, sizeof(sid), "alive-%d", k++);
	make_petition(&b, 99, "DN-TTR", sid);
	assert_int_equal(call_submit(&b.q, &hold)->status, SUBMIT(ACCEPTED));
	cm_env_free(&hold);
}

static void test_bad_input_over_the_wire(void **state)
{
	(void)state;
	for (size_t i = 0; i < CM_ARRAY_LEN(bad_cases); i++) {
		struct petition_buf b;
		cm_env *hold = NULL;
		Donthu__V1__SubmitReply *r;
		char sid[64];

		snprintf(sid, sizeof(sid), "bad-%zu", i);
		make_petition(&b, 7, "DN-TTR", sid);
		bad_cases[i].mutate(&b);
		r = call_submit(&b.q, &hold);
		if (r->status != SUBMIT(REJECTED) || !r->error ||
		    strcmp(r->error->code, bad_cases[i].code) != 0 ||
		    strncmp(r->error->field, bad_cases[i].field_prefix,
			    strlen(bad_cases[i].field_prefix)) != 0)
			fail_msg("%s: got status %d code %s field %s", bad_cases[i].name, r->status,
				 r->error ? r->error->code : "-", r->error ? r->error->field : "-");
		assert_int_equal(r->request_id, 7);
		cm_env_free(&hold);
		assert_still_serving();
	}
	/* Bytes that are not an envelope, a wrong schema version, an oversize
	 * frame: REJECTED with a code, and the service keeps serving. */
	{
		static const char junk[] = "\x0a\xff\xff\xff\xff\x0f not protobuf";
		void *s = zmq_socket(zctx, ZMQ_DEALER);
		int linger = 0, tmo = 5000;
		char *big = cm_xcalloc(2 * 1024 * 1024, 1);
		cm_env e = DONTHU__V1__ENVELOPE__INIT, *rep;
		uint8_t *buf;
		size_t len;
		zmq_msg_t m;
		const char *want[3] = {"malformed", "unsupported_version", "too_large"};

		zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
		zmq_connect(s, ep_submit);
		assert_int_equal(send_raw(s, junk, sizeof(junk) - 1), 0);
		e.schema_version = 9;
		cm_env_pack_alloc(&e, &buf, &len);
		assert_int_equal(send_raw(s, buf, len), 0);
		free(buf);
		assert_int_equal(send_raw(s, big, 2 * 1024 * 1024), 0);
		for (int i = 0; i < 3; i++) {
			zmq_msg_init(&m);
			assert_true(zmq_msg_recv(&m, s, 0) >= 0);
			rep = NULL;
			assert_int_equal(cm_env_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &rep), 0);
			assert_non_null(rep->submit_reply);
			assert_int_equal(rep->submit_reply->status, SUBMIT(REJECTED));
			assert_string_equal(rep->submit_reply->error->code, want[i]);
			cm_env_free(&rep);
			zmq_msg_close(&m);
		}
		free(big);
		/* A NUL inside a string, which protobuf-c would silently cut. */
		{
			struct petition_buf b;
			cm_env ne;
			char *hit;
			make_petition(&b, 8, "DN-TTR", "bad-nul");
			b.p.summary = "before~after";
			wrap(&ne, &b.q);
			cm_env_pack_alloc(&ne, &buf, &len);
			hit = memmem(buf, len, "~", 1);
			assert_non_null(hit);
			*hit = '\0';
			assert_int_equal(send_raw(s, buf, len), 0);
			free(buf);
			zmq_msg_init(&m);
			assert_true(zmq_msg_recv(&m, s, 0) >= 0);
			rep = NULL;
			assert_int_equal(cm_env_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &rep), 0);
			assert_int_equal(rep->submit_reply->status, SUBMIT(REJECTED));
			assert_string_equal(rep->submit_reply->error->code, "control_character");
			assert_string_equal(rep->submit_reply->error->field, "petition.summary");
			assert_int_equal(rep->submit_reply->request_id, 8);
			cm_env_free(&rep);
			zmq_msg_close(&m);
		}
		zmq_close(s);
		assert_still_serving();
	}
}

static Donthu__V1__SubmitReply *act(Donthu__V1__CaseAction *a, const char *sid, cm_env **hold)
{
	Donthu__V1__SubmitRequest q = DONTHU__V1__SUBMIT_REQUEST__INIT;
	Donthu__V1__IdempotencyKey k = DONTHU__V1__IDEMPOTENCY_KEY__INIT;

	k.source_system = "test.desk";
	k.source_id = (char *)sid;
	q.request_id = 5;
	q.key = &k;
	q.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_ACTION;
	q.action = a;
	a->effective_at_ms = cm_day_start_ms(cm_day_from_ymd(2026, 3, 10));
	return call_submit(&q, hold);
}

/* The lifecycle: accept, accepting twice, resume when not suspended, an
 * unknown case. */
static void test_case_lifecycle(void **state)
{
	struct petition_buf b;
	cm_env *hold = NULL;
	Donthu__V1__SubmitReply *r;
	Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
	Donthu__V1__Accept acc = DONTHU__V1__ACCEPT__INIT;
	Donthu__V1__Resume res = DONTHU__V1__RESUME__INIT;
	char cn[80];

	(void)state;
	make_petition(&b, 1, "DN-TTR", "life-1");
	r = call_submit(&b.q, &hold);
	assert_int_equal(r->status, SUBMIT(ACCEPTED));
	snprintf(cn, sizeof(cn), "%s", r->case_number);
	cm_env_free(&hold);

	a.case_number = cn;
	acc.complexity = DONTHU__V1__COMPLEXITY__COMPLEXITY_NORMAL;
	a.action_case = DONTHU__V1__CASE_ACTION__ACTION_ACCEPT;
	a.accept = &acc;
	r = act(&a, "life-accept", &hold);
	assert_int_equal(r->status, SUBMIT(ACCEPTED));
	assert_int_equal(r->case_status, DONTHU__V1__CASE_STATUS__CASE_STATUS_ACCEPTED);
	cm_env_free(&hold);

	r = act(&a, "life-accept-again", &hold);
	assert_int_equal(r->status, SUBMIT(REJECTED));
	assert_string_equal(r->error->code, "invalid_transition");
	cm_env_free(&hold);

	a.action_case = DONTHU__V1__CASE_ACTION__ACTION_RESUME;
	a.resume = &res;
	r = act(&a, "life-resume", &hold);
	assert_int_equal(r->status, SUBMIT(REJECTED));
	assert_string_equal(r->error->code, "invalid_transition");
	cm_env_free(&hold);

	a.case_number = "DN-TTR-2026-999999";
	a.action_case = DONTHU__V1__CASE_ACTION__ACTION_ACCEPT;
	a.accept = &acc;
	r = act(&a, "life-unknown", &hold);
	assert_int_equal(r->status, SUBMIT(REJECTED));
	assert_string_equal(r->error->code, "unknown_case");
	cm_env_free(&hold);
}

static int file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	size_t n = strlen(needle), len;
	char *buf;
	int found;

	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = cm_xmalloc(len + 1);
	len = fread(buf, 1, len, f);
	fclose(f);
	found = memmem(buf, len, needle, n) != NULL;
	free(buf);
	return found;
}

struct raw_grep {
	int hits;
};

static void grep_event(const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct raw_grep *g = arg;

	(void)ev;
	if (memmem(raw, len, SECRET_NAME, strlen(SECRET_NAME)) ||
	    memmem(raw, len, SECRET_ID, strlen(SECRET_ID)) ||
	    memmem(raw, len, "Bí Mật", strlen("Bí Mật")))
		g->hits++;
}

/* No plaintext name or identity number in the LMDB files or on the feed;
 * the admin socket reveals it, with a reason, and leaves an audit record. */
static void test_identity_sealed_and_revealed(void **state)
{
	struct petition_buf b;
	cm_env *hold = NULL, req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
	Donthu__V1__RevealRequest rq = DONTHU__V1__REVEAL_REQUEST__INIT;
	struct raw_grep g = {0};
	uint64_t events = 0;
	char cn[80], *dbfile;

	(void)state;
	make_petition(&b, 1, "DN-TTR", "secret-1");
	assert_int_equal(call_submit(&b.q, &hold)->status, SUBMIT(ACCEPTED));
	snprintf(cn, sizeof(cn), "%s", hold->submit_reply->case_number);
	cm_env_free(&hold);

	dbfile = cm_xasprintf("%s/data/data.mdb", tmp);
	assert_false(file_contains(dbfile, SECRET_NAME));
	assert_false(file_contains(dbfile, SECRET_ID));
	assert_int_equal(svc_fetch_all(zctx, ep_feed, grep_event, &g, &events), 0);
	assert_true(events > 0);
	assert_int_equal(g.hits, 0);

	/* No reason, no reveal. */
	rq.case_number = cn;
	rq.requested_by = "inspector.le";
	rq.reason = "";
	req.schema_version = 1;
	req.body_case = DONTHU__V1__ENVELOPE__BODY_REVEAL;
	req.reveal = &rq;
	assert_int_equal(svc_call(zctx, ep_admin, &req, 5000, &rep), 0);
	assert_non_null(rep->control_reply);
	assert_false(rep->control_reply->ok);
	cm_env_free(&rep);

	rq.reason = "Quyết định xác minh số 12/QĐ-TTr: cần liên hệ người tố cáo";
	assert_int_equal(svc_call(zctx, ep_admin, &req, 5000, &rep), 0);
	assert_non_null(rep->reveal_reply);
	assert_int_equal(rep->reveal_reply->n_petitioners, 1);
	assert_string_equal(rep->reveal_reply->petitioners[0]->full_name, SECRET_NAME);
	assert_string_equal(rep->reveal_reply->petitioners[0]->id_number, SECRET_ID);
	cm_env_free(&rep);
	/* The audit trail names the case and who asked, in the store. */
	assert_true(file_contains(dbfile, "inspector.le"));
	free(dbfile);
}

struct find_bytes {
	const char *case_number;
	int found;
};

static void find_future(const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct find_bytes *f = arg;

	if (ev->case_number && strcmp(ev->case_number, f->case_number) == 0 &&
	    memmem(raw, len, "from-the-future", 15))
		f->found = 1;
}

/* A newer publisher's petition carries a field this version does not know:
 * it is accepted, and the field's bytes survive into the feed event. */
static void test_unknown_fields_survive(void **state)
{
	struct petition_buf b;
	Donthu__V1__Petition *pet = &b.p;
	ProtobufCMessageUnknownField uf;
	/* protobuf-c keeps a length-prefixed unknown field's bytes with their
	 * length prefix: 15, then the 15 bytes. */
	uint8_t data[] = "\x0f" "from-the-future";
	cm_env *hold = NULL;
	struct find_bytes fb = {0};
	uint64_t events;
	char cn[80];

	(void)state;
	make_petition(&b, 1, "DN-TTR", "future-1");
	uf.tag = 4000;
	uf.wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	uf.len = sizeof(data) - 1;
	uf.data = data;
	pet->base.n_unknown_fields = 1;
	pet->base.unknown_fields = &uf;
	if (call_submit(&b.q, &hold)->status != SUBMIT(ACCEPTED))
		fail_msg("rejected: %s %s %s", hold->submit_reply->error->code,
			 hold->submit_reply->error->field, hold->submit_reply->error->message);
	snprintf(cn, sizeof(cn), "%s", hold->submit_reply->case_number);
	cm_env_free(&hold);
	fb.case_number = cn;
	assert_int_equal(svc_fetch_all(zctx, ep_feed, find_future, &fb, &events), 0);
	assert_true(fb.found);
}

/* Out-of-range fetch parameters get an error naming the field. */
static void test_fetch_bounds(void **state)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
	Donthu__V1__FetchRequest f = DONTHU__V1__FETCH_REQUEST__INIT;

	(void)state;
	req.schema_version = 1;
	req.body_case = DONTHU__V1__ENVELOPE__BODY_FETCH;
	req.fetch = &f;
	f.from_seq = 1;
	f.max_events = 20000;
	assert_int_equal(svc_call(zctx, ep_feed, &req, 5000, &rep), 0);
	assert_non_null(rep->control_reply);
	assert_string_equal(rep->control_reply->error->field, "fetch.max_events");
	cm_env_free(&rep);
	f.max_events = 10;
	f.wait_ms = 70000;
	assert_int_equal(svc_call(zctx, ep_feed, &req, 5000, &rep), 0);
	assert_string_equal(rep->control_reply->error->field, "fetch.wait_ms");
	cm_env_free(&rep);
	f.from_seq = 0;
	f.wait_ms = 0;
	assert_int_equal(svc_call(zctx, ep_feed, &req, 5000, &rep), 0);
	assert_string_equal(rep->control_reply->error->field, "fetch.from_seq");
	cm_env_free(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input_over_the_wire),
		cmocka_unit_test(test_case_lifecycle),
		cmocka_unit_test(test_idempotent_across_restart),
		cmocka_unit_test(test_identity_sealed_and_revealed),
		cmocka_unit_test(test_pipelined_10000),
		cmocka_unit_test(test_sigkill_with_retries),
		cmocka_unit_test(test_unknown_fields_survive),
		cmocka_unit_test(test_fetch_bounds),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

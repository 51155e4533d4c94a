/*
 * routing_test - the real donthu-intake and donthu-routing binaries over
 * ipc:// sockets in a temporary directory, with the shipped register and
 * rules: petitions go in at intake, decisions come out on routing's feed.
 *
 *  - decisions: within and outside competence, a repeat, an anonymous
 *    denunciation, many signers, a delegation, an officer's reassignment;
 *  - SIGKILL routing again and again while intake keeps receiving: after
 *    the last restart every petition was routed exactly once.
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

static char *tmp;
static char ep_submit[300], ep_ifeed[300], ep_iadmin[300], ep_rfeed[300], ep_radmin[300];
static char *ienv[16], *renv[16];
static struct svc intake, routing;
static void *zctx;

static int setup(void **state)
{
	char *keys;

	(void)state;
	tmp = cm_test_tmpdir("routing-it");
	snprintf(ep_submit, sizeof(ep_submit), "ipc://%s/submit.sock", tmp);
	snprintf(ep_ifeed, sizeof(ep_ifeed), "ipc://%s/ifeed.sock", tmp);
	snprintf(ep_iadmin, sizeof(ep_iadmin), "ipc://%s/iadmin.sock", tmp);
	snprintf(ep_rfeed, sizeof(ep_rfeed), "ipc://%s/rfeed.sock", tmp);
	snprintf(ep_radmin, sizeof(ep_radmin), "ipc://%s/radmin.sock", tmp);
	keys = cm_xasprintf("%s/keys", tmp);
	svc_write_identity_key(keys);
	free(keys);
	ienv[0] = cm_xasprintf("DONTHU_INTAKE_DATA_DIR=%s/intake", tmp);
	ienv[1] = cm_xasprintf("DONTHU_INTAKE_LISTEN=%s", ep_submit);
	ienv[2] = cm_xasprintf("DONTHU_INTAKE_FEED_LISTEN=%s", ep_ifeed);
	ienv[3] = cm_xasprintf("DONTHU_INTAKE_ADMIN_LISTEN=%s", ep_iadmin);
	ienv[4] = cm_xasprintf("DONTHU_INTAKE_HTTP_PORT=0");
	ienv[5] = cm_xasprintf("DONTHU_INTAKE_REGISTER_DIR=%s", DONTHU_DATA_DIR "/register");
	ienv[6] = cm_xasprintf("DONTHU_INTAKE_IDENTITY_KEYS_DIR=%s/keys", tmp);
	ienv[7] = cm_xasprintf("DONTHU_INTAKE_CLOCK=simulated");
	ienv[8] = cm_xasprintf("DONTHU_INTAKE_CLOCK_START=2026-03-20T09:00:00+07:00");
	ienv[9] = cm_xasprintf("DONTHU_LOG=warn");
	ienv[10] = NULL;
	renv[0] = cm_xasprintf("DONTHU_ROUTING_DATA_DIR=%s/routing", tmp);
	renv[1] = cm_xasprintf("DONTHU_ROUTING_FEED_LISTEN=%s", ep_rfeed);
	renv[2] = cm_xasprintf("DONTHU_ROUTING_ADMIN_LISTEN=%s", ep_radmin);
	renv[3] = cm_xasprintf("DONTHU_ROUTING_INTAKE_FEED=%s", ep_ifeed);
	renv[4] = cm_xasprintf("DONTHU_ROUTING_HTTP_PORT=0");
	renv[5] = cm_xasprintf("DONTHU_ROUTING_REGISTER_DIR=%s", DONTHU_DATA_DIR "/register");
	renv[6] = cm_xasprintf("DONTHU_ROUTING_RULES_FILE=%s", DONTHU_DATA_DIR "/routing/rules.json");
	renv[7] = cm_xasprintf("DONTHU_ROUTING_CLOCK=simulated");
	renv[8] = cm_xasprintf("DONTHU_ROUTING_CLOCK_START=2026-03-20T09:00:00+07:00");
	renv[9] = cm_xasprintf("DONTHU_ROUTING_FETCH_WAIT_MS=200");
	renv[10] = cm_xasprintf("DONTHU_LOG=warn");
	/* Small batches: many commits, so a SIGKILL lands among them. */
	renv[11] = cm_xasprintf("DONTHU_ROUTING_FETCH_MAX=8");
	renv[12] = NULL;
	intake.bin = DONTHU_INTAKE_BIN;
	intake.env = ienv;
	snprintf(intake.log, sizeof(intake.log), "%s/intake.log", tmp);
	routing.bin = DONTHU_ROUTING_BIN;
	routing.env = renv;
	snprintf(routing.log, sizeof(routing.log), "%s/routing.log", tmp);
	zctx = zmq_ctx_new();
	assert_int_equal(svc_start(&intake, ep_iadmin), 0);
	assert_int_equal(svc_start(&routing, ep_radmin), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(svc_stop(&routing), 0);
	assert_int_equal(svc_stop(&intake), 0);
	zmq_ctx_term(zctx);
	if (getenv("KEEP_TMP") == NULL)
		cm_test_rmrf(tmp);
	else
		fprintf(stderr, "kept %s\n", tmp);
	for (int i = 0; ienv[i]; i++)
		free(ienv[i]);
	for (int i = 0; renv[i]; i++)
		free(renv[i]);
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
	char sid[48], name[64], id[16];
};

/* A petition from person number `who` (same number, same identity, so the
 * same pseudonym on the feed). */
static void make(struct pet *b, uint64_t request_id, const char *sid, int kind,
		 const char *receiving, unsigned who, const char *summary, const char *text)
{
	memset(b, 0, sizeof(*b));
	donthu__v1__submit_request__init(&b->q);
	donthu__v1__idempotency_key__init(&b->key);
	donthu__v1__petition__init(&b->p);
	donthu__v1__person__init(&b->person);
	donthu__v1__respondent__init(&b->resp);
	snprintf(b->sid, sizeof(b->sid), "%s", sid);
	snprintf(b->name, sizeof(b->name), "Công dân số %u", who);
	snprintf(b->id, sizeof(b->id), "0799%08u", who);
	b->key.source_system = "test.routing";
	b->key.source_id = b->sid;
	b->person.full_name = b->name;
	b->person.id_kind = DONTHU__V1__ID_KIND__ID_KIND_CCCD;
	b->person.id_number = b->id;
	b->person.address = "12 Lê Duẩn, phường Hải Châu";
	b->people[0] = &b->person;
	b->p.channel = DONTHU__V1__CHANNEL__CHANNEL_POST;
	b->p.received_at_ms = cm_day_start_ms(cm_day_from_ymd(2026, 3, 16)) + 9 * 3600 * 1000;
	b->p.receiving_agency = (char *)receiving;
	b->p.kind = (Donthu__V1__PetitionKind)kind;
	b->p.n_petitioners = 1;
	b->p.petitioners = b->people;
	b->p.signer_count = 1;
	b->p.summary = (char *)summary;
	b->p.text = (char *)text;
	b->p.signed_ = 1;
	b->q.request_id = request_id;
	b->q.key = &b->key;
	b->q.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_PETITION;
	b->q.petition = &b->p;
}

static void as_complaint(struct pet *b, const char *issuing)
{
	b->p.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_COMPLAINT;
	b->p.complaint_subject =
		DONTHU__V1__COMPLAINT_SUBJECT__COMPLAINT_SUBJECT_ADMINISTRATIVE_DECISION;
	b->p.round = DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_FIRST;
	b->resp.name = "Chủ tịch UBND phường Hải Châu";
	b->resp.issuing_agency = (char *)issuing;
	b->resp.decision_number = "123/QĐ-UBND";
	b->p.respondent = &b->resp;
}

static void as_denunciation(struct pet *b, const char *managing)
{
	b->p.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_DENUNCIATION;
	b->resp.name = "Ông Trần Văn Bình";
	b->resp.managing_agency = (char *)managing;
	b->p.respondent = &b->resp;
}

static void wrap(cm_env *env, Donthu__V1__SubmitRequest *q)
{
	donthu__v1__envelope__init(env);
	env->schema_version = 1;
	env->body_case = BODY(SUBMIT);
	env->submit = q;
}

/* Submit and return the case number (static buffer per call site). */
static void submit(Donthu__V1__SubmitRequest *q, char *case_number, size_t cap)
{
	cm_env env, *rep = NULL;

	wrap(&env, q);
	assert_int_equal(svc_call(zctx, ep_submit, &env, 5000, &rep), 0);
	assert_non_null(rep->submit_reply);
	if (rep->submit_reply->status != SUBMIT(ACCEPTED))
		fail_msg("submission %s not accepted: %s %s", q->key->source_id,
			 rep->submit_reply->error ? rep->submit_reply->error->code : "",
			 rep->submit_reply->error ? rep->submit_reply->error->message : "");
	snprintf(case_number, cap, "%s", rep->submit_reply->case_number);
	cm_env_free(&rep);
}

static uint64_t status_of_within(const char *ep, uint64_t *applied, int timeout_ms)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
	Donthu__V1__StatusRequest st = DONTHU__V1__STATUS_REQUEST__INIT;
	uint64_t head = 0;

	req.schema_version = 1;
	req.body_case = BODY(STATUS);
	req.status = &st;
	if (svc_call(zctx, ep, &req, timeout_ms, &rep) != 0)
		return UINT64_MAX;
	if (rep->status_reply) {
		head = rep->status_reply->feed_head;
		if (applied)
			*applied = rep->status_reply->n_consumers
					   ? rep->status_reply->consumers[0]->applied_seq
					   : 0;
	}
	cm_env_free(&rep);
	return head;
}

static uint64_t status_of(const char *ep, uint64_t *applied)
{
	return status_of_within(ep, applied, 2000);
}

/* Wait until routing has applied everything intake has on its feed. */
static void wait_caught_up(void)
{
	uint64_t ihead = status_of(ep_iadmin, NULL);

	assert_true(ihead != UINT64_MAX);
	for (int i = 0; i < 600; i++) {
		uint64_t applied = 0;
		if (status_of(ep_radmin, &applied) != UINT64_MAX && applied >= ihead)
			return;
		usleep(50000);
	}
	fail_msg("routing did not catch up with intake (head %" PRIu64 ")", ihead);
}

/* ---------------------------------------------------------- decisions --- */

struct seen {
	char lines[64][256];
	size_t n;
	const char *cases[8];
	size_t ncases;
};

static void describe_cb(const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct seen *s = arg;
	char *l;

	(void)raw;
	(void)len;
	for (size_t i = 0; i < s->ncases; i++) {
		if (strcmp(ev->case_number, s->cases[i]) != 0 || s->n >= 64)
			continue;
		l = s->lines[s->n++];
		switch (ev->body_case) {
		case BODY(CLASSIFIED):
			snprintf(l, 256, "%zu classified within=%d eligible=%d rule=%s", i,
				 ev->classified->within_competence, ev->classified->eligible,
				 ev->classified->rule_id);
			break;
		case BODY(ASSIGNED):
			snprintf(l, 256, "%zu assigned %s reason=%d rule=%s", i, ev->assigned->agency,
				 ev->assigned->reason, ev->assigned->rule_id);
			break;
		case BODY(TRANSFERRED):
			snprintf(l, 256, "%zu transferred %s->%s kind=%d due=%u rule=%s", i,
				 ev->transferred->from_agency, ev->transferred->to_agency,
				 ev->transferred->kind, ev->transferred->due_working_days,
				 ev->transferred->rule_id);
			break;
		case BODY(FILED):
			snprintf(l, 256, "%zu filed reason=%d rule=%s", i, ev->filed->reason,
				 ev->filed->rule_id);
			break;
		case BODY(DUPLICATE_LINKED):
			snprintf(l, 256, "%zu linked to=%s repeat=%d", i,
				 strcmp(ev->duplicate_linked->original_case, s->cases[0]) == 0
					 ? "case0"
					 : ev->duplicate_linked->original_case,
				 ev->duplicate_linked->repeat);
			break;
		case BODY(FLAGGED):
			snprintf(l, 256, "%zu flagged kind=%d count=%u rule=%s", i, ev->flagged->kind,
				 ev->flagged->count, ev->flagged->rule_id);
			break;
		default:
			snprintf(l, 256, "%zu other", i);
		}
	}
}

static bool has_line(const struct seen *s, const char *want)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->lines[i], want) == 0)
			return true;
	return false;
}

static const char *land = "Gia đình tôi nhận quyết định thu hồi đất số 123/QĐ-UBND đối với thửa "
			  "đất số 45, tờ bản đồ số 7. Mức bồi thường thấp hơn nhiều so với giá "
			  "thị trường. Đề nghị xem xét lại giá bồi thường và bố trí tái định cư.";
static const char *land2 = "Mức đền bù thấp hơn nhiều so với giá thị trường. Gia đình tôi nhận "
			   "quyết định thu hồi đất số 123/QĐ-UBND đối với thửa đất số 45, tờ bản "
			   "đồ số 7. Yêu cầu xem xét lại giá bồi thường và bố trí tái định cư.";

static void test_decisions(void **state)
{
	struct pet b;
	char c[7][80];
	struct seen s = {0};
	uint64_t count = 0;

	(void)state;
	/* 0: a complaint at the commune whose decision it is. */
	make(&b, 1, "d-0", 0, "UBND-20242", 1, "Khiếu nại giá bồi thường", land);
	as_complaint(&b, "UBND-20242");
	submit(&b.q, c[0], sizeof(c[0]));
	/* 1: a denunciation at the inspectorate about a hospital official. */
	make(&b, 2, "d-1", 0, "DN-TTR", 2, "Tố cáo nhận tiền", "Bác sĩ khoa nội nhận tiền của "
							     "người bệnh để xếp giường.");
	as_denunciation(&b, "DN-SYT");
	submit(&b.q, c[1], sizeof(c[1]));
	/* 2: the same complaint again, reworded, by the same person. */
	make(&b, 3, "d-2", 0, "UBND-20242", 1, "Khiếu nại giá đền bù", land2);
	as_complaint(&b, "UBND-20242");
	b.p.received_at_ms += 2 * CM_DAY_MS;
	submit(&b.q, c[2], sizeof(c[2]));
	/* 3: an anonymous denunciation with nothing to verify. */
	make(&b, 4, "d-3", 0, "UBND-20242", 0, "Tố cáo", "Cán bộ phường làm sai.");
	as_denunciation(&b, "UBND-20242");
	b.p.anonymous = 1;
	b.p.n_petitioners = 0;
	b.p.signed_ = 0;
	submit(&b.q, c[3], sizeof(c[3]));
	/* 4: feedback signed by six people about a local matter. */
	make(&b, 5, "d-4", DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK, "DN-UBND", 5,
	     "Cống thoát nước tắc", "Cống thoát nước trên đường Hoàng Diệu tắc, mưa là ngập.");
	b.p.signer_count = 6;
	b.p.field = "moi-truong";
	b.p.location_unit = "20242";
	submit(&b.q, c[4], sizeof(c[4]));
	/* 5: a delegation of eight at the reception desk. */
	make(&b, 6, "d-5", DONTHU__V1__PETITION_KIND__PETITION_KIND_RECOMMENDATION, "UBND-20257", 6,
	     "Kiến nghị sửa trường", "Dãy phòng học xuống cấp, đề nghị sửa chữa.");
	b.p.channel = DONTHU__V1__CHANNEL__CHANNEL_IN_PERSON;
	b.p.delegation_size = 8;
	b.p.signer_count = 8;
	b.p.field = "giao-duc";
	submit(&b.q, c[5], sizeof(c[5]));
	/* An officer moves the denunciation to the finance department. */
	{
		Donthu__V1__SubmitRequest q = DONTHU__V1__SUBMIT_REQUEST__INIT;
		Donthu__V1__IdempotencyKey k = DONTHU__V1__IDEMPOTENCY_KEY__INIT;
		Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
		Donthu__V1__Reassign re = DONTHU__V1__REASSIGN__INIT;

		k.source_system = "test.routing";
		k.source_id = "d-act";
		re.to_agency = "DN-STC";
		re.reason = "nội dung thuộc lĩnh vực tài chính";
		a.case_number = c[1];
		a.effective_at_ms = cm_day_start_ms(cm_day_from_ymd(2026, 3, 18)) + 3600000;
		a.action_case = DONTHU__V1__CASE_ACTION__ACTION_REASSIGN;
		a.reassign = &re;
		q.request_id = 7;
		q.key = &k;
		q.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_ACTION;
		q.action = &a;
		submit(&q, c[6], sizeof(c[6]));
	}
	wait_caught_up();
	for (int i = 0; i < 6; i++)
		s.cases[s.ncases++] = c[i];
	assert_int_equal(svc_fetch_all(zctx, ep_rfeed, describe_cb, &s, &count), 0);
	for (size_t i = 0; i < s.n; i++)
		printf("  %s\n", s.lines[i]);
	assert_true(has_line(&s, "0 classified within=1 eligible=1 rule=elig.ok"));
	assert_true(has_line(&s, "0 assigned UBND-20242 reason=1 rule=comp.kn.first_round"));
	assert_true(has_line(&s, "1 classified within=0 eligible=1 rule=elig.ok"));
	assert_true(has_line(&s, "1 transferred DN-TTR->DN-SYT kind=2 due=5 rule=h.tc.forward"));
	assert_true(has_line(&s, "1 assigned DN-STC reason=2 rule=act.reassign"));
	assert_true(has_line(&s, "2 linked to=case0 repeat=1"));
	assert_true(has_line(&s, "2 filed reason=4 rule=h.repeat.open"));
	assert_true(has_line(&s, "3 classified within=1 eligible=0 rule=elig.anonymous_unverifiable"));
	assert_true(has_line(&s, "3 flagged kind=6 count=1 rule=flag.anonymous_unverifiable"));
	assert_true(has_line(&s, "3 filed reason=5 rule=h.file.anonymous"));
	assert_true(has_line(&s, "4 flagged kind=1 count=6 rule=flag.many_signers"));
	assert_true(has_line(&s, "4 transferred DN-UBND->UBND-20242 kind=2 due=0 rule=h.knpa.forward"));
	assert_true(has_line(&s, "5 flagged kind=2 count=8 rule=flag.delegation"));
	assert_true(has_line(&s, "5 transferred UBND-20257->DN-SGDDT kind=2 due=0 rule=h.knpa.forward"));
}

/* ---------------------------------------------------- kill and restart --- */

struct once {
	unsigned *classified, *outcome;
	char **cases;
	size_t n;
	uint64_t events;
};

static long find_case(const struct once *o, const char *num)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->cases[i], num) == 0)
			return (long)i;
	return -1;
}

static void once_cb(const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct once *o = arg;
	long i;

	(void)raw;
	(void)len;
	o->events++;
	if (strncmp(ev->case_number, "UBND-20209-", 11) != 0 || (i = find_case(o, ev->case_number)) < 0)
		return;
	if (ev->body_case == BODY(CLASSIFIED))
		o->classified[i]++;
	else if (ev->body_case == BODY(ASSIGNED) || ev->body_case == BODY(TRANSFERRED) ||
		 ev->body_case == BODY(FILED))
		o->outcome[i]++;
}

/* Submit petitions [from, from + n) and wait for every answer. */
static void submit_chunk(void *sock, size_t from, size_t n, struct once *o)
{
	enum { WINDOW = 128 };
	size_t sent = from, got = 0;
	char text[600];

	while (got < n) {
		zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};

		while (sent < from + n && sent - from - got < WINDOW) {
			struct pet b;
			char sid[32];
			cm_env env;
			zmq_msg_t m;

			snprintf(sid, sizeof(sid), "k-%zu", sent);
			snprintf(text, sizeof(text),
				 "Đơn số %zu: cống thoát nước tổ %zu bị tắc, nước tràn vào nhà dân "
				 "mỗi khi mưa lớn, đề nghị nạo vét và sửa chữa sớm.",
				 sent, sent % 97);
			make(&b, sent + 1, sid, DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK,
			     "UBND-20209", (unsigned)(1000 + sent), "Cống thoát nước tắc", text);
			b.p.field = sent % 2 ? "moi-truong" : "giao-duc";
			b.p.location_unit = "20209";
			wrap(&env, &b.q);
			assert_int_equal(cm_env_pack_msg(&env, &m), 0);
			assert_true(zmq_msg_send(&m, sock, 0) >= 0);
			sent++;
		}
		assert_true(zmq_poll(&it, 1, 10000) > 0);
		for (;;) {
			zmq_msg_t m;
			cm_env *rep = NULL;

			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
				zmq_msg_close(&m);
				break;
			}
			assert_int_equal(cm_env_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &rep), 0);
			assert_non_null(rep->submit_reply);
			assert_int_equal(rep->submit_reply->status, SUBMIT(ACCEPTED));
			o->cases[o->n++] = cm_xstrdup(rep->submit_reply->case_number);
			got++;
			cm_env_free(&rep);
			zmq_msg_close(&m);
		}
	}
}

/* Intake keeps receiving while routing is down; routing is started on the
 * backlog and SIGKILLed a few milliseconds later, wherever it is (it
 * commits every 8 events here, so the kill lands between or inside its
 * transactions), then started again. */
static void test_sigkill_exactly_once(void **state)
{
	enum { N = 4000, CHUNK = 400 };
	struct once o = {0};
	void *sock;
	int linger = 0, kills = 0, behind = 0;
	uint64_t count = 0;

	(void)state;
	o.cases = cm_xcalloc(N, sizeof(char *));
	o.classified = cm_xcalloc(N, sizeof(unsigned));
	o.outcome = cm_xcalloc(N, sizeof(unsigned));
	sock = zmq_socket(zctx, ZMQ_DEALER);
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_connect(sock, ep_submit), 0);
	srand(20261127);
	for (size_t from = 0; from < N; from += CHUNK) {
		uint64_t applied = 0, head;

		svc_kill(&routing);
		submit_chunk(sock, from, CHUNK, &o);
		head = status_of(ep_iadmin, NULL);
		assert_int_equal(svc_spawn(&routing), 0);
		usleep((useconds_t)(10000 + rand() % 60000));
		/* Not asserted (timing): whether the kill finds work left. */
		if (status_of_within(ep_radmin, &applied, 20) != UINT64_MAX && applied < head)
			behind++;
		svc_kill(&routing);
		kills++;
		assert_int_equal(svc_start(&routing, ep_radmin), 0);
	}
	zmq_close(sock);
	wait_caught_up();
	assert_int_equal(svc_fetch_all(zctx, ep_rfeed, once_cb, &o, &count), 0);
	printf("SIGKILLed routing %d times during %d petitions (%d of the kills came while it "
	       "still had intake events to apply); routing feed holds %" PRIu64 " events\n",
	       kills, N, behind, count);
	assert_int_equal(o.n, N);
	for (size_t i = 0; i < o.n; i++) {
		if (o.classified[i] != 1 || o.outcome[i] != 1)
			fail_msg("case %s: classified %u times, decided %u times", o.cases[i],
				 o.classified[i], o.outcome[i]);
		free(o.cases[i]);
	}
	free(o.cases);
	free(o.classified);
	free(o.outcome);
}

/* ------------------------------------------------------------- CURVE --- */

static void write_key(const char *dir, const char *name, const char *text)
{
	cm_test_write_file(dir, name, text);
}

/* As deployed (deploy/routing.conf): routing is a CURVE client of intake's
 * feed and a CURVE server of its own; a client without an allowed key gets
 * nothing. */
static void test_curve(void **state)
{
	char in_pub[41], in_sec[41], rt_pub[41], rt_sec[41], cl_pub[41], cl_sec[41];
	char *dir = cm_xasprintf("%s/curve", tmp), *allow;
	char sub[300], ifeed[300], iadm[300], rfeed[300], radm[300];
	char *ie[14], *re[16];
	struct svc in2 = {.bin = DONTHU_INTAKE_BIN}, rt2 = {.bin = DONTHU_ROUTING_BIN};
	struct pet b;
	cm_env req, *rep = NULL;
	Donthu__V1__FetchRequest f = DONTHU__V1__FETCH_REQUEST__INIT;
	bool routed = false;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	zmq_curve_keypair(in_pub, in_sec);
	zmq_curve_keypair(rt_pub, rt_sec);
	zmq_curve_keypair(cl_pub, cl_sec);
	write_key(dir, "intake.secret", in_sec);
	write_key(dir, "intake.public", in_pub);
	write_key(dir, "routing.secret", rt_sec);
	allow = cm_xasprintf("%s\n%s\n", rt_pub, cl_pub);
	write_key(dir, "allow", allow);
	free(allow);
	snprintf(sub, sizeof(sub), "ipc://%s/submit.sock", dir);
	snprintf(ifeed, sizeof(ifeed), "ipc://%s/ifeed.sock", dir);
	snprintf(iadm, sizeof(iadm), "ipc://%s/iadmin.sock", dir);
	snprintf(rfeed, sizeof(rfeed), "ipc://%s/rfeed.sock", dir);
	snprintf(radm, sizeof(radm), "ipc://%s/radmin.sock", dir);
	ie[0] = cm_xasprintf("DONTHU_INTAKE_DATA_DIR=%s/intake", dir);
	ie[1] = cm_xasprintf("DONTHU_INTAKE_LISTEN=%s", sub);
	ie[2] = cm_xasprintf("DONTHU_INTAKE_FEED_LISTEN=%s", ifeed);
	ie[3] = cm_xasprintf("DONTHU_INTAKE_ADMIN_LISTEN=%s", iadm);
	ie[4] = cm_xasprintf("DONTHU_INTAKE_HTTP_PORT=0");
	ie[5] = cm_xasprintf("DONTHU_INTAKE_REGISTER_DIR=%s", DONTHU_DATA_DIR "/register");
	ie[6] = cm_xasprintf("DONTHU_INTAKE_IDENTITY_KEYS_DIR=%s/keys", tmp);
	ie[7] = cm_xasprintf("DONTHU_INTAKE_CURVE_SECRET_FILE=%s/intake.secret", dir);
	ie[8] = cm_xasprintf("DONTHU_INTAKE_CURVE_ALLOW_FILE=%s/allow", dir);
	ie[9] = cm_xasprintf("DONTHU_INTAKE_CLOCK=simulated");
	ie[10] = cm_xasprintf("DONTHU_INTAKE_CLOCK_START=2026-03-20T09:00:00+07:00");
	ie[11] = cm_xasprintf("DONTHU_LOG=warn");
	ie[12] = NULL;
	re[0] = cm_xasprintf("DONTHU_ROUTING_DATA_DIR=%s/routing", dir);
	re[1] = cm_xasprintf("DONTHU_ROUTING_FEED_LISTEN=%s", rfeed);
	re[2] = cm_xasprintf("DONTHU_ROUTING_ADMIN_LISTEN=%s", radm);
	re[3] = cm_xasprintf("DONTHU_ROUTING_INTAKE_FEED=%s", ifeed);
	re[4] = cm_xasprintf("DONTHU_ROUTING_HTTP_PORT=0");
	re[5] = cm_xasprintf("DONTHU_ROUTING_REGISTER_DIR=%s", DONTHU_DATA_DIR "/register");
	re[6] = cm_xasprintf("DONTHU_ROUTING_RULES_FILE=%s", DONTHU_DATA_DIR "/routing/rules.json");
	re[7] = cm_xasprintf("DONTHU_ROUTING_CURVE_SECRET_FILE=%s/routing.secret", dir);
	re[8] = cm_xasprintf("DONTHU_ROUTING_CURVE_ALLOW_FILE=%s/allow", dir);
	re[9] = cm_xasprintf("DONTHU_ROUTING_INTAKE_CURVE_PUBLIC_FILE=%s/intake.public", dir);
	re[10] = cm_xasprintf("DONTHU_ROUTING_FETCH_WAIT_MS=200");
	re[11] = cm_xasprintf("DONTHU_LOG=warn");
	re[12] = NULL;
	in2.env = ie;
	rt2.env = re;
	snprintf(in2.log, sizeof(in2.log), "%s/intake.log", dir);
	snprintf(rt2.log, sizeof(rt2.log), "%s/routing.log", dir);
	assert_int_equal(svc_start(&in2, iadm), 0);
	assert_int_equal(svc_start(&rt2, radm), 0);

	make(&b, 1, "curve-1", 0, "UBND-20242", 1, "Khiếu nại giá bồi thường", land);
	as_complaint(&b, "UBND-20242");
	wrap(&req, &b.q);
	assert_int_equal(svc_call_curve(zctx, sub, in_pub, cl_pub, cl_sec, &req, 5000, &rep), 0);
	assert_int_equal(rep->submit_reply->status, SUBMIT(ACCEPTED));
	cm_env_free(&rep);
	donthu__v1__envelope__init(&req);
	f.from_seq = 1;
	f.max_events = 100;
	req.schema_version = 1;
	req.body_case = BODY(FETCH);
	req.fetch = &f;
	for (int i = 0; i < 100 && !routed; i++) {
		assert_int_equal(svc_call_curve(zctx, rfeed, rt_pub, cl_pub, cl_sec, &req, 3000, &rep),
				 0);
		assert_non_null(rep->fetch_reply);
		routed = rep->fetch_reply->n_events >= 2; /* Classified, Assigned */
		cm_env_free(&rep);
		if (!routed)
			usleep(100000);
	}
	assert_true(routed);
	/* Without an allowed key: no answer at all. */
	assert_true(svc_call(zctx, rfeed, &req, 500, &rep) != 0);
	assert_true(svc_call_curve(zctx, rfeed, rt_pub, in_pub, in_sec, &req, 500, &rep) != 0);
	assert_int_equal(svc_stop(&rt2), 0);
	assert_int_equal(svc_stop(&in2), 0);
	for (int i = 0; ie[i]; i++)
		free(ie[i]);
	for (int i = 0; re[i]; i++)
		free(re[i]);
	free(dir);
}

/* ------------------------------------------------------------ reload --- */

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = cm_xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static cm_env *reload(const char *ep)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
	Donthu__V1__ReloadRequest rr = DONTHU__V1__RELOAD_REQUEST__INIT;

	rr.what = "register";
	req.schema_version = 1;
	req.body_case = BODY(RELOAD);
	req.reload = &rr;
	assert_int_equal(svc_call(zctx, ep, &req, 5000, &rep), 0);
	assert_non_null(rep->control_reply);
	return rep;
}

struct rehomed {
	const char *case_number;
	int seen;
};

static void rehomed_cb(const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct rehomed *x = arg;

	(void)raw;
	(void)len;
	if (ev->body_case == BODY(ASSIGNED) && strcmp(ev->case_number, x->case_number) == 0 &&
	    ev->assigned->reason == DONTHU__V1__ASSIGN_REASON__ASSIGN_REASON_REHOMED &&
	    strcmp(ev->assigned->agency, "UBND-20242") == 0 &&
	    strcmp(ev->assigned->previous_agency, "UBND-20257") == 0 &&
	    strcmp(ev->assigned->rule_id, "org.rehome") == 0)
		x->seen++;
}

/* The operator reloads a register in which a ward has merged into its
 * neighbour: the open case there moves to the successor. A malformed file
 * is refused and changes nothing. */
static void test_reload_rehomes(void **state)
{
	static const char *const files[] = {"fields.csv", "units.csv", "agencies.csv"};
	char *dir = cm_xasprintf("%s/reload", tmp), *reg = cm_xasprintf("%s/reload/reg", tmp);
	char *agencies, *p, *edited, *re[14], rfeed[300], radm[300], num[80];
	struct svc rt3 = {.bin = DONTHU_ROUTING_BIN};
	struct rehomed x = {.case_number = num};
	struct pet b;
	uint64_t count = 0;
	cm_env *rep;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(reg, 0700), 0);
	for (size_t i = 0; i < CM_ARRAY_LEN(files); i++) {
		char *src = cm_xasprintf("%s/register/%s", DONTHU_DATA_DIR, files[i]);
		char *text = read_all(src);
		cm_test_write_file(reg, files[i], text);
		free(text);
		free(src);
	}
	snprintf(rfeed, sizeof(rfeed), "ipc://%s/rfeed.sock", dir);
	snprintf(radm, sizeof(radm), "ipc://%s/radmin.sock", dir);
	re[0] = cm_xasprintf("DONTHU_ROUTING_DATA_DIR=%s/routing", dir);
	re[1] = cm_xasprintf("DONTHU_ROUTING_FEED_LISTEN=%s", rfeed);
	re[2] = cm_xasprintf("DONTHU_ROUTING_ADMIN_LISTEN=%s", radm);
	re[3] = cm_xasprintf("DONTHU_ROUTING_INTAKE_FEED=%s", ep_ifeed);
	re[4] = cm_xasprintf("DONTHU_ROUTING_HTTP_PORT=0");
	re[5] = cm_xasprintf("DONTHU_ROUTING_REGISTER_DIR=%s", reg);
	re[6] = cm_xasprintf("DONTHU_ROUTING_RULES_FILE=%s", DONTHU_DATA_DIR "/routing/rules.json");
	re[7] = cm_xasprintf("DONTHU_ROUTING_CLOCK=simulated");
	re[8] = cm_xasprintf("DONTHU_ROUTING_CLOCK_START=2026-03-20T09:00:00+07:00");
	re[9] = cm_xasprintf("DONTHU_ROUTING_FETCH_WAIT_MS=200");
	re[10] = cm_xasprintf("DONTHU_LOG=warn");
	re[11] = NULL;
	rt3.env = re;
	snprintf(rt3.log, sizeof(rt3.log), "%s/routing.log", dir);
	assert_int_equal(svc_start(&rt3, radm), 0);

	make(&b, 1, "reload-1", 0, "UBND-20257", 77, "Khiếu nại giá bồi thường", land);
	as_complaint(&b, "UBND-20257");
	submit(&b.q, num, sizeof(num));
	for (int i = 0; i < 200; i++) {
		uint64_t applied = 0;
		if (status_of_within(radm, &applied, 2000) != UINT64_MAX &&
		    applied >= status_of(ep_iadmin, NULL))
			break;
		usleep(50000);
	}

	/* A broken register: refused, the loaded one stays. */
	agencies = read_all(DONTHU_DATA_DIR "/register/agencies.csv");
	p = cm_xasprintf("%sBROKEN,Broken,no-such-level,,,,,,,x\n", agencies);
	cm_test_write_file(reg, "agencies.csv", p);
	free(p);
	rep = reload(radm);
	assert_false(rep->control_reply->ok);
	assert_non_null(rep->control_reply->error);
	assert_string_equal(rep->control_reply->error->code, "reload_failed");
	cm_env_free(&rep);

	/* Phường Hòa Cường ends on 19 March 2026 and merges into Hải Châu. */
	p = strstr(agencies, "\nUBND-20257,");
	assert_non_null(p);
	p = strstr(p, ",2025-07-01,,,");
	assert_non_null(p);
	*p = '\0';
	edited = cm_xasprintf("%s,2025-07-01,2026-03-19,UBND-20242,%s", agencies,
			      p + strlen(",2025-07-01,,,"));
	cm_test_write_file(reg, "agencies.csv", edited);
	rep = reload(radm);
	if (!rep->control_reply->ok)
		fail_msg("reload refused: %s", rep->control_reply->error->message);
	assert_non_null(strstr(rep->control_reply->detail, "1 open case(s) re-homed"));
	cm_env_free(&rep);
	assert_int_equal(svc_fetch_all(zctx, rfeed, rehomed_cb, &x, &count), 0);
	assert_int_equal(x.seen, 1);
	assert_int_equal(svc_stop(&rt3), 0);

	free(agencies);
	free(edited);
	for (int i = 0; re[i]; i++)
		free(re[i]);
	free(reg);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_rehomes),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_sigkill_exactly_once),
		cmocka_unit_test(test_curve),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * report_test - the real donthu-intake and donthu-report binaries over ipc://
 * sockets in a temporary directory.
 *
 * The report service consumes intake's feed (routing and deadline disabled by
 * empty endpoints) while petitions stream in; it is SIGKILLed and restarted
 * again and again mid-stream, with a tiny fetch size so kills land inside
 * batches. At the end the report's totals equal what intake accepted: every
 * event was applied exactly once.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
static char ep_submit[300], ep_feed[300], ep_iadmin[300], ep_query[300], ep_radmin[300];
static char *ienv[16], *renv[16];
static struct svc intake, report;
static void *zctx;

static const char *const agencies[] = {"DN-TTR", "UBND-20242", "UBND-20257", "DN-SNNMT"};

static int setup(void **state)
{
	int n = 0;

	(void)state;
	tmp = cm_test_tmpdir("report-int");
	snprintf(ep_submit, sizeof(ep_submit), "ipc://%s/submit.sock", tmp);
	snprintf(ep_feed, sizeof(ep_feed), "ipc://%s/feed.sock", tmp);
	snprintf(ep_iadmin, sizeof(ep_iadmin), "ipc://%s/intake-admin.sock", tmp);
	snprintf(ep_query, sizeof(ep_query), "ipc://%s/report.sock", tmp);
	snprintf(ep_radmin, sizeof(ep_radmin), "ipc://%s/report-admin.sock", tmp);
	{
		char *keys = cm_xasprintf("%s/keys", tmp);
		svc_write_identity_key(keys);
		free(keys);
	}
	/* A private copy of the forms, so a test can break it and reload. */
	{
		char *cmd = cm_xasprintf("mkdir -p %s/forms && cp %s/forms/*.json %s/forms/", tmp,
					 DONTHU_DATA_DIR, tmp);
		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	ienv[n++] = cm_xasprintf("DONTHU_INTAKE_DATA_DIR=%s/intake", tmp);
	ienv[n++] = cm_xasprintf("DONTHU_INTAKE_LISTEN=%s", ep_submit);
	ienv[n++] = cm_xasprintf("DONTHU_INTAKE_FEED_LISTEN=%s", ep_feed);
	ienv[n++] = cm_xasprintf("DONTHU_INTAKE_ADMIN_LISTEN=%s", ep_iadmin);
	ienv[n++] = cm_xasprintf("DONTHU_INTAKE_HTTP_PORT=0");
	ienv[n++] = cm_xasprintf("DONTHU_INTAKE_REGISTER_DIR=%s", DONTHU_DATA_DIR "/register");
	ienv[n++] = cm_xasprintf("DONTHU_INTAKE_IDENTITY_KEYS_DIR=%s/keys", tmp);
	ienv[n++] = cm_xasprintf("DONTHU_INTAKE_CLOCK=simulated");
	ienv[n++] = cm_xasprintf("DONTHU_INTAKE_CLOCK_START=2026-03-10T09:00:00+07:00");
	ienv[n++] = cm_xasprintf("DONTHU_LOG=warn");
	ienv[n] = NULL;
	n = 0;
	renv[n++] = cm_xasprintf("DONTHU_REPORT_DATA_DIR=%s/report", tmp);
	renv[n++] = cm_xasprintf("DONTHU_REPORT_LISTEN=%s", ep_query);
	renv[n++] = cm_xasprintf("DONTHU_REPORT_ADMIN_LISTEN=%s", ep_radmin);
	renv[n++] = cm_xasprintf("DONTHU_REPORT_HTTP_PORT=0");
	renv[n++] = cm_xasprintf("DONTHU_REPORT_REGISTER_DIR=%s", DONTHU_DATA_DIR "/register");
	renv[n++] = cm_xasprintf("DONTHU_REPORT_FORMS_DIR=%s/forms", tmp);
	renv[n++] = cm_xasprintf("DONTHU_REPORT_INTAKE_FEED=%s", ep_feed);
	renv[n++] = cm_xasprintf("DONTHU_REPORT_ROUTING_FEED=");
	renv[n++] = cm_xasprintf("DONTHU_REPORT_DEADLINE_FEED=");
	/* Small batches: a kill then nearly always lands between two of them
	 * or inside one, never only at the end. */
	renv[n++] = cm_xasprintf("DONTHU_REPORT_FETCH_MAX=37");
	renv[n++] = cm_xasprintf("DONTHU_REPORT_CLOCK=simulated");
	renv[n++] = cm_xasprintf("DONTHU_REPORT_CLOCK_START=2026-03-10T09:00:00+07:00");
	renv[n++] = cm_xasprintf("DONTHU_LOG=warn");
	renv[n] = NULL;
	intake.bin = DONTHU_INTAKE_BIN;
	intake.env = ienv;
	snprintf(intake.log, sizeof(intake.log), "%s/intake.log", tmp);
	report.bin = DONTHU_REPORT_BIN;
	report.env = renv;
	snprintf(report.log, sizeof(report.log), "%s/report.log", tmp);
	zctx = zmq_ctx_new();
	assert_int_equal(svc_start(&intake, ep_iadmin), 0);
	assert_int_equal(svc_start(&report, ep_radmin), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	svc_kill(&report);
	svc_kill(&intake);
	zmq_ctx_term(zctx);
	if (getenv("KEEP_TMP") == NULL)
		cm_test_rmrf(tmp);
	for (int i = 0; ienv[i]; i++)
		free(ienv[i]);
	for (int i = 0; renv[i]; i++)
		free(renv[i]);
	free(tmp);
	return 0;
}

static void send_petition(void *sock, int i)
{
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__SubmitRequest q = DONTHU__V1__SUBMIT_REQUEST__INIT;
	Donthu__V1__IdempotencyKey key = DONTHU__V1__IDEMPOTENCY_KEY__INIT;
	Donthu__V1__Petition p = DONTHU__V1__PETITION__INIT;
	Donthu__V1__Person person = DONTHU__V1__PERSON__INIT;
	Donthu__V1__Person *people[1] = {&person};
	char sid[32];
	zmq_msg_t m;

	snprintf(sid, sizeof(sid), "rep-%d", i);
	key.source_system = "test.report";
	key.source_id = sid;
	person.full_name = "Trần Văn Thử";
	person.id_kind = DONTHU__V1__ID_KIND__ID_KIND_CCCD;
	person.id_number = "079900000001";
	person.address = "1 Bạch Đằng, Phường Hải Châu";
	p.channel = DONTHU__V1__CHANNEL__CHANNEL_PORTAL;
	p.received_at_ms = cm_day_start_ms(cm_day_from_ymd(2026, 3, 9)) + 3600 * 1000;
	p.receiving_agency = (char *)agencies[i % 4];
	p.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK;
	p.n_petitioners = 1;
	p.petitioners = people;
	p.signer_count = 1;
	p.summary = "Đèn đường hỏng";
	p.signed_ = 1;
	q.request_id = (uint64_t)i + 1;
	q.key = &key;
	q.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_PETITION;
	q.petition = &p;
	env.schema_version = 1;
	env.body_case = BODY(SUBMIT);
	env.submit = &q;
	assert_int_equal(cm_env_pack_msg(&env, &m), 0);
	assert_true(zmq_msg_send(&m, sock, 0) >= 0);
}

static Donthu__V1__StatusReply *status(const char *ep, cm_env **hold)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__StatusRequest st = DONTHU__V1__STATUS_REQUEST__INIT;

	req.schema_version = 1;
	req.body_case = BODY(STATUS);
	req.status = &st;
	if (svc_call(zctx, ep, &req, 5000, hold) != 0 || !(*hold)->status_reply) {
		cm_env_free(hold);
		return NULL;
	}
	return (*hold)->status_reply;
}

static uint64_t intake_head(void)
{
	cm_env *h = NULL;
	Donthu__V1__StatusReply *s = status(ep_iadmin, &h);
	uint64_t v;

	assert_non_null(s);
	v = s->feed_head;
	cm_env_free(&h);
	return v;
}

/* Wait until report has applied everything intake has (or 60 s). */
static uint64_t wait_caught_up(uint64_t head)
{
	for (int i = 0; i < 600; i++) {
		cm_env *h = NULL;
		Donthu__V1__StatusReply *s = status(ep_radmin, &h);
		uint64_t applied = 0, cases = 0;
		if (s) {
			for (size_t c = 0; c < s->n_consumers; c++)
				if (strcmp(s->consumers[c]->producer, "intake") == 0)
					applied = s->consumers[c]->applied_seq;
			cases = s->cases;
		}
		cm_env_free(&h);
		if (applied == head)
			return cases;
		usleep(100000);
	}
	fail_msg("report did not catch up with intake's feed (head %" PRIu64 ")", head);
	return 0;
}

static void test_sigkill_exactly_once(void **state)
{
	enum { N = 2400, WINDOW = 200, KILL_EVERY = 300 };
	void *sock = zmq_socket(zctx, ZMQ_DEALER);
	int hwm = 0, sent = 0, acked = 0, accepted = 0, kills = 0, next_kill = KILL_EVERY;
	uint64_t head, cases;

	(void)state;
	zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	assert_int_equal(zmq_connect(sock, ep_submit), 0);
	while (acked < N) {
		zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
		zmq_msg_t m;

		while (sent < N && sent - acked < WINDOW)
			send_petition(sock, sent++);
		assert_true(zmq_poll(&it, 1, 10000) > 0);
		zmq_msg_init(&m);
		while (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) >= 0) {
			cm_env *rep = NULL;
			assert_int_equal(cm_env_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &rep), 0);
			assert_non_null(rep->submit_reply);
			if (rep->submit_reply->status == SUBMIT(ACCEPTED))
				accepted++;
			else
				fail_msg("intake answered %d: %s", rep->submit_reply->status,
					 rep->submit_reply->error ? rep->submit_reply->error->message
								  : "");
			cm_env_free(&rep);
			acked++;
		}
		zmq_msg_close(&m);
		/* The report service dies while it is consuming. */
		if (acked >= next_kill) {
			svc_kill(&report);
			kills++;
			assert_int_equal(svc_start(&report, ep_radmin), 0);
			next_kill += KILL_EVERY;
		}
	}
	zmq_close(sock);
	assert_int_equal(accepted, N);
	/* And once more while it catches up. */
	usleep(20000);
	svc_kill(&report);
	kills++;
	assert_int_equal(svc_start(&report, ep_radmin), 0);

	head = intake_head();
	assert_int_equal(head, N);
	cases = wait_caught_up(head);
	print_message("%d petitions, report killed %d times; %" PRIu64 " cases\n", N, kills, cases);
	assert_int_equal(cases, N);

	/* The totals equal what intake accepted, per agency and in all. */
	{
		cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
		Donthu__V1__ReportQuery q = DONTHU__V1__REPORT_QUERY__INIT;
		Donthu__V1__ReportReply *r;
		int64_t sum = 0;

		q.form = "01/XLD";
		q.agency = "DN-UBND";
		q.period = "2026-Q1";
		q.include_subunits = true;
		req.schema_version = 1;
		req.body_case = BODY(REPORT_QUERY);
		req.report_query = &q;
		assert_int_equal(svc_call(zctx, ep_query, &req, 10000, &rep), 0);
		r = rep->report_reply;
		assert_non_null(r);
		assert_null(r->error);
		for (size_t i = 0; i < r->n_rows; i++) {
			const Donthu__V1__ReportRow *row = r->rows[i];
			int64_t v = row->cells[0]->i; /* column 1: petitions to handle */
			if (row->total) {
				assert_int_equal(v, N);
				continue;
			}
			sum += v;
			for (size_t a = 0; a < 4; a++)
				if (strcmp(row->agency, agencies[a]) == 0)
					assert_int_equal(v, N / 4);
		}
		assert_int_equal(sum, N);
		cm_env_free(&rep);
	}
	/* A case's history holds its one event, once. */
	{
		cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
		Donthu__V1__CaseHistoryQuery q = DONTHU__V1__CASE_HISTORY_QUERY__INIT;
		q.case_number = "DN-TTR-2026-000001";
		req.schema_version = 1;
		req.body_case = BODY(CASE_HISTORY);
		req.case_history = &q;
		assert_int_equal(svc_call(zctx, ep_query, &req, 5000, &rep), 0);
		assert_non_null(rep->case_history_reply);
		assert_null(rep->case_history_reply->error);
		assert_int_equal(rep->case_history_reply->n_events, 1);
		cm_env_free(&rep);
	}
}

static cm_env *call(const char *ep, cm_env *req)
{
	cm_env *rep = NULL;

	req->schema_version = 1;
	assert_int_equal(svc_call(zctx, ep, req, 10000, &rep), 0);
	return rep;
}

static Donthu__V1__ControlReply *reload_forms(cm_env **hold)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ReloadRequest rl = DONTHU__V1__RELOAD_REQUEST__INIT;

	rl.what = "forms";
	req.body_case = BODY(RELOAD);
	req.reload = &rl;
	*hold = call(ep_radmin, &req);
	assert_non_null((*hold)->control_reply);
	return (*hold)->control_reply;
}

/* A broken form file is refused on reload: the loaded forms keep serving. */
static void test_reload_keeps_old_forms(void **state)
{
	cm_env *hold = NULL, req = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ReportQuery q = DONTHU__V1__REPORT_QUERY__INIT;
	Donthu__V1__ControlReply *cr;
	char *bad = cm_xasprintf("%s/forms/zz-broken.json", tmp);
	FILE *f = fopen(bad, "w");

	(void)state;
	assert_non_null(f);
	fputs("{\"set\": \"broken\", \"forms\": [{\"code\": \"X\", \"title\": \"t\", "
	      "\"columns\": [{\"n\": \"1\", \"title\": \"c\", \"value\": \"range(nope)\"}]}]}",
	      f);
	fclose(f);
	cr = reload_forms(&hold);
	assert_false(cr->ok);
	assert_non_null(strstr(cr->error->message, "zz-broken.json"));
	cm_env_free(&hold);

	q.form = "01/TCD";
	q.agency = "DN-TTR";
	q.period = "2026-Q1";
	req.body_case = BODY(REPORT_QUERY);
	req.report_query = &q;
	hold = call(ep_query, &req);
	assert_non_null(hold->report_reply);
	assert_null(hold->report_reply->error);
	cm_env_free(&hold);

	unlink(bad);
	free(bad);
	cr = reload_forms(&hold);
	assert_true(cr->ok);
	cm_env_free(&hold);

	/* The mass list and a case list answer over the query socket. */
	q.form = "mass";
	q.agency = "DN-UBND";
	q.include_subunits = true;
	hold = call(ep_query, &req);
	assert_non_null(hold->report_reply);
	assert_null(hold->report_reply->error);
	assert_true(hold->report_reply->n_rows >= 1);
	cm_env_free(&hold);
	{
		cm_env lr = DONTHU__V1__ENVELOPE__INIT;
		Donthu__V1__CaseListQuery cl = DONTHU__V1__CASE_LIST_QUERY__INIT;
		cl.agency = "UBND-20242";
		cl.limit = 50;
		lr.body_case = BODY(CASE_LIST);
		lr.case_list = &cl;
		hold = call(ep_query, &lr);
		assert_non_null(hold->case_list_reply);
		assert_int_equal(hold->case_list_reply->n_cases, 50);
		cm_env_free(&hold);
	}
}

static void test_clean_stop(void **state)
{
	(void)state;
	assert_int_equal(svc_stop(&report), 0);
	assert_int_equal(svc_stop(&intake), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_exactly_once),
		cmocka_unit_test(test_reload_keeps_old_forms),
		cmocka_unit_test(test_clean_stop),
	};
	return cmocka_run_group_tests_name("report_integration", tests, setup, teardown);
}

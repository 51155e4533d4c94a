/*
 * cli_fake - a stand-in deadline service (feed + escalation PUB) and report
 * service (queries) with fixed, known content, for the CLI test
 * (tests/integration/cli_test.sh). It exists so that `donthu watch`, `case`
 * and `report` are tested against exact expectations whatever the state of
 * the real services.
 *
 *   cli_fake FEED_EP PUB_EP REPORT_EP
 *
 * The deadline feed holds events 1..10 at start. The first fetch request
 * starts the "live" part: 300 ms later events 11..41 are appended, one every
 * 50 ms; escalations among them are published on the PUB socket except those
 * whose sequence is a multiple of 3 (dropped, as PUB drops for a slow or
 * absent subscriber), which a correct watcher fills from the feed.
 *
 * Event seq s belongs to case DN-STC-2026-00000k, k = ((s-1)/5)%3+1, and is
 *   s%5==1 deadline_set, 2 deadline_changed, 3 escalation WARNING at DN-STC,
 *   4 escalation OVERDUE at DN-TTR, 0 clock_stopped; event 41 is a delegation
 *   escalation (HEAD, reason DELEGATION) at DN-STC, published as
 *   flag.delegation.DN-STC as the deadline service does.
 * A blocking test tool: SIGTERM ends it.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/mem.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x
#define TOTAL 41
#define INITIAL 10

struct blob {
	uint8_t *buf;
	size_t len;
};

static struct blob feed[TOTAL + 1];
static uint64_t head;
static volatile sig_atomic_t stop;

static void on_term(int s)
{
	(void)s;
	stop = 1;
}

static int64_t mono_ms(void)
{
	return (int64_t)(cm_clock_mono_ns() / 1000000);
}

static void case_of(uint64_t s, char out[32])
{
	snprintf(out, 32, "DN-STC-2026-%06d", (int)(((s - 1) / 5) % 3 + 1));
}

static void make_event(uint64_t s, struct blob *b)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__DeadlineSet ds = DONTHU__V1__DEADLINE_SET__INIT;
	Donthu__V1__DeadlineChanged dc = DONTHU__V1__DEADLINE_CHANGED__INIT;
	Donthu__V1__Escalation es = DONTHU__V1__ESCALATION__INIT;
	Donthu__V1__ClockStopped cs = DONTHU__V1__CLOCK_STOPPED__INIT;
	char cn[32], clock_id[64], msg_id[32];

	case_of(s, cn);
	snprintf(clock_id, sizeof(clock_id), "%s/kn.resolve.r1", cn);
	snprintf(msg_id, sizeof(msg_id), "deadline/%llu", (unsigned long long)s);
	e.schema_version = 1;
	e.producer = "deadline";
	e.sequence = s;
	e.msg_id = msg_id;
	e.case_number = cn;
	e.occurred_at_ms = cm_day_start_ms(cm_day_from_ymd(2026, 7, 1)) + (int64_t)s * 3600000;
	switch (s == TOTAL ? 5 : s % 5) {
	case 5:
		es.level = DONTHU__V1__ESCALATION_LEVEL__ESCALATION_LEVEL_HEAD;
		es.reason = DONTHU__V1__ESCALATION_REASON__ESCALATION_REASON_DELEGATION;
		es.case_number = cn;
		es.agency = "DN-STC";
		es.notify_agency = "DN-STC";
		es.detail = "đoàn đông người";
		es.raised_date = "2026-09-22";
		e.body_case = BODY(ESCALATION);
		e.escalation = &es;
		break;
	case 1:
		ds.case_number = cn;
		ds.clock_id = clock_id;
		ds.stage = "kn.resolve.r1";
		ds.rule_id = "KN-28";
		ds.rule_version = 1;
		ds.article = "Điều 28 Luật Khiếu nại 2011";
		ds.trigger_date = "2026-07-01";
		ds.due_date = "2026-08-12";
		ds.length = 30;
		ds.unit = DONTHU__V1__DAY_UNIT__DAY_UNIT_WORKING;
		ds.agency = "DN-STC";
		ds.explain = "thụ lý 2026-07-01 (thứ Tư)\n+ 30 ngày làm việc, trừ nghỉ lễ 2/9\n"
			     "= hạn 2026-08-12";
		e.body_case = BODY(DEADLINE_SET);
		e.deadline_set = &ds;
		break;
	case 2:
		dc.case_number = cn;
		dc.clock_id = clock_id;
		dc.reason = DONTHU__V1__CHANGE_REASON__CHANGE_REASON_EXTENDED;
		dc.old_due_date = "2026-08-12";
		dc.new_due_date = "2026-09-25";
		dc.explain = "gia hạn 30 ngày làm việc (vụ việc phức tạp)";
		e.body_case = BODY(DEADLINE_CHANGED);
		e.deadline_changed = &dc;
		break;
	case 3:
	case 4:
		es.level = s % 5 == 3 ? DONTHU__V1__ESCALATION_LEVEL__ESCALATION_LEVEL_WARNING
				      : DONTHU__V1__ESCALATION_LEVEL__ESCALATION_LEVEL_OVERDUE;
		es.reason = DONTHU__V1__ESCALATION_REASON__ESCALATION_REASON_DEADLINE;
		es.case_number = cn;
		es.agency = s % 5 == 3 ? "DN-STC" : "DN-TTR";
		es.notify_agency = s % 5 == 3 ? "DN-STC" : "DN-UBND";
		es.clock_id = clock_id;
		es.stage = "kn.resolve.r1";
		es.due_date = "2026-09-25";
		es.days_overdue = s % 5 == 3 ? -3 : 1;
		es.detail = "sắp đến hạn giải quyết";
		es.raised_date = "2026-09-22";
		e.body_case = BODY(ESCALATION);
		e.escalation = &es;
		break;
	default:
		cs.case_number = cn;
		cs.clock_id = clock_id;
		cs.stage = "kn.resolve.r1";
		cs.due_date = "2026-09-25";
		cs.completed_date = "2026-09-20";
		cs.met = 1;
		cs.agency = "DN-STC";
		e.body_case = BODY(CLOCK_STOPPED);
		e.clock_stopped = &cs;
	}
	cm_require(cm_env_pack_alloc(&e, &b->buf, &b->len) == 0);
}

/* Reply frames: the ROUTER's routing frames, then the envelope. */
static void reply(void *sock, zmq_msg_t *route, int nroute, const cm_env *e)
{
	zmq_msg_t m;

	for (int i = 0; i < nroute; i++)
		zmq_msg_send(&route[i], sock, ZMQ_SNDMORE);
	cm_require(cm_env_pack_msg(e, &m) == 0);
	zmq_msg_send(&m, sock, 0);
}

static void reply_error(void *sock, zmq_msg_t *route, int nroute, const char *code,
			const char *msg)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ControlReply cr = DONTHU__V1__CONTROL_REPLY__INIT;
	Donthu__V1__ErrorDetail ed = DONTHU__V1__ERROR_DETAIL__INIT;

	ed.code = (char *)code;
	ed.field = "";
	ed.message = (char *)msg;
	cr.error = &ed;
	e.schema_version = 1;
	e.body_case = BODY(CONTROL_REPLY);
	e.control_reply = &cr;
	reply(sock, route, nroute, &e);
}

static void reply_status(void *sock, zmq_msg_t *route, int nroute, const char *svc)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__StatusReply sr = DONTHU__V1__STATUS_REPLY__INIT;
	Donthu__V1__ConsumerPosition cp = DONTHU__V1__CONSUMER_POSITION__INIT, *cps[1] = {&cp};

	sr.service = (char *)svc;
	sr.version = "fake";
	sr.now_ms = cm_day_start_ms(cm_day_from_ymd(2026, 9, 22));
	sr.simulated_clock = 1;
	sr.feed_head = strcmp(svc, "deadline") == 0 ? head : 0;
	cp.producer = "intake";
	cp.applied_seq = 7;
	cp.head_seq = 9;
	sr.consumers = cps;
	sr.n_consumers = 1;
	sr.open_clocks = 3;
	sr.overdue = 1;
	sr.health = "ok";
	e.schema_version = 1;
	e.body_case = BODY(STATUS_REPLY);
	e.status_reply = &sr;
	reply(sock, route, nroute, &e);
}

static bool started;
static int64_t next_append;

static void on_feed(void *sock, zmq_msg_t *route, int nroute, const cm_env *q)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__FetchReply fr = DONTHU__V1__FETCH_REPLY__INIT;
	ProtobufCBinaryData evs[TOTAL];
	uint64_t from;
	size_t n = 0;

	if (q->body_case == BODY(STATUS)) {
		reply_status(sock, route, nroute, "deadline");
		return;
	}
	if (q->body_case != BODY(FETCH)) {
		reply_error(sock, route, nroute, "unsupported", "not served here");
		return;
	}
	if (!started) {
		started = true;
		next_append = mono_ms() + 300;
	}
	from = q->fetch->from_seq;
	if (from == 0) {
		reply_error(sock, route, nroute, "invalid_field", "fetch.from_seq is 0");
		return;
	}
	for (uint64_t s = from; s <= head && n < q->fetch->max_events; s++, n++) {
		evs[n].data = feed[s].buf;
		evs[n].len = feed[s].len;
	}
	fr.producer = "deadline";
	fr.first_seq = from;
	fr.head_seq = head;
	fr.events = evs;
	fr.n_events = n;
	e.schema_version = 1;
	e.body_case = BODY(FETCH_REPLY);
	e.fetch_reply = &fr;
	reply(sock, route, nroute, &e);
}

static void on_report(void *sock, zmq_msg_t *route, int nroute, const cm_env *q)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT;

	e.schema_version = 1;
	if (q->body_case == BODY(STATUS)) {
		reply_status(sock, route, nroute, "report");
	} else if (q->body_case == BODY(REPORT_QUERY)) {
		Donthu__V1__ReportReply rr = DONTHU__V1__REPORT_REPLY__INIT;
		Donthu__V1__ErrorDetail ed = DONTHU__V1__ERROR_DETAIL__INIT;
		Donthu__V1__ReportColumn c1 = DONTHU__V1__REPORT_COLUMN__INIT,
					 c2 = DONTHU__V1__REPORT_COLUMN__INIT,
					 c3 = DONTHU__V1__REPORT_COLUMN__INIT, *cols[3] = {&c1, &c2, &c3};
		Donthu__V1__ReportCell cells[2][3];
		Donthu__V1__ReportCell *cp[2][3];
		Donthu__V1__ReportRow r1 = DONTHU__V1__REPORT_ROW__INIT,
				      r2 = DONTHU__V1__REPORT_ROW__INIT, *rows[2] = {&r1, &r2};

		if (strcmp(q->report_query->form, "01/XLD") != 0) {
			ed.code = "unknown_form";
			ed.field = "form";
			ed.message = "unknown form; see docs/REPORTS.md for the shipped forms";
			rr.error = &ed;
		} else {
			c1.number = "1";
			c1.title = "Tổng số đơn";
			c1.group = "Tiếp nhận";
			c2.number = "2";
			c2.title = "Đơn đủ điều kiện xử lý";
			c2.group = "Tiếp nhận";
			c3.number = "3";
			c3.title = "Tỷ lệ (%)";
			for (int r = 0; r < 2; r++)
				for (int k = 0; k < 3; k++) {
					donthu__v1__report_cell__init(&cells[r][k]);
					cp[r][k] = &cells[r][k];
					if (k < 2) {
						cells[r][k].v_case = DONTHU__V1__REPORT_CELL__V_I;
						cells[r][k].i = (r + 1) * 10 + k;
					} else {
						cells[r][k].v_case = DONTHU__V1__REPORT_CELL__V_D;
						cells[r][k].d = 87.5;
					}
				}
			r1.label = "Sở Tài chính";
			r1.agency = "DN-STC";
			r1.cells = cp[0];
			r1.n_cells = 3;
			r2.label = "Tổng cộng";
			r2.cells = cp[1];
			r2.n_cells = 3;
			r2.total = 1;
			rr.form = "01/XLD";
			rr.title = "TỔNG HỢP KẾT QUẢ XỬ LÝ ĐƠN";
			rr.agency = q->report_query->agency;
			rr.from_date = "2026-06-15";
			rr.to_date = "2026-09-14";
			rr.columns = cols;
			rr.n_columns = 3;
			rr.rows = rows;
			rr.n_rows = 2;
			rr.form_version = "tt01-2024";
		}
		e.body_case = BODY(REPORT_REPLY);
		e.report_reply = &rr;
		reply(sock, route, nroute, &e);
	} else if (q->body_case == BODY(CASE_HISTORY)) {
		Donthu__V1__CaseHistoryReply hr = DONTHU__V1__CASE_HISTORY_REPLY__INIT;
		Donthu__V1__CaseSummary cs = DONTHU__V1__CASE_SUMMARY__INIT;
		Donthu__V1__ErrorDetail ed = DONTHU__V1__ERROR_DETAIL__INIT;
		ProtobufCBinaryData evs[TOTAL];
		char cn[32];
		size_t n = 0;

		if (strcmp(q->case_history->case_number, "DN-STC-2026-000001") != 0) {
			ed.code = "unknown_case";
			ed.field = "case_number";
			ed.message = "no such case";
			hr.error = &ed;
		} else {
			cs.case_number = q->case_history->case_number;
			cs.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_COMPLAINT;
			cs.status = DONTHU__V1__CASE_STATUS__CASE_STATUS_ACCEPTED;
			cs.receiving_agency = "DN-STC";
			cs.handling_agency = "DN-STC";
			cs.received_date = "2026-06-30";
			cs.signer_count = 2;
			cs.next_due_date = "2026-09-25";
			cs.summary = "Khiếu nại quyết định thu hồi đất";
			for (uint64_t s = 1; s <= head; s++) {
				case_of(s, cn);
				if (strcmp(cn, cs.case_number) == 0) {
					evs[n].data = feed[s].buf;
					evs[n++].len = feed[s].len;
				}
			}
			hr.summary = &cs;
			hr.events = evs;
			hr.n_events = n;
		}
		e.body_case = BODY(CASE_HISTORY_REPLY);
		e.case_history_reply = &hr;
		reply(sock, route, nroute, &e);
	} else {
		reply_error(sock, route, nroute, "unsupported", "not served here");
	}
}

/* Receive one request: routing frames then the envelope. */
static void serve(void *sock, bool is_feed)
{
	zmq_msg_t frames[8];
	int n = 0, more = 1;
	cm_env *q = NULL;

	while (more && n < 8) {
		size_t sz = sizeof(more);

		zmq_msg_init(&frames[n]);
		if (zmq_msg_recv(&frames[n], sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&frames[n]);
			break;
		}
		zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
		n++;
	}
	if (n >= 2 &&
	    cm_env_unpack(zmq_msg_data(&frames[n - 1]), zmq_msg_size(&frames[n - 1]), &q) == 0) {
		if (is_feed)
			on_feed(sock, frames, n - 1, q);
		else
			on_report(sock, frames, n - 1, q);
		cm_env_free(&q);
	}
	for (int i = 0; i < n; i++)
		zmq_msg_close(&frames[i]);
}

static void publish(void *pub, uint64_t s)
{
	cm_env *e = NULL;
	char topic[128];
	const char *level;

	if (s % 5 != 3 && s % 5 != 4 && s != TOTAL)
		return;
	if (s % 3 == 0)
		return; /* dropped: the watcher must fill it from the feed */
	cm_require(cm_env_unpack(feed[s].buf, feed[s].len, &e) == 0);
	level = s % 5 == 3 ? "warning" : "overdue";
	if (s == TOTAL)
		snprintf(topic, sizeof(topic), "flag.delegation.%s", e->escalation->agency);
	else
		snprintf(topic, sizeof(topic), "esc.%s.%s", level, e->escalation->agency);
	zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE);
	zmq_send(pub, feed[s].buf, feed[s].len, 0);
	cm_env_free(&e);
}

int main(int argc, char **argv)
{
	void *ctx, *fsock, *psock, *rsock;
	int linger = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: cli_fake FEED_EP PUB_EP REPORT_EP\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	for (uint64_t s = 1; s <= TOTAL; s++)
		make_event(s, &feed[s]);
	head = INITIAL;
	ctx = zmq_ctx_new();
	fsock = zmq_socket(ctx, ZMQ_ROUTER);
	psock = zmq_socket(ctx, ZMQ_PUB);
	rsock = zmq_socket(ctx, ZMQ_ROUTER);
	zmq_setsockopt(fsock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(psock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(rsock, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(fsock, argv[1]) || zmq_bind(psock, argv[2]) || zmq_bind(rsock, argv[3])) {
		fprintf(stderr, "cli_fake: bind: %s\n", zmq_strerror(zmq_errno()));
		return 1;
	}
	while (!stop) {
		zmq_pollitem_t it[2] = {{.socket = fsock, .events = ZMQ_POLLIN},
					{.socket = rsock, .events = ZMQ_POLLIN}};
		long wait = 100;

		if (started && head < TOTAL) {
			int64_t d = next_append - mono_ms();
			wait = d < 0 ? 0 : d;
		}
		if (zmq_poll(it, 2, wait) < 0 && zmq_errno() != EINTR)
			break;
		if (it[0].revents & ZMQ_POLLIN)
			serve(fsock, true);
		if (it[1].revents & ZMQ_POLLIN)
			serve(rsock, false);
		if (started && head < TOTAL && mono_ms() >= next_append) {
			head++;
			publish(psock, head);
			next_append = mono_ms() + 50;
		}
	}
	zmq_close(fsock);
	zmq_close(psock);
	zmq_close(rsock);
	zmq_ctx_term(ctx);
	for (uint64_t s = 1; s <= TOTAL; s++)
		free(feed[s].buf);
	return 0;
}

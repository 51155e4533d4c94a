/*
 * deadline_bench - helpers for bench/deadline/run.
 *
 *   deadline_bench gen DIR CASES DAYS CALDIR POLICY
 *       Write a deadline store holding CASES feedback petitions received one
 *       after another over DAYS days from Mon 5/1/2026 (two open clocks
 *       each: xld.handle and xld.unhandled45), through the real engine
 *       (dl_engine_apply), 5,000 petitions per transaction.
 *   deadline_bench reload ADMIN_EP WHAT
 *       Send ReloadRequest{what} and print the time until the answer, which
 *       comes when every open clock has been recomputed.
 *   deadline_bench latency ADMIN_EP PUB_EP STEPS
 *       Subscribe to every escalation, then STEPS times move the simulated
 *       clock one day on and time from just before the ClockControl leaves
 *       to the first escalation of that day arriving on the subscriber:
 *       the due instant is the moment the clock passes it.
 * Output: one line of key=value figures.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/err.h"
#include "common/feed.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/store.h"
#include "timers.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x

struct gen {
	struct dl_engine e;
	uint64_t from, to;
	unsigned days;
	uint64_t cases;
};

static int gen_txn(struct cm_txn *t, void *arg)
{
	struct gen *g = arg;
	cm_day_t first = cm_day_from_ymd(2026, 1, 5);
	int rc = 0;

	for (uint64_t i = g->from; i < g->to && rc == 0; i++) {
		cm_env ev = DONTHU__V1__ENVELOPE__INIT;
		Donthu__V1__PetitionReceived pr = DONTHU__V1__PETITION_RECEIVED__INIT;
		Donthu__V1__Petition p = DONTHU__V1__PETITION__INIT;
		char num[40];
		/* Spread evenly: case i is received on day i * DAYS / CASES. */
		cm_day_t day = first + (cm_day_t)(i * g->days / g->cases);

		snprintf(num, sizeof(num), "BENCH-%04u-%08" PRIu64, 2026, i + 1);
		p.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK;
		p.received_at_ms = cm_day_start_ms(day) + 9 * 3600 * 1000LL;
		p.receiving_agency = "DN-TTR";
		pr.case_number = num;
		pr.petition = &p;
		ev.case_number = num;
		ev.occurred_at_ms = p.received_at_ms;
		ev.body_case = BODY(PETITION_RECEIVED);
		ev.petition_received = &pr;
		rc = dl_engine_apply(&g->e, t, &ev);
	}
	return rc;
}

static int gen(const char *dir, uint64_t cases, unsigned days, const char *caldir,
	       const char *policy)
{
	struct cm_store_opts so = {.path = dir, .dbi_names = dl_dbi_names, .ndbi = DL_DB_COUNT,
				   .map_size = (size_t)4 << 30, .nosync = true};
	struct cm_feed_opts fo = {.producer = "deadline", .log_dbi = DL_DB_LOG};
	struct gen g = {.days = days, .cases = cases};
	struct cm_store *s = NULL;
	struct cm_feed *f = NULL;
	struct cal *cal = NULL;
	struct dl_policy *pol = NULL;
	char err[1024];
	uint64_t t0 = cm_clock_mono_ns();
	int rc;

	if ((rc = cal_load(caldir, NULL, &cal, err, sizeof(err))) ||
	    (rc = dl_policy_load(policy, &pol, err, sizeof(err)))) {
		fprintf(stderr, "deadline_bench: %s\n", err);
		return 1;
	}
	if ((rc = cm_store_open(&so, &s)) || (rc = cm_store_write(s, dl_schema_init, NULL)) ||
	    (rc = cm_feed_new(s, &fo, &f))) {
		fprintf(stderr, "deadline_bench: store %s: %s\n", dir, cm_strerror(rc));
		return 1;
	}
	g.e = (struct dl_engine){.feed = f, .cal = cal, .pol = pol,
				 .lv = {3, 5, 10, 20, 5}, .chairman_office = "DN-VP",
				 .inspectorate = "DN-TTR"};
	for (g.from = 0; g.from < cases; g.from = g.to) {
		g.to = g.from + 5000 < cases ? g.from + 5000 : cases;
		rc = cm_store_write(s, gen_txn, &g);
		cm_feed_committed(f);
		if (rc) {
			fprintf(stderr, "deadline_bench: generating: %s\n", cm_strerror(rc));
			return 1;
		}
	}
	printf("generated cases=%" PRIu64 " clocks=%" PRIu64 " feed_events=%" PRIu64
	       " seconds=%.1f\n",
	       cases, 2 * cases, cm_feed_head(f), (double)(cm_clock_mono_ns() - t0) / 1e9);
	cm_feed_free(&f);
	cm_store_close(&s);
	cal_free(&cal);
	dl_policy_free(&pol);
	return 0;
}

static int call(void *ctx, const char *ep, const cm_env *req, int timeout_ms, cm_env **out)
{
	void *sock = zmq_socket(ctx, ZMQ_DEALER);
	int linger = 0, rc;
	zmq_msg_t m;
	zmq_pollitem_t it;

	*out = NULL;
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(sock, ep) != 0 || cm_env_pack_msg(req, &m) != 0 ||
	    zmq_msg_send(&m, sock, 0) < 0) {
		zmq_close(sock);
		return -EIO;
	}
	it.socket = sock;
	it.events = ZMQ_POLLIN;
	if (zmq_poll(&it, 1, timeout_ms) <= 0) {
		zmq_close(sock);
		return -ETIMEDOUT;
	}
	zmq_msg_init(&m);
	zmq_msg_recv(&m, sock, 0);
	rc = cm_env_unpack(zmq_msg_data(&m), zmq_msg_size(&m), out);
	zmq_msg_close(&m);
	zmq_close(sock);
	return rc;
}

static int reload(const char *ep, const char *what)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
	Donthu__V1__ReloadRequest r = DONTHU__V1__RELOAD_REQUEST__INIT;
	void *ctx = zmq_ctx_new();
	uint64_t t0 = cm_clock_mono_ns();
	int rc;

	r.what = (char *)what;
	req.schema_version = 1;
	req.body_case = BODY(RELOAD);
	req.reload = &r;
	rc = call(ctx, ep, &req, 600000, &rep);
	if (rc || !rep->control_reply || !rep->control_reply->ok) {
		fprintf(stderr, "deadline_bench: reload failed: %s\n",
			rc ? cm_strerror(rc)
			   : rep->control_reply && rep->control_reply->error
				     ? rep->control_reply->error->message
				     : "?");
		return 1;
	}
	printf("reload_seconds=%.3f detail=\"%s\"\n", (double)(cm_clock_mono_ns() - t0) / 1e9,
	       rep->control_reply->detail);
	cm_env_free(&rep);
	zmq_ctx_term(ctx);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int latency(const char *admin, const char *pub, unsigned steps)
{
	void *ctx = zmq_ctx_new(), *sub = zmq_socket(ctx, ZMQ_SUB), *dealer;
	uint64_t *lat = cm_xcalloc(steps, sizeof(*lat)), n = 0, msgs = 0;
	int linger = 0, hwm = 0;

	zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "esc.", 4);
	zmq_connect(sub, pub);
	dealer = zmq_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_connect(dealer, admin);
	zmq_sleep(1); /* let the subscription reach the publisher */
	for (unsigned s = 0; s < steps; s++) {
		cm_env req = DONTHU__V1__ENVELOPE__INIT;
		Donthu__V1__ClockControl c = DONTHU__V1__CLOCK_CONTROL__INIT;
		bool replied = false, got = false;
		uint64_t t0;
		zmq_msg_t m;

		c.op_case = DONTHU__V1__CLOCK_CONTROL__OP_ADVANCE_MS;
		c.advance_ms = CM_DAY_MS;
		req.schema_version = 1;
		req.body_case = BODY(CLOCK);
		req.clock = &c;
		cm_env_pack_msg(&req, &m);
		t0 = cm_clock_mono_ns();
		zmq_msg_send(&m, dealer, 0);
		/* The service answers after raising; escalations of the day may
		 * still be on their way, so wait a little for the first. */
		while (!replied || !got) {
			zmq_pollitem_t it[2] = {{.socket = sub, .events = ZMQ_POLLIN},
						{.socket = dealer, .events = ZMQ_POLLIN}};
			if (zmq_poll(it, 2, replied ? 50 : 5000) <= 0)
				break;
			if (it[0].revents & ZMQ_POLLIN) {
				zmq_msg_t a, b;
				zmq_msg_init(&a);
				zmq_msg_init(&b);
				zmq_msg_recv(&a, sub, 0);
				zmq_msg_recv(&b, sub, 0);
				if (!got) {
					lat[n++] = cm_clock_mono_ns() - t0;
					got = true;
				}
				msgs++;
				zmq_msg_close(&a);
				zmq_msg_close(&b);
			}
			if (it[1].revents & ZMQ_POLLIN) {
				zmq_msg_init(&m);
				zmq_msg_recv(&m, dealer, 0);
				zmq_msg_close(&m);
				replied = true;
			}
		}
		/* Drain the rest of the day before the next step. */
		for (;;) {
			zmq_pollitem_t it = {.socket = sub, .events = ZMQ_POLLIN};
			zmq_msg_t a, b;
			if (zmq_poll(&it, 1, 20) <= 0)
				break;
			zmq_msg_init(&a);
			zmq_msg_init(&b);
			zmq_msg_recv(&a, sub, 0);
			zmq_msg_recv(&b, sub, 0);
			msgs++;
			zmq_msg_close(&a);
			zmq_msg_close(&b);
		}
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	if (n == 0) {
		printf("latency steps=%u with_escalation=0\n", steps);
	} else {
		printf("latency steps=%u with_escalation=%" PRIu64 " messages=%" PRIu64
		       " p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
		       steps, n, msgs, (double)lat[n / 2] / 1e6,
		       (double)lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e6,
		       (double)lat[n - 1] / 1e6);
	}
	free(lat);
	zmq_close(sub);
	zmq_close(dealer);
	zmq_ctx_term(ctx);
	return 0;
}

int main(int argc, char **argv)
{
	cm_log_set_service("deadline_bench");
	cm_log_configure("warn");
	if (argc == 7 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], strtoull(argv[3], NULL, 10), (unsigned)atoi(argv[4]), argv[5],
			   argv[6]);
	if (argc == 4 && strcmp(argv[1], "reload") == 0)
		return reload(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "latency") == 0)
		return latency(argv[2], argv[3], (unsigned)atoi(argv[4]));
	fprintf(stderr, "usage: deadline_bench gen DIR CASES DAYS CALDIR POLICY\n"
			"       deadline_bench reload ADMIN_EP calendar|policy\n"
			"       deadline_bench latency ADMIN_EP PUB_EP STEPS\n");
	return 2;
}

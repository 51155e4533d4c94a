/*
 * feedtool - a real producer and a real consumer of the libcommon feed, for
 * the feed kill test (tests/integration/feed_kill.sh) and bench/feed.
 *
 *   feedtool produce DIR ENDPOINT TOTAL [PER_TICK] [TICK_MS]
 *       Append events until the log holds TOTAL (resuming after a restart),
 *       PER_TICK events per write transaction every TICK_MS, and serve the
 *       feed until SIGTERM.
 *   feedtool consume DIR ENDPOINT TOTAL [MAX_BATCH]
 *       Pull and apply; each event is recorded under its sequence number
 *       with NOOVERWRITE, so applying one twice aborts the batch and shows.
 *       Exits 0 once TOTAL events are applied.
 *   feedtool verify DIR TOTAL
 *       Check that exactly events 1..TOTAL were applied, once each, in order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/feed.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/rpc.h"
#include "common/store.h"

enum { P_LOG = 0 };
static const char *const producer_dbis[] = {"log"};
enum { C_OFFSETS = 0, C_APPLIED, C_META };
static const char *const consumer_dbis[] = {"offsets", "applied", "meta"};

struct producer {
	struct cm_store *s;
	struct cm_feed *feed;
	struct cm_rpc *rpc;
	uv_timer_t tick;
	uint64_t total;
	unsigned per_tick;
	struct cm_signals *sig;
};

static int append_txn(struct cm_txn *t, void *arg)
{
	struct producer *p = arg;
	char record[32];

	for (unsigned i = 0; i < p->per_tick; i++) {
		cm_env ev = DONTHU__V1__ENVELOPE__INIT;
		Donthu__V1__ScheduleRecorded sr = DONTHU__V1__SCHEDULE_RECORDED__INIT;
		struct cm_val k, v;
		uint64_t next = 1, seq;
		int rc = cm_txn_last(t, P_LOG, &k, &v);

		if (rc == 0)
			next = cm_be64_get(k.data) + 1;
		if (next > p->total)
			return 0;
		snprintf(record, sizeof(record), "R-%" PRIu64, next);
		sr.record_id = record;
		ev.body_case = DONTHU__V1__ENVELOPE__BODY_SCHEDULE_RECORDED;
		ev.schedule_recorded = &sr;
		rc = cm_feed_append(p->feed, t, &ev, &seq);
		if (rc)
			return rc;
	}
	return 0;
}

static void on_tick(uv_timer_t *t)
{
	struct producer *p = t->data;
	int rc;

	if (cm_feed_head(p->feed) >= p->total) {
		uv_timer_stop(t);
		return;
	}
	rc = cm_store_write(p->s, append_txn, p);
	if (rc)
		cm_log_error_err(MAIN, rc, "append failed");
	else
		cm_feed_committed(p->feed);
}

static void on_stop(void *arg, int signum)
{
	struct producer *p = arg;

	(void)signum;
	uv_stop(p->tick.loop);
}

static int produce(const char *dir, const char *endpoint, uint64_t total, unsigned per_tick,
		   unsigned tick_ms)
{
	struct cm_store_opts so = {.path = dir, .dbi_names = producer_dbis, .ndbi = 1};
	struct cm_feed_opts fo = {.producer = "producer", .log_dbi = P_LOG};
	struct cm_zsock_opts zo = {.endpoint = endpoint};
	struct producer p = {.total = total, .per_tick = per_tick};
	uv_loop_t loop;
	void *zctx = zmq_ctx_new();
	int rc;

	uv_loop_init(&loop);
	if ((rc = cm_store_open(&so, &p.s)) || (rc = cm_feed_new(p.s, &fo, &p.feed)) ||
	    (rc = cm_rpc_new(&loop, zctx, &zo, &p.rpc)) ||
	    (rc = cm_feed_serve(p.feed, &loop, p.rpc)))
		cm_fatal(rc, "producer start-up failed");
	cm_signals_start(&loop, on_stop, &p, &p.sig);
	uv_timer_init(&loop, &p.tick);
	p.tick.data = &p;
	uv_timer_start(&p.tick, on_tick, 0, tick_ms);
	uv_run(&loop, UV_RUN_DEFAULT);
	cm_feed_free(&p.feed);
	cm_rpc_free(&p.rpc);
	cm_signals_free(&p.sig);
	rc = cm_loop_teardown(&loop);
	cm_store_close(&p.s);
	zmq_ctx_term(zctx);
	return rc ? 1 : 0;
}

struct consumer {
	struct cm_feed_consumer *c;
	uint64_t total;
	uv_loop_t *loop;
};

static int apply_event(struct cm_txn *t, const cm_env *ev, const void *raw, size_t len, void *arg)
{
	unsigned char key[8], val[8];
	struct cm_val prev;
	uint64_t last = 0;
	int rc;

	(void)raw;
	(void)len;
	(void)arg;
	/* In order: the previous applied sequence must be exactly one less. */
	rc = cm_txn_get(t, C_META, "last", 4, &prev);
	if (rc == 0)
		last = cm_be64_get(prev.data);
	else if (rc != -ENOENT)
		return rc;
	if (ev->sequence != last + 1) {
		cm_log_error(MAIN, "out of order: got %" PRIu64 " after %" PRIu64, ev->sequence,
			     last);
		return CM_EGAP;
	}
	cm_be64_put(key, ev->sequence);
	rc = cm_txn_put(t, C_APPLIED, key, 8, ev->schedule_recorded->record_id,
			strlen(ev->schedule_recorded->record_id), CM_PUT_NOOVERWRITE);
	if (rc == -EEXIST)
		cm_log_error(MAIN, "event %" PRIu64 " applied twice", ev->sequence);
	if (rc)
		return rc;
	cm_be64_put(val, ev->sequence);
	return cm_txn_put(t, C_META, "last", 4, val, 8, 0);
}

static void on_committed(uint64_t applied, void *arg)
{
	struct consumer *c = arg;

	if (applied >= c->total)
		uv_stop(c->loop);
}

static int consume(const char *dir, const char *endpoint, uint64_t total, unsigned max_batch)
{
	struct cm_store_opts so = {.path = dir, .dbi_names = consumer_dbis, .ndbi = 3};
	struct cm_feed_consumer_opts co = {
		.name = "feedtool", .producer = "producer", .endpoint = endpoint,
		.offset_dbi = C_OFFSETS, .max_events = max_batch, .wait_ms = 500,
	};
	struct cm_feed_consumer_ops ops = {.apply = apply_event, .committed = on_committed};
	struct consumer c = {.total = total};
	struct cm_store *s = NULL;
	uv_loop_t loop;
	void *zctx = zmq_ctx_new();
	int rc;

	uv_loop_init(&loop);
	c.loop = &loop;
	if ((rc = cm_store_open(&so, &s)))
		cm_fatal(rc, "consumer store");
	if ((rc = cm_feed_consumer_start(&loop, zctx, s, &co, &ops, &c, &c.c)))
		cm_fatal(rc, "consumer start-up failed");
	if (cm_feed_consumer_applied(c.c) < total)
		uv_run(&loop, UV_RUN_DEFAULT);
	rc = cm_feed_consumer_applied(c.c) >= total ? 0 : 1;
	cm_feed_consumer_free(&c.c);
	if (cm_loop_teardown(&loop))
		rc = 1;
	cm_store_close(&s);
	zmq_ctx_term(zctx);
	return rc;
}

struct verify_ctx {
	uint64_t expect;
	int bad;
};

static int verify_one(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct verify_ctx *x = arg;
	char want[32];
	uint64_t seq = cm_be64_get(k->data);

	snprintf(want, sizeof(want), "R-%" PRIu64, seq);
	if (seq != x->expect || v->size != strlen(want) || memcmp(v->data, want, v->size)) {
		x->bad++;
		return 1;
	}
	x->expect++;
	return 0;
}

static int verify_txn(struct cm_txn *t, void *arg)
{
	return cm_txn_iter(t, C_APPLIED, NULL, 0, verify_one, arg) < 0 ? -EIO : 0;
}

static int verify(const char *dir, uint64_t total)
{
	struct cm_store_opts so = {.path = dir, .dbi_names = consumer_dbis, .ndbi = 3};
	struct verify_ctx x = {.expect = 1};
	struct cm_store *s = NULL;
	int rc;

	if ((rc = cm_store_open(&so, &s)))
		cm_fatal(rc, "verify store");
	rc = cm_store_read(s, verify_txn, &x);
	cm_store_close(&s);
	if (rc || x.bad || x.expect != total + 1) {
		fprintf(stderr, "verify: FAILED: applied 1..%" PRIu64 " contiguous, bad=%d, want %" PRIu64 "\n",
			x.expect - 1, x.bad, total);
		return 1;
	}
	printf("verify: %" PRIu64 " events applied exactly once, in order\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	cm_log_set_service("feedtool");
	if (argc >= 5 && strcmp(argv[1], "produce") == 0)
		return produce(argv[2], argv[3], strtoull(argv[4], NULL, 10),
			       argc > 5 ? (unsigned)atoi(argv[5]) : 1000,
			       argc > 6 ? (unsigned)atoi(argv[6]) : 1);
	if (argc >= 5 && strcmp(argv[1], "consume") == 0)
		return consume(argv[2], argv[3], strtoull(argv[4], NULL, 10),
			       argc > 5 ? (unsigned)atoi(argv[5]) : 2000);
	if (argc == 4 && strcmp(argv[1], "verify") == 0)
		return verify(argv[2], strtoull(argv[3], NULL, 10));
	fprintf(stderr, "usage: feedtool produce DIR ENDPOINT TOTAL [PER_TICK] [TICK_MS]\n"
			"       feedtool consume DIR ENDPOINT TOTAL [MAX_BATCH]\n"
			"       feedtool verify DIR TOTAL\n");
	return 2;
}

/*
 * test_zwatch.c - the ZeroMQ watcher's regression tests (style.md §3.2, §4.1).
 *
 * Every test drives a real uv loop with a guard timer that fails the test
 * instead of hanging, and ends with uv_loop_close() == 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/zwatch.h"

#define GUARD_MS 10000

static void guard_cb(uv_timer_t *t)
{
	(void)t;
	fail_msg("test did not finish within %d ms", GUARD_MS);
}

/* The guard is unreferenced so that a test can also check that the loop runs
 * dry on its own once every watcher is freed. */
static void guard_start(uv_loop_t *loop, uv_timer_t *g)
{
	assert_int_equal(uv_timer_init(loop, g), 0);
	assert_int_equal(uv_timer_start(g, guard_cb, GUARD_MS, 0), 0);
	uv_unref((uv_handle_t *)g);
}

static void loop_finish(uv_loop_t *loop, uv_timer_t *g)
{
	if (!uv_is_closing((uv_handle_t *)g))
		uv_close((uv_handle_t *)g, NULL);
	assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void *xsock(void *ctx, int type)
{
	void *s = zmq_socket(ctx, type);
	int zero = 0;

	assert_non_null(s);
	assert_int_equal(zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero)), 0);
	return s;
}

static void setint(void *s, int opt, int v)
{
	assert_int_equal(zmq_setsockopt(s, opt, &v, sizeof(v)), 0);
}

static void raw_send(void *s, const char *str, int flags)
{
	assert_int_equal(zmq_send(s, str, strlen(str), flags), (int)strlen(str));
}

/* "a|b|c" for a message's frames; caller frees. */
static char *join(zmq_msg_t *f, size_t n)
{
	size_t len = 1;
	char *s, *p;

	for (size_t i = 0; i < n; i++)
		len += zmq_msg_size(&f[i]) + 1;
	s = p = cm_xmalloc(len);
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = '|';
		memcpy(p, zmq_msg_data(&f[i]), zmq_msg_size(&f[i]));
		p += zmq_msg_size(&f[i]);
	}
	*p = '\0';
	return s;
}

static int sendstrs(struct cm_zwatch *w, const char *const *strs, size_t n)
{
	size_t lens[CM_ZWATCH_MAX_FRAMES];

	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(strs[i]);
	return cm_zwatch_sendv(w, (const void *const *)strs, lens, n);
}

/* A recorder shared by most tests. */
struct rec {
	uv_loop_t *loop;
	struct cm_zwatch *w;
	void *sock;
	char *msgs[64];
	size_t n;
	size_t stop_at; /* uv_stop when n reaches it (0: never) */
	unsigned batches;
	int errors, last_err;
	bool free_in_recv, free_in_batch, free_in_error;
};

static void rec_recv(struct cm_zwatch *w, zmq_msg_t *f, size_t n, void *arg)
{
	struct rec *r = arg;

	assert_ptr_equal(w, r->w);
	assert_true(r->n < CM_ARRAY_LEN(r->msgs));
	r->msgs[r->n++] = join(f, n);
	if (r->free_in_recv) {
		cm_zwatch_free(&r->w);
		/* The header promises zmq_close may follow at once. */
		assert_int_equal(zmq_close(r->sock), 0);
		r->sock = NULL;
	}
	if (r->stop_at && r->n == r->stop_at)
		uv_stop(r->loop);
}

static void rec_batch(struct cm_zwatch *w, void *arg)
{
	struct rec *r = arg;

	(void)w;
	r->batches++;
	if (r->free_in_batch) {
		cm_zwatch_free(&r->w);
		assert_int_equal(zmq_close(r->sock), 0);
		r->sock = NULL;
	}
}

static void rec_error(struct cm_zwatch *w, int err, void *arg)
{
	struct rec *r = arg;

	(void)w;
	r->errors++;
	r->last_err = err;
	if (r->free_in_error)
		cm_zwatch_free(&r->w);
}

static const struct cm_zwatch_ops rec_ops = {
	.recv = rec_recv,
	.batch_end = rec_batch,
	.error = rec_error,
};

static void rec_clear(struct rec *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->msgs[i]);
	r->n = 0;
}

/* A connected inproc PAIR: *watched gets a watcher in r, *peer stays raw. */
static void pair_setup(void *ctx, const char *ep, void **watched, void **peer)
{
	*watched = xsock(ctx, ZMQ_PAIR);
	*peer = xsock(ctx, ZMQ_PAIR);
	assert_int_equal(zmq_bind(*watched, ep), 0);
	assert_int_equal(zmq_connect(*peer, ep), 0);
}

/* (1) Two messages arrive before the first wake-up: one edge, two messages. */
static void test_two_before_first_wakeup(void **state)
{
	uv_loop_t loop;
	uv_timer_t g;
	struct rec r = {.loop = &loop, .stop_at = 2};
	void *ctx = zmq_ctx_new(), *peer;
	struct cm_zwatch_stats st;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	guard_start(&loop, &g);
	pair_setup(ctx, "inproc://two", &r.sock, &peer);
	raw_send(peer, "first", 0);
	raw_send(peer, "second", 0);
	assert_int_equal(cm_zwatch_new(&loop, r.sock, &rec_ops, &r, &r.w), 0);

	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 1);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.msgs[0], "first");
	assert_string_equal(r.msgs[1], "second");
	assert_true(r.batches >= 1);
	cm_zwatch_get_stats(r.w, &st);
	assert_int_equal(st.received, 2);
	assert_int_equal(st.turns, r.batches);

	cm_zwatch_free(&r.w);
	assert_null(r.w);
	cm_zwatch_free(&r.w); /* pointer to NULL is fine */
	loop_finish(&loop, &g);
	zmq_close(r.sock);
	zmq_close(peer);
	assert_int_equal(zmq_ctx_term(ctx), 0);
	rec_clear(&r);
}

/* (2) The classic edge-consumption bug: the handler for A makes input arrive
 * on B and then sends on B. The send processes B's command queue and eats the
 * fd edge that announced the input; B's input must still be delivered. */
struct edge {
	uv_loop_t *loop;
	struct cm_zwatch *wa, *wb;
	void *bpeer;
	int a_got, b_got;
};

static void edge_a_recv(struct cm_zwatch *w, zmq_msg_t *f, size_t n, void *arg)
{
	struct edge *e = arg;
	const char *out[] = {"from-a"};

	(void)w;
	(void)f;
	(void)n;
	e->a_got++;
	raw_send(e->bpeer, "for-b", 0);
	assert_int_equal(sendstrs(e->wb, out, 1), 0);
}

static void edge_b_recv(struct cm_zwatch *w, zmq_msg_t *f, size_t n, void *arg)
{
	struct edge *e = arg;

	(void)w;
	assert_int_equal(n, 1);
	assert_int_equal(zmq_msg_size(&f[0]), 5);
	assert_memory_equal(zmq_msg_data(&f[0]), "for-b", 5);
	e->b_got++;
	uv_stop(e->loop);
}

static void test_send_on_b_from_a_keeps_b_input(void **state)
{
	static const struct cm_zwatch_ops a_ops = {.recv = edge_a_recv};
	static const struct cm_zwatch_ops b_ops = {.recv = edge_b_recv};
	uv_loop_t loop;
	uv_timer_t g;
	struct edge e = {.loop = &loop};
	void *ctx = zmq_ctx_new(), *a, *apeer, *b;
	char buf[16];

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	guard_start(&loop, &g);
	pair_setup(ctx, "inproc://edge-a", &a, &apeer);
	pair_setup(ctx, "inproc://edge-b", &b, &e.bpeer);
	/* B's watcher is started last so its check runs first in each turn:
	 * by the time A's handler runs, B has already looked this turn. */
	assert_int_equal(cm_zwatch_new(&loop, a, &a_ops, &e, &e.wa), 0);
	assert_int_equal(cm_zwatch_new(&loop, b, &b_ops, &e, &e.wb), 0);
	raw_send(apeer, "go", 0);

	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 1);
	assert_int_equal(e.a_got, 1);
	assert_int_equal(e.b_got, 1);
	assert_int_equal(zmq_recv(e.bpeer, buf, sizeof(buf), ZMQ_DONTWAIT), 6);
	assert_memory_equal(buf, "from-a", 6);

	cm_zwatch_free(&e.wa);
	cm_zwatch_free(&e.wb);
	loop_finish(&loop, &g);
	zmq_close(a);
	zmq_close(apeer);
	zmq_close(b);
	zmq_close(e.bpeer);
	assert_int_equal(zmq_ctx_term(ctx), 0);
}

/* (3) A burst far over the budget: everything arrives, in order, at most
 * budget per turn, and batch_end closes every turn. */
#define BURST 10000
#define BURST_BUDGET 32

struct burst {
	uv_loop_t *loop;
	unsigned next, in_turn, turns;
};

static void burst_recv(struct cm_zwatch *w, zmq_msg_t *f, size_t n, void *arg)
{
	struct burst *b = arg;
	unsigned v;

	(void)w;
	assert_int_equal(n, 1);
	assert_int_equal(zmq_msg_size(&f[0]), sizeof(v));
	memcpy(&v, zmq_msg_data(&f[0]), sizeof(v));
	assert_int_equal(v, b->next);
	b->next++;
	b->in_turn++;
}

static void burst_batch(struct cm_zwatch *w, void *arg)
{
	struct burst *b = arg;

	(void)w;
	assert_true(b->in_turn >= 1 && b->in_turn <= BURST_BUDGET);
	b->in_turn = 0;
	b->turns++;
	if (b->next == BURST)
		uv_stop(b->loop);
}

static void test_burst_over_budget(void **state)
{
	static const struct cm_zwatch_ops ops = {.recv = burst_recv, .batch_end = burst_batch};
	uv_loop_t loop;
	uv_timer_t g;
	struct burst b = {.loop = &loop};
	struct cm_zwatch *w;
	struct cm_zwatch_stats st;
	void *ctx = zmq_ctx_new(), *pull, *push;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	guard_start(&loop, &g);
	pull = xsock(ctx, ZMQ_PULL);
	push = xsock(ctx, ZMQ_PUSH);
	setint(pull, ZMQ_RCVHWM, 0);
	setint(push, ZMQ_SNDHWM, 0);
	assert_int_equal(zmq_bind(pull, "inproc://burst"), 0);
	assert_int_equal(zmq_connect(push, "inproc://burst"), 0);
	for (unsigned i = 0; i < BURST; i++)
		assert_int_equal(zmq_send(push, &i, sizeof(i), ZMQ_DONTWAIT), (int)sizeof(i));
	assert_int_equal(cm_zwatch_new(&loop, pull, &ops, &b, &w), 0);
	cm_zwatch_set_budget(w, BURST_BUDGET);

	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 1);
	assert_int_equal(b.next, BURST);
	assert_true(b.turns >= (BURST + BURST_BUDGET - 1) / BURST_BUDGET);
	cm_zwatch_get_stats(w, &st);
	assert_int_equal(st.received, BURST);
	assert_int_equal(st.turns, b.turns);

	cm_zwatch_free(&w);
	loop_finish(&loop, &g);
	zmq_close(pull);
	zmq_close(push);
	assert_int_equal(zmq_ctx_term(ctx), 0);
}

/* (4) EAGAIN on send: messages queue in order and all arrive once the peer
 * reads. Each message has three frames so interleaving would show. */
#define QN 300

struct qtest {
	uv_loop_t *loop;
	void *ctx;
	struct cm_zwatch *ws, *wr;
	void *rsock;
	unsigned next;
	unsigned got_while_paused;
	uv_timer_t t;
};

static void q_recv(struct cm_zwatch *w, zmq_msg_t *f, size_t n, void *arg)
{
	struct qtest *q = arg;
	char want[32];
	char *got = join(f, n);

	(void)w;
	snprintf(want, sizeof(want), "%u|mid|%u", q->next, q->next);
	assert_string_equal(got, want);
	free(got);
	q->next++;
	if (q->next == QN)
		uv_stop(q->loop);
}

static void q_norecv(struct cm_zwatch *w, zmq_msg_t *f, size_t n, void *arg)
{
	(void)w;
	(void)f;
	(void)n;
	(void)arg;
	fail_msg("the sending side received something");
}

static void q_send_all(struct qtest *q)
{
	for (unsigned i = 0; i < QN; i++) {
		char num[16];
		const char *fr[] = {num, "mid", num};

		snprintf(num, sizeof(num), "%u", i);
		assert_int_equal(sendstrs(q->ws, fr, 3), 0);
	}
}

static void q_connect_late(uv_timer_t *t)
{
	static const struct cm_zwatch_ops r_ops = {.recv = q_recv};
	struct qtest *q = t->data;

	q->rsock = xsock(q->ctx, ZMQ_PULL);
	setint(q->rsock, ZMQ_RCVHWM, 4);
	assert_int_equal(zmq_connect(q->rsock, "inproc://late"), 0);
	assert_int_equal(cm_zwatch_new(q->loop, q->rsock, &r_ops, q, &q->wr), 0);
}

static void test_eagain_queue_unconnected(void **state)
{
	static const struct cm_zwatch_ops s_ops = {.recv = q_norecv};
	uv_loop_t loop;
	uv_timer_t g;
	struct qtest q = {.loop = &loop};
	struct cm_zwatch_stats st;
	void *push;

	(void)state;
	q.ctx = zmq_ctx_new();
	assert_int_equal(uv_loop_init(&loop), 0);
	guard_start(&loop, &g);
	push = xsock(q.ctx, ZMQ_PUSH);
	setint(push, ZMQ_SNDHWM, 4);
	assert_int_equal(zmq_bind(push, "inproc://late"), 0);
	assert_int_equal(cm_zwatch_new(&loop, push, &s_ops, &q, &q.ws), 0);
	/* No peer: a PUSH cannot take even the first message. */
	q_send_all(&q);
	assert_int_equal(cm_zwatch_queued(q.ws), QN);

	assert_int_equal(uv_timer_init(&loop, &q.t), 0);
	q.t.data = &q;
	assert_int_equal(uv_timer_start(&q.t, q_connect_late, 20, 0), 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 1);
	assert_int_equal(q.next, QN);
	assert_int_equal(cm_zwatch_queued(q.ws), 0);
	cm_zwatch_get_stats(q.ws, &st);
	assert_int_equal(st.sent, QN);
	assert_int_equal(st.queued_total, QN);

	cm_zwatch_free(&q.ws);
	cm_zwatch_free(&q.wr);
	uv_close((uv_handle_t *)&q.t, NULL);
	loop_finish(&loop, &g);
	zmq_close(push);
	zmq_close(q.rsock);
	assert_int_equal(zmq_ctx_term(q.ctx), 0);
}

static void q_unpause(uv_timer_t *t)
{
	struct qtest *q = t->data;

	/* While paused, not one message may have been delivered. */
	q->got_while_paused = q->next;
	cm_zwatch_pause_recv(q->wr, false);
}

static void test_eagain_queue_paused_peer(void **state)
{
	static const struct cm_zwatch_ops s_ops = {.recv = q_norecv};
	static const struct cm_zwatch_ops r_ops = {.recv = q_recv};
	uv_loop_t loop;
	uv_timer_t g;
	struct qtest q = {.loop = &loop};
	void *snd;

	(void)state;
	q.ctx = zmq_ctx_new();
	assert_int_equal(uv_loop_init(&loop), 0);
	guard_start(&loop, &g);
	snd = xsock(q.ctx, ZMQ_DEALER);
	q.rsock = xsock(q.ctx, ZMQ_DEALER);
	setint(snd, ZMQ_SNDHWM, 2);
	setint(q.rsock, ZMQ_RCVHWM, 2);
	assert_int_equal(zmq_bind(q.rsock, "inproc://paused"), 0);
	assert_int_equal(zmq_connect(snd, "inproc://paused"), 0);
	assert_int_equal(cm_zwatch_new(&loop, snd, &s_ops, &q, &q.ws), 0);
	assert_int_equal(cm_zwatch_new(&loop, q.rsock, &r_ops, &q, &q.wr), 0);
	cm_zwatch_pause_recv(q.wr, true);
	q_send_all(&q);
	assert_true(cm_zwatch_queued(q.ws) > 0);

	assert_int_equal(uv_timer_init(&loop, &q.t), 0);
	q.t.data = &q;
	assert_int_equal(uv_timer_start(&q.t, q_unpause, 50, 0), 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 1);
	assert_int_equal(q.got_while_paused, 0);
	assert_int_equal(q.next, QN);
	assert_int_equal(cm_zwatch_queued(q.ws), 0);

	cm_zwatch_free(&q.ws);
	cm_zwatch_free(&q.wr);
	uv_close((uv_handle_t *)&q.t, NULL);
	loop_finish(&loop, &g);
	zmq_close(snd);
	zmq_close(q.rsock);
	assert_int_equal(zmq_ctx_term(q.ctx), 0);
}

/* (5) The peer disappears: a ROUTER keeps working, replies to the vanished
 * peer come back as -EHOSTUNREACH, nothing crashes and the loop runs dry. */
struct gone {
	uv_loop_t *loop;
	struct cm_zwatch *ws, *wc;
	void *csock;
	uv_timer_t t;
	bool client_closed;
	unsigned pings_ok, server_got;
	int last_rc;
};

static void gone_server_recv(struct cm_zwatch *w, zmq_msg_t *f, size_t n, void *arg)
{
	struct gone *g = arg;
	const char *reply[] = {"c1", "hi"};

	assert_int_equal(n, 2);
	assert_int_equal(zmq_msg_size(&f[0]), 2);
	assert_memory_equal(zmq_msg_data(&f[0]), "c1", 2);
	g->server_got++;
	assert_int_equal(sendstrs(w, reply, 2), 0);
}

static void gone_ping(uv_timer_t *t)
{
	struct gone *g = t->data;
	const char *ping[] = {"c1", "ping"};

	if (!g->client_closed)
		return;
	g->last_rc = sendstrs(g->ws, ping, 2);
	if (g->last_rc == 0) {
		g->pings_ok++;
		return;
	}
	assert_int_equal(g->last_rc, -EHOSTUNREACH);
	/* Done: release everything; the loop must then run dry by itself. */
	cm_zwatch_free(&g->ws);
	uv_close((uv_handle_t *)t, NULL);
}

static void gone_client_recv(struct cm_zwatch *w, zmq_msg_t *f, size_t n, void *arg)
{
	struct gone *g = arg;

	(void)w;
	assert_int_equal(n, 1);
	assert_memory_equal(zmq_msg_data(&f[0]), "hi", 2);
	cm_zwatch_free(&g->wc);
	assert_int_equal(zmq_close(g->csock), 0);
	g->csock = NULL;
	g->client_closed = true;
}

static void test_peer_disappears(void **state)
{
	static const struct cm_zwatch_ops s_ops = {.recv = gone_server_recv};
	static const struct cm_zwatch_ops c_ops = {.recv = gone_client_recv};
	uv_loop_t loop;
	uv_timer_t guard;
	struct gone g = {.loop = &loop};
	void *ctx = zmq_ctx_new(), *srv;
	char ep[256];
	size_t eplen = sizeof(ep);
	const char *hello[] = {"hello"};
	const char *nobody[] = {"nobody", "x"};
	struct cm_zwatch_stats st;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	guard_start(&loop, &guard);
	srv = xsock(ctx, ZMQ_ROUTER);
	setint(srv, ZMQ_ROUTER_MANDATORY, 1);
	assert_int_equal(zmq_bind(srv, "tcp://127.0.0.1:*"), 0);
	assert_int_equal(zmq_getsockopt(srv, ZMQ_LAST_ENDPOINT, ep, &eplen), 0);
	g.csock = xsock(ctx, ZMQ_DEALER);
	assert_int_equal(zmq_setsockopt(g.csock, ZMQ_ROUTING_ID, "c1", 2), 0);
	assert_int_equal(zmq_connect(g.csock, ep), 0);
	assert_int_equal(cm_zwatch_new(&loop, srv, &s_ops, &g, &g.ws), 0);
	assert_int_equal(cm_zwatch_new(&loop, g.csock, &c_ops, &g, &g.wc), 0);

	/* Unknown peer on a ROUTER_MANDATORY socket: dropped, reported. */
	assert_int_equal(sendstrs(g.ws, nobody, 2), -EHOSTUNREACH);
	assert_int_equal(cm_zwatch_queued(g.ws), 0);
	cm_zwatch_get_stats(g.ws, &st);
	assert_int_equal(st.dropped_unroutable, 1);

	assert_int_equal(sendstrs(g.wc, hello, 1), 0);
	assert_int_equal(uv_timer_init(&loop, &g.t), 0);
	g.t.data = &g;
	assert_int_equal(uv_timer_start(&g.t, gone_ping, 10, 10), 0);

	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_true(g.client_closed);
	assert_int_equal(g.server_got, 1);
	assert_int_equal(g.last_rc, -EHOSTUNREACH);
	assert_null(g.ws);
	loop_finish(&loop, &guard);
	zmq_close(srv);
	assert_int_equal(zmq_ctx_term(ctx), 0);
}

/* (6) Free a watcher that has input waiting and sends queued: the queued
 * frames (heap-sized, so a leak would show under ASan) are released and
 * uv_loop_close succeeds. */
static void test_free_with_pending_input_and_queue(void **state)
{
	uv_loop_t loop;
	uv_timer_t g;
	struct rec r = {.loop = &loop};
	void *ctx = zmq_ctx_new(), *peer;
	char big[200];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(uv_loop_init(&loop), 0);
	guard_start(&loop, &g);
	r.sock = xsock(ctx, ZMQ_PAIR);
	peer = xsock(ctx, ZMQ_PAIR);
	setint(r.sock, ZMQ_SNDHWM, 1);
	setint(peer, ZMQ_RCVHWM, 1);
	assert_int_equal(zmq_bind(r.sock, "inproc://pending"), 0);
	assert_int_equal(zmq_connect(peer, "inproc://pending"), 0);
	for (int i = 0; i < 5; i++)
		raw_send(peer, big, 0);
	assert_int_equal(cm_zwatch_new(&loop, r.sock, &rec_ops, &r, &r.w), 0);
	cm_zwatch_pause_recv(r.w, true);
	for (int i = 0; i < 50; i++) {
		const char *fr[] = {big, big};

		assert_int_equal(sendstrs(r.w, fr, 2), 0);
	}
	assert_true(cm_zwatch_queued(r.w) > 0);
	/* A few turns with the input still waiting and the peer not reading. */
	for (int i = 0; i < 3; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(r.n, 0);
	assert_true(cm_zwatch_queued(r.w) > 0);

	cm_zwatch_free(&r.w);
	assert_int_equal(zmq_close(r.sock), 0);
	loop_finish(&loop, &g);
	zmq_close(peer);
	assert_int_equal(zmq_ctx_term(ctx), 0);
}

/* (7) cm_zwatch_free (and zmq_close) from inside the recv callback: no more
 * deliveries, no batch_end on the freed watcher, the loop runs dry. */
static void test_free_inside_recv(void **state)
{
	uv_loop_t loop;
	uv_timer_t g;
	struct rec r = {.loop = &loop, .free_in_recv = true};
	void *ctx = zmq_ctx_new(), *peer;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	guard_start(&loop, &g);
	pair_setup(ctx, "inproc://free-recv", &r.sock, &peer);
	raw_send(peer, "one", 0);
	raw_send(peer, "two", 0);
	raw_send(peer, "three", 0);
	assert_int_equal(cm_zwatch_new(&loop, r.sock, &rec_ops, &r, &r.w), 0);

	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.msgs[0], "one");
	assert_int_equal(r.batches, 0);
	assert_null(r.w);
	assert_null(r.sock);
	loop_finish(&loop, &g);
	zmq_close(peer);
	assert_int_equal(zmq_ctx_term(ctx), 0);
	rec_clear(&r);
}

static void test_free_inside_batch_end(void **state)
{
	uv_loop_t loop;
	uv_timer_t g;
	struct rec r = {.loop = &loop, .free_in_batch = true};
	void *ctx = zmq_ctx_new(), *peer;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	guard_start(&loop, &g);
	pair_setup(ctx, "inproc://free-batch", &r.sock, &peer);
	raw_send(peer, "one", 0);
	raw_send(peer, "two", 0);
	assert_int_equal(cm_zwatch_new(&loop, r.sock, &rec_ops, &r, &r.w), 0);

	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.batches, 1);
	assert_null(r.w);
	loop_finish(&loop, &g);
	zmq_close(peer);
	assert_int_equal(zmq_ctx_term(ctx), 0);
	rec_clear(&r);
}

/* (8) Multipart messages keep their frames together, up to
 * CM_ZWATCH_MAX_FRAMES; longer ones are drained, dropped and counted
 * without disturbing their neighbours. */
static void raw_multi(void *s, const char *prefix, int frames)
{
	for (int i = 0; i < frames; i++) {
		char b[32];

		snprintf(b, sizeof(b), "%s%d", prefix, i);
		raw_send(s, b, i + 1 < frames ? ZMQ_SNDMORE : 0);
	}
}

static void test_multipart_frames_together(void **state)
{
	uv_loop_t loop;
	uv_timer_t g;
	struct rec r = {.loop = &loop, .stop_at = 4};
	void *ctx = zmq_ctx_new(), *peer;
	struct cm_zwatch_stats st;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	guard_start(&loop, &g);
	pair_setup(ctx, "inproc://multi", &r.sock, &peer);
	raw_multi(peer, "a", 1);
	raw_multi(peer, "b", 3);
	raw_multi(peer, "c", 9);
	raw_multi(peer, "d", CM_ZWATCH_MAX_FRAMES);
	raw_multi(peer, "e", 20);
	raw_multi(peer, "f", 2);
	assert_int_equal(cm_zwatch_new(&loop, r.sock, &rec_ops, &r, &r.w), 0);
	cm_zwatch_set_budget(r.w, 2); /* messages split across turns too */

	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 1);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.msgs[0], "a0");
	assert_string_equal(r.msgs[1], "b0|b1|b2");
	assert_string_equal(r.msgs[2], "d0|d1|d2|d3|d4|d5|d6|d7");
	assert_string_equal(r.msgs[3], "f0|f1");
	cm_zwatch_get_stats(r.w, &st);
	assert_int_equal(st.dropped_oversize_frames, 2);
	assert_int_equal(st.received, 4);

	cm_zwatch_free(&r.w);
	loop_finish(&loop, &g);
	zmq_close(r.sock);
	zmq_close(peer);
	assert_int_equal(zmq_ctx_term(ctx), 0);
	rec_clear(&r);
}

/* ETERM (context shut down under the socket): ops->error exactly once, and
 * freeing from inside it is allowed. */
static void test_eterm_calls_error_once(void **state)
{
	uv_loop_t loop;
	uv_timer_t g;
	struct rec r = {.loop = &loop, .free_in_error = true};
	void *ctx = zmq_ctx_new(), *peer;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	guard_start(&loop, &g);
	pair_setup(ctx, "inproc://eterm", &r.sock, &peer);
	assert_int_equal(cm_zwatch_new(&loop, r.sock, &rec_ops, &r, &r.w), 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(zmq_ctx_shutdown(ctx), 0);

	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r.errors, 1);
	assert_int_equal(r.last_err, -ETERM);
	assert_null(r.w);
	loop_finish(&loop, &g);
	zmq_close(r.sock);
	zmq_close(peer);
	assert_int_equal(zmq_ctx_term(ctx), 0);
}

/* Misuse: a second watcher on one socket, empty sends, a refused send. */
static void test_misuse(void **state)
{
	uv_loop_t loop;
	uv_timer_t g;
	struct rec r = {.loop = &loop};
	struct cm_zwatch *w2 = NULL, *wp = NULL;
	void *ctx = zmq_ctx_new(), *peer, *pull;
	zmq_msg_t m;
	const char *fr[] = {"x"};

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	guard_start(&loop, &g);
	pair_setup(ctx, "inproc://misuse", &r.sock, &peer);
	assert_int_equal(cm_zwatch_new(&loop, r.sock, &rec_ops, &r, &r.w), 0);
	assert_int_equal(cm_zwatch_new(&loop, r.sock, &rec_ops, &r, &w2), -EEXIST);
	assert_null(w2);
	assert_int_equal(cm_zwatch_new(&loop, NULL, &rec_ops, &r, &w2), -EINVAL);
	assert_ptr_equal(cm_zwatch_socket(r.w), r.sock);
	zmq_msg_init(&m);
	assert_int_equal(cm_zwatch_send(r.w, &m, 0), -EINVAL);
	zmq_msg_close(&m);

	pull = xsock(ctx, ZMQ_PULL);
	assert_int_equal(cm_zwatch_new(&loop, pull, &rec_ops, &r, &wp), 0);
	/* A socket type that cannot send refuses; the watcher keeps going. */
	assert_int_equal(sendstrs(wp, fr, 1), -ENOTSUP);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(r.errors, 0);

	/* After a free, a new watcher on the same socket is fine. */
	cm_zwatch_free(&r.w);
	assert_int_equal(cm_zwatch_new(&loop, r.sock, &rec_ops, &r, &r.w), 0);
	cm_zwatch_free(&r.w);
	cm_zwatch_free(&wp);
	loop_finish(&loop, &g);
	zmq_close(r.sock);
	zmq_close(peer);
	zmq_close(pull);
	assert_int_equal(zmq_ctx_term(ctx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_before_first_wakeup),
		cmocka_unit_test(test_send_on_b_from_a_keeps_b_input),
		cmocka_unit_test(test_burst_over_budget),
		cmocka_unit_test(test_eagain_queue_unconnected),
		cmocka_unit_test(test_eagain_queue_paused_peer),
		cmocka_unit_test(test_peer_disappears),
		cmocka_unit_test(test_free_with_pending_input_and_queue),
		cmocka_unit_test(test_free_inside_recv),
		cmocka_unit_test(test_free_inside_batch_end),
		cmocka_unit_test(test_multipart_frames_together),
		cmocka_unit_test(test_eterm_calls_error_once),
		cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "common/feed.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/zwatch.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_BATCH 2000u
#define DEFAULT_MAX_BYTES (4u * 1024 * 1024)
#define MAX_FETCH_EVENTS 10000u
#define MAX_WAIT_MS 60000u

/* ------------------------------------------------------------ producer --- */

struct waiter {
	struct waiter *next;
	struct cm_rpc_req *req;
	uint64_t from;
	uint32_t max;
	uint64_t deadline_ns;
};

struct cm_feed {
	struct cm_store *s;
	char *producer;
	unsigned dbi;
	uint32_t max_batch, max_bytes;
	uint64_t head;
	struct cm_rpc *rpc;
	uv_timer_t *timer;
	struct waiter *waiters;
};

static int read_head_txn(struct cm_txn *t, void *arg)
{
	struct cm_feed *f = arg;
	struct cm_val k, v;
	int rc = cm_txn_last(t, f->dbi, &k, &v);

	if (rc == -ENOENT) {
		f->head = 0;
		return 0;
	}
	if (rc)
		return rc;
	if (k.size != 8)
		return CM_ECORRUPT;
	f->head = cm_be64_get(k.data);
	return 0;
}

int cm_feed_new(struct cm_store *s, const struct cm_feed_opts *o, struct cm_feed **out)
{
	struct cm_feed *f = cm_xcalloc(1, sizeof(*f));
	int rc;

	f->s = s;
	f->producer = cm_xstrdup(o->producer);
	f->dbi = o->log_dbi;
	f->max_batch = o->max_batch ? o->max_batch : DEFAULT_MAX_BATCH;
	f->max_bytes = o->max_batch_bytes ? o->max_batch_bytes : DEFAULT_MAX_BYTES;
	rc = cm_store_read(s, read_head_txn, f);
	if (rc) {
		free(f->producer);
		free(f);
		*out = NULL;
		return rc;
	}
	*out = f;
	return 0;
}

int cm_feed_append(struct cm_feed *f, struct cm_txn *t, cm_env *ev, uint64_t *seq_out)
{
	struct cm_val k, v;
	uint64_t seq = 1;
	unsigned char key[8];
	char msg_id[96];
	char *saved_id = ev->msg_id;
	void *where;
	size_t n;
	int rc;

	/* The log's last key is read inside the transaction (a cursor step) rather
	 * than cached, so an aborted or retried transaction can never leave a
	 * stale counter behind. */
	rc = cm_txn_last(t, f->dbi, &k, &v);
	if (rc == 0) {
		if (k.size != 8)
			return CM_ECORRUPT;
		seq = cm_be64_get(k.data) + 1;
	} else if (rc != -ENOENT) {
		return rc;
	}
	snprintf(msg_id, sizeof(msg_id), "%s/%" PRIu64, f->producer, seq);
	ev->schema_version = CM_ENV_SCHEMA_VERSION;
	ev->producer = f->producer;
	ev->sequence = seq;
	ev->msg_id = msg_id;
	if (ev->occurred_at_ms == 0)
		ev->occurred_at_ms = cm_clock_now_ms();
	n = cm_env_size(ev);
	if (n > CM_ENV_MAX_BYTES) {
		rc = CM_ETOOBIG;
		goto out;
	}
	cm_be64_put(key, seq);
	rc = cm_txn_reserve(t, f->dbi, key, sizeof(key), n, CM_PUT_APPEND, &where);
	if (rc)
		goto out;
	donthu__v1__envelope__pack(ev, where);
	if (seq_out)
		*seq_out = seq;
out:
	ev->msg_id = saved_id;
	return rc;
}

uint64_t cm_feed_head(const struct cm_feed *f)
{
	return f->head;
}

struct batch_ctx {
	struct cm_feed *f;
	uint64_t from;
	uint32_t max;
	zmq_msg_t msg;
	int built;
};

struct collect {
	ProtobufCBinaryData *ev;
	size_t n, cap;
	size_t bytes;
	uint32_t max, max_bytes;
	uint64_t next;
};

static int collect_one(const struct cm_val *key, const struct cm_val *val, void *arg)
{
	struct collect *c = arg;

	if (key->size != 8 || cm_be64_get(key->data) != c->next)
		return CM_ECORRUPT; /* the log must be gap-free */
	if (c->n > 0 && c->bytes + val->size > c->max_bytes)
		return 1;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->ev = cm_xrealloc(c->ev, c->cap * sizeof(*c->ev));
	}
	c->ev[c->n].data = (uint8_t *)val->data;
	c->ev[c->n].len = val->size;
	c->n++;
	c->bytes += val->size;
	c->next++;
	return c->n >= c->max ? 1 : 0;
}

/* Pack the reply inside the read transaction: the event bytes point into the
 * map and are valid only until it ends. */
static int build_batch_txn(struct cm_txn *t, void *arg)
{
	struct batch_ctx *b = arg;
	struct collect c = {.max = b->max, .max_bytes = b->f->max_bytes, .next = b->from};
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__FetchReply fr = DONTHU__V1__FETCH_REPLY__INIT;
	unsigned char key[8];
	int rc = 0;

	if (b->from <= b->f->head) {
		cm_be64_put(key, b->from);
		rc = cm_txn_iter(t, b->f->dbi, key, sizeof(key), collect_one, &c);
		if (rc < 0)
			goto out;
	}
	fr.producer = b->f->producer;
	fr.first_seq = c.n ? b->from : 0;
	fr.head_seq = b->f->head;
	fr.n_events = c.n;
	fr.events = c.ev;
	env.schema_version = CM_ENV_SCHEMA_VERSION;
	env.producer = b->f->producer;
	env.body_case = DONTHU__V1__ENVELOPE__BODY_FETCH_REPLY;
	env.fetch_reply = &fr;
	rc = cm_env_pack_msg(&env, &b->msg);
	if (rc == 0)
		b->built = 1;
out:
	free(c.ev);
	return rc;
}

static void answer(struct cm_feed *f, struct cm_rpc_req **req, uint64_t from, uint32_t max)
{
	struct batch_ctx b = {.f = f, .from = from, .max = max};
	int rc = cm_store_read(f->s, build_batch_txn, &b);

	if (rc || !b.built) {
		cm_log_error_err(FEED, rc, "cannot read feed log from %" PRIu64, from);
		cm_rpc_reply_error(f->rpc, req, "unavailable", "", "feed log unreadable");
		return;
	}
	cm_rpc_reply_msg(f->rpc, req, &b.msg);
}

static void on_timer(uv_timer_t *t);

static void rearm(struct cm_feed *f)
{
	uint64_t now = cm_clock_mono_ns(), soonest = UINT64_MAX;

	for (struct waiter *w = f->waiters; w; w = w->next)
		if (w->deadline_ns < soonest)
			soonest = w->deadline_ns;
	if (soonest == UINT64_MAX) {
		uv_timer_stop(f->timer);
		return;
	}
	uv_timer_start(f->timer, on_timer, soonest > now ? (soonest - now) / 1000000 + 1 : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
	struct cm_feed *f = t->data;
	uint64_t now = cm_clock_mono_ns();
	struct waiter **pp = &f->waiters;

	while (*pp) {
		struct waiter *w = *pp;
		if (w->deadline_ns <= now) {
			*pp = w->next;
			answer(f, &w->req, w->from, w->max);
			free(w);
		} else {
			pp = &w->next;
		}
	}
	rearm(f);
}

void cm_feed_digest(const void *buf, size_t len, uint8_t out[8])
{
	uint8_t full[32];

	crypto_generichash(full, sizeof(full), buf, len, NULL, 0);
	memcpy(out, full, 8);
}

struct verify_ctx {
	struct cm_feed *f;
	uint64_t seq;
	uint8_t digest[8];
	int found;
};

static int verify_txn(struct cm_txn *t, void *arg)
{
	struct verify_ctx *v = arg;
	unsigned char key[8];
	struct cm_val val;
	int rc;

	cm_be64_put(key, v->seq);
	rc = cm_txn_get(t, v->f->dbi, key, sizeof(key), &val);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	cm_feed_digest(val.data, val.size, v->digest);
	v->found = 1;
	return 0;
}

static void on_fetch(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	struct cm_feed *f = arg;
	Donthu__V1__FetchRequest *q = env->fetch;
	uint64_t from = q ? q->from_seq : 0;
	uint32_t max = q ? q->max_events : 0;
	uint32_t wait = q ? q->wait_ms : 0;

	/* The consumer names the last event it applied: if ours at that sequence
	 * is a different event, our history is not the one it applied (we were
	 * restored from an older backup and have since appended other events).
	 * Serving on would make it skip ours; say so instead. */
	if (q && q->verify_seq && q->verify_digest.len == 8 && q->verify_seq <= f->head) {
		struct verify_ctx v = {.f = f, .seq = q->verify_seq};
		if (cm_store_read(f->s, verify_txn, &v) == 0 && v.found &&
		    memcmp(v.digest, q->verify_digest.data, 8) != 0) {
			cm_log_error(FEED,
				     "consumer %s applied a different event %" PRIu64
				     " than ours: histories diverged",
				     q->consumer ? q->consumer : "?", q->verify_seq);
			cm_env_free(&env);
			cm_rpc_reply_error(r, &req, "diverged", "fetch.verify_digest",
					   "the producer's event at verify_seq differs from the one "
					   "the consumer applied");
			return;
		}
	}
	cm_env_free(&env);
	if (from == 0) {
		cm_rpc_reply_error(r, &req, "invalid_field", "fetch.from_seq", "from_seq must be >= 1");
		return;
	}
	if (wait > MAX_WAIT_MS) {
		cm_rpc_reply_error(r, &req, "invalid_field", "fetch.wait_ms",
				   "wait_ms must be at most 60000");
		return;
	}
	if (max > MAX_FETCH_EVENTS) {
		cm_rpc_reply_error(r, &req, "invalid_field", "fetch.max_events",
				   "max_events must be at most 10000 (0 for the producer's default)");
		return;
	}
	/* 0 asks for the producer's default; the byte cap still bounds a batch. */
	if (max == 0)
		max = f->max_batch;
	/* Park only when the consumer is exactly at the head: a consumer ahead of
	 * the head (producer restored from an old backup) gets the head at once so
	 * it can tell. */
	if (from == f->head + 1 && wait > 0) {
		struct waiter *w = cm_xcalloc(1, sizeof(*w));
		w->req = req;
		w->from = from;
		w->max = max;
		w->deadline_ns = cm_clock_mono_ns() + (uint64_t)wait * 1000000u;
		w->next = f->waiters;
		f->waiters = w;
		rearm(f);
		return;
	}
	answer(f, &req, from, max);
}

int cm_feed_serve(struct cm_feed *f, uv_loop_t *loop, struct cm_rpc *r)
{
	int rc;

	f->rpc = r;
	f->timer = cm_xcalloc(1, sizeof(*f->timer));
	rc = uv_timer_init(loop, f->timer);
	if (rc) {
		free(f->timer);
		f->timer = NULL;
		return rc;
	}
	f->timer->data = f;
	cm_rpc_on(r, DONTHU__V1__ENVELOPE__BODY_FETCH, on_fetch, f);
	return 0;
}

void cm_feed_committed(struct cm_feed *f)
{
	uint64_t old = f->head;
	struct waiter **pp = &f->waiters;
	int rc = cm_store_read(f->s, read_head_txn, f);

	if (rc) {
		cm_log_error_err(FEED, rc, "cannot read feed head");
		return;
	}
	if (f->head == old)
		return;
	while (*pp) {
		struct waiter *w = *pp;
		if (w->from <= f->head) {
			*pp = w->next;
			answer(f, &w->req, w->from, w->max);
			free(w);
		} else {
			pp = &w->next;
		}
	}
	if (f->timer)
		rearm(f);
}

struct read_ctx {
	uint64_t next;
	uint32_t left;
	int (*cb)(uint64_t, const void *, size_t, void *);
	void *arg;
	int count;
};

static int read_one(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct read_ctx *r = arg;
	int rc;

	if (k->size != 8)
		return CM_ECORRUPT;
	rc = r->cb(cm_be64_get(k->data), v->data, v->size, r->arg);
	if (rc)
		return rc;
	r->count++;
	return --r->left == 0 ? 1 : 0;
}

struct read_txn_ctx {
	struct cm_feed *f;
	struct read_ctx rc;
};

static int read_txn(struct cm_txn *t, void *arg)
{
	struct read_txn_ctx *x = arg;
	unsigned char key[8];
	int rc;

	cm_be64_put(key, x->rc.next);
	rc = cm_txn_iter(t, x->f->dbi, key, sizeof(key), read_one, &x->rc);
	return rc < 0 ? rc : 0;
}

int cm_feed_read(struct cm_feed *f, uint64_t from, uint32_t max,
		 int (*cb)(uint64_t seq, const void *buf, size_t len, void *arg), void *arg)
{
	struct read_txn_ctx x = {.f = f, .rc = {.next = from, .left = max, .cb = cb, .arg = arg}};
	int rc;

	if (max == 0)
		return 0;
	rc = cm_store_read(f->s, read_txn, &x);
	return rc ? rc : x.rc.count;
}

static void free_on_close(uv_handle_t *h)
{
	free(h);
}

void cm_feed_free(struct cm_feed **fp)
{
	struct cm_feed *f;

	if (!fp || !*fp)
		return;
	f = *fp;
	while (f->waiters) {
		struct waiter *w = f->waiters;
		f->waiters = w->next;
		cm_rpc_req_free(&w->req);
		free(w);
	}
	if (f->timer)
		uv_close((uv_handle_t *)f->timer, free_on_close);
	free(f->producer);
	free(f);
	*fp = NULL;
}

/* ------------------------------------------------------------ consumer --- */

enum timer_mode { TM_NONE, TM_TIMEOUT, TM_RETRY };

struct cm_feed_consumer {
	uv_loop_t *loop;
	void *zctx;
	struct cm_store *s;
	char *name, *producer, *endpoint;
	char *srv_pub, *pub, *sec;
	unsigned offset_dbi;
	uint32_t max_events, wait_ms, timeout_ms;
	struct cm_feed_consumer_ops ops;
	void *arg;
	void *sock;
	struct cm_zwatch *w;
	uv_timer_t *timer;
	enum timer_mode tmode;
	uint64_t applied, head;
	uint8_t digest[8];	/* of the last applied event; valid when has_digest */
	bool has_digest;
	int last_err;
	bool inflight, stopping, diverged;
	bool answered;		/* a fetch was answered since start: head is real */
};

/* The stored offset: 8-byte big-endian sequence, then (since the divergence
 * check) the 8-byte digest of that event. */
static int offset_read(struct cm_txn *t, unsigned offset_dbi, const char *producer, uint64_t *out,
		       uint8_t digest[8], bool *has_digest)
{
	struct cm_val v;
	int rc = cm_txn_get(t, offset_dbi, producer, strlen(producer), &v);

	*out = 0;
	if (has_digest)
		*has_digest = false;
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (v.size != 8 && v.size != 16)
		return CM_ECORRUPT;
	*out = cm_be64_get(v.data);
	if (v.size == 16 && digest) {
		memcpy(digest, (const uint8_t *)v.data + 8, 8);
		*has_digest = true;
	}
	return 0;
}

int cm_feed_offset_get(struct cm_txn *t, unsigned offset_dbi, const char *producer, uint64_t *out)
{
	return offset_read(t, offset_dbi, producer, out, NULL, NULL);
}

static int load_offset_txn(struct cm_txn *t, void *arg)
{
	struct cm_feed_consumer *c = arg;
	return offset_read(t, c->offset_dbi, c->producer, &c->applied, c->digest, &c->has_digest);
}

static void consumer_recv(struct cm_zwatch *w, zmq_msg_t *frames, size_t n, void *arg);
static void consumer_error(struct cm_zwatch *w, int err, void *arg);
static const struct cm_zwatch_ops consumer_zops = {
	.recv = consumer_recv,
	.error = consumer_error,
};

static int consumer_connect(struct cm_feed_consumer *c)
{
	struct cm_zsock_opts o = {
		.type = ZMQ_DEALER,
		.endpoint = c->endpoint,
		.bind = false,
		.linger_ms = -1, /* a reconnecting consumer drops its stale request */
		.maxmsgsize = 64 * (int64_t)CM_ENV_MAX_BYTES,
		.curve_server_public = c->srv_pub,
		.curve_public = c->pub,
		.curve_secret = c->sec,
	};
	int rc = cm_zsock_open(c->zctx, &o, &c->sock);

	if (rc)
		return rc;
	rc = cm_zwatch_new(c->loop, c->sock, &consumer_zops, c, &c->w);
	if (rc)
		cm_zsock_close(&c->sock);
	return rc;
}

static void consumer_disconnect(struct cm_feed_consumer *c)
{
	cm_zwatch_free(&c->w);
	cm_zsock_close(&c->sock);
}

static void consumer_timer_cb(uv_timer_t *t);

static void set_timer(struct cm_feed_consumer *c, enum timer_mode m, uint64_t ms)
{
	c->tmode = m;
	uv_timer_start(c->timer, consumer_timer_cb, ms, 0);
}

static void send_fetch(struct cm_feed_consumer *c)
{
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__FetchRequest q = DONTHU__V1__FETCH_REQUEST__INIT;
	zmq_msg_t m;
	int rc;

	if (c->stopping || c->inflight || c->diverged)
		return;
	q.consumer = c->name;
	q.from_seq = c->applied + 1;
	if (c->applied && c->has_digest) {
		q.verify_seq = c->applied;
		q.verify_digest.data = c->digest;
		q.verify_digest.len = 8;
	}
	q.max_events = c->max_events;
	q.wait_ms = c->wait_ms;
	env.schema_version = CM_ENV_SCHEMA_VERSION;
	env.producer = c->name;
	env.body_case = DONTHU__V1__ENVELOPE__BODY_FETCH;
	env.fetch = &q;
	rc = cm_env_pack_msg(&env, &m);
	if (rc == 0)
		rc = cm_zwatch_send(c->w, &m, 1);
	if (rc) {
		cm_log_warn_err(FEED, rc, "fetch from %s failed; retrying", c->producer);
		set_timer(c, TM_RETRY, 500);
		return;
	}
	c->inflight = true;
	set_timer(c, TM_TIMEOUT, c->timeout_ms);
}

static void consumer_timer_cb(uv_timer_t *t)
{
	struct cm_feed_consumer *c = t->data;

	if (c->tmode == TM_TIMEOUT && c->inflight) {
		/* No answer: the producer may have restarted and lost our request.
		 * A fresh socket guarantees no stale reply is applied later. */
		/* Health must show a producer we cannot reach (down, or a CURVE
		 * handshake that fails), not only errors in what it sends. */
		if (c->last_err != -ETIMEDOUT)
			cm_log_warn(FEED, "no reply from %s at %s within %u ms; reconnecting",
				    c->producer, c->endpoint, c->timeout_ms);
		if (!c->last_err)
			c->last_err = -ETIMEDOUT;
		consumer_disconnect(c);
		c->inflight = false;
		if (consumer_connect(c) != 0) {
			set_timer(c, TM_RETRY, 1000);
			return;
		}
	}
	c->tmode = TM_NONE;
	if (!c->w && consumer_connect(c) != 0) {
		set_timer(c, TM_RETRY, 1000);
		return;
	}
	send_fetch(c);
}

struct apply_ctx {
	struct cm_feed_consumer *c;
	cm_env **evs;
	const ProtobufCBinaryData *raw;
	size_t n;
	uint64_t last;
	uint8_t digest[8];
};

static int apply_batch_txn(struct cm_txn *t, void *arg)
{
	struct apply_ctx *a = arg;
	struct cm_feed_consumer *c = a->c;
	unsigned char val[16];
	uint64_t stored;
	int rc;

	/* The offset is re-read inside the transaction: it is the truth, and a
	 * retried transaction must not apply anything twice. */
	rc = cm_feed_offset_get(t, c->offset_dbi, c->producer, &stored);
	if (rc)
		return rc;
	a->last = stored;
	for (size_t i = 0; i < a->n; i++) {
		uint64_t seq = a->evs[i]->sequence;
		if (seq <= stored)
			continue;
		if (seq != a->last + 1)
			return CM_EGAP;
		rc = c->ops.apply(t, a->evs[i], a->raw[i].data, a->raw[i].len, c->arg);
		if (rc)
			return rc;
		a->last = seq;
		cm_feed_digest(a->raw[i].data, a->raw[i].len, a->digest);
	}
	if (a->last == stored)
		return 0;
	cm_be64_put(val, a->last);
	memcpy(val + 8, a->digest, 8);
	return cm_txn_put(t, c->offset_dbi, c->producer, strlen(c->producer), val, 16, 0);
}

static void handle_reply(struct cm_feed_consumer *c, Donthu__V1__FetchReply *fr)
{
	struct apply_ctx a = {.c = c};
	int rc = 0;

	c->head = fr->head_seq;
	c->answered = true;
	if (fr->n_events == 0) {
		if (c->applied > fr->head_seq) {
			/* Wait for it: once it reaches our position, the digest check
			 * tells whether it is the same history or another one. */
			if (c->last_err != CM_EGAP)
				cm_log_error(FEED,
					     "producer %s head %" PRIu64 " is behind our applied %" PRIu64
					     " (restored from an older backup?)",
					     c->producer, fr->head_seq, c->applied);
			c->last_err = CM_EGAP;
			set_timer(c, TM_RETRY, c->wait_ms);
			return;
		}
		send_fetch(c);
		return;
	}
	a.evs = cm_xcalloc(fr->n_events, sizeof(*a.evs));
	a.raw = fr->events;
	for (size_t i = 0; i < fr->n_events; i++) {
		rc = cm_env_unpack(fr->events[i].data, fr->events[i].len, &a.evs[i]);
		if (rc) {
			cm_log_error_err(FEED, rc, "undecodable event from %s at %" PRIu64,
					 c->producer, fr->first_seq + i);
			goto out;
		}
		a.n++;
	}
	rc = cm_store_write(c->s, apply_batch_txn, &a);
	if (rc == 0) {
		uint64_t before = c->applied;
		if (a.last != before) {
			memcpy(c->digest, a.digest, 8);
			c->has_digest = true;
		}
		c->applied = a.last;
		if (c->last_err)
			cm_log_notice(FEED, "consuming %s again at %" PRIu64, c->producer, c->applied);
		c->last_err = 0;
		if (c->ops.committed && c->applied != before)
			c->ops.committed(c->applied, c->arg);
	}
out:
	for (size_t i = 0; i < a.n; i++)
		cm_env_free(&a.evs[i]);
	free(a.evs);
	if (rc) {
		if (rc != c->last_err)
			cm_log_error_err(FEED, rc, "cannot apply batch from %s after %" PRIu64
						   "; will retry",
					 c->producer, c->applied);
		c->last_err = rc;
		set_timer(c, TM_RETRY, 1000);
		return;
	}
	send_fetch(c);
}

static void consumer_recv(struct cm_zwatch *w, zmq_msg_t *frames, size_t n, void *arg)
{
	struct cm_feed_consumer *c = arg;
	cm_env *env = NULL;

	(void)w;
	if (n != 1 || !c->inflight)
		return;
	if (cm_env_unpack_limit(zmq_msg_data(&frames[0]), zmq_msg_size(&frames[0]),
				CM_ENV_MAX_BATCH_BYTES, &env) != 0)
		return;
	if (env->body_case == DONTHU__V1__ENVELOPE__BODY_FETCH_REPLY && env->fetch_reply) {
		if (c->last_err == -ETIMEDOUT) {
			cm_log_notice(FEED, "%s answers again", c->producer);
			c->last_err = 0;
		}
		c->inflight = false;
		uv_timer_stop(c->timer);
		c->tmode = TM_NONE;
		handle_reply(c, env->fetch_reply);
	} else if (env->body_case == DONTHU__V1__ENVELOPE__BODY_CONTROL_REPLY) {
		const Donthu__V1__ErrorDetail *e =
			env->control_reply ? env->control_reply->error : NULL;
		c->inflight = false;
		uv_timer_stop(c->timer);
		c->tmode = TM_NONE;
		if (e && e->code && strcmp(e->code, "diverged") == 0) {
			/* Skipping would lose the producer's events; applying them
			 * would mix two histories. Stop and say so. */
			cm_log_error(FEED,
				     "producer %s no longer has the event %" PRIu64
				     " we applied: stores restored out of order? Not consuming %s "
				     "until a consistent pair of stores is restored",
				     c->producer, c->applied, c->producer);
			c->diverged = true;
			c->last_err = CM_EGAP;
		} else {
			cm_log_error(FEED, "producer %s refused fetch: %s", c->producer,
				     e ? e->message : "?");
			set_timer(c, TM_RETRY, 1000);
		}
	}
	cm_env_free(&env);
}

static void consumer_error(struct cm_zwatch *w, int err, void *arg)
{
	struct cm_feed_consumer *c = arg;

	(void)w;
	cm_log_error_err(FEED, err, "feed socket to %s failed", c->producer);
}

static char *dup_or_null(const char *s)
{
	return s ? cm_xstrdup(s) : NULL;
}

int cm_feed_consumer_start(uv_loop_t *loop, void *zctx, struct cm_store *s,
			   const struct cm_feed_consumer_opts *o,
			   const struct cm_feed_consumer_ops *ops, void *arg,
			   struct cm_feed_consumer **out)
{
	struct cm_feed_consumer *c = cm_xcalloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	c->loop = loop;
	c->zctx = zctx;
	c->s = s;
	c->name = cm_xstrdup(o->name);
	c->producer = cm_xstrdup(o->producer);
	c->endpoint = cm_xstrdup(o->endpoint);
	c->srv_pub = dup_or_null(o->curve_server_public);
	c->pub = dup_or_null(o->curve_public);
	c->sec = dup_or_null(o->curve_secret);
	c->offset_dbi = o->offset_dbi;
	c->max_events = o->max_events ? o->max_events : DEFAULT_MAX_BATCH;
	c->wait_ms = o->wait_ms ? o->wait_ms : 1000;
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : c->wait_ms + 3000;
	c->ops = *ops;
	c->arg = arg;
	rc = cm_store_read(s, load_offset_txn, c);
	if (rc)
		goto err;
	c->timer = cm_xcalloc(1, sizeof(*c->timer));
	rc = uv_timer_init(loop, c->timer);
	if (rc) {
		free(c->timer);
		c->timer = NULL;
		goto err;
	}
	c->timer->data = c;
	rc = consumer_connect(c);
	if (rc)
		goto err;
	send_fetch(c);
	*out = c;
	return 0;
err:
	c->stopping = true;
	cm_feed_consumer_free(&c);
	return rc;
}

uint64_t cm_feed_consumer_applied(const struct cm_feed_consumer *c)
{
	return c->applied;
}

uint64_t cm_feed_consumer_head(const struct cm_feed_consumer *c)
{
	return c->head;
}

bool cm_feed_consumer_answered(const struct cm_feed_consumer *c)
{
	return c->answered;
}

int cm_feed_consumer_error(const struct cm_feed_consumer *c)
{
	return c->last_err;
}


void cm_feed_consumer_free(struct cm_feed_consumer **cp)
{
	struct cm_feed_consumer *c;

	if (!cp || !*cp)
		return;
	c = *cp;
	c->stopping = true;
	consumer_disconnect(c);
	if (c->timer)
		uv_close((uv_handle_t *)c->timer, free_on_close);
	free(c->name);
	free(c->producer);
	free(c->endpoint);
	free(c->srv_pub);
	free(c->pub);
	free(c->sec);
	free(c);
	*cp = NULL;
}

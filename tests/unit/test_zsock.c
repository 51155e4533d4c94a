/*
 * test_zsock.c - house-default sockets, key files and the ZAP handler.
 *
 * Everything runs on a uv loop through cm_zwatch, with a guard timer that
 * fails the test instead of hanging. Only 127.0.0.1, ipc:// in a temporary
 * directory and inproc:// are used.
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
#include <unistd.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/zsock.h"
#include "common/zwatch.h"

#define GUARD_MS 15000

struct env {
	uv_loop_t loop;
	uv_timer_t guard, tick;
	void *ctx;
	char dir[64];
	bool (*until)(struct env *e);
	void *arg;
};

static void guard_cb(uv_timer_t *t)
{
	(void)t;
	fail_msg("test did not finish within %d ms", GUARD_MS);
}

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(uv_loop_init(&e->loop), 0);
	assert_int_equal(uv_timer_init(&e->loop, &e->guard), 0);
	assert_int_equal(uv_timer_start(&e->guard, guard_cb, GUARD_MS, 0), 0);
	uv_unref((uv_handle_t *)&e->guard);
	assert_int_equal(uv_timer_init(&e->loop, &e->tick), 0);
	e->tick.data = e;
	e->ctx = zmq_ctx_new();
	assert_non_null(e->ctx);
	strcpy(e->dir, "/tmp/zsock-test-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
}

static char *path_in(struct env *e, const char *name)
{
	return cm_xasprintf("%s/%s", e->dir, name);
}

static void write_file(struct env *e, const char *name, const char *text)
{
	char *p = path_in(e, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	free(p);
}

static void rm_file(struct env *e, const char *name)
{
	char *p = path_in(e, name);

	unlink(p);
	free(p);
}

/* Sockets and watchers must be gone already; this ends the loop, checks
 * that nothing leaked a handle, terminates the context, removes the dir. */
static void env_finish(struct env *e, const char *const *files)
{
	uv_close((uv_handle_t *)&e->guard, NULL);
	uv_close((uv_handle_t *)&e->tick, NULL);
	assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&e->loop), 0);
	assert_int_equal(zmq_ctx_term(e->ctx), 0);
	for (; files && *files; files++)
		rm_file(e, *files);
	assert_int_equal(rmdir(e->dir), 0);
}

static void tick_cb(uv_timer_t *t)
{
	struct env *e = t->data;

	if (e->until(e))
		uv_stop(&e->loop);
}

/* Run the loop until cond holds (checked every 5 ms) or the guard fires. */
static void run_until(struct env *e, bool (*cond)(struct env *e))
{
	e->until = cond;
	assert_int_equal(uv_timer_start(&e->tick, tick_cb, 5, 5), 0);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	uv_timer_stop(&e->tick);
}

static bool never(struct env *e)
{
	(void)e;
	return false;
}

static void stop_cb(uv_timer_t *t)
{
	struct env *e = t->data;

	uv_stop(&e->loop);
}

/* A bounded wait for something that must NOT happen. */
static void run_for(struct env *e, uint64_t ms)
{
	e->until = never;
	assert_int_equal(uv_timer_start(&e->tick, stop_cb, ms, 0), 0);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	uv_timer_stop(&e->tick);
}

/* An echo server: replies "pong" to every request, records what it saw. */
struct srv {
	void *sock;
	struct cm_zwatch *w;
	int got;
	size_t max_size;
	char last_id[64];
	char user[64];
};

static void srv_recv(struct cm_zwatch *w, zmq_msg_t *f, size_t n, void *arg)
{
	struct srv *s = arg;
	zmq_msg_t r[2];
	const char *uid;
	size_t idlen;

	assert_int_equal(n, 2);
	s->got++;
	if (zmq_msg_size(&f[1]) > s->max_size)
		s->max_size = zmq_msg_size(&f[1]);
	idlen = zmq_msg_size(&f[0]);
	assert_true(idlen < sizeof(s->last_id));
	memcpy(s->last_id, zmq_msg_data(&f[0]), idlen);
	s->last_id[idlen] = '\0';
	uid = zmq_msg_gets(&f[1], "User-Id");
	snprintf(s->user, sizeof(s->user), "%s", uid ? uid : "");
	zmq_msg_init(&r[0]);
	zmq_msg_move(&r[0], &f[0]);
	zmq_msg_init_size(&r[1], 4);
	memcpy(zmq_msg_data(&r[1]), "pong", 4);
	assert_int_equal(cm_zwatch_send(w, r, 2), 0);
}

static const struct cm_zwatch_ops srv_ops = {.recv = srv_recv};

struct cli {
	void *sock;
	struct cm_zwatch *w;
	int got;
};

static void cli_recv(struct cm_zwatch *w, zmq_msg_t *f, size_t n, void *arg)
{
	struct cli *c = arg;

	(void)w;
	assert_int_equal(n, 1);
	assert_int_equal(zmq_msg_size(&f[0]), 4);
	assert_memory_equal(zmq_msg_data(&f[0]), "pong", 4);
	c->got++;
}

static const struct cm_zwatch_ops cli_ops = {.recv = cli_recv};

static void cli_send(struct cli *c, const char *s)
{
	size_t len = strlen(s);
	const void *b[] = {s};

	assert_int_equal(cm_zwatch_sendv(c->w, b, &len, 1), 0);
}

static void srv_open(struct env *e, struct srv *s, struct cm_zsock_opts *o)
{
	memset(s, 0, sizeof(*s));
	o->type = ZMQ_ROUTER;
	o->bind = true;
	assert_int_equal(cm_zsock_open(e->ctx, o, &s->sock), 0);
	assert_int_equal(cm_zwatch_new(&e->loop, s->sock, &srv_ops, s, &s->w), 0);
}

static void cli_open(struct env *e, struct cli *c, struct cm_zsock_opts *o)
{
	memset(c, 0, sizeof(*c));
	o->type = ZMQ_DEALER;
	o->bind = false;
	assert_int_equal(cm_zsock_open(e->ctx, o, &c->sock), 0);
	assert_int_equal(cm_zwatch_new(&e->loop, c->sock, &cli_ops, c, &c->w), 0);
}

static void srv_close(struct srv *s)
{
	cm_zwatch_free(&s->w);
	cm_zsock_close(&s->sock);
	assert_null(s->sock);
}

static void cli_close(struct cli *c)
{
	cm_zwatch_free(&c->w);
	cm_zsock_close(&c->sock);
}

static void last_endpoint(void *sock, char *ep, size_t len)
{
	assert_int_equal(zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, ep, &len), 0);
}

static struct cli *the_cli;

static bool cli_got_one(struct env *e)
{
	(void)e;
	return the_cli->got >= 1;
}

static void roundtrip(const char *bind_ep, bool use_dir)
{
	struct env e;
	struct srv s;
	struct cli c;
	struct cm_zsock_opts so = {0}, co = {0};
	char ep[256], *bep = NULL;
	int v;
	int64_t v64;
	size_t len;

	env_init(&e);
	bep = use_dir ? cm_xasprintf("ipc://%s/%s", e.dir, bind_ep) : cm_xstrdup(bind_ep);
	so.endpoint = bep;
	srv_open(&e, &s, &so);
	last_endpoint(s.sock, ep, sizeof(ep));
	co.endpoint = ep;
	co.identity = "client-7";
	cli_open(&e, &c, &co);

	/* The house defaults. */
	len = sizeof(v);
	assert_int_equal(zmq_getsockopt(s.sock, ZMQ_LINGER, &v, &len), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(zmq_getsockopt(c.sock, ZMQ_SNDHWM, &v, &len), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(zmq_getsockopt(s.sock, ZMQ_RCVHWM, &v, &len), 0);
	assert_int_equal(v, 10000);
	len = sizeof(v64);
	assert_int_equal(zmq_getsockopt(s.sock, ZMQ_MAXMSGSIZE, &v64, &len), 0);
	assert_int_equal(v64, 1024 * 1024);
	/* ROUTER_MANDATORY: an unknown peer is an error, not a silent drop. */
	assert_int_equal(zmq_send(s.sock, "nobody", 6, ZMQ_SNDMORE | ZMQ_DONTWAIT), -1);
	assert_int_equal(zmq_errno(), EHOSTUNREACH);

	cli_send(&c, "ping");
	the_cli = &c;
	run_until(&e, cli_got_one);
	assert_int_equal(s.got, 1);
	assert_string_equal(s.last_id, "client-7");
	assert_int_equal(c.got, 1);

	cli_close(&c);
	srv_close(&s);
	env_finish(&e, use_dir ? (const char *const[]){bind_ep, NULL} : NULL);
	free(bep);
}

static void test_roundtrip_tcp(void **state)
{
	(void)state;
	roundtrip("tcp://127.0.0.1:*", false);
}

static void test_roundtrip_ipc(void **state)
{
	(void)state;
	roundtrip("x", true);
}

/* maxmsgsize: an oversize message never reaches the receiver. The small
 * pings go out after the big one on the same connection, so once one of them
 * arrives the big one has certainly been dealt with. */
static struct srv *the_srv;

static bool srv_got_one(struct env *e)
{
	const void *b[] = {"small"};
	size_t len = 5;

	(void)e;
	if (the_srv->got >= 1)
		return true;
	assert_int_equal(cm_zwatch_sendv(the_cli->w, b, &len, 1), 0);
	return false;
}

static void test_maxmsgsize_drops_oversize(void **state)
{
	struct env e;
	struct srv s;
	struct cli c;
	struct cm_zsock_opts so = {.endpoint = "tcp://127.0.0.1:*", .maxmsgsize = 1024};
	struct cm_zsock_opts co = {0};
	char ep[256], *big;
	const void *b[1];
	size_t len = 4000;

	(void)state;
	env_init(&e);
	srv_open(&e, &s, &so);
	last_endpoint(s.sock, ep, sizeof(ep));
	co.endpoint = ep;
	co.linger_ms = -1;
	cli_open(&e, &c, &co);
	big = cm_xmalloc(len);
	memset(big, 'B', len);
	b[0] = big;
	assert_int_equal(cm_zwatch_sendv(c.w, b, &len, 1), 0);
	free(big);

	the_srv = &s;
	the_cli = &c;
	run_until(&e, srv_got_one);
	assert_true(s.got >= 1);
	assert_int_equal(s.max_size, 5);

	cli_close(&c);
	srv_close(&s);
	env_finish(&e, NULL);
}

/* CURVE with the ZAP handler: a listed key gets through (and is the peer's
 * User-Id), an unlisted one is refused before the server sees anything. */
struct keys {
	char srv_pub[41], srv_sec[41];
	char a_pub[41], a_sec[41];
	char b_pub[41], b_sec[41];
};

static struct cm_zap *the_zap;

static bool a_done_b_denied(struct env *e)
{
	unsigned long long allowed, denied;

	(void)e;
	cm_zap_counts(the_zap, &allowed, &denied);
	return the_cli->got >= 1 && denied >= 1;
}

static void test_curve_allowlist(void **state)
{
	static const char *const files[] = {"allow", "server.key", NULL};
	struct env e;
	struct keys k;
	struct srv s;
	struct cli a, b, c;
	struct cm_zap *zap = NULL;
	struct cm_zsock_opts so = {.endpoint = "tcp://127.0.0.1:*"};
	struct cm_zsock_opts ao = {0}, bo = {0};
	char ep[256], secret[41], *text, *allow, derived[41];
	unsigned long long allowed, denied;

	(void)state;
	if (!zmq_has("curve"))
		skip();
	env_init(&e);
	assert_int_equal(zmq_curve_keypair(k.srv_pub, k.srv_sec), 0);
	assert_int_equal(zmq_curve_keypair(k.a_pub, k.a_sec), 0);
	assert_int_equal(zmq_curve_keypair(k.b_pub, k.b_sec), 0);
	assert_int_equal(cm_zsock_public_of(k.srv_sec, derived), 0);
	assert_string_equal(derived, k.srv_pub);

	text = cm_xasprintf("%s\n", k.srv_sec);
	write_file(&e, "server.key", text);
	free(text);
	text = cm_xasprintf("# clients allowed to talk to us\n\n  %s   # alice\n", k.a_pub);
	write_file(&e, "allow", text);
	free(text);
	allow = path_in(&e, "allow");
	text = path_in(&e, "server.key");
	assert_int_equal(cm_zsock_read_key(text, secret), 0);
	free(text);
	assert_string_equal(secret, k.srv_sec);

	/* Without the handler a CURVE server would admit everyone. */
	so.curve_server_secret = secret;
	so.type = ZMQ_ROUTER;
	so.bind = true;
	assert_int_equal(cm_zsock_open(e.ctx, &so, &s.sock), CM_ESTATE);

	assert_int_equal(cm_zap_start(&e.loop, e.ctx, allow, &zap), 0);
	assert_int_equal(cm_zap_start(&e.loop, e.ctx, allow, &the_zap), -EADDRINUSE);
	the_zap = zap;
	srv_open(&e, &s, &so);
	last_endpoint(s.sock, ep, sizeof(ep));

	ao.endpoint = ep;
	ao.curve_server_public = k.srv_pub;
	ao.curve_public = k.a_pub;
	ao.curve_secret = k.a_sec;
	cli_open(&e, &a, &ao);
	bo = ao;
	bo.curve_public = k.b_pub;
	bo.curve_secret = k.b_sec;
	bo.linger_ms = -1; /* its message will never leave */
	cli_open(&e, &b, &bo);
	cli_send(&b, "from-b");
	cli_send(&a, "from-a");

	the_cli = &a;
	run_until(&e, a_done_b_denied);
	/* The refused client must stay refused: a bounded wait for nothing. */
	run_for(&e, 300);
	assert_int_equal(a.got, 1);
	assert_int_equal(b.got, 0);
	assert_int_equal(s.got, 1);
	assert_string_equal(s.user, k.a_pub);
	cm_zap_counts(zap, &allowed, &denied);
	assert_true(allowed >= 1);
	assert_true(denied >= 1);
	cli_close(&b);

	/* Reload: a bad file keeps the old list; a good one admits b's key. */
	write_file(&e, "allow", "not a key\n");
	assert_int_equal(cm_zap_reload(zap), CM_EKEY);
	text = cm_xasprintf("%s\n%s\n", k.a_pub, k.b_pub);
	write_file(&e, "allow", text);
	free(text);
	assert_int_equal(cm_zap_reload(zap), 0);
	cli_open(&e, &c, &bo);
	cli_send(&c, "from-c");
	the_cli = &c;
	run_until(&e, cli_got_one);
	assert_int_equal(s.got, 2);
	assert_string_equal(s.user, k.b_pub);

	cli_close(&c);
	cli_close(&a);
	srv_close(&s);
	cm_zap_free(&zap);
	assert_null(zap);
	cm_zap_free(&zap);
	free(allow);
	env_finish(&e, files);
}

/* Plain (NULL mechanism) sockets on a context with a ZAP handler keep
 * working, even when they ask ZAP (a ZAP domain makes libzmq ask). */
static void test_zap_allows_null_mechanism(void **state)
{
	static const char *const files[] = {"allow", NULL};
	struct env e;
	struct srv s;
	struct cli c;
	struct cm_zap *zap = NULL;
	struct cm_zsock_opts co = {0};
	char ep[256], *allow;
	unsigned long long allowed, denied;
	int zero = 0;

	(void)state;
	env_init(&e);
	write_file(&e, "allow", "# nobody\n");
	allow = path_in(&e, "allow");
	assert_int_equal(cm_zap_start(&e.loop, e.ctx, allow, &zap), 0);
	/* The domain is taken at bind time, so this server is opened by hand. */
	memset(&s, 0, sizeof(s));
	s.sock = zmq_socket(e.ctx, ZMQ_ROUTER);
	assert_non_null(s.sock);
	assert_int_equal(zmq_setsockopt(s.sock, ZMQ_LINGER, &zero, sizeof(zero)), 0);
	assert_int_equal(zmq_setsockopt(s.sock, ZMQ_ZAP_DOMAIN, "plain", 5), 0);
	assert_int_equal(zmq_bind(s.sock, "tcp://127.0.0.1:*"), 0);
	assert_int_equal(cm_zwatch_new(&e.loop, s.sock, &srv_ops, &s, &s.w), 0);
	last_endpoint(s.sock, ep, sizeof(ep));
	co.endpoint = ep;
	cli_open(&e, &c, &co);
	cli_send(&c, "plain");
	the_cli = &c;
	run_until(&e, cli_got_one);
	assert_int_equal(s.got, 1);
	cm_zap_counts(zap, &allowed, &denied);
	assert_true(allowed >= 1);
	assert_int_equal(denied, 0);

	cli_close(&c);
	srv_close(&s);
	cm_zap_free(&zap);
	free(allow);
	env_finish(&e, files);
}

static void test_key_files(void **state)
{
	static const char *const files[] = {"ok", "ok-nonl", "short", "long", "junk",
					    "badchar", "allow-bad", NULL};
	struct env e;
	char pub[41], sec[41], key[41], *p, *text;
	struct cm_zap *zap = NULL;

	(void)state;
	env_init(&e);
	assert_int_equal(zmq_curve_keypair(pub, sec), 0);
	text = cm_xasprintf("%s\n", pub);
	write_file(&e, "ok", text);
	free(text);
	write_file(&e, "ok-nonl", sec);
	write_file(&e, "short", "123456789012345678901234567890123456789"); /* 39 */
	text = cm_xasprintf("%sA\n", pub);
	write_file(&e, "long", text);
	free(text);
	text = cm_xasprintf("%s\ntrailing\n", pub);
	write_file(&e, "junk", text);
	free(text);
	/* ',' is not in the Z85 alphabet. */
	write_file(&e, "badchar", "123456789,123456789012345678901234567890\n");

	p = path_in(&e, "ok");
	assert_int_equal(cm_zsock_read_key(p, key), 0);
	assert_string_equal(key, pub);
	free(p);
	p = path_in(&e, "ok-nonl");
	assert_int_equal(cm_zsock_read_key(p, key), 0);
	assert_string_equal(key, sec);
	free(p);
	for (const char *const *bad = (const char *const[]){"short", "long", "junk", "badchar",
							     NULL};
	     *bad; bad++) {
		p = path_in(&e, *bad);
		assert_int_equal(cm_zsock_read_key(p, key), CM_EKEY);
		free(p);
	}
	p = path_in(&e, "missing");
	assert_int_equal(cm_zsock_read_key(p, key), -ENOENT);
	assert_int_equal(cm_zap_start(&e.loop, e.ctx, p, &zap), -ENOENT);
	free(p);

	assert_int_equal(cm_zsock_public_of("tooshort", key), CM_EKEY);
	assert_int_equal(cm_zsock_public_of(sec, key), 0);
	assert_string_equal(key, pub);

	text = cm_xasprintf("%s\n%.39s\n", pub, pub);
	write_file(&e, "allow-bad", text);
	free(text);
	p = path_in(&e, "allow-bad");
	assert_int_equal(cm_zap_start(&e.loop, e.ctx, p, &zap), CM_EKEY);
	assert_null(zap);
	free(p);
	env_finish(&e, files);
}

static void test_open_errors(void **state)
{
	struct env e;
	char pub[41], sec[41], ep[256];
	void *s = NULL, *s2 = NULL;
	struct cm_zsock_opts o = {.type = ZMQ_ROUTER, .bind = true, .endpoint = "tcp://127.0.0.1:*"};

	(void)state;
	env_init(&e);
	assert_int_equal(zmq_curve_keypair(pub, sec), 0);

	assert_int_equal(cm_zsock_open(e.ctx, NULL, &s), -EINVAL);
	o.endpoint = "bogus://nowhere";
	assert_int_equal(cm_zsock_open(e.ctx, &o, &s), -EINVAL);
	assert_null(s);
	o.endpoint = "tcp://127.0.0.1:*";
	o.sndhwm = -5;
	assert_int_equal(cm_zsock_open(e.ctx, &o, &s), -EINVAL);
	o.sndhwm = 0;
	o.curve_server_secret = "tooshort";
	assert_int_equal(cm_zsock_open(e.ctx, &o, &s), CM_EKEY);
	o.curve_server_secret = NULL;

	o.type = ZMQ_DEALER;
	o.bind = false;
	o.endpoint = "tcp://127.0.0.1:5";
	o.curve_server_public = pub;
	assert_int_equal(cm_zsock_open(e.ctx, &o, &s), CM_EKEY); /* own keys missing */
	o.curve_public = pub;
	o.curve_secret = sec;
	o.curve_server_secret = sec;
	assert_int_equal(cm_zsock_open(e.ctx, &o, &s), -EINVAL); /* both roles */
	o.curve_server_secret = NULL;
	o.curve_server_public = o.curve_public = o.curve_secret = NULL;
	o.identity = "";
	assert_int_equal(cm_zsock_open(e.ctx, &o, &s), -EINVAL);
	o.identity = NULL;

	/* The same endpoint twice. */
	o.type = ZMQ_ROUTER;
	o.bind = true;
	o.endpoint = "tcp://127.0.0.1:*";
	assert_int_equal(cm_zsock_open(e.ctx, &o, &s), 0);
	last_endpoint(s, ep, sizeof(ep));
	o.endpoint = ep;
	assert_int_equal(cm_zsock_open(e.ctx, &o, &s2), -EADDRINUSE);
	assert_null(s2);
	cm_zsock_close(&s);
	cm_zsock_close(&s); /* pointer to NULL is fine */
	env_finish(&e, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_tcp),
		cmocka_unit_test(test_roundtrip_ipc),
		cmocka_unit_test(test_maxmsgsize_drops_oversize),
		cmocka_unit_test(test_curve_allowlist),
		cmocka_unit_test(test_zap_allows_null_mechanism),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

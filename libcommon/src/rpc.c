#include "common/rpc.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/zwatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUTE CM_ZWATCH_MAX_FRAMES
#define MAX_CASES 128

struct cm_rpc_req {
	size_t nroute;
	zmq_msg_t route[MAX_ROUTE];
};

struct slot {
	cm_rpc_handler fn;
	void *arg;
};

struct cm_rpc {
	void *sock;
	struct cm_zwatch *w;
	struct slot slots[MAX_CASES];
	cm_rpc_bad_handler bad;
	void *bad_arg;
	cm_rpc_raw_check raw;
	void *raw_arg;
	void (*batch_end)(struct cm_rpc *r, void *arg);
	void *batch_arg;
	size_t limit;
	struct cm_arena *arena; /* where envelopes are decoded; NULL: malloc */
	uv_loop_t *loop;
	void (*on_free)(struct cm_rpc *r, void *arg);
	void *free_arg;
};

static void default_bad(struct cm_rpc *r, struct cm_rpc_req *req, int err, const char *what,
			void *arg)
{
	(void)arg;
	cm_rpc_reply_error(r, &req, err == CM_EINVALID ? "unsupported" : "malformed", "",
			   what ? what : cm_strerror(err));
}

static void on_recv(struct cm_zwatch *w, zmq_msg_t *frames, size_t n, void *arg)
{
	struct cm_rpc *r = arg;
	struct cm_rpc_req *req;
	cm_env *env = NULL;
	size_t len;
	int rc;

	(void)w;
	if (n < 2)
		return; /* a ROUTER always prepends the peer's routing id */
	req = cm_xcalloc(1, sizeof(*req));
	req->nroute = n - 1;
	for (size_t i = 0; i < n - 1; i++) {
		zmq_msg_init(&req->route[i]);
		zmq_msg_move(&req->route[i], &frames[i]);
	}
	len = zmq_msg_size(&frames[n - 1]);
	if (len > r->limit) {
		r->bad(r, req, CM_ETOOBIG, "request exceeds the size limit", r->bad_arg);
		return;
	}
	if (r->raw && r->raw(r, &req, zmq_msg_data(&frames[n - 1]), len, r->raw_arg))
		return;
	rc = r->arena ? cm_env_unpack_arena(zmq_msg_data(&frames[n - 1]), len, r->arena, &env)
		      : cm_env_unpack(zmq_msg_data(&frames[n - 1]), len, &env);
	if (rc != 0) {
		r->bad(r, req, rc, NULL, r->bad_arg);
		return;
	}
	if ((unsigned)env->body_case >= MAX_CASES || !r->slots[env->body_case].fn) {
		if (!r->arena)
			cm_env_free(&env);
		r->bad(r, req, CM_EINVALID, "no handler for this message type on this socket",
		       r->bad_arg);
		return;
	}
	r->slots[env->body_case].fn(r, req, env, r->slots[env->body_case].arg);
}

static void on_batch_end(struct cm_zwatch *w, void *arg)
{
	struct cm_rpc *r = arg;

	(void)w;
	if (r->batch_end)
		r->batch_end(r, r->batch_arg);
}

static void on_error(struct cm_zwatch *w, int err, void *arg)
{
	(void)w;
	(void)arg;
	cm_log_error_err(ZMQ, err, "rpc socket failed; it no longer serves requests");
}

static const struct cm_zwatch_ops rpc_ops = {
	.recv = on_recv,
	.batch_end = on_batch_end,
	.error = on_error,
};

int cm_rpc_new(uv_loop_t *loop, void *zctx, const struct cm_zsock_opts *o, struct cm_rpc **out)
{
	struct cm_zsock_opts so = *o;
	struct cm_rpc *r;
	int rc;

	*out = NULL;
	so.type = ZMQ_ROUTER;
	so.bind = true;
	if (so.maxmsgsize == 0)
		so.maxmsgsize = 8 * (int64_t)CM_ENV_MAX_BYTES;
	r = cm_xcalloc(1, sizeof(*r));
	r->limit = CM_ENV_MAX_BYTES;
	r->bad = default_bad;
	r->loop = loop;
	rc = cm_zsock_open(zctx, &so, &r->sock);
	if (rc)
		goto err_free;
	rc = cm_zwatch_new(loop, r->sock, &rpc_ops, r, &r->w);
	if (rc)
		goto err_close;
	*out = r;
	return 0;
err_close:
	cm_zsock_close(&r->sock);
err_free:
	free(r);
	return rc;
}

void cm_rpc_on(struct cm_rpc *r, int body_case, cm_rpc_handler fn, void *arg)
{
	cm_require(body_case > 0 && body_case < MAX_CASES);
	r->slots[body_case].fn = fn;
	r->slots[body_case].arg = arg;
}

void cm_rpc_on_bad(struct cm_rpc *r, cm_rpc_bad_handler fn, void *arg)
{
	r->bad = fn ? fn : default_bad;
	r->bad_arg = arg;
}

void cm_rpc_on_raw(struct cm_rpc *r, cm_rpc_raw_check fn, void *arg)
{
	r->raw = fn;
	r->raw_arg = arg;
}

void cm_rpc_on_batch_end(struct cm_rpc *r, void (*fn)(struct cm_rpc *r, void *arg), void *arg)
{
	r->batch_end = fn;
	r->batch_arg = arg;
}


void cm_rpc_set_arena(struct cm_rpc *r, struct cm_arena *a)
{
	r->arena = a;
}

void cm_rpc_set_budget(struct cm_rpc *r, unsigned budget)
{
	cm_zwatch_set_budget(r->w, budget);
}


uv_loop_t *cm_rpc_loop(const struct cm_rpc *r)
{
	return r->loop;
}

void cm_rpc_on_free(struct cm_rpc *r, void (*fn)(struct cm_rpc *r, void *arg), void *arg)
{
	/* A replaced hook would leave its owner replying on a freed socket. */
	cm_require(!r->on_free || (r->on_free == fn && r->free_arg == arg));
	r->on_free = fn;
	r->free_arg = arg;
}

void cm_rpc_req_free(struct cm_rpc_req **req)
{
	if (!req || !*req)
		return;
	for (size_t i = 0; i < (*req)->nroute; i++)
		zmq_msg_close(&(*req)->route[i]);
	free(*req);
	*req = NULL;
}

static int send_with_route(struct cm_rpc *r, struct cm_rpc_req **reqp, zmq_msg_t *payload)
{
	struct cm_rpc_req *req = *reqp;
	zmq_msg_t frames[MAX_ROUTE + 1];
	size_t n = 0;

	for (size_t i = 0; i < req->nroute; i++) {
		zmq_msg_init(&frames[n]);
		zmq_msg_move(&frames[n++], &req->route[i]);
	}
	zmq_msg_init(&frames[n]);
	zmq_msg_move(&frames[n++], payload);
	req->nroute = 0;
	cm_rpc_req_free(reqp);
	return cm_zwatch_send(r->w, frames, n);
}

int cm_rpc_reply(struct cm_rpc *r, struct cm_rpc_req **req, const cm_env *reply)
{
	zmq_msg_t m;
	int rc = cm_env_pack_msg(reply, &m);

	if (rc) {
		cm_rpc_req_free(req);
		return rc;
	}
	return send_with_route(r, req, &m);
}

int cm_rpc_reply_msg(struct cm_rpc *r, struct cm_rpc_req **req, zmq_msg_t *payload)
{
	return send_with_route(r, req, payload);
}


int cm_rpc_reply_error(struct cm_rpc *r, struct cm_rpc_req **req, const char *code,
		       const char *field, const char *message)
{
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ControlReply cr = DONTHU__V1__CONTROL_REPLY__INIT;
	Donthu__V1__ErrorDetail ed = DONTHU__V1__ERROR_DETAIL__INIT;

	ed.code = (char *)code;
	ed.field = (char *)(field ? field : "");
	ed.message = (char *)(message ? message : "");
	cr.ok = 0;
	cr.error = &ed;
	env.schema_version = CM_ENV_SCHEMA_VERSION;
	env.body_case = DONTHU__V1__ENVELOPE__BODY_CONTROL_REPLY;
	env.control_reply = &cr;
	return cm_rpc_reply(r, req, &env);
}



void cm_rpc_free(struct cm_rpc **rp)
{
	struct cm_rpc *r;

	if (!rp || !*rp)
		return;
	r = *rp;
	if (r->on_free)
		r->on_free(r, r->free_arg);
	cm_zwatch_free(&r->w);
	cm_zsock_close(&r->sock);
	free(r);
	*rp = NULL;
}

/*
 * rpc.h - a ROUTER socket that decodes Envelopes and dispatches them by body
 * type, with replies that may be deferred (long-poll, group commit).
 *
 * Wire: a client (DEALER, or REQ) sends one frame holding a packed Envelope;
 * the ROUTER sees [routing frames..., payload] and the reply goes back along
 * the same routing frames. Frames over the application limit
 * (CM_ENV_MAX_BYTES) are answered with a decode error rather than
 * silently dropped; the socket's ZMQ_MAXMSGSIZE is set well above the limit
 * so only truly hostile sizes are cut by libzmq.
 *
 * Ownership: a handler receives the request handle and the decoded envelope
 * and owns both: it must eventually call cm_rpc_reply() (or
 * cm_rpc_req_free()) on req and cm_env_free() on env (unless the socket
 * decodes into an arena: cm_rpc_set_arena). That lets intake stash a
 * batch until the commit and the feed park a long-poll.
 */
#ifndef CM_RPC_H
#define CM_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "common/envelope.h"
#include "common/zsock.h"

struct cm_rpc;
struct cm_rpc_req;

typedef void (*cm_rpc_handler)(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg);
/** Called for a payload that is not a valid Envelope (err: CM_EDECODE,
 * CM_ETOOBIG, CM_EPROTO_VERSION) or that no handler takes (CM_EINVALID).
 * Owns req. The default replies a ControlReply carrying the error. */
typedef void (*cm_rpc_bad_handler)(struct cm_rpc *r, struct cm_rpc_req *req, int err,
				   const char *what, void *arg);

/** Open the socket described by o (type forced to ZMQ_ROUTER, bind forced
 * true) and watch it on loop. Errors: as cm_zsock_open and cm_zwatch_new. */
int cm_rpc_new(uv_loop_t *loop, void *zctx, const struct cm_zsock_opts *o, struct cm_rpc **out);

/** Route envelopes whose body_case is body_case to fn. One handler per case;
 * a second registration replaces the first. */
void cm_rpc_on(struct cm_rpc *r, int body_case, cm_rpc_handler fn, void *arg);
void cm_rpc_on_bad(struct cm_rpc *r, cm_rpc_bad_handler fn, void *arg);
/** A check of the raw frame before it is decoded (e.g. NUL bytes inside
 * strings, which protobuf-c silently truncates). Return true when fn has
 * answered or dropped req itself (it owns req then); false to go on. */
typedef bool (*cm_rpc_raw_check)(struct cm_rpc *r, struct cm_rpc_req **req, const void *buf,
				 size_t len, void *arg);
void cm_rpc_on_raw(struct cm_rpc *r, cm_rpc_raw_check fn, void *arg);

/** Called once after each loop turn that delivered requests (group commit). */
void cm_rpc_on_batch_end(struct cm_rpc *r, void (*fn)(struct cm_rpc *r, void *arg), void *arg);

struct cm_arena;
/** Decode this socket's envelopes into a (borrowed; NULL: malloc, the
 * default). Handlers then must not cm_env_free them: the owner of a resets
 * it once every envelope handed out is done with (after a group commit). */
void cm_rpc_set_arena(struct cm_rpc *r, struct cm_arena *a);

/** Requests received per loop turn (the group-commit batch bound). */
void cm_rpc_set_budget(struct cm_rpc *r, unsigned budget);

/** Send reply to req's peer and free req (ownership moves in all cases).
 * Errors: -EHOSTUNREACH when the peer has gone (nothing to do), CM_ETOOBIG. */
int cm_rpc_reply(struct cm_rpc *r, struct cm_rpc_req **req, const cm_env *reply);
/** Send a packed envelope already in a zmq message (ownership moves). */
int cm_rpc_reply_msg(struct cm_rpc *r, struct cm_rpc_req **req, zmq_msg_t *payload);
/** Drop a request without answering. */
void cm_rpc_req_free(struct cm_rpc_req **req);

/** Reply with a ControlReply{ok=false, error{code, message}}. */
int cm_rpc_reply_error(struct cm_rpc *r, struct cm_rpc_req **req, const char *code,
		       const char *field, const char *message);


/** The loop r was created on (to queue work whose reply goes out on r). */
uv_loop_t *cm_rpc_loop(const struct cm_rpc *r);
/** fn runs at the start of cm_rpc_free(r), while r still works: a module
 * whose requests of r are parked on a worker job drops them there (and must
 * not reply on r afterwards). One hook per socket: setting a different one
 * aborts (the first owner would reply on a freed socket). */
void cm_rpc_on_free(struct cm_rpc *r, void (*fn)(struct cm_rpc *r, void *arg), void *arg);

/** Stop and free; outstanding requests handed to handlers stay valid objects
 * but replying to them after this fails harmlessly only if done before free:
 * free every parked request first. Accepts pointer to NULL; sets *r NULL. */
void cm_rpc_free(struct cm_rpc **r);

#endif

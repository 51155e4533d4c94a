/*
 * admin.h - what every service's admin socket answers the same way: moving
 * the simulated clock, a hot backup of the service's store, the ControlReply
 * itself; and the `clock` / `clock_start` configuration every service reads.
 */
#ifndef CM_ADMIN_H
#define CM_ADMIN_H

#include <stdbool.h>

#include "common/config.h"
#include "common/rpc.h"
#include "common/store.h"

/** Answer req with ControlReply{ok, now_ms, detail} from producer ("intake").
 * Ownership of req moves. Errors: as cm_rpc_reply. */
int cm_admin_reply(struct cm_rpc *r, struct cm_rpc_req **req, const char *producer, bool ok,
		   const char *detail);

/** Serve ClockControl on r: set or advance the simulated clock (errors
 * `real_clock` on the real clock, `invalid_value` for time going backwards).
 * producer is borrowed (a string literal). */
void cm_admin_serve_clock(struct cm_rpc *r, const char *producer);

/* A clock move whose reply may wait: borrowed for the life of the socket. */
struct cm_admin_clock {
	const char *producer;
	/* After the clock moved: return true having taken *req, to answer it
	 * later with cm_admin_reply() (the service's work for the new time is
	 * not done yet); false to have it answered at once. */
	bool (*hold)(struct cm_rpc *r, struct cm_rpc_req **req, void *arg);
	void *arg;
};

/** As cm_admin_serve_clock, but a successful move is offered to c->hold
 * before it is answered. */
void cm_admin_serve_clock_held(struct cm_rpc *r, const struct cm_admin_clock *c);

struct cm_admin_backup_job;
/* What a backup copies: borrowed for the life of the socket it is served on
 * and, when a copy is still running as the socket closes, until the loop
 * ends (close the store only after uv_run returns). */
struct cm_admin_backup {
	const char *service;	/* "intake": the copy goes to <dir>/<service> */
	struct cm_store *store;
	struct cm_admin_backup_job *job;	/* private: the copy in progress, if any */
};

/** Serve BackupRequest on r: a hot, consistent copy of b->store into
 * <dir>/<service> (created), made on libuv's worker pool while the service
 * goes on serving (except a write that must grow the map: it waits for the
 * copy), answered with the path once it is on disk (cm_store_backup). Errors
 * (ControlReply codes): `invalid_value` (no folder), `busy` (a copy is still
 * running), `backup_failed` (the reason: the folder cannot be made, already
 * holds data.mdb, the disk is full, no worker could be queued...). A copy running when r is freed
 * finishes unanswered. */
void cm_admin_serve_backup(struct cm_rpc *r, struct cm_admin_backup *b);

/** Read `clock` (real | simulated) and `clock_start` (RFC 3339) from cfg and
 * switch the process to simulated time when asked. A bad value is fatal with
 * one line naming the key and its source. Returns true for simulated time. */
bool cm_admin_clock_config_or_die(const struct cm_config *cfg);

#endif

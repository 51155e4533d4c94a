/*
 * intake.h - the intake service's context (private to services/intake).
 */
#ifndef INTAKE_H
#define INTAKE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/envelope.h"
#include "common/feed.h"
#include "common/http.h"
#include "common/loop.h"
#include "common/mem.h"
#include "common/register.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/zsock.h"
#include "identity.h"
#include "schema.h"
#include "validate.h"

struct intake_config {
	const char *data_dir;
	const char *listen;		/* publishers' DEALERs connect here */
	const char *feed_listen;	/* consumers fetch the intake feed here */
	const char *admin_listen;	/* status, clock, reveal, backup */
	const char *http_host;
	uint16_t http_port;
	const char *register_dir;
	const char *keys_dir;
	const char *curve_secret_file;	/* optional: CURVE on external sockets */
	const char *curve_allow_file;
	uint32_t batch_max;
	int64_t skew_ms;
	uint64_t map_size, map_max;
	bool simulated_clock;
};

/* One submission waiting for the batch's commit. */
struct intake_pending {
	struct cm_rpc_req *req;
	cm_env *env;
	bool valid;
	Donthu__V1__SubmitStatus status;
	struct intake_verr err;
	char id[INTAKE_ID_MAX + 1];
	uint64_t feed_seq;
	uint8_t case_status;
};

struct intake_metrics {
	uint64_t *accepted, *duplicate, *rejected, *unavailable;
	uint64_t *batches, *reveals;
	struct cm_histogram *batch_size, *commit_seconds;
};

struct intake {
	struct intake_config cfg;
	uv_loop_t *loop;
	void *zctx;
	struct cm_store *store;
	struct cm_feed *feed;
	struct cm_rpc *submit, *feed_rpc, *admin;
	struct cm_http *http;
	struct cm_metrics *metrics;
	struct intake_metrics m;
	struct cm_register *reg;
	struct intake_keys *keys;
	struct cm_signals *sig;
	struct cm_zap *zap;
	struct intake_pending *batch;
	size_t nbatch, capbatch;
	/* Every submission envelope is decoded here (cm_rpc_set_arena) and
	 * the arena is reset once the batch holding them has been answered. */
	struct cm_arena arena;
	bool stopping;
	int store_err;			/* last commit error, 0 when healthy */
	uint64_t cases;
};

/* handlers.c */
void intake_handlers_register(struct intake *in);
int intake_health(void *arg, char *reason, size_t size);
void intake_metrics_extra(void *arg, struct cm_buf *out);
void intake_metrics_init(struct intake *in);
/** Answer everything still waiting UNAVAILABLE (shutdown). */
void intake_drain_unavailable(struct intake *in);

#endif

/*
 * deadline.h - the deadline service's context (private to services/deadline).
 */
#ifndef DEADLINE_H
#define DEADLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "calendar.h"
#include "common/admin.h"
#include "common/envelope.h"
#include "common/feed.h"
#include "common/http.h"
#include "common/loop.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/zsock.h"
#include "common/zwatch.h"
#include "policy.h"
#include "schema.h"
#include "timers.h"

struct deadline_config {
	const char *data_dir;
	const char *feed_listen;	/* monitors and the report service fetch here */
	const char *pub_listen;		/* live escalations (PUB) */
	const char *admin_listen;	/* status, clock, reload, backup */
	const char *http_host;
	uint16_t http_port;
	const char *intake_feed;	/* intake's feed endpoint */
	const char *routing_feed;	/* routing's feed endpoint, NULL when not consumed */
	const char *calendar_dir;
	char **calendar_flags;		/* NULL-terminated */
	const char *policy_file;
	struct dl_levels_cfg levels;
	const char *chairman_office;
	const char *inspectorate;
	uint32_t raise_batch;		/* due-index entries per transaction */
	uint32_t recompute_batch;	/* clocks visited per transaction on reload */
	uint64_t map_size, map_max;
	bool simulated_clock;
	/* CURVE (optional): our key pair serves the feed and PUB sockets to the
	 * allowlisted clients and authenticates us to intake's and routing's
	 * feeds, whose public keys are given. */
	const char *curve_secret_file;
	const char *curve_allow_file;
	const char *intake_curve_public_file;
	const char *routing_curve_public_file;
};

struct deadline_metrics {
	uint64_t *events_in, *batches_in;
	uint64_t *escalations[DL_LVL_COUNT];
	uint64_t *deadline_set, *deadline_changed, *ext_rejected, *clock_stopped, *reloads;
	uint64_t *published, *raise_txns;
	struct cm_histogram *raise_seconds, *recompute_seconds;
};

struct deadline {
	struct deadline_config cfg;
	uv_loop_t *loop;
	void *zctx;
	struct cm_store *store;
	struct cm_feed *feed;
	struct cm_rpc *feed_rpc, *admin;
	void *pub;
	struct cm_zwatch *pub_w;
	struct cm_feed_consumer *intake, *routing;
	struct cm_http *http;
	struct cm_metrics *metrics;
	struct deadline_metrics m;
	struct cm_signals *sig;
	struct cm_zap *zap;
	char curve_secret[41], curve_public[41];
	char intake_public[41], routing_public[41];
	struct cal *cal;
	struct dl_policy *pol;
	struct dl_engine engine;
	uv_timer_t due_timer, job_timer, ready_timer;
	bool timers_open;
	/* Nothing is raised until the consumers have caught up with their
	 * producers once, however long that takes: after downtime, a clock
	 * stopped in time by an event still unread must not be escalated. */
	bool ready;
	uint64_t start_ns;
	/* Clock moves made before then: answered once the raise pass for the
	 * time they set has committed, as every ClockControl reply promises. */
	struct cm_admin_clock clock_admin;
	struct cm_rpc_req **clock_held;
	size_t n_clock_held;
	uint64_t pub_next;		/* next feed sequence to publish live */
	unsigned burst;			/* due entries in the next raise transaction */
	/* A recomputation after a reload runs in batches, one per loop turn. */
	bool job_active;
	struct dl_recompute job;
	struct cm_rpc_req *job_req;	/* the reload request, answered at the end */
	uint64_t job_start_ns;
	bool stopping;
	int store_err;			/* last write error, 0 when healthy */
	struct dl_counts counts;
};

/* handlers.c */
void deadline_handlers_register(struct deadline *d);
/** Drop the clock moves still held (shutdown): their clients time out. */
void deadline_clock_held_free(struct deadline *d);
/** Start consuming intake (and routing when configured). Fatal on error. */
void deadline_consumers_start(struct deadline *d);
/** Raise nothing until the feeds are caught up, then raise whatever fell
 * due while the service was down and answer the clock moves held meanwhile. */
void deadline_start_raising(struct deadline *d);
/** After any commit: publish new escalations, refresh counts, re-arm. */
void deadline_after_commit(struct deadline *d);
/** Look at the due index and arm the timer (or run what is due now). */
void deadline_schedule_due(struct deadline *d);
int deadline_health(void *arg, char *reason, size_t size);
void deadline_metrics_extra(void *arg, struct cm_buf *out);
void deadline_metrics_init(struct deadline *d);
int deadline_http_get(void *arg, const char *path, struct cm_buf *out, const char **ctype);
/** PUB topic of an escalation: "esc.<level>.<agency>", or a flag rule's own
 * topic ("flag.delegation.<agency>"). */
void deadline_topic(const struct dl_policy *pol, const Donthu__V1__Escalation *es, char *buf,
		    size_t len);
/** Content hash of a calendar directory's *.json files (16 hex digits). */
void deadline_calendar_version(const char *dir, char out[17]);

#endif

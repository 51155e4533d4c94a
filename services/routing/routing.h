/*
 * routing.h - the routing service's context (private to services/routing).
 */
#ifndef ROUTING_H
#define ROUTING_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "apply.h"
#include "classify.h"
#include "common/envelope.h"
#include "common/feed.h"
#include "common/http.h"
#include "common/loop.h"
#include "common/register.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/zsock.h"
#include "rules.h"
#include "schema.h"

struct routing_config {
	const char *data_dir;
	const char *feed_listen;	/* consumers fetch the routing feed here */
	const char *admin_listen;	/* status, clock, reload, backup */
	const char *intake_feed;	/* intake's feed socket */
	const char *http_host;
	uint16_t http_port;
	const char *register_dir;
	const char *rules_file;
	const char *curve_secret_file;	/* optional: CURVE on our feed socket ... */
	const char *curve_allow_file;
	const char *intake_curve_public_file; /* ... and towards intake's */
	uint32_t fetch_max, wait_ms;
	uint64_t map_size, map_max;
	bool simulated_clock;
};

struct routing_metrics {
	uint64_t *petitions, *actions, *skipped;
	uint64_t *assigned, *rehomed, *overrides, *transfers, *filed, *duplicates;
	uint64_t *flags[8];
	uint64_t *dedup_lookups, *dedup_visited;
	uint64_t *reloads, *reload_errors;
};

struct routing {
	struct routing_config cfg;
	uv_loop_t *loop;
	void *zctx;
	struct cm_store *store;
	struct cm_feed *feed;
	struct cm_rpc *feed_rpc, *admin;
	struct cm_feed_consumer *consumer;
	struct cm_http *http;
	struct cm_metrics *metrics;
	struct routing_metrics m;
	struct cm_register *reg;
	struct routing_rules *rules;
	struct routing_fieldmap *fm;
	struct routing_engine eng;
	struct cm_signals *sig;
	struct cm_zap *zap;
	char curve_secret[41], intake_public[41];
	bool stopping;
	int store_err;		/* last failed write (reload, re-homing), 0 when healthy */
	uint64_t cases;
};

/* handlers.c */
/** Check that the rules fit the register (local fields exist).
 * Errors: CM_ECONFIG with err filled. */
int routing_check_data(const struct routing_rules *rules, const struct cm_register *reg, char *err,
		       size_t errlen);
/** Point the engine at the current register, rules and field map. */
void routing_engine_bind(struct routing *r);
/** Re-home open cases of agencies that have ended, as of the service clock.
 * Errors: store errors. */
int routing_rehome_now(struct routing *r, uint64_t *moved);
void routing_handlers_register(struct routing *r);
int routing_consumer_start(struct routing *r);
int routing_health(void *arg, char *reason, size_t size);
void routing_metrics_extra(void *arg, struct cm_buf *out);
void routing_metrics_init(struct routing *r);
/** Count the cases in the store (start-up). */
int routing_count_cases(struct routing *r);

#endif

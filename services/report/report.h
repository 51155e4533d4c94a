/*
 * report.h - the report service's context (private to services/report).
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/envelope.h"
#include "common/feed.h"
#include "common/http.h"
#include "common/loop.h"
#include "common/register.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/zsock.h"
#include "forms.h"
#include "model.h"
#include "query.h"

/* One consumed feed. An empty endpoint disables it, so the service runs with
 * intake alone while routing and deadline do not exist yet. */
struct report_feed {
	const char *producer;		/* "intake", "routing", "deadline" */
	const char *endpoint;		/* "" = disabled */
	int id;				/* RP_* */
	struct cm_feed_consumer *c;
	struct report_service *svc;
	uint64_t *events;		/* metric */
};

struct report_config {
	const char *data_dir;
	const char *listen;		/* queries */
	const char *admin_listen;
	const char *http_host;
	uint16_t http_port;
	const char *register_dir;
	const char *forms_dir;
	const char *feed_ep[3];		/* intake, routing, deadline */
	const char *curve_secret_file;	/* optional: CURVE on the query socket */
	const char *curve_allow_file;
	const char *curve_server_public[3];	/* optional: CURVE keys of each producer */
	const char *curve_client_public, *curve_client_secret;
	uint32_t fetch_max;
	uint64_t map_size, map_max;
	bool simulated_clock;
	bool history;
	struct report_mass_cfg mass;
	char **central;			/* owned storage behind mass.central */
};

struct report_metrics {
	uint64_t *queries_report, *queries_cases, *queries_history, *queries_bad;
	uint64_t *apply_errors;
	struct cm_histogram *report_seconds;
};

struct report_service {
	struct report_config cfg;
	uv_loop_t *loop;
	void *zctx;
	struct cm_store *store;
	struct cm_rpc *query, *admin;
	struct cm_http *http;
	struct cm_metrics *metrics;
	struct report_metrics m;
	struct cm_register *reg;
	struct report_forms *forms;
	struct report_model *model;
	struct report_feed feeds[3];
	struct cm_signals *sig;
	struct cm_zap *zap;
	bool stopping, close_pending;
	int store_err;
	unsigned inflight;		/* queries running on workers */
	struct {
		struct report_forms *forms;
		struct cm_register *reg;
	} *retired;			/* replaced by a reload, freed when inflight is 0 */
	size_t nretired;
};

/* handlers.c */
void report_handlers_register(struct report_service *s);
/** Start the consumers whose endpoint is set. Errors: as cm_feed_consumer_start. */
int report_feeds_start(struct report_service *s);
void report_feeds_stop(struct report_service *s);
int report_health(void *arg, char *reason, size_t size);
/** Close the query and admin sockets, or, while queries are in flight,
 * once the last one has ended. */
void report_close_sockets(struct report_service *s);
void report_metrics_init(struct report_service *s);
void report_metrics_extra(void *arg, struct cm_buf *out);

#endif

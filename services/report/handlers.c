/*
 * handlers.c - the report service's sockets: feed consumers that apply events
 * to the read models, queries on the report socket, and the admin socket.
 *
 * Every event is applied and its counter changes flushed inside the
 * consumer's batch transaction, together with the stored feed offset, so
 * effects are exactly-once across crashes. Queries run in read transactions
 * on the loop; the slowest (a province-wide annual report) reads a few
 * thousand counter rows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/admin.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "report.h"
#include "schema.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x

/* ----------------------------------------------------------- consuming --- */


/* What the admin socket's backup copies (one service per process). */
static struct cm_admin_backup backup_target;

static int on_apply(struct cm_txn *t, const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct report_feed *f = arg;
	struct report_service *s = f->svc;
	int rc = report_apply(s->model, t, f->id, ev, raw, len);

	if (rc == 0)
		rc = report_model_flush(s->model, t);
	if (rc) {
		/* The whole batch aborts and is fetched again: nothing of it,
		 * including what is buffered here, may survive. */
		report_model_discard(s->model);
		(*s->m.apply_errors)++;
		return rc;
	}
	(*f->events)++;
	return 0;
}

static const struct cm_feed_consumer_ops apply_ops = {.apply = on_apply};

int report_feeds_start(struct report_service *s)
{
	for (int i = 0; i < 3; i++) {
		struct report_feed *f = &s->feeds[i];
		struct cm_feed_consumer_opts o = {
			.name = "report",
			.producer = f->producer,
			.endpoint = f->endpoint,
			.offset_dbi = REPORT_DB_OFFSETS,
			.max_events = s->cfg.fetch_max,
			.curve_server_public = s->cfg.curve_server_public[i],
			.curve_public = s->cfg.curve_client_public,
			.curve_secret = s->cfg.curve_client_secret,
		};
		int rc;

		if (!f->endpoint || !*f->endpoint) {
			cm_log_notice(REPORT, "%s feed disabled (no endpoint)", f->producer);
			continue;
		}
		rc = cm_feed_consumer_start(s->loop, s->zctx, s->store, &o, &apply_ops, f, &f->c);
		if (rc)
			return rc;
	}
	return 0;
}

void report_feeds_stop(struct report_service *s)
{
	for (int i = 0; i < 3; i++)
		cm_feed_consumer_free(&s->feeds[i].c);
}

/* ------------------------------------------------------------- queries --- */

static void send_env(struct cm_rpc *r, struct cm_rpc_req **req, cm_env *out)
{
	out->schema_version = CM_ENV_SCHEMA_VERSION;
	out->producer = "report";
	cm_rpc_reply(r, req, out);
}

static struct report_qctx qctx(struct report_service *s)
{
	struct report_qctx x = {
		.reg = s->reg,
		.forms = s->forms,
		.mass = &s->cfg.mass,
		.today = cm_day_of_ms(cm_clock_now_ms()),
	};
	return x;
}

/* Queries run on libuv's worker pool in read transactions (cm_store_read is
 * allowed there): a mass list or a broad case list reads up to a million
 * summaries and must not stall consuming. The reply is sent from the loop
 * in the after-work callback. The register and forms a job uses stay alive
 * until it ends (reload retires them, see on_reload). */
enum qkind { QK_REPORT, QK_CASES, QK_HISTORY };

struct qjob {
	uv_work_t work;
	struct report_service *s;
	struct cm_rpc *r;
	struct cm_rpc_req *req;
	cm_env *env;
	enum qkind kind;
	struct report_qctx x;
	Donthu__V1__ReportReply *report;
	Donthu__V1__CaseListReply *cases;
	Donthu__V1__CaseHistoryReply *history;
	uint64_t t0;
	int rc;
};

static int job_txn(struct cm_txn *t, void *arg)
{
	struct qjob *j = arg;

	switch (j->kind) {
	case QK_REPORT: return report_query_report(t, &j->x, j->env->report_query, &j->report);
	case QK_CASES: return report_query_cases(t, &j->x, j->env->case_list, &j->cases);
	default:
		return report_query_history(t, &j->x, j->env->case_history->case_number,
					    &j->history);
	}
}

static void job_work(uv_work_t *w)
{
	struct qjob *j = w->data;
	j->rc = cm_store_read(j->s->store, job_txn, j);
}

static void retire_release(struct report_service *s);

static void job_done(uv_work_t *w, int status)
{
	struct qjob *j = w->data;
	struct report_service *s = j->s;
	cm_env out = DONTHU__V1__ENVELOPE__INIT;

	s->inflight--;
	if (status == UV_ECANCELED || s->stopping) {
		cm_rpc_req_free(&j->req);
	} else if (j->rc) {
		cm_log_error_err(REPORT, j->rc, "query failed reading the store");
		(*s->m.queries_bad)++;
		cm_rpc_reply_error(j->r, &j->req, "storage_error", "", cm_strerror(j->rc));
	} else {
		switch (j->kind) {
		case QK_REPORT:
			cm_histogram_observe(s->m.report_seconds,
					     (double)(cm_clock_mono_ns() - j->t0) / 1e9);
			(*s->m.queries_report)++;
			out.body_case = BODY(REPORT_REPLY);
			out.report_reply = j->report;
			break;
		case QK_CASES:
			(*s->m.queries_cases)++;
			out.body_case = BODY(CASE_LIST_REPLY);
			out.case_list_reply = j->cases;
			break;
		default:
			(*s->m.queries_history)++;
			out.body_case = BODY(CASE_HISTORY_REPLY);
			out.case_history_reply = j->history;
			break;
		}
		/* A very long history could exceed the envelope cap; say so
		 * rather than send nothing. */
		if (cm_env_size(&out) > CM_ENV_MAX_BYTES)
			cm_rpc_reply_error(j->r, &j->req, "too_large", "",
					   "the answer is larger than one message; narrow the query");
		else
			send_env(j->r, &j->req, &out);
	}
	if (j->report)
		donthu__v1__report_reply__free_unpacked(j->report, NULL);
	if (j->cases)
		donthu__v1__case_list_reply__free_unpacked(j->cases, NULL);
	if (j->history)
		donthu__v1__case_history_reply__free_unpacked(j->history, NULL);
	cm_env_free(&j->env);
	free(j);
	if (s->inflight == 0)
		retire_release(s);
}

static void start_job(struct report_service *s, struct cm_rpc *r, struct cm_rpc_req *req,
		      cm_env *env, enum qkind kind)
{
	struct qjob *j = cm_xcalloc(1, sizeof(*j));
	int rc;

	j->s = s;
	j->r = r;
	j->req = req;
	j->env = env;
	j->kind = kind;
	j->x = qctx(s);
	j->t0 = cm_clock_mono_ns();
	j->work.data = j;
	rc = uv_queue_work(s->loop, &j->work, job_work, job_done);
	if (rc) {
		cm_rpc_reply_error(r, &j->req, "unavailable", "", uv_strerror(rc));
		cm_env_free(&j->env);
		free(j);
		return;
	}
	s->inflight++;
}

static void on_report(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	if (!env->report_query) {
		cm_rpc_reply_error(r, &req, "missing_field", "report_query", "empty query");
		cm_env_free(&env);
		return;
	}
	start_job(arg, r, req, env, QK_REPORT);
}

static void on_cases(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	if (!env->case_list) {
		cm_rpc_reply_error(r, &req, "missing_field", "case_list", "empty query");
		cm_env_free(&env);
		return;
	}
	start_job(arg, r, req, env, QK_CASES);
}

static void on_history(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	if (!env->case_history) {
		cm_rpc_reply_error(r, &req, "missing_field", "case_history", "empty query");
		cm_env_free(&env);
		return;
	}
	start_job(arg, r, req, env, QK_HISTORY);
}

struct count_ctx {
	uint64_t cases;
};

static int count_txn(struct cm_txn *t, void *arg)
{
	struct count_ctx *c = arg;
	return cm_txn_count(t, REPORT_DB_CASES, &c->cases);
}

static void on_status(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	struct report_service *s = arg;
	cm_env out = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__StatusReply sr = DONTHU__V1__STATUS_REPLY__INIT;
	Donthu__V1__ConsumerPosition pos[3], *pp[3];
	struct count_ctx cc = {0};
	char health[200];

	cm_env_free(&env);
	sr.service = "report";
	sr.version = DONTHU_VERSION;
	sr.now_ms = cm_clock_now_ms();
	sr.simulated_clock = cm_clock_is_simulated();
	for (int i = 0; i < 3; i++) {
		const struct report_feed *f = &s->feeds[i];
		if (!f->c)
			continue;
		donthu__v1__consumer_position__init(&pos[sr.n_consumers]);
		pos[sr.n_consumers].producer = (char *)f->producer;
		pos[sr.n_consumers].applied_seq = cm_feed_consumer_applied(f->c);
		pos[sr.n_consumers].head_seq = cm_feed_consumer_head(f->c);
		pp[sr.n_consumers] = &pos[sr.n_consumers];
		sr.n_consumers++;
	}
	sr.consumers = pp;
	if (cm_store_read(s->store, count_txn, &cc) == 0)
		sr.cases = cc.cases;
	sr.health = report_health(s, health, sizeof(health)) ? health : "ok";
	out.body_case = BODY(STATUS_REPLY);
	out.status_reply = &sr;
	send_env(r, &req, &out);
}

/* --------------------------------------------------------------- admin --- */

static void reply_control(struct cm_rpc *r, struct cm_rpc_req **req, bool ok, const char *detail)
{
	cm_admin_reply(r, req, "report", ok, detail);
}

static void retire(struct report_service *s, struct report_forms *f, struct cm_register *r)
{
	s->retired = cm_xrealloc(s->retired, (s->nretired + 1) * sizeof(*s->retired));
	s->retired[s->nretired].forms = f;
	s->retired[s->nretired].reg = r;
	s->nretired++;
}

static void retire_release(struct report_service *s)
{
	for (size_t i = 0; i < s->nretired; i++) {
		report_forms_free(&s->retired[i].forms);
		cm_register_free(&s->retired[i].reg);
	}
	free(s->retired);
	s->retired = NULL;
	s->nretired = 0;
	/* Stopping waited for the last query to close the sockets. */
	if (s->stopping && s->inflight == 0 && s->close_pending)
		report_close_sockets(s);
}

/* Reload builds the new data first and swaps only when it loaded: a bad file
 * leaves the service on the old version and says why. */
static void on_reload(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	struct report_service *s = arg;
	const char *what = env->reload && env->reload->what ? env->reload->what : "";
	bool forms = !*what || strcmp(what, "forms") == 0;
	bool reg = !*what || strcmp(what, "register") == 0;
	struct report_forms *nf = NULL;
	struct cm_register *nr = NULL;
	char err[512] = "", detail[600];
	int rc = 0;

	if (!forms && !reg) {
		cm_rpc_reply_error(r, &req, "invalid_value", "reload.what",
				   "this service reloads \"forms\" or \"register\"");
		goto out;
	}
	if (forms)
		rc = report_forms_load(s->cfg.forms_dir, &nf, err, sizeof(err));
	if (rc == 0 && reg)
		rc = cm_register_load(s->cfg.register_dir, &nr, err, sizeof(err));
	if (rc) {
		cm_log_error_err(REPORT, rc, "reload refused, keeping the loaded data: %s", err);
		report_forms_free(&nf);
		cm_register_free(&nr);
		cm_rpc_reply_error(r, &req, "reload_failed", "reload.what", err);
		goto out;
	}
	/* Queries running on workers may still read the old data: it is
	 * retired and freed once none is in flight. */
	if (nf) {
		retire(s, s->forms, NULL);
		s->forms = nf;
	}
	if (nr) {
		retire(s, NULL, s->reg);
		s->reg = nr;
	}
	if (s->inflight == 0)
		retire_release(s);
	snprintf(detail, sizeof(detail), "reloaded%s%s%s%s", forms ? " forms " : "",
		 forms ? s->forms->version : "", reg ? " register " : "",
		 reg ? cm_register_version(s->reg) : "");
	cm_log_notice(REPORT, "%s", detail);
	reply_control(r, &req, true, detail);
out:
	cm_env_free(&env);
}

void report_handlers_register(struct report_service *s)
{
	cm_rpc_on(s->query, BODY(REPORT_QUERY), on_report, s);
	cm_rpc_on(s->query, BODY(CASE_LIST), on_cases, s);
	cm_rpc_on(s->query, BODY(CASE_HISTORY), on_history, s);
	cm_rpc_on(s->query, BODY(STATUS), on_status, s);

	cm_rpc_on(s->admin, BODY(STATUS), on_status, s);
	cm_admin_serve_clock(s->admin, "report");
	cm_rpc_on(s->admin, BODY(RELOAD), on_reload, s);
	backup_target.service = "report";
	backup_target.store = s->store;
	cm_admin_serve_backup(s->admin, &backup_target);
	cm_rpc_on(s->admin, BODY(REPORT_QUERY), on_report, s);
	cm_rpc_on(s->admin, BODY(CASE_LIST), on_cases, s);
	cm_rpc_on(s->admin, BODY(CASE_HISTORY), on_history, s);
}

/* ---------------------------------------------------- health, metrics --- */

int report_health(void *arg, char *reason, size_t size)
{
	struct report_service *s = arg;

	if (s->stopping) {
		snprintf(reason, size, "shutting down");
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		const struct report_feed *f = &s->feeds[i];
		int e = f->c ? cm_feed_consumer_error(f->c) : 0;
		if (e) {
			snprintf(reason, size, "cannot consume the %s feed: %s", f->producer,
				 cm_strerror(e));
			return 1;
		}
	}
	return 0;
}

void report_metrics_init(struct report_service *s)
{
	static const double secs[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
	const char *h = "Queries answered, by kind";

	s->metrics = cm_metrics_new("donthu_report");
	s->m.queries_report = cm_metrics_counter(s->metrics, "queries_total", "kind=\"report\"", h);
	s->m.queries_cases = cm_metrics_counter(s->metrics, "queries_total", "kind=\"cases\"", h);
	s->m.queries_history = cm_metrics_counter(s->metrics, "queries_total", "kind=\"history\"", h);
	s->m.queries_bad = cm_metrics_counter(s->metrics, "queries_total", "kind=\"failed\"", h);
	s->m.apply_errors = cm_metrics_counter(s->metrics, "apply_errors_total", NULL,
					       "Events whose application failed (batch retried)");
	s->m.report_seconds = cm_metrics_histogram(s->metrics, "report_seconds",
						   "Time to build one report", secs,
						   CM_ARRAY_LEN(secs));
	for (int i = 0; i < 3; i++) {
		char labels[64];
		snprintf(labels, sizeof(labels), "producer=\"%s\"", s->feeds[i].producer);
		s->feeds[i].events = cm_metrics_counter(s->metrics, "events_applied_total", labels,
							"Feed events applied (retried batches count again)");
	}
}

void report_metrics_extra(void *arg, struct cm_buf *out)
{
	struct report_service *s = arg;
	struct cm_store_stats st;

	cm_buf_printf(out, "# HELP donthu_report_feed_applied_seq Last applied sequence per feed\n"
			   "# TYPE donthu_report_feed_applied_seq gauge\n");
	for (int i = 0; i < 3; i++)
		if (s->feeds[i].c)
			cm_buf_printf(out, "donthu_report_feed_applied_seq{producer=\"%s\"} %" PRIu64 "\n",
				      s->feeds[i].producer, cm_feed_consumer_applied(s->feeds[i].c));
	cm_buf_printf(out, "# HELP donthu_report_feed_lag Events the producer has that are not applied\n"
			   "# TYPE donthu_report_feed_lag gauge\n");
	for (int i = 0; i < 3; i++)
		if (s->feeds[i].c) {
			uint64_t a = cm_feed_consumer_applied(s->feeds[i].c);
			uint64_t h = cm_feed_consumer_head(s->feeds[i].c);
			cm_buf_printf(out, "donthu_report_feed_lag{producer=\"%s\"} %" PRIu64 "\n",
				      s->feeds[i].producer, h > a ? h - a : 0);
		}
	cm_store_get_stats(s->store, &st);
	cm_buf_printf(out, "# HELP donthu_report_store_bytes Store map size and bytes used\n"
			   "# TYPE donthu_report_store_bytes gauge\n"
			   "donthu_report_store_bytes{kind=\"map\"} %" PRIu64 "\n"
			   "donthu_report_store_bytes{kind=\"used\"} %" PRIu64 "\n",
		      st.map_size, st.used_bytes);
}

void report_close_sockets(struct report_service *s)
{
	/* A query still on a worker holds a request of these sockets: they
	 * close when it has been dropped (job_done). */
	if (s->inflight) {
		s->close_pending = true;
		return;
	}
	s->close_pending = false;
	cm_rpc_free(&s->query);
	cm_rpc_free(&s->admin);
	cm_zap_free(&s->zap);
}

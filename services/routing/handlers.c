/*
 * handlers.c - routing's sockets: the intake feed consumer (every decision is
 * made inside its write transaction, see apply.c), the routing feed, and the
 * admin socket (status, simulated clock, reload of the register and the
 * rules, backup).
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
#include "routing.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x


/* What the admin socket's backup copies (one service per process). */
static struct cm_admin_backup backup_target;

int routing_check_data(const struct routing_rules *rules, const struct cm_register *reg, char *err,
		       size_t errlen)
{
	for (size_t i = 0; i < rules->nlocal_fields; i++)
		if (!cm_register_field_known(reg, rules->local_fields[i])) {
			snprintf(err, errlen,
				 "rules local_fields[%zu] \"%s\" is not a field of the register", i,
				 rules->local_fields[i]);
			return CM_ECONFIG;
		}
	return 0;
}

void routing_engine_bind(struct routing *r)
{
	r->eng.rules = r->rules;
	r->eng.reg = r->reg;
	r->eng.fm = r->fm;
	r->eng.feed = r->feed;
}

/* ------------------------------------------------------ the consumer --- */

static int on_apply(struct cm_txn *t, const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct routing *r = arg;

	(void)raw;
	(void)len;
	return routing_apply(&r->eng, t, ev);
}

static void flush_counters(struct routing *r)
{
	struct routing_counters *c = &r->eng.pending;

	*r->m.petitions += c->petitions;
	*r->m.actions += c->actions;
	*r->m.skipped += c->skipped;
	*r->m.assigned += c->assigned;
	*r->m.rehomed += c->rehomed;
	*r->m.overrides += c->overrides;
	*r->m.transfers += c->transfers;
	*r->m.filed += c->filed;
	*r->m.duplicates += c->duplicates;
	for (size_t i = 1; i < CM_ARRAY_LEN(c->flags); i++)
		if (r->m.flags[i])
			*r->m.flags[i] += c->flags[i];
	*r->m.dedup_lookups += c->dedup_lookups;
	*r->m.dedup_visited += c->dedup_visited;
	r->cases += c->petitions;
	/* Keep last_seq: a redelivered batch must still be recognised. */
	{
		uint64_t last = c->last_seq;
		memset(c, 0, sizeof(*c));
		c->last_seq = last;
	}
}

static void on_committed(uint64_t applied_seq, void *arg)
{
	struct routing *r = arg;

	(void)applied_seq;
	flush_counters(r);
	cm_feed_committed(r->feed);
}

int routing_consumer_start(struct routing *r)
{
	static const struct cm_feed_consumer_ops ops = {.apply = on_apply,
							.committed = on_committed};
	struct cm_feed_consumer_opts o = {
		.name = "routing",
		.producer = "intake",
		.endpoint = r->cfg.intake_feed,
		.offset_dbi = ROUTING_DB_OFFSETS,
		.max_events = r->cfg.fetch_max,
		.wait_ms = r->cfg.wait_ms,
	};
	char pub[41];

	if (r->cfg.intake_curve_public_file) {
		if (cm_zsock_public_of(r->curve_secret, pub) != 0)
			return CM_EKEY;
		o.curve_server_public = r->intake_public;
		o.curve_public = pub;
		o.curve_secret = r->curve_secret;
	}
	return cm_feed_consumer_start(r->loop, r->zctx, r->store, &o, &ops, r, &r->consumer);
}

/* --------------------------------------------------------- re-homing --- */

struct rehome_ctx {
	struct routing *r;
	cm_day_t day;
	int64_t at;
	uint64_t moved;
};

static int rehome_txn(struct cm_txn *t, void *arg)
{
	struct rehome_ctx *x = arg;

	/* The transaction may run twice (map growth): start the count over. */
	x->moved = 0;
	return routing_rehome_open(&x->r->eng, t, x->day, x->at, &x->moved);
}

int routing_rehome_now(struct routing *r, uint64_t *moved)
{
	/* Re-homing after a register change is an operator's act at a moment
	 * of their choosing, not a decision a replay of the intake feed must
	 * repeat: it alone reads the service clock. */
	struct rehome_ctx x = {.r = r, .at = cm_clock_now_ms()};
	int rc;

	x.day = cm_day_of_ms(x.at);
	rc = cm_store_write(r->store, rehome_txn, &x);
	/* What the engine counted belongs to this write alone (consumer
	 * batches are flushed as they commit): drop it, x.moved says it. */
	{
		uint64_t last = r->eng.pending.last_seq;
		memset(&r->eng.pending, 0, sizeof(r->eng.pending));
		r->eng.pending.last_seq = last;
	}
	if (rc == 0) {
		*moved = x.moved;
		*r->m.rehomed += x.moved;
		if (x.moved)
			cm_feed_committed(r->feed);
	}
	return rc;
}

/* ------------------------------------------------------------- admin --- */

static void reply_control(struct cm_rpc *rpc, struct cm_rpc_req **req, bool ok, const char *detail)
{
	cm_admin_reply(rpc, req, "routing", ok, detail);
}

static void on_status(struct cm_rpc *rpc, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	struct routing *r = arg;
	cm_env out = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__StatusReply sr = DONTHU__V1__STATUS_REPLY__INIT;
	Donthu__V1__ConsumerPosition cp = DONTHU__V1__CONSUMER_POSITION__INIT;
	Donthu__V1__ConsumerPosition *cps[1] = {&cp};
	char health[200];

	cm_env_free(&env);
	sr.service = "routing";
	sr.version = DONTHU_VERSION;
	sr.now_ms = cm_clock_now_ms();
	sr.simulated_clock = cm_clock_is_simulated();
	sr.feed_head = cm_feed_head(r->feed);
	sr.cases = r->cases;
	sr.health = routing_health(r, health, sizeof(health)) ? health : "ok";
	if (r->consumer) {
		cp.producer = "intake";
		cp.applied_seq = cm_feed_consumer_applied(r->consumer);
		cp.head_seq = cm_feed_consumer_head(r->consumer);
		sr.n_consumers = 1;
		sr.consumers = cps;
	}
	out.schema_version = CM_ENV_SCHEMA_VERSION;
	out.producer = "routing";
	out.body_case = BODY(STATUS_REPLY);
	out.status_reply = &sr;
	cm_rpc_reply(rpc, &req, &out);
}

/* Reload the register and/or the rules: everything is loaded and checked
 * before anything is swapped, so a bad file leaves the service as it was. */
static void on_reload(struct cm_rpc *rpc, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	struct routing *r = arg;
	const char *what = env->reload && env->reload->what ? env->reload->what : "";
	bool do_reg = !*what || strcmp(what, "register") == 0 || strcmp(what, "all") == 0;
	bool do_rules = !*what || strcmp(what, "rules") == 0 || strcmp(what, "policy") == 0 ||
			strcmp(what, "all") == 0;
	struct cm_register *reg = NULL;
	struct routing_rules *rules = NULL;
	char err[512] = "", detail[512];
	uint64_t moved = 0;
	int rc = 0;

	if (!do_reg && !do_rules) {
		cm_env_free(&env);
		cm_rpc_reply_error(rpc, &req, "invalid_value", "reload.what",
				   "routing reloads \"register\", \"rules\" or both (\"\")");
		return;
	}
	cm_env_free(&env);
	if (do_reg)
		rc = cm_register_load(r->cfg.register_dir, &reg, err, sizeof(err));
	if (rc == 0 && do_rules)
		rc = routing_rules_load(r->cfg.rules_file, &rules, err, sizeof(err));
	if (rc == 0)
		rc = routing_check_data(rules ? rules : r->rules, reg ? reg : r->reg, err,
					sizeof(err));
	if (rc) {
		(*r->m.reload_errors)++;
		cm_log_error_err(ROUTING, rc, "reload refused, keeping the loaded data: %s", err);
		cm_register_free(&reg);
		routing_rules_free(&rules);
		cm_rpc_reply_error(rpc, &req, "reload_failed", "reload", err);
		return;
	}
	if (reg) {
		cm_register_free(&r->reg);
		r->reg = reg;
		routing_fieldmap_free(&r->fm);
		r->fm = routing_fieldmap_build(r->reg);
	}
	if (rules) {
		routing_rules_free(&r->rules);
		r->rules = rules;
	}
	routing_engine_bind(r);
	(*r->m.reloads)++;
	rc = routing_rehome_now(r, &moved);
	if (rc) {
		r->store_err = rc;
		cm_log_error_err(ROUTING, rc, "reloaded, but re-homing open cases failed");
		cm_rpc_reply_error(rpc, &req, "storage_error", "reload", cm_strerror(rc));
		return;
	}
	snprintf(detail, sizeof(detail), "register %s, rules %s, %" PRIu64 " open case(s) re-homed",
		 cm_register_version(r->reg), r->rules->version, moved);
	cm_log_notice(ROUTING, "reloaded: %s", detail);
	reply_control(rpc, &req, true, detail);
}

void routing_handlers_register(struct routing *r)
{
	cm_rpc_on(r->feed_rpc, BODY(STATUS), on_status, r);
	cm_rpc_on(r->admin, BODY(STATUS), on_status, r);
	cm_admin_serve_clock(r->admin, "routing");
	cm_rpc_on(r->admin, BODY(RELOAD), on_reload, r);
	backup_target.service = "routing";
	backup_target.store = r->store;
	cm_admin_serve_backup(r->admin, &backup_target);
}

/* ------------------------------------------------- health, metrics --- */

int routing_health(void *arg, char *reason, size_t size)
{
	struct routing *r = arg;
	int err = r->consumer ? cm_feed_consumer_error(r->consumer) : 0;

	if (r->stopping) {
		snprintf(reason, size, "shutting down");
		return 1;
	}
	if (err) {
		snprintf(reason, size, "cannot consume the intake feed: %s", cm_strerror(err));
		return 1;
	}
	if (r->store_err) {
		snprintf(reason, size, "cannot store: %s", cm_strerror(r->store_err));
		return 1;
	}
	return 0;
}

void routing_metrics_init(struct routing *r)
{
	static const char *const flag_names[] = {
		NULL,		"many_signers",	   "delegation",	     "serious_harm",
		"transfer_loop", "sent_to_several_bodies", "anonymous_unverifiable",
	};
	const char *d = "Routing decisions emitted, by kind";

	r->metrics = cm_metrics_new("donthu_routing");
	r->m.petitions = cm_metrics_counter(r->metrics, "events_applied_total", "type=\"petition\"",
					    "Intake events applied, by type");
	r->m.actions = cm_metrics_counter(r->metrics, "events_applied_total", "type=\"action\"",
					  "Intake events applied, by type");
	r->m.skipped = cm_metrics_counter(r->metrics, "events_skipped_total", NULL,
					  "Malformed intake events or actions on unknown cases");
	r->m.assigned = cm_metrics_counter(r->metrics, "decisions_total", "event=\"assigned\"", d);
	r->m.rehomed = cm_metrics_counter(r->metrics, "decisions_total", "event=\"rehomed\"", d);
	r->m.overrides = cm_metrics_counter(r->metrics, "decisions_total", "event=\"override\"", d);
	r->m.transfers = cm_metrics_counter(r->metrics, "decisions_total", "event=\"transferred\"", d);
	r->m.filed = cm_metrics_counter(r->metrics, "decisions_total", "event=\"filed\"", d);
	r->m.duplicates =
		cm_metrics_counter(r->metrics, "decisions_total", "event=\"duplicate_linked\"", d);
	for (size_t i = 1; i < CM_ARRAY_LEN(flag_names); i++) {
		char labels[64];
		snprintf(labels, sizeof(labels), "kind=\"%s\"", flag_names[i]);
		r->m.flags[i] = cm_metrics_counter(r->metrics, "flags_total", labels,
						   "Cases flagged, by kind");
	}
	r->m.dedup_lookups = cm_metrics_counter(r->metrics, "dedup_lookups_total", NULL,
						"Duplicate-index lookups (one per petitioner)");
	r->m.dedup_visited = cm_metrics_counter(r->metrics, "dedup_index_entries_read_total", NULL,
						"Duplicate-index entries read by lookups");
	r->m.reloads = cm_metrics_counter(r->metrics, "reloads_total", NULL,
					  "Successful reloads of the register or the rules");
	r->m.reload_errors = cm_metrics_counter(r->metrics, "reload_errors_total", NULL,
						"Reloads refused because a file was invalid");
}

void routing_metrics_extra(void *arg, struct cm_buf *out)
{
	struct routing *r = arg;
	struct cm_store_stats st;

	cm_store_get_stats(r->store, &st);
	cm_buf_printf(out, "# HELP donthu_routing_feed_head_seq Last sequence on the routing feed\n"
			   "# TYPE donthu_routing_feed_head_seq gauge\n"
			   "donthu_routing_feed_head_seq %" PRIu64 "\n",
		      cm_feed_head(r->feed));
	if (r->consumer)
		cm_buf_printf(out,
			      "# HELP donthu_routing_intake_seq Intake feed: applied and head\n"
			      "# TYPE donthu_routing_intake_seq gauge\n"
			      "donthu_routing_intake_seq{kind=\"applied\"} %" PRIu64 "\n"
			      "donthu_routing_intake_seq{kind=\"head\"} %" PRIu64 "\n",
			      cm_feed_consumer_applied(r->consumer),
			      cm_feed_consumer_head(r->consumer));
	cm_buf_printf(out, "# HELP donthu_routing_cases Cases routed\n"
			   "# TYPE donthu_routing_cases gauge\ndonthu_routing_cases %" PRIu64 "\n",
		      r->cases);
	cm_buf_printf(out, "# HELP donthu_routing_store_bytes Store map size and bytes used\n"
			   "# TYPE donthu_routing_store_bytes gauge\n"
			   "donthu_routing_store_bytes{kind=\"map\"} %" PRIu64 "\n"
			   "donthu_routing_store_bytes{kind=\"used\"} %" PRIu64 "\n",
		      st.map_size, st.used_bytes);
}

static int count_txn(struct cm_txn *t, void *arg)
{
	return cm_txn_count(t, ROUTING_DB_CASES, arg);
}

int routing_count_cases(struct routing *r)
{
	return cm_store_read(r->store, count_txn, &r->cases);
}

/*
 * donthu-routing: what each petition is and who must handle it. Consumes the
 * intake feed, serves the routing feed. Configuration: routing.conf (path
 * from -c or DONTHU_ROUTING_CONFIG) plus DONTHU_ROUTING_* environment
 * overrides; every key is listed in docs/ROUTING.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/admin.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "routing.h"

static struct routing the_routing;

static void on_stop(void *arg, int signum)
{
	struct routing *r = arg;

	if (r->stopping)
		return;
	cm_log_notice(MAIN, "signal %d: stopping after the current batch", signum);
	r->stopping = true;
	/* The consumer applies whole batches inside one transaction, so
	 * stopping it here never leaves half a batch behind. */
	cm_feed_consumer_free(&r->consumer);
	cm_http_free(&r->http);
	cm_feed_free(&r->feed);
	cm_rpc_free(&r->feed_rpc);
	cm_rpc_free(&r->admin);
	cm_zap_free(&r->zap);
	cm_signals_free(&r->sig);
}

static const char *opt_str(const struct cm_config *cfg, const char *key)
{
	const char *s = cm_config_str(cfg, key, NULL);

	return s && *s ? cm_xstrdup(s) : NULL;
}

static void load_config(struct routing_config *c, const char *path)
{
	struct cm_config *cfg = NULL;
	int line = 0, rc = cm_config_load(path, "DONTHU_ROUTING_", &cfg, &line);
	char *def;

	if (rc)
		cm_fatal(rc, "cannot load configuration %s (line %d)", path ? path : "(env)", line);
	c->data_dir = cm_xstrdup(cm_config_str_or_die(cfg, "data_dir", "./var/routing"));
	c->feed_listen = cm_xstrdup(cm_config_str_or_die(cfg, "feed_listen", "tcp://127.0.0.1:7202"));
	def = cm_xasprintf("ipc://%s/admin.sock", c->data_dir);
	c->admin_listen = cm_xstrdup(cm_config_str_or_die(cfg, "admin_listen", def));
	free(def);
	c->intake_feed = cm_xstrdup(cm_config_str_or_die(cfg, "intake_feed", "tcp://127.0.0.1:7102"));
	c->http_host = cm_xstrdup(cm_config_str_or_die(cfg, "http_host", "127.0.0.1"));
	c->http_port = (uint16_t)cm_config_u64_or_die(cfg, "http_port", 0, 65535, 9201);
	c->register_dir = cm_xstrdup(cm_config_str_or_die(cfg, "register_dir", "./data/register"));
	c->rules_file =
		cm_xstrdup(cm_config_str_or_die(cfg, "rules_file", "./data/routing/rules.json"));
	c->curve_secret_file = opt_str(cfg, "curve_secret_file");
	c->curve_allow_file = opt_str(cfg, "curve_allow_file");
	c->intake_curve_public_file = opt_str(cfg, "intake_curve_public_file");
	c->fetch_max = (uint32_t)cm_config_u64_or_die(cfg, "fetch_max", 1, 10000, 2000);
	c->wait_ms = (uint32_t)cm_config_u64_or_die(cfg, "fetch_wait_ms", 10, 60000, 1000);
	c->map_size = cm_config_u64_or_die(cfg, "map_size_mb", 1, 1 << 20, 256) << 20;
	c->map_max = cm_config_u64_or_die(cfg, "map_max_mb", 1, 1 << 24, 65536) << 20;
	c->simulated_clock = cm_admin_clock_config_or_die(cfg);
	cm_config_free(&cfg);
}

static void load_data(struct routing *r)
{
	char err[512] = "";
	int rc = cm_register_load(r->cfg.register_dir, &r->reg, err, sizeof(err));

	if (rc)
		cm_fatal(rc, "cannot load the register from %s: %s", r->cfg.register_dir, err);
	rc = routing_rules_load(r->cfg.rules_file, &r->rules, err, sizeof(err));
	if (rc)
		cm_fatal(rc, "cannot load the routing rules: %s", err);
	if ((rc = routing_check_data(r->rules, r->reg, err, sizeof(err))))
		cm_fatal(rc, "%s: %s", r->cfg.rules_file, err);
	r->fm = routing_fieldmap_build(r->reg);
}

static void open_sockets(struct routing *r)
{
	struct cm_zsock_opts ext = {0}, admin = {.endpoint = r->cfg.admin_listen};
	int rc;

	if (r->cfg.curve_secret_file) {
		rc = cm_zsock_read_key(r->cfg.curve_secret_file, r->curve_secret);
		if (rc)
			cm_fatal(rc, "cannot read CURVE secret key %s", r->cfg.curve_secret_file);
	}
	if (r->cfg.intake_curve_public_file) {
		if (!r->cfg.curve_secret_file)
			cm_fatal(CM_ECONFIG, "intake_curve_public_file needs curve_secret_file");
		rc = cm_zsock_read_key(r->cfg.intake_curve_public_file, r->intake_public);
		if (rc)
			cm_fatal(rc, "cannot read intake's CURVE public key %s",
				 r->cfg.intake_curve_public_file);
	}
	if (r->cfg.curve_allow_file) {
		if (!r->cfg.curve_secret_file)
			cm_fatal(CM_ECONFIG, "curve_allow_file is set but curve_secret_file is not");
		rc = cm_zap_start(r->loop, r->zctx, r->cfg.curve_allow_file, &r->zap);
		if (rc)
			cm_fatal(rc, "cannot load CURVE allowlist %s", r->cfg.curve_allow_file);
		ext.curve_server_secret = r->curve_secret;
	}
	ext.endpoint = r->cfg.feed_listen;
	if ((rc = cm_rpc_new(r->loop, r->zctx, &ext, &r->feed_rpc)))
		cm_fatal(rc, "cannot serve the feed on %s", r->cfg.feed_listen);
	if ((rc = cm_rpc_new(r->loop, r->zctx, &admin, &r->admin)))
		cm_fatal(rc, "cannot open the admin socket on %s", r->cfg.admin_listen);
}

int main(int argc, char **argv)
{
	struct routing *r = &the_routing;
	struct cm_store_opts so = {0};
	struct cm_feed_opts fo = {.producer = "routing", .log_dbi = ROUTING_DB_LOG};
	struct cm_http_ops hops = {.health = routing_health, .metrics_extra = routing_metrics_extra};
	const char *conf = getenv("DONTHU_ROUTING_CONFIG");
	uint64_t moved = 0;
	uv_loop_t loop;
	int rc;

	cm_log_set_service("routing");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: donthu-routing [-c routing.conf]\n"
			       "Configuration keys and DONTHU_ROUTING_* overrides: docs/ROUTING.md\n");
			return 0;
		} else {
			fprintf(stderr, "donthu-routing: unknown argument %s (try --help)\n", argv[i]);
			return 2;
		}
	}
	load_config(&r->cfg, conf);
	load_data(r);

	so.path = r->cfg.data_dir;
	so.dbi_names = routing_dbi_names;
	so.ndbi = ROUTING_DB_COUNT;
	so.map_size = r->cfg.map_size;
	so.map_max = r->cfg.map_max;
	if ((rc = cm_store_open(&so, &r->store)))
		cm_fatal(rc, "cannot open the store in %s", r->cfg.data_dir);
	if ((rc = cm_store_write(r->store, routing_schema_init, NULL)))
		cm_fatal(rc, "store %s has an unexpected layout", r->cfg.data_dir);
	if ((rc = cm_feed_new(r->store, &fo, &r->feed)))
		cm_fatal(rc, "cannot read the routing feed");
	if ((rc = routing_count_cases(r)))
		cm_fatal(rc, "cannot read the store");

	uv_loop_init(&loop);
	r->loop = &loop;
	r->zctx = zmq_ctx_new();
	routing_metrics_init(r);
	routing_engine_bind(r);
	/* The register may have changed while the service was down. */
	if ((rc = routing_rehome_now(r, &moved)))
		cm_fatal(rc, "cannot re-home open cases");
	open_sockets(r);
	if ((rc = cm_feed_serve(r->feed, &loop, r->feed_rpc)))
		cm_fatal(rc, "cannot serve the feed");
	routing_handlers_register(r);
	if ((rc = routing_consumer_start(r)))
		cm_fatal(rc, "cannot consume the intake feed at %s", r->cfg.intake_feed);
	if ((rc = cm_http_start(&loop, r->cfg.http_host, r->cfg.http_port, r->metrics, &hops, r,
				&r->http)))
		cm_fatal(rc, "cannot listen for HTTP on %s:%u", r->cfg.http_host, r->cfg.http_port);
	if ((rc = cm_signals_start(&loop, on_stop, r, &r->sig)))
		cm_fatal(rc, "cannot watch signals");

	cm_log_notice(MAIN,
		      "routing ready: feed %s (head %" PRIu64 "), intake %s, admin %s, http %s:%u, "
		      "register %s, rules %s, %" PRIu64 " case(s), %" PRIu64 " re-homed, clock %s",
		      r->cfg.feed_listen, cm_feed_head(r->feed), r->cfg.intake_feed,
		      r->cfg.admin_listen, r->cfg.http_host, cm_http_port(r->http),
		      cm_register_version(r->reg), r->rules->version, r->cases, moved,
		      r->cfg.simulated_clock ? "simulated" : "real");
	uv_run(&loop, UV_RUN_DEFAULT);

	rc = cm_loop_teardown(&loop);
	if (rc)
		cm_log_error_err(MAIN, rc, "loop did not close cleanly");
	zmq_ctx_term(r->zctx);
	cm_store_close(&r->store);
	cm_metrics_free(&r->metrics);
	cm_register_free(&r->reg);
	routing_rules_free(&r->rules);
	routing_fieldmap_free(&r->fm);
	cm_log_notice(MAIN, "routing stopped");
	return rc ? 1 : 0;
}

/*
 * donthu-intake: the front door. Configuration: intake.conf (path from -c or
 * DONTHU_INTAKE_CONFIG) plus DONTHU_INTAKE_* environment overrides; every key
 * is listed in docs/OPERATIONS.md.
 */
#include <errno.h>
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
#include "intake.h"
#include "schema.h"

static struct intake the_intake;

static void on_stop(void *arg, int signum)
{
	struct intake *in = arg;

	if (in->stopping)
		return;
	cm_log_notice(MAIN, "signal %d: stopping after the current batch", signum);
	in->stopping = true;
	/* Whatever is parked is answered now; anything that still arrives is
	 * answered UNAVAILABLE until the sockets close. */
	intake_drain_unavailable(in);
	cm_http_free(&in->http);
	cm_feed_free(&in->feed);
	cm_rpc_free(&in->submit);
	cm_rpc_free(&in->feed_rpc);
	cm_rpc_free(&in->admin);
	cm_zap_free(&in->zap);
	cm_signals_free(&in->sig);
}

static int count_cases(struct cm_txn *t, void *arg)
{
	struct intake *in = arg;
	return cm_txn_count(t, INTAKE_DB_CASES, &in->cases);
}

static void load_config(struct intake_config *c, const char *path)
{
	struct cm_config *cfg = NULL;
	int line = 0, rc = cm_config_load(path, "DONTHU_INTAKE_", &cfg, &line);

	if (rc)
		cm_fatal(rc, "cannot load configuration %s (line %d)", path ? path : "(env)", line);
	c->data_dir = cm_xstrdup(cm_config_str_or_die(cfg, "data_dir", "./var/intake"));
	c->listen = cm_xstrdup(cm_config_str_or_die(cfg, "listen", "tcp://127.0.0.1:7101"));
	c->feed_listen = cm_xstrdup(cm_config_str_or_die(cfg, "feed_listen", "tcp://127.0.0.1:7102"));
	{
		char *def = cm_xasprintf("ipc://%s/admin.sock", c->data_dir);
		c->admin_listen = cm_xstrdup(cm_config_str_or_die(cfg, "admin_listen", def));
		free(def);
	}
	c->http_host = cm_xstrdup(cm_config_str_or_die(cfg, "http_host", "127.0.0.1"));
	c->http_port = (uint16_t)cm_config_u64_or_die(cfg, "http_port", 0, 65535, 9101);
	c->register_dir = cm_xstrdup(cm_config_str_or_die(cfg, "register_dir", "./data/register"));
	c->keys_dir = cm_xstrdup(cm_config_str_or_die(cfg, "identity_keys_dir", "./keys/identity"));
	{
		const char *s = cm_config_str(cfg, "curve_secret_file", NULL);
		const char *a = cm_config_str(cfg, "curve_allow_file", NULL);
		c->curve_secret_file = s && *s ? cm_xstrdup(s) : NULL;
		c->curve_allow_file = a && *a ? cm_xstrdup(a) : NULL;
	}
	c->batch_max = (uint32_t)cm_config_u64_or_die(cfg, "batch_max", 1, 100000, 4096);
	c->skew_ms = (int64_t)cm_config_u64_or_die(cfg, "clock_skew_ms", 0, 86400000, 300000);
	c->map_size = cm_config_u64_or_die(cfg, "map_size_mb", 1, 1 << 20, 256) << 20;
	c->map_max = cm_config_u64_or_die(cfg, "map_max_mb", 1, 1 << 24, 65536) << 20;
	c->simulated_clock = cm_admin_clock_config_or_die(cfg);
	cm_config_free(&cfg);
}

static void open_sockets(struct intake *in)
{
	char secret[41] = "";
	struct cm_zsock_opts ext = {0}, admin = {.endpoint = in->cfg.admin_listen};
	int rc;

	if (in->cfg.curve_secret_file) {
		if (!in->cfg.curve_allow_file)
			cm_fatal(CM_ECONFIG, "curve_secret_file is set but curve_allow_file is not");
		rc = cm_zsock_read_key(in->cfg.curve_secret_file, secret);
		if (rc)
			cm_fatal(rc, "cannot read CURVE secret key %s", in->cfg.curve_secret_file);
		rc = cm_zap_start(in->loop, in->zctx, in->cfg.curve_allow_file, &in->zap);
		if (rc)
			cm_fatal(rc, "cannot load CURVE allowlist %s", in->cfg.curve_allow_file);
		ext.curve_server_secret = secret;
	}
	ext.endpoint = in->cfg.listen;
	ext.rcvhwm = 100000;
	ext.sndhwm = 100000;
	if ((rc = cm_rpc_new(in->loop, in->zctx, &ext, &in->submit)))
		cm_fatal(rc, "cannot listen for submissions on %s", in->cfg.listen);
	cm_arena_init(&in->arena, 0);
	cm_rpc_set_arena(in->submit, &in->arena);
	ext.endpoint = in->cfg.feed_listen;
	if ((rc = cm_rpc_new(in->loop, in->zctx, &ext, &in->feed_rpc)))
		cm_fatal(rc, "cannot serve the feed on %s", in->cfg.feed_listen);
	/* The admin socket reveals identities: it is ipc:// inside the data
	 * directory (mode 0700) unless the operator says otherwise. */
	if ((rc = cm_rpc_new(in->loop, in->zctx, &admin, &in->admin)))
		cm_fatal(rc, "cannot open the admin socket on %s", in->cfg.admin_listen);
}

int main(int argc, char **argv)
{
	struct intake *in = &the_intake;
	struct cm_store_opts so = {0};
	struct cm_feed_opts fo = {.producer = "intake", .log_dbi = INTAKE_DB_LOG};
	struct cm_http_ops hops = {.health = intake_health, .metrics_extra = intake_metrics_extra};
	const char *conf = getenv("DONTHU_INTAKE_CONFIG");
	char err[512] = "";
	uv_loop_t loop;
	int rc;

	cm_log_set_service("intake");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: donthu-intake [-c intake.conf]\n"
			       "Configuration keys and DONTHU_INTAKE_* overrides: docs/OPERATIONS.md\n");
			return 0;
		} else {
			fprintf(stderr, "donthu-intake: unknown argument %s (try --help)\n", argv[i]);
			return 2;
		}
	}
	load_config(&in->cfg, conf);

	rc = cm_register_load(in->cfg.register_dir, &in->reg, err, sizeof(err));
	if (rc)
		cm_fatal(rc, "cannot load the register from %s: %s", in->cfg.register_dir, err);
	rc = intake_keys_load(in->cfg.keys_dir, &in->keys, err, sizeof(err));
	if (rc)
		cm_fatal(rc, "%s", err);

	so.path = in->cfg.data_dir;
	so.dbi_names = intake_dbi_names;
	so.ndbi = INTAKE_DB_COUNT;
	so.map_size = in->cfg.map_size;
	so.map_max = in->cfg.map_max;
	if ((rc = cm_store_open(&so, &in->store)))
		cm_fatal(rc, "cannot open the store in %s", in->cfg.data_dir);
	if ((rc = cm_store_write(in->store, intake_schema_init, NULL)))
		cm_fatal(rc, "store %s has an unexpected layout", in->cfg.data_dir);
	if ((rc = cm_feed_new(in->store, &fo, &in->feed)))
		cm_fatal(rc, "cannot read the intake feed");
	if ((rc = cm_store_read(in->store, count_cases, in)))
		cm_fatal(rc, "cannot count the stored cases");

	uv_loop_init(&loop);
	in->loop = &loop;
	in->zctx = zmq_ctx_new();
	intake_metrics_init(in);
	open_sockets(in);
	if ((rc = cm_feed_serve(in->feed, &loop, in->feed_rpc)))
		cm_fatal(rc, "cannot serve the feed");
	intake_handlers_register(in);
	if ((rc = cm_http_start(&loop, in->cfg.http_host, in->cfg.http_port, in->metrics, &hops, in,
				&in->http)))
		cm_fatal(rc, "cannot listen for HTTP on %s:%u", in->cfg.http_host, in->cfg.http_port);
	if ((rc = cm_signals_start(&loop, on_stop, in, &in->sig)))
		cm_fatal(rc, "cannot watch signals");

	cm_log_notice(MAIN,
		      "intake ready: submit %s, feed %s (head %llu), admin %s, http %s:%u, clock %s",
		      in->cfg.listen, in->cfg.feed_listen,
		      (unsigned long long)cm_feed_head(in->feed), in->cfg.admin_listen,
		      in->cfg.http_host, cm_http_port(in->http),
		      in->cfg.simulated_clock ? "simulated" : "real");
	uv_run(&loop, UV_RUN_DEFAULT);

	rc = cm_loop_teardown(&loop);
	if (rc)
		cm_log_error_err(MAIN, rc, "loop did not close cleanly");
	zmq_ctx_term(in->zctx);
	cm_store_close(&in->store);
	cm_metrics_free(&in->metrics);
	cm_register_free(&in->reg);
	intake_keys_free(&in->keys);
	free(in->batch);
	cm_arena_free(&in->arena);
	cm_log_notice(MAIN, "intake stopped");
	return rc ? 1 : 0;
}

/*
 * donthu-report: read models over the intake, routing and deadline feeds, and
 * the queries officials read reports from. Configuration: report.conf (path
 * from -c or DONTHU_REPORT_CONFIG) plus DONTHU_REPORT_* environment overrides;
 * every key is in docs/REPORTS.md §operations.
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
#include "report.h"
#include "schema.h"

static struct report_service the_report;

static void on_stop(void *arg, int signum)
{
	struct report_service *s = arg;

	if (s->stopping)
		return;
	cm_log_notice(MAIN, "signal %d: stopping", signum);
	s->stopping = true;
	/* A batch is applied inside one callback, so nothing is half done
	 * here: closing the consumers just stops the next fetch. */
	report_feeds_stop(s);
	cm_http_free(&s->http);
	cm_signals_free(&s->sig);
	report_close_sockets(s);
}

static const char *opt_str(struct cm_config *cfg, const char *key)
{
	const char *v = cm_config_str(cfg, key, NULL);
	return v && *v ? cm_xstrdup(v) : NULL;
}

/* The CURVE key in the file named by the configuration key `what`, or NULL
 * when it is unset or empty. The path is not kept: only the key is needed. */
static const char *read_key_or_die(struct cm_config *cfg, const char *what)
{
	const char *path = cm_config_str(cfg, what, NULL);
	char key[41];
	int rc;

	if (!path || !*path)
		return NULL;
	rc = cm_zsock_read_key(path, key);
	if (rc)
		cm_fatal(rc, "cannot read %s from %s", what, path);
	return cm_xstrdup(key);
}

static void load_central(struct report_config *c, const char *list)
{
	size_t n = 0;
	char *copy = cm_xstrdup(list), *save = NULL;

	c->central = cm_xcalloc(strlen(list) + 1, sizeof(*c->central));
	for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		c->central[n++] = cm_xstrdup(tok);
	free(copy);
	c->mass.central = (const char *const *)c->central;
	c->mass.ncentral = n;
}

static void load_config(struct report_config *c, const char *path)
{
	static const char *const producers[3] = {"intake", "routing", "deadline"};
	static const char *const defaults[3] = {"tcp://127.0.0.1:7102", "tcp://127.0.0.1:7202",
						"tcp://127.0.0.1:7302"};
	struct cm_config *cfg = NULL;
	int line = 0, rc = cm_config_load(path, "DONTHU_REPORT_", &cfg, &line);

	if (rc)
		cm_fatal(rc, "cannot load configuration %s (line %d)", path ? path : "(env)", line);
	c->data_dir = cm_xstrdup(cm_config_str_or_die(cfg, "data_dir", "./var/report"));
	c->listen = cm_xstrdup(cm_config_str_or_die(cfg, "listen", "tcp://127.0.0.1:7402"));
	{
		char *def = cm_xasprintf("ipc://%s/admin.sock", c->data_dir);
		c->admin_listen = cm_xstrdup(cm_config_str_or_die(cfg, "admin_listen", def));
		free(def);
	}
	c->http_host = cm_xstrdup(cm_config_str_or_die(cfg, "http_host", "127.0.0.1"));
	c->http_port = (uint16_t)cm_config_u64_or_die(cfg, "http_port", 0, 65535, 9401);
	c->register_dir = cm_xstrdup(cm_config_str_or_die(cfg, "register_dir", "./data/register"));
	c->forms_dir = cm_xstrdup(cm_config_str_or_die(cfg, "forms_dir", "./data/forms"));
	for (int i = 0; i < 3; i++) {
		char key[40], pub[48];
		/* An empty value disables that feed: the service then runs on
		 * what it has, e.g. intake alone. */
		snprintf(key, sizeof(key), "%s_feed", producers[i]);
		c->feed_ep[i] = cm_xstrdup(cm_config_str_or_die(cfg, key, defaults[i]));
		snprintf(pub, sizeof(pub), "%s_feed_public_file", producers[i]);
		c->curve_server_public[i] = read_key_or_die(cfg, pub);
	}
	c->curve_secret_file = opt_str(cfg, "curve_secret_file");
	c->curve_allow_file = opt_str(cfg, "curve_allow_file");
	{
		const char *sec = read_key_or_die(cfg, "feed_curve_secret_file");
		if (sec) {
			char pub[41];
			if ((rc = cm_zsock_public_of(sec, pub)))
				cm_fatal(rc, "feed_curve_secret_file: not a CURVE secret key");
			c->curve_client_secret = sec;
			c->curve_client_public = cm_xstrdup(pub);
		}
	}
	c->fetch_max = (uint32_t)cm_config_u64_or_die(cfg, "fetch_max", 1, 10000, 2000);
	c->map_size = cm_config_u64_or_die(cfg, "map_size_mb", 1, 1 << 20, 256) << 20;
	c->map_max = cm_config_u64_or_die(cfg, "map_max_mb", 1, 1 << 24, 65536) << 20;
	c->history = cm_config_bool_or_die(cfg, "history", true);
	c->mass.signers = (uint32_t)cm_config_u64_or_die(cfg, "mass_signers", 2, 100000, 5);
	c->mass.repeats = (uint32_t)cm_config_u64_or_die(cfg, "mass_repeats", 1, 1000, 2);
	c->mass.open_months = (uint32_t)cm_config_u64_or_die(cfg, "mass_open_months", 1, 240, 6);
	c->mass.transfers = (uint32_t)cm_config_u64_or_die(cfg, "mass_transfers", 2, 1000, 3);
	load_central(c, cm_config_str_or_die(cfg, "central_agencies", ""));
	c->simulated_clock = cm_admin_clock_config_or_die(cfg);
	cm_config_free(&cfg);
}

static void open_sockets(struct report_service *s)
{
	char secret[41] = "";
	struct cm_zsock_opts ext = {0}, admin = {.endpoint = s->cfg.admin_listen};
	int rc;

	if (s->cfg.curve_secret_file) {
		if (!s->cfg.curve_allow_file)
			cm_fatal(CM_ECONFIG, "curve_secret_file is set but curve_allow_file is not");
		if ((rc = cm_zsock_read_key(s->cfg.curve_secret_file, secret)))
			cm_fatal(rc, "cannot read CURVE secret key %s", s->cfg.curve_secret_file);
		if ((rc = cm_zap_start(s->loop, s->zctx, s->cfg.curve_allow_file, &s->zap)))
			cm_fatal(rc, "cannot load CURVE allowlist %s", s->cfg.curve_allow_file);
		ext.curve_server_secret = secret;
	}
	ext.endpoint = s->cfg.listen;
	if ((rc = cm_rpc_new(s->loop, s->zctx, &ext, &s->query)))
		cm_fatal(rc, "cannot listen for queries on %s", s->cfg.listen);
	if ((rc = cm_rpc_new(s->loop, s->zctx, &admin, &s->admin)))
		cm_fatal(rc, "cannot open the admin socket on %s", s->cfg.admin_listen);
}

int main(int argc, char **argv)
{
	static const char *const producers[3] = {"intake", "routing", "deadline"};
	struct report_service *s = &the_report;
	struct cm_store_opts so = {0};
	struct cm_http_ops hops = {.health = report_health, .metrics_extra = report_metrics_extra};
	const char *conf = getenv("DONTHU_REPORT_CONFIG");
	char err[512] = "";
	uv_loop_t loop;
	int rc;

	cm_log_set_service("report");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			conf = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: donthu-report [-c report.conf]\n"
			       "Configuration keys and DONTHU_REPORT_* overrides: docs/REPORTS.md\n");
			return 0;
		} else {
			fprintf(stderr, "donthu-report: unknown argument %s (try --help)\n", argv[i]);
			return 2;
		}
	}
	load_config(&s->cfg, conf);
	for (int i = 0; i < 3; i++) {
		s->feeds[i].producer = producers[i];
		s->feeds[i].endpoint = s->cfg.feed_ep[i];
		s->feeds[i].id = report_producer_id(producers[i]);
		s->feeds[i].svc = s;
	}

	rc = cm_register_load(s->cfg.register_dir, &s->reg, err, sizeof(err));
	if (rc)
		cm_fatal(rc, "cannot load the register from %s: %s", s->cfg.register_dir, err);
	rc = report_forms_load(s->cfg.forms_dir, &s->forms, err, sizeof(err));
	if (rc)
		cm_fatal(rc, "cannot load the report forms from %s: %s", s->cfg.forms_dir, err);
	s->model = report_model_new(s->cfg.history);

	so.path = s->cfg.data_dir;
	so.dbi_names = report_dbi_names;
	so.ndbi = REPORT_DB_COUNT;
	so.map_size = s->cfg.map_size;
	so.map_max = s->cfg.map_max;
	if ((rc = cm_store_open(&so, &s->store)))
		cm_fatal(rc, "cannot open the store in %s", s->cfg.data_dir);
	if ((rc = cm_store_write(s->store, report_schema_init, NULL)))
		cm_fatal(rc, "store %s has an unexpected layout", s->cfg.data_dir);

	uv_loop_init(&loop);
	s->loop = &loop;
	s->zctx = zmq_ctx_new();
	report_metrics_init(s);
	open_sockets(s);
	report_handlers_register(s);
	if ((rc = report_feeds_start(s)))
		cm_fatal(rc, "cannot start consuming the feeds");
	if ((rc = cm_http_start(&loop, s->cfg.http_host, s->cfg.http_port, s->metrics, &hops, s,
				&s->http)))
		cm_fatal(rc, "cannot listen for HTTP on %s:%u", s->cfg.http_host, s->cfg.http_port);
	if ((rc = cm_signals_start(&loop, on_stop, s, &s->sig)))
		cm_fatal(rc, "cannot watch signals");

	cm_log_notice(MAIN,
		      "report ready: queries %s, admin %s, http %s:%u, feeds intake=%s routing=%s "
		      "deadline=%s, forms %s, clock %s",
		      s->cfg.listen, s->cfg.admin_listen, s->cfg.http_host, cm_http_port(s->http),
		      *s->cfg.feed_ep[0] ? s->cfg.feed_ep[0] : "off",
		      *s->cfg.feed_ep[1] ? s->cfg.feed_ep[1] : "off",
		      *s->cfg.feed_ep[2] ? s->cfg.feed_ep[2] : "off", s->forms->version,
		      s->cfg.simulated_clock ? "simulated" : "real");
	uv_run(&loop, UV_RUN_DEFAULT);

	rc = cm_loop_teardown(&loop);
	if (rc)
		cm_log_error_err(MAIN, rc, "loop did not close cleanly");
	zmq_ctx_term(s->zctx);
	cm_store_close(&s->store);
	cm_metrics_free(&s->metrics);
	cm_register_free(&s->reg);
	report_forms_free(&s->forms);
	report_model_free(&s->model);
	cm_log_notice(MAIN, "report stopped");
	return rc ? 1 : 0;
}

/*
 * donthu-deadline: every statutory clock, and the escalations when they run
 * out. Configuration: deadline.conf (path from -c or DONTHU_DEADLINE_CONFIG)
 * plus DONTHU_DEADLINE_* environment overrides; every key is listed in
 * docs/DEADLINES.md.
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
#include "deadline.h"

static struct deadline the_deadline;

static void on_stop(void *arg, int signum)
{
	struct deadline *d = arg;

	if (d->stopping)
		return;
	cm_log_notice(MAIN, "signal %d: stopping after the current transaction", signum);
	d->stopping = true;
	cm_clock_on_change(NULL, NULL);
	if (d->job_req)
		cm_rpc_req_free(&d->job_req);
	deadline_clock_held_free(d);
	cm_http_free(&d->http);
	cm_feed_consumer_free(&d->intake);
	cm_feed_consumer_free(&d->routing);
	cm_feed_free(&d->feed);
	cm_rpc_free(&d->feed_rpc);
	cm_rpc_free(&d->admin);
	cm_zwatch_free(&d->pub_w);
	cm_zsock_close(&d->pub);
	cm_zap_free(&d->zap);
	if (d->timers_open) {
		uv_close((uv_handle_t *)&d->due_timer, NULL);
		uv_close((uv_handle_t *)&d->job_timer, NULL);
		uv_close((uv_handle_t *)&d->ready_timer, NULL);
		d->timers_open = false;
	}
	cm_signals_free(&d->sig);
}

/* "a,b , c" -> NULL-terminated array of copies. */
static char **split_list(const char *s)
{
	char **v = cm_xcalloc(1, sizeof(*v));
	size_t n = 0;

	while (s && *s) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		while (len && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len) {
			v = cm_xrealloc(v, (n + 2) * sizeof(*v));
			v[n++] = cm_xstrndup(s, len);
			v[n] = NULL;
		}
		s = e ? e + 1 : NULL;
	}
	return v;
}

/* An optional key: unset or empty means off. */
static const char *opt_str(const struct cm_config *cfg, const char *key)
{
	const char *v = cm_config_str(cfg, key, NULL);

	return v && *v ? cm_xstrdup(v) : NULL;
}

static void load_config(struct deadline_config *c, const char *path)
{
	struct cm_config *cfg = NULL;
	int line = 0, rc = cm_config_load(path, "DONTHU_DEADLINE_", &cfg, &line);
	const char *routing;

	if (rc)
		cm_fatal(rc, "cannot load configuration %s (line %d)", path ? path : "(env)", line);
	c->data_dir = cm_xstrdup(cm_config_str_or_die(cfg, "data_dir", "./var/deadline"));
	c->feed_listen =
		cm_xstrdup(cm_config_str_or_die(cfg, "feed_listen", "tcp://127.0.0.1:7302"));
	c->pub_listen = cm_xstrdup(cm_config_str_or_die(cfg, "pub_listen", "tcp://127.0.0.1:7303"));
	{
		char *def = cm_xasprintf("ipc://%s/admin.sock", c->data_dir);
		c->admin_listen = cm_xstrdup(cm_config_str_or_die(cfg, "admin_listen", def));
		free(def);
	}
	c->http_host = cm_xstrdup(cm_config_str_or_die(cfg, "http_host", "127.0.0.1"));
	c->http_port = (uint16_t)cm_config_u64_or_die(cfg, "http_port", 0, 65535, 9301);
	c->intake_feed =
		cm_xstrdup(cm_config_str_or_die(cfg, "intake_feed", "tcp://127.0.0.1:7102"));
	/* Empty turns the routing consumer off: deadlines run on intake alone. */
	routing = cm_config_str(cfg, "routing_feed", "tcp://127.0.0.1:7202");
	c->routing_feed = routing && *routing ? cm_xstrdup(routing) : NULL;
	c->calendar_dir = cm_xstrdup(cm_config_str_or_die(cfg, "calendar_dir", "./data/calendar"));
	c->calendar_flags = split_list(cm_config_str(cfg, "calendar_flags", ""));
	c->policy_file = cm_xstrdup(
		cm_config_str_or_die(cfg, "policy_file", "./data/policy/deadline-policy.json"));
	c->levels.warning_wd = (unsigned)cm_config_u64_or_die(cfg, "warning_wd", 0, 60, 3);
	c->levels.head_after_wd = (unsigned)cm_config_u64_or_die(cfg, "head_after_wd", 1, 250, 5);
	c->levels.chairman_after_wd =
		(unsigned)cm_config_u64_or_die(cfg, "chairman_after_wd", 1, 250, 10);
	c->levels.inspectorate_after_wd =
		(unsigned)cm_config_u64_or_die(cfg, "inspectorate_after_wd", 1, 250, 20);
	if (c->levels.chairman_after_wd < c->levels.head_after_wd ||
	    c->levels.inspectorate_after_wd < c->levels.chairman_after_wd)
		cm_fatal(CM_ECONFIG, "escalation delays must not decrease: head_after_wd %u <= "
				     "chairman_after_wd %u <= inspectorate_after_wd %u",
			 c->levels.head_after_wd, c->levels.chairman_after_wd,
			 c->levels.inspectorate_after_wd);
	c->levels.reception_grace_days =
		(unsigned)cm_config_u64_or_die(cfg, "reception_grace_days", 0, 31, 5);
	c->chairman_office = cm_xstrdup(cm_config_str_or_die(cfg, "chairman_office", "DN-VP"));
	c->inspectorate = cm_xstrdup(cm_config_str_or_die(cfg, "inspectorate", "DN-TTR"));
	c->raise_batch = (uint32_t)cm_config_u64_or_die(cfg, "raise_batch", 1, 100000, 2000);
	c->recompute_batch =
		(uint32_t)cm_config_u64_or_die(cfg, "recompute_batch", 100, 1000000, 10000);
	c->map_size = cm_config_u64_or_die(cfg, "map_size_mb", 1, 1 << 20, 256) << 20;
	c->map_max = cm_config_u64_or_die(cfg, "map_max_mb", 1, 1 << 24, 65536) << 20;
	c->curve_secret_file = opt_str(cfg, "curve_secret_file");
	c->curve_allow_file = opt_str(cfg, "curve_allow_file");
	c->intake_curve_public_file = opt_str(cfg, "intake_curve_public_file");
	c->routing_curve_public_file = opt_str(cfg, "routing_curve_public_file");
	c->simulated_clock = cm_admin_clock_config_or_die(cfg);
	cm_config_free(&cfg);
}

static void read_key(const char *file, const char *what, char key[41])
{
	int rc = cm_zsock_read_key(file, key);

	if (rc)
		cm_fatal(rc, "cannot read %s %s", what, file);
}

static void load_keys(struct deadline *d)
{
	const struct deadline_config *c = &d->cfg;
	int rc;

	if (!c->curve_secret_file) {
		if (c->curve_allow_file || c->intake_curve_public_file ||
		    c->routing_curve_public_file)
			cm_fatal(CM_ECONFIG, "CURVE keys are set but curve_secret_file is not");
		return;
	}
	read_key(c->curve_secret_file, "CURVE secret key", d->curve_secret);
	if ((rc = cm_zsock_public_of(d->curve_secret, d->curve_public)))
		cm_fatal(rc, "cannot derive the public key of %s", c->curve_secret_file);
	if (c->intake_curve_public_file)
		read_key(c->intake_curve_public_file, "intake's CURVE public key", d->intake_public);
	if (c->routing_curve_public_file)
		read_key(c->routing_curve_public_file, "routing's CURVE public key",
			 d->routing_public);
}

static void open_sockets(struct deadline *d)
{
	struct cm_zsock_opts feed = {.endpoint = d->cfg.feed_listen};
	struct cm_zsock_opts admin = {.endpoint = d->cfg.admin_listen};
	struct cm_zsock_opts pub = {
		.type = ZMQ_PUB,
		.endpoint = d->cfg.pub_listen,
		.bind = true,
		.sndhwm = 100000,
	};
	int rc;

	/* The admin socket stays plain ipc:// inside the data directory. */
	if (d->cfg.curve_allow_file) {
		rc = cm_zap_start(d->loop, d->zctx, d->cfg.curve_allow_file, &d->zap);
		if (rc)
			cm_fatal(rc, "cannot load CURVE allowlist %s", d->cfg.curve_allow_file);
		feed.curve_server_secret = d->curve_secret;
		pub.curve_server_secret = d->curve_secret;
	}

	if ((rc = cm_rpc_new(d->loop, d->zctx, &feed, &d->feed_rpc)))
		cm_fatal(rc, "cannot serve the feed on %s", d->cfg.feed_listen);
	if ((rc = cm_rpc_new(d->loop, d->zctx, &admin, &d->admin)))
		cm_fatal(rc, "cannot open the admin socket on %s", d->cfg.admin_listen);
	if ((rc = cm_zsock_open(d->zctx, &pub, &d->pub)))
		cm_fatal(rc, "cannot publish escalations on %s", d->cfg.pub_listen);
}

static void free_config(struct deadline_config *c)
{
	free((char *)c->data_dir);
	free((char *)c->feed_listen);
	free((char *)c->pub_listen);
	free((char *)c->admin_listen);
	free((char *)c->http_host);
	free((char *)c->intake_feed);
	free((char *)c->routing_feed);
	free((char *)c->calendar_dir);
	for (char **f = c->calendar_flags; f && *f; f++)
		free(*f);
	free(c->calendar_flags);
	free((char *)c->policy_file);
	free((char *)c->chairman_office);
	free((char *)c->inspectorate);
	free((char *)c->curve_secret_file);
	free((char *)c->curve_allow_file);
	free((char *)c->intake_curve_public_file);
	free((char *)c->routing_curve_public_file);
}

int main(int argc, char **argv)
{
	struct deadline *d = &the_deadline;
	struct cm_store_opts so = {0};
	struct cm_feed_opts fo = {.producer = "deadline", .log_dbi = DL_DB_LOG};
	struct cm_http_ops hops = {
		.health = deadline_health,
		.metrics_extra = deadline_metrics_extra,
		.get = deadline_http_get,
	};
	const char *conf = getenv("DONTHU_DEADLINE_CONFIG");
	char err[CAL_ERR_LEN + DL_ERR_LEN] = "", ver[17];
	struct cal_options copt;
	uv_loop_t loop;
	int rc;

	cm_log_set_service("deadline");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: donthu-deadline [-c deadline.conf]\n"
			       "Configuration keys and DONTHU_DEADLINE_* overrides: "
			       "docs/DEADLINES.md\n");
			return 0;
		} else {
			fprintf(stderr, "donthu-deadline: unknown argument %s (try --help)\n", argv[i]);
			return 2;
		}
	}
	load_config(&d->cfg, conf);
	load_keys(d);

	rc = dl_policy_load(d->cfg.policy_file, &d->pol, err, sizeof(err));
	if (rc)
		cm_fatal(rc, "cannot load the deadline policy: %s", err);
	cal_options_default(&copt);
	copt.flags = (const char *const *)d->cfg.calendar_flags;
	rc = cal_load(d->cfg.calendar_dir, &copt, &d->cal, err, sizeof(err));
	if (rc)
		cm_fatal(rc, "cannot load the calendar from %s: %s", d->cfg.calendar_dir, err);

	so.path = d->cfg.data_dir;
	so.dbi_names = dl_dbi_names;
	so.ndbi = DL_DB_COUNT;
	so.map_size = d->cfg.map_size;
	so.map_max = d->cfg.map_max;
	if ((rc = cm_store_open(&so, &d->store)))
		cm_fatal(rc, "cannot open the store in %s", d->cfg.data_dir);
	if ((rc = cm_store_write(d->store, dl_schema_init, NULL)))
		cm_fatal(rc, "store %s has an unexpected layout", d->cfg.data_dir);
	if ((rc = cm_feed_new(d->store, &fo, &d->feed)))
		cm_fatal(rc, "cannot read the deadline feed");
	d->engine = (struct dl_engine){
		.feed = d->feed,
		.cal = d->cal,
		.pol = d->pol,
		.lv = d->cfg.levels,
		.chairman_office = d->cfg.chairman_office,
		.inspectorate = d->cfg.inspectorate,
	};

	uv_loop_init(&loop);
	d->loop = &loop;
	d->zctx = zmq_ctx_new();
	deadline_metrics_init(d);
	open_sockets(d);
	if ((rc = cm_feed_serve(d->feed, &loop, d->feed_rpc)))
		cm_fatal(rc, "cannot serve the feed");
	deadline_handlers_register(d);
	deadline_consumers_start(d);
	if ((rc = cm_http_start(&loop, d->cfg.http_host, d->cfg.http_port, d->metrics, &hops, d,
				&d->http)))
		cm_fatal(rc, "cannot listen for HTTP on %s:%u", d->cfg.http_host, d->cfg.http_port);
	if ((rc = cm_signals_start(&loop, on_stop, d, &d->sig)))
		cm_fatal(rc, "cannot watch signals");
	/* Whatever fell due while the service was down is raised once the
	 * feeds have caught up, once: each clock remembers what it raised. */
	deadline_start_raising(d);

	deadline_calendar_version(d->cfg.calendar_dir, ver);
	cm_log_notice(MAIN,
		      "deadline ready: feed %s (head %llu), pub %s, admin %s, http %s:%u, intake %s, "
		      "routing %s, policy %s, calendar %s, clock %s",
		      d->cfg.feed_listen, (unsigned long long)cm_feed_head(d->feed), d->cfg.pub_listen,
		      d->cfg.admin_listen, d->cfg.http_host, cm_http_port(d->http), d->cfg.intake_feed,
		      d->cfg.routing_feed ? d->cfg.routing_feed : "(off)", dl_policy_version(d->pol),
		      ver, d->cfg.simulated_clock ? "simulated" : "real");
	uv_run(&loop, UV_RUN_DEFAULT);

	rc = cm_loop_teardown(&loop);
	if (rc)
		cm_log_error_err(MAIN, rc, "loop did not close cleanly");
	zmq_ctx_term(d->zctx);
	cm_store_close(&d->store);
	cm_metrics_free(&d->metrics);
	cal_free(&d->cal);
	dl_policy_free(&d->pol);
	free_config(&d->cfg);
	cm_log_notice(MAIN, "deadline stopped");
	return rc ? 1 : 0;
}

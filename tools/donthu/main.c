/*
 * donthu - the command-line tool for operators and integrators: submit,
 * follow cases, watch escalations, print reports, check and administer the
 * services. docs/CLI.md is its manual.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/zsock.h"

#ifndef DONTHU_VERSION
#define DONTHU_VERSION "dev"
#endif

struct global_opt {
	const char *name;
	const char *metavar;
	const char *help;
};

static const struct global_opt globals[] = {
	{"intake", "EP", "intake submit socket (DONTHU_INTAKE_ENDPOINT; tcp://127.0.0.1:7101)"},
	{"intake-feed", "EP", "intake feed socket (DONTHU_INTAKE_FEED_ENDPOINT; tcp://127.0.0.1:7102)"},
	{"routing", "EP", "routing feed socket (DONTHU_ROUTING_ENDPOINT; tcp://127.0.0.1:7202)"},
	{"deadline", "EP", "deadline feed socket (DONTHU_DEADLINE_ENDPOINT; tcp://127.0.0.1:7302)"},
	{"deadline-pub", "EP",
	 "deadline escalation PUB socket (DONTHU_DEADLINE_PUB_ENDPOINT; tcp://127.0.0.1:7303)"},
	{"report", "EP", "report query socket (DONTHU_REPORT_ENDPOINT; tcp://127.0.0.1:7402)"},
	{"data-dir", "DIR",
	 "the services' data folder: admin sockets are ipc://DIR/<service>/admin.sock "
	 "(DONTHU_DATA_DIR; ./var)"},
	{"admin-dir", "DIR", "same as --data-dir"},
	{"admin", "SVC=EP",
	 "one service's admin socket, e.g. intake=ipc:///srv/intake/admin.sock "
	 "(DONTHU_<SVC>_ADMIN_ENDPOINT)"},
	{"curve-dir", "DIR",
	 "CURVE keys as scripts/gen-keys writes them: cli.public, cli.secret and "
	 "<service>.public in DIR or DIR/curve (DONTHU_CURVE_DIR)"},
	{"rpc-timeout", "S", "seconds to wait for each answer (DONTHU_RPC_TIMEOUT; 5)"},
	{NULL, NULL, NULL},
};

static void top_help(FILE *out)
{
	fprintf(out,
		"usage: donthu [GLOBAL OPTIONS] COMMAND [ARGS] [--help]\n"
		"\n"
		"Commands:\n"
		"  submit FILE...            send petitions, actions, reception records, schedules\n"
		"                            and conclusions from JSON or NDJSON files to intake\n"
		"  case show|history|explain|list\n"
		"                            a case's summary, every event, how its due dates were\n"
		"                            computed; list cases\n"
		"  watch                     escalations as they happen, resumable\n"
		"  report FORM --agency CODE --period P\n"
		"                            a statistical form as a table, CSV, JSON or XLSX\n"
		"  status                    every service's health, clock, feeds and lag\n"
		"  admin reload|clock|reveal|backup\n"
		"                            administer the services through their admin sockets\n"
		"  help [COMMAND]            this text, or a command's\n"
		"\n"
		"Global options (anywhere on the line; flags win over environment variables):\n");
	for (const struct global_opt *g = globals; g->name; g++) {
		char head[64];

		snprintf(head, sizeof(head), "--%s %s", g->name, g->metavar);
		fprintf(out, "  %-22s %s\n", head, g->help);
	}
	fprintf(out, "  %-22s %s\n", "--version", "print the version");
	fprintf(out,
		"\n"
		"Exit codes: 0 done; 1 some items were rejected or failed; 2 usage error or\n"
		"unreadable input; 3 a service did not answer; 4 not found.\n"
		"Manual: docs/CLI.md\n");
}

static void ep_set(struct cli_ep *ep, const char *flagval, const char *env, const char *def,
		   const char *flag, const char *what, enum cli_svc svc)
{
	const char *v = flagval;

	if (!v || !*v)
		v = getenv(env);
	if (!v || !*v)
		v = def;
	ep->url = cm_xstrdup(v);
	ep->flag = flag;
	ep->env = env;
	ep->what = what;
	ep->svc = svc;
}

/* Relative ipc:// paths would depend on the services' working directory,
 * not ours: make the data folder absolute. */
static char *absolute_dir(const char *dir)
{
	char cwd[PATH_MAX];

	if (dir[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return cm_xstrdup(dir);
	if (strcmp(dir, ".") == 0)
		return cm_xstrdup(cwd);
	if (strncmp(dir, "./", 2) == 0)
		dir += 2;
	return cm_xasprintf("%s/%s", cwd, dir);
}

static int load_curve(struct cli *c, const char *dir)
{
	static const char *const names[] = {"cli.public", "cli.secret"};
	char *base = NULL, *p = NULL;
	int rc = 0;

	base = cm_xasprintf("%s/curve/cli.secret", dir);
	if (access(base, R_OK) == 0) {
		free(base);
		base = cm_xasprintf("%s/curve", dir);
	} else {
		free(base);
		base = cm_xstrdup(dir);
	}
	for (int i = 0; i < 2 && !rc; i++) {
		free(p);
		p = cm_xasprintf("%s/%s", base, names[i]);
		rc = cm_zsock_read_key(p, i == 0 ? c->curve_public : c->curve_secret);
	}
	for (int s = 0; s < SVC_COUNT && !rc; s++) {
		free(p);
		p = cm_xasprintf("%s/%s.public", base, cli_svc_names[s]);
		rc = cm_zsock_read_key(p, c->server_public[s]);
	}
	if (rc)
		fprintf(stderr,
			"donthu: cannot read the CURVE key %s: %s (run scripts/gen-keys, or point "
			"--curve-dir at the folder holding cli.public, cli.secret and "
			"<service>.public)\n",
			p, cm_strerror(rc));
	else
		c->curve = true;
	free(p);
	free(base);
	return rc ? CLI_USAGE : 0;
}

static bool is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

int main(int argc, char **argv)
{
	static const char *const admin_env[SVC_COUNT] = {
		"DONTHU_INTAKE_ADMIN_ENDPOINT", "DONTHU_ROUTING_ADMIN_ENDPOINT",
		"DONTHU_DEADLINE_ADMIN_ENDPOINT", "DONTHU_REPORT_ADMIN_ENDPOINT"};
	const char *gval[CM_ARRAY_LEN(globals)] = {0};
	const char *admin_flag[SVC_COUNT] = {0};
	struct cli c = {0};
	char **rest = cm_xcalloc((size_t)argc + 1, sizeof(char *));
	int nrest = 0, rc = CLI_USAGE;
	char *data_dir = NULL;
	const char *cmd;

	/* The services log through cm_log; the tool only prints. Keep libcommon
	 * quiet unless asked (DONTHU_LOG=debug). */
	if (cm_log_configure(getenv("DONTHU_LOG") ? getenv("DONTHU_LOG") : "error") != 0)
		cm_log_configure("error");
	cm_log_set_service("cli");

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t g;
		bool matched = false;

		if (strcmp(a, "--version") == 0) {
			printf("donthu %s\n", DONTHU_VERSION);
			rc = 0;
			goto out;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			rest[nrest++] = argv[i];
			continue;
		}
		for (g = 0; globals[g].name; g++) {
			size_t n = strlen(globals[g].name);
			const char *v = NULL;

			if (strncmp(a + 2, globals[g].name, n) != 0)
				continue;
			if (a[2 + n] == '=')
				v = a + 3 + n;
			else if (a[2 + n] != '\0')
				continue;
			else if (i + 1 < argc)
				v = argv[++i];
			else {
				fprintf(stderr, "donthu: --%s needs a value (%s); try donthu --help\n",
					globals[g].name, globals[g].metavar);
				goto out;
			}
			if (strcmp(globals[g].name, "admin") == 0) {
				const char *eq = strchr(v, '=');
				char svc[16];
				int s;

				snprintf(svc, sizeof(svc), "%.*s", eq ? (int)(eq - v) : 0, v);
				s = eq ? cli_svc_parse(svc) : -1;
				if (s < 0 || !eq[1]) {
					fprintf(stderr,
						"donthu: --admin wants SERVICE=ENDPOINT with SERVICE one "
						"of intake, routing, deadline, report (got \"%s\")\n",
						v);
					goto out;
				}
				admin_flag[s] = eq + 1;
			} else {
				gval[g] = v;
			}
			matched = true;
			break;
		}
		if (!matched)
			rest[nrest++] = argv[i];
	}

	ep_set(&c.intake, gval[0], "DONTHU_INTAKE_ENDPOINT", "tcp://127.0.0.1:7101", "--intake",
	       "intake submit socket", SVC_INTAKE);
	ep_set(&c.intake_feed, gval[1], "DONTHU_INTAKE_FEED_ENDPOINT", "tcp://127.0.0.1:7102",
	       "--intake-feed", "intake feed", SVC_INTAKE);
	ep_set(&c.routing, gval[2], "DONTHU_ROUTING_ENDPOINT", "tcp://127.0.0.1:7202", "--routing",
	       "routing feed", SVC_ROUTING);
	ep_set(&c.deadline, gval[3], "DONTHU_DEADLINE_ENDPOINT", "tcp://127.0.0.1:7302",
	       "--deadline", "deadline feed", SVC_DEADLINE);
	ep_set(&c.deadline_pub, gval[4], "DONTHU_DEADLINE_PUB_ENDPOINT", "tcp://127.0.0.1:7303",
	       "--deadline-pub", "deadline escalation socket", SVC_DEADLINE);
	ep_set(&c.report, gval[5], "DONTHU_REPORT_ENDPOINT", "tcp://127.0.0.1:7402", "--report",
	       "report query socket", SVC_REPORT);
	{
		const char *d = gval[6] ? gval[6] : gval[7];

		if (!d || !*d)
			d = getenv("DONTHU_DATA_DIR");
		data_dir = absolute_dir(d && *d ? d : "./var");
	}
	for (int s = 0; s < SVC_COUNT; s++) {
		static const char *const what[SVC_COUNT] = {"intake admin socket",
							    "routing admin socket",
							    "deadline admin socket",
							    "report admin socket"};
		char *def = cm_xasprintf("ipc://%s/%s/admin.sock", data_dir, cli_svc_names[s]);

		ep_set(&c.admin[s], admin_flag[s], admin_env[s], def, "--data-dir or --admin",
		       what[s], (enum cli_svc)s);
		c.admin[s].admin = true;
		free(def);
	}
	{
		const char *t = gval[10] ? gval[10] : getenv("DONTHU_RPC_TIMEOUT");
		char *end = NULL;
		double secs = 5;

		if (t && *t) {
			secs = strtod(t, &end);
			if (*end || !(secs > 0 && secs <= 3600)) {
				fprintf(stderr,
					"donthu: --rpc-timeout wants seconds between 0 and 3600 "
					"(got \"%s\")\n",
					t);
				goto out;
			}
		}
		c.timeout_ms = (int)(secs * 1000);
	}
	{
		const char *d = gval[9] ? gval[9] : getenv("DONTHU_CURVE_DIR");

		if (d && *d && load_curve(&c, d) != 0)
			goto out;
	}

	if (nrest == 0 || is_help(rest[0])) {
		top_help(nrest == 0 ? stderr : stdout);
		rc = nrest == 0 ? CLI_USAGE : 0;
		goto out;
	}
	cmd = rest[0];
	if (strcmp(cmd, "help") == 0) {
		if (nrest < 2) {
			top_help(stdout);
			rc = 0;
			goto out;
		}
		/* "donthu help submit" is "donthu submit --help". */
		cmd = rest[1];
		rest[1] = "--help";
		rest[2] = NULL;
		nrest = 2;
	}
	c.zctx = zmq_ctx_new();
	if (strcmp(cmd, "submit") == 0)
		rc = cli_cmd_submit(&c, nrest - 1, rest + 1);
	else if (strcmp(cmd, "case") == 0)
		rc = cli_cmd_case(&c, nrest - 1, rest + 1);
	else if (strcmp(cmd, "watch") == 0)
		rc = cli_cmd_watch(&c, nrest - 1, rest + 1);
	else if (strcmp(cmd, "report") == 0)
		rc = cli_cmd_report(&c, nrest - 1, rest + 1);
	else if (strcmp(cmd, "status") == 0)
		rc = cli_cmd_status(&c, nrest - 1, rest + 1);
	else if (strcmp(cmd, "admin") == 0)
		rc = cli_cmd_admin(&c, nrest - 1, rest + 1);
	else {
		fprintf(stderr, "donthu: unknown command \"%s\" (try donthu --help)\n", cmd);
		rc = CLI_USAGE;
	}
	fflush(stdout);
	zmq_ctx_term(c.zctx);
out:
	free(c.intake.url);
	free(c.intake_feed.url);
	free(c.routing.url);
	free(c.deadline.url);
	free(c.deadline_pub.url);
	free(c.report.url);
	for (int s = 0; s < SVC_COUNT; s++)
		free(c.admin[s].url);
	free(data_dir);
	free(rest);
	return rc;
}

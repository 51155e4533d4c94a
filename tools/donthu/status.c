/*
 * status.c - `donthu status`: one StatusRequest to each service, all at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/pbjson.h"

static const struct cli_opt status_opts[] = {
	{"service", 's', OPT_VALUE, "SVC",
	 "only these services, comma-separated (intake, routing, deadline, report)"},
	{"json", 0, OPT_FLAG, NULL,
	 "one JSON line per service: {service, reachable, via, endpoint, status}"},
	{NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd status_cmd = {
	.name = "status",
	.synopsis = "[--service SVC,...] [--json]",
	.about = "Asks every service for its status: health, version, clock (and whether it is\n"
		 "simulated), feed head, the position of each feed it consumes and the lag, open\n"
		 "clocks, overdue cases and case count. Each is asked on its feed (report: query)\n"
		 "socket; one that does not answer there is asked on its admin socket.",
	.opts = status_opts,
	.exits = "0 all answered and healthy; 1 some answered unhealthy; 3 some did not answer.",
};

int cli_parse_services(const struct cli_cmd *cmd, const char *spec, bool want[SVC_COUNT])
{
	char *copy, *save = NULL;
	int rc = 0;

	for (int i = 0; i < SVC_COUNT; i++)
		want[i] = spec == NULL || strcmp(spec, "all") == 0;
	if (!spec || strcmp(spec, "all") == 0)
		return 0;
	copy = cm_xstrdup(spec);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int s = cli_svc_parse(t);

		if (s < 0) {
			rc = cli_usage_error(cmd,
					     "unknown service \"%s\" (intake, routing, deadline, "
					     "report or all)",
					     t);
			break;
		}
		want[s] = true;
	}
	free(copy);
	return rc;
}

int cli_cmd_status(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	struct cli_chan chs[SVC_COUNT];
	cm_env *outs[SVC_COUNT] = {0}, req;
	Donthu__V1__StatusRequest sq = DONTHU__V1__STATUS_REQUEST__INIT;
	int rcs[SVC_COUNT], svc_of[SVC_COUNT];
	const char *via[SVC_COUNT] = {0};
	bool want[SVC_COUNT], done, json, down = false, sick = false;
	struct cli_table t;
	size_t n = 0;
	int rc;

	if ((rc = cli_parse(&status_cmd, argc, argv, &a, &done)) || done)
		return rc;
	if (a.npos)
		return cli_usage_error(&status_cmd, "unexpected argument %s", a.pos[0]);
	if ((rc = cli_parse_services(&status_cmd, cli_arg(&status_cmd, &a, "service"), want)))
		return rc;
	json = cli_arg(&status_cmd, &a, "json") != NULL;
	cli_env_init(&req);
	req.body_case = DONTHU__V1__ENVELOPE__BODY_STATUS;
	req.status = &sq;

	for (int s = 0; s < SVC_COUNT; s++) {
		if (!want[s])
			continue;
		chs[n].ep = cli_status_ep(c, (enum cli_svc)s);
		chs[n].sock = NULL;
		svc_of[n++] = s;
	}
	cli_call_many(c, chs, n, &req, c->timeout_ms, outs, rcs);
	for (size_t i = 0; i < n; i++) {
		cli_chan_close(&chs[i]);
		if (rcs[i] == 0 && outs[i]->body_case == DONTHU__V1__ENVELOPE__BODY_STATUS_REPLY) {
			via[i] = "feed";
			continue;
		}
		cm_env_free(&outs[i]);
		chs[i].ep = &c->admin[svc_of[i]];
	}
	/* The second round asks the admin sockets of those that did not answer. */
	{
		struct cli_chan again[SVC_COUNT];
		cm_env *o2[SVC_COUNT];
		int r2[SVC_COUNT];
		size_t idx[SVC_COUNT], m = 0;

		for (size_t i = 0; i < n; i++)
			if (!via[i]) {
				again[m].ep = chs[i].ep;
				again[m].sock = NULL;
				idx[m++] = i;
			}
		if (m)
			cli_call_many(c, again, m, &req, c->timeout_ms, o2, r2);
		for (size_t k = 0; k < m; k++) {
			cli_chan_close(&again[k]);
			if (r2[k] == 0 && o2[k]->body_case == DONTHU__V1__ENVELOPE__BODY_STATUS_REPLY) {
				outs[idx[k]] = o2[k];
				via[idx[k]] = "admin";
			} else {
				cm_env_free(&o2[k]);
			}
		}
	}

	cli_table_init(&t, 10);
	for (int i = 3; i < 10; i++)
		t.right[i] = i != 5 && i != 3;
	if (!json)
		cli_table_rowv(&t, "service", "health", "version", "clock", "feed head",
			       "consumes (applied/head, lag)", "open clocks", "overdue", "cases", "via");
	for (size_t i = 0; i < n; i++) {
		int s = svc_of[i];
		const Donthu__V1__StatusReply *sr = outs[i] ? outs[i]->status_reply : NULL;
		char clock[64], head[32], oc[32], od[32], cases[32], *cons;

		if (!sr) {
			down = true;
			if (json) {
				json_t *o = json_pack("{s:s, s:b, s:s}", "service", cli_svc_names[s],
						      "reachable", 0, "endpoint",
						      cli_status_ep(c, (enum cli_svc)s)->url);
				cli_print_json_value(stdout, o);
			} else {
				cli_table_rowv(&t, cli_svc_names[s], "DOWN", "-", "-", "-", "-", "-",
					       "-", "-", "-");
			}
			continue;
		}
		if (strcmp(sr->health, "ok") != 0)
			sick = true;
		if (json) {
			json_t *o = json_pack("{s:s, s:b, s:s, s:s, s:o}", "service",
					      cli_svc_names[s], "reachable", 1, "via", via[i],
					      "endpoint",
					      strcmp(via[i], "admin") == 0 ? c->admin[s].url
									   : cli_status_ep(c, (enum cli_svc)s)->url,
					      "status", cm_pbjson_render(&sr->base, 0));
			cli_print_json_value(stdout, o);
			continue;
		}
		cli_time_short(sr->now_ms, clock);
		if (sr->simulated_clock)
			strcat(clock, " (simulated)");
		snprintf(head, sizeof(head), "%" PRIu64, sr->feed_head);
		snprintf(oc, sizeof(oc), "%" PRIu64, sr->open_clocks);
		snprintf(od, sizeof(od), "%" PRIu64, sr->overdue);
		snprintf(cases, sizeof(cases), "%" PRIu64, sr->cases);
		cons = cm_xstrdup(sr->n_consumers ? "" : "-");
		for (size_t k = 0; k < sr->n_consumers; k++) {
			const Donthu__V1__ConsumerPosition *p = sr->consumers[k];
			uint64_t lag = p->head_seq > p->applied_seq ? p->head_seq - p->applied_seq : 0;
			char *next = cm_xasprintf("%s%s%s %" PRIu64 "/%" PRIu64 ", %" PRIu64, cons,
						  k ? "; " : "", p->producer, p->applied_seq,
						  p->head_seq, lag);
			free(cons);
			cons = next;
		}
		cli_table_rowv(&t, cli_svc_names[s], sr->health, sr->version, clock, head, cons, oc,
			       od, cases, via[i]);
		free(cons);
	}
	if (!json)
		cli_table_print(&t, stdout);
	cli_table_free(&t);
	if (down && !json)
		fprintf(stderr, "donthu status: DOWN means neither its feed socket nor its admin "
				"socket answered within the timeout (see donthu --help for the "
				"endpoint options)\n");
	for (size_t i = 0; i < n; i++)
		cm_env_free(&outs[i]);
	return down ? CLI_UNREACHABLE : sick ? CLI_FAILED : CLI_OK;
}

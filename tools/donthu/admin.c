/*
 * admin.c - `donthu admin reload|clock|reveal|backup` over the services'
 * admin sockets (ipc:// in each data folder, so only someone on the host
 * with access to that folder can use them).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/pbjson.h"
#include "common/text.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x

static const struct cli_opt reload_opts[] = {
	{"service", 's', OPT_VALUE, "SVC",
	 "the service(s) to reload, comma-separated, or all (required)"},
	{NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd reload_cmd = {
	.name = "admin reload",
	.synopsis = "WHAT --service SVC",
	.about = "Reload a data file without a restart: calendar (deadline), policy (deadline,\n"
		 "routing), register (intake, routing, report), forms (report). A malformed file\n"
		 "is refused and the service keeps what it had; the reason is printed. With\n"
		 "--service all, services that do not load WHAT are listed as skipped.",
	.opts = reload_opts,
	.exits = "0 reloaded; 1 refused (the file is bad, or the service does not load WHAT);\n"
		 "2 usage; 3 a named service did not answer (or, with all, none did).",
};

static const struct cli_opt clock_opts[] = {
	{"service", 's', OPT_VALUE, "SVC",
	 "the service(s) whose clock to move, comma-separated, or all (default: all running)"},
	{NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd clock_cmd = {
	.name = "admin clock",
	.synopsis = "set TIME | advance DURATION [--service SVC]",
	.about = "Move the simulated clock of services started with clock = simulated (tests,\n"
		 "the demo). TIME is RFC 3339 (2026-07-01T08:00:00+07:00) or a date (00:00 in\n"
		 "Vietnam); DURATION is whole units run together: 3d, 36h, 90m, 45s, 1d12h. Time\n"
		 "never goes backwards. With all (the default) every running service moves, so\n"
		 "their clocks stay together; services that are not running are skipped.",
	.opts = clock_opts,
	.exits = "0 moved; 1 some refused (real clock, or backwards); 2 usage; 3 a named\n"
		 "service (or, with all, every service) did not answer.",
};

static const struct cli_opt reveal_opts[] = {
	{"reason", 0, OPT_VALUE, "TEXT", "why (at least 10 characters; recorded)"},
	{"by", 0, OPT_VALUE, "NAME", "who is asking (recorded)"},
	{"json", 0, OPT_FLAG, NULL, "print the RevealReply as JSON"},
	{NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd reveal_cmd = {
	.name = "admin reveal",
	.synopsis = "CASE --reason TEXT --by NAME",
	.about = "Print the identity of a case's petitioners (or a reception record's citizens)\n"
		 "from intake's sealed vault. Needs intake's identity key, a reason and a name:\n"
		 "intake writes both into its audit record, and commits it, before it answers.",
	.opts = reveal_opts,
	.exits = "0 revealed; 1 refused; 2 no reason or name; 3 intake did not answer;\n"
		 "4 no identity stored for CASE.",
};

static const struct cli_opt backup_opts[] = {
	{"service", 's', OPT_VALUE, "SVC",
	 "only these services, comma-separated (default all: every store)"},
	{"backup-timeout", 0, OPT_VALUE, "S",
	 "seconds to wait for each service's copy (default 3600; 0: no limit)"},
	{NULL, 0, 0, NULL, NULL},
};

/* A copy takes as long as the store is big (about 12 s for report at
 * 1,000,000 cases), so it is not bounded by --rpc-timeout, which is meant
 * for quick queries; an hour still ends a script whose service died. */
#define BACKUP_TIMEOUT_DEFAULT_S 3600
#define BACKUP_TIMEOUT_MAX_S (7 * 24 * 3600)

static const struct cli_cmd backup_cmd = {
	.name = "admin backup",
	.synopsis = "DIR [--service SVC] [--backup-timeout S]",
	.about = "A hot, consistent copy of each service's store into DIR/<service> (created;\n"
		 "must be empty of a previous backup). The services write the copies, so DIR\n"
		 "must be writable by them. One service at a time, consumers first (report,\n"
		 "deadline, routing, intake); each is first asked for its status (within\n"
		 "--rpc-timeout), then given --backup-timeout to finish its copy. Restore with\n"
		 "the service stopped: docs/OPERATIONS.md.",
	.opts = backup_opts,
	.exits = "0 every store copied; 1 some copy failed, or did not finish within\n"
		 "--backup-timeout (it may still complete: see the message); 2 usage; 3 some\n"
		 "service did not answer its status request (its store is NOT in DIR).",
};

/* What happened to one service's request. */
enum outcome { DONE, REFUSED, SKIPPED, SILENT };

/* Send req to the admin socket of every wanted service at once; print one
 * line per service. not_served: error codes meaning "this service does not
 * do that" (counted as skipped when all services were asked). */
static int broadcast(struct cli *c, const bool want[SVC_COUNT], bool all, const cm_env *req,
		     const char *verb, bool show_now)
{
	struct cli_chan chs[SVC_COUNT];
	cm_env *outs[SVC_COUNT];
	int rcs[SVC_COUNT], svc[SVC_COUNT];
	size_t n = 0, answered = 0;
	bool refused = false, silent = false;
	struct cli_table t;

	for (int s = 0; s < SVC_COUNT; s++) {
		if (want[s]) {
			chs[n].ep = &c->admin[s];
			chs[n].sock = NULL;
			svc[n++] = s;
		}
	}
	cli_call_many(c, chs, n, req, c->timeout_ms, outs, rcs);
	cli_table_init(&t, 3);
	for (size_t i = 0; i < n; i++) {
		const char *name = cli_svc_names[svc[i]];
		char *msg = NULL;

		cli_chan_close(&chs[i]);
		if (rcs[i]) {
			if (all) {
				msg = cm_xasprintf("not running (%s)", rcs[i] == -ECONNREFUSED
										? "no admin socket"
										: "no answer");
				cli_table_rowv(&t, name, "skipped", msg);
			} else {
				silent = true;
				msg = cm_xasprintf("%s %s",
						   rcs[i] == -ECONNREFUSED ? "nothing listens on"
									   : "no answer from",
						   c->admin[svc[i]].url);
				cli_table_rowv(&t, name, "DOWN", msg);
			}
			free(msg);
			continue;
		}
		answered++;
		if (outs[i]->body_case == BODY(CONTROL_REPLY) && outs[i]->control_reply->ok) {
			const Donthu__V1__ControlReply *cr = outs[i]->control_reply;
			char now[24];

			cli_time_short(cr->now_ms, now);
			msg = show_now ? cm_xasprintf("now %s", now)
				       : cm_xstrdup(*cr->detail ? cr->detail : "done");
			cli_table_rowv(&t, name, verb, msg);
		} else if (outs[i]->body_case == BODY(CONTROL_REPLY) && outs[i]->control_reply->error) {
			const Donthu__V1__ErrorDetail *e = outs[i]->control_reply->error;
			bool not_served = strcmp(e->code, "unsupported") == 0 ||
					  (strcmp(e->code, "invalid_value") == 0 &&
					   strcmp(e->field, "reload.what") == 0);

			msg = cm_xasprintf("%s: %s", e->code, e->message);
			if (all && not_served) {
				cli_table_rowv(&t, name, "skipped", msg);
			} else {
				refused = true;
				cli_table_rowv(&t, name, "REFUSED", msg);
			}
		} else {
			refused = true;
			msg = cm_xasprintf("unexpected answer %s", cm_env_body_name(outs[i]));
			cli_table_rowv(&t, name, "REFUSED", msg);
		}
		free(msg);
		cm_env_free(&outs[i]);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	if (silent || answered == 0) {
		if (answered == 0)
			fprintf(stderr, "donthu admin: no service answered on its admin socket; are "
					"they running, and is --data-dir (or --admin SVC=EP) right?\n");
		return CLI_UNREACHABLE;
	}
	return refused ? CLI_FAILED : CLI_OK;
}

static int run_reload(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	Donthu__V1__ReloadRequest rr = DONTHU__V1__RELOAD_REQUEST__INIT;
	bool want[SVC_COUNT], done;
	const char *svc;
	cm_env req;
	int rc;

	if ((rc = cli_parse(&reload_cmd, argc, argv, &a, &done)) || done)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(&reload_cmd, "say what to reload: calendar, policy, register "
						    "or forms");
	svc = cli_arg(&reload_cmd, &a, "service");
	if (!svc)
		return cli_usage_error(&reload_cmd, "--service is required (a service name, or all)");
	if ((rc = cli_parse_services(&reload_cmd, svc, want)))
		return rc;
	cli_env_init(&req);
	rr.what = (char *)a.pos[0];
	req.body_case = BODY(RELOAD);
	req.reload = &rr;
	return broadcast(c, want, strcmp(svc, "all") == 0, &req, "reloaded", false);
}

/* "3d", "36h", "90m", "45s", "1d12h" -> milliseconds; -1 when malformed. */
static int64_t parse_duration(const char *s)
{
	int64_t total = 0;

	if (!*s)
		return -1;
	while (*s) {
		int64_t n = 0, unit;

		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (*s++ - '0');
			if (n > 1000000000)
				return -1;
		}
		switch (*s++) {
		case 'w':
			unit = 7 * CM_DAY_MS;
			break;
		case 'd':
			unit = CM_DAY_MS;
			break;
		case 'h':
			unit = 3600 * 1000;
			break;
		case 'm':
			unit = 60 * 1000;
			break;
		case 's':
			unit = 1000;
			break;
		default:
			return -1;
		}
		total += n * unit;
		if (total > 100LL * 365 * CM_DAY_MS)
			return -1;
	}
	return total;
}

static int run_clock(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	Donthu__V1__ClockControl cc = DONTHU__V1__CLOCK_CONTROL__INIT;
	bool want[SVC_COUNT], done;
	const char *svc;
	cm_env req;
	int rc;

	if ((rc = cli_parse(&clock_cmd, argc, argv, &a, &done)) || done)
		return rc;
	if (a.npos != 2 || (strcmp(a.pos[0], "set") != 0 && strcmp(a.pos[0], "advance") != 0))
		return cli_usage_error(&clock_cmd, "use: admin clock set TIME, or admin clock "
						   "advance DURATION");
	svc = cli_arg(&clock_cmd, &a, "service");
	if ((rc = cli_parse_services(&clock_cmd, svc, want)))
		return rc;
	if (strcmp(a.pos[0], "set") == 0) {
		int64_t ms;
		cm_day_t day;

		if (cm_time_parse(a.pos[1], &ms) == 0) {
			cc.set_ms = ms;
		} else if (cm_day_parse(a.pos[1], &day) == 0) {
			cc.set_ms = cm_day_start_ms(day);
		} else {
			return cli_usage_error(&clock_cmd,
					       "TIME is RFC 3339 with an offset "
					       "(2026-07-01T08:00:00+07:00) or a date (2026-07-01), "
					       "not \"%s\"",
					       a.pos[1]);
		}
		cc.op_case = DONTHU__V1__CLOCK_CONTROL__OP_SET_MS;
	} else {
		int64_t d = parse_duration(a.pos[1]);

		if (d <= 0)
			return cli_usage_error(&clock_cmd,
					       "DURATION is a positive amount in w, d, h, m, s (3d, "
					       "36h, 90m, 1d12h), not \"%s\"",
					       a.pos[1]);
		cc.advance_ms = d;
		cc.op_case = DONTHU__V1__CLOCK_CONTROL__OP_ADVANCE_MS;
	}
	cli_env_init(&req);
	req.body_case = BODY(CLOCK);
	req.clock = &cc;
	return broadcast(c, want, !svc || strcmp(svc, "all") == 0, &req, "moved", true);
}

static void print_person(const Donthu__V1__Person *p, size_t i)
{
	struct cli_table t;
	char k[64], *id;

	printf("%s %zu%s%s\n", "person", i + 1, p->is_representative ? " (representative)" : "",
	       p->identity_protection ? " (asked for identity protection)" : "");
	cli_table_init(&t, 2);
	cli_table_rowv(&t, "  name", p->full_name);
	id = cm_xasprintf("%s %s", cli_enum_short(&donthu__v1__id_kind__descriptor, (int)p->id_kind, k),
			  p->id_number);
	cli_table_rowv(&t, "  identity", id);
	free(id);
	if (*p->address)
		cli_table_rowv(&t, "  address", p->address);
	if (*p->phone)
		cli_table_rowv(&t, "  phone", p->phone);
	if (*p->email)
		cli_table_rowv(&t, "  e-mail", p->email);
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

static int run_reveal(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	struct cli_chan ch = {.ep = &c->admin[SVC_INTAKE]};
	Donthu__V1__RevealRequest rq = DONTHU__V1__REVEAL_REQUEST__INIT;
	const char *reason, *by;
	cm_env req, *rep = NULL;
	bool done;
	int rc;

	if ((rc = cli_parse(&reveal_cmd, argc, argv, &a, &done)) || done)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(&reveal_cmd, "give exactly one case (or record) number");
	reason = cli_arg(&reveal_cmd, &a, "reason");
	by = cli_arg(&reveal_cmd, &a, "by");
	if (!reason || cm_text_length(reason) < 10)
		return cli_usage_error(&reveal_cmd,
				       "refused: a reveal needs --reason TEXT (at least 10 "
				       "characters) saying why; it is recorded in intake's audit log");
	if (!by || !*by)
		return cli_usage_error(&reveal_cmd,
				       "refused: a reveal needs --by NAME (who is asking); it is "
				       "recorded in intake's audit log");
	fprintf(stderr,
		"donthu admin reveal: WARNING: this reveal is logged. Intake records case %s, "
		"\"%s\" and your reason in its audit log before it answers.\n",
		a.pos[0], by);
	cli_env_init(&req);
	rq.case_number = (char *)a.pos[0];
	rq.requested_by = (char *)by;
	rq.reason = (char *)reason;
	req.body_case = BODY(REVEAL);
	req.reveal = &rq;
	rc = cli_chan_call(c, &ch, &req, c->timeout_ms, &rep);
	cli_chan_close(&ch);
	if (rc)
		return cli_unreachable(c, &c->admin[SVC_INTAKE], rc);
	if (rep->body_case == BODY(CONTROL_REPLY)) {
		const Donthu__V1__ErrorDetail *e = rep->control_reply->error;

		rc = e && strcmp(e->code, "unknown_case") == 0 ? CLI_NOTFOUND : CLI_FAILED;
		cli_control_failed(rep, "intake admin socket");
		cm_env_free(&rep);
		return rc;
	}
	if (rep->body_case != BODY(REVEAL_REPLY)) {
		fprintf(stderr, "donthu admin reveal: unexpected answer %s\n", cm_env_body_name(rep));
		cm_env_free(&rep);
		return CLI_FAILED;
	}
	if (cli_arg(&reveal_cmd, &a, "json")) {
		cli_print_json(stdout, &rep->reveal_reply->base);
	} else {
		printf("case %s: %zu person%s\n", a.pos[0], rep->reveal_reply->n_petitioners,
		       rep->reveal_reply->n_petitioners == 1 ? "" : "s");
		for (size_t i = 0; i < rep->reveal_reply->n_petitioners; i++)
			print_person(rep->reveal_reply->petitioners[i], i);
	}
	cm_env_free(&rep);
	return CLI_OK;
}

/* What became of one service's backup. */
enum bk_outcome { BK_COPIED, BK_REFUSED, BK_TIMEOUT, BK_DOWN };

/* Back up service svc: a status request first, so a service that is not
 * there is told apart from one whose copy is slow; then the backup,
 * waiting wait_ms (negative: no limit). Adds a row to t; *note gets what to
 * say on stderr (caller frees; NULL for nothing). */
static enum bk_outcome backup_one(struct cli *c, int svc, const cm_env *req, const char *dir,
				  int wait_ms, struct cli_table *t, char **note)
{
	const char *name = cli_svc_names[svc];
	const struct cli_ep *ep = &c->admin[svc];
	struct cli_chan ch = {.ep = &c->admin[svc]};
	Donthu__V1__StatusRequest sq = DONTHU__V1__STATUS_REQUEST__INIT;
	enum bk_outcome out;
	cm_env ping, *rep = NULL;
	char *msg = NULL;
	int rc;

	*note = NULL;
	cli_env_init(&ping);
	ping.body_case = BODY(STATUS);
	ping.status = &sq;
	/* Any answer will do: it proves the loop behind the socket is alive. */
	rc = cli_chan_call(c, &ch, &ping, c->timeout_ms, &rep);
	cm_env_free(&rep);
	if (rc) {
		cli_chan_close(&ch);
		if (rc == -ECONNREFUSED) {
			/* Said once for all such services by the caller. */
			msg = cm_xasprintf("nothing listens on %s", ep->url);
		} else {
			msg = cm_xasprintf("no answer from %s", ep->url);
			/* Services copy on a worker and go on answering, so
			 * silence means the service itself is not well. */
			*note = cm_xasprintf(
				"%s did not answer a status request on %s within %g s: it is not "
				"running or is hung (see its log; `donthu status --service %s`). "
				"Nothing was asked of it; its store is NOT in %s.",
				name, ep->url, c->timeout_ms / 1000.0, name, dir);
		}
		cli_table_rowv(t, name, "DOWN", msg);
		free(msg);
		return BK_DOWN;
	}
	rc = cli_chan_call(c, &ch, req, wait_ms, &rep);
	cli_chan_close(&ch);
	if (rc == -ETIMEDOUT) {
		msg = cm_xasprintf("not finished within %d s", wait_ms / 1000);
		*note = cm_xasprintf(
			"service %s did not finish the backup within %d s; it may still be writing "
			"%s/%s — check its log for \"backup written to %s/%s\" (or \"backup into "
			"%s/%s failed\") before using that copy: data.mdb there is incomplete until "
			"then. A longer --backup-timeout (0: no limit) waits for big stores.",
			name, wait_ms / 1000, dir, name, dir, name, dir, name);
		out = BK_TIMEOUT;
		cli_table_rowv(t, name, "TIMEOUT", msg);
	} else if (rc) {
		msg = cm_xasprintf("no valid answer from %s: %s", ep->url, cm_strerror(rc));
		out = BK_REFUSED;
		cli_table_rowv(t, name, "FAILED", msg);
	} else if (rep->body_case == BODY(CONTROL_REPLY) && rep->control_reply->ok) {
		const char *d = rep->control_reply->detail;

		out = BK_COPIED;
		cli_table_rowv(t, name, "copied", *d ? d : "done");
	} else if (rep->body_case == BODY(CONTROL_REPLY) && rep->control_reply->error) {
		const Donthu__V1__ErrorDetail *e = rep->control_reply->error;

		msg = cm_xasprintf("%s: %s", e->code, e->message);
		out = BK_REFUSED;
		cli_table_rowv(t, name, "REFUSED", msg);
	} else {
		msg = cm_xasprintf("unexpected answer %s", cm_env_body_name(rep));
		out = BK_REFUSED;
		cli_table_rowv(t, name, "REFUSED", msg);
	}
	free(msg);
	cm_env_free(&rep);
	return out;
}

static int run_backup(struct cli *c, int argc, char **argv)
{
	/* One after another, consumers first: a set taken in that order can
	 * never hold a consumer that is ahead of its producer. */
	static const int consumers_first[SVC_COUNT] = {SVC_REPORT, SVC_DEADLINE, SVC_ROUTING,
						       SVC_INTAKE};
	struct cli_args a;
	Donthu__V1__BackupRequest br = DONTHU__V1__BACKUP_REQUEST__INIT;
	bool want[SVC_COUNT], done, down = false, failed = false, no_socket = false;
	char abs[PATH_MAX], *notes[SVC_COUNT] = {0};
	uint64_t secs = BACKUP_TIMEOUT_DEFAULT_S;
	struct cli_table t;
	const char *v;
	cm_env req;
	int rc, wait_ms;

	if ((rc = cli_parse(&backup_cmd, argc, argv, &a, &done)) || done)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(&backup_cmd, "give the folder to back up into");
	if ((rc = cli_parse_services(&backup_cmd, cli_arg(&backup_cmd, &a, "service"), want)))
		return rc;
	v = cli_arg(&backup_cmd, &a, "backup-timeout");
	if (v && (rc = cli_arg_u64(&backup_cmd, "backup-timeout", v, 0, BACKUP_TIMEOUT_MAX_S,
				   &secs)))
		return rc;
	wait_ms = secs ? (int)secs * 1000 : -1;
	/* The services resolve the path, not us: give them an absolute one. */
	if (mkdir(a.pos[0], 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "donthu admin backup: cannot create %s: %s\n", a.pos[0],
			strerror(errno));
		return CLI_FAILED;
	}
	if (!realpath(a.pos[0], abs)) {
		fprintf(stderr, "donthu admin backup: %s: %s\n", a.pos[0], strerror(errno));
		return CLI_FAILED;
	}
	cli_env_init(&req);
	br.dir = abs;
	req.body_case = BODY(BACKUP);
	req.backup = &br;
	cli_table_init(&t, 3);
	for (int k = 0; k < SVC_COUNT; k++) {
		int s = consumers_first[k];

		if (!want[s])
			continue;
		/* Every store was asked for: one that does not answer is a
		 * hole in the backup, never a skip. */
		switch (backup_one(c, s, &req, abs, wait_ms, &t, &notes[k])) {
		case BK_COPIED:
			break;
		case BK_DOWN:
			down = true;
			no_socket |= !notes[k];
			break;
		case BK_REFUSED:
		case BK_TIMEOUT:
			failed = true;
			break;
		}
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	for (int k = 0; k < SVC_COUNT; k++) {
		if (notes[k])
			fprintf(stderr, "donthu admin backup: %s\n", notes[k]);
		free(notes[k]);
	}
	if (no_socket)
		fprintf(stderr, "donthu admin backup: where nothing listens on the admin socket, "
				"is the service running, and is --data-dir (or --admin SVC=EP) "
				"right? Those stores are NOT in %s.\n",
			abs);
	return down ? CLI_UNREACHABLE : failed ? CLI_FAILED : CLI_OK;
}

int cli_cmd_admin(struct cli *c, int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		FILE *out = argc < 1 ? stderr : stdout;

		fprintf(out, "usage: donthu admin reload WHAT --service SVC\n"
			     "       donthu admin clock set TIME | advance DURATION [--service SVC]\n"
			     "       donthu admin reveal CASE --reason TEXT --by NAME\n"
			     "       donthu admin backup DIR [--service SVC] [--backup-timeout S]\n"
			     "Each has --help. Admin sockets: ipc://<data dir>/<service>/admin.sock "
			     "(--data-dir).\n");
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[0], "reload") == 0)
		return run_reload(c, argc - 1, argv + 1);
	if (strcmp(argv[0], "clock") == 0)
		return run_clock(c, argc - 1, argv + 1);
	if (strcmp(argv[0], "reveal") == 0)
		return run_reveal(c, argc - 1, argv + 1);
	if (strcmp(argv[0], "backup") == 0)
		return run_backup(c, argc - 1, argv + 1);
	fprintf(stderr, "donthu admin: unknown verb \"%s\" (reload, clock, reveal or backup)\n",
		argv[0]);
	return CLI_USAGE;
}

/*
 * case.c - `donthu case show|history|explain|list`.
 *
 * The report service knows every case (it consumes all three feeds); when it
 * does not answer, show, history and explain are rebuilt from the feeds
 * themselves, which is slower but needs nothing but the producers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/pbjson.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x

static const struct cli_opt show_opts[] = {
	{"json", 0, OPT_FLAG, NULL, "print the summary as one JSON object (CaseSummary)"},
	{"no-fallback", 0, OPT_FLAG, NULL,
	 "do not rebuild from the feeds when the report service does not answer"},
	{NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd show_cmd = {
	.name = "case show",
	.synopsis = "CASE",
	.about = "A case's summary: kind, status, receiving and handling agency, received date,\n"
		 "signers, whether it is overdue and its next due date. Asked of the report\n"
		 "service; when it does not answer, rebuilt from the intake, routing and\n"
		 "deadline feeds (a note on stderr says so).",
	.opts = show_opts,
	.exits = "0 shown; 3 no service answered; 4 no such case.",
};

static const struct cli_opt history_opts[] = {
	{"json", 0, OPT_FLAG, NULL, "print each event as one JSON line (the whole Envelope)"},
	{"no-fallback", 0, OPT_FLAG, NULL,
	 "do not rebuild from the feeds when the report service does not answer"},
	{NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd history_cmd = {
	.name = "case history",
	.synopsis = "CASE",
	.about = "Every event of a case in order, one line each: time (UTC+7), producer, feed\n"
		 "sequence, event type and its key facts. From the report service, or from the\n"
		 "feeds when it does not answer.",
	.opts = history_opts,
	.exits = "0 shown; 3 no service answered; 4 no such case.",
};

static const struct cli_opt explain_opts[] = {
	{"json", 0, OPT_FLAG, NULL, "print each deadline event as one JSON line"},
	{"no-fallback", 0, OPT_FLAG, NULL,
	 "do not scan the deadline feed when the report service does not answer"},
	{NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd explain_cmd = {
	.name = "case explain",
	.synopsis = "CASE",
	.about = "How each due date of a case was computed: every deadline event of the case\n"
		 "(DeadlineSet with its explanation, DeadlineChanged, ExtensionRejected,\n"
		 "ClockStopped, Escalation). From the report service, or by scanning the\n"
		 "deadline feed for the case when the report service does not answer.",
	.opts = explain_opts,
	.exits = "0 shown; 3 no service answered; 4 no such case or no deadline events.",
};

static const struct cli_opt list_opts[] = {
	{"agency", 'a', OPT_VALUE, "CODE", "handling or receiving agency"},
	{"subunits", 0, OPT_FLAG, NULL, "include the agency's subordinate bodies"},
	{"kind", 0, OPT_VALUE, "KIND", "complaint, denunciation, recommendation, feedback, ..."},
	{"status", 0, OPT_VALUE, "STATUS", "received, accepted, decided, closed, ..."},
	{"overdue", 0, OPT_FLAG, NULL, "only cases past a due date"},
	{"from", 0, OPT_VALUE, "DATE", "received on or after (YYYY-MM-DD)"},
	{"to", 0, OPT_VALUE, "DATE", "received on or before (YYYY-MM-DD)"},
	{"field", 0, OPT_VALUE, "CODE", "field code of the register (dat-dai, ...)"},
	{"limit", 'n', OPT_VALUE, "N", "at most N cases (default 50)"},
	{"after", 0, OPT_VALUE, "CASE", "start after this case number (paging)"},
	{"json", 0, OPT_FLAG, NULL, "print each case as one JSON line (CaseSummary)"},
	{NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd list_cmd = {
	.name = "case list",
	.synopsis = "[FILTERS]",
	.about = "Cases known to the report service, filtered, one line each.",
	.opts = list_opts,
	.exits = "0 listed (possibly none); 2 bad filter; 3 the report service did not answer.",
};

/* ----------------------------------------------------- report service --- */

static bool not_found_code(const char *code)
{
	return code && (strcmp(code, "unknown_case") == 0 || strcmp(code, "not_found") == 0 ||
			strcmp(code, "unknown_record") == 0);
}

/* Ask the report service for a case's history. Returns 0 with *rep holding a
 * case_history_reply without error, CLI_NOTFOUND, CLI_FAILED (a refusal,
 * already printed), or a negative transport error (not printed). */
static int ask_history(struct cli *c, const char *case_number, cm_env **rep)
{
	struct cli_chan ch = {.ep = &c->report};
	Donthu__V1__CaseHistoryQuery q = DONTHU__V1__CASE_HISTORY_QUERY__INIT;
	const Donthu__V1__ErrorDetail *e = NULL;
	cm_env req;
	int rc;

	cli_env_init(&req);
	q.case_number = (char *)case_number;
	req.body_case = BODY(CASE_HISTORY);
	req.case_history = &q;
	rc = cli_chan_call(c, &ch, &req, c->timeout_ms, rep);
	cli_chan_close(&ch);
	if (rc)
		return rc;
	if ((*rep)->body_case == BODY(CONTROL_REPLY) && (*rep)->control_reply->error)
		e = (*rep)->control_reply->error;
	else if ((*rep)->body_case == BODY(CASE_HISTORY_REPLY))
		e = (*rep)->case_history_reply->error;
	else {
		fprintf(stderr, "donthu: the report service answered %s to a case query\n",
			cm_env_body_name(*rep));
		cm_env_free(rep);
		return CLI_FAILED;
	}
	if (e && *e->code) {
		if (not_found_code(e->code)) {
			fprintf(stderr, "donthu: no case %s (%s)\n", case_number, e->message);
			rc = CLI_NOTFOUND;
		} else {
			fprintf(stderr, "donthu: the report service refused: %s %s: %s\n", e->code,
				e->field, e->message);
			rc = CLI_FAILED;
		}
		cm_env_free(rep);
		return rc;
	}
	if ((*rep)->body_case != BODY(CASE_HISTORY_REPLY)) {
		cm_env_free(rep);
		return CLI_FAILED;
	}
	return 0;
}

/* ------------------------------------------------------ from the feeds --- */

struct collected {
	const char *case_number;
	cm_env **ev;
	size_t n, cap;
	int order;		/* producer rank for sorting */
};

static int producer_rank(const char *p)
{
	return strcmp(p, "intake") == 0 ? 0 : strcmp(p, "routing") == 0 ? 1 : 2;
}

static int collect(const cm_env *ev, void *arg)
{
	struct collected *col = arg;
	uint8_t *buf = NULL;
	size_t len;
	cm_env *copy = NULL;

	if (strcmp(ev->case_number, col->case_number) != 0)
		return 0;
	/* The scan frees ev after this call: keep a copy of our own. */
	if (cm_env_pack_alloc(ev, &buf, &len) != 0)
		return 0;
	if (cm_env_unpack(buf, len, &copy) == 0) {
		if (col->n == col->cap) {
			col->cap = col->cap ? col->cap * 2 : 32;
			col->ev = cm_xrealloc(col->ev, col->cap * sizeof(*col->ev));
		}
		col->ev[col->n++] = copy;
	}
	free(buf);
	return 0;
}

static int cmp_events(const void *a, const void *b)
{
	const cm_env *x = *(cm_env *const *)a, *y = *(cm_env *const *)b;
	int rx = producer_rank(x->producer), ry = producer_rank(y->producer);

	if (x->occurred_at_ms != y->occurred_at_ms)
		return x->occurred_at_ms < y->occurred_at_ms ? -1 : 1;
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

static void collected_free(struct collected *col)
{
	for (size_t i = 0; i < col->n; i++)
		cm_env_free(&col->ev[i]);
	free(col->ev);
	col->ev = NULL;
	col->n = col->cap = 0;
}

/* Scan the given feeds for the case. Returns 0 when at least one feed
 * answered (unanswered ones are reported on stderr), else CLI_UNREACHABLE. */
static int scan_feeds(struct cli *c, struct cli_ep *const *eps, size_t n, struct collected *col)
{
	size_t answered = 0;

	for (size_t i = 0; i < n; i++) {
		struct cli_chan ch = {.ep = eps[i]};
		uint64_t last;
		int rc = cli_feed_scan(c, &ch, 1, 0, collect, col, &last);

		cli_chan_close(&ch);
		if (rc == 0)
			answered++;
		else if (rc == -ETIMEDOUT || rc == -ECONNREFUSED)
			fprintf(stderr, "donthu: note: the %s at %s did not answer; its events are "
					"missing below\n",
				eps[i]->what, eps[i]->url);
		else
			fprintf(stderr, "donthu: note: reading the %s failed: %s\n", eps[i]->what,
				cm_strerror(rc));
	}
	if (!answered)
		return CLI_UNREACHABLE;
	if (col->n > 1)
		qsort(col->ev, col->n, sizeof(*col->ev), cmp_events);
	return 0;
}

/* A CaseSummary assembled from feed events, for when the report service is
 * away. Strings point into the events (which outlive it). */
struct built {
	Donthu__V1__CaseSummary s;
	char received[11], due[11];
	struct {
		const char *clock_id, *due;
	} clocks[64];
	size_t nclocks;
};

static void clock_set(struct built *b, const char *id, const char *due)
{
	for (size_t i = 0; i < b->nclocks; i++)
		if (strcmp(b->clocks[i].clock_id, id) == 0) {
			b->clocks[i].due = due;
			return;
		}
	if (b->nclocks < CM_ARRAY_LEN(b->clocks)) {
		b->clocks[b->nclocks].clock_id = id;
		b->clocks[b->nclocks++].due = due;
	}
}

static void build_summary(const struct collected *col, struct built *b)
{
	donthu__v1__case_summary__init(&b->s);
	b->s.case_number = (char *)col->case_number;
	b->s.status = DONTHU__V1__CASE_STATUS__CASE_STATUS_RECEIVED;
	for (size_t i = 0; i < col->n; i++) {
		const cm_env *ev = col->ev[i];

		switch (ev->body_case) {
		case BODY(PETITION_RECEIVED): {
			const Donthu__V1__Petition *p = ev->petition_received->petition;

			if (!p)
				break;
			b->s.kind = p->kind;
			b->s.receiving_agency = p->receiving_agency;
			b->s.field = p->field;
			b->s.signer_count = p->signer_count;
			b->s.summary = p->summary;
			cm_day_format(cm_day_of_ms(p->received_at_ms), b->received);
			b->s.received_date = b->received;
			if (!*b->s.handling_agency)
				b->s.handling_agency = p->receiving_agency;
			break;
		}
		case BODY(CASE_ACTION):
			b->s.status = ev->case_action->status_after;
			break;
		case BODY(ASSIGNED):
			b->s.handling_agency = ev->assigned->agency;
			break;
		case BODY(CLASSIFIED):
			if (*ev->classified->field)
				b->s.field = ev->classified->field;
			break;
		case BODY(DUPLICATE_LINKED):
			if (ev->duplicate_linked->repeat)
				b->s.repeat_count++;
			break;
		case BODY(DEADLINE_SET):
			clock_set(b, ev->deadline_set->clock_id, ev->deadline_set->due_date);
			break;
		case BODY(DEADLINE_CHANGED):
			clock_set(b, ev->deadline_changed->clock_id, ev->deadline_changed->new_due_date);
			break;
		case BODY(CLOCK_STOPPED):
			clock_set(b, ev->clock_stopped->clock_id, "");
			break;
		case BODY(ESCALATION):
			if (ev->escalation->level >=
			    DONTHU__V1__ESCALATION_LEVEL__ESCALATION_LEVEL_OVERDUE)
				b->s.overdue = 1;
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; i < b->nclocks; i++) {
		const char *d = b->clocks[i].due;

		if (d && *d && (!*b->due || strcmp(d, b->due) < 0))
			snprintf(b->due, sizeof(b->due), "%s", d);
	}
	b->s.next_due_date = b->due;
	/* Escalations of clocks that have since stopped no longer count. */
	if (!*b->due)
		b->s.overdue = 0;
}

/* ------------------------------------------------------------- output --- */

static void print_summary(const Donthu__V1__CaseSummary *s, bool json)
{
	struct cli_table t;
	char k[64], st[64], signers[64], *crit = NULL;

	if (json) {
		cli_print_json(stdout, &s->base);
		return;
	}
	cli_table_init(&t, 2);
	cli_table_rowv(&t, "case", s->case_number);
	cli_table_rowv(&t, "kind", cli_enum_short(&donthu__v1__petition_kind__descriptor,
						  (int)s->kind, k));
	cli_table_rowv(&t, "status", cli_enum_short(&donthu__v1__case_status__descriptor,
						    (int)s->status, st));
	cli_table_rowv(&t, "received", s->received_date);
	cli_table_rowv(&t, "receiving agency", s->receiving_agency);
	cli_table_rowv(&t, "handling agency", s->handling_agency);
	if (*s->field)
		cli_table_rowv(&t, "field", s->field);
	snprintf(signers, sizeof(signers), "%" PRIu32 "%s", s->signer_count, "");
	cli_table_rowv(&t, "signers", signers);
	if (s->repeat_count) {
		snprintf(signers, sizeof(signers), "%" PRIu32, s->repeat_count);
		cli_table_rowv(&t, "repeats", signers);
	}
	cli_table_rowv(&t, "next due", *s->next_due_date ? s->next_due_date : "-");
	cli_table_rowv(&t, "overdue", s->overdue ? "YES" : "no");
	if (s->n_criteria) {
		crit = cm_xstrdup("");
		for (size_t i = 0; i < s->n_criteria; i++) {
			char *n = cm_xasprintf("%s%s%s", crit, i ? ", " : "", s->criteria[i]);
			free(crit);
			crit = n;
		}
		cli_table_rowv(&t, "criteria", crit);
		free(crit);
	}
	if (*s->summary)
		cli_table_rowv(&t, "summary", s->summary);
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

static void print_history(cm_env *const *ev, size_t n, bool json)
{
	for (size_t i = 0; i < n; i++) {
		if (json) {
			cli_print_json(stdout, &ev[i]->base);
		} else {
			char *line = cli_event_line(ev[i]);

			puts(line);
			free(line);
		}
	}
}

static bool is_deadline_event(const cm_env *ev)
{
	switch (ev->body_case) {
	case BODY(DEADLINE_SET):
	case BODY(DEADLINE_CHANGED):
	case BODY(EXTENSION_REJECTED):
	case BODY(CLOCK_STOPPED):
	case BODY(ESCALATION):
		return true;
	default:
		return false;
	}
}

static void indent(const char *text, const char *pfx)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		printf("%s%.*s\n", pfx, (int)n, p);
		p += n + (nl != NULL);
	}
}

static void explain_one(const cm_env *ev)
{
	char when[24], b1[64], b2[64];

	cli_time_short(ev->occurred_at_ms, when);
	switch (ev->body_case) {
	case BODY(DEADLINE_SET): {
		const Donthu__V1__DeadlineSet *d = ev->deadline_set;

		printf("%s  #%" PRIu64 "  clock %s set: due %s\n", when, ev->sequence, d->clock_id,
		       d->due_date);
		printf("    stage %s, rule %s v%" PRIu32 "%s%s%s, agency %s\n", d->stage, d->rule_id,
		       d->rule_version, *d->article ? " (" : "", d->article, *d->article ? ")" : "",
		       d->agency);
		printf("    %s + %" PRIu32 " %s days = %s\n", d->trigger_date, d->length,
		       d->unit == DONTHU__V1__DAY_UNIT__DAY_UNIT_WORKING ? "working" : "calendar",
		       d->due_date);
		if (*d->explain)
			indent(d->explain, "    | ");
		break;
	}
	case BODY(DEADLINE_CHANGED): {
		const Donthu__V1__DeadlineChanged *d = ev->deadline_changed;

		printf("%s  #%" PRIu64 "  clock %s changed (%s): due %s -> %s\n", when,
		       ev->sequence, d->clock_id,
		       cli_enum_short(&donthu__v1__change_reason__descriptor, (int)d->reason, b1),
		       *d->old_due_date ? d->old_due_date : "-",
		       *d->new_due_date ? d->new_due_date : "paused");
		if (*d->explain)
			indent(d->explain, "    | ");
		break;
	}
	case BODY(EXTENSION_REJECTED):
		printf("%s  #%" PRIu64 "  clock %s: extension rejected: %s\n", when, ev->sequence,
		       ev->extension_rejected->clock_id, ev->extension_rejected->reason);
		break;
	case BODY(CLOCK_STOPPED): {
		const Donthu__V1__ClockStopped *d = ev->clock_stopped;

		printf("%s  #%" PRIu64 "  clock %s stopped: stage %s completed %s, due %s: %s\n",
		       when, ev->sequence, d->clock_id, d->stage, d->completed_date, d->due_date,
		       d->met ? "met" : "MISSED");
		break;
	}
	case BODY(ESCALATION): {
		const Donthu__V1__Escalation *e = ev->escalation;

		char days[48];

		if (e->days_overdue > 0)
			snprintf(days, sizeof(days), "%" PRId32 " days overdue", e->days_overdue);
		else if (e->days_overdue < 0)
			snprintf(days, sizeof(days), "%" PRId32 " days before due", -e->days_overdue);
		else
			snprintf(days, sizeof(days), "on the due date");
		printf("%s  #%" PRIu64 "  escalation %s (%s): clock %s due %s, %s; notify %s%s%s\n",
		       when, ev->sequence,
		       cli_enum_short(&donthu__v1__escalation_level__descriptor, (int)e->level, b1),
		       cli_enum_short(&donthu__v1__escalation_reason__descriptor, (int)e->reason, b2),
		       *e->clock_id ? e->clock_id : "-", *e->due_date ? e->due_date : "-", days,
		       e->notify_agency, *e->detail ? ": " : "", e->detail);
		break;
	}
	default:
		break;
	}
}

/* -------------------------------------------------------------- verbs --- */

enum verb { SHOW, HISTORY, EXPLAIN };

static int run_verb(struct cli *c, enum verb verb, const struct cli_cmd *cmd, int argc,
		    char **argv)
{
	struct cli_args a;
	struct collected col = {0};
	cm_env *rep = NULL;
	cm_env **events = NULL;
	size_t nev = 0;
	bool done, json, fallback;
	int rc;

	if ((rc = cli_parse(cmd, argc, argv, &a, &done)) || done)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(cmd, "give exactly one case number");
	json = cli_arg(cmd, &a, "json") != NULL;
	fallback = cli_arg(cmd, &a, "no-fallback") == NULL;
	col.case_number = a.pos[0];

	rc = ask_history(c, col.case_number, &rep);
	if (rc > 0)
		return rc;
	if (rc < 0 && rc != -ETIMEDOUT && rc != -ECONNREFUSED)
		return cli_unreachable(c, &c->report, rc);
	if (rc < 0) {
		struct cli_ep *all[] = {&c->intake_feed, &c->routing, &c->deadline};
		struct cli_ep *dl[] = {&c->deadline};

		if (!fallback)
			return cli_unreachable(c, &c->report, rc);
		fprintf(stderr,
			"donthu: note: the report service at %s did not answer; reading the %s "
			"instead\n",
			c->report.url, verb == EXPLAIN ? "deadline feed" : "feeds");
		rc = verb == EXPLAIN ? scan_feeds(c, dl, 1, &col) : scan_feeds(c, all, 3, &col);
		if (rc) {
			fprintf(stderr, "donthu: %s either; see donthu --help for the endpoint "
					"options\n",
				verb == EXPLAIN ? "the deadline feed did not answer"
						: "no feed answered");
			return rc;
		}
		if (col.n == 0) {
			fprintf(stderr, "donthu: no %s for case %s in the %s\n",
				verb == EXPLAIN ? "deadline events" : "events", col.case_number,
				verb == EXPLAIN ? "deadline feed" : "feeds");
			collected_free(&col);
			return CLI_NOTFOUND;
		}
		events = col.ev;
		nev = col.n;
	} else {
		Donthu__V1__CaseHistoryReply *h = rep->case_history_reply;

		/* Decode the packed events of the reply into col. */
		for (size_t i = 0; i < h->n_events; i++) {
			cm_env *ev = NULL;

			if (cm_env_unpack(h->events[i].data, h->events[i].len, &ev) == 0) {
				collect(ev, &col);
				cm_env_free(&ev);
			}
		}
		events = col.ev;
		nev = col.n;
	}

	switch (verb) {
	case SHOW:
		if (rep && rep->case_history_reply->summary) {
			print_summary(rep->case_history_reply->summary, json);
		} else {
			struct built b = {0};

			build_summary(&col, &b);
			print_summary(&b.s, json);
		}
		break;
	case HISTORY:
		print_history(events, nev, json);
		break;
	case EXPLAIN: {
		size_t shown = 0;

		for (size_t i = 0; i < nev; i++) {
			if (!is_deadline_event(events[i]))
				continue;
			if (json)
				cli_print_json(stdout, &events[i]->base);
			else
				explain_one(events[i]);
			shown++;
		}
		if (!shown) {
			fprintf(stderr, "donthu: case %s has no deadline events%s\n", col.case_number,
				rep ? " (no clock was started for it)" : "");
			rc = rep ? CLI_OK : CLI_NOTFOUND;
		}
		break;
	}
	}
	collected_free(&col);
	cm_env_free(&rep);
	return rc;
}

static char *or_empty(const char *s)
{
	return (char *)(s ? s : "");
}

static int run_list(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	struct cli_chan ch = {.ep = &c->report};
	Donthu__V1__CaseListQuery q = DONTHU__V1__CASE_LIST_QUERY__INIT;
	cm_env req, *rep = NULL;
	cm_day_t day;
	uint64_t n = 50;
	const char *v;
	bool done, json;
	int rc;

	if ((rc = cli_parse(&list_cmd, argc, argv, &a, &done)) || done)
		return rc;
	if (a.npos)
		return cli_usage_error(&list_cmd, "unexpected argument %s", a.pos[0]);
	json = cli_arg(&list_cmd, &a, "json") != NULL;
	q.agency = or_empty(cli_arg(&list_cmd, &a, "agency"));
	q.include_subunits = cli_arg(&list_cmd, &a, "subunits") != NULL;
	q.overdue_only = cli_arg(&list_cmd, &a, "overdue") != NULL;
	q.field = or_empty(cli_arg(&list_cmd, &a, "field"));
	q.after_case = or_empty(cli_arg(&list_cmd, &a, "after"));
	if ((v = cli_arg(&list_cmd, &a, "kind"))) {
		int k = cli_enum_parse(&donthu__v1__petition_kind__descriptor, v);
		if (k < 0) {
			char *l = cli_enum_list(&donthu__v1__petition_kind__descriptor);
			rc = cli_usage_error(&list_cmd, "--kind is one of %s", l);
			free(l);
			return rc;
		}
		q.kind = (Donthu__V1__PetitionKind)k;
	}
	if ((v = cli_arg(&list_cmd, &a, "status"))) {
		int k = cli_enum_parse(&donthu__v1__case_status__descriptor, v);
		if (k < 0) {
			char *l = cli_enum_list(&donthu__v1__case_status__descriptor);
			rc = cli_usage_error(&list_cmd, "--status is one of %s", l);
			free(l);
			return rc;
		}
		q.status = (Donthu__V1__CaseStatus)k;
	}
	if ((v = cli_arg(&list_cmd, &a, "from"))) {
		if (cm_day_parse(v, &day) != 0)
			return cli_usage_error(&list_cmd, "--from wants YYYY-MM-DD, not \"%s\"", v);
		q.from_date = (char *)v;
	}
	if ((v = cli_arg(&list_cmd, &a, "to"))) {
		if (cm_day_parse(v, &day) != 0)
			return cli_usage_error(&list_cmd, "--to wants YYYY-MM-DD, not \"%s\"", v);
		q.to_date = (char *)v;
	}
	if ((v = cli_arg(&list_cmd, &a, "limit")) &&
	    (rc = cli_arg_u64(&list_cmd, "limit", v, 1, 100000, &n)))
		return rc;
	q.limit = (uint32_t)n;
	cli_env_init(&req);
	req.body_case = BODY(CASE_LIST);
	req.case_list = &q;
	rc = cli_chan_call(c, &ch, &req, c->timeout_ms, &rep);
	cli_chan_close(&ch);
	if (rc)
		return cli_unreachable(c, &c->report, rc);
	if (cli_control_failed(rep, "report service")) {
		cm_env_free(&rep);
		return CLI_FAILED;
	}
	if (rep->body_case != BODY(CASE_LIST_REPLY)) {
		fprintf(stderr, "donthu: the report service answered %s to a case list\n",
			cm_env_body_name(rep));
		cm_env_free(&rep);
		return CLI_FAILED;
	}
	if (rep->case_list_reply->error && *rep->case_list_reply->error->code) {
		const Donthu__V1__ErrorDetail *e = rep->case_list_reply->error;

		fprintf(stderr, "donthu: the report service refused: %s %s: %s\n", e->code, e->field,
			e->message);
		cm_env_free(&rep);
		return CLI_FAILED;
	}
	{
		Donthu__V1__CaseListReply *r = rep->case_list_reply;
		struct cli_table t;

		cli_table_init(&t, 8);
		if (!json)
			cli_table_rowv(&t, "case", "kind", "status", "handling", "received",
				       "next due", "overdue", "summary");
		for (size_t i = 0; i < r->n_cases; i++) {
			const Donthu__V1__CaseSummary *s = r->cases[i];
			char k[64], st[64], *sum;

			if (json) {
				cli_print_json(stdout, &s->base);
				continue;
			}
			sum = cli_ellipsize(s->summary, 40);
			cli_table_rowv(&t, s->case_number,
				       cli_enum_short(&donthu__v1__petition_kind__descriptor,
						      (int)s->kind, k),
				       cli_enum_short(&donthu__v1__case_status__descriptor,
						      (int)s->status, st),
				       s->handling_agency, s->received_date,
				       *s->next_due_date ? s->next_due_date : "-",
				       s->overdue ? "YES" : "", sum);
			free(sum);
		}
		if (!json)
			cli_table_print(&t, stdout);
		cli_table_free(&t);
		if (!json && r->n_cases == (size_t)n)
			fprintf(stderr, "(more may follow: --after %s)\n",
				r->cases[r->n_cases - 1]->case_number);
	}
	cm_env_free(&rep);
	return CLI_OK;
}

int cli_cmd_case(struct cli *c, int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		FILE *out = argc < 1 ? stderr : stdout;

		fprintf(out, "usage: donthu case show|history|explain CASE [--json]\n"
			     "       donthu case list [FILTERS] [--json]\n"
			     "Each has --help.\n");
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[0], "show") == 0)
		return run_verb(c, SHOW, &show_cmd, argc - 1, argv + 1);
	if (strcmp(argv[0], "history") == 0)
		return run_verb(c, HISTORY, &history_cmd, argc - 1, argv + 1);
	if (strcmp(argv[0], "explain") == 0)
		return run_verb(c, EXPLAIN, &explain_cmd, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return run_list(c, argc - 1, argv + 1);
	fprintf(stderr, "donthu case: unknown verb \"%s\" (show, history, explain or list)\n",
		argv[0]);
	return CLI_USAGE;
}

/*
 * watch.c - `donthu watch`: escalations live from the deadline PUB socket,
 * with the deadline feed as the safety net.
 *
 * PUB drops while a subscriber is away or slow, so every live message is
 * checked against the feed position: a jump in sequence numbers is filled
 * from the feed before the message is printed, the feed is also polled when
 * nothing arrives, and the position reached is remembered in a state file.
 * What is printed is therefore every matching escalation after the start
 * position, in feed order, each once.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/pbjson.h"
#include "common/zsock.h"

static const struct cli_opt watch_opts[] = {
	{"level", 'l', OPT_VALUE, "LEVELS",
	 "only these levels, comma-separated: warning, overdue, head, chairman, inspectorate"},
	{"agency", 'a', OPT_VALUE, "PREFIX",
	 "only agencies whose code starts with PREFIX (DN-STC, or DN- for all of Đà Nẵng)"},
	{"flags", 0, OPT_FLAG, NULL,
	 "also flags: delegations (đoàn đông người), topic flag.delegation.<agency>"},
	{"from-seq", 0, OPT_VALUE, "N",
	 "first read the deadline feed from sequence N (overrides the state file)"},
	{"state", 0, OPT_VALUE, "FILE",
	 "remember the position reached in FILE and resume from it (default ~/.donthu-watch)"},
	{"no-state", 0, OPT_FLAG, NULL, "neither read nor write a state file"},
	{"count", 'n', OPT_VALUE, "N", "stop after N escalations"},
	{"timeout", 't', OPT_VALUE, "S", "stop after S seconds"},
	{"poll", 0, OPT_VALUE, "S", "check the feed for missed events every S idle seconds (5)"},
	{"json", 0, OPT_FLAG, NULL,
	 "print each as one JSON line: the Envelope plus \"topic\""},
	{NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd watch_cmd = {
	.name = "watch",
	.synopsis = "[OPTIONS]",
	.about = "Print escalations as the deadline service raises them, one line each. Live\n"
		 "messages come from the escalation PUB socket; anything it dropped (a jump in\n"
		 "sequence numbers, or nothing for --poll seconds) is read from the deadline feed,\n"
		 "so nothing is missed and nothing is printed twice. The position reached is\n"
		 "saved in the state file: a restarted watch continues where it stopped. Without\n"
		 "a state file or --from-seq, it starts at the feed's current head (new events\n"
		 "only).",
	.opts = watch_opts,
	.exits = "0 stopped by --count, --timeout or a signal; 1 --timeout came before --count\n"
		 "escalations; 2 usage; 3 neither the PUB socket nor the deadline feed answered.",
};

static const char *const levels[] = {"warning", "overdue", "head", "chairman", "inspectorate"};

struct watch {
	struct cli *c;
	struct cli_chan feed;
	void *sub;
	char **prefixes;
	size_t nprefixes;
	const char *agency;
	bool flags, json;
	char *state;
	uint64_t last;		/* every sequence <= last is handled */
	bool known;		/* last is meaningful */
	uint64_t count, max;
	bool feed_warned;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static bool matches(const struct watch *w, const char *topic)
{
	bool ok = false;

	for (size_t i = 0; i < w->nprefixes && !ok; i++)
		ok = strncmp(topic, w->prefixes[i], strlen(w->prefixes[i])) == 0;
	/* Flags are subscribed to as a whole; the agency is the third part. */
	if (ok && w->agency && strncmp(topic, "flag.", 5) == 0) {
		const char *dot = strchr(topic + 5, '.');

		ok = dot && strncmp(dot + 1, w->agency, strlen(w->agency)) == 0;
	}
	return ok;
}

static void save_state(struct watch *w)
{
	char *tmp;
	FILE *f;

	if (!w->state || !w->known)
		return;
	/* Output first: a position must never get ahead of what was shown. */
	fflush(stdout);
	tmp = cm_xasprintf("%s.tmp", w->state);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%" PRIu64 "\n", w->last) < 0 || fclose(f) != 0 ||
	    rename(tmp, w->state) != 0) {
		fprintf(stderr, "donthu watch: cannot save the position in %s: %s\n", w->state,
			strerror(errno));
		free(w->state);
		w->state = NULL;
	}
	free(tmp);
}

static int load_state(const char *path, uint64_t *out)
{
	FILE *f = fopen(path, "r");
	unsigned long long v;
	int rc = -ENOENT;

	if (!f)
		return -errno;
	if (fscanf(f, "%llu", &v) == 1) {
		*out = v;
		rc = 0;
	} else {
		rc = CM_EINVALID;
	}
	fclose(f);
	return rc;
}

static void print_escalation(struct watch *w, const cm_env *ev, const char *topic)
{
	char when[24], b1[64], b2[64];

	if (w->json) {
		json_t *o = cm_pbjson_render(&ev->base, 0);

		json_object_set_new(o, "topic", json_string(topic));
		cli_print_json_value(stdout, o);
		return;
	}
	cli_time_short(ev->occurred_at_ms, when);
	if (ev->body_case == DONTHU__V1__ENVELOPE__BODY_ESCALATION) {
		const Donthu__V1__Escalation *e = ev->escalation;

		/* The level is the third word: awk '{print $3}' counts by level. */
		printf("%s  %-12s %s  %s -> %s  due %s", when,
		       cli_enum_short(&donthu__v1__escalation_level__descriptor, (int)e->level, b1),
		       *e->case_number ? e->case_number : "-", e->agency,
		       *e->notify_agency ? e->notify_agency : "-",
		       *e->due_date ? e->due_date : "-");
		if (e->days_overdue)
			printf(" (%+" PRId32 "d)", e->days_overdue);
		printf("  %s",
		       cli_enum_short(&donthu__v1__escalation_reason__descriptor, (int)e->reason, b2));
		if (*e->stage)
			printf("  %s", e->stage);
		if (*e->detail)
			printf("  %s", e->detail);
		printf("  #%" PRIu64 "\n", ev->sequence);
	} else if (ev->body_case == DONTHU__V1__ENVELOPE__BODY_FLAGGED) {
		const Donthu__V1__CaseFlagged *f = ev->flagged;

		printf("%s  FLAG:%-7s %s  %s  count %" PRIu32 "%s%s  #%" PRIu64 "\n", when,
		       cli_enum_short(&donthu__v1__flag_kind__descriptor, (int)f->kind, b1),
		       f->case_number, f->agency, f->count, *f->detail ? "  " : "", f->detail,
		       ev->sequence);
	} else {
		char *line = cli_event_line(ev);

		puts(line);
		free(line);
	}
}

/* Print ev if it matches; true when --count is reached. */
static bool consider(struct watch *w, const cm_env *ev)
{
	char topic[256];

	if (cli_event_topic(ev, topic, sizeof(topic)) && matches(w, topic)) {
		print_escalation(w, ev, topic);
		w->count++;
	}
	return w->max && w->count >= w->max;
}

static int feed_event(const cm_env *ev, void *arg)
{
	struct watch *w = arg;

	/* Stop at --count without consuming further: what follows stays
	 * unread, so the saved position does not skip it. */
	if (w->max && w->count >= w->max)
		return 1;
	consider(w, ev);
	w->last = ev->sequence ? ev->sequence : w->last + 1;
	w->known = true;
	return 0;
}

/* Read the feed from last + 1 up to to (0: its head). Returns 0 or the
 * feed's error (printed once). */
static int catch_up(struct watch *w, uint64_t to)
{
	uint64_t last;
	int rc;

	if (to && to <= w->last)
		return 0;
	rc = cli_feed_scan(w->c, &w->feed, w->last + 1, to, feed_event, w, &last);
	if (rc == 1)
		rc = 0;
	save_state(w);
	if (rc && !w->feed_warned) {
		fprintf(stderr, "donthu watch: cannot read the deadline feed at %s (%s); missed "
				"live messages cannot be filled until it answers\n",
			w->c->deadline.url, cm_strerror(rc));
		w->feed_warned = true;
	} else if (!rc) {
		w->feed_warned = false;
	}
	return rc;
}

static int64_t mono_ms(void)
{
	return (int64_t)(cm_clock_mono_ns() / 1000000);
}

/* One live message: [topic][Envelope]. */
static void on_live(struct watch *w)
{
	zmq_msg_t parts[2];
	int n = 0, more = 1;
	cm_env *ev = NULL;

	while (more && n < 3) {
		zmq_msg_t m;
		size_t sz = sizeof(more);

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, w->sub, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			break;
		}
		zmq_getsockopt(w->sub, ZMQ_RCVMORE, &more, &sz);
		if (n < 2)
			parts[n] = m;
		else
			zmq_msg_close(&m);
		n++;
	}
	if (n == 2 &&
	    cm_env_unpack(zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]), &ev) == 0) {
		uint64_t seq = ev->sequence;

		if (!w->known) {
			w->last = seq ? seq - 1 : 0;
			w->known = true;
		}
		if (seq > w->last) {
			int rc = 0;

			if (seq > w->last + 1)
				rc = catch_up(w, seq - 1);
			if (rc) {
				fprintf(stderr,
					"donthu watch: sequences %" PRIu64 "..%" PRIu64
					" were not received and could not be read from the feed; "
					"rerun with --from-seq %" PRIu64 " to see them\n",
					w->last + 1, seq - 1, w->last + 1);
			}
			if (!(w->max && w->count >= w->max)) {
				consider(w, ev);
				w->last = seq;
				save_state(w);
			}
		}
		cm_env_free(&ev);
	}
	for (int i = 0; i < n && i < 2; i++)
		zmq_msg_close(&parts[i]);
}

static int parse_levels(struct watch *w, const char *spec, const char *agency)
{
	char *copy = cm_xstrdup(spec), *save = NULL;
	int rc = 0;

	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t k;

		for (k = 0; k < CM_ARRAY_LEN(levels); k++)
			if (strcasecmp(tok, levels[k]) == 0)
				break;
		if (k == CM_ARRAY_LEN(levels)) {
			rc = cli_usage_error(&watch_cmd,
					     "unknown level \"%s\" (warning, overdue, head, chairman, "
					     "inspectorate)",
					     tok);
			break;
		}
		w->prefixes = cm_xrealloc(w->prefixes, (w->nprefixes + 1) * sizeof(char *));
		w->prefixes[w->nprefixes++] = cm_xasprintf("esc.%s.%s", levels[k], agency);
	}
	free(copy);
	if (!rc && w->nprefixes == 0)
		rc = cli_usage_error(&watch_cmd, "--level lists no level");
	return rc;
}

int cli_cmd_watch(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	struct watch w = {.c = c, .feed = {.ep = &c->deadline}};
	uint64_t from = 0, timeout_s = 0, poll_s = 5;
	const char *v, *agency;
	int64_t start = mono_ms(), last_poll;
	bool done, live = false, ok_feed;
	int rc;

	if ((rc = cli_parse(&watch_cmd, argc, argv, &a, &done)) || done)
		return rc;
	if (a.npos)
		return cli_usage_error(&watch_cmd, "unexpected argument %s", a.pos[0]);
	agency = cli_arg(&watch_cmd, &a, "agency");
	w.agency = agency;
	if (agency && (strchr(agency, '.') || !*agency))
		return cli_usage_error(&watch_cmd, "--agency wants an agency code or its start");
	if ((v = cli_arg(&watch_cmd, &a, "level"))) {
		if ((rc = parse_levels(&w, v, agency ? agency : "")))
			goto out;
	} else {
		const char *all = "warning,overdue,head,chairman,inspectorate";

		if (agency) {
			if ((rc = parse_levels(&w, all, agency)))
				goto out;
		} else {
			w.prefixes = cm_xcalloc(1, sizeof(char *));
			w.prefixes[w.nprefixes++] = cm_xstrdup("esc.");
		}
	}
	w.flags = cli_arg(&watch_cmd, &a, "flags") != NULL;
	if (w.flags) {
		w.prefixes = cm_xrealloc(w.prefixes, (w.nprefixes + 1) * sizeof(char *));
		w.prefixes[w.nprefixes++] = cm_xstrdup("flag.");
	}
	w.json = cli_arg(&watch_cmd, &a, "json") != NULL;
	if ((v = cli_arg(&watch_cmd, &a, "from-seq")) &&
	    (rc = cli_arg_u64(&watch_cmd, "from-seq", v, 1, UINT64_MAX - 1, &from)))
		goto out;
	if ((v = cli_arg(&watch_cmd, &a, "count")) &&
	    (rc = cli_arg_u64(&watch_cmd, "count", v, 1, UINT64_MAX, &w.max)))
		goto out;
	if ((v = cli_arg(&watch_cmd, &a, "timeout")) &&
	    (rc = cli_arg_u64(&watch_cmd, "timeout", v, 1, 1000000, &timeout_s)))
		goto out;
	if ((v = cli_arg(&watch_cmd, &a, "poll")) &&
	    (rc = cli_arg_u64(&watch_cmd, "poll", v, 1, 3600, &poll_s)))
		goto out;
	if (!cli_arg(&watch_cmd, &a, "no-state")) {
		if ((v = cli_arg(&watch_cmd, &a, "state")))
			w.state = cm_xstrdup(v);
		else if (getenv("HOME"))
			w.state = cm_xasprintf("%s/.donthu-watch", getenv("HOME"));
	}

	/* Subscribe before reading the feed, so nothing published meanwhile
	 * falls between the two. */
	rc = cli_sock_open(c, &c->deadline_pub, ZMQ_SUB, &w.sub);
	if (rc == 0) {
		for (size_t i = 0; i < w.nprefixes; i++)
			zmq_setsockopt(w.sub, ZMQ_SUBSCRIBE, w.prefixes[i], strlen(w.prefixes[i]));
		live = true;
	} else {
		fprintf(stderr, "donthu watch: no live escalations from %s (%s); polling the feed "
				"every %" PRIu64 " s\n",
			c->deadline_pub.url, cm_strerror(rc), poll_s);
	}

	if (from) {
		w.last = from - 1;
		w.known = true;
	} else if (w.state && (rc = load_state(w.state, &w.last)) == 0) {
		w.known = true;
	} else if (w.state && rc != -ENOENT) {
		fprintf(stderr, "donthu watch: %s does not hold a position (%s); remove it or use "
				"--from-seq\n",
			w.state, cm_strerror(rc));
		rc = CLI_USAGE;
		goto out;
	}
	if (!w.known) {
		cm_env *rep = NULL;

		rc = cli_fetch(c, &w.feed, 1, 1, 0, &rep);
		if (rc == 0) {
			w.last = rep->fetch_reply->head_seq;
			w.known = true;
			cm_env_free(&rep);
		}
	}
	ok_feed = true;
	if (w.known) {
		cm_env *rep = NULL;

		/* A position beyond the head means the deadline store was
		 * restored from an older backup, or the state is from another
		 * deployment: say so, and go on from the head. */
		if (cli_fetch(c, &w.feed, 1, 1, 0, &rep) == 0) {
			uint64_t head = rep->fetch_reply->head_seq;

			if (w.last > head) {
				fprintf(stderr,
					"donthu watch: the saved position %" PRIu64
					" is beyond the deadline feed's head %" PRIu64
					" (restored store, or another deployment); continuing "
					"from the head\n",
					w.last, head);
				w.last = head;
			}
			cm_env_free(&rep);
		} else {
			ok_feed = false;
		}
		if (ok_feed)
			catch_up(&w, 0);
	} else {
		ok_feed = false;
	}
	if (!live && !ok_feed) {
		rc = cli_unreachable(c, &c->deadline, -ETIMEDOUT);
		goto out;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	last_poll = mono_ms();
	rc = CLI_OK;
	while (!stop_requested && !(w.max && w.count >= w.max)) {
		int64_t now = mono_ms(), wait = (int64_t)poll_s * 1000 - (now - last_poll);
		zmq_pollitem_t it = {.socket = w.sub, .events = ZMQ_POLLIN};
		int pr = 0;

		if (timeout_s && now - start >= (int64_t)timeout_s * 1000) {
			if (w.max)
				rc = CLI_FAILED;
			break;
		}
		if (timeout_s && start + (int64_t)timeout_s * 1000 - now < wait)
			wait = start + (int64_t)timeout_s * 1000 - now;
		if (wait < 0)
			wait = 0;
		if (live)
			pr = zmq_poll(&it, 1, (long)wait);
		else
			usleep((useconds_t)(wait > 200 ? 200 : wait) * 1000);
		if (pr > 0) {
			on_live(&w);
			continue;
		}
		if (mono_ms() - last_poll >= (int64_t)poll_s * 1000) {
			catch_up(&w, 0);
			last_poll = mono_ms();
		}
	}
	fflush(stdout);
out:
	cm_zsock_close(&w.sub);
	cli_chan_close(&w.feed);
	for (size_t i = 0; i < w.nprefixes; i++)
		free(w.prefixes[i]);
	free(w.prefixes);
	free(w.state);
	return rc;
}

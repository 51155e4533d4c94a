/*
 * cli.c - option parsing and blocking request/reply for the donthu tool.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/zsock.h"

const char *const cli_svc_names[SVC_COUNT] = {"intake", "routing", "deadline", "report"};

int cli_svc_parse(const char *name)
{
	for (int i = 0; i < SVC_COUNT; i++)
		if (strcmp(name, cli_svc_names[i]) == 0)
			return i;
	return -1;
}

struct cli_ep *cli_status_ep(struct cli *c, enum cli_svc svc)
{
	switch (svc) {
	case SVC_INTAKE:
		return &c->intake_feed;
	case SVC_ROUTING:
		return &c->routing;
	case SVC_DEADLINE:
		return &c->deadline;
	default:
		return &c->report;
	}
}

/* ------------------------------------------------------------ options --- */

static size_t nopts(const struct cli_cmd *cmd)
{
	size_t n = 0;

	while (cmd->opts && cmd->opts[n].name)
		n++;
	return n;
}

void cli_help(const struct cli_cmd *cmd, FILE *out)
{
	size_t n = nopts(cmd);

	fprintf(out, "usage: donthu %s%s%s\n\n%s\n", cmd->name, cmd->synopsis ? " " : "",
		cmd->synopsis ? cmd->synopsis : "", cmd->about);
	fprintf(out, "\nOptions:\n");
	for (size_t i = 0; i < n; i++) {
		const struct cli_opt *o = &cmd->opts[i];
		char head[64];

		if (o->shortname)
			snprintf(head, sizeof(head), "-%c, --%s%s%s", o->shortname, o->name,
				 o->kind == OPT_VALUE ? " " : "", o->kind == OPT_VALUE ? o->metavar : "");
		else
			snprintf(head, sizeof(head), "--%s%s%s", o->name,
				 o->kind == OPT_VALUE ? " " : "", o->kind == OPT_VALUE ? o->metavar : "");
		if (strlen(head) > 24)
			fprintf(out, "  %s\n  %-24s %s\n", head, "", o->help);
		else
			fprintf(out, "  %-24s %s\n", head, o->help);
	}
	fprintf(out, "  %-24s %s\n", "-h, --help", "this text");
	fprintf(out, "\nGlobal options (endpoints, --data-dir, --curve-dir, --rpc-timeout): "
		     "donthu --help.\n");
	if (cmd->exits)
		fprintf(out, "\nExit codes: %s\n", cmd->exits);
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "donthu %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try donthu %s --help)\n", cmd->name);
	return CLI_USAGE;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *a, bool *done)
{
	size_t n = nopts(cmd);
	bool only_pos = false;

	memset(a, 0, sizeof(*a));
	*done = false;
	cm_require(n <= CM_ARRAY_LEN(a->val));
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		const struct cli_opt *o = NULL;
		const char *v = NULL;
		size_t k;

		if (only_pos || s[0] != '-' || s[1] == '\0') {
			if (a->npos == CM_ARRAY_LEN(a->pos))
				return cli_usage_error(cmd, "too many arguments");
			a->pos[a->npos++] = s;
			continue;
		}
		if (strcmp(s, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			cli_help(cmd, stdout);
			*done = true;
			return 0;
		}
		for (k = 0; k < n; k++) {
			const struct cli_opt *c = &cmd->opts[k];
			size_t len = strlen(c->name);

			if (s[1] == '-' && strncmp(s + 2, c->name, len) == 0 &&
			    (s[2 + len] == '\0' || s[2 + len] == '=')) {
				o = c;
				if (s[2 + len] == '=')
					v = s + 3 + len;
				break;
			}
			if (s[1] != '-' && c->shortname && s[1] == c->shortname && s[2] == '\0') {
				o = c;
				break;
			}
		}
		if (!o)
			return cli_usage_error(cmd, "unknown option %s", s);
		if (o->kind == OPT_FLAG) {
			if (v)
				return cli_usage_error(cmd, "--%s takes no value", o->name);
			a->val[k] = "1";
			continue;
		}
		if (!v) {
			if (i + 1 >= argc)
				return cli_usage_error(cmd, "--%s needs a value (%s)", o->name,
						       o->metavar);
			v = argv[++i];
		}
		a->val[k] = v;
	}
	return 0;
}

const char *cli_arg(const struct cli_cmd *cmd, const struct cli_args *a, const char *name)
{
	size_t n = nopts(cmd);

	for (size_t k = 0; k < n; k++)
		if (strcmp(cmd->opts[k].name, name) == 0)
			return a->val[k];
	cm_require(!"cli_arg: option not in the command's table");
	return NULL;
}

int cli_arg_u64(const struct cli_cmd *cmd, const char *name, const char *s, uint64_t min,
		uint64_t max, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	if (!s || !*s || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return cli_usage_error(cmd, "--%s wants a whole number from %" PRIu64 " to %" PRIu64
				    ", not \"%s\"",
			       name, min, max, s ? s : "");
}

/* -------------------------------------------------------------- network --- */

void cli_env_init(cm_env *e)
{
	donthu__v1__envelope__init(e);
	e->schema_version = CM_ENV_SCHEMA_VERSION;
	e->producer = "cli";
}

/* Connecting to an ipc path nobody listens on "succeeds" and then waits for
 * ever: a missing socket file, or one left behind by a process that has
 * gone (connect says ECONNREFUSED), tells us at once. */
static bool ipc_listening(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	bool ok;
	int fd;

	if (stat(path, &st) != 0)
		return false;
	if (strlen(path) >= sizeof(sa.sun_path))
		return true; /* libzmq will say what it thinks of it */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != ECONNREFUSED;
	close(fd);
	return ok;
}

int cli_sock_open(struct cli *c, struct cli_ep *ep, int type, void **out)
{
	struct cm_zsock_opts o = {0};

	*out = NULL;
	if (strncmp(ep->url, "ipc://", 6) == 0 && !ipc_listening(ep->url + 6))
		return -ECONNREFUSED;
	o.type = type;
	o.endpoint = ep->url;
	o.linger_ms = -1;
	o.maxmsgsize = -1;
	o.sndhwm = 100000;
	o.rcvhwm = 100000;
	if (c->curve && !ep->admin) {
		o.curve_server_public = c->server_public[ep->svc];
		o.curve_public = c->curve_public;
		o.curve_secret = c->curve_secret;
	}
	return cm_zsock_open(c->zctx, &o, out);
}

void cli_chan_close(struct cli_chan *ch)
{
	cm_zsock_close(&ch->sock);
}

static int chan_send(struct cli *c, struct cli_chan *ch, const cm_env *req)
{
	zmq_msg_t m;
	int rc;

	if (!ch->sock && (rc = cli_sock_open(c, ch->ep, ZMQ_DEALER, &ch->sock)) != 0)
		return rc;
	if ((rc = cm_env_pack_msg(req, &m)) != 0)
		return rc;
	/* A DEALER queues while it connects; with nobody to queue to (HWM
	 * reached) a blocking send would hang, so do not block. */
	if (zmq_msg_send(&m, ch->sock, ZMQ_DONTWAIT) < 0) {
		rc = -zmq_errno();
		zmq_msg_close(&m);
		cli_chan_close(ch);
		return rc == -EAGAIN ? -ETIMEDOUT : rc;
	}
	return 0;
}

static int chan_recv(struct cli_chan *ch, cm_env **out)
{
	zmq_msg_t m;
	int rc;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, ch->sock, ZMQ_DONTWAIT) < 0) {
		rc = -zmq_errno();
		zmq_msg_close(&m);
		return rc;
	}
	rc = cm_env_unpack_limit(zmq_msg_data(&m), zmq_msg_size(&m), CM_ENV_MAX_BATCH_BYTES, out);
	zmq_msg_close(&m);
	return rc;
}

static int64_t mono_ms(void)
{
	return (int64_t)(cm_clock_mono_ns() / 1000000);
}

void cli_call_many(struct cli *c, struct cli_chan *chs, size_t n, const cm_env *req,
		   int timeout_ms, cm_env **outs, int *rcs)
{
	zmq_pollitem_t *items = cm_xcalloc(n ? n : 1, sizeof(*items));
	int64_t deadline = mono_ms() + timeout_ms;
	size_t waiting = 0;

	for (size_t i = 0; i < n; i++) {
		outs[i] = NULL;
		rcs[i] = chan_send(c, &chs[i], req);
		if (rcs[i] == 0) {
			rcs[i] = -ETIMEDOUT;
			waiting++;
		}
	}
	while (waiting > 0) {
		int64_t left = timeout_ms < 0 ? -1 : deadline - mono_ms();
		size_t k = 0;
		int pr;

		if (timeout_ms >= 0 && left <= 0)
			break;
		for (size_t i = 0; i < n; i++) {
			items[i].socket = chs[i].sock;
			items[i].fd = -1;
			items[i].events = rcs[i] == -ETIMEDOUT && !outs[i] && chs[i].sock ? ZMQ_POLLIN : 0;
			items[i].revents = 0;
			k += items[i].events != 0;
		}
		if (k == 0)
			break;
		pr = zmq_poll(items, (int)n, (long)left);
		if (pr < 0 && zmq_errno() == EINTR)
			continue;
		if (pr <= 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (!(items[i].revents & ZMQ_POLLIN))
				continue;
			rcs[i] = chan_recv(&chs[i], &outs[i]);
			if (rcs[i] == -EAGAIN) {
				rcs[i] = -ETIMEDOUT;
				continue;
			}
			waiting--;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (rcs[i] == -ETIMEDOUT)
			cli_chan_close(&chs[i]);
	free(items);
}

int cli_chan_call(struct cli *c, struct cli_chan *ch, const cm_env *req, int timeout_ms,
		  cm_env **out)
{
	int rc;

	cli_call_many(c, ch, 1, req, timeout_ms, out, &rc);
	return rc;
}

int cli_fetch(struct cli *c, struct cli_chan *ch, uint64_t from, uint32_t max, uint32_t wait_ms,
	      cm_env **rep)
{
	cm_env req;
	Donthu__V1__FetchRequest f = DONTHU__V1__FETCH_REQUEST__INIT;
	int rc;

	cli_env_init(&req);
	f.consumer = "cli";
	f.from_seq = from;
	f.max_events = max;
	f.wait_ms = wait_ms;
	req.body_case = DONTHU__V1__ENVELOPE__BODY_FETCH;
	req.fetch = &f;
	rc = cli_chan_call(c, ch, &req, c->timeout_ms + (int)wait_ms, rep);
	if (rc)
		return rc;
	if (cli_control_failed(*rep, ch->ep->what)) {
		cm_env_free(rep);
		return CM_EINVALID;
	}
	if ((*rep)->body_case != DONTHU__V1__ENVELOPE__BODY_FETCH_REPLY) {
		cm_env_free(rep);
		return CM_EDECODE;
	}
	return 0;
}

int cli_feed_scan(struct cli *c, struct cli_chan *ch, uint64_t from_seq, uint64_t to,
		  cli_event_fn fn, void *arg, uint64_t *last)
{
	uint64_t next = from_seq ? from_seq : 1;
	int rc = 0;

	*last = next - 1;
	for (;;) {
		cm_env *rep = NULL;
		Donthu__V1__FetchReply *fr;
		size_t i;

		if (to && next > to)
			break;
		rc = cli_fetch(c, ch, next, 5000, 0, &rep);
		if (rc)
			return rc;
		fr = rep->fetch_reply;
		if (!to)
			to = fr->head_seq;
		for (i = 0; i < fr->n_events && (!to || next <= to); i++) {
			cm_env *ev = NULL;

			rc = cm_env_unpack(fr->events[i].data, fr->events[i].len, &ev);
			if (rc) {
				fprintf(stderr,
					"donthu: event %" PRIu64 " of the %s cannot be read (%s); "
					"skipped\n",
					next, ch->ep->what, cm_strerror(rc));
				rc = 0;
			} else {
				rc = fn(ev, arg);
				cm_env_free(&ev);
			}
			*last = next++;
			if (rc)
				break;
		}
		cm_env_free(&rep);
		if (rc || i == 0 || next > to)
			break;
	}
	return rc;
}

int cli_unreachable(const struct cli *c, const struct cli_ep *ep, int rc)
{
	if (rc == -ETIMEDOUT)
		fprintf(stderr,
			"donthu: the %s at %s did not answer within %g s. Is donthu-%s running? "
			"If it listens elsewhere, use %s (or %s).\n",
			ep->what, ep->url, c->timeout_ms / 1000.0, cli_svc_names[ep->svc], ep->flag,
			ep->env);
	else if (rc == -ECONNREFUSED)
		fprintf(stderr,
			"donthu: nothing listens on the %s at %s. Is donthu-%s running? If it "
			"listens elsewhere, use %s (or %s).\n",
			ep->what, ep->url, cli_svc_names[ep->svc], ep->flag, ep->env);
	else
		fprintf(stderr, "donthu: cannot talk to the %s at %s: %s\n", ep->what, ep->url,
			cm_strerror(rc));
	return CLI_UNREACHABLE;
}

bool cli_control_failed(const cm_env *rep, const char *who)
{
	const Donthu__V1__ControlReply *cr;

	if (rep->body_case != DONTHU__V1__ENVELOPE__BODY_CONTROL_REPLY)
		return false;
	cr = rep->control_reply;
	if (cr->ok)
		return false;
	if (cr->error)
		fprintf(stderr, "donthu: the %s refused: %s%s%s: %s\n", who, cr->error->code,
			*cr->error->field ? " " : "", cr->error->field, cr->error->message);
	else
		fprintf(stderr, "donthu: the %s refused without a reason\n", who);
	return true;
}

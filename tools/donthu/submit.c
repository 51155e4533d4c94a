/*
 * submit.c - `donthu submit FILE...`: SubmitRequests from JSON or NDJSON,
 * pipelined on one DEALER, retried with the same idempotency key.
 *
 * The retry rule is the protocol's (docs/PROTOCOL.md §3): on a timeout the
 * socket is replaced and every unanswered request is sent again unchanged,
 * so a request that was stored before its answer got lost comes back as
 * DUPLICATE and nothing is ever stored twice.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include <sodium.h>

#include "cli.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/pbjson.h"

#define ST(x) DONTHU__V1__SUBMIT_STATUS__SUBMIT_STATUS_##x
/* A JSON document is read whole; NDJSON streams, one line at a time. */
#define MAX_DOC_BYTES (256u * 1024 * 1024)
#define PROGRESS_EVERY 1000

static const struct cli_opt submit_opts[] = {
	{"window", 'w', OPT_VALUE, "N", "requests in flight at once (1..4096; default 64)"},
	{"timeout", 't', OPT_VALUE, "S",
	 "seconds without any answer before unanswered requests are resent (default 10)"},
	{"retries", 'r', OPT_VALUE, "N",
	 "resends of one request after a timeout or an UNAVAILABLE answer (default 3)"},
	{"format", 0, OPT_VALUE, "F",
	 "json (one object or an array) or ndjson (one object per line); default: ndjson for "
	 ".ndjson, .jsonl and -, json otherwise"},
	{"auto-key", 0, OPT_VALUE, "SYSTEM",
	 "give objects without \"key\" the key {SYSTEM, \"auto-<hash of the object>\"}, so a "
	 "resubmitted file is recognised"},
	{"json", 0, OPT_FLAG, NULL,
	 "print every answer as one JSON line (a SubmitReply plus \"file\" and \"line\"); the "
	 "summary goes to stderr"},
	{"verbose", 'v', OPT_FLAG, NULL, "print one line per answer, not only rejections"},
	{"progress", 0, OPT_FLAG, NULL,
	 "report progress on stderr every 1000 lines (default when stderr is a terminal)"},
	{NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd submit_cmd = {
	.name = "submit",
	.synopsis = "[OPTIONS] FILE...",
	.about = "Send petitions, case actions, reception records, schedules and conclusions to\n"
		 "intake. Each object is a SubmitRequest in JSON (docs/JSON.md): an idempotency\n"
		 "\"key\" and one of \"petition\", \"action\", \"reception\", \"schedule\",\n"
		 "\"conclusion\"; request_id is assigned here. A FILE is a JSON document (one\n"
		 "object or an array of objects) or NDJSON (.ndjson, .jsonl; \"-\" reads NDJSON\n"
		 "from stdin). An object that is not valid JSON or does not fit the message is\n"
		 "reported with its line and the path of the offending field, and not sent.\n"
		 "Resending a file is safe: what was stored comes back as duplicate.",
	.opts = submit_opts,
	.exits = "0 every object accepted or duplicate; 1 some rejected or unavailable;\n"
		 "2 usage error or unreadable file; 3 intake did not answer.",
};

/* --------------------------------------------------------------- input --- */

struct source {
	const char *path;	/* as given; "-" for stdin */
	const char *name;	/* for messages */
	FILE *f;
	bool ndjson;
	char *line;
	size_t linecap, lineno;
	json_t *doc;		/* JSON document: the array (or the object) */
	size_t idx, n, *lines;	/* next element, count, each element's line */
	bool opened, done;
};

/* A parsed object, or why it is not one. */
struct parsed {
	size_t line;
	Donthu__V1__SubmitRequest *q;
	const char *code;	/* local rejection code when q is NULL */
	struct cm_pbjson_err err;
};

/* Lines where the elements of the top-level array start: the reader gives
 * positions only for errors, and a rejection must name its line. */
static size_t *element_lines(const char *text, size_t len, size_t n)
{
	size_t *lines = cm_xcalloc(n ? n : 1, sizeof(size_t));
	size_t line = 1, k = 0;
	int depth = 0;
	bool in_str = false, esc = false, want = false;

	for (size_t i = 0; i < len && k < n; i++) {
		char ch = text[i];

		if (ch == '\n')
			line++;
		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		if (want && depth == 1 && ch != ']') {
			lines[k++] = line;
			want = false;
		}
		if (ch == '"')
			in_str = true;
		else if (ch == '[' || ch == '{') {
			if (++depth == 1 && ch == '[')
				want = true;
		} else if (ch == ']' || ch == '}') {
			depth--;
		} else if (ch == ',' && depth == 1) {
			want = true;
		}
	}
	return lines;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	return n >= k && strcmp(s + n - k, suf) == 0;
}

static int source_open(struct source *s, const char *format)
{
	if (strcmp(s->path, "-") == 0) {
		s->f = stdin;
		s->name = "stdin";
		s->ndjson = !(format && strcmp(format, "json") == 0);
	} else {
		s->f = fopen(s->path, "rb");
		s->name = s->path;
		if (!s->f) {
			fprintf(stderr, "donthu submit: cannot open %s: %s\n", s->path,
				strerror(errno));
			return CLI_USAGE;
		}
		if (format)
			s->ndjson = strcmp(format, "ndjson") == 0;
		else
			s->ndjson = has_suffix(s->path, ".ndjson") || has_suffix(s->path, ".jsonl");
	}
	s->opened = true;
	return 0;
}

static void source_close(struct source *s)
{
	if (s->f && s->f != stdin)
		fclose(s->f);
	s->f = NULL;
	free(s->line);
	s->line = NULL;
	json_decref(s->doc);
	s->doc = NULL;
	free(s->lines);
	s->lines = NULL;
}

static void local_error(struct parsed *p, const char *code, const char *path, const char *fmt,
			...) __attribute__((format(printf, 4, 5)));

static void local_error(struct parsed *p, const char *code, const char *path, const char *fmt,
			...)
{
	va_list ap;

	p->q = NULL;
	p->code = code;
	snprintf(p->err.path, sizeof(p->err.path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(p->err.message, sizeof(p->err.message), fmt, ap);
	va_end(ap);
}

static void from_pbjson(struct parsed *p, int rc, ProtobufCMessage *m)
{
	if (rc == 0) {
		p->q = (Donthu__V1__SubmitRequest *)m;
		p->code = NULL;
		return;
	}
	p->q = NULL;
	p->code = rc == CM_EDECODE ? "not_json" : "invalid_json";
}

/* Read the whole JSON document of s. Returns 1 when elements are ready, 0
 * when the document itself was refused (p filled, one rejection), or a
 * CLI_* exit code. */
static int load_doc(struct source *s, struct parsed *p)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = cm_xmalloc(cap);
	json_error_t je;
	size_t n;

	while ((n = fread(buf + len, 1, cap - len, s->f)) > 0) {
		len += n;
		if (len > MAX_DOC_BYTES) {
			fprintf(stderr,
				"donthu submit: %s is larger than %u MiB; split it or use NDJSON "
				"(one object per line, .ndjson)\n",
				s->name, MAX_DOC_BYTES >> 20);
			free(buf);
			return CLI_USAGE;
		}
		if (len == cap) {
			cap *= 2;
			buf = cm_xrealloc(buf, cap);
		}
	}
	if (ferror(s->f)) {
		fprintf(stderr, "donthu submit: cannot read %s: %s\n", s->name, strerror(errno));
		free(buf);
		return CLI_USAGE;
	}
	s->doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!s->doc) {
		p->line = je.line > 0 ? (size_t)je.line : 1;
		local_error(p, "not_json", "", "not JSON: line %d, column %d: %s", je.line,
			    je.column, je.text);
		free(buf);
		return 0;
	}
	if (json_is_array(s->doc)) {
		s->n = json_array_size(s->doc);
		s->lines = element_lines(buf, len, s->n);
	} else {
		s->n = 1;
		s->lines = cm_xcalloc(1, sizeof(size_t));
		s->lines[0] = 1;
		for (size_t i = 0; i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
					       buf[i] == '\n');
		     i++)
			if (buf[i] == '\n')
				s->lines[0]++;
	}
	free(buf);
	return 1;
}

/* Next object of s into p. Returns 1 (p filled), 0 at the end, or a CLI_*
 * exit code for an unreadable file. */
static int source_next(struct source *s, struct parsed *p)
{
	ProtobufCMessage *m = NULL;
	int rc;

	memset(p, 0, sizeof(*p));
	if (s->done)
		return 0;
	if (!s->ndjson) {
		if (!s->doc) {
			rc = load_doc(s, p);
			if (rc == 0) {
				s->done = true;
				return 1;
			}
			if (rc != 1)
				return rc;
		}
		if (s->idx >= s->n) {
			s->done = true;
			return 0;
		}
		{
			json_t *el = json_is_array(s->doc) ? json_array_get(s->doc, s->idx) : s->doc;

			p->line = s->lines[s->idx];
			s->idx++;
			rc = cm_pbjson_parse(&donthu__v1__submit_request__descriptor, el, &m,
					     &p->err);
			from_pbjson(p, rc, m);
			return 1;
		}
	}
	for (;;) {
		ssize_t n = getline(&s->line, &s->linecap, s->f);
		size_t len;
		bool blank = true;

		if (n < 0) {
			if (ferror(s->f)) {
				fprintf(stderr, "donthu submit: cannot read %s: %s\n", s->name,
					strerror(errno));
				return CLI_USAGE;
			}
			s->done = true;
			return 0;
		}
		s->lineno++;
		len = (size_t)n;
		while (len && (s->line[len - 1] == '\n' || s->line[len - 1] == '\r'))
			len--;
		for (size_t i = 0; i < len && blank; i++)
			blank = s->line[i] == ' ' || s->line[i] == '\t';
		if (blank)
			continue;
		p->line = s->lineno;
		if (len > CM_ENV_MAX_BYTES) {
			local_error(p, "too_large", "", "the line is %zu bytes; a request may be at most %d",
				    len, CM_ENV_MAX_BYTES);
			return 1;
		}
		rc = cm_pbjson_parse_text(&donthu__v1__submit_request__descriptor, s->line, len, &m,
					  &p->err);
		from_pbjson(p, rc, m);
		/* Each line is its own document: "line 1" inside it means nothing. */
		if (rc == CM_EDECODE && strncmp(p->err.message, "not JSON: line 1, ", 18) == 0)
			memmove(p->err.message + 10, p->err.message + 18,
				strlen(p->err.message + 18) + 1);
		return 1;
	}
}

/* ------------------------------------------------------------ in flight --- */

struct slot {
	bool used, pending;	/* pending: to be (re)sent */
	uint64_t id;
	uint32_t attempts;
	size_t file, line;
	uint8_t *buf;
	size_t len;
	int64_t not_before;	/* monotonic ms; backoff after UNAVAILABLE */
};

struct rejection {
	size_t file, line;
	char *code, *field, *message;
	bool unavailable;
};

struct submit {
	struct cli *c;
	struct source *src;
	size_t nsrc;
	bool json, verbose, progress, tty;
	const char *auto_key;
	uint32_t window, retries;
	int timeout_ms;

	void *sock;
	struct slot *slots;
	size_t inflight, free_hint;
	uint64_t counter;
	int64_t last_activity;
	uint32_t dead_rounds;	/* consecutive timeouts without any answer */
	bool any_answer;

	size_t read, accepted, duplicate, rejected, unavailable, answered;
	struct rejection *rej;
	size_t nrej, caprej;
};

static int64_t now_ms(void)
{
	return (int64_t)(cm_clock_mono_ns() / 1000000);
}

static FILE *summary_out(const struct submit *sb)
{
	return sb->json ? stderr : stdout;
}

static void add_rejection(struct submit *sb, size_t file, size_t line, const char *code,
			  const char *field, const char *message, bool unavailable)
{
	struct rejection *r;

	if (sb->nrej == sb->caprej) {
		sb->caprej = sb->caprej ? sb->caprej * 2 : 64;
		sb->rej = cm_xrealloc(sb->rej, sb->caprej * sizeof(*sb->rej));
	}
	r = &sb->rej[sb->nrej++];
	r->file = file;
	r->line = line;
	r->code = cm_xstrdup(code && *code ? code : "-");
	r->field = cm_xstrdup(field && *field ? field : "-");
	r->message = cm_xstrdup(message ? message : "");
	r->unavailable = unavailable;
}

static void print_json_reply(struct submit *sb, const Donthu__V1__SubmitReply *r, size_t file,
			     size_t line)
{
	json_t *o = cm_pbjson_render(&r->base, 0);

	json_object_set_new(o, "file", json_string(sb->src[file].name));
	json_object_set_new(o, "line", json_integer((json_int_t)line));
	cli_print_json_value(stdout, o);
}

/* A rejection decided here (the object never left): reported exactly like
 * intake's, so --json readers see one format. */
static void reject_local(struct submit *sb, size_t file, const struct parsed *p)
{
	sb->rejected++;
	add_rejection(sb, file, p->line, p->code, p->err.path, p->err.message, false);
	if (sb->verbose && !sb->json)
		printf("%s:%zu  REJECTED  %s\n", sb->src[file].name, p->line, p->code);
	if (sb->json) {
		Donthu__V1__SubmitReply r = DONTHU__V1__SUBMIT_REPLY__INIT;
		Donthu__V1__ErrorDetail e = DONTHU__V1__ERROR_DETAIL__INIT;

		e.code = (char *)p->code;
		e.field = (char *)p->err.path;
		e.message = (char *)p->err.message;
		r.status = ST(REJECTED);
		r.error = &e;
		print_json_reply(sb, &r, file, p->line);
	}
}

/* Objects without a key get one derived from their content, so the same
 * object always gets the same key and a resubmission is a duplicate. */
static void auto_key(Donthu__V1__SubmitRequest *q, const char *system)
{
	unsigned char hash[16];
	char hex[33];
	size_t len;
	uint8_t *buf;

	q->request_id = 0;
	len = donthu__v1__submit_request__get_packed_size(q);
	buf = cm_xmalloc(len ? len : 1);
	donthu__v1__submit_request__pack(q, buf);
	crypto_generichash(hash, sizeof(hash), buf, len, NULL, 0);
	free(buf);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	/* Allocated with malloc: free_unpacked (default allocator) frees it. */
	q->key = cm_xmalloc(sizeof(*q->key));
	donthu__v1__idempotency_key__init(q->key);
	q->key->source_system = cm_xstrdup(system);
	q->key->source_id = cm_xasprintf("auto-%s", hex);
}

static struct slot *slot_of(struct submit *sb, uint64_t id)
{
	struct slot *s;

	if (id == 0)
		return NULL;
	s = &sb->slots[(id - 1) % sb->window];
	return s->used && s->id == id ? s : NULL;
}

static void slot_free(struct submit *sb, struct slot *s)
{
	free(s->buf);
	s->buf = NULL;
	s->used = false;
	s->pending = false;
	sb->inflight--;
	sb->free_hint = (size_t)(s - sb->slots);
}

static int open_sock(struct submit *sb)
{
	int rc = cli_sock_open(sb->c, &sb->c->intake, ZMQ_DEALER, &sb->sock);

	sb->last_activity = now_ms();
	return rc;
}

/* Send s now; on a full queue it stays pending for the next turn. */
static int send_slot(struct submit *sb, struct slot *s)
{
	if (zmq_send(sb->sock, s->buf, s->len, ZMQ_DONTWAIT) < 0) {
		int e = zmq_errno();

		s->pending = true;
		return e == EAGAIN ? 0 : -e;
	}
	s->pending = false;
	return 0;
}

/* Build the envelope of p and take a slot for it. */
static int enqueue(struct submit *sb, size_t file, struct parsed *p)
{
	cm_env env;
	struct slot *s = NULL;
	size_t i;
	int rc;

	for (i = 0; i < sb->window; i++) {
		struct slot *c = &sb->slots[(sb->free_hint + i) % sb->window];

		if (!c->used) {
			s = c;
			break;
		}
	}
	cm_require(s != NULL);
	if (!p->q->key && sb->auto_key)
		auto_key(p->q, sb->auto_key);
	s->id = ++sb->counter * sb->window + (uint64_t)(s - sb->slots) + 1 - sb->window;
	p->q->request_id = s->id;
	cli_env_init(&env);
	env.body_case = DONTHU__V1__ENVELOPE__BODY_SUBMIT;
	env.submit = p->q;
	rc = cm_env_pack_alloc(&env, &s->buf, &s->len);
	if (rc) {
		local_error(p, "too_large", "", "the request packs to more than %d bytes",
			    CM_ENV_MAX_BYTES);
		reject_local(sb, file, p);
		return 0;
	}
	s->used = true;
	s->attempts = 0;
	s->file = file;
	s->line = p->line;
	s->not_before = 0;
	sb->inflight++;
	return send_slot(sb, s);
}

static void progress(struct submit *sb, bool final)
{
	if (!sb->progress)
		return;
	if (!final && sb->read % PROGRESS_EVERY != 0)
		return;
	fprintf(stderr,
		"%ssubmit: %zu read, %zu answered: %zu accepted, %zu duplicate, %zu rejected, %zu "
		"unavailable%s",
		sb->tty ? "\r" : "", sb->read, sb->answered, sb->accepted, sb->duplicate,
		sb->rejected, sb->unavailable, sb->tty && !final ? "" : "\n");
	fflush(stderr);
}

static void give_up(struct submit *sb, struct slot *s, const char *code, const char *message)
{
	sb->unavailable++;
	sb->answered++;
	add_rejection(sb, s->file, s->line, code, "", message, true);
	if (sb->json) {
		Donthu__V1__SubmitReply r = DONTHU__V1__SUBMIT_REPLY__INIT;
		Donthu__V1__ErrorDetail e = DONTHU__V1__ERROR_DETAIL__INIT;

		e.code = (char *)code;
		e.field = "";
		e.message = (char *)message;
		r.request_id = s->id;
		r.status = ST(UNAVAILABLE);
		r.error = &e;
		print_json_reply(sb, &r, s->file, s->line);
	}
	slot_free(sb, s);
}

static void on_reply(struct submit *sb, const void *data, size_t len)
{
	cm_env *env = NULL;
	Donthu__V1__SubmitReply *r;
	struct slot *s;

	if (cm_env_unpack(data, len, &env) != 0)
		return;
	if (env->body_case != DONTHU__V1__ENVELOPE__BODY_SUBMIT_REPLY) {
		/* Not an answer to one of ours: the socket is not intake's submit
		 * socket, or intake could not read our frame. */
		if (!cli_control_failed(env, "intake submit socket"))
			fprintf(stderr, "donthu submit: unexpected %s answer from %s\n",
				cm_env_body_name(env), sb->c->intake.url);
		cm_env_free(&env);
		return;
	}
	r = env->submit_reply;
	s = slot_of(sb, r->request_id);
	if (!s) {
		/* An answer to a request that was resent and already answered. */
		cm_env_free(&env);
		return;
	}
	sb->any_answer = true;
	sb->dead_rounds = 0;
	if (r->status == ST(UNAVAILABLE) && s->attempts < sb->retries) {
		/* Not stored: back off and resend with the same key. */
		s->attempts++;
		s->pending = true;
		s->not_before = now_ms() + (200LL << (s->attempts < 5 ? s->attempts : 5));
		cm_env_free(&env);
		return;
	}
	if (sb->json)
		print_json_reply(sb, r, s->file, s->line);
	switch (r->status) {
	case ST(ACCEPTED):
		sb->accepted++;
		break;
	case ST(DUPLICATE):
		sb->duplicate++;
		break;
	case ST(UNAVAILABLE):
		sb->unavailable++;
		add_rejection(sb, s->file, s->line, r->error ? r->error->code : "unavailable",
			      r->error ? r->error->field : "",
			      r->error ? r->error->message : "intake could not store it", true);
		break;
	default:
		sb->rejected++;
		add_rejection(sb, s->file, s->line, r->error ? r->error->code : "rejected",
			      r->error ? r->error->field : "",
			      r->error ? r->error->message : "no reason given", false);
	}
	if (sb->verbose && !sb->json) {
		char sb_buf[64];

		printf("%s:%zu  %s  %s\n", sb->src[s->file].name, s->line,
		       cli_enum_short(&donthu__v1__submit_status__descriptor, (int)r->status, sb_buf),
		       *r->case_number ? r->case_number
		       : *r->record_id ? r->record_id
		       : r->error	? r->error->code
					: "");
	}
	sb->answered++;
	slot_free(sb, s);
	cm_env_free(&env);
}

/* Nothing came back for a while: replace the socket and resend everything
 * unanswered, as the protocol says. Returns CLI_UNREACHABLE when intake has
 * stopped answering altogether. */
static int on_timeout(struct submit *sb)
{
	sb->dead_rounds++;
	/* Never answered at all: one resend covers a slow connect, then stop
	 * rather than wait through every retry of every request. */
	if ((!sb->any_answer && sb->dead_rounds >= 2) || sb->dead_rounds > sb->retries)
		return CLI_UNREACHABLE;
	zmq_close(sb->sock);
	sb->sock = NULL;
	if (open_sock(sb) != 0)
		return CLI_UNREACHABLE;
	for (size_t i = 0; i < sb->window; i++) {
		struct slot *s = &sb->slots[i];

		if (!s->used)
			continue;
		if (s->attempts >= sb->retries) {
			give_up(sb, s, "timeout", "no answer from intake after every retry");
			continue;
		}
		s->attempts++;
		s->pending = true;
		s->not_before = 0;
	}
	return 0;
}

static int cmp_rej(const void *a, const void *b)
{
	const struct rejection *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static void summary(struct submit *sb, size_t unsent)
{
	FILE *out = summary_out(sb);

	progress(sb, true);
	fprintf(out, "%zu object%s from %zu file%s: %zu accepted, %zu duplicate, %zu "
		     "rejected, %zu unavailable\n",
		sb->read, sb->read == 1 ? "" : "s", sb->nsrc, sb->nsrc == 1 ? "" : "s", sb->accepted,
		sb->duplicate, sb->rejected, sb->unavailable);
	if (unsent)
		fprintf(out, "not answered: %zu (intake stopped answering; run the same command "
			     "again: what was stored comes back as duplicate)\n",
			unsent);
	if (sb->nrej) {
		struct cli_table t;

		qsort(sb->rej, sb->nrej, sizeof(*sb->rej), cmp_rej);
		cli_table_init(&t, 4);
		cli_table_rowv(&t, "where", "code", "field", "message");
		for (size_t i = 0; i < sb->nrej; i++) {
			char where[512];

			snprintf(where, sizeof(where), "%s:%zu", sb->src[sb->rej[i].file].name,
				 sb->rej[i].line);
			cli_table_rowv(&t, where, sb->rej[i].code, sb->rej[i].field,
				       sb->rej[i].message);
		}
		fprintf(out, "%s:\n", sb->unavailable && sb->rejected ? "rejected or unavailable"
				      : sb->unavailable	       ? "unavailable"
							       : "rejected");
		cli_table_print(&t, out);
		cli_table_free(&t);
	}
}

static int run(struct submit *sb)
{
	size_t cur = 0;
	bool eof = false;
	int rc;

	rc = open_sock(sb);
	if (rc)
		return cli_unreachable(sb->c, &sb->c->intake, rc);
	while (!eof || sb->inflight > 0) {
		zmq_pollitem_t it;
		int64_t now, wake;
		int pr;

		/* Fill the window from the input. */
		while (!eof && sb->inflight < sb->window) {
			struct parsed p;

			rc = source_next(&sb->src[cur], &p);
			if (rc == 0) {
				source_close(&sb->src[cur]);
				if (++cur == sb->nsrc)
					eof = true;
				continue;
			}
			if (rc != 1)
				return rc;
			sb->read++;
			if (p.q) {
				rc = enqueue(sb, cur, &p);
				donthu__v1__submit_request__free_unpacked(p.q, NULL);
				if (rc)
					return cli_unreachable(sb->c, &sb->c->intake, rc);
			} else {
				reject_local(sb, cur, &p);
			}
			progress(sb, false);
		}
		/* Resend what is due. */
		now = now_ms();
		wake = now + sb->timeout_ms;
		for (size_t i = 0; i < sb->window; i++) {
			struct slot *s = &sb->slots[i];

			if (!s->used || !s->pending)
				continue;
			if (s->not_before <= now) {
				if ((rc = send_slot(sb, s)) != 0)
					return cli_unreachable(sb->c, &sb->c->intake, rc);
			}
			if (s->pending && s->not_before > now && s->not_before < wake)
				wake = s->not_before;
			if (s->pending && s->not_before <= now)
				wake = now + 10;
		}
		if (sb->inflight == 0)
			continue;
		it.socket = sb->sock;
		it.events = ZMQ_POLLIN;
		it.revents = 0;
		{
			int64_t until_timeout = sb->last_activity + sb->timeout_ms - now;

			if (until_timeout < wake - now)
				wake = now + (until_timeout > 0 ? until_timeout : 0);
		}
		pr = zmq_poll(&it, 1, (long)(wake - now));
		if (pr < 0 && zmq_errno() != EINTR)
			return cli_unreachable(sb->c, &sb->c->intake, -zmq_errno());
		if (pr > 0) {
			for (;;) {
				zmq_msg_t m;

				zmq_msg_init(&m);
				if (zmq_msg_recv(&m, sb->sock, ZMQ_DONTWAIT) < 0) {
					zmq_msg_close(&m);
					break;
				}
				on_reply(sb, zmq_msg_data(&m), zmq_msg_size(&m));
				zmq_msg_close(&m);
			}
			sb->last_activity = now_ms();
			continue;
		}
		if (now_ms() - sb->last_activity >= sb->timeout_ms) {
			bool waiting = false;

			/* Requests parked for a backoff are not waiting for intake. */
			for (size_t i = 0; i < sb->window && !waiting; i++)
				waiting = sb->slots[i].used && !sb->slots[i].pending;
			if (!waiting) {
				sb->last_activity = now_ms();
				continue;
			}
			rc = on_timeout(sb);
			if (rc) {
				size_t unsent = sb->inflight;

				summary(sb, unsent);
				/* Say how long we actually waited. */
				sb->c->timeout_ms = sb->timeout_ms;
				return cli_unreachable(sb->c, &sb->c->intake, -ETIMEDOUT);
			}
		}
	}
	summary(sb, 0);
	return sb->rejected || sb->unavailable ? CLI_FAILED : CLI_OK;
}

int cli_cmd_submit(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	struct submit sb = {.c = c, .window = 64, .retries = 3, .timeout_ms = 10000};
	const char *v, *format;
	uint64_t n;
	bool done, stdin_seen = false;
	int rc;

	if ((rc = cli_parse(&submit_cmd, argc, argv, &a, &done)) || done)
		return rc;
	if (a.npos == 0)
		return cli_usage_error(&submit_cmd, "no FILE given (use - for stdin)");
	if ((v = cli_arg(&submit_cmd, &a, "window"))) {
		if ((rc = cli_arg_u64(&submit_cmd, "window", v, 1, 4096, &n)))
			return rc;
		sb.window = (uint32_t)n;
	}
	if ((v = cli_arg(&submit_cmd, &a, "timeout"))) {
		if ((rc = cli_arg_u64(&submit_cmd, "timeout", v, 1, 3600, &n)))
			return rc;
		sb.timeout_ms = (int)n * 1000;
	}
	if ((v = cli_arg(&submit_cmd, &a, "retries"))) {
		if ((rc = cli_arg_u64(&submit_cmd, "retries", v, 0, 100, &n)))
			return rc;
		sb.retries = (uint32_t)n;
	}
	format = cli_arg(&submit_cmd, &a, "format");
	if (format && strcmp(format, "json") != 0 && strcmp(format, "ndjson") != 0)
		return cli_usage_error(&submit_cmd, "--format is json or ndjson, not \"%s\"", format);
	sb.auto_key = cli_arg(&submit_cmd, &a, "auto-key");
	if (sb.auto_key && (!*sb.auto_key || strlen(sb.auto_key) > 64))
		return cli_usage_error(&submit_cmd, "--auto-key wants a source system name of 1 to "
						    "64 characters");
	sb.json = cli_arg(&submit_cmd, &a, "json") != NULL;
	sb.verbose = cli_arg(&submit_cmd, &a, "verbose") != NULL;
	sb.tty = isatty(STDERR_FILENO);
	sb.progress = cli_arg(&submit_cmd, &a, "progress") != NULL || sb.tty;
	if (sodium_init() < 0)
		return CLI_FAILED;

	/* Open every file before sending anything: a typo in the third name
	 * must not leave the first two half-submitted. */
	sb.nsrc = a.npos;
	sb.src = cm_xcalloc(sb.nsrc, sizeof(*sb.src));
	rc = 0;
	for (size_t i = 0; i < sb.nsrc && !rc; i++) {
		sb.src[i].path = a.pos[i];
		if (strcmp(a.pos[i], "-") == 0) {
			if (stdin_seen)
				rc = cli_usage_error(&submit_cmd, "- (stdin) given twice");
			stdin_seen = true;
		}
		if (!rc)
			rc = source_open(&sb.src[i], format);
	}
	sb.slots = cm_xcalloc(sb.window, sizeof(*sb.slots));
	if (!rc)
		rc = run(&sb);
	for (size_t i = 0; i < sb.nsrc; i++)
		if (sb.src[i].opened)
			source_close(&sb.src[i]);
	for (size_t i = 0; i < sb.window; i++)
		free(sb.slots[i].buf);
	for (size_t i = 0; i < sb.nrej; i++) {
		free(sb.rej[i].code);
		free(sb.rej[i].field);
		free(sb.rej[i].message);
	}
	if (sb.sock)
		zmq_close(sb.sock);
	free(sb.rej);
	free(sb.slots);
	free(sb.src);
	return rc;
}

/*
 * cli.h - what the commands of the donthu command-line tool share: where the
 * services are, blocking request/reply over ZeroMQ, option parsing, output
 * helpers.
 *
 * The tool is a client: it blocks on its sockets (no event loop), one command
 * per process. Exit codes are part of its interface (docs/CLI.md).
 */
#ifndef DONTHU_CLI_H
#define DONTHU_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/envelope.h"

enum cli_exit {
	CLI_OK = 0,
	CLI_FAILED = 1,		/* some items rejected or failed */
	CLI_USAGE = 2,		/* bad command line or unreadable input */
	CLI_UNREACHABLE = 3,	/* a service did not answer */
	CLI_NOTFOUND = 4,	/* the case (or record) does not exist */
};

enum cli_svc { SVC_INTAKE = 0, SVC_ROUTING, SVC_DEADLINE, SVC_REPORT, SVC_COUNT };

/* "intake", "routing", ... */
extern const char *const cli_svc_names[SVC_COUNT];
/* Parse a service name; -1 when it is none of them. */
int cli_svc_parse(const char *name);

/* One named endpoint: what the user passed (flag, environment or default). */
struct cli_ep {
	char *url;
	const char *flag;	/* "--intake", to say how to change it */
	const char *env;	/* "DONTHU_INTAKE_ENDPOINT" */
	const char *what;	/* "intake submit socket" */
	enum cli_svc svc;	/* whose public key CURVE needs */
	bool admin;		/* admin sockets are local ipc: never CURVE */
};

struct cli {
	void *zctx;
	struct cli_ep intake, intake_feed, routing, deadline, deadline_pub, report;
	struct cli_ep admin[SVC_COUNT];
	/* CURVE client keys (Z85), set when --curve-dir is given. */
	bool curve;
	char curve_public[41], curve_secret[41];
	char server_public[SVC_COUNT][41];
	int timeout_ms;		/* one request's wait for its reply */
};

/* The feed endpoint (the socket that serves fetch and status) of a service;
 * for report, the query socket. */
struct cli_ep *cli_status_ep(struct cli *c, enum cli_svc svc);

/* ------------------------------------------------------------ options --- */

enum cli_opt_kind { OPT_FLAG, OPT_VALUE };

struct cli_opt {
	const char *name;	/* long name without "--" */
	char shortname;		/* 0 for none */
	enum cli_opt_kind kind;
	const char *metavar;	/* "N", "FILE" */
	const char *help;
};

/* What a command's parse produced: values by index into its option table
 * (NULL when not given; a flag given is "1"), and the positional arguments. */
struct cli_args {
	const char *val[32];
	const char *pos[4096];
	size_t npos;
};

/* A command's description for --help and usage errors. */
struct cli_cmd {
	const char *name;	/* "submit", "case history" */
	const char *synopsis;	/* "FILE..." */
	const char *about;	/* one paragraph, may hold newlines */
	const struct cli_opt *opts;	/* terminated by a zero entry */
	const char *exits;	/* the exit codes that matter for this command */
};

/** Parse argv (the words after the command name) against cmd->opts.
 * "--help"/"-h" prints the command's help and returns 0 with *done set.
 * Returns 0, or CLI_USAGE after printing what is wrong. */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *a, bool *done);

/** Index of option name in cmd->opts (for reading a->val); aborts on a
 * programming error (unknown name). */
const char *cli_arg(const struct cli_cmd *cmd, const struct cli_args *a, const char *name);

void cli_help(const struct cli_cmd *cmd, FILE *out);

/** Print "donthu <cmd>: <message>" and a hint to --help; returns CLI_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Non-negative decimal integer option in [min, max]; *out untouched and
 * CLI_USAGE returned (after a message) when malformed. */
int cli_arg_u64(const struct cli_cmd *cmd, const char *name, const char *s, uint64_t min,
		uint64_t max, uint64_t *out);

/** Parse "intake,report" (or "all", or NULL meaning all) into want[].
 * Returns 0 or CLI_USAGE after a message. */
int cli_parse_services(const struct cli_cmd *cmd, const char *spec, bool want[SVC_COUNT]);

/* -------------------------------------------------------------- network --- */

/* A request/reply channel to one endpoint; opened on first use, closed (and
 * reopened on the next call) after a timeout so a late answer can never be
 * taken for the reply to a later request. */
struct cli_chan {
	struct cli_ep *ep;
	void *sock;
};

/** Open a socket of type to ep with the house options and, for non-admin
 * endpoints when c->curve, CURVE client keys. maxmsgsize -1: unlimited.
 * Errors: -ECONNREFUSED (an ipc:// path that does not exist: nobody listens),
 * -EINVAL (bad endpoint), CM_EKEY, other negated libzmq errors. */
int cli_sock_open(struct cli *c, struct cli_ep *ep, int type, void **out);

/** Send req and wait up to timeout_ms for one reply. Caller frees *out with
 * cm_env_free. Errors: -ETIMEDOUT (no reply), -ECONNREFUSED, CM_EDECODE
 * (the reply is not an envelope), CM_ETOOBIG, other socket errors. */
int cli_chan_call(struct cli *c, struct cli_chan *ch, const cm_env *req, int timeout_ms,
		  cm_env **out);
void cli_chan_close(struct cli_chan *ch);

/** The same request to n channels at once; rcs[i] and outs[i] as for
 * cli_chan_call; waits at most timeout_ms in all (a negative timeout_ms:
 * without limit, for requests whose length is the work itself, a backup). */
void cli_call_many(struct cli *c, struct cli_chan *chs, size_t n, const cm_env *req,
		   int timeout_ms, cm_env **outs, int *rcs);

/** Initialise an envelope to send (schema version, producer "cli"). */
void cli_env_init(cm_env *e);

/** Fetch up to max events from from_seq (one FetchRequest). *rep has a
 * fetch_reply on success. Errors: as cli_chan_call, CM_EDECODE when the
 * answer is not a fetch_reply, CM_EINVALID when the producer refused
 * (its message is printed). */
int cli_fetch(struct cli *c, struct cli_chan *ch, uint64_t from, uint32_t max, uint32_t wait_ms,
	      cm_env **rep);

/* Called with each decoded event (borrowed for the call); a non-zero return
 * stops the scan and is returned by cli_feed_scan. */
typedef int (*cli_event_fn)(const cm_env *ev, void *arg);

/** Read a feed from from_seq up to its head as of the first reply (to when
 * to != 0), calling fn for each event. *last gets the last sequence read
 * (from_seq - 1 when none). Errors: as cli_fetch, or fn's return. */
int cli_feed_scan(struct cli *c, struct cli_chan *ch, uint64_t from_seq, uint64_t to,
		  cli_event_fn fn, void *arg, uint64_t *last);

/** Say that ep did not answer (rc from a call), with what to do; returns
 * CLI_UNREACHABLE. */
int cli_unreachable(const struct cli *c, const struct cli_ep *ep, int rc);

/** If rep is a control_reply with ok false, print its error (prefixed with
 * who) and return true. */
bool cli_control_failed(const cm_env *rep, const char *who);

/* -------------------------------------------------------------- output --- */

/** Display width in terminal columns of UTF-8 text (wide characters count
 * 2, combining marks 0; invalid bytes 1 each). */
size_t cli_width(const char *s);

/** Write s padded with spaces to width columns (left- or right-aligned). */
void cli_pad(FILE *out, const char *s, size_t width, bool right);

/** Cut s to at most max columns, ending in "…" when cut. Caller frees. */
char *cli_ellipsize(const char *s, size_t max);

/* A table of text cells printed with columns aligned by display width. */
struct cli_table {
	size_t ncols, nrows, cap;
	char **cells;		/* nrows * ncols, owned */
	bool right[64];		/* right-align column i */
	const char *sep;	/* between columns, default two spaces */
};

void cli_table_init(struct cli_table *t, size_t ncols);
/** Append a row of ncols cells (copied; NULL prints empty). */
void cli_table_row(struct cli_table *t, const char *const *cells);
/** Append a row from ncols printf-less strings given as varargs. */
void cli_table_rowv(struct cli_table *t, ...);
void cli_table_print(const struct cli_table *t, FILE *out);
void cli_table_free(struct cli_table *t);

/** "2026-07-01 08:00:00" (local time, UTC+7) into buf. */
void cli_time_short(int64_t ms, char buf[24]);

/** An enum value's name without its type prefix ("WARNING" for
 * ESCALATION_LEVEL_WARNING); the number for unknown values. Returns buf or
 * a static string. */
const char *cli_enum_short(const ProtobufCEnumDescriptor *d, int value, char buf[64]);

/** Parse an enum value given as its full name, its short name (both any
 * case) or its number; -1 when it is none of the type's values. */
int cli_enum_parse(const ProtobufCEnumDescriptor *d, const char *text);

/** The short names of an enum's values (not the zero value), comma-separated,
 * for error messages. Caller frees. */
char *cli_enum_list(const ProtobufCEnumDescriptor *d);

/** One line of "key=value" facts from the fields of m that are set: scalars,
 * enums (short names), strings (cut to 60 columns), the members of nested
 * messages one level deep as parent.field=value, repeated fields as their
 * count. Fields named in skip (NULL-terminated) are left out. Caller frees. */
char *cli_facts(const ProtobufCMessage *m, const char *const *skip);

/** Print a message as one JSON line (pbjson rendering) to out. */
void cli_print_json(FILE *out, const ProtobufCMessage *m);
/** Print a jansson value as one compact line; steals the reference. */
void cli_print_json_value(FILE *out, json_t *v);

/** The event's topic as the deadline PUB socket would send it
 * ("esc.warning.DN-STC"; a delegation escalation "flag.delegation.DN-UBND";
 * "-" for no agency), or NULL when the event is not published there.
 * Returns buf or NULL. */
const char *cli_event_topic(const cm_env *ev, char *buf, size_t size);

/** One line describing an event: time, producer, sequence, type, facts.
 * Caller frees. */
char *cli_event_line(const cm_env *ev);

/* ------------------------------------------------------------ commands --- */

int cli_cmd_submit(struct cli *c, int argc, char **argv);
int cli_cmd_case(struct cli *c, int argc, char **argv);
int cli_cmd_watch(struct cli *c, int argc, char **argv);
int cli_cmd_report(struct cli *c, int argc, char **argv);
int cli_cmd_status(struct cli *c, int argc, char **argv);
int cli_cmd_admin(struct cli *c, int argc, char **argv);

#endif

/*
 * log.h - one JSON object per line on stderr, levels per group.
 *
 * A line looks like
 *   {"ts":"2026-07-01T08:00:00.123Z","level":"warn","group":"store","svc":"intake",
 *    "msg":"map full, growing","err":"ENOSPC"}
 * so docker and jq read it directly. Levels are set per group from the
 * environment: DONTHU_LOG=info,store=debug,zmq=warn .
 *
 * Thread-safety: lines are written with one write(2) each, so worker threads
 * may log; configuration calls belong to start-up.
 */
#ifndef CM_LOG_H
#define CM_LOG_H

#include <stdarg.h>

enum cm_log_level {
	CM_LOG_DEBUG = 0,
	CM_LOG_INFO,
	CM_LOG_NOTICE,
	CM_LOG_WARN,
	CM_LOG_ERROR,
	CM_LOG_OFF,
};

enum cm_log_group {
	CM_LG_MAIN = 0,
	CM_LG_LOOP,
	CM_LG_ZMQ,
	CM_LG_STORE,
	CM_LG_FEED,
	CM_LG_HTTP,
	CM_LG_CONFIG,
	CM_LG_INTAKE,
	CM_LG_ROUTING,
	CM_LG_DEADLINE,
	CM_LG_REPORT,
	CM_LG_AUDIT, /* identity reveals and other acts that must leave a trace */
	CM_LG_COUNT,
};

/** Name the process in every line ("intake"); borrowed, must outlive logging. */
void cm_log_set_service(const char *name);

/** Apply a spec such as "info,store=debug". Returns 0, or CM_ECONFIG for an
 * unknown level or group (nothing is changed then). NULL means "info". */
int cm_log_configure(const char *spec);

/** Whether a line at this level and group would be written. */
int cm_log_enabled(enum cm_log_group g, enum cm_log_level lvl);

/** Write one line. err != 0 adds "err":"<name>","errmsg":"<cm_strerror>". */
void cm_log_write(enum cm_log_group g, enum cm_log_level lvl, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define cm_log_debug(G, ...) cm_log_write(CM_LG_##G, CM_LOG_DEBUG, 0, __VA_ARGS__)
#define cm_log_info(G, ...) cm_log_write(CM_LG_##G, CM_LOG_INFO, 0, __VA_ARGS__)
#define cm_log_notice(G, ...) cm_log_write(CM_LG_##G, CM_LOG_NOTICE, 0, __VA_ARGS__)
#define cm_log_warn(G, ...) cm_log_write(CM_LG_##G, CM_LOG_WARN, 0, __VA_ARGS__)
#define cm_log_error(G, ...) cm_log_write(CM_LG_##G, CM_LOG_ERROR, 0, __VA_ARGS__)
/* The _err forms append the error's name and text. */
#define cm_log_warn_err(G, e, ...) cm_log_write(CM_LG_##G, CM_LOG_WARN, (e), __VA_ARGS__)
#define cm_log_error_err(G, e, ...) cm_log_write(CM_LG_##G, CM_LOG_ERROR, (e), __VA_ARGS__)

/** Start-up failure: log at error level and exit(1). Never returns. Use only
 * before the loop runs; at run time report and keep serving. */
void cm_fatal(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif

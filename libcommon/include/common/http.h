/*
 * http.h - /healthz and /metrics on the service loop, over libmicrohttpd.
 *
 * libmicrohttpd runs without threads of its own (MHD_USE_EPOLL, no internal
 * thread): its epoll fd is watched with uv_poll and MHD_run() is called from
 * the loop, with a uv_timer for its timeouts. Handlers therefore run on the
 * loop thread and may read service state without locks.
 *
 * /healthz answers 200 "ok" or 503 with the reason from the health callback.
 * /metrics answers Prometheus text format 0.0.4, built from a cm_metrics
 * registry plus an optional callback that appends service gauges, and ends
 * with the health callback's verdict for every service alike:
 * <prefix>_healthy 1|0 and, only while unhealthy,
 * <prefix>_unhealthy{reason="<the /healthz reason, escaped>"} 1.
 * GET and HEAD are served; any other method gets 405 with "Allow: GET, HEAD".
 * Connections idle for 10 s are closed; at most 64 are open at once.
 *
 * The registry is not thread-safe: register, update and render on the loop
 * thread only.
 */
#ifndef CM_HTTP_H
#define CM_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct cm_metrics;
struct cm_http;
/* A growable text buffer, embedded by the caller; zero-initialise it and
 * release data with cm_buf_free(). data is always NUL-terminated once used. */
struct cm_buf {
	char *data;
	size_t len, cap;
};

/** Append printf-style text (aborts on OOM). */
void cm_buf_printf(struct cm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Append raw bytes. */
void cm_buf_append(struct cm_buf *b, const void *p, size_t n);
void cm_buf_free(struct cm_buf *b);

/* --- metrics registry --------------------------------------------------- */

/** Caller owns *out; free with cm_metrics_free(). Never fails (aborts on OOM). */
struct cm_metrics *cm_metrics_new(const char *prefix /* e.g. "donthu_intake" */);
void cm_metrics_free(struct cm_metrics **m);
/** The prefix given to cm_metrics_new ("" for a NULL registry). */
const char *cm_metrics_prefix(const struct cm_metrics *m);

/** A counter or gauge identified by name and an optional label set
 * ("result=\"accepted\",reason=\"\""). Returned pointers stay valid until
 * cm_metrics_free; names and help are copied. The same name and labels give
 * the same pointer. The name (without prefix) must match
 * [a-zA-Z_:][a-zA-Z0-9_:]* and keep one kind; anything else is a programming
 * error and fatal (cm_require). Labels are written as given: the caller
 * escapes label values. */
uint64_t *cm_metrics_counter(struct cm_metrics *m, const char *name, const char *labels,
			     const char *help);
int64_t *cm_metrics_gauge(struct cm_metrics *m, const char *name, const char *labels,
			  const char *help);

/** A histogram with fixed bucket upper bounds (seconds, finite, strictly
 * ascending, copied; fatal otherwise). Registering a name again returns the
 * first histogram and ignores the new bounds. Observing NaN does nothing. */
struct cm_histogram;
struct cm_histogram *cm_metrics_histogram(struct cm_metrics *m, const char *name,
					  const char *help, const double *bounds, size_t n);
void cm_histogram_observe(struct cm_histogram *h, double value);

/** Render every metric in Prometheus text format, appended to out: one
 * # HELP / # TYPE per name, every series of a name together. m may be NULL. */
void cm_metrics_render(const struct cm_metrics *m, struct cm_buf *out);

/* --- HTTP listener ------------------------------------------------------ */

struct cm_http_ops {
	/** Return 0 when healthy, or fill reason (size bytes, NUL-terminated)
	 * and return nonzero. May be NULL (always healthy). */
	int (*health)(void *arg, char *reason, size_t size);
	/** Append extra metric lines (gauges read at scrape time). May be NULL. */
	void (*metrics_extra)(void *arg, struct cm_buf *out);
	/** Any other GET path (without the query string): fill out and content
	 * type, return the status, or 0 for 404; a status outside 100..599 is
	 * logged and answered 500. May be NULL. */
	int (*get)(void *arg, const char *path, struct cm_buf *out, const char **content_type);
};

/** Listen on host:port (host a numeric IPv4 or IPv6 address such as
 * "127.0.0.1" or "0.0.0.0"; port 0 picks one). metrics (may be NULL) and
 * arg are borrowed for the listener's life; *ops (may be NULL) is copied.
 * Caller owns *out (NULL on error); free with cm_http_free().
 * Errors: -EINVAL (host is not a numeric address), -EADDRINUSE, -EACCES and
 * other -errno from socket/bind/listen, -ENOMEM (microhttpd would not start),
 * negative libuv errors (watching microhttpd on the loop). */
int cm_http_start(uv_loop_t *loop, const char *host, uint16_t port, struct cm_metrics *metrics,
		  const struct cm_http_ops *ops, void *arg, struct cm_http **out);

/** The bound port (useful with port 0). */
uint16_t cm_http_port(const struct cm_http *h);

/** Stop listening and free (handles closed; microhttpd stopped and memory
 * freed in the last close callback, so the loop must run once more, e.g.
 * cm_loop_teardown). Safe inside an ops callback. Accepts a pointer to NULL;
 * sets *h to NULL. */
void cm_http_free(struct cm_http **h);

#endif

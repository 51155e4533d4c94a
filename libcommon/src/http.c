#include "common/http.h"
#include "common/log.h"
#include "common/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* A scrape endpoint has a handful of clients: these bound what a stuck or
 * hostile one can hold. */
#define HTTP_CONN_TIMEOUT_S 10u
#define HTTP_CONN_LIMIT 64u
#define HTTP_BACKLOG 64
#define HEALTH_REASON_MAX 256
/* MHD re-reports its deadline after every run, so this cap only keeps a
 * huge value from reaching uv_timer_start. */
#define TIMER_CAP_MS 3600000u

#define CT_TEXT "text/plain; charset=utf-8"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

struct cm_http {
	uv_poll_t poll;		/* MHD's epoll fd */
	uv_timer_t timer;	/* MHD's own deadline (timeouts, pending work) */
	struct MHD_Daemon *d;
	struct cm_metrics *metrics;
	struct cm_http_ops ops;
	void *arg;
	uint16_t port;
	int open;		/* handles not yet through their close callback */
	bool timer_inited, poll_inited;
	bool closing;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* MHD ends its messages with a newline; our lines carry their own. */
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	cm_log_warn(HTTP, "microhttpd: %s", msg);
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status,
			       const struct cm_buf *body, const char *content_type, bool allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(body->len, body->data ? body->data : "",
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO; /* MHD closes the connection */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A label value in the text format: backslash, double quote and newline are
 * the characters that must be escaped. */
static void put_label_value(struct cm_buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			cm_buf_append(out, "\\\\", 2);
		else if (*s == '"')
			cm_buf_append(out, "\\\"", 2);
		else if (*s == '\n')
			cm_buf_append(out, "\\n", 2);
		else
			cm_buf_append(out, s, 1);
	}
}

/*
 * The same verdict as /healthz, so a scraper that never calls /healthz still
 * sees why a service stopped consuming or storing. Every service gets it from
 * here, not from its own metrics_extra, so the names are the same everywhere.
 */
static void put_health(struct cm_http *h, struct cm_buf *out)
{
	char reason[HEALTH_REASON_MAX] = "";
	const char *p = cm_metrics_prefix(h->metrics);
	const char *sep = *p ? "_" : "";
	bool bad = h->ops.health && h->ops.health(h->arg, reason, sizeof(reason)) != 0;

	reason[sizeof(reason) - 1] = '\0';
	cm_buf_printf(out,
		      "# HELP %s%shealthy 1 when /healthz answers ok, 0 when it answers 503\n"
		      "# TYPE %s%shealthy gauge\n"
		      "%s%shealthy %d\n",
		      p, sep, p, sep, p, sep, bad ? 0 : 1);
	if (!bad)
		return;
	cm_buf_printf(out,
		      "# HELP %s%sunhealthy Why /healthz answers 503 (present only then)\n"
		      "# TYPE %s%sunhealthy gauge\n"
		      "%s%sunhealthy{reason=\"",
		      p, sep, p, sep, p, sep);
	put_label_value(out, reason[0] ? reason : "unspecified");
	cm_buf_printf(out, "\"} 1\n");
}

static unsigned route(struct cm_http *h, const char *url, struct cm_buf *body,
		      const char **ctype)
{
	if (strcmp(url, "/healthz") == 0) {
		char reason[HEALTH_REASON_MAX] = "";

		if (!h->ops.health || h->ops.health(h->arg, reason, sizeof(reason)) == 0) {
			cm_buf_printf(body, "ok\n");
			return MHD_HTTP_OK;
		}
		reason[sizeof(reason) - 1] = '\0';
		cm_buf_printf(body, "unhealthy: %s\n", reason[0] ? reason : "unspecified");
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	if (strcmp(url, "/metrics") == 0) {
		cm_metrics_render(h->metrics, body);
		if (h->ops.metrics_extra)
			h->ops.metrics_extra(h->arg, body);
		put_health(h, body);
		*ctype = CT_METRICS;
		return MHD_HTTP_OK;
	}
	if (h->ops.get) {
		int status = h->ops.get(h->arg, url, body, ctype);

		if (status >= 100 && status <= 599)
			return (unsigned)status;
		if (status != 0) {
			cm_log_warn(HTTP, "handler for %s returned status %d", url, status);
			body->len = 0;
			*ctype = CT_TEXT;
			cm_buf_printf(body, "internal error\n");
			return MHD_HTTP_INTERNAL_SERVER_ERROR;
		}
	}
	body->len = 0;
	*ctype = CT_TEXT;
	cm_buf_printf(body, "not found\n");
	return MHD_HTTP_NOT_FOUND;
}

/* Marks a request whose first call we have seen; no state is needed beyond it. */
static char request_seen;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct cm_http *h = cls;
	struct cm_buf body = {0};
	const char *ctype = CT_TEXT;
	unsigned status;
	bool allow = false;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		/* Refused on the first call, before any body is read: MHD then
		 * closes the connection instead of reading it. */
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		cm_buf_printf(&body, "method not allowed\n");
		allow = true;
		goto reply;
	}
	/* Answering a GET on the first call, before MHD has seen the whole
	 * request, makes it close the connection: wait for the last call so
	 * keep-alive works. A body sent with a GET is read and dropped. */
	if (!*con_cls) {
		*con_cls = &request_seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	status = route(h, url, &body, &ctype);
reply:
	cm_log_debug(HTTP, "%s %s -> %u", method, url, status);
	ret = respond(conn, status, &body, ctype ? ctype : CT_TEXT, allow);
	cm_buf_free(&body);
	return ret;
}

static void on_timer(uv_timer_t *t);

/* MHD must run again no later than its timeout; MHD_NO means it waits for
 * its fds only. A zero timeout (work MHD left pending, such as data it has
 * buffered but not yet parsed) runs it on the next loop iteration. */
static void arm_timer(struct cm_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (h->closing)
		return;
	if (MHD_get_timeout(h->d, &ms) == MHD_YES)
		uv_timer_start(&h->timer, on_timer, ms > TIMER_CAP_MS ? TIMER_CAP_MS : (uint64_t)ms,
			       0);
	else
		uv_timer_stop(&h->timer);
}

static void drive(struct cm_http *h)
{
	if (h->closing)
		return;
	if (MHD_run(h->d) != MHD_YES)
		cm_log_warn(HTTP, "MHD_run failed");
	/* A handler may have called cm_http_free. */
	arm_timer(h);
}

static void on_timer(uv_timer_t *t)
{
	drive(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)events;
	if (status < 0)
		cm_log_warn_err(HTTP, status, "polling the microhttpd epoll fd");
	drive(p->data);
}

static void on_closed(uv_handle_t *handle)
{
	struct cm_http *h = handle->data;

	if (--h->open > 0)
		return;
	/* libuv no longer watches MHD's epoll fd, so MHD may close it now. */
	if (h->d)
		MHD_stop_daemon(h->d);
	free(h);
}

/* Close whatever handles exist; h is freed (and MHD stopped) once they are. */
static void release(struct cm_http *h)
{
	if (h->closing)
		return;
	h->closing = true;
	if (h->open == 0) {
		if (h->d)
			MHD_stop_daemon(h->d);
		free(h);
		return;
	}
	/* uv_close stops the poll at once, so MHD's fd is unwatched before the
	 * close callback lets MHD close it. */
	if (h->poll_inited && !uv_is_closing((uv_handle_t *)&h->poll))
		uv_close((uv_handle_t *)&h->poll, on_closed);
	if (h->timer_inited && !uv_is_closing((uv_handle_t *)&h->timer))
		uv_close((uv_handle_t *)&h->timer, on_closed);
}

/*
 * We bind the socket ourselves (rather than MHD_OPTION_SOCK_ADDR) so a busy
 * port comes back as -EADDRINUSE instead of an anonymous NULL from MHD.
 */
static int open_listener(const char *host, uint16_t port, int *out_fd, uint16_t *out_port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, err;

	memset(&ss, 0, sizeof(ss));
	if (host && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	} else if (host && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	} else {
		return -EINVAL;
	}

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A restarted service must not wait out TIME_WAIT on its own port. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, HTTP_BACKLOG) != 0)
		goto fail;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		goto fail;
	*out_port = ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port);
	*out_fd = fd;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* Whether fd is still the socket identified by st (MHD may or may not have
 * closed it when it fails to start, depending on where it failed). */
static bool same_file(int fd, const struct stat *st)
{
	struct stat now;

	return fstat(fd, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

int cm_http_start(uv_loop_t *loop, const char *host, uint16_t port, struct cm_metrics *metrics,
		  const struct cm_http_ops *ops, void *arg, struct cm_http **out)
{
	struct cm_http *h = NULL;
	const union MHD_DaemonInfo *info;
	struct stat st;
	int fd = -1, err;

	*out = NULL;
	if (!loop)
		return -EINVAL;
	h = cm_xcalloc(1, sizeof(*h));
	h->metrics = metrics;
	if (ops)
		h->ops = *ops;
	h->arg = arg;

	err = open_listener(host, port, &fd, &h->port);
	if (err) {
		cm_log_error_err(HTTP, err, "cannot listen on %s:%u", host ? host : "(null)",
				 (unsigned)port);
		free(h);
		return err;
	}
	if (fstat(fd, &st) != 0) {
		err = -errno;
		close(fd);
		free(h);
		return err;
	}

	errno = 0;
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				MHD_OPTION_CONNECTION_TIMEOUT, HTTP_CONN_TIMEOUT_S,
				MHD_OPTION_CONNECTION_LIMIT, HTTP_CONN_LIMIT,
				MHD_OPTION_END);
	if (!h->d) {
		err = errno > 0 ? -errno : -ENOMEM;
		if (same_file(fd, &st))
			close(fd);
		cm_log_error_err(HTTP, err, "microhttpd did not start");
		free(h);
		return err;
	}
	/* From here MHD owns fd and closes it in MHD_stop_daemon. */

	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		err = -EINVAL;
		goto fail;
	}
	err = uv_timer_init(loop, &h->timer);
	if (err)
		goto fail;
	h->timer.data = h;
	h->timer_inited = true;
	h->open++;
	err = uv_poll_init(loop, &h->poll, info->epoll_fd);
	if (err)
		goto fail;
	h->poll.data = h;
	h->poll_inited = true;
	h->open++;
	err = uv_poll_start(&h->poll, UV_READABLE, on_poll);
	if (err)
		goto fail;
	arm_timer(h);
	cm_log_info(HTTP, "listening on http://%s:%u", host, (unsigned)h->port);
	*out = h;
	return 0;

fail:
	cm_log_error_err(HTTP, err, "cannot watch microhttpd on the loop");
	release(h);
	return err;
}

uint16_t cm_http_port(const struct cm_http *h)
{
	return h ? h->port : 0;
}

void cm_http_free(struct cm_http **ph)
{
	struct cm_http *h = ph ? *ph : NULL;

	if (!h)
		return;
	release(h);
	*ph = NULL;
}

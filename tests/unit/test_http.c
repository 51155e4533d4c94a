#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/http.h"
#include "common/loop.h"

/* --- registry and buffer, no network ------------------------------------ */

static void test_buf(void **state)
{
	struct cm_buf b = {0};
	(void)state;

	cm_buf_append(&b, "", 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	for (int i = 0; i < 1000; i++)
		cm_buf_printf(&b, "%d,", i % 10);
	assert_int_equal(b.len, 2000);
	assert_int_equal(strlen(b.data), 2000);
	assert_memory_equal(b.data + 1990, "5,6,7,8,9,", 10);
	cm_buf_append(&b, "x\0y", 3);
	assert_int_equal(b.len, 2003);
	assert_memory_equal(b.data + 2000, "x\0y", 4);
	cm_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	cm_buf_free(&b);
}

static const char expected_render[] =
	"# HELP donthu_test_requests_total Requests by result.\n"
	"# TYPE donthu_test_requests_total counter\n"
	"donthu_test_requests_total{result=\"accepted\"} 3\n"
	"donthu_test_requests_total{result=\"rejected\"} 1\n"
	"# HELP donthu_test_queue_depth Items waiting.\\nA \\\\ here.\n"
	"# TYPE donthu_test_queue_depth gauge\n"
	"donthu_test_queue_depth -2\n"
	"# TYPE donthu_test_bare_total counter\n"
	"donthu_test_bare_total 0\n"
	"# HELP donthu_test_latency_seconds Handler latency.\n"
	"# TYPE donthu_test_latency_seconds histogram\n"
	"donthu_test_latency_seconds_bucket{le=\"0.25\"} 1\n"
	"donthu_test_latency_seconds_bucket{le=\"0.5\"} 2\n"
	"donthu_test_latency_seconds_bucket{le=\"1\"} 2\n"
	"donthu_test_latency_seconds_bucket{le=\"2.5\"} 2\n"
	"donthu_test_latency_seconds_bucket{le=\"+Inf\"} 3\n"
	"donthu_test_latency_seconds_sum 3.625\n"
	"donthu_test_latency_seconds_count 3\n";

static void test_metrics_render(void **state)
{
	static const double bounds[] = {0.25, 0.5, 1, 2.5};
	struct cm_metrics *m = cm_metrics_new("donthu_test");
	struct cm_buf out = {0};
	(void)state;

	uint64_t *acc = cm_metrics_counter(m, "requests_total", "result=\"accepted\"",
					   "Requests by result.");
	int64_t *depth = cm_metrics_gauge(m, "queue_depth", NULL, "Items waiting.\nA \\ here.");
	uint64_t *rej = cm_metrics_counter(m, "requests_total", "result=\"rejected\"", "ignored");
	(void)cm_metrics_counter(m, "bare_total", "", NULL);
	struct cm_histogram *lat =
		cm_metrics_histogram(m, "latency_seconds", "Handler latency.", bounds, 4);

	assert_ptr_equal(cm_metrics_counter(m, "requests_total", "result=\"accepted\"", NULL), acc);
	assert_ptr_equal(cm_metrics_histogram(m, "latency_seconds", NULL, NULL, 0), lat);
	*acc += 3;
	*rej += 1;
	*depth = -2;
	cm_histogram_observe(lat, 0.25);	/* le is inclusive */
	cm_histogram_observe(lat, 0.375);
	cm_histogram_observe(lat, 3);
	cm_histogram_observe(lat, NAN);	/* ignored */

	cm_metrics_render(m, &out);
	assert_string_equal(out.data, expected_render);
	assert_string_equal(cm_metrics_prefix(m), "donthu_test");
	cm_buf_free(&out);
	cm_metrics_free(&m);
	assert_null(m);
	cm_metrics_free(&m);

	assert_string_equal(cm_metrics_prefix(NULL), "");

	/* Without a prefix, names stand alone. */
	m = cm_metrics_new("");
	*cm_metrics_gauge(m, "up", NULL, NULL) = 1;
	cm_metrics_render(m, &out);
	assert_string_equal(out.data, "# TYPE up gauge\nup 1\n");
	cm_buf_free(&out);
	cm_metrics_free(&m);
}

/* --- the listener, driven by a blocking client on another thread -------- */

#define MAX_RESP 128

struct resp {
	int status;		/* -errno when the exchange failed */
	char *head;		/* status line and headers */
	char *body;
};

struct harness {
	uv_loop_t loop;
	uv_async_t done;
	uv_thread_t thread;
	struct cm_http *http;
	struct cm_metrics *metrics;
	uint16_t port;
	void (*client)(struct harness *);
	bool client_signalled;	/* the client already sent done itself */
	atomic_int unhealthy;
	struct resp resp[MAX_RESP];
	int nresp;
};

static int health(void *arg, char *reason, size_t size)
{
	struct harness *hs = arg;

	switch (atomic_load(&hs->unhealthy)) {
	case 0:
		return 0;
	case 2:
		/* Every character the text format escapes in a label value. */
		snprintf(reason, size, "cannot apply \"batch\" at C:\\db\nretrying");
		return 1;
	case 3:
		return 1; /* no reason given */
	default:
		snprintf(reason, size, "store is read-only");
		return 1;
	}
}

static void metrics_extra(void *arg, struct cm_buf *out)
{
	(void)arg;
	cm_buf_printf(out, "donthu_test_extra_gauge 42\n");
}

static int get(void *arg, const char *path, struct cm_buf *out, const char **content_type)
{
	(void)arg;
	if (strcmp(path, "/custom") == 0) {
		cm_buf_printf(out, "{\"x\":1}\n");
		*content_type = "application/json";
		return 200;
	}
	if (strcmp(path, "/broken") == 0)
		return 42;
	if (strcmp(path, "/quit") == 0) {
		struct harness *hs = arg;

		/* The listener is freed from inside its own handler. */
		cm_http_free(&hs->http);
		cm_buf_printf(out, "bye\n");
		return 200;
	}
	return 0;
}

static const struct cm_http_ops ops = {
	.health = health,
	.metrics_extra = metrics_extra,
	.get = get,
};

static int dial(uint16_t port)
{
	struct sockaddr_in sin;
	struct timeval tv = {.tv_sec = 5};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* Only a backstop so a stalled server fails the test instead of
	 * hanging it; nothing is asserted about speed. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int send_all(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Read one response from fd. With content-length known the body is read
 * exactly (keep-alive); otherwise until EOF. buf holds leftovers between
 * calls on one connection.
 */
static struct resp read_response(int fd, bool head_only)
{
	struct resp r = {0};
	char buf[65536];
	size_t len = 0;
	char *end = NULL;
	long clen = -1;

	for (;;) {
		ssize_t n;

		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end) {
			const char *cl = strcasestr(buf, "\r\ncontent-length:");
			if (cl && cl < end)
				clen = strtol(cl + 17, NULL, 10);
			if (head_only)
				clen = 0;
			if (clen >= 0 && len >= (size_t)(end + 4 - buf) + (size_t)clen)
				break;
		}
		if (len == sizeof(buf) - 1) {
			r.status = -EMSGSIZE;
			return r;
		}
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n < 0) {
			r.status = -errno;
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	end = strstr(buf, "\r\n\r\n");
	if (!end || sscanf(buf, "HTTP/1.%*d %d", &r.status) != 1) {
		r.status = -EPROTO;
		return r;
	}
	r.head = strndup(buf, (size_t)(end - buf));
	r.body = strdup(end + 4);
	return r;
}

static void record(struct harness *hs, struct resp r)
{
	if (hs->nresp < MAX_RESP)
		hs->resp[hs->nresp++] = r;
}

/* One request on a fresh connection that the server closes after it. */
static void exchange(struct harness *hs, const char *method, const char *path, const char *extra)
{
	char req[512];
	struct resp r = {0};
	int fd = dial(hs->port);

	if (fd < 0) {
		r.status = fd;
		record(hs, r);
		return;
	}
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s",
		 method, path, extra ? extra : "\r\n");
	r.status = send_all(fd, req);
	if (r.status == 0)
		r = read_response(fd, strcmp(method, "HEAD") == 0);
	close(fd);
	record(hs, r);
}

static void client_main(void *arg)
{
	struct harness *hs = arg;

	hs->client(hs);
	if (!hs->client_signalled)
		uv_async_send(&hs->done);
}

static void on_done(uv_async_t *a)
{
	struct harness *hs = a->data;

	cm_http_free(&hs->http);
	assert_null(hs->http);
	uv_close((uv_handle_t *)a, NULL);
}

/* prepare (may be NULL) fills the registry as a service does at start-up. */
static void run_with_client(void (*client)(struct harness *), void (*prepare)(struct harness *),
			    struct harness *hs)
{
	memset(hs, 0, sizeof(*hs));
	hs->client = client;
	assert_int_equal(uv_loop_init(&hs->loop), 0);
	hs->metrics = cm_metrics_new("donthu_test");
	if (prepare)
		prepare(hs);
	assert_int_equal(cm_http_start(&hs->loop, "127.0.0.1", 0, hs->metrics, &ops, hs,
				       &hs->http),
			 0);
	hs->port = cm_http_port(hs->http);
	assert_true(hs->port != 0);
	assert_int_equal(uv_async_init(&hs->loop, &hs->done, on_done), 0);
	hs->done.data = hs;

	assert_int_equal(uv_thread_create(&hs->thread, client_main, hs), 0);
	assert_int_equal(uv_run(&hs->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_thread_join(&hs->thread), 0);
	assert_null(hs->http);
	assert_int_equal(uv_loop_close(&hs->loop), 0);
}

static void release_harness(struct harness *hs)
{
	for (int i = 0; i < hs->nresp; i++) {
		free(hs->resp[i].head);
		free(hs->resp[i].body);
	}
	cm_metrics_free(&hs->metrics);
}

static void routes_client(struct harness *hs)
{
	exchange(hs, "GET", "/healthz", NULL);
	atomic_store(&hs->unhealthy, 1);
	exchange(hs, "GET", "/healthz", NULL);
	atomic_store(&hs->unhealthy, 0);
	exchange(hs, "GET", "/metrics", NULL);
	exchange(hs, "GET", "/nope", NULL);
	exchange(hs, "POST", "/healthz", "Content-Length: 5\r\n\r\nhello");
	exchange(hs, "DELETE", "/metrics", NULL);
	exchange(hs, "GET", "/custom", NULL);
	exchange(hs, "GET", "/broken", NULL);
	exchange(hs, "HEAD", "/healthz", NULL);
	exchange(hs, "GET", "/healthz?verbose=1", NULL);
}

static void assert_resp(const struct resp *r, int status, const char *body)
{
	if (r->status != status)
		fail_msg("status %d, want %d", r->status, status);
	if (body)
		assert_string_equal(r->body, body);
}

static void test_routes(void **state)
{
	struct harness *hs = calloc(1, sizeof(*hs));
	(void)state;

	assert_non_null(hs);
	run_with_client(routes_client, NULL, hs);
	assert_int_equal(hs->nresp, 10);

	struct resp *r = hs->resp;
	assert_resp(&r[0], 200, "ok\n");
	assert_non_null(strcasestr(r[0].head, "content-type: text/plain"));
	assert_resp(&r[1], 503, "unhealthy: store is read-only\n");
	assert_resp(&r[2], 200, NULL);
	assert_non_null(strcasestr(r[2].head, "content-type: text/plain; version=0.0.4"));
	assert_non_null(strstr(r[2].body, "donthu_test_extra_gauge 42\n"));
	assert_non_null(strstr(r[2].body, "# TYPE donthu_test_healthy gauge\ndonthu_test_healthy 1\n"));
	assert_null(strstr(r[2].body, "unhealthy"));
	assert_resp(&r[3], 404, "not found\n");
	assert_resp(&r[4], 405, NULL);
	assert_non_null(strcasestr(r[4].head, "allow: GET, HEAD"));
	assert_resp(&r[5], 405, NULL);
	assert_resp(&r[6], 200, "{\"x\":1}\n");
	assert_non_null(strcasestr(r[6].head, "content-type: application/json"));
	assert_resp(&r[7], 500, NULL);
	assert_resp(&r[8], 200, "");
	assert_resp(&r[9], 200, "ok\n");
	release_harness(hs);
	free(hs);
}

static void health_metrics_client(struct harness *hs)
{
	for (int i = 1; i <= 3; i++) {
		atomic_store(&hs->unhealthy, i);
		exchange(hs, "GET", "/metrics", NULL);
	}
	atomic_store(&hs->unhealthy, 2);
	exchange(hs, "GET", "/healthz", NULL);
	atomic_store(&hs->unhealthy, 0);
	exchange(hs, "GET", "/metrics", NULL);
}

/* /metrics carries the /healthz verdict and its reason as a label. */
static void test_metrics_health(void **state)
{
	struct harness *hs = calloc(1, sizeof(*hs));
	(void)state;

	assert_non_null(hs);
	run_with_client(health_metrics_client, NULL, hs);
	assert_int_equal(hs->nresp, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(hs->resp[i].status, i == 3 ? 503 : 200);
	assert_non_null(strstr(hs->resp[0].body,
			       "# TYPE donthu_test_healthy gauge\n"
			       "donthu_test_healthy 0\n"
			       "# HELP donthu_test_unhealthy Why /healthz answers 503 (present only then)\n"
			       "# TYPE donthu_test_unhealthy gauge\n"
			       "donthu_test_unhealthy{reason=\"store is read-only\"} 1\n"));
	assert_non_null(strstr(hs->resp[1].body,
			       "donthu_test_unhealthy{reason=\"cannot apply \\\"batch\\\" at "
			       "C:\\\\db\\nretrying\"} 1\n"));
	assert_non_null(strstr(hs->resp[2].body, "donthu_test_unhealthy{reason=\"unspecified\"} 1\n"));
	/* /healthz itself gives the reason unescaped. */
	assert_string_equal(hs->resp[3].body, "unhealthy: cannot apply \"batch\" at C:\\db\nretrying\n");
	assert_non_null(strstr(hs->resp[4].body, "donthu_test_healthy 1\n"));
	assert_null(strstr(hs->resp[4].body, "unhealthy"));
	release_harness(hs);
	free(hs);
}

static void metrics_client(struct harness *hs)
{
	exchange(hs, "GET", "/metrics", NULL);
}

static void fill_metrics(struct harness *hs)
{
	static const double bounds[] = {0.001, 0.01, 0.1};
	struct cm_histogram *lat;

	*cm_metrics_counter(hs->metrics, "accepted_total", "kind=\"petition\"", "Accepted.") = 7;
	lat = cm_metrics_histogram(hs->metrics, "handle_seconds", "Handling time.", bounds, 3);
	cm_histogram_observe(lat, 0.005);
}

static void test_metrics_endpoint(void **state)
{
	struct harness *hs = calloc(1, sizeof(*hs));
	(void)state;

	assert_non_null(hs);
	run_with_client(metrics_client, fill_metrics, hs);

	assert_int_equal(hs->nresp, 1);
	assert_resp(&hs->resp[0], 200, NULL);
	const char *b = hs->resp[0].body;
	assert_non_null(strstr(b, "# TYPE donthu_test_accepted_total counter\n"));
	assert_non_null(strstr(b, "donthu_test_accepted_total{kind=\"petition\"} 7\n"));
	assert_non_null(strstr(b, "donthu_test_handle_seconds_bucket{le=\"0.001\"} 0\n"));
	assert_non_null(strstr(b, "donthu_test_handle_seconds_bucket{le=\"0.01\"} 1\n"));
	assert_non_null(strstr(b, "donthu_test_handle_seconds_bucket{le=\"+Inf\"} 1\n"));
	assert_non_null(strstr(b, "donthu_test_handle_seconds_count 1\n"));
	release_harness(hs);
	free(hs);
}

#define SEQUENTIAL 50
#define KEEPALIVE 20
#define PARALLEL 8

static void many_client(struct harness *hs)
{
	int fds[PARALLEL];

	for (int i = 0; i < SEQUENTIAL; i++)
		exchange(hs, "GET", i % 2 ? "/metrics" : "/healthz", NULL);

	/* Several requests on one connection: MHD must keep being run for a
	 * connection that stays open between requests. */
	int fd = dial(hs->port);
	for (int i = 0; i < KEEPALIVE; i++) {
		struct resp r = {.status = fd};

		if (fd >= 0)
			r.status = send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
		if (fd >= 0 && r.status == 0)
			r = read_response(fd, false);
		record(hs, r);
	}
	if (fd >= 0)
		close(fd);

	/* Connections open at the same time, answered in any order. */
	for (int i = 0; i < PARALLEL; i++) {
		fds[i] = dial(hs->port);
		if (fds[i] >= 0 &&
		    send_all(fds[i], "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
			fds[i] = -EIO;
	}
	for (int i = PARALLEL - 1; i >= 0; i--) {
		struct resp r = {.status = fds[i]};

		if (fds[i] >= 0) {
			r = read_response(fds[i], false);
			close(fds[i]);
		}
		record(hs, r);
	}
}

static void test_many_requests(void **state)
{
	struct harness *hs = calloc(1, sizeof(*hs));
	(void)state;

	assert_non_null(hs);
	run_with_client(many_client, NULL, hs);
	assert_int_equal(hs->nresp, SEQUENTIAL + KEEPALIVE + PARALLEL);
	for (int i = 0; i < hs->nresp; i++) {
		if (hs->resp[i].status != 200)
			fail_msg("request %d: status %d", i, hs->resp[i].status);
	}
	release_harness(hs);
	free(hs);
}

/* A client that connects and sends half a request, then the server goes
 * away under it: the connection is dropped, nothing hangs or leaks. */
static void half_client(struct harness *hs)
{
	int fd = dial(hs->port);
	struct resp r = {.status = fd};

	if (fd >= 0) {
		r.status = send_all(fd, "GET /hea");
		/* Let the loop free the server while this request is unfinished. */
		hs->client_signalled = true;
		uv_async_send(&hs->done);
		if (r.status == 0)
			r = read_response(fd, false);
		close(fd);
	}
	record(hs, r);
}

static void test_free_with_open_connection(void **state)
{
	struct harness *hs = calloc(1, sizeof(*hs));
	(void)state;

	assert_non_null(hs);
	run_with_client(half_client, NULL, hs);
	assert_int_equal(hs->nresp, 1);
	/* Closed without an answer: EOF (no status line) or a reset. */
	assert_true(hs->resp[0].status == -EPROTO || hs->resp[0].status == -ECONNRESET);
	release_harness(hs);
	free(hs);
}

static void quit_client(struct harness *hs)
{
	exchange(hs, "GET", "/quit", NULL);
}

static void test_free_inside_handler(void **state)
{
	struct harness *hs = calloc(1, sizeof(*hs));
	(void)state;

	assert_non_null(hs);
	run_with_client(quit_client, NULL, hs);
	assert_int_equal(hs->nresp, 1);
	/* The answer may or may not leave before the daemon stops. */
	assert_true(hs->resp[0].status == 200 || hs->resp[0].status == -EPROTO ||
		    hs->resp[0].status == -ECONNRESET);
	release_harness(hs);
	free(hs);
}

static void test_start_errors(void **state)
{
	uv_loop_t loop;
	struct cm_http *h = (struct cm_http *)1;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(cm_http_start(&loop, "localhost", 0, NULL, NULL, NULL, &h), -EINVAL);
	assert_null(h);
	assert_int_equal(cm_http_start(&loop, "127.0.0.300", 0, NULL, NULL, NULL, &h), -EINVAL);
	assert_int_equal(cm_http_start(&loop, NULL, 0, NULL, NULL, NULL, &h), -EINVAL);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(cm_http_start(&loop, "127.0.0.1", ntohs(sin.sin_port), NULL, NULL, NULL,
				       &h),
			 -EADDRINUSE);
	assert_null(h);
	close(fd);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* No ops and no registry: health is "ok", metrics empty; freed before the
 * loop ever runs, teardown still finishes the job. */
static void test_minimal_and_early_free(void **state)
{
	uv_loop_t loop;
	struct cm_http *h = NULL;
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(cm_http_start(&loop, "127.0.0.1", 0, NULL, NULL, NULL, &h), 0);
	assert_true(cm_http_port(h) != 0);
	cm_http_free(&h);
	assert_null(h);
	cm_http_free(&h);
	assert_int_equal(cm_loop_teardown(&loop), 0);
	assert_int_equal(cm_http_port(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_metrics_render),
		cmocka_unit_test(test_start_errors),
		cmocka_unit_test(test_minimal_and_early_free),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_metrics_endpoint),
		cmocka_unit_test(test_metrics_health),
		cmocka_unit_test(test_many_requests),
		cmocka_unit_test(test_free_with_open_connection),
		cmocka_unit_test(test_free_inside_handler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "common/log.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *service_name = "donthu";
static unsigned char levels[CM_LG_COUNT];

static const char *const group_names[CM_LG_COUNT] = {
	"main", "loop", "zmq", "store", "feed", "http", "config",
	"intake", "routing", "deadline", "report", "audit",
};
static const char *const level_names[] = {"debug", "info", "notice", "warn", "error", "off"};

void cm_log_set_service(const char *name)
{
	service_name = name ? name : "donthu";
}

static int parse_level(const char *s, size_t n)
{
	for (int i = 0; i <= CM_LOG_OFF; i++)
		if (strlen(level_names[i]) == n && strncasecmp(s, level_names[i], n) == 0)
			return i;
	return -1;
}

static int parse_group(const char *s, size_t n)
{
	for (int i = 0; i < CM_LG_COUNT; i++)
		if (strlen(group_names[i]) == n && strncasecmp(s, group_names[i], n) == 0)
			return i;
	return -1;
}

int cm_log_configure(const char *spec)
{
	unsigned char next[CM_LG_COUNT];

	memset(next, CM_LOG_INFO, sizeof(next));
	while (spec && *spec) {
		size_t len = strcspn(spec, ",");
		const char *eq = memchr(spec, '=', len);
		if (eq) {
			int g = parse_group(spec, (size_t)(eq - spec));
			int l = parse_level(eq + 1, len - (size_t)(eq - spec) - 1);
			if (g < 0 || l < 0)
				return CM_ECONFIG;
			next[g] = (unsigned char)l;
		} else if (len) {
			int l = parse_level(spec, len);
			if (l < 0)
				return CM_ECONFIG;
			memset(next, l, sizeof(next));
			/* An explicit default must not silence the audit trail. */
			if (l > CM_LOG_INFO)
				next[CM_LG_AUDIT] = CM_LOG_INFO;
		}
		spec += len;
		if (*spec == ',')
			spec++;
	}
	memcpy(levels, next, sizeof(levels));
	return 0;
}

int cm_log_enabled(enum cm_log_group g, enum cm_log_level lvl)
{
	static int configured;
	if (!configured) {
		configured = 1;
		if (cm_log_configure(getenv("DONTHU_LOG")) != 0)
			cm_log_configure(NULL);
	}
	return (unsigned)g < CM_LG_COUNT && lvl >= levels[g];
}

/* Append s to buf as a JSON string body, escaping what JSON requires. Bytes
 * >= 0x80 pass through: messages are UTF-8 by construction. */
static size_t json_escape(char *buf, size_t cap, size_t at, const char *s)
{
	for (; *s && at + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[at++] = '\\';
			buf[at++] = (char)c;
		} else if (c == '\n') {
			buf[at++] = '\\';
			buf[at++] = 'n';
		} else if (c < 0x20) {
			at += (size_t)snprintf(buf + at, cap - at, "\\u%04x", c);
		} else {
			buf[at++] = (char)c;
		}
	}
	return at;
}

static void vwrite_line(enum cm_log_group g, enum cm_log_level lvl, int err, const char *fmt,
			va_list ap)
{
	char msg[2048], line[4096], ts[32];
	struct timespec now;
	struct tm tm;
	size_t at;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Log timestamps are always the real clock: a simulated clock is a
	 * property of the domain, not of the operator's log. */
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	at = (size_t)snprintf(line, sizeof(line),
			      "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"svc\":\"%s\",\"group\":\"%s\","
			      "\"msg\":\"",
			      ts, now.tv_nsec / 1000000, level_names[lvl], service_name,
			      group_names[g]);
	at = json_escape(line, sizeof(line) - 64, at, msg);
	at += (size_t)snprintf(line + at, sizeof(line) - at, "\"");
	if (err) {
		at += (size_t)snprintf(line + at, sizeof(line) - at, ",\"err\":\"%s\",\"errmsg\":\"",
				       cm_errname(err));
		at = json_escape(line, sizeof(line) - 8, at, cm_strerror(err));
		at += (size_t)snprintf(line + at, sizeof(line) - at, "\"");
	}
	at += (size_t)snprintf(line + at, sizeof(line) - at, "}\n");
	if (at > sizeof(line))
		at = sizeof(line);
	/* One write keeps lines whole when threads or processes share stderr. */
	ssize_t wr = write(STDERR_FILENO, line, at);
	(void)wr;
}

void cm_log_write(enum cm_log_group g, enum cm_log_level lvl, int err, const char *fmt, ...)
{
	va_list ap;

	if (!cm_log_enabled(g, lvl))
		return;
	va_start(ap, fmt);
	vwrite_line(g, lvl, err, fmt, ap);
	va_end(ap);
}

void cm_fatal(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwrite_line(CM_LG_MAIN, CM_LOG_ERROR, err, fmt, ap);
	va_end(ap);
	exit(1);
}

#include "common/mem.h"
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	cm_log_error(MAIN, "out of memory allocating %zu bytes", n);
	abort();
}

void *cm_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *cm_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(nmemb * size);
	return p;
}

void *cm_xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

char *cm_xstrdup(const char *s)
{
	return cm_xstrndup(s, strlen(s));
}

char *cm_xstrndup(const char *s, size_t n)
{
	char *p = cm_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *cm_xasprintf(const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	char *p;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		cm_require_failed("vsnprintf", __FILE__, __LINE__);
	p = cm_xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

void cm_require_failed(const char *expr, const char *file, int line)
{
	cm_log_error(MAIN, "requirement failed: %s at %s:%d", expr, file, line);
	abort();
}

bool cm_assert_failed(const char *expr, const char *file, int line)
{
	const char *a = getenv("CM_ASSERT_ABORT");
	cm_log_error(MAIN, "assertion failed: %s at %s:%d", expr, file, line);
	if (a && a[0] == '1')
		abort();
	return true;
}

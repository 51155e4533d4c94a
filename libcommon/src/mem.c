#include "common/mem.h"
#include "common/log.h"

#include <stdarg.h>
#include <stddef.h>
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

struct cm_arena_chunk {
	struct cm_arena_chunk *next;
	size_t cap, used;
	max_align_t data[];
};

#define ARENA_DEFAULT_CHUNK ((size_t)64 << 10)
/* The most a reset keeps for the next round. */
#define ARENA_KEEP_MAX ((size_t)8 << 20)
#define ARENA_ALIGN (_Alignof(max_align_t))

void cm_arena_init(struct cm_arena *a, size_t chunk)
{
	a->head = NULL;
	a->chunk = chunk ? chunk : ARENA_DEFAULT_CHUNK;
	a->total = 0;
}

static struct cm_arena_chunk *arena_chunk(size_t cap)
{
	struct cm_arena_chunk *c = cm_xmalloc(sizeof(*c) + cap);

	c->next = NULL;
	c->cap = cap;
	c->used = 0;
	return c;
}

void *cm_arena_alloc(struct cm_arena *a, size_t n)
{
	struct cm_arena_chunk *c = a->head;
	size_t need = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	void *p;

	if (need < n)
		oom(n);
	if (!c || c->cap - c->used < need) {
		c = arena_chunk(need > a->chunk ? need : a->chunk);
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	a->total += need;
	return p;
}

void cm_arena_reset(struct cm_arena *a)
{
	struct cm_arena_chunk *c = a->head;
	size_t want = a->total > a->chunk ? a->total : a->chunk;

	if (!c)
		return;
	if (!c->next && c->cap <= ARENA_KEEP_MAX) {
		c->used = 0;
		a->total = 0;
		return;
	}
	/* Several chunks were needed: replace them by one that holds the whole
	 * round, so the next round of the same size needs no malloc at all;
	 * but one hostile round must not pin its memory for good. */
	cm_arena_free(a);
	if (want <= ARENA_KEEP_MAX)
		a->head = arena_chunk(want);
}

void cm_arena_free(struct cm_arena *a)
{
	struct cm_arena_chunk *c = a->head;

	while (c) {
		struct cm_arena_chunk *next = c->next;

		free(c);
		c = next;
	}
	a->head = NULL;
	a->total = 0;
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

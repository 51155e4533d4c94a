/*
 * mem.h - allocation that never returns NULL, and "should not happen" checks.
 *
 * Out of memory aborts (after logging the size): the process is restarted by
 * its supervisor and at-least-once delivery redoes the work in flight, which
 * keeps ENOMEM branches out of every handler.
 *
 * Three kinds of "this should not happen":
 *  - cm_require(expr): always fatal; for invariants whose breach would corrupt state.
 *  - cm_fails_assert(expr): logs file:line and evaluates to true on failure so
 *    the caller recovers; aborts instead when CM_ASSERT_ABORT=1 (tests, CI).
 *  - bad input: never asserted; functions return CM_EINVALID / CM_EDECODE.
 */
#ifndef CM_MEM_H
#define CM_MEM_H

#include <stdbool.h>
#include <stddef.h>

/** Caller owns the result; free with free(). Never NULL. */
void *cm_xmalloc(size_t n);
void *cm_xcalloc(size_t nmemb, size_t size);
void *cm_xrealloc(void *p, size_t n);
char *cm_xstrdup(const char *s);
char *cm_xstrndup(const char *s, size_t n);
/** printf into a new string; caller frees. */
char *cm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A bump allocator for data that all dies at once (a request batch): one
 * malloc per chunk instead of one per object, and nothing to walk at the end.
 * Loop-thread data; not thread-safe. */
struct cm_arena_chunk;
struct cm_arena {
	struct cm_arena_chunk *head;
	size_t chunk;	/* size of the next chunk to allocate */
	size_t total;	/* bytes handed out since the last reset */
};

/** Set up an empty arena whose chunks are at least chunk bytes (0: 64 KiB).
 * Allocates nothing yet. */
void cm_arena_init(struct cm_arena *a, size_t chunk);
/** n bytes aligned for any type, valid until cm_arena_reset/cm_arena_free.
 * Never NULL (out of memory aborts, as cm_xmalloc). */
void *cm_arena_alloc(struct cm_arena *a, size_t n);
/** Forget every allocation. Keeps one chunk big enough for what the arena
 * held, so a steady workload allocates nothing after its first rounds. */
void cm_arena_reset(struct cm_arena *a);
/** Release every chunk; the arena may be used again after cm_arena_init. */
void cm_arena_free(struct cm_arena *a);

void cm_require_failed(const char *expr, const char *file, int line) __attribute__((noreturn));
bool cm_assert_failed(const char *expr, const char *file, int line);

#define cm_require(expr) ((expr) ? (void)0 : cm_require_failed(#expr, __FILE__, __LINE__))
#define cm_fails_assert(expr) (!(expr) && cm_assert_failed(#expr, __FILE__, __LINE__))

#define CM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif

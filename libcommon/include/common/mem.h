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

void cm_require_failed(const char *expr, const char *file, int line) __attribute__((noreturn));
bool cm_assert_failed(const char *expr, const char *file, int line);

#define cm_require(expr) ((expr) ? (void)0 : cm_require_failed(#expr, __FILE__, __LINE__))
#define cm_fails_assert(expr) (!(expr) && cm_assert_failed(#expr, __FILE__, __LINE__))

#define CM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif

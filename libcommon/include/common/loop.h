/*
 * loop.h - loop lifecycle: graceful stop on SIGTERM/SIGINT, and teardown that
 * proves nothing leaked.
 */
#ifndef CM_LOOP_H
#define CM_LOOP_H

#include <uv.h>

struct cm_signals;

/** Watch SIGTERM and SIGINT on loop (uv_signal, so the work happens on the
 * loop, between transactions). on_stop is called once per signal with arg;
 * it should stop taking input and close handles so uv_run returns.
 * The signal handles are unreferenced: they never keep uv_run going alone.
 * SIGPIPE is ignored process-wide. Caller owns *out (NULL on error); free
 * with cm_signals_free(). Errors: negative libuv errors (uv_signal_*),
 * -errno from sigaction(2). */
int cm_signals_start(uv_loop_t *loop, void (*on_stop)(void *arg, int signum), void *arg,
		     struct cm_signals **out);
/** Close the signal handles (memory freed in their close callbacks); on_stop
 * is never called after this. Safe inside on_stop. Accepts a pointer to
 * NULL; sets *s to NULL. Once no watcher remains, libuv restores the
 * default action of SIGTERM/SIGINT. */
void cm_signals_free(struct cm_signals **s);

/** Close every handle still open on loop, run it until their close callbacks
 * have run, then uv_loop_close. Handles are closed without a callback, so
 * modules that free memory in close callbacks (cm_signals, cm_http, zwatch)
 * must be freed first. Returns 0, or -EBUSY if something keeps the loop
 * alive (a bug: tests assert 0). */
int cm_loop_teardown(uv_loop_t *loop);

#endif

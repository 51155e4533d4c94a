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
 * SIGPIPE is ignored process-wide. Errors: negated libuv errors. */
int cm_signals_start(uv_loop_t *loop, void (*on_stop)(void *arg, int signum), void *arg,
		     struct cm_signals **out);
/** Close the signal handles (memory freed in their close callbacks). */
void cm_signals_free(struct cm_signals **s);

/** Close every handle still open on loop, run it until their close callbacks
 * have run, then uv_loop_close. Returns 0, or -EBUSY if something keeps the
 * loop alive (a bug: tests assert 0). */
int cm_loop_teardown(uv_loop_t *loop);

#endif

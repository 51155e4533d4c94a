#include "common/loop.h"
#include "common/log.h"
#include "common/mem.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct cm_signals {
	uv_signal_t term;
	uv_signal_t intr;
	void (*on_stop)(void *arg, int signum);
	void *arg;
	int open; /* handles not yet through their close callback */
};

static void on_signal(uv_signal_t *h, int signum)
{
	struct cm_signals *s = h->data;

	cm_log_notice(LOOP, "received signal %d (%s), stopping", signum, strsignal(signum));
	if (s->on_stop)
		s->on_stop(s->arg, signum);
}

static void on_closed(uv_handle_t *h)
{
	struct cm_signals *s = h->data;

	if (--s->open == 0)
		free(s);
}

static void close_handle(uv_signal_t *h)
{
	if (!uv_is_closing((uv_handle_t *)h))
		uv_close((uv_handle_t *)h, on_closed);
}

static int ignore_sigpipe(void)
{
	struct sigaction sa;

	/* A peer closing a socket must cost an EPIPE, not the process. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -errno;
	return 0;
}

int cm_signals_start(uv_loop_t *loop, void (*on_stop)(void *arg, int signum), void *arg,
		     struct cm_signals **out)
{
	struct cm_signals *s;
	int err;

	*out = NULL;
	err = ignore_sigpipe();
	if (err)
		return err;

	s = cm_xcalloc(1, sizeof(*s));
	s->on_stop = on_stop;
	s->arg = arg;
	/* uv_signal_init only fails for a broken loop; nothing to unwind then. */
	err = uv_signal_init(loop, &s->term);
	if (err)
		goto fail_free;
	s->term.data = s;
	s->open++;
	err = uv_signal_init(loop, &s->intr);
	if (err)
		goto fail_close;
	s->intr.data = s;
	s->open++;

	err = uv_signal_start(&s->term, on_signal, SIGTERM);
	if (err)
		goto fail_close;
	err = uv_signal_start(&s->intr, on_signal, SIGINT);
	if (err)
		goto fail_close;
	/* Watching for a stop request is no reason to keep running: the loop
	 * lives as long as the service's real work does. */
	uv_unref((uv_handle_t *)&s->term);
	uv_unref((uv_handle_t *)&s->intr);
	*out = s;
	return 0;

fail_close:
	cm_log_error_err(LOOP, err, "cannot watch SIGTERM/SIGINT");
	/* The structure is freed by the last close callback. */
	s->on_stop = NULL;
	close_handle(&s->term);
	if (s->open == 2)
		close_handle(&s->intr);
	return err;
fail_free:
	cm_log_error_err(LOOP, err, "cannot watch SIGTERM/SIGINT");
	free(s);
	return err;
}

void cm_signals_free(struct cm_signals **ps)
{
	struct cm_signals *s = ps ? *ps : NULL;

	if (!s)
		return;
	/* No stop request may reach the owner once it has let go. */
	s->on_stop = NULL;
	close_handle(&s->term);
	close_handle(&s->intr);
	*ps = NULL;
}

static void close_any(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Bounds the walk/run rounds: a close callback may start a new handle
 * (a module shutting down in stages), but not forever. */
#define TEARDOWN_ROUNDS 8

int cm_loop_teardown(uv_loop_t *loop)
{
	int err = 0;

	for (int round = 0; round < TEARDOWN_ROUNDS; round++) {
		uv_walk(loop, close_any, NULL);
		uv_run(loop, UV_RUN_DEFAULT);
		err = uv_loop_close(loop);
		if (err != UV_EBUSY)
			break;
	}
	if (err)
		cm_log_error_err(LOOP, err, "loop still busy after closing every handle");
	return err;
}

#include "common/zwatch.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* One message waiting for the socket to become writable. frames[0..done-1]
 * have already been handed to ZeroMQ (a message can be cut by EAGAIN after
 * its first frame), so the flush resumes at done and nothing else may be
 * sent on the socket before this message is complete. */
struct qmsg {
	struct qmsg *next;
	size_t n, done;
	zmq_msg_t frames[];
};

struct cm_zwatch {
	uv_poll_t poll;
	uv_check_t check;
	uv_prepare_t prepare;
	uv_idle_t idle;
	int refs; /* open handles; the struct dies with the last close callback */

	void *sock;
	int fd;
	const struct cm_zwatch_ops *ops;
	void *arg;
	unsigned budget;

	bool paused;
	bool closing; /* cm_zwatch_free ran: deliver nothing, touch no socket */
	bool failed;  /* ops->error has been called (or is being called) */
	/* The head of the queue got EAGAIN and nothing has woken the socket
	 * since. Without this a ROUTER, whose POLLOUT means "some peer is
	 * writable", not "this peer is", would keep the loop spinning. */
	bool blocked;
	/* POLLOUT only says "some pipe has room" (ROUTER, STREAM) or is always
	 * set (PUB, XPUB): only for these does "blocked" hold back the retry. */
	bool loose_pollout;
	int pending_err; /* hard error seen outside dispatch, reported by check */

	struct qmsg *qhead, *qtail;
	size_t nqueued;
	struct cm_zwatch_stats stats;
};

static bool is_hard(int e)
{
	return e == ETERM || e == ENOTSOCK || e == EFAULT || e == EBADF;
}

static void close_frames(zmq_msg_t *f, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++)
		zmq_msg_close(&f[i]);
}

static void discard_queue(struct cm_zwatch *w)
{
	struct qmsg *q = w->qhead;

	while (q) {
		struct qmsg *next = q->next;

		close_frames(q->frames, q->done, q->n);
		free(q);
		q = next;
	}
	w->qhead = w->qtail = NULL;
	w->nqueued = 0;
}

static void on_close(uv_handle_t *h)
{
	struct cm_zwatch *w = h->data;

	if (--w->refs == 0)
		free(w);
}

static void close_handles(struct cm_zwatch *w)
{
	uv_handle_t *hs[] = {
		(uv_handle_t *)&w->poll,
		(uv_handle_t *)&w->check,
		(uv_handle_t *)&w->prepare,
		(uv_handle_t *)&w->idle,
	};

	/* Stop polling first: the caller may zmq_close right after we return,
	 * and libuv must not keep an fd it no longer owns in its epoll set. */
	uv_poll_stop(&w->poll);
	for (size_t i = 0; i < CM_ARRAY_LEN(hs); i++)
		if (!uv_is_closing(hs[i]))
			uv_close(hs[i], on_close);
}

static void stop_handles(struct cm_zwatch *w)
{
	uv_poll_stop(&w->poll);
	uv_check_stop(&w->check);
	uv_prepare_stop(&w->prepare);
	uv_idle_stop(&w->idle);
}

/* Stop for good and tell the owner once. The owner may free the watcher from
 * inside ops->error, so nothing may touch w after the call. */
static void fail(struct cm_zwatch *w, int err)
{
	if (w->failed || w->closing)
		return;
	w->failed = true;
	w->pending_err = err;
	stop_handles(w);
	discard_queue(w);
	cm_log_error_err(ZMQ, -err, "zwatch: socket failed, watcher stopped");
	if (w->ops->error)
		w->ops->error(w, -err, w->arg);
}

/* Returns 0 and the ZMQ_EVENTS bits, or a positive errno. */
static int get_events(struct cm_zwatch *w, int *ev)
{
	size_t len = sizeof(*ev);

	if (zmq_getsockopt(w->sock, ZMQ_EVENTS, ev, &len) != 0)
		return zmq_errno();
	return 0;
}

/* Send f[*done..n-1]. Returns 0 when the message is complete, EAGAIN when
 * the socket is full (*done says how far it got; the rest stays owned by
 * the caller), or another positive errno after closing the unsent frames. */
static int push_frames(struct cm_zwatch *w, zmq_msg_t *f, size_t n, size_t *done)
{
	while (*done < n) {
		int flags = ZMQ_DONTWAIT | (*done + 1 < n ? ZMQ_SNDMORE : 0);

		if (zmq_msg_send(&f[*done], w->sock, flags) < 0) {
			int e = zmq_errno();

			if (e == EAGAIN || e == EINTR)
				return EAGAIN;
			close_frames(f, *done, n);
			*done = n;
			return e;
		}
		(*done)++;
	}
	return 0;
}

static void enqueue(struct cm_zwatch *w, zmq_msg_t *f, size_t n, size_t done)
{
	struct qmsg *q = cm_xmalloc(sizeof(*q) + (n - done) * sizeof(zmq_msg_t));

	q->next = NULL;
	q->n = n - done;
	q->done = 0;
	for (size_t i = done; i < n; i++) {
		zmq_msg_init(&q->frames[i - done]);
		zmq_msg_move(&q->frames[i - done], &f[i]);
	}
	if (w->qtail)
		w->qtail->next = q;
	else
		w->qhead = q;
	w->qtail = q;
	w->nqueued++;
	w->stats.queued_total++;
}

/* Hand queued messages to ZeroMQ in order. Returns 0 when the queue is
 * empty, EAGAIN when the socket filled up again, or a hard errno. */
static int flush(struct cm_zwatch *w)
{
	struct qmsg *q;

	while ((q = w->qhead)) {
		bool started = q->done > 0;
		int e = push_frames(w, q->frames, q->n, &q->done);

		if (e == EAGAIN)
			return EAGAIN;
		if (e == 0) {
			w->stats.sent++;
		} else if (e == EHOSTUNREACH && !started) {
			w->stats.dropped_unroutable++;
			cm_log_debug(ZMQ, "zwatch: queued message dropped, peer gone");
		} else if (is_hard(e)) {
			return e;
		} else {
			cm_log_warn_err(ZMQ, -e, "zwatch: queued message dropped");
		}
		w->qhead = q->next;
		if (!w->qhead)
			w->qtail = NULL;
		w->nqueued--;
		free(q);
	}
	return 0;
}

/* Receive one whole message. Returns 0 with *n frames (and *dropped when it
 * had more than CM_ZWATCH_MAX_FRAMES and was drained instead), EAGAIN when
 * nothing is ready, or another errno. */
static int recv_msg(struct cm_zwatch *w, zmq_msg_t *f, size_t *n, bool *dropped)
{
	int more;

	*n = 0;
	*dropped = false;
	zmq_msg_init(&f[0]);
	if (zmq_msg_recv(&f[0], w->sock, ZMQ_DONTWAIT) < 0) {
		int e = zmq_errno();

		zmq_msg_close(&f[0]);
		/* EFSM: a REP socket whose reply is still queued cannot read
		 * until the reply leaves; that is "nothing now", not a failure. */
		return (e == EINTR || e == EFSM) ? EAGAIN : e;
	}
	*n = 1;
	more = zmq_msg_more(&f[0]);
	while (more) {
		zmq_msg_t spare;
		zmq_msg_t *m = *n < CM_ZWATCH_MAX_FRAMES ? &f[*n] : &spare;

		zmq_msg_init(m);
		/* Multipart delivery is atomic, so the remaining frames are
		 * already here; any failure now is a broken socket. */
		if (zmq_msg_recv(m, w->sock, ZMQ_DONTWAIT) < 0) {
			int e = zmq_errno();

			zmq_msg_close(m);
			close_frames(f, 0, *n);
			*n = 0;
			return e == EAGAIN ? EPROTO : e;
		}
		more = zmq_msg_more(m);
		if (m == &spare) {
			zmq_msg_close(m);
			*dropped = true;
		} else {
			(*n)++;
		}
	}
	return 0;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct cm_zwatch *w = h->data;

	(void)events;
	/* Only a wake-up; check does the work. libuv stops a poll handle that
	 * reports an error, so record it or we would never wake again. */
	if (status < 0 && !w->pending_err)
		w->pending_err = -status;
}

static void on_check(uv_check_t *h)
{
	struct cm_zwatch *w = h->data;
	zmq_msg_t f[CM_ZWATCH_MAX_FRAMES];
	unsigned delivered = 0, taken = 0;
	int ev = 0, e;

	if (w->closing || w->failed)
		return;
	if (w->pending_err) {
		fail(w, w->pending_err);
		return;
	}
	e = get_events(w, &ev);
	if (e == EINTR)
		return;
	if (e) {
		fail(w, e);
		return;
	}
	e = 0;
	if ((ev & ZMQ_POLLIN) && !w->paused) {
		while (taken < w->budget && !w->paused) {
			size_t n;
			bool dropped;

			e = recv_msg(w, f, &n, &dropped);
			if (e == EAGAIN) {
				e = 0;
				break;
			}
			if (e)
				break;
			taken++;
			if (dropped) {
				close_frames(f, 0, n);
				w->stats.dropped_oversize_frames++;
				cm_log_warn(ZMQ, "zwatch: message with more than %d frames dropped",
					    CM_ZWATCH_MAX_FRAMES);
				continue;
			}
			w->stats.received++;
			delivered++;
			w->ops->recv(w, f, n, w->arg);
			close_frames(f, 0, n);
			/* Freed from inside the callback: the socket may already be
			 * closed, so not one more zmq call. */
			if (w->closing)
				return;
		}
	}
	if (!e && w->qhead && !w->failed) {
		/* Re-read: the receives above may have changed writability. */
		e = get_events(w, &ev);
		if (!e && (ev & ZMQ_POLLOUT)) {
			e = flush(w);
			w->blocked = e == EAGAIN;
			if (e == EAGAIN)
				e = 0;
		} else if (!e) {
			w->blocked = true;
		} else if (e == EINTR) {
			e = 0;
		}
	}
	if (delivered) {
		w->stats.turns++;
		/* Messages already handed over still get their group commit
		 * before any error is reported. */
		if (w->ops->batch_end)
			w->ops->batch_end(w, w->arg);
		if (w->closing)
			return;
	}
	if (e)
		fail(w, e);
}

/* Whether ZeroMQ has signalled its fd since the last command processing: a
 * command (such as "peer's pipe has room again") is waiting. */
static bool fd_signalled(const struct cm_zwatch *w)
{
	struct pollfd p = {.fd = w->fd, .events = POLLIN};

	return poll(&p, 1, 0) > 0;
}

static void on_idle(uv_idle_t *h)
{
	(void)h;
}

static void on_prepare(uv_prepare_t *h)
{
	struct cm_zwatch *w = h->data;
	bool want;
	int ev = 0, e;

	if (w->closing || w->failed)
		return;
	if (w->pending_err) {
		uv_idle_start(&w->idle, on_idle);
		return;
	}
	/* The ZMQ_EVENTS call below consumes any pending signal; if that
	 * signal is what unblocks the queue head, check must retry the flush
	 * rather than wait for a wake-up that will not come. */
	if (w->blocked && w->qhead && fd_signalled(w))
		w->blocked = false;
	e = get_events(w, &ev);
	if (e && e != EINTR) {
		fail(w, e);
		return;
	}
	want = e == EINTR || ((ev & ZMQ_POLLIN) && !w->paused) ||
	       (w->qhead && (ev & ZMQ_POLLOUT) && !(w->loose_pollout && w->blocked));
	if (want)
		uv_idle_start(&w->idle, on_idle);
	else
		uv_idle_stop(&w->idle);
}

int cm_zwatch_new(uv_loop_t *loop, void *sock, const struct cm_zwatch_ops *ops, void *arg,
		  struct cm_zwatch **out)
{
	struct cm_zwatch *w;
	size_t len;
	int fd = -1, type = 0, rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!loop || !sock || !ops || !ops->recv)
		return -EINVAL;
	len = sizeof(fd);
	if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) != 0)
		return -zmq_errno();
	len = sizeof(type);
	if (zmq_getsockopt(sock, ZMQ_TYPE, &type, &len) != 0)
		return -zmq_errno();

	w = cm_xcalloc(1, sizeof(*w));
	w->loose_pollout = type == ZMQ_ROUTER || type == ZMQ_STREAM || type == ZMQ_PUB ||
			   type == ZMQ_XPUB;
	w->sock = sock;
	w->fd = fd;
	w->ops = ops;
	w->arg = arg;
	w->budget = CM_ZWATCH_DEFAULT_BUDGET;

	/* uv_poll_init is the only init that can fail, and on failure it has
	 * registered nothing, so the struct can still be freed directly. */
	rc = uv_poll_init(loop, &w->poll, fd);
	if (rc) {
		free(w);
		return rc;
	}
	uv_check_init(loop, &w->check);
	uv_prepare_init(loop, &w->prepare);
	uv_idle_init(loop, &w->idle);
	w->poll.data = w->check.data = w->prepare.data = w->idle.data = w;
	w->refs = 4;

	/* UV_READABLE even for write interest: ZeroMQ signals every state
	 * change, including "writable again", as readability of this fd. */
	rc = uv_poll_start(&w->poll, UV_READABLE, on_poll);
	if (!rc)
		rc = uv_check_start(&w->check, on_check);
	if (!rc)
		rc = uv_prepare_start(&w->prepare, on_prepare);
	if (rc) {
		w->closing = true;
		close_handles(w);
		return rc;
	}
	*out = w;
	return 0;
}

void cm_zwatch_set_budget(struct cm_zwatch *w, unsigned budget)
{
	w->budget = budget ? budget : CM_ZWATCH_DEFAULT_BUDGET;
}

void cm_zwatch_pause_recv(struct cm_zwatch *w, bool paused)
{
	/* Resuming needs no kick: prepare re-reads ZMQ_EVENTS before the loop
	 * next blocks and starts the idle handle if input is waiting. */
	w->paused = paused;
}

int cm_zwatch_send(struct cm_zwatch *w, zmq_msg_t *frames, size_t n)
{
	size_t done = 0;
	int e;

	if (!frames || n == 0)
		return -EINVAL;
	if (!w || w->closing) {
		close_frames(frames, 0, n);
		return -EINVAL;
	}
	if (w->failed) {
		close_frames(frames, 0, n);
		return -w->pending_err;
	}
	/* Anything already queued goes first, or frames of two messages could
	 * interleave and order would be lost. */
	if (w->qhead) {
		enqueue(w, frames, n, 0);
		return 0;
	}
	e = push_frames(w, frames, n, &done);
	if (e == 0) {
		w->stats.sent++;
		return 0;
	}
	if (e == EAGAIN) {
		enqueue(w, frames, n, done);
		w->blocked = true;
		return 0;
	}
	if (e == EHOSTUNREACH) {
		w->stats.dropped_unroutable++;
		return -EHOSTUNREACH;
	}
	if (is_hard(e) && !w->pending_err) {
		/* Reported from check, not from under the caller's feet. */
		w->pending_err = e;
		uv_idle_start(&w->idle, on_idle);
	}
	return -e;
}

int cm_zwatch_sendv(struct cm_zwatch *w, const void *const *bufs, const size_t *lens, size_t n)
{
	zmq_msg_t f[CM_ZWATCH_MAX_FRAMES];

	if (!bufs || !lens || n == 0 || n > CM_ZWATCH_MAX_FRAMES)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (zmq_msg_init_size(&f[i], lens[i]) != 0) {
			close_frames(f, 0, i);
			return -ENOMEM;
		}
		if (lens[i])
			memcpy(zmq_msg_data(&f[i]), bufs[i], lens[i]);
	}
	return cm_zwatch_send(w, f, n);
}

size_t cm_zwatch_queued(const struct cm_zwatch *w)
{
	return w->nqueued;
}

void *cm_zwatch_socket(const struct cm_zwatch *w)
{
	return w->sock;
}

void cm_zwatch_get_stats(const struct cm_zwatch *w, struct cm_zwatch_stats *out)
{
	*out = w->stats;
}

void cm_zwatch_free(struct cm_zwatch **wp)
{
	struct cm_zwatch *w;

	if (!wp || !*wp)
		return;
	w = *wp;
	*wp = NULL;
	if (w->closing)
		return;
	w->closing = true;
	discard_queue(w);
	/* The memory outlives this call until the close callbacks run, which
	 * is what makes freeing from inside recv/batch_end/error safe. */
	close_handles(w);
}

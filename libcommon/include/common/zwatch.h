/*
 * zwatch.h - drive one ZeroMQ socket from a libuv loop, correctly.
 *
 * ZMQ_FD is edge-triggered and any zmq call may consume the edge; uv_poll is
 * level-triggered and may wake spuriously. The watcher therefore owns four
 * handles for one socket (style.md §3.2):
 *   - uv_poll on ZMQ_FD, UV_READABLE only, whose callback only wakes the loop;
 *   - uv_check (after I/O): reads ZMQ_EVENTS, receives whole multipart
 *     messages with ZMQ_DONTWAIT up to the budget, flushes queued sends;
 *   - uv_prepare (before blocking): re-reads ZMQ_EVENTS and starts uv_idle
 *     when anything is pending, so the loop never sleeps past a ready message;
 *   - uv_idle: empty; it only stops the loop from blocking.
 * ZMQ_EVENTS is thus re-read every loop turn whoever sent what, and a handler
 * that sends on socket B from socket A's callback cannot strand B's input.
 *
 * All calls happen on the loop thread. Sends never block: on EAGAIN (high-
 * water mark) the message is queued in order and flushed when writable.
 */
#ifndef CM_ZWATCH_H
#define CM_ZWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>
#include <zmq.h>

struct cm_zwatch;

struct cm_zwatch_ops {
	/** One whole message: frames[0..n-1]. The frames are borrowed for the
	 * duration of the call (the watcher closes them afterwards); copy or
	 * zmq_msg_move what you keep. n <= CM_ZWATCH_MAX_FRAMES; a message with
	 * more frames is dropped and counted. */
	void (*recv)(struct cm_zwatch *w, zmq_msg_t *frames, size_t n, void *arg);
	/** After a loop turn that delivered at least one message, once: the
	 * place for group commit (apply everything received, commit, reply).
	 * May be NULL. */
	void (*batch_end)(struct cm_zwatch *w, void *arg);
	/** A hard socket error (err is negative: -ETERM, ...): the watcher has
	 * stopped itself, discarded its queued sends and will deliver nothing
	 * more; call cm_zwatch_free (allowed from inside this callback). Called
	 * at most once. May be NULL. */
	void (*error)(struct cm_zwatch *w, int err, void *arg);
};

#define CM_ZWATCH_MAX_FRAMES 8
#define CM_ZWATCH_DEFAULT_BUDGET 256

/** Start watching sock (borrowed: it must stay open until cm_zwatch_free).
 * ops and arg are borrowed for the watcher's life.
 * Errors: -EINVAL, -EEXIST (a watcher already polls this socket's fd), or a
 * libuv/libzmq error negated. On error no callback will ever be called. */
int cm_zwatch_new(uv_loop_t *loop, void *sock, const struct cm_zwatch_ops *ops, void *arg,
		  struct cm_zwatch **out);

/** Messages received per loop turn before yielding to the loop (default 256;
 * 0 restores the default). */
void cm_zwatch_set_budget(struct cm_zwatch *w, unsigned budget);

/** Stop (true) or resume (false) receiving; sends continue. Used for back
 * pressure, e.g. while the store is full. */
void cm_zwatch_pause_recv(struct cm_zwatch *w, bool paused);

/** Send a multipart message. Ownership of frames[0..n-1] moves to the
 * watcher in every case (they are sent, queued, or closed on error).
 * Returns 0 when sent or queued; -EHOSTUNREACH when a ROUTER peer is gone
 * (the message is dropped, as ZeroMQ would; a queued message whose peer is
 * gone by flush time is dropped and counted instead); -EINVAL for n == 0 or
 * a freed watcher; the watcher's error after ops->error; another negated
 * libzmq error (-EFSM, -ENOTSUP, -ETERM, ...) when the socket refuses the
 * message (ETERM-like errors also stop the watcher via ops->error). The
 * queue is unbounded: watch cm_zwatch_queued for back pressure. */
int cm_zwatch_send(struct cm_zwatch *w, zmq_msg_t *frames, size_t n);

/** Convenience: copy n buffers into frames and send them as one message.
 * Errors: as cm_zwatch_send; -EINVAL also for n > CM_ZWATCH_MAX_FRAMES. */
int cm_zwatch_sendv(struct cm_zwatch *w, const void *const *bufs, const size_t *lens, size_t n);

/** Messages queued by EAGAIN and not yet handed to ZeroMQ. */
size_t cm_zwatch_queued(const struct cm_zwatch *w);

/** The socket being watched (borrowed). */
void *cm_zwatch_socket(const struct cm_zwatch *w);

struct cm_zwatch_stats {
	unsigned long long received;	/* messages handed to ops->recv */
	unsigned long long sent;	/* messages fully handed to ZeroMQ */
	unsigned long long queued_total; /* messages that had to wait for EAGAIN */
	unsigned long long dropped_oversize_frames; /* > CM_ZWATCH_MAX_FRAMES */
	unsigned long long turns;	/* loop turns that delivered (= batch_end calls) */
	unsigned long long dropped_unroutable; /* EHOSTUNREACH, sent now or from the queue */
};
void cm_zwatch_get_stats(const struct cm_zwatch *w, struct cm_zwatch_stats *out);

/** Stop and release. Polling stops at once (so zmq_close may follow
 * immediately); the handles' memory is freed in their close callbacks, so the
 * loop must run once more before uv_loop_close. Queued sends are discarded.
 * Accepts a pointer to NULL; sets *w to NULL. Safe from inside callbacks. */
void cm_zwatch_free(struct cm_zwatch **w);

#endif

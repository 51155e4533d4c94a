/*
 * feed.h - durable event feeds between services (architecture.md "The feed").
 *
 * Producer: each event is appended to a log sub-database of the producer's
 * own store (key: 8-byte big-endian sequence number, value: the packed
 * Envelope) inside the same write transaction as the state change that caused
 * it, so there is no event without its change and no change without its event.
 * The log is served to consumers over a cm_rpc socket: FetchRequest{from_seq,
 * max_events, wait_ms} is answered at once when events exist, when the next
 * commit appends one, or after wait_ms with none (long-poll).
 *
 * Consumer: pulls from its stored position, applies a batch and stores "last
 * applied sequence of producer P" in the same write transaction as the batch's
 * effects. Delivery is at least once; effects happen exactly once.
 */
#ifndef CM_FEED_H
#define CM_FEED_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/envelope.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/zsock.h"

struct cm_feed;

struct cm_feed_opts {
	const char *producer;	/* "intake"; copied */
	unsigned log_dbi;	/* index of the log sub-database in the store */
	uint32_t max_batch;	/* events per FetchReply cap (default 2000) */
	uint32_t max_batch_bytes; /* bytes per FetchReply cap (default 4 MiB) */
};

/** Attach a producer to store s (borrowed; must outlive the feed). Reads the
 * head sequence. Caller owns *out; free with cm_feed_free().
 * Errors: store errors (CM_ECORRUPT if the log's last key is not 8 bytes). */
int cm_feed_new(struct cm_store *s, const struct cm_feed_opts *o, struct cm_feed **out);

/** Append ev inside the caller's write transaction t. Sets ev->schema_version,
 * ev->producer, ev->sequence, ev->msg_id (temporarily, restored before return)
 * and ev->occurred_at_ms when 0. *seq_out gets the new sequence.
 * Errors: CM_ETOOBIG (packed size over CM_ENV_MAX_BYTES), store errors
 * (-ENOSPC: the caller's cm_store_write grows and retries). */
int cm_feed_append(struct cm_feed *f, struct cm_txn *t, cm_env *ev, uint64_t *seq_out);

/** Tell the feed a write transaction committed: the new head becomes visible
 * to fetches and parked long-polls are answered. Call after every successful
 * cm_store_write that may have appended. */
void cm_feed_committed(struct cm_feed *f);

/** Last committed sequence number (0 when empty). */
uint64_t cm_feed_head(const struct cm_feed *f);

/** Serve FetchRequests on r (borrowed; must outlive the feed's use of it).
 * loop is needed for the long-poll timer. */
int cm_feed_serve(struct cm_feed *f, uv_loop_t *loop, struct cm_rpc *r);

/** Read events [from, from+max) in a read transaction: cb gets each raw
 * packed envelope (borrowed for the call). Returns the count visited or a
 * store error. */
int cm_feed_read(struct cm_feed *f, uint64_t from, uint32_t max,
		 int (*cb)(uint64_t seq, const void *buf, size_t len, void *arg), void *arg);

/** Free; parked fetches are dropped. Accepts pointer to NULL; sets *f NULL. */
void cm_feed_free(struct cm_feed **f);

/* ------------------------------------------------------------------------ */

struct cm_feed_consumer;

struct cm_feed_consumer_ops {
	/** Apply one event inside the batch's write transaction. raw/len are the
	 * packed bytes (borrowed). Return 0, or negative to abort the whole batch
	 * (it is fetched and applied again later). May run again for the same
	 * event if the transaction is retried. */
	int (*apply)(struct cm_txn *t, const cm_env *ev, const void *raw, size_t len, void *arg);
	/** After the batch committed (e.g. cm_feed_committed on the consumer's own
	 * feed, live publishing). May be NULL. */
	void (*committed)(uint64_t applied_seq, void *arg);
};

struct cm_feed_consumer_opts {
	const char *name;	/* consumer name sent in FetchRequest; copied */
	const char *producer;	/* producer name; the offset key; copied */
	const char *endpoint;	/* producer's feed socket; copied */
	unsigned offset_dbi;	/* sub-database holding offsets (key: producer) */
	uint32_t max_events;	/* per fetch (default 2000) */
	uint32_t wait_ms;	/* long-poll wait (default 1000) */
	uint32_t timeout_ms;	/* no reply within this: reconnect (default wait+3000) */
	/* optional CURVE client keys (Z85; copied) */
	const char *curve_server_public, *curve_public, *curve_secret;
};

/** Start pulling. s, ops and arg are borrowed for the consumer's life.
 * Errors: socket and store errors. No callback runs if this fails. */
int cm_feed_consumer_start(uv_loop_t *loop, void *zctx, struct cm_store *s,
			   const struct cm_feed_consumer_opts *o,
			   const struct cm_feed_consumer_ops *ops, void *arg,
			   struct cm_feed_consumer **out);

/** Last applied sequence and last head the producer reported. */
uint64_t cm_feed_consumer_applied(const struct cm_feed_consumer *c);
uint64_t cm_feed_consumer_head(const struct cm_feed_consumer *c);
/** Whether the producer has answered a fetch since the consumer started: tells
 * an empty producer (head 0, answered) from one not heard from yet. */
bool cm_feed_consumer_answered(const struct cm_feed_consumer *c);
/** Last error applying or storing (0 when healthy), for /healthz and /metrics.
 * CM_EGAP stays set when the producer's history diverged from what this
 * consumer applied: it then stops consuming until an operator restores a
 * consistent pair of stores (nothing is skipped). */
int cm_feed_consumer_error(const struct cm_feed_consumer *c);


/** Stop and free. Accepts pointer to NULL; sets *c NULL. */
void cm_feed_consumer_free(struct cm_feed_consumer **c);

/** Digest of a stored event for divergence checks: the first 8 bytes of
 * BLAKE2b-256 of its bytes. */
void cm_feed_digest(const void *buf, size_t len, uint8_t out[8]);

/** Read a consumer's stored offset for producer inside a transaction (0 if
 * none). */
int cm_feed_offset_get(struct cm_txn *t, unsigned offset_dbi, const char *producer,
		       uint64_t *out);

#endif

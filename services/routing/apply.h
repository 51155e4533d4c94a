/*
 * apply.h - routing's effect of one intake event, inside the consumer's write
 * transaction: state in routing's store and the events on routing's feed,
 * together, so both happen exactly once.
 *
 * Deterministic: decisions use the petition's received_at_ms and the
 * action's effective_at_ms; emitted events take the intake event's
 * occurred_at_ms. Replaying the same intake feed into an empty store gives
 * byte-identical routing events. The one exception is routing_rehome_open()
 * (register reload, start-up), which an operator triggers at a time of their
 * choosing: its day and time are passed in.
 */
#ifndef ROUTING_APPLY_H
#define ROUTING_APPLY_H

#include <stdint.h>

#include "classify.h"
#include "common/envelope.h"
#include "common/feed.h"
#include "common/register.h"
#include "common/store.h"
#include "rules.h"

/* What a batch did, for metrics. Reset when a batch is applied again. */
struct routing_counters {
	uint64_t last_seq;	/* intake sequence last applied in this batch */
	uint64_t petitions, actions, skipped;
	uint64_t assigned, rehomed, overrides, transfers, filed, duplicates;
	uint64_t flags[8];	/* by Donthu__V1__FlagKind */
	uint64_t dedup_lookups, dedup_visited;
};

struct routing_engine {
	const struct routing_rules *rules;	/* swapped on reload, between txns */
	const struct cm_register *reg;
	const struct routing_fieldmap *fm;
	struct cm_feed *feed;			/* routing's own feed */
	struct routing_counters pending;
};

/** Apply one intake event (others than PetitionReceived and
 * CaseActionRecorded are ignored). A malformed or unknown-case event is
 * logged and skipped, never fatal: one bad event must not stop the feed.
 * Errors: store errors, CM_ETOOBIG (an event too large to append). */
int routing_apply(struct routing_engine *e, struct cm_txn *t, const cm_env *ev);

/** Re-home every open case whose holding agency is not active on day and
 * has a successor: Assigned{REHOMED} at at_ms for each. *moved (may be NULL)
 * gets the count. Errors: store errors. */
int routing_rehome_open(struct routing_engine *e, struct cm_txn *t, cm_day_t day, int64_t at_ms,
			uint64_t *moved);

#endif

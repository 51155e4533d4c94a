/*
 * timers.h - the clock engine: every statutory clock of every case, kept in
 * the store, driven by feed events and by time.
 *
 * Every function here runs inside a write transaction the caller owns and
 * appends its events (DeadlineSet, DeadlineChanged, ExtensionRejected,
 * ClockStopped, Escalation, CalendarReloaded) to the deadline feed in that
 * same transaction, so a state change and its event commit together or not
 * at all. Nothing is kept in memory per clock: the due-time index in the
 * store (schema.h "due") says what comes due next, and a transaction may be
 * run again from scratch (map growth) without harm.
 *
 * Decisions depend only on the events and their dates; the one exception is
 * "now", passed to dl_engine_raise(), which decides when an escalation is
 * raised, never what it says about the case.
 */
#ifndef DEADLINE_TIMERS_H
#define DEADLINE_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "common/envelope.h"
#include "common/feed.h"
#include "common/store.h"
#include "policy.h"
#include "schema.h"

/* Escalation thresholds (service configuration). */
struct dl_levels_cfg {
	unsigned warning_wd;		/* warn this many working days before due (0: never) */
	unsigned head_after_wd;		/* HEAD at the start of the n-th working day after due */
	unsigned chairman_after_wd;
	unsigned inspectorate_after_wd;
	unsigned reception_grace_days;	/* a month is judged this many days after it ends */
};

struct dl_engine {
	struct cm_feed *feed;		/* the deadline feed (borrowed) */
	const struct cal *cal;		/* borrowed; swapped on reload */
	const struct dl_policy *pol;	/* borrowed; swapped on reload */
	struct dl_levels_cfg lv;
	const char *chairman_office;	/* who acts for the provincial chairman */
	const char *inspectorate;	/* the provincial inspectorate */
};

/**
 * Apply one event of the intake or routing feed: open, stop, extend, pause
 * and resume clocks, record receptions, raise the immediate escalations of
 * routing's flags. Events of other kinds are ignored.
 * Errors: store errors, CM_ECORRUPT (a stored record does not decode),
 * CM_ETOOBIG (an event would not fit the feed). Bad dates or unknown cases
 * are logged and skipped: they never block the feed.
 */
int dl_engine_apply(struct dl_engine *e, struct cm_txn *t, const cm_env *ev);

/**
 * Raise what is due at now_ms: visit due-index entries with instant <= now_ms
 * (at most max of them) and, for each, raise every level of that clock that
 * has come due (once: the clock records it), end waiting periods (starting
 * the rule that follows), and judge months of periodic reception. *visited
 * gets the entries handled and *more whether entries due at now_ms remain.
 * Errors: store errors, CM_ECORRUPT, CM_ETOOBIG.
 */
int dl_engine_raise(struct dl_engine *e, struct cm_txn *t, int64_t now_ms, unsigned max,
		    unsigned *visited, bool *more);

/** The instant of the earliest due-index entry. Errors: -ENOENT when there
 * is none; store errors. */
int dl_engine_earliest(struct cm_txn *t, int64_t *ms);

enum dl_recompute_what { DL_RECOMPUTE_CALENDAR = 1, DL_RECOMPUTE_POLICY };

/* Progress of a recomputation of every open clock, done in batches. The
 * caller keeps it between transactions and must restore its copy when a
 * transaction is retried or fails. */
struct dl_recompute {
	enum dl_recompute_what what;
	char version[96];		/* calendar or policy version, for the summary */
	char after[DL_CLOCK_ID_MAX];	/* last clock id visited */
	size_t afterlen;
	uint64_t visited, recomputed, changed;
	bool done;
};

/**
 * Visit up to max clocks after rc->after with the engine's current calendar
 * and policy; every open clock whose due day changes gets its new due day,
 * index entry and explanation, and a DeadlineChanged (reason CALENDAR or
 * POLICY). The batch that reaches the end appends the CalendarReloaded
 * summary and sets rc->done.
 * Errors: store errors, CM_ECORRUPT, CM_ETOOBIG.
 */
int dl_engine_recompute(struct dl_engine *e, struct cm_txn *t, struct dl_recompute *rc,
			unsigned max);

/** Current explanation of a clock into buf (len bytes, NUL-terminated).
 * Errors: -ENOENT (no such clock), store errors, CM_ECORRUPT. */
int dl_engine_explain(struct cm_txn *t, const char *clock_id, char *buf, size_t len);

struct dl_counts {
	uint64_t open, overdue, cases;
};
/** Counters kept in the store. Errors: store errors. */
int dl_engine_counts(struct cm_txn *t, struct dl_counts *out);

#endif

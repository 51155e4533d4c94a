/*
 * model.h - the read models and the functions that apply feed events to them.
 *
 * Per case the store keeps a summary (struct report_case) merged from three
 * feeds, each feed writing only its own part. Counters are never bumped by
 * hand from an event: they are a function of the summaries (plus a few
 * immutable facts such as a clock stopping or a reception). Applying an event
 * computes the case's contributions before and after the change and adds the
 * difference. That makes the counters independent of how the three feeds
 * interleave, so a report built live equals the report rebuilt by replaying
 * every feed from sequence 1 in any interleaving (tests/unit/test_report_model.c).
 *
 * Counter changes are buffered in the model and written by report_model_flush()
 * before the transaction commits: the service flushes after every event (the
 * feed consumer has no end-of-batch hook), a rebuild flushes once per large
 * transaction. Both go through the same apply code.
 *
 * All functions run inside a write transaction; none keeps a pointer into the
 * store past its return. Errors from the store abort the caller's transaction.
 */
#ifndef REPORT_MODEL_H
#define REPORT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/store.h"
#include "schema.h"

#define RC_CLOCKS 8
#define RC_ENF 4
#define RC_VISITED 8
#define RC_SENT 3

/* First outcome of handling a petition (xử lý đơn). */
enum rc_outcome {
	RO_NONE = 0, RO_ACCEPT, RO_REFUSE, RO_GUIDE, RO_FORWARD, RO_RETURN, RO_FILE,
	RO_WITHDRAWN,	/* withdrawn before anything else happened */
};
/* How a case was resolved. */
enum rc_resolved { RR_NONE = 0, RR_DECIDED, RR_WITHDRAWN, RR_TERMINATED };

struct rc_clock {
	uint32_t id;		/* hash of the clock id */
	cm_day_t due;		/* 0 while paused */
	uint8_t overdue;	/* an overdue escalation was raised */
	uint8_t resolve;	/* a resolution stage */
};

struct rc_enf {
	cm_day_t day;
	int64_t money_rec, money_ret, land_rec, land_ret;	/* VND, 0.01 m² */
	uint32_t sanctioned;
};

typedef char rc_code[REPORT_CODE_MAX + 1];

struct report_case {
	/* --- intake part --- */
	uint8_t has_intake;
	uint8_t kind, subject, round, channel, status, complexity;
	uint8_t anonymous, serious_harm, has_prior, prior_outcome, remote;
	rc_code agency;		/* receiving agency */
	rc_code handling;	/* from Accept / Reassign */
	rc_code field;
	uint16_t field_dim;
	cm_day_t received;
	uint32_t signers, delegation;
	rc_code forwarded_by;
	rc_code sent_to[RC_SENT];	/* also_sent_to, first few */
	uint8_t i_outcome, refuse_reason, file_reason;
	cm_day_t i_outcome_day;
	cm_day_t accepted, resolved;
	uint8_t resolved_how, outcome, effect, conclusion;
	int64_t money_recover, money_return, land_recover, land_return;
	uint32_t to_sanction, referred, rights_restored;
	uint8_t nenf;
	struct rc_enf enf[RC_ENF];
	cm_day_t enf_done;
	uint16_t recomplaints, urges, actions;
	uint8_t redenunciation, recomplaint_after_r2;
	cm_day_t closed, last_action;
	char summary[161];	/* first characters of the petition summary */

	/* --- routing part --- */
	uint8_t has_routing, classified, r_kind, r_eligible, r_within, r_many, r_delegation;
	uint32_t r_signers;
	rc_code r_field;
	uint16_t r_field_dim;
	rc_code assigned;
	uint8_t r_outcome, r_file_reason;
	cm_day_t r_outcome_day;
	uint16_t transfers;
	uint8_t loop, nvisited;
	uint32_t visited[RC_VISITED];
	rc_code r_to[2];	/* first and latest transfer targets */
	char dup_of[REPORT_CASE_MAX + 1];
	uint8_t dup_repeat;
	uint16_t repeat_count, dup_count;
	uint32_t flags;		/* 1 << FlagKind */

	/* --- deadline part --- */
	uint8_t nclocks;
	struct rc_clock clocks[RC_CLOCKS];
	uint16_t met, missed, escalations;
	uint8_t max_level;
	rc_code dl_agency;
};

/** Encode into buf (REPORT_CASE_ENC_MAX bytes); returns the length. */
#define REPORT_CASE_ENC_MAX 2048
size_t report_case_encode(const struct report_case *c, uint8_t *buf);
/** Errors: CM_ECORRUPT. */
int report_case_decode(const void *p, size_t n, struct report_case *c);

/** Read a case's summary inside t. Errors: -ENOENT, CM_ECORRUPT, store errors. */
int report_case_get(struct cm_txn *t, const char *case_number, struct report_case *c);

/* Derived views used by contributions, queries and the mass list. */
int report_case_kind(const struct report_case *c);	/* enum report_kind */
const char *report_case_handling(const struct report_case *c);
bool report_case_open(const struct report_case *c);
bool report_case_overdue(const struct report_case *c);
cm_day_t report_case_next_due(const struct report_case *c);

/* One counter change: agency, day, indicator, dim, value. */
struct report_contrib {
	const char *agency;	/* borrowed from the case */
	cm_day_t day;
	uint16_t ind, dim;
	int64_t v;
};

#define REPORT_CONTRIB_MAX 96
/** What case c adds to the counters (pure). Returns the count (at most
 * REPORT_CONTRIB_MAX). */
size_t report_case_contrib(const struct report_case *c, struct report_contrib *out);

struct report_model;

/** Caller owns *out (never fails; aborts on OOM). history: keep a copy of
 * every case event for CaseHistoryQuery. */
struct report_model *report_model_new(bool history);
void report_model_free(struct report_model **m);

/** Apply one event of producer (RP_*) inside t. raw/len are its packed bytes
 * (kept in the history). Events of other producers' kinds, and bodies this
 * service does not read, only go to the history. Counter changes wait in m
 * for report_model_flush(). Errors: store errors, CM_ECORRUPT. */
int report_apply(struct report_model *m, struct cm_txn *t, int producer, const cm_env *ev,
		 const void *raw, size_t len);

/** Write the buffered counter changes inside t and empty the buffer.
 * Errors: store errors, CM_ECORRUPT (a stored row does not decode). */
int report_model_flush(struct report_model *m, struct cm_txn *t);

/** Most case summaries held for write-back at the flush (default 131,072,
 * about 3.4 KiB each);
 * past it they are written back early. Tests set it tiny. */
void report_model_cache_limit(struct report_model *m, size_t n);

/** Drop buffered changes (the transaction they belonged to aborted). */
void report_model_discard(struct report_model *m);

/** Producer id of a producer name ("intake" -> RP_INTAKE), 0 if unknown. */
int report_producer_id(const char *name);

#endif

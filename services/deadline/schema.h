/*
 * schema.h - the deadline service's LMDB layout (the only writer of this store).
 *
 *   log        be64 seq -> packed Envelope (the deadline feed)
 *   offsets    producer name -> be64 last applied sequence (intake, routing)
 *   cases      case number -> struct dl_case
 *   clocks     clock id "<case>/<rule id>" -> struct dl_clock
 *   due        be64 instant ms ++ clock id -> "" (the due-time index: one
 *              entry per clock, at the instant of its next escalation level,
 *              or of the end of a waiting period; reception checks use the
 *              id "~rcp/YYYY-MM")
 *   explain    clock id -> be16 history length ++ history ++ current explanation
 *   heads      agency ++ 0 ++ role byte -> be32 first day seen
 *   receptions agency ++ 0 ++ role byte ++ be32 day -> "" (periodic receptions
 *              held by the head in person)
 *   meta       "layout" -> be32; "open", "overdue", "cases" -> be64 counters;
 *              "rcp_next" -> be64 month number (year * 12 + month - 1) of the
 *              next reception-compliance check
 *
 * Records are fixed little structs encoded big-endian with a leading version
 * byte, so nothing in the store depends on the compiler's layout.
 */
#ifndef DEADLINE_SCHEMA_H
#define DEADLINE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/store.h"

enum dl_dbi {
	DL_DB_LOG = 0,
	DL_DB_OFFSETS,
	DL_DB_CASES,
	DL_DB_CLOCKS,
	DL_DB_DUE,
	DL_DB_EXPLAIN,
	DL_DB_HEADS,
	DL_DB_RECEPTIONS,
	DL_DB_META,
	DL_DB_COUNT,
};

extern const char *const dl_dbi_names[DL_DB_COUNT];

#define DL_LAYOUT_VERSION 1
#define DL_CODE_MAX 64		/* case numbers, agency codes */
#define DL_CLOCK_ID_MAX 128	/* "<case>/<rule id>" */

/* Case flags. */
enum {
	DL_CASE_RECEIVED = 1 << 0,	/* PetitionReceived applied */
	DL_CASE_OUTSIDE = 1 << 1,	/* routing: outside competence (before receipt) */
	DL_CASE_FILED = 1 << 2,		/* routing Filed before receipt */
	DL_CASE_NOT_PROCESSED = 1 << 3, /* routing: sent to several bodies, before receipt */
};

struct dl_case {
	uint8_t flags;
	uint8_t kind;		/* donthu.v1.PetitionKind */
	uint8_t subject;	/* 1 administrative, 2 disciplinary */
	uint8_t round;		/* 1, 2 */
	uint8_t complexity;	/* enum dl_complexity */
	uint8_t remote;
	cm_day_t received;	/* day the petition was received */
	cm_day_t pending_day;	/* day of a routing decision that arrived first */
	char agency[DL_CODE_MAX + 1]; /* handling agency */
};

enum dl_clock_state {
	DL_CLOCK_OPEN = 1,
	DL_CLOCK_PAUSED,
	DL_CLOCK_STOPPED,
};

/* Clock flags. */
enum {
	DL_CLK_IGNORE_MAKEUP = 1 << 0,
	DL_CLK_MET = 1 << 1,		/* stopped on or before the due day */
	DL_CLK_ELAPSED = 1 << 2,	/* a waiting period that ran out */
};

struct dl_clock {
	uint8_t state;		/* enum dl_clock_state */
	uint8_t unit;		/* enum dl_unit */
	uint8_t flags;
	uint8_t raised;		/* bit per enum dl_level already raised */
	uint8_t ext_count;
	uint8_t complexity;	/* variant inputs when the period was fixed */
	uint8_t remote;
	uint8_t variant;	/* enum dl_variant */
	uint16_t version;	/* rule version */
	uint16_t length;	/* period of the version and variant */
	uint16_t ext_days;	/* granted by extensions */
	int32_t n;		/* days to count from anchor */
	cm_day_t trigger;	/* day 0 */
	cm_day_t anchor;	/* trigger, or the last resumption */
	cm_day_t due;		/* computed due day (last known while paused) */
	cm_day_t paused;	/* day of the current suspension (PAUSED) */
	uint16_t paused_days;	/* calendar days suspended so far */
	int64_t idx_ms;		/* instant of its due-index entry, 0 when none */
	cm_day_t stopped;	/* day it stopped (STOPPED) */
};

#define DL_CASE_ENC_MAX (16 + DL_CODE_MAX)
#define DL_CLOCK_ENC 52

size_t dl_case_encode(const struct dl_case *c, uint8_t *buf);
/** Errors: CM_ECORRUPT. */
int dl_case_decode(const void *p, size_t n, struct dl_case *c);
void dl_clock_encode(const struct dl_clock *c, uint8_t buf[DL_CLOCK_ENC]);
/** Errors: CM_ECORRUPT. */
int dl_clock_decode(const void *p, size_t n, struct dl_clock *c);

/** Due-index key: be64 instant ++ id; returns its length (0 if id is too long). */
size_t dl_due_key(int64_t instant_ms, const char *id, size_t idlen, uint8_t *buf, size_t cap);

/** Build "<case>/<rule>" into buf; returns its length, 0 when too long. */
size_t dl_clock_id(const char *case_number, const char *rule_id, char *buf, size_t cap);

/** Head key: agency ++ 0 ++ role; returns its length, 0 when too long. */
size_t dl_head_key(const char *agency, int role, uint8_t *buf, size_t cap);

/** Read, add delta to, and store the be64 counter key in meta. Errors: store errors. */
int dl_meta_add(struct cm_txn *t, const char *key, int64_t delta);
/** Read a be64 counter (0 when unset). Errors: store errors, CM_ECORRUPT. */
int dl_meta_get(struct cm_txn *t, const char *key, uint64_t *out);

/** Check or write the layout version. Errors: CM_EVERSION, store errors. */
int dl_schema_init(struct cm_txn *t, void *arg);

#endif

/*
 * schema.h - the report service's LMDB layout (the only writer of this store).
 *
 *   cases      case number -> encoded struct report_case (model.h)
 *   counters   "<agency>\0" 'd' be32(day+2^31)  -> counter row (one agency, one day)
 *              "<agency>\0" 'm' be32(y*12+m-1) -> counter row (one agency, one month)
 *   dims       field code -> be16 dim id (1..65534; 0 is "no field")
 *   ev.intake, ev.routing, ev.deadline
 *              be64(seq) -> packed Envelope (every case event, as received; appended)
 *   history    "<case>\0" be64(occurred_at_ms) u8(producer) be64(seq) -> "" (per-case index)
 *   byagency   "<agency>\0" be32(received day+2^31) "<case>" -> "" (case lists)
 *   seen       'c' "<case>" | 's' "<agency>\0" be32(day) u8(cat) -> "" (reception book state)
 *   offsets    producer name -> be64 last applied sequence (feed.h)
 *   meta       "layout" -> be32 layout version
 *
 * A counter row is a version byte and entries sorted by (indicator, dim):
 * be16 indicator, be16 dim, be64 value; entries whose value is 0 are dropped.
 * Day rows and month rows hold the same sums at two resolutions so that any
 * period is read as a few month rows plus the days at its ends.
 *
 * Event copies go to an append-mostly log and the per-case index holds only
 * keys: a rebuild then dirties few pages per event.
 */
#ifndef REPORT_SCHEMA_H
#define REPORT_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/store.h"

enum report_dbi {
	REPORT_DB_CASES = 0,
	REPORT_DB_COUNTERS,
	REPORT_DB_DIMS,
	REPORT_DB_EV_INTAKE,	/* RP_INTAKE - 1 + this = the producer's log */
	REPORT_DB_EV_ROUTING,
	REPORT_DB_EV_DEADLINE,
	REPORT_DB_HISTORY,
	REPORT_DB_BYAGENCY,
	REPORT_DB_SEEN,
	REPORT_DB_OFFSETS,
	REPORT_DB_META,
	REPORT_DB_COUNT,
};

extern const char *const report_dbi_names[REPORT_DB_COUNT];

#define REPORT_LAYOUT_VERSION 1
#define REPORT_CODE_MAX 48	/* agency and field codes (intake caps them at 32) */
#define REPORT_CASE_MAX 64	/* case numbers (intake caps them at 64) */

/* Feed producers, as stored in history keys. */
enum report_producer { RP_INTAKE = 1, RP_ROUTING = 2, RP_DEADLINE = 3 };

#define REPORT_LEVEL_DAY 'd'
#define REPORT_LEVEL_MONTH 'm'

/** Month index of a day: year*12 + month-1. */
int32_t report_month_of(cm_day_t day);
/** First and last day of a month index. */
cm_day_t report_month_first(int32_t month);
cm_day_t report_month_last(int32_t month);

/** Half-month index of a date: (y*12 + m-1)*2, plus 1 from the 15th. Month
 * rows keep receipt days at this resolution (model.c). */
static inline uint16_t report_half_month(int y, int m, int d)
{
	return (uint16_t)(((y * 12 + m - 1) * 2 + (d >= 15)) & 0xFFFF);
}

/** Counter key for (agency, level, bucket) into buf (at least
 * REPORT_CODE_MAX + 6 bytes). Returns its length. */
size_t report_counter_key(const char *agency, char level, int32_t bucket, uint8_t *buf);

/* One decoded counter entry. */
struct report_cell {
	uint16_t ind, dim;
	int64_t v;
};

/** Number of entries in an encoded row, or CM_ECORRUPT. */
int report_row_count(const void *p, size_t n);
/** Entry i of a row already checked by report_row_count. */
void report_row_entry(const void *p, size_t i, struct report_cell *out);
/** Encode n sorted entries (zeros skipped) into buf (1 + 12*n bytes); returns
 * the length. */
size_t report_row_encode(const struct report_cell *c, size_t n, uint8_t *buf);

/** The field's dim id inside t, creating it if create. 0 for an empty code;
 * 0xFFFF once 65534 codes exist. Errors: store errors; -ENOENT when absent
 * and !create. */
int report_dim_get(struct cm_txn *t, const char *field, int create, uint16_t *out);

/** Check or write the layout version. Errors: CM_EVERSION, store errors. */
int report_schema_init(struct cm_txn *t, void *arg);

#endif

/*
 * periods.h - reporting periods (legal-reference.md §6.3) as data.
 *
 * Under TT 02/2021 and TT 01/2024 the data of a report runs from the 15th of
 * the month before to the 14th: quarter I is 15 December of the previous
 * year to 14 March, the 6-month, 9-month and annual periods all start on 15
 * December. Whether TT 06/2025 kept these cut-offs is unverified, so a form
 * set (data/forms/<set>.json) carries its own period table; the table below is
 * the default when a file has none.
 *
 * A period spec is "YYYY-<name>" (name from the table, case-insensitive:
 * "2026-Q1", "2026-6M", "2026-Y"), "YYYY-MM" (a calendar month), "YYYY" (a
 * calendar year) or "YYYY-MM-DD..YYYY-MM-DD" (any range, both ends included).
 *
 * Pure: no store, no clock.
 */
#ifndef REPORT_PERIODS_H
#define REPORT_PERIODS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/clock.h"

#define REPORT_PERIOD_NAME_MAX 15
#define REPORT_PERIODS_MAX 24

struct report_period_def {
	char name[REPORT_PERIOD_NAME_MAX + 1];	/* "Q1", "6M", "Y" */
	int from_year_offset;			/* -1: the year before */
	int from_month, from_day;
	int to_month, to_day;			/* in the named year */
};

struct report_periods {
	struct report_period_def def[REPORT_PERIODS_MAX];
	size_t n;
};

/** Fill p with the TT 01/2024 table (Q1..Q4, 6M, 9M, Y). */
void report_periods_default(struct report_periods *p);

/** Add one definition written as in the data files: from "-12-15" (leading
 * '-' = previous year) or "03-15", to "03-14". Errors: CM_EINVALID (bad
 * date text, day not in the month, duplicate or over-long name, table full). */
int report_periods_add(struct report_periods *p, const char *name, const char *from,
		       const char *to);

/** Resolve spec to [*from, *to] (both included). Errors: CM_EINVALID (unknown
 * name, malformed text, from after to); *from and *to are untouched then. */
int report_period_resolve(const struct report_periods *p, const char *spec, cm_day_t *from,
			  cm_day_t *to);

#endif

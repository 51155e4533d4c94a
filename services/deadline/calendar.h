/*
 * calendar.h - the public-sector working-day calendar used for deadlines.
 *
 * A working day is Monday to Friday, minus official days off (statutory
 * holidays, compensatory days, swapped days), plus make-up Saturdays (làm bù)
 * unless the query says otherwise. Years with a data file
 * (data/calendar/YYYY.json, format in docs/CALENDAR.md) use exactly what the
 * file lists; every other year of CAL_FIRST_YEAR..CAL_LAST_YEAR is derived
 * from Bộ luật Lao động Điều 111-112 with the lunar calendar (lunar.h).
 *
 * Counting follows Bộ luật Dân sự Điều 147-148: the trigger day is day 0 and
 * counting starts the next day; a calendar-day period whose last day is not a
 * working day ends on the next working day.
 *
 * A struct cal is built whole by cal_load() and is read-only afterwards: every
 * year is precomputed into per-day flags and prefix counts, so each query is
 * O(1) or one binary search, never a walk over the days. No globals, no clock;
 * a const struct cal may be shared by any number of readers.
 */
#ifndef DEADLINE_CALENDAR_H
#define DEADLINE_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/clock.h"

/* Supported range; days outside it answer -ERANGE. */
#define CAL_FIRST_YEAR 1990
#define CAL_LAST_YEAR 2100

/* Query flag: make-up Saturdays are ordinary Saturdays (not working days).
 * Without it they count as working days. See docs/CALENDAR.md, "Make-up
 * Saturdays", for why a rule might choose either. */
#define CAL_F_IGNORE_MAKEUP 0x1u

/* Longest error text cal_load() writes, including the NUL. */
#define CAL_ERR_LEN 512

struct cal;

/* Kind of a special day. */
enum cal_kind {
	CAL_KIND_NONE = 0,
	CAL_KIND_HOLIDAY,	/* statutory holiday on a weekday */
	CAL_KIND_COMPENSATORY,	/* nghỉ bù: a holiday fell on a weekend or another holiday */
	CAL_KIND_SWAP,		/* weekday made a day off, paid back by a make-up Saturday */
	CAL_KIND_MAKEUP,	/* làm bù: a Saturday that is a working day */
};

struct cal_options {
	/* Derived years: how many of Tết's five days come before lunar new
	 * year's day (0..4). Default 1: the last day of the old year and the
	 * first four days of the new one. */
	int tet_days_before;
	/* Derived years: the day paired with 2/9, -1 for 1/9 (default) or +1
	 * for 3/9. */
	int national_day_extra;
	/* Optional file entries to switch on, by their "flag" name (for example
	 * "ngay_van_hoa_2026"); NULL-terminated, borrowed for the call only.
	 * NULL: none. Each name must match an entry in some loaded file. */
	const char *const *flags;
};

/** Fill *opt with the defaults (tet_days_before 1, national_day_extra -1, no flags). */
void cal_options_default(struct cal_options *opt);

/**
 * Build a calendar from every YYYY.json in dir (files not ending in .json and
 * hidden files are ignored), deriving all other years. dir NULL derives every
 * year. opt NULL means the defaults. On success *out is a new calendar the
 * caller owns (free with cal_free()); on failure *out is untouched and err
 * (errlen bytes, CAL_ERR_LEN is enough; may be NULL) names the file, the entry
 * and the field at fault.
 * Errors: CM_ECONFIG for a malformed, inconsistent or misnamed file or an
 * enabled flag that matches no entry; -EINVAL for options out of range;
 * -ENOENT, -EACCES, -ENOTDIR (or another -errno) when dir cannot be read.
 */
int cal_load(const char *dir, const struct cal_options *opt, struct cal **out, char *err,
	     size_t errlen);

/**
 * Load dir into a new calendar and, only if that succeeds, replace *cal with
 * it and free the old one. On any error *cal (which may be NULL) is left as
 * it was, so a bad edit to a year file never takes the calendar away.
 * Errors: as cal_load().
 */
int cal_reload(struct cal **cal, const char *dir, const struct cal_options *opt, char *err,
	       size_t errlen);

/** Free a calendar and set *pp to NULL; accepts NULL and a pointer to NULL. */
void cal_free(struct cal **pp);

/** Whether day is a working day. False for days outside the supported range
 * (check with cal_in_range() where that matters). */
bool cal_is_working_day(const struct cal *cal, cm_day_t day, unsigned flags);

/** Whether day lies in CAL_FIRST_YEAR..CAL_LAST_YEAR. */
bool cal_in_range(cm_day_t day);

/* What the calendar says about one day. */
struct cal_day {
	int weekday;		/* 0 = Monday .. 6 = Sunday */
	bool working;		/* under the flags passed */
	enum cal_kind kind;	/* CAL_KIND_NONE for an ordinary day */
	const char *name;	/* of the holiday or make-up day, or NULL; borrowed from cal */
	bool derived;		/* the day's year has no file */
};

/** Describe one day. Errors: -ERANGE outside the supported range; -EINVAL for unknown flags. */
int cal_day_info(const struct cal *cal, cm_day_t day, unsigned flags, struct cal_day *out);

/** Whether year has a data file (1) or is derived (0). Errors: -ERANGE. */
int cal_year_from_file(const struct cal *cal, int year);

#define CAL_EXPLAIN_MAX_DAYS 32
#define CAL_EXPLAIN_MAX_YEARS 8

/*
 * How a result came about. For working-day counts the "skipped" numbers and
 * the days[] list cover the days passed over inside the period; for
 * calendar-day periods they cover only the non-working days the end was
 * rolled over (weekends and holidays inside a calendar-day period count).
 * Names are borrowed from the calendar and live as long as it does.
 */
struct cal_explain {
	bool working_days;	/* unit: working days (true) or calendar days */
	bool backwards;		/* cal_sub_working_days() */
	bool makeup_counted;	/* make-up Saturdays counted as working days */
	cm_day_t from;		/* trigger (day 0), or the reference day when backwards */
	cm_day_t to;		/* the result */
	int n;			/* days asked for */
	int weekend_days_skipped;	/* Saturdays and Sundays not counted */
	int holidays_skipped;		/* weekday days off not counted */
	int makeup_counted_days;	/* make-up Saturdays that were counted */
	bool rolled;		/* calendar days: the nominal last day was not a working day */
	cm_day_t roll_from;	/* nominal last day (when rolled) */
	cm_day_t roll_to;	/* the working day it moved to (when rolled) */
	size_t n_days;		/* entries in days[] (holidays skipped and make-up days met) */
	bool days_truncated;	/* more than CAL_EXPLAIN_MAX_DAYS; counts stay exact */
	struct {
		cm_day_t day;
		enum cal_kind kind;
		const char *name;
	} days[CAL_EXPLAIN_MAX_DAYS];
	size_t n_years;		/* years spanned, oldest first */
	bool years_truncated;
	struct {
		int year;
		bool derived;
	} years[CAL_EXPLAIN_MAX_YEARS];
};

/**
 * Due date of a period of n working days triggered on `trigger`: the trigger
 * is day 0 and the n-th working day after it is the due day (n = 0 gives the
 * trigger itself). ex may be NULL.
 * Errors: -EINVAL for n < 0 or unknown flags; -ERANGE when the trigger or the
 * result is outside the supported range.
 */
int cal_add_working_days(const struct cal *cal, cm_day_t trigger, int n, unsigned flags,
			 cm_day_t *due, struct cal_explain *ex);

/**
 * Due date of a period of n calendar days triggered on `trigger`: day
 * trigger + n, moved forward to the next working day when it is not one
 * (Điều 148). ex may be NULL.
 * Errors: -EINVAL for n < 0 or unknown flags; -ERANGE when the trigger or the
 * result is outside the supported range.
 */
int cal_add_calendar_days(const struct cal *cal, cm_day_t trigger, int n, unsigned flags,
			  cm_day_t *due, struct cal_explain *ex);

/**
 * The n-th working day before `day`, counting back from the day before it
 * (the mirror of cal_add_working_days): the working day *out such that
 * exactly n working days lie in [*out, day). Use it for "warn 2 working days
 * before due" and for notices owed n working days ahead of an event. n = 0
 * gives day itself. ex may be NULL.
 * Errors: -EINVAL for n < 0 or unknown flags; -ERANGE when day or the result
 * is outside the supported range.
 */
int cal_sub_working_days(const struct cal *cal, cm_day_t day, int n, unsigned flags,
			 cm_day_t *out, struct cal_explain *ex);

/**
 * Working days in (from, to] into *count, negative when to < from (the count
 * in (to, from], negated): "working days left until due" is
 * cal_count_working_days(cal, today, due, ...).
 * Errors: -EINVAL for unknown flags; -ERANGE when either day is outside the range.
 */
int cal_count_working_days(const struct cal *cal, cm_day_t from, cm_day_t to, unsigned flags,
			   int *count);

/**
 * The first working day on or after day.
 * Errors: -EINVAL for unknown flags; -ERANGE when day or the result is outside the range.
 */
int cal_next_working_day(const struct cal *cal, cm_day_t day, unsigned flags, cm_day_t *out);

/**
 * Write ex as one line of text (Vietnamese names, English frame) into buf,
 * always NUL-terminated when len > 0. Returns the length the full text needs,
 * excluding the NUL, like snprintf.
 */
size_t cal_explain_format(const struct cal_explain *ex, char *buf, size_t len);

#endif

/*
 * clock.h - the only source of "now", and legal dates.
 *
 * Production uses the real clock. A service started in simulated-time mode
 * (config `clock = simulated`) uses a clock that only moves when a test or
 * the demo sets or advances it (a control message), so a 45-day deadline is
 * tested in milliseconds. Monotonic time for latency measurement is always real.
 *
 * Legal dates are calendar days in Asia/Ho_Chi_Minh (UTC+7; Vietnam has had
 * no daylight saving since 1975), represented as a day number: days since
 * 1970-01-01 in that zone (cm_day_t).
 */
#ifndef CM_CLOCK_H
#define CM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef int32_t cm_day_t;

#define CM_TZ_OFFSET_MS (7LL * 3600 * 1000)
#define CM_DAY_MS (86400LL * 1000)

/** Wall-clock now in milliseconds since the Unix epoch (real or simulated). */
int64_t cm_clock_now_ms(void);

/** Monotonic nanoseconds (always real), for measuring durations. */
uint64_t cm_clock_mono_ns(void);

/** Switch this process to simulated time starting at start_ms. */
void cm_clock_use_simulated(int64_t start_ms);
bool cm_clock_is_simulated(void);

/** Set or advance the simulated clock. Time never goes backwards.
 * Errors: -EPERM when the clock is real; -EINVAL when ms is earlier than now,
 * or delta is negative or would overflow. Calls the change listener after
 * every successful call (also when the instant did not change). Loop thread
 * only; cm_clock_now_ms() may be called from any thread. */
int cm_clock_set_ms(int64_t ms);
int cm_clock_advance_ms(int64_t delta_ms);

/** One listener told after every simulated move (the deadline service
 * re-arms its timer). fn and arg are borrowed; NULL removes it. */
void cm_clock_on_change(void (*fn)(void *arg), void *arg);

/* Legal dates. */
cm_day_t cm_day_from_ymd(int y, int m, int d);
void cm_day_to_ymd(cm_day_t day, int *y, int *m, int *d);
/** 0 = Monday ... 6 = Sunday. */
int cm_day_weekday(cm_day_t day);
/** Local (UTC+7) day containing the instant ms. */
cm_day_t cm_day_of_ms(int64_t ms);
/** First instant (00:00 local) of a day, in ms since the epoch. */
int64_t cm_day_start_ms(cm_day_t day);
/** Days in a month (m 1..12), leap years honoured; 0 for a month outside 1..12. */
int cm_days_in_month(int y, int m);

/** Parse "YYYY-MM-DD" strictly (real date, 1900..2999, nothing before or
 * after). *out is untouched on error. Errors: CM_EINVALID. */
int cm_day_parse(const char *s, cm_day_t *out);
/** Format as "YYYY-MM-DD" into buf (at least 11 bytes). */
void cm_day_format(cm_day_t day, char buf[11]);

/** Parse RFC 3339 ("2026-07-01T08:30:00+07:00", "...Z", fractional seconds
 * allowed) into ms since the epoch. The offset is required; a fraction has
 * 1..9 digits and is truncated to milliseconds; years 1900..2999 as for days;
 * leap seconds (":60") are refused. *out_ms is untouched on error.
 * Errors: CM_EINVALID. */
int cm_time_parse(const char *s, int64_t *out_ms);
/** Format ms as RFC 3339 in local time with +07:00, into buf (>= 30 bytes):
 * always with milliseconds, "2026-07-01T08:30:00.250+07:00". */
void cm_time_format(int64_t ms, char buf[30]);

#endif

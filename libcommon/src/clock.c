#include "common/clock.h"
#include "common/err.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * The simulated clock is read from worker threads too (a report job stamps
 * its output), so the instant and the mode are atomics; setting and the
 * listener belong to the loop thread.
 */
static atomic_bool sim_enabled;
static _Atomic int64_t sim_now_ms;
static void (*change_fn)(void *arg);
static void *change_arg;

#define MIN_YEAR 1900
#define MAX_YEAR 2999

int64_t cm_clock_now_ms(void)
{
	struct timespec ts;

	if (atomic_load(&sim_enabled))
		return atomic_load(&sim_now_ms);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t cm_clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cm_clock_use_simulated(int64_t start_ms)
{
	atomic_store(&sim_now_ms, start_ms);
	atomic_store(&sim_enabled, true);
}

bool cm_clock_is_simulated(void)
{
	return atomic_load(&sim_enabled);
}

static void notify(void)
{
	if (change_fn)
		change_fn(change_arg);
}

int cm_clock_set_ms(int64_t ms)
{
	if (!atomic_load(&sim_enabled))
		return -EPERM;
	if (ms < atomic_load(&sim_now_ms))
		return -EINVAL;
	atomic_store(&sim_now_ms, ms);
	notify();
	return 0;
}

int cm_clock_advance_ms(int64_t delta_ms)
{
	int64_t now;

	if (!atomic_load(&sim_enabled))
		return -EPERM;
	now = atomic_load(&sim_now_ms);
	if (delta_ms < 0 || delta_ms > INT64_MAX - now)
		return -EINVAL;
	atomic_store(&sim_now_ms, now + delta_ms);
	notify();
	return 0;
}

void cm_clock_on_change(void (*fn)(void *arg), void *arg)
{
	change_fn = fn;
	change_arg = fn ? arg : NULL;
}

/* Floor division and modulo: C rounds toward zero, calendars do not. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int cm_days_in_month(int y, int m)
{
	static const unsigned char len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m < 1 || m > 12)
		return 0;
	if (m == 2 && is_leap(y))
		return 29;
	return len[m - 1];
}

/*
 * Day arithmetic counts years from March, so the leap day is the last day
 * of a "year" and month lengths before it never depend on leapness. The
 * Gregorian calendar repeats every 400 years (146097 days), which lets us
 * work inside one cycle with small non-negative numbers.
 */
#define CYCLE_DAYS 146097
/* Day number of 0000-03-01 relative to 1970-01-01. */
#define EPOCH_SHIFT 719468

/* Days from March 1 to the first of month index mi (0 = March ... 11 = Feb):
 * the month lengths 31,30,31,30,31 repeat, giving 153 days per 5 months. */
static int days_before_month(int mi)
{
	return (153 * mi + 2) / 5;
}

cm_day_t cm_day_from_ymd(int y, int m, int d)
{
	int64_t year = (int64_t)y - (m <= 2);
	int64_t cycle = floor_div(year, 400);
	int64_t yic = year - cycle * 400;		/* 0..399 */
	int mi = m > 2 ? m - 3 : m + 9;			/* March-based month */
	int64_t dic = yic * 365 + yic / 4 - yic / 100 + days_before_month(mi) + d - 1;

	return (cm_day_t)(cycle * CYCLE_DAYS + dic - EPOCH_SHIFT);
}

void cm_day_to_ymd(cm_day_t day, int *y, int *m, int *d)
{
	int64_t z = (int64_t)day + EPOCH_SHIFT;
	int64_t cycle = floor_div(z, CYCLE_DAYS);
	int64_t dic = z - cycle * CYCLE_DAYS;		/* 0..146096 */
	/* Undo the leap-day corrections: one less day every 4 years (1460
	 * days), one more every 100 (36524), one less again at the 400th. */
	int64_t yic = (dic - dic / 1460 + dic / 36524 - dic / (CYCLE_DAYS - 1)) / 365;
	int64_t doy = dic - (yic * 365 + yic / 4 - yic / 100);	/* 0..365 */
	int mi = (int)((5 * doy + 2) / 153);
	int month = mi < 10 ? mi + 3 : mi - 9;

	if (d)
		*d = (int)(doy - days_before_month(mi) + 1);
	if (m)
		*m = month;
	if (y)
		*y = (int)(yic + cycle * 400 + (month <= 2));
}

int cm_day_weekday(cm_day_t day)
{
	/* 1970-01-01 was a Thursday, index 3 with Monday = 0. */
	return (int)floor_mod((int64_t)day + 3, 7);
}

cm_day_t cm_day_of_ms(int64_t ms)
{
	/* Saturating keeps the addition defined for instants no caller should
	 * ever pass; the day it yields is meaningless but harmless. */
	if (ms > INT64_MAX - CM_TZ_OFFSET_MS)
		ms = INT64_MAX - CM_TZ_OFFSET_MS;
	return (cm_day_t)floor_div(ms + CM_TZ_OFFSET_MS, CM_DAY_MS);
}

int64_t cm_day_start_ms(cm_day_t day)
{
	return (int64_t)day * CM_DAY_MS - CM_TZ_OFFSET_MS;
}

/* Read exactly n decimal digits; -1 if any is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Parse "YYYY-MM-DD" at s (the caller checks what follows). */
static int parse_ymd(const char *s, int *y, int *m, int *d)
{
	*y = digits(s, 4);
	if (*y < 0 || s[4] != '-')
		return CM_EINVALID;
	*m = digits(s + 5, 2);
	if (*m < 0 || s[7] != '-')
		return CM_EINVALID;
	*d = digits(s + 8, 2);
	if (*d < 0)
		return CM_EINVALID;
	if (*y < MIN_YEAR || *y > MAX_YEAR || *m < 1 || *m > 12 || *d < 1 ||
	    *d > cm_days_in_month(*y, *m))
		return CM_EINVALID;
	return 0;
}

int cm_day_parse(const char *s, cm_day_t *out)
{
	int y, m, d, err;

	if (!s)
		return CM_EINVALID;
	/* digits() stops at the first non-digit, so a short string fails
	 * before anything past its NUL is read. */
	err = parse_ymd(s, &y, &m, &d);
	if (err)
		return err;
	if (s[10] != '\0')
		return CM_EINVALID;
	*out = cm_day_from_ymd(y, m, d);
	return 0;
}

static void put_digits(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Writes 10 characters; years outside 0..9999 cannot be shown in four
 * digits and are clamped rather than overflowing the caller's buffer. */
static void format_ymd(char *p, cm_day_t day)
{
	int y, m, d;

	cm_day_to_ymd(day, &y, &m, &d);
	if (y < 0)
		y = 0;
	if (y > 9999)
		y = 9999;
	put_digits(p, y, 4);
	p[4] = '-';
	put_digits(p + 5, m, 2);
	p[7] = '-';
	put_digits(p + 8, d, 2);
}

void cm_day_format(cm_day_t day, char buf[11])
{
	format_ymd(buf, day);
	buf[10] = '\0';
}

int cm_time_parse(const char *s, int64_t *out_ms)
{
	int y, m, d, hh, mm, ss, oh, om, sign, err;
	int64_t ms = 0, t;
	const char *p;

	if (!s)
		return CM_EINVALID;
	err = parse_ymd(s, &y, &m, &d);
	if (err)
		return err;
	if (s[10] != 'T' && s[10] != 't')
		return CM_EINVALID;
	hh = digits(s + 11, 2);
	if (hh < 0 || s[13] != ':')
		return CM_EINVALID;
	mm = digits(s + 14, 2);
	if (mm < 0 || s[16] != ':')
		return CM_EINVALID;
	ss = digits(s + 17, 2);
	/* Leap seconds (":60") are refused: nothing upstream produces them and
	 * accepting them would make two strings name the same instant. */
	if (ss < 0 || hh > 23 || mm > 59 || ss > 59)
		return CM_EINVALID;
	p = s + 19;
	if (*p == '.') {
		int n = 0;

		p++;
		while (*p >= '0' && *p <= '9') {
			/* Only milliseconds are kept; finer digits are truncated. */
			if (n < 3)
				ms = ms * 10 + (*p - '0');
			n++;
			p++;
		}
		if (n == 0 || n > 9)
			return CM_EINVALID;
		for (; n < 3; n++)
			ms *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		sign = 0;
		oh = om = 0;
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		oh = digits(p + 1, 2);
		if (oh < 0 || p[3] != ':')
			return CM_EINVALID;
		om = digits(p + 4, 2);
		if (om < 0 || oh > 23 || om > 59)
			return CM_EINVALID;
		p += 6;
	} else {
		return CM_EINVALID;
	}
	if (*p != '\0')
		return CM_EINVALID;

	t = (int64_t)cm_day_from_ymd(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
	t -= (int64_t)sign * (oh * 3600 + om * 60);
	*out_ms = t * 1000 + ms;
	return 0;
}

void cm_time_format(int64_t ms, char buf[30])
{
	int64_t in_day, secs;

	if (ms > INT64_MAX - CM_TZ_OFFSET_MS)
		ms = INT64_MAX - CM_TZ_OFFSET_MS;
	in_day = floor_mod(ms + CM_TZ_OFFSET_MS, CM_DAY_MS);
	secs = in_day / 1000;

	format_ymd(buf, cm_day_of_ms(ms));
	buf[10] = 'T';
	put_digits(buf + 11, (int)(secs / 3600), 2);
	buf[13] = ':';
	put_digits(buf + 14, (int)(secs / 60 % 60), 2);
	buf[16] = ':';
	put_digits(buf + 17, (int)(secs % 60), 2);
	buf[19] = '.';
	put_digits(buf + 20, (int)(in_day % 1000), 3);
	buf[23] = '+';
	buf[24] = '0';
	buf[25] = '7';
	buf[26] = ':';
	buf[27] = '0';
	buf[28] = '0';
	buf[29] = '\0';
}

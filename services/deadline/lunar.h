/*
 * lunar.h - the Vietnamese lunar calendar (âm lịch), for Tết and Giỗ Tổ.
 *
 * The method is the one Hồ Ngọc Đức published for the Vietnamese calendar:
 * a month starts on the local day of an astronomical new moon, month 11 is
 * the month that holds the winter solstice, and in a 13-month year the first
 * month after month 11 without a major solar term (the sun stays in one
 * 30-degree sector from its first day to the next month's first day) is the
 * leap month, numbered like the month before it. Days are civil days at
 * UTC+7, which is why Vietnam and China (UTC+8) sometimes disagree: Tết 2007
 * is 17 Feb in Vietnam and 18 Feb in China.
 *
 * New moons use Meeus's low-precision series and the sun's true longitude his
 * short solar theory; both are good to well under an hour over 1900..2199,
 * the range accepted here. Pure functions: no state, no clock.
 */
#ifndef DEADLINE_LUNAR_H
#define DEADLINE_LUNAR_H

#include <stdbool.h>

#include "common/clock.h"

#define LUNAR_MIN_YEAR 1900
#define LUNAR_MAX_YEAR 2199
#define LUNAR_TZ_VIETNAM 7

/* A lunar date. year is the solar year in which that lunar year's Tết falls;
 * month 1..12; day 1..30; leap marks the second (intercalary) copy of a month. */
struct lunar_date {
	int year;
	int month;
	int day;
	bool leap;
};

/** Lunar date of a solar day (UTC+7).
 * Errors: -ERANGE when the day's solar year is outside LUNAR_MIN_YEAR..LUNAR_MAX_YEAR. */
int lunar_from_day(cm_day_t day, struct lunar_date *out);

/** Solar day of a lunar date (UTC+7).
 * Errors: -ERANGE when ld->year is outside the supported range; -EINVAL when the
 * date does not exist (month not 1..12, day not 1..30, day 30 of a 29-day month,
 * or leap set on a month that is not the leap month of that year). */
int lunar_to_day(const struct lunar_date *ld, cm_day_t *out);

/** First day of Tết (1/1 lunar) that falls in solar year `year`.
 * Errors: -ERANGE outside the supported range. */
int lunar_new_year(int year, cm_day_t *out);

/** Same, computed for another time zone (whole hours east of UTC, -12..14);
 * only for comparing with other calendars (China uses 8).
 * Errors: -ERANGE outside the supported range; -EINVAL for a bad zone. */
int lunar_new_year_tz(int year, int tz_hours, cm_day_t *out);

/** Giỗ Tổ Hùng Vương of solar year `year`: day 10 of (non-leap) month 3.
 * Errors: -ERANGE outside the supported range. */
int lunar_gio_to(int year, cm_day_t *out);

#endif

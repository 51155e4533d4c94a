#include "lunar.h"

#include <errno.h>
#include <math.h>

/* Mean length of a lunation, in days. */
#define SYNODIC_MONTH 29.530588853
/* Julian Day Number of 1970-01-01, the origin of cm_day_t. */
#define JDN_UNIX_EPOCH 2440588
/* Julian date near the first new moon of 1900 (lunation 0) that turns a day
 * into an approximate lunation index. */
#define LUNATION0_JD 2415021.076998695
#define DEG_TO_RAD (3.14159265358979323846 / 180.0)

/* Reduce before sin(): the series' angles reach 10^5 degrees by 2199. */
static double sin_deg(double deg)
{
	return sin(fmod(deg, 360.0) * DEG_TO_RAD);
}

/*
 * Julian date (UT) of new moon number k, k = 0 being the new moon of
 * 1900-01-01. Meeus's short series for the true new moon: mean phase plus
 * the largest periodic terms in the sun's anomaly m, the moon's anomaly mp
 * and the moon's argument of latitude f, then the ephemeris-to-universal
 * time correction.
 */
static double new_moon_jd(int k)
{
	double t = k / 1236.85;
	double t2 = t * t;
	double t3 = t2 * t;
	double m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3;
	double mp = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3;
	double f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3;
	double mean, corr, delta_t;

	mean = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3 +
	       0.00033 * sin_deg(166.56 + 132.87 * t - 0.009173 * t2);

	corr = (0.1734 - 0.000393 * t) * sin_deg(m)
	       + 0.0021 * sin_deg(2 * m)
	       - 0.4068 * sin_deg(mp)
	       + 0.0161 * sin_deg(2 * mp)
	       - 0.0004 * sin_deg(3 * mp)
	       + 0.0104 * sin_deg(2 * f)
	       - 0.0051 * sin_deg(m + mp)
	       - 0.0074 * sin_deg(m - mp)
	       + 0.0004 * sin_deg(2 * f + m)
	       - 0.0004 * sin_deg(2 * f - m)
	       - 0.0006 * sin_deg(2 * f + mp)
	       + 0.0010 * sin_deg(2 * f - mp)
	       + 0.0005 * sin_deg(2 * mp + m);

	/* Delta T in days; the first branch only matters before the 9th century. */
	if (t < -11)
		delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 -
			  0.000000081 * t * t3;
	else
		delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2;

	return mean + corr - delta_t;
}

/* The civil day at UTC+tz on which new moon k falls: that day is the 1st. */
static cm_day_t new_moon_day(int k, int tz)
{
	return (cm_day_t)floor(new_moon_jd(k) + 0.5 + tz / 24.0) - JDN_UNIX_EPOCH;
}

/*
 * The 30-degree sector (0..11) holding the sun's true longitude at the local
 * midnight that starts `day`. Sector 9 begins at the winter solstice (270
 * degrees); a month whose first day and the next month's first day share a
 * sector has no major solar term.
 */
static int sun_sector(cm_day_t day, int tz)
{
	double jd = (double)day + JDN_UNIX_EPOCH - 0.5 - tz / 24.0;
	double t = (jd - 2451545.0) / 36525.0;
	double t2 = t * t;
	double l0 = 280.46646 + 36000.76983 * t + 0.0003032 * t2;
	double m = 357.52911 + 35999.05029 * t - 0.0001537 * t2;
	double c = (1.914602 - 0.004817 * t - 0.000014 * t2) * sin_deg(m) +
		   (0.019993 - 0.000101 * t) * sin_deg(2 * m) + 0.000289 * sin_deg(3 * m);
	double l = fmod(l0 + c, 360.0);

	if (l < 0)
		l += 360.0;
	return (int)(l / 30.0) % 12;
}

/*
 * Lunation number of month 11 of the lunar year in progress at the end of
 * solar year y: the month holding the winter solstice. Start from the mean
 * lunation at 31 December; if the sun is already past 270 degrees when that
 * month begins, the solstice fell in the month before.
 */
static int month11(int y, int tz)
{
	double jd_dec31 = (double)cm_day_from_ymd(y, 12, 31) + JDN_UNIX_EPOCH;
	int k = (int)floor((jd_dec31 - 2415021.0) / SYNODIC_MONTH);

	if (sun_sector(new_moon_day(k, tz), tz) >= 9)
		k--;
	return k;
}

/*
 * In a 13-month year whose month 11 is lunation k11, how many months after
 * month 11 the leap month comes (1..12): the first month in which the sun
 * does not enter a new sector. 13 means none was found.
 */
static int leap_offset(int k11, int tz)
{
	int prev = sun_sector(new_moon_day(k11 + 1, tz), tz);

	for (int i = 2; i <= 13; i++) {
		int cur = sun_sector(new_moon_day(k11 + i, tz), tz);

		if (cur == prev)
			return i - 1;
		prev = cur;
	}
	return 13;
}

static bool year_ok(int y)
{
	return y >= LUNAR_MIN_YEAR && y <= LUNAR_MAX_YEAR;
}

static int to_day_tz(const struct lunar_date *ld, int tz, cm_day_t *out)
{
	int ka, kb, off;
	cm_day_t start, next;

	if (!year_ok(ld->year))
		return -ERANGE;
	if (ld->month < 1 || ld->month > 12 || ld->day < 1 || ld->day > 30)
		return -EINVAL;

	/* Count months from the month 11 that opens the stretch holding this month. */
	if (ld->month < 11) {
		ka = month11(ld->year - 1, tz);
		kb = month11(ld->year, tz);
	} else {
		ka = month11(ld->year, tz);
		kb = month11(ld->year + 1, tz);
	}
	off = (ld->month + 12 - 11) % 12;

	if (kb - ka == 13) {
		int lo = leap_offset(ka, tz);
		int leap_month = (lo + 9) % 12 + 1;

		if (lo > 12) {
			if (ld->leap)
				return -EINVAL;
		} else {
			if (ld->leap && ld->month != leap_month)
				return -EINVAL;
			/* The leap copy sits right after its month; later months shift by one. */
			if (ld->leap || off >= lo)
				off++;
		}
	} else if (ld->leap) {
		return -EINVAL;
	}

	start = new_moon_day(ka + off, tz);
	next = new_moon_day(ka + off + 1, tz);
	if (ld->day > next - start)
		return -EINVAL;
	*out = start + ld->day - 1;
	return 0;
}

int lunar_to_day(const struct lunar_date *ld, cm_day_t *out)
{
	return to_day_tz(ld, LUNAR_TZ_VIETNAM, out);
}

int lunar_from_day(cm_day_t day, struct lunar_date *out)
{
	const int tz = LUNAR_TZ_VIETNAM;
	int y, m, d, k, ka, kb, diff, month, lyear;
	bool leap = false;

	cm_day_to_ymd(day, &y, &m, &d);
	if (!year_ok(y))
		return -ERANGE;

	/* The mean lunation is within a day or so of the true one; settle it. */
	k = (int)floor(((double)day + JDN_UNIX_EPOCH - LUNATION0_JD) / SYNODIC_MONTH);
	while (new_moon_day(k + 1, tz) <= day)
		k++;
	while (new_moon_day(k, tz) > day)
		k--;

	ka = month11(y, tz);
	if (ka <= k) {
		/* Month 11 of this solar year has begun: the lunar year of next Tết. */
		lyear = y + 1;
		kb = month11(y + 1, tz);
	} else {
		lyear = y;
		kb = ka;
		ka = month11(y - 1, tz);
	}

	diff = k - ka;
	month = diff + 11;
	if (kb - ka == 13) {
		int lo = leap_offset(ka, tz);

		if (diff >= lo) {
			month = diff + 10;
			leap = diff == lo;
		}
	}
	if (month > 12)
		month -= 12;
	/* Months 11 and 12 (and a leap copy) before Tết belong to the old year. */
	if (month >= 11 && diff < 4)
		lyear--;

	out->year = lyear;
	out->month = month;
	out->day = (int)(day - new_moon_day(k, tz)) + 1;
	out->leap = leap;
	return 0;
}

int lunar_new_year_tz(int year, int tz_hours, cm_day_t *out)
{
	struct lunar_date ld = {.year = year, .month = 1, .day = 1, .leap = false};

	if (tz_hours < -12 || tz_hours > 14)
		return -EINVAL;
	return to_day_tz(&ld, tz_hours, out);
}

int lunar_new_year(int year, cm_day_t *out)
{
	return lunar_new_year_tz(year, LUNAR_TZ_VIETNAM, out);
}

int lunar_gio_to(int year, cm_day_t *out)
{
	struct lunar_date ld = {.year = year, .month = 3, .day = 10, .leap = false};

	return to_day_tz(&ld, LUNAR_TZ_VIETNAM, out);
}

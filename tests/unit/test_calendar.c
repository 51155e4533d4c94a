/*
 * test_calendar.c - working-day calendar (services/deadline/calendar.c).
 *
 * Every vector below was worked out by hand from a printed calendar and the
 * shipped data files (legal-reference.md §8.4); the comment beside each one
 * is that working. Days off on weekdays:
 *   2025: 1/1; 27/1-31/1; 7/4; 30/4; 1/5; 2/5 (swap); 1/9; 2/9; make-up Sat 26/4.
 *   2026: 1/1; 2/1 (swap); 16/2-20/2; 27/4 (nghỉ bù Giỗ Tổ); 30/4; 1/5;
 *         31/8 (swap); 1/9; 2/9; make-up Sat 10/1 and 22/8; 24/11 only with its flag.
 *   2024 and 2027 have no file and are derived (1/1/2027 is a Friday).
 * "MK" marks make-up Saturdays counted (the default), "IG" the
 * CAL_F_IGNORE_MAKEUP flag.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "calendar.h"
#include "common/err.h"

#ifndef CAL_DATA_DIR
#error "CAL_DATA_DIR must name data/calendar"
#endif

#define IG CAL_F_IGNORE_MAKEUP

static cm_day_t D(int y, int m, int d)
{
	return cm_day_from_ymd(y, m, d);
}

static struct cal *load_shipped(const char *const *flags)
{
	struct cal_options opt;
	struct cal *c = NULL;
	char err[CAL_ERR_LEN];

	cal_options_default(&opt);
	opt.flags = flags;
	if (cal_load(CAL_DATA_DIR, &opt, &c, err, sizeof(err)) != 0)
		fail_msg("loading %s: %s", CAL_DATA_DIR, err);
	return c;
}

static int setup(void **state)
{
	*state = load_shipped(NULL);
	return 0;
}

static int teardown(void **state)
{
	struct cal *c = *state;

	cal_free(&c);
	assert_null(c);
	return 0;
}

struct vec {
	int ty, tm, td;	/* trigger (day 0), or reference day when counting back */
	int n;
	unsigned flags;
	int ry, rm, rd;	/* expected result */
};

static void check_days(const struct vec *v, size_t nv,
		       int (*fn)(const struct cal *, cm_day_t, int, unsigned, cm_day_t *,
				 struct cal_explain *),
		       const struct cal *c, const char *what)
{
	for (size_t i = 0; i < nv; i++) {
		cm_day_t got = 0;
		int y, m, d;
		int rc = fn(c, D(v[i].ty, v[i].tm, v[i].td), v[i].n, v[i].flags, &got, NULL);

		if (rc != 0)
			fail_msg("%s vector %zu: rc %d", what, i, rc);
		cm_day_to_ymd(got, &y, &m, &d);
		if (got != D(v[i].ry, v[i].rm, v[i].rd))
			fail_msg("%s vector %zu (%04d-%02d-%02d + %d): got %04d-%02d-%02d, want "
				 "%04d-%02d-%02d", what, i, v[i].ty, v[i].tm, v[i].td, v[i].n, y, m,
				 d, v[i].ry, v[i].rm, v[i].rd);
	}
}

static void test_working_days(void **state)
{
	static const struct vec v[] = {
		/* Tết Ất Tỵ 2025. */
		{2025, 1, 24, 5, 0, 2025, 2, 7},	/* Sat25 Sun26, 27-31 off, Sat1 Sun2; Mon3=1 .. Fri7=5 */
		{2025, 1, 23, 1, 0, 2025, 1, 24},	/* Fri24=1 */
		{2025, 1, 23, 2, 0, 2025, 2, 3},	/* Fri24=1, 25/1-2/2 all off, Mon3/2=2 */
		{2025, 1, 29, 1, 0, 2025, 2, 3},	/* trigger on Tết itself: 30,31 off, 1-2 weekend, Mon3=1 */
		{2025, 1, 13, 10, 0, 2025, 2, 3},	/* Tue14..Fri17=4, Mon20..Fri24=9, Mon3/2=10 */
		/* Tết Bính Ngọ 2026. */
		{2026, 2, 13, 1, 0, 2026, 2, 23},	/* 14-15 weekend, 16-20 off, 21-22 weekend, Mon23=1 */
		{2026, 2, 11, 3, 0, 2026, 2, 23},	/* Thu12=1, Fri13=2, Mon23=3 */
		{2026, 2, 10, 10, 0, 2026, 3, 3},	/* 11,12,13=3; 23..27=8; Mon2/3=9, Tue3/3=10 */
		/* 30/4-1/5 2025: make-up Saturday 26/4, swap Friday 2/5. */
		{2025, 4, 25, 1, 0, 2025, 4, 26},	/* MK: Sat26 is a working day */
		{2025, 4, 25, 1, IG, 2025, 4, 28},	/* IG: Sat26, Sun27 skipped, Mon28=1 */
		{2025, 4, 25, 3, 0, 2025, 4, 29},	/* MK: Sat26=1, Mon28=2, Tue29=3 */
		{2025, 4, 25, 3, IG, 2025, 5, 5},	/* IG: Mon28=1, Tue29=2, 30/4-4/5 off, Mon5=3 */
		{2025, 4, 29, 1, 0, 2025, 5, 5},	/* Wed30, Thu1, Fri2 off, Sat3 Sun4, Mon5=1 */
		{2025, 4, 24, 5, 0, 2025, 5, 5},	/* MK: Fri25, Sat26, Mon28, Tue29 = 4, Mon5=5 */
		{2025, 4, 24, 5, IG, 2025, 5, 6},	/* IG: Fri25, Mon28, Tue29 = 3, Mon5=4, Tue6=5 */
		/* Giỗ Tổ. */
		{2025, 4, 4, 1, 0, 2025, 4, 8},		/* Sat5 Sun6, Mon7 Giỗ Tổ, Tue8=1 */
		{2026, 4, 24, 1, 0, 2026, 4, 28},	/* Sat25, Sun26 (Giỗ Tổ), Mon27 nghỉ bù, Tue28=1 */
		{2026, 4, 24, 3, 0, 2026, 5, 4},	/* Tue28=1, Wed29=2, Thu30 Fri1 off, Mon4/5=3 */
		/* Quốc khánh. */
		{2025, 8, 29, 1, 0, 2025, 9, 3},	/* Sat30 Sun31, Mon1/9 Tue2/9 off, Wed3=1 */
		{2026, 8, 21, 1, 0, 2026, 8, 22},	/* MK: Sat22 make-up day */
		{2026, 8, 21, 1, IG, 2026, 8, 24},	/* IG: Sat22 Sun23 skipped, Mon24=1 */
		{2026, 8, 28, 1, 0, 2026, 9, 3},	/* Sat29 Sun30, Mon31 swap, Tue1 Wed2 off, Thu3=1 */
		{2026, 8, 20, 7, 0, 2026, 8, 28},	/* MK: Fri21, Sat22, Mon24..Fri28 = 7 */
		{2026, 8, 20, 7, IG, 2026, 9, 3},	/* IG: Fri21, Mon24..Fri28 = 6, 29/8-2/9 off, Thu3=7 */
		/* Tết Dương lịch 2026: 1/1 holiday, 2/1 swapped for Saturday 10/1. */
		{2025, 12, 31, 1, 0, 2026, 1, 5},	/* Thu1, Fri2 off, Sat3 Sun4, Mon5=1 */
		{2025, 12, 31, 5, 0, 2026, 1, 9},	/* Mon5..Fri9 = 5 */
		{2025, 12, 31, 6, 0, 2026, 1, 10},	/* MK: Sat10 = 6 */
		{2025, 12, 31, 6, IG, 2026, 1, 12},	/* IG: Sat10 Sun11 skipped, Mon12 = 6 */
		/* Year boundaries with derived years. */
		{2024, 12, 30, 2, 0, 2025, 1, 2},	/* Tue31=1, Wed1/1 off, Thu2=2 */
		{2024, 12, 27, 3, 0, 2025, 1, 2},	/* Sat28 Sun29, Mon30=1, Tue31=2, Thu2/1=3 */
		{2026, 12, 31, 1, 0, 2027, 1, 4},	/* Fri1/1/2027 off (derived), Sat2 Sun3, Mon4=1 */
		/* Whole years: 2025 has 261 weekdays - 12 off + 1 make-up = 250. */
		{2024, 12, 31, 250, 0, 2025, 12, 31},	/* the last working day of 2025 */
		{2024, 12, 31, 251, 0, 2026, 1, 5},	/* 1/1, 2/1 off, weekend, Mon5 */
		{2024, 12, 31, 249, IG, 2025, 12, 31},	/* IG: 261 - 12 = 249 */
		/* n = 0 is the trigger itself, even on a day off. */
		{2026, 2, 17, 0, 0, 2026, 2, 17},
	};

	check_days(v, sizeof(v) / sizeof(v[0]), cal_add_working_days, *state, "working");
}

static void test_calendar_days(void **state)
{
	static const struct vec v[] = {
		/* 18/1 + 30 = Tue 17/2/2026, Tết: 18-20 off, 21-22 weekend, Mon23. */
		{2026, 1, 18, 30, 0, 2026, 2, 23},
		/* 19/12/2025 + 30 = Sun 18/1/2026 -> Mon 19/1. */
		{2025, 12, 19, 30, 0, 2026, 1, 19},
		/* 2/5/2025 + 30 = Sun 1/6/2025 -> Mon 2/6. */
		{2025, 5, 2, 30, 0, 2025, 6, 2},
		/* 15/3/2025 + 45 = Tue 29/4 (16 days to 31/3, 29 more): working, no roll. */
		{2025, 3, 15, 45, 0, 2025, 4, 29},
		/* 16/3/2025 + 45 = Wed 30/4: 1/5, 2/5 off, weekend, Mon 5/5. */
		{2025, 3, 16, 45, 0, 2025, 5, 5},
		/* 27/3/2025 + 30 = Sat 26/4, the make-up day: MK it stands ... */
		{2025, 3, 27, 30, 0, 2025, 4, 26},
		/* ... IG it rolls past Sunday 27/4 to Mon 28/4. */
		{2025, 3, 27, 30, IG, 2025, 4, 28},
		/* 1/8/2026 + 30 = Mon 31/8 swap; 1/9, 2/9 off; Thu 3/9. */
		{2026, 8, 1, 30, 0, 2026, 9, 3},
		/* 2/12/2026 + 30 = Fri 1/1/2027 (derived holiday); weekend; Mon 4/1/2027. */
		{2026, 12, 2, 30, 0, 2027, 1, 4},
		/* 25/12/2025 + 7 = Thu 1/1/2026; Fri 2/1 swap; weekend; Mon 5/1. */
		{2025, 12, 25, 7, 0, 2026, 1, 5},
		/* 24/8/2026 + 6 = Sun 30/8; Mon 31/8, 1/9, 2/9 off; Thu 3/9. */
		{2026, 8, 24, 6, 0, 2026, 9, 3},
		/* 2/1/2026 + 8 = Sat 10/1 make-up: MK stands, IG -> Mon 12/1. */
		{2026, 1, 2, 8, 0, 2026, 1, 10},
		{2026, 1, 2, 8, IG, 2026, 1, 12},
		/* 6/4/2026 + 20 = Sun 26/4 (Giỗ Tổ); Mon 27/4 nghỉ bù; Tue 28/4. */
		{2026, 4, 6, 20, 0, 2026, 4, 28},
		/* 1/1/2026 + 45 = Mon 16/2/2026 (first Tết day off); -> Mon 23/2. */
		{2026, 1, 1, 45, 0, 2026, 2, 23},
	};

	check_days(v, sizeof(v) / sizeof(v[0]), cal_add_calendar_days, *state, "calendar");
}

static void test_backwards(void **state)
{
	static const struct vec v[] = {
		/* Before Mon 23/2/2026: 22-21 weekend, 20-16 off, 15-14 weekend, Fri 13/2. */
		{2026, 2, 23, 1, 0, 2026, 2, 13},
		/* 13=1, 12=2, 11=3, 10=4, Mon 9/2=5. */
		{2026, 2, 23, 5, 0, 2026, 2, 9},
		/* Mirror of the forward vector 10/2 + 10 WD = 3/3: Mon2/3, Fri27..Mon23 = 6, 13,12,11,10. */
		{2026, 3, 3, 10, 0, 2026, 2, 10},
		/* Before Mon 5/5/2025: 2/5, 1/5, 30/4 off, Tue29=1, Mon28=2. */
		{2025, 5, 5, 2, 0, 2025, 4, 28},
		/* MK: Sun27 skipped, Sat 26/4 = 3. */
		{2025, 5, 5, 3, 0, 2025, 4, 26},
		/* IG: Sat 26/4 skipped, Fri 25/4 = 3. */
		{2025, 5, 5, 3, IG, 2025, 4, 25},
		/* Before Mon 5/1/2026: weekend, 2/1 and 1/1 off, Wed 31/12/2025. */
		{2026, 1, 5, 1, 0, 2025, 12, 31},
		/* Warning 2 WD before a due day of Thu 3/9/2026: 2/9,1/9,31/8 off, weekend, Fri28=1, Thu27=2. */
		{2026, 9, 3, 2, 0, 2026, 8, 27},
		/* Across the derived 2027 New Year: before Mon 4/1/2027, 1/1 off, Thu 31/12/2026. */
		{2027, 1, 4, 1, 0, 2026, 12, 31},
	};

	check_days(v, sizeof(v) / sizeof(v[0]), cal_sub_working_days, *state, "backwards");
}

static void test_count_and_next(void **state)
{
	const struct cal *c = *state;
	cm_day_t d;
	int n;

	/* (13/2, 23/2] holds only Mon 23/2. */
	assert_int_equal(cal_count_working_days(c, D(2026, 2, 13), D(2026, 2, 23), 0, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cal_count_working_days(c, D(2026, 2, 23), D(2026, 2, 13), 0, &n), 0);
	assert_int_equal(n, -1);
	/* (25/4, 5/5/2025]: Sat26 (MK), Mon28, Tue29, Mon5 = 4; IG 3. */
	assert_int_equal(cal_count_working_days(c, D(2025, 4, 25), D(2025, 5, 5), 0, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(cal_count_working_days(c, D(2025, 4, 25), D(2025, 5, 5), IG, &n), 0);
	assert_int_equal(n, 3);
	/* All of 2026: 261 weekdays - 13 off + 2 make-up = 250; IG 248. */
	assert_int_equal(cal_count_working_days(c, D(2025, 12, 31), D(2026, 12, 31), 0, &n), 0);
	assert_int_equal(n, 250);
	assert_int_equal(cal_count_working_days(c, D(2025, 12, 31), D(2026, 12, 31), IG, &n), 0);
	assert_int_equal(n, 248);
	assert_int_equal(cal_count_working_days(c, D(2026, 3, 3), D(2026, 3, 3), 0, &n), 0);
	assert_int_equal(n, 0);

	/* Sat 14/2/2026 -> Mon 23/2; a working day is its own next. */
	assert_int_equal(cal_next_working_day(c, D(2026, 2, 14), 0, &d), 0);
	assert_int_equal(d, D(2026, 2, 23));
	assert_int_equal(cal_next_working_day(c, D(2026, 2, 23), 0, &d), 0);
	assert_int_equal(d, D(2026, 2, 23));
	assert_int_equal(cal_next_working_day(c, D(2026, 1, 10), 0, &d), 0);
	assert_int_equal(d, D(2026, 1, 10));
	assert_int_equal(cal_next_working_day(c, D(2026, 1, 10), IG, &d), 0);
	assert_int_equal(d, D(2026, 1, 12));
}

static void test_day_info(void **state)
{
	const struct cal *c = *state;
	struct cal_day info;

	assert_false(cal_is_working_day(c, D(2025, 1, 27), 0));	/* Tết */
	assert_true(cal_is_working_day(c, D(2025, 2, 3), 0));
	assert_true(cal_is_working_day(c, D(2025, 4, 26), 0));	/* make-up, MK */
	assert_false(cal_is_working_day(c, D(2025, 4, 26), IG));
	assert_false(cal_is_working_day(c, D(2026, 4, 26), 0));	/* Sunday Giỗ Tổ */
	assert_false(cal_is_working_day(c, D(2026, 4, 27), 0));	/* its nghỉ bù */
	assert_true(cal_is_working_day(c, D(2026, 11, 24), 0));	/* flag off by default */
	assert_false(cal_is_working_day(c, D(1989, 12, 29), 0));	/* out of range */

	assert_int_equal(cal_day_info(c, D(2026, 4, 27), 0, &info), 0);
	assert_int_equal(info.weekday, 0);
	assert_false(info.working);
	assert_int_equal(info.kind, CAL_KIND_COMPENSATORY);
	assert_non_null(strstr(info.name, "Giỗ Tổ"));
	assert_false(info.derived);

	assert_int_equal(cal_day_info(c, D(2026, 1, 2), 0, &info), 0);
	assert_int_equal(info.kind, CAL_KIND_SWAP);
	assert_int_equal(cal_day_info(c, D(2026, 8, 22), 0, &info), 0);
	assert_int_equal(info.kind, CAL_KIND_MAKEUP);
	assert_true(info.working);
	assert_int_equal(cal_day_info(c, D(2026, 8, 22), IG, &info), 0);
	assert_false(info.working);

	/* 2027 has no file: 1/1 derived. */
	assert_int_equal(cal_day_info(c, D(2027, 1, 1), 0, &info), 0);
	assert_int_equal(info.kind, CAL_KIND_HOLIDAY);
	assert_true(info.derived);
	assert_string_equal(info.name, "Tết Dương lịch");

	assert_int_equal(cal_year_from_file(c, 2025), 1);
	assert_int_equal(cal_year_from_file(c, 2026), 1);
	assert_int_equal(cal_year_from_file(c, 2027), 0);
	assert_int_equal(cal_year_from_file(c, 2101), -ERANGE);
	assert_int_equal(cal_day_info(c, D(2101, 1, 1), 0, &info), -ERANGE);
	assert_int_equal(cal_day_info(c, D(2026, 1, 1), 0x80, &info), -EINVAL);
}

static void test_explain(void **state)
{
	const struct cal *c = *state;
	struct cal_explain ex;
	char buf[1024];
	cm_day_t due;
	size_t len;

	/* 10/2/2026 + 10 WD = 3/3: weekends 14,15,21,22,28/2,1/3; Tết 16-20. */
	assert_int_equal(cal_add_working_days(c, D(2026, 2, 10), 10, 0, &due, &ex), 0);
	assert_true(ex.working_days);
	assert_false(ex.backwards);
	assert_int_equal(ex.from, D(2026, 2, 10));
	assert_int_equal(ex.to, D(2026, 3, 3));
	assert_int_equal(ex.weekend_days_skipped, 6);
	assert_int_equal(ex.holidays_skipped, 5);
	assert_int_equal(ex.makeup_counted_days, 0);
	assert_int_equal(ex.n_days, 5);
	assert_int_equal(ex.days[0].day, D(2026, 2, 16));
	assert_int_equal(ex.days[4].day, D(2026, 2, 20));
	assert_string_equal(ex.days[2].name, "Tết Nguyên đán Bính Ngọ");
	assert_false(ex.rolled);
	assert_int_equal(ex.n_years, 1);
	assert_int_equal(ex.years[0].year, 2026);
	assert_false(ex.years[0].derived);
	len = cal_explain_format(&ex, buf, sizeof(buf));
	assert_int_equal(len, strlen(buf));
	assert_non_null(strstr(buf, "10 working days after 2026-02-10"));
	assert_non_null(strstr(buf, "due 2026-03-03"));
	assert_non_null(strstr(buf, "6 weekend days and 5 days off"));
	assert_non_null(strstr(buf, "2026-02-16 holiday: Tết Nguyên đán Bính Ngọ"));
	assert_non_null(strstr(buf, "2026 from file"));

	/* 24/4/2025 + 5 WD (MK) = 5/5: weekend 27/4, 3/5, 4/5 skipped; 26/4
	 * counted; 30/4, 1/5, 2/5 off; the list holds the make-up day too. */
	assert_int_equal(cal_add_working_days(c, D(2025, 4, 24), 5, 0, &due, &ex), 0);
	assert_int_equal(ex.weekend_days_skipped, 3);
	assert_int_equal(ex.holidays_skipped, 3);
	assert_int_equal(ex.makeup_counted_days, 1);
	assert_int_equal(ex.n_days, 4);
	assert_int_equal(ex.days[0].kind, CAL_KIND_MAKEUP);
	assert_int_equal(ex.days[3].kind, CAL_KIND_SWAP);
	/* Same with IG: due 6/5, Sat 26/4 is one more weekend day skipped. */
	assert_int_equal(cal_add_working_days(c, D(2025, 4, 24), 5, IG, &due, &ex), 0);
	assert_int_equal(ex.weekend_days_skipped, 4);
	assert_int_equal(ex.makeup_counted_days, 0);
	assert_false(ex.makeup_counted);
	cal_explain_format(&ex, buf, sizeof(buf));
	assert_non_null(strstr(buf, "make-up Saturdays not counted"));

	/* 18/1 + 30 CAL rolls from Tết day 17/2 to 23/2 over 17-20 (4 off) and 21-22. */
	assert_int_equal(cal_add_calendar_days(c, D(2026, 1, 18), 30, 0, &due, &ex), 0);
	assert_false(ex.working_days);
	assert_true(ex.rolled);
	assert_int_equal(ex.roll_from, D(2026, 2, 17));
	assert_int_equal(ex.roll_to, D(2026, 2, 23));
	assert_int_equal(ex.holidays_skipped, 4);
	assert_int_equal(ex.weekend_days_skipped, 2);
	assert_int_equal(ex.n_days, 4);
	cal_explain_format(&ex, buf, sizeof(buf));
	assert_non_null(strstr(buf, "30 calendar days after 2026-01-18"));
	assert_non_null(strstr(buf, "2026-02-17 is not a working day"));

	/* No roll: the counts stay zero for a calendar-day period. */
	assert_int_equal(cal_add_calendar_days(c, D(2025, 3, 15), 45, 0, &due, &ex), 0);
	assert_false(ex.rolled);
	assert_int_equal(ex.holidays_skipped, 0);
	assert_int_equal(ex.weekend_days_skipped, 0);

	/* 30/12/2024 + 2 WD spans derived 2024 and file 2025. */
	assert_int_equal(cal_add_working_days(c, D(2024, 12, 30), 2, 0, &due, &ex), 0);
	assert_int_equal(ex.n_years, 2);
	assert_true(ex.years[0].derived);
	assert_false(ex.years[1].derived);
	cal_explain_format(&ex, buf, sizeof(buf));
	assert_non_null(strstr(buf, "2024 derived (no file), 2025 from file"));

	/* Backwards: 5 WD before 23/2/2026 is 9/2, over 14-22. */
	assert_int_equal(cal_sub_working_days(c, D(2026, 2, 23), 5, 0, &due, &ex), 0);
	assert_true(ex.backwards);
	assert_int_equal(ex.holidays_skipped, 5);
	assert_int_equal(ex.weekend_days_skipped, 4);
	cal_explain_format(&ex, buf, sizeof(buf));
	assert_non_null(strstr(buf, "5 working days before 2026-02-23: 2026-02-09"));

	/* A short buffer is truncated but terminated, and the full length reported. */
	len = cal_explain_format(&ex, buf, 16);
	assert_true(len > 15);
	assert_int_equal(strlen(buf), 15);
}

static void test_flag_van_hoa(void **state)
{
	static const char *const on[] = {"ngay_van_hoa_2026", NULL};
	static const char *const bogus[] = {"ngay_van_hoa_2062", NULL};
	struct cal_options opt;
	struct cal *c = load_shipped(on);
	struct cal *none = NULL;
	char err[CAL_ERR_LEN];
	cm_day_t due;
	int n;

	/* Off by default: Mon 23/11 + 1 WD = Tue 24/11. */
	assert_int_equal(cal_add_working_days(*state, D(2026, 11, 23), 1, 0, &due, NULL), 0);
	assert_int_equal(due, D(2026, 11, 24));
	/* Switched on: Tue 24/11 off, Wed 25/11. */
	assert_false(cal_is_working_day(c, D(2026, 11, 24), 0));
	assert_int_equal(cal_add_working_days(c, D(2026, 11, 23), 1, 0, &due, NULL), 0);
	assert_int_equal(due, D(2026, 11, 25));
	/* 2026 then has 249 working days. */
	assert_int_equal(cal_count_working_days(c, D(2025, 12, 31), D(2026, 12, 31), 0, &n), 0);
	assert_int_equal(n, 249);
	cal_free(&c);

	/* A flag that names nothing is a configuration error, not silence. */
	cal_options_default(&opt);
	opt.flags = bogus;
	assert_int_equal(cal_load(CAL_DATA_DIR, &opt, &none, err, sizeof(err)), CM_ECONFIG);
	assert_null(none);
	assert_non_null(strstr(err, "ngay_van_hoa_2062"));
}

static void test_derived_years(void **state)
{
	struct cal_options opt;
	struct cal *c = NULL;
	char err[CAL_ERR_LEN];
	cm_day_t due;
	(void)state;

	/* No files: 2025 derived with the default (1 day before Tết + 4):
	 * Tết Wed 29/1 -> Tue 28 .. Sat 1/2 off, Sat 1/2 owes Mon 3/2. */
	assert_int_equal(cal_load(NULL, NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(cal_year_from_file(c, 2025), 0);
	assert_true(cal_is_working_day(c, D(2025, 1, 27), 0));
	assert_false(cal_is_working_day(c, D(2025, 1, 28), 0));
	assert_false(cal_is_working_day(c, D(2025, 1, 31), 0));
	assert_false(cal_is_working_day(c, D(2025, 2, 3), 0));
	assert_true(cal_is_working_day(c, D(2025, 2, 4), 0));
	/* Fri 24/1 + 1 WD = Mon 27/1 here (the file says otherwise). */
	assert_int_equal(cal_add_working_days(c, D(2025, 1, 24), 1, 0, &due, NULL), 0);
	assert_int_equal(due, D(2025, 1, 27));
	/* Derived 2026 = file 2026 less the swaps: Fri 2/1 works, no make-up Saturday. */
	assert_int_equal(cal_add_working_days(c, D(2025, 12, 31), 1, 0, &due, NULL), 0);
	assert_int_equal(due, D(2026, 1, 2));
	assert_false(cal_is_working_day(c, D(2026, 1, 10), 0));
	/* Giỗ Tổ Sunday 26/4/2026 owes Monday 27/4; Tết 16-20/2 as announced. */
	assert_false(cal_is_working_day(c, D(2026, 4, 27), 0));
	assert_false(cal_is_working_day(c, D(2026, 2, 16), 0));
	assert_true(cal_is_working_day(c, D(2026, 2, 23), 0));
	/* 2023: Giỗ Tổ Sat 29/4, 30/4 Sun, 1/5 Mon -> 1/5 plus nghỉ bù 2/5 and 3/5,
	 * which is what the Government announced that year. */
	assert_false(cal_is_working_day(c, D(2023, 5, 1), 0));
	assert_false(cal_is_working_day(c, D(2023, 5, 2), 0));
	assert_false(cal_is_working_day(c, D(2023, 5, 3), 0));
	assert_true(cal_is_working_day(c, D(2023, 5, 4), 0));
	/* 2024: 2/9 Mon + 1/9 Sun -> nghỉ bù Tue 3/9, as announced. */
	assert_false(cal_is_working_day(c, D(2024, 9, 3), 0));
	assert_true(cal_is_working_day(c, D(2024, 9, 4), 0));
	cal_free(&c);

	/* 2 days before Tết reproduces the announced 2025 days 27-31/1. */
	cal_options_default(&opt);
	opt.tet_days_before = 2;
	opt.national_day_extra = 1;
	assert_int_equal(cal_load(NULL, &opt, &c, err, sizeof(err)), 0);
	assert_false(cal_is_working_day(c, D(2025, 1, 27), 0));
	assert_false(cal_is_working_day(c, D(2025, 1, 31), 0));
	assert_true(cal_is_working_day(c, D(2025, 2, 3), 0));
	/* 2/9/2025 Tue with 3/9: 1/9 works. */
	assert_true(cal_is_working_day(c, D(2025, 9, 1), 0));
	assert_false(cal_is_working_day(c, D(2025, 9, 3), 0));
	cal_free(&c);

	opt.tet_days_before = 5;
	assert_int_equal(cal_load(NULL, &opt, &c, err, sizeof(err)), -EINVAL);
	assert_null(c);
}

/* Day-by-day reference, only for checking the prefix-count arithmetic. */
static cm_day_t walk_add(const struct cal *c, cm_day_t t, int n, unsigned f)
{
	while (n > 0) {
		t++;
		if (cal_is_working_day(c, t, f))
			n--;
	}
	return t;
}

static cm_day_t walk_sub(const struct cal *c, cm_day_t t, int n, unsigned f)
{
	while (n > 0) {
		t--;
		if (cal_is_working_day(c, t, f))
			n--;
	}
	return t;
}

static void test_against_walk(void **state)
{
	const struct cal *c = *state;
	uint32_t seed = 12345;
	cm_day_t lo = D(1991, 1, 1), span = D(2100, 6, 1) - D(1991, 1, 1);

	for (int i = 0; i < 4000; i++) {
		cm_day_t t, got, want;
		unsigned f;
		int n, cnt;

		seed = seed * 1103515245u + 12345u;
		t = lo + (cm_day_t)((seed >> 8) % (uint32_t)span);
		seed = seed * 1103515245u + 12345u;
		n = (int)((seed >> 8) % 120);
		f = (seed >> 20) & 1 ? IG : 0;

		assert_int_equal(cal_add_working_days(c, t, n, f, &got, NULL), 0);
		want = walk_add(c, t, n, f);
		assert_int_equal(got, want);
		assert_int_equal(cal_count_working_days(c, t, got, f, &cnt), 0);
		assert_int_equal(cnt, n);

		assert_int_equal(cal_sub_working_days(c, t, n, f, &got, NULL), 0);
		assert_int_equal(got, walk_sub(c, t, n, f));

		assert_int_equal(cal_add_calendar_days(c, t, n, f, &got, NULL), 0);
		want = t + n;
		while (!cal_is_working_day(c, want, f))
			want++;
		assert_int_equal(got, want);
	}
}

static void test_range_and_args(void **state)
{
	const struct cal *c = *state;
	cm_day_t d = 0;
	int n;

	assert_int_equal(cal_add_working_days(c, D(2026, 1, 5), -1, 0, &d, NULL), -EINVAL);
	assert_int_equal(cal_add_working_days(c, D(2026, 1, 5), 1, 0x2, &d, NULL), -EINVAL);
	assert_int_equal(cal_add_calendar_days(c, D(2026, 1, 5), -3, 0, &d, NULL), -EINVAL);
	assert_int_equal(cal_sub_working_days(c, D(2026, 1, 5), -3, 0, &d, NULL), -EINVAL);
	assert_int_equal(cal_add_working_days(c, D(1989, 12, 31), 1, 0, &d, NULL), -ERANGE);
	/* 30/12/2100 + 5 WD would land in 2101. */
	assert_int_equal(cal_add_working_days(c, D(2100, 12, 30), 5, 0, &d, NULL), -ERANGE);
	assert_int_equal(cal_add_calendar_days(c, D(2100, 12, 30), 5, 0, &d, NULL), -ERANGE);
	/* Fri 31/12/2100 is a working day: + 0 CAL stands. */
	assert_int_equal(cal_add_calendar_days(c, D(2100, 12, 31), 0, 0, &d, NULL), 0);
	assert_int_equal(d, D(2100, 12, 31));
	/* Mon 1/1/1990 is a holiday with nothing before it to count back into. */
	assert_int_equal(cal_sub_working_days(c, D(1990, 1, 2), 1, 0, &d, NULL), -ERANGE);
	assert_int_equal(cal_count_working_days(c, D(2026, 1, 1), D(2101, 1, 1), 0, &n), -ERANGE);
	assert_int_equal(cal_next_working_day(c, D(1980, 1, 1), 0, &d), -ERANGE);
	assert_true(cal_in_range(D(1990, 1, 1)));
	assert_false(cal_in_range(D(2101, 1, 1)));
}


struct tmpdir {
	char path[64];
	char file[128];
};

static void tmp_write(struct tmpdir *td, const char *name, const char *text)
{
	FILE *f;

	strcpy(td->path, "/tmp/test_calendar.XXXXXX");
	assert_non_null(mkdtemp(td->path));
	snprintf(td->file, sizeof(td->file), "%s/%s", td->path, name);
	f = fopen(td->file, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void tmp_remove(struct tmpdir *td)
{
	assert_int_equal(unlink(td->file), 0);
	assert_int_equal(rmdir(td->path), 0);
}

#define HEAD "{\"format\": 1, \"year\": 2025, \"sources\": [\"test\"], "
#define OFF(date, kind) "{\"date\": \"" date "\", \"name\": \"x\", \"kind\": \"" kind "\"}"
#define SAT(date) "{\"date\": \"" date "\", \"reason\": \"r\"}"

static void test_loader_errors(void **state)
{
	static const struct {
		const char *file;
		const char *json;
		const char *want1, *want2;
	} cases[] = {
		/* Not a real date: 30 February. */
		{"2025.json", HEAD "\"days_off\": [" OFF("2025-01-01", "holiday") ", "
		 OFF("2025-02-30", "holiday") "], \"working_saturdays\": []}",
		 "days_off[1].date", "not a real date"},
		/* A 2024 day in the 2025 file. */
		{"2025.json", HEAD "\"days_off\": [" OFF("2024-12-31", "holiday")
		 "], \"working_saturdays\": []}",
		 "days_off[0].date", "not in the file's year 2025"},
		/* The same day twice. */
		{"2025.json", HEAD "\"days_off\": [" OFF("2025-01-01", "holiday") ", "
		 OFF("2025-01-27", "holiday") ", " OFF("2025-01-01", "holiday")
		 "], \"working_saturdays\": []}",
		 "days_off[2].date", "listed twice (also days_off[0])"},
		/* Make-up day on a Friday. */
		{"2025.json", HEAD "\"days_off\": [], \"working_saturdays\": [" SAT("2025-04-25") "]}",
		 "working_saturdays[0].date", "Friday, not a Saturday"},
		/* Malformed JSON (cut short). */
		{"2025.json", HEAD "\"days_off\": [", "2025.json: line", NULL},
		/* A make-up day that is also a day off. */
		{"2025.json", HEAD "\"days_off\": [" OFF("2025-05-02", "swap")
		 "], \"working_saturdays\": [" SAT("2025-05-02") "]}",
		 "working_saturdays[0].date", "also a day off (days_off[0])"},
		/* A day off on a Saturday: weekends are off already. */
		{"2025.json", HEAD "\"days_off\": [" OFF("2025-04-26", "holiday")
		 "], \"working_saturdays\": []}",
		 "days_off[0].date", "Saturday"},
		/* Unknown kind. */
		{"2025.json", HEAD "\"days_off\": [" OFF("2025-05-02", "bridge")
		 "], \"working_saturdays\": []}",
		 "days_off[0].kind", "\"bridge\""},
		/* Missing name. */
		{"2025.json", HEAD "\"days_off\": [{\"date\": \"2025-05-02\", \"kind\": \"swap\"}], "
		 "\"working_saturdays\": []}",
		 "days_off[0].name", "missing"},
		/* Misspelt field. */
		{"2025.json", HEAD "\"days_off\": [{\"date\": \"2025-05-02\", \"nam\": \"x\", "
		 "\"kind\": \"swap\"}], \"working_saturdays\": []}",
		 "days_off[0]", "unknown field \"nam\""},
		/* Date not in YYYY-MM-DD form. */
		{"2025.json", HEAD "\"days_off\": [" OFF("2025-1-01", "holiday")
		 "], \"working_saturdays\": []}",
		 "days_off[0].date", "YYYY-MM-DD"},
		/* Make-up Saturday listed twice. */
		{"2025.json", HEAD "\"days_off\": [], \"working_saturdays\": [" SAT("2025-04-26")
		 ", " SAT("2025-04-26") "]}",
		 "working_saturdays[1].date", "listed twice"},
		/* "replaces" must name a swap day of the same year. */
		{"2025.json", HEAD "\"days_off\": [" OFF("2025-05-02", "holiday")
		 "], \"working_saturdays\": [{\"date\": \"2025-04-26\", \"reason\": \"r\", "
		 "\"replaces\": \"2025-05-02\"}]}",
		 "working_saturdays[0].replaces", "not a day of kind swap"},
		/* Year field disagrees with the file name. */
		{"2025.json", "{\"format\": 1, \"year\": 2026, \"sources\": [\"t\"], \"days_off\": [], "
		 "\"working_saturdays\": []}",
		 "2025.json: year", "2025"},
		/* Unknown format version. */
		{"2025.json", "{\"format\": 2, \"year\": 2025, \"sources\": [\"t\"], \"days_off\": [], "
		 "\"working_saturdays\": []}",
		 "format", "must be 1"},
		/* No sources. */
		{"2025.json", "{\"format\": 1, \"year\": 2025, \"days_off\": [], "
		 "\"working_saturdays\": []}",
		 "sources", "missing"},
		/* Duplicate key. */
		{"2025.json", "{\"format\": 1, \"format\": 1}", "2025.json: line", "duplicate"},
		/* Missing list. */
		{"2025.json", HEAD "\"days_off\": []}", "working_saturdays", "missing"},
		/* Bad flag name. */
		{"2025.json", HEAD "\"days_off\": [{\"date\": \"2025-05-02\", \"name\": \"x\", "
		 "\"kind\": \"swap\", \"flag\": \"Van-Hoa\"}], \"working_saturdays\": []}",
		 "days_off[0].flag", "a-z"},
		/* File names must be YYYY.json, in range. */
		{"calendar.json", HEAD "\"days_off\": [], \"working_saturdays\": []}",
		 "calendar.json", "YYYY.json"},
		{"1980.json", HEAD "\"days_off\": [], \"working_saturdays\": []}",
		 "1980.json", "outside"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tmpdir td;
		struct cal *c = NULL;
		char err[CAL_ERR_LEN];
		int rc;

		tmp_write(&td, cases[i].file, cases[i].json);
		rc = cal_load(td.path, NULL, &c, err, sizeof(err));
		if (rc != CM_ECONFIG)
			fail_msg("case %zu: rc %d (%s)", i, rc, err);
		assert_null(c);
		/* The error names the file ... */
		if (!strstr(err, td.file))
			fail_msg("case %zu: file not named in \"%s\"", i, err);
		/* ... and the entry, field and fault. */
		if (!strstr(err, cases[i].want1) ||
		    (cases[i].want2 && !strstr(err, cases[i].want2)))
			fail_msg("case %zu: \"%s\" lacks \"%s\" / \"%s\"", i, err, cases[i].want1,
				 cases[i].want2 ? cases[i].want2 : "");
		tmp_remove(&td);
	}
}

static void test_loader_accepts(void **state)
{
	struct tmpdir td;
	struct cal *c = NULL;
	char err[CAL_ERR_LEN];
	(void)state;

	/* Minimal good file; a cross-year "replaces" cannot be checked and is accepted. */
	tmp_write(&td, "2025.json",
		  HEAD "\"notes\": \"n\", \"days_off\": [{\"date\": \"2025-01-02\", \"name\": "
		  "\"Nghỉ hoán đổi\", \"kind\": \"swap\", \"note\": \"n\", \"source\": \"s\"}], "
		  "\"working_saturdays\": [{\"date\": \"2025-01-11\", \"reason\": \"làm bù\", "
		  "\"replaces\": \"2024-12-30\"}]}");
	assert_int_equal(cal_load(td.path, NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(cal_year_from_file(c, 2025), 1);
	/* Only what the file lists: 1/1/2025 is an ordinary day now. */
	assert_true(cal_is_working_day(c, D(2025, 1, 1), 0));
	assert_false(cal_is_working_day(c, D(2025, 1, 2), 0));
	assert_true(cal_is_working_day(c, D(2025, 1, 11), 0));
	cal_free(&c);
	tmp_remove(&td);
}

static void test_reload(void **state)
{
	struct cal *cur = load_shipped(NULL);
	struct cal *before = cur;
	struct tmpdir bad, good;
	char err[CAL_ERR_LEN];
	cm_day_t due;
	(void)state;

	tmp_write(&bad, "2026.json", "{\"format\": 1, \"year\": 2026, ");
	assert_int_equal(cal_reload(&cur, bad.path, NULL, err, sizeof(err)), CM_ECONFIG);
	assert_ptr_equal(cur, before);
	/* The old calendar still answers: Tết 2026 from the file. */
	assert_int_equal(cal_add_working_days(cur, D(2025, 12, 31), 1, 0, &due, NULL), 0);
	assert_int_equal(due, D(2026, 1, 5));

	assert_int_equal(cal_reload(&cur, "/nonexistent/calendar", NULL, err, sizeof(err)),
			 -ENOENT);
	assert_ptr_equal(cur, before);
	assert_non_null(strstr(err, "/nonexistent/calendar"));

	/* A good directory with only 2025: 2026 becomes derived (Fri 2/1 works). */
	tmp_write(&good, "2025.json", HEAD "\"days_off\": [], \"working_saturdays\": []}");
	assert_int_equal(cal_reload(&cur, good.path, NULL, err, sizeof(err)), 0);
	assert_int_equal(cal_year_from_file(cur, 2026), 0);
	assert_int_equal(cal_add_working_days(cur, D(2025, 12, 31), 1, 0, &due, NULL), 0);
	assert_int_equal(due, D(2026, 1, 2));

	cal_free(&cur);
	tmp_remove(&bad);
	tmp_remove(&good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_working_days),
		cmocka_unit_test(test_calendar_days),
		cmocka_unit_test(test_backwards),
		cmocka_unit_test(test_count_and_next),
		cmocka_unit_test(test_day_info),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_flag_van_hoa),
		cmocka_unit_test(test_derived_years),
		cmocka_unit_test(test_against_walk),
		cmocka_unit_test(test_range_and_args),
		cmocka_unit_test(test_loader_errors),
		cmocka_unit_test(test_loader_accepts),
		cmocka_unit_test(test_reload),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

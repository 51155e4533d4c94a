/*
 * test_lunar.c - the Vietnamese lunar calendar (services/deadline/lunar.c).
 *
 * Reference dates are the published Tết and Giỗ Tổ days. Where Vietnam and
 * China differ, the new-moon instant decides: the dates below were checked
 * against an independent ephemeris (new moon 2007-02-17 16:14 UT and
 * 2030-02-02 16:07 UT, i.e. before midnight at UTC+7 but after it at UTC+8).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lunar.h"

static cm_day_t ymd(int y, int m, int d)
{
	return cm_day_from_ymd(y, m, d);
}

static void test_tet_2000_2030(void **state)
{
	static const struct {
		int y, m, d;
	} tet[] = {
		{2000, 2, 5}, {2001, 1, 24}, {2002, 2, 12}, {2003, 2, 1}, {2004, 1, 22},
		{2005, 2, 9}, {2006, 1, 29},
		/* China: 18 Feb 2007. The new moon came at 23:14 in Hà Nội, 00:14 in Beijing. */
		{2007, 2, 17},
		{2008, 2, 7}, {2009, 1, 26}, {2010, 2, 14}, {2011, 2, 3}, {2012, 1, 23},
		{2013, 2, 10}, {2014, 1, 31}, {2015, 2, 19}, {2016, 2, 8}, {2017, 1, 28},
		{2018, 2, 16}, {2019, 2, 5}, {2020, 1, 25}, {2021, 2, 12}, {2022, 2, 1},
		{2023, 1, 22}, {2024, 2, 10}, {2025, 1, 29}, {2026, 2, 17}, {2027, 2, 6},
		{2028, 1, 26}, {2029, 2, 13},
		/* Often listed as 3 Feb, which is China's date: the new moon is at
		 * 23:07 on 2 Feb at UTC+7, so Tết Canh Tuất is 2 Feb in Vietnam. */
		{2030, 2, 2},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(tet) / sizeof(tet[0]); i++) {
		cm_day_t got = 0;
		struct lunar_date ld;

		assert_int_equal(lunar_new_year(tet[i].y, &got), 0);
		assert_int_equal(got, ymd(tet[i].y, tet[i].m, tet[i].d));
		/* And back: Tết is 1/1, not a leap month. */
		assert_int_equal(lunar_from_day(got, &ld), 0);
		assert_int_equal(ld.year, tet[i].y);
		assert_int_equal(ld.month, 1);
		assert_int_equal(ld.day, 1);
		assert_false(ld.leap);
	}
}

static void test_vietnam_vs_china(void **state)
{
	cm_day_t vn, cn;
	(void)state;

	/* 2007 and 2030: a new moon between 17:00 and 18:00 UT. */
	assert_int_equal(lunar_new_year_tz(2007, 7, &vn), 0);
	assert_int_equal(lunar_new_year_tz(2007, 8, &cn), 0);
	assert_int_equal(vn, ymd(2007, 2, 17));
	assert_int_equal(cn, ymd(2007, 2, 18));
	assert_int_equal(lunar_new_year_tz(2030, 8, &cn), 0);
	assert_int_equal(cn, ymd(2030, 2, 3));
	/* 1985: month 11 differs at UTC+7, so Vietnam's Tết came a month early. */
	assert_int_equal(lunar_new_year(1985, &vn), 0);
	assert_int_equal(lunar_new_year_tz(1985, 8, &cn), 0);
	assert_int_equal(vn, ymd(1985, 1, 21));
	assert_int_equal(cn, ymd(1985, 2, 20));
	/* 1968: Tết Mậu Thân, 29 Jan in the North (UTC+7), 30 Jan at UTC+8. */
	assert_int_equal(lunar_new_year(1968, &vn), 0);
	assert_int_equal(vn, ymd(1968, 1, 29));
	assert_int_equal(lunar_new_year_tz(1968, 8, &cn), 0);
	assert_int_equal(cn, ymd(1968, 1, 30));
}

static void test_gio_to(void **state)
{
	static const struct {
		int y, m, d;
	} gio[] = {
		{2012, 3, 31}, {2013, 4, 19}, {2014, 4, 9}, {2015, 4, 28}, {2016, 4, 16},
		{2017, 4, 6}, {2018, 4, 25}, {2019, 4, 14},
		{2020, 4, 2},	/* leap month 4 comes after, no shift */
		{2021, 4, 21}, {2022, 4, 10},
		{2023, 4, 29},	/* leap month 2 pushes month 3 a month later */
		{2024, 4, 18},
		{2025, 4, 7},	/* Monday */
		{2026, 4, 26},	/* Sunday: compensatory day Monday 27/4 */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(gio) / sizeof(gio[0]); i++) {
		cm_day_t got = 0;

		assert_int_equal(lunar_gio_to(gio[i].y, &got), 0);
		assert_int_equal(got, ymd(gio[i].y, gio[i].m, gio[i].d));
	}
	assert_int_equal(cm_day_weekday(ymd(2025, 4, 7)), 0);
	assert_int_equal(cm_day_weekday(ymd(2026, 4, 26)), 6);
}

static void test_leap_months(void **state)
{
	struct lunar_date ld;
	cm_day_t d;
	(void)state;

	/* 2023 Quý Mão: leap month 2 begins 22 Mar 2023 (new moon 00:23 at UTC+7). */
	assert_int_equal(lunar_from_day(ymd(2023, 3, 22), &ld), 0);
	assert_int_equal(ld.year, 2023);
	assert_int_equal(ld.month, 2);
	assert_int_equal(ld.day, 1);
	assert_true(ld.leap);
	ld = (struct lunar_date){.year = 2023, .month = 2, .day = 1, .leap = true};
	assert_int_equal(lunar_to_day(&ld, &d), 0);
	assert_int_equal(d, ymd(2023, 3, 22));
	/* The regular month 2 started a lunation earlier. */
	ld.leap = false;
	assert_int_equal(lunar_to_day(&ld, &d), 0);
	assert_int_equal(d, ymd(2023, 2, 20));

	/* 2020 Canh Tý: leap month 4 from 23 May 2020. */
	ld = (struct lunar_date){.year = 2020, .month = 4, .day = 1, .leap = true};
	assert_int_equal(lunar_to_day(&ld, &d), 0);
	assert_int_equal(d, ymd(2020, 5, 23));
	/* 2025 Ất Tỵ: leap month 6 from 25 Jul 2025. */
	ld = (struct lunar_date){.year = 2025, .month = 6, .day = 1, .leap = true};
	assert_int_equal(lunar_to_day(&ld, &d), 0);
	assert_int_equal(d, ymd(2025, 7, 25));
	/* 2033 Quý Sửu: leap month 11 from 22 Dec 2033. */
	ld = (struct lunar_date){.year = 2033, .month = 11, .day = 1, .leap = true};
	assert_int_equal(lunar_to_day(&ld, &d), 0);
	assert_int_equal(d, ymd(2033, 12, 22));

	/* 2026 has no leap month at all; 2025 has none in month 5. */
	ld = (struct lunar_date){.year = 2026, .month = 6, .day = 1, .leap = true};
	assert_int_equal(lunar_to_day(&ld, &d), -EINVAL);
	ld = (struct lunar_date){.year = 2025, .month = 5, .day = 1, .leap = true};
	assert_int_equal(lunar_to_day(&ld, &d), -EINVAL);
}

static void test_around_tet_2026(void **state)
{
	struct lunar_date ld;
	cm_day_t d;
	(void)state;

	/* Month 12 of Ất Tỵ runs 19 Jan .. 16 Feb 2026 (29 days), so the eve of
	 * Tết Bính Ngọ is 29 tháng Chạp and there is no 30th. */
	assert_int_equal(lunar_from_day(ymd(2026, 2, 16), &ld), 0);
	assert_int_equal(ld.year, 2025);
	assert_int_equal(ld.month, 12);
	assert_int_equal(ld.day, 29);
	assert_false(ld.leap);
	ld = (struct lunar_date){.year = 2025, .month = 12, .day = 30};
	assert_int_equal(lunar_to_day(&ld, &d), -EINVAL);
	ld.day = 1;
	assert_int_equal(lunar_to_day(&ld, &d), 0);
	assert_int_equal(d, ymd(2026, 1, 19));
	/* Month 11 of Ất Tỵ starts 20 Dec 2025 and is still year 2025. */
	assert_int_equal(lunar_from_day(ymd(2025, 12, 20), &ld), 0);
	assert_int_equal(ld.year, 2025);
	assert_int_equal(ld.month, 11);
	assert_int_equal(ld.day, 1);
}

static void test_round_trip(void **state)
{
	cm_day_t first = ymd(1990, 1, 1), last = ymd(2100, 12, 31);
	(void)state;

	/* Every day of the calendar's range converts there and back. */
	for (cm_day_t day = first; day <= last; day++) {
		struct lunar_date ld;
		cm_day_t back = 0;

		assert_int_equal(lunar_from_day(day, &ld), 0);
		assert_true(ld.day >= 1 && ld.day <= 30);
		assert_int_equal(lunar_to_day(&ld, &back), 0);
		assert_int_equal(back, day);
	}
}

static void test_errors(void **state)
{
	struct lunar_date ld = {.year = 2026, .month = 13, .day = 1};
	cm_day_t d;
	(void)state;

	assert_int_equal(lunar_to_day(&ld, &d), -EINVAL);
	ld = (struct lunar_date){.year = 2026, .month = 1, .day = 0};
	assert_int_equal(lunar_to_day(&ld, &d), -EINVAL);
	ld = (struct lunar_date){.year = 1899, .month = 1, .day = 1};
	assert_int_equal(lunar_to_day(&ld, &d), -ERANGE);
	assert_int_equal(lunar_new_year(2200, &d), -ERANGE);
	assert_int_equal(lunar_gio_to(1800, &d), -ERANGE);
	assert_int_equal(lunar_new_year_tz(2026, 15, &d), -EINVAL);
	assert_int_equal(lunar_from_day(ymd(1899, 12, 31), &ld), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tet_2000_2030),
		cmocka_unit_test(test_vietnam_vs_china),
		cmocka_unit_test(test_gio_to),
		cmocka_unit_test(test_leap_months),
		cmocka_unit_test(test_around_tet_2026),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

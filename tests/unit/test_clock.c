#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/err.h"

static int64_t parse_ok(const char *s)
{
	int64_t ms = 0;

	assert_int_equal(cm_time_parse(s, &ms), 0);
	return ms;
}

static void test_days_in_month(void **state)
{
	(void)state;
	assert_int_equal(cm_days_in_month(2000, 2), 29);
	assert_int_equal(cm_days_in_month(1900, 2), 28);
	assert_int_equal(cm_days_in_month(2100, 2), 28);
	assert_int_equal(cm_days_in_month(2024, 2), 29);
	assert_int_equal(cm_days_in_month(2026, 2), 28);
	assert_int_equal(cm_days_in_month(2026, 1), 31);
	assert_int_equal(cm_days_in_month(2026, 4), 30);
	assert_int_equal(cm_days_in_month(2026, 12), 31);
	assert_int_equal(cm_days_in_month(2026, 0), 0);
	assert_int_equal(cm_days_in_month(2026, 13), 0);
}

static void test_known_days(void **state)
{
	(void)state;
	assert_int_equal(cm_day_from_ymd(1970, 1, 1), 0);
	assert_int_equal(cm_day_from_ymd(1969, 12, 31), -1);
	assert_int_equal(cm_day_from_ymd(2000, 3, 1), 11017);
	assert_int_equal(cm_day_from_ymd(2000, 3, 1) - cm_day_from_ymd(2000, 2, 28), 2);
	assert_int_equal(cm_day_from_ymd(1900, 3, 1) - cm_day_from_ymd(1900, 2, 28), 1);

	assert_int_equal(cm_day_weekday(0), 3);				/* Thursday */
	assert_int_equal(cm_day_weekday(-1), 2);			/* Wednesday */
	assert_int_equal(cm_day_weekday(cm_day_from_ymd(2026, 2, 17)), 1); /* Tuesday */
	assert_int_equal(cm_day_weekday(cm_day_from_ymd(2026, 7, 1)), 2);  /* Wednesday */
	assert_int_equal(cm_day_weekday(cm_day_from_ymd(2000, 1, 1)), 5);  /* Saturday */
	assert_int_equal(cm_day_weekday(cm_day_from_ymd(1900, 1, 1)), 0);  /* Monday */
	assert_int_equal(cm_day_weekday(cm_day_from_ymd(1975, 4, 30)), 2); /* Wednesday */

	int y, m, d;
	cm_day_to_ymd(cm_day_from_ymd(2000, 2, 29), &y, &m, &d);
	assert_int_equal(y, 2000);
	assert_int_equal(m, 2);
	assert_int_equal(d, 29);
	cm_day_to_ymd(-1, &y, &m, &d);
	assert_int_equal(y, 1969);
	assert_int_equal(m, 12);
	assert_int_equal(d, 31);
}

/* Every day of 200+ years against the C library's own calendar. */
static void test_round_trip_centuries(void **state)
{
	cm_day_t first = cm_day_from_ymd(1900, 1, 1);
	cm_day_t last = cm_day_from_ymd(2100, 12, 31);
	(void)state;

	assert_int_equal(last - first + 1, 201 * 365 + 49);
	for (cm_day_t day = first; day <= last; day++) {
		int y, m, d;
		struct tm tm;
		time_t t = (time_t)day * 86400;
		char buf[11];
		cm_day_t back;

		cm_day_to_ymd(day, &y, &m, &d);
		assert_int_equal(cm_day_from_ymd(y, m, d), day);
		assert_non_null(gmtime_r(&t, &tm));
		assert_int_equal(y, tm.tm_year + 1900);
		assert_int_equal(m, tm.tm_mon + 1);
		assert_int_equal(d, tm.tm_mday);
		assert_int_equal(cm_day_weekday(day), (tm.tm_wday + 6) % 7);

		cm_day_format(day, buf);
		assert_int_equal(cm_day_parse(buf, &back), 0);
		assert_int_equal(back, day);
		assert_int_equal(cm_day_of_ms(cm_day_start_ms(day)), day);
		assert_int_equal(cm_day_of_ms(cm_day_start_ms(day) - 1), day - 1);
	}
}

static void test_local_day_boundary(void **state)
{
	(void)state;
	cm_day_t jul1 = cm_day_from_ymd(2026, 7, 1);

	assert_int_equal(cm_day_of_ms(parse_ok("2026-07-01T16:59:59.999Z")), jul1);
	assert_int_equal(cm_day_of_ms(parse_ok("2026-07-01T17:00:00Z")), jul1 + 1);
	assert_int_equal(cm_day_of_ms(parse_ok("2026-07-01T00:00:00+07:00")), jul1);
	assert_int_equal(cm_day_of_ms(parse_ok("2026-06-30T23:59:59+07:00")), jul1 - 1);
	assert_int_equal(cm_day_start_ms(jul1), parse_ok("2026-06-30T17:00:00Z"));
	/* Before the epoch the division must floor, not truncate. */
	assert_int_equal(cm_day_of_ms(-1), 0);
	assert_int_equal(cm_day_of_ms(-CM_TZ_OFFSET_MS), 0);
	assert_int_equal(cm_day_of_ms(-CM_TZ_OFFSET_MS - 1), -1);
	assert_int_equal(cm_day_start_ms(0), -CM_TZ_OFFSET_MS);
}

static void test_day_parse(void **state)
{
	static const char *const bad[] = {
		"1900-02-29", "2026-02-29", "2026-02-30", "2026-04-31", "2026-13-01",
		"2026-00-10", "2026-01-00", "2026-1-01",  "2026-01-1",  "2026-01-01 ",
		" 2026-01-01", "2026-01-01x", "",	  "1899-12-31", "3000-01-01",
		"20260101",   "2026/01/01", "+026-01-01", "2026-01-0a", "2026",
		"2026-01-01T00:00:00Z",
	};
	cm_day_t day = 12345;
	(void)state;

	assert_int_equal(cm_day_parse("2000-02-29", &day), 0);
	assert_int_equal(day, cm_day_from_ymd(2000, 2, 29));
	assert_int_equal(cm_day_parse("2024-02-29", &day), 0);
	assert_int_equal(cm_day_parse("1900-01-01", &day), 0);
	assert_int_equal(day, cm_day_from_ymd(1900, 1, 1));
	assert_int_equal(cm_day_parse("2999-12-31", &day), 0);
	assert_int_equal(day, cm_day_from_ymd(2999, 12, 31));

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		day = 12345;
		if (cm_day_parse(bad[i], &day) != CM_EINVALID)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(day, 12345);
	}
	assert_int_equal(cm_day_parse(NULL, &day), CM_EINVALID);
}

static void test_day_format(void **state)
{
	char buf[11];
	(void)state;

	cm_day_format(cm_day_from_ymd(2026, 2, 17), buf);
	assert_string_equal(buf, "2026-02-17");
	cm_day_format(0, buf);
	assert_string_equal(buf, "1970-01-01");
	cm_day_format(cm_day_from_ymd(1900, 3, 1), buf);
	assert_string_equal(buf, "1900-03-01");
}

static void test_time_parse(void **state)
{
	static const char *const bad[] = {
		"2026-02-30T00:00:00Z",	     "2026-01-01T24:00:00Z",
		"2026-01-01T00:00:00",	     "2026-01-01T00:60:00Z",
		"2026-01-01T00:00:60Z",	     "2026-01-01 00:00:00Z",
		"2026-01-01T00:00:00.Z",     "2026-01-01T00:00:00+07:0",
		"2026-01-01T00:00:00+0700",  "2026-01-01T00:00:00+24:00",
		"2026-01-01T00:00:00+07:60", "2026-01-01T00:00:00Zx",
		"2026-01-01T00:00:00+07:00 ", "2026-01-01T0:00:00Z",
		"2026-01-01T00:00Z",	     "2026-01-01",
		"1899-12-31T23:59:59Z",	     "2026-01-01T00:00:00.1234567890Z",
		"",
	};
	int64_t ms = 42;
	(void)state;

	int64_t base = (int64_t)cm_day_from_ymd(2026, 7, 1) * 86400000 + 90 * 60000;
	assert_int_equal(parse_ok("2026-07-01T01:30:00Z"), base);
	assert_int_equal(parse_ok("2026-07-01T08:30:00+07:00"), base);
	assert_int_equal(parse_ok("2026-06-30T20:00:00-05:30"), base);
	assert_int_equal(parse_ok("2026-07-01t01:30:00z"), base);
	assert_int_equal(parse_ok("2026-07-01T01:30:00.5Z"), base + 500);
	assert_int_equal(parse_ok("2026-07-01T01:30:00.05Z"), base + 50);
	assert_int_equal(parse_ok("2026-07-01T01:30:00.123456789Z"), base + 123);
	assert_int_equal(parse_ok("2026-07-01T08:30:00.999+07:00"), base + 999);
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse_ok("1970-01-01T07:00:00+07:00"), 0);
	assert_int_equal(parse_ok("1969-12-31T23:59:59.999Z"), -1);
	assert_int_equal(parse_ok("2000-02-29T12:00:00Z"),
			 (int64_t)cm_day_from_ymd(2000, 2, 29) * 86400000 + 12 * 3600000);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 42;
		if (cm_time_parse(bad[i], &ms) != CM_EINVALID)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(ms, 42);
	}
	assert_int_equal(cm_time_parse(NULL, &ms), CM_EINVALID);
}

static void test_time_format(void **state)
{
	char buf[30];
	(void)state;

	cm_time_format(parse_ok("2026-07-01T01:30:00.250Z"), buf);
	assert_string_equal(buf, "2026-07-01T08:30:00.250+07:00");
	cm_time_format(parse_ok("2026-07-01T17:00:00Z"), buf);
	assert_string_equal(buf, "2026-07-02T00:00:00.000+07:00");
	cm_time_format(-1, buf);
	assert_string_equal(buf, "1970-01-01T06:59:59.999+07:00");

	/* A stride that is not a divisor of a day visits every time of day. */
	for (int64_t ms = parse_ok("1900-01-01T00:00:00+07:00");
	     ms < parse_ok("2100-01-01T00:00:00Z"); ms += 7919LL * 60 * 1000 + 7) {
		cm_time_format(ms, buf);
		assert_int_equal(strlen(buf), 29);
		assert_int_equal(parse_ok(buf), ms);
	}
}

static int changes;
static void on_change(void *arg)
{
	assert_ptr_equal(arg, &changes);
	changes++;
}

/* Must run first: the mode is process-global and only switches one way. */
static void test_real_clock(void **state)
{
	(void)state;
	assert_false(cm_clock_is_simulated());
	assert_int_equal(cm_clock_set_ms(1), -EPERM);
	assert_int_equal(cm_clock_advance_ms(1), -EPERM);
	/* Anything after 2020 proves the real clock is wired up. */
	assert_true(cm_clock_now_ms() > parse_ok("2020-01-01T00:00:00Z"));

	uint64_t a = cm_clock_mono_ns();
	uint64_t b = cm_clock_mono_ns();
	assert_true(b >= a);
}

static void test_simulated_clock(void **state)
{
	int64_t start = parse_ok("2026-07-01T08:00:00+07:00");
	(void)state;

	cm_clock_on_change(on_change, &changes);
	cm_clock_use_simulated(start);
	assert_true(cm_clock_is_simulated());
	assert_int_equal(cm_clock_now_ms(), start);
	assert_int_equal(changes, 0);

	assert_int_equal(cm_clock_set_ms(start + 1000), 0);
	assert_int_equal(cm_clock_now_ms(), start + 1000);
	assert_int_equal(changes, 1);

	assert_int_equal(cm_clock_set_ms(start + 999), -EINVAL);
	assert_int_equal(cm_clock_now_ms(), start + 1000);
	assert_int_equal(changes, 1);

	assert_int_equal(cm_clock_set_ms(start + 1000), 0);
	assert_int_equal(changes, 2);

	assert_int_equal(cm_clock_advance_ms(45 * CM_DAY_MS), 0);
	assert_int_equal(cm_clock_now_ms(), start + 1000 + 45 * CM_DAY_MS);
	assert_int_equal(changes, 3);
	assert_int_equal(cm_day_of_ms(cm_clock_now_ms()), cm_day_from_ymd(2026, 8, 15));

	assert_int_equal(cm_clock_advance_ms(-1), -EINVAL);
	assert_int_equal(cm_clock_advance_ms(INT64_MAX), -EINVAL);
	assert_int_equal(changes, 3);
	assert_int_equal(cm_clock_advance_ms(0), 0);
	assert_int_equal(changes, 4);

	cm_clock_on_change(NULL, NULL);
	assert_int_equal(cm_clock_advance_ms(1), 0);
	assert_int_equal(changes, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_clock),
		cmocka_unit_test(test_days_in_month),
		cmocka_unit_test(test_known_days),
		cmocka_unit_test(test_round_trip_centuries),
		cmocka_unit_test(test_local_day_boundary),
		cmocka_unit_test(test_day_parse),
		cmocka_unit_test(test_day_format),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_simulated_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

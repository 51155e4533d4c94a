/*
 * test_deadline_policy.c - the deadline policy (services/deadline/policy.c)
 * over the shipped policy file and the shipped 2025/2026 calendars.
 *
 * Every due date below was worked out by hand from a printed calendar, the
 * shipped data files and the law (legal-reference.md §8, §10); the comment
 * beside each vector is that working. Day 0 is the trigger day (BLDS Điều
 * 147); a calendar-day period whose last day is not a working day ends on
 * the next working day (Điều 148).
 *
 * Days off on weekdays (public sector):
 *   2025: 1/1; 27/1-31/1 (Tết); 7/4; 30/4; 1/5; 2/5 (swap); 1/9; 2/9.
 *         Make-up Saturday 26/4.
 *   2026: 1/1; 2/1 (swap); 16/2-20/2 (Tết); 27/4 (nghỉ bù Giỗ Tổ); 30/4; 1/5;
 *         31/8 (swap); 1/9; 2/9. Make-up Saturdays 10/1 and 22/8.
 * Make-up Saturdays count for the internal xử lý đơn SLA ("count") and never
 * shorten a deadline owed to a citizen ("ignore": acceptance, resolution,
 * sending), as legal-reference §8.4 suggests.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "calendar.h"
#include "common/err.h"
#include "common/mem.h"
#include "policy.h"
#include "testsupport.h"

#ifndef CAL_DATA_DIR
#error "CAL_DATA_DIR must name data/calendar"
#endif
#ifndef POLICY_FILE
#error "POLICY_FILE must name data/policy/deadline-policy.json"
#endif

#define N DL_CPLX_NORMAL
#define C DL_CPLX_COMPLEX
#define E DL_CPLX_ESPECIALLY

struct fx {
	struct cal *cal;
	struct dl_policy *pol;
};

static cm_day_t D(int y, int m, int d)
{
	return cm_day_from_ymd(y, m, d);
}

static int setup(void **state)
{
	struct fx *f = cm_xcalloc(1, sizeof(*f));
	char err[CAL_ERR_LEN + DL_ERR_LEN];

	if (cal_load(CAL_DATA_DIR, NULL, &f->cal, err, sizeof(err)) != 0)
		fail_msg("calendar: %s", err);
	if (dl_policy_load(POLICY_FILE, &f->pol, err, sizeof(err)) != 0)
		fail_msg("policy: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cal_free(&f->cal);
	dl_policy_free(&f->pol);
	free(f);
	return 0;
}

/* A clock opened by rule `rule` on `trigger` for a case of that complexity:
 * version, period and due day. */
struct vec {
	const char *rule;
	int ty, tm, td;		/* trigger */
	int cplx;
	bool remote;
	unsigned version;
	unsigned length;
	int dy, dm, dd;		/* expected due day */
	const char *why;
};

static const struct vec vectors[] = {
	/* --- xử lý đơn: 10 WD, make-up Saturdays counted --- */
	{"xld.handle", 2026, 3, 9, N, false, 1, 10, 2026, 3, 23,
	 "10-13/3 (4), 16-20/3 (9), 23/3 (10)"},
	{"xld.handle", 2026, 2, 10, N, false, 1, 10, 2026, 3, 3,
	 "just before Tết: 11-13/2 (3), 14-22/2 off, 23-27/2 (8), 2/3 (9), 3/3 (10)"},
	{"xld.handle", 2026, 2, 18, N, false, 1, 10, 2026, 3, 6,
	 "during Tết: counting starts 19/2; 19-22/2 off; 23-27/2 (5), 2-6/3 (10)"},
	{"xld.handle", 2026, 2, 14, N, false, 1, 10, 2026, 3, 6,
	 "Saturday before Tết: 15-22/2 off; 23-27/2 (5), 2-6/3 (10)"},
	{"xld.handle", 2026, 1, 2, N, false, 1, 10, 2026, 1, 15,
	 "on the swapped day: 5-9/1 (5), Sat 10/1 make-up (6), 12-15/1 (10)"},
	{"xld.handle", 2026, 1, 10, N, false, 1, 10, 2026, 1, 23,
	 "on the make-up Saturday: 12-16/1 (5), 19-23/1 (10)"},
	{"xld.handle", 2025, 4, 23, N, false, 1, 10, 2025, 5, 9,
	 "24, 25/4 (2), Sat 26/4 make-up (3), 28, 29/4 (5), 30/4-4/5 off, 5-9/5 (10)"},
	{"xld.handle", 2025, 8, 28, N, false, 1, 10, 2025, 9, 15,
	 "29/8 (1), 30/8-2/9 off, 3-5/9 (4), 8-12/9 (9), 15/9 (10)"},
	{"xld.handle", 2026, 8, 21, N, false, 1, 10, 2026, 9, 8,
	 "Sat 22/8 make-up (1), 24-28/8 (6), 29/8-2/9 off, 3, 4/9 (8), 7, 8/9 (10)"},
	{"xld.handle", 2025, 12, 26, N, false, 1, 10, 2026, 1, 12,
	 "29-31/12 (3), 1-4/1 off, 5-9/1 (8), Sat 10/1 make-up (9), 12/1 (10)"},
	{"xld.unhandled45", 2026, 3, 9, N, false, 1, 45, 2026, 4, 23,
	 "9/3 + 45 = 23/4 (Thu), a working day"},
	{"xld.unhandled45", 2026, 1, 2, N, false, 1, 45, 2026, 2, 23,
	 "2/1 + 45 = 16/2 (Tết), rolled over 16-22/2 to 23/2"},

	/* --- complaint acceptance: 10 WD to 30/6/2026, 7 WD from 1/7/2026 --- */
	{"kn.accept", 2026, 6, 30, N, false, 1, 10, 2026, 7, 14,
	 "v1 on 30/6: 1-3/7 (3), 6-10/7 (8), 13, 14/7 (10)"},
	{"kn.accept", 2026, 7, 1, N, false, 2, 7, 2026, 7, 10,
	 "v2 from 1/7: 2, 3/7 (2), 6-10/7 (7)"},
	{"kn.accept", 2026, 6, 26, N, false, 1, 10, 2026, 7, 10,
	 "v1: 29, 30/6 (2), 1-3/7 (5), 6-10/7 (10)"},
	{"kn.accept", 2026, 6, 27, N, false, 1, 10, 2026, 7, 10,
	 "v1 on a Saturday: 29, 30/6 (2), 1-3/7 (5), 6-10/7 (10)"},
	{"kn.accept", 2026, 7, 2, N, false, 2, 7, 2026, 7, 13,
	 "v2: 3/7 (1), 6-10/7 (6), 13/7 (7)"},
	{"kn.accept", 2026, 1, 2, N, false, 1, 10, 2026, 1, 16,
	 "make-up Sat 10/1 not counted: 5-9/1 (5), 12-16/1 (10)"},
	{"kn.accept", 2026, 8, 21, N, false, 2, 7, 2026, 9, 4,
	 "v2, Sat 22/8 not counted: 24-28/8 (5), 31/8-2/9 off, 3, 4/9 (7)"},
	{"kn.accept", 2026, 4, 27, N, false, 1, 10, 2026, 5, 13,
	 "on nghỉ bù 27/4: 28, 29/4 (2), 30/4-3/5 off, 4-8/5 (7), 11-13/5 (10)"},
	{"kn.accept", 2026, 4, 23, N, false, 1, 10, 2026, 5, 12,
	 "24/4 (1), 27/4 off, 28, 29/4 (3), 30/4-3/5 off, 4-8/5 (8), 11, 12/5 (10)"},
	{"kn.accept", 2025, 4, 29, N, false, 1, 10, 2025, 5, 16,
	 "30/4-4/5 off, 5-9/5 (5), 12-16/5 (10)"},
	{"kn.accept", 2026, 2, 13, N, false, 1, 10, 2026, 3, 6,
	 "Friday before Tết: 14-22/2 off, 23-27/2 (5), 2-6/3 (10)"},
	{"kn.discipline.accept", 2026, 4, 16, N, false, 1, 10, 2026, 4, 28,
	 "16/4 + 10 = Sun 26/4, 27/4 nghỉ bù, rolled to 28/4"},
	{"kn.discipline.accept", 2026, 4, 21, N, false, 1, 10, 2026, 5, 4,
	 "21/4 + 10 = 1/5 holiday, 2, 3/5 weekend, rolled to 4/5"},

	/* --- denunciations: acceptance 7 WD, forwarding 5 WD --- */
	{"tc.accept", 2026, 2, 9, N, false, 1, 7, 2026, 2, 25,
	 "10-13/2 (4), 14-22/2 off, 23-25/2 (7)"},
	{"tc.accept", 2025, 1, 22, N, false, 1, 7, 2025, 2, 7,
	 "23, 24/1 (2), 25/1-2/2 off (Tết Ất Tỵ), 3-7/2 (7)"},
	{"tc.accept", 2025, 4, 23, N, false, 1, 7, 2025, 5, 7,
	 "Sat 26/4 not counted: 24, 25/4 (2), 28, 29/4 (4), 30/4-4/5 off, 5-7/5 (7)"},
	{"tc.forward", 2025, 8, 29, N, false, 1, 5, 2025, 9, 9,
	 "30/8-2/9 off, 3-5/9 (3), 8, 9/9 (5)"},
	{"tc.forward", 2026, 8, 28, N, false, 1, 5, 2026, 9, 9,
	 "29/8-2/9 off, 3, 4/9 (2), 7-9/9 (5)"},

	/* --- complaint resolution, round 1: 30 CAL; complex/remote 45; both 60 --- */
	{"kn.resolve.r1", 2026, 1, 19, N, false, 1, 30, 2026, 2, 23,
	 "19/1 + 30 = 18/2 (Tết), rolled over 18-22/2 to 23/2"},
	{"kn.resolve.r1", 2026, 1, 16, N, false, 1, 30, 2026, 2, 23,
	 "16/1 + 30 = Sun 15/2, rolled over 15-22/2 to 23/2"},
	{"kn.resolve.r1", 2026, 3, 18, N, false, 1, 30, 2026, 4, 17,
	 "18/3 + 30 = Fri 17/4"},
	{"kn.resolve.r1", 2026, 3, 18, C, false, 1, 45, 2026, 5, 4,
	 "complex: 18/3 + 45 = Sat 2/5, rolled to Mon 4/5"},
	{"kn.resolve.r1", 2026, 3, 18, N, true, 1, 45, 2026, 5, 4,
	 "remote: 18/3 + 45 = Sat 2/5, rolled to 4/5"},
	{"kn.resolve.r1", 2026, 3, 18, C, true, 1, 60, 2026, 5, 18,
	 "remote and complex: 18/3 + 60 = Sun 17/5, rolled to 18/5"},
	{"kn.resolve.r1", 2026, 3, 18, E, false, 1, 45, 2026, 5, 4,
	 "especially complex counts as complex: 45 days"},
	{"kn.resolve.r1", 2025, 3, 31, N, false, 1, 30, 2025, 5, 5,
	 "31/3 + 30 = 30/4 holiday, 1, 2/5 off, 3, 4/5 weekend: 5/5"},
	{"kn.resolve.r1", 2026, 7, 23, N, false, 1, 30, 2026, 8, 24,
	 "23/7 + 30 = Sat 22/8 (make-up day, not counted for a citizen), rolled to 24/8"},
	{"kn.resolve.r1", 2026, 7, 31, N, false, 1, 30, 2026, 9, 3,
	 "31/7 + 30 = Sun 30/8, 31/8-2/9 off: 3/9"},

	/* --- round 2: 45 CAL; complex/remote 60; both 70 --- */
	{"kn.resolve.r2", 2026, 6, 1, N, false, 1, 45, 2026, 7, 16, "1/6 + 45 = Thu 16/7"},
	{"kn.resolve.r2", 2026, 6, 1, C, false, 1, 60, 2026, 7, 31, "complex: 1/6 + 60 = Fri 31/7"},
	{"kn.resolve.r2", 2026, 6, 1, C, true, 1, 70, 2026, 8, 10,
	 "remote and complex: 1/6 + 70 = Mon 10/8"},
	{"kn.resolve.r2", 2026, 6, 1, N, true, 1, 60, 2026, 7, 31, "remote: 60 days"},

	/* --- disciplinary complaints: 30 CAL, complex 45 --- */
	{"kn.discipline.resolve", 2025, 8, 13, N, false, 1, 30, 2025, 9, 12,
	 "13/8 + 30 = Fri 12/9 (1-2/9 inside a calendar-day period count)"},
	{"kn.discipline.resolve", 2025, 8, 13, C, false, 1, 45, 2025, 9, 29,
	 "complex: 13/8 + 45 = Sat 27/9, rolled to Mon 29/9"},

	/* --- denunciation resolution: 30 CAL --- */
	{"tc.resolve", 2026, 1, 5, N, false, 1, 30, 2026, 2, 4, "5/1 + 30 = Wed 4/2"},
	{"tc.resolve", 2025, 12, 5, N, false, 1, 30, 2026, 1, 5,
	 "5/12 + 30 = Sun 4/1/2026, rolled to 5/1"},
	{"tc.resolve", 2025, 12, 2, N, false, 1, 30, 2026, 1, 5,
	 "2/12 + 30 = 1/1 holiday, 2/1 swapped, 3, 4/1 weekend: 5/1"},
	{"tc.resolve", 2026, 1, 5, C, false, 1, 30, 2026, 2, 4,
	 "complexity gives extensions, not a longer first period"},

	/* --- sending and follow-up --- */
	{"kn.send.r1", 2026, 2, 12, N, false, 1, 3, 2026, 2, 24,
	 "13/2 (1), 14-22/2 off, 23/2 (2), 24/2 (3)"},
	{"kn.send.r2", 2026, 4, 24, N, false, 1, 7, 2026, 5, 4,
	 "24/4 + 7 = 1/5 holiday, rolled over 1-3/5 to 4/5"},
	{"tc.send_conclusion", 2026, 8, 27, N, false, 1, 5, 2026, 9, 8,
	 "28/8 (1), 29/8-2/9 off (Sat 22/8 is earlier), 3, 4/9 (3), 7, 8/9 (5)"},
	{"tc.followup", 2026, 8, 20, N, false, 1, 7, 2026, 8, 28,
	 "counted: 21/8 (1), Sat 22/8 make-up (2), 24-28/8 (7)"},
	{"kn.effect.r1", 2026, 8, 3, N, false, 1, 30, 2026, 9, 3,
	 "3/8 + 30 = Wed 2/9 holiday, rolled to 3/9"},
	{"kn.effect.r1", 2026, 8, 3, N, true, 1, 45, 2026, 9, 17, "remote: 3/8 + 45 = Thu 17/9"},
	{"tc.redenounce", 2026, 2, 1, N, false, 1, 20, 2026, 2, 23,
	 "1/2 + 20 = Sat 21/2, rolled to Mon 23/2"},
};

static void test_vectors(void **state)
{
	struct fx *f = *state;
	char buf[DL_EXPLAIN_MAX];

	for (size_t i = 0; i < CM_ARRAY_LEN(vectors); i++) {
		const struct vec *v = &vectors[i];
		const struct dl_rule *r = dl_policy_rule(f->pol, v->rule, strlen(v->rule));
		const struct dl_version *ver;
		struct cal_explain ex;
		enum dl_variant var;
		cm_day_t due;
		unsigned len;
		char got[11], want[11];

		if (!r)
			fail_msg("vector %zu: no rule %s", i, v->rule);
		ver = dl_rule_version(r, D(v->ty, v->tm, v->td));
		if (!ver)
			fail_msg("vector %zu: no version of %s in force", i, v->rule);
		var = dl_version_variant(ver, v->cplx, v->remote);
		len = dl_version_length(ver, var);
		assert_int_equal(dl_due(f->cal, ver->unit, ver->ignore_makeup,
					D(v->ty, v->tm, v->td), (int)len, &due, &ex),
				 0);
		cm_day_format(due, got);
		cm_day_format(D(v->dy, v->dm, v->dd), want);
		if (ver->version != v->version || len != v->length || due != D(v->dy, v->dm, v->dd))
			fail_msg("vector %zu (%s, trigger %04d-%02d-%02d): got v%u %u days due %s, "
				 "want v%u %u days due %s (%s)",
				 i, v->rule, v->ty, v->tm, v->td, ver->version, len, got, v->version,
				 v->length, want, v->why);
		/* Every due date explains itself. */
		dl_explain(r, ver, var, D(v->ty, v->tm, v->td), len, 0, 0, NULL, &ex, buf,
			   sizeof(buf));
		assert_non_null(strstr(buf, v->rule));
		assert_non_null(strstr(buf, ver->article));
		assert_non_null(strstr(buf, want));
	}
}

/* The unit a clock counts in decides the make-up Saturday: the same 30
 * calendar days ending on Sat 22/8/2026 end there when make-up days count. */
static void test_makeup_counted_or_not(void **state)
{
	struct fx *f = *state;
	cm_day_t due;

	assert_int_equal(dl_due(f->cal, DL_UNIT_CAL, false, D(2026, 7, 23), 30, &due, NULL), 0);
	assert_int_equal(due, D(2026, 8, 22));
	assert_int_equal(dl_due(f->cal, DL_UNIT_CAL, true, D(2026, 7, 23), 30, &due, NULL), 0);
	assert_int_equal(due, D(2026, 8, 24));
	/* 7 WD from 20/8: counted 21, 22 (Sat), 24-28 -> 28/8; ignored -> 31/8-2/9
	 * off, so 3/9. */
	assert_int_equal(dl_due(f->cal, DL_UNIT_WD, false, D(2026, 8, 20), 7, &due, NULL), 0);
	assert_int_equal(due, D(2026, 8, 28));
	assert_int_equal(dl_due(f->cal, DL_UNIT_WD, true, D(2026, 8, 20), 7, &due, NULL), 0);
	assert_int_equal(due, D(2026, 9, 3));
	/* 5 WD from Thu 24/4/2025: counted 25, 26 (Sat), 28, 29/4, then
	 * 30/4-4/5 off, 5/5; ignored 6/5. */
	assert_int_equal(dl_due(f->cal, DL_UNIT_WD, false, D(2025, 4, 24), 5, &due, NULL), 0);
	assert_int_equal(due, D(2025, 5, 5));
	assert_int_equal(dl_due(f->cal, DL_UNIT_WD, true, D(2025, 4, 24), 5, &due, NULL), 0);
	assert_int_equal(due, D(2025, 5, 6));
}

/* --- extensions --- */

struct ext_vec {
	const char *rule;
	int cplx;
	bool remote;
	unsigned count, total, days;
	bool ok;
	unsigned granted;
	const char *why;	/* a word the refusal must contain */
};

static const struct ext_vec ext_vectors[] = {
	/* Denunciations (Luật TC Điều 30): complex once, especially complex twice,
	 * each at most 30 days. */
	{"tc.resolve", C, false, 0, 30, 30, true, 30, NULL},
	{"tc.resolve", C, false, 0, 30, 0, true, 30, NULL},
	{"tc.resolve", C, false, 0, 30, 10, true, 10, NULL},
	{"tc.resolve", C, false, 1, 60, 30, false, 0, "1 time"},
	{"tc.resolve", C, false, 0, 30, 31, false, 0, "at most 30"},
	{"tc.resolve", E, false, 1, 60, 30, true, 30, NULL},
	{"tc.resolve", E, false, 2, 90, 30, false, 0, "2 times"},
	{"tc.resolve", N, false, 0, 30, 30, false, 0, "may not be extended"},
	/* Complaints (Luật KN Điều 28): the period may grow to the cap of the
	 * case's variant. */
	{"kn.resolve.r1", N, false, 0, 30, 10, false, 0, "may not be extended"},
	{"kn.resolve.r1", C, false, 0, 30, 15, true, 15, NULL},
	{"kn.resolve.r1", C, false, 0, 30, 16, false, 0, "at most 45"},
	{"kn.resolve.r1", C, false, 1, 45, 1, false, 0, "already 45"},
	{"kn.resolve.r1", C, false, 0, 30, 0, true, 15, NULL},
	{"kn.resolve.r1", C, true, 0, 45, 15, true, 15, NULL},
	{"kn.resolve.r1", C, true, 0, 45, 16, false, 0, "at most 60"},
	{"kn.resolve.r2", C, true, 0, 60, 10, true, 10, NULL},
	{"kn.resolve.r2", C, true, 0, 60, 11, false, 0, "at most 70"},
	/* Denunciation acceptance (Điều 24 k1): 7 working days, to 10. */
	{"tc.accept", N, false, 0, 7, 3, true, 3, NULL},
	{"tc.accept", N, false, 0, 7, 4, false, 0, "at most 10"},
	/* A period with no extension rule. */
	{"kn.accept", C, false, 0, 10, 1, false, 0, "cannot be extended"},
};

static void test_extensions(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < CM_ARRAY_LEN(ext_vectors); i++) {
		const struct ext_vec *v = &ext_vectors[i];
		const struct dl_rule *r = dl_policy_rule(f->pol, v->rule, strlen(v->rule));
		const struct dl_version *ver = dl_rule_version(r, D(2026, 3, 1));
		unsigned granted = 0;
		char why[512];
		int rc = dl_extension_check(ver, v->cplx, v->remote, v->count, v->total, v->days,
					    &granted, why, sizeof(why));

		if (v->ok && (rc != 0 || granted != v->granted))
			fail_msg("ext vector %zu (%s): rc %d granted %u, want %u (%s)", i, v->rule,
				 rc, granted, v->granted, why);
		if (!v->ok && (rc != CM_ESTATE || !strstr(why, v->why)))
			fail_msg("ext vector %zu (%s): rc %d \"%s\", want a refusal naming \"%s\"", i,
				 v->rule, rc, why, v->why);
	}
}

/* Extended periods: a complex denunciation accepted 5/1/2026, once by 30:
 * 5/1 + 60 = Fri 6/3. Especially complex twice: 5/1 + 90 = Sun 5/4, rolled to
 * Mon 6/4. A complex complaint accepted 18/3/2026 extended to 45: Sat 2/5,
 * rolled to 4/5. Denunciation acceptance extended 7 -> 10 WD from 9/2/2026:
 * 10-13/2 (4), 23-27/2 (9), 2/3 (10). */
static void test_extended_due(void **state)
{
	struct fx *f = *state;
	cm_day_t due;

	assert_int_equal(dl_due(f->cal, DL_UNIT_CAL, true, D(2026, 1, 5), 60, &due, NULL), 0);
	assert_int_equal(due, D(2026, 3, 6));
	assert_int_equal(dl_due(f->cal, DL_UNIT_CAL, true, D(2026, 1, 5), 90, &due, NULL), 0);
	assert_int_equal(due, D(2026, 4, 6));
	assert_int_equal(dl_due(f->cal, DL_UNIT_CAL, true, D(2026, 3, 18), 45, &due, NULL), 0);
	assert_int_equal(due, D(2026, 5, 4));
	assert_int_equal(dl_due(f->cal, DL_UNIT_WD, true, D(2026, 2, 9), 10, &due, NULL), 0);
	assert_int_equal(due, D(2026, 3, 2));
}

/* --- suspensions: the suspended days are not counted --- */

static void test_suspensions(void **state)
{
	struct fx *f = *state;
	const struct dl_rule *r = dl_policy_rule(f->pol, "kn.resolve.r1", 13);
	const struct dl_version *v = dl_rule_version(r, D(2026, 6, 15));
	cm_day_t due;
	int left;

	/* tc.resolve from 5/1/2026 (nominal end 4/2), suspended 19/1: 16 days
	 * left; resumed 2/2: 2/2 + 16 = 18/2 (Tết), rolled to 23/2. */
	assert_int_equal(dl_remaining(f->cal, DL_UNIT_CAL, true, D(2026, 1, 5), 30, D(2026, 1, 19),
				      &left),
			 0);
	assert_int_equal(left, 16);
	assert_int_equal(dl_due(f->cal, DL_UNIT_CAL, true, D(2026, 2, 2), left, &due, NULL), 0);
	assert_int_equal(due, D(2026, 2, 23));
	/* Suspended on the due day: nothing left, due on the day it resumes. */
	assert_int_equal(dl_remaining(f->cal, DL_UNIT_CAL, true, D(2026, 1, 5), 30, D(2026, 2, 4),
				      &left),
			 0);
	assert_int_equal(left, 0);
	assert_int_equal(dl_due(f->cal, DL_UNIT_CAL, true, D(2026, 2, 10), left, &due, NULL), 0);
	assert_int_equal(due, D(2026, 2, 10));
	/* Working days: 10 WD from 9/3/2026 (due 23/3), suspended Fri 13/3:
	 * 16-20/3 and 23/3 left (6); resumed Thu 26/3: 27/3, 30/3, 31/3, 1-3/4. */
	assert_int_equal(dl_remaining(f->cal, DL_UNIT_WD, true, D(2026, 3, 9), 10, D(2026, 3, 13),
				      &left),
			 0);
	assert_int_equal(left, 6);
	assert_int_equal(dl_due(f->cal, DL_UNIT_WD, true, D(2026, 3, 26), left, &due, NULL), 0);
	assert_int_equal(due, D(2026, 4, 3));
	/* Suspended before the period starts: all of it is left. */
	assert_int_equal(dl_remaining(f->cal, DL_UNIT_WD, true, D(2026, 3, 9), 10, D(2026, 3, 2),
				      &left),
			 0);
	assert_int_equal(left, 10);
	/* Complaint suspension exists only from 1/7/2026 (Law 136/2025, NĐ 155
	 * Điều 22 k1 for cases already open): kn.resolve.r1 accepted 15/6
	 * (due 15/7), suspended 1/7: 14 days left; resumed 20/7: Mon 3/8. */
	assert_true(v->pauses);
	assert_true(D(2026, 6, 30) < v->pauses_from);
	assert_true(D(2026, 7, 1) >= v->pauses_from);
	assert_int_equal(dl_due(f->cal, v->unit, v->ignore_makeup, D(2026, 6, 15), 30, &due, NULL),
			 0);
	assert_int_equal(due, D(2026, 7, 15));
	assert_int_equal(dl_remaining(f->cal, v->unit, v->ignore_makeup, D(2026, 6, 15), 30,
				      D(2026, 7, 1), &left),
			 0);
	assert_int_equal(left, 14);
	assert_int_equal(dl_due(f->cal, v->unit, v->ignore_makeup, D(2026, 7, 20), left, &due, NULL),
			 0);
	assert_int_equal(due, D(2026, 8, 3));
}

/* --- which rules a case gets --- */

static void test_matching(void **state)
{
	struct fx *f = *state;
	const struct dl_rule *acc = dl_policy_rule(f->pol, "kn.accept", 9);
	const struct dl_rule *dacc = dl_policy_rule(f->pol, "kn.discipline.accept", 20);
	const struct dl_rule *r1 = dl_policy_rule(f->pol, "kn.resolve.r1", 13);
	const struct dl_rule *r2 = dl_policy_rule(f->pol, "kn.resolve.r2", 13);
	const struct dl_rule *xld = dl_policy_rule(f->pol, "xld.handle", 10);
	const struct dl_rule *fu = dl_policy_rule(f->pol, "kn.followup", 11);
	const struct dl_rule *eff = dl_policy_rule(f->pol, "kn.effect.r1", 12);

	assert_true(dl_rule_matches(acc, 1, 1, 1));
	assert_false(dl_rule_matches(acc, 1, 2, 1));
	assert_true(dl_rule_matches(dacc, 1, 2, 2));
	assert_false(dl_rule_matches(acc, 2, 0, 0));
	assert_true(dl_rule_matches(r1, 1, 1, 1));
	assert_false(dl_rule_matches(r1, 1, 1, 2));
	assert_true(dl_rule_matches(r2, 1, 1, 2));
	for (int k = 1; k <= 5; k++)
		assert_true(dl_rule_matches(xld, k, 0, 0));
	assert_false(dl_rule_matches(xld, 0, 0, 0));
	assert_true(eff->waiting);
	assert_int_equal(eff->then, dl_policy_rule_index(f->pol, fu));
	assert_int_equal(fu->trigger, DL_TRIG_ELAPSED);
	/* The 45-day rule goes straight to the chairman. */
	{
		const struct dl_rule *u = dl_policy_rule(f->pol, "xld.unhandled45", 15);
		assert_int_equal(u->levels, 1u << DL_LVL_CHAIRMAN);
		assert_true(u->escalate_at_due);
		assert_int_equal(u->reason, DL_REASON_UNHANDLED_45);
	}
	/* Reception duties change on 1/7/2026 for commune chairmen. */
	{
		const struct dl_reception_rule *rr = dl_policy_reception(f->pol, 1);
		const struct dl_reception_version *a = dl_reception_version(rr, D(2026, 6, 1));
		const struct dl_reception_version *b = dl_reception_version(rr, D(2026, 7, 1));
		assert_int_equal(a->per, DL_PER_WEEK);
		assert_int_equal(a->min, 1);
		assert_int_equal(b->per, DL_PER_MONTH);
		assert_int_equal(b->min, 2);
		assert_null(dl_reception_version(dl_policy_reception(f->pol, 4), D(2026, 6, 30)));
	}
	assert_non_null(dl_policy_flag(f->pol, 2));
	assert_string_equal(dl_policy_flag(f->pol, 2)->topic, "flag.delegation");
}

/* --- loading refuses what it does not understand --- */

static const char *good_rule =
	"{\"id\":\"x.y\",\"stage\":\"handling\",\"title\":\"t\",\"kinds\":[\"feedback\"],"
	"\"trigger\":\"received\",\"stop_on\":[\"accept\"],\"versions\":[{\"version\":1,"
	"\"effective_from\":\"2000-01-01\",\"length\":5,\"unit\":\"WD\",\"makeup_saturdays\":"
	"\"count\",\"article\":\"a\"}]}";

static int load_text(const char *dir, const char *text, char *err, size_t errlen)
{
	struct dl_policy *p = NULL;
	char *path = cm_xasprintf("%s/p.json", dir);
	int rc;

	cm_test_write_file(dir, "p.json", text);
	rc = dl_policy_load(path, &p, err, errlen);
	dl_policy_free(&p);
	free(path);
	return rc;
}

static void test_load_errors(void **state)
{
	char *dir = cm_test_tmpdir("dlpolicy");
	char err[DL_ERR_LEN], *text;
	static const struct {
		const char *from, *to, *msg;
	} breaks[] = {
		{"\"unit\":\"WD\"", "\"unit\":\"days\"", "unit"},
		{"\"length\":5", "\"length\":0", "length"},
		{"\"trigger\":\"received\"", "\"trigger\":\"whenever\"", "unknown trigger"},
		{"\"stop_on\":[\"accept\"]", "\"stop_on\":[\"acept\"]", "unknown name"},
		{"\"kinds\":[\"feedback\"]", "\"kinds\":[]", "at least one kind"},
		{"\"title\":\"t\"", "\"title\":\"t\",\"colour\":\"red\"", "unknown key"},
		{"\"id\":\"x.y\"", "\"id\":\"X/Y\"", "id"},
		{"\"stage\":\"handling\"", "\"stage\":\"somewhere\"", "unknown stage"},
		{"\"effective_from\":\"2000-01-01\"", "\"effective_from\":\"2000-02-30\"",
		 "effective_from"},
		{"\"makeup_saturdays\":\"count\"", "\"makeup_saturdays\":\"maybe\"", "makeup"},
	};
	int rc;

	(void)state;
	text = cm_xasprintf("{\"format\":1,\"version\":\"t\",\"sources\":[\"s\"],\"rules\":[%s]}",
			    good_rule);
	assert_int_equal(load_text(dir, text, err, sizeof(err)), 0);
	for (size_t i = 0; i < CM_ARRAY_LEN(breaks); i++) {
		char *rule = cm_xstrdup(good_rule), *bad, *at = strstr(rule, breaks[i].from);
		assert_non_null(at);
		*at = '\0';
		bad = cm_xasprintf("{\"format\":1,\"version\":\"t\",\"sources\":[\"s\"],\"rules\":"
				   "[%s%s%s]}",
				   rule, breaks[i].to, at + strlen(breaks[i].from));
		rc = load_text(dir, bad, err, sizeof(err));
		if (rc != CM_ECONFIG || !strstr(err, breaks[i].msg))
			fail_msg("break %zu: rc %d err \"%s\", want CM_ECONFIG naming \"%s\"", i, rc,
				 err, breaks[i].msg);
		assert_non_null(strstr(err, "p.json"));
		free(bad);
		free(rule);
	}
	/* Versions out of order, a "then" naming nothing, a duplicate key. */
	free(text);
	text = cm_xasprintf(
		"{\"format\":1,\"version\":\"t\",\"sources\":[\"s\"],\"rules\":[{\"id\":\"a\","
		"\"stage\":\"handling\",\"title\":\"t\",\"kinds\":[\"feedback\"],\"trigger\":"
		"\"received\",\"stop_on\":[],\"versions\":[{\"version\":2,\"effective_from\":"
		"\"2026-07-01\",\"length\":7,\"unit\":\"WD\",\"makeup_saturdays\":\"count\","
		"\"article\":\"a\"},{\"version\":1,\"effective_from\":\"2000-01-01\",\"length\":10,"
		"\"unit\":\"WD\",\"makeup_saturdays\":\"count\",\"article\":\"a\"}]}]}");
	assert_int_equal(load_text(dir, text, err, sizeof(err)), CM_ECONFIG);
	assert_non_null(strstr(err, "increasing"));
	free(text);
	text = cm_xasprintf(
		"{\"format\":1,\"version\":\"t\",\"sources\":[\"s\"],\"rules\":[{\"id\":\"a\","
		"\"stage\":\"legal_effect\",\"title\":\"t\",\"kinds\":[\"complaint\"],\"trigger\":"
		"\"decided\",\"stop_on\":[],\"waiting\":true,\"then\":\"nowhere\",\"versions\":[{"
		"\"version\":1,\"effective_from\":\"2000-01-01\",\"length\":30,\"unit\":\"CAL\","
		"\"makeup_saturdays\":\"ignore\",\"article\":\"a\"}]}]}");
	assert_int_equal(load_text(dir, text, err, sizeof(err)), CM_ECONFIG);
	assert_non_null(strstr(err, "nowhere"));
	free(text);
	text = cm_xasprintf("{\"format\":1,\"format\":1}");
	assert_int_equal(load_text(dir, text, err, sizeof(err)), CM_ECONFIG);
	free(text);
	{
		struct dl_policy *p = NULL;
		char *missing = cm_xasprintf("%s/none.json", dir);
		assert_int_equal(dl_policy_load(missing, &p, err, sizeof(err)), -ENOENT);
		assert_null(p);
		free(missing);
	}
	cm_test_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_makeup_counted_or_not),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_extended_due),
		cmocka_unit_test(test_suspensions),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

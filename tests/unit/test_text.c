#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <utf8proc.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/text.h"

/* "Hòa" with ò precomposed (U+00F2) and as o + U+0300. */
#define HOA_NFC "H\xc3\xb2" "a"
#define HOA_NFD "Ho\xcc\x80" "a"

static int check(const char *s, unsigned flags)
{
	return cm_text_check(s, strlen(s), flags, NULL);
}

static void test_check_valid(void **state)
{
	const char *why = "untouched";

	(void)state;
	assert_int_equal(cm_text_check("", 0, CM_TEXT_SINGLE_LINE, &why), 0);
	assert_int_equal(check("plain ascii", CM_TEXT_SINGLE_LINE), 0);
	assert_int_equal(check("Phường Hòa Cường Bắc, Đà Nẵng", CM_TEXT_SINGLE_LINE), 0);
	assert_int_equal(check(HOA_NFD, CM_TEXT_SINGLE_LINE), 0);
	/* Four-byte sequence (emoji) and the last code point. */
	assert_int_equal(check("\xf0\x9f\x98\x80", CM_TEXT_SINGLE_LINE), 0);
	assert_int_equal(check("\xf4\x8f\xbf\xbf", CM_TEXT_SINGLE_LINE), 0);
	assert_int_equal(check("line one\nline two\r\n\tindented", CM_TEXT_MULTI_LINE), 0);
	assert_string_equal(why, "untouched");
}

static void test_check_invalid_utf8(void **state)
{
	static const struct {
		const char *s;
		size_t bad_at;
	} cases[] = {
		{ "ok \xc0\x80", 3 },		   /* overlong NUL */
		{ "\xc1\xbf", 0 },		   /* overlong two-byte */
		{ "ab\xe0\x80\xaf", 2 },	   /* overlong three-byte '/' */
		{ "\xf0\x80\x80\xaf", 0 },	   /* overlong four-byte */
		{ "x\xed\xa0\x80", 1 },		   /* high surrogate */
		{ "\xed\xbf\xbf", 0 },		   /* low surrogate */
		{ "\xf4\x90\x80\x80", 0 },	   /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 0 },	   /* lead byte never valid */
		{ "abc\xe1\x80", 3 },		   /* truncated at the end */
		{ "\xe1\x80z", 0 },		   /* truncated in the middle */
		{ "\x80", 0 },			   /* lone continuation */
		{ "valid \xff", 6 },		   /* 0xFF */
		{ "\xfe", 0 },			   /* 0xFE */
		{ "\xf8\x88\x80\x80\x80", 0 },	   /* five-byte form */
	};
	char want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		int rc = cm_text_check(cases[i].s, strlen(cases[i].s), CM_TEXT_MULTI_LINE, &why);

		assert_int_equal(rc, CM_EINVALID);
		assert_non_null(why);
		snprintf(want, sizeof(want), "invalid UTF-8 at byte %zu", cases[i].bad_at);
		assert_string_equal(why, want);
	}
}

static void test_check_nul_inside(void **state)
{
	static const char s[] = "abc\0def";
	const char *why = NULL;

	(void)state;
	assert_int_equal(cm_text_check(s, sizeof(s) - 1, CM_TEXT_MULTI_LINE, &why), -EINVAL);
	assert_string_equal(why, "NUL at byte 3");
	assert_int_equal(cm_text_check(s, sizeof(s) - 1, CM_TEXT_SINGLE_LINE, NULL), -EINVAL);
	/* The length bounds the check: the first three bytes are fine. */
	assert_int_equal(cm_text_check(s, 3, CM_TEXT_SINGLE_LINE, NULL), 0);
}

static void test_check_control(void **state)
{
	const char *why = NULL;

	(void)state;
	assert_int_equal(cm_text_check("a\nb", 3, CM_TEXT_SINGLE_LINE, &why), -EINVAL);
	assert_string_equal(why, "control character U+000A at byte 1");
	assert_int_equal(check("tab\there", CM_TEXT_SINGLE_LINE), -EINVAL);
	assert_int_equal(check("cr\r", CM_TEXT_SINGLE_LINE), -EINVAL);
	assert_int_equal(check("tab\there", CM_TEXT_MULTI_LINE), 0);
	/* Other C0 controls, DEL and C1 controls are never allowed. */
	assert_int_equal(check("bell\a", CM_TEXT_MULTI_LINE), -EINVAL);
	assert_int_equal(check("esc\x1b[31m", CM_TEXT_MULTI_LINE), -EINVAL);
	assert_int_equal(check("del\x7f", CM_TEXT_MULTI_LINE), -EINVAL);
	assert_int_equal(cm_text_check("c1 \xc2\x85", 5, CM_TEXT_MULTI_LINE, &why), -EINVAL);
	assert_string_equal(why, "control character U+0085 at byte 3");
	assert_int_equal(check("\xc2\x9f", CM_TEXT_MULTI_LINE), -EINVAL);
	/* U+00A0 is just past the C1 block and allowed. */
	assert_int_equal(check("\xc2\xa0", CM_TEXT_SINGLE_LINE), 0);
	/* No flags at all means the strict policy. */
	assert_int_equal(check("a\nb", 0), -EINVAL);
}

static void test_nfc(void **state)
{
	char *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(cm_text_nfc(HOA_NFD, &a), 0);
	assert_int_equal(cm_text_nfc(HOA_NFC, &b), 0);
	assert_string_equal(a, HOA_NFC);
	assert_string_equal(b, HOA_NFC);
	free(a);
	free(b);

	/* Two marks on one base (ư + grave = ừ, U+1EEB), in either order of
	 * construction, and text that has no composed form stays decomposed. */
	assert_int_equal(cm_text_nfc("Phu\xcc\x9b\xcc\x80ng", &a), 0);
	assert_string_equal(a, "Ph\xe1\xbb\xab" "ng");
	free(a);
	assert_int_equal(cm_text_nfc("q\xcc\x80", &a), 0);
	assert_string_equal(a, "q\xcc\x80");
	free(a);
	/* NFC is not NFKC: the ligature fi stays. */
	assert_int_equal(cm_text_nfc("\xef\xac\x81", &a), 0);
	assert_string_equal(a, "\xef\xac\x81");
	free(a);
	assert_int_equal(cm_text_nfc("", &a), 0);
	assert_string_equal(a, "");
	free(a);

	a = NULL;
	assert_int_equal(cm_text_nfc("bad \xff", &a), CM_EINVALID);
	assert_null(a);
	assert_int_equal(cm_text_nfc("\xed\xa0\x80", &a), CM_EINVALID);
	assert_null(a);
}

static void test_length(void **state)
{
	(void)state;
	assert_int_equal(cm_text_length(""), 0);
	assert_int_equal(cm_text_length("abc"), 3);
	assert_int_equal(cm_text_length(HOA_NFC), 3);
	assert_int_equal(cm_text_length(HOA_NFD), 4);
	assert_int_equal(cm_text_length("Đà Nẵng"), 7);
	assert_int_equal(cm_text_length("\xf0\x9f\x98\x80!"), 2);
}

static char *fold(const char *s)
{
	char *out = NULL;

	assert_int_equal(cm_text_fold(s, &out), 0);
	assert_non_null(out);
	return out;
}

static void expect_fold(const char *s, const char *want)
{
	char *got = fold(s);

	assert_string_equal(got, want);
	free(got);
}

static void test_fold(void **state)
{
	char *a, *b;

	(void)state;
	a = fold("Phường Hòa Cường  Bắc");
	b = fold("phuong hoa cuong bac");
	assert_string_equal(a, b);
	assert_string_equal(a, "phuong hoa cuong bac");
	free(a);
	free(b);

	expect_fold("Đà Nẵng", "da nang");
	expect_fold("ĐÀ NẴNG", "da nang");
	/* Decomposed input folds like composed input. */
	expect_fold(HOA_NFD, "hoa");
	expect_fold(HOA_NFC, "hoa");
	/* Eth typed for Đ. */
	expect_fold("\xc3\x90" "\xc3\xa0 N\xe1\xba\xb5ng", "da nang");
	/* Punctuation and white space runs become one space; ends trimmed. */
	expect_fold("  Số 12/3, đường Lê Lợi -- Q.1\t\n", "so 12 3 duong le loi q 1");
	expect_fold("\xe2\x80\x9cTrích dẫn\xe2\x80\x9d\xc2\xa0(x)", "trich dan x");
	/* NFKC: full-width letters and the fi ligature. */
	expect_fold("\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3", "abc");
	expect_fold("\xef\xac\x81le", "file");
	/* A soft hyphen or zero-width space inside a word does not split it. */
	expect_fold("Cư\xc2\xadờng", "cuong");
	expect_fold("Hòa\xe2\x80\x8b" "Bình", "hoabinh");
	/* Case folding beyond ASCII: ß folds to ss. */
	expect_fold("Straße", "strasse");
	expect_fold("", "");
	expect_fold(" ,.;- ", "");
	expect_fold("a", "a");

	a = NULL;
	assert_int_equal(cm_text_fold("x\xc0\x80", &a), CM_EINVALID);
	assert_null(a);
}

/* The quick-check ranges must agree with utf8proc: every code point in them is
 * unchanged by NFC alone, after a base letter and before a combining mark's
 * usual bases, and has combining class 0. */
static void test_nfc_quick_ranges(void **state)
{
	static const int32_t ranges[][2] = {
		{0x80, 0x2ff}, {0x1e00, 0x1eff}, {0x2010, 0x205f}, {0x20a0, 0x20bf}};
	static const char *const bases[] = {"a", "e", "o", "u", "A", "\xc6\xb0", "\xe1\xba\xa1"};

	(void)state;
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		for (int32_t cp = ranges[r][0]; cp <= ranges[r][1]; cp++) {
			utf8proc_uint8_t enc[8];
			char buf[32], *nfc = NULL;
			utf8proc_ssize_t n;
			const utf8proc_property_t *prop = utf8proc_get_property(cp);

			if (prop->category == UTF8PROC_CATEGORY_CN)
				continue; /* unassigned */
			assert_int_equal(prop->combining_class, 0);
			n = utf8proc_encode_char(cp, enc);
			enc[n] = 0;
			assert_true(cm_text_is_nfc_quick((const char *)enc));
			for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
				utf8proc_uint8_t *direct = NULL;
				snprintf(buf, sizeof(buf), "%s%s", bases[b], (const char *)enc);
				/* Through utf8proc directly, bypassing the fast path. */
				utf8proc_map((const utf8proc_uint8_t *)buf, 0, &direct,
					     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE);
				assert_non_null(direct);
				assert_string_equal((const char *)direct, buf);
				free(direct);
			}
			assert_int_equal(cm_text_nfc((const char *)enc, &nfc), 0);
			assert_string_equal(nfc, (const char *)enc);
			free(nfc);
		}
	}
	/* Decomposed input still goes the slow way and is composed. */
	assert_false(cm_text_is_nfc_quick(HOA_NFD));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_valid),
		cmocka_unit_test(test_check_invalid_utf8),
		cmocka_unit_test(test_check_nul_inside),
		cmocka_unit_test(test_check_control),
		cmocka_unit_test(test_nfc),
		cmocka_unit_test(test_nfc_quick_ranges),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_fold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/register.h"

#ifndef DONTHU_DATA_DIR
#error "DONTHU_DATA_DIR must name the repository's data directory"
#endif

#define SHIPPED DONTHU_DATA_DIR "/register"

/* ---- the shipped data set ---- */

static int load_shipped(void **state)
{
	struct cm_register *r = NULL;
	char err[256];
	int rc = cm_register_load(SHIPPED, &r, err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "load: %s\n", err);
	assert_int_equal(rc, 0);
	*state = r;
	return 0;
}

static int free_shipped(void **state)
{
	struct cm_register *r = *state;

	cm_register_free(&r);
	assert_null(r);
	return 0;
}

static cm_day_t day(int y, int m, int d)
{
	return cm_day_from_ymd(y, m, d);
}

static void test_shipped_counts(void **state)
{
	const struct cm_register *r = *state;
	cm_day_t d = day(2026, 1, 1);
	size_t communes = 0, districts_old = 0, n = cm_register_agency_count(r), seen = 0;
	const struct cm_agency *a;

	for (size_t i = 0; (a = cm_register_agency_at(r, i)) != NULL; i++) {
		seen++;
		if (a->level == CM_LEVEL_COMMUNE && cm_agency_active(a, d)) {
			communes++;
			assert_int_equal(a->nunits, 1);
			assert_true(cm_unit_active(cm_register_unit(r, a->units[0]), d));
			assert_string_equal(a->parent_code, "DN-UBND");
		}
		if (a->level == CM_LEVEL_DISTRICT) {
			assert_false(cm_agency_active(a, d));
			assert_true(cm_agency_active(a, day(2025, 6, 30)));
			districts_old++;
		}
		for (size_t k = 0; k < a->nfields; k++)
			assert_true(cm_register_field_known(r, a->fields[k]));
	}
	assert_int_equal(seen, n);
	assert_int_equal(communes, 94);
	/* 6 quận + Hòa Vang + Hoàng Sa of Đà Nẵng, 17 of Quảng Nam. */
	assert_int_equal(districts_old, 25);
	assert_null(cm_register_agency_at(r, n));
	assert_non_null(cm_register_agency(r, "DN-UBND"));
	assert_null(cm_register_agency(r, "NO-SUCH"));
	assert_null(cm_register_agency(r, NULL));
}

static void test_shipped_units(void **state)
{
	const struct cm_register *r = *state;
	const struct cm_unit *u = cm_register_unit(r, "20242");

	assert_non_null(u);
	assert_string_equal(u->name, "Phường Hải Châu");
	assert_string_equal(u->type, "phuong");
	assert_string_equal(u->province_code, "48");
	assert_int_equal(u->effective_from, day(2025, 7, 1));
	assert_int_equal(u->effective_to, INT32_MAX);
	assert_null(u->successor_code);
	assert_int_equal(u->nformed_from, 5);

	/* A former commune: itself until 30 June 2025, its new unit after. */
	u = cm_register_resolve_unit(r, "OLD-HAICHAU-PHUONG-THANHBINH", day(2026, 1, 1));
	assert_non_null(u);
	assert_string_equal(u->code, "20242");
	u = cm_register_resolve_unit(r, "OLD-HAICHAU-PHUONG-THANHBINH", day(2025, 6, 30));
	assert_string_equal(u->code, "OLD-HAICHAU-PHUONG-THANHBINH");
	assert_int_equal(u->effective_from, INT32_MIN);

	/* The split xã Hòa Liên: its successor holds "phần còn lại". */
	u = cm_register_resolve_unit(r, "OLD-HOAVANG-XA-HOALIEN", day(2025, 7, 1));
	assert_string_equal(u->code, "20197");
	/* A new unit did not exist before 1 July 2025 and has no predecessor link. */
	assert_null(cm_register_resolve_unit(r, "20242", day(2025, 6, 30)));
	assert_null(cm_register_resolve_unit(r, "nope", day(2026, 1, 1)));
	/* Huyện Hoàng Sa became the đặc khu. */
	u = cm_register_resolve_unit(r, "OLD-HOANGSA", day(2026, 1, 1));
	assert_string_equal(u->code, "20333");
}

static void test_shipped_resolve(void **state)
{
	const struct cm_register *r = *state;
	const struct cm_agency *a;

	a = cm_register_resolve(r, "QN-UBND", day(2025, 7, 1));
	assert_non_null(a);
	assert_string_equal(a->code, "DN-UBND");
	assert_int_equal(a->level, CM_LEVEL_PROVINCE);
	a = cm_register_resolve(r, "QN-UBND", day(2025, 6, 30));
	assert_string_equal(a->code, "QN-UBND");
	a = cm_register_resolve(r, "DN-UBND", day(2026, 1, 1));
	assert_string_equal(a->code, "DN-UBND");

	/* A former district's UBND hands over to one commune's UBND. */
	a = cm_register_resolve(r, "UBND-OLD-HAICHAU", day(2025, 7, 1));
	assert_string_equal(a->code, "UBND-20242");
	a = cm_register_resolve(r, "UBND-OLD-HOANGSA", day(2025, 7, 1));
	assert_string_equal(a->code, "UBND-20333");
	a = cm_register_resolve(r, "UBND-OLD-HAICHAU", day(2025, 6, 30));
	assert_string_equal(a->code, "UBND-OLD-HAICHAU");

	/* A commune UBND did not exist before and has nothing to resolve to. */
	assert_null(cm_register_resolve(r, "UBND-20242", day(2025, 6, 30)));
	assert_null(cm_register_resolve(r, "NO-SUCH", day(2025, 6, 30)));
}

static void test_shipped_commune_of_unit(void **state)
{
	const struct cm_register *r = *state;
	const struct cm_agency *a;

	a = cm_register_commune_of_unit(r, "20242", day(2026, 1, 1));
	assert_non_null(a);
	assert_string_equal(a->code, "UBND-20242");
	assert_int_equal(a->level, CM_LEVEL_COMMUNE);
	/* An old address finds today's UBND. */
	a = cm_register_commune_of_unit(r, "OLD-HAICHAU-PHUONG-THANHBINH", day(2026, 1, 1));
	assert_string_equal(a->code, "UBND-20242");
	a = cm_register_commune_of_unit(r, "OLD-HOAVANG-XA-HOALIEN", day(2026, 1, 1));
	assert_string_equal(a->code, "UBND-20197");
	/* Before 1 July 2025 the former commune had its own UBND, which this
	 * data set does not list. */
	assert_null(cm_register_commune_of_unit(r, "OLD-HAICHAU-PHUONG-THANHBINH",
						day(2025, 6, 30)));
	assert_null(cm_register_commune_of_unit(r, "20242", day(2025, 6, 30)));
	assert_null(cm_register_commune_of_unit(r, "nope", day(2026, 1, 1)));
}

static void test_shipped_fields(void **state)
{
	const struct cm_register *r = *state;
	const struct cm_agency *a;

	a = cm_register_department_for_field(r, "dat-dai", day(2026, 1, 1));
	assert_non_null(a);
	assert_string_equal(a->code, "DN-SNNMT");
	assert_int_equal(a->level, CM_LEVEL_DEPARTMENT);
	a = cm_register_department_for_field(r, "lao-dong", day(2026, 1, 1));
	assert_string_equal(a->code, "DN-SNV");
	a = cm_register_department_for_field(r, "giao-thong-van-tai", day(2026, 1, 1));
	assert_string_equal(a->code, "DN-SXD");
	/* The merged Sở NN&MT started on 1 March 2025. */
	assert_null(cm_register_department_for_field(r, "dat-dai", day(2025, 2, 28)));
	/* Inspectorate and police fields are not departments'. */
	assert_null(cm_register_department_for_field(r, "thanh-tra", day(2026, 1, 1)));
	assert_null(cm_register_department_for_field(r, "xuat-nhap-canh", day(2026, 1, 1)));
	assert_null(cm_register_department_for_field(r, "no-such", day(2026, 1, 1)));
	assert_true(cm_register_field_known(r, "dat-dai"));
	assert_true(cm_register_field_known(r, "y-te"));
	assert_false(cm_register_field_known(r, "Dat-Dai"));
}

static void test_shipped_tree(void **state)
{
	const struct cm_register *r = *state;
	const struct cm_agency *ubnd = cm_register_agency(r, "DN-UBND");
	const struct cm_agency *vp = cm_register_agency(r, "DN-VP");
	const struct cm_agency *btcd = cm_register_agency(r, "DN-BTCD");
	const struct cm_agency *ca = cm_register_agency(r, "DN-CA");
	const struct cm_agency *commune = cm_register_agency(r, "UBND-20242");
	const struct cm_agency *qn = cm_register_agency(r, "QN-UBND");
	struct cm_agency copy;

	assert_ptr_equal(cm_register_parent(r, btcd), vp);
	assert_ptr_equal(cm_register_parent(r, vp), ubnd);
	assert_null(cm_register_parent(r, ubnd));
	assert_null(cm_register_parent(r, NULL));
	assert_true(cm_register_is_under(r, commune, ubnd));
	assert_true(cm_register_is_under(r, btcd, vp));
	assert_true(cm_register_is_under(r, btcd, ubnd));
	assert_true(cm_register_is_under(r, ubnd, ubnd));
	assert_false(cm_register_is_under(r, ubnd, vp));
	assert_false(cm_register_is_under(r, ca, ubnd));
	assert_false(cm_register_is_under(r, commune, qn));
	assert_true(cm_register_is_under(r, cm_register_agency(r, "UBND-OLD-TAMKY"), qn));
	/* A copy of an agency is found again by its code. */
	copy = *btcd;
	assert_true(cm_register_is_under(r, &copy, ubnd));
	assert_ptr_equal(cm_register_parent(r, &copy), vp);
}

static void test_shipped_version(void **state)
{
	const struct cm_register *r = *state;
	struct cm_register *again = NULL;
	const char *v = cm_register_version(r);

	assert_non_null(v);
	assert_int_equal(strncmp(v, "sha256:", 7), 0);
	assert_int_equal(strlen(v), 7 + 64);
	assert_int_equal(cm_register_load(SHIPPED, &again, NULL, 0), 0);
	assert_string_equal(cm_register_version(again), v);
	cm_register_free(&again);
	cm_register_free(&again);	/* harmless on NULL */
}

/* ---- hand-written files in a temp dir ---- */

struct fixture {
	char dir[64];
};

static const char fields_ok[] = "code,name_vi,description\n"
				"dat-dai,Đất đai,đất đai\n"
				"y-te,Y tế,\n";

static const char units_ok[] =
	"code,name,type,province_code,effective_from,effective_to,successor_code,formed_from,"
	"source_note\n"
	"U1,Phường Một,phuong,48,2025-07-01,,,O1;O2,\n"
	"O1,Xã Cũ,xa,48,,2025-06-30,U1,,\n"
	"O2,Xã Cũ Hai,xa,48,2000-01-01,2025-06-30,U1,,\n";

#define AGENCY_HEADER                                                                            \
	"code,name,level,parent_code,fields,units,effective_from,effective_to,successor_code,"   \
	"source_note\n"

static const char agencies_ok[] = AGENCY_HEADER
	"P,Ủy ban nhân dân,province,,,,1997-01-01,,,\n"
	"S,Sở Nông nghiệp,department,P,dat-dai,,,,,\n"
	"C,UBND phường Một,commune,P,,U1,2025-07-01,,,\n";

static void write_bytes(const struct fixture *f, const char *name, const char *data, size_t len)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void write_file(const struct fixture *f, const char *name, const char *text)
{
	write_bytes(f, name, text, strlen(text));
}

static void write_all(const struct fixture *f, const char *fields, const char *units,
		      const char *agencies)
{
	write_file(f, "fields.csv", fields);
	write_file(f, "units.csv", units);
	write_file(f, "agencies.csv", agencies);
}

static int setup_dir(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_register.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	write_all(f, fields_ok, units_ok, agencies_ok);
	*state = f;
	return 0;
}

static int teardown_dir(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = {"fields.csv", "units.csv", "agencies.csv"};
	char path[128];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
		unlink(path);
	}
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

/* Load must fail with CM_ECONFIG and a message containing want. */
static void expect_fail(const struct fixture *f, const char *want)
{
	struct cm_register *r = NULL;
	char err[256] = "";
	int rc = cm_register_load(f->dir, &r, err, sizeof(err));

	if (rc != CM_ECONFIG || !strstr(err, want))
		fprintf(stderr, "rc %d, message \"%s\", wanted \"%s\"\n", rc, err, want);
	assert_int_equal(rc, CM_ECONFIG);
	assert_null(r);
	assert_non_null(strstr(err, want));
}

static void expect_agencies_fail(const struct fixture *f, const char *agencies, const char *want)
{
	write_all(f, fields_ok, units_ok, agencies);
	expect_fail(f, want);
}

static void test_minimal_ok(void **state)
{
	const struct fixture *f = *state;
	struct cm_register *r = NULL;
	char err[256];
	const struct cm_agency *a;
	const struct cm_unit *u;

	assert_int_equal(cm_register_load(f->dir, &r, err, sizeof(err)), 0);
	assert_int_equal(cm_register_agency_count(r), 3);
	a = cm_register_agency(r, "S");
	assert_string_equal(a->name, "Sở Nông nghiệp");
	assert_int_equal(a->effective_from, INT32_MIN);
	assert_int_equal(a->effective_to, INT32_MAX);
	assert_null(a->successor_code);
	assert_int_equal(a->nunits, 0);
	assert_null(a->units);
	assert_int_equal(a->nfields, 1);
	assert_string_equal(a->fields[0], "dat-dai");
	u = cm_register_unit(r, "U1");
	assert_int_equal(u->nformed_from, 2);
	assert_string_equal(u->formed_from[1], "O2");
	assert_ptr_equal(cm_register_commune_of_unit(r, "O2", day(2030, 1, 1)),
			 cm_register_agency(r, "C"));
	assert_ptr_equal(cm_register_department_for_field(r, "dat-dai", day(1990, 1, 1)), a);
	assert_null(cm_register_department_for_field(r, "y-te", day(2026, 1, 1)));
	cm_register_free(&r);
}

static void test_csv_quoting(void **state)
{
	const struct fixture *f = *state;
	struct cm_register *r = NULL;
	char err[256];
	const struct cm_agency *a;

	/* BOM, CRLF, quoted comma and quote, a line break inside a note, a
	 * blank line; the error after the multi-line cell is on line 7. */
	write_all(f, fields_ok, units_ok,
		  "\xef\xbb\xbf" AGENCY_HEADER
		  "P,\"Ủy ban \"\"nhân dân\"\", tỉnh\",province,,,,1997-01-01,,,\"a\r\nb\"\r\n"
		  "\r\n"
		  "S,Sở,department,P,dat-dai,,,,,\n"
		  "\"C\",UBND,commune,P,,U1,2025-07-01,,,\n");
	assert_int_equal(cm_register_load(f->dir, &r, err, sizeof(err)), 0);
	a = cm_register_agency(r, "P");
	assert_string_equal(a->name, "Ủy ban \"nhân dân\", tỉnh");
	assert_non_null(cm_register_agency(r, "C"));
	cm_register_free(&r);

	write_all(f, fields_ok, units_ok,
		  AGENCY_HEADER "P,UBND,province,,,,,,,\"line\nbreak\"\n"
				"\n"
				"S,Sở,department,P,dat-dai,,,,,\n"
				"C,UBND,bogus,P,,U1,2025-07-01,,,\n");
	expect_fail(f, "agencies.csv:6: column level: unknown level \"bogus\"");
}

static void test_csv_malformed(void **state)
{
	const struct fixture *f = *state;

	expect_agencies_fail(f, AGENCY_HEADER "P,\"UBND,province,,,,,,,\n",
			     "agencies.csv:2: column name: quoted cell never closed");
	expect_agencies_fail(f, AGENCY_HEADER "P,UB\"ND,province,,,,,,,\n",
			     "agencies.csv:2: column name: quote inside an unquoted cell");
	expect_agencies_fail(f, AGENCY_HEADER "P,\"UBND\"x,province,,,,,,,\n",
			     "agencies.csv:2: column name: text after the closing quote");
	expect_agencies_fail(f, AGENCY_HEADER "P,U\xc3\x28,province,,,,,,,\n",
			     "agencies.csv:2: column name: invalid UTF-8");
	/* An overlong encoding of '/'. */
	expect_agencies_fail(f, AGENCY_HEADER "P,U\xc0\xaf,province,,,,,,,\n",
			     "agencies.csv:2: column name: invalid UTF-8");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,,,,,,\rx\n",
			     "agencies.csv:2: column source_note: carriage return");
	expect_agencies_fail(f, "code,name,kind,parent_code\n",
			     "agencies.csv:1: column 3: header is \"kind\", expected \"level\"");
	expect_agencies_fail(f, "code,name,level\n", "agencies.csv:1: column parent_code: missing");
	expect_agencies_fail(f, "", "agencies.csv:1: no header row");
	/* Wrong column counts, both ways. */
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,,,,,\n",
			     "agencies.csv:2: column source_note: missing");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,,,,,,,\n",
			     "agencies.csv:2: column 11: unexpected");
	write_bytes(f, "agencies.csv", AGENCY_HEADER "P,U\0B,province,,,,,,,\n",
		    sizeof(AGENCY_HEADER "P,U\0B,province,,,,,,,\n") - 1);
	expect_fail(f, "agencies.csv:2: column name: NUL byte");
}

static void test_semantic_errors(void **state)
{
	const struct fixture *f = *state;

	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,,,,,,\n"
					      "S,Sở,department,X,dat-dai,,,,,\n",
			     "agencies.csv:3: column parent_code: unknown agency \"X\"");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,,,,,,\n"
					      "P,Sở,department,,dat-dai,,,,,\n",
			     "agencies.csv:3: column code: duplicate code \"P\" (first on line 2)");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,,,2025-02-30,,,\n",
			     "agencies.csv:2: column effective_from: \"2025-02-30\" is not a date");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,,,2025/01/01,,,\n",
			     "agencies.csv:2: column effective_from: \"2025/01/01\" is not a date");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,,,2025-07-01,2025-06-30,,\n",
			     "agencies.csv:2: column effective_to: 2025-06-30 is before "
			     "effective_from 2025-07-01");
	expect_agencies_fail(f, AGENCY_HEADER "A,A,province,,,,,2025-06-30,B,\n"
					      "B,B,province,,,,,2025-12-31,A,\n",
			     "column successor_code: successor cycle");
	expect_agencies_fail(f, AGENCY_HEADER "A,A,province,,,,,2025-06-30,A,\n",
			     "agencies.csv:2: column successor_code: successor cycle A -> A");
	expect_agencies_fail(f, AGENCY_HEADER "A,A,province,B,,,,,,\n"
					      "B,B,province,A,,,,,,\n",
			     "column parent_code: parent cycle");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,ministry,,,,,,,\n",
			     "agencies.csv:2: column level: unknown level \"ministry\"");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,,,,,,\n"
					      "S,Sở,department,P,dat-dai;giao-duc,,,,,\n",
			     "agencies.csv:3: column fields: unknown field \"giao-duc\"");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,dat-dai;;y-te,,,,,\n",
			     "agencies.csv:2: column fields: empty code");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,dat-dai;dat-dai,,,,,\n",
			     "agencies.csv:2: column fields: \"dat-dai\" listed twice");
	expect_agencies_fail(f, AGENCY_HEADER "C,UBND,commune,,,U9,,,,\n",
			     "agencies.csv:2: column units: unknown unit \"U9\"");
	expect_agencies_fail(f, AGENCY_HEADER "C,UBND,commune,,,,,,,\n",
			     "agencies.csv:2: column units: a commune-level agency must name");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,,,,2025-06-30,Q,\n",
			     "agencies.csv:2: column successor_code: unknown agency \"Q\"");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,,,,,Q,\n"
					      "Q,UBND,province,,,,,,,\n",
			     "agencies.csv:2: column effective_to: empty, but a successor");
	expect_agencies_fail(f, AGENCY_HEADER "P,UBND,province,,,,,2025-06-30,Q,\n"
					      "Q,UBND,province,,,,2025-08-01,,,\n",
			     "agencies.csv:2: column successor_code: successor \"Q\" is not active "
			     "on 2025-07-01");
	expect_agencies_fail(f, AGENCY_HEADER "P,,province,,,,,,,\n",
			     "agencies.csv:2: column name: empty");
	expect_agencies_fail(f, AGENCY_HEADER "P Q,UBND,province,,,,,,,\n",
			     "agencies.csv:2: column code: \"P Q\" is not a code");
	expect_agencies_fail(f, AGENCY_HEADER "Đ,UBND,province,,,,,,,\n",
			     "agencies.csv:2: column code: \"Đ\" is not a code");
}

static void test_unit_and_field_errors(void **state)
{
	const struct fixture *f = *state;
	const char *uh = "code,name,type,province_code,effective_from,effective_to,successor_code,"
			 "formed_from,source_note\n";
	char units[512];

	write_all(f, "code,name_vi,description\ndat-dai,Đất đai,\ndat-dai,Đất,\n", units_ok,
		  agencies_ok);
	expect_fail(f, "fields.csv:3: column code: duplicate code \"dat-dai\" (first on line 2)");
	write_all(f, "code,name_vi\n", units_ok, agencies_ok);
	expect_fail(f, "fields.csv:1: column description: missing");

	snprintf(units, sizeof(units), "%sU1,Phường,phuong,48,2025-07-01,,,O9,\n", uh);
	write_all(f, fields_ok, units, agencies_ok);
	expect_fail(f, "units.csv:2: column formed_from: unknown unit \"O9\"");
	snprintf(units, sizeof(units), "%sU1,Phường,phuong,48,,2025-06-30,U2,,\n", uh);
	write_all(f, fields_ok, units, agencies_ok);
	expect_fail(f, "units.csv:2: column successor_code: unknown unit \"U2\"");
	snprintf(units, sizeof(units),
		 "%sU1,Phường,phuong,48,2025-07-01,,,O1,\nO1,Xã,xa,48,,2025-07-01,U1,,\n", uh);
	write_all(f, fields_ok, units, agencies_ok);
	expect_fail(f, "units.csv:2: column formed_from: \"O1\" does not end before");
	snprintf(units, sizeof(units),
		 "%sU1,P,phuong,48,,2025-06-30,U2,,\nU2,P,phuong,48,,2025-06-30,U1,,\n", uh);
	write_all(f, fields_ok, units, agencies_ok);
	expect_fail(f, "column successor_code: successor cycle");
	snprintf(units, sizeof(units), "%sU1,P,Phường,48,,,,,\n", uh);
	write_all(f, fields_ok, units, agencies_ok);
	expect_fail(f, "units.csv:2: column type: \"Phường\" is not a type");
	snprintf(units, sizeof(units), "%sU1,P,phuong,48,2025-07-01,2025-13-01,,,\n", uh);
	write_all(f, fields_ok, units, agencies_ok);
	expect_fail(f, "units.csv:2: column effective_to: \"2025-13-01\" is not a date");
}

static void test_missing_files(void **state)
{
	const struct fixture *f = *state;
	struct cm_register *r = NULL;
	char err[256], path[128];

	snprintf(path, sizeof(path), "%s/units.csv", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(cm_register_load(f->dir, &r, err, sizeof(err)), -ENOENT);
	assert_null(r);
	assert_non_null(strstr(err, "units.csv"));
	assert_int_equal(cm_register_load("/nonexistent/donthu", &r, NULL, 0), -ENOENT);
	assert_null(r);
	write_file(f, "units.csv", units_ok);
}

int main(void)
{
	const struct CMUnitTest shipped[] = {
		cmocka_unit_test(test_shipped_counts),
		cmocka_unit_test(test_shipped_units),
		cmocka_unit_test(test_shipped_resolve),
		cmocka_unit_test(test_shipped_commune_of_unit),
		cmocka_unit_test(test_shipped_fields),
		cmocka_unit_test(test_shipped_tree),
		cmocka_unit_test(test_shipped_version),
	};
	const struct CMUnitTest files[] = {
		cmocka_unit_test_setup_teardown(test_minimal_ok, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_csv_quoting, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_csv_malformed, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_semantic_errors, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_unit_and_field_errors, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_missing_files, setup_dir, teardown_dir),
	};
	int failed = cmocka_run_group_tests_name("register (shipped data)", shipped, load_shipped,
						 free_shipped);

	failed += cmocka_run_group_tests_name("register (hand-written files)", files, NULL, NULL);
	return failed;
}

/* The register loader reads files people edit by hand: whatever agencies.csv
 * holds, loading must either succeed with a register whose lookups are safe,
 * or fail with CM_ECONFIG and a message, and never leak. units.csv and
 * fields.csv stay valid so that the input reaches the cross-file checks. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/register.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fields_csv[] = "code,name_vi,description\n"
				 "dat-dai,Đất đai,đất đai\n"
				 "y-te,Y tế,\n"
				 "lao-dong,\"Lao động, tiền lương\",\n";

static const char units_csv[] =
	"code,name,type,province_code,effective_from,effective_to,successor_code,formed_from,"
	"source_note\n"
	"20242,Phường Hải Châu,phuong,48,2025-07-01,,,OLD-A;OLD-B,\n"
	"20257,Phường Hòa Cường,phuong,48,2025-07-01,,,OLD-C,\n"
	"OLD-A,Phường Thanh Bình,phuong,48,,2025-06-30,20242,,\n"
	"OLD-B,Phường Thuận Phước,phuong,48,,2025-06-30,20242,,\n"
	"OLD-C,Xã Hòa Liên,xa,48,,2025-06-30,20257,,\n"
	"OLD-D,Quận Hải Châu,quan,48,,2025-06-30,20242,,\n";

static char dir[64];
static char apath[128];

static void cleanup(void)
{
	static const char *const names[] = {"fields.csv", "units.csv", "agencies.csv"};
	char path[128];

	for (size_t i = 0; i < CM_ARRAY_LEN(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void put(const char *name, const void *p, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	cm_require(f != NULL);
	cm_require(fwrite(p, 1, n, f) == n);
	cm_require(fclose(f) == 0);
}

static void init(void)
{
	strcpy(dir, "/tmp/fuzz_register.XXXXXX");
	cm_require(mkdtemp(dir) != NULL);
	snprintf(apath, sizeof(apath), "%s/agencies.csv", dir);
	put("fields.csv", fields_csv, sizeof(fields_csv) - 1);
	put("units.csv", units_csv, sizeof(units_csv) - 1);
	atexit(cleanup);
	/* One info line per successful load would drown the fuzzer's output. */
	cm_log_configure("warn");
}

/* Every lookup on every agency, on days around the 2025 reform. */
static void exercise(const struct cm_register *r)
{
	static const char *const units[] = {"20242", "20257", "OLD-A", "OLD-C", "OLD-D", "none"};
	static const char *const fields[] = {"dat-dai", "y-te", "lao-dong", "none"};
	const cm_day_t days[] = {cm_day_from_ymd(1990, 1, 1), cm_day_from_ymd(2025, 6, 30),
				 cm_day_from_ymd(2025, 7, 1), cm_day_from_ymd(2026, 1, 1)};
	const struct cm_agency *a, *root = cm_register_agency_at(r, 0);
	size_t n = cm_register_agency_count(r);

	for (size_t i = 0; (a = cm_register_agency_at(r, i)) != NULL; i++) {
		cm_require(i < n);
		cm_require(cm_register_agency(r, a->code) == a);
		(void)cm_register_parent(r, a);
		(void)cm_register_is_under(r, a, root);
		for (size_t d = 0; d < CM_ARRAY_LEN(days); d++) {
			const struct cm_agency *to = cm_register_resolve(r, a->code, days[d]);

			cm_require(!to || cm_agency_active(to, days[d]));
		}
		for (size_t k = 0; k < a->nfields; k++)
			cm_require(cm_register_field_known(r, a->fields[k]));
		for (size_t k = 0; k < a->nunits; k++)
			cm_require(cm_register_unit(r, a->units[k]) != NULL);
	}
	for (size_t d = 0; d < CM_ARRAY_LEN(days); d++) {
		for (size_t u = 0; u < CM_ARRAY_LEN(units); u++) {
			a = cm_register_commune_of_unit(r, units[u], days[d]);
			cm_require(!a || (a->level == CM_LEVEL_COMMUNE && cm_agency_active(a, days[d])));
		}
		for (size_t f = 0; f < CM_ARRAY_LEN(fields); f++) {
			a = cm_register_department_for_field(r, fields[f], days[d]);
			cm_require(!a || a->level == CM_LEVEL_DEPARTMENT);
		}
	}
	cm_require(strncmp(cm_register_version(r), "sha256:", 7) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_register *r = NULL;
	char err[256];
	int rc;

	if (!dir[0])
		init();
	put("agencies.csv", data, size);
	rc = cm_register_load(dir, &r, err, sizeof(err));
	if (rc == 0) {
		exercise(r);
	} else {
		/* Content problems only: the directory itself is fine. */
		cm_require(rc == CM_ECONFIG);
		cm_require(r == NULL);
		cm_require(err[0] != '\0');
	}
	cm_register_free(&r);
	return 0;
}

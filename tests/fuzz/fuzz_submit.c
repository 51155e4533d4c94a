/* Intake's validator sees every publisher's bytes after the envelope codec:
 * it must refuse anything bad with a stable code and a field, never crash,
 * and leave what it accepts normalised so that a second pass changes nothing. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/register.h"
#include "common/text.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char agencies_csv[] =
	"code,name,level,parent_code,fields,units,effective_from,effective_to,successor_code,"
	"source_note\n"
	"DN-UBND,Ủy ban nhân dân thành phố Đà Nẵng,province,,tiep-cong-dan,,1997-01-01,,,fuzz\n"
	"DN-TTR,Thanh tra thành phố Đà Nẵng,inspectorate,DN-UBND,tiep-cong-dan;dat-dai,,,,,fuzz\n"
	"DN-STNMT,Sở Tài nguyên và Môi trường,department,DN-UBND,dat-dai,,,2025-02-28,DN-SNNMT,"
	"fuzz\n"
	"DN-SNNMT,Sở Nông nghiệp và Môi trường,department,DN-UBND,dat-dai,,2025-03-01,,,fuzz\n"
	"HC-UBND,Ủy ban nhân dân phường Hòa Cường,commune,DN-UBND,tiep-cong-dan,20257,"
	"2025-07-01,,,fuzz\n";
static const char units_csv[] =
	"code,name,type,province_code,effective_from,effective_to,successor_code,formed_from,"
	"source_note\n"
	"OLD-HCB,Phường Hòa Cường Bắc,phuong,48,1997-01-01,2025-06-30,20257,,fuzz\n"
	"20257,Phường Hòa Cường,phuong,48,2025-07-01,,,OLD-HCB,fuzz\n";
static const char fields_csv[] = "code,name_vi,description\n"
				 "dat-dai,Đất đai,quản lý đất đai\n"
				 "tiep-cong-dan,Tiếp công dân,tiếp công dân\n";

static struct cm_register *reg;

static void put(const char *dir, const char *name, const char *body, bool write)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!write) {
		cm_require(unlink(path) == 0);
		return;
	}
	f = fopen(path, "w");
	cm_require(f != NULL);
	cm_require(fwrite(body, 1, strlen(body), f) == strlen(body));
	cm_require(fclose(f) == 0);
}

/* Loaded once and kept for the process: the register is read-only. */
static void load_register(void)
{
	char dir[] = "/tmp/fuzz_submit.XXXXXX";
	char err[256] = "";

	cm_require(mkdtemp(dir) != NULL);
	put(dir, "agencies.csv", agencies_csv, true);
	put(dir, "units.csv", units_csv, true);
	put(dir, "fields.csv", fields_csv, true);
	if (cm_register_load(dir, &reg, err, sizeof(err)) != 0) {
		fprintf(stderr, "register: %s\n", err);
		abort();
	}
	put(dir, "agencies.csv", NULL, false);
	put(dir, "units.csv", NULL, false);
	put(dir, "fields.csv", NULL, false);
	cm_require(rmdir(dir) == 0);
}

static void check_error(int rc, const struct intake_verr *err)
{
	cm_require(rc == CM_EINVALID);
	cm_require(err->code != NULL && err->field[0] != '\0' && err->message[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Fixed, so a crash reproduces whatever day it is replayed. */
	const int64_t now = cm_day_start_ms(cm_day_from_ymd(2026, 8, 1)) + 10 * 3600 * 1000LL;
	struct intake_vctx ctx;
	struct intake_verr err;
	cm_env *e = NULL;
	int rc;

	if (!reg)
		load_register();
	rc = intake_validate_wire(data, size, &err);
	if (rc)
		check_error(rc, &err);
	if (cm_env_unpack(data, size, &e) != 0)
		return 0;
	if (e->body_case != DONTHU__V1__ENVELOPE__BODY_SUBMIT) {
		cm_env_free(&e);
		return 0;
	}
	intake_vctx_init(&ctx, reg, now);
	rc = intake_validate_submit(e->submit, &ctx, &err);
	if (rc) {
		check_error(rc, &err);
	} else {
		/* Accepted text is NFC already: a second pass must agree and
		 * change nothing. */
		size_t n = donthu__v1__submit_request__get_packed_size(e->submit);
		uint8_t *a = cm_xmalloc(n + 1), *b = cm_xmalloc(n + 1);

		donthu__v1__submit_request__pack(e->submit, a);
		cm_require(intake_validate_submit(e->submit, &ctx, &err) == 0);
		cm_require(donthu__v1__submit_request__get_packed_size(e->submit) == n);
		donthu__v1__submit_request__pack(e->submit, b);
		cm_require(memcmp(a, b, n) == 0);
		free(a);
		free(b);
		if (e->submit->item_case == DONTHU__V1__SUBMIT_REQUEST__ITEM_ACTION) {
			for (int s = 0; s <= DONTHU__V1__CASE_STATUS__CASE_STATUS_FILED; s++) {
				Donthu__V1__CaseStatus next = DONTHU__V1__CASE_STATUS__CASE_STATUS_UNSPECIFIED;

				rc = intake_transition((Donthu__V1__CaseStatus)s, e->submit->action, &next,
						       &err);
				cm_require(rc == 0 || rc == CM_ESTATE);
				cm_require(rc != 0 || next != DONTHU__V1__CASE_STATUS__CASE_STATUS_UNSPECIFIED);
			}
		}
	}
	cm_env_free(&e);
	return 0;
}

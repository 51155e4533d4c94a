/* A holiday calendar year file from an operator: any bytes must load or be
 * refused with a message, never crash or leak. */
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "fuzz_datafiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cal *cal = NULL;
	char err[512];

	fuzz_write("2026.json", data, size);
	if (cal_load(fuzz_dir, NULL, &cal, err, sizeof(err)) == 0) {
		cm_day_t due;
		struct cal_explain ex;
		cal_add_working_days(cal, cm_day_from_ymd(2026, 2, 13), 10, 0, &due, &ex);
		cal_free(&cal);
	}
	return 0;
}

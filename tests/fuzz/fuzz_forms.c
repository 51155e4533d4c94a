/* A report form-set file: any bytes parse or are refused cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "forms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_formset set;
	char err[512];

	memset(&set, 0, sizeof(set));
	if (report_formset_parse((const char *)data, size, "fuzz", &set, err, sizeof(err)) == 0)
		report_formset_clear(&set);
	return 0;
}

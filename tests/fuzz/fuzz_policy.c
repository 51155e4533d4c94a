/* The deadline policy file: any bytes load or are refused cleanly. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_datafiles.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_policy *p = NULL;
	char err[512];

	if (dl_policy_load(fuzz_write("policy.json", data, size), &p, err, sizeof(err)) == 0)
		dl_policy_free(&p);
	return 0;
}

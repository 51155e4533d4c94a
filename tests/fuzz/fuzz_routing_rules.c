/* The routing rules file: any bytes parse or are refused cleanly. */
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct routing_rules *r = NULL;
	char err[512];

	if (routing_rules_parse((const char *)data, size, "fuzz", &r, err, sizeof(err)) == 0)
		routing_rules_free(&r);
	return 0;
}

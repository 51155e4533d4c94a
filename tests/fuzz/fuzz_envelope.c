/* The envelope decoder sees every byte that reaches any socket: it must
 * reject anything malformed cleanly and round-trip anything it accepts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/envelope.h"
#include "common/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm_env *e = NULL, *again = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	if (cm_env_unpack(data, size, &e) != 0)
		return 0;
	(void)cm_env_body_name(e);
	if (cm_env_pack_alloc(e, &buf, &len) == 0) {
		/* What we accepted we must be able to read back. */
		cm_require(cm_env_unpack(buf, len, &again) == 0);
		cm_require(again->body_case == e->body_case);
		cm_env_free(&again);
		free(buf);
	}
	cm_env_free(&e);
	return 0;
}

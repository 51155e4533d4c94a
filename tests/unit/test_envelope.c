#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/envelope.h"
#include "common/err.h"
#include "common/mem.h"

static void test_round_trip(void **state)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT, *d = NULL;
	Donthu__V1__FetchRequest f = DONTHU__V1__FETCH_REQUEST__INIT;
	uint8_t *buf;
	size_t len;

	(void)state;
	e.schema_version = 1;
	e.producer = "intake";
	e.sequence = 42;
	f.from_seq = 7;
	e.body_case = DONTHU__V1__ENVELOPE__BODY_FETCH;
	e.fetch = &f;
	assert_int_equal(cm_env_pack_alloc(&e, &buf, &len), 0);
	assert_int_equal(cm_env_size(&e), len);
	assert_int_equal(cm_env_unpack(buf, len, &d), 0);
	assert_int_equal(d->sequence, 42);
	assert_int_equal(d->fetch->from_seq, 7);
	assert_string_equal(cm_env_body_name(d), "fetch");
	cm_env_free(&d);
	assert_null(d);
	cm_env_free(&d); /* a pointer to NULL is fine */
	free(buf);
}

static void test_rejects(void **state)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT, *d = (cm_env *)1;
	uint8_t *buf, junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
	size_t len;
	char *big = cm_xcalloc(CM_ENV_MAX_BYTES + 1, 1);

	(void)state;
	assert_int_equal(cm_env_unpack(junk, sizeof(junk), &d), CM_EDECODE);
	assert_null(d);
	assert_int_equal(cm_env_unpack(big, CM_ENV_MAX_BYTES + 1, &d), CM_ETOOBIG);
	free(big);
	e.schema_version = 2;
	cm_env_pack_alloc(&e, &buf, &len);
	assert_int_equal(cm_env_unpack(buf, len, &d), CM_EPROTO_VERSION);
	free(buf);
	e.schema_version = 0; /* a client that forgot to set it */
	cm_env_pack_alloc(&e, &buf, &len);
	assert_int_equal(cm_env_unpack(buf, len, &d), CM_EPROTO_VERSION);
	free(buf);
}

/* A newer producer's fields survive a decode and re-encode (issue 8). */
static void test_unknown_fields_survive(void **state)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT, *d = NULL, *d2 = NULL;
	uint8_t *buf, *buf2;
	size_t len, len2;
	/* field 999, wire type 2, "future" */
	const uint8_t extra[] = {0xba, 0x3e, 6, 'f', 'u', 't', 'u', 'r', 'e'};

	(void)state;
	e.schema_version = 1;
	e.producer = "newer";
	cm_env_pack_alloc(&e, &buf, &len);
	buf = cm_xrealloc(buf, len + sizeof(extra));
	memcpy(buf + len, extra, sizeof(extra));
	len += sizeof(extra);
	assert_int_equal(cm_env_unpack(buf, len, &d), 0);
	assert_int_equal(d->base.n_unknown_fields, 1);
	assert_int_equal(cm_env_pack_alloc(d, &buf2, &len2), 0);
	assert_non_null(memmem(buf2, len2, "future", 6));
	assert_int_equal(cm_env_unpack(buf2, len2, &d2), 0);
	cm_env_free(&d);
	cm_env_free(&d2);
	free(buf);
	free(buf2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_unknown_fields_survive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

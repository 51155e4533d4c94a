#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static void test_arena(void **state)
{
	struct cm_arena a;
	char *p[64];

	(void)state;
	cm_arena_init(&a, 256);
	cm_arena_reset(&a); /* an empty arena resets to nothing */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 64; i++) {
			/* Odd sizes, and one bigger than a chunk. */
			size_t n = i == 17 ? 1000 : (size_t)i * 3 + 1;

			p[i] = cm_arena_alloc(&a, n);
			assert_int_equal((uintptr_t)p[i] % _Alignof(max_align_t), 0);
			memset(p[i], i, n);
		}
		/* Nothing overlaps: every block still holds what was written. */
		for (int i = 0; i < 64; i++)
			assert_int_equal((unsigned char)p[i][0], i);
		cm_arena_reset(&a);
	}
	cm_arena_free(&a);
	cm_arena_free(&a); /* twice is harmless */
}

static void test_unpack_arena(void **state)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT, *d = NULL;
	Donthu__V1__FetchRequest f = DONTHU__V1__FETCH_REQUEST__INIT;
	uint8_t *buf, junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
	struct cm_arena a;
	size_t len;

	(void)state;
	cm_arena_init(&a, 0);
	e.schema_version = 1;
	e.producer = "intake";
	f.from_seq = 7;
	f.consumer = "routing";
	e.body_case = DONTHU__V1__ENVELOPE__BODY_FETCH;
	e.fetch = &f;
	assert_int_equal(cm_env_pack_alloc(&e, &buf, &len), 0);
	assert_int_equal(cm_env_unpack_arena(buf, len, &a, &d), 0);
	assert_string_equal(d->producer, "intake");
	assert_string_equal(d->fetch->consumer, "routing");
	assert_int_equal(d->fetch->from_seq, 7);
	/* Errors as cm_env_unpack; nothing to free but the arena. */
	assert_int_equal(cm_env_unpack_arena(junk, sizeof(junk), &a, &d), CM_EDECODE);
	assert_null(d);
	free(buf);
	e.schema_version = 2;
	cm_env_pack_alloc(&e, &buf, &len);
	assert_int_equal(cm_env_unpack_arena(buf, len, &a, &d), CM_EPROTO_VERSION);
	assert_null(d);
	free(buf);
	cm_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_unknown_fields_survive),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_unpack_arena),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

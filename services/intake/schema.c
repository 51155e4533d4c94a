#include "schema.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

const char *const intake_dbi_names[INTAKE_DB_COUNT] = {
	"log", "idem", "cases", "counters", "vault", "records", "audit", "meta",
};

#define VERSION_BYTE 1

static size_t put_str(uint8_t *b, const char *s)
{
	size_t n = strnlen(s, INTAKE_ID_MAX);
	b[0] = (uint8_t)n;
	memcpy(b + 1, s, n);
	return n + 1;
}

static int get_str(const uint8_t *b, size_t avail, char *out)
{
	if (avail < 1 || b[0] > INTAKE_ID_MAX || (size_t)b[0] + 1 > avail)
		return CM_ECORRUPT;
	memcpy(out, b + 1, b[0]);
	out[b[0]] = '\0';
	return 0;
}

size_t intake_idem_encode(const struct intake_idem *v, uint8_t *b)
{
	b[0] = VERSION_BYTE;
	b[1] = v->item;
	b[2] = v->case_status;
	cm_be64_put(b + 3, v->feed_seq);
	return 11 + put_str(b + 11, v->id);
}

int intake_idem_decode(const void *p, size_t n, struct intake_idem *v)
{
	const uint8_t *b = p;

	if (n < 12 || b[0] != VERSION_BYTE)
		return CM_ECORRUPT;
	v->item = b[1];
	v->case_status = b[2];
	v->feed_seq = cm_be64_get(b + 3);
	return get_str(b + 11, n - 11, v->id);
}

size_t intake_case_encode(const struct intake_case *v, uint8_t *b)
{
	b[0] = VERSION_BYTE;
	b[1] = v->status;
	b[2] = v->kind;
	b[3] = v->round;
	cm_be32_put(b + 4, v->actions);
	cm_be64_put(b + 8, (uint64_t)v->received_at_ms);
	return 16 + put_str(b + 16, v->agency);
}

int intake_case_decode(const void *p, size_t n, struct intake_case *v)
{
	const uint8_t *b = p;

	if (n < 17 || b[0] != VERSION_BYTE)
		return CM_ECORRUPT;
	v->status = b[1];
	v->kind = b[2];
	v->round = b[3];
	v->actions = cm_be32_get(b + 4);
	v->received_at_ms = (int64_t)cm_be64_get(b + 8);
	return get_str(b + 16, n - 16, v->agency);
}

size_t intake_record_encode(const struct intake_record *v, uint8_t *b)
{
	b[0] = VERSION_BYTE;
	b[1] = v->type;
	return 2 + put_str(b + 2, v->agency);
}

int intake_record_decode(const void *p, size_t n, struct intake_record *v)
{
	const uint8_t *b = p;

	if (n < 3 || b[0] != VERSION_BYTE)
		return CM_ECORRUPT;
	v->type = b[1];
	return get_str(b + 2, n - 2, v->agency);
}

size_t intake_idem_key(const char *system, const char *id, uint8_t *buf, size_t cap)
{
	size_t a = strlen(system), b = strlen(id);

	/* LMDB keys are at most 511 bytes; the validator caps both parts well
	 * below that. */
	if (a + 1 + b > cap || a + 1 + b > 511)
		return 0;
	memcpy(buf, system, a);
	buf[a] = '\0';
	memcpy(buf + a + 1, id, b);
	return a + 1 + b;
}

int intake_next_serial(struct cm_txn *t, const char *agency, int year, const char *series,
		       uint64_t *serial)
{
	char key[INTAKE_ID_MAX + 32];
	unsigned char val[8];
	struct cm_val v;
	int n = snprintf(key, sizeof(key), "%s%c%04d%c%s", agency, 0, year, 0, series);
	int rc = cm_txn_get(t, INTAKE_DB_COUNTERS, key, (size_t)n, &v);

	*serial = 1;
	if (rc == 0) {
		if (v.size != 8)
			return CM_ECORRUPT;
		*serial = cm_be64_get(v.data) + 1;
	} else if (rc != -ENOENT) {
		return rc;
	}
	cm_be64_put(val, *serial);
	return cm_txn_put(t, INTAKE_DB_COUNTERS, key, (size_t)n, val, 8, 0);
}

int intake_schema_init(struct cm_txn *t, void *arg)
{
	unsigned char val[4];
	struct cm_val v;
	int rc = cm_txn_get(t, INTAKE_DB_META, "layout", 6, &v);

	(void)arg;
	if (rc == 0)
		return v.size == 4 && cm_be32_get(v.data) == INTAKE_LAYOUT_VERSION ? 0
										    : CM_EVERSION;
	if (rc != -ENOENT)
		return rc;
	cm_be32_put(val, INTAKE_LAYOUT_VERSION);
	return cm_txn_put(t, INTAKE_DB_META, "layout", 6, val, 4, 0);
}

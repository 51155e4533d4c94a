#include "schema.h"

#include <errno.h>
#include <string.h>

#include "common/err.h"

const char *const dl_dbi_names[DL_DB_COUNT] = {
	"log", "offsets", "cases", "clocks", "due", "explain", "heads", "receptions", "meta",
};

#define CASE_V 1
#define CLOCK_V 1

static void put32(uint8_t *b, int32_t v)
{
	cm_be32_put(b, (uint32_t)v);
}

static int32_t get32(const uint8_t *b)
{
	return (int32_t)cm_be32_get(b);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)((b[0] << 8) | b[1]);
}

size_t dl_case_encode(const struct dl_case *c, uint8_t *b)
{
	size_t n = strnlen(c->agency, DL_CODE_MAX);

	b[0] = CASE_V;
	b[1] = c->flags;
	b[2] = c->kind;
	b[3] = c->subject;
	b[4] = c->round;
	b[5] = c->complexity;
	b[6] = c->remote;
	put32(b + 7, c->received);
	put32(b + 11, c->pending_day);
	b[15] = (uint8_t)n;
	memcpy(b + 16, c->agency, n);
	return 16 + n;
}

int dl_case_decode(const void *p, size_t n, struct dl_case *c)
{
	const uint8_t *b = p;

	if (n < 16 || b[0] != CASE_V || b[15] > DL_CODE_MAX || 16u + b[15] != n)
		return CM_ECORRUPT;
	c->flags = b[1];
	c->kind = b[2];
	c->subject = b[3];
	c->round = b[4];
	c->complexity = b[5];
	c->remote = b[6];
	c->received = get32(b + 7);
	c->pending_day = get32(b + 11);
	memcpy(c->agency, b + 16, b[15]);
	c->agency[b[15]] = '\0';
	return 0;
}

void dl_clock_encode(const struct dl_clock *c, uint8_t b[DL_CLOCK_ENC])
{
	b[0] = CLOCK_V;
	b[1] = c->state;
	b[2] = c->unit;
	b[3] = c->flags;
	b[4] = c->raised;
	b[5] = c->ext_count;
	b[6] = c->complexity;
	b[7] = c->remote;
	b[8] = c->variant;
	b[9] = 0;
	put16(b + 10, c->version);
	put16(b + 12, c->length);
	put16(b + 14, c->ext_days);
	put32(b + 16, c->n);
	put32(b + 20, c->trigger);
	put32(b + 24, c->anchor);
	put32(b + 28, c->due);
	put32(b + 32, c->paused);
	put16(b + 36, c->paused_days);
	put16(b + 38, 0);
	cm_be64_put(b + 40, (uint64_t)c->idx_ms);
	put32(b + 48, c->stopped);
}

int dl_clock_decode(const void *p, size_t n, struct dl_clock *c)
{
	const uint8_t *b = p;

	if (n != DL_CLOCK_ENC || b[0] != CLOCK_V || b[1] < DL_CLOCK_OPEN ||
	    b[1] > DL_CLOCK_STOPPED)
		return CM_ECORRUPT;
	c->state = b[1];
	c->unit = b[2];
	c->flags = b[3];
	c->raised = b[4];
	c->ext_count = b[5];
	c->complexity = b[6];
	c->remote = b[7];
	c->variant = b[8];
	c->version = get16(b + 10);
	c->length = get16(b + 12);
	c->ext_days = get16(b + 14);
	c->n = get32(b + 16);
	c->trigger = get32(b + 20);
	c->anchor = get32(b + 24);
	c->due = get32(b + 28);
	c->paused = get32(b + 32);
	c->paused_days = get16(b + 36);
	c->idx_ms = (int64_t)cm_be64_get(b + 40);
	c->stopped = get32(b + 48);
	return 0;
}

size_t dl_due_key(int64_t instant_ms, const char *id, size_t idlen, uint8_t *buf, size_t cap)
{
	if (8 + idlen > cap || 8 + idlen > 511)
		return 0;
	cm_be64_put(buf, (uint64_t)instant_ms);
	memcpy(buf + 8, id, idlen);
	return 8 + idlen;
}

size_t dl_clock_id(const char *case_number, const char *rule_id, char *buf, size_t cap)
{
	size_t a = strlen(case_number), b = strlen(rule_id);

	if (a == 0 || a + 1 + b + 1 > cap)
		return 0;
	memcpy(buf, case_number, a);
	buf[a] = '/';
	memcpy(buf + a + 1, rule_id, b);
	buf[a + 1 + b] = '\0';
	return a + 1 + b;
}

size_t dl_head_key(const char *agency, int role, uint8_t *buf, size_t cap)
{
	size_t a = strlen(agency);

	if (a == 0 || a + 2 > cap)
		return 0;
	memcpy(buf, agency, a);
	buf[a] = 0;
	buf[a + 1] = (uint8_t)role;
	return a + 2;
}

int dl_meta_get(struct cm_txn *t, const char *key, uint64_t *out)
{
	struct cm_val v;
	int rc = cm_txn_get(t, DL_DB_META, key, strlen(key), &v);

	*out = 0;
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (v.size != 8)
		return CM_ECORRUPT;
	*out = cm_be64_get(v.data);
	return 0;
}

int dl_meta_add(struct cm_txn *t, const char *key, int64_t delta)
{
	uint8_t b[8];
	uint64_t v;
	int rc = dl_meta_get(t, key, &v);

	if (rc)
		return rc;
	/* A counter never goes below zero, whatever a damaged history says. */
	if (delta < 0 && (uint64_t)-delta > v)
		v = 0;
	else
		v += (uint64_t)delta;
	cm_be64_put(b, v);
	return cm_txn_put(t, DL_DB_META, key, strlen(key), b, 8, 0);
}

int dl_schema_init(struct cm_txn *t, void *arg)
{
	unsigned char val[4];
	struct cm_val v;
	int rc = cm_txn_get(t, DL_DB_META, "layout", 6, &v);

	(void)arg;
	if (rc == 0)
		return v.size == 4 && cm_be32_get(v.data) == DL_LAYOUT_VERSION ? 0 : CM_EVERSION;
	if (rc != -ENOENT)
		return rc;
	cm_be32_put(val, DL_LAYOUT_VERSION);
	return cm_txn_put(t, DL_DB_META, "layout", 6, val, 4, 0);
}

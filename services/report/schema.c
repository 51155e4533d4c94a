#include "schema.h"

#include <errno.h>
#include <string.h>

#include "common/err.h"

const char *const report_dbi_names[REPORT_DB_COUNT] = {
	"cases",    "counters", "dims",	    "ev.intake", "ev.routing", "ev.deadline",
	"history",  "byagency", "seen",	    "offsets",   "meta",
};

#define ROW_VERSION 1
#define DAY_BIAS 0x80000000u

int32_t report_month_of(cm_day_t day)
{
	int y, m, d;

	cm_day_to_ymd(day, &y, &m, &d);
	return y * 12 + (m - 1);
}

cm_day_t report_month_first(int32_t month)
{
	return cm_day_from_ymd(month / 12, month % 12 + 1, 1);
}

cm_day_t report_month_last(int32_t month)
{
	int y = month / 12, m = month % 12 + 1;
	return cm_day_from_ymd(y, m, cm_days_in_month(y, m));
}

size_t report_counter_key(const char *agency, char level, int32_t bucket, uint8_t *buf)
{
	size_t n = strnlen(agency, REPORT_CODE_MAX);

	memcpy(buf, agency, n);
	buf[n] = '\0';
	buf[n + 1] = (uint8_t)level;
	cm_be32_put(buf + n + 2, (uint32_t)bucket + DAY_BIAS);
	return n + 6;
}

int report_row_count(const void *p, size_t n)
{
	const uint8_t *b = p;

	if (n < 1 || b[0] != ROW_VERSION || (n - 1) % 12 != 0)
		return CM_ECORRUPT;
	return (int)((n - 1) / 12);
}

void report_row_entry(const void *p, size_t i, struct report_cell *out)
{
	const uint8_t *b = (const uint8_t *)p + 1 + 12 * i;

	out->ind = (uint16_t)((b[0] << 8) | b[1]);
	out->dim = (uint16_t)((b[2] << 8) | b[3]);
	out->v = (int64_t)cm_be64_get(b + 4);
}

size_t report_row_encode(const struct report_cell *c, size_t n, uint8_t *buf)
{
	size_t len = 1;

	buf[0] = ROW_VERSION;
	for (size_t i = 0; i < n; i++) {
		uint8_t *b = buf + len;
		if (c[i].v == 0)
			continue;
		b[0] = (uint8_t)(c[i].ind >> 8);
		b[1] = (uint8_t)c[i].ind;
		b[2] = (uint8_t)(c[i].dim >> 8);
		b[3] = (uint8_t)c[i].dim;
		cm_be64_put(b + 4, (uint64_t)c[i].v);
		len += 12;
	}
	return len;
}

int report_dim_get(struct cm_txn *t, const char *field, int create, uint16_t *out)
{
	size_t n = strnlen(field, REPORT_CODE_MAX);
	struct cm_val v;
	uint64_t count;
	uint8_t val[2];
	int rc;

	*out = 0;
	if (n == 0)
		return 0;
	rc = cm_txn_get(t, REPORT_DB_DIMS, field, n, &v);
	if (rc == 0) {
		if (v.size != 2)
			return CM_ECORRUPT;
		*out = (uint16_t)((((const uint8_t *)v.data)[0] << 8) | ((const uint8_t *)v.data)[1]);
		return 0;
	}
	if (rc != -ENOENT || !create)
		return rc;
	/* Ids are handed out in order of first sight; they only ever name a
	 * code inside this store, so replay order does not matter. */
	rc = cm_txn_count(t, REPORT_DB_DIMS, &count);
	if (rc)
		return rc;
	if (count >= 0xFFFE) {
		*out = 0xFFFF;
		return 0;
	}
	*out = (uint16_t)(count + 1);
	val[0] = (uint8_t)(*out >> 8);
	val[1] = (uint8_t)*out;
	return cm_txn_put(t, REPORT_DB_DIMS, field, n, val, 2, CM_PUT_NOOVERWRITE);
}

int report_schema_init(struct cm_txn *t, void *arg)
{
	unsigned char val[4];
	struct cm_val v;
	int rc = cm_txn_get(t, REPORT_DB_META, "layout", 6, &v);

	(void)arg;
	if (rc == 0)
		return v.size == 4 && cm_be32_get(v.data) == REPORT_LAYOUT_VERSION ? 0
										    : CM_EVERSION;
	if (rc != -ENOENT)
		return rc;
	cm_be32_put(val, REPORT_LAYOUT_VERSION);
	return cm_txn_put(t, REPORT_DB_META, "layout", 6, val, 4, 0);
}

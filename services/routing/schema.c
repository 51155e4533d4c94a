#include "schema.h"

#include <errno.h>
#include <string.h>

#include "common/err.h"

const char *const routing_dbi_names[ROUTING_DB_COUNT] = {
	"log", "offsets", "cases", "serials", "groups", "open", "dedup", "meta",
};

#define VERSION_BYTE 1

static size_t put_str(uint8_t *b, const char *s)
{
	size_t n = strnlen(s, ROUTING_ID_MAX);

	b[0] = (uint8_t)n;
	memcpy(b + 1, s, n);
	return n + 1;
}

/* Reads one length-prefixed string at *off; advances it. */
static int get_str(const uint8_t *b, size_t n, size_t *off, char *out)
{
	size_t len;

	if (*off >= n)
		return CM_ECORRUPT;
	len = b[*off];
	if (len > ROUTING_ID_MAX || *off + 1 + len > n)
		return CM_ECORRUPT;
	memcpy(out, b + *off + 1, len);
	out[len] = '\0';
	*off += 1 + len;
	return 0;
}

size_t routing_case_encode(const struct routing_case *v, uint8_t *b)
{
	size_t o = 0;

	b[o++] = VERSION_BYTE;
	b[o++] = v->kind;
	b[o++] = v->round;
	b[o++] = (uint8_t)((v->open ? 1 : 0) | (v->loop_flagged ? 2 : 0));
	cm_be64_put(b + o, v->serial);
	o += 8;
	cm_be32_put(b + o, (uint32_t)v->received_day);
	o += 4;
	o += put_str(b + o, v->receiving);
	o += put_str(b + o, v->holder);
	o += put_str(b + o, v->root);
	b[o++] = (uint8_t)v->sketch.n;
	for (uint32_t i = 0; i < v->sketch.n; i++, o += 4)
		cm_be32_put(b + o, v->sketch.h[i]);
	return o;
}

int routing_case_decode(const void *p, size_t n, struct routing_case *v)
{
	const uint8_t *b = p;
	size_t o = 16;
	int rc;

	memset(v, 0, sizeof(*v));
	if (n < 17 || b[0] != VERSION_BYTE)
		return CM_ECORRUPT;
	v->kind = b[1];
	v->round = b[2];
	v->open = b[3] & 1;
	v->loop_flagged = b[3] & 2;
	v->serial = cm_be64_get(b + 4);
	v->received_day = (cm_day_t)cm_be32_get(b + 12);
	if ((rc = get_str(b, n, &o, v->receiving)) || (rc = get_str(b, n, &o, v->holder)) ||
	    (rc = get_str(b, n, &o, v->root)))
		return rc;
	if (o >= n || b[o] > ROUTING_SKETCH_K || o + 1 + 4u * b[o] != n)
		return CM_ECORRUPT;
	v->sketch.n = b[o++];
	for (uint32_t i = 0; i < v->sketch.n; i++, o += 4)
		v->sketch.h[i] = cm_be32_get(b + o);
	return 0;
}

size_t routing_group_encode(const struct routing_group *v, uint8_t *b)
{
	size_t o = 0;

	b[o++] = VERSION_BYTE;
	b[o++] = (uint8_t)((v->guided ? 1 : 0) | (v->forwarded ? 2 : 0));
	cm_be32_put(b + o, v->cases);
	o += 4;
	cm_be32_put(b + o, v->open);
	o += 4;
	cm_be32_put(b + o, (uint32_t)v->decided_day);
	o += 4;
	b[o++] = (uint8_t)v->nfroms;
	for (uint32_t i = 0; i < v->nfroms; i++)
		o += put_str(b + o, v->froms[i]);
	b[o++] = (uint8_t)v->ntos;
	for (uint32_t i = 0; i < v->ntos; i++)
		o += put_str(b + o, v->tos[i]);
	return o;
}

int routing_group_decode(const void *p, size_t n, struct routing_group *v)
{
	const uint8_t *b = p;
	size_t o = 14;
	int rc;

	memset(v, 0, sizeof(*v));
	if (n < 16 || b[0] != VERSION_BYTE)
		return CM_ECORRUPT;
	v->guided = b[1] & 1;
	v->forwarded = b[1] & 2;
	v->cases = cm_be32_get(b + 2);
	v->open = cm_be32_get(b + 6);
	v->decided_day = (cm_day_t)cm_be32_get(b + 10);
	v->nfroms = b[o++];
	if (v->nfroms > ROUTING_MAX_FROMS)
		return CM_ECORRUPT;
	for (uint32_t i = 0; i < v->nfroms; i++)
		if ((rc = get_str(b, n, &o, v->froms[i])))
			return rc;
	if (o >= n)
		return CM_ECORRUPT;
	v->ntos = b[o++];
	if (v->ntos > ROUTING_MAX_FROMS)
		return CM_ECORRUPT;
	for (uint32_t i = 0; i < v->ntos; i++)
		if ((rc = get_str(b, n, &o, v->tos[i])))
			return rc;
	return o == n ? 0 : CM_ECORRUPT;
}

int routing_case_get(struct cm_txn *t, const char *case_number, struct routing_case *out)
{
	struct cm_val v;
	int rc = cm_txn_get(t, ROUTING_DB_CASES, case_number, strlen(case_number), &v);

	if (rc)
		return rc;
	return routing_case_decode(v.data, v.size, out);
}

int routing_case_put(struct cm_txn *t, const char *case_number, const struct routing_case *c)
{
	uint8_t buf[ROUTING_CASE_ENC_MAX];

	return cm_txn_put(t, ROUTING_DB_CASES, case_number, strlen(case_number), buf,
			  routing_case_encode(c, buf), 0);
}

int routing_serial_get(struct cm_txn *t, uint64_t serial, char *out)
{
	uint8_t k[8];
	struct cm_val v;
	int rc;

	cm_be64_put(k, serial);
	rc = cm_txn_get(t, ROUTING_DB_SERIALS, k, 8, &v);
	if (rc)
		return rc;
	if (v.size == 0 || v.size > ROUTING_ID_MAX)
		return CM_ECORRUPT;
	memcpy(out, v.data, v.size);
	out[v.size] = '\0';
	return 0;
}

int routing_group_get(struct cm_txn *t, const char *root, struct routing_group *out)
{
	struct cm_val v;
	int rc = cm_txn_get(t, ROUTING_DB_GROUPS, root, strlen(root), &v);

	if (rc)
		return rc;
	return routing_group_decode(v.data, v.size, out);
}

int routing_group_put(struct cm_txn *t, const char *root, const struct routing_group *g)
{
	uint8_t buf[ROUTING_GROUP_ENC_MAX];

	return cm_txn_put(t, ROUTING_DB_GROUPS, root, strlen(root), buf,
			  routing_group_encode(g, buf), 0);
}

/* Copied by hand: snprintf showed in the profile, once or twice per
 * decision. */
static size_t open_key(const char *agency, const char *case_number, char *k, size_t cap)
{
	size_t a = strlen(agency), c = strlen(case_number);

	if (a + 1 + c >= cap)
		return 0;
	memcpy(k, agency, a);
	k[a] = '\0';
	memcpy(k + a + 1, case_number, c);
	k[a + 1 + c] = '\0';
	return a + 1 + c;
}

int routing_open_put(struct cm_txn *t, const char *agency, const char *case_number)
{
	char k[2 * ROUTING_ID_MAX + 2];
	size_t n = open_key(agency, case_number, k, sizeof(k));

	return n ? cm_txn_put(t, ROUTING_DB_OPEN, k, n, "", 0, 0) : -EINVAL;
}

int routing_open_del(struct cm_txn *t, const char *agency, const char *case_number)
{
	char k[2 * ROUTING_ID_MAX + 2];
	size_t n = open_key(agency, case_number, k, sizeof(k));
	int rc = n ? cm_txn_del(t, ROUTING_DB_OPEN, k, n) : -EINVAL;

	return rc == -ENOENT ? 0 : rc;
}

int routing_next_serial(struct cm_txn *t, uint64_t *serial)
{
	uint64_t n = 0;
	/* Serials are never deleted: the next one is the count plus one, read
	 * from the B-tree's header instead of a counter rewritten per case. */
	int rc = cm_txn_count(t, ROUTING_DB_SERIALS, &n);

	*serial = n + 1;
	return rc;
}

int routing_schema_init(struct cm_txn *t, void *arg)
{
	unsigned char val[4];
	struct cm_val v;
	int rc = cm_txn_get(t, ROUTING_DB_META, "layout", 6, &v);

	(void)arg;
	if (rc == 0)
		return v.size == 4 && cm_be32_get(v.data) == ROUTING_LAYOUT_VERSION ? 0
										     : CM_EVERSION;
	if (rc != -ENOENT)
		return rc;
	cm_be32_put(val, ROUTING_LAYOUT_VERSION);
	return cm_txn_put(t, ROUTING_DB_META, "layout", 6, val, 4, 0);
}

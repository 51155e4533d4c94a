/*
 * schema.h - routing's LMDB layout (the only writer of this store).
 *
 *   log      be64 seq -> packed Envelope (the routing feed)
 *   offsets  producer name -> be64 last applied sequence (feed consumer)
 *   cases    case number -> struct routing_case
 *   serials  be64 serial -> case number (the dedup index names cases by serial)
 *   groups   root case number -> struct routing_group (one matter, many petitions)
 *   open     agency "\0" case number -> "" (open cases by holding agency, for re-homing)
 *   dedup    be64 person key | be32 feature | be64 serial -> "" (dedup.h)
 *   meta     "layout" -> be32 layout version
 */
#ifndef ROUTING_SCHEMA_H
#define ROUTING_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/store.h"
#include "dedup.h"

enum routing_dbi {
	ROUTING_DB_LOG = 0,
	ROUTING_DB_OFFSETS,
	ROUTING_DB_CASES,
	ROUTING_DB_SERIALS,
	ROUTING_DB_GROUPS,
	ROUTING_DB_OPEN,
	ROUTING_DB_DEDUP,
	ROUTING_DB_META,
	ROUTING_DB_COUNT,
};

extern const char *const routing_dbi_names[ROUTING_DB_COUNT];

#define ROUTING_LAYOUT_VERSION 1
#define ROUTING_ID_MAX 64	/* case numbers and agency codes */
#define ROUTING_DAY_NONE INT32_MIN
#define ROUTING_MAX_FROMS 16	/* transfer origins remembered per matter */

struct routing_case {
	uint64_t serial;
	uint8_t kind;		/* Donthu__V1__PetitionKind */
	uint8_t round;
	bool open;		/* being handled somewhere (not filed, transferred or closed) */
	bool loop_flagged;	/* a transfer-loop flag was raised for it */
	cm_day_t received_day;
	char receiving[ROUTING_ID_MAX + 1];
	char holder[ROUTING_ID_MAX + 1];	/* agency holding it now */
	char root[ROUTING_ID_MAX + 1];		/* first case of its matter */
	struct routing_sketch sketch;
};

struct routing_group {
	uint32_t cases;		/* petitions linked to the matter */
	uint32_t open;		/* of them, open */
	bool guided, forwarded;
	cm_day_t decided_day;	/* last decision or conclusion, or ROUTING_DAY_NONE */
	uint32_t nfroms;	/* agencies the matter was transferred away from, in order */
	char froms[ROUTING_MAX_FROMS][ROUTING_ID_MAX + 1];
	uint32_t ntos;		/* agencies it was transferred to (several-bodies check) */
	char tos[ROUTING_MAX_FROMS][ROUTING_ID_MAX + 1];
};

/* Encoded sizes are bounded: buffers of this size always suffice. */
#define ROUTING_CASE_ENC_MAX (32 + 3 * (ROUTING_ID_MAX + 1) + 4 * ROUTING_SKETCH_K)
#define ROUTING_GROUP_ENC_MAX (32 + 2 * ROUTING_MAX_FROMS * (ROUTING_ID_MAX + 1))

/** Encode into buf; returns the length. */
size_t routing_case_encode(const struct routing_case *v, uint8_t *buf);
size_t routing_group_encode(const struct routing_group *v, uint8_t *buf);
/** Errors: CM_ECORRUPT when the bytes are not a value of this layout. */
int routing_case_decode(const void *p, size_t n, struct routing_case *v);
int routing_group_decode(const void *p, size_t n, struct routing_group *v);

/** Case record by number. Errors: -ENOENT, CM_ECORRUPT, store errors. */
int routing_case_get(struct cm_txn *t, const char *case_number, struct routing_case *out);
int routing_case_put(struct cm_txn *t, const char *case_number, const struct routing_case *c);
/** Case number of a serial into out (ROUTING_ID_MAX + 1 bytes). Errors: -ENOENT. */
int routing_serial_get(struct cm_txn *t, uint64_t serial, char *out);
int routing_group_get(struct cm_txn *t, const char *root, struct routing_group *out);
int routing_group_put(struct cm_txn *t, const char *root, const struct routing_group *g);
/** Add or remove (agency, case) in the open index. */
int routing_open_put(struct cm_txn *t, const char *agency, const char *case_number);
int routing_open_del(struct cm_txn *t, const char *agency, const char *case_number);
/** The next case serial (gap-free, from 1): taken when the caller puts it
 * into serials in the same transaction. */
int routing_next_serial(struct cm_txn *t, uint64_t *serial);

/** Check or write the layout version. Errors: CM_EVERSION. */
int routing_schema_init(struct cm_txn *t, void *arg);

#endif

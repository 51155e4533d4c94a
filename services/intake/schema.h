/*
 * schema.h - intake's LMDB layout (the only writer of this store).
 *
 *   log       be64 seq -> packed Envelope (the intake feed)
 *   idem      "<source_system>\0<source_id>" -> struct intake_idem (first answer)
 *   cases     case number -> struct intake_case
 *   counters  "<agency>\0<year>\0<series>" -> be64 last serial (gap-free)
 *   vault     case number or record id -> sealed RevealReply{petitioners}
 *   records   record id -> struct intake_record (reception, schedule, conclusion)
 *   audit     be64 serial -> JSON line of an identity reveal
 *   meta      "layout" -> be32 layout version
 */
#ifndef INTAKE_SCHEMA_H
#define INTAKE_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "common/store.h"
#include "donthu/v1/types.pb-c.h"

enum intake_dbi {
	INTAKE_DB_LOG = 0,
	INTAKE_DB_IDEM,
	INTAKE_DB_CASES,
	INTAKE_DB_COUNTERS,
	INTAKE_DB_VAULT,
	INTAKE_DB_RECORDS,
	INTAKE_DB_AUDIT,
	INTAKE_DB_META,
	INTAKE_DB_COUNT,
};

extern const char *const intake_dbi_names[INTAKE_DB_COUNT];

#define INTAKE_LAYOUT_VERSION 1
#define INTAKE_ID_MAX 64

/* The first answer given to an idempotency key. */
struct intake_idem {
	uint8_t item;		/* SubmitRequest item case */
	uint8_t case_status;	/* status after it (case actions) */
	uint64_t feed_seq;
	char id[INTAKE_ID_MAX + 1]; /* case number or record id */
};

struct intake_case {
	uint8_t status;		/* Donthu__V1__CaseStatus */
	uint8_t kind;		/* Donthu__V1__PetitionKind */
	uint8_t round;
	uint32_t actions;	/* actions recorded so far */
	int64_t received_at_ms;
	char agency[INTAKE_ID_MAX + 1];
};

struct intake_record {
	uint8_t type;		/* SubmitRequest item case */
	char agency[INTAKE_ID_MAX + 1];
};

/** Encode into buf (at least INTAKE_*_MAX_ENC bytes); returns the length. */
#define INTAKE_ENC_MAX (32 + INTAKE_ID_MAX)
size_t intake_idem_encode(const struct intake_idem *v, uint8_t *buf);
size_t intake_case_encode(const struct intake_case *v, uint8_t *buf);
size_t intake_record_encode(const struct intake_record *v, uint8_t *buf);
/** Errors: CM_ECORRUPT when the bytes are not a value of this layout. */
int intake_idem_decode(const void *p, size_t n, struct intake_idem *v);
int intake_case_decode(const void *p, size_t n, struct intake_case *v);
int intake_record_decode(const void *p, size_t n, struct intake_record *v);

/** Build the idem key into buf (cap bytes); returns its length or 0 if too long. */
size_t intake_idem_key(const char *system, const char *id, uint8_t *buf, size_t cap);

/** Take the next serial for (agency, year, series) inside t.
 * Errors: store errors. */
int intake_next_serial(struct cm_txn *t, const char *agency, int year, const char *series,
		       uint64_t *serial);

/** Check or write the layout version. Errors: CM_EVERSION. */
int intake_schema_init(struct cm_txn *t, void *arg);

#endif

/*
 * validate.h - intake's pure validator: one SubmitRequest in, a verdict out.
 *
 * Everything here is a function of the request, the agency register and the
 * clock reading passed in: no store, no sockets, no globals. Checks that need
 * the store (the case exists, the action fits its status, a reception_id
 * exists, duplicates) belong to the handler, which calls intake_transition()
 * with the stored status. Every error code, cap and per-kind rule is listed
 * in docs/VALIDATION.md; keep the two in step.
 */
#ifndef INTAKE_VALIDATE_H
#define INTAKE_VALIDATE_H

#include <stdint.h>

#include "common/register.h"
#include "donthu/v1/envelope.pb-c.h"

struct cm_arena;

/* Clock-skew allowance for instants in a request (publishers' clocks). */
#define INTAKE_SKEW_MS_DEFAULT (5LL * 60 * 1000)
/* No instant before 2000-01-01T00:00+07:00 is accepted. */
#define INTAKE_FLOOR_MS_DEFAULT 946659600000LL

/* Caps, in bytes of the NFC UTF-8 form (a Vietnamese letter with its marks
 * takes 2-3 bytes). The rest are in docs/VALIDATION.md. */
#define INTAKE_MAX_SOURCE_SYSTEM 64
#define INTAKE_MAX_SOURCE_ID 128
#define INTAKE_MAX_CODE 32		/* agency, unit and field codes */
#define INTAKE_MAX_NAME 200
#define INTAKE_MAX_ADDRESS 500
#define INTAKE_MAX_PHONE 32
#define INTAKE_MAX_EMAIL 254
#define INTAKE_MAX_ID_NUMBER 32
#define INTAKE_MAX_SUMMARY 2000
#define INTAKE_MAX_DETAIL 2000		/* detail, reason, note, description, ... */
#define INTAKE_MAX_TEXT 100000		/* petition text, reception conclusion */
#define INTAKE_MAX_NUMBER 64		/* document and decision numbers, case numbers */
#define INTAKE_MAX_URI 2000
#define INTAKE_MAX_PETITIONERS 100
#define INTAKE_MAX_CITIZENS 100
#define INTAKE_MAX_ATTACHMENTS 50
#define INTAKE_MAX_ALSO_SENT_TO 20
#define INTAKE_MAX_TASKS 100
#define INTAKE_MAX_PLANNED_DATES 31
#define INTAKE_MAX_SIGNERS 100000
#define INTAKE_MAX_DELEGATION 10000
#define INTAKE_MAX_EXTEND_DAYS 90
#define INTAKE_MAX_ATTACHMENT_BYTES (2ULL * 1024 * 1024 * 1024)

/* Why a request was refused. code is one of the stable codes in
 * docs/VALIDATION.md (a static string); field is the path of the offending
 * field ("petition.petitioners[1].id_number"); message is readable English. */
struct intake_verr {
	const char *code;
	char field[160];
	char message[320];
};

struct intake_vctx {
	const struct cm_register *reg;	/* borrowed; must outlive the call */
	int64_t now_ms;			/* the service clock's reading */
	int64_t skew_ms;		/* instants up to now + skew are accepted */
	int64_t floor_ms;		/* instants before this are refused */
	struct cm_arena *arena;		/* req was decoded into it; NULL: malloc */
};

/** Fill ctx with reg, now_ms and the default skew and floor. */
void intake_vctx_init(struct intake_vctx *ctx, const struct cm_register *reg, int64_t now_ms);

/** Validate one SubmitRequest and normalise every text field to NFC in place.
 * A string that is not already NFC is replaced by an NFC copy: taken from
 * ctx->arena when req was decoded into that arena (the old string is left to
 * it), else malloc'ed and the old pointer free()d (protobuf-c's default
 * allocator is malloc/free, so *__free_unpacked stays correct); a string that is already NFC (every ASCII
 * string) is left alone, so a request built by hand from NFC literals is safe.
 * req is borrowed and modified; on failure some strings may already have been
 * normalised, which changes nothing the caller could rely on.
 * Returns 0, or CM_EINVALID with *err filled. err is always written. */
int intake_validate_submit(Donthu__V1__SubmitRequest *req, const struct intake_vctx *ctx,
			   struct intake_verr *err);

/** Check the packed Envelope in buf (len bytes) for a NUL byte inside any
 * string field. protobuf-c cuts such a string at the NUL without a word, so
 * only the wire bytes show it; call this before or after cm_env_unpack() on
 * the same bytes. Paths inside the submit body are relative to the
 * SubmitRequest, as intake_validate_submit() gives them
 * ("petition.petitioners[1].full_name"); others start with the envelope
 * field. Malformed bytes are left to the unpack and pass here.
 * Returns 0, or CM_EINVALID with code "control_character". */
int intake_validate_wire(const void *buf, size_t len, struct intake_verr *err);

/** The case lifecycle: whether action a is allowed in status cur, and the
 * status after it (*next; unchanged on error). Returns 0, CM_ESTATE with err
 * code "invalid_transition" (the message names the status and the action;
 * also for a status outside the enum), or CM_EINVALID with code
 * "missing_field" when a has no action set. */
int intake_transition(Donthu__V1__CaseStatus cur, const Donthu__V1__CaseAction *a,
		      Donthu__V1__CaseStatus *next, struct intake_verr *err);

/** "received", "accepted", ...; "unspecified" for 0, "unknown" outside the
 * enum. Static strings. */
const char *intake_status_name(Donthu__V1__CaseStatus s);

/** The action's name as on the wire ("accept", "give_back", ...); "none"
 * when unset. Static strings. */
const char *intake_action_name(Donthu__V1__CaseAction__ActionCase c);

#endif

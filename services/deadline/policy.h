/*
 * policy.h - the deadline policy: which clock runs for which case, from which
 * event, for how long, and how it may be extended, paused and escalated.
 *
 * The policy is data (data/policy/deadline-policy.json, format in
 * docs/DEADLINES.md). Each rule has one or more versions with an
 * effective-from date; a clock uses the version in force on its trigger day,
 * so the 1 July 2026 amendments (complaint acceptance 10 -> 7 working days)
 * are two versions of one rule and old cases keep the old figure.
 *
 * A loaded policy is immutable; reload builds a new one and the caller swaps
 * pointers. The due-date arithmetic here is pure (a calendar in, a day out)
 * so every vector in tests/unit/test_deadline_policy.c is checked without a
 * store or a loop.
 */
#ifndef DEADLINE_POLICY_H
#define DEADLINE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "common/clock.h"

#define DL_ERR_LEN 512
#define DL_EXPLAIN_MAX 2048

/* Day units; the values are those of donthu.v1.DayUnit. */
enum dl_unit {
	DL_UNIT_CAL = 1,
	DL_UNIT_WD = 2,
};

/* Escalation levels; the values are those of donthu.v1.EscalationLevel. */
enum dl_level {
	DL_LVL_WARNING = 1,
	DL_LVL_OVERDUE,
	DL_LVL_HEAD,
	DL_LVL_CHAIRMAN,
	DL_LVL_INSPECTORATE,
	DL_LVL_COUNT,
};
#define DL_LEVELS_ALL 0x3eu /* bits 1..5 */

/* What starts a clock. */
enum dl_trigger {
	DL_TRIG_RECEIVED = 1,	 /* PetitionReceived: the day the petition was received */
	DL_TRIG_ACCEPTED,	 /* CaseAction accept */
	DL_TRIG_DECIDED,	 /* CaseAction decide (decision or conclusion) */
	DL_TRIG_REDENOUNCED,	 /* CaseAction recomplaint with redenunciation */
	DL_TRIG_OUTSIDE_COMPETENCE, /* routing: a denunciation outside competence */
	DL_TRIG_ELAPSED,	 /* the end of a waiting clock whose "then" names this rule */
};

/* What stops a clock (bit numbers). Withdrawal of the whole case,
 * termination and closing stop every clock whatever the rule says. */
enum dl_stop {
	DL_STOP_ACCEPT = 0,
	DL_STOP_REFUSE,
	DL_STOP_GUIDE,
	DL_STOP_FORWARD,
	DL_STOP_RETURN,
	DL_STOP_FILE,		/* CaseAction file_away */
	DL_STOP_FILED,		/* routing Filed */
	DL_STOP_NOT_PROCESSED,	/* routing DuplicateLinked sent_to_several_bodies */
	DL_STOP_DECIDE,
	DL_STOP_ENFORCEMENT,	/* any enforcement action */
	DL_STOP_ENFORCED,	/* enforcement marked completed */
	DL_STOP_RECOMPLAINT,	/* second complaint or re-denunciation filed */
	DL_STOP_REDENOUNCE,	/* re-denunciation only */
	DL_STOP_CLOSE,
	DL_STOP_WITHDRAW,	/* implicit for every rule */
	DL_STOP_TERMINATE,	/* implicit for every rule */
	DL_STOP_COUNT,
};

/* Variants of a period (legal-reference §10 "variant"). */
enum dl_variant {
	DL_VAR_NORMAL = 0,
	DL_VAR_COMPLEX,
	DL_VAR_ESPECIALLY_COMPLEX,
	DL_VAR_REMOTE,
	DL_VAR_REMOTE_COMPLEX,
	DL_VAR_COUNT,
};

/* Complexity as carried by Accept/Extend (donthu.v1.Complexity values). */
enum dl_complexity {
	DL_CPLX_NORMAL = 1,
	DL_CPLX_COMPLEX = 2,
	DL_CPLX_ESPECIALLY = 3,
};

enum dl_reason {
	DL_REASON_DEADLINE = 1,	   /* donthu.v1.EscalationReason values */
	DL_REASON_UNHANDLED_45 = 2,
};

enum dl_ext_mode {
	DL_EXT_NONE = 0,
	DL_EXT_COUNT,	/* a number of extensions, each of at most some days (tố cáo) */
	DL_EXT_CAP,	/* the total may grow up to a cap (khiếu nại "không quá") */
};

struct dl_extension {
	enum dl_ext_mode mode;
	/* COUNT: per complexity (index enum dl_complexity - 1) */
	struct {
		uint16_t count, days;
	} per[3];
	/* CAP: the greatest total length per variant, 0 where none */
	uint16_t cap[DL_VAR_COUNT];
};

struct dl_version {
	unsigned version;
	cm_day_t effective_from;
	uint16_t length;
	enum dl_unit unit;
	bool ignore_makeup;		/* make-up Saturdays are not working days */
	uint16_t variants[DL_VAR_COUNT]; /* period per variant, 0 = none (normal: length) */
	struct dl_extension ext;
	bool pauses;			/* suspension (tạm đình chỉ) stops the count */
	cm_day_t pauses_from;		/* suspensions before this day do not pause */
	const char *article;
	const char *confidence;		/* may be NULL */
	const char *note;		/* may be NULL */
};

struct dl_rule {
	const char *id;			/* "kn.accept"; part of the clock id */
	const char *stage;		/* "acceptance", "resolution.r1", ... */
	const char *title;
	uint32_t kinds;			/* bit per donthu.v1.PetitionKind */
	uint8_t subjects;		/* bit 0 administrative, bit 1 disciplinary */
	uint8_t rounds;			/* bit 0 first, bit 1 second */
	enum dl_trigger trigger;
	uint32_t stop_on;		/* bit per enum dl_stop */
	uint8_t levels;			/* bit per enum dl_level */
	bool escalate_at_due;		/* every level on the day after due */
	bool waiting;			/* a waiting period, not an obligation */
	enum dl_reason reason;
	int warn_wd;			/* -1: the service default */
	int then;			/* index of the rule started when a waiting clock ends, or -1 */
	const struct dl_version *versions; /* ascending effective_from */
	size_t nversions;
};

struct dl_flag_rule {
	int kind;			/* donthu.v1.FlagKind */
	enum dl_level level;
	const char *topic;		/* own PUB topic prefix ("flag.delegation") or NULL */
	const char *article;
};

enum dl_per { DL_PER_WEEK = 1, DL_PER_MONTH };

struct dl_reception_version {
	unsigned version;
	cm_day_t effective_from;
	enum dl_per per;
	unsigned min;
	const char *article;
};

struct dl_reception_rule {
	const char *id;
	int role;			/* donthu.v1.HeadRole */
	enum dl_level level;
	const struct dl_reception_version *versions;
	size_t nversions;
};

struct dl_policy;

/**
 * Load and check a policy file. Caller owns *out (free with
 * dl_policy_free()); on failure *out is untouched and err (may be NULL)
 * names the file, the entry and the field at fault.
 * Errors: -ENOENT/-EACCES (or another -errno) reading the file, CM_ECONFIG
 * for anything malformed: unknown keys, missing fields, unknown names,
 * versions out of order, a "then" naming no rule, a rule id unfit for a
 * clock id.
 */
int dl_policy_load(const char *path, struct dl_policy **out, char *err, size_t errlen);
/** Free and set *p to NULL; accepts NULL and a pointer to NULL. */
void dl_policy_free(struct dl_policy **p);

/** The policy's own "version" string (borrowed). */
const char *dl_policy_version(const struct dl_policy *p);
size_t dl_policy_nrules(const struct dl_policy *p);
/** Rule i (0 <= i < nrules), or NULL. Borrowed until dl_policy_free. */
const struct dl_rule *dl_policy_rule_at(const struct dl_policy *p, size_t i);
/** Rule by id (len bytes, not NUL-terminated), or NULL. */
const struct dl_rule *dl_policy_rule(const struct dl_policy *p, const char *id, size_t len);
/** Index of a rule in the policy, or -1. */
int dl_policy_rule_index(const struct dl_policy *p, const struct dl_rule *r);
const struct dl_flag_rule *dl_policy_flag(const struct dl_policy *p, int kind);
const struct dl_reception_rule *dl_policy_reception(const struct dl_policy *p, int role);

/** The version in force on day (the last one with effective_from <= day),
 * or NULL when the rule was not yet in force. */
const struct dl_version *dl_rule_version(const struct dl_rule *r, cm_day_t day);
const struct dl_reception_version *dl_reception_version(const struct dl_reception_rule *r,
							  cm_day_t day);

/** Whether a rule applies to a case: kind is a donthu.v1.PetitionKind,
 * subject 1 administrative / 2 disciplinary, round 1 or 2. */
bool dl_rule_matches(const struct dl_rule *r, int kind, int subject, int round);

/** The variant a case falls under, given its complexity (enum dl_complexity)
 * and remote flag: the longest applicable variant the version defines, or
 * DL_VAR_NORMAL. */
enum dl_variant dl_version_variant(const struct dl_version *v, int complexity, bool remote);
/** The period of a version for that variant. */
unsigned dl_version_length(const struct dl_version *v, enum dl_variant var);

/**
 * Due day of n days of unit counted from anchor (day 0), with the calendar
 * flags of the version (make-up Saturdays). ex may be NULL.
 * Errors: -EINVAL (n < 0, bad unit), -ERANGE (outside the calendar's range).
 */
int dl_due(const struct cal *cal, enum dl_unit unit, bool ignore_makeup, cm_day_t anchor, int n,
	   cm_day_t *due, struct cal_explain *ex);

/**
 * Days of unit still to run when a clock counting n days from anchor is
 * paused on day s: calendar days from s to the nominal last day anchor + n
 * (before any roll to a working day), or working days in (s, due]; 0 when s
 * is on or after that day, n when s is before the anchor. Resuming on day r
 * makes the due day dl_due(r, left), so the suspended days are not counted.
 * Errors: -EINVAL (bad unit), -ERANGE.
 */
int dl_remaining(const struct cal *cal, enum dl_unit unit, bool ignore_makeup, cm_day_t anchor,
		 int n, cm_day_t s, int *left);

/**
 * Whether an extension of `days` is allowed for a clock of version v whose
 * case has the given complexity and remote flag, after `count` extensions
 * that brought its period to `total` days (base period + extensions).
 * On success *granted is the days granted (for CAP mode, days 0 asks for
 * everything up to the cap) and the new total is total + *granted.
 * On refusal why (whylen bytes) says why, naming the cap and the article.
 * Returns 0, or CM_ESTATE when refused.
 */
int dl_extension_check(const struct dl_version *v, int complexity, bool remote, unsigned count,
		       unsigned total, unsigned days, unsigned *granted, char *why, size_t whylen);

/** Names: "warning", "overdue", "head", "chairman", "inspectorate". */
const char *dl_level_name(enum dl_level l);
/** "CAL" / "WD". */
const char *dl_unit_name(enum dl_unit u);
const char *dl_variant_name(enum dl_variant v);
const char *dl_stop_name(enum dl_stop s);
/** A stop name back to its bit number, or -1. */
int dl_stop_from_name(const char *s);

/**
 * Write the explanation of a due date: rule and version, article, the version
 * chosen for the trigger day, variant and period, extensions, the clock's
 * history (history: suspensions and resumptions, may be NULL or empty), and
 * the calendar's account of the last count (ex: from the trigger, or from the
 * resumption). Returns the length needed, like snprintf; buf is always
 * NUL-terminated when len > 0.
 */
size_t dl_explain(const struct dl_rule *r, const struct dl_version *v, enum dl_variant var,
		  cm_day_t trigger, unsigned length, unsigned ext_days, unsigned ext_count,
		  const char *history, const struct cal_explain *ex, char *buf, size_t len);

#endif

/*
 * classify.h - the routing decision for one petition, as pure functions of
 * the petition, what routing knows of its history, the register and the
 * rules. No store, no clock: the day is the petition's received_at_ms, so
 * replaying a feed gives the same decisions.
 *
 *   routing_decide() = facts -> eligibility -> competence -> handling -> flags
 *
 * classify.c holds the facts, eligibility and flags; competence.c the
 * competent body and the handling outcome.
 */
#ifndef ROUTING_CLASSIFY_H
#define ROUTING_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/register.h"
#include "donthu/v1/types.pb-c.h"
#include "rules.h"

/* What the store knows about earlier petitions with the same content. */
struct routing_history {
	bool duplicate;		     /* same person, same respondent, similar content */
	bool several_bodies;	     /* a copy went to another body within the window */
	bool group_open;	     /* a case of that content is still open */
	bool group_guided;	     /* that content was guided (hướng dẫn) before */
	bool group_forwarded;	     /* that content was forwarded (chuyển đơn) before */
	bool group_decided_in_effect; /* decided, and the decision is in legal effect */
	bool transferred_here;	     /* the matter was guided or forwarded to this body */
	const char *const *copies;   /* agencies that got a copy (besides this one) */
	size_t ncopies;
};

/* Which body manages a field in which province: built once per register. */
struct routing_fieldmap;

/** Index the register's bodies by (province, field). Never fails (aborts on
 * OOM). Free with routing_fieldmap_free(). */
struct routing_fieldmap *routing_fieldmap_build(const struct cm_register *reg);
void routing_fieldmap_free(struct routing_fieldmap **m);
/** The body active on day that manages field in province (a province
 * agency code, or "" for bodies outside any province tree), first in
 * register order; NULL if none. */
const struct cm_agency *routing_fieldmap_find(const struct routing_fieldmap *m,
					      const struct cm_register *reg, const char *province,
					      const char *field, cm_day_t day);
/** The code of the province-level agency above a (itself if it is one), or
 * "" if none. Borrowed from the register. */
const char *routing_province_of(const struct cm_register *reg, const struct cm_agency *a);

#define ROUTING_MAX_FLAGS 8

struct routing_flag {
	Donthu__V1__FlagKind kind;
	uint32_t count;
	const struct routing_rule *rule;
};

struct routing_decision {
	uint64_t facts;				/* bits of enum routing_fact */
	int kind;				/* Donthu__V1__PetitionKind */
	cm_day_t day;				/* received day */
	/* classification (TT 05/2021 Điều 6) */
	const struct routing_rule *eligibility;
	bool eligible, split_advised;
	const char *ineligible_reason;		/* borrowed from the rule */
	uint32_t signer_count;
	bool many_signers, delegation;
	/* competence */
	const struct cm_agency *receiving;	/* receiving body active on day */
	const struct routing_rule *competence;
	char declared[128];			/* body the rule named (may have ended) */
	const struct cm_agency *competent;	/* that body, or its successor, on day */
	bool rehomed;				/* competent is declared's successor */
	bool within_competence;
	/* handling */
	const struct routing_rule *handling;
	enum routing_outcome outcome;
	const char *to;				/* transfer destination; borrowed */
	uint32_t due_working_days;
	Donthu__V1__FileReason file_reason;
	/* flags, in rule order */
	struct routing_flag flags[ROUTING_MAX_FLAGS];
	size_t nflags;
};

/** Facts that come from the petition alone (and the history's). */
uint64_t routing_petition_facts(const struct routing_rules *rules, const struct cm_register *reg,
				const Donthu__V1__Petition *p, const struct routing_history *h);

/** Eligibility stage: sets eligible, split_advised, ineligible_reason,
 * signer facts and RF_ELIGIBLE. */
void routing_classify(const struct routing_rules *rules, const Donthu__V1__Petition *p,
		      struct routing_decision *d);

/** Competence stage: the first competence rule that matches and whose
 * resolver finds a body active on the day (directly or by successor). */
void routing_competence(const struct routing_rules *rules, const struct cm_register *reg,
			const struct routing_fieldmap *fm, const Donthu__V1__Petition *p,
			const struct routing_history *h, struct routing_decision *d);

/** Handling stage: the first handling rule that matches. */
void routing_handling(const struct routing_rules *rules, const Donthu__V1__Petition *p,
		      struct routing_decision *d);

/** Flag rules (all that match), except transfer_loop, which the caller
 * evaluates when a transfer is made (routing_loop_flag). */
void routing_flags(const struct routing_rules *rules, const Donthu__V1__Petition *p,
		   struct routing_decision *d);

/** The first transfer_loop flag rule that matches facts, or NULL. */
const struct routing_rule *routing_loop_flag(const struct routing_rules *rules, int kind,
					     uint64_t facts);

/** All of it. reg may hold agencies the petition does not name: unknown
 * codes simply resolve to nothing. */
void routing_decide(const struct routing_rules *rules, const struct cm_register *reg,
		    const struct routing_fieldmap *fm, const Donthu__V1__Petition *p,
		    const struct routing_history *h, struct routing_decision *d);

/** Agency by code as of day: itself if active, else its successor chain's
 * active member; NULL when unknown or ended without one. *rehomed (may be
 * NULL) says whether a successor was taken. */
const struct cm_agency *routing_agency_on(const struct cm_register *reg, const char *code,
					  cm_day_t day, bool *rehomed);

#endif

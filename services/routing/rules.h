/*
 * rules.h - the routing rules file (data/routing/rules.json; format in
 * docs/ROUTING.md).
 *
 * Rules are data: each has an id, the legal basis it encodes, conditions
 * ("when") over facts about the petition and its history, and a result. The
 * stages are evaluated in order and the first rule of a stage whose
 * conditions hold decides it:
 *   eligibility -> eligible or not, and why (TT 05/2021 Điều 6 k2)
 *   competence  -> which body is competent (a resolver, below)
 *   handling    -> assign, guide, forward, return or file
 * Flag rules all fire when their conditions hold. Action rules name the id
 * and basis of what routing records when an officer acts (reassign, guide,
 * forward, give back, file away) and of re-homing.
 *
 * Loading checks everything (unknown keys, values, duplicate ids, a stage
 * without a final catch-all rule) and fails with a message naming the
 * rule. A loaded rule set is immutable; reload builds a new one.
 */
#ifndef ROUTING_RULES_H
#define ROUTING_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dedup.h"
#include "donthu/v1/events.pb-c.h"

/* Facts a rule may test, true or false. */
enum routing_fact {
	RF_ANONYMOUS,			/* no identifiable petitioner */
	RF_ANONYMOUS_VERIFIABLE,	/* clear content and evidence (Luật TC Đ25 k2) */
	RF_SIGNED,			/* signature or thumbprint */
	RF_FORWARDED,			/* channel: forwarded by a body or person */
	RF_FORWARDED_BY_STATE_BODY,	/* the forwarder is an agency of the register */
	RF_HAS_ATTACHMENTS,
	RF_HAS_PRIOR_DECISION,
	RF_HAS_FIELD,
	RF_FIELD_LOCAL,			/* the field is one the commune manages */
	RF_HAS_LOCATION,
	RF_SERIOUS_HARM,
	RF_MANY_SIGNERS,		/* signer_count >= threshold */
	RF_DELEGATION,			/* delegation_size >= threshold */
	RF_ELIGIBLE,			/* set by the eligibility stage */
	RF_COMPETENT_FOUND,		/* a resolver other than receiving_agency decided */
	RF_WITHIN_COMPETENCE,		/* set by the competence stage */
	RF_DUPLICATE,			/* similar content, same person and respondent */
	RF_SEVERAL_BODIES,		/* sent to several bodies at once */
	RF_SEVERAL_INCLUDES_COMPETENT,	/* ... one of them the competent body */
	RF_GROUP_OPEN,			/* a case with the same content is open */
	RF_GROUP_GUIDED,		/* the same content was guided before */
	RF_GROUP_FORWARDED,		/* the same content was forwarded before */
	RF_GROUP_DECIDED_IN_EFFECT,	/* the same content was decided, in legal effect */
	RF_TRANSFER_LOOP,		/* a transfer returns to a body that held it */
	RF_TRANSFERRED_HERE,		/* the matter was transferred to this body */
	RF_COUNT,
};

enum routing_stage {
	RS_ELIGIBILITY,
	RS_COMPETENCE,
	RS_HANDLING,
	RS_FLAG,
	RS_ACTION,
	RS_COUNT,
};

/* How a competence rule finds the body. */
enum routing_resolver {
	RR_NONE,
	RR_ISSUING_AGENCY,		/* respondent.issuing_agency */
	RR_SUPERIOR_OF_FIRST_DECIDER,	/* parent of prior_decision.issuing_agency (else issuing) */
	RR_MANAGING_AGENCY,		/* respondent.managing_agency */
	RR_FIELD_DEPARTMENT,		/* the province's department for the field */
	RR_LOCATION_COMMUNE,		/* UBND of the commune of location_unit */
	RR_RECEIVING_AGENCY,
};

enum routing_outcome {
	RO_NONE,
	RO_ASSIGN,
	RO_GUIDE,
	RO_FORWARD,
	RO_RETURN,
	RO_FILE,
};

/* Where a transfer goes. */
enum routing_target {
	RT_COMPETENT,
	RT_FORWARDED_BY,
	RT_RECEIVING,
};

/* Things routing records that are not stage decisions: officers' actions,
 * re-homing and duplicate links. Each has exactly one action rule. */
enum routing_action {
	RA_REASSIGN,
	RA_GUIDE,
	RA_FORWARD,
	RA_GIVE_BACK,
	RA_FILE_AWAY,
	RA_REHOME,
	RA_LINK_REPEAT,		/* DuplicateLinked: a repeat of the same matter */
	RA_LINK_SEVERAL_BODIES,	/* DuplicateLinked: a copy sent to another body */
	RA_LINK_TRANSFERRED,	/* DuplicateLinked: the matter arriving where it was sent */
	RA_COUNT,
};

struct routing_rule {
	char *id;
	char *basis;		/* legal basis, as written in the file */
	enum routing_stage stage;
	/* conditions: bit sets over enum values (bit v for value v), 0 = any */
	uint32_t kinds, rounds, subjects, channels;
	uint64_t facts_true, facts_false;	/* bits of enum routing_fact */
	/* eligibility */
	bool eligible, split_advised;
	char *reason;
	/* competence */
	enum routing_resolver resolver;
	/* handling */
	enum routing_outcome outcome;
	enum routing_target target;
	Donthu__V1__FileReason file_reason;
	uint32_t due_working_days;
	/* flags */
	Donthu__V1__FlagKind flag;
	/* actions */
	enum routing_action action;
};

struct routing_rules {
	char *version;
	uint32_t many_signers, delegation, several_bodies_window_days, legal_effect_days;
	char **local_fields;
	size_t nlocal_fields;
	uint32_t on_behalf_levels;	/* bit per enum cm_agency_level */
	struct routing_dedup_cfg dedup;
	struct routing_rule *rules;	/* in file order within each stage */
	size_t nrules;
	size_t first[RS_COUNT], count[RS_COUNT];
	const struct routing_rule *action[RA_COUNT];
	char sha256[65];		/* of the file's bytes */
};

/** Load and check path. Caller owns *out; free with routing_rules_free().
 * err (may be NULL) gets "rules.json: handling[3] \"kn.guide\": ...".
 * Errors: -ENOENT/-EACCES/-EIO (reading), CM_ECONFIG (content). */
int routing_rules_load(const char *path, struct routing_rules **out, char *err, size_t errlen);
/** Same from a string (tests). name is used in messages. */
int routing_rules_parse(const char *json, size_t len, const char *name, struct routing_rules **out,
			char *err, size_t errlen);
void routing_rules_free(struct routing_rules **r);

/** Whether rule r's conditions hold. facts: bits of enum routing_fact. */
bool routing_rule_matches(const struct routing_rule *r, int kind, int round, int subject,
			  int channel, uint64_t facts);

/** Whether field is one of the rules' local fields. */
bool routing_rules_field_local(const struct routing_rules *r, const char *field);

/** Names, for messages and docs. */
const char *routing_fact_name(enum routing_fact f);

#endif

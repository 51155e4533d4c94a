#include "rules.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/register.h"
#include "common/text.h"

/* A rules file larger than this is a mistake, not a rule set. */
#define MAX_FILE (4u << 20)

static const char *const fact_names[RF_COUNT] = {
	[RF_ANONYMOUS] = "anonymous",
	[RF_ANONYMOUS_VERIFIABLE] = "anonymous_verifiable",
	[RF_SIGNED] = "signed",
	[RF_FORWARDED] = "forwarded",
	[RF_FORWARDED_BY_STATE_BODY] = "forwarded_by_state_body",
	[RF_HAS_ATTACHMENTS] = "has_attachments",
	[RF_HAS_PRIOR_DECISION] = "has_prior_decision",
	[RF_HAS_FIELD] = "has_field",
	[RF_FIELD_LOCAL] = "field_local",
	[RF_HAS_LOCATION] = "has_location",
	[RF_SERIOUS_HARM] = "serious_harm",
	[RF_MANY_SIGNERS] = "many_signers",
	[RF_DELEGATION] = "delegation",
	[RF_ELIGIBLE] = "eligible",
	[RF_COMPETENT_FOUND] = "competent_found",
	[RF_WITHIN_COMPETENCE] = "within_competence",
	[RF_DUPLICATE] = "duplicate",
	[RF_SEVERAL_BODIES] = "several_bodies",
	[RF_SEVERAL_INCLUDES_COMPETENT] = "several_includes_competent",
	[RF_GROUP_OPEN] = "group_open",
	[RF_GROUP_GUIDED] = "group_guided",
	[RF_GROUP_FORWARDED] = "group_forwarded",
	[RF_GROUP_DECIDED_IN_EFFECT] = "group_decided_in_effect",
	[RF_TRANSFER_LOOP] = "transfer_loop",
	[RF_TRANSFERRED_HERE] = "transferred_here",
};

const char *routing_fact_name(enum routing_fact f)
{
	return (unsigned)f < RF_COUNT ? fact_names[f] : "?";
}

struct name_val {
	const char *name;
	int val;
};

static const struct name_val kinds[] = {
	{"complaint", DONTHU__V1__PETITION_KIND__PETITION_KIND_COMPLAINT},
	{"denunciation", DONTHU__V1__PETITION_KIND__PETITION_KIND_DENUNCIATION},
	{"recommendation", DONTHU__V1__PETITION_KIND__PETITION_KIND_RECOMMENDATION},
	{"feedback", DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK},
	{"mixed", DONTHU__V1__PETITION_KIND__PETITION_KIND_MIXED},
	{NULL, 0},
};

static const struct name_val rounds[] = {
	{"none", DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_UNSPECIFIED},
	{"first", DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_FIRST},
	{"second", DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_SECOND},
	{NULL, 0},
};

static const struct name_val subjects[] = {
	{"none", DONTHU__V1__COMPLAINT_SUBJECT__COMPLAINT_SUBJECT_UNSPECIFIED},
	{"administrative_decision",
	 DONTHU__V1__COMPLAINT_SUBJECT__COMPLAINT_SUBJECT_ADMINISTRATIVE_DECISION},
	{"administrative_act", DONTHU__V1__COMPLAINT_SUBJECT__COMPLAINT_SUBJECT_ADMINISTRATIVE_ACT},
	{"disciplinary_decision",
	 DONTHU__V1__COMPLAINT_SUBJECT__COMPLAINT_SUBJECT_DISCIPLINARY_DECISION},
	{NULL, 0},
};

static const struct name_val channels[] = {
	{"in_person", DONTHU__V1__CHANNEL__CHANNEL_IN_PERSON},
	{"post", DONTHU__V1__CHANNEL__CHANNEL_POST},
	{"forwarded", DONTHU__V1__CHANNEL__CHANNEL_FORWARDED},
	{"portal", DONTHU__V1__CHANNEL__CHANNEL_PORTAL},
	{"hotline", DONTHU__V1__CHANNEL__CHANNEL_HOTLINE},
	{"national_database", DONTHU__V1__CHANNEL__CHANNEL_NATIONAL_DATABASE},
	{"email", DONTHU__V1__CHANNEL__CHANNEL_EMAIL},
	{NULL, 0},
};

static const struct name_val resolvers[] = {
	{"issuing_agency", RR_ISSUING_AGENCY},
	{"superior_of_first_decider", RR_SUPERIOR_OF_FIRST_DECIDER},
	{"managing_agency", RR_MANAGING_AGENCY},
	{"field_department", RR_FIELD_DEPARTMENT},
	{"location_commune", RR_LOCATION_COMMUNE},
	{"receiving_agency", RR_RECEIVING_AGENCY},
	{NULL, 0},
};

static const struct name_val outcomes[] = {
	{"assign", RO_ASSIGN}, {"guide", RO_GUIDE},   {"forward", RO_FORWARD},
	{"return", RO_RETURN}, {"file", RO_FILE},     {NULL, 0},
};

static const struct name_val targets[] = {
	{"competent", RT_COMPETENT},
	{"forwarded_by", RT_FORWARDED_BY},
	{"receiving", RT_RECEIVING},
	{NULL, 0},
};

static const struct name_val file_reasons[] = {
	{"ineligible", DONTHU__V1__FILE_REASON__FILE_REASON_INELIGIBLE},
	{"decided_with_legal_effect", DONTHU__V1__FILE_REASON__FILE_REASON_DECIDED_WITH_LEGAL_EFFECT},
	{"concluded_no_new_facts", DONTHU__V1__FILE_REASON__FILE_REASON_CONCLUDED_NO_NEW_FACTS},
	{"duplicate", DONTHU__V1__FILE_REASON__FILE_REASON_DUPLICATE},
	{"anonymous", DONTHU__V1__FILE_REASON__FILE_REASON_ANONYMOUS},
	{"other", DONTHU__V1__FILE_REASON__FILE_REASON_OTHER},
	{NULL, 0},
};

static const struct name_val flags[] = {
	{"many_signers", DONTHU__V1__FLAG_KIND__FLAG_KIND_MANY_SIGNERS},
	{"delegation", DONTHU__V1__FLAG_KIND__FLAG_KIND_DELEGATION},
	{"serious_harm", DONTHU__V1__FLAG_KIND__FLAG_KIND_SERIOUS_HARM},
	{"transfer_loop", DONTHU__V1__FLAG_KIND__FLAG_KIND_TRANSFER_LOOP},
	{"sent_to_several_bodies", DONTHU__V1__FLAG_KIND__FLAG_KIND_SENT_TO_SEVERAL_BODIES},
	{"anonymous_unverifiable", DONTHU__V1__FLAG_KIND__FLAG_KIND_ANONYMOUS_UNVERIFIABLE},
	{NULL, 0},
};

static const struct name_val actions[] = {
	{"reassign", RA_REASSIGN}, {"guide", RA_GUIDE},	      {"forward", RA_FORWARD},
	{"give_back", RA_GIVE_BACK}, {"file_away", RA_FILE_AWAY}, {"rehome", RA_REHOME},
	{"link_repeat", RA_LINK_REPEAT}, {"link_several_bodies", RA_LINK_SEVERAL_BODIES},
	{"link_transferred", RA_LINK_TRANSFERRED},
	{NULL, 0},
};

static const struct name_val levels[] = {
	{"central", CM_LEVEL_CENTRAL},
	{"province", CM_LEVEL_PROVINCE},
	{"commune", CM_LEVEL_COMMUNE},
	{"department", CM_LEVEL_DEPARTMENT},
	{"inspectorate", CM_LEVEL_INSPECTORATE},
	{"office", CM_LEVEL_OFFICE},
	{"reception_board", CM_LEVEL_RECEPTION_BOARD},
	{"public_service_unit", CM_LEVEL_PUBLIC_SERVICE_UNIT},
	{"police", CM_LEVEL_POLICE},
	{"district", CM_LEVEL_DISTRICT},
	{NULL, 0},
};

static const char *const stage_names[RS_COUNT] = {
	"eligibility", "competence", "handling", "flags", "actions",
};

/* ------------------------------------------------------------ parser --- */

struct pctx {
	const char *name;
	char *err;
	size_t errlen;
	char where[160];	/* "handling[3] \"kn.guide\"" */
};

static int fail(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct pctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err)
		snprintf(c->err, c->errlen, "%s: %s%s%s", c->name, c->where, *c->where ? ": " : "",
			 msg);
	return CM_ECONFIG;
}

static int lookup(struct pctx *c, const struct name_val *t, const char *what, const json_t *v,
		  int *out)
{
	const char *s = json_string_value(v);

	if (!s)
		return fail(c, "%s must be a string", what);
	for (; t->name; t++)
		if (strcmp(t->name, s) == 0) {
			*out = t->val;
			return 0;
		}
	return fail(c, "unknown %s \"%s\"", what, s);
}

/* A string or an array of strings, as a bit set of their values. */
static int bitset(struct pctx *c, const struct name_val *t, const char *what, const json_t *v,
		  uint32_t *out)
{
	int val = 0, rc;

	*out = 0;
	if (json_is_string(v)) {
		if ((rc = lookup(c, t, what, v, &val)))
			return rc;
		*out = 1u << val;
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) == 0)
		return fail(c, "%s must be a string or a non-empty array of strings", what);
	for (size_t i = 0; i < json_array_size(v); i++) {
		if ((rc = lookup(c, t, what, json_array_get(v, i), &val)))
			return rc;
		*out |= 1u << val;
	}
	return 0;
}

static int fact_of(const char *key)
{
	for (int f = 0; f < RF_COUNT; f++)
		if (strcmp(fact_names[f], key) == 0)
			return f;
	return -1;
}

static int parse_when(struct pctx *c, const json_t *w, struct routing_rule *r)
{
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(w))
		return fail(c, "\"when\" must be an object");
	json_object_foreach((json_t *)w, key, v) {
		int f;

		if (strcmp(key, "kind") == 0)
			rc = bitset(c, kinds, "kind", v, &r->kinds);
		else if (strcmp(key, "round") == 0)
			rc = bitset(c, rounds, "round", v, &r->rounds);
		else if (strcmp(key, "complaint_subject") == 0)
			rc = bitset(c, subjects, "complaint_subject", v, &r->subjects);
		else if (strcmp(key, "channel") == 0)
			rc = bitset(c, channels, "channel", v, &r->channels);
		else if ((f = fact_of(key)) >= 0) {
			if (!json_is_boolean(v))
				return fail(c, "condition \"%s\" must be true or false", key);
			if (json_is_true(v))
				r->facts_true |= 1ull << f;
			else
				r->facts_false |= 1ull << f;
			rc = 0;
		} else {
			return fail(c, "unknown condition \"%s\"", key);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static char *dup_str(const json_t *v)
{
	return cm_xstrdup(json_string_value(v));
}

static int need_text(struct pctx *c, const json_t *o, const char *key, char **out)
{
	const json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);

	if (!s || !*s)
		return fail(c, "\"%s\" is required (a non-empty string)", key);
	if (cm_text_check(s, strlen(s), CM_TEXT_SINGLE_LINE, NULL) != 0)
		return fail(c, "\"%s\" is not valid single-line UTF-8", key);
	*out = dup_str(v);
	return 0;
}

/* Keys each stage's rules may carry besides id, basis, when and note. */
static bool key_allowed(enum routing_stage st, const char *k)
{
	static const char *const common[] = {"id", "basis", "when", "note"};
	static const char *const per[RS_COUNT][5] = {
		[RS_ELIGIBILITY] = {"eligible", "reason", "split_advised"},
		[RS_COMPETENCE] = {"competent"},
		[RS_HANDLING] = {"outcome", "to", "file_reason", "due_working_days"},
		[RS_FLAG] = {"flag"},
		[RS_ACTION] = {"action"},
	};

	for (size_t i = 0; i < CM_ARRAY_LEN(common); i++)
		if (strcmp(common[i], k) == 0)
			return true;
	for (size_t i = 0; i < 5 && per[st][i]; i++)
		if (strcmp(per[st][i], k) == 0)
			return true;
	return false;
}

static int parse_rule(struct pctx *c, enum routing_stage st, const json_t *o,
		      struct routing_rule *r)
{
	const char *key;
	json_t *v;
	int val = 0, rc;

	r->stage = st;
	if (!json_is_object(o))
		return fail(c, "a rule must be an object");
	json_object_foreach((json_t *)o, key, v) {
		if (!key_allowed(st, key))
			return fail(c, "key \"%s\" does not belong in a %s rule", key,
				    stage_names[st]);
	}
	if ((rc = need_text(c, o, "id", &r->id)))
		return rc;
	snprintf(c->where + strlen(c->where), sizeof(c->where) - strlen(c->where), " \"%s\"",
		 r->id);
	if ((rc = need_text(c, o, "basis", &r->basis)))
		return rc;
	if ((v = json_object_get(o, "when")) && (rc = parse_when(c, v, r)))
		return rc;
	if ((v = json_object_get(o, "note")) && !json_is_string(v))
		return fail(c, "\"note\" must be a string");

	switch (st) {
	case RS_ELIGIBILITY:
		v = json_object_get(o, "eligible");
		if (!json_is_boolean(v))
			return fail(c, "\"eligible\" (true or false) is required");
		r->eligible = json_is_true(v);
		if (!r->eligible && (rc = need_text(c, o, "reason", &r->reason)))
			return rc;
		if (r->eligible && json_object_get(o, "reason"))
			return fail(c, "an eligible result has no \"reason\"");
		v = json_object_get(o, "split_advised");
		if (v && !json_is_boolean(v))
			return fail(c, "\"split_advised\" must be true or false");
		r->split_advised = json_is_true(v);
		break;
	case RS_COMPETENCE:
		if ((rc = lookup(c, resolvers, "competent", json_object_get(o, "competent"), &val)))
			return rc;
		r->resolver = (enum routing_resolver)val;
		break;
	case RS_HANDLING:
		if ((rc = lookup(c, outcomes, "outcome", json_object_get(o, "outcome"), &val)))
			return rc;
		r->outcome = (enum routing_outcome)val;
		r->target = RT_COMPETENT;
		if ((v = json_object_get(o, "to"))) {
			if (r->outcome == RO_FILE)
				return fail(c, "a \"file\" outcome goes nowhere: drop \"to\"");
			if ((rc = lookup(c, targets, "to", v, &val)))
				return rc;
			r->target = (enum routing_target)val;
		}
		if (r->outcome == RO_FILE) {
			if ((rc = lookup(c, file_reasons, "file_reason",
					 json_object_get(o, "file_reason"), &val)))
				return rc;
			r->file_reason = (Donthu__V1__FileReason)val;
		} else if (json_object_get(o, "file_reason")) {
			return fail(c, "\"file_reason\" belongs only to a \"file\" outcome");
		}
		if ((v = json_object_get(o, "due_working_days"))) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 365)
				return fail(c, "\"due_working_days\" must be an integer 0..365");
			if (r->outcome == RO_FILE || r->outcome == RO_ASSIGN)
				return fail(c, "\"due_working_days\" belongs to a transfer");
			r->due_working_days = (uint32_t)json_integer_value(v);
		}
		break;
	case RS_FLAG:
		if ((rc = lookup(c, flags, "flag", json_object_get(o, "flag"), &val)))
			return rc;
		r->flag = (Donthu__V1__FlagKind)val;
		/* A loop is found when an officer acts on a case, where only the
		 * case's kind and facts are known. */
		if (r->flag == DONTHU__V1__FLAG_KIND__FLAG_KIND_TRANSFER_LOOP &&
		    (r->rounds || r->subjects || r->channels))
			return fail(c, "a transfer_loop flag may test only kind and facts");
		break;
	case RS_ACTION:
		if ((rc = lookup(c, actions, "action", json_object_get(o, "action"), &val)))
			return rc;
		r->action = (enum routing_action)val;
		if (json_object_get(o, "when"))
			return fail(c, "action rules have no conditions");
		break;
	default:
		break;
	}
	return 0;
}

static int get_u32(struct pctx *c, const json_t *o, const char *key, uint32_t min, uint32_t max,
		   uint32_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return fail(c, "\"%s\" must be an integer %u..%u", key, min, max);
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int only_keys(struct pctx *c, const json_t *o, const char *const *allowed, size_t n)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		size_t i;
		for (i = 0; i < n; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (i == n)
			return fail(c, "unknown key \"%s\"", key);
	}
	return 0;
}

static int parse_thresholds(struct pctx *c, const json_t *o, struct routing_rules *r)
{
	static const char *const keys[] = {"many_signers", "delegation",
					   "several_bodies_window_days", "legal_effect_days"};
	int rc;

	snprintf(c->where, sizeof(c->where), "thresholds");
	if (!json_is_object(o))
		return fail(c, "\"thresholds\" (an object) is required");
	if ((rc = only_keys(c, o, keys, CM_ARRAY_LEN(keys))) ||
	    (rc = get_u32(c, o, "many_signers", 2, 1000, &r->many_signers)) ||
	    (rc = get_u32(c, o, "delegation", 2, 1000, &r->delegation)) ||
	    (rc = get_u32(c, o, "several_bodies_window_days", 0, 3650,
			  &r->several_bodies_window_days)) ||
	    (rc = get_u32(c, o, "legal_effect_days", 0, 3650, &r->legal_effect_days)))
		return rc;
	return 0;
}

static int parse_dedup(struct pctx *c, const json_t *o, struct routing_rules *r)
{
	static const char *const keys[] = {"threshold", "max_pseudonyms", "stopwords", "synonyms",
					   "note"};
	const json_t *v;
	int rc;

	snprintf(c->where, sizeof(c->where), "dedup");
	if (!json_is_object(o))
		return fail(c, "\"dedup\" (an object) is required");
	if ((rc = only_keys(c, o, keys, CM_ARRAY_LEN(keys))))
		return rc;
	v = json_object_get(o, "threshold");
	if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1)
		return fail(c, "\"threshold\" must be a number in (0, 1]");
	r->dedup.threshold = json_number_value(v);
	if ((rc = get_u32(c, o, "max_pseudonyms", 1, 64, &r->dedup.max_pseudonyms)))
		return rc;
	v = json_object_get(o, "stopwords");
	if (!json_is_array(v))
		return fail(c, "\"stopwords\" must be an array of words");
	for (size_t i = 0; i < json_array_size(v); i++) {
		const char *w = json_string_value(json_array_get(v, i));
		if (!w || !*w || strchr(w, ' '))
			return fail(c, "stopwords[%zu] must be one word", i);
		if (routing_dedup_cfg_add_stopword(&r->dedup, w) != 0)
			return fail(c, "stopwords[%zu] is not valid UTF-8", i);
	}
	v = json_object_get(o, "synonyms");
	if (!json_is_array(v))
		return fail(c, "\"synonyms\" must be an array of groups");
	for (size_t g = 0; g < json_array_size(v); g++) {
		const json_t *grp = json_array_get(v, g);
		const char *ph[32];
		size_t n = json_array_size(grp);
		char msg[200];

		if (!json_is_array(grp) || n < 2 || n > CM_ARRAY_LEN(ph))
			return fail(c, "synonyms[%zu] must be an array of 2..32 phrases", g);
		for (size_t i = 0; i < n; i++)
			if (!(ph[i] = json_string_value(json_array_get(grp, i))))
				return fail(c, "synonyms[%zu][%zu] must be a string", g, i);
		if (routing_dedup_cfg_add_group(&r->dedup, ph, n, msg, sizeof(msg)) != 0)
			return fail(c, "%s", msg);
	}
	routing_dedup_cfg_finish(&r->dedup);
	return 0;
}

static const char *const stage_keys[RS_COUNT] = {
	"eligibility", "competence", "handling", "flags", "actions",
};

static int parse_doc(struct pctx *c, const json_t *root, struct routing_rules *r)
{
	static const char *const keys[] = {"format", "version", "description", "thresholds",
					   "receiving_on_behalf", "local_fields", "dedup",
					   "eligibility", "competence", "handling", "flags",
					   "actions"};
	const json_t *v;
	size_t total = 0;
	int rc;

	if (!json_is_object(root))
		return fail(c, "the document must be a JSON object");
	if ((rc = only_keys(c, root, keys, CM_ARRAY_LEN(keys))))
		return rc;
	v = json_object_get(root, "format");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return fail(c, "\"format\" must be 1");
	if ((rc = need_text(c, root, "version", &r->version)))
		return rc;
	if ((rc = parse_thresholds(c, json_object_get(root, "thresholds"), r)))
		return rc;
	snprintf(c->where, sizeof(c->where), "receiving_on_behalf");
	v = json_object_get(root, "receiving_on_behalf");
	if (!json_is_array(v))
		return fail(c, "must be an array of agency levels");
	for (size_t i = 0; i < json_array_size(v); i++) {
		int lvl = 0;
		if ((rc = lookup(c, levels, "level", json_array_get(v, i), &lvl)))
			return rc;
		r->on_behalf_levels |= 1u << lvl;
	}
	snprintf(c->where, sizeof(c->where), "local_fields");
	v = json_object_get(root, "local_fields");
	if (!json_is_array(v))
		return fail(c, "must be an array of field codes");
	r->nlocal_fields = json_array_size(v);
	r->local_fields = cm_xcalloc(r->nlocal_fields + 1, sizeof(char *));
	for (size_t i = 0; i < r->nlocal_fields; i++) {
		const char *s = json_string_value(json_array_get(v, i));
		if (!s || !*s)
			return fail(c, "local_fields[%zu] must be a field code", i);
		r->local_fields[i] = cm_xstrdup(s);
	}
	if ((rc = parse_dedup(c, json_object_get(root, "dedup"), r)))
		return rc;

	for (int st = 0; st < RS_COUNT; st++) {
		snprintf(c->where, sizeof(c->where), "%s", stage_keys[st]);
		v = json_object_get(root, stage_keys[st]);
		if (!json_is_array(v) || json_array_size(v) == 0)
			return fail(c, "a non-empty array of rules is required");
		total += json_array_size(v);
	}
	r->rules = cm_xcalloc(total, sizeof(*r->rules));
	for (int st = 0; st < RS_COUNT; st++) {
		v = json_object_get(root, stage_keys[st]);
		r->first[st] = r->nrules;
		for (size_t i = 0; i < json_array_size(v); i++) {
			struct routing_rule *rule = &r->rules[r->nrules++];
			snprintf(c->where, sizeof(c->where), "%s[%zu]", stage_keys[st], i);
			if ((rc = parse_rule(c, (enum routing_stage)st, json_array_get(v, i), rule)))
				return rc;
			for (size_t k = 0; k + 1 < r->nrules; k++)
				if (strcmp(r->rules[k].id, rule->id) == 0)
					return fail(c, "id already used by %s rule %zu",
						    stage_keys[r->rules[k].stage], k);
			if (st == RS_ACTION) {
				if (r->action[rule->action])
					return fail(c, "a second rule for the same action");
				r->action[rule->action] = rule;
			}
		}
		r->count[st] = r->nrules - r->first[st];
		/* Every petition must get a decision: the last rule of each
		 * deciding stage holds whatever the facts are. */
		if (st <= RS_HANDLING) {
			const struct routing_rule *last = &r->rules[r->nrules - 1];
			snprintf(c->where, sizeof(c->where), "%s", stage_keys[st]);
			if (last->kinds || last->rounds || last->subjects || last->channels ||
			    last->facts_true || last->facts_false)
				return fail(c, "the last rule (\"%s\") must have no conditions, so "
					       "every petition is decided",
					    last->id);
			if (st == RS_COMPETENCE && last->resolver != RR_RECEIVING_AGENCY)
				return fail(c, "the last rule (\"%s\") must resolve to "
					       "receiving_agency, which always exists",
					    last->id);
		}
	}
	snprintf(c->where, sizeof(c->where), "actions");
	for (int a = 0; a < RA_COUNT; a++)
		if (!r->action[a])
			return fail(c, "no rule for action \"%s\"", actions[a].name);
	c->where[0] = '\0';
	return 0;
}

int routing_rules_parse(const char *json, size_t len, const char *name, struct routing_rules **out,
			char *err, size_t errlen)
{
	struct pctx c = {.name = name, .err = err, .errlen = errlen};
	struct routing_rules *r = cm_xcalloc(1, sizeof(*r));
	json_error_t je;
	json_t *root;
	unsigned char digest[crypto_hash_sha256_BYTES];
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(c.where, sizeof(c.where), "line %d column %d", je.line, je.column);
		rc = fail(&c, "%s", je.text);
		routing_rules_free(&r);
		return rc;
	}
	rc = parse_doc(&c, root, r);
	json_decref(root);
	if (rc) {
		routing_rules_free(&r);
		return rc;
	}
	crypto_hash_sha256(digest, (const unsigned char *)json, len);
	sodium_bin2hex(r->sha256, sizeof(r->sha256), digest, sizeof(digest));
	*out = r;
	return 0;
}

int routing_rules_load(const char *path, struct routing_rules **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	const char *base;
	int rc;

	*out = NULL;
	if (!f) {
		rc = -errno;
		if (err)
			snprintf(err, errlen, "%s: %s", path, cm_strerror(rc));
		return rc;
	}
	buf = cm_xmalloc(MAX_FILE + 1);
	n = fread(buf, 1, MAX_FILE + 1, f);
	if (ferror(f) || n > MAX_FILE) {
		rc = ferror(f) ? -EIO : CM_ECONFIG;
		if (err)
			snprintf(err, errlen, "%s: %s", path,
				 rc == -EIO ? "read error" : "larger than 4 MiB");
		fclose(f);
		free(buf);
		return rc;
	}
	fclose(f);
	base = strrchr(path, '/');
	rc = routing_rules_parse(buf, n, base ? base + 1 : path, out, err, errlen);
	free(buf);
	return rc;
}

void routing_rules_free(struct routing_rules **pr)
{
	struct routing_rules *r = pr ? *pr : NULL;

	if (!r)
		return;
	for (size_t i = 0; i < r->nrules; i++) {
		free(r->rules[i].id);
		free(r->rules[i].basis);
		free(r->rules[i].reason);
	}
	free(r->rules);
	for (size_t i = 0; i < r->nlocal_fields; i++)
		free(r->local_fields[i]);
	free(r->local_fields);
	routing_dedup_cfg_clear(&r->dedup);
	free(r->version);
	free(r);
	*pr = NULL;
}

static bool in_set(uint32_t set, int v)
{
	return set == 0 || (v >= 0 && v < 32 && (set & (1u << v)));
}

bool routing_rule_matches(const struct routing_rule *r, int kind, int round, int subject,
			  int channel, uint64_t facts)
{
	return in_set(r->kinds, kind) && in_set(r->rounds, round) && in_set(r->subjects, subject) &&
	       in_set(r->channels, channel) && (facts & r->facts_true) == r->facts_true &&
	       (facts & r->facts_false) == 0;
}

bool routing_rules_field_local(const struct routing_rules *r, const char *field)
{
	if (!field || !*field)
		return false;
	for (size_t i = 0; i < r->nlocal_fields; i++)
		if (strcmp(r->local_fields[i], field) == 0)
			return true;
	return false;
}

#include "policy.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"

struct dl_policy {
	char *version;
	struct dl_rule *rules;
	size_t nrules;
	struct dl_flag_rule *flags;
	size_t nflags;
	struct dl_reception_rule *reception;
	size_t nreception;
	/* Every string the policy hands out, freed together. */
	char **strs;
	size_t nstrs, capstrs;
};

/* ------------------------------------------------------------ names --- */

static const char *const level_names[DL_LVL_COUNT] = {
	NULL, "warning", "overdue", "head", "chairman", "inspectorate",
};

static const char *const stop_names[DL_STOP_COUNT] = {
	"accept", "refuse",	 "guide",	"forward",     "return",
	"file",	  "filed",	 "not_processed", "decide",    "enforcement",
	"enforced", "recomplaint", "redenounce", "close",	"withdraw",
	"terminate",
};

static const char *const variant_names[DL_VAR_COUNT] = {
	"normal", "complex", "especially_complex", "remote", "remote_complex",
};

static const struct {
	const char *name;
	enum dl_trigger t;
} trigger_names[] = {
	{"received", DL_TRIG_RECEIVED},
	{"accepted", DL_TRIG_ACCEPTED},
	{"decided", DL_TRIG_DECIDED},
	{"redenounced", DL_TRIG_REDENOUNCED},
	{"outside_competence", DL_TRIG_OUTSIDE_COMPETENCE},
	{"elapsed", DL_TRIG_ELAPSED},
};

/* donthu.v1.PetitionKind */
static const char *const kind_names[] = {
	NULL, "complaint", "denunciation", "recommendation", "feedback", "mixed",
};

/* donthu.v1.FlagKind */
static const char *const flag_names[] = {
	NULL,	       "many_signers",	"delegation",		  "serious_harm",
	"transfer_loop", "sent_to_several_bodies", "anonymous_unverifiable",
};

/* donthu.v1.HeadRole */
static const char *const role_names[] = {
	NULL, "commune_chairman", "provincial_chairman", "agency_head", "public_service_unit_head",
};

static const char *const stage_names[] = {
	"handling",	 "unhandled",	  "acceptance",	     "forwarding",
	"resolution.r1", "resolution.r2", "send_decision",   "send_conclusion",
	"legal_effect",	 "followup_decision", "followup_conclusion", "redenunciation_review",
};

const char *dl_level_name(enum dl_level l)
{
	return l > 0 && l < DL_LVL_COUNT ? level_names[l] : "unknown";
}

const char *dl_unit_name(enum dl_unit u)
{
	return u == DL_UNIT_CAL ? "CAL" : u == DL_UNIT_WD ? "WD" : "?";
}

const char *dl_variant_name(enum dl_variant v)
{
	return v < DL_VAR_COUNT ? variant_names[v] : "?";
}

const char *dl_stop_name(enum dl_stop s)
{
	return s < DL_STOP_COUNT ? stop_names[s] : "?";
}

int dl_stop_from_name(const char *s)
{
	for (int i = 0; i < DL_STOP_COUNT; i++)
		if (strcmp(s, stop_names[i]) == 0)
			return i;
	return -1;
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/* ---------------------------------------------------------- loading --- */

struct ld {
	struct dl_policy *p;
	const char *path;
	char *err;
	size_t errlen;
	char where[160];
};

static int fail(struct ld *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct ld *l, const char *fmt, ...)
{
	va_list ap;
	char msg[384];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->err && l->errlen)
		snprintf(l->err, l->errlen, "%s: %s%s%s", l->path, l->where, l->where[0] ? ": " : "",
			 msg);
	return CM_ECONFIG;
}

static const char *keep(struct ld *l, const char *s)
{
	struct dl_policy *p = l->p;

	if (p->nstrs == p->capstrs) {
		p->capstrs = p->capstrs ? p->capstrs * 2 : 64;
		p->strs = cm_xrealloc(p->strs, p->capstrs * sizeof(*p->strs));
	}
	p->strs[p->nstrs] = cm_xstrdup(s);
	return p->strs[p->nstrs++];
}

/* Refuse any key not in allowed (NULL-terminated): a misspelt field must
 * not be silently ignored. */
static int check_keys(struct ld *l, json_t *o, const char *const *allowed)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return fail(l, "an object was expected");
	json_object_foreach(o, k, v) {
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			ok = ok || strcmp(k, allowed[i]) == 0;
		if (!ok)
			return fail(l, "unknown key \"%s\"", k);
	}
	return 0;
}

static int get_str(struct ld *l, json_t *o, const char *key, bool required, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v) {
		if (required)
			return fail(l, "\"%s\" is required", key);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0)
		return fail(l, "\"%s\" must be a non-empty string", key);
	*out = keep(l, json_string_value(v));
	return 0;
}

static int get_uint(struct ld *l, json_t *o, const char *key, bool required, long long min,
		    long long max, long long def, long long *out)
{
	json_t *v = json_object_get(o, key);

	*out = def;
	if (!v) {
		if (required)
			return fail(l, "\"%s\" is required", key);
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return fail(l, "\"%s\" must be an integer in %lld..%lld", key, min, max);
	*out = json_integer_value(v);
	return 0;
}

static int get_bool(struct ld *l, json_t *o, const char *key, bool def, bool *out)
{
	json_t *v = json_object_get(o, key);

	*out = def;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(l, "\"%s\" must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int get_day(struct ld *l, json_t *o, const char *key, bool required, cm_day_t def,
		   cm_day_t *out)
{
	json_t *v = json_object_get(o, key);

	*out = def;
	if (!v) {
		if (required)
			return fail(l, "\"%s\" is required", key);
		return 0;
	}
	if (!json_is_string(v) || cm_day_parse(json_string_value(v), out) != 0)
		return fail(l, "\"%s\" must be a date YYYY-MM-DD", key);
	if (!cal_in_range(*out))
		return fail(l, "\"%s\" is outside %d..%d", key, CAL_FIRST_YEAR, CAL_LAST_YEAR);
	return 0;
}

/* An array of names from `names` into a bit set. */
static int get_names(struct ld *l, json_t *o, const char *key, const char *const *names,
		     size_t n, bool required, uint32_t *bits)
{
	json_t *a = json_object_get(o, key), *v;
	size_t i;

	*bits = 0;
	if (!a) {
		if (required)
			return fail(l, "\"%s\" is required", key);
		return 0;
	}
	if (!json_is_array(a))
		return fail(l, "\"%s\" must be an array of names", key);
	json_array_foreach(a, i, v) {
		int idx;
		if (!json_is_string(v))
			return fail(l, "\"%s\"[%zu] must be a string", key, i);
		idx = name_index(names, n, json_string_value(v));
		if (idx < 0)
			return fail(l, "\"%s\"[%zu]: unknown name \"%s\"", key, i,
				    json_string_value(v));
		if (*bits & (1u << idx))
			return fail(l, "\"%s\"[%zu]: \"%s\" listed twice", key, i,
				    json_string_value(v));
		*bits |= 1u << idx;
	}
	return 0;
}

static int parse_unit(struct ld *l, json_t *o, enum dl_unit *out)
{
	json_t *v = json_object_get(o, "unit");
	const char *s;

	if (!v)
		return fail(l, "\"unit\" is required");
	s = json_is_string(v) ? json_string_value(v) : "";
	if (strcmp(s, "CAL") == 0)
		*out = DL_UNIT_CAL;
	else if (strcmp(s, "WD") == 0)
		*out = DL_UNIT_WD;
	else
		return fail(l, "\"unit\" must be \"CAL\" (calendar days) or \"WD\" (working days)");
	return 0;
}

static int parse_extension(struct ld *l, json_t *o, struct dl_extension *x)
{
	static const char *const count_keys[] = {"mode", "normal", "complex", "especially_complex",
						 NULL};
	static const char *const cap_keys[] = {"mode",	 "normal",	   "complex",
					       "especially_complex", "remote", "remote_complex",
					       NULL};
	json_t *m = json_object_get(o, "mode");
	const char *mode = json_is_string(m) ? json_string_value(m) : "";
	size_t where = strlen(l->where);
	int rc = 0;

	memset(x, 0, sizeof(*x));
	snprintf(l->where + where, sizeof(l->where) - where, ".extension");
	if (strcmp(mode, "count") == 0) {
		x->mode = DL_EXT_COUNT;
		if ((rc = check_keys(l, o, count_keys)))
			goto out;
		for (int c = 0; c < 3; c++) {
			static const char *const ck[] = {"normal", "complex", "especially_complex"};
			static const char *const kk[] = {"count", "days", NULL};
			json_t *e = json_object_get(o, ck[c]);
			long long cnt, days;
			if (!e)
				continue;
			if ((rc = check_keys(l, e, kk)) ||
			    (rc = get_uint(l, e, "count", true, 1, 10, 0, &cnt)) ||
			    (rc = get_uint(l, e, "days", true, 1, 365, 0, &days)))
				goto out;
			x->per[c].count = (uint16_t)cnt;
			x->per[c].days = (uint16_t)days;
		}
	} else if (strcmp(mode, "cap") == 0) {
		x->mode = DL_EXT_CAP;
		if ((rc = check_keys(l, o, cap_keys)))
			goto out;
		for (int v = 0; v < DL_VAR_COUNT; v++) {
			long long cap;
			if ((rc = get_uint(l, o, variant_names[v], false, 1, 3650, 0, &cap)))
				goto out;
			x->cap[v] = (uint16_t)cap;
		}
	} else {
		rc = fail(l, "\"mode\" must be \"count\" or \"cap\"");
	}
out:
	l->where[where] = '\0';
	return rc;
}

static int parse_version(struct ld *l, json_t *o, struct dl_version *v)
{
	static const char *const keys[] = {
		"version",  "effective_from", "length",	     "unit",	   "makeup_saturdays",
		"variants", "extension",      "pauses",	     "pauses_from", "article",
		"confidence", "note",	      NULL,
	};
	json_t *mk, *var, *ext;
	long long n;
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = check_keys(l, o, keys)))
		return rc;
	if ((rc = get_uint(l, o, "version", true, 1, 1000000, 0, &n)))
		return rc;
	v->version = (unsigned)n;
	if ((rc = get_day(l, o, "effective_from", true, 0, &v->effective_from)))
		return rc;
	if ((rc = get_uint(l, o, "length", true, 1, 3650, 0, &n)))
		return rc;
	v->length = (uint16_t)n;
	if ((rc = parse_unit(l, o, &v->unit)))
		return rc;
	mk = json_object_get(o, "makeup_saturdays");
	if (!mk || !json_is_string(mk) ||
	    (strcmp(json_string_value(mk), "count") != 0 &&
	     strcmp(json_string_value(mk), "ignore") != 0))
		return fail(l, "\"makeup_saturdays\" must be \"count\" or \"ignore\"");
	v->ignore_makeup = strcmp(json_string_value(mk), "ignore") == 0;
	var = json_object_get(o, "variants");
	if (var) {
		static const char *const vk[] = {"complex", "especially_complex", "remote",
						 "remote_complex", NULL};
		if ((rc = check_keys(l, var, vk)))
			return rc;
		for (int i = 1; i < DL_VAR_COUNT; i++) {
			if ((rc = get_uint(l, var, variant_names[i], false, 1, 3650, 0, &n)))
				return rc;
			v->variants[i] = (uint16_t)n;
		}
	}
	ext = json_object_get(o, "extension");
	if (ext && (rc = parse_extension(l, ext, &v->ext)))
		return rc;
	if ((rc = get_bool(l, o, "pauses", false, &v->pauses)))
		return rc;
	if ((rc = get_day(l, o, "pauses_from", false, INT32_MIN, &v->pauses_from)))
		return rc;
	if (json_object_get(o, "pauses_from") && !v->pauses)
		return fail(l, "\"pauses_from\" needs \"pauses\": true");
	if ((rc = get_str(l, o, "article", true, &v->article)) ||
	    (rc = get_str(l, o, "confidence", false, &v->confidence)) ||
	    (rc = get_str(l, o, "note", false, &v->note)))
		return rc;
	return 0;
}

static bool id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 48 || s[0] == '.' || s[0] == '~')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static int parse_versions(struct ld *l, json_t *o, struct dl_version **out, size_t *nout)
{
	json_t *a = json_object_get(o, "versions"), *e;
	size_t where = strlen(l->where), i;
	struct dl_version *vs;
	int rc = 0;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return fail(l, "\"versions\" must be a non-empty array");
	vs = cm_xcalloc(json_array_size(a), sizeof(*vs));
	json_array_foreach(a, i, e) {
		snprintf(l->where + where, sizeof(l->where) - where, ".versions[%zu]", i);
		if ((rc = parse_version(l, e, &vs[i])))
			break;
		if (i > 0 && vs[i].version <= vs[i - 1].version) {
			rc = fail(l, "versions must be numbered in increasing order");
			break;
		}
		if (i > 0 && vs[i].effective_from <= vs[i - 1].effective_from) {
			rc = fail(l, "effective_from must increase from one version to the next");
			break;
		}
	}
	l->where[where] = '\0';
	if (rc) {
		free(vs);
		return rc;
	}
	*out = vs;
	*nout = json_array_size(a);
	return 0;
}

static int parse_rule(struct ld *l, json_t *o, struct dl_rule *r, const char **then)
{
	static const char *const keys[] = {
		"id",	   "stage",  "title",	 "kinds",     "subjects",	 "rounds",
		"trigger", "stop_on", "levels", "escalate_at_due", "waiting", "reason",
		"warn_wd", "then",   "versions", NULL,
	};
	static const char *const subject_names[] = {"administrative", "disciplinary"};
	const char *s;
	uint32_t bits;
	long long n;
	json_t *a;
	int rc;

	memset(r, 0, sizeof(*r));
	r->then = -1;
	if ((rc = check_keys(l, o, keys)) || (rc = get_str(l, o, "id", true, &r->id)))
		return rc;
	if (!id_ok(r->id))
		return fail(l, "\"id\" must be 1-48 characters of [a-z0-9._-]");
	snprintf(l->where, sizeof(l->where), "rule %s", r->id);
	if ((rc = get_str(l, o, "stage", true, &r->stage)))
		return rc;
	if (name_index(stage_names, CM_ARRAY_LEN(stage_names), r->stage) < 0)
		return fail(l, "unknown stage \"%s\"", r->stage);
	if ((rc = get_str(l, o, "title", true, &r->title)))
		return rc;
	if ((rc = get_names(l, o, "kinds", kind_names, CM_ARRAY_LEN(kind_names), true, &r->kinds)))
		return rc;
	if (r->kinds == 0)
		return fail(l, "\"kinds\" must name at least one kind");
	if ((rc = get_names(l, o, "subjects", subject_names, 2, false, &bits)))
		return rc;
	r->subjects = (uint8_t)(bits ? bits : 3);
	a = json_object_get(o, "rounds");
	r->rounds = 3;
	if (a) {
		size_t i;
		json_t *v;
		if (!json_is_array(a) || json_array_size(a) == 0)
			return fail(l, "\"rounds\" must be a non-empty array of 1 and/or 2");
		r->rounds = 0;
		json_array_foreach(a, i, v) {
			if (!json_is_integer(v) ||
			    (json_integer_value(v) != 1 && json_integer_value(v) != 2))
				return fail(l, "\"rounds\"[%zu] must be 1 or 2", i);
			r->rounds |= (uint8_t)(1u << (json_integer_value(v) - 1));
		}
	}
	if ((rc = get_str(l, o, "trigger", true, &s)))
		return rc;
	for (size_t i = 0; i < CM_ARRAY_LEN(trigger_names); i++)
		if (strcmp(s, trigger_names[i].name) == 0)
			r->trigger = trigger_names[i].t;
	if (!r->trigger)
		return fail(l, "unknown trigger \"%s\"", s);
	if ((rc = get_names(l, o, "stop_on", stop_names, DL_STOP_COUNT, true, &r->stop_on)))
		return rc;
	if ((rc = get_names(l, o, "levels", level_names, DL_LVL_COUNT, false, &bits)))
		return rc;
	r->levels = (uint8_t)(json_object_get(o, "levels") ? bits : DL_LEVELS_ALL);
	if ((rc = get_bool(l, o, "escalate_at_due", false, &r->escalate_at_due)) ||
	    (rc = get_bool(l, o, "waiting", false, &r->waiting)))
		return rc;
	r->reason = DL_REASON_DEADLINE;
	if ((rc = get_str(l, o, "reason", false, &s)))
		return rc;
	if (s && strcmp(s, "unhandled_45_days") == 0)
		r->reason = DL_REASON_UNHANDLED_45;
	else if (s && strcmp(s, "deadline") != 0)
		return fail(l, "\"reason\" must be \"deadline\" or \"unhandled_45_days\"");
	if ((rc = get_uint(l, o, "warn_wd", false, 0, 60, -1, &n)))
		return rc;
	r->warn_wd = (int)n;
	if ((rc = get_str(l, o, "then", false, then)))
		return rc;
	if (*then && !r->waiting)
		return fail(l, "\"then\" is only for waiting rules");
	if (r->waiting && json_object_get(o, "levels"))
		return fail(l, "a waiting rule raises no escalation: drop \"levels\"");
	if (r->waiting)
		r->levels = 0;
	{
		struct dl_version *vs = NULL;
		if ((rc = parse_versions(l, o, &vs, &r->nversions)))
			return rc;
		r->versions = vs;
	}
	return 0;
}

static int parse_flags(struct ld *l, json_t *a)
{
	static const char *const keys[] = {"kind", "level", "topic", "article", NULL};
	struct dl_policy *p = l->p;
	size_t i;
	json_t *e;
	int rc;

	if (!a)
		return 0;
	if (!json_is_array(a))
		return fail(l, "\"flags\" must be an array");
	p->flags = cm_xcalloc(json_array_size(a) + 1, sizeof(*p->flags));
	json_array_foreach(a, i, e) {
		struct dl_flag_rule *f = &p->flags[p->nflags];
		const char *s;
		snprintf(l->where, sizeof(l->where), "flags[%zu]", i);
		if ((rc = check_keys(l, e, keys)) || (rc = get_str(l, e, "kind", true, &s)))
			return rc;
		f->kind = name_index(flag_names, CM_ARRAY_LEN(flag_names), s);
		if (f->kind < 0)
			return fail(l, "unknown flag kind \"%s\"", s);
		if (dl_policy_flag(p, f->kind))
			return fail(l, "flag kind \"%s\" listed twice", s);
		if ((rc = get_str(l, e, "level", true, &s)))
			return rc;
		f->level = (enum dl_level)name_index(level_names, DL_LVL_COUNT, s);
		if ((int)f->level < 0)
			return fail(l, "unknown level \"%s\"", s);
		if ((rc = get_str(l, e, "topic", false, &f->topic)) ||
		    (rc = get_str(l, e, "article", true, &f->article)))
			return rc;
		p->nflags++;
	}
	return 0;
}

static int parse_reception(struct ld *l, json_t *a)
{
	static const char *const keys[] = {"id", "role", "level", "versions", NULL};
	static const char *const vkeys[] = {"version", "effective_from", "per", "min",
					    "article", "confidence", NULL};
	struct dl_policy *p = l->p;
	size_t i, j;
	json_t *e, *ve;
	int rc;

	if (!a)
		return 0;
	if (!json_is_array(a))
		return fail(l, "\"reception\" must be an array");
	p->reception = cm_xcalloc(json_array_size(a) + 1, sizeof(*p->reception));
	json_array_foreach(a, i, e) {
		struct dl_reception_rule *r = &p->reception[p->nreception];
		struct dl_reception_version *vs;
		json_t *va;
		const char *s;
		snprintf(l->where, sizeof(l->where), "reception[%zu]", i);
		if ((rc = check_keys(l, e, keys)) || (rc = get_str(l, e, "id", true, &r->id)) ||
		    (rc = get_str(l, e, "role", true, &s)))
			return rc;
		r->role = name_index(role_names, CM_ARRAY_LEN(role_names), s);
		if (r->role < 0)
			return fail(l, "unknown role \"%s\"", s);
		if (dl_policy_reception(p, r->role))
			return fail(l, "role \"%s\" listed twice", s);
		if ((rc = get_str(l, e, "level", true, &s)))
			return rc;
		r->level = (enum dl_level)name_index(level_names, DL_LVL_COUNT, s);
		if ((int)r->level < 0)
			return fail(l, "unknown level \"%s\"", s);
		va = json_object_get(e, "versions");
		if (!json_is_array(va) || json_array_size(va) == 0)
			return fail(l, "\"versions\" must be a non-empty array");
		vs = cm_xcalloc(json_array_size(va), sizeof(*vs));
		r->versions = vs;
		p->nreception++;
		json_array_foreach(va, j, ve) {
			long long n;
			snprintf(l->where, sizeof(l->where), "reception[%zu].versions[%zu]", i, j);
			if ((rc = check_keys(l, ve, vkeys)) ||
			    (rc = get_uint(l, ve, "version", true, 1, 1000000, 0, &n)))
				return rc;
			vs[j].version = (unsigned)n;
			if ((rc = get_day(l, ve, "effective_from", true, 0, &vs[j].effective_from)) ||
			    (rc = get_str(l, ve, "per", true, &s)))
				return rc;
			if (strcmp(s, "week") == 0)
				vs[j].per = DL_PER_WEEK;
			else if (strcmp(s, "month") == 0)
				vs[j].per = DL_PER_MONTH;
			else
				return fail(l, "\"per\" must be \"week\" or \"month\"");
			if ((rc = get_uint(l, ve, "min", true, 1, 31, 0, &n)))
				return rc;
			vs[j].min = (unsigned)n;
			if ((rc = get_str(l, ve, "article", true, &vs[j].article)) ||
			    (rc = get_str(l, ve, "confidence", false, &s)))
				return rc;
			if (j > 0 && (vs[j].version <= vs[j - 1].version ||
				      vs[j].effective_from <= vs[j - 1].effective_from))
				return fail(l, "versions must increase in number and effective_from");
			r->nversions = j + 1;
		}
	}
	return 0;
}

static int parse_policy(struct ld *l, json_t *root)
{
	static const char *const keys[] = {"format", "version", "sources", "notes",
					   "rules",  "flags",	"reception", NULL};
	struct dl_policy *p = l->p;
	const char **thens = NULL;
	json_t *rules, *e;
	long long fmt;
	size_t i;
	int rc;

	if ((rc = check_keys(l, root, keys)) ||
	    (rc = get_uint(l, root, "format", true, 1, 1, 1, &fmt)))
		return rc;
	if ((rc = get_str(l, root, "version", true, (const char **)&p->version)))
		return rc;
	if (!json_is_array(json_object_get(root, "sources")) ||
	    json_array_size(json_object_get(root, "sources")) == 0)
		return fail(l, "\"sources\" must be a non-empty array");
	rules = json_object_get(root, "rules");
	if (!json_is_array(rules) || json_array_size(rules) == 0)
		return fail(l, "\"rules\" must be a non-empty array");
	p->rules = cm_xcalloc(json_array_size(rules), sizeof(*p->rules));
	thens = cm_xcalloc(json_array_size(rules), sizeof(*thens));
	json_array_foreach(rules, i, e) {
		snprintf(l->where, sizeof(l->where), "rules[%zu]", i);
		rc = parse_rule(l, e, &p->rules[i], &thens[i]);
		if (p->rules[i].id || p->rules[i].versions)
			p->nrules = i + 1;
		if (rc)
			goto out;
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->rules[j].id, p->rules[i].id) == 0) {
				rc = fail(l, "rule id listed twice");
				goto out;
			}
	}
	for (i = 0; i < p->nrules; i++) {
		struct dl_rule *r = &p->rules[i];
		const struct dl_rule *t;
		if (!thens[i])
			continue;
		snprintf(l->where, sizeof(l->where), "rule %s", r->id);
		t = dl_policy_rule(p, thens[i], strlen(thens[i]));
		if (!t) {
			rc = fail(l, "\"then\" names no rule: %s", thens[i]);
			goto out;
		}
		if (t->trigger != DL_TRIG_ELAPSED) {
			rc = fail(l, "\"then\" rule %s must have trigger \"elapsed\"", thens[i]);
			goto out;
		}
		r->then = (int)(t - p->rules);
	}
	if ((rc = parse_flags(l, json_object_get(root, "flags"))))
		goto out;
	rc = parse_reception(l, json_object_get(root, "reception"));
out:
	free(thens);
	return rc;
}

int dl_policy_load(const char *path, struct dl_policy **out, char *err, size_t errlen)
{
	struct ld l = {.path = path, .err = err, .errlen = errlen};
	json_error_t je;
	json_t *root;
	FILE *f;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, cm_strerror(rc));
		return rc;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!root) {
		if (err && errlen)
			snprintf(err, errlen, "%s: line %d column %d: %s", path, je.line, je.column,
				 je.text);
		return CM_ECONFIG;
	}
	l.p = cm_xcalloc(1, sizeof(*l.p));
	rc = parse_policy(&l, root);
	json_decref(root);
	if (rc) {
		dl_policy_free(&l.p);
		return rc;
	}
	*out = l.p;
	return 0;
}

void dl_policy_free(struct dl_policy **pp)
{
	struct dl_policy *p;

	if (!pp || !*pp)
		return;
	p = *pp;
	for (size_t i = 0; i < p->nrules; i++)
		free((void *)p->rules[i].versions);
	for (size_t i = 0; i < p->nreception; i++)
		free((void *)p->reception[i].versions);
	for (size_t i = 0; i < p->nstrs; i++)
		free(p->strs[i]);
	free(p->strs);
	free(p->rules);
	free(p->flags);
	free(p->reception);
	free(p);
	*pp = NULL;
}

/* ---------------------------------------------------------- queries --- */

const char *dl_policy_version(const struct dl_policy *p)
{
	return p->version;
}

size_t dl_policy_nrules(const struct dl_policy *p)
{
	return p->nrules;
}

const struct dl_rule *dl_policy_rule_at(const struct dl_policy *p, size_t i)
{
	return i < p->nrules ? &p->rules[i] : NULL;
}

const struct dl_rule *dl_policy_rule(const struct dl_policy *p, const char *id, size_t len)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].id && strlen(p->rules[i].id) == len &&
		    memcmp(p->rules[i].id, id, len) == 0)
			return &p->rules[i];
	return NULL;
}

int dl_policy_rule_index(const struct dl_policy *p, const struct dl_rule *r)
{
	return r >= p->rules && r < p->rules + p->nrules ? (int)(r - p->rules) : -1;
}

const struct dl_flag_rule *dl_policy_flag(const struct dl_policy *p, int kind)
{
	for (size_t i = 0; i < p->nflags; i++)
		if (p->flags[i].kind == kind)
			return &p->flags[i];
	return NULL;
}

const struct dl_reception_rule *dl_policy_reception(const struct dl_policy *p, int role)
{
	for (size_t i = 0; i < p->nreception; i++)
		if (p->reception[i].role == role)
			return &p->reception[i];
	return NULL;
}

const struct dl_version *dl_rule_version(const struct dl_rule *r, cm_day_t day)
{
	const struct dl_version *v = NULL;

	for (size_t i = 0; i < r->nversions && r->versions[i].effective_from <= day; i++)
		v = &r->versions[i];
	return v;
}

const struct dl_reception_version *dl_reception_version(const struct dl_reception_rule *r,
							  cm_day_t day)
{
	const struct dl_reception_version *v = NULL;

	for (size_t i = 0; i < r->nversions && r->versions[i].effective_from <= day; i++)
		v = &r->versions[i];
	return v;
}

bool dl_rule_matches(const struct dl_rule *r, int kind, int subject, int round)
{
	if (kind <= 0 || kind > 31 || !(r->kinds & (1u << kind)))
		return false;
	/* Subjects and rounds only narrow complaints: a denunciation has neither. */
	if (kind == 1) {
		if (subject < 1 || subject > 2)
			subject = 1;
		if (!(r->subjects & (1u << (subject - 1))))
			return false;
	}
	if (round < 1 || round > 2)
		round = 1;
	return (r->rounds & (1u << (round - 1))) != 0;
}

/* Variants that apply to a case, in the order that names a tie. */
static void applicable(int complexity, bool remote, bool app[DL_VAR_COUNT])
{
	bool cx = complexity >= DL_CPLX_COMPLEX;

	memset(app, 0, DL_VAR_COUNT * sizeof(bool));
	app[DL_VAR_NORMAL] = true;
	app[DL_VAR_COMPLEX] = cx;
	app[DL_VAR_ESPECIALLY_COMPLEX] = complexity == DL_CPLX_ESPECIALLY;
	app[DL_VAR_REMOTE] = remote;
	app[DL_VAR_REMOTE_COMPLEX] = remote && cx;
}

enum dl_variant dl_version_variant(const struct dl_version *v, int complexity, bool remote)
{
	static const enum dl_variant order[] = {DL_VAR_REMOTE_COMPLEX, DL_VAR_ESPECIALLY_COMPLEX,
						DL_VAR_REMOTE, DL_VAR_COMPLEX};
	enum dl_variant best = DL_VAR_NORMAL;
	unsigned best_len = v->length;
	bool app[DL_VAR_COUNT];

	applicable(complexity, remote, app);
	for (size_t i = 0; i < CM_ARRAY_LEN(order); i++)
		if (app[order[i]] && v->variants[order[i]] > best_len) {
			best = order[i];
			best_len = v->variants[order[i]];
		}
	return best;
}

unsigned dl_version_length(const struct dl_version *v, enum dl_variant var)
{
	if (var == DL_VAR_NORMAL || var >= DL_VAR_COUNT || v->variants[var] == 0)
		return v->length;
	return v->variants[var];
}

int dl_due(const struct cal *cal, enum dl_unit unit, bool ignore_makeup, cm_day_t anchor, int n,
	   cm_day_t *due, struct cal_explain *ex)
{
	unsigned flags = ignore_makeup ? CAL_F_IGNORE_MAKEUP : 0;

	if (unit == DL_UNIT_CAL)
		return cal_add_calendar_days(cal, anchor, n, flags, due, ex);
	if (unit == DL_UNIT_WD)
		return cal_add_working_days(cal, anchor, n, flags, due, ex);
	return -EINVAL;
}

int dl_remaining(const struct cal *cal, enum dl_unit unit, bool ignore_makeup, cm_day_t anchor,
		 int n, cm_day_t s, int *left)
{
	unsigned flags = ignore_makeup ? CAL_F_IGNORE_MAKEUP : 0;
	cm_day_t due;
	int rc;

	if (s < anchor) {
		*left = n;
		return 0;
	}
	if (unit == DL_UNIT_CAL) {
		int64_t l = (int64_t)anchor + n - s;
		*left = l < 0 ? 0 : (int)l;
		return 0;
	}
	if (unit != DL_UNIT_WD)
		return -EINVAL;
	rc = cal_add_working_days(cal, anchor, n, flags, &due, NULL);
	if (rc)
		return rc;
	if (s >= due) {
		*left = 0;
		return 0;
	}
	return cal_count_working_days(cal, s, due, flags, left);
}

static const char *cplx_name(int c)
{
	return c == DL_CPLX_ESPECIALLY ? "especially complex" : c == DL_CPLX_COMPLEX ? "complex"
										    : "normal";
}

int dl_extension_check(const struct dl_version *v, int complexity, bool remote, unsigned count,
		       unsigned total, unsigned days, unsigned *granted, char *why, size_t whylen)
{
	const char *unit = v->unit == DL_UNIT_WD ? "working days" : "days";

	if (why && whylen)
		why[0] = '\0';
	if (complexity < DL_CPLX_NORMAL || complexity > DL_CPLX_ESPECIALLY)
		complexity = DL_CPLX_NORMAL;
	switch (v->ext.mode) {
	case DL_EXT_COUNT: {
		unsigned max = v->ext.per[complexity - 1].count;
		unsigned each = v->ext.per[complexity - 1].days;
		if (max == 0) {
			snprintf(why, whylen,
				 "a %s case may not be extended (only complex or especially complex "
				 "cases may be: %s)",
				 cplx_name(complexity), v->article);
			return CM_ESTATE;
		}
		if (count >= max) {
			snprintf(why, whylen,
				 "beyond the cap: a %s case may be extended %u time%s and it already "
				 "was %u time%s (%s)",
				 cplx_name(complexity), max, max == 1 ? "" : "s", count,
				 count == 1 ? "" : "s", v->article);
			return CM_ESTATE;
		}
		if (days > each) {
			snprintf(why, whylen,
				 "beyond the cap: %u %s asked, each extension of a %s case is at most "
				 "%u %s (%s)",
				 days, unit, cplx_name(complexity), each, unit, v->article);
			return CM_ESTATE;
		}
		*granted = days ? days : each;
		return 0;
	}
	case DL_EXT_CAP: {
		bool app[DL_VAR_COUNT];
		unsigned cap = 0;
		applicable(complexity, remote, app);
		for (int i = 0; i < DL_VAR_COUNT; i++)
			if (app[i] && v->ext.cap[i] > cap)
				cap = v->ext.cap[i];
		if (cap <= total) {
			if (cap == 0)
				snprintf(why, whylen,
					 "a %s%s case may not be extended (%s)", cplx_name(complexity),
					 remote ? ", remote-area" : "", v->article);
			else
				snprintf(why, whylen,
					 "beyond the cap: the period is already %u %s, the most a "
					 "%s%s case may have (%s)",
					 total, unit, cplx_name(complexity),
					 remote ? ", remote-area" : "", v->article);
			return CM_ESTATE;
		}
		if (days == 0) {
			*granted = cap - total;
			return 0;
		}
		if (total + days > cap) {
			snprintf(why, whylen,
				 "beyond the cap: %u + %u = %u %s, but a %s%s case may have at most "
				 "%u %s in total (%s)",
				 total, days, total + days, unit, cplx_name(complexity),
				 remote ? ", remote-area" : "", cap, unit, v->article);
			return CM_ESTATE;
		}
		*granted = days;
		return 0;
	}
	default:
		snprintf(why, whylen, "this period cannot be extended (%s)", v->article);
		return CM_ESTATE;
	}
}

/* ---------------------------------------------------------- explain --- */

struct sb {
	char *buf;
	size_t len, need;
};

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->need < b->len ? b->len - b->need : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->buf + b->need : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->need += (size_t)n;
}

size_t dl_explain(const struct dl_rule *r, const struct dl_version *v, enum dl_variant var,
		  cm_day_t trigger, unsigned length, unsigned ext_days, unsigned ext_count,
		  const char *history, const struct cal_explain *ex, char *buf, size_t len)
{
	struct sb b = {.buf = buf, .len = len};
	char d1[11], d2[11];
	size_t calneed;

	if (buf && len)
		buf[0] = '\0';
	cm_day_format(v->effective_from, d1);
	cm_day_format(trigger, d2);
	sb_printf(&b, "rule %s v%u (%s): %s%s%s%s; version %u in force from %s applies to trigger %s",
		  r->id, v->version, r->title, v->article, v->confidence ? " [" : "",
		  v->confidence ? v->confidence : "", v->confidence ? "]" : "", v->version, d1, d2);
	sb_printf(&b, "; period %u %s", v->length, dl_unit_name(v->unit));
	if (var != DL_VAR_NORMAL)
		sb_printf(&b, ", %s case: %u %s", dl_variant_name(var), length,
			  dl_unit_name(v->unit));
	if (ext_count)
		sb_printf(&b, "; extended %u time%s by %u day%s in all: %u %s", ext_count,
			  ext_count == 1 ? "" : "s", ext_days, ext_days == 1 ? "" : "s",
			  length + ext_days, dl_unit_name(v->unit));
	if (history && *history)
		sb_printf(&b, "; %s", history);
	sb_printf(&b, "; ");
	if (ex) {
		size_t room = b.need < b.len ? b.len - b.need : 0;
		calneed = cal_explain_format(ex, room ? b.buf + b.need : NULL, room);
		b.need += calneed;
	}
	if (buf && len && b.need >= len)
		buf[len - 1] = '\0';
	return b.need;
}

#include "classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

#define BIT(f) (1ull << (f))
/* Deeper parent chains than this do not exist; the bound only guards
 * against a register that slipped a cycle past its loader. */
#define MAX_DEPTH 64

static bool empty(const char *s)
{
	return !s || !*s;
}

/* ---------------------------------------------------------- fieldmap --- */

struct fm_entry {
	const char *province, *field;
	size_t order;
	const struct cm_agency *a;
};

struct routing_fieldmap {
	struct fm_entry *e;
	size_t n;
};

const char *routing_province_of(const struct cm_register *reg, const struct cm_agency *a)
{
	for (int depth = 0; a && depth < MAX_DEPTH; depth++) {
		if (a->level == CM_LEVEL_PROVINCE)
			return a->code;
		a = cm_register_parent(reg, a);
	}
	return "";
}

static int cmp_entry(const void *x, const void *y)
{
	const struct fm_entry *a = x, *b = y;
	int c = strcmp(a->province, b->province);

	if (c)
		return c;
	if ((c = strcmp(a->field, b->field)))
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Bodies that manage a sector for the whole province. Offices and reception
 * boards list fields such as tiếp công dân for their own work, not as the
 * body in charge of them. */
static bool sector_level(enum cm_agency_level l)
{
	return l == CM_LEVEL_DEPARTMENT || l == CM_LEVEL_INSPECTORATE || l == CM_LEVEL_POLICE ||
	       l == CM_LEVEL_PUBLIC_SERVICE_UNIT || l == CM_LEVEL_CENTRAL;
}

struct routing_fieldmap *routing_fieldmap_build(const struct cm_register *reg)
{
	struct routing_fieldmap *m = cm_xcalloc(1, sizeof(*m));
	size_t cap = 0, n = cm_register_agency_count(reg);

	for (size_t i = 0; i < n; i++) {
		const struct cm_agency *a = cm_register_agency_at(reg, i);
		const char *prov;

		if (!a || !sector_level(a->level))
			continue;
		prov = routing_province_of(reg, a);
		for (size_t k = 0; k < a->nfields; k++) {
			if (m->n == cap) {
				cap = cap ? cap * 2 : 256;
				m->e = cm_xrealloc(m->e, cap * sizeof(*m->e));
			}
			m->e[m->n++] = (struct fm_entry){prov, a->fields[k], i, a};
		}
	}
	if (m->n)
		qsort(m->e, m->n, sizeof(*m->e), cmp_entry);
	return m;
}

void routing_fieldmap_free(struct routing_fieldmap **pm)
{
	if (!pm || !*pm)
		return;
	free((*pm)->e);
	free(*pm);
	*pm = NULL;
}

const struct cm_agency *routing_fieldmap_find(const struct routing_fieldmap *m,
					      const struct cm_register *reg, const char *province,
					      const char *field, cm_day_t day)
{
	size_t lo = 0, hi = m->n;

	(void)reg;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->e[mid].province, province);

		if (c == 0)
			c = strcmp(m->e[mid].field, field);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < m->n && strcmp(m->e[lo].province, province) == 0 &&
	       strcmp(m->e[lo].field, field) == 0;
	     lo++)
		if (cm_agency_active(m->e[lo].a, day))
			return m->e[lo].a;
	return NULL;
}

/* -------------------------------------------------------- competence --- */

const struct cm_agency *routing_agency_on(const struct cm_register *reg, const char *code,
					  cm_day_t day, bool *rehomed)
{
	const struct cm_agency *a, *r;

	if (rehomed)
		*rehomed = false;
	if (empty(code) || !(a = cm_register_agency(reg, code)))
		return NULL;
	if (cm_agency_active(a, day))
		return a;
	r = cm_register_resolve(reg, code, day);
	if (r && rehomed)
		*rehomed = true;
	return r;
}

/* The province a petition is about: its place's, else the receiving body's. */
static const char *petition_province(const struct cm_register *reg, const Donthu__V1__Petition *p,
				     const struct cm_agency *receiving, cm_day_t day)
{
	if (!empty(p->location_unit)) {
		const struct cm_agency *c = cm_register_commune_of_unit(reg, p->location_unit, day);
		if (c)
			return routing_province_of(reg, c);
	}
	return receiving ? routing_province_of(reg, receiving) : "";
}

/* The agency code a resolver names, or NULL; *direct is set when the
 * resolver already returned a body active on day. */
static const char *resolve(const struct routing_rule *r, const struct cm_register *reg,
			   const struct routing_fieldmap *fm, const Donthu__V1__Petition *p,
			   const struct cm_agency *receiving, cm_day_t day)
{
	const Donthu__V1__Respondent *resp = p->respondent;
	const struct cm_agency *a;

	switch (r->resolver) {
	case RR_ISSUING_AGENCY:
		return resp && !empty(resp->issuing_agency) ? resp->issuing_agency : NULL;
	case RR_SUPERIOR_OF_FIRST_DECIDER: {
		const char *decider = p->prior_decision && !empty(p->prior_decision->issuing_agency)
					      ? p->prior_decision->issuing_agency
				      : resp ? resp->issuing_agency
					     : NULL;
		/* The superior as the register records it for the body that
		 * decided, even if that body has since ended: a district's
		 * first-round decision goes up to the province. */
		if (empty(decider) || !(a = cm_register_agency(reg, decider)))
			return NULL;
		a = cm_register_parent(reg, a);
		return a ? a->code : NULL;
	}
	case RR_MANAGING_AGENCY:
		return resp && !empty(resp->managing_agency) ? resp->managing_agency : NULL;
	case RR_FIELD_DEPARTMENT: {
		const char *prov;
		if (empty(p->field))
			return NULL;
		prov = petition_province(reg, p, receiving, day);
		a = routing_fieldmap_find(fm, reg, prov, p->field, day);
		if (!a && *prov)
			a = routing_fieldmap_find(fm, reg, "", p->field, day);
		return a ? a->code : NULL;
	}
	case RR_LOCATION_COMMUNE:
		if (empty(p->location_unit))
			return NULL;
		a = cm_register_commune_of_unit(reg, p->location_unit, day);
		return a ? a->code : NULL;
	case RR_RECEIVING_AGENCY:
		return p->receiving_agency;
	default:
		return NULL;
	}
}

static bool copy_reached(const struct cm_register *reg, const char *code, cm_day_t day,
			 const struct cm_agency *competent)
{
	return competent && routing_agency_on(reg, code, day, NULL) == competent;
}

void routing_competence(const struct routing_rules *rules, const struct cm_register *reg,
			const struct routing_fieldmap *fm, const Donthu__V1__Petition *p,
			const struct routing_history *h, struct routing_decision *d)
{
	const struct cm_agency *recv = routing_agency_on(reg, p->receiving_agency, d->day, NULL);

	d->receiving = recv;
	for (size_t i = 0; i < rules->count[RS_COMPETENCE]; i++) {
		const struct routing_rule *r = &rules->rules[rules->first[RS_COMPETENCE] + i];
		const struct cm_agency *a;
		const char *code;
		bool rehomed;

		if (!routing_rule_matches(r, (int)p->kind, (int)p->round, (int)p->complaint_subject,
					  (int)p->channel, d->facts))
			continue;
		code = resolve(r, reg, fm, p, recv, d->day);
		if (!code || !(a = routing_agency_on(reg, code, d->day, &rehomed)))
			continue;
		d->competence = r;
		d->competent = a;
		d->rehomed = rehomed;
		snprintf(d->declared, sizeof(d->declared), "%s", code);
		if (r->resolver != RR_RECEIVING_AGENCY)
			d->facts |= BIT(RF_COMPETENT_FOUND);
		break;
	}
	if (!d->competence) {
		/* Even the receiving body is unknown on that day: name the last
		 * rule so the decision still says which rule applied. */
		d->competence = &rules->rules[rules->first[RS_COMPETENCE] +
					      rules->count[RS_COMPETENCE] - 1];
		snprintf(d->declared, sizeof(d->declared), "%s",
			 p->receiving_agency ? p->receiving_agency : "");
	}
	/* A reception board or office receives for the head of the body above
	 * it (Luật TCD Điều 13): what that head must decide is within its
	 * competence. */
	if (d->competent && recv &&
	    (d->competent == recv ||
	     ((rules->on_behalf_levels & (1u << recv->level)) &&
	      cm_register_is_under(reg, recv, d->competent))))
		d->within_competence = true;
	if (d->within_competence)
		d->facts |= BIT(RF_WITHIN_COMPETENCE);
	for (size_t i = 0; i < p->n_also_sent_to; i++)
		if (copy_reached(reg, p->also_sent_to[i], d->day, d->competent))
			d->facts |= BIT(RF_SEVERAL_INCLUDES_COMPETENT);
	for (size_t i = 0; h && i < h->ncopies; i++)
		if (copy_reached(reg, h->copies[i], d->day, d->competent))
			d->facts |= BIT(RF_SEVERAL_INCLUDES_COMPETENT);
}

void routing_handling(const struct routing_rules *rules, const Donthu__V1__Petition *p,
		      struct routing_decision *d)
{
	const struct routing_rule *r = NULL;
	const char *competent = d->competent ? d->competent->code : NULL;
	const char *receiving = d->receiving ? d->receiving->code : p->receiving_agency;

	for (size_t i = 0; i < rules->count[RS_HANDLING]; i++) {
		r = &rules->rules[rules->first[RS_HANDLING] + i];
		if (routing_rule_matches(r, (int)p->kind, (int)p->round, (int)p->complaint_subject,
					 (int)p->channel, d->facts))
			break;
	}
	d->handling = r;
	d->outcome = r->outcome;
	d->file_reason = r->file_reason;
	d->due_working_days = r->due_working_days;
	switch (r->target) {
	case RT_FORWARDED_BY:
		d->to = !empty(p->forwarded_by) ? p->forwarded_by : receiving;
		break;
	case RT_RECEIVING:
		d->to = receiving;
		break;
	default:
		d->to = competent ? competent : receiving;
		break;
	}
	if (d->outcome == RO_FILE)
		d->to = NULL;
}

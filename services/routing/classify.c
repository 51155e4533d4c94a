#include "classify.h"

#include <string.h>

#define BIT(f) (1ull << (f))

static bool empty(const char *s)
{
	return !s || !*s;
}

uint64_t routing_petition_facts(const struct routing_rules *rules, const struct cm_register *reg,
				const Donthu__V1__Petition *p, const struct routing_history *h)
{
	uint64_t f = 0;

	if (p->anonymous)
		f |= BIT(RF_ANONYMOUS);
	if (p->anonymous_verifiable)
		f |= BIT(RF_ANONYMOUS_VERIFIABLE);
	if (p->signed_)
		f |= BIT(RF_SIGNED);
	if (p->channel == DONTHU__V1__CHANNEL__CHANNEL_FORWARDED)
		f |= BIT(RF_FORWARDED);
	/* A forwarder named by a register code is a state body; deputies, the
	 * Fatherland Front and the press are not in the register (TT 07/2014
	 * Điều 8 k2 treats them differently). */
	if (!empty(p->forwarded_by) && cm_register_agency(reg, p->forwarded_by))
		f |= BIT(RF_FORWARDED_BY_STATE_BODY);
	if (p->n_attachments)
		f |= BIT(RF_HAS_ATTACHMENTS);
	if (p->prior_decision && !empty(p->prior_decision->number))
		f |= BIT(RF_HAS_PRIOR_DECISION);
	if (!empty(p->field))
		f |= BIT(RF_HAS_FIELD);
	if (routing_rules_field_local(rules, p->field))
		f |= BIT(RF_FIELD_LOCAL);
	if (!empty(p->location_unit))
		f |= BIT(RF_HAS_LOCATION);
	if (p->serious_harm)
		f |= BIT(RF_SERIOUS_HARM);
	if (p->signer_count >= rules->many_signers)
		f |= BIT(RF_MANY_SIGNERS);
	if (p->delegation_size >= rules->delegation)
		f |= BIT(RF_DELEGATION);
	if (h) {
		if (h->duplicate)
			f |= BIT(RF_DUPLICATE);
		if (h->several_bodies)
			f |= BIT(RF_SEVERAL_BODIES);
		if (h->group_open)
			f |= BIT(RF_GROUP_OPEN);
		if (h->group_guided)
			f |= BIT(RF_GROUP_GUIDED);
		if (h->group_forwarded)
			f |= BIT(RF_GROUP_FORWARDED);
		if (h->group_decided_in_effect)
			f |= BIT(RF_GROUP_DECIDED_IN_EFFECT);
		if (h->transferred_here)
			f |= BIT(RF_TRANSFERRED_HERE);
	}
	if (p->n_also_sent_to)
		f |= BIT(RF_SEVERAL_BODIES);
	return f;
}

static bool matches(const struct routing_rule *r, const Donthu__V1__Petition *p, uint64_t facts)
{
	return routing_rule_matches(r, (int)p->kind, (int)p->round, (int)p->complaint_subject,
				    (int)p->channel, facts);
}

void routing_classify(const struct routing_rules *rules, const Donthu__V1__Petition *p,
		      struct routing_decision *d)
{
	const struct routing_rule *r = NULL;

	d->kind = (int)p->kind;
	d->signer_count = p->signer_count ? p->signer_count : 1;
	d->many_signers = d->facts & BIT(RF_MANY_SIGNERS);
	d->delegation = d->facts & BIT(RF_DELEGATION);
	for (size_t i = 0; i < rules->count[RS_ELIGIBILITY]; i++) {
		r = &rules->rules[rules->first[RS_ELIGIBILITY] + i];
		if (matches(r, p, d->facts))
			break;
	}
	/* The loader guarantees a final catch-all, so r always matched. */
	d->eligibility = r;
	d->eligible = r->eligible;
	d->split_advised = r->split_advised;
	d->ineligible_reason = r->eligible ? NULL : r->reason;
	if (d->eligible)
		d->facts |= BIT(RF_ELIGIBLE);
}

void routing_flags(const struct routing_rules *rules, const Donthu__V1__Petition *p,
		   struct routing_decision *d)
{
	d->nflags = 0;
	for (size_t i = 0; i < rules->count[RS_FLAG] && d->nflags < ROUTING_MAX_FLAGS; i++) {
		const struct routing_rule *r = &rules->rules[rules->first[RS_FLAG] + i];
		struct routing_flag *f;

		if (r->flag == DONTHU__V1__FLAG_KIND__FLAG_KIND_TRANSFER_LOOP || !matches(r, p, d->facts))
			continue;
		/* One flag of a kind per petition, from its first rule. */
		for (f = d->flags; f < d->flags + d->nflags; f++)
			if (f->kind == r->flag)
				break;
		if (f < d->flags + d->nflags)
			continue;
		f->kind = r->flag;
		f->rule = r;
		switch (r->flag) {
		case DONTHU__V1__FLAG_KIND__FLAG_KIND_MANY_SIGNERS:
			f->count = p->signer_count;
			break;
		case DONTHU__V1__FLAG_KIND__FLAG_KIND_DELEGATION:
			f->count = p->delegation_size;
			break;
		case DONTHU__V1__FLAG_KIND__FLAG_KIND_SENT_TO_SEVERAL_BODIES:
			f->count = 1 + (uint32_t)p->n_also_sent_to;
			break;
		default:
			f->count = 1;
			break;
		}
		d->nflags++;
	}
}

const struct routing_rule *routing_loop_flag(const struct routing_rules *rules, int kind,
					     uint64_t facts)
{
	for (size_t i = 0; i < rules->count[RS_FLAG]; i++) {
		const struct routing_rule *r = &rules->rules[rules->first[RS_FLAG] + i];

		if (r->flag == DONTHU__V1__FLAG_KIND__FLAG_KIND_TRANSFER_LOOP &&
		    routing_rule_matches(r, kind, -1, -1, -1, facts | BIT(RF_TRANSFER_LOOP)))
			return r;
	}
	return NULL;
}

void routing_decide(const struct routing_rules *rules, const struct cm_register *reg,
		    const struct routing_fieldmap *fm, const Donthu__V1__Petition *p,
		    const struct routing_history *h, struct routing_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->day = cm_day_of_ms(p->received_at_ms);
	d->facts = routing_petition_facts(rules, reg, p, h);
	routing_classify(rules, p, d);
	routing_competence(rules, reg, fm, p, h, d);
	routing_handling(rules, p, d);
	routing_flags(rules, p, d);
}

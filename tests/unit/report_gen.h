/*
 * report_gen.h - synthetic intake, routing and deadline feeds for a province
 * (tests and bench of the report service).
 *
 * Deterministic for a seed: the same parameters give the same packed
 * envelopes. Each case gets a petition, a handling outcome, and for accepted
 * cases a resolution, enforcement, clocks and escalations; some petitions are
 * linked duplicates, some cases come with reception-book lines. Per case the
 * events are in causal order, and each feed is sorted by event time, as the
 * real services would append them.
 */
#ifndef REPORT_GEN_H
#define REPORT_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"

struct gen_event {
	uint8_t *buf;		/* packed Envelope (producer, sequence set) */
	size_t len;
	int64_t at_ms;
};

struct gen_feed {
	const char *producer;
	struct gen_event *ev;
	size_t n, cap;
};

struct gen_params {
	uint64_t seed;
	size_t cases;
	cm_day_t first_day, last_day;	/* receipt days */
	const char *const *agencies;	/* receiving agencies */
	size_t nagencies;
	const char *const *fields;	/* field codes, "" allowed */
	size_t nfields;
};

/** Generate into feeds[0..2] (intake, routing, deadline). Free with gen_free. */
void gen_feeds(const struct gen_params *p, struct gen_feed feeds[3]);
void gen_free(struct gen_feed feeds[3]);

#endif

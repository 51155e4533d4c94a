/*
 * routing_corpus.h - a generated corpus of Vietnamese petitions for the
 * duplicate detector: matters written by the same people about the same
 * bodies, submitted again as paraphrases (word order, diacritics dropped,
 * typos, synonyms), near-copies, and follow-ups, mixed with unrelated
 * matters about the same body. Deterministic for a seed.
 */
#ifndef ROUTING_CORPUS_H
#define ROUTING_CORPUS_H

#include <stddef.h>
#include <stdint.h>

struct corpus_doc {
	uint32_t person;	/* petitioner number */
	uint32_t matter;	/* ground truth: same matter = duplicate */
	const char *respondent; /* name of the body or person complained of */
	char *summary, *text;	/* owned */
	const char *variant;	/* "original", "order", "no-diacritics", ... */
};

struct corpus {
	struct corpus_doc *docs;
	size_t n;
};

/** Build a corpus of about persons * 7 petitions in submission order.
 * Caller frees with corpus_free(). */
void corpus_build(struct corpus *c, uint32_t persons, uint64_t seed);
void corpus_free(struct corpus *c);

/** One matter's text rendered for person p (used by the bench to fill
 * petitions with realistic content). Caller frees. */
char *corpus_text(uint32_t matter, uint32_t person);
size_t corpus_matter_count(void);

#endif

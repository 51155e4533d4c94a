/*
 * dedup.h - duplicate and repeat detection: text sketches and their index.
 *
 * A petition's content (summary and text) is folded (cm_text_fold: case and
 * Vietnamese diacritics removed), rewritten through the synonym list of
 * rules.json, stripped of stop words, and turned into a set of features:
 * the character trigrams of every word (robust to typos and word order) and
 * the pairs of adjacent words (which tell two different matters about the
 * same body apart). The set is summarised by its ROUTING_SKETCH_K smallest
 * feature hashes (a bottom-k sketch); two sketches estimate the Jaccard
 * similarity of the two feature sets.
 *
 * The index lives in LMDB: one key per (person key, feature, case serial) for
 * the ROUTING_INDEX_K smallest features of each case, where the person key
 * hashes the petitioner's pseudonym with the folded respondent. A lookup
 * seeks ROUTING_INDEX_K key prefixes and reads only the entries of that
 * person and respondent, so its cost does not grow with the number of cases
 * indexed (only with one person's own petitions and the B-tree depth).
 */
#ifndef ROUTING_DEDUP_H
#define ROUTING_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/store.h"

#define ROUTING_SKETCH_K 64
#define ROUTING_INDEX_K 8
#define ROUTING_PSEUDONYM_BYTES 32

/* One phrase of a synonym group, as folded words. */
struct routing_phrase {
	char **words;
	size_t nwords;
	size_t group;	/* index of the group; its first phrase is canonical */
	uint64_t first;	/* hash of words[0] */
};

/* One word hash that is a stop word or starts a phrase: sketching looks
 * every word up, and one probe here costs far less than two binary
 * searches that mispredict on every step. */
struct routing_word_slot {
	uint64_t h;
	uint32_t phrase;	/* 1 + index of the first phrase starting with h, or 0 */
	bool used, stop;
};

/* What cm_text_fold does to one code point of the Latin and Vietnamese
 * ranges, learnt from cm_text_fold itself when the rules are loaded. */
struct routing_fold_entry {
	uint8_t kind;	/* 0 not learnt (fall back), 1 separator, 2 dropped, 3 mapped */
	uint8_t len;
	char s[10];
};

/* The matching configuration (from rules.json "dedup"). */
struct routing_dedup_cfg {
	double threshold;	  /* similarity at or above which texts match */
	uint32_t max_pseudonyms;  /* petitioners indexed per petition */
	uint64_t *stop;		  /* sorted hashes of folded stop words */
	size_t nstop;
	struct routing_phrase *phrases; /* sorted by first word, longest first */
	size_t nphrases;
	size_t *canonical;	  /* group -> index of its canonical phrase */
	size_t ngroups;
	struct routing_fold_entry *fold; /* ROUTING_FOLD_SPAN entries, or NULL */
	struct routing_word_slot *words; /* hash set over stop and phrase words */
	size_t wmask;			  /* slots - 1 (a power of two minus one) */
};

#define ROUTING_FOLD_SPAN 0x3c0

/** Release what a loader put in c (not c itself). */
void routing_dedup_cfg_clear(struct routing_dedup_cfg *c);

/** Build the stop-word and synonym tables from folded word lists; called
 * by the rules loader. words/phrases are copied. Errors: CM_EINVALID when a
 * phrase is empty or not valid UTF-8 (err names it). */
int routing_dedup_cfg_add_stopword(struct routing_dedup_cfg *c, const char *word);
int routing_dedup_cfg_add_group(struct routing_dedup_cfg *c, const char *const *phrases,
				size_t n, char *err, size_t errlen);
/** Sort the tables once everything is added, and learn the fold table. */
void routing_dedup_cfg_finish(struct routing_dedup_cfg *c);

/** Exactly cm_text_fold(s) (test_routing_dedup checks it), several times
 * faster on Vietnamese text: code points of U+0000-024F, U+0300-036F and
 * U+1E00-1EFF use a table learnt from cm_text_fold per code point; a string
 * holding anything else goes through cm_text_fold whole. Caller frees *out.
 * Errors: CM_EINVALID (not UTF-8). */
int routing_fold(const struct routing_dedup_cfg *c, const char *s, char **out);

struct routing_sketch {
	uint32_t n;			/* values used, <= ROUTING_SKETCH_K */
	uint32_t h[ROUTING_SKETCH_K];	/* ascending, distinct */
};

/** Sketch the content of a petition (either string may be NULL or empty).
 * Pure and deterministic. Errors: CM_EINVALID (not UTF-8). An empty content
 * gives n = 0, which matches nothing. */
int routing_sketch_text(const struct routing_dedup_cfg *c, const char *summary, const char *text,
			struct routing_sketch *out);

/** Estimated Jaccard similarity of the two feature sets, 0..1; 0 when either
 * is empty. */
double routing_sketch_similarity(const struct routing_sketch *a, const struct routing_sketch *b);

/** The folded respondent key used for "same respondent": its name, else the
 * agency whose decision is complained of, else the managing agency, else "".
 * Caller frees *out. Errors: CM_EINVALID. */
int routing_respondent_key(const char *name, const char *issuing, const char *managing, char **out);

/** Hash of (pseudonym, respondent key): the first part of every index key. */
uint64_t routing_person_key(const uint8_t *pseudonym, size_t len, const char *respondent_key);

/** Index case serial under person key pk with sketch s, inside t (dbi: the
 * index sub-database). Errors: store errors. */
int routing_dedup_add(struct cm_txn *t, unsigned dbi, uint64_t pk, const struct routing_sketch *s,
		      uint64_t serial);

/** Case serials indexed under pk that share at least one indexed feature
 * with s, ascending and distinct: *out (caller frees; NULL when none), *n
 * the count, *visited (may be NULL) the index entries read, which a lookup
 * caps at 65,536. Errors: store errors (*out is NULL then). */
int routing_dedup_candidates(struct cm_txn *t, unsigned dbi, uint64_t pk,
			     const struct routing_sketch *s, uint64_t **out, size_t *n,
			     size_t *visited);

#endif

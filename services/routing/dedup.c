#include "dedup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/text.h"

/* A petition longer than this is sketched on its first words: a repeat is
 * recognisable long before the end, and the cost stays bounded. */
#define MAX_WORDS 4096
#define KEY_LEN 20

/* FNV-1a over bytes, finished with the splitmix64 mixer so that the low
 * values a bottom-k sketch keeps are spread evenly over all features. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_SEED 0xcbf29ce484222325ULL

static uint64_t word_hash(const char *s, size_t n)
{
	return mix64(fnv(FNV_SEED, s, n));
}

/* ---------------------------------------------------------- config --- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void routing_dedup_cfg_clear(struct routing_dedup_cfg *c)
{
	free(c->stop);
	for (size_t i = 0; i < c->nphrases; i++) {
		for (size_t k = 0; k < c->phrases[i].nwords; k++)
			free(c->phrases[i].words[k]);
		free(c->phrases[i].words);
	}
	free(c->phrases);
	free(c->canonical);
	memset(c, 0, sizeof(*c));
}

int routing_dedup_cfg_add_stopword(struct routing_dedup_cfg *c, const char *word)
{
	char *f = NULL;
	int rc = cm_text_fold(word, &f);

	if (rc)
		return rc;
	c->stop = cm_xrealloc(c->stop, (c->nstop + 1) * sizeof(*c->stop));
	c->stop[c->nstop++] = word_hash(f, strlen(f));
	free(f);
	return 0;
}

static size_t split_words(char *s, char ***out)
{
	size_t n = 0, cap = 8;
	char **w = cm_xmalloc(cap * sizeof(*w));

	for (char *p = strtok(s, " "); p; p = strtok(NULL, " ")) {
		if (n == cap) {
			cap *= 2;
			w = cm_xrealloc(w, cap * sizeof(*w));
		}
		w[n++] = cm_xstrdup(p);
	}
	*out = w;
	return n;
}

int routing_dedup_cfg_add_group(struct routing_dedup_cfg *c, const char *const *phrases,
				size_t n, char *err, size_t errlen)
{
	size_t first = c->nphrases;

	for (size_t i = 0; i < n; i++) {
		struct routing_phrase ph = {.group = c->ngroups};
		char *f = NULL;

		if (cm_text_fold(phrases[i], &f) != 0) {
			snprintf(err, errlen, "synonym \"%s\" is not valid UTF-8", phrases[i]);
			return CM_EINVALID;
		}
		ph.nwords = split_words(f, &ph.words);
		free(f);
		if (ph.nwords == 0) {
			free(ph.words);
			snprintf(err, errlen, "synonym phrase %zu of group %zu is empty", i,
				 c->ngroups);
			return CM_EINVALID;
		}
		c->phrases = cm_xrealloc(c->phrases, (c->nphrases + 1) * sizeof(*c->phrases));
		c->phrases[c->nphrases++] = ph;
	}
	c->canonical = cm_xrealloc(c->canonical, (c->ngroups + 1) * sizeof(*c->canonical));
	c->canonical[c->ngroups++] = first;
	return 0;
}

static int cmp_phrase(const void *a, const void *b)
{
	const struct routing_phrase *x = a, *y = b;
	uint64_t hx = word_hash(x->words[0], strlen(x->words[0]));
	uint64_t hy = word_hash(y->words[0], strlen(y->words[0]));

	if (hx != hy)
		return hx < hy ? -1 : 1;
	/* Longest first, so "uy ban nhan dan" wins over "uy ban". */
	if (x->nwords != y->nwords)
		return x->nwords > y->nwords ? -1 : 1;
	return x->group < y->group ? -1 : x->group > y->group;
}

void routing_dedup_cfg_finish(struct routing_dedup_cfg *c)
{
	size_t *pos;

	if (c->nstop)
		qsort(c->stop, c->nstop, sizeof(*c->stop), cmp_u64);
	if (!c->nphrases)
		return;
	/* Canonical phrases are found by group after sorting: remember which
	 * phrase each group starts with by content, not position. */
	pos = cm_xmalloc(c->ngroups * sizeof(*pos));
	for (size_t g = 0; g < c->ngroups; g++)
		pos[g] = c->canonical[g];
	{
		struct routing_phrase *canon = cm_xmalloc(c->ngroups * sizeof(*canon));
		for (size_t g = 0; g < c->ngroups; g++)
			canon[g] = c->phrases[pos[g]];
		qsort(c->phrases, c->nphrases, sizeof(*c->phrases), cmp_phrase);
		for (size_t g = 0; g < c->ngroups; g++)
			for (size_t i = 0; i < c->nphrases; i++)
				if (c->phrases[i].words == canon[g].words) {
					c->canonical[g] = i;
					break;
				}
		free(canon);
	}
	free(pos);
}

/* ------------------------------------------------------ sketching --- */

struct word {
	const char *s;
	uint32_t len;
	uint64_t h;
};

struct feats {
	uint32_t *v;
	size_t n, cap;
};

static void feat_add(struct feats *f, uint64_t h)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->v = cm_xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	f->v[f->n++] = (uint32_t)(h >> 32);
}

static bool is_stop(const struct routing_dedup_cfg *c, uint64_t h)
{
	size_t lo = 0, hi = c->nstop;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->stop[mid] == h)
			return true;
		if (c->stop[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The phrase starting at words[i] (longest match), or NULL. */
static const struct routing_phrase *match_phrase(const struct routing_dedup_cfg *c,
						 const struct word *w, size_t i, size_t n)
{
	size_t lo = 0, hi = c->nphrases;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *f = c->phrases[mid].words[0];
		if (word_hash(f, strlen(f)) < w[i].h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < c->nphrases; lo++) {
		const struct routing_phrase *p = &c->phrases[lo];
		size_t k;

		if (word_hash(p->words[0], strlen(p->words[0])) != w[i].h)
			break;
		if (i + p->nwords > n)
			continue;
		for (k = 0; k < p->nwords; k++)
			if (strlen(p->words[k]) != w[i + k].len ||
			    memcmp(p->words[k], w[i + k].s, w[i + k].len) != 0)
				break;
		if (k == p->nwords)
			return p;
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int routing_sketch_text(const struct routing_dedup_cfg *c, const char *summary, const char *text,
			struct routing_sketch *out)
{
	char *joined, *folded = NULL;
	struct word *raw, *w;
	struct feats f = {0};
	size_t nraw = 0, nw = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	joined = cm_xasprintf("%s %s", summary ? summary : "", text ? text : "");
	rc = cm_text_fold(joined, &folded);
	free(joined);
	if (rc)
		return rc;
	raw = cm_xmalloc(MAX_WORDS * sizeof(*raw));
	for (char *p = folded; *p && nraw < MAX_WORDS;) {
		char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		raw[nraw].s = p;
		raw[nraw].len = (uint32_t)len;
		raw[nraw].h = word_hash(p, len);
		nraw++;
		p += len;
		while (*p == ' ')
			p++;
	}
	/* Synonyms become their group's canonical phrase, then stop words go:
	 * what is left carries the matter. */
	w = cm_xmalloc((nraw * 4 + 1) * sizeof(*w));
	for (size_t i = 0; i < nraw;) {
		const struct routing_phrase *p = c->nphrases ? match_phrase(c, raw, i, nraw) : NULL;

		if (p) {
			const struct routing_phrase *canon = &c->phrases[c->canonical[p->group]];
			for (size_t k = 0; k < canon->nwords && nw < nraw * 4; k++) {
				size_t len = strlen(canon->words[k]);
				struct word cw = {canon->words[k], (uint32_t)len,
						  word_hash(canon->words[k], len)};
				if (!is_stop(c, cw.h))
					w[nw++] = cw;
			}
			i += p->nwords;
			continue;
		}
		if (!is_stop(c, raw[i].h))
			w[nw++] = raw[i];
		i++;
	}
	for (size_t i = 0; i < nw; i++) {
		char buf[256];
		size_t len = w[i].len < sizeof(buf) - 2 ? w[i].len : sizeof(buf) - 2;

		/* Trigrams of "^word$": a typo costs a word only a few of them,
		 * and their set ignores word order. */
		buf[0] = '^';
		memcpy(buf + 1, w[i].s, len);
		buf[len + 1] = '$';
		if (len + 2 < 3) {
			feat_add(&f, mix64(fnv(FNV_SEED ^ 'T', buf, len + 2)));
		} else {
			for (size_t k = 0; k + 3 <= len + 2; k++)
				feat_add(&f, mix64(fnv(FNV_SEED ^ 'T', buf + k, 3)));
		}
		if (i + 1 < nw)
			feat_add(&f, mix64(w[i].h ^ (w[i + 1].h * 0x9e3779b97f4a7c15ULL) ^ 'B'));
	}
	if (f.n) {
		qsort(f.v, f.n, sizeof(*f.v), cmp_u32);
		for (size_t i = 0; i < f.n && out->n < ROUTING_SKETCH_K; i++)
			if (out->n == 0 || out->h[out->n - 1] != f.v[i])
				out->h[out->n++] = f.v[i];
	}
	free(f.v);
	free(w);
	free(raw);
	free(folded);
	return 0;
}

double routing_sketch_similarity(const struct routing_sketch *a, const struct routing_sketch *b)
{
	size_t i = 0, k = 0, both = 0, taken = 0;

	if (!a->n || !b->n)
		return 0;
	/* The K smallest of the union are among the two sketches: count how
	 * many of them are in both. */
	while (taken < ROUTING_SKETCH_K && (i < a->n || k < b->n)) {
		if (k >= b->n || (i < a->n && a->h[i] < b->h[k])) {
			i++;
		} else if (i >= a->n || b->h[k] < a->h[i]) {
			k++;
		} else {
			both++;
			i++;
			k++;
		}
		taken++;
	}
	return (double)both / (double)taken;
}

int routing_respondent_key(const char *name, const char *issuing, const char *managing, char **out)
{
	if (name && *name)
		return cm_text_fold(name, out);
	if (issuing && *issuing)
		return cm_text_fold(issuing, out);
	if (managing && *managing)
		return cm_text_fold(managing, out);
	*out = cm_xstrdup("");
	return 0;
}

uint64_t routing_person_key(const uint8_t *pseudonym, size_t len, const char *respondent_key)
{
	uint64_t h = fnv(FNV_SEED, pseudonym, len);

	h = fnv(h, "", 1);
	h = fnv(h, respondent_key, strlen(respondent_key));
	return mix64(h);
}

/* ------------------------------------------------------------ index --- */

static void make_key(uint8_t *k, uint64_t pk, uint32_t feat, uint64_t serial)
{
	cm_be64_put(k, pk);
	cm_be32_put(k + 8, feat);
	cm_be64_put(k + 12, serial);
}

int routing_dedup_add(struct cm_txn *t, unsigned dbi, uint64_t pk, const struct routing_sketch *s,
		      uint64_t serial)
{
	uint8_t k[KEY_LEN];
	uint32_t prev = 0;

	for (uint32_t i = 0; i < s->n && i < ROUTING_INDEX_K; i++) {
		int rc;

		if (i && s->h[i] == prev)
			continue;
		prev = s->h[i];
		make_key(k, pk, s->h[i], serial);
		rc = cm_txn_put(t, dbi, k, sizeof(k), "", 0, 0);
		if (rc)
			return rc;
	}
	return 0;
}

/* A lookup reads at most this many index entries: a person who wrote
 * thousands of petitions to one body must not stall the loop. */
#define MAX_VISIT 65536

struct cand_walk {
	uint8_t prefix[12];
	uint64_t *out;
	size_t n, cap, visited;
};

static int cand_cb(const struct cm_val *key, const struct cm_val *val, void *arg)
{
	struct cand_walk *w = arg;

	(void)val;
	if (key->size != KEY_LEN || memcmp(key->data, w->prefix, sizeof(w->prefix)) != 0)
		return 1;
	if (++w->visited > MAX_VISIT)
		return 1;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->out = cm_xrealloc(w->out, w->cap * sizeof(*w->out));
	}
	w->out[w->n++] = cm_be64_get((const uint8_t *)key->data + 12);
	return 0;
}

int routing_dedup_candidates(struct cm_txn *t, unsigned dbi, uint64_t pk,
			     const struct routing_sketch *s, uint64_t **out, size_t *n,
			     size_t *visited)
{
	struct cand_walk w = {0};
	size_t u = 0;

	*out = NULL;
	*n = 0;
	for (uint32_t i = 0; i < s->n && i < ROUTING_INDEX_K && w.visited <= MAX_VISIT; i++) {
		int rc;

		cm_be64_put(w.prefix, pk);
		cm_be32_put(w.prefix + 8, s->h[i]);
		rc = cm_txn_iter(t, dbi, w.prefix, sizeof(w.prefix), cand_cb, &w);
		if (rc < 0) {
			free(w.out);
			return rc;
		}
	}
	if (w.n) {
		qsort(w.out, w.n, sizeof(*w.out), cmp_u64);
		for (size_t i = 0; i < w.n; i++)
			if (u == 0 || w.out[u - 1] != w.out[i])
				w.out[u++] = w.out[i];
	}
	*out = w.out;
	*n = u;
	if (visited)
		*visited = w.visited;
	return 0;
}

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
	free(c->fold);
	free(c->words);
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
		ph.first = word_hash(ph.words[0], strlen(ph.words[0]));
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

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	/* Longest first, so "uy ban nhan dan" wins over "uy ban". */
	if (x->nwords != y->nwords)
		return x->nwords > y->nwords ? -1 : 1;
	return x->group < y->group ? -1 : x->group > y->group;
}

/* ------------------------------------------------------------- fold --- */

static int fold_index(uint32_t cp)
{
	if (cp < 0x250)
		return (int)cp;
	if (cp >= 0x300 && cp < 0x370)
		return 0x250 + (int)(cp - 0x300);
	if (cp >= 0x1e00 && cp < 0x1f00)
		return 0x2c0 + (int)(cp - 0x1e00);
	return -1;
}

static size_t put_utf8(char *b, uint32_t cp)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	b[0] = (char)(0xe0 | (cp >> 12));
	b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	b[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

/* Ask cm_text_fold what it does to cp between two letters: "a b" means a
 * separator, "ab" a dropped character (a mark, a default-ignorable), and
 * anything else the text it becomes. The letters cannot combine with
 * anything in these ranges once marks are stripped, so the answer holds in
 * every context; whatever does not fit stays unlearnt and falls back. */
static void learn(struct routing_fold_entry *e, uint32_t cp)
{
	char probe[8], *f = NULL;
	size_t n = 0, len;

	memset(e, 0, sizeof(*e));
	if (cp == 0)
		return;
	probe[n++] = 'a';
	n += put_utf8(probe + n, cp);
	probe[n++] = 'b';
	probe[n] = '\0';
	if (cm_text_fold(probe, &f) != 0)
		return;
	len = strlen(f);
	if (strcmp(f, "a b") == 0) {
		e->kind = 1;
	} else if (strcmp(f, "ab") == 0) {
		e->kind = 2;
	} else if (len >= 3 && len - 2 < sizeof(e->s) && f[0] == 'a' && f[len - 1] == 'b' &&
		   !memchr(f + 1, ' ', len - 2)) {
		e->kind = 3;
		e->len = (uint8_t)(len - 2);
		memcpy(e->s, f + 1, len - 2);
	}
	free(f);
}

static void learn_all(struct routing_dedup_cfg *c)
{
	static const uint32_t ranges[][2] = {{0, 0x250}, {0x300, 0x370}, {0x1e00, 0x1f00}};

	c->fold = cm_xcalloc(ROUTING_FOLD_SPAN, sizeof(*c->fold));
	for (size_t r = 0; r < CM_ARRAY_LEN(ranges); r++)
		for (uint32_t cp = ranges[r][0]; cp < ranges[r][1]; cp++)
			learn(&c->fold[fold_index(cp)], cp);
}

/* Decode one code point of well-formed UTF-8 up to U+FFFF; 0 when the bytes
 * are anything else (the slow path then decides, errors included). */
static size_t get_utf8(const unsigned char *p, uint32_t *cp)
{
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] < 0xe0 && (p[1] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
		return 2;
	}
	if (p[0] >= 0xe1 && p[0] < 0xf0 && p[0] != 0xed && (p[1] & 0xc0) == 0x80 &&
	    (p[2] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(p[0] & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) |
		      (p[2] & 0x3f);
		return 3;
	}
	return 0;
}

int routing_fold(const struct routing_dedup_cfg *c, const char *s, char **out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t cap = strlen(s) * 2 + 16, o = 0;
	char *res;
	bool pending = false;

	if (!c->fold)
		return cm_text_fold(s, out);
	res = cm_xmalloc(cap);
	while (*p) {
		uint32_t cp;
		size_t n = get_utf8(p, &cp);
		int i = n ? fold_index(cp) : -1;
		const struct routing_fold_entry *e = i >= 0 ? &c->fold[i] : NULL;

		if (!e || e->kind == 0) {
			free(res);
			return cm_text_fold(s, out);
		}
		p += n;
		if (e->kind == 1) {
			pending = o != 0;
			continue;
		}
		if (e->kind == 2)
			continue;
		if (o + e->len + 2 > cap) {
			cap = cap * 2 + e->len;
			res = cm_xrealloc(res, cap);
		}
		if (pending)
			res[o++] = ' ';
		pending = false;
		memcpy(res + o, e->s, e->len);
		o += e->len;
	}
	res[o] = '\0';
	*out = res;
	return 0;
}

static struct routing_word_slot *word_slot(const struct routing_dedup_cfg *c, uint64_t h)
{
	size_t j = (size_t)h & c->wmask;

	while (c->words[j].used) {
		if (c->words[j].h == h)
			return &c->words[j];
		j = (j + 1) & c->wmask;
	}
	return &c->words[j];
}

/* At most a quarter full, so a word that is neither (nearly every word)
 * ends its probe on the first or second slot. */
static void build_words(struct routing_dedup_cfg *c)
{
	size_t cap = 16;

	free(c->words);
	while (cap < 4 * (c->nstop + c->nphrases))
		cap *= 2;
	c->words = cm_xcalloc(cap, sizeof(*c->words));
	c->wmask = cap - 1;
	for (size_t i = 0; i < c->nstop; i++) {
		struct routing_word_slot *w = word_slot(c, c->stop[i]);
		w->used = true;
		w->h = c->stop[i];
		w->stop = true;
	}
	/* Sorted by first word: the first of a run is where a search starts. */
	for (size_t i = 0; i < c->nphrases; i++) {
		struct routing_word_slot *w = word_slot(c, c->phrases[i].first);
		if (w->used && w->phrase)
			continue;
		w->used = true;
		w->h = c->phrases[i].first;
		w->phrase = (uint32_t)i + 1;
	}
}

void routing_dedup_cfg_finish(struct routing_dedup_cfg *c)
{
	size_t *pos;

	if (!c->fold)
		learn_all(c);

	if (c->nstop)
		qsort(c->stop, c->nstop, sizeof(*c->stop), cmp_u64);
	if (!c->nphrases) {
		build_words(c);
		return;
	}
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
	build_words(c);
}

/* ------------------------------------------------------ sketching --- */

struct word {
	const char *s;
	uint32_t len;
	uint64_t h;
};

/* LSD radix sort of n 32-bit values (tmp holds n): qsort's indirect
 * comparisons cost more than the rest of sketching together. */
static void sort_u32(uint32_t *v, uint32_t *tmp, size_t n)
{
	for (unsigned shift = 0; shift < 32; shift += 8) {
		size_t count[257] = {0};

		for (size_t i = 0; i < n; i++)
			count[((v[i] >> shift) & 0xff) + 1]++;
		for (size_t b = 1; b < 257; b++)
			count[b] += count[b - 1];
		for (size_t i = 0; i < n; i++)
			tmp[count[(v[i] >> shift) & 0xff]++] = v[i];
		memcpy(v, tmp, n * sizeof(*v));
	}
}

/* Sort v[0..n), every value below t (n at most 8K): spread them over 256
 * buckets by value, then an insertion sort finishes each bucket's few.
 * Sketch values are uniform (the ~3K below the threshold, or every value of
 * a short petition), so this is one counting pass and one scatter instead
 * of the radix sort's four of each (the radix sort's 256-bin prefix sums
 * dominated sketching); many equal values cost at worst n^2/4 moves. */
static void sort_below(uint32_t *v, uint32_t *tmp, size_t n, uint64_t t)
{
	/* v * scale >> 32 is below 256 for every v below t, and grows with v. */
	uint64_t scale = ((uint64_t)1 << 40) / t;
	uint16_t count[257] = {0};

	for (size_t i = 0; i < n; i++)
		count[((v[i] * scale) >> 32) + 1]++;
	for (size_t b = 1; b < 257; b++)
		count[b] = (uint16_t)(count[b] + count[b - 1]);
	for (size_t i = 0; i < n; i++)
		tmp[count[(v[i] * scale) >> 32]++] = v[i];
	for (size_t i = 1; i < n; i++) {
		uint32_t x = tmp[i];
		size_t j = i;

		while (j && tmp[j - 1] > x) {
			tmp[j] = tmp[j - 1];
			j--;
		}
		tmp[j] = x;
	}
	memcpy(v, tmp, n * sizeof(*v));
}

/* The ROUTING_SKETCH_K smallest distinct values of v[0..n), ascending. The
 * hashes are uniform, so the answer almost always lies below a threshold
 * that lets about 3K of the n values through: sort only those, and sort
 * everything only when they turn out too few (duplicates). */
static void bottom_k(uint32_t *v, size_t n, struct routing_sketch *out)
{
	uint32_t small[8 * ROUTING_SKETCH_K], tmp[8 * ROUTING_SKETCH_K];
	uint32_t *pick = v, *scratch;
	size_t m = n;
	uint64_t t = (uint64_t)1 << 32;

	out->n = 0;
	if (n > 4 * ROUTING_SKETCH_K) {
		size_t k = 0;

		t = ((uint64_t)3 * ROUTING_SKETCH_K << 32) / n;
		for (size_t i = 0; i < n && k < CM_ARRAY_LEN(small); i++)
			if (v[i] < t)
				small[k++] = v[i];
		pick = small;
		m = k;
	}
	for (int pass = 0; pass < 2; pass++) {
		if (m <= CM_ARRAY_LEN(tmp)) {
			sort_below(pick, tmp, m, pick == small ? t : (uint64_t)1 << 32);
		} else {
			scratch = cm_xmalloc(m * sizeof(*scratch));
			sort_u32(pick, scratch, m);
			free(scratch);
		}
		out->n = 0;
		for (size_t i = 0; i < m && out->n < ROUTING_SKETCH_K; i++)
			if (out->n == 0 || out->h[out->n - 1] != pick[i])
				out->h[out->n++] = pick[i];
		if (pick == v || out->n == ROUTING_SKETCH_K)
			return;
		pick = v;
		m = n;
	}
}

static bool is_stop(const struct routing_dedup_cfg *c, uint64_t h)
{
	size_t lo = 0, hi = c->nstop;

	if (c->words) {
		const struct routing_word_slot *w = word_slot(c, h);
		return w->used && w->stop;
	}
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

	if (c->words) {
		const struct routing_word_slot *s = word_slot(c, w[i].h);
		if (!s->used || !s->phrase)
			return NULL;
		lo = s->phrase - 1;
	} else {
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (c->phrases[mid].first < w[i].h)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	for (; lo < c->nphrases; lo++) {
		const struct routing_phrase *p = &c->phrases[lo];
		size_t k;

		if (p->first != w[i].h)
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

int routing_sketch_text(const struct routing_dedup_cfg *c, const char *summary, const char *text,
			struct routing_sketch *out)
{
	char *joined, *folded = NULL;
	struct word *raw, *w;
	uint32_t *f;
	size_t nraw = 0, nw = 0, nf = 0, cap;
	int rc;

	memset(out, 0, sizeof(*out));
	{
		size_t ls = summary ? strlen(summary) : 0, lt = text ? strlen(text) : 0;

		joined = cm_xmalloc(ls + lt + 2);
		if (ls)
			memcpy(joined, summary, ls);
		joined[ls] = ' ';
		if (lt)
			memcpy(joined + ls + 1, text, lt);
		joined[ls + lt + 1] = '\0';
	}
	rc = routing_fold(c, joined, &folded);
	free(joined);
	if (rc)
		return rc;
	/* Words are separated by one space: at most half the bytes. */
	cap = strlen(folded) / 2 + 1;
	if (cap > MAX_WORDS)
		cap = MAX_WORDS;
	raw = cm_xmalloc(cap * sizeof(*raw));
	for (char *p = folded; *p && nraw < cap;) {
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
	for (size_t i = 0; i < nw; i++)
		nf += w[i].len + 2;
	f = cm_xmalloc((nf + 1) * sizeof(*f));
	nf = 0;
	for (size_t i = 0; i < nw; i++) {
		char buf[256];
		size_t len = w[i].len < sizeof(buf) - 2 ? w[i].len : sizeof(buf) - 2;

		/* Trigrams of "^word$": a typo costs a word only a few of them,
		 * and their set ignores word order. */
		buf[0] = '^';
		memcpy(buf + 1, w[i].s, len);
		buf[len + 1] = '$';
		for (size_t k = 0; k + 3 <= len + 2; k++) {
			const unsigned char *b = (const unsigned char *)buf + k;
			uint64_t tri = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16;

			f[nf++] = (uint32_t)(mix64(tri ^ 0x5452494752414d00ULL) >> 32);
		}
		/* Pairs of neighbouring words tell two matters about the same
		 * body apart. */
		if (i + 1 < nw)
			f[nf++] = (uint32_t)(mix64(w[i].h ^ (w[i + 1].h * 0x9e3779b97f4a7c15ULL) ^
						   'B') >>
					     32);
	}
	bottom_k(f, nf, out);
	free(f);
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

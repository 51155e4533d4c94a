/*
 * test_routing_dedup - the duplicate detector: text sketches, the LMDB index,
 * and precision/recall on a generated corpus of Vietnamese petitions
 * (routing_corpus.c) using the shipped rules' stop words, synonyms and
 * threshold.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/store.h"
#include "common/text.h"
#include "dedup.h"
#include "routing_corpus.h"
#include "rules.h"
#include "testsupport.h"

static struct routing_rules *rules;

/* Digest of test_sketch_unchanged's sketches, taken before any speed-up. */
#define SKETCH_DIGEST 0xe6623d0c90a5f786ULL

static int setup(void **state)
{
	char err[512];

	(void)state;
	if (routing_rules_load(DONTHU_DATA_DIR "/routing/rules.json", &rules, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	routing_rules_free(&rules);
	return 0;
}

static double sim(const char *a, const char *b)
{
	struct routing_sketch x, y;

	assert_int_equal(routing_sketch_text(&rules->dedup, a, NULL, &x), 0);
	assert_int_equal(routing_sketch_text(&rules->dedup, b, NULL, &y), 0);
	return routing_sketch_similarity(&x, &y);
}

static void test_sketch_basics(void **state)
{
	struct routing_sketch e;
	const char *t = "Tuyến cống thoát nước trên đường Hoàng Diệu bị tắc nghẽn, mỗi khi mưa lớn "
			"khu dân cư bị ngập sâu.";

	(void)state;
	assert_true(sim(t, t) == 1.0);
	/* Case, diacritics and punctuation do not matter. */
	assert_true(sim(t, "TUYEN CONG THOAT NUOC tren duong hoang dieu bi tac nghen; moi khi mua "
			   "lon khu dan cu bi ngap sau") == 1.0);
	/* Synonyms from the rules: UBND is Ủy ban nhân dân. */
	assert_true(sim("UBND phường Hải Châu chậm bồi thường", "Ủy ban nhân dân phường Hải Châu "
							      "chậm đền bù") == 1.0);
	/* Word order changes little. */
	assert_true(sim("gia đình tôi bị thu hồi đất nhưng chưa được bồi thường thỏa đáng",
			"chưa được bồi thường thỏa đáng dù gia đình tôi bị thu hồi đất") > 0.7);
	/* Different matters stay apart. */
	assert_true(sim(t, "Giáo viên chủ nhiệm ép học sinh đi học thêm tại nhà") < 0.2);
	/* Nothing to compare. */
	assert_int_equal(routing_sketch_text(&rules->dedup, "", NULL, &e), 0);
	assert_int_equal(e.n, 0);
	assert_true(routing_sketch_similarity(&e, &e) == 0);
	assert_int_equal(routing_sketch_text(&rules->dedup, "\xff\xfe", NULL, &e), CM_EINVALID);
}

static void test_respondent_key(void **state)
{
	char *a, *b;

	(void)state;
	assert_int_equal(routing_respondent_key("Ông NGUYỄN Văn Hùng", "X", NULL, &a), 0);
	assert_int_equal(routing_respondent_key("ong nguyen van hung", NULL, NULL, &b), 0);
	assert_string_equal(a, b);
	free(a);
	free(b);
	assert_int_equal(routing_respondent_key("", "DN-STC", "DN-SXD", &a), 0);
	assert_string_equal(a, "dn stc");
	free(a);
	assert_int_equal(routing_respondent_key(NULL, NULL, NULL, &a), 0);
	assert_string_equal(a, "");
	free(a);
	assert_true(routing_person_key((const uint8_t *)"p1", 2, "x") !=
		    routing_person_key((const uint8_t *)"p2", 2, "x"));
	assert_true(routing_person_key((const uint8_t *)"p1", 2, "x") !=
		    routing_person_key((const uint8_t *)"p1", 2, "y"));
}

/* The fold table learnt from cm_text_fold gives cm_text_fold's answer on
 * every string: the corpus, then random strings over the table's ranges
 * mixed with characters outside them. */
static size_t utf8(char *b, uint32_t cp)
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
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | (cp >> 18));
	b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static void same_fold(const char *s)
{
	char *a = NULL, *b = NULL;
	int ra = routing_fold(&rules->dedup, s, &a), rb = cm_text_fold(s, &b);

	assert_int_equal(ra, rb);
	if (ra == 0) {
		if (strcmp(a, b) != 0)
			fail_msg("fold differs on \"%s\": \"%s\" vs cm_text_fold \"%s\"", s, a, b);
		free(a);
		free(b);
	}
}

static void test_fold_is_cm_text_fold(void **state)
{
	static const uint32_t outside[] = {0x2013, 0x00a0, 0xfb01, 0xac00, 0x0410, 0x1f600,
					   0x200b, 0x3000, 0x2460, 0x0385};
	struct corpus co;
	uint64_t r = 42;
	char buf[400];

	(void)state;
	assert_non_null(rules->dedup.fold);
	corpus_build(&co, 60, 7);
	for (size_t i = 0; i < co.n; i++) {
		same_fold(co.docs[i].summary);
		same_fold(co.docs[i].text);
	}
	corpus_free(&co);
	for (int i = 0; i < 200000; i++) {
		size_t o = 0, len = 1 + (size_t)(r % 40);

		for (size_t k = 0; k < len; k++) {
			uint32_t cp;
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			switch (r % 8) {
			case 0: cp = 0x300 + (uint32_t)(r >> 8) % 0x70; break;
			case 1: cp = 0x1e00 + (uint32_t)(r >> 8) % 0x100; break;
			case 2: cp = outside[(r >> 8) % CM_ARRAY_LEN(outside)]; break;
			case 3: cp = ' '; break;
			default: cp = 1 + (uint32_t)(r >> 8) % 0x24f; break;
			}
			o += utf8(buf + o, cp);
		}
		buf[o] = '\0';
		same_fold(buf);
	}
	/* Not UTF-8: the same error. */
	same_fold("ab\xc3");
	same_fold("\xed\xa0\x80");
	same_fold("\xe0\x80\x80");
}

/* ------------------------------------------------ corpus, through LMDB --- */

struct corpus_run {
	struct corpus *co;
	struct routing_sketch *sk;
	size_t *linked;		/* doc index a doc was linked to, or SIZE_MAX */
	double *best;
	size_t visited;
};

static uint64_t person_key_of(const struct corpus_doc *d)
{
	uint8_t pseud[32] = {0};
	char *rkey = NULL;
	uint64_t pk;

	/* A stand-in for intake's keyed pseudonym: any 32 bytes per person. */
	memcpy(pseud, &d->person, sizeof(d->person));
	assert_int_equal(routing_respondent_key(d->respondent, NULL, NULL, &rkey), 0);
	pk = routing_person_key(pseud, sizeof(pseud), rkey);
	free(rkey);
	return pk;
}

static int corpus_txn(struct cm_txn *t, void *arg)
{
	struct corpus_run *x = arg;

	x->visited = 0;
	for (size_t i = 0; i < x->co->n; i++) {
		const struct corpus_doc *d = &x->co->docs[i];
		uint64_t pk = person_key_of(d), *cand = NULL;
		size_t n = 0, v = 0;
		int rc;

		x->linked[i] = SIZE_MAX;
		x->best[i] = 0;
		rc = routing_sketch_text(&rules->dedup, d->summary, d->text, &x->sk[i]);
		if (rc)
			return rc;
		rc = routing_dedup_candidates(t, 0, pk, &x->sk[i], &cand, &n, &v);
		if (rc)
			return rc;
		x->visited += v;
		for (size_t k = 0; k < n; k++) {
			/* serials are doc index + 1 */
			double s = routing_sketch_similarity(&x->sk[i], &x->sk[cand[k] - 1]);
			if (s >= rules->dedup.threshold && s > x->best[i]) {
				x->best[i] = s;
				x->linked[i] = cand[k] - 1;
			}
		}
		free(cand);
		rc = routing_dedup_add(t, 0, pk, &x->sk[i], i + 1);
		if (rc)
			return rc;
	}
	return 0;
}

static void test_corpus_precision_recall(void **state)
{
	static const char *const names[] = {"dedup"};
	static const char *const variants[] = {"order",	    "no-diacritics", "typos", "synonyms",
					       "near-copy", "mixed",	     "follow-up"};
	char *dir = cm_test_tmpdir("routing-dedup");
	struct cm_store_opts so = {.path = dir, .dbi_names = names, .ndbi = 1};
	struct cm_store *s = NULL;
	struct corpus co;
	struct corpus_run x = {0};
	size_t tp = 0, fp = 0, positives = 0, unrelated = 0;
	size_t vpos[7] = {0}, vhit[7] = {0};
	double precision, recall;

	(void)state;
	corpus_build(&co, 400, 20261127);
	x.co = &co;
	x.sk = cm_xcalloc(co.n, sizeof(*x.sk));
	x.linked = cm_xcalloc(co.n, sizeof(*x.linked));
	x.best = cm_xcalloc(co.n, sizeof(*x.best));
	assert_int_equal(cm_store_open(&so, &s), 0);
	assert_int_equal(cm_store_write(s, corpus_txn, &x), 0);

	for (size_t i = 0; i < co.n; i++) {
		const struct corpus_doc *d = &co.docs[i];
		bool has_earlier = false;

		for (size_t k = 0; k < i && !has_earlier; k++)
			has_earlier = co.docs[k].person == d->person && co.docs[k].matter == d->matter;
		if (has_earlier) {
			positives++;
			for (size_t v = 0; v < CM_ARRAY_LEN(variants); v++)
				if (strcmp(variants[v], d->variant) == 0) {
					vpos[v]++;
					if (x.linked[i] != SIZE_MAX &&
					    co.docs[x.linked[i]].matter == d->matter)
						vhit[v]++;
				}
		} else {
			unrelated++;
		}
		if (x.linked[i] == SIZE_MAX)
			continue;
		if (co.docs[x.linked[i]].matter == d->matter &&
		    co.docs[x.linked[i]].person == d->person)
			tp++;
		else
			fp++;
	}
	precision = tp + fp ? (double)tp / (double)(tp + fp) : 1.0;
	recall = positives ? (double)tp / (double)positives : 1.0;
	printf("dedup corpus: %zu petitions, %zu repeats and %zu first petitions (other matters "
	       "of the same people about the same bodies)\n",
	       co.n, positives, unrelated);
	printf("dedup corpus: precision %.4f (%zu of %zu links right), recall %.4f (%zu of %zu "
	       "repeats found), threshold %.2f, %zu index entries read\n",
	       precision, tp, tp + fp, recall, tp, positives, rules->dedup.threshold, x.visited);
	for (size_t v = 0; v < CM_ARRAY_LEN(variants); v++)
		printf("  recall %-14s %zu/%zu\n", variants[v], vhit[v], vpos[v]);
	assert_true(positives > 500 && unrelated > 500);
	assert_true(precision > 0.9);
	assert_true(recall > 0.9);

	cm_store_close(&s);
	cm_test_rmrf(dir);
	free(dir);
	free(x.sk);
	free(x.linked);
	free(x.best);
	corpus_free(&co);
}

/* The index only ever reads the entries of one person and respondent. */
static int crowd_txn(struct cm_txn *t, void *arg)
{
	size_t *visited = arg;
	struct routing_sketch sk;
	uint64_t *cand = NULL;
	size_t n = 0;
	int rc;

	for (uint32_t p = 0; p < 2000; p++) {
		char *text = corpus_text(p % (uint32_t)corpus_matter_count(), p);
		uint8_t pseud[32] = {0};

		memcpy(pseud, &p, sizeof(p));
		rc = routing_sketch_text(&rules->dedup, NULL, text, &sk);
		free(text);
		if (rc || (rc = routing_dedup_add(t, 0, routing_person_key(pseud, 32, ""), &sk,
						  p + 1)))
			return rc;
	}
	{
		char *text = corpus_text(3, 77);
		uint8_t pseud[32] = {0};
		uint32_t p = 77;

		memcpy(pseud, &p, sizeof(p));
		rc = routing_sketch_text(&rules->dedup, NULL, text, &sk);
		free(text);
		if (rc)
			return rc;
		rc = routing_dedup_candidates(t, 0, routing_person_key(pseud, 32, ""), &sk, &cand,
					      &n, visited);
	}
	if (rc == 0 && (n != 1 || cand[0] != 78))
		rc = -EINVAL;
	free(cand);
	return rc;
}

static void test_index_reads_one_person(void **state)
{
	static const char *const names[] = {"dedup"};
	char *dir = cm_test_tmpdir("routing-dedup");
	struct cm_store_opts so = {.path = dir, .dbi_names = names, .ndbi = 1};
	struct cm_store *s = NULL;
	size_t visited = 0;

	(void)state;
	assert_int_equal(cm_store_open(&so, &s), 0);
	assert_int_equal(cm_store_write(s, crowd_txn, &visited), 0);
	/* 2,000 people wrote about the same 24 matters; the lookup saw only
	 * its own writer's entries. */
	assert_true(visited <= ROUTING_INDEX_K);
	cm_store_close(&s);
	cm_test_rmrf(dir);
	free(dir);
}

/* FNV-1a over every value of a sketch. */
static uint64_t sketch_digest(uint64_t h, const struct routing_sketch *s)
{
	h = (h ^ s->n) * 0x100000001b3ULL;
	for (uint32_t i = 0; i < s->n; i++)
		h = (h ^ s->h[i]) * 0x100000001b3ULL;
	return h;
}

/* The sketches of the corpus, of texts short enough to be sorted whole, and
 * of texts repeating the same few words (too few distinct small values: the
 * slow path) are exactly what the first implementation gave (binary-searched
 * stop words and phrases, a radix sort of every candidate): the speed-ups of
 * the word table and the bucket sort changed no duplicate decision. The
 * table must also agree with the binary searches it replaced. */
static void test_sketch_unchanged(void **state)
{
	struct routing_dedup_cfg plain = rules->dedup;
	uint64_t h = 0xcbf29ce484222325ULL;

	(void)state;
	plain.words = NULL;
	for (uint32_t i = 0; i < 3000; i++) {
		char *text = corpus_text(i % (uint32_t)corpus_matter_count(), i);
		struct routing_sketch a, b;
		size_t len = strlen(text);

		/* Every third text cut short: fewer features than the bottom-k
		 * threshold path takes. */
		if (i % 3 == 1 && len > 60)
			text[60 + i % 7] = '\0';
		if (i % 3 == 1) {
			while (text[0] && (text[strlen(text) - 1] & 0xc0) == 0x80)
				text[strlen(text) - 1] = '\0';
			if (text[0] && (unsigned char)text[strlen(text) - 1] >= 0xc0)
				text[strlen(text) - 1] = '\0';
		}
		assert_int_equal(routing_sketch_text(&rules->dedup, "Đơn khiếu nại", text, &a), 0);
		assert_int_equal(routing_sketch_text(&plain, "Đơn khiếu nại", text, &b), 0);
		assert_int_equal(a.n, b.n);
		assert_memory_equal(a.h, b.h, a.n * sizeof(a.h[0]));
		h = sketch_digest(h, &a);
		free(text);
	}
	for (uint32_t r = 1; r <= 400; r += 37) {
		char *text = cm_xcalloc(r * 24 + 1, 1);
		struct routing_sketch a;

		for (uint32_t k = 0; k < r; k++)
			strcat(text, k % 3 ? "đất đai ủy ban nhân dân " : "xã ");
		assert_int_equal(routing_sketch_text(&rules->dedup, NULL, text, &a), 0);
		h = sketch_digest(h, &a);
		free(text);
	}
	printf("sketch digest %016llx\n", (unsigned long long)h);
	assert_true(h == SKETCH_DIGEST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sketch_basics),
		cmocka_unit_test(test_respondent_key),
		cmocka_unit_test(test_fold_is_cm_text_fold),
		cmocka_unit_test(test_corpus_precision_recall),
		cmocka_unit_test(test_index_reads_one_person),
		cmocka_unit_test(test_sketch_unchanged),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

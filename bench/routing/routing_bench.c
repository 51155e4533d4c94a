/*
 * routing_bench - the routing engine's cost, measured in-process on real
 * LMDB stores (bench/routing/run drives it and prints the summary).
 *
 *   routing_bench decisions COUNT RUNS
 *       Generates a 10,000-agency register (34 provinces) into a temporary
 *       directory, then routes COUNT petitions through routing_apply() in
 *       batches of 2,000 per durable write transaction, as the feed consumer
 *       does: classification, competence, duplicate lookup and indexing,
 *       events appended to the routing feed. One line per run:
 *       "decisions run=R n=N seconds=S rate=X apply_rate=Y cpu_rate=Z":
 *       rate counts the durable commits, apply_rate only the work inside the
 *       transactions, cpu_rate decisions per CPU-second of this process.
 *
 *   routing_bench dedup CASES QUERIES RUNS
 *       Builds a duplicate index of CASES cases (people with one to a few
 *       petitions each, one in a thousand with hundreds) and times QUERIES
 *       candidate lookups for existing cases, RUNS times. One line per run:
 *       "dedup cases=N run=R us_per_lookup=X entries_per_lookup=Y candidates=Z".
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "apply.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "routing_corpus.h"
#include "schema.h"

#define BATCH 2000

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now_s(void)
{
	return (double)cm_clock_mono_ns() / 1e9;
}

/* CPU seconds of this process: with other work on the machine, wall time
 * says what the machine did, CPU time what the code costs. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *mktmp(const char *tag)
{
	char *p = cm_xasprintf("/tmp/donthu-bench-%s.XXXXXX", tag);

	cm_require(mkdtemp(p) != NULL);
	return p;
}

static void rmrf(const char *dir)
{
	char *cmd = cm_xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
}

/* ------------------------------------------------- the big register --- */

enum { PROVINCES = 34, COMMUNES = 280 };

static const char *const dept_fields[] = {
	"to-chuc-can-bo;lao-dong;bao-hiem-xa-hoi;nguoi-co-cong",
	"phap-luat;ho-tich;bo-tro-tu-phap",
	"tai-chinh;tai-san-cong;ke-hoach-dau-tu;doanh-nghiep",
	"cong-nghiep;thuong-mai;attp-cong-thuong",
	"dat-dai;moi-truong;tai-nguyen;nong-nghiep;thuy-loi;giam-ngheo",
	"xay-dung;quy-hoach;nha-o;ha-tang-do-thi;giao-thong-van-tai",
	"khoa-hoc-cong-nghe;chuyen-doi-so",
	"van-hoa;the-thao;du-lich;bao-chi-xuat-ban",
	"giao-duc;giao-duc-nghe-nghiep",
	"y-te;attp-y-te;bao-tro-xa-hoi",
	"doi-ngoai",
	"dan-toc;ton-giao",
};

static const char *const pet_fields[] = {
	"dat-dai", "moi-truong", "xay-dung", "giao-duc", "y-te", "lao-dong", "tai-chinh",
	"ha-tang-do-thi", "nong-nghiep", "van-hoa", "quan-ly-chung", "thuong-mai",
};

/* Codes of what the generated register holds, for building petitions. */
struct bigreg {
	char (*communes)[24];	/* agency codes, PROVINCES * COMMUNES */
	char (*units)[24];
	char (*depts)[24];	/* PROVINCES * 12 */
	size_t ncommunes, ndepts, nagencies;
};

static void copy_file(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	char buf[65536];
	size_t n;

	cm_require(a && b);
	while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
		cm_require(fwrite(buf, 1, n, b) == n);
	fclose(a);
	fclose(b);
}

/* 34 provinces, each with its UBND, office, inspectorate, 12 departments and
 * 280 communes: 10,030 agencies. One commune in 20 ended on 30/6/2025 and
 * merged into its neighbour, as the 2025 reform did. */
static void gen_register(const char *dir, const char *fields_csv, struct bigreg *g)
{
	char *path;
	FILE *fa, *fu;

	path = cm_xasprintf("%s/fields.csv", dir);
	copy_file(fields_csv, path);
	free(path);
	path = cm_xasprintf("%s/agencies.csv", dir);
	fa = fopen(path, "w");
	free(path);
	path = cm_xasprintf("%s/units.csv", dir);
	fu = fopen(path, "w");
	free(path);
	cm_require(fa && fu);
	fprintf(fa, "code,name,level,parent_code,fields,units,effective_from,effective_to,"
		    "successor_code,source_note\n");
	fprintf(fu, "code,name,type,province_code,effective_from,effective_to,successor_code,"
		    "formed_from,source_note\n");
	memset(g, 0, sizeof(*g));
	g->communes = cm_xcalloc(PROVINCES * COMMUNES, sizeof(*g->communes));
	g->units = cm_xcalloc(PROVINCES * COMMUNES, sizeof(*g->units));
	g->depts = cm_xcalloc(PROVINCES * CM_ARRAY_LEN(dept_fields), sizeof(*g->depts));
	for (int p = 1; p <= PROVINCES; p++) {
		fprintf(fa, "P%02d-UBND,UBND tỉnh %d,province,,quan-ly-chung,,2025-07-01,,,bench\n", p,
			p);
		fprintf(fa, "P%02d-VP,Văn phòng UBND tỉnh %d,office,P%02d-UBND,tiep-cong-dan,,,,,bench\n",
			p, p, p);
		fprintf(fa, "P%02d-TTR,Thanh tra tỉnh %d,inspectorate,P%02d-UBND,thanh-tra;"
			    "khieu-nai-to-cao,,,,,bench\n",
			p, p, p);
		g->nagencies += 3;
		for (size_t d = 0; d < CM_ARRAY_LEN(dept_fields); d++) {
			snprintf(g->depts[g->ndepts], sizeof(g->depts[0]), "P%02d-S%02zu", p, d);
			fprintf(fa, "%s,Sở %zu tỉnh %d,department,P%02d-UBND,%s,,,,,bench\n",
				g->depts[g->ndepts], d, p, p, dept_fields[d]);
			g->ndepts++;
			g->nagencies++;
		}
		for (int c = 1; c <= COMMUNES; c++) {
			bool ended = c % 20 == 0;

			snprintf(g->units[g->ncommunes], sizeof(g->units[0]), "U%02d%03d", p, c);
			snprintf(g->communes[g->ncommunes], sizeof(g->communes[0]), "UBND-U%02d%03d", p,
				 c);
			if (ended) {
				fprintf(fu, "U%02d%03d,Xã %d,xa,P%02d,2025-01-01,2025-06-30,U%02d%03d,,b\n",
					p, c, c, p, p, c - 1);
				fprintf(fa, "UBND-U%02d%03d,UBND xã %d,commune,P%02d-UBND,quan-ly-chung,"
					    "U%02d%03d,2025-01-01,2025-06-30,UBND-U%02d%03d,bench\n",
					p, c, c, p, p, c, p, c - 1);
			} else {
				fprintf(fu, "U%02d%03d,Xã %d,xa,P%02d,2025-01-01,,,,b\n", p, c, c, p);
				fprintf(fa, "UBND-U%02d%03d,UBND xã %d,commune,P%02d-UBND,quan-ly-chung,"
					    "U%02d%03d,2025-01-01,,,bench\n",
					p, c, c, p, p, c);
			}
			g->ncommunes++;
			g->nagencies++;
		}
	}
	fclose(fa);
	fclose(fu);
}

/* ------------------------------------------------------- petitions --- */

static cm_env *make_petition(const struct bigreg *g, uint64_t n, int64_t at_ms)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT, *out = NULL;
	Donthu__V1__PetitionReceived pr = DONTHU__V1__PETITION_RECEIVED__INIT;
	Donthu__V1__Petition p = DONTHU__V1__PETITION__INIT;
	Donthu__V1__Respondent r = DONTHU__V1__RESPONDENT__INIT;
	Donthu__V1__PersonRef ref = DONTHU__V1__PERSON_REF__INIT, *refs[1] = {&ref};
	uint8_t pseud[32] = {0}, *buf;
	char num[48];
	size_t len, ci = rnd() % g->ncommunes, prov = ci / COMMUNES;
	uint32_t person = (uint32_t)(rnd() % 50000), matter = (uint32_t)(rnd() % 24);
	unsigned kind = (unsigned)(rnd() % 10);
	char *text = corpus_text(matter, person);
	const char *recv;

	/* A third of the petitions go to a department, the rest to communes. */
	recv = rnd() % 3 == 0 ? g->depts[prov * CM_ARRAY_LEN(dept_fields) +
					 rnd() % CM_ARRAY_LEN(dept_fields)]
			      : g->communes[ci];
	snprintf(num, sizeof(num), "B-%" PRIu64, n);
	memcpy(pseud, &person, sizeof(person));
	ref.pseudonym.data = pseud;
	ref.pseudonym.len = 32;
	p.received_at_ms = at_ms;
	p.receiving_agency = (char *)recv;
	p.channel = DONTHU__V1__CHANNEL__CHANNEL_POST;
	p.signer_count = rnd() % 50 == 0 ? 7 : 1;
	p.signed_ = true;
	p.summary = "Đơn của công dân";
	p.text = text;
	p.respondent = &r;
	r.name = (char *)(matter % 3 ? "UBND xã" : "Ông Nguyễn Văn Hùng");
	if (kind < 3) {
		p.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_COMPLAINT;
		p.round = DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_FIRST;
		p.complaint_subject =
			DONTHU__V1__COMPLAINT_SUBJECT__COMPLAINT_SUBJECT_ADMINISTRATIVE_DECISION;
		r.issuing_agency = rnd() % 2 ? (char *)recv : g->communes[rnd() % g->ncommunes];
	} else if (kind < 5) {
		p.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_DENUNCIATION;
		r.managing_agency = rnd() % 2 ? (char *)recv : g->communes[ci];
	} else {
		p.kind = kind < 8 ? DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK
				  : DONTHU__V1__PETITION_KIND__PETITION_KIND_RECOMMENDATION;
		p.field = (char *)pet_fields[rnd() % CM_ARRAY_LEN(pet_fields)];
		p.location_unit = g->units[ci];
	}
	pr.case_number = num;
	pr.petition = &p;
	pr.petitioners = refs;
	pr.n_petitioners = 1;
	ev.schema_version = 1;
	ev.producer = "intake";
	ev.sequence = n;
	ev.occurred_at_ms = at_ms;
	ev.case_number = num;
	ev.body_case = DONTHU__V1__ENVELOPE__BODY_PETITION_RECEIVED;
	ev.petition_received = &pr;
	cm_require(cm_env_pack_alloc(&ev, &buf, &len) == 0);
	cm_require(cm_env_unpack(buf, len, &out) == 0);
	free(buf);
	free(text);
	return out;
}

struct batch {
	struct routing_engine *e;
	cm_env **ev;
	size_t n;
	double apply_s;
};

static int batch_txn(struct cm_txn *t, void *arg)
{
	struct batch *b = arg;
	double t0 = now_s();

	for (size_t i = 0; i < b->n; i++) {
		int rc = routing_apply(b->e, t, b->ev[i]);
		if (rc)
			return rc;
	}
	b->apply_s = now_s() - t0;
	return 0;
}

static int cmd_decisions(const char *data_dir, uint64_t count, int runs)
{
	char *regdir = mktmp("reg"), *fields = cm_xasprintf("%s/register/fields.csv", data_dir);
	char *rules_path = cm_xasprintf("%s/routing/rules.json", data_dir), err[512];
	struct bigreg g;
	struct cm_register *reg = NULL;
	struct routing_rules *rules = NULL;
	struct routing_fieldmap *fm;
	double t0;
	int rc;

	gen_register(regdir, fields, &g);
	t0 = now_s();
	rc = cm_register_load(regdir, &reg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "generated register: %s\n", err);
		return 1;
	}
	printf("register agencies=%zu load_seconds=%.3f\n", cm_register_agency_count(reg),
	       now_s() - t0);
	if (routing_rules_load(rules_path, &rules, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fm = routing_fieldmap_build(reg);
	for (int run = 1; run <= runs; run++) {
		char *dir = mktmp("routing");
		struct cm_store_opts so = {.path = dir, .dbi_names = routing_dbi_names,
					   .ndbi = ROUTING_DB_COUNT, .map_size = (size_t)4 << 30};
		struct cm_feed_opts fo = {.producer = "routing", .log_dbi = ROUTING_DB_LOG};
		struct cm_store *s = NULL;
		struct cm_feed *feed = NULL;
		struct routing_engine e = {.rules = rules, .reg = reg, .fm = fm};
		cm_env **ev = cm_xcalloc(BATCH, sizeof(*ev));
		double total = 0, apply_total = 0, cpu_total = 0;
		int64_t at = cm_day_start_ms(cm_day_from_ymd(2026, 3, 2)) + 8 * 3600 * 1000;

		cm_require(cm_store_open(&so, &s) == 0);
		cm_require(cm_store_write(s, routing_schema_init, NULL) == 0);
		cm_require(cm_feed_new(s, &fo, &feed) == 0);
		e.feed = feed;
		rng = 0x2545f4914f6cdd1dULL + (uint64_t)run;
		for (uint64_t done = 0; done < count;) {
			struct batch b = {.e = &e, .ev = ev};
			double t1, c1;

			for (; b.n < BATCH && done + b.n < count; b.n++)
				ev[b.n] = make_petition(&g, done + b.n + 1, at + (int64_t)(done + b.n) * 2000);
			t1 = now_s();
			c1 = cpu_s();
			rc = cm_store_write(s, batch_txn, &b);
			total += now_s() - t1;
			cpu_total += cpu_s() - c1;
			apply_total += b.apply_s;
			if (rc) {
				fprintf(stderr, "batch: %s\n", cm_strerror(rc));
				return 1;
			}
			cm_feed_committed(feed);
			for (size_t i = 0; i < b.n; i++)
				cm_env_free(&ev[i]);
			done += b.n;
		}
		printf("decisions run=%d n=%" PRIu64 " events=%" PRIu64
		       " seconds=%.3f rate=%.0f apply_rate=%.0f cpu_rate=%.0f\n",
		       run, count, cm_feed_head(feed), total, (double)count / total,
		       (double)count / apply_total, (double)count / cpu_total);
		fflush(stdout);
		cm_feed_free(&feed);
		cm_store_close(&s);
		free(ev);
		rmrf(dir);
		free(dir);
	}
	routing_fieldmap_free(&fm);
	routing_rules_free(&rules);
	cm_register_free(&reg);
	rmrf(regdir);
	free(regdir);
	free(fields);
	free(rules_path);
	free(g.communes);
	free(g.units);
	free(g.depts);
	return 0;
}

/* ------------------------------------------------------------ dedup --- */

#define POOL 1536
#define PER_TXN 10000

struct ix {
	uint64_t cases, persons;
	struct routing_sketch *pool;
	uint64_t *person_of;	/* case -> person */
	uint32_t *text_of;	/* case -> index in pool */
	uint8_t (*keys)[20];
	double us;
	uint64_t visited, candidates;
	uint32_t queries;
};

/* How many petitions one person writes: mostly one to a few, and one
 * person in a thousand is a serial petitioner with 100 to 300. The same
 * distribution at every index size, so sizes compare the index, not the
 * heaviest writer. */
static uint32_t petitions_of_a_person(void)
{
	double u = (double)(rnd() % 1000000 + 1) / 1e6;

	if (rnd() % 1000 == 0)
		return 100 + (uint32_t)(rnd() % 201);
	return 1 + (uint32_t)(-1.5 * log(u));
}

static uint64_t pk_of(uint64_t person)
{
	uint8_t pseud[32] = {0};

	memcpy(pseud, &person, sizeof(person));
	return routing_person_key(pseud, sizeof(pseud), "ubnd xa");
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, 20);
}

struct build_ctx {
	struct ix *x;
	uint64_t from, to;
};

static int build_txn(struct cm_txn *t, void *arg)
{
	struct build_ctx *b = arg;
	struct ix *x = b->x;
	size_t nk = 0;

	/* Sorted inserts: LMDB appends to the same pages instead of jumping. */
	for (uint64_t c = b->from; c < b->to; c++) {
		const struct routing_sketch *s = &x->pool[x->text_of[c]];
		uint64_t pk = pk_of(x->person_of[c]);

		for (uint32_t i = 0; i < s->n && i < ROUTING_INDEX_K; i++) {
			cm_be64_put(x->keys[nk], pk);
			cm_be32_put(x->keys[nk] + 8, s->h[i]);
			cm_be64_put(x->keys[nk] + 12, c + 1);
			nk++;
		}
	}
	qsort(x->keys, nk, 20, cmp_key);
	for (size_t i = 0; i < nk; i++) {
		int rc = cm_txn_put(t, 0, x->keys[i], 20, "", 0, 0);
		if (rc)
			return rc;
	}
	return 0;
}

static int query_txn(struct cm_txn *t, void *arg)
{
	struct ix *x = arg;
	double t0 = now_s();

	x->visited = x->candidates = 0;
	for (uint32_t q = 0; q < x->queries; q++) {
		uint64_t c = rnd() % x->cases, *cand = NULL;
		size_t n = 0, v = 0;
		int rc = routing_dedup_candidates(t, 0, pk_of(x->person_of[c]),
						  &x->pool[x->text_of[c]], &cand, &n, &v);
		if (rc)
			return rc;
		x->visited += v;
		x->candidates += n;
		free(cand);
	}
	x->us = (now_s() - t0) * 1e6 / x->queries;
	return 0;
}

static int cmd_dedup(const char *data_dir, uint64_t cases, uint32_t queries, int runs)
{
	static const char *const names[] = {"dedup"};
	char *rules_path = cm_xasprintf("%s/routing/rules.json", data_dir), err[512];
	struct routing_rules *rules = NULL;
	char *dir = mktmp("dedup");
	struct cm_store_opts so = {.path = dir, .dbi_names = names, .ndbi = 1,
				   .map_size = (size_t)8 << 30, .nosync = true};
	struct cm_store *s = NULL;
	struct cm_store_stats st;
	struct ix x = {.cases = cases, .queries = queries};
	double t0;
	int rc;

	if (routing_rules_load(rules_path, &rules, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	x.pool = cm_xcalloc(POOL, sizeof(*x.pool));
	for (uint32_t i = 0; i < POOL; i++) {
		char *text = corpus_text(i % (uint32_t)corpus_matter_count(), i);
		cm_require(routing_sketch_text(&rules->dedup, NULL, text, &x.pool[i]) == 0);
		free(text);
	}
	x.person_of = cm_xcalloc(cases, sizeof(*x.person_of));
	x.text_of = cm_xcalloc(cases, sizeof(*x.text_of));
	x.keys = cm_xcalloc((size_t)PER_TXN * ROUTING_INDEX_K, sizeof(*x.keys));
	rng = 0x9e3779b97f4a7c15ULL;
	x.persons = 0;
	for (uint64_t c = 0; c < cases; x.persons++) {
		uint32_t k = petitions_of_a_person();
		/* A person's petitions are about a few matters of their own. */
		for (uint32_t i = 0; i < k && c < cases; i++, c++) {
			x.person_of[c] = x.persons;
			x.text_of[c] = (uint32_t)((x.persons * 131 + i % 4) % POOL);
		}
	}
	/* Cases arrive interleaved, not person by person. */
	for (uint64_t c = cases - 1; c > 0; c--) {
		uint64_t k = rnd() % (c + 1), tp = x.person_of[c];
		uint32_t tt = x.text_of[c];
		x.person_of[c] = x.person_of[k];
		x.text_of[c] = x.text_of[k];
		x.person_of[k] = tp;
		x.text_of[k] = tt;
	}
	cm_require(cm_store_open(&so, &s) == 0);
	t0 = now_s();
	for (uint64_t from = 0; from < cases; from += PER_TXN) {
		struct build_ctx b = {&x, from, from + PER_TXN < cases ? from + PER_TXN : cases};
		rc = cm_store_write(s, build_txn, &b);
		if (rc) {
			fprintf(stderr, "build: %s\n", cm_strerror(rc));
			return 1;
		}
	}
	cm_store_get_stats(s, &st);
	printf("dedup cases=%" PRIu64 " persons=%" PRIu64 " build_seconds=%.1f index_mb=%.0f\n",
	       cases, x.persons, now_s() - t0, (double)st.used_bytes / 1048576.0);
	for (int run = 1; run <= runs; run++) {
		rng = 0x1234567ULL + (uint64_t)run;
		rc = cm_store_read(s, query_txn, &x);
		if (rc) {
			fprintf(stderr, "query: %s\n", cm_strerror(rc));
			return 1;
		}
		printf("dedup cases=%" PRIu64 " run=%d us_per_lookup=%.2f entries_per_lookup=%.1f "
		       "candidates=%.1f\n",
		       cases, run, x.us, (double)x.visited / queries,
		       (double)x.candidates / queries);
		fflush(stdout);
	}
	cm_store_close(&s);
	rmrf(dir);
	free(dir);
	free(x.pool);
	free(x.person_of);
	free(x.text_of);
	free(x.keys);
	free(rules_path);
	routing_rules_free(&rules);
	return 0;
}

int main(int argc, char **argv)
{
	const char *data = getenv("DONTHU_DATA") ? getenv("DONTHU_DATA") : "data";

	cm_log_configure("warn");
	if (argc == 4 && strcmp(argv[1], "decisions") == 0)
		return cmd_decisions(data, strtoull(argv[2], NULL, 10), atoi(argv[3]));
	if (argc == 5 && strcmp(argv[1], "dedup") == 0)
		return cmd_dedup(data, strtoull(argv[2], NULL, 10), (uint32_t)atoi(argv[3]),
				 atoi(argv[4]));
	fprintf(stderr, "usage: routing_bench decisions COUNT RUNS\n"
			"       routing_bench dedup CASES QUERIES RUNS\n");
	return 2;
}

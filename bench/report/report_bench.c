/*
 * report_bench - figures for the report service on generated province data:
 *
 *   rebuild   events/s replaying the three feeds from sequence 1 into a fresh
 *             store (durable commits of 100,000 events, counters flushed once
 *             per commit, case history kept);
 *   live      events/s the way the running service applies them (commits of
 *             2,000 events as the feed consumer fetches them, counters
 *             flushed after every event);
 *   report    latency of a province-level annual report (all units, 2026-Y)
 *             for every TT 01/2024 form, read from the rebuilt store;
 *   xlsx      time to write the province 01/XLD annual report as XLSX.
 *
 * Usage: report_bench CASES RUNS DIR DATA_DIR   (prints key=value lines)
 */
#include <inttypes.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/register.h"
#include "common/store.h"
#include "export.h"
#include "forms.h"
#include "model.h"
#include "query.h"
#include "report_gen.h"
#include "schema.h"

struct slice {
	struct report_model *m;
	const struct gen_feed *f;
	size_t from, to;
	bool per_event;
	int err;
};

static int slice_txn(struct cm_txn *t, void *arg)
{
	struct slice *s = arg;
	int producer = report_producer_id(s->f->producer), rc = 0;

	report_model_discard(s->m);
	for (size_t i = s->from; i < s->to && rc == 0; i++) {
		cm_env *ev = NULL;
		rc = cm_env_unpack(s->f->ev[i].buf, s->f->ev[i].len, &ev);
		if (rc == 0)
			rc = report_apply(s->m, t, producer, ev, s->f->ev[i].buf, s->f->ev[i].len);
		if (rc == 0 && s->per_event)
			rc = report_model_flush(s->m, t);
		cm_env_free(&ev);
	}
	return rc ? rc : report_model_flush(s->m, t);
}

static struct cm_store *open_store(const char *path)
{
	struct cm_store_opts so = {0};
	struct cm_store *s = NULL;
	int rc;

	so.path = path;
	so.dbi_names = report_dbi_names;
	so.ndbi = REPORT_DB_COUNT;
	so.map_size = (size_t)4 << 30;
	/* REPORT_BENCH_NOSYNC=1 shows what the commits' fsyncs cost. */
	so.nosync = getenv("REPORT_BENCH_NOSYNC") && *getenv("REPORT_BENCH_NOSYNC") == '1';
	rc = cm_store_open(&so, &s);
	if (rc == 0)
		rc = cm_store_write(s, report_schema_init, NULL);
	if (rc)
		cm_fatal(rc, "cannot open %s", path);
	return s;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Apply feeds[0..2] in order, `per` events per durable commit. Returns
 * events/s of wall time; *cpu_rate gets events per CPU second (what the code
 * costs when the machine is shared and the wall clock is not ours). */
static double replay(struct cm_store *s, const struct gen_feed feeds[3], size_t limit, size_t per,
		     bool per_event, size_t *applied, double *cpu_rate)
{
	struct report_model *m = report_model_new(true);
	uint64_t t0 = cm_clock_mono_ns();
	double c0 = cpu_seconds();

	if (getenv("REPORT_BENCH_CACHE"))
		report_model_cache_limit(m, strtoull(getenv("REPORT_BENCH_CACHE"), NULL, 10));
	size_t n = 0;

	for (int f = 0; f < 3 && n < limit; f++)
		for (size_t i = 0; i < feeds[f].n && n < limit; i += per) {
			size_t to = i + per < feeds[f].n ? i + per : feeds[f].n;
			struct slice sl = {m, &feeds[f], i, to, per_event, 0};
			int rc;
			if (to - i > limit - n)
				to = i + (limit - n);
			sl.to = to;
			rc = cm_store_write(s, slice_txn, &sl);
			if (rc)
				cm_fatal(rc, "replay failed");
			n += to - i;
		}
	report_model_free(&m);
	*applied = n;
	*cpu_rate = (double)n / (cpu_seconds() - c0);
	return (double)n / ((double)(cm_clock_mono_ns() - t0) / 1e9);
}

struct rq {
	struct report_qctx x;
	Donthu__V1__ReportQuery q;
	Donthu__V1__ReportReply *out;
};

static int rq_txn(struct cm_txn *t, void *arg)
{
	struct rq *r = arg;
	return report_query_report(t, &r->x, &r->q, &r->out);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void stats(const char *key, double *v, size_t n, const char *unit)
{
	qsort(v, n, sizeof(*v), cmp_d);
	printf("%s median=%.3f min=%.3f max=%.3f unit=%s runs=%zu\n", key, v[n / 2], v[0],
	       v[n - 1], unit, n);
}

int main(int argc, char **argv)
{
	size_t cases = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	const char *dir = argc > 3 ? argv[3] : "/tmp/donthu-benchreport";
	const char *data = argc > 4 ? argv[4] : "data";
	static const char *const forms[] = {"01/TCD", "01/XLD", "02/XLD", "03/XLD", "04/XLD",
					    "01/KQGQ", "02/KQGQ", "03/KQGQ", "04/KQGQ"};
	static const char *const fields[] = {"dat-dai", "nha-o", "lao-dong", "bao-hiem-xa-hoi",
					     "phap-luat", "to-chuc-can-bo", "y-te", "giao-duc",
					     "phong-chong-tham-nhung", "moi-truong", ""};
	struct cm_register *reg = NULL;
	struct report_forms *rf = NULL;
	struct gen_feed feeds[3];
	struct gen_params p = {0};
	const char *agencies[256];
	size_t na = 0, total, applied;
	char err[512], *path;
	double *rate, *live, *lat, *xl, *rcpu, *lcpu;
	struct cm_store *s = NULL;
	uint64_t t0;

	/* Events per rebuild transaction (REPORT_BENCH_TXN, default 100,000):
	 * bigger ones write each dirty page fewer times. */
	size_t rebuild_txn = getenv("REPORT_BENCH_TXN") ? strtoull(getenv("REPORT_BENCH_TXN"), NULL, 10)
							: 100000;

	cm_log_set_service("report_bench");
	if (rebuild_txn < 1)
		rebuild_txn = 1;
	cm_log_configure("warn");
	if (runs < 1)
		runs = 1;
	path = cm_xasprintf("%s/register", data);
	if (cm_register_load(path, &reg, err, sizeof(err)))
		cm_fatal(CM_ECONFIG, "register: %s", err);
	free(path);
	path = cm_xasprintf("%s/forms", data);
	if (report_forms_load(path, &rf, err, sizeof(err)))
		cm_fatal(CM_ECONFIG, "forms: %s", err);
	free(path);
	/* Every unit of the province's tree active in the year. */
	for (size_t i = 0; i < cm_register_agency_count(reg) && na < 256; i++) {
		const struct cm_agency *a = cm_register_agency_at(reg, i);
		if (cm_agency_active(a, cm_day_from_ymd(2026, 6, 1)) &&
		    cm_register_is_under(reg, a, cm_register_agency(reg, "DN-UBND")))
			agencies[na++] = a->code;
	}
	p.seed = 1;
	p.cases = cases;
	p.first_day = cm_day_from_ymd(2025, 12, 15);
	p.last_day = cm_day_from_ymd(2026, 12, 14);
	p.agencies = agencies;
	p.nagencies = na;
	p.fields = fields;
	p.nfields = CM_ARRAY_LEN(fields);
	t0 = cm_clock_mono_ns();
	gen_feeds(&p, feeds);
	total = feeds[0].n + feeds[1].n + feeds[2].n;
	printf("generated cases=%zu agencies=%zu events=%zu (intake %zu, routing %zu, deadline %zu) "
	       "seconds=%.1f\n",
	       cases, na, total, feeds[0].n, feeds[1].n, feeds[2].n,
	       (double)(cm_clock_mono_ns() - t0) / 1e9);
	fflush(stdout);

	rate = cm_xcalloc((size_t)runs, sizeof(*rate));
	live = cm_xcalloc((size_t)runs, sizeof(*live));
	rcpu = cm_xcalloc((size_t)runs, sizeof(*rcpu));
	lcpu = cm_xcalloc((size_t)runs, sizeof(*lcpu));
	for (int r = 0; r < runs; r++) {
		char *d = cm_xasprintf("%s/live%d", dir, r);
		size_t lim = total < 500000 ? total : 500000;
		/* REPORT_BENCH_LIVE=0 skips the live measurement (profiling). */
		if (getenv("REPORT_BENCH_LIVE") && *getenv("REPORT_BENCH_LIVE") == '0')
			lim = 0;
		s = open_store(d);
		live[r] = replay(s, feeds, lim, 2000, true, &applied, &lcpu[r]);
		cm_store_close(&s);
		free(d);
		d = cm_xasprintf("%s/rebuild%d", dir, r);
		s = open_store(d);
		rate[r] = replay(s, feeds, total, rebuild_txn, false, &applied, &rcpu[r]);
		free(d);
		printf("run %d: rebuild %.0f events/s (%.0f per CPU second), live %.0f events/s "
		       "(%.0f per CPU second)\n",
		       r + 1, rate[r], rcpu[r], live[r], lcpu[r]);
		fflush(stdout);
		if (r + 1 < runs)
			cm_store_close(&s);
	}
	stats("rebuild_events_per_s", rate, (size_t)runs, "events/s");
	stats("live_events_per_s", live, (size_t)runs, "events/s");
	stats("rebuild_events_per_cpu_s", rcpu, (size_t)runs, "events/cpu-s");
	stats("live_events_per_cpu_s", lcpu, (size_t)runs, "events/cpu-s");
	gen_free(feeds);

	/* Reports from the last rebuilt store. */
	lat = cm_xcalloc(9 * CM_ARRAY_LEN(forms), sizeof(*lat));
	for (size_t f = 0; f < CM_ARRAY_LEN(forms); f++) {
		double one[9];
		for (int k = 0; k < 9; k++) {
			struct rq q = {{reg, rf, NULL, cm_day_from_ymd(2026, 12, 20)},
				       DONTHU__V1__REPORT_QUERY__INIT, NULL};
			q.q.form = (char *)forms[f];
			q.q.agency = "DN-UBND";
			q.q.period = "2026-Y";
			q.q.include_subunits = true;
			t0 = cm_clock_mono_ns();
			if (cm_store_read(s, rq_txn, &q) != 0 || q.out->error)
				cm_fatal(CM_EINVALID, "report %s failed", forms[f]);
			one[k] = (double)(cm_clock_mono_ns() - t0) / 1e6;
			lat[f * 9 + (size_t)k] = one[k];
			if (f == 1 && k == 0)
				printf("province 01/XLD 2026-Y: %zu rows, petitions to handle %" PRId64 "\n",
				       q.out->n_rows, q.out->rows[q.out->n_rows - 1]->cells[0]->i);
			donthu__v1__report_reply__free_unpacked(q.out, NULL);
		}
		{
			char key[64];
			snprintf(key, sizeof(key), "report_ms form=%s", forms[f]);
			stats(key, one, 9, "ms");
		}
	}
	stats("report_ms form=all", lat, 9 * CM_ARRAY_LEN(forms), "ms");

	xl = cm_xcalloc((size_t)runs + 2, sizeof(*xl));
	for (int k = 0; k < runs + 2; k++) {
		struct rq q = {{reg, rf, NULL, cm_day_from_ymd(2026, 12, 20)},
			       DONTHU__V1__REPORT_QUERY__INIT, NULL};
		char *out = cm_xasprintf("%s/province-01XLD-%d.xlsx", dir, k);
		q.q.form = "01/XLD";
		q.q.agency = "DN-UBND";
		q.q.period = "2026-Y";
		q.q.include_subunits = true;
		if (cm_store_read(s, rq_txn, &q) != 0)
			cm_fatal(CM_EINVALID, "report failed");
		t0 = cm_clock_mono_ns();
		if (report_export_xlsx(q.out, out) != 0)
			cm_fatal(-EIO, "xlsx failed");
		xl[k] = (double)(cm_clock_mono_ns() - t0) / 1e6;
		donthu__v1__report_reply__free_unpacked(q.out, NULL);
		free(out);
	}
	stats("xlsx_ms form=01/XLD rows=province", xl, (size_t)runs + 2, "ms");
	{
		struct cm_store_stats st;
		cm_store_get_stats(s, &st);
		printf("store used_bytes=%" PRIu64 "\n", st.used_bytes);
	}
	cm_store_close(&s);
	cm_register_free(&reg);
	report_forms_free(&rf);
	free(rate);
	free(live);
	free(rcpu);
	free(lcpu);
	free(lat);
	free(xl);
	return 0;
}

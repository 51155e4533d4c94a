/*
 * test_store.c - the LMDB wrapper on real temporary environments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/store.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const names[] = {"main", "log"};
enum { DB_MAIN, DB_LOG };

struct fixture {
	char dir[64];	/* mkdtemp root, removed at teardown */
	char env[96];	/* store directory, created by cm_store_open */
	char copy[96];	/* backup target */
};

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	chmod(p, 0700);
	return remove(p);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/cm_store_XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->env, sizeof(f->env), "%s/env", f->dir);
	snprintf(f->copy, sizeof(f->copy), "%s/copy", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	chmod(f->env, 0700);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static struct cm_store *open_store(const char *path, size_t map, size_t max)
{
	struct cm_store_opts o = {
		.path = path, .dbi_names = names, .ndbi = 2, .map_size = map, .map_max = max,
	};
	struct cm_store *s = NULL;

	assert_int_equal(cm_store_open(&o, &s), 0);
	assert_non_null(s);
	return s;
}

/* Transaction bodies are driven by small "op lists" so tests read linearly. */
struct kv {
	const char *k;
	const char *v;
	unsigned flags;
	int expect;
};

struct put_list {
	unsigned dbi;
	const struct kv *kv;
	size_t n;
	int ret;
};

static int put_all(struct cm_txn *t, void *arg)
{
	struct put_list *pl = arg;

	for (size_t i = 0; i < pl->n; i++) {
		const struct kv *e = &pl->kv[i];
		int rc = cm_txn_put(t, pl->dbi, e->k, strlen(e->k), e->v, strlen(e->v), e->flags);
		assert_int_equal(rc, e->expect);
	}
	return pl->ret;
}

struct get_one {
	unsigned dbi;
	const char *k;
	char buf[256];
	int rc;
};

static int get_fn(struct cm_txn *t, void *arg)
{
	struct get_one *g = arg;
	struct cm_val v;

	g->rc = cm_txn_get(t, g->dbi, g->k, strlen(g->k), &v);
	if (g->rc == 0) {
		assert_true(v.size < sizeof(g->buf));
		memcpy(g->buf, v.data, v.size);
		g->buf[v.size] = '\0';
	}
	return 0;
}

static int lookup(struct cm_store *s, unsigned dbi, const char *k, char *buf)
{
	struct get_one g = {.dbi = dbi, .k = k};

	assert_int_equal(cm_store_read(s, get_fn, &g), 0);
	if (buf && g.rc == 0)
		strcpy(buf, g.buf);
	return g.rc;
}

struct count_arg {
	unsigned dbi;
	uint64_t n;
};

static int count_fn(struct cm_txn *t, void *arg)
{
	struct count_arg *c = arg;

	return cm_txn_count(t, c->dbi, &c->n);
}

static uint64_t count(struct cm_store *s, unsigned dbi)
{
	struct count_arg c = {.dbi = dbi};

	assert_int_equal(cm_store_read(s, count_fn, &c), 0);
	return c.n;
}

/* Collects visited keys as one string, "a,b,c,". */
struct walk {
	char seen[512];
	int stop_at;	/* stop (returning 7) at this visit, 0 = never */
	int visits;
	struct cm_txn *del_txn; /* delete every visited key when set */
};

static int collect(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct walk *w = arg;
	size_t n = strlen(w->seen);

	(void)v;
	memcpy(w->seen + n, k->data, k->size);
	w->seen[n + k->size] = ',';
	w->seen[n + k->size + 1] = '\0';
	if (w->del_txn) {
		/* Copy first: the key points into the page the delete rewrites. */
		char key[64];
		size_t kl = k->size;
		memcpy(key, k->data, kl);
		assert_int_equal(cm_txn_del(w->del_txn, DB_MAIN, key, kl), 0);
	}
	if (++w->visits == w->stop_at)
		return 7;
	return 0;
}

static int insert_abcde(struct cm_store *s)
{
	static const struct kv kv[] = {
		{"b", "2", 0, 0}, {"d", "4", 0, 0}, {"a", "1", 0, 0}, {"c", "3", 0, 0},
		{"e", "5", 0, 0},
	};
	struct put_list pl = {DB_MAIN, kv, 5, 0};

	return cm_store_write(s, put_all, &pl);
}

static int walks(struct cm_txn *t, void *arg)
{
	struct walk w;
	struct cm_val k, v;
	(void)arg;

	memset(&w, 0, sizeof(w));
	assert_int_equal(cm_txn_iter(t, DB_MAIN, NULL, 0, collect, &w), 0);
	assert_string_equal(w.seen, "a,b,c,d,e,");

	memset(&w, 0, sizeof(w));
	assert_int_equal(cm_txn_iter(t, DB_MAIN, "bb", 2, collect, &w), 0);
	assert_string_equal(w.seen, "c,d,e,");

	memset(&w, 0, sizeof(w));
	assert_int_equal(cm_txn_iter(t, DB_MAIN, "c", 1, collect, &w), 0);
	assert_string_equal(w.seen, "c,d,e,");

	memset(&w, 0, sizeof(w));
	assert_int_equal(cm_txn_iter(t, DB_MAIN, "z", 1, collect, &w), 0);
	assert_string_equal(w.seen, "");

	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	assert_int_equal(cm_txn_iter(t, DB_MAIN, NULL, 0, collect, &w), 7);
	assert_string_equal(w.seen, "a,b,");

	memset(&w, 0, sizeof(w));
	assert_int_equal(cm_txn_iter_rev(t, DB_MAIN, NULL, 0, collect, &w), 0);
	assert_string_equal(w.seen, "e,d,c,b,a,");

	memset(&w, 0, sizeof(w));
	assert_int_equal(cm_txn_iter_rev(t, DB_MAIN, "cc", 2, collect, &w), 0);
	assert_string_equal(w.seen, "c,b,a,");

	memset(&w, 0, sizeof(w));
	assert_int_equal(cm_txn_iter_rev(t, DB_MAIN, "c", 1, collect, &w), 0);
	assert_string_equal(w.seen, "c,b,a,");

	memset(&w, 0, sizeof(w));
	assert_int_equal(cm_txn_iter_rev(t, DB_MAIN, "z", 1, collect, &w), 0);
	assert_string_equal(w.seen, "e,d,c,b,a,");

	memset(&w, 0, sizeof(w));
	assert_int_equal(cm_txn_iter_rev(t, DB_MAIN, "0", 1, collect, &w), 0);
	assert_string_equal(w.seen, "");

	memset(&w, 0, sizeof(w));
	w.stop_at = 1;
	assert_int_equal(cm_txn_iter_rev(t, DB_MAIN, NULL, 0, collect, &w), 7);
	assert_string_equal(w.seen, "e,");

	assert_int_equal(cm_txn_last(t, DB_MAIN, &k, &v), 0);
	assert_int_equal(k.size, 1);
	assert_memory_equal(k.data, "e", 1);
	assert_memory_equal(v.data, "5", 1);
	assert_int_equal(cm_txn_last(t, DB_LOG, &k, &v), -ENOENT);

	memset(&w, 0, sizeof(w));
	assert_int_equal(cm_txn_iter(t, DB_LOG, NULL, 0, collect, &w), 0);
	assert_string_equal(w.seen, "");
	assert_int_equal(cm_txn_iter_rev(t, DB_LOG, NULL, 0, collect, &w), 0);
	assert_string_equal(w.seen, "");

	/* Writes are refused in a read transaction. */
	assert_int_equal(cm_txn_put(t, DB_MAIN, "x", 1, "y", 1, 0), -EACCES);
	assert_int_equal(cm_txn_del(t, DB_MAIN, "a", 1), -EACCES);
	assert_ptr_equal(cm_txn_store(t), *(struct cm_store **)arg);
	return 0;
}

static int misc_ops(struct cm_txn *t, void *arg)
{
	char longkey[600];
	void *where = NULL;
	struct cm_val v;
	uint64_t n = 0;
	(void)arg;

	memset(longkey, 'k', sizeof(longkey));
	assert_int_equal(cm_txn_put(t, DB_MAIN, longkey, 512, "v", 1, 0), -EINVAL);
	assert_int_equal(cm_txn_put(t, DB_MAIN, longkey, 511, "v", 1, 0), 0);
	assert_int_equal(cm_txn_put(t, DB_MAIN, "", 0, "v", 1, 0), -EINVAL);
	assert_int_equal(cm_txn_put(t, 2, "a", 1, "v", 1, 0), -EINVAL);
	assert_int_equal(cm_txn_put(t, DB_MAIN, "a", 1, "v", 1, 1u << 5), -EINVAL);
	assert_int_equal(cm_txn_get(t, DB_MAIN, "nope", 4, &v), -ENOENT);
	assert_int_equal(cm_txn_del(t, DB_MAIN, "nope", 4), -ENOENT);

	/* NOOVERWRITE on an existing key, and the transaction goes on. */
	assert_int_equal(cm_txn_put(t, DB_MAIN, "a", 1, "new", 3, CM_PUT_NOOVERWRITE), -EEXIST);

	/* APPEND: in order works, out of order and duplicates are refused
	 * without spoiling the transaction. */
	assert_int_equal(cm_txn_put(t, DB_LOG, "k1", 2, "x", 1, CM_PUT_APPEND), 0);
	assert_int_equal(cm_txn_put(t, DB_LOG, "k3", 2, "x", 1, CM_PUT_APPEND), 0);
	assert_int_equal(cm_txn_put(t, DB_LOG, "k2", 2, "x", 1, CM_PUT_APPEND), -EINVAL);
	assert_int_equal(cm_txn_put(t, DB_LOG, "k3", 2, "x", 1, CM_PUT_APPEND), -EINVAL);
	assert_int_equal(cm_txn_put(t, DB_LOG, "k3", 2, "x", 1,
				    CM_PUT_APPEND | CM_PUT_NOOVERWRITE), -EEXIST);
	assert_int_equal(cm_txn_put(t, DB_LOG, "k4", 2, "x", 1, CM_PUT_APPEND), 0);

	/* Reserve, then fill in place. */
	assert_int_equal(cm_txn_reserve(t, DB_MAIN, "r", 1, 5, 0, &where), 0);
	assert_non_null(where);
	memcpy(where, "hello", 5);
	assert_int_equal(cm_txn_reserve(t, DB_MAIN, "r", 1, 5, CM_PUT_NOOVERWRITE, &where), -EEXIST);

	/* Empty values are values. */
	assert_int_equal(cm_txn_put(t, DB_MAIN, "empty", 5, NULL, 0, 0), 0);
	assert_int_equal(cm_txn_get(t, DB_MAIN, "empty", 5, &v), 0);
	assert_int_equal(v.size, 0);

	assert_int_equal(cm_txn_del(t, DB_MAIN, "b", 1), 0);
	assert_int_equal(cm_txn_count(t, DB_LOG, &n), 0);
	assert_int_equal(n, 3);
	return 0;
}

static void test_basic_ops(void **state)
{
	struct fixture *f = *state;
	struct cm_store *s = open_store(f->env, 0, 0);
	struct stat st;
	char buf[256];

	assert_int_equal(stat(f->env, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	assert_int_equal(insert_abcde(s), 0);
	assert_int_equal(lookup(s, DB_MAIN, "c", buf), 0);
	assert_string_equal(buf, "3");
	assert_int_equal(lookup(s, DB_MAIN, "zz", NULL), -ENOENT);
	assert_int_equal(lookup(s, DB_LOG, "c", NULL), -ENOENT);
	assert_int_equal(count(s, DB_MAIN), 5);
	assert_int_equal(cm_store_read(s, walks, &s), 0);

	assert_int_equal(cm_store_write(s, misc_ops, NULL), 0);
	assert_int_equal(lookup(s, DB_MAIN, "a", buf), 0);
	assert_string_equal(buf, "1");
	assert_int_equal(lookup(s, DB_MAIN, "r", buf), 0);
	assert_string_equal(buf, "hello");
	assert_int_equal(lookup(s, DB_MAIN, "b", NULL), -ENOENT);
	assert_int_equal(count(s, DB_MAIN), 7);
	assert_int_equal(count(s, DB_LOG), 3);

	struct cm_store_stats stats;
	cm_store_get_stats(s, &stats);
	assert_int_equal(stats.commits, 2);
	assert_int_equal(stats.grows, 0);
	assert_int_equal(stats.map_size, (uint64_t)64 << 20);
	assert_true(stats.used_bytes > 0);
	cm_store_close(&s);
	assert_null(s);
	cm_store_close(&s);
	cm_store_close(NULL);

	/* Reopen keeps everything. */
	s = open_store(f->env, 0, 0);
	assert_int_equal(count(s, DB_MAIN), 7);
	assert_int_equal(lookup(s, DB_MAIN, "e", buf), 0);
	assert_string_equal(buf, "5");
	cm_store_close(&s);
}

static void test_fn_error_aborts(void **state)
{
	struct fixture *f = *state;
	struct cm_store *s = open_store(f->env, 0, 0);
	static const struct kv kv[] = {{"x", "1", 0, 0}, {"y", "2", 0, 0}};
	struct put_list pl = {DB_MAIN, kv, 2, -ECANCELED};

	assert_int_equal(cm_store_write(s, put_all, &pl), -ECANCELED);
	assert_int_equal(count(s, DB_MAIN), 0);
	pl.ret = 0;
	assert_int_equal(cm_store_write(s, put_all, &pl), 0);
	assert_int_equal(count(s, DB_MAIN), 2);
	cm_store_close(&s);
}

static int del_walk(struct cm_txn *t, void *arg)
{
	struct walk *w = arg;

	w->del_txn = t;
	return cm_txn_iter(t, DB_MAIN, "b", 1, collect, w);
}

static int del_walk_rev(struct cm_txn *t, void *arg)
{
	struct walk *w = arg;

	w->del_txn = t;
	return cm_txn_iter_rev(t, DB_MAIN, "d", 1, collect, w);
}

/* Expiry sweeps delete what they visit; the walk must not skip or repeat. */
static void test_delete_while_iterating(void **state)
{
	struct fixture *f = *state;
	struct cm_store *s = open_store(f->env, 0, 0);
	struct walk w;

	assert_int_equal(insert_abcde(s), 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(cm_store_write(s, del_walk, &w), 0);
	assert_string_equal(w.seen, "b,c,d,e,");
	assert_int_equal(count(s, DB_MAIN), 1);

	assert_int_equal(insert_abcde(s), 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(cm_store_write(s, del_walk_rev, &w), 0);
	assert_string_equal(w.seen, "d,c,b,a,");
	assert_int_equal(count(s, DB_MAIN), 1);
	assert_int_equal(lookup(s, DB_MAIN, "e", NULL), 0);
	cm_store_close(&s);
}

#define BIG_N 50000
#define BATCH 1000

static size_t value_for(uint64_t i, unsigned char *buf)
{
	size_t n = 40 + (size_t)(i * 7919 % 100);

	for (size_t j = 0; j < n; j++)
		buf[j] = (unsigned char)(i + j * 31);
	return n;
}

struct batch {
	uint64_t first;
	uint64_t n;
	unsigned runs;
};

static int put_batch(struct cm_txn *t, void *arg)
{
	struct batch *b = arg;
	unsigned char key[8], val[160];

	b->runs++;
	for (uint64_t i = b->first; i < b->first + b->n; i++) {
		size_t vl = value_for(i, val);
		int rc;

		cm_be64_put(key, i);
		rc = cm_txn_put(t, DB_LOG, key, sizeof(key), val, vl, CM_PUT_APPEND);
		if (rc)
			return rc;
	}
	return 0;
}

struct verify {
	uint64_t next;
};

static int verify_record(const struct cm_val *k, const struct cm_val *v, void *arg)
{
	struct verify *vr = arg;
	unsigned char val[160];
	size_t vl = value_for(vr->next, val);

	if (k->size != 8 || cm_be64_get(k->data) != vr->next || v->size != vl ||
	    memcmp(v->data, val, vl) != 0)
		return -EBADMSG;
	vr->next++;
	return 0;
}

static int verify_all(struct cm_txn *t, void *arg)
{
	return cm_txn_iter(t, DB_LOG, NULL, 0, verify_record, arg);
}

static void test_map_grows(void **state)
{
	struct fixture *f = *state;
	struct cm_store *s = open_store(f->env, 64 << 10, 64 << 20);
	struct cm_store_stats st;
	struct verify vr = {0};
	unsigned reruns = 0;

	for (uint64_t first = 0; first < BIG_N; first += BATCH) {
		struct batch b = {.first = first, .n = BATCH};
		assert_int_equal(cm_store_write(s, put_batch, &b), 0);
		reruns += b.runs - 1;
	}
	cm_store_get_stats(s, &st);
	assert_int_equal(st.commits, BIG_N / BATCH);
	assert_true(st.grows > 0);
	assert_int_equal(reruns, st.grows);
	assert_true(st.map_size > (64 << 10));
	assert_true(st.map_size <= (64 << 20));
	assert_true(st.used_bytes <= st.map_size);
	assert_true(st.commit_ns_total >= st.last_commit_ns);
	cm_store_close(&s);

	/* Reopen with the tiny initial map: LMDB adopts at least what is used. */
	s = open_store(f->env, 64 << 10, 64 << 20);
	assert_int_equal(count(s, DB_LOG), BIG_N);
	assert_int_equal(cm_store_read(s, verify_all, &vr), 0);
	assert_int_equal(vr.next, BIG_N);
	/* And keeps growing from there. */
	struct batch more = {.first = BIG_N, .n = BATCH};
	assert_int_equal(cm_store_write(s, put_batch, &more), 0);
	assert_int_equal(count(s, DB_LOG), BIG_N + BATCH);
	cm_store_close(&s);
}

struct reader_thread {
	struct cm_store *s;
	atomic_bool stop;
	uint64_t last;
	unsigned reads;
	int err;
};

static int read_log(struct cm_txn *t, void *arg)
{
	struct reader_thread *r = arg;
	struct cm_val k, v;
	uint64_t n = 0;
	int rc = cm_txn_count(t, DB_LOG, &n);

	if (rc)
		return rc;
	if (n == 0)
		return 0;
	/* Touch the newest page too: a remap under us would fault here. */
	rc = cm_txn_last(t, DB_LOG, &k, &v);
	if (rc)
		return rc;
	if (n < r->last || cm_be64_get(k.data) != n - 1)
		return -EBADMSG;
	r->last = n;
	return 0;
}

static void *reader_main(void *arg)
{
	struct reader_thread *r = arg;

	while (!atomic_load(&r->stop) && r->err == 0) {
		r->err = cm_store_read(r->s, read_log, r);
		r->reads++;
	}
	return NULL;
}

/* Worker threads may read while the loop thread writes and grows the map. */
static void test_read_on_thread_during_growth(void **state)
{
	struct fixture *f = *state;
	struct reader_thread r = {.s = open_store(f->env, 64 << 10, 64 << 20)};
	struct cm_store_stats st;
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);
	for (uint64_t first = 0; first < 20000; first += 500) {
		struct batch b = {.first = first, .n = 500};
		assert_int_equal(cm_store_write(r.s, put_batch, &b), 0);
	}
	atomic_store(&r.stop, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(r.err, 0);
	assert_true(r.reads > 0);
	cm_store_get_stats(r.s, &st);
	assert_true(st.grows > 0);
	assert_int_equal(count(r.s, DB_LOG), 20000);
	cm_store_close(&r.s);
}

static void test_map_cap_enospc(void **state)
{
	struct fixture *f = *state;
	struct cm_store *s = open_store(f->env, 64 << 10, 256 << 10);
	struct batch small = {.first = 0, .n = 10};
	struct batch huge = {.first = 10, .n = 20000};
	struct cm_store_stats st;

	assert_int_equal(cm_store_write(s, put_batch, &small), 0);
	assert_int_equal(cm_store_write(s, put_batch, &huge), -ENOSPC);
	assert_true(huge.runs > 1);
	cm_store_get_stats(s, &st);
	assert_int_equal(st.map_size, 256 << 10);
	assert_int_equal(count(s, DB_LOG), 10);

	/* The store keeps working within its cap. */
	struct batch next = {.first = 10, .n = 10};
	assert_int_equal(cm_store_write(s, put_batch, &next), 0);
	assert_int_equal(count(s, DB_LOG), 20);
	cm_store_close(&s);
}

static void test_inject_failure(void **state)
{
	struct fixture *f = *state;
	struct cm_store *s = open_store(f->env, 0, 0);
	static const struct kv kv[] = {{"x", "1", 0, 0}};
	struct put_list pl = {DB_MAIN, kv, 1, 0};
	struct cm_store_stats st;

	cm_store_inject_failure(s, -EIO, 1);
	assert_int_equal(cm_store_write(s, put_all, &pl), -EIO);
	assert_int_equal(lookup(s, DB_MAIN, "x", NULL), -ENOENT);
	assert_int_equal(cm_store_write(s, put_all, &pl), 0);
	assert_int_equal(lookup(s, DB_MAIN, "x", NULL), 0);

	/* A full disk is not a full map: no growth, nothing written. */
	static const struct kv kv2[] = {{"y", "2", 0, 0}};
	struct put_list pl2 = {DB_MAIN, kv2, 1, 0};
	cm_store_inject_failure(s, -ENOSPC, 2);
	assert_int_equal(cm_store_write(s, put_all, &pl2), -ENOSPC);
	assert_int_equal(cm_store_write(s, put_all, &pl2), -ENOSPC);
	assert_int_equal(lookup(s, DB_MAIN, "y", NULL), -ENOENT);
	cm_store_get_stats(s, &st);
	assert_int_equal(st.grows, 0);
	assert_int_equal(st.commits, 1);
	assert_int_equal(cm_store_write(s, put_all, &pl2), 0);
	assert_int_equal(lookup(s, DB_MAIN, "y", NULL), 0);
	cm_store_close(&s);
}

static int noop(struct cm_txn *t, void *arg)
{
	(void)t;
	(void)arg;
	return 0;
}

static int nested_in_write(struct cm_txn *t, void *arg)
{
	struct fixture *f = arg;
	struct cm_store *s = cm_txn_store(t);

	assert_int_equal(cm_store_write(s, noop, NULL), -EBUSY);
	assert_int_equal(cm_store_read(s, noop, NULL), -EBUSY);
	assert_int_equal(cm_store_backup(s, f->copy), -EBUSY);
	return cm_txn_put(t, DB_MAIN, "outer", 5, "1", 1, 0);
}

static int nested_in_read(struct cm_txn *t, void *arg)
{
	(void)arg;
	assert_int_equal(cm_store_write(cm_txn_store(t), noop, NULL), -EBUSY);
	assert_int_equal(cm_store_read(cm_txn_store(t), noop, NULL), -EBUSY);
	return 0;
}

static void test_nested_refused(void **state)
{
	struct fixture *f = *state;
	struct cm_store *s = open_store(f->env, 0, 0);

	assert_int_equal(cm_store_write(s, nested_in_write, f), 0);
	assert_int_equal(cm_store_read(s, nested_in_read, NULL), 0);
	assert_int_equal(lookup(s, DB_MAIN, "outer", NULL), 0);
	cm_store_close(&s);
}

static void test_bad_opts_and_double_open(void **state)
{
	struct fixture *f = *state;
	const char *dup[] = {"a", "a"};
	const char *many[33];
	struct cm_store_opts o = {.path = f->env, .dbi_names = names, .ndbi = 2};
	struct cm_store *s = NULL, *s2 = (struct cm_store *)&o;

	for (unsigned i = 0; i < 33; i++)
		many[i] = "x";
	assert_int_equal(cm_store_open(NULL, &s), -EINVAL);
	assert_int_equal(cm_store_open(&o, NULL), -EINVAL);
	o.dbi_names = many;
	o.ndbi = 33;
	assert_int_equal(cm_store_open(&o, &s), -EINVAL);
	o.dbi_names = dup;
	o.ndbi = 2;
	assert_int_equal(cm_store_open(&o, &s), -EINVAL);
	o.dbi_names = names;
	o.map_size = 2 << 20;
	o.map_max = 1 << 20;
	assert_int_equal(cm_store_open(&o, &s), -EINVAL);
	assert_null(s);

	o.map_size = o.map_max = 0;
	assert_int_equal(cm_store_open(&o, &s), 0);
	assert_int_equal(cm_store_open(&o, &s2), -EBUSY);
	assert_null(s2);
	cm_store_close(&s);
	assert_int_equal(cm_store_open(&o, &s), 0);
	cm_store_close(&s);

	/* The parent must exist; only the last component is created. */
	char deep[160];
	snprintf(deep, sizeof(deep), "%s/no/such", f->dir);
	o.path = deep;
	assert_int_equal(cm_store_open(&o, &s), -ENOENT);
	assert_int_equal(cm_store_write(NULL, noop, NULL), -EINVAL);
	assert_int_equal(cm_store_read(NULL, noop, NULL), -EINVAL);
}

static void test_read_only(void **state)
{
	struct fixture *f = *state;
	struct cm_store *s = open_store(f->env, 0, 0);
	const char *other[] = {"main", "missing"};
	struct cm_store_opts o = {.path = f->env, .dbi_names = names, .ndbi = 2, .read_only = true};
	char buf[256];

	assert_int_equal(insert_abcde(s), 0);
	cm_store_close(&s);

	assert_int_equal(cm_store_open(&o, &s), 0);
	assert_int_equal(lookup(s, DB_MAIN, "a", buf), 0);
	assert_string_equal(buf, "1");
	assert_int_equal(cm_store_write(s, noop, NULL), -EACCES);
	cm_store_close(&s);

	o.dbi_names = other;
	assert_int_equal(cm_store_open(&o, &s), -ENOENT);
	assert_null(s);
}

static void test_no_permission(void **state)
{
	struct fixture *f = *state;
	struct cm_store_opts o = {.path = f->env, .dbi_names = names, .ndbi = 2};
	struct cm_store *s = NULL;

	if (geteuid() == 0)
		skip(); /* root ignores permissions; test_corrupt_file covers the bad-open path */
	assert_int_equal(mkdir(f->env, 0700), 0);
	assert_int_equal(chmod(f->env, 0), 0);
	assert_int_equal(cm_store_open(&o, &s), -EACCES);
	assert_null(s);
}

static void test_corrupt_file(void **state)
{
	struct fixture *f = *state;
	struct cm_store_opts o = {.path = f->env, .dbi_names = names, .ndbi = 2};
	struct cm_store *s = NULL;
	unsigned char junk[16384];
	uint32_t x = 12345;
	char file[160];
	int fd;

	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (unsigned char)(x >> 16);
	}
	assert_int_equal(mkdir(f->env, 0700), 0);
	snprintf(file, sizeof(file), "%s/data.mdb", f->env);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(cm_store_open(&o, &s), CM_ECORRUPT);
	assert_null(s);

	/* A path that is a file is not a store. */
	o.path = file;
	assert_int_equal(cm_store_open(&o, &s), -ENOTDIR);
	assert_null(s);
}

/* Children below use raw LMDB on their own fresh environment handle, never
 * one inherited through fork(). */
static MDB_env *child_env(const char *path, size_t map)
{
	MDB_env *env = NULL;

	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
	    (map && mdb_env_set_mapsize(env, map)) || mdb_env_open(env, path, 0, 0600))
		_exit(10);
	return env;
}

static void write_byte(int fd, char c)
{
	while (write(fd, &c, 1) != 1)
		if (errno != EINTR)
			_exit(11);
}

static char read_byte(int fd)
{
	char c = 0;

	while (read(fd, &c, 1) < 0)
		if (errno != EINTR)
			return 0;
	return c;
}

struct find_pid {
	pid_t pid;
	bool found;
};

static int reader_line(const char *msg, void *ctx)
{
	struct find_pid *fp = ctx;
	int pid;

	if (sscanf(msg, "%d", &pid) == 1 && pid == fp->pid)
		fp->found = true;
	return 0;
}

/* Keeps the environment open (so a later opener does not reset the lock
 * table) and answers "is pid P in the reader table?". */
static void watcher_main(const char *path, int cmd_fd, int ans_fd)
{
	MDB_env *env = child_env(path, 0);

	alarm(30);
	write_byte(ans_fd, 'R');
	for (;;) {
		struct find_pid fp = {0};

		if (read_byte(cmd_fd) != 'L')
			break;
		if (read(cmd_fd, &fp.pid, sizeof(fp.pid)) != sizeof(fp.pid))
			break;
		mdb_reader_list(env, reader_line, &fp);
		write_byte(ans_fd, fp.found ? 'Y' : 'N');
	}
	mdb_env_close(env);
	_exit(0);
}

static bool reader_listed(int cmd_fd, int ans_fd, pid_t pid)
{
	char c;

	write_byte(cmd_fd, 'L');
	assert_int_equal(write(cmd_fd, &pid, sizeof(pid)), sizeof(pid));
	c = read_byte(ans_fd);
	assert_true(c == 'Y' || c == 'N');
	return c == 'Y';
}

static void test_stale_reader_cleared(void **state)
{
	struct fixture *f = *state;
	struct cm_store *s = open_store(f->env, 0, 0);
	int cmd[2], ans[2], ready[2];
	pid_t watcher, reader;
	int status;

	assert_int_equal(insert_abcde(s), 0);
	cm_store_close(&s);
	assert_int_equal(pipe(cmd), 0);
	assert_int_equal(pipe(ans), 0);
	assert_int_equal(pipe(ready), 0);

	watcher = fork();
	assert_true(watcher >= 0);
	if (watcher == 0) {
		close(cmd[1]);
		close(ans[0]);
		watcher_main(f->env, cmd[0], ans[1]);
	}
	close(cmd[0]);
	close(ans[1]);
	assert_int_equal(read_byte(ans[0]), 'R');

	reader = fork();
	assert_true(reader >= 0);
	if (reader == 0) {
		MDB_env *env = child_env(f->env, 0);
		MDB_txn *txn;

		alarm(30);
		if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
			_exit(12);
		write_byte(ready[1], 'R');
		for (;;)
			pause();
	}
	assert_int_equal(read_byte(ready[0]), 'R');
	assert_int_equal(kill(reader, SIGKILL), 0);
	assert_int_equal(waitpid(reader, &status, 0), reader);
	assert_true(WIFSIGNALED(status));

	assert_true(reader_listed(cmd[1], ans[0], reader));
	s = open_store(f->env, 0, 0);
	assert_false(reader_listed(cmd[1], ans[0], reader));
	assert_int_equal(count(s, DB_MAIN), 5);
	cm_store_close(&s);

	close(cmd[1]);
	assert_int_equal(waitpid(watcher, &status, 0), watcher);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ans[0]);
	close(ready[0]);
	close(ready[1]);
}

static char self_exe[4096];

/* Run as "test_store --grow-child DIR": another process that grows the map of
 * DIR by writing about 1.3 MiB. It is exec'd rather than just forked so that
 * it holds no copy of the parent's open environment at all. */
static int grow_child(const char *path)
{
	MDB_env *env = NULL;
	MDB_txn *txn;
	MDB_dbi dbi;
	unsigned char key[8], val[400];

	alarm(30);
	memset(val, 0xab, sizeof(val));
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
	    mdb_env_set_mapsize(env, 8 << 20) || mdb_env_open(env, path, 0, 0600))
		return 10;
	if (mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, "log", 0, &dbi))
		return 13;
	for (uint64_t i = 0; i < 3000; i++) {
		MDB_val k = {sizeof(key), key}, v = {sizeof(val), val};
		cm_be64_put(key, i);
		if (mdb_put(txn, dbi, &k, &v, 0))
			return 14;
	}
	if (mdb_txn_commit(txn))
		return 15;
	mdb_env_close(env);
	return 0;
}

/* Another process grows the map past ours: the next transaction adopts it. */
static void test_map_resized_elsewhere(void **state)
{
	struct fixture *f = *state;
	struct cm_store *s = open_store(f->env, 64 << 10, 64 << 20);
	pid_t child;
	int status;

	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		execl(self_exe, "test_store", "--grow-child", f->env, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	assert_int_equal(count(s, DB_LOG), 3000);
	struct batch b = {.first = 3000, .n = 100};
	assert_int_equal(cm_store_write(s, put_batch, &b), 0);
	assert_int_equal(count(s, DB_LOG), 3100);
	cm_store_close(&s);
}

static void test_backup(void **state)
{
	struct fixture *f = *state;
	struct cm_store *s = open_store(f->env, 0, 0);
	struct cm_store *c = NULL;
	char missing[160], buf[256];

	assert_int_equal(insert_abcde(s), 0);
	assert_int_equal(mkdir(f->copy, 0700), 0);
	/* What a copy cut short leaves behind is replaced, never taken for one. */
	snprintf(buf, sizeof(buf), "%s/data.mdb.part", f->copy);
	FILE *junk = fopen(buf, "w");
	assert_non_null(junk);
	fputs("half a copy", junk);
	fclose(junk);
	assert_int_equal(cm_store_backup(s, f->copy), 0);
	assert_int_equal(access(buf, F_OK), -1);
	assert_int_equal(cm_store_backup(s, f->copy), -EEXIST);
	snprintf(missing, sizeof(missing), "%s/missing", f->dir);
	assert_int_equal(cm_store_backup(s, missing), -ENOENT);
	assert_int_equal(cm_store_backup(s, NULL), -EINVAL);

	/* Later writes do not reach the copy. */
	static const struct kv kv[] = {{"late", "x", 0, 0}};
	struct put_list pl = {DB_MAIN, kv, 1, 0};
	assert_int_equal(cm_store_write(s, put_all, &pl), 0);

	c = open_store(f->copy, 0, 0);
	assert_int_equal(count(c, DB_MAIN), 5);
	assert_int_equal(lookup(c, DB_MAIN, "d", buf), 0);
	assert_string_equal(buf, "4");
	assert_int_equal(lookup(c, DB_MAIN, "late", NULL), -ENOENT);
	cm_store_close(&c);
	cm_store_close(&s);
}

static void test_be_codecs(void **state)
{
	unsigned char a[8], b[8], c[4];
	(void)state;

	cm_be64_put(a, 255);
	cm_be64_put(b, 256);
	assert_true(memcmp(a, b, 8) < 0);
	assert_int_equal(cm_be64_get(b), 256);
	cm_be64_put(a, UINT64_MAX);
	assert_true(cm_be64_get(a) == UINT64_MAX);
	cm_be32_put(c, 0x01020304u);
	assert_int_equal(c[0], 1);
	assert_int_equal(c[3], 4);
	assert_int_equal(cm_be32_get(c), 0x01020304u);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fn_error_aborts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_while_iterating, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_on_thread_during_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_cap_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inject_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_opts_and_double_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_permission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_reader_cleared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_resized_elsewhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
		cmocka_unit_test(test_be_codecs),
	};

	if (argc == 3 && strcmp(argv[1], "--grow-child") == 0)
		return grow_child(argv[2]);
	/* Resolved here, not in the child: under valgrind /proc/self/exe is
	 * the tool, and only readlink is virtualised. */
	if (readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1) <= 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * store.c - every LMDB rule of the project lives here (style.md §3.1 rule 13,
 * §4.2).
 *
 * Locking: LMDB leaves "no transaction is active in this process while the
 * map is resized" to the caller, and a remap under a live read transaction
 * (a report job on a worker thread, a hot backup) would leave it reading
 * unmapped memory. So every transaction holds s->map_lock shared for its
 * whole life, and the map is only ever resized with it held exclusively.
 *
 * Nesting: a callback that calls back into its own store would either
 * deadlock on LMDB's writer mutex (write in write), self-deadlock on map_lock
 * once a resize is waiting, or see a snapshot without its own uncommitted
 * writes (read in write). A per-thread chain of active calls detects all of
 * these, and they are refused with -EBUSY.
 */
#include "common/store.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define STORE_MAX_DBI 32
#define DEFAULT_MAP_SIZE ((size_t)64 << 20)
#define DEFAULT_MAP_MAX ((size_t)64 << 30)
#define DEFAULT_MAX_READERS 126
/* Begin retries after MAP_RESIZED / READERS_FULL; Knot allows two, one more
 * covers a resize racing with a reader check. */
#define BEGIN_ATTEMPTS 3
/* Less free space than this after a short write means the disk is full. */
#define FULL_DISK_SLACK ((unsigned long long)1 << 20)

struct cm_store {
	MDB_env *env;
	MDB_dbi dbi[STORE_MAX_DBI];
	unsigned ndbi;
	unsigned max_key;
	size_t map_max;
	bool read_only;
	pid_t pid;
	dev_t dev;
	ino_t ino;
	char *path;
	struct cm_store *next_open;
	pthread_rwlock_t map_lock;
	/* Set when a remap failed: LMDB has then dropped its mapping and the
	 * environment must not be touched again. */
	atomic_bool broken;
	/* The error of the last commit (0 once one succeeds): a caller that
	 * retries a failed commit every second on a full disk must not log it
	 * every second. */
	atomic_int last_commit_err;
	atomic_bool cap_logged;	/* "map full at its cap" said since the last commit */
	/* Test hook; only the writing thread reads it. */
	int inject_err;
	unsigned inject_n;
	_Atomic uint64_t commits;
	_Atomic uint64_t grows;
	_Atomic uint64_t commit_ns_total;
	_Atomic uint64_t last_commit_ns;
};

struct cm_txn {
	struct cm_store *s;
	MDB_txn *txn;
	/* The first error that left the LMDB transaction unusable; every later
	 * operation returns it, and the transaction cannot commit. */
	int poison;
	/* MDB_MAP_FULL was hit: the runner grows the map and runs fn again,
	 * whatever fn made of the error. */
	bool map_full;
};

struct call_frame {
	const struct cm_store *s;
	struct call_frame *up;
};

static _Thread_local struct call_frame *active_calls;

/* Opening one environment twice in a process breaks LMDB's fcntl locks
 * (closing either handle drops the locks of both), so open stores are
 * registered by directory identity. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cm_store *open_stores;

static const char empty_value[1];

static int mdb_to_cm(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return -ENOSPC;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_INCOMPATIBLE:
	case MDB_CURSOR_FULL:
		return CM_ECORRUPT;
	case MDB_PANIC:
	case MDB_BAD_TXN:
	case MDB_PAGE_FULL:
		return CM_EPANIC;
	case MDB_VERSION_MISMATCH:
		return CM_EVERSION;
	case MDB_READERS_FULL:
	case MDB_MAP_RESIZED:
	case MDB_TLS_FULL:
		return -EAGAIN;
	case MDB_BAD_VALSIZE:
	case MDB_BAD_DBI:
	case MDB_DBS_FULL:
	case MDB_BAD_RSLOT:
		return -EINVAL;
	}
	if (rc > 0)
		return -rc;
	cm_log_error(STORE, "unknown lmdb error code=%d text=%s", rc, mdb_strerror(rc));
	return CM_EPANIC;
}

/* Errors after which LMDB has not flagged the transaction as failed: the
 * caller may go on using it (a NOOVERWRITE probe, a missing key). */
static bool txn_survives(int rc)
{
	return rc == MDB_NOTFOUND || rc == MDB_KEYEXIST || rc == MDB_BAD_VALSIZE || rc == EINVAL ||
	       rc == EACCES || rc == MDB_BAD_DBI;
}

/*
 * LMDB turns a short write into EIO without the errno, and a short write is
 * how a commit usually meets a full file system: the write that fills it
 * returns what fitted. Report that as -ENOSPC, as store.h promises for a
 * full disk, so callers say "disk full" rather than "I/O error".
 */
static int commit_error(const struct cm_store *s, int err)
{
	struct statvfs v;
	unsigned long long left;

	if (err != -EIO || statvfs(s->path, &v) != 0)
		return err;
	/* Root may also write into the blocks reserved for it. */
	left = (unsigned long long)(geteuid() == 0 ? v.f_bfree : v.f_bavail) * v.f_frsize;
	return left < FULL_DISK_SLACK ? -ENOSPC : err;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool in_call(const struct cm_store *s)
{
	for (const struct call_frame *f = active_calls; f; f = f->up)
		if (f->s == s)
			return true;
	return false;
}

static int usable(struct cm_store *s)
{
	if (!s)
		return -EINVAL;
	if (s->pid != getpid()) {
		cm_log_error(STORE, "store used in a forked child path=%s", s->path);
		return CM_EPANIC;
	}
	if (atomic_load(&s->broken))
		return CM_EPANIC;
	return 0;
}

/* Caller holds map_lock exclusively. */
static int set_mapsize_locked(struct cm_store *s, size_t size)
{
	int rc = mdb_env_set_mapsize(s->env, size);

	if (rc != MDB_SUCCESS) {
		/* On an mmap failure LMDB has already unmapped the old map and
		 * would never map again: the handle is dead. */
		atomic_store(&s->broken, true);
		cm_log_error_err(STORE, mdb_to_cm(rc), "remap failed, store unusable path=%s size=%zu",
				 s->path, size);
		return CM_EPANIC;
	}
	return 0;
}

static int adopt_map_size(struct cm_store *s)
{
	int rc;

	pthread_rwlock_wrlock(&s->map_lock);
	rc = set_mapsize_locked(s, 0);
	pthread_rwlock_unlock(&s->map_lock);
	return rc;
}

static int grow(struct cm_store *s)
{
	MDB_envinfo info;
	size_t next;
	int rc;

	pthread_rwlock_wrlock(&s->map_lock);
	mdb_env_info(s->env, &info);
	if (info.me_mapsize >= s->map_max) {
		pthread_rwlock_unlock(&s->map_lock);
		/* A consumer retries every second while the cap holds: say it
		 * once, until a commit succeeds again. */
		if (!atomic_exchange(&s->cap_logged, true))
			cm_log_warn_err(STORE, -ENOSPC, "map full at its cap path=%s map=%zu",
					s->path, info.me_mapsize);
		return -ENOSPC;
	}
	next = info.me_mapsize > s->map_max / 2 ? s->map_max : info.me_mapsize * 2;
	rc = set_mapsize_locked(s, next);
	pthread_rwlock_unlock(&s->map_lock);
	if (rc)
		return rc;
	atomic_fetch_add(&s->grows, 1);
	cm_log_notice(STORE, "map full, grown path=%s from=%zu to=%zu", s->path, info.me_mapsize,
		      next);
	return 0;
}

/* On success map_lock is held shared; the caller ends the transaction and
 * then releases it. */
static int txn_begin(struct cm_store *s, unsigned flags, MDB_txn **out)
{
	int rc = MDB_SUCCESS;

	for (int attempt = 0; attempt < BEGIN_ATTEMPTS; attempt++) {
		pthread_rwlock_rdlock(&s->map_lock);
		rc = mdb_txn_begin(s->env, NULL, flags, out);
		if (rc == MDB_SUCCESS)
			return 0;
		pthread_rwlock_unlock(&s->map_lock);
		if (rc == MDB_MAP_RESIZED) {
			/* Another process grew the map past ours. */
			int err = adopt_map_size(s);
			if (err)
				return err;
			cm_log_info(STORE, "map grown by another process, adopted path=%s", s->path);
		} else if (rc == MDB_READERS_FULL) {
			int dead = 0;
			mdb_reader_check(s->env, &dead);
			if (dead == 0)
				break;
			cm_log_notice(STORE, "reader table full, cleared stale readers path=%s n=%d",
				      s->path, dead);
		} else {
			break;
		}
	}
	return mdb_to_cm(rc);
}

static void txn_end_abort(struct cm_store *s, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->map_lock);
}

/* One attempt at a write transaction. *grow_map asks the caller to grow the
 * map and run it again. */
static int write_once(struct cm_store *s, cm_store_fn fn, void *arg, bool *grow_map)
{
	struct cm_txn t = {.s = s};
	uint64_t t0, dt;
	int ret, rc;

	*grow_map = false;
	ret = txn_begin(s, 0, &t.txn);
	if (ret)
		return ret;
	ret = fn(&t, arg);
	if (t.map_full) {
		txn_end_abort(s, t.txn);
		*grow_map = true;
		return -ENOSPC;
	}
	/* fn may have swallowed an error that LMDB will not commit past. */
	if (ret == 0 && t.poison)
		ret = t.poison;
	if (ret) {
		txn_end_abort(s, t.txn);
		return ret;
	}
	if (s->inject_n) {
		s->inject_n--;
		txn_end_abort(s, t.txn);
		return s->inject_err;
	}
	t0 = mono_ns();
	rc = mdb_txn_commit(t.txn);
	dt = mono_ns() - t0;
	pthread_rwlock_unlock(&s->map_lock);
	if (rc == MDB_MAP_FULL) {
		/* Saving the freelist can need pages too. */
		*grow_map = true;
		return -ENOSPC;
	}
	if (rc != MDB_SUCCESS) {
		ret = commit_error(s, mdb_to_cm(rc));
		if (atomic_exchange(&s->last_commit_err, ret) != ret)
			cm_log_warn_err(STORE, ret, "commit failed path=%s", s->path);
		return ret;
	}
	atomic_store(&s->last_commit_err, 0);
	atomic_store(&s->cap_logged, false);
	atomic_fetch_add(&s->commits, 1);
	atomic_fetch_add(&s->commit_ns_total, dt);
	atomic_store(&s->last_commit_ns, dt);
	return 0;
}

static int run_write(struct cm_store *s, cm_store_fn fn, void *arg)
{
	bool grow_map;
	int rc;

	for (;;) {
		rc = write_once(s, fn, arg, &grow_map);
		if (!grow_map)
			return rc;
		rc = grow(s);
		if (rc)
			return rc;
	}
}

int cm_store_write(struct cm_store *s, cm_store_fn fn, void *arg)
{
	struct call_frame frame;
	int rc = usable(s);

	if (rc)
		return rc;
	if (!fn)
		return -EINVAL;
	if (in_call(s))
		return -EBUSY;
	frame = (struct call_frame){.s = s, .up = active_calls};
	active_calls = &frame;
	rc = run_write(s, fn, arg);
	active_calls = frame.up;
	return rc;
}

int cm_store_read(struct cm_store *s, cm_store_fn fn, void *arg)
{
	struct call_frame frame;
	struct cm_txn t = {.s = s};
	int rc = usable(s);

	if (rc)
		return rc;
	if (!fn)
		return -EINVAL;
	if (in_call(s))
		return -EBUSY;
	frame = (struct call_frame){.s = s, .up = active_calls};
	active_calls = &frame;
	rc = txn_begin(s, MDB_RDONLY, &t.txn);
	if (rc == 0) {
		rc = fn(&t, arg);
		txn_end_abort(s, t.txn);
	}
	active_calls = frame.up;
	return rc;
}

/* Records what a failed LMDB call did to the transaction and translates it. */
static int op_result(struct cm_txn *t, int rc)
{
	int err;

	if (rc == MDB_SUCCESS)
		return 0;
	err = mdb_to_cm(rc);
	if (!txn_survives(rc) && !t->poison) {
		t->poison = err;
		if (rc == MDB_MAP_FULL)
			t->map_full = true;
	}
	return t->poison && !txn_survives(rc) ? t->poison : err;
}

static int op_check(struct cm_txn *t, unsigned dbi)
{
	if (!t || !t->txn || dbi >= t->s->ndbi)
		return -EINVAL;
	return t->poison;
}

static bool key_ok(const struct cm_txn *t, const void *key, size_t klen)
{
	return key && klen > 0 && klen <= t->s->max_key;
}

static MDB_val mval(const void *p, size_t n)
{
	/* MDB_val is not const-correct; LMDB never writes through a key. */
	return (MDB_val){.mv_size = n, .mv_data = (void *)(p ? p : empty_value)};
}

int cm_txn_get(struct cm_txn *t, unsigned dbi, const void *key, size_t klen, struct cm_val *out)
{
	MDB_val k, v;
	int rc = op_check(t, dbi);

	if (rc)
		return rc;
	if (!key_ok(t, key, klen) || !out)
		return -EINVAL;
	k = mval(key, klen);
	rc = op_result(t, mdb_get(t->txn, t->s->dbi[dbi], &k, &v));
	if (rc)
		return rc;
	out->data = v.mv_data;
	out->size = v.mv_size;
	return 0;
}

static int put_common(struct cm_txn *t, unsigned dbi, const void *key, size_t klen, const void *val,
		      size_t vlen, unsigned flags, void **where)
{
	unsigned mflags = 0;
	MDB_val k, v;
	int rc = op_check(t, dbi);

	if (rc)
		return rc;
	if (!key_ok(t, key, klen) || (!val && vlen && !where) ||
	    (flags & ~(unsigned)(CM_PUT_NOOVERWRITE | CM_PUT_APPEND)))
		return -EINVAL;
	if (flags & CM_PUT_NOOVERWRITE)
		mflags |= MDB_NOOVERWRITE;
	if (flags & CM_PUT_APPEND)
		mflags |= MDB_APPEND;
	if (where)
		mflags |= MDB_RESERVE;
	k = mval(key, klen);
	v = mval(val, vlen);
	rc = mdb_put(t->txn, t->s->dbi[dbi], &k, &v, mflags);
	if (rc == MDB_KEYEXIST && (flags & CM_PUT_APPEND)) {
		/* LMDB answers KEYEXIST to any append that does not sort last;
		 * only an existing equal key under NOOVERWRITE is a duplicate. */
		MDB_val cur;
		if ((flags & CM_PUT_NOOVERWRITE) &&
		    mdb_get(t->txn, t->s->dbi[dbi], &k, &cur) == MDB_SUCCESS)
			return -EEXIST;
		return -EINVAL;
	}
	rc = op_result(t, rc);
	if (rc == 0 && where)
		*where = v.mv_data;
	return rc;
}

int cm_txn_put(struct cm_txn *t, unsigned dbi, const void *key, size_t klen, const void *val,
	       size_t vlen, unsigned flags)
{
	return put_common(t, dbi, key, klen, val, vlen, flags, NULL);
}

int cm_txn_reserve(struct cm_txn *t, unsigned dbi, const void *key, size_t klen, size_t vlen,
		   unsigned flags, void **where)
{
	if (!where)
		return -EINVAL;
	return put_common(t, dbi, key, klen, NULL, vlen, flags, where);
}

int cm_txn_del(struct cm_txn *t, unsigned dbi, const void *key, size_t klen)
{
	MDB_val k;
	int rc = op_check(t, dbi);

	if (rc)
		return rc;
	if (!key_ok(t, key, klen))
		return -EINVAL;
	k = mval(key, klen);
	return op_result(t, mdb_del(t->txn, t->s->dbi[dbi], &k, NULL));
}

/* Walks from the cursor's first position with op, then with step. */
static int walk(struct cm_txn *t, MDB_cursor *c, MDB_val *k, MDB_cursor_op op, MDB_cursor_op step,
		cm_txn_iter_fn cb, void *arg)
{
	MDB_val v;
	int rc;

	for (;;) {
		struct cm_val ck, cv;

		rc = mdb_cursor_get(c, k, &v, op);
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc != MDB_SUCCESS)
			return op_result(t, rc);
		ck = (struct cm_val){.data = k->mv_data, .size = k->mv_size};
		cv = (struct cm_val){.data = v.mv_data, .size = v.mv_size};
		rc = cb(&ck, &cv, arg);
		if (rc)
			return rc;
		/* The callback may have written and failed the transaction. */
		if (t->poison)
			return t->poison;
		op = step;
	}
}

int cm_txn_iter(struct cm_txn *t, unsigned dbi, const void *from, size_t flen, cm_txn_iter_fn cb,
		void *arg)
{
	MDB_cursor *c = NULL;
	MDB_cursor_op op = MDB_FIRST;
	MDB_val k = {0};
	int rc = op_check(t, dbi);

	if (rc)
		return rc;
	if (!cb || (from && flen > t->s->max_key))
		return -EINVAL;
	if (from && flen) {
		k = mval(from, flen);
		op = MDB_SET_RANGE;
	}
	rc = mdb_cursor_open(t->txn, t->s->dbi[dbi], &c);
	if (rc != MDB_SUCCESS)
		return op_result(t, rc);
	rc = walk(t, c, &k, op, MDB_NEXT, cb, arg);
	mdb_cursor_close(c);
	return rc;
}

int cm_txn_iter_rev(struct cm_txn *t, unsigned dbi, const void *from, size_t flen,
		    cm_txn_iter_fn cb, void *arg)
{
	MDB_cursor *c = NULL;
	MDB_cursor_op op = MDB_LAST;
	MDB_val k = {0}, v;
	int rc = op_check(t, dbi);

	if (rc)
		return rc;
	if (!cb || (from && flen > t->s->max_key))
		return -EINVAL;
	rc = mdb_cursor_open(t->txn, t->s->dbi[dbi], &c);
	if (rc != MDB_SUCCESS)
		return op_result(t, rc);
	if (from && flen) {
		MDB_val f = mval(from, flen);

		/* LMDB only seeks to the first key >= from; step back once
		 * when that key is greater, or start at the end when there is
		 * none. */
		k = f;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_SUCCESS)
			op = mdb_cmp(t->txn, t->s->dbi[dbi], &k, &f) > 0 ? MDB_PREV : MDB_GET_CURRENT;
		else if (rc != MDB_NOTFOUND)
			goto out;
	}
	rc = walk(t, c, &k, op, MDB_PREV, cb, arg);
	mdb_cursor_close(c);
	return rc;
out:
	mdb_cursor_close(c);
	return op_result(t, rc);
}

int cm_txn_last(struct cm_txn *t, unsigned dbi, struct cm_val *key, struct cm_val *val)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc = op_check(t, dbi);

	if (rc)
		return rc;
	rc = mdb_cursor_open(t->txn, t->s->dbi[dbi], &c);
	if (rc != MDB_SUCCESS)
		return op_result(t, rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc != MDB_SUCCESS)
		return op_result(t, rc);
	if (key)
		*key = (struct cm_val){.data = k.mv_data, .size = k.mv_size};
	if (val)
		*val = (struct cm_val){.data = v.mv_data, .size = v.mv_size};
	return 0;
}

int cm_txn_count(struct cm_txn *t, unsigned dbi, uint64_t *out)
{
	MDB_stat st;
	int rc = op_check(t, dbi);

	if (rc)
		return rc;
	if (!out)
		return -EINVAL;
	rc = op_result(t, mdb_stat(t->txn, t->s->dbi[dbi], &st));
	if (rc)
		return rc;
	*out = st.ms_entries;
	return 0;
}

struct cm_store *cm_txn_store(struct cm_txn *t)
{
	return t ? t->s : NULL;
}

struct dbi_names {
	const char *const *names;
	unsigned n;
	unsigned flags;
};

static int open_dbis(struct cm_txn *t, void *arg)
{
	const struct dbi_names *dn = arg;

	for (unsigned i = 0; i < dn->n; i++) {
		int rc = mdb_dbi_open(t->txn, dn->names[i], dn->flags, &t->s->dbi[i]);
		if (rc != MDB_SUCCESS)
			return op_result(t, rc);
	}
	return 0;
}

static int open_dbis_ro(struct cm_store *s, struct dbi_names *dn)
{
	struct cm_txn t = {.s = s};
	int rc = txn_begin(s, MDB_RDONLY, &t.txn);

	if (rc)
		return rc;
	rc = open_dbis(&t, dn);
	if (rc) {
		txn_end_abort(s, t.txn);
		return rc;
	}
	/* Committing (not aborting) is what keeps the handles of a read-only
	 * transaction open in the environment. */
	rc = mdb_txn_commit(t.txn);
	pthread_rwlock_unlock(&s->map_lock);
	return mdb_to_cm(rc);
}

static int check_opts(const struct cm_store_opts *o)
{
	if (!o || !o->path || !*o->path || o->ndbi > STORE_MAX_DBI || (o->ndbi && !o->dbi_names))
		return -EINVAL;
	for (unsigned i = 0; i < o->ndbi; i++) {
		if (!o->dbi_names[i] || !*o->dbi_names[i])
			return -EINVAL;
		for (unsigned j = 0; j < i; j++)
			if (strcmp(o->dbi_names[i], o->dbi_names[j]) == 0)
				return -EINVAL;
	}
	if ((o->map_size ? o->map_size : DEFAULT_MAP_SIZE) > (o->map_max ? o->map_max : DEFAULT_MAP_MAX))
		return -EINVAL;
	return 0;
}

/* Called with open_lock held. */
static bool is_open_here(dev_t dev, ino_t ino)
{
	pid_t me = getpid();

	/* Entries inherited through fork() belong to the parent. */
	for (const struct cm_store *o = open_stores; o; o = o->next_open)
		if (o->dev == dev && o->ino == ino && o->pid == me)
			return true;
	return false;
}

static void unregister(struct cm_store *s)
{
	pthread_mutex_lock(&open_lock);
	for (struct cm_store **pp = &open_stores; *pp; pp = &(*pp)->next_open) {
		if (*pp == s) {
			*pp = s->next_open;
			break;
		}
	}
	pthread_mutex_unlock(&open_lock);
}

int cm_store_open(const struct cm_store_opts *opts, struct cm_store **out)
{
	struct cm_store *s = NULL;
	pthread_rwlockattr_t attr;
	struct dbi_names dn;
	struct stat st;
	unsigned flags = MDB_NOTLS;
	const char *why = "invalid options";
	bool registered = false;
	int dead = 0;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	rc = check_opts(opts);
	if (rc)
		goto err_log;

	if (!opts->read_only && mkdir(opts->path, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		why = "cannot create directory";
		goto err_log;
	}
	if (stat(opts->path, &st) != 0) {
		rc = -errno;
		why = "cannot stat directory";
		goto err_log;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = -ENOTDIR;
		why = "not a directory";
		goto err_log;
	}

	s = cm_xcalloc(1, sizeof(*s));
	s->path = cm_xstrdup(opts->path);
	s->ndbi = opts->ndbi;
	s->map_max = opts->map_max ? opts->map_max : DEFAULT_MAP_MAX;
	s->read_only = opts->read_only;
	s->pid = getpid();
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	pthread_rwlockattr_init(&attr);
	/* A waiting resize must not be starved by a stream of readers. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->map_lock, &attr);
	pthread_rwlockattr_destroy(&attr);

	pthread_mutex_lock(&open_lock);
	if (is_open_here(s->dev, s->ino)) {
		pthread_mutex_unlock(&open_lock);
		rc = -EBUSY;
		why = "already open in this process";
		goto err_free;
	}
	s->next_open = open_stores;
	open_stores = s;
	registered = true;
	pthread_mutex_unlock(&open_lock);

	why = "cannot set up environment";
	rc = mdb_env_create(&s->env);
	if (rc != MDB_SUCCESS) {
		s->env = NULL;
		goto err_mdb;
	}
	/* A read-only opener adopts the size recorded in the file. */
	if (!opts->read_only) {
		rc = mdb_env_set_mapsize(s->env, opts->map_size ? opts->map_size : DEFAULT_MAP_SIZE);
		if (rc != MDB_SUCCESS)
			goto err_mdb;
	}
	rc = mdb_env_set_maxdbs(s->env, opts->ndbi);
	if (rc != MDB_SUCCESS)
		goto err_mdb;
	rc = mdb_env_set_maxreaders(s->env,
				    opts->max_readers ? opts->max_readers : DEFAULT_MAX_READERS);
	if (rc != MDB_SUCCESS)
		goto err_mdb;
	if (opts->nosync)
		flags |= MDB_NOSYNC;
	if (opts->read_only)
		flags |= MDB_RDONLY;
	why = "cannot open environment";
	rc = mdb_env_open(s->env, opts->path, flags, 0600);
	if (rc != MDB_SUCCESS)
		goto err_mdb;
	s->max_key = (unsigned)mdb_env_get_maxkeysize(s->env);

	/* A crashed predecessor may have left read slots that pin old pages. */
	why = "reader check failed";
	rc = mdb_reader_check(s->env, &dead);
	if (rc != MDB_SUCCESS)
		goto err_mdb;
	if (dead)
		cm_log_notice(STORE, "cleared stale readers path=%s n=%d", s->path, dead);

	why = "cannot open sub-databases";
	dn = (struct dbi_names){.names = opts->dbi_names, .n = opts->ndbi,
				.flags = opts->read_only ? 0 : MDB_CREATE};
	rc = opts->read_only ? open_dbis_ro(s, &dn) : run_write(s, open_dbis, &dn);
	if (rc)
		goto err_free;
	/* The start-up commit is not a service commit. */
	atomic_store(&s->commits, 0);
	atomic_store(&s->commit_ns_total, 0);
	atomic_store(&s->last_commit_ns, 0);

	cm_log_info(STORE, "store open path=%s dbis=%u read_only=%d nosync=%d", s->path, s->ndbi,
		    (int)opts->read_only, (int)opts->nosync);
	*out = s;
	return 0;

err_mdb:
	rc = mdb_to_cm(rc);
err_free:
	if (s->env)
		mdb_env_close(s->env);
	if (registered)
		unregister(s);
	pthread_rwlock_destroy(&s->map_lock);
	free(s->path);
	free(s);
err_log:
	cm_log_error_err(STORE, rc, "cannot open store path=%s reason=\"%s\"",
			 opts && opts->path ? opts->path : "(null)", why);
	return rc;
}

void cm_store_close(struct cm_store **sp)
{
	struct cm_store *s;

	if (!sp || !*sp)
		return;
	s = *sp;
	if (cm_fails_assert(!in_call(s)))
		return;
	*sp = NULL;
	if (s->pid == getpid())
		mdb_env_close(s->env);
	/* else: a forked child holds a copy of its parent's handle, and
	 * mdb_env_close would free the parent's reader slots. Leak it. */
	unregister(s);
	pthread_rwlock_destroy(&s->map_lock);
	free(s->path);
	free(s);
}

void cm_store_get_stats(struct cm_store *s, struct cm_store_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (usable(s) == 0) {
		MDB_envinfo info;
		MDB_stat st;
		bool lock = !in_call(s);

		if (lock)
			pthread_rwlock_rdlock(&s->map_lock);
		mdb_env_info(s->env, &info);
		mdb_env_stat(s->env, &st);
		if (lock)
			pthread_rwlock_unlock(&s->map_lock);
		out->map_size = info.me_mapsize;
		out->used_bytes = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	}
	if (!s)
		return;
	out->commits = atomic_load(&s->commits);
	out->grows = atomic_load(&s->grows);
	out->commit_ns_total = atomic_load(&s->commit_ns_total);
	out->last_commit_ns = atomic_load(&s->last_commit_ns);
}

/* Makes a new file's directory entry durable; returns 0 or an errno. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return errno;
	if (fsync(fd) != 0)
		rc = errno;
	close(fd);
	return rc;
}

int cm_store_backup(struct cm_store *s, const char *dir)
{
	char *file, *part;
	struct stat st;
	int fd, rc = usable(s);

	if (rc)
		return rc;
	if (!dir || !*dir)
		return -EINVAL;
	if (in_call(s))
		return -EBUSY;
	file = cm_xasprintf("%s/data.mdb", dir);
	/* The copy is written as data.mdb.part and renamed once synced: a copy
	 * cut short (killed, power lost) never looks like a finished backup,
	 * and the leftover .part is simply replaced by the next attempt. */
	part = cm_xasprintf("%s/data.mdb.part", dir);
	if (stat(file, &st) == 0) {
		rc = -EEXIST;
		goto out;
	}
	unlink(part);
	/* Created 0600 like the store: mdb_env_copy2 would make it 0666 & ~umask,
	 * readable by everyone on the host as soon as it leaves the 0700 folder
	 * (or lands in a folder that already existed with wider rights). */
	fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	pthread_rwlock_rdlock(&s->map_lock);
	rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
	pthread_rwlock_unlock(&s->map_lock);
	/* "Backup done" must mean on disk: an operator may delete older copies
	 * or ship this one as soon as we answer. */
	if (rc == MDB_SUCCESS && fdatasync(fd) != 0)
		rc = errno;
	if (close(fd) != 0 && rc == MDB_SUCCESS)
		rc = errno;
	if (rc == MDB_SUCCESS && rename(part, file) != 0)
		rc = errno;
	if (rc == MDB_SUCCESS)
		rc = sync_dir(dir);
	if (rc != MDB_SUCCESS) {
		unlink(part);
		unlink(file);
		rc = mdb_to_cm(rc);
	}
out:
	if (rc)
		cm_log_warn_err(STORE, rc, "backup failed path=%s dir=%s", s->path, dir);
	free(part);
	free(file);
	return rc;
}

void cm_store_inject_failure(struct cm_store *s, int err, unsigned n)
{
	if (!s)
		return;
	s->inject_err = err < 0 ? err : -EIO;
	s->inject_n = n;
}

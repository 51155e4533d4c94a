/*
 * store.h - the one place that knows LMDB's rules.
 *
 * A store is one LMDB environment (a directory) with a fixed list of named
 * sub-databases opened at start-up. Transactions exist only inside
 * cm_store_read()/cm_store_write(): the callback runs, and the call commits
 * or aborts before it returns, so no transaction outlives a loop callback and
 * the map can be grown safely between transactions.
 *
 * Durability: authoritative stores are opened with full sync (no MDB_NOSYNC,
 * no MDB_WRITEMAP); cm_store_write() returns 0 only once the commit is on disk.
 * MDB_NOTLS is always set. Stale readers left by a killed process are cleared
 * at open and whenever the reader table fills.
 *
 * Keys that are numbers are stored big-endian (cm_be64_*) so byte order is
 * numeric order.
 *
 * Threads and processes: writes belong to the loop thread; cm_store_read()
 * and cm_store_backup() may also run on worker threads (the map is only
 * resized while no transaction of the process is open). A callback must not
 * call cm_store_read/write/backup on its own store: that returns -EBUSY (use
 * the txn it was given). A store is opened once per process (-EBUSY
 * otherwise) and never used in a forked child (CM_EPANIC there).
 *
 * Errors (every function): LMDB codes are translated here and nowhere else:
 *  MDB_NOTFOUND -> -ENOENT; MDB_KEYEXIST -> -EEXIST; MDB_MAP_FULL, MDB_TXN_FULL,
 *  ENOSPC -> -ENOSPC; MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID -> CM_ECORRUPT;
 *  MDB_INCOMPATIBLE, MDB_CURSOR_FULL -> CM_ECORRUPT;
 *  MDB_PANIC, MDB_BAD_TXN, MDB_PAGE_FULL -> CM_EPANIC; MDB_VERSION_MISMATCH -> CM_EVERSION;
 *  MDB_READERS_FULL, MDB_MAP_RESIZED (only once retries are used up) -> -EAGAIN;
 *  MDB_BAD_VALSIZE, MDB_BAD_DBI, MDB_DBS_FULL -> -EINVAL;
 *  plain errno values (EACCES, EIO, ENOMEM, ...) are negated.
 */
#ifndef CM_STORE_H
#define CM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cm_store;
struct cm_txn;

/* A value as stored: borrowed, valid until the transaction ends or the next
 * write in it. Copy anything that must outlive the callback. */
struct cm_val {
	const void *data;
	size_t size;
};

struct cm_store_opts {
	const char *path;		/* directory; created (0700) if missing (not its parents) */
	const char *const *dbi_names;	/* sub-databases, opened in one start-up txn */
	unsigned ndbi;			/* at most 32 */
	size_t map_size;		/* initial map; default 64 MiB */
	size_t map_max;			/* growth cap on MAP_FULL; default 64 GiB */
	unsigned max_readers;		/* default 126 */
	bool nosync;			/* benchmarks of the non-durable case only */
	bool read_only;			/* open for inspection (tools); no writes */
};

/** Open (creating if needed) the store at opts->path.
 * Ownership: *out is owned by the caller; release with cm_store_close().
 * Errors: -EINVAL (bad opts: NULL, over 32 or duplicate/empty names,
 * map_size > map_max), -EACCES/-EPERM (directory or files not accessible),
 * -ENOENT (parent directory missing; read_only: store or a sub-database
 * missing), -ENOTDIR, -EBUSY (already open in this process),
 * CM_ECORRUPT (not an LMDB environment or damaged), CM_EVERSION, -ENOSPC,
 * -ENOMEM, -EIO. On error *out is NULL and one line says why. */
int cm_store_open(const struct cm_store_opts *opts, struct cm_store **out);

/** Close and free; accepts a pointer to NULL; sets *s to NULL. Must not be
 * called from inside a transaction callback. */
void cm_store_close(struct cm_store **s);

/** Transaction body: return 0 to commit, non-zero to abort (the value is
 * returned by cm_store_read/write). It may run more than once when the map
 * must grow, so it must keep side effects outside the transaction until the
 * call returns 0. */
typedef int (*cm_store_fn)(struct cm_txn *txn, void *arg);

/** Run fn in a read-only transaction. Returns fn's result or a store error:
 * -EINVAL (NULL s/fn), -EBUSY (called from a callback of this store),
 * -EAGAIN (reader table full of live readers), CM_EPANIC. */
int cm_store_read(struct cm_store *s, cm_store_fn fn, void *arg);

/** Run fn in the write transaction and commit durably. On MDB_MAP_FULL the
 * transaction is aborted, the map doubled (up to map_max) and fn run again.
 * Returns 0 once committed; fn's non-zero result (nothing written); -ENOSPC
 * when the map cap or the disk is full, or the transaction alone exceeds
 * LMDB's dirty-page limit (MDB_TXN_FULL: not retried, split the batch)
 * (nothing written in all cases); -EBUSY (called from a callback of this
 * store); -EACCES (read_only store); -EINVAL (NULL s/fn); CM_EPANIC, -EIO.
 * If fn ignores a failed operation that broke the transaction and returns
 * 0, that operation's error is returned and nothing is written. */
int cm_store_write(struct cm_store *s, cm_store_fn fn, void *arg);

/* Operations inside a transaction. dbi is the index into opts->dbi_names. */

/** Errors: -ENOENT when absent. */
int cm_txn_get(struct cm_txn *t, unsigned dbi, const void *key, size_t klen, struct cm_val *out);

enum {
	CM_PUT_NOOVERWRITE = 1 << 0, /* -EEXIST if the key exists */
	CM_PUT_APPEND = 1 << 1,	     /* key sorts after every existing key (logs) */
};
/** Errors: -EEXIST (NOOVERWRITE), -ENOSPC (map full; cm_store_write grows
 * and retries), -EINVAL (key too long: over 511 bytes, or APPEND out of order),
 * -EACCES in a read transaction. */
int cm_txn_put(struct cm_txn *t, unsigned dbi, const void *key, size_t klen, const void *val,
	       size_t vlen, unsigned flags);

/** Reserve vlen bytes for a value and return where to write them (valid until
 * the next operation in the transaction). Errors as cm_txn_put. */
int cm_txn_reserve(struct cm_txn *t, unsigned dbi, const void *key, size_t klen, size_t vlen,
		   unsigned flags, void **where);

/** Errors: -ENOENT when absent. */
int cm_txn_del(struct cm_txn *t, unsigned dbi, const void *key, size_t klen);

/** Visit keys >= from (all keys when from is NULL or flen is 0) in order;
 * stops when cb returns non-zero. cb may delete the key it is visiting (the
 * walk continues with the next one) and may write to other sub-databases.
 * Returns 0 when the end was reached, cb's positive value when it stopped
 * the walk, or a negative cb/store error (-EINVAL for flen over 511). */
typedef int (*cm_txn_iter_fn)(const struct cm_val *key, const struct cm_val *val, void *arg);
int cm_txn_iter(struct cm_txn *t, unsigned dbi, const void *from, size_t flen, cm_txn_iter_fn cb,
		void *arg);

/** Visit keys <= from (or from the last key) in descending order. */
int cm_txn_iter_rev(struct cm_txn *t, unsigned dbi, const void *from, size_t flen,
		    cm_txn_iter_fn cb, void *arg);

/** The last (greatest) key and its value. Errors: -ENOENT when empty. */
int cm_txn_last(struct cm_txn *t, unsigned dbi, struct cm_val *key, struct cm_val *val);

/** Number of entries in a sub-database. */
int cm_txn_count(struct cm_txn *t, unsigned dbi, uint64_t *out);

/** The store a transaction belongs to. */
struct cm_store *cm_txn_store(struct cm_txn *t);

struct cm_store_stats {
	uint64_t map_size;	/* current map size, bytes */
	uint64_t used_bytes;	/* pages in use * page size */
	uint64_t commits;	/* successful write commits since open */
	uint64_t grows;		/* times the map was grown */
	uint64_t commit_ns_total; /* summed commit latency */
	uint64_t last_commit_ns;
};
/** Any thread. All zero for NULL s; map figures zero once the store is unusable. */
void cm_store_get_stats(struct cm_store *s, struct cm_store_stats *out);

/** Copy the environment to dir (which must exist and hold no data.mdb)
 * while the store keeps serving: a consistent hot backup (mdb_env_copyfd2
 * with compaction). Run it off the loop thread; a write that must grow the
 * map waits until the copy ends. The copy is written as data.mdb.part (mode
 * 0600), synced, renamed to data.mdb and the rename synced before 0 is
 * returned, so a data.mdb in dir is always a complete copy; a failed or cut
 * short attempt leaves at most a .part file, replaced by the next attempt.
 * Errors: -ENOENT/-EACCES/-ENOTDIR/-EROFS on dir, -EEXIST (dir already holds
 * data.mdb), -EBUSY (called from a callback of this store on this thread),
 * -EINVAL, -ENOSPC/-EDQUOT, -EIO. */
int cm_store_backup(struct cm_store *s, const char *dir);

/** Test hook: make the next n write commits fail with err (e.g. -ENOSPC, -EIO)
 * after running the callback, exactly as a failing disk would: nothing is
 * written and the map is not grown. A non-negative err means -EIO; n = 0
 * disarms it. Loop thread only. */
void cm_store_inject_failure(struct cm_store *s, int err, unsigned n);

static inline void cm_be64_put(void *p, uint64_t v)
{
	unsigned char *b = p;
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
}

static inline uint64_t cm_be64_get(const void *p)
{
	const unsigned char *b = p;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

static inline void cm_be32_put(void *p, uint32_t v)
{
	unsigned char *b = p;
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

static inline uint32_t cm_be32_get(const void *p)
{
	const unsigned char *b = p;
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

#endif

/*
 * handlers.c - the deadline service's sockets and timers: the two consumers,
 * the due-time timer, reload jobs, the live PUB socket, admin and status.
 *
 * Every write goes through one of three transactions: a consumer batch
 * (dl_engine_apply per event, with the feed offset), a raise batch
 * (dl_engine_raise at "now"), or a recompute batch after a reload. Each
 * appends its events to the deadline feed in the same transaction, and only
 * after the commit are escalations published live, read back from the feed,
 * so the PUB socket never shows an event the feed does not hold.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "common/admin.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "deadline.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x

/* A real-clock timer never sleeps longer than this, so a wall-clock jump
 * (NTP step, VM resume) is noticed within a minute. */
#define MAX_SLEEP_MS 60000

/* ------------------------------------------------------- publishing --- */


/* What the admin socket's backup copies (one service per process). */
static struct cm_admin_backup backup_target;

void deadline_topic(const struct dl_policy *pol, const Donthu__V1__Escalation *es, char *buf,
		    size_t len)
{
	const char *agency = es->agency && *es->agency ? es->agency : "-";

	if (es->reason == DONTHU__V1__ESCALATION_REASON__ESCALATION_REASON_DELEGATION && pol) {
		const struct dl_flag_rule *f =
			dl_policy_flag(pol, DONTHU__V1__FLAG_KIND__FLAG_KIND_DELEGATION);
		if (f && f->topic) {
			snprintf(buf, len, "%s.%s", f->topic, agency);
			return;
		}
	}
	snprintf(buf, len, "esc.%s.%s", dl_level_name((enum dl_level)es->level), agency);
}

static int publish_one(uint64_t seq, const void *buf, size_t len, void *arg)
{
	struct deadline *d = arg;
	cm_env *ev = NULL;
	char topic[160];
	const void *bufs[2];
	size_t lens[2];

	d->pub_next = seq + 1;
	if (cm_env_unpack(buf, len, &ev) != 0)
		return 0;
	switch (ev->body_case) {
	case BODY(DEADLINE_SET): (*d->m.deadline_set)++; break;
	case BODY(DEADLINE_CHANGED): (*d->m.deadline_changed)++; break;
	case BODY(EXTENSION_REJECTED): (*d->m.ext_rejected)++; break;
	case BODY(CLOCK_STOPPED): (*d->m.clock_stopped)++; break;
	case BODY(CALENDAR_RELOADED): (*d->m.reloads)++; break;
	case BODY(ESCALATION):
		if (!ev->escalation)
			break;
		if ((int)ev->escalation->level > 0 && (int)ev->escalation->level < DL_LVL_COUNT)
			(*d->m.escalations[ev->escalation->level])++;
		deadline_topic(d->pol, ev->escalation, topic, sizeof(topic));
		bufs[0] = topic;
		lens[0] = strlen(topic);
		/* The stored bytes, sequence number included: a subscriber sees
		 * a gap as a jump in sequence and fetches the feed for it. */
		bufs[1] = buf;
		lens[1] = len;
		if (d->pub_w && cm_zwatch_sendv(d->pub_w, bufs, lens, 2) == 0)
			(*d->m.published)++;
		break;
	default: break;
	}
	cm_env_free(&ev);
	return 0;
}

static void publish_new(struct deadline *d)
{
	uint64_t head = cm_feed_head(d->feed);

	while (d->pub_next <= head) {
		uint64_t before = d->pub_next;
		int rc = cm_feed_read(d->feed, d->pub_next, 1000, publish_one, d);
		if (rc < 0) {
			cm_log_warn_err(DEADLINE, rc, "cannot read the feed to publish");
			return;
		}
		if (d->pub_next == before)
			return;
	}
}

static int counts_txn(struct cm_txn *t, void *arg)
{
	return dl_engine_counts(t, arg);
}

void deadline_after_commit(struct deadline *d)
{
	struct dl_counts c;

	cm_feed_committed(d->feed);
	publish_new(d);
	if (cm_store_read(d->store, counts_txn, &c) == 0)
		d->counts = c;
	deadline_schedule_due(d);
}

/* --------------------------------------------------------- due timer --- */

struct raise_txn {
	struct deadline *d;
	int64_t now;
	unsigned max, visited;
	bool more;
};

/* The first transaction of a burst is small, so the first escalation of a
 * busy instant reaches subscribers after a few hundred entries rather than
 * after raise_batch of them; later ones grow to raise_batch for throughput. */
#define FIRST_BURST 64u

static int raise_fn(struct cm_txn *t, void *arg)
{
	struct raise_txn *r = arg;

	return dl_engine_raise(&r->d->engine, t, r->now, r->max, &r->visited, &r->more);
}

static void on_due(uv_timer_t *h)
{
	struct deadline *d = h->data;
	struct raise_txn r = {.d = d, .now = cm_clock_now_ms()};
	uint64_t t0 = cm_clock_mono_ns();
	int rc;

	if (d->stopping)
		return;
	if (d->burst < FIRST_BURST || d->burst > d->cfg.raise_batch)
		d->burst = FIRST_BURST < d->cfg.raise_batch ? FIRST_BURST : d->cfg.raise_batch;
	r.max = d->burst;
	rc = cm_store_write(d->store, raise_fn, &r);
	cm_histogram_observe(d->m.raise_seconds, (double)(cm_clock_mono_ns() - t0) / 1e9);
	(*d->m.raise_txns)++;
	if (rc) {
		if (rc != d->store_err)
			cm_log_error_err(DEADLINE, rc, "cannot raise what is due; retrying in 1 s");
		d->store_err = rc;
		uv_timer_start(&d->due_timer, on_due, 1000, 0);
		return;
	}
	if (d->store_err)
		cm_log_notice(DEADLINE, "storing again after: %s", cm_strerror(d->store_err));
	d->store_err = 0;
	d->burst = r.more ? (d->burst * 4 < d->cfg.raise_batch ? d->burst * 4 : d->cfg.raise_batch)
			  : FIRST_BURST;
	deadline_after_commit(d);
}

static int earliest_txn(struct cm_txn *t, void *arg)
{
	int rc = dl_engine_earliest(t, arg);

	return rc == -ENOENT ? 0 : rc;
}

void deadline_schedule_due(struct deadline *d)
{
	int64_t earliest = -1, now;
	int rc;

	if (d->stopping || !d->timers_open || !d->ready)
		return;
	if (d->store_err) /* on_due retries on its own */
		return;
	rc = cm_store_read(d->store, earliest_txn, &earliest);
	if (rc) {
		cm_log_warn_err(DEADLINE, rc, "cannot read the due index; retrying in 1 s");
		uv_timer_start(&d->due_timer, on_due, 1000, 0);
		return;
	}
	if (earliest < 0) {
		uv_timer_stop(&d->due_timer);
		return;
	}
	now = cm_clock_now_ms();
	if (earliest <= now) {
		/* Next loop turn, so a long backlog never starves the sockets. */
		uv_timer_start(&d->due_timer, on_due, 0, 0);
	} else if (cm_clock_is_simulated()) {
		/* Simulated time moves only by ClockControl; the change listener
		 * calls back here. */
		uv_timer_stop(&d->due_timer);
	} else {
		int64_t wait = earliest - now;
		uv_update_time(d->loop);
		uv_timer_start(&d->due_timer, on_due, (uint64_t)(wait < MAX_SLEEP_MS ? wait : MAX_SLEEP_MS),
			       0);
	}
}

/* --------------------------------------------------------- consumers --- */

static int apply_event(struct cm_txn *t, const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct deadline *d = arg;

	(void)raw;
	(void)len;
	return dl_engine_apply(&d->engine, t, ev);
}

static void consumer_committed(uint64_t applied_seq, void *arg)
{
	struct deadline *d = arg;

	(void)applied_seq;
	(*d->m.batches_in)++;
	deadline_after_commit(d);
}

static void start_consumer(struct deadline *d, const char *producer, const char *ep,
			   const char *server_public, struct cm_feed_consumer **out)
{
	static const struct cm_feed_consumer_ops ops = {
		.apply = apply_event,
		.committed = consumer_committed,
	};
	struct cm_feed_consumer_opts o = {
		.name = "deadline",
		.producer = producer,
		.endpoint = ep,
		.offset_dbi = DL_DB_OFFSETS,
	};
	int rc;

	if (server_public && *server_public) {
		o.curve_server_public = server_public;
		o.curve_public = d->curve_public;
		o.curve_secret = d->curve_secret;
	}
	rc = cm_feed_consumer_start(d->loop, d->zctx, d->store, &o, &ops, d, out);

	if (rc)
		cm_fatal(rc, "cannot consume the %s feed at %s", producer, ep);
}

static bool caught_up(const struct cm_feed_consumer *c)
{
	/* The producer's head is known only once it has answered a fetch. A
	 * consumer that has applied nothing yet waits for that answer too:
	 * routing's first events may stop or move clocks intake's events
	 * started. */
	return !c || (cm_feed_consumer_answered(c) &&
		      cm_feed_consumer_applied(c) >= cm_feed_consumer_head(c));
}

static int due_now_txn(struct cm_txn *t, void *arg);

/* Raise what is due at the current time before returning, so a reply sent
 * next reflects it. A very long backlog is left to the timer after a bounded
 * number of batches. */
static void raise_due_now(struct deadline *d)
{
	for (int i = 0; i < 64 && d->ready && !d->stopping && !d->store_err; i++) {
		int64_t earliest = -1;
		if (cm_store_read(d->store, due_now_txn, &earliest) != 0 || earliest < 0 ||
		    earliest > cm_clock_now_ms())
			break;
		on_due(&d->due_timer);
	}
}

/* "intake 12/40, routing 3/?": where the consumers stand while catching up
 * ("?" until the producer has answered a fetch). */
static void catch_up_state(const struct deadline *d, char *buf, size_t len)
{
	const struct cm_feed_consumer *c[2] = {d->intake, d->routing};
	const char *name[2] = {"intake", "routing"};
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < 2 && off < len; i++) {
		char head[24] = "?";
		if (!c[i])
			continue;
		if (cm_feed_consumer_answered(c[i]))
			snprintf(head, sizeof(head), "%" PRIu64, cm_feed_consumer_head(c[i]));
		off += (size_t)snprintf(buf + off, len - off, "%s%s %" PRIu64 "/%s", off ? ", " : "",
					name[i], cm_feed_consumer_applied(c[i]), head);
	}
}

static void answer_held_clocks(struct deadline *d)
{
	char detail[200];
	uint64_t waited_ms = (cm_clock_mono_ns() - d->start_ns) / 1000000u;

	snprintf(detail, sizeof(detail),
		 "clock moved; raised once the feeds were caught up, %" PRIu64
		 " ms after start-up",
		 waited_ms);
	for (size_t i = 0; i < d->n_clock_held; i++) {
		/* The raise pass stops at a store error: do not claim it ran. */
		if (d->store_err)
			cm_rpc_reply_error(d->admin, &d->clock_held[i], "storage_error", "clock",
					   cm_strerror(d->store_err));
		else
			cm_admin_reply(d->admin, &d->clock_held[i], "deadline", true, detail);
	}
	free(d->clock_held);
	d->clock_held = NULL;
	d->n_clock_held = 0;
}

void deadline_clock_held_free(struct deadline *d)
{
	for (size_t i = 0; i < d->n_clock_held; i++)
		cm_rpc_req_free(&d->clock_held[i]);
	free(d->clock_held);
	d->clock_held = NULL;
	d->n_clock_held = 0;
}

/* The clock has moved but nothing may be raised yet: the reply waits for
 * the raise pass that follows the catch-up. */
static bool hold_clock(struct cm_rpc *r, struct cm_rpc_req **req, void *arg)
{
	struct deadline *d = arg;
	char where[160];

	(void)r;
	if (d->ready)
		return false;
	d->clock_held = cm_xrealloc(d->clock_held, (d->n_clock_held + 1) * sizeof(*d->clock_held));
	d->clock_held[d->n_clock_held++] = *req;
	*req = NULL;
	catch_up_state(d, where, sizeof(where));
	cm_log_notice(DEADLINE, "clock moved while catching up (%s): answered once raised", where);
	return true;
}

/* Polled rather than signalled: a producer that is already at our offset
 * answers a fetch with its head and no events, and no commit follows. */
#define READY_POLL_MS 20

static void on_ready_check(uv_timer_t *h)
{
	struct deadline *d = h->data;

	if (d->stopping || d->ready)
		return;
	if (!(caught_up(d->intake) && caught_up(d->routing))) {
		uv_timer_start(&d->ready_timer, on_ready_check, READY_POLL_MS, 0);
		return;
	}
	cm_log_notice(DEADLINE, "feeds caught up after %" PRIu64 " ms; raising what is due",
		      (cm_clock_mono_ns() - d->start_ns) / 1000000u);
	d->ready = true;
	if (d->n_clock_held) {
		raise_due_now(d);
		answer_held_clocks(d);
	}
	deadline_after_commit(d);
}

void deadline_start_raising(struct deadline *d)
{
	d->start_ns = cm_clock_mono_ns();
	uv_timer_start(&d->ready_timer, on_ready_check, 0, 0);
}

void deadline_consumers_start(struct deadline *d)
{
	start_consumer(d, "intake", d->cfg.intake_feed, d->intake_public, &d->intake);
	if (d->cfg.routing_feed)
		start_consumer(d, "routing", d->cfg.routing_feed, d->routing_public, &d->routing);
}

/* ------------------------------------------------------ reload jobs --- */

struct job_txn {
	struct deadline *d;
	struct dl_recompute work;
};

/* Runs again from the saved progress when the store retries it. */
static int job_fn(struct cm_txn *t, void *arg)
{
	struct job_txn *j = arg;

	j->work = j->d->job;
	return dl_engine_recompute(&j->d->engine, t, &j->work, j->d->cfg.recompute_batch);
}

static void reply_control(struct cm_rpc *r, struct cm_rpc_req **req, bool ok, const char *detail)
{
	cm_admin_reply(r, req, "deadline", ok, detail);
}

/*
 * After a recomputation has read every clock, the process maps most of the
 * store: the kernel maps the neighbours of each page faulted in (fault-around)
 * and the clocks' pages are spread through the file. Those are clean pages of
 * a read-only shared mapping, so dropping our mapping of them frees resident
 * memory at the cost of a re-fault on the next read; the page cache keeps
 * them. Freed transaction buffers go back to the system the same way.
 * TODO(store): this belongs in store.c as cm_store_trim(); done here by the
 * mapping's path so the deadline service keeps its footprint after a reload.
 */
static void trim_memory(struct deadline *d)
{
	char path[PATH_MAX], line[PATH_MAX + 128];
	FILE *f = fopen("/proc/self/maps", "r");
	size_t plen;

	malloc_trim(0);
	if (!f)
		return;
	if (!realpath(d->cfg.data_dir, path)) {
		fclose(f);
		return;
	}
	plen = strlen(path);
	snprintf(path + plen, sizeof(path) - plen, "/data.mdb");
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8], *name = strchr(line, '/');
		size_t n;
		if (!name || sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
			continue;
		n = strcspn(name, "\n");
		name[n] = '\0';
		/* Only LMDB's read-only map: a writable one would hold data. */
		if (strcmp(name, path) == 0 && perms[1] == '-')
			madvise((void *)lo, hi - lo, MADV_DONTNEED);
	}
	fclose(f);
}

static void on_job(uv_timer_t *h)
{
	struct deadline *d = h->data;
	struct job_txn j = {.d = d};
	int rc;

	if (d->stopping || !d->job_active)
		return;
	rc = cm_store_write(d->store, job_fn, &j);
	if (rc) {
		if (rc != d->store_err)
			cm_log_error_err(DEADLINE, rc, "recomputation failed; retrying in 1 s");
		d->store_err = rc;
		uv_timer_start(&d->job_timer, on_job, 1000, 0);
		return;
	}
	d->store_err = 0;
	d->job = j.work;
	deadline_after_commit(d);
	if (!d->job.done) {
		uv_timer_start(&d->job_timer, on_job, 0, 0);
		return;
	}
	{
		double secs = (double)(cm_clock_mono_ns() - d->job_start_ns) / 1e9;
		char detail[256];
		cm_histogram_observe(d->m.recompute_seconds, secs);
		snprintf(detail, sizeof(detail),
			 "%s %s: %" PRIu64 " open clocks recomputed, %" PRIu64 " changed in %.3f s",
			 d->job.what == DL_RECOMPUTE_POLICY ? "policy" : "calendar", d->job.version,
			 d->job.recomputed, d->job.changed, secs);
		cm_log_notice(DEADLINE, "%s", detail);
		d->job_active = false;
		if (d->job_req)
			reply_control(d->admin, &d->job_req, true, detail);
		trim_memory(d);
	}
}

static void start_job(struct deadline *d, enum dl_recompute_what what, const char *version,
		      struct cm_rpc_req *req)
{
	memset(&d->job, 0, sizeof(d->job));
	d->job.what = what;
	snprintf(d->job.version, sizeof(d->job.version), "%s", version);
	d->job_active = true;
	d->job_req = req;
	d->job_start_ns = cm_clock_mono_ns();
	uv_timer_start(&d->job_timer, on_job, 0, 0);
}

void deadline_calendar_version(const char *dir, char out[17])
{
	crypto_generichash_state st;
	unsigned char h[8];
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t l = strlen(nm);
		char *path;
		FILE *f;
		if (nm[0] != '.' && l > 5 && strcmp(nm + l - 5, ".json") == 0) {
			unsigned char buf[4096];
			size_t got;
			path = cm_xasprintf("%s/%s", dir, nm);
			f = fopen(path, "rb");
			crypto_generichash_update(&st, (const unsigned char *)nm, l + 1);
			while (f && (got = fread(buf, 1, sizeof(buf), f)) > 0)
				crypto_generichash_update(&st, buf, got);
			if (f)
				fclose(f);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	crypto_generichash_final(&st, h, sizeof(h));
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void on_reload(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	struct deadline *d = arg;
	const char *what = env->reload && env->reload->what ? env->reload->what : "";
	char err[CAL_ERR_LEN + DL_ERR_LEN] = "";
	int rc;

	if (d->job_active) {
		cm_rpc_reply_error(r, &req, "busy", "reload",
				   "a recomputation is still running; retry when it ends");
		goto out;
	}
	if (strcmp(what, "calendar") == 0) {
		struct cal_options opt;
		char ver[17];
		cal_options_default(&opt);
		opt.flags = (const char *const *)d->cfg.calendar_flags;
		rc = cal_reload(&d->cal, d->cfg.calendar_dir, &opt, err, sizeof(err));
		if (rc) {
			cm_log_error_err(DEADLINE, rc, "calendar reload refused, old calendar kept: %s",
					 err);
			cm_rpc_reply_error(r, &req, "invalid_calendar", "reload.what", err);
			goto out;
		}
		d->engine.cal = d->cal;
		deadline_calendar_version(d->cfg.calendar_dir, ver);
		cm_log_notice(DEADLINE, "calendar %s loaded from %s; recomputing open clocks", ver,
			      d->cfg.calendar_dir);
		start_job(d, DL_RECOMPUTE_CALENDAR, ver, req);
	} else if (strcmp(what, "policy") == 0) {
		struct dl_policy *p = NULL;
		rc = dl_policy_load(d->cfg.policy_file, &p, err, sizeof(err));
		if (rc) {
			cm_log_error_err(DEADLINE, rc, "policy reload refused, old policy kept: %s", err);
			cm_rpc_reply_error(r, &req, "invalid_policy", "reload.what", err);
			goto out;
		}
		dl_policy_free(&d->pol);
		d->pol = p;
		d->engine.pol = p;
		cm_log_notice(DEADLINE, "policy %s loaded from %s; recomputing open clocks",
			      dl_policy_version(p), d->cfg.policy_file);
		start_job(d, DL_RECOMPUTE_POLICY, dl_policy_version(p), req);
	} else {
		cm_rpc_reply_error(r, &req, "invalid_value", "reload.what",
				   "the deadline service reloads \"calendar\" or \"policy\"");
	}
out:
	cm_env_free(&env);
}

/* ---------------------------------------------------- admin and status --- */

static void on_status(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	struct deadline *d = arg;
	cm_env out = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__StatusReply sr = DONTHU__V1__STATUS_REPLY__INIT;
	Donthu__V1__ConsumerPosition cp[2], *cpp[2];
	char health[200];
	size_t n = 0;

	cm_env_free(&env);
	if (d->intake) {
		donthu__v1__consumer_position__init(&cp[n]);
		cp[n].producer = "intake";
		cp[n].applied_seq = cm_feed_consumer_applied(d->intake);
		cp[n].head_seq = cm_feed_consumer_head(d->intake);
		cpp[n] = &cp[n];
		n++;
	}
	if (d->routing) {
		donthu__v1__consumer_position__init(&cp[n]);
		cp[n].producer = "routing";
		cp[n].applied_seq = cm_feed_consumer_applied(d->routing);
		cp[n].head_seq = cm_feed_consumer_head(d->routing);
		cpp[n] = &cp[n];
		n++;
	}
	sr.service = "deadline";
	sr.version = DONTHU_VERSION;
	sr.now_ms = cm_clock_now_ms();
	sr.simulated_clock = cm_clock_is_simulated();
	sr.feed_head = cm_feed_head(d->feed);
	sr.n_consumers = n;
	sr.consumers = cpp;
	sr.open_clocks = d->counts.open;
	sr.overdue = d->counts.overdue;
	sr.cases = d->counts.cases;
	if (deadline_health(d, health, sizeof(health)) == 0) {
		char where[160];
		/* Not for /healthz: the process is sound, only not raising yet. */
		if (!d->ready) {
			catch_up_state(d, where, sizeof(where));
			snprintf(health, sizeof(health), "catching up (%s): nothing raised yet",
				 where);
		} else {
			snprintf(health, sizeof(health), "ok");
		}
	}
	sr.health = health;
	out.schema_version = CM_ENV_SCHEMA_VERSION;
	out.producer = "deadline";
	out.body_case = BODY(STATUS_REPLY);
	out.status_reply = &sr;
	cm_rpc_reply(r, &req, &out);
}

static int due_now_txn(struct cm_txn *t, void *arg)
{
	int64_t *earliest = arg;
	int rc = dl_engine_earliest(t, earliest);

	return rc == -ENOENT ? 0 : rc;
}

/* Simulated time moved: raise what became due before the ClockControl is
 * answered, so whoever moved the clock can read the result at once. Before
 * the feeds are caught up nothing is raised here: hold_clock keeps the reply
 * until on_ready_check has raised. */
static void on_clock_change(void *arg)
{
	struct deadline *d = arg;

	raise_due_now(d);
	deadline_schedule_due(d);
}

static void pub_recv(struct cm_zwatch *w, zmq_msg_t *frames, size_t n, void *arg)
{
	(void)w;
	(void)frames;
	(void)n;
	(void)arg;
}

static const struct cm_zwatch_ops pub_ops = {.recv = pub_recv};

void deadline_handlers_register(struct deadline *d)
{
	int rc;

	cm_rpc_on(d->feed_rpc, BODY(STATUS), on_status, d);
	cm_rpc_on(d->admin, BODY(STATUS), on_status, d);
	/* The clock listener (on_clock_change) raises what became due. */
	d->clock_admin.producer = "deadline";
	d->clock_admin.hold = hold_clock;
	d->clock_admin.arg = d;
	cm_admin_serve_clock_held(d->admin, &d->clock_admin);
	cm_rpc_on(d->admin, BODY(RELOAD), on_reload, d);
	backup_target.service = "deadline";
	backup_target.store = d->store;
	cm_admin_serve_backup(d->admin, &backup_target);
	if ((rc = cm_zwatch_new(d->loop, d->pub, &pub_ops, d, &d->pub_w)))
		cm_fatal(rc, "cannot watch the PUB socket");
	uv_timer_init(d->loop, &d->due_timer);
	uv_timer_init(d->loop, &d->job_timer);
	uv_timer_init(d->loop, &d->ready_timer);
	d->due_timer.data = d;
	d->job_timer.data = d;
	d->ready_timer.data = d;
	d->timers_open = true;
	/* Publish only what is appended from now on: subscribers that want
	 * history fetch the feed. */
	d->pub_next = cm_feed_head(d->feed) + 1;
	if (cm_clock_is_simulated())
		cm_clock_on_change(on_clock_change, d);
}

/* ------------------------------------------------- health and metrics --- */

int deadline_health(void *arg, char *reason, size_t size)
{
	struct deadline *d = arg;
	int rc;

	if (d->store_err) {
		snprintf(reason, size, "cannot store: %s", cm_strerror(d->store_err));
		return 1;
	}
	if (d->intake && (rc = cm_feed_consumer_error(d->intake))) {
		snprintf(reason, size, "cannot consume the intake feed: %s", cm_strerror(rc));
		return 1;
	}
	if (d->routing && (rc = cm_feed_consumer_error(d->routing))) {
		snprintf(reason, size, "cannot consume the routing feed: %s", cm_strerror(rc));
		return 1;
	}
	if (d->stopping) {
		snprintf(reason, size, "shutting down");
		return 1;
	}
	return 0;
}

void deadline_metrics_init(struct deadline *d)
{
	static const double secs[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1};
	static const double long_secs[] = {0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60};
	const char *he = "Escalations raised, by level";
	struct cm_metrics *m = cm_metrics_new("donthu_deadline");

	d->metrics = m;
	for (int l = DL_LVL_WARNING; l < DL_LVL_COUNT; l++) {
		char labels[48];
		snprintf(labels, sizeof(labels), "level=\"%s\"", dl_level_name((enum dl_level)l));
		d->m.escalations[l] = cm_metrics_counter(m, "escalations_total", labels, he);
	}
	d->m.batches_in = cm_metrics_counter(m, "consumer_batches_total", NULL,
					     "Feed batches applied (intake and routing)");
	d->m.deadline_set = cm_metrics_counter(m, "events_total", "type=\"deadline_set\"",
					       "Events appended to the deadline feed, by type");
	d->m.deadline_changed = cm_metrics_counter(m, "events_total", "type=\"deadline_changed\"",
						   NULL);
	d->m.ext_rejected = cm_metrics_counter(m, "events_total", "type=\"extension_rejected\"",
					       NULL);
	d->m.clock_stopped = cm_metrics_counter(m, "events_total", "type=\"clock_stopped\"", NULL);
	d->m.reloads = cm_metrics_counter(m, "events_total", "type=\"calendar_reloaded\"", NULL);
	d->m.published = cm_metrics_counter(m, "published_total", NULL,
					    "Escalations sent on the PUB socket");
	d->m.raise_txns = cm_metrics_counter(m, "raise_batches_total", NULL,
					     "Transactions that raised what was due");
	d->m.raise_seconds = cm_metrics_histogram(m, "raise_seconds",
						  "Raise transaction and durable commit time", secs,
						  CM_ARRAY_LEN(secs));
	d->m.recompute_seconds = cm_metrics_histogram(
		m, "recompute_seconds", "Time to recompute every open clock after a reload",
		long_secs, CM_ARRAY_LEN(long_secs));
}


/* Events the consumer still has to apply; 0 while the producer's head is not
 * known yet (it has not answered) or after a restore put us ahead of it. */
static uint64_t lag(const struct cm_feed_consumer *c)
{
	uint64_t head = cm_feed_consumer_head(c), applied = cm_feed_consumer_applied(c);

	return head > applied ? head - applied : 0;
}

void deadline_metrics_extra(void *arg, struct cm_buf *out)
{
	struct deadline *d = arg;
	struct cm_store_stats st;

	cm_store_get_stats(d->store, &st);
	cm_buf_printf(out,
		      "# HELP donthu_deadline_open_clocks Clocks running or suspended\n"
		      "# TYPE donthu_deadline_open_clocks gauge\n"
		      "donthu_deadline_open_clocks %" PRIu64 "\n"
		      "# HELP donthu_deadline_overdue_clocks Open clocks past their due day\n"
		      "# TYPE donthu_deadline_overdue_clocks gauge\n"
		      "donthu_deadline_overdue_clocks %" PRIu64 "\n"
		      "# HELP donthu_deadline_cases Cases known\n"
		      "# TYPE donthu_deadline_cases gauge\n"
		      "donthu_deadline_cases %" PRIu64 "\n",
		      d->counts.open, d->counts.overdue, d->counts.cases);
	cm_buf_printf(out,
		      "# HELP donthu_deadline_feed_head_seq Last sequence on the deadline feed\n"
		      "# TYPE donthu_deadline_feed_head_seq gauge\n"
		      "donthu_deadline_feed_head_seq %" PRIu64 "\n",
		      cm_feed_head(d->feed));
	if (d->intake)
		cm_buf_printf(out,
			      "# HELP donthu_deadline_consumer_lag Events behind the producer\n"
			      "# TYPE donthu_deadline_consumer_lag gauge\n"
			      "donthu_deadline_consumer_lag{producer=\"intake\"} %" PRIu64 "\n",
			      lag(d->intake));
	if (d->routing)
		cm_buf_printf(out, "donthu_deadline_consumer_lag{producer=\"routing\"} %" PRIu64 "\n",
			      lag(d->routing));
	cm_buf_printf(out,
		      "# HELP donthu_deadline_store_bytes Store map size and bytes used\n"
		      "# TYPE donthu_deadline_store_bytes gauge\n"
		      "donthu_deadline_store_bytes{kind=\"map\"} %" PRIu64 "\n"
		      "donthu_deadline_store_bytes{kind=\"used\"} %" PRIu64 "\n"
		      "# HELP donthu_deadline_store_healthy 1 when the last commit succeeded\n"
		      "# TYPE donthu_deadline_store_healthy gauge\n"
		      "donthu_deadline_store_healthy %d\n",
		      st.map_size, st.used_bytes, d->store_err ? 0 : 1);
}

struct explain_ctx {
	const char *id;
	char *buf;
	size_t len;
};

static int explain_txn(struct cm_txn *t, void *arg)
{
	struct explain_ctx *x = arg;

	return dl_engine_explain(t, x->id, x->buf, x->len);
}

/* GET /explain/<case number>/<rule id>: how a clock's due day was reached. */
int deadline_http_get(void *arg, const char *path, struct cm_buf *out, const char **ctype)
{
	struct deadline *d = arg;
	struct explain_ctx x = {.len = DL_EXPLAIN_MAX};
	int rc;

	if (strncmp(path, "/explain/", 9) != 0 || strlen(path + 9) >= DL_CLOCK_ID_MAX)
		return 0;
	x.id = path + 9;
	x.buf = cm_xmalloc(x.len);
	rc = cm_store_read(d->store, explain_txn, &x);
	*ctype = "text/plain; charset=utf-8";
	if (rc == 0)
		cm_buf_printf(out, "%s\n", x.buf);
	else
		cm_buf_printf(out, "%s\n", rc == -ENOENT ? "no such clock" : cm_strerror(rc));
	free(x.buf);
	return rc == 0 ? 200 : rc == -ENOENT ? 404 : 500;
}

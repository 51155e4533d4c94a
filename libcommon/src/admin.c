#include "common/admin.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cm_admin_reply(struct cm_rpc *r, struct cm_rpc_req **req, const char *producer, bool ok,
		   const char *detail)
{
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ControlReply cr = DONTHU__V1__CONTROL_REPLY__INIT;

	cr.ok = ok;
	cr.now_ms = cm_clock_now_ms();
	cr.detail = (char *)(detail ? detail : "");
	env.schema_version = CM_ENV_SCHEMA_VERSION;
	env.producer = (char *)producer;
	env.body_case = DONTHU__V1__ENVELOPE__BODY_CONTROL_REPLY;
	env.control_reply = &cr;
	return cm_rpc_reply(r, req, &env);
}

static void clock_move(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env,
		       const struct cm_admin_clock *h)
{
	const Donthu__V1__ClockControl *c = env->clock;
	int rc = -EINVAL;

	if (c && c->op_case == DONTHU__V1__CLOCK_CONTROL__OP_SET_MS)
		rc = cm_clock_set_ms(c->set_ms);
	else if (c && c->op_case == DONTHU__V1__CLOCK_CONTROL__OP_ADVANCE_MS)
		rc = cm_clock_advance_ms(c->advance_ms);
	cm_env_free(&env);
	if (rc)
		cm_rpc_reply_error(r, &req, rc == -EPERM ? "real_clock" : "invalid_value", "clock",
				   rc == -EPERM ? "this service runs on the real clock"
						: "time cannot go backwards");
	else if (!(h->hold && h->hold(r, &req, h->arg)))
		cm_admin_reply(r, &req, h->producer, true, "clock moved");
}

static void on_clock(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	struct cm_admin_clock plain = {.producer = arg};

	clock_move(r, req, env, &plain);
}

static void on_clock_held(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	clock_move(r, req, env, arg);
}

void cm_admin_serve_clock(struct cm_rpc *r, const char *producer)
{
	cm_rpc_on(r, DONTHU__V1__ENVELOPE__BODY_CLOCK, on_clock, (void *)producer);
}

void cm_admin_serve_clock_held(struct cm_rpc *r, const struct cm_admin_clock *c)
{
	cm_rpc_on(r, DONTHU__V1__ENVELOPE__BODY_CLOCK, on_clock_held, (void *)c);
}

/*
 * A backup of a million-case store takes tens of seconds: it runs on libuv's
 * worker pool (cm_store_backup may), so the service keeps serving and
 * consuming meanwhile. One copy at a time per store; a second request is
 * refused while one runs rather than queued behind it unseen.
 */
struct cm_admin_backup_job {
	uv_work_t work;
	struct cm_admin_backup *b;
	struct cm_rpc *r;	/* NULL once the socket is gone: reply dropped */
	struct cm_rpc_req *req;
	char *parent;		/* the folder asked for; dir is parent/<service> */
	char *dir;
	int rc;
};

static void backup_work(uv_work_t *w)
{
	struct cm_admin_backup_job *j = w->data;

	int fd;

	j->rc = cm_store_backup(j->b->store, j->dir);
	/* dir may have just been made: its own entry must be on disk too. */
	if (j->rc == 0 && (fd = open(j->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(fd) != 0)
			j->rc = -errno;
		close(fd);
	}
}

static void backup_reply(struct cm_admin_backup_job *j)
{
	char *why;

	if (!j->r) {
		cm_rpc_req_free(&j->req);
		return;
	}
	if (j->rc == 0) {
		cm_admin_reply(j->r, &j->req, j->b->service, true, j->dir);
		return;
	}
	why = j->rc == -EEXIST ? cm_xasprintf("%s already holds a backup (data.mdb)", j->dir)
			       : cm_xstrdup(cm_strerror(j->rc));
	cm_rpc_reply_error(j->r, &j->req, "backup_failed", "backup.dir", why);
	free(why);
}

static void backup_done(uv_work_t *w, int status)
{
	struct cm_admin_backup_job *j = w->data;

	if (status == UV_ECANCELED)
		j->rc = -ECANCELED;
	if (j->rc)
		cm_log_warn_err(STORE, j->rc, "backup into %s failed", j->dir);
	else
		cm_log_notice(STORE, "backup written to %s", j->dir);
	backup_reply(j);
	j->b->job = NULL;
	free(j->parent);
	free(j->dir);
	free(j);
}

/* The socket closes (service stopping) while a copy runs: the copy goes on
 * (the loop runs until it ends, and the store is closed after the loop), but
 * nobody is left to answer. */
static void backup_socket_freed(struct cm_rpc *r, void *arg)
{
	struct cm_admin_backup *b = arg;

	(void)r;
	if (b->job) {
		cm_rpc_req_free(&b->job->req);
		b->job->r = NULL;
	}
}

static void on_backup(struct cm_rpc *r, struct cm_rpc_req *req, cm_env *env, void *arg)
{
	struct cm_admin_backup *b = arg;
	struct cm_admin_backup_job *j;
	char *dir = NULL, *parent = NULL;
	int rc;

	if (!env->backup || !env->backup->dir || !*env->backup->dir) {
		cm_env_free(&env);
		cm_rpc_reply_error(r, &req, "invalid_value", "backup.dir", "a folder is required");
		return;
	}
	dir = cm_xasprintf("%s/%s", env->backup->dir, b->service);
	parent = cm_xstrdup(env->backup->dir);
	cm_env_free(&env);
	if (b->job) {
		char *why = cm_xasprintf("a backup into %s is still being written", b->job->dir);

		cm_rpc_reply_error(r, &req, "busy", "backup.dir", why);
		free(why);
		free(parent);
		free(dir);
		return;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		cm_log_warn_err(STORE, rc, "backup into %s failed", dir);
		cm_rpc_reply_error(r, &req, "backup_failed", "backup.dir", cm_strerror(rc));
		free(parent);
		free(dir);
		return;
	}
	j = cm_xcalloc(1, sizeof(*j));
	j->work.data = j;
	j->b = b;
	j->r = r;
	j->req = req;
	j->parent = parent;
	j->dir = dir;
	/* Said when it begins, so an operator whose client gave up can tell a
	 * copy in progress from a hung service. */
	cm_log_notice(STORE, "backup into %s started", dir);
	rc = uv_queue_work(cm_rpc_loop(r), &j->work, backup_work, backup_done);
	if (rc) {
		j->rc = rc; /* libuv errors are negative errno values */
		backup_reply(j);
		free(j->parent);
		free(j->dir);
		free(j);
		return;
	}
	b->job = j;
}

void cm_admin_serve_backup(struct cm_rpc *r, struct cm_admin_backup *b)
{
	b->job = NULL;
	cm_rpc_on(r, DONTHU__V1__ENVELOPE__BODY_BACKUP, on_backup, b);
	cm_rpc_on_free(r, backup_socket_freed, b);
}

bool cm_admin_clock_config_or_die(const struct cm_config *cfg)
{
	const char *clock = cm_config_str_or_die(cfg, "clock", "real");
	const char *start;
	int64_t ms;

	if (strcmp(clock, "real") == 0)
		return false;
	if (strcmp(clock, "simulated") != 0)
		cm_fatal(CM_ECONFIG, "clock (%s) must be real or simulated, not %s",
			 cm_config_source(cfg, "clock"), clock);
	start = cm_config_str_or_die(cfg, "clock_start", "2026-01-01T08:00:00+07:00");
	if (cm_time_parse(start, &ms) != 0)
		cm_fatal(CM_ECONFIG, "clock_start (%s): not an RFC 3339 time: %s",
			 cm_config_source(cfg, "clock_start"), start);
	cm_clock_use_simulated(ms);
	return true;
}

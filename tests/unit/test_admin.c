/*
 * test_admin - the shared backup handler: the copy runs on a worker and is
 * answered once it is on disk (mode 0600), a second request while one runs
 * is refused `busy`, a missing folder is `invalid_value`, and a socket freed
 * while a copy runs drops the answer without touching the freed socket.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>
#include <zmq.h>

#include "common/admin.h"
#include "common/envelope.h"
#include "common/loop.h"
#include "common/rpc.h"
#include "common/store.h"

struct fx {
	char dir[64];
	char ep[128];
	uv_loop_t loop;
	void *zctx;
	void *client;
	struct cm_store *store;
	struct cm_rpc *rpc;
	struct cm_admin_backup target;
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static int fill(struct cm_txn *t, void *arg)
{
	char key[16], val[512];
	int rc;

	(void)arg;
	memset(val, 'x', sizeof(val));
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "k%06d", i);
		rc = cm_txn_put(t, 0, key, strlen(key), val, sizeof(val), 0);
		if (rc)
			return rc;
	}
	return 0;
}

static int setup(void **state)
{
	static const char *const dbs[] = {"data"};
	struct fx *f = calloc(1, sizeof(*f));
	struct cm_store_opts so = {.dbi_names = dbs, .ndbi = 1};
	struct cm_zsock_opts ro = {0};
	char path[96];
	int linger = 0;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/cm_admin_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/store", f->dir);
	so.path = path;
	assert_int_equal(cm_store_open(&so, &f->store), 0);
	assert_int_equal(cm_store_write(f->store, fill, NULL), 0);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->zctx = zmq_ctx_new();
	snprintf(f->ep, sizeof(f->ep), "ipc://%s/admin.sock", f->dir);
	ro.endpoint = f->ep;
	assert_int_equal(cm_rpc_new(&f->loop, f->zctx, &ro, &f->rpc), 0);
	f->target.service = "svc";
	f->target.store = f->store;
	cm_admin_serve_backup(f->rpc, &f->target);
	f->client = zmq_socket(f->zctx, ZMQ_DEALER);
	zmq_setsockopt(f->client, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_connect(f->client, f->ep), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	zmq_close(f->client);
	cm_rpc_free(&f->rpc);
	/* A copy still running keeps the loop alive until it ends. */
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(cm_loop_teardown(&f->loop), 0);
	cm_store_close(&f->store);
	zmq_ctx_term(f->zctx);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void send_backup(struct fx *f, const char *dir)
{
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__BackupRequest b = DONTHU__V1__BACKUP_REQUEST__INIT;
	uint8_t *buf;
	size_t len;

	e.schema_version = CM_ENV_SCHEMA_VERSION;
	e.body_case = DONTHU__V1__ENVELOPE__BODY_BACKUP;
	b.dir = (char *)dir;
	e.backup = &b;
	assert_int_equal(cm_env_pack_alloc(&e, &buf, &len), 0);
	assert_int_equal(zmq_send(f->client, buf, len, 0), (int)len);
	free(buf);
}

/* Turns the loop until the client holds a reply (or 10 s of turns). */
static cm_env *await_reply(struct fx *f)
{
	zmq_pollitem_t it = {.socket = f->client, .events = ZMQ_POLLIN};
	cm_env *out = NULL;
	zmq_msg_t m;

	for (int i = 0; i < 10000; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (zmq_poll(&it, 1, 1) == 1)
			break;
	}
	zmq_msg_init(&m);
	assert_true(zmq_msg_recv(&m, f->client, ZMQ_DONTWAIT) >= 0);
	assert_int_equal(cm_env_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &out), 0);
	zmq_msg_close(&m);
	assert_int_equal(out->body_case, DONTHU__V1__ENVELOPE__BODY_CONTROL_REPLY);
	return out;
}

/* Turns the loop until the rpc socket has taken what the client sent. */
static void deliver(struct fx *f, int nreq)
{
	for (int i = 0; i < 2000 && !f->target.job; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	(void)nreq;
}

static void test_backup_written_and_answered(void **state)
{
	struct fx *f = *state;
	char copy[128];
	struct stat st;
	cm_env *r;

	send_backup(f, f->dir);
	r = await_reply(f);
	assert_true(r->control_reply->ok);
	snprintf(copy, sizeof(copy), "%s/svc", f->dir);
	assert_string_equal(r->control_reply->detail, copy);
	cm_env_free(&r);
	snprintf(copy, sizeof(copy), "%s/svc/data.mdb", f->dir);
	assert_int_equal(stat(copy, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(st.st_size > 2000 * 512);
	assert_null(f->target.job);

	/* The same folder again: it already holds a copy. */
	send_backup(f, f->dir);
	r = await_reply(f);
	assert_false(r->control_reply->ok);
	assert_string_equal(r->control_reply->error->code, "backup_failed");
	assert_non_null(strstr(r->control_reply->error->message, "already holds a backup"));
	cm_env_free(&r);
}

static void test_second_request_while_copying_is_busy(void **state)
{
	struct fx *f = *state;
	char second[96];
	cm_env *a, *b;

	/* Both arrive in one loop turn: the first is on the worker, and its
	 * end can only be seen by the loop after that turn. */
	snprintf(second, sizeof(second), "%s/two", f->dir);
	assert_int_equal(mkdir(second, 0700), 0);
	send_backup(f, f->dir);
	send_backup(f, second);
	usleep(50 * 1000);
	a = await_reply(f);
	b = await_reply(f);
	/* Replies come in completion order: busy first, then the copy. */
	assert_false(a->control_reply->ok);
	assert_string_equal(a->control_reply->error->code, "busy");
	assert_true(b->control_reply->ok);
	cm_env_free(&a);
	cm_env_free(&b);
}

static void test_missing_folder(void **state)
{
	struct fx *f = *state;
	cm_env *r;

	send_backup(f, "");
	r = await_reply(f);
	assert_false(r->control_reply->ok);
	assert_string_equal(r->control_reply->error->code, "invalid_value");
	assert_string_equal(r->control_reply->error->field, "backup.dir");
	cm_env_free(&r);
}

static void test_socket_freed_while_copying(void **state)
{
	struct fx *f = *state;
	char copy[128];
	struct stat st;

	send_backup(f, f->dir);
	deliver(f, 1);
	assert_non_null(f->target.job);
	/* The service stops: the answer is dropped, the copy completes. */
	cm_rpc_free(&f->rpc);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_null(f->target.job);
	snprintf(copy, sizeof(copy), "%s/svc/data.mdb", f->dir);
	assert_int_equal(stat(copy, &st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backup_written_and_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_request_while_copying_is_busy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_freed_while_copying, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * intake_curve_test - with CURVE on, only clients whose public key is in the
 * allowlist can submit or read the feed; a plain client and an unlisted key
 * get nothing at all (the handshake fails, no message is delivered).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/mem.h"
#include "svc.h"
#include "testsupport.h"

#define CHECK(c)                                                                        \
	do {                                                                            \
		if (!(c)) {                                                             \
			fprintf(stderr, "intake_curve_test: line %d: %s\n", __LINE__, #c); \
			status = 1;                                                     \
			goto out;                                                       \
		}                                                                       \
	} while (0)

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cm_require(f != NULL);
	fputs(text, f);
	fclose(f);
}

static void fetch_req(cm_env *e, Donthu__V1__FetchRequest *f)
{
	donthu__v1__envelope__init(e);
	donthu__v1__fetch_request__init(f);
	f->from_seq = 1;
	e->schema_version = 1;
	e->body_case = DONTHU__V1__ENVELOPE__BODY_FETCH;
	e->fetch = f;
}

int main(void)
{
	char srv_pub[41], srv_sec[41], ok_pub[41], ok_sec[41], bad_pub[41], bad_sec[41];
	char *tmp = cm_test_tmpdir("curve"), *envv[14], *p;
	char ep_submit[300], ep_feed[300], ep_admin[300];
	struct svc in = {.bin = DONTHU_INTAKE_BIN};
	void *zctx = zmq_ctx_new();
	cm_env req, *rep = NULL;
	Donthu__V1__FetchRequest f;
	int status = 0;

	zmq_curve_keypair(srv_pub, srv_sec);
	zmq_curve_keypair(ok_pub, ok_sec);
	zmq_curve_keypair(bad_pub, bad_sec);
	p = cm_xasprintf("%s/server.secret", tmp);
	write_text(p, srv_sec);
	free(p);
	p = cm_xasprintf("%s/allow", tmp);
	{
		char *list = cm_xasprintf("# allowed clients\n%s # the test client\n", ok_pub);
		write_text(p, list);
		free(list);
	}
	free(p);
	p = cm_xasprintf("%s/keys", tmp);
	svc_write_identity_key(p);
	free(p);
	snprintf(ep_submit, sizeof(ep_submit), "ipc://%s/submit.sock", tmp);
	snprintf(ep_feed, sizeof(ep_feed), "ipc://%s/feed.sock", tmp);
	snprintf(ep_admin, sizeof(ep_admin), "ipc://%s/admin.sock", tmp);
	envv[0] = cm_xasprintf("DONTHU_INTAKE_DATA_DIR=%s/data", tmp);
	envv[1] = cm_xasprintf("DONTHU_INTAKE_LISTEN=%s", ep_submit);
	envv[2] = cm_xasprintf("DONTHU_INTAKE_FEED_LISTEN=%s", ep_feed);
	envv[3] = cm_xasprintf("DONTHU_INTAKE_ADMIN_LISTEN=%s", ep_admin);
	envv[4] = cm_xasprintf("DONTHU_INTAKE_HTTP_PORT=0");
	envv[5] = cm_xasprintf("DONTHU_INTAKE_REGISTER_DIR=%s/register", DONTHU_DATA_DIR);
	envv[6] = cm_xasprintf("DONTHU_INTAKE_IDENTITY_KEYS_DIR=%s/keys", tmp);
	envv[7] = cm_xasprintf("DONTHU_INTAKE_CURVE_SECRET_FILE=%s/server.secret", tmp);
	envv[8] = cm_xasprintf("DONTHU_INTAKE_CURVE_ALLOW_FILE=%s/allow", tmp);
	envv[9] = cm_xasprintf("DONTHU_LOG=warn");
	envv[10] = NULL;
	in.env = envv;
	snprintf(in.log, sizeof(in.log), "%s/intake.log", tmp);
	/* The admin socket is ipc:// in the data dir and stays plain: it is
	 * guarded by file permissions. */
	CHECK(svc_start(&in, ep_admin) == 0);

	fetch_req(&req, &f);
	CHECK(svc_call_curve(zctx, ep_feed, srv_pub, ok_pub, ok_sec, &req, 3000, &rep) == 0);
	CHECK(rep->fetch_reply != NULL);
	cm_env_free(&rep);
	/* An unlisted key and a plain socket: no answer, ever. */
	CHECK(svc_call_curve(zctx, ep_feed, srv_pub, bad_pub, bad_sec, &req, 500, &rep) != 0);
	CHECK(svc_call(zctx, ep_feed, &req, 500, &rep) != 0);
	CHECK(svc_call_curve(zctx, ep_submit, srv_pub, bad_pub, bad_sec, &req, 500, &rep) != 0);
	CHECK(svc_call(zctx, ep_submit, &req, 500, &rep) != 0);
	/* The allowed client reaches the submit socket (a fetch there is
	 * answered "unsupported": the point is that it is answered). */
	CHECK(svc_call_curve(zctx, ep_submit, srv_pub, ok_pub, ok_sec, &req, 3000, &rep) == 0);
	cm_env_free(&rep);
	CHECK(svc_stop(&in) == 0);
	printf("intake_curve_test: passed\n");
out:
	if (in.pid > 0)
		svc_kill(&in);
	zmq_ctx_term(zctx);
	for (int i = 0; envv[i]; i++)
		free(envv[i]);
	cm_test_rmrf(tmp);
	free(tmp);
	return status;
}

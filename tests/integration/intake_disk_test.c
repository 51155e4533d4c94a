/*
 * intake_disk_test - intake on a full disk and on a broken store.
 *
 * A tmpfs of a few MiB is mounted for the store (root only; the test is
 * skipped with 77 otherwise), and a filler file takes most of it. Intake must
 * answer UNAVAILABLE once a commit cannot be written, acknowledge nothing it
 * did not store, keep serving reads, and recover by itself when the filler is
 * removed. A store that cannot be opened must stop intake at start with one
 * line saying why.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/mem.h"
#include "svc.h"
#include "testsupport.h"

#define SUBMIT(x) DONTHU__V1__SUBMIT_STATUS__SUBMIT_STATUS_##x
#define CHECK(c)                                                                  \
	do {                                                                      \
		if (!(c)) {                                                       \
			fprintf(stderr, "intake_disk_test: %s:%d: %s\n", __FILE__, \
				__LINE__, #c);                                    \
			status = 1;                                               \
			goto out;                                                 \
		}                                                                 \
	} while (0)

static void *zctx;
static char ep_submit[300], ep_feed[300], ep_admin[300];

static int submit(int i, Donthu__V1__SubmitReply **out, cm_env **hold)
{
	Donthu__V1__SubmitRequest q = DONTHU__V1__SUBMIT_REQUEST__INIT;
	Donthu__V1__IdempotencyKey k = DONTHU__V1__IDEMPOTENCY_KEY__INIT;
	Donthu__V1__Petition p = DONTHU__V1__PETITION__INIT;
	Donthu__V1__Person person = DONTHU__V1__PERSON__INIT, *people[1] = {&person};
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	char sid[32], text[2048];
	int rc;

	snprintf(sid, sizeof(sid), "disk-%d", i);
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	k.source_system = "test.disk";
	k.source_id = sid;
	person.full_name = "Lê Văn Đầy";
	person.address = "1 Bạch Đằng, Đà Nẵng";
	p.channel = DONTHU__V1__CHANNEL__CHANNEL_POST;
	p.received_at_ms = cm_day_start_ms(cm_day_from_ymd(2026, 3, 9));
	p.receiving_agency = "DN-TTR";
	p.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK;
	p.n_petitioners = 1;
	p.petitioners = people;
	p.signer_count = 1;
	p.summary = "Phản ánh";
	p.text = text; /* large, so the disk fills quickly */
	q.request_id = (uint64_t)i;
	q.key = &k;
	q.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_PETITION;
	q.petition = &p;
	env.schema_version = 1;
	env.body_case = DONTHU__V1__ENVELOPE__BODY_SUBMIT;
	env.submit = &q;
	rc = svc_call(zctx, ep_submit, &env, 5000, hold);
	if (rc == 0)
		*out = (*hold)->submit_reply;
	return rc;
}

struct seen {
	int max;
	unsigned char *count;
};

static void count_event(const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct seen *s = arg;
	int i;

	(void)raw;
	(void)len;
	if (ev->body_case != DONTHU__V1__ENVELOPE__BODY_PETITION_RECEIVED)
		return;
	i = atoi(ev->petition_received->key->source_id + 5);
	if (i >= 0 && i < s->max)
		s->count[i]++;
}

int main(void)
{
	char *tmp = cm_test_tmpdir("disk"), *mnt = cm_xasprintf("%s/mnt", tmp);
	char *keys = cm_xasprintf("%s/keys", tmp), *filler = cm_xasprintf("%s/filler", mnt);
	char *envv[12] = {0};
	struct svc in = {.bin = DONTHU_INTAKE_BIN};
	enum { MAX = 4000 };
	unsigned char accepted[MAX] = {0};
	struct seen seen = {.max = MAX, .count = cm_xcalloc(MAX, 1)};
	int status = 0, i, unavailable = 0, first_unavailable = -1, mounted = 0;
	uint64_t events;

	mkdir(mnt, 0700);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=4m") != 0) {
		fprintf(stderr, "intake_disk_test: cannot mount a tmpfs (%s): skipped\n",
			strerror(errno));
		cm_test_rmrf(tmp);
		free(filler);
		free(keys);
		free(mnt);
		free(tmp);
		return 77;
	}
	mounted = 1;
	{
		/* Leave ~1.5 MiB free: enough to start, little enough to fill. */
		int fd = open(filler, O_CREAT | O_WRONLY, 0600);
		char block[65536] = {0};
		for (int b = 0; b < 40; b++)
			CHECK(write(fd, block, sizeof(block)) == (ssize_t)sizeof(block));
		close(fd);
	}
	svc_write_identity_key(keys);
	snprintf(ep_submit, sizeof(ep_submit), "ipc://%s/submit.sock", tmp);
	snprintf(ep_feed, sizeof(ep_feed), "ipc://%s/feed.sock", tmp);
	snprintf(ep_admin, sizeof(ep_admin), "ipc://%s/admin.sock", tmp);
	envv[0] = cm_xasprintf("DONTHU_INTAKE_DATA_DIR=%s/data", mnt);
	envv[1] = cm_xasprintf("DONTHU_INTAKE_LISTEN=%s", ep_submit);
	envv[2] = cm_xasprintf("DONTHU_INTAKE_FEED_LISTEN=%s", ep_feed);
	envv[3] = cm_xasprintf("DONTHU_INTAKE_ADMIN_LISTEN=%s", ep_admin);
	envv[4] = cm_xasprintf("DONTHU_INTAKE_HTTP_PORT=0");
	envv[5] = cm_xasprintf("DONTHU_INTAKE_REGISTER_DIR=%s/register", DONTHU_DATA_DIR);
	envv[6] = cm_xasprintf("DONTHU_INTAKE_IDENTITY_KEYS_DIR=%s", keys);
	envv[7] = cm_xasprintf("DONTHU_INTAKE_CLOCK=simulated");
	envv[8] = cm_xasprintf("DONTHU_INTAKE_CLOCK_START=2026-03-10T09:00:00+07:00");
	envv[9] = cm_xasprintf("DONTHU_INTAKE_MAP_SIZE_MB=64");
	envv[10] = cm_xasprintf("DONTHU_LOG=warn");
	envv[11] = NULL;
	in.env = envv;
	snprintf(in.log, sizeof(in.log), "%s/intake.log", tmp);
	zctx = zmq_ctx_new();
	CHECK(svc_start(&in, ep_admin) == 0);

	/* Fill the disk. */
	for (i = 0; i < MAX && unavailable < 20; i++) {
		Donthu__V1__SubmitReply *r = NULL;
		cm_env *hold = NULL;
		CHECK(submit(i, &r, &hold) == 0);
		if (r->status == SUBMIT(ACCEPTED)) {
			accepted[i] = 1;
		} else {
			CHECK(r->status == SUBMIT(UNAVAILABLE));
			CHECK(strcmp(r->error->code, "storage_full") == 0);
			if (first_unavailable < 0)
				first_unavailable = i;
			unavailable++;
		}
		cm_env_free(&hold);
	}
	fprintf(stderr, "intake_disk_test: %d accepted, then UNAVAILABLE from #%d\n",
		first_unavailable, first_unavailable);
	CHECK(first_unavailable > 0);
	/* Reads keep working while full: status and the feed. */
	{
		cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
		Donthu__V1__StatusRequest st = DONTHU__V1__STATUS_REQUEST__INIT;
		req.schema_version = 1;
		req.body_case = DONTHU__V1__ENVELOPE__BODY_STATUS;
		req.status = &st;
		CHECK(svc_call(zctx, ep_admin, &req, 5000, &rep) == 0);
		CHECK(rep->status_reply && strncmp(rep->status_reply->health, "cannot store", 12) == 0);
		cm_env_free(&rep);
		CHECK(svc_fetch_all(zctx, ep_feed, count_event, &seen, &events) == 0);
	}
	/* Free space: intake recovers by itself and the same keys go through. */
	CHECK(unlink(filler) == 0);
	for (int j = first_unavailable; j < i; j++) {
		Donthu__V1__SubmitReply *r = NULL;
		cm_env *hold = NULL;
		CHECK(submit(j, &r, &hold) == 0);
		CHECK(r->status == SUBMIT(ACCEPTED));
		accepted[j] = 1;
		cm_env_free(&hold);
	}
	/* Everything acknowledged is on the feed exactly once, including
	 * across a restart. */
	CHECK(svc_stop(&in) == 0);
	CHECK(svc_start(&in, ep_admin) == 0);
	memset(seen.count, 0, MAX);
	CHECK(svc_fetch_all(zctx, ep_feed, count_event, &seen, &events) == 0);
	for (int j = 0; j < i; j++)
		CHECK(seen.count[j] == accepted[j]);
	CHECK(svc_stop(&in) == 0);

	/* A corrupt store: intake refuses to start, with one line saying why. */
	{
		char *db = cm_xasprintf("%s/data/data.mdb", mnt);
		int fd = open(db, O_WRONLY | O_TRUNC);
		char junk[8192];
		memset(junk, 0x5a, sizeof(junk));
		CHECK(fd >= 0 && write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
		close(fd);
		free(db);
		snprintf(in.log, sizeof(in.log), "%s/intake-corrupt.log", tmp);
		CHECK(svc_start(&in, ep_admin) == -ECHILD);
		{
			char line[1024] = "";
			FILE *f = fopen(in.log, "r");
			CHECK(f && fgets(line, sizeof(line), f));
			fclose(f);
			fprintf(stderr, "intake_disk_test: corrupt store -> %s", line);
			CHECK(strstr(line, "cannot open") != NULL && strstr(line, "CM_ECORRUPT") != NULL);
		}
	}
	printf("intake_disk_test: passed\n");
out:
	if (in.pid > 0)
		svc_kill(&in);
	zmq_ctx_term(zctx);
	if (mounted)
		umount2(mnt, MNT_DETACH);
	cm_test_rmrf(tmp);
	for (int j = 0; j < 11; j++)
		free(envv[j]);
	free(seen.count);
	free(filler);
	free(keys);
	free(mnt);
	free(tmp);
	return status;
}

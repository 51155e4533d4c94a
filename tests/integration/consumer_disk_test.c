/*
 * consumer_disk_test - routing, deadline and report on a full disk and on a
 * broken store.
 *
 * Intake runs on an ordinary temporary directory. Each consumer keeps its
 * store on a small tmpfs of its own (root only; the test is skipped with 77
 * otherwise), and once it is up a filler file takes all but a little of it.
 * Petitions are submitted until every consumer has stopped on a full store.
 * Each must then: keep running, say once in its log that it cannot apply
 * (ENOSPC), answer 503 on /healthz and carry the reason on /metrics, still
 * answer status, and not move its applied position nor write more log lines
 * nor spin while it waits. When the fillers are removed every consumer
 * resumes by itself and ends with every petition applied exactly once.
 *
 * Then each consumer's store is broken three ways (a directory it may not
 * enter, run as nobody since root ignores permissions; a read-only
 * filesystem; a data.mdb overwritten with junk), and the service must exit
 * non-zero at start with a line naming its store.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/mem.h"
#include "svc.h"
#include "testsupport.h"

#define SUBMIT(x) DONTHU__V1__SUBMIT_STATUS__SUBMIT_STATUS_##x
#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x
#define CHECK(c)                                                                           \
	do {                                                                               \
		if (!(c)) {                                                                \
			fprintf(stderr, "consumer_disk_test: %s:%d: %s\n", __FILE__,        \
				__LINE__, #c);                                             \
			status = 1;                                                        \
			goto out;                                                          \
		}                                                                          \
	} while (0)
#define CHECKF(c, ...)                                                                     \
	do {                                                                               \
		if (!(c)) {                                                                \
			fprintf(stderr, "consumer_disk_test: %s:%d: %s: ", __FILE__, __LINE__, \
				#c);                                                       \
			fprintf(stderr, __VA_ARGS__);                                      \
			fputc('\n', stderr);                                               \
			status = 1;                                                        \
			goto out;                                                          \
		}                                                                          \
	} while (0)

/* Room each consumer gets once it is up: a few hundred petitions' worth. */
#define TMPFS_SIZE "size=8m"
#define FREE_BYTES (1024 * 1024)
/* Petitions per round; rounds go on until every store is full. */
#define CHUNK 100
#define MAX_PETITIONS 20000
#define NOBODY 65534

enum { ROUTING, DEADLINE, REPORT, NCONS };

struct consumer {
	const char *name;
	const char *bin;
	struct svc svc;
	char *env[24];
	char *mnt, *data, *filler;
	char ep_admin[300], ep_feed[300], ep_other[300];
	uint16_t http_port;
	bool mounted;
	/* Filled in when its store is found full. */
	bool full;
	uint64_t applied_full;	/* events applied when it stopped */
	uint64_t head_full;	/* intake's head at that moment */
	double resume_s;	/* from removing the filler to caught up */
};

static void *zctx;
static char *tmp;
static char ep_submit[300], ep_ifeed[300], ep_iadmin[300];

static void add_env(char **env, const char *fmt, const char *a, const char *b)
{
	int i = 0;

	while (env[i])
		i++;
	env[i] = cm_xasprintf(fmt, a, b);
}

static void configure(struct consumer *c)
{
	char **e = c->env;
	const char *D = DONTHU_DATA_DIR;
	const char *N = c->name;
	char up[16];

	for (size_t i = 0; i < strlen(N) + 1 && i < sizeof(up); i++)
		up[i] = (char)(N[i] >= 'a' && N[i] <= 'z' ? N[i] - 32 : N[i]);
	c->mnt = cm_xasprintf("%s/%s-mnt", tmp, N);
	c->data = cm_xasprintf("%s/store", c->mnt);
	c->filler = cm_xasprintf("%s/filler", c->mnt);
	snprintf(c->ep_admin, sizeof(c->ep_admin), "ipc://%s/%s-admin.sock", tmp, N);
	snprintf(c->ep_feed, sizeof(c->ep_feed), "ipc://%s/%s-feed.sock", tmp, N);
	snprintf(c->ep_other, sizeof(c->ep_other), "ipc://%s/%s-other.sock", tmp, N);
	add_env(e, "DONTHU_%s_DATA_DIR=%s", up, c->data);
	add_env(e, "DONTHU_%s_ADMIN_LISTEN=%s", up, c->ep_admin);
	add_env(e, "DONTHU_%s_HTTP_PORT=0%s", up, "");
	add_env(e, "DONTHU_%s_INTAKE_FEED=%s", up, ep_ifeed);
	add_env(e, "DONTHU_%s_CLOCK=simulated%s", up, "");
	add_env(e, "DONTHU_%s_CLOCK_START=%s", up, "2026-03-10T09:00:00+07:00");
	if (strcmp(N, "routing") == 0) {
		add_env(e, "DONTHU_%s_FEED_LISTEN=%s", up, c->ep_feed);
		add_env(e, "DONTHU_%s_REGISTER_DIR=%s/register", up, D);
		add_env(e, "DONTHU_%s_RULES_FILE=%s/routing/rules.json", up, D);
	} else if (strcmp(N, "deadline") == 0) {
		/* On intake alone: the routing feed is off, as in deadline_test. */
		add_env(e, "DONTHU_%s_FEED_LISTEN=%s", up, c->ep_feed);
		add_env(e, "DONTHU_%s_PUB_LISTEN=%s", up, c->ep_other);
		add_env(e, "DONTHU_%s_ROUTING_FEED=%s", up, "");
		add_env(e, "DONTHU_%s_CALENDAR_DIR=%s/calendar", up, D);
		add_env(e, "DONTHU_%s_POLICY_FILE=%s/policy/deadline-policy.json", up, D);
	} else {
		add_env(e, "DONTHU_%s_LISTEN=%s", up, c->ep_other);
		add_env(e, "DONTHU_%s_REGISTER_DIR=%s/register", up, D);
		add_env(e, "DONTHU_%s_FORMS_DIR=%s/forms", up, D);
		add_env(e, "DONTHU_%s_ROUTING_FEED=%s", up, "");
		add_env(e, "DONTHU_%s_DEADLINE_FEED=%s", up, "");
	}
	/* The ready line (with the HTTP port) and the feed's "consuming again". */
	add_env(e, "DONTHU_LOG=%s%s", "warn,main=notice,feed=notice", "");
	c->svc.env = c->env;
	snprintf(c->svc.log, sizeof(c->svc.log), "%s/%s.log", tmp, N);
}

/* The whole of a file as a string (caller frees), or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = cm_xmalloc((size_t)n + 1);
	n = (long)fread(buf, 1, (size_t)n, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int count_lines(const char *path)
{
	char *s = slurp(path);
	int n = 0;

	for (char *p = s; p && *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

/* The HTTP port from the last ready line in the log. */
static uint16_t http_port_from_log(const char *path)
{
	char *s = slurp(path), *p, *last = NULL;
	unsigned port = 0;

	for (p = s; p && (p = strstr(p, " ready: ")); p++)
		last = p;
	if (last && (p = strstr(last, "http 127.0.0.1:")))
		port = (unsigned)strtoul(p + 15, NULL, 10);
	free(s);
	return (uint16_t)port;
}

/* A blocking GET; body (caller frees) gets everything after the headers.
 * Returns the status code or -errno. */
static int http_get(uint16_t port, const char *path, char **body)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 5};
	char req[256], *buf = NULL, *end;
	size_t len = 0, cap = 0;
	int fd, code = -EPROTO;

	*body = NULL;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		code = -errno;
		close(fd);
		return code;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
		 path);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		close(fd);
		return -EIO;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = cm_xrealloc(buf, cap);
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!buf)
		return -EPROTO;
	buf[len] = '\0';
	end = strstr(buf, "\r\n\r\n");
	if (end && sscanf(buf, "HTTP/1.%*d %d", &code) == 1)
		*body = cm_xstrdup(end + 4);
	free(buf);
	return code;
}

static Donthu__V1__StatusReply *status_of(const char *ep, cm_env **hold)
{
	cm_env req = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__StatusRequest st = DONTHU__V1__STATUS_REQUEST__INIT;

	req.schema_version = 1;
	req.body_case = BODY(STATUS);
	req.status = &st;
	if (svc_call(zctx, ep, &req, 5000, hold) != 0 || !(*hold)->status_reply) {
		cm_env_free(hold);
		return NULL;
	}
	return (*hold)->status_reply;
}

struct pos {
	bool answered;
	uint64_t applied, cases;
	char health[256];
};

static struct pos position(const char *ep)
{
	struct pos p = {0};
	cm_env *hold = NULL;
	Donthu__V1__StatusReply *s = status_of(ep, &hold);

	if (!s)
		return p;
	p.answered = true;
	p.cases = s->cases;
	for (size_t i = 0; i < s->n_consumers; i++)
		if (strcmp(s->consumers[i]->producer, "intake") == 0)
			p.applied = s->consumers[i]->applied_seq;
	snprintf(p.health, sizeof(p.health), "%s", s->health ? s->health : "");
	cm_env_free(&hold);
	return p;
}

static void send_petition(void *sock, int i)
{
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__SubmitRequest q = DONTHU__V1__SUBMIT_REQUEST__INIT;
	Donthu__V1__IdempotencyKey key = DONTHU__V1__IDEMPOTENCY_KEY__INIT;
	Donthu__V1__Petition p = DONTHU__V1__PETITION__INIT;
	Donthu__V1__Person person = DONTHU__V1__PERSON__INIT, *people[1] = {&person};
	char sid[32], name[64], idn[16], text[1024];
	zmq_msg_t m;

	snprintf(sid, sizeof(sid), "cdisk-%d", i);
	/* One person per petition: no duplicate links, one decision per case. */
	snprintf(name, sizeof(name), "Nguyễn Văn Đầy %d", i);
	snprintf(idn, sizeof(idn), "0799%08d", i);
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	key.source_system = "test.consumer-disk";
	key.source_id = sid;
	person.full_name = name;
	person.id_kind = DONTHU__V1__ID_KIND__ID_KIND_CCCD;
	person.id_number = idn;
	person.address = "1 Bạch Đằng, Phường Hải Châu";
	p.channel = DONTHU__V1__CHANNEL__CHANNEL_PORTAL;
	p.received_at_ms = cm_day_start_ms(cm_day_from_ymd(2026, 3, 9)) + 3600 * 1000;
	p.receiving_agency = "DN-TTR";
	p.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK;
	p.n_petitioners = 1;
	p.petitioners = people;
	p.signer_count = 1;
	p.summary = "Đèn đường hỏng";
	p.text = text;
	p.signed_ = 1;
	q.request_id = (uint64_t)i + 1;
	q.key = &key;
	q.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_PETITION;
	q.petition = &p;
	env.schema_version = 1;
	env.body_case = BODY(SUBMIT);
	env.submit = &q;
	if (cm_env_pack_msg(&env, &m) == 0)
		zmq_msg_send(&m, sock, 0);
}

/* Submit petitions [from, from + n); returns how many intake accepted. */
static int submit_range(void *sock, int from, int n)
{
	enum { WINDOW = 100 };
	int sent = from, got = 0, accepted = 0;

	while (got < n) {
		zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
		zmq_msg_t m;

		while (sent < from + n && sent - from - got < WINDOW)
			send_petition(sock, sent++);
		if (zmq_poll(&it, 1, 10000) <= 0)
			return accepted;
		zmq_msg_init(&m);
		while (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) >= 0) {
			cm_env *rep = NULL;
			if (cm_env_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &rep) == 0 &&
			    rep->submit_reply && rep->submit_reply->status == SUBMIT(ACCEPTED))
				accepted++;
			cm_env_free(&rep);
			got++;
		}
		zmq_msg_close(&m);
	}
	return accepted;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of a process, in clock ticks. */
static long cpu_ticks(pid_t pid)
{
	char path[64], *s, *p;
	unsigned long ut = 0, st = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	s = slurp(path);
	/* Fields after the command name, which may hold spaces. */
	p = s ? strrchr(s, ')') : NULL;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		ut = st = 0;
	free(s);
	return (long)(ut + st);
}

/* Reaps it if it has exited, so it is never signalled by a stale PID. */
static bool alive(struct svc *s)
{
	if (s->pid > 0 && waitpid(s->pid, NULL, WNOHANG) == 0)
		return true;
	s->pid = 0;
	return false;
}

/* Leave exactly FREE_BYTES free on the consumer's tmpfs (rounded to pages). */
static int fill(const struct consumer *c)
{
	struct statvfs v;
	char block[65536] = {0};
	unsigned long long avail, left;
	int fd;

	if (statvfs(c->mnt, &v) != 0)
		return -errno;
	avail = (unsigned long long)v.f_bavail * v.f_frsize;
	if (avail <= FREE_BYTES)
		return -ENOSPC;
	left = avail - FREE_BYTES;
	fd = open(c->filler, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	while (left) {
		size_t n = left < sizeof(block) ? (size_t)left : sizeof(block);
		if (write(fd, block, n) != (ssize_t)n) {
			close(fd);
			return -EIO;
		}
		left -= n;
	}
	close(fd);
	return 0;
}

/* ---------------------------------------------- exactly once, per service */

struct cases {
	char **v;
	size_t n, cap;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect_case(const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct cases *cs = arg;

	(void)raw;
	(void)len;
	if (ev->body_case != BODY(PETITION_RECEIVED) || !ev->case_number)
		return;
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 1024;
		cs->v = cm_xrealloc(cs->v, cs->cap * sizeof(*cs->v));
	}
	cs->v[cs->n++] = cm_xstrdup(ev->case_number);
}

struct tally {
	const struct cases *cs;
	unsigned *a, *b;	/* per case: routing classified/outcome, deadline clocks */
	size_t unknown;
	/* deadline: clock ids seen, to find one set twice */
	struct cases clocks;
};

static long find_case(const struct cases *cs, const char *k)
{
	char *const *p = k ? bsearch(&k, cs->v, cs->n, sizeof(*cs->v), cmp_str) : NULL;

	return p ? (long)(p - cs->v) : -1;
}

static void tally_routing(const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct tally *t = arg;
	long i = find_case(t->cs, ev->case_number);

	(void)raw;
	(void)len;
	if (i < 0) {
		t->unknown++;
		return;
	}
	if (ev->body_case == BODY(CLASSIFIED))
		t->a[i]++;
	else if (ev->body_case == BODY(ASSIGNED) || ev->body_case == BODY(TRANSFERRED) ||
		 ev->body_case == BODY(FILED))
		t->b[i]++;
}

static void tally_deadline(const cm_env *ev, const void *raw, size_t len, void *arg)
{
	struct tally *t = arg;
	long i;

	(void)raw;
	(void)len;
	if (ev->body_case != BODY(DEADLINE_SET) || !ev->deadline_set)
		return;
	i = find_case(t->cs, ev->deadline_set->case_number);
	if (i < 0) {
		t->unknown++;
		return;
	}
	t->a[i]++;
	if (t->clocks.n == t->clocks.cap) {
		t->clocks.cap = t->clocks.cap ? t->clocks.cap * 2 : 1024;
		t->clocks.v = cm_xrealloc(t->clocks.v, t->clocks.cap * sizeof(*t->clocks.v));
	}
	t->clocks.v[t->clocks.n++] = cm_xstrdup(ev->deadline_set->clock_id);
}

static void free_cases(struct cases *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free(cs->v[i]);
	free(cs->v);
	memset(cs, 0, sizeof(*cs));
}

/* ------------------------------------------------------- broken stores -- */

/*
 * Start c's binary (as uid when it is not 0) and wait for it to exit.
 * Returns the exit status, -ETIMEDOUT if it kept running (it is killed),
 * or -ENOEXEC when it could not be executed as that user.
 */
static int run_to_exit(struct consumer *c, uid_t uid, const char *log)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		for (char **e = c->env; e && *e; e++)
			putenv(*e);
		if (uid && (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0))
			_exit(126);
		execl(c->bin, c->bin, (char *)NULL);
		_exit(126);
	}
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			if (WIFEXITED(st) && WEXITSTATUS(st) == 126)
				return -ENOEXEC;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -ETIMEDOUT;
}

/*
 * The service must have refused to start saying why: its last line is the
 * fatal "cannot open the store in <dir>" with the error, and every line it
 * wrote (the store's own reason may come first) is an error naming the
 * store. Prints the last line.
 */
static bool says_store(const struct consumer *c, const char *log, const char *err,
		       const char *what)
{
	char *s = slurp(log), *line, *save = NULL, *last = NULL, *fatal;
	bool ok = s != NULL;

	fatal = cm_xasprintf("cannot open the store in %s\"", c->data);
	for (line = s ? strtok_r(s, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, "\"level\":\"error\"") || !strstr(line, c->data))
			ok = false;
		last = line;
	}
	if (ok && last && strstr(last, fatal) && strstr(last, err))
		fprintf(stderr, "consumer_disk_test: %s, %s -> %s\n", c->name, what, last);
	else
		ok = false;
	if (!ok) {
		free(s);
		s = slurp(log);
		fprintf(stderr, "consumer_disk_test: %s, %s: want error lines naming %s, the last "
				"with %s, got:\n%s\n",
			c->name, what, c->data, err, s ? s : "(no log)");
	}
	free(fatal);
	free(s);
	return ok;
}

int main(void)
{
	struct consumer cons[NCONS] = {
		[ROUTING] = {.name = "routing", .bin = DONTHU_ROUTING_BIN},
		[DEADLINE] = {.name = "deadline", .bin = DONTHU_DEADLINE_BIN},
		[REPORT] = {.name = "report", .bin = DONTHU_REPORT_BIN},
	};
	char *ienv[16] = {0};
	struct svc in = {.bin = DONTHU_INTAKE_BIN};
	struct cases cs = {0};
	struct tally t = {0};
	void *sock = NULL;
	int status = 0, sent = 0, accepted = 0, nfull = 0;
	double t_free;

	tmp = cm_test_tmpdir("consumer-disk");
	snprintf(ep_submit, sizeof(ep_submit), "ipc://%s/submit.sock", tmp);
	snprintf(ep_ifeed, sizeof(ep_ifeed), "ipc://%s/ifeed.sock", tmp);
	snprintf(ep_iadmin, sizeof(ep_iadmin), "ipc://%s/iadmin.sock", tmp);
	for (int k = 0; k < NCONS; k++) {
		struct consumer *c = &cons[k];

		c->svc.bin = c->bin;
		configure(c);
		mkdir(c->mnt, 0700);
		if (mount("tmpfs", c->mnt, "tmpfs", 0, TMPFS_SIZE) != 0) {
			fprintf(stderr, "consumer_disk_test: cannot mount a tmpfs (%s): skipped\n",
				strerror(errno));
			status = 77;
			goto out;
		}
		c->mounted = true;
	}
	{
		char *keys = cm_xasprintf("%s/keys", tmp);
		int n = 0;

		svc_write_identity_key(keys);
		ienv[n++] = cm_xasprintf("DONTHU_INTAKE_DATA_DIR=%s/intake", tmp);
		ienv[n++] = cm_xasprintf("DONTHU_INTAKE_LISTEN=%s", ep_submit);
		ienv[n++] = cm_xasprintf("DONTHU_INTAKE_FEED_LISTEN=%s", ep_ifeed);
		ienv[n++] = cm_xasprintf("DONTHU_INTAKE_ADMIN_LISTEN=%s", ep_iadmin);
		ienv[n++] = cm_xasprintf("DONTHU_INTAKE_HTTP_PORT=0");
		ienv[n++] = cm_xasprintf("DONTHU_INTAKE_REGISTER_DIR=%s/register", DONTHU_DATA_DIR);
		ienv[n++] = cm_xasprintf("DONTHU_INTAKE_IDENTITY_KEYS_DIR=%s", keys);
		ienv[n++] = cm_xasprintf("DONTHU_INTAKE_CLOCK=simulated");
		ienv[n++] = cm_xasprintf("DONTHU_INTAKE_CLOCK_START=2026-03-10T09:00:00+07:00");
		ienv[n++] = cm_xasprintf("DONTHU_LOG=warn");
		free(keys);
	}
	in.env = ienv;
	snprintf(in.log, sizeof(in.log), "%s/intake.log", tmp);
	zctx = zmq_ctx_new();
	CHECK(svc_start(&in, ep_iadmin) == 0);
	for (int k = 0; k < NCONS; k++) {
		struct consumer *c = &cons[k];

		CHECKF(svc_start(&c->svc, c->ep_admin) == 0, "%s did not start", c->name);
		c->http_port = http_port_from_log(c->svc.log);
		CHECKF(c->http_port != 0, "no HTTP port in %s", c->svc.log);
		CHECKF(fill(c) == 0, "cannot fill %s", c->mnt);
	}

	/* Fill every consumer's store. */
	sock = zmq_socket(zctx, ZMQ_DEALER);
	{
		int zero = 0;
		zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
		zmq_setsockopt(sock, ZMQ_SNDHWM, &zero, sizeof(zero));
		zmq_setsockopt(sock, ZMQ_RCVHWM, &zero, sizeof(zero));
	}
	CHECK(zmq_connect(sock, ep_submit) == 0);
	while (nfull < NCONS && sent < MAX_PETITIONS) {
		accepted += submit_range(sock, sent, CHUNK);
		sent += CHUNK;
		CHECKF(accepted == sent, "intake accepted %d of %d", accepted, sent);
		/* Each consumer either catches up with intake or stops on a full
		 * store; nothing else is allowed. */
		for (int k = 0; k < NCONS; k++) {
			struct consumer *c = &cons[k];
			struct pos p = {0};
			int w;

			if (c->full)
				continue;
			/* A passing error (a fetch timing out on a loaded machine) is
			 * waited out like a lag. */
			for (w = 0; w < 600; w++) {
				p = position(c->ep_admin);
				CHECKF(p.answered, "%s does not answer status", c->name);
				if (strstr(p.health, "No space"))
					break;
				if (p.applied == (uint64_t)sent && strcmp(p.health, "ok") == 0)
					break;
				usleep(50000);
			}
			CHECKF(w < 600, "%s neither caught up nor filled: at %" PRIu64 ", \"%s\"",
			       c->name, p.applied, p.health);
			if (!strstr(p.health, "No space"))
				continue;
			CHECKF(strstr(p.health, "cannot consume"), "%s: unexpected health \"%s\"",
			       c->name, p.health);
			c->full = true;
			c->applied_full = p.applied;
			c->head_full = (uint64_t)sent;
			nfull++;
			fprintf(stderr,
				"consumer_disk_test: %s store full after %" PRIu64
				" petitions applied (intake head %d): %s\n",
				c->name, p.applied, sent, p.health);
		}
	}
	CHECKF(nfull == NCONS, "%d of %d stores filled after %d petitions", nfull, NCONS, sent);

	/* While full: running, said so once, unhealthy with the reason on
	 * /healthz and /metrics, still answering, not moving, not spinning. */
	{
		long ticks[NCONS];
		int lines[NCONS];
		uint64_t applied[NCONS];
		double t0 = now_s(), dt;

		for (int k = 0; k < NCONS; k++) {
			struct consumer *c = &cons[k];
			char *log = slurp(c->svc.log), *body = NULL, want[128];
			const char *l;
			int code;

			CHECKF(alive(&c->svc), "%s exited on a full disk", c->name);
			l = log ? strstr(log, "cannot apply batch") : NULL;
			CHECKF(l && strstr(l, "\"err\":\"ENOSPC\""), "%s log lacks the reason:\n%s",
			       c->name, log ? log : "");
			free(log);
			code = http_get(c->http_port, "/healthz", &body);
			CHECKF(code == 503 && body && strstr(body, "unhealthy: cannot consume") &&
				       strstr(body, "No space"),
			       "%s /healthz %d %s", c->name, code, body ? body : "");
			free(body);
			code = http_get(c->http_port, "/metrics", &body);
			snprintf(want, sizeof(want), "\ndonthu_%s_healthy 0\n", c->name);
			CHECKF(code == 200 && body && strstr(body, want), "%s /metrics lacks %s",
			       c->name, want);
			snprintf(want, sizeof(want), "\ndonthu_%s_unhealthy{reason=\"cannot consume ",
				 c->name);
			l = strstr(body, want);
			CHECKF(l && strstr(l, "No space"), "%s /metrics lacks %s...", c->name, want);
			fprintf(stderr, "consumer_disk_test: %s /metrics: %.*s\n", c->name,
				(int)strcspn(l + 1, "\n"), l + 1);
			free(body);
			ticks[k] = cpu_ticks(c->svc.pid);
			lines[k] = count_lines(c->svc.log);
			applied[k] = position(c->ep_admin).applied;
		}
		/* Three retry periods (one a second). */
		sleep(3);
		dt = now_s() - t0;
		for (int k = 0; k < NCONS; k++) {
			struct consumer *c = &cons[k];
			struct pos p = position(c->ep_admin);
			long used = cpu_ticks(c->svc.pid) - ticks[k];
			int more = count_lines(c->svc.log) - lines[k];

			CHECKF(p.answered && p.applied == applied[k] && p.applied == c->applied_full,
			       "%s moved while full: %" PRIu64 " -> %" PRIu64, c->name, applied[k],
			       p.applied);
			CHECKF(more == 0, "%s wrote %d log lines while waiting", c->name, more);
			fprintf(stderr,
				"consumer_disk_test: %s waiting on a full store: %ld ticks of CPU in "
				"%.1f s\n",
				c->name, used, dt);
			/* Not a speed check: a retry loop without its pause would use
			 * the whole window. */
			CHECKF((double)used < dt * (double)sysconf(_SC_CLK_TCK) / 2,
			       "%s spins while full", c->name);
		}
	}

	/* Free the space: every consumer resumes by itself. */
	t_free = now_s();
	for (int k = 0; k < NCONS; k++)
		CHECK(unlink(cons[k].filler) == 0);
	for (int done = 0, w = 0; done < NCONS; w++) {
		CHECKF(w < 600, "not every consumer resumed within 60 s");
		done = 0;
		for (int k = 0; k < NCONS; k++) {
			struct consumer *c = &cons[k];
			struct pos p;

			if (c->resume_s > 0) {
				done++;
				continue;
			}
			p = position(c->ep_admin);
			if (p.applied == (uint64_t)sent && strcmp(p.health, "ok") == 0) {
				c->resume_s = now_s() - t_free;
				done++;
			}
		}
		if (done < NCONS)
			usleep(50000);
	}
	for (int k = 0; k < NCONS; k++) {
		struct consumer *c = &cons[k];
		char *log = slurp(c->svc.log), *body = NULL, want[64];
		int code;

		fprintf(stderr, "consumer_disk_test: %s caught up %.2f s after the filler went\n",
			c->name, c->resume_s);
		CHECKF(log && strstr(log, "consuming intake again"), "%s log lacks the resume",
		       c->name);
		free(log);
		CHECK(http_get(c->http_port, "/healthz", &body) == 200);
		free(body);
		code = http_get(c->http_port, "/metrics", &body);
		snprintf(want, sizeof(want), "\ndonthu_%s_healthy 1\n", c->name);
		CHECKF(code == 200 && body && strstr(body, want) && !strstr(body, "_unhealthy{"),
		       "%s /metrics after resuming", c->name);
		free(body);
	}

	/* Every petition applied exactly once. */
	{
		uint64_t n;
		struct pos p;

		CHECK(svc_fetch_all(zctx, ep_ifeed, collect_case, &cs, &n) == 0);
		CHECKF(cs.n == (size_t)sent, "intake feed has %zu petitions of %d", cs.n, sent);
		qsort(cs.v, cs.n, sizeof(*cs.v), cmp_str);
		t.cs = &cs;
		t.a = cm_xcalloc(cs.n, sizeof(*t.a));
		t.b = cm_xcalloc(cs.n, sizeof(*t.b));

		CHECK(svc_fetch_all(zctx, cons[ROUTING].ep_feed, tally_routing, &t, &n) == 0);
		for (size_t i = 0; i < cs.n; i++)
			CHECKF(t.a[i] == 1 && t.b[i] == 1, "routing: case %s classified %u, decided %u",
			       cs.v[i], t.a[i], t.b[i]);
		CHECK(t.unknown == 0);
		p = position(cons[ROUTING].ep_admin);
		CHECKF(p.cases == cs.n, "routing has %" PRIu64 " cases", p.cases);

		memset(t.a, 0, cs.n * sizeof(*t.a));
		CHECK(svc_fetch_all(zctx, cons[DEADLINE].ep_feed, tally_deadline, &t, &n) == 0);
		for (size_t i = 0; i < cs.n; i++)
			CHECKF(t.a[i] >= 1 && t.a[i] == t.a[0], "deadline: case %s has %u clocks (%u)",
			       cs.v[i], t.a[i], t.a[0]);
		qsort(t.clocks.v, t.clocks.n, sizeof(*t.clocks.v), cmp_str);
		for (size_t i = 1; i < t.clocks.n; i++)
			CHECKF(strcmp(t.clocks.v[i - 1], t.clocks.v[i]) != 0,
			       "deadline: clock %s set twice", t.clocks.v[i]);
		CHECK(t.unknown == 0);
		p = position(cons[DEADLINE].ep_admin);
		CHECKF(p.cases == cs.n, "deadline has %" PRIu64 " cases", p.cases);

		p = position(cons[REPORT].ep_admin);
		CHECKF(p.cases == cs.n, "report has %" PRIu64 " cases", p.cases);
		fprintf(stderr,
			"consumer_disk_test: %d petitions; routing one decision each, deadline %u "
			"clock(s) each, report %" PRIu64 " cases\n",
			sent, t.a[0], p.cases);
	}

	/* Broken stores: each service refuses to start, saying which store. */
	for (int k = 0; k < NCONS; k++) {
		struct consumer *c = &cons[k];
		char *log = cm_xasprintf("%s/%s-broken.log", tmp, c->name);
		char *db = cm_xasprintf("%s/data.mdb", c->data);
		int rc;

		CHECKF(svc_stop(&c->svc) == 0, "%s did not stop cleanly", c->name);

		/* A store directory it may not enter. Root ignores permissions,
		 * so the service runs as nobody, who can reach the directory but
		 * not open it. */
		chmod(tmp, 0711);
		chmod(c->mnt, 0711);
		chmod(c->data, 0);
		rc = run_to_exit(c, NOBODY, log);
		chmod(c->data, 0700);
		chmod(c->mnt, 0700);
		chmod(tmp, 0700);
		if (rc == -ENOEXEC) {
			fprintf(stderr, "consumer_disk_test: %s cannot be run as nobody: "
					"permission case not checked\n", c->name);
		} else {
			CHECKF(rc == 1, "%s without permission: exit %d", c->name, rc);
			if (!says_store(c, log, "EACCES", "no permission")) {
				status = 1;
				goto next;
			}
		}

		/* A read-only filesystem. */
		CHECK(mount(NULL, c->mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0);
		rc = run_to_exit(c, 0, log);
		CHECK(mount(NULL, c->mnt, NULL, MS_REMOUNT, TMPFS_SIZE) == 0);
		CHECKF(rc == 1, "%s on a read-only store: exit %d", c->name, rc);
		if (!says_store(c, log, "EROFS", "read-only")) {
			status = 1;
			goto next;
		}

		/* A data.mdb overwritten with junk. */
		{
			int fd = open(db, O_WRONLY | O_TRUNC);
			char junk[8192];

			memset(junk, 0x5a, sizeof(junk));
			CHECK(fd >= 0 && write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
			close(fd);
		}
		rc = run_to_exit(c, 0, log);
		CHECKF(rc == 1, "%s on a junk data.mdb: exit %d", c->name, rc);
		if (!says_store(c, log, "CM_ECORRUPT", "junk data.mdb"))
			status = 1;
next:
		free(log);
		free(db);
		if (status)
			goto out;
	}
	printf("consumer_disk_test: passed\n");
out:
	if (sock)
		zmq_close(sock);
	for (int k = 0; k < NCONS; k++)
		if (cons[k].svc.pid > 0)
			svc_kill(&cons[k].svc);
	if (in.pid > 0)
		svc_kill(&in);
	if (zctx)
		zmq_ctx_term(zctx);
	for (int k = 0; k < NCONS; k++) {
		struct consumer *c = &cons[k];

		if (c->mounted)
			umount2(c->mnt, MNT_DETACH);
		for (int j = 0; c->env[j]; j++)
			free(c->env[j]);
		free(c->mnt);
		free(c->data);
		free(c->filler);
	}
	if (getenv("KEEP_TMP") == NULL)
		cm_test_rmrf(tmp);
	else
		fprintf(stderr, "consumer_disk_test: kept %s\n", tmp);
	for (int j = 0; ienv[j]; j++)
		free(ienv[j]);
	free_cases(&cs);
	free_cases(&t.clocks);
	free(t.a);
	free(t.b);
	free(tmp);
	return status;
}

/*
 * pipeline_bench - whole-pipeline figures against the four running services
 * laid out by bench/pipeline/stack.sh (sockets in DIR, admin sockets in
 * DIR/<service>/admin.sock, simulated clocks).
 *
 *   pipeline_bench ingest DIR COUNT INFLIGHT SAMPLE [RATE [COUNTER]]
 *       Publish COUNT petitions (~400 bytes, each a different petitioner,
 *       fresh keys) with up to INFLIGHT in flight on one DEALER, as fast as
 *       answers come or (RATE > 0) at RATE per second. Times from the first
 *       publish until intake acknowledged all of them and until the COUNTER
 *       service (report unless told; routing, deadline or intake when only
 *       part of the pipeline runs) counts all of them (StatusReply.cases:
 *       report's counted, deadline's tracked, routing's classified, intake's
 *       accepted cases). With SAMPLE > 0 it
 *       also follows the deadline feed and times publish -> the first
 *       DeadlineSet of every case whose serial is a multiple of SAMPLE.
 *   pipeline_bench escalate DIR PER_DAY DAYS STEPS
 *       Publish PER_DAY petitions received on each working day of the DAYS
 *       days before the current (simulated) day, wait until every service has
 *       applied them, then STEPS times move every clock one day on (deadline
 *       last: that request is the due instant) and time each escalation
 *       raised by the step until it reaches a SUB subscriber on the PUB
 *       socket ("esc.") and until a long-polling feed reader gets it.
 *   pipeline_bench report DIR QUERIES
 *       The province-level annual report (01/XLD, DN-UBND with subunits,
 *       2026-Y): one warm-up, then QUERIES timed.
 *   pipeline_bench wait DIR TIMEOUT_S [SERVICES]
 *       Until every consumer has applied its producer's head; with SERVICES
 *       (comma-separated, e.g. intake,routing) only the services started.
 *
 * Output: one line of key=value figures. Exit 1 when the pipeline stalls or
 * loses something; never on slowness.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/err.h"
#include "common/mem.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x
/* The bodies are a oneof (a union): test which one is set, never the pointer. */
#define IS(e, x) ((e)->body_case == BODY(x))
/* Envelope field numbers read by the scanner below (envelope.proto). */
#define F_SEQUENCE 4
#define F_CASE_NUMBER 6
#define F_DEADLINE_SET 80
#define F_ESCALATION 84

#define WARMUP 200
/* No progress for this long means the pipeline is stuck, not slow. */
#define STALL_NS (180ull * 1000000000u)
#define FETCH_WAIT_MS 500

static const char *const agencies[] = {"DN-TTR", "DN-SXD", "DN-STC", "UBND-20242"};

static char dir[512];
static unsigned salt;

/* The four services in pipeline order, with the socket each answers a
 * StatusRequest on. A consumer reads the feeds of every service before it. */
enum { SVC_INTAKE, SVC_ROUTING, SVC_DEADLINE, SVC_REPORT, SVC_N };
static const char *const svc_name[SVC_N] = {"intake", "routing", "deadline", "report"};
static const char *const svc_sock[SVC_N] = {"intake-feed.sock", "routing-feed.sock",
					    "deadline-feed.sock", "report.sock"};

/* Index of a service name. Errors: -EINVAL for another name. */
static int svc_parse(const char *name)
{
	for (int i = 0; i < SVC_N; i++)
		if (strcmp(name, svc_name[i]) == 0)
			return i;
	return -EINVAL;
}

/* Bit mask of a comma-separated service list. Errors: -EINVAL for an
 * unknown name or an empty list. */
static int svc_mask(const char *spec)
{
	char copy[128], *save = NULL;
	int mask = 0;

	if (strlen(spec) >= sizeof(copy))
		return -EINVAL;
	snprintf(copy, sizeof(copy), "%s", spec);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int i = svc_parse(t);
		if (i < 0)
			return i;
		mask |= 1 << i;
	}
	return mask ? mask : -EINVAL;
}

static const char *ep(const char *name)
{
	static char buf[8][600];
	static unsigned i;
	char *b = buf[i++ % 8];

	snprintf(b, sizeof(buf[0]), "ipc://%s/%s", dir, name);
	return b;
}

static void *dealer(void *ctx, const char *endpoint)
{
	void *s = zmq_socket(ctx, ZMQ_DEALER);
	int zero = 0;

	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof(zero));
	zmq_connect(s, endpoint);
	return s;
}

static int send_env(void *sock, const cm_env *e)
{
	zmq_msg_t m;

	if (cm_env_pack_msg(e, &m) != 0)
		return -EIO;
	if (zmq_msg_send(&m, sock, 0) < 0) {
		zmq_msg_close(&m);
		return -EIO;
	}
	return 0;
}

/* Receive one envelope. Errors: -EAGAIN (nothing, with ZMQ_DONTWAIT), -EIO,
 * the decoder's. */
static int recv_env(void *sock, int flags, cm_env **out)
{
	zmq_msg_t m;
	int rc;

	*out = NULL;
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, sock, flags) < 0) {
		rc = errno == EAGAIN ? -EAGAIN : -EIO;
		zmq_msg_close(&m);
		return rc;
	}
	rc = cm_env_unpack_limit(zmq_msg_data(&m), zmq_msg_size(&m), CM_ENV_MAX_BATCH_BYTES, out);
	zmq_msg_close(&m);
	return rc;
}

/* One request, one answer, on a fresh DEALER. Errors: -ETIMEDOUT, -EIO, the
 * decoder's. */
static int call(void *ctx, const char *endpoint, const cm_env *req, int timeout_ms, cm_env **out)
{
	void *s = dealer(ctx, endpoint);
	zmq_pollitem_t it = {.socket = s, .events = ZMQ_POLLIN};
	int rc;

	*out = NULL;
	rc = send_env(s, req);
	if (rc == 0)
		rc = zmq_poll(&it, 1, timeout_ms) > 0 ? recv_env(s, 0, out) : -ETIMEDOUT;
	zmq_close(s);
	return rc;
}

static void status_req(cm_env *e, Donthu__V1__StatusRequest *s)
{
	donthu__v1__status_request__init(s);
	donthu__v1__envelope__init(e);
	e->schema_version = CM_ENV_SCHEMA_VERSION;
	e->body_case = BODY(STATUS);
	e->status = s;
}

/* StatusReply of the service at endpoint; caller frees *out. Errors: as
 * call(), -EPROTO for another answer. */
static int status(void *ctx, const char *endpoint, cm_env **out)
{
	cm_env e;
	Donthu__V1__StatusRequest s;
	int rc;

	status_req(&e, &s);
	rc = call(ctx, endpoint, &e, 10000, out);
	if (rc == 0 && !IS(*out, STATUS_REPLY)) {
		cm_env_free(out);
		rc = -EPROTO;
	}
	return rc;
}

static int status_field(void *ctx, const char *endpoint, int64_t *now_ms, uint64_t *head,
			uint64_t *cases)
{
	cm_env *r;
	int rc = status(ctx, endpoint, &r);

	if (rc)
		return rc;
	if (now_ms)
		*now_ms = r->status_reply->now_ms;
	if (head)
		*head = r->status_reply->feed_head;
	if (cases)
		*cases = r->status_reply->cases;
	cm_env_free(&r);
	return 0;
}

static void send_petition(void *sock, uint64_t id, uint64_t person, int64_t received_at_ms)
{
	Donthu__V1__SubmitRequest q = DONTHU__V1__SUBMIT_REQUEST__INIT;
	Donthu__V1__IdempotencyKey k = DONTHU__V1__IDEMPOTENCY_KEY__INIT;
	Donthu__V1__Petition p = DONTHU__V1__PETITION__INIT;
	Donthu__V1__Person pers = DONTHU__V1__PERSON__INIT, *people[1] = {&pers};
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	char sid[48], idn[16];

	snprintf(sid, sizeof(sid), "pl-%u-%" PRIu64, salt, person);
	/* A different petitioner per petition: one person's many petitions
	 * would make every duplicate lookup read all of them. */
	snprintf(idn, sizeof(idn), "048%09" PRIu64, person % 1000000000u);
	k.source_system = "bench.pipeline";
	k.source_id = sid;
	pers.full_name = "Trần Văn Bình";
	pers.id_kind = DONTHU__V1__ID_KIND__ID_KIND_CCCD;
	pers.id_number = idn;
	pers.address = "45 Nguyễn Văn Linh, Phường Hải Châu, Thành phố Đà Nẵng";
	pers.phone = "0905123456";
	p.channel = DONTHU__V1__CHANNEL__CHANNEL_PORTAL;
	p.received_at_ms = received_at_ms;
	p.receiving_agency = (char *)agencies[person % CM_ARRAY_LEN(agencies)];
	p.kind = person % 2 ? DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK
			    : DONTHU__V1__PETITION_KIND__PETITION_KIND_RECOMMENDATION;
	p.n_petitioners = 1;
	p.petitioners = people;
	p.signer_count = 1;
	p.field = "xay-dung";
	p.location_unit = "20242";
	p.signed_ = 1;
	p.summary = "Phản ánh công trình xây dựng lấn chiếm vỉa hè, gây ngập úng khi mưa lớn trên "
		    "đường Nguyễn Văn Linh; đề nghị kiểm tra và xử lý.";
	p.text = "Kính gửi Thanh tra thành phố. Công trình tại số 47 xây dựng lấn chiếm vỉa hè "
		 "từ tháng trước, vật liệu để dưới lòng đường.";
	q.request_id = id;
	q.key = &k;
	q.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_PETITION;
	q.petition = &p;
	env.schema_version = CM_ENV_SCHEMA_VERSION;
	env.body_case = BODY(SUBMIT);
	env.submit = &q;
	send_env(sock, &env);
}

/* ------------------------------------------------- event scanner --- */

/* What the benchmark needs from a feed event, read straight from the wire
 * format: unpacking every event of a million-case feed would cost the
 * client more CPU than the services it measures. */
struct evinfo {
	uint64_t seq;
	const char *cn;
	size_t cn_len;
	unsigned body;
};

static bool varint(const uint8_t *p, size_t n, size_t *i, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64 && *i < n; shift += 7) {
		uint8_t b = p[(*i)++];
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

static bool scan_env(const uint8_t *p, size_t n, struct evinfo *e)
{
	size_t i = 0;

	memset(e, 0, sizeof(*e));
	while (i < n) {
		uint64_t key, v;
		if (!varint(p, n, &i, &key))
			return false;
		switch (key & 7) {
		case 0:
			if (!varint(p, n, &i, &v))
				return false;
			if ((key >> 3) == F_SEQUENCE)
				e->seq = v;
			break;
		case 1:
			i += 8;
			break;
		case 2:
			if (!varint(p, n, &i, &v) || v > n - i)
				return false;
			if ((key >> 3) == F_CASE_NUMBER) {
				e->cn = (const char *)p + i;
				e->cn_len = v;
			} else if ((key >> 3) >= 10) {
				e->body = (unsigned)(key >> 3);
			}
			i += v;
			break;
		case 5:
			i += 4;
			break;
		default:
			return false;
		}
	}
	return i == n;
}

/* Serial of "<agency>-<year>-<serial>", 0 when there is none. */
static uint64_t serial_of(const char *cn, size_t len)
{
	uint64_t s = 0, mul = 1;

	while (len > 0 && cn[len - 1] >= '0' && cn[len - 1] <= '9') {
		s += (uint64_t)(cn[--len] - '0') * mul;
		mul *= 10;
	}
	return s;
}

/* ------------------------------------------------ sample table --- */

struct sample {
	char cn[40];
	uint64_t sent, set;
};

struct table {
	struct sample *s;
	size_t cap;
};

static struct sample *lookup(struct table *t, const char *cn, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	if (len >= sizeof(t->s[0].cn) || t->cap == 0)
		return NULL;
	for (size_t k = 0; k < len; k++)
		h = (h ^ (uint8_t)cn[k]) * 1099511628211ull;
	for (i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct sample *s = &t->s[i];
		if (s->cn[0] == 0) {
			memcpy(s->cn, cn, len);
			s->cn[len] = 0;
			return s;
		}
		if (strncmp(s->cn, cn, len) == 0 && s->cn[len] == 0)
			return s;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* "p50_ms=.. p99_ms=.. max_ms=.." of n nanosecond values, sorted here. */
static void print_pct(const char *name, uint64_t *v, size_t n)
{
	if (n == 0) {
		printf(" %s_n=0", name);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	printf(" %s_n=%zu %s_p50_ms=%.3f %s_p99_ms=%.3f %s_max_ms=%.3f", name, n, name,
	       (double)v[n / 2] / 1e6, name, (double)v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e6,
	       name, (double)v[n - 1] / 1e6);
}

/* ------------------------------------------------ feed follower --- */

struct follower {
	void *sock;
	uint64_t next, head;
	bool busy;
};

static void follow_ask(struct follower *f)
{
	Donthu__V1__FetchRequest fr = DONTHU__V1__FETCH_REQUEST__INIT;
	cm_env e = DONTHU__V1__ENVELOPE__INIT;

	if (f->busy)
		return;
	fr.consumer = "pipeline_bench";
	fr.from_seq = f->next;
	fr.max_events = 10000;
	fr.wait_ms = FETCH_WAIT_MS;
	e.schema_version = CM_ENV_SCHEMA_VERSION;
	e.body_case = BODY(FETCH);
	e.fetch = &fr;
	f->busy = send_env(f->sock, &e) == 0;
}

/* Read one FetchReply; calls fn for every event. Errors: as recv_env,
 * -EPROTO for a refusal. */
static int follow_read(struct follower *f, void (*fn)(const struct evinfo *, void *), void *arg)
{
	cm_env *r;
	int rc = recv_env(f->sock, ZMQ_DONTWAIT, &r);

	if (rc)
		return rc;
	f->busy = false;
	if (!IS(r, FETCH_REPLY)) {
		cm_env_free(&r);
		return -EPROTO;
	}
	f->head = r->fetch_reply->head_seq;
	for (size_t i = 0; i < r->fetch_reply->n_events; i++) {
		struct evinfo ev;
		if (scan_env(r->fetch_reply->events[i].data, r->fetch_reply->events[i].len, &ev))
			fn(&ev, arg);
		f->next++;
	}
	cm_env_free(&r);
	return 0;
}

/* --------------------------------------------- publishing loop --- */

struct submitter {
	void *sock;
	uint64_t sent, answered, accepted;
	/* Send time by request id, for the sampled cases' replies. */
	uint64_t ring_id[65536], ring_t[65536];
};

/* Drain the replies that are ready; returns how many. With sample > 0 the
 * send time of each answered case whose serial is a multiple of sample goes
 * into t. */
static unsigned drain_replies(struct submitter *s, struct table *t, unsigned sample)
{
	unsigned n = 0;
	cm_env *r;

	while (recv_env(s->sock, ZMQ_DONTWAIT, &r) == 0) {
		Donthu__V1__SubmitReply *sr = IS(r, SUBMIT_REPLY) ? r->submit_reply : NULL;
		if (sr) {
			s->answered++;
			n++;
			if (sr->status == DONTHU__V1__SUBMIT_STATUS__SUBMIT_STATUS_ACCEPTED) {
				s->accepted++;
			} else if (s->answered - s->accepted <= 5) {
				fprintf(stderr, "pipeline_bench: request %" PRIu64 " answered %d %s\n",
					sr->request_id, sr->status,
					sr->error ? sr->error->message : "");
			}
			if (sample && sr->case_number &&
			    serial_of(sr->case_number, strlen(sr->case_number)) % sample == 0) {
				uint64_t slot = sr->request_id & 65535;
				struct sample *x = lookup(t, sr->case_number, strlen(sr->case_number));
				if (x && s->ring_id[slot] == sr->request_id)
					x->sent = s->ring_t[slot];
			}
		}
		cm_env_free(&r);
	}
	return n;
}

static void publish(struct submitter *s, uint64_t id, uint64_t person, int64_t received)
{
	s->ring_id[id & 65535] = id;
	s->ring_t[id & 65535] = cm_clock_mono_ns();
	send_petition(s->sock, id, person, received);
	s->sent++;
}

/* Publish count petitions (request ids from first, petitioners from person,
 * all received at received) and wait for every answer. Errors: -ETIMEDOUT
 * when answers stop. */
static int publish_all(struct submitter *s, uint64_t first, uint64_t person, uint64_t count,
		       unsigned inflight, int64_t received)
{
	uint64_t start = s->answered, last = cm_clock_mono_ns();

	for (uint64_t i = 0; s->answered - start < count;) {
		zmq_pollitem_t it = {.socket = s->sock, .events = ZMQ_POLLIN};
		while (i < count && s->sent - s->answered < inflight) {
			publish(s, first + i, person + i, received);
			i++;
		}
		zmq_poll(&it, 1, 100);
		if (drain_replies(s, NULL, 0))
			last = cm_clock_mono_ns();
		else if (cm_clock_mono_ns() - last > STALL_NS)
			return -ETIMEDOUT;
	}
	return 0;
}

/* ------------------------------------------------------- ingest --- */

struct ingest_ctx {
	struct table *t;
	unsigned sample;
	uint64_t now, seen;
};

static void on_ingest_event(const struct evinfo *ev, void *arg)
{
	struct ingest_ctx *c = arg;
	struct sample *x;

	if (ev->body != F_DEADLINE_SET || !ev->cn || serial_of(ev->cn, ev->cn_len) % c->sample)
		return;
	x = lookup(c->t, ev->cn, ev->cn_len);
	if (x && x->set == 0) {
		x->set = c->now;
		c->seen++;
	}
}

static int ingest(void *ctx, uint64_t count, unsigned inflight, unsigned sample, unsigned rate,
		  int counter)
{
	struct submitter *s = cm_xcalloc(1, sizeof(*s));
	struct table t = {0};
	struct follower f = {0};
	struct ingest_ctx ic = {.t = &t, .sample = sample};
	cm_env sreq;
	Donthu__V1__StatusRequest sbody;
	void *rep;
	uint64_t base0 = 0, base, counted = 0, t0, t_acked = 0, t_counted = 0, last, next_status = 0;
	uint64_t dl_head = 0, *lat, person;
	int64_t now_ms;
	bool status_busy = false;
	size_t nlat = 0;
	int rc;

	/* Persons numbered from intake's head: every run on the same stack has
	 * petitioners of its own, never repeats of an earlier run's. */
	if ((rc = status_field(ctx, ep("intake-feed.sock"), &now_ms, &person, NULL)) ||
	    (rc = status_field(ctx, ep(svc_sock[counter]), NULL, NULL, &base0)) ||
	    (sample && (rc = status_field(ctx, ep("deadline-feed.sock"), NULL, &dl_head, NULL)))) {
		fprintf(stderr, "pipeline_bench: a service does not answer: %s\n", cm_strerror(rc));
		return 1;
	}
	s->sock = dealer(ctx, ep("submit.sock"));
	/* Warm up: connections, first commits and every consumer's first
	 * long-poll are not what is measured. */
	if (publish_all(s, 1, person + 1, WARMUP, 64, now_ms - 60000)) {
		fprintf(stderr, "pipeline_bench: intake stopped answering during the warm-up\n");
		return 1;
	}
	for (last = cm_clock_mono_ns();; usleep(20000)) {
		if ((rc = status_field(ctx, ep(svc_sock[counter]), NULL, NULL, &base)) == 0 &&
		    base >= base0 + s->accepted)
			break;
		if (cm_clock_mono_ns() - last > STALL_NS) {
			fprintf(stderr, "pipeline_bench: %s never counted the warm-up\n",
				svc_name[counter]);
			return 1;
		}
	}
	if (sample) {
		t.cap = 64;
		while (t.cap < 4 * (count / sample) + 64)
			t.cap *= 2;
		t.s = cm_xcalloc(t.cap, sizeof(*t.s));
		f.sock = dealer(ctx, ep("deadline-feed.sock"));
		f.next = dl_head + 1;
	}
	rep = dealer(ctx, ep(svc_sock[counter]));
	status_req(&sreq, &sbody);
	s->sent = s->answered = s->accepted = 0;

	t0 = last = cm_clock_mono_ns();
	for (uint64_t i = 0;;) {
		zmq_pollitem_t it[3] = {{.socket = s->sock, .events = ZMQ_POLLIN},
					{.socket = rep, .events = ZMQ_POLLIN},
					{.socket = f.sock, .events = ZMQ_POLLIN}};
		uint64_t now = cm_clock_mono_ns();
		while (i < count && s->sent - s->answered < inflight &&
		       (rate == 0 || now >= t0 + i * 1000000000u / rate)) {
			publish(s, WARMUP + 1 + i, person + WARMUP + 1 + i, now_ms - 60000);
			i++;
		}
		if (!status_busy && !t_counted && now >= next_status)
			status_busy = send_env(rep, &sreq) == 0;
		if (sample)
			follow_ask(&f);
		zmq_poll(it, sample ? 3 : 2, rate ? 1 : 2);
		now = ic.now = cm_clock_mono_ns();
		if (drain_replies(s, &t, sample))
			last = now;
		if (s->answered == count && !t_acked)
			t_acked = now;
		if (it[1].revents & ZMQ_POLLIN) {
			cm_env *r;
			if (recv_env(rep, ZMQ_DONTWAIT, &r) == 0 && IS(r, STATUS_REPLY)) {
				uint64_t c = r->status_reply->cases - base;
				if (c > counted)
					last = now;
				counted = c;
				if (counted >= s->accepted && s->answered == count && !t_counted)
					t_counted = now;
			}
			cm_env_free(&r);
			status_busy = false;
			next_status = now + 5000000;
		}
		if (sample && (it[2].revents & ZMQ_POLLIN)) {
			uint64_t seen = ic.seen;
			if (follow_read(&f, on_ingest_event, &ic) == 0 && ic.seen > seen)
				last = now;
		}
		if (t_counted && (!sample || now - t_counted > 30000000000ull))
			break;
		if (t_counted && sample) {
			/* Done when every sampled case that was answered has its clock. */
			size_t want = 0, got = 0;
			for (size_t k = 0; k < t.cap; k++) {
				want += t.s[k].sent != 0;
				got += t.s[k].sent != 0 && t.s[k].set != 0;
			}
			if (got == want)
				break;
			usleep(1000);
		}
		if (now - last > STALL_NS) {
			fprintf(stderr,
				"pipeline_bench: stalled: %" PRIu64 " answered, %" PRIu64
				" counted of %" PRIu64 "\n",
				s->answered, counted, count);
			return 1;
		}
	}
	lat = cm_xcalloc(t.cap + 1, sizeof(*lat));
	for (size_t k = 0; k < t.cap; k++)
		if (t.s[k].sent && t.s[k].set)
			lat[nlat++] = t.s[k].set > t.s[k].sent ? t.s[k].set - t.s[k].sent : 0;
	printf("ingest count=%" PRIu64 " inflight=%u rate=%u counter=%s accepted=%" PRIu64
	       " counted=%" PRIu64 " acked_s=%.3f acked_rate=%.0f counted_s=%.3f counted_rate=%.0f",
	       count, inflight, rate, svc_name[counter], s->accepted, counted, (double)(t_acked - t0) / 1e9,
	       (double)s->accepted * 1e9 / (double)(t_acked - t0), (double)(t_counted - t0) / 1e9,
	       (double)counted * 1e9 / (double)(t_counted - t0));
	if (sample)
		print_pct("clocks", lat, nlat);
	printf("\n");
	zmq_close(s->sock);
	zmq_close(rep);
	if (f.sock)
		zmq_close(f.sock);
	free(lat);
	free(t.s);
	rc = s->accepted == count ? 0 : 1;
	free(s);
	return rc;
}

/* --------------------------------------------------------- wait --- */

static uint64_t applied_of(const Donthu__V1__StatusReply *r, const char *producer)
{
	for (size_t i = 0; i < r->n_consumers; i++)
		if (strcmp(r->consumers[i]->producer, producer) == 0)
			return r->consumers[i]->applied_seq;
	return 0;
}

/* 1 when every consumer in mask has applied the head of each of its
 * producers in mask, 0 when not yet. Errors: as status(). */
static int caught_up(void *ctx, int mask)
{
	cm_env *st[SVC_N] = {NULL};
	int rc = 0;

	for (int i = 0; i < SVC_N && rc == 0; i++)
		if (mask & (1 << i))
			rc = status(ctx, ep(svc_sock[i]), &st[i]);
	if (rc == 0) {
		rc = 1;
		for (int c = 1; c < SVC_N; c++) {
			if (!st[c])
				continue;
			for (int p = 0; p < c; p++)
				if (st[p] && applied_of(st[c]->status_reply, svc_name[p]) !=
						     st[p]->status_reply->feed_head)
					rc = 0;
		}
	}
	for (int i = 0; i < SVC_N; i++)
		cm_env_free(&st[i]);
	return rc;
}

static int wait_caught_up(void *ctx, int mask, unsigned timeout_s)
{
	uint64_t t0 = cm_clock_mono_ns();

	for (;;) {
		int rc = caught_up(ctx, mask);
		if (rc == 1)
			return 0;
		if (cm_clock_mono_ns() - t0 > (uint64_t)timeout_s * 1000000000u)
			return rc ? rc : -ETIMEDOUT;
		usleep(100000);
	}
}

/* ---------------------------------------------------- escalate --- */

struct esc_ctx {
	uint64_t now, t0, n, step;
	uint64_t *lat;
	size_t cap;
};

static void on_esc_event(const struct evinfo *ev, void *arg)
{
	struct esc_ctx *c = arg;

	if (ev->body != F_ESCALATION)
		return;
	if (c->n < c->cap)
		c->lat[c->n++] = c->now - c->t0;
	c->step++;
}

static int clock_advance(void *sock, int64_t ms)
{
	Donthu__V1__ClockControl cc = DONTHU__V1__CLOCK_CONTROL__INIT;
	cm_env e = DONTHU__V1__ENVELOPE__INIT;

	cc.op_case = DONTHU__V1__CLOCK_CONTROL__OP_ADVANCE_MS;
	cc.advance_ms = ms;
	e.schema_version = CM_ENV_SCHEMA_VERSION;
	e.body_case = BODY(CLOCK);
	e.clock = &cc;
	return send_env(sock, &e);
}

/* Move the clock of svc one day on and wait for its answer. */
static int advance_sync(void *ctx, const char *svc)
{
	char adm[64];
	void *s;
	cm_env *r = NULL;
	zmq_pollitem_t it;
	int rc;

	snprintf(adm, sizeof(adm), "%s/admin.sock", svc);
	s = dealer(ctx, ep(adm));
	it = (zmq_pollitem_t){.socket = s, .events = ZMQ_POLLIN};
	rc = clock_advance(s, CM_DAY_MS);
	if (rc == 0)
		rc = zmq_poll(&it, 1, 30000) > 0 ? recv_env(s, 0, &r) : -ETIMEDOUT;
	if (rc == 0 && !(IS(r, CONTROL_REPLY) && r->control_reply->ok))
		rc = -EPROTO;
	cm_env_free(&r);
	zmq_close(s);
	return rc;
}

static int escalate(void *ctx, unsigned per_day, unsigned days, unsigned steps)
{
	struct submitter *s = cm_xcalloc(1, sizeof(*s));
	struct follower f = {0};
	struct esc_ctx fc = {0}, sc = {0};
	void *sub, *adm;
	int64_t now_ms;
	uint64_t dl_head, person, id = 1, total = 0, step_min = UINT64_MAX, step_max = 0;
	unsigned lost = 0;
	int rc;

	if ((rc = status_field(ctx, ep("intake-feed.sock"), &now_ms, &person, NULL))) {
		fprintf(stderr, "pipeline_bench: intake does not answer: %s\n", cm_strerror(rc));
		return 1;
	}
	s->sock = dealer(ctx, ep("submit.sock"));
	/* Cohorts received on the working days before today: their clocks
	 * fall due on the coming days, a known number per day. */
	for (unsigned d = days; d > 0; d--) {
		int64_t at = now_ms - (int64_t)d * CM_DAY_MS;
		int64_t local_day = (at + 7 * 3600000LL) / CM_DAY_MS;
		int dow = (int)((local_day + 4) % 7); /* 0 = Sunday */
		if (dow == 0 || dow == 6)
			continue;
		if (publish_all(s, id, person + id, per_day, 256, at)) {
			fprintf(stderr, "pipeline_bench: intake stopped answering\n");
			return 1;
		}
		id += per_day;
	}
	if (s->accepted != s->answered) {
		fprintf(stderr, "pipeline_bench: %" PRIu64 " of %" PRIu64 " cohort petitions refused\n",
			s->answered - s->accepted, s->answered);
		return 1;
	}
	sub = zmq_socket(ctx, ZMQ_SUB);
	{
		int zero = 0;
		zmq_setsockopt(sub, ZMQ_LINGER, &zero, sizeof(zero));
		zmq_setsockopt(sub, ZMQ_RCVHWM, &zero, sizeof(zero));
		zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "esc.", 4);
		zmq_connect(sub, ep("deadline-pub.sock"));
	}
	if ((rc = wait_caught_up(ctx, (1 << SVC_N) - 1, 600))) {
		fprintf(stderr, "pipeline_bench: the services did not catch up: %s\n", cm_strerror(rc));
		return 1;
	}
	/* Whatever was due at once (past warnings) is raised by now; let the
	 * subscription settle and drop what came before the first step. */
	zmq_sleep(1);
	while (1) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sub, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			break;
		}
		zmq_msg_close(&m);
	}
	if ((rc = status_field(ctx, ep("deadline-feed.sock"), NULL, &dl_head, NULL))) {
		fprintf(stderr, "pipeline_bench: deadline does not answer: %s\n", cm_strerror(rc));
		return 1;
	}
	f.sock = dealer(ctx, ep("deadline-feed.sock"));
	f.next = dl_head + 1;
	fc.cap = sc.cap = 1000000;
	fc.lat = cm_xcalloc(fc.cap, sizeof(uint64_t));
	sc.lat = cm_xcalloc(sc.cap, sizeof(uint64_t));
	adm = dealer(ctx, ep("deadline/admin.sock"));

	for (unsigned st = 0; st < steps; st++) {
		static const char *const others[] = {"intake", "routing", "report"};
		uint64_t target = 0, quiet = 0, t_start;
		bool replied = false, asked = false;
		cm_env sreq;
		Donthu__V1__StatusRequest sbody;

		for (size_t i = 0; i < CM_ARRAY_LEN(others); i++)
			if ((rc = advance_sync(ctx, others[i]))) {
				fprintf(stderr, "pipeline_bench: cannot move %s's clock: %s\n", others[i],
					cm_strerror(rc));
				return 1;
			}
		follow_ask(&f);
		fc.step = sc.step = 0;
		fc.t0 = sc.t0 = t_start = cm_clock_mono_ns();
		clock_advance(adm, CM_DAY_MS);
		for (;;) {
			zmq_pollitem_t it[3] = {{.socket = sub, .events = ZMQ_POLLIN},
						{.socket = f.sock, .events = ZMQ_POLLIN},
						{.socket = adm, .events = ZMQ_POLLIN}};
			uint64_t now;
			zmq_poll(it, 3, 5);
			now = fc.now = sc.now = cm_clock_mono_ns();
			if (it[0].revents & ZMQ_POLLIN) {
				zmq_msg_t a, b;
				struct evinfo ev;
				zmq_msg_init(&a);
				zmq_msg_init(&b);
				zmq_msg_recv(&a, sub, 0);
				zmq_msg_recv(&b, sub, 0);
				if (scan_env(zmq_msg_data(&b), zmq_msg_size(&b), &ev))
					on_esc_event(&ev, &sc);
				zmq_msg_close(&a);
				zmq_msg_close(&b);
				quiet = now;
			}
			if (it[1].revents & ZMQ_POLLIN) {
				if (follow_read(&f, on_esc_event, &fc) == 0)
					quiet = now;
				follow_ask(&f);
			}
			if (it[2].revents & ZMQ_POLLIN) {
				cm_env *r = NULL;
				if (recv_env(adm, ZMQ_DONTWAIT, &r) == 0) {
					if (IS(r, STATUS_REPLY))
						target = r->status_reply->feed_head;
					else if (IS(r, CONTROL_REPLY) && r->control_reply->ok)
						replied = true;
					else
						fprintf(stderr, "pipeline_bench: deadline refused the clock\n");
				}
				cm_env_free(&r);
			}
			/* The clock request is answered after what became due was
			 * raised; the feed head then says how far to read. */
			if (replied && !asked) {
				status_req(&sreq, &sbody);
				asked = send_env(adm, &sreq) == 0;
			}
			if (target && f.next > target && sc.step >= fc.step && now - quiet > 20000000)
				break;
			if (now - t_start > 20000000000ull) {
				lost += (unsigned)(fc.step - (sc.step < fc.step ? sc.step : fc.step));
				fprintf(stderr, "pipeline_bench: step %u: %" PRIu64 " on the feed, %" PRIu64
						" on SUB after 20 s (clock answered %d, feed head %" PRIu64
						", read to %" PRIu64 ")\n",
					st + 1, fc.step, sc.step, replied, target, f.next - 1);
				break;
			}
		}
		total += fc.step;
		if (fc.step < step_min)
			step_min = fc.step;
		if (fc.step > step_max)
			step_max = fc.step;
	}
	printf("escalate steps=%u per_day=%u escalations=%" PRIu64 " per_step_min=%" PRIu64
	       " per_step_max=%" PRIu64 " lost_on_sub=%u",
	       steps, per_day, total, step_min, step_max, lost);
	print_pct("sub", sc.lat, sc.n);
	print_pct("feed", fc.lat, fc.n);
	printf("\n");
	zmq_close(sub);
	zmq_close(adm);
	zmq_close(f.sock);
	zmq_close(s->sock);
	free(fc.lat);
	free(sc.lat);
	free(s);
	return lost || total == 0 ? 1 : 0;
}

/* ------------------------------------------------------ report --- */

static int report(void *ctx, unsigned queries)
{
	Donthu__V1__ReportQuery q = DONTHU__V1__REPORT_QUERY__INIT;
	cm_env e = DONTHU__V1__ENVELOPE__INIT;
	uint64_t *lat = cm_xcalloc(queries + 1, sizeof(*lat));
	size_t rows = 0;
	int64_t cell = -1;

	q.form = "01/XLD";
	q.agency = "DN-UBND";
	q.period = "2026-Y";
	q.include_subunits = true;
	e.schema_version = CM_ENV_SCHEMA_VERSION;
	e.body_case = BODY(REPORT_QUERY);
	e.report_query = &q;
	for (unsigned i = 0; i <= queries; i++) {
		cm_env *r = NULL;
		uint64_t t0 = cm_clock_mono_ns();
		int rc = call(ctx, ep("report.sock"), &e, 120000, &r);
		if (rc || !IS(r, REPORT_REPLY) || r->report_reply->error) {
			fprintf(stderr, "pipeline_bench: report query failed: %s\n",
				rc ? cm_strerror(rc)
				: IS(r, REPORT_REPLY) ? r->report_reply->error->message
				: IS(r, CONTROL_REPLY) && r->control_reply->error
					? r->control_reply->error->message
					: "another answer");
			cm_env_free(&r);
			free(lat);
			return 1;
		}
		if (i > 0)
			lat[i - 1] = cm_clock_mono_ns() - t0;
		rows = r->report_reply->n_rows;
		/* The total row's first cell: petitions to handle. */
		for (size_t k = 0; k < rows; k++)
			if (r->report_reply->rows[k]->total && r->report_reply->rows[k]->n_cells &&
			    r->report_reply->rows[k]->cells[0]->v_case ==
				    DONTHU__V1__REPORT_CELL__V_I)
				cell = r->report_reply->rows[k]->cells[0]->i;
		cm_env_free(&r);
	}
	qsort(lat, queries, sizeof(*lat), cmp_u64);
	printf("report form=01/XLD agency=DN-UBND period=2026-Y subunits=1 rows=%zu total_col1=%" PRId64
	       " queries=%u p50_ms=%.3f min_ms=%.3f max_ms=%.3f\n",
	       rows, cell, queries, (double)lat[queries / 2] / 1e6, (double)lat[0] / 1e6,
	       (double)lat[queries - 1] / 1e6);
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	void *ctx;
	int rc = 2;

	if (argc < 3 || strlen(argv[2]) >= sizeof(dir) - 32)
		goto usage;
	snprintf(dir, sizeof(dir), "%s", argv[2]);
	salt = (unsigned)getpid() ^ (unsigned)cm_clock_mono_ns();
	ctx = zmq_ctx_new();
	if ((argc >= 6 && argc <= 8) && strcmp(argv[1], "ingest") == 0 &&
	    (argc < 8 || svc_parse(argv[7]) >= 0))
		rc = ingest(ctx, strtoull(argv[3], NULL, 10), (unsigned)atoi(argv[4]),
			    (unsigned)atoi(argv[5]), argc >= 7 ? (unsigned)atoi(argv[6]) : 0,
			    argc == 8 ? svc_parse(argv[7]) : SVC_REPORT);
	else if (argc == 6 && strcmp(argv[1], "escalate") == 0)
		rc = escalate(ctx, (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]),
			      (unsigned)atoi(argv[5]));
	else if (argc == 4 && strcmp(argv[1], "report") == 0 && atoi(argv[3]) > 0)
		rc = report(ctx, (unsigned)atoi(argv[3]));
	else if ((argc == 4 || (argc == 5 && svc_mask(argv[4]) > 0)) &&
		 strcmp(argv[1], "wait") == 0) {
		uint64_t t0 = cm_clock_mono_ns();
		rc = wait_caught_up(ctx, argc == 5 ? svc_mask(argv[4]) : (1 << SVC_N) - 1,
				    (unsigned)atoi(argv[3]));
		if (rc == 0)
			printf("caughtup seconds=%.3f\n", (double)(cm_clock_mono_ns() - t0) / 1e9);
		else
			fprintf(stderr, "pipeline_bench: not caught up: %s\n", cm_strerror(rc));
		rc = rc ? 1 : 0;
	} else {
		zmq_ctx_term(ctx);
		goto usage;
	}
	zmq_ctx_term(ctx);
	return rc;
usage:
	fprintf(stderr, "usage: pipeline_bench ingest DIR COUNT INFLIGHT SAMPLE [RATE [COUNTER]]\n"
			"       pipeline_bench escalate DIR PER_DAY DAYS STEPS\n"
			"       pipeline_bench report DIR QUERIES\n"
			"       pipeline_bench wait DIR TIMEOUT_S [SERVICES]\n"
			"  COUNTER: report (default), deadline, routing or intake;\n"
			"  SERVICES: the services started, comma-separated (default all four)\n");
	return 2;
}

/*
 * intake_bench - acknowledged durable submissions per second against a
 * running donthu-intake, and acknowledgement latency at a fixed rate.
 *
 *   intake_bench throughput ENDPOINT INFLIGHT COUNT
 *   intake_bench latency ENDPOINT RATE_PER_S COUNT
 *
 * Petitions are ~400 bytes packed, each with a fresh idempotency key, from
 * one DEALER. Prints one line of figures; never fails on slowness.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/mem.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned run_id;

static void send_one(void *sock, uint64_t id)
{
	Donthu__V1__SubmitRequest q = DONTHU__V1__SUBMIT_REQUEST__INIT;
	Donthu__V1__IdempotencyKey k = DONTHU__V1__IDEMPOTENCY_KEY__INIT;
	Donthu__V1__Petition p = DONTHU__V1__PETITION__INIT;
	Donthu__V1__Person person = DONTHU__V1__PERSON__INIT, *people[1] = {&person};
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	char sid[48];
	zmq_msg_t m;

	snprintf(sid, sizeof(sid), "bench-%u-%" PRIu64, run_id, id);
	k.source_system = "bench.portal";
	k.source_id = sid;
	person.full_name = "Trần Văn Bình";
	person.id_kind = DONTHU__V1__ID_KIND__ID_KIND_CCCD;
	person.id_number = "048095001234";
	person.address = "45 Nguyễn Văn Linh, Phường Hải Châu, Thành phố Đà Nẵng";
	person.phone = "0905123456";
	p.channel = DONTHU__V1__CHANNEL__CHANNEL_PORTAL;
	p.received_at_ms = cm_clock_now_ms() - 60000;
	p.receiving_agency = "DN-TTR";
	p.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK;
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
	env.schema_version = 1;
	env.body_case = DONTHU__V1__ENVELOPE__BODY_SUBMIT;
	env.submit = &q;
	cm_env_pack_msg(&env, &m);
	zmq_msg_send(&m, sock, 0);
}

/* Returns the request id answered, or 0 if none ready. */
static uint64_t recv_one(void *sock, int flags, int *accepted)
{
	zmq_msg_t m;
	cm_env *rep = NULL;
	uint64_t id = 0;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, sock, flags) < 0) {
		zmq_msg_close(&m);
		return 0;
	}
	if (cm_env_unpack(zmq_msg_data(&m), zmq_msg_size(&m), &rep) == 0 && rep->submit_reply) {
		id = rep->submit_reply->request_id;
		*accepted = rep->submit_reply->status ==
			    DONTHU__V1__SUBMIT_STATUS__SUBMIT_STATUS_ACCEPTED;
	}
	cm_env_free(&rep);
	zmq_msg_close(&m);
	return id;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	void *ctx, *sock;
	int hwm = 0;
	uint64_t count, param, acked = 0, rejected = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: intake_bench throughput|latency ENDPOINT N COUNT\n");
		return 2;
	}
	run_id = (unsigned)getpid() ^ (unsigned)now_ns();
	param = strtoull(argv[3], NULL, 10);
	count = strtoull(argv[4], NULL, 10);
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_connect(sock, argv[2]);

	/* Warm up: the connection handshake and the service's first commits are
	 * not what is being measured. */
	for (uint64_t i = 1; i <= 200; i++) {
		int ok;
		send_one(sock, i);
		while (recv_one(sock, 0, &ok) != i)
			;
	}
	run_id ^= 0x5a5a5a5au; /* fresh keys for the measured run */

	if (strcmp(argv[1], "throughput") == 0) {
		uint64_t sent = 0, t0 = now_ns();
		while (acked + rejected < count) {
			int ok = 0;
			while (sent < count && sent - acked - rejected < param)
				send_one(sock, ++sent);
			if (recv_one(sock, 0, &ok))
				ok ? acked++ : rejected++;
		}
		double s = (double)(now_ns() - t0) / 1e9;
		printf("inflight=%" PRIu64 " acked=%" PRIu64 " rejected=%" PRIu64
		       " seconds=%.3f rate=%.0f\n",
		       param, acked, rejected, s, (double)acked / s);
	} else {
		uint64_t *sent_at = cm_xcalloc(count + 1, sizeof(uint64_t));
		uint64_t *lat = cm_xcalloc(count, sizeof(uint64_t));
		uint64_t interval = 1000000000u / param, t0 = now_ns(), next = 0, n = 0;
		while (acked + rejected < count) {
			uint64_t now = now_ns(), id;
			int ok = 0;
			while (next < count && now >= t0 + next * interval) {
				next++;
				sent_at[next] = now_ns();
				send_one(sock, next);
			}
			zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
			zmq_poll(&it, 1, 1);
			while ((id = recv_one(sock, ZMQ_DONTWAIT, &ok)) != 0) {
				lat[n++] = now_ns() - sent_at[id];
				ok ? acked++ : rejected++;
			}
		}
		qsort(lat, n, sizeof(*lat), cmp_u64);
		printf("rate=%" PRIu64 "/s acked=%" PRIu64 " p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
		       param, acked, (double)lat[n / 2] / 1e6, (double)lat[n * 99 / 100] / 1e6,
		       (double)lat[n - 1] / 1e6);
		free(sent_at);
		free(lat);
	}
	zmq_close(sock);
	zmq_ctx_term(ctx);
	return 0;
}

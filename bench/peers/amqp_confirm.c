/*
 * amqp_confirm - persistent messages into a durable RabbitMQ queue with
 * publisher confirms, keeping up to INFLIGHT messages unconfirmed; a message
 * counts once the broker has confirmed it (for a durable queue and a
 * persistent message that is after it was written to disk).
 *
 *   amqp_confirm HOST PORT QUEUE classic|quorum INFLIGHT COUNT
 *
 * 400-byte bodies. Prints one line: ... rate=R. Built and run by
 * bench/peers/run only; never fails on slowness.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rpc_ok(amqp_connection_state_t c, const char *what)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(c);

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 1;
	fprintf(stderr, "amqp_confirm: %s failed (reply type %d)\n", what, (int)r.reply_type);
	return 0;
}

/* Waits for one frame and returns the highest delivery tag it confirms. */
static uint64_t wait_ack(amqp_connection_state_t c, uint64_t confirmed, int *err)
{
	amqp_frame_t f;

	if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK) {
		*err = 1;
		return confirmed;
	}
	if (f.frame_type != AMQP_FRAME_METHOD)
		return confirmed;
	if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
		amqp_basic_ack_t *a = f.payload.method.decoded;
		/* Acks arrive in order; a single ack past the highest also
		 * confirms the one it names (multiple=false). */
		if (a->delivery_tag > confirmed)
			return a->delivery_tag;
	} else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
		fprintf(stderr, "amqp_confirm: broker nacked a message\n");
		*err = 1;
	}
	return confirmed;
}

int main(int argc, char **argv)
{
	amqp_connection_state_t c;
	amqp_socket_t *sock;
	amqp_basic_properties_t props;
	amqp_table_entry_t qtype;
	amqp_table_t args = {0, NULL};
	char body[400];
	uint64_t inflight, count, sent = 0, confirmed = 0;
	int err = 0;
	double t0, s;

	if (argc != 7) {
		fprintf(stderr, "usage: amqp_confirm HOST PORT QUEUE classic|quorum INFLIGHT COUNT\n");
		return 2;
	}
	inflight = strtoull(argv[5], NULL, 10);
	count = strtoull(argv[6], NULL, 10);
	memset(body, 'x', sizeof(body));
	c = amqp_new_connection();
	sock = amqp_tcp_socket_new(c);
	if (!sock || amqp_socket_open(sock, argv[1], atoi(argv[2])) != AMQP_STATUS_OK) {
		fprintf(stderr, "amqp_confirm: cannot connect\n");
		return 1;
	}
	if (amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest").reply_type !=
	    AMQP_RESPONSE_NORMAL) {
		fprintf(stderr, "amqp_confirm: login failed\n");
		return 1;
	}
	amqp_channel_open(c, 1);
	if (!rpc_ok(c, "channel.open"))
		return 1;
	if (strcmp(argv[4], "quorum") == 0) {
		qtype.key = amqp_cstring_bytes("x-queue-type");
		qtype.value.kind = AMQP_FIELD_KIND_UTF8;
		qtype.value.value.bytes = amqp_cstring_bytes("quorum");
		args.num_entries = 1;
		args.entries = &qtype;
	}
	amqp_queue_declare(c, 1, amqp_cstring_bytes(argv[3]), 0, 1, 0, 0, args);
	if (!rpc_ok(c, "queue.declare"))
		return 1;
	amqp_confirm_select(c, 1);
	if (!rpc_ok(c, "confirm.select"))
		return 1;
	memset(&props, 0, sizeof(props));
	props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
	props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	t0 = now_s();
	while (confirmed < count && !err) {
		while (sent < count && sent - confirmed < inflight) {
			amqp_bytes_t b = {sizeof(body), body};
			if (amqp_basic_publish(c, 1, amqp_empty_bytes, amqp_cstring_bytes(argv[3]), 0, 0,
					       &props, b) != AMQP_STATUS_OK) {
				err = 1;
				break;
			}
			sent++;
		}
		confirmed = wait_ack(c, confirmed, &err);
	}
	s = now_s() - t0;
	printf("queue=%s inflight=%llu confirmed=%llu seconds=%.3f rate=%.0f%s\n", argv[4],
	       (unsigned long long)inflight, (unsigned long long)confirmed, s,
	       (double)confirmed / s, err ? " error=1" : "");
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
	return err;
}

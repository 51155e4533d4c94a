/*
 * backup_fake.c - a stand-in admin socket for backup_cli.sh: a copy that
 * takes exactly as long as the test wants, which no real store can promise.
 *
 *   backup_fake ENDPOINT MODE [RELEASE_FILE]
 *
 * MODE hold: answer status at once; answer a backup only once RELEASE_FILE
 * exists (a slow copy). never: answer status, never a backup (a copy that
 * outlives any wait). silent: answer nothing (a hung service). Runs until
 * SIGTERM; prints "ready" on stdout once bound.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "common/envelope.h"
#include "common/mem.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void reply(void *sock, zmq_msg_t *id, bool ok, const char *detail)
{
	cm_env env = DONTHU__V1__ENVELOPE__INIT;
	Donthu__V1__ControlReply cr = DONTHU__V1__CONTROL_REPLY__INIT;
	zmq_msg_t payload;

	cr.ok = ok;
	cr.detail = (char *)detail;
	env.schema_version = CM_ENV_SCHEMA_VERSION;
	env.producer = "report";
	env.body_case = BODY(CONTROL_REPLY);
	env.control_reply = &cr;
	if (cm_env_pack_msg(&env, &payload) != 0) {
		fprintf(stderr, "backup_fake: cannot pack a reply\n");
		exit(1);
	}
	zmq_msg_send(id, sock, ZMQ_SNDMORE);
	zmq_msg_send(&payload, sock, 0);
}

int main(int argc, char **argv)
{
	void *ctx, *sock;
	zmq_msg_t held;
	char *held_detail = NULL;
	bool holding = false;
	const char *mode;
	int linger = 0;

	if (argc < 3 || (strcmp(argv[2], "hold") == 0 && argc < 4)) {
		fprintf(stderr, "usage: backup_fake ENDPOINT hold|never|silent [RELEASE_FILE]\n");
		return 2;
	}
	mode = argv[2];
	signal(SIGTERM, on_term);
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_ROUTER);
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(sock, argv[1]) != 0) {
		fprintf(stderr, "backup_fake: bind %s: %s\n", argv[1], zmq_strerror(zmq_errno()));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
		zmq_msg_t id, payload;
		cm_env *req = NULL;

		if (holding && access(argv[3], F_OK) == 0) {
			reply(sock, &held, true, held_detail);
			zmq_msg_close(&held);
			free(held_detail);
			held_detail = NULL;
			holding = false;
		}
		if (zmq_poll(&it, 1, 50) <= 0)
			continue;
		zmq_msg_init(&id);
		zmq_msg_init(&payload);
		if (zmq_msg_recv(&id, sock, 0) < 0 || !zmq_msg_more(&id) ||
		    zmq_msg_recv(&payload, sock, 0) < 0 ||
		    cm_env_unpack(zmq_msg_data(&payload), zmq_msg_size(&payload), &req) != 0 ||
		    strcmp(mode, "silent") == 0) {
			zmq_msg_close(&id);
			zmq_msg_close(&payload);
			cm_env_free(&req);
			continue;
		}
		zmq_msg_close(&payload);
		if (req->body_case == BODY(BACKUP) && strcmp(mode, "hold") == 0 && !holding) {
			held_detail = cm_xasprintf("%s/report", req->backup->dir);
			zmq_msg_init(&held);
			zmq_msg_move(&held, &id);
			holding = true;
		} else if (req->body_case != BODY(BACKUP)) {
			reply(sock, &id, true, "");
		}
		zmq_msg_close(&id);
		cm_env_free(&req);
	}
	if (holding)
		zmq_msg_close(&held);
	free(held_detail);
	zmq_close(sock);
	zmq_ctx_term(ctx);
	return 0;
}

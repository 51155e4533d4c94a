#include "svc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "common/err.h"
#include "common/mem.h"

extern char **environ;

int svc_start(struct svc *s, const char *ready_ep)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		for (char **e = s->env; e && *e; e++)
			putenv(*e);
		execl(s->bin, s->bin, (char *)NULL);
		_exit(127);
	}
	s->pid = pid;
	for (int i = 0; i < 200; i++) {
		cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
		Donthu__V1__StatusRequest st = DONTHU__V1__STATUS_REQUEST__INIT;
		void *ctx;
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			s->pid = 0;
			return -ECHILD;
		}
		req.schema_version = 1;
		req.body_case = DONTHU__V1__ENVELOPE__BODY_STATUS;
		req.status = &st;
		ctx = zmq_ctx_new();
		if (svc_call(ctx, ready_ep, &req, 100, &rep) == 0) {
			cm_env_free(&rep);
			zmq_ctx_term(ctx);
			return 0;
		}
		zmq_ctx_term(ctx);
		usleep(50000);
	}
	return -ETIMEDOUT;
}

int svc_stop(struct svc *s)
{
	int status = 0;

	if (s->pid <= 0)
		return -ECHILD;
	kill(s->pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(50000);
	}
	svc_kill(s);
	return -ETIMEDOUT;
}

void svc_kill(struct svc *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

static int call_on(void *sock, const char *ep, const cm_env *req, int timeout_ms, cm_env **out);

int svc_call(void *zctx, const char *ep, const cm_env *req, int timeout_ms, cm_env **out)
{
	return call_on(zmq_socket(zctx, ZMQ_DEALER), ep, req, timeout_ms, out);
}

int svc_call_curve(void *zctx, const char *ep, const char *server_pub, const char *pub,
		   const char *sec, const cm_env *req, int timeout_ms, cm_env **out)
{
	void *sock = zmq_socket(zctx, ZMQ_DEALER);

	zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_pub, 40);
	zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, 40);
	zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, 40);
	return call_on(sock, ep, req, timeout_ms, out);
}

static int call_on(void *sock, const char *ep, const cm_env *req, int timeout_ms, cm_env **out)
{
	int linger = 0, rc;
	zmq_msg_t m;
	zmq_pollitem_t it;

	*out = NULL;
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(sock, ep) != 0) {
		zmq_close(sock);
		return -errno;
	}
	if ((rc = cm_env_pack_msg(req, &m)) != 0 || zmq_msg_send(&m, sock, 0) < 0) {
		zmq_close(sock);
		return rc ? rc : -EIO;
	}
	it.socket = sock;
	it.events = ZMQ_POLLIN;
	rc = zmq_poll(&it, 1, timeout_ms);
	if (rc <= 0) {
		zmq_close(sock);
		return -ETIMEDOUT;
	}
	zmq_msg_init(&m);
	zmq_msg_recv(&m, sock, 0);
	rc = cm_env_unpack_limit(zmq_msg_data(&m), zmq_msg_size(&m), CM_ENV_MAX_BATCH_BYTES, out);
	zmq_msg_close(&m);
	zmq_close(sock);
	return rc;
}

void svc_write_identity_key(const char *dir)
{
	unsigned char key[32];
	char hex[65], *path;
	FILE *f;

	mkdir(dir, 0700);
	randombytes_buf(key, sizeof(key));
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	path = cm_xasprintf("%s/1.key", dir);
	f = fopen(path, "w");
	cm_require(f != NULL);
	fprintf(f, "%s\n", hex);
	fclose(f);
	free(path);
}

int svc_fetch_all(void *zctx, const char *ep,
		  void (*cb)(const cm_env *ev, const void *raw, size_t len, void *arg), void *arg,
		  uint64_t *count)
{
	uint64_t from = 1;

	*count = 0;
	for (;;) {
		cm_env req = DONTHU__V1__ENVELOPE__INIT, *rep = NULL;
		Donthu__V1__FetchRequest f = DONTHU__V1__FETCH_REQUEST__INIT;
		Donthu__V1__FetchReply *fr;
		int rc;

		f.consumer = "test";
		f.from_seq = from;
		f.max_events = 5000;
		req.schema_version = 1;
		req.body_case = DONTHU__V1__ENVELOPE__BODY_FETCH;
		req.fetch = &f;
		rc = svc_call(zctx, ep, &req, 5000, &rep);
		if (rc)
			return rc;
		fr = rep->fetch_reply;
		if (!fr) {
			cm_env_free(&rep);
			return CM_EDECODE;
		}
		for (size_t i = 0; i < fr->n_events; i++) {
			cm_env *ev = NULL;
			if (cm_env_unpack(fr->events[i].data, fr->events[i].len, &ev) == 0) {
				cb(ev, fr->events[i].data, fr->events[i].len, arg);
				cm_env_free(&ev);
			}
			(*count)++;
		}
		from += fr->n_events;
		if (fr->n_events == 0 || from > fr->head_seq) {
			cm_env_free(&rep);
			return 0;
		}
		cm_env_free(&rep);
	}
}

int svc_spawn(struct svc *s)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		for (char **e = s->env; e && *e; e++)
			putenv(*e);
		execl(s->bin, s->bin, (char *)NULL);
		_exit(127);
	}
	s->pid = pid;
	return 0;
}

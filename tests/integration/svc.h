/*
 * svc.h - start real service binaries for integration tests, and talk to
 * them with blocking ZeroMQ clients (tests may block; services may not).
 */
#ifndef CM_TEST_SVC_H
#define CM_TEST_SVC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/envelope.h"

struct svc {
	pid_t pid;
	const char *bin;
	char **env;		/* NULL-terminated "KEY=VALUE" list (borrowed) */
	char log[512];		/* stderr goes here */
};

/** Start (fork+exec) with env added to the environment; waits until the
 * ipc endpoint ready_ep accepts a status request (or 10 s). Returns 0. */
int svc_start(struct svc *s, const char *ready_ep);
/** SIGTERM and wait; returns the exit status (0 on clean exit). */
int svc_stop(struct svc *s);
/** SIGKILL and reap. */
void svc_kill(struct svc *s);

/** Blocking request/reply over a fresh DEALER: send req, wait up to
 * timeout_ms. Caller frees *out. Returns 0 or -ETIMEDOUT / CM_EDECODE. */
int svc_call(void *zctx, const char *ep, const cm_env *req, int timeout_ms, cm_env **out);

/** Write a fresh random identity key as dir/1.key (dir is created). */
void svc_write_identity_key(const char *dir);

/** Fetch every event from a feed endpoint starting at 1; cb per event. */
int svc_fetch_all(void *zctx, const char *ep, void (*cb)(const cm_env *ev, const void *raw,
							 size_t len, void *arg),
		  void *arg, uint64_t *count);



/** As svc_call, over CURVE: server_pub is the server's public key and
 * pub/sec the client's key pair (Z85). */
int svc_call_curve(void *zctx, const char *ep, const char *server_pub, const char *pub,
		   const char *sec, const cm_env *req, int timeout_ms, cm_env **out);
/** Start (fork+exec) without waiting for readiness: for tests that kill a
 * service while it is still starting up or catching up. Returns 0. */
int svc_spawn(struct svc *s);

#endif

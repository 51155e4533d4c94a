/*
 * zsock.h - ZeroMQ sockets with the house defaults, and CURVE access control.
 *
 * Every socket gets a bounded ZMQ_LINGER (so zmq_ctx_term cannot hang), a
 * ZMQ_MAXMSGSIZE (so decoders never see unbounded input), explicit high-water
 * marks, and ROUTER_MANDATORY on ROUTER sockets (so an unroutable reply is an
 * error, not a silent drop).
 *
 * CURVE: a server socket given a secret key only accepts clients whose public
 * key is in the allowlist of the ZAP handler (cm_zap), which runs on the
 * service's loop. A client socket given the server's public key and its own
 * key pair encrypts and authenticates.
 *
 * Keys are Z85 text (40 characters), as zmq_curve_keypair() produces and
 * scripts/gen-keys writes.
 */
#ifndef CM_ZSOCK_H
#define CM_ZSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct cm_zsock_opts {
	int type;		/* ZMQ_ROUTER, ZMQ_DEALER, ZMQ_PUB, ZMQ_SUB, ... */
	const char *endpoint;	/* "tcp://127.0.0.1:7101", "ipc:///path" */
	bool bind;		/* bind (servers) or connect (clients) */
	int linger_ms;		/* 0: default 1000; < 0: drop unsent messages at close */
	int sndhwm, rcvhwm;	/* 0: default 10000 each */
	int64_t maxmsgsize;	/* 0: default 1 MiB; -1 for none */
	const char *identity;	/* ZMQ_ROUTING_ID for DEALER clients; may be NULL */
	/* CURVE server: our secret key (Z85). Clients are checked by cm_zap,
	 * which must already run on ctx. Server and client keys exclude each
	 * other. */
	const char *curve_server_secret;
	/* CURVE client: the server's public key and our own key pair (Z85). */
	const char *curve_server_public;
	const char *curve_public;
	const char *curve_secret;
};

/** Create, configure, bind or connect. *out is owned by the caller and closed
 * with cm_zsock_close() (after any cm_zwatch on it has been freed).
 * Errors: -EINVAL (bad options or endpoint, unknown transport, both server
 * and client keys), -EADDRINUSE, CM_EKEY (a key is not 40 characters of Z85,
 * or a client key is missing), CM_ESTATE (CURVE server on a context without
 * cm_zap: libzmq would admit every client), other negated libzmq errors. */
int cm_zsock_open(void *ctx, const struct cm_zsock_opts *o, void **out);

/** zmq_close, accepting a pointer to NULL; sets *sock to NULL. */
void cm_zsock_close(void **sock);

/** Derive the public key of a Z85 secret key into pub (41 bytes).
 * Errors: CM_EKEY, -ENOTSUP (libzmq built without CURVE). */
int cm_zsock_public_of(const char *secret_z85, char pub[41]);

/** Read a key file holding one Z85 key (40 characters, optional trailing
 * whitespace/newline). Errors: -ENOENT, -EACCES (and other open/read errno),
 * CM_EKEY. */
int cm_zsock_read_key(const char *path, char key[41]);

struct cm_zap;

/** Start the ZAP handler for ctx on loop (one per context, required before any
 * CURVE server socket is bound). Allowed client public keys are read from
 * allow_file: one Z85 key per line, optionally followed by a '#' comment;
 * lines that are not keys and start with '#' are comments. An empty list
 * denies all CURVE clients. NULL-mechanism (plain) peers are always allowed.
 * An allowed client's Z85 public key becomes the "User-Id" property of its
 * messages (zmq_msg_gets). cm_zap_free it before zmq_ctx_term.
 * Errors: -EINVAL, -ENOENT/-EACCES (file), CM_EKEY (a bad line; the log names
 * it), -EADDRINUSE (a handler already runs for this context), other negated
 * libzmq errors. */
int cm_zap_start(uv_loop_t *loop, void *ctx, const char *allow_file, struct cm_zap **out);

/** Replace the allowlist from the file; on error the old one is kept.
 * Errors: as cm_zap_start's file errors. */
int cm_zap_reload(struct cm_zap *z);

/** Counts of ZAP decisions (NULL-mechanism approvals count as allowed),
 * for /metrics. */
void cm_zap_counts(const struct cm_zap *z, unsigned long long *allowed,
		   unsigned long long *denied);

/** Stop and free (closes its socket); pointer to NULL is fine; sets *z NULL. */
void cm_zap_free(struct cm_zap **z);

#endif

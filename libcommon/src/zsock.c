#include "common/zsock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/zwatch.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define DEFAULT_LINGER_MS 1000
#define DEFAULT_HWM 10000
#define DEFAULT_MAXMSGSIZE (1024 * 1024)
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define KEY_LEN 40

struct cm_zap {
	struct cm_zap *next; /* registry of contexts that have a handler */
	void *ctx;
	void *sock;
	struct cm_zwatch *w;
	char *path;
	char (*keys)[KEY_LEN + 1]; /* sorted, for bsearch */
	size_t nkeys;
	unsigned long long allowed, denied;
};

/* Without a ZAP handler libzmq lets every CURVE client in, so opening a CURVE
 * server on a context without one must fail rather than silently open the
 * door. Contexts may live on several threads in tests, hence the lock. */
static pthread_mutex_t zap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cm_zap *zap_list;

static bool zap_registered(void *ctx)
{
	bool found = false;

	pthread_mutex_lock(&zap_lock);
	for (struct cm_zap *z = zap_list; z; z = z->next)
		if (z->ctx == ctx)
			found = true;
	pthread_mutex_unlock(&zap_lock);
	return found;
}

static bool key_ok(const char *k)
{
	uint8_t bin[32];

	/* zmq_z85_decode rejects characters outside the alphabet and values
	 * that overflow, so a successful decode of 40 characters is a key. */
	return k && strnlen(k, KEY_LEN + 1) == KEY_LEN && zmq_z85_decode(bin, k) != NULL;
}

static int zerr(void)
{
	int e = zmq_errno();

	/* An unknown or unusable transport is a bad endpoint to our callers. */
	if (e == EPROTONOSUPPORT || e == ENOCOMPATPROTO)
		return -EINVAL;
	return -e;
}

static int set_int(void *s, int opt, int v)
{
	return zmq_setsockopt(s, opt, &v, sizeof(v)) == 0 ? 0 : zerr();
}

static int set_curve(void *ctx, void *s, const struct cm_zsock_opts *o)
{
	bool client = o->curve_server_public || o->curve_public || o->curve_secret;
	int rc;

	if (o->curve_server_secret && client)
		return -EINVAL;
	if (o->curve_server_secret) {
		if (!key_ok(o->curve_server_secret))
			return CM_EKEY;
		if (!zap_registered(ctx))
			return CM_ESTATE;
		rc = set_int(s, ZMQ_CURVE_SERVER, 1);
		if (!rc && zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, o->curve_server_secret, KEY_LEN))
			rc = zerr();
		return rc;
	}
	if (!client)
		return 0;
	if (!key_ok(o->curve_server_public) || !key_ok(o->curve_public) ||
	    !key_ok(o->curve_secret))
		return CM_EKEY;
	if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, o->curve_server_public, KEY_LEN) ||
	    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, o->curve_public, KEY_LEN) ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, o->curve_secret, KEY_LEN))
		return zerr();
	return 0;
}

int cm_zsock_open(void *ctx, const struct cm_zsock_opts *o, void **out)
{
	void *s = NULL;
	int linger, sndhwm, rcvhwm, rc;
	int64_t maxmsg;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!ctx || !o || !o->endpoint)
		return -EINVAL;
	if (o->sndhwm < 0 || o->rcvhwm < 0 || o->maxmsgsize < -1)
		return -EINVAL;
	linger = o->linger_ms > 0 ? o->linger_ms : o->linger_ms < 0 ? 0 : DEFAULT_LINGER_MS;
	sndhwm = o->sndhwm ? o->sndhwm : DEFAULT_HWM;
	rcvhwm = o->rcvhwm ? o->rcvhwm : DEFAULT_HWM;
	maxmsg = o->maxmsgsize ? o->maxmsgsize : DEFAULT_MAXMSGSIZE;
	if (o->identity) {
		size_t n = strlen(o->identity);

		/* libzmq reserves ids starting with a zero byte; a non-empty C
		 * string cannot start with one, so the length is all to check. */
		if (n == 0 || n > 255)
			return -EINVAL;
	}

	s = zmq_socket(ctx, o->type);
	if (!s)
		return zerr();
	/* Linger first, so every failure path below closes without blocking. */
	rc = set_int(s, ZMQ_LINGER, linger);
	if (!rc)
		rc = set_int(s, ZMQ_SNDHWM, sndhwm);
	if (!rc)
		rc = set_int(s, ZMQ_RCVHWM, rcvhwm);
	if (!rc && zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)))
		rc = zerr();
	if (!rc && o->type == ZMQ_ROUTER)
		rc = set_int(s, ZMQ_ROUTER_MANDATORY, 1);
	if (!rc && o->identity &&
	    zmq_setsockopt(s, ZMQ_ROUTING_ID, o->identity, strlen(o->identity)))
		rc = zerr();
	if (!rc)
		rc = set_curve(ctx, s, o);
	if (rc)
		goto err_close;
	if ((o->bind ? zmq_bind(s, o->endpoint) : zmq_connect(s, o->endpoint)) != 0) {
		rc = zerr();
		cm_log_warn_err(ZMQ, rc, "zsock: cannot %s %s", o->bind ? "bind" : "connect",
				o->endpoint);
		goto err_close;
	}
	*out = s;
	return 0;
err_close:
	zmq_close(s);
	return rc;
}

void cm_zsock_close(void **sock)
{
	if (!sock || !*sock)
		return;
	zmq_close(*sock);
	*sock = NULL;
}

int cm_zsock_public_of(const char *secret_z85, char pub[41])
{
	if (!pub || !key_ok(secret_z85))
		return CM_EKEY;
	if (zmq_curve_public(pub, secret_z85) != 0)
		return -zmq_errno();
	return 0;
}

int cm_zsock_read_key(const char *path, char key[41])
{
	char buf[128];
	size_t len = 0;
	int fd, rc = 0;

	if (!path || !key)
		return -EINVAL;
	key[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* A key file is tiny; anything that does not fit is not a key. */
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	if (len != KEY_LEN || memchr(buf, '\0', len)) {
		rc = CM_EKEY;
		goto out;
	}
	memcpy(key, buf, KEY_LEN);
	key[KEY_LEN] = '\0';
	if (!key_ok(key)) {
		key[0] = '\0';
		rc = CM_EKEY;
	}
out:
	/* The file may hold a secret key; do not leave copies on the stack. */
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, KEY_LEN);
}

/* Parse an allowlist: per line, a Z85 key optionally followed by a '#'
 * comment, or a comment line, or blank. '#' is itself a Z85 character, so a
 * line is a comment only when it is not a key. */
static int load_allow(const char *path, char (**keysp)[KEY_LEN + 1], size_t *np)
{
	char (*keys)[KEY_LEN + 1] = NULL;
	size_t n = 0, cap = 0, linecap = 0;
	unsigned lineno = 0;
	char *line = NULL;
	FILE *f;
	int rc = 0;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &linecap, f) >= 0) {
		char *p = line, *tok, *rest;
		size_t toklen;

		lineno++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			continue;
		tok = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		toklen = (size_t)(p - tok);
		rest = p;
		while (isspace((unsigned char)*rest))
			rest++;
		if (toklen == KEY_LEN && (*rest == '\0' || *rest == '#')) {
			char k[KEY_LEN + 1];

			memcpy(k, tok, KEY_LEN);
			k[KEY_LEN] = '\0';
			if (key_ok(k)) {
				if (n == cap) {
					cap = cap ? 2 * cap : 16;
					keys = cm_xrealloc(keys, cap * sizeof(*keys));
				}
				memcpy(keys[n++], k, KEY_LEN + 1);
				continue;
			}
		}
		if (*tok == '#')
			continue;
		cm_log_error(CONFIG, "zap: %s line %u is not a 40-character Z85 key", path,
			     lineno);
		rc = CM_EKEY;
		goto out;
	}
	if (ferror(f)) {
		rc = -EIO;
		goto out;
	}
	if (n)
		qsort(keys, n, sizeof(*keys), cmp_key);
out:
	free(line);
	fclose(f);
	if (rc) {
		free(keys);
		return rc;
	}
	*keysp = keys;
	*np = n;
	return 0;
}

static bool frame_is(zmq_msg_t *m, const char *s)
{
	size_t n = strlen(s);

	return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

static void str_frame(zmq_msg_t *m, const char *s)
{
	size_t n = strlen(s);

	zmq_msg_init_size(m, n);
	if (n)
		memcpy(zmq_msg_data(m), s, n);
}

/* ZAP 1.0 (RFC 27): request = version, request id, domain, address, routing
 * id, mechanism, credentials...; reply = version, request id, status code,
 * status text, user id, metadata. A REP socket must answer every request or
 * it stops reading, so even garbage gets a reply. */
static void zap_recv(struct cm_zwatch *w, zmq_msg_t *f, size_t n, void *arg)
{
	struct cm_zap *z = arg;
	const char *code = "400", *text = "denied";
	char user[KEY_LEN + 1] = "";
	zmq_msg_t r[6];
	int rc;

	if (n < 6 || !frame_is(&f[0], "1.0")) {
		code = "500";
		text = "malformed ZAP request";
	} else if (frame_is(&f[5], "NULL")) {
		/* Plain sockets on this context must keep working. */
		code = "200";
		text = "OK";
	} else if (frame_is(&f[5], "CURVE") && n == 7 && zmq_msg_size(&f[6]) == 32) {
		zmq_z85_encode(user, zmq_msg_data(&f[6]), 32);
		if (z->nkeys && bsearch(user, z->keys, z->nkeys, sizeof(*z->keys), cmp_key)) {
			code = "200";
			text = "OK";
		} else {
			cm_log_notice(ZMQ, "zap: CURVE client %s refused: key not in allowlist",
				      user);
			user[0] = '\0';
		}
	}
	if (code[0] == '2')
		z->allowed++;
	else
		z->denied++;

	str_frame(&r[0], "1.0");
	zmq_msg_init(&r[1]);
	if (n >= 2)
		zmq_msg_copy(&r[1], &f[1]);
	str_frame(&r[2], code);
	str_frame(&r[3], text);
	/* The user id becomes the "User-Id" property of every message from
	 * this peer, so handlers can tell clients apart by key. */
	str_frame(&r[4], user);
	zmq_msg_init(&r[5]);
	rc = cm_zwatch_send(w, r, 6);
	if (rc)
		cm_log_warn_err(ZMQ, rc, "zap: cannot send reply");
}

static void zap_error(struct cm_zwatch *w, int err, void *arg)
{
	(void)w;
	(void)arg;
	/* CURVE handshakes now stall (fail closed) until the service restarts. */
	cm_log_error_err(ZMQ, err, "zap: handler socket failed; CURVE clients will be refused");
}

static const struct cm_zwatch_ops zap_ops = {
	.recv = zap_recv,
	.error = zap_error,
};

int cm_zap_start(uv_loop_t *loop, void *ctx, const char *allow_file, struct cm_zap **out)
{
	struct cm_zap *z;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!loop || !ctx || !allow_file)
		return -EINVAL;
	if (zap_registered(ctx))
		return -EADDRINUSE;
	z = cm_xcalloc(1, sizeof(*z));
	z->ctx = ctx;
	z->path = cm_xstrdup(allow_file);
	rc = load_allow(z->path, &z->keys, &z->nkeys);
	if (rc)
		goto err_free;
	z->sock = zmq_socket(ctx, ZMQ_REP);
	if (!z->sock) {
		rc = -zmq_errno();
		goto err_free;
	}
	rc = set_int(z->sock, ZMQ_LINGER, 0);
	if (!rc && zmq_bind(z->sock, ZAP_ENDPOINT) != 0)
		rc = -zmq_errno();
	if (rc)
		goto err_close;
	rc = cm_zwatch_new(loop, z->sock, &zap_ops, z, &z->w);
	if (rc)
		goto err_close;
	pthread_mutex_lock(&zap_lock);
	z->next = zap_list;
	zap_list = z;
	pthread_mutex_unlock(&zap_lock);
	cm_log_info(ZMQ, "zap: handler started with %zu allowed keys", z->nkeys);
	*out = z;
	return 0;
err_close:
	zmq_close(z->sock);
err_free:
	free(z->keys);
	free(z->path);
	free(z);
	return rc;
}

int cm_zap_reload(struct cm_zap *z)
{
	char (*keys)[KEY_LEN + 1] = NULL;
	size_t n = 0;
	int rc;

	if (!z)
		return -EINVAL;
	rc = load_allow(z->path, &keys, &n);
	if (rc) {
		cm_log_warn_err(ZMQ, rc, "zap: reload failed, keeping %zu keys", z->nkeys);
		return rc;
	}
	free(z->keys);
	z->keys = keys;
	z->nkeys = n;
	cm_log_info(ZMQ, "zap: allowlist reloaded, %zu keys", n);
	return 0;
}

void cm_zap_counts(const struct cm_zap *z, unsigned long long *allowed,
		   unsigned long long *denied)
{
	if (allowed)
		*allowed = z ? z->allowed : 0;
	if (denied)
		*denied = z ? z->denied : 0;
}

void cm_zap_free(struct cm_zap **zp)
{
	struct cm_zap *z;

	if (!zp || !*zp)
		return;
	z = *zp;
	*zp = NULL;
	pthread_mutex_lock(&zap_lock);
	for (struct cm_zap **pp = &zap_list; *pp; pp = &(*pp)->next) {
		if (*pp == z) {
			*pp = z->next;
			break;
		}
	}
	pthread_mutex_unlock(&zap_lock);
	cm_zwatch_free(&z->w);
	zmq_close(z->sock);
	free(z->keys);
	free(z->path);
	free(z);
}

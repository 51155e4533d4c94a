/*
 * err.h - one error space for the whole project.
 *
 * Every function returns 0 (or a documented non-negative count) on success
 * and a negative number on failure: either a negated errno value (-ENOENT,
 * -ENOSPC, ...) or a member of the project band below. Foreign codes (LMDB's
 * MDB_*, libzmq's errno extensions, protobuf-c's NULL) are translated at the
 * module that calls the foreign library and never leak further.
 */
#ifndef CM_ERR_H
#define CM_ERR_H

/* The project band lives at -1000..-1099, far from errno values and from
 * LMDB's -30600..-30800 band. */
enum cm_errcode {
	CM_EDECODE = -1001,	   /* bytes are not a valid message */
	CM_EPROTO_VERSION = -1002, /* schema version we do not speak */
	CM_ETOOBIG = -1003,	   /* input over a documented size cap */
	CM_ECORRUPT = -1004,	   /* stored data fails its own checks */
	CM_EPANIC = -1005,	   /* the store is unusable (MDB_PANIC, ...) */
	CM_ECONFIG = -1006,	   /* configuration or data file invalid */
	CM_EINVALID = -1007,	   /* input fails validation (see its detail) */
	CM_ESTATE = -1008,	   /* action not allowed in the current state */
	CM_EGAP = -1009,	   /* a feed sequence number was skipped */
	CM_EVERSION = -1010,	   /* store layout version mismatch */
	CM_EKEY = -1011,	   /* missing or malformed key material */
	CM_EFIRST = -1001,
	CM_ELAST = -1011,
};

/** Describe any code this project returns (errno, libzmq or project band).
 * Never returns NULL; the string is static. */
const char *cm_strerror(int err);

/** Short symbolic name ("ENOSPC", "CM_EDECODE"); static, never NULL. */
const char *cm_errname(int err);

#endif

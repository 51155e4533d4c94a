#include "common/err.h"

#include <errno.h>
#include <string.h>
#include <zmq.h>

static const char *const band_text[] = {
	[-CM_EDECODE - 1001] = "malformed message",
	[-CM_EPROTO_VERSION - 1001] = "unsupported schema version",
	[-CM_ETOOBIG - 1001] = "input exceeds size limit",
	[-CM_ECORRUPT - 1001] = "stored data is corrupt",
	[-CM_EPANIC - 1001] = "store is unusable",
	[-CM_ECONFIG - 1001] = "invalid configuration or data file",
	[-CM_EINVALID - 1001] = "invalid input",
	[-CM_ESTATE - 1001] = "action not allowed in current state",
	[-CM_EGAP - 1001] = "feed sequence gap",
	[-CM_EVERSION - 1001] = "store layout version mismatch",
	[-CM_EKEY - 1001] = "missing or malformed key material",
};

static const char *const band_name[] = {
	[-CM_EDECODE - 1001] = "CM_EDECODE",
	[-CM_EPROTO_VERSION - 1001] = "CM_EPROTO_VERSION",
	[-CM_ETOOBIG - 1001] = "CM_ETOOBIG",
	[-CM_ECORRUPT - 1001] = "CM_ECORRUPT",
	[-CM_EPANIC - 1001] = "CM_EPANIC",
	[-CM_ECONFIG - 1001] = "CM_ECONFIG",
	[-CM_EINVALID - 1001] = "CM_EINVALID",
	[-CM_ESTATE - 1001] = "CM_ESTATE",
	[-CM_EGAP - 1001] = "CM_EGAP",
	[-CM_EVERSION - 1001] = "CM_EVERSION",
	[-CM_EKEY - 1001] = "CM_EKEY",
};

const char *cm_strerror(int err)
{
	if (err == 0)
		return "success";
	if (err <= CM_EFIRST && err >= CM_ELAST)
		return band_text[-err - 1001];
	if (err < 0)
		err = -err;
	/* zmq_strerror covers plain errno and libzmq's own (ETERM, EFSM, ...). */
	return zmq_strerror(err);
}

const char *cm_errname(int err)
{
	if (err <= CM_EFIRST && err >= CM_ELAST)
		return band_name[-err - 1001];
	switch (-err) {
	case 0: return "OK";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case EDQUOT: return "EDQUOT";
	case EROFS: return "EROFS";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case ENOMEM: return "ENOMEM";
	case EIO: return "EIO";
	case EAGAIN: return "EAGAIN";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EBUSY: return "EBUSY";
	case ERANGE: return "ERANGE";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EADDRINUSE: return "EADDRINUSE";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ENOTSUP: return "ENOTSUP";
	case ECANCELED: return "ECANCELED";
	case ETERM: return "ETERM";
	default: return "E?";
	}
}

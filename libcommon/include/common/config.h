/*
 * config.h - one configuration file per service plus environment overrides.
 *
 * The file holds `key = value` lines; '#' at the start of a word (line start
 * or after a blank) starts a comment, so "a#b" is a value; blank lines are
 * ignored; keys are [a-z0-9_.] and may appear once; values are trimmed.
 * An environment variable named
 * <PREFIX><KEY upper-cased, '.' -> '_'> overrides the file, e.g. with prefix
 * "DONTHU_INTAKE_" the key `listen` is overridden by DONTHU_INTAKE_LISTEN.
 * The environment is read once, by cm_config_load.
 *
 * Getters are typed and bounded. Every start-up error is fatal with a
 * one-line reason naming the key and its source (file:line or env name);
 * the *_or_die helpers do exactly that.
 */
#ifndef CM_CONFIG_H
#define CM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

struct cm_config;

/** Load path (NULL: environment only; env_prefix NULL: no overrides).
 * Caller owns *out; free with cm_config_free(). On error *out is NULL and the
 * reason is logged. err_line (may be NULL) gets the bad line's number, else 0.
 * Errors: -ENOENT/-EACCES/... (opening the file), -EIO (reading it),
 * CM_ECONFIG (a malformed line or a key set twice). */
int cm_config_load(const char *path, const char *env_prefix, struct cm_config **out,
		   int *err_line);
void cm_config_free(struct cm_config **c);

/** The value (borrowed, valid until cm_config_free) or def when unset. */
const char *cm_config_str(const struct cm_config *c, const char *key, const char *def);

/** Errors: CM_ECONFIG when the value is not a plain decimal integer (no
 * sign, blanks or 0x) or is outside [min, max]; *out is untouched then.
 * Unset gives def. */
int cm_config_u64(const struct cm_config *c, const char *key, uint64_t min, uint64_t max,
		  uint64_t def, uint64_t *out);
/** "true/false/yes/no/1/0/on/off", any case. Errors: CM_ECONFIG (*out untouched). */
int cm_config_bool(const struct cm_config *c, const char *key, bool def, bool *out);

/** Start-up helpers: on error log one line naming key and source and exit(1).
 * For cm_config_str_or_die a NULL def makes the key required. */
const char *cm_config_str_or_die(const struct cm_config *c, const char *key, const char *def);
uint64_t cm_config_u64_or_die(const struct cm_config *c, const char *key, uint64_t min,
			      uint64_t max, uint64_t def);
bool cm_config_bool_or_die(const struct cm_config *c, const char *key, bool def);

/** Where a key's value came from ("intake.conf:12", "env DONTHU_INTAKE_LISTEN",
 * "default"); static or borrowed string. */
const char *cm_config_source(const struct cm_config *c, const char *key);

#endif

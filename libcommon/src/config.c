#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct entry {
	char *key;	/* file: the key as written; env: the name after the prefix */
	char *value;
	char *source;	/* "path:line" or "env NAME" */
};

struct cm_config {
	struct entry *file;
	size_t nfile;
	struct entry *env;
	size_t nenv;
	char *prefix;
};

static void push(struct entry **v, size_t *n, char *key, char *value, char *source)
{
	/* Configurations are a few dozen keys: growing one by one is fine. */
	*v = cm_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n] = (struct entry){.key = key, .value = value, .source = source};
	(*n)++;
}

static void free_entries(struct entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
		free(v[i].source);
	}
	free(v);
}

void cm_config_free(struct cm_config **pc)
{
	struct cm_config *c = pc ? *pc : NULL;

	if (!c)
		return;
	free_entries(c->file, c->nfile);
	free_entries(c->env, c->nenv);
	free(c->prefix);
	free(c);
	*pc = NULL;
}

static bool is_key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.';
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static const struct entry *find_file(const struct cm_config *c, const char *key)
{
	for (size_t i = 0; i < c->nfile; i++)
		if (strcmp(c->file[i].key, key) == 0)
			return &c->file[i];
	return NULL;
}

/*
 * Parse one line in place. Returns 0 with *key NULL for a blank or comment
 * line, 0 with key/value pointing into line for an assignment, or a reason.
 */
static const char *parse_line(char *line, size_t len, char **key, char **value)
{
	char *p, *end;

	*key = *value = NULL;
	if (memchr(line, '\0', len))
		return "NUL byte in line";
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	/* '#' opens a comment only at the start of a word, so values such as
	 * "tcp://host/#x" or a password containing '#' survive. */
	for (p = line; *p; p++) {
		if (*p == '#' && (p == line || is_blank(p[-1]))) {
			*p = '\0';
			break;
		}
	}
	end = line + strlen(line);
	while (end > line && is_blank(end[-1]))
		*--end = '\0';
	for (p = line; is_blank(*p); p++)
		;
	if (*p == '\0')
		return NULL;

	*key = p;
	while (is_key_char(*p))
		p++;
	if (p == *key)
		return "expected a key of [a-z0-9_.]";
	end = p;
	while (is_blank(*p))
		p++;
	if (*p != '=')
		return "expected 'key = value'";
	*end = '\0';
	for (p++; is_blank(*p); p++)
		;
	*value = p;
	return NULL;
}

static int load_file(struct cm_config *c, const char *path, int *err_line)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, err = 0;

	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		cm_log_error_err(CONFIG, err, "cannot open config file %s", path);
		return err;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *key, *value;
		const char *why;

		lineno++;
		why = parse_line(line, (size_t)n, &key, &value);
		if (!why && key && find_file(c, key))
			why = "key set twice";
		if (why) {
			cm_log_error(CONFIG, "%s:%d: %s", path, lineno, why);
			*err_line = lineno;
			err = CM_ECONFIG;
			goto out;
		}
		if (key)
			push(&c->file, &c->nfile, cm_xstrdup(key), cm_xstrdup(value),
			     cm_xasprintf("%s:%d", path, lineno));
	}
	if (ferror(f)) {
		err = -EIO;
		cm_log_error_err(CONFIG, err, "reading config file %s", path);
	}
out:
	free(line);
	fclose(f);
	return err;
}

/* The environment is copied once so a getter never races setenv() and every
 * value has a stable source string to hand out. */
static void load_env(struct cm_config *c)
{
	size_t plen = strlen(c->prefix);

	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');

		if (!eq || strncmp(*e, c->prefix, plen) != 0 || (size_t)(eq - *e) <= plen)
			continue;
		push(&c->env, &c->nenv, cm_xstrndup(*e + plen, (size_t)(eq - *e) - plen),
		     cm_xstrdup(eq + 1), cm_xasprintf("env %.*s", (int)(eq - *e), *e));
	}
}

int cm_config_load(const char *path, const char *env_prefix, struct cm_config **out,
		   int *err_line)
{
	struct cm_config *c = cm_xcalloc(1, sizeof(*c));
	int line = 0, err = 0;

	*out = NULL;
	if (env_prefix) {
		c->prefix = cm_xstrdup(env_prefix);
		load_env(c);
	}
	if (path) {
		err = load_file(c, path, &line);
		if (err)
			goto fail;
	}
	*out = c;
	goto done;
fail:
	cm_config_free(&c);
done:
	if (err_line)
		*err_line = line;
	return err;
}

/* The environment spelling of key: upper case, '.' -> '_'. Caller frees. */
static char *env_suffix(const char *key)
{
	size_t n = strlen(key);
	char *name = cm_xmalloc(n + 1);

	for (size_t i = 0; i <= n; i++)
		name[i] = key[i] == '.' ? '_' : (char)toupper((unsigned char)key[i]);
	return name;
}

static const struct entry *find(const struct cm_config *c, const char *key)
{
	if (!c || !key)
		return NULL;
	if (c->nenv) {
		char *name = env_suffix(key);
		const struct entry *hit = NULL;

		for (size_t i = 0; i < c->nenv && !hit; i++)
			if (strcmp(c->env[i].key, name) == 0)
				hit = &c->env[i];
		free(name);
		if (hit)
			return hit;
	}
	return find_file(c, key);
}

const char *cm_config_str(const struct cm_config *c, const char *key, const char *def)
{
	const struct entry *e = find(c, key);

	return e ? e->value : def;
}

const char *cm_config_source(const struct cm_config *c, const char *key)
{
	const struct entry *e = find(c, key);

	return e ? e->source : "default";
}

static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return CM_ECONFIG;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return CM_ECONFIG;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return CM_ECONFIG;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int cm_config_u64(const struct cm_config *c, const char *key, uint64_t min, uint64_t max,
		  uint64_t def, uint64_t *out)
{
	const struct entry *e = find(c, key);
	uint64_t v;

	if (!e) {
		*out = def;
		return 0;
	}
	if (parse_u64(e->value, &v) != 0 || v < min || v > max)
		return CM_ECONFIG;
	*out = v;
	return 0;
}

int cm_config_bool(const struct cm_config *c, const char *key, bool def, bool *out)
{
	static const char *const yes[] = {"true", "yes", "1", "on"};
	static const char *const no[] = {"false", "no", "0", "off"};
	const struct entry *e = find(c, key);

	if (!e) {
		*out = def;
		return 0;
	}
	for (size_t i = 0; i < CM_ARRAY_LEN(yes); i++) {
		if (strcasecmp(e->value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(e->value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return CM_ECONFIG;
}

const char *cm_config_str_or_die(const struct cm_config *c, const char *key, const char *def)
{
	const char *v = cm_config_str(c, key, def);

	if (!v && c && c->prefix) {
		/* cm_fatal exits, so name is never freed. */
		char *name = env_suffix(key);

		cm_fatal(CM_ECONFIG, "config key %s is required: set it in the file or as env %s%s",
			 key, c->prefix, name);
	}
	if (!v)
		cm_fatal(CM_ECONFIG, "config key %s is required: set it in the config file", key);
	return v;
}

uint64_t cm_config_u64_or_die(const struct cm_config *c, const char *key, uint64_t min,
			      uint64_t max, uint64_t def)
{
	uint64_t v = def;

	if (cm_config_u64(c, key, min, max, def, &v) != 0)
		cm_fatal(CM_ECONFIG,
			 "config key %s from %s is \"%s\", not an integer in [%" PRIu64 ", %" PRIu64
			 "]",
			 key, cm_config_source(c, key), cm_config_str(c, key, ""), min, max);
	return v;
}

bool cm_config_bool_or_die(const struct cm_config *c, const char *key, bool def)
{
	bool v = def;

	if (cm_config_bool(c, key, def, &v) != 0)
		cm_fatal(CM_ECONFIG,
			 "config key %s from %s is \"%s\", not one of true/false/yes/no/1/0/on/off",
			 key, cm_config_source(c, key), cm_config_str(c, key, ""));
	return v;
}

#include "forms.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "indicators.h"

/* ---------------------------------------------------------- expressions --- */

void report_terms_free(struct report_term *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		for (size_t j = 0; j < t[i].nfields; j++)
			free(t[i].fields[j]);
		free(t[i].fields);
	}
	free(t);
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n')
		(*p)++;
}

/* Append the codes of group name (or name itself when no group has that
 * name: a single field code) to the term. */
static void add_group(struct report_term *t, const char *name, size_t len,
		      const char *const *groups)
{
	const char *codes = NULL;

	for (size_t i = 0; groups && groups[i]; i += 2)
		if (strlen(groups[i]) == len && memcmp(groups[i], name, len) == 0)
			codes = groups[i + 1];
	if (!codes) {
		t->fields = cm_xrealloc(t->fields, (t->nfields + 1) * sizeof(*t->fields));
		t->fields[t->nfields++] = cm_xstrndup(name, len);
		return;
	}
	while (*codes) {
		const char *e = strchr(codes, ';');
		size_t n = e ? (size_t)(e - codes) : strlen(codes);
		if (n) {
			t->fields = cm_xrealloc(t->fields, (t->nfields + 1) * sizeof(*t->fields));
			t->fields[t->nfields++] = cm_xstrndup(codes, n);
		}
		codes += n + (e ? 1 : 0);
	}
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

int report_expr_parse(const char *expr, const char *const *groups, struct report_term **terms,
		      size_t *nterms, const char **why)
{
	struct report_term *v = NULL;
	size_t n = 0;
	const char *p = expr;
	int sign = 1;

	*terms = NULL;
	*nterms = 0;
	skip_ws(&p);
	if (!*p) {
		*why = "empty expression";
		return CM_EINVALID;
	}
	/* "0": a column the events do not (yet) feed, printed as zero. */
	if (p[0] == '0') {
		p++;
		skip_ws(&p);
		if (*p) {
			*why = "\"0\" stands alone";
			return CM_EINVALID;
		}
		return 0;
	}
	for (;;) {
		struct report_term t = {.sign = sign};
		char name[REPORT_IND_NAME_MAX];
		const char *s;
		int id;

		skip_ws(&p);
		if (strncmp(p, "range(", 6) == 0) {
			t.mode = RFM_RANGE;
			p += 6;
		} else if (strncmp(p, "before(", 7) == 0) {
			t.mode = RFM_BEFORE;
			p += 7;
		} else if (strncmp(p, "upto(", 5) == 0) {
			t.mode = RFM_UPTO;
			p += 5;
		} else {
			*why = "expected range(, before( or upto(";
			goto fail;
		}
		skip_ws(&p);
		s = p;
		while (name_char(*p))
			p++;
		if (p == s || (size_t)(p - s) >= sizeof(name)) {
			*why = "expected an indicator name";
			goto fail;
		}
		memcpy(name, s, (size_t)(p - s));
		name[p - s] = '\0';
		id = report_ind_lookup(name);
		if (id < 0) {
			*why = "unknown indicator";
			goto fail;
		}
		t.ind = (uint16_t)id;
		skip_ws(&p);
		if (*p == '@') {
			p++;
			t.fsel = RFS_ONLY;
			if (*p == '!') {
				t.fsel = RFS_EXCEPT;
				p++;
			}
			for (;;) {
				skip_ws(&p);
				s = p;
				while (name_char(*p))
					p++;
				if (p == s) {
					*why = "expected a field group or code after @";
					for (size_t j = 0; j < t.nfields; j++)
						free(t.fields[j]);
					free(t.fields);
					goto fail;
				}
				add_group(&t, s, (size_t)(p - s), groups);
				skip_ws(&p);
				if (*p != ',')
					break;
				p++;
			}
		}
		if (*p != ')') {
			*why = "expected )";
			for (size_t j = 0; j < t.nfields; j++)
				free(t.fields[j]);
			free(t.fields);
			goto fail;
		}
		p++;
		v = cm_xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = t;
		skip_ws(&p);
		if (!*p)
			break;
		if (*p == '+')
			sign = 1;
		else if (*p == '-')
			sign = -1;
		else {
			*why = "expected + or - between terms";
			goto fail;
		}
		p++;
	}
	*terms = v;
	*nterms = n;
	return 0;
fail:
	report_terms_free(v, n);
	return CM_EINVALID;
}

/* ---------------------------------------------------------- form sets --- */

struct perr {
	char *buf;
	size_t len;
	const char *file;
};

static int fail(struct perr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct perr *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!e->buf || !e->len)
		return CM_ECONFIG;
	n = snprintf(e->buf, e->len, "%s: ", e->file);
	if (n < 0 || (size_t)n >= e->len)
		return CM_ECONFIG;
	va_start(ap, fmt);
	vsnprintf(e->buf + n, e->len - (size_t)n, fmt, ap);
	va_end(ap);
	return CM_ECONFIG;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void column_clear(struct report_column *c)
{
	free(c->number);
	free(c->title);
	free(c->group);
	free(c->expr);
	report_terms_free(c->terms, c->nterms);
}

static void form_clear(struct report_form *f)
{
	for (size_t i = 0; i < f->ncols; i++)
		column_clear(&f->cols[i]);
	free(f->cols);
	free(f->code);
	free(f->title);
	free(f->basis);
	free(f->note);
}

void report_formset_clear(struct report_formset *s)
{
	for (size_t i = 0; i < s->nforms; i++)
		form_clear(&s->forms[i]);
	free(s->forms);
	free(s->id);
	free(s->title);
	free(s->effective_from);
	free(s->source);
	memset(s, 0, sizeof(*s));
}

static char *join_group(json_t *g)
{
	struct {
		char *p;
		size_t n;
	} b = {cm_xstrdup(""), 0};
	size_t i;
	json_t *v;

	if (json_is_string(g))
		return cm_xstrdup(json_string_value(g));
	json_array_foreach(g, i, v) {
		const char *s = json_string_value(v);
		size_t l = strlen(s);
		b.p = cm_xrealloc(b.p, b.n + l + 4);
		if (i)
			memcpy(b.p + b.n, " | ", 3), b.n += 3;
		memcpy(b.p + b.n, s, l);
		b.n += l;
		b.p[b.n] = '\0';
	}
	return b.p;
}

static int parse_column(json_t *jc, size_t idx, const struct report_form *f,
			const char *const *groups, struct report_column *c, struct perr *e)
{
	const char *n = jstr(jc, "n"), *title = jstr(jc, "title"), *value = jstr(jc, "value");
	const char *unit = jstr(jc, "unit"), *why = NULL;
	json_t *g = json_object_get(jc, "group");
	const char *keys[] = {"n", "title", "group", "value", "unit", "note"};
	const char *k;
	json_t *v;

	if (!json_is_object(jc))
		return fail(e, "form %s column %zu: not an object", f->code, idx + 1);
	json_object_foreach(jc, k, v) {
		bool ok = false;
		for (size_t i = 0; i < CM_ARRAY_LEN(keys); i++)
			ok |= strcmp(k, keys[i]) == 0;
		if (!ok)
			return fail(e, "form %s column %zu: unknown key \"%s\"", f->code, idx + 1, k);
	}
	if (!n || !*n || !title || !value)
		return fail(e, "form %s column %zu: n, title and value are required", f->code,
			    idx + 1);
	if (g && !json_is_string(g) && !json_is_array(g))
		return fail(e, "form %s column %s: group must be a string or a list", f->code, n);
	if (json_is_array(g)) {
		size_t i;
		json_array_foreach(g, i, v) if (!json_is_string(v) || !*json_string_value(v))
			return fail(e, "form %s column %s: group entries must be strings",
				    f->code, n);
	}
	c->scale = 1;
	if (unit && strcmp(unit, "trieu_dong") == 0) {
		c->is_double = true;
		c->scale = 1e6;
	} else if (unit && strcmp(unit, "m2") == 0) {
		c->is_double = true;
		c->scale = 100;
	} else if (unit && strcmp(unit, "count") != 0) {
		return fail(e, "form %s column %s: unit must be count, trieu_dong or m2", f->code,
			    n);
	}
	if (report_expr_parse(value, groups, &c->terms, &c->nterms, &why) != 0)
		return fail(e, "form %s column %s: %s in \"%s\"", f->code, n, why, value);
	c->number = cm_xstrdup(n);
	c->title = cm_xstrdup(title);
	c->group = g ? join_group(g) : cm_xstrdup("");
	c->expr = cm_xstrdup(value);
	return 0;
}

static int parse_form(json_t *jf, size_t idx, const char *const *groups, struct report_form *f,
		      struct perr *e)
{
	const char *code = jstr(jf, "code"), *title = jstr(jf, "title");
	json_t *cols = json_object_get(jf, "columns");
	json_t *jc;
	size_t i;
	int rc;

	if (!json_is_object(jf) || !code || !*code || !title || !json_is_array(cols) ||
	    json_array_size(cols) == 0)
		return fail(e, "form %zu: code, title and a non-empty columns list are required",
			    idx + 1);
	f->code = cm_xstrdup(code);
	f->title = cm_xstrdup(title);
	f->basis = cm_xstrdup(jstr(jf, "basis") ? jstr(jf, "basis") : "");
	f->note = cm_xstrdup(jstr(jf, "note") ? jstr(jf, "note") : "");
	f->cols = cm_xcalloc(json_array_size(cols), sizeof(*f->cols));
	json_array_foreach(cols, i, jc) {
		rc = parse_column(jc, i, f, groups, &f->cols[i], e);
		if (rc)
			return rc;
		f->ncols++;
		for (size_t j = 0; j < i; j++)
			if (strcmp(f->cols[j].number, f->cols[i].number) == 0)
				return fail(e, "form %s: column number %s used twice", code,
					    f->cols[i].number);
	}
	return 0;
}

static void free_groups(char **g)
{
	for (size_t i = 0; g && g[i]; i++)
		free(g[i]);
	free(g);
}

/* field_groups {"name": ["code", ...]} -> NULL-terminated {name, "a;b"} pairs. */
static int parse_groups(json_t *jg, char ***out, struct perr *e)
{
	const char *k;
	json_t *v;
	size_t n = 0;
	char **g = cm_xcalloc(2 * json_object_size(jg) + 1, sizeof(*g));

	json_object_foreach(jg, k, v) {
		size_t i, len = 0;
		json_t *c;
		char *codes;

		if (!json_is_array(v)) {
			free_groups(g);
			return fail(e, "field_groups.%s: must be a list of field codes", k);
		}
		json_array_foreach(v, i, c) {
			if (!json_is_string(c) || !*json_string_value(c) ||
			    strchr(json_string_value(c), ';')) {
				free_groups(g);
				return fail(e, "field_groups.%s[%zu]: not a field code", k, i);
			}
			len += strlen(json_string_value(c)) + 1;
		}
		codes = cm_xcalloc(len + 1, 1);
		json_array_foreach(v, i, c) {
			if (i)
				strcat(codes, ";");
			strcat(codes, json_string_value(c));
		}
		g[n++] = cm_xstrdup(k);
		g[n++] = codes;
	}
	*out = g;
	return 0;
}

int report_formset_parse(const char *text, size_t len, const char *name,
			 struct report_formset *s, char *err, size_t errlen)
{
	struct perr e = {err, errlen, name};
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	json_t *forms, *periods, *v;
	char **groups = NULL;
	const char *id;
	size_t i;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (!root)
		return fail(&e, "line %d column %d: %s", je.line, je.column, je.text);
	id = jstr(root, "set");
	forms = json_object_get(root, "forms");
	if (!json_is_object(root) || !id || !*id || !json_is_array(forms)) {
		rc = fail(&e, "\"set\" (an id) and \"forms\" (a list) are required");
		goto out;
	}
	s->id = cm_xstrdup(id);
	s->title = cm_xstrdup(jstr(root, "title") ? jstr(root, "title") : id);
	s->effective_from = cm_xstrdup(jstr(root, "effective_from") ? jstr(root, "effective_from")
								     : "");
	s->source = cm_xstrdup(jstr(root, "source") ? jstr(root, "source") : "");
	v = json_object_get(root, "provisional");
	if (v && !json_is_boolean(v)) {
		rc = fail(&e, "\"provisional\" must be true or false");
		goto out;
	}
	s->provisional = json_is_true(v);
	if (*s->effective_from) {
		cm_day_t d;
		if (cm_day_parse(s->effective_from, &d) != 0) {
			rc = fail(&e, "effective_from: not a YYYY-MM-DD date");
			goto out;
		}
	}
	periods = json_object_get(root, "periods");
	if (periods) {
		json_t *p;
		if (!json_is_array(periods)) {
			rc = fail(&e, "\"periods\" must be a list");
			goto out;
		}
		json_array_foreach(periods, i, p) {
			const char *pn = jstr(p, "name"), *pf = jstr(p, "from"), *pt = jstr(p, "to");
			if (!pn || !pf || !pt ||
			    report_periods_add(&s->periods, pn, pf, pt) != 0) {
				rc = fail(&e, "periods[%zu]: needs name, from (\"-12-15\" or "
					      "\"03-15\") and to (\"03-14\"), each name once",
					  i);
				goto out;
			}
		}
	} else {
		report_periods_default(&s->periods);
	}
	v = json_object_get(root, "field_groups");
	if (v && (!json_is_object(v) || (rc = parse_groups(v, &groups, &e)) != 0)) {
		if (!rc)
			rc = fail(&e, "\"field_groups\" must be an object");
		goto out;
	}
	s->forms = cm_xcalloc(json_array_size(forms) + 1, sizeof(*s->forms));
	json_array_foreach(forms, i, v) {
		rc = parse_form(v, i, (const char *const *)groups, &s->forms[i], &e);
		s->nforms++;
		if (rc)
			goto out;
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->forms[j].code, s->forms[i].code) == 0) {
				rc = fail(&e, "form %s defined twice", s->forms[i].code);
				goto out;
			}
	}
out:
	free_groups(groups);
	json_decref(root);
	if (rc)
		report_formset_clear(s);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_all(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 65536, n = 0, r;
	char *b;

	if (!f)
		return -errno;
	b = cm_xmalloc(cap);
	while ((r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			b = cm_xrealloc(b, cap *= 2);
	}
	if (ferror(f)) {
		fclose(f);
		free(b);
		return -EIO;
	}
	fclose(f);
	*buf = b;
	*len = n;
	return 0;
}

void report_forms_free(struct report_forms **fp)
{
	struct report_forms *f;

	if (!fp || !*fp)
		return;
	f = *fp;
	for (size_t i = 0; i < f->nsets; i++)
		report_formset_clear(&f->sets[i]);
	free(f->sets);
	free(f);
	*fp = NULL;
}

int report_forms_load(const char *dir, struct report_forms **out, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	struct report_forms *f;
	uint64_t h = 1469598103934665603ULL;
	int rc = 0;

	*out = NULL;
	if (!d) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", dir, cm_strerror(rc));
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0 && de->d_name[0] != '.') {
			names = cm_xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = cm_xstrdup(de->d_name);
		}
	}
	closedir(d);
	if (n == 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: no *.json form files", dir);
		free(names);
		return CM_ECONFIG;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	f = cm_xcalloc(1, sizeof(*f));
	f->sets = cm_xcalloc(n, sizeof(*f->sets));
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *path = cm_xasprintf("%s/%s", dir, names[i]), *text = NULL;
		size_t len = 0;

		rc = read_all(path, &text, &len);
		if (rc) {
			if (err && errlen)
				snprintf(err, errlen, "%s: %s", path, cm_strerror(rc));
		} else {
			for (size_t j = 0; j < len; j++)
				h = (h ^ (unsigned char)text[j]) * 1099511628211ULL;
			rc = report_formset_parse(text, len, names[i], &f->sets[f->nsets], err,
						  errlen);
			if (rc == 0)
				f->nsets++;
		}
		for (size_t j = 0; rc == 0 && j + 1 < f->nsets; j++)
			if (strcmp(f->sets[j].id, f->sets[f->nsets - 1].id) == 0) {
				if (err && errlen)
					snprintf(err, errlen, "%s: set id \"%s\" already used",
						 names[i], f->sets[j].id);
				rc = CM_ECONFIG;
			}
		free(text);
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc) {
		report_forms_free(&f);
		return rc;
	}
	snprintf(f->version, sizeof(f->version), "%016llx", (unsigned long long)h);
	*out = f;
	return 0;
}

const struct report_form *report_forms_find(const struct report_forms *f, const char *code,
					    const struct report_formset **set)
{
	const char *colon = strchr(code, ':');

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < f->nsets; i++) {
			const struct report_formset *s = &f->sets[i];
			const char *c = code;

			if (colon) {
				if (strlen(s->id) != (size_t)(colon - code) ||
				    strncmp(s->id, code, (size_t)(colon - code)) != 0)
					continue;
				c = colon + 1;
			} else if (s->provisional != (pass == 1)) {
				continue;
			}
			for (size_t j = 0; j < s->nforms; j++)
				if (strcmp(s->forms[j].code, c) == 0) {
					if (set)
						*set = s;
					return &s->forms[j];
				}
		}
		if (colon)
			break;
	}
	return NULL;
}

/*
 * The metrics half of http.h: cm_buf and the Prometheus registry. A service
 * registers a few dozen series at start-up, so the registry is a plain array
 * searched linearly; lookups happen at registration, increments go through
 * the returned pointers.
 */
#include "common/http.h"
#include "common/mem.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void buf_reserve(struct cm_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = cm_xrealloc(b->data, cap);
	b->cap = cap;
}

void cm_buf_printf(struct cm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(b, n > 0 ? (size_t)n : 0);
	if (n > 0) {
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
		b->len += (size_t)n;
	}
	b->data[b->len] = '\0';
}

void cm_buf_append(struct cm_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void cm_buf_free(struct cm_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

enum kind { K_COUNTER, K_GAUGE, K_HISTOGRAM };

struct cm_histogram {
	double *bounds;
	uint64_t *counts; /* per bucket, not cumulative; [n] is the +Inf bucket */
	size_t n;
	double sum;
	uint64_t count;
};

struct metric {
	enum kind kind;
	char *name;
	char *labels; /* "" when none */
	char *help;
	union {
		uint64_t counter;
		int64_t gauge;
		struct cm_histogram hist;
	} v;
};

struct cm_metrics {
	char *prefix;
	/* Pointers, not structs: callers hold pointers into each metric. */
	struct metric **v;
	size_t n;
};

struct cm_metrics *cm_metrics_new(const char *prefix)
{
	struct cm_metrics *m = cm_xcalloc(1, sizeof(*m));

	m->prefix = cm_xstrdup(prefix ? prefix : "");
	return m;
}

const char *cm_metrics_prefix(const struct cm_metrics *m)
{
	return m ? m->prefix : "";
}

void cm_metrics_free(struct cm_metrics **pm)
{
	struct cm_metrics *m = pm ? *pm : NULL;

	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct metric *x = m->v[i];

		if (x->kind == K_HISTOGRAM) {
			free(x->v.hist.bounds);
			free(x->v.hist.counts);
		}
		free(x->name);
		free(x->labels);
		free(x->help);
		free(x);
	}
	free(m->v);
	free(m->prefix);
	free(m);
	*pm = NULL;
}

/* Prometheus metric names: [a-zA-Z_:][a-zA-Z0-9_:]*. */
static bool valid_name(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == ':'))
			return false;
	}
	return true;
}

/*
 * Find or add a series. Names and kinds come from code, not input, so a
 * name reused with another kind is a programming error that would make the
 * exposition unparsable: it is fatal.
 */
static struct metric *lookup(struct cm_metrics *m, enum kind kind, const char *name,
			     const char *labels, const char *help)
{
	struct metric *x;

	cm_require(m != NULL);
	cm_require(valid_name(name));
	if (!labels)
		labels = "";
	for (size_t i = 0; i < m->n; i++) {
		x = m->v[i];
		if (strcmp(x->name, name) != 0)
			continue;
		cm_require(x->kind == kind);
		if (strcmp(x->labels, labels) == 0)
			return x;
	}
	x = cm_xcalloc(1, sizeof(*x));
	x->kind = kind;
	x->name = cm_xstrdup(name);
	x->labels = cm_xstrdup(labels);
	x->help = cm_xstrdup(help ? help : "");
	m->v = cm_xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
	m->v[m->n++] = x;
	return x;
}

uint64_t *cm_metrics_counter(struct cm_metrics *m, const char *name, const char *labels,
			     const char *help)
{
	return &lookup(m, K_COUNTER, name, labels, help)->v.counter;
}

int64_t *cm_metrics_gauge(struct cm_metrics *m, const char *name, const char *labels,
			  const char *help)
{
	return &lookup(m, K_GAUGE, name, labels, help)->v.gauge;
}

struct cm_histogram *cm_metrics_histogram(struct cm_metrics *m, const char *name,
					  const char *help, const double *bounds, size_t n)
{
	struct metric *x = lookup(m, K_HISTOGRAM, name, NULL, help);
	struct cm_histogram *h = &x->v.hist;

	if (h->counts)
		return h; /* registered before; the first bounds stand */
	cm_require(n == 0 || bounds != NULL);
	for (size_t i = 0; i < n; i++)
		cm_require(isfinite(bounds[i]) && (i == 0 || bounds[i] > bounds[i - 1]));
	h->bounds = cm_xmalloc((n ? n : 1) * sizeof(*h->bounds));
	if (n)
		memcpy(h->bounds, bounds, n * sizeof(*bounds));
	h->counts = cm_xcalloc(n + 1, sizeof(*h->counts));
	h->n = n;
	return h;
}

void cm_histogram_observe(struct cm_histogram *h, double value)
{
	size_t i = 0;

	/* NaN belongs to no bucket and would poison the sum forever. */
	if (!h || isnan(value))
		return;
	while (i < h->n && value > h->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += value;
}

/* The shortest of %.15g/%.17g that reads back as the same double, and the
 * spellings Prometheus expects for the non-finite values. */
static const char *fmt_double(char buf[32], double v)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	snprintf(buf, 32, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, 32, "%.17g", v);
	return buf;
}

/* HELP text escapes backslash and newline (text format 0.0.4). */
static void put_help(struct cm_buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			cm_buf_append(out, "\\\\", 2);
		else if (*s == '\n')
			cm_buf_append(out, "\\n", 2);
		else
			cm_buf_append(out, s, 1);
	}
}

static void put_series(struct cm_buf *out, const char *prefix, const struct metric *x)
{
	const char *open = *x->labels ? "{" : "";
	const char *close = *x->labels ? "}" : "";

	if (x->kind == K_COUNTER)
		cm_buf_printf(out, "%s%s%s%s%s %" PRIu64 "\n", prefix, x->name, open, x->labels,
			      close, x->v.counter);
	else
		cm_buf_printf(out, "%s%s%s%s%s %" PRId64 "\n", prefix, x->name, open, x->labels,
			      close, x->v.gauge);
}

static void put_histogram(struct cm_buf *out, const char *prefix, const struct metric *x)
{
	const struct cm_histogram *h = &x->v.hist;
	uint64_t acc = 0;
	char num[32];

	for (size_t i = 0; i < h->n; i++) {
		acc += h->counts[i];
		cm_buf_printf(out, "%s%s_bucket{le=\"%s\"} %" PRIu64 "\n", prefix, x->name,
			      fmt_double(num, h->bounds[i]), acc);
	}
	cm_buf_printf(out, "%s%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", prefix, x->name, h->count);
	cm_buf_printf(out, "%s%s_sum %s\n", prefix, x->name, fmt_double(num, h->sum));
	cm_buf_printf(out, "%s%s_count %" PRIu64 "\n", prefix, x->name, h->count);
}

void cm_metrics_render(const struct cm_metrics *m, struct cm_buf *out)
{
	static const char *const type_names[] = {"counter", "gauge", "histogram"};
	char *prefix;

	if (!m)
		return;
	prefix = *m->prefix ? cm_xasprintf("%s_", m->prefix) : cm_xstrdup("");
	for (size_t i = 0; i < m->n; i++) {
		const struct metric *x = m->v[i];
		bool seen = false;

		/* A family is written once, at its first series, with all its
		 * label sets together as the format requires. */
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(m->v[j]->name, x->name) == 0;
		if (seen)
			continue;
		if (*x->help) {
			cm_buf_printf(out, "# HELP %s%s ", prefix, x->name);
			put_help(out, x->help);
			cm_buf_append(out, "\n", 1);
		}
		cm_buf_printf(out, "# TYPE %s%s %s\n", prefix, x->name, type_names[x->kind]);
		for (size_t j = i; j < m->n; j++) {
			const struct metric *y = m->v[j];

			if (strcmp(y->name, x->name) != 0)
				continue;
			if (y->kind == K_HISTOGRAM)
				put_histogram(out, prefix, y);
			else
				put_series(out, prefix, y);
		}
	}
	free(prefix);
}

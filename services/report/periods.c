#include "periods.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"

static int parse_md(const char *s, int *off, int *m, int *d)
{
	char tail;

	*off = 0;
	if (*s == '-') {
		*off = -1;
		s++;
	}
	if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != '-' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return CM_EINVALID;
	if (sscanf(s, "%2d-%2d%c", m, d, &tail) != 2)
		return CM_EINVALID;
	/* 2000 is a leap year, so 29 February is allowed here and clamped when
	 * a period is resolved in another year. */
	if (*m < 1 || *m > 12 || *d < 1 || *d > cm_days_in_month(2000, *m))
		return CM_EINVALID;
	return 0;
}

int report_periods_add(struct report_periods *p, const char *name, const char *from,
		       const char *to)
{
	struct report_period_def d = {0};
	int toff;

	if (p->n >= REPORT_PERIODS_MAX || !name || !*name ||
	    strlen(name) > REPORT_PERIOD_NAME_MAX)
		return CM_EINVALID;
	for (size_t i = 0; i < p->n; i++)
		if (strcasecmp(p->def[i].name, name) == 0)
			return CM_EINVALID;
	if (parse_md(from, &d.from_year_offset, &d.from_month, &d.from_day) ||
	    parse_md(to, &toff, &d.to_month, &d.to_day) || toff != 0)
		return CM_EINVALID;
	snprintf(d.name, sizeof(d.name), "%s", name);
	p->def[p->n++] = d;
	return 0;
}

void report_periods_default(struct report_periods *p)
{
	static const char *const t[][3] = {
		{"Q1", "-12-15", "03-14"}, {"Q2", "03-15", "06-14"}, {"Q3", "06-15", "09-14"},
		{"Q4", "09-15", "12-14"},  {"6M", "-12-15", "06-14"}, {"9M", "-12-15", "09-14"},
		{"Y", "-12-15", "12-14"},
	};

	p->n = 0;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		report_periods_add(p, t[i][0], t[i][1], t[i][2]);
}

static cm_day_t clamp_day(int y, int m, int d)
{
	int last = cm_days_in_month(y, m);
	return cm_day_from_ymd(y, m, d > last ? last : d);
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

int report_period_resolve(const struct report_periods *p, const char *spec, cm_day_t *from,
			  cm_day_t *to)
{
	const char *dots;
	cm_day_t f, t;
	int y, m;

	if (!spec)
		return CM_EINVALID;
	dots = strstr(spec, "..");
	if (dots) {
		char a[11];
		if (dots - spec != 10)
			return CM_EINVALID;
		memcpy(a, spec, 10);
		a[10] = '\0';
		if (cm_day_parse(a, &f) || cm_day_parse(dots + 2, &t))
			return CM_EINVALID;
	} else if (strlen(spec) == 4 && all_digits(spec, 4)) {
		y = atoi(spec);
		if (y < 1900 || y > 2999)
			return CM_EINVALID;
		f = cm_day_from_ymd(y, 1, 1);
		t = cm_day_from_ymd(y, 12, 31);
	} else if (strlen(spec) == 7 && all_digits(spec, 4) && spec[4] == '-' &&
		   all_digits(spec + 5, 2)) {
		y = atoi(spec);
		m = atoi(spec + 5);
		if (y < 1900 || y > 2999 || m < 1 || m > 12)
			return CM_EINVALID;
		f = cm_day_from_ymd(y, m, 1);
		t = cm_day_from_ymd(y, m, cm_days_in_month(y, m));
	} else if (strlen(spec) > 5 && all_digits(spec, 4) && spec[4] == '-') {
		const struct report_period_def *d = NULL;
		y = atoi(spec);
		if (y < 1901 || y > 2999)
			return CM_EINVALID;
		for (size_t i = 0; i < p->n && !d; i++)
			if (strcasecmp(p->def[i].name, spec + 5) == 0)
				d = &p->def[i];
		if (!d)
			return CM_EINVALID;
		f = clamp_day(y + d->from_year_offset, d->from_month, d->from_day);
		t = clamp_day(y, d->to_month, d->to_day);
	} else {
		return CM_EINVALID;
	}
	if (f > t)
		return CM_EINVALID;
	*from = f;
	*to = t;
	return 0;
}

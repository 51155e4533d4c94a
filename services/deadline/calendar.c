#include "calendar.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "lunar.h"

#define NYEARS (CAL_LAST_YEAR - CAL_FIRST_YEAR + 1)
#define FILE_FORMAT 1
#define NAME_MAX_BYTES 200
#define FLAG_MAX_BYTES 64

/* Per-day bits. DF_OFF is only ever set on Monday..Friday, DF_MAKEUP only on
 * Saturdays, so the counts below never overlap. */
#define DF_WEEKEND 0x01u
#define DF_OFF 0x02u
#define DF_MAKEUP 0x04u
#define DF_KIND_SHIFT 4
#define DF_KIND_MASK 0x70u

struct special {
	int32_t idx;
	uint16_t name;
	uint8_t kind;
};

struct cal {
	cm_day_t base;	/* 1 January CAL_FIRST_YEAR */
	int32_t ndays;
	uint8_t *flags;
	uint16_t *name;
	/* Prefix counts over [0, i) for i in 0..ndays: days off, Saturdays and
	 * Sundays, make-up Saturdays. Working days follow from them, for either
	 * treatment of make-up Saturdays, without a second table. */
	int32_t *pre_off;
	int32_t *pre_wkend;
	int32_t *pre_mk;
	/* Every day off and make-up day, by date, for the explain lists. */
	struct special *spec;
	size_t nspec;
	char **names;	/* names[0] unused: index 0 means "no name" */
	size_t nnames;
	size_t names_cap;
	bool from_file[NYEARS];
};

void cal_options_default(struct cal_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->tet_days_before = 1;
	opt->national_day_extra = -1;
}

bool cal_in_range(cm_day_t day)
{
	return day >= cm_day_from_ymd(CAL_FIRST_YEAR, 1, 1) &&
	       day <= cm_day_from_ymd(CAL_LAST_YEAR, 12, 31);
}

static int year_of(cm_day_t day)
{
	int y, m, d;

	cm_day_to_ymd(day, &y, &m, &d);
	return y;
}

static uint16_t intern(struct cal *c, const char *s)
{
	for (size_t i = 1; i < c->nnames; i++)
		if (strcmp(c->names[i], s) == 0)
			return (uint16_t)i;
	/* Bounded well below 65535: at most 262 weekdays plus 53 Saturdays a
	 * year over NYEARS years, plus a dozen derived names. */
	cm_require(c->nnames < UINT16_MAX);
	if (c->nnames >= c->names_cap) {
		c->names_cap = c->names_cap ? c->names_cap * 2 : 32;
		c->names = cm_xrealloc(c->names, c->names_cap * sizeof(*c->names));
	}
	c->names[c->nnames] = cm_xstrdup(s);
	return (uint16_t)c->nnames++;
}

static struct cal *cal_alloc(void)
{
	struct cal *c = cm_xcalloc(1, sizeof(*c));

	c->base = cm_day_from_ymd(CAL_FIRST_YEAR, 1, 1);
	c->ndays = cm_day_from_ymd(CAL_LAST_YEAR + 1, 1, 1) - c->base;
	c->flags = cm_xcalloc((size_t)c->ndays, sizeof(*c->flags));
	c->name = cm_xcalloc((size_t)c->ndays, sizeof(*c->name));
	for (int32_t i = 0; i < c->ndays; i++)
		if (cm_day_weekday(c->base + i) >= 5)
			c->flags[i] = DF_WEEKEND;
	c->nnames = 1;
	return c;
}

void cal_free(struct cal **pp)
{
	struct cal *c;

	if (!pp || !*pp)
		return;
	c = *pp;
	for (size_t i = 1; i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
	free(c->flags);
	free(c->name);
	free(c->pre_off);
	free(c->pre_wkend);
	free(c->pre_mk);
	free(c->spec);
	free(c);
	*pp = NULL;
}

static void mark(struct cal *c, cm_day_t day, enum cal_kind kind, const char *name)
{
	int32_t i = day - c->base;

	cm_require(i >= 0 && i < c->ndays);
	c->flags[i] &= (uint8_t)~DF_KIND_MASK;
	c->flags[i] |= (uint8_t)((kind == CAL_KIND_MAKEUP ? DF_MAKEUP : DF_OFF) |
				 ((unsigned)kind << DF_KIND_SHIFT));
	c->name[i] = intern(c, name);
}


struct holiday {
	cm_day_t day;
	const char *name;
};

/*
 * Bộ luật Lao động Điều 112 k1 gives the holidays; Điều 111 k3 moves a
 * weekly rest day that meets a holiday to the next working day. We apply that
 * to each holiday that falls on a Saturday or Sunday, or on a day already off
 * (Giỗ Tổ can meet 30/4 after a leap month), in date order, after all the
 * weekday holidays are placed so a compensatory day never lands on one.
 */
static void derive_year(struct cal *c, int y, const struct cal_options *opt)
{
	struct holiday h[12];
	bool owed[12];
	size_t n = 0;
	cm_day_t tet, gio;
	char buf[NAME_MAX_BYTES + 16];

	cm_require(lunar_new_year(y, &tet) == 0);
	cm_require(lunar_gio_to(y, &gio) == 0);

	h[n++] = (struct holiday){cm_day_from_ymd(y, 1, 1), "Tết Dương lịch"};
	for (int i = 0; i < 5; i++)
		h[n++] = (struct holiday){tet - opt->tet_days_before + i, "Tết Nguyên đán"};
	h[n++] = (struct holiday){gio, "Giỗ Tổ Hùng Vương"};
	h[n++] = (struct holiday){cm_day_from_ymd(y, 4, 30),
				  "Ngày Giải phóng miền Nam, thống nhất đất nước"};
	h[n++] = (struct holiday){cm_day_from_ymd(y, 5, 1), "Ngày Quốc tế Lao động"};
	h[n++] = (struct holiday){cm_day_from_ymd(y, 9, 2) + opt->national_day_extra,
				  "Quốc khánh (ngày liền kề)"};
	h[n++] = (struct holiday){cm_day_from_ymd(y, 9, 2), "Quốc khánh"};

	/* Insertion sort keeps equal dates in the order written above. */
	for (size_t i = 1; i < n; i++) {
		struct holiday t = h[i];
		size_t j = i;

		for (; j > 0 && h[j - 1].day > t.day; j--)
			h[j] = h[j - 1];
		h[j] = t;
	}

	for (size_t i = 0; i < n; i++) {
		int32_t idx = h[i].day - c->base;

		owed[i] = (c->flags[idx] & (DF_WEEKEND | DF_OFF)) != 0;
		if (!owed[i])
			mark(c, h[i].day, CAL_KIND_HOLIDAY, h[i].name);
	}
	for (size_t i = 0; i < n; i++) {
		cm_day_t d = h[i].day + 1;

		if (!owed[i])
			continue;
		/* Holidays end by 3/9, so this never leaves the year. */
		while (c->flags[d - c->base] & (DF_WEEKEND | DF_OFF)) {
			d++;
			cm_require(d - c->base < c->ndays);
		}
		snprintf(buf, sizeof(buf), "Nghỉ bù %s", h[i].name);
		mark(c, d, CAL_KIND_COMPENSATORY, buf);
	}
}


struct loader {
	const char *path;
	char *err;
	size_t errlen;
	const struct cal_options *opt;
	bool *flag_used;
	size_t nflags;
};

static int fail(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct loader *ld, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ld->err && ld->errlen > 0) {
		n = snprintf(ld->err, ld->errlen, "%s: ", ld->path);
		if (n >= 0 && (size_t)n < ld->errlen) {
			va_start(ap, fmt);
			vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return CM_ECONFIG;
}

static int check_keys(struct loader *ld, json_t *obj, const char *where,
		      const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		bool ok = false;

		(void)v;
		for (size_t i = 0; allowed[i]; i++)
			ok = ok || strcmp(key, allowed[i]) == 0;
		if (!ok)
			return fail(ld, "%s: unknown field \"%.40s\"", where, key);
	}
	return 0;
}

static const char *const weekday_name[7] = {
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};

/* Strict YYYY-MM-DD, a real date; the year check is the caller's. */
static int parse_date(struct loader *ld, json_t *v, const char *where, cm_day_t *out)
{
	const char *s;
	int y, m, d;

	if (!v)
		return fail(ld, "%s: missing", where);
	if (!json_is_string(v))
		return fail(ld, "%s: must be a string \"YYYY-MM-DD\"", where);
	s = json_string_value(v);
	if (json_string_length(v) != 10 || s[4] != '-' || s[7] != '-')
		return fail(ld, "%s: \"%.20s\" is not in YYYY-MM-DD form", where, s);
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return fail(ld, "%s: \"%.20s\" is not in YYYY-MM-DD form", where, s);
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < CAL_FIRST_YEAR || y > CAL_LAST_YEAR || m < 1 || m > 12 || d < 1 ||
	    d > cm_days_in_month(y, m))
		return fail(ld, "%s: \"%s\" is not a real date in %d..%d", where, s,
			    CAL_FIRST_YEAR, CAL_LAST_YEAR);
	*out = cm_day_from_ymd(y, m, d);
	return 0;
}

static int get_text(struct loader *ld, json_t *obj, const char *key, const char *where,
		    bool required, const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v) {
		if (required)
			return fail(ld, "%s.%s: missing", where, key);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0)
		return fail(ld, "%s.%s: must be a non-empty string", where, key);
	if (json_string_length(v) > NAME_MAX_BYTES)
		return fail(ld, "%s.%s: longer than %d bytes", where, key, NAME_MAX_BYTES);
	*out = json_string_value(v);
	return 0;
}

static bool flag_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > FLAG_MAX_BYTES)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* Whether an optional entry is switched on, noting that its flag was seen. */
static bool flag_enabled(struct loader *ld, const char *flag)
{
	bool on = false;

	for (size_t i = 0; i < ld->nflags; i++) {
		if (strcmp(ld->opt->flags[i], flag) == 0) {
			ld->flag_used[i] = true;
			on = true;
		}
	}
	return on;
}

static const char *const kind_name[] = {
	[CAL_KIND_HOLIDAY] = "holiday",
	[CAL_KIND_COMPENSATORY] = "compensatory",
	[CAL_KIND_SWAP] = "swap",
};

/* What one year's file says, by day of year, before it goes into the calendar. */
struct year_entries {
	int16_t off_entry[366];	/* days_off index + 1, or 0 */
	uint8_t off_kind[366];
	int16_t mk_entry[366];	/* working_saturdays index + 1, or 0 */
};

static int load_days_off(struct loader *ld, struct cal *c, json_t *arr, int year,
			 struct year_entries *ye)
{
	static const char *const keys[] = {"date", "name", "kind", "flag", "note", "source", NULL};
	cm_day_t jan1 = cm_day_from_ymd(year, 1, 1);
	char where[64];
	size_t i;
	json_t *e;
	int rc;

	json_array_foreach(arr, i, e) {
		const char *name, *kind_s, *flag, *note;
		enum cal_kind kind = CAL_KIND_NONE;
		cm_day_t day;
		int doy, wd;

		snprintf(where, sizeof(where), "days_off[%zu]", i);
		if (!json_is_object(e))
			return fail(ld, "%s: must be an object", where);
		rc = check_keys(ld, e, where, keys);
		if (rc)
			return rc;
		snprintf(where, sizeof(where), "days_off[%zu].date", i);
		rc = parse_date(ld, json_object_get(e, "date"), where, &day);
		if (rc)
			return rc;
		if (year_of(day) != year)
			return fail(ld, "%s: %s is not in the file's year %d", where,
				    json_string_value(json_object_get(e, "date")), year);
		doy = (int)(day - jan1);
		wd = cm_day_weekday(day);
		if (ye->off_entry[doy])
			return fail(ld, "%s: %s is listed twice (also days_off[%d])", where,
				    json_string_value(json_object_get(e, "date")),
				    ye->off_entry[doy] - 1);
		if (wd >= 5)
			return fail(ld, "%s: %s is a %s; list only weekdays (weekends are "
				    "already days off)", where,
				    json_string_value(json_object_get(e, "date")), weekday_name[wd]);

		snprintf(where, sizeof(where), "days_off[%zu]", i);
		rc = get_text(ld, e, "name", where, true, &name);
		if (!rc)
			rc = get_text(ld, e, "kind", where, true, &kind_s);
		if (rc)
			return rc;
		for (int k = CAL_KIND_HOLIDAY; k <= CAL_KIND_SWAP; k++)
			if (strcmp(kind_s, kind_name[k]) == 0)
				kind = (enum cal_kind)k;
		if (kind == CAL_KIND_NONE)
			return fail(ld, "%s.kind: \"%.40s\" is not one of holiday, compensatory, "
				    "swap", where, kind_s);
		rc = get_text(ld, e, "flag", where, false, &flag);
		if (!rc && flag && !flag_name_ok(flag))
			return fail(ld, "%s.flag: \"%.40s\" must be 1..%d characters of a-z, 0-9, _",
				    where, flag, FLAG_MAX_BYTES);
		if (!rc)
			rc = get_text(ld, e, "note", where, false, &note);
		if (!rc)
			rc = get_text(ld, e, "source", where, false, &note);
		if (rc)
			return rc;

		ye->off_entry[doy] = (int16_t)(i + 1);
		ye->off_kind[doy] = (uint8_t)kind;
		if (!flag || flag_enabled(ld, flag))
			mark(c, day, kind, name);
	}
	return 0;
}

static int load_makeup(struct loader *ld, struct cal *c, json_t *arr, int year,
		       struct year_entries *ye)
{
	static const char *const keys[] = {"date", "reason", "replaces", "note", "source", NULL};
	cm_day_t jan1 = cm_day_from_ymd(year, 1, 1);
	char where[64];
	size_t i;
	json_t *e;
	int rc;

	json_array_foreach(arr, i, e) {
		const char *reason, *note, *ds;
		cm_day_t day, rep;
		int doy, wd;

		snprintf(where, sizeof(where), "working_saturdays[%zu]", i);
		if (!json_is_object(e))
			return fail(ld, "%s: must be an object", where);
		rc = check_keys(ld, e, where, keys);
		if (rc)
			return rc;
		snprintf(where, sizeof(where), "working_saturdays[%zu].date", i);
		rc = parse_date(ld, json_object_get(e, "date"), where, &day);
		if (rc)
			return rc;
		ds = json_string_value(json_object_get(e, "date"));
		if (year_of(day) != year)
			return fail(ld, "%s: %s is not in the file's year %d", where, ds, year);
		doy = (int)(day - jan1);
		wd = cm_day_weekday(day);
		if (ye->mk_entry[doy])
			return fail(ld, "%s: %s is listed twice (also working_saturdays[%d])", where,
				    ds, ye->mk_entry[doy] - 1);
		if (ye->off_entry[doy])
			return fail(ld, "%s: %s is also a day off (days_off[%d]); a make-up day "
				    "must be a working day", where, ds, ye->off_entry[doy] - 1);
		if (wd != 5)
			return fail(ld, "%s: %s is a %s, not a Saturday", where, ds,
				    weekday_name[wd]);

		snprintf(where, sizeof(where), "working_saturdays[%zu]", i);
		rc = get_text(ld, e, "reason", where, true, &reason);
		if (!rc)
			rc = get_text(ld, e, "note", where, false, &note);
		if (!rc)
			rc = get_text(ld, e, "source", where, false, &note);
		if (rc)
			return rc;
		if (json_object_get(e, "replaces")) {
			snprintf(where, sizeof(where), "working_saturdays[%zu].replaces", i);
			rc = parse_date(ld, json_object_get(e, "replaces"), where, &rep);
			if (rc)
				return rc;
			/* A swap may straddle New Year; only a same-year partner can be checked. */
			if (year_of(rep) == year &&
			    ye->off_kind[rep - jan1] != (uint8_t)CAL_KIND_SWAP)
				return fail(ld, "%s: %s is not a day of kind swap in days_off", where,
					    json_string_value(json_object_get(e, "replaces")));
		}

		ye->mk_entry[doy] = (int16_t)(i + 1);
		mark(c, day, CAL_KIND_MAKEUP, reason);
	}
	return 0;
}

static int load_file(struct loader *ld, struct cal *c, int name_year)
{
	static const char *const keys[] = {"format", "year", "sources", "notes", "days_off",
					   "working_saturdays", NULL};
	struct year_entries *ye = NULL;
	json_error_t jerr;
	json_t *root, *v;
	size_t i;
	int rc = 0;

	root = json_load_file(ld->path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(ld, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		rc = fail(ld, "the top level must be an object");
		goto out;
	}
	rc = check_keys(ld, root, "top level", keys);
	if (rc)
		goto out;

	v = json_object_get(root, "format");
	if (!json_is_integer(v) || json_integer_value(v) != FILE_FORMAT) {
		rc = fail(ld, "format: %s", v ? "must be 1" : "missing (must be 1)");
		goto out;
	}
	v = json_object_get(root, "year");
	if (!v) {
		rc = fail(ld, "year: missing");
		goto out;
	}
	if (!json_is_integer(v) || json_integer_value(v) != name_year) {
		rc = fail(ld, "year: must be the integer %d, as in the file name", name_year);
		goto out;
	}

	v = json_object_get(root, "sources");
	if (!json_is_array(v) || json_array_size(v) == 0) {
		rc = fail(ld, "sources: %s", v ? "must be a non-empty array of strings"
					      : "missing (cite where the days come from)");
		goto out;
	}
	for (i = 0; i < json_array_size(v); i++) {
		json_t *s = json_array_get(v, i);

		if (!json_is_string(s) || json_string_length(s) == 0) {
			rc = fail(ld, "sources[%zu]: must be a non-empty string", i);
			goto out;
		}
	}
	v = json_object_get(root, "notes");
	if (v && !json_is_string(v)) {
		rc = fail(ld, "notes: must be a string");
		goto out;
	}

	ye = cm_xcalloc(1, sizeof(*ye));
	v = json_object_get(root, "days_off");
	if (!json_is_array(v)) {
		rc = fail(ld, "days_off: %s", v ? "must be an array" : "missing");
		goto out;
	}
	rc = load_days_off(ld, c, v, name_year, ye);
	if (rc)
		goto out;
	v = json_object_get(root, "working_saturdays");
	if (!json_is_array(v)) {
		rc = fail(ld, "working_saturdays: %s", v ? "must be an array" : "missing");
		goto out;
	}
	rc = load_makeup(ld, c, v, name_year, ye);
	if (rc)
		goto out;
	c->from_file[name_year - CAL_FIRST_YEAR] = true;
out:
	free(ye);
	json_decref(root);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int load_dir(const char *dir, struct cal *c, struct loader *ld)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	char *path = NULL;
	DIR *d;
	int rc = 0;

	d = opendir(dir);
	if (!d) {
		rc = -errno;
		ld->path = dir;
		fail(ld, "cannot open the calendar directory: %s", strerror(-rc));
		return rc;
	}
	/* Sorted, so the first error reported does not depend on readdir order. */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !ends_with(de->d_name, ".json"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = cm_xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = cm_xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);

	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *s = names[i];
		int year;

		free(path);
		path = cm_xasprintf("%s/%s", dir, s);
		ld->path = path;
		if (strlen(s) != 9 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
		    s[2] < '0' || s[2] > '9' || s[3] < '0' || s[3] > '9') {
			rc = fail(ld, "file name must be YYYY.json");
			break;
		}
		year = atoi(s);
		if (year < CAL_FIRST_YEAR || year > CAL_LAST_YEAR) {
			rc = fail(ld, "year %d is outside the supported %d..%d", year,
				  CAL_FIRST_YEAR, CAL_LAST_YEAR);
			break;
		}
		rc = load_file(ld, c, year);
	}
	ld->path = dir;
	free(path);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static void finish(struct cal *c)
{
	size_t ns = 0;

	c->pre_off = cm_xmalloc(((size_t)c->ndays + 1) * sizeof(int32_t));
	c->pre_wkend = cm_xmalloc(((size_t)c->ndays + 1) * sizeof(int32_t));
	c->pre_mk = cm_xmalloc(((size_t)c->ndays + 1) * sizeof(int32_t));
	c->pre_off[0] = c->pre_wkend[0] = c->pre_mk[0] = 0;
	for (int32_t i = 0; i < c->ndays; i++) {
		uint8_t f = c->flags[i];

		c->pre_off[i + 1] = c->pre_off[i] + ((f & DF_OFF) ? 1 : 0);
		c->pre_wkend[i + 1] = c->pre_wkend[i] + ((f & DF_WEEKEND) ? 1 : 0);
		c->pre_mk[i + 1] = c->pre_mk[i] + ((f & DF_MAKEUP) ? 1 : 0);
		if (f & (DF_OFF | DF_MAKEUP))
			ns++;
	}
	c->spec = cm_xcalloc(ns ? ns : 1, sizeof(*c->spec));
	for (int32_t i = 0; i < c->ndays; i++) {
		if (!(c->flags[i] & (DF_OFF | DF_MAKEUP)))
			continue;
		c->spec[c->nspec].idx = i;
		c->spec[c->nspec].name = c->name[i];
		c->spec[c->nspec].kind = (uint8_t)((c->flags[i] & DF_KIND_MASK) >> DF_KIND_SHIFT);
		c->nspec++;
	}
}

int cal_load(const char *dir, const struct cal_options *opt, struct cal **out, char *err,
	     size_t errlen)
{
	struct cal_options def;
	struct loader ld = {.path = dir ? dir : "(no directory)", .err = err, .errlen = errlen};
	struct cal *c = NULL;
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!opt) {
		cal_options_default(&def);
		opt = &def;
	}
	if (opt->tet_days_before < 0 || opt->tet_days_before > 4 ||
	    (opt->national_day_extra != -1 && opt->national_day_extra != 1)) {
		fail(&ld, "options: tet_days_before must be 0..4 and national_day_extra -1 or 1");
		return -EINVAL;
	}

	ld.opt = opt;
	if (opt->flags)
		while (opt->flags[ld.nflags])
			ld.nflags++;
	ld.flag_used = cm_xcalloc(ld.nflags ? ld.nflags : 1, sizeof(bool));

	c = cal_alloc();
	if (dir) {
		rc = load_dir(dir, c, &ld);
		if (rc)
			goto err;
	}
	for (size_t i = 0; i < ld.nflags; i++) {
		if (!ld.flag_used[i]) {
			rc = fail(&ld, "option flag \"%.64s\" matches no entry in any year file",
				  opt->flags[i]);
			goto err;
		}
	}
	/* Deriving after the files lets derive_year see no file days, and costs
	 * a few dozen new-moon evaluations per year: well under a millisecond. */
	for (int y = CAL_FIRST_YEAR; y <= CAL_LAST_YEAR; y++)
		if (!c->from_file[y - CAL_FIRST_YEAR])
			derive_year(c, y, opt);
	finish(c);
	free(ld.flag_used);
	*out = c;
	return 0;
err:
	free(ld.flag_used);
	cal_free(&c);
	return rc;
}

int cal_reload(struct cal **cal, const char *dir, const struct cal_options *opt, char *err,
	       size_t errlen)
{
	struct cal *fresh = NULL;
	int rc = cal_load(dir, opt, &fresh, err, errlen);

	if (rc)
		return rc;
	cal_free(cal);
	*cal = fresh;
	return 0;
}


static bool flags_ok(unsigned flags)
{
	return (flags & ~CAL_F_IGNORE_MAKEUP) == 0;
}

static bool counts_makeup(unsigned flags)
{
	return !(flags & CAL_F_IGNORE_MAKEUP);
}

/* Working days in [0, i). */
static int32_t worked(const struct cal *c, int32_t i, bool mk)
{
	return i - c->pre_off[i] - c->pre_wkend[i] + (mk ? c->pre_mk[i] : 0);
}

static bool working_idx(const struct cal *c, int32_t i, bool mk)
{
	uint8_t f = c->flags[i];

	if (f & DF_OFF)
		return false;
	return !(f & DF_WEEKEND) || (mk && (f & DF_MAKEUP));
}

/* Smallest i in [lo, ndays] with worked(i) >= target; ndays + 1 if none. */
static int32_t first_reaching(const struct cal *c, int32_t lo, int32_t target, bool mk)
{
	int32_t hi = c->ndays + 1;

	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;

		if (worked(c, mid, mk) >= target)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int to_idx(const struct cal *c, cm_day_t day, int32_t *idx)
{
	int64_t i = (int64_t)day - c->base;

	if (i < 0 || i >= c->ndays)
		return -ERANGE;
	*idx = (int32_t)i;
	return 0;
}

bool cal_is_working_day(const struct cal *cal, cm_day_t day, unsigned flags)
{
	int32_t i;

	if (to_idx(cal, day, &i))
		return false;
	return working_idx(cal, i, counts_makeup(flags));
}

int cal_day_info(const struct cal *cal, cm_day_t day, unsigned flags, struct cal_day *out)
{
	int32_t i;

	if (!flags_ok(flags))
		return -EINVAL;
	if (to_idx(cal, day, &i))
		return -ERANGE;
	out->weekday = cm_day_weekday(day);
	out->working = working_idx(cal, i, counts_makeup(flags));
	out->kind = (enum cal_kind)((cal->flags[i] & DF_KIND_MASK) >> DF_KIND_SHIFT);
	out->name = cal->name[i] ? cal->names[cal->name[i]] : NULL;
	out->derived = !cal->from_file[year_of(day) - CAL_FIRST_YEAR];
	return 0;
}

int cal_year_from_file(const struct cal *cal, int year)
{
	if (year < CAL_FIRST_YEAR || year > CAL_LAST_YEAR)
		return -ERANGE;
	return cal->from_file[year - CAL_FIRST_YEAR] ? 1 : 0;
}

static void explain_years(const struct cal *c, struct cal_explain *ex, cm_day_t a, cm_day_t b)
{
	int ya = year_of(a), yb = year_of(b);

	ex->n_years = 0;
	ex->years_truncated = false;
	for (int y = ya; y <= yb; y++) {
		if (ex->n_years == CAL_EXPLAIN_MAX_YEARS) {
			ex->years_truncated = true;
			break;
		}
		ex->years[ex->n_years].year = y;
		ex->years[ex->n_years].derived = !c->from_file[y - CAL_FIRST_YEAR];
		ex->n_years++;
	}
}

/* Fill the skipped counts and the special-day list for day indexes [a, b). */
static void explain_span(const struct cal *c, struct cal_explain *ex, int32_t a, int32_t b,
			 bool mk)
{
	size_t lo = 0, hi = c->nspec;
	int32_t makeups = c->pre_mk[b] - c->pre_mk[a];

	ex->holidays_skipped = c->pre_off[b] - c->pre_off[a];
	ex->weekend_days_skipped = c->pre_wkend[b] - c->pre_wkend[a] - (mk ? makeups : 0);
	ex->makeup_counted_days = mk ? makeups : 0;
	ex->n_days = 0;
	ex->days_truncated = false;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->spec[mid].idx < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < c->nspec && c->spec[i].idx < b; i++) {
		if (ex->n_days == CAL_EXPLAIN_MAX_DAYS) {
			ex->days_truncated = true;
			break;
		}
		ex->days[ex->n_days].day = c->base + c->spec[i].idx;
		ex->days[ex->n_days].kind = (enum cal_kind)c->spec[i].kind;
		ex->days[ex->n_days].name = c->names[c->spec[i].name];
		ex->n_days++;
	}
}

static void explain_start(struct cal_explain *ex, bool wd, bool back, bool mk, cm_day_t from,
			  int n)
{
	memset(ex, 0, sizeof(*ex));
	ex->working_days = wd;
	ex->backwards = back;
	ex->makeup_counted = mk;
	ex->from = from;
	ex->n = n;
}

int cal_add_working_days(const struct cal *cal, cm_day_t trigger, int n, unsigned flags,
			 cm_day_t *due, struct cal_explain *ex)
{
	bool mk = counts_makeup(flags);
	int32_t t, target, j;

	if (n < 0 || !flags_ok(flags))
		return -EINVAL;
	if (to_idx(cal, trigger, &t))
		return -ERANGE;
	if (n == 0) {
		j = t + 1;
	} else {
		/* Day 0 is not counted: the n-th working day among t+1, t+2, ... */
		target = worked(cal, t + 1, mk) + n;
		if (target > worked(cal, cal->ndays, mk))
			return -ERANGE;
		j = first_reaching(cal, t + 1, target, mk);
	}
	*due = cal->base + j - 1;
	if (ex) {
		explain_start(ex, true, false, mk, trigger, n);
		ex->to = *due;
		explain_span(cal, ex, t + 1, j, mk);
		explain_years(cal, ex, trigger, *due);
	}
	return 0;
}

int cal_add_calendar_days(const struct cal *cal, cm_day_t trigger, int n, unsigned flags,
			  cm_day_t *due, struct cal_explain *ex)
{
	bool mk = counts_makeup(flags);
	int32_t t, last, j;

	if (n < 0 || !flags_ok(flags))
		return -EINVAL;
	if (to_idx(cal, trigger, &t))
		return -ERANGE;
	if ((int64_t)t + n >= cal->ndays)
		return -ERANGE;
	last = t + n;
	j = last;
	if (!working_idx(cal, last, mk)) {
		int32_t target = worked(cal, last, mk) + 1;

		if (target > worked(cal, cal->ndays, mk))
			return -ERANGE;
		j = first_reaching(cal, last, target, mk) - 1;
	}
	*due = cal->base + j;
	if (ex) {
		explain_start(ex, false, false, mk, trigger, n);
		ex->to = *due;
		ex->rolled = j != last;
		if (ex->rolled) {
			ex->roll_from = cal->base + last;
			ex->roll_to = *due;
		}
		explain_span(cal, ex, last, j, mk);
		explain_years(cal, ex, trigger, *due);
	}
	return 0;
}

int cal_sub_working_days(const struct cal *cal, cm_day_t day, int n, unsigned flags,
			 cm_day_t *out, struct cal_explain *ex)
{
	bool mk = counts_makeup(flags);
	int32_t d, s;

	if (n < 0 || !flags_ok(flags))
		return -EINVAL;
	if (to_idx(cal, day, &d))
		return -ERANGE;
	if (n == 0) {
		s = d;
	} else {
		int32_t base_count = worked(cal, d, mk) - n;

		if (base_count < 0)
			return -ERANGE;
		/* The working day whose own count brings [0, s] to base_count + 1. */
		s = first_reaching(cal, 0, base_count + 1, mk) - 1;
	}
	*out = cal->base + s;
	if (ex) {
		explain_start(ex, true, true, mk, day, n);
		ex->to = *out;
		explain_span(cal, ex, s, d, mk);
		explain_years(cal, ex, *out, day);
	}
	return 0;
}

int cal_count_working_days(const struct cal *cal, cm_day_t from, cm_day_t to, unsigned flags,
			   int *count)
{
	bool mk = counts_makeup(flags);
	int32_t a, b;

	if (!flags_ok(flags))
		return -EINVAL;
	if (to_idx(cal, from, &a) || to_idx(cal, to, &b))
		return -ERANGE;
	*count = worked(cal, b + 1, mk) - worked(cal, a + 1, mk);
	return 0;
}

int cal_next_working_day(const struct cal *cal, cm_day_t day, unsigned flags, cm_day_t *out)
{
	bool mk = counts_makeup(flags);
	int32_t d, target;

	if (!flags_ok(flags))
		return -EINVAL;
	if (to_idx(cal, day, &d))
		return -ERANGE;
	target = worked(cal, d, mk) + 1;
	if (target > worked(cal, cal->ndays, mk))
		return -ERANGE;
	*out = cal->base + first_reaching(cal, d, target, mk) - 1;
	return 0;
}


struct sbuf {
	char *buf;
	size_t len;
	size_t need;
};

static void sb_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char *dst = NULL;
	size_t room = 0;
	int n;

	if (sb->need < sb->len) {
		dst = sb->buf + sb->need;
		room = sb->len - sb->need;
	}
	va_start(ap, fmt);
	n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb->need += (size_t)n;
}

static void sb_day(struct sbuf *sb, cm_day_t day)
{
	int y, m, d;

	cm_day_to_ymd(day, &y, &m, &d);
	sb_printf(sb, "%04d-%02d-%02d", y, m, d);
}

static const char *const kind_label[] = {
	[CAL_KIND_NONE] = "",
	[CAL_KIND_HOLIDAY] = "holiday",
	[CAL_KIND_COMPENSATORY] = "compensatory day off",
	[CAL_KIND_SWAP] = "swapped day off",
	[CAL_KIND_MAKEUP] = "make-up Saturday",
};

static void sb_skipped(struct sbuf *sb, const struct cal_explain *ex)
{
	sb_printf(sb, "%d weekend day%s and %d day%s off skipped", ex->weekend_days_skipped,
		  ex->weekend_days_skipped == 1 ? "" : "s", ex->holidays_skipped,
		  ex->holidays_skipped == 1 ? "" : "s");
	if (ex->makeup_counted_days)
		sb_printf(sb, ", %d make-up Saturday%s counted", ex->makeup_counted_days,
			  ex->makeup_counted_days == 1 ? "" : "s");
	for (size_t i = 0; i < ex->n_days; i++) {
		sb_printf(sb, "%s", i == 0 ? " (" : "; ");
		sb_day(sb, ex->days[i].day);
		sb_printf(sb, " %s: %s", kind_label[ex->days[i].kind], ex->days[i].name);
	}
	if (ex->n_days)
		sb_printf(sb, "%s)", ex->days_truncated ? "; ..." : "");
}

size_t cal_explain_format(const struct cal_explain *ex, char *buf, size_t len)
{
	struct sbuf sb = {.buf = buf, .len = len, .need = 0};

	if (buf && len)
		buf[0] = '\0';
	if (ex->working_days && ex->backwards) {
		sb_printf(&sb, "%d working day%s before ", ex->n, ex->n == 1 ? "" : "s");
		sb_day(&sb, ex->from);
		sb_printf(&sb, ": ");
		sb_day(&sb, ex->to);
		sb_printf(&sb, "; ");
		sb_skipped(&sb, ex);
	} else if (ex->working_days) {
		sb_printf(&sb, "%d working day%s after ", ex->n, ex->n == 1 ? "" : "s");
		sb_day(&sb, ex->from);
		sb_printf(&sb, " (day 0, not counted): due ");
		sb_day(&sb, ex->to);
		sb_printf(&sb, "; ");
		sb_skipped(&sb, ex);
	} else {
		sb_printf(&sb, "%d calendar day%s after ", ex->n, ex->n == 1 ? "" : "s");
		sb_day(&sb, ex->from);
		sb_printf(&sb, " (day 0, not counted): due ");
		sb_day(&sb, ex->to);
		if (ex->rolled) {
			sb_printf(&sb, "; ");
			sb_day(&sb, ex->roll_from);
			sb_printf(&sb, " is not a working day, moved to the next working day (BLDS "
				  "Điều 148); ");
			sb_skipped(&sb, ex);
		}
	}
	if (!ex->makeup_counted)
		sb_printf(&sb, "; make-up Saturdays not counted as working days");
	sb_printf(&sb, "; calendar ");
	for (size_t i = 0; i < ex->n_years; i++)
		sb_printf(&sb, "%s%d %s", i ? ", " : "", ex->years[i].year,
			  ex->years[i].derived ? "derived (no file)" : "from file");
	if (ex->years_truncated)
		sb_printf(&sb, ", ...");
	return sb.need;
}

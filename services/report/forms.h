/*
 * forms.h - report forms as data (data/forms/<set>.json, format in
 * docs/REPORTS.md §forms).
 *
 * A form set is one circular's forms (TT 01/2024, TT 06/2025 ...): its period
 * table, its grouping of content fields (lĩnh vực) into the forms' headings,
 * and its forms. A form is a title and columns; a column is a number as
 * printed on the form, a title, the headings above it, and an expression over
 * indicators (indicators.h):
 *
 *     value = '0' | term { ('+' | '-') term }
 *     term  = mode '(' indicator [ '@' [ '!' ] group { ',' group } ] ')'
 *     mode  = range   the period [from, to]
 *           | before  everything before from (what was carried over)
 *           | upto    everything up to and including to
 *
 * "@g" keeps only the field codes of group g ("-" is "no field"), "@!g1,g2"
 * every field except theirs (the "other" columns). On the handled
 * indicators (xld.*.handled*) "@carried" and "@new" split by whether the
 * petition was received before the period. Carried over is therefore
 * "before(xld.don.kn.recv) - before(xld.don.kn.handled)". "0" is a column no
 * event feeds yet.
 *
 * Loading validates everything and refuses the whole directory on the first
 * problem, naming file, form and column. Loaded sets are immutable; a reload
 * builds new ones and the caller swaps pointers.
 */
#ifndef REPORT_FORMS_H
#define REPORT_FORMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "periods.h"

enum report_term_mode { RFM_RANGE = 0, RFM_BEFORE, RFM_UPTO };
enum report_field_sel { RFS_ALL = 0, RFS_ONLY, RFS_EXCEPT };

struct report_term {
	int sign;			/* +1 or -1 */
	enum report_term_mode mode;
	uint16_t ind;
	enum report_field_sel fsel;
	char **fields;			/* field codes (resolved to dims when queried) */
	size_t nfields;
};

/* A cell is an integer count, or a double after dividing by scale (money in
 * million VND: scale 1e6; land in m²: scale 100). */
struct report_column {
	char *number;		/* "1", "2" ... as printed */
	char *title;
	char *group;		/* headings above, outermost first, joined by " | " */
	char *expr;		/* the expression as written */
	bool is_double;
	double scale;
	struct report_term *terms;
	size_t nterms;
};

struct report_form {
	char *code;		/* "01/XLD" */
	char *title;		/* "TỔNG HỢP KẾT QUẢ XỬ LÝ ĐƠN" */
	char *basis;		/* "Biểu số 01/XLD, TT 01/2024/TT-TTCP" */
	char *note;
	struct report_column *cols;
	size_t ncols;
};

struct report_formset {
	char *id;		/* "tt01-2024" */
	char *title;
	char *effective_from;	/* YYYY-MM-DD */
	char *source;
	bool provisional;	/* columns not checked against the official text */
	struct report_periods periods;
	struct report_form *forms;
	size_t nforms;
};

struct report_forms {
	struct report_formset *sets;	/* ordered by file name */
	size_t nsets;
	char version[17];		/* hex digest of the files' bytes */
};

/** Load every .json file in dir. Caller owns *out; free with report_forms_free().
 * err (may be NULL) gets "tt01-2024.json: form 01/XLD column 6: unknown
 * indicator \"xld.don.kn.elg\"". Errors: -ENOENT/-EACCES (the directory),
 * CM_ECONFIG (content; also an empty directory or a set id used twice). */
int report_forms_load(const char *dir, struct report_forms **out, char *err, size_t errlen);

/** Parse one form-set document (the text of one file); name is used in
 * messages. Errors: CM_ECONFIG. */
int report_formset_parse(const char *text, size_t len, const char *name,
			 struct report_formset *out, char *err, size_t errlen);
void report_formset_clear(struct report_formset *s);

void report_forms_free(struct report_forms **f);

/** Find a form by code ("01/XLD") or qualified code ("tt06-2025:01/TCD").
 * An unqualified code prefers the first non-provisional set that has it.
 * Returns the form (borrowed) and its set in *set, or NULL. */
const struct report_form *report_forms_find(const struct report_forms *f, const char *code,
					    const struct report_formset **set);

/** Parse an expression (exposed for tests). groups: NULL-terminated pairs
 * {name, "code;code;..."} or NULL. Errors: CM_EINVALID, with why set. */
int report_expr_parse(const char *expr, const char *const *groups, struct report_term **terms,
		      size_t *nterms, const char **why);
void report_terms_free(struct report_term *t, size_t n);

#endif

/*
 * query.h - answering ReportQuery, CaseListQuery and CaseHistoryQuery from the
 * read models, inside a read transaction.
 *
 * A report for agency A over [from, to]: every agency that has counters is
 * resolved to its successor active on `to` (cm_register_resolve: merged
 * provinces and communes count under the unit that absorbed them) and
 * summed into the row of A, or with include_subunits into the row of the
 * agency under A it resolves to; a total row follows. Sums are read from
 * month rows and, at the ends of the period, day rows (schema.h), so the
 * cost is a few dozen rows per agency whatever the period.
 *
 * The form "mass" is the working list of mass, complex and prolonged cases
 * (vụ việc đông người, phức tạp, kéo dài): one row per case meeting a
 * criterion, naming the criteria met (report_mass_criteria).
 *
 * Bad input (unknown form or agency, bad period) is answered in the reply's
 * ErrorDetail; only store failures are returned as errors.
 */
#ifndef REPORT_QUERY_H
#define REPORT_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/register.h"
#include "common/store.h"
#include "forms.h"
#include "model.h"

/* Thresholds of the mass / complex / prolonged list (config mass_*). */
struct report_mass_cfg {
	uint32_t signers;	/* many signers: at least this many (default 5) */
	uint32_t repeats;	/* repeated: at least this many repeat petitions (2) */
	uint32_t open_months;	/* prolonged: still open this many months after receipt (6) */
	uint32_t transfers;	/* passed between agencies at least this often (3) */
	const char *const *central;	/* agency codes or "PREFIX*" counted as central bodies */
	size_t ncentral;
};

#define REPORT_MASS_ROWS_MAX 2000
#define REPORT_CASES_LIMIT_MAX 1000

struct report_qctx {
	const struct cm_register *reg;	/* may be NULL: no roll-up, rows are codes */
	const struct report_forms *forms;
	const struct report_mass_cfg *mass;
	cm_day_t today;			/* "now" for open-beyond-M-months when no period */
};

/** Criteria case c meets as of day asof: writes up to 8 static names
 * ("many_signers", "delegation", "repeated", "prolonged",
 * "recomplaint_after_r2", "sent_central", "transfer_loop") into names and
 * returns how many. */
size_t report_mass_criteria(const struct report_qctx *x, const struct report_case *c,
			    cm_day_t asof, const char *names[8]);

/** Build the reply for q. Caller frees *out with
 * donthu__v1__report_reply__free_unpacked(*out, NULL). Errors: store errors
 * (CM_ECORRUPT for a row that does not decode); *out is NULL then. */
int report_query_report(struct cm_txn *t, const struct report_qctx *x,
			const Donthu__V1__ReportQuery *q, Donthu__V1__ReportReply **out);

/** Case list in case-number order after q->after_case, at most q->limit
 * (default 100, at most REPORT_CASES_LIMIT_MAX). Caller frees *out with
 * donthu__v1__case_list_reply__free_unpacked. Errors: store errors. */
int report_query_cases(struct cm_txn *t, const struct report_qctx *x,
		       const Donthu__V1__CaseListQuery *q, Donthu__V1__CaseListReply **out);

/** Summary and every stored event of a case, oldest first (by the time each
 * event occurred, then producer and sequence). Caller frees *out with
 * donthu__v1__case_history_reply__free_unpacked. Errors: store errors. */
int report_query_history(struct cm_txn *t, const struct report_qctx *x, const char *case_number,
			 Donthu__V1__CaseHistoryReply **out);

/** Resolve the query's period (period name or from/to) with the form set's
 * table. Returns 0 or CM_EINVALID with *why set. */
int report_query_period(const struct report_periods *p, const Donthu__V1__ReportQuery *q,
			cm_day_t *from, cm_day_t *to, const char **why);

#endif

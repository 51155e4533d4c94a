/*
 * report.c - `donthu report FORM --agency CODE --period P`: ask the report
 * service for a statistical form and print it as a terminal table, CSV,
 * JSON or XLSX. The file formats are the report service's own exporters
 * (services/report/export.h) when this build has them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/mem.h"

#ifdef DONTHU_HAVE_REPORT_EXPORT
#include "export.h"
#endif

static const struct cli_opt report_opts[] = {
	{"agency", 'a', OPT_VALUE, "CODE", "the reporting agency (required)"},
	{"period", 'p', OPT_VALUE, "P",
	 "2026-Q1..Q4, 2026-6M, 2026-9M, 2026-Y, 2026-07 or FROM..TO as "
	 "2026-01-01..2026-06-30 (required)"},
	{"subunits", 0, OPT_FLAG, NULL, "include the agency's subordinate bodies"},
	{"csv", 0, OPT_FLAG, NULL, "CSV on stdout (UTF-8 with BOM, CRLF)"},
	{"json", 0, OPT_FLAG, NULL, "the ReportReply as JSON on stdout"},
	{"xlsx", 0, OPT_VALUE, "FILE", "write an Excel workbook to FILE"},
	{"layout", 0, OPT_VALUE, "L",
	 "terminal layout: wide (a column per form column), tall (a line per form column) or "
	 "auto (tall when wide does not fit the terminal; default)"},
	{NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd report_cmd = {
	.name = "report",
	.synopsis = "FORM --agency CODE --period P [--csv|--json|--xlsx FILE]",
	.about = "A statistical form (01/TCD, 01/XLD, ... see docs/REPORTS.md; a form of\n"
		 "another set as tt06-2025:01/XLD) for an agency and a period, computed by the\n"
		 "report service. Printed as a table with the form's column numbers and titles,\n"
		 "or exported.",
	.opts = report_opts,
	.exits = "0 printed; 1 the service refused the query or a file could not be written;\n"
		 "2 usage; 3 the report service did not answer; 4 unknown form or agency.",
};

static void cell_text(const Donthu__V1__ReportCell *c, char *buf, size_t n)
{
	if (!c) {
		buf[0] = '\0';
		return;
	}
	switch (c->v_case) {
	case DONTHU__V1__REPORT_CELL__V_I:
		snprintf(buf, n, "%" PRId64, c->i);
		break;
	case DONTHU__V1__REPORT_CELL__V_D: {
		char *p;

		snprintf(buf, n, "%.2f", c->d);
		/* 12.50 -> 12.5, 3.00 -> 3: the terminal table is for reading. */
		p = buf + strlen(buf) - 1;
		while (p > buf && *p == '0')
			*p-- = '\0';
		if (*p == '.')
			*p = '\0';
		break;
	}
	case DONTHU__V1__REPORT_CELL__V_S:
		snprintf(buf, n, "%s", c->s);
		break;
	default:
		buf[0] = '\0';
	}
}

static size_t term_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (cols && atoi(cols) > 0)
		return (size_t)atoi(cols);
	return 120;
}

static void header(const Donthu__V1__ReportReply *r)
{
	printf("%s%s%s\n", r->form, *r->title ? " — " : "", r->title);
	printf("agency %s, %s .. %s%s%s\n\n", r->agency, r->from_date, r->to_date,
	       *r->form_version ? ", form version " : "", r->form_version);
}

static void fill_wide(const Donthu__V1__ReportReply *r, struct cli_table *t)
{
	size_t nc = r->n_columns + 1;
	const char **cells = cm_xcalloc(nc, sizeof(char *));
	char **own = cm_xcalloc(nc, sizeof(char *));

	cli_table_init(t, nc < 64 ? nc : 64);
	nc = t->ncols;
	cells[0] = "";
	for (size_t i = 1; i < nc; i++) {
		own[i] = cm_xasprintf("(%s)", r->columns[i - 1]->number);
		cells[i] = own[i];
		t->right[i] = true;
	}
	cli_table_row(t, cells);
	for (size_t k = 0; k < r->n_rows; k++) {
		const Donthu__V1__ReportRow *row = r->rows[k];

		for (size_t i = 1; i < nc; i++) {
			char buf[256];

			free(own[i]);
			cell_text(i - 1 < row->n_cells ? row->cells[i - 1] : NULL, buf, sizeof(buf));
			own[i] = cm_xstrdup(buf);
			cells[i] = own[i];
		}
		free(own[0]);
		own[0] = *row->agency && strcmp(row->agency, row->label) != 0
				 ? cm_xasprintf("%s (%s)", row->label, row->agency)
				 : cm_xstrdup(row->label);
		cells[0] = own[0];
		cli_table_row(t, cells);
	}
	for (size_t i = 0; i < nc; i++)
		free(own[i]);
	free(own);
	free(cells);
}

static char *column_title(const Donthu__V1__ReportColumn *c)
{
	return *c->group ? cm_xasprintf("%s | %s", c->group, c->title) : cm_xstrdup(c->title);
}

static void legend(const Donthu__V1__ReportReply *r)
{
	printf("\ncolumns:\n");
	for (size_t i = 0; i < r->n_columns; i++) {
		char *title = column_title(r->columns[i]);

		printf("  (%s) %s\n", r->columns[i]->number, title);
		free(title);
	}
}

static void print_wide(const Donthu__V1__ReportReply *r, const struct cli_table *t)
{
	header(r);
	cli_table_print(t, stdout);
	legend(r);
}

/* A row's heading in the tall layout: its agency code, but the total's own
 * label, since the total carries the reporting agency's code too and would
 * otherwise look like a second copy of that agency's row. */
static const char *tall_heading(const Donthu__V1__ReportRow *row)
{
	return *row->agency && !row->total ? row->agency : row->label;
}

/* One line per form column, one value column per row of the report (the
 * forms are far wider than a terminal). When the rows do not fit side by
 * side they are printed in blocks, each as wide as the terminal. */
static void print_tall(const Donthu__V1__ReportReply *r, size_t width)
{
	size_t title_w = 40, k0 = 0;

	header(r);
	while (k0 < r->n_rows || (k0 == 0 && r->n_rows == 0)) {
		size_t used = 6 + title_w + 2, k1 = k0, nc;
		struct cli_table t;
		const char **cells;
		char **own;

		/* Take rows while they fit; always at least one. */
		while (k1 < r->n_rows) {
			const Donthu__V1__ReportRow *row = r->rows[k1];
			size_t w = cli_width(tall_heading(row));

			for (size_t i = 0; i < row->n_cells; i++) {
				char buf[256];

				cell_text(row->cells[i], buf, sizeof(buf));
				w = cli_width(buf) > w ? cli_width(buf) : w;
			}
			if (k1 > k0 && (used + w + 2 > width || k1 - k0 >= 60))
				break;
			used += w + 2;
			k1++;
		}
		nc = k1 - k0 + 2;
		cells = cm_xcalloc(nc, sizeof(char *));
		own = cm_xcalloc(nc, sizeof(char *));
		cli_table_init(&t, nc);
		cells[0] = "no.";
		cells[1] = "column";
		for (size_t k = k0; k < k1; k++) {
			const Donthu__V1__ReportRow *row = r->rows[k];

			cells[k - k0 + 2] = tall_heading(row);
			t.right[k - k0 + 2] = true;
		}
		cli_table_row(&t, cells);
		for (size_t i = 0; i < r->n_columns; i++) {
			char *title = column_title(r->columns[i]);

			own[0] = cm_xasprintf("(%s)", r->columns[i]->number);
			own[1] = cli_ellipsize(title, title_w);
			free(title);
			for (size_t k = k0; k < k1; k++) {
				char buf[256];
				const Donthu__V1__ReportRow *row = r->rows[k];

				cell_text(i < row->n_cells ? row->cells[i] : NULL, buf, sizeof(buf));
				own[k - k0 + 2] = cm_xstrdup(buf);
			}
			for (size_t k = 0; k < nc; k++)
				cells[k] = own[k];
			cli_table_row(&t, cells);
			for (size_t k = 0; k < nc; k++) {
				free(own[k]);
				own[k] = NULL;
			}
		}
		if (k0 > 0)
			putchar('\n');
		cli_table_print(&t, stdout);
		cli_table_free(&t);
		free(own);
		free(cells);
		if (k1 == k0)
			break;
		k0 = k1;
	}
	printf("\nrows:\n");
	for (size_t k = 0; k < r->n_rows; k++)
		printf("  %-12s %s%s\n", *r->rows[k]->agency ? r->rows[k]->agency : "-",
		       r->rows[k]->label, r->rows[k]->total ? " (total)" : "");
	legend(r);
}

#ifndef DONTHU_HAVE_REPORT_EXPORT
/* Used only when this build lacks the report service's exporters. */
static void csv_field(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int report_export_csv(const Donthu__V1__ReportReply *r, FILE *f)
{
	fputs("\xEF\xBB\xBF", f);
	csv_field(f, "label");
	fputc(',', f);
	csv_field(f, "agency");
	for (size_t i = 0; i < r->n_columns; i++) {
		char *h = cm_xasprintf("(%s) %s", r->columns[i]->number, r->columns[i]->title);

		fputc(',', f);
		csv_field(f, h);
		free(h);
	}
	fputs("\r\n", f);
	for (size_t k = 0; k < r->n_rows; k++) {
		csv_field(f, r->rows[k]->label);
		fputc(',', f);
		csv_field(f, r->rows[k]->agency);
		for (size_t i = 0; i < r->n_columns; i++) {
			char buf[256];

			cell_text(i < r->rows[k]->n_cells ? r->rows[k]->cells[i] : NULL, buf,
				  sizeof(buf));
			fputc(',', f);
			csv_field(f, buf);
		}
		fputs("\r\n", f);
	}
	return ferror(f) ? -EIO : 0;
}
#endif

int cli_cmd_report(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	struct cli_chan ch = {.ep = &c->report};
	Donthu__V1__ReportQuery q = DONTHU__V1__REPORT_QUERY__INIT;
	Donthu__V1__ReportReply *r;
	cm_env req, *rep = NULL;
	const char *agency, *period, *xlsx, *layout;
	char from[11], to[11];
	bool done, csv, json;
	int rc, outputs;

	if ((rc = cli_parse(&report_cmd, argc, argv, &a, &done)) || done)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(&report_cmd, "give exactly one FORM, e.g. 01/XLD");
	agency = cli_arg(&report_cmd, &a, "agency");
	period = cli_arg(&report_cmd, &a, "period");
	xlsx = cli_arg(&report_cmd, &a, "xlsx");
	csv = cli_arg(&report_cmd, &a, "csv") != NULL;
	json = cli_arg(&report_cmd, &a, "json") != NULL;
	layout = cli_arg(&report_cmd, &a, "layout");
	if (!agency || !*agency)
		return cli_usage_error(&report_cmd, "--agency CODE is required");
	if (!period || !*period)
		return cli_usage_error(&report_cmd, "--period is required (e.g. 2026-Q3)");
	outputs = csv + json + (xlsx != NULL);
	if (outputs > 1)
		return cli_usage_error(&report_cmd, "choose one of --csv, --json, --xlsx");
	if (layout && strcmp(layout, "wide") && strcmp(layout, "tall") && strcmp(layout, "auto"))
		return cli_usage_error(&report_cmd, "--layout is wide, tall or auto");
#ifndef DONTHU_HAVE_REPORT_EXPORT
	if (xlsx) {
		fprintf(stderr, "donthu report: this build has no XLSX exporter (it is built "
				"from services/report); use --csv\n");
		return CLI_USAGE;
	}
#endif
	{
		const char *dots = strstr(period, "..");
		cm_day_t f, t;

		if (dots) {
			snprintf(from, sizeof(from), "%.*s", (int)(dots - period < 10 ? dots - period : 10),
				 period);
			snprintf(to, sizeof(to), "%s", dots + 2);
			if ((size_t)(dots - period) != 10 || strlen(dots + 2) != 10 ||
			    cm_day_parse(from, &f) || cm_day_parse(to, &t) || f > t)
				return cli_usage_error(&report_cmd,
						       "--period FROM..TO wants two dates "
						       "YYYY-MM-DD, the first not after the second "
						       "(got \"%s\")",
						       period);
			q.from_date = from;
			q.to_date = to;
		} else {
			size_t n = strlen(period);
			bool ok = n >= 6 && n <= 12 && period[4] == '-';

			for (size_t i = 0; i < 4 && ok; i++)
				ok = period[i] >= '0' && period[i] <= '9';
			for (size_t i = 5; i < n && ok; i++)
				ok = (period[i] >= '0' && period[i] <= '9') ||
				     (period[i] >= 'A' && period[i] <= 'Z') ||
				     (period[i] >= 'a' && period[i] <= 'z');
			if (!ok)
				return cli_usage_error(&report_cmd,
						       "--period is YYYY-Q1..Q4, YYYY-6M, YYYY-9M, "
						       "YYYY-Y, YYYY-MM or FROM..TO (got \"%s\")",
						       period);
			q.period = (char *)period;
		}
	}
	q.form = (char *)a.pos[0];
	q.agency = (char *)agency;
	q.include_subunits = cli_arg(&report_cmd, &a, "subunits") != NULL;
	cli_env_init(&req);
	req.body_case = DONTHU__V1__ENVELOPE__BODY_REPORT_QUERY;
	req.report_query = &q;
	rc = cli_chan_call(c, &ch, &req, c->timeout_ms * 6, &rep);
	cli_chan_close(&ch);
	if (rc)
		return cli_unreachable(c, &c->report, rc);
	if (cli_control_failed(rep, "report service")) {
		cm_env_free(&rep);
		return CLI_FAILED;
	}
	if (rep->body_case != DONTHU__V1__ENVELOPE__BODY_REPORT_REPLY) {
		fprintf(stderr, "donthu report: the report service answered %s\n",
			cm_env_body_name(rep));
		cm_env_free(&rep);
		return CLI_FAILED;
	}
	r = rep->report_reply;
	if (r->error && *r->error->code) {
		fprintf(stderr, "donthu report: %s %s: %s\n", r->error->code, r->error->field,
			r->error->message);
		rc = strncmp(r->error->code, "unknown_", 8) == 0 ? CLI_NOTFOUND : CLI_FAILED;
		cm_env_free(&rep);
		return rc;
	}
	if (csv) {
		rc = report_export_csv(r, stdout);
	} else if (json) {
#ifdef DONTHU_HAVE_REPORT_EXPORT
		rc = report_export_json(r, stdout);
#else
		cli_print_json(stdout, &r->base);
		rc = 0;
#endif
	} else if (xlsx) {
#ifdef DONTHU_HAVE_REPORT_EXPORT
		rc = report_export_xlsx(r, xlsx);
		if (rc == 0)
			fprintf(stderr, "donthu report: wrote %s\n", xlsx);
#endif
	} else {
		struct cli_table t;
		size_t width = term_width(), tw = 0;
		bool tall;

		fill_wide(r, &t);
		for (size_t i = 0; i < t.ncols && t.nrows; i++) {
			size_t w = 0;

			for (size_t k = 0; k < t.nrows; k++) {
				size_t cw = cli_width(t.cells[k * t.ncols + i]);
				w = cw > w ? cw : w;
			}
			tw += w + 2;
		}
		if (layout && strcmp(layout, "wide") == 0)
			tall = false;
		else if (layout && strcmp(layout, "tall") == 0)
			tall = true;
		else
			tall = tw > width || r->n_columns + 1 > t.ncols;
		if (tall)
			print_tall(r, width);
		else
			print_wide(r, &t);
		cli_table_free(&t);
		rc = 0;
	}
	if (rc) {
		fprintf(stderr, "donthu report: cannot write the %s: %s\n",
			xlsx ? xlsx : "output", cm_strerror(rc));
		rc = CLI_FAILED;
	}
	cm_env_free(&rep);
	return rc;
}

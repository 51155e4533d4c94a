#include "export.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xlsxwriter.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

#define SEP " | "
#define MAX_LEVELS 6

/* The heading levels of a column: its groups, outermost first. */
struct levels {
	char *buf;
	const char *lv[MAX_LEVELS];
	int n;
};

static void split_levels(const char *group, struct levels *l)
{
	char *p;

	l->n = 0;
	l->buf = cm_xstrdup(group ? group : "");
	p = l->buf;
	while (*p && l->n < MAX_LEVELS) {
		char *e = strstr(p, SEP);
		if (e)
			*e = '\0';
		if (*p)
			l->lv[l->n++] = p;
		if (!e)
			break;
		p = e + strlen(SEP);
	}
}

static int depth_of(const Donthu__V1__ReportReply *r, struct levels *lv)
{
	int depth = 0;

	for (size_t c = 0; c < r->n_columns; c++) {
		split_levels(r->columns[c]->group, &lv[c]);
		if (lv[c].n > depth)
			depth = lv[c].n;
	}
	return depth + 1;
}

static void free_levels(struct levels *lv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lv[i].buf);
	free(lv);
}

static void dmy(const char *iso, char out[11])
{
	/* "2026-03-14" -> "14/03/2026", as the forms print dates. */
	if (iso && strlen(iso) == 10)
		snprintf(out, 11, "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
	else
		snprintf(out, 11, "%s", iso ? iso : "");
}

/* --------------------------------------------------------------- CSV --- */

static void csv_field(FILE *f, const char *s)
{
	bool q = strpbrk(s, ",\"\r\n") != NULL;

	if (!q) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void cell_text(const Donthu__V1__ReportCell *c, char *buf, size_t n)
{
	switch (c->v_case) {
	case DONTHU__V1__REPORT_CELL__V_I: snprintf(buf, n, "%lld", (long long)c->i); break;
	case DONTHU__V1__REPORT_CELL__V_D: snprintf(buf, n, "%.2f", c->d); break;
	case DONTHU__V1__REPORT_CELL__V_S: snprintf(buf, n, "%s", c->s ? c->s : ""); break;
	default: buf[0] = '\0'; break;
	}
}

int report_export_csv(const Donthu__V1__ReportReply *r, FILE *f)
{
	struct levels *lv;
	char a[11], b[11], buf[64];
	int depth;
	size_t stt = 0;

	if (!r || !f)
		return -EINVAL;
	lv = cm_xcalloc(r->n_columns + 1, sizeof(*lv));
	depth = depth_of(r, lv);
	fputs("\xEF\xBB\xBF", f);
	csv_field(f, r->title ? r->title : "");
	fputs("\r\n", f);
	fputs("Biểu số,", f);
	csv_field(f, r->form ? r->form : "");
	fputs("\r\nĐơn vị báo cáo,", f);
	csv_field(f, r->agency ? r->agency : "");
	dmy(r->from_date, a);
	dmy(r->to_date, b);
	fprintf(f, "\r\nSố liệu tính từ ngày,%s,đến ngày,%s\r\n", a, b);
	if (r->error && r->error->code && *r->error->code) {
		fputs("Lỗi,", f);
		csv_field(f, r->error->code);
		fputc(',', f);
		csv_field(f, r->error->message ? r->error->message : "");
		fputs("\r\n", f);
	}
	for (int d = 0; d < depth; d++) {
		fputs(d == 0 ? "STT,Đơn vị" : ",", f);
		for (size_t c = 0; c < r->n_columns; c++) {
			/* A column's title sits on the row after its last heading. */
			const char *s = d < lv[c].n ? lv[c].lv[d]
					: d == lv[c].n ? r->columns[c]->title : "";
			fputc(',', f);
			csv_field(f, s ? s : "");
		}
		fputs("\r\n", f);
	}
	fputs("A,B", f);
	for (size_t c = 0; c < r->n_columns; c++) {
		fputc(',', f);
		csv_field(f, r->columns[c]->number ? r->columns[c]->number : "");
	}
	fputs("\r\n", f);
	for (size_t i = 0; i < r->n_rows; i++) {
		const Donthu__V1__ReportRow *row = r->rows[i];
		if (row->total)
			fputs("", f);
		else
			fprintf(f, "%zu", ++stt);
		fputc(',', f);
		csv_field(f, row->label ? row->label : "");
		for (size_t c = 0; c < row->n_cells; c++) {
			cell_text(row->cells[c], buf, sizeof(buf));
			fputc(',', f);
			if (row->cells[c]->v_case == DONTHU__V1__REPORT_CELL__V_S)
				csv_field(f, row->cells[c]->s ? row->cells[c]->s : "");
			else
				fputs(buf, f);
		}
		fputs("\r\n", f);
	}
	free_levels(lv, r->n_columns + 1);
	return ferror(f) ? -EIO : 0;
}

/* -------------------------------------------------------------- JSON --- */

int report_export_json(const Donthu__V1__ReportReply *r, FILE *f)
{
	json_t *o, *cols, *rows;
	int rc;

	if (!r || !f)
		return -EINVAL;
	o = json_object();
	json_object_set_new(o, "form", json_string(r->form ? r->form : ""));
	json_object_set_new(o, "title", json_string(r->title ? r->title : ""));
	json_object_set_new(o, "agency", json_string(r->agency ? r->agency : ""));
	json_object_set_new(o, "from_date", json_string(r->from_date ? r->from_date : ""));
	json_object_set_new(o, "to_date", json_string(r->to_date ? r->to_date : ""));
	json_object_set_new(o, "form_version", json_string(r->form_version ? r->form_version : ""));
	cols = json_array();
	for (size_t c = 0; c < r->n_columns; c++) {
		const Donthu__V1__ReportColumn *col = r->columns[c];
		json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:s}", "number",
						      col->number ? col->number : "", "title",
						      col->title ? col->title : "", "group",
						      col->group ? col->group : "", "indicator",
						      col->indicator ? col->indicator : ""));
	}
	json_object_set_new(o, "columns", cols);
	rows = json_array();
	for (size_t i = 0; i < r->n_rows; i++) {
		const Donthu__V1__ReportRow *row = r->rows[i];
		json_t *cells = json_array(), *jr;
		for (size_t c = 0; c < row->n_cells; c++) {
			const Donthu__V1__ReportCell *cell = row->cells[c];
			json_t *v;
			switch (cell->v_case) {
			case DONTHU__V1__REPORT_CELL__V_I: v = json_integer(cell->i); break;
			case DONTHU__V1__REPORT_CELL__V_D: v = json_real(cell->d); break;
			case DONTHU__V1__REPORT_CELL__V_S: v = json_string(cell->s ? cell->s : ""); break;
			default: v = json_null(); break;
			}
			json_array_append_new(cells, v ? v : json_null());
		}
		jr = json_pack("{s:s, s:s, s:b, s:o}", "label", row->label ? row->label : "",
			       "agency", row->agency ? row->agency : "", "total", row->total,
			       "cells", cells);
		json_array_append_new(rows, jr);
	}
	json_object_set_new(o, "rows", rows);
	if (r->error)
		json_object_set_new(o, "error",
				    json_pack("{s:s, s:s, s:s}", "code",
					      r->error->code ? r->error->code : "", "field",
					      r->error->field ? r->error->field : "", "message",
					      r->error->message ? r->error->message : ""));
	rc = json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (rc == 0)
		fputc('\n', f);
	return rc || ferror(f) ? -EIO : 0;
}

/* -------------------------------------------------------------- XLSX --- */

struct xfmt {
	lxw_format *title, *sub, *head, *num_head, *text, *count, *money, *label, *t_text,
		*t_count, *t_money;
};

static lxw_format *mkfmt(lxw_workbook *wb, bool bold, bool border, bool center, bool wrap,
			 const char *numfmt)
{
	lxw_format *f = workbook_add_format(wb);

	if (bold)
		format_set_bold(f);
	if (border)
		format_set_border(f, LXW_BORDER_THIN);
	if (center) {
		format_set_align(f, LXW_ALIGN_CENTER);
		format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
	}
	if (wrap)
		format_set_text_wrap(f);
	if (numfmt)
		format_set_num_format(f, numfmt);
	format_set_font_name(f, "Times New Roman");
	return f;
}

static void put(lxw_worksheet *ws, int r0, int c0, int r1, int c1, const char *s, lxw_format *f)
{
	if (r0 == r1 && c0 == c1)
		worksheet_write_string(ws, (lxw_row_t)r0, (lxw_col_t)c0, s, f);
	else
		worksheet_merge_range(ws, (lxw_row_t)r0, (lxw_col_t)c0, (lxw_row_t)r1,
				      (lxw_col_t)c1, s, f);
}

/* Whether columns a and b share their headings down to level d. */
static bool same_prefix(const struct levels *a, const struct levels *b, int d)
{
	if (a->n <= d || b->n <= d)
		return false;
	for (int i = 0; i <= d; i++)
		if (strcmp(a->lv[i], b->lv[i]) != 0)
			return false;
	return true;
}

int report_export_xlsx(const Donthu__V1__ReportReply *r, const char *path)
{
	lxw_workbook *wb;
	lxw_worksheet *ws;
	struct xfmt x;
	struct levels *lv;
	int depth, top = 5, last, row;
	char a[11], b[11], *line;
	size_t stt = 0;
	lxw_error err;

	if (!r || !path)
		return -EINVAL;
	wb = workbook_new(path);
	if (!wb) {
		cm_log_error(REPORT, "cannot create %s", path);
		return -EIO;
	}
	ws = workbook_add_worksheet(wb, NULL);
	x.title = mkfmt(wb, true, false, true, true, NULL);
	format_set_font_size(x.title, 14);
	x.sub = mkfmt(wb, false, false, true, false, NULL);
	format_set_italic(x.sub);
	x.head = mkfmt(wb, true, true, true, true, NULL);
	x.num_head = mkfmt(wb, false, true, true, false, NULL);
	format_set_italic(x.num_head);
	x.text = mkfmt(wb, false, true, false, true, NULL);
	x.label = mkfmt(wb, false, true, false, true, NULL);
	x.count = mkfmt(wb, false, true, false, false, "#,##0");
	x.money = mkfmt(wb, false, true, false, false, "#,##0.00");
	x.t_text = mkfmt(wb, true, true, true, false, NULL);
	x.t_count = mkfmt(wb, true, true, false, false, "#,##0");
	x.t_money = mkfmt(wb, true, true, false, false, "#,##0.00");

	lv = cm_xcalloc(r->n_columns + 1, sizeof(*lv));
	depth = depth_of(r, lv);
	last = (int)r->n_columns + 1;
	line = cm_xasprintf("Biểu số: %s", r->form ? r->form : "");
	worksheet_write_string(ws, 0, (lxw_col_t)(last > 1 ? last - 1 : 1), line, x.sub);
	free(line);
	put(ws, 1, 0, 1, last, r->title ? r->title : "", x.title);
	dmy(r->from_date, a);
	dmy(r->to_date, b);
	line = cm_xasprintf("(Số liệu tính từ ngày %s đến ngày %s)", a, b);
	put(ws, 2, 0, 2, last, line, x.sub);
	free(line);
	line = cm_xasprintf("Đơn vị báo cáo: %s", r->agency ? r->agency : "");
	put(ws, 3, 0, 3, last, line, x.sub);
	free(line);

	put(ws, top, 0, top + depth - 1, 0, "STT", x.head);
	put(ws, top, 1, top + depth - 1, 1, "Đơn vị", x.head);
	for (int d = 0; d < depth; d++) {
		for (size_t c = 0; c < r->n_columns;) {
			size_t e = c;
			if (d < lv[c].n) {
				/* A heading spans the run of columns sharing it. */
				while (e + 1 < r->n_columns && same_prefix(&lv[c], &lv[e + 1], d))
					e++;
				put(ws, top + d, (int)c + 2, top + d, (int)e + 2, lv[c].lv[d], x.head);
			} else if (d == lv[c].n) {
				put(ws, top + d, (int)c + 2, top + depth - 1, (int)c + 2,
				    r->columns[c]->title ? r->columns[c]->title : "", x.head);
			}
			c = e + 1;
		}
	}
	row = top + depth;
	worksheet_write_string(ws, (lxw_row_t)row, 0, "A", x.num_head);
	worksheet_write_string(ws, (lxw_row_t)row, 1, "B", x.num_head);
	for (size_t c = 0; c < r->n_columns; c++)
		worksheet_write_string(ws, (lxw_row_t)row, (lxw_col_t)(c + 2),
				       r->columns[c]->number ? r->columns[c]->number : "",
				       x.num_head);
	row++;
	for (size_t i = 0; i < r->n_rows; i++, row++) {
		const Donthu__V1__ReportRow *rr = r->rows[i];
		bool t = rr->total;
		if (t)
			worksheet_write_string(ws, (lxw_row_t)row, 0, "", x.t_text);
		else
			worksheet_write_number(ws, (lxw_row_t)row, 0, (double)++stt, x.count);
		worksheet_write_string(ws, (lxw_row_t)row, 1, rr->label ? rr->label : "",
				       t ? x.t_text : x.label);
		for (size_t c = 0; c < rr->n_cells; c++) {
			const Donthu__V1__ReportCell *cell = rr->cells[c];
			lxw_col_t col = (lxw_col_t)(c + 2);
			switch (cell->v_case) {
			case DONTHU__V1__REPORT_CELL__V_I:
				worksheet_write_number(ws, (lxw_row_t)row, col, (double)cell->i,
						       t ? x.t_count : x.count);
				break;
			case DONTHU__V1__REPORT_CELL__V_D:
				worksheet_write_number(ws, (lxw_row_t)row, col, cell->d,
						       t ? x.t_money : x.money);
				break;
			default:
				worksheet_write_string(ws, (lxw_row_t)row, col,
						       cell->s ? cell->s : "", t ? x.t_text : x.text);
				break;
			}
		}
	}
	worksheet_set_column(ws, 0, 0, 5, NULL);
	worksheet_set_column(ws, 1, 1, 38, NULL);
	if (r->n_columns)
		worksheet_set_column(ws, 2, (lxw_col_t)(r->n_columns + 1), 12, NULL);
	worksheet_freeze_panes(ws, (lxw_row_t)(top + depth + 1), 2);
	worksheet_set_landscape(ws);
	worksheet_fit_to_pages(ws, 1, 0);
	worksheet_repeat_rows(ws, (lxw_row_t)top, (lxw_row_t)(top + depth));
	free_levels(lv, r->n_columns + 1);
	err = workbook_close(wb);
	if (err != LXW_NO_ERROR) {
		cm_log_error(REPORT, "writing %s failed: %s", path, lxw_strerror(err));
		return -EIO;
	}
	return 0;
}

int report_format_parse(const char *s)
{
	if (!s)
		return 0;
	if (strcasecmp(s, "csv") == 0)
		return REPORT_FMT_CSV;
	if (strcasecmp(s, "json") == 0)
		return REPORT_FMT_JSON;
	if (strcasecmp(s, "xlsx") == 0)
		return REPORT_FMT_XLSX;
	return 0;
}

int report_export_file(const Donthu__V1__ReportReply *r, const char *path, int fmt)
{
	FILE *f;
	int rc;

	if (!r || !path)
		return -EINVAL;
	if (!fmt) {
		const char *dot = strrchr(path, '.');
		fmt = dot ? report_format_parse(dot + 1) : 0;
	}
	if (fmt == REPORT_FMT_XLSX)
		return report_export_xlsx(r, path);
	if (fmt != REPORT_FMT_CSV && fmt != REPORT_FMT_JSON)
		return -EINVAL;
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	rc = fmt == REPORT_FMT_CSV ? report_export_csv(r, f) : report_export_json(r, f);
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}

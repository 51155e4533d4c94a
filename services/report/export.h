/*
 * export.h - a ReportReply as a spreadsheet-ready file: CSV, JSON or XLSX.
 *
 * These take the reply as it came over the wire, so the CLI can export what
 * it received without the service's forms loaded. The layout follows the
 * official forms (docs/REPORTS.md §exports): title, the period, header rows
 * built from each column's group headings (ReportColumn.group, levels
 * separated by " | ") and title, a row of column numbers, one row per
 * agency, the totals row.
 *
 * CSV is UTF-8 with a byte-order mark (spreadsheet programs otherwise guess a
 * legacy code page and garble Vietnamese), RFC 4180 quoting, CRLF line ends.
 * XLSX is written with libxlsxwriter: merged header cells, numeric cells as
 * numbers, money and land with two decimals, frozen headers.
 *
 * Blocking file I/O: call from a tool or a worker thread, never from a
 * service loop.
 */
#ifndef REPORT_EXPORT_H
#define REPORT_EXPORT_H

#include <stdio.h>

#include "donthu/v1/envelope.pb-c.h"

enum report_format { REPORT_FMT_CSV = 1, REPORT_FMT_JSON, REPORT_FMT_XLSX };

/** Errors: -EIO (write failed), -EINVAL (NULL argument). */
int report_export_csv(const Donthu__V1__ReportReply *r, FILE *out);
/** UTF-8 JSON, the reply's fields by their .proto names, cells as numbers or
 * strings. Errors: -EIO, -EINVAL. */
int report_export_json(const Donthu__V1__ReportReply *r, FILE *out);
/** Errors: -EIO (libxlsxwriter could not create or close the file; the
 * library's reason is logged), -EINVAL. */
int report_export_xlsx(const Donthu__V1__ReportReply *r, const char *path);

/** Write path in fmt, or by its extension (.csv, .json, .xlsx) when fmt is 0.
 * Errors: -EINVAL (unknown extension), -errno opening the file, as above. */
int report_export_file(const Donthu__V1__ReportReply *r, const char *path, int fmt);

/** "csv" -> REPORT_FMT_CSV ...; 0 when unknown. */
int report_format_parse(const char *s);

#endif

/*
 * csv_impl.h - a strict RFC 4180 reader for the project's own data files.
 *
 * Private to libcommon. Accepts UTF-8 only (a leading BOM is skipped, since
 * spreadsheet tools add one), LF or CRLF line ends, quoted cells with ""
 * escapes and embedded line breaks. The first record is the header and must
 * name exactly the columns the caller expects, in order. Blank lines are
 * skipped. Every error message starts with "<name>:<line>:" and names the
 * column, so whoever edits the file can find the cell.
 */
#ifndef CM_CSV_IMPL_H
#define CM_CSV_IMPL_H

#include <stddef.h>

/* Data files are small (the register is a few hundred rows); anything near
 * this is a mistake, not data. */
#define CM_CSV_MAX_BYTES (16u * 1024 * 1024)

struct cm_csv_row {
	unsigned line;		/* 1-based line on which the record starts */
	char **cells;		/* ncols NUL-terminated cells, writable */
};

struct cm_csv {
	const char *name;	/* for messages; borrowed */
	size_t ncols;
	const char *const *header;	/* the expected names; borrowed */
	struct cm_csv_row *rows;	/* data rows, header excluded */
	size_t nrows;
	char *text;		/* decoded cells live here */
	char **cellv;		/* nrows * ncols pointers into text */
};

/** Parse len bytes of data (need not be NUL-terminated). name and header
 * are borrowed and must outlive *out. On success free *out with
 * cm_csv_free(); on error *out is left empty (freeing it is harmless) and
 * err gets "<name>:<line>: column <n> (<column>): <why>".
 * Errors: CM_ECONFIG (malformed, bad UTF-8, NUL byte, header mismatch,
 * wrong number of cells, too large). */
int cm_csv_parse(const char *name, const char *data, size_t len, const char *const *header,
		 size_t ncols, struct cm_csv *out, char *err, size_t errlen);

void cm_csv_free(struct cm_csv *c);

/** Read a whole file and parse it as above. *raw (optional) receives the
 * file's bytes (caller frees) and *rawlen their count, e.g. for hashing.
 * Errors: -errno from open/read (-ENOENT, -EACCES, ...), CM_ECONFIG. */
int cm_csv_read_file(const char *path, const char *name, const char *const *header, size_t ncols,
		     struct cm_csv *out, char **raw, size_t *rawlen, char *err, size_t errlen);

#endif

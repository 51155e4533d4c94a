#include "csv_impl.h"

#include "common/err.h"
#include "common/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void put_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Length of the valid UTF-8 prefix of s[0..n): n when all of it is valid.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid, as
 * RFC 3629 requires; they would otherwise let two spellings of one code
 * compare different. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return i;
		}
		if (n - i <= k)
			return i;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += k + 1;
	}
	return n;
}

void cm_csv_free(struct cm_csv *c)
{
	if (!c)
		return;
	free(c->rows);
	free(c->cellv);
	free(c->text);
	c->rows = NULL;
	c->cellv = NULL;
	c->text = NULL;
	c->nrows = 0;
}

/* Parser state shared by the helpers below. */
struct parse {
	struct cm_csv *out;
	char **cellv;
	size_t ncellv, capcellv;
	size_t *rowstart;	/* index into cellv of each row's first cell */
	unsigned *rowline;
	size_t nrows, caprows;
	char *err;
	size_t errlen;
};

static int cell_err(struct parse *ps, unsigned line, size_t col, const char *why)
{
	const struct cm_csv *c = ps->out;

	if (col >= 1 && col <= c->ncols)
		put_err(ps->err, ps->errlen, "%s:%u: column %s: %s", c->name, line,
			c->header[col - 1], why);
	else
		put_err(ps->err, ps->errlen, "%s:%u: column %zu: %s", c->name, line, col, why);
	return CM_ECONFIG;
}

static void push_cell(struct parse *ps, char *cell)
{
	if (ps->ncellv == ps->capcellv) {
		ps->capcellv = ps->capcellv ? 2 * ps->capcellv : 64;
		ps->cellv = cm_xrealloc(ps->cellv, ps->capcellv * sizeof(*ps->cellv));
	}
	ps->cellv[ps->ncellv++] = cell;
}

static void push_row(struct parse *ps, size_t start, unsigned line)
{
	if (ps->nrows == ps->caprows) {
		ps->caprows = ps->caprows ? 2 * ps->caprows : 32;
		ps->rowstart = cm_xrealloc(ps->rowstart, ps->caprows * sizeof(*ps->rowstart));
		ps->rowline = cm_xrealloc(ps->rowline, ps->caprows * sizeof(*ps->rowline));
	}
	ps->rowstart[ps->nrows] = start;
	ps->rowline[ps->nrows] = line;
	ps->nrows++;
}

static int check_cell(struct parse *ps, const char *cell, size_t n, unsigned line, size_t col)
{
	size_t ok;
	char why[64];

	if (memchr(cell, '\0', n))
		return cell_err(ps, line, col, "NUL byte");
	ok = utf8_valid_prefix((const unsigned char *)cell, n);
	if (ok != n) {
		snprintf(why, sizeof(why), "invalid UTF-8 at byte %zu of the cell", ok + 1);
		return cell_err(ps, line, col, why);
	}
	return 0;
}

static int check_header(struct parse *ps, size_t first, size_t n)
{
	const struct cm_csv *c = ps->out;
	char why[160];

	for (size_t i = 0; i < n && i < c->ncols; i++) {
		if (strcmp(ps->cellv[first + i], c->header[i]) != 0) {
			snprintf(why, sizeof(why), "header is \"%.60s\", expected \"%.60s\"",
				 ps->cellv[first + i], c->header[i]);
			put_err(ps->err, ps->errlen, "%s:1: column %zu: %s", c->name, i + 1, why);
			return CM_ECONFIG;
		}
	}
	if (n < c->ncols)
		return cell_err(ps, 1, n + 1, "missing from the header");
	return 0;
}

int cm_csv_parse(const char *name, const char *data, size_t len, const char *const *header,
		 size_t ncols, struct cm_csv *out, char *err, size_t errlen)
{
	struct parse ps = {.out = out, .err = err, .errlen = errlen};
	size_t p = 0, w = 0;
	unsigned line = 1;
	bool have_header = false;
	char *text = NULL;
	int rc = 0;

	*out = (struct cm_csv){.name = name, .ncols = ncols, .header = header};
	if (len > CM_CSV_MAX_BYTES) {
		put_err(err, errlen, "%s: larger than %u bytes", name, CM_CSV_MAX_BYTES);
		return CM_ECONFIG;
	}
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		p = 3;
	/* Decoded cells never grow: quotes and separators only shrink, and each
	 * separator's byte becomes the NUL of the cell before it; the extra
	 * byte is for the last cell of a file without a final newline. */
	text = cm_xmalloc(len + 1);

	while (p < len) {
		unsigned rec_line = line;
		size_t rec_first = ps.ncellv, ncell = 0;
		bool first_quoted = false;

		for (;;) {
			size_t start = w, col = ncell + 1;
			unsigned cell_line = line;
			bool quoted = false;

			if (ncell == ncols) {
				char why[64];

				snprintf(why, sizeof(why), "unexpected (the header has %zu columns)",
					 ncols);
				rc = cell_err(&ps, rec_line, col, why);
				goto out;
			}
			if (p < len && data[p] == '"') {
				quoted = true;
				p++;
				for (;;) {
					if (p >= len) {
						rc = cell_err(&ps, cell_line, col,
							      "quoted cell never closed");
						goto out;
					}
					if (data[p] == '"') {
						if (p + 1 < len && data[p + 1] == '"') {
							text[w++] = '"';
							p += 2;
							continue;
						}
						p++;
						break;
					}
					if (data[p] == '\n')
						line++;
					text[w++] = data[p++];
				}
				if (p < len && data[p] != ',' && data[p] != '\n' && data[p] != '\r') {
					rc = cell_err(&ps, line, col, "text after the closing quote");
					goto out;
				}
			} else {
				while (p < len && data[p] != ',' && data[p] != '\n' && data[p] != '\r') {
					if (data[p] == '"') {
						rc = cell_err(&ps, line, col,
							      "quote inside an unquoted cell");
						goto out;
					}
					text[w++] = data[p++];
				}
			}
			rc = check_cell(&ps, text + start, w - start, cell_line, col);
			if (rc)
				goto out;
			text[w++] = '\0';
			push_cell(&ps, text + start);
			if (ncell++ == 0)
				first_quoted = quoted;

			if (p >= len)
				break;
			if (data[p] == ',') {
				p++;
				continue;
			}
			if (data[p] == '\r') {
				if (p + 1 >= len || data[p + 1] != '\n') {
					rc = cell_err(&ps, line, col, "carriage return without line feed");
					goto out;
				}
				p++;
			}
			p++;
			line++;
			break;
		}

		if (ncell == 1 && !first_quoted && ps.cellv[rec_first][0] == '\0') {
			ps.ncellv = rec_first;	/* a blank line */
			continue;
		}
		if (!have_header) {
			rc = check_header(&ps, rec_first, ncell);
			if (rc)
				goto out;
			ps.ncellv = rec_first;
			have_header = true;
			continue;
		}
		if (ncell < ncols) {
			char why[80];

			snprintf(why, sizeof(why), "missing (the row has %zu of %zu columns)", ncell,
				 ncols);
			rc = cell_err(&ps, rec_line, ncell + 1, why);
			goto out;
		}
		push_row(&ps, rec_first, rec_line);
	}
	if (!have_header) {
		put_err(err, errlen, "%s:1: no header row", name);
		rc = CM_ECONFIG;
		goto out;
	}

	out->text = text;
	out->cellv = ps.cellv;
	out->nrows = ps.nrows;
	out->rows = ps.nrows ? cm_xcalloc(ps.nrows, sizeof(*out->rows)) : NULL;
	for (size_t i = 0; i < ps.nrows; i++) {
		out->rows[i].line = ps.rowline[i];
		out->rows[i].cells = ps.cellv + ps.rowstart[i];
	}
	text = NULL;
	ps.cellv = NULL;
out:
	free(text);
	free(ps.cellv);
	free(ps.rowstart);
	free(ps.rowline);
	return rc;
}

static int read_all(const char *path, char **buf, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = NULL;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	b = cm_xmalloc(cap);
	for (;;) {
		ssize_t got;

		if (n == cap) {
			/* One byte past the cap tells "too large" from "exactly the cap". */
			if (cap > CM_CSV_MAX_BYTES)
				break;
			cap *= 2;
			b = cm_xrealloc(b, cap);
		}
		got = read(fd, b + n, cap - n);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (rc) {
		free(b);
		return rc;
	}
	*buf = b;
	*len = n;
	return 0;
}

int cm_csv_read_file(const char *path, const char *name, const char *const *header, size_t ncols,
		     struct cm_csv *out, char **raw, size_t *rawlen, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = (struct cm_csv){.name = name, .ncols = ncols, .header = header};
	rc = read_all(path, &buf, &len);
	if (rc) {
		put_err(err, errlen, "%s: %s", path, cm_strerror(rc));
		return rc;
	}
	rc = cm_csv_parse(name, buf, len, header, ncols, out, err, errlen);
	if (rc == 0 && raw) {
		*raw = buf;
		*rawlen = len;
		buf = NULL;
	}
	free(buf);
	return rc;
}

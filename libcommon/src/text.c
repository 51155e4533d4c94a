#include "common/text.h"
#include "common/err.h"
#include "common/mem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Room for "control character U+009F at byte 18446744073709551615". */
static _Thread_local char why_buf[80];

/* utf8proc allocates its own results with malloc and reports exhaustion as
 * an error; the house rule is that running out of memory aborts, so no
 * caller ever has to tell ENOMEM from bad input. */
static void check_nomem(utf8proc_ssize_t rc)
{
	if (rc == UTF8PROC_ERROR_NOMEM)
		cm_require_failed("utf8proc: out of memory", __FILE__, __LINE__);
}

static bool is_control(int32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

int cm_text_check(const char *s, size_t len, unsigned flags, const char **why)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;

	/* utf8proc_iterate takes a signed length; a string this long cannot
	 * come off a socket with a 1 MiB frame cap anyway. */
	if (len > (size_t)PTRDIFF_MAX) {
		if (why)
			*why = "string too long to check";
		return CM_EINVALID;
	}
	while (i < len) {
		int32_t cp;
		utf8proc_ssize_t n;

		/* Printable ASCII is most of every field: skip it without decoding. */
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			i++;
			continue;
		}
		n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);

		if (n < 0) {
			if (why) {
				snprintf(why_buf, sizeof(why_buf), "invalid UTF-8 at byte %zu", i);
				*why = why_buf;
			}
			return CM_EINVALID;
		}
		if (is_control(cp)) {
			bool line = cp == '\n' || cp == '\r' || cp == '\t';

			/* Without CM_TEXT_MULTI_LINE the strict policy applies, so a
			 * caller that forgets the flag errs on the safe side. */
			if (!(line && (flags & CM_TEXT_MULTI_LINE))) {
				if (why) {
					if (cp == 0)
						snprintf(why_buf, sizeof(why_buf), "NUL at byte %zu", i);
					else
						snprintf(why_buf, sizeof(why_buf),
							 "control character U+%04X at byte %zu",
							 (unsigned)cp, i);
					*why = why_buf;
				}
				return -EINVAL;
			}
		}
		i += (size_t)n;
	}
	return 0;
}

/*
 * Code points that are NFC_Quick_Check=Yes, have combining class 0 and are
 * never the second part of a canonical composition: a string made only of
 * these is already NFC whatever their order. The ranges cover ASCII, the Latin
 * blocks that hold every precomposed Vietnamese letter (U+00C0-U+01B0 and
 * Latin Extended Additional U+1E00-U+1EFF), general punctuation without the
 * two singletons U+2000/U+2001, and currency signs (₫). test_text checks each
 * range against utf8proc. Normalising costs ~30x more than this scan, and
 * nearly all Vietnamese text typed on a keyboard is already NFC.
 */
static bool nfc_quick_yes(utf8proc_int32_t cp)
{
	return cp < 0x0300 || (cp >= 0x1e00 && cp <= 0x1eff) || (cp >= 0x2010 && cp <= 0x205f) ||
	       (cp >= 0x20a0 && cp <= 0x20bf);
}

bool cm_text_is_nfc_quick(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;

	while (*p) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		n = utf8proc_iterate(p, -1, &cp);
		if (n <= 0 || !nfc_quick_yes(cp))
			return false;
		p += n;
	}
	return true;
}

int cm_text_nfc(const char *s, char **out)
{
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t rc;

	if (cm_text_is_nfc_quick(s)) {
		*out = cm_xstrdup(s);
		return 0;
	}

	rc = utf8proc_map((const utf8proc_uint8_t *)s, 0, &dst,
			  UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE);
	check_nomem(rc);
	if (rc < 0)
		return CM_EINVALID;
	*out = (char *)dst;
	return 0;
}

size_t cm_text_length(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * Unicode gives đ (U+0111) no decomposition, so stripping marks leaves it
 * alone; Vietnamese readers treat it as a d. Ð/ð (U+00D0/U+00F0, eth) look
 * the same and are typed in its place often enough to fold them too.
 */
static utf8proc_int32_t fold_d(utf8proc_int32_t cp, void *data)
{
	(void)data;
	switch (cp) {
	case 0x0110:
	case 0x0111:
	case 0x00d0:
	case 0x00f0:
		return 'd';
	default:
		return cp;
	}
}

static bool is_separator(int32_t cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_ZS:
	case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP:
	case UTF8PROC_CATEGORY_CC:
	case UTF8PROC_CATEGORY_PC:
	case UTF8PROC_CATEGORY_PD:
	case UTF8PROC_CATEGORY_PS:
	case UTF8PROC_CATEGORY_PE:
	case UTF8PROC_CATEGORY_PI:
	case UTF8PROC_CATEGORY_PF:
	case UTF8PROC_CATEGORY_PO:
		return true;
	default:
		return false;
	}
}

int cm_text_fold(const char *s, char **out)
{
	utf8proc_uint8_t *mapped = NULL;
	utf8proc_ssize_t rc;
	const utf8proc_uint8_t *p;
	char *res, *w;
	bool pending_space = false;

	/* COMPOSE with STRIPMARK decomposes, drops the marks and recomposes:
	 * NFKC of the text without its diacritics, case-folded on the way.
	 * IGNORE drops default-ignorables (soft hyphen, zero-width joiners)
	 * that would otherwise split a word in two or hide inside it. */
	rc = utf8proc_map_custom((const utf8proc_uint8_t *)s, 0, &mapped,
				 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPAT |
					 UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
					 UTF8PROC_STRIPMARK | UTF8PROC_IGNORE,
				 fold_d, NULL);
	check_nomem(rc);
	if (rc < 0)
		return CM_EINVALID;

	/* Collapsing only ever shrinks the text. */
	res = cm_xmalloc((size_t)rc + 1);
	w = res;
	p = mapped;
	while (*p) {
		int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);

		/* utf8proc's own output is valid UTF-8; anything else is a bug
		 * in it, and the result must not be half-built. */
		if (cm_fails_assert(n > 0)) {
			free(mapped);
			free(res);
			return CM_EINVALID;
		}
		if (is_separator(cp)) {
			pending_space = w != res;
		} else {
			if (pending_space)
				*w++ = ' ';
			pending_space = false;
			memcpy(w, p, (size_t)n);
			w += n;
		}
		p += n;
	}
	*w = '\0';
	free(mapped);
	*out = res;
	return 0;
}

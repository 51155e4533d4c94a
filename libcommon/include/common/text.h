/*
 * text.h - Unicode text: validation, normalisation, matching keys (utf8proc).
 *
 * protobuf-c does not validate UTF-8, so every string from the wire passes
 * cm_text_check() before it is stored. Stored text is NFC. Matching
 * (duplicates, addresses written in old forms) uses a fold that removes case
 * and Vietnamese diacritics (đ -> d included) and collapses white space.
 */
#ifndef CM_TEXT_H
#define CM_TEXT_H

#include <stdbool.h>
#include <stddef.h>

enum cm_text_flags {
	CM_TEXT_SINGLE_LINE = 1 << 0, /* no control characters at all */
	CM_TEXT_MULTI_LINE = 1 << 1,  /* allow \n, \r, \t */
};

/** Check that s (len bytes) is valid UTF-8 without NUL and without control
 * characters other than those flags allow. Returns 0, CM_EINVALID (not UTF-8,
 * *why = "invalid UTF-8 at byte N"), or -EINVAL for a forbidden control
 * character (*why names its offset). why may be NULL; it is static or
 * thread-local text. */
int cm_text_check(const char *s, size_t len, unsigned flags, const char **why);

/** NFC-normalise s. Caller owns *out (free()). Errors: CM_EINVALID (not UTF-8). */
int cm_text_nfc(const char *s, char **out);

/** Number of Unicode code points in valid UTF-8 s. */
size_t cm_text_length(const char *s);

/** Matching key: NFKC, case-folded, diacritics removed (đ/Đ -> d), runs of
 * white space and punctuation collapsed to one space, trimmed. Caller owns
 * *out. Errors: CM_EINVALID. */
int cm_text_fold(const char *s, char **out);

#endif

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
 * characters other than those flags allow. Control characters are C0
 * (U+0000..U+001F), DEL and C1 (U+0080..U+009F); flags 0 means
 * CM_TEXT_SINGLE_LINE. Overlong forms, surrogates and code points above
 * U+10FFFF are not UTF-8. Returns 0, CM_EINVALID (not UTF-8,
 * *why = "invalid UTF-8 at byte N"), or -EINVAL for a forbidden control
 * character (*why = "NUL at byte N" or "control character U+XXXX at byte
 * N"); the first problem in byte order wins. why may be NULL; it is static or
 * thread-local text, valid until the thread's next call. */
int cm_text_check(const char *s, size_t len, unsigned flags, const char **why);

/** NFC-normalise s. Caller owns *out (free()). Errors: CM_EINVALID (not UTF-8). */
int cm_text_nfc(const char *s, char **out);

/** True when s is certainly NFC by a quick scan (every code point from
 * ranges that are NFC_Quick_Check=Yes and never compose); false means "maybe
 * not": call cm_text_nfc. s must be NUL-terminated. */
bool cm_text_is_nfc_quick(const char *s);

/** Number of Unicode code points in valid UTF-8 s. */
size_t cm_text_length(const char *s);

/** Matching key: NFKC, case-folded, diacritics removed (every combining
 * mark is dropped; đ/Đ and the look-alike ð/Ð -> d), default-ignorable
 * characters (soft hyphen, zero-width space) dropped, runs of white space,
 * control characters and punctuation collapsed to one space, trimmed.
 * Symbols (+, $, ...) are kept. Caller owns *out (free()).
 * Errors: CM_EINVALID (not UTF-8). */
int cm_text_fold(const char *s, char **out);

#endif

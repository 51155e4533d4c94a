/*
 * identity.h - sealing personal data and keyed pseudonyms (Luật Tố cáo Điều
 * 47, 56: a denouncer's identity must not leak).
 *
 * Keys live in a directory of files named <id>.key, each holding 64 hex
 * characters (32 random bytes; scripts/gen-keys writes them). Sealing uses the
 * highest id; opening uses whichever id a sealed blob names, so keys can be
 * rotated by adding a file (docs/OPERATIONS.md). Sub-keys are derived with
 * crypto_kdf: one for secretbox per key id, and one pseudonym key from the
 * LOWEST id, which therefore must never be removed (pseudonyms must stay
 * stable across rotation or duplicate detection breaks).
 *
 * Sealed blob: 4-byte big-endian key id, 24-byte nonce, secretbox ciphertext.
 */
#ifndef INTAKE_IDENTITY_H
#define INTAKE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "donthu/v1/types.pb-c.h"

struct intake_keys;

#define INTAKE_PSEUDONYM_BYTES 32

/** Load every <id>.key in dir. Caller owns *out (intake_keys_free).
 * Errors: -ENOENT (dir missing or no key file), -EACCES, CM_EKEY (a file is
 * not 64 hex characters; err names it). */
int intake_keys_load(const char *dir, struct intake_keys **out, char *err, size_t errlen);
void intake_keys_free(struct intake_keys **k);
uint32_t intake_keys_current_id(const struct intake_keys *k);

/** Bytes intake_seal_into writes for n bytes of plain text. */
size_t intake_sealed_size(size_t n);
/** Seal n bytes into out, which holds intake_sealed_size(n) bytes (e.g. a
 * reserved store value). Never fails. Not thread-safe (nonce counter). */
void intake_seal_into(struct intake_keys *k, const uint8_t *plain, size_t n, void *out);

/** Open a sealed blob. Caller owns *plain (free()).
 * Errors: CM_EKEY (its key id is not loaded), CM_ECORRUPT (too short, or the
 * authentication tag does not verify). */
int intake_unseal(const struct intake_keys *k, const uint8_t *sealed, size_t n, uint8_t **plain,
		  size_t *plen);

/** Keyed BLAKE2b of the person's normalised identity number, or of their
 * folded name and address when there is none. */
void intake_pseudonym(const struct intake_keys *k, const Donthu__V1__Person *p,
		      uint8_t out[INTAKE_PSEUDONYM_BYTES]);

#endif

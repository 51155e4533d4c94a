#include "identity.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/store.h"
#include "common/text.h"

#define MAX_KEYS 64

struct key {
	uint32_t id;
	unsigned char seal[crypto_secretbox_KEYBYTES];
};

struct intake_keys {
	/* Nonces are a random 16-byte prefix drawn at load plus a counter:
	 * unique without a getrandom(2) call per seal (XSalsa20's 192-bit nonce
	 * leaves room for both). */
	unsigned char nonce_prefix[16];
	uint64_t nonce_counter;
	struct key keys[MAX_KEYS];
	size_t n;
	size_t current;
	unsigned char pseudonym[crypto_generichash_KEYBYTES];
};

static int read_key_file(const char *path, unsigned char master[crypto_kdf_KEYBYTES])
{
	char buf[130];
	size_t bin_len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	if (n != 2 * crypto_kdf_KEYBYTES ||
	    sodium_hex2bin(master, crypto_kdf_KEYBYTES, buf, (size_t)n, NULL, &bin_len, NULL) != 0 ||
	    bin_len != crypto_kdf_KEYBYTES)
		return CM_EKEY;
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

int intake_keys_load(const char *dir, struct intake_keys **out, char *err, size_t errlen)
{
	struct intake_keys *k;
	struct dirent *de;
	uint32_t lowest = UINT32_MAX;
	DIR *d;
	int rc = 0;

	*out = NULL;
	if (sodium_init() < 0)
		return -ENOMEM;
	d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "identity key directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	k = sodium_malloc(sizeof(*k));
	if (!k)
		cm_require_failed("sodium_malloc", __FILE__, __LINE__);
	memset(k, 0, sizeof(*k));
	while ((de = readdir(d)) != NULL) {
		unsigned char master[crypto_kdf_KEYBYTES];
		char path[4096], *end;
		unsigned long id = strtoul(de->d_name, &end, 10);

		if (end == de->d_name || strcmp(end, ".key") != 0)
			continue;
		if (id == 0 || id > UINT32_MAX || k->n == MAX_KEYS) {
			snprintf(err, errlen, "identity key %s/%s: id must be 1..4294967295, at most %d keys",
				 dir, de->d_name, MAX_KEYS);
			rc = CM_EKEY;
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rc = read_key_file(path, master);
		if (rc) {
			snprintf(err, errlen, "identity key %s: %s", path,
				 rc == CM_EKEY ? "must hold exactly 64 hex characters" : cm_strerror(rc));
			break;
		}
		k->keys[k->n].id = (uint32_t)id;
		crypto_kdf_derive_from_key(k->keys[k->n].seal, sizeof(k->keys[k->n].seal), 1,
					   "dthuseal", master);
		if (id < lowest) {
			lowest = (uint32_t)id;
			crypto_kdf_derive_from_key(k->pseudonym, sizeof(k->pseudonym), 1, "dthupsnm",
						   master);
		}
		if (k->keys[k->n].id > k->keys[k->current].id)
			k->current = k->n;
		k->n++;
		sodium_memzero(master, sizeof(master));
	}
	closedir(d);
	if (rc == 0 && k->n == 0) {
		snprintf(err, errlen, "no identity key (<id>.key) in %s; scripts/gen-keys makes one",
			 dir);
		rc = -ENOENT;
	}
	if (rc) {
		sodium_free(k);
		return rc;
	}
	randombytes_buf(k->nonce_prefix, sizeof(k->nonce_prefix));
	*out = k;
	return 0;
}

void intake_keys_free(struct intake_keys **k)
{
	if (k && *k) {
		sodium_free(*k);
		*k = NULL;
	}
}

uint32_t intake_keys_current_id(const struct intake_keys *k)
{
	return k->keys[k->current].id;
}

size_t intake_sealed_size(size_t n)
{
	return 4 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
}

void intake_seal_into(struct intake_keys *k, const uint8_t *plain, size_t n, void *out)
{
	const struct key *key = &k->keys[k->current];
	uint8_t *b = out;

	cm_be32_put(b, key->id);
	memcpy(b + 4, k->nonce_prefix, sizeof(k->nonce_prefix));
	cm_be64_put(b + 4 + sizeof(k->nonce_prefix), ++k->nonce_counter);
	crypto_secretbox_easy(b + 4 + crypto_secretbox_NONCEBYTES, plain, n, b + 4, key->seal);
}

int intake_unseal(const struct intake_keys *k, const uint8_t *sealed, size_t n, uint8_t **plain,
		  size_t *plen)
{
	const size_t head = 4 + crypto_secretbox_NONCEBYTES;
	const struct key *key = NULL;
	uint32_t id;
	uint8_t *p;

	*plain = NULL;
	if (n < head + crypto_secretbox_MACBYTES)
		return CM_ECORRUPT;
	id = cm_be32_get(sealed);
	for (size_t i = 0; i < k->n; i++)
		if (k->keys[i].id == id)
			key = &k->keys[i];
	if (!key)
		return CM_EKEY;
	*plen = n - head - crypto_secretbox_MACBYTES;
	p = cm_xmalloc(*plen + 1);
	if (crypto_secretbox_open_easy(p, sealed + head, n - head, sealed + 4, key->seal) != 0) {
		free(p);
		return CM_ECORRUPT;
	}
	*plain = p;
	return 0;
}

void intake_pseudonym(const struct intake_keys *k, const Donthu__V1__Person *p,
		      uint8_t out[INTAKE_PSEUDONYM_BYTES])
{
	crypto_generichash_state st;
	const char *id = p->id_number ? p->id_number : "";

	crypto_generichash_init(&st, k->pseudonym, sizeof(k->pseudonym), INTAKE_PSEUDONYM_BYTES);
	if (*id) {
		/* The same number written with spaces or lower-case letters is the
		 * same person. The id kind is left out on purpose: a CCCD number is
		 * also the personal identification number. */
		crypto_generichash_update(&st, (const unsigned char *)"id:", 3);
		for (; *id; id++)
			if (isalnum((unsigned char)*id)) {
				unsigned char c = (unsigned char)toupper((unsigned char)*id);
				crypto_generichash_update(&st, &c, 1);
			}
	} else {
		char *name = NULL, *addr = NULL;
		cm_text_fold(p->full_name ? p->full_name : "", &name);
		cm_text_fold(p->address ? p->address : "", &addr);
		crypto_generichash_update(&st, (const unsigned char *)"na:", 3);
		if (name)
			crypto_generichash_update(&st, (const unsigned char *)name, strlen(name));
		crypto_generichash_update(&st, (const unsigned char *)"|", 1);
		if (addr)
			crypto_generichash_update(&st, (const unsigned char *)addr, strlen(addr));
		free(name);
		free(addr);
	}
	crypto_generichash_final(&st, out, INTAKE_PSEUDONYM_BYTES);
}

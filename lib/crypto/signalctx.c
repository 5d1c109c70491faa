/*
 * signalctx.c - libsignal-protocol-c's crypto provider on OpenSSL 3 (see
 * signalctx.h).  Each callback returns 0 or a negative SG_ERR_* code, as
 * libsignal-protocol-c expects; nothing here keeps state between calls
 * except the per-operation contexts libsignal hands back to us.
 */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "crypto/signalctx.h"

static int
p_random(uint8_t *data, size_t len, void *ud)
{
	(void)ud;
	if (len > INT_MAX)
		return SG_ERR_INVAL;
	return RAND_bytes(data, (int)len) == 1 ? 0 : SG_ERR_UNKNOWN;
}

/* --- HMAC-SHA256 ---------------------------------------------------- */

static int
p_hmac_init(void **hctx, const uint8_t *key, size_t keylen, void *ud)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
	static const uint8_t nokey = 0;
	OSSL_PARAM p[2];

	(void)ud;
	EVP_MAC_free(mac); /* the context holds its own reference */
	if (!c)
		return SG_ERR_NOMEM;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(c, keylen ? key : &nokey, keylen, p) != 1) {
		EVP_MAC_CTX_free(c);
		return SG_ERR_UNKNOWN;
	}
	*hctx = c;
	return 0;
}

static int
p_hmac_update(void *hctx, const uint8_t *data, size_t len, void *ud)
{
	(void)ud;
	return EVP_MAC_update(hctx, data, len) == 1 ? 0 : SG_ERR_UNKNOWN;
}

static int
p_hmac_final(void *hctx, signal_buffer **out, void *ud)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	size_t n = 0;
	signal_buffer *b;

	(void)ud;
	if (EVP_MAC_final(hctx, md, &n, sizeof md) != 1)
		return SG_ERR_UNKNOWN;
	b = signal_buffer_create(md, n);
	OPENSSL_cleanse(md, sizeof md);
	if (!b)
		return SG_ERR_NOMEM;
	*out = b;
	return 0;
}

static void
p_hmac_cleanup(void *hctx, void *ud)
{
	(void)ud;
	EVP_MAC_CTX_free(hctx);
}

/* --- SHA-512 -------------------------------------------------------- */

static int
p_sha512_init(void **dctx, void *ud)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();

	(void)ud;
	if (!m)
		return SG_ERR_NOMEM;
	if (EVP_DigestInit_ex(m, EVP_sha512(), NULL) != 1) {
		EVP_MD_CTX_free(m);
		return SG_ERR_UNKNOWN;
	}
	*dctx = m;
	return 0;
}

static int
p_sha512_update(void *dctx, const uint8_t *data, size_t len, void *ud)
{
	(void)ud;
	return EVP_DigestUpdate(dctx, data, len) == 1 ? 0 : SG_ERR_UNKNOWN;
}

static int
p_sha512_final(void *dctx, signal_buffer **out, void *ud)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	signal_buffer *b;

	(void)ud;
	if (EVP_DigestFinal_ex(dctx, md, &n) != 1 ||
	    EVP_DigestInit_ex(dctx, EVP_sha512(), NULL) != 1) /* ready for reuse */
		return SG_ERR_UNKNOWN;
	b = signal_buffer_create(md, n);
	OPENSSL_cleanse(md, sizeof md);
	if (!b)
		return SG_ERR_NOMEM;
	*out = b;
	return 0;
}

static void
p_sha512_cleanup(void *dctx, void *ud)
{
	(void)ud;
	EVP_MD_CTX_free(dctx);
}

/* --- AES ------------------------------------------------------------ */

static const EVP_CIPHER *
aes_cipher(int cipher, size_t keylen)
{
	switch (cipher) {
	case SG_CIPHER_AES_CTR_NOPADDING:
		return keylen == 16 ? EVP_aes_128_ctr() : keylen == 24 ? EVP_aes_192_ctr() :
		    keylen == 32 ? EVP_aes_256_ctr() : NULL;
	case SG_CIPHER_AES_CBC_PKCS5:
		return keylen == 16 ? EVP_aes_128_cbc() : keylen == 24 ? EVP_aes_192_cbc() :
		    keylen == 32 ? EVP_aes_256_cbc() : NULL;
	}
	return NULL;
}

static int
aes(signal_buffer **out, int enc, int cipher, const uint8_t *key, size_t keylen,
    const uint8_t *iv, size_t ivlen, const uint8_t *in, size_t inlen)
{
	const EVP_CIPHER *ci = aes_cipher(cipher, keylen);
	EVP_CIPHER_CTX *c = NULL;
	uint8_t *buf = NULL;
	size_t cap;
	int n1 = 0, n2 = 0, rc = SG_ERR_UNKNOWN;

	if (!ci || ivlen != 16 || inlen > INT_MAX - 32)
		return SG_ERR_INVAL;
	cap = inlen + 16; /* room for one block of padding */
	if (!(buf = OPENSSL_malloc(cap)) || !(c = EVP_CIPHER_CTX_new())) {
		rc = SG_ERR_NOMEM;
		goto out;
	}
	if (EVP_CipherInit_ex(c, ci, NULL, key, iv, enc) != 1)
		goto out;
	if (cipher == SG_CIPHER_AES_CTR_NOPADDING)
		EVP_CIPHER_CTX_set_padding(c, 0);
	if (EVP_CipherUpdate(c, buf, &n1, in, (int)inlen) != 1 ||
	    EVP_CipherFinal_ex(c, buf + n1, &n2) != 1)
		goto out; /* also a bad padding on decryption */
	if (!(*out = signal_buffer_create(buf, (size_t)n1 + (size_t)n2))) {
		rc = SG_ERR_NOMEM;
		goto out;
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	if (buf)
		OPENSSL_clear_free(buf, cap);
	return rc;
}

static int
p_encrypt(signal_buffer **out, int cipher, const uint8_t *key, size_t keylen,
    const uint8_t *iv, size_t ivlen, const uint8_t *pt, size_t ptlen, void *ud)
{
	(void)ud;
	return aes(out, 1, cipher, key, keylen, iv, ivlen, pt, ptlen);
}

static int
p_decrypt(signal_buffer **out, int cipher, const uint8_t *key, size_t keylen,
    const uint8_t *iv, size_t ivlen, const uint8_t *ct, size_t ctlen, void *ud)
{
	(void)ud;
	return aes(out, 0, cipher, key, keylen, iv, ivlen, ct, ctlen);
}

const signal_crypto_provider wa_signalctx_provider = {
	.random_func = p_random,
	.hmac_sha256_init_func = p_hmac_init,
	.hmac_sha256_update_func = p_hmac_update,
	.hmac_sha256_final_func = p_hmac_final,
	.hmac_sha256_cleanup_func = p_hmac_cleanup,
	.sha512_digest_init_func = p_sha512_init,
	.sha512_digest_update_func = p_sha512_update,
	.sha512_digest_final_func = p_sha512_final,
	.sha512_digest_cleanup_func = p_sha512_cleanup,
	.encrypt_func = p_encrypt,
	.decrypt_func = p_decrypt,
	.user_data = NULL,
};

int
wa_signalctx_new(signal_context **out)
{
	signal_context *c = NULL;

	*out = NULL;
	if (signal_context_create(&c, NULL) < 0 || !c)
		return WA_ENOMEM;
	if (signal_context_set_crypto_provider(c, &wa_signalctx_provider) < 0) {
		signal_context_destroy(c);
		return WA_ENOMEM;
	}
	*out = c;
	return 0;
}

void
wa_signalctx_free(signal_context *ctx)
{
	if (ctx)
		signal_context_destroy(ctx);
}

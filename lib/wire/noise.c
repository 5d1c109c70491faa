/*
 * noise.c - the Noise XX handshake and transport of WhatsApp Web
 * (wa-protocol(7) §2).
 *
 * The client's steps, with MixHash(x): h = SHA256(h || x) and MixKey(ikm):
 * (ck, k) = HKDF-SHA256(salt ck, ikm, 64 bytes), n = 0:
 *
 *   h = ck = k = "Noise_XX_25519_AESGCM_SHA256\0\0\0\0"; MixHash("WA" 6 3)
 *   MixHash(e.pub)                                  -> ClientHello{e.pub}
 *   ServerHello{re, static, payload}:
 *   MixHash(re); MixKey(DH(e, re))
 *   rs = DecryptAndHash(static)        (n = 0); MixKey(DH(e, rs))
 *   cert = DecryptAndHash(payload)     (n = 0)  -> checked by the caller
 *   out1 = EncryptAndHash(s.pub)       (n = 1: not reset by the decrypt)
 *   MixKey(DH(s, re))
 *   out2 = EncryptAndHash(ClientPayload) (n = 0) -> ClientFinish{out1, out2}
 *   (k1, k2) = HKDF(ck, empty): client sends with k1, receives with k2.
 *
 * Every AEAD is AES-256-GCM with IV = 8 zero bytes + n (32-bit BE) and the
 * 16-byte tag appended; handshake AEADs take h as AAD, transport ones none.
 * Checked byte for byte against Baileys' own noise handler by t-noise.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "wire/frame.h"
#include "handshake.pb-c.h"
#include "wire/noise.h"

const unsigned char wa_noise_protocol_name[32] = "Noise_XX_25519_AESGCM_SHA256\0\0\0";

/* --- primitives (key pairs and DH are crypto/curve.c) ----------------- */

static int
sha256_2(unsigned char out[32], const void *a, size_t alen, const void *b, size_t blen)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned int n = 32;
	int ok;

	if (!m)
		return WA_ENOMEM;
	ok = EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(m, a, alen) == 1 &&
	    (blen == 0 || EVP_DigestUpdate(m, b, blen) == 1) &&
	    EVP_DigestFinal_ex(m, out, &n) == 1;
	EVP_MD_CTX_free(m);
	return ok ? 0 : WA_ESYS;
}

/* out[0..64) = HKDF-SHA256(salt, ikm, info = "", L = 64). */
static int
hkdf64(unsigned char out[64], const unsigned char salt[32], const void *ikm, size_t ikmlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	unsigned char empty = 0;
	OSSL_PARAM p[5];
	int rc = WA_ENOMEM;

	EVP_KDF_free(kdf);
	if (!ctx)
		return rc;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    ikmlen ? (void *)ikm : &empty, ikmlen);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, 32);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, &empty, 0);
	p[4] = OSSL_PARAM_construct_end();
	rc = EVP_KDF_derive(ctx, out, 64, p) == 1 ? 0 : WA_ESYS;
	EVP_KDF_CTX_free(ctx);
	return rc;
}

static void
make_iv(unsigned char iv[12], uint32_t n)
{
	memset(iv, 0, 8);
	iv[8] = (unsigned char)(n >> 24);
	iv[9] = (unsigned char)(n >> 16);
	iv[10] = (unsigned char)(n >> 8);
	iv[11] = (unsigned char)n;
}

/* AES-256-GCM.  enc: out = ct || tag (len + 16).  dec: in = ct || tag,
 * out = pt (len - 16), WA_EVERIFY on a bad tag. */
static int
gcm(int enc, const unsigned char key[32], uint32_t n, const void *aad, size_t aadlen,
    unsigned char *out, const unsigned char *in, size_t len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned char iv[12];
	size_t body;
	int l, rc = WA_ESYS;

	if (!c)
		return WA_ENOMEM;
	if (!enc && len < WA_NOISE_TAG_LEN) {
		rc = WA_EPROTO;
		goto out;
	}
	if (len > (size_t)INT32_MAX) {
		rc = WA_ETOOBIG;
		goto out;
	}
	body = enc ? len : len - WA_NOISE_TAG_LEN;
	make_iv(iv, n);
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) != 1)
		goto out;
	if (aadlen && EVP_CipherUpdate(c, NULL, &l, aad, (int)aadlen) != 1)
		goto out;
	if (body && EVP_CipherUpdate(c, out, &l, in, (int)body) != 1)
		goto out;
	if (enc) {
		if (EVP_CipherFinal_ex(c, out + body, &l) != 1 ||
		    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, WA_NOISE_TAG_LEN, out + body) != 1)
			goto out;
	} else {
		unsigned char fin[16];
		if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, WA_NOISE_TAG_LEN,
		    (void *)(in + body)) != 1)
			goto out;
		if (EVP_CipherFinal_ex(c, fin, &l) != 1) {
			OPENSSL_cleanse(out, body);
			rc = WA_EVERIFY;
			goto out;
		}
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

/* --- handshake state -------------------------------------------------- */

void
wa_noise_hs_init(struct wa_noise_hs *hs, const void *prologue, size_t len)
{
	memcpy(hs->h, wa_noise_protocol_name, 32);
	memcpy(hs->ck, wa_noise_protocol_name, 32);
	memcpy(hs->k, wa_noise_protocol_name, 32);
	hs->n = 0;
	(void)wa_noise_hs_mix_hash(hs, prologue, len);
}

int
wa_noise_hs_mix_hash(struct wa_noise_hs *hs, const void *data, size_t len)
{
	unsigned char h[32];
	int rc = sha256_2(h, hs->h, 32, data, len);

	if (rc == 0)
		memcpy(hs->h, h, 32);
	return rc;
}

int
wa_noise_hs_mix_key(struct wa_noise_hs *hs, const void *ikm, size_t len)
{
	unsigned char okm[64];
	int rc = hkdf64(okm, hs->ck, ikm, len);

	if (rc == 0) {
		memcpy(hs->ck, okm, 32);
		memcpy(hs->k, okm + 32, 32);
		hs->n = 0;
	}
	OPENSSL_cleanse(okm, sizeof(okm));
	return rc;
}

int
wa_noise_hs_mix_dh(struct wa_noise_hs *hs, const unsigned char priv[WA_KEY_LEN],
    const unsigned char pub[WA_KEY_LEN])
{
	unsigned char shared[WA_KEY_LEN];
	int rc = wa_curve_dh(shared, priv, pub);

	if (rc == 0)
		rc = wa_noise_hs_mix_key(hs, shared, sizeof(shared));
	OPENSSL_cleanse(shared, sizeof(shared));
	return rc;
}

int
wa_noise_hs_encrypt(struct wa_noise_hs *hs, unsigned char *out, const void *pt, size_t len)
{
	int rc = gcm(1, hs->k, hs->n, hs->h, 32, out, pt, len);

	if (rc == 0) {
		hs->n++;
		rc = wa_noise_hs_mix_hash(hs, out, len + WA_NOISE_TAG_LEN);
	}
	return rc;
}

int
wa_noise_hs_decrypt(struct wa_noise_hs *hs, unsigned char *out, const void *ct, size_t len)
{
	int rc = gcm(0, hs->k, hs->n, hs->h, 32, out, ct, len);

	if (rc == 0) {
		hs->n++;
		rc = wa_noise_hs_mix_hash(hs, ct, len);
	}
	return rc;
}

int
wa_noise_hs_split(const struct wa_noise_hs *hs, unsigned char k1[WA_KEY_LEN],
    unsigned char k2[WA_KEY_LEN])
{
	unsigned char okm[64];
	int rc = hkdf64(okm, hs->ck, NULL, 0);

	if (rc == 0) {
		memcpy(k1, okm, 32);
		memcpy(k2, okm + 32, 32);
	}
	OPENSSL_cleanse(okm, sizeof(okm));
	return rc;
}

void
wa_noise_hs_wipe(struct wa_noise_hs *hs)
{
	if (hs)
		OPENSSL_cleanse(hs, sizeof(*hs));
}

/* --- transport -------------------------------------------------------- */

int
wa_noise_seal(struct wa_noise_cipher *c, unsigned char *out, const void *pt, size_t len)
{
	int rc;

	if (c->n > UINT32_MAX)
		return WA_EPROTO;
	rc = gcm(1, c->key, (uint32_t)c->n, NULL, 0, out, pt, len);
	if (rc == 0)
		c->n++;
	return rc;
}

int
wa_noise_open(struct wa_noise_cipher *c, unsigned char *out, const void *ct, size_t len)
{
	int rc;

	if (c->n > UINT32_MAX)
		return WA_EPROTO;
	rc = gcm(0, c->key, (uint32_t)c->n, NULL, 0, out, ct, len);
	if (rc == 0 || rc == WA_EVERIFY)
		c->n++;
	return rc;
}

void
wa_noise_transport_wipe(struct wa_noise_transport *t)
{
	if (t)
		OPENSSL_cleanse(t, sizeof(*t));
}

/* --- the client ------------------------------------------------------- */

static int
pack_hs(unsigned char **out, size_t *outlen, const Wa__HandshakeMessage *m)
{
	size_t n = wa__handshake_message__get_packed_size(m);
	unsigned char *b = WA_TEST_ALLOC_FAILS() ? NULL : malloc(n ? n : 1);

	if (!b)
		return WA_ENOMEM;
	wa__handshake_message__pack(m, b);
	*out = b;
	*outlen = n;
	return 0;
}

static int
client_fail(struct wa_noise_client *c, int rc)
{
	c->step = WA_NOISE_FAILED;
	wa_noise_hs_wipe(&c->hs);
	wa_curve_keypair_wipe(&c->e);
	wa_curve_keypair_wipe(&c->s);
	return rc;
}

int
wa_noise_client_start(struct wa_noise_client *c, const struct wa_keypair *s,
    const struct wa_keypair *e, unsigned char **hello, size_t *hellolen)
{
	Wa__HandshakeMessage m = WA__HANDSHAKE_MESSAGE__INIT;
	Wa__HandshakeMessage__ClientHello ch = WA__HANDSHAKE_MESSAGE__CLIENT_HELLO__INIT;
	int rc;

	memset(c, 0, sizeof(*c));
	*hello = NULL;
	*hellolen = 0;
	c->s = *s;
	if (e)
		c->e = *e;
	else if ((rc = wa_curve_keypair(&c->e)) < 0)
		return client_fail(c, rc);
	wa_noise_hs_init(&c->hs, "WA\x06\x03", 4);
	if ((rc = wa_noise_hs_mix_hash(&c->hs, c->e.pub, WA_KEY_LEN)) < 0)
		return client_fail(c, rc);
	ch.has_ephemeral = 1;
	ch.ephemeral.data = c->e.pub;
	ch.ephemeral.len = WA_KEY_LEN;
	m.clienthello = &ch;
	if ((rc = pack_hs(hello, hellolen, &m)) < 0)
		return client_fail(c, rc);
	c->step = WA_NOISE_SENT_HELLO;
	return 0;
}

int
wa_noise_client_server_hello(struct wa_noise_client *c, const void *msg, size_t len,
    unsigned char **cert, size_t *certlen, struct wa_why *why)
{
	Wa__HandshakeMessage *m = NULL;
	Wa__HandshakeMessage__ServerHello *sh;
	unsigned char rs[WA_KEY_LEN + WA_NOISE_TAG_LEN];
	unsigned char *pt = NULL;
	int rc;

	*cert = NULL;
	*certlen = 0;
	if (why)
		why->text[0] = 0;
	if (c->step != WA_NOISE_SENT_HELLO)
		return wa_why_set(why, WA_EPROTO, "noise: server hello out of order");
	m = wa__handshake_message__unpack(NULL, len, msg);
	if (!m) {
		rc = wa_why_set(why, WA_EPROTO, "noise: server hello is not a handshake message");
		goto fail;
	}
	sh = m->serverhello;
	if (!sh || !sh->has_ephemeral || sh->ephemeral.len != WA_KEY_LEN ||
	    !sh->has_static_ || !sh->has_payload) {
		rc = wa_why_set(why, WA_EPROTO, "noise: server hello lacks parts");
		goto fail;
	}
	if (sh->static_.len != WA_KEY_LEN + WA_NOISE_TAG_LEN) {
		rc = wa_why_set(why, WA_EPROTO, "noise: server static key is %zu bytes, want %d",
		    sh->static_.len < WA_NOISE_TAG_LEN ? 0 : sh->static_.len - WA_NOISE_TAG_LEN,
		    WA_KEY_LEN);
		goto fail;
	}
	if (sh->payload.len < WA_NOISE_TAG_LEN) {
		rc = wa_why_set(why, WA_EPROTO, "noise: server certificate too short");
		goto fail;
	}
	memcpy(c->re, sh->ephemeral.data, WA_KEY_LEN);
	if ((rc = wa_noise_hs_mix_hash(&c->hs, c->re, WA_KEY_LEN)) < 0 ||
	    (rc = wa_noise_hs_mix_dh(&c->hs, c->e.priv, c->re)) < 0) {
		wa_why_set(why, rc, "noise: bad server ephemeral key");
		goto fail;
	}
	if ((rc = wa_noise_hs_decrypt(&c->hs, rs, sh->static_.data, sh->static_.len)) < 0) {
		wa_why_set(why, rc, "noise: server static key does not decrypt");
		goto fail;
	}
	memcpy(c->rs, rs, WA_KEY_LEN);
	if ((rc = wa_noise_hs_mix_dh(&c->hs, c->e.priv, c->rs)) < 0) {
		wa_why_set(why, rc, "noise: bad server static key");
		goto fail;
	}
	pt = WA_TEST_ALLOC_FAILS() ? NULL : malloc(sh->payload.len - WA_NOISE_TAG_LEN + 1);
	if (!pt) {
		rc = wa_why_set(why, WA_ENOMEM, "noise: out of memory for the server certificate");
		goto fail;
	}
	if ((rc = wa_noise_hs_decrypt(&c->hs, pt, sh->payload.data, sh->payload.len)) < 0) {
		wa_why_set(why, rc, "noise: server certificate does not decrypt");
		goto fail;
	}
	*cert = pt;
	*certlen = sh->payload.len - WA_NOISE_TAG_LEN;
	wa__handshake_message__free_unpacked(m, NULL);
	c->step = WA_NOISE_GOT_SERVER;
	return 0;
fail:
	free(pt);
	if (m)
		wa__handshake_message__free_unpacked(m, NULL);
	return client_fail(c, wa_why_default(why, rc));
}

int
wa_noise_client_finish(struct wa_noise_client *c, const void *payload, size_t len,
    unsigned char **finish, size_t *finishlen, struct wa_noise_transport *t,
    struct wa_why *why)
{
	Wa__HandshakeMessage m = WA__HANDSHAKE_MESSAGE__INIT;
	Wa__HandshakeMessage__ClientFinish cf = WA__HANDSHAKE_MESSAGE__CLIENT_FINISH__INIT;
	unsigned char st[WA_KEY_LEN + WA_NOISE_TAG_LEN];
	unsigned char *pl = NULL;
	int rc;

	*finish = NULL;
	*finishlen = 0;
	memset(t, 0, sizeof(*t));
	if (why)
		why->text[0] = 0;
	if (c->step != WA_NOISE_GOT_SERVER)
		return wa_why_set(why, WA_EPROTO, "noise: client finish out of order");
	if (len > WA_FRAME_MAX - 256) { /* room for the static key and protobuf */
		rc = wa_why_set(why, WA_ETOOBIG, "noise: client payload too big");
		goto out;
	}
	pl = WA_TEST_ALLOC_FAILS() ? NULL : malloc(len + WA_NOISE_TAG_LEN);
	if (!pl) {
		rc = wa_why_set(why, WA_ENOMEM, "noise: out of memory for the client payload");
		goto out;
	}
	if ((rc = wa_noise_hs_encrypt(&c->hs, st, c->s.pub, WA_KEY_LEN)) < 0 ||
	    (rc = wa_noise_hs_mix_dh(&c->hs, c->s.priv, c->re)) < 0 ||
	    (rc = wa_noise_hs_encrypt(&c->hs, pl, payload, len)) < 0) {
		wa_why_set(why, rc, "noise: cannot complete the handshake");
		goto out;
	}
	cf.has_static_ = 1;
	cf.static_.data = st;
	cf.static_.len = sizeof(st);
	cf.has_payload = 1;
	cf.payload.data = pl;
	cf.payload.len = len + WA_NOISE_TAG_LEN;
	m.clientfinish = &cf;
	if ((rc = pack_hs(finish, finishlen, &m)) < 0) {
		wa_why_set(why, rc, "noise: cannot pack the client finish: %s", wa_strerror(rc));
		goto out;
	}
	if ((rc = wa_noise_hs_split(&c->hs, t->send.key, t->recv.key)) < 0) {
		free(*finish);
		*finish = NULL;
		*finishlen = 0;
		goto out;
	}
	rc = 0;
out:
	free(pl);
	if (rc < 0) {
		wa_noise_transport_wipe(t);
		return client_fail(c, wa_why_default(why, rc));
	}
	wa_noise_hs_wipe(&c->hs);
	wa_curve_keypair_wipe(&c->e);
	wa_curve_keypair_wipe(&c->s);
	c->step = WA_NOISE_DONE;
	return 0;
}

void
wa_noise_client_wipe(struct wa_noise_client *c)
{
	if (c)
		OPENSSL_cleanse(c, sizeof(*c));
}

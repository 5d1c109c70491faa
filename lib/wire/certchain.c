/*
 * certchain.c - verify the Noise server's certificate chain: whatsmeow's
 * checks in whatsmeow's order (see certchain.h), on protobuf-c and
 * libsignal-protocol-c's XEdDSA verification.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <signal/curve.h>
#include <signal/signal_protocol.h>

#include "wire/certchain.h"
#include "handshake.pb-c.h"

const unsigned char wa_certchain_whatsapp_root[32] = {
	0x14, 0x23, 0x75, 0x57, 0x4d, 0x0a, 0x58, 0x71, 0x66, 0xaa, 0xe7, 0x1e, 0xbe, 0x51, 0x64, 0x37,
	0xc4, 0xa2, 0x8b, 0x73, 0xe3, 0x69, 0x5c, 0x6c, 0xe1, 0xf7, 0xf9, 0x54, 0x5d, 0xa8, 0xee, 0x6b,
};

/* 1 if sig (64 bytes) is key's XEdDSA signature of msg, 0 if not, or
 * WA_ENOMEM. */
static int
xeddsa_ok(const unsigned char key32[32], const uint8_t *msg, size_t len, const uint8_t *sig)
{
	unsigned char djb[33];
	ec_public_key *k = NULL;
	int rc;

	djb[0] = 0x05;
	memcpy(djb + 1, key32, 32);
	rc = curve_decode_point(&k, djb, sizeof(djb), NULL);
	if (rc == SG_ERR_NOMEM)
		return WA_ENOMEM;
	if (rc < 0 || !k)
		return 0;
	rc = curve_verify_signature(k, msg, len, sig, 64);
	SIGNAL_UNREF(k);
	return rc == 1;
}

typedef Wa__CertChain__NoiseCertificate Cert;
typedef Wa__CertChain__NoiseCertificate__Details Details;

/* protoc-c makes unpack functions for top-level messages only. */
static Details *
unpack_details(const uint8_t *p, size_t len)
{
	return (Details *)protobuf_c_message_unpack(
	    &wa__cert_chain__noise_certificate__details__descriptor, NULL, len, p);
}

static const char *
validity(const Details *d, int64_t now)
{
	uint64_t t = now < 0 ? 0 : (uint64_t)now;

	if (t < d->notbefore)
		return "not valid yet";
	if (t > d->notafter)
		return "expired";
	return NULL;
}

#define FAIL(check, ...) do { \
	rc = wa_why_set(why, WA_EVERIFY, "server certificate: " check ": " __VA_ARGS__); \
	goto out; \
} while (0)

int
wa_certchain_verify(const void *chain, size_t len, const unsigned char root[32],
    const unsigned char server_static[32], int64_t now, struct wa_why *why)
{
	Wa__CertChain *cc = NULL;
	Details *inter = NULL, *leaf = NULL;
	Cert *ic, *lc;
	const char *bad;
	int rc, v;

	cc = wa__cert_chain__unpack(NULL, len, chain);
	if (!cc)
		FAIL("chain-decode", "not a certificate chain");
	ic = cc->intermediate;
	lc = cc->leaf;
	if (!ic || !lc || !ic->has_details || !ic->has_signature || !lc->has_details ||
	    !lc->has_signature)
		FAIL("chain-parts", "missing parts of the certificate chain");
	if (ic->signature.len != 64)
		FAIL("intermediate-sig-length", "intermediate signature is %zu bytes, want 64",
		    ic->signature.len);
	if (lc->signature.len != 64)
		FAIL("leaf-sig-length", "leaf signature is %zu bytes, want 64", lc->signature.len);
	if ((v = xeddsa_ok(root, ic->details.data, ic->details.len, ic->signature.data)) < 0) {
		rc = v;
		goto out;
	}
	if (!v)
		FAIL("intermediate-sig", "intermediate certificate not signed by the root key");
	inter = unpack_details(ic->details.data, ic->details.len);
	if (!inter)
		FAIL("intermediate-decode", "intermediate details do not decode");
	if (inter->issuerserial != WA_CERT_ISSUER_SERIAL)
		FAIL("intermediate-issuer", "intermediate issuer serial is %u, want %d",
		    inter->issuerserial, WA_CERT_ISSUER_SERIAL);
	if (!inter->has_key || inter->key.len != 32)
		FAIL("intermediate-key-length", "intermediate key is %zu bytes, want 32",
		    inter->has_key ? inter->key.len : 0);
	if ((v = xeddsa_ok(inter->key.data, lc->details.data, lc->details.len, lc->signature.data)) < 0) {
		rc = v;
		goto out;
	}
	if (!v)
		FAIL("leaf-sig", "leaf certificate not signed by the intermediate key");
	if ((bad = validity(inter, now)))
		FAIL("intermediate-validity", "intermediate certificate %s", bad);
	leaf = unpack_details(lc->details.data, lc->details.len);
	if (!leaf)
		FAIL("leaf-decode", "leaf details do not decode");
	if (leaf->issuerserial != inter->serial)
		FAIL("leaf-issuer", "leaf issuer serial %u is not the intermediate's serial %u",
		    leaf->issuerserial, inter->serial);
	if (!leaf->has_key || leaf->key.len != 32 ||
	    CRYPTO_memcmp(leaf->key.data, server_static, 32) != 0)
		FAIL("leaf-key", "leaf key is not the server's static key");
	if ((bad = validity(leaf, now)))
		FAIL("leaf-validity", "leaf certificate %s", bad);
	rc = 0;
out:
	if (leaf)
		protobuf_c_message_free_unpacked(&leaf->base, NULL);
	if (inter)
		protobuf_c_message_free_unpacked(&inter->base, NULL);
	if (cc)
		wa__cert_chain__free_unpacked(cc, NULL);
	return rc;
}

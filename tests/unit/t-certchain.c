/*
 * t-certchain.c - every check of the server certificate chain, with chains
 * made and signed by Baileys' curve functions (cert-vectors.h from
 * tests/fakewa/cert-vectors.mjs), plus the chain of the Noise vectors.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/certchain.h"
#include "base/err.h"
#include "tap.h"
#include "cert-vectors.h"
#include "noise-vectors.h"

static const unsigned char whatsapp_root[32] = {
	0x14, 0x23, 0x75, 0x57, 0x4d, 0x0a, 0x58, 0x71, 0x66, 0xaa, 0xe7, 0x1e, 0xbe, 0x51, 0x64, 0x37,
	0xc4, 0xa2, 0x8b, 0x73, 0xe3, 0x69, 0x5c, 0x6c, 0xe1, 0xf7, 0xf9, 0x54, 0x5d, 0xa8, 0xee, 0x6b,
};

int
main(void)
{
	size_t i, n = sizeof(cert_vectors) / sizeof(cert_vectors[0]);
	struct wa_why why;
	char want[128];
	int rc;

	ok(memcmp(wa_certchain_whatsapp_root, whatsapp_root, 32) == 0,
	    "WhatsApp's root key is 142375574d0a5871...");

	for (i = 0; i < n; i++) {
		const struct cert_vector *v = &cert_vectors[i];
		memset(&why, 0, sizeof(why));
		rc = wa_certchain_verify(v->bytes, v->len, cv_root, cv_server_static, CV_NOW, &why);
		if (!v->check) {
			if (!ok(rc == 0, "%s: accepted", v->name))
				printf("#   rc %d: %s\n", rc, why.text);
			continue;
		}
		snprintf(want, sizeof(want), "server certificate: %s: ", v->check);
		if (!ok(rc == WA_EVERIFY && strncmp(why.text, want, strlen(want)) == 0,
		    "%s: rejected by %s", v->name, v->check))
			printf("#   rc %d: %s\n", rc, why.text);
	}

	/* The whole chain against the wrong root: the first signature fails. */
	rc = wa_certchain_verify(cert_vectors[0].bytes, cert_vectors[0].len, cv_other,
	    cv_server_static, CV_NOW, &why);
	ok(rc == WA_EVERIFY && strstr(why.text, "intermediate-sig: "),
	    "a good chain under another root key: rejected (intermediate-sig)");
	rc = wa_certchain_verify(cert_vectors[0].bytes, cert_vectors[0].len, wa_certchain_whatsapp_root,
	    cv_server_static, CV_NOW, &why);
	ok(rc == WA_EVERIFY, "a test chain is not accepted under WhatsApp's root key");
	rc = wa_certchain_verify(cert_vectors[0].bytes, cert_vectors[0].len, cv_root, cv_other,
	    CV_NOW, &why);
	ok(rc == WA_EVERIFY && strstr(why.text, "leaf-key: "),
	    "a good chain for another server static key: rejected (leaf-key)");
	rc = wa_certchain_verify(cert_vectors[0].bytes, cert_vectors[0].len, cv_root,
	    cv_server_static, -5, &why);
	ok(rc == WA_EVERIFY && strstr(why.text, "intermediate-validity: "),
	    "a clock before 1970 is before notBefore");
	is_int(wa_certchain_verify("", 0, cv_root, cv_server_static, CV_NOW, &why), WA_EVERIFY,
	    "an empty payload (an empty CertChain) lacks parts");
	ok(strstr(why.text, "chain-parts") != NULL, "(%s)", why.text);

	/* Every byte of the valid chain flipped in turn: never accepted. */
	{
		const struct cert_vector *v = &cert_vectors[0];
		unsigned char *b = malloc(v->len);
		size_t bad = 0, j;
		for (j = 0; j < v->len; j++) {
			memcpy(b, v->bytes, v->len);
			b[j] ^= 0x01;
			if (wa_certchain_verify(b, v->len, cv_root, cv_server_static, CV_NOW, NULL) == 0) {
				printf("#   flipping byte %zu still verifies\n", j);
				bad++;
			}
		}
		is_int(bad, 0, "each of %zu single-bit flips of the valid chain is rejected", v->len);
		free(b);
	}

	/* The chain from the Noise vectors (Baileys' client accepted it). */
	rc = wa_certchain_verify(nv_cert, nv_cert_len, nv_root_pub, nv_server_static_pub, CV_NOW, &why);
	if (!ok(rc == 0, "the Noise vectors' chain verifies for their server static key"))
		printf("#   %s\n", why.text);

	done_testing();
	return exit_status();
}

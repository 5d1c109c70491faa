/*
 * t-why.c - err.h's promise: a function that takes a struct wa_why and
 * returns an error has set its text.  Drives the out-of-memory paths of
 * the Noise handshake (noise.c) and of frame unpacking (binary.c) through
 * the test-build allocation hook (WA_TEST_ALLOC_FAILS in err.h), each
 * with a why whose text starts empty, and checks the text is not.
 * Also wa_why_default / wa_why_text themselves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/err.h"
#include "crypto/curve.h"
#include "wire/binary.h"
#include "wire/noise.h"
#include "noise-vectors.h"
#include "tap.h"

static void
load(struct wa_keypair *kp, const unsigned char *priv)
{
	memcpy(kp->priv, priv, 32);
	if (wa_curve_keypair_from_private(kp) < 0)
		abort();
}

/* A client that has sent its hello, ready for the vectors' ServerHello. */
static void
started(struct wa_noise_client *c)
{
	struct wa_keypair s, e;
	unsigned char *hello;
	size_t hlen;

	load(&s, nv_client_static_priv);
	load(&e, nv_client_eph_priv);
	if (wa_noise_client_start(c, &s, &e, &hello, &hlen) < 0)
		abort();
	free(hello);
}

/* Run call with an empty why and its n-th hooked allocation failing;
 * NOMEM_OK: it failed with WA_ENOMEM and a non-empty text. */
#define NOMEM(n, call) do { memset(&why, 0, sizeof why); wa_test_alloc_fail_at = (n); \
	rc = (call); wa_test_alloc_fail_at = 0; } while (0)
#define NOMEM_OK (rc == WA_ENOMEM && why.text[0] != 0)

int
main(void)
{
	struct wa_noise_client c;
	struct wa_noise_transport t;
	struct wa_why why;
	struct wa_node *node;
	unsigned char *cert, *fin, *out, plain[] = { 0, 0xf8, 0x01, 0x05 }; /* <...> one token */
	unsigned char zin[65536], z[1024];
	uLongf zlen = sizeof z - 1;
	size_t clen, flen, olen;
	int rc;

	/* wa_why_default and wa_why_text */
	memset(&why, 0, sizeof why);
	is_int(wa_why_default(&why, WA_ENOMEM), WA_ENOMEM, "wa_why_default returns rc");
	is_str(why.text, "out of memory", "and fills an empty text with wa_strerror");
	wa_why_set(&why, WA_EPROTO, "something specific");
	wa_why_default(&why, WA_EPROTO);
	is_str(why.text, "something specific", "a text already set is kept");
	is_int(wa_why_default(NULL, WA_EINVAL), WA_EINVAL, "NULL-safe");
	memset(&why, 0, sizeof why);
	errno = EIO;
	wa_why_default(&why, WA_ESYS);
	ok(errno == EIO && strcmp(why.text, strerror(EIO)) == 0, "WA_ESYS: errno's text, errno kept (%s)", why.text);
	memset(&why, 0, sizeof why);
	is_str(wa_why_text(&why, WA_ETIMEDOUT), "timed out", "wa_why_text of an empty why: wa_strerror");
	is_str(wa_why_text(NULL, WA_ECLOSED), "connection closed", "wa_why_text(NULL)");
	{
		struct wa_why w = WA_WHY_INIT;
		ok(w.text[0] == 0, "WA_WHY_INIT is an empty text");
	}

	/* noise: ServerHello, the certificate buffer */
	started(&c);
	NOMEM(1, wa_noise_client_server_hello(&c, nv_server_hello, nv_server_hello_len, &cert, &clen, &why));
	ok(NOMEM_OK,
	    "server hello, out of memory for the certificate: WA_ENOMEM with a text (rc %d, '%s')", rc, why.text);
	ok(c.step == WA_NOISE_FAILED, "and the handshake has failed");

	/* noise: ClientFinish, the payload buffer and the packing */
	started(&c);
	if (wa_noise_client_server_hello(&c, nv_server_hello, nv_server_hello_len, &cert, &clen, &why) < 0)
		abort();
	free(cert);
	NOMEM(1, wa_noise_client_finish(&c, nv_payload, nv_payload_len, &fin, &flen, &t, &why));
	ok(NOMEM_OK,
	    "client finish, out of memory for the payload: WA_ENOMEM with a text (rc %d, '%s')", rc, why.text);
	started(&c);
	if (wa_noise_client_server_hello(&c, nv_server_hello, nv_server_hello_len, &cert, &clen, &why) < 0)
		abort();
	free(cert);
	NOMEM(2, wa_noise_client_finish(&c, nv_payload, nv_payload_len, &fin, &flen, &t, &why));
	ok(NOMEM_OK,
	    "client finish, out of memory packing it: WA_ENOMEM with a text (rc %d, '%s')", rc, why.text);

	/* binary: an uncompressed frame body */
	NOMEM(1, wa_binary_unpack(&out, &olen, plain, sizeof plain, 0, &why));
	ok(NOMEM_OK,
	    "unpack, out of memory for the body: WA_ENOMEM with a text (rc %d, '%s')", rc, why.text);

	/* binary: a compressed frame: zlib's state, the first buffer, growing it */
	memset(zin, 'a', sizeof zin);
	z[0] = 2;
	if (compress(z + 1, &zlen, zin, sizeof zin) != Z_OK)
		abort();
	NOMEM(1, wa_binary_unpack(&out, &olen, z, zlen + 1, 0, &why));
	ok(NOMEM_OK,
	    "unpack, zlib cannot start: WA_ENOMEM with a text (rc %d, '%s')", rc, why.text);
	NOMEM(2, wa_binary_unpack(&out, &olen, z, zlen + 1, 0, &why));
	ok(NOMEM_OK,
	    "unpack, out of memory for the inflated body: WA_ENOMEM with a text (rc %d, '%s')", rc, why.text);
	NOMEM(3, wa_binary_unpack(&out, &olen, z, zlen + 1, 0, &why));
	ok(NOMEM_OK,
	    "unpack, out of memory growing the inflated body: WA_ENOMEM with a text (rc %d, '%s')", rc, why.text);
	rc = wa_binary_unpack(&out, &olen, z, zlen + 1, 0, &why);
	ok(rc == 0 && olen == sizeof zin, "unarmed, the same frame unpacks (%zu bytes)", olen);
	free(out);
	NOMEM(1, wa_binary_decode_frame(&node, z, zlen + 1, 0, &why));
	ok(NOMEM_OK,
	    "decode_frame, zlib cannot start: WA_ENOMEM with a text (rc %d, '%s')", rc, why.text);
	done_testing();
	return exit_status();
}

/*
 * t-noise.c - the Noise client against known answers from Baileys' own
 * noise handler (noise-vectors.h, made by tests/fakewa/noise-vectors.mjs),
 * tampering, and handshakes with a responder built here from the same
 * primitives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "base/err.h"
#include "wire/frame.h"
#include "handshake.pb-c.h"
#include "wire/noise.h"
#include "noise-vectors.h"
#include "tap.h"

#define EQ(a, alen, b) ((alen) == b##_len && memcmp((a), (b), (alen)) == 0)

static int
zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n--)
		if (*b++)
			return 0;
	return 1;
}

static void
load(struct wa_keypair *kp, const unsigned char *priv)
{
	memcpy(kp->priv, priv, 32);
	if (wa_curve_keypair_from_private(kp) < 0)
		abort();
}

static void
test_keys(void)
{
	struct wa_keypair kp, kp2;
	unsigned char a[32], b[32];

	ok(sizeof(wa_noise_protocol_name) == 32 &&
	    memcmp(wa_noise_protocol_name, "Noise_XX_25519_AESGCM_SHA256\0\0\0\0", 32) == 0,
	    "protocol name: 28 characters and four NUL bytes");
	load(&kp, nv_client_static_priv);
	ok(memcmp(kp.pub, nv_client_static_pub, 32) == 0, "public key from private matches Node's");
	is_int(wa_curve_keypair(&kp), 0, "fresh key pair");
	ok((kp.priv[0] & 7) == 0 && (kp.priv[31] & 0x80) == 0 && (kp.priv[31] & 0x40),
	    "private key is clamped");
	is_int(wa_curve_keypair(&kp2), 0, "another");
	ok(wa_curve_dh(a, kp.priv, kp2.pub) == 0 && wa_curve_dh(b, kp2.priv, kp.pub) == 0 &&
	    memcmp(a, b, 32) == 0, "DH agrees both ways");
	memset(b, 0, 32);
	is_int(wa_curve_dh(a, kp.priv, b), WA_EVERIFY, "DH with the zero point (low order) refused");
	ok(zero(a, 32), "and leaves no output");
	wa_curve_keypair_wipe(&kp);
	ok(zero(&kp, sizeof(kp)), "wipe clears the key pair");
}

/* Run the client through the vectors; returns 0 if every step matched. */
static void
test_vectors(void)
{
	struct wa_noise_client c;
	struct wa_keypair s, e;
	struct wa_noise_transport t;
	unsigned char *hello, *cert, *fin, *msg, buf[4096];
	size_t hlen, clen, flen, mlen;
	struct wa_why why;

	load(&s, nv_client_static_priv);
	load(&e, nv_client_eph_priv);
	is_int(wa_noise_client_start(&c, &s, &e, &hello, &hlen), 0, "client start");
	ok(EQ(hello, hlen, nv_client_hello), "ClientHello bytes equal Baileys'");
	is_int(wa_frame_encode(&msg, &mlen, wa_frame_intro, WA_FRAME_INTRO_LEN, hello, hlen), 0,
	    "first message framed");
	ok(EQ(msg, mlen, nv_first_message), "first websocket message (intro + frame) equals Baileys'");
	free(msg);
	free(hello);

	is_int(wa_noise_client_server_hello(&c, nv_server_hello, nv_server_hello_len, &cert, &clen, &why),
	    0, "ServerHello accepted");
	ok(EQ(cert, clen, nv_cert), "certificate chain decrypted");
	ok(memcmp(c.rs, nv_server_static_pub, 32) == 0, "server static key decrypted");
	free(cert);

	is_int(wa_noise_client_finish(&c, nv_payload, nv_payload_len, &fin, &flen, &t, &why), 0,
	    "client finish");
	ok(EQ(fin, flen, nv_client_finish),
	    "ClientFinish bytes equal Baileys' (static key at IV counter 1, payload at 0)");
	free(fin);
	ok(memcmp(t.send.key, nv_k1, 32) == 0 && memcmp(t.recv.key, nv_k2, 32) == 0,
	    "split: send with k1, receive with k2");
	ok(c.step == WA_NOISE_DONE && zero(&c.hs, sizeof(c.hs)) && zero(&c.e, sizeof(c.e)) &&
	    zero(&c.s, sizeof(c.s)), "handshake secrets wiped after finish");

#define SEAL(i) do { \
	ok(wa_noise_seal(&t.send, buf, nv_c2s_plain##i, nv_c2s_plain##i##_len) == 0 && \
	    EQ(buf, nv_c2s_plain##i##_len + 16, nv_c2s_frame##i), "client frame %d equals Baileys'", i); \
	} while (0)
#define OPEN(i) do { \
	ok(wa_noise_open(&t.recv, buf, nv_s2c_frame##i, nv_s2c_frame##i##_len) == 0 && \
	    EQ(buf, nv_s2c_frame##i##_len - 16, nv_s2c_plain##i), "server frame %d opens", i); \
	} while (0)
	SEAL(0);
	OPEN(0);
	OPEN(1);
	SEAL(1);
	SEAL(2);
	OPEN(2);
	ok(nv_s2c_plain2[0] == 2, "(the third server frame is a compressed one)");
	wa_noise_transport_wipe(&t);
	ok(zero(&t, sizeof(t)), "transport wipe clears the keys");
	wa_noise_client_wipe(&c);
}

static int
server_hello_with(const unsigned char *msg, size_t len, struct wa_why *why)
{
	struct wa_noise_client c;
	struct wa_keypair s, e;
	unsigned char *hello, *cert = NULL;
	size_t hlen, clen;
	int rc;

	load(&s, nv_client_static_priv);
	load(&e, nv_client_eph_priv);
	if (wa_noise_client_start(&c, &s, &e, &hello, &hlen) < 0)
		abort();
	free(hello);
	rc = wa_noise_client_server_hello(&c, msg, len, &cert, &clen, why);
	if (rc < 0 && (c.step != WA_NOISE_FAILED || !zero(&c.hs, sizeof(c.hs)) ||
	    !zero(&c.e, sizeof(c.e)) || cert))
		rc = 999; /* failed without wiping */
	free(cert);
	wa_noise_client_wipe(&c);
	return rc;
}

/* The vector ServerHello with one field replaced. */
static int
tampered(int which, struct wa_why *why)
{
	Wa__HandshakeMessage *m = wa__handshake_message__unpack(NULL, nv_server_hello_len, nv_server_hello);
	Wa__HandshakeMessage__ServerHello *sh = m->serverhello;
	unsigned char copy[1024], zeros[32] = { 0 };
	unsigned char out[2048];
	ProtobufCBinaryData keep_e = sh->ephemeral, keep_s = sh->static_, keep_p = sh->payload;
	size_t n;
	int rc;

	switch (which) {
	case 0: /* flip a bit of the encrypted static key */
		memcpy(copy, sh->static_.data, sh->static_.len);
		copy[5] ^= 1;
		sh->static_.data = copy;
		break;
	case 1: /* flip a bit of the encrypted certificate */
		memcpy(copy, sh->payload.data, sh->payload.len);
		copy[sh->payload.len - 1] ^= 0x80;
		sh->payload.data = copy;
		break;
	case 2: /* 31-byte ephemeral */
		sh->ephemeral.len = 31;
		break;
	case 3: /* no static */
		sh->has_static_ = 0;
		break;
	case 4: /* low-order ephemeral */
		sh->ephemeral.data = zeros;
		break;
	case 5: /* a different (valid) ephemeral: decryption fails */
		memcpy(copy, sh->ephemeral.data, 32);
		copy[0] ^= 2;
		sh->ephemeral.data = copy;
		break;
	case 6: /* static truncated to a tag */
		sh->static_.len = 16;
		break;
	}
	n = wa__handshake_message__pack(m, out);
	rc = server_hello_with(out, n, why);
	sh->ephemeral = keep_e;
	sh->static_ = keep_s;
	sh->payload = keep_p;
	sh->has_static_ = 1;
	wa__handshake_message__free_unpacked(m, NULL);
	return rc;
}

static void
test_tamper(void)
{
	struct wa_why why;
	static const unsigned char garbage[] = { 0x0f, 0xff, 0xff, 0xff };
	unsigned char buf[64];
	struct wa_noise_cipher a, b;

	is_int(server_hello_with(garbage, sizeof(garbage), &why), WA_EPROTO, "garbage ServerHello");
	is_int(server_hello_with(nv_client_hello, nv_client_hello_len, &why), WA_EPROTO,
	    "a ClientHello where the ServerHello belongs");
	is_int(tampered(0, &why), WA_EVERIFY, "flipped bit in the static key ciphertext");
	ok(strstr(why.text, "static") != NULL, "why names the static key: %s", why.text);
	is_int(tampered(1, &why), WA_EVERIFY, "flipped bit in the certificate ciphertext");
	is_int(tampered(2, &why), WA_EPROTO, "31-byte server ephemeral");
	is_int(tampered(3, &why), WA_EPROTO, "missing static");
	is_int(tampered(4, &why), WA_EVERIFY, "low-order server ephemeral");
	is_int(tampered(5, &why), WA_EVERIFY, "a different server ephemeral");
	is_int(tampered(6, &why), WA_EPROTO, "static without a key in it");

	{
		struct wa_noise_client c;
		unsigned char *p;
		size_t n;
		struct wa_noise_transport t;
		memset(&c, 0, sizeof(c));
		is_int(wa_noise_client_finish(&c, "x", 1, &p, &n, &t, &why), WA_EPROTO,
		    "finish before the server hello");
		is_int(wa_noise_client_server_hello(&c, nv_server_hello, nv_server_hello_len, &p, &n, &why),
		    WA_EPROTO, "server hello before start");
	}

	/* Transport: a bad tag fails, the counter still advances. */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memcpy(a.key, nv_k1, 32);
	memcpy(b.key, nv_k1, 32);
	unsigned char f0[32], f1[32];
	wa_noise_seal(&a, f0, "hello", 5);
	wa_noise_seal(&a, f1, "world", 5);
	f0[2] ^= 1;
	is_int(wa_noise_open(&b, buf, f0, 21), WA_EVERIFY, "tampered transport frame refused");
	ok(wa_noise_open(&b, buf, f1, 21) == 0 && memcmp(buf, "world", 5) == 0,
	    "the next frame still opens (counter advanced)");
	is_int(wa_noise_open(&b, buf, f1, 15), WA_EPROTO, "a frame shorter than a tag");
	b.n = UINT32_MAX;
	is_int(wa_noise_open(&b, buf, f1, 21), WA_EVERIFY, "counter 2^32-1 still used");
	is_int(wa_noise_open(&b, buf, f1, 21), WA_EPROTO, "counter 2^32 refused: no IV reuse");
	a.n = (uint64_t)UINT32_MAX + 1;
	is_int(wa_noise_seal(&a, f0, "x", 1), WA_EPROTO, "sealing past 2^32 frames refused");
}

/* A responder (wa-protocol(7) §2.5) from the primitives, for random runs. */
static int
respond(const unsigned char *hello, size_t hlen, const struct wa_keypair *ss,
    const unsigned char *cert, size_t certlen, unsigned char **out, size_t *outlen,
    struct wa_noise_hs *hs, struct wa_keypair *se, unsigned char re[32])
{
	Wa__HandshakeMessage *m = wa__handshake_message__unpack(NULL, hlen, hello);
	Wa__HandshakeMessage r = WA__HANDSHAKE_MESSAGE__INIT;
	Wa__HandshakeMessage__ServerHello sh = WA__HANDSHAKE_MESSAGE__SERVER_HELLO__INIT;
	unsigned char st[48], *pc = malloc(certlen + 16);

	if (!m || !m->clienthello || m->clienthello->ephemeral.len != 32)
		return -1;
	memcpy(re, m->clienthello->ephemeral.data, 32);
	wa__handshake_message__free_unpacked(m, NULL);
	wa_curve_keypair(se);
	wa_noise_hs_init(hs, "WA\x06\x03", 4);
	wa_noise_hs_mix_hash(hs, re, 32);
	wa_noise_hs_mix_hash(hs, se->pub, 32);
	wa_noise_hs_mix_dh(hs, se->priv, re);
	wa_noise_hs_encrypt(hs, st, ss->pub, 32);
	wa_noise_hs_mix_dh(hs, ss->priv, re);
	wa_noise_hs_encrypt(hs, pc, cert, certlen);
	sh.has_ephemeral = sh.has_static_ = sh.has_payload = 1;
	sh.ephemeral.data = se->pub;
	sh.ephemeral.len = 32;
	sh.static_.data = st;
	sh.static_.len = 48;
	sh.payload.data = pc;
	sh.payload.len = certlen + 16;
	r.serverhello = &sh;
	*outlen = wa__handshake_message__get_packed_size(&r);
	*out = malloc(*outlen);
	wa__handshake_message__pack(&r, *out);
	free(pc);
	return 0;
}

static void
test_selfplay(void)
{
	int i, bad = 0;

	for (i = 0; i < 100; i++) {
		struct wa_keypair cs, ss, se;
		struct wa_noise_client c;
		struct wa_noise_hs hs;
		struct wa_noise_transport t;
		struct wa_noise_cipher srecv, ssend;
		unsigned char re[32], *hello, *sh, *cert, *fin, k1[32], k2[32];
		unsigned char certin[300], payload[2000], dec[2100], ct[2100];
		size_t hlen, shlen, clen, flen, certlen = (size_t)(i * 3) % 300, plen = (size_t)(i * 19) % 2000;
		Wa__HandshakeMessage *m;
		struct wa_why why;

		RAND_bytes(certin, sizeof(certin));
		RAND_bytes(payload, sizeof(payload));
		wa_curve_keypair(&cs);
		wa_curve_keypair(&ss);
		if (wa_noise_client_start(&c, &cs, NULL, &hello, &hlen) < 0 ||
		    respond(hello, hlen, &ss, certin, certlen, &sh, &shlen, &hs, &se, re) < 0) {
			bad++;
			continue;
		}
		free(hello);
		if (wa_noise_client_server_hello(&c, sh, shlen, &cert, &clen, &why) < 0 ||
		    clen != certlen || memcmp(cert, certin, clen) != 0 || memcmp(c.rs, ss.pub, 32) != 0 ||
		    wa_noise_client_finish(&c, payload, plen, &fin, &flen, &t, &why) < 0) {
			bad++;
			free(sh);
			continue;
		}
		free(sh);
		free(cert);
		m = wa__handshake_message__unpack(NULL, flen, fin);
		free(fin);
		/* server side of the finish */
		if (!m || !m->clientfinish ||
		    wa_noise_hs_decrypt(&hs, dec, m->clientfinish->static_.data, m->clientfinish->static_.len) < 0 ||
		    memcmp(dec, cs.pub, 32) != 0 || wa_noise_hs_mix_dh(&hs, se.priv, dec) < 0 ||
		    wa_noise_hs_decrypt(&hs, dec, m->clientfinish->payload.data, m->clientfinish->payload.len) < 0 ||
		    memcmp(dec, payload, plen) != 0 || wa_noise_hs_split(&hs, k1, k2) < 0) {
			bad++;
			if (m)
				wa__handshake_message__free_unpacked(m, NULL);
			continue;
		}
		wa__handshake_message__free_unpacked(m, NULL);
		memset(&srecv, 0, sizeof(srecv));
		memset(&ssend, 0, sizeof(ssend));
		memcpy(srecv.key, k1, 32);
		memcpy(ssend.key, k2, 32);
		for (int j = 0; j < 5; j++) {
			size_t n = (size_t)(j * 37 + i) % 500;
			if (wa_noise_seal(&t.send, ct, payload, n) < 0 ||
			    wa_noise_open(&srecv, dec, ct, n + 16) < 0 || memcmp(dec, payload, n) != 0 ||
			    wa_noise_seal(&ssend, ct, payload + 7, n) < 0 ||
			    wa_noise_open(&t.recv, dec, ct, n + 16) < 0 || memcmp(dec, payload + 7, n) != 0)
				bad++;
		}
		wa_noise_transport_wipe(&t);
		wa_noise_client_wipe(&c);
	}
	is_int(bad, 0, "100 handshakes and 1000 transport frames with a responder from the primitives");
}

int
main(void)
{
	test_keys();
	test_vectors();
	test_tamper();
	test_selfplay();
	done_testing();
	return exit_status();
}

/*
 * fuzz-proto.c - libFuzzer harness for the protobuf decoders wa runs on
 * input it did not make: the handshake messages, the certificate chain
 * (through wa_certchain_verify and the Noise client), the ClientPayload
 * and DeviceProps (read back in tests and tools), the ADV messages of
 * pairing.
 *
 *	make fuzz-build   (or make fuzz: FUZZ_TIME seconds per harness)
 *	ASAN_OPTIONS=quarantine_size_mb=16 build/fuzz/bin/fuzz-proto -max_len=8192 \
 *	    -rss_limit_mb=256 -malloc_limit_mb=64 -max_total_time=120 fuzz/corpus/proto
 *
 * Input: one byte choosing the message type (modulo the table below), then
 * the encoded message.  Properties: whatever unpacks packs again, and
 * that encoding unpacks and packs to the same bytes (a fixed point after
 * one round; libprotobuf-c may refuse its own re-encoding of unknown
 * fields it tolerated, and then only that is allowed); the certificate
 * check never accepts a chain under a root key nobody holds; the Noise
 * client takes any ServerHello without crashing, and when it refuses one
 * it has wiped its handshake secrets and returned nothing.
 * tests/unit/t-fuzzcorpus.c includes this file and replays
 * fuzz/corpus/proto.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "adv.pb-c.h"
#include "wire/certchain.h"
#include "clientpayload.pb-c.h"
#include "handshake.pb-c.h"
#include "wire/noise.h"

#define fp_check(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-proto: %s:%d: property failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static const ProtobufCMessageDescriptor *const fp_types[] = {
	&wa__handshake_message__descriptor,
	&wa__cert_chain__descriptor,
	&wa__cert_chain__noise_certificate__details__descriptor,
	&wa__client_payload__descriptor,
	&wa__device_props__descriptor,
	&wa__advsigned_device_identity_hmac__descriptor,
	&wa__advsigned_device_identity__descriptor,
	&wa__advdevice_identity__descriptor,
	&wa__advsigned_key_index_list__descriptor,
	&wa__advkey_index_list__descriptor,
};
#define FP_NTYPES (sizeof(fp_types) / sizeof(fp_types[0]))

static void
fp_roundtrip(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, p), *m2;
	uint8_t *b1, *b2;
	size_t l1, l2;

	if (!m)
		return;
	l1 = protobuf_c_message_get_packed_size(m);
	b1 = malloc(l1 + 1);
	fp_check(b1);
	fp_check(protobuf_c_message_pack(m, b1) == l1);
	m2 = protobuf_c_message_unpack(d, NULL, l1, b1);
	if (!m2) {
		/* libprotobuf-c keeps unknown fields and writes them back as
		 * read; a tag it tolerated once (field 0 in a non-minimal
		 * varint: 80 00) it refuses the second time.  The unknown
		 * field may sit in a nested message (fuzz/corpus/proto/
		 * nested-field0: 12 03 80 00 00), so the top level need not
		 * have any.  Not ours to fix: the decoder did not crash, and
		 * only messages that re-decode are compared below. */
		free(b1);
		protobuf_c_message_free_unpacked(m, NULL);
		return;
	}
	l2 = protobuf_c_message_get_packed_size(m2);
	b2 = malloc(l2 + 1);
	fp_check(b2);
	fp_check(protobuf_c_message_pack(m2, b2) == l2);
	fp_check(l1 == l2 && memcmp(b1, b2, l1) == 0);
	free(b1);
	free(b2);
	protobuf_c_message_free_unpacked(m, NULL);
	protobuf_c_message_free_unpacked(m2, NULL);
}

static void
fp_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		fp_check(*b++ == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A root key whose private key nobody has (not a key anyone made). */
	static const unsigned char root[32] = { 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42 };
	static const unsigned char stat[32] = { 9 };
	const ProtobufCMessageDescriptor *d;
	const uint8_t *p;
	size_t n;

	if (size == 0)
		return 0;
	d = fp_types[data[0] % FP_NTYPES];
	p = data + 1;
	n = size - 1;
	fp_roundtrip(d, p, n);

	if (d == &wa__cert_chain__descriptor) {
		int rc = wa_certchain_verify(p, n, root, stat, 1750000000, NULL);
		fp_check(rc == WA_EVERIFY || rc == WA_ENOMEM);
	}
	if (d == &wa__handshake_message__descriptor) {
		struct wa_noise_client c;
		struct wa_keypair s;
		unsigned char *hello = NULL, *cert = NULL;
		size_t hl, cl;
		int rc;

		memset(&s, 0, sizeof(s));
		s.priv[0] = 0x40;
		fp_check(wa_curve_keypair_from_private(&s) == 0);
		fp_check(wa_noise_client_start(&c, &s, NULL, &hello, &hl) == 0);
		free(hello);
		rc = wa_noise_client_server_hello(&c, p, n, &cert, &cl, NULL);
		if (rc < 0) {
			fp_check(cert == NULL && c.step == WA_NOISE_FAILED);
			fp_zero(&c.hs, sizeof(c.hs));
			fp_zero(&c.e, sizeof(c.e));
		}
		free(cert);
		wa_noise_client_wipe(&c);
	}
	return 0;
}

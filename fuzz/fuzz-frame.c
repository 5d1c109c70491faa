/*
 * fuzz-frame.c - libFuzzer harness for what a connection does with bytes
 * from the server after the handshake: frame reassembly (frame.c) with a
 * cap, the transport cipher (noise.c), the flags byte with zlib inflation
 * under a cap, and node decoding (binary.c).
 *
 *	make fuzz-build   (or make fuzz: FUZZ_TIME seconds per harness)
 *	ASAN_OPTIONS=quarantine_size_mb=16 build/fuzz/bin/fuzz-frame -max_len=65536 \
 *	    -rss_limit_mb=256 -malloc_limit_mb=64 -max_total_time=120 fuzz/corpus/frame
 *
 * Input: one byte that seeds how the stream is cut into websocket
 * messages, then the stream (3-byte lengths and frame payloads, a payload
 * being a frame plaintext: flags byte + node).  Properties:
 *  - the frames delivered, and where the reader fails, do not depend on
 *    the cut (compared with feeding the whole stream at once);
 *  - no frame over the cap is ever delivered, nothing inflates past its cap;
 *  - a frame sealed with the transport cipher opens to the same bytes, and
 *    the same frame with one bit flipped does not open;
 *  - whatever decodes also formats as text.
 * A broken property aborts.  tests/unit/t-fuzzcorpus.c includes this file
 * and replays fuzz/corpus/frame, so every kept input is a regression test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/binary.h"
#include "wire/frame.h"
#include "wire/node.h"
#include "wire/noise.h"

#define FF_FRAME_MAX ((size_t)1 << 16)
#define FF_INFLATE_MAX ((size_t)1 << 20)

#define ff_check(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-frame: %s:%d: property failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

/* FNV-1a over every frame delivered (length, then bytes). */
struct ff_trace {
	uint64_t h;
	size_t frames;
	int decode; /* also run the receive path on each frame */
};

static void
ff_mix(struct ff_trace *t, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		t->h ^= *b++;
		t->h *= 1099511628211ull;
	}
}

static void
ff_receive(const unsigned char *f, size_t len)
{
	static const unsigned char key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct wa_noise_cipher s, r;
	struct wa_node *n = NULL;
	unsigned char *ct, *pt;
	char *text;

	/* The transport round trip on this frame. */
	ct = malloc(len + WA_NOISE_TAG_LEN);
	pt = malloc(len + 1);
	ff_check(ct && pt);
	memset(&s, 0, sizeof(s));
	memset(&r, 0, sizeof(r));
	memcpy(s.key, key, 32);
	memcpy(r.key, key, 32);
	ff_check(wa_noise_seal(&s, ct, f, len) == 0);
	ff_check(wa_noise_open(&r, pt, ct, len + WA_NOISE_TAG_LEN) == 0);
	ff_check(len == 0 || memcmp(pt, f, len) == 0);
	ct[len / 2] ^= 0x10;
	r.n = 0;
	ff_check(wa_noise_open(&r, pt, ct, len + WA_NOISE_TAG_LEN) == WA_EVERIFY);
	/* The raw frame taken as a ciphertext: never opens. */
	r.n = 0;
	ff_check(wa_noise_open(&r, pt, f, len) < 0);
	free(ct);
	free(pt);

	/* Flags, inflation under the cap, decoding. */
	if (len > 0 && (f[0] & 2)) {
		unsigned char *body = NULL;
		size_t blen = 0;
		int rc = wa_binary_unpack(&body, &blen, f, len, FF_INFLATE_MAX, NULL);
		if (rc == 0)
			ff_check(blen <= FF_INFLATE_MAX);
		free(body);
	}
	if (wa_binary_decode_frame(&n, f, len, FF_INFLATE_MAX, NULL) == 0) {
		ff_check(n != NULL);
		if (wa_node_format(&text, n, 0) == 0)
			free(text);
		wa_node_free(n);
	}
}

static int
ff_on_frame(void *arg, const unsigned char *f, size_t len)
{
	struct ff_trace *t = arg;
	uint32_t l = (uint32_t)len;

	ff_check(len <= FF_FRAME_MAX);
	ff_mix(t, &l, sizeof(l));
	ff_mix(t, f, len);
	t->frames++;
	if (t->decode)
		ff_receive(f, len);
	return 0;
}

/* Feed stream in pieces; returns the reader's final code. */
static int
ff_feed(struct ff_trace *t, const uint8_t *p, size_t n, unsigned seed)
{
	struct wa_frame_reader r;
	uint32_t x = seed * 2654435761u + 1;
	int rc = 0;

	wa_frame_reader_init(&r, FF_FRAME_MAX);
	while (n > 0 && rc == 0) {
		size_t k;
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		k = seed == 0 ? n : 1 + x % (seed < 16 ? 4 : 300);
		if (k > n)
			k = n;
		rc = wa_frame_reader_feed(&r, p, k, ff_on_frame, t);
		p += k;
		n -= k;
	}
	if (rc == 0)
		rc = -(int)wa_frame_reader_pending(&r) - 1000; /* what is left, as a code */
	wa_frame_reader_free(&r);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ff_trace whole = { 14695981039346656037ull, 0, 1 };
	struct ff_trace cut = { 14695981039346656037ull, 0, 0 };
	int rc1, rc2;

	if (size == 0)
		return 0;
	rc1 = ff_feed(&whole, data + 1, size - 1, 0);
	rc2 = ff_feed(&cut, data + 1, size - 1, data[0] | 1u);
	ff_check(rc1 == rc2);
	ff_check(whole.frames == cut.frames && whole.h == cut.h);
	return 0;
}

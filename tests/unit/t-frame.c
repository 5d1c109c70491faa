/*
 * t-frame.c - the frame reader: any split of the byte stream gives the same
 * frames; a length over the cap fails before anything is allocated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "wire/frame.h"
#include "tap.h"

/* What the callback saw: every frame appended, with its length. */
struct seen {
	unsigned char *bytes;
	size_t len, cap;
	size_t frames;
	size_t stop_after; /* return an error at this frame (1-based), 0: never */
};

static int
collect(void *arg, const unsigned char *f, size_t n)
{
	struct seen *s = arg;

	if (s->stop_after && s->frames + 1 == s->stop_after)
		return WA_EPROTO;
	if (s->len + n + 4 > s->cap) {
		s->cap = (s->len + n + 4) * 2;
		s->bytes = realloc(s->bytes, s->cap);
		if (!s->bytes)
			abort();
	}
	s->bytes[s->len++] = (unsigned char)(n >> 24);
	s->bytes[s->len++] = (unsigned char)(n >> 16);
	s->bytes[s->len++] = (unsigned char)(n >> 8);
	s->bytes[s->len++] = (unsigned char)n;
	memcpy(s->bytes + s->len, f, n);
	s->len += n;
	s->frames++;
	return 0;
}

static uint32_t rng = 12345;
static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* A stream of frames with these payload sizes; payload bytes are random. */
static unsigned char *
make_stream(const size_t *sizes, size_t n, size_t *outlen)
{
	size_t total = 0, i, j;
	unsigned char *b, *p;

	for (i = 0; i < n; i++)
		total += 3 + sizes[i];
	b = malloc(total ? total : 1);
	p = b;
	for (i = 0; i < n; i++) {
		*p++ = (unsigned char)(sizes[i] >> 16);
		*p++ = (unsigned char)(sizes[i] >> 8);
		*p++ = (unsigned char)sizes[i];
		for (j = 0; j < sizes[i]; j++)
			*p++ = (unsigned char)rnd();
	}
	*outlen = total;
	return b;
}

static int
same(const struct seen *a, const struct seen *b)
{
	return a->frames == b->frames && a->len == b->len &&
	    (a->len == 0 || memcmp(a->bytes, b->bytes, a->len) == 0);
}

/* Feed the stream in pieces whose boundaries are cuts[0..ncuts). */
static int
feed_cut(struct seen *s, const unsigned char *b, size_t len, const size_t *cuts, size_t ncuts,
    size_t max)
{
	struct wa_frame_reader r;
	size_t at = 0, i;
	int rc = 0;

	wa_frame_reader_init(&r, max);
	for (i = 0; i <= ncuts && rc == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		rc = wa_frame_reader_feed(&r, b + at, end - at, collect, s);
		at = end;
	}
	if (rc == 0 && wa_frame_reader_pending(&r) != 0)
		rc = 1;
	wa_frame_reader_free(&r);
	return rc;
}

static void
test_splits(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 17, 0, 255, 256, 1000, 4, 0, 65, 3 };
	size_t n = sizeof(sizes) / sizeof(sizes[0]), len, i, j;
	unsigned char *b = make_stream(sizes, n, &len);
	struct seen want = { 0 }, got;
	int bad = 0;

	is_int(feed_cut(&want, b, len, NULL, 0, 0), 0, "whole stream in one message");
	is_int(want.frames, n, "%zu frames", n);

	/* One cut at every byte boundary. */
	for (i = 0; i <= len; i++) {
		memset(&got, 0, sizeof(got));
		if (feed_cut(&got, b, len, &i, 1, 0) != 0 || !same(&got, &want))
			bad++;
		free(got.bytes);
	}
	is_int(bad, 0, "split in two at each of %zu byte boundaries", len + 1);

	/* Two cuts at every pair of boundaries in the first 400 bytes: the
	 * length itself split in all three ways. */
	bad = 0;
	for (i = 0; i <= 400; i++)
		for (j = i; j <= 400; j++) {
			size_t cuts[2] = { i, j };
			memset(&got, 0, sizeof(got));
			if (feed_cut(&got, b, len, cuts, 2, 0) != 0 || !same(&got, &want))
				bad++;
			free(got.bytes);
		}
	is_int(bad, 0, "split in three at every pair of boundaries in the first 400 bytes");

	/* One byte per message. */
	{
		size_t *cuts = malloc(len * sizeof(*cuts));
		for (i = 0; i < len; i++)
			cuts[i] = i;
		memset(&got, 0, sizeof(got));
		ok(feed_cut(&got, b, len, cuts, len, 0) == 0 && same(&got, &want),
		    "one byte per message");
		free(got.bytes);
		free(cuts);
	}

	/* Random chunkings. */
	bad = 0;
	for (i = 0; i < 2000; i++) {
		size_t cuts[16], nc = rnd() % 16, k;
		for (k = 0; k < nc; k++)
			cuts[k] = rnd() % (len + 1);
		for (k = 1; k < nc; k++) { /* insertion sort */
			size_t v = cuts[k], m = k;
			while (m > 0 && cuts[m - 1] > v) {
				cuts[m] = cuts[m - 1];
				m--;
			}
			cuts[m] = v;
		}
		memset(&got, 0, sizeof(got));
		if (feed_cut(&got, b, len, cuts, nc, 0) != 0 || !same(&got, &want))
			bad++;
		free(got.bytes);
	}
	is_int(bad, 0, "2000 random chunkings");
	free(want.bytes);
	free(b);
}

static void
test_many_in_one(void)
{
	size_t sizes[5000], len, i;
	unsigned char *b;
	struct seen got = { 0 };

	for (i = 0; i < 5000; i++)
		sizes[i] = rnd() % 40;
	b = make_stream(sizes, 5000, &len);
	is_int(feed_cut(&got, b, len, NULL, 0, 0), 0, "5000 frames in one message");
	is_int(got.frames, 5000, "all 5000 delivered");
	free(got.bytes);
	free(b);
}

static void
test_big(void)
{
	/* The largest frame three bytes can describe, fed in odd pieces. */
	size_t sizes[2] = { WA_FRAME_MAX, 5 }, len;
	unsigned char *b = make_stream(sizes, 2, &len);
	size_t cuts[4] = { 1, 4, 1000001, len - 6 };
	struct seen got = { 0 }, want = { 0 };

	is_int(feed_cut(&want, b, len, NULL, 0, 0), 0, "a frame of 2^24-1 bytes passes at the default cap");
	ok(feed_cut(&got, b, len, cuts, 4, 0) == 0 && same(&got, &want) && got.frames == 2,
	    "and the same split in five");
	free(got.bytes);
	free(want.bytes);
	free(b);
}

static void
test_oversized(void)
{
	struct wa_frame_reader r;
	struct seen s = { 0 };
	static const unsigned char huge[] = { 0xff, 0xff, 0xff, 'x' };
	static const unsigned char over[] = { 0x00, 0x03, 0xe9 }; /* 1001 */
	static const unsigned char at[] = { 0x00, 0x03, 0xe8 };   /* 1000 */

	wa_frame_reader_init(&r, 1000);
	is_int(wa_frame_reader_feed(&r, huge, 4, collect, &s), WA_ETOOBIG,
	    "length 2^24-1 over a cap of 1000: refused");
	ok(r.buf == NULL, "nothing was allocated for it");
	is_int(wa_frame_reader_feed(&r, at, 3, collect, &s), WA_ETOOBIG,
	    "the reader stays failed");
	wa_frame_reader_free(&r);

	wa_frame_reader_init(&r, 1000);
	is_int(wa_frame_reader_feed(&r, over, 1, collect, &s), 0, "first length byte held");
	is_int(wa_frame_reader_feed(&r, over + 1, 1, collect, &s), 0, "second length byte held");
	is_int(wa_frame_reader_feed(&r, over + 2, 1, collect, &s), WA_ETOOBIG,
	    "cap+1 refused on the third length byte, before any payload");
	ok(r.buf == NULL, "nothing allocated");
	wa_frame_reader_free(&r);

	wa_frame_reader_init(&r, 1000);
	is_int(wa_frame_reader_feed(&r, at, 3, collect, &s), 0, "exactly the cap: accepted");
	ok(r.buf == NULL && wa_frame_reader_pending(&r) == 3,
	    "a promised length allocates nothing until payload arrives");
	wa_frame_reader_free(&r);
	is_int(s.frames, 0, "no frame delivered");
	free(s.bytes);
}

static void
test_callback_error(void)
{
	size_t sizes[3] = { 2, 2, 2 }, len;
	unsigned char *b = make_stream(sizes, 3, &len);
	struct wa_frame_reader r;
	struct seen s = { 0 };

	s.stop_after = 2;
	wa_frame_reader_init(&r, 0);
	is_int(wa_frame_reader_feed(&r, b, len, collect, &s), WA_EPROTO,
	    "a callback error stops feeding and is returned");
	is_int(s.frames, 1, "frames after it are not delivered");
	is_int(wa_frame_reader_feed(&r, b, 3, collect, &s), WA_EPROTO, "and sticks");
	wa_frame_reader_free(&r);
	free(s.bytes);
	free(b);
}

/* A frame fed one byte at a time: the buffer grows geometrically (a
 * logarithmic number of reallocations, not one per piece), never past the
 * frame, and the frame arrives whole. */
static void
test_growth(void)
{
	struct wa_frame_reader r;
	struct seen s = { 0 };
	size_t n = 1 << 20, i, caps = 0, last = 0, over = 0;
	unsigned char *msg = NULL, *payload = malloc(n);
	size_t mlen;

	for (i = 0; i < n; i++)
		payload[i] = (unsigned char)(i * 7);
	if (wa_frame_encode(&msg, &mlen, NULL, 0, payload, n) < 0)
		abort();
	wa_frame_reader_init(&r, 0);
	for (i = 0; i < mlen; i++) {
		if (wa_frame_reader_feed(&r, msg + i, 1, collect, &s) < 0)
			break;
		if (r.cap != last) {
			caps++;
			last = r.cap;
		}
		if (r.cap > n)
			over = 1;
	}
	is_int(s.frames, 1, "a 1 MiB frame fed byte by byte arrives");
	ok(s.len == n + 4 && memcmp(s.bytes + 4, payload, n) == 0, "whole");
	ok(r.reallocs >= 1 && r.reallocs <= 16, "%lu reallocations for 1048576 one-byte pieces (at most 16)",
	    r.reallocs);
	ok(caps <= 17 && !over, "the capacity changed %zu times, never past the frame", caps);
	wa_frame_reader_free(&r);
	free(msg);
	free(payload);
	free(s.bytes);
}

static void
test_encode(void)
{
	unsigned char *out;
	size_t len;
	static const unsigned char want[] = { 'W', 'A', 6, 3, 0, 0, 2, 0xab, 0xcd };

	is_int(wa_frame_encode(&out, &len, wa_frame_intro, WA_FRAME_INTRO_LEN, "\xab\xcd", 2), 0,
	    "encode with the intro");
	ok(len == sizeof(want) && memcmp(out, want, len) == 0, "57 41 06 03 00 00 02 ab cd");
	free(out);
	is_int(wa_frame_encode(&out, &len, NULL, 0, "", 0), 0, "an empty frame");
	ok(len == 3 && out[0] == 0 && out[1] == 0 && out[2] == 0, "is 00 00 00");
	free(out);
	is_int(wa_frame_encode(&out, &len, NULL, 0, "", (size_t)WA_FRAME_MAX + 1), WA_ETOOBIG,
	    "2^24 bytes cannot be framed");
	ok(out == NULL, "and nothing is returned");
}

int
main(void)
{
	test_splits();
	test_many_in_one();
	test_big();
	test_oversized();
	test_callback_error();
	test_encode();
	test_growth();
	done_testing();
	return exit_status();
}

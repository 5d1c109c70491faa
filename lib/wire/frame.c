/*
 * frame.c - split a byte stream into length-prefixed frames.
 *
 * State: up to three length bytes (nhdr), then the payload of one frame
 * (buf, have of want).  Input is consumed left to right; a frame whose
 * length bytes and payload both lie in the current input is handed to the
 * callback straight from the input, so only frames that straddle two
 * websocket messages are copied.  The partial buffer grows with what has
 * arrived, not with what the length promises, so a peer announcing 16 MiB
 * and sending nothing costs nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "wire/frame.h"

const unsigned char wa_frame_intro[WA_FRAME_INTRO_LEN] = { 'W', 'A', 6, 3 };

void
wa_frame_reader_init(struct wa_frame_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = (max == 0 || max > WA_FRAME_MAX) ? WA_FRAME_MAX : max;
}

void
wa_frame_reader_free(struct wa_frame_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->nhdr = r->want = r->have = r->cap = 0;
}

size_t
wa_frame_reader_pending(const struct wa_frame_reader *r)
{
	return r->nhdr + r->have;
}

static int
fail(struct wa_frame_reader *r, int rc)
{
	r->err = rc;
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
	return rc;
}

/* A whole frame is ready in r->buf: deliver it and reset. */
static int
deliver(struct wa_frame_reader *r, wa_frame_fn fn, void *arg)
{
	unsigned char *b = r->buf;
	size_t n = r->want;
	int rc;

	r->buf = NULL;
	r->nhdr = r->want = r->have = r->cap = 0;
	rc = fn(arg, b ? b : (const unsigned char *)"", n);
	free(b);
	return rc;
}

int
wa_frame_reader_feed(struct wa_frame_reader *r, const void *data, size_t len,
    wa_frame_fn fn, void *arg)
{
	const unsigned char *p = data;
	int rc;

	if (r->err)
		return r->err;
	while (len > 0 || (r->nhdr == WA_FRAME_HDR_LEN && r->have == r->want)) {
		if (r->nhdr < WA_FRAME_HDR_LEN) {
			/* Fast path: a whole frame in the input, nothing held. */
			if (r->nhdr == 0 && len >= WA_FRAME_HDR_LEN) {
				size_t n = (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
				if (n > r->max)
					return fail(r, WA_ETOOBIG);
				if (len - WA_FRAME_HDR_LEN >= n) {
					rc = fn(arg, p + WA_FRAME_HDR_LEN, n);
					if (rc < 0)
						return fail(r, rc);
					p += WA_FRAME_HDR_LEN + n;
					len -= WA_FRAME_HDR_LEN + n;
					continue;
				}
			}
			r->hdr[r->nhdr++] = *p++;
			len--;
			if (r->nhdr < WA_FRAME_HDR_LEN)
				continue;
			r->want = (size_t)r->hdr[0] << 16 | (size_t)r->hdr[1] << 8 | r->hdr[2];
			r->have = 0;
			if (r->want > r->max)
				return fail(r, WA_ETOOBIG);
			continue;
		}
		if (r->have < r->want) {
			size_t take = r->want - r->have;
			if (take > len)
				take = len;
			/* Grow only when what has arrived does not fit: to at
			 * least double (so a frame fed in small pieces costs a
			 * logarithmic number of reallocations), capped at want. */
			size_t need = r->have + take;
			if (need > r->cap) {
				size_t cap = r->cap > r->want / 2 ? r->want : 2 * r->cap;
				if (cap < need)
					cap = need;
				if (cap < 256 && r->want >= 256)
					cap = 256;
				if (cap > r->want)
					cap = r->want;
				unsigned char *nb = realloc(r->buf, cap);
				if (!nb)
					return fail(r, WA_ENOMEM);
				r->buf = nb;
				r->cap = cap;
#ifdef WA_TESTING
				r->reallocs++;
#endif
			}
			memcpy(r->buf + r->have, p, take);
			r->have += take;
			p += take;
			len -= take;
		}
		if (r->have == r->want) {
			rc = deliver(r, fn, arg);
			if (rc < 0)
				return fail(r, rc);
		}
	}
	return 0;
}

int
wa_frame_encode(unsigned char **out, size_t *outlen, const unsigned char *intro,
    size_t introlen, const void *payload, size_t len)
{
	unsigned char *b;

	*out = NULL;
	*outlen = 0;
	if (len > WA_FRAME_MAX)
		return WA_ETOOBIG;
	b = malloc(introlen + WA_FRAME_HDR_LEN + len + 1);
	if (!b)
		return WA_ENOMEM;
	if (introlen)
		memcpy(b, intro, introlen);
	b[introlen] = (unsigned char)(len >> 16);
	b[introlen + 1] = (unsigned char)(len >> 8);
	b[introlen + 2] = (unsigned char)len;
	if (len)
		memcpy(b + introlen + WA_FRAME_HDR_LEN, payload, len);
	*out = b;
	*outlen = introlen + WA_FRAME_HDR_LEN + len;
	return 0;
}

/*
 * frame.h - the frame layer under Noise (wa-protocol(7) §1.2, §1.4).
 *
 * Every frame is a 3-byte big-endian length and that many bytes.  The
 * client's first websocket message starts with the 4-byte connection
 * header "WA" 6 3 (wa_frame_intro), sent once.  Websocket message
 * boundaries mean nothing: a message may hold several frames, a frame (and
 * its length) may be split across messages.  The reader below is fed the
 * bytes as they come and hands out whole frames.
 *
 *	struct wa_frame_reader r;
 *	wa_frame_reader_init(&r, WA_FRAME_MAX);
 *	for each websocket message:
 *		rc = wa_frame_reader_feed(&r, msg, len, on_frame, arg);
 *		if (rc < 0) the connection is broken: close it
 *	wa_frame_reader_free(&r);
 *
 * A length above the reader's cap is refused (WA_ETOOBIG) as soon as the
 * three length bytes are in, before anything is allocated for it.  After
 * an error the reader stays failed and refuses more input.
 */
#ifndef WA_FRAME_H
#define WA_FRAME_H

#include <stddef.h>

#define WA_FRAME_INTRO_LEN 4
#define WA_FRAME_HDR_LEN 3
#define WA_FRAME_MAX 0xFFFFFFu /* the largest length three bytes hold */

/* 'W' 'A' 6 (magic) 3 (token dictionary version); also the Noise prologue */
extern const unsigned char wa_frame_intro[WA_FRAME_INTRO_LEN];

struct wa_frame_reader {
	size_t max;		 /* frames longer than this are refused */
	unsigned char hdr[WA_FRAME_HDR_LEN];
	size_t nhdr;		 /* length bytes held */
	unsigned char *buf;	 /* payload of the frame being assembled */
	size_t want, have;
	size_t cap;		 /* bytes allocated at buf (>= have, <= want) */
	int err;		 /* sticky: first error returned */
#ifdef WA_TESTING
	unsigned long reallocs;	 /* test builds: how often buf was (re)allocated */
#endif
};

/* Called once per whole frame, in order.  frame is only valid during the
 * call.  A negative return stops feeding and is returned by feed (and
 * makes the reader fail). */
typedef int (*wa_frame_fn)(void *arg, const unsigned char *frame, size_t len);

/* max: the largest frame accepted (at most WA_FRAME_MAX; 0 means that). */
void wa_frame_reader_init(struct wa_frame_reader *r, size_t max);

/* Take len more bytes; call fn for every frame they complete.  Frames that
 * lie wholly in data are passed without a copy.  Returns 0, WA_ETOOBIG (a
 * length above max), WA_ENOMEM, or fn's negative return; then the reader
 * has failed and every later call returns the same code. */
int wa_frame_reader_feed(struct wa_frame_reader *r, const void *data, size_t len,
    wa_frame_fn fn, void *arg);

/* Bytes held for an incomplete frame (its length bytes included): nonzero
 * when the peer closes mid-frame. */
size_t wa_frame_reader_pending(const struct wa_frame_reader *r);

/* Free the partial frame.  The reader may be initialised again. */
void wa_frame_reader_free(struct wa_frame_reader *r);

/* One outgoing websocket message: intro (introlen bytes, may be 0), the
 * 3-byte length of len, then payload.  *out is malloc'd, the caller frees
 * it.  WA_ETOOBIG if len > WA_FRAME_MAX, WA_ENOMEM. */
int wa_frame_encode(unsigned char **out, size_t *outlen, const unsigned char *intro,
    size_t introlen, const void *payload, size_t len);

#endif

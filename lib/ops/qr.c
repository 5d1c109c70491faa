/*
 * qr.c - QR symbols from libqrencode, drawn in half blocks (qr.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "ops/qr.h"

#define COLOUR "\033[38;5;16;48;5;231m" /* black on white, fixed palette entries */
#define RESET "\033[0m"

static const char *const cell[4] = {
	" ",            /* neither */
	"\xe2\x96\x80", /* U+2580 upper half: top dark */
	"\xe2\x96\x84", /* U+2584 lower half: bottom dark */
	"\xe2\x96\x88", /* U+2588 full block: both */
};

int
wa_qr_encode(struct wa_qr *qr, const char *text)
{
	QRcode *c;
	size_t i, n;

	memset(qr, 0, sizeof *qr);
	if (!text || !*text)
		return WA_EINVAL;
	errno = 0;
	c = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	if (!c)
		return errno == ENOMEM ? WA_ENOMEM : errno == ERANGE ? WA_ETOOBIG : WA_EINVAL;
	n = (size_t)c->width * (size_t)c->width;
	if (!(qr->dark = malloc(n))) {
		QRcode_free(c);
		return WA_ENOMEM;
	}
	for (i = 0; i < n; i++)
		qr->dark[i] = c->data[i] & 1;
	qr->version = c->version;
	qr->width = c->width;
	QRcode_free(c);
	return 0;
}

void
wa_qr_free(struct wa_qr *qr)
{
	if (!qr)
		return;
	free(qr->dark);
	memset(qr, 0, sizeof *qr);
}

void
wa_qr_size(const struct wa_qr *qr, int quiet, int *cols, int *rows)
{
	int side = qr->width + 2 * quiet;

	if (cols)
		*cols = side;
	if (rows)
		*rows = (side + 1) / 2;
}

int
wa_qr_fits(const struct wa_qr *qr, int cols, int rows)
{
	static const int quiet[] = { WA_QR_QUIET, WA_QR_QUIET_MIN };
	int c, r;
	size_t i;

	for (i = 0; i < sizeof quiet / sizeof quiet[0]; i++) {
		wa_qr_size(qr, quiet[i], &c, &r);
		if (c <= cols && r <= rows)
			return quiet[i];
	}
	return 0;
}

size_t
wa_qr_render_size(const struct wa_qr *qr, int quiet, unsigned flags)
{
	int c, r;
	size_t line;

	wa_qr_size(qr, quiet, &c, &r);
	line = (size_t)c * 3 + 1;
	if (!(flags & WA_QR_PLAIN))
		line += sizeof COLOUR - 1 + sizeof RESET - 1;
	return line * (size_t)r + 1;
}

/* The module at (x, y) in quiet-zone coordinates: 1 dark, 0 light. */
static int
module(const struct wa_qr *qr, int quiet, int x, int y)
{
	x -= quiet;
	y -= quiet;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->dark[(size_t)y * (size_t)qr->width + (size_t)x];
}

int
wa_qr_render(char *buf, size_t bufsz, size_t *len, int *cols, int *rows,
    const struct wa_qr *qr, int quiet, unsigned flags)
{
	char *p = buf;
	int c, r, x, y;

	if (bufsz)
		buf[0] = 0;
	if (quiet < 0 || quiet > 16 || !qr->dark)
		return WA_EINVAL;
	if (bufsz < wa_qr_render_size(qr, quiet, flags))
		return WA_ETOOBIG;
	wa_qr_size(qr, quiet, &c, &r);
	for (y = 0; y < r; y++) {
		if (!(flags & WA_QR_PLAIN)) {
			memcpy(p, COLOUR, sizeof COLOUR - 1);
			p += sizeof COLOUR - 1;
		}
		for (x = 0; x < c; x++) {
			const char *s = cell[module(qr, quiet, x, 2 * y) |
			    module(qr, quiet, x, 2 * y + 1) << 1];
			size_t n = strlen(s);

			memcpy(p, s, n);
			p += n;
		}
		if (!(flags & WA_QR_PLAIN)) {
			memcpy(p, RESET, sizeof RESET - 1);
			p += sizeof RESET - 1;
		}
		*p++ = '\n';
	}
	*p = 0;
	if (len)
		*len = (size_t)(p - buf);
	if (cols)
		*cols = c;
	if (rows)
		*rows = r;
	return 0;
}

/*
 * qr.c - QR symbols from libqrencode, drawn in half blocks (qr.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>
#include <zlib.h>

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

/* ---- images ---- */

/* 1 when the module at (x, y) of the symbol with its quiet zone is dark */
static int
dark_at(const struct wa_qr *qr, int x, int y)
{
	x -= WA_QR_QUIET;
	y -= WA_QR_QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->dark[(size_t)y * (size_t)qr->width + (size_t)x];
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* One PNG chunk at p: length, type, data, CRC of type and data. */
static size_t
chunk(unsigned char *p, const char *type, const unsigned char *data, size_t n)
{
	uLong crc;

	put32(p, (uint32_t)n);
	memcpy(p + 4, type, 4);
	if (n)
		memcpy(p + 8, data, n);
	crc = crc32(0L, p + 4, (uInt)(n + 4));
	put32(p + 8 + n, (uint32_t)crc);
	return n + 12;
}

int
wa_qr_png(unsigned char **out, size_t *len, const struct wa_qr *qr, int scale)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char ihdr[13], *raw, *z, *png, *row;
	size_t side, stride, rawlen, i;
	uLongf zlen;
	int x, y, px;

	*out = NULL;
	*len = 0;
	if (scale < 1 || scale > 64 || qr->width <= 0)
		return WA_EINVAL;
	side = (size_t)(qr->width + 2 * WA_QR_QUIET) * (size_t)scale;
	stride = 1 + (side + 7) / 8;		/* filter byte 0, then the bits */
	rawlen = stride * side;
	if (!(raw = calloc(rawlen, 1)))
		return WA_ENOMEM;
	for (y = 0; (size_t)y < side; y++) {
		row = raw + (size_t)y * stride;
		for (x = 0; (size_t)x < side; x++) {
			/* greyscale bit depth 1: 1 is white */
			px = !dark_at(qr, x / scale, y / scale);
			if (px)
				row[1 + x / 8] |= (unsigned char)(0x80 >> (x % 8));
		}
	}
	zlen = compressBound((uLong)rawlen);
	if (!(z = malloc(zlen))) {
		free(raw);
		return WA_ENOMEM;
	}
	if (compress2(z, &zlen, raw, (uLong)rawlen, 9) != Z_OK) {
		free(raw);
		free(z);
		return WA_ENOMEM;
	}
	free(raw);
	if (!(png = malloc(sizeof sig + 3 * 12 + sizeof ihdr + zlen))) {
		free(z);
		return WA_ENOMEM;
	}
	put32(ihdr, (uint32_t)side);
	put32(ihdr + 4, (uint32_t)side);
	ihdr[8] = 1;	/* bit depth */
	ihdr[9] = 0;	/* greyscale */
	ihdr[10] = 0;	/* deflate */
	ihdr[11] = 0;	/* adaptive filtering (all rows: none) */
	ihdr[12] = 0;	/* no interlace */
	memcpy(png, sig, sizeof sig);
	i = sizeof sig;
	i += chunk(png + i, "IHDR", ihdr, sizeof ihdr);
	i += chunk(png + i, "IDAT", z, zlen);
	i += chunk(png + i, "IEND", NULL, 0);
	free(z);
	*out = png;
	*len = i;
	return 0;
}

int
wa_qr_svg(char **out, size_t *len, const struct wa_qr *qr, int scale)
{
	char *buf, *p;
	size_t cap;
	int side, x, y, run;

	*out = NULL;
	*len = 0;
	if (scale < 1 || scale > 64 || qr->width <= 0)
		return WA_EINVAL;
	side = qr->width + 2 * WA_QR_QUIET;
	/* at most one "M x yhnv1h-nz" (under 32 bytes) per dark module */
	cap = 512 + (size_t)qr->width * (size_t)qr->width * 32;
	if (!(buf = malloc(cap)))
		return WA_ENOMEM;
	p = buf;
	p += sprintf(p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">\n"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n<path fill=\"#000000\" d=\"",
	    side * scale, side * scale, side, side, side, side);
	for (y = 0; y < side; y++) {
		for (x = 0; x < side; x += run ? run : 1) {
			for (run = 0; x + run < side && dark_at(qr, x + run, y); run++)
				;
			if (run)
				p += sprintf(p, "M%d %dh%dv1h-%dz", x, y, run, run);
		}
	}
	p += sprintf(p, "\"/>\n</svg>\n");
	*out = buf;
	*len = (size_t)(p - buf);
	return 0;
}

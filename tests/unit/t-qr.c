/*
 * t-qr.c - the terminal QR: render a pairing string, read the half blocks
 * back into modules and compare them with libqrencode's own matrix; sizes
 * for the pairing strings of wa-protocol(7) §6.2 fit an 80-column terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "ops/qr.h"
#include "tap.h"

#include "pair-vectors.h"

#define COLOUR "\033[38;5;16;48;5;231m"
#define RESET "\033[0m"

/* Parse rendered text back into a side x side module matrix (1 = dark).
 * Returns side, or -1 if anything in the text is not what the renderer
 * should have written. */
static int
parse(const char *text, int colour, unsigned char **out, int *lines)
{
	const char *p = text;
	unsigned char *m = NULL;
	int side = -1, y = 0, x;

	*out = NULL;
	while (*p) {
		const char *nl = strchr(p, '\n');

		if (!nl)
			goto bad;
		if (colour) {
			if (strncmp(p, COLOUR, strlen(COLOUR)) != 0 || nl - p < (long)strlen(RESET) ||
			    strncmp(nl - strlen(RESET), RESET, strlen(RESET)) != 0)
				goto bad;
			p += strlen(COLOUR);
		}
		for (x = 0; p < nl - (colour ? (long)strlen(RESET) : 0); x++) {
			int top, bottom;

			if (*p == ' ') {
				top = bottom = 0;
				p++;
			} else if (strncmp(p, "\xe2\x96\x80", 3) == 0) {
				top = 1, bottom = 0;
				p += 3;
			} else if (strncmp(p, "\xe2\x96\x84", 3) == 0) {
				top = 0, bottom = 1;
				p += 3;
			} else if (strncmp(p, "\xe2\x96\x88", 3) == 0) {
				top = bottom = 1;
				p += 3;
			} else {
				goto bad;
			}
			if (side < 0) {
				/* first line: its cell count is the side */
				const char *q = p;
				int n = 1;

				while (q < nl - (colour ? (long)strlen(RESET) : 0)) {
					q += *q == ' ' ? 1 : 3;
					n++;
				}
				side = n;
				if (!(m = calloc((size_t)side * (size_t)(side + 1), 1)))
					goto bad;
			}
			if (x >= side)
				goto bad;
			m[(size_t)(2 * y) * (size_t)side + (size_t)x] = (unsigned char)top;
			if (2 * y + 1 < side)
				m[(size_t)(2 * y + 1) * (size_t)side + (size_t)x] = (unsigned char)bottom;
			else if (bottom)
				goto bad; /* below the symbol: must be light */
		}
		if (x != side)
			goto bad;
		p = nl + 1;
		y++;
	}
	if (side < 0 || y != (side + 1) / 2)
		goto bad;
	*out = m;
	*lines = y;
	return side;
bad:
	free(m);
	return -1;
}

/* 1 if m (side x side, quiet zone q) holds exactly libqrencode's matrix
 * for text at level L, framed by light modules. */
static int
same_as_libqrencode(const unsigned char *m, int side, int q, const char *text, int *version)
{
	QRcode *c = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	int x, y, same;

	if (!c)
		return 0;
	*version = c->version;
	same = side == c->width + 2 * q;
	for (y = 0; same && y < side; y++)
		for (x = 0; same && x < side; x++) {
			int in = x >= q && y >= q && x < q + c->width && y < q + c->width;
			int want = in ? c->data[(y - q) * c->width + (x - q)] & 1 : 0;

			same = m[y * side + x] == want;
		}
	QRcode_free(c);
	return same;
}

static void
round_trip(const char *label, const char *text, int quiet, unsigned flags)
{
	struct wa_qr qr;
	unsigned char *m = NULL;
	size_t need, len = 0;
	char *buf;
	int cols = 0, rows = 0, side, lines = 0, version = 0, rc, same;

	if (!ok(wa_qr_encode(&qr, text) == 0, "%s: encoded", label))
		return;
	need = wa_qr_render_size(&qr, quiet, flags);
	buf = malloc(need);
	rc = wa_qr_render(buf, need, &len, &cols, &rows, &qr, quiet, flags);
	ok(rc == 0 && len == strlen(buf) && len < need,
	    "%s: rendered in %zu of %zu bytes, %dx%d cells", label, len, need, cols, rows);
	side = parse(buf, !(flags & WA_QR_PLAIN), &m, &lines);
	ok(side == cols && lines == rows, "%s: half blocks parse back (%d modules a side, %d lines)", label, side, lines);
	same = m && same_as_libqrencode(m, side, quiet, text, &version);
	ok(same,
	    "%s: modules are libqrencode's level-L matrix (version %d) with a %d-module quiet zone",
	    label, version, quiet);
	ok(version == qr.version && qr.width == 17 + 4 * qr.version, "%s: version %d, %d modules", label,
	    qr.version, qr.width);
	ok(!!strchr(buf, '\033') == !(flags & WA_QR_PLAIN), "%s: colour sequences %s", label,
	    flags & WA_QR_PLAIN ? "absent" : "present");
	free(m);
	free(buf);
	wa_qr_free(&qr);
}

int
main(void)
{
	struct wa_qr qr;
	char ref[200], text[512], small[16];
	int cols, rows;
	size_t len;

	round_trip("pairing string", pv_qr_string, WA_QR_QUIET, 0);
	round_trip("pairing string, quiet 2, plain", pv_qr_string, WA_QR_QUIET_MIN, WA_QR_PLAIN);
	round_trip("short text, no quiet zone", "hello", 0, 0);

	/* sizes: the §6.2 string (a 90-byte ref) and a generous 160-byte ref */
	wa_qr_encode(&qr, pv_qr_string);
	wa_qr_size(&qr, WA_QR_QUIET, &cols, &rows);
	ok(cols <= 80, "a %zu-byte pairing string is %d columns (version %d) with the full quiet zone",
	    strlen(pv_qr_string), cols, qr.version);
	is_int(wa_qr_fits(&qr, 80, 40), WA_QR_QUIET, "80x40 terminal: quiet zone 4");
	is_int(wa_qr_fits(&qr, cols - 1, 40), WA_QR_QUIET_MIN, "one column short: quiet zone 2");
	is_int(wa_qr_fits(&qr, 80, rows - 1), WA_QR_QUIET_MIN, "one row short: quiet zone 2");
	is_int(wa_qr_fits(&qr, 80, 24), 0, "80x24: too small (%d rows needed at least)", rows - 2);
	is_int(wa_qr_fits(&qr, qr.width + 3, 80), 0, "too narrow for even 2");
	ok(wa_qr_render(small, sizeof small, &len, NULL, NULL, &qr, 4, 0) == WA_ETOOBIG && small[0] == 0,
	    "a short buffer: WA_ETOOBIG, empty string");
	ok(wa_qr_render(small, sizeof small, &len, NULL, NULL, &qr, 17, 0) == WA_EINVAL, "quiet zone 17 refused");
	wa_qr_free(&qr);

	memset(ref, 'A', 160);
	memcpy(ref, "2@", 2);
	ref[160] = 0;
	snprintf(text, sizeof text, "%s%s%s", "https://wa.me/settings/linked_devices#", ref,
	    strchr(pv_qr_string, ','));
	wa_qr_encode(&qr, text);
	wa_qr_size(&qr, WA_QR_QUIET, &cols, &rows);
	ok(cols <= 80, "a %zu-byte string (160-byte ref) still fits 80 columns: %d (version %d)",
	    strlen(text), cols, qr.version);
	wa_qr_free(&qr);

	ok(wa_qr_encode(&qr, "") == WA_EINVAL, "empty text refused");
	{
		char *big = malloc(4000);

		memset(big, 'a', 3999);
		big[3999] = 0;
		ok(wa_qr_encode(&qr, big) == WA_ETOOBIG, "4000 bytes: too big for any version");
		free(big);
	}
	done_testing();
	return exit_status();
}

/*
 * qr.h - draw a QR code on a terminal.
 *
 * The symbol comes from libqrencode: error correction level L, the
 * smallest version that holds the text, libqrencode's mixed-mode
 * segmentation (8-bit for the lower-case base64, numeric/alphanumeric
 * runs where they pay).  Level L is what the pairing QRs people scan
 * every day are drawn with (whatsmeow's documented
 * qrterminal.GenerateHalfBlock(code, qrterminal.L, …), Baileys' old
 * printQRInTerminal through qrcode-terminal): a screen is a clean,
 * flat, well-lit source, so the 7% recovery of L is enough and the
 * smaller symbol scans more easily than a denser M one.  A pairing
 * string of §6.2 (the URL prefix, a ref of about 90 bytes, three base64
 * keys: some 265 bytes) is version 10, 57 modules a side; with a ref of
 * 160 bytes it is version 11, 61 modules (t-qr checks both).
 *
 * Rendering: one character cell holds two modules stacked, with the
 * Unicode half blocks U+2580 ▀ (top dark), U+2584 ▄ (bottom dark), U+2588 █
 * (both) and a space (neither), so the modules come out square on the
 * usual 1:2 cell: a version-10 code with its 4-module quiet zone is 65
 * columns by 33 rows (version 11: 69 by 35).  Each line starts with
 * explicit colours, black on white from the 256-colour palette's fixed
 * cube (SGR 38;5;16 and 48;5;231, not the theme's black and white, which
 * may be anything), and ends with a reset, so the code reads dark on light
 * on dark and light themes alike and no colour leaks past the line.  The
 * quiet zone is 4 modules, as the QR standard asks; when that does not fit
 * the terminal, 2 (phones cope with 2 against the light background drawn
 * here, and it saves 2 rows and 4 columns); when 2 does not fit either,
 * the caller says the terminal is too small and offers the text mode.  An
 * odd module count leaves the last cell row's lower half light: extra
 * quiet zone.
 */
#ifndef WA_QR_H
#define WA_QR_H

#include <stddef.h>

#include "base/err.h"

#define WA_QR_QUIET 4      /* quiet zone, modules */
#define WA_QR_QUIET_MIN 2  /* the smallest quiet zone wa_qr_fits settles for */

struct wa_qr {
	int version;          /* 1..40 */
	int width;            /* modules a side, without quiet zone */
	unsigned char *dark;  /* width * width, row-major, 1 = dark module */
};

/* Encode text (NUL-terminated, at most 2953 bytes) into *qr.  Free with
 * wa_qr_free.  WA_ETOOBIG when it does not fit any version at level L,
 * WA_EINVAL for an empty text, WA_ENOMEM. */
int wa_qr_encode(struct wa_qr *qr, const char *text);

void wa_qr_free(struct wa_qr *qr);

/* The rendered size, in character cells, with a quiet zone of quiet
 * modules: cols = width + 2*quiet, rows = ceil((width + 2*quiet) / 2). */
void wa_qr_size(const struct wa_qr *qr, int quiet, int *cols, int *rows);

/* The quiet zone to draw qr with on a cols x rows terminal (pass the rows
 * you can give the code, not the whole screen): WA_QR_QUIET if that fits,
 * else WA_QR_QUIET_MIN if that fits, else 0 (too small). */
int wa_qr_fits(const struct wa_qr *qr, int cols, int rows);

#define WA_QR_PLAIN 0x1  /* no colour sequences: half blocks only */

/* Bytes wa_qr_render needs for qr with this quiet zone, the final NUL
 * included. */
size_t wa_qr_render_size(const struct wa_qr *qr, int quiet, unsigned flags);

/* Draw qr into buf (bufsz bytes): rows lines, each ending in "\n", then a
 * NUL; *len (may be NULL) gets the length without the NUL, *cols / *rows
 * (may be NULL) the size in cells.  WA_EINVAL for a quiet zone outside
 * 0..16, WA_ETOOBIG when buf is smaller than wa_qr_render_size (nothing
 * written but a NUL, if bufsz > 0). */
int wa_qr_render(char *buf, size_t bufsz, size_t *len, int *cols, int *rows,
    const struct wa_qr *qr, int quiet, unsigned flags);

/*
 * Images of qr for a web page or a dashboard, each with a quiet zone of
 * WA_QR_QUIET modules, dark on white, into a buffer the caller frees
 * (free()).  The symbol is the same as on the terminal (level L).
 *
 * wa_qr_png: a PNG, 1-bit greyscale, scale pixels a module (1..64),
 * written with zlib (no libpng).  wa_qr_svg: an SVG 1.1 document, one
 * path of unit squares in a viewBox of the symbol with its quiet zone,
 * displayed scale pixels a module (1..64), crisp edges.  WA_EINVAL for
 * a scale out of range, WA_ENOMEM.
 */
int wa_qr_png(unsigned char **out, size_t *len, const struct wa_qr *qr, int scale);
int wa_qr_svg(char **out, size_t *len, const struct wa_qr *qr, int scale);

#endif

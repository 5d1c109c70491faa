/*
 * wa-qrtool - test helper for the terminal QR (lib/qr.h).
 *
 *	wa-qrtool render [-p] [-q QUIET] TEXT   draw TEXT as wa-pair does (-p: no colours)
 *	wa-qrtool pbm [-s SCALE] < DRAWING      the modules of a drawing as a PBM image
 *
 * pbm reads what render wrote, or a terminal's copy of it (tmux
 * capture-pane, with or without -e): SGR sequences are skipped, each cell
 * is a space or one of the half blocks U+2580, U+2584, U+2588 and stands for
 * two modules, one above the other; short lines (a terminal drops trailing
 * blanks) are light to the right.  Leading and trailing blank lines are
 * dropped, then a 4-module light border is added, so an image reader sees
 * a proper quiet zone whatever the capture kept.  Each module becomes a
 * SCALE x SCALE square (default 4).  Anything else in the input is an
 * error (exit 1), usage errors exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/qr.h"

static int
usage(void)
{
	fputs("usage: wa-qrtool render [-p] [-q QUIET] TEXT\n"
	    "       wa-qrtool pbm [-s SCALE] < DRAWING\n", stderr);
	return 2;
}

static int
render(int argc, char **argv)
{
	struct wa_qr qr;
	unsigned flags = 0;
	int quiet = WA_QR_QUIET, c, rc;
	size_t n;
	char *buf;

	while ((c = getopt(argc, argv, "pq:")) != -1) {
		if (c == 'p')
			flags |= WA_QR_PLAIN;
		else if (c == 'q')
			quiet = atoi(optarg);
		else
			return usage();
	}
	if (optind != argc - 1)
		return usage();
	if ((rc = wa_qr_encode(&qr, argv[optind])) < 0) {
		fprintf(stderr, "wa-qrtool: cannot encode: %s\n", wa_strerror(rc));
		return 1;
	}
	n = wa_qr_render_size(&qr, quiet, flags);
	if (!(buf = malloc(n)) || wa_qr_render(buf, n, NULL, NULL, NULL, &qr, quiet, flags) < 0) {
		fprintf(stderr, "wa-qrtool: cannot render\n");
		return 1;
	}
	fputs(buf, stdout);
	free(buf);
	wa_qr_free(&qr);
	return fflush(stdout) == 0 ? 0 : 1;
}

#define MAXW 400
#define MAXH 400 /* cell rows */

static int
pbm(int argc, char **argv)
{
	static unsigned char m[2 * MAXH][MAXW];
	char line[8192];
	int scale = 4, c, w = 0, h = 0, first = -1, last = -1, x, y, i, j;

	while ((c = getopt(argc, argv, "s:")) != -1) {
		if (c == 's')
			scale = atoi(optarg);
		else
			return usage();
	}
	if (optind != argc || scale < 1 || scale > 32)
		return usage();
	while (fgets(line, sizeof line, stdin)) {
		const char *p = line;
		int blank = 1;

		if (h >= MAXH) {
			fputs("wa-qrtool: drawing too tall\n", stderr);
			return 1;
		}
		for (x = 0; *p && *p != '\n' && *p != '\r';) {
			int top, bottom;

			if (*p == '\033') { /* CSI ... final byte */
				if (p[1] != '[') {
					fputs("wa-qrtool: stray escape\n", stderr);
					return 1;
				}
				p += 2;
				while (*p && !(*p >= 0x40 && *p <= 0x7e))
					p++;
				if (*p)
					p++;
				continue;
			}
			if (*p == ' ')
				top = bottom = 0, p += 1;
			else if (!strncmp(p, "\xe2\x96\x80", 3))
				top = 1, bottom = 0, p += 3;
			else if (!strncmp(p, "\xe2\x96\x84", 3))
				top = 0, bottom = 1, p += 3;
			else if (!strncmp(p, "\xe2\x96\x88", 3))
				top = bottom = 1, p += 3;
			else {
				fprintf(stderr, "wa-qrtool: line %d: not a half-block drawing\n", h + 1);
				return 1;
			}
			if (x >= MAXW) {
				fputs("wa-qrtool: drawing too wide\n", stderr);
				return 1;
			}
			m[2 * h][x] = (unsigned char)top;
			m[2 * h + 1][x] = (unsigned char)bottom;
			if (top || bottom)
				blank = 0;
			x++;
		}
		if (x > w)
			w = x;
		if (!blank) {
			if (first < 0)
				first = h;
			last = h;
		}
		h++;
	}
	if (first < 0) {
		fputs("wa-qrtool: no dark module in the drawing\n", stderr);
		return 1;
	}
	/* rows 2*first .. 2*last+1, plus a 4-module border all round */
	{
		int mh = 2 * (last - first + 1), W = (w + 8) * scale, H = (mh + 8) * scale;

		printf("P1\n%d %d\n", W, H);
		for (y = 0; y < mh + 8; y++)
			for (i = 0; i < scale; i++) {
				for (x = 0; x < w + 8; x++) {
					int d = y >= 4 && y < mh + 4 && x >= 4 && x < w + 4 ?
					    m[2 * first + y - 4][x - 4] : 0;

					for (j = 0; j < scale; j++)
						fputs(d ? "1 " : "0 ", stdout);
				}
				putchar('\n');
			}
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "render"))
		return render(argc - 1, argv + 1);
	if (!strcmp(argv[1], "pbm"))
		return pbm(argc - 1, argv + 1);
	return usage();
}

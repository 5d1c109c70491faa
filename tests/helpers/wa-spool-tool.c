/*
 * wa-spool-tool - drive the inbox spool (lib/spool/spool.h) from tests.
 *
 *   wa-spool-tool deliver [-s SYNCFS_MIN] DIR KEY...
 *	open DIR, add every KEY not yet seen (content: a JSON line naming
 *	the key, padded to ~2 KB), one commit; prints "added N"
 *   wa-spool-tool check DIR KEY...
 *	open DIR (its recovery runs), then check the state against the
 *	keys: every file in new/ is a complete file of one of the keys, no
 *	key twice; a key is seen exactly when its file is in new/; nothing
 *	of ours left in tmp/.  Prints "seen S, files F" and, per problem,
 *	one line "violation: ..."; exit 1 when there is any
 *   wa-spool-tool bench [-s SYNCFS_MIN] DIR BATCH COUNT
 *	COUNT files of 2 KB in commits of BATCH; prints "files/s"
 *
 * Exit: 0, 1 a violation, 2 usage, 3 a spool error (printed).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "spool/spool.h"

#define PAD 2000

static int
content(char *buf, size_t n, const char *key)
{
	char pad[PAD + 1];

	memset(pad, 'x', PAD);
	pad[PAD] = 0;
	return snprintf(buf, n, "{\"key\":\"%s\",\"pad\":\"%s\"}\n", key, pad);
}

static int
spool_open(struct wa_spool **sp, const char *dir)
{
	struct wa_why why = WA_WHY_INIT;
	int rc = wa_spool_open(sp, dir, 14, &why);

	if (rc < 0)
		fprintf(stderr, "wa-spool-tool: %s\n", wa_why_text(&why, rc));
	return rc;
}

static int
deliver(const char *dir, long smin, char **keys, int n)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_spool *sp;
	char buf[PAD + 1024];
	int i, rc, added = 0;

	if (spool_open(&sp, dir) < 0)
		return 3;
	if (smin >= 0)
		wa_spool_set_syncfs_min(sp, (size_t)smin);
	for (i = 0; i < n; i++) {
		if (wa_spool_seen(sp, keys[i]))
			continue;
		rc = wa_spool_add(sp, keys[i], buf, (size_t)content(buf, sizeof buf, keys[i]), NULL);
		if (rc == WA_EEXIST)
			continue;
		if (rc < 0) {
			fprintf(stderr, "wa-spool-tool: add '%s': %s\n", keys[i], wa_strerror(rc));
			wa_spool_free(sp);
			return 3;
		}
		added++;
	}
	if ((rc = wa_spool_commit(sp, &why)) < 0) {
		fprintf(stderr, "wa-spool-tool: %s\n", wa_why_text(&why, rc));
		wa_spool_free(sp);
		return 3;
	}
	printf("added %d\n", added);
	wa_spool_free(sp);
	return 0;
}

static int bad;

static void __attribute__((format(printf, 1, 2)))
violation(const char *fmt, ...)
{
	va_list ap;

	printf("violation: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	bad++;
}

static int
check(const char *dir, char **keys, int n)
{
	struct wa_spool *sp;
	char path[4096], buf[PAD + 1024], want[PAD + 1024];
	int *count = calloc((size_t)n + 1, sizeof *count);
	struct dirent *e;
	DIR *d;
	int i, files = 0, seen = 0;

	if (!count || spool_open(&sp, dir) < 0)
		return 3;
	snprintf(path, sizeof path, "%s/new", dir);
	if (!(d = opendir(path)))
		return 3;
	while ((e = readdir(d))) {
		int fd;
		ssize_t len;
		if (e->d_name[0] == '.')
			continue;
		files++;
		snprintf(path, sizeof path, "%s/new/%s", dir, e->d_name);
		if ((fd = open(path, O_RDONLY | O_NOFOLLOW)) < 0) {
			violation("unreadable file new/%s", e->d_name);
			continue;
		}
		len = read(fd, buf, sizeof buf - 1);
		close(fd);
		buf[len > 0 ? len : 0] = 0;
		for (i = 0; i < n; i++) {
			int wl = content(want, sizeof want, keys[i]);
			if (len == wl && memcmp(buf, want, (size_t)wl) == 0)
				break;
		}
		if (i == n)
			violation("new/%s is partial or unknown (%.40s)", e->d_name, buf);
		else if (++count[i] > 1)
			violation("key %s twice in new/ (again as %s)", keys[i], e->d_name);
	}
	closedir(d);
	for (i = 0; i < n; i++) {
		int s = wa_spool_seen(sp, keys[i]);
		seen += s;
		if (s && !count[i])
			violation("key %s is seen but not in new/", keys[i]);
		if (!s && count[i])
			violation("key %s is in new/ but not seen", keys[i]);
	}
	snprintf(path, sizeof path, "%s/tmp", dir);
	if ((d = opendir(path))) {
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				violation("left in tmp/: %s", e->d_name);
		closedir(d);
	}
	printf("seen %d, files %d\n", seen, files);
	wa_spool_free(sp);
	free(count);
	return bad ? 1 : 0;
}

static int
bench(const char *dir, long smin, long batch, long total)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_spool *sp;
	struct timespec t0, t1;
	char buf[PAD + 1024], key[64];
	long i;
	int rc;
	double s;

	if (spool_open(&sp, dir) < 0)
		return 3;
	if (smin >= 0)
		wa_spool_set_syncfs_min(sp, (size_t)smin);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < total; i++) {
		snprintf(key, sizeof key, "bench-%ld-%ld", (long)t0.tv_nsec, i);
		if ((rc = wa_spool_add(sp, key, buf, (size_t)content(buf, sizeof buf, key), NULL)) < 0 ||
		    ((i + 1) % batch == 0 && (rc = wa_spool_commit(sp, &why)) < 0)) {
			fprintf(stderr, "wa-spool-tool: %s\n", wa_why_text(&why, rc));
			wa_spool_free(sp);
			return 3;
		}
	}
	if ((rc = wa_spool_commit(sp, &why)) < 0) {
		fprintf(stderr, "wa-spool-tool: %s\n", wa_why_text(&why, rc));
		return 3;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.0f\n", (double)total / s);
	wa_spool_free(sp);
	return 0;
}

int
main(int argc, char **argv)
{
	long smin = -1;
	int c;

	if (argc < 3)
		goto usage;
	optind = 2;
	while ((c = getopt(argc, argv, "s:")) != -1) {
		if (c == 's')
			smin = strtol(optarg, NULL, 10);
		else
			goto usage;
	}
	if (optind >= argc)
		goto usage;
	if (strcmp(argv[1], "deliver") == 0)
		return deliver(argv[optind], smin, argv + optind + 1, argc - optind - 1);
	if (strcmp(argv[1], "check") == 0)
		return check(argv[optind], argv + optind + 1, argc - optind - 1);
	if (strcmp(argv[1], "bench") == 0 && argc - optind == 3)
		return bench(argv[optind], smin, strtol(argv[optind + 1], NULL, 10),
		    strtol(argv[optind + 2], NULL, 10));
usage:
	fprintf(stderr, "usage: wa-spool-tool deliver|check|bench [-s syncfs_min] dir ...\n");
	return 2;
}

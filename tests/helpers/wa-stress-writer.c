/*
 * wa-stress-writer - rewrite auth files in a loop through wa_authdir_put,
 * for the crash tests (tests/15xx-*.t).
 *
 *   wa-stress-writer -d DIR [-f FILES] [-n ROUNDS] [-s MIN:MAX] [-j JOURNAL]
 *                    [-m N | -m r:MAX [-k]]
 *   wa-stress-writer -d DIR -P NAME          one put of stdin into NAME
 *   wa-stress-writer -d DIR -S               puts driven by stdin lines
 *
 * Loop mode writes creds.json and FILES-1 session-*.json files: one round
 * in order, then files picked at random.  Every version is one complete
 * JSON document that names its file and version and carries the SHA-256 of
 * everything before its "sum" member:
 *
 *   {"v":123,"file":"creds.json","pad":"k3x...","sum":"<64 hex>"}\n
 *
 * with a pad of random length in MIN..MAX bytes, so a torn, mixed or empty
 * file is always detected (wa-verify-store checks it).  -n 0 (the default)
 * loops until killed.
 *
 * The journal (-j, append-only, one write(2) per line, normally on a
 * filesystem that survives the crash) records "B NAME V" before a put and
 * "D NAME V" after wa_authdir_put returned 0 (and the same as a marker in
 * the crash log of test builds: "done NAME V"), so the verifier can tell a
 * lost durable version from a never-finished one; "S - PID" starts each
 * run, and a test appends "C - 0" just before it cuts the power.  With a
 * journal the versions continue above the highest one it holds, so the
 * writer can be restarted on the same folder after every crash.
 *
 * Markers on stdout (one line each, flushed) so a test waits on them
 * instead of sleeping: "ready PID N" once every file has been written,
 * "mark PID N LAG" after the N-th put of this run (-m N; -m r:MAX picks N
 * at random in 1..MAX; LAG is a random number below 4000 that a killer
 * counts to before it strikes, so that the kill falls anywhere in the puts
 * that follow, not just after the marker; with -k, for a killer, it
 * stops after 8 more puts and waits to be killed, so a killer that is slow
 * to run on a loaded machine finds it idle instead of burning CPU; without
 * -k it goes on until it fails, for a test that cuts the power), "done
 * PID N" at the end of the rounds.
 *
 * -S reads lines "put NAME FILE" and answers "ok NAME" or "fail NAME" on
 * stdout; the folder stays open (and locked) in between, so a test can fill
 * the disk while the writer holds the lock.  Errors are one line on stderr
 * naming the path; exit 74 for an I/O error (ENOSPC, EIO), 75 when locked,
 * 64 for bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "store/authdir.h"
#include "store/durable.h"
#include "base/compat.h"
#include "base/err.h"
#include "exitcode.h"

#define PROG "wa-stress-writer"
#define MARK_MORE 8     /* puts after the mark before waiting to be killed */
#define USAGE PROG " -d dir [-f files] [-n rounds] [-s min:max] [-j journal] [-m n|r:max [-k]] | -d dir -P name | -d dir -S"

static const char *dir;
static int journal = -1;

static void
usage(void)
{
	fprintf(stderr, "usage: %s\n", USAGE);
	exit(WA_EXIT_USAGE);
}

static unsigned long long rng;

static unsigned long long
next(void)
{
	/* xorshift64*: fast; the content need not be secret, only varied */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static int
exit_for(int rc)
{
	if (rc == WA_ELOCKED)
		return WA_EXIT_LOCKED;
	if (rc == WA_EUNSAFE)
		return WA_EXIT_NOPERM;
	if (rc == WA_ENOTFOUND)
		return WA_EXIT_NOINPUT;
	if (rc == WA_EINVAL)
		return WA_EXIT_USAGE;
	if (rc == WA_ESYS || rc == WA_ESYNC)
		return WA_EXIT_IOERR;
	return WA_EXIT_SOFTWARE;
}

/* One line on stderr for a failed put; returns the exit code. */
static int
put_error(const char *name, int rc)
{
	if (rc == WA_ESYNC)
		fprintf(stderr, "%s: '%s/%s' replaced but not known durable: fsync of the folder failed: %s\n",
		    PROG, dir, name, strerror(errno));
	else
		fprintf(stderr, "%s: unable to write '%s/%s': %s\n", PROG, dir, name, wa_strerror(rc));
	return exit_for(rc);
}

static void
jline(char kind, const char *name, unsigned long long v)
{
	char line[300];
	int n;

	if (journal < 0)
		return;
	n = snprintf(line, sizeof line, "%c %s %llu\n", kind, name, v);
	if (write(journal, line, (size_t)n) != n) {
		fprintf(stderr, "%s: unable to write the journal: %s\n", PROG, strerror(errno));
		exit(WA_EXIT_IOERR);
	}
}

/* The highest version named in the journal (0 if none). */
static unsigned long long
journal_max(const char *path)
{
	unsigned long long max = 0, v;
	char line[400], name[300], kind;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "%c %299s %llu", &kind, name, &v) == 3 && kind == 'B' && v > max)
			max = v;
	fclose(f);
	return max;
}

static void
hex_sha256(char out[65], const void *buf, size_t len)
{
	unsigned char md[32];
	unsigned int n = 0;
	int i;

	if (!EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) || n != 32) {
		fprintf(stderr, "%s: sha256 failed\n", PROG);
		exit(WA_EXIT_SOFTWARE);
	}
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Random letters and digits; a pad is a slice of it at a random offset, so
 * making a version costs little next to writing it. */
#define POOL (256u << 10)
static char *pool;

static void
make_pool(void)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t i;

	if (!(pool = malloc(POOL))) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		exit(WA_EXIT_SOFTWARE);
	}
	for (i = 0; i < POOL; i++)
		pool[i] = al[next() % (sizeof al - 1)];
}

/* Build version v of name into *buf (grown as needed); returns the length. */
static size_t
make_doc(char **buf, size_t *cap, const char *name, unsigned long long v, size_t pad)
{
	char head[400], sum[65];
	size_t n, need;

	n = (size_t)snprintf(head, sizeof head, "{\"v\":%llu,\"file\":\"%s\",\"pad\":\"", v, name);
	need = n + pad + 1 + 8 + 64 + 3 + 1;
	if (need > *cap) {
		free(*buf);
		if (!(*buf = malloc(need))) {
			fprintf(stderr, "%s: out of memory\n", PROG);
			exit(WA_EXIT_SOFTWARE);
		}
		*cap = need;
	}
	memcpy(*buf, head, n);
	memcpy(*buf + n, pool + next() % (POOL - pad + 1), pad);
	n += pad;
	(*buf)[n++] = '"';
	hex_sha256(sum, *buf, n);
	n += (size_t)snprintf(*buf + n, *cap - n, ",\"sum\":\"%s\"}\n", sum);
	return n;
}

static void
marker(const char *what, unsigned long long n)
{
	printf("%s %ld %llu\n", what, (long)getpid(), n);
	fflush(stdout);
}

static int
open_dir(struct wa_authdir **ad)
{
	struct wa_why why;
	int rc;

	rc = wa_authdir_open(ad, dir, WA_AUTHDIR_WRITE | WA_AUTHDIR_CREATE, PROG, NULL, &why);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", PROG, why.text);
		exit(exit_for(rc));
	}
	return 0;
}

static int
slurp(int fd, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	ssize_t r;

	if (!b)
		return -1;
	for (;;) {
		if (n == cap) {
			char *nb = realloc(b, cap *= 2);
			if (!nb) {
				free(b);
				return -1;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = b;
	*len = n;
	return 0;
}

static int
put_stdin(const char *name)
{
	struct wa_authdir *ad;
	char *buf;
	size_t len;
	int rc;

	if (slurp(0, &buf, &len) < 0) {
		fprintf(stderr, "%s: unable to read standard input: %s\n", PROG, strerror(errno));
		return WA_EXIT_IOERR;
	}
	open_dir(&ad);
	rc = wa_authdir_put(ad, name, buf, len);
	free(buf);
	if (rc < 0) {
		int code = put_error(name, rc);
		wa_authdir_close(ad);
		return code;
	}
	wa_authdir_close(ad);
	return 0;
}

static int
script(void)
{
	struct wa_authdir *ad;
	char line[4096], name[256], path[3800];
	int code = 0;

	open_dir(&ad);
	marker("ready", 0);
	while (fgets(line, sizeof line, stdin)) {
		char *buf;
		size_t len;
		int fd, rc;

		if (sscanf(line, "put %255s %3799s", name, path) != 2) {
			fprintf(stderr, "%s: bad script line: %s", PROG, line);
			code = WA_EXIT_USAGE;
			break;
		}
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || slurp(fd, &buf, &len) < 0) {
			fprintf(stderr, "%s: unable to read '%s': %s\n", PROG, path, strerror(errno));
			if (fd >= 0)
				close(fd);
			code = WA_EXIT_NOINPUT;
			break;
		}
		close(fd);
		rc = wa_authdir_put(ad, name, buf, len);
		free(buf);
		if (rc < 0) {
			code = put_error(name, rc);
			printf("fail %s\n", name);
		} else {
			printf("ok %s\n", name);
		}
		fflush(stdout);
	}
	wa_authdir_close(ad);
	return code;
}

int
main(int argc, char **argv)
{
	struct wa_authdir *ad;
	const char *jpath = NULL, *putname = NULL;
	char **names, *buf = NULL;
	size_t cap = 0, smin = 0, smax = 4096;
	long nfiles = 8, rounds = 0, i;
	unsigned long long v = 0, nput = 0, mark = 0, markmax = 0;
	int c, scriptmode = 0, havemark = 0, waitkill = 0, code = 0;

	while ((c = getopt(argc, argv, "d:f:n:s:j:m:kP:Sh")) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'f': nfiles = strtol(optarg, NULL, 10); break;
		case 'n': rounds = strtol(optarg, NULL, 10); break;
		case 's':
			if (sscanf(optarg, "%zu:%zu", &smin, &smax) != 2 || smin > smax)
				usage();
			break;
		case 'j': jpath = optarg; break;
		case 'm':
			havemark = 1;
			if (strncmp(optarg, "r:", 2) == 0)
				markmax = strtoull(optarg + 2, NULL, 10);
			else
				mark = strtoull(optarg, NULL, 10);
			break;
		case 'k': waitkill = 1; break;
		case 'P': putname = optarg; break;
		case 'S': scriptmode = 1; break;
		case 'h': printf("usage: %s\n", USAGE); return 0;
		default: usage();
		}
	}
	if (!dir || optind != argc || nfiles < 1 || nfiles > 100000 || rounds < 0)
		usage();
	if (putname)
		return put_stdin(putname);
	if (scriptmode)
		return script();

	if (wa_compat_random(&rng, sizeof rng) < 0 || rng == 0)
		rng = 0x9e3779b97f4a7c15ULL ^ (unsigned long long)getpid();
	if (smax > POOL)
		usage();
	make_pool();
	if (markmax)
		mark = 1 + next() % markmax;
	if (jpath) {
		v = journal_max(jpath);
		journal = open(jpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (journal < 0) {
			fprintf(stderr, "%s: unable to open '%s': %s\n", PROG, jpath, strerror(errno));
			return WA_EXIT_CANTCREAT;
		}
		jline('S', "-", (unsigned long long)getpid());
	}
	if (!(names = calloc((size_t)nfiles, sizeof *names)))
		return WA_EXIT_SOFTWARE;
	for (i = 0; i < nfiles; i++) {
		char n[64];
		if (i == 0)
			snprintf(n, sizeof n, "creds.json");
		else
			snprintf(n, sizeof n, "session-49151%07ld.0.json", i);
		if (!(names[i] = strdup(n)))
			return WA_EXIT_SOFTWARE;
	}
	open_dir(&ad);
	for (nput = 0; rounds == 0 || nput < (unsigned long long)rounds * (unsigned long long)nfiles; ) {
		long f = nput < (unsigned long long)nfiles ? (long)nput : (long)(next() % (unsigned long long)nfiles);
		size_t pad = smin + (smax > smin ? (size_t)(next() % (smax - smin + 1)) : 0);
		size_t len;
		int rc;

		v++;
		len = make_doc(&buf, &cap, names[f], v, pad);
		jline('B', names[f], v);
		if ((rc = wa_authdir_put(ad, names[f], buf, len)) < 0) {
			code = put_error(names[f], rc);
			jline('F', names[f], v);
			break;
		}
		jline('D', names[f], v);
		wa_durable_mark("done %s %llu", names[f], v);
		nput++;
		if (nput == (unsigned long long)nfiles)
			marker("ready", nput);
		if (havemark && nput == (mark ? mark : 1)) {
			printf("mark %ld %llu %llu\n", (long)getpid(), nput, next() % 4000);
			fflush(stdout);
		}
		if (havemark && waitkill && nput >= (mark ? mark : 1) + MARK_MORE)
			for (;;)
				pause();
	}
	if (code == 0)
		marker("done", nput);
	wa_authdir_close(ad);
	for (i = 0; i < nfiles; i++)
		free(names[i]);
	free(names);
	free(buf);
	free(pool);
	if (journal >= 0)
		close(journal);
	return code;
}

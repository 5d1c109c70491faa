/*
 * wa-verify-store - check an auth folder written by wa-stress-writer after
 * a crash (kill -9, power cut, injected fault).
 *
 *   wa-verify-store [-j JOURNAL] [-q] DIR
 *
 * Every data file (creds.json, session-*.json, ...) must be a regular file
 * holding one complete version: it parses, names itself, and its "sum" is
 * the SHA-256 of everything before it (see wa-stress-writer.c).  Temporary
 * files may only be in .wa/tmp/ or named .wa-tmp.*, and the library's own
 * classifier (wa_fname_classify) must never take one for a data file.
 * Anything else in the folder is unexpected.
 *
 * With the writer's journal: a file's version must be one the writer began
 * ("B NAME V"; else "phantom"), and not older than the last version whose
 * put returned 0 ("D NAME V"; else "lost": a durable write did not
 * survive), and a file with a finished put must exist.
 *
 * A test that cuts the power appends "C - 0" to the journal just before the
 * cut; "D" lines after it (until the writer's next start line "S - PID")
 * are not trusted: a put that was still running when the filesystem shut
 * down may report success although it did not reach the disk (XFS returns
 * 0 from fsync of a directory after a shutdown when the directory has no
 * pinned log items, even though its rename was never logged; measured on
 * Linux 6.18).
 *
 * Prints one summary line on stdout:
 *   files F, ok O, corrupt C, torn T, lost L, phantom P, unexpected U, tmp K
 * and one line per problem on stderr.  Exit 0 when there is no problem,
 * 1 when there is one, 2 when the check itself cannot run.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "store/durable.h"
#include "base/err.h"
#include "base/file.h"
#include "store/fname.h"
#include "store/names.h"

#define PROG "wa-verify-store"

struct jname {
	char *name;
	unsigned long long done;   /* last finished version, 0 if none */
	int has_done;
};

struct jbegin {
	unsigned long long v;
	int name;                  /* index into names */
};

static struct jname *names;
static size_t nnames;
static struct jbegin *begins;
static size_t nbegins, capbegins;
static const char *dir;
static int quiet;

static unsigned long nfiles, nok, ncorrupt, ntorn, nlost, nphantom, nunexpected, ntmp;

static void __attribute__((format(printf, 2, 3)))
problem(unsigned long *counter, const char *fmt, ...)
{
	va_list ap;

	(*counter)++;
	if (quiet)
		return;
	fprintf(stderr, "%s: ", PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((noreturn))
die(const char *what, const char *path)
{
	fprintf(stderr, "%s: %s '%s': %s\n", PROG, what, path, strerror(errno));
	exit(2);
}

static int
name_index(const char *name, int add)
{
	size_t i;

	for (i = 0; i < nnames; i++)
		if (strcmp(names[i].name, name) == 0)
			return (int)i;
	if (!add)
		return -1;
	if (!(names = realloc(names, (nnames + 1) * sizeof *names)) ||
	    !(names[nnames].name = strdup(name))) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		exit(2);
	}
	names[nnames].done = 0;
	names[nnames].has_done = 0;
	return (int)nnames++;
}

static int
cmp_begin(const void *a, const void *b)
{
	const struct jbegin *x = a, *y = b;
	return x->v < y->v ? -1 : x->v > y->v;
}

static void
read_journal(const char *path)
{
	char line[512], name[300], kind;
	unsigned long long v;
	int cut = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		die("unable to open", path);
	while (fgets(line, sizeof line, f)) {
		int i;
		if (!strchr(line, '\n'))
			continue;  /* an unfinished last line */
		if (sscanf(line, "%c %299s %llu", &kind, name, &v) != 3)
			continue;
		if (kind == 'S' || kind == 'C') {
			cut = kind == 'C';
			continue;
		}
		if (kind == 'D' && cut)
			continue;  /* finished after the cut began: not trusted */
		i = name_index(name, 1);
		if (kind == 'B') {
			if (nbegins == capbegins) {
				capbegins = capbegins ? 2 * capbegins : 1024;
				if (!(begins = realloc(begins, capbegins * sizeof *begins))) {
					fprintf(stderr, "%s: out of memory\n", PROG);
					exit(2);
				}
			}
			begins[nbegins].v = v;
			begins[nbegins++].name = i;
		} else if (kind == 'D' && (!names[i].has_done || v > names[i].done)) {
			names[i].done = v;
			names[i].has_done = 1;
		}
	}
	fclose(f);
	if (nbegins)
		qsort(begins, nbegins, sizeof *begins, cmp_begin);
}

static int
begun(unsigned long long v, int name)
{
	struct jbegin key = { v, 0 }, *b;

	if (!nbegins)
		return 0;
	b = bsearch(&key, begins, nbegins, sizeof *begins, cmp_begin);
	return b && b->name == name;
}

static int
is_hex64(const char *p)
{
	int i;

	for (i = 0; i < 64; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* Check one data file; counts it in exactly one of ok/corrupt/torn/lost/phantom. */
static void
check_file(int dfd, const char *name, int journaled)
{
	static const char tail[] = ",\"sum\":\"";
	struct wa_why why;
	unsigned char md[32];
	char want[65], show[4200], *buf;
	const char *sum;
	unsigned int mdlen = 0;
	size_t len, pre, tl = sizeof tail - 1;
	json_t *doc, *jv, *jf;
	unsigned long long v;
	int rc, i, ni;

	nfiles++;
	if ((rc = wa_file_read(&buf, &len, dfd, name, dir, &why)) < 0) {
		problem(&ncorrupt, "corrupt: %s", why.text);
		return;
	}
	if (len == 0) {
		problem(&ncorrupt, "'%s/%s': corrupt: empty file", dir, name);
		free(buf);
		return;
	}
	snprintf(show, sizeof show, "%s/%s", dir, name);
	if ((rc = wa_json_parse(&doc, buf, len, show, &why)) < 0) {
		problem(&ncorrupt, "corrupt: %s", why.text);
		free(buf);
		return;
	}
	jv = json_object_get(doc, "v");
	jf = json_object_get(doc, "file");
	/* layout: PREFIX ,"sum":" 64hex "} \n */
	if (len < tl + 64 + 3 || memcmp(buf + len - 3, "\"}\n", 3) != 0 ||
	    memcmp(buf + len - 3 - 64 - tl, tail, tl) != 0 ||
	    !is_hex64(buf + len - 3 - 64) || !json_is_integer(jv) || !json_is_string(jf)) {
		problem(&ntorn, "'%s/%s': torn: not a complete stress document", dir, name);
		goto out;
	}
	pre = len - 3 - 64 - tl;
	sum = buf + pre + tl;
	if (!EVP_Digest(buf, pre, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
		fprintf(stderr, "%s: sha256 failed\n", PROG);
		exit(2);
	}
	for (i = 0; i < 32; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	if (memcmp(want, sum, 64) != 0) {
		problem(&ntorn, "'%s/%s': torn: checksum mismatch", dir, name);
		goto out;
	}
	if (strcmp(json_string_value(jf), name) != 0) {
		problem(&ntorn, "'%s/%s': torn: holds a version of '%s'", dir, name, json_string_value(jf));
		goto out;
	}
	v = (unsigned long long)json_integer_value(jv);
	if (journaled) {
		ni = name_index(name, 0);
		if (ni < 0 || !begun(v, ni)) {
			problem(&nphantom, "'%s/%s': version %llu was never written", dir, name, v);
			goto out;
		}
		if (names[ni].has_done && v < names[ni].done) {
			problem(&nlost, "'%s/%s': lost: holds version %llu, but version %llu was durably written",
			    dir, name, v, names[ni].done);
			goto out;
		}
	}
	nok++;
out:
	json_decref(doc);
	free(buf);
}

/* A temporary file must never look like data to the library. */
static void
check_tmp(const char *where, const char *name)
{
	enum wa_ftype t = wa_fname_classify(name, NULL, NULL);

	ntmp++;
	if (strncmp(name, WA_DURABLE_TMP_PREFIX, strlen(WA_DURABLE_TMP_PREFIX)) != 0)
		problem(&nunexpected, "'%s/%s/%s': not a temporary file name", dir, where, name);
	else if (t != WA_FT_OTHER)
		problem(&nunexpected, "'%s/%s/%s': a temporary file classified as %s", dir, where, name, wa_ftype_name(t));
}

static void
scan_stage(int dfd)
{
	char where[] = WA_SUBDIR "/" WA_STAGE;
	struct dirent *e;
	DIR *d;
	int fd = openat(dfd, where, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return;
		die("unable to open", where);
	}
	if (!(d = fdopendir(fd)))
		die("unable to read", where);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			check_tmp(where, e->d_name);
	closedir(d);
}

int
main(int argc, char **argv)
{
	const char *jpath = NULL;
	struct dirent *e;
	struct stat st;
	size_t i;
	DIR *d;
	int c, dfd;

	while ((c = getopt(argc, argv, "j:q")) != -1) {
		switch (c) {
		case 'j': jpath = optarg; break;
		case 'q': quiet = 1; break;
		default:
			fprintf(stderr, "usage: %s [-j journal] [-q] dir\n", PROG);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: %s [-j journal] [-q] dir\n", PROG);
		return 2;
	}
	dir = argv[optind];
	if (jpath)
		read_journal(jpath);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		die("unable to open", dir);
	if (!(d = fdopendir(dup(dfd))))
		die("unable to read", dir);
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		enum wa_ftype t;

		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die("unable to stat", n);
		if (!strcmp(n, WA_SUBDIR)) {
			if (!S_ISDIR(st.st_mode))
				problem(&nunexpected, "'%s/%s': not a folder", dir, n);
			continue;
		}
		if (!strncmp(n, WA_DURABLE_TMP_PREFIX, strlen(WA_DURABLE_TMP_PREFIX))) {
			check_tmp(".", n);
			continue;
		}
		t = wa_fname_classify(n, NULL, NULL);
		if (t == WA_FT_OTHER || t == WA_FT_OTHER_JSON) {
			problem(&nunexpected, "'%s/%s': unexpected entry (type %s)", dir, n, wa_ftype_name(t));
			continue;
		}
		check_file(dfd, n, jpath != NULL);
	}
	closedir(d);
	scan_stage(dfd);
	/* a file whose put finished must exist */
	for (i = 0; i < nnames; i++) {
		if (!names[i].has_done)
			continue;
		if (fstatat(dfd, names[i].name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			problem(&nlost, "'%s/%s': lost: missing, but version %llu was durably written",
			    dir, names[i].name, names[i].done);
	}
	close(dfd);
	printf("files %lu, ok %lu, corrupt %lu, torn %lu, lost %lu, phantom %lu, unexpected %lu, tmp %lu\n",
	    nfiles, nok, ncorrupt, ntorn, nlost, nphantom, nunexpected, ntmp);
	for (i = 0; i < nnames; i++)
		free(names[i].name);
	free(names);
	free(begins);
	return ncorrupt || ntorn || nlost || nphantom || nunexpected ? 1 : 0;
}

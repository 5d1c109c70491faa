/*
 * scan.c - list an auth folder (scan.h): one readdir pass, one lstat per
 * entry, no file opened, sorted by name so that reports are stable.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "store/names.h"
#include "store/scan.h"

static int
byname(const void *a, const void *b)
{
	return strcmp(((const struct wa_scan_entry *)a)->name, ((const struct wa_scan_entry *)b)->name);
}

int
wa_scan_dir(struct wa_scan **out, int dirfd)
{
	struct wa_scan *s;
	struct dirent *d;
	DIR *dir;
	size_t cap = 0;
	int fd, rc = 0;

	*out = NULL;
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return WA_ESYS;
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return WA_ESYS;
	}
	if (!(s = calloc(1, sizeof *s))) {
		closedir(dir);
		return WA_ENOMEM;
	}
	for (;;) {
		struct wa_scan_entry *e;
		errno = 0;
		if (!(d = readdir(dir))) {
			if (errno)
				rc = WA_ESYS;
			break;
		}
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (s->n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct wa_scan_entry *ne = realloc(s->e, ncap * sizeof *ne);
			if (!ne) {
				rc = WA_ENOMEM;
				break;
			}
			s->e = ne;
			cap = ncap;
		}
		e = &s->e[s->n];
		memset(e, 0, sizeof *e);
		if (fstatat(dirfd, d->d_name, &e->st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* removed while we looked */
			rc = WA_ESYS;
			break;
		}
		if (!(e->name = strdup(d->d_name))) {
			rc = WA_ENOMEM;
			break;
		}
		s->n++;
		if (S_ISREG(e->st.st_mode)) {
			e->kind = WA_SCAN_FILE;
			e->type = wa_fname_classify(e->name, NULL, NULL);
			s->count[e->type]++;
		} else if (S_ISLNK(e->st.st_mode)) {
			e->kind = WA_SCAN_SYMLINK;
			e->type = wa_fname_classify(e->name, NULL, NULL);
		} else if (S_ISDIR(e->st.st_mode)) {
			e->kind = strcmp(e->name, WA_SUBDIR) == 0 ? WA_SCAN_SUBDIR : WA_SCAN_DIR;
			e->type = WA_FT_OTHER;
		} else {
			e->kind = WA_SCAN_OTHERKIND;
			e->type = WA_FT_OTHER;
		}
	}
	{
		int saved = errno;
		closedir(dir);
		errno = saved;
	}
	if (rc < 0) {
		wa_scan_free(s);
		return rc;
	}
	if (s->n)
		qsort(s->e, s->n, sizeof *s->e, byname);
	*out = s;
	return 0;
}

void
wa_scan_free(struct wa_scan *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->e[i].name);
	free(s->e);
	free(s);
}

const struct wa_scan_entry *
wa_scan_find(const struct wa_scan *s, const char *name)
{
	struct wa_scan_entry key;

	if (!s->n)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, s->e, s->n, sizeof *s->e, byname);
}

int
wa_scan_fix_modes(size_t *n, const char **failed, int dirfd, const struct wa_scan *s, int dry,
    void (*fn)(void *arg, const char *name, mode_t old), void *arg)
{
	struct stat st;
	size_t i;
	int fd;

	*n = 0;
	*failed = NULL;
	for (i = 0; i < s->n; i++) {
		const struct wa_scan_entry *e = &s->e[i];
		if (e->kind != WA_SCAN_FILE || e->type == WA_FT_OTHER || !(e->st.st_mode & 077))
			continue;
		if (!dry) {
			fd = openat(dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
			if (fd < 0 && errno == ENOENT)
				continue;   /* gone since the listing */
			if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
				close(fd);
				continue;   /* replaced since the listing: not ours to change */
			}
			if (fd < 0 || fstat(fd, &st) < 0 || (st.st_mode & 077 && fchmod(fd, 0600) < 0)) {
				int saved = errno;
				if (fd >= 0)
					close(fd);
				errno = saved;
				*failed = e->name;
				return WA_ESYS;
			}
			close(fd);
		}
		(*n)++;
		if (fn)
			fn(arg, e->name, e->st.st_mode & 07777);
	}
	return 0;
}

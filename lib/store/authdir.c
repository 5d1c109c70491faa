/*
 * authdir.c - open an auth folder (authdir.h): a real directory, its .wa
 * sub-folder and staging area made durably when writing, and the one-
 * writer lock held for the handle's life.  Every later open is relative to
 * these descriptors, so a folder renamed or replaced meanwhile is not
 * followed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/authdir.h"
#include "store/durable.h"
#include "store/fname.h"
#include "store/names.h"

static int
opendirat(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Open (and with create, make) a private sub-folder; a symlink is refused. */
static int
subdir(int at, const char *name, int create)
{
	int fd, rc;

	if ((fd = opendirat(at, name)) >= 0)
		return fd;
	if (errno == ELOOP || errno == ENOTDIR)
		return WA_EUNSAFE;
	if (errno != ENOENT || !create)
		return errno == ENOENT ? WA_ENOTFOUND : WA_ESYS;
	if ((rc = wa_durable_mkdir(at, name)) < 0 && rc != WA_EEXIST)
		return rc;
	if ((fd = opendirat(at, name)) < 0)
		return errno == ELOOP || errno == ENOTDIR ? WA_EUNSAFE : WA_ESYS;
	return fd;
}

void
wa_lock_holder_describe(const struct wa_lock_holder *h, char *buf, size_t n)
{
	char when[32] = "?";
	struct tm tm;

	if (h->foreign && h->pid > 0)
		snprintf(buf, n, "pid %ld (%s, not a wa tool)", (long)h->pid, h->prog[0] ? h->prog : "?");
	else if (h->foreign)
		snprintf(buf, n, "a process that is not a wa tool");
	else if (h->since && gmtime_r(&h->since, &tm) && strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "pid %ld (%s) since %s", (long)h->pid, h->prog[0] ? h->prog : "?", when);
	else
		snprintf(buf, n, "pid %ld (%s)", (long)h->pid, h->prog[0] ? h->prog : "?");
}

int
wa_authdir_open(struct wa_authdir **out, const char *path, unsigned flags,
    const char *prog, struct wa_lock_holder *holder, struct wa_why *why)
{
	struct wa_authdir *ad;
	struct wa_lock_holder h;
	struct stat st;
	size_t n;
	int rc;

	*out = NULL;
	if (!(ad = calloc(1, sizeof *ad)))
		return WA_ENOMEM;
	ad->fd = ad->wafd = ad->stagefd = -1;
	if (!(ad->path = strdup(path))) {
		free(ad);
		return WA_ENOMEM;
	}
	n = strlen(ad->path);
	while (n > 1 && ad->path[n - 1] == '/')
		ad->path[--n] = 0;

	if (lstat(ad->path, &st) < 0) {
		if (errno == ENOENT && (flags & WA_AUTHDIR_CREATE)) {
			rc = wa_durable_mkdir_path(ad->path);
			if (rc == WA_ESYNC) {
				rc = wa_why_set(why, rc, "created '%s' but unable to flush its parent folder to disk: %s",
				    ad->path, strerror(errno));
				goto fail;
			}
			if (rc < 0 && rc != WA_EEXIST) {
				rc = wa_why_set(why, rc, "unable to create '%s': %s", ad->path,
				    rc == WA_ESYS ? strerror(errno) : wa_strerror(rc));
				goto fail;
			}
		} else if (errno == ENOENT) {
			rc = wa_why_set(why, WA_ENOTFOUND, "'%s': no such folder", ad->path);
			goto fail;
		} else {
			rc = wa_why_set(why, WA_ESYS, "'%s': %s", ad->path, strerror(errno));
			goto fail;
		}
	} else if (S_ISLNK(st.st_mode)) {
		rc = wa_why_set(why, WA_EUNSAFE, "'%s' is a symbolic link; pass the real folder", ad->path);
		goto fail;
	} else if (!S_ISDIR(st.st_mode)) {
		rc = wa_why_set(why, WA_EINVAL, "'%s' is not a folder", ad->path);
		goto fail;
	}
	if ((ad->fd = open(ad->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = wa_why_set(why, WA_ESYS, "unable to open '%s': %s", ad->path, strerror(errno));
		goto fail;
	}
	rc = subdir(ad->fd, WA_SUBDIR, flags & WA_AUTHDIR_WRITE);
	if (rc == WA_ENOTFOUND && !(flags & WA_AUTHDIR_WRITE)) {
		*out = ad;
		return 0;
	}
	if (rc < 0) {
		rc = wa_why_set(why, rc, "'%s/%s': %s", ad->path, WA_SUBDIR,
		    rc == WA_EUNSAFE ? "not a real folder (symbolic link?)" : wa_strerror(rc));
		goto fail;
	}
	ad->wafd = rc;
	if (flags & WA_AUTHDIR_WRITE) {
		rc = wa_lock_acquire(&ad->lock, ad->wafd, prog, &h);
		if (rc == WA_ELOCKED) {
			char d[160];
			wa_lock_holder_describe(&h, d, sizeof d);
			if (holder)
				*holder = h;
			rc = wa_why_set(why, rc, "'%s' is in use by %s", ad->path, d);
			goto fail;
		}
		if (rc < 0) {
			rc = wa_why_set(why, rc, "unable to lock '%s/%s/%s': %s", ad->path,
			    WA_SUBDIR, WA_LOCK, wa_strerror(rc));
			goto fail;
		}
		if ((rc = subdir(ad->wafd, WA_STAGE, 1)) < 0) {
			rc = wa_why_set(why, rc, "'%s/%s/%s': %s", ad->path, WA_SUBDIR, WA_STAGE,
			    rc == WA_EUNSAFE ? "not a real folder (symbolic link?)" : wa_strerror(rc));
			goto fail;
		}
		ad->stagefd = rc;
	} else if ((rc = subdir(ad->wafd, WA_STAGE, 0)) >= 0) {
		ad->stagefd = rc;
	}
	*out = ad;
	return 0;
fail:
	wa_authdir_close(ad);
	return rc;
}

void
wa_authdir_close(struct wa_authdir *ad)
{
	int saved = errno;

	if (!ad)
		return;
	wa_lock_release(ad->lock);
	if (ad->stagefd >= 0)
		close(ad->stagefd);
	if (ad->wafd >= 0)
		close(ad->wafd);
	if (ad->fd >= 0)
		close(ad->fd);
	free(ad->path);
	free(ad);
	errno = saved;
}

int
wa_authdir_put(struct wa_authdir *ad, const char *name, const void *buf, size_t len)
{
	if (!ad->lock || ad->stagefd < 0)
		return WA_EINVAL;
	if (!wa_fname_safe(name))
		return WA_EINVAL;
	return wa_durable_put(ad->fd, name, ad->stagefd, buf, len);
}

int
wa_authdir_subdir(struct wa_authdir *ad, const char *name, int create)
{
	if (ad->wafd < 0)
		return WA_ENOTFOUND;
	return subdir(ad->wafd, name, create);
}

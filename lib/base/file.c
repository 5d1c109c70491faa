/*
 * file.c - read one file of a folder whole, without following links, and
 * say exactly what is wrong with it (file.h).  Missing and corrupt are
 * different answers; a JSON error names the byte offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"

int
wa_file_read(char **out, size_t *len, int dirfd, const char *name,
    const char *dirshow, struct wa_why *why)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc;

	*out = NULL;
	*len = 0;
	if (!dirshow)
		dirshow = ".";
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return wa_why_set(why, WA_ENOTFOUND, "'%s/%s': no such file", dirshow, name);
		if (errno == ELOOP)
			return wa_why_set(why, WA_EUNSAFE, "'%s/%s': is a symbolic link; refusing to follow it", dirshow, name);
		return wa_why_set(why, WA_ESYS, "'%s/%s': %s", dirshow, name, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = wa_why_set(why, WA_ESYS, "'%s/%s': %s", dirshow, name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = wa_why_set(why, WA_EUNSAFE, "'%s/%s': not a regular file", dirshow, name);
		goto out;
	}
	if ((unsigned long long)st.st_size > WA_FILE_MAX) {
		rc = wa_why_set(why, WA_ETOOBIG, "'%s/%s': %lld bytes, over the %u byte limit",
		    dirshow, name, (long long)st.st_size, WA_FILE_MAX);
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		rc = WA_ENOMEM;
		goto out;
	}
	/* read up to the size fstat saw (+1 to notice growth, which we ignore:
	 * a concurrent in-place writer is the caller's problem to retry) */
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = wa_why_set(why, WA_ESYS, "'%s/%s': %s", dirshow, name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	*out = buf;
	*len = got;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

int
wa_json_parse(json_t **out, const char *buf, size_t len, const char *show, struct wa_why *why)
{
	json_error_t e;
	size_t i;

	*out = NULL;
	for (i = 0; i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'); i++)
		;
	if (i == len)
		return wa_why_set(why, WA_ECORRUPT, "'%s': %s", show, len ? "only white space" : "empty file");
	if (!(*out = json_loadb(buf, len, JSON_DECODE_ANY, &e)))
		return wa_why_set(why, WA_ECORRUPT, "'%s': not valid JSON at byte %d of %zu: %s",
		    show, e.position, len, e.text);
	return 0;
}

int
wa_json_read(json_t **out, int dirfd, const char *name, const char *dirshow, struct wa_why *why)
{
	char *buf, show[4096];
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = wa_file_read(&buf, &len, dirfd, name, dirshow, why)) < 0)
		return rc;
	snprintf(show, sizeof show, "%s/%s", dirshow ? dirshow : ".", name);
	rc = wa_json_parse(out, buf, len, show, why);
	free(buf);
	return rc;
}

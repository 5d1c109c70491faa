/*
 * compat.c - the platform calls (compat.h): full fsync, renameat2's
 * exchange and no-replace flags, process start times and the kernel's
 * lock table.  Where a system cannot, the call fails with ENOSYS or
 * EINVAL and the caller falls back as its own header says.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#ifdef __linux__
#include <sys/random.h>
#include <sys/syscall.h>
#include <linux/fs.h>
#include <sys/inotify.h>
#endif

#include "base/compat.h"

int
wa_compat_fsync(int fd)
{
#ifdef F_FULLFSYNC
	if (fcntl(fd, F_FULLFSYNC) == 0)
		return 0;
	/* not every filesystem supports it; fall back to fsync */
#endif
	return fsync(fd);
}

int
wa_compat_fdatasync(int fd)
{
#if defined(__linux__)
	return fdatasync(fd);
#else
	return wa_compat_fsync(fd);
#endif
}

int
wa_compat_syncfs(int fd)
{
#if defined(__linux__)
	return syncfs(fd);
#else
	(void)fd;
	errno = ENOSYS;
	return -1;
#endif
}

#ifdef __linux__
/* renameat2(2): glibc's wrapper where it has one (2.28 on), else the
 * system call. */
static int
rename2(int olddirfd, const char *oldname, int newdirfd, const char *newname, unsigned flags)
{
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 28))
	return renameat2(olddirfd, oldname, newdirfd, newname, flags);
#elif defined(SYS_renameat2)
	return (int)syscall(SYS_renameat2, olddirfd, oldname, newdirfd, newname, flags);
#else
	(void)olddirfd; (void)oldname; (void)newdirfd; (void)newname; (void)flags;
	errno = ENOSYS;
	return -1;
#endif
}
#endif

int
wa_compat_exchange(int olddirfd, const char *oldname, int newdirfd, const char *newname)
{
#if defined(__linux__) && defined(RENAME_EXCHANGE)
	return rename2(olddirfd, oldname, newdirfd, newname, RENAME_EXCHANGE);
#else
	(void)olddirfd; (void)oldname; (void)newdirfd; (void)newname;
	errno = ENOSYS;
	return -1;
#endif
}

int
wa_compat_rename_noreplace(int olddirfd, const char *oldname, int newdirfd, const char *newname)
{
#if defined(__linux__) && defined(RENAME_NOREPLACE)
	return rename2(olddirfd, oldname, newdirfd, newname, RENAME_NOREPLACE);
#else
	(void)olddirfd; (void)oldname; (void)newdirfd; (void)newname;
	errno = ENOSYS;
	return -1;
#endif
}

/* "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234567 0 EOF": device in hex,
 * inode in decimal; "->" lines are waiters. */
int
wa_compat_flock_holder(int fd, pid_t *pid)
{
#ifdef __linux__
	char line[256], kind[16];
	struct stat st;
	unsigned int maj, min;
	unsigned long long ino;
	long p;
	FILE *f;
	int found = 0;

	*pid = 0;
	if (fstat(fd, &st) < 0 || !(f = fopen("/proc/locks", "re")))
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strstr(line, "->"))
			continue;
		if (sscanf(line, "%*[^:]: %15s %*s %*s %ld %x:%x:%llu", kind, &p, &maj, &min, &ino) != 5)
			continue;
		if (strcmp(kind, "FLOCK") != 0 || ino != (unsigned long long)st.st_ino ||
		    maj != major(st.st_dev) || min != minor(st.st_dev))
			continue;
		found = 1;
		*pid = p > 0 ? (pid_t)p : 0;
		break;
	}
	fclose(f);
	return found;
#else
	(void)fd;
	*pid = 0;
	return -1;
#endif
}

void
wa_compat_proc_name(pid_t pid, char *out, size_t n)
{
	char path[64];
	FILE *f;
	size_t len;

	out[0] = 0;
	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	if (!(f = fopen(path, "re")))
		return;
	if (fgets(out, (int)n, f)) {
		len = strcspn(out, "\n");
		out[len] = 0;
		for (len = 0; out[len]; len++)
			if ((unsigned char)out[len] < 0x21 || (unsigned char)out[len] >= 0x7f)
				out[len] = '?';
	}
	fclose(f);
}

int
wa_compat_proc_start(pid_t pid, unsigned long long *out)
{
#ifdef __linux__
	char path[64], buf[1024], *p;
	int fd, i;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* field 2 is "(comm)" and may hold spaces: skip past the last ')' */
	if (!(p = strrchr(buf, ')')))
		return -1;
	p++;
	/* fields 3.. follow; starttime is field 22 */
	for (i = 3; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -1;
	*out = strtoull(p + 1, NULL, 10);
	return 0;
#else
	(void)pid; (void)out;
	return -1;
#endif
}

int
wa_compat_random(void *buf, size_t len)
{
#ifdef __linux__
	unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
#else
	arc4random_buf(buf, len);
	return 0;
#endif
}

int
wa_compat_watch_dir(const char *path)
{
#ifdef __linux__
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), saved;

	if (fd < 0)
		return -1;
	if (inotify_add_watch(fd, path, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
#else
	(void)path;
	errno = ENOSYS;
	return -1;
#endif
}

int
wa_compat_watch_names(int fd, int (*fn)(void *arg, const char *name), void *arg, int *lost)
{
#ifdef __linux__
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int n = 0, rc;

	*lost = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		size_t off = 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return n;
		if (r <= 0)
			return r == 0 ? n : -1;
		while (off + sizeof(struct inotify_event) <= (size_t)r) {
			const struct inotify_event *ev = (const void *)(buf + off);
			off += sizeof *ev + ev->len;
			n++;
			if (ev->mask & IN_Q_OVERFLOW)
				*lost = 1;
			else if (fn && ev->len && ev->name[0] && (rc = fn(arg, ev->name)) < 0)
				return rc;
		}
	}
#else
	(void)fd;
	(void)fn;
	(void)arg;
	*lost = 1;
	errno = ENOSYS;
	return -1;
#endif
}

int
wa_compat_watch_drain(int fd)
{
	int lost;

	return wa_compat_watch_names(fd, NULL, NULL, &lost);
}

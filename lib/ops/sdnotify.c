/*
 * sdnotify.c - the systemd notify protocol (sdnotify.h): one datagram per
 * message to the socket named by $NOTIFY_SOCKET.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "ops/sdnotify.h"

int
wa_sdnotify_parse_usec(uint64_t *usec, const char *s)
{
	uint64_t v = 0;

	if (!s || !*s)
		return WA_EINVAL;
	for (; *s; s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - d) / 10)
			return WA_EINVAL;
		v = v * 10 + d;
	}
	if (v == 0)
		return WA_EINVAL;
	*usec = v;
	return 0;
}

static void
watchdog(struct wa_sdnotify *sd)
{
	const char *u = getenv("WATCHDOG_USEC"), *p = getenv("WATCHDOG_PID");
	uint64_t v;

	sd->watchdog_usec = 0;
	if (!u || wa_sdnotify_parse_usec(&v, u) < 0)
		return;
	if (p && *p) {
		char *end;
		long pid;
		errno = 0;
		pid = strtol(p, &end, 10);
		if (errno || *end || pid != (long)getpid())
			return;
	}
	sd->watchdog_usec = v;
}

int
wa_sdnotify_open(struct wa_sdnotify *sd, int unset_env)
{
	const char *env = getenv("NOTIFY_SOCKET");
	char path[sizeof sd->addr.sun_path + 2];
	size_t n;
	int fl;

	memset(sd, 0, sizeof *sd);
	sd->fd = -1;
	watchdog(sd);
	/* copy first: unsetenv invalidates env */
	n = env ? strlen(env) : 0;
	if (n < sizeof path)
		memcpy(path, env ? env : "", n + 1);
	if (unset_env) {
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
		unsetenv("NOTIFY_SOCKET");
	}
	if (n == 0)
		return 0;
	if (n >= sizeof sd->addr.sun_path || n < 2 || (path[0] != '/' && path[0] != '@'))
		return WA_EINVAL;
	sd->addr.sun_family = AF_UNIX;
	memcpy(sd->addr.sun_path, path, n);
	if (path[0] == '@')
		sd->addr.sun_path[0] = 0;   /* abstract: the name is not NUL-terminated */
	sd->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
	if ((sd->fd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0)
		return WA_ESYS;
	if (fcntl(sd->fd, F_SETFD, FD_CLOEXEC) < 0 || (fl = fcntl(sd->fd, F_GETFL)) < 0 ||
	    fcntl(sd->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int saved = errno;
		close(sd->fd);
		sd->fd = -1;
		errno = saved;
		return WA_ESYS;
	}
	return 0;
}

int
wa_sdnotify_send(struct wa_sdnotify *sd, const char *msg)
{
	ssize_t n;

	if (sd->fd < 0)
		return 0;
	do
		n = sendto(sd->fd, msg, strlen(msg), 0, (const struct sockaddr *)&sd->addr, sd->addrlen);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return WA_ESYS;
	sd->sent++;
	return 0;
}

long
wa_sdnotify_watchdog_ms(const struct wa_sdnotify *sd)
{
	uint64_t ms = sd->watchdog_usec / 2000;

	if (!sd->watchdog_usec)
		return 0;
	if (ms < 1)
		ms = 1;
	if (ms > 0x7fffffff)
		ms = 0x7fffffff;
	return (long)ms;
}

void
wa_sdnotify_close(struct wa_sdnotify *sd)
{
	if (sd->fd >= 0)
		close(sd->fd);
	sd->fd = -1;
}

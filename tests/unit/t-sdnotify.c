/*
 * t-sdnotify - the systemd notify protocol (lib/sdnotify.h) against unix
 * datagram sockets made here: a path socket and an abstract "@" one get
 * READY=1, STATUS=..., WATCHDOG=1 and STOPPING=1 as single datagrams;
 * WATCHDOG_USEC / WATCHDOG_PID parsing; the environment is cleared for
 * children when asked; no socket means harmless no-ops.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/err.h"
#include "ops/sdnotify.h"
#include "tap.h"

static int
listener(const char *name, int abstract)
{
	struct sockaddr_un a;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	if (abstract) {
		a.sun_path[0] = 0;
		memcpy(a.sun_path + 1, name, strlen(name));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	} else {
		snprintf(a.sun_path, sizeof a.sun_path, "%s", name);
		len = sizeof a;
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) < 0) {
		perror("bind");
		return -1;
	}
	return fd;
}

static const char *
recv_one(int fd)
{
	static char buf[512];
	ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);

	if (n < 0)
		return "(nothing)";
	buf[n] = 0;
	return buf;
}

int
main(void)
{
	struct wa_sdnotify sd;
	char dir[200], path[300], env[64], pid[32];
	uint64_t us;
	int fd, afd;

	snprintf(dir, sizeof dir, "%s/t-sdnotify.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/notify", dir);

	/* no socket */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	is_int(wa_sdnotify_open(&sd, 0), 0, "no NOTIFY_SOCKET: open succeeds");
	ok(sd.fd == -1 && wa_sdnotify_send(&sd, "READY=1") == 0 && wa_sdnotify_watchdog_ms(&sd) == 0,
	    "  every call is a no-op, no watchdog");
	wa_sdnotify_close(&sd);

	/* a path socket */
	fd = listener(path, 0);
	ok(fd >= 0, "listening on %s", path);
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(wa_sdnotify_open(&sd, 0), 0, "open with a path socket");
	is_int(wa_sdnotify_send(&sd, "READY=1\nSTATUS=online"), 0, "send READY=1 and STATUS");
	is_str(recv_one(fd), "READY=1\nSTATUS=online", "  received as one datagram");
	wa_sdnotify_send(&sd, "WATCHDOG=1");
	is_str(recv_one(fd), "WATCHDOG=1", "WATCHDOG=1 received");
	wa_sdnotify_send(&sd, "STOPPING=1");
	is_str(recv_one(fd), "STOPPING=1", "STOPPING=1 received");
	is_int(sd.sent, 3, "three sent");
	ok(getenv("NOTIFY_SOCKET") != NULL, "unset_env 0 keeps the environment");
	wa_sdnotify_close(&sd);

	/* the listener is gone: sending fails but does not block or kill */
	close(fd);
	unlink(path);
	wa_sdnotify_open(&sd, 0);
	ok(wa_sdnotify_send(&sd, "WATCHDOG=1") == WA_ESYS, "a vanished socket: WA_ESYS (%s)", strerror(errno));
	wa_sdnotify_close(&sd);

	/* an abstract socket */
	snprintf(env, sizeof env, "wa-t-sdnotify-%ld", (long)getpid());
	afd = listener(env, 1);
	ok(afd >= 0, "listening on abstract @%s", env);
	snprintf(path, sizeof path, "@%s", env);
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "10000000", 1);
	is_int(wa_sdnotify_open(&sd, 1), 0, "open with an abstract socket, clearing the environment");
	ok(!getenv("NOTIFY_SOCKET") && !getenv("WATCHDOG_USEC") && !getenv("WATCHDOG_PID"),
	    "  NOTIFY_SOCKET and WATCHDOG_* are gone (children do not inherit them)");
	is_int(wa_sdnotify_watchdog_ms(&sd), 5000, "  WATCHDOG_USEC 10 s: ping every 5 s");
	wa_sdnotify_send(&sd, "READY=1");
	is_str(recv_one(afd), "READY=1", "READY=1 received on the abstract socket");
	wa_sdnotify_send(&sd, "WATCHDOG=1");
	is_str(recv_one(afd), "WATCHDOG=1", "WATCHDOG=1 received on the abstract socket");
	wa_sdnotify_close(&sd);
	close(afd);

	/* watchdog variables */
	setenv("WATCHDOG_USEC", "3000000", 1);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	wa_sdnotify_open(&sd, 0);
	is_int(wa_sdnotify_watchdog_ms(&sd), 1500, "WATCHDOG_PID is us: 1.5 s");
	setenv("WATCHDOG_PID", "1", 1);
	wa_sdnotify_open(&sd, 0);
	is_int(wa_sdnotify_watchdog_ms(&sd), 0, "WATCHDOG_PID is another process: no watchdog");
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "abc", 1);
	wa_sdnotify_open(&sd, 0);
	is_int(wa_sdnotify_watchdog_ms(&sd), 0, "WATCHDOG_USEC not a number: no watchdog");
	setenv("WATCHDOG_USEC", "1", 1);
	wa_sdnotify_open(&sd, 0);
	is_int(wa_sdnotify_watchdog_ms(&sd), 1, "WATCHDOG_USEC 1: at least 1 ms");
	ok(wa_sdnotify_parse_usec(&us, "18446744073709551615") == 0 && us == UINT64_MAX, "parse the largest");
	ok(wa_sdnotify_parse_usec(&us, "18446744073709551616") == WA_EINVAL, "parse overflow: refused");
	ok(wa_sdnotify_parse_usec(&us, "0") == WA_EINVAL && wa_sdnotify_parse_usec(&us, "") == WA_EINVAL &&
	    wa_sdnotify_parse_usec(&us, "-5") == WA_EINVAL, "parse 0, empty, negative: refused");
	unsetenv("WATCHDOG_USEC");

	/* bad values */
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	is_int(wa_sdnotify_open(&sd, 0), WA_EINVAL, "a relative path: WA_EINVAL");
	setenv("NOTIFY_SOCKET", "@", 1);
	is_int(wa_sdnotify_open(&sd, 0), WA_EINVAL, "a bare '@': WA_EINVAL");
	{
		char longp[200];
		memset(longp, 'a', sizeof longp - 1);
		longp[0] = '/';
		longp[sizeof longp - 1] = 0;
		setenv("NOTIFY_SOCKET", longp, 1);
		is_int(wa_sdnotify_open(&sd, 0), WA_EINVAL, "a path too long for sun_path: WA_EINVAL");
	}
	unsetenv("NOTIFY_SOCKET");
	rmdir(dir);
	done_testing();
	return exit_status();
}

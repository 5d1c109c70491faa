/*
 * wa-notify-listen - test helper: a service manager's notify socket.
 *
 *	wa-notify-listen PATH
 *
 * Binds a unix datagram socket at PATH and prints each datagram it
 * receives as one line on stdout (the newlines between assignments
 * become spaces), flushed at once, until killed.  For wa-run's
 * NOTIFY_SOCKET tests (READY=1, STATUS=..., WATCHDOG=1, STOPPING=1).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un a;
	char buf[4096];
	ssize_t n, i;
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof a.sun_path) {
		fputs("usage: wa-notify-listen PATH\n", stderr);
		return 2;
	}
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, argv[1], strlen(argv[1]));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("wa-notify-listen");
		return 1;
	}
	for (;;) {
		if ((n = recv(fd, buf, sizeof buf - 1, 0)) < 0) {
			perror("wa-notify-listen: recv");
			return 1;
		}
		for (i = 0; i < n; i++)
			if (buf[i] == '\n' || buf[i] == 0)
				buf[i] = ' ';
		buf[n] = 0;
		printf("%s\n", buf);
		fflush(stdout);
	}
}

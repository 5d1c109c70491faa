/*
 * sdnotify.h - tell systemd (or anything speaking its notify protocol,
 * sd_notify(3)) how the service is doing, without libsystemd.
 *
 *	struct wa_sdnotify sd;
 *	wa_sdnotify_open(&sd, 1);            // reads and unsets $NOTIFY_SOCKET ...
 *	after <success>:   wa_sdnotify_send(&sd, "READY=1\nSTATUS=online");
 *	every wa_sdnotify_watchdog_ms(&sd) while healthy:  wa_sdnotify_send(&sd, "WATCHDOG=1");
 *	on SIGTERM:        wa_sdnotify_send(&sd, "STOPPING=1");
 *	wa_sdnotify_close(&sd);
 *
 * $NOTIFY_SOCKET is a path of a unix datagram socket, or an abstract
 * socket name written with a leading "@".  When it is unset, every call is
 * a harmless no-op (fd -1).  Each message is one datagram of
 * newline-separated VAR=value assignments; it is sent without blocking
 * (a full socket buffer drops the message with WA_ESYS/EAGAIN, which the
 * caller may ignore: the next ping comes soon).
 *
 * Watchdog: $WATCHDOG_USEC (set by systemd from WatchdogSec=) is the
 * interval the service must ping within; $WATCHDOG_PID, when set, names
 * the process meant (another pid: no watchdog here).  The recommended
 * ping period, and what wa_sdnotify_watchdog_ms returns, is half the
 * interval.  "While healthy" is the caller's decision: wa-run pings only
 * while its loop runs and the session is online or recovering within its
 * budget, so a hung process gets restarted.
 *
 * unset_env: remove NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the
 * environment, so that child processes (--on-event) do not inherit them.
 */
#ifndef WA_SDNOTIFY_H
#define WA_SDNOTIFY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct wa_sdnotify {
	int fd;                     /* -1: no socket, every send is a no-op */
	struct sockaddr_un addr;
	socklen_t addrlen;
	uint64_t watchdog_usec;     /* 0: no watchdog */
	unsigned long sent;         /* datagrams sent */
};

/* 0 (fd -1 when $NOTIFY_SOCKET is unset or empty); WA_EINVAL for a value
 * that is not an absolute path or an "@" name, or too long; WA_ESYS. */
int wa_sdnotify_open(struct wa_sdnotify *sd, int unset_env);

/* Send msg as one datagram.  0 (also when there is no socket); WA_ESYS. */
int wa_sdnotify_send(struct wa_sdnotify *sd, const char *msg);

/* Half the watchdog interval in ms (at least 1), or 0 without a watchdog. */
long wa_sdnotify_watchdog_ms(const struct wa_sdnotify *sd);

/* Parse a WATCHDOG_USEC value: 0 and *usec set, or WA_EINVAL. */
int wa_sdnotify_parse_usec(uint64_t *usec, const char *s);

void wa_sdnotify_close(struct wa_sdnotify *sd);

#endif

/*
 * t-outq - lines to a descriptor without blocking (lib/outq.h): a pipe
 * nobody reads takes what fits, the rest waits up to the bound and then
 * the oldest lines are dropped, whole; the reader gets whole lines in
 * order; the original descriptor's O_NONBLOCK flag is not touched; a
 * socket and a regular file; a reader that goes away stops the queue
 * (EPIPE, no SIGPIPE death); through the poll loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/loop.h"
#include "base/outq.h"
#include "tap.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t
line(char *buf, size_t n, unsigned long i)
{
	int k = snprintf(buf, n, "{\"seq\":%lu,\"pad\":\"%0200lu\"}\n", i, i);
	return (size_t)k;
}

/* read everything available from fd into buf (non-blocking) */
static size_t
drain(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t k;

	while (n < cap && (k = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)k;
	return n;
}

/* every line of buf is whole and seq increases */
static int
lines_ok(const char *buf, size_t n, unsigned long *count, unsigned long *last)
{
	const char *p = buf, *e = buf + n, *nl;
	unsigned long prev = 0, seq;
	char want[300];

	*count = 0;
	while (p < e) {
		if (!(nl = memchr(p, '\n', (size_t)(e - p))))
			return 0;
		if (sscanf(p, "{\"seq\":%lu", &seq) != 1 || (*count && seq <= prev))
			return 0;
		line(want, sizeof want, seq);
		if ((size_t)(nl - p + 1) != strlen(want) || memcmp(p, want, strlen(want)) != 0)
			return 0;
		prev = seq;
		(*count)++;
		p = nl + 1;
	}
	*last = prev;
	return 1;
}

static void
test_pipe_unread(void)
{
	struct wa_outq *q;
	char buf[300], *got = malloc(4 << 20);
	int p[2], fl0;
	unsigned long i, count = 0, last = 0;
	size_t n, got_n;
	double t0;

	ok(pipe(p) == 0, "pipe");
	fl0 = fcntl(p[1], F_GETFL);
	is_int(wa_outq_new(&q, p[1], 64 << 10), 0, "queue on a pipe, bound 64 KiB");
	is_int(fcntl(p[1], F_GETFL), fl0, "the descriptor's own flags are not changed (no O_NONBLOCK leaks)");
	t0 = now();
	for (i = 1; i <= 20000; i++) {
		n = line(buf, sizeof buf, i);
		if (wa_outq_push(q, buf, n) < 0)
			break;
	}
	ok(now() - t0 < 5, "20,000 lines (4 MiB) into a pipe nobody reads: returns (%.2f s)", now() - t0);
	ok(wa_outq_pending(q) <= 64 << 10, "waiting bytes within the bound (%zu)", wa_outq_pending(q));
	ok(wa_outq_dropped(q) > 15000, "the oldest lines were dropped (%lu)", wa_outq_dropped(q));
	is_int(wa_outq_error(q), 0, "no error");

	/* the reader comes: whole lines, in order, the newest ones last */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	got_n = 0;
	for (i = 0; i < 1000 && wa_outq_pending(q); i++) {
		struct pollfd fds[1];
		int t, m;
		got_n += drain(p[0], got + got_n, (4 << 20) - got_n);
		m = wa_outq_pollfds(q, fds, 1, &t);
		if (m == 1 && poll(fds, 1, 100) >= 0)
			wa_outq_process(q, fds, 1);
	}
	got_n += drain(p[0], got + got_n, (4 << 20) - got_n);
	is_int(wa_outq_pending(q), 0, "everything waiting went out");
	i = (unsigned long)lines_ok(got, got_n, &count, &last);
	ok(i, "the reader got whole lines in increasing order (%lu lines)", count);
	is_int(last, 20000, "the last line is the newest");
	is_int(count + wa_outq_dropped(q), 20000, "every line was either delivered or counted as dropped");
	wa_outq_free(q);
	close(p[0]);
	close(p[1]);
	free(got);
}

static void
test_reader_gone(void)
{
	struct wa_outq *q;
	char buf[300];
	int p[2];
	size_t n;

	ok(pipe(p) == 0, "pipe");
	close(p[0]);
	is_int(wa_outq_new(&q, p[1], 0), 0, "queue on a pipe without reader");
	n = line(buf, sizeof buf, 1);
	is_int(wa_outq_push(q, buf, n), 0, "push");
	wa_outq_push(q, buf, n);
	is_int(wa_outq_error(q), EPIPE, "the queue stopped with EPIPE (and the process did not die of SIGPIPE)");
	is_int(wa_outq_pending(q), 0, "nothing waits after it stopped");
	ok(wa_outq_dropped(q) >= 1, "later lines are counted as dropped");
	wa_outq_free(q);
	close(p[1]);
}

static void
test_socket_and_file(void)
{
	struct wa_outq *q;
	char buf[300], got[4096], path[] = "/tmp/t-outq.XXXXXX";
	unsigned long count, last;
	int sv[2], fd, i;
	size_t n, total = 0;
	ssize_t k;

	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	is_int(wa_outq_new(&q, sv[0], 16 << 10), 0, "queue on a socket");
	for (i = 1; i <= 5000; i++) {
		n = line(buf, sizeof buf, (unsigned long)i);
		wa_outq_push(q, buf, n);
	}
	ok(wa_outq_pending(q) <= 16 << 10, "socket nobody reads: within the bound");
	ok(fcntl(sv[0], F_GETFL) & O_NONBLOCK ? 0 : 1, "the socket stays blocking for its owner");
	wa_outq_free(q);
	close(sv[0]);
	close(sv[1]);

	fd = mkstemp(path);
	ok(fd >= 0, "a regular file");
	is_int(wa_outq_new(&q, fd, 0), 0, "queue on a file");
	for (i = 1; i <= 10; i++) {
		n = line(buf, sizeof buf, (unsigned long)i);
		wa_outq_push(q, buf, n);
		total += n;
	}
	is_int(wa_outq_pending(q), 0, "a file takes everything at once");
	k = pread(fd, got, sizeof got, 0);
	ok(k == (ssize_t)total && lines_ok(got, (size_t)k, &count, &last) && count == 10, "10 whole lines in the file");
	wa_outq_free(q);
	close(fd);
	unlink(path);

	is_int(wa_outq_new(&q, 99, 0), 0, "queue on a closed descriptor");
	wa_outq_push(q, "x\n", 2);
	is_int(wa_outq_error(q), EBADF, "stopped with EBADF");
	wa_outq_free(q);
}

static void
test_loop(void)
{
	struct wa_outq *q;
	struct wa_loop *l;
	char buf[300], *got = malloc(1 << 20);
	unsigned long count = 0, last = 0;
	int p[2], i;
	size_t got_n = 0, n;

	ok(pipe(p) == 0 && wa_loop_new(&l) == 0, "pipe and loop");
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	wa_outq_new(&q, p[1], 0);
	is_int(wa_outq_attach(q, l), 0, "attached to the loop");
	/* more than the pipe holds (64 KiB) */
	for (i = 1; i <= 400; i++) {
		n = line(buf, sizeof buf, (unsigned long)i);
		wa_outq_push(q, buf, n);
	}
	ok(wa_outq_pending(q) > 0, "the pipe is full: lines wait");
	for (i = 0; i < 100 && wa_outq_pending(q); i++) {
		got_n += drain(p[0], got + got_n, (1 << 20) - got_n);
		wa_loop_once(l, 100);
	}
	got_n += drain(p[0], got + got_n, (1 << 20) - got_n);
	is_int(wa_outq_pending(q), 0, "the loop wrote the rest when the pipe had room");
	ok(lines_ok(got, got_n, &count, &last) && count == 400 && last == 400, "all 400 lines, whole and in order");
	wa_outq_free(q);
	wa_loop_free(l);
	close(p[0]);
	close(p[1]);
	free(got);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_pipe_unread();
	test_reader_gone();
	test_socket_and_file();
	test_loop();
	done_testing();
	return exit_status();
}

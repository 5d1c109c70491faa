/*
 * outq.c - a bounded line queue written without blocking (outq.h).
 *
 * The lines wait in a ring of separately allocated copies; the first one
 * may be partly written (off bytes).  Every path that writes goes through
 * write_some, which stops at the first EAGAIN and never waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/loop.h"
#include "base/outq.h"

#define DEFAULT_MAX (1u << 20)

enum mode {
	M_WRITE,	/* regular file: plain write */
	M_NONBLOCK,	/* our own O_NONBLOCK description */
	M_POLL,		/* ask poll first, then at most PIPE_BUF bytes */
	M_SEND,		/* socket: send with MSG_DONTWAIT */
};

struct line {
	char *buf;
	size_t len;
};

struct wa_outq {
	int fd;
	int own;		/* fd is a reopened copy, closed by free */
	enum mode mode;
	struct line *v;
	size_t head, n, cap;
	size_t off;		/* bytes of the first line already written */
	size_t bytes;		/* bytes waiting */
	size_t max;
	unsigned long dropped;
	int err;
	struct wa_loop *loop;
	int source_id;
};

static struct line *
at(struct wa_outq *q, size_t i)
{
	return &q->v[(q->head + i) % q->cap];
}

static void
pop(struct wa_outq *q)
{
	struct line *l = at(q, 0);

	free(l->buf);
	l->buf = NULL;
	q->head = (q->head + 1) % q->cap;
	q->n--;
	q->off = 0;
}

/* Drop every waiting line: the queue stopped. */
static void
stop(struct wa_outq *q, int e)
{
	q->err = e ? e : EIO;
	while (q->n) {
		pop(q);
		q->dropped++;
	}
	q->bytes = 0;
}

static int
writable_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLOUT | POLLERR | POLLHUP));
}

static void
write_some(struct wa_outq *q)
{
	while (q->n && !q->err) {
		struct line *l = at(q, 0);
		size_t want = l->len - q->off;
		ssize_t k;

		if (q->mode == M_POLL) {
			if (!writable_now(q->fd))
				return;
			if (want > PIPE_BUF)
				want = PIPE_BUF;
		}
		if (q->mode == M_SEND)
			k = send(q->fd, l->buf + q->off, want, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			k = write(q->fd, l->buf + q->off, want);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			stop(q, errno);
			return;
		}
		if (k == 0) {		/* nothing taken and no error: try later */
			if (q->mode == M_WRITE)
				stop(q, ENOSPC);
			return;
		}
		q->off += (size_t)k;
		q->bytes -= (size_t)k;
		if (q->off == l->len)
			pop(q);
	}
}

int
wa_outq_new(struct wa_outq **out, int fd, size_t max_bytes)
{
	struct wa_outq *q;
	struct stat st;
	char path[64];
	int nfd;

	*out = NULL;
	if (!(q = calloc(1, sizeof *q)))
		return WA_ENOMEM;
	q->fd = fd;
	q->max = max_bytes ? max_bytes : DEFAULT_MAX;
	q->mode = M_WRITE;
	if (fstat(fd, &st) < 0) {
		q->err = errno;
	} else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		nfd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (nfd >= 0) {
			q->fd = nfd;
			q->own = 1;
			q->mode = M_NONBLOCK;
		} else {
			q->mode = M_POLL;
		}
	} else if (S_ISSOCK(st.st_mode)) {
		q->mode = M_SEND;
	}
	*out = q;
	return 0;
}

int
wa_outq_push(struct wa_outq *q, const char *line, size_t len)
{
	struct line *l;
	char *copy;

	if (q->err || len > q->max || len == 0) {
		if (len)
			q->dropped++;
		return 0;
	}
	/* room: the oldest lines that have not started go first */
	while (q->bytes + len > q->max && q->n) {
		if (q->off == 0) {
			q->bytes -= at(q, 0)->len;
			pop(q);
		} else if (q->n > 1) {
			/* keep the line under way: drop the one after it */
			struct line *first = at(q, 0), *second = at(q, 1);
			q->bytes -= second->len;
			free(second->buf);
			*second = *first;
			first->buf = NULL;
			q->head = (q->head + 1) % q->cap;
			q->n--;
		} else {
			break;
		}
		q->dropped++;
	}
	if (q->bytes + len > q->max) {
		q->dropped++;
		return 0;
	}
	if (q->n == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 16, i;
		struct line *nv = calloc(ncap, sizeof *nv);
		if (!nv)
			return WA_ENOMEM;
		for (i = 0; i < q->n; i++)
			nv[i] = *at(q, i);
		free(q->v);
		q->v = nv;
		q->cap = ncap;
		q->head = 0;
	}
	if (!(copy = malloc(len)))
		return WA_ENOMEM;
	memcpy(copy, line, len);
	l = at(q, q->n);
	l->buf = copy;
	l->len = len;
	q->n++;
	q->bytes += len;
	write_some(q);
	return 0;
}

int
wa_outq_pollfds(struct wa_outq *q, struct pollfd *fds, int max, int *timeout_ms)
{
	*timeout_ms = -1;
	if (!q->n || q->err || max < 1)
		return 0;
	fds[0].fd = q->fd;
	fds[0].events = POLLOUT;
	fds[0].revents = 0;
	return 1;
}

void
wa_outq_process(struct wa_outq *q, const struct pollfd *fds, int nfds)
{
	if (nfds >= 1 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL)))
		write_some(q);
}

static int
src_pollfds(void *arg, struct pollfd *fds, int max, int *timeout_ms)
{
	return wa_outq_pollfds(arg, fds, max, timeout_ms);
}

static void
src_process(void *arg, const struct pollfd *fds, int n)
{
	wa_outq_process(arg, fds, n);
}

int
wa_outq_attach(struct wa_outq *q, struct wa_loop *l)
{
	int id;

	if (q->loop)
		return WA_EINVAL;
	if ((id = wa_loop_source(l, src_pollfds, src_process, q)) < 0)
		return id;
	q->loop = l;
	q->source_id = id;
	return 0;
}

size_t
wa_outq_pending(const struct wa_outq *q)
{
	return q->bytes;
}

unsigned long
wa_outq_dropped(const struct wa_outq *q)
{
	return q->dropped;
}

int
wa_outq_error(const struct wa_outq *q)
{
	return q->err;
}

void
wa_outq_free(struct wa_outq *q)
{
	if (!q)
		return;
	if (q->loop)
		wa_loop_source_remove(q->loop, q->source_id);
	while (q->n)
		pop(q);
	free(q->v);
	if (q->own)
		close(q->fd);
	free(q);
}

/*
 * loop.c - the poll loop (loop.h).  Everything lives in three small
 * arrays scanned linearly: a session has a handful of timers and
 * descriptors, so a heap would only add code.  Removal marks an entry dead
 * (fn = NULL) and the arrays are compacted at the end of a round, so
 * callbacks can remove anything without invalidating the walk.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/loop.h"

struct timer {
	int id;
	int64_t when;
	uint64_t seq;              /* same deadline: first set, first called */
	wa_loop_fn fn;
	void *arg;
};

struct fdw {
	int id;
	int fd;
	short events;
	wa_loop_fd_fn fn;
	void *arg;
};

struct source {
	int id;
	wa_loop_pollfds_fn pollfds;
	wa_loop_process_fn process;
	void *arg;
	int first, n;              /* its slice of the pollfd array this round */
};

struct sig {
	int signo;
	wa_loop_sig_fn fn;
	void *arg;
};

struct wa_loop {
	struct timer *t;
	size_t nt, at;
	struct fdw *f;
	size_t nf, af;
	struct source *s;
	size_t ns, as;
	struct sig *sg;
	size_t nsg;
	struct pollfd *pfd;
	int *owner;                /* pfd[k] belongs to the descriptor with this id */
	size_t apfd;
	int64_t now;
	uint64_t seq;
	int next_id;
	int stop;
	int dirty;
};

/* The self-pipe: process-wide, owned by the loop that registered a signal. */
static int sigpipe_fd[2] = { -1, -1 };
static struct wa_loop *sigowner;

int64_t
wa_clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
wa_clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
wa_loop_new(struct wa_loop **out)
{
	struct wa_loop *l;

	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return WA_ENOMEM;
	l->now = wa_clock_mono_ms();
	l->next_id = 1;
	*out = l;
	return 0;
}

void
wa_loop_free(struct wa_loop *l)
{
	size_t i;

	if (!l)
		return;
	if (sigowner == l) {
		for (i = 0; i < l->nsg; i++)
			signal(l->sg[i].signo, SIG_DFL);
		close(sigpipe_fd[0]);
		close(sigpipe_fd[1]);
		sigpipe_fd[0] = sigpipe_fd[1] = -1;
		sigowner = NULL;
	}
	free(l->t);
	free(l->f);
	free(l->s);
	free(l->sg);
	free(l->pfd);
	free(l->owner);
	free(l);
}

int64_t
wa_loop_now(struct wa_loop *l)
{
	return l->now;
}

static int
grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *q;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	if (!(q = realloc(*p, c * size)))
		return WA_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

static int
newid(struct wa_loop *l)
{
	if (l->next_id == INT32_MAX)
		l->next_id = 1;
	return l->next_id++;
}

int
wa_loop_timer_at(struct wa_loop *l, int64_t when, wa_loop_fn fn, void *arg)
{
	struct timer *t;

	if (!fn)
		return WA_EINVAL;
	if (grow((void **)&l->t, &l->at, l->nt, sizeof *l->t) < 0)
		return WA_ENOMEM;
	t = &l->t[l->nt++];
	t->id = newid(l);
	t->when = when;
	t->seq = l->seq++;
	t->fn = fn;
	t->arg = arg;
	return t->id;
}

int
wa_loop_timer(struct wa_loop *l, long ms, wa_loop_fn fn, void *arg)
{
	/* relative to the real time, not the round's cached time: a timer
	 * set late in a long round must not fire early */
	return wa_loop_timer_at(l, wa_clock_mono_ms() + (ms > 0 ? ms : 0), fn, arg);
}

void
wa_loop_timer_cancel(struct wa_loop *l, int id)
{
	size_t i;

	for (i = 0; i < l->nt; i++)
		if (l->t[i].id == id && l->t[i].fn) {
			l->t[i].fn = NULL;
			l->dirty = 1;
		}
}

int64_t
wa_loop_timer_when(struct wa_loop *l, int id)
{
	size_t i;

	for (i = 0; i < l->nt; i++)
		if (l->t[i].id == id && l->t[i].fn)
			return l->t[i].when;
	return -1;
}

int
wa_loop_fd(struct wa_loop *l, int fd, short events, wa_loop_fd_fn fn, void *arg)
{
	struct fdw *f;

	if (fd < 0 || !fn)
		return WA_EINVAL;
	if (grow((void **)&l->f, &l->af, l->nf, sizeof *l->f) < 0)
		return WA_ENOMEM;
	f = &l->f[l->nf++];
	f->id = newid(l);
	f->fd = fd;
	f->events = events;
	f->fn = fn;
	f->arg = arg;
	return f->id;
}

void
wa_loop_fd_events(struct wa_loop *l, int id, short events)
{
	size_t i;

	for (i = 0; i < l->nf; i++)
		if (l->f[i].id == id)
			l->f[i].events = events;
}

void
wa_loop_fd_remove(struct wa_loop *l, int id)
{
	size_t i;

	for (i = 0; i < l->nf; i++)
		if (l->f[i].id == id && l->f[i].fn) {
			l->f[i].fn = NULL;
			l->dirty = 1;
		}
}

int
wa_loop_source(struct wa_loop *l, wa_loop_pollfds_fn pollfds, wa_loop_process_fn process, void *arg)
{
	struct source *s;

	if (!pollfds || !process)
		return WA_EINVAL;
	if (grow((void **)&l->s, &l->as, l->ns, sizeof *l->s) < 0)
		return WA_ENOMEM;
	s = &l->s[l->ns++];
	memset(s, 0, sizeof *s);
	s->id = newid(l);
	s->pollfds = pollfds;
	s->process = process;
	s->arg = arg;
	return s->id;
}

void
wa_loop_source_remove(struct wa_loop *l, int id)
{
	size_t i;

	for (i = 0; i < l->ns; i++)
		if (l->s[i].id == id && l->s[i].process) {
			l->s[i].process = NULL;
			l->s[i].pollfds = NULL;
			l->dirty = 1;
		}
}

static void
on_signal(int signo)
{
	unsigned char b = (unsigned char)signo;
	int saved = errno;

	if (sigpipe_fd[1] >= 0 && write(sigpipe_fd[1], &b, 1) < 0) {
		/* the pipe is full only with thousands of unread signals:
		 * the loop wakes for those; this one is lost (nothing else
		 * is safe to do in a handler) */
	}
	errno = saved;
}

static int
cloexec_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int
wa_loop_signal(struct wa_loop *l, int signo, wa_loop_sig_fn fn, void *arg)
{
	struct sigaction sa;

	if (!fn || signo <= 0 || signo > 255)
		return WA_EINVAL;
	if (sigowner && sigowner != l)
		return WA_EINVAL;
	if (sigpipe_fd[0] < 0) {
		if (pipe(sigpipe_fd) < 0)
			return WA_ESYS;
		if (cloexec_nonblock(sigpipe_fd[0]) < 0 || cloexec_nonblock(sigpipe_fd[1]) < 0) {
			int saved = errno;
			close(sigpipe_fd[0]);
			close(sigpipe_fd[1]);
			sigpipe_fd[0] = sigpipe_fd[1] = -1;
			errno = saved;
			return WA_ESYS;
		}
		sigowner = l;
	}
	{
		struct sig *n = realloc(l->sg, (l->nsg + 1) * sizeof *n);
		if (!n)
			return WA_ENOMEM;
		l->sg = n;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, NULL) < 0)
		return WA_ESYS;
	l->sg[l->nsg].signo = signo;
	l->sg[l->nsg].fn = fn;
	l->sg[l->nsg].arg = arg;
	l->nsg++;
	return 0;
}

static void
compact(struct wa_loop *l)
{
	size_t i, j;

	for (i = j = 0; i < l->nt; i++)
		if (l->t[i].fn)
			l->t[j++] = l->t[i];
	l->nt = j;
	for (i = j = 0; i < l->nf; i++)
		if (l->f[i].fn)
			l->f[j++] = l->f[i];
	l->nf = j;
	for (i = j = 0; i < l->ns; i++)
		if (l->s[i].process)
			l->s[j++] = l->s[i];
	l->ns = j;
	l->dirty = 0;
}

static void
drain_signals(struct wa_loop *l)
{
	unsigned char buf[64];
	ssize_t n, k;
	size_t i;

	while ((n = read(sigpipe_fd[0], buf, sizeof buf)) > 0)
		for (k = 0; k < n; k++)
			for (i = 0; i < l->nsg; i++)
				if (l->sg[i].signo == buf[k])
					l->sg[i].fn(l->sg[i].arg, buf[k]);
}

/* Run the timers due at l->now, earliest first; timers added by a
 * callback wait for the next round (no starvation of descriptors). */
static void
run_timers(struct wa_loop *l)
{
	uint64_t limit = l->seq;

	for (;;) {
		struct timer *best = NULL;
		wa_loop_fn fn;
		void *arg;
		size_t i;

		for (i = 0; i < l->nt; i++) {
			struct timer *t = &l->t[i];
			if (!t->fn || t->when > l->now || t->seq >= limit)
				continue;
			if (!best || t->when < best->when || (t->when == best->when && t->seq < best->seq))
				best = t;
		}
		if (!best)
			return;
		fn = best->fn;
		arg = best->arg;
		best->fn = NULL;
		l->dirty = 1;
		fn(arg);
	}
}

int
wa_loop_once(struct wa_loop *l, int max_wait_ms)
{
	size_t i, k, n = 0, base, nsrc, need;
	int64_t deadline = -1;
	int timeout, rc, sigslot = -1;

	l->now = wa_clock_mono_ms();
	if (max_wait_ms >= 0)
		deadline = l->now + max_wait_ms;
	for (i = 0; i < l->nt; i++)
		if (l->t[i].fn && (deadline < 0 || l->t[i].when < deadline))
			deadline = l->t[i].when;

	/* descriptors: plain ones, then each source's slice, then the self-pipe */
	need = l->nf + l->ns * WA_LOOP_MAXFDS + 1;
	if (l->apfd < need) {
		struct pollfd *p = realloc(l->pfd, need * sizeof *p);
		int *o = realloc(l->owner, need * sizeof *o);
		if (p)
			l->pfd = p;
		if (o)
			l->owner = o;
		if (!p || !o)
			return WA_ENOMEM;
		l->apfd = need;
	}
	for (i = 0; i < l->nf; i++) {
		if (!l->f[i].fn)
			continue;
		l->pfd[n].fd = l->f[i].fd;
		l->pfd[n].events = l->f[i].events;
		l->pfd[n].revents = 0;
		l->owner[n] = l->f[i].id;
		n++;
	}
	base = n;
	nsrc = l->ns;
	for (i = 0; i < nsrc; i++) {
		struct source *s = &l->s[i];
		int t = -1, m;

		s->first = (int)n;
		s->n = 0;
		if (!s->process)
			continue;
		m = s->pollfds(s->arg, &l->pfd[n], WA_LOOP_MAXFDS, &t);
		if (m < 0)
			m = 0;
		if (m > WA_LOOP_MAXFDS)
			m = WA_LOOP_MAXFDS;
		s->n = m;
		n += (size_t)m;
		if (t >= 0 && (deadline < 0 || l->now + t < deadline))
			deadline = l->now + t;
	}
	if (sigowner == l && sigpipe_fd[0] >= 0) {
		sigslot = (int)n;
		l->pfd[n].fd = sigpipe_fd[0];
		l->pfd[n].events = POLLIN;
		l->pfd[n].revents = 0;
		n++;
	}
	if (deadline < 0)
		timeout = -1;
	else if (deadline <= l->now)
		timeout = 0;
	else if (deadline - l->now > INT32_MAX)
		timeout = INT32_MAX;
	else
		timeout = (int)(deadline - l->now);
	rc = poll(l->pfd, (nfds_t)n, timeout);
	if (rc < 0 && errno != EINTR)
		return WA_ESYS;
	if (rc < 0)
		for (i = 0; i < n; i++)
			l->pfd[i].revents = 0;
	l->now = wa_clock_mono_ms();

	if (sigslot >= 0 && (l->pfd[sigslot].revents & POLLIN))
		drain_signals(l);
	/* plain descriptors, looked up by id: a callback may have removed
	 * one (never called again) or added one (not polled yet) */
	for (k = 0; k < base; k++) {
		if (!l->pfd[k].revents)
			continue;
		for (i = 0; i < l->nf; i++)
			if (l->f[i].id == l->owner[k]) {
				if (l->f[i].fn)
					l->f[i].fn(l->f[i].arg, l->pfd[k].fd, l->pfd[k].revents);
				break;
			}
	}
	for (i = 0; i < nsrc && i < l->ns; i++) {
		if (l->s[i].process)
			l->s[i].process(l->s[i].arg, &l->pfd[l->s[i].first], l->s[i].n);
	}
	l->now = wa_clock_mono_ms();
	run_timers(l);
	if (l->dirty)
		compact(l);
	if (l->stop) {
		l->stop = 0;
		return 1;
	}
	return 0;
}

int
wa_loop_run(struct wa_loop *l)
{
	int rc;

	while ((rc = wa_loop_once(l, -1)) == 0)
		;
	return rc == 1 ? 0 : rc;
}

void
wa_loop_stop(struct wa_loop *l)
{
	l->stop = 1;
}

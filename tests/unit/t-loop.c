/*
 * t-loop - the poll loop (lib/loop.h): timers fire in deadline order, not
 * early, and can be cancelled (also from another callback in the same
 * round); descriptors and sources get their revents; a descriptor removed
 * by an earlier callback of the round is not called; signals arrive as
 * callbacks; wa_loop_stop ends wa_loop_run.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/loop.h"
#include "tap.h"

struct rec {
	char order[64];
	int n;
	int64_t at[16];
	struct wa_loop *l;
	int cancel_id;
	int remove_id;
	int fdcalls[4];
	int srccalls, srcready;
	int sig;
	int pipefd;
};

static struct rec R;

static void
tmark(void *arg)
{
	const char *c = arg;

	if (R.n < 15) {
		R.at[R.n] = wa_clock_mono_ms();
		R.order[R.n++] = *c;
	}
}

static void
tcancel(void *arg)
{
	tmark(arg);
	wa_loop_timer_cancel(R.l, R.cancel_id);
}

static void
tstop(void *arg)
{
	(void)arg;
	wa_loop_stop(R.l);
}

static void
tnested(void *arg)
{
	tmark(arg);
	wa_loop_timer(R.l, 0, tmark, "n");
}

static void
on_fd(void *arg, int fd, short revents)
{
	int i = *(int *)arg;
	char b[16];

	R.fdcalls[i]++;
	if (revents & POLLIN && read(fd, b, sizeof b) < 0)
		perror("read");
	if (R.remove_id)
		wa_loop_fd_remove(R.l, R.remove_id);
}

static int
src_pollfds(void *arg, struct pollfd *fds, int max, int *timeout_ms)
{
	(void)arg;
	(void)max;
	fds[0].fd = R.pipefd;
	fds[0].events = POLLIN;
	*timeout_ms = 20;
	return 1;
}

static void
src_process(void *arg, const struct pollfd *fds, int n)
{
	(void)arg;
	R.srccalls++;
	if (n == 1 && fds[0].fd == R.pipefd && (fds[0].revents & POLLIN)) {
		char b[16];
		R.srcready++;
		if (read(R.pipefd, b, sizeof b) < 0)
			perror("read");
	}
}

static void
on_sig(void *arg, int signo)
{
	(void)arg;
	R.sig = signo;
}

int
main(void)
{
	struct wa_loop *l;
	int64_t t0;
	int p1[2], p2[2], a = 0, b = 1, id, rounds;

	if (wa_loop_new(&l) < 0 || pipe(p1) < 0 || pipe(p2) < 0)
		return 1;
	R.l = l;

	/* timers */
	t0 = wa_clock_mono_ms();
	wa_loop_timer(l, 60, tmark, "c");
	wa_loop_timer(l, 20, tmark, "a");
	wa_loop_timer(l, 40, tcancel, "b");
	R.cancel_id = wa_loop_timer(l, 50, tmark, "x");
	id = wa_loop_timer(l, 30, tmark, "y");
	ok(wa_loop_timer_when(l, id) >= t0 + 30, "timer_when");
	wa_loop_timer_cancel(l, id);
	ok(wa_loop_timer_when(l, id) == -1, "a cancelled timer is not pending");
	wa_loop_timer(l, 70, tstop, NULL);
	is_int(wa_loop_run(l), 0, "wa_loop_run returns 0 after wa_loop_stop");
	is_str(R.order, "abc", "timers in deadline order; cancelled ones (also from a callback) never fire");
	ok(R.at[0] - t0 >= 20 && R.at[1] - t0 >= 40 && R.at[2] - t0 >= 60, "no timer fires early (%lld %lld %lld ms)",
	    (long long)(R.at[0] - t0), (long long)(R.at[1] - t0), (long long)(R.at[2] - t0));
	ok(R.at[2] - t0 < 1000, "and not very late either (%lld ms for 60)", (long long)(R.at[2] - t0));

	/* a timer set from a timer runs on a later round */
	memset(R.order, 0, sizeof R.order);
	R.n = 0;
	wa_loop_timer(l, 0, tnested, "m");
	wa_loop_once(l, 0);
	is_str(R.order, "m", "a 0 ms timer set in a callback waits for the next round");
	wa_loop_once(l, 0);
	is_str(R.order, "mn", "  and runs then");

	/* descriptors */
	{
		int i1 = wa_loop_fd(l, p1[0], POLLIN, on_fd, &a);
		int i2 = wa_loop_fd(l, p2[0], POLLIN, on_fd, &b);
		ok(i1 > 0 && i2 > 0, "two descriptors watched");
		wa_loop_once(l, 0);
		ok(R.fdcalls[0] == 0 && R.fdcalls[1] == 0, "nothing ready: no calls");
		if (write(p1[1], "x", 1) != 1 || write(p2[1], "y", 1) != 1)
			perror("write");
		R.remove_id = i2;
		wa_loop_once(l, 1000);
		ok(R.fdcalls[0] == 1 && R.fdcalls[1] == 0,
		    "both ready; the first callback removes the second, which is not called");
		R.remove_id = 0;
		if (write(p2[1], "y", 1) != 1)
			perror("write");
		wa_loop_once(l, 0);
		is_int(R.fdcalls[1], 0, "a removed descriptor stays silent");
		wa_loop_fd_remove(l, i1);
		{
			char buf[8];
			if (read(p2[0], buf, sizeof buf) < 0)
				perror("read");
		}
	}

	/* a source */
	R.pipefd = p1[0];
	id = wa_loop_source(l, src_pollfds, src_process, NULL);
	ok(id > 0, "source added");
	t0 = wa_clock_mono_ms();
	wa_loop_once(l, -1);
	ok(R.srccalls == 1 && R.srcready == 0 && wa_clock_mono_ms() - t0 >= 19,
	    "the source's own timeout (20 ms) bounds the wait, process is called");
	if (write(p1[1], "z", 1) != 1)
		perror("write");
	wa_loop_once(l, -1);
	is_int(R.srcready, 1, "the source sees its descriptor ready");
	wa_loop_source_remove(l, id);
	rounds = R.srccalls;
	wa_loop_once(l, 0);
	is_int(R.srccalls, rounds, "a removed source is not called");

	/* signals */
	is_int(wa_loop_signal(l, SIGUSR1, on_sig, NULL), 0, "catch SIGUSR1");
	raise(SIGUSR1);
	is_int(R.sig, 0, "the handler does not call back by itself");
	wa_loop_once(l, 1000);
	is_int(R.sig, SIGUSR1, "the loop delivers it as a callback");
	{
		struct wa_loop *l2;
		wa_loop_new(&l2);
		ok(wa_loop_signal(l2, SIGUSR2, on_sig, NULL) < 0, "a second loop cannot take signals");
		wa_loop_free(l2);
	}

	wa_loop_free(l);
	{
		struct sigaction sa;
		sigaction(SIGUSR1, NULL, &sa);
		ok(sa.sa_handler == SIG_DFL, "free restores the default action");
	}
	ok(wa_clock_wall_ms() > 1700000000000LL, "wall clock in ms");
	done_testing();
	return exit_status();
}

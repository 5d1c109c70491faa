/*
 * loop.h - one poll(2) loop for a long-running tool: timers on the
 * monotonic clock, descriptors with callbacks, "sources" (objects that
 * have their own descriptors and deadlines, like a wa_conn or a
 * wa_notify), and signals turned into callbacks through a self-pipe.
 *
 *	struct wa_loop *l;
 *	wa_loop_new(&l);
 *	wa_loop_timer(l, 1000, tick, me);
 *	wa_loop_source(l, conn_pollfds, conn_process, c);
 *	wa_loop_signal(l, SIGTERM, on_term, me);
 *	while (!done)
 *		wa_loop_once(l, -1);
 *	wa_loop_free(l);
 *
 * Each round: ask every source for its descriptors and the longest it may
 * wait, poll all descriptors with the earliest deadline, then call the
 * descriptor callbacks whose descriptor is ready, every source's process
 * callback (with the slice of pollfds it gave, revents filled), and the
 * timers that are due, earliest first.  Nothing here blocks except the
 * poll itself, and poll never waits longer than the next timer.
 *
 * Callbacks may add and remove timers, descriptors and sources (their own
 * included) and call wa_loop_stop; a removed item is never called again,
 * even later in the same round.  Not thread-safe; one loop per thread.
 * Signals: only one loop per process may register them (the self-pipe and
 * the handlers are process-wide); the signal is delivered as a callback on
 * the next round, never inside the handler.
 *
 * Timer and item ids are > 0; functions return them or a negative WA_E*.
 */
#ifndef WA_LOOP_H
#define WA_LOOP_H

#include <poll.h>
#include <stdint.h>

#define WA_LOOP_MAXFDS 64 /* descriptors one source may give per round */

struct wa_loop;

typedef void (*wa_loop_fn)(void *arg);
typedef void (*wa_loop_fd_fn)(void *arg, int fd, short revents);
typedef void (*wa_loop_sig_fn)(void *arg, int signo);
/* Fill at most max fds; set *timeout_ms (-1: no deadline of its own);
 * return how many (0 is fine). */
typedef int (*wa_loop_pollfds_fn)(void *arg, struct pollfd *fds, int max, int *timeout_ms);
/* After the poll: the source's fds again, revents filled. */
typedef void (*wa_loop_process_fn)(void *arg, const struct pollfd *fds, int n);

/* Monotonic and wall clocks, milliseconds. */
int64_t wa_clock_mono_ms(void);
int64_t wa_clock_wall_ms(void);

int wa_loop_new(struct wa_loop **out);
/* Restores the default action of the signals it caught.  NULL-safe. */
void wa_loop_free(struct wa_loop *l);

/* The monotonic time of the current round (read once per round). */
int64_t wa_loop_now(struct wa_loop *l);

/* Call fn once, ms from now (or at the monotonic time when). */
int wa_loop_timer(struct wa_loop *l, long ms, wa_loop_fn fn, void *arg);
int wa_loop_timer_at(struct wa_loop *l, int64_t when, wa_loop_fn fn, void *arg);
/* Harmless for an id that fired or was cancelled already. */
void wa_loop_timer_cancel(struct wa_loop *l, int id);
/* When the timer fires (monotonic ms), or -1 if it is not pending. */
int64_t wa_loop_timer_when(struct wa_loop *l, int id);

/* Watch fd for events (POLLIN, POLLOUT); fn gets revents (with POLLHUP,
 * POLLERR, POLLNVAL as poll reports them). */
int wa_loop_fd(struct wa_loop *l, int fd, short events, wa_loop_fd_fn fn, void *arg);
void wa_loop_fd_events(struct wa_loop *l, int id, short events);
void wa_loop_fd_remove(struct wa_loop *l, int id);

int wa_loop_source(struct wa_loop *l, wa_loop_pollfds_fn pollfds, wa_loop_process_fn process, void *arg);
void wa_loop_source_remove(struct wa_loop *l, int id);

/* Catch signo (SA_RESTART) and call fn from the loop.  WA_ESYS. */
int wa_loop_signal(struct wa_loop *l, int signo, wa_loop_sig_fn fn, void *arg);

/* One round, waiting at most max_wait_ms (-1: until something is due).
 * Returns 0, 1 when wa_loop_stop was called (and clears it), or WA_ESYS
 * when poll fails with anything but EINTR. */
int wa_loop_once(struct wa_loop *l, int max_wait_ms);

/* Rounds until wa_loop_stop.  0 or WA_ESYS. */
int wa_loop_run(struct wa_loop *l);
void wa_loop_stop(struct wa_loop *l);

#endif

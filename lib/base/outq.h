/*
 * outq.h - lines written to a descriptor without ever making the caller
 * wait: wa-run's event stream on standard output, which a reader may
 * consume slowly, or not at all (a pipe nobody reads fills up, and a plain
 * write(2) would then block the session forever).
 *
 *	wa_outq_new(&q, 1, 1 << 20);
 *	wa_outq_attach(q, loop);            // or wa_outq_pollfds/_process in your own poll
 *	wa_outq_push(q, line, len);         // queued; written now if the descriptor takes it
 *	at exit: run the loop while wa_outq_pending(q), up to a grace period
 *	wa_outq_free(q);
 *
 * How a write is kept from blocking depends on what the descriptor is
 * (fstat at wa_outq_new):
 *
 *	pipe, FIFO, terminal   reopened through /proc/self/fd/N with
 *	                       O_NONBLOCK: a new open file description, so
 *	                       the flag does not reach the other processes
 *	                       sharing the descriptor (a shell's terminal);
 *	                       if that fails, written only after poll(2)
 *	                       reports POLLOUT and at most PIPE_BUF bytes at
 *	                       a time, which a pipe takes without blocking
 *	socket                 send(2) with MSG_DONTWAIT | MSG_NOSIGNAL
 *	regular file, other    write(2) (a file never waits for a reader)
 *
 * Bounds: at most max_bytes wait in memory.  A line that would pass the
 * bound makes room by dropping the oldest waiting lines that have not
 * started to go out (never half a line: what the reader gets is always
 * whole lines, in order, with gaps); a line longer than the bound is
 * dropped itself.  wa_outq_dropped counts the dropped lines.
 *
 * A write that fails with anything but EAGAIN/EINTR (EPIPE: the reader
 * went away; EBADF: no standard output) stops the queue for good: later
 * lines are dropped, wa_outq_error returns the errno.  Writing to a pipe
 * without readers raises SIGPIPE: callers ignore it (wa-run does).
 *
 * Returns: 0 or negative WA_E* codes (err.h).
 */
#ifndef WA_OUTQ_H
#define WA_OUTQ_H

#include <poll.h>
#include <stddef.h>

struct wa_loop;
struct wa_outq;

/* A queue writing to fd (not owned: never closed here; a reopened copy
 * is).  max_bytes 0: 1 MiB.  WA_ENOMEM. */
int wa_outq_new(struct wa_outq **out, int fd, size_t max_bytes);

/* Queue a copy of line (len bytes; the caller adds the newline) and write
 * what the descriptor takes now.  0, also when the line was dropped;
 * WA_ENOMEM. */
int wa_outq_push(struct wa_outq *q, const char *line, size_t len);

/* Poll integration (signatures fit wa_loop_source through wa_outq_attach):
 * POLLOUT on the descriptor while lines wait, else nothing. */
int wa_outq_pollfds(struct wa_outq *q, struct pollfd *fds, int max, int *timeout_ms);
void wa_outq_process(struct wa_outq *q, const struct pollfd *fds, int nfds);
int wa_outq_attach(struct wa_outq *q, struct wa_loop *l);

/* Bytes waiting (0 once everything is written, or the queue stopped). */
size_t wa_outq_pending(const struct wa_outq *q);
/* Lines dropped so far (bound, or after the queue stopped). */
unsigned long wa_outq_dropped(const struct wa_outq *q);
/* 0, or the errno that stopped the queue. */
int wa_outq_error(const struct wa_outq *q);

/* Free; lines still waiting are lost.  NULL-safe. */
void wa_outq_free(struct wa_outq *q);

#endif

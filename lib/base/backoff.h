/*
 * backoff.h - when to try again: capped exponential backoff, full jitter,
 * a reset after a stable connection, and a budget.
 *
 *	struct wa_backoff b;
 *	wa_backoff_init(&b, NULL, 0);            // defaults, random seed
 *	on <success>:        wa_backoff_online(&b, now_ms);
 *	on a disconnect:     rc = wa_backoff_failure(&b, now_ms, dc.action == WA_DC_RECONNECT_NOW, &delay);
 *	                     rc == WA_ETIMEDOUT: budget spent, give up (wa-run exits)
 *	                     else connect again in delay ms
 *
 * Times are the caller's monotonic clock in milliseconds (wa_loop_now),
 * so tests drive it without sleeping.
 *
 * Policy, with the defaults (WA_BACKOFF_POLICY_INIT):
 *
 *   delay    after the n-th failure since the last stable connection
 *            (n = 0, 1, 2 ...): a uniform random number of milliseconds in
 *            [0, min(cap, base * 2^n)] ("full jitter": many clients that
 *            failed together do not come back together).  base 1 s, cap
 *            60 s: the ceiling goes 1, 2, 4, 8, 16, 32, 60, 60 ... s.
 *   reset    a connection that stayed online (after <success>) for at
 *            least stable_ms (60 s) resets n to 0 and the budget.  A
 *            connection that drops sooner does not: a server that accepts
 *            the login and closes at once backs off like any failure.
 *   immediate the restart class (515) asks for delay 0; at most
 *            max_immediate (3) immediate reconnects between two stable
 *            connections, after which a 515 gets the normal delay (so a
 *            server that answers every login with 515 cannot make it spin).
 *            Immediate reconnects count as attempts.
 *   budget   when max_attempts (100) reconnect attempts in a row have
 *            failed, or max_total_ms (1 h) have passed since the first
 *            failure, without a stable connection in between, the next
 *            wa_backoff_failure returns WA_ETIMEDOUT and the caller gives
 *            up (wa-run exits "retries spent") so that its supervisor decides.  0 turns
 *            either limit off.  With the defaults the attempts last about
 *            50 minutes (mean delay 30 s at the cap), so both limits are
 *            near each other.
 *
 * Deterministic when seeded (tests): the same seed gives the same delays.
 * Unseeded, the generator is seeded from wa_compat_random.
 */
#ifndef WA_BACKOFF_H
#define WA_BACKOFF_H

#include <stdint.h>

struct wa_backoff_policy {
	long base_ms;             /* 1000 */
	long cap_ms;              /* 60000 */
	long stable_ms;           /* 60000 */
	unsigned max_attempts;    /* 100; 0 no limit */
	long max_total_ms;        /* 3600000; 0 no limit */
	unsigned max_immediate;   /* 3 */
};
#define WA_BACKOFF_POLICY_INIT { 1000, 60000, 60000, 100, 3600000L, 3 }

struct wa_backoff {
	struct wa_backoff_policy p;
	unsigned attempt;         /* failures since the last stable connection */
	unsigned immediate;       /* immediate reconnects in a row */
	int64_t first_fail_ms;    /* first failure since stable; -1 none */
	int64_t online_ms;        /* the current connection went online; -1 not online */
	unsigned long total;      /* every failure since init */
	uint64_t rng;
};

/* p NULL: the defaults.  seed 0: random.  Never fails. */
void wa_backoff_init(struct wa_backoff *b, const struct wa_backoff_policy *p, uint64_t seed);

/* The connection reached online (<success>) at now_ms. */
void wa_backoff_online(struct wa_backoff *b, int64_t now_ms);

/* A connection or an attempt ended at now_ms.  immediate: the class asks
 * for an immediate reconnect (515).  Returns 0 with *delay_ms the wait
 * before the next attempt, or WA_ETIMEDOUT when the budget is spent
 * (*delay_ms -1).  A connection that had been online for stable_ms or
 * more first resets the counters. */
int wa_backoff_failure(struct wa_backoff *b, int64_t now_ms, int immediate, long *delay_ms);

/* The ceiling of the next delay (min(cap, base * 2^attempt)), for logs. */
long wa_backoff_ceiling(const struct wa_backoff *b);

/* A uniform random integer in [0, n] from b's generator. */
uint64_t wa_backoff_random(struct wa_backoff *b, uint64_t n);

#endif

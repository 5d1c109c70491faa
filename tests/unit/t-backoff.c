/*
 * t-backoff - the reconnect policy of lib/backoff.h on a simulated clock:
 * over 50 induced failures every delay lies in [0, min(cap, base*2^n)],
 * the ceiling doubles up to the cap, the jitter spreads over the whole
 * range, a stable connection resets the counter and a short one does
 * not, 515 gets at most three immediate reconnects, and both budgets
 * (attempts, time) end in WA_ETIMEDOUT.  Seeded runs repeat exactly.
 */
#include <stdio.h>
#include <string.h>

#include "base/backoff.h"
#include "base/err.h"
#include "tap.h"

static long
ceiling_for(const struct wa_backoff_policy *p, unsigned n)
{
	long c = p->base_ms;

	while (n-- && c < p->cap_ms)
		c *= 2;
	return c < p->cap_ms ? c : p->cap_ms;
}

int
main(void)
{
	static const struct wa_backoff_policy def = WA_BACKOFF_POLICY_INIT;
	struct wa_backoff_policy p = def;
	struct wa_backoff b, b2;
	long d, d2, delays[50];
	int64_t now = 0;
	int i, rc, inrange = 1, same = 1, atcap = 0, lowcap = 0, highcap = 0, zero_ok = 1;

	/* the documented defaults */
	ok(def.base_ms == 1000 && def.cap_ms == 60000 && def.stable_ms == 60000 &&
	    def.max_attempts == 100 && def.max_total_ms == 3600000L && def.max_immediate == 3,
	    "defaults: base 1 s, cap 60 s, stable 60 s, 100 attempts, 1 h, 3 immediate");

	/* 50 failures in a row, no budget: bounds and the ceiling sequence */
	p.max_attempts = 0;
	p.max_total_ms = 0;
	wa_backoff_init(&b, &p, 42);
	wa_backoff_init(&b2, &p, 42);
	for (i = 0; i < 50; i++) {
		long want = ceiling_for(&p, (unsigned)i);
		if (wa_backoff_ceiling(&b) != want) {
			ok(0, "ceiling before failure %d is %ld (got %ld)", i + 1, want, wa_backoff_ceiling(&b));
			inrange = 0;
		}
		rc = wa_backoff_failure(&b, now, 0, &d);
		wa_backoff_failure(&b2, now, 0, &d2);
		if (rc != 0 || d < 0 || d > want) {
			printf("# failure %d: rc %d delay %ld, ceiling %ld\n", i + 1, rc, d, want);
			inrange = 0;
		}
		if (d != d2)
			same = 0;
		if (want == p.cap_ms) {
			atcap++;
			if (d < p.cap_ms / 4)
				lowcap++;
			if (d > p.cap_ms * 3 / 4)
				highcap++;
		}
		delays[i] = d;
		now += d + 50;   /* the attempt itself takes 50 ms and fails */
	}
	ok(inrange, "50 failures: every delay within [0, min(60 s, 1 s * 2^n)]");
	ok(same, "the same seed gives the same 50 delays");
	is_int(atcap, 44, "the ceiling reaches the 60 s cap at the 7th failure and stays");
	ok(lowcap > 0 && highcap > 0, "full jitter at the cap: delays below 15 s (%d) and above 45 s (%d)",
	    lowcap, highcap);
	ok(delays[0] <= 1000 && delays[1] <= 2000 && delays[2] <= 4000 && delays[5] <= 32000,
	    "first delays within 1, 2, 4 ... 32 s");
	is_int(b.total, 50, "50 failures counted");
	{
		struct wa_backoff b3;
		long d3;
		int differ = 0;
		wa_backoff_init(&b3, &p, 43);
		for (i = 0; i < 50; i++) {
			wa_backoff_failure(&b3, 0, 0, &d3);
			differ += d3 != delays[i];
		}
		ok(differ > 40, "another seed gives other delays (%d of 50 differ)", differ);
	}

	/* the spread of the jitter: 20000 draws at the cap, 10 buckets */
	{
		int bucket[10] = { 0 }, good = 1;
		struct wa_backoff j;
		wa_backoff_init(&j, &p, 7);
		for (i = 0; i < 20000; i++) {
			uint64_t r = wa_backoff_random(&j, 59999);
			if (r > 59999)
				good = 0;
			else
				bucket[r / 6000]++;
		}
		for (i = 0; i < 10; i++)
			if (bucket[i] < 1700 || bucket[i] > 2300)
				good = 0;
		ok(good, "uniform: each tenth of [0, 60 s) gets 1700..2300 of 20000 draws (%d %d %d ... %d)",
		    bucket[0], bucket[1], bucket[2], bucket[9]);
		for (i = 0; i < 1000; i++)
			if (wa_backoff_random(&j, 0) != 0)
				zero_ok = 0;
		ok(zero_ok, "random(0) is 0");
	}

	/* reset after a stable connection */
	p = def;
	wa_backoff_init(&b, &p, 1);
	now = 1000000;
	for (i = 0; i < 10; i++)
		wa_backoff_failure(&b, now, 0, &d);
	is_int(b.attempt, 10, "10 failures: attempt 10");
	wa_backoff_online(&b, now);
	now += p.stable_ms - 1;
	wa_backoff_failure(&b, now, 0, &d);
	is_int(b.attempt, 11, "online for 59.999 s then a drop: not stable, attempt 11");
	ok(d <= p.cap_ms, "  and the delay stays at the cap's range (%ld ms)", d);
	wa_backoff_online(&b, now);
	now += p.stable_ms;
	wa_backoff_failure(&b, now, 0, &d);
	is_int(b.attempt, 1, "online for 60 s then a drop: counter reset, attempt 1");
	ok(d <= p.base_ms, "  the first delay after a reset is within 1 s (%ld ms)", d);
	ok(b.first_fail_ms == now, "  the time budget restarts at this failure");

	/* 515: at most three immediate reconnects between stable connections */
	wa_backoff_init(&b, &p, 5);
	now = 0;
	{
		long got[6];
		for (i = 0; i < 6; i++) {
			wa_backoff_failure(&b, now, 1, &got[i]);
			wa_backoff_online(&b, now + 10);   /* online briefly, then 515 again */
			now += 20 + got[i];
		}
		ok(got[0] == 0 && got[1] == 0 && got[2] == 0, "515: the first three reconnects are immediate");
		ok(got[3] <= 8000 && got[4] <= 16000 && got[5] <= 32000,
		    "515 repeated without a stable connection: normal delays from the 4th (%ld %ld %ld ms)",
		    got[3], got[4], got[5]);
		is_int(b.attempt, 6, "immediate reconnects count as attempts");
		wa_backoff_online(&b, now);
		wa_backoff_failure(&b, now + p.stable_ms, 1, &d);
		is_int(d, 0, "after a stable connection a 515 is immediate again");
	}

	/* budget: attempts */
	p = def;
	p.max_attempts = 5;
	wa_backoff_init(&b, &p, 9);
	for (i = 0, rc = 0; i < 5 && rc == 0; i++)
		rc = wa_backoff_failure(&b, i * 1000, 0, &d);
	is_int(rc, 0, "max_attempts 5: five failures get a delay");
	rc = wa_backoff_failure(&b, 6000, 0, &d);
	is_int(rc, WA_ETIMEDOUT, "the sixth (the fifth retry failed): budget spent");
	is_int(d, -1, "  delay -1");
	rc = wa_backoff_failure(&b, 7000, 1, &d);
	is_int(rc, WA_ETIMEDOUT, "  and it stays spent, also for a 515");
	wa_backoff_online(&b, 8000);
	rc = wa_backoff_failure(&b, 8000 + p.stable_ms, 0, &d);
	is_int(rc, 0, "a stable connection restores the budget");

	/* budget: time */
	p = def;
	p.max_total_ms = 10000;
	p.max_attempts = 0;
	wa_backoff_init(&b, &p, 11);
	rc = wa_backoff_failure(&b, 100000, 0, &d);
	is_int(rc, 0, "max_total 10 s: the first failure starts the clock");
	rc = wa_backoff_failure(&b, 109999, 0, &d);
	is_int(rc, 0, "  9.999 s later: still within");
	wa_backoff_online(&b, 109999);
	rc = wa_backoff_failure(&b, 110000, 0, &d);
	is_int(rc, WA_ETIMEDOUT, "  10 s later (a short connection in between does not count): spent");

	/* the default budget ends a permanent outage in about an hour, not sooner than 30 min */
	p = def;
	wa_backoff_init(&b, &p, 12345);
	now = 0;
	for (i = 0; i < 1000; i++) {
		if (wa_backoff_failure(&b, now, 0, &d) < 0)
			break;
		now += d + 100;
	}
	ok(i <= 101 && now >= 30 * 60000L && now <= 3600000L + 60000,
	    "defaults: a permanent outage ends after %d failures, %lld s", i, (long long)now / 1000);

	/* a silly policy is made sane */
	memset(&p, 0, sizeof p);
	wa_backoff_init(&b, &p, 3);
	wa_backoff_failure(&b, 0, 0, &d);
	ok(b.p.base_ms == 1 && b.p.cap_ms == 1 && d <= 1, "base 0 and cap 0 become 1 ms");
	wa_backoff_init(&b, NULL, 0);
	ok(b.p.cap_ms == 60000, "NULL policy: the defaults, random seed");

	done_testing();
	return exit_status();
}

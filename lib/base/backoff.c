/*
 * backoff.c - capped exponential backoff with full jitter (backoff.h).
 * The generator is splitmix64: small, fast, and good enough to spread
 * reconnects; it is not used for anything secret.
 */
#include <string.h>

#include "base/backoff.h"
#include "base/compat.h"
#include "base/err.h"

static uint64_t
next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
wa_backoff_random(struct wa_backoff *b, uint64_t n)
{
	uint64_t lim, r;

	if (n == UINT64_MAX)
		return next(&b->rng);
	/* rejection sampling: no modulo bias */
	lim = UINT64_MAX - (UINT64_MAX % (n + 1));
	do
		r = next(&b->rng);
	while (r >= lim);
	return r % (n + 1);
}

void
wa_backoff_init(struct wa_backoff *b, const struct wa_backoff_policy *p, uint64_t seed)
{
	static const struct wa_backoff_policy def = WA_BACKOFF_POLICY_INIT;

	memset(b, 0, sizeof *b);
	b->p = p ? *p : def;
	if (b->p.base_ms < 1)
		b->p.base_ms = 1;
	if (b->p.cap_ms < b->p.base_ms)
		b->p.cap_ms = b->p.base_ms;
	b->first_fail_ms = -1;
	b->online_ms = -1;
	if (!seed && wa_compat_random(&seed, sizeof seed) < 0)
		seed = (uint64_t)(uintptr_t)b ^ 0x5eed;
	b->rng = seed;
}

void
wa_backoff_online(struct wa_backoff *b, int64_t now_ms)
{
	b->online_ms = now_ms;
}

long
wa_backoff_ceiling(const struct wa_backoff *b)
{
	long c = b->p.base_ms;
	unsigned i;

	for (i = 0; i < b->attempt && c < b->p.cap_ms; i++)
		c = c > b->p.cap_ms / 2 ? b->p.cap_ms : c * 2;
	return c < b->p.cap_ms ? c : b->p.cap_ms;
}

int
wa_backoff_failure(struct wa_backoff *b, int64_t now_ms, int immediate, long *delay_ms)
{
	long ceil;

	if (b->online_ms >= 0 && now_ms - b->online_ms >= b->p.stable_ms) {
		b->attempt = 0;
		b->immediate = 0;
		b->first_fail_ms = -1;
	}
	b->online_ms = -1;
	b->total++;
	if (b->first_fail_ms < 0)
		b->first_fail_ms = now_ms;
	if ((b->p.max_attempts && b->attempt >= b->p.max_attempts) ||
	    (b->p.max_total_ms && now_ms - b->first_fail_ms >= b->p.max_total_ms)) {
		*delay_ms = -1;
		return WA_ETIMEDOUT;
	}
	if (immediate && b->immediate < b->p.max_immediate) {
		b->immediate++;
		b->attempt++;
		*delay_ms = 0;
		return 0;
	}
	ceil = wa_backoff_ceiling(b);
	b->attempt++;
	*delay_ms = (long)wa_backoff_random(b, (uint64_t)ceil);
	return 0;
}

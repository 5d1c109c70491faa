/*
 * t-bufjson.c - base64 in lib/base/bufjson.c: round trips of every length
 * around the pieces OpenSSL is called on, agreement with a one-shot
 * EVP_EncodeBlock, bad input, and a length over INT_MAX.
 *
 * EVP_EncodeBlock and EVP_DecodeBlock are interposed (this file's
 * definitions win over libcrypto's; the real ones are found with
 * dlsym(RTLD_NEXT)) to record the int lengths they are given: OpenSSL
 * takes an int, and a size_t of 2 GiB or more must never reach it
 * truncated.  For the 2 GiB case the interposer only records (the input
 * is an untouched mapping, nothing is read or written).
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/evp.h>

#include "base/bufjson.h"
#include "base/err.h"
#include "tap.h"

static int fake;            /* record only, do not encode */
static long long calls, sum, minn, maxn;

static void
note(int n)
{
	calls++;
	sum += n;
	if (calls == 1 || n < minn)
		minn = n;
	if (calls == 1 || n > maxn)
		maxn = n;
}

int
EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n)
{
	static int (*real)(unsigned char *, const unsigned char *, int);

	note(n);
	if (fake)
		return n > 0 ? (n + 2) / 3 * 4 : 0;
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "EVP_EncodeBlock");
	return real(t, f, n);
}

int
EVP_DecodeBlock(unsigned char *t, const unsigned char *f, int n)
{
	static int (*real)(unsigned char *, const unsigned char *, int);

	note(n);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "EVP_DecodeBlock");
	return real(t, f, n);
}

static void
reset(void)
{
	calls = sum = minn = maxn = 0;
}

int
main(void)
{
	static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 3071, 3072, 3073, 6143, 6144, 6145, 100000 };
	uint8_t *in, *back;
	size_t i, j, n;
	char *s, *ref;
	int same = 1, agree = 1, lens_ok = 1;

	in = malloc(100000);
	for (i = 0; i < 100000; i++)
		in[i] = (uint8_t)(i * 131 + 7);
	ref = malloc(100000 / 3 * 4 + 8);
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		n = lens[i];
		reset();
		s = wa_base64_encode(in, n);
		if (!s) {
			same = 0;
			continue;
		}
		if (maxn > INT_MAX || minn < 0 || sum != (long long)n)
			lens_ok = 0;
		reset();
		EVP_EncodeBlock((unsigned char *)ref, in, (int)n);
		if (strcmp(s, ref) != 0)
			agree = 0;
		reset();
		if (wa_base64_decode(&back, &j, s, strlen(s)) != 0 || j != n || (n && memcmp(back, in, n) != 0))
			same = 0;
		if (minn < 0)
			lens_ok = 0;
		free(back);
		/* without padding, and URL-safe */
		for (j = strlen(s); j > 0 && s[j - 1] == '='; j--)
			s[j - 1] = 0;
		for (j = 0; s[j]; j++)
			s[j] = s[j] == '+' ? '-' : s[j] == '/' ? '_' : s[j];
		if (wa_base64_decode(&back, &j, s, strlen(s)) != 0 || j != n || (n && memcmp(back, in, n) != 0))
			same = 0;
		free(back);
		free(s);
	}
	ok(same, "round trips of 0 to 100000 bytes, around the piece boundaries, padded and not, URL-safe too");
	ok(agree, "the same text as one EVP_EncodeBlock call");
	ok(lens_ok, "OpenSSL always gets a length in 0..INT_MAX, together the whole input");

	is_int(wa_base64_decode(&back, &n, "QQ=A", 4), WA_ECORRUPT, "'=' inside: corrupt");
	is_int(wa_base64_decode(&back, &n, "Q", 1), WA_ECORRUPT, "one character: corrupt");
	is_int(wa_base64_decode(&back, &n, "QU*B", 4), WA_ECORRUPT, "a bad character: corrupt");
	ok(wa_base64_decode(&back, &n, "QUJD", 4) == 0 && n == 3 && memcmp(back, "ABC", 3) == 0, "QUJD is ABC");
	free(back);

	/* over INT_MAX bytes: the input is a mapping nobody touches, the
	 * encoder only records (the output buffer is allocated, not written) */
	{
		size_t big = (size_t)INT_MAX + 10;
		void *m = mmap(NULL, big, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (m == MAP_FAILED) {
			ok(1, "# SKIP cannot map %zu bytes", big);
		} else {
			reset();
			fake = 1;
			s = wa_base64_encode(m, big);
			fake = 0;
			ok(s && minn > 0 && maxn <= INT_MAX && sum == (long long)big,
			    "encode %zu bytes: OpenSSL gets %lld pieces of %lld..%lld bytes, %lld in all", big, calls, minn, maxn, sum);
			free(s);
			munmap(m, big);
		}
	}
	free(in);
	free(ref);
	done_testing();
	return exit_status();
}

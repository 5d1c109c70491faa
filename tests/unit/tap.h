/*
 * tap.h - the smallest TAP producer for the C unit tests.
 *
 *	plan(3);  or nothing, then done_testing() at the end
 *	ok(x == 1, "x is one");
 *	is_int(got, want, "name");  is_str(got, want, "name");
 *	return exit_status();
 */
#ifndef WA_TAP_H
#define WA_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed, tap_planned;

static void __attribute__((unused))
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
}

static int __attribute__((format(printf, 2, 3), unused))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

#define is_int(got, want, ...) do { long long g_ = (got), w_ = (want); \
	if (!ok(g_ == w_, __VA_ARGS__)) printf("#   got %lld, want %lld\n", g_, w_); } while (0)
#define is_str(got, want, ...) do { const char *g_ = (got), *w_ = (want); \
	if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__)) \
		printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } while (0)

static void __attribute__((unused))
done_testing(void)
{
	if (!tap_planned)
		printf("1..%d\n", tap_n);
}

static int __attribute__((unused))
exit_status(void)
{
	return tap_failed ? 1 : 0;
}

#endif

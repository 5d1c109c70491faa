/*
 * err.h - the library's return codes.
 *
 * Every wa_* function that can fail returns 0 on success or one of the
 * negative WA_E* codes below.  WA_ESYS means a system call failed and errno
 * holds the reason (functions preserve errno on that path).  Functions that
 * can say more (a path, a byte offset) take a struct wa_why *, which may be
 * NULL, and fill it with one lowercase line without a trailing full stop.
 */
#ifndef WA_ERR_H
#define WA_ERR_H

#include <stddef.h>

enum {
	WA_OK = 0,
	WA_ESYS = -1,      /* system call failed: see errno */
	WA_ENOTFOUND = -2, /* no such file or entry */
	WA_ECORRUPT = -3,  /* present but unparseable or incomplete */
	WA_ELOCKED = -4,   /* another process holds the folder lock */
	WA_EINVAL = -5,    /* invalid argument (bad id, bad option value) */
	WA_EUNSAFE = -6,   /* symlink, not a regular file, unsafe permissions */
	WA_ENOMEM = -7,    /* out of memory */
	WA_ETOOBIG = -8,   /* over a size cap */
	WA_EMISMATCH = -9, /* checksum or identity does not match */
	WA_ESYNC = -10,    /* renamed, but the directory fsync failed: not known durable */
	WA_EEXIST = -11,   /* already exists */
	WA_EPROTO = -12,   /* peer broke the protocol */
	WA_ETIMEDOUT = -13,/* a deadline passed */
	WA_ECLOSED = -14,  /* the connection is closed */
	WA_EVERIFY = -15,  /* a signature, MAC or certificate did not verify */
	WA_ENET = -16,     /* the network failed: connection refused or reset, host
	                      not resolved, network unreachable */
};

#define WA_WHY_MAX 512

/* Detail for an error: one line, lowercase, no trailing full stop.
 * Declare it initialised (struct wa_why why = WA_WHY_INIT;): a function
 * that takes a why sets the text on every error it returns, but a caller
 * must never print a struct that no function has written. */
struct wa_why {
	char text[WA_WHY_MAX];
};
#define WA_WHY_INIT { { 0 } }

/* Text for a WA_E* code; for WA_ESYS the text of the current errno. */
const char *wa_strerror(int rc);

/* Set why->text (printf-style); NULL-safe.  Returns rc, for tail calls. */
int wa_why_set(struct wa_why *why, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* For an error rc (< 0) with why->text still empty, set it to
 * wa_strerror(rc): for a path that has nothing more to say.  NULL-safe,
 * errno kept.  Returns rc. */
int wa_why_default(struct wa_why *why, int rc);

/* why->text, or wa_strerror(rc) when it is empty: never an empty reason. */
const char *wa_why_text(const struct wa_why *why, int rc);

#ifdef WA_TESTING
/* Test builds only: when set to N > 0, the N-th allocation checked with
 * WA_TEST_ALLOC_FAILS() from now fails as if out of memory (then it is
 * 0 again).  Marks the allocation paths the unit tests drive. */
extern int wa_test_alloc_fail_at;
int wa_test_alloc_fails(void);
#define WA_TEST_ALLOC_FAILS() wa_test_alloc_fails()
#else
#define WA_TEST_ALLOC_FAILS() 0
#endif

#endif

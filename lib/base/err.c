/*
 * err.c - the text of the WA_E* codes and the why line (err.h).  Every
 * code has one wording, used by every tool; a why is always one line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

const char *
wa_strerror(int rc)
{
	switch (rc) {
	case WA_OK: return "success";
	case WA_ESYS: return strerror(errno);
	case WA_ENOTFOUND: return "not found";
	case WA_ECORRUPT: return "corrupt";
	case WA_ELOCKED: return "locked by another process";
	case WA_EINVAL: return "invalid argument";
	case WA_EUNSAFE: return "unsafe file";
	case WA_ENOMEM: return "out of memory";
	case WA_ETOOBIG: return "too big";
	case WA_EMISMATCH: return "does not match";
	case WA_ESYNC: return "directory fsync failed after rename";
	case WA_EEXIST: return "already exists";
	case WA_EPROTO: return "protocol error";
	case WA_ETIMEDOUT: return "timed out";
	case WA_ECLOSED: return "connection closed";
	case WA_EVERIFY: return "verification failed";
	case WA_ENET: return "network error";
	}
	return "unknown error";
}

int
wa_why_set(struct wa_why *why, int rc, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (why) {
		va_start(ap, fmt);
		vsnprintf(why->text, sizeof why->text, fmt, ap);
		va_end(ap);
	}
	errno = saved;
	return rc;
}

int
wa_why_default(struct wa_why *why, int rc)
{
	if (why && rc < 0 && !why->text[0]) {
		int saved = errno;
		snprintf(why->text, sizeof why->text, "%s", wa_strerror(rc));
		errno = saved;
	}
	return rc;
}

const char *
wa_why_text(const struct wa_why *why, int rc)
{
	return why && why->text[0] ? why->text : wa_strerror(rc);
}

#ifdef WA_TESTING
int wa_test_alloc_fail_at;

int
wa_test_alloc_fails(void)
{
	return wa_test_alloc_fail_at > 0 && --wa_test_alloc_fail_at == 0;
}
#endif

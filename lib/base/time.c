/*
 * time.c - wall-clock times as RFC 3339 text (time.h).  The one writer
 * and the one reader of the timestamps in status.json, events.jsonl,
 * backup manifests and notifications.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/time.h"

void
wa_time_iso(char *buf, size_t n, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000;
		s--;
	}
	if (!gmtime_r(&s, &tm)) {
		snprintf(buf, n, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

int
wa_time_parse(int64_t *ms, const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh, om, frac = 0, digits = 0;
	int64_t r;

	memset(&tm, 0, sizeof tm);
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || !n)
		return WA_EINVAL;
	s += n;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*s - '0');
		if (!digits)
			return WA_EINVAL;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return WA_EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	r = (int64_t)timegm(&tm);
	if (*s == 'Z') {
		s++;
	} else if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d", &oh, &om) == 2 &&
	    s[3] == ':') {
		int64_t off = (oh * 60L + om) * 60;
		r -= *s == '+' ? off : -off;
		s += 6;
	} else {
		return WA_EINVAL;
	}
	if (*s)
		return WA_EINVAL;
	*ms = r * 1000 + frac;
	return 0;
}

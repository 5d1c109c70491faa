/*
 * time.h - wall-clock times as text: "2026-11-21T10:15:00.123Z" from
 * milliseconds since the epoch, and back.
 */
#ifndef WA_TIME_H
#define WA_TIME_H

#include <stddef.h>
#include <stdint.h>

/* buf (32 bytes or more) = the UTC time of ms, with milliseconds and "Z". */
void wa_time_iso(char *buf, size_t n, int64_t ms);

/* *ms from RFC 3339 text (a fraction is optional; "Z" or "+hh:mm"/"-hh:mm"
 * is required).  WA_EINVAL for anything else; *ms untouched then. */
int wa_time_parse(int64_t *ms, const char *s);

#endif

/*
 * json.h - small JSON helpers (jansson) for wa's own files and events.
 */
#ifndef WA_JSON_H
#define WA_JSON_H

#include <jansson.h>

/* A JSON string for any bytes (bytes that are not UTF-8 become '?'); JSON
 * null for NULL or "".  NULL only when out of memory. */
json_t *wa_json_text(const char *s);

#endif

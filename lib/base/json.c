/*
 * json.c - small JSON helpers shared by the writers of wa's own files
 * and event lines (json.h).
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "base/json.h"

json_t *
wa_json_text(const char *s)
{
	json_t *v;
	char *c;
	size_t i;

	if (!s || !*s)
		return json_null();
	if ((v = json_string(s)))
		return v;
	/* not UTF-8: keep the ASCII, mark the rest */
	if (!(c = strdup(s)))
		return NULL;
	for (i = 0; c[i]; i++)
		if ((unsigned char)c[i] >= 0x80)
			c[i] = '?';
	v = json_string(c);
	free(c);
	return v;
}

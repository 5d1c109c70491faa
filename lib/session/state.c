/*
 * state.c - the names of wa-run's states (state.h).  The names are the
 * status file's and the event history's vocabulary: a name once written
 * is never renamed.
 */
#include <string.h>

#include "session/state.h"

static const char *const state_names[WA_ST_COUNT] = {
	[WA_ST_STARTING] = "starting",
	[WA_ST_CONNECTING] = "connecting",
	[WA_ST_ONLINE] = "online",
	[WA_ST_BACKOFF] = "backoff",
	[WA_ST_BANNED] = "banned",
	[WA_ST_LOGGED_OUT] = "logged_out",
	[WA_ST_REPLACED] = "replaced",
	[WA_ST_OUTDATED] = "outdated",
	[WA_ST_REFUSED] = "refused",
	[WA_ST_RETRIES_EXHAUSTED] = "retries_exhausted",
	[WA_ST_FAILED] = "failed",
	[WA_ST_STOPPED] = "stopped",
};

const char *
wa_state_name(enum wa_state s)
{
	if ((int)s < 0 || s >= WA_ST_COUNT)
		return "?";
	return state_names[s];
}

int
wa_state_parse(const char *name)
{
	int i;

	for (i = 0; name && i < WA_ST_COUNT; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

int
wa_state_final(enum wa_state s)
{
	return s >= WA_ST_LOGGED_OUT && s < WA_ST_COUNT;
}

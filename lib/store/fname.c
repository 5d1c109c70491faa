/*
 * fname.c - the auth folder's file names (fname.h): the type of a name,
 * and the name for an id, built forward only, as Baileys builds them.
 * The one place where an id from disk or the network becomes a file
 * name: anything that could leave the folder ("/", "..", NUL, control
 * bytes, over-long) is refused here.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "store/fname.h"

/* Longest prefixes first: "sender-key-memory-" before "sender-key-". */
static const struct {
	enum wa_ftype type;
	const char *name;
} types[] = {
	{ WA_FT_SENDER_KEY_MEMORY, "sender-key-memory" },
	{ WA_FT_APP_STATE_SYNC_VERSION, "app-state-sync-version" },
	{ WA_FT_APP_STATE_SYNC_KEY, "app-state-sync-key" },
	{ WA_FT_SENDER_KEY, "sender-key" },
	{ WA_FT_IDENTITY_KEY, "identity-key" },
	{ WA_FT_LID_MAPPING, "lid-mapping" },
	{ WA_FT_DEVICE_LIST, "device-list" },
	{ WA_FT_PRE_KEY, "pre-key" },
	{ WA_FT_SESSION, "session" },
	{ WA_FT_TCTOKEN, "tctoken" },
};

const char *
wa_ftype_name(enum wa_ftype t)
{
	size_t i;

	switch (t) {
	case WA_FT_CREDS: return "creds";
	case WA_FT_OTHER_JSON: return "other-json";
	case WA_FT_OTHER: return "other";
	default: break;
	}
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].type == t)
			return types[i].name;
	return "?";
}

int
wa_ftype_parse(const char *s)
{
	int t;

	for (t = 0; t < WA_FT_COUNT; t++)
		if (strcmp(s, wa_ftype_name((enum wa_ftype)t)) == 0)
			return t;
	return -1;
}

static int
ends_with(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);
	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

enum wa_ftype
wa_fname_classify(const char *name, const char **id, size_t *idlen)
{
	size_t n = strlen(name), i, p;

	if (id)
		*id = NULL;
	if (idlen)
		*idlen = 0;
	if (strcmp(name, "creds.json") == 0)
		return WA_FT_CREDS;
	if (!ends_with(name, n, ".json"))
		return WA_FT_OTHER;
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		p = strlen(types[i].name);
		if (n > p + 1 + 5 && strncmp(name, types[i].name, p) == 0 && name[p] == '-') {
			if (id)
				*id = name + p + 1;
			if (idlen)
				*idlen = n - p - 1 - 5;
			return types[i].type;
		}
	}
	return WA_FT_OTHER_JSON;
}

int
wa_fname_safe(const char *name)
{
	const unsigned char *p;
	size_t n = strlen(name);

	if (n == 0 || n > 255 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int
wa_fname_make(char *out, size_t outsz, enum wa_ftype t, const char *id)
{
	const char *prefix = NULL, *s;
	size_t i, o = 0;
	char buf[512];

	if (t == WA_FT_CREDS) {
		if (outsz < sizeof "creds.json")
			return WA_ETOOBIG;
		memcpy(out, "creds.json", sizeof "creds.json");
		return 0;
	}
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].type == t)
			prefix = types[i].name;
	if (!prefix || !id || !*id)
		return WA_EINVAL;
	o = (size_t)snprintf(buf, sizeof buf, "%s-", prefix);
	for (s = id; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			return WA_EINVAL;
		if (o + 3 >= sizeof buf)
			return WA_EINVAL;
		if (c == '/') {
			buf[o++] = '_';
			buf[o++] = '_';
		} else if (c == ':') {
			buf[o++] = '-';
		} else {
			buf[o++] = (char)c;
		}
	}
	if (o + 6 > sizeof buf)
		return WA_EINVAL;
	memcpy(buf + o, ".json", 6);
	o += 5;
	if (!wa_fname_safe(buf) || buf[0] == '.')
		return WA_EINVAL;
	if (o + 1 > outsz)
		return WA_ETOOBIG;
	memcpy(out, buf, o + 1);
	return 0;
}

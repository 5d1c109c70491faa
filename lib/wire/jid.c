/*
 * jid.c - parsing, formatting and naming JIDs the way Baileys 7 does.
 *
 * Baileys (WABinary/jid-utils.js) splits "user_agent:device@server" at the
 * first '@', then ':', then '_'; the domain type is fixed by the server
 * for lid/hosted/hosted.lid and is the agent otherwise.  Its Signal
 * address (Signal/libsignal.js, jidToSignalProtocolAddress) is the user,
 * "_<domain>" when the domain type is not 0, "." and the device.  This
 * file keeps those rules and adds a strict grammar (jid.h) so that no
 * value it returns can carry a path separator, a dot of its own in the
 * user, or a control byte.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "wire/jid.h"

static const struct {
	const char *name;
	enum wa_jid_server type;
} servers[] = {
	{ "s.whatsapp.net", WA_JID_PN },
	{ "c.us", WA_JID_LEGACY },
	{ "lid", WA_JID_LID },
	{ "hosted", WA_JID_HOSTED },
	{ "hosted.lid", WA_JID_HOSTED_LID },
	{ "g.us", WA_JID_GROUP },
	{ "broadcast", WA_JID_BROADCAST },
	{ "newsletter", WA_JID_NEWSLETTER },
	{ "bot", WA_JID_BOT },
	{ "msgr", WA_JID_MSGR },
	{ "interop", WA_JID_INTEROP },
};

enum wa_jid_server
wa_jid_server_type(const char *server)
{
	size_t i;

	for (i = 0; i < sizeof servers / sizeof servers[0]; i++)
		if (strcmp(server, servers[i].name) == 0)
			return servers[i].type;
	return WA_JID_OTHER;
}

static int
user_ok(const char *s, size_t n)
{
	size_t i;

	if (n > WA_JID_USER_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '-'))
			return 0;
	}
	return 1;
}

static int
server_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > WA_JID_SERVER_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

/* A decimal number without leading zeros, at most max. */
static int
number(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return 0;
	*out = (unsigned)v;
	return 1;
}

int
wa_jid_parse(struct wa_jid *out, const char *s)
{
	const char *at = strchr(s, '@'), *colon, *under, *uend;
	struct wa_jid j;

	memset(out, 0, sizeof *out);
	memset(&j, 0, sizeof j);
	if (!at || strchr(at + 1, '@'))
		return WA_EINVAL;
	if (!server_ok(at + 1, strlen(at + 1)))
		return WA_EINVAL;
	uend = at;
	colon = memchr(s, ':', (size_t)(at - s));
	if (colon) {
		if (!number(colon + 1, (size_t)(at - colon - 1), 65535, &j.device))
			return WA_EINVAL;
		uend = colon;
	}
	under = memchr(s, '_', (size_t)(uend - s));
	if (under) {
		if (!number(under + 1, (size_t)(uend - under - 1), 255, &j.agent))
			return WA_EINVAL;
		uend = under;
	}
	if (!user_ok(s, (size_t)(uend - s)))
		return WA_EINVAL;
	memcpy(j.user, s, (size_t)(uend - s));
	strcpy(j.server, at + 1);
	j.type = wa_jid_server_type(j.server);
	*out = j;
	return 0;
}

int
wa_jid_make(struct wa_jid *out, const char *user, const char *server, unsigned device)
{
	memset(out, 0, sizeof *out);
	if (!user_ok(user, strlen(user)) || !server_ok(server, strlen(server)) || device > 65535)
		return WA_EINVAL;
	strcpy(out->user, user);
	strcpy(out->server, server);
	out->device = device;
	out->type = wa_jid_server_type(server);
	return 0;
}

static int
valid(const struct wa_jid *j)
{
	size_t un = strnlen(j->user, sizeof j->user), sn = strnlen(j->server, sizeof j->server);

	return un < sizeof j->user && sn < sizeof j->server && user_ok(j->user, un) &&
	    server_ok(j->server, sn) && j->agent <= 255 && j->device <= 65535;
}

int
wa_jid_format(char *buf, size_t size, const struct wa_jid *j)
{
	char agent[16] = "", device[16] = "";
	int n;

	if (size)
		buf[0] = 0;
	if (!valid(j))
		return WA_EINVAL;
	if (j->agent)
		snprintf(agent, sizeof agent, "_%u", j->agent);
	if (j->device)
		snprintf(device, sizeof device, ":%u", j->device);
	n = snprintf(buf, size, "%s%s%s@%s", j->user, agent, device, j->server);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = 0;
		return WA_ETOOBIG;
	}
	return 0;
}

unsigned
wa_jid_domain(const struct wa_jid *j)
{
	switch (j->type) {
	case WA_JID_LID: return 1;
	case WA_JID_HOSTED: return 128;
	case WA_JID_HOSTED_LID: return 129;
	default: return j->agent;
	}
}

void
wa_jid_normalize(struct wa_jid *out, const struct wa_jid *j)
{
	struct wa_jid n = *j;

	n.agent = n.device = 0;
	if (n.type == WA_JID_LEGACY) {
		strcpy(n.server, "s.whatsapp.net");
		n.type = WA_JID_PN;
	}
	*out = n;
}

int
wa_jid_equal(const struct wa_jid *a, const struct wa_jid *b)
{
	return strcmp(a->user, b->user) == 0 && strcmp(a->server, b->server) == 0 &&
	    a->agent == b->agent && a->device == b->device;
}

int
wa_jid_is_user(const struct wa_jid *j)
{
	switch (j->type) {
	case WA_JID_PN: case WA_JID_LEGACY: case WA_JID_LID:
	case WA_JID_HOSTED: case WA_JID_HOSTED_LID:
		return j->user[0] != 0;
	default:
		return 0;
	}
}

int
wa_jid_to_signal_addr(char *buf, size_t size, const struct wa_jid *j)
{
	unsigned dom;
	int n;

	if (size)
		buf[0] = 0;
	if (!valid(j) || !j->user[0])
		return WA_EINVAL;
	if (j->device == 99 && j->type != WA_JID_HOSTED && j->type != WA_JID_HOSTED_LID)
		return WA_EINVAL;
	dom = wa_jid_domain(j);
	if (dom)
		n = snprintf(buf, size, "%s_%u.%u", j->user, dom, j->device);
	else
		n = snprintf(buf, size, "%s.%u", j->user, j->device);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = 0;
		return WA_ETOOBIG;
	}
	return 0;
}

int
wa_jid_to_sender_key_id(char *buf, size_t size, const struct wa_jid *group,
    const struct wa_jid *author)
{
	char g[WA_JID_STR_MAX], a[WA_SIGNAL_ADDR_MAX], *dot;
	int rc, n;

	if (size)
		buf[0] = 0;
	if (group->type != WA_JID_GROUP && group->type != WA_JID_BROADCAST)
		return WA_EINVAL;
	if ((rc = wa_jid_format(g, sizeof g, group)) < 0 ||
	    (rc = wa_jid_to_signal_addr(a, sizeof a, author)) < 0)
		return rc;
	dot = strrchr(a, '.');
	*dot = 0;
	n = snprintf(buf, size, "%s::%s::%s", g, a, dot + 1);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = 0;
		return WA_ETOOBIG;
	}
	return 0;
}

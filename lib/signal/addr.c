/*
 * addr.c - JID -> Signal address -> file name, Baileys 7's way (addr.h).
 *
 * Baileys (lib/Signal/libsignal.js): jidToSignalProtocolAddress gives
 * name = user, or user_<domainType> when the domain type is not 0, and
 * device = device || 0; signalStorage.resolveLIDSignalAddress splits an
 * address "name.device", returns it unchanged for domain 1 and 129, else
 * builds "<user>[:<device>]@s.whatsapp.net" (or @hosted for 128), asks
 * the LID mapping store (lid-mapping.js: the file lid-mapping-<pnUser>.json
 * holds the LID user as a JSON string) and maps that to
 * "<lid>[:<device>]@lid" (@hosted.lid for a hosted PN), then back through
 * jidToSignalProtocolAddress.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signal/addr.h"

int
wa_sigaddr_from_jid(struct wa_sigaddr *out, const char *jid)
{
	struct wa_jid j;
	char id[WA_SIGNAL_ADDR_MAX], *dot;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = wa_jid_parse(&j, jid)) < 0)
		return rc;
	if (!wa_jid_is_user(&j) && j.type != WA_JID_BOT)
		return WA_EINVAL;
	if ((rc = wa_jid_to_signal_addr(id, sizeof id, &j)) < 0)
		return rc;
	dot = strrchr(id, '.');
	*dot = 0;
	snprintf(out->name, sizeof out->name, "%s", id);
	out->device = j.device;
	return 0;
}

int
wa_sigaddr_resolve(struct wa_sigaddr *out, const struct wa_sigaddr *in,
    wa_sigaddr_lookup lookup, void *arg)
{
	char user[WA_SIGNAL_ADDR_MAX], lid[WA_JID_USER_MAX + 2], jid[WA_JID_STR_MAX];
	const char *under;
	unsigned dom = 0;
	struct wa_jid j;
	int rc;

	if (out != in)
		*out = *in;
	snprintf(user, sizeof user, "%s", in->name);
	if ((under = strchr(in->name, '_'))) {
		dom = (unsigned)strtoul(under + 1, NULL, 10);
		user[under - in->name] = 0;
	}
	if (dom == 1 || dom == 129 || !lookup)
		return 0;
	rc = lookup(lid, sizeof lid, user, arg);
	if (rc <= 0)
		return rc;
	if (in->device)
		snprintf(jid, sizeof jid, "%s:%u@%s", lid, in->device, dom == 128 ? "hosted.lid" : "lid");
	else
		snprintf(jid, sizeof jid, "%s@%s", lid, dom == 128 ? "hosted.lid" : "lid");
	if (wa_jid_parse(&j, jid) < 0 || j.agent)
		return WA_ECORRUPT;
	return wa_sigaddr_from_jid(out, jid);
}

int
wa_sigaddr_id(char *out, size_t n, const struct wa_sigaddr *a)
{
	int k = snprintf(out, n, "%s.%u", a->name, a->device);

	return k < 0 || (size_t)k >= n ? WA_ETOOBIG : 0;
}

int
wa_sigaddr_file(char *out, size_t n, enum wa_ftype t, const struct wa_sigaddr *a)
{
	char id[WA_SIGNAL_ADDR_MAX + 8];
	int rc;

	if ((rc = wa_sigaddr_id(id, sizeof id, a)) < 0)
		return rc;
	return wa_fname_make(out, n, t, id);
}

int
wa_sigaddr_sender_key_file(char *out, size_t n, const char *group, const struct wa_sigaddr *a)
{
	char id[WA_SENDER_KEY_ID_MAX + 8];
	struct wa_jid g;
	int k;

	if (wa_jid_parse(&g, group) < 0 || (g.type != WA_JID_GROUP && g.type != WA_JID_BROADCAST))
		return WA_EINVAL;
	k = snprintf(id, sizeof id, "%s::%s::%u", group, a->name, a->device);
	if (k < 0 || (size_t)k >= sizeof id)
		return WA_ETOOBIG;
	return wa_fname_make(out, n, WA_FT_SENDER_KEY, id);
}

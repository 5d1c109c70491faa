/*
 * jid.h - WhatsApp addresses ("JIDs"): user[_agent][:device]@server, the
 * string form Baileys reads and writes.
 *
 *	struct wa_jid j;
 *	char addr[WA_SIGNAL_ADDR_MAX];
 *	if (wa_jid_parse(&j, "99990002222:5@lid") == 0 &&
 *	    wa_jid_to_signal_addr(addr, sizeof addr, &j) == 0)
 *		// addr is "99990002222_1.5": the id of session-<addr>.json
 *
 * Parsing is stricter than Baileys' jidDecode, which takes any string with
 * an '@': here a JID has one '@'; a user of at most WA_JID_USER_MAX bytes
 * of [0-9A-Za-z-] (may be empty: "@s.whatsapp.net" is the server); at most
 * one "_agent" (decimal 0..255) and one ":device" (decimal 0..65535), in
 * that order, without leading zeros; a server of [a-z0-9.-], 1 to
 * WA_JID_SERVER_MAX bytes.  Servers not in enum wa_jid_server parse as
 * WA_JID_OTHER.  Everything a valid JID yields (user, Signal address) is
 * therefore safe inside a file name.
 *
 * Where Baileys accepts a JID this code accepts, the results are Baileys'
 * results, character for character (tests/0301-jid-conformance.t).
 */
#ifndef WA_JID_H
#define WA_JID_H

#include <stddef.h>

#define WA_JID_USER_MAX 127
#define WA_JID_SERVER_MAX 63
/* longest string form, NUL included: user _255 :65535 @ server */
#define WA_JID_STR_MAX (WA_JID_USER_MAX + 4 + 6 + 1 + WA_JID_SERVER_MAX + 1)
/* longest Signal address, NUL included: user _129 .65535 */
#define WA_SIGNAL_ADDR_MAX (WA_JID_USER_MAX + 4 + 6 + 1)
/* longest sender-key id, NUL included: group :: name :: device */
#define WA_SENDER_KEY_ID_MAX (WA_JID_STR_MAX + 2 + WA_SIGNAL_ADDR_MAX + 2)

enum wa_jid_server {
	WA_JID_OTHER = 0,  /* a server not listed here */
	WA_JID_PN,         /* s.whatsapp.net: phone-number users; empty user: the server */
	WA_JID_LEGACY,     /* c.us: old phone-number form */
	WA_JID_LID,        /* lid: hidden user ids (domain type 1) */
	WA_JID_HOSTED,     /* hosted: Cloud API phone numbers (domain type 128) */
	WA_JID_HOSTED_LID, /* hosted.lid: Cloud API LIDs (domain type 129) */
	WA_JID_GROUP,      /* g.us */
	WA_JID_BROADCAST,  /* broadcast: status@broadcast and broadcast lists */
	WA_JID_NEWSLETTER, /* newsletter: channels */
	WA_JID_BOT,        /* bot: Meta AI */
	WA_JID_MSGR,       /* msgr: Messenger */
	WA_JID_INTEROP,    /* interop: user is "integrator-user" */
};

struct wa_jid {
	char user[WA_JID_USER_MAX + 1];
	char server[WA_JID_SERVER_MAX + 1];
	enum wa_jid_server type;
	unsigned agent;  /* 0 when absent */
	unsigned device; /* 0 when absent */
};

/* Parse s.  WA_EINVAL when it is not a JID by the rules above. */
int wa_jid_parse(struct wa_jid *out, const char *s);

/* A JID from parts (agent 0), checked by the same rules.  WA_EINVAL. */
int wa_jid_make(struct wa_jid *out, const char *user, const char *server, unsigned device);

/* The string form, as Baileys' jidEncode: "_agent" and ":device" only when
 * not 0.  WA_ETOOBIG when size is too small (WA_JID_STR_MAX always does),
 * WA_EINVAL when j breaks the rules. */
int wa_jid_format(char *buf, size_t size, const struct wa_jid *j);

/* The server type for a server name. */
enum wa_jid_server wa_jid_server_type(const char *server);

/* Baileys' domain type: lid 1, hosted 128, hosted.lid 129, otherwise the
 * agent (0 when none). */
unsigned wa_jid_domain(const struct wa_jid *j);

/* The same user on the same server without agent and device, c.us turned
 * into s.whatsapp.net (Baileys' jidNormalizedUser). */
void wa_jid_normalize(struct wa_jid *out, const struct wa_jid *j);

/* 1 if a and b are the same string form, else 0. */
int wa_jid_equal(const struct wa_jid *a, const struct wa_jid *b);

/* 1 for a person or device: a non-empty user on s.whatsapp.net, c.us, lid,
 * hosted or hosted.lid, else 0. */
int wa_jid_is_user(const struct wa_jid *j);

/* The Signal protocol address of j as Baileys 7 names it (libsignal's
 * ProtocolAddress.toString): "<user>.<device>" when the domain type is 0,
 * else "<user>_<domain>.<device>", e.g. "99990002222_1.5".  This is the id
 * in session-<id>.json and identity-key-<id>.json (wa_fname_make builds
 * the name).  WA_EINVAL for an empty user, or device 99 on a server other
 * than hosted or hosted.lid (Baileys refuses both); WA_ETOOBIG when size
 * is too small (WA_SIGNAL_ADDR_MAX always does). */
int wa_jid_to_signal_addr(char *buf, size_t size, const struct wa_jid *j);

/* The sender-key id "<group jid>::<name>::<device>" for author's key in
 * group (Baileys' SenderKeyName), the id in sender-key-<id>.json.  Errors
 * as wa_jid_to_signal_addr for author; WA_EINVAL when group is no group
 * or broadcast JID. */
int wa_jid_to_sender_key_id(char *buf, size_t size, const struct wa_jid *group,
    const struct wa_jid *author);

#endif

/* t-jid: parsing, formatting, Signal addresses and sender-key ids of JIDs,
 * and the auth-folder names they lead to. */
#include <stdio.h>
#include <string.h>

#include "tap.h"

#include "base/err.h"
#include "store/fname.h"
#include "wire/jid.h"

static char buf[512];

/* parse s and print it back ("" when refused) */
static const char *
roundtrip(const char *s)
{
	struct wa_jid j;

	buf[0] = 0;
	if (wa_jid_parse(&j, s) == 0)
		wa_jid_format(buf, sizeof buf, &j);
	return buf;
}

static const char *
addr(const char *s)
{
	struct wa_jid j;

	buf[0] = 0;
	if (wa_jid_parse(&j, s) == 0 && wa_jid_to_signal_addr(buf, sizeof buf, &j) < 0)
		strcpy(buf, "!");
	return buf;
}

int
main(void)
{
	static const struct {
		const char *jid, *addr, *file;
	} table[] = { /* wa-protocol(7) §5.3 */
		{ "15550002222@s.whatsapp.net", "15550002222.0", "session-15550002222.0.json" },
		{ "15550002222:5@s.whatsapp.net", "15550002222.5", "session-15550002222.5.json" },
		{ "99990002222:5@lid", "99990002222_1.5", "session-99990002222_1.5.json" },
		{ "15550002222:99@hosted", "15550002222_128.99", "session-15550002222_128.99.json" },
		{ "99990002222:99@hosted.lid", "99990002222_129.99", "session-99990002222_129.99.json" },
	};
	static const char *refused[] = {
		"", "15550002222", "a@b@c", "1.2@s.whatsapp.net", "x_NaN@s.whatsapp.net",
		"1:05@lid", "1:@lid", "1_@lid", "1:1:1@lid", "1_1_1@lid", "1:2_3@lid", "1@",
		"1@S.WHATSAPP.NET", "../x@lid", "1@lid/..", "1@../lid", "1:65536@msgr",
		"1_256@s.whatsapp.net", "1 2@s.whatsapp.net", "1\n@lid", "1@li\td", "1/2@g.us",
		"1@g.us ", "+1555@s.whatsapp.net", "1:-1@lid", "1:1e2@lid",
	};
	struct wa_jid j, k, g;
	char id[WA_SENDER_KEY_ID_MAX], name[300], longuser[200];
	size_t i;
	int bad;

	/* fields */
	ok(wa_jid_parse(&j, "15550002222_1:5@s.whatsapp.net") == 0 && strcmp(j.user, "15550002222") == 0 &&
	    j.agent == 1 && j.device == 5 && strcmp(j.server, "s.whatsapp.net") == 0 && j.type == WA_JID_PN,
	    "user_agent:device@server");
	is_int(wa_jid_domain(&j), 1, "domain from the agent");
	ok(wa_jid_parse(&j, "99990002222_5:3@lid") == 0 && wa_jid_domain(&j) == 1,
	    "domain from the server wins over the agent");
	ok(wa_jid_parse(&j, "@s.whatsapp.net") == 0 && j.user[0] == 0 && !wa_jid_is_user(&j),
	    "the server itself");
	ok(wa_jid_parse(&j, "15550001111-1600000000@g.us") == 0 && j.type == WA_JID_GROUP,
	    "old-style group");
	ok(wa_jid_parse(&j, "status@broadcast") == 0 && j.type == WA_JID_BROADCAST, "status");
	ok(wa_jid_parse(&j, "120363300000000000@newsletter") == 0 && j.type == WA_JID_NEWSLETTER,
	    "newsletter");
	ok(wa_jid_parse(&j, "13135550002@bot") == 0 && j.type == WA_JID_BOT, "bot");
	ok(wa_jid_parse(&j, "100000000000001:0@msgr") == 0 && j.type == WA_JID_MSGR, "msgr");
	ok(wa_jid_parse(&j, "5-123:1@interop") == 0 && j.type == WA_JID_INTEROP &&
	    strcmp(j.user, "5-123") == 0, "interop keeps integrator-user as the user");
	ok(wa_jid_parse(&j, "0@c.us") == 0 && j.type == WA_JID_LEGACY && wa_jid_is_user(&j), "c.us");
	ok(wa_jid_parse(&j, "x@example.com") == 0 && j.type == WA_JID_OTHER, "unknown server");
	ok(wa_jid_parse(&j, "99:99@hosted.lid") == 0 && j.type == WA_JID_HOSTED_LID &&
	    wa_jid_domain(&j) == 129 && wa_jid_is_user(&j), "hosted.lid");
	bad = 0;
	for (i = 0; i < sizeof refused / sizeof refused[0]; i++)
		if (wa_jid_parse(&j, refused[i]) != WA_EINVAL) {
			bad++;
			printf("# accepted: '%s'\n", refused[i]);
		}
	ok(bad == 0, "%zu malformed JIDs refused", sizeof refused / sizeof refused[0]);
	memset(longuser, '1', 127);
	strcpy(longuser + 127, "@lid");
	ok(wa_jid_parse(&j, longuser) == 0, "127-byte user");
	memset(longuser, '1', 128);
	strcpy(longuser + 128, "@lid");
	is_int(wa_jid_parse(&j, longuser), WA_EINVAL, "128-byte user");

	/* formatting */
	is_str(roundtrip("15550002222:0@s.whatsapp.net"), "15550002222@s.whatsapp.net", ":0 left out");
	is_str(roundtrip("15550002222_0@s.whatsapp.net"), "15550002222@s.whatsapp.net", "_0 left out");
	is_str(roundtrip("1_2:3@c.us"), "1_2:3@c.us", "agent and device kept");
	wa_jid_parse(&j, "1_2:3@c.us");
	wa_jid_normalize(&k, &j);
	wa_jid_format(buf, sizeof buf, &k);
	is_str(buf, "1@s.whatsapp.net", "normalize: c.us to s.whatsapp.net, no agent or device");
	is_int(wa_jid_format(buf, 5, &j), WA_ETOOBIG, "small buffer");
	is_str(buf, "", "... left empty");
	ok(wa_jid_make(&k, "99990002222", "lid", 7) == 0 && k.type == WA_JID_LID && k.device == 7,
	    "make");
	is_int(wa_jid_make(&g, "a.b", "lid", 0), WA_EINVAL, "make checks the user");
	wa_jid_parse(&j, "99990002222:7@lid");
	ok(wa_jid_equal(&j, &k), "equal");

	/* Signal addresses */
	for (i = 0; i < sizeof table / sizeof table[0]; i++) {
		is_str(addr(table[i].jid), table[i].addr, "Signal address of table row %zu", i);
		wa_fname_make(name, sizeof name, WA_FT_SESSION, buf);
		is_str(name, table[i].file, "... and its session file");
	}
	is_str(addr("15550002222_128:99@s.whatsapp.net"), "!", "device 99 off hosted refused");
	is_str(addr("15550002222:99@lid"), "!", "device 99 on lid refused");
	is_str(addr("@s.whatsapp.net"), "!", "empty user refused");
	is_str(addr("120363000000000000@g.us"), "120363000000000000.0", "any server, as Baileys");
	is_str(addr("1_7:2@c.us"), "1_7.2", "agent as domain");
	wa_jid_parse(&j, "99990002222:5@lid");
	is_int(wa_jid_to_signal_addr(buf, 15, &j), WA_ETOOBIG, "small buffer");

	/* sender keys (wa-protocol(7) §14.1) */
	wa_jid_parse(&g, "120363000000000000@g.us");
	wa_jid_parse(&j, "99990001111:3@lid");
	ok(wa_jid_to_sender_key_id(id, sizeof id, &g, &j) == 0, "sender-key id");
	is_str(id, "120363000000000000@g.us::99990001111_1::3", "... group::name::device");
	wa_fname_make(name, sizeof name, WA_FT_SENDER_KEY, id);
	is_str(name, "sender-key-120363000000000000@g.us--99990001111_1--3.json", "... its file");
	wa_jid_parse(&g, "status@broadcast");
	ok(wa_jid_to_sender_key_id(id, sizeof id, &g, &j) == 0, "status broadcast has sender keys");
	wa_jid_parse(&g, "1@s.whatsapp.net");
	is_int(wa_jid_to_sender_key_id(id, sizeof id, &g, &j), WA_EINVAL, "a user is no group");

	done_testing();
	return exit_status();
}

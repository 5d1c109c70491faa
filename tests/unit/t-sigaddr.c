/*
 * t-sigaddr.c - JID -> Signal address -> file name (lib/signal/addr.h),
 * against the table Baileys 7 gives (jidToSignalProtocolAddress,
 * resolveLIDSignalAddress), hostile JIDs, and the LID redirection.
 */
#include <stdio.h>
#include <string.h>

#include "signal/addr.h"
#include "tap.h"

static int
lookup(char *lid, size_t n, const char *pn, void *arg)
{
	(void)arg;
	if (strcmp(pn, "15550002222") == 0) {
		snprintf(lid, n, "99990002222");
		return 1;
	}
	if (strcmp(pn, "15550003333") == 0) {
		snprintf(lid, n, "../../x");
		return 1;
	}
	return 0;
}

static const char *
file_of(const char *jid, int resolve)
{
	static char name[600];
	struct wa_sigaddr a;

	if (wa_sigaddr_from_jid(&a, jid) < 0)
		return "EINVAL";
	if (resolve && wa_sigaddr_resolve(&a, &a, lookup, NULL) < 0)
		return "ECORRUPT";
	if (wa_sigaddr_file(name, sizeof name, WA_FT_SESSION, &a) < 0)
		return "EFILE";
	return name;
}

int
main(void)
{
	struct wa_sigaddr a;
	char name[600];

	/* wa-protocol(7) 5.3's table; tests/0600 checks the same names against Baileys itself */
	is_str(file_of("15550002222@s.whatsapp.net", 0), "session-15550002222.0.json", "PN, device 0");
	is_str(file_of("15550002222:5@s.whatsapp.net", 0), "session-15550002222.5.json", "PN, device 5");
	is_str(file_of("99990002222:5@lid", 0), "session-99990002222_1.5.json", "LID: domain 1");
	is_str(file_of("15550002222:99@hosted", 0), "session-15550002222_128.99.json", "hosted: domain 128, device 99");
	is_str(file_of("99990002222:99@hosted.lid", 0), "session-99990002222_129.99.json", "hosted.lid: 129");
	is_str(file_of("15550001111_5:2@s.whatsapp.net", 0), "session-15550001111_5.2.json", "an agent is the domain");
	is_str(file_of("15550002222:99@s.whatsapp.net", 0), "EINVAL", "device 99 off hosted is refused (Baileys throws)");

	/* LID redirection */
	is_str(file_of("15550002222:5@s.whatsapp.net", 1), "session-99990002222_1.5.json", "a mapped PN is stored under its LID");
	is_str(file_of("15550002222@s.whatsapp.net", 1), "session-99990002222_1.0.json", "device 0 too");
	is_str(file_of("15550002222:99@hosted", 1), "session-99990002222_129.99.json", "hosted PN -> hosted.lid");
	is_str(file_of("15550004444:5@s.whatsapp.net", 1), "session-15550004444.5.json", "no mapping: unchanged");
	is_str(file_of("99990002222:5@lid", 1), "session-99990002222_1.5.json", "a LID is never redirected");
	is_str(file_of("15550003333:5@s.whatsapp.net", 1), "ECORRUPT", "a mapping that is no LID user is refused");

	/* hostile */
	is_str(file_of("../../etc/passwd@s.whatsapp.net", 0), "EINVAL", "'/' in a user");
	is_str(file_of("..@s.whatsapp.net", 0), "EINVAL", "'..' user");
	is_str(file_of("@s.whatsapp.net", 0), "EINVAL", "empty user");
	is_str(file_of("1@g.us", 0), "EINVAL", "a group is no Signal address");
	is_str(file_of("1:2:3@s.whatsapp.net", 0), "EINVAL", "two devices");
	is_str(file_of("1@s.whatsapp.net\n", 0), "EINVAL", "a control character");

	ok(wa_sigaddr_from_jid(&a, "15550001111:3@s.whatsapp.net") == 0 &&
	    wa_sigaddr_sender_key_file(name, sizeof name, "120363000000000000@g.us", &a) == 0 &&
	    strcmp(name, "sender-key-120363000000000000@g.us--15550001111--3.json") == 0,
	    "sender key file: %s", name);
	ok(wa_sigaddr_sender_key_file(name, sizeof name, "../x@g.us", &a) < 0, "a hostile group is refused");
	ok(wa_sigaddr_sender_key_file(name, sizeof name, "15550001111@s.whatsapp.net", &a) < 0,
	    "a user is no group");
	done_testing();
	return exit_status();
}

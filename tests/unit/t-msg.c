/*
 * t-msg.c - lib/msg: unpadding edge cases, the nesting bound, the
 * wrappers, every record type, what counts as content, app-state key
 * names and bad strings.  Baileys' own messages: tests/0700-msg-baileys.t.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "message.pb-c.h"
#include "tap.h"

static uint8_t *
pack(const Wa__Message *m, size_t *len)
{
	uint8_t *b;

	*len = wa__message__get_packed_size(m);
	b = malloc(*len + 1);
	wa__message__pack(m, b);
	return b;
}

static struct wa_msg *
decode(const Wa__Message *pm)
{
	struct wa_msg *m = NULL;
	size_t len;
	uint8_t *b = pack(pm, &len);

	if (wa_msg_decode(&m, b, len, NULL) < 0)
		m = NULL;
	free(b);
	return m;
}

/* The record's JSON for pm (compact, sorted), caller frees. */
static char *
record(const Wa__Message *pm)
{
	struct wa_msg *m = decode(pm);
	json_t *o = json_object();
	char *s;

	if (!m || wa_msg_to_json(m, o) < 0) {
		json_decref(o);
		wa_msg_free(m);
		return strdup("(failed)");
	}
	json_object_del(o, "raw");
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	wa_msg_free(m);
	return s;
}

#define is_record(pm, want, name) do { char *r_ = record(pm); is_str(r_, want, name); free(r_); } while (0)

static void
test_unpad(void)
{
	uint8_t b[64] = { 0 };

	is_int(wa_msg_unpad(b, 0), WA_EPROTO, "unpad: empty");
	b[0] = 'x', b[1] = 0;
	is_int(wa_msg_unpad(b, 2), WA_EPROTO, "unpad: N=0");
	b[0] = 5;
	is_int(wa_msg_unpad(b, 1), WA_EPROTO, "unpad: N greater than the length");
	memset(b, 3, 3);
	is_int(wa_msg_unpad(b, 3), 0, "unpad: N equal to the length leaves nothing");
	b[0] = 'a', b[1] = 3, b[2] = 2, b[3] = 3;
	is_int(wa_msg_unpad(b, 4), WA_EPROTO, "unpad: a pad byte that is not N (whatsmeow's check)");
	b[0] = 'a', b[1] = 'b';
	memset(b + 2, 16, 16);
	is_int(wa_msg_unpad(b, 18), 2, "unpad: N=16");
	memset(b + 2, 17, 17);
	is_int(wa_msg_unpad(b, 19), WA_EPROTO, "unpad: N=17 is more than Baileys or WhatsApp pad");
	b[0] = 'a', b[1] = 1;
	is_int(wa_msg_unpad(b, 2), 1, "unpad: N=1");
}

/* A Message wrapped n times in ephemeralMessage, as bytes. */
static uint8_t *
nested(int n, size_t *len)
{
	size_t cap = 8 + (size_t)n * 16, l = 3, i;
	uint8_t *b = malloc(cap), *t = malloc(cap);

	memcpy(b, "\x0a\x01x", 3);	/* conversation "x" */
	for (i = 0; i < (size_t)n; i++) {
		size_t k = 0, inner = l, fp;
		/* FutureProofMessage { 1: Message } */
		t[k++] = 0x0a;
		for (fp = inner; fp >= 0x80; fp >>= 7)
			t[k++] = (uint8_t)(fp | 0x80);
		t[k++] = (uint8_t)fp;
		memcpy(t + k, b, inner);
		fp = k + inner;
		/* Message { 40: FutureProofMessage } */
		k = 0;
		b[k++] = 0xc2, b[k++] = 0x02;
		for (inner = fp; inner >= 0x80; inner >>= 7)
			b[k++] = (uint8_t)(inner | 0x80);
		b[k++] = (uint8_t)inner;
		memmove(b + k, t, fp);
		l = k + fp;
	}
	free(t);
	*len = l;
	return b;
}

static void
test_decode(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_msg *m;
	uint8_t *b;
	size_t len;

	ok(wa_msg_decode(&m, (const uint8_t *)"\xff\xff\x01", 3, &why) == WA_EPROTO && !m,
	    "bytes that are no Message: WA_EPROTO");
	ok(strstr(why.text, "not a message protobuf") != NULL, "why: %s", why.text);
	ok(wa_msg_decode(&m, NULL, 0, NULL) == 0 && m, "an empty Message decodes");
	is_str(wa_msg_type(m), "unknown", "an empty Message is unknown");
	ok(wa_msg_is_content(m), "and kept (content)");
	wa_msg_free(m);

	b = nested(30, &len);
	ok(wa_msg_decode(&m, b, len, NULL) == 0, "30 wrappers (61 levels) decode");
	wa_msg_free(m);
	free(b);
	b = nested(5000, &len);
	ok(wa_msg_decode(&m, b, len, &why) == WA_EPROTO && !m, "5000 wrappers are refused, no stack overflow");
	ok(strstr(why.text, "nested deeper") != NULL, "why: %s", why.text);
	free(b);
	wa_msg_free(NULL);
}

static void
test_wrappers(void)
{
	Wa__Message outer = WA__MESSAGE__INIT, a = WA__MESSAGE__INIT, b = WA__MESSAGE__INIT,
	    c = WA__MESSAGE__INIT, d = WA__MESSAGE__INIT;
	Wa__Message__DeviceSentMessage dsm = WA__MESSAGE__DEVICE_SENT_MESSAGE__INIT;
	Wa__FutureProofMessage eph = WA__FUTURE_PROOF_MESSAGE__INIT, vo = WA__FUTURE_PROOF_MESSAGE__INIT,
	    dwc = WA__FUTURE_PROOF_MESSAGE__INIT, ed = WA__FUTURE_PROOF_MESSAGE__INIT;
	Wa__Message__DocumentMessage doc = WA__MESSAGE__DOCUMENT_MESSAGE__INIT;
	Wa__Message__ProtocolMessage pm = WA__MESSAGE__PROTOCOL_MESSAGE__INIT;
	Wa__MessageKey key = WA__MESSAGE_KEY__INIT;
	struct wa_msg *m;

	/* dsm > ephemeral > viewOnceV2 > documentWithCaption > document */
	outer.devicesentmessage = &dsm;
	dsm.destinationjid = "1@s.whatsapp.net";
	dsm.message = &a;
	a.ephemeralmessage = &eph;
	eph.message = &b;
	b.viewoncemessagev2 = &vo;
	vo.message = &c;
	c.documentwithcaptionmessage = &dwc;
	dwc.message = &d;
	d.documentmessage = &doc;
	doc.caption = "cap";
	doc.filename = "f.pdf";
	m = decode(&outer);
	is_str(m ? wa_msg_type(m) : "", "document", "four wrappers peeled in whatsmeow's order");
	is_str(m ? wa_msg_dsm_destination(m) : "", "1@s.whatsapp.net", "the device-sent destination");
	wa_msg_free(m);
	is_record(&outer, "{\"media\":{\"file_name\":\"f.pdf\"},\"text\":\"cap\",\"type\":\"document\"}",
	    "the caption of a wrapped document is the text");

	/* the order: a deviceSentMessage inside an ephemeralMessage is not peeled */
	memset(&a, 0, sizeof a);
	wa__message__init(&a);
	wa__message__init(&outer);
	outer.ephemeralmessage = &eph;
	eph.message = &a;
	a.devicesentmessage = &dsm;
	dsm.message = &d;
	m = decode(&outer);
	is_str(m ? wa_msg_type(m) : "", "unknown", "deviceSent comes first: not peeled inside ephemeral");
	ok(m && !wa_msg_dsm_destination(m), "and it is no device-sent copy");
	wa_msg_free(m);

	/* editedMessage around a protocolMessage MESSAGE_EDIT */
	wa__message__init(&outer);
	wa__message__init(&a);
	wa__message__init(&b);
	outer.editedmessage = &ed;
	ed.message = &a;
	a.protocolmessage = &pm;
	pm.has_type = 1;
	pm.type = WA__MESSAGE__PROTOCOL_MESSAGE__TYPE__MESSAGE_EDIT;
	pm.key = &key;
	key.id = "ID1";
	key.remotejid = "2@s.whatsapp.net";
	key.has_fromme = 1;
	key.fromme = 1;
	pm.editedmessage = &b;
	b.conversation = "new";
	is_record(&outer, "{\"edit\":{\"target\":{\"chat\":\"2@s.whatsapp.net\",\"from_me\":true,\"id\":\"ID1\"}},\"text\":\"new\",\"type\":\"edit\"}",
	    "editedMessage > protocolMessage MESSAGE_EDIT: edit, target, new text");
	/* an editedMessage wrapper around plain text is an edit too */
	ed.message = &b;
	is_record(&outer, "{\"edit\":{},\"text\":\"new\",\"type\":\"edit\"}", "editedMessage around text: an edit without a target");
}

static void
test_types(void)
{
	Wa__Message msg = WA__MESSAGE__INIT;
	Wa__Message__ImageMessage img = WA__MESSAGE__IMAGE_MESSAGE__INIT;
	Wa__Message__AudioMessage au = WA__MESSAGE__AUDIO_MESSAGE__INIT;
	Wa__Message__StickerMessage st = WA__MESSAGE__STICKER_MESSAGE__INIT;
	Wa__Message__VideoMessage vid = WA__MESSAGE__VIDEO_MESSAGE__INIT;
	Wa__Message__LocationMessage loc = WA__MESSAGE__LOCATION_MESSAGE__INIT;
	Wa__Message__ContactMessage ct = WA__MESSAGE__CONTACT_MESSAGE__INIT, *cts[2] = { &ct, &ct };
	Wa__Message__ContactsArrayMessage ca = WA__MESSAGE__CONTACTS_ARRAY_MESSAGE__INIT;
	Wa__Message__ReactionMessage re = WA__MESSAGE__REACTION_MESSAGE__INIT;
	Wa__Message__PollCreationMessage po = WA__MESSAGE__POLL_CREATION_MESSAGE__INIT;
	Wa__Message__PollCreationMessage__Option o1 = WA__MESSAGE__POLL_CREATION_MESSAGE__OPTION__INIT,
	    o2 = WA__MESSAGE__POLL_CREATION_MESSAGE__OPTION__INIT, *opts[2] = { &o1, &o2 };
	Wa__Message__ProtocolMessage pm = WA__MESSAGE__PROTOCOL_MESSAGE__INIT;
	Wa__Message__HistorySyncNotification h = WA__MESSAGE__HISTORY_SYNC_NOTIFICATION__INIT;
	Wa__Message__ExtendedTextMessage et = WA__MESSAGE__EXTENDED_TEXT_MESSAGE__INIT;
	Wa__ContextInfo ci = WA__CONTEXT_INFO__INIT;
	Wa__MessageKey key = WA__MESSAGE_KEY__INIT;
	char *mentions[] = { "1@s.whatsapp.net", "2@lid" };
	uint8_t k3[3] = { 1, 2, 3 };

	msg.conversation = "hi";
	is_record(&msg, "{\"text\":\"hi\",\"type\":\"text\"}", "text");
	msg.conversation = "bad \xff\xc0\xaf utf-8 \xed\xa0\x80.";
	is_record(&msg, "{\"text\":\"bad \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd utf-8 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.\",\"type\":\"text\"}",
	    "bytes that are not UTF-8 become U+FFFD (overlong, surrogate)");
	msg.conversation = NULL;

	msg.extendedtextmessage = &et;
	et.text = "re";
	et.contextinfo = &ci;
	ci.stanzaid = "Q";
	ci.participant = "3@s.whatsapp.net";
	ci.mentionedjid = mentions;
	ci.n_mentionedjid = 2;
	ci.has_isforwarded = 1;
	ci.isforwarded = 1;
	is_record(&msg, "{\"forwarded\":true,\"mentions\":[\"1@s.whatsapp.net\",\"2@lid\"],"
	    "\"quoted\":{\"id\":\"Q\",\"sender\":\"3@s.whatsapp.net\"},\"text\":\"re\",\"type\":\"extended_text\"}",
	    "extended_text: quoted, mentions, forwarded");
	msg.extendedtextmessage = NULL;

	msg.imagemessage = &img;
	img.mimetype = "image/jpeg";
	img.has_filelength = 1;
	img.filelength = 77;
	img.has_mediakey = 1;
	img.mediakey.data = k3;
	img.mediakey.len = 3;
	img.has_width = img.has_height = 1;
	img.width = 4, img.height = 5;
	is_record(&msg, "{\"media\":{\"height\":5,\"media_key\":\"AQID\",\"mimetype\":\"image/jpeg\",\"size\":77,\"width\":4},\"type\":\"image\"}",
	    "image: media, bytes as base64");
	img.filelength = UINT64_MAX;
	is_record(&msg, "{\"media\":{\"height\":5,\"media_key\":\"AQID\",\"mimetype\":\"image/jpeg\",\"width\":4},\"type\":\"image\"}",
	    "a size over 2^63 is left out");
	msg.imagemessage = NULL;

	msg.ptvmessage = &vid;
	vid.has_seconds = 1;
	vid.seconds = 9;
	is_record(&msg, "{\"media\":{\"seconds\":9},\"type\":\"video\"}", "ptvMessage (video note): video");
	msg.ptvmessage = NULL;
	msg.audiomessage = &au;
	au.has_ptt = 1;
	au.ptt = 0;
	is_record(&msg, "{\"media\":{\"ptt\":false},\"type\":\"audio\"}", "audio: ptt false is said");
	msg.audiomessage = NULL;
	msg.stickermessage = &st;
	st.mimetype = "image/webp";
	is_record(&msg, "{\"media\":{\"mimetype\":\"image/webp\"},\"type\":\"sticker\"}", "sticker");
	msg.stickermessage = NULL;

	msg.locationmessage = &loc;
	loc.has_degreeslatitude = loc.has_degreeslongitude = 1;
	loc.degreeslatitude = NAN;
	loc.degreeslongitude = 2.5;
	is_record(&msg, "{\"location\":{\"longitude\":2.5},\"type\":\"location\"}", "location: a NaN coordinate is left out");
	msg.locationmessage = NULL;

	msg.contactmessage = &ct;
	ct.displayname = "Ann";
	is_record(&msg, "{\"contact\":{\"display_name\":\"Ann\"},\"type\":\"contact\"}", "contact");
	msg.contactmessage = NULL;
	msg.contactsarraymessage = &ca;
	ca.contacts = cts;
	ca.n_contacts = 2;
	is_record(&msg, "{\"contacts\":[{\"display_name\":\"Ann\"},{\"display_name\":\"Ann\"}],\"type\":\"contacts\"}", "contacts");
	msg.contactsarraymessage = NULL;

	msg.reactionmessage = &re;
	re.key = &key;
	key.id = "T";
	key.participant = "4@lid";
	is_record(&msg, "{\"reaction\":{\"emoji\":\"\",\"target\":{\"id\":\"T\",\"sender\":\"4@lid\"}},\"type\":\"reaction\"}",
	    "reaction without text: emoji \"\" (removed)");
	msg.reactionmessage = NULL;

	msg.pollcreationmessagev3 = &po;
	po.name = "Q?";
	po.options = opts;
	po.n_options = 2;
	o1.optionname = "a";
	is_record(&msg, "{\"poll\":{\"name\":\"Q?\",\"options\":[\"a\",\"\"]},\"type\":\"poll\"}", "pollCreationMessageV3: poll");
	msg.pollcreationmessagev3 = NULL;

	msg.protocolmessage = &pm;
	is_record(&msg, "{\"protocol\":{},\"type\":\"protocol\"}", "protocolMessage without a type: protocol, no type");
	pm.has_type = 1;
	pm.type = WA__MESSAGE__PROTOCOL_MESSAGE__TYPE__REVOKE;
	is_record(&msg, "{\"revoke\":{},\"type\":\"revoke\"}", "REVOKE without a key");
	pm.key = &key;
	is_record(&msg, "{\"revoke\":{\"target\":{\"id\":\"T\",\"sender\":\"4@lid\"}},\"type\":\"revoke\"}", "REVOKE: revoke, target");
	pm.type = WA__MESSAGE__PROTOCOL_MESSAGE__TYPE__EPHEMERAL_SETTING;
	is_record(&msg, "{\"protocol\":{\"type\":\"ephemeral_setting\"},\"type\":\"protocol\"}", "EPHEMERAL_SETTING: its name in lower case");
	pm.type = WA__MESSAGE__PROTOCOL_MESSAGE__TYPE__HISTORY_SYNC_NOTIFICATION;
	pm.historysyncnotification = &h;
	h.has_synctype = 1;
	h.synctype = 42;
	h.has_chunkorder = 1;
	h.chunkorder = 2;
	is_record(&msg, "{\"history_sync\":{\"chunk_order\":2,\"sync_type\":42},\"type\":\"history_sync\"}", "history_sync: an unknown sync type is its number");
	{
		struct wa_msg *m = decode(&msg);

		ok(m && wa_msg_is_history_sync(m) && wa_msg_is_content(m), "a history-sync notification is content, and recognised");
		wa_msg_free(m);
	}
}

static void
test_content_and_keys(void)
{
	Wa__Message msg = WA__MESSAGE__INIT;
	Wa__Message__SenderKeyDistributionMessage sk = WA__MESSAGE__SENDER_KEY_DISTRIBUTION_MESSAGE__INIT;
	Wa__MessageContextInfo mci = WA__MESSAGE_CONTEXT_INFO__INIT;
	Wa__Message__ProtocolMessage pm = WA__MESSAGE__PROTOCOL_MESSAGE__INIT;
	Wa__Message__AppStateSyncKeyShare sh = WA__MESSAGE__APP_STATE_SYNC_KEY_SHARE__INIT;
	Wa__Message__AppStateSyncKey k = WA__MESSAGE__APP_STATE_SYNC_KEY__INIT, *keys[1] = { &k };
	Wa__Message__AppStateSyncKeyId kid = WA__MESSAGE__APP_STATE_SYNC_KEY_ID__INIT;
	Wa__Message__AppStateSyncKeyData kd = WA__MESSAGE__APP_STATE_SYNC_KEY_DATA__INIT;
	uint8_t id[200], ax[4] = { 0x33, 1, 2, 3 };
	const char *group;
	const uint8_t *skdm;
	size_t skdmlen;
	char name[256];
	json_t *doc;
	struct wa_msg *m;

	msg.senderkeydistributionmessage = &sk;
	sk.groupid = "g@g.us";
	sk.has_axolotlsenderkeydistributionmessage = 1;
	sk.axolotlsenderkeydistributionmessage.data = ax;
	sk.axolotlsenderkeydistributionmessage.len = 4;
	msg.messagecontextinfo = &mci;
	m = decode(&msg);
	ok(m && !wa_msg_is_content(m), "sender-key distribution + messageContextInfo: not content");
	ok(m && wa_msg_skdm(m, &group, &skdm, &skdmlen) == 0 && !strcmp(group, "g@g.us") &&
	    skdmlen == 4 && skdm[0] == 0x33, "the distribution: group and bytes");
	wa_msg_free(m);
	msg.conversation = "first";
	m = decode(&msg);
	ok(m && wa_msg_is_content(m), "with a text: content");
	wa_msg_free(m);
	msg.conversation = NULL;
	msg.senderkeydistributionmessage = NULL;

	msg.protocolmessage = &pm;
	pm.has_type = 1;
	pm.type = WA__MESSAGE__PROTOCOL_MESSAGE__TYPE__APP_STATE_SYNC_KEY_SHARE;
	pm.appstatesynckeyshare = &sh;
	sh.keys = keys;
	sh.n_keys = 1;
	k.keyid = &kid;
	k.keydata = &kd;
	kid.has_keyid = 1;
	kid.keyid.data = id;
	memset(id, 0xff, sizeof id);
	kid.keyid.len = 6;
	m = decode(&msg);
	ok(m && !wa_msg_is_content(m), "an app-state key share: not content");
	is_int(m ? (long long)wa_msg_appstate_count(m) : -1, 1, "one key");
	ok(m && wa_msg_appstate_key(m, 0, name, sizeof name, &doc) == 0 && doc, "its file");
	is_str(name, "app-state-sync-key-________________.json", "keyId ff*6 = base64 ////////, each '/' -> '__' (Baileys' mapping)");
	json_decref(doc);
	is_int(m ? wa_msg_appstate_key(m, 0, name, 20, &doc) : 0, WA_ETOOBIG, "a name buffer too small: WA_ETOOBIG");
	ok(doc == NULL, "and no document");
	is_int(m ? wa_msg_appstate_key(m, 1, name, sizeof name, &doc) : 0, WA_ENOTFOUND, "past the last key: WA_ENOTFOUND");
	wa_msg_free(m);
	kid.keyid.len = 200;
	m = decode(&msg);
	is_int(m ? wa_msg_appstate_key(m, 0, name, sizeof name, &doc) : 0, WA_EINVAL, "a keyId whose name passes 255 bytes: WA_EINVAL");
	wa_msg_free(m);
	k.keydata = NULL;
	kid.keyid.len = 2;
	m = decode(&msg);
	is_int(m ? wa_msg_appstate_key(m, 0, name, sizeof name, &doc) : 0, WA_EINVAL, "a key without data: WA_EINVAL (Baileys would delete the file)");
	wa_msg_free(m);
	pm.type = WA__MESSAGE__PROTOCOL_MESSAGE__TYPE__APP_STATE_SYNC_KEY_REQUEST;
	m = decode(&msg);
	is_int(m ? (long long)wa_msg_appstate_count(m) : -1, 0, "keys under another protocol type are not taken");
	ok(m && wa_msg_is_content(m), "and that message is content (protocol)");
	wa_msg_free(m);
}

int
main(void)
{
	test_unpad();
	test_decode();
	test_wrappers();
	test_types();
	test_content_and_keys();
	done_testing();
	return exit_status();
}

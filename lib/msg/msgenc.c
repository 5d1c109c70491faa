/*
 * msgenc.c - the Message protobufs wa sends (msgenc.h).
 *
 * How it works: each shape is built on the stack from protobuf-c's
 * generated structs (proto/message.proto, Baileys' field numbers) and
 * packed once.  The wrappers (device-sent copy, sender-key distribution)
 * unpack the Message they are given and pack it again inside the new
 * one, so unknown fields of the original survive (protobuf-c keeps them).
 * Padding follows Baileys' writeRandomPadMax16: one random byte, N =
 * (byte & 0xf) + 1, and N bytes of N.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "base/err.h"
#include "msg/msgenc.h"
#include "message.pb-c.h"

static int
pack(uint8_t **out, size_t *len, const Wa__Message *m)
{
	size_t n = wa__message__get_packed_size(m);

	if (!(*out = malloc(n ? n : 1)))
		return WA_ENOMEM;
	*len = wa__message__pack(m, *out);
	return 0;
}

int
wa_msgenc_text(uint8_t **out, size_t *len, const char *text, const char *reply_id,
    const char *reply_participant)
{
	Wa__Message m = WA__MESSAGE__INIT;
	Wa__Message__ExtendedTextMessage x = WA__MESSAGE__EXTENDED_TEXT_MESSAGE__INIT;
	Wa__ContextInfo ci = WA__CONTEXT_INFO__INIT;

	if (!text)
		return WA_EINVAL;
	if (!reply_id) {
		m.conversation = (char *)text;
		return pack(out, len, &m);
	}
	ci.stanzaid = (char *)reply_id;
	ci.participant = (char *)reply_participant;
	x.text = (char *)text;
	x.contextinfo = &ci;
	m.extendedtextmessage = &x;
	return pack(out, len, &m);
}

int
wa_msgenc_reaction(uint8_t **out, size_t *len, const char *chat, const char *id, int from_me,
    const char *participant, const char *emoji, int64_t ts_ms)
{
	Wa__Message m = WA__MESSAGE__INIT;
	Wa__Message__ReactionMessage r = WA__MESSAGE__REACTION_MESSAGE__INIT;
	Wa__MessageKey k = WA__MESSAGE_KEY__INIT;

	if (!chat || !id || !emoji)
		return WA_EINVAL;
	k.remotejid = (char *)chat;
	k.has_fromme = 1;
	k.fromme = from_me != 0;
	k.id = (char *)id;
	k.participant = (char *)participant;
	r.key = &k;
	r.text = (char *)emoji;
	r.has_sendertimestampms = 1;
	r.sendertimestampms = ts_ms;
	m.reactionmessage = &r;
	return pack(out, len, &m);
}

int
wa_msgenc_revoke(uint8_t **out, size_t *len, const char *chat, const char *id, const char *participant)
{
	Wa__Message m = WA__MESSAGE__INIT;
	Wa__Message__ProtocolMessage p = WA__MESSAGE__PROTOCOL_MESSAGE__INIT;
	Wa__MessageKey k = WA__MESSAGE_KEY__INIT;

	if (!chat || !id)
		return WA_EINVAL;
	k.remotejid = (char *)chat;
	k.has_fromme = 1;
	k.fromme = 1;
	k.id = (char *)id;
	k.participant = (char *)participant;
	p.key = &k;
	p.has_type = 1;
	p.type = WA__MESSAGE__PROTOCOL_MESSAGE__TYPE__REVOKE;
	m.protocolmessage = &p;
	return pack(out, len, &m);
}

int
wa_msgenc_dsm(uint8_t **out, size_t *len, const char *destination, const uint8_t *msg, size_t msglen)
{
	Wa__Message m = WA__MESSAGE__INIT;
	Wa__Message__DeviceSentMessage d = WA__MESSAGE__DEVICE_SENT_MESSAGE__INIT;
	Wa__Message *orig;
	int rc;

	if (!destination || !(orig = wa__message__unpack(NULL, msglen, msg)))
		return WA_EINVAL;
	d.destinationjid = (char *)destination;
	d.message = orig;
	m.devicesentmessage = &d;
	m.messagecontextinfo = orig->messagecontextinfo;
	rc = pack(out, len, &m);
	wa__message__free_unpacked(orig, NULL);
	return rc;
}

int
wa_msgenc_skdm(uint8_t **out, size_t *len, const uint8_t *msg, size_t msglen, const char *group,
    const uint8_t *skdm, size_t skdmlen)
{
	Wa__Message empty = WA__MESSAGE__INIT, *m = &empty, *orig = NULL;
	Wa__Message__SenderKeyDistributionMessage s = WA__MESSAGE__SENDER_KEY_DISTRIBUTION_MESSAGE__INIT;
	Wa__Message__SenderKeyDistributionMessage *old;
	int rc;

	if (!group || !skdm)
		return WA_EINVAL;
	if (msg && !(m = orig = wa__message__unpack(NULL, msglen, msg)))
		return WA_EINVAL;
	s.groupid = (char *)group;
	s.has_axolotlsenderkeydistributionmessage = 1;
	s.axolotlsenderkeydistributionmessage.data = (uint8_t *)skdm;
	s.axolotlsenderkeydistributionmessage.len = skdmlen;
	old = m->senderkeydistributionmessage;
	m->senderkeydistributionmessage = &s;
	rc = pack(out, len, m);
	m->senderkeydistributionmessage = old;
	if (orig)
		wa__message__free_unpacked(orig, NULL);
	return rc;
}

int
wa_msgenc_pad(uint8_t **out, size_t *len, const uint8_t *msg, size_t msglen)
{
	unsigned char r;
	size_t n;

	if (RAND_bytes(&r, 1) != 1)
		r = (unsigned char)msglen;
	n = (size_t)(r & 0x0f) + 1;
	if (!(*out = malloc(msglen + n)))
		return WA_ENOMEM;
	if (msglen)
		memcpy(*out, msg, msglen);
	memset(*out + msglen, (int)n, n);
	*len = msglen + n;
	return 0;
}

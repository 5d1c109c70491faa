/*
 * msg.c - the decrypted Message protobuf (proto/message.proto) and the
 * content fields of the inbox record (wa-message(5)).
 *
 * How it works: the plaintext of an <enc> is a Message followed by 1..16
 * bytes of padding, each holding the count (Baileys writeRandomPadMax16,
 * whatsmeow's check that every pad byte is N).  The Message is unpacked
 * whole with protobuf-c, which keeps every field it does not know; before
 * that a linear scan of the wire bytes refuses nesting deeper than
 * MAX_DEPTH messages (protobuf-c unpacks nested messages recursively and
 * has no limit of its own: a quotedMessage chain of a few thousand levels
 * would exhaust the stack).  The wrappers are then peeled in whatsmeow's
 * UnwrapRaw order (deviceSent, ephemeral, viewOnce, viewOnceV2,
 * viewOnceV2Extension, documentWithCaption, edited), each once, and the
 * record's type and fields are read from what is inside.  The record's
 * "raw" is the Message as received, so nothing the typed fields leave out
 * is lost.
 *
 * Guarantees: any input bytes give either a struct wa_msg or WA_EPROTO /
 * WA_ENOMEM, never a crash; strings that are not UTF-8 reach the JSON
 * with each bad byte replaced by U+FFFD; an app-state key file name is
 * made only through wa_fname_make, so no keyId names a path outside the
 * auth folder.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bufjson.h"
#include "msg/msg.h"
#include "store/fname.h"
#include "message.pb-c.h"

#define MAX_DEPTH 64		/* nested messages, wrappers and quotes included */

struct wa_msg {
	Wa__Message *pb;		/* as received */
	const Wa__Message *in;		/* unwrapped */
	int edited;			/* an editedMessage wrapper was peeled */
	uint8_t *raw;
	size_t rawlen;
};

long
wa_msg_unpad(const uint8_t *pt, size_t len)
{
	size_t n, i;

	if (len == 0)
		return WA_EPROTO;
	n = pt[len - 1];
	if (n == 0 || n > 16 || n > len)
		return WA_EPROTO;
	for (i = len - n; i < len; i++)
		if (pt[i] != n)
			return WA_EPROTO;
	return (long)(len - n);
}

/* --- nesting bound ---------------------------------------------------- */

static int
varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	int shift;

	*v = 0;
	for (shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* 0 fine (or malformed: protobuf-c will refuse it), -1 too deep. */
static int
depth_ok(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, int depth)
{
	const uint8_t *end = p + n;

	if (depth > MAX_DEPTH)
		return -1;
	while (p < end) {
		uint64_t key, len;
		const ProtobufCFieldDescriptor *f;

		if (varint(&p, end, &key) < 0)
			return 0;
		switch (key & 7) {
		case 0:
			if (varint(&p, end, &len) < 0)
				return 0;
			break;
		case 1:
			if ((size_t)(end - p) < 8)
				return 0;
			p += 8;
			break;
		case 5:
			if ((size_t)(end - p) < 4)
				return 0;
			p += 4;
			break;
		case 2:
			if (varint(&p, end, &len) < 0 || len > (uint64_t)(end - p))
				return 0;
			f = key >> 3 <= UINT32_MAX ?
			    protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3)) : NULL;
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
			    depth_ok(f->descriptor, p, (size_t)len, depth + 1) < 0)
				return -1;
			p += len;
			break;
		default:
			return 0;
		}
	}
	return 0;
}

/* --- decode ----------------------------------------------------------- */

static const Wa__Message *
peel(const Wa__FutureProofMessage *w, const Wa__Message *m)
{
	return w && w->message ? w->message : m;
}

int
wa_msg_decode(struct wa_msg **out, const uint8_t *buf, size_t len, struct wa_why *why)
{
	struct wa_msg *m;
	const Wa__Message *u;

	*out = NULL;
	if (depth_ok(&wa__message__descriptor, buf, len, 1) < 0)
		return wa_why_set(why, WA_EPROTO, "message nested deeper than %d levels", MAX_DEPTH);
	if (!(m = calloc(1, sizeof(*m))) || !(m->raw = malloc(len ? len : 1))) {
		free(m);
		return wa_why_set(why, WA_ENOMEM, "out of memory decoding a message");
	}
	if (len)
		memcpy(m->raw, buf, len);
	m->rawlen = len;
	if (!(m->pb = wa__message__unpack(NULL, len, buf))) {
		wa_msg_free(m);
		return wa_why_set(why, WA_EPROTO, "not a message protobuf (%zu bytes)", len);
	}
	u = m->pb;
	if (u->devicesentmessage && u->devicesentmessage->message)
		u = u->devicesentmessage->message;
	u = peel(u->ephemeralmessage, u);
	u = peel(u->viewoncemessage, u);
	u = peel(u->viewoncemessagev2, u);
	u = peel(u->viewoncemessagev2extension, u);
	u = peel(u->documentwithcaptionmessage, u);
	if (u->editedmessage && u->editedmessage->message) {
		u = u->editedmessage->message;
		m->edited = 1;
	}
	m->in = u;
	*out = m;
	return 0;
}

void
wa_msg_free(struct wa_msg *m)
{
	if (!m)
		return;
	if (m->pb)
		wa__message__free_unpacked(m->pb, NULL);
	free(m->raw);
	free(m);
}

/* --- queries ---------------------------------------------------------- */

int
wa_msg_skdm(const struct wa_msg *m, const char **group, const uint8_t **skdm, size_t *len)
{
	const Wa__Message *levels[2] = { m->pb, m->in };
	int i;

	for (i = 0; i < 2; i++) {
		const Wa__Message__SenderKeyDistributionMessage *s = levels[i]->senderkeydistributionmessage;

		if (s && s->has_axolotlsenderkeydistributionmessage) {
			*group = s->groupid;
			*skdm = s->axolotlsenderkeydistributionmessage.data;
			*len = s->axolotlsenderkeydistributionmessage.len;
			return 0;
		}
	}
	return WA_ENOTFOUND;
}

const char *
wa_msg_dsm_destination(const struct wa_msg *m)
{
	const Wa__Message__DeviceSentMessage *d = m->pb->devicesentmessage;

	return d && d->message ? d->destinationjid : NULL;
}

static const Wa__Message__ProtocolMessage *
protocol(const struct wa_msg *m)
{
	return m->in->protocolmessage;
}

static int
protocol_is(const struct wa_msg *m, int type)
{
	const Wa__Message__ProtocolMessage *p = protocol(m);

	return p && p->has_type && (int)p->type == type;
}

static const Wa__Message__AppStateSyncKeyShare *
share(const struct wa_msg *m)
{
	const Wa__Message__ProtocolMessage *p = protocol(m);

	return p ? p->appstatesynckeyshare : NULL;
}

size_t
wa_msg_appstate_count(const struct wa_msg *m)
{
	const Wa__Message__AppStateSyncKeyShare *s = share(m);

	return protocol_is(m, WA__MESSAGE__PROTOCOL_MESSAGE__TYPE__APP_STATE_SYNC_KEY_SHARE) && s ?
	    s->n_keys : 0;
}

static int
set_new(json_t *obj, const char *k, json_t *v)
{
	return v && json_object_set_new(obj, k, v) == 0 ? 0 : -1;
}

static json_t *
b64(const ProtobufCBinaryData *b)
{
	char *s = wa_base64_encode(b->data, b->len);
	json_t *j;

	if (!s)
		return NULL;
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
int64_str(int64_t v)
{
	char s[24];

	snprintf(s, sizeof s, "%lld", (long long)v);
	return json_string(s);
}

int
wa_msg_appstate_key(const struct wa_msg *m, size_t i, char *name, size_t namesz, json_t **doc)
{
	const Wa__Message__AppStateSyncKey *k;
	const Wa__Message__AppStateSyncKeyData *d;
	char *id;
	json_t *o;
	int rc;

	*doc = NULL;
	if (i >= wa_msg_appstate_count(m))
		return WA_ENOTFOUND;
	k = share(m)->keys[i];
	/* Baileys: Buffer.from(keyId.keyId) throws without an id; a key
	 * without data makes it delete the file.  wa refuses both. */
	if (!k->keyid || !k->keyid->has_keyid || !k->keyid->keyid.len || !(d = k->keydata))
		return WA_EINVAL;
	if (!(id = wa_base64_encode(k->keyid->keyid.data, k->keyid->keyid.len)))
		return WA_ENOMEM;
	rc = wa_fname_make(name, namesz, WA_FT_APP_STATE_SYNC_KEY, id);
	free(id);
	if (rc < 0)
		return rc;
	/* protobufjs toJSON: present fields in field order, bytes base64,
	 * int64 as a decimal string, empty repeated fields left out */
	if (!(o = json_object()))
		return WA_ENOMEM;
	if (d->has_keydata && set_new(o, "keyData", b64(&d->keydata)) < 0)
		goto nomem;
	if (d->fingerprint) {
		const Wa__Message__AppStateSyncKeyFingerprint *f = d->fingerprint;
		json_t *fo = json_object();
		size_t j;

		if (set_new(o, "fingerprint", fo) < 0)
			goto nomem;
		if (f->has_rawid && set_new(fo, "rawId", json_integer(f->rawid)) < 0)
			goto nomem;
		if (f->has_currentindex && set_new(fo, "currentIndex", json_integer(f->currentindex)) < 0)
			goto nomem;
		if (f->n_deviceindexes) {
			json_t *a = json_array();

			if (set_new(fo, "deviceIndexes", a) < 0)
				goto nomem;
			for (j = 0; j < f->n_deviceindexes; j++)
				if (json_array_append_new(a, json_integer(f->deviceindexes[j])) < 0)
					goto nomem;
		}
	}
	if (d->has_timestamp && set_new(o, "timestamp", int64_str(d->timestamp)) < 0)
		goto nomem;
	*doc = o;
	return 0;
nomem:
	json_decref(o);
	return WA_ENOMEM;
}

int
wa_msg_is_history_sync(const struct wa_msg *m)
{
	return protocol_is(m, WA__MESSAGE__PROTOCOL_MESSAGE__TYPE__HISTORY_SYNC_NOTIFICATION);
}

/* Whether field f of message pb is set (optional or repeated). */
static int
field_present(const ProtobufCMessage *pb, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)pb;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
		return *(void *const *)(base + f->offset) != NULL;
	return f->quantifier_offset && *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

int
wa_msg_is_content(const struct wa_msg *m)
{
	const ProtobufCMessage *pb = &m->in->base;
	const ProtobufCMessageDescriptor *d = pb->descriptor;
	unsigned i, infra = 0;

	if (pb->n_unknown_fields)
		return 1;
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (!field_present(pb, f))
			continue;
		if (f->id == 2 || f->id == 15 || f->id == 35 ||
		    (f->id == 12 && protocol_is(m, WA__MESSAGE__PROTOCOL_MESSAGE__TYPE__APP_STATE_SYNC_KEY_SHARE)))
			infra++;
		else
			return 1;
	}
	/* an empty Message is kept (type unknown): nothing is dropped */
	return infra == 0;
}

/* --- type ------------------------------------------------------------- */

static const Wa__Message__PollCreationMessage *
poll_of(const Wa__Message *u)
{
	return u->pollcreationmessage ? u->pollcreationmessage :
	    u->pollcreationmessagev2 ? u->pollcreationmessagev2 : u->pollcreationmessagev3;
}

const char *
wa_msg_type(const struct wa_msg *m)
{
	const Wa__Message *u = m->in;

	if (m->edited || protocol_is(m, WA__MESSAGE__PROTOCOL_MESSAGE__TYPE__MESSAGE_EDIT))
		return "edit";
	if (u->conversation)
		return "text";
	if (u->extendedtextmessage)
		return "extended_text";
	if (u->imagemessage)
		return "image";
	if (u->videomessage || u->ptvmessage)
		return "video";
	if (u->audiomessage)
		return "audio";
	if (u->documentmessage)
		return "document";
	if (u->stickermessage)
		return "sticker";
	if (u->locationmessage)
		return "location";
	if (u->contactmessage)
		return "contact";
	if (u->contactsarraymessage)
		return "contacts";
	if (u->reactionmessage)
		return "reaction";
	if (poll_of(u))
		return "poll";
	if (protocol_is(m, WA__MESSAGE__PROTOCOL_MESSAGE__TYPE__REVOKE))
		return "revoke";
	if (wa_msg_is_history_sync(m))
		return "history_sync";
	if (u->protocolmessage)
		return "protocol";
	return "unknown";
}

/* --- JSON ------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (RFC 3629), 0 if none. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t k, i;
	unsigned c = s[0], min;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

/* A JSON string of s; bytes that are not UTF-8 become U+FFFD. */
static json_t *
jstr(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i, o = 0, k;
	char *t;
	json_t *j;

	for (i = 0; i < n; i += k)
		if (!(k = utf8_len(p + i, n - i)))
			break;
	if (i == n)
		return json_stringn(s, n);
	if (n > ((size_t)-1) / 3 || !(t = malloc(3 * n + 1)))
		return NULL;
	for (i = 0; i < n; i += k) {
		if ((k = utf8_len(p + i, n - i))) {
			memcpy(t + o, p + i, k);
			o += k;
		} else {
			memcpy(t + o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		}
	}
	j = json_stringn(t, o);
	free(t);
	return j;
}

/* Sticky-error builder: the first failed allocation is remembered and
 * every later call does nothing. */
struct jb {
	int err;
};

static void
put(struct jb *b, json_t *obj, const char *k, json_t *v)
{
	/* json_object_set_new and json_array_append_new take v even
	 * when they fail */
	if (b->err || !obj || !v) {
		json_decref(v);
		b->err = 1;
	} else if (json_object_set_new(obj, k, v) < 0)
		b->err = 1;
}

static void
put_str(struct jb *b, json_t *obj, const char *k, const char *s)
{
	if (s && !b->err)
		put(b, obj, k, jstr(s));
}

static void
put_bytes(struct jb *b, json_t *obj, const char *k, int has, const ProtobufCBinaryData *d)
{
	if (has && !b->err)
		put(b, obj, k, b64(d));
}

static void
put_int(struct jb *b, json_t *obj, const char *k, int has, long long v)
{
	if (has && !b->err)
		put(b, obj, k, json_integer(v));
}

static void
put_uint64(struct jb *b, json_t *obj, const char *k, int has, uint64_t v)
{
	if (has && v <= INT64_MAX)
		put_int(b, obj, k, 1, (long long)v);
}

static json_t *
new_obj(struct jb *b, json_t *parent, const char *k)
{
	json_t *o;

	if (b->err)
		return NULL;
	o = json_object();
	put(b, parent, k, o);
	return b->err ? NULL : o;
}

static json_t *
new_arr(struct jb *b, json_t *parent, const char *k)
{
	json_t *a;

	if (b->err)
		return NULL;
	a = json_array();
	put(b, parent, k, a);
	return b->err ? NULL : a;
}

static void
append(struct jb *b, json_t *arr, json_t *v)
{
	if (b->err || !arr || !v) {
		json_decref(v);
		b->err = 1;
	} else if (json_array_append_new(arr, v) < 0)
		b->err = 1;
}

static void
put_key(struct jb *b, json_t *parent, const char *k, const Wa__MessageKey *key)
{
	json_t *o;

	if (!key || !(o = new_obj(b, parent, k)))
		return;
	put_str(b, o, "id", key->id);
	put_str(b, o, "chat", key->remotejid);
	if (key->has_fromme)
		put(b, o, "from_me", json_boolean(key->fromme));
	put_str(b, o, "sender", key->participant);
}

/* The lower-case name of enum value v, or the number. */
static json_t *
enum_json(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
	char s[64];
	size_t i;

	if (!ev || strlen(ev->name) >= sizeof s)
		return json_integer(v);
	for (i = 0; ev->name[i]; i++)
		s[i] = (char)tolower((unsigned char)ev->name[i]);
	s[i] = 0;
	return json_string(s);
}

/* The fields every media message has, gathered from its own struct. */
struct media {
	const char *url, *mimetype, *caption, *direct_path, *file_name;
	const ProtobufCBinaryData *sha, *enc, *key;
	int has_sha, has_enc, has_key;
	int has_size, has_mkts, has_seconds, has_width, has_height, has_ptt;
	uint64_t size;
	int64_t mkts;
	uint32_t seconds, width, height;
	int ptt;
	const Wa__ContextInfo *ci;
};

#define MEDIA_COMMON(md, x, shaf, encf, keyf) do { \
	(md)->url = (x)->url; (md)->mimetype = (x)->mimetype; (md)->direct_path = (x)->directpath; \
	(md)->sha = &(x)->shaf; (md)->has_sha = (x)->has_##shaf; \
	(md)->enc = &(x)->encf; (md)->has_enc = (x)->has_##encf; \
	(md)->key = &(x)->keyf; (md)->has_key = (x)->has_##keyf; \
	(md)->size = (x)->filelength; (md)->has_size = (x)->has_filelength; \
	(md)->mkts = (x)->mediakeytimestamp; (md)->has_mkts = (x)->has_mediakeytimestamp; \
	(md)->ci = (x)->contextinfo; } while (0)

/* 1 when u is a media message (md filled). */
static int
media_of(const Wa__Message *u, struct media *md)
{
	const Wa__Message__VideoMessage *v = u->videomessage ? u->videomessage : u->ptvmessage;

	memset(md, 0, sizeof(*md));
	if (u->imagemessage) {
		const Wa__Message__ImageMessage *x = u->imagemessage;
		MEDIA_COMMON(md, x, filesha256, fileencsha256, mediakey);
		md->caption = x->caption;
		md->width = x->width, md->has_width = x->has_width;
		md->height = x->height, md->has_height = x->has_height;
	} else if (v) {
		MEDIA_COMMON(md, v, filesha256, fileencsha256, mediakey);
		md->caption = v->caption;
		md->seconds = v->seconds, md->has_seconds = v->has_seconds;
		md->width = v->width, md->has_width = v->has_width;
		md->height = v->height, md->has_height = v->has_height;
	} else if (u->audiomessage) {
		const Wa__Message__AudioMessage *x = u->audiomessage;
		MEDIA_COMMON(md, x, filesha256, fileencsha256, mediakey);
		md->seconds = x->seconds, md->has_seconds = x->has_seconds;
		md->ptt = x->ptt, md->has_ptt = x->has_ptt;
	} else if (u->documentmessage) {
		const Wa__Message__DocumentMessage *x = u->documentmessage;
		MEDIA_COMMON(md, x, filesha256, fileencsha256, mediakey);
		md->caption = x->caption;
		md->file_name = x->filename;
	} else if (u->stickermessage) {
		const Wa__Message__StickerMessage *x = u->stickermessage;
		MEDIA_COMMON(md, x, filesha256, fileencsha256, mediakey);
		md->width = x->width, md->has_width = x->has_width;
		md->height = x->height, md->has_height = x->has_height;
	} else
		return 0;
	return 1;
}

static void
put_media(struct jb *b, json_t *obj, const struct media *md)
{
	json_t *o = new_obj(b, obj, "media");

	put_str(b, o, "mimetype", md->mimetype);
	put_uint64(b, o, "size", md->has_size, md->size);
	put_bytes(b, o, "sha256", md->has_sha, md->sha);
	put_bytes(b, o, "enc_sha256", md->has_enc, md->enc);
	put_str(b, o, "direct_path", md->direct_path);
	put_bytes(b, o, "media_key", md->has_key, md->key);
	put_int(b, o, "media_key_timestamp", md->has_mkts, md->mkts);
	put_str(b, o, "url", md->url);
	put_str(b, o, "file_name", md->file_name);
	put_int(b, o, "seconds", md->has_seconds, md->seconds);
	put_int(b, o, "width", md->has_width, md->width);
	put_int(b, o, "height", md->has_height, md->height);
	if (md->has_ptt)
		put(b, o, "ptt", json_boolean(md->ptt));
}

/* The text a message shows: the conversation, the extended text or a
 * media caption. */
static const char *
text_of(const Wa__Message *u)
{
	struct media md;

	if (!u)
		return NULL;
	if (u->conversation)
		return u->conversation;
	if (u->extendedtextmessage)
		return u->extendedtextmessage->text;
	if (media_of(u, &md))
		return md.caption;
	return NULL;
}

/* The contextInfo of the content message in u. */
static const Wa__ContextInfo *
context_of(const Wa__Message *u)
{
	struct media md;
	const Wa__Message__PollCreationMessage *p = poll_of(u);

	if (u->extendedtextmessage)
		return u->extendedtextmessage->contextinfo;
	if (media_of(u, &md))
		return md.ci;
	if (u->locationmessage)
		return u->locationmessage->contextinfo;
	if (u->contactmessage)
		return u->contactmessage->contextinfo;
	if (u->contactsarraymessage)
		return u->contactsarraymessage->contextinfo;
	return p ? p->contextinfo : NULL;
}

static void
put_context(struct jb *b, json_t *obj, const Wa__ContextInfo *ci)
{
	size_t i;

	if (!ci)
		return;
	if (ci->stanzaid) {
		json_t *q = new_obj(b, obj, "quoted");

		put_str(b, q, "id", ci->stanzaid);
		put_str(b, q, "sender", ci->participant);
		put_str(b, q, "chat", ci->remotejid);
	}
	if (ci->n_mentionedjid) {
		json_t *a = new_arr(b, obj, "mentions");

		for (i = 0; i < ci->n_mentionedjid && !b->err; i++)
			append(b, a, jstr(ci->mentionedjid[i]));
	}
	if (ci->has_isforwarded && ci->isforwarded)
		put(b, obj, "forwarded", json_true());
}

static json_t *
contact_json(struct jb *b, const Wa__Message__ContactMessage *c)
{
	json_t *o;

	if (b->err || !(o = json_object())) {
		b->err = 1;
		return NULL;
	}
	put_str(b, o, "display_name", c->displayname);
	put_str(b, o, "vcard", c->vcard);
	return o;
}

int
wa_msg_to_json(const struct wa_msg *m, json_t *obj)
{
	const Wa__Message *u = m->in;
	const Wa__Message__ProtocolMessage *p = u->protocolmessage;
	const char *type = wa_msg_type(m);
	struct jb jb = { 0 }, *b = &jb;
	struct media md;
	size_t i;

	put(b, obj, "type", json_string(type));
	if (!strcmp(type, "edit")) {
		const Wa__Message *nu = p && p->editedmessage ? p->editedmessage : u;
		json_t *e;

		put_str(b, obj, "text", text_of(nu));
		e = new_obj(b, obj, "edit");
		if (p)
			put_key(b, e, "target", p->key);
	} else if (!strcmp(type, "revoke")) {
		put_key(b, new_obj(b, obj, "revoke"), "target", p->key);
	} else if (!strcmp(type, "history_sync")) {
		const Wa__Message__HistorySyncNotification *h = p->historysyncnotification;
		json_t *o = new_obj(b, obj, "history_sync");

		if (h) {
			if (h->has_synctype)
				put(b, o, "sync_type", enum_json(&wa__message__history_sync_type__descriptor, h->synctype));
			put_int(b, o, "chunk_order", h->has_chunkorder, h->chunkorder);
			put_uint64(b, o, "size", h->has_filelength, h->filelength);
			put_bytes(b, o, "sha256", h->has_filesha256, &h->filesha256);
			put_bytes(b, o, "enc_sha256", h->has_fileencsha256, &h->fileencsha256);
			put_str(b, o, "direct_path", h->directpath);
			put_bytes(b, o, "media_key", h->has_mediakey, &h->mediakey);
		}
	} else if (!strcmp(type, "protocol")) {
		json_t *o = new_obj(b, obj, "protocol");

		if (p->has_type)
			put(b, o, "type", enum_json(&wa__message__protocol_message__type__descriptor, p->type));
	} else {
		put_str(b, obj, "text", text_of(u));
		put_context(b, obj, context_of(u));
		if (media_of(u, &md))
			put_media(b, obj, &md);
	}

	if (!strcmp(type, "reaction")) {
		const Wa__Message__ReactionMessage *r = u->reactionmessage;
		json_t *o = new_obj(b, obj, "reaction");

		put(b, o, "emoji", jstr(r->text ? r->text : ""));
		put_key(b, o, "target", r->key);
	} else if (!strcmp(type, "poll")) {
		const Wa__Message__PollCreationMessage *pc = poll_of(u);
		json_t *o = new_obj(b, obj, "poll"), *a;

		put_str(b, o, "name", pc->name);
		a = new_arr(b, o, "options");
		for (i = 0; i < pc->n_options && !b->err; i++)
			append(b, a, jstr(pc->options[i]->optionname ? pc->options[i]->optionname : ""));
		put_int(b, o, "selectable", pc->has_selectableoptionscount, pc->selectableoptionscount);
	} else if (!strcmp(type, "location")) {
		const Wa__Message__LocationMessage *l = u->locationmessage;
		json_t *o = new_obj(b, obj, "location");

		/* JSON has no NaN or infinity: such a coordinate is left out */
		if (l->has_degreeslatitude && isfinite(l->degreeslatitude))
			put(b, o, "latitude", json_real(l->degreeslatitude));
		if (l->has_degreeslongitude && isfinite(l->degreeslongitude))
			put(b, o, "longitude", json_real(l->degreeslongitude));
		put_str(b, o, "name", l->name);
		put_str(b, o, "address", l->address);
	} else if (!strcmp(type, "contact")) {
		put(b, obj, "contact", contact_json(b, u->contactmessage));
	} else if (!strcmp(type, "contacts")) {
		json_t *a = new_arr(b, obj, "contacts");

		for (i = 0; i < u->contactsarraymessage->n_contacts && !b->err; i++)
			append(b, a, contact_json(b, u->contactsarraymessage->contacts[i]));
	}

	if (!b->err) {
		ProtobufCBinaryData r = { m->rawlen, m->raw };

		put(b, obj, "raw", b64(&r));
	}
	return b->err ? WA_ENOMEM : 0;
}

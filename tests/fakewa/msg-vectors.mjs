// msg-vectors.mjs: Messages of every kind lib/msg reads, made by Baileys'
// own encoder, with the fields wa-message(5) says the record gets
// (tests/0700-msg-baileys.t).
//
//   node msg-vectors.mjs gen DIR    writes DIR/vectors.jsonl and DIR/pt.b64
//   node msg-vectors.mjs check VECTORS OUT
//
// gen: one JSON line per case {"name","pt","want"}: pt is base64 of the
// Message bytes padded as Baileys pads them (writeRandomPadMax16; the
// first cases also with every pad length 1..16), want is what
// tests/helpers/wa-msgjson prints for it.  The Messages come from
// generateWAMessage (Baileys' real content builder: text, replies,
// mentions, forwards, media with a stand-in upload, location, contacts,
// reactions, edits, revokes, polls, view-once, disappearing settings)
// where Baileys can make them, else from proto.Message.encode.  The app-state
// key files are what Baileys' useMultiFileAuthState writes for the
// share, as process-message.js stores it.
//
// want.record is derived from the decoded Message by the rules of
// wa-message(5) written again here (unwrap order, type, text, quoted,
// media, ...), independently of lib/msg.
//
// check: compares wa-msgjson's lines with the wants; prints "same NAME"
// or "diff NAME" with both sides, one case per line.

import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { proto, generateWAMessage, useMultiFileAuthState } from 'baileys';
import { writeRandomPadMax16 } from 'baileys/lib/Utils/generics.js';

const b64 = (b) => Buffer.from(b).toString('base64');

// ---- the record, by wa-message(5) ---------------------------------------

const WRAPPERS = ['ephemeralMessage', 'viewOnceMessage', 'viewOnceMessageV2',
	'viewOnceMessageV2Extension', 'documentWithCaptionMessage'];
const T = proto.Message.ProtocolMessage.Type;

function plain(bytes) {
	return proto.Message.toObject(proto.Message.decode(bytes),
		{ longs: Number, enums: Number, bytes: String, defaults: false });
}

function unwrap(m) {
	let u = m, edited = false;
	if (u.deviceSentMessage?.message)
		u = u.deviceSentMessage.message;
	for (const w of WRAPPERS)
		if (u[w]?.message)
			u = u[w].message;
	if (u.editedMessage?.message) {
		u = u.editedMessage.message;
		edited = true;
	}
	return { u, edited };
}

const poll = (u) => u.pollCreationMessage || u.pollCreationMessageV2 || u.pollCreationMessageV3;
const MEDIA = [['imageMessage', 'image'], ['videoMessage', 'video'], ['ptvMessage', 'video'],
	['audioMessage', 'audio'], ['documentMessage', 'document'], ['stickerMessage', 'sticker']];

function typeOf(u, edited) {
	const p = u.protocolMessage;
	if (edited || p?.type === T.MESSAGE_EDIT)
		return 'edit';
	if (u.conversation != null)
		return 'text';
	if (u.extendedTextMessage)
		return 'extended_text';
	for (const [k, t] of MEDIA)
		if (u[k])
			return t;
	for (const [k, t] of [['locationMessage', 'location'], ['contactMessage', 'contact'],
		['contactsArrayMessage', 'contacts'], ['reactionMessage', 'reaction']])
		if (u[k])
			return t;
	if (poll(u))
		return 'poll';
	if (p?.type === T.REVOKE)
		return 'revoke';
	if (p?.type === T.HISTORY_SYNC_NOTIFICATION)
		return 'history_sync';
	return p ? 'protocol' : 'unknown';
}

function mediaOf(u) {
	for (const [k] of MEDIA)
		if (u[k])
			return u[k];
	return null;
}

function textOf(u) {
	if (!u)
		return undefined;
	if (u.conversation != null)
		return u.conversation;
	if (u.extendedTextMessage)
		return u.extendedTextMessage.text;
	return mediaOf(u)?.caption;
}

function contextOf(u) {
	const c = u.extendedTextMessage || mediaOf(u) || u.locationMessage || u.contactMessage ||
		u.contactsArrayMessage || poll(u);
	return c?.contextInfo;
}

function put(o, k, v) {
	if (v !== undefined && v !== null)
		o[k] = v;
}

function keyOf(k) {
	if (!k)
		return undefined;
	const o = {};
	put(o, 'id', k.id);
	put(o, 'chat', k.remoteJid);
	put(o, 'from_me', k.fromMe);
	put(o, 'sender', k.participant);
	return o;
}

const lower = (e, v) => {
	const name = Object.keys(e).find(k => e[k] === v);
	return name ? name.toLowerCase() : v;
};

function record(bytes) {
	const m = plain(bytes);
	const { u, edited } = unwrap(m);
	const type = typeOf(u, edited);
	const r = { type };
	const p = u.protocolMessage;
	if (type === 'edit') {
		put(r, 'text', textOf(p?.editedMessage || u));
		r.edit = {};
		put(r.edit, 'target', keyOf(p?.key));
	} else if (type === 'revoke') {
		r.revoke = {};
		put(r.revoke, 'target', keyOf(p.key));
	} else if (type === 'history_sync') {
		const h = p.historySyncNotification, o = r.history_sync = {};
		if (h) {
			if (h.syncType != null)
				o.sync_type = lower(proto.Message.HistorySyncType, h.syncType);
			put(o, 'chunk_order', h.chunkOrder);
			put(o, 'size', h.fileLength);
			put(o, 'sha256', h.fileSha256);
			put(o, 'enc_sha256', h.fileEncSha256);
			put(o, 'direct_path', h.directPath);
			put(o, 'media_key', h.mediaKey);
		}
	} else if (type === 'protocol') {
		r.protocol = {};
		if (p.type != null)
			r.protocol.type = lower(T, p.type);
	} else {
		put(r, 'text', textOf(u));
		const ci = contextOf(u);
		if (ci?.stanzaId) {
			r.quoted = { id: ci.stanzaId };
			put(r.quoted, 'sender', ci.participant);
			put(r.quoted, 'chat', ci.remoteJid);
		}
		if (ci?.mentionedJid?.length)
			r.mentions = ci.mentionedJid;
		if (ci?.isForwarded)
			r.forwarded = true;
		const md = mediaOf(u);
		if (md) {
			const o = r.media = {};
			put(o, 'mimetype', md.mimetype);
			put(o, 'size', md.fileLength);
			put(o, 'sha256', md.fileSha256);
			put(o, 'enc_sha256', md.fileEncSha256);
			put(o, 'direct_path', md.directPath);
			put(o, 'media_key', md.mediaKey);
			put(o, 'media_key_timestamp', md.mediaKeyTimestamp);
			put(o, 'url', md.url);
			put(o, 'file_name', u.documentMessage ? md.fileName : undefined);
			put(o, 'seconds', u.imageMessage || u.stickerMessage ? undefined : md.seconds);
			put(o, 'width', md.width);
			put(o, 'height', md.height);
			put(o, 'ptt', u.audioMessage ? md.ptt : undefined);
		}
	}
	if (type === 'reaction') {
		const x = u.reactionMessage;
		r.reaction = { emoji: x.text || '' };
		put(r.reaction, 'target', keyOf(x.key));
	} else if (type === 'poll') {
		const x = poll(u);
		r.poll = {};
		put(r.poll, 'name', x.name);
		r.poll.options = (x.options || []).map(o => o.optionName || '');
		put(r.poll, 'selectable', x.selectableOptionsCount);
	} else if (type === 'location') {
		const x = u.locationMessage;
		r.location = {};
		put(r.location, 'latitude', x.degreesLatitude);
		put(r.location, 'longitude', x.degreesLongitude);
		put(r.location, 'name', x.name);
		put(r.location, 'address', x.address);
	} else if (type === 'contact' || type === 'contacts') {
		const c = (x) => {
			const o = {};
			put(o, 'display_name', x.displayName);
			put(o, 'vcard', x.vcard);
			return o;
		};
		if (type === 'contact')
			r.contact = c(u.contactMessage);
		else
			r.contacts = (u.contactsArrayMessage.contacts || []).map(c);
	}
	r.raw = b64(bytes);
	return { r, m, u };
}

const INFRA = ['senderKeyDistributionMessage', 'fastRatchetKeySenderKeyDistributionMessage', 'messageContextInfo'];

async function want(bytes) {
	const { r, m, u } = record(bytes);
	const w = { record: r, history_sync: u.protocolMessage?.type === T.HISTORY_SYNC_NOTIFICATION };
	const keys = Object.keys(u).filter(k => !INFRA.includes(k) &&
		!(k === 'protocolMessage' && u.protocolMessage.type === T.APP_STATE_SYNC_KEY_SHARE));
	w.content = keys.length > 0 || Object.keys(u).length === 0;
	for (const x of [m, u]) {
		const s = x.senderKeyDistributionMessage;
		if (s?.axolotlSenderKeyDistributionMessage != null && !w.skdm) {
			w.skdm = { bytes: s.axolotlSenderKeyDistributionMessage };
			put(w.skdm, 'group', s.groupId);
		}
	}
	if (m.deviceSentMessage?.message)
		put(w, 'dsm', m.deviceSentMessage.destinationJid);
	const share = u.protocolMessage?.type === T.APP_STATE_SYNC_KEY_SHARE &&
		proto.Message.decode(bytes);
	if (share) {
		// the decoded objects exactly as process-message.js hands them to
		// the key store, through Baileys' own multi-file store
		const { u: du } = unwrap(proto.Message.decode(bytes));
		const keys = du.protocolMessage.appStateSyncKeyShare?.keys || [];
		if (keys.length)
			w.appstate = [];
		for (const { keyData, keyId } of keys) {
			const dir = mkdtempSync(join(tmpdir(), 'wa-msgvec-'));
			try {
				const { state } = await useMultiFileAuthState(dir);
				const strKeyId = Buffer.from(keyId.keyId).toString('base64');
				if (!strKeyId || !keyData)
					throw new Error('no id or no data');
				await state.keys.set({ 'app-state-sync-key': { [strKeyId]: keyData } });
				const f = readdirSync(dir).filter(n => n.startsWith('app-state-sync-key-'));
				w.appstate.push({ name: f[0], json: readFileSync(join(dir, f[0]), 'utf8') });
			} catch {
				w.appstate.push({ error: 'invalid argument' });
			} finally {
				rmSync(dir, { recursive: true, force: true });
			}
		}
	}
	return w;
}

// ---- the cases ----------------------------------------------------------

const ME = '15550000001@s.whatsapp.net', PEER = '15550000002@s.whatsapp.net';
const GROUP = '120363000000000001@g.us', LIDP = '99887766554433@lid';
const upload = async () => ({ mediaUrl: 'https://mmg.whatsapp.net/v/t62.7118-24/1_2_3.enc?ccb=11-4', directPath: '/v/t62.7118-24/1_2_3.enc?ccb=11-4&oh=01&oe=68' });
const thumb = Buffer.from('ffd8ffe000104a46494600', 'hex');
const body = (n) => Buffer.alloc(n, 0x5a);
const opts = { userJid: ME, upload, messageId: 'TESTID' };

async function wam(jid, content, extra = {}) {
	const w = await generateWAMessage(jid, content, { ...opts, ...extra });
	return w.message;
}

const quotedMsg = { key: { remoteJid: GROUP, fromMe: false, id: '3EB0QUOTED01', participant: PEER },
	message: { conversation: 'the question' } };
const quotedDm = { key: { remoteJid: PEER, fromMe: false, id: '3EB0QUOTED02' },
	message: { extendedTextMessage: { text: 'earlier' } } };
const target = { remoteJid: PEER, fromMe: true, id: '3EB0TARGET01' };
const gtarget = { remoteJid: GROUP, fromMe: false, id: '3EB0TARGET02', participant: LIDP };

async function cases() {
	const c = [];
	const add = (name, msg) => c.push([name, msg]);
	add('text', { conversation: 'hello from the phone' });
	add('text-utf8', { conversation: 'grüße 👋 x "q" \\ \n\t' });
	add('text-empty', { conversation: '' });
	add('extended-text', await wam(PEER, { text: 'plain extended' }));
	add('reply-in-group', await wam(GROUP, { text: 'the answer' }, { quoted: quotedMsg }));
	add('reply-other-chat', await wam(GROUP, { text: 'answer elsewhere' }, { quoted: quotedDm }));
	add('mentions', await wam(GROUP, { text: '@1 @2', mentions: [PEER, LIDP] }));
	add('forwarded', await wam(PEER, { forward: { key: { remoteJid: PEER, fromMe: false, id: 'F1' }, message: { conversation: 'fwd me' } } }));
	add('image', await wam(PEER, { image: body(3000), caption: 'a picture', jpegThumbnail: thumb, width: 640, height: 480 }));
	add('image-reply', await wam(GROUP, { image: body(100), jpegThumbnail: thumb, width: 1, height: 1 }, { quoted: quotedMsg }));
	add('video', await wam(PEER, { video: body(5000), caption: 'a film', seconds: 12, jpegThumbnail: thumb, width: 1280, height: 720 }));
	add('ptv', await wam(PEER, { video: body(500), ptv: true, seconds: 3, jpegThumbnail: thumb, width: 240, height: 240 }));
	add('gif', await wam(PEER, { video: body(400), gifPlayback: true, seconds: 2, jpegThumbnail: thumb }));
	add('audio-ptt', await wam(PEER, { audio: body(700), mimetype: 'audio/ogg; codecs=opus', seconds: 7, ptt: true, waveform: Buffer.alloc(64, 3) }));
	add('audio', await wam(PEER, { audio: body(800), mimetype: 'audio/mpeg', seconds: 181 }));
	add('document', await wam(PEER, { document: body(900), mimetype: 'application/pdf', fileName: 'report 2024.pdf' }));
	add('document-caption', await wam(PEER, { document: body(90), mimetype: 'text/plain', fileName: 'n.txt', caption: 'see this' }));
	add('sticker', await wam(PEER, { sticker: body(300), width: 512, height: 512 }));
	add('view-once-image', await wam(PEER, { image: body(200), caption: 'once', viewOnce: true, jpegThumbnail: thumb }));
	add('location', await wam(PEER, { location: { degreesLatitude: 52.520008, degreesLongitude: 13.404954, name: 'Alexanderplatz', address: '10178 Berlin' } }));
	add('location-bare', await wam(PEER, { location: { degreesLatitude: -33.8688, degreesLongitude: 151 } }));
	const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nTEL;type=CELL;waid=15550000003:+1 555 000 0003\nEND:VCARD';
	add('contact', await wam(PEER, { contacts: { displayName: 'Ann', contacts: [{ displayName: 'Ann', vcard }] } }));
	add('contacts', await wam(PEER, { contacts: { displayName: '2 contacts', contacts: [{ displayName: 'Ann', vcard }, { displayName: 'Bob', vcard: vcard.replace(/Ann/g, 'Bob') }] } }));
	add('reaction', await wam(PEER, { react: { text: '👍', key: target } }));
	add('reaction-group', await wam(GROUP, { react: { text: '❤️', key: gtarget } }));
	add('reaction-removed', await wam(PEER, { react: { text: '', key: target } }));
	add('edit', await wam(PEER, { text: 'fixed typo', edit: target }));
	add('edit-wrapped', { editedMessage: { message: { protocolMessage: { key: target, type: T.MESSAGE_EDIT, editedMessage: { conversation: 'wrapped edit' }, timestampMs: 1700000000000 } } } });
	add('edit-caption', { protocolMessage: { key: gtarget, type: T.MESSAGE_EDIT, editedMessage: { imageMessage: { caption: 'new caption' } } } });
	add('revoke', await wam(PEER, { delete: target }));
	add('revoke-group', await wam(GROUP, { delete: gtarget }));
	add('poll-multi', await wam(GROUP, { poll: { name: 'Lunch?', values: ['pizza', 'pasta', 'salad'], selectableCount: 2 } }));
	add('poll-single', await wam(GROUP, { poll: { name: 'Yes or no', values: ['yes', 'no'], selectableCount: 1 } }));
	add('poll-announce', await wam(GROUP, { poll: { name: 'Any', values: ['a', 'b'], toAnnouncementGroup: true } }));
	add('device-sent', { deviceSentMessage: { destinationJid: PEER, message: { conversation: 'sent from my phone' } }, messageContextInfo: { deviceListMetadataVersion: 2 } });
	add('device-sent-ephemeral', { deviceSentMessage: { destinationJid: GROUP, message: { ephemeralMessage: { message: { extendedTextMessage: { text: 'vanishing', contextInfo: { expiration: 86400 } } } } } } });
	add('ephemeral-text', { ephemeralMessage: { message: { extendedTextMessage: { text: 'disappears', contextInfo: { expiration: 604800 } } } } });
	add('ephemeral-setting', await wam(PEER, { disappearingMessagesInChat: true }));
	add('view-once-v2', { viewOnceMessageV2: { message: { videoMessage: { caption: 'v2', seconds: 4, mimetype: 'video/mp4' } } } });
	add('view-once-v2-ext', { viewOnceMessageV2Extension: { message: { audioMessage: { ptt: true, seconds: 2 } } } });
	add('document-with-caption', { documentWithCaptionMessage: { message: { documentMessage: { fileName: 'x.zip', caption: 'zipped', mimetype: 'application/zip', fileLength: 123456789012 } } } });
	add('share-phone-number', await wam(PEER, { sharePhoneNumber: true }));
	add('protocol-unknown-type', { protocolMessage: { type: 99 } });
	add('protocol-no-type', { protocolMessage: { ephemeralExpiration: 5 } });
	const skdm = Buffer.concat([Buffer.from([0x33, 0x0a, 0x21]), Buffer.alloc(40, 9)]);
	add('skdm-only', { senderKeyDistributionMessage: { groupId: GROUP, axolotlSenderKeyDistributionMessage: skdm }, messageContextInfo: { messageSecret: Buffer.alloc(32, 1) } });
	add('skdm-with-text', { senderKeyDistributionMessage: { groupId: GROUP, axolotlSenderKeyDistributionMessage: skdm }, conversation: 'first group message' });
	add('skdm-in-dsm', { deviceSentMessage: { destinationJid: GROUP, message: { senderKeyDistributionMessage: { groupId: GROUP, axolotlSenderKeyDistributionMessage: skdm } } } });
	add('context-info-only', { messageContextInfo: { deviceListMetadataVersion: 2, messageSecret: Buffer.alloc(32, 2) } });
	const key = (id, n, ts) => ({ keyId: { keyId: Buffer.from(id) }, keyData: { keyData: Buffer.alloc(32, n), fingerprint: { rawId: 3000000000 + n, currentIndex: n, deviceIndexes: [0, n] }, timestamp: ts } });
	add('app-state-keys', { protocolMessage: { type: T.APP_STATE_SYNC_KEY_SHARE, appStateSyncKeyShare: { keys: [
		key([0, 0, 0, 0, 0x5c, 0xf1], 1, 1700000000123),
		key([0xff, 0xff, 0xfe], 2, 1),				// base64 has '/': "__" in the name
		key([0xfb, 0xef, 0xbe], 3, 1700000000999),		// base64 has '+'
		{ keyId: { keyId: Buffer.from([1, 2, 3, 4, 5, 6]) }, keyData: { keyData: Buffer.alloc(32, 4) } },
		{ keyId: { keyId: Buffer.from([9, 9]) }, keyData: {} },
		{ keyId: { keyId: Buffer.alloc(0) }, keyData: { keyData: Buffer.alloc(32, 5) } },
		{ keyId: { keyId: Buffer.from([7, 7, 7]) } },
	] } } });
	add('app-state-keys-in-dsm', { deviceSentMessage: { destinationJid: ME, message: { protocolMessage: { type: T.APP_STATE_SYNC_KEY_SHARE, appStateSyncKeyShare: { keys: [key([0, 0, 0, 1], 6, 1700000000000)] } } } } });
	add('history-sync', { protocolMessage: { type: T.HISTORY_SYNC_NOTIFICATION, historySyncNotification: {
		fileSha256: Buffer.alloc(32, 0xa1), fileLength: 48213, mediaKey: Buffer.alloc(32, 0xa2),
		fileEncSha256: Buffer.alloc(32, 0xa3), directPath: '/v/t62.36145-24/123_456.enc?ccb=11-4&oh=01&oe=68',
		syncType: proto.Message.HistorySyncType.INITIAL_BOOTSTRAP, chunkOrder: 1, originalMessageId: 'ABCD', progress: 10 } } });
	add('history-sync-recent', { protocolMessage: { type: T.HISTORY_SYNC_NOTIFICATION, historySyncNotification: { syncType: proto.Message.HistorySyncType.RECENT, chunkOrder: 3, fileLength: 1 } } });
	add('unknown-group-invite', { groupInviteMessage: { groupJid: GROUP, inviteCode: 'abc', groupName: 'g' } });
	add('unknown-empty', {});
	return c;
}

// ---- main ---------------------------------------------------------------

function canon(v) {
	if (Array.isArray(v))
		return v.map(canon);
	if (v && typeof v === 'object')
		return Object.fromEntries(Object.keys(v).sort().map(k => [k, canon(v[k])]));
	return v;
}

const [mode, a1, a2] = process.argv.slice(2);
if (mode === 'gen') {
	const out = [];
	for (const [name, msg] of await cases()) {
		const bytes = proto.Message.encode(msg).finish();
		const w = canon(await want(bytes));
		out.push({ name, pt: b64(writeRandomPadMax16(Buffer.from(bytes))), want: w });
		if (name === 'text' || name === 'reaction')
			for (let n = 1; n <= 16; n++)
				out.push({ name: `${name}-pad${n}`, pt: b64(Buffer.concat([bytes, Buffer.alloc(n, n)])), want: w });
	}
	writeFileSync(join(a1, 'vectors.jsonl'), out.map(o => JSON.stringify(o)).join('\n') + '\n');
	writeFileSync(join(a1, 'pt.b64'), out.map(o => o.pt).join('\n') + '\n');
} else if (mode === 'check') {
	const vec = readFileSync(a1, 'utf8').trim().split('\n').map(l => JSON.parse(l));
	const got = readFileSync(a2, 'utf8').trim().split('\n');
	vec.forEach((v, i) => {
		let g;
		try {
			g = JSON.stringify(canon(JSON.parse(got[i])));
		} catch {
			g = got[i];
		}
		const w = JSON.stringify(v.want);
		console.log(g === w ? `same ${v.name}` : `diff ${v.name}\n  got:  ${g}\n  want: ${w}`);
	});
	if (got.length !== vec.length)
		console.log(`diff count: ${got.length} outputs for ${vec.length} cases`);
} else {
	console.error('usage: msg-vectors.mjs gen DIR | check VECTORS OUT');
	process.exit(64);
}

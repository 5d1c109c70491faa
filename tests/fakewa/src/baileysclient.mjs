#!/usr/bin/env node
// A line-driven Baileys client for tests: the real makeWASocket with a
// useMultiFileAuthState folder, pointed at fakewa.  Baileys' pinned
// WhatsApp root key is replaced by the test root (--root HEX) in this
// process only, as in noiseclient.mjs.
//
// usage: node baileysclient.mjs --root HEX --ws URL
//
// One command per line on stdin, one answer line on stdout:
//
//   start DIR [qr=MS] [keepalive=MS] [init=0|1] [keep=1]
//                        -> ok N        (socket N on DIR's creds, read from
//                                        disk; the previous socket is ended
//                                        unless keep=1)
//   next [MS] [#N] [TYPE...]
//                        -> the next event (of socket N, of one of TYPEs),
//                           or timeout:
//                           qr STRING | open JID LID | close CODE MESSAGE [DATA] |
//                           newlogin | creds
//                           (DATA: the Boom's data as JSON: <failure> attrs,
//                           or the stream error's child node)
//   paircode PHONE [CODE] -> code XXXXXXXX   (sock.requestPairingCode)
//
// Several sockets (accounts) can run at once: start … keep=1 keeps the
// others; the commands below take an optional #N (default: the newest).
//
//   online [#N] NAME     -> ok        (push name NAME, presence available:
//                                      Baileys then sends delivery receipts
//                                      without type instead of "inactive")
//   send [#N] JID TEXT… [reply=ID]  -> sent ID   (1:1 or group text; reply
//                                      quotes a stored message)
//   react [#N] ID EMOJI  -> sent ID2   (reaction to a stored message)
//   edit [#N] ID TEXT…   -> sent ID2   (edit of a message this socket sent)
//   revoke [#N] ID       -> sent ID2   (delete for everyone)
//   image [#N] JID [CAPTION…]  -> sent ID  (imageMessage with metadata only:
//                                      fake url/directPath/mediaKey, no upload)
//   video [#N] JID [CAPTION…]  -> sent ID  (videoMessage, video/mp4, 7 s; as image)
//   audio [#N] JID       -> sent ID   (audioMessage, ptt voice note, ogg/opus, 3 s)
//   document [#N] JID FILENAME [TITLE…] -> sent ID  (documentMessage, application/pdf)
//   sticker [#N] JID     -> sent ID   (stickerMessage, image/webp 512x512)
//                                     (media: fileLength 12345, random mediaKey,
//                                      fileSha256, fileEncSha256; "msg ID" shows them)
//   reply [#N] JID ID TEXT…  -> sent ID2 (extendedTextMessage quoting message ID
//                                      in chat JID: the stored message if this
//                                      socket has it, else a bare key {JID, ID})
//   location [#N] JID LAT LON [NAME…] -> sent ID  (locationMessage)
//   contact [#N] JID NAME PHONE -> sent ID  (contactMessage with a vCard 3.0:
//                                      FN NAME, TEL;waid=PHONE)
//   poll [#N] JID NAME OPTION… -> sent ID  (pollCreationMessage, multiple choice;
//                                      one word each; messageContextInfo secret)
//   many [#N] JID COUNT [PREFIX] -> sent ID1 … IDCOUNT  (COUNT texts "PREFIX 1"
//                                      … "PREFIX COUNT", default PREFIX "m", each
//                                      sent after the previous one returned)
//   Every sending command takes a group JID (…@g.us) as well as a user JID.
//   msg [#N] ID          -> the stored WAMessage as JSON (key, message, …)
//   read [#N] ID         -> ok        (read receipt for a stored message)
//   hold [#N]            -> ok        (every read of the Signal key store
//                                      hangs from now on: incoming messages
//                                      are neither decrypted nor acked, as
//                                      in a client that dies before acking)
//
// next also reports, for socket N:
//   message ID FROM TYPE TEXT   (messages.upsert; FROM = participant or chat,
//                                TYPE the Message field, TEXT its text/caption/
//                                emoji/edited text/file name/location name/
//                                contact or poll name or "-"; failed decryption:
//                                TYPE "stub" and the error)
//   update ID STATUS CHAT       (messages.update status of our messages:
//                                SERVER_ACK, DELIVERY_ACK, READ, PLAYED)
//   receipt ID USER delivered|read   (message-receipt.update, groups)
//   creds                -> {"me":…,"platform":…,"registered":…,"account":bool,…}
//   logout               -> ok          (sock.logout())
//   end [#N]             -> ok          (sock.end(), no reconnect)
//   quit
//
// Events not asked for stay queued.  Baileys never reconnects by itself;
// the test does, with another start (e.g. after "close 515").

import { createInterface } from 'readline';
import makeWASocket, { generateWAMessageFromContent, proto, useMultiFileAuthState } from 'baileys';
import { randomBytes } from 'crypto';
import { WA_CERT_DETAILS } from 'baileys/lib/Defaults/index.js';

const args = process.argv.slice(2);
const opt = {};
for (let i = 0; i < args.length; i += 2)
	opt[args[i].replace(/^--/, '')] = args[i + 1];
if (!/^[0-9a-f]{64}$/.test(opt.root ?? '') || !opt.ws) {
	process.stderr.write('usage: node baileysclient.mjs --root HEX --ws URL\n');
	process.exit(100);
}
WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(opt.root, 'hex');
// stdout carries only answer lines: libsignal console.log()s session
// changes ("Closing session: SessionEntry {…"), so the console goes to stderr.
for (const k of ['log', 'info', 'debug', 'warn'])
	console[k] = (...a) => { if (debug) process.stderr.write(a.map(String).join(' ') + '\n'); };

const debug = !!process.env.FAKEWA_CLIENT_DEBUG;
const say = level => (obj, msg) => {
	if (debug)
		process.stderr.write(`[baileys ${level}] ${typeof obj === 'string' ? obj : `${msg ?? ''} ${safe(obj)}`}\n`);
};
function safe(o) {
	try {
		return JSON.stringify(o, (k, v) => (v && v.type === 'Buffer' ? '<buf>' : v)).slice(0, 600);
	} catch {
		return String(o);
	}
}
const logger = {
	level: debug ? 'debug' : 'silent',
	child() {
		return logger;
	},
	trace() {},
	debug: say('debug'), info: say('info'), warn: say('warn'), error: say('error'), fatal: say('fatal')
};

let sock = null;
let state = null;
let sockNo = 0;
let saving = Promise.resolve();
const socks = new Map(); // N -> { sock, state, store: Map(id -> WAMessage), sent: Set(id), hold }
const queue = [];
let waiter = null;

function push(ev) {
	if (waiter && waiter.want(ev)) {
		const w = waiter;
		waiter = null;
		clearTimeout(w.timer);
		w.resolve(ev);
		return;
	}
	queue.push(ev);
}

function next(types, ms, only) {
	const want = ev => (!types.length || types.includes(ev.type)) && (only === undefined || ev.sock === only);
	const i = queue.findIndex(want);
	if (i >= 0)
		return Promise.resolve(queue.splice(i, 1)[0]);
	return new Promise(resolve => {
		waiter = { want, resolve, timer: setTimeout(() => { waiter = null; resolve({ type: 'timeout' }); }, ms) };
	});
}

function render(ev) {
	switch (ev.type) {
	case 'qr': return `qr ${ev.qr}`;
	case 'open': return `open ${ev.jid} ${ev.lid}`;
	case 'close': return `close ${ev.code} ${ev.message}${ev.data ? ' ' + ev.data : ''}`;
	case 'message': return `message ${ev.id} ${ev.from} ${ev.kind} ${ev.text}`;
	case 'update': return `update ${ev.id} ${ev.status} ${ev.chat}`;
	case 'receipt': return `receipt ${ev.id} ${ev.user} ${ev.what}`;
	default: return ev.type;
	}
}

async function start(dir, flags) {
	if (sock && !flags.includes('keep=1')) {
		const s = sock;
		sock = null;
		s.ev.removeAllListeners();
		s.end(undefined);
		for (const [n, x] of socks) {
			if (x.sock === s)
				socks.delete(n);
		}
	}
	await saving;
	const flag = (name, def) => {
		const f = flags.find(x => x.startsWith(name + '='));
		return f ? f.slice(name.length + 1) : def;
	};
	const auth = await useMultiFileAuthState(dir);
	state = auth.state;
	const slot = { state, store: new Map(), sent: new Set(), hold: false };
	const keys = state.keys;
	const held = () => new Promise(() => {});
	const s = makeWASocket({
		auth: {
			creds: state.creds,
			keys: {
				get: (type, ids) => (slot.hold ? held() : keys.get(type, ids)),
				set: data => (slot.hold ? held() : keys.set(data)),
				clear: keys.clear ? () => keys.clear() : undefined
			}
		},
		logger,
		waWebSocketUrl: opt.ws,
		qrTimeout: +flag('qr', 0) || undefined,
		keepAliveIntervalMs: +flag('keepalive', 30000),
		connectTimeoutMs: 10000,
		defaultQueryTimeoutMs: 10000,
		fireInitQueries: flag('init', '1') === '1',
		markOnlineOnConnect: false,
		syncFullHistory: false,
		// No phone sends history here: without this Baileys buffers every
		// event for 20 s after the offline backlog of a first connection,
		// waiting for a history-sync notification (chats.js AwaitingInitialSync).
		shouldSyncHistoryMessage: () => false,
		// Resends after a retry receipt take the message from here when
		// Baileys' own recent-message cache misses (it is keyed by the chat
		// JID, the receipt names the device).  A fast receiver's retry
		// receipt can come before sendMessage returns (and sendAs stores
		// the message): wait for the send in flight first.
		getMessage: async key => {
			if (!slot.store.has(key.id) && slot.inflight)
				await slot.inflight;
			return slot.store.get(key.id)?.message ?? undefined;
		}
	});
	sock = s;
	const no = ++sockNo;
	slot.sock = s;
	socks.set(no, slot);
	watchMessages(s, no, slot);
	const creds = state.creds;
	s.ev.on('creds.update', () => {
		saving = saving.then(() => auth.saveCreds()).catch(err => process.stderr.write(`saveCreds: ${err.message}\n`));
		push({ type: 'creds', sock: no });
	});
	s.ev.on('connection.update', u => {
		if (u.qr)
			push({ type: 'qr', sock: no, qr: u.qr });
		if (u.isNewLogin)
			push({ type: 'newlogin', sock: no });
		if (u.connection === 'open')
			push({ type: 'open', sock: no, jid: creds.me?.id, lid: creds.me?.lid ?? '-' });
		if (u.connection === 'close') {
			const err = u.lastDisconnect?.error;
			push({
				type: 'close', sock: no, code: err?.output?.statusCode ?? 0,
				message: String(err?.message ?? '').replace(/\s+/g, ' '), data: boomData(err?.data)
			});
		}
	});
	return `ok ${no}`;
}

const STATUS = Object.fromEntries(Object.entries(proto.WebMessageInfo.Status).map(([k, v]) => [v, k]));
const PTYPE = Object.fromEntries(Object.entries(proto.Message.ProtocolMessage.Type).map(([k, v]) => [v, k]));
const oneLine = t => String(t ?? '').replace(/\s+/g, ' ').trim() || '-';

/** The Message field that matters and its text. */
function describe(m) {
	const msg = m.message ?? {};
	const kind = Object.keys(msg).find(k => k !== 'messageContextInfo' && k !== 'senderKeyDistributionMessage' && msg[k]) ?? 'none';
	const c = msg[kind] ?? {};
	let text = '';
	if (kind === 'conversation')
		text = c;
	else if (kind === 'extendedTextMessage')
		text = c.text;
	else if (kind === 'reactionMessage')
		text = c.text;
	else if (kind === 'imageMessage' || kind === 'videoMessage')
		text = c.caption;
	else if (kind === 'documentMessage')
		text = c.fileName;
	else if (kind === 'locationMessage')
		text = c.name;
	else if (kind === 'contactMessage')
		text = c.displayName;
	else if (/^pollCreationMessage/.test(kind))
		text = c.name;
	else if (kind === 'protocolMessage')
		text = `${PTYPE[c.type] ?? c.type} ${c.key?.id ?? ''} ${c.editedMessage?.conversation ?? c.editedMessage?.extendedTextMessage?.text ?? ''}`;
	else if (kind === 'editedMessage')
		text = c.message?.protocolMessage?.editedMessage?.conversation ?? '';
	return { kind, text: oneLine(text) };
}

function watchMessages(s, no, slot) {
	s.ev.on('messages.upsert', ({ messages }) => {
		for (const m of messages) {
			const id = m.key?.id;
			if (!id)
				continue;
			slot.store.set(id, m);
			if (slot.sent.has(id))
				continue;
			const from = m.key.participant || m.key.remoteJid;
			if (m.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT) {
				push({ type: 'message', sock: no, id, from, kind: 'stub', text: oneLine(m.messageStubParameters?.join(' ')) });
				continue;
			}
			if (!m.message)
				continue;
			const d = describe(m);
			push({ type: 'message', sock: no, id, from, kind: d.kind, text: d.text });
		}
	});
	s.ev.on('messages.update', updates => {
		for (const { key, update } of updates) {
			if (update.status !== undefined && update.status !== null && key.fromMe)
				push({ type: 'update', sock: no, id: key.id, status: STATUS[update.status] ?? update.status, chat: key.remoteJid });
		}
	});
	s.ev.on('message-receipt.update', list => {
		for (const { key, receipt } of list)
			push({ type: 'receipt', sock: no, id: key.id, user: receipt.userJid, what: receipt.readTimestamp ? 'read' : 'delivered' });
	});
}

function pick(rest) {
	let n = sockNo;
	if (/^#\d+$/.test(rest[0] ?? ''))
		n = +rest.shift().slice(1);
	const slot = socks.get(n);
	if (!slot)
		throw new Error(`no socket #${n}`);
	return slot;
}

async function sendAs(slot, jid, content, opts) {
	const p = slot.sock.sendMessage(jid, content, opts);
	slot.inflight = p.then(() => {}, () => {});
	const m = await p;
	slot.sent.add(m.key.id);
	slot.store.set(m.key.id, m);
	return `sent ${m.key.id}`;
}

/** A media message with metadata only (fake url, directPath and keys, no
 *  upload), built as a bot builds one and relayed as sendMessage would. */
async function sendMedia(slot, jid, field, fields) {
	const me = slot.state.creds.me.id;
	const msg = generateWAMessageFromContent(jid, {
		[field]: {
			url: 'https://mmg.whatsapp.net/v/t62.7118-24/fakewa.enc',
			directPath: '/v/t62.7118-24/fakewa.enc?ccb=11-4',
			mediaKey: randomBytes(32), fileSha256: randomBytes(32), fileEncSha256: randomBytes(32),
			fileLength: 12345, mediaKeyTimestamp: Math.floor(Date.now() / 1000), ...fields
		}
	}, { userJid: me });
	slot.sent.add(msg.key.id);
	slot.store.set(msg.key.id, msg);
	await slot.sock.relayMessage(jid, msg.message, { messageId: msg.key.id });
	return `sent ${msg.key.id}`;
}

function stored(slot, id) {
	const m = slot.store.get(id);
	if (!m)
		throw new Error(`no stored message ${id}`);
	return m;
}

async function messaging(cmd, rest) {
	const slot = pick(rest);
	switch (cmd) {
	case 'online': {
		slot.state.creds.me.name = rest.join(' ') || 'fakewa';
		await slot.sock.sendPresenceUpdate('available');
		return 'ok';
	}
	case 'send': {
		const jid = rest.shift();
		let quoted;
		const last = rest[rest.length - 1] ?? '';
		if (last.startsWith('reply=')) {
			rest.pop();
			quoted = stored(slot, last.slice(6));
		}
		return sendAs(slot, jid, { text: rest.join(' ') }, quoted ? { quoted } : {});
	}
	case 'react': {
		const m = stored(slot, rest[0]);
		return sendAs(slot, m.key.remoteJid, { react: { text: rest[1] ?? '', key: m.key } });
	}
	case 'edit': {
		const m = stored(slot, rest.shift());
		return sendAs(slot, m.key.remoteJid, { text: rest.join(' '), edit: m.key });
	}
	case 'revoke': {
		const m = stored(slot, rest[0]);
		return sendAs(slot, m.key.remoteJid, { delete: m.key });
	}
	case 'image': {
		const jid = rest.shift();
		return sendMedia(slot, jid, 'imageMessage', {
			mimetype: 'image/jpeg', width: 640, height: 480, caption: rest.join(' ') || undefined
		});
	}
	case 'video': {
		const jid = rest.shift();
		return sendMedia(slot, jid, 'videoMessage', {
			mimetype: 'video/mp4', seconds: 7, width: 640, height: 360, caption: rest.join(' ') || undefined
		});
	}
	case 'audio':
		return sendMedia(slot, rest[0], 'audioMessage', { mimetype: 'audio/ogg; codecs=opus', seconds: 3, ptt: true });
	case 'document': {
		const jid = rest.shift();
		const fileName = rest.shift() ?? 'fakewa.pdf';
		return sendMedia(slot, jid, 'documentMessage', {
			mimetype: 'application/pdf', fileName, title: rest.join(' ') || fileName, pageCount: 2
		});
	}
	case 'sticker':
		return sendMedia(slot, rest[0], 'stickerMessage', { mimetype: 'image/webp', width: 512, height: 512, isAnimated: false });
	case 'reply': {
		const jid = rest.shift();
		const id = rest.shift();
		const quoted = slot.store.get(id) ?? { key: { remoteJid: jid, fromMe: false, id }, message: { conversation: '' } };
		return sendAs(slot, jid, { text: rest.join(' ') }, { quoted });
	}
	case 'location': {
		const jid = rest.shift();
		const lat = Number(rest.shift());
		const lon = Number(rest.shift());
		return sendAs(slot, jid, { location: { degreesLatitude: lat, degreesLongitude: lon, name: rest.join(' ') || undefined } });
	}
	case 'contact': {
		const [jid, name, phone] = rest;
		const vcard = `BEGIN:VCARD\nVERSION:3.0\nFN:${name}\nTEL;type=CELL;type=VOICE;waid=${phone}:+${phone}\nEND:VCARD`;
		return sendAs(slot, jid, { contacts: { displayName: name, contacts: [{ displayName: name, vcard }] } });
	}
	case 'poll': {
		const jid = rest.shift();
		const name = rest.shift();
		return sendAs(slot, jid, { poll: { name, values: rest, selectableCount: 0 } });
	}
	case 'many': {
		const jid = rest.shift();
		const count = +rest.shift();
		const prefix = rest.join(' ') || 'm';
		const ids = [];
		for (let i = 1; i <= count; i++)
			ids.push((await sendAs(slot, jid, { text: `${prefix} ${i}` })).slice(5));
		return `sent ${ids.join(' ')}`;
	}
	case 'msg': {
		const m = stored(slot, rest[0]);
		return JSON.stringify(m, (k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('base64') : v));
	}
	case 'read':
		await slot.sock.readMessages([stored(slot, rest[0]).key]);
		return 'ok';
	case 'hold':
		slot.hold = true;
		return 'ok';
	}
	return `error unknown command ${cmd}`;
}

function boomData(d) {
	if (!d || typeof d !== 'object')
		return null;
	if (typeof d.tag === 'string')
		return JSON.stringify({ tag: d.tag, attrs: d.attrs ?? {} });
	if (Object.values(d).every(v => typeof v === 'string'))
		return JSON.stringify(d);
	return null;
}

function credsSummary() {
	const c = state?.creds;
	if (!c)
		return '{}';
	return JSON.stringify({
		me: c.me ?? null,
		platform: c.platform ?? null,
		registered: !!c.registered,
		account: !!c.account,
		pairingCode: c.pairingCode ?? null,
		nextPreKeyId: c.nextPreKeyId,
		firstUnuploadedPreKeyId: c.firstUnuploadedPreKeyId,
		signalIdentities: (c.signalIdentities ?? []).length
	});
}

async function run(line) {
	const [cmd, ...rest] = line.trim().split(/\s+/);
	switch (cmd) {
	case 'start':
		if (!rest[0])
			return 'error usage: start DIR [qr=MS] [keepalive=MS] [init=0|1] [keep=1]';
		return start(rest[0], rest.slice(1));
	case 'next': {
		let ms = 10000;
		let only;
		if (/^\d+$/.test(rest[0] ?? ''))
			ms = +rest.shift();
		if (/^#\d+$/.test(rest[0] ?? ''))
			only = +rest.shift().slice(1);
		return render(await next(rest, ms, only));
	}
	case 'paircode': {
		if (!sock)
			return 'error no socket';
		const code = await sock.requestPairingCode(rest[0], rest[1]);
		return `code ${code}`;
	}
	case 'creds':
		await saving;
		return credsSummary();
	case 'logout':
		if (!sock)
			return 'error no socket';
		await sock.logout();
		return 'ok';
	case 'end': {
		// end [#N]: that socket (default: the newest)
		const n = /^#\d+$/.test(rest[0] ?? '') ? +rest[0].slice(1) : null;
		const s = n === null ? sock : socks.get(n)?.sock;
		if (s) {
			if (s === sock)
				sock = null;
			s.ev.removeAllListeners();
			s.end(undefined);
			for (const [k, x] of socks) {
				if (x.sock === s)
					socks.delete(k);
			}
		}
		await saving;
		return 'ok';
	}
	case 'quit':
		await saving;
		process.exit(0);
		break;
	case 'online': case 'send': case 'react': case 'edit': case 'revoke': case 'image': case 'msg': case 'hold': case 'read':
	case 'video': case 'audio': case 'document': case 'sticker': case 'reply': case 'location': case 'contact': case 'poll':
	case 'many':
		return messaging(cmd, rest);
	default:
		return `error unknown command ${cmd}`;
	}
}

let chain = Promise.resolve();
const rl = createInterface({ input: process.stdin });
rl.on('line', line => {
	chain = chain.then(async () => {
		let out;
		try {
			out = await run(line);
		} catch (err) {
			out = `error ${err.message}`;
		}
		process.stdout.write(String(out).replace(/\n/g, ' ') + '\n');
	});
});
rl.on('close', () => chain.then(async () => {
	await saving;
	process.exit(0);
}));
process.on('unhandledRejection', err => {
	if (debug)
		process.stderr.write(`unhandled: ${err?.stack ?? err}\n`);
});

// Floods: fakewa itself sends many 1:1 messages to a device, from sender
// accounts whose Signal identities live in this process (libsignal-node,
// the library Baileys uses), for benchmarks of the receiving side.
//
//   POST /floods {to, count, text?, phone?, senders?}
//     to       user JID (every reachable device of the account) or device JID
//     count    messages (1..100000); text: "TEXT N" (default "flood N")
//     phone    the first sender's number (default 15559990000; device 1,
//              via "flood")
//     senders  how many sender accounts (1..64, default 1): phone, phone+1,
//              ...; message N comes from sender (N-1) mod senders
//   -> {from, senders, to, devices, count, first, last, encryptMs, routeMs, seq}
//
// Each message is a Message{conversation} padded as Baileys pads, encrypted
// with a session built from the target's pre-key bundle in the registry (one
// pre-key consumed on a sender's first flood to a device; later floods go on
// with the same session, so its first message is a pkmsg and the rest msg
// until the receiver answers).  All of a flood's messages are encrypted
// first, then handed to the router (messaging.mjs) in one go, exactly as a
// client's <message> with <participants>, so queues, offline delivery,
// acks and receipts work as for any sender; the receiver sees a burst, not
// fakewa's encryption rate (encryptMs, routeMs: the two phases).  Stanzas
// for the flood devices themselves (receipts) are counted, not queued.
// Event: flood {…}.

import { randomBytes } from 'crypto';
import * as libsignal from 'libsignal';
import { proto } from 'baileys/WAProto/index.js';
import { Curve } from 'baileys/lib/Utils/crypto.js';
import { reachableDevices, resolve } from './addressing.mjs';
import { log } from './log.mjs';

const pub33 = hex => Buffer.concat([Buffer.from([5]), Buffer.from(hex, 'hex')]);

function pad(buf) {
	const n = (randomBytes(1)[0] & 0x0f) + 1;
	return Buffer.concat([buf, Buffer.alloc(n, n)]);
}

const msgId = () => '3EB0' + randomBytes(9).toString('hex').toUpperCase();

/** The in-process sender: account, device record and Signal store. */
function sender(ctx, phone) {
	const f = ctx.floods ?? (ctx.floods = { senders: new Map(), received: 0 });
	let s = f.senders.get(phone);
	if (s)
		return s;
	const accounts = ctx.accounts;
	const a = accounts.getOrCreate(phone);
	const identity = Curve.generateKeyPair();
	const spk = Curve.generateKeyPair();
	const registrationId = 1 + (randomBytes(2).readUInt16BE(0) % 16383);
	let d = a.devices[1];
	if (!d || d.via !== 'flood')
		d = accounts.addDevice(a, { device: 1, via: 'flood', registrationId });
	// New keys for each run of fakewa: receivers trust on first use.
	d.identityKey = identity.public.toString('hex');
	d.signedPreKey = { id: 1, pub: spk.public.toString('hex'), sig: null, valid: null };
	d.registrationId = registrationId;
	accounts.save();
	const sessions = new Map();
	const store = {
		loadSession: async id => sessions.get(id),
		storeSession: async (id, rec) => sessions.set(id, rec),
		isTrustedIdentity: () => true,
		loadIdentityKey: async () => undefined,
		saveIdentity: async () => false,
		getOurRegistrationId: () => registrationId,
		getOurIdentity: () => ({ privKey: identity.private, pubKey: pub33(identity.public.toString('hex')) }),
		loadPreKey: async () => undefined,
		removePreKey: async () => {},
		loadSignedPreKey: () => ({ privKey: spk.private, pubKey: pub33(spk.public.toString('hex')) })
	};
	s = { account: a, device: d, store, sessions };
	f.senders.set(phone, s);
	return s;
}

async function ensureSession(ctx, s, d) {
	const addr = new libsignal.ProtocolAddress(d.lid.replace(/:.*/, '').replace(/@.*/, '') + '_1', d.device);
	if (s.sessions.has(addr.toString()))
		return addr;
	const ids = Object.keys(d.preKeys).map(Number).sort((x, y) => x - y);
	const pre = ids.length ? { keyId: ids[0], publicKey: pub33(d.preKeys[ids[0]]) } : undefined;
	if (pre)
		ctx.accounts.take(d, 1);
	await new libsignal.SessionBuilder(s.store, addr).initOutgoing({
		registrationId: d.registrationId ?? 0,
		identityKey: pub33(d.identityKey),
		signedPreKey: { keyId: d.signedPreKey.id, publicKey: pub33(d.signedPreKey.pub), signature: Buffer.from(d.signedPreKey.sig ?? '', 'hex') },
		preKey: pre
	});
	return addr;
}

export async function flood(ctx, b) {
	const err = (status, message) => Object.assign(new Error(message), { status });
	const count = Number(b.count ?? 1);
	if (!Number.isInteger(count) || count < 1 || count > 100000)
		throw err(400, 'count must be 1..100000');
	const nsend = Number(b.senders ?? 1);
	if (!Number.isInteger(nsend) || nsend < 1 || nsend > 64)
		throw err(400, 'senders must be 1..64');
	const phone0 = String(b.phone ?? '15559990000');
	if (!/^[1-9]\d{6,14}$/.test(phone0))
		throw err(400, 'phone must be 7..15 digits');
	const r = resolve(ctx.accounts, b.to);
	if (!r)
		throw err(404, `no account for ${b.to}`);
	const targets = /:\d+@/.test(String(b.to)) ? (r.device ? [r.device] : []) : reachableDevices(r.account);
	if (!targets.length)
		throw err(409, `${b.to} has no reachable device`);
	const m = ctx.messaging;
	const to = `${r.account.phone}@s.whatsapp.net`;
	const senders = [];
	for (let k = 0; k < nsend; k++) {
		const s = sender(ctx, (BigInt(phone0) + BigInt(k)).toString());
		if (targets.includes(s.device))
			throw err(409, `${b.to} is one of the flood senders`);
		m.pushNames[s.account.phone] = m.pushNames[s.account.phone] ?? 'fakewa flood';
		s.conn = s.conn ?? { id: null, data: { login: { device: s.device, account: s.account, jid: s.device.jid } }, sendNode: () => null, log: log.conn('flood') };
		senders.push(s);
	}
	// encrypt all, then route all: the receiver gets one burst
	const t0 = Date.now();
	const out = [];
	for (let i = 1; i <= count; i++) {
		const s = senders[(i - 1) % nsend];
		const plain = pad(Buffer.from(proto.Message.encode({ conversation: `${b.text ?? 'flood'} ${i}` }).finish()));
		const parts = [];
		for (const d of targets) {
			const addr = await ensureSession(ctx, s, d);
			const { type, body } = await new libsignal.SessionCipher(s.store, addr).encrypt(plain);
			parts.push({ tag: 'to', attrs: { jid: d.jid }, content: [{ tag: 'enc', attrs: { v: '2', type: type === 3 ? 'pkmsg' : 'msg' }, content: Buffer.from(body, 'binary') }] });
		}
		out.push({ s, id: msgId(), parts });
	}
	const t1 = Date.now();
	for (const { s, id, parts } of out)
		m.route(s.conn, { tag: 'message', attrs: { id, to, type: 'text' }, content: [{ tag: 'participants', attrs: {}, content: parts }] });
	const t2 = Date.now();
	const res = {
		from: senders[0].device.jid, senders: senders.map(s => s.device.jid), to, devices: targets.map(d => d.jid), count,
		first: out[0].id, last: out[out.length - 1].id, encryptMs: t1 - t0, routeMs: t2 - t1
	};
	const ev = ctx.events.record('flood', null, res);
	return { ...res, seq: ev.seq };
}

// Synthetic devices: big groups and peers for benchmarks of the sending
// side (README.md, "Synthetic devices").
//
//   POST /synth {users, devicesPerUser?, phone?, prekeys?, decrypt?}
//     users           accounts to make (1..5000): phone, phone+1, ...
//     devicesPerUser  companion devices per account (1..64, default 1),
//                     device numbers 1..N
//     phone           the first number (default 15557770000)
//     prekeys         one-time pre-keys per device (0..100, default 2)
//     decrypt         keep the private keys and decrypt what is routed to
//                     these devices (default false: only count)
//   -> {users: [user JIDs], devices, first, last, decrypt, ms, seq}
//   GET /synth[?id=ID] -> {devices, delivered, messages: {ID: {devices, pkmsg,
//                         msg, skmsg, decrypted, failed, errors}}}  (one id, or all)
//
// Each device is registered like a paired companion (accounts.mjs, via
// "synth"): an identity key pair, a signed pre-key (XEdDSA-signed by the
// identity, as Baileys' signedKeyPair makes it), a registration id and
// `prekeys` one-time pre-keys, so usync lists it and bundle fetches hand out
// its keys exactly as for a client that uploaded them.  It never connects.
// Stanzas routed to it (messaging.mjs, enqueue) are counted per message id
// instead of queued: nothing waits for an ack from it, and no receipt comes
// back.  With decrypt, each device has an in-memory Baileys key store
// (makeLibSignalRepository) and decrypts its <enc>s in order (pkmsg/msg,
// then the SKDM it carries, then the group skmsg), counting successes and
// failures (the error text of the first few failures kept); decryption
// runs after the routing, one chain per device.
//
// Making 1000 devices takes about 10 s (libsignal-node's XEdDSA signature
// of each signed pre-key); the loop yields to the event loop every 25
// devices.  The accounts file (--state-dir) is written once at the end;
// private keys are never written, so after a restart of fakewa the devices
// are still listed and counted but cannot decrypt.

import { randomBytes } from 'crypto';
import { proto } from 'baileys/WAProto/index.js';
import { Curve, signedKeyPair } from 'baileys/lib/Utils/crypto.js';
import { makeLibSignalRepository } from 'baileys/lib/Signal/libsignal.js';
import { log } from './log.mjs';

const MAX_USERS = 5000;
const KEEP_ERRORS = 5;

function state(ctx) {
	return ctx.synth ?? (ctx.synth = { keys: new Map(), messages: new Map(), delivered: 0, chains: new Map(), decrypt: false });
}

const err = (status, message) => Object.assign(new Error(message), { status });
const int = (v, def, lo, hi, name) => {
	const n = v === undefined ? def : Number(v);
	if (!Number.isInteger(n) || n < lo || n > hi)
		throw err(400, `${name} must be ${lo}..${hi}`);
	return n;
};

/** An in-memory Baileys key store with the transaction call the repository uses. */
function memoryKeys() {
	const data = {};
	return {
		get: async (type, ids) => {
			const t = data[type] ?? {};
			const out = {};
			for (const id of ids)
				if (t[id] !== undefined && t[id] !== null)
					out[id] = t[id];
			return out;
		},
		set: async d => {
			for (const type of Object.keys(d)) {
				const t = data[type] ?? (data[type] = {});
				for (const [id, v] of Object.entries(d[type])) {
					if (v === null || v === undefined)
						delete t[id];
					else
						t[id] = v;
				}
			}
		},
		transaction: async fn => fn(),
		isInTransaction: () => false,
		data
	};
}

export async function makeSynth(ctx, b) {
	const users = int(b.users, undefined, 1, MAX_USERS, 'users');
	const per = int(b.devicesPerUser, 1, 1, 64, 'devicesPerUser');
	const nPre = int(b.prekeys, 2, 0, 100, 'prekeys');
	const phone0 = String(b.phone ?? '15557770000');
	if (!/^[1-9]\d{6,14}$/.test(phone0))
		throw err(400, 'phone must be 7..15 digits');
	const decrypt = !!b.decrypt;
	const { accounts } = ctx;
	const phones = [];
	for (let k = 0; k < users; k++) {
		const p = (BigInt(phone0) + BigInt(k)).toString();
		const a = accounts.get(p);
		if (a && Object.values(a.devices).some(d => d.via !== 'synth'))
			throw err(409, `account ${p} exists with devices that are not synthetic`);
		phones.push(p);
	}
	const S = state(ctx);
	S.decrypt = S.decrypt || decrypt;
	const t0 = Date.now();
	// one write of the accounts file at the end, not one per device
	const file = accounts.file;
	accounts.file = null;
	let devices = 0;
	try {
		for (const p of phones) {
			const a = accounts.getOrCreate(p);
			for (let dev = 1; dev <= per; dev++) {
				const identity = Curve.generateKeyPair();
				const spk = signedKeyPair(identity, 1);
				const registrationId = 1 + (randomBytes(2).readUInt16BE(0) % 16383);
				const d = accounts.addDevice(a, {
					device: dev, via: 'synth', keyIndex: dev, platform: 'synth',
					identityKey: identity.public.toString('hex'), registrationId,
					signedPreKey: { id: 1, pub: spk.keyPair.public.toString('hex'), sig: Buffer.from(spk.signature).toString('hex'), valid: true }
				});
				const pre = {};
				for (let i = 1; i <= nPre; i++) {
					const kp = Curve.generateKeyPair();
					d.preKeys[i] = kp.public.toString('hex');
					pre[i] = kp;
				}
				if (decrypt) {
					const keys = memoryKeys();
					await keys.set({ 'pre-key': pre });
					const creds = { signedIdentityKey: identity, signedPreKey: spk, registrationId };
					S.keys.set(d.jid, { repo: makeLibSignalRepository({ creds, keys }, silent), keys });
				} else
					S.keys.delete(d.jid);
				devices++;
				if (devices % 25 === 0)
					await new Promise(r => setImmediate(r));
			}
		}
	} finally {
		accounts.file = file;
	}
	accounts.save();
	const res = {
		users: phones.map(p => `${p}@s.whatsapp.net`), devices, devicesPerUser: per, prekeys: nPre,
		first: phones[0], last: phones[phones.length - 1], decrypt, ms: Date.now() - t0
	};
	const ev = ctx.events.record('synth', null, { ...res, users: res.users.length });
	return { ...res, seq: ev.seq };
}

const silent = { level: 'silent', child: () => silent, trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };

function record(S, id) {
	let m = S.messages.get(id);
	if (!m)
		S.messages.set(id, m = { devices: 0, receipts: 0, pkmsg: 0, msg: 0, skmsg: 0, decrypted: 0, failed: 0, errors: [] });
	return m;
}

/**
 * messaging.mjs's enqueue for a synthetic device: count the stanza (and,
 * with decrypt, decrypt it in the background).  Returns nothing: the
 * stanza is not queued.
 */
export function synthSink(ctx, kind, id, d, node) {
	const S = state(ctx);
	const m = record(S, id);
	if (kind !== 'message') {
		m.receipts++;
		return;
	}
	m.devices++;
	S.delivered++;
	const encs = (node.content ?? []).filter(c => c.tag === 'enc');
	for (const e of encs)
		if (m[e.attrs.type] !== undefined)
			m[e.attrs.type]++;
	const k = S.keys.get(d.jid);
	if (!k)
		return;
	const author = authorOf(node.attrs);
	const group = /@g\.us$/.test(node.attrs.from ?? '') ? node.attrs.from : null;
	const prev = S.chains.get(d.jid) ?? Promise.resolve();
	S.chains.set(d.jid, prev.then(() => decryptAll(k.repo, encs, author, group)).then(() => {
		m.decrypted++;
	}, e => {
		m.failed++;
		if (m.errors.length < KEEP_ERRORS)
			m.errors.push(`${d.jid}: ${e.message}`);
		log.warn(`synth ${d.jid}: ${id}: ${e.message}`);
	}));
}

/**
 * The sender's device in its LID form when the stanza names the LID (as a
 * Baileys receiver ends up keying sessions and sender keys after its
 * PN-to-LID migration), so a 1:1 session and a group's SKDM agree.
 */
function authorOf(a) {
	const who = a.participant ?? a.from;
	if (/@lid$/.test(who))
		return who;
	const lid = a.participant ? a.participant_lid : a.sender_lid;
	const dev = /:(\d+)@/.exec(who)?.[1];
	return lid ? `${lid.replace(/@.*/, '')}${dev ? ':' + dev : ''}@lid` : who;
}

async function decryptAll(repo, encs, author, group) {
	for (const e of encs) {
		const type = e.attrs.type;
		const ct = Buffer.from(e.content);
		let plain;
		if (type === 'skmsg') {
			if (!group)
				throw new Error('skmsg outside a group');
			plain = await repo.decryptGroupMessage({ group, authorJid: author, msg: ct });
		} else if (type === 'pkmsg' || type === 'msg')
			plain = await repo.decryptMessage({ jid: author, type, ciphertext: ct });
		else
			throw new Error(`unknown enc type ${type}`);
		const buf = Buffer.from(plain);
		const msg = proto.Message.decode(buf.subarray(0, buf.length - buf[buf.length - 1]));
		const skdm = msg.senderKeyDistributionMessage ?? msg.deviceSentMessage?.message?.senderKeyDistributionMessage;
		if (skdm)
			await repo.processSenderKeyDistributionMessage({ item: skdm, authorJid: author });
	}
}

/** GET /synth[?id=ID]: the counts (waits for pending decryptions first). */
export async function synthInfo(ctx, q) {
	const S = state(ctx);
	await Promise.all(S.chains.values());
	const id = q.get('id');
	const synthDevices = Object.values(ctx.accounts.data.accounts).reduce((n, a) => n + Object.values(a.devices).filter(d => d.via === 'synth').length, 0);
	const messages = {};
	for (const [k, v] of S.messages)
		if (!id || k === id)
			messages[k] = v;
	return { devices: synthDevices, decrypting: S.keys.size, delivered: S.delivered, messages };
}

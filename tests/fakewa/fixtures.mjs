// fixtures.mjs - shared code for mkauth.mjs and verify-auth.mjs.
//
// Everything that touches an auth folder goes through Baileys itself:
// useMultiFileAuthState for the files, addTransactionCapability for the
// key store a socket would use, makeLibSignalRepository for Signal,
// decryptMessageNode for incoming stanzas.  What lives here is only the
// other side of the wire: simulated peers (SimPeer, each a libsignal
// store in memory), stanza builders, the key-file name table, and a
// seeded replacement for Node's randomness so a --seed run is repeatable.

import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import * as B from 'baileys';
import libsignal from 'libsignal';
import { makeLibSignalRepository } from 'baileys/lib/Signal/libsignal.js';
import {
	GroupCipher, GroupSessionBuilder, SenderKeyDistributionMessage,
	SenderKeyName, SenderKeyRecord
} from 'baileys/lib/Signal/Group/index.js';

export { B, libsignal, makeLibSignalRepository };
export { GroupCipher, GroupSessionBuilder, SenderKeyDistributionMessage, SenderKeyName, SenderKeyRecord };

export const { BufferJSON, proto } = B;

// ---------------------------------------------------------------------------
// Seeded randomness.  Baileys and libsignal draw every key, id and pad byte
// from node:crypto (randomBytes, randomInt, generateKeyPairSync('x25519')),
// and stamp sessions with Date.now().  With a seed we replace those with a
// SHA-256 counter stream and a clock that starts at a fixed instant and
// ticks one millisecond per call; syncBuiltinESMExports() makes the
// replacement visible through `import { randomBytes } from 'crypto'` too.
// Key pairs stay real X25519 pairs (clamped scalars, public computed by
// OpenSSL), only their source of entropy changes.

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
export const SEEDED_EPOCH_MS = 1767225600000; // 2026-01-01T00:00:00Z

export function seedRandomness(seed) {
	const key = crypto.createHash('sha256').update('wa-fixture:' + String(seed)).digest();
	let counter = 0n;
	let pool = Buffer.alloc(0);
	const take = (n) => {
		while (pool.length < n) {
			const ctr = Buffer.alloc(8);
			ctr.writeBigUInt64BE(counter++);
			pool = Buffer.concat([pool, crypto.createHmac('sha256', key).update(ctr).digest()]);
		}
		const out = Buffer.from(pool.subarray(0, n));
		pool = pool.subarray(n);
		return out;
	};
	const uniform = (range) => { // 0 <= r < range, range <= 2^48
		const limit = 2 ** 48 - (2 ** 48 % range);
		for (;;) {
			const v = take(6).readUIntBE(0, 6);
			if (v < limit) return v % range;
		}
	};
	const origGenerate = crypto.generateKeyPairSync;
	crypto.randomBytes = function (size, cb) {
		const buf = take(size);
		if (typeof cb === 'function') { process.nextTick(cb, null, buf); return undefined; }
		return buf;
	};
	crypto.randomInt = function (min, max, cb) {
		if (typeof max !== 'number') { cb = max; max = min; min = 0; }
		const v = min + uniform(max - min);
		if (typeof cb === 'function') { process.nextTick(cb, null, v); return undefined; }
		return v;
	};
	crypto.randomFillSync = function (buf, offset = 0, size) {
		const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
		const n = size ?? view.length - offset;
		take(n).copy(view, offset);
		return buf;
	};
	crypto.generateKeyPairSync = function (type, options) {
		if (type !== 'x25519') return origGenerate.apply(this, arguments);
		const scalar = take(32);
		scalar[0] &= 248; scalar[31] &= 127; scalar[31] |= 64;
		const privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, scalar]), format: 'der', type: 'pkcs8' });
		const publicKey = crypto.createPublicKey(privateKey);
		return {
			publicKey: options?.publicKeyEncoding ? publicKey.export(options.publicKeyEncoding) : publicKey,
			privateKey: options?.privateKeyEncoding ? privateKey.export(options.privateKeyEncoding) : privateKey
		};
	};
	syncBuiltinESMExports();
	if (globalThis.crypto?.getRandomValues) {
		const fill = (arr) => { crypto.randomFillSync(arr); return arr; };
		try { Object.defineProperty(globalThis.crypto, 'getRandomValues', { value: fill, configurable: true, writable: true }); } catch { /* keep native */ }
	}
	let now = SEEDED_EPOCH_MS;
	Date.now = () => now++;
	Math.random = () => uniform(2 ** 48) / 2 ** 48;
	return { take, uniform };
}

// A random decimal string of `len` digits that does not start with 0.
export function digits(len) {
	let s = String(crypto.randomInt(1, 10));
	while (s.length < len) s += String(crypto.randomInt(0, 10));
	return s;
}

// ---------------------------------------------------------------------------
// Logging: Baileys wants a pino-like logger.  Quiet unless WA_FIXTURE_DEBUG.

const debug = !!process.env.WA_FIXTURE_DEBUG;
const say = (level) => debug
	? (obj, msg) => process.stderr.write(`[${level}] ${typeof obj === 'string' ? obj : (msg || '') + ' ' + safeJson(obj)}\n`)
	: () => {};
function safeJson(o) { try { return JSON.stringify(o, BufferJSON.replacer); } catch { return String(o); } }
export const logger = {
	level: debug ? 'trace' : 'silent',
	child() { return logger; },
	trace: say('trace'), debug: say('debug'), info: say('info'),
	warn: say('warn'), error: say('error'), fatal: say('fatal')
};

// libsignal talks on the console ("Closing session: ...", with key material);
// keep that out of our output unless debugging.
for (const m of ['log', 'info', 'warn', 'error', 'debug']) {
	console[m] = debug ? (...a) => process.stderr.write(`[console.${m}] ${a.map(String).join(' ')}\n`) : () => {};
}

// ---------------------------------------------------------------------------
// Opening a folder the way a bot does: useMultiFileAuthState, a key store
// with Baileys' transaction layer (as makeWASocket wraps it), and the
// libsignal repository on top.

export async function openBaileysAuth(dir) {
	const { state, saveCreds } = await B.useMultiFileAuthState(dir);
	const keys = B.addTransactionCapability(state.keys, logger, { maxCommitRetries: 1, delayBetweenTriesMs: 0 });
	const auth = { creds: state.creds, keys };
	const repo = makeLibSignalRepository(auth, logger);
	// what the socket's ev.on('creds.update') plus the bot's saveCreds do
	const credsUpdate = async (update) => {
		Object.assign(state.creds, update);
		await saveCreds();
	};
	return { state, saveCreds, creds: state.creds, rawKeys: state.keys, keys, repo, credsUpdate };
}

// ---------------------------------------------------------------------------
// Key-file names.  Baileys builds `${type}-${id}.json` and maps '/' to '__'
// and ':' to '-'.  Going back is ambiguous in general, so parseKeyFileName
// uses what each type's ids look like and the caller checks the round trip.

export const KEY_TYPES = [
	'sender-key-memory', 'sender-key', 'session', 'pre-key', 'identity-key',
	'app-state-sync-version', 'app-state-sync-key', 'lid-mapping',
	'device-list', 'tctoken'
];

export const fixFileName = (file) => file.replace(/\//g, '__').replace(/:/g, '-');
export const keyFileName = (type, id) => fixFileName(`${type}-${id}.json`);

export function parseKeyFileName(name) {
	if (!name.endsWith('.json') || name === 'creds.json') return null;
	const base = name.slice(0, -5);
	const byLength = [...KEY_TYPES].sort((a, b) => b.length - a.length);
	for (const type of byLength) {
		if (!base.startsWith(type + '-')) continue;
		let id = base.slice(type.length + 1);
		if (type === 'sender-key') {
			// <group>::<signal name>::<device>; a signal name has no '-'
			const m = /^(.*)--([^-]+)--(\d+)$/.exec(id);
			if (m) id = `${m[1]}::${m[2]}::${m[3]}`;
		} else if (type === 'app-state-sync-key') {
			id = id.replace(/__/g, '/');
		}
		return { type, id };
	}
	return null;
}

// ---------------------------------------------------------------------------
// Messages and stanzas

export const encodeText = (text) => B.encodeWAMessage({ conversation: text });
export const encodeMessage = (msg) => B.encodeWAMessage(msg);
export const decodeMessage = (buf) => proto.Message.decode(B.unpadRandomMax16(buf));

export function messageId() {
	// Android primaries use 32 upper-case hex digits (16 random bytes)
	return crypto.randomBytes(16).toString('hex').toUpperCase();
}

export function unixNow() { return Math.floor(Date.now() / 1000); }

// A <message> stanza as the server delivers it; encs = [{type, ciphertext}]
export function messageStanza({ from, participant, attrs = {}, encs }) {
	return {
		tag: 'message',
		attrs: {
			from, id: messageId(), t: String(unixNow()), type: 'text',
			...(participant ? { participant } : {}), ...attrs
		},
		content: encs.map(({ type, ciphertext }) => ({ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }))
	};
}

// Decrypt a stanza exactly as Baileys' receive path does; throws when
// Baileys turned it into a CIPHERTEXT stub.
export async function receive(ctx, stanza) {
	const { creds, repo } = ctx;
	const { fullMessage, decrypt } = B.decryptMessageNode(stanza, creds.me.id, creds.me.lid || '', repo, logger);
	await decrypt();
	if (fullMessage.messageStubType || !fullMessage.message) {
		throw new Error(`Baileys could not decrypt message from ${stanza.attrs.participant || stanza.attrs.from}: ` +
			(fullMessage.messageStubParameters || []).join(', '));
	}
	return fullMessage;
}

// ---------------------------------------------------------------------------
// SimPeer: the far end of one Signal address (a contact's device, or our
// own primary phone), a libsignal store held in memory.  It implements the
// storage interface libsignal's SessionBuilder/SessionCipher and Baileys'
// group cipher call, and serializes to JSON for --peer-state.

export class SimPeer {
	constructor({ identityKeyPair, registrationId, signedPreKeyId = 1 } = {}) {
		this.identityKeyPair = identityKeyPair ?? libsignal.keyhelper.generateIdentityKeyPair();
		this.registrationId = registrationId ?? libsignal.keyhelper.generateRegistrationId();
		this.signedPreKey = libsignal.keyhelper.generateSignedPreKey(this.identityKeyPair, signedPreKeyId);
		this.preKeys = new Map();
		this.nextPreKeyId = 1;
		this.sessions = new Map();    // address string -> SessionRecord.serialize() JSON text
		this.senderKeys = new Map();  // sender key name -> Buffer (UTF-8 JSON), as Baileys stores it
	}

	// libsignal storage interface
	async isTrustedIdentity() { return true; }
	async loadSession(addr) {
		const s = this.sessions.get(addr);
		return s ? libsignal.SessionRecord.deserialize(JSON.parse(s)) : undefined;
	}
	async storeSession(addr, record) { this.sessions.set(addr, JSON.stringify(record.serialize())); }
	async loadPreKey(id) { return this.preKeys.get(Number(id)); }
	async removePreKey(id) { this.preKeys.delete(Number(id)); }
	async loadSignedPreKey(id) {
		return Number(id) === this.signedPreKey.keyId ? this.signedPreKey.keyPair : undefined;
	}
	getOurRegistrationId() { return this.registrationId; }
	getOurIdentity() { return this.identityKeyPair; }

	// Baileys group cipher storage interface
	async loadSenderKey(name) {
		const b = this.senderKeys.get(name.toString());
		return b ? SenderKeyRecord.deserialize(b) : new SenderKeyRecord();
	}
	async storeSenderKey(name, record) {
		this.senderKeys.set(name.toString(), Buffer.from(JSON.stringify(record.serialize()), 'utf-8'));
	}

	// A pre-key bundle as the server hands it out for this device
	bundle() {
		const keyId = this.nextPreKeyId++;
		const pk = libsignal.keyhelper.generatePreKey(keyId);
		this.preKeys.set(keyId, pk.keyPair);
		return {
			identityKey: this.identityKeyPair.pubKey,
			registrationId: this.registrationId,
			preKey: { keyId, publicKey: pk.keyPair.pubKey },
			signedPreKey: {
				keyId: this.signedPreKey.keyId,
				publicKey: this.signedPreKey.keyPair.pubKey,
				signature: this.signedPreKey.signature
			}
		};
	}

	async initOutgoing(addr, bundle) {
		await new libsignal.SessionBuilder(this, libsignal.ProtocolAddress.from(addr)).initOutgoing(bundle);
	}
	async encrypt(addr, data) {
		const cipher = new libsignal.SessionCipher(this, libsignal.ProtocolAddress.from(addr));
		const { type, body } = await cipher.encrypt(data);
		return { type: type === 3 ? 'pkmsg' : 'msg', ciphertext: Buffer.from(body, 'binary') };
	}
	async decrypt(addr, type, ciphertext) {
		const cipher = new libsignal.SessionCipher(this, libsignal.ProtocolAddress.from(addr));
		return type === 'pkmsg'
			? cipher.decryptPreKeyWhisperMessage(ciphertext)
			: cipher.decryptWhisperMessage(ciphertext);
	}
	// group: our own sender key for (group, our address)
	async createSenderKey(group, addr) {
		const name = new SenderKeyName(group, libsignal.ProtocolAddress.from(addr));
		const skdm = await new GroupSessionBuilder(this).create(name);
		return skdm.serialize();
	}
	async groupEncrypt(group, addr, data) {
		const name = new SenderKeyName(group, libsignal.ProtocolAddress.from(addr));
		return new GroupCipher(this, name).encrypt(data);
	}
	async processSkdm(group, senderAddr, skdmBytes) {
		const name = new SenderKeyName(group, libsignal.ProtocolAddress.from(senderAddr));
		const msg = new SenderKeyDistributionMessage(null, null, null, null, skdmBytes);
		await new GroupSessionBuilder(this).process(name, msg);
	}
	async groupDecrypt(group, senderAddr, ciphertext) {
		const name = new SenderKeyName(group, libsignal.ProtocolAddress.from(senderAddr));
		return new GroupCipher(this, name).decrypt(ciphertext);
	}

	toJSON() {
		return {
			identityKeyPair: this.identityKeyPair,
			registrationId: this.registrationId,
			signedPreKey: this.signedPreKey,
			preKeys: Object.fromEntries(this.preKeys),
			nextPreKeyId: this.nextPreKeyId,
			sessions: Object.fromEntries(this.sessions),
			senderKeys: Object.fromEntries(this.senderKeys)
		};
	}
	static fromJSON(o) {
		const p = Object.create(SimPeer.prototype);
		p.identityKeyPair = o.identityKeyPair;
		p.registrationId = o.registrationId;
		p.signedPreKey = o.signedPreKey;
		p.preKeys = new Map(Object.entries(o.preKeys).map(([k, v]) => [Number(k), v]));
		p.nextPreKeyId = o.nextPreKeyId;
		p.sessions = new Map(Object.entries(o.sessions));
		p.senderKeys = new Map(Object.entries(o.senderKeys));
		return p;
	}
}

// Our own pre-key bundle as the server would hand it to a peer: identity
// and signed pre-key from creds, one uploaded one-time pre-key (or none).
export async function ourBundle(creds, keys, preKeyId) {
	let preKey;
	if (preKeyId !== undefined && preKeyId !== null) {
		const { [preKeyId]: pk } = await keys.get('pre-key', [String(preKeyId)]);
		if (!pk) throw new Error(`pre-key ${preKeyId} is not in the folder`);
		preKey = { keyId: Number(preKeyId), publicKey: B.generateSignalPubKey(pk.public) };
	}
	return {
		identityKey: B.generateSignalPubKey(creds.signedIdentityKey.public),
		registrationId: creds.registrationId,
		preKey,
		signedPreKey: {
			keyId: creds.signedPreKey.keyId,
			publicKey: B.generateSignalPubKey(creds.signedPreKey.keyPair.public),
			signature: creds.signedPreKey.signature
		}
	};
}

// The Signal address string Baileys uses for a JID (user[_domain].device)
export function signalAddr(jid) {
	const d = B.jidDecode(jid);
	const name = d.domainType && d.domainType !== 0 ? `${d.user}_${d.domainType}` : d.user;
	return `${name}.${d.device || 0}`;
}

// ---------------------------------------------------------------------------
// Peer-state file (mkauth --peer-state / verify-auth --peer-state)

export const PEER_STATE_FORMAT = 'wa-fixture-peers/1';

export function encodePeerState(obj) {
	// SimPeer.toJSON runs first, then Buffers become {type:'Buffer', data:b64}
	return JSON.stringify(obj, BufferJSON.replacer);
}

export function readPeerState(file) {
	const text = readFileSync(file, 'utf-8');
	const o = JSON.parse(text, BufferJSON.reviver);
	if (o.format !== PEER_STATE_FORMAT) throw new Error(`'${file}' is not a peer-state file (format ${o.format})`);
	for (const d of o.devices) d.peer = SimPeer.fromJSON(d.peer);
	return o;
}

export function fail(prog, msg, code = 1) {
	process.stderr.write(`${prog}: ${msg}\n`);
	process.exit(code);
}

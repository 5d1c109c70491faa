#!/usr/bin/env node
// signal-node.mjs - the Signal test contract (tests/helpers/wa-signal.c speaks
// the same) on Baileys' own signal repository.
//
//	node tests/fakewa/signal-node.mjs -d DIR
//
// DIR is a Baileys multi-file auth folder of a paired account.  It is
// opened exactly as a Baileys bot opens it: useMultiFileAuthState(DIR),
// the key store wrapped in makeCacheableSignalKeyStore (what bots pass as
// auth.keys) and then in addTransactionCapability with Baileys' default
// transactionOpts (what makeWASocket does), and makeLibSignalRepository
// on top.  Every operation below is one call of that repository, the
// call Baileys' send/receive path makes.
//
// Protocol: one JSON request per line on stdin, exactly one JSON response
// line per request on stdout, in order; binary values are base64; stderr
// is free-form.  Requests (jid: a user JID with device; group: ...@g.us):
//
//	{"op":"bundle"}              our key bundle with one unused pre-key
//	                             (the lowest pre-key file not handed out by
//	                             this process; preKey is null when none is
//	                             left, as a server hands out a bundle then)
//	{"op":"process_bundle","jid","bundle"}      start an outgoing session
//	{"op":"encrypt","jid","pt"}  -> {"type":"pkmsg"|"msg","ct"}
//	{"op":"decrypt","jid","type","ct"} -> {"pt"}
//	{"op":"group_encrypt","group","pt"} -> {"skdm","ct"} (sender = me.id)
//	{"op":"process_skdm","group","jid","skdm"}
//	{"op":"group_decrypt","group","jid","ct"} -> {"pt"}
//	{"op":"identity","jid"}      -> {"identityKey": B33 or null}
//	{"op":"batch","requests":[…]} -> {"responses":[…]}: one commit for all
//	{"op":"quit"}                (or EOF): exit 0
//	{"op":"reopen"}              (extension) open the folder anew: drop every
//	                             cache, as a restart would
//
// Batch: the requests run inside one Baileys key-store transaction, so
// their writes reach the folder in one commit at its end.  Extension for
// benchmarks: "commit":false runs the batch and then rolls the
// transaction back (nothing reaches the folder); its response says
// "committed":false.  A tool without the extension answers without that
// field, which is how bench/signal-node.mjs tells.
//
// Durability: Baileys awaits its writeFile calls but never fsyncs.  The
// contract wants every request's changes durable before its response, so
// the raw folder store records which files each request wrote or removed
// and they (and the folder) are fsynced before the response line.  The
// writes themselves stay Baileys' own (truncate and write in place).
//
// Errors: {"ok":false,"error":CLASS,"detail":TEXT}; the process answers the
// next line.  Baileys reads an unparsable file as absent (readData catches,
// loadSession catches), which would silently start over; a bot that wants
// to know checks first, and so does this tool: before an operation it
// parses the files that operation reads (the peer's session and identity
// key, the sender key, the pkmsg's pre-key) the way Baileys would, and a
// file that exists but does not load is corrupt_store, with nothing
// written.  libsignal turns every failure of a msg into one "No matching
// sessions found" error and prints the real ones on the console; they are
// captured here to classify (duplicate before bad_mac).
//
// Exit status: 0 after quit or EOF; 1 when DIR is not a paired folder
// (no creds.json with me.id: never a new identity); 2 usage.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, constants as C } from 'node:fs';
import { join } from 'node:path';
import readline from 'node:readline';
import { PreKeyWhisperMessage } from 'libsignal/src/protobufs.js';
import * as F from './fixtures.mjs';

const { B, BufferJSON, libsignal, makeLibSignalRepository } = F;
const { SenderKeyRecord } = F;
const PROG = 'signal-node';

// ---- options -------------------------------------------------------------------

function usage(msg) {
	if (msg) process.stderr.write(`${PROG}: ${msg}\n`);
	process.stderr.write('usage: node tests/fakewa/signal-node.mjs -d DIR\n');
	process.exit(2);
}
let dir;
{
	const a = process.argv.slice(2);
	for (let i = 0; i < a.length; i++) {
		if (a[i] === '-d' && i + 1 < a.length) dir = a[++i];
		else usage(`unknown argument '${a[i]}'`);
	}
	if (!dir) usage('-d DIR missing');
}

// ---- the console: libsignal reports the real decrypt errors there ---------------

let consoleErrors = [];
console.error = (...args) => {
	for (const a of args) if (a instanceof Error) consoleErrors.push(a);
	if (typeof args[0] === 'string' && args[0].startsWith('Session error:')) consoleErrors.push(args[0].slice(14));
};
console.warn = console.log = console.info = console.debug = () => {};

// ---- the folder, as a bot opens it ----------------------------------------------

const fixFileName = (file) => file.replace(/\//g, '__').replace(/:/g, '-');
const filePath = (type, id) => join(dir, fixFileName(`${type}-${id}.json`));

function refuse(msg) {
	process.stderr.write(`${PROG}: ${msg}\n`);
	process.exit(1);
}
{
	let creds;
	try {
		creds = JSON.parse(readFileSync(join(dir, 'creds.json'), 'utf-8'), BufferJSON.reviver);
	} catch (e) {
		refuse(`unable to load '${join(dir, 'creds.json')}': ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
	}
	if (!creds?.me?.id || !creds.signedIdentityKey || !creds.signedPreKey) refuse(`'${join(dir, 'creds.json')}' is not a paired account`);
}

// (Re)open: what a process start does with the folder.  reopen (an
// extension for the handover tests) drops every cache and wrapper and
// opens the folder anew, as a restart would.
const touched = new Set();
let state, creds, keys, repo;
async function open() {
	if (repo) repo.close();
	({ state } = await B.useMultiFileAuthState(dir));
	creds = state.creds;
	const raw = state.keys;
	const rawKeys = {
		get: (type, ids) => raw.get(type, ids),
		set: async (data) => {
			for (const type in data) for (const id in data[type]) touched.add(filePath(type, id));
			await raw.set(data);
		}
	};
	const cached = B.makeCacheableSignalKeyStore(rawKeys, F.logger);
	keys = B.addTransactionCapability(cached, F.logger, B.DEFAULT_CONNECTION_CONFIG.transactionOpts);
	repo = makeLibSignalRepository({ creds, keys }, F.logger);
}
await open();

function syncTouched() {
	if (!touched.size) return;
	for (const p of touched) {
		let fd;
		try { fd = openSync(p, C.O_RDONLY | C.O_NOFOLLOW); } catch (e) { if (e.code === 'ENOENT') continue; throw e; }
		try { fsyncSync(fd); } finally { closeSync(fd); }
	}
	touched.clear();
	const d = openSync(dir, C.O_RDONLY | C.O_DIRECTORY);
	try { fsyncSync(d); } finally { closeSync(d); }
}

// ---- helpers --------------------------------------------------------------------

class ReqError extends Error {
	constructor(cls, detail) { super(detail); this.cls = cls; }
}
const b64 = (buf) => Buffer.from(buf).toString('base64');
function bin(v, what) {
	if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new ReqError('bad_request', `${what}: not base64`);
	return Buffer.from(v, 'base64');
}
function userJid(j, what = 'jid') {
	if (typeof j !== 'string') throw new ReqError('bad_request', `${what} missing`);
	const d = B.jidDecode(j);
	if (!d || !d.user || B.isJidGroup(j)) throw new ReqError('bad_request', `${what} '${j}' is not a user JID`);
	try { repo.jidToSignalProtocolAddress(j); } catch (e) { throw new ReqError('bad_request', `${what} '${j}': ${e.message}`); }
	return j;
}
function groupJid(g) {
	if (typeof g !== 'string' || !B.isJidGroup(g)) throw new ReqError('bad_request', `group '${g}' is not a group JID`);
	return g;
}
const pub33 = (k) => b64(B.generateSignalPubKey(k));

// The address Baileys stores a JID's session and identity under (its
// signalStorage.resolveLIDSignalAddress: a PN address with a known LID
// lives under the LID).
async function storageAddr(jid) {
	const id = repo.jidToSignalProtocolAddress(jid);
	const [user, device] = id.split('.');
	const [u, dt] = user.split('_');
	const domain = parseInt(dt || '0');
	if (domain === B.WAJIDDomains.LID || domain === B.WAJIDDomains.HOSTED_LID) return id;
	const pn = `${u}${device !== '0' ? `:${device}` : ''}@${domain === B.WAJIDDomains.HOSTED ? 'hosted' : 's.whatsapp.net'}`;
	const lid = await repo.lidMapping.getLIDForPN(pn);
	return lid ? repo.jidToSignalProtocolAddress(lid) : id;
}

// A file that exists but does not load the way Baileys loads it.
function checkFile(type, id) {
	const p = filePath(type, id);
	let text;
	try { text = readFileSync(p, 'utf-8'); } catch (e) {
		if (e.code === 'ENOENT') return;
		throw new ReqError('corrupt_store', `unable to read '${p}': ${e.message}`);
	}
	try {
		const v = JSON.parse(text, BufferJSON.reviver);
		if (v === null || typeof v !== 'object') throw new Error('not a JSON object');
		if (type === 'session') libsignal.SessionRecord.deserialize(v);
		else if (type === 'sender-key') SenderKeyRecord.deserialize(v);
		else if (type === 'identity-key' && (!Buffer.isBuffer(v) || v.length !== 33)) throw new Error('not a 33-byte key');
		else if (type === 'pre-key' && (!v.public || !v.private)) throw new Error('not a key pair');
	} catch (e) {
		throw new ReqError('corrupt_store', `'${p}' does not load: ${e.message}`);
	}
}
async function checkPeer(jid) {
	const addr = await storageAddr(jid);
	checkFile('session', addr);
	checkFile('identity-key', addr);
}
const senderKeyId = (group, jid) => `${group}::${repo.jidToSignalProtocolAddress(jid).replace(/\.(\d+)$/, '::$1')}`;

function classify(e) {
	if (e instanceof ReqError) return [e.cls, e.message];
	const msg = String(e?.message ?? e);
	const name = e?.name || '';
	if (name === 'UntrustedIdentityKeyError') return ['untrusted_identity', `untrusted identity for ${e.addr}`];
	if (name === 'PreKeyError') return ['invalid_prekey', msg];
	if (name === 'MessageCounterError') return ['duplicate', msg];
	if (/^(No sessions|No open session|No session record|No sessions available)$/.test(msg)) return ['no_session', msg];
	if (msg === 'No matching sessions found for message') {
		const inner = consoleErrors.map(String);
		if (inner.some((s) => /MessageCounterError|Key used already/.test(s))) return ['duplicate', inner.join('; ')];
		if (inner.some((s) => /Over 2000 messages/.test(s))) return ['invalid_message', inner.join('; ')];
		if (inner.some((s) => /Bad MAC/.test(s))) return ['bad_mac', inner.join('; ')];
		return ['invalid_message', inner.join('; ') || msg];
	}
	if (/Bad MAC|Invalid signature/.test(msg)) return ['bad_mac', msg];
	if (msg === 'InvalidMessageException') return ['bad_mac', 'sender-key message does not decrypt'];
	if (/No session found to decrypt|No SenderKeyRecord found|No session to encrypt/.test(msg)) return ['no_sender_key', msg];
	if (/Received message with old counter|No sender message key found/.test(msg)) return ['duplicate', msg];
	if (/Over 2000 messages|Incompatible version|index out of range|invalid wire type|illegal|Bad MAC length|No registrationId/i.test(msg)) return ['invalid_message', msg];
	return ['internal', (e?.stack || msg).split('\n').slice(0, 3).join(' | ')];
}

// ---- the operations -------------------------------------------------------------

const handedOut = new Set();

async function bundle() {
	const ids = readdirSync(dir).map((f) => /^pre-key-(\d+)\.json$/.exec(f)).filter(Boolean)
		.map((m) => Number(m[1])).sort((a, b) => a - b);
	let preKey = null;
	for (const id of ids) {
		if (handedOut.has(id)) continue;
		const { [id]: pk } = await keys.get('pre-key', [String(id)]);
		if (!pk?.public) continue;
		handedOut.add(id);
		preKey = { keyId: id, publicKey: pub33(pk.public) };
		break;
	}
	return {
		registrationId: creds.registrationId,
		identityKey: pub33(creds.signedIdentityKey.public),
		signedPreKey: {
			keyId: creds.signedPreKey.keyId,
			publicKey: pub33(creds.signedPreKey.keyPair.public),
			signature: b64(creds.signedPreKey.signature)
		},
		preKey
	};
}

function parseBundle(b) {
	if (!b || typeof b !== 'object' || !b.signedPreKey || typeof b.registrationId !== 'number') throw new ReqError('bad_request', 'bundle incomplete');
	const key33 = (v, what) => {
		const k = bin(v, what);
		if (k.length !== 33 || k[0] !== 5) throw new ReqError('bad_request', `${what}: not a 33-byte public key`);
		return k;
	};
	return {
		registrationId: b.registrationId,
		identityKey: key33(b.identityKey, 'bundle.identityKey'),
		signedPreKey: {
			keyId: b.signedPreKey.keyId,
			publicKey: key33(b.signedPreKey.publicKey, 'bundle.signedPreKey.publicKey'),
			signature: bin(b.signedPreKey.signature, 'bundle.signedPreKey.signature')
		},
		preKey: b.preKey ? { keyId: b.preKey.keyId, publicKey: key33(b.preKey.publicKey, 'bundle.preKey.publicKey') } : undefined
	};
}

function pkmsgPreKeyId(ct) {
	try {
		return PreKeyWhisperMessage.decode(ct.subarray(1)).preKeyId;
	} catch { return undefined; }
}

const ops = {
	bundle: async () => bundle(),
	process_bundle: async (r) => {
		const jid = userJid(r.jid);
		const session = parseBundle(r.bundle);
		await checkPeer(jid);
		await repo.injectE2ESession({ jid, session });
		return {};
	},
	encrypt: async (r) => {
		const jid = userJid(r.jid);
		const data = bin(r.pt, 'pt');
		await checkPeer(jid);
		const { type, ciphertext } = await repo.encryptMessage({ jid, data });
		return { type, ct: b64(ciphertext) };
	},
	decrypt: async (r) => {
		const jid = userJid(r.jid);
		if (r.type !== 'pkmsg' && r.type !== 'msg') throw new ReqError('bad_request', `type '${r.type}' is not pkmsg or msg`);
		const ct = bin(r.ct, 'ct');
		if (!ct.length) throw new ReqError('invalid_message', 'empty ciphertext');
		await checkPeer(jid);
		if (r.type === 'pkmsg') {
			const id = pkmsgPreKeyId(ct);
			if (id != null) checkFile('pre-key', String(id));
		}
		const pt = await repo.decryptMessage({ jid, type: r.type, ciphertext: ct });
		return { pt: b64(pt) };
	},
	group_encrypt: async (r) => {
		const group = groupJid(r.group);
		const data = bin(r.pt, 'pt');
		checkFile('sender-key', senderKeyId(group, creds.me.id));
		const { ciphertext, senderKeyDistributionMessage } = await repo.encryptGroupMessage({ group, meId: creds.me.id, data });
		return { skdm: b64(senderKeyDistributionMessage), ct: b64(ciphertext) };
	},
	process_skdm: async (r) => {
		const group = groupJid(r.group);
		const jid = userJid(r.jid);
		const skdm = bin(r.skdm, 'skdm');
		checkFile('sender-key', senderKeyId(group, jid));
		let msg;
		try { msg = new F.SenderKeyDistributionMessage(null, null, null, null, skdm); } catch (e) {
			throw new ReqError('invalid_message', `skdm: ${e.message}`);
		}
		void msg;
		await repo.processSenderKeyDistributionMessage({ item: { groupId: group, axolotlSenderKeyDistributionMessage: skdm }, authorJid: jid });
		return {};
	},
	group_decrypt: async (r) => {
		const group = groupJid(r.group);
		const jid = userJid(r.jid);
		const ct = bin(r.ct, 'ct');
		checkFile('sender-key', senderKeyId(group, jid));
		const pt = await repo.decryptGroupMessage({ group, authorJid: jid, msg: ct });
		return { pt: b64(pt) };
	},
	reopen: async () => { await open(); return {}; },
	identity: async (r) => {
		const jid = userJid(r.jid);
		const addr = await storageAddr(jid);
		checkFile('identity-key', addr);
		const { [addr]: k } = await keys.get('identity-key', [addr]);
		return { identityKey: k ? b64(k) : null };
	}
};

async function one(r) {
	consoleErrors = [];
	try {
		if (!r || typeof r !== 'object' || Array.isArray(r)) throw new ReqError('bad_request', 'a request is a JSON object');
		const f = Object.hasOwn(ops, r.op) ? ops[r.op] : null;
		if (!f) throw new ReqError('bad_request', `unknown op '${r.op}'`);
		return { ok: true, ...(await f(r)) };
	} catch (e) {
		const [error, detail] = classify(e);
		if (error === 'internal') process.stderr.write(`${PROG}: ${r?.op}: ${detail}\n`);
		return { ok: false, error, detail };
	}
}

class Rollback extends Error {}

async function handle(r) {
	if (r && r.op === 'batch') {
		if (!Array.isArray(r.requests)) return { ok: false, error: 'bad_request', detail: 'batch wants requests: [...]' };
		if (r.requests.some((q) => ['batch', 'quit', 'reopen'].includes(q?.op))) return { ok: false, error: 'bad_request', detail: 'no batch or quit inside a batch' };
		const responses = [];
		try {
			await keys.transaction(async () => {
				for (const q of r.requests) responses.push(await one(q));
				if (r.commit === false) throw new Rollback();
			}, 'batch');
		} catch (e) {
			if (!(e instanceof Rollback)) {
				const [error, detail] = classify(e);
				return { ok: false, error, detail };
			}
			return { ok: true, committed: false, responses };
		}
		return { ok: true, responses };
	}
	return one(r);
}

// ---- the loop -------------------------------------------------------------------

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
	if (!line.trim()) continue;
	let r;
	let resp;
	try { r = JSON.parse(line); } catch (e) { resp = { ok: false, error: 'bad_request', detail: `not JSON: ${e.message}` }; }
	if (!resp && r?.op === 'quit') break;
	if (!resp) resp = await handle(r);
	try { syncTouched(); } catch (e) {
		resp = { ok: false, error: 'internal', detail: `fsync: ${e.message}` };
	}
	process.stdout.write(JSON.stringify(resp) + '\n');
}
repo.close();
process.exit(0);

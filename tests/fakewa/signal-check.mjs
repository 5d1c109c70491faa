#!/usr/bin/env node
// signal-check.mjs - does Baileys load what wa wrote, and is it what
// libsignal-node would have written?
//
//	node tests/fakewa/signal-check.mjs load DIR
//	node tests/fakewa/signal-check.mjs compare BEFORE NODE OTHER
//
// load: every session-, sender-key-, pre-key- and identity-key- file of
// DIR is read the way a Baileys bot reads it: useMultiFileAuthState(DIR)'s
// keys.get (JSON.parse with BufferJSON.reviver; it returns null for a file
// that does not parse), then libsignal's SessionRecord.deserialize for a
// session and Baileys' SenderKeyRecord.deserialize for a sender key (what
// loadSession / loadSenderKey do), and the name must be the one Baileys
// builds for that id (fixFileName).  Prints one line per problem.
//
// compare: BEFORE is a copy of a folder, NODE the same folder after one
// step (one request) by signal-node.mjs, OTHER after the same step by the
// other implementation.  The two must hold the same set of files, and each
// file the same value after the masking below.  Objects compare as maps
// (key order is not significant: libsignal-node never depends on it),
// binary values in any form Baileys' reader accepts compare by their bytes.
//
// What is masked, and why (everything else must be equal):
//
//  1. indexInfo.created, indexInfo.used, and indexInfo.closed when it is
//     not -1: wall-clock milliseconds (Date.now() at the step).  Only
//     their type is compared (number; closed -1 stays -1 = the open one).
//  2. A session entry created in this step by process_bundle (not in
//     BEFORE, baseKeyType 1 = OURS): its base key is a fresh key pair
//     (SessionBuilder.initOutgoing: curve.generateKeyPair()), so the
//     _sessions map key, indexInfo.baseKey and pendingPreKey.baseKey are
//     masked; and X3DH mixes it in, so rule 3 applies to that entry too.
//  3. A fresh ratchet key pair: when currentRatchet.ephemeralKeyPair.pubKey
//     of an entry is not in BEFORE (not that entry's, not our signed
//     pre-key) on both sides, it was generated in this step (a DH ratchet
//     step in SessionCipher.maybeStepRatchet, or initSession for an
//     initiator).  Masked: ephemeralKeyPair (pub and priv),
//     currentRatchet.rootKey (HKDF over DH(their ratchet key, the new
//     private key)), and the sending chain keyed by the new public key
//     (its _chains map key and chainKey.key; its counter, chainType and
//     messageKeys stay compared).  The receiving chain of that step comes
//     from our previous ratchet key and is compared exactly.  One step is
//     one request: a batch could ratchet twice, and its second receiving
//     chain would depend on the first fresh key, so compare single steps.
//  4. A sender-key state created in this step by group_encrypt (its
//     senderKeyId not in BEFORE and it holds a private signing key):
//     GroupSessionBuilder.create draws senderKeyId, the chain seed and the
//     signing key pair at random.  Masked: senderKeyId, senderChainKey.seed,
//     senderSigningKey (public and private), and the seeds of its
//     senderMessageKeys (derived from the fresh chain seed); iterations are
//     compared.
// Nothing else is masked: identity-key, pre-key and creds.json files, the
// receiving chains, message keys, counters, registration ids, pendingPreKey
// ids and remote identities must be identical.
//
// Exit status: 0 nothing found, 1 problems or differences (one per line on
// stdout), 2 usage.

import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as F from './fixtures.mjs';

const { B, BufferJSON, libsignal, SenderKeyRecord } = F;
const TYPES = new Set(['session', 'sender-key', 'pre-key', 'identity-key']);

// ---- loading as Baileys does ----------------------------------------------------------

function signalAddr(jid) {
	const d = B.jidDecode(jid);
	const name = d.domainType ? `${d.user}_${d.domainType}` : d.user;
	return { name, device: d.device || 0, domain: d.domainType || 0, user: d.user };
}

export async function loadFolder(dir) {
	const { state } = await B.useMultiFileAuthState(dir);
	const problems = [];
	const values = {};
	for (const f of readdirSync(dir).sort()) {
		const p = F.parseKeyFileName(f);
		if (!p || !TYPES.has(p.type)) continue;
		if (F.keyFileName(p.type, p.id) !== f) { problems.push(`${f}: not the name Baileys gives ${p.type} '${p.id}'`); continue; }
		const { [p.id]: v } = await state.keys.get(p.type, [p.id]);
		if (v === null || v === undefined) { problems.push(`${f}: Baileys' keys.get reads it as absent (does not parse)`); continue; }
		try {
			if (p.type === 'session') {
				const r = libsignal.SessionRecord.deserialize(v);
				if (!r.getSessions().length) throw new Error('no session entries');
			} else if (p.type === 'sender-key') {
				const r = SenderKeyRecord.deserialize(v);
				if (r.isEmpty()) throw new Error('no sender-key states');
				r.getSenderKeyState().getSenderChainKey().getSenderMessageKey();
			} else if (p.type === 'identity-key') {
				if (!Buffer.isBuffer(v) || v.length !== 33 || v[0] !== 5) throw new Error('not a 33-byte 05-prefixed key');
			} else if (p.type === 'pre-key') {
				if (!Buffer.isBuffer(v.public) || v.public.length !== 32 || !Buffer.isBuffer(v.private) || v.private.length !== 32) throw new Error('not a 32-byte key pair');
			}
		} catch (e) {
			problems.push(`${f}: ${p.type} does not load: ${e.message}`);
			continue;
		}
		values[f] = { ...p, value: v };
	}
	// the file a JID's session lives in, with Baileys' PN -> LID redirection
	const storageName = (jid) => {
		const a = signalAddr(jid);
		let id = `${a.name}.${a.device}`;
		if (a.domain === 0 || a.domain === 128) {
			try {
				const lid = JSON.parse(readFileSync(join(dir, `lid-mapping-${a.user}.json`), 'utf-8'));
				if (typeof lid === 'string') id = `${lid}_${a.domain === 128 ? 129 : 1}.${a.device}`;
			} catch { /* no mapping */ }
		}
		return id;
	};
	return {
		dir, problems, values,
		sessionFile(jid) {
			const f = join(dir, F.keyFileName('session', storageName(jid)));
			return existsSync(f) ? f : null;
		},
		sessionFor(jid) {
			const v = values[F.keyFileName('session', storageName(jid))];
			if (!v) return null;
			const s = Object.values(v.value._sessions || {});
			return { sessions: s.length, open: s.filter((e) => e.indexInfo.closed === -1).length };
		}
	};
}

// ---- comparing ------------------------------------------------------------------------

// Binary values in the forms Baileys' reader accepts, as hex.
function bytesOf(v) {
	if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('hex');
	if (v && typeof v === 'object' && v.type === 'Buffer') {
		if (typeof v.data === 'string') return Buffer.from(v.data, 'base64').toString('hex');
		if (Array.isArray(v.data)) return Buffer.from(v.data).toString('hex');
	}
	return undefined;
}

export function deepDiff(a, b, path = '', out = []) {
	const ba = bytesOf(a); const bb = bytesOf(b);
	if (ba !== undefined || bb !== undefined) {
		if (ba !== bb) out.push(`${path}: ${short(ba ?? a)} != ${short(bb ?? b)}`);
		return out;
	}
	if (a && b && typeof a === 'object' && typeof b === 'object') {
		if (Array.isArray(a) !== Array.isArray(b)) { out.push(`${path}: array vs object`); return out; }
		if (Array.isArray(a)) {
			if (a.length !== b.length) out.push(`${path}: ${a.length} items != ${b.length}`);
			for (let i = 0; i < Math.min(a.length, b.length); i++) deepDiff(a[i], b[i], `${path}[${i}]`, out);
			return out;
		}
		for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
			if (!(k in a)) out.push(`${path}.${k}: only in the other`);
			else if (!(k in b)) out.push(`${path}.${k}: only in node's`);
			else deepDiff(a[k], b[k], `${path}.${k}`, out);
		}
		return out;
	}
	if (a !== b) out.push(`${path}: ${short(a)} != ${short(b)}`);
	return out;
}
const short = (v) => { const s = typeof v === 'string' ? v : JSON.stringify(v); return s && s.length > 40 ? s.slice(0, 37) + '...' : s; };

function collectKeys(beforeSession, creds) {
	// every ratchet public key BEFORE knew, plus our signed pre-key (a
	// responder's first ratchet key)
	const known = new Set();
	if (creds?.signedPreKey?.keyPair?.public) {
		known.add(Buffer.concat([Buffer.from([5]), Buffer.from(creds.signedPreKey.keyPair.public)]).toString('base64'));
	}
	for (const e of Object.values(beforeSession?._sessions || {})) {
		known.add(e.currentRatchet.ephemeralKeyPair.pubKey);
		for (const k of Object.keys(e._chains || {})) known.add(k);
	}
	return known;
}

function maskSession(rec, before, creds) {
	const known = collectKeys(before, creds);
	const out = { ...rec, _sessions: {} };
	let fresh = 0;
	for (const [k, e0] of Object.entries(rec._sessions || {})) {
		const e = JSON.parse(JSON.stringify(e0));
		let key = k;
		const inBefore = !!before?._sessions?.[k];
		if (!inBefore && e.indexInfo.baseKeyType === 1) { // rule 2
			key = `<fresh base key ${fresh++}>`;
			e.indexInfo.baseKey = '<fresh base key>';
			if (e.pendingPreKey) e.pendingPreKey.baseKey = '<fresh base key>';
		}
		for (const f of ['created', 'used']) if (typeof e.indexInfo[f] === 'number') e.indexInfo[f] = '<ms>'; // rule 1
		if (typeof e.indexInfo.closed === 'number' && e.indexInfo.closed !== -1) e.indexInfo.closed = '<ms>';
		const pub = e.currentRatchet.ephemeralKeyPair.pubKey;
		if (!known.has(pub)) { // rule 3
			e.currentRatchet.ephemeralKeyPair = '<fresh ratchet key pair>';
			e.currentRatchet.rootKey = '<derived from the fresh key>';
			if (e._chains[pub]) {
				const c = e._chains[pub];
				delete e._chains[pub];
				e._chains['<fresh sending chain>'] = { ...c, chainKey: { ...c.chainKey, key: c.chainKey.key === undefined ? undefined : '<derived>' } };
			}
		}
		out._sessions[key] = e;
	}
	return out;
}

function senderStates(v) {
	const raw = Buffer.isBuffer(v) ? v : Buffer.from(bytesOf(v) || '', 'hex');
	return JSON.parse(raw.toString('utf-8'));
}

function maskSenderKey(states, before) {
	const ids = new Set((before || []).map((s) => s.senderKeyId));
	return states.map((s0) => {
		const s = JSON.parse(JSON.stringify(s0));
		const priv = bytesOf(s.senderSigningKey?.private);
		if (!ids.has(s.senderKeyId) && priv && priv.length) { // rule 4
			s.senderKeyId = '<fresh>';
			s.senderChainKey = { ...s.senderChainKey, seed: '<fresh>' };
			s.senderSigningKey = '<fresh key pair>';
			s.senderMessageKeys = (s.senderMessageKeys || []).map((m) => ({ ...m, seed: '<derived>' }));
		}
		// normalise binary forms (number arrays or base64) to hex
		return JSON.parse(JSON.stringify(s, (k, v) => { const h = bytesOf(v); return h === undefined ? v : `hex:${h}`; }));
	});
}

function readJSON(dir, f) {
	try { return JSON.parse(readFileSync(join(dir, f), 'utf-8'), BufferJSON.reviver); } catch { return undefined; }
}

// One step, three folders: the differences left after masking.
export async function compareStep(beforeDir, nodeDir, otherDir) {
	const diffs = [];
	const other = await loadFolder(otherDir);
	for (const p of other.problems) diffs.push(`other: ${p}`);
	const node = await loadFolder(nodeDir);
	for (const p of node.problems) diffs.push(`node: ${p}`);
	const list = (d) => readdirSync(d).filter((f) => f !== '.wa').sort();
	const a = list(nodeDir); const b = list(otherDir);
	for (const f of a) if (!b.includes(f)) diffs.push(`${f}: written by node only`);
	for (const f of b) if (!a.includes(f)) diffs.push(`${f}: written by the other only`);
	const creds = readJSON(beforeDir, 'creds.json');
	for (const f of a.filter((x) => b.includes(x))) {
		const p = F.parseKeyFileName(f);
		const va = readJSON(nodeDir, f); const vb = readJSON(otherDir, f);
		if (va === undefined || vb === undefined) continue; // reported by loadFolder
		let d;
		if (p?.type === 'session') {
			const before = readJSON(beforeDir, f);
			d = deepDiff(maskSession(va, before, creds), maskSession(vb, before, creds));
		} else if (p?.type === 'sender-key') {
			const before = existsSync(join(beforeDir, f)) ? senderStates(readJSON(beforeDir, f)) : [];
			d = deepDiff(maskSenderKey(senderStates(va), before), maskSenderKey(senderStates(vb), before));
		} else {
			d = deepDiff(va, vb);
		}
		for (const x of d) diffs.push(`${f}${x.startsWith('[') ? '' : ' '}${x}`);
	}
	return diffs;
}

// ---- command line ---------------------------------------------------------------------

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
	const [cmd, ...args] = process.argv.slice(2);
	let lines;
	if (cmd === 'load' && args.length === 1) lines = (await loadFolder(args[0])).problems;
	else if (cmd === 'compare' && args.length === 3) lines = await compareStep(...args);
	else {
		process.stderr.write('usage: node tests/fakewa/signal-check.mjs load DIR\n       node tests/fakewa/signal-check.mjs compare BEFORE NODE OTHER\n');
		process.exit(2);
	}
	for (const l of lines) process.stdout.write(l + '\n');
	process.exit(lines.length ? 1 : 0);
}

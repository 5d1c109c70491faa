#!/usr/bin/env node
// verify-auth.mjs - check a Baileys multi-file auth folder the way Baileys sees it.
//
// usage: node tests/fakewa/verify-auth.mjs DIR [--snapshot FILE | --expect FILE]
//        [--peer-state FILE] [--ignore TYPE]... [--no-use] [--strict]
//
// 1. Read.  creds.json is read raw first (Baileys would silently replace a
//    missing or torn one with a new identity, so that is reported), then the
//    folder is opened with useMultiFileAuthState exactly as a bot does, and
//    every key file is read back through state.keys.get(type, [id]) with the
//    type and id taken from its name (the name must map back to itself).
// 2. Check.  Each value must be non-null and well-formed for its type:
//    key pairs match, the signed pre-key and the ADV account/device
//    signatures verify, sessions deserialize with libsignal's SessionRecord,
//    sender keys with Baileys' SenderKeyRecord, LT hashes equal the sum of
//    their value MACs, LID mappings have their reverse, no session hides
//    under a phone number that maps to a LID, myAppStateKeyId exists, ...
// 3. Use (on a throw-away copy of DIR, so DIR itself is never written):
//    a new simulated contact fetches our pre-key bundle from the folder,
//    runs X3DH, and we decrypt its pkmsg through Baileys' receive path and
//    answer it.  With --peer-state (written by mkauth.mjs) every saved peer
//    sends a new message that the folder's session must decrypt, gets an
//    answer, and each group goes both ways with the stored sender keys.
// 4. Compare.  --snapshot FILE writes creds and every key value as JSON
//    (BufferJSON form); --expect FILE compares with such a snapshot and
//    lists every difference (--ignore TYPE leaves a key type out).
//
// Problems go to stderr, one a line; "ok" and a summary to stdout.
// Exit status: 0 all well, 1 a problem was found, 2 usage.

import crypto from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as curve from 'libsignal/src/curve.js';
import * as F from './fixtures.mjs';

const { B, proto, libsignal, BufferJSON } = F;

// Baileys' Curve.verify ignores libsignal's false (it only fails when
// libsignal throws), so it accepts any well-formed signature.  Check with
// libsignal's verifySignature itself.
const sigOk = (pub32, msg, sig) => {
	try {
		return curve.verifySignature(Buffer.concat([Buffer.from([5]), Buffer.from(pub32).subarray(-32)]),
		    Buffer.from(msg), Buffer.from(sig)) === true;
	} catch {
		return false;
	}
};
const PROG = 'verify-auth';
const USAGE = 'usage: node tests/fakewa/verify-auth.mjs DIR [--snapshot FILE | --expect FILE] [--peer-state FILE]\n' +
	'       [--ignore TYPE]... [--no-use] [--strict]';
const SNAPSHOT_FORMAT = 'wa-fixture-snapshot/1';

function usage(msg) {
	if (msg) process.stderr.write(`${PROG}: ${msg}\n`);
	process.stderr.write(USAGE + '\n');
	process.exit(2);
}

function parseArgs(argv) {
	const o = { ignore: [], use: true, strict: false };
	for (let i = 0; i < argv.length; i++) {
		let a = argv[i];
		let v;
		const eq = a.indexOf('=');
		if (a.startsWith('--') && eq > 0) { v = a.slice(eq + 1); a = a.slice(0, eq); }
		const val = () => (v !== undefined ? v : (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`)));
		switch (a) {
		case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0); break;
		case '--snapshot': if (o.expect) usage('--snapshot and --expect exclude each other'); o.snapshot = val(); break;
		case '--expect': if (o.snapshot) usage('--snapshot and --expect exclude each other'); o.expect = val(); break;
		case '--peer-state': o.peerState = val(); break;
		case '--ignore': {
			const t = val();
			if (!F.KEY_TYPES.includes(t)) usage(`--ignore: unknown key type '${t}'`);
			o.ignore.push(t);
			break;
		}
		case '--no-use': o.use = false; break;
		case '--strict': o.strict = true; break;
		default:
			if (a.startsWith('-')) usage(`unknown option '${a}'`);
			if (o.dir !== undefined) usage(`one DIR only ('${o.dir}', '${a}')`);
			o.dir = a;
		}
	}
	if (o.dir === undefined) usage('DIR missing');
	return o;
}

const opt = parseArgs(process.argv.slice(2));
const problems = [];
const warnings = [];
const problem = (m) => problems.push(m);
const warn = (m) => (opt.strict ? problems : warnings).push(m);

// ---------------------------------------------------------------------------
// small checks

const isBuf = (b, len) => Buffer.isBuffer(b) && (len === undefined || b.length === len);
const b64 = (s) => (typeof s === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0 ? Buffer.from(s, 'base64') : null);
const bytesOf = (v) => (Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v) : b64(v));
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

function publicOf(priv) {
	const k = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, priv]), format: 'der', type: 'pkcs8' });
	return crypto.createPublicKey(k).export({ type: 'spki', format: 'der' }).subarray(-32);
}
function clamped(priv) { return (priv[0] & 7) === 0 && (priv[31] & 128) === 0 && (priv[31] & 64) !== 0; }

function checkKeyPair(where, kp) {
	if (!kp || !isBuf(kp.private, 32) || !isBuf(kp.public, 32)) {
		problem(`${where}: not a key pair of two 32-byte Buffers`);
		return false;
	}
	if (!publicOf(kp.private).equals(kp.public)) { problem(`${where}: public key does not belong to the private key`); return false; }
	if (!clamped(kp.private)) warn(`${where}: private key is not clamped`);
	return true;
}

const isInt = (n, lo = -Infinity, hi = Infinity) => Number.isInteger(n) && n >= lo && n <= hi;

// ---------------------------------------------------------------------------
// creds

function checkCreds(creds) {
	const w = 'creds.json';
	checkKeyPair(`${w} noiseKey`, creds.noiseKey);
	checkKeyPair(`${w} pairingEphemeralKeyPair`, creds.pairingEphemeralKeyPair);
	const idOk = checkKeyPair(`${w} signedIdentityKey`, creds.signedIdentityKey);
	const spk = creds.signedPreKey;
	if (!spk || !checkKeyPair(`${w} signedPreKey.keyPair`, spk.keyPair)) {
		if (!spk) problem(`${w}: signedPreKey missing`);
	} else {
		if (!isInt(spk.keyId, 1, 0xffffff)) problem(`${w}: signedPreKey.keyId is not a 24-bit id`);
		if (!isBuf(spk.signature, 64)) problem(`${w}: signedPreKey.signature is not 64 bytes`);
		else if (idOk && !sigOk(creds.signedIdentityKey.public, B.generateSignalPubKey(spk.keyPair.public), spk.signature)) {
			problem(`${w}: signedPreKey signature does not verify with signedIdentityKey`);
		}
	}
	if (!isInt(creds.registrationId, 0, 16383)) problem(`${w}: registrationId ${creds.registrationId} is not a 14-bit number`);
	if (!isBuf(b64(creds.advSecretKey) ?? Buffer.alloc(0), 32)) problem(`${w}: advSecretKey is not base64 of 32 bytes`);
	for (const f of ['nextPreKeyId', 'firstUnuploadedPreKeyId']) {
		if (!isInt(creds[f], 1)) problem(`${w}: ${f} is not a positive integer`);
	}
	if (creds.firstUnuploadedPreKeyId > creds.nextPreKeyId) problem(`${w}: firstUnuploadedPreKeyId is past nextPreKeyId`);
	if (!isInt(creds.accountSyncCounter, 0)) problem(`${w}: accountSyncCounter is not a counter`);
	if (!Array.isArray(creds.processedHistoryMessages)) problem(`${w}: processedHistoryMessages is not an array`);
	if (typeof creds.accountSettings?.unarchiveChats !== 'boolean') problem(`${w}: accountSettings.unarchiveChats missing`);
	if (typeof creds.registered !== 'boolean') problem(`${w}: registered is not a boolean`);

	if (creds.me) {
		const d = B.jidDecode(creds.me.id || '');
		if (!d?.user || d.server !== 's.whatsapp.net') problem(`${w}: me.id '${creds.me.id}' is not a phone-number JID`);
		if (creds.me.lid !== undefined && B.jidDecode(creds.me.lid)?.server !== 'lid') problem(`${w}: me.lid '${creds.me.lid}' is not a LID`);
	}
	if (!creds.account) {
		if (creds.me) warn(`${w}: me is set but account is not: pairing never finished`);
		return;
	}
	if (!creds.me) problem(`${w}: account without me`);
	const a = creds.account;
	const details = bytesOf(a.details);
	const accountKey = bytesOf(a.accountSignatureKey);
	const accountSig = bytesOf(a.accountSignature);
	const deviceSig = bytesOf(a.deviceSignature);
	if (!details || !isBuf(accountKey, 32) || !isBuf(accountSig, 64) || !isBuf(deviceSig, 64)) {
		problem(`${w}: account fields are not details/32-byte key/64-byte signatures`);
		return;
	}
	let identity;
	try { identity = proto.ADVDeviceIdentity.decode(details); } catch (e) { problem(`${w}: account.details is not an ADVDeviceIdentity: ${e.message}`); return; }
	if (!idOk) return;
	const hosted = identity.deviceType === proto.ADVEncryptionType.HOSTED;
	const accountMsg = Buffer.concat([hosted ? B.WA_ADV_HOSTED_ACCOUNT_SIG_PREFIX : B.WA_ADV_ACCOUNT_SIG_PREFIX, details, creds.signedIdentityKey.public]);
	if (!sigOk(accountKey, accountMsg, accountSig)) problem(`${w}: account signature does not verify for our identity key`);
	const deviceMsg = Buffer.concat([B.WA_ADV_DEVICE_SIG_PREFIX, details, creds.signedIdentityKey.public, accountKey]);
	if (!sigOk(creds.signedIdentityKey.public, deviceMsg, deviceSig)) problem(`${w}: device signature does not verify`);
	const primaryKey = B.generateSignalPubKey(accountKey);
	const ids = Array.isArray(creds.signalIdentities) ? creds.signalIdentities : [];
	const mine = ids.find((s) => isBuf(s?.identifierKey) && s.identifierKey.equals(primaryKey));
	if (!mine) problem(`${w}: signalIdentities has no entry for the account key`);
	else if (creds.me?.lid && mine.identifier?.name !== creds.me.lid) warn(`${w}: primary signal identity is named '${mine.identifier?.name}', not me.lid`);
	if (typeof creds.platform !== 'string' || !creds.platform) warn(`${w}: platform missing`);
}

// ---------------------------------------------------------------------------
// key values

function checkSession(where, v) {
	if (!v || typeof v !== 'object' || Buffer.isBuffer(v)) { problem(`${where}: not a SessionRecord object`); return null; }
	let rec;
	try { rec = libsignal.SessionRecord.deserialize(v); } catch (e) { problem(`${where}: SessionRecord.deserialize fails: ${e.message}`); return null; }
	const s33 = (s) => isBuf(b64(s) ?? Buffer.alloc(0), 33) && b64(s)[0] === 5;
	const s32 = (s) => isBuf(b64(s) ?? Buffer.alloc(0), 32);
	let open = 0;
	const entries = Object.entries(v._sessions || {});
	if (!entries.length) problem(`${where}: record holds no session`);
	if (entries.length > 40) problem(`${where}: ${entries.length} sessions, libsignal keeps 40`);
	for (const [base, s] of entries) {
		const p = `${where} session ${base.slice(0, 8)}…`;
		if (!s33(base) || s.indexInfo?.baseKey !== base) problem(`${p}: map key is not its 33-byte base key`);
		if (!isInt(s.registrationId, 0)) problem(`${p}: registrationId`);
		const r = s.currentRatchet || {};
		if (!s33(r.ephemeralKeyPair?.pubKey) || !s32(r.ephemeralKeyPair?.privKey)) problem(`${p}: bad ephemeral key pair`);
		else if (!publicOf(b64(r.ephemeralKeyPair.privKey)).equals(b64(r.ephemeralKeyPair.pubKey).subarray(1))) problem(`${p}: ephemeral public key does not match`);
		if (!s33(r.lastRemoteEphemeralKey) || !s32(r.rootKey) || !isInt(r.previousCounter, -1)) problem(`${p}: bad ratchet`);
		const ii = s.indexInfo || {};
		if (![1, 2].includes(ii.baseKeyType) || !s33(ii.remoteIdentityKey) || !isInt(ii.closed, -1)) problem(`${p}: bad indexInfo`);
		if (ii.closed === -1) open++;
		let sending = 0;
		for (const [rk, ch] of Object.entries(s._chains || {})) {
			if (!s33(rk) || ![1, 2].includes(ch.chainType) || !isInt(ch.chainKey?.counter, -1)) { problem(`${p}: bad chain ${rk.slice(0, 8)}…`); continue; }
			if (ch.chainKey.key !== undefined && !s32(ch.chainKey.key)) problem(`${p}: chain key is not 32 bytes`);
			if (ch.chainType === 1) sending++;
			for (const [n, mk] of Object.entries(ch.messageKeys || {})) {
				if (!/^\d+$/.test(n) || !s32(mk)) problem(`${p}: bad message key ${n}`);
			}
		}
		if (ii.closed === -1 && !(s._chains || {})[r.ephemeralKeyPair?.pubKey]) problem(`${p}: open session has no chain for its ephemeral key`);
		if (sending > 1) problem(`${p}: ${sending} sending chains`);
	}
	if (open > 1) problem(`${where}: ${open} open sessions`);
	if (!open) warn(`${where}: no open session (Baileys must start a new one)`);
	return rec;
}

function checkSenderKey(where, id, v, ourNames) {
	if (!isBuf(v)) { problem(`${where}: not a Buffer`); return; }
	const m = /^(.+)::([^:]+)::(\d+)$/.exec(id);
	if (!m) problem(`${where}: id is not <group>::<signal name>::<device>`);
	let rec;
	try { rec = F.SenderKeyRecord.deserialize(v); } catch (e) { problem(`${where}: SenderKeyRecord.deserialize fails: ${e.message}`); return; }
	if (rec.isEmpty()) { problem(`${where}: no sender-key state`); return; }
	if (rec.senderKeyStates.length > 5) problem(`${where}: ${rec.senderKeyStates.length} states, Baileys keeps 5`);
	for (const [i, st] of rec.senderKeyStates.entries()) {
		const p = `${where} state ${i}`;
		try {
			if (!isInt(st.getKeyId(), 0)) problem(`${p}: key id`);
			const ck = st.getSenderChainKey();
			if (!isInt(ck.getIteration(), 0) || ck.getSeed().length !== 32) problem(`${p}: chain key`);
			const pub = Buffer.from(st.getSigningKeyPublic());
			if (pub.length !== 33 || pub[0] !== 5) problem(`${p}: signing public key is not 33 bytes with 0x05`);
			const priv = st.getSigningKeyPrivate();
			if (priv && priv.length && priv.length !== 32) problem(`${p}: signing private key is ${priv.length} bytes`);
			if (priv?.length === 32 && !publicOf(Buffer.from(priv)).equals(pub.subarray(1))) problem(`${p}: signing key pair does not match`);
			const mks = st.senderKeyStateStructure?.senderMessageKeys || [];
			if (mks.length > 2000) problem(`${p}: ${mks.length} message keys`);
		} catch (e) { problem(`${p}: unreadable: ${e.message}`); }
	}
	if (m && ourNames.has(`${m[2]}.${m[3]}`)) {
		const priv = rec.getSenderKeyState()?.getSigningKeyPrivate();
		if (!priv || priv.length !== 32) problem(`${where}: our own sender key lacks its private signing key`);
	}
}

function checkValue(type, id, v, file, ctx) {
	const where = `'${file}'`;
	switch (type) {
	case 'pre-key':
		if (!/^\d+$/.test(id)) problem(`${where}: pre-key id is not a number`);
		if (checkKeyPair(where, v) && ctx.credsOk && +id >= ctx.creds.nextPreKeyId) {
			problem(`${where}: id ${id} is not below nextPreKeyId ${ctx.creds.nextPreKeyId}; Baileys will overwrite it`);
		}
		break;
	case 'session': {
		if (!/^\d+(_\d+)?\.\d+$/.test(id)) warn(`${where}: '${id}' is not a Signal address user[_domain].device`);
		const rec = checkSession(where, v);
		if (rec) ctx.sessions.set(id, v);
		break;
	}
	case 'identity-key':
		if (!isBuf(v, 33) || v[0] !== 5) problem(`${where}: not a 33-byte key with 0x05`);
		else ctx.identities.set(id, v);
		break;
	case 'sender-key':
		checkSenderKey(where, id, v, ctx.ourNames);
		break;
	case 'sender-key-memory':
		if (!v || typeof v !== 'object' || Array.isArray(v) || Buffer.isBuffer(v)) { problem(`${where}: not an object`); break; }
		for (const [jid, t] of Object.entries(v)) {
			if (!B.jidDecode(jid)?.user) problem(`${where}: '${jid}' is not a JID`);
			if (typeof t !== 'boolean') problem(`${where}: value for '${jid}' is not a boolean`);
		}
		break;
	case 'app-state-sync-key': {
		const raw = b64(id);
		if (!raw || !raw.length) problem(`${where}: id is not base64`);
		const kd = v?.keyData;
		if (!(v instanceof proto.Message.AppStateSyncKeyData) || !kd || kd.length !== 32) problem(`${where}: keyData is not 32 bytes`);
		break;
	}
	case 'app-state-sync-version': {
		if (!isInt(v?.version, 0) || !isBuf(v?.hash, 128) || !v.indexValueMap || typeof v.indexValueMap !== 'object') {
			problem(`${where}: not an LTHashState {version, 128-byte hash, indexValueMap}`);
			break;
		}
		const macs = [];
		for (const [index, e] of Object.entries(v.indexValueMap)) {
			if (!isBuf(b64(index) ?? Buffer.alloc(0), 32) || !isBuf(e?.valueMac, 32)) { problem(`${where}: bad index entry ${index}`); continue; }
			macs.push(e.valueMac);
		}
		const sum = Buffer.from(B.LT_HASH_ANTI_TAMPERING.subtractThenAdd(new Uint8Array(128), [], macs));
		if (!sum.equals(v.hash)) problem(`${where}: hash is not the LT hash of its value MACs`);
		break;
	}
	case 'lid-mapping':
		if (typeof v !== 'string' || !/^\d+$/.test(v)) problem(`${where}: not a user-part string`);
		else ctx.lidMap.set(id, v);
		break;
	case 'device-list':
		if (!Array.isArray(v) || !v.every((d) => typeof d === 'string' && /^\d+$/.test(d))) problem(`${where}: not an array of device-id strings`);
		break;
	case 'tctoken':
		if (!isBuf(v?.token) || !v.token.length) { problem(`${where}: token is not a non-empty Buffer`); break; }
		if (id === '__index') {
			let list;
			try { list = JSON.parse(v.token.toString()); } catch { list = null; }
			if (!Array.isArray(list) || !list.every((j) => typeof j === 'string')) problem(`${where}: index token is not a JSON array of JIDs`);
		} else if (v.timestamp !== undefined && !/^\d+$/.test(String(v.timestamp))) problem(`${where}: timestamp is not unix seconds`);
		break;
	}
}

function crossChecks(ctx) {
	const { creds } = ctx;
	for (const [k, v] of ctx.lidMap) {
		if (k.endsWith('_reverse')) {
			const lid = k.slice(0, -8);
			if (ctx.lidMap.get(v) !== lid) problem(`lid-mapping: ${lid} -> ${v} has no forward entry ${v} -> ${lid}`);
		} else if (ctx.lidMap.get(`${v}_reverse`) !== k) {
			problem(`lid-mapping: ${k} -> ${v} has no reverse entry ${v}_reverse -> ${k}`);
		}
	}
	for (const [addr, v] of ctx.sessions) {
		const m = /^(\d+)\.(\d+)$/.exec(addr); // phone-number address
		if (m && ctx.lidMap.has(m[1])) {
			problem(`'${F.keyFileName('session', addr)}': ${m[1]} maps to LID ${ctx.lidMap.get(m[1])}; Baileys looks for ${ctx.lidMap.get(m[1])}_1.${m[2]} and never reads this session`);
		}
		const idk = ctx.identities.get(addr);
		const open = Object.values(v._sessions || {}).find((s) => s.indexInfo?.closed === -1);
		if (idk && open && !b64(open.indexInfo.remoteIdentityKey)?.equals(idk)) {
			problem(`'${F.keyFileName('session', addr)}': remote identity differs from identity-key-${addr}`);
		}
	}
	if (creds.myAppStateKeyId && !ctx.present.has(`app-state-sync-key/${creds.myAppStateKeyId}`)) {
		problem(`creds.json: myAppStateKeyId ${creds.myAppStateKeyId} has no app-state-sync-key file`);
	}
}

// ---------------------------------------------------------------------------
// read the folder

async function readFolder(dir) {
	let st;
	try { st = statSync(dir); } catch (e) { F.fail(PROG, `unable to open '${dir}': ${e.code === 'ENOENT' ? 'No such file or directory' : e.message}`); }
	if (!st.isDirectory()) F.fail(PROG, `'${dir}' is not a directory`);

	let credsOk = true;
	let rawCreds;
	try {
		rawCreds = readFileSync(join(dir, 'creds.json'), 'utf-8');
	} catch (e) {
		credsOk = false;
		problem(e.code === 'ENOENT'
			? `'creds.json' missing: Baileys would start a new, unpaired identity`
			: `unable to read 'creds.json': ${e.message}`);
	}
	if (credsOk) {
		try { JSON.parse(rawCreds); } catch (e) {
			credsOk = false;
			problem(`'creds.json' unparseable (${e.message}): Baileys would silently replace it with a new identity`);
		}
	}
	const { state } = await B.useMultiFileAuthState(dir);
	const creds = state.creds;
	if (credsOk) {
		const raw = JSON.parse(rawCreds, BufferJSON.reviver);
		if (JSON.stringify(raw, BufferJSON.replacer) !== JSON.stringify(creds, BufferJSON.replacer)) problem(`'creds.json': Baileys read something else than the file holds`);
		checkCreds(creds);
	}
	const ourNames = new Set();
	for (const j of [creds.me?.id, creds.me?.lid]) if (j) ourNames.add(F.signalAddr(j));

	const ctx = { creds, credsOk, sessions: new Map(), identities: new Map(), lidMap: new Map(), present: new Set(), ourNames, keys: {}, counts: {} };
	const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	for (const ent of entries) {
		const name = ent.name;
		if (name === 'creds.json' || name.startsWith('.')) continue;
		if (!ent.isFile()) { warn(`'${name}': not a regular file, ignored`); continue; }
		const parsed = F.parseKeyFileName(name);
		if (!parsed) { warn(`'${name}': not a Baileys key file, ignored`); continue; }
		const { type, id } = parsed;
		if (F.keyFileName(type, id) !== name) { problem(`'${name}': no ${type} id maps to this name`); continue; }
		try { JSON.parse(readFileSync(join(dir, name), 'utf-8')); } catch (e) {
			problem(`'${name}': unparseable (${e.message}): Baileys reads it as absent`);
			continue;
		}
		const { [id]: value } = await state.keys.get(type, [id]);
		if (value === null || value === undefined) { problem(`'${name}': Baileys reads it as null`); continue; }
		ctx.present.add(`${type}/${id}`);
		ctx.counts[type] = (ctx.counts[type] || 0) + 1;
		(ctx.keys[type] ??= {})[id] = value;
		checkValue(type, id, value, name, ctx);
	}
	if (credsOk) crossChecks(ctx);
	return ctx;
}

// ---------------------------------------------------------------------------
// use the folder (on a copy)

async function useFolder(dir, ctx) {
	const done = [];
	const tmp = mkdtempSync(join(tmpdir(), 'verify-auth-'));
	try {
		cpSync(dir, join(tmp, 'auth'), { recursive: true });
		const bctx = await F.openBaileysAuth(join(tmp, 'auth'));
		const { creds, keys, repo } = bctx;
		const receiveText = async (stanza, want, what) => {
			let full;
			try {
				full = creds.me ? await F.receive(bctx, stanza) : null;
				if (!creds.me) {
					const e = stanza.content[0];
					const pt = await repo.decryptMessage({ jid: stanza.attrs.from, type: e.attrs.type, ciphertext: e.content });
					full = { message: F.decodeMessage(pt) };
				}
			} catch (e) { problem(`${what}: ${e.message}`); return false; }
			if (full.message?.conversation !== want) { problem(`${what}: decrypted text garbled`); return false; }
			return true;
		};
		const sendText = async (peer, peerAddr, jid, text, what) => {
			try {
				const { type, ciphertext } = await repo.encryptMessage({ jid, data: F.encodeText(text) });
				const got = F.decodeMessage(await peer.decrypt(peerAddr, type, ciphertext));
				if (got.conversation !== text) throw new Error('garbled');
				return true;
			} catch (e) { problem(`${what}: ${e.message}`); return false; }
		};

		// a new contact runs X3DH against our bundle
		try {
			const preKeyIds = Object.keys(ctx.keys['pre-key'] || {}).map(Number).sort((a, b) => a - b);
			const fresh = new F.SimPeer();
			let n = 0;
			let jid;
			do { jid = `1999${String(++n).padStart(7, '0')}@s.whatsapp.net`; } while (ctx.sessions.has(F.signalAddr(jid)));
			const ourAddr = creds.me ? F.signalAddr(creds.me.id) : '0.0';
			await fresh.initOutgoing(ourAddr, await F.ourBundle(creds, keys, preKeyIds[0]));
			const { type, ciphertext } = await fresh.encrypt(ourAddr, F.encodeText('hello from a new contact'));
			const what = `X3DH from a new contact (pre-key ${preKeyIds[0] ?? 'none'})`;
			if (await receiveText(F.messageStanza({ from: jid, encs: [{ type, ciphertext }] }), 'hello from a new contact', what) &&
				await sendText(fresh, ourAddr, jid, 'welcome', `${what}: our answer`)) {
				done.push('X3DH with a new contact');
			}
		} catch (e) { problem(`X3DH from a new contact: ${e.message}`); }

		if (opt.peerState) {
			let ps;
			try { ps = F.readPeerState(opt.peerState); } catch (e) { problem(`unable to read peer state '${opt.peerState}': ${e.message}`); return done; }
			if (!ps.me || !Buffer.from(ps.me.identity).equals(Buffer.from(creds.signedIdentityKey.public))) {
				problem(`peer state '${opt.peerState}' was made for another identity`);
				return done;
			}
			let ok = 0;
			for (const d of ps.devices) {
				const text = `verify ${d.label} ${crypto.randomBytes(4).toString('hex')}`;
				let type, ciphertext;
				try { ({ type, ciphertext } = await d.peer.encrypt(d.ourAddr, F.encodeText(text))); } catch (e) {
					problem(`peer state: ${d.label} cannot encrypt: ${e.message}`);
					continue;
				}
				const inOk = await receiveText(F.messageStanza({ from: d.jid, encs: [{ type, ciphertext }] }), text, `session with ${d.label} (${d.jid})`);
				const outOk = inOk && await sendText(d.peer, d.ourAddr, d.jid, `re: ${text}`, `session with ${d.label} (${d.jid}): our answer`);
				if (outOk) ok++;
			}
			done.push(`${ok}/${ps.devices.length} peer sessions both ways`);
			let gok = 0;
			for (const g of ps.groups) {
				let good = true;
				for (const m of g.members) {
					const d = ps.devices[m.device];
					const text = `verify ${d.label} in ${g.jid}`;
					let sk;
					try { sk = await d.peer.groupEncrypt(g.jid, m.authorAddr, F.encodeText(text)); } catch (e) {
						problem(`peer state: ${d.label} cannot encrypt to ${g.jid}: ${e.message}`);
						good = false;
						continue;
					}
					const stanza = F.messageStanza({ from: g.jid, participant: m.authorJid, attrs: { addressing_mode: g.addressing }, encs: [{ type: 'skmsg', ciphertext: sk }] });
					good = await receiveText(stanza, text, `group ${g.jid}: sender key of ${m.authorJid}`) && good;
				}
				const text = `verify us in ${g.jid}`;
				let ct;
				try {
					({ ciphertext: ct } = await repo.encryptGroupMessage({ group: g.jid, meId: g.meSender, data: F.encodeText(text) }));
				} catch (e) { problem(`group ${g.jid}: our sender key: ${e.message}`); good = false; }
				for (const i of ct ? g.recipients : []) {
					const d = ps.devices[i];
					try {
						const got = F.decodeMessage(await d.peer.groupDecrypt(g.jid, g.ourSenderAddr, ct));
						if (got.conversation !== text) throw new Error('garbled');
					} catch (e) { problem(`group ${g.jid}: ${d.label} cannot read our sender-key message: ${e.message}`); good = false; }
				}
				if (good) gok++;
			}
			if (ps.groups.length) done.push(`${gok}/${ps.groups.length} groups both ways`);
		}
		repo.close();
	} finally {
		rmSync(tmp, { recursive: true, force: true });
	}
	return done;
}

// ---------------------------------------------------------------------------
// snapshots

const plain = (v) => JSON.parse(JSON.stringify(v, BufferJSON.replacer));

function snapshotOf(ctx) {
	const keys = {};
	for (const [type, byId] of Object.entries(ctx.keys)) {
		if (opt.ignore.includes(type)) continue;
		keys[type] = plain(byId);
	}
	return { format: SNAPSHOT_FORMAT, creds: plain(ctx.creds), keys };
}

function diff(a, b, path, out, limit = 8) {
	if (out.length >= limit) return;
	const show = (v) => { const s = JSON.stringify(v); return s === undefined ? 'absent' : s.length > 60 ? s.slice(0, 57) + '...' : s; };
	if (a === b) return;
	if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
		for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[k], b[k], `${path}.${k}`, out, limit);
		return;
	}
	out.push(`${path}: was ${show(a)}, now ${show(b)}`);
}

function compare(before, now) {
	if (before.format !== SNAPSHOT_FORMAT) { problem(`'${opt.expect}' is not a snapshot`); return; }
	const d = [];
	diff(before.creds, now.creds, 'creds', d, 20);
	for (const line of d) problem(`differs: ${line}`);
	const types = new Set([...Object.keys(before.keys), ...Object.keys(now.keys)]);
	for (const type of types) {
		if (opt.ignore.includes(type)) continue;
		const was = before.keys[type] || {};
		const is = now.keys[type] || {};
		for (const id of new Set([...Object.keys(was), ...Object.keys(is)])) {
			const file = F.keyFileName(type, id);
			if (!(id in is)) { problem(`differs: '${file}' is gone`); continue; }
			if (!(id in was)) { problem(`differs: '${file}' is new`); continue; }
			const dd = [];
			diff(was[id], is[id], file, dd);
			for (const line of dd) problem(`differs: ${line}`);
		}
	}
}

// ---------------------------------------------------------------------------

try {
	const ctx = await readFolder(opt.dir);
	let used = [];
	if (opt.use && ctx.credsOk) used = await useFolder(opt.dir, ctx);
	else if (opt.peerState) problem('peer state not tried: creds.json is unusable');
	const snap = snapshotOf(ctx);
	if (opt.expect) {
		let before;
		try { before = JSON.parse(readFileSync(opt.expect, 'utf-8')); } catch (e) { F.fail(PROG, `unable to read snapshot '${opt.expect}': ${e.message}`); }
		compare(before, snap);
	}
	for (const w of warnings) process.stderr.write(`${PROG}: '${opt.dir}': warning: ${w}\n`);
	for (const p of problems) process.stderr.write(`${PROG}: '${opt.dir}': ${p}\n`);
	if (problems.length) {
		process.stderr.write(`${PROG}: '${opt.dir}': ${problems.length} problem${problems.length > 1 ? 's' : ''}\n`);
		process.exit(1);
	}
	if (opt.snapshot) writeFileSync(opt.snapshot, JSON.stringify(snap, null, 1) + '\n', { mode: 0o600 });
	const who = ctx.creds.account ? `paired as ${ctx.creds.me.id}` : 'unpaired';
	const n = Object.values(ctx.counts).reduce((a, b) => a + b, 0);
	const what = Object.entries(ctx.counts).map(([t, c]) => `${t} ${c}`).join(', ');
	process.stdout.write(`ok '${opt.dir}': ${who}; ${n} key files${n ? ` (${what})` : ''}` +
		`${used.length ? '; used: ' + used.join(', ') : ''}${opt.expect ? '; same as snapshot' : ''}\n`);
	process.exit(0);
} catch (e) {
	process.stderr.write(`${PROG}: '${opt.dir}': ${(process.env.WA_FIXTURE_DEBUG && e?.stack) || e?.message || e}\n`);
	process.exit(1);
}

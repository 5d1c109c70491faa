#!/usr/bin/env node
// pair-vectors.mjs: pairing vectors for wa's t-pair and t-curve, made with
// Baileys' own functions (wa-protocol(7) §6, §7).
//
//   node pair-vectors.mjs > ../unit/pair-vectors.h
//   node pair-vectors.mjs --check FILE
//   node pair-vectors.mjs --check-creds CREDS.JSON
//
// Randomness is seeded (fixtures.mjs seedRandomness) and Baileys' Curve.sign
// takes no random input, so the header is the same on every run.
//
// What it makes:
//  * creds: Baileys' initAuthCreds(), written with BufferJSON as
//    useMultiFileAuthState writes creds.json.  A second set ("code") is the
//    same after a link-code exchange: pairingCode, the derived advSecretKey,
//    registered = true, as Baileys' requestPairingCode and its
//    link_code_companion_reg handler leave them (without the early `me`,
//    which wa never writes).
//  * pair-success vectors: a simulated primary phone (its identity key is
//    the account signature key) signs an ADVDeviceIdentity for our identity
//    key with Curve.sign and wraps it with hmacSign keyed by the adv secret,
//    as mkauth.mjs does.  Valid ones (E2EE; hosted with a business name;
//    one after code pairing) carry what Baileys' configureSuccessfulPairing
//    makes of them: the creds after Object.assign(creds, update), as
//    creds.json text, and the reply's <device-identity> bytes and key-index.
//    Forged ones are each broken in one way and name the check of pair.h
//    that must reject them; "baileys" records whether Baileys rc14 accepts
//    the forgery (its Curve.verify accepts any well-formed signature).
//  * link code: bytesToCrockford of 5 fixed bytes; the companion's wrapped
//    ephemeral key (derivePairingCodeKey + aesEncryptCTR, as
//    generatePairingKey); the primary's wrapped ephemeral key; and the
//    companion_finish bundle and adv secret computed step by step as
//    Baileys' link_code_companion_reg handler does (Curve.sharedKey, hkdf,
//    aesEncryptGCM) with fixed random inputs.
//  * curve: Curve.sign signatures over messages of several lengths, for
//    t-curve to verify, and a key pair to check public-key derivation.
//
// --check FILE reads what `t-pair --reply FILE` wrote for the valid
// vectors (JSON lines {name, reply, keyIndex, creds}) and checks it the
// way the server and Baileys would: the reply decodes, has no
// accountSignatureKey, keeps details and accountSignature, and its
// deviceSignature verifies with libsignal's verifySignature (not Baileys'
// Curve.verify, which accepts anything well-formed) over 06 01 || details
// || identity || accountKey; key-index is Baileys'; creds.json parses with
// BufferJSON.reviver and, once the device signature (random in XEdDSA) is
// swapped for Baileys', is the same text Baileys writes, byte for byte.
// Exit 0 if all is well, 1 with one line per problem otherwise.

import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as F from './fixtures.mjs';
import * as curve from 'libsignal/src/curve.js';

const { B, proto, BufferJSON } = F;
F.seedRandomness('wa pair vectors 1');

const hex = (b) => Buffer.from(b).toString('hex');
const cbytes = (b) => {
	const h = hex(b).match(/../g) || [];
	const lines = [];
	for (let i = 0; i < h.length; i += 16)
		lines.push('\t' + h.slice(i, i + 16).map(x => '0x' + x).join(', ') + ',');
	return lines.join('\n');
};
const cstr = (s) => JSON.stringify(s); // JSON string escapes are valid C for ASCII
const realVerify = (pub32, msg, sig) => {
	try {
		return curve.verifySignature(Buffer.concat([Buffer.from([5]), pub32]), Buffer.from(msg), Buffer.from(sig)) === true;
	} catch {
		return false;
	}
};
const credsText = (c) => JSON.stringify(c, BufferJSON.replacer);
const clone = (c) => JSON.parse(credsText(c), BufferJSON.reviver);

// ---- creds ---------------------------------------------------------------
const credsQr = B.initAuthCreds();

// the link-code exchange, companion side first (generatePairingKey)
const lcRaw = Buffer.from([0x5a, 0x0f, 0xc3, 0x99, 0x21]);
const lcCode = B.bytesToCrockford(lcRaw);
const lcSalt = Buffer.alloc(32, 0).map((_, i) => i + 1);
const lcIv = Buffer.alloc(16, 0).map((_, i) => 0xa0 + i);
const lcWrapped = Buffer.concat([lcSalt, lcIv,
	B.aesEncryptCTR(credsQr.pairingEphemeralKeyPair.public, await B.derivePairingCodeKey(lcCode, lcSalt), lcIv)]);
// the primary: its ephemeral key, wrapped with the same code, and its identity
const primaryIdentity = B.Curve.generateKeyPair();
const primaryEph = B.Curve.generateKeyPair();
const pSalt = Buffer.alloc(32, 0x33).map((v, i) => v ^ i);
const pIv = Buffer.alloc(16, 0x44).map((v, i) => v ^ i);
const lcPrimaryWrapped = Buffer.concat([pSalt, pIv,
	B.aesEncryptCTR(primaryEph.public, await B.derivePairingCodeKey(lcCode, pSalt), pIv)]);
// companion_finish, as Baileys' handler computes it, with fixed randoms
const lcAdvRandom = Buffer.alloc(32, 0).map((_, i) => 0x80 + i);
const lcBundleSalt = Buffer.alloc(32, 0).map((_, i) => 0x20 + 3 * i);
const lcNonce = Buffer.from('00112233445566778899aabb', 'hex');
let lcBundle, lcAdv;
{
	const buf = lcPrimaryWrapped;
	const key = await B.derivePairingCodeKey(lcCode, buf.slice(0, 32));
	const codePairingPublicKey = B.aesDecryptCTR(buf.slice(48, 80), key, buf.slice(32, 48));
	const companionSharedKey = B.Curve.sharedKey(credsQr.pairingEphemeralKeyPair.private, codePairingPublicKey);
	const expanded = B.hkdf(companionSharedKey, 32, { salt: lcBundleSalt, info: 'link_code_pairing_key_bundle_encryption_key' });
	const payload = Buffer.concat([Buffer.from(credsQr.signedIdentityKey.public), primaryIdentity.public, lcAdvRandom]);
	const encrypted = B.aesEncryptGCM(payload, expanded, lcNonce, Buffer.alloc(0));
	lcBundle = Buffer.concat([lcBundleSalt, lcNonce, encrypted]);
	const identitySharedKey = B.Curve.sharedKey(credsQr.signedIdentityKey.private, primaryIdentity.public);
	lcAdv = Buffer.from(B.hkdf(Buffer.concat([companionSharedKey, identitySharedKey, lcAdvRandom]), 32, { info: 'adv_secret' }));
	// the primary's side agrees: same shared secret, and the bundle opens
	const primaryShared = B.Curve.sharedKey(primaryEph.private, credsQr.pairingEphemeralKeyPair.public);
	if (!primaryShared.equals(companionSharedKey)) throw new Error('link code: shared secrets differ');
	const opened = B.aesDecryptGCM(encrypted, expanded, lcNonce, Buffer.alloc(0));
	if (!opened.equals(payload)) throw new Error('link code: bundle does not open');
}
const credsCode = clone(credsQr);
Object.assign(credsCode, { pairingCode: lcCode });
Object.assign(credsCode, { advSecretKey: lcAdv.toString('base64'), registered: true });
const CREDS = { qr: credsQr, code: credsCode };

// ---- pair-success vectors ------------------------------------------------
const account = primaryIdentity; // the primary's identity is the account key
const other = B.Curve.generateKeyPair();
const NOT_PROTOBUF = Buffer.from([0x0f, 0xff, 0xff, 0xff]);
const HOSTED = proto.ADVEncryptionType.HOSTED;
const E2EE = proto.ADVEncryptionType.E2EE;

function pairSuccess(o = {}) {
	const creds = CREDS[o.creds || 'qr'];
	const detailsObj = { rawId: 1234567, timestamp: 1767225600, keyIndex: 7, ...(o.details || {}) };
	for (const k of Object.keys(detailsObj)) if (detailsObj[k] === undefined) delete detailsObj[k];
	const details = o.detailsRaw || Buffer.from(proto.ADVDeviceIdentity.encode(detailsObj).finish());
	const hostedDevice = detailsObj.deviceType === HOSTED;
	const sigPrefix = o.sigPrefix || (hostedDevice ? B.WA_ADV_HOSTED_ACCOUNT_SIG_PREFIX : B.WA_ADV_ACCOUNT_SIG_PREFIX);
	const signedFor = o.signedFor || creds.signedIdentityKey.public;
	let accountSignature = Buffer.from(B.Curve.sign(o.signer || account.private, Buffer.concat([sigPrefix, details, signedFor])));
	const signed = { details, accountSignatureKey: account.public, accountSignature };
	if (o.post) o.post(signed);
	const signedBytes = o.signedRaw || Buffer.from(proto.ADVSignedDeviceIdentity.encode(signed).finish());
	const hmacHosted = o.hmacHosted ?? (o.accountType === HOSTED);
	const hmacKey = o.hmacKey || Buffer.from(creds.advSecretKey, 'base64');
	let hmac = B.hmacSign(Buffer.concat([hmacHosted ? B.WA_ADV_HOSTED_ACCOUNT_SIG_PREFIX : Buffer.alloc(0), signedBytes]), hmacKey);
	if (o.hmacFlip) { hmac = Buffer.from(hmac); hmac[5] ^= 0x10; }
	const container = { details: signedBytes, hmac };
	if (o.accountType !== undefined) container.accountType = o.accountType;
	let identity = Buffer.from(proto.ADVSignedDeviceIdentityHMAC.encode(container).finish());
	if (o.identityRaw) identity = o.identityRaw;
	if (o.truncate) identity = identity.subarray(0, identity.length - o.truncate);
	const dev = { jid: '15550001111:12@s.whatsapp.net', lid: '99990001111:12@lid', ...(o.device || {}) };
	for (const k of Object.keys(dev)) if (dev[k] === undefined) delete dev[k];
	const children = [];
	if (!o.noIdentity) children.push({ tag: 'device-identity', attrs: {}, content: identity });
	if (o.platform !== null) children.push({ tag: 'platform', attrs: { name: o.platform || 'android' } });
	children.push({ tag: 'device', attrs: dev });
	if (o.biz) children.push({ tag: 'biz', attrs: { name: o.biz } });
	const stanza = { tag: 'iq', attrs: { from: 's.whatsapp.net', type: 'set', id: 'pair-1', xmlns: 'md' },
		content: [{ tag: 'pair-success', attrs: {}, content: children }] };
	return { creds: o.creds || 'qr', identity: o.noIdentity ? null : identity, dev, platform: o.platform === null ? null : (o.platform || 'android'), biz: o.biz || null, stanza };
}

const V = [
	// name, check (null = valid), options
	['valid e2ee', null, {}],
	['valid hosted account with a business name', null, { accountType: HOSTED, details: { deviceType: HOSTED, accountType: HOSTED }, biz: 'Acme Café', platform: 'smba' }],
	['valid after code pairing', null, { creds: 'code', platform: 'iphone' }],
	['valid without platform', null, { platform: null, details: { keyIndex: 300 } }],
	['no device-identity', 'missing', { noIdentity: true }],
	['no device jid', 'missing', { device: { jid: undefined } }],
	['device-identity not a protobuf', 'identity-decode', { identityRaw: NOT_PROTOBUF }],
	['device-identity truncated', 'identity-decode', { truncate: 10 }],
	['hmac container without hmac', 'identity-parts', { identityRaw: Buffer.from(proto.ADVSignedDeviceIdentityHMAC.encode({ details: Buffer.from('abc') }).finish()) }],
	['hmac 31 bytes', 'identity-parts', { identityRaw: Buffer.from(proto.ADVSignedDeviceIdentityHMAC.encode({ details: Buffer.from('abc'), hmac: Buffer.alloc(31, 1) }).finish()) }],
	['hmac with a flipped bit', 'hmac', { hmacFlip: true }],
	['hmac keyed with another adv secret', 'hmac', { hmacKey: Buffer.alloc(32, 7) }],
	['hmac keyed with the qr secret after code pairing', 'hmac', { creds: 'code', hmacKey: Buffer.from(credsQr.advSecretKey, 'base64') }],
	['hmac with the hosted prefix, accountType E2EE', 'hmac-prefix', { hmacHosted: true }],
	['hmac without the hosted prefix, accountType HOSTED', 'hmac-prefix', { accountType: HOSTED, hmacHosted: false }],
	['details truncated (hmac recomputed)', 'account-decode', { signedRaw: Buffer.from(proto.ADVSignedDeviceIdentity.encode({ details: Buffer.alloc(20, 1), accountSignatureKey: Buffer.alloc(32, 2) }).finish()).subarray(0, 30) }],
	['no accountSignatureKey', 'account-parts', { post: (s) => { delete s.accountSignatureKey; } }],
	['no accountSignature', 'account-parts', { post: (s) => { delete s.accountSignature; } }],
	['accountSignatureKey 33 bytes (05-prefixed)', 'account-key-length', { post: (s) => { s.accountSignatureKey = Buffer.concat([Buffer.from([5]), s.accountSignatureKey]); } }],
	['accountSignature 63 bytes', 'account-sig-length', { post: (s) => { s.accountSignature = s.accountSignature.subarray(0, 63); } }],
	['account details not a protobuf (validly signed)', 'details-decode', { detailsRaw: NOT_PROTOBUF }],
	['account signature with the hosted prefix, deviceType E2EE', 'account-sig-prefix', { sigPrefix: B.WA_ADV_HOSTED_ACCOUNT_SIG_PREFIX }],
	['account signature with the E2EE prefix, deviceType HOSTED', 'account-sig-prefix', { details: { deviceType: HOSTED }, sigPrefix: B.WA_ADV_ACCOUNT_SIG_PREFIX }],
	['account signature by another key', 'account-sig', { signer: other.private }],
	['account signature over another identity key', 'account-sig', { signedFor: other.public }],
	['account signature with a flipped bit', 'account-sig', { post: (s) => { s.accountSignature = Buffer.from(s.accountSignature); s.accountSignature[40] ^= 1; } }],
	['account signature with the device prefix 06 01', 'account-sig', { sigPrefix: B.WA_ADV_DEVICE_SIG_PREFIX }],
	['keyIndex 0', 'key-index', { details: { keyIndex: 0 } }],
	['no keyIndex', 'key-index', { details: { keyIndex: undefined } }],
	['jid without a device', 'device-jid', { device: { jid: '15550001111@s.whatsapp.net' } }],
	['jid device 0', 'device-jid', { device: { jid: '15550001111:0@s.whatsapp.net' } }],
	['jid on the lid server', 'device-jid', { device: { jid: '15550001111:12@lid' } }],
	['no lid', 'device-lid', { device: { lid: undefined } }],
	['lid on the phone-number server', 'device-lid', { device: { lid: '99990001111:12@s.whatsapp.net' } }],
];

const vectors = [];
for (const [name, check, o] of V) {
	const ps = pairSuccess(o);
	const creds = clone(CREDS[ps.creds]);
	let baileys = true, expectCreds = null, reply = null, keyIndex = null, accountKey = null;
	try {
		const { creds: update, reply: r } = B.configureSuccessfulPairing(ps.stanza, creds);
		Object.assign(creds, update);
		expectCreds = credsText(creds);
		const di = r.content[0].content[0];
		reply = Buffer.from(di.content);
		keyIndex = di.attrs['key-index'];
		accountKey = account.public;
	} catch {
		baileys = false;
	}
	if (check === null && !baileys) throw new Error(`${name}: Baileys rejects a valid vector`);
	if (check === null) { // Baileys' own reply must verify for real
		const signed = proto.ADVSignedDeviceIdentity.decode(reply);
		const msg = Buffer.concat([B.WA_ADV_DEVICE_SIG_PREFIX, signed.details, CREDS[ps.creds].signedIdentityKey.public, accountKey]);
		if (!realVerify(CREDS[ps.creds].signedIdentityKey.public, msg, signed.deviceSignature))
			throw new Error(`${name}: Baileys' device signature does not verify`);
	}
	vectors.push({ name, check, ps, baileys, expectCreds, reply, keyIndex });
}

// ---- curve ---------------------------------------------------------------
const curveKey = B.Curve.generateKeyPair();
const curveMsgs = [Buffer.alloc(0), Buffer.concat([Buffer.from([5]), curveKey.public]), Buffer.from('pair-vectors: a message of a more ordinary length, 71 bytes long......')];
const curveSigs = curveMsgs.map(m => Buffer.from(B.Curve.sign(curveKey.private, m)));
curveSigs.forEach((s, i) => { if (!realVerify(curveKey.public, curveMsgs[i], s)) throw new Error('curve vector does not verify'); });

// ---- QR string -------------------------------------------------------------
// A ref as long as the server's (2@ + 88 base64 characters), and the QR
// string Baileys builds from it and creds_qr with its default browser.
const qrRef = '2@' + crypto.randomBytes(66).toString('base64');
const qrString = B.buildPairingQRData(qrRef, Buffer.from(credsQr.noiseKey.public).toString('base64'),
	Buffer.from(credsQr.signedIdentityKey.public).toString('base64'), credsQr.advSecretKey, B.Browsers.macOS('Chrome'));
const platforms = [['Mac OS', 'Chrome'], ['Windows', 'Desktop'], ['Mac OS', 'Desktop'], ['Ubuntu', 'Firefox'],
	['Windows', 'Edge'], ['Mac OS', 'Safari'], ['Windows', 'Opera'], ['Windows', 'IE'], ['Ubuntu', 'Lynx'], ['Android', 'android']]
	.map(([os, name]) => [os, name, B.getCompanionPlatformId([os, name, '1.0'])]);

// ---- --check-creds -------------------------------------------------------
// A creds.json made elsewhere (wa's credsgen): every key pair is a real pair
// (public = X25519(private), by libsignal's getPublicFromPrivateKey) and the
// signed pre-key signature verifies with libsignal's real verifySignature.
if (process.argv[2] === '--check-creds') {
	const file = process.argv[3];
	if (!file) F.fail('pair-vectors', 'usage: node pair-vectors.mjs --check-creds FILE', 2);
	const c = JSON.parse(readFileSync(file, 'utf8'), BufferJSON.reviver);
	const problems = [];
	for (const [name, kp] of [['noiseKey', c.noiseKey], ['pairingEphemeralKeyPair', c.pairingEphemeralKeyPair],
		['signedIdentityKey', c.signedIdentityKey], ['signedPreKey.keyPair', c.signedPreKey?.keyPair]]) {
		const derived = kp && curve.getPublicFromPrivateKey(Buffer.from(kp.private)).subarray(1);
		if (!derived || !derived.equals(Buffer.from(kp.public))) problems.push(`${name}: public key is not the private key's`);
	}
	const spk = c.signedPreKey;
	if (!spk || !realVerify(Buffer.from(c.signedIdentityKey.public), Buffer.concat([Buffer.from([5]), spk.keyPair.public]), spk.signature))
		problems.push('signedPreKey.signature does not verify with signedIdentityKey (libsignal verifySignature)');
	for (const p of problems) process.stderr.write(`pair-vectors: ${file}: ${p}\n`);
	if (!problems.length) process.stdout.write(`ok ${file}: key pairs and signed pre-key signature verify\n`);
	process.exit(problems.length ? 1 : 0);
}

// ---- --check -------------------------------------------------------------
if (process.argv[2] === '--check') {
	const file = process.argv[3];
	if (!file) F.fail('pair-vectors', 'usage: node pair-vectors.mjs [--check FILE]', 2);
	const got = readFileSync(file, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l));
	const problems = [];
	let checked = 0;
	for (const v of vectors.filter(v => v.check === null)) {
		const g = got.find(x => x.name === v.name);
		if (!g) { problems.push(`${v.name}: no output`); continue; }
		const ident = CREDS[v.ps.creds].signedIdentityKey.public;
		const mine = proto.ADVSignedDeviceIdentity.decode(Buffer.from(g.reply, 'base64'));
		const theirs = proto.ADVSignedDeviceIdentity.decode(v.reply);
		if (mine.accountSignatureKey?.length) problems.push(`${v.name}: reply carries accountSignatureKey`);
		if (!Buffer.from(mine.details).equals(Buffer.from(theirs.details))) problems.push(`${v.name}: reply details differ`);
		if (!Buffer.from(mine.accountSignature).equals(Buffer.from(theirs.accountSignature))) problems.push(`${v.name}: reply accountSignature differs`);
		const msg = Buffer.concat([B.WA_ADV_DEVICE_SIG_PREFIX, mine.details, ident, account.public]);
		if (!realVerify(ident, msg, mine.deviceSignature || Buffer.alloc(0))) problems.push(`${v.name}: reply deviceSignature does not verify`);
		const reenc = Buffer.from(proto.ADVSignedDeviceIdentity.encode({ details: mine.details, accountSignature: mine.accountSignature, deviceSignature: mine.deviceSignature }).finish());
		if (!reenc.equals(Buffer.from(g.reply, 'base64'))) problems.push(`${v.name}: reply is not encoded as Baileys encodes it`);
		if (g.keyIndex !== v.keyIndex) problems.push(`${v.name}: key-index ${g.keyIndex}, Baileys ${v.keyIndex}`);
		let c;
		try { c = JSON.parse(g.creds, BufferJSON.reviver); } catch (e) { problems.push(`${v.name}: creds do not parse: ${e.message}`); continue; }
		const dsig = c.account?.deviceSignature;
		if (dsig !== Buffer.from(mine.deviceSignature).toString('base64')) problems.push(`${v.name}: creds account.deviceSignature is not the reply's`);
		const swapped = JSON.parse(g.creds);
		if (swapped.account) swapped.account.deviceSignature = JSON.parse(v.expectCreds).account.deviceSignature;
		if (JSON.stringify(swapped) !== v.expectCreds) problems.push(`${v.name}: creds.json differs from Baileys':\n  wa:      ${JSON.stringify(swapped)}\n  Baileys: ${v.expectCreds}`);
		checked++;
	}
	for (const p of problems) process.stderr.write(`pair-vectors: ${p}\n`);
	if (!problems.length) process.stdout.write(`ok ${checked} pair-success replies and creds match Baileys\n`);
	process.exit(problems.length ? 1 : 0);
}

// ---- the header ----------------------------------------------------------
const out = [];
out.push('/* Generated by tests/fakewa/pair-vectors.mjs from Baileys 7.0.0-rc14; do not edit. */');
out.push('#include <stddef.h>');
out.push('');
out.push('/* creds.json as Baileys writes it: fresh (qr), and after the link-code exchange (code) */');
out.push(`static const char pv_creds_qr[] = ${cstr(credsText(credsQr))};`);
out.push(`static const char pv_creds_code[] = ${cstr(credsText(credsCode))};`);
out.push('');
out.push('struct pair_vector {');
out.push('\tconst char *name;');
out.push('\tconst char *check;        /* the pair.h check that rejects it; NULL = valid */');
out.push('\tint code;                 /* 1: use pv_creds_code, 0: pv_creds_qr */');
out.push('\tconst unsigned char *identity; /* <device-identity> content, NULL = absent */');
out.push('\tsize_t identity_len;');
out.push('\tconst char *jid, *lid, *platform, *biz;');
out.push('\tint baileys_accepts;      /* Baileys rc14 configureSuccessfulPairing returns */');
out.push('\tconst char *expect_creds; /* valid: creds.json after Baileys applies the update */');
out.push('\tconst unsigned char *expect_reply; /* valid: Baileys\' reply <device-identity> */');
out.push('\tsize_t expect_reply_len;');
out.push('\tconst char *expect_key_index;');
out.push('};');
out.push('');
vectors.forEach((v, i) => {
	if (v.ps.identity) out.push(`static const unsigned char pv_identity_${i}[] = {\n${cbytes(v.ps.identity)}\n};`);
	if (v.reply) out.push(`static const unsigned char pv_reply_${i}[] = {\n${cbytes(v.reply)}\n};`);
});
out.push('');
out.push('static const struct pair_vector pair_vectors[] = {');
vectors.forEach((v, i) => {
	const s = (x) => x == null ? 'NULL' : cstr(x);
	out.push(`\t{ ${cstr(v.name)}, ${s(v.check)}, ${v.ps.creds === 'code' ? 1 : 0},`);
	out.push(`\t  ${v.ps.identity ? `pv_identity_${i}, sizeof pv_identity_${i}` : 'NULL, 0'},`);
	out.push(`\t  ${s(v.ps.dev.jid)}, ${s(v.ps.dev.lid)}, ${s(v.ps.platform)}, ${s(v.ps.biz)}, ${v.baileys ? 1 : 0},`);
	out.push(`\t  ${v.check === null ? cstr(v.expectCreds) : 'NULL'},`);
	out.push(`\t  ${v.check === null ? `pv_reply_${i}, sizeof pv_reply_${i}, ${cstr(v.keyIndex)}` : 'NULL, 0, NULL'} },`);
});
out.push('};');
out.push('');
out.push('/* the primary\'s account (identity) public key */');
out.push(`static const unsigned char pv_account_pub[32] = {\n${cbytes(account.public)}\n};`);
out.push('');
out.push('/* link code (§7): bytesToCrockford(pv_lc_raw) == pv_lc_code */');
out.push(`static const unsigned char pv_lc_raw[5] = { ${[...lcRaw].map(x => '0x' + x.toString(16).padStart(2, '0')).join(', ')} };`);
out.push(`static const char pv_lc_code[] = ${cstr(lcCode)};`);
out.push('/* companion_hello: salt || iv || AES-CTR(PBKDF2(code, salt), iv, creds_qr pairingEphemeralKeyPair.public) */');
out.push(`static const unsigned char pv_lc_wrapped[80] = {\n${cbytes(lcWrapped)}\n};`);
out.push('/* the primary\'s notification: its wrapped ephemeral key and identity key */');
out.push(`static const unsigned char pv_lc_primary_wrapped[80] = {\n${cbytes(lcPrimaryWrapped)}\n};`);
out.push(`static const unsigned char pv_lc_primary_eph_pub[32] = {\n${cbytes(primaryEph.public)}\n};`);
out.push(`static const unsigned char pv_lc_primary_identity[32] = {\n${cbytes(primaryIdentity.public)}\n};`);
out.push('/* companion_finish with advRandom || bundleSalt || nonce = pv_lc_rnd */');
out.push(`static const unsigned char pv_lc_rnd[76] = {\n${cbytes(Buffer.concat([lcAdvRandom, lcBundleSalt, lcNonce]))}\n};`);
out.push(`static const unsigned char pv_lc_bundle[156] = {\n${cbytes(lcBundle)}\n};`);
out.push(`static const unsigned char pv_lc_adv[32] = {\n${cbytes(lcAdv)}\n};`);
out.push('');
out.push('/* QR: Baileys\' buildPairingQRData(ref, creds_qr keys, Browsers.macOS("Chrome")) */');
out.push(`static const char pv_qr_ref[] = ${cstr(qrRef)};`);
out.push(`static const char pv_qr_string[] = ${cstr(qrString)};`);
out.push('/* getCompanionPlatformId([os, name]) */');
out.push('static const struct { const char *os, *name, *id; } pv_platforms[] = {');
for (const [os, name, id] of platforms) out.push(`\t{ ${cstr(os)}, ${cstr(name)}, ${cstr(id)} },`);
out.push('};');
out.push('');
out.push('/* curve: a Baileys key pair and Curve.sign signatures */');
out.push(`static const unsigned char pv_curve_priv[32] = {\n${cbytes(curveKey.private)}\n};`);
out.push(`static const unsigned char pv_curve_pub[32] = {\n${cbytes(curveKey.public)}\n};`);
curveMsgs.forEach((m, i) => {
	out.push(`static const unsigned char pv_curve_msg_${i}[${Math.max(m.length, 1)}] = {${m.length ? '\n' + cbytes(m) + '\n' : ' 0 '}};`);
	out.push(`static const unsigned char pv_curve_sig_${i}[64] = {\n${cbytes(curveSigs[i])}\n};`);
});
out.push('static const struct { const unsigned char *msg; size_t len; const unsigned char *sig; } pv_curve_sigs[] = {');
curveMsgs.forEach((m, i) => out.push(`\t{ pv_curve_msg_${i}, ${m.length}, pv_curve_sig_${i} },`));
out.push('};');
process.stdout.write(out.join('\n') + '\n');

// The simulated primary phone: the cryptography the phone (and the server
// on its behalf) does when a companion is linked.  Pure functions over
// Buffers; pairing.mjs drives them from stanzas and the control API.
//
//   parseQR            the QR string a companion shows (wa-protocol(7) §6.2)
//   buildPairSuccess   ADVDeviceIdentity signed by the account key, HMAC'd
//                      with the companion's adv secret (§6.4), genuine or
//                      forged on demand (PAIR_FORGERIES)
//   checkPairReply     the companion's <pair-device-sign> reply (§6.4 step 6/7)
//   link-code helpers  the primary's half of §7
//
// Everything cryptographic comes from Baileys/libsignal; signatures are
// checked with libsignal's verifySignature *result* (Baileys' Curve.verify
// ignores it, see README).

import { randomBytes } from 'crypto';
import * as curve from 'libsignal/src/curve.js';
import { proto } from 'baileys/WAProto/index.js';
import {
	WA_ADV_ACCOUNT_SIG_PREFIX, WA_ADV_DEVICE_SIG_PREFIX, WA_ADV_HOSTED_ACCOUNT_SIG_PREFIX
} from 'baileys/lib/Defaults/index.js';
import {
	aesDecryptCTR, aesDecryptGCM, aesEncryptCTR, Curve, derivePairingCodeKey, hkdf, hmacSign
} from 'baileys/lib/Utils/crypto.js';

const { ADVDeviceIdentity, ADVSignedDeviceIdentity, ADVSignedDeviceIdentityHMAC, ADVEncryptionType } = proto;

export const QR_PREFIX = 'https://wa.me/settings/linked_devices#';
// Bytes no protobuf decoder accepts: field 1 with wire type 7.
const NOT_PROTOBUF = Buffer.from([0x0f, 0xff, 0xff, 0xff]);

/**
 * Forged pair-success variants.  Each breaks one thing a companion must
 * check and keeps the rest valid, so a client that skips exactly that check
 * accepts it.  `check` names the check of paircheck.mjs (whatsmeow's order,
 * wa-protocol(7) §6.4) that rejects it.
 */
export const PAIR_FORGERIES = {
	'bad-hmac': { check: 'hmac', desc: 'HMAC over the details with one byte flipped' },
	'bad-account-sig': { check: 'account-sig', desc: 'accountSignature made by another key' },
	'wrong-key-index': { check: 'key-index', desc: 'keyIndex 0 (the primary\'s slot; companions get 1 and up, UNVERIFIED), everything validly signed' },
	'bad-details': { check: 'details-decode', desc: 'account.details not an ADVDeviceIdentity, validly signed and HMAC\'d' },
	'hosted-prefix-mismatch': { check: 'hmac', desc: 'accountType HOSTED in the HMAC container, HMAC computed without the 06 05 prefix' },
	'hosted-sig-prefix-mismatch': { check: 'account-sig', desc: 'deviceType HOSTED, accountSignature over the 06 00 (non-hosted) prefix' },
	'account-key-length': { check: 'account-key-length', desc: 'accountSignatureKey sent 05-prefixed (33 bytes), signature valid' }
};

const b64 = s => {
	if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s))
		throw new Error(`not base64: ${s.slice(0, 20)}`);
	return Buffer.from(s, 'base64');
};

/**
 * QR string -> { ref, noise, identity, adv, platform }.  Accepts the bare
 * comma list (whatsmeow) or Baileys' https://wa.me/settings/linked_devices#
 * prefix.  Throws with a message on anything malformed.
 */
export function parseQR(qr) {
	if (typeof qr !== 'string')
		throw new Error('qr must be a string');
	let s = qr.trim();
	if (s.startsWith(QR_PREFIX))
		s = s.slice(QR_PREFIX.length);
	const parts = s.split(',');
	if (parts.length < 4 || parts.length > 5)
		throw new Error(`QR has ${parts.length} comma-separated parts, want 4 or 5 (ref,noise,identity,adv[,platform])`);
	const [ref, noiseB64, identityB64, advB64, platform] = parts;
	if (!ref)
		throw new Error('QR ref is empty');
	const noise = b64(noiseB64);
	const identity = b64(identityB64);
	const adv = b64(advB64);
	if (noise.length !== 32)
		throw new Error(`QR noise key is ${noise.length} bytes, want 32`);
	if (identity.length !== 32)
		throw new Error(`QR identity key is ${identity.length} bytes, want 32`);
	if (adv.length !== 32)
		throw new Error(`QR adv secret is ${adv.length} bytes, want 32`);
	if (platform !== undefined && !/^[0-9a-z]{1,2}$/.test(platform))
		throw new Error(`QR platform id '${platform}' is not a platform id`);
	return { ref, noise, identity, adv, platform: platform ?? null };
}

/** libsignal's verdict, not Baileys' (which ignores it). */
export function verifies(pub, msg, sig) {
	try {
		const key = pub.length === 33 ? pub : Buffer.concat([Buffer.from([5]), pub]);
		return curve.verifySignature(key, Buffer.from(msg), Buffer.from(sig)) === true;
	} catch {
		return false;
	}
}

/**
 * Build the <device-identity> content of pair-success.
 *   accountKey   { public, private } (the primary's identity)
 *   identity     the companion's identity pub32
 *   adv          the companion's adv secret (32 bytes)
 *   keyIndex, rawId
 *   hosted       a genuine hosted-account pairing (both prefixes 06 05)
 *   forge        a PAIR_FORGERIES key or null
 * Returns { container (bytes), details, accountSignature, accountSignatureKey, keyIndex }.
 */
export function buildDeviceIdentity({ accountKey, identity, adv, keyIndex, rawId, hosted = false, forge = null }) {
	if (forge && !PAIR_FORGERIES[forge])
		throw new Error(`unknown forgery ${forge}`);
	const deviceHosted = hosted || forge === 'hosted-sig-prefix-mismatch';
	const fields = {
		rawId,
		timestamp: Math.floor(Date.now() / 1000),
		keyIndex: forge === 'wrong-key-index' ? 0 : keyIndex
	};
	if (hosted) {
		fields.accountType = ADVEncryptionType.HOSTED;
		fields.deviceType = ADVEncryptionType.HOSTED;
	} else if (deviceHosted)
		fields.deviceType = ADVEncryptionType.HOSTED;
	const details = forge === 'bad-details'
		? NOT_PROTOBUF
		: Buffer.from(ADVDeviceIdentity.encode(fields).finish());
	const sigPrefix = hosted ? WA_ADV_HOSTED_ACCOUNT_SIG_PREFIX : WA_ADV_ACCOUNT_SIG_PREFIX;
	const signer = forge === 'bad-account-sig' ? Curve.generateKeyPair().private : accountKey.private;
	const accountSignature = Buffer.from(Curve.sign(signer, Buffer.concat([sigPrefix, details, identity])));
	const accountSignatureKey = forge === 'account-key-length'
		? Buffer.concat([Buffer.from([5]), accountKey.public])
		: Buffer.from(accountKey.public);
	const signed = Buffer.from(ADVSignedDeviceIdentity.encode({ details, accountSignatureKey, accountSignature }).finish());
	const hmacHosted = hosted || forge === 'hosted-prefix-mismatch';
	const hmacInput = hosted ? Buffer.concat([WA_ADV_HOSTED_ACCOUNT_SIG_PREFIX, signed]) : signed;
	const hmac = Buffer.from(hmacSign(hmacInput, adv));
	if (forge === 'bad-hmac')
		hmac[0] ^= 0x01;
	const container = { details: signed, hmac };
	if (hmacHosted)
		container.accountType = ADVEncryptionType.HOSTED;
	return {
		container: Buffer.from(ADVSignedDeviceIdentityHMAC.encode(container).finish()),
		details,
		accountSignature,
		accountSignatureKey,
		keyIndex: fields.keyIndex
	};
}

/** The <pair-success> child (§6.4) around a device identity. */
export function pairSuccessNode({ container, platform, jid, lid, biz }) {
	const content = [
		{ tag: 'device-identity', attrs: {}, content: container },
		{ tag: 'platform', attrs: { name: platform } },
		{ tag: 'device', attrs: { jid, lid } }
	];
	if (biz)
		content.push({ tag: 'biz', attrs: { name: biz } });
	return { tag: 'pair-success', attrs: {}, content };
}

/**
 * Check the companion's <iq type=result><pair-device-sign> reply against
 * what we sent.  Returns { ok, checks: {name: bool}, problems: [..] }.
 */
export function checkPairReply(iq, sent, identity) {
	const checks = {};
	const problems = [];
	const fail = (name, why) => {
		checks[name] = false;
		problems.push(`${name}: ${why}`);
	};
	const sign = Array.isArray(iq.content) ? iq.content.find(c => c.tag === 'pair-device-sign') : null;
	const di = Array.isArray(sign?.content) ? sign.content.find(c => c.tag === 'device-identity') : null;
	if (!di || !(di.content instanceof Uint8Array)) {
		fail('shape', 'no <pair-device-sign><device-identity> with bytes');
		return { ok: false, checks, problems };
	}
	checks.shape = true;
	if (di.attrs['key-index'] === String(sent.keyIndex))
		checks.keyIndex = true;
	else
		fail('keyIndex', `key-index="${di.attrs['key-index']}", sent ${sent.keyIndex}`);
	let acc;
	try {
		acc = ADVSignedDeviceIdentity.decode(di.content);
	} catch (err) {
		fail('decode', err.message);
		return { ok: false, checks, problems };
	}
	checks.decode = true;
	const eq = (a, b) => Buffer.from(a ?? []).equals(Buffer.from(b ?? []));
	if (eq(acc.details, sent.details))
		checks.details = true;
	else
		fail('details', 'details differ from the ones sent');
	if (eq(acc.accountSignature, sent.accountSignature))
		checks.accountSignature = true;
	else
		fail('accountSignature', 'accountSignature differs from the one sent');
	if (!acc.accountSignatureKey?.length)
		checks.noAccountKey = true;
	else
		fail('noAccountKey', 'the reply carries accountSignatureKey (must be omitted)');
	const msg = Buffer.concat([WA_ADV_DEVICE_SIG_PREFIX, sent.details, identity, sent.accountSignatureKey]);
	if (acc.deviceSignature?.length === 64 && verifies(identity, msg, acc.deviceSignature))
		checks.deviceSignature = true;
	else
		fail('deviceSignature', `device signature (${acc.deviceSignature?.length ?? 0} bytes) does not verify over 06 01 ‖ details ‖ identity ‖ account key`);
	return { ok: problems.length === 0, checks, problems };
}

// ---- phone-number code pairing (wa-protocol(7) §7), the primary's half -------

export const CODE_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTVWXYZ';

/** "ABCD-EFGH" / "abcdefgh" -> "ABCDEFGH"; throws unless 8 code characters. */
export function normaliseCode(code) {
	const c = String(code ?? '').replace(/[-\s]/g, '').toUpperCase();
	if (c.length !== 8 || [...c].some(ch => !CODE_ALPHABET.includes(ch)))
		throw new Error(`pairing code must be 8 characters of ${CODE_ALPHABET}`);
	return c;
}

/** salt(32) ‖ iv(16) ‖ AES-256-CTR(PBKDF2(code, salt), iv, pub32) -> pub32 */
export async function unwrapEphemeral(code, wrapped) {
	if (wrapped.length < 80)
		throw new Error(`wrapped ephemeral is ${wrapped.length} bytes, want 80`);
	const key = await derivePairingCodeKey(code, wrapped.subarray(0, 32));
	return aesDecryptCTR(wrapped.subarray(48, 80), key, wrapped.subarray(32, 48));
}

export async function wrapEphemeral(code, pub) {
	const salt = randomBytes(32);
	const iv = randomBytes(16);
	const key = await derivePairingCodeKey(code, salt);
	return Buffer.concat([salt, iv, aesEncryptCTR(pub, key, iv)]);
}

/**
 * The primary's side of companion_finish: decrypt the key bundle, check it
 * names both identities, derive the adv secret.  Throws with a reason.
 *   primaryEph     our ephemeral { public, private }
 *   companionEph   the companion's ephemeral pub32 (as unwrapped with the code)
 *   bundle         salt(32) ‖ nonce(12) ‖ AES-GCM(ct ‖ tag)
 *   companionIdentity  <companion_identity_public>
 *   accountKey     the primary identity { public, private }
 */
export function finishLinkCode({ primaryEph, companionEph, bundle, companionIdentity, accountKey }) {
	if (bundle.length !== 156)
		throw new Error(`wrapped key bundle is ${bundle.length} bytes, want 156`);
	const ephShared = Curve.sharedKey(primaryEph.private, companionEph);
	const bundleKey = hkdf(ephShared, 32, { salt: bundle.subarray(0, 32), info: 'link_code_pairing_key_bundle_encryption_key' });
	let plain;
	try {
		plain = aesDecryptGCM(bundle.subarray(44), Buffer.from(bundleKey), bundle.subarray(32, 44), Buffer.alloc(0));
	} catch {
		throw new Error('key bundle does not decrypt (wrong code?)');
	}
	if (plain.length !== 96)
		throw new Error(`key bundle plaintext is ${plain.length} bytes, want 96`);
	const [cId, pId, advRandom] = [plain.subarray(0, 32), plain.subarray(32, 64), plain.subarray(64, 96)];
	if (!cId.equals(companionIdentity))
		throw new Error('key bundle names another companion identity than <companion_identity_public>');
	if (!pId.equals(accountKey.public))
		throw new Error('key bundle names another primary identity');
	const identityShared = Curve.sharedKey(accountKey.private, companionIdentity);
	const adv = Buffer.from(hkdf(Buffer.concat([ephShared, identityShared, advRandom]), 32, { info: 'adv_secret' }));
	return { adv };
}

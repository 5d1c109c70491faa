#!/usr/bin/env node
// A strict verifier for pair-success (wa-protocol(7) §6.4) as a companion must
// run it: whatsmeow's checks in whatsmeow's order (pair.go handlePair at the
// commit wa-protocol(7) names), plus the key-index check fakewa's
// wrong-key-index forgery targets.  Tests use it to prove that each
// PAIR_FORGERIES variant trips exactly its own check and that a genuine
// pair-success passes; wa-pair's C code should reject at the same checks.
//
// usage: node paircheck.mjs QR < EVENT_JSON
//        node paircheck.mjs QR FILE [QR FILE]...
//   QR          the QR string the companion showed (identity key, adv secret)
//   EVENT_JSON  a fakewa "sent" event (or node JSON) holding <pair-success>
// Prints "ok" or "fail CHECK: message" per pair, one line each; exit 0
// either way, 2 on bad input.
//
// Checks, in order:
//   container-decode   ADVSignedDeviceIdentityHMAC decodes
//   hmac               HMAC-SHA256(adv, [06 05 if accountType HOSTED] ‖ details)
//   account-decode     ADVSignedDeviceIdentity decodes
//   details-decode     ADVDeviceIdentity decodes
//   account-key-length accountSignatureKey 32 bytes, accountSignature 64
//   account-sig        XEdDSA over [06 05 if deviceType HOSTED else 06 00] ‖ details ‖ identity
//   key-index          keyIndex >= 1 (companions; 0 would be the primary's slot;
//                      UNVERIFIED against the real server, checked by neither client)

import { readFileSync } from 'fs';
import { proto } from 'baileys/WAProto/index.js';
import { WA_ADV_ACCOUNT_SIG_PREFIX, WA_ADV_HOSTED_ACCOUNT_SIG_PREFIX } from 'baileys/lib/Defaults/index.js';
import { hmacSign } from 'baileys/lib/Utils/crypto.js';
import { parseQR, verifies } from './phone.mjs';

const { ADVDeviceIdentity, ADVSignedDeviceIdentity, ADVSignedDeviceIdentityHMAC, ADVEncryptionType } = proto;

/** Returns null when good, else { check, message }. */
export function verifyPairSuccess(container, identity, adv) {
	const fail = (check, message) => ({ check, message });
	let c;
	try {
		c = ADVSignedDeviceIdentityHMAC.decode(container);
	} catch (err) {
		return fail('container-decode', err.message);
	}
	const hosted = c.accountType === ADVEncryptionType.HOSTED;
	const mac = hmacSign(Buffer.concat([hosted ? WA_ADV_HOSTED_ACCOUNT_SIG_PREFIX : Buffer.alloc(0), Buffer.from(c.details ?? [])]), adv);
	if (!c.hmac || !Buffer.from(c.hmac).equals(mac))
		return fail('hmac', `HMAC mismatch${hosted ? ' (hosted prefix 06 05)' : ''}`);
	let acc;
	try {
		acc = ADVSignedDeviceIdentity.decode(c.details);
	} catch (err) {
		return fail('account-decode', err.message);
	}
	let det;
	try {
		det = ADVDeviceIdentity.decode(acc.details ?? Buffer.alloc(0));
	} catch (err) {
		return fail('details-decode', err.message);
	}
	if (acc.accountSignatureKey?.length !== 32 || acc.accountSignature?.length !== 64)
		return fail('account-key-length', `account key ${acc.accountSignatureKey?.length ?? 0} bytes, signature ${acc.accountSignature?.length ?? 0}`);
	const prefix = det.deviceType === ADVEncryptionType.HOSTED ? WA_ADV_HOSTED_ACCOUNT_SIG_PREFIX : WA_ADV_ACCOUNT_SIG_PREFIX;
	if (!verifies(Buffer.from(acc.accountSignatureKey), Buffer.concat([prefix, acc.details, identity]), acc.accountSignature))
		return fail('account-sig', 'account signature does not verify');
	if (!det.keyIndex)
		return fail('key-index', `keyIndex ${det.keyIndex ?? 0}`);
	return null;
}

function findPairSuccess(n) {
	if (!n || typeof n !== 'object')
		return null;
	if (n.tag === 'pair-success')
		return n;
	for (const x of [n.node, ...(Array.isArray(n.content) ? n.content : [])]) {
		const r = findPairSuccess(x);
		if (r)
			return r;
	}
	return null;
}

function checkOne(qrString, json) {
	const q = parseQR(qrString);
	const ps = findPairSuccess(JSON.parse(json));
	const di = ps?.content?.find(x => x.tag === 'device-identity')?.content?.base64;
	if (!di)
		throw new Error('no <pair-success><device-identity> in the input');
	const bad = verifyPairSuccess(Buffer.from(di, 'base64'), q.identity, q.adv);
	return bad ? `fail ${bad.check}: ${bad.message}` : 'ok';
}

if (import.meta.url === `file://${process.argv[1]}`) {
	try {
		const a = process.argv.slice(2);
		if (a.length === 1)
			process.stdout.write(checkOne(a[0], readFileSync(0, 'utf8')) + '\n');
		else if (a.length && a.length % 2 === 0) {
			for (let i = 0; i < a.length; i += 2)
				process.stdout.write(checkOne(a[i], readFileSync(a[i + 1], 'utf8')) + '\n');
		} else
			throw new Error('usage: paircheck.mjs QR < EVENT_JSON | paircheck.mjs QR FILE [QR FILE]...');
	} catch (err) {
		process.stderr.write(`paircheck: ${err.message}\n`);
		process.exit(2);
	}
}

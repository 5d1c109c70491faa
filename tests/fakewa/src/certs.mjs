// The server certificate chain (wa-protocol(7) §2.7).
//
// A per-run (or --state-dir persisted) root key signs an intermediate
// certificate; the intermediate key signs a leaf whose key is the server's
// static Noise key.  Signatures are XEdDSA over Curve25519 keys (Baileys
// Curve.sign = libsignal calculateSignature).  Clients must be configured
// with our root public key instead of WhatsApp's.
//
// CERT_FAULTS lists one variant per check that whatsmeow's verifyServerCert
// (handshake.go) performs, in that order.  Each variant breaks exactly its
// own check and keeps everything else valid (signatures are recomputed over
// the altered details), so a client that skips that one check accepts it.

import { randomBytes } from 'crypto';
import { proto } from 'baileys/WAProto/index.js';
import { Curve } from 'baileys/lib/Utils/crypto.js';

const Details = proto.CertChain.NoiseCertificate.Details;
const DAY = 86400;

// Bytes that no protobuf decoder accepts: field 1 with wire type 7.
const NOT_PROTOBUF = Buffer.from([0x0f, 0xff, 0xff, 0xff]);

/**
 * Each fault: { check, desc } where `check` names the whatsmeow check it
 * targets (see certcheck.mjs, which implements them in the same order).
 */
export const CERT_FAULTS = {
	'cert-garbage': { check: 'chain-decode', desc: 'payload is not a CertChain protobuf' },
	'cert-missing-leaf': { check: 'chain-parts', desc: 'no leaf certificate' },
	'cert-missing-intermediate': { check: 'chain-parts', desc: 'no intermediate certificate' },
	'cert-missing-sig': { check: 'chain-parts', desc: 'leaf certificate without signature' },
	'cert-root-sig-length': { check: 'intermediate-sig-length', desc: 'intermediate signature is 65 bytes' },
	'cert-leaf-sig-length': { check: 'leaf-sig-length', desc: 'leaf signature is 65 bytes' },
	'cert-bad-root-sig': { check: 'intermediate-sig', desc: 'intermediate not signed by the root key' },
	'cert-intermediate-garbage': { check: 'intermediate-decode', desc: 'intermediate details not a protobuf (validly signed)' },
	'cert-wrong-issuer': { check: 'intermediate-issuer', desc: 'intermediate issuerSerial != 0' },
	'cert-intermediate-key-length': { check: 'intermediate-key-length', desc: 'intermediate key is 33 bytes (05-prefixed)' },
	'cert-bad-leaf-sig': { check: 'leaf-sig', desc: 'leaf not signed by the intermediate key' },
	'cert-intermediate-expired': { check: 'intermediate-validity', desc: 'intermediate notAfter in the past' },
	'cert-intermediate-not-yet-valid': { check: 'intermediate-validity', desc: 'intermediate notBefore in the future' },
	'cert-leaf-garbage': { check: 'leaf-decode', desc: 'leaf details not a protobuf (validly signed)' },
	'cert-bad-serial': { check: 'leaf-issuer', desc: 'leaf issuerSerial != intermediate serial' },
	'cert-wrong-key': { check: 'leaf-key', desc: 'leaf key != server static key' },
	'cert-expired': { check: 'leaf-validity', desc: 'leaf notAfter in the past' },
	'cert-not-yet-valid': { check: 'leaf-validity', desc: 'leaf notBefore in the future' }
};

function randomSerial() {
	// Non-zero uint32 (0 is the root's serial).
	return (randomBytes(4).readUInt32BE(0) % 0xfffffffe) + 1;
}

/**
 * Create the authority: root key pair and intermediate key pair + serial.
 * `saved` (from the state dir) restores a previous one; keys are Buffers.
 */
export function makeAuthority(saved) {
	if (saved)
		return saved;
	return {
		root: Curve.generateKeyPair(),
		intermediate: Curve.generateKeyPair(),
		intermediateSerial: randomSerial(),
		leafSerial: randomSerial()
	};
}

function sign(priv, bytes) {
	return Buffer.from(Curve.sign(priv, bytes));
}

function encodeDetails(d) {
	return Buffer.from(Details.encode(d).finish());
}

/**
 * Build the encoded CertChain for a server static public key.
 * fault: a CERT_FAULTS key or null.  now: unix seconds (for tests).
 */
export function buildCertChain(auth, staticPub, fault = null, now = Math.floor(Date.now() / 1000)) {
	if (fault && !CERT_FAULTS[fault])
		throw new Error(`unknown cert fault ${fault}`);
	if (fault === 'cert-garbage')
		return NOT_PROTOBUF;

	const inter = {
		serial: auth.intermediateSerial,
		issuerSerial: 0,
		key: auth.intermediate.public,
		notBefore: now - 30 * DAY,
		notAfter: now + 365 * DAY
	};
	const leaf = {
		serial: auth.leafSerial,
		issuerSerial: auth.intermediateSerial,
		key: staticPub,
		notBefore: now - DAY,
		notAfter: now + 30 * DAY
	};
	let rootPriv = auth.root.private;
	let interPriv = auth.intermediate.private;

	switch (fault) {
	case 'cert-bad-root-sig': rootPriv = Curve.generateKeyPair().private; break;
	case 'cert-wrong-issuer': inter.issuerSerial = 1; break;
	case 'cert-intermediate-key-length': inter.key = Buffer.concat([Buffer.from([5]), inter.key]); break;
	case 'cert-bad-leaf-sig': interPriv = Curve.generateKeyPair().private; break;
	case 'cert-intermediate-expired': inter.notBefore = now - 2 * 365 * DAY; inter.notAfter = now - DAY; break;
	case 'cert-intermediate-not-yet-valid': inter.notBefore = now + DAY; break;
	case 'cert-bad-serial': leaf.issuerSerial = (auth.intermediateSerial % 0xfffffffe) + 1; break;
	case 'cert-wrong-key': leaf.key = Curve.generateKeyPair().public; break;
	case 'cert-expired': leaf.notBefore = now - 60 * DAY; leaf.notAfter = now - DAY; break;
	case 'cert-not-yet-valid': leaf.notBefore = now + DAY; break;
	}

	const interDetails = fault === 'cert-intermediate-garbage' ? NOT_PROTOBUF : encodeDetails(inter);
	const leafDetails = fault === 'cert-leaf-garbage' ? NOT_PROTOBUF : encodeDetails(leaf);
	const intermediate = { details: interDetails, signature: sign(rootPriv, interDetails) };
	const leafCert = { details: leafDetails, signature: sign(interPriv, leafDetails) };

	if (fault === 'cert-root-sig-length')
		intermediate.signature = Buffer.concat([intermediate.signature, Buffer.from([0])]);
	if (fault === 'cert-leaf-sig-length')
		leafCert.signature = Buffer.concat([leafCert.signature, Buffer.from([0])]);
	if (fault === 'cert-missing-sig')
		delete leafCert.signature;

	const chain = {};
	if (fault !== 'cert-missing-leaf')
		chain.leaf = leafCert;
	if (fault !== 'cert-missing-intermediate')
		chain.intermediate = intermediate;
	return Buffer.from(proto.CertChain.encode(chain).finish());
}

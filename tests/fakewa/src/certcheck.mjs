// A strict verifier for the server certificate chain that performs the same
// checks as whatsmeow's verifyServerCert (handshake.go at the commit named in
// wa-protocol(7)), in the same order.  fakewa does not need it to serve; tests
// use it to prove that each CERT_FAULTS variant trips exactly its own check
// and that the normal chain passes them all.
//
// verifyCertChain(bytes, serverStatic, rootPub, now) returns null when the
// chain is good, else { check, message }.

import * as curve from 'libsignal/src/curve.js';
import { proto } from 'baileys/WAProto/index.js';

const { CertChain } = proto;
const Details = CertChain.NoiseCertificate.Details;
const ISSUER_SERIAL = 0;

function fail(check, message) {
	return { check, message };
}

function num(v) {
	if (v === null || v === undefined)
		return 0;
	return typeof v === 'object' && typeof v.toNumber === 'function' ? v.toNumber() : Number(v);
}

// libsignal's verifySignature returns a boolean for a bad signature and
// throws only for malformed keys/lengths; both count as "does not verify".
function verifies(pub32, msg, sig) {
	try {
		return curve.verifySignature(Buffer.concat([Buffer.from([5]), pub32]), Buffer.from(msg), Buffer.from(sig)) === true;
	} catch {
		return false;
	}
}

function validity(d, now) {
	if (now < num(d.notBefore))
		return 'not valid yet';
	if (now > num(d.notAfter))
		return 'expired';
	return null;
}

export function verifyCertChain(bytes, serverStatic, rootPub, now = Math.floor(Date.now() / 1000)) {
	let chain;
	try {
		chain = CertChain.decode(bytes);
	} catch (err) {
		return fail('chain-decode', `cannot decode CertChain: ${err.message}`);
	}
	const interRaw = chain.intermediate?.details;
	const interSig = chain.intermediate?.signature;
	const leafRaw = chain.leaf?.details;
	const leafSig = chain.leaf?.signature;
	if (!interRaw || !interSig || !leafRaw || !leafSig)
		return fail('chain-parts', 'missing parts of noise certificate');
	if (interSig.length !== 64)
		return fail('intermediate-sig-length', `intermediate signature is ${interSig.length} bytes`);
	if (leafSig.length !== 64)
		return fail('leaf-sig-length', `leaf signature is ${leafSig.length} bytes`);
	if (!verifies(rootPub, interRaw, interSig))
		return fail('intermediate-sig', 'intermediate not signed by the root key');
	let inter;
	try {
		inter = Details.decode(interRaw);
	} catch (err) {
		return fail('intermediate-decode', `cannot decode intermediate details: ${err.message}`);
	}
	if (num(inter.issuerSerial) !== ISSUER_SERIAL)
		return fail('intermediate-issuer', `intermediate issuerSerial ${num(inter.issuerSerial)}`);
	if (!inter.key || inter.key.length !== 32)
		return fail('intermediate-key-length', `intermediate key is ${inter.key ? inter.key.length : 0} bytes`);
	if (!verifies(Buffer.from(inter.key), leafRaw, leafSig))
		return fail('leaf-sig', 'leaf not signed by the intermediate key');
	let why = validity(inter, now);
	if (why)
		return fail('intermediate-validity', `intermediate ${why}`);
	let leaf;
	try {
		leaf = Details.decode(leafRaw);
	} catch (err) {
		return fail('leaf-decode', `cannot decode leaf details: ${err.message}`);
	}
	if (num(leaf.issuerSerial) !== num(inter.serial))
		return fail('leaf-issuer', `leaf issuerSerial ${num(leaf.issuerSerial)} != intermediate serial ${num(inter.serial)}`);
	if (!leaf.key || !Buffer.from(leaf.key).equals(Buffer.from(serverStatic)))
		return fail('leaf-key', 'leaf key does not match the server static key');
	why = validity(leaf, now);
	if (why)
		return fail('leaf-validity', `leaf ${why}`);
	return null;
}

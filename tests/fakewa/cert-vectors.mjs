// cert-vectors.mjs: certificate chains for wa's t-certchain, one per
// check of whatsmeow's verifyServerCert (wa-protocol(7) §2.7), each broken in
// exactly one way and otherwise valid, signed with Baileys' Curve.sign.
//
//   node cert-vectors.mjs > ../unit/cert-vectors.h
//
// Keys are fixed and Curve.sign (XEdDSA without a random argument) is
// deterministic, so the output is the same on every run.  Before printing,
// every signature meant to verify is checked with libsignal's
// verifySignature (the function under Baileys' Curve) and every one meant
// to fail is checked to fail.  Not with Curve.verify itself: in Baileys 7
// rc14 it returns true for any well-formed signature, since it only
// catches exceptions and ignores verifySignature's false.

import { createHash, createPrivateKey, createPublicKey } from 'crypto';
import { proto } from 'baileys/WAProto/index.js';
import { Curve } from 'baileys/lib/Utils/crypto.js';
import * as curve from 'libsignal/src/curve.js';

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
function fixedKeyPair(label) {
	const priv = createHash('sha256').update(`wa cert vector ${label}`).digest();
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
	const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, priv]), format: 'der', type: 'pkcs8' });
	return { private: priv, public: Buffer.from(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32)) };
}

const NOW = 1750000000;
const DAY = 86400;
const root = fixedKeyPair('root');
const inter = fixedKeyPair('intermediate');
const server = fixedKeyPair('server static');
const other = fixedKeyPair('someone else');
const Details = proto.CertChain.NoiseCertificate.Details;
const NOT_PROTOBUF = Buffer.from([0x0f, 0xff, 0xff, 0xff]); // field 1, wire type 7

const sign = (priv, msg) => Buffer.from(Curve.sign(priv, msg));

// Build a chain; `f` may alter the parts before and after signing.
function chain(f = {}) {
	const i = { serial: 4660, issuerSerial: 0, key: inter.public, notBefore: NOW - 30 * DAY, notAfter: NOW + 365 * DAY, ...(f.inter || {}) };
	const l = { serial: 22136, issuerSerial: 4660, key: server.public, notBefore: NOW - DAY, notAfter: NOW + 30 * DAY, ...(f.leaf || {}) };
	const iDetails = f.interRaw || Buffer.from(Details.encode(i).finish());
	const lDetails = f.leafRaw || Buffer.from(Details.encode(l).finish());
	const ic = { details: iDetails, signature: sign(f.rootPriv || root.private, iDetails) };
	const lc = { details: lDetails, signature: sign(f.interPriv || inter.private, lDetails) };
	if (f.post)
		f.post(ic, lc);
	const c = {};
	if (lc)
		c.leaf = lc;
	if (ic)
		c.intermediate = ic;
	if (f.noLeaf)
		delete c.leaf;
	if (f.noInter)
		delete c.intermediate;
	return Buffer.from(proto.CertChain.encode(c).finish());
}

const vectors = [
	['valid chain', null, chain()],
	['valid: now == leaf notBefore', null, chain({ leaf: { notBefore: NOW } })],
	['valid: now == leaf notAfter', null, chain({ leaf: { notAfter: NOW } })],
	['valid: now == intermediate notAfter', null, chain({ inter: { notAfter: NOW } })],
	['not a protobuf', 'chain-decode', NOT_PROTOBUF],
	['no leaf', 'chain-parts', chain({ noLeaf: true })],
	['no intermediate', 'chain-parts', chain({ noInter: true })],
	['leaf without signature', 'chain-parts', chain({ post: (i, l) => { delete l.signature; } })],
	['intermediate without details', 'chain-parts', chain({ post: (i) => { delete i.details; } })],
	['intermediate signature 63 bytes', 'intermediate-sig-length', chain({ post: (i) => { i.signature = i.signature.subarray(0, 63); } })],
	['leaf signature 65 bytes', 'leaf-sig-length', chain({ post: (i, l) => { l.signature = Buffer.concat([l.signature, Buffer.from([0])]); } })],
	['intermediate signed by another key (bad root signature)', 'intermediate-sig', chain({ rootPriv: other.private })],
	['intermediate signature with a flipped bit', 'intermediate-sig', chain({ post: (i) => { i.signature = Buffer.from(i.signature); i.signature[10] ^= 4; } })],
	['intermediate details not a protobuf (validly signed)', 'intermediate-decode', chain({ interRaw: NOT_PROTOBUF })],
	['intermediate issuerSerial 1 (wrong issuer)', 'intermediate-issuer', chain({ inter: { issuerSerial: 1 } })],
	['intermediate key 33 bytes (05-prefixed)', 'intermediate-key-length', chain({ inter: { key: Buffer.concat([Buffer.from([5]), inter.public]) } })],
	['intermediate without a key', 'intermediate-key-length', chain({ inter: { key: undefined } })],
	['leaf signed by another key (bad leaf signature)', 'leaf-sig', chain({ interPriv: other.private })],
	['intermediate expired', 'intermediate-validity', chain({ inter: { notBefore: NOW - 400 * DAY, notAfter: NOW - 1 } })],
	['intermediate not yet valid', 'intermediate-validity', chain({ inter: { notBefore: NOW + 1 } })],
	['leaf details not a protobuf (validly signed)', 'leaf-decode', chain({ leafRaw: NOT_PROTOBUF })],
	['leaf issuerSerial is not the intermediate serial (wrong serial)', 'leaf-issuer', chain({ leaf: { issuerSerial: 4661 } })],
	['leaf key is not the server static key (wrong key)', 'leaf-key', chain({ leaf: { key: other.public } })],
	['leaf key 33 bytes', 'leaf-key', chain({ leaf: { key: Buffer.concat([Buffer.from([5]), server.public]) } })],
	['leaf expired', 'leaf-validity', chain({ leaf: { notBefore: NOW - 60 * DAY, notAfter: NOW - 1 } })],
	['leaf not yet valid', 'leaf-validity', chain({ leaf: { notBefore: NOW + 1 } })],
	['leaf without notAfter', 'leaf-validity', chain({ leaf: { notAfter: undefined } })]
];

// Self-check: the signature checks must come out as each vector intends.
const verifies = (pub32, msg, sig) => curve.verifySignature(Buffer.concat([Buffer.from([5]), pub32]), Buffer.from(msg), Buffer.from(sig)) === true;
for (const [name, check, bytes] of vectors) {
	if (check === 'chain-decode' || check === 'chain-parts' || check?.endsWith('sig-length'))
		continue;
	const c = proto.CertChain.decode(bytes);
	const iOk = verifies(root.public, c.intermediate.details, c.intermediate.signature);
	if (iOk !== (check !== 'intermediate-sig'))
		throw new Error(`${name}: intermediate signature ${iOk ? 'verifies' : 'fails'}`);
	if (!iOk || check === 'intermediate-decode' || check?.startsWith('intermediate-key'))
		continue;
	const d = Details.decode(c.intermediate.details);
	const lOk = verifies(Buffer.from(d.key), c.leaf.details, c.leaf.signature);
	if (lOk !== (check !== 'leaf-sig'))
		throw new Error(`${name}: leaf signature ${lOk ? 'verifies' : 'fails'}`);
}

const hex = b => {
	const parts = [];
	for (let i = 0; i < b.length; i += 12)
		parts.push('\t    "' + [...b.subarray(i, i + 12)].map(x => '\\x' + x.toString(16).padStart(2, '0')).join('') + '"');
	return parts.join('\n');
};
const out = [];
out.push('/* Generated by tests/fakewa/cert-vectors.mjs with Baileys\' Curve.sign: do not edit. */');
out.push(`#define CV_NOW ${NOW}`);
out.push(`static const unsigned char cv_root[32] =\n${hex(root.public)};`);
out.push(`static const unsigned char cv_other[32] =\n${hex(other.public)};`);
out.push(`static const unsigned char cv_server_static[32] =\n${hex(server.public)};`);
out.push('static const struct cert_vector {\n\tconst char *name;\n\tconst char *check; /* NULL: valid */\n\tconst unsigned char *bytes;\n\tsize_t len;\n} cert_vectors[] = {');
for (const [name, check, bytes] of vectors)
	out.push(`\t{ "${name}", ${check ? `"${check}"` : 'NULL'},\n\t    (const unsigned char *)\n${hex(bytes)},\n\t    ${bytes.length} },`);
out.push('};');
console.log(out.join('\n'));

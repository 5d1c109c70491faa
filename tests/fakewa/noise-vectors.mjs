// noise-vectors.mjs: known-answer vectors for wa's Noise client (lib/noise.c),
// made by Baileys' own client noise handler.
//
//   node noise-vectors.mjs > ../unit/noise-vectors.h
//
// Baileys' makeNoiseHandler plays the client with fixed keys; the server
// side is the responder of wa-protocol(7) §2.5 written here from Baileys'
// primitives (sha256, hkdf, aes-gcm, Curve.sharedKey), also with fixed
// keys.  Since every key is fixed and AES-GCM is deterministic, the bytes
// of every message are fixed too: the C client given the same keys and the
// same ServerHello must write exactly the ClientFinish below, and its
// transport must seal the client frames and open the server frames below.
// The script checks that Baileys' client accepts everything the responder
// sends (it throws otherwise) before printing anything.

import { createHash, createPrivateKey, createPublicKey } from 'crypto';
import { deflateSync } from 'zlib';
import { proto } from 'baileys/WAProto/index.js';
import { NOISE_MODE, NOISE_WA_HEADER, DEFAULT_CONNECTION_CONFIG, WA_CERT_DETAILS } from 'baileys/lib/Defaults/index.js';
import { makeNoiseHandler } from 'baileys/lib/Utils/noise-handler.js';
import { aesDecryptGCM, aesEncryptGCM, Curve, hkdf, sha256 } from 'baileys/lib/Utils/crypto.js';
import { generateLoginNode } from 'baileys/lib/Utils/validate-connection.js';
import { encodeBinaryNode, decodeBinaryNode } from 'baileys/lib/WABinary/index.js';

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

// A fixed, clamped X25519 key pair named by a label.
function fixedKeyPair(label) {
	const priv = createHash('sha256').update(`wa noise vector ${label}`).digest();
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
	const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, priv]), format: 'der', type: 'pkcs8' });
	const pub = createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32);
	return { private: priv, public: Buffer.from(pub) };
}

const silent = { child: () => silent, trace() {}, debug() {}, info() {}, warn() {}, error() {}, level: 'silent' };

function iv(n) {
	const b = Buffer.alloc(12);
	b.writeUInt32BE(n, 8);
	return b;
}

const clientStatic = fixedKeyPair('client static');
const clientEphemeral = fixedKeyPair('client ephemeral');
const serverStatic = fixedKeyPair('server static');
const serverEphemeral = fixedKeyPair('server ephemeral');

// A valid chain under a test root (t-certchain tests the checks one by
// one).  Baileys' client only trusts WhatsApp's root key, so its bytes are
// replaced by the test root's, as wa-protocol(7) §2.7 describes.  Curve.sign
// without a random argument is deterministic.
const root = fixedKeyPair('root');
const intermediate = fixedKeyPair('intermediate');
WA_CERT_DETAILS.PUBLIC_KEY.set(root.public);
const Details = proto.CertChain.NoiseCertificate.Details;
const interDetails = Buffer.from(Details.encode({
	serial: 7, issuerSerial: 0, key: intermediate.public, notBefore: 1700000000, notAfter: 4000000000
}).finish());
const leafDetails = Buffer.from(Details.encode({
	serial: 8, issuerSerial: 7, key: serverStatic.public, notBefore: 1700000000, notAfter: 4000000000
}).finish());
const cert = Buffer.from(proto.CertChain.encode({
	leaf: { details: leafDetails, signature: Buffer.from(Curve.sign(intermediate.private, leafDetails)) },
	intermediate: { details: interDetails, signature: Buffer.from(Curve.sign(root.private, interDetails)) }
}).finish());

// --- the client: Baileys ---
const client = makeNoiseHandler({ keyPair: clientEphemeral, NOISE_HEADER: NOISE_WA_HEADER, logger: silent });
const clientHello = Buffer.from(proto.HandshakeMessage.encode(
	proto.HandshakeMessage.fromObject({ clientHello: { ephemeral: clientEphemeral.public } })).finish());
const firstMessage = client.encodeFrame(clientHello); // intro + frame

// --- the server: wa-protocol(7) §2.5 on Baileys' primitives ---
let h = Buffer.from(NOISE_MODE);
let ck = h, k = h, n = 0;
const mixHash = d => { h = sha256(Buffer.concat([h, d])); };
const mixKey = ikm => {
	const o = Buffer.from(hkdf(Buffer.from(ikm), 64, { salt: ck, info: '' }));
	ck = o.subarray(0, 32); k = o.subarray(32); n = 0;
};
const enc = pt => { const c = aesEncryptGCM(pt, k, iv(n++), h); mixHash(c); return c; };
const dec = ct => { const p = aesDecryptGCM(ct, k, iv(n++), h); mixHash(ct); return p; };

mixHash(NOISE_WA_HEADER);
mixHash(proto.HandshakeMessage.decode(clientHello).clientHello.ephemeral);
mixHash(serverEphemeral.public);
mixKey(Curve.sharedKey(serverEphemeral.private, clientEphemeral.public));
const staticCt = enc(serverStatic.public);
mixKey(Curve.sharedKey(serverStatic.private, clientEphemeral.public));
const certCt = enc(cert);
const serverHello = Buffer.from(proto.HandshakeMessage.encode({
	serverHello: { ephemeral: serverEphemeral.public, static: staticCt, payload: certCt }
}).finish());

// --- Baileys processes it and finishes (socket.js validateConnection) ---
const payload = Buffer.from(proto.ClientPayload.encode(
	generateLoginNode('15550001111:7@s.whatsapp.net', DEFAULT_CONNECTION_CONFIG)).finish());
const keyEnc = client.processHandshake(proto.HandshakeMessage.decode(serverHello), clientStatic);
const payloadEnc = client.encrypt(payload);
const clientFinish = Buffer.from(proto.HandshakeMessage.encode({
	clientFinish: { static: keyEnc, payload: payloadEnc }
}).finish());
await client.finishInit();

// The server reads the finish: it must agree.
const fin = proto.HandshakeMessage.decode(clientFinish).clientFinish;
const gotStatic = dec(Buffer.from(fin.static));
if (!gotStatic.equals(clientStatic.public))
	throw new Error('server decrypted a different client static key');
mixKey(Curve.sharedKey(serverEphemeral.private, gotStatic));
if (!dec(Buffer.from(fin.payload)).equals(payload))
	throw new Error('server decrypted a different payload');
const split = Buffer.from(hkdf(Buffer.alloc(0), 64, { salt: ck, info: '' }));
const k1 = split.subarray(0, 32), k2 = split.subarray(32);

// --- transport, both ways ---
const clientNodes = [
	{ tag: 'iq', attrs: { id: '1.2-1', to: 's.whatsapp.net', type: 'get', xmlns: 'w:p' }, content: [{ tag: 'ping', attrs: {} }] },
	{ tag: 'presence', attrs: { type: 'available' } },
	{ tag: 'iq', attrs: { id: '1.2-2', to: 's.whatsapp.net', type: 'get', xmlns: 'encrypt' }, content: [{ tag: 'count', attrs: {} }] }
];
const clientPlain = clientNodes.map(x => Buffer.from(encodeBinaryNode(x)));
const clientFrames = clientPlain.map(p => client.encodeFrame(p).subarray(3));
clientFrames.forEach((f, i) => {
	if (!aesDecryptGCM(f, k1, iv(i), Buffer.alloc(0)).equals(clientPlain[i]))
		throw new Error('server cannot read client frame');
});

const serverNodes = [
	{ tag: 'iq', attrs: { from: 's.whatsapp.net', type: 'result', id: '1.2-1' } },
	{ tag: 'success', attrs: { t: '1700000000', lid: '123:4@lid' } },
	{ tag: 'ib', attrs: { from: 's.whatsapp.net' }, content: [{ tag: 'offline', attrs: { count: '0' } }] }
];
const serverPlain = serverNodes.map(x => Buffer.from(encodeBinaryNode(x)));
// The third goes compressed: flags 2 + zlib(node).
serverPlain[2] = Buffer.concat([Buffer.from([2]), deflateSync(serverPlain[2].subarray(1))]);
const serverFrames = serverPlain.map((p, i) => aesEncryptGCM(p, k2, iv(i), Buffer.alloc(0)));
const seen = [];
for (const f of serverFrames) {
	const hdr = Buffer.from([f.length >> 16, (f.length >> 8) & 255, f.length & 255]);
	await client.decodeFrame(Buffer.concat([hdr, f]), node => seen.push(node));
}
if (seen.length !== 3 || seen[2].tag !== 'ib' || seen[1].attrs.lid !== '123:4@lid')
	throw new Error('Baileys did not read the server frames');
for (let i = 0; i < 3; i++)
	await decodeBinaryNode(serverPlain[i]);

// --- print ---
const out = [];
const hex = b => {
	const parts = [];
	for (let i = 0; i < b.length; i += 12)
		parts.push('\t"' + [...b.subarray(i, i + 12)].map(x => '\\x' + x.toString(16).padStart(2, '0')).join('') + '"');
	return parts.length ? parts.join('\n') : '\t""';
};
const emit = (name, b) => {
	out.push(`static const unsigned char ${name}[] =\n${hex(b)};`);
	out.push(`#define ${name}_len ${b.length}`);
};
out.push('/* Generated by tests/fakewa/noise-vectors.mjs from Baileys\' noise handler: do not edit. */');
emit('nv_client_static_priv', clientStatic.private);
emit('nv_client_static_pub', clientStatic.public);
emit('nv_client_eph_priv', clientEphemeral.private);
emit('nv_client_eph_pub', clientEphemeral.public);
emit('nv_server_static_priv', serverStatic.private);
emit('nv_server_static_pub', serverStatic.public);
emit('nv_server_eph_priv', serverEphemeral.private);
emit('nv_server_eph_pub', serverEphemeral.public);
emit('nv_first_message', firstMessage);
emit('nv_client_hello', clientHello);
emit('nv_server_hello', serverHello);
emit('nv_root_pub', root.public);
emit('nv_cert', cert);
emit('nv_payload', payload);
emit('nv_client_finish', clientFinish);
emit('nv_k1', k1);
emit('nv_k2', k2);
clientPlain.forEach((p, i) => { emit(`nv_c2s_plain${i}`, p); emit(`nv_c2s_frame${i}`, clientFrames[i]); });
serverPlain.forEach((p, i) => { emit(`nv_s2c_plain${i}`, p); emit(`nv_s2c_frame${i}`, serverFrames[i]); });
console.log(out.join('\n'));

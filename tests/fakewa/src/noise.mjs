// Noise_XX_25519_AESGCM_SHA256 responder (wa-protocol(7) §2, server view §2.5).
//
//   client                          server (this file)
//   -> e                            MixHash(prologue "WA 06 03"), MixHash(e)
//   <- e, ee, s, es  + CertChain     MixHash(se), MixKey(DH(se,e)),
//                                   EncryptAndHash(s.pub) [n=0],
//                                   MixKey(DH(s,e)), EncryptAndHash(cert) [n=0]
//   -> s, se + ClientPayload         DecryptAndHash(static) [n=1],
//                                   MixKey(DH(se, client s)),
//                                   DecryptAndHash(payload) [n=0]
//   split: HKDF(ck, "") = (k1, k2); the server reads with k1, writes with k2.
//
// The protocol name is exactly 32 bytes, so h starts as the raw name.  All
// primitives come from Baileys (Curve, hkdf, sha256, aes*GCM); only the
// responder's sequencing is ours.

import { proto } from 'baileys/WAProto/index.js';
import { NOISE_MODE } from 'baileys/lib/Defaults/index.js';
import { aesDecryptGCM, aesEncryptGCM, Curve, hkdf, sha256 } from 'baileys/lib/Utils/crypto.js';

const EMPTY = Buffer.alloc(0);

function iv(counter) {
	const b = Buffer.alloc(12);
	b.writeUInt32BE(counter >>> 0, 8);
	return b;
}

function hkdf2(salt, ikm) {
	const out = Buffer.from(hkdf(Buffer.from(ikm), 64, { salt, info: '' }));
	return [out.subarray(0, 32), out.subarray(32)];
}

/** One direction of the transport phase: AES-256-GCM, empty AAD, counter IV. */
export class CipherState {
	constructor(key) {
		this.key = key;
		this.n = 0;
	}

	encrypt(plaintext) {
		return aesEncryptGCM(plaintext, this.key, iv(this.n++), EMPTY);
	}

	decrypt(ciphertext) {
		// The counter advances even when authentication fails (as whatsmeow does).
		return aesDecryptGCM(ciphertext, this.key, iv(this.n++), EMPTY);
	}
}

export class NoiseResponder {
	/**
	 * staticKeyPair: { private, public } (32-byte Curve25519, Baileys Curve format)
	 * prologue: the 4-byte connection header
	 */
	constructor({ staticKeyPair, prologue }) {
		this.s = staticKeyPair;
		const name = Buffer.from(NOISE_MODE);
		this.h = name.length === 32 ? name : sha256(name);
		this.ck = this.h;
		this.k = this.h;
		this.n = 0;
		this.mixHash(prologue);
		this.e = null;
		this.re = null;
		this.rs = null;
	}

	mixHash(data) {
		this.h = sha256(Buffer.concat([this.h, data]));
	}

	mixKey(ikm) {
		[this.ck, this.k] = hkdf2(this.ck, ikm);
		this.n = 0;
	}

	encryptAndHash(plaintext) {
		const ct = aesEncryptGCM(plaintext, this.k, iv(this.n++), this.h);
		this.mixHash(ct);
		return ct;
	}

	decryptAndHash(ciphertext) {
		const pt = aesDecryptGCM(ciphertext, this.k, iv(this.n++), this.h);
		this.mixHash(ciphertext);
		return pt;
	}

	/**
	 * Process the ClientHello frame, return the ServerHello frame payload.
	 * certChain: encoded CertChain bytes to send (already faulted if wanted).
	 */
	clientHello(frame, certChain) {
		const msg = proto.HandshakeMessage.decode(frame);
		const re = msg.clientHello?.ephemeral;
		if (!re || re.length !== 32)
			throw new Error(`ClientHello without a 32-byte ephemeral (got ${re ? re.length : 'none'})`);
		this.re = Buffer.from(re);
		this.mixHash(this.re);

		this.e = Curve.generateKeyPair();
		this.mixHash(this.e.public);
		this.mixKey(Curve.sharedKey(this.e.private, this.re));
		const staticCt = this.encryptAndHash(this.s.public);
		this.mixKey(Curve.sharedKey(this.s.private, this.re));
		const payloadCt = this.encryptAndHash(certChain);
		return Buffer.from(proto.HandshakeMessage.encode({
			serverHello: { ephemeral: this.e.public, static: staticCt, payload: payloadCt }
		}).finish());
	}

	/**
	 * Process the ClientFinish frame.  Returns { clientStatic, payload (raw
	 * ClientPayload bytes), recv: CipherState, send: CipherState }.
	 */
	clientFinish(frame) {
		const msg = proto.HandshakeMessage.decode(frame);
		const fin = msg.clientFinish;
		if (!fin?.static || !fin?.payload)
			throw new Error('ClientFinish without static or payload');
		const rs = this.decryptAndHash(Buffer.from(fin.static));
		if (rs.length !== 32)
			throw new Error(`client static is ${rs.length} bytes, want 32`);
		this.rs = rs;
		this.mixKey(Curve.sharedKey(this.e.private, rs));
		const payload = this.decryptAndHash(Buffer.from(fin.payload));
		const [k1, k2] = hkdf2(this.ck, EMPTY);
		return { clientStatic: rs, payload, recv: new CipherState(k1), send: new CipherState(k2) };
	}
}

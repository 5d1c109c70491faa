// Wire framing (wa-protocol(7) §1.2-§1.4).
//
// The first bytes a client sends are the connection header "WA 06 03"
// (NOISE_WA_HEADER), optionally preceded by Baileys' edge-routing block
// "ED 00 01 <len24> <routingInfo>".  After that every frame is a 3-byte
// big-endian length followed by that many bytes.  Websocket message
// boundaries mean nothing: a frame may span messages and a message may hold
// several frames, so FrameReader keeps a reassembly buffer.

import { NOISE_WA_HEADER } from 'baileys/lib/Defaults/index.js';

export const FRAME_MAX = (1 << 24) - 1;

/** Encode one frame: 3-byte BE length + payload. */
export function encodeFrame(payload) {
	if (payload.length > FRAME_MAX)
		throw new Error(`frame too large: ${payload.length}`);
	const out = Buffer.allocUnsafe(3 + payload.length);
	out[0] = (payload.length >>> 16) & 0xff;
	out[1] = (payload.length >>> 8) & 0xff;
	out[2] = payload.length & 0xff;
	out.set(payload, 3);
	return out;
}

/**
 * Accumulates bytes and returns complete frames.  Until the intro has been
 * seen, push() consumes it first and records `intro` = { header, routingInfo }.
 * Throws on a malformed intro.
 */
export class FrameReader {
	constructor({ expectIntro = true } = {}) {
		this.buf = Buffer.alloc(0);
		this.intro = expectIntro ? null : { header: null, routingInfo: null };
	}

	push(chunk) {
		this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
		if (!this.intro && !this.#readIntro())
			return [];
		const frames = [];
		while (this.buf.length >= 3) {
			const len = (this.buf[0] << 16) | (this.buf[1] << 8) | this.buf[2];
			if (this.buf.length < 3 + len)
				break;
			frames.push(this.buf.subarray(3, 3 + len));
			this.buf = this.buf.subarray(3 + len);
		}
		return frames;
	}

	/** Bytes received but not yet part of a complete frame. */
	get pending() {
		return this.buf.length;
	}

	#readIntro() {
		const b = this.buf;
		let routingInfo = null;
		let off = 0;
		if (b.length >= 1 && b[0] === 0x45 /* 'E' */) {
			if (b.length < 7)
				return false;
			if (b[1] !== 0x44 || b[2] !== 0 || b[3] !== 1)
				throw new Error(`bad edge-routing prefix ${b.subarray(0, 4).toString('hex')}`);
			const len = (b[4] << 16) | b.readUInt16BE(5);
			if (b.length < 7 + len)
				return false;
			routingInfo = Buffer.from(b.subarray(7, 7 + len));
			off = 7 + len;
		}
		if (b.length < off + NOISE_WA_HEADER.length)
			return false;
		const header = b.subarray(off, off + NOISE_WA_HEADER.length);
		if (!header.equals(NOISE_WA_HEADER))
			throw new Error(`bad connection header ${header.toString('hex')} (want ${NOISE_WA_HEADER.toString('hex')})`);
		this.intro = { header: Buffer.from(header), routingInfo };
		this.buf = b.subarray(off + NOISE_WA_HEADER.length);
		return true;
	}
}

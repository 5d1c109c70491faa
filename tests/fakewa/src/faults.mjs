// Faults injected through POST /fault (wa-protocol(7) §10, RELIABILITY.md
// "network faults").  Connection faults act at once on one open
// connection; certificate faults (certs.mjs CERT_FAULTS) are queued and
// apply to the next handshake(s).
//
//   drop          stop sending and close the TCP connection, no close frame
//   stall         send nothing more (automatic replies and pushes suppressed)
//   resume        undo stall
//   stream-error  <stream:error code=…><child type=…/></stream:error>, then close
//                 params: code, child, type, attrs (child attrs), close (default true)
//   garbage       random bytes; layer "frame" (default: not encrypted, the
//                 client's AES-GCM fails), "node" (valid frame, plaintext is
//                 not a node), "zlib" (compressed flag, body is not zlib);
//                 param bytes (default 64)
//   oversized     a frame length header (param length, default 0xFFFFFF)
//                 followed by param bytes (default 0) filler bytes, then stall
//   zlib-bomb     a valid compressed frame whose node inflates to param size
//                 bytes (default 32 MiB, above the 16 MiB frame cap)

import { randomBytes } from 'crypto';
import { deflateSync } from 'zlib';
import { CERT_FAULTS } from './certs.mjs';
import { encodeFrame } from './framing.mjs';
import { FLAG_COMPRESSED } from './nodes.mjs';

export const CONN_FAULTS = ['drop', 'stall', 'resume', 'stream-error', 'garbage', 'oversized', 'zlib-bomb'];

export function isCertFault(kind) {
	return Object.hasOwn(CERT_FAULTS, kind);
}

/** Apply a connection fault.  Returns extra fields for the API answer. */
export function applyConnFault(conn, kind, p) {
	switch (kind) {
	case 'drop':
		conn.stalled = true;
		conn.close({ hard: true });
		return {};
	case 'stall':
		conn.stalled = true;
		return {};
	case 'resume':
		conn.stalled = false;
		return {};
	case 'stream-error':
		return streamError(conn, p);
	case 'garbage':
		return garbage(conn, p);
	case 'oversized':
		return oversized(conn, p);
	case 'zlib-bomb':
		return zlibBomb(conn, p);
	}
	throw new Error(`unknown fault kind ${kind}`);
}

function streamError(conn, p) {
	const attrs = {};
	if (p.code !== undefined)
		attrs.code = String(p.code);
	const content = [];
	if (p.child) {
		const cattrs = { ...(p.attrs || {}) };
		if (p.type !== undefined)
			cattrs.type = String(p.type);
		content.push({ tag: String(p.child), attrs: cattrs });
	}
	const node = { tag: 'stream:error', attrs };
	if (content.length)
		node.content = content;
	const ev = conn.sendNode(node, { force: true });
	if (p.close !== false)
		conn.close();
	return { sent: ev?.seq ?? null };
}

function checkedSize(v, def, max, name) {
	const n = v === undefined ? def : Number(v);
	if (!Number.isInteger(n) || n < 0 || n > max)
		throw new Error(`${name} must be an integer 0..${max}`);
	return n;
}

function garbage(conn, p) {
	const n = checkedSize(p.bytes, 64, 1 << 20, 'bytes');
	const layer = p.layer ?? 'frame';
	const junk = randomBytes(n);
	switch (layer) {
	case 'frame':
		conn.sendRaw(encodeFrame(junk));
		break;
	case 'node':
		// 0xF0 is an unassigned tag byte: no decoder can take it as a list.
		conn.sendFrame(Buffer.concat([Buffer.from([0x00, 0xf0]), junk]));
		break;
	case 'zlib':
		conn.sendFrame(Buffer.concat([Buffer.from([FLAG_COMPRESSED, 0xff]), junk]));
		break;
	default:
		throw new Error('layer must be frame, node or zlib');
	}
	return { layer, bytes: n };
}

function oversized(conn, p) {
	const len = checkedSize(p.length, 0xffffff, 0xffffff, 'length');
	const n = checkedSize(p.bytes, 0, 1 << 20, 'bytes');
	const hdr = Buffer.from([(len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff]);
	conn.sendRaw(Buffer.concat([hdr, randomBytes(n)]));
	conn.stalled = true;
	return { length: len };
}

function zlibBomb(conn, p) {
	const size = checkedSize(p.size, 1 << 25, 1 << 30, 'size');
	// <message> with a BINARY_32 body of `size` zero bytes, built by hand
	// (encodeBinaryNode would materialise it as a JS array).
	const head = Buffer.from([0xf8, 0x02, 19 /* token "message" */, 0xfe, 0, 0, 0, 0]);
	head.writeUInt32BE(size, 4);
	const z = deflateSync(Buffer.concat([head, Buffer.alloc(size)]), { level: 9 });
	conn.sendFrame(Buffer.concat([Buffer.from([FLAG_COMPRESSED]), z]));
	return { inflated: head.length + size, compressed: z.length };
}

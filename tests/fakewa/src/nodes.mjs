// Binary nodes (wa-protocol(7) §4) as Baileys represents them, their JSON form
// for the control API, and the transport plaintext (flags byte + node).
//
// JSON form: { "tag": "iq", "attrs": { "k": "v" }, "content": C } where C is
// absent/null, a list of nodes, a string, or { "base64": "..." } for bytes.
// Attribute values are always strings (JIDs as "user[:dev]@server").

import { deflateSync, inflateSync } from 'zlib';
import * as constants from 'baileys/lib/WABinary/constants.js';
import { decodeDecompressedBinaryNode, encodeBinaryNode } from 'baileys/lib/WABinary/index.js';

export const FLAG_COMPRESSED = 0x02;
// Cap for inflated frames: a frame can never carry a node larger than this.
export const INFLATE_MAX = 1 << 24;

/** Baileys node -> JSON-safe object. */
export function nodeToJSON(node) {
	const out = { tag: node.tag, attrs: { ...(node.attrs || {}) } };
	const c = node.content;
	if (Array.isArray(c))
		out.content = c.map(nodeToJSON);
	else if (Buffer.isBuffer(c) || c instanceof Uint8Array)
		out.content = { base64: Buffer.from(c).toString('base64') };
	else if (typeof c === 'string')
		out.content = c;
	return out;
}

/** JSON object -> Baileys node.  Throws a descriptive Error on bad input. */
export function nodeFromJSON(j, path = 'node') {
	if (!j || typeof j !== 'object' || Array.isArray(j))
		throw new Error(`${path}: not an object`);
	if (typeof j.tag !== 'string' || !j.tag)
		throw new Error(`${path}: tag must be a non-empty string`);
	const attrs = {};
	for (const [k, v] of Object.entries(j.attrs || {})) {
		if (typeof v !== 'string')
			throw new Error(`${path}.attrs.${k}: value must be a string`);
		attrs[k] = v;
	}
	const node = { tag: j.tag, attrs };
	const c = j.content;
	if (c === undefined || c === null)
		return node;
	if (Array.isArray(c))
		node.content = c.map((x, i) => nodeFromJSON(x, `${path}.content[${i}]`));
	else if (typeof c === 'string')
		node.content = c;
	else if (typeof c === 'object' && typeof c.base64 === 'string')
		node.content = Buffer.from(c.base64, 'base64');
	else
		throw new Error(`${path}.content: want a list, a string or {"base64": ...}`);
	return node;
}

/** Node -> transport plaintext: flags byte + encoded node, zlib if asked. */
export function encodePlaintext(node, { compress = false } = {}) {
	const enc = encodeBinaryNode(node); // starts with a 0x00 flags byte
	if (!compress)
		return enc;
	return Buffer.concat([Buffer.from([FLAG_COMPRESSED]), deflateSync(enc.subarray(1))]);
}

/** Transport plaintext -> { node, compressed }.  Throws on bad input. */
export function decodePlaintext(buf) {
	if (!buf.length)
		throw new Error('empty plaintext');
	const compressed = (buf[0] & FLAG_COMPRESSED) !== 0;
	const body = compressed
		? inflateSync(buf.subarray(1), { maxOutputLength: INFLATE_MAX })
		: buf.subarray(1);
	const ref = { index: 0 };
	const node = decodeDecompressedBinaryNode(body, constants, ref);
	return { node, compressed, trailing: body.length - ref.index };
}

/** Find the first child with a tag, or undefined. */
export function child(node, tag) {
	return Array.isArray(node?.content) ? node.content.find(c => c.tag === tag) : undefined;
}

// decode-nodes.mjs - Baileys' decoder as a line filter: one hex node body
// (no flags byte) per line on stdin, its decoding as canonical JSON per
// line on stdout ("ERR <message>" when Baileys throws).
//
//   node decode-nodes.mjs < bytes.hex > trees.json
//
// Canonical JSON is what wa-nodecodec prints: {"tag":T,"attrs":[[K,V],..],
// "content":C} with attributes sorted by the bytes of their keys, "content"
// left out when there is none, an array of nodes, a string, or
// {"hex":"..."} for bytes.  gen-nodes.mjs imports canon and toInputJson.
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import * as constants from 'baileys/lib/WABinary/constants.js';
import { decodeDecompressedBinaryNode } from 'baileys/lib/WABinary/index.js';

const byBytes = (a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]));
const isBytes = (c) => Buffer.isBuffer(c) || c instanceof Uint8Array;

const content = (c, each) => {
	if (c === undefined) return '';
	if (Array.isArray(c)) return `,"content":[${c.map(each).join(',')}]`;
	if (isBytes(c)) return `,"content":{"hex":"${Buffer.from(c).toString('hex')}"}`;
	return `,"content":${JSON.stringify(c)}`;
};

const pairs = (list) => list.map(([k, v]) => `[${JSON.stringify(k)},${JSON.stringify(v)}]`).join(',');

/* a tree as canonical JSON (attributes sorted) */
export const canon = (n) => {
	const attrs = Object.keys(n.attrs || {}).map((k) => [k, n.attrs[k]]).sort(byBytes);
	return `{"tag":${JSON.stringify(n.tag)},"attrs":[${pairs(attrs)}]${content(n.content, canon)}}`;
};

/* a tree as input for wa-nodecodec encode: attributes in the order
 * Baileys' encoder visits them (Object.keys) */
export const toInputJson = (n) => {
	const attrs = Object.keys(n.attrs || {}).filter((k) => n.attrs[k] != null).map((k) => [k, n.attrs[k]]);
	return `{"tag":${JSON.stringify(n.tag)},"attrs":[${pairs(attrs)}]${content(n.content, toInputJson)}}`;
};

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
	const out = [];
	const flush = () => { process.stdout.write(out.join('')); out.length = 0; };
	for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
		try {
			out.push(canon(decodeDecompressedBinaryNode(Buffer.from(line.trim(), 'hex'), constants)) + '\n');
		} catch (e) {
			out.push(`ERR ${String(e.message).replace(/\s+/g, " ")}\n`);
		}
		if (out.length >= 256) flush();
	}
	flush();
}

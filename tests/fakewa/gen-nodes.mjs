// gen-nodes.mjs - conformance cases for wa's binary codec and JID code,
// made with Baileys' own encoder, decoder and Signal address code.
//
//   node gen-nodes.mjs nodes OUTDIR [COUNT] [SEED]
//   node gen-nodes.mjs jids OUTDIR [COUNT] [SEED]
//
// nodes writes, one line per case (hand-picked cases first, then COUNT
// random ones, default 3000; the same SEED gives the same files):
//   nodes.in    the input tree as JSON: {"tag","attrs":[[k,v]..],"content"}
//               (attributes in the order Baileys encodes them)
//   nodes.hex   Baileys' encodeBinaryNode bytes, without the flags byte
//   nodes.out   Baileys' decoding of nodes.hex, canonical JSON (attributes
//               sorted by key bytes; bytes as {"hex":..})
//   nodes.want  the tree a faithful encoder's bytes decode to: nodes.out,
//               except where Baileys' encoding loses information (see
//               lib/binary.h: JID shapes that do not read back)
//   nodes.same  1 where Baileys is faithful, so wa's bytes must be
//               identical to nodes.hex; 0 elsewhere
//   frames.hex, frames.out  some cases as frames (flags byte; zlib for
//               flags & 2) and Baileys' decodeBinaryNode of them
// jids writes jids.txt (one JID per line) and jids.want (Baileys' facts
// about each, one JSON object per line; the format of wa-nodecodec jid).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import * as constants from 'baileys/lib/WABinary/constants.js';
import { encodeBinaryNode, decodeBinaryNode, decodeDecompressedBinaryNode } from 'baileys/lib/WABinary/index.js';
import { jidDecode, jidEncode, jidNormalizedUser } from 'baileys/lib/WABinary/jid-utils.js';
import { makeLibSignalRepository } from 'baileys/lib/Signal/libsignal.js';
import { SenderKeyName } from 'baileys/lib/Signal/Group/sender-key-name.js';
import libsignal from 'libsignal';
import { canon, toInputJson } from './decode-nodes.mjs';

const [mode, outdir, countArg, seedArg] = process.argv.slice(2);
if (!['nodes', 'jids'].includes(mode) || !outdir) {
	process.stderr.write('usage: node gen-nodes.mjs nodes|jids OUTDIR [COUNT] [SEED]\n');
	process.exit(100);
}
const COUNT = countArg ? parseInt(countArg, 10) : 3000;
let seed = (seedArg ? parseInt(seedArg, 10) : 20240601) >>> 0;

// xorshift32: the same seed gives the same cases on every machine
const rnd = () => {
	seed ^= seed << 13; seed >>>= 0;
	seed ^= seed >>> 17;
	seed ^= seed << 5; seed >>>= 0;
	return seed / 4294967296;
};
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];
const digits = (n) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + int(9) : int(10))).join('');
const fromAlpha = (alpha, n) => Array.from({ length: n }, () => alpha[int(alpha.length)]).join('');

const SINGLE = constants.SINGLE_BYTE_TOKENS.slice(1);
const DOUBLE = constants.DOUBLE_BYTE_TOKENS.flat();

// ---- strings ----
const SERVERS = ['s.whatsapp.net', 'lid', 'hosted', 'hosted.lid', 'g.us', 'broadcast', 'newsletter',
	'bot', 'msgr', 'interop', 'c.us', 'call', 'example.com'];
const jidString = () => {
	switch (int(16)) {
	case 0: return `${digits(11)}@s.whatsapp.net`;
	case 1: return `${digits(11)}:${1 + int(255)}@s.whatsapp.net`;
	case 2: return `${digits(14)}@lid`;
	case 3: return `${digits(14)}:${1 + int(255)}@lid`;
	case 4: return `${digits(11)}:99@hosted`;
	case 5: return `${digits(14)}:99@hosted.lid`;
	case 6: return `1203630${digits(11)}@g.us`;
	case 7: return `${digits(11)}-${digits(10)}@g.us`;
	case 8: return pick(['status@broadcast', '@s.whatsapp.net', '@g.us', '@lid', 's.whatsapp.net@s.whatsapp.net',
		'0@c.us', 'server@c.us', '16505361212@c.us', '@broadcast', `${digits(13)}@broadcast`]);
	case 9: return `1203633${digits(11)}@newsletter`;
	case 10: return `${digits(13)}@bot`;
	case 11: return `${digits(15)}:${int(3)}@msgr`;
	case 12: return `${digits(11)}@${pick(SERVERS)}`;
	case 13: if (int(3)) return `${digits(11)}@s.whatsapp.net`; // else shapes Baileys cannot send faithfully
		return pick([`${digits(11)}:0@s.whatsapp.net`, `${digits(11)}_1@s.whatsapp.net`,
			`${digits(11)}_128:99@s.whatsapp.net`, `${digits(11)}:300@lid`, `${digits(11)}:5@g.us`,
			`${digits(11)}:05@lid`, `${digits(6)}@`, '@', `a:b@s.whatsapp.net`, `${digits(5)}:@lid`,
			`x:1:2@lid`, `constructor@s.whatsapp.net`]);
	case 14: // nested: the server part is a JID again
		return `${digits(4)}@${digits(3)}@${pick(SERVERS)}`;
	default: return `${fromAlpha('abcdefxyz0123456789-.', 1 + int(12))}@${pick(SERVERS)}`;
	}
};
const unicode = () => {
	const cps = [0x20 + int(95), 0xa0 + int(0x500), 0x4e00 + int(0x5000), 0x1f600 + int(80), 0x7f, 1 + int(31)];
	return Array.from({ length: 1 + int(20) }, () => String.fromCodePoint(pick(cps))).join('');
};
const str = () => {
	switch (int(15)) {
	case 0: case 14: return pick(SINGLE);
	case 1: return pick(DOUBLE);
	case 2: return fromAlpha('0123456789-.', 1 + int(pick([4, 20, 127])));
	case 3: return fromAlpha('0123456789-.', pick([126, 127, 128, 129]));
	case 4: return fromAlpha('0123456789ABCDEF', 1 + int(pick([8, 40, 127])));
	case 5: return fromAlpha('0123456789ABCDEF', pick([126, 127, 128]));
	case 6: return fromAlpha('0123456789abcdef', 1 + int(40)); // lowercase hex goes raw
	case 7: case 8: case 9: return jidString();
	case 10: return unicode();
	case 11: return fromAlpha('abcdefghijklmnopqrstuvwxyz_-:.', 1 + int(30));
	case 12: return int(4) ? '' : pick(['constructor', 'toString', 'hasOwnProperty', 'valueOf']);
	case 13: return fromAlpha('ab', pick([255, 256, 300, 1000]));
	}
};
const key = () => {
	switch (int(6)) {
	case 0: case 1: return pick(['id', 'type', 'to', 'from', 'xmlns', 't', 'participant', 'jid', 'lid', 'v']);
	case 2: return pick(SINGLE);
	case 3: return String(int(20)); // integer-like: JS puts these first
	case 4: return fromAlpha('abcdefghijklmnopqrstuvwxyz_-', 1 + int(12));
	default: return int(30) ? pick(DOUBLE) : '';
	}
};

// ---- nodes ----
const bytes = (n) => Buffer.from(Array.from({ length: n }, () => int(256)));
const leaf = () => ({ tag: pick(['item', 'user', 'device', 'participant']), attrs: { jid: jidString(), [key()]: str() },
	content: int(2) ? undefined : str() });
const node = (depth) => {
	const attrs = {};
	const na = int(20) === 0 ? int(pick([4, 140])) : int(4);
	for (let i = 0; i < na; i++) attrs[key()] = str();
	const tag = int(10) ? pick(['iq', 'message', 'enc', 'receipt', 'notification', 'ack', 'success', 'user',
		'device', 'item', 'key', 'participant', 'list', 'query']) : str() || 'x';
	let content;
	switch (depth > 5 ? int(4) : int(6)) {
	case 0: break;
	case 1: content = str(); break;
	case 2: content = bytes(pick([0, 1, 32, 255, 256, int(600)])); break;
	case 3: content = []; break;
	default:
		if (depth === 0 && int(20) === 0)
			content = Array.from({ length: pick([255, 256, 300]) }, leaf);
		else
			content = Array.from({ length: 1 + int(3) }, () => node(depth + 1));
	}
	return { tag, attrs, content };
};

const hand = () => {
	const l = [];
	const N = (tag, attrs = {}, content) => ({ tag, attrs, content });
	l.push(N('iq', { to: '@s.whatsapp.net', type: 'result', id: '123' }));
	l.push(N('success', { t: '1700000000', lid: '123:4@lid' }));
	l.push(N('registration', {}, Buffer.from([0, 0, 0, 0xb3])));
	l.push(N('iq', { id: '3EB0A1B2C3', xmlns: 'w:p', type: 'get', to: 's.whatsapp.net' }, [N('ping')]));
	for (const j of ['15550002222@s.whatsapp.net', '15550002222:5@s.whatsapp.net', '99990002222@lid',
		'99990002222:5@lid', '15550002222:99@hosted', '99990002222:99@hosted.lid', '15550002222@hosted',
		'120363000000000000@g.us', '15550001111-1600000000@g.us', 'status@broadcast', '@g.us',
		'120363300000000000@newsletter', '13135550002@bot', '100000000000001:0@msgr', '5-123:1@interop',
		'16505361212@c.us', '15550002222:0@s.whatsapp.net', '15550002222_1:2@s.whatsapp.net'])
		l.push(N('message', { from: j, to: j, participant: j }, j));
	for (const s of SINGLE) l.push(N(s, { [s]: s }, s));
	for (let d = 0; d < 4; d++)
		for (let i = 0; i < 256; i += 5) l.push(N('t', { [constants.DOUBLE_BYTE_TOKENS[d][i]]: constants.DOUBLE_BYTE_TOKENS[d][(i + 1) % 256] }, constants.DOUBLE_BYTE_TOKENS[d][i]));
	for (const n of [1, 2, 3, 126, 127, 128]) {
		l.push(N('n', { v: fromAlpha('0123456789-.', n) }, fromAlpha('0123456789-.', n)));
		l.push(N('h', { v: fromAlpha('0123456789ABCDEF', n) }, fromAlpha('0123456789ABCDEF', n)));
	}
	for (const n of [0, 1, 255, 256, (1 << 20) - 1, 1 << 20, (1 << 20) + 3])
		l.push(N('enc', { v: '2', type: 'msg' }, bytes(n)));
	for (const n of [255, 256, 70000]) l.push(N('m', { a: 'b'.repeat(n) }));
	l.push(N('list', {}, Array.from({ length: 255 }, (_, i) => N('item', { id: String(i) }))));
	l.push(N('list', {}, Array.from({ length: 256 }, (_, i) => N('item', { id: String(i) }))));
	l.push(N('many', Object.fromEntries(Array.from({ length: 127 }, (_, i) => [`k${i}`, `v${i}`]))));
	l.push(N('many', Object.fromEntries(Array.from({ length: 128 }, (_, i) => [`k${i}`, `v${i}`])), []));
	let deep = N('leaf', {}, 'x');
	for (let i = 0; i < 40; i++) deep = N('d', { i: String(i) }, [deep]);
	l.push(deep);
	l.push(N('e', { '': '', a: '' }, ''));
	l.push(N('e', { b: 'x' }, []));
	l.push(N('text', { lang: 'pt' }, 'olá, 世界 😀 "quoted" \\ \n\t'));
	l.push(N('j', { a: 'a@b@c', b: '1@2@3@4@g.us', c: 's.whatsapp.net@lid' }, 'x@y@z'));
	return l;
};

// ---- the model: what bytes that keep every string decode to ----
const FIXED = { ...constants, TOKEN_MAP: Object.assign(Object.create(null), constants.TOKEN_MAP) };
const isNibble = (s) => s.length <= 127 && /^[0-9.-]+$/.test(s);
const isHex = (s) => s.length <= 127 && /^[0-9A-F]+$/.test(s);
const jidKept = (s) => {
	if (!s.includes('@')) return false;
	// <iq id=s>: f8 03 19 08, then s
	const b = encodeBinaryNode({ tag: 'iq', attrs: { id: s } }, FIXED).subarray(1);
	if (b[4] !== 0xfa && b[4] !== 0xf7) return false;
	try {
		return decodeDecompressedBinaryNode(b, constants).attrs.id === s;
	} catch {
		return false;
	}
};
const textKind = (s) => s !== '' && (s in FIXED.TOKEN_MAP || isNibble(s) || isHex(s) || jidKept(s));
const model = (n) => ({
	tag: n.tag,
	attrs: Object.fromEntries(Object.keys(n.attrs).map((k) => [k, n.attrs[k]])),
	content: n.content === undefined ? undefined
		: Array.isArray(n.content) ? n.content.map(model)
		: typeof n.content === 'string' ? (textKind(n.content) ? n.content : Buffer.from(n.content))
		: Buffer.from(n.content),
});
const atDepth = (n) => {
	const strs = [n.tag, ...Object.keys(n.attrs), ...Object.values(n.attrs)];
	if (typeof n.content === 'string') strs.push(n.content);
	return strs.every((s) => s.split('@').length - 1 <= 8) &&
		(!Array.isArray(n.content) || n.content.every(atDepth));
};

const genNodes = async () => {
	const cases = [...hand()];
	for (let i = 0; i < COUNT; i++) cases.push(node(0));
	const ins = [], hexes = [], outs = [], wants = [], sames = [], fhex = [], fout = [];
	for (const [i, n] of cases.entries()) {
		const body = encodeBinaryNode(n).subarray(1);
		let out;
		try {
			out = canon(decodeDecompressedBinaryNode(body, constants));
		} catch (e) {
			out = 'ERR'; // Baileys wrote what it cannot read
		}
		const want = canon(model(n));
		ins.push(toInputJson(n));
		hexes.push(body.toString('hex'));
		outs.push(out);
		wants.push(want);
		sames.push(out === want && atDepth(n) ? 1 : 0);
		if (i % 7 === 0 && body.length < 200000 && !out.startsWith('ERR')) {
			const flags = [0, 2, 6, 0x80, 3][i % 5];
			const frame = Buffer.concat([Buffer.from([flags]), flags & 2 ? deflateSync(body) : body]);
			fhex.push(frame.toString('hex'));
			fout.push(canon(await decodeBinaryNode(frame)));
		}
	}
	const w = (name, lines) => writeFileSync(join(outdir, name), lines.join('\n') + '\n');
	w('nodes.in', ins); w('nodes.hex', hexes); w('nodes.out', outs); w('nodes.want', wants);
	w('nodes.same', sames); w('frames.hex', fhex); w('frames.out', fout);
	process.stderr.write(`gen-nodes: ${cases.length} cases, ${sames.filter((x) => !x).length} where Baileys loses information, ${fhex.length} frames\n`);
};

// ---- JIDs ----
const genJids = () => {
	const logger = { info() {}, debug() {}, warn() {}, error() {}, trace() {}, child() { return logger; } };
	const keys = { get: async () => ({}), set: async () => {}, transaction: async (f) => f(), isInTransaction: () => false };
	const repo = makeLibSignalRepository({ creds: {}, keys }, logger);
	const group = '120363000000000000@g.us';
	const list = ['15550002222@s.whatsapp.net', '15550002222:5@s.whatsapp.net', '99990002222:5@lid',
		'99990002222@lid', '15550002222:99@hosted', '99990002222:99@hosted.lid', '15550002222@hosted',
		'15550002222:0@s.whatsapp.net', '15550002222_1:2@s.whatsapp.net', '15550002222_128:99@s.whatsapp.net',
		'15550002222:99@s.whatsapp.net', '99990002222:99@lid', '@s.whatsapp.net', '@g.us', '@lid',
		'120363000000000000@g.us', '15550001111-1600000000@g.us', 'status@broadcast', '0@c.us',
		'server@c.us', '16505361212@c.us', '13135550002@bot', '120363300000000000@newsletter',
		'100000000000001:0@msgr', '100000000000001:65535@msgr', '5-123:1@interop', '99990002222_1@lid',
		'15550002222_0@s.whatsapp.net', '15550002222_255:255@c.us', 'abc@example.com', '1:1@call'];
	for (let i = 0; i < COUNT; i++) {
		const user = int(10) ? digits(1 + int(18)) : fromAlpha('abcxyzABC0123456789-', 1 + int(20));
		const agent = int(6) ? '' : `_${int(256)}`;
		const device = int(3) ? '' : `:${pick([0, 1, 2, 99, int(256), int(65536)])}`;
		list.push(`${user}${agent}${device}@${pick(SERVERS)}`);
	}
	const want = list.map((j) => {
		const d = jidDecode(j);
		let addr = null, sk = null;
		try {
			addr = repo.jidToSignalProtocolAddress(j);
			sk = new SenderKeyName(group, libsignal.ProtocolAddress.from(addr)).toString();
		} catch { /* Baileys refuses: null */ }
		return JSON.stringify({ user: d.user, server: d.server, device: d.device ?? 0, domain: d.domainType,
			enc: jidEncode(d.user, d.server, d.device), norm: jidNormalizedUser(j), addr, sk });
	});
	writeFileSync(join(outdir, 'jids.txt'), list.join('\n') + '\n');
	writeFileSync(join(outdir, 'jids.want'), want.join('\n') + '\n');
	process.stderr.write(`gen-nodes: ${list.length} JIDs\n`);
};

if (mode === 'nodes') await genNodes();
else genJids();

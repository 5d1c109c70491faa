// msgenc-check.mjs: what Baileys reads from the Messages lib/msg encodes
// (tests/0701-msg-encode.t).
//
//   node msgenc-check.mjs < base64 lines (wa-msgenc's output)
//
// Each line is unpadded with Baileys' own unpadRandomMax16 (as
// decode-wa-message.js does) and decoded with proto.Message.decode; one
// compact JSON line per input: {"pad":N,"msg":{the Message as
// proto.Message.toObject gives it, bytes base64}} or {"error":...}.
import { createInterface } from 'readline';
import { proto } from 'baileys';
import { unpadRandomMax16 } from 'baileys/lib/Utils/generics.js';

const sortKeys = (v) => Array.isArray(v) ? v.map(sortKeys) :
	v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])])) : v;

for await (const line of createInterface({ input: process.stdin })) {
	try {
		const buf = Buffer.from(line, 'base64');
		const un = unpadRandomMax16(buf);
		const m = proto.Message.decode(un);
		const o = proto.Message.toObject(m, { longs: Number, enums: String, bytes: String, defaults: false });
		console.log(JSON.stringify({ pad: buf.length - un.length, msg: sortKeys(o) }));
	} catch (e) {
		console.log(JSON.stringify({ error: String(e.message || e) }));
	}
}

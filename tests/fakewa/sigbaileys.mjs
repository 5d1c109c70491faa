#!/usr/bin/env node
// sigbaileys.mjs - Baileys 7's own Signal repository on an auth folder,
// speaking the subset of the wa-signal test contract that lib/signal's
// tests need to hand a folder back and forth between wa and Baileys.
//
// usage: node tests/fakewa/sigbaileys.mjs -d DIR
//
// One JSON request per line on stdin, one response line each on stdout:
//   {"op":"encrypt","jid":J,"pt":B64}          -> {"ok":true,"type":…,"ct":B64}
//   {"op":"decrypt","jid":J,"type":T,"ct":B64} -> {"ok":true,"pt":B64}
//   {"op":"group_encrypt","group":G,"pt":B64}  -> {"ok":true,"skdm":B64,"ct":B64}
//   {"op":"process_skdm","group":G,"jid":J,"skdm":B64} -> {"ok":true}
//   {"op":"group_decrypt","group":G,"jid":J,"ct":B64}  -> {"ok":true,"pt":B64}
// Errors: {"ok":false,"error":"baileys","detail":message}.  The folder is
// opened as a bot opens it (useMultiFileAuthState, Baileys' transactional
// key store, makeLibSignalRepository); every write is on disk before the
// response.  (The full contract peer is tests/fakewa/signal-node.mjs.)

import { createInterface } from 'node:readline';
import * as F from './fixtures.mjs';

const i = process.argv.indexOf('-d');
if (i < 0 || !process.argv[i + 1]) {
	process.stderr.write('usage: node tests/fakewa/sigbaileys.mjs -d DIR\n');
	process.exit(64);
}
const b = await F.openBaileysAuth(process.argv[i + 1]);
const B64 = (x) => Buffer.from(x).toString('base64');
const buf = (s) => Buffer.from(s, 'base64');

async function handle(r) {
	switch (r.op) {
	case 'encrypt': {
		const { type, ciphertext } = await b.repo.encryptMessage({ jid: r.jid, data: buf(r.pt) });
		return { ok: true, type, ct: B64(ciphertext) };
	}
	case 'decrypt':
		return { ok: true, pt: B64(await b.repo.decryptMessage({ jid: r.jid, type: r.type, ciphertext: buf(r.ct) })) };
	case 'group_encrypt': {
		const { ciphertext, senderKeyDistributionMessage } =
			await b.repo.encryptGroupMessage({ group: r.group, meId: b.creds.me.id, data: buf(r.pt) });
		return { ok: true, skdm: B64(senderKeyDistributionMessage), ct: B64(ciphertext) };
	}
	case 'process_skdm':
		await b.repo.processSenderKeyDistributionMessage({
			item: { groupId: r.group, axolotlSenderKeyDistributionMessage: buf(r.skdm) }, authorJid: r.jid
		});
		return { ok: true };
	case 'group_decrypt':
		return { ok: true, pt: B64(await b.repo.decryptGroupMessage({ group: r.group, authorJid: r.jid, msg: buf(r.ct) })) };
	case 'quit':
		process.stdout.write('{"ok":true}\n');
		process.exit(0);
	default:
		return { ok: false, error: 'bad_request', detail: `unknown op ${r.op}` };
	}
}

for await (const line of createInterface({ input: process.stdin })) {
	if (!line.trim()) continue;
	let resp;
	try {
		resp = await handle(JSON.parse(line));
	} catch (e) {
		resp = { ok: false, error: 'baileys', detail: String(e?.message ?? e) };
	}
	process.stdout.write(JSON.stringify(resp) + '\n');
}
process.exit(0);

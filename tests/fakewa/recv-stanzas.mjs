#!/usr/bin/env node
// recv-stanzas.mjs - a burst of real Signal <message> stanzas for a wa auth
// folder, without the network: the input of the receive-path tests
// (tests/1550-recv-crashstate.t feeds them to tests/helpers/wa-recv-feed).
//
// usage: node tests/fakewa/recv-stanzas.mjs DIR [--count N] [--peers P]
//        [--peer-state FILE] [--group-every G] [--seed S] [--expect FILE]
//
// DIR is a paired Baileys auth folder (tests/fakewa/mkauth.mjs); it is only
// read.  The senders take turns:
//   new peers  P of them (default 1), each a libsignal-node store in memory
//              (fixtures.mjs SimPeer) that builds a session from DIR's
//              bundle (one one-time pre-key each, the lowest ids present,
//              as the server hands them out).  libsignal-node (like every
//              Signal library) sends PreKeySignalMessages until it hears
//              back, so all of a new peer's stanzas are pkmsg: the first
//              consumes the pre-key, the rest find the session by its base
//              key (and must, also when redelivered after a crash).
//   contacts   with --peer-state (mkauth.mjs --contacts N --peer-state
//              FILE made with DIR): each contact device, whose sessions with
//              DIR exist both ways, so its stanzas are msg.
// Every G-th message (default 4; 0: none) goes to a group (a LID-addressed
// 120363…@g.us): a sender's first group stanza carries its sender key in a
// pkmsg/msg <enc> (Message.senderKeyDistributionMessage) before the skmsg
// <enc>, as Baileys sends it.  Every message is Message{conversation:
// "m N"} (N = 1..count in stanza order), padded as Baileys pads
// (writeRandomPadMax16).  Baileys itself decrypts every stanza on a
// throw-away copy of DIR first (the reference receiver).
//
// Output: one stanza per line in fakewa's Node JSON (README.md, "Node
// JSON"; ciphertext as {"base64": …}), with the attributes fakewa's router
// sets for a sender that addressed us by LID: 1:1 from=LID sender_pn=PN,
// group from=GROUP participant=LID participant_pn=PN addressing_mode=lid;
// id, t, type=text, notify.  --expect FILE gets one line per message:
// {"id","chat","sender","text"}.
//
// Exit status: 0, 1 failure, 2 usage.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as F from './fixtures.mjs';

const { B, BufferJSON } = F;
const PROG = 'recv-stanzas';
const USAGE = 'usage: node tests/fakewa/recv-stanzas.mjs DIR [--count N] [--peers P] [--peer-state FILE]\n' +
	'       [--group-every G] [--seed S] [--expect FILE]';

function usage(msg) {
	if (msg) process.stderr.write(`${PROG}: ${msg}\n`);
	process.stderr.write(USAGE + '\n');
	process.exit(2);
}

const opt = { count: 40, peers: 1, groupEvery: 4 };
{
	const a = process.argv.slice(2);
	const int = (name, v, lo, hi) => (/^\d+$/.test(v ?? '') && +v >= lo && +v <= hi ? +v : usage(`${name} wants a number from ${lo} to ${hi}, not '${v}'`));
	for (let i = 0; i < a.length; i++) {
		const k = a[i];
		if (k === '--count') opt.count = int(k, a[++i], 1, 100000);
		else if (k === '--peers') opt.peers = int(k, a[++i], 0, 50);
		else if (k === '--peer-state') opt.peerState = a[++i] ?? usage('--peer-state needs a value');
		else if (k === '--group-every') opt.groupEvery = int(k, a[++i], 0, 100000);
		else if (k === '--seed') opt.seed = a[++i] ?? usage('--seed needs a value');
		else if (k === '--expect') opt.expect = a[++i] ?? usage('--expect needs a value');
		else if (k.startsWith('-')) usage(`unknown option '${k}'`);
		else if (!opt.dir) opt.dir = k;
		else usage(`one folder only, not also '${k}'`);
	}
	if (!opt.dir) usage('DIR missing');
}
if (opt.seed !== undefined) F.seedRandomness(opt.seed);

try {
	await main();
} catch (e) {
	F.fail(PROG, e.stack || e.message);
}

async function main() {
	let creds;
	try {
		creds = JSON.parse(readFileSync(join(opt.dir, 'creds.json'), 'utf-8'), BufferJSON.reviver);
	} catch (e) {
		F.fail(PROG, `unable to load '${join(opt.dir, 'creds.json')}': ${e.message}`);
	}
	if (!creds.me?.id || !creds.me?.lid) F.fail(PROG, `'${opt.dir}' is not a paired folder with a LID (mkauth.mjs makes one)`);
	const ourAddr = F.signalAddr(creds.me.lid);

	// Baileys on a throw-away copy of the folder: our replies, and a check
	// that every stanza decrypts the way Baileys decrypts it
	const copy = mkdtempSync(join(tmpdir(), 'recv-stanzas-'));
	try {
		cpSync(opt.dir, copy, { recursive: true, filter: (src) => !src.includes('/.wa') });
		const ctx = await F.openBaileysAuth(copy);
		const preKeyIds = Object.keys(await readPreKeys(copy)).map(Number).sort((x, y) => x - y);
		if (preKeyIds.length < opt.peers) F.fail(PROG, `'${opt.dir}' has ${preKeyIds.length} pre-keys, fewer than ${opt.peers} peers`);

		const peers = [];
		for (let i = 0; i < opt.peers; i++) {
			const p = { pn: '1555' + F.digits(7), lid: F.digits(15), peer: new F.SimPeer(), name: `Peer ${i}`, ourAddr, sk: false };
			p.jid = `${p.lid}@lid`;
			p.pnJid = `${p.pn}@s.whatsapp.net`;
			p.addr = F.signalAddr(p.jid);
			await p.peer.initOutgoing(ourAddr, await F.ourBundle(ctx.creds, ctx.keys, preKeyIds[i]));
			peers.push(p);
		}
		if (opt.peerState) {
			const ps = F.readPeerState(opt.peerState);
			if (!Buffer.from(ps.me.identity).equals(Buffer.from(creds.signedIdentityKey.public))) F.fail(PROG, `'${opt.peerState}' was made for another folder`);
			for (const d of ps.devices.filter((x) => x.label.startsWith('contact'))) {
				const j = B.jidDecode(d.jid);
				let pn = null;
				if (j.server === 'lid') {
					// the phone number, from the folder's reverse LID mapping
					try { pn = JSON.parse(readFileSync(join(opt.dir, `lid-mapping-${j.user}_reverse.json`), 'utf-8')); } catch { /* none */ }
				}
				peers.push({
					jid: d.jid, pnJid: pn ? B.jidEncode(pn, 's.whatsapp.net', j.device || undefined) : null,
					peer: d.peer, name: d.label, ourAddr: d.ourAddr, addr: F.signalAddr(d.jid), sk: false
				});
			}
		}
		if (!peers.length) F.fail(PROG, 'no senders: --peers 0 and no contacts in --peer-state');
		const group = `120363${F.digits(12)}@g.us`;

		const out = [];
		const expect = [];
		for (let n = 1; n <= opt.count; n++) {
			const text = `m ${n}`;
			const inGroup = opt.groupEvery > 0 && n % opt.groupEvery === 0;
			const p = peers[(inGroup ? Math.floor(n / opt.groupEvery) : n) % peers.length];
			const id = F.messageId();
			const base = { id, t: String(F.unixNow()), type: 'text', notify: p.name };
			let stanza;
			if (!inGroup) {
				const enc = await p.peer.encrypt(p.ourAddr, F.encodeText(text));
				stanza = { tag: 'message', attrs: { from: p.jid, ...(p.pnJid ? { sender_pn: p.pnJid } : {}), ...base }, content: [encNode(enc)] };
				expect.push({ id, chat: p.jid, sender: p.jid, text });
			} else {
				const encs = [];
				if (!p.sk) {
					const skdm = await p.peer.createSenderKey(group, p.addr);
					encs.push(encNode(await p.peer.encrypt(p.ourAddr, F.encodeMessage({
						senderKeyDistributionMessage: { groupId: group, axolotlSenderKeyDistributionMessage: skdm }
					}))));
					p.sk = true;
				}
				const ct = await p.peer.groupEncrypt(group, p.addr, F.encodeText(text));
				encs.push(encNode({ type: 'skmsg', ciphertext: ct }));
				stanza = {
					tag: 'message',
					attrs: { from: group, participant: p.jid, ...(p.pnJid ? { participant_pn: p.pnJid } : {}), addressing_mode: 'lid', ...base },
					content: encs
				};
				expect.push({ id, chat: group, sender: p.jid, text });
			}
			// Baileys (the reference receiver) must read it as we mean it
			const full = await F.receive(ctx, toBaileys(stanza));
			if (full.message?.conversation !== text) throw new Error(`Baileys reads stanza ${n} as ${JSON.stringify(full.message)}`);
			out.push(stanza);
		}
		process.stdout.write(out.map((s) => JSON.stringify(s)).join('\n') + '\n');
		if (opt.expect) writeFileSync(opt.expect, expect.map((e) => JSON.stringify(e)).join('\n') + '\n');
	} finally {
		rmSync(copy, { recursive: true, force: true });
	}
}

function encNode({ type, ciphertext }) {
	return { tag: 'enc', attrs: { v: '2', type }, content: { base64: Buffer.from(ciphertext).toString('base64') } };
}

// Node JSON back to a Baileys node (binary content as a Buffer)
function toBaileys(s) {
	return {
		tag: s.tag, attrs: { ...s.attrs },
		content: s.content.map((e) => ({ tag: e.tag, attrs: { ...e.attrs }, content: Buffer.from(e.content.base64, 'base64') }))
	};
}

async function readPreKeys(dir) {
	const { readdirSync } = await import('node:fs');
	const out = {};
	for (const f of readdirSync(dir)) {
		const m = /^pre-key-(\d+)\.json$/.exec(f);
		if (m) out[m[1]] = true;
	}
	return out;
}

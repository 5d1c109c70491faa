#!/usr/bin/env node
// sigcases.mjs - Signal cases for wa's C key store, written by Baileys.
//
// usage: node tests/fakewa/sigcases.mjs AUTH OUT
//
// AUTH is a paired folder made by mkauth.mjs (--contacts 0 --groups 0 is
// enough; it needs pre-key files).  A simulated peer ("alice", a libsignal
// store in memory, device 15550009999:1@s.whatsapp.net) talks to the
// folder's account, and Baileys' own repository (makeLibSignalRepository
// on useMultiFileAuthState, as a bot wraps it) decrypts on the folder.
// Before each step we decrypt, the folder is copied to OUT/NN/before, and
// after it to OUT/NN/after; OUT/cases.json lists the steps:
//
//   [{"dir":"01","name":…,"op":"decrypt"|"group_decrypt"|"process_skdm",
//     "jid":…,"group":…,"type":…,"ct":b64,"pt":b64}, …]
//
// so that the C side can replay step NN on a copy of NN/before and compare
// its files with NN/after.  The steps cover a pkmsg that skips keys in
// the first chain, a pkmsg on an existing session, a DH ratchet step that
// closes the previous chain after filling it up to the message's previous
// counter, skips inside a chain, a message on a closed chain, and a
// sender key with skipped iterations (Baileys' own encryptor skips one
// per message), an identity change, and a contact with a LID mapping.

import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as F from './fixtures.mjs';

const [auth, out] = process.argv.slice(2);
if (!auth || !out) {
	process.stderr.write('usage: node tests/fakewa/sigcases.mjs AUTH OUT\n');
	process.exit(2);
}

const ALICE = '15550009999:1@s.whatsapp.net';
const GROUP = '120363000000000777@g.us';
const b64 = (b) => Buffer.from(b).toString('base64');
const txt = (s) => Buffer.from(s, 'utf-8');

const bob = await F.openBaileysAuth(auth);
const alice = new F.SimPeer();
const bobAddr = F.signalAddr(bob.creds.me.id);
const cases = [];
let n = 0;

async function step(name, op, args, fn) {
	const dir = String(++n).padStart(2, '0');
	mkdirSync(join(out, dir), { recursive: true });
	cpSync(auth, join(out, dir, 'before'), { recursive: true });
	const pt = await fn();
	cpSync(auth, join(out, dir, 'after'), { recursive: true });
	cases.push({ dir, name, op, ...args, pt: pt ? b64(pt) : undefined });
}

const decrypt = (name, m, pt) => step(name, 'decrypt',
	{ jid: ALICE, type: m.type, ct: b64(m.ciphertext) },
	async () => {
		const got = await bob.repo.decryptMessage({ jid: ALICE, type: m.type, ciphertext: m.ciphertext });
		if (Buffer.compare(Buffer.from(got), pt) !== 0) throw new Error(`${name}: wrong plaintext`);
		return got;
	});

// alice starts a session on one of our pre-keys
const preKeyId = readdirSync(auth).map((f) => /^pre-key-(\d+)\.json$/.exec(f)).filter(Boolean)
	.map((m) => +m[1]).sort((a, b) => a - b)[0];
await alice.initOutgoing(bobAddr, await F.ourBundle(bob.creds, bob.keys, preKeyId));
const p = [];
for (let i = 0; i < 3; i++) p.push(await alice.encrypt(bobAddr, txt(`p${i}`)));
await decrypt('pkmsg skipping two keys of the first chain', p[2], txt('p2'));
await decrypt('pkmsg on the session it made (stored key)', p[0], txt('p0'));

// we answer; alice turns her ratchet
const r0 = await bob.repo.encryptMessage({ jid: ALICE, data: txt('r0') });
await alice.decrypt(bobAddr, r0.type, r0.ciphertext);
const m = [];
for (let i = 0; i < 5; i++) m.push(await alice.encrypt(bobAddr, txt(`m${i}`)));
await decrypt('ratchet step, previous chain closed', m[0], txt('m0'));
await decrypt('skip inside a chain', m[3], txt('m3'));

// alice's ratchet turns again while m4 is still on its way
const r1 = await bob.repo.encryptMessage({ jid: ALICE, data: txt('r1') });
await alice.decrypt(bobAddr, r1.type, r1.ciphertext);
const q = [];
for (let i = 0; i < 3; i++) q.push(await alice.encrypt(bobAddr, txt(`n${i}`)));
await decrypt('ratchet step filling the previous chain up to its previous counter', q[2], txt('n2'));
await decrypt('message on a closed chain', m[4], txt('m4'));
await decrypt('stored key of the new chain', q[0], txt('n0'));

// group: alice's sender key, Baileys' encryptor skips iterations
const aliceAddr = F.signalAddr(ALICE);
const skdm = await alice.createSenderKey(GROUP, aliceAddr);
await step('sender key distribution', 'process_skdm', { group: GROUP, jid: ALICE, skdm: b64(skdm) },
	async () => {
		await bob.repo.processSenderKeyDistributionMessage({
			item: { groupId: GROUP, axolotlSenderKeyDistributionMessage: skdm }, authorJid: ALICE
		});
	});
const g = [];
for (let i = 0; i < 3; i++) g.push(await alice.groupEncrypt(GROUP, aliceAddr, txt(`g${i}`)));
// (not g0 after g2: Baileys cannot use a skipped sender message key it
// read back from disk, its seed stays a {type, data} object)
for (const i of [2]) {
	await step(`group message g${i}`, 'group_decrypt', { group: GROUP, jid: ALICE, ct: b64(g[i]) },
		async () => {
			const got = await bob.repo.decryptGroupMessage({ group: GROUP, authorJid: ALICE, msg: g[i] });
			if (Buffer.compare(Buffer.from(got), txt(`g${i}`)) !== 0) throw new Error('wrong group plaintext');
			return got;
		});
}

// the peer reinstalls: same JID, new identity; Baileys replaces the
// session and the stored identity before decrypting
const alice2 = new F.SimPeer();
const preKeyId2 = readdirSync(auth).map((f) => /^pre-key-(\d+)\.json$/.exec(f)).filter(Boolean)
	.map((m) => +m[1]).sort((a, b) => a - b)[0];
await alice2.initOutgoing(bobAddr, await F.ourBundle(bob.creds, bob.keys, preKeyId2));
await decrypt('identity change: new session, new identity key', await alice2.encrypt(bobAddr, txt('again')), txt('again'));

// a contact whose LID we know: Baileys keeps the session under the LID
const CAROL = '15550002222:3@s.whatsapp.net';
await bob.repo.lidMapping.storeLIDPNMappings([{ lid: '88880002222@lid', pn: '15550002222@s.whatsapp.net' }]);
const carol = new F.SimPeer();
const preKeyId3 = readdirSync(auth).map((f) => /^pre-key-(\d+)\.json$/.exec(f)).filter(Boolean)
	.map((m) => +m[1]).sort((a, b) => a - b)[0];
await carol.initOutgoing(bobAddr, await F.ourBundle(bob.creds, bob.keys, preKeyId3));
const c0 = await carol.encrypt(bobAddr, txt('lid'));
await step('a phone-number JID with a LID mapping: the session is stored under the LID', 'decrypt',
	{ jid: CAROL, type: c0.type, ct: b64(c0.ciphertext) },
	async () => bob.repo.decryptMessage({ jid: CAROL, type: c0.type, ciphertext: c0.ciphertext }));

writeFileSync(join(out, 'cases.json'), JSON.stringify(cases, null, 1) + '\n');
process.exit(0);

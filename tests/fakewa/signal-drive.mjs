#!/usr/bin/env node
// signal-drive.mjs - the scenarios of the tests/40xx-signal-*.t tests: wa's
// auth folder (A) against peers whose folders are served by libsignal-node
// through Baileys' repository (tests/fakewa/signal-node.mjs).
//
//	node tests/fakewa/signal-drive.mjs SCENARIO --a DIR --p DIR [--d DIR] [--work DIR]
//
// A is wa's account, P a peer, D a second peer (another device / the
// peer reinstalled).  Which program serves each folder:
//	WA_SIGNAL_IMPL_A  node | c  for A [c: wa-signal, $WA_SIGNAL_C or PATH]
//	WA_SIGNAL_IMPL_P  node | c  for P and D [node]
//	WA_SIGNAL_SEED    seed of the random choices (delivery order, ...)
//	WA_SIGNAL_ALTERNATIONS  handover scenarios: process switches of A [100]
// Output: TAP lines without numbers ("ok - ...", "not ok - ...", "# ...")
// that tests/signal.sh turns into tests/lib.sh results.
//
// Scenarios: 1to1, sessions, group, handover, handover-group, files, corrupt.

import { cpSync, existsSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Endpoint, Tap, b64, diffStates, folderState, rng, text } from './signal-lib.mjs';
import { SenderKeyMessage } from 'baileys/lib/Signal/Group/index.js';
import { BufferJSON, SenderKeyDistributionMessage, SenderKeyRecord, libsignal } from './fixtures.mjs';
import { compareStep, loadFolder } from './signal-check.mjs';

const t = new Tap();
const argv = process.argv.slice(2);
const scenario = argv.shift();
const opt = {};
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, '')] = argv[i + 1];
const IMPL_A = process.env.WA_SIGNAL_IMPL_A || 'c';
const IMPL_P = process.env.WA_SIGNAL_IMPL_P || 'node';
const SEED = process.env.WA_SIGNAL_SEED || String(Date.now());
const R = rng(SEED);

const A = new Endpoint('wa', opt.a);
const P = new Endpoint('peer', opt.p);
const D = opt.d ? new Endpoint('peer2', opt.d) : null;
const all = [A, P, D].filter(Boolean);

// How each side names the other: A knows P by its LID device JID (as a
// modern contact), everyone knows A and D by their phone-number JIDs.
const names = new Map();
const jidOf = (e) => names.get(e) ?? (e === P ? P.lidJid : e.jid);
// Fresh addresses for one case: the same accounts under other device
// numbers, so a case starts without sessions between them.
function alias(k) {
	const [aUser] = A.jid.split(/[:@]/);
	const [pUser] = P.lidJid.split(/[:@]/);
	names.set(A, `${aUser}:${k}@s.whatsapp.net`);
	names.set(P, `${pUser}:${k}@lid`);
}
// libsignal-node tries a msg on each session of the record in turn, and a
// failed try leaves its changes in that session (maybeStepRatchet closes
// a chain, steps the ratchet), which is stored with the record when a
// later session succeeds: a late message of an old session breaks the
// new one.  Where a check needs the receiver to get this right and the
// receiver is Baileys, the failure is expected: TODO, not a failure.
const LIBSIGNAL_NODE_BUG = 'libsignal-node: a failed trial decryption changes the session it was tried on (Baileys bug)';

let seq = 0;
const msgText = (from, to) => `${from.label}->${to.label} #${++seq} ${'x'.repeat(R.int(40))}`;

async function send(from, to, body = msgText(from, to)) {
	const r = await from.call({ op: 'encrypt', jid: jidOf(to), pt: b64(body) });
	return { from, to, type: r.type, ct: r.ct, body };
}
async function deliver(m, to = m.to, asJid = jidOf(m.from)) {
	return to.req({ op: 'decrypt', jid: asJid, type: m.type, ct: m.ct });
}
async function deliverOk(m, desc, asJid) {
	const r = await deliver(m, m.to, asJid);
	return t.ok(r.ok && text(r.pt) === m.body, desc, JSON.stringify(r).slice(0, 400));
}
async function deliverAll(msgs, to, asJid) {
	// one batch per 250: the decrypts are the test, not the commits
	const out = [];
	for (let i = 0; i < msgs.length; i += 250) {
		const part = msgs.slice(i, i + 250);
		const r = await (to ?? part[0].to).call({ op: 'batch', requests: part.map((m) => ({ op: 'decrypt', jid: asJid ?? jidOf(m.from), type: m.type, ct: m.ct })) });
		out.push(...r.responses);
	}
	return out.map((r, i) => ({ r, m: msgs[i], good: r.ok && text(r.pt) === msgs[i].body }));
}
async function sendMany(from, to, n) {
	const bodies = Array.from({ length: n }, () => msgText(from, to));
	const msgs = [];
	for (let i = 0; i < n; i += 500) {
		const part = bodies.slice(i, i + 500);
		const r = await from.call({ op: 'batch', requests: part.map((body) => ({ op: 'encrypt', jid: jidOf(to), pt: b64(body) })) });
		r.responses.forEach((x, k) => {
			if (!x.ok) throw new Error(`${from.label} encrypt: ${x.error}: ${x.detail}`);
			msgs.push({ from, to, type: x.type, ct: x.ct, body: part[k] });
		});
	}
	return msgs;
}
const preKeyFile = (e, id) => join(e.dir, `pre-key-${id}.json`);
const badResults = (res) => res.filter((x) => !x.good).slice(0, 3).map((x) => JSON.stringify(x.r)).join('\n');

// establish: `init` fetches `resp`'s bundle and sends it two pkmsgs
async function establish(init, resp, tag) {
	const { ok, ...bundle } = await resp.call({ op: 'bundle' });
	void ok;
	t.ok(bundle.preKey && Number.isInteger(bundle.preKey.keyId), `${tag}: ${resp.label}'s bundle carries a one-time pre-key`, JSON.stringify(bundle));
	await init.call({ op: 'process_bundle', jid: jidOf(resp), bundle });
	const m1 = await send(init, resp);
	const m2 = await send(init, resp);
	t.ok(m1.type === 'pkmsg' && m2.type === 'pkmsg', `${tag}: ${init.label}'s first messages are pkmsg until a reply`, `${m1.type} ${m2.type}`);
	await deliverOk(m1, `${tag}: ${resp.label} decrypts the first pkmsg`);
	t.ok(!existsSync(preKeyFile(resp, bundle.preKey.keyId)), `${tag}: the pkmsg consumed ${resp.label}'s pre-key ${bundle.preKey.keyId}`);
	await deliverOk(m2, `${tag}: ${resp.label} decrypts the second pkmsg (same session)`);
	const id = await resp.call({ op: 'identity', jid: jidOf(init) });
	t.is(id.identityKey, init.identityKey, `${tag}: ${resp.label} stored ${init.label}'s identity key`);
	const r1 = await send(resp, init);
	t.is(r1.type, 'msg', `${tag}: ${resp.label}'s reply is a msg`);
	await deliverOk(r1, `${tag}: ${init.label} decrypts the reply`);
	const m3 = await send(init, resp);
	t.is(m3.type, 'msg', `${tag}: after the reply ${init.label} sends msg`);
	await deliverOk(m3, `${tag}: ${resp.label} decrypts it`);
	const before = folderState(resp.dir);
	const again = await deliver(m1);
	t.is(again.ok ? 'ok' : again.error, 'duplicate', `${tag}: the first pkmsg delivered again is a duplicate`);
	t.is(diffStates(before, folderState(resp.dir)), [], `${tag}: and changes no file`);
	return bundle;
}

async function outOfOrder(from, to, tag, n = 12) {
	const msgs = [];
	for (let i = 0; i < n; i++) msgs.push(await send(from, to));
	const order = R.shuffle([...msgs]);
	let good = 0;
	for (const m of order) {
		const r = await deliver(m);
		if (r.ok && text(r.pt) === m.body) good++;
		else t.diag(`${tag}: ${JSON.stringify(r)}`);
	}
	t.is(good, n, `${tag}: ${to.label} decrypts ${n} messages from ${from.label} delivered out of order`);
	const before = folderState(to.dir);
	const r = await deliver(order[3]);
	t.is(r.ok ? 'ok' : r.error, 'duplicate', `${tag}: a redelivered msg is a duplicate`);
	t.is(diffStates(before, folderState(to.dir)), [], `${tag}: the duplicate changed no file`);
}

// skipped keys up to the limit both libraries have: 2000 message keys ahead
async function limit(from, to, tag) {
	// a reply first, so `from` starts a new sending chain (receiver counter -1)
	await deliverOk(await send(to, from), `${tag}: ${from.label} takes a reply (new chain next)`);
	const msgs = await sendMany(from, to, 2002);
	const before = folderState(to.dir);
	const far = await deliver(msgs[2000]);
	t.is(far.ok ? 'ok' : far.error, 'invalid_message', `${tag}: a msg 2001 keys ahead is refused (invalid_message)`);
	t.is(diffStates(before, folderState(to.dir)), [], `${tag}: the refused msg changed no file`);
	await deliverOk(msgs[1999], `${tag}: a msg exactly 2000 keys ahead decrypts`);
	const sample = R.shuffle([msgs[0], msgs[1998], ...R.shuffle(msgs.slice(1, 1998)).slice(0, 60)]);
	const res = await deliverAll(sample);
	t.is(res.filter((x) => x.good).length, sample.length, `${tag}: ${sample.length} of the 1999 skipped messages (first, last, random) decrypt out of order`, badResults(res));
	await deliverOk(msgs[2000], `${tag}: the once-refused msg decrypts now`);
	await deliverOk(msgs[2001], `${tag}: and the next`);
	const dup = await deliver(msgs[1998]);
	t.is(dup.ok ? 'ok' : dup.error, 'duplicate', `${tag}: a skipped key is used once`);
}

// ---- scenarios -----------------------------------------------------------------------

const scenarios = {};

scenarios['1to1'] = async () => {
	A.start(IMPL_A); P.start(IMPL_P); D.start(IMPL_P);
	// libsignal-node encrypts, wa decrypts: P starts the session with A's bundle
	await establish(P, A, 'peer to wa');
	await outOfOrder(P, A, 'peer to wa');
	await outOfOrder(A, P, 'wa to peer');
	await limit(P, A, 'peer to wa');
	// wa encrypts, libsignal-node decrypts: A starts the session with D's bundle
	await establish(A, D, 'wa to peer2');
	await outOfOrder(A, D, 'wa to peer2');
	await outOfOrder(D, A, 'peer2 to wa');
	await limit(A, D, 'wa to peer2');
	// errors, and the process answers the next line after each
	const stranger = '15550009999:4@s.whatsapp.net';
	const before = folderState(A.dir);
	const m = await send(P, A);
	const bytes = Buffer.from(m.ct, 'base64');
	const flipped = Buffer.from(bytes); flipped[flipped.length - 1] ^= 1;
	const cases = [
		['a msg from a JID without a session', { op: 'decrypt', jid: stranger, type: 'msg', ct: m.ct }, 'no_session'],
		['encrypt to a JID without a session', { op: 'encrypt', jid: stranger, pt: b64('hi') }, 'no_session'],
		['a msg with a flipped MAC bit', { op: 'decrypt', jid: jidOf(P), type: 'msg', ct: flipped.toString('base64') }, 'bad_mac'],
		['a msg that is not a Signal message', { op: 'decrypt', jid: jidOf(P), type: 'msg', ct: b64('\x33garbage that is no protobuf at all') }, 'invalid_message'],
		['a line that is not JSON', '{"op":', 'bad_request'],
		['an unknown op', { op: 'frobnicate' }, 'bad_request'],
		['a group as a user JID', { op: 'encrypt', jid: '120363000000000001@g.us', pt: b64('x') }, 'bad_request']
	];
	for (const [desc, reqst, want] of cases) {
		const r = await A.req(reqst);
		t.is(r.ok ? 'ok' : r.error, want, `errors: ${desc} is ${want}`);
	}
	t.is(diffStates(before, folderState(A.dir)), [], 'errors: none of them changed a file in wa\'s folder');
	await deliverOk(m, 'errors: the process still decrypts the untouched msg afterwards');
};

scenarios.sessions = async () => {
	A.start(IMPL_A); P.start(IMPL_P); D.start(IMPL_P);
	const waTodo = IMPL_A === 'node' ? LIBSIGNAL_NODE_BUG : null;
	const sessionsOf = async (e, jid) => (await loadFolder(e.dir)).sessionFor(jid);
	const bundleOf = async (e) => { const { ok, ...b } = await e.call({ op: 'bundle' }); void ok; return b; };
	const roundTrip = async (s, r, n, tag, todo) => {
		let good = 0;
		let detail = '';
		for (let i = 0; i < n; i++) {
			const m = await send(s, r);
			const res = await deliver(m);
			if (res.ok && text(res.pt) === m.body) good++;
			else detail = `${s.label}->${r.label}: ${JSON.stringify(res)}`;
		}
		t.ok(good === n, `${tag}: ${n} messages ${s.label} to ${r.label} decrypt`, detail, todo);
	};

	// a) both start a session at once; each keeps both; the peer's messages
	// on its open session are the ones wa's closed session decrypts
	{
		const tag = 'simultaneous';
		alias(11);
		const bA = await bundleOf(A);
		const bP = await bundleOf(P);
		await P.call({ op: 'process_bundle', jid: jidOf(A), bundle: bA });
		await A.call({ op: 'process_bundle', jid: jidOf(P), bundle: bP });
		const x = await send(P, A); const y = await send(A, P);
		t.ok(x.type === 'pkmsg' && y.type === 'pkmsg', `${tag}: both send pkmsg`);
		await deliverOk(x, `${tag}: wa decrypts the peer's pkmsg while its own session is open`);
		await deliverOk(y, `${tag}: the peer decrypts wa's pkmsg while its own session is open`);
		const s = await sessionsOf(A, jidOf(P));
		t.ok(s && s.sessions === 2 && s.open === 1, `${tag}: wa's record keeps both sessions, one open`, JSON.stringify(s));
		await roundTrip(P, A, 3, `${tag}: on the peer's open session, wa picks its closed one`);
		await roundTrip(A, P, 3, `${tag}: and wa's open session is intact`, waTodo);
	}
	// b) the peer starts a second session while a message of the first is
	// in flight; it arrives after the new pkmsg
	{
		const tag = 'late message';
		alias(12);
		await establish(P, A, `${tag}: first session`);
		const late = await send(P, A);
		await P.call({ op: 'process_bundle', jid: jidOf(A), bundle: await bundleOf(A) });
		const n = await send(P, A);
		t.is(n.type, 'pkmsg', `${tag}: the peer's second session starts with a pkmsg`);
		await deliverOk(n, `${tag}: wa decrypts it (second session)`);
		await deliverOk(late, `${tag}: wa decrypts the late msg of the first session`);
		const s = await sessionsOf(A, jidOf(P));
		t.ok(s && s.sessions === 2 && s.open === 1, `${tag}: wa keeps the first session closed beside the second`, JSON.stringify(s));
		await roundTrip(P, A, 2, `${tag}: the second session is intact after the late message`, waTodo);
		await roundTrip(A, P, 2, `${tag}: wa replies on the second session`, waTodo);
	}
	// c) wa starts a second session while its last message of the first is
	// in flight (the peer gets that one first, then the new pkmsg)
	{
		const tag = 'wa second session';
		alias(13);
		await establish(A, P, `${tag}: first session`);
		const last = await send(A, P);
		await A.call({ op: 'process_bundle', jid: jidOf(P), bundle: await bundleOf(P) });
		const n = await send(A, P);
		t.is(n.type, 'pkmsg', `${tag}: wa's second session starts with a pkmsg`);
		await deliverOk(last, `${tag}: the peer decrypts wa's last msg of the first session`);
		await deliverOk(n, `${tag}: the peer decrypts the new pkmsg`);
		await roundTrip(P, A, 2, `${tag}: wa decrypts the replies on its second session`);
		await roundTrip(A, P, 2, `${tag}: and sends msg on it`);
		const s = await sessionsOf(A, jidOf(P));
		t.ok(s && s.sessions === 2 && s.open === 1, `${tag}: wa's record holds both, the second open`, JSON.stringify(s));
	}
	// d) reset: the peer lost its session and starts over with a new bundle
	{
		const tag = 'reset';
		alias(14);
		await establish(P, A, `${tag}: first session`);
		await P.stop();
		const f = (await loadFolder(P.dir)).sessionFile(jidOf(A));
		t.ok(f && existsSync(f), `${tag}: the peer has a session file for wa`, f);
		unlinkSync(f);
		P.start(IMPL_P);
		const e = await P.req({ op: 'encrypt', jid: jidOf(A), pt: b64('x') });
		t.is(e.ok ? 'ok' : e.error, 'no_session', `${tag}: the peer has no session now`);
		await P.call({ op: 'process_bundle', jid: jidOf(A), bundle: await bundleOf(A) });
		await deliverOk(await send(P, A), `${tag}: wa decrypts the peer's new pkmsg`);
		await roundTrip(A, P, 2, `${tag}: wa answers on the new session`);
		await roundTrip(P, A, 2, `${tag}: the peer goes on`);
	}
	// e) reset by wa (its session for the peer gone)
	{
		const tag = 'wa reset';
		alias(15);
		await establish(A, P, `${tag}: first session`);
		await A.stop();
		const f = (await loadFolder(A.dir)).sessionFile(jidOf(P));
		t.ok(f && existsSync(f), `${tag}: wa has a session file for the peer`, f);
		unlinkSync(f);
		A.start(IMPL_A);
		await A.call({ op: 'process_bundle', jid: jidOf(P), bundle: await bundleOf(P) });
		await deliverOk(await send(A, P), `${tag}: the peer decrypts wa's new pkmsg`);
		await roundTrip(P, A, 2, `${tag}: the peer answers on the new session`);
		await roundTrip(A, P, 2, `${tag}: wa goes on`);
	}
	// f) the peer reinstalled: a new identity under the same JID
	{
		const tag = 'new identity';
		alias(16);
		await establish(P, A, `${tag}: first session`);
		await D.call({ op: 'process_bundle', jid: jidOf(A), bundle: await bundleOf(A) });
		const n = await send(D, A);
		const r = await deliver(n, A, jidOf(P));
		t.ok(r.ok && text(r.pt) === n.body, `${tag}: wa decrypts a pkmsg from the reinstalled peer (same JID)`, JSON.stringify(r));
		const id = await A.call({ op: 'identity', jid: jidOf(P) });
		t.is(id.identityKey, D.identityKey, `${tag}: wa stored the new identity key`);
		const m2 = await A.call({ op: 'encrypt', jid: jidOf(P), pt: b64('after reinstall') });
		const r2 = await D.req({ op: 'decrypt', jid: jidOf(A), type: m2.type, ct: m2.ct });
		t.ok(r2.ok && text(r2.pt) === 'after reinstall', `${tag}: the reinstalled peer decrypts wa's reply`, JSON.stringify(r2));
	}
	// g) a pre-key already consumed by another session
	{
		const tag = 'used pre-key';
		alias(17);
		const b = await bundleOf(A);
		await P.call({ op: 'process_bundle', jid: jidOf(A), bundle: b });
		await deliverOk(await send(P, A), `${tag}: the peer's pkmsg consumes pre-key ${b.preKey.keyId}`);
		await D.call({ op: 'process_bundle', jid: jidOf(A), bundle: b });
		const n = await send(D, A);
		const other = '15550007777:9@s.whatsapp.net';
		const r = await deliver(n, A, other);
		t.is(r.ok ? 'ok' : r.error, 'invalid_prekey', `${tag}: a second pkmsg naming it is invalid_prekey`);
		t.ok(!(await loadFolder(A.dir)).sessionFile(other), `${tag}: no session was stored for the sender`);
	}
};

// iteration of a SenderKeyMessage: 0x33 || {id = 1, iteration = 2, ciphertext = 3} || signature(64)
function skIteration(ctB64) {
	const b = Buffer.from(ctB64, 'base64').subarray(1, -64);
	let i = 0;
	const varint = () => { let v = 0, m = 1, x; do { x = b[i++]; v += (x & 0x7f) * m; m *= 128; } while (x & 0x80); return v; };
	while (i < b.length) {
		const tag = varint();
		if ((tag & 7) === 0) { const v = varint(); if (tag >> 3 === 2) return v; } else if ((tag & 7) === 2) { i += varint(); } else return -1;
	}
	return 0;
}

const GROUP = '120363001234567890@g.us';
const skdmKeyId = (b) => new SenderKeyDistributionMessage(null, null, null, null, Buffer.from(b, 'base64')).getId();

async function groupSend(from, body = `${from.label} in the group #${++seq}`, group = GROUP) {
	const r = await from.call({ op: 'group_encrypt', group, pt: b64(body) });
	return { from, skdm: r.skdm, ct: r.ct, body, iteration: skIteration(r.ct) };
}
async function groupSendMany(from, n) {
	const bodies = Array.from({ length: n }, () => `${from.label} in the group #${++seq}`);
	const out = [];
	for (let i = 0; i < n; i += 500) {
		const part = bodies.slice(i, i + 500);
		const r = await from.call({ op: 'batch', requests: part.map((body) => ({ op: 'group_encrypt', group: GROUP, pt: b64(body) })) });
		r.responses.forEach((x, k) => {
			if (!x.ok) throw new Error(`${from.label} group_encrypt: ${x.error}: ${x.detail}`);
			out.push({ from, skdm: x.skdm, ct: x.ct, body: part[k], iteration: skIteration(x.ct) });
		});
	}
	return out;
}
const groupDeliver = (m, to, group = GROUP) => to.req({ op: 'group_decrypt', group, jid: m.from.jid, ct: m.ct });
async function groupDeliverOk(m, to, desc, group = GROUP) {
	const r = await groupDeliver(m, to, group);
	return t.ok(r.ok && text(r.pt) === m.body, desc, JSON.stringify(r).slice(0, 300));
}
async function groupDeliverAll(msgs, to) {
	const out = [];
	for (let i = 0; i < msgs.length; i += 250) {
		const part = msgs.slice(i, i + 250);
		const r = await to.call({ op: 'batch', requests: part.map((m) => ({ op: 'group_decrypt', group: GROUP, jid: m.from.jid, ct: m.ct })) });
		out.push(...r.responses);
	}
	return out.map((r, i) => ({ r, m: msgs[i], good: r.ok && text(r.pt) === msgs[i].body }));
}

// A sender that lost the messages before `iteration`: the skmsg its
// sender key makes at that iteration, made with Baileys' own group classes
// from the sender's sender-key file (read as Baileys reads it) without
// changing the file.  Sending 2000 real messages first would cost 2000
// XEdDSA signatures in libsignal-node's pure-JS curve (about 50 ms each).
async function craftSkmsg(from, iteration, body) {
	const addr = from.jid.split(/[:@]/);
	const f = join(from.dir, `sender-key-${GROUP}--${addr[0]}--${addr[1]}.json`);
	const rec = SenderKeyRecord.deserialize(JSON.parse(readFileSync(f, 'utf-8'), BufferJSON.reviver));
	const state = rec.getSenderKeyState();
	let ck = state.getSenderChainKey();
	if (ck.getIteration() > iteration) throw new Error(`craftSkmsg: ${from.label}'s chain is past ${iteration}`);
	while (ck.getIteration() < iteration) ck = ck.getNext();
	const mk = ck.getSenderMessageKey();
	const ct = libsignal.crypto.encrypt(mk.getCipherKey(), Buffer.from(body), mk.getIv());
	const msg = new SenderKeyMessage(state.getKeyId(), iteration, ct, state.getSigningKeyPrivate());
	return { from, ct: Buffer.from(msg.serialize()).toString('base64'), body, iteration };
}

// Baileys rc14 stores a skipped sender message key as {iteration, seed}
// with the seed in Node's {"type":"Buffer","data":[...]} form; its reader
// (BufferJSON.reviver) leaves that form alone and SenderMessageKey's
// deriveSecrets throws "Expected Buffer": no group message that arrives
// out of order (after a later one) decrypts once its key was stored.
const BAILEYS_SKIPPED_SENDER_KEY_BUG = 'Baileys rc14: a stored skipped sender message key does not load (seed left as {type,data}), so an skmsg older than the newest one fails';

// `from` sends to the group, `to` receives: the sender key, out of order,
// duplicates, the 2000 limit
async function groupFlow(from, to, tag) {
	const todo = to.impl === 'node' ? BAILEYS_SKIPPED_SENDER_KEY_BUG : null;
	const first = await groupSend(from);
	const none = await groupDeliver(first, to);
	t.is(none.ok ? 'ok' : none.error, 'no_sender_key', `${tag}: an skmsg before the sender key is no_sender_key`);
	await to.call({ op: 'process_skdm', group: GROUP, jid: from.jid, skdm: first.skdm });
	await groupDeliverOk(first, to, `${tag}: ${to.label} decrypts the first skmsg after the SKDM`);
	const msgs = [];
	for (let i = 0; i < 6; i++) msgs.push(await groupSend(from));
	t.ok(msgs.every((m) => skdmKeyId(m.skdm) === skdmKeyId(first.skdm)), `${tag}: ${from.label}'s SKDMs name the same sender key`);
	await groupDeliverOk(msgs[5], to, `${tag}: ${to.label} decrypts the newest first`);
	const res = await groupDeliverAll(R.shuffle(msgs.slice(0, 5)), to);
	t.is(res.filter((x) => x.good).length, 5, `${tag}: then the 5 older ones, out of order`, badResults(res), todo);
	const before = folderState(to.dir);
	const dup = await groupDeliver(first, to);
	t.is(dup.ok ? 'ok' : dup.error, 'duplicate', `${tag}: a redelivered skmsg is a duplicate`);
	const bad = Buffer.from(msgs[5].ct, 'base64'); bad[bad.length - 1] ^= 1;
	const badr = await to.req({ op: 'group_decrypt', group: GROUP, jid: from.jid, ct: bad.toString('base64') });
	t.is(badr.ok ? 'ok' : badr.error, 'bad_mac', `${tag}: an skmsg with a broken signature is bad_mac`);
	t.is(diffStates(before, folderState(to.dir)), [], `${tag}: neither changed a file`);

	// the limit: 2000 iterations ahead of the receiver's chain
	const at = msgs[5].iteration + 1; // the receiver's next iteration
	const far = await craftSkmsg(from, at + 2001, `${tag} far`);
	const b0 = folderState(to.dir);
	const farr = await groupDeliver(far, to);
	t.is(farr.ok ? 'ok' : farr.error, 'invalid_message', `${tag}: an skmsg 2001 iterations ahead is refused (invalid_message)`);
	t.is(diffStates(b0, folderState(to.dir)), [], `${tag}: the refused skmsg changed no file`);
	await groupDeliverOk(await craftSkmsg(from, at + 2000, `${tag} edge`), to, `${tag}: an skmsg exactly 2000 iterations ahead decrypts`);
	const skipped = [];
	for (const k of [0, 1999, ...R.shuffle(Array.from({ length: 1997 }, (_, i) => i + 1)).slice(0, 6)]) {
		skipped.push(await craftSkmsg(from, at + k, `${tag} skipped ${k}`));
	}
	const sres = await groupDeliverAll(R.shuffle(skipped), to);
	t.is(sres.filter((x) => x.good).length, skipped.length, `${tag}: ${skipped.length} of the skipped ones (first, last, random) decrypt`, badResults(sres), todo);
	await groupDeliverOk(far, to, `${tag}: the once-refused skmsg decrypts now`);
	return { first };
}

scenarios.group = async () => {
	A.start(IMPL_A); P.start(IMPL_P);
	// libsignal-node sends, wa receives; then wa sends, libsignal-node receives
	await groupFlow(P, A, 'peer to wa');
	await groupFlow(A, P, 'wa to peer');
	// another group: the peer's sender key changes (it lost it) while an
	// skmsg of the old one is in flight
	const tag = 'new sender key';
	const G2 = '120363001234567891@g.us';
	const old = await groupSend(P, undefined, G2);
	await A.call({ op: 'process_skdm', group: G2, jid: P.jid, skdm: old.skdm });
	await groupDeliverOk(old, A, `${tag}: wa decrypts the peer's first skmsg`, G2);
	const late = await groupSend(P, undefined, G2);
	await P.stop();
	const addr = P.jid.split(/[:@]/);
	unlinkSync(join(P.dir, `sender-key-${G2}--${addr[0]}--${addr[1]}.json`));
	P.start(IMPL_P);
	const n = await groupSend(P, undefined, G2);
	t.ok(skdmKeyId(n.skdm) !== skdmKeyId(old.skdm), `${tag}: the peer's new SKDM names a new sender key`);
	await A.call({ op: 'process_skdm', group: G2, jid: P.jid, skdm: n.skdm });
	await groupDeliverOk(n, A, `${tag}: wa decrypts on the new sender key`, G2);
	await groupDeliverOk(late, A, `${tag}: and the late skmsg on the old one (both kept)`, G2);
	await groupDeliverOk(await groupSend(P, undefined, G2), A, `${tag}: and the next on the new one`, G2);
	const stranger = await A.req({ op: 'group_decrypt', group: '120363009999999999@g.us', jid: P.jid, ct: n.ct });
	t.is(stranger.ok ? 'ok' : stranger.error, 'no_sender_key', `${tag}: an skmsg of a group without the sender's key is no_sender_key`);
};

// ---- handover: wa's folder served alternately by the two implementations ----

const ALTERNATIONS = Number(process.env.WA_SIGNAL_ALTERNATIONS || 100);
// Node turns reopen a parked signal-node.mjs process (Endpoint.handover)
// and every 25th turn restarts it; WA_SIGNAL_RESTART=1: every turn.
const RESTART = process.env.WA_SIGNAL_RESTART === '1';
// the program serving A in turn i: node and c alternating (node and node
// again when IMPL_A is node: then every turn is a fresh process)
const implForTurn = (i) => (i % 2 === 0 ? 'node' : IMPL_A);

function summary(counts) {
	return Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ');
}

scenarios.handover = async () => {
	P.start(IMPL_P); D.start(IMPL_P);
	A.start(implForTurn(0));
	// P starts its session with A's bundle; A starts one with D's bundle
	const bundleOf = async (e) => { const { ok, ...b } = await e.call({ op: 'bundle' }); void ok; return b; };
	await P.call({ op: 'process_bundle', jid: jidOf(A), bundle: await bundleOf(A) });
	await A.call({ op: 'process_bundle', jid: jidOf(D), bundle: await bundleOf(D) });
	const toA = []; const toPeers = [];
	const failures = [];
	const counts = { sent: 0, decrypted: 0, late: 0, pkmsg: 0 };
	const deliverSome = async (queue, turn, receiverFilter, force) => {
		// each waiting message: delivered now (p 0.7) or held for a later
		// turn; held ones come after newer ones (out of order)
		const now = queue.filter((m) => receiverFilter(m) && (force || turn - m.turn > 4 || R.next() < 0.7));
		for (const m of R.shuffle(now)) {
			queue.splice(queue.indexOf(m), 1);
			const r = await deliver(m);
			if (r.ok && text(r.pt) === m.body) { counts.decrypted++; if (m.turn < turn) counts.late++; knows.add(`${m.to.label}<${m.from.label}`); }
			else failures.push(`turn ${turn} (${A.impl}): ${m.from.label}->${m.to.label} ${m.type} sent in turn ${m.turn} (${m.impl}): ${JSON.stringify(r).slice(0, 200)}`);
		}
	};
	// a responder can send once the initiator's first message arrived
	const knows = new Set();
	const canSend = (from, to) => (from === P && to === A) || (from === A && to === D) || knows.has(`${from.label}<${to.label}`);
	const sendSome = async (from, to, turn, n) => {
		if (!canSend(from, to)) return;
		for (let i = 0; i < n; i++) {
			const m = await send(from, to);
			m.turn = turn; m.impl = from === A ? A.impl : from.impl;
			counts.sent++;
			if (m.type === 'pkmsg') counts.pkmsg++;
			(to === A ? toA : toPeers).push(m);
		}
	};
	for (let turn = 0; turn < ALTERNATIONS; turn++) {
		if (turn > 0) await A.handover(implForTurn(turn), { restart: RESTART || turn % 25 === 0 });
		// a few messages each way, in a random interleaving
		const steps = R.shuffle(['P', 'D', 'A>P', 'A>D', 'rxA', 'rxPeers', 'rxA']);
		for (const st of steps) {
			if (st === 'P') await sendSome(P, A, turn, R.int(3));
			else if (st === 'D') await sendSome(D, A, turn, R.int(2));
			else if (st === 'A>P') await sendSome(A, P, turn, R.int(3));
			else if (st === 'A>D') await sendSome(A, D, turn, R.int(2));
			else if (st === 'rxA') await deliverSome(toA, turn, () => true, false);
			else await deliverSome(toPeers, turn, () => true, false);
		}
	}
	await deliverSome(toA, ALTERNATIONS, () => true, true);
	await deliverSome(toPeers, ALTERNATIONS, () => true, true);
	await A.stop();
	const check = await loadFolder(A.dir);
	t.diag(`${ALTERNATIONS} turns, wa's folder served by ${[...new Set(Array.from({ length: ALTERNATIONS }, (_, i) => implForTurn(i)))].join(' and ')} in turn (${A.starts} process starts, ${A.reopens} reopens); ${summary(counts)}`);
	t.ok(counts.sent > ALTERNATIONS && counts.late > 0 && counts.pkmsg > 0, `handover: ${counts.sent} messages both ways, ${counts.late} of them delivered in a later turn than sent`, summary(counts));
	t.is(failures.length, 0, `handover: no decryption failure in ${ALTERNATIONS} alternations of the program serving wa's folder`, failures.slice(0, 5).join('\n'));
	t.is(counts.decrypted, counts.sent, 'handover: every message decrypted exactly once');
	t.is(check.problems, [], 'handover: every file of wa\'s folder loads in Baileys');
};

scenarios['handover-group'] = async () => {
	P.start(IMPL_P);
	A.start(implForTurn(0));
	const failures = [];
	const counts = { sent: 0, decrypted: 0, lost: 0, late: 0 };
	const toA = []; const toP = [];
	let pKey = null; let aKey = null;
	const sendSome = async (from, n, turn) => {
		for (let i = 0; i < n; i++) {
			const m = await groupSend(from);
			m.turn = turn; counts.sent++;
			const to = from === A ? P : A;
			const id = skdmKeyId(m.skdm);
			// the SKDM rides along (in a pkmsg/msg of the same stanza) when
			// the sender key is new to the receiver
			if (from === P && id !== pKey) { await A.call({ op: 'process_skdm', group: GROUP, jid: P.jid, skdm: m.skdm }); pKey = id; }
			if (from === A && id !== aKey) { await P.call({ op: 'process_skdm', group: GROUP, jid: A.jid, skdm: m.skdm }); aKey = id; }
			if (R.next() < 0.1) { counts.lost++; continue; } // never arrives: its key stays behind
			(to === A ? toA : toP).push(m);
		}
	};
	// in order, except that wa's receiver holds some back for a later turn
	// served by wa-signal (Baileys cannot decrypt those: see
	// BAILEYS_SKIPPED_SENDER_KEY_BUG); with IMPL_A=node they come at the end
	const deliverA = async (turn, force) => {
		const held = [];
		for (const m of toA.splice(0)) {
			const late = m.turn < turn && m.held;
			if (!force && A.impl === 'node' && m.held) { held.push(m); continue; }
			if (!force && A.impl !== 'node' && !m.held && R.next() < 0.2) { m.held = true; held.push(m); continue; }
			const r = await groupDeliver(m, A);
			if (r.ok && text(r.pt) === m.body) { counts.decrypted++; if (late) counts.late++; }
			else failures.push(`turn ${turn} (${A.impl}): skmsg ${m.iteration} of ${m.from.label} from turn ${m.turn}: ${JSON.stringify(r).slice(0, 200)}`);
		}
		toA.push(...held);
	};
	const deliverP = async (turn) => {
		for (const m of toP.splice(0)) {
			const r = await groupDeliver(m, P);
			if (r.ok && text(r.pt) === m.body) counts.decrypted++;
			else failures.push(`turn ${turn}: wa's skmsg ${m.iteration} from turn ${m.turn} at the peer: ${JSON.stringify(r).slice(0, 200)}`);
		}
	};
	for (let turn = 0; turn < ALTERNATIONS; turn++) {
		if (turn > 0) await A.handover(implForTurn(turn), { restart: RESTART || turn % 25 === 0 });
		for (const st of R.shuffle(['P', 'A', 'rxA', 'rxP'])) {
			// about one skmsg a turn each way: libsignal-node signs and
			// verifies each in pure JS (tens of ms)
			if (st === 'P') await sendSome(P, R.int(3) ? 1 : R.int(3), turn);
			else if (st === 'A') await sendSome(A, R.int(3) ? 1 : R.int(3), turn);
			else if (st === 'rxA') await deliverA(turn, false);
			else await deliverP(turn);
		}
	}
	if (IMPL_A !== 'node' && toA.length && A.impl === 'node') await A.handover(IMPL_A);
	await deliverA(ALTERNATIONS, true);
	await deliverP(ALTERNATIONS);
	await A.stop();
	const check = await loadFolder(A.dir);
	t.diag(`${ALTERNATIONS} turns, wa's folder served by ${[...new Set(Array.from({ length: ALTERNATIONS }, (_, i) => implForTurn(i)))].join(' and ')} in turn (${A.starts} process starts, ${A.reopens} reopens); ${summary(counts)}`);
	t.ok(counts.sent > ALTERNATIONS && counts.lost > 0, `handover-group: ${counts.sent} skmsgs both ways, ${counts.lost} lost on the way`, summary(counts));
	t.is(failures.length, 0, `handover-group: no decryption failure in ${ALTERNATIONS} alternations of the program serving wa's folder`, failures.slice(0, 5).join('\n'));
	// with IMPL_A=node nothing is held back (Baileys could not decrypt it)
	if (IMPL_A !== 'node') {
		t.ok(counts.late > 0, `handover-group: ${counts.late} skmsgs wa-signal held back decrypt in a later turn (keys stored across handovers)`);
	}
	t.is(check.problems, [], 'handover-group: every file of wa\'s folder loads in Baileys');
};

// ---- files: one step on two copies, compared by signal-check.mjs ---------

// The checker must see what it is meant to see: one field changed in the
// other copy at a time (a session of wa's folder after a step without
// fresh randomness), compared again.
async function checkerSelfTest(before, other) {
	// the peer's session, which the step just changed
	const f = (await loadFolder(other)).sessionFile(jidOf(P)).split('/').pop();
	const cases = [
		['a receiving chain key', (e) => { const c = Object.values(e._chains).find((x) => x.chainType === 2 && x.chainKey.key); c.chainKey.key = Buffer.alloc(32, 7).toString('base64'); }, true],
		['a receiving chain counter', (e) => { Object.values(e._chains).find((x) => x.chainType === 2).chainKey.counter += 1; }, true],
		['the ratchet key pair', (e) => { e.currentRatchet.ephemeralKeyPair.privKey = Buffer.alloc(32, 9).toString('base64'); }, true],
		['the root key', (e) => { e.currentRatchet.rootKey = Buffer.alloc(32, 3).toString('base64'); }, true],
		['the remote identity', (e) => { e.indexInfo.remoteIdentityKey = Buffer.alloc(33, 5).toString('base64'); }, true],
		['a stored message key dropped', (e) => { const c = Object.values(e._chains).find((x) => Object.keys(x.messageKeys).length); if (c) delete c.messageKeys[Object.keys(c.messageKeys)[0]]; else e.registrationId++; }, true],
		['the used timestamp (masked)', (e) => { e.indexInfo.used += 12345; }, false]
	];
	for (const [what, mutate, found] of cases) {
		const tdir = `${other}-tampered`;
		rmSync(tdir, { recursive: true, force: true });
		cpSync(other, tdir, { recursive: true });
		const rec = JSON.parse(readFileSync(join(tdir, f), 'utf-8'));
		mutate(Object.values(rec._sessions).find((e) => e.indexInfo.closed === -1));
		writeFileSync(join(tdir, f), JSON.stringify(rec));
		const d = await compareStep(before, A.dir, tdir);
		t.ok(found ? d.length > 0 : d.length === 0, `files: the checker ${found ? 'reports' : 'ignores'} ${what} changed in ${f}`, d.join('\n'));
		rmSync(tdir, { recursive: true, force: true });
	}
}

scenarios.files = async () => {
	// A is served by Node and is the reference; before each step its folder
	// is copied, the other implementation does the same step on the copy,
	// and signal-check.mjs compares the two (masking only fresh randomness)
	A.start('node'); P.start(IMPL_P); D.start(IMPL_P);
	const work = opt.work || '/tmp';
	let n = 0;
	const step = async (name, request, { sameResponse = false, selfTest = null } = {}) => {
		const before = join(work, `files-before-${++n}`);
		const other = join(work, `files-other-${n}`);
		cpSync(A.dir, before, { recursive: true });
		cpSync(A.dir, other, { recursive: true });
		const O = new Endpoint('wa-copy', other).start(IMPL_A);
		let rn, ro;
		try {
			rn = await A.req(request);
			ro = await O.req(request);
		} finally { await O.stop(); }
		t.ok(rn.ok && ro.ok, `files: ${name}: both succeed`, `node: ${JSON.stringify(rn).slice(0, 300)}\n${IMPL_A}: ${JSON.stringify(ro).slice(0, 300)}`);
		if (rn.pt !== undefined) t.is(ro.pt, rn.pt, `files: ${name}: the same plaintext`);
		if (sameResponse) t.is(ro, rn, `files: ${name}: the same response, byte for byte (nothing random in this step)`);
		const diffs = await compareStep(before, A.dir, other);
		t.is(diffs, [], `files: ${name}: every file loads in Baileys and equals node's (fresh randomness masked)`, '');
		if (selfTest) await selfTest(before, other);
		rmSync(before, { recursive: true, force: true });
		rmSync(other, { recursive: true, force: true });
		return rn;
	};
	const dec = (m) => ({ op: 'decrypt', jid: jidOf(m.from), type: m.type, ct: m.ct });
	const bundleOf = async (e) => { const { ok, ...b } = await e.call({ op: 'bundle' }); void ok; return b; };

	// the peer starts a session with wa
	await P.call({ op: 'process_bundle', jid: jidOf(A), bundle: await bundleOf(A) });
	const m1 = await send(P, A); const m2 = await send(P, A);
	await step('a pkmsg (new session, pre-key consumed, identity stored)', dec(m1));
	await step('a second pkmsg of the same session', dec(m2));
	const reply = await step('encrypt the first reply', { op: 'encrypt', jid: jidOf(P), pt: b64('reply 1') }, { sameResponse: true });
	await P.call({ op: 'decrypt', jid: jidOf(A), type: reply.type, ct: reply.ct });
	const m3 = await send(P, A); const m4 = await send(P, A); const m5 = await send(P, A);
	await step('a msg with a DH ratchet step, one key skipped', dec(m4));
	await step('the skipped msg from its stored key', dec(m3));
	await step('the next msg on the same chain', dec(m5), { selfTest: checkerSelfTest });
	await step('encrypt twice on one chain (second)', { op: 'encrypt', jid: jidOf(P), pt: b64('reply 2') }, { sameResponse: true });
	// wa starts a session with peer2
	const bD = await bundleOf(D);
	await step('process_bundle (fresh base key)', { op: 'process_bundle', jid: jidOf(D), bundle: bD });
	const pk = await step('encrypt a pkmsg', { op: 'encrypt', jid: jidOf(D), pt: b64('hello peer2') }, { sameResponse: true });
	await D.call({ op: 'decrypt', jid: jidOf(A), type: pk.type, ct: pk.ct });
	await step('the answer to wa\'s session (ratchet, pending pre-key dropped)', dec(await send(D, A)));
	// the peer starts a second session: the first is closed, both kept
	await P.call({ op: 'process_bundle', jid: jidOf(A), bundle: await bundleOf(A) });
	await step('a pkmsg of a second session (the first closed)', dec(await send(P, A)));
	// groups
	const g1 = await groupSend(P); const g2 = await groupSend(P); const g3 = await groupSend(P);
	void g2;
	await step('process_skdm', { op: 'process_skdm', group: GROUP, jid: P.jid, skdm: g1.skdm });
	await step('group_decrypt', { op: 'group_decrypt', group: GROUP, jid: P.jid, ct: g1.ct });
	await step('group_decrypt one ahead (a key stored)', { op: 'group_decrypt', group: GROUP, jid: P.jid, ct: g3.ct });
	await step('group_encrypt (a fresh sender key)', { op: 'group_encrypt', group: GROUP, pt: b64('to the group') });
	await step('group_encrypt again', { op: 'group_encrypt', group: GROUP, pt: b64('to the group again') });
};

// ---- corrupt: what a hard power-off leaves in a Baileys folder -------------

scenarios.corrupt = async () => {
	A.start(IMPL_A); P.start(IMPL_P); D.start(IMPL_P);
	const bundleOf = async (e) => { const { ok, ...b } = await e.call({ op: 'bundle' }); void ok; return b; };
	await establish(P, A, 'setup peer');
	await establish(A, D, 'setup peer2');
	const g = await groupSend(P);
	await A.call({ op: 'process_skdm', group: GROUP, jid: P.jid, skdm: g.skdm });
	await groupDeliverOk(g, A, 'setup: wa decrypts the peer\'s skmsg');
	const sessFile = (await loadFolder(A.dir)).sessionFile(jidOf(P));
	const addr = P.jid.split(/[:@]/);
	const skFile = join(A.dir, `sender-key-${GROUP}--${addr[0]}--${addr[1]}.json`);
	t.ok(sessFile && existsSync(skFile), 'setup: wa has a session file for the peer and its sender key', sessFile);
	const name = (f) => f.split('/').pop();

	// others still work after the error: peer2 both ways, the group
	const othersWork = async (tag) => {
		await deliverOk(await send(D, A), `${tag}: a msg from peer2 still decrypts`);
		await deliverOk(await send(A, D), `${tag}: and wa still encrypts to peer2`);
	};
	// the damage is done with wa's program stopped (the power-off), then it starts again
	const damage = async (file, content) => {
		await A.stop();
		const good = readFileSync(file);
		writeFileSync(file, typeof content === 'function' ? content(good) : content);
		A.start(IMPL_A);
		return good;
	};
	const restore = async (file, good) => { await A.stop(); writeFileSync(file, good); A.start(IMPL_A); };
	const expectClass = async (tag, file, reqs, want) => {
		const before = folderState(A.dir);
		for (const [what, r] of reqs) {
			const res = await A.req(r);
			t.is(res.ok ? 'ok' : res.error, want, `${tag}: ${what} is ${want}`, JSON.stringify(res).slice(0, 300));
		}
		const after = folderState(A.dir);
		delete before[name(file)]; delete after[name(file)];
		t.is(diffStates(before, after), [], `${tag}: no other file changed`);
	};

	for (const [kind, content] of [['empty', ''], ['truncated', (good) => good.subarray(0, Math.floor(good.length / 2))], ['cut after one byte', (good) => good.subarray(0, 1)]]) {
		const tag = `session file ${kind}`;
		const m = await send(P, A);
		const good = await damage(sessFile, content);
		await expectClass(tag, sessFile, [
			['the peer\'s next msg', { op: 'decrypt', jid: jidOf(P), type: m.type, ct: m.ct }],
			['encrypt to the peer', { op: 'encrypt', jid: jidOf(P), pt: b64('x') }]
		], 'corrupt_store');
		await othersWork(tag);
		await restore(sessFile, good);
		await deliverOk(m, `${tag}: with the file restored the msg decrypts`);
	}
	{
		const tag = 'session file one ratchet step behind';
		await deliverOk(await send(A, P), `${tag}: wa replies, the peer decrypts`);
		await A.stop();
		const older = readFileSync(sessFile);
		A.start(IMPL_A);
		await deliverOk(await send(P, A), `${tag}: the peer's answer (wa steps its ratchet)`);
		await deliverOk(await send(A, P), `${tag}: wa sends on its new ratchet key, the peer steps too`);
		const m = await send(P, A);
		const good = await damage(sessFile, older);
		await expectClass(tag, sessFile, [['the peer\'s msg on its new ratchet key', { op: 'decrypt', jid: jidOf(P), type: m.type, ct: m.ct }]], 'bad_mac');
		t.is(readFileSync(sessFile).toString('hex'), older.toString('hex'), `${tag}: the older session file is left as it was`);
		await othersWork(tag);
		await restore(sessFile, good);
		await deliverOk(m, `${tag}: with the current file back the msg decrypts`);
	}
	{
		const tag = 'sender-key file truncated';
		const m = await groupSend(P);
		const good = await damage(skFile, (b) => b.subarray(0, Math.floor(b.length / 3)));
		await expectClass(tag, skFile, [['the peer\'s next skmsg', { op: 'group_decrypt', group: GROUP, jid: P.jid, ct: m.ct }]], 'corrupt_store');
		await othersWork(tag);
		await deliverOk(await send(P, A), `${tag}: the peer's 1:1 session is unaffected`);
		await restore(skFile, good);
		await groupDeliverOk(m, A, `${tag}: with the file restored the skmsg decrypts`);
	}
	{
		const tag = 'pre-key file empty';
		const b = await bundleOf(A);
		const pkFile = preKeyFile(A, b.preKey.keyId);
		const stranger = '15550006666:5@s.whatsapp.net';
		await D.call({ op: 'process_bundle', jid: jidOf(A), bundle: b });
		const n = await send(D, A);
		const good = await damage(pkFile, '');
		await expectClass(tag, pkFile, [['a pkmsg naming it', { op: 'decrypt', jid: stranger, type: n.type, ct: n.ct }]], 'corrupt_store');
		await restore(pkFile, good);
		await deliverOk(n, `${tag}: with the file restored the pkmsg decrypts`, stranger);
	}
};

// ---- run -----------------------------------------------------------------------------

const fn = scenarios[scenario];
if (!fn) {
	process.stderr.write(`signal-drive: unknown scenario '${scenario}'\n`);
	process.exit(2);
}
t.diag(`scenario ${scenario}: wa's folder served by ${IMPL_A}, the peers by ${IMPL_P}, seed ${SEED}`);
let crashed = null;
try {
	await fn();
	for (const e of all) await e.stop();
} catch (e) {
	crashed = e;
	for (const x of all) x.kill();
}
t.ok(!crashed, `${scenario}: the scenario ran to its end (every process quit with 0)`, crashed && (crashed.stack || String(crashed)));
process.exit(0);

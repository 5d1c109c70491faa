#!/usr/bin/env node
// bench/signal.mjs - decrypting Signal messages: wa's lib/signal (through
// build/tests/wa-signal) against libsignal-node (Baileys 7's repository),
// in one run, on the same messages and the same starting folder.
// See bench/README ("Signal decryption").
//
//	node bench/signal.mjs [WORKDIR]      (sh bench/signal builds and runs it)
//
// Environment: BENCH_SIG_N (messages per row [500]), BENCH_SIG_OUT
// (JSON results [build/bench/signal.json]), BENCH_SIG_WA (the tool
// [build/tests/wa-signal]).
//
// Setup: a paired folder from tests/fakewa/mkauth.mjs (on the build disk,
// not tmpfs); a simulated peer opens a session to it (pkmsg, our answer,
// its ratchet turns) and hands it its sender key for a group, all decrypted
// by Baileys on the folder; the folder then is the start of every row.
// The peer encrypts N more 1:1 messages (msg) and N group messages (skmsg).
//
// Rows, for msg and for skmsg:
//   wa, in memory          wa-signal -n, one batch of N: no file written
//   wa, commit every K     batches of K (1, 10, 100): one group commit each
//                          (temporary files, fsync each, renames, one
//                          folder fsync), durable before the answer
//   libsignal-node, memory Baileys' repository on an in-memory key store
//   Baileys' folder        Baileys' repository on useMultiFileAuthState, as
//                          a bot runs it: writeFile per changed file and
//                          message, no fsync (not durable)
// messages/s = N / wall time of the decrypts; CPU/message = user+system
// CPU of the decrypts / N.  For wa-signal both are the process's, minus
// those of the same process answering an empty batch (start-up and
// loading); for Node, measured in process around the decrypts.

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const TOP = resolve(fileURLToPath(import.meta.url), '../..');
const F = await import(join(TOP, 'tests/fakewa/fixtures.mjs'));
const N = +(process.env.BENCH_SIG_N || 500);
const OUT = process.env.BENCH_SIG_OUT || join(TOP, 'build/bench/signal.json');
const WA = process.env.BENCH_SIG_WA || join(TOP, 'build/tests/wa-signal');
mkdirSync(join(TOP, 'build/bench'), { recursive: true });
const work = process.argv[2] || mkdtempSync(join(TOP, 'build/bench/sig.'));

const PEER = '15550009999:1@s.whatsapp.net';
const GROUP = '120363000000000999@g.us';
const b64 = (b) => Buffer.from(b).toString('base64');

// ---- setup --------------------------------------------------------------
const base = join(work, 'base');
rmSync(base, { recursive: true, force: true });
execFileSync('node', [join(TOP, 'tests/fakewa/mkauth.mjs'), base, '--contacts', '0', '--groups', '0', '--prekeys', '5'],
	{ stdio: ['ignore', 'ignore', 'inherit'] });
const peer = new F.SimPeer();
{
	const bob = await F.openBaileysAuth(base);
	const bobAddr = F.signalAddr(bob.creds.me.id);
	const pk = readdirSync(base).map((f) => /^pre-key-(\d+)\.json$/.exec(f)).filter(Boolean).map((m) => +m[1]).sort((a, b) => a - b)[0];
	await peer.initOutgoing(bobAddr, await F.ourBundle(bob.creds, bob.keys, pk));
	const p = await peer.encrypt(bobAddr, Buffer.from('hello'));
	await bob.repo.decryptMessage({ jid: PEER, type: p.type, ciphertext: p.ciphertext });
	const r = await bob.repo.encryptMessage({ jid: PEER, data: Buffer.from('hi') });
	await peer.decrypt(bobAddr, r.type, r.ciphertext);
	const skdm = await peer.createSenderKey(GROUP, F.signalAddr(PEER));
	await bob.repo.processSenderKeyDistributionMessage({
		item: { groupId: GROUP, axolotlSenderKeyDistributionMessage: skdm }, authorJid: PEER
	});
	peer.bobAddr = bobAddr;
}
const pt = Buffer.alloc(120, 0x61);   // a short text message with padding
const msgs = [], skmsgs = [];
for (let i = 0; i < N; i++) msgs.push(await peer.encrypt(peer.bobAddr, pt));
for (let i = 0; i < N; i++) skmsgs.push(await peer.groupEncrypt(GROUP, F.signalAddr(PEER), pt));
if (msgs.some((m) => m.type !== 'msg')) throw new Error('setup: expected msg, got pkmsg');
const req = {
	msg: msgs.map((m) => ({ op: 'decrypt', jid: PEER, type: 'msg', ct: b64(m.ciphertext) })),
	skmsg: skmsgs.map((c) => ({ op: 'group_decrypt', group: GROUP, jid: PEER, ct: b64(c) }))
};

// ---- wa -----------------------------------------------------------------
function fresh(name) {
	const d = join(work, name);
	rmSync(d, { recursive: true, force: true });
	cpSync(base, d, { recursive: true });
	return d;
}

// run wa-signal on a fresh copy with the requests in batches of k (0: one
// batch of all); returns wall ms, cpu ms
function waRun(reqs, k, nocommit) {
	const dir = fresh('wa');
	const lines = [];
	const size = k || reqs.length || 1;
	for (let i = 0; i < reqs.length; i += size) lines.push(JSON.stringify({ op: 'batch', requests: reqs.slice(i, i + size) }));
	if (!reqs.length) lines.push(JSON.stringify({ op: 'batch', requests: [] }));
	const args = ['-f', '%e %U %S', WA, ...(nocommit ? ['-n'] : []), '-d', dir];
	const t0 = process.hrtime.bigint();
	const r = spawnSync('/usr/bin/time', args, { input: lines.join('\n') + '\n', encoding: 'utf-8', maxBuffer: 1 << 28 });
	const wall = Number(process.hrtime.bigint() - t0) / 1e6;
	const tl = r.stderr.trim().split('\n').pop().split(' ').map(Number);
	const out = r.stdout.trim().split('\n');
	for (const l of out) {
		const o = JSON.parse(l);
		if (!o.ok || (o.responses || []).some((x) => !x.ok || x.pt !== b64(pt)))
			throw new Error(`wa-signal failed: ${l.slice(0, 300)}`);
	}
	return { wall, cpu: (tl[1] + tl[2]) * 1000 };
}

function waRow(kind, k, nocommit) {
	const zero = waRun([], 0, nocommit);
	const full = waRun(req[kind], k, nocommit);
	const wall = Math.max(full.wall - zero.wall, 0.001), cpu = Math.max(full.cpu - zero.cpu, 0);
	return { rate: N / (wall / 1000), cpu_ms: cpu / N, wall_ms: wall };
}

// ---- libsignal-node -----------------------------------------------------
function memoryKeys(dir) {
	const data = new Map();
	for (const f of readdirSync(dir)) {
		const m = /^([a-z-]+?)-(.+)\.json$/.exec(f);
		if (!m || f === 'creds.json') continue;
		const type = F.KEY_TYPES.find((t) => f.startsWith(t + '-'));
		if (!type) continue;
		const id = f.slice(type.length + 1, -5);
		data.set(`${type}/${id}`, JSON.parse(readFileSync(join(dir, f), 'utf-8'), F.BufferJSON.reviver));
	}
	return {
		get: async (type, ids) => Object.fromEntries(ids.map((id) => [id, data.get(`${type}/${id.replace(/\//g, '__').replace(/:/g, '-')}`) ?? null])),
		set: async (d) => {
			for (const type in d) for (const id in d[type]) {
				const k = `${type}/${id.replace(/\//g, '__').replace(/:/g, '-')}`;
				// what the file store would keep: the JSON round trip
				if (d[type][id]) data.set(k, JSON.parse(JSON.stringify(d[type][id], F.BufferJSON.replacer), F.BufferJSON.reviver));
				else data.delete(k);
			}
		}
	};
}

async function nodeRow(kind, memory) {
	const dir = fresh('node');
	let repo;
	if (memory) {
		const creds = JSON.parse(readFileSync(join(dir, 'creds.json'), 'utf-8'), F.BufferJSON.reviver);
		const keys = F.B.addTransactionCapability(memoryKeys(dir), F.logger, { maxCommitRetries: 1, delayBetweenTriesMs: 0 });
		repo = F.makeLibSignalRepository({ creds, keys }, F.logger);
	} else {
		repo = (await F.openBaileysAuth(dir)).repo;
	}
	const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
	for (const r of req[kind]) {
		const ct = Buffer.from(r.ct, 'base64');
		const got = kind === 'msg'
			? await repo.decryptMessage({ jid: PEER, type: 'msg', ciphertext: ct })
			: await repo.decryptGroupMessage({ group: GROUP, authorJid: PEER, msg: ct });
		if (Buffer.compare(Buffer.from(got), pt)) throw new Error('libsignal-node: wrong plaintext');
	}
	const wall = Number(process.hrtime.bigint() - t0) / 1e6, c = process.cpuUsage(c0);
	return { rate: N / (wall / 1000), cpu_ms: (c.user + c.system) / 1000 / N, wall_ms: wall };
}

// ---- the table ------------------------------------------------------------
const rows = [];
const load0 = os.loadavg();
for (const kind of ['msg', 'skmsg']) {
	rows.push([kind, 'wa, in memory', waRow(kind, 0, true)]);
	rows.push([kind, 'libsignal-node, in memory', await nodeRow(kind, true)]);
	for (const k of [1, 10, 100]) rows.push([kind, `wa, durable commit every ${k}`, waRow(kind, k, false)]);
	rows.push([kind, "Baileys' folder (no fsync)", await nodeRow(kind, false)]);
}
const fmt = (x, d) => x >= 100 ? x.toFixed(0) : x.toFixed(d);
process.stdout.write(`decrypting ${N} messages per row (load ${load0.map((x) => x.toFixed(2)).join(' ')})\n`);
process.stdout.write('                                            messages/s   CPU/message (ms)\n');
for (const [kind, name, r] of rows)
	process.stdout.write(`${kind.padEnd(6)} ${name.padEnd(36)} ${fmt(r.rate, 1).padStart(10)}   ${r.cpu_ms.toFixed(3).padStart(10)}\n`);
writeFileSync(OUT, JSON.stringify({
	date: new Date().toISOString(), machine: `${os.cpus().length} x ${os.cpus()[0]?.model}`, node: process.version,
	n: N, load: [load0, os.loadavg()], wa: WA, rows: rows.map(([kind, name, r]) => ({ kind, name, ...r }))
}, null, 1) + '\n');
if (!process.argv[2]) rmSync(work, { recursive: true, force: true });
process.exit(0);

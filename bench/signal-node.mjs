#!/usr/bin/env node
// signal-node.mjs - the Signal part of `make bench`: decrypting through each
// implementation of the Signal test contract (tests/fakewa/signal-lib.mjs):
// Baileys' own repository (tests/fakewa/signal-node.mjs) and wa-signal.
//
//	node bench/signal-node.mjs [--n N] [--dir DIR] [--out FILE]
//
// One run: three paired Baileys accounts are made (tests/fakewa/mkauth.mjs);
// a peer (always Baileys) starts a session with wa's account and makes N
// 1:1 msg and N group skmsg for it (plus 10 of each for warm-up), once, so
// both implementations decrypt the same bytes.  Then for each
// implementation and each mode, on a fresh copy of the prepared folder
// and in a fresh process (its start not measured):
//	memory      all N in one batch that commits nothing, when the program
//	            offers it (wa-signal -n; signal-node.mjs: a batch with
//	            "commit":false, answered with "committed":false);
//	            otherwise batches of 100 (the table says so)
//	commit/1    one request per message: one durable commit each
//	commit/10   batches of 10: one commit per batch
//	commit/100  batches of 100
// measured from the first request written to the last response read:
// messages per second, and the serving process's CPU time (utime+stime
// from /proc/PID/stat) per message.  Every response must be ok with the
// right plaintext, else the run fails.
//
// The C column is "n/a" until wa-signal exists ($WA_SIGNAL_C, else
// build/tests/wa-signal, else wa-signal on PATH).  DIR holds the folders
// (default build/bench; keep it on the disk a bot would use, not tmpfs:
// the commits fsync).  OUT gets the figures as JSON.
//
// Exit status: 0 table printed; 1 setup or a decryption failed; 2 usage.

import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Endpoint, b64 } from '../tests/fakewa/signal-lib.mjs';

const TOP = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PROG = 'bench/signal-node';
const die = (msg, code = 1) => { process.stderr.write(`${PROG}: ${msg}\n`); process.exit(code); };

const opt = { n: Number(process.env.BENCH_SIGNAL_N || 200), dir: join(TOP, 'build/bench'), out: '' };
{
	const a = process.argv.slice(2);
	for (let i = 0; i < a.length; i++) {
		const v = a[i + 1];
		if (a[i] === '--n' && /^\d+$/.test(v ?? '') && +v >= 100) { opt.n = +v; i++; }
		else if (a[i] === '--dir' && v) { opt.dir = resolve(v); i++; }
		else if (a[i] === '--out' && v) { opt.out = resolve(v); i++; }
		else die(`usage: node bench/signal-node.mjs [--n N (>= 100)] [--dir DIR] [--out FILE]`, 2);
	}
	if (opt.n % 100) die('--n must be a multiple of 100', 2);
}

// the C program, if there is one
function findC() {
	const cands = [process.env.WA_SIGNAL_C, join(TOP, 'build/tests/wa-signal')].filter(Boolean);
	for (const c of cands) { try { accessSync(c, constants.X_OK); return c; } catch { /* next */ } }
	const w = spawnSync('sh', ['-c', 'command -v wa-signal'], { encoding: 'utf-8' });
	return w.status === 0 ? w.stdout.trim() : null;
}
const cProgram = findC();
if (cProgram) process.env.WA_SIGNAL_C = cProgram;
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf-8' }).trim()) || 100;

function cpuMs(pid) {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf-8');
	const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	return (Number(f[11]) + Number(f[12])) * 1000 / TICK; // utime, stime (fields 14, 15)
}

// ---- the fixture: accounts, a session, messages ----------------------------------

mkdirSync(opt.dir, { recursive: true });
const work = mkdtempSync(join(opt.dir, 'signal.'));
const cleanup = () => rmSync(work, { recursive: true, force: true });
process.on('exit', cleanup);
const mkauth = (d, seed) => {
	const r = spawnSync(process.execPath, [join(TOP, 'tests/fakewa/mkauth.mjs'), d, '--contacts', '0', '--groups', '0', '--prekeys', '20', '--seed', seed], { encoding: 'utf-8' });
	if (r.status !== 0) die(`mkauth: ${r.stderr.trim()}`);
};
const WARM = 10;
const GROUP = '120363009876543210@g.us';
process.stderr.write(`${PROG}: preparing ${opt.n} + ${WARM} msg and skmsg ...`);
mkauth(join(work, 'wa'), 'bench-signal-wa');
mkauth(join(work, 'peer'), 'bench-signal-peer');
const A = new Endpoint('wa', join(work, 'wa')).start('node');
const P = new Endpoint('peer', join(work, 'peer')).start('node');
const { ok: _ok, ...bundle } = await A.call({ op: 'bundle' });
await P.call({ op: 'process_bundle', jid: A.jid, bundle });
// the session set up both ways, so every measured 1:1 message is a msg
const first = await P.call({ op: 'encrypt', jid: A.jid, pt: b64('hello') });
await A.call({ op: 'decrypt', jid: P.jid, type: first.type, ct: first.ct });
const back = await A.call({ op: 'encrypt', jid: P.jid, pt: b64('hello back') });
await P.call({ op: 'decrypt', jid: A.jid, type: back.type, ct: back.ct });
const g0 = await P.call({ op: 'group_encrypt', group: GROUP, pt: b64('hello group') });
await A.call({ op: 'process_skdm', group: GROUP, jid: P.jid, skdm: g0.skdm });
await A.call({ op: 'group_decrypt', group: GROUP, jid: P.jid, ct: g0.ct });
await A.stop();
const total = opt.n + WARM;
const text = (i, kind) => `${kind} message ${i} ${'.'.repeat(40 + (i % 60))}`;
async function make(kind) {
	const out = [];
	for (let i = 0; i < total; i += 100) {
		const reqs = [];
		for (let k = i; k < Math.min(total, i + 100); k++) {
			reqs.push(kind === 'msg'
				? { op: 'encrypt', jid: A.jid, pt: b64(text(k, kind)) }
				: { op: 'group_encrypt', group: GROUP, pt: b64(text(k, kind)) });
		}
		const r = await P.call({ op: 'batch', requests: reqs });
		for (const x of r.responses) {
			if (!x.ok) die(`peer: ${x.error}: ${x.detail}`);
			out.push(kind === 'msg'
				? { op: 'decrypt', jid: P.jid, type: x.type, ct: x.ct }
				: { op: 'group_decrypt', group: GROUP, jid: P.jid, ct: x.ct });
		}
	}
	return out;
}
const streams = { msg: await make('msg'), skmsg: await make('skmsg') };
await P.stop();
process.stderr.write(' done\n');

// ---- measuring ---------------------------------------------------------------------

const MODES = ['memory', 'commit/1', 'commit/10', 'commit/100'];

async function measure(impl, kind, mode) {
	const dir = join(work, `run-${impl}-${kind}-${mode.replace('/', '')}`);
	cpSync(A.dir, dir, { recursive: true });
	// wa-signal -n never commits (its in-memory mode)
	const nocommit = impl === 'c' && mode === 'memory';
	const E = new Endpoint('wa', dir).start(impl, nocommit ? ['-n'] : []);
	const reqs = streams[kind];
	const check = (r, i) => {
		if (!r.ok || Buffer.from(r.pt, 'base64').toString() !== text(i, kind)) {
			throw new Error(`${impl} ${kind} ${mode}: message ${i}: ${JSON.stringify(r).slice(0, 200)}`);
		}
	};
	try {
		// does a batch skip its commit when asked?  (an empty one: a program
		// that ignores the field commits nothing either)
		const probe = await E.call({ op: 'batch', commit: false, requests: [] });
		const memory = nocommit || probe.committed === false;
		// warm-up, not measured
		const wr = await E.call({ op: 'batch', requests: reqs.slice(0, WARM) });
		wr.responses.forEach((r, i) => check(r, i));
		let size = mode === 'commit/1' ? 1 : mode === 'commit/10' ? 10 : 100;
		let commit = true;
		if (mode === 'memory' && memory) { size = opt.n; commit = false; }
		const pid = E.proc.pid;
		const cpu0 = cpuMs(pid);
		const t0 = process.hrtime.bigint();
		for (let i = WARM; i < total; i += size) {
			const part = reqs.slice(i, i + size);
			if (size === 1) check(await E.req(part[0]), i);
			else {
				const r = await E.call(commit ? { op: 'batch', requests: part } : { op: 'batch', commit: false, requests: part });
				r.responses.forEach((x, k) => check(x, i + k));
			}
		}
		const wall = Number(process.hrtime.bigint() - t0) / 1e9;
		const cpu = cpuMs(pid) - cpu0;
		return { rate: opt.n / wall, cpuPerMsg: cpu / opt.n, memory: mode === 'memory' ? (memory ? 'one batch, no commit' : 'batches of 100') : undefined };
	} finally {
		await E.stop().catch(() => E.kill());
		rmSync(dir, { recursive: true, force: true });
	}
}

const impls = ['node', ...(cProgram ? ['c'] : [])];
const results = {};
for (const kind of ['msg', 'skmsg']) {
	for (const mode of MODES) {
		for (const impl of impls) {
			process.stderr.write('.');
			results[`${impl} ${kind} ${mode}`] = await measure(impl, kind, mode);
		}
	}
}
process.stderr.write('\n');

// ---- the table -----------------------------------------------------------------------

const f = (x) => (x === undefined ? 'n/a' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const pad = (s, n) => String(s).padStart(n);
const lines = [];
lines.push(`Signal decryption, ${opt.n} messages per cell; Baileys = tests/fakewa/signal-node.mjs (baileys ${JSON.parse(readFileSync(join(TOP, 'tests/fakewa/node_modules/baileys/package.json'), 'utf-8')).version}), wa = ${cProgram || 'wa-signal (not built: n/a)'}`);
lines.push(`load ${readFileSync('/proc/loadavg', 'utf-8').split(' ').slice(0, 3).join(' ')}; CPU = the serving process's utime+stime (/proc, ${TICK} Hz ticks)`);
lines.push('');
lines.push(`${'kind  mode'.padEnd(18)} ${pad('Baileys', 10)} ${pad('', 10)}   ${pad('wa', 10)} ${pad('', 10)}   ${pad('wa/Baileys', 10)}`);
lines.push(`${''.padEnd(18)} ${pad('msg/s', 10)} ${pad('CPU ms/msg', 10)}   ${pad('msg/s', 10)} ${pad('CPU ms/msg', 10)}   ${pad('(msg/s)', 10)}`);
const notes = new Set();
for (const kind of ['msg', 'skmsg']) {
	for (const mode of MODES) {
		const n = results[`node ${kind} ${mode}`];
		const c = results[`c ${kind} ${mode}`];
		let label = `${kind.padEnd(6)}${mode}`;
		for (const [who, r] of [['Baileys', n], ['wa', c]]) {
			if (r?.memory === 'batches of 100') { label += '*'; notes.add(`* ${who}: no batch without a commit; batches of 100 with commits instead`); }
		}
		lines.push(`${label.padEnd(18)} ${pad(f(n?.rate), 10)} ${pad(f(n?.cpuPerMsg), 10)}   ${pad(f(c?.rate), 10)} ${pad(f(c?.cpuPerMsg), 10)}   ${pad(c ? f(c.rate / n.rate) + 'x' : 'n/a', 10)}`);
	}
}
for (const n of notes) lines.push(n);
process.stdout.write(lines.join('\n') + '\n');
if (opt.out) {
	mkdirSync(dirname(opt.out), { recursive: true });
	writeFileSync(opt.out, JSON.stringify({ n: opt.n, date: new Date().toISOString(), wa: cProgram, results }, null, 2) + '\n');
	process.stdout.write(`\n${PROG}: results in ${opt.out}\n`);
}
process.exit(0);

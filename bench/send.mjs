#!/usr/bin/env node
// send.mjs - the sending benchmark (issue 13): 1:1 throughput to the
// server's ack and one message to groups of 256 and 1000 devices, wa
// (wa-send + wa-run) against a Baileys bot on one fakewa in one run.  The
// last section of bench/run (BENCH_SEND=0 leaves it out); see bench/README,
// "Sending".
//
//	node bench/send.mjs [--rounds R] [--n N] [--groups 256,1000]
//	                    [--warm W] [--dir DIR] [--out FILE] [--bin DIR]
//	                    [--timeout S] [--clients wa,baileys]
//
// One fakewa (its own, logNodes=false), two accounts paired through its
// phone (wa's folder by wa-pair, the bot's by bench/baileys-send.mjs), and
// synthetic receivers (POST /synth: registered keys and pre-keys, never
// connected, every stanza counted instead of queued, so the receivers
// cost nothing and the measure is the sender's):
//   peer     one account with 2 devices (a phone's companions): 1:1 texts
//            are encrypted for both;
//   groups   for each size S in --groups, S/4 accounts of 4 devices; one
//            group per sender (the sender's account + those accounts, so
//            S recipient devices; the sender has no other device).
// The runs (R rounds, the clients alternating):
//   wa queued   wa-run stopped; N jobs written by N wa-send processes
//               (timed on their own: jobs/s, CPU per job); then wa-run
//               started: from its start to the last server ack (fakewa's
//               message-routed, which follows its <ack> at once): messages/s
//               and wa-run's CPU per message (login included);
//   wa live     wa-run online; the N wa-send processes one after the other
//               (a shell loop): from the first wa-send to the last ack;
//               CPU = wa-run's + the wa-send processes';
//   Baileys     the bot online; sendMessage in a loop, each awaited: from
//               the command to the last ack; CPU of the bot's process.
//   groups      for each size, per client: the first message (sender-key
//               distribution to every device: usync, bundles, a pkmsg per
//               device) and then W more (skmsg only): ms from the submit
//               (wa-send --id ID started / the bot's sendMessage called) to
//               the server's ack.
// Every run is checked: fakewa routed exactly the N ids, each once, to both
// peer devices (GET /synth), and (wa) wa-run printed a "sent" event for
// each and left the outbox's new/ empty.  Anything else: exit 1.
// Without build/bin/wa-send (or a wa-run that does not send) the wa
// columns are n/a and the Baileys side still runs.
//
// Prints a table (median, p10, p90; wa/Baileys for rates, Baileys/wa for
// costs and times) and writes FILE (build/bench/results-send.json).

import { spawn, spawnSync } from 'child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'fs';
import { createInterface } from 'readline';
import { fileURLToPath } from 'url';
import os from 'os';
import path from 'path';

const here = path.dirname(fileURLToPath(import.meta.url));
const top = path.join(here, '..');
process.chdir(top);

function usage(msg) {
	if (msg)
		process.stderr.write(`bench/send: ${msg}\n`);
	process.stderr.write('usage: node bench/send.mjs [--rounds R] [--n N] [--groups 256,1000] [--warm W] [--dir DIR] [--out FILE] [--bin DIR] [--timeout S] [--clients wa,baileys]\n');
	process.exit(2);
}
const opt = { rounds: 3, n: 1000, groups: '256,1000', warm: 3, dir: 'build/bench', out: 'build/bench/results-send.json', bin: 'build/bin', timeout: 300, clients: 'wa,baileys' };
{
	const a = process.argv.slice(2);
	while (a.length) {
		const k = a.shift();
		const v = a.shift();
		const name = k.replace(/^--/, '');
		if (!(name in opt) || v === undefined)
			usage(`bad argument ${k}`);
		if (typeof opt[name] === 'number') {
			if (!/^\d+$/.test(v) || +v < 1)
				usage(`${k} takes a whole number >= 1`);
			opt[name] = +v;
		} else
			opt[name] = v;
	}
	opt.groups = opt.groups === 'none' ? [] : opt.groups.split(',').map(Number);
	if (opt.groups.some(g => !Number.isInteger(g) || g < 4 || g % 4 || g > 4000))
		usage('--groups: sizes that are multiples of 4, 4..4000, or none');
	opt.clients = opt.clients.split(',');
	if (!opt.clients.length || opt.clients.some(c => c !== 'wa' && c !== 'baileys'))
		usage('--clients is wa, baileys or both (comma-separated)');
}
const die = msg => { process.stderr.write(`bench/send: ${msg}\n`); process.exit(1); };
const sleep = ms => new Promise(r => setTimeout(r, ms));
const say = msg => process.stderr.write(msg);

const BIN = path.resolve(opt.bin);
const waRun = `${BIN}/wa-run`;
const waSend = `${BIN}/wa-send`;
if (!existsSync('tests/fakewa/node_modules/baileys'))
	die('tests/fakewa/node_modules is missing: npm ci in tests/fakewa (scripts/install-deps)');
let waWhy = null;
if (opt.clients.includes('wa')) {
	for (const f of [waRun, `${BIN}/wa-pair`, waSend])
		if (!existsSync(f))
			waWhy = waWhy ?? `${f} is missing`;
	if (waWhy) {
		say(`bench/send: wa left out: ${waWhy}\n`);
		opt.clients = opt.clients.filter(c => c !== 'wa');
	}
}
if (!opt.clients.length)
	die('no client to measure');

mkdirSync(opt.dir, { recursive: true });
const T = mkdtempSync(path.join(path.resolve(opt.dir), 'send.'));
const children = new Set();
const keep = !!process.env.BENCH_SEND_KEEP; // leave the folders (diagnosis)
function cleanup() {
	for (const c of children)
		try { c.kill('SIGKILL'); } catch { /* gone */ }
	if (!keep)
		rmSync(T, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'])
	process.on(s, () => process.exit(130));

// ---- processes -----------------------------------------------------------------------

const HZ = +(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100);

/** CPU ms of a process so far: utime+stime (all threads), or the sum of
 * its live threads' schedstat (ns) when larger. */
function cpuMs(pid) {
	const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
	const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
	const ticks = (+f[11] + +f[12]) * 1000 / HZ;
	let sched = 0;
	try {
		for (const t of readdirSync(`/proc/${pid}/task`))
			sched += +readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0] / 1e6;
	} catch { /* a thread ended meanwhile */ }
	return Math.max(ticks, sched);
}

/** A child with its stdout read line by line (each line time-stamped); stderr to a file. */
class Proc {
	constructor(name, cmd, args, env = {}, stdin = 'ignore') {
		this.name = name;
		this.errFile = path.join(T, `${name}.err`);
		const err = openSync(this.errFile, 'a');
		this.startedAt = Date.now();
		this.child = spawn(cmd, args, { stdio: [stdin, 'pipe', err], env: { ...process.env, ...env } });
		closeSync(err);
		this.pid = this.child.pid;
		children.add(this.child);
		this.lines = [];
		this.times = [];
		this.waiters = [];
		this.exited = new Promise(res => this.child.on('exit', (code, sig) => {
			children.delete(this.child);
			this.code = code;
			this.signal = sig;
			res();
			this.poke();
		}));
		createInterface({ input: this.child.stdout }).on('line', l => {
			if (this.filter && !this.filter(l))
				return;
			this.lines.push(l);
			this.times.push(Date.now());
			this.poke();
		});
	}
	poke() {
		for (const w of this.waiters.splice(0))
			w();
	}
	stderr() {
		try { return readFileSync(this.errFile, 'utf8').trim().split('\n').slice(-5).join('\n'); } catch { return ''; }
	}
	/** Resolves when pred() holds (checked on every line and exit), or dies after ms. */
	async until(pred, ms, what) {
		const end = Date.now() + ms;
		for (;;) {
			const v = pred();
			if (v)
				return v;
			if (this.code !== undefined || this.signal !== undefined)
				die(`${this.name} ended (${this.code ?? this.signal}) before ${what}; stderr: ${this.stderr()}`);
			const left = end - Date.now();
			if (left <= 0)
				die(`${this.name}: no ${what} within ${ms / 1000} s; stderr: ${this.stderr()}`);
			await new Promise(r => {
				const t = setTimeout(r, left);
				this.waiters.push(() => { clearTimeout(t); r(); });
			});
		}
	}
	/** The first line from index `from` on for which pred is true: {line, t, i}. */
	async line(pred, ms, what, from = 0) {
		return this.until(() => {
			for (let i = from; i < this.lines.length; i++)
				if (pred(this.lines[i]))
					return { line: this.lines[i], t: this.times[i], i };
			return null;
		}, ms, what);
	}
	write(l) {
		this.child.stdin.write(l + '\n');
	}
	async stop() {
		if (this.tracer) {
			this.tracer.child.kill('SIGINT');
			await this.tracer.exited;
		}
		if (this.code === undefined && this.signal === undefined) {
			this.child.kill('SIGTERM');
			const t = setTimeout(() => this.child.kill('SIGKILL'), 10000);
			await this.exited;
			clearTimeout(t);
		}
	}
}

// ---- fakewa --------------------------------------------------------------------------

let FW;
async function call(method, p, body) {
	const r = await fetch(FW.control + p, {
		method, headers: body ? { 'content-type': 'application/json' } : undefined,
		body: body ? JSON.stringify(body) : undefined
	});
	const text = await r.text();
	if (r.status === 408)
		return null;
	if (!r.ok)
		die(`fakewa ${method} ${p}: ${r.status} ${text}`);
	return JSON.parse(text);
}
const wait = (q, ms) => call('GET', `/wait?${new URLSearchParams({ ...q, timeout_ms: String(Math.min(ms, 120000)) })}`);
const seqNow = async () => (await call('GET', '/info')).seq;
/** fakewa's message-routed events since seq, from device `from`. */
async function routed(since, from) {
	const { events } = await call('GET', `/log?event=message-routed&since=${since}`);
	return events.filter(e => e.from === from);
}

const fwProc = new Proc('fakewa', 'node', ['tests/fakewa/server.mjs', '--config', 'logNodes=false'], { FAKEWA_QUIET: '1' });
FW = JSON.parse((await fwProc.line(l => l.startsWith('{'), 30000, 'its startup line')).line);
const env = { WA_SERVER_URL: FW.ws, WA_SERVER_ROOT_KEY: FW.rootPub };
const BAILEYS = JSON.parse(readFileSync('tests/fakewa/node_modules/baileys/package.json', 'utf8')).version;

// ---- accounts -------------------------------------------------------------------------

const PHONE = { wa: '15551110003', baileys: '15552220004' };
const PEER = '15557000000';
say(`bench/send: fakewa ${FW.ws}; pairing ${opt.clients.join(' and ')} in ${T}\n`);
const JID = {};
if (opt.clients.includes('wa')) {
	const p = new Proc('wa-pair', `${BIN}/wa-pair`, ['-d', `${T}/wa`, '--qr-text', '-t', '30'], env);
	const qr = (await p.line(l => l.startsWith('https://wa.me/'), 30000, 'a QR')).line;
	await call('POST', '/phone/scan', { qr, phone: PHONE.wa });
	await p.line(l => l.startsWith('linked '), 30000, 'linked');
	await p.exited;
	if (p.code !== 0)
		die(`wa-pair failed: ${p.stderr()}`);
}
let bot = null;
if (opt.clients.includes('baileys')) {
	const p = new Proc('baileys-pair', 'node', ['bench/baileys-send.mjs', '--pair', `${T}/bl`], env);
	const qr = (await p.line(l => l.startsWith('qr '), 30000, 'a QR')).line;
	await call('POST', '/phone/scan', { qr: qr.slice(3), phone: PHONE.baileys });
	const l = (await p.line(l => l.startsWith('open ') || l.startsWith('close '), 30000, 'open')).line;
	await p.exited;
	if (p.code !== 0 || !l.startsWith('open '))
		die(`Baileys did not pair: ${l} ${p.stderr()}`);
}
for (const c of opt.clients) {
	const a = await call('GET', `/accounts/${PHONE[c]}@s.whatsapp.net`);
	const d = (a.devices ?? [a]).filter(x => !x.removed);
	if (d.length !== 1)
		die(`account ${PHONE[c]} has ${d.length} devices`);
	JID[c] = d[0].jid;
}

// synthetic receivers: the 1:1 peer, then the groups' members
say('bench/send: synthetic receivers (POST /synth)');
const peer = await call('POST', '/synth', { users: 1, devicesPerUser: 2, phone: PEER, prekeys: 4 * opt.clients.length });
const PEER_JID = peer.users[0];
const GROUPS = {};
for (const [k, size] of opt.groups.entries()) {
	const s = await call('POST', '/synth', { users: size / 4, devicesPerUser: 4, phone: String(15557100000 + k * 100000), prekeys: opt.clients.length });
	say(` ${size} devices (${s.ms} ms)`);
	for (const c of opt.clients) {
		const g = await call('POST', '/groups', { subject: `bench ${size} ${c}`, participants: s.users, owner: `${PHONE[c]}@s.whatsapp.net` });
		(GROUPS[size] ?? (GROUPS[size] = {}))[c] = g.jid;
	}
}
say('\n');

// ---- the clients -----------------------------------------------------------------------

let runNo = 0;
/** wa-run, its "sent" events collected (id -> time the driver read the line). */
function startWa() {
	runNo++;
	const p = new Proc(`wa-run.${runNo}`, waRun, ['-v', '-d', `${T}/wa`], env);
	// BENCH_SEND_ATTACH='strace -f -c -w -o /tmp/%n.strace -p %p': a tracer
	// attached to each wa-run (%p its pid, %n wa-run.RUN) until it stops,
	// for diagnosis; the figures then include the tracer
	if (process.env.BENCH_SEND_ATTACH) {
		const [cmd, ...a] = process.env.BENCH_SEND_ATTACH.split(' ').filter(Boolean)
			.map(x => x.replaceAll('%p', String(p.pid)).replaceAll('%n', `wa-run.${runNo}`));
		p.tracer = new Proc(`attach.${runNo}`, cmd, a);
	}
	p.sent = new Map();
	p.filter = l => {
		if (l.includes('"event":"sent"')) {
			const id = /"id":"([^"]+)"/.exec(l)?.[1];
			if (id)
				p.sent.set(id, Date.now());
			p.poke();
			return false;
		}
		return true;
	};
	return p;
}
async function waOnline(p) {
	return p.line(l => l.includes('"event":"online"'), 30000, 'its online event');
}

/** N wa-send processes in a shell loop: ids, wall ms, CPU ms (children). */
async function waSendLoop(to, n, prefix) {
	const script = 'i=0; while [ $i -lt "$2" ]; do i=$((i + 1)); "$0" -d "$1" "$3" "$4 $i" || exit 1; done; times >&2';
	const t0 = Date.now();
	const p = new Proc(`wa-send.${++runNo}`, 'sh', ['-c', script, waSend, `${T}/wa`, String(n), to, prefix], env);
	await p.exited;
	const t1 = Date.now();
	if (p.code !== 0)
		die(`wa-send failed: ${p.stderr()}`);
	// times: the shell's own line, then its children's "XmY.YYYs XmY.YYYs"
	const tl = readFileSync(p.errFile, 'utf8').trim().split('\n').pop();
	const sec = s => { const m = /(\d+)m([\d.]+)s/.exec(s); return m ? +m[1] * 60 + +m[2] : NaN; };
	const [u, s] = tl.split(/\s+/).map(sec);
	const ids = p.lines.map(l => l.trim()).filter(Boolean);
	if (ids.length !== n)
		die(`wa-send printed ${ids.length} ids for ${n} jobs`);
	return { ids, t0, t1, cpu: (u + s) * 1000 };
}

function outboxLeft() {
	try { return readdirSync(`${T}/wa.outbox/new`).length; } catch { return -1; }
}

/** Check fakewa's routing of one 1:1 run: every id once, to both peer devices. */
async function check1(c, ids, since) {
	const ev = await routed(since, JID[c]);
	const want = new Set(ids);
	const seen = new Map();
	for (const e of ev)
		if (want.has(e.id))
			seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
	const twice = [...seen.values()].filter(n => n > 1).length;
	if (seen.size !== want.size || twice)
		die(`${c}: fakewa routed ${seen.size} of ${want.size} ids (${twice} more than once)`);
	const { messages } = await call('GET', '/synth');
	const short = ids.filter(id => messages[id]?.devices !== 2).length;
	if (short)
		die(`${c}: ${short} messages did not reach both peer devices`);
	return Math.max(...ev.filter(e => want.has(e.id)).map(e => e.t));
}

const samples = { wa: [], baileys: [] };
const notes = new Set();
const ms = () => opt.timeout * 1000;

async function waQueued(r) {
	const q = await waSendLoop(PEER_JID, opt.n, `q${r}`);
	const s0 = await seqNow();
	const p = startWa();
	const t0 = p.startedAt;
	const on = await waOnline(p);
	await p.until(() => q.ids.every(id => p.sent.has(id)), ms(), `"sent" events for all ${opt.n} jobs`);
	const cpu = cpuMs(p.pid);
	const t1 = await check1('wa', q.ids, s0);
	await p.stop();
	if (outboxLeft() !== 0)
		die(`wa: ${outboxLeft()} jobs left in the outbox's new/`);
	samples.wa.push({
		kind: 'queued', n: opt.n, rate: opt.n * 1000 / Math.max(1, t1 - t0), span_ms: t1 - t0, online_ms: on.t - t0,
		rate_online: opt.n * 1000 / Math.max(1, t1 - on.t), cpu_us: cpu * 1000 / opt.n,
		send_rate: opt.n * 1000 / Math.max(1, q.t1 - q.t0), send_cpu_us: q.cpu * 1000 / opt.n
	});
}

async function waLive(r, p) {
	const cpu0 = cpuMs(p.pid);
	const s0 = await seqNow();
	const q = await waSendLoop(PEER_JID, opt.n, `l${r}`);
	await p.until(() => q.ids.every(id => p.sent.has(id)), ms(), `"sent" events for all ${opt.n} jobs`);
	const cpu = cpuMs(p.pid) - cpu0;
	const t1 = await check1('wa', q.ids, s0);
	if (outboxLeft() !== 0)
		die(`wa: ${outboxLeft()} jobs left in the outbox's new/`);
	samples.wa.push({
		kind: 'live', n: opt.n, rate: opt.n * 1000 / Math.max(1, t1 - q.t0), span_ms: t1 - q.t0,
		cpu_us: (cpu + q.cpu) * 1000 / opt.n, run_cpu_us: cpu * 1000 / opt.n, send_cpu_us: q.cpu * 1000 / opt.n
	});
}

let botLine = 0;
async function botCmd(cmd, what) {
	const from = bot.lines.length;
	bot.write(cmd);
	const l = await bot.line(x => x.startsWith('sent ') || x.startsWith('error '), ms(), what, from);
	if (l.line.startsWith('error '))
		die(`the Baileys bot: ${l.line}`);
	botLine = l.i;
	const [, n, first, last, t0, t1] = l.line.split(' ');
	return { n: +n, first, last, t0: +t0, t1: +t1 };
}

async function baileys1(r) {
	const cpu0 = cpuMs(bot.pid);
	const s0 = await seqNow();
	const t0 = Date.now();
	const x = await botCmd(`texts ${PEER_JID} ${opt.n} b${r}`, `its ${opt.n} texts`);
	const cpu = cpuMs(bot.pid) - cpu0;
	const ev = await routed(s0, JID.baileys);
	const ids = ev.map(e => e.id);
	if (ids[0] !== x.first || ids[ids.length - 1] !== x.last)
		die(`Baileys: fakewa's first/last routed ids are not the bot's`);
	const t1 = await check1('baileys', ids, s0);
	if (ids.length !== opt.n)
		die(`Baileys: ${ids.length} routed for ${opt.n}`);
	samples.baileys.push({ kind: 'live', n: opt.n, rate: opt.n * 1000 / Math.max(1, t1 - t0), span_ms: t1 - t0, loop_ms: x.t1 - x.t0, cpu_us: cpu * 1000 / opt.n });
}

/** One group message: ms from submit to the server's ack (fakewa's routing). */
async function groupOne(c, size, kind, p) {
	const g = GROUPS[size][c];
	const s0 = await seqNow();
	let id;
	let t0;
	let cpu0;
	if (c === 'wa') {
		cpu0 = cpuMs(p.pid);
		id = `BENCH${Date.now()}${++runNo}`.slice(0, 32);
		t0 = Date.now();
		const q = spawnSync(waSend, ['-d', `${T}/wa`, '--id', id, g, `group ${size} ${kind}`], { env: { ...process.env, ...env } });
		if (q.status !== 0)
			die(`wa-send to ${g}: ${q.stderr}`);
	} else {
		cpu0 = cpuMs(bot.pid);
		t0 = Date.now();
		const x = await botCmd(`texts ${g} 1 g${size}${kind}`, 'its group text');
		id = x.first;
	}
	let ev = null;
	for (const end = Date.now() + ms(); !ev && Date.now() < end; ) {
		ev = await wait({ event: 'message-routed', 'ev.id': id, since: String(s0) }, 1000);
		const failed = c === 'wa' && p.lines.find(l => l.includes('"event":"send_failed"') && l.includes(`"${id}"`));
		if (!ev && failed) {
			const reason = /"error":"([^"]*)"/.exec(failed)?.[1] ?? failed;
			notes.add(`wa: the group messages failed: ${reason}`);
			samples[c].push({ kind: `group${size}.${kind}`, failed: reason });
			return;
		}
	}
	if (!ev)
		die(`${c}: group message ${id} to ${size} devices not routed within ${opt.timeout} s`);
	if (c === 'wa')
		await p.until(() => p.sent.has(id), ms(), `its "sent" event for ${id}`);
	const cpu = cpuMs(c === 'wa' ? p.pid : bot.pid) - cpu0;
	const info = await call('GET', `/synth?id=${id}`);
	const got = info.messages[id]?.devices ?? 0;
	if (got !== size)
		die(`${c}: group message ${id} reached ${got} of ${size} devices`);
	samples[c].push({ kind: `group${size}.${kind}`, ms: ev.t - t0, cpu_ms: cpu, skmsg: info.messages[id].skmsg, pkmsg: info.messages[id].pkmsg });
}

// ---- the runs ------------------------------------------------------------------------

const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
if (opt.clients.includes('baileys')) {
	bot = new Proc('baileys', 'node', ['bench/baileys-send.mjs', `${T}/bl`], env, 'pipe');
	await bot.line(l => l.startsWith('open '), 30000, 'open');
	await sleep(1000);
	// warm-up: the first send fetches the peer's devices and bundles
	await botCmd(`texts ${PEER_JID} 20 w`, 'its warm-up');
}
let wa = null;
if (opt.clients.includes('wa')) {
	wa = startWa();
	await waOnline(wa);
	const q = await waSendLoop(PEER_JID, 20, 'w');
	await wa.until(() => q.ids.every(id => wa.sent.has(id)), ms(), 'the warm-up sends');
}
say(`bench/send: ${opt.rounds} rounds of ${opt.n} 1:1 texts (wa queued, wa live, Baileys), then groups ${opt.groups.join(', ')}\n`);
for (let r = 1; r <= opt.rounds; r++) {
	const order = (r % 2 ? ['wa', 'baileys'] : ['baileys', 'wa']).filter(c => opt.clients.includes(c));
	for (const c of order) {
		if (c === 'baileys') {
			await baileys1(r);
			continue;
		}
		await waLive(r, wa);
		await wa.stop();
		await waQueued(r);
		wa = startWa();
		await waOnline(wa);
	}
	say('.');
}
for (const size of opt.groups) {
	for (const c of opt.clients) {
		await groupOne(c, size, 'first', wa);
		for (let i = 0; i < opt.warm && !samples[c][samples[c].length - 1].failed; i++)
			await groupOne(c, size, 'next', wa);
	}
	say('.');
}
say('\n');
if (wa)
	await wa.stop();
if (bot) {
	bot.write('quit');
	await bot.exited;
}
const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

// ---- statistics, table, JSON -----------------------------------------------------------

function q(a, p) {
	if (!a.length)
		return null;
	const s = [...a].sort((x, y) => x - y);
	const pos = (s.length - 1) * p;
	const lo = Math.floor(pos);
	return lo + 1 >= s.length ? s[s.length - 1] : s[lo] + (pos - lo) * (s[lo + 1] - s[lo]);
}
const fmt = x => x === null || x === undefined || Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
// key, wa kind, Baileys kind, label, value, ratio: 'rate' (wa/Baileys) or 'cost' (Baileys/wa)
const rows = [
	['live_rate', 'live', 'live', `1:1 ${opt.n}: messages/s to the last ack`, s => s.rate, 'rate'],
	['queued_rate', 'queued', 'live', `1:1 ${opt.n}: queued, wa-run started: msg/s`, s => s.rate, 'rate'],
	['queued_rate_online', 'queued', 'live', '  the same from wa-run online: msg/s', s => s.rate_online ?? s.rate, 'rate'],
	['live_cpu_us', 'live', 'live', '1:1: CPU us/message (wa: run + send)', s => s.cpu_us, 'cost'],
	['live_run_cpu_us', 'live', null, '  wa-run alone (live): CPU us/message', s => s.run_cpu_us ?? s.cpu_us, 'cost'],
	['queued_cpu_us', 'queued', 'live', '  wa-run alone (queued): CPU us/message', s => s.cpu_us, 'cost'],
	['send_rate', 'queued', null, 'wa-send alone: jobs/s (one process each)', s => s.send_rate, null],
	['send_cpu_us', 'queued', null, 'wa-send alone: CPU us/job', s => s.send_cpu_us, null]
];
for (const size of opt.groups) {
	rows.push([`group${size}_first_ms`, `group${size}.first`, `group${size}.first`, `group ${size} devices: first message, ms to ack`, s => s.ms, 'cost']);
	rows.push([`group${size}_next_ms`, `group${size}.next`, `group${size}.next`, `group ${size}: next message (skmsg), ms to ack`, s => s.ms, 'cost']);
	rows.push([`group${size}_first_cpu`, `group${size}.first`, `group${size}.first`, `group ${size}: first message, CPU ms`, s => s.cpu_ms, 'cost']);
}
const W = 44;
const metrics = {};
const lines = [];
lines.push(`${''.padEnd(W)} ${'wa'.padStart(8)} ${''.padStart(8)} ${''.padStart(8)}   ${'Baileys'.padStart(8)} ${''.padStart(8)} ${''.padStart(8)}   ratio`);
lines.push(`${''.padEnd(W)} ${'median'.padStart(8)} ${'p10'.padStart(8)} ${'p90'.padStart(8)}   ${'median'.padStart(8)} ${'p10'.padStart(8)} ${'p90'.padStart(8)}   (medians)`);
for (const [key, wk, bk, label, val, how] of rows) {
	const m = {};
	let line = label.padEnd(W);
	for (const [c, kind] of [['wa', wk], ['baileys', bk]]) {
		const v = kind ? samples[c].filter(s => s.kind === kind && !s.failed).map(val).filter(x => x !== undefined && x !== null) : [];
		m[c] = { median: q(v, 0.5), p10: q(v, 0.1), p90: q(v, 0.9), n: v.length };
		const na = c === 'wa' && waWhy ? 'n/a' : '-';
		line += v.length ? ` ${fmt(m[c].median).padStart(8)} ${fmt(m[c].p10).padStart(8)} ${fmt(m[c].p90).padStart(8)}  ` : ` ${na.padStart(8)} ${''.padStart(8)} ${''.padStart(8)}  `;
	}
	m.ratio = m.wa.median === null || m.baileys.median === null ? null
		: how === 'rate' ? m.wa.median / m.baileys.median : how === 'cost' ? m.baileys.median / m.wa.median : null;
	m.ratio_is = how === 'rate' ? 'wa/baileys' : how === 'cost' ? 'baileys/wa' : null;
	if (m.ratio !== null && !Number.isFinite(m.ratio))
		m.ratio = null;
	line += m.ratio === null ? ' -' : ` ${m.ratio.toFixed(1)}x ${how === 'rate' ? 'wa/B' : 'B/wa'}`;
	metrics[key] = m;
	lines.push(line);
}
const CPU = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name[^:]*: *(.*)$/m) ?? [])[1] ?? '?';
const machine = `${CPU}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${os.release()}, node ${process.version}`;
let commit = spawnSync('git', ['rev-parse', '--short', 'HEAD']).stdout?.toString().trim() || 'unknown';
if (spawnSync('git', ['status', '--porcelain', '--', 'cmd', 'lib', 'proto']).stdout?.toString().trim())
	commit += '-dirty';
const fs0 = spawnSync('df', ['-T', T]).stdout?.toString().split('\n')[1]?.split(/\s+/)[1] ?? '?';

const out = [];
out.push(`sending: wa (wa-send + wa-run) vs a Baileys bot on fakewa (loopback), ${opt.rounds} rounds of ${opt.n}; ${new Date().toISOString()}`);
out.push(`machine: ${machine}; load ${load0} -> ${load1}; folders on ${fs0}`);
out.push(waWhy ? `wa: n/a (${waWhy})` : `wa: ${waRun} -d DIR and ${waSend} -d DIR TO TEXT (source ${commit})`);
out.push(`Baileys ${BAILEYS}: node bench/baileys-send.mjs DIR (sendMessage in a loop, each awaited)`);
out.push(`receivers: fakewa's synthetic devices (counted, not connected): a peer with 2 devices; groups of ${opt.groups.join(', ')} devices (4 per account)`);
out.push('');
out.push(...lines);
out.push('');
out.push(...notes);
const g1000 = metrics.group1000_first_ms;
const tgt = [];
if (g1000)
	tgt.push([`a 1000-device group message in under 1 s (wa, first message)`, g1000.wa.median !== null ? g1000.wa.median < 1000 : null]);
tgt.push([`1:1 throughput >= 5x Baileys (live)`, metrics.live_rate.ratio === null ? null : metrics.live_rate.ratio >= 5]);
out.push(`targets (issue 13, medians; reported, not asserted): ${tgt.map(([t, ok]) => `${t}: ${ok === null ? 'n/a' : ok ? 'met' : 'MISSED'}`).join('; ')}`);
out.push('every run checked: fakewa routed each id once, to every receiving device; wa: a "sent" event per job, new/ empty');
console.log(out.join('\n'));

const json = {
	date: new Date().toISOString(), machine, load: [load0, load1], filesystem: fs0, commit, wa: waWhy ? null : { run: waRun, send: waSend }, wa_missing: waWhy,
	baileys: BAILEYS, settings: { rounds: opt.rounds, n: opt.n, groups: opt.groups, warm: opt.warm },
	metrics, targets: Object.fromEntries(tgt.map(([t, ok]) => [t, ok])), samples
};
mkdirSync(path.dirname(opt.out), { recursive: true });
writeFileSync(`${opt.out}.tmp`, JSON.stringify(json, null, 1) + '\n');
renameSync(`${opt.out}.tmp`, opt.out);
console.log(`\nbench/send: results in ${opt.out}`);
await fwProc.stop();
process.exit(0);

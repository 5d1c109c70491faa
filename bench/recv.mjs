#!/usr/bin/env node
// recv.mjs - the receive benchmark (issue 11): a flood of messages from
// several senders through fakewa to wa-run and to a Baileys bot, and the
// offline backlog each drains after a restart.  The last section of
// bench/run (BENCH_RECV=0 leaves it out); see bench/README, "Receiving".
//
//	node bench/recv.mjs [--rounds R] [--live N] [--backlog N] [--senders K]
//	                    [--dir DIR] [--out FILE] [--wa BIN] [--timeout S]
//	                    [--clients wa,baileys]
//
// One fakewa (its own, started here), two accounts paired through its
// phone: wa's folder by wa-pair, the bot's by bench/baileys-recv.mjs,
// both in a fresh folder under DIR (default build/bench: the build disk,
// not tmpfs).  A warm-up flood to each (every sender's first message is
// a pkmsg), then R rounds, the clients alternating (wa first in odd
// rounds, Baileys first in even ones), each round:
//   live     start the client, wait until fakewa has its <active/>
//            (event offline-flushed) and one second more; flood N
//            messages from K senders (POST /floods: all encrypted first,
//            then routed in one burst); wait until fakewa has every one
//            acked.  rate = N / (last ackedAt - first queuedAt), fakewa's
//            clock; CPU of the client's process over the flood (utime +
//            stime, or its threads' schedstat when larger), per message;
//            its VmHWM; fakewa's own CPU over the same window.
//   backlog  with the client stopped, flood N messages (queued), start
//            it, wait for every ack: the time from fakewa's websocket
//            "connected" of the client's login to the last ack (and from
//            process start); wa-run's own "offline" event (count, ms).
// After each run the client gets SIGTERM, and the messages are checked:
// wa's inbox (a fresh --inbox per run) holds exactly N files, every id
// of the flood once; the bot saw exactly N messages, every id once.
// Before and after the rounds: the raw batched durable-write rate of the
// same disk (build/tests/wa-spool-tool bench, as bench/spool-rate: 2 KB
// files in batches of 100, one syncfs, and one fsync per file; best of 3).
//
// Prints a table (median, p10, p90 of each client; wa/Baileys for rates,
// Baileys/wa for costs) and writes FILE (build/bench/results-recv.json).
// Exit 1 when something failed (a client did not come online, messages
// were lost or doubled, a timeout).

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
		process.stderr.write(`bench/recv: ${msg}\n`);
	process.stderr.write('usage: node bench/recv.mjs [--rounds R] [--live N] [--backlog N] [--senders K] [--dir DIR] [--out FILE] [--wa BIN] [--timeout S] [--clients wa,baileys]\n');
	process.exit(2);
}
const opt = { rounds: 3, live: 5000, backlog: 3000, senders: 8, dir: 'build/bench', out: 'build/bench/results-recv.json', wa: 'build/bin/wa-run', timeout: 120, clients: 'wa,baileys' };
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
	if (opt.senders > 64)
		usage('--senders is at most 64');
	opt.clients = opt.clients.split(',');
	if (!opt.clients.length || opt.clients.some(c => c !== 'wa' && c !== 'baileys'))
		usage('--clients is wa, baileys or both (comma-separated)');
}
const die = msg => { process.stderr.write(`bench/recv: ${msg}\n`); process.exit(1); };
const sleep = ms => new Promise(r => setTimeout(r, ms));
const say = msg => process.stderr.write(msg);

for (const f of [opt.wa, 'build/bin/wa-pair'])
	if (!existsSync(f))
		die(`${f} is missing: make`);
if (!existsSync('tests/fakewa/node_modules/baileys'))
	die('tests/fakewa/node_modules is missing: npm ci in tests/fakewa (scripts/install-deps)');
let spoolTool = 'build/tests/wa-spool-tool';
if (!existsSync(spoolTool) && spawnSync('make', ['-s', spoolTool], { stdio: 'ignore' }).status !== 0)
	spoolTool = null;

mkdirSync(opt.dir, { recursive: true });
const T = mkdtempSync(path.join(path.resolve(opt.dir), 'recv.'));
const children = new Set();
const keep = !!process.env.BENCH_RECV_KEEP; // leave the folders (diagnosis)
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

/** CPU ms of a process so far: utime+stime (all threads, also ended
 * ones), or the sum of its live threads' schedstat (ns) when larger. */
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
function hwmKiB(pid) {
	const m = /^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	return m ? +m[1] : 0;
}

/** A child with its stdout read line by line; stderr to a file. */
class Proc {
	constructor(name, cmd, args, env = {}) {
		this.name = name;
		this.errFile = path.join(T, `${name}.err`);
		const err = openSync(this.errFile, 'a');
		this.child = spawn(cmd, args, { stdio: ['ignore', 'pipe', err], env: { ...process.env, ...env } });
		closeSync(err);
		this.pid = this.child.pid;
		this.startedAt = Date.now();
		children.add(this.child);
		this.lines = [];
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
	/** The first line (from index `from`) for which pred is true. */
	async line(pred, ms, what) {
		const end = Date.now() + ms;
		for (let i = 0; ; ) {
			for (; i < this.lines.length; i++)
				if (pred(this.lines[i]))
					return this.lines[i];
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
	async stop() {
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
const wait = (q, ms) => call('GET', `/wait?${new URLSearchParams({ ...q, timeout_ms: String(ms) })}`);
const seqNow = async () => (await call('GET', '/info')).seq;

// BENCH_RECV_FAKEWA_NODE: extra node options for fakewa (e.g. --cpu-prof)
const fwNode = (process.env.BENCH_RECV_FAKEWA_NODE ?? '').split(' ').filter(Boolean);
const fwProc = new Proc('fakewa', 'node', [...fwNode, 'tests/fakewa/server.mjs', '--config', 'logNodes=false'], { FAKEWA_QUIET: '1' });
FW = JSON.parse(await fwProc.line(l => l.startsWith('{'), 30000, 'its startup line'));
const env = { WA_SERVER_URL: FW.ws, WA_SERVER_ROOT_KEY: FW.rootPub };
const BAILEYS = JSON.parse(readFileSync('tests/fakewa/node_modules/baileys/package.json', 'utf8')).version;

// ---- pairing -------------------------------------------------------------------------
//
// Two accounts (phone numbers) on the simulated phone, one device each,
// so a flood to one reaches only that client.  The flood senders are
// other accounts (15559990000 + k).

const PHONE = { wa: '15551110001', baileys: '15552220002' };
say(`bench/recv: fakewa ${FW.ws}; pairing wa (${PHONE.wa}) and Baileys ${BAILEYS} (${PHONE.baileys}) in ${T}\n`);
const JID = {};
{
	const p = new Proc('wa-pair', 'build/bin/wa-pair', ['-d', `${T}/wa`, '--qr-text', '-t', '30'], env);
	const qr = await p.line(l => l.startsWith('https://wa.me/'), 30000, 'a QR');
	await call('POST', '/phone/scan', { qr, phone: PHONE.wa });
	const l = await p.line(l => l.startsWith('linked '), 30000, 'linked');
	await p.exited;
	if (p.code !== 0)
		die(`wa-pair failed: ${p.stderr()}`);
	JID.wa = l.slice(7).split(',')[0].trim();
}
{
	const p = new Proc('baileys-pair', 'node', ['bench/baileys-recv.mjs', '--pair', `${T}/bl`], env);
	const qr = await p.line(l => l.startsWith('qr '), 30000, 'a QR');
	await call('POST', '/phone/scan', { qr: qr.slice(3), phone: PHONE.baileys });
	const l = await p.line(l => l.startsWith('open ') || l.startsWith('close '), 30000, 'open');
	await p.exited;
	if (p.code !== 0 || !l.startsWith('open '))
		die(`Baileys did not pair: ${l} ${p.stderr()}`);
	JID.baileys = l.slice(5).trim();
}
// the device JIDs as fakewa keeps them (PN, with the device)
for (const c of ['wa', 'baileys']) {
	const a = await call('GET', `/accounts/${PHONE[c]}@s.whatsapp.net`);
	const d = (a.devices ?? [a]).filter(x => !x.removed);
	if (d.length !== 1)
		die(`account ${PHONE[c]} has ${d.length} devices`);
	JID[c] = d[0].jid;
}
say(`bench/recv: wa is ${JID.wa}, Baileys is ${JID.baileys}\n`);

// ---- one client run ------------------------------------------------------------------

let runNo = 0;
function startClient(c, expect) {
	runNo++;
	if (c === 'wa') {
		const inbox = `${T}/inbox.${runNo}`;
		const p = new Proc(`wa-run.${runNo}`, opt.wa, ['-v', '-d', `${T}/wa`, '--inbox', inbox], env);
		// keep the events the driver reads; count the message events
		p.messages = 0;
		p.filter = l => {
			if (l.includes('"event":"message"')) {
				p.messages++;
				return false;
			}
			return true;
		};
		p.inbox = inbox;
		return p;
	}
	const p = new Proc(`baileys.${runNo}`, 'node', ['bench/baileys-recv.mjs', '--expect', String(expect), '--ids', `${T}/ids.${runNo}`, `${T}/bl`], env);
	p.idsFile = `${T}/ids.${runNo}`;
	return p;
}

/** The ids a stopped client stored or handed to its app. */
function received(c, p) {
	if (c === 'baileys')
		return readFileSync(p.idsFile, 'utf8').split('\n').filter(Boolean);
	const dir = `${p.inbox}/new`;
	return readdirSync(dir).map(f => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')).id);
}

/** fakewa's entries of a flood to jid, once every one is acked. */
async function floodAcked(jid, fl, since, ms) {
	const end = Date.now() + ms;
	if (!await wait({ event: 'message-acked', 'ev.device': jid, 'ev.id': fl.last, since: String(since) }, ms))
		die(`the last message of a flood to ${jid} was not acked within ${ms / 1000} s`);
	for (;;) {
		const { entries } = await call('GET', `/messages?device=${encodeURIComponent(jid)}&kind=message`);
		const i = entries.findIndex(e => e.id === fl.first);
		const list = i < 0 ? [] : entries.slice(i, i + fl.count);
		if (list.length !== fl.count || list[list.length - 1].id !== fl.last)
			die(`fakewa holds ${list.length} entries of a flood of ${fl.count} to ${jid}`);
		const open = list.filter(e => e.state !== 'acked').length;
		if (!open)
			return list;
		if (Date.now() > end)
			die(`${open} of ${fl.count} messages to ${jid} not acked within ${ms / 1000} s`);
		await wait({ event: 'message-acked', 'ev.device': jid, since: String(await seqNow()) }, 1000);
	}
}

/** wa-run -v's line at exit: its group commits and where the time went. */
function commits(p) {
	const m = /inbox: (\d+) stanzas in (\d+) group commits \(largest (\d+)\); (\d+) ms taking them \(decrypt, stage\), (\d+) ms committing/
		.exec(readFileSync(p.errFile, 'utf8'));
	return m ? { stanzas: +m[1], commits: +m[2], largest: +m[3], take_ms: +m[4], commit_ms: +m[5] } : null;
}

/** Baileys may ack a message before its app sees it (during the offline
 * backlog its events are buffered until <ib><offline>): wait for the
 * bot's "have N T" before stopping it.  Returns T - the last ack (ms,
 * negative: the app had them first); wa: null (its message event comes
 * before the receipt, by design). */
async function appLag(c, p, n, lastAck) {
	if (c !== 'baileys')
		return null;
	const l = await p.line(x => x.startsWith(`have ${n} `), ms(), `its app having all ${n} messages`);
	return +l.split(' ')[2] - lastAck;
}

/** Check what the client got against the flood; returns a note or dies. */
function check(c, p, list) {
	const want = new Set(list.map(e => e.id));
	const got = received(c, p);
	const seen = new Set();
	let dup = 0;
	let foreign = 0;
	for (const id of got) {
		if (seen.has(id))
			dup++;
		seen.add(id);
		if (!want.has(id))
			foreign++;
	}
	const missing = [...want].filter(id => !seen.has(id)).length;
	if (got.length !== want.size || dup || foreign || missing)
		die(`${c} run ${p.name}: ${got.length} messages for ${want.size} sent: ${missing} missing, ${dup} twice, ${foreign} not of this flood`);
	return got.length;
}

let floodNo = 0;
async function flood(jid, count) {
	floodNo++;
	return call('POST', '/floods', { to: jid, count, senders: opt.senders, text: `f${floodNo}` });
}

const samples = { wa: [], baileys: [] };
const ms = () => opt.timeout * 1000;

async function live(c, record = true, count = opt.live) {
	const jid = JID[c];
	const s0 = await seqNow();
	const p = startClient(c, count);
	if (!await wait({ event: 'offline-flushed', 'ev.device': jid, since: String(s0) }, 30000))
		die(`${c} did not become active within 30 s: ${p.stderr()}`);
	await sleep(1000);
	// BENCH_RECV_ATTACH='CMD ARGS': a tracer attached to the client over
	// each measured live flood, %p its pid, %n "wa.RUN" or "baileys.RUN"
	// (diagnosis: e.g. 'perf record -g -o /tmp/%n.data -p %p' or
	// 'strace -f -c -o /tmp/%n.strace -p %p'), ended with SIGINT; the
	// figures of such a run include the tracer's overhead
	let perf = null;
	if (process.env.BENCH_RECV_ATTACH && record) {
		const [cmd, ...args] = process.env.BENCH_RECV_ATTACH.split(' ').filter(Boolean)
			.map(x => x.replaceAll('%p', String(p.pid)).replaceAll('%n', `${c}.${runNo}`));
		perf = new Proc(`attach.${runNo}`, cmd, args);
		await sleep(1000);
	}
	const cpu0 = cpuMs(p.pid);
	const fcpu0 = cpuMs(fwProc.pid);
	const s1 = await seqNow();
	const fl = await flood(jid, count);
	const list = await floodAcked(jid, fl, s1, ms());
	const cpu1 = cpuMs(p.pid);
	const fcpu1 = cpuMs(fwProc.pid);
	if (perf) {
		perf.child.kill('SIGINT');
		await perf.exited;
	}
	const hwm = hwmKiB(p.pid);
	const t0 = Math.min(...list.map(e => e.queuedAt));
	const t1 = Math.max(...list.map(e => e.ackedAt));
	const lag = await appLag(c, p, count, t1);
	await p.stop();
	const n = check(c, p, list);
	if (c === 'wa' && p.messages !== n)
		die(`wa-run printed ${p.messages} message events for ${n} messages`);
	if (!record)
		return;
	samples[c].push({
		kind: 'live', n: count, rate: count * 1000 / Math.max(1, t1 - t0), span_ms: t1 - t0,
		route_ms: fl.routeMs, encrypt_ms: fl.encryptMs,
		cpu_us: (cpu1 - cpu0) * 1000 / count, hwm_kib: hwm, fakewa_cpu_us: (fcpu1 - fcpu0) * 1000 / count, app_lag_ms: lag,
		commits: c === 'wa' ? commits(p) : null
	});
}

async function backlog(c) {
	const jid = JID[c];
	const s0 = await seqNow();
	const fl = await flood(jid, opt.backlog);
	const t0 = Date.now();
	const p = startClient(c, opt.backlog);
	const list = await floodAcked(jid, fl, s0, ms());
	const cpu = cpuMs(p.pid);
	const hwm = hwmKiB(p.pid);
	const t1 = Math.max(...list.map(e => e.ackedAt));
	if (list.some(e => !e.offline))
		die(`${c}: a backlog message was delivered live: was the client still connected?`);
	const login = (await call('GET', `/log?event=login&since=${s0}`)).events.filter(e => e.jid === jid && e.accepted).pop();
	if (!login)
		die(`no login of ${jid} in fakewa's log`);
	const conn = (await call('GET', `/log?event=connected&conn=${login.conn}`)).events.pop();
	const flushed = (await call('GET', `/log?event=offline-flushed&conn=${login.conn}`)).events.pop();
	let off = null;
	if (c === 'wa') {
		const l = await p.line(x => x.includes('"event":"offline"'), 10000, 'its offline event');
		const e = JSON.parse(l);
		off = { count: e.count, ms: e.ms };
	}
	const lag = await appLag(c, p, opt.backlog, t1);
	await p.stop();
	check(c, p, list);
	samples[c].push({
		app_lag_ms: lag,
		kind: 'backlog', n: opt.backlog, drain_ms: t1 - conn.t, start_ms: t1 - t0, login_ms: login.t - conn.t,
		flushed: flushed?.count ?? null, rate: opt.backlog * 1000 / Math.max(1, t1 - conn.t),
		cpu_us: cpu * 1000 / opt.backlog, hwm_kib: hwm, offline: off, commits: c === 'wa' ? commits(p) : null
	});
}

// ---- the disk: batched durable writes (bench/spool-rate) -------------------------------

function spoolRate() {
	if (!spoolTool)
		return null;
	const r = {};
	for (const [k, s] of [['syncfs', '1'], ['fsync', '0']]) {
		let best = 0;
		for (let i = 0; i < 3; i++) {
			const d = mkdtempSync(path.join(T, 'spool.'));
			const x = spawnSync(spoolTool, ['bench', '-s', s, `${d}/in`, '100', '2000']);
			rmSync(d, { recursive: true, force: true });
			if (x.status !== 0)
				die(`${spoolTool} bench failed: ${x.stderr}`);
			best = Math.max(best, +x.stdout.toString().trim());
		}
		r[k] = best;
	}
	return r;
}

// ---- the runs ------------------------------------------------------------------------

const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
say(`bench/recv: the disk's batched durable-write rate (wa-spool-tool bench, batches of 100)\n`);
const disk0 = spoolRate();
say(`bench/recv: warm-up (200 messages each), then ${opt.rounds} rounds: live ${opt.live} from ${opt.senders} senders, backlog ${opt.backlog}\n`);
for (const c of opt.clients)
	await live(c, false, 200);
for (let i = 1; i <= opt.rounds; i++) {
	const order = (i % 2 ? ['wa', 'baileys'] : ['baileys', 'wa']).filter(c => opt.clients.includes(c));
	for (const c of order)
		await live(c);
	for (const c of order)
		await backlog(c);
	say('.');
}
say('\n');
const disk1 = spoolRate();
const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const disk = disk0 && { syncfs: Math.max(disk0.syncfs, disk1.syncfs), fsync: Math.max(disk0.fsync, disk1.fsync), runs: [disk0, disk1] };

// ---- statistics, table, JSON -----------------------------------------------------------

function q(a, p) {
	const s = [...a].sort((x, y) => x - y);
	const pos = (s.length - 1) * p;
	const lo = Math.floor(pos);
	return lo + 1 >= s.length ? s[s.length - 1] : s[lo] + (pos - lo) * (s[lo + 1] - s[lo]);
}
const fmt = x => x === null || x === undefined || Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
const rows = [
	// key, kind, label, value, ratio: 'rate' (wa/Baileys) or 'cost' (Baileys/wa)
	['live_rate', 'live', `live ${opt.live}: messages/s`, s => s.rate, 'rate'],
	['live_cpu_us', 'live', 'live: CPU us/message', s => s.cpu_us, 'cost'],
	['live_hwm_mib', 'live', 'live: peak RSS (MiB)', s => s.hwm_kib / 1024, 'cost'],
	['live_fakewa_cpu_us', 'live', 'live: fakewa CPU us/message', s => s.fakewa_cpu_us, null],
	['backlog_drain_ms', 'backlog', `backlog ${opt.backlog}: connected to last ack (ms)`, s => s.drain_ms, 'cost'],
	['backlog_start_ms', 'backlog', 'backlog: process start to last ack (ms)', s => s.start_ms, 'cost'],
	['backlog_rate', 'backlog', 'backlog: messages/s (from connected)', s => s.rate, 'rate'],
	['backlog_cpu_us', 'backlog', 'backlog: CPU us/message (whole process)', s => s.cpu_us, 'cost'],
	['backlog_hwm_mib', 'backlog', 'backlog: peak RSS (MiB)', s => s.hwm_kib / 1024, 'cost']
];
const metrics = {};
const lines = [];
lines.push(`${''.padEnd(44)} ${'wa'.padStart(8)} ${''.padStart(8)} ${''.padStart(8)}   ${'Baileys'.padStart(8)} ${''.padStart(8)} ${''.padStart(8)}   ratio`);
lines.push(`${''.padEnd(44)} ${'median'.padStart(8)} ${'p10'.padStart(8)} ${'p90'.padStart(8)}   ${'median'.padStart(8)} ${'p10'.padStart(8)} ${'p90'.padStart(8)}   (medians)`);
for (const [key, kind, label, val, how] of rows) {
	const m = {};
	let line = label.padEnd(44);
	for (const c of ['wa', 'baileys']) {
		const v = samples[c].filter(s => s.kind === kind).map(val);
		m[c] = { median: q(v, 0.5), p10: q(v, 0.1), p90: q(v, 0.9) };
		line += ` ${fmt(m[c].median).padStart(8)} ${fmt(m[c].p10).padStart(8)} ${fmt(m[c].p90).padStart(8)}  `;
	}
	m.ratio = how === 'rate' ? m.wa.median / m.baileys.median : how === 'cost' ? m.baileys.median / m.wa.median : null;
	m.ratio_is = how === 'rate' ? 'wa/baileys' : how === 'cost' ? 'baileys/wa' : null;
	if (m.ratio !== null && !Number.isFinite(m.ratio))
		m.ratio = null;
	line += m.ratio === null ? ' -' : ` ${m.ratio.toFixed(1)}x ${how === 'rate' ? 'wa/B' : 'B/wa'}`;
	metrics[key] = m;
	lines.push(line);
}
const waLive = metrics.live_rate.wa.median;
const off = samples.wa.filter(s => s.kind === 'backlog' && s.offline);
const CPU = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name[^:]*: *(.*)$/m) ?? [])[1] ?? '?';
const machine = `${CPU}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${os.release()}, node ${process.version}`;
let commit = spawnSync('git', ['rev-parse', '--short', 'HEAD']).stdout?.toString().trim() || 'unknown';
if (spawnSync('git', ['status', '--porcelain', '--', 'cmd', 'lib', 'proto']).stdout?.toString().trim())
	commit += '-dirty';
const fs0 = spawnSync('df', ['-T', T]).stdout?.toString().split('\n')[1]?.split(/\s+/)[1] ?? '?';

const out = [];
out.push(`receiving: wa-run vs a Baileys bot on fakewa (loopback), ${opt.rounds} rounds, alternating; ${new Date().toISOString()}`);
out.push(`machine: ${machine}; load ${load0} -> ${load1}; folders on ${fs0}`);
out.push(`wa: ${opt.wa} -d DIR --inbox DIR (source ${commit}); Baileys ${BAILEYS}: node bench/baileys-recv.mjs DIR`);
out.push(`floods from ${opt.senders} senders (fakewa's libsignal-node; encrypted first, then routed in one burst)`);
out.push('');
out.push(...lines);
out.push('');
for (const kind of ['live', 'backlog']) {
	const cs = samples.wa.filter(s => s.kind === kind && s.commits).map(s => s.commits);
	if (!cs.length)
		continue;
	const med = f => q(cs.map(f), 0.5);
	out.push(`wa-run ${kind} (wa-run -v at exit, medians): ${fmt(med(x => x.stanzas / x.commits))} stanzas per group commit ` +
		`(largest ${fmt(med(x => x.largest))}); per stanza ${fmt(med(x => x.take_ms * 1000 / x.stanzas))} us taking ` +
		`(decrypt, stage the inbox file), ${fmt(med(x => x.commit_ms * 1000 / x.stanzas))} us committing and replying`);
}
for (const kind of ['live', 'backlog']) {
	const v = samples.baileys.filter(s => s.kind === kind).map(s => s.app_lag_ms);
	if (v.length)
		out.push(`Baileys ${kind}: its app had the last message ${v.join(', ')} ms after fakewa had the last ack (negative: before; wa-run's message events come before its receipts, by design)`);
}
if (off.length)
	out.push(`wa-run's offline event: count ${off.map(s => s.offline.count).join(', ')}; ms ${off.map(s => s.offline.ms).join(', ')}`);
if (disk) {
	out.push(`disk (${fs0}), 2 KB files in batches of 100, best of 3: ${disk.syncfs}/s with one syncfs a batch, ${disk.fsync}/s with an fsync per file`);
	out.push(`wa's live rate is ${(100 * waLive / disk.syncfs).toFixed(0)} % of the first (each message also rewrites its sender's session file)`);
}
const tgt = [
	[`wa >= 2000 messages/s durable`, waLive >= 2000],
	[`wa >= 5x Baileys' rate`, metrics.live_rate.ratio >= 5],
	[`backlog of ${opt.backlog} drained in under 3 s`, metrics.backlog_drain_ms.wa.median < 3000]
];
out.push(`targets (issue 11, medians): ${tgt.map(([t, ok]) => `${t}: ${ok ? 'met' : 'MISSED'}`).join('; ')}`);
out.push(`every run checked: exactly the flood's messages, each once (wa: files in its inbox's new/; Baileys: ids upserted)`);
console.log(out.join('\n'));

const json = {
	date: new Date().toISOString(), machine, load: [load0, load1], filesystem: fs0, commit, wa: opt.wa, baileys: BAILEYS,
	settings: { rounds: opt.rounds, live: opt.live, backlog: opt.backlog, senders: opt.senders },
	disk, metrics, targets: Object.fromEntries(tgt.map(([t, ok]) => [t, ok])), samples
};
mkdirSync(path.dirname(opt.out), { recursive: true });
writeFileSync(`${opt.out}.tmp`, JSON.stringify(json, null, 1) + '\n');
renameSync(`${opt.out}.tmp`, opt.out);
console.log(`\nbench/recv: results in ${opt.out}`);
await fwProc.stop();
process.exit(0);

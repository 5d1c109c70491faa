// signal-lib.mjs - driving processes that speak the Signal test contract
// (tests/fakewa/signal-node.mjs, tests/helpers/wa-signal.c) from Node:
// used by signal-drive.mjs (the 40xx tests) and bench/signal-node.mjs.
//
// An Endpoint is one auth folder served by one implementation at a time:
// start() spawns `node signal-node.mjs -d DIR` (impl "node") or
// `wa-signal -d DIR` (impl "c": $WA_SIGNAL_C, else wa-signal on PATH),
// req() sends one request line and resolves with its response line,
// stop() sends quit and wants exit status 0.  Handing a folder over is
// stop() then start(impl) on the same folder.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const SIGNAL_NODE = join(HERE, 'signal-node.mjs');
const TIMEOUT_MS = Number(process.env.WA_SIGNAL_TIMEOUT_MS || 120000);

export function implCommand(impl) {
	if (impl === 'node') return [process.execPath, [SIGNAL_NODE]];
	if (impl === 'c') return [process.env.WA_SIGNAL_C || 'wa-signal', []];
	throw new Error(`implementation '${impl}' is neither node nor c`);
}

export class Endpoint {
	constructor(label, dir) {
		this.label = label;
		this.dir = dir;
		this.proc = null;
		this.impl = null;
		this.starts = 0;
		this.reopens = 0;
		this.parked = null;
		const creds = JSON.parse(readFileSync(join(dir, 'creds.json'), 'utf-8'));
		this.me = creds.me;
		this.identityKey = Buffer.concat([Buffer.from([5]), Buffer.from(creds.signedIdentityKey.public.data, 'base64')]).toString('base64');
	}

	// extra: more arguments (wa-signal -n: never commit, for benchmarks)
	start(impl, extra = []) {
		if (this.proc) throw new Error(`${this.label}: already running (${this.impl})`);
		const [cmd, args] = implCommand(impl);
		const p = spawn(cmd, [...args, ...extra, '-d', this.dir], { stdio: ['pipe', 'pipe', 'pipe'] });
		const c = { proc: p, impl, pending: [], stderr: '' };
		p.stderr.on('data', (d) => { c.stderr = (c.stderr + d).slice(-4000); });
		p.stdin.on('error', () => {});
		c.exited = new Promise((resolve) => {
			p.on('error', (e) => { c.spawnError = e; });
			p.on('close', (code, sig) => {
				for (const w of c.pending.splice(0)) w.reject(new Error(`${this.label} (${impl}) exited (${code ?? sig}) with a request open: ${c.stderr.trim()}`));
				resolve({ code, sig });
			});
		});
		readline.createInterface({ input: p.stdout, crlfDelay: Infinity }).on('line', (line) => {
			const w = c.pending.shift();
			if (!w) { c.stray = line; return; }
			try { w.resolve(JSON.parse(line)); } catch (e) { w.reject(new Error(`${this.label} (${impl}): response is not JSON: ${line.slice(0, 200)}`)); }
		});
		this.starts++;
		this.use(c);
		return this;
	}

	use(c) {
		this.c = c;
		this.proc = c ? c.proc : null;
		this.impl = c ? c.impl : null;
	}
	get stderr() { return this.c?.stderr ?? ''; }

	// One request; resolves with the response object (ok or not).  A
	// program that does not answer within WA_SIGNAL_TIMEOUT_MS (120000) is
	// killed and the request fails naming it.
	req(o) {
		if (!this.proc) throw new Error(`${this.label}: not running`);
		const c = this.c;
		const line = typeof o === 'string' ? o : JSON.stringify(o);
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				reject(new Error(`${this.label} (${c.impl}): no answer in ${TIMEOUT_MS} ms to ${line.slice(0, 120)}`));
				c.proc.kill('SIGKILL');
			}, TIMEOUT_MS);
			c.pending.push({
				resolve: (v) => { clearTimeout(timer); resolve(v); },
				reject: (e) => { clearTimeout(timer); reject(e); }
			});
			c.proc.stdin.write(line + '\n');
		});
	}

	// One request that must succeed.
	async call(o) {
		const r = await this.req(o);
		if (!r || r.ok !== true) {
			const e = new Error(`${this.label} (${this.impl}) ${o.op}: ${r?.error}: ${r?.detail}`);
			e.response = r;
			throw e;
		}
		return r;
	}

	async stop() {
		if (this.proc) {
			const c = this.c;
			c.proc.stdin.end(JSON.stringify({ op: 'quit' }) + '\n');
			const { code, sig } = await c.exited;
			this.use(null);
			if (code !== 0) throw new Error(`${this.label} (${c.impl}) quit with status ${code ?? sig}: ${c.stderr.trim()}`);
		}
		if (this.parked) { const p = this.parked; this.parked = null; this.use(p); await this.stop(); }
	}

	// Hand the folder over to `impl`.  A signal-node.mjs process is not
	// ended but parked (it holds no file open between requests) and later
	// told to reopen the folder: useMultiFileAuthState, the key-store
	// wrappers and the repository made anew, everything cached dropped,
	// as a restart would, without Node's half-second start.  restart: end
	// a Node process too.
	async handover(impl, { restart = false } = {}) {
		if (this.proc && this.impl === 'node' && !restart && !this.parked) {
			this.parked = this.c;
			this.use(null);
		} else if (this.proc) {
			const parked = this.parked; this.parked = null;
			await this.stop();
			this.parked = parked;
		}
		if (impl === 'node' && this.parked && !restart) {
			this.use(this.parked);
			this.parked = null;
			this.reopens++;
			await this.call({ op: 'reopen' });
			return;
		}
		if (impl === 'node' && this.parked) {
			const p = this.parked; this.parked = null;
			const cur = this.c; this.use(p); await this.stop(); this.use(cur);
		}
		this.start(impl);
	}

	kill() {
		for (const c of [this.c, this.parked]) if (c?.proc) c.proc.kill('SIGKILL');
		this.use(null);
		this.parked = null;
	}

	// Our address as the others name us: the phone-number device JID.
	get jid() { return this.me.id; }
	get lidJid() { return this.me.lid; }
}

// ---- small things ------------------------------------------------------------------

export const b64 = (s) => Buffer.from(s).toString('base64');
export const text = (b) => Buffer.from(b, 'base64').toString('utf-8');

// A seeded PRNG (xorshift128+ on a SHA-256 of the seed), for repeatable runs.
export function rng(seed) {
	const h = createHash('sha256').update(String(seed)).digest();
	let s0 = h.readBigUInt64LE(0) | 1n;
	let s1 = h.readBigUInt64LE(8) | 1n;
	const M = (1n << 64n) - 1n;
	const next = () => {
		let x = s0; const y = s1;
		s0 = y; x ^= (x << 23n) & M; x ^= x >> 17n; x ^= y ^ (y >> 26n); s1 = x;
		return Number(((s0 + s1) & M) >> 11n) / 2 ** 53;
	};
	return {
		next,
		int: (n) => Math.floor(next() * n),
		shuffle(a) { for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(next() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; } return a; }
	};
}

// Every file of a folder (not wa's .wa/) with a hash of its content.
export function folderState(dir) {
	const out = {};
	for (const f of readdirSync(dir).sort()) {
		if (f === '.wa') continue;
		let data;
		try { data = readFileSync(join(dir, f)); } catch { continue; }
		out[f] = createHash('sha256').update(data).digest('hex').slice(0, 16);
	}
	return out;
}

export function diffStates(before, after) {
	const d = [];
	for (const f of new Set([...Object.keys(before), ...Object.keys(after)])) {
		if (!(f in after)) d.push(`${f} removed`);
		else if (!(f in before)) d.push(`${f} created`);
		else if (before[f] !== after[f]) d.push(`${f} changed`);
	}
	return d.sort();
}

// TAP lines for tests/signal.sh: "ok - D", "not ok - D", "# detail".
export class Tap {
	constructor() { this.failed = 0; this.n = 0; }
	// todo: the reason a failure is expected (TAP "# TODO"; not a failure)
	ok(cond, desc, detail, todo) {
		this.n++;
		const dir = todo ? ` # TODO ${todo}` : '';
		if (cond) { process.stdout.write(`ok - ${desc}${dir}\n`); return true; }
		if (!todo) this.failed++;
		process.stdout.write(`not ok - ${desc}${dir}\n`);
		if (detail) for (const l of String(detail).split('\n')) process.stdout.write(`# ${l}\n`);
		return false;
	}
	is(got, want, desc, more, todo) {
		const g = typeof got === 'string' ? got : JSON.stringify(got);
		const w = typeof want === 'string' ? want : JSON.stringify(want);
		return this.ok(g === w, desc, `got:  ${String(g).slice(0, 500)}\nwant: ${String(w).slice(0, 500)}${more ? '\n' + more : ''}`, todo);
	}
	diag(msg) { for (const l of String(msg).split('\n')) process.stdout.write(`# ${l}\n`); }
}

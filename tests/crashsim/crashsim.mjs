#!/usr/bin/env node
// crashsim.mjs - crash-state replay: every state a crash could leave, from
// the crash log of one run (RELIABILITY.md, "Crash-state replay").
//
//   node tests/crashsim/crashsim.mjs --log LOG --root ROOT --snapshot SNAP
//        --scratch DIR [--checker MODULE] [--arg K=V]... [--versions REGEX]
//        [--ignore REGEX] [--window W] [--subsets S] [--jobs J]
//        [--check-max N] [--seed S] [--no-final] [--quiet]
//
// LOG is what WA_TEST_CRASHLOG recorded (lib/store/durable.c: one JSON
// line per storage operation, absolute paths, write data in base64, and
// the markers of wa_durable_mark); ROOT the folder the run worked under
// (every path of interest is below it); SNAP a copy of ROOT taken before
// the run.  The model is a file system of inodes: folders hold entries,
// files hold bytes.  Replaying the whole log from SNAP must give ROOT as
// the run left it (else the log missed something: exit 2; --no-final
// skips that comparison; --ignore names files outside the log, such as
// lock files).
//
// What survives a crash after the first k operations (each k = 0..n):
//   prefix     all k (kill -9: the page cache survives);
//   forced     only what an fsync forced: a file's data after its fsync,
//              a folder entry (create, mkdir, link, unlink; a rename or
//              exchange, atomically, in the destination) after the fsync
//              of that folder; syncfs forces everything before it;
//   window     the prefix with any subset of the unforced operations among
//              the last W (default 8) lost: all subsets up to S (default
//              32) of them, else every single one and S random subsets
//              (losing an earlier operation and keeping a later one is
//              what a reordering by the disk leaves);
//   torn       the prefix with its last operation, a write, torn: 1 byte,
//              half, all but 1 byte of its data, or zeros instead.
// States that come out identical (same files, same bytes, same markers
// before the cut) are checked once.
//
// Checks: --versions REGEX: every file whose path (relative to ROOT)
// matches holds one complete version: its content before the run, or the
// content of a file at the moment it was renamed (linked, exchanged) onto
// that name, or of a file created under that name at an fsync.  Then the
// checker module, if given: `export async function check(s)` with
// s = {dir, marks, desc, args, index} (dir mirrors ROOT; marks the texts of
// the markers before the cut) returns a list of problems (strings);
// `export async function init(args)` runs once first.  Checks run in J
// (default 2) scratch folders below DIR at a time; --check-max N runs the
// checker module on N of the distinct states (chosen evenly, always the
// first and the last), the built-in checks on all.
//
// Prints "crash states: generated G, distinct D, checked C, violations V"
// and one line per violation: "violation: STATE: PROBLEM".  Exit 0 when V
// is 0, 1 when not, 2 when the replay itself fails (bad log, incomplete
// log, a checker that throws), 64 for bad usage.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, lstatSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const PROG = 'crashsim';

function die(msg, code = 2) {
	process.stderr.write(`${PROG}: ${msg}\n`);
	process.exit(code);
}

// ---- options ----------------------------------------------------------------

const opt = { window: 8, subsets: 32, jobs: 2, seed: 1, args: {}, final: true, quiet: false, checkMax: Infinity };
{
	const a = process.argv.slice(2);
	const need = (i) => (i + 1 < a.length ? a[i + 1] : die(`${a[i]} needs a value`, 64));
	const int = (v, name) => (/^\d+$/.test(v) ? Number(v) : die(`${name} wants a number, not '${v}'`, 64));
	for (let i = 0; i < a.length; i++) {
		const k = a[i];
		if (k === '--log') opt.log = need(i), i++;
		else if (k === '--root') opt.root = need(i), i++;
		else if (k === '--snapshot') opt.snapshot = need(i), i++;
		else if (k === '--scratch') opt.scratch = need(i), i++;
		else if (k === '--checker') opt.checker = need(i), i++;
		else if (k === '--versions') opt.versions = new RegExp(need(i)), i++;
		else if (k === '--ignore') opt.ignore = new RegExp(need(i)), i++;
		else if (k === '--window') opt.window = int(need(i), k), i++;
		else if (k === '--subsets') opt.subsets = int(need(i), k), i++;
		else if (k === '--jobs') opt.jobs = Math.max(1, int(need(i), k)), i++;
		else if (k === '--check-max') opt.checkMax = int(need(i), k), i++;
		else if (k === '--seed') opt.seed = int(need(i), k), i++;
		else if (k === '--no-final') opt.final = false;
		else if (k === '--quiet') opt.quiet = true;
		else if (k === '--arg') {
			const v = need(i); i++;
			const eq = v.indexOf('=');
			if (eq < 1) die(`--arg wants K=V, not '${v}'`, 64);
			opt.args[v.slice(0, eq)] = v.slice(eq + 1);
		} else die(`unknown argument '${k}'`, 64);
	}
	for (const k of ['log', 'root', 'snapshot', 'scratch'])
		if (!opt[k]) die(`--${k} missing`, 64);
}

// ---- the model: inodes --------------------------------------------------------

// An inode is {dir: true, entries: Map(name -> ino)} or {dir: false, data:
// Buffer}.  A state is {m: Map(ino -> inode), owned: Set(ino)}; inode 0 is
// ROOT.  States share inodes until they change one (copy on write: a state
// changes only the inodes it owns).
const ROOT_INO = 0;
let nextIno = 1;

function loadSnapshot(dir) {
	const st = { m: new Map(), owned: new Set() };
	const walk = (path, ino) => {
		const entries = new Map();
		st.m.set(ino, { dir: true, entries });
		for (const name of readdirSync(path).sort()) {
			const p = join(path, name);
			const ls = lstatSync(p);
			const child = nextIno++;
			if (ls.isDirectory()) walk(p, child);
			else if (ls.isFile()) st.m.set(child, { dir: false, data: readFileSync(p) });
			else continue;
			entries.set(name, child);
		}
	};
	walk(dir, ROOT_INO);
	return st;
}

const rootReal = realpathSync(opt.root);
const rel = (p) => {
	if (p === rootReal) return '';
	if (!p.startsWith(rootReal + '/')) return null;
	return p.slice(rootReal.length + 1);
};

function lookup(st, relpath) {
	// -> {parent, name, ino} (ino undefined when absent; parent null when a
	// folder on the way is missing)
	const parts = relpath === '' ? [] : relpath.split('/');
	let cur = ROOT_INO;
	for (let i = 0; i < parts.length - 1; i++) {
		const n = st.m.get(cur);
		const next = n && n.dir ? n.entries.get(parts[i]) : undefined;
		if (next === undefined || !st.m.get(next)?.dir) return { parent: null, name: parts[parts.length - 1], ino: undefined };
		cur = next;
	}
	if (!parts.length) return { parent: null, name: '', ino: ROOT_INO };
	const name = parts[parts.length - 1];
	return { parent: cur, name, ino: st.m.get(cur).entries.get(name) };
}

// copy-on-write helpers on a state
function dirOf(st, ino) {
	const n = st.m.get(ino);
	if (n && st.owned.has(ino)) return n;
	const d = { dir: true, entries: new Map(n?.dir ? n.entries : []) };
	st.m.set(ino, d);
	st.owned.add(ino);
	return d;
}
function fileOf(st, ino) {
	const n = st.m.get(ino);
	if (n && st.owned.has(ino)) return n;
	const f = { dir: false, data: n && !n.dir ? n.data : Buffer.alloc(0) };
	st.m.set(ino, f);
	st.owned.add(ino);
	return f;
}
function cloneState(st) {
	st.owned.clear();	// from now on both share every inode
	return { m: new Map(st.m), owned: new Set() };
}

// Apply one resolved operation (by inode numbers) to a state.
function apply(st, o, data = o.data) {
	switch (o.t) {
	case 'create':
		fileOf(st, o.ino);
		dirOf(st, o.parent).entries.set(o.name, o.ino);
		break;
	case 'mkdir':
		dirOf(st, o.ino);
		dirOf(st, o.parent).entries.set(o.name, o.ino);
		break;
	case 'write': {
		const f = fileOf(st, o.ino);
		const end = o.off + data.length;
		const buf = Buffer.alloc(Math.max(f.data.length, end));
		f.data.copy(buf, 0);
		data.copy(buf, o.off);
		f.data = buf;
		break;
	}
	case 'rename': {
		const s = dirOf(st, o.sp);
		if (s.entries.get(o.sn) === o.ino) s.entries.delete(o.sn);
		dirOf(st, o.dp).entries.set(o.dn, o.ino);
		break;
	}
	case 'exchange':
		dirOf(st, o.sp).entries.set(o.sn, o.ino2);
		dirOf(st, o.dp).entries.set(o.dn, o.ino);
		break;
	case 'link':
		dirOf(st, o.dp).entries.set(o.dn, o.ino);
		break;
	case 'unlink': {
		const d = dirOf(st, o.parent);
		if (d.entries.get(o.name) === o.ino) d.entries.delete(o.name);
		break;
	}
	default:
		break;
	}
}

// ---- read and resolve the log ----------------------------------------------------

const snap0 = loadSnapshot(opt.snapshot);
const ops = [];		// resolved operations
const versions = new Map();	// relpath -> Set(sha of a complete version)
const sha = (b) => createHash('sha256').update(b).digest('hex');
const addVersion = (p, data) => {
	if (!versions.has(p)) versions.set(p, new Set());
	versions.get(p).add(sha(data));
};
{
	// the snapshot's files are complete versions
	const walk = (st, ino, prefix) => {
		for (const [name, child] of st.m.get(ino).entries) {
			const n = st.m.get(child);
			const p = prefix ? `${prefix}/${name}` : name;
			if (n.dir) walk(st, child, p);
			else addVersion(p, n.data);
		}
	};
	walk(snap0, ROOT_INO, '');
}

let outside = 0;
{
	let text;
	try { text = readFileSync(opt.log, 'utf-8'); } catch (e) { die(`unable to read '${opt.log}': ${e.message}`); }
	const live = cloneState(snap0);
	const pathOf = new Map();	// file ino -> relpath it was created or last renamed to
	const lines = text.split('\n');
	for (let ln = 0; ln < lines.length; ln++) {
		const line = lines[ln];
		if (!line.trim()) continue;
		let r;
		try { r = JSON.parse(line); } catch (e) { die(`'${opt.log}' line ${ln + 1}: not JSON: ${e.message}`); }
		const where = `'${opt.log}' line ${ln + 1} (${r.op})`;
		let o;
		if (r.op === 'mark') {
			o = { t: 'mark', text: r.text };
		} else if (r.op === 'syncfs') {
			o = { t: 'syncfs' };
		} else if (r.op === 'close') {
			continue;
		} else if (r.op === 'rename' || r.op === 'rename_noreplace' || r.op === 'link' || r.op === 'exchange') {
			const a = rel(r.from), b = rel(r.to);
			if (a === null || b === null) {
				if (a !== null || b !== null) die(`${where}: moves between ROOT and elsewhere are not modelled`);
				outside++;
				continue;
			}
			const s = lookup(live, a), d = lookup(live, b);
			if (s.parent === null || s.ino === undefined || d.parent === null) die(`${where}: '${r.from}' or the folder of '${r.to}' is not in the model`);
			if (r.op === 'exchange') {
				if (d.ino === undefined) die(`${where}: '${r.to}' is not in the model`);
				o = { t: 'exchange', sp: s.parent, sn: s.name, dp: d.parent, dn: d.name, ino: s.ino, ino2: d.ino };
			} else {
				o = { t: r.op === 'link' ? 'link' : 'rename', sp: s.parent, sn: s.name, dp: d.parent, dn: d.name, ino: s.ino };
			}
		} else if (r.path !== undefined) {
			const p = rel(r.path);
			if (p === null) { outside++; continue; }
			const l = lookup(live, p);
			if (r.op === 'create' || r.op === 'mkdir') {
				if (l.parent === null) die(`${where}: the folder of '${r.path}' is not in the model`);
				o = { t: r.op, parent: l.parent, name: l.name, ino: nextIno++ };
				pathOf.set(o.ino, p);
			} else if (r.op === 'write') {
				if (l.ino === undefined) die(`${where}: '${r.path}' is not in the model`);
				o = { t: 'write', ino: l.ino, off: r.off, data: Buffer.from(r.data, 'base64') };
				if (!(r.off >= 0)) die(`${where}: no offset`);
			} else if (r.op === 'fsync') {
				if (l.ino === undefined) die(`${where}: '${r.path}' is not in the model`);
				o = { t: 'fsync', ino: l.ino };
			} else if (r.op === 'unlink') {
				if (l.ino === undefined) die(`${where}: '${r.path}' is not in the model`);
				o = { t: 'unlink', parent: l.parent, name: l.name, ino: l.ino };
			} else die(`${where}: unknown operation`);
		} else die(`${where}: unknown operation`);
		apply(live, o);
		// complete versions: a file renamed, linked or exchanged onto a name,
		// or created under its name and fsynced
		if (o.t === 'rename' || o.t === 'link' || o.t === 'exchange') {
			addVersion(rel(r.to), live.m.get(o.ino).data ?? Buffer.alloc(0));
			if (o.t === 'exchange') addVersion(rel(r.from), live.m.get(o.ino2).data ?? Buffer.alloc(0));
		} else if (o.t === 'fsync' && !live.m.get(o.ino).dir) {
			const p = rel(r.path);
			if (pathOf.get(o.ino) === p) addVersion(p, live.m.get(o.ino).data);
		}
		o.line = ln + 1;
		o.op = r.op;
		o.path = r.path ?? r.to;
		ops.push(o);
	}
}
const n = ops.length;
if (!n) die(`'${opt.log}': no operations below '${opt.root}'`);

// ---- what forces what ---------------------------------------------------------

// forcedAt[i]: the first operation after i that makes i durable (n + 1: none)
const STATEFUL = new Set(['create', 'mkdir', 'write', 'rename', 'exchange', 'link', 'unlink']);
const forcedAt = new Array(n).fill(Infinity);
{
	// walking backwards: the next fsync of each inode, the next syncfs
	const nextFsync = new Map();
	let nextSyncfs = Infinity;
	for (let i = n - 1; i >= 0; i--) {
		const o = ops[i];
		const f = (ino) => Math.min(nextFsync.get(ino) ?? Infinity, nextSyncfs);
		if (o.t === 'write') forcedAt[i] = f(o.ino);
		else if (o.t === 'create' || o.t === 'mkdir' || o.t === 'unlink') forcedAt[i] = f(o.parent);
		else if (o.t === 'rename' || o.t === 'link' || o.t === 'exchange') forcedAt[i] = f(o.dp);
		if (o.t === 'fsync') nextFsync.set(o.ino, i);
		if (o.t === 'syncfs') nextSyncfs = i;
	}
}

// ---- states ---------------------------------------------------------------------

// A state is described by (k, dropped: sorted indices, torn: {i, kind}).
// Materialising replays from the snapshot, reusing the prefix state of the
// previous cut.
let rngState = BigInt(opt.seed) * 0x9E3779B97F4A7C15n + 1n;
function rand() {
	rngState ^= rngState << 13n; rngState &= (1n << 64n) - 1n;
	rngState ^= rngState >> 7n;
	rngState ^= rngState << 17n; rngState &= (1n << 64n) - 1n;
	return Number(rngState >> 11n) / 2 ** 53;
}

function* statesAt(k) {
	yield { k, drop: [], desc: `prefix ${k}` };
	const unforced = [];
	for (let i = 0; i < k; i++) if (STATEFUL.has(ops[i].t) && !(forcedAt[i] < k)) unforced.push(i);
	if (unforced.length) yield { k, drop: unforced, desc: `forced ${k} (${unforced.length} unforced lost)` };
	const win = unforced.filter((i) => i >= k - opt.window);
	if (win.length > 1 || (win.length === 1 && unforced.length > 1)) {
		const total = 2 ** win.length;
		const picks = [];
		if (total - 2 <= opt.subsets) {
			for (let m = 1; m < total - 1; m++) picks.push(m);
			if (unforced.length > win.length) picks.push(total - 1);
		} else {
			for (let b = 0; b < win.length; b++) picks.push(1 << b);
			for (let s = 0; s < opt.subsets; s++) picks.push(1 + Math.floor(rand() * (total - 1)));
		}
		for (const m of picks) {
			const drop = win.filter((_, b) => m & (1 << b));
			yield { k, drop, desc: `prefix ${k} minus ${drop.map((i) => `#${i + 1}`).join(',')}` };
		}
	} else if (win.length === 1 && unforced.length === 1) {
		// the same as forced
	}
	const last = ops[k - 1];
	if (k > 0 && last.t === 'write' && last.data.length > 0) {
		const len = last.data.length;
		const cuts = [...new Set([1, Math.floor(len / 2), len - 1])].filter((c) => c > 0 && c < len);
		for (const c of cuts) yield { k, drop: [], torn: last.data.subarray(0, c), desc: `prefix ${k}, last write torn at ${c} of ${len}` };
		yield { k, drop: [], torn: Buffer.alloc(len), desc: `prefix ${k}, last write zeros (${len})` };
	}
}

// Prefix states, built incrementally (cuts come in order): the state
// after j operations is kept for the last W + 2 values of j, so a window
// state replays only from its first lost operation.
let prefixK = 0;
const prefixSt = cloneState(snap0);
const prefixCache = new Map([[0, cloneState(prefixSt)]]);

function prefixAt(j) {
	while (prefixK < j) {
		apply(prefixSt, ops[prefixK++]);
		prefixCache.set(prefixK, cloneState(prefixSt));
		prefixCache.delete(prefixK - opt.window - 2);
	}
	return prefixCache.get(j);
}

function stateFor(s) {
	const first = s.torn ? s.k - 1 : Math.min(...s.drop, s.k);
	const base = prefixAt(s.k) && prefixCache.get(first);
	const st = cloneState(base ?? snap0);
	const dropped = new Set(s.drop);
	for (let i = base ? first : 0; i < s.k; i++) {
		if (dropped.has(i)) continue;
		if (s.torn && i === s.k - 1) apply(st, ops[i], s.torn);
		else apply(st, ops[i]);
	}
	return st;
}

// The files of a state: [[relpath, Buffer|null(dir)]], sorted
function listing(st) {
	const out = [];
	const walk = (ino, prefix) => {
		const d = st.m.get(ino);
		for (const name of [...d.entries.keys()].sort()) {
			const child = d.entries.get(name);
			const c = st.m.get(child);
			const p = prefix ? `${prefix}/${name}` : name;
			if (!c) continue;
			if (c.dir) { out.push([p, null]); walk(child, p); } else out.push([p, c.data]);
		}
	};
	walk(ROOT_INO, '');
	return out;
}

function marksBefore(k) {
	const m = [];
	for (let i = 0; i < k; i++) if (ops[i].t === 'mark') m.push(ops[i].text);
	return m;
}

// ---- the final state against ROOT -------------------------------------------------

if (opt.final) {
	const all = cloneState(snap0);
	for (const o of ops) apply(all, o);
	const want = listing(all).filter(([p]) => !(opt.ignore && opt.ignore.test(p)));
	const got = listing(loadSnapshotFresh(opt.root)).filter(([p]) => !(opt.ignore && opt.ignore.test(p)));
	const a = new Map(want.map(([p, d]) => [p, d === null ? 'dir' : sha(d)]));
	const b = new Map(got.map(([p, d]) => [p, d === null ? 'dir' : sha(d)]));
	const diffs = [];
	for (const [p, h] of a) if (!b.has(p)) diffs.push(`'${p}' replayed but not in ROOT`); else if (b.get(p) !== h) diffs.push(`'${p}' differs`);
	for (const p of b.keys()) if (!a.has(p)) diffs.push(`'${p}' in ROOT but not replayed`);
	if (diffs.length) die(`the log does not account for the run's folders: ${diffs.slice(0, 5).join('; ')}${diffs.length > 5 ? ` (and ${diffs.length - 5} more)` : ''}`);
}
function loadSnapshotFresh(dir) {
	const save = nextIno;
	const st = loadSnapshot(dir);
	nextIno = save;
	// inode numbers clash with the log's, but only listing() is used on it
	return st;
}

// ---- generate, dedupe, check ---------------------------------------------------------

let checker = null;
if (opt.checker) {
	try { checker = await import(pathToFileURL(resolve(opt.checker)).href); } catch (e) { die(`unable to load the checker '${opt.checker}': ${e.message}`); }
	if (typeof checker.check !== 'function') die(`the checker '${opt.checker}' exports no check()`);
	if (typeof checker.init === 'function') await checker.init(opt.args);
}

let generated = 0;
const distinct = new Map();	// key -> {s, files, marks}
for (let k = 0; k <= n; k++) {
	for (const s of statesAt(k)) {
		generated++;
		const files = listing(stateFor(s));
		const marks = marksBefore(s.k);
		const h = createHash('sha256');
		for (const [p, d] of files) { h.update(p); h.update(d === null ? '\0D' : '\0F' + sha(d)); h.update('\n'); }
		h.update('\0marks\0' + marks.join('\n'));
		const key = h.digest('hex');
		if (!distinct.has(key)) distinct.set(key, { s, files, marks });
	}
}

const violations = [];
const list = [...distinct.values()];
for (const { s, files } of list) {
	if (!opt.versions) break;
	for (const [p, d] of files) {
		if (d === null || !opt.versions.test(p)) continue;
		if (!versions.get(p)?.has(sha(d))) violations.push(`${s.desc}: '${p}' is not a complete version (${d.length} bytes)`);
	}
}

// which states the checker sees
let toCheck = list.map((_, i) => i);
if (checker && list.length > opt.checkMax) {
	const m = Math.max(2, opt.checkMax);
	const pick = new Set();
	for (let j = 0; j < m; j++) pick.add(Math.round(j * (list.length - 1) / (m - 1)));
	toCheck = [...pick].sort((x, y) => x - y);
}
let checked = 0;
if (checker) {
	mkdirSync(opt.scratch, { recursive: true, mode: 0o700 });
	let next = 0;
	const worker = async (w) => {
		const dir = join(opt.scratch, `w${w}`);
		while (next < toCheck.length) {
			const idx = toCheck[next++];
			const { s, files, marks } = list[idx];
			rmSync(dir, { recursive: true, force: true });
			mkdirSync(dir, { mode: 0o700 });
			for (const [p, d] of files) {
				if (d === null) mkdirSync(join(dir, p), { mode: 0o700 });
				else writeFileSync(join(dir, p), d, { mode: 0o600 });
			}
			let problems;
			try {
				problems = await checker.check({ dir, marks, desc: s.desc, args: opt.args, index: idx });
			} catch (e) {
				die(`the checker failed on ${s.desc}: ${e.stack || e.message}`);
			}
			checked++;
			for (const p of problems || []) violations.push(`${s.desc}: ${p}`);
		}
		rmSync(dir, { recursive: true, force: true });
	};
	await Promise.all(Array.from({ length: opt.jobs }, (_, w) => worker(w)));
}

process.stdout.write(`crash states: generated ${generated}, distinct ${distinct.size}, checked ${checker ? checked : 0}, violations ${violations.length}\n`);
if (!opt.quiet || violations.length) {
	const shown = violations.slice(0, 200);
	for (const v of shown) process.stdout.write(`violation: ${v}\n`);
	if (violations.length > shown.length) process.stdout.write(`violation: ... and ${violations.length - shown.length} more\n`);
}
process.stdout.write(`# operations ${n}${outside ? ` (and ${outside} outside ROOT)` : ''}, markers ${ops.filter((o) => o.t === 'mark').length}\n`);
process.exit(violations.length ? 1 : 0);

// recv-check.mjs - the crashsim checker for the receive path
// (tests/1550-recv-crashstate.t): what must hold in every crash state of a
// wa-recv-feed run (RELIABILITY.md R2: the receipt is the commit point).
//
//   --arg auth=REL --arg inbox=REL     the folders below ROOT
//   --arg stanzas=FILE                 what the run was fed, one per line
//   --arg expect=FILE                  recv-stanzas.mjs --expect
//   --arg feed=PATH                    wa-recv-feed (default: on PATH)
//   --arg check=PATH                   wa-check (default: on PATH)
//
// In each state (s.marks: the markers before the cut; "receipt ID" was
// logged just before the receipt of message ID left):
//   a  after the spool's recovery (wa-recv-feed with no input opens the
//      spool and the key store), every message whose receipt left is a
//      complete JSON file in INBOX/new with its id;
//   b  every file in new/ parses, and no id is there twice;
//   c  the key store loads: wa-check says OK or WARNING (not CRITICAL);
//   d  the server redelivers every stanza whose receipt had not left, in
//      the order it first sent them: then each message is in new/ exactly
//      once, decrypted, with its text (no message key lost).

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

let stanzas = [];	// [{id, line}]
let expect = new Map();	// id -> {text, chat, sender}

export async function init(args) {
	stanzas = readFileSync(args.stanzas, 'utf-8').split('\n').filter(Boolean).map((line) => ({ id: JSON.parse(line).attrs.id, line }));
	expect = new Map(readFileSync(args.expect, 'utf-8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((e) => [e.id, e]));
}

function run(cmd, argv, input) {
	return new Promise((resolve) => {
		const p = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
		let out = '', err = '';
		p.stdout.on('data', (d) => { out += d; });
		p.stderr.on('data', (d) => { err += d; });
		p.stdin.on('error', () => {});
		p.on('error', (e) => resolve({ code: -1, out, err: String(e) }));
		p.on('close', (code, sig) => resolve({ code: code ?? sig, out, err }));
		p.stdin.end(input || '');
	});
}

// The messages in new/: [{name, rec}] or problems
function inbox(dir, problems) {
	const d = join(dir, 'new');
	const out = [];
	if (!existsSync(d)) return out;
	for (const name of readdirSync(d).sort()) {
		let rec;
		try {
			rec = JSON.parse(readFileSync(join(d, name), 'utf-8'));
		} catch (e) {
			problems.push(`new/${name} is partial: ${e.message}`);
			continue;
		}
		if (!rec || typeof rec.id !== 'string') problems.push(`new/${name} has no id`);
		else out.push({ name, rec });
	}
	return out;
}

export async function check(s) {
	const problems = [];
	const auth = join(s.dir, s.args.auth || 'auth');
	const box = join(s.dir, s.args.inbox || 'auth.inbox');
	const feed = s.args.feed || 'wa-recv-feed';
	const acked = new Set(s.marks.filter((m) => m.startsWith('receipt ')).map((m) => m.split(' ')[1]));

	// a, b: recovery only
	let r = await run(feed, [auth, box], '');
	if (r.code !== 0) return [`recovery: wa-recv-feed exited ${r.code}: ${r.err.trim().split('\n')[0]}`];
	const before = inbox(box, problems);
	const ids = new Map();
	for (const { name, rec } of before) {
		if (ids.has(rec.id)) problems.push(`message ${rec.id} twice in new/ (${ids.get(rec.id)}, ${name})`);
		ids.set(rec.id, name);
	}
	for (const id of acked)
		if (expect.has(id) && !ids.has(id)) problems.push(`message ${id} (${expect.get(id).text}): receipt sent, not in new/`);

	// c
	r = await run(s.args.check || 'wa-check', ['-d', auth], '');
	if (r.code !== 0 && r.code !== 1) problems.push(`key store: wa-check exited ${r.code}: ${r.out.trim().split('\n')[0]}`);

	// d: the server redelivers what was not acknowledged
	const again = stanzas.filter((x) => !acked.has(x.id)).map((x) => x.line + '\n').join('');
	r = await run(feed, [auth, box], again);
	if (r.code !== 0) {
		problems.push(`redelivery: wa-recv-feed exited ${r.code}: ${r.err.trim().split('\n')[0]}`);
		return problems;
	}
	const after = inbox(box, problems);
	const count = new Map();
	for (const { rec } of after) count.set(rec.id, [...(count.get(rec.id) || []), rec]);
	for (const [id, e] of expect) {
		const got = count.get(id) || [];
		if (got.length !== 1) problems.push(`after redelivery message ${id} (${e.text}) is in new/ ${got.length} times`);
		else if (got[0].text !== e.text) problems.push(`after redelivery message ${id} holds ${JSON.stringify(got[0].text)} (status ${got[0].status}), not ${JSON.stringify(e.text)}`);
	}
	return problems;
}

#!/usr/bin/env node
// sigreplay.mjs - replay the cases of sigcases.mjs on another implementation
// of the test contract and compare its files with what Baileys wrote.
//
// usage: node tests/fakewa/sigreplay.mjs OUT CMD [ARG...]
//
// For each case NN in OUT/cases.json: copy OUT/NN/before to OUT/NN/replay,
// run "CMD ARG... -d OUT/NN/replay" with the case's request on stdin, and
// check the plaintext and every file against OUT/NN/after.  Files compare
// as JSON, deep-equal, except what a second implementation cannot
// reproduce: our new ratchet key pair after a DH ratchet step, the root
// key and sending chain key derived from it, and the created/used stamps.
// Message-key seeds, receiving chains, counters, closed chains and sender
// keys must be equal.  One line per case on stdout: "ok NN NAME" or
// "not ok NN NAME: why".  Exit 0.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

const [out, ...cmd] = process.argv.slice(2);
if (!out || !cmd.length) {
	process.stderr.write('usage: node tests/fakewa/sigreplay.mjs OUT CMD [ARG...]\n');
	process.exit(2);
}

function norm(doc) {
	const x = structuredClone(doc);
	if (x && typeof x === 'object' && x._sessions) {
		for (const e of Object.values(x._sessions)) {
			const cr = e.currentRatchet;
			const pub = cr?.ephemeralKeyPair?.pubKey;
			cr.ephemeralKeyPair = 'OURS';
			cr.rootKey = 'ROOT';
			if (e.indexInfo) e.indexInfo.used = e.indexInfo.created = 0;
			if (pub && e._chains?.[pub]) {
				const c = e._chains[pub];
				delete e._chains[pub];
				c.chainKey.key = 'KEY';
				e._chains.SENDING = c;
			}
		}
	}
	return x;
}

const cases = JSON.parse(readFileSync(join(out, 'cases.json'), 'utf-8'));
for (const c of cases) {
	const dir = join(out, c.dir, 'replay');
	rmSync(dir, { recursive: true, force: true });
	cpSync(join(out, c.dir, 'before'), dir, { recursive: true });
	const { dir: _d, name, pt, ...req } = c;
	const r = spawnSync(cmd[0], [...cmd.slice(1), '-d', dir], { input: JSON.stringify(req) + '\n', encoding: 'utf-8' });
	const why = [];
	let resp;
	try { resp = JSON.parse(r.stdout.split('\n')[0]); } catch { why.push(`no response (exit ${r.status}): ${r.stderr.slice(-300)}`); }
	if (resp && !resp.ok) why.push(`error ${resp.error}: ${resp.detail}`);
	if (resp && resp.ok && pt !== undefined && resp.pt !== pt) why.push('wrong plaintext');
	const after = join(out, c.dir, 'after');
	const names = new Set([...readdirSync(after), ...readdirSync(dir).filter((n) => n !== '.wa')]);
	for (const n of [...names].sort()) {
		const a = join(after, n), b = join(dir, n);
		if (!existsSync(b)) { why.push(`${n} missing`); continue; }
		if (!existsSync(a)) { why.push(`${n} extra`); continue; }
		if (!isDeepStrictEqual(norm(JSON.parse(readFileSync(a, 'utf-8'))), norm(JSON.parse(readFileSync(b, 'utf-8')))))
			why.push(`${n} differs`);
	}
	process.stdout.write(why.length ? `not ok ${c.dir} ${name}: ${why.join('; ')}\n` : `ok ${c.dir} ${name}\n`);
}

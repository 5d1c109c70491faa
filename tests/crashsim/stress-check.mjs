// stress-check.mjs - the crashsim checker for tests/helpers/wa-stress-writer
// runs (tests/1551-crashsim.t): wa-verify-store on the state's auth folder
// with a journal made for that state: the run's "B NAME V" lines (every
// version the writer began) and a "D NAME V" line for each "done NAME V"
// marker before the cut (every put that had returned 0).
//
//   --arg dir=auth (the folder below ROOT)  --arg journal=FILE (the run's)
//   --arg verify=PATH (default wa-verify-store on PATH)

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let begun = '';

export async function init(args) {
	begun = readFileSync(args.journal, 'utf-8').split('\n').filter((l) => /^[BS] /.test(l)).join('\n') + '\n';
}

function run(cmd, argv) {
	return new Promise((resolve) => {
		const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '', err = '';
		p.stdout.on('data', (d) => { out += d; });
		p.stderr.on('data', (d) => { err += d; });
		p.on('error', (e) => resolve({ code: -1, out, err: String(e) }));
		p.on('close', (code) => resolve({ code, out, err }));
	});
}

export async function check(s) {
	const journal = join(s.dir, '.journal');
	const done = s.marks.filter((m) => m.startsWith('done ')).map((m) => `D ${m.slice(5)}`);
	writeFileSync(journal, begun + done.join('\n') + (done.length ? '\n' : ''));
	const r = await run(s.args.verify || 'wa-verify-store', ['-j', journal, join(s.dir, s.args.dir || 'auth')]);
	if (r.code === 0) return [];
	if (r.code !== 1) throw new Error(`wa-verify-store exited ${r.code}: ${r.err.trim()}`);
	return r.err.trim().split('\n').filter(Boolean);
}

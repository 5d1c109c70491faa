#!/usr/bin/env node
// baileys-multi.mjs - the many-accounts gateway of bench/accounts.sh: one
// Node process holding one Baileys socket per auth folder, as gateways
// run many accounts (one makeWASocket per session in one process).
//
//	node bench/baileys-multi.mjs DIR...
//
// Standard output: "open N JID" as each socket comes online (N counts
// them), "all N" once every one is; "close DIR CODE MSG" when one ends
// for any reason but 515 (then exit 1).  Stays online until a signal.
// The server and its root key: $WA_SERVER_URL and $WA_SERVER_ROOT_KEY, as
// bench/baileys-login.mjs (fakewa only).  Baileys and pino come from
// tests/fakewa/node_modules (or BAILEYS_MODULES).

import { createRequire } from 'module';
import { fileURLToPath, pathToFileURL } from 'url';
import path from 'path';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.BAILEYS_MODULES || path.join(here, '..', 'tests', 'fakewa', 'node_modules');
const req = createRequire(path.join(modules, 'x.js'));
const load = name => import(pathToFileURL(req.resolve(name)).href);

const dirs = process.argv.slice(2);
const url = process.env.WA_SERVER_URL;
const root = process.env.WA_SERVER_ROOT_KEY;
if (!dirs.length || !url || !/^[0-9a-fA-F]{64}$/.test(root ?? '')) {
	process.stderr.write('usage: node bench/baileys-multi.mjs DIR... (WA_SERVER_URL, WA_SERVER_ROOT_KEY: fakewa)\n');
	process.exit(2);
}

const { default: makeWASocket, useMultiFileAuthState, DisconnectReason } = await load('baileys');
const { WA_CERT_DETAILS } = await load('baileys/lib/Defaults/index.js');
const { default: pino } = await load('pino');
WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(root, 'hex');
const logger = pino({ level: 'silent' });

let open = 0;
async function start(dir) {
	const { state, saveCreds } = await useMultiFileAuthState(dir);
	let seen = false;
	const connect = () => {
		const sock = makeWASocket({ auth: state, logger, waWebSocketUrl: url });
		sock.ev.on('creds.update', saveCreds);
		sock.ev.on('connection.update', u => {
			if (u.connection === 'open' && !seen) {
				seen = true;
				open++;
				process.stdout.write(`open ${open} ${state.creds.me?.id ?? '-'}\n`);
				if (open === dirs.length)
					process.stdout.write(`all ${open}\n`);
			}
			if (u.connection === 'close') {
				const err = u.lastDisconnect?.error;
				const code = err?.output?.statusCode ?? 0;
				if (code === DisconnectReason.restartRequired)
					return connect();
				process.stdout.write(`close ${dir} ${code} ${String(err?.message ?? '').replace(/\s+/g, ' ')}\n`);
				process.exit(1);
			}
		});
	};
	connect();
}
await Promise.all(dirs.map(start));

#!/usr/bin/env node
// baileys-login.mjs - the Baileys side of `make bench`: the smallest bot
// that logs in with a multi-file auth folder, says when it is online, and
// then stays online doing nothing.
//
//	node bench/baileys-login.mjs [--idle SECONDS] DIR
//
// The server is $WA_SERVER_URL and its root key $WA_SERVER_ROOT_KEY (64
// hex digits), the same variables wa's tools read (lib/conn.h): Baileys'
// pinned WhatsApp root key is replaced by that key in this process only,
// as tests/fakewa/src/baileysclient.mjs does.  Both are required: this
// script is for fakewa, never for WhatsApp.
//
// Standard output, one line each:
//	qr STRING       an unpaired folder: the QR Baileys would show (the
//	                driver hands it to fakewa's /phone/scan)
//	open JID        connection.update { connection: 'open' }
//	close CODE MSG  the connection ended for any reason but 515 (then
//	                exit 1); after 515 (restart required, as after
//	                pairing) it reconnects at once, as every Baileys bot does
// With --idle S it exits 0 S seconds after 'open' (default 0: stays until
// a signal).
//
// Everything else is Baileys' defaults (makeWASocket({ auth, logger })):
// init queries, markOnlineOnConnect, 30 s keepalive; the logger is
// pino at level 'silent', as bots usually run it.
//
// Imports: node resolves bare 'baileys' from this file's folder upward,
// and bench/ has no node_modules, so baileys and pino are imported by
// path from tests/fakewa/node_modules (installed by scripts/install-deps,
// or `npm ci` there); BAILEYS_MODULES=DIR names another node_modules.

import { createRequire } from 'module';
import { fileURLToPath, pathToFileURL } from 'url';
import path from 'path';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.BAILEYS_MODULES || path.join(here, '..', 'tests', 'fakewa', 'node_modules');
const req = createRequire(path.join(modules, 'x.js'));
const load = name => import(pathToFileURL(req.resolve(name)).href);

function usage(msg) {
	if (msg)
		process.stderr.write(`baileys-login: ${msg}\n`);
	process.stderr.write('usage: node bench/baileys-login.mjs [--idle SECONDS] DIR\n');
	process.exit(2);
}

const args = process.argv.slice(2);
let idle = 0;
let dir;
while (args.length) {
	const a = args.shift();
	if (a === '--idle' && /^\d+(\.\d+)?$/.test(args[0] ?? ''))
		idle = +args.shift();
	else if (!a.startsWith('-') && dir === undefined)
		dir = a;
	else
		usage(`bad argument ${a}`);
}
const url = process.env.WA_SERVER_URL;
const root = process.env.WA_SERVER_ROOT_KEY;
if (!dir)
	usage();
if (!url || !/^[0-9a-fA-F]{64}$/.test(root ?? ''))
	usage('WA_SERVER_URL and WA_SERVER_ROOT_KEY (64 hex) must point at fakewa');

const { default: makeWASocket, useMultiFileAuthState, DisconnectReason } = await load('baileys');
const { WA_CERT_DETAILS } = await load('baileys/lib/Defaults/index.js');
const { default: pino } = await load('pino');
WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(root, 'hex');

const logger = pino({ level: 'silent' });
const { state, saveCreds } = await useMultiFileAuthState(dir);

function connect() {
	const sock = makeWASocket({ auth: state, logger, waWebSocketUrl: url });
	sock.ev.on('creds.update', saveCreds);
	sock.ev.on('connection.update', u => {
		if (u.qr)
			process.stdout.write(`qr ${u.qr}\n`);
		if (u.connection === 'open') {
			process.stdout.write(`open ${state.creds.me?.id ?? '-'}\n`);
			if (idle > 0)
				setTimeout(() => process.exit(0), idle * 1000);
		}
		if (u.connection === 'close') {
			const err = u.lastDisconnect?.error;
			const code = err?.output?.statusCode ?? 0;
			if (code === DisconnectReason.restartRequired) {
				connect();
				return;
			}
			process.stdout.write(`close ${code} ${String(err?.message ?? '').replace(/\s+/g, ' ')}\n`);
			process.exit(1);
		}
	});
}

connect();

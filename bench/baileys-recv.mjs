#!/usr/bin/env node
// baileys-recv.mjs - the Baileys side of the receive benchmark
// (bench/recv.mjs): a bot that logs in with a multi-file auth folder and
// counts the messages Baileys hands it (messages.upsert).
//
//	node bench/baileys-recv.mjs [--pair] [--expect N] [--ids FILE] DIR
//
// The server is $WA_SERVER_URL and its root key $WA_SERVER_ROOT_KEY, as
// for bench/baileys-login.mjs (fakewa only: Baileys' pinned WhatsApp root
// key is replaced by that key in this process).
//
// Standard output, one line each:
//	qr STRING        an unpaired folder: the QR (for fakewa's /phone/scan)
//	open JID         connection.update { connection: 'open' }
//	have N T         N distinct messages decrypted (with --expect N: once,
//	                 when the Nth arrives; T: the wall clock then, ms since
//	                 the epoch)
//	close CODE MSG   the connection ended for any reason but 515 (exit 1)
//	total N DISTINCT STUBS   on SIGTERM, before exiting 0: messages
//	                 upserted, distinct ids among them, and stubs (a
//	                 message Baileys could not decrypt)
// --pair: exit 0 two seconds after the first 'open' (pairing, then
// Baileys' first login, its pre-key upload and saveCreds).
// --ids FILE: on SIGTERM, write every upserted message id, one a line.
//
// The bot is makeWASocket({ auth, logger, waWebSocketUrl }) with
// useMultiFileAuthState and saveCreds on creds.update, Baileys' defaults
// otherwise, except shouldSyncHistoryMessage: () => false (fakewa sends
// no history; with it on, Baileys holds every event back for 20 s after
// a first login, tests/fakewa/README.md).  A message counts when it
// carries a decrypted message (m.message) and is not our own.  pino at
// level silent; imports as bench/baileys-login.mjs (BAILEYS_MODULES).

import { createRequire } from 'module';
import { writeFileSync } from 'fs';
import { fileURLToPath, pathToFileURL } from 'url';
import path from 'path';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.BAILEYS_MODULES || path.join(here, '..', 'tests', 'fakewa', 'node_modules');
const req = createRequire(path.join(modules, 'x.js'));
const load = name => import(pathToFileURL(req.resolve(name)).href);

function usage(msg) {
	if (msg)
		process.stderr.write(`baileys-recv: ${msg}\n`);
	process.stderr.write('usage: node bench/baileys-recv.mjs [--pair] [--expect N] [--ids FILE] DIR\n');
	process.exit(2);
}

const args = process.argv.slice(2);
let pair = false;
let expect = 0;
let idsFile;
let dir;
while (args.length) {
	const a = args.shift();
	if (a === '--pair')
		pair = true;
	else if (a === '--expect' && /^\d+$/.test(args[0] ?? ''))
		expect = +args.shift();
	else if (a === '--ids' && args.length)
		idsFile = args.shift();
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
const ids = [];
const distinct = new Set();
let stubs = 0;

process.on('SIGTERM', () => {
	if (idsFile)
		writeFileSync(idsFile, ids.join('\n') + (ids.length ? '\n' : ''));
	process.stdout.write(`total ${ids.length} ${distinct.size} ${stubs}\n`, () => process.exit(0));
});

function connect() {
	const sock = makeWASocket({ auth: state, logger, waWebSocketUrl: url, shouldSyncHistoryMessage: () => false });
	sock.ev.on('creds.update', saveCreds);
	sock.ev.on('messages.upsert', ({ messages }) => {
		for (const m of messages) {
			if (m.key?.fromMe || !m.key?.id)
				continue;
			if (!m.message) {
				stubs++;
				continue;
			}
			ids.push(m.key.id);
			distinct.add(m.key.id);
			if (expect && distinct.size === expect)
				process.stdout.write(`have ${expect} ${Date.now()}\n`);
		}
	});
	sock.ev.on('connection.update', u => {
		if (u.qr)
			process.stdout.write(`qr ${u.qr}\n`);
		if (u.connection === 'open') {
			process.stdout.write(`open ${state.creds.me?.id ?? '-'}\n`);
			if (pair)
				setTimeout(() => process.exit(0), 2000);
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

#!/usr/bin/env node
// baileys-send.mjs - the Baileys side of the sending benchmark
// (bench/send.mjs): a bot that logs in with a multi-file auth folder and
// sends what it is told on stdin.
//
//	node bench/baileys-send.mjs [--pair] DIR
//
// The server is $WA_SERVER_URL and its root key $WA_SERVER_ROOT_KEY, as
// for bench/baileys-login.mjs (fakewa only: Baileys' pinned WhatsApp root
// key is replaced by that key in this process).
//
// Commands (stdin, one a line) and answers (stdout, one line each):
//	texts JID N PREFIX   sendMessage(JID, {text: "PREFIX i"}) for i = 1..N,
//	                     each awaited before the next (a bot's loop)
//	                     -> sent N FIRST LAST T0 T1   (ids of the first and
//	                     last message; T0, T1: the wall clock, ms since the
//	                     epoch, before the first and after the last call)
//	quit                 exit 0
// and on their own:
//	qr STRING            an unpaired folder: the QR (for fakewa's /phone/scan)
//	open JID             connection.update { connection: 'open' }
//	close CODE MSG       the connection ended for any reason but 515 (exit 1)
//	error MESSAGE        a command failed
// --pair: exit 0 two seconds after the first 'open'.
//
// sendMessage resolves once the stanza is written to the socket; Baileys
// does not wait for the server's ack (it only looks at acks that carry an
// error), so the driver takes the ack times from fakewa's log.  The bot
// is makeWASocket({ auth, logger, waWebSocketUrl }) with
// useMultiFileAuthState and saveCreds on creds.update, Baileys' defaults
// otherwise (its caches: user devices, sessions in the key store), except
// shouldSyncHistoryMessage: () => false as in bench/baileys-recv.mjs.
// Receipts that come back are handled by Baileys as usual.

import { createRequire } from 'module';
import { createInterface } from 'readline';
import { fileURLToPath, pathToFileURL } from 'url';
import path from 'path';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.BAILEYS_MODULES || path.join(here, '..', 'tests', 'fakewa', 'node_modules');
const req = createRequire(path.join(modules, 'x.js'));
const load = name => import(pathToFileURL(req.resolve(name)).href);

function usage(msg) {
	if (msg)
		process.stderr.write(`baileys-send: ${msg}\n`);
	process.stderr.write('usage: node bench/baileys-send.mjs [--pair] DIR\n');
	process.exit(2);
}

const args = process.argv.slice(2);
let pair = false;
let dir;
while (args.length) {
	const a = args.shift();
	if (a === '--pair')
		pair = true;
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
// libsignal console.log()s session dumps: keep stdout for answers
for (const k of ['log', 'info', 'debug', 'warn'])
	console[k] = () => {};

const logger = pino({ level: 'silent' });
const { state, saveCreds } = await useMultiFileAuthState(dir);
let sock;
const out = l => process.stdout.write(l + '\n');

function connect() {
	sock = makeWASocket({ auth: state, logger, waWebSocketUrl: url, shouldSyncHistoryMessage: () => false });
	sock.ev.on('creds.update', saveCreds);
	sock.ev.on('connection.update', u => {
		if (u.qr)
			out(`qr ${u.qr}`);
		if (u.connection === 'open') {
			out(`open ${state.creds.me?.id ?? '-'}`);
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
			out(`close ${code} ${String(err?.message ?? '').replace(/\s+/g, ' ')}`);
			process.exit(1);
		}
	});
}

async function run(line) {
	const [cmd, ...rest] = line.trim().split(/\s+/);
	if (cmd === 'quit')
		process.exit(0);
	if (cmd !== 'texts' || rest.length < 2 || !/^\d+$/.test(rest[1]))
		return `error unknown command ${line.trim()}`;
	const [jid, n, prefix = 'm'] = rest;
	let first;
	let last;
	const t0 = Date.now();
	for (let i = 1; i <= +n; i++) {
		const m = await sock.sendMessage(jid, { text: `${prefix} ${i}` });
		first = first ?? m.key.id;
		last = m.key.id;
	}
	return `sent ${n} ${first} ${last} ${t0} ${Date.now()}`;
}

let chain = Promise.resolve();
createInterface({ input: process.stdin }).on('line', line => {
	chain = chain.then(async () => {
		try {
			out(await run(line));
		} catch (err) {
			out(`error ${String(err?.message ?? err).replace(/\s+/g, ' ')}`);
		}
	});
});

connect();

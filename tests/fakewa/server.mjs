#!/usr/bin/env node
// fakewa: a simulated WhatsApp Web server for wa's tests, built on Baileys'
// own primitives (binary codec, WAProto, Curve, AES-GCM, HKDF).
//
// usage: node server.mjs [--stdin-lifeline] [--root-key-out FILE] [--state-dir DIR]
//                         [--accept-any-login | --strict-login] [--config KEY=VALUE]...
//
// Listens on 127.0.0.1 with OS-chosen ports: a websocket endpoint at
// /ws/chat and a loopback HTTP control API.  Prints exactly one JSON line
// to stdout once ready:
//   {"ws":"ws://127.0.0.1:P/ws/chat","control":"http://127.0.0.1:Q","rootPub":"<hex>","pid":N}
// and logs to stderr.  Exits when its parent goes away (parent pid
// changes), on EOF of stdin with --stdin-lifeline, on SIGTERM/SIGINT, or on
// POST /shutdown.
//
// --config KEY=VALUE sets a behaviour setting (src/config.mjs; also GET/POST
// /config), e.g. --config qrFirstMs=2000.  --accept-any-login and
// --strict-login set acceptAnyLogin to true (the default) or false.
// --state-dir also keeps the account registry (DIR/accounts.json).

import { writeFileSync } from 'fs';
import { WebSocketServer } from 'ws';
import { Accounts } from './src/accounts.mjs';
import { checkSetting, defaultConfig } from './src/config.mjs';
import { Connection } from './src/connection.mjs';
import { startControl } from './src/control.mjs';
import { EventLog } from './src/events.mjs';
import { log } from './src/log.mjs';
import { Messaging } from './src/messaging.mjs';
import { fakewaRouter } from './src/router.mjs';
import { loadKeys } from './src/state.mjs';

const USAGE = 'usage: node server.mjs [--stdin-lifeline] [--root-key-out FILE] [--state-dir DIR]\n' +
	'       [--accept-any-login | --strict-login] [--config KEY=VALUE]...';

function parseArgs(argv) {
	const opts = { lifeline: false, rootKeyOut: null, stateDir: null, config: defaultConfig() };
	const set = (k, v) => {
		try {
			opts.config[k] = checkSetting(k, v);
		} catch (err) {
			usage(err.message);
		}
	};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const val = () => {
			if (i + 1 >= argv.length)
				usage(`${a} needs a value`);
			return argv[++i];
		};
		if (a === '--stdin-lifeline')
			opts.lifeline = true;
		else if (a === '--root-key-out')
			opts.rootKeyOut = val();
		else if (a === '--state-dir')
			opts.stateDir = val();
		else if (a === '--accept-any-login')
			set('acceptAnyLogin', true);
		else if (a === '--strict-login')
			set('acceptAnyLogin', false);
		else if (a === '--config') {
			const kv = val();
			const eq = kv.indexOf('=');
			if (eq < 1)
				usage(`--config wants KEY=VALUE, not ${kv}`);
			set(kv.slice(0, eq), kv.slice(eq + 1));
		}
		else if (a === '-h' || a === '--help') {
			process.stdout.write(USAGE + '\n');
			process.exit(0);
		} else
			usage(`unknown argument ${a}`);
	}
	return opts;
}

function usage(msg) {
	process.stderr.write(`fakewa: ${msg}\n${USAGE}\n`);
	process.exit(100);
}

function listen(wss) {
	return new Promise((resolve, reject) => {
		wss.once('error', reject);
		wss.once('listening', resolve);
	});
}

async function main() {
	const opts = parseArgs(process.argv.slice(2));
	const keys = loadKeys(opts.stateDir);
	const events = new EventLog();
	const accounts = new Accounts(opts.stateDir);
	const router = fakewaRouter();
	const connections = new Map();
	const certFaults = [];
	let nextId = 1;
	let startup = null;
	let stopping = false;

	const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws/chat', maxPayload: 64 << 20 });
	await listen(wss);

	const ctx = {
		events,
		router,
		config: opts.config,
		accounts,
		connections,
		loginFaults: [],
		authority: keys.authority,
		staticKeyPair: keys.staticKeyPair,
		takeCertFault: () => certFaults.shift() ?? null
	};
	ctx.messaging = new Messaging(ctx, opts.stateDir);
	wss.on('connection', (ws, req) => {
		const id = nextId++;
		connections.set(id, new Connection(id, ws, req, ctx));
	});

	const server = {
		events,
		connections,
		router,
		ctx,
		info: () => startup,
		queueCertFault(kind, count) {
			for (let i = 0; i < count; i++)
				certFaults.push(kind);
			log.info(`queued ${kind} x${count} for the next handshake(s)`);
		},
		pendingCertFaults: () => [...certFaults],
		shutdown(why) {
			if (stopping)
				return;
			stopping = true;
			log.info(`shutting down: ${why}`);
			events.cancelAll(); // pending /wait calls answer 503
			ctx.messaging.saveNow();
			for (const c of connections.values())
				c.close({ hard: true });
			wss.close();
			setImmediate(() => {
				http.close();
				http.closeAllConnections();
			});
			// Let the last answers flush, but never hang.
			setTimeout(() => process.exit(0), 50);
		}
	};

	const http = await startControl(server);
	const wsPort = wss.address().port;
	const ctlPort = http.address().port;
	startup = {
		ws: `ws://127.0.0.1:${wsPort}/ws/chat`,
		control: `http://127.0.0.1:${ctlPort}`,
		rootPub: keys.authority.root.public.toString('hex'),
		pid: process.pid
	};
	if (opts.rootKeyOut)
		writeFileSync(opts.rootKeyOut, startup.rootPub + '\n');

	// Lifelines: never outlive the test that started us.
	const parent = process.ppid;
	setInterval(() => {
		if (process.ppid !== parent)
			server.shutdown(`parent ${parent} went away`);
	}, 250).unref();
	if (opts.lifeline) {
		process.stdin.on('data', () => {});
		process.stdin.on('end', () => server.shutdown('stdin closed'));
		process.stdin.on('error', () => server.shutdown('stdin error'));
	}
	process.on('SIGTERM', () => server.shutdown('SIGTERM'));
	process.on('SIGINT', () => server.shutdown('SIGINT'));
	process.stdout.on('error', () => {}); // reader of the startup line may be gone

	process.stdout.write(JSON.stringify(startup) + '\n');
	log.info('ready', startup);
}

main().catch(err => {
	log.error(`startup failed: ${err.stack}`);
	process.exit(111);
});

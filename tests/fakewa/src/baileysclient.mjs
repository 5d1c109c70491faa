#!/usr/bin/env node
// A line-driven Baileys client for tests: the real makeWASocket with a
// useMultiFileAuthState folder, pointed at fakewa.  Baileys' pinned
// WhatsApp root key is replaced by the test root (--root HEX) in this
// process only, as in noiseclient.mjs.
//
// usage: node baileysclient.mjs --root HEX --ws URL
//
// One command per line on stdin, one answer line on stdout:
//
//   start DIR [qr=MS] [keepalive=MS] [init=0|1] [keep=1]
//                        -> ok N        (socket N on DIR's creds, read from
//                                        disk; the previous socket is ended
//                                        unless keep=1)
//   next [MS] [#N] [TYPE...]
//                        -> the next event (of socket N, of one of TYPEs),
//                           or timeout:
//                           qr STRING | open JID LID | close CODE MESSAGE [DATA] |
//                           newlogin | creds
//                           (DATA: the Boom's data as JSON: <failure> attrs,
//                           or the stream error's child node)
//   paircode PHONE [CODE] -> code XXXXXXXX   (sock.requestPairingCode)
//   creds                -> {"me":…,"platform":…,"registered":…,"account":bool,…}
//   logout               -> ok          (sock.logout())
//   end                  -> ok          (sock.end(), no reconnect)
//   quit
//
// Events not asked for stay queued.  Baileys never reconnects by itself;
// the test does, with another start (e.g. after "close 515").

import { createInterface } from 'readline';
import makeWASocket, { useMultiFileAuthState } from 'baileys';
import { WA_CERT_DETAILS } from 'baileys/lib/Defaults/index.js';

const args = process.argv.slice(2);
const opt = {};
for (let i = 0; i < args.length; i += 2)
	opt[args[i].replace(/^--/, '')] = args[i + 1];
if (!/^[0-9a-f]{64}$/.test(opt.root ?? '') || !opt.ws) {
	process.stderr.write('usage: node baileysclient.mjs --root HEX --ws URL\n');
	process.exit(100);
}
WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(opt.root, 'hex');

const debug = !!process.env.FAKEWA_CLIENT_DEBUG;
const say = level => (obj, msg) => {
	if (debug)
		process.stderr.write(`[baileys ${level}] ${typeof obj === 'string' ? obj : `${msg ?? ''} ${safe(obj)}`}\n`);
};
function safe(o) {
	try {
		return JSON.stringify(o, (k, v) => (v && v.type === 'Buffer' ? '<buf>' : v)).slice(0, 600);
	} catch {
		return String(o);
	}
}
const logger = {
	level: debug ? 'debug' : 'silent',
	child() {
		return logger;
	},
	trace() {},
	debug: say('debug'), info: say('info'), warn: say('warn'), error: say('error'), fatal: say('fatal')
};

let sock = null;
let state = null;
let sockNo = 0;
let saving = Promise.resolve();
const queue = [];
let waiter = null;

function push(ev) {
	if (waiter && waiter.want(ev)) {
		const w = waiter;
		waiter = null;
		clearTimeout(w.timer);
		w.resolve(ev);
		return;
	}
	queue.push(ev);
}

function next(types, ms, only) {
	const want = ev => (!types.length || types.includes(ev.type)) && (only === undefined || ev.sock === only);
	const i = queue.findIndex(want);
	if (i >= 0)
		return Promise.resolve(queue.splice(i, 1)[0]);
	return new Promise(resolve => {
		waiter = { want, resolve, timer: setTimeout(() => { waiter = null; resolve({ type: 'timeout' }); }, ms) };
	});
}

function render(ev) {
	switch (ev.type) {
	case 'qr': return `qr ${ev.qr}`;
	case 'open': return `open ${ev.jid} ${ev.lid}`;
	case 'close': return `close ${ev.code} ${ev.message}${ev.data ? ' ' + ev.data : ''}`;
	default: return ev.type;
	}
}

async function start(dir, flags) {
	if (sock && !flags.includes('keep=1')) {
		const s = sock;
		sock = null;
		s.ev.removeAllListeners();
		s.end(undefined);
	}
	await saving;
	const flag = (name, def) => {
		const f = flags.find(x => x.startsWith(name + '='));
		return f ? f.slice(name.length + 1) : def;
	};
	const auth = await useMultiFileAuthState(dir);
	state = auth.state;
	const s = makeWASocket({
		auth: state,
		logger,
		waWebSocketUrl: opt.ws,
		qrTimeout: +flag('qr', 0) || undefined,
		keepAliveIntervalMs: +flag('keepalive', 30000),
		connectTimeoutMs: 10000,
		defaultQueryTimeoutMs: 10000,
		fireInitQueries: flag('init', '1') === '1',
		markOnlineOnConnect: false,
		syncFullHistory: false
	});
	sock = s;
	const no = ++sockNo;
	const creds = state.creds;
	s.ev.on('creds.update', () => {
		saving = saving.then(() => auth.saveCreds()).catch(err => process.stderr.write(`saveCreds: ${err.message}\n`));
		push({ type: 'creds', sock: no });
	});
	s.ev.on('connection.update', u => {
		if (u.qr)
			push({ type: 'qr', sock: no, qr: u.qr });
		if (u.isNewLogin)
			push({ type: 'newlogin', sock: no });
		if (u.connection === 'open')
			push({ type: 'open', sock: no, jid: creds.me?.id, lid: creds.me?.lid ?? '-' });
		if (u.connection === 'close') {
			const err = u.lastDisconnect?.error;
			push({
				type: 'close', sock: no, code: err?.output?.statusCode ?? 0,
				message: String(err?.message ?? '').replace(/\s+/g, ' '), data: boomData(err?.data)
			});
		}
	});
	return `ok ${no}`;
}

function boomData(d) {
	if (!d || typeof d !== 'object')
		return null;
	if (typeof d.tag === 'string')
		return JSON.stringify({ tag: d.tag, attrs: d.attrs ?? {} });
	if (Object.values(d).every(v => typeof v === 'string'))
		return JSON.stringify(d);
	return null;
}

function credsSummary() {
	const c = state?.creds;
	if (!c)
		return '{}';
	return JSON.stringify({
		me: c.me ?? null,
		platform: c.platform ?? null,
		registered: !!c.registered,
		account: !!c.account,
		pairingCode: c.pairingCode ?? null,
		nextPreKeyId: c.nextPreKeyId,
		firstUnuploadedPreKeyId: c.firstUnuploadedPreKeyId,
		signalIdentities: (c.signalIdentities ?? []).length
	});
}

async function run(line) {
	const [cmd, ...rest] = line.trim().split(/\s+/);
	switch (cmd) {
	case 'start':
		if (!rest[0])
			return 'error usage: start DIR [qr=MS] [keepalive=MS] [init=0|1] [keep=1]';
		return start(rest[0], rest.slice(1));
	case 'next': {
		let ms = 10000;
		let only;
		if (/^\d+$/.test(rest[0] ?? ''))
			ms = +rest.shift();
		if (/^#\d+$/.test(rest[0] ?? ''))
			only = +rest.shift().slice(1);
		return render(await next(rest, ms, only));
	}
	case 'paircode': {
		if (!sock)
			return 'error no socket';
		const code = await sock.requestPairingCode(rest[0], rest[1]);
		return `code ${code}`;
	}
	case 'creds':
		await saving;
		return credsSummary();
	case 'logout':
		if (!sock)
			return 'error no socket';
		await sock.logout();
		return 'ok';
	case 'end':
		if (sock) {
			const s = sock;
			sock = null;
			s.ev.removeAllListeners();
			s.end(undefined);
		}
		await saving;
		return 'ok';
	case 'quit':
		await saving;
		process.exit(0);
		break;
	default:
		return `error unknown command ${cmd}`;
	}
}

let chain = Promise.resolve();
const rl = createInterface({ input: process.stdin });
rl.on('line', line => {
	chain = chain.then(async () => {
		let out;
		try {
			out = await run(line);
		} catch (err) {
			out = `error ${err.message}`;
		}
		process.stdout.write(String(out).replace(/\n/g, ' ') + '\n');
	});
});
rl.on('close', () => chain.then(async () => {
	await saving;
	process.exit(0);
}));
process.on('unhandledRejection', err => {
	if (debug)
		process.stderr.write(`unhandled: ${err?.stack ?? err}\n`);
});

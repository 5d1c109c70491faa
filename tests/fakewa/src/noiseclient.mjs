#!/usr/bin/env node
// A scriptable WhatsApp Web client made from Baileys' own client noise
// handler (makeNoiseHandler), used to test fakewa with an implementation
// nobody here wrote.  Baileys' pinned WhatsApp root key is replaced at run
// time by the test root (--root HEX), in this process only.
//
// usage: node noiseclient.mjs --root HEX
//
// Reads one command per line on stdin and answers each with exactly one
// line on stdout:
//
//   connect URL register|login JID [strict] [routing=HEX] [header=HEX] [chunk=N]
//           -> ok connected | error handshake: MSG | error cert CHECK: MSG
//              strict: check the chain like whatsmeow (certcheck.mjs)
//                      instead of Baileys' processHandshake
//              routing: Baileys' ED prefix with this routing info
//              header: a different connection header (default 57410603)
//              chunk: split everything we send into N-byte ws messages
//   send JSON            -> ok                  (node in fakewa's JSON form)
//   query JSON [MS]      -> node JSON | timeout | closed CODE | error MSG
//                           (waits for the iq with the same id)
//   recv [MS] [TAG]      -> node JSON | timeout | closed CODE | error MSG
//                           (next node, or the next one with TAG)
//   disconnect           -> ok
//   quit
//
// Byte contents over 64 KiB are shown as {"length": N}.

import { createInterface } from 'readline';
import WebSocket from 'ws';
import { proto } from 'baileys/WAProto/index.js';
import { DEFAULT_CONNECTION_CONFIG, NOISE_WA_HEADER, WA_CERT_DETAILS } from 'baileys/lib/Defaults/index.js';
import { initAuthCreds } from 'baileys/lib/Utils/auth-utils.js';
import { Curve } from 'baileys/lib/Utils/crypto.js';
import { makeNoiseHandler } from 'baileys/lib/Utils/noise-handler.js';
import { generateLoginNode, generateRegistrationNode } from 'baileys/lib/Utils/validate-connection.js';
import { encodeBinaryNode } from 'baileys/lib/WABinary/index.js';
import { verifyCertChain } from './certcheck.mjs';
import { nodeFromJSON } from './nodes.mjs';

const DEFAULT_WAIT = 5000;
const SHOW_MAX = 64 << 10;

const args = process.argv.slice(2);
const rootHex = args[0] === '--root' ? args[1] : null;
if (!rootHex || !/^[0-9a-f]{64}$/.test(rootHex)) {
	process.stderr.write('usage: node noiseclient.mjs --root HEX\n');
	process.exit(100);
}
const rootPub = Buffer.from(rootHex, 'hex');
// The one runtime patch: Baileys reads WA_CERT_DETAILS.PUBLIC_KEY when it
// verifies the intermediate certificate.
WA_CERT_DETAILS.PUBLIC_KEY = rootPub;

const creds = initAuthCreds();
const silent = { level: 'silent', trace() {}, debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

let sock = null; // { ws, noise, queue, waiter, closed }

function show(node) {
	const out = { tag: node.tag, attrs: { ...node.attrs } };
	const c = node.content;
	if (Array.isArray(c))
		out.content = c.map(show);
	else if (Buffer.isBuffer(c) || c instanceof Uint8Array)
		out.content = c.length > SHOW_MAX ? { length: c.length } : { base64: Buffer.from(c).toString('base64') };
	else if (typeof c === 'string')
		out.content = c;
	return out;
}

function push(s, item) {
	if (s.waiter && s.waiter.want(item)) {
		const w = s.waiter;
		s.waiter = null;
		clearTimeout(w.timer);
		w.resolve(item);
		return;
	}
	s.queue.push(item);
}

/**
 * The first queued item that want() accepts, or an error/close, waiting up
 * to ms.  Nodes that are not wanted stay queued for later commands.
 */
function next(s, want, ms) {
	const take = x => x.type !== 'node' || want(x);
	const i = s.queue.findIndex(take);
	if (i >= 0)
		return Promise.resolve(s.queue.splice(i, 1)[0]);
	if (s.closed !== null)
		return Promise.resolve({ type: 'closed', code: s.closed });
	return new Promise(resolve => {
		s.waiter = {
			want: take,
			resolve,
			timer: setTimeout(() => {
				s.waiter = null;
				resolve({ type: 'timeout' });
			}, ms)
		};
	});
}

function render(item) {
	switch (item.type) {
	case 'node': return `node ${JSON.stringify(show(item.node))}`;
	case 'closed': return `closed ${item.code}`;
	case 'error': return `error ${item.message}`;
	default: return 'timeout';
	}
}

async function connect(url, mode, jid, flags) {
	if (sock)
		disconnect();
	const strict = flags.includes('strict');
	const flag = name => flags.find(f => f.startsWith(name + '='))?.slice(name.length + 1);
	const routing = flag('routing');
	const header = flag('header');
	const chunk = +(flag('chunk') || 0);
	const ephemeral = Curve.generateKeyPair();
	const noise = makeNoiseHandler({
		keyPair: ephemeral,
		NOISE_HEADER: header ? Buffer.from(header, 'hex') : NOISE_WA_HEADER,
		logger: silent,
		routingInfo: routing ? Buffer.from(routing, 'hex') : undefined
	});
	const ws = new WebSocket(url, { origin: 'https://web.whatsapp.com' });
	const send = bytes => {
		if (!chunk)
			return ws.send(bytes);
		for (let i = 0; i < bytes.length; i += chunk)
			ws.send(bytes.subarray(i, i + chunk));
	};
	const s = { ws, send, noise, queue: [], waiter: null, closed: null, chain: Promise.resolve(), handshake: null };
	sock = s;

	ws.on('message', data => {
		// Serialise: decodeFrame is async and keeps a shared buffer.
		s.chain = s.chain.then(() => noise.decodeFrame(data, frame => {
			if (s.handshake) {
				const h = s.handshake;
				s.handshake = null;
				h(frame);
			} else
				push(s, { type: 'node', node: frame });
		})).catch(err => push(s, { type: 'error', message: err.message }));
	});
	ws.on('close', code => {
		s.closed = code;
		push(s, { type: 'closed', code });
	});
	ws.on('error', err => push(s, { type: 'error', message: err.message }));

	await new Promise((resolve, reject) => {
		ws.once('open', resolve);
		ws.once('error', reject);
	});

	const serverHello = new Promise((resolve, reject) => {
		s.handshake = resolve;
		ws.once('close', code => reject(new Error(`closed ${code} during handshake`)));
		setTimeout(() => reject(new Error('no ServerHello')), DEFAULT_WAIT);
	});
	send(noise.encodeFrame(proto.HandshakeMessage.encode({ clientHello: { ephemeral: ephemeral.public } }).finish()));
	const handshake = proto.HandshakeMessage.decode(await serverHello);

	let keyEnc;
	if (strict) {
		const sh = handshake.serverHello;
		noise.authenticate(sh.ephemeral);
		noise.mixIntoKey(Curve.sharedKey(ephemeral.private, sh.ephemeral));
		const serverStatic = noise.decrypt(sh.static);
		noise.mixIntoKey(Curve.sharedKey(ephemeral.private, serverStatic));
		const bad = verifyCertChain(noise.decrypt(sh.payload), serverStatic, rootPub);
		if (bad) {
			ws.close();
			return `error cert ${bad.check}: ${bad.message}`;
		}
		keyEnc = noise.encrypt(creds.noiseKey.public);
		noise.mixIntoKey(Curve.sharedKey(creds.noiseKey.private, sh.ephemeral));
	} else {
		try {
			keyEnc = noise.processHandshake(handshake, creds.noiseKey);
		} catch (err) {
			ws.close();
			return `error handshake: ${err.message}`;
		}
	}
	const payload = mode === 'login'
		? generateLoginNode(jid, DEFAULT_CONNECTION_CONFIG)
		: generateRegistrationNode(creds, DEFAULT_CONNECTION_CONFIG);
	const payloadEnc = noise.encrypt(proto.ClientPayload.encode(payload).finish());
	send(noise.encodeFrame(proto.HandshakeMessage.encode({ clientFinish: { static: keyEnc, payload: payloadEnc } }).finish()));
	await noise.finishInit();
	return 'ok connected';
}

function disconnect() {
	if (sock) {
		sock.ws.terminate();
		sock = null;
	}
}

function sendNode(node) {
	if (!sock || sock.closed)
		throw new Error('not connected');
	sock.send(sock.noise.encodeFrame(encodeBinaryNode(node)));
}

async function run(line) {
	const [cmd, ...rest] = line.trim().split(/\s+/);
	const tail = line.trim().slice(cmd.length).trim();
	switch (cmd) {
	case 'connect':
		if (rest.length < 2 || (rest[1] === 'login' && !rest[2]))
			return 'error usage: connect URL register|login JID [strict] [routing=HEX] [header=HEX] [chunk=N]';
		return connect(rest[0], rest[1], rest[1] === 'login' ? rest[2] : null, rest.slice(rest[1] === 'login' ? 3 : 2));
	case 'send':
		sendNode(nodeFromJSON(JSON.parse(tail)));
		return 'ok';
	case 'query': {
		const m = tail.match(/^(.*\})\s*(\d+)?$/);
		const node = nodeFromJSON(JSON.parse(m[1]));
		sendNode(node);
		const id = node.attrs.id;
		return render(await next(sock, x => x.type === 'node' && x.node.tag === 'iq' && x.node.attrs.id === id, +(m[2] || DEFAULT_WAIT)));
	}
	case 'recv': {
		if (!sock)
			return 'error not connected';
		const ms = rest[0] ? +rest[0] : DEFAULT_WAIT;
		const tag = rest[1];
		return render(await next(sock, x => x.type === 'node' && (!tag || x.node.tag === tag), ms));
	}
	case 'disconnect':
		disconnect();
		return 'ok';
	case 'quit':
		disconnect();
		process.exit(0);
		break;
	case undefined:
	case '':
		return 'error empty command';
	default:
		return `error unknown command ${cmd}`;
	}
}

// Commands run strictly one after another.
let queue = Promise.resolve();
const rl = createInterface({ input: process.stdin });
rl.on('line', line => {
	queue = queue.then(async () => {
		let out;
		try {
			out = await run(line);
		} catch (err) {
			out = `error ${err.message}`;
		}
		process.stdout.write(String(out).replace(/\n/g, ' ') + '\n');
	});
});
rl.on('close', () => queue.then(() => {
	disconnect();
	process.exit(0);
}));

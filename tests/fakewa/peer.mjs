#!/usr/bin/env node
// peer.mjs - a receiving Baileys peer that writes down everything it gets,
// for the sending tests (tests/3310-send-kill9.t): which message ids
// arrive, how often, and every decryption problem its libsignal reports.
//
//	node tests/fakewa/peer.mjs --root HEX --ws URL [--name NAME] DIR
//
// DIR is a useMultiFileAuthState folder; when it is not paired yet the
// peer prints the QR (for fakewa's /phone/scan), reconnects after the 515
// and goes on.  Baileys' pinned WhatsApp root key is replaced by HEX in
// this process only.  After 'open' it sends <presence type=available>
// with the push name NAME (default "peer"), so its delivery receipts carry
// no type (as tests/fakewa/README.md says, 'inactive' otherwise).
//
// Standard output, one JSON object a line (written synchronously, so a
// file holds every line up to the moment the peer is killed):
//	{"ev":"qr","qr":S}
//	{"ev":"open","jid":J,"lid":L}
//	{"ev":"close","code":N,"message":S}          (515: reconnects)
//	{"ev":"message","id":ID,"from":JID,"text":S,"t":MS}   a decrypted message
//	{"ev":"stub","id":ID,"from":JID,"error":S,"t":MS}     a message Baileys
//	                                            could not decrypt (CIPHERTEXT stub)
//	{"ev":"decrypt-error","id":ID,"error":S}    Baileys' "failed to decrypt
//	                                            message" log (also for the
//	                                            pkmsgs it nacks without a stub:
//	                                            "Key used already or never filled")
//	{"ev":"signal","level":"error"|"warn","text":S}  libsignal's console output:
//	                                            "Session error:…" for each session
//	                                            a message failed on (old counter,
//	                                            Bad MAC, chain closed, …);
//	                                            "Decrypted message with closed
//	                                            session." is a warn
// Ends on SIGTERM or when its parent process is gone.

import { writeSync } from 'fs';
import makeWASocket, { DisconnectReason, proto, useMultiFileAuthState } from 'baileys';
import { WA_CERT_DETAILS } from 'baileys/lib/Defaults/index.js';

const args = process.argv.slice(2);
const opt = { name: 'peer' };
while (args.length) {
	const a = args.shift();
	if (a.startsWith('--') && args.length)
		opt[a.slice(2)] = args.shift();
	else
		opt.dir = a;
}
if (!/^[0-9a-f]{64}$/.test(opt.root ?? '') || !opt.ws || !opt.dir) {
	process.stderr.write('usage: node tests/fakewa/peer.mjs --root HEX --ws URL [--name NAME] DIR\n');
	process.exit(2);
}
WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(opt.root, 'hex');

const emit = o => writeSync(1, JSON.stringify(o) + '\n');
const one = s => String(s ?? '').replace(/\s+/g, ' ').trim();
// libsignal reports through the console: keep what concerns decryption
console.log = console.info = console.debug = () => {};
console.warn = (...a) => emit({ ev: 'signal', level: 'warn', text: one(a.map(String).join(' ')).slice(0, 300) });
console.error = (...a) => emit({ ev: 'signal', level: 'error', text: one(a.map(x => (x instanceof Error ? x.message : String(x))).join(' ')).slice(0, 300) });

const logger = {
	level: 'error',
	child: () => logger,
	trace() {}, debug() {}, info() {}, warn() {}, fatal() {},
	error(obj, msg) {
		if (msg === 'failed to decrypt message')
			emit({ ev: 'decrypt-error', id: obj?.key?.id ?? null, error: one(obj?.err?.message ?? obj?.err) });
	}
};

const { state, saveCreds } = await useMultiFileAuthState(opt.dir);
let sock;

function connect() {
	sock = makeWASocket({
		auth: state, logger, waWebSocketUrl: opt.ws, markOnlineOnConnect: false,
		shouldSyncHistoryMessage: () => false, connectTimeoutMs: 10000, defaultQueryTimeoutMs: 10000
	});
	sock.ev.on('creds.update', saveCreds);
	sock.ev.on('connection.update', async u => {
		if (u.qr)
			emit({ ev: 'qr', qr: u.qr });
		if (u.connection === 'open') {
			state.creds.me.name = opt.name;
			try {
				await sock.sendPresenceUpdate('available');
			} catch { /* the open line says enough */ }
			emit({ ev: 'open', jid: state.creds.me?.id ?? null, lid: state.creds.me?.lid ?? null });
		}
		if (u.connection === 'close') {
			const err = u.lastDisconnect?.error;
			const code = err?.output?.statusCode ?? 0;
			emit({ ev: 'close', code, message: one(err?.message) });
			if (code === DisconnectReason.restartRequired)
				connect();
			else
				process.exit(1);
		}
	});
	sock.ev.on('messages.upsert', ({ messages }) => {
		for (const m of messages) {
			if (m.key?.fromMe || !m.key?.id)
				continue;
			const from = m.key.participant || m.key.remoteJid;
			if (m.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT) {
				emit({ ev: 'stub', id: m.key.id, from, error: one(m.messageStubParameters?.join(' ')), t: Date.now() });
				continue;
			}
			const msg = m.message;
			if (!msg)
				continue;
			const text = msg.conversation ?? msg.extendedTextMessage?.text ?? null;
			emit({ ev: 'message', id: m.key.id, from, text, t: Date.now() });
		}
	});
}

process.on('SIGTERM', () => process.exit(0));
// the test that started it is gone (its parent pid changes): end too
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 1000).unref?.();
setInterval(() => {}, 1 << 30);
connect();

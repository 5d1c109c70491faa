// Control API: loopback HTTP, JSON in and out (see ../README.md).
//
//   GET  /info                      startup line + counters
//   GET  /connections               [{id, state, remotePort, stalled, payload summary}]
//   POST /push     {conn?, node, compress?}
//   POST /close    {conn?, hard?}
//   POST /fault    {conn?, kind, ...params}
//   GET  /faults                    the fault kinds
//   GET  /log?conn=&since=&event=   recorded events
//   GET  /wait?event=&conn=&tag=&child=&attr.K=V&ev.K=V&since=&timeout_ms=
//   POST /shutdown
//   GET  /config, POST /config {setting: value, ...}      (config.mjs)
//   POST /phone/scan {qr, conn?, phone?, forge?, ...}     (pairing.mjs)
//   POST /phone/link-code {code, conn?, forge?, ...}
//   GET  /accounts, POST /accounts/import {dir, prekeys?}
//   GET  /accounts/JID, GET /accounts/JID/prekeys
//   POST /accounts/JID/prekeys/take {n}, POST /accounts/JID/remove {reason?}
//   GET  /messages?device=&id=&state=&kind=, GET /receipts?device=&id=   (messaging.mjs)
//   POST /messages/fault {kind: corrupt, device, count}
//   POST /groups {subject, participants, owner}, GET /groups             (groups.mjs)
//   POST /groups/add {jid, participants}                                 (groups.mjs)
//   POST /floods {to, count, text?, phone?}                              (floods.mjs)
//   POST /synth {users, devicesPerUser?, phone?, prekeys?, decrypt?}, GET /synth?id=  (synth.mjs)
//
// Errors: 4xx with {"error": "..."}; /wait answers 408 {"timeout": true, "seq": N}
// when nothing matched in time and 503 when the server shuts down meanwhile.
// Where `conn` is optional it defaults to the newest open connection.

import { createServer } from 'http';
import { CERT_FAULTS } from './certs.mjs';
import { updateConfig } from './config.mjs';
import { applyConnFault, CONN_FAULTS, isCertFault } from './faults.mjs';
import { LOGIN_FAULTS, makeLoginFault, removeDevice } from './login.mjs';
import { flood } from './floods.mjs';
import { addParticipants, createGroup } from './groups.mjs';
import { makeSynth, synthInfo } from './synth.mjs';
import { log } from './log.mjs';
import { nodeFromJSON } from './nodes.mjs';
import { phoneLinkCode, phoneScan } from './pairing.mjs';
import { PAIR_FORGERIES } from './phone.mjs';

const BODY_MAX = 16 << 20;
const WAIT_DEFAULT_MS = 10000;
const WAIT_MAX_MS = 120000;

class HttpError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

function readBody(req) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		let size = 0;
		req.on('data', c => {
			size += c.length;
			if (size > BODY_MAX) {
				reject(new HttpError(413, 'body too large'));
				req.destroy();
				return;
			}
			chunks.push(c);
		});
		req.on('end', () => {
			const text = Buffer.concat(chunks).toString('utf8').trim();
			if (!text)
				return resolve({});
			try {
				const v = JSON.parse(text);
				if (!v || typeof v !== 'object' || Array.isArray(v))
					throw new Error('body must be a JSON object');
				resolve(v);
			} catch (err) {
				reject(new HttpError(400, `bad JSON body: ${err.message}`));
			}
		});
		req.on('error', reject);
	});
}

function intParam(v, name) {
	if (v === undefined || v === null || v === '')
		return undefined;
	const n = Number(v);
	if (!Number.isInteger(n) || n < 0)
		throw new HttpError(400, `${name} must be a non-negative integer`);
	return n;
}

/**
 * server: { events, connections: Map<id, Connection>, info(), queueCertFault(kind, count), shutdown(),
 *           ctx (what connections see: config, accounts, loginFaults, router, ...) }
 */
export function startControl(server) {
	function pickConn(id, { needOpen = true } = {}) {
		const want = intParam(id, 'conn');
		if (want !== undefined) {
			const c = server.connections.get(want);
			if (!c)
				throw new HttpError(404, `no connection ${want}`);
			if (needOpen && !c.isOpen)
				throw new HttpError(409, `connection ${want} is ${c.state}`);
			return c;
		}
		const all = [...server.connections.values()].filter(c => (needOpen ? c.isOpen : c.state !== 'closed'));
		if (!all.length)
			throw new HttpError(409, 'no open connection');
		return all[all.length - 1];
	}

	async function phone(fn, body) {
		try {
			return await fn(server.ctx, body);
		} catch (err) {
			if (err.status)
				throw new HttpError(err.status, err.message);
			throw err;
		}
	}

	function device(jid) {
		const f = server.ctx.accounts.find(jid);
		if (!f)
			throw new HttpError(404, `no account for ${jid}`);
		if (!f.device)
			throw new HttpError(404, `account ${f.account.phone} has no such device (${jid})`);
		return f.device;
	}

	// /accounts/JID[/prekeys[/take]|/remove]; undefined if the path is not one
	async function accountRoute(req, path) {
		const m = /^\/accounts\/([^/]+)(\/prekeys|\/prekeys\/take|\/remove)?$/.exec(path);
		if (!m || m[1] === 'import')
			return undefined;
		const jid = decodeURIComponent(m[1]);
		const accounts = server.ctx.accounts;
		switch (`${req.method} ${m[2] ?? ''}`) {
		case 'GET ': {
			const f = accounts.find(jid);
			if (!f)
				throw new HttpError(404, `no account for ${jid}`);
			return f.device ? accounts.deviceInfo(f.device) : accounts.accountInfo(f.account);
		}
		case 'GET /prekeys': {
			const d = device(jid);
			const ids = Object.keys(d.preKeys).map(Number).sort((a, b) => a - b);
			return {
				jid: d.jid, count: ids.length, first: ids[0] ?? null, last: ids[ids.length - 1] ?? null, ids,
				taken: d.taken, uploads: d.uploads, registrationId: d.registrationId,
				signedPreKey: d.signedPreKey ? { id: d.signedPreKey.id, valid: d.signedPreKey.valid } : null
			};
		}
		case 'POST /prekeys/take': {
			const b = await readBody(req);
			const d = device(jid);
			const n = intParam(b.n, 'n') ?? 1;
			const taken = accounts.take(d, n);
			const count = accounts.preKeyCount(d);
			// notify: tell the device's open connections, as the server does
			// when it runs low: <notification type=encrypt><count value=N/>
			const told = [];
			if (b.notify) {
				for (const c of server.connections.values()) {
					if (!c.isOpen || c.data.login?.device !== d)
						continue;
					c.sendNode({
						tag: 'notification',
						attrs: { from: 's.whatsapp.net', type: 'encrypt', id: c.ctx.router.nextId(),
						    t: String(Math.floor(Date.now() / 1000)) },
						content: [{ tag: 'count', attrs: { value: String(count) } }]
					});
					told.push(c.id);
				}
			}
			const ev = server.events.record('prekeys-taken', null, { jid: d.jid, ids: taken, count, notified: told });
			return { jid: d.jid, taken, count, notified: told, seq: ev.seq };
		}
		case 'POST /remove': {
			const b = await readBody(req);
			const d = device(jid);
			const online = [...server.connections.values()].filter(c => c.isOpen && c.data.login?.device === d);
			const reason = typeof b.reason === 'string' && b.reason ? b.reason : 'device_removed';
			if (online.length) {
				for (const c of online)
					removeDevice(c, { reason });
			} else
				accounts.remove(d, reason);
			const ev = server.events.record('device-removed', null, { jid: d.jid, online: online.map(c => c.id) });
			return { jid: d.jid, removed: d.removed, online: online.map(c => c.id), seq: ev.seq };
		}
		}
		throw new HttpError(404, `no route ${req.method} ${path}`);
	}

	const routes = {
		'GET /info': () => ({ ...server.info(), seq: server.events.seq, connections: server.connections.size }),

		'GET /connections': () => ({
			seq: server.events.seq,
			connections: [...server.connections.values()].map(c => c.info())
		}),

		'POST /push': async req => {
			const b = await readBody(req);
			const conn = pickConn(b.conn);
			let node;
			try {
				node = nodeFromJSON(b.node);
			} catch (err) {
				throw new HttpError(400, err.message);
			}
			if (conn.stalled && !b.force)
				throw new HttpError(409, `connection ${conn.id} is stalled (pass "force": true to send anyway)`);
			const ev = conn.sendNode(node, { compress: !!b.compress, force: !!b.force });
			return { conn: conn.id, seq: ev.seq };
		},

		'POST /close': async req => {
			const b = await readBody(req);
			const conn = pickConn(b.conn, { needOpen: false });
			conn.close({ hard: !!b.hard });
			return { conn: conn.id, seq: server.events.seq };
		},

		'POST /fault': async req => {
			const b = await readBody(req);
			const kind = b.kind;
			if (typeof kind !== 'string')
				throw new HttpError(400, 'kind is required');
			if (isCertFault(kind)) {
				const count = intParam(b.count, 'count') ?? 1;
				server.queueCertFault(kind, count);
				return { kind, queued: count, seq: server.events.seq };
			}
			if (Object.hasOwn(LOGIN_FAULTS, kind)) {
				const count = intParam(b.count, 'count') ?? 1;
				let f;
				try {
					f = makeLoginFault(kind, b);
				} catch (err) {
					throw new HttpError(400, err.message);
				}
				for (let i = 0; i < count; i++)
					server.ctx.loginFaults.push(f);
				log.info(`queued ${kind} x${count} for the next login(s)`, f);
				return { kind, queued: count, attrs: f.attrs, jid: f.jid, seq: server.events.seq };
			}
			if (kind === 'device-removed' || kind === 'replaced') {
				const conn = pickConn(b.conn);
				let extra;
				if (kind === 'device-removed')
					extra = removeDevice(conn, { keep: !!b.keep });
				else {
					const attrs = b.code !== undefined ? { code: String(b.code) } : {};
					const sent = conn.sendNode({ tag: 'stream:error', attrs, content: [{ tag: 'conflict', attrs: { type: 'replaced' } }] }, { force: true });
					conn.close();
					extra = { sent: sent?.seq ?? null };
				}
				const ev = server.events.record('fault', conn.id, { kind, ...extra });
				return { conn: conn.id, kind, ...extra, seq: ev.seq };
			}
			if (!CONN_FAULTS.includes(kind))
				throw new HttpError(400, `unknown fault kind ${kind}`);
			const conn = pickConn(b.conn);
			let extra;
			try {
				extra = applyConnFault(conn, kind, b);
			} catch (err) {
				throw new HttpError(400, err.message);
			}
			const ev = server.events.record('fault', conn.id, { kind, ...extra });
			log.conn(conn.id).info(`fault ${kind}`, extra);
			return { conn: conn.id, kind, ...extra, seq: ev.seq };
		},

		'GET /faults': () => ({
			connection: [...CONN_FAULTS, 'device-removed', 'replaced'],
			cert: CERT_FAULTS,
			queued: server.pendingCertFaults(),
			login: LOGIN_FAULTS,
			queuedLogin: server.ctx.loginFaults,
			forge: PAIR_FORGERIES
		}),

		'GET /config': () => ({ ...server.ctx.config }),

		'POST /config': async req => {
			const b = await readBody(req);
			try {
				updateConfig(server.ctx.config, b);
			} catch (err) {
				throw new HttpError(400, err.message);
			}
			log.info('config changed', b);
			return { ...server.ctx.config };
		},

		'POST /phone/scan': async req => phone(phoneScan, await readBody(req)),

		'POST /phone/link-code': async req => phone(phoneLinkCode, await readBody(req)),

		'GET /accounts': () => ({ defaultPhone: server.ctx.accounts.defaultPhone, accounts: server.ctx.accounts.list() }),

		'POST /accounts/import': async req => {
			const b = await readBody(req);
			if (typeof b.dir !== 'string' || !b.dir)
				throw new HttpError(400, 'dir is required');
			let r;
			try {
				r = server.ctx.accounts.importFolder(b.dir, { preKeys: b.prekeys !== false });
			} catch (err) {
				throw new HttpError(err.code === 'ENOENT' ? 404 : 400, err.message);
			}
			server.events.record('imported', null, { jid: r.device.jid, dir: b.dir });
			return { account: server.ctx.accounts.accountInfo(r.account), device: server.ctx.accounts.deviceInfo(r.device) };
		},

		'GET /log': (req, q) => {
			const filter = {
				conn: intParam(q.get('conn'), 'conn'),
				since: intParam(q.get('since'), 'since'),
				event: q.get('event') || undefined
			};
			return { seq: server.events.seq, events: server.events.list(filter) };
		},

		'GET /wait': async (req, q) => {
			const filter = {
				event: q.get('event') || undefined,
				conn: intParam(q.get('conn'), 'conn'),
				tag: q.get('tag') || undefined,
				child: q.get('child') || undefined,
				since: intParam(q.get('since'), 'since'),
				attrs: {}
			};
			for (const [k, v] of q) {
				if (k.startsWith('attr.'))
					filter.attrs[k.slice(5)] = v;
			}
			filter.fields = {};
			for (const [k, v] of q) {
				if (k.startsWith('ev.'))
					filter.fields[k.slice(3)] = v;
			}
			const timeout = Math.min(intParam(q.get('timeout_ms'), 'timeout_ms') ?? WAIT_DEFAULT_MS, WAIT_MAX_MS);
			const ev = await server.events.wait(filter, timeout);
			if (!ev)
				throw new HttpError(408, JSON.stringify({ timeout: true, seq: server.events.seq }));
			if (ev.shutdown)
				throw new HttpError(503, 'shutting down');
			return ev;
		},

		'GET /messages': (req, q) => server.ctx.messaging.listMessages(q),

		'GET /receipts': (req, q) => server.ctx.messaging.listReceipts(q),

		'POST /messages/fault': async req => phone(async (ctx, b) => ctx.messaging.addFault(b), await readBody(req)),

		'GET /groups': () => ({ groups: [...server.ctx.messaging.groups.values()] }),

		'POST /groups': async req => phone(createGroup, await readBody(req)),

		'POST /groups/add': async req => phone(addParticipants, await readBody(req)),

		'POST /floods': async req => phone(flood, await readBody(req)),

		'POST /synth': async req => phone(makeSynth, await readBody(req)),

		'GET /synth': (req, q) => synthInfo(server.ctx, q),

		'POST /shutdown': () => {
			setImmediate(() => server.shutdown('POST /shutdown'));
			return { ok: true };
		}
	};

	const http = createServer(async (req, res) => {
		const url = new URL(req.url, 'http://x');
		const route = routes[`${req.method} ${url.pathname}`];
		let status = 200;
		let body;
		try {
			if (route)
				body = await route(req, url.searchParams);
			else
				body = await accountRoute(req, url.pathname);
			if (body === undefined)
				throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
		} catch (err) {
			status = err.status ?? 500;
			if (status === 408)
				body = JSON.parse(err.message);
			else
				body = { error: err.message };
			if (status >= 500)
				log.error(`control ${req.method} ${req.url}: ${err.stack}`);
		}
		const text = JSON.stringify(body) + '\n';
		res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
		res.end(text);
	});
	http.keepAliveTimeout = 1000;
	return new Promise((resolve, reject) => {
		http.once('error', reject);
		http.listen(0, '127.0.0.1', () => resolve(http));
	});
}

// Login (wa-protocol(7) §3.3, §8.1, §10): which login payloads get <success>,
// which get <failure>, the automatic "replaced" of an older connection of
// the same device, queued login faults, and the small housekeeping iqs a
// client sends after <success> (§8.2, §8.5), answered minimally so Baileys
// (and wa-run) proceed.
//
// Who may log in (the account registry, accounts.mjs):
//   * a device fakewa paired (QR or code) or imported: the Noise static key
//     of the connection must be the one the device registered with (the
//     QR's / companion_hello's noise key, or the imported creds' noiseKey);
//   * a device that was removed (device_removed, logout): never (401);
//   * anything else: adopted (registered on the spot) when acceptAnyLogin
//     is on (the default; needed by folders made by mkauth.mjs, whose
//     account key fakewa never saw), else <failure reason="401"/>.
// Events: login {jid, accepted, reason?, via?, lid?, fault?}, replaced
// {jid, by}, logout {jid, reason}, device-removed {jid}.

import { deviceJid } from './accounts.mjs';
import { offlineBacklog } from './messaging.mjs';
import { child } from './nodes.mjs';
import { iqResult } from './stanzas.mjs';

// ---- queued login faults ---------------------------------------------------

export const LOGIN_FAULTS = {
	'login-failure': 'the next login gets <failure reason=… [code] [expire] [message] [attrs…]/> instead of <success>, then the connection closes',
	ban: '<failure reason="402" code=… expire=…/> (temporary ban; code default 101, expire in seconds, default 3600)',
	'login-silent': 'the next login gets neither <success> nor <failure> (the server says nothing)'
};

/** Check a /fault body for a login fault; returns the queued object. */
export function makeLoginFault(kind, p) {
	const attrs = {};
	if (kind === 'login-failure' || kind === 'ban') {
		const reason = kind === 'ban' ? 402 : (p.reason ?? 401);
		if (!/^\d{3}$/.test(String(reason)))
			throw new Error('reason must be a 3-digit code');
		attrs.reason = String(reason);
		if (kind === 'ban') {
			attrs.code = String(p.code ?? 101);
			attrs.expire = String(p.expire ?? 3600);
		} else {
			if (p.code !== undefined)
				attrs.code = String(p.code);
			if (p.expire !== undefined)
				attrs.expire = String(p.expire);
		}
		if (p.message !== undefined)
			attrs.message = String(p.message);
		for (const [k, v] of Object.entries(p.attrs ?? {})) {
			if (typeof v !== 'string')
				throw new Error(`attrs.${k} must be a string`);
			attrs[k] = v;
		}
		for (const k of ['code', 'expire']) {
			if (attrs[k] !== undefined && !/^\d+$/.test(attrs[k]))
				throw new Error(`${k} must be a number`);
		}
	}
	let jid = null;
	if (p.jid !== undefined) {
		jid = String(p.jid);
		if (!/^\d+(:\d+)?@s\.whatsapp\.net$/.test(jid))
			throw new Error('jid must be user[:device]@s.whatsapp.net');
	}
	return { kind, attrs, jid };
}

function takeLoginFault(ctx, jid) {
	const i = ctx.loginFaults.findIndex(f => !f.jid || f.jid === jid);
	return i < 0 ? null : ctx.loginFaults.splice(i, 1)[0];
}

// ---- the login greeting ------------------------------------------------------

function reject(conn, jid, reason, why) {
	conn.ctx.events.record('login', conn.id, { jid, accepted: false, reason, why });
	conn.log.info(`login of ${jid} refused (${reason}): ${why}`);
	conn.sendNode({ tag: 'failure', attrs: { reason: String(reason) } });
	conn.close();
	return true;
}

/** Decide about a login payload; sends <success>, <failure> or nothing. */
export function greetLogin(conn) {
	const s = conn.summary;
	if (s.pairing || !s.username) {
		conn.log.warn('payload is neither registration nor login; not greeting');
		return false;
	}
	const { accounts, config, events } = conn.ctx;
	const phone = String(s.username);
	const devNo = s.device ?? 0;
	const jid = deviceJid(phone, devNo);
	const noise = conn.clientStatic.toString('hex');

	const fault = takeLoginFault(conn.ctx, jid);
	if (fault) {
		events.record('fault', conn.id, { kind: fault.kind, ...fault.attrs, login: jid });
		if (fault.kind === 'login-silent') {
			events.record('login', conn.id, { jid, accepted: false, fault: fault.kind });
			return true;
		}
		events.record('login', conn.id, { jid, accepted: false, reason: Number(fault.attrs.reason), fault: fault.kind });
		conn.sendNode({ tag: 'failure', attrs: fault.attrs });
		conn.close();
		return true;
	}

	let a = accounts.get(phone);
	let d = a?.devices[devNo] ?? null;
	if (d?.removed)
		return reject(conn, jid, 401, `device removed (${d.removed.reason})`);
	if (d && d.via !== 'adopted') {
		if (d.noiseKey && d.noiseKey !== noise)
			return reject(conn, jid, 401, 'Noise static key is not the one the device registered with');
		if (!d.noiseKey)
			d.noiseKey = noise;
	} else if (d) { // adopted earlier
		if (d.noiseKey !== noise) {
			if (!config.acceptAnyLogin)
				return reject(conn, jid, 401, 'Noise static key differs from the adopted device\'s');
			d.noiseKey = noise;
		}
	} else {
		if (a && !a.adopted)
			return reject(conn, jid, 401, `account ${phone} has no device ${devNo}`);
		if (!config.acceptAnyLogin)
			return reject(conn, jid, 401, `unknown account ${phone} (acceptAnyLogin is off)`);
		if (!a) {
			a = accounts.getOrCreate(phone);
			a.adopted = true;
		}
		d = accounts.addDevice(a, { device: devNo, via: 'adopted', noiseKey: noise });
	}
	d.logins++;
	d.lastLogin = Date.now();
	accounts.save();
	conn.data.login = { jid: d.jid, phone, device: d, account: a };
	conn.data.lid = d.lid;

	if (config.replaceOnLogin) {
		for (const old of conn.ctx.connections.values()) {
			if (old !== conn && old.isOpen && old.data.login?.jid === d.jid) {
				events.record('replaced', old.id, { jid: d.jid, by: conn.id });
				old.log.info(`replaced by connection ${conn.id}`);
				old.sendNode({ tag: 'stream:error', attrs: {}, content: [{ tag: 'conflict', attrs: { type: 'replaced' } }] }, { force: true });
				old.close();
			}
		}
	}
	events.record('login', conn.id, { jid: d.jid, accepted: true, via: d.via, lid: d.lid });
	conn.sendNode({ tag: 'success', attrs: { t: String(Math.floor(Date.now() / 1000)), lid: d.lid } });
	return true;
}

/**
 * The device_removed stream error (§10.2): <stream:error code="401">
 * <conflict type="device_removed"/></stream:error>, then close.  Marks the
 * device removed unless keep is set, so the next login gets 401.
 */
export function removeDevice(conn, { keep = false, reason = 'device_removed' } = {}) {
	const login = conn.data.login;
	if (login && !keep)
		conn.ctx.accounts.remove(login.device, reason);
	conn.ctx.events.record('device-removed', conn.id, { jid: login?.jid ?? null, kept: keep });
	const ev = conn.sendNode({
		tag: 'stream:error', attrs: { code: '401' },
		content: [{ tag: 'conflict', attrs: { type: 'device_removed' } }]
	}, { force: true });
	conn.close();
	return { jid: login?.jid ?? null, sent: ev?.seq ?? null };
}

// ---- housekeeping iqs (§8.2, §8.5) -------------------------------------------

const iq = (type, xmlns, tag) => n => n.tag === 'iq' && n.attrs.type === type && n.attrs.xmlns === xmlns &&
	(tag === undefined || !!child(n, tag));

export const passiveHandler = {
	name: 'passive',
	match: n => n.tag === 'iq' && n.attrs.type === 'set' && n.attrs.xmlns === 'passive',
	handle(n, conn) {
		const active = !!child(n, 'active');
		conn.data.active = active;
		conn.sendNode(iqResult(n));
		if (active && conn.data.login && !conn.data.offlineSent) {
			// The queued stanzas (messaging.mjs), then the end of the backlog.
			const count = offlineBacklog(conn);
			conn.data.offlineSent = true;
			if (conn.ctx.config.sendOffline)
				conn.sendNode({ tag: 'ib', attrs: {}, content: [{ tag: 'offline', attrs: { count: String(count) } }] });
		}
	}
};

/** AB props: no props, a stable hash (the client stores it, §8.2 step 7). */
export const propsHandler = {
	name: 'abt-props',
	match: iq('get', 'abt', 'props'),
	handle: (n, conn) => conn.sendNode(iqResult(n, [{ tag: 'props', attrs: { protocol: '1', hash: 'fakewa1', refresh: '86400' } }]))
};

export const blocklistHandler = {
	name: 'blocklist',
	match: iq('get', 'blocklist'),
	handle: (n, conn) => conn.sendNode(iqResult(n, [{ tag: 'list', attrs: {} }]))
};

const PRIVACY = { last: 'all', online: 'all', profile: 'all', status: 'all', groupadd: 'all', readreceipts: 'all', calladd: 'all' };
export const privacyHandler = {
	name: 'privacy',
	match: iq('get', 'privacy', 'privacy'),
	handle: (n, conn) => conn.sendNode(iqResult(n, [{
		tag: 'privacy', attrs: {},
		content: Object.entries(PRIVACY).map(([name, value]) => ({ tag: 'category', attrs: { name, value } }))
	}]))
};

/** Dirty-bit clean and WAM statistics: just acknowledged. */
export const okHandler = {
	name: 'ok',
	match: n => n.tag === 'iq' && (n.attrs.type === 'set' || n.attrs.type === undefined) &&
		(n.attrs.xmlns === 'urn:xmpp:whatsapp:dirty' || n.attrs.xmlns === 'w:stats'),
	handle: (n, conn) => conn.sendNode(iqResult(n))
};

/** Logout from the companion (§10.4): result, and the device is gone. */
export const logoutHandler = {
	name: 'logout',
	match: iq('set', 'md', 'remove-companion-device'),
	handle(n, conn) {
		const rc = child(n, 'remove-companion-device');
		const login = conn.data.login;
		if (login)
			conn.ctx.accounts.remove(login.device, rc.attrs.reason || 'logout');
		conn.ctx.events.record('logout', conn.id, { jid: login?.jid ?? null, target: rc.attrs.jid ?? null, reason: rc.attrs.reason ?? null });
		conn.sendNode(iqResult(n));
	}
};

export const housekeepingHandlers = [passiveHandler, propsHandler, blocklistHandler, privacyHandler, okHandler, logoutHandler];


// Linking a companion (wa-protocol(7) §6, §7): the registration connection's
// QR refs and their expiry, the simulated phone's scan and link-code entry
// (driven through the control API), pair-success, the check of the
// companion's reply, and the 515 that ends a successful pairing.
//
// Events recorded here (besides node/sent):
//   qr-expired   {refs, action}                    all refs used up
//   scan         {ref, window, phone, jid, lid, keyIndex, forge, hosted, via}
//   link-code-hello  {phone, ref, platformId, platformDisplay, noiseMatches}
//   link-code-primary {phone, ref}                 notification sent
//   link-code-finish  {ok, reason?}
//   pair-reply   {accepted, ok?, checks?, problems?, error?, closed?, timeout?, forge}
//   paired       {jid, lid, phone, device, keyIndex, via, platform}
//   pair-failed  {reason, problems?}
// Each carries `conn`; /wait?event=pair-reply&ev.accepted=true etc.

import { randomBytes } from 'crypto';
import { Curve } from 'baileys/lib/Utils/crypto.js';
import { deviceJid, deviceLid } from './accounts.mjs';
import { log } from './log.mjs';
import { child } from './nodes.mjs';
import {
	buildDeviceIdentity, checkPairReply, finishLinkCode, normaliseCode, PAIR_FORGERIES,
	pairSuccessNode, parseQR, unwrapEphemeral, wrapEphemeral
} from './phone.mjs';
import { iqResult, SERVER_JID } from './stanzas.mjs';

export class PhoneError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

const bytes = c => (c instanceof Uint8Array ? Buffer.from(c) : typeof c === 'string' ? Buffer.from(c, 'utf8') : null);
const unix = () => String(Math.floor(Date.now() / 1000));

// ---- QR refs and their expiry (§6.1, §6.3) ---------------------------------

/**
 * Registration payload: <iq xmlns=md><pair-device><ref/>×N</pair-device></iq>.
 * Ref i is valid for qrFirstMs (i = 0) or qrNextMs after the previous one;
 * the server keeps the connection for the sum plus qrGraceMs, then ends it
 * as config.qrExpiry says.
 */
export function greetPairing(conn, router) {
	if (!conn.summary.pairing)
		return false;
	const cfg = conn.ctx.config;
	const refs = Array.from({ length: cfg.qrRefs }, () => '2@' + randomBytes(30).toString('base64'));
	const start = Date.now();
	let end = start;
	const windows = refs.map((ref, i) => {
		const from = end;
		end += i === 0 ? cfg.qrFirstMs : cfg.qrNextMs;
		return { ref, from, to: end };
	});
	const qr = { refs: windows, issued: start, grace: cfg.qrGraceMs, expiry: cfg.qrExpiry, scanned: false, timer: null };
	conn.data.qr = qr;
	conn.sendNode({
		tag: 'iq',
		attrs: { from: SERVER_JID, type: 'set', id: router.nextId(), xmlns: 'md' },
		content: [{ tag: 'pair-device', attrs: {}, content: refs.map(r => ({ tag: 'ref', attrs: {}, content: Buffer.from(r) })) }]
	});
	if (qr.expiry !== 'none') {
		qr.timer = setTimeout(() => expireRefs(conn), end - start + qr.grace);
		qr.timer.unref?.();
	}
	return true;
}

function expireRefs(conn) {
	const qr = conn.data.qr;
	qr.timer = null;
	if (qr.scanned || conn.state !== 'open' || conn.data.link?.primary)
		return;
	conn.ctx.events.record('qr-expired', conn.id, { refs: qr.refs.length, action: qr.expiry });
	conn.log.info(`all ${qr.refs.length} QR refs expired; ${qr.expiry}`);
	conn.close({ hard: qr.expiry === 'drop' });
}

function stopQR(conn) {
	const qr = conn.data.qr;
	if (qr) {
		qr.scanned = true;
		if (qr.timer)
			clearTimeout(qr.timer);
		qr.timer = null;
	}
}

// ---- pair-success and the reply ----------------------------------------------

/**
 * Send pair-success for a companion on conn.
 *   p: { account, identity, noise, adv, via, forge, hosted, platform, biz,
 *        device, companionPlatform }
 */
function sendPairSuccess(conn, p) {
	const { accounts, config, events } = conn.ctx;
	const a = p.account;
	const accountKey = accounts.accountKeyPair(a);
	if (!accountKey)
		throw new PhoneError(409, `account ${a.phone} was imported without its account key; it cannot sign new devices`);
	// device: a number the account had before (a reinstall keeps it): only
	// one that is free or removed; its old identity is remembered, so the
	// pairing can tell the contacts (identityChanged below)
	const was = p.device ? a.devices[p.device] ?? null : null;
	if (was && !was.removed)
		throw new PhoneError(409, `device ${p.device} of ${a.phone} is in use; remove it first (POST /accounts/JID/remove)`);
	const { device, keyIndex } = accounts.allocate(a, p.device);
	const built = buildDeviceIdentity({
		accountKey, identity: p.identity, adv: p.adv, keyIndex, rawId: a.rawId, hosted: !!p.hosted, forge: p.forge ?? null
	});
	const jid = deviceJid(a.phone, device);
	const lid = deviceLid(a.lid, device);
	const platform = p.platform ?? config.platform;
	const id = conn.ctx.router.nextId();
	const pair = {
		id, via: p.via, phone: a.phone, device, keyIndex, jid, lid, platform,
		forge: p.forge ?? null, hosted: !!p.hosted, identity: p.identity, noise: p.noise,
		companionPlatform: p.companionPlatform ?? null, sent: built, done: false, timer: null,
		previous: was?.identityKey ?? null, identityNotify: p.identityNotify ?? true
	};
	conn.data.pair = pair;
	stopQR(conn);
	conn.sendNode({
		tag: 'iq',
		attrs: { from: SERVER_JID, type: 'set', id, t: unix(), xmlns: 'md' },
		content: [pairSuccessNode({ container: built.container, platform, jid, lid, biz: p.biz })]
	});
	pair.timer = setTimeout(() => {
		if (pair.done || conn.state === 'closed')
			return;
		pair.done = true;
		events.record('pair-reply', conn.id, { accepted: false, timeout: true, forge: pair.forge });
		conn.log.warn(`no pair-device-sign within ${config.pairReplyMs} ms; closing`);
		conn.close();
	}, config.pairReplyMs);
	pair.timer.unref?.();
	return pair;
}

/** The companion's answer to pair-success: <iq type=result|error id=ID>. */
export const pairReplyHandler = {
	name: 'pair-reply',
	match: (n, conn) => n.tag === 'iq' && conn.data.pair && !conn.data.pair.done &&
		n.attrs.id === conn.data.pair.id && (n.attrs.type === 'result' || n.attrs.type === 'error'),
	handle(n, conn) {
		const pair = conn.data.pair;
		const { events, accounts } = conn.ctx;
		pair.done = true;
		clearTimeout(pair.timer);
		if (n.attrs.type === 'error') {
			const e = child(n, 'error');
			events.record('pair-reply', conn.id, {
				accepted: false, error: { code: e?.attrs.code ?? null, text: e?.attrs.text ?? null }, forge: pair.forge
			});
			return;
		}
		const r = checkPairReply(n, pair.sent, pair.identity);
		events.record('pair-reply', conn.id, { accepted: true, ok: r.ok, checks: r.checks, problems: r.problems, forge: pair.forge });
		if (pair.forge) {
			// A forged pair-success links nothing: end the connection without 515.
			events.record('pair-failed', conn.id, { reason: `forged (${pair.forge}) pair-success accepted by the client` });
			conn.close();
			return;
		}
		if (!r.ok) {
			events.record('pair-failed', conn.id, { reason: 'bad pair-device-sign reply', problems: r.problems });
			conn.close();
			return;
		}
		const a = accounts.get(pair.phone);
		const dp = conn.payload?.devicePairingData;
		const num = v => {
			const b = v ? Buffer.from(v, 'base64') : null;
			return b?.length ? b.readUIntBE(0, Math.min(b.length, 6)) : null;
		};
		const d = accounts.addDevice(a, {
			device: pair.device,
			via: pair.via,
			keyIndex: pair.keyIndex,
			platform: pair.platform,
			companionPlatform: pair.companionPlatform,
			noiseKey: pair.noise.toString('hex'),
			identityKey: pair.identity.toString('hex'),
			registrationId: num(dp?.eRegid),
			signedPreKey: dp?.eSkeyId ? {
				id: num(dp.eSkeyId),
				pub: Buffer.from(dp.eSkeyVal ?? '', 'base64').toString('hex'),
				sig: Buffer.from(dp.eSkeySig ?? '', 'base64').toString('hex'),
				valid: null
			} : null
		});
		events.record('paired', conn.id, {
			jid: d.jid, lid: d.lid, phone: a.phone, device: d.device, keyIndex: d.keyIndex, via: d.via, platform: d.platform
		});
		// a removed device number paired again with another identity: a
		// reinstall; the server tells the account's contacts (§12.5)
		if (pair.previous && pair.previous !== d.identityKey)
			conn.ctx.messaging?.identityChanged(a, d, pair.previous, pair.identityNotify);
		else if (!pair.previous)
			conn.ctx.messaging?.devicesChanged(a, d);	// a new device: the contacts hear of it
		conn.log.info(`paired ${d.jid} (${d.via}); sending 515`);
		conn.sendNode({ tag: 'stream:error', attrs: { code: '515' } }, { force: true });
		conn.close();
	}
};

/** On close: a pending pair-success the client never answered. */
export function pairingClosed(conn) {
	stopQR(conn);
	const pair = conn.data.pair;
	if (pair && !pair.done) {
		pair.done = true;
		clearTimeout(pair.timer);
		conn.ctx.events.record('pair-reply', conn.id, { accepted: false, closed: true, forge: pair.forge });
	}
}

// ---- the phone scans a QR (POST /phone/scan) --------------------------------

function openConnections(ctx) {
	return [...ctx.connections.values()].filter(c => c.isOpen);
}

function checkPhone(phone) {
	if (!/^[1-9]\d{6,14}$/.test(String(phone)))
		throw new PhoneError(400, 'phone must be 7 to 15 digits, not starting with 0');
	return String(phone);
}

function commonOpts(b) {
	if (b.forge !== undefined && b.forge !== null && !PAIR_FORGERIES[b.forge])
		throw new PhoneError(400, `unknown forge ${b.forge}; one of ${Object.keys(PAIR_FORGERIES).join(', ')}`);
	if (b.device !== undefined && !(Number.isInteger(b.device) && b.device > 0 && b.device < 100))
		throw new PhoneError(400, 'device must be an integer 1..99');
	if (b.platform !== undefined && (typeof b.platform !== 'string' || !b.platform))
		throw new PhoneError(400, 'platform must be a non-empty string');
	if (b.identityNotify !== undefined && typeof b.identityNotify !== 'boolean')
		throw new PhoneError(400, 'identityNotify must be true or false');
	return {
		forge: b.forge ?? null, hosted: !!b.hosted, platform: b.platform, biz: b.biz, device: b.device,
		identityNotify: b.identityNotify ?? true
	};
}

/**
 * body: { qr, conn?, phone?, forge?, hosted?, platform?, biz?, device? }
 * Finds the registration connection that was given the QR's ref, checks
 * that the QR's keys are that connection's, and sends pair-success.
 */
export function phoneScan(ctx, b) {
	let q;
	try {
		q = parseQR(b.qr);
	} catch (err) {
		throw new PhoneError(400, `bad QR: ${err.message}`);
	}
	const opts = commonOpts(b);
	const conn = openConnections(ctx).find(c => c.data.qr?.refs.some(w => w.ref === q.ref));
	if (!conn)
		throw new PhoneError(404, 'no open registration connection was given this ref');
	if (b.conn !== undefined && Number(b.conn) !== conn.id)
		throw new PhoneError(409, `the ref belongs to connection ${conn.id}, not ${b.conn}`);
	if (conn.data.pair)
		throw new PhoneError(409, `connection ${conn.id} was already scanned`);
	const qr = conn.data.qr;
	const now = Date.now();
	const window = qr.refs.findIndex(w => w.ref === q.ref);
	const w = qr.refs[window];
	if (now > w.to + qr.grace)
		throw new PhoneError(409, `ref ${window + 1} of ${qr.refs.length} expired ${now - w.to} ms ago`);
	if (!q.noise.equals(conn.clientStatic))
		throw new PhoneError(409, 'the QR\'s noise key is not the connection\'s Noise static key');
	const eIdent = conn.payload?.devicePairingData?.eIdent;
	if (eIdent && !Buffer.from(eIdent, 'base64').equals(q.identity))
		throw new PhoneError(409, 'the QR\'s identity key is not the one in the registration payload');
	const phone = checkPhone(b.phone ?? (ctx.config.phone || ctx.accounts.defaultPhone));
	const account = ctx.accounts.getOrCreate(phone);
	const pair = sendPairSuccess(conn, {
		...opts, account, identity: q.identity, noise: q.noise, adv: q.adv, via: 'qr', companionPlatform: q.platform
	});
	const current = qr.refs.findIndex(x => now >= x.from && now < x.to);
	const ev = ctx.events.record('scan', conn.id, {
		ref: q.ref, window: window + 1, current: current + 1, phone, jid: pair.jid, lid: pair.lid,
		keyIndex: pair.sent.keyIndex, forge: pair.forge, hosted: pair.hosted, via: 'qr'
	});
	log.conn(conn.id).info(`phone ${phone} scanned ref ${window + 1}; pair-success for ${pair.jid}${pair.forge ? ' forged ' + pair.forge : ''}`);
	return { conn: conn.id, phone, jid: pair.jid, lid: pair.lid, keyIndex: pair.sent.keyIndex, forge: pair.forge, iq: pair.id, seq: ev.seq };
}

// ---- phone-number code pairing (§7) ------------------------------------------

/** <iq type=set xmlns=md><link_code_companion_reg stage=…> from the companion. */
export const linkCodeHandler = {
	name: 'link-code',
	match: n => n.tag === 'iq' && n.attrs.type === 'set' && !!child(n, 'link_code_companion_reg'),
	async handle(n, conn) {
		const reg = child(n, 'link_code_companion_reg');
		const stage = reg.attrs.stage;
		if (stage === 'companion_hello')
			return companionHello(n, reg, conn);
		if (stage === 'companion_finish')
			return companionFinish(n, reg, conn);
		conn.log.warn(`link_code_companion_reg with unknown stage ${stage}`);
		conn.sendNode(iqError(n, 400, 'bad-request'));
	}
};

function iqError(req, code, text) {
	return {
		tag: 'iq',
		attrs: { from: SERVER_JID, type: 'error', id: req.attrs.id },
		content: [{ tag: 'error', attrs: { code: String(code), text } }]
	};
}

function childBytes(node, tag) {
	return bytes(child(node, tag)?.content);
}

function companionHello(n, reg, conn) {
	const { events } = conn.ctx;
	const m = /^([1-9]\d{6,14})@s\.whatsapp\.net$/.exec(reg.attrs.jid ?? '');
	const wrapped = childBytes(reg, 'link_code_pairing_wrapped_companion_ephemeral_pub');
	const noise = childBytes(reg, 'companion_server_auth_key_pub');
	const platformId = childBytes(reg, 'companion_platform_id')?.toString('utf8') ?? null;
	const platformDisplay = childBytes(reg, 'companion_platform_display')?.toString('utf8') ?? null;
	const nonceNode = child(reg, 'link_code_pairing_nonce');
	const problems = [];
	if (!m)
		problems.push(`jid ${reg.attrs.jid} is not a phone number JID`);
	if (!wrapped || wrapped.length !== 80)
		problems.push(`wrapped companion ephemeral is ${wrapped?.length ?? 0} bytes, want 80`);
	if (!noise || noise.length !== 32)
		problems.push('companion_server_auth_key_pub missing or not 32 bytes');
	if (!platformDisplay || !/^.+ \(.+\)$/.test(platformDisplay))
		problems.push(`companion_platform_display "${platformDisplay}" is not "Browser (OS)"`);
	if (!conn.data.qr)
		problems.push('not a registration connection');
	if (problems.length) {
		events.record('link-code-hello', conn.id, { ok: false, problems });
		conn.sendNode(iqError(n, 400, 'bad-request'));
		return;
	}
	const ref = '2@' + randomBytes(24).toString('base64');
	const noiseMatches = noise.equals(conn.clientStatic);
	conn.data.link = { phone: m[1], wrapped, ref, noise, platformId, platformDisplay, primary: null };
	events.record('link-code-hello', conn.id, {
		ok: true, phone: m[1], ref, platformId, platformDisplay, noiseMatches,
		nonce: nonceNode ? (typeof nonceNode.content === 'string' ? nonceNode.content : bytes(nonceNode.content)?.toString('hex') ?? null) : null
	});
	conn.sendNode(iqResult(n, [{
		tag: 'link_code_companion_reg', attrs: {},
		content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(ref) }]
	}]));
}

/**
 * body: { code, conn?, forge?, hosted?, platform?, biz?, device? }
 * The user types `code` on the phone: the primary unwraps the companion's
 * ephemeral key with it and sends its own (notification, §7.3).
 */
export async function phoneLinkCode(ctx, b) {
	let code;
	try {
		code = normaliseCode(b.code);
	} catch (err) {
		throw new PhoneError(400, err.message);
	}
	const opts = commonOpts(b);
	let conn;
	if (b.conn !== undefined) {
		conn = ctx.connections.get(Number(b.conn));
		if (!conn || !conn.isOpen)
			throw new PhoneError(404, `no open connection ${b.conn}`);
	} else
		conn = openConnections(ctx).filter(c => c.data.link && !c.data.link.primary).pop();
	if (!conn?.data.link)
		throw new PhoneError(409, 'no connection has sent companion_hello');
	if (conn.data.link.primary)
		throw new PhoneError(409, `connection ${conn.id} already got the primary's notification`);
	const link = conn.data.link;
	const account = ctx.accounts.getOrCreate(link.phone);
	const accountKey = ctx.accounts.accountKeyPair(account);
	if (!accountKey)
		throw new PhoneError(409, `account ${link.phone} was imported without its account key; it cannot link devices`);
	const companionEph = await unwrapEphemeral(code, link.wrapped);
	const primaryEph = Curve.generateKeyPair();
	const wrappedPrimary = await wrapEphemeral(code, primaryEph.public);
	link.primary = { code, companionEph, primaryEph, account, opts };
	if (!conn.isOpen)
		throw new PhoneError(409, `connection ${conn.id} closed meanwhile`);
	conn.sendNode({
		tag: 'notification',
		attrs: { from: SERVER_JID, type: 'link_code_companion_reg', id: ctx.router.nextId(), t: unix() },
		content: [{
			tag: 'link_code_companion_reg', attrs: { stage: 'primary_hello' },
			content: [
				{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(link.ref) },
				{ tag: 'link_code_pairing_wrapped_primary_ephemeral_pub', attrs: {}, content: wrappedPrimary },
				{ tag: 'primary_identity_pub', attrs: {}, content: accountKey.public }
			]
		}]
	});
	const ev = ctx.events.record('link-code-primary', conn.id, { phone: link.phone, ref: link.ref });
	return { conn: conn.id, phone: link.phone, ref: link.ref, seq: ev.seq };
}

async function companionFinish(n, reg, conn) {
	const { events, accounts } = conn.ctx;
	const link = conn.data.link;
	const fail = (reason, code = 400, text = 'bad-request') => {
		events.record('link-code-finish', conn.id, { ok: false, reason });
		conn.log.warn(`companion_finish: ${reason}`);
		conn.sendNode(iqError(n, code, text));
	};
	if (!link?.primary)
		return fail('companion_finish before the primary\'s notification');
	const ref = childBytes(reg, 'link_code_pairing_ref')?.toString('utf8');
	if (ref !== link.ref)
		return fail('link_code_pairing_ref does not match');
	const bundle = childBytes(reg, 'link_code_pairing_wrapped_key_bundle');
	const identity = childBytes(reg, 'companion_identity_public');
	if (!bundle || !identity || identity.length !== 32)
		return fail('missing key bundle or companion identity');
	const eIdent = conn.payload?.devicePairingData?.eIdent;
	if (eIdent && !Buffer.from(eIdent, 'base64').equals(identity))
		return fail('companion_identity_public is not the identity of the registration payload');
	let adv;
	try {
		({ adv } = finishLinkCode({
			primaryEph: link.primary.primaryEph, companionEph: link.primary.companionEph, bundle,
			companionIdentity: identity, accountKey: accounts.accountKeyPair(link.primary.account)
		}));
	} catch (err) {
		return fail(err.message, 401, 'not-authorized');
	}
	events.record('link-code-finish', conn.id, { ok: true, phone: link.phone });
	conn.sendNode(iqResult(n));
	const pair = sendPairSuccess(conn, {
		...link.primary.opts, account: link.primary.account, identity, noise: link.noise, adv,
		via: 'code', companionPlatform: link.platformId
	});
	events.record('scan', conn.id, {
		ref: link.ref, phone: link.phone, jid: pair.jid, lid: pair.lid, keyIndex: pair.sent.keyIndex,
		forge: pair.forge, hosted: pair.hosted, via: 'code'
	});
}

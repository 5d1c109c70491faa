// Pre-keys (wa-protocol(7) §8.2, §8.4): <iq xmlns=encrypt> count, upload,
// digest and signed pre-key rotation, for the device a connection logged in
// as (login.mjs puts it in conn.data.login).  Uploads are stored in the
// account registry and recorded as "prekeys" events:
//   prekeys {jid, count, first, last, duplicates, signedPreKeyId,
//            signedPreKeyValid, identityMatches, registrationId, total}

import { createHash } from 'crypto';
import { log } from './log.mjs';
import { child } from './nodes.mjs';
import { verifies } from './phone.mjs';
import { iqResult, SERVER_JID } from './stanzas.mjs';

const bytes = c => (c instanceof Uint8Array ? Buffer.from(c) : null);
const be = b => (b && b.length ? b.readUIntBE(0, Math.min(b.length, 6)) : null);

function iqError(req, code, text) {
	return {
		tag: 'iq',
		attrs: { from: SERVER_JID, type: 'error', id: req.attrs.id },
		content: [{ tag: 'error', attrs: { code: String(code), text } }]
	};
}

const isEncrypt = (n, type, tag) => n.tag === 'iq' && n.attrs.xmlns === 'encrypt' && n.attrs.type === type && !!child(n, tag);

/** The device record a connection is logged in as, or null. */
function loggedIn(conn) {
	return conn.data.login?.device ?? null;
}

function parseSkey(node) {
	if (!node)
		return null;
	const id = bytes(child(node, 'id')?.content);
	const value = bytes(child(node, 'value')?.content);
	const sig = bytes(child(node, 'signature')?.content);
	if (!id || !value || !sig)
		throw new Error('<skey> needs <id>, <value> and <signature>');
	return { id: be(id), pub: value.toString('hex'), sig: sig.toString('hex'), valid: null };
}

function checkSkey(skey, identityHex) {
	if (skey && identityHex) {
		const pub = Buffer.from(skey.pub, 'hex');
		skey.valid = verifies(Buffer.from(identityHex, 'hex'),
			pub.length === 33 ? pub : Buffer.concat([Buffer.from([5]), pub]), Buffer.from(skey.sig, 'hex'));
	}
	return skey;
}

export const countHandler = {
	name: 'prekey-count',
	match: n => isEncrypt(n, 'get', 'count'),
	handle(n, conn) {
		const d = loggedIn(conn);
		if (!d)
			return conn.sendNode(iqError(n, 401, 'not-authorized'));
		const value = conn.ctx.accounts.preKeyCount(d);
		conn.sendNode(iqResult(n, [{ tag: 'count', attrs: { value: String(value) } }]));
	}
};

export const uploadHandler = {
	name: 'prekey-upload',
	match: n => n.tag === 'iq' && n.attrs.xmlns === 'encrypt' && n.attrs.type === 'set' && !!child(n, 'list'),
	handle(n, conn) {
		const d = loggedIn(conn);
		if (!d)
			return conn.sendNode(iqError(n, 401, 'not-authorized'));
		const { accounts, events } = conn.ctx;
		let up;
		try {
			const reg = bytes(child(n, 'registration')?.content);
			const type = bytes(child(n, 'type')?.content);
			const identity = bytes(child(n, 'identity')?.content);
			if (!type || type.length !== 1 || type[0] !== 5)
				throw new Error('<type> must be the byte 05');
			if (!identity || identity.length !== 32)
				throw new Error('<identity> must be 32 bytes');
			const keys = [];
			let duplicates = 0;
			for (const k of child(n, 'list').content ?? []) {
				if (k.tag !== 'key')
					continue;
				const id = bytes(child(k, 'id')?.content);
				const value = bytes(child(k, 'value')?.content);
				if (!id || id.length !== 3 || !value || value.length !== 32)
					throw new Error('each <key> needs a 3-byte <id> and a 32-byte <value>');
				const kid = be(id);
				if (d.preKeys[kid] || keys.some(x => x.id === kid))
					duplicates++;
				keys.push({ id: kid, pub: value.toString('hex') });
			}
			const identityHex = identity.toString('hex');
			up = {
				conn: conn.id,
				keys,
				duplicates,
				identity: identityHex,
				identityMatches: d.identityKey ? d.identityKey === identityHex : null,
				registrationId: reg ? be(reg) : null,
				signedPreKey: checkSkey(parseSkey(child(n, 'skey')), identityHex)
			};
		} catch (err) {
			log.conn(conn.id).warn(`bad pre-key upload: ${err.message}`);
			events.record('prekeys', conn.id, { jid: d.jid, error: err.message });
			return conn.sendNode(iqError(n, 400, 'bad-request'));
		}
		const s = accounts.recordUpload(d, up);
		events.record('prekeys', conn.id, { jid: d.jid, ...s, total: accounts.preKeyCount(d) });
		conn.sendNode(iqResult(n));
	}
};

/**
 * <digest/>: the server's view of the key bundle.  The exact shape the real
 * server returns is UNVERIFIED (Baileys only checks that a <digest> child
 * exists); fakewa answers registration, type, identity, skey, the list of
 * pre-key ids and a SHA-1 over them, or a 404 error when nothing was uploaded.
 */
export const digestHandler = {
	name: 'prekey-digest',
	match: n => isEncrypt(n, 'get', 'digest'),
	handle(n, conn) {
		const d = loggedIn(conn);
		if (!d)
			return conn.sendNode(iqError(n, 401, 'not-authorized'));
		if (!d.uploads.length || !d.identityKey || !d.signedPreKey)
			return conn.sendNode(iqError(n, 404, 'item-not-found'));
		const ids = Object.keys(d.preKeys).map(Number).sort((a, b) => a - b);
		const id3 = v => Buffer.from([(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
		const reg = Buffer.alloc(4);
		reg.writeUInt32BE((d.registrationId ?? 0) >>> 0);
		const h = createHash('sha1');
		h.update(Buffer.from(d.identityKey, 'hex'));
		h.update(Buffer.from(d.signedPreKey.pub, 'hex'));
		for (const id of ids)
			h.update(Buffer.from(d.preKeys[id], 'hex'));
		conn.sendNode(iqResult(n, [{
			tag: 'digest', attrs: {},
			content: [
				{ tag: 'registration', attrs: {}, content: reg },
				{ tag: 'type', attrs: {}, content: Buffer.from([5]) },
				{ tag: 'identity', attrs: {}, content: Buffer.from(d.identityKey, 'hex') },
				{
					tag: 'skey', attrs: {},
					content: [
						{ tag: 'id', attrs: {}, content: id3(d.signedPreKey.id) },
						{ tag: 'value', attrs: {}, content: Buffer.from(d.signedPreKey.pub, 'hex') },
						...(d.signedPreKey.sig ? [{ tag: 'signature', attrs: {}, content: Buffer.from(d.signedPreKey.sig, 'hex') }] : [])
					]
				},
				{ tag: 'list', attrs: {}, content: ids.map(id => ({ tag: 'id', attrs: {}, content: id3(id) })) },
				{ tag: 'hash', attrs: {}, content: h.digest() }
			]
		}]));
	}
};

/** <rotate><skey/></rotate>: a new signed pre-key (§8.4). */
export const rotateHandler = {
	name: 'prekey-rotate',
	match: n => isEncrypt(n, 'set', 'rotate'),
	handle(n, conn) {
		const d = loggedIn(conn);
		if (!d)
			return conn.sendNode(iqError(n, 401, 'not-authorized'));
		let skey;
		try {
			skey = checkSkey(parseSkey(child(child(n, 'rotate'), 'skey')), d.identityKey);
			if (!skey)
				throw new Error('<rotate> without <skey>');
		} catch (err) {
			return conn.sendNode(iqError(n, 400, 'bad-request'));
		}
		d.signedPreKey = skey;
		conn.ctx.accounts.save();
		conn.ctx.events.record('skey-rotated', conn.id, { jid: d.jid, id: skey.id, valid: skey.valid });
		conn.sendNode(iqResult(n));
	}
};

export const prekeyHandlers = [countHandler, uploadHandler, digestHandler, rotateHandler];

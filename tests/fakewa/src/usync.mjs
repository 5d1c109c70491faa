// Device discovery and pre-key bundles (README.md, "Message router"), answered
// from the account registry (accounts.mjs):
//
//   <iq type=get xmlns=usync><usync sid mode context last index>
//     <query><devices version=2/><lid/>[<contact/>]…</query>
//     <list><user jid=USER/>…</list></usync></iq>
//   -> <iq type=result><usync (same attrs)><list>
//        <user jid=USER><devices><device-list><device id=N [key-index=K]/>…</device-list>
//                       <key-index-list ts=T/></devices>
//                      <lid val=LID@lid/>  (PN users only)  <contact type=in|out/></user>…
//
//   <iq type=get xmlns=encrypt><key><user jid=DEVICE [reason=identity]/>…</key></iq>
//   -> <iq type=result><list><user jid=DEVICE><registration>4 bytes</registration>
//        <type>05</type><identity>32</identity><skey><id/><value/><signature/></skey>
//        [<key><id/><value/></key>]</user>…</list></iq>
//      one one-time pre-key consumed per device and fetch (none left: no <key>);
//      devices fakewa cannot build a bundle for are left out of the list.
//
// Events: usync {users, devices}, bundle {jid, preKeyId, left} per device.

import { accountOf, reachableDevices, splitJid } from './addressing.mjs';
import { child } from './nodes.mjs';
import { iqResult } from './stanzas.mjs';

const be = (v, n) => {
	const b = Buffer.alloc(n);
	b.writeUIntBE(v >>> 0, 0, n);
	return b;
};

function userNode(accounts, jid, protocols) {
	const j = splitJid(jid);
	const a = j && !j.hasDevice ? accountOf(accounts, j.user, j.server) : null;
	const content = [];
	const devices = a ? reachableDevices(a) : [];
	for (const p of protocols) {
		if (p === 'devices') {
			content.push({
				tag: 'devices', attrs: {},
				content: [
					{
						tag: 'device-list', attrs: {},
						content: devices.map(d => ({
							tag: 'device',
							attrs: d.device === 0 ? { id: '0' } : { id: String(d.device), 'key-index': String(d.keyIndex ?? d.device) }
						}))
					},
					{ tag: 'key-index-list', attrs: { ts: String(Math.floor((a?.created ?? Date.now()) / 1000)) } }
				]
			});
		} else if (p === 'lid') {
			// Only PN users get their LID: Baileys stores {lid: val, pn: jid}.
			if (a && j.server !== 'lid')
				content.push({ tag: 'lid', attrs: { val: `${a.lid}@lid` } });
		} else if (p === 'contact')
			content.push({ tag: 'contact', attrs: { type: a ? 'in' : 'out' } });
	}
	return { node: { tag: 'user', attrs: { jid }, content }, devices: devices.map(d => d.device) };
}

export const usyncHandler = {
	name: 'usync',
	match: n => n.tag === 'iq' && n.attrs.xmlns === 'usync' && n.attrs.type === 'get' && !!child(n, 'usync'),
	handle(n, conn) {
		const { accounts, events } = conn.ctx;
		const us = child(n, 'usync');
		const protocols = (child(us, 'query')?.content ?? []).map(p => p.tag);
		const users = (child(us, 'list')?.content ?? []).filter(u => u.tag === 'user' && u.attrs.jid);
		const out = users.map(u => ({ jid: u.attrs.jid, ...userNode(accounts, u.attrs.jid, protocols) }));
		events.record('usync', conn.id, {
			context: us.attrs.context ?? null, protocols,
			users: out.map(u => ({ jid: u.jid, devices: u.devices }))
		});
		conn.sendNode(iqResult(n, [{
			tag: 'usync', attrs: { ...us.attrs },
			content: [{ tag: 'list', attrs: {}, content: out.map(u => u.node) }]
		}]));
	}
};

/** The bundle node for one device, consuming one pre-key; null if impossible. */
function bundle(conn, jid) {
	const { accounts, events } = conn.ctx;
	const j = splitJid(jid);
	const a = j ? accountOf(accounts, j.user, j.server) : null;
	const d = a?.devices[j.device];
	if (!d || d.removed || !d.identityKey || !d.signedPreKey) {
		events.record('bundle', conn.id, { jid, ok: false, why: !a ? 'unknown user' : !d ? 'no such device' : 'no keys' });
		return null;
	}
	const ids = Object.keys(d.preKeys).map(Number).sort((x, y) => x - y);
	let pre = null;
	if (ids.length) {
		pre = { id: ids[0], pub: d.preKeys[ids[0]] };
		accounts.take(d, 1);
	}
	const spk = d.signedPreKey;
	const content = [
		{ tag: 'registration', attrs: {}, content: be(d.registrationId ?? 0, 4) },
		{ tag: 'type', attrs: {}, content: Buffer.from([5]) },
		{ tag: 'identity', attrs: {}, content: Buffer.from(d.identityKey, 'hex') },
		{
			tag: 'skey', attrs: {},
			content: [
				{ tag: 'id', attrs: {}, content: be(spk.id, 3) },
				{ tag: 'value', attrs: {}, content: Buffer.from(spk.pub, 'hex') },
				{ tag: 'signature', attrs: {}, content: Buffer.from(spk.sig ?? '', 'hex') }
			]
		}
	];
	if (pre)
		content.push({ tag: 'key', attrs: {}, content: [
			{ tag: 'id', attrs: {}, content: be(pre.id, 3) },
			{ tag: 'value', attrs: {}, content: Buffer.from(pre.pub, 'hex') }
		] });
	events.record('bundle', conn.id, { jid, ok: true, device: d.jid, preKeyId: pre?.id ?? null, left: accounts.preKeyCount(d) });
	return { tag: 'user', attrs: { jid }, content };
}

export const bundleHandler = {
	name: 'prekey-bundle',
	match: n => n.tag === 'iq' && n.attrs.xmlns === 'encrypt' && n.attrs.type === 'get' && !!child(n, 'key'),
	handle(n, conn) {
		const users = (child(n, 'key').content ?? []).filter(u => u.tag === 'user' && u.attrs.jid);
		const list = users.map(u => bundle(conn, u.attrs.jid)).filter(Boolean);
		conn.sendNode(iqResult(n, [{ tag: 'list', attrs: {}, content: list }]));
	}
};

export const usyncHandlers = [usyncHandler, bundleHandler];

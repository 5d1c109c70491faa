// Minimal groups (README.md, "Message router"): created through the control API,
// answered to Baileys' metadata query, fanned out by messaging.mjs.
//
//   POST /groups {subject, participants: [JIDs], owner, addressingMode?}
//     -> {jid: "120363…@g.us", …}; participants and owner as PN or LID user
//        JIDs of registered accounts (the owner is added if missing).
//   <iq to=GROUP type=get xmlns=w:g2><query request=interactive/></iq>
//     -> <iq type=result from=GROUP><group id=ID subject s_t s_o creator creation
//          addressing_mode=lid|pn size><participant jid=… phone_number|lid=… [type=superadmin]/>…
//        </group></iq>   (participants in the group's addressing form: LID
//        JIDs with phone_number=PN, or PN JIDs with lid=LID, as Baileys' extractGroupMetadata reads)
//     unknown group: <iq type=error><error code=404 text=item-not-found/></iq>
//   POST /groups/add {jid, participants: [JIDs]} -> the group, with "added"

import { randomInt } from 'crypto';
import { resolve, userJid } from './addressing.mjs';
import { child } from './nodes.mjs';

export function createGroup(ctx, b) {
	const m = ctx.messaging;
	const err = (status, message) => Object.assign(new Error(message), { status });
	if (typeof b.subject !== 'string' || !b.subject)
		throw err(400, 'subject is required');
	if (!Array.isArray(b.participants) || !b.participants.length)
		throw err(400, 'participants must be a non-empty list of JIDs');
	const mode = b.addressingMode ?? 'lid';
	if (mode !== 'lid' && mode !== 'pn')
		throw err(400, 'addressingMode must be lid or pn');
	const acc = j => {
		const r = resolve(ctx.accounts, j);
		if (!r)
			throw err(404, `no account for ${j}`);
		return r.account;
	};
	const owner = acc(b.owner ?? b.participants[0]);
	const members = [owner, ...b.participants.map(acc)].filter((a, i, all) => all.indexOf(a) === i);
	let jid;
	do
		jid = `120363${String(randomInt(0, 1e12)).padStart(12, '0')}@g.us`;
	while (m.groups.has(jid));
	const g = {
		jid, subject: b.subject, owner: owner.phone, addressingMode: mode,
		participants: members.map(a => userJid(a, 'pn')), created: Math.floor(Date.now() / 1000)
	};
	m.groups.set(jid, g);
	m.save();
	const ev = ctx.events.record('group-created', null, { jid, subject: g.subject, participants: g.participants, addressingMode: mode });
	return { ...g, seq: ev.seq };
}

/** POST /groups/add {jid, participants}: more members for a group (no
 *  notification is sent: clients see them in the next metadata query). */
export function addParticipants(ctx, b) {
	const m = ctx.messaging;
	const err = (status, message) => Object.assign(new Error(message), { status });
	const g = m.groups.get(b.jid);
	if (!g)
		throw err(404, `no group ${b.jid}`);
	if (!Array.isArray(b.participants) || !b.participants.length)
		throw err(400, 'participants must be a non-empty list of JIDs');
	const added = [];
	for (const j of b.participants) {
		const r = resolve(ctx.accounts, j);
		if (!r)
			throw err(404, `no account for ${j}`);
		const pn = userJid(r.account, 'pn');
		if (!g.participants.includes(pn)) {
			g.participants.push(pn);
			added.push(pn);
		}
	}
	m.save();
	const ev = ctx.events.record('group-add', null, { jid: g.jid, added });
	return { ...g, added, seq: ev.seq };
}

function metadataNode(ctx, g) {
	const owner = ctx.accounts.get(g.owner);
	const form = g.addressingMode;
	const parts = g.participants.map(u => resolve(ctx.accounts, u)?.account).filter(Boolean).map(a => {
		const attrs = { jid: userJid(a, form) };
		if (form === 'lid')
			attrs.phone_number = userJid(a, 'pn');
		else
			attrs.lid = userJid(a, 'lid');
		if (a === owner)
			attrs.type = 'superadmin';
		return { tag: 'participant', attrs };
	});
	return {
		tag: 'group',
		attrs: {
			id: g.jid.replace(/@g\.us$/, ''), subject: g.subject, s_t: String(g.created),
			s_o: userJid(owner, form), creator: userJid(owner, form), creation: String(g.created),
			addressing_mode: form, size: String(parts.length)
		},
		content: parts
	};
}

export const groupMetadataHandler = {
	name: 'group-metadata',
	match: n => n.tag === 'iq' && n.attrs.xmlns === 'w:g2' && n.attrs.type === 'get' && !!child(n, 'query'),
	handle(n, conn) {
		const g = conn.ctx.messaging?.groups.get(n.attrs.to);
		const base = { from: n.attrs.to, id: n.attrs.id };
		conn.ctx.events.record('group-query', conn.id, { jid: n.attrs.to, known: !!g });
		if (!g)
			return conn.sendNode({ tag: 'iq', attrs: { ...base, type: 'error' }, content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }] });
		conn.sendNode({ tag: 'iq', attrs: { ...base, type: 'result' }, content: [metadataNode(conn.ctx, g)] });
	}
};

export const groupHandlers = [groupMetadataHandler];

// The message router (README.md, "Message router"): <message> fan-out to the
// addressed devices, per-device queues that hold every stanza until the
// receiving device acknowledges it, redelivery on reconnect, receipts
// relayed to the sender's devices.  See "Message router" in ../README.md.
//
// State (class Messaging, conn.ctx.messaging):
//   messages  id -> {id, from (sender device, PN form), chat, form, group,
//                    type, t, recipients: [device JIDs]}
//   entries   every stanza routed to a device: {n, kind (message|receipt),
//             id, device (PN device JID), node, state (queued|delivered|
//             acked), deliveries, offline, conn, t…, ackVia, error}
//   faults    POST /messages/fault {kind: corrupt, device, count}
//   receipts  every receipt a client sent, as recorded in the "receipt" event
//   groups    jid -> {jid, subject, owner, participants: [user JIDs], created}
// With --state-dir the un-acked entries, messages and groups are kept in
// DIR/messages.json (0600, rewritten at most once per event-loop turn), so
// a restarted fakewa still redelivers them.
//
// Acknowledgement of a stanza by its receiver (what Baileys rc14 sends):
//   message: a <receipt id=ID …> from that device (any type; ids of its
//            <list><item id/>…) or an <ack class=message id=ID [error]>;
//   receipt: an <ack class=receipt id=ID>.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'fs';
import { join } from 'path';
import { formOf, isGroupJid, isLidJid, reachableDevices, resolve, splitJid, userJid } from './addressing.mjs';
import { log } from './log.mjs';
import { child, nodeFromJSON, nodeToJSON } from './nodes.mjs';
import { SERVER_JID } from './stanzas.mjs';
import { synthSink } from './synth.mjs';

const FORMAT = 'fakewa-messages/1';
const KEEP_MESSAGES = 10000; // routed messages kept across a restart (for relaying late receipts)
const now = () => Math.floor(Date.now() / 1000);

export class Messaging {
	constructor(ctx, stateDir) {
		this.ctx = ctx;
		this.file = stateDir ? join(stateDir, 'messages.json') : null;
		this.messages = new Map();
		this.entries = [];
		this.pendingBy = new Map(); // device -> Map n -> its un-acked entries, in order
		this.pendingIds = new Map(); // "device kind id" -> its un-acked entries
		this.routedTo = new Set(); // "device id" of every message stanza routed
		this.receipts = [];
		this.groups = new Map();
		this.pushNames = {}; // account phone -> name from <presence name>
		this.n = 0;
		this.saveQueued = false;
		if (this.file)
			this.load();
	}

	// ---- persistence ---------------------------------------------------------

	load() {
		let text;
		try {
			text = readFileSync(this.file, 'utf8');
		} catch (err) {
			if (err.code === 'ENOENT')
				return;
			throw err;
		}
		const d = JSON.parse(text);
		if (d.format !== FORMAT)
			throw new Error(`${this.file}: unsupported format ${d.format}`);
		for (const m of d.messages)
			this.messages.set(m.id, m);
		for (const g of d.groups)
			this.groups.set(g.jid, g);
		this.pushNames = d.pushNames ?? {};
		this.entries = d.pending.map(e => ({ ...e, node: nodeFromJSON(e.node) }));
		for (const e of this.entries)
			this.index(e);
		for (const k of d.routedTo ?? [])
			this.routedTo.add(k);
		this.n = d.n ?? this.entries.length;
	}

	save() {
		if (!this.file || this.saveQueued)
			return;
		this.saveQueued = true;
		setImmediate(() => this.saveNow());
	}

	saveNow() {
		this.saveQueued = false;
		if (!this.file)
			return;
		const d = {
			format: FORMAT,
			n: this.n,
			messages: [...this.messages.values()].slice(-KEEP_MESSAGES),
			routedTo: [...this.routedTo].slice(-KEEP_MESSAGES * 4),
			groups: [...this.groups.values()],
			pushNames: this.pushNames,
			pending: [...this.pendingBy.values()].flatMap(m => [...m.values()]).sort((x, y) => x.n - y.n).map(e => ({ ...e, node: nodeToJSON(e.node) }))
		};
		mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
		const tmp = `${this.file}.${process.pid}.tmp`;
		writeFileSync(tmp, JSON.stringify(d) + '\n', { mode: 0o600 });
		renameSync(tmp, this.file);
	}

	// ---- devices and connections -----------------------------------------------

	/** The open, logged-in connection of a device that sent <active/>, or null. */
	activeConn(d) {
		for (const c of this.ctx.connections.values()) {
			if (c.isOpen && !c.stalled && c.data.active && c.data.login?.device === d)
				return c;
		}
		return null;
	}

	deviceRecord(pnJid) {
		return resolve(this.ctx.accounts, pnJid)?.device ?? null;
	}

	index(e) {
		if (e.kind === 'message')
			this.routedTo.add(`${e.device} ${e.id}`);
		if (e.state !== 'acked') {
			let list = this.pendingBy.get(e.device);
			if (!list)
				this.pendingBy.set(e.device, list = new Map());
			list.set(e.n, e);
			const k = `${e.device} ${e.kind} ${e.id}`;
			const same = this.pendingIds.get(k);
			if (same)
				same.push(e);
			else
				this.pendingIds.set(k, [e]);
		}
	}

	pending(device) {
		return [...(this.pendingBy.get(device)?.values() ?? [])];
	}

	// ---- queue and delivery --------------------------------------------------------

	/**
	 * POST /messages/fault {kind: "corrupt", device, count, at?, from?}: the next
	 * count message stanzas for device (from that sender user only, if given) (resends included) get their first
	 * <enc> broken: the last byte flipped (at "last", default: a msg's
	 * MAC) or every byte after the version (at "all": also a pkmsg
	 * resend); the receiver's check fails and a retry receipt follows.
	 */
	addFault(b) {
		if (b.kind !== 'corrupt')
			throw Object.assign(new Error('kind must be corrupt'), { status: 400 });
		const d = resolve(this.ctx.accounts, b.device)?.device;
		if (!d)
			throw Object.assign(new Error(`no device ${b.device}`), { status: 404 });
		if (b.at !== undefined && b.at !== 'last' && b.at !== 'all')
			throw Object.assign(new Error('at must be last or all'), { status: 400 });
		// from: only stanzas whose sender (from, or participant in a
		// group) is that user; any device, PN or LID form as routed
		const from = b.from === undefined ? null : String(b.from).replace(/[:@].*$/, '');
		const f = { kind: b.kind, device: d.jid, left: Number(b.count ?? 1), at: b.at ?? 'last', from };
		this.faults = [...(this.faults ?? []), f];
		const ev = this.ctx.events.record('fault', null, { ...f });
		return { ...f, seq: ev.seq };
	}

	corrupt(d, node) {
		const who = String(node.attrs.participant ?? node.attrs.from ?? '').replace(/[:@].*$/, '');
		const f = (this.faults ?? []).find(x => x.device === d.jid && x.left > 0 && (!x.from || x.from === who));
		const i = node.content.findIndex(c => c.tag === 'enc');
		if (!f || i < 0)
			return node;
		f.left--;
		// last: the last byte of the first <enc> (a msg's MAC; a pkmsg's
		// last byte is its signed pre-key id, which Baileys-style stores
		// ignore); all: every byte after the version byte of every <enc>
		// (a resend carries the new <enc> beside the old one)
		const content = node.content.map((c, k) => {
			if (c.tag !== 'enc' || (f.at !== 'all' && k !== i))
				return c;
			const bytes = Buffer.from(c.content);
			if (f.at === 'all')
				for (let b = 1; b < bytes.length; b++) bytes[b] ^= 0xff;
			else
				bytes[bytes.length - 1] ^= 0xff;
			return { ...c, content: bytes };
		});
		this.ctx.events.record('fault', null, { kind: 'corrupt', device: d.jid, id: node.attrs.id, left: f.left });
		return { ...node, content };
	}


	/** Queue a stanza for a device and deliver it if the device is active. */
	enqueue(kind, id, d, node, extra = {}) {
		if (d.via === 'flood') { // fakewa's own sender (floods.mjs): nothing to deliver
			this.floodSink = (this.floodSink ?? 0) + 1;
			return null;
		}
		if (d.via === 'synth') { // a synthetic device (synth.mjs): counted, never connected
			synthSink(this.ctx, kind, id, d, node);
			return null;
		}
		if (kind === 'message')
			node = this.corrupt(d, node);
		const e = {
			n: ++this.n, kind, id, device: d.jid, node, state: 'queued', deliveries: 0,
			offline: false, conn: null, queuedAt: Date.now(), deliveredAt: null, ackedAt: null,
			ackVia: null, error: null, ...extra
		};
		this.entries.push(e);
		this.index(e);
		const c = this.activeConn(d);
		if (c)
			this.deliver(c, e, false);
		this.save();
		return e;
	}

	deliver(conn, e, offline) {
		const node = offline ? { ...e.node, attrs: { ...e.node.attrs, offline: '1' } } : e.node;
		const redelivery = e.state === 'delivered';
		conn.sendNode(node);
		e.state = 'delivered';
		e.deliveries++;
		e.offline = offline;
		e.conn = conn.id;
		e.deliveredAt = Date.now();
		this.ctx.events.record('message-delivered', conn.id, {
			id: e.id, kind: e.kind, device: e.device, offline, redelivery, deliveries: e.deliveries
		});
	}

	/**
	 * The device of conn sent <active/>: (re)deliver everything not acked, in
	 * order, with offline="1".  Returns the count (for <ib><offline count>).
	 */
	flushOffline(conn) {
		const d = conn.data.login?.device;
		if (!d)
			return 0;
		const list = this.pending(d.jid);
		if (list.length) {
			// The preview WA Web and whatsmeow read (count, message, receipt,
			// notification, appdata); fakewa does not wait for Baileys'
			// <ib><offline_batch count=100/> answer before sending.
			const n = k => String(list.filter(e => e.kind === k).length);
			conn.sendNode({
				tag: 'ib', attrs: {},
				content: [{ tag: 'offline_preview', attrs: { count: String(list.length), message: n('message'), receipt: n('receipt'), notification: n('notification'), appdata: '0' } }]
			});
		}
		for (const e of list)
			this.deliver(conn, e, true);
		this.ctx.events.record('offline-flushed', conn.id, { device: d.jid, count: list.length });
		this.save();
		return list.length;
	}

	markAcked(conn, kind, ids, via, error) {
		const d = conn.data.login?.device;
		if (!d)
			return [];
		// the entries named, in queue order (a Map per device and an id
		// index: floods of 10^4 stay linear)
		const hit = [];
		for (const id of new Set(ids)) {
			const k = `${d.jid} ${kind} ${id}`;
			hit.push(...(this.pendingIds.get(k) ?? []));
			this.pendingIds.delete(k);
		}
		hit.sort((x, y) => x.n - y.n);
		const done = [];
		const list = this.pendingBy.get(d.jid);
		for (const e of hit) {
			list.delete(e.n);
			e.state = 'acked';
			e.ackedAt = Date.now();
			e.ackVia = via;
			e.error = error ?? null;
			done.push(e);
			this.ctx.events.record('message-acked', conn.id, { id: e.id, kind, device: d.jid, via, error: error ?? null });
		}
		if (done.length)
			this.save();
		return done;
	}

	pushName(a) {
		return this.pushNames[a.phone] ?? null;
	}

	// ---- identity change (§12.5) ---------------------------------------------------

	/**
	 * Device d of account a came back with a new identity key (a removed
	 * device number paired again: a reinstall).  Its contacts, every device
	 * of another account that a message went to from a or came to a from,
	 * get <notification from=PHONE@s.whatsapp.net type=encrypt id t>
	 * <identity/></notification>, queued like a message until the device
	 * acks it (<ack class=notification>); with notify false nobody is told
	 * (the receiver must notice the new identity in the next pkmsg).
	 * Event identity-changed {jid, phone, previous, identity, notify, notified}.
	 */
	/** The devices of other accounts that exchanged a message with account a. */
	contactsOf(a) {
		const { accounts } = this.ctx;
		const mine = j => String(j ?? '').split(/[:@]/)[0] === a.phone;
		const contacts = new Map();
		const add = j => {
			const r = resolve(accounts, j);
			if (r?.device && r.account !== a && !r.device.removed && r.device.via !== 'flood')
				contacts.set(r.device.jid, r.device);
		};
		for (const m of this.messages.values()) {
			if (mine(m.from))
				m.recipients.forEach(add);
			else if (m.recipients.some(mine))
				add(m.from);
		}
		return contacts;
	}

	/**
	 * Account a has a new device d (paired): its contacts (contactsOf) get
	 * <notification from=PHONE@s.whatsapp.net type=devices id t><add>
	 * <device jid=DEVICE key-index=K/></add></notification> (the shape
	 * whatsmeow's handleDeviceNotification and Baileys read), queued until
	 * acked, so a sender's cached device list of a goes stale no longer.
	 * Event devices-changed {jid, phone, notified}.
	 */
	devicesChanged(a, d) {
		const { events, router } = this.ctx;
		const notified = [];
		for (const c of this.contactsOf(a).values()) {
			const id = router.nextId();
			this.enqueue('notification', id, c, {
				tag: 'notification',
				attrs: { from: `${a.phone}@s.whatsapp.net`, type: 'devices', id, t: String(now()) },
				content: [{ tag: 'add', attrs: {}, content: [
					{ tag: 'device', attrs: { jid: d.jid, 'key-index': String(d.keyIndex ?? d.device) } }] }]
			});
			notified.push(c.jid);
		}
		events.record('devices-changed', null, { jid: d.jid, phone: a.phone, notified });
	}

	identityChanged(a, d, previous, notify) {
		const { accounts, events, router } = this.ctx;
		const mine = j => String(j ?? '').split(/[:@]/)[0] === a.phone;
		const contacts = new Map();
		const add = j => {
			const r = resolve(accounts, j);
			if (r?.device && r.account !== a && !r.device.removed && r.device.via !== 'flood')
				contacts.set(r.device.jid, r.device);
		};
		for (const m of this.messages.values()) {
			if (mine(m.from))
				m.recipients.forEach(add);
			else if (m.recipients.some(mine))
				add(m.from);
		}
		const notified = [];
		if (notify) {
			for (const c of contacts.values()) {
				const id = router.nextId();
				this.enqueue('notification', id, c, {
					tag: 'notification',
					attrs: { from: `${a.phone}@s.whatsapp.net`, type: 'encrypt', id, t: String(now()) },
					content: [{ tag: 'identity', attrs: {} }]
				});
				notified.push(c.jid);
			}
		}
		events.record('identity-changed', null, {
			jid: d.jid, phone: a.phone, previous, identity: d.identityKey, notify: !!notify, notified,
			contacts: [...contacts.keys()]
		});
	}

	// ---- routing a <message> ------------------------------------------------------

	route(conn, node) {
		const { accounts, events } = this.ctx;
		const s = conn.data.login.device;
		const sa = conn.data.login.account;
		const { id, to } = node.attrs;
		const t = String(now());
		// The server's ack to the sender.
		conn.sendNode({ tag: 'ack', attrs: { class: 'message', id, from: to, t, ...(node.attrs.phash ? { phash: node.attrs.phash } : {}) } });

		const group = isGroupJid(to) ? this.groups.get(to) ?? null : null;
		const form = group
			? ((node.attrs.addressing_mode ?? group.addressingMode) === 'lid' ? 'lid' : 'pn')
			: (isLidJid(to) ? 'lid' : 'pn');
		const encs = (node.content ?? []).filter(c => c.tag === 'enc');
		const identity = child(node, 'device-identity');
		const targets = new Map(); // device JID -> { d, encs: [] }
		const unroutable = [];
		const add = (d, enc) => {
			let x = targets.get(d.jid);
			if (!x)
				targets.set(d.jid, x = { d, encs: [] });
			if (enc)
				x.encs.push(enc);
		};
		for (const p of child(node, 'participants')?.content ?? []) {
			if (p.tag !== 'to')
				continue;
			const r = resolve(accounts, p.attrs.jid);
			if (!r?.device || r.device.removed || r.device === s) {
				unroutable.push(p.attrs.jid);
				continue;
			}
			for (const enc of (p.content ?? []).filter(c => c.tag === 'enc'))
				add(r.device, enc);
		}
		let chat = to;
		if (isGroupJid(to)) {
			if (!group)
				unroutable.push(to);
			else if (node.attrs.participant) { // a retry resend to one device
				const r = resolve(accounts, node.attrs.participant);
				if (r?.device)
					encs.forEach(e => add(r.device, e));
				else
					unroutable.push(node.attrs.participant);
			} else {
				for (const u of group.participants) {
					const r = resolve(accounts, u);
					for (const d of r ? reachableDevices(r.account) : []) {
						if (d !== s)
							encs.forEach(e => add(d, e));
					}
				}
			}
		} else if (encs.length) {
			// No <participants>: a retry resend (to=DEVICE, device_fanout=false,
			// recipient=CHAT for our own devices) or a peer message to the phone.
			const r = resolve(accounts, to);
			if (r?.device && r.device !== s) {
				encs.forEach(e => add(r.device, e));
				if (node.attrs.recipient)
					chat = node.attrs.recipient;
			} else {
				unroutable.push(to + (node.attrs.category === 'peer' ? ' (peer message to the phone)' : ''));
				// The phone (device 0 of the sender's own account) has no
				// Signal identity here, but it answers as a phone that is
				// online does: a peer_msg receipt from device 0 (how
				// wa-run's phone ping sees that the phone is alive).
				if (node.attrs.category === 'peer' && r?.account === sa && r.no === 0) {
					const answered = this.ctx.config.phoneAnswers;
					if (answered)
						conn.sendNode({ tag: 'receipt', attrs: { from: userJid(sa, r.form), id, type: 'peer_msg', t } });
					events.record('phone-ping', conn.id, {
						id, from: s.jid, to, enc: encs[0]?.attrs.type ?? null,
						pushPriority: node.attrs.push_priority ?? null, answered
					});
				}
			}
		}

		const msg = {
			id, from: s.jid, chat, form, group: group ? group.jid : null, type: node.attrs.type ?? null,
			t: Number(t), recipients: [...targets.keys()], category: node.attrs.category ?? null,
			edit: node.attrs.edit ?? null
		};
		const old = this.messages.get(id);
		if (old && old.from === s.jid)
			msg.recipients = [...new Set([...old.recipients, ...msg.recipients])];
		this.messages.set(id, msg);
		events.record('message-routed', conn.id, {
			id, from: s.jid, to, chat, type: msg.type, group: msg.group, form,
			devices: msg.recipients, unroutable, retry: encs.some(e => e.attrs.count) || undefined
		});

		const name = this.pushName(sa);
		for (const { d, encs: list } of targets.values()) {
			const attrs = { id, t, type: node.attrs.type ?? 'text' };
			const sender = formOf(s, form);
			if (group) {
				Object.assign(attrs, { from: group.jid, participant: sender, addressing_mode: form });
				attrs[form === 'lid' ? 'participant_pn' : 'participant_lid'] = userJid(sa, form === 'lid' ? 'pn' : 'lid');
			} else if (d.jid.split(/[:@]/)[0] === sa.phone) { // our own other device
				Object.assign(attrs, { from: sender, recipient: chat });
			} else {
				attrs.from = sender;
				attrs[form === 'lid' ? 'sender_pn' : 'sender_lid'] = userJid(sa, form === 'lid' ? 'pn' : 'lid');
			}
			if (name && !attrs.recipient)
				attrs.notify = name;
			for (const k of ['edit', 'category'])
				if (node.attrs[k])
					attrs[k] = node.attrs[k];
			const content = [...list];
			if (identity && list.some(e => e.attrs.type === 'pkmsg'))
				content.push(identity);
			this.enqueue('message', id, d, { tag: 'message', attrs, content });
		}
		this.save();
	}

	// ---- receipts -----------------------------------------------------------------------

	receipt(conn, node) {
		const { accounts, events } = this.ctx;
		const r = conn.data.login.device;
		const ra = conn.data.login.account;
		const { id, type } = node.attrs;
		const ids = [id, ...((child(node, 'list')?.content ?? []).filter(i => i.tag === 'item').map(i => i.attrs.id))];
		const ack = { tag: 'ack', attrs: { class: 'receipt', id, from: node.attrs.to ?? SERVER_JID } };
		if (type)
			ack.attrs.type = type;
		conn.sendNode(ack);
		// A receipt acknowledges the message stanzas it names.
		this.markAcked(conn, 'message', ids, `receipt${type ? ':' + type : ''}`);

		const stored = ids.map(x => this.routedTo.has(`${r.jid} ${x}`));
		const relayed = [];
		for (const mid of ids) {
			const m = this.messages.get(mid);
			if (!m)
				continue;
			const sender = resolve(accounts, m.from);
			if (!sender?.device)
				continue;
			const sa = sender.account;
			const targets = type === 'retry'
				? [sender.device]
				: reachableDevices(sa).filter(d => d !== r);
			const attrs = { id: mid, t: node.attrs.t ?? String(now()) };
			if (type)
				attrs.type = type;
			const me = formOf(r, m.form);
			if (m.group)
				Object.assign(attrs, { from: m.group, participant: me });
			else if (ra === sa)
				Object.assign(attrs, { from: me, recipient: m.chat });
			else
				attrs.from = me;
			const content = (node.content ?? []).filter(c => c.tag !== 'list');
			for (const d of targets) {
				this.enqueue('receipt', mid, d, { tag: 'receipt', attrs: { ...attrs }, content: content.length ? content : undefined });
				relayed.push(d.jid);
			}
		}
		const rec = {
			id, ids, type: type ?? null, device: r.jid, to: node.attrs.to ?? null,
			participant: node.attrs.participant ?? null, recipient: node.attrs.recipient ?? null,
			known: ids.map(x => this.messages.has(x)), stored, allStored: stored.every(Boolean),
			retry: child(node, 'retry')?.attrs ?? null, keys: !!child(node, 'keys'), relayedTo: relayed, t: Date.now()
		};
		this.receipts.push(rec);
		events.record('receipt', conn.id, { ...rec, known: rec.known.every(Boolean) });
	}

	// ---- control API views ------------------------------------------------------------------

	entryInfo(e) {
		return {
			n: e.n, kind: e.kind, id: e.id, device: e.device, state: e.state, deliveries: e.deliveries,
			offline: e.offline, conn: e.conn, queuedAt: e.queuedAt, deliveredAt: e.deliveredAt,
			ackedAt: e.ackedAt, ackVia: e.ackVia, error: e.error, node: nodeToJSON(e.node)
		};
	}

	listMessages(q) {
		const dev = q.get('device');
		const want = x => !dev || x === dev || resolve(this.ctx.accounts, dev)?.device?.jid === x;
		const ids = q.get('id') ? [q.get('id')] : null;
		const st = q.get('state');
		const kind = q.get('kind') || 'message';
		const entries = this.entries.filter(e => (kind === 'all' || e.kind === kind) && want(e.device) &&
			(!ids || ids.includes(e.id)) && (!st || e.state === st));
		const pending = {};
		for (const [dev, list] of this.pendingBy) {
			if (list.size)
				pending[dev] = list.size;
		}
		return {
			seq: this.ctx.events.seq,
			messages: [...this.messages.values()].filter(m => !ids || ids.includes(m.id)),
			entries: entries.map(e => this.entryInfo(e)),
			pending
		};
	}

	listReceipts(q) {
		const dev = q.get('device');
		const id = q.get('id');
		return {
			seq: this.ctx.events.seq,
			receipts: this.receipts.filter(r => (!dev || r.device === dev) && (!id || r.ids.includes(id)))
		};
	}
}

// ---- stanza handlers ---------------------------------------------------------------------

const loggedIn = conn => !!conn.data.login?.device && !!conn.ctx.messaging;

export const messageHandler = {
	name: 'message',
	match: n => n.tag === 'message' && !!n.attrs.id && !!n.attrs.to,
	handle(n, conn) {
		if (!loggedIn(conn))
			return conn.log.warn('<message> before login; ignored');
		conn.ctx.messaging.route(conn, n);
	}
};

export const receiptHandler = {
	name: 'receipt',
	match: n => n.tag === 'receipt' && !!n.attrs.id,
	handle(n, conn) {
		if (!loggedIn(conn))
			return conn.log.warn('<receipt> before login; ignored');
		conn.ctx.messaging.receipt(conn, n);
	}
};

/** <ack class=message|receipt|notification id [error]> from a receiving client. */
export const ackHandler = {
	name: 'client-ack',
	match: n => n.tag === 'ack' && ['message', 'receipt', 'notification'].includes(n.attrs.class) && !!n.attrs.id,
	handle(n, conn) {
		if (!loggedIn(conn))
			return;
		if (n.attrs.error)
			conn.ctx.events.record('message-nack', conn.id, { id: n.attrs.id, kind: n.attrs.class, device: conn.data.login.jid, error: n.attrs.error });
		const done = conn.ctx.messaging.markAcked(conn, n.attrs.class, [n.attrs.id], 'ack', n.attrs.error);
		if (!done.length)
			conn.log.info(`ack for ${n.attrs.class} ${n.attrs.id}: nothing pending`);
	}
};

/** <presence name=… type=available|unavailable>: remember the push name. */
export const presenceHandler = {
	name: 'presence',
	match: n => n.tag === 'presence' && !n.attrs.to,
	handle(n, conn) {
		const a = conn.data.login?.account;
		if (a && n.attrs.name && conn.ctx.messaging) {
			conn.ctx.messaging.pushNames[a.phone] = n.attrs.name;
			conn.ctx.messaging.save();
		}
		conn.ctx.events.record('presence', conn.id, { jid: conn.data.login?.jid ?? null, name: n.attrs.name ?? null, type: n.attrs.type ?? null });
	}
};

/**
 * <iq type=set xmlns=privacy><tokens><token jid t type=trusted_contact/>…:
 * Baileys issues privacy (tc) tokens to the peers it writes to; answered
 * with an empty result (fakewa checks no tokens) and recorded.
 */
export const privacyTokensHandler = {
	name: 'privacy-tokens',
	match: n => n.tag === 'iq' && n.attrs.xmlns === 'privacy' && n.attrs.type === 'set' && !!child(n, 'tokens'),
	handle(n, conn) {
		const tokens = (child(n, 'tokens').content ?? []).filter(t => t.tag === 'token').map(t => ({ ...t.attrs }));
		conn.ctx.events.record('privacy-tokens', conn.id, { jid: conn.data.login?.jid ?? null, tokens });
		conn.sendNode({ tag: 'iq', attrs: { from: SERVER_JID, type: 'result', id: n.attrs.id } });
	}
};

export const messagingHandlers = [messageHandler, receiptHandler, ackHandler, presenceHandler, privacyTokensHandler];

/** Hook for the passive <active/> answer (login.mjs): the backlog count. */
export function offlineBacklog(conn) {
	try {
		return conn.ctx.messaging?.flushOffline(conn) ?? 0;
	} catch (err) {
		log.conn(conn.id).error(`offline flush failed: ${err.stack}`);
		return 0;
	}
}

export { splitJid };

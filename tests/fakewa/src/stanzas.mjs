// The stanza loop: what the server says first after the handshake, and how
// it answers nodes.  Kept as a list of handlers so later work (pairing with
// a simulated phone, pre-keys, messages) adds modules instead of growing a
// switch:
//
//   router.use({ name, match(node, conn), handle(node, conn, router) })
//   router.greet(fn(conn, router) -> true if it greeted)   (first wins)
//   router.onClose(fn(conn))                               (all run)
//
// Handlers are tried in order of registration; the first whose match()
// returns true handles the node.  Unhandled nodes are only logged (and
// recorded by the connection), never answered, exactly like a server that
// does not know the request.
//
// This module has the core (ping, iq replies, helpers); router.mjs builds
// the router the server runs, adding pairing.mjs (QR refs, the phone,
// link codes), login.mjs (<success>/<failure>, housekeeping iqs) and
// prekeys.mjs.

import { createHash } from 'crypto';
import { S_WHATSAPP_NET } from 'baileys/lib/WABinary/jid-utils.js';

export const SERVER_JID = S_WHATSAPP_NET; // "@s.whatsapp.net", encoded FA 00 03

export function makeRouter() {
	const handlers = [];
	const greeters = [];
	const closers = [];
	let idCounter = 0;

	const router = {
		use(h) {
			handlers.push(h);
			return router;
		},
		greet(fn) {
			greeters.push(fn);
			return router;
		},
		onClose(fn) {
			closers.push(fn);
			return router;
		},
		closed(conn) {
			for (const fn of closers) {
				try {
					fn(conn);
				} catch (err) {
					conn.log.error(`close hook failed: ${err.stack}`);
				}
			}
		},
		/** A fresh id for server-initiated iqs. */
		nextId() {
			return `${Date.now() % 100000}.${++idCounter}`;
		},
		connected(conn) {
			for (const g of greeters) {
				if (g(conn, router))
					return;
			}
		},
		dispatch(conn, node) {
			const h = handlers.find(x => x.match(node, conn));
			if (!h) {
				conn.log.info(`no handler for <${node.tag}>`);
				return;
			}
			try {
				const r = h.handle(node, conn, router);
				if (r && typeof r.catch === 'function')
					r.catch(err => conn.log.error(`handler ${h.name} failed: ${err.stack}`));
			} catch (err) {
				conn.log.error(`handler ${h.name} failed: ${err.stack}`);
			}
		}
	};
	return router;
}

/** <iq from=s.whatsapp.net type=result id=ID/> answering a request. */
export function iqResult(req, content) {
	const node = { tag: 'iq', attrs: { from: SERVER_JID, type: 'result', id: req.attrs.id } };
	if (content)
		node.content = content;
	return node;
}

// ---- core handlers --------------------------------------------------------

/** Keepalive (wa-protocol(7) §9): <iq type=get xmlns=w:p> with or without <ping/>. */
export const pingHandler = {
	name: 'ping',
	match: n => n.tag === 'iq' && n.attrs.type === 'get' && n.attrs.xmlns === 'w:p',
	handle: (n, conn) => conn.sendNode(iqResult(n))
};

/** Clients answer our iqs with type=result/error; just note them. */
export const iqReplyHandler = {
	name: 'iq-reply',
	match: n => n.tag === 'iq' && (n.attrs.type === 'result' || n.attrs.type === 'error'),
	handle: (n, conn) => conn.log.info(`client answered iq ${n.attrs.id} (${n.attrs.type})`)
};

/**
 * A stable fake LID user for a phone number: "1" + 14 digits derived from
 * the number, so the same account always gets the same LID.
 */
export function lidFor(username) {
	const h = createHash('sha256').update(String(username)).digest();
	const digits = (h.readBigUInt64BE(0) % 100000000000000n).toString().padStart(14, '0');
	return '1' + digits;
}

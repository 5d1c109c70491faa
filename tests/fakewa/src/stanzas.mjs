// The stanza loop: what the server says first after the handshake, and how
// it answers nodes.  Kept as a list of handlers so later work (pairing with
// a simulated phone, pre-keys, messages) adds modules instead of growing a
// switch:
//
//   router.use({ name, match(node, conn), handle(node, conn, router) })
//   router.greet(fn(conn, router) -> true if it greeted)   (first wins)
//
// Handlers are tried in order of registration; the first whose match()
// returns true handles the node.  Unhandled nodes are only logged (and
// recorded by the connection), never answered, exactly like a server that
// does not know the request.

import { createHash, randomBytes } from 'crypto';
import { S_WHATSAPP_NET } from 'baileys/lib/WABinary/jid-utils.js';

export const SERVER_JID = S_WHATSAPP_NET; // "@s.whatsapp.net", encoded FA 00 03

export function makeRouter() {
	const handlers = [];
	const greeters = [];
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

/** Keepalive (protocol.md §9): <iq type=get xmlns=w:p> with or without <ping/>. */
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
 * Registration payload (no username): ask for a QR with six refs
 * (protocol.md §6.1).  The refs are kept in conn.data.refs.
 */
export function greetPairing(conn, router) {
	if (!conn.summary.pairing)
		return false;
	const refs = Array.from({ length: 6 }, () => Buffer.from('2@' + randomBytes(30).toString('base64')));
	conn.data.refs = refs;
	conn.sendNode({
		tag: 'iq',
		attrs: { from: SERVER_JID, type: 'set', id: router.nextId(), xmlns: 'md' },
		content: [{ tag: 'pair-device', attrs: {}, content: refs.map(r => ({ tag: 'ref', attrs: {}, content: r })) }]
	});
	return true;
}

/**
 * A stable fake LID user for a phone number: "1" + 14 digits derived from
 * the number, so the same account always gets the same LID.
 */
export function lidFor(username) {
	const h = createHash('sha256').update(String(username)).digest();
	const digits = (h.readBigUInt64BE(0) % 100000000000000n).toString().padStart(14, '0');
	return '1' + digits;
}

/** Login payload: <success t=NOW lid=LID:DEV@lid/> (protocol.md §8.1). */
export function greetLogin(conn) {
	const s = conn.summary;
	if (s.pairing || !s.username) {
		conn.log.warn('payload is neither registration nor login; not greeting');
		return false;
	}
	const lid = `${lidFor(s.username)}${s.device ? ':' + s.device : ''}@lid`;
	conn.data.lid = lid;
	conn.sendNode({ tag: 'success', attrs: { t: String(Math.floor(Date.now() / 1000)), lid } });
	return true;
}

/** The router with the behaviour this fake server has by default. */
export function defaultRouter() {
	return makeRouter()
		.use(pingHandler)
		.use(iqReplyHandler)
		.greet(greetPairing)
		.greet(greetLogin);
}

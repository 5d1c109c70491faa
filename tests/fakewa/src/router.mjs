// The router fakewa runs with: the core handlers of stanzas.mjs plus the
// phone (pairing.mjs), login and housekeeping (login.mjs) and pre-keys
// (prekeys.mjs), and the message router: usync.mjs (device lists, pre-key
// bundles), groups.mjs (group metadata), messaging.mjs (<message>,
// <receipt>, client acks, queues).  Order matters: the first handler whose match() is true
// handles a node, so specific handlers come before the catch-all iq-reply.

import { greetLogin, housekeepingHandlers } from './login.mjs';
import { greetPairing, linkCodeHandler, pairingClosed, pairReplyHandler } from './pairing.mjs';
import { groupHandlers } from './groups.mjs';
import { messagingHandlers } from './messaging.mjs';
import { prekeyHandlers } from './prekeys.mjs';
import { iqReplyHandler, makeRouter, pingHandler } from './stanzas.mjs';
import { usyncHandlers } from './usync.mjs';

export function fakewaRouter() {
	const r = makeRouter()
		.use(pingHandler)
		.use(pairReplyHandler)
		.use(linkCodeHandler);
	for (const h of prekeyHandlers)
		r.use(h);
	for (const h of housekeepingHandlers)
		r.use(h);
	for (const h of [...usyncHandlers, ...groupHandlers, ...messagingHandlers])
		r.use(h);
	return r
		.use(iqReplyHandler)
		.greet(greetPairing)
		.greet(greetLogin)
		.onClose(pairingClosed);
}

// The router fakewa runs with: the core handlers of stanzas.mjs plus the
// phone (pairing.mjs), login and housekeeping (login.mjs) and pre-keys
// (prekeys.mjs).  Order matters: the first handler whose match() is true
// handles a node, so specific handlers come before the catch-all iq-reply.

import { greetLogin, housekeepingHandlers } from './login.mjs';
import { greetPairing, linkCodeHandler, pairingClosed, pairReplyHandler } from './pairing.mjs';
import { prekeyHandlers } from './prekeys.mjs';
import { iqReplyHandler, makeRouter, pingHandler } from './stanzas.mjs';

export function fakewaRouter() {
	const r = makeRouter()
		.use(pingHandler)
		.use(pairReplyHandler)
		.use(linkCodeHandler);
	for (const h of prekeyHandlers)
		r.use(h);
	for (const h of housekeepingHandlers)
		r.use(h);
	return r
		.use(iqReplyHandler)
		.greet(greetPairing)
		.greet(greetLogin)
		.onClose(pairingClosed);
}

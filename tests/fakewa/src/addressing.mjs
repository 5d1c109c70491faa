// Addressing for the router: which registered device a JID names, and how
// a device is written in the PN or the LID form (wa-protocol(7) §5).
//
//   resolve(accounts, "15550001111:3@s.whatsapp.net") -> { account, device, no, form: "pn" }
//   resolve(accounts, "100000000000001:3@lid")       -> { account, device, no, form: "lid" }
//
// A JID without a device part names device 0 (the primary phone, which
// fakewa simulates without a Signal identity, so it has no device record).

/** "user[_agent][:dev]@server" -> { user, device, server } or null. */
export function splitJid(jid) {
	const m = /^([^@:]+?)(?:_(\d+))?(?::(\d+))?@([a-z.]+)$/.exec(String(jid ?? ''));
	if (!m)
		return null;
	return { user: m[1], device: m[3] === undefined ? 0 : Number(m[3]), server: m[4], hasDevice: m[3] !== undefined };
}

export const isGroupJid = jid => /@g\.us$/.test(String(jid ?? ''));
export const isLidJid = jid => /@lid$/.test(String(jid ?? ''));

/** The account whose phone number or LID user is `user` on `server`. */
export function accountOf(accounts, user, server) {
	if (server === 's.whatsapp.net' || server === 'c.us')
		return accounts.get(user);
	if (server === 'lid')
		return Object.values(accounts.data.accounts).find(a => a.lid === user) ?? null;
	return null;
}

/** { account, device (record or null), no, form } for a user or device JID, or null. */
export function resolve(accounts, jid) {
	const j = splitJid(jid);
	if (!j)
		return null;
	const account = accountOf(accounts, j.user, j.server);
	if (!account)
		return null;
	return { account, device: account.devices[j.device] ?? null, no: j.device, form: j.server === 'lid' ? 'lid' : 'pn' };
}

/** A device record's JID in the given form ("pn" or "lid"). */
export function formOf(d, form) {
	return form === 'lid' ? d.lid : d.jid;
}

/** A user JID (no device) of an account in the given form. */
export function userJid(a, form) {
	return form === 'lid' ? `${a.lid}@lid` : `${a.phone}@s.whatsapp.net`;
}

/**
 * Devices of an account that can receive messages: not removed, and with an
 * identity key and a signed pre-key on the server (uploaded or registered),
 * i.e. a peer can build a Signal session with them.
 */
export function reachableDevices(a) {
	return Object.values(a.devices)
		.filter(d => !d.removed && d.identityKey && d.signedPreKey)
		.sort((x, y) => x.device - y.device);
}

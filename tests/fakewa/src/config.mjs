// Server behaviour settings: set at startup (server.mjs options), read and
// changed at run time through GET/POST /config.  Each setting has a type and
// a check; POST /config takes a subset and answers the whole config.
//
//   qrRefs        refs in <pair-device> (6, wa-protocol(7) §6.1)
//   qrFirstMs     how long the first ref is valid (60000, §6.3)
//   qrNextMs      how long each further ref is valid (20000, §6.3)
//   qrGraceMs     extra time after the last ref's window before the server
//                 closes the registration connection (2000)
//   qrExpiry      what the server does when all refs are used up: "close"
//                 (websocket close frame, no stanza), "drop" (TCP only) or
//                 "none" (keep the connection; the client's own timers act)
//   acceptAnyLogin  log in devices of phone numbers fakewa holds no account
//                 for (adopting them); known accounts are always checked
//   replaceOnLogin  a second login of the same device sends
//                 <stream:error><conflict type="replaced"/> to the first (§10.2)
//   sendOffline   <ib><offline count="0"/></ib> after the client's
//                 <iq xmlns=passive><active/> (end of the empty offline queue, §8.5)
//   phone         phone number the simulated phone uses by default ("" = the
//                 account registry's default, made once per state dir)
//   platform      <platform name> in pair-success ("android")
//   pairReplyMs   how long the phone waits for the client's
//                 <pair-device-sign> reply before giving up (30000)
//   phoneAnswers  the simulated phone answers a peer message a device sends
//                 it (wa-run's phone ping, category=peer to its own account's
//                 device 0) with <receipt type=peer_msg> from device 0 (true)
//   logNodes      record each node sent and received in full in the "sent"
//                 and "node" events (true); false keeps only its tag and
//                 attributes (benchmarks: a flood of 10^4 messages would
//                 otherwise keep every stanza twice, as JSON)

const SPEC = {
	qrRefs: { type: 'int', min: 1, max: 64, def: 6 },
	qrFirstMs: { type: 'int', min: 1, max: 3600000, def: 60000 },
	qrNextMs: { type: 'int', min: 1, max: 3600000, def: 20000 },
	qrGraceMs: { type: 'int', min: 0, max: 3600000, def: 2000 },
	qrExpiry: { type: 'enum', values: ['close', 'drop', 'none'], def: 'close' },
	acceptAnyLogin: { type: 'bool', def: true },
	replaceOnLogin: { type: 'bool', def: true },
	sendOffline: { type: 'bool', def: true },
	phone: { type: 'phone', def: '' },
	platform: { type: 'string', def: 'android' },
	pairReplyMs: { type: 'int', min: 1, max: 3600000, def: 30000 },
	logNodes: { type: 'bool', def: true },
	phoneAnswers: { type: 'bool', def: true }
};

export function defaultConfig() {
	return Object.fromEntries(Object.entries(SPEC).map(([k, s]) => [k, s.def]));
}

export const CONFIG_KEYS = Object.keys(SPEC);

/** Check one value; returns the normalised value or throws. */
export function checkSetting(key, v) {
	const s = SPEC[key];
	if (!s)
		throw new Error(`unknown setting ${key}`);
	switch (s.type) {
	case 'int': {
		const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
		if (!Number.isInteger(n) || n < s.min || n > s.max)
			throw new Error(`${key} must be an integer ${s.min}..${s.max}`);
		return n;
	}
	case 'bool':
		if (v === true || v === 'true' || v === '1')
			return true;
		if (v === false || v === 'false' || v === '0')
			return false;
		throw new Error(`${key} must be true or false`);
	case 'enum':
		if (!s.values.includes(v))
			throw new Error(`${key} must be one of ${s.values.join(', ')}`);
		return v;
	case 'phone':
		if (v !== '' && !(typeof v === 'string' && /^[1-9]\d{6,14}$/.test(v)))
			throw new Error(`${key} must be 7 to 15 digits, not starting with 0`);
		return v;
	default:
		if (typeof v !== 'string' || !v)
			throw new Error(`${key} must be a non-empty string`);
		return v;
	}
}

/** Apply a partial update atomically (all checked before any is set). */
export function updateConfig(config, patch) {
	if (!patch || typeof patch !== 'object' || Array.isArray(patch))
		throw new Error('config must be a JSON object');
	const next = {};
	for (const [k, v] of Object.entries(patch))
		next[k] = checkSetting(k, v);
	Object.assign(config, next);
	return config;
}

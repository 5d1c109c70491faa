// Everything fakewa observes or does is recorded as an event with a global,
// increasing `seq`.  The control API serves the log and lets callers block
// until an event matching a filter exists (GET /wait), so shell tests never
// sleep: a wait for an event that already happened returns at once, and
// `since` (a seq from an earlier answer) restricts it to later events.
//
// Event kinds: open (websocket accepted), connected (handshake done, payload
// decoded), node (node received from the client), sent (node sent by us),
// fault (a fault was applied), error (protocol error on a connection),
// closed (socket gone).

export class EventLog {
	constructor() {
		this.events = [];
		this.seq = 0;
		this.waiters = new Set();
	}

	record(event, conn, fields = {}) {
		const ev = { seq: ++this.seq, t: Date.now(), event, conn, ...fields };
		this.events.push(ev);
		for (const w of [...this.waiters]) {
			if (matches(ev, w.filter)) {
				this.waiters.delete(w);
				clearTimeout(w.timer);
				w.resolve(ev);
			}
		}
		return ev;
	}

	find(filter) {
		return this.events.find(ev => matches(ev, filter));
	}

	list(filter) {
		return this.events.filter(ev => matches(ev, filter));
	}

	/** Resolves with the first matching event, or null after timeoutMs. */
	wait(filter, timeoutMs) {
		const found = this.find(filter);
		if (found)
			return Promise.resolve(found);
		return new Promise(resolve => {
			const w = { filter, resolve };
			w.timer = setTimeout(() => {
				this.waiters.delete(w);
				resolve(null);
			}, timeoutMs);
			this.waiters.add(w);
		});
	}

	/** Release all waiters with { shutdown: true } (on shutdown). */
	cancelAll() {
		for (const w of this.waiters) {
			clearTimeout(w.timer);
			w.resolve({ shutdown: true });
		}
		this.waiters.clear();
	}
}

/**
 * filter: { since, event, conn, tag, child, attrs: {k: v}, fields: {k: v} };
 * all optional.  tag/attrs match the top-level node of node/sent events,
 * child the tag of any of its direct children; fields match the event's own
 * scalar fields by their string form ("true", "401", "null").
 */
export function matches(ev, f) {
	if (f.since !== undefined && ev.seq <= f.since)
		return false;
	if (f.event !== undefined && ev.event !== f.event)
		return false;
	if (f.conn !== undefined && ev.conn !== f.conn)
		return false;
	if (f.tag !== undefined && ev.node?.tag !== f.tag)
		return false;
	if (f.child !== undefined && !(Array.isArray(ev.node?.content) && ev.node.content.some(c => c.tag === f.child)))
		return false;
	for (const [k, v] of Object.entries(f.attrs || {})) {
		if (ev.node?.attrs?.[k] !== v)
			return false;
	}
	for (const [k, v] of Object.entries(f.fields || {})) {
		const x = ev[k];
		if (x === undefined || x === null ? v !== String(x) : (typeof x === 'object' || String(x) !== v))
			return false;
	}
	return true;
}

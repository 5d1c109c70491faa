// One client connection: websocket -> frames -> Noise responder -> transport.
//
// States: "hello" (waiting for intro + ClientHello), "finish" (ServerHello
// sent, waiting for ClientFinish), "open" (transport mode), "closed".
// Every received node is recorded and then handed to the stanza router;
// every node we send is recorded.  Faults (faults.mjs) act on this object
// through the small set of methods below.

import { proto } from 'baileys/WAProto/index.js';
import { buildCertChain } from './certs.mjs';
import { encodeFrame, FrameReader } from './framing.mjs';
import { log } from './log.mjs';
import { NoiseResponder } from './noise.mjs';
import { decodePlaintext, encodePlaintext, nodeToJSON } from './nodes.mjs';

export class Connection {
	/**
	 * ctx: { events, authority, staticKeyPair, takeCertFault(), router }
	 */
	constructor(id, ws, req, ctx) {
		this.id = id;
		this.ws = ws;
		this.ctx = ctx;
		this.log = log.conn(id);
		this.state = 'hello';
		this.remotePort = req.socket.remotePort;
		this.origin = req.headers.origin ?? null;
		this.reader = new FrameReader();
		this.noise = null;
		this.recvCipher = null;
		this.sendCipher = null;
		this.clientStatic = null;
		this.payload = null; // ClientPayload as a JSON object
		this.summary = null;
		this.certFault = null;
		this.stalled = false; // no output at all while set
		this.closedBy = null;
		this.data = {}; // scratch space for stanza handlers (pairing state etc.)

		ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
		ws.on('close', (code, reason) => this.#onClose(code, reason));
		ws.on('error', err => this.log.warn(`websocket error: ${err.message}`));
		ctx.events.record('open', id, { remotePort: this.remotePort, origin: this.origin });
		this.log.info(`websocket open from port ${this.remotePort}`);
	}

	get isOpen() {
		return this.state === 'open';
	}

	info() {
		return {
			id: this.id,
			state: this.state,
			remotePort: this.remotePort,
			stalled: this.stalled,
			routingInfo: this.reader.intro?.routingInfo?.toString('base64') ?? null,
			clientStatic: this.clientStatic?.toString('hex') ?? null,
			payload: this.summary,
			login: this.data.login?.jid ?? null
		};
	}

	// ---- output -----------------------------------------------------------

	/** Send raw bytes as one websocket message (no framing, no encryption). */
	sendRaw(bytes) {
		if (this.state === 'closed')
			throw new Error(`connection ${this.id} is closed`);
		this.ws.send(bytes, { binary: true });
	}

	/** Frame and (in transport mode) encrypt a plaintext, then send it. */
	sendFrame(plaintext) {
		const payload = this.sendCipher ? this.sendCipher.encrypt(plaintext) : plaintext;
		this.sendRaw(encodeFrame(payload));
	}

	/**
	 * Send a node.  opts: { compress, force }.  While stalled nothing goes
	 * out unless force is set.  Returns the "sent" event, or null if
	 * suppressed.
	 */
	sendNode(node, opts = {}) {
		if (!this.isOpen)
			throw new Error(`connection ${this.id} is not open (state ${this.state})`);
		if (this.stalled && !opts.force) {
			this.log.info(`stalled: not sending <${node.tag}>`);
			return null;
		}
		this.sendFrame(encodePlaintext(node, { compress: !!opts.compress }));
		const ev = this.ctx.events.record('sent', this.id, { node: this.logged(node), compressed: !!opts.compress });
		this.log.info(`sent <${node.tag}>${opts.compress ? ' (zlib)' : ''}`, ev.node);
		return ev;
	}

	/** A node as the events keep it: JSON, or tag and attributes only
	 * (config logNodes false). */
	logged(node) {
		if (this.ctx.config?.logNodes === false)
			return { tag: node.tag, attrs: { ...node.attrs } };
		return nodeToJSON(node);
	}

	/** Close the websocket.  hard: no close frame, just drop TCP. */
	close({ hard = false, code = 1000 } = {}) {
		if (this.state === 'closed')
			return;
		this.closedBy = 'server';
		if (hard)
			this.ws.terminate();
		else
			this.ws.close(code);
	}

	// ---- input ------------------------------------------------------------

	#onMessage(data, isBinary) {
		if (!isBinary) {
			this.log.warn('ignoring text websocket message');
			return;
		}
		if (this.state === 'closed')
			return;
		let frames;
		try {
			frames = this.reader.push(Buffer.isBuffer(data) ? data : Buffer.concat(data));
		} catch (err) {
			this.#protocolError('framing', err);
			return;
		}
		for (const frame of frames) {
			if (this.state === 'closed')
				return;
			try {
				this.#onFrame(frame);
			} catch (err) {
				this.#protocolError(this.state, err);
				return;
			}
		}
	}

	#onFrame(frame) {
		switch (this.state) {
		case 'hello':
			return this.#clientHello(frame);
		case 'finish':
			return this.#clientFinish(frame);
		case 'open':
			return this.#transportFrame(frame);
		}
	}

	#clientHello(frame) {
		const { authority, staticKeyPair } = this.ctx;
		this.noise = new NoiseResponder({ staticKeyPair, prologue: this.reader.intro.header });
		this.certFault = this.ctx.takeCertFault();
		if (this.certFault) {
			this.ctx.events.record('fault', this.id, { kind: this.certFault });
			this.log.info(`applying ${this.certFault} to this handshake`);
		}
		const chain = buildCertChain(authority, staticKeyPair.public, this.certFault);
		const hello = this.noise.clientHello(frame, chain);
		if (this.reader.intro.routingInfo)
			this.log.info(`edge routing info ${this.reader.intro.routingInfo.toString('hex')}`);
		this.sendFrame(hello);
		this.state = 'finish';
	}

	#clientFinish(frame) {
		const fin = this.noise.clientFinish(frame);
		this.clientStatic = fin.clientStatic;
		this.recvCipher = fin.recv;
		this.sendCipher = fin.send;
		this.noise = null;
		const decoded = proto.ClientPayload.decode(fin.payload);
		this.payload = proto.ClientPayload.toObject(decoded, { longs: String, enums: String, bytes: String });
		this.summary = summarize(this.payload);
		this.state = 'open';
		this.ctx.events.record('connected', this.id, {
			remotePort: this.remotePort,
			clientStatic: this.clientStatic.toString('hex'),
			summary: this.summary,
			payload: this.payload
		});
		this.log.info('handshake complete', this.payload);
		this.ctx.router.connected(this);
	}

	#transportFrame(frame) {
		const plain = this.recvCipher.decrypt(frame);
		const { node, compressed, trailing } = decodePlaintext(plain);
		if (trailing)
			this.log.warn(`${trailing} trailing bytes after node`);
		const json = this.logged(node);
		this.ctx.events.record('node', this.id, { node: json, compressed });
		this.log.info(`recv <${node.tag}>`, json);
		if (this.stalled)
			return;
		this.ctx.router.dispatch(this, node);
	}

	#protocolError(where, err) {
		this.ctx.events.record('error', this.id, { state: this.state, where, message: err.message });
		this.log.warn(`protocol error in ${where}: ${err.message}; closing`);
		this.close({ hard: true });
	}

	#onClose(code, reason) {
		const prev = this.state;
		this.state = 'closed';
		const by = this.closedBy ?? 'client';
		this.ctx.events.record('closed', this.id, { code, reason: reason?.toString() ?? '', stateBefore: prev, by });
		this.log.info(`closed (${code}) in state ${prev} by ${by}`);
		this.ctx.router.closed?.(this);
	}
}

/** The part of a ClientPayload tests usually want (values as JSON). */
function summarize(p) {
	const v = p.userAgent?.appVersion;
	const pairing = !!p.devicePairingData;
	return {
		username: p.username ?? null,
		device: p.device ?? null,
		jid: p.username ? `${p.username}${p.device ? ':' + p.device : ''}@s.whatsapp.net` : null,
		passive: !!p.passive,
		pull: !!p.pull,
		pairing,
		pushName: p.pushName ?? null,
		platform: p.userAgent?.platform ?? null,
		appVersion: v ? [v.primary, v.secondary, v.tertiary].join('.') : null
	};
}

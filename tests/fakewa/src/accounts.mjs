// The account registry: what the real server knows about each WhatsApp
// account and its linked devices.
//
// An account is a phone number with its LID user and the primary phone's
// identity key pair (the "account signature key" that signs ADV device
// identities, wa-protocol(7) §6.4).  Its devices are companions paired here
// (via "qr" or "code"), imported from a Baileys folder ("import"), or
// adopted on first login when acceptAnyLogin is on ("adopted").  Per device
// we keep what a login is checked against (the Noise static key the device
// registered with), its identity key, and the pre-keys it uploaded (§8.4).
//
// Kept in DIR/accounts.json (0600, written atomically) with --state-dir,
// else in memory only.

import { randomInt } from 'crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'fs';
import { join } from 'path';
import { proto } from 'baileys/WAProto/index.js';
import { BufferJSON } from 'baileys/lib/Utils/generics.js';
import { Curve } from 'baileys/lib/Utils/crypto.js';
import { lidFor } from './stanzas.mjs';

const FORMAT = 'fakewa-accounts/1';
const hex = b => (b ? Buffer.from(b).toString('hex') : null);

/** "user[:dev][@server]" or "user.dev" -> { user, device|null }, or null. */
export function parseDeviceJid(s) {
	const m = /^(\d{5,20})(?:[:.](\d{1,3}))?(?:@(?:s\.whatsapp\.net|c\.us))?$/.exec(String(s ?? ''));
	if (!m)
		return null;
	return { user: m[1], device: m[2] === undefined ? null : Number(m[2]) };
}

export const deviceJid = (phone, device) => `${phone}${device ? ':' + device : ''}@s.whatsapp.net`;
export const deviceLid = (lid, device) => `${lid}${device ? ':' + device : ''}@lid`;

export class Accounts {
	constructor(stateDir) {
		this.file = stateDir ? join(stateDir, 'accounts.json') : null;
		this.data = { format: FORMAT, defaultPhone: null, accounts: {} };
		if (this.file) {
			mkdirSync(stateDir, { recursive: true, mode: 0o700 });
			let text = null;
			try {
				text = readFileSync(this.file, 'utf8');
			} catch (err) {
				if (err.code !== 'ENOENT')
					throw err;
			}
			if (text !== null) {
				const d = JSON.parse(text);
				if (d.format !== FORMAT)
					throw new Error(`${this.file}: unsupported format ${d.format}`);
				this.data = d;
			}
		}
		if (!this.data.defaultPhone) {
			this.data.defaultPhone = '1555' + String(randomInt(0, 1e7)).padStart(7, '0');
			this.save();
		}
	}

	save() {
		if (!this.file)
			return;
		const tmp = `${this.file}.${process.pid}.tmp`;
		writeFileSync(tmp, JSON.stringify(this.data) + '\n', { mode: 0o600 });
		renameSync(tmp, this.file);
	}

	get defaultPhone() {
		return this.data.defaultPhone;
	}

	get(phone) {
		return this.data.accounts[phone] ?? null;
	}

	/**
	 * The account for a phone number, created with a fresh account key if
	 * new.  opts.lid: LID user for a new account (default lidFor(phone)).
	 */
	getOrCreate(phone, opts = {}) {
		let a = this.data.accounts[phone];
		if (!a) {
			const kp = Curve.generateKeyPair();
			a = {
				phone,
				lid: opts.lid ?? lidFor(phone),
				accountKey: { public: hex(kp.public), private: hex(kp.private) },
				rawId: randomInt(1, 2 ** 31),
				nextKeyIndex: 1,
				nextDevice: 2,
				created: Date.now(),
				devices: {}
			};
			this.data.accounts[phone] = a;
			this.save();
		}
		return a;
	}

	accountKeyPair(a) {
		if (!a.accountKey?.private)
			return null;
		return { public: Buffer.from(a.accountKey.public, 'hex'), private: Buffer.from(a.accountKey.private, 'hex') };
	}

	/** Allocate device number and key index for a new companion. */
	allocate(a, wantDevice) {
		let device = wantDevice ?? a.nextDevice;
		while (!wantDevice && a.devices[device] && !a.devices[device].removed)
			device++;
		const keyIndex = a.nextKeyIndex;
		return { device, keyIndex };
	}

	/** Record a device (paired, imported or adopted).  Returns the record. */
	addDevice(a, rec) {
		const d = {
			device: rec.device,
			jid: deviceJid(a.phone, rec.device),
			lid: deviceLid(a.lid, rec.device),
			via: rec.via,
			keyIndex: rec.keyIndex ?? null,
			platform: rec.platform ?? null,
			companionPlatform: rec.companionPlatform ?? null,
			pairedAt: Date.now(),
			noiseKey: rec.noiseKey ?? null, // hex; null = learn it on first login
			identityKey: rec.identityKey ?? null,
			registrationId: rec.registrationId ?? null,
			signedPreKey: rec.signedPreKey ?? null,
			preKeys: {},
			uploads: [],
			taken: 0,
			removed: null,
			logins: 0,
			lastLogin: null
		};
		a.devices[rec.device] = d;
		if (rec.device >= a.nextDevice)
			a.nextDevice = rec.device + 1;
		if (rec.keyIndex && rec.keyIndex >= a.nextKeyIndex)
			a.nextKeyIndex = rec.keyIndex + 1;
		this.save();
		return d;
	}

	/** { account, device } for a JID string, or null. */
	find(jid) {
		const p = parseDeviceJid(jid);
		if (!p)
			return null;
		const a = this.data.accounts[p.user];
		if (!a)
			return null;
		let d;
		if (p.device === null) {
			const live = Object.values(a.devices).filter(x => !x.removed);
			d = live.length === 1 ? live[0] : a.devices[0];
		} else
			d = a.devices[p.device];
		return d ? { account: a, device: d } : { account: a, device: null };
	}

	remove(d, reason) {
		d.removed = { t: Date.now(), reason };
		this.save();
	}

	/** Store an upload; returns the upload summary. */
	recordUpload(d, up) {
		for (const k of up.keys)
			d.preKeys[k.id] = k.pub;
		if (up.identity)
			d.identityKey = d.identityKey ?? up.identity;
		if (up.registrationId !== null)
			d.registrationId = up.registrationId;
		if (up.signedPreKey)
			d.signedPreKey = up.signedPreKey;
		const ids = up.keys.map(k => k.id);
		const summary = {
			t: Date.now(),
			conn: up.conn,
			count: ids.length,
			first: ids.length ? Math.min(...ids) : null,
			last: ids.length ? Math.max(...ids) : null,
			duplicates: up.duplicates,
			signedPreKeyId: up.signedPreKey?.id ?? null,
			signedPreKeyValid: up.signedPreKey?.valid ?? null,
			identityMatches: up.identityMatches,
			registrationId: up.registrationId
		};
		d.uploads.push(summary);
		this.save();
		return summary;
	}

	preKeyCount(d) {
		return Object.keys(d.preKeys).length;
	}

	/** Hand out n pre-keys (lowest ids first), as bundle fetches would. */
	take(d, n) {
		const ids = Object.keys(d.preKeys).map(Number).sort((x, y) => x - y).slice(0, n);
		for (const id of ids)
			delete d.preKeys[id];
		d.taken += ids.length;
		this.save();
		return ids;
	}

	/**
	 * Register the device a Baileys auth folder (creds.json) is paired as,
	 * so that it logs in under the strict rules: its noise key, identity,
	 * registration id, signed pre-key and LID, the account key from
	 * creds.account (public only: such an account cannot sign new devices),
	 * and with preKeys the pre-key files Baileys marks as uploaded (ids
	 * below firstUnuploadedPreKeyId still on disk).  Throws with a reason.
	 */
	importFolder(dir, { preKeys = true } = {}) {
		const creds = JSON.parse(readFileSync(join(dir, 'creds.json'), 'utf8'), BufferJSON.reviver);
		const me = parseDeviceJid(String(creds.me?.id ?? '').replace(/@.*/, ''));
		if (!me || !creds.account)
			throw new Error(`${dir} is not a paired folder (no me.id or account in creds.json)`);
		const lidUser = /^(\d+)(?::\d+)?@lid$/.exec(creds.me.lid ?? '')?.[1] ?? lidFor(me.user);
		const accPub = Buffer.from(creds.account.accountSignatureKey, 'base64');
		const hexOf = v => Buffer.from(v).toString('hex');
		let keyIndex = null;
		try {
			keyIndex = proto.ADVDeviceIdentity.decode(Buffer.from(creds.account.details, 'base64')).keyIndex ?? null;
		} catch { /* keep null */ }
		let a = this.data.accounts[me.user];
		if (a) {
			if (a.accountKey.public !== hexOf(accPub))
				throw new Error(`account ${me.user} exists with another account key`);
			if (a.lid !== lidUser)
				throw new Error(`account ${me.user} exists with LID ${a.lid}, the folder says ${lidUser}`);
		} else {
			a = {
				phone: me.user, lid: lidUser, accountKey: { public: hexOf(accPub), private: null },
				rawId: 0, nextKeyIndex: 1, nextDevice: 2, created: Date.now(), devices: {}
			};
			this.data.accounts[me.user] = a;
		}
		const spk = creds.signedPreKey;
		const d = this.addDevice(a, {
			device: me.device ?? 0,
			via: 'import',
			keyIndex,
			platform: creds.platform ?? null,
			noiseKey: hexOf(creds.noiseKey.public),
			identityKey: hexOf(creds.signedIdentityKey.public),
			registrationId: creds.registrationId ?? null,
			signedPreKey: spk ? { id: spk.keyId, pub: hexOf(spk.keyPair.public), sig: hexOf(spk.signature), valid: null } : null
		});
		if (preKeys) {
			const limit = creds.firstUnuploadedPreKeyId ?? 1;
			for (const f of readdirSync(dir)) {
				const m = /^pre-key-(\d+)\.json$/.exec(f);
				if (m && +m[1] < limit) {
					const k = JSON.parse(readFileSync(join(dir, f), 'utf8'), BufferJSON.reviver);
					d.preKeys[+m[1]] = hexOf(k.public);
				}
			}
			this.save();
		}
		return { account: a, device: d };
	}

	deviceInfo(d) {
		return {
			jid: d.jid,
			lid: d.lid,
			device: d.device,
			via: d.via,
			keyIndex: d.keyIndex,
			platform: d.platform,
			companionPlatform: d.companionPlatform,
			pairedAt: d.pairedAt,
			noiseKey: d.noiseKey,
			identityKey: d.identityKey,
			registrationId: d.registrationId,
			preKeys: this.preKeyCount(d),
			uploads: d.uploads.length,
			taken: d.taken,
			removed: d.removed,
			logins: d.logins,
			lastLogin: d.lastLogin
		};
	}

	accountInfo(a) {
		return {
			phone: a.phone,
			lid: a.lid,
			accountKey: a.accountKey?.public ?? null,
			canSign: !!a.accountKey?.private,
			devices: Object.values(a.devices).map(d => this.deviceInfo(d))
		};
	}

	list() {
		return Object.values(this.data.accounts).map(a => this.accountInfo(a));
	}
}

#!/usr/bin/env node
// mkauth.mjs - make a Baileys multi-file auth folder the way Baileys makes one.
//
// usage: node tests/fakewa/mkauth.mjs DIR [--contacts N] [--groups M]
//        [--unpaired] [--seed S] [--pairing qr|code] [--platform NAME]
//        [--name NAME] [--prekeys K] [--peer-state FILE]
//
// Every file is written by Baileys 7 itself: useMultiFileAuthState(DIR)
// holds the state, saveCreds() writes creds.json after each creds update
// (as a bot's ev.on('creds.update', saveCreds) does), and keys go through
// Baileys' transactional key store, LID-mapping store and libsignal
// repository.  What this script plays is the rest of the world, with real
// crypto on both sides:
//
//   pairing  a simulated primary phone whose identity key is the account
//            key signs an ADVDeviceIdentity for our identity key; Baileys'
//            configureSuccessfulPairing checks the HMAC and signature and
//            produces me/account/signalIdentities/platform.  --pairing code
//            first runs the link-code steps (pairingCode, advSecretKey from
//            the companion_finish key agreement, registered = true);
//            with --unpaired it stops after requestPairingCode (me set,
//            no account: the half-paired state Baileys leaves behind).
//   login    what Baileys does on <success>: pre-key upload through
//            getNextPreKeysNode, me.lid, own LID mapping and device list.
//   primary  the phone opens a Signal session to us and shares two
//            app-state sync keys (one key id's base64 holds a '/') and a
//            history-sync notification; we ask it for a key in between.
//   appstate the phone's patches for the five collections, made with
//            encodeSyncdPatch and decoded by Baileys' decodePatches and
//            processSyncAction (the push name patch sets me.name).
//   contacts N simulated contacts, each device a libsignal store.  X3DH in
//            both directions (we use the peer's bundle / the peer uses one
//            of our pre-keys), real messages both ways through Baileys'
//            receive path (decryptMessageNode); contact 1 drops a message
//            (skipped message key kept); the last contact gets a second
//            session over the first (a closed session in the record).
//            Contact 0 starts on its phone number and moves to its LID when
//            a stanza with sender_lid arrives (Baileys migrates the
//            session); other even contacts are LID from the start; odd ones
//            stay on phone numbers.  trusted-contact tokens for two.
//   groups   M groups (the first a LID-addressed 120363… group, the second
//            an old-style <phone>-<time>@g.us one): our sender key goes to
//            every member device and our primary inside 1:1 messages, each
//            member's sender key comes to us, group messages both ways.
//
// --seed makes the run repeatable: node:crypto's randomness and Date.now
// come from the seed (see seedRandomness in fixtures.mjs).  --peer-state
// saves the simulated peers (their libsignal stores and sender keys) so that
// verify-auth.mjs can send to and receive from the folder later.
//
// Exit status: 0 success, 1 failure (the half-made DIR is removed if this
// run created it), 2 usage.

import crypto from 'node:crypto';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as F from './fixtures.mjs';

const { B, proto } = F;
const PROG = 'mkauth';
const USAGE = 'usage: node tests/fakewa/mkauth.mjs DIR [--contacts N] [--groups M] [--unpaired] [--seed S]\n' +
	'       [--pairing qr|code] [--platform NAME] [--name NAME] [--prekeys K] [--peer-state FILE]';

function usage(msg) {
	if (msg) process.stderr.write(`${PROG}: ${msg}\n`);
	process.stderr.write(USAGE + '\n');
	process.exit(2);
}

function parseArgs(argv) {
	const o = { contacts: 3, groups: 1, unpaired: false, pairing: 'qr', platform: 'android', name: 'Fixture Bot' };
	const int = (name, v, lo, hi) => {
		if (!/^\d+$/.test(v ?? '') || +v < lo || +v > hi) usage(`${name} wants a number from ${lo} to ${hi}, not '${v}'`);
		return +v;
	};
	for (let i = 0; i < argv.length; i++) {
		let a = argv[i];
		let v;
		const eq = a.indexOf('=');
		if (a.startsWith('--') && eq > 0) { v = a.slice(eq + 1); a = a.slice(0, eq); }
		const val = () => (v !== undefined ? v : (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`)));
		switch (a) {
		case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0); break;
		case '--contacts': o.contacts = int(a, val(), 0, 50); break;
		case '--groups': o.groups = int(a, val(), 0, 20); break;
		case '--prekeys': o.prekeys = int(a, val(), 1, 812); break;
		case '--unpaired': o.unpaired = true; break;
		case '--seed': o.seed = val(); break;
		case '--pairing': o.pairing = val(); if (!['qr', 'code'].includes(o.pairing)) usage(`--pairing is qr or code, not '${o.pairing}'`); break;
		case '--platform': o.platform = val(); break;
		case '--name': o.name = val(); break;
		case '--peer-state': o.peerState = val(); break;
		default:
			if (a.startsWith('-')) usage(`unknown option '${a}'`);
			if (o.dir !== undefined) usage(`one DIR only ('${o.dir}', '${a}')`);
			o.dir = a;
		}
	}
	if (o.dir === undefined) usage('DIR missing');
	return o;
}

function prepareDir(dir) {
	let st;
	try { st = statSync(dir); } catch (e) {
		if (e.code !== 'ENOENT') F.fail(PROG, `unable to stat '${dir}': ${e.message}`);
		return true; // useMultiFileAuthState creates it, with Baileys' modes

	}
	if (!st.isDirectory()) F.fail(PROG, `'${dir}' exists and is not a directory`);
	if (readdirSync(dir).length) F.fail(PROG, `'${dir}' is not empty`);
	return false;
}

const opt = parseArgs(process.argv.slice(2));
// The pre-keys peers will take: the primary's and every other contact device's.
const plan = planContacts(opt.contacts);
const taken = 1 + plan.filter((d) => d.peerInitiates).length;
const prekeys = opt.prekeys ?? taken + 5;
if (prekeys < taken) usage(`--prekeys ${prekeys} is too few: the simulated peers take ${taken}`);
if (opt.seed !== undefined) F.seedRandomness(opt.seed);
const created = prepareDir(opt.dir);

function check(cond, what) {
	if (!cond) throw new Error(what);
}

async function main() {
	const ctx = await F.openBaileysAuth(opt.dir);
	const { creds, keys, repo, credsUpdate } = ctx;
	await ctx.saveCreds(); // a fresh socket saves its new identity at once
	const peerState = { format: F.PEER_STATE_FORMAT, me: { identity: creds.signedIdentityKey.public }, devices: [], groups: [] };
	const result = { ctx, peerState, contacts: [], groups: [] };

	// ---- pairing ---------------------------------------------------------
	const me = { phone: '1555' + F.digits(7), lid: F.digits(15), device: crypto.randomInt(2, 40) };
	if (opt.pairing === 'code') {
		// requestPairingCode writes me before anything is paired
		await credsUpdate({
			pairingCode: B.bytesToCrockford(crypto.randomBytes(5)),
			me: { id: B.jidEncode(me.phone, 's.whatsapp.net'), name: '~' }
		});
	}
	if (opt.unpaired) return result;
	const account = B.Curve.generateKeyPair(); // the primary's identity = account signature key
	if (opt.pairing === 'code') {
		// the companion_finish half of link_code_companion_reg
		const primaryEphemeral = B.Curve.generateKeyPair();
		const companionShared = B.Curve.sharedKey(creds.pairingEphemeralKeyPair.private, primaryEphemeral.public);
		const identityShared = B.Curve.sharedKey(creds.signedIdentityKey.private, account.public);
		const random = crypto.randomBytes(32);
		const adv = B.hkdf(Buffer.concat([companionShared, identityShared, random]), 32, { info: 'adv_secret' });
		await credsUpdate({ advSecretKey: Buffer.from(adv).toString('base64'), registered: true });
	}
	const details = proto.ADVDeviceIdentity.encode({
		rawId: crypto.randomInt(1, 2 ** 31), timestamp: F.unixNow(), keyIndex: crypto.randomInt(1, 20)
	}).finish();
	const accountSignature = B.Curve.sign(account.private,
		Buffer.concat([B.WA_ADV_ACCOUNT_SIG_PREFIX, details, creds.signedIdentityKey.public]));
	const signedIdentity = proto.ADVSignedDeviceIdentity.encode({
		details, accountSignatureKey: account.public, accountSignature
	}).finish();
	const hmac = B.hmacSign(signedIdentity, Buffer.from(creds.advSecretKey, 'base64'));
	const meJid = `${me.phone}:${me.device}@s.whatsapp.net`;
	const meLid = `${me.lid}:${me.device}@lid`;
	const pairSuccess = {
		tag: 'iq', attrs: { from: 's.whatsapp.net', type: 'set', id: String(crypto.randomInt(1e9)), t: String(F.unixNow()) },
		content: [{
			tag: 'pair-success', attrs: {}, content: [
				{ tag: 'device-identity', attrs: {}, content: proto.ADVSignedDeviceIdentityHMAC.encode({ details: signedIdentity, hmac }).finish() },
				{ tag: 'platform', attrs: { name: opt.platform } },
				{ tag: 'device', attrs: { jid: meJid, lid: meLid } }
			]
		}]
	};
	const { creds: pairUpdate, reply } = B.configureSuccessfulPairing(pairSuccess, creds);
	await credsUpdate(pairUpdate);
	{ // the server's view: the reply carries a device signature that verifies
		const enc = reply.content[0].content[0].content;
		const signed = proto.ADVSignedDeviceIdentity.decode(enc);
		const msg = Buffer.concat([B.WA_ADV_DEVICE_SIG_PREFIX, signed.details, creds.signedIdentityKey.public, account.public]);
		check(B.Curve.verify(creds.signedIdentityKey.public, msg, signed.deviceSignature), 'pair-device-sign reply does not verify');
		check(!signed.accountSignatureKey?.length, 'pair-device-sign reply carries accountSignatureKey');
	}

	// ---- login (<success>) ------------------------------------------------
	const firstPreKey = creds.nextPreKeyId;
	const { update: preKeyUpdate } = await keys.transaction(
		() => B.getNextPreKeysNode({ creds, keys }, prekeys), creds.me.id);
	await credsUpdate(preKeyUpdate);
	let handedOut = firstPreKey;
	const nextPreKey = () => handedOut++; // the server hands pre-keys out in upload order
	await credsUpdate({ me: { ...creds.me, lid: meLid } });
	await repo.lidMapping.storeLIDPNMappings([{ lid: meLid, pn: creds.me.id }]);
	await keys.set({ 'device-list': { [me.phone]: [String(me.device)] } });
	await repo.migrateSession(creds.me.id, meLid);

	const ourLidAddr = `${me.lid}_1.${me.device}`;
	const ourPnAddr = `${me.phone}.${me.device}`;
	Object.assign(peerState.me, { id: creds.me.id, lid: meLid });

	// helpers: one message each way, checked at the far end
	let seq = 0;
	const fromPeer = async (dev, message, attrs = {}) => {
		const { type, ciphertext } = await dev.peer.encrypt(dev.ourAddr, F.encodeMessage(message));
		const stanza = F.messageStanza({ from: dev.jid, attrs, encs: [{ type, ciphertext }] });
		return F.receive(ctx, stanza);
	};
	const toPeer = async (dev, message, jid = dev.jid) => {
		const { type, ciphertext } = await repo.encryptMessage({ jid, data: F.encodeMessage(message) });
		return F.decodeMessage(await dev.peer.decrypt(dev.ourAddr, type, ciphertext));
	};
	const chat = async (dev, dirs) => {
		for (const d of dirs) {
			const text = `${dev.label} message ${++seq}`;
			if (d === 'in') {
				const got = await fromPeer(dev, { conversation: text });
				check(got.message.conversation === text, `${dev.label}: incoming text garbled`);
			} else if (d === 'out') {
				const got = await toPeer(dev, { conversation: text });
				check(got.conversation === text, `${dev.label}: outgoing text garbled`);
			} else if (d === 'gap') {
				// the peer sends two, the first is lost: its key stays in our session
				await dev.peer.encrypt(dev.ourAddr, F.encodeText(text + ' (lost)'));
				const got = await fromPeer(dev, { conversation: text });
				check(got.message.conversation === text, `${dev.label}: text after gap garbled`);
			}
		}
	};

	// ---- our primary phone ------------------------------------------------
	const primary = {
		label: 'primary', jid: `${me.lid}@lid`, ourAddr: ourLidAddr,
		peer: new F.SimPeer({ identityKeyPair: { pubKey: B.generateSignalPubKey(account.public), privKey: account.private } })
	};
	await primary.peer.initOutgoing(primary.ourAddr, await F.ourBundle(creds, keys, nextPreKey()));
	const appKeys = [makeAppStateKey(true, me), makeAppStateKey(false, me)];
	const shareKeys = async (k) => {
		const full = await fromPeer(primary, {
			protocolMessage: {
				type: proto.Message.ProtocolMessage.Type.APP_STATE_SYNC_KEY_SHARE,
				appStateSyncKeyShare: { keys: [{ keyId: { keyId: k.keyId }, keyData: k.keyData }] }
			}
		});
		// what processMessage does with APP_STATE_SYNC_KEY_SHARE
		let newId = '';
		await keys.transaction(async () => {
			for (const { keyData, keyId } of full.message.protocolMessage.appStateSyncKeyShare.keys) {
				newId = Buffer.from(keyId.keyId).toString('base64');
				await keys.set({ 'app-state-sync-key': { [newId]: keyData } });
			}
		}, creds.me.id);
		await credsUpdate({ myAppStateKeyId: newId });
	};
	await shareKeys(appKeys[0]);
	{
		const full = await fromPeer(primary, {
			protocolMessage: {
				type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
				historySyncNotification: {
					syncType: proto.Message.HistorySyncType.INITIAL_BOOTSTRAP, chunkOrder: 0, progress: 100,
					fileLength: 0, directPath: '/v/t62.fixture', mediaKey: crypto.randomBytes(32)
				}
			}
		});
		check(full.key.fromMe, 'history notification from our primary not marked fromMe');
		await credsUpdate({
			processedHistoryMessages: [...(creds.processedHistoryMessages || []),
				{ key: full.key, messageTimestamp: full.messageTimestamp }]
		});
	}
	const req = await toPeer(primary, {
		protocolMessage: {
			type: proto.Message.ProtocolMessage.Type.APP_STATE_SYNC_KEY_REQUEST,
			appStateSyncKeyRequest: { keyIds: [{ keyId: appKeys[1].keyId }] }
		}
	});
	check(req.protocolMessage?.appStateSyncKeyRequest?.keyIds?.length === 1, 'key request garbled');
	await shareKeys(appKeys[1]);
	peerState.devices.push(primary);

	// ---- contacts -----------------------------------------------------------
	const contacts = [];
	for (let i = 0; i < opt.contacts; i++) {
		const c = {
			index: i, pn: '1555' + F.digits(7), lid: i % 2 === 0 ? F.digits(15) : null,
			mode: i === 0 ? 'migrated' : i % 2 === 0 ? 'lid' : 'pn', devs: []
		};
		c.pnJid = `${c.pn}@s.whatsapp.net`;
		c.lidJid = c.lid ? `${c.lid}@lid` : null;
		for (const p of plan.filter((d) => d.contact === i)) {
			const onLid = c.mode === 'lid';
			c.devs.push({
				label: `contact${i}.${p.device}`, device: p.device, peerInitiates: p.peerInitiates, contact: c,
				jid: onLid ? jidWithDevice(c.lid, 'lid', p.device) : jidWithDevice(c.pn, 's.whatsapp.net', p.device),
				ourAddr: onLid ? ourLidAddr : ourPnAddr,
				peer: new F.SimPeer()
			});
		}
		contacts.push(c);
	}
	for (const c of contacts) {
		// USync device query: LID users are stored under the LID, the rest under the PN
		if (c.mode === 'lid') await repo.lidMapping.storeLIDPNMappings([{ lid: c.lidJid, pn: c.pnJid }]);
		const user = c.mode === 'lid' ? c.lid : c.pn;
		await keys.set({ 'device-list': { [user]: c.devs.map((d) => String(d.device)) } });
		for (const dev of c.devs) {
			if (dev.peerInitiates) {
				await dev.peer.initOutgoing(dev.ourAddr, await F.ourBundle(creds, keys, nextPreKey()));
				await chat(dev, ['in', 'out', 'in', c.index === 1 && dev.device === 0 ? 'gap' : 'in', 'out']);
			} else {
				await repo.injectE2ESession({ jid: dev.jid, session: dev.peer.bundle() });
				await chat(dev, ['out', 'in', 'out', c.index === 1 && dev.device === 0 ? 'gap' : 'in', 'out']);
			}
		}
		if (c.mode === 'migrated') {
			// a stanza on the phone number that names the LID: Baileys stores the
			// mapping and moves the sessions of every listed device to the LID
			const text = `${c.devs[0].label} now with lid`;
			const got = await fromPeer(c.devs[0], { conversation: text }, { sender_lid: c.lidJid });
			check(got.message.conversation === text, 'migration message garbled');
			const { [c.pn]: mapped } = await keys.get('lid-mapping', [c.pn]);
			check(mapped === c.lid, 'Baileys did not store the LID mapping from sender_lid');
			for (const dev of c.devs) {
				dev.jid = jidWithDevice(c.lid, 'lid', dev.device);
				await chat(dev, ['in', 'out']);
			}
		}
		if (c.index === opt.contacts - 1 && c.index >= 2) {
			// a fresh bundle over a working session (assertSessions with force):
			// libsignal closes the old session and keeps it in the record
			const dev = c.devs[0];
			await repo.injectE2ESession({ jid: dev.jid, session: dev.peer.bundle() });
			await chat(dev, ['out', 'in']);
		}
		peerState.devices.push(...c.devs);
	}
	result.contacts = contacts;

	// trusted-contact tokens (privacy tokens) as an IQ result delivers them
	if (contacts.length) {
		const tc = await import('baileys/lib/Utils/tc-token-utils.js');
		const stored = [];
		for (const c of contacts.slice(0, 2)) {
			await tc.storeTcTokensFromIqResult({
				result: {
					tag: 'iq', attrs: {}, content: [{
						tag: 'tokens', attrs: {}, content: [{
							tag: 'token', attrs: { jid: c.pnJid, t: String(F.unixNow()), type: 'trusted_contact' },
							content: crypto.randomBytes(24)
						}]
					}]
				},
				fallbackJid: c.pnJid, keys,
				getLIDForPN: (jid) => repo.lidMapping.getLIDForPN(jid),
				onNewJidStored: (jid) => stored.push(jid)
			});
		}
		await keys.set({ tctoken: await tc.buildMergedTcTokenIndexWrite(keys, stored) });
	}

	// ---- app state from the primary ------------------------------------------
	await syncAppState(ctx, appKeys, contacts);

	// ---- groups -----------------------------------------------------------------
	for (let g = 0; g < opt.groups; g++) {
		const lidGroup = g % 2 === 0;
		const gid = lidGroup ? `120363${F.digits(12)}@g.us` : `${me.phone}-${F.unixNow() - 86400 * (400 + g)}@g.us`;
		const addressing = lidGroup ? 'lid' : 'pn';
		const members = contacts.filter((c) => !lidGroup || c.lid).flatMap((c) => c.devs);
		const memberJid = (dev) => lidGroup
			? jidWithDevice(dev.contact.lid, 'lid', dev.device)
			: jidWithDevice(dev.contact.pn, 's.whatsapp.net', dev.device);
		const meSender = lidGroup ? creds.me.lid : creds.me.id;
		const ourSenderAddr = F.signalAddr(meSender);
		const group = { jid: gid, addressing, meSender, ourSenderAddr, members: [], recipients: [] };

		// we send: sender key to every member device and our primary, then the skmsg
		const text = `hello ${gid} from me`;
		const { ciphertext, senderKeyDistributionMessage } = await repo.encryptGroupMessage({
			group: gid, meId: meSender, data: F.encodeText(text)
		});
		const memory = (await keys.get('sender-key-memory', [gid]))[gid] || {};
		const ownPrimaryJid = lidGroup ? `${me.lid}@lid` : `${me.phone}@s.whatsapp.net`;
		for (const [dev, jid] of [...members.map((d) => [d, memberJid(d)]), [primary, ownPrimaryJid]]) {
			const got = await toPeer(dev, {
				senderKeyDistributionMessage: { groupId: gid, axolotlSenderKeyDistributionMessage: senderKeyDistributionMessage }
			}, jid);
			await dev.peer.processSkdm(gid, ourSenderAddr, got.senderKeyDistributionMessage.axolotlSenderKeyDistributionMessage);
			const pt = F.decodeMessage(await dev.peer.groupDecrypt(gid, ourSenderAddr, ciphertext));
			check(pt.conversation === text, `${dev.label}: our group message garbled`);
			memory[jid] = true;
			group.recipients.push(peerState.devices.indexOf(dev));
		}
		await keys.set({ 'sender-key-memory': { [gid]: memory } });

		// they send: each member device's sender key rides in its first group stanza
		for (const [k, dev] of members.entries()) {
			const authorJid = memberJid(dev);
			const authorAddr = F.signalAddr(authorJid);
			const skdm = await dev.peer.createSenderKey(gid, authorAddr);
			const alt = lidGroup ? { participant_pn: jidWithDevice(dev.contact.pn, 's.whatsapp.net', dev.device) } : {};
			for (let n = 0; n < 3; n++) {
				const t = `${dev.label} in ${gid} #${n}`;
				const sk = await dev.peer.groupEncrypt(gid, authorAddr, F.encodeText(t));
				if (k === 0 && n === 1) continue; // lost: its sender message key stays with us
				const encs = [];
				if (n === 0) {
					encs.push(await dev.peer.encrypt(dev.ourAddr, F.encodeMessage({
						senderKeyDistributionMessage: { groupId: gid, axolotlSenderKeyDistributionMessage: skdm }
					})));
				}
				encs.push({ type: 'skmsg', ciphertext: sk });
				const full = await F.receive(ctx, F.messageStanza({
					from: gid, participant: authorJid, attrs: { addressing_mode: addressing, ...alt }, encs
				}));
				check(full.message.conversation === t, `${dev.label}: group message garbled`);
			}
			group.members.push({ device: peerState.devices.indexOf(dev), authorJid, authorAddr });
		}
		peerState.groups.push(group);
		result.groups.push(group);
	}
	return result;
}

// Which contact devices exist and who starts each session.  Contact i has
// device 0; every third (1, 4, …) also a companion device.  Initiators
// alternate over all devices, starting with us.
function planContacts(n) {
	const plan = [];
	let k = 0;
	for (let i = 0; i < n; i++) {
		const devices = i % 3 === 1 ? [0, 10 + i] : [0];
		for (const device of devices) plan.push({ contact: i, device, peerInitiates: k++ % 2 === 1 });
	}
	return plan;
}

function jidWithDevice(user, server, device) {
	return B.jidEncode(user, server, device || undefined);
}

// An app-state sync key as the primary makes it.  Key ids are 6 bytes;
// withSlash picks one whose base64 contains '/' (a '__' file name).
function makeAppStateKey(withSlash, me) {
	let keyId;
	do {
		keyId = Buffer.concat([Buffer.alloc(2), crypto.randomBytes(4)]);
	} while (withSlash !== keyId.toString('base64').includes('/'));
	return {
		keyId,
		id: keyId.toString('base64'),
		keyData: {
			keyData: crypto.randomBytes(32),
			fingerprint: { rawId: crypto.randomInt(1, 2 ** 31), currentIndex: crypto.randomInt(1, 10), deviceIndexes: [0, me.device] },
			timestamp: Date.now()
		}
	};
}

// The primary's app-state patches, one collection after another, decoded
// and applied the way Baileys' resyncAppState does.
async function syncAppState(ctx, appKeys, contacts) {
	const { creds, keys, credsUpdate } = ctx;
	const byId = new Map(appKeys.map((k) => [k.id, k]));
	const primaryKey = async (id) => (byId.has(id) ? { keyData: byId.get(id).keyData.keyData } : undefined);
	const ourKey = async (id) => (await keys.get('app-state-sync-key', [id]))[id];
	const [old, cur] = appKeys;
	const c0 = contacts[0];
	const c1 = contacts[1] || contacts[0];
	const mods = [
		[old, { pushNameSetting: opt.name }, undefined],
		[cur, { disableLinkPreviews: { isPreviewsDisabled: true } }, undefined]
	];
	if (c0) {
		mods.push([cur, { contact: { fullName: 'Contact 0', firstName: 'Contact', lidJid: c0.lidJid, pnJid: c0.pnJid, saveOnPrimaryAddressbook: true } }, c0.pnJid]);
		mods.push([cur, { pin: true }, c0.lidJid || c0.pnJid]);
		mods.push([cur, { mute: Date.now() + 8 * 3600 * 1000 }, c1.lid ? c1.lidJid : c1.pnJid]);
	}
	const primaryStates = {};
	for (const [key, mod, jid] of mods) {
		const patchCreate = B.chatModificationToAppPatch(mod, jid);
		const name = patchCreate.type;
		const before = primaryStates[name] || B.newLTHashState();
		const { patch, state } = await B.encodeSyncdPatch(patchCreate, key.id, before, primaryKey);
		primaryStates[name] = state;
		// our side: as resyncAppState does with a <patches> collection
		const { [name]: stored } = await keys.get('app-state-sync-version', [name]);
		const initial = stored ? B.ensureLTHashStateVersion(stored) : B.newLTHashState();
		const { state: ours, mutationMap } = await B.decodePatches(name,
			[{ ...patch, version: { version: state.version } }], initial, ourKey, {}, initial.version, F.logger);
		if (ours.version !== state.version || !Buffer.from(ours.hash).equals(Buffer.from(state.hash))) {
			throw new Error(`app state ${name}: our LT hash differs from the primary's`);
		}
		await keys.set({ 'app-state-sync-version': { [name]: ours } });
		const updates = [];
		const ev = { emit: (event, data) => { if (event === 'creds.update') updates.push(data); } };
		for (const mutation of Object.values(mutationMap)) {
			B.processSyncAction(mutation, ev, creds.me, undefined, F.logger);
		}
		for (const u of updates) await credsUpdate(u);
	}
	if (creds.me.name !== opt.name) throw new Error('push name patch did not reach creds.me.name');
	await credsUpdate({ accountSyncCounter: (creds.accountSyncCounter || 0) + 1 });
}

function summary(result) {
	const counts = {};
	for (const f of readdirSync(opt.dir)) {
		const p = F.parseKeyFileName(f);
		const t = f === 'creds.json' ? 'creds' : p ? p.type : 'other';
		counts[t] = (counts[t] || 0) + 1;
	}
	const total = Object.values(counts).reduce((a, b) => a + b, 0);
	const what = Object.entries(counts).map(([t, n]) => `${t} ${n}`).join(', ');
	const { creds } = result.ctx;
	const who = creds.account ? `paired as ${creds.me.id} (${creds.me.lid})`
		: creds.me ? `unpaired (pairing code requested for ${creds.me.id})` : 'unpaired';
	const devs = result.contacts.reduce((a, c) => a + c.devs.length, 0);
	return `${PROG}: '${opt.dir}': ${who}, ${result.contacts.length} contacts (${devs} devices), ` +
		`${result.groups.length} groups; ${total} files: ${what}`;
}

try {
	const result = await main();
	if (opt.peerState) {
		const ps = result.peerState;
		const devices = ps.devices.map(({ label, jid, ourAddr, peer }) => ({ label, jid, ourAddr, peer }));
		writeFileSync(opt.peerState, F.encodePeerState({ ...ps, devices }), { mode: 0o600 });
	}
	process.stderr.write(summary(result) + '\n');
	result.ctx.repo.close();
	process.exit(0);
} catch (e) {
	process.stderr.write(`${PROG}: unable to build '${opt.dir}': ${(process.env.WA_FIXTURE_DEBUG && e?.stack) || e?.message || e}\n`);
	if (created) rmSync(opt.dir, { recursive: true, force: true });
	process.exit(1);
}

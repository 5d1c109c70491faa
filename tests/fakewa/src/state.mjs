// Server keys: the certificate authority (root + intermediate) and the
// static Noise key.  Fresh per run, or kept in --state-dir DIR/keys.json so
// a restarted server presents the same root and static key (tests that
// restart the server keep their client configuration).

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'fs';
import { join } from 'path';
import { Curve } from 'baileys/lib/Utils/crypto.js';
import { makeAuthority } from './certs.mjs';

const hexPair = kp => ({ private: kp.private.toString('hex'), public: kp.public.toString('hex') });
const bufPair = kp => ({ private: Buffer.from(kp.private, 'hex'), public: Buffer.from(kp.public, 'hex') });

function fresh() {
	return { authority: makeAuthority(), staticKeyPair: Curve.generateKeyPair() };
}

function toJSON(k) {
	const a = k.authority;
	return {
		version: 1,
		root: hexPair(a.root),
		intermediate: hexPair(a.intermediate),
		intermediateSerial: a.intermediateSerial,
		leafSerial: a.leafSerial,
		static: hexPair(k.staticKeyPair)
	};
}

function fromJSON(j) {
	if (j.version !== 1)
		throw new Error(`unsupported keys.json version ${j.version}`);
	return {
		authority: {
			root: bufPair(j.root),
			intermediate: bufPair(j.intermediate),
			intermediateSerial: j.intermediateSerial,
			leafSerial: j.leafSerial
		},
		staticKeyPair: bufPair(j.static)
	};
}

/** Load or create the keys.  A corrupt keys.json is an error, not a reset. */
export function loadKeys(stateDir) {
	if (!stateDir)
		return fresh();
	mkdirSync(stateDir, { recursive: true, mode: 0o700 });
	const file = join(stateDir, 'keys.json');
	let text = null;
	try {
		text = readFileSync(file, 'utf8');
	} catch (err) {
		if (err.code !== 'ENOENT')
			throw err;
	}
	if (text !== null)
		return fromJSON(JSON.parse(text));
	const keys = fresh();
	const tmp = `${file}.${process.pid}.tmp`;
	writeFileSync(tmp, JSON.stringify(toJSON(keys), null, 1) + '\n', { mode: 0o600, flag: 'wx' });
	renameSync(tmp, file);
	return keys;
}

// proto-check.mjs: check wa's proto/*.proto against Baileys' WAProto.proto.
//
//   node proto-check.mjs PROTO_DIR
//
// Every message, field and enum value in our files of package wa must exist
// in WAProto under the same name with the same number, type and label (our
// files are proto2, WAProto is proto3 with `optional`: the wire format is
// the same).  Files of another package are not WhatsApp's schema: skipped.
// Prints TAP; exits 1 on any difference.

import { readFileSync, readdirSync } from 'fs';
import { createRequire } from 'module';
import { join, dirname } from 'path';
import { fileURLToPath } from 'url';
import protobuf from 'protobufjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const waprotoPath = join(dirname(require.resolve('baileys/package.json')), 'WAProto', 'WAProto.proto');
const dir = process.argv[2];
if (!dir) {
	console.error('usage: proto-check.mjs PROTO_DIR');
	process.exit(64);
}

const theirs = protobuf.parse(readFileSync(waprotoPath, 'utf8'), { keepCase: true }).root;
let n = 0, failed = 0;
function ok(cond, what) {
	n++;
	if (!cond)
		failed++;
	console.log(`${cond ? '' : 'not '}ok ${n} - ${what}`);
	return cond;
}

function walk(ns, prefix, fn) {
	for (const obj of ns.nestedArray || []) {
		const name = prefix ? `${prefix}.${obj.name}` : obj.name;
		fn(obj, name);
		if (obj.nestedArray)
			walk(obj, name, fn);
	}
}

for (const file of readdirSync(dir).filter(f => f.endsWith('.proto')).sort()) {
	const ours = protobuf.parse(readFileSync(join(dir, file), 'utf8'), { keepCase: true }).root;
	const pkg = ours.lookup('wa');
	if (!pkg) {
		// not WhatsApp's schema (sigstore.proto is libsignal-protocol-c's
		// storage format, checked by tests/unit/t-sessjson.c)
		console.log(`# ${file}: no package wa, not checked against WAProto`);
		continue;
	}
	walk(pkg, '', (obj, name) => {
		const other = theirs.lookup(`proto.${name}`);
		if (obj instanceof protobuf.Type) {
			if (!ok(other instanceof protobuf.Type, `${file}: message ${name} exists in WAProto`))
				return;
			for (const f of obj.fieldsArray) {
				const g = other.fields[f.name];
				ok(g && g.id === f.id && g.type === f.type && g.repeated === f.repeated,
					`${file}: ${name}.${f.name} = ${f.id} ${f.repeated ? 'repeated ' : ''}${f.type}` +
					(g ? '' : ' (missing in WAProto)'));
			}
		} else if (obj instanceof protobuf.Enum) {
			if (!ok(other instanceof protobuf.Enum, `${file}: enum ${name} exists in WAProto`))
				return;
			for (const [k, v] of Object.entries(obj.values))
				ok(other.values[k] === v, `${file}: ${name}.${k} = ${v}`);
		}
	});
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);

#!/bin/sh
# fuzz/mkrecv.sh - make the fixture of fuzz/fuzz-recv.c again:
# fuzz/recv-fixture.json (a small paired auth folder, real Signal stanzas
# for it, the JIDs they use) and the seed inputs in fuzz/corpus/recv/
# (named seed-*; inputs libFuzzer keeps are named by their hash).
#
#	sh fuzz/mkrecv.sh      (needs node and tests/fakewa/node_modules)
#
# The folder comes from tests/fakewa/mkauth.mjs (one contact with sessions
# both ways, two pre-keys), the stanzas from tests/fakewa/recv-stanzas.mjs
# (two new peers' pkmsgs, the contact's msgs, group skmsgs with their
# sender-key distributions).  Both run with a fixed seed; the seed inputs
# use the input format described at the top of fuzz/fuzz-recv.c.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
X=$(mktemp -d)
trap 'rm -rf "$X"' EXIT
node "$top/tests/fakewa/mkauth.mjs" "$X/auth" --contacts 1 --groups 0 --prekeys 3 --seed fuzz-recv \
    --peer-state "$X/peers.json" 2> "$X/err" || { cat "$X/err" >&2; exit 1; }
node "$top/tests/fakewa/recv-stanzas.mjs" "$X/auth" --count 9 --peers 2 --group-every 3 \
    --peer-state "$X/peers.json" --seed fuzz-recv > "$X/stanzas"
mkdir -p "$top/fuzz/corpus/recv"
rm -f "$top/fuzz/corpus/recv"/seed-*
node --input-type=module -e '
	import { readFileSync, readdirSync, writeFileSync } from "node:fs";
	import { join } from "node:path";
	const [dir, stanzasFile, out, corpus] = process.argv.slice(1);
	const files = {};
	for (const name of readdirSync(dir).sort())
		if (name.endsWith(".json")) files[name] = readFileSync(join(dir, name), "utf-8");
	const stanzas = readFileSync(stanzasFile, "utf-8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
	const creds = JSON.parse(files["creds.json"]);
	const jids = new Set([creds.me.id, creds.me.lid]);
	for (const s of stanzas)
		for (const k of ["from", "participant", "sender_pn", "participant_pn"])
			if (s.attrs[k]) jids.add(s.attrs[k]);
	writeFileSync(out, JSON.stringify({ files, stanzas, jids: [...jids] }, null, 1) + "\n");
	// seed inputs (fuzz-recv.c: op 0 = a seed stanza as is, 13 = flush,
	// 4 = one flipped ciphertext byte, 15 = the last stanza again)
	const n = stanzas.length, all = [];
	for (let k = 0; k < n; k++) all.push(0, k);
	const seeds = {
		"all": [...all, 13],
		"all-twice": [...all, 13, ...all, 13],
		"redelivered-in-batch": [0, 0, 15, 0, 1, 15, 0, 2, 15],
		"flipped": [0, 0, 4, 1, 0, 0, 40, 0x10, 0, 2, 4, 5, 0, 0, 70, 0x80],
		"built": [6, 0, 0xff, 1, 2, 3, 4, 1, 0, 1, 1, 0, 7, 1, 1, 1, 2, 2, 0, 2, 3, 1, 3, 3, 13,
		    7, 1, 0x05, 0, 1, 8, 2, 0x01, 0, 3, 3, 0x01, 1, 9, 4, 0, 13],
	};
	for (const [name, bytes] of Object.entries(seeds))
		writeFileSync(join(corpus, "seed-" + name), Buffer.from(bytes));
' "$X/auth" "$X/stanzas" "$top/fuzz/recv-fixture.json" "$top/fuzz/corpus/recv"
echo "fuzz/recv-fixture.json and fuzz/corpus/recv/seed-* written"

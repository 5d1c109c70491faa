#!/bin/sh
# 0100-baileys-fixture.t - tests/fakewa/mkauth.mjs makes a real Baileys auth
# folder; tests/fakewa/verify-auth.mjs reads it through Baileys, uses its
# sessions, and notices when it changes or breaks.

. "$(dirname "$0")/lib.sh"

have_node || skip_all "no node_modules"

FW=$WA_TOP/tests/fakewa
mkauth() { node "$FW/mkauth.mjs" "$@"; }
verify() { node "$FW/verify-auth.mjs" "$@"; }
A=$T/auth
P=$T/peers.json
S=$T/snap.json

plan 26

ok "mkauth builds a paired folder" mkauth "$A" --seed 100 --contacts 4 --groups 2 --peer-state "$P"
like "$(cat "$T/err")" "paired as 1555" "mkauth prints a summary"
is "$(lines "$T/err")" 1 "the summary is one line"

missing=
for pat in creds.json 'pre-key-*.json' 'session-*_1.*.json' 'session-1555*.json' \
	'identity-key-*.json' 'lid-mapping-*_reverse.json' 'lid-mapping-1555*.json' \
	'sender-key-*@g.us--*--*.json' 'sender-key-memory-*@g.us.json' \
	'app-state-sync-key-*__*.json' 'app-state-sync-version-regular_high.json' \
	'app-state-sync-version-critical_block.json' 'device-list-*.json' \
	'tctoken-*@lid.json' 'tctoken-__index.json' 'sender-key-1555*-*@g.us--*.json'; do
	set -- "$A"/$pat
	[ -e "$1" ] || missing="$missing $pat"
done
is "$missing" "" "every kind of key file is there"

creds=$(cat "$A/creds.json")
like "$creds" '"platform":"android"' "creds: platform from pair-success"
like "$creds" '"account":{"details":"' "creds: account is protobuf JSON (base64 strings)"
like "$creds" '"name":"Fixture Bot"' "creds: push name from the app-state patch"

before=$(tree_state "$A")
ok "verify-auth --snapshot" verify "$A" --snapshot "$S"
like "$(cat "$T/out")" "X3DH with a new contact" "verify-auth used the folder's keys"
ok "verify-auth --expect the same snapshot" verify "$A" --expect "$S"
ok "verify-auth --peer-state: every session and group works both ways" verify "$A" --peer-state "$P"
like "$(cat "$T/out")" "6/6 peer sessions both ways, 2/2 groups both ways" "all peers and groups were tried"
is "$(tree_state "$A")" "$before" "verify-auth leaves the folder as it was"

ok "the same seed again" mkauth "$T/again" --seed 100 --contacts 4 --groups 2
ok "gives the same files" diff -r "$A" "$T/again"

cp -a "$A" "$T/torn"
head -c 100 "$A/creds.json" > "$T/torn/creds.json"
expect_exit 1 "--expect fails on a torn creds.json" verify "$T/torn" --expect "$S"
like "$(cat "$T/err")" "'creds.json' unparseable" "and says creds.json is unparseable"

cp -a "$A" "$T/edited"
sed 's/"registrationId":[0-9]*/"registrationId":1/' "$A/creds.json" > "$T/edited/creds.json"
expect_exit 1 "--expect fails on a changed creds.json" verify "$T/edited" --expect "$S"
like "$(cat "$T/err")" "differs: creds.registrationId" "and names the field"

cp -a "$A" "$T/nosession"
rm "$T/nosession"/session-*_1.0.json
expect_exit 1 "--peer-state fails without the LID sessions" verify "$T/nosession" --peer-state "$P"
like "$(cat "$T/err")" "No session record" "and says which session is missing"

cp -a "$A" "$T/pnname"
for f in "$T"/pnname/lid-mapping-1555*.json; do
	pn=${f##*/lid-mapping-}; pn=${pn%.json}
	lid=$(tr -d '"' < "$f")
	[ -e "$T/pnname/session-${lid}_1.0.json" ] && break
done
mv "$T/pnname/session-${lid}_1.0.json" "$T/pnname/session-$pn.0.json"
expect_exit 1 "a session under a mapped phone number is caught" verify "$T/pnname"
like "$(cat "$T/err")" "never reads this session" "and explained"

expect_exit 1 "mkauth refuses a folder that is not empty" mkauth "$A"
expect_exit 2 "verify-auth without DIR is a usage error" verify

mkauth "$T/unpaired" --unpaired --seed 5 2> "$T/err"
ok "an unpaired folder verifies" verify "$T/unpaired"

#!/bin/sh
# 0301-jid-conformance: lib/jid.c against Baileys 7 on hand-picked and
# random JIDs of every server type: jidDecode's parts and domain type,
# jidEncode, jidNormalizedUser, the Signal address (the repository's
# jidToSignalProtocolAddress, null where it throws) and the sender-key id.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"

ok "gen-nodes.mjs lists JIDs and Baileys' facts" node "$WA_TOP/tests/fakewa/gen-nodes.mjs" jids "$T" 2000
n=$(lines "$T/jids.txt")
wa-nodecodec jid < "$T/jids.txt" > "$T/ours"
is "$(grep -c '^ERR' "$T/ours")" 0 "wa parses all $n JIDs"
if cmp -s "$T/ours" "$T/jids.want"; then
	pass "wa's facts are Baileys' facts for all $n JIDs"
else
	l=$(cmp "$T/ours" "$T/jids.want" | sed -n 's/.* line \([0-9]*\).*/\1/p')
	fail "wa's facts are Baileys' facts for all $n JIDs" "line $l: $(sed -n "${l}p" "$T/jids.txt")" \
		"got:  $(sed -n "${l}p" "$T/ours")" "want: $(sed -n "${l}p" "$T/jids.want")"
fi
refused=$(grep -c '"addr":null' "$T/jids.want")
diag "$refused of them have no Signal address in Baileys either"
ok "some JIDs have no Signal address (device 99 off hosted, empty user)" test "$refused" -gt 10

# the table of wa-protocol(7) §5.3
for pair in 15550002222@s.whatsapp.net=15550002222.0 15550002222:5@s.whatsapp.net=15550002222.5 \
	99990002222:5@lid=99990002222_1.5 15550002222:99@hosted=15550002222_128.99 \
	99990002222:99@hosted.lid=99990002222_129.99; do
	got=$(printf '%s\n' "${pair%%=*}" | wa-nodecodec jid | sed 's/.*"addr":"\([^"]*\)".*/\1/')
	is "$got" "${pair#*=}" "${pair%%=*} is ${pair#*=}"
done

# every address is usable as a file-name id
if sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' "$T/ours" | grep -qv '^[A-Za-z0-9_-]*\.[0-9]*$'; then
	fail "addresses are [A-Za-z0-9_-]+.device only"
else
	pass "addresses are [A-Za-z0-9_-]+.device only"
fi

# JIDs Baileys would read but wa refuses (no file name may come of them)
printf '%s\n' '../x@lid' '1.2@s.whatsapp.net' 'x_NaN@s.whatsapp.net' '1@lid/..' 'a@b@c' > "$T/bad"
is "$(wa-nodecodec jid < "$T/bad" | grep -c '^ERR invalid')" 5 "malformed JIDs are refused"

done_testing

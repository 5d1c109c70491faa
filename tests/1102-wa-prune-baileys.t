#!/bin/sh
# 1102-wa-prune-baileys: wa-prune on folders written by the real Baileys
# (mkauth.mjs), checked by Baileys itself (verify-auth.mjs): after each
# prune the folder still loads with useMultiFileAuthState, a new contact
# can still start a session with it (X3DH on our pre-keys), creds.json is
# byte-identical, and every key except the pruned type deep-equals the
# snapshot taken before.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

have_node && [ -f "$WA_TOP/tests/fakewa/mkauth.mjs" ] && [ -f "$WA_TOP/tests/fakewa/verify-auth.mjs" ] ||
    skip_all "node or tests/fakewa/{mkauth,verify-auth}.mjs missing"
verify() { node "$WA_TOP/tests/fakewa/verify-auth.mjs" "$@"; }

cd "$T" || exit 1
baileys_folder orig --contacts 3 --groups 2 || { fail "mkauth"; done_testing; exit 1; }
ok "Baileys loads the original (snapshot)" verify orig --snapshot "$T/snap"
csum=$(sha256sum < orig/creds.json)
nsess=$(ls orig | grep -c '^session-')
[ "$nsess" -ge 3 ] && pass "the folder has $nsess sessions" || fail "the folder has sessions" "$nsess"

# fresh NAME: a copy of the original
fresh() { rm -rf "$1"; cp -a orig "$1"; }

fresh a
expect_exit 0 "--sessions (all)" wa-prune -d a --sessions
is "$(lines "$T/out")" "$nsess" "  every session printed"
ok "  Baileys loads it; all but sessions deep-equal; a new contact can start a session" \
    verify a --expect "$T/snap" --ignore session
is "$(sha256sum < a/creds.json)" "$csum" "  creds.json byte-identical"
ok "  wa-check says OK" wa-check -d a

fresh b
expect_exit 0 "--sender-keys" wa-prune -d b --sender-keys
ok "  Baileys loads it; all but sender keys deep-equal" \
    verify b --expect "$T/snap" --ignore sender-key --ignore sender-key-memory
is "$(sha256sum < b/creds.json)" "$csum" "  creds.json byte-identical"

# one contact by its phone-number JID: its sessions live under its LID
# when Baileys knows the mapping
fresh c
lidf=$(cd c && ls | grep '^lid-mapping-[0-9]*_reverse\.json$' | while read -r f; do
	l=${f#lid-mapping-}; l=${l%_reverse.json}
	ls | grep -q "^session-${l}_1\." && { echo "$f"; break; }
done)
if [ -n "$lidf" ]; then
	lid=${lidf#lid-mapping-}; lid=${lid%_reverse.json}
	pn=$(tr -d '"' < "c/$lidf")
	want=$(cd c && ls | grep "^session-${lid}_1\.[0-9]*\.json$" | tr '\n' ' ')
	expect_exit 0 "--sessions $pn@s.whatsapp.net (a contact Baileys keeps under its LID)" wa-prune -d c --sessions "$pn@s.whatsapp.net"
	is "$(tr '\n' ' ' < "$T/out")" "$want" "  exactly its LID sessions"
	is "$(ls c | grep -c '^session-')" "$((nsess - $(lines "$T/out")))" "  the other sessions stay"
	ok "  Baileys loads it" verify c --expect "$T/snap" --ignore session
else
	fail "the fixture has a LID contact with sessions" "no lid-mapping-*_reverse.json with a session"
fi

# a session torn the way Baileys' in-place write tears it
fresh d
f=$(ls d | grep '^session-' | head -n 1)
head -c 100 "d/$f" > "$T/torn" && cat "$T/torn" > "d/$f"
expect_exit 2 "wa-check names the torn session" wa-check -d d
expect_exit 0 "--corrupt" wa-prune -d d --corrupt
is "$(cat "$T/out")" "$f" "  only the torn session"
ok "  Baileys loads it" verify d --expect "$T/snap" --ignore session
is "$(ls d | grep -c '^session-')" "$((nsess - 1))" "  the other sessions stay"
expect_exit 0 "  wa-check says OK again" wa-check -d d

# nothing else in a healthy Baileys folder is unusable or left over
fresh e
before=$(tree_state e)
expect_exit 0 "-n --pre-keys --tmp --corrupt on a healthy folder" wa-prune -n -d e --pre-keys --tmp --corrupt
is "$(cat "$T/out")" "" "  selects nothing (every Baileys pre-key is kept)"
is "$(tree_state e)" "$before" "  changes nothing"
ok "  Baileys loads it, everything deep-equal" verify e --expect "$T/snap"
done_testing

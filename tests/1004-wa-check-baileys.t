#!/bin/sh
# 1004-wa-check-baileys: folders written by the real Baileys (mkauth.mjs):
# a paired one is OK with counts equal to what is on disk; a half-paired
# one (requestPairingCode wrote me, no account) is "not paired"; a session
# torn the way Baileys' in-place write tears it is named.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

have_node && [ -f "$WA_TOP/tests/fakewa/mkauth.mjs" ] || skip_all "node or tests/fakewa/mkauth.mjs missing"

cd "$T" || exit 1
baileys_folder auth --contacts 3 --groups 2 || { fail "mkauth"; done_testing; exit 1; }
before=$(tree_state auth)
n=$(ls auth | wc -l | tr -d ' ')
s=$(ls auth | grep -c '^session-')
pk=$(ls auth | grep -c '^pre-key-')
me=$(sed 's/.*"me":{"id":"\([^"]*\)".*/\1/' auth/creds.json)

expect_exit 0 "a paired Baileys folder is OK" wa-check -d auth
like "$(cat "$T/out")" "WA OK - paired as $me, $n files | files=$n;; creds=1 pre_key=$pk session=$s " "summary and counts match the folder"
expect_exit 0 "--json" wa-check -d auth --json
like "$(cat "$T/out")" "\"account\":\"${me%%:*}\"" "  the account"
like "$(cat "$T/out")" '"paired":true' "  paired"
is "$(tree_state auth)" "$before" "nothing changed"

f=$(ls auth | grep '^session-' | head -n 1)
size=$(wc -c < "auth/$f")
head -c $((size / 2)) "auth/$f" > "$T/torn.tmp" && cat "$T/torn.tmp" > "auth/$f"
touch -d '1 hour ago' "auth/$f"
expect_exit 2 "a torn session: CRITICAL" wa-check -d auth
like "$(cat "$T/out")" "WA CRITICAL - 'auth/$f': not valid JSON at byte $((size / 2)) of $((size / 2)): unexpected end of input (truncated)" "  named with the byte offset"

baileys_folder half --unpaired --pairing code || { fail "mkauth --unpaired"; done_testing; exit 1; }
expect_exit 2 "a half-paired Baileys folder (me, no account): CRITICAL" wa-check -d half
like "$(cat "$T/out")" "'half/creds.json': not paired: run wa-pair" "  not paired"
done_testing

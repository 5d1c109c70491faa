#!/bin/sh
# pair-success handled by wa (lib/pair.c, through t-pair --reply) is what
# Baileys and the server expect: for every valid vector of
# tests/fakewa/pair-vectors.mjs the reply decodes, leaves accountSignatureKey
# out, and its device signature verifies with libsignal's verifySignature;
# key-index is Baileys'; creds.json is the text Baileys writes after
# configureSuccessfulPairing (but for the randomised device signature).
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

have_node || skip_all "node or tests/fakewa/node_modules missing (run scripts/install-deps)"
PV="$WA_TOP/tests/fakewa/pair-vectors.mjs"

ok "t-pair writes its replies" t-pair --reply "$T/replies.jsonl"
is "$(grep -c '"name"' "$T/replies.jsonl")" 4 "four valid vectors answered"
ok "Baileys' side accepts every reply and creds.json" node "$PV" --check "$T/replies.jsonl"
like "$(cat "$T/out")" "ok 4 pair-success replies" "all four checked"

# the check is live: a reply with a changed device signature is refused
# (a base64 character ten from the end lies inside deviceSignature, the last field)
awk 'NR == 1 { s = index($0, "\"reply\":\"") + 9; e = s + index(substr($0, s), "\"") - 1; i = e - 10;
	c = substr($0, i, 1); n = (c == "A") ? "B" : "A"; $0 = substr($0, 1, i - 1) n substr($0, i + 1) } { print }' \
	"$T/replies.jsonl" > "$T/bad.jsonl"
expect_exit 1 "a changed reply is refused" node "$PV" --check "$T/bad.jsonl"
like "$(cat "$T/err")" "does not verify" "because its device signature does not verify"

done_testing

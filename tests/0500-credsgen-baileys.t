#!/bin/sh
# Fresh credentials made by wa (credsgen.h, through tests/helpers/wa-mkcreds)
# are a folder Baileys takes as its own: verify-auth.mjs opens it with
# useMultiFileAuthState, checks every key pair and the signed pre-key
# signature, and a simulated contact runs X3DH against our pre-keys; the
# signatures are also checked with libsignal's real verifySignature.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

have_node || skip_all "node or tests/fakewa/node_modules missing (run scripts/install-deps)"
VA="$WA_TOP/tests/fakewa/verify-auth.mjs"
[ -f "$VA" ] || skip_all "tests/fakewa/verify-auth.mjs missing"

ok "wa-mkcreds makes a folder with 5 pre-keys" wa-mkcreds -p 5 "$T/auth"
ls "$T/auth" | grep -v '^\.wa$' | LC_ALL=C sort > "$T/files"
is "$(tr '\n' ' ' < "$T/files")" "creds.json pre-key-1.json pre-key-2.json pre-key-3.json pre-key-4.json pre-key-5.json " \
	"creds.json and pre-key-1..5.json, named as Baileys names them"
is "$(stat -c %a "$T/auth/creds.json")" 600 "creds.json is 0600"
like "$(cat "$T/auth/creds.json")" '"nextPreKeyId":6,"firstUnuploadedPreKeyId":1' "pre-key counters"

ok "Baileys loads and uses the folder (verify-auth.mjs)" node "$VA" "$T/auth"
like "$(cat "$T/out")" "ok" "verify-auth says ok"

# Baileys' Curve.verify (used by verify-auth) accepts any well-formed
# signature, so check the key pairs and the signed pre-key signature with
# libsignal's own verifySignature, and that this check does catch a forgery
PV="$WA_TOP/tests/fakewa/pair-vectors.mjs"
ok "key pairs and signed pre-key signature verify with libsignal" node "$PV" --check-creds "$T/auth/creds.json"
sed 's/\("signature":{"type":"Buffer","data":"\)./\1A/' "$T/auth/creds.json" > "$T/forged.json"
if cmp -s "$T/forged.json" "$T/auth/creds.json"; then
	sed 's/\("signature":{"type":"Buffer","data":"\)./\1B/' "$T/auth/creds.json" > "$T/forged.json"
fi
expect_exit 1 "a changed signature is caught" node "$PV" --check-creds "$T/forged.json"

# the folder Baileys sees is the one we wrote: its snapshot holds our keys
ok "verify-auth --snapshot" node "$VA" "$T/auth" --no-use --snapshot "$T/snap.json"
pub=$(sed 's/.*"signedIdentityKey":{"private":{"type":"Buffer","data":"[^"]*"},"public":{"type":"Buffer","data":"\([^"]*\)".*/\1/' "$T/auth/creds.json")
like "$(cat "$T/snap.json")" "$pub" "Baileys read our identity key"

expect_exit 1 "an existing creds.json is never replaced" wa-mkcreds "$T/auth"
ok "a second fresh folder" wa-mkcreds "$T/auth2"
isnt "$(cat "$T/auth2/creds.json")" "$(cat "$T/auth/creds.json")" "with other keys"
ok "Baileys loads the folder without pre-keys too" node "$VA" "$T/auth2" --no-use

done_testing

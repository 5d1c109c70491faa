#!/bin/sh
# 2001-wa-pair-interop: folders cross between wa and the real Baileys
# (npm baileys, root key swapped for fakewa's in the client process only).
#   - a folder wa-pair made loads in Baileys' useMultiFileAuthState with
#     every signature verifying (verify-auth.mjs), and Baileys logs in with
#     it as the same device, finds the pre-keys uploaded and uploads none;
#   - a folder Baileys paired (QR, and phone-number code) logs in through
#     wa's login path (lib/session, wa-session-login), which uploads the
#     812 initial pre-keys in Baileys' bookkeeping; Baileys then logs in
#     again with the folder wa wrote and is content with it; every field
#     of Baileys' creds.json survives wa's writes, in the same order;
#   - wa-pair's creds.json has the fields of Baileys' own after a pairing,
#     in Baileys' order.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
trap '' PIPE
FW=$WA_TOP/tests/fakewa

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
fakewa_client_start
on_exit fakewa_client_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"

bl() { fakewa_client "$@"; R=$FAKEWA_REPLY; }
start() { bl start "$@"; S=${R#ok }; }
seq_now() { fakewa_call GET /info | fakewa_field seq; }
json_qr() { printf '{"qr":"%s"}' "$1"; }
# keys FILE: the top-level keys of a JSON file, in order, on one line
keys() { node -e 'console.log(Object.keys(JSON.parse(require("fs").readFileSync(process.argv[1]))).join(" "))' "$1"; }
# same_but FILE1 FILE2 KEY...: 0 when the two JSON objects are equal except for KEYs
same_but() {
	node -e '
	const fs = require("fs");
	const [a, b, ...skip] = process.argv.slice(1);
	const x = JSON.parse(fs.readFileSync(a)), y = JSON.parse(fs.readFileSync(b));
	for (const k of skip) { delete x[k]; delete y[k]; }
	const sx = JSON.stringify(x), sy = JSON.stringify(y);
	if (sx !== sy) { console.error("differ:\n" + sx + "\n" + sy); process.exit(1); }' "$@"
}

# ---- a folder made by wa-pair, in Baileys -------------------------------------

rm -f "$T/p.fifo"; mkfifo "$T/p.fifo"
wa-pair -d "$T/a" --qr-text -t 10 >"$T/p.fifo" 2>"$T/p.err" 9>&- &
pid=$!
echo "$pid" >> "$T/.pids"
exec 5<"$T/p.fifo"
IFS= read -r QR <&5
r=$(fakewa_call POST /phone/scan "$(json_qr "$QR")")
JID=$(printf '%s' "$r" | fakewa_field jid)
LID=$(printf '%s' "$r" | fakewa_field lid)
IFS= read -r line <&5
exec 5<&-
wait "$pid"
is "$?" 0 "wa-pair links $JID"
cp "$T/a/creds.json" "$T/a.creds"

ok "Baileys loads wa-pair's folder; account, device and signed pre-key signatures verify" \
	node "$FW/verify-auth.mjs" "$T/a" --snapshot "$T/a.snap"
like "$(cat "$T/out")" "paired as $JID" "... Baileys sees it paired as $JID"

s=$(seq_now)
start "$T/a"
bl next 10000 "#$S" open close
is "$R" "open $JID $LID" "Baileys logs in with wa-pair's folder as the same device"
ev=$(fakewa_wait "event=login&since=$s&timeout_ms=5000")
like "$ev" "\"jid\":\"$JID\",\"accepted\":true,\"via\":\"qr\"" "... fakewa accepts it as the device it paired (same Noise key)"
ev=$(fakewa_wait "event=sent&child=count&since=$s&timeout_ms=5000")
like "$ev" '"value":"812"' "... the server holds wa's 812 pre-keys"
ok "... Baileys goes active" fakewa_wait "event=node&child=active&since=$s&timeout_ms=10000"
ok "... and checks the key bundle digest" fakewa_wait "event=sent&child=digest&since=$s&timeout_ms=10000"
is "$(fakewa_call GET "/log?event=prekeys&since=$s" | grep -c '"event":"prekeys"')" 0 "... and uploads no pre-keys of its own"
bl end

# ---- folders paired by Baileys, through wa's login ----------------------------------

start "$T/b"
bl next 10000 "#$S" qr
r=$(fakewa_call POST /phone/scan "$(json_qr "${R#qr }")")
BJID=$(printf '%s' "$r" | fakewa_field jid)
BLID=$(printf '%s' "$r" | fakewa_field lid)
bl next 10000 "#$S" close
like "$R" "close 515 " "Baileys pairs a folder (QR) and stops at the 515"
bl end
cp "$T/b/creds.json" "$T/b.creds"
is "$(keys "$T/a.creds")" "$(keys "$T/b.creds")" "wa-pair's creds.json has Baileys' fields in Baileys' order"

s=$(seq_now)
ok "wa's login path logs in with Baileys' folder" wa-session-login "$T/b"
is "$(head -n 3 "$T/out" | tr '\n' '|')" "success lid=$BLID|prekeys server=0 uploaded=812 first=1 last=812|online|" \
	"... <success>, then the initial 812 pre-keys"
like "$(fakewa_wait "event=login&since=$s&timeout_ms=5000")" "\"jid\":\"$BJID\",\"accepted\":true,\"via\":\"qr\"" \
	"... as the device Baileys paired"
like "$(fakewa_wait "event=prekeys&since=$s&timeout_ms=5000")" '"count":812,"first":1,"last":812,"duplicates":0' \
	"... fakewa took them"
ok "wa's creds.json keeps every other field of Baileys' as it was" \
	same_but "$T/b.creds" "$T/b/creds.json" nextPreKeyId firstUnuploadedPreKeyId
is "$(keys "$T/b/creds.json")" "$(keys "$T/b.creds")" "... in the same order"
like "$(cat "$T/b/creds.json")" '"nextPreKeyId":813,"firstUnuploadedPreKeyId":813' "... with the pre-key counters past the upload"
ok "Baileys loads the folder wa wrote; everything verifies" node "$FW/verify-auth.mjs" "$T/b"

s=$(seq_now)
start "$T/b"
bl next 10000 "#$S" open close
is "$R" "open $BJID $BLID" "Baileys logs in again with the folder wa wrote"
ok "... goes active" fakewa_wait "event=node&child=active&since=$s&timeout_ms=10000"
ok "... checks the digest" fakewa_wait "event=sent&child=digest&since=$s&timeout_ms=10000"
is "$(fakewa_call GET "/log?event=prekeys&since=$s" | grep -c '"event":"prekeys"')" 0 "... and finds nothing to upload"
bl end

NUM=15550004567
start "$T/c"
bl next 10000 "#$S" qr
s=$(seq_now)
bl paircode "$NUM"
CODE=${R#code }
fakewa_wait "event=link-code-hello&since=$s&timeout_ms=5000" >/dev/null
fakewa_call POST /phone/link-code "{\"code\":\"$CODE\"}" >/dev/null
CJID=$(fakewa_wait "event=paired&since=$s&timeout_ms=10000" | fakewa_field jid)
bl next 10000 "#$S" close
like "$R" "close 515 " "Baileys pairs a folder by phone-number code"
bl end
ok "wa's login path logs in with the code-paired folder" wa-session-login "$T/c"
like "$(cat "$T/out")" "prekeys server=0 uploaded=812" "... and uploads its pre-keys"
like "$(fakewa_call GET "/accounts/$CJID")" '"via":"code"' "... as the device paired by code"

done_testing

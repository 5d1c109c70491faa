#!/bin/sh
# 2000-wa-pair: wa-pair against fakewa's simulated phone.  QR pairing end
# to end (the QR string handed to /phone/scan, pair-success verified,
# creds.json written before the reply, 515, login, 812 pre-keys written
# then uploaded); the folder passes wa-check as paired and logs in again
# (wa-demo-connect, and lib/session through wa-session-login); every
# forged pair-success refused with nothing written; a genuine hosted one
# taken; QR rotation and expiry; timeouts, a dropped connection, a silent
# login after pairing; pairing by phone-number code (and a wrong code);
# an already paired folder refused, -f with its backup and quarantine, and
# a failed -f leaving the old pairing alone; unreadable creds.json refused;
# unpaired keys reused; no terminal; the lock; a signal; --debug output
# free of keys and QR strings; the server override warned about on every
# connection.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
trap '' PIPE

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"

seq_now() { fakewa_call GET /info | fakewa_field seq; }
json_qr() { printf '{"qr":"%s"%s}' "$1" "${2:+,$2}"; }
# pair DIR [options]: wa-pair in the background, its standard output read
# line by line with next (into LINE); finish with reap (exit code in RC)
pair() {
	d=$1; shift
	rm -f "$T/p.fifo"; mkfifo "$T/p.fifo"
	wa-pair -d "$d" "$@" >"$T/p.fifo" 2>"$T/p.err" 9>&- &
	PID=$!
	echo "$PID" >> "$T/.pids"
	exec 5<"$T/p.fifo"
}
next() { LINE=; IFS= read -r LINE <&5; }
reap() { exec 5<&-; wait "$PID"; RC=$?; }
# the state of a folder without the lock file (whose record wa-pair rewrites)
state() { tree_state "$1" | grep -v '^\./\.wa/lock '; }
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2"; }

# ---- QR pairing end to end -------------------------------------------------

s=$(seq_now)
pair "$T/a" --qr-text -t 10
next; QR=$LINE
like "$QR" "https://wa.me/settings/linked_devices#2@" "the first line is a QR string"
is "$(printf '%s\n' "${QR#*#}" | awk -F, '{ print NF }')" 5 "QR: ref, noise, identity, adv, platform"
is "${QR##*,}" 1 "QR platform id 1 (Chrome), as Baileys' default"
is "$(cd "$T/a" && ls -A)" ".wa" "before the phone answers the folder holds only .wa"
ref=$(printf '%s' "${QR#*#}" | cut -d, -f1)
ev=$(fakewa_wait "event=sent&child=pair-device&since=$s&timeout_ms=5000")
like "$ev" "\"base64\":\"$(printf '%s' "$ref" | base64 -w0)\"" "the QR carries the server's first ref"
like "$(cat "$T/p.err")" "QR code 1 of 6 on standard output, valid for 60 s" "stderr says which code and for how long"
r=$(fakewa_call POST /phone/scan "$(json_qr "$QR")")
JID=$(printf '%s' "$r" | fakewa_field jid)
LID=$(printf '%s' "$r" | fakewa_field lid)
like "$JID" ":2@s.whatsapp.net" "the phone scans the QR"
next; SUMMARY=$LINE
reap
is "$RC" 0 "wa-pair exits 0"
is "$SUMMARY" "linked $JID, platform android, 812 pre-keys" "one-line summary: JID, platform, pre-keys"
ev=$(fakewa_wait "event=pair-reply&since=$s&timeout_ms=5000")
like "$ev" '"accepted":true,"ok":true' "the device signature reply verifies on the phone's side"
ok "the phone registers the device" fakewa_wait "event=paired&ev.jid=$JID&since=$s&timeout_ms=5000"
ev=$(fakewa_wait "event=login&ev.jid=$JID&since=$s&timeout_ms=5000")
like "$ev" '"accepted":true,"via":"qr"' "after the 515 the login of the new device is accepted"
ev=$(fakewa_wait "event=prekeys&ev.jid=$JID&since=$s&timeout_ms=5000")
like "$ev" '"count":812,"first":1,"last":812,"duplicates":0' "812 pre-keys uploaded, ids 1..812"
like "$ev" '"signedPreKeyValid":true,"identityMatches":true' "... with the signed pre-key and identity of the pairing"
is "$(fakewa_call GET "/accounts/$JID/prekeys" | fakewa_field count)" 812 "fakewa holds 812 pre-keys for the device"
ok "wa-check: the folder is paired" wa-check -d "$T/a"
like "$(cat "$T/out")" "paired as $JID" "wa-check names the device"
C=$T/a/creds.json
is "$(field nextPreKeyId "$C")/$(field firstUnuploadedPreKeyId "$C")" 813/813 "creds: nextPreKeyId and firstUnuploadedPreKeyId past the upload"
like "$(cat "$C")" "\"me\":{\"id\":\"$JID\",\"lid\":\"$LID\"}" "creds: me.id and me.lid"
like "$(cat "$C")" '"platform":"android"' "creds: platform"
is "$(find "$T/a" -maxdepth 1 -name 'pre-key-*.json' | wc -l | tr -d ' ')" 812 "812 pre-key files"
is "$(stat -c %a "$C" "$T/a/pre-key-812.json" "$T/a" | tr '\n' ' ')" "600 600 700 " "files 0600, folder 0700"
is "$(grep -c "is not WhatsApp's" "$T/p.err")" 2 "the server override is warned about on both connections"
like "$(cat "$T/p.err")" "credentials saved in '$T/a/creds.json'" "stderr says where the credentials are"
is "$(ls -A "$T/a/.wa/tmp")" "" "no temporary files left"

# ---- the folder logs in again ------------------------------------------------

s=$(seq_now)
ok "wa-demo-connect logs in with the folder and pings" wa-demo-connect -d "$T/a" --timeout 10000
ev=$(fakewa_wait "event=login&since=$s&timeout_ms=5000")
like "$ev" "\"jid\":\"$JID\",\"accepted\":true" "... as the same device"
s=$(seq_now)
ok "lib/session logs in (wa-session-login)" wa-session-login "$T/a"
is "$(cat "$T/out" | tr '\n' '|')" "success lid=$LID|prekeys server=812 uploaded=0|online|end closed code=0 child= type=: closed|" \
	"... <success>, the server holds 812 pre-keys, nothing uploaded, orderly close"
is "$(field nextPreKeyId "$C")" 813 "... and creds.json's pre-key counters unchanged"

# keepalive (lib/session): pings on a short interval while healthy; a stalled
# server is found dead within interval + deadline
s=$(seq_now)
ok "lib/session stays online 1.5 s with pings every 200-300 ms" \
	wa-session-login --active --stay 1500 --keepalive 200,300,500 "$T/a"
n=$(fakewa_call GET "/log?event=node&since=$s" | grep -o '"xmlns":"w:p"' | wc -l | tr -d ' ')
ok "... and pings (saw $n)" test "$n" -ge 3
like "$(fakewa_wait "event=sent&child=offline&since=$s&timeout_ms=5000")" '"offline"' "... after <active/> the server delivers (offline queue)"
s=$(seq_now)
wa-session-login --active --stay 30000 --keepalive 200,300,500 "$T/a" >"$T/ka.out" 2>&1 9>&- &
kapid=$!
echo "$kapid" >> "$T/.pids"
conn=$(fakewa_wait "event=login&since=$s&timeout_ms=5000" | fakewa_field conn)
fakewa_wait "event=node&child=active&since=$s&timeout_ms=5000" >/dev/null
fakewa_call POST /fault "{\"conn\":$conn,\"kind\":\"stall\"}" >/dev/null
t0=$(date +%s%3N)
wait "$kapid"
rc=$?
dt=$(( $(date +%s%3N) - t0 ))
is "$rc" 1 "a stalled server ends the session"
like "$(cat "$T/ka.out")" "end keepalive unanswered" "... as a dead connection (keepalive)"
ok "... found within interval + deadline ($dt ms <= 800 ms + slack)" test "$dt" -le 3000

# ---- forged pair-success: refused, nothing written ----------------------------

i=0
for c in bad-hmac:hmac:401 bad-account-sig:account-sig:401 wrong-key-index:key-index:500 \
	bad-details:details-decode:500 hosted-prefix-mismatch:hmac-prefix:401 \
	hosted-sig-prefix-mismatch:account-sig-prefix:401 account-key-length:account-key-length:500
do
	kind=${c%%:*}; rest=${c#*:}; check=${rest%%:*}; code=${rest#*:}
	i=$((i + 1))
	pair "$T/f$i" --qr-text -t 10
	next; QR=$LINE
	s=$(seq_now)
	fakewa_call POST /phone/scan "$(json_qr "$QR" "\"forge\":\"$kind\"")" >/dev/null
	reap
	is "$RC" 25 "$kind: exit 25"
	is "$(cd "$T/f$i" && ls -A)" ".wa" "$kind: no creds.json, nothing but .wa"
	like "$(cat "$T/p.err")" "pair-success: $check:" "$kind: refused at the $check check"
	like "$(cat "$T/p.err")" "nothing was written" "$kind: the message says nothing was written"
	ev=$(fakewa_wait "event=pair-reply&since=$s&timeout_ms=5000")
	like "$ev" "\"accepted\":false,\"error\":{\"code\":\"$code\"" "$kind: the phone gets an error $code, no signature"
done
unlike "$(fakewa_call GET /accounts)" '"keyIndex":0' "no forged device registered"

# ---- a genuine hosted-account pair-success (06 05 prefixes) -----------------------

pair "$T/h" --qr-text -t 10
next; QR=$LINE
fakewa_call POST /phone/scan "$(json_qr "$QR" '"hosted":true,"platform":"smbi","biz":"Shop"')" >/dev/null
next; reap
is "$RC" 0 "hosted pair-success verified and linked"
like "$(cat "$T/h/creds.json")" '"platform":"smbi"' "... platform smbi saved"
like "$(cat "$T/h/creds.json")" '"name":"Shop"' "... the business name as me.name"

# ---- QR rotation and expiry ----------------------------------------------------------

fakewa_call POST /config '{"qrRefs":3,"qrFirstMs":1000,"qrNextMs":1000,"qrGraceMs":500}' >/dev/null
s=$(seq_now)
pair "$T/e" --qr-text --qr-time 1,1 -t 10
next; q1=$LINE; next; q2=$LINE; next; q3=$LINE; next; q4=$LINE
reap
is "$RC" 21 "every QR code expired: exit 21"
isnt "$q1" "$q2" "the QR rotates"
isnt "$q2" "$q3" "... and rotates again"
is "$q4" "" "three refs, three QR strings"
ev=$(fakewa_wait "event=sent&child=pair-device&since=$s&timeout_ms=5000")
okrefs=0
for q in "$q1" "$q2" "$q3"; do
	ref=$(printf '%s' "${q#*#}" | cut -d, -f1)
	case $ev in *"\"base64\":\"$(printf '%s' "$ref" | base64 -w0)\""*) okrefs=$((okrefs + 1)) ;; esac
done
is "$okrefs" 3 "each QR carries one of the server's refs"
like "$(cat "$T/p.err")" "all 3 QR codes expired without a scan; nothing was written: run wa-pair again" "the message says what to do"
like "$(cat "$T/p.err")" "QR code 3 of 3 on standard output" "stderr counts the codes"
is "$(cd "$T/e" && ls -A)" ".wa" "nothing written"

fakewa_call POST /config '{"qrRefs":3,"qrFirstMs":1000,"qrNextMs":20000,"qrGraceMs":500}' >/dev/null
s=$(seq_now)
pair "$T/r" --qr-text --qr-time 1,20 -t 10
next; next; QR=$LINE
fakewa_call POST /phone/scan "$(json_qr "$QR")" >/dev/null
next; reap
is "$RC" 0 "the second QR code, after rotation, scans and links"
like "$(fakewa_wait "event=scan&since=$s&timeout_ms=5000")" '"window":2,"current":2' "... it was the server's second ref"

# the server's refs run out before our own schedule (60 s for the first
# code): its orderly close is the codes expiring, not the network
fakewa_call POST /config '{"qrRefs":2,"qrFirstMs":2000,"qrNextMs":1000,"qrGraceMs":500}' >/dev/null
pair "$T/qx" --qr-text -t 10
next; next
reap
is "$RC" 21 "the server ends the QR session before our timer: exit 21 (expired)"
like "$(cat "$T/p.err")" "the server ended the pairing session after" "... the message says the server ended it"
like "$(cat "$T/p.err")" "run wa-pair again and scan sooner" "... and what to do"
unlike "$(cat "$T/p.err")" "check the network" "... not a network failure"
is "$(cd "$T/qx" && ls -A)" ".wa" "... nothing written"
fakewa_call POST /config '{"qrRefs":6,"qrFirstMs":60000,"qrNextMs":20000,"qrGraceMs":2000}' >/dev/null

# ---- the network: no answer, a drop, a silent login ------------------------------------

mkfifo "$T/port.fifo"
node -e 'const s = require("net").createServer(() => {}).listen(0, "127.0.0.1", () => {
	console.log(s.address().port); });' >"$T/port.fifo" 9>&- &
echo $! >> "$T/.pids"
read -r port <"$T/port.fifo"
WA_SERVER_URL=ws://127.0.0.1:$port/ws/chat expect_exit 22 "a server that never answers: exit 22" \
	wa-pair --qr-text -t 1 -d "$T/t"
like "$(cat "$T/err")" "check the network and run wa-pair again" "... the message says what to do"
is "$(cd "$T/t" && ls -A)" ".wa" "... nothing written"

pair "$T/d" --qr-text -t 10
next
fakewa_call POST /fault '{"kind":"drop"}' >/dev/null
reap
is "$RC" 23 "the connection dropped while the QR is shown: exit 23"
like "$(cat "$T/p.err")" "closed" "... the message says the connection closed"
is "$(cd "$T/d" && ls -A)" ".wa" "... nothing written"

fakewa_call POST /fault '{"kind":"login-silent"}' >/dev/null
pair "$T/s" --qr-text -t 2
next
fakewa_call POST /phone/scan "$(json_qr "$LINE")" >/dev/null
reap
is "$RC" 26 "paired, then a login that gets no answer: exit 26"
like "$(cat "$T/p.err")" "wa-run will log in and upload the pre-keys" "... the message says wa-run finishes it"
ok "... the credentials are saved and paired" wa-check -d "$T/s"

# ---- pairing by phone-number code ------------------------------------------------------

NUM=15550002345
s=$(seq_now)
pair "$T/c" --phone "+1 555 000-2345" -t 10
next; CODE=$LINE
case $CODE in
[1-9A-HJ-NP-TV-Z][1-9A-HJ-NP-TV-Z][1-9A-HJ-NP-TV-Z][1-9A-HJ-NP-TV-Z]-[1-9A-HJ-NP-TV-Z][1-9A-HJ-NP-TV-Z][1-9A-HJ-NP-TV-Z][1-9A-HJ-NP-TV-Z])
	pass "the code is printed as the phone shows it: $CODE" ;;
*) fail "the code is printed as the phone shows it" "got '$CODE'" ;;
esac
ev=$(fakewa_wait "event=link-code-hello&since=$s&timeout_ms=5000")
like "$ev" "\"ok\":true,\"phone\":\"$NUM\"" "companion_hello for the number, digits only"
like "$ev" '"platformId":"1","platformDisplay":"Chrome (Mac OS)","noiseMatches":true,"nonce":"0"' "... platform, display, Noise key, nonce as Baileys"
fakewa_call POST /phone/link-code "{\"code\":\"$CODE\"}" >/dev/null
next; reap
is "$RC" 0 "code pairing links: exit 0"
like "$LINE" "linked $NUM:" "... summary names the device"
like "$(fakewa_wait "event=paired&since=$s&timeout_ms=5000")" '"via":"code"' "... paired via code"
like "$(cat "$T/c/creds.json")" "\"pairingCode\":\"$(printf '%s' "$CODE" | tr -d -)\"" "creds: pairingCode"
like "$(cat "$T/c/creds.json")" '"registered":true' "creds: registered"
ok "... wa-check: paired" wa-check -d "$T/c"

s=$(seq_now)
pair "$T/w" --phone "$NUM" -t 10
next
fakewa_call POST /phone/link-code '{"code":"ZZZZ-ZZZZ"}' >/dev/null
reap
is "$RC" 24 "a wrong code typed on the phone: exit 24"
like "$(cat "$T/p.err")" "the phone refused the code" "... the message says so"
is "$(cd "$T/w" && ls -A)" ".wa" "... nothing written"
expect_exit 64 "a number with a leading 0 is refused" wa-pair -d "$T/w" --phone 0123456789
like "$(cat "$T/err")" "not starting with 0" "... the message says why"
unlike "$(cat "$T/err")" "or +" "... and does not forbid the + that --phone accepts"
expect_exit 64 "+ and a leading 0: still refused for the 0" wa-pair -d "$T/w" --phone +0123456789
unlike "$(cat "$T/err")" "or +" "... the message blames the 0, not the +"

# ---- an already paired folder; -f ---------------------------------------------------------

before=$(state "$T/a")
expect_exit 20 "an already paired folder is refused" wa-pair --qr-text -d "$T/a"
like "$(cat "$T/err")" "already paired as $JID; use -f" "... the message names the device and -f"
is "$(state "$T/a")" "$before" "... nothing changed"

oldid=$(sed 's/.*"signedIdentityKey":{[^}]*},"public":{[^}]*"data":"\([^"]*\)".*/\1/' "$C")
oldpk=$(sha256sum < "$T/a/pre-key-1.json")
pair "$T/a" -f --qr-text -t 10
next; QR=$LINE
fakewa_call POST /phone/scan "$(json_qr "$QR" '"forge":"bad-hmac"')" >/dev/null
reap
is "$RC" 25 "-f, then a forged answer: exit 25"
like "$(cat "$T/p.err")" "backed up '$T/a'" "-f takes a backup first and says where"
B1=$(sed -n "s|.* to '\([^']*\.tar\)'.*|\1|p" "$T/p.err")
ok "... the archive exists" test -s "$B1"
is "$(state "$T/a")" "$before" "... the old pairing is untouched"

s=$(seq_now)
WA_TEST_OPLOG=$T/op.log pair "$T/a" -f --qr-text -t 10
next; QR=$LINE
r=$(fakewa_call POST /phone/scan "$(json_qr "$QR")")
JID2=$(printf '%s' "$r" | fakewa_field jid)
next; reap
is "$RC" 0 "-f pairs the folder again"
like "$LINE" "linked $JID2," "... as a new device"
isnt "$JID2" "$JID" "... another device number"
B2=$(sed -n "s|.* to '\([^']*\.tar\)'.*|\1|p" "$T/p.err")
like "$B2" "$T/a.backups/a-" "the backup goes where wa-backup puts it"
is "$(tar -xOf "$B2" creds.json | sha256sum)" "$(tar -xOf "$B1" creds.json | sha256sum)" "... it holds the old creds.json"
isnt "$(sed 's/.*"signedIdentityKey":{[^}]*},"public":{[^}]*"data":"\([^"]*\)".*/\1/' "$C")" "$oldid" "new identity key"
q=$(ls "$T/a/.wa/quarantine")
is "$(sha256sum < "$T/a/.wa/quarantine/$q/pre-key-1.json")" "$oldpk" "the old pre-keys went to quarantine"
is "$(find "$T/a/.wa/quarantine/$q" -name 'pre-key-*.json' | wc -l | tr -d ' ')" 812 "... all 812 of them"
like "$(cat "$T/p.err")" "moved 812 files of the previous pairing" "... and it says so"
unset WA_TEST_OPLOG
lastmove=$(grep -n ' move ' "$T/op.log" | tail -n 1 | cut -d: -f1)
synced=$(awk -v m="$lastmove" 'NR > m && $2 == "fsyncdir" { print NR; exit }' "$T/op.log")
creds=$(grep -n ' rename creds.json$' "$T/op.log" | head -n 1 | cut -d: -f1)
ok "the moves are flushed to disk before the new creds.json is renamed in (op log: move $lastmove, fsyncdir $synced, creds $creds)" \
	test -n "$lastmove" -a -n "$synced" -a -n "$creds" -a "${synced:-0}" -lt "${creds:-0}"
like "$(fakewa_wait "event=prekeys&ev.jid=$JID2&since=$s&timeout_ms=5000")" '"count":812,"first":1' "the new device uploads its own pre-keys"
ok "wa-check: paired" wa-check -d "$T/a"

# ---- unreadable creds.json, stray auth files -----------------------------------------------

mkdir -m 700 "$T/x"
head -c 300 "$C" > "$T/x/creds.json"
before=$(state "$T/x")
expect_exit 65 "a torn creds.json: exit 65, no new keys" wa-pair --qr-text -d "$T/x"
like "$(cat "$T/err")" "never makes new keys over credentials it cannot read" "... says why"
like "$(cat "$T/err")" "wa-check" "... points to wa-check"
like "$(cat "$T/err")" "wa-restore" "... and to wa-restore"
is "$(state "$T/x")" "$before" "... nothing changed"
mkdir -m 700 "$T/y"
cp "$T/a/pre-key-5.json" "$T/y/"
expect_exit 65 "auth files without creds.json: exit 65" wa-pair --qr-text -d "$T/y"
like "$(cat "$T/err")" "has no creds.json but holds 1 other auth files" "... says why"

# ---- unpaired keys are kept ------------------------------------------------------------------

wa-mkcreds -p 5 "$T/u" >/dev/null 2>&1 || fail "wa-mkcreds"
uid=$(sed 's/.*"signedIdentityKey":{[^}]*},"public":{[^}]*"data":"\([^"]*\)".*/\1/' "$T/u/creds.json")
pk1=$(sha256sum < "$T/u/pre-key-1.json")
pair "$T/u" --qr-text -t 10
next; fakewa_call POST /phone/scan "$(json_qr "$LINE")" >/dev/null
next; reap
is "$RC" 0 "an unpaired creds.json is paired with its own keys"
like "$(cat "$T/p.err")" "using the unpaired keys" "... and says so"
is "$(sed 's/.*"signedIdentityKey":{[^}]*},"public":{[^}]*"data":"\([^"]*\)".*/\1/' "$T/u/creds.json")" "$uid" "... identity key kept"
is "$(sha256sum < "$T/u/pre-key-1.json")" "$pk1" "... pre-keys already on disk are uploaded as they are"

# ---- no terminal; the lock; a signal ---------------------------------------------------------

expect_exit 28 "no terminal and no --qr-text: exit 28" wa-pair -d "$T/n" </dev/null
like "$(cat "$T/err")" "--qr-text" "... the hint names --qr-text"
ok "... nothing created" test ! -e "$T/n"

mkdir -p "$T/l/.wa"
exec 7>>"$T/l/.wa/lock"
flock -x 7
expect_exit 75 "another process holds the lock: exit 75" wa-pair --qr-text -d "$T/l"
exec 7>&-

pair "$T/i" --qr-text -t 10
next
kill -TERM "$PID"
reap
is "$RC" 143 "SIGTERM while the QR is shown: 128 + 15"
like "$(cat "$T/p.err")" "interrupted; nothing was written" "... says nothing was written"
is "$(cd "$T/i" && ls -A)" ".wa" "... and nothing was"
like "$(cat "$T/i/.wa/lock")" "pid=0" "... the lock released in order"

# ---- --debug: nodes, but no key, no QR string ---------------------------------------------------

pair "$T/g" --qr-text --debug -t 10
next; QR=$LINE
fakewa_call POST /phone/scan "$(json_qr "$QR")" >/dev/null
next; reap
is "$RC" 0 "pairing with --debug"
like "$(cat "$T/p.err")" "-> <iq" "--debug prints the nodes sent"
like "$(cat "$T/p.err")" "<- <iq" "... and received"
like "$(cat "$T/p.err")" "<device-identity key-index=\"" "... the pair-device-sign reply among them"
canary() { # canary NAME BASE64: neither the base64 nor its hex in the debug output
	hex=$(printf '%s' "$2" | base64 -d | od -An -tx1 | tr -d ' \n')
	unlike "$(cat "$T/p.err")" "$2" "--debug output lacks $1 (base64)"
	unlike "$(cat "$T/p.err")" "$hex" "--debug output lacks $1 (hex)"
}
b64of() { sed "s/.*\"$1\":{\"private\":{\"type\":\"Buffer\",\"data\":\"\([^\"]*\)\".*/\1/" "$2"; }
canary noiseKey.private "$(b64of noiseKey "$T/g/creds.json")"
canary signedIdentityKey.private "$(b64of signedIdentityKey "$T/g/creds.json")"
canary pairingEphemeralKeyPair.private "$(b64of pairingEphemeralKeyPair "$T/g/creds.json")"
canary advSecretKey "$(sed 's/.*"advSecretKey":"\([^"]*\)".*/\1/' "$T/g/creds.json")"
canary pre-key-1.private "$(sed 's/.*"private":{"type":"Buffer","data":"\([^"]*\)".*/\1/' "$T/g/pre-key-1.json")"
unlike "$(cat "$T/p.err")" "$QR" "--debug output lacks the QR string"
ref=$(printf '%s' "${QR#*#}" | cut -d, -f1)
unlike "$(cat "$T/p.err")" "$ref" "... and its ref"
unlike "$(cat "$T/p.err")" "$(printf '%s' "$ref" | base64 -w0)" "... and its ref in base64"

done_testing

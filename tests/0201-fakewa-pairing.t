#!/bin/sh
# 0201-fakewa-pairing: fakewa's simulated phone against the real Baileys
# client (makeWASocket + useMultiFileAuthState, WhatsApp's root key swapped
# for fakewa's in the client process only): QR pairing end to end (QR,
# scan, pair-success, reply check, 515, login, pre-key upload), refused
# scans, QR expiry (the server's and Baileys' own), every forged
# pair-success variant (Baileys' verdict and the strict checker's), a
# genuine hosted-account pairing, and phone-number code pairing.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"

FW=$WA_TOP/tests/fakewa
trap '' PIPE

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
fakewa_client_start
on_exit fakewa_client_stop

bl() { fakewa_client "$@"; R=$FAKEWA_REPLY; }
seq_now() { fakewa_call GET /info | fakewa_field seq; }
# sock: the socket number from "ok N"
start() { bl start "$@"; S=${R#ok }; }
json_qr() { printf '{"qr":"%s"%s}' "$1" "${2:+,$2}"; }

# ---- QR pairing end to end -------------------------------------------------

start "$T/a"
is "$R" "ok $S" "Baileys socket starts on a fresh folder"
bl next 10000 "#$S" qr
like "$R" "qr https://wa.me/settings/linked_devices#2@" "Baileys shows a QR for the server's first ref"
QR=${R#qr }
parts=$(printf '%s\n' "${QR#*#}" | awk -F, '{ print NF }')
is "$parts" 5 "QR: ref, noise, identity, adv, platform"
is "${QR##*,}" 1 "QR platform id 1 (Chrome)"
ev=$(fakewa_wait "event=sent&child=pair-device&timeout_ms=5000")
refs=$(printf '%s' "$ev" | grep -o '"tag":"ref"' | wc -l | tr -d ' ')
is "$refs" 6 "pair-device with six refs"
ok "Baileys acknowledges pair-device" fakewa_wait "event=node&tag=iq&attr.type=result&timeout_ms=5000"

s=$(seq_now)
r=$(fakewa_call POST /phone/scan "$(json_qr "$QR" '"platform":"smba"')")
like "$r" '"jid":"' "the phone scans the QR (/phone/scan)"
JID=$(printf '%s' "$r" | fakewa_field jid)
LID=$(printf '%s' "$r" | fakewa_field lid)
PHONE=$(printf '%s' "$r" | fakewa_field phone)
like "$JID" "$PHONE:" "device JID is PHONE:DEVICE"
is "$(printf '%s' "$r" | fakewa_field keyIndex)" 1 "first companion of the account gets key index 1"
ev=$(fakewa_wait "event=sent&child=pair-success&since=$s&timeout_ms=5000")
like "$ev" '"tag":"platform","attrs":{"name":"smba"}' "pair-success names the phone platform"
like "$ev" "\"tag\":\"device\",\"attrs\":{\"jid\":\"$JID\",\"lid\":\"$LID\"}" "pair-success carries jid and lid"
printf '%s' "$ev" >"$T/ps.json"
is "$(node "$FW/src/paircheck.mjs" "$QR" <"$T/ps.json")" ok "genuine pair-success passes the strict checker"
ev=$(fakewa_wait "event=pair-reply&since=$s&timeout_ms=5000")
like "$ev" '"accepted":true,"ok":true' "Baileys replies and the reply verifies"
like "$ev" '"deviceSignature":true' "... device signature over 06 01 ‖ details ‖ identity ‖ account key"
like "$ev" '"noAccountKey":true' "... without accountSignatureKey"
like "$ev" '"keyIndex":true' "... with the right key-index"
ok "the phone records the paired device" fakewa_wait "event=paired&ev.jid=$JID&since=$s&timeout_ms=5000"
ev=$(fakewa_wait "event=sent&tag=stream:error&since=$s&timeout_ms=5000")
like "$ev" '"code":"515"' "server sends stream:error 515 after the reply"
bl next 10000 "#$S" close
like "$R" "close 515 " "Baileys ends with 515 restartRequired"
bl creds
like "$R" "\"id\":\"$JID\"" "Baileys saved me.id"
like "$R" '"platform":"smba"' "Baileys saved the platform"
like "$R" '"account":true' "Baileys saved the account"
ok "creds.json on disk" test -s "$T/a/creds.json"

s=$(seq_now)
start "$T/a"
bl next 10000 "#$S" open close
is "$R" "open $JID $LID" "reconnect with the login payload: connection open"
ev=$(fakewa_wait "event=login&since=$s&timeout_ms=5000")
like "$ev" '"accepted":true,"via":"qr"' "server accepts the login of the device it paired"
ev=$(fakewa_wait "event=prekeys&since=$s&timeout_ms=10000")
like "$ev" '"count":812,"first":1,"last":812' "Baileys uploads 812 pre-keys"
like "$ev" '"signedPreKeyValid":true,"identityMatches":true' "... with a valid signed pre-key and the paired identity"
pk=$(fakewa_call GET "/accounts/$JID/prekeys")
is "$(printf '%s' "$pk" | fakewa_field count)" 812 "/accounts/JID/prekeys: 812 stored"
acc=$(fakewa_call GET /accounts)
like "$acc" "\"jid\":\"$JID\"" "/accounts lists the device"
like "$acc" '"via":"qr","keyIndex":1,"platform":"smba","companionPlatform":"1"' "... paired by QR, key index, platforms"
ok "Baileys sends <active/> and gets the empty offline queue" fakewa_wait "event=sent&tag=ib&child=offline&since=$s&timeout_ms=10000"
bl end

# ---- refused scans -----------------------------------------------------------

start "$T/b"
bl next 10000 "#$S" qr
QR=${R#qr }
r=$(fakewa_call POST /phone/scan '{"qr":"not,a,qr"}' 2>&1)
like "$r" "bad QR" "malformed QR refused (400)"
other=$(printf '%s' "$QR" | sed 's/#2@[^,]*,/#2@unknownref,/')
r=$(fakewa_call POST /phone/scan "$(json_qr "$other")" 2>&1)
like "$r" "no open registration connection was given this ref" "unknown ref refused (404)"
noise=$(printf '%s' "$QR" | cut -d, -f2)
badnoise=$(printf '%s' "$QR" | sed "s|,$noise,|,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,|")
r=$(fakewa_call POST /phone/scan "$(json_qr "$badnoise")" 2>&1)
like "$r" "noise key is not the connection" "QR with another noise key refused (409)"
r=$(fakewa_call POST /phone/scan "$(json_qr "$QR" '"forge":"no-such"')" 2>&1)
like "$r" "unknown forge" "unknown forgery refused"
bl end

# ---- QR expiry -----------------------------------------------------------------

fakewa_call POST /config '{"qrRefs":3,"qrFirstMs":600,"qrNextMs":300,"qrGraceMs":100}' >/dev/null
s=$(seq_now)
start "$T/e1" qr=60000
bl next 10000 "#$S" qr
ev=$(fakewa_wait "event=qr-expired&since=$s&timeout_ms=10000")
like "$ev" '"refs":3,"action":"close"' "server: all refs used up, it closes the connection"
ev=$(fakewa_wait "event=closed&since=$s&timeout_ms=5000")
like "$ev" '"stateBefore":"open","by":"server"' "... a close by the server from the open state"
bl next 10000 "#$S" close
like "$R" "close 428 " "Baileys (long QR timer) sees 428 connectionClosed"

start "$T/e2" qr=150
n=0
while bl next 5000 "#$S" qr close; [ "${R%% *}" = qr ]; do n=$((n + 1)); done
is "$n" 3 "Baileys (short QR timer) shows one QR per ref"
like "$R" "close 408 QR refs attempts ended" "... then ends itself with 408 timedOut"

fakewa_call POST /config '{"qrRefs":2,"qrFirstMs":200,"qrNextMs":10000,"qrGraceMs":0}' >/dev/null
start "$T/e3" qr=200
bl next 5000 "#$S" qr
Q1=${R#qr }
bl next 5000 "#$S" qr
Q2=${R#qr }
r=$(fakewa_call POST /phone/scan "$(json_qr "$Q1")" 2>&1)
like "$r" "ref 1 of 2 expired" "scanning a ref past its window is refused"
r=$(fakewa_call POST /phone/scan "$(json_qr "$Q2" '"forge":"bad-hmac"')")
like "$r" '"conn":' "the current ref scans"
bl next 5000 "#$S" close
fakewa_call POST /config '{"qrRefs":6,"qrFirstMs":60000,"qrNextMs":20000,"qrGraceMs":2000}' >/dev/null

# ---- forged pair-success -------------------------------------------------------
# forgery:strict check:Baileys rc14 verdict (accept = it replies and saves creds)

i=0
checks=
set --
for c in \
	bad-hmac:hmac:reject \
	bad-account-sig:account-sig:accept \
	wrong-key-index:key-index:accept \
	bad-details:details-decode:reject \
	hosted-prefix-mismatch:hmac:reject \
	hosted-sig-prefix-mismatch:account-sig:accept \
	account-key-length:account-key-length:accept
do
	kind=${c%%:*}; rest=${c#*:}; check=${rest%%:*}; want=${rest#*:}
	i=$((i + 1))
	start "$T/f$i"
	bl next 10000 "#$S" qr
	QR=${R#qr }
	s=$(seq_now)
	fakewa_call POST /phone/scan "$(json_qr "$QR" "\"forge\":\"$kind\"")" >/dev/null
	fakewa_wait "event=sent&child=pair-success&since=$s&timeout_ms=5000" >"$T/ps$i.json"
	set -- "$@" "$QR" "$T/ps$i.json"
	checks="$checks fail_$check"
	ev=$(fakewa_wait "event=pair-reply&since=$s&timeout_ms=5000")
	case $ev in
	*'"accepted":true'*) got=accept ;;
	*'"accepted":false'*) got=reject ;;
	*) got="?$ev" ;;
	esac
	is "$got" "$want" "$kind: Baileys ${want}s it"
	bl next 10000 "#$S" close
	if [ "$want" = accept ]; then
		like "$R" "close 428 " "$kind: fakewa ends the connection without 515"
		like "$(cat "$T/f$i/creds.json")" '"account"' "$kind: Baileys saved an account from the forgery"
	else
		unlike "$(cat "$T/f$i/creds.json" 2>/dev/null)" '"account"' "$kind: no account saved"
	fi
done
unlike "$(fakewa_call GET /accounts)" '"keyIndex":0' "forged pairings registered no device"
got=$(node "$FW/src/paircheck.mjs" "$@" | cut -d: -f1 | tr ' ' _ | tr '\n' ' ')
is "$got" "${checks# } " "the strict checker rejects each forgery at its own check"

# ---- a genuine hosted-account pair-success ------------------------------------

start "$T/h"
bl next 10000 "#$S" qr
QR=${R#qr }
s=$(seq_now)
fakewa_call POST /phone/scan "$(json_qr "$QR" '"hosted":true')" >/dev/null
fakewa_wait "event=sent&child=pair-success&since=$s&timeout_ms=5000" >"$T/ps.json"
is "$(node "$FW/src/paircheck.mjs" "$QR" <"$T/ps.json")" ok "hosted pair-success (06 05 prefixes) passes the strict checker"
bl next 10000 "#$S" close
like "$R" "close 515 " "Baileys accepts it: reply verified, 515"
bl end

# ---- phone-number code pairing ---------------------------------------------------

NUM=15550002345
start "$T/w"
bl next 10000 "#$S" qr
s=$(seq_now)
bl paircode "$NUM"
like "$R" "code " "Baileys requests a pairing code"
ev=$(fakewa_wait "event=link-code-hello&since=$s&timeout_ms=5000")
like "$ev" "\"ok\":true,\"phone\":\"$NUM\"" "server takes companion_hello"
r=$(fakewa_call POST /phone/link-code '{"code":"ZZZZ-ZZZZ"}')
like "$r" "\"phone\":\"$NUM\"" "the user types a wrong code: the primary still answers"
ev=$(fakewa_wait "event=link-code-finish&since=$s&timeout_ms=10000")
like "$ev" '"ok":false,"reason":"key bundle does not decrypt (wrong code?)"' "... and companion_finish fails to decrypt"
bl end

start "$T/c"
bl next 10000 "#$S" qr
s=$(seq_now)
bl paircode "$NUM"
CODE=${R#code }
is "${#CODE}" 8 "8-character code"
ev=$(fakewa_wait "event=link-code-hello&since=$s&timeout_ms=5000")
like "$ev" '"platformDisplay":"Chrome (Mac OS)","noiseMatches":true,"nonce":"0"' "companion_hello: display, noise key, nonce"
ok "server answers companion_hello with a pairing ref" fakewa_wait "event=sent&child=link_code_companion_reg&since=$s&timeout_ms=5000"
typed=$(printf '%s' "$CODE" | cut -c1-4)-$(printf '%s' "$CODE" | cut -c5-8)
r=$(fakewa_call POST /phone/link-code "{\"code\":\"$(printf '%s' "$typed" | tr 'A-Z' 'a-z')\"}")
like "$r" "\"phone\":\"$NUM\"" "the user types the code (XXXX-XXXX, any case)"
ok "primary's notification sent" fakewa_wait "event=sent&tag=notification&attr.type=link_code_companion_reg&since=$s&timeout_ms=5000"
ev=$(fakewa_wait "event=link-code-finish&since=$s&timeout_ms=10000")
like "$ev" '"ok":true' "companion_finish: key bundle and adv secret check out"
ev=$(fakewa_wait "event=paired&since=$s&timeout_ms=10000")
like "$ev" "\"jid\":\"$NUM:" "code pairing links a device of $NUM"
like "$ev" '"via":"code"' "... via code"
CJID=$(printf '%s' "$ev" | fakewa_field jid)
bl next 10000 "#$S" close
like "$R" "close 515 " "code pairing ends with 515 too"
bl creds
like "$R" '"registered":true' "Baileys marked the folder registered"
start "$T/c"
bl next 10000 "#$S" open close
like "$R" "open $CJID " "the code-paired folder logs in"
ok "... and uploads its pre-keys" fakewa_wait "event=prekeys&ev.jid=$CJID&timeout_ms=10000"
bl end

# ---- state dir ---------------------------------------------------------------------

is "$(stat -c %a "$T/srv/accounts.json")" 600 "accounts.json kept with mode 0600"
fakewa_client_stop
fakewa_stop
fakewa_start --state-dir "$T/srv"
like "$(fakewa_call GET "/accounts/$JID")" '"via":"qr"' "a restarted server remembers the paired device"
fakewa_stop

done_testing

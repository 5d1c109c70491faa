#!/bin/sh
# 3202-heal-identity: a contact reinstalls WhatsApp (issue 12).  Two real
# Baileys peers send to wa-run; then each is removed and paired again from
# a fresh folder on the same number and device (fakewa's POST /phone/scan
# "device": a new identity key on the same Signal address) and sends again.
#   I  the server tells wa (<notification type=encrypt><identity/>,
#      wa-protocol(7) section 12.5): wa-run reports an identity event for
#      the user naming the one session it moved to .wa/quarantine, before
#      the new identity's first pkmsg arrives;
#   J  nobody tells wa ("identityNotify": false): the new identity comes
#      in the pkmsg itself; wa-run trusts it (as Baileys and whatsmeow's
#      default do), reports the identity event for the message and moves
#      the old session to .wa/quarantine.
# For both: the old session file is in .wa/quarantine byte for byte as it
# was, a fresh session replaces it, the new messages are in the inbox with
# status ok (no retry receipt needed), the other peer's session is
# untouched; creds.json keeps its keys, wa-run stays online on one
# connection (no re-pair, no reconnect).
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"
. "$WA_TOP/tests/heal.sh"

recv_setup
recv_wa "$T/a"
PI=15550000071 PJ=15550000072
recv_peer "$T/pi" $PI Ines; SI=$S LI=$PEER_LID DI=$PEER_DEV
recv_peer "$T/pj" $PJ Jona; SJ=$S LJ=$PEER_LID DJ=$PEER_DEV
CREDS0=$(creds_keys "$WA_DIR")
IDKEY0=$(fakewa_call GET "/accounts/$WA_DEV" | fakewa_field identityKey)

# send SOCKET TEXT: to wa, the id in ID
send() {
	bl send "#$1" "$WA_USER" "$2"
	case $R in "sent "*) ID=${R#sent } ;; *) ID=; fail "send $2" "$R" ;; esac
}

# arrives ID DESC: the message event of ID comes, with status ok
arrives() {
	if msg_wait "$1" 60; then
		is "$(msg_field "$1" status)" ok "$2"
	else
		fail "$2" "no message event"
	fi
}

# reinstall DIR PHONE DEV NAME NOTIFY: DEV is removed (its socket ends with
# 401), a fresh Baileys folder DIR pairs as the same device number of PHONE
# and comes online: the new socket in S
reinstall() {
	IDCHG= _dev=${3#*:}
	_dev=${_dev%@*}
	_old=$(fakewa_call GET "/accounts/$3" | fakewa_field identityKey)
	_s0=$(seq_now)
	fakewa_call POST "/accounts/$3/remove" '{}' > /dev/null || fail "$2: device removed"
	start "$1"
	bl next 10000 "#$S" qr
	case $R in qr\ *) ;; *) fail "$2: QR for the new folder" "$R"; return 1 ;; esac
	fakewa_call POST /phone/scan "{\"qr\":\"${R#qr }\",\"phone\":\"$2\",\"device\":$_dev,\"identityNotify\":$5}" |
	    fakewa_field jid > "$T/scan" 2>&1
	is "$(cat "$T/scan")" "${3%%@*}@s.whatsapp.net" "$2: paired again as the same device ($3)"
	bl next 10000 "#$S" close
	case $R in close\ 515*) ;; *) fail "$2: 515 after pairing" "$R"; return 1 ;; esac
	_s1=$(seq_now)
	login "$1" || return 1
	fakewa_wait "event=prekeys&since=$_s1&timeout_ms=10000" > /dev/null || fail "$2: pre-key upload"
	fakewa_wait "event=offline-flushed&since=$_s1&timeout_ms=10000" > /dev/null || fail "$2: active"
	bl online "#$S" "$4"
	_new=$(fakewa_call GET "/accounts/$3" | fakewa_field identityKey)
	ok "$2: a new identity key on the same address" test -n "$_new" -a "$_new" != "$_old"
	IDCHG=$(fakewa_wait "event=identity-changed&since=$_s0&timeout_ms=5000")
	like "$IDCHG" "\"jid\":\"$3\"" "$2: fakewa saw the identity change"
}

# ---- before: both peers have a session with wa ---------------------------
run_start "$WA_DIR"
await_online "wa-run online"
send "$SI" "I before 1"; A1=$ID
send "$SJ" "J before 1"; A2=$ID
send "$SI" "I before 2"; A3=$ID
send "$SJ" "J before 2"; A4=$ID
for i in $A1 $A2 $A3 $A4; do arrives "$i" "message $i before the reinstall: status ok"; done
FI=$(peer_session "$LI") FJ=$(peer_session "$LJ")
ok "I: session $FI" test -s "$WA_DIR/$FI"
ok "J: session $FJ" test -s "$WA_DIR/$FJ"
cp "$WA_DIR/$FI" "$T/fi-old"
cp "$WA_DIR/$FJ" "$T/fj-old"

# ---- I: reinstalled, the server tells wa -----------------------------------
reinstall "$T/pi2" $PI "$DI" Ines true; SI=$S
like "$IDCHG" "\"notified\":[\"$WA_DEV\"]" "I: fakewa notifies wa's device (its only contact)"
expect_event "I: an identity event from the notification" "\"event\":\"identity\".*\"jid\":\"$PI@s.whatsapp.net\"" 20
like "$LINE" '"sessions":1' "I: ... naming one session dropped"
fakewa_wait "event=message-acked&ev.kind=notification&ev.device=$WA_DEV&timeout_ms=10000" > /dev/null &&
    pass "I: wa-run acks the notification" || fail "I: wa-run acks the notification"
q=$(in_quarantine "$FI.*" | head -n 1)
ok "I: the old session is in .wa/quarantine" test -n "$q"
ok "I: ... byte for byte as it was" cmp -s "$q" "$T/fi-old"
ok "I: no session file until the new identity writes" test ! -e "$WA_DIR/$FI"
key_files "$T/k-before"
send "$SI" "I after 1"; B1=$ID
send "$SI" "I after 2"; B2=$ID
arrives "$B1" "I: the first message of the new identity arrives, status ok"
arrives "$B2" "I: the second too"
is "$(retry_count "$B1" "$B2")" 0 "I: no retry receipt needed"
ok "I: a fresh session in its place" test -s "$WA_DIR/$FI"
ok "J: its session untouched" cmp -s "$WA_DIR/$FJ" "$T/fj-old"

# ---- J: reinstalled, nobody tells wa -----------------------------------------
reinstall "$T/pj2" $PJ "$DJ" Jona false; SJ=$S
like "$IDCHG" '"notified":[]' "J: fakewa tells nobody"
ok "J: the old session still in place" cmp -s "$WA_DIR/$FJ" "$T/fj-old"
cp "$WA_DIR/$FI" "$T/fi-new"
send "$SJ" "J after 1"; B3=$ID
send "$SJ" "J after 2"; B4=$ID
arrives "$B3" "J: the first message of the new identity arrives, status ok"
arrives "$B4" "J: the second too"
is "$(retry_count "$B3" "$B4")" 0 "J: no retry receipt needed"
await "\"event\":\"identity\".*\"message\":true" 1 &&
    pass "J: an identity event from the pkmsg" || fail "J: an identity event from the pkmsg"
like "$LINE" "\"jid\":\"$PJ" "J: ... naming J"
q=$(in_quarantine "$FJ.*" | head -n 1)
ok "J: the old session is in .wa/quarantine" test -n "$q"
ok "J: ... byte for byte as it was" cmp -s "$q" "$T/fj-old"
ok "J: a fresh session in its place" sh -c "test -s '$WA_DIR/$FJ' && ! cmp -s '$WA_DIR/$FJ' '$T/fj-old'"
ok "I: its new session untouched by J's change" cmp -s "$WA_DIR/$FI" "$T/fi-new"

# ---- nothing lost, nothing re-paired ---------------------------------------
inbox_index "$INBOX"
is "$(grep -c '	status	ok$' "$IDX")" 8 "8 messages stored, all status ok"
is "$(ids | sort | uniq -d)" "" "none stored twice"
is "$(creds_keys "$WA_DIR")" "$CREDS0" "creds.json: the same keys, registration and account (no re-pair)"
is "$(fakewa_call GET "/accounts/$WA_DEV" | fakewa_field identityKey)" "$IDKEY0" "fakewa: wa's registered identity unchanged"
is "$(grep -c '"event":"online"' "$RUN_EV")" 1 "wa-run stayed on its one connection"
is "$(grep -c '"event":"identity"' "$RUN_EV")" 2 "one identity event per reinstall"
ok "wa-run still running" kill -0 "$RUN_PID"
stop_run
is "$RC" 0 "wa-run exits 0"
done_testing

#!/bin/sh
# 3201-heal-damage: the Baileys damage of the field report (issue 12), end
# to end against real Baileys senders.  With wa-run stopped, wa's folder is
# damaged as a power cut under Baileys leaves it:
#   A  its session file truncated to half its bytes
#   B  its session file empty (0 bytes)
#   C  its session file one ratchet step behind (the copy from before C's
#      last message put back)
#   D  the group's sender key of D removed
# then wa-run starts and each peer in turn sends two messages.  For each:
# both arrive with status ok (after retry round trips), the retry
# receipts for the peer are counted: measured one per message sent before
# the repair took hold (A 2, B 2, D 2 for two messages sent back to back:
# both were encrypted on the old state; C 0: the old chain still derives
# the next message key), asserted at most 2; the broken file is in
# .wa/quarantine (never deleted, byte for byte as found), every other
# peer's session and sender-key files are byte for byte what they were (the peer's own session excepted: D's carries its
# sender-key distribution), creds.json keeps its keys (no re-pair: the same
# device logs in, no pairing).  Fixture sessions of other peers in the
# folder are among the "others".
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"
. "$WA_TOP/tests/heal.sh"

recv_setup
recv_wa "$T/a"
PA=15550000061 PB=15550000062 PC=15550000063 PD=15550000064
recv_peer "$T/pa" $PA Anna; SA=$S LA=$PEER_LID
recv_peer "$T/pb" $PB Bert; SB=$S LB=$PEER_LID
recv_peer "$T/pc" $PC Cleo; SC=$S LC=$PEER_LID
recv_peer "$T/pd" $PD Dora; SD=$S LD=$PEER_LID
recv_group "damage" $PD $WA_PHONE || { done_testing; exit 1; }
CREDS0=$(creds_keys "$WA_DIR")
IDKEY0=$(fakewa_call GET "/accounts/$WA_DEV" | fakewa_field identityKey)

# send SOCKET TO TEXT: the id in ID
send() {
	bl send "#$1" "$2" "$3"
	case $R in "sent "*) ID=${R#sent } ;; *) ID=; fail "send $3" "$R" ;; esac
}

# ---- before the damage: every peer has a session (D a sender key too) ----
run_start "$WA_DIR"
await_online "wa-run online (before the damage)"
send "$SA" "$WA_USER" "A before"; I1=$ID
send "$SB" "$WA_USER" "B before"; I2=$ID
send "$SC" "$WA_USER" "C before 1"; I3=$ID
send "$SD" "$G" "D before"; I4=$ID
for i in $I1 $I2 $I3 $I4; do msg_wait "$i" || fail "message $i before the damage"; done
FA=$(peer_session "$LA") FB=$(peer_session "$LB") FC=$(peer_session "$LC")
FD="sender-key-$G--${LD}_1--2.json"
for f in "$FA" "$FB" "$FC" "$FD"; do
	ok "$f exists" test -s "$WA_DIR/$f"
done
# C one ratchet step behind: the committed copy from before C's next message
cp -p "$WA_DIR/$FC" "$T/c-behind"
send "$SC" "$WA_USER" "C before 2"; I5=$ID
msg_wait "$I5" || fail "C's second message before the damage"
stop_run
is "$RC" 0 "wa-run stopped (SIGTERM, exit 0)"
ok "C's session moved on with its second message" sh -c "! cmp -s '$T/c-behind' '$WA_DIR/$FC'"

# ---- the damage ----------------------------------------------------------
n=$(wc -c < "$WA_DIR/$FA")
head -c $((n / 2)) "$WA_DIR/$FA" > "$T/half" && cat "$T/half" > "$WA_DIR/$FA"
is "$(wc -c < "$WA_DIR/$FA")" $((n / 2)) "A: session truncated to half ($n -> $((n / 2)) bytes)"
cp "$WA_DIR/$FA" "$T/a-broken"
: > "$WA_DIR/$FB"
is "$(wc -c < "$WA_DIR/$FB")" 0 "B: session empty"
cat "$T/c-behind" > "$WA_DIR/$FC"
ok "C: session one step behind" cmp -s "$T/c-behind" "$WA_DIR/$FC"
rm "$WA_DIR/$FD"
ok "D: sender key removed" test ! -e "$WA_DIR/$FD"

# ---- wa-run heals each peer in turn --------------------------------------
# pairings: registration (pairing) connections fakewa saw so far
pairings() {
	fakewa_call GET /connections | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	console.log(JSON.parse(s).connections.filter(c => c.payload && c.payload.pairing).length);
});'
}
PAIRINGS0=$(pairings)
run_start "$WA_DIR"
await_online "wa-run online (after the damage)"
TOTAL=0
# heal WHO SOCKET TO FILE MAXRETRIES: WHO sends two messages; both arrive ok,
# the retry receipts are counted, no other key file changed meanwhile
heal() {
	_w=$1 _s=$2 _to=$3 _f=$4 _max=$5 _f2=${6:-$4}
	key_files "$T/before"
	send "$_s" "$_to" "$_w after 1"; _i1=$ID
	send "$_s" "$_to" "$_w after 2"; _i2=$ID
	for _i in $_i1 $_i2; do
		if msg_wait "$_i" 90; then
			is "$(msg_field "$_i" status)" ok "$_w: message $_i arrives with status ok"
		else
			fail "$_w: message $_i arrives with status ok" "no message event"
		fi
	done
	_n=$(retry_count "$_i1" "$_i2")
	diag "$_w: $_n retry receipt(s) ($(retry_keys "$_i1" "$_i2")) until both messages decrypted"
	ok "$_w: at most $_max retry receipts ($_n)" test "$_n" -le "$_max"
	TOTAL=$((TOTAL + _n))
	key_files "$T/after"
	# every key file but this peer's is byte for byte what it was
	_other=$(join -1 2 -2 2 -a 1 -a 2 -o 0,1.1,2.1 -e none "$T/before" "$T/after" |
	    awk -v f="$_f" -v g="$_f2" '$1 != f && $1 != g && $2 != $3')
	is "$_other" "" "$_w: no other peer's session or sender-key file changed"
}

heal A "$SA" "$WA_USER" "$FA" 2
n=$(in_quarantine "$FA.*" | wc -l)
ok "A: the truncated session is in .wa/quarantine ($n)" test "$n" -ge 1
ok "A: ... whole, as it was found" sh -c "in_q=\$(find '$WA_DIR/.wa/quarantine' -name '$FA.*' | head -n 1); cmp -s \"\$in_q\" '$T/a-broken'"
ok "A: a fresh session in its place" test -s "$WA_DIR/$FA"

heal B "$SB" "$WA_USER" "$FB" 2
n=$(find "$WA_DIR/.wa/quarantine" -name "$FB.*" -size 0 | wc -l)
ok "B: the empty session file is in .wa/quarantine ($n)" test "$n" -ge 1
ok "B: a fresh session in its place" test -s "$WA_DIR/$FB"

heal C "$SC" "$WA_USER" "$FC" 2
ok "C: its session moved on from the old copy" sh -c "! cmp -s '$T/c-behind' '$WA_DIR/$FC'"

heal D "$SD" "$G" "$FD" 2 "$(peer_session "$LD")"
send "$SD" "$G" "D after 3"; I6=$ID
msg_wait "$I6" 60 || fail "D's third message"
is "$(msg_field "$I6" status)" ok "D: the next group message decrypts"
is "$(retry_count "$I6")" 0 "D: ... without a retry (the sender key is back)"
ok "D: a new sender key from D's next distribution (Baileys resends the failed ones 1:1)" test -s "$WA_DIR/$FD"

# ---- nothing lost, nothing re-paired ---------------------------------------
inbox_index "$INBOX"
is "$(grep -c '	status	ok$' "$IDX")" 14 "14 messages stored, all status ok"
is "$(ids | sort | uniq -d)" "" "none stored twice"
is "$(creds_keys "$WA_DIR")" "$CREDS0" "creds.json: the same keys, registration and account (no re-pair)"
is "$(fakewa_call GET "/accounts/$WA_DEV" | fakewa_field identityKey)" "$IDKEY0" "fakewa: the same registered identity"
is "$(pairings)" "$PAIRINGS0" "no pairing connection since the damage"
ok "wa-run still running" kill -0 "$RUN_PID"
diag "retry receipts in all: $TOTAL for 4 damaged peers"
n_rep=$(grep -c "\"event\":\"repaired\"" "$RUN_EV")
ok "repaired events: at least one, at most one per sender ($n_rep)" test "$n_rep" -ge 1 -a "$n_rep" -le 4
stop_run
is "$RC" 0 "wa-run exits 0"
ok "nothing of the damage deleted: quarantine holds A's and B's files" test \
    "$(find "$WA_DIR/.wa/quarantine" -type f \( -name "$FA.*" -o -name "$FB.*" \) | wc -l)" -ge 2
done_testing

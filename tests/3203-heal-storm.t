#!/bin/sh
# 3203-heal-storm: a Bad MAC storm (issue 12).  fakewa's own libsignal
# sender (POST /floods) sends 1,000 messages to wa-run, every one corrupted
# (the corrupt fault, at:"all", only for that sender), while a real Baileys
# peer sends 20 messages at the same time.  The flood sender never answers
# a retry receipt, so each of the 1,000 gets one and, after --retry-wait
# (2s here), is stored undecryptable.  Checked: decrypt_failed is printed
# at most once per sender and class (the lines are counted), and so is
# undecryptable; wa-run's CPU time (utime + stime from /proc) over the
# storm stays under 5 ms per message on the ASan build (measured and
# reported); the peer's 20 messages all arrive with status ok while the
# storm lasts; every one of the 1,000 is stored exactly once
# (undecryptable), none twice, none lost; nothing is left pending in
# .wa/retries.json; the peer's session is untouched by the storm.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"
. "$WA_TOP/tests/heal.sh"

N=1000 GOOD=20 FLOOD=15559990000
recv_setup
recv_wa "$T/a"
recv_peer "$T/pb" 15550000071 Bert; SB=$S
run_start "$WA_DIR" --retry-wait 2s
await_online

# a first message: the peer's session exists before the storm
bl send "#$SB" "$WA_USER" "before"; I0=${R#sent }
msg_wait "$I0" || fail "the peer's first message"
FB=$(ls "$WA_DIR" | grep "^session-$(fakewa_call GET "/accounts/15550000071:2@s.whatsapp.net" | fakewa_field lid | sed 's/:.*//')_1\.2\.json$")

fakewa_call POST /messages/fault "{\"kind\":\"corrupt\",\"device\":\"$WA_DEV\",\"count\":$N,\"at\":\"all\",\"from\":\"$FLOOD\"}" > /dev/null ||
	fail "fault accepted"
CPU0=$(cputicks "$RUN_PID")
T0=$(date +%s%N)
fakewa_call POST /floods "{\"to\":\"$WA_USER\",\"count\":$N,\"phone\":\"$FLOOD\",\"text\":\"storm\"}" > "$T/flood" 9>&- &
FLOOD_PID=$!
echo "$FLOOD_PID" >> "$T/.pids"
bl many "#$SB" "$WA_USER" $GOOD good
case $R in "sent "*) pass "the peer sent $GOOD messages during the storm" ;; *) fail "the peer sent $GOOD messages" "$R" ;; esac
GOOD_IDS=${R#sent }
for i in $GOOD_IDS; do
	msg_wait "$i" 60 || { fail "good message $i"; break; }
done
TG=$(date +%s%N)
wait "$FLOOD_PID"
like "$(cat "$T/flood")" "\"count\":$N" "fakewa routed the flood of $N"

# every flood message ends in the inbox (undecryptable after --retry-wait)
inbox_settle "$INBOX" $((1 + GOOD + N)) 30 || fail "all $((1 + GOOD + N)) messages stored" "$INBOX_N"
T1=$(date +%s%N)
CPU1=$(cputicks "$RUN_PID")
inbox_index "$INBOX"
ok "wa-run still running" kill -0 "$RUN_PID"

good=0
for i in $GOOD_IDS; do
	f=$(by_id "$i")
	[ "$(printf '%s\n' "$f" | grep -c .)" = 1 ] && [ "$(fld "$f" status)" = ok ] && good=$((good + 1))
done
is "$good" "$GOOD" "the peer's $GOOD messages: each stored once, status ok"
diag "the peer's $GOOD messages all arrived $(( (TG - T0) / 1000000 )) ms after the storm began"
ok "... while the storm lasted (before the 1,000 were stored)" test "$TG" -le "$T1"

routed_ids "$WA_DEV" "$FLOOD" > "$T/flood.ids"
is "$(wc -l < "$T/flood.ids" | tr -d ' ')" "$N" "fakewa routed $N flood messages to wa-run"
awk -F '\t' '$2 == "sender" && $3 ~ /^'$FLOOD'[:@]/ { print $1 }' "$IDX" | sort > "$T/flood.files"
is "$(wc -l < "$T/flood.files" | tr -d ' ')" "$N" "$N records from the flood sender"
awk -F '\t' 'NR == FNR { f[$1] = 1; next } $2 == "id" && ($1 in f) { print $3 }' "$T/flood.files" "$IDX" | sort > "$T/stored.ids"
is "$(uniq -d "$T/stored.ids")" "" "none stored twice"
is "$(sort "$T/flood.ids" | comm -3 - "$T/stored.ids")" "" "every routed flood message stored"
awk -F '\t' 'NR == FNR { f[$1] = 1; next } $2 == "status" && ($1 in f) { print $3 }' "$T/flood.files" "$IDX" | sort | uniq -c > "$T/status"
is "$(awk '{ print $2 }' "$T/status" | tr '\n' ' ')" "undecryptable " "all of them undecryptable (no resend ever came)"

# retry receipts: one per flood message (at most 5)
n=$(retry_count $(cat "$T/flood.ids"))
diag "retry receipts for the storm: $n"
ok "at most 5 retry receipts per message ($n for $N)" test "$n" -ge "$N" -a "$n" -le $((5 * N))
ok "nothing pending in .wa/retries.json" sh -c "! grep -q '$FLOOD' '$WA_DIR/.wa/retries.json'"

# bounded events: decrypt_failed and undecryptable once per sender and class
grep '"event":"decrypt_failed"' "$RUN_EV" | grep "\"sender\":\"$FLOOD" > "$T/df"
nd=$(wc -l < "$T/df" | tr -d ' ')
diag "decrypt_failed lines for the flood sender: $nd (by class: $(sed 's/.*"class":"\([^"]*\)".*/\1/' "$T/df" | sort | uniq -c | tr -s ' \n' '  '))"
ok "decrypt_failed printed for the storm ($nd)" test "$nd" -ge 1
is "$(sed 's/.*"class":"\([^"]*\)".*/\1/' "$T/df" | sort | uniq -d)" "" "decrypt_failed at most once per sender and class"
nu=$(grep '"event":"undecryptable"' "$RUN_EV" | grep -c "\"sender\":\"$FLOOD")
ok "undecryptable printed at most once per sender and class ($nu)" test "$nu" -ge 1 -a "$nu" -le 7
ok "the log is bounded too ($(grep -c "$FLOOD" "$RUN_LOG") lines naming the sender)" test "$(grep -c "$FLOOD" "$RUN_LOG")" -le 20

# bounded CPU
TICK=$(getconf CLK_TCK)
us=$(( (CPU1 - CPU0) * 1000000 / TICK / N ))
diag "wa-run CPU over the storm: $(( (CPU1 - CPU0) * 1000 / TICK )) ms for $N + $GOOD messages, $us us per storm message; wall $(( (T1 - T0) / 1000000 )) ms"
ok "CPU per storm message under 5 ms ($us us)" test "$us" -lt 5000

# the peer was not touched by the storm
f=$(ls "$WA_DIR" | grep -c "^$FB$")
is "$f" 1 "the peer's session is in place"
ok "no session of the peer in quarantine" test -z "$(find "$WA_DIR/.wa" -path '*quarantine*' -name "$FB*")"
stop_run
is "$RC" 0 "wa-run exits 0"
done_testing

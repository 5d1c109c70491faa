#!/bin/sh
# 3204-heal-kill9: the retry limit survives kill -9 (issue 12).  A real
# Baileys peer sends a message whose every copy fakewa corrupts (resends
# included); wa-run is killed with SIGKILL right after each retry receipt
# it sends for that message and started again.  The count lives in
# .wa/retries.json: the receipts for the message count up (never start
# over at 1), there are at most 5 of them in all, and the message ends
# stored once, status undecryptable; creds.json keeps its keys.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"
. "$WA_TOP/tests/heal.sh"

recv_setup
recv_wa "$T/a"
recv_peer "$T/pb" 15550000081 Bert; SB=$S
CREDS0=$(creds_keys "$WA_DIR")
run_start "$WA_DIR" --retry-wait 3s
await_online
bl send "#$SB" "$WA_USER" "first"; I0=${R#sent }
msg_wait "$I0" || fail "a first message"

fakewa_call POST /messages/fault "{\"kind\":\"corrupt\",\"device\":\"$WA_DEV\",\"count\":50,\"at\":\"all\"}" > /dev/null ||
	fail "fault accepted"
s0=$(seq_now)
bl send "#$SB" "$WA_USER" "never decrypts"; ID=${R#sent }
kills=0
while [ "$kills" -lt 8 ]; do
	# the next retry receipt wa-run sends for the message
	ev=$(fakewa_wait "event=receipt&ev.type=retry&ev.id=$ID&since=$s0&timeout_ms=8000") || break
	s0=$(printf '%s\n' "$ev" | fakewa_field seq)
	kill -9 "$RUN_PID"
	run_wait
	kills=$((kills + 1))
	run_start "$WA_DIR" --retry-wait 3s
	await_online "wa-run online after kill -9 number $kills"
done
diag "kill -9 after each of $kills retry receipts"
ok "killed between retries at least twice ($kills)" test "$kills" -ge 2

inbox_wait "$INBOX" 2 30 || fail "the message is stored in the end" "$INBOX_N"
inbox_index "$INBOX"
f=$(by_id "$ID")
is "$(printf '%s\n' "$f" | grep -c .)" 1 "stored once"
is "$(fld "$f" status)" undecryptable "status undecryptable"
counts=$(retry_receipts_json | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	console.log(JSON.parse(s).receipts.filter(r => r.type === "retry" && r.ids.includes(process.argv[1]))
	    .map(r => r.retry && r.retry.count).join(" "));
});' "$ID")
diag "retry counts in the receipts, in order: $counts"
n=$(echo $counts | wc -w)
ok "at most 5 retry receipts across $kills kills ($n)" test "$n" -ge 1 -a "$n" -le 5
is "$(echo $counts | tr ' ' '\n' | awk 'NR > 1 && $1 <= p { print "not increasing" } { p = $1 }')" "" \
    "the count never starts over after a kill ($counts)"
ok "nothing pending in .wa/retries.json" sh -c "! grep -q '$ID' '$WA_DIR/.wa/retries.json'"
is "$(creds_keys "$WA_DIR")" "$CREDS0" "creds.json keeps its keys"
stop_run
done_testing

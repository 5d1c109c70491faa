#!/bin/sh
# 3303-send-retry-restart: a peer's retry receipt for one of our messages
# is answered after a kill -9 and a restart of wa-run, from the job kept
# in the outbox's cur/ (wa-protocol(7) 13.4).  fakewa corrupts the stanza
# to the peer's device (its "corrupt" fault); the peer is offline while
# wa-run sends, so the message is acked (sent) and wa-run is killed
# before the peer sees it; the peer comes online, fails to decrypt and
# sends a retry receipt, which waits at the server until wa-run runs
# again.  The restarted wa-run answers it, the peer decrypts the message
# (same id, same text), and the job ends delivered.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"
. "$WA_TOP/tests/send.sh"

recv_setup
recv_wa "$T/a"
OUTBOX=$WA_DIR.outbox
PB=15550000031
BOB=$PB@s.whatsapp.net
recv_peer "$T/b" $PB Bob
SB=$S
run_start "$WA_DIR" -v
await_online

# a first message: the session exists from here on
ID0=$(put '{"to":"'$BOB'","type":"text","text":"first"}')
expect_event "the first message is sent" '"event":"sent".*"id":"'$ID0'"'
peer_next "$SB"
is "$R" "message $ID0 $WA_USER conversation first" "the peer decrypts it"
st_wait "$ID0" delivered || fail "first: delivered"

# the peer goes offline; our next stanza to it will be corrupted
bl end "#$SB"
fakewa_call POST /messages/fault "{\"kind\":\"corrupt\",\"device\":\"$PEER_DEV\",\"count\":1}" > /dev/null ||
    fail "fakewa takes the fault"
ID1=$(put '{"to":"'$BOB'","type":"text","text":"answered after a restart"}')
expect_event "the second message is acked by the server" '"event":"sent".*"id":"'$ID1'"'
kill -9 "$RUN_PID"
run_wait
ok "wa-run is gone (kill -9)" test "$RC" -eq 137
ok "the job waits in cur/ for a retry" sh -c "ls '$OUTBOX/cur' | grep -q '\.$ID1\$'"

# the peer comes back, cannot decrypt, asks again; nobody answers yet
s0=$(seq_now)
login "$T/b" || { done_testing; exit 1; }
SB=$S
fakewa_wait "event=receipt&since=$s0&timeout_ms=20000" > "$T/rcpt" ||
    fail "the peer sends a retry receipt"
like "$(cat "$T/rcpt")" '"retry":' "fakewa saw a retry receipt from the peer"
peer_next "$SB"
matches "$R" "^message $ID1 $WA_USER stub " "the peer could not decrypt the corrupted stanza"

run_start "$WA_DIR" -v
await_online "wa-run online again"
peer_next "$SB" 30
is "$R" "message $ID1 $WA_USER conversation answered after a restart" "the peer decrypts the resend: same id, same text"
st_wait "$ID1" delivered && pass "the job ends delivered" || fail "the job ends delivered" "$(cat "$OUTBOX/status/$ID1.json")"
like "$(cat "$RUN_LOG")" "answered retry 1 for $ID1" "wa-run says it answered retry 1"
peer_next "$SB" 2
is "$R" "timeout" "nothing else reaches the peer"
stop_run
is "$RC" 0 "wa-run stops cleanly"
done_testing

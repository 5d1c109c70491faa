#!/bin/sh
# 3305-send-new-device: wa-run keeps the device lists of its peers in
# memory (wa-protocol(7) 13.1); when a peer links another device the
# server tells its contacts with <notification type=devices> (fakewa:
# devices-changed), wa-run drops that peer's list, and the next message
# reaches the new device too.  Without it the new device would never get
# a copy until wa-run restarted.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"
. "$WA_TOP/tests/send.sh"

recv_setup
PA=15550000050
pair_account "$T/a" $PA || { done_testing; exit 1; }
bl end "#$S"
WA_DIR=$T/a WA_PHONE=$PA WA_USER=$PA@s.whatsapp.net
OUTBOX=$WA_DIR.outbox
PB=15550000051
BOB=$PB@s.whatsapp.net
pair_account "$T/b" $PB || { done_testing; exit 1; }
SB=$S
bl online "#$SB" Bob
run_start "$WA_DIR"
await_online

ID1=$(put '{"to":"'$BOB'","type":"text","text":"before the new device"}')
expect_event "sent" '"event":"sent".*"id":"'$ID1'"'
peer_next "$SB"
is "$R" "message $ID1 $WA_USER conversation before the new device" "Bob's first device decrypts the first message"

# Bob links a second device; wa-run, a contact, is told
since=$(seq_now)
pair_account "$T/b2" $PB || { done_testing; exit 1; }
SB2=$S
bl creds "#$SB2"
like "$R" "\"id\":\"$PB:3@" "Bob's second device (device 3)"
fakewa_wait "event=devices-changed&since=$since&timeout_ms=10000" > "$T/dc"
like "$(cat "$T/dc")" "\"notified\":[\"$PA:2@" "fakewa tells wa-run's device of Bob's new device"
# the notification is acked by wa-run (it reached it): then the next job
i=0
until fakewa_call GET "/log?event=message-acked" | grep -q '"kind":"notification"'; do
	i=$((i + 1)); [ $i -lt 500 ] || break; sleep 0.02
done
ok "wa-run acknowledged the devices notification" fakewa_call GET "/log?event=message-acked" | grep -q '"kind":"notification"'

ID2=$(put '{"to":"'$BOB'","type":"text","text":"after the new device"}')
expect_event "sent" '"event":"sent".*"id":"'$ID2'"'
peer_next "$SB"
is "$R" "message $ID2 $WA_USER conversation after the new device" "Bob's first device decrypts the second message"
peer_next "$SB2"
is "$R" "message $ID2 $WA_USER conversation after the new device" "Bob's new device decrypts it too"
stop_run
is "$RC" 0 "wa-run stops cleanly"
done_testing

#!/bin/sh
# 3301-send-own-device: a message wa-run sends to a peer also goes to our
# own account's other devices as the device-sent copy (wa-protocol(7)
# 13.3): a Baileys companion paired to our account's phone decrypts it as
# our own message (fromMe) in the chat with the peer, with the same id and
# text, while the peer gets the plain message.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"
. "$WA_TOP/tests/send.sh"

recv_setup
# our account: paired through fakewa's phone (an imported folder has no
# account key to sign a second device with), then a second companion of
# the same phone; wa-run runs on the first folder
PA=15550000030
pair_account "$T/a" $PA || { done_testing; exit 1; }
bl end "#$S"
WA_DIR=$T/a WA_PHONE=$PA WA_USER=$PA@s.whatsapp.net
OUTBOX=$WA_DIR.outbox
PB=15550000031
BOB=$PB@s.whatsapp.net
recv_peer "$T/b" $PB Bob
SB=$S
pair_account "$T/own" "$WA_PHONE" || { done_testing; exit 1; }
SO=$S
bl creds "#$SO"
like "$R" "\"id\":\"$WA_PHONE:" "a Baileys companion of our own account"
run_start "$WA_DIR"
await_online

ID1=$(put '{"to":"'$BOB'","type":"text","text":"copy for my other device"}')
expect_event "sent" '"event":"sent".*"id":"'$ID1'"'
peer_next "$SB"
is "$R" "message $ID1 $WA_USER conversation copy for my other device" "the peer decrypts the message"
peer_next "$SO"
is "$R" "message $ID1 $BOB conversation copy for my other device" "our other device decrypts the copy, in the chat with the peer"
is "$(peer_msg "$SO" "$ID1" 'm.key.fromMe')" true "as our own message"
is "$(peer_msg "$SO" "$ID1" 'm.key.remoteJid')" "$BOB" "its chat is the destination of the device-sent copy"
peer_next "$SB" 1
is "$R" timeout "the peer gets no second copy"
stop_run
is "$RC" 0 "wa-run stops cleanly"
done_testing

#!/bin/sh
# 3300-send-peer: wa-run sends the jobs of its outbox to a real Baileys
# peer (1:1, through fakewa): a text, a reply, a reaction, a read receipt
# and a revoke.  Each decrypts in Baileys with the right content (checked
# on the WAMessage Baileys stored); every job ends "sent" in its status
# file and moves from new/ to cur/, with a "sent" event on stdout; the
# peer's delivery and read receipts move the status to delivered and read,
# per device, with "delivered" and "read" events; our read job reaches the
# peer as a read receipt for its message.
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
run_start "$WA_DIR"
await_online
is "$(stat -c %a "$OUTBOX" "$OUTBOX/new" "$OUTBOX/cur" "$OUTBOX/tmp" | sort -u)" 700 "wa-run made the outbox, folders 0700"

# text
ID1=$(put '{"to":"'$BOB'","type":"text","text":"hello Bob, тест 👋"}')
expect_event "text: a sent event" '"event":"sent".*"id":"'$ID1'"'
is "$(jf to)" "$BOB" "text: the sent event names the chat"
peer_next "$SB"
is "$R" "message $ID1 $WA_USER conversation hello Bob, тест 👋" "text: Baileys decrypts it, from us, with our id"
matches "$(st_field "$ID1" state)" "^(sent|delivered)$" "text: status sent (or delivered already)"
st_wait "$ID1" delivered && pass "text: the peer's delivery receipt makes it delivered" || fail "text: delivered"
is "$(st_field "$ID1" 'devices["'$PB':2@s.whatsapp.net"].delivered_ms > 0')" true "text: delivered_ms of the peer's device"
expect_event "text: a delivered event" '"event":"delivered".*"id":"'$ID1'"'
is "$(jf device)" "$PB:2@s.whatsapp.net" "text: the delivered event names the device"
ok "text: the job moved to cur/" sh -c "ls '$OUTBOX/cur' | grep -q '\.$ID1\$' && ! ls '$OUTBOX/new' | grep -q '\.$ID1\$'"
matches "$(st_field "$ID1" sent_ms)" '^[0-9]{13}$' "text: sent_ms"

# the peer reads it
bl read "#$SB" "$ID1"
st_wait "$ID1" read && pass "text: the peer's read receipt makes it read" || fail "text: read"
is "$(st_field "$ID1" 'devices["'$PB':2@s.whatsapp.net"].read_ms > 0')" true "text: read_ms of the peer's device"
expect_event "text: a read event" '"event":"read".*"id":"'$ID1'"'

# a message from the peer, answered with a reply, a reaction, a read receipt
bl send "#$SB" "$WA_USER" "question from Bob"
BID=${R#sent }
inbox_wait "$INBOX" 1 || fail "the peer's message is in the inbox"
ID2=$(put '{"to":"'$BOB'","type":"text","text":"an answer","reply_to":{"id":"'$BID'","participant":"'$BOB'"}}')
expect_event "reply: sent" '"event":"sent".*"id":"'$ID2'"'
peer_next "$SB"
is "$R" "message $ID2 $WA_USER extendedTextMessage an answer" "reply: Baileys decrypts an extended text"
is "$(peer_msg "$SB" "$ID2" 'm.message.extendedTextMessage.contextInfo.stanzaId')" "$BID" "reply: it quotes the peer's message id"
is "$(peer_msg "$SB" "$ID2" 'm.message.extendedTextMessage.contextInfo.participant')" "$BOB" "reply: and its author"

ID3=$(put '{"to":"'$BOB'","type":"reaction","target":{"id":"'$BID'","from_me":false},"emoji":"👍"}')
expect_event "reaction: sent" '"event":"sent".*"id":"'$ID3'"'
peer_next "$SB"
is "$R" "message $ID3 $WA_USER reactionMessage 👍" "reaction: Baileys decrypts the emoji"
is "$(peer_msg "$SB" "$ID3" 'm.message.reactionMessage.key.id')" "$BID" "reaction: on the peer's message"

ID4=$(put '{"to":"'$BOB'","type":"read","ids":["'$BID'"]}')
expect_event "read job: sent (the server acked the receipt)" '"event":"sent".*"id":"'$ID4'"'
# the peer's updates of its message: delivered (our receipt), then read
n=0
while [ $n -lt 5 ]; do
	bl next 10000 "#$SB" update
	case $R in "update $BID READ "*|timeout*) break ;; esac
	n=$((n + 1))
done
matches "$R" "^update $BID READ " "read job: the peer sees its message read"
is "$(st_field "$ID4" state)" "sent" "read job: status sent"

# revoke our first message
ID5=$(put '{"to":"'$BOB'","type":"revoke","target":{"id":"'$ID1'"}}')
expect_event "revoke: sent" '"event":"sent".*"id":"'$ID5'"'
peer_next "$SB"
is "$R" "message $ID5 $WA_USER protocolMessage REVOKE $ID1" "revoke: Baileys decrypts a REVOKE of our first message"

# a job that is not valid fails with the reason, and does not stop the others
printf '{"v":1,"id":"3EB0BROKEN0001","to":"%s","type":"text","created_ms":1}' "$BOB" > "$T/bad"
name=$(date +%s%3N).1_000000.3EB0BROKEN0001
cp "$T/bad" "$OUTBOX/tmp/x" && chmod 600 "$OUTBOX/tmp/x" && mv "$OUTBOX/tmp/x" "$OUTBOX/new/$name"
expect_event "a job without text: send_failed" '"event":"send_failed".*"id":"3EB0BROKEN0001"'
is "$(st_field 3EB0BROKEN0001 state)" failed "its status is failed"
like "$(st_field 3EB0BROKEN0001 error)" "text" "with the reason"
ok "it moved to cur/" test -f "$OUTBOX/cur/$name"
ID6=$(put '{"to":"'$BOB'","type":"text","text":"still sending"}')
expect_event "the next job is sent" '"event":"sent".*"id":"'$ID6'"'
peer_next "$SB"
is "$R" "message $ID6 $WA_USER conversation still sending" "and decrypts"

# the same through wa-send, the tool: --wait returns once the server acked
ID7=$(wa-send -d "$WA_DIR" --wait 30 "+1 555 000-0031" "through wa-send")
is "$?" 0 "wa-send --wait: exit 0 once wa-run sent it"
matches "$ID7" '^3EB0[0-9A-F]{18}$' "wa-send prints the message id"
matches "$(st_state "$ID7")" "^(sent|delivered)$" "its status is sent"
peer_next "$SB"
is "$R" "message $ID7 $WA_USER conversation through wa-send" "Baileys decrypts what wa-send queued"

is "$(ls "$OUTBOX/new" | wc -l)" 0 "nothing left in new/"
is "$(find "$OUTBOX" -type f ! -perm 600 | wc -l)" 0 "every outbox file 0600"
stop_run
is "$RC" 0 "wa-run stops cleanly"
is "$(status_field messages_sent "$WA_DIR")" 7 "status.json: messages_sent"
is "$(status_field outbox_backlog "$WA_DIR")" 0 "status.json: outbox_backlog"
is "$(status_field outbox "$WA_DIR")" "$OUTBOX" "status.json: the outbox"
done_testing

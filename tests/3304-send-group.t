#!/bin/sh
# 3304-send-group: wa-run sends to a group of Baileys members (fakewa's
# POST /groups, LID-addressed).  The members come from the w:g2 metadata
# query, their devices from usync; the first message carries our sender
# key (a SenderKeyDistributionMessage in a pkmsg/msg per device) and the
# text in one skmsg; every member decrypts it.  The devices are recorded in
# Baileys' sender-key-memory-<group>.json only after the server's ack, and
# the second message goes as an skmsg alone.  A member whose copy was
# corrupted sends a retry receipt; the answer (the text and a fresh
# distribution, 1:1) decrypts, and the next group message reaches it too.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"
. "$WA_TOP/tests/send.sh"

recv_setup
recv_wa "$T/a"
OUTBOX=$WA_DIR.outbox
PB=15550000032 PC=15550000033
recv_peer "$T/b" $PB Bob; SB=$S; DB=$PEER_DEV
recv_peer "$T/c" $PC Carol; SC=$S; DC=$PEER_DEV
pair_account "$T/c2" $PC || { done_testing; exit 1; }
SC2=$S
bl online "#$SC2" Carol
PD=15550000034
recv_peer "$T/d" $PD Dave; SD=$S
recv_group "wa group" $WA_PHONE $PB $PC || { done_testing; exit 1; }
run_start "$WA_DIR" -v
await_online

s0=$(seq_now)
ID1=$(put '{"to":"'$G'","type":"text","text":"hello group"}')
expect_event "group: sent" '"event":"sent".*"id":"'$ID1'"'
is "$(jf to)" "$G" "the sent event names the group"
ev=$(fakewa_wait "event=node&tag=message&attr.id=$ID1&since=$s0&timeout_ms=5000")
like "$ev" '"type":"skmsg"' "the stanza carries the text as an skmsg"
ok "and our key to each member's device" sh -c "printf '%s' '$ev' | grep -q '$PB:2@' && printf '%s' '$ev' | grep -q '$PC:2@'"
peer_next "$SB"
matches "$R" "^message $ID1 [^ ]+ conversation hello group$" "Bob decrypts it"
peer_next "$SC"
matches "$R" "^message $ID1 [^ ]+ conversation hello group$" "Carol decrypts it"
peer_next "$SC2"
matches "$R" "^message $ID1 [^ ]+ conversation hello group$" "and Carol's second device"
MEM=$WA_DIR/sender-key-memory-$G.json
ok "sender-key-memory-<group>.json is written" test -f "$MEM"
like "$(cat "$MEM")" "\"$PB:2@s.whatsapp.net\":true" "it names Bob's device"
like "$(cat "$MEM")" "\"$PC:2@s.whatsapp.net\":true" "and Carol's"

s1=$(seq_now)
ID2=$(put '{"to":"'$G'","type":"text","text":"second"}')
expect_event "second: sent" '"event":"sent".*"id":"'$ID2'"'
ev=$(fakewa_wait "event=node&tag=message&attr.id=$ID2&since=$s1&timeout_ms=5000")
like "$ev" '"type":"skmsg"' "the second message is an skmsg"
unlike "$ev" "$PB:2@" "without a distribution to Bob (he has our key)"
peer_next "$SB"
matches "$R" "^message $ID2 [^ ]+ conversation second$" "Bob decrypts the second"
peer_next "$SC"
matches "$R" "^message $ID2 [^ ]+ conversation second$" "Carol decrypts the second"

# Bob's copy of the third is corrupted: his retry is answered 1:1 with
# the text and a fresh distribution
fakewa_call POST /messages/fault "{\"kind\":\"corrupt\",\"device\":\"$DB\",\"count\":1}" > /dev/null
ID3=$(put '{"to":"'$G'","type":"text","text":"third"}')
expect_event "third: sent" '"event":"sent".*"id":"'$ID3'"'
peer_next "$SC"
matches "$R" "^message $ID3 [^ ]+ conversation third$" "Carol decrypts the third"
peer_next "$SB"
matches "$R" "^message $ID3 [^ ]+ stub " "Bob cannot (corrupted)"
peer_next "$SB" 30
matches "$R" "^message $ID3 [^ ]+ conversation third$" "Bob decrypts the answer to his retry"
like "$(cat "$RUN_LOG")" "answered retry 1 for $ID3" "wa-run answered the retry"
ID4=$(put '{"to":"'$G'","type":"text","text":"fourth"}')
expect_event "fourth: sent" '"event":"sent".*"id":"'$ID4'"'
peer_next "$SB"
matches "$R" "^message $ID4 [^ ]+ conversation fourth$" "Bob decrypts the next group message"
peer_next "$SC"
matches "$R" "^message $ID4 [^ ]+ conversation fourth$" "and Carol"
k=0
while [ $k -lt 3 ]; do peer_next "$SC2"; k=$((k + 1)); done
is "$(printf '%s' "$R" | cut -d' ' -f2,4-)" "$ID4 conversation fourth" "Carol's second device decrypts second, third, fourth"

# Dave joins; the next message carries our key to him
fakewa_call POST /groups/add "{\"jid\":\"$G\",\"participants\":[\"$PD@s.whatsapp.net\"]}" > /dev/null ||
    fail "fakewa adds Dave"
peer_next "$SD" 1
is "$R" timeout "Dave saw nothing before he joined"
ID5=$(put '{"to":"'$G'","type":"text","text":"welcome Dave"}')
expect_event "fifth: sent" '"event":"sent".*"id":"'$ID5'"'
peer_next "$SD"
matches "$R" "^message $ID5 [^ ]+ conversation welcome Dave$" "Dave, added later, decrypts it"
like "$(cat "$MEM")" "\"$PD:2@s.whatsapp.net\":true" "and is in sender-key-memory"
stop_run
is "$RC" 0 "wa-run stops cleanly"
done_testing

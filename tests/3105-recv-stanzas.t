#!/bin/sh
# 3105-recv-stanzas: what else arrives on the connection, pushed by fakewa
# (POST /push) to wa-run, each answered as wa-protocol(7) §11.5-§11.7 say:
#   <notification type=server_sync>      ack class=notification, type copied
#   <receipt type=read> for a message wa never sent
#                                        ack class=receipt, type copied
#   <call><offer/></call>                ack class=call
#   <message> without from               ack class=message error=487
#   <message> without id                 nothing to ack; wa-run goes on
#   <message> whose only <enc> has an unknown type
#                                        ack class=message error=488
#   <message> with garbled ciphertext (msg on the peer's real session, and
#   a pkmsg)                             stored once with status
#                                        undecryptable and a reason, its
#                                        receipt sent; an undecryptable event
#   <notification type=encrypt><identity/> for a contact the folder has a
#   session with                         ack class=notification type=encrypt;
#                                        the identity event names the user;
#                                        its session files leave the folder
# wa-run never crashes or disconnects meanwhile (one login), and the peer's
# next real message still arrives and decrypts (its session was not harmed
# by the garbled one).
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"

recv_setup
recv_wa "$T/a"
PB=15550000038
recv_peer "$T/b" $PB Bob; SB=$S
run_start "$WA_DIR" --retry-wait 2s
await_online

C=$(wa_conn)
matches "$C" '^[0-9]+$' "wa-run's connection at fakewa"
NOW=$(date +%s)

# push JSON: one node to wa-run
push() {
	fakewa_call POST /push "{\"conn\":$C,\"node\":$1}" > /dev/null || fail "push $1"
}
# ack_of ID: the ack wa-run sent for stanza ID (the node event), in ACK
ack_of() {
	ACK=$(fakewa_wait "event=node&conn=$C&tag=ack&attr.id=$1&timeout_ms=10000" 2> /dev/null)
}

push "{\"tag\":\"notification\",\"attrs\":{\"id\":\"N1\",\"from\":\"s.whatsapp.net\",\"type\":\"server_sync\",\"t\":\"$NOW\"},\"content\":[{\"tag\":\"collection\",\"attrs\":{\"name\":\"regular\",\"version\":\"7\"}}]}"
ack_of N1
like "$ACK" '"class":"notification"' "notification: ack class=notification"
like "$ACK" '"type":"server_sync"' "notification: type copied"
like "$ACK" '"to":"s.whatsapp.net"' "notification: to the sender"

push "{\"tag\":\"receipt\",\"attrs\":{\"id\":\"3EB0AAAAAAAAAAAAAAAAAA\",\"from\":\"$PEER_DEV\",\"type\":\"read\",\"t\":\"$NOW\"}}"
ack_of 3EB0AAAAAAAAAAAAAAAAAA
like "$ACK" '"class":"receipt"' "receipt for a message never sent: ack class=receipt"
like "$ACK" '"type":"read"' "receipt: type copied"
like "$ACK" "\"to\":\"$PEER_DEV\"" "receipt: to the sender"

push "{\"tag\":\"call\",\"attrs\":{\"id\":\"CALL1\",\"from\":\"$PEER_DEV\",\"t\":\"$NOW\"},\"content\":[{\"tag\":\"offer\",\"attrs\":{\"call-id\":\"ABCDEF0123456789\",\"call-creator\":\"$PEER_DEV\"}}]}"
ack_of CALL1
like "$ACK" '"class":"call"' "call offer: ack class=call"
like "$ACK" "\"to\":\"$PEER_DEV\"" "call offer: to the caller"

ENC='{"base64":"MwgBEiEFAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}'
push "{\"tag\":\"message\",\"attrs\":{\"id\":\"NOFROM1\",\"t\":\"$NOW\",\"type\":\"text\"},\"content\":[{\"tag\":\"enc\",\"attrs\":{\"v\":\"2\",\"type\":\"msg\"},\"content\":$ENC}]}"
ack_of NOFROM1
like "$ACK" '"class":"message"' "message without from: ack class=message"
like "$ACK" '"error":"487"' "message without from: error 487"

# no id: nothing to acknowledge it by; wa-run goes on (checked at the end)
push "{\"tag\":\"message\",\"attrs\":{\"from\":\"$PEER_DEV\",\"t\":\"$NOW\",\"type\":\"text\"},\"content\":[{\"tag\":\"enc\",\"attrs\":{\"v\":\"2\",\"type\":\"msg\"},\"content\":$ENC}]}"

push "{\"tag\":\"message\",\"attrs\":{\"id\":\"UNKENC1\",\"from\":\"$PEER_DEV\",\"t\":\"$NOW\",\"type\":\"text\"},\"content\":[{\"tag\":\"enc\",\"attrs\":{\"v\":\"2\",\"type\":\"frob\"},\"content\":$ENC}]}"
ack_of UNKENC1
like "$ACK" '"class":"message"' "unknown enc type: ack class=message"
like "$ACK" '"error":"488"' "unknown enc type: error 488"

# a first real message: wa-run and Bob have a session
bl send "#$SB" "$WA_USER" "before"
ID0=${R#sent }
if inbox_wait "$INBOX" 1 60; then pass "Bob's first message stored"; else
	fail "Bob's first message stored" "fakewa delivered $(delivered_to "$WA_DEV") stanzas to wa-run"
	stop_run; done_testing; exit 1
fi

# garbled: a msg on Bob's real session, and a pkmsg
G1=3EB0BAD0000000000000001 G2=3EB0BAD0000000000000002
push "{\"tag\":\"message\",\"attrs\":{\"id\":\"$G1\",\"from\":\"$PEER_DEV\",\"sender_lid\":\"$PEER_LID:2@lid\",\"notify\":\"Bob\",\"t\":\"$NOW\",\"type\":\"text\"},\"content\":[{\"tag\":\"enc\",\"attrs\":{\"v\":\"2\",\"type\":\"msg\"},\"content\":$ENC}]}"
push "{\"tag\":\"message\",\"attrs\":{\"id\":\"$G2\",\"from\":\"$PEER_DEV\",\"sender_lid\":\"$PEER_LID:2@lid\",\"notify\":\"Bob\",\"t\":\"$NOW\",\"type\":\"text\"},\"content\":[{\"tag\":\"enc\",\"attrs\":{\"v\":\"2\",\"type\":\"pkmsg\"},\"content\":{\"base64\":\"MwhkEiEF/////////////////////////////////////////wA=\"}}]}"
# not decrypted: a retry receipt (self-healing, wa-run(1)), no delivery
# receipt, no ack; Bob (the real Baileys) cannot resend what he never sent,
# so after --retry-wait each is stored undecryptable with its class
for g in $G1 $G2; do
	r=$(fakewa_wait "event=node&conn=$C&tag=receipt&attr.id=$g&attr.type=retry&timeout_ms=10000")
	case $r in *'"event":"node"'*) pass "garbled $g: a retry receipt" ;;
	*) fail "garbled $g: a retry receipt" "$r" ;; esac
	case $r in *'"tag":"registration"'*) pass "garbled $g: with our registration id" ;;
	*) fail "garbled $g: with our registration id" "$r" ;; esac
done
inbox_wait "$INBOX" 3 30
inbox_index "$INBOX"
for g in $G1 $G2; do
	f=$(by_id "$g")
	is "$(printf '%s\n' "$f" | grep -c .)" 1 "garbled $g: stored once"
	is "$(fld "$f" status)" undecryptable "garbled $g: status undecryptable"
	matches "$(fld "$f" reason)" "[a-z]" "garbled $g: a reason ($(fld "$f" reason))"
	like "$(fld "$f" detail)" "no answer to retry" "garbled $g: stored when the sender did not answer"
	is "$(fld "$f" chat)" "$PB@s.whatsapp.net" "garbled $g: chat is Bob"
	r=$(fakewa_call GET "/log?event=node&conn=$C" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	const ev = JSON.parse(s).events || [];
	console.log(ev.filter(e => e.node && e.node.attrs.id === process.argv[1] &&
	    (e.node.tag === "ack" || (e.node.tag === "receipt" && e.node.attrs.type !== "retry"))).length); });' "$g")
	is "$r" 0 "garbled $g: no delivery receipt and no ack"
done
expect_event "an undecryptable event" '"event":"undecryptable"' 10

# an identity change of a contact the folder has sessions with
ls "$WA_DIR" | sed -n 's/^session-\([0-9]*\)\.[0-9]*\.json$/\1/p' | sort -u | head -n 1 > "$T/contact"
U=$(cat "$T/contact")
matches "$U" '^[0-9]+$' "the folder has a session with contact $U"
push "{\"tag\":\"notification\",\"attrs\":{\"id\":\"IDN1\",\"from\":\"$U@s.whatsapp.net\",\"type\":\"encrypt\",\"t\":\"$NOW\"},\"content\":[{\"tag\":\"identity\",\"attrs\":{}}]}"
ack_of IDN1
like "$ACK" '"class":"notification"' "identity notification: ack class=notification"
like "$ACK" '"type":"encrypt"' "identity notification: type encrypt"
expect_event "the identity event" '"event":"identity"' 10
like "$LINE" "$U" "the identity event names the contact"
is "$(ls "$WA_DIR" | grep -c "^session-$U\.")" 0 "the contact's sessions left the folder"

# still the same connection, and a real message arrives and decrypts
bl send "#$SB" "$WA_USER" "after"
ID1=${R#sent }
inbox_wait "$INBOX" 4 30
inbox_index "$INBOX"
f=$(by_id "$ID1")
is "$(fld "$f" status)/$(fld "$f" text)" "ok/after" "Bob's next message decrypts"
is "$(wa_conn)" "$C" "the same connection all along"
is "$(grep -c '"event":"disconnect"' "$RUN_EV")" 0 "no disconnect"
is "$(inbox_count "$INBOX")" 4 "four records: before, two garbled, after"
kill -0 "$RUN_PID" && pass "wa-run alive" || fail "wa-run alive"
stop_run
is "$RC" 0 "SIGTERM: exit 0"
done_testing

#!/bin/sh
# 0203-fakewa-router: fakewa routes a 1:1 message between two real Baileys
# clients paired through the fakewa phone as two accounts: usync device
# lists and LIDs, pre-key bundle fetch (one pre-key consumed), the server
# ack to the sender, delivery with from/sender_lid/notify/t, the receiver's
# receipt acking the stanza and relayed to the sender (DELIVERY_ACK, READ
# not asked), GET /messages and /receipts; then the offline queue: 20
# messages to a stopped client arrive in order, once, with offline="1" and
# <ib><offline count="20"/>, its receipts empty the queue; a stanza the
# receiver never acked (its key store hangs, then kill -9) is redelivered
# on reconnect and decrypted then.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
trap '' PIPE

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
fakewa_client_start
on_exit fakewa_client_stop
. "$WA_TOP/tests/fakewa-router.sh"

PA=15550000001 PB=15550000002
pair_account "$T/a" $PA && SA=$S
pair_account "$T/b" $PB && SB=$S
LIDA=$(fakewa_call GET "/accounts/$PA@s.whatsapp.net" | fakewa_field lid); LIDA=${LIDA%%:*}
LIDB=$(fakewa_call GET "/accounts/$PB@s.whatsapp.net" | fakewa_field lid); LIDB=${LIDB%%:*}
bl online "#$SA" Alice; is "$R" ok "A goes online as Alice"
bl online "#$SB" Bob; is "$R" ok "B goes online as Bob"
fakewa_wait "event=presence&ev.name=Bob&timeout_ms=5000" >/dev/null || fail "presence of Bob recorded"

# ---- 1:1 text --------------------------------------------------------------------

s=$(seq_now)
bl send "#$SA" "$PB@s.whatsapp.net" hello Bob
ID=${R#sent }
like "$R" 'sent 3EB0' "A sends a text to B"
ev=$(fakewa_wait "event=usync&since=$s&timeout_ms=10000")
like "$ev" "\"jid\":\"$PB@s.whatsapp.net\",\"devices\":[2]" "usync: B's device 2 (the phone has no Signal identity)"
ev=$(fakewa_wait "event=bundle&ev.ok=true&since=$s&timeout_ms=10000")
like "$ev" "\"jid\":\"$LIDB:2@lid\"" "pre-key bundle fetched for B's LID device"
like "$ev" '"preKeyId":1,' "... with B's first one-time pre-key"
bl next 10000 "#$SB" message
is "$R" "message $ID $PA@s.whatsapp.net extendedTextMessage hello Bob" "B's Baileys decrypts it: right id, sender and text"
ev=$(fakewa_wait "event=sent&tag=ack&attr.id=$ID&since=$s&timeout_ms=5000")
like "$ev" '"class":"message"' "the sender got the server's <ack class=message>"
like "$ev" "\"from\":\"$PB@s.whatsapp.net\"" "... from the chat"
ev=$(fakewa_wait "event=sent&tag=message&attr.id=$ID&since=$s&timeout_ms=5000")
like "$ev" "\"from\":\"$PA:2@s.whatsapp.net\"" "delivered from A's device"
like "$ev" "\"sender_lid\":\"$LIDA@lid\"" "... with sender_lid"
like "$ev" '"notify":"Alice"' "... and A's push name"
like "$ev" '"type":"pkmsg"' "... carrying a pkmsg"
like "$ev" '"tag":"device-identity"' "... and A's device identity"
ev=$(fakewa_wait "event=message-acked&ev.id=$ID&since=$s&timeout_ms=10000")
like "$ev" '"via":"receipt"' "B's delivery receipt acks the stanza"
bl next 10000 "#$SA" update
is "$R" "update $ID DELIVERY_ACK $PB:2@s.whatsapp.net" "A sees the delivery receipt (from B's device)"
r=$(fakewa_call GET "/receipts?id=$ID")
like "$r" "\"device\":\"$PB:2@s.whatsapp.net\"" "/receipts: B's receipt"
like "$r" '"allStored":true' "... for a message B had received"
like "$r" "\"relayedTo\":[\"$PA:2@s.whatsapp.net\"]" "... relayed to A's device"
m=$(fakewa_call GET "/messages?id=$ID")
like "$m" '"state":"acked"' "/messages: the stanza is acked"
like "$(fakewa_call GET "/accounts/$PB:2@s.whatsapp.net/prekeys")" '"taken":1,' "one of B's pre-keys consumed"

s=$(seq_now)
bl send "#$SB" "$PA@s.whatsapp.net" hi Alice
ID2=${R#sent }
bl next 10000 "#$SA" message
is "$R" "message $ID2 $PB@s.whatsapp.net extendedTextMessage hi Alice" "B answers, A decrypts"
ev=$(fakewa_wait "event=sent&tag=message&attr.id=$ID2&since=$s&timeout_ms=5000")
like "$ev" '"type":"msg"' "... a msg on the session A started"

# ---- 1:1 to a LID JID: LID addressing -------------------------------------------------------

s=$(seq_now)
bl send "#$SA" "$LIDB@lid" to your LID
IDL=${R#sent }
bl next 10000 "#$SB" message
is "$R" "message $IDL $LIDA@lid extendedTextMessage to your LID" "A writes to B's LID: B decrypts, chat = A's LID"
ev=$(fakewa_wait "event=sent&tag=message&attr.id=$IDL&since=$s&timeout_ms=5000")
like "$ev" "\"from\":\"$LIDA:2@lid\"" "... delivered from A's LID device"
like "$ev" "\"sender_pn\":\"$PA@s.whatsapp.net\"" "... with sender_pn"

# ---- offline queue -------------------------------------------------------------------

bl end "#$SB"
s=$(seq_now)
i=1; IDS=
while [ $i -le 20 ]; do
	bl send "#$SA" "$PB@s.whatsapp.net" "offline $i"
	IDS="$IDS ${R#sent }"
	i=$((i + 1))
done
fakewa_wait "event=message-routed&ev.id=${R#sent }&since=$s&timeout_ms=10000" >/dev/null || fail "20th routed"
p=$(fakewa_call GET "/messages?device=$PB:2@s.whatsapp.net&state=queued" | grep -o '"kind":"message"' | wc -l)
is "$p" 20 "20 stanzas queued for B while it is offline"
is "$(fakewa_call GET "/log?since=$s&event=message-delivered" | grep -c message-delivered)" 0 "... none delivered"

s=$(seq_now)
login "$T/b" && SB=$S
got=
i=1
while [ $i -le 20 ]; do
	bl next 15000 "#$SB" message
	case $R in message\ *) got="$got ${R#message }|" ;; *) diag "after $((i - 1)): $R"; break ;; esac
	i=$((i + 1))
done
want=
i=1
for id in $IDS; do want="$want $id $PA@s.whatsapp.net extendedTextMessage offline $i|"; i=$((i + 1)); done
is "$got" "$want" "B gets all 20, in order"
bl next 1500 "#$SB" message
is "$R" timeout "... and each once"
ev=$(fakewa_wait "event=sent&tag=ib&child=offline_preview&since=$s&timeout_ms=5000")
like "$ev" '"count":"20","message":"20","receipt":"0"' "<ib><offline_preview> before the backlog"
like "$(fakewa_wait "event=node&tag=ib&child=offline_batch&since=$s&timeout_ms=5000")" '"count":"100"' "... Baileys answers <offline_batch count=100>"
ev=$(fakewa_wait "event=sent&tag=ib&child=offline&since=$s&timeout_ms=5000")
like "$ev" '"count":"20"' "<ib><offline count=20> after the backlog"
n=$(fakewa_call GET "/log?since=$s&event=message-delivered" | grep -o '"offline":true' | wc -l)
is "$n" 20 "the 20 went out with offline=1"
fakewa_wait "event=message-acked&ev.id=${IDS##* }&since=$s&timeout_ms=10000" >/dev/null || fail "last one acked"
wait_pending "$PB:2@s.whatsapp.net" 0
is "$PENDING" 0 "B's receipts empty its queue"

# ---- unacked before kill -9: redelivered -------------------------------------------------

bl hold "#$SB"; is "$R" ok "B's key store hangs from now on"
s=$(seq_now)
bl send "#$SA" "$PB@s.whatsapp.net" never acked
IDH=${R#sent }
ev=$(fakewa_wait "event=message-delivered&ev.id=$IDH&since=$s&timeout_ms=10000")
like "$ev" '"offline":false' "delivered live to B"
is "$(fakewa_call GET "/log?since=$s&event=message-acked" | grep -c "\"id\":\"$IDH\"")" 0 "... and not acked"
kill -9 "$FAKEWA_CLIENT_PID"
fakewa_client_stop
fakewa_client_start
login "$T/a" && SA=$S
s=$(seq_now)
login "$T/b" && SB=$S
ev=$(fakewa_wait "event=message-delivered&ev.id=$IDH&since=$s&timeout_ms=10000")
like "$ev" '"redelivery":true' "after kill -9 and reconnect: redelivered"
like "$ev" '"offline":true' "... from the queue"
bl next 10000 "#$SB" message
is "$R" "message $IDH $PA@s.whatsapp.net extendedTextMessage never acked" "... and decrypted now"
fakewa_wait "event=message-acked&ev.id=$IDH&since=$s&timeout_ms=10000" >/dev/null
wait_pending "$PB:2@s.whatsapp.net" 0
is "$PENDING" 0 "... and acked"

# ---- the queue survives a fakewa restart (--state-dir) ----------------------------------------

bl end "#$SB"
s=$(seq_now)
bl send "#$SA" "$PB@s.whatsapp.net" across a restart
IDR=${R#sent }
fakewa_wait "event=message-routed&ev.id=$IDR&since=$s&timeout_ms=10000" >/dev/null || fail "routed before the restart"
r=$(fakewa_call GET /receipts)
is "$(printf '%s' "$r" | grep -o '"allStored":false' | wc -l)" 0 "every receipt names messages the receiver had been sent"
fakewa_client_stop
fakewa_stop
fakewa_start --state-dir "$T/srv" || { fail "fakewa restarts"; done_testing; exit 1; }
fakewa_client_start
login "$T/a" && SA=$S
like "$(fakewa_call GET "/messages?id=$IDR")" '"state":"queued"' "after a restart the stanza is still queued"
login "$T/b" && SB=$S
bl next 10000 "#$SB" message
is "$R" "message $IDR $PA@s.whatsapp.net extendedTextMessage across a restart" "... and reaches B"
wait_pending "$PB:2@s.whatsapp.net" 0
is "$PENDING" 0 "... acked"

# ---- a flood from fakewa's own Signal sender ------------------------------------------------

s=$(seq_now)
r=$(fakewa_call POST /floods "{\"to\":\"$PB@s.whatsapp.net\",\"count\":50}")
like "$r" "\"devices\":[\"$PB:2@s.whatsapp.net\"]" "POST /floods: 50 messages to B's device"
FROM=$(printf '%s' "$r" | fakewa_field from)
# Baileys hands messages to its app in the order its own async handlers
# finish, which under load is not the order they arrived in (seen: "flood
# 8" first on a loaded machine), so the app side checks the set; the
# router's order is 0203's offline test above (20 in order).
got=0 bad=
: > "$T/flood.got"
while [ $got -lt 50 ]; do
	bl next 10000 "#$SB" message
	case $R in
	"message "*" ${FROM%%:*}@s.whatsapp.net conversation flood "*) got=$((got + 1)); echo "${R##* }" >> "$T/flood.got" ;;
	*) bad="$R"; break ;;
	esac
done
is "$got$bad" "50" "B decrypts all 50"
is "$(sort -n "$T/flood.got" | uniq | wc -l | tr -d ' ')" 50 "... each once (1..50, none twice)"
wait_pending "$PB:2@s.whatsapp.net" 0
is "$PENDING" 0 "... and acks them"

# ---- every receipt belongs to a message its sender had received ---------------------------
r=$(fakewa_call GET /receipts)
is "$(printf '%s' "$r" | grep -o '"allStored":false' | wc -l)" 0 "every receipt names messages the receiver had been sent"

done_testing

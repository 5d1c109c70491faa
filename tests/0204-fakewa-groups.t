#!/bin/sh
# 0204-fakewa-groups: a group of A, B and C (C with two devices) made with
# POST /groups: Baileys' w:g2 metadata query answered, A's group text fanned
# out to every participant device with the SKDM in <participants> and the
# shared skmsg, decrypted by all three devices; the second text is skmsg
# only; B answers in the group; group receipts reach A.  And C's own second
# device: C1's 1:1 text to A arrives at C2 as from=C1 recipient=A and is
# unwrapped from the DSM.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
trap '' PIPE

fakewa_start || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
fakewa_client_start
on_exit fakewa_client_stop
. "$WA_TOP/tests/fakewa-router.sh"

PA=15550000011 PB=15550000012 PC=15550000013
pair_account "$T/a" $PA && SA=$S
pair_account "$T/b" $PB && SB=$S
pair_account "$T/c1" $PC && SC1=$S
pair_account "$T/c2" $PC && SC2=$S
like "$(fakewa_call GET "/accounts/$PC@s.whatsapp.net")" "\"jid\":\"$PC:3@s.whatsapp.net\"" "C has a second device"
for x in "$SA Alice" "$SB Bob" "$SC1 Carol" "$SC2 Carol"; do
	bl online "#${x% *}" "${x#* }"
done
lid() { fakewa_call GET "/accounts/$1:2@s.whatsapp.net" | fakewa_field lid | sed 's/:.*//'; }
LIDA=$(lid $PA)

r=$(fakewa_call POST /groups "{\"subject\":\"fakewa group\",\"participants\":[\"$PB@s.whatsapp.net\",\"$PC@s.whatsapp.net\"],\"owner\":\"$PA@s.whatsapp.net\"}")
G=$(printf '%s' "$r" | fakewa_field jid)
like "$G" "@g.us" "POST /groups makes a group JID"

s=$(seq_now)
bl send "#$SA" "$G" hello group
ID=${R#sent }
like "$R" "sent 3EB0" "A sends a group text"
like "$(fakewa_wait "event=group-query&since=$s&timeout_ms=5000")" '"known":true' "Baileys' group metadata query answered"
ev=$(fakewa_wait "event=message-routed&ev.id=$ID&since=$s&timeout_ms=10000")
like "$ev" "\"devices\":[\"$PB:2@s.whatsapp.net\",\"$PC:2@s.whatsapp.net\",\"$PC:3@s.whatsapp.net\"]" "fanned out to B and C's two devices"
for x in "$SB B" "$SC1 C1" "$SC2 C2"; do
	bl next 10000 "#${x% *}" message
	is "$R" "message $ID $LIDA@lid extendedTextMessage hello group" "${x#* } decrypts A's group text"
done
ev=$(fakewa_wait "event=sent&tag=message&attr.id=$ID&since=$s&timeout_ms=5000")
like "$ev" "\"from\":\"$G\",\"participant\":\"$LIDA:2@lid\"" "delivered from the group, participant = A's LID device"
like "$ev" "\"participant_pn\":\"$PA@s.whatsapp.net\"" "... with participant_pn"
like "$ev" '"type":"pkmsg"' "... the SKDM as a pkmsg"
like "$ev" '"type":"skmsg"' "... and the shared skmsg"
bl next 10000 "#$SA" receipt
like "$R" "receipt $ID " "A gets a group delivery receipt"

s=$(seq_now)
bl send "#$SA" "$G" second
ID2=${R#sent }
for x in "$SB B" "$SC1 C1" "$SC2 C2"; do
	bl next 10000 "#${x% *}" message
	is "$R" "message $ID2 $LIDA@lid extendedTextMessage second" "${x#* } decrypts the second"
done
ev=$(fakewa_wait "event=sent&tag=message&attr.id=$ID2&since=$s&timeout_ms=5000")
case $ev in *pkmsg*|*'"type":"msg"'*) fail "second group text is skmsg only" "$ev" ;; *skmsg*) pass "second group text is skmsg only" ;; *) fail "second group text is skmsg only" "$ev" ;; esac

LIDB=$(lid $PB)
bl send "#$SB" "$G" "B here"
ID3=${R#sent }
for x in "$SA A" "$SC1 C1" "$SC2 C2"; do
	bl next 10000 "#${x% *}" message
	is "$R" "message $ID3 $LIDB@lid extendedTextMessage B here" "${x#* } decrypts B's group text"
done

# ---- our own other device: recipient + DSM -----------------------------------------
s=$(seq_now)
bl send "#$SC1" "$PA@s.whatsapp.net" "from C1"
ID4=${R#sent }
bl next 10000 "#$SA" message
is "$R" "message $ID4 $PC@s.whatsapp.net extendedTextMessage from C1" "A gets C1's 1:1 text"
bl next 10000 "#$SC2" message
is "$R" "message $ID4 $PA@s.whatsapp.net extendedTextMessage from C1" "C2 gets it too, unwrapped from the DSM, chat = A"
ev=$(fakewa_wait "event=sent&tag=message&attr.id=$ID4&attr.recipient=$PA@s.whatsapp.net&since=$s&timeout_ms=5000")
like "$ev" "\"from\":\"$PC:2@s.whatsapp.net\"" "... delivered to C2 as from=C1, recipient=A"
bl msg "#$SC2" "$ID4"
like "$R" '"fromMe":true' "... C2's Baileys marks it fromMe"
ev=$(fakewa_wait "event=receipt&ev.id=$ID4&ev.type=sender&since=$s&timeout_ms=5000")
like "$ev" "\"device\":\"$PC:3@s.whatsapp.net\"" "C2 answers with a sender receipt"
like "$ev" "\"to\":null,\"participant\":null,\"recipient\":\"$PA@s.whatsapp.net\"" "... without to, recipient = A (Baileys' shape)"

r=$(fakewa_call GET /receipts)
is "$(printf '%s' "$r" | grep -o '"allStored":false' | wc -l)" 0 "every receipt names messages the receiver had been sent"
wait_pending "$PB:2@s.whatsapp.net" 0; is "$PENDING" 0 "B acked everything"
wait_pending "$PC:3@s.whatsapp.net" 0; is "$PENDING" 0 "C2 acked everything"

done_testing

#!/bin/sh
# 0205-fakewa-message-kinds: reply, reaction, edit, revoke and an image
# message (metadata only) from A reach B through fakewa with the right
# fields (Baileys on both ends), and the test client's other kinds (video,
# voice note, document, sticker, location, contact, poll, many); the
# stanza types (text, reaction, media) and enc attributes
# (decrypt-fail=hide, mediatype=image) as Baileys sends them are kept; B's
# read receipt reaches A as READ.

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

PA=15550000021 PB=15550000022
pair_account "$T/a" $PA && SA=$S
pair_account "$T/b" $PB && SB=$S
B=$PB@s.whatsapp.net

bl send "#$SB" "$PA@s.whatsapp.net" question?
Q=${R#sent }
bl next 10000 "#$SA" message
is "$R" "message $Q $B extendedTextMessage question?" "B's question reaches A"

# reply
s=$(seq_now)
bl send "#$SA" "$B" answer! "reply=$Q"
ID=${R#sent }
bl next 10000 "#$SB" message
is "$R" "message $ID $PA@s.whatsapp.net extendedTextMessage answer!" "reply: text arrives"
bl msg "#$SB" "$ID"
like "$R" "\"stanzaId\":\"$Q\"" "reply: contextInfo.stanzaId = the question"
like "$R" '"quotedMessage":{"extendedTextMessage":{"text":"question?"' "reply: quoted text"
like "$(fakewa_wait "event=sent&tag=message&attr.id=$ID&since=$s&timeout_ms=5000")" '"type":"text"' "reply: stanza type text"

# reaction
s=$(seq_now)
bl react "#$SA" "$Q" "👍"
RID=${R#sent }
bl next 10000 "#$SB" message
is "$R" "message $RID $PA@s.whatsapp.net reactionMessage 👍" "reaction arrives"
bl msg "#$SB" "$RID"
like "$R" "\"fromMe\":true,\"id\":\"$Q\"" "reaction: its key names B's own question"
like "$R" '"text":"👍"' "reaction: the emoji"
ev=$(fakewa_wait "event=sent&tag=message&attr.id=$RID&since=$s&timeout_ms=5000")
like "$ev" '"type":"reaction"' "reaction: stanza type reaction"
like "$ev" '"decrypt-fail":"hide"' "reaction: enc decrypt-fail=hide kept"

# edit
s=$(seq_now)
bl edit "#$SA" "$ID" "answer, edited"
EID=${R#sent }
bl next 10000 "#$SB" message
like "$R" "message $EID $PA@s.whatsapp.net " "edit arrives"
bl msg "#$SB" "$EID"
like "$R" "\"id\":\"$ID\"" "edit: names the edited message"
like "$R" 'answer, edited' "edit: the new text"
like "$R" '"type":"MESSAGE_EDIT"' "edit: protocolMessage MESSAGE_EDIT"

# revoke
s=$(seq_now)
bl revoke "#$SA" "$ID"
VID=${R#sent }
bl next 10000 "#$SB" message
like "$R" "message $VID $PA@s.whatsapp.net protocolMessage REVOKE $ID" "revoke arrives: REVOKE of the reply"

# image (metadata only)
s=$(seq_now)
bl image "#$SA" "$B" a picture
IID=${R#sent }
bl next 10000 "#$SB" message
is "$R" "message $IID $PA@s.whatsapp.net imageMessage a picture" "image message arrives with its caption"
bl msg "#$SB" "$IID"
like "$R" '"mimetype":"image/jpeg"' "image: mimetype"
like "$R" '"directPath":"/v/t62.7118-24/fakewa.enc?ccb=11-4"' "image: directPath"
like "$R" '"height":480,"width":640' "image: dimensions"
like "$R" '"mediaKey":"' "image: mediaKey"
ev=$(fakewa_wait "event=sent&tag=message&attr.id=$IID&since=$s&timeout_ms=5000")
like "$ev" '"type":"media"' "image: stanza type media"
like "$ev" '"mediatype":"image"' "image: enc mediatype=image"

# read receipt
s=$(seq_now)
bl read "#$SB" "$IID"; is "$R" ok "B reads the image"
ev=$(fakewa_wait "event=receipt&ev.type=read&ev.id=$IID&since=$s&timeout_ms=5000")
like "$ev" "\"relayedTo\":[\"$PA:2@s.whatsapp.net\"]" "read receipt relayed to A"
while :; do
	bl next 10000 "#$SA" update
	case $R in "update $IID READ "*|timeout) break ;; esac
done
is "$R" "update $IID READ $PB:2@s.whatsapp.net" "A sees READ (from B's device)"

# a corrupted stanza: B's retry receipt relayed to A, A's resend routed to B's device
s=$(seq_now)
B2=$PB:2@s.whatsapp.net
fakewa_call POST /messages/fault "{\"kind\":\"corrupt\",\"device\":\"$B2\"}" >/dev/null || fail "corrupt fault accepted"
bl send "#$SA" "$B" retry me
XID=${R#sent }
ev=$(fakewa_wait "event=receipt&ev.type=retry&ev.id=$XID&since=$s&timeout_ms=30000")
like "$ev" '"retry":{"count":"1"' "B sends a retry receipt (count 1)"
like "$ev" "\"relayedTo\":[\"$PA:2@s.whatsapp.net\"]" "... relayed to A's sending device"
like "$(fakewa_wait "event=message-acked&ev.id=$XID&ev.kind=message&ev.device=$B2&since=$s&timeout_ms=30000")" '"via":"receipt:retry"' "the retry receipt acks the stanza"
like "$(fakewa_wait "event=message-nack&ev.id=$XID&since=$s&timeout_ms=30000")" '"error":"500"' "... and B nacks it with 500"
ev=$(fakewa_wait "event=message-routed&ev.id=$XID&ev.retry=true&since=$s&timeout_ms=30000")
like "$ev" "\"to\":\"$B2\"" "A resends to B's device only"
like "$ev" "\"devices\":[\"$B2\"]" "... routed to that device"
ev=$(fakewa_wait "event=sent&tag=message&attr.id=$XID&child=enc&since=$(printf '%s' "$ev" | fakewa_field seq)&timeout_ms=30000")
like "$ev" '"count":"1"' "... with <enc count=1>"
while :; do
	bl next 30000 "#$SB" message
	case $R in *" stub "*) ;; *) break ;; esac
done
is "$R" "message $XID $PA@s.whatsapp.net extendedTextMessage retry me" "B decrypts the resend"

# the other kinds the test client makes (metadata-only media, location,
# contact, poll, a reply quoting an id the sender never stored)
for x in "video:videoMessage a clip:a clip" "audio:audioMessage:-" "document:documentMessage r.pdf Title:r.pdf" \
    "sticker:stickerMessage:-" "location:locationMessage 52.5 13.4 Berlin:Berlin" \
    "contact:contactMessage Alice 15550001111:Alice" "poll:pollCreationMessage lunch pizza pasta:lunch"; do
	c=${x%%:*} rest=${x#*:} want=${x##*:}
	field=${rest%%[ :]*} args=${rest#"$field"}; args=${args%:*}
	bl "$c" "#$SA" "$B" $args
	KID=${R#sent }
	bl next 10000 "#$SB" message
	is "$R" "message $KID $PA@s.whatsapp.net $field $want" "$c arrives as $field"
done
bl msg "#$SB" "$KID"
like "$R" '"options":[{"optionName":"pizza"},{"optionName":"pasta"}]' "poll: the options"
bl reply "#$SA" "$B" 3EB0000000000000000042 "re: unseen"
KID=${R#sent }
bl next 10000 "#$SB" message
is "$R" "message $KID $PA@s.whatsapp.net extendedTextMessage re: unseen" "reply to an unseen id arrives"
bl msg "#$SB" "$KID"
like "$R" '"stanzaId":"3EB0000000000000000042"' "reply: contextInfo.stanzaId = the given id"
bl many "#$SA" "$B" 3 burst
set -- ${R#sent }
is "$#" 3 "many: three ids"
for k in 1 2 3; do
	bl next 10000 "#$SB" message
	is "$R" "message $1 $PA@s.whatsapp.net extendedTextMessage burst $k" "many: text $k in order"
	shift
done

r=$(fakewa_call GET /receipts)
is "$(printf '%s' "$r" | grep -o '"allStored":false' | wc -l)" 0 "every receipt names messages the receiver had been sent"

done_testing

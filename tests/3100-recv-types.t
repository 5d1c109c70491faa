#!/bin/sh
# 3100-recv-types: a real Baileys peer sends wa-run (1:1, through fakewa)
# one message of every kind it can make: text, a reply, image, video, voice
# note, document, sticker (media: metadata only), location, contact, poll,
# a reaction, an edit and a revoke of its own messages.  Each is in the
# inbox (the default AUTH.inbox) exactly once, 0600 in a 0700 new/, with
# the id Baileys returned, chat and sender = the peer, status ok, the type
# and the type's fields equal to what Baileys put in the Message (compared
# with Baileys' own stored WAMessage: the media hashes and keys byte for
# byte, base64 or hex); the stdout message event carries the same record
# and the file's path; every message was acknowledged by wa-run with a
# delivery receipt (no retry) that fakewa relayed to the peer.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"

recv_setup
recv_wa "$T/a"
PB=15550000031
recv_peer "$T/b" $PB Bob
SB=$S
run_start "$WA_DIR"
await_online

# send CMD ARGS...: one Baileys command to wa, its id in the list
: > "$T/sent"
send() {
	_c=$1; shift
	bl "$_c" "#$SB" "$@"
	case $R in "sent "*) ;; *) fail "Baileys sends $_c" "$R"; return ;; esac
	echo "$_c ${R#sent }" >> "$T/sent"
	eval "ID_$_c=\${R#sent }"
}
send send "$WA_USER" "hello wa"
send reply "$WA_USER" "$ID_send" "a reply"
send image "$WA_USER" a picture
send video "$WA_USER" a clip
send audio "$WA_USER"
send document "$WA_USER" report.pdf Quarterly report
send sticker "$WA_USER"
send location "$WA_USER" 52.520008 13.404954 Alexanderplatz
send contact "$WA_USER" Alice 15550001111
send poll "$WA_USER" lunch pizza pasta salad
bl react "#$SB" "$ID_send" "👍"; echo "react ${R#sent }" >> "$T/sent"; ID_react=${R#sent }
bl edit "#$SB" "$ID_reply" "a reply, edited"; echo "edit ${R#sent }" >> "$T/sent"; ID_edit=${R#sent }
bl revoke "#$SB" "$ID_image"; echo "revoke ${R#sent }" >> "$T/sent"; ID_revoke=${R#sent }
N=$(lines "$T/sent")
is "$N" 13 "Baileys sent 13 messages"

if inbox_wait "$INBOX" "$N" 60; then pass "$N files in the inbox's new/"; else
	fail "$N files in the inbox's new/" "$INBOX_N there; fakewa delivered $(delivered_to "$WA_DEV") stanzas to wa-run"
	stop_run; done_testing; exit 1
fi
inbox_index "$INBOX"
is "$(inbox_count "$INBOX")" "$N" "no other file in new/"
is "$(grep -c '	!corrupt	' "$IDX")" 0 "every file is a whole JSON object"
is "$(awk -F '\t' '$2 == "!mode" && $3 != "600"' "$IDX")" "" "every file 0600"
is "$(stat -c %a "$INBOX" "$INBOX/new" "$INBOX/cur" "$INBOX/tmp" | sort -u)" 700 "inbox folders 0700"

# each once, with the common fields
while read -r kind id; do
	f=$(by_id "$id")
	is "$(printf '%s\n' "$f" | grep -c .)" 1 "$kind: stored once ($id)"
	f=$(printf '%s\n' "$f" | head -n 1)
	eval "F_$kind=\$f"
	is "$(fld "$f" v)/$(fld "$f" status)/$(fld "$f" from_me)" "1/ok/false" "$kind: v 1, status ok, not from_me"
	is "$(fld "$f" chat)" "$PB@s.whatsapp.net" "$kind: chat is the peer"
	is "$(fld "$f" sender)" "$PB@s.whatsapp.net" "$kind: sender is the peer"
	is "$(fld "$f" push_name)" "Bob" "$kind: push_name"
	matches "$(fld "$f" timestamp)" "^[0-9]+$|^[0-9]{4}-[0-9]{2}-[0-9]{2}T" "$kind: timestamp"
	[ -n "$(fld "$f" raw)" ] && pass "$kind: raw" || fail "$kind: raw"
done < "$T/sent"

# the fields of each kind against Baileys' own WAMessage ($1 = the id)
baileys_msg() {
	bl msg "#$SB" "$1"
	printf '%s\n' "$R" > "$T/msg.json"
}
# b64hex: base64 or hex of the same bytes -> lowercase hex
b64hex() {
	node -e 'const s = process.argv[1]; console.log(/^[0-9a-fA-F]+$/.test(s) && s.length % 2 === 0 && s.length !== 44 ? s.toLowerCase() : Buffer.from(s, "base64").toString("hex"));' "$1"
}
# bm PATH: a field of the stored WAMessage (dotted, under .message)
bm() {
	node -e 'let o = JSON.parse(require("fs").readFileSync(process.argv[1])).message;
for (const k of process.argv[2].split(".")) o = o == null ? o : o[k];
console.log(o ?? "");' "$T/msg.json" "$1"
}

like "$(fld "$F_send" type)" "text" "text: type text or extended_text"
is "$(fld "$F_send" text)" "hello wa" "text: text"
is "$(fld "$F_reply" text)" "a reply" "reply: text"
is "$(fld "$F_reply" quoted.id)" "$ID_send" "reply: quoted.id is the first text"
like "$(fld "$F_reply" quoted.sender)" "$PB" "reply: quoted.sender is the peer"

for kind in image video audio document sticker; do
	eval "f=\$F_$kind id=\$ID_$kind"
	baileys_msg "$id"
	is "$(fld "$f" type)" "$kind" "$kind: type"
	is "$(fld "$f" media.mimetype)" "$(bm "${kind}Message.mimetype")" "$kind: media.mimetype"
	is "$(fld "$f" media.size)" 12345 "$kind: media.size"
	is "$(fld "$f" media.direct_path)" "/v/t62.7118-24/fakewa.enc?ccb=11-4" "$kind: media.direct_path"
	is "$(b64hex "$(fld "$f" media.sha256)")" "$(b64hex "$(bm "${kind}Message.fileSha256")")" "$kind: media.sha256 = fileSha256"
	is "$(b64hex "$(fld "$f" media.media_key)")" "$(b64hex "$(bm "${kind}Message.mediaKey")")" "$kind: media.media_key = mediaKey"
done
is "$(fld "$F_image" text)" "a picture" "image: caption as text"
is "$(fld "$F_video" text)" "a clip" "video: caption as text"
like "$(grep "^$F_document	" "$IDX")" "report.pdf" "document: the file name is in the record"

is "$(fld "$F_location" location.name)" "Alexanderplatz" "location: name"
like "$(fld "$F_location" location.latitude)$(fld "$F_location" location.degrees_latitude)" "52.520008" "location: latitude"
like "$(fld "$F_location" location.longitude)$(fld "$F_location" location.degrees_longitude)" "13.404954" "location: longitude"
is "$(fld "$F_contact" type)" contact "contact: type"
like "$(grep "^$F_contact	" "$IDX")" "waid=15550001111" "contact: the vCard"
like "$(grep "^$F_contact	" "$IDX")" "Alice" "contact: the name"
is "$(fld "$F_poll" type)" poll "poll: type"
is "$(fld "$F_poll" poll.name)" lunch "poll: name"
is "$(grep "^$F_poll	poll\.options\." "$IDX" | cut -f3 | tr '\n' ' ')" "pizza pasta salad " "poll: options in order"
is "$(fld "$F_react" type)" reaction "reaction: type"
is "$(fld "$F_react" reaction.emoji)" "👍" "reaction: emoji"
is "$(fld "$F_react" reaction.target.id)" "$ID_send" "reaction: target is the first text"
is "$(fld "$F_edit" type)" edit "edit: type"
is "$(fld "$F_edit" edit.target.id)" "$ID_reply" "edit: target is the reply"
is "$(fld "$F_edit" text)" "a reply, edited" "edit: the new text"
is "$(fld "$F_revoke" type)" revoke "revoke: type"
is "$(fld "$F_revoke" revoke.target.id)" "$ID_image" "revoke: target is the image"

# names sort in the order Baileys sent them
is "$(ids | tr '\n' ' ')" "$(cut -d' ' -f2 "$T/sent" | tr '\n' ' ')" "file names sort in the order Baileys sent"

# stdout: one message event per file, the same record, the path
await '"event":"message"' 10 > /dev/null
out=$(inbox_vs_events "$INBOX" "$RUN_EV")
is "$out" "events $N files $N" "every file has its stdout message event with the same record and path"

# receipts: every message acknowledged by a delivery receipt, relayed to Bob
for id in $(cut -d' ' -f2 "$T/sent"); do
	ev=$(fakewa_wait "event=receipt&ev.id=$id&ev.device=$WA_DEV&timeout_ms=10000")
	case $ev in
	*'"type":"retry"'*|'') fail "receipt for $id" "$ev" ;;
	*"\"relayedTo\":[\"$PEER_DEV\""*) pass "receipt for $id relayed to the peer" ;;
	*) fail "receipt for $id relayed to the peer" "$ev" ;;
	esac
done
is "$(acked_ids "$WA_DEV" | tr '\n' ' ')" "$(cut -d' ' -f2 "$T/sent" | sort | tr '\n' ' ')" "fakewa: every message acked by wa-run, nothing pending"
is "$(fakewa_call GET "/log?event=message-nack" | grep -o "\"device\":\"$WA_DEV\"" | wc -l | tr -d ' ')" 0 "no nack"

stop_run
is "$RC" 0 "SIGTERM: exit 0"
is "$(inbox_count "$INBOX")" "$N" "still $N files after the stop"
done_testing

#!/bin/sh
# 3101-recv-group: a group of wa and two Baileys peers (B, C; made with
# fakewa's POST /groups, LID-addressed as new groups are).  B's first group
# text reaches wa-run as one stanza with B's sender-key distribution in a
# pkmsg and the text in an skmsg; C's first likewise; then each sends a
# second one (skmsg only, the sender key wa-run stored) and a reply in the
# group.  Every message is stored once with chat = the group, sender = its
# author (B or C: their LID or phone-number user JID, the other form in
# sender_pn/sender_lid), status ok, the text; nothing else is stored (the
# distribution alone is no message); every stanza acknowledged with a
# receipt naming the group and the author's device, relayed to the author.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"

recv_setup
recv_wa "$T/a"
PB=15550000032 PC=15550000033
recv_peer "$T/b" $PB Bob; SB=$S; LB=$PEER_LID; DB=$PEER_DEV
recv_peer "$T/c" $PC Carol; SC=$S; LC=$PEER_LID; DC=$PEER_DEV
recv_group "wa group" $PB $WA_PHONE $PC || { done_testing; exit 1; }
run_start "$WA_DIR"
await_online

: > "$T/sent"
gsend() {	# SOCKET WHO TEXT...
	_s=$1 _w=$2; shift 2
	bl send "#$_s" "$G" "$@"
	case $R in "sent "*) echo "$_w ${R#sent } $*" >> "$T/sent" ;; *) fail "$_w sends to the group" "$R" ;; esac
}
s0=$(seq_now)
gsend "$SB" B "hello from B"
ev=$(fakewa_wait "event=sent&tag=message&attr.id=$(cut -d' ' -f2 "$T/sent" | tail -n 1)&conn=$(wa_conn)&since=$s0&timeout_ms=10000")
like "$ev" '"type":"pkmsg"' "B's first group stanza to wa-run: the distribution in a pkmsg"
like "$ev" '"type":"skmsg"' "... and the text in an skmsg"
gsend "$SC" C "hello from C"
gsend "$SB" B "second from B"
gsend "$SC" C "second from C"
gsend "$SB" B "third from B"
N=$(lines "$T/sent")

if inbox_wait "$INBOX" "$N" 60; then pass "$N files in the inbox"; else
	fail "$N files in the inbox" "$INBOX_N there; fakewa delivered $(delivered_to "$WA_DEV") stanzas to wa-run"
	stop_run; done_testing; exit 1
fi
inbox_index "$INBOX"
is "$(inbox_count "$INBOX")" "$N" "nothing else stored (no record for a distribution alone)"
is "$(grep -c '	!corrupt	' "$IDX")" 0 "every file is a whole JSON object"
while read -r who id text; do
	f=$(by_id "$id")
	is "$(printf '%s\n' "$f" | grep -c .)" 1 "$who \"$text\": stored once"
	f=$(printf '%s\n' "$f" | head -n 1)
	is "$(fld "$f" chat)" "$G" "$who \"$text\": chat is the group"
	eval "pn=\$P$who lid=\$L$who"
	snd=$(fld "$f" sender)
	case $snd in
	"$pn@s.whatsapp.net") is "$(fld "$f" sender_lid)" "$lid@lid" "$who \"$text\": sender is $who (PN), sender_lid its LID" ;;
	"$lid@lid") is "$(fld "$f" sender_pn)" "$pn@s.whatsapp.net" "$who \"$text\": sender is $who (LID), sender_pn its number" ;;
	*) fail "$who \"$text\": sender is $who" "sender $snd, want $pn@s.whatsapp.net or $lid@lid" ;;
	esac
	is "$(fld "$f" status)" ok "$who \"$text\": status ok"
	is "$(fld "$f" text)" "$text" "$who \"$text\": text"
	is "$(fld "$f" from_me)" false "$who \"$text\": not from_me"
done < "$T/sent"
is "$(ids | tr '\n' ' ')" "$(cut -d' ' -f2 "$T/sent" | tr '\n' ' ')" "names sort in the order the messages were sent"

# the receipts: to the group, naming the author's device, relayed to it
while read -r who id text; do
	eval "dev=\$D$who"
	ev=$(fakewa_wait "event=receipt&ev.id=$id&ev.device=$WA_DEV&timeout_ms=10000")
	case $ev in
	*'"type":"retry"'*|'') fail "$who \"$text\": delivery receipt" "$ev" ;;
	*"\"to\":\"$G\""*) like "$ev" "\"relayedTo\":[\"" "$who \"$text\": receipt to the group, relayed to the author" ;;
	*) fail "$who \"$text\": receipt to the group" "$ev" ;;
	esac
done < "$T/sent"
is "$(acked_ids "$WA_DEV" | tr '\n' ' ')" "$(cut -d' ' -f2 "$T/sent" | sort | tr '\n' ' ')" "fakewa: every group stanza acked by wa-run"

# a restart: the sender keys are on disk, the next skmsg decrypts
stop_run
is "$RC" 0 "SIGTERM: exit 0"
run_start "$WA_DIR"
await_online "online again"
gsend "$SC" C "after the restart"
id=$(tail -n 1 "$T/sent" | cut -d' ' -f2)
inbox_wait "$INBOX" $((N + 1)) 30
inbox_index "$INBOX"
f=$(by_id "$id")
is "$(fld "$f" status)/$(fld "$f" text)" "ok/after the restart" "C's skmsg after wa-run's restart decrypts"
stop_run
done_testing

#!/bin/sh
# 3104-recv-handover: the folder changes hands between Baileys and wa-run
# in the middle of conversations.  Baileys itself (the test client's
# `start` on the very folder wa-run serves) receives a while: B's 1:1
# texts (the session starts with B's pkmsg) and B's and C's first group
# texts (their sender keys arrive); Baileys stops.  wa-run continues the
# same conversations: B's next 1:1 texts (msg on Baileys' session) and
# B's and C's next group texts (skmsg on the sender keys Baileys stored)
# all decrypt (status ok, text right, no retry receipt).  wa-run stops and
# Baileys takes the folder back: it decrypts what B and C send next, 1:1
# and in the group (no failed-decryption stub).
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"

recv_setup
recv_wa "$T/a"
PB=15550000036 PC=15550000037
recv_peer "$T/b" $PB Bob; SB=$S
recv_peer "$T/c" $PC Carol; SC=$S
recv_group "handover" $PB $WA_PHONE $PC || { done_testing; exit 1; }

# baileys_turn TAG: Baileys on the folder receives 1:1 and group texts
baileys_turn() {
	bl start "$WA_DIR" keep=1
	SA=${R#ok }
	bl next 15000 "#$SA" open close
	case $R in open\ *) pass "$1: Baileys logs in on the folder" ;; *) fail "$1: Baileys logs in on the folder" "$R"; return ;; esac
	bl online "#$SA" wa
	for x in "$SB $WA_USER $1 one to one from B" "$SB $G $1 group from B" "$SC $G $1 group from C" "$SB $WA_USER $1 again from B"; do
		set -- $x
		s=$1 to=$2; shift 2
		bl send "#$s" "$to" "$@"
		id=${R#sent }
		while bl next 15000 "#$SA" message; do
			case $R in
			"message $id "*|timeout) break ;;
			*" stub "*) echo "$R" >> "$T/stubs" ;;
			esac
		done
		case $R in
		"message $id "*" stub "*) fail "Baileys decrypts \"$*\"" "$R" ;;
		"message $id "*) like "$R" " $*" "Baileys decrypts \"$*\"" ;;
		*) fail "Baileys decrypts \"$*\"" "$R" ;;
		esac
	done
	# Baileys has acknowledged all (else fakewa redelivers to the next owner)
	wait_pending "$WA_DEV" 0 || fail "$1: Baileys acknowledged everything" "$PENDING pending"
	bl end "#$SA"
	bl creds
}

baileys_turn first

# wa-run's turn
run_start "$WA_DIR"
await_online "wa-run on the folder Baileys used"
: > "$T/sent"
for x in "$SB $WA_USER wa one to one from B" "$SB $G wa group from B" "$SC $G wa group from C" "$SB $WA_USER wa again from B" "$SC $WA_USER wa one to one from C"; do
	set -- $x
	s=$1 to=$2; shift 2
	bl send "#$s" "$to" "$@"
	case $R in "sent "*) echo "${R#sent } $*" >> "$T/sent" ;; *) fail "send \"$*\"" "$R" ;; esac
done
N=$(lines "$T/sent")
if inbox_wait "$INBOX" "$N" 60; then pass "$N files in the inbox"; else
	fail "$N files in the inbox" "$INBOX_N there; fakewa delivered $(delivered_to "$WA_DEV") stanzas to wa-run"
fi
inbox_index "$INBOX"
while read -r id text; do
	f=$(by_id "$id")
	is "$(fld "$f" status)/$(fld "$f" text)" "ok/$text" "wa-run decrypts \"$text\""
done < "$T/sent"
is "$(awk -F '\t' '$2 == "status" && $3 != "ok"' "$IDX" | wc -l | tr -d ' ')" 0 "no decryption failure anywhere"
is "$(fakewa_call GET /receipts | grep -o '"type":"retry"' | wc -l | tr -d ' ')" 0 "no retry receipt"
stop_run
is "$RC" 0 "wa-run: SIGTERM, exit 0"

baileys_turn back
is "$(cat "$T/stubs" 2> /dev/null)" "" "Baileys never failed to decrypt"
is "$(fakewa_call GET /receipts | grep -o '"type":"retry"' | wc -l | tr -d ' ')" 0 "still no retry receipt"
done_testing

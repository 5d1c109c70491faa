#!/bin/sh
# 3302-send-queued: jobs written while wa-run is not running wait in the
# outbox; when wa-run starts they are all sent, each chat's in the order
# they were written (a chat's stanzas leave in name order, several in
# flight), two chats side by side.  Every job ends
# "sent" in cur/, new/ is empty, and each message reaches its peer once.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"
. "$WA_TOP/tests/send.sh"

recv_setup
recv_wa "$T/a"
OUTBOX=$WA_DIR.outbox
PB=15550000031
PC=15550000032
recv_peer "$T/b" $PB Bob
SB=$S
recv_peer "$T/c" $PC Carol
SC=$S
N=15
i=1
while [ $i -le $N ]; do
	echo '{"to":"'$PB'@s.whatsapp.net","type":"text","text":"to Bob '$i'"}'
	[ $((i % 3)) -eq 0 ] && echo '{"to":"'$PC'@s.whatsapp.net","type":"text","text":"to Carol '$((i / 3))'"}'
	i=$((i + 1))
done | wa-outbox-put "$OUTBOX" > "$T/ids"
M=$(lines "$T/ids")
is "$M" $((N + N / 3)) "$M jobs queued with no wa-run"
is "$(ls "$OUTBOX/new" | wc -l)" "$M" "they wait in new/"
is "$(ls "$OUTBOX/status" 2> /dev/null | wc -l)" 0 "no status yet (queued)"

run_start "$WA_DIR"
await_online
n=0
while [ $n -lt "$M" ] && await '"event":"sent"' 60; do n=$((n + 1)); done
is "$n" "$M" "a sent event for every job"
is "$(ls "$OUTBOX/new" | wc -l)" 0 "new/ is empty"
is "$(ls "$OUTBOX/cur" | wc -l)" "$M" "every job in cur/"
bad=0
while read -r id; do
	case $(st_field "$id" state) in sent|delivered|read) ;; *) bad=$((bad + 1)) ;; esac
done < "$T/ids"
is "$bad" 0 "every status is sent or later"

got() {
	: > "$T/got.$1"
	_k=0
	while [ $_k -lt "$2" ]; do
		peer_next "$1" 30
		case $R in message\ *) printf '%s\n' "$R" | cut -d' ' -f5- >> "$T/got.$1" ;; *) break ;; esac
		_k=$((_k + 1))
	done
}
got "$SB" $N
i=1; : > "$T/want.b"
while [ $i -le $N ]; do echo "to Bob $i" >> "$T/want.b"; i=$((i + 1)); done
is "$(cat "$T/got.$SB")" "$(cat "$T/want.b")" "Bob decrypts all $N, in the order they were written"
got "$SC" $((N / 3))
i=1; : > "$T/want.c"
while [ $i -le $((N / 3)) ]; do echo "to Carol $i" >> "$T/want.c"; i=$((i + 1)); done
is "$(cat "$T/got.$SC")" "$(cat "$T/want.c")" "Carol decrypts hers, in order"
peer_next "$SB" 1
is "$R" "timeout" "nothing more reaches Bob (each once)"
stop_run
is "$RC" 0 "wa-run stops cleanly"
is "$(status_field messages_sent "$WA_DIR")" "$M" "status.json: messages_sent"
done_testing

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
# the order is wa-run's on the wire: fakewa's routing log, per recipient,
# against the order the jobs were written (a Baileys receiver under load
# may emit its upserts in another order: its decryptions overlap)
fakewa_call GET '/log?event=message-routed' > "$T/routed"
is "$(node -e '
const fs = require("fs");
const ids = fs.readFileSync(process.argv[1], "utf8").trim().split("\n");
const ev = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).events.filter(e => ids.includes(e.id));
const to = {}, seen = {};
for (const e of ev) if (!(e.id in to)) { to[e.id] = e.to; (seen[e.to] = seen[e.to] || []).push(e.id); }
let bad = 0;
for (const [r, got] of Object.entries(seen)) {
	const want = ids.filter(i => to[i] === r);
	if (JSON.stringify(got) !== JSON.stringify(want)) { bad++; console.error(r, got, want); }
}
console.log(Object.keys(to).length === ids.length ? bad : "missing " + (ids.length - Object.keys(to).length));
' "$T/ids" "$T/routed")" 0 "the stanzas left in the order the jobs were written, per chat"
got "$SB" $N
i=1; : > "$T/want.b"
while [ $i -le $N ]; do echo "to Bob $i" >> "$T/want.b"; i=$((i + 1)); done
is "$(sort "$T/got.$SB")" "$(sort "$T/want.b")" "Bob decrypts all $N"
got "$SC" $((N / 3))
i=1; : > "$T/want.c"
while [ $i -le $((N / 3)) ]; do echo "to Carol $i" >> "$T/want.c"; i=$((i + 1)); done
is "$(sort "$T/got.$SC")" "$(sort "$T/want.c")" "Carol decrypts hers"
peer_next "$SB" 1
is "$R" "timeout" "nothing more reaches Bob (each once)"
stop_run
is "$RC" 0 "wa-run stops cleanly"
is "$(status_field messages_sent "$WA_DIR")" "$M" "status.json: messages_sent"
done_testing

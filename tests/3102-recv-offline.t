#!/bin/sh
# 3102-recv-offline: the offline backlog.  wa-run comes online once (so the
# peers' first messages are no surprise) and is stopped; two Baileys peers
# then send 500 texts (WA_RECV_OFFLINE) to it, interleaved in runs of 50,
# which fakewa queues; wa-run started again (--inbox DIR this time) gets
# them as offline stanzas: every one in the spool exactly once, the file
# names in the order each peer sent them, nothing pending at fakewa; the
# offline event reports the count fakewa flushed (the 500 and whatever
# else was queued, e.g. receipts) and a duration.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"

M=${WA_RECV_OFFLINE:-500}
recv_setup
recv_wa "$T/a"
INBOX=$T/spool
PB=15550000034 PC=15550000035
recv_peer "$T/b" $PB Bob; SB=$S
recv_peer "$T/c" $PC Carol; SC=$S
run_start "$WA_DIR" --inbox "$INBOX"
await_online
stop_run
is "$RC" 0 "first run: SIGTERM, exit 0"

: > "$T/sent.b"; : > "$T/sent.c"
i=0 run=50
while [ $i -lt "$M" ]; do
	n=$((M - i)); [ $n -gt $run ] && n=$run
	if [ $(( (i / run) % 2 )) -eq 0 ]; then s=$SB who=b; else s=$SC who=c; fi
	bl many "#$s" "$WA_USER" "$n" "$who $i"
	case $R in "sent "*) printf '%s\n' ${R#sent } >> "$T/sent.$who" ;; *) fail "Baileys $who sends $n" "$R"; break ;; esac
	i=$((i + n))
done
cat "$T/sent.b" "$T/sent.c" > "$T/sent"
is "$(lines "$T/sent")" "$M" "the peers sent $M texts while wa-run was stopped"
s0=$(seq_now)
run_start "$WA_DIR" --inbox "$INBOX"
await_online "online with a backlog"
if inbox_settle "$INBOX" "$M" 30; then pass "$M files in the inbox"; else
	fail "$M files in the inbox" "$INBOX_N there; fakewa delivered $(delivered_to "$WA_DEV") stanzas to wa-run"
	stop_run; done_testing; exit 1
fi
ev=$(fakewa_wait "event=offline-flushed&ev.device=$WA_DEV&since=$s0&timeout_ms=10000")
flushed=$(jf count "$ev")
diag "fakewa flushed $flushed stanzas"
expect_event "the offline event" '"event":"offline"' 60
is "$(jf count)" "$flushed" "offline event: count = the stanzas fakewa flushed"
matches "$(jf ms)" '^[0-9]+$' "offline event: a duration in ms"
[ "$flushed" -ge "$M" ] && pass "fakewa flushed at least the $M texts" || fail "fakewa flushed at least the $M texts" "$flushed"

inbox_index "$INBOX"
is "$(grep -c '	!corrupt	' "$IDX")" 0 "every file is a whole JSON object"
is "$(ids | sort | uniq -d | wc -l | tr -d ' ')" 0 "no id twice"
is "$(ids | sort | tr '\n' ' ')" "$(sort "$T/sent" | tr '\n' ' ')" "exactly the $M ids Baileys returned"
# per chat, the names sort in the order the peer sent
for who in b c; do
	eval "p=\$P$(echo $who | tr bc BC)"
	awk -F '\t' -v c="$p@s.whatsapp.net" '$2 == "chat" && $3 == c { print $1 }' "$IDX" > "$T/names.$who"
	: > "$T/order.$who"
	while read -r name; do fld "$name" id >> "$T/order.$who"; done < "$T/names.$who"
	is "$(cat "$T/order.$who")" "$(cat "$T/sent.$who")" "chat $who: file names sort in the order Baileys sent"
done
off=$(awk -F '\t' '$2 == "offline" && $3 == "true"' "$IDX" | wc -l | tr -d ' ')
is "$off" "$M" "every record says offline true"
wait_pending "$WA_DEV" 0
is "$PENDING" 0 "nothing pending at fakewa for wa-run"
is "$(acked_ids "$WA_DEV" | wc -l | tr -d ' ')" "$M" "fakewa: all $M acked"
stop_run
is "$RC" 0 "SIGTERM: exit 0"
done_testing

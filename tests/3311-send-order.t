#!/bin/sh
# 3311-send-order: a burst to one chat leaves and arrives in name order
# although many of its jobs are in flight at once (issue 13, send.h:
# "a later job of a chat never leaves before an earlier one").  N jobs
# (default 300) to one Baileys peer (tests/fakewa/peer.mjs, which writes
# down every message it decrypts, in order): the first half queued while
# wa-run is stopped, the second half in small writes while it is sending
# the first (new names learnt while others are in flight).  Checked against
# the order of the job file names (cur/, sorted):
#   - the order in which fakewa routed wa's stanzas (its message-routed
#     log), i.e. the order they left wa-run;
#   - the order in which the peer decrypted them;
#   - every job sent once, status sent or later, new/ empty;
#   - the storage operations wa-run made for it (WA_TEST_OPLOG): the
#     sending side's group commit keeps them to a few per job.
# WA_ORDER_JOBS sets N.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"

N=${WA_ORDER_JOBS:-300}
H=$((N / 2))
recv_setup
recv_wa "$T/a"
OUT=$WA_DIR.outbox
PP=15550000341

node "$WA_TOP/tests/fakewa/peer.mjs" --root "$FAKEWA_ROOT_PUB" --ws "$FAKEWA_WS" --name Ola "$T/p" \
    > "$T/peer.log" 2> "$T/peer.err" 9>&- &
echo $! >> "$T/.pids"
peer_line() { # peer_line ERE SECONDS: the first peer line matching, in PL
	_pl_i=0
	while :; do
		PL=$(grep -m 1 -E -e "$1" "$T/peer.log")
		[ -n "$PL" ] && return 0
		_pl_i=$((_pl_i + 1))
		[ "$_pl_i" -ge $(($2 * 50)) ] && return 1
		sleep 0.02
	done
}
peer_line '"ev":"qr"' 30 || { fail "the peer shows a QR" "$(tail -n 3 "$T/peer.err")"; done_testing; exit 1; }
s=$(seq_now)
QR=$(printf '%s' "$PL" | sed 's/.*"qr":"\([^"]*\)".*/\1/')
fakewa_call POST /phone/scan "{\"qr\":\"$QR\",\"phone\":\"$PP\"}" > /dev/null || fail "the phone scans the peer's QR"
peer_line '"ev":"open"' 30 || { fail "the peer logs in" "$(tail -n 3 "$T/peer.err")"; done_testing; exit 1; }
fakewa_wait "event=prekeys&since=$s&timeout_ms=10000" > /dev/null || fail "the peer uploads its pre-keys"
PEER_DEV=$(fakewa_call GET "/accounts/$PP@s.whatsapp.net" | fakewa_field jid)
pass "a Baileys peer ($PEER_DEV) online"

jobs() { # jobs FROM TO: text jobs for the peer, one a line
	_j_i=$1
	while [ "$_j_i" -le "$2" ]; do
		echo '{"to":"'$PP'@s.whatsapp.net","type":"text","text":"order '$_j_i'"}'
		_j_i=$((_j_i + 1))
	done
}
jobs 1 $H | wa-outbox-put "$OUT" > "$T/ids" || fail "queue the first $H jobs"
# wa-run's storage operations (durable.h, test builds): how many barriers
# and renames the burst costs
WA_TEST_OPLOG=$T/oplog
export WA_TEST_OPLOG
run_start "$WA_DIR"
await_online
await '"event":"sent"' 30 > /dev/null || fail "the first job is sent"
# what wa-run reads while the second half arrives (strace attached to it,
# detached again before it stops: LSan does not run under ptrace)
SP=
if command -v strace > /dev/null 2>&1; then
	strace -f -qq -e trace=openat,getdents64 -o "$T/strace" -p "$RUN_PID" 2> "$T/strace.err" &
	SP=$!
	k=0
	until [ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$RUN_PID/status" 2> /dev/null)" = "$SP" ]; do
		k=$((k + 1))
		if [ "$k" -ge 250 ] || ! kill -0 "$SP" 2> /dev/null; then
			diag "strace cannot attach to wa-run: $(head -n 1 "$T/strace.err")"
			kill "$SP" 2> /dev/null
			wait "$SP" 2> /dev/null
			SP=
			break
		fi
		sleep 0.02
	done
fi
# the second half in writes of 5 jobs while the first is being sent
k=$((H + 1)) q=5
while [ $k -le "$N" ]; do
	e=$((k + q - 1)); [ $e -gt "$N" ] && e=$N
	WA_TEST_OPLOG= jobs $k $e | WA_TEST_OPLOG= wa-outbox-put "$OUT" >> "$T/ids" || fail "queue jobs $k to $e"
	k=$((e + 1))
done
is "$(sort -u "$T/ids" | wc -l | tr -d ' ')" "$N" "$N jobs queued, each id once"

k=0
while :; do
	got=$(grep -c '"ev":"message"' "$T/peer.log")
	left=$(ls -A "$OUT/new" | wc -l | tr -d ' ')
	[ "$got" -ge "$N" ] && [ "$left" -eq 0 ] && break
	k=$((k + 1))
	if [ "$k" -ge 1200 ]; then
		diag "after 120 s: the peer has $got of $N, $left in new/"
		break
	fi
	sleep 0.1
done
if [ -n "$SP" ]; then
	kill "$SP" 2> /dev/null
	wait "$SP" 2> /dev/null
	k=0
	while [ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$RUN_PID/status" 2> /dev/null)" != 0 ] && [ $k -lt 250 ]; do
		k=$((k + 1))
		sleep 0.02
	done
fi
stop_run
is "$RC" 0 "SIGTERM: exit 0"
unset WA_TEST_OPLOG

# each job is read at most twice (to learn its chat, to send it), and a
# new job is learnt from the watch descriptor's name: new/ is not listed
# again for it (listing and reading every queued job on every pass made
# the work per job grow with the backlog)
if [ -n "$SP" ]; then
	opens=$(grep -o 'openat([0-9]*, "[0-9]\{13\}\.[0-9]*_[0-9]*\.[A-Za-z0-9]*"' "$T/strace" |
	    sed 's/.*"\(.*\)"/\1/' | sort | uniq -c | awk '$1 > m { m = $1 } END { print m + 0 }')
	files=$(grep -o 'openat([0-9]*, "[0-9]\{13\}\.[0-9]*_[0-9]*\.[A-Za-z0-9]*"' "$T/strace" | sort -u | wc -l | tr -d ' ')
	lists=$(grep -c 'getdents64(' "$T/strace")
	diag "while the second half arrived: $files job files opened, each at most $opens times; $lists getdents64 calls"
	ok "a job file is read at most twice ($opens)" test "$opens" -le 2
	ok "new/ is not listed again for each new job ($lists getdents64 calls)" test "$lists" -le 2
else
	pass "a job file is read at most twice # SKIP strace cannot watch wa-run"
	pass "new/ is not listed again for each new job # SKIP strace cannot watch wa-run"
fi

# group commit on the sending side: over the whole run (login included)
# at most 4 barriers (fsync of a file or a folder, syncfs) and 4 renames
# per job.  A job needs 3 renames (its "sent" status, its "delivered"
# status from the peer's receipt, new/ -> cur/); the barriers are shared
# by the jobs of a turn.  One job at a time cost about 10 barriers and 5
# renames (a "sending" status, each status and move alone, a key-store
# commit per job).
bar=$(awk '$2 == "fsync" || $2 == "fsyncdir" || $2 == "syncfs" { n++ } END { print n + 0 }' "$T/oplog")
ren=$(awk '$2 == "rename" || $2 == "move" { n++ } END { print n + 0 }' "$T/oplog")
diag "storage operations of wa-run for $N jobs: $bar barriers, $ren renames"
ok "at most 4 barriers per job ($bar for $N)" test "$bar" -le $((4 * N))
ok "at most 4 renames per job ($ren for $N)" test "$ren" -le $((4 * N))

# the order of the names (what wa-outbox-put wrote, as sorted in cur/)
ls "$OUT/cur" | sort | sed 's/.*\.//' > "$T/want"
is "$(wc -l < "$T/want" | tr -d ' ')" "$N" "every job is in cur/"
# the order the stanzas left wa-run: fakewa's routing log, in seq order
fakewa_call GET "/log?event=message-routed" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	const seen = new Set();
	for (const e of JSON.parse(s).events.sort((a, b) => a.seq - b.seq))
		if (e.from === process.argv[1] && !e.retry && !seen.has(e.id)) {
			seen.add(e.id);
			console.log(e.id);
		}
});' "$WA_DEV" > "$T/routed"
routed_n=$(fakewa_call GET "/log?event=message-routed" | grep -o "\"from\":\"$WA_DEV\"" | wc -l | tr -d ' ')
is "$routed_n" "$N" "fakewa routed $N stanzas from wa-run (each job once)"
if cmp -s "$T/want" "$T/routed"; then
	pass "the stanzas left wa-run in name order"
else
	fail "the stanzas left wa-run in name order" "first difference: $(diff "$T/want" "$T/routed" | sed -n 2,3p | tr '\n' ' ')"
fi
# the order the peer decrypted them
grep '"ev":"message"' "$T/peer.log" | sed 's/.*"id":"\([^"]*\)".*/\1/' | awk '!seen[$0]++' > "$T/arrived"
if cmp -s "$T/want" "$T/arrived"; then
	pass "the peer decrypted all $N in name order"
else
	fail "the peer decrypted all $N in name order" "$(wc -l < "$T/arrived") arrived; first difference: $(diff "$T/want" "$T/arrived" | sed -n 2,3p | tr '\n' ' ')"
fi
is "$(grep -c -E '"ev":"(stub|decrypt-error)"|"level":"error"' "$T/peer.log")" 0 "no decryption error at the peer"
bad=$(grep -L -E '"state":"(sent|delivered|read)"' "$OUT"/status/*.json 2> /dev/null | wc -l | tr -d ' ')
is "$(ls "$OUT/status" | wc -l | tr -d ' ')" "$N" "a status file per job"
is "$bad" 0 "every status is sent or later"
is "$(ls -A "$OUT/new" | wc -l | tr -d ' ')" 0 "nothing left in new/"
done_testing

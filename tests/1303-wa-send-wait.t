#!/bin/sh
# 1303-wa-send-wait: wa-send --wait.  With no wa-run it exits 31 after the
# timeout, the job still queued; when the job's status file (written here
# as wa-run would, by wa-outbox-tool) says sent or later it exits 0 at
# once, when it says failed it exits 30 with the reason.  The test waits
# on the process, never sleeps: wa-send prints the id into a fifo once the
# job is queued, the status is written, and the process must end well
# before its timeout.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"

cd "$T" || exit 1
mkfolder auth
OUT=auth.outbox
now() { date +%s%N | cut -c1-13; }

# 1. nobody sends: the timeout
t0=$(now)
expect_exit 31 "--wait 1 without wa-run: exit 31" wa-send -d auth --wait 1 15550002222 "nobody home"
t1=$(now)
id=$(cat "$T/out")
[ $((t1 - t0)) -ge 1000 ] && pass "it waited the second" || fail "it waited the second" "$((t1 - t0)) ms"
one_line_err "timeout"
like "$(cat "$T/err")" "$id: no server acknowledgement in 1 second; the job stays queued" "timeout: says so, with the id"
ls "$OUT"/new/*."$id" > /dev/null 2>&1 && pass "timeout: the job stays queued" || fail "timeout: the job stays queued"
expect_exit 31 "--wait=0: one look, then exit 31" wa-send -d auth --wait=0 15550002222 "a look"
printf 'two seconds' > "$T/text"
t0=$(now)
expect_exit 31 "--wait 2 TO (seconds from the next argument)" sh -c "wa-send -d auth --wait 2 15550002222 < '$T/text'"
t1=$(now)
[ $((t1 - t0)) -ge 2000 ] && pass "--wait 2: waited two seconds" || fail "--wait 2: waited two seconds" "$((t1 - t0)) ms"
is "$(wa-outbox-tool find "$OUT" "$(cat "$T/out")" | jq -r '.to + " " + .text')" "15550002222@s.whatsapp.net two seconds" \
    "--wait 2 TO: the text from stdin"

# start ARGS...: wa-send --wait in the background; its id in $id once the
# job is queued (read from a fifo), its pid in $pid
start() {
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	t0=$(now)
	wa-send -d auth "$@" > "$T/fifo" 2> "$T/werr" &
	pid=$!
	echo "$pid" >> "$T/.pids"
	read -r id < "$T/fifo"
}
# finish: wait for it; its exit status in $rc, the time since start in $ms
finish() { wait "$pid"; rc=$?; ms=$(($(now) - t0)); }
status() { wa-outbox-tool status "$OUT" "{\"v\":1,\"id\":\"$id\",\"to\":\"15550002222@s.whatsapp.net\",\"state\":\"$1\",\"updated_ms\":$(now)${2:-}}"; }

# 2. sent: exit 0 at once
start --wait 60 15550002222 "will be sent"
isnt "$id" "" "sent: the id is printed before the wait"
ok "sending (as wa-run writes it)" status sending
ok "sent (the server's ack)" status sent ',"sent_ms":1'
finish
is "$rc" 0 "sent: exit 0"
[ "$ms" -lt 30000 ] && pass "sent: at once, not at the timeout ($ms ms)" || fail "sent: at once" "$ms ms"
is "$(cat "$T/werr")" "" "sent: nothing on stderr"

# 3. delivered or read count as sent too; --wait with the default seconds
# (the next argument is a phone number, not seconds)
start --wait 15550002222 "will be read"
is "$(wa-outbox-tool find "$OUT" "$id" | jq -r '.to + " " + .text')" "15550002222@s.whatsapp.net will be read" \
    "--wait TO TEXT: a phone number is never taken for seconds"
ok "read" status read
finish
is "$rc" 0 "read: exit 0"
[ "$ms" -lt 30000 ] && pass "read: at once ($ms ms)" || fail "read: at once" "$ms ms"

# 4. failed: exit 30 with the reason
start --wait=60 15550002222 "will fail"
ok "failed" status failed ',"error":"server error 479: recipient unknown"'
finish
is "$rc" 30 "failed: exit 30"
[ "$ms" -lt 30000 ] && pass "failed: at once ($ms ms)" || fail "failed: at once" "$ms ms"
is "$(cat "$T/werr")" "wa-send: $id: not sent: server error 479: recipient unknown" "failed: one line with the id and the reason"

done_testing

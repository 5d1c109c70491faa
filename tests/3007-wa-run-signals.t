#!/bin/sh
# 3007-wa-run-signals: SIGTERM and SIGINT stop wa-run in order, exit 0
# within 2 s, with the status file saying stopped and the lock released:
# online, in a ban wait, in the middle of a login the server does not
# answer, on a stalled connection that cannot close cleanly, and at once
# on a second signal.  SIGHUP reopens the --log file (after a logrotate
# style rename the lines go to the new file) and disturbs nothing.  With
# $NOTIFY_SOCKET (a datagram listener, tests/helpers/wa-notify-listen):
# READY=1 only once logged in, STATUS= on state changes, WATCHDOG=1 every
# half WATCHDOG_USEC while it runs (none when WATCHDOG_PID names another
# process), STOPPING=1 at the end.  A standard output nobody reads (a
# full pipe) never blocks the session.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl > /dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
A=$T/a
run_folder "$A" || { fail "a Baileys folder"; done_testing; exit 1; }
JID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$A/creds.json")

# stop SIG DESC: signal wa-run, wait, check exit 0 within 2 s and the rest
stop() {
	_t0=$(date +%s%3N)
	kill -"$1" "$RUN_PID"
	run_wait
	_t1=$(date +%s%3N)
	is "$RC" 0 "$2: SIG$1 exits 0"
	if [ $((_t1 - _t0)) -le 2000 ]; then pass "$2: within 2 s ($((_t1 - _t0)) ms)"; else
		fail "$2: within 2 s" "$((_t1 - _t0)) ms"; fi
	is "$(status_field state "$A")/$(status_field exit_code "$A")/$(status_field class "$A")" "stopped/0/stopped" \
	    "$2: status.json stopped, exit_code 0"
	expect_event "$2: state stopped" '"event":"state","state":"stopped"' 5
	like "$(jf reason)" "SIG$1" "$2: the reason names the signal"
	expect_event "$2: exit 0 event" '"event":"exit".*"exit_code":0' 5
	like "$(cat "$A/.wa/lock")" "pid=0" "$2: the lock released"
}

# online
run_start "$A"
await '"event":"prekeys"'
stop TERM "online"
ok "wa-check OK after a stop" wa-check -d "$A"

# waiting out a ban
fakewa_call POST /fault "{\"kind\":\"ban\",\"code\":101,\"expire\":30,\"jid\":\"$JID\"}" > /dev/null
run_start "$A" --ban-wait 1s,60s
await '"event":"banned"'
stop INT "in a ban wait"
is "$(grep '"event":"state","state":"stopped"' "$RUN_EV" | fakewa_field prev)" banned "in a ban wait: stopped from banned"

# a login the server does not answer
fakewa_call POST /fault "{\"kind\":\"login-silent\",\"jid\":\"$JID\"}" > /dev/null
s=$(fakewa_call GET /info | fakewa_field seq)
run_start "$A" --login-timeout 60s
await '"event":"connecting"'
fakewa_wait "event=login&since=$s&timeout_ms=10000" > /dev/null
stop TERM "during a silent login"

# a stalled connection: the close frame gets no answer
run_start "$A"
await '"event":"prekeys"'
fakewa_call POST /fault '{"kind":"stall"}' > /dev/null
stop TERM "on a stalled connection"

# a second signal: at once
run_start "$A"
await '"event":"prekeys"'
fakewa_call POST /fault '{"kind":"stall"}' > /dev/null
t0=$(date +%s%3N)
kill -TERM "$RUN_PID"
await '"event":"disconnect"' 5 || kill -0 "$RUN_PID"
kill -TERM "$RUN_PID" 2> /dev/null
run_wait
t1=$(date +%s%3N)
is "$RC" 0 "a second SIGTERM: exit 0"
if [ $((t1 - t0)) -le 2000 ]; then pass "two signals: within 2 s ($((t1 - t0)) ms)"; else fail "two signals" "$((t1 - t0)) ms"; fi

# ---- SIGHUP ------------------------------------------------------------------

run_start "$A" -v --log "$T/run.log"
await '"event":"prekeys"'
like "$(cat "$T/run.log")" "wa-run: state connecting -> online" "--log: the log goes to the file"
like "$(head -n 1 "$T/run.log")" "Z wa-run: " "--log: each line has its time"
is "$(cat "$RUN_LOG")" "" "--log: nothing on stderr"
is "$(stat -c %a "$T/run.log")" 600 "--log: the file is 0600"
mv "$T/run.log" "$T/run.log.1"
kill -HUP "$RUN_PID"
i=0
until [ -s "$T/run.log" ]; do i=$((i + 1)); [ $i -lt 250 ] || break; sleep 0.02; done
like "$(cat "$T/run.log" 2> /dev/null)" "SIGHUP: reopened" "SIGHUP: a new log file"
fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
expect_event "SIGHUP: the session carries on" '"event":"online".*"outage":true'
like "$(cat "$T/run.log")" "disconnected: connection closed by the server" "SIGHUP: new lines go to the new file"
unlike "$(cat "$T/run.log.1")" "disconnected" "SIGHUP: ... not to the old one"
stop TERM "after SIGHUP"
run_start "$A"
await '"event":"prekeys"'
kill -HUP "$RUN_PID"
fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
expect_event "SIGHUP without --log: harmless" '"event":"online".*"outage":true'
is "$(grep -c '"event":"disconnect"' "$RUN_EV")" 1 "SIGHUP without --log: only the drop disconnected"
stop TERM "after SIGHUP without --log"

# ---- NOTIFY_SOCKET ---------------------------------------------------------------

SOCK=$T/notify.sock
bg wa-notify-listen "$SOCK" > "$T/notify" 9>&-
i=0
until [ -S "$SOCK" ]; do i=$((i + 1)); [ $i -lt 250 ] || break; sleep 0.02; done
ok "the notify listener is up" test -S "$SOCK"
fakewa_call POST /fault "{\"kind\":\"ban\",\"code\":101,\"expire\":1,\"jid\":\"$JID\"}" > /dev/null
NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=200000 run_start "$A" --ban-wait 1s,60s
await '"event":"banned"'
unlike "$(cat "$T/notify")" "READY=1" "no READY=1 before the login succeeded"
like "$(cat "$T/notify")" "STATUS=banned" "STATUS= says banned"
expect_event "online after the ban" '"event":"online"'
i=0
until grep -q READY=1 "$T/notify"; do i=$((i + 1)); [ $i -lt 250 ] || break; sleep 0.02; done
is "$(grep -c READY=1 "$T/notify")" 1 "READY=1 once logged in"
like "$(grep READY=1 "$T/notify")" "STATUS=online" "... with STATUS=online"
n0=$(grep -c '^WATCHDOG=1' "$T/notify")
i=0
until [ "$(grep -c '^WATCHDOG=1' "$T/notify")" -ge $((n0 + 5)) ]; do i=$((i + 1)); [ $i -lt 250 ] || break; sleep 0.02; done
ok "WATCHDOG=1 keeps coming (every 100 ms for WATCHDOG_USEC=200000)" \
    test "$(grep -c '^WATCHDOG=1' "$T/notify")" -ge $((n0 + 5))
stop TERM "with NOTIFY_SOCKET"
i=0
until grep -q STOPPING=1 "$T/notify"; do i=$((i + 1)); [ $i -lt 250 ] || break; sleep 0.02; done
like "$(cat "$T/notify")" "STOPPING=1" "STOPPING=1 at the end"
# WATCHDOG_PID of another process: no pings
: > "$T/notify"
NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=200000 WATCHDOG_PID=1 run_start "$A"
await '"event":"prekeys"'
i=0
until grep -q READY=1 "$T/notify"; do i=$((i + 1)); [ $i -lt 250 ] || break; sleep 0.02; done
like "$(cat "$T/notify")" "READY=1" "WATCHDOG_PID=1: READY=1 still"
fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
expect_event "WATCHDOG_PID=1: a reconnect later" '"event":"online".*"outage":true'
stop TERM "WATCHDOG_PID=1"
is "$(grep -c WATCHDOG=1 "$T/notify")" 0 "WATCHDOG_PID of another process: no WATCHDOG=1"

# ---- standard output nobody reads --------------------------------------------

# a fifo whose reader never reads: once the pipe is full (64 KiB), a plain
# write would block the session for good; follow it in the event history
mkfifo "$T/out.fifo"
sleep 600 < "$T/out.fifo" 9>&- &
SLEEPER=$!
echo "$SLEEPER" >> "$T/.pids"
EV0=$(wc -l < "$A/.wa/events.jsonl")
wa-run -d "$A" --backoff 1ms,1ms > "$T/out.fifo" 2> "$T/fifo.err" 9>&- &
RUN_PID=$!
echo "$RUN_PID" >> "$T/.pids"
RUN_EV=$A/.wa/events.jsonl EV_AT=$EV0
await '"event":"online"'
i=0
while [ $i -lt 60 ]; do
	fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
	await '"event":"online".*"outage":true' 10 || break
	i=$((i + 1))
done
is "$i" 60 "stdout nobody reads: 60 disconnects and reconnects, the session never blocked"
stop TERM "with stdout nobody reads"
# this run's lines in the history: seq 1, 2, 3 ... without a gap up to
# its exit event, one disconnect per drop
tail -n +"$((EV0 + 1))" "$A/.wa/events.jsonl" > "$T/hist"
sed -n 's/.*"seq":\([0-9]*\),.*/\1/p' "$T/hist" > "$T/seqs"
last=$(grep '"event":"exit"' "$T/hist" | fakewa_field seq)
is "$(tr '\n' ' ' < "$T/seqs")" "$(seq 1 "${last:-0}" | tr '\n' ' ')" \
    "... and every event is in the history (seq 1..$last, no gap, none twice)"
is "$(grep -c '"event":"disconnect"' "$T/hist")" 61 "... one disconnect per drop (and the stop)"
kill "$SLEEPER" 2> /dev/null
done_testing

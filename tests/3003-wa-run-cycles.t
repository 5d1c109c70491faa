#!/bin/sh
# 3003-wa-run-cycles: 1,000 connect/disconnect cycles in one wa-run, and
# its open descriptors (/proc/PID/fd) and resident memory (VmRSS) come back
# to where they were.
#
# A cycle is a whole connection: websocket, Noise handshake, login, then
# either fakewa's <failure reason=503> (queued in batches: no round trip
# through the test per cycle) or <success>, pre-key count, <active/> and a
# dropped TCP connection (one control call per cycle); one in ten is of
# the second kind.  Each also writes the status file and the event history
# (which rotates on the way).  Timers are short: --backoff 1ms,1ms.
#
# The baseline is taken online after a warm-up of 100 cycles (allocator
# caches, libcurl's first connection); then the same is measured online
# after half of the rest and after all of them.  Descriptors must be
# exactly the same; memory within 512 KiB of the baseline, and not growing
# from the half to the end by more than 256 KiB (a leak of 1 KiB a cycle
# would be 900 KiB).  Leaks proper are LeakSanitizer's (make check runs
# with detect_leaks=1, and wa-run exits normally here).  For this process
# ASan keeps no quarantine of freed memory and records no allocation
# stacks (its stack depot grows with every new stack it sees), so that
# VmRSS shows the program's own memory: measured flat to the kilobyte
# under ASan that way, and within 8 KiB in the release build.
#
# WA_RUN_CYCLES (default 1000) sets the count.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl > /dev/null 2>&1 || skip_all "curl missing"
[ -d /proc/self/fd ] || skip_all "no /proc"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"

N=${WA_RUN_CYCLES:-1000}
[ "$N" -ge 200 ] || N=200
FAKEWA_QUIET=1 fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0:malloc_context_size=0"
A=$T/a
run_folder "$A" || { fail "a Baileys folder"; done_testing; exit 1; }
JID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$A/creds.json")

fds() { ls "/proc/$RUN_PID/fd" | wc -l | tr -d ' '; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$RUN_PID/status"; }
DONE=0
# cycles K: K cycles, every tenth online-and-dropped, the rest refused
# logins; ends online (after one more dropped online connection)
cycles() {
	_k=$1
	while [ "$_k" -gt 0 ]; do
		_b=9; [ "$_k" -lt 10 ] && _b=$((_k - 1))
		[ "$_b" -gt 0 ] && fakewa_call POST /fault \
		    "{\"kind\":\"login-failure\",\"reason\":503,\"jid\":\"$JID\",\"count\":$_b}" > /dev/null
		# drop the online connection: the next $_b logins fail, then one succeeds
		fakewa_call POST /fault '{"kind":"drop"}' > /dev/null || return 1
		await '"event":"online"' 30 || return 1
		_k=$((_k - _b - 1))
		DONE=$((DONE + _b + 1))
	done
}

run_start "$A" --backoff 1ms,1ms --budget 0,0 --keepalive 20s,30s,10s
await '"event":"online"' || { fail "online"; done_testing; exit 1; }
t0=$(date +%s)
ok "warm-up: 100 cycles" cycles 100
F0=$(fds) R0=$(rss)
half=$(( (N - 100) / 2 ))
ok "$half cycles" cycles "$half"
F1=$(fds) R1=$(rss)
ok "$((N - 100 - half)) cycles" cycles $((N - 100 - half))
F2=$(fds) R2=$(rss)
t1=$(date +%s)
diag "cycles $DONE in $((t1 - t0)) s; fds $F0 / $F1 / $F2; VmRSS $R0 / $R1 / $R2 kB"
is "$DONE" "$((N))" "$N connect/disconnect cycles"
c=$(grep -c '"event":"connecting"' "$RUN_EV")
if [ "$c" -gt "$N" ]; then pass "wa-run opened $c connections"; else fail "connections" "$c"; fi
is "$(grep -c '"event":"online"' "$RUN_EV")" "$((N / 10 + 1))" "one in ten went online"
is "$F1/$F2" "$F0/$F0" "open descriptors back to the baseline ($F0)"
if [ $((R2 - R0)) -le 512 ]; then pass "VmRSS back to the baseline: $R0 -> $R2 kB"; else
	fail "VmRSS back to the baseline" "$R0 kB after the warm-up, $R2 kB at the end"; fi
if [ $((R2 - R1)) -le 256 ]; then pass "VmRSS not growing: $R1 -> $R2 kB over the second half"; else
	fail "VmRSS not growing" "$R1 -> $R2 kB"; fi
is "$(status_field reconnects "$A")" "$((c - 1))" "status.json counts every reconnect ($((c - 1)))"
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "SIGTERM: exit 0 (and no leak reported)"
unlike "$(cat "$RUN_LOG")" "LeakSanitizer" "no leak at exit"
ok "wa-check: the folder is fine" wa-check -d "$A"
done_testing

#!/bin/sh
# 3001-wa-run-backoff: over 50 induced transient failures (fakewa refuses
# the login with 503, then a dropped connection) wa-run's delays follow
# the policy of wa-run(1) BACKOFF, with --backoff 20ms,320ms:
#   bounds   the n-th failure since the last stable connection waits a
#            delay in [0, min(320, 20 * 2^n)] ms, and the next attempt
#            really starts that long after (not sooner, not much later);
#   jitter   the delays at the cap are spread over [0, 320], not fixed;
#   cap      none above 320 ms;
#   reset    after a connection that stayed online --stable (1 s), the next
#            failure starts again at 20 ms; one that dropped sooner does not.
# Then the process is idle while it waits: its CPU time (utime + stime from
# /proc/PID/stat) over the waits of a slower backoff (--backoff
# 1500ms,1500ms) and of a ban is about zero.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl > /dev/null 2>&1 || skip_all "curl missing"
[ -r /proc/self/stat ] || skip_all "no /proc"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
export WA_RUN_KEEPALIVE=200ms,300ms,2s WA_RUN_LOGIN_TIMEOUT=2s
A=$T/a
run_folder "$A" || { fail "a Baileys folder"; done_testing; exit 1; }
JID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$A/creds.json")
fail_logins() {
	fakewa_call POST /fault "{\"kind\":\"login-failure\",\"reason\":503,\"jid\":\"$JID\",\"count\":$1}" > /dev/null
}

BASE=20 CAP=320
ceiling() { _c=$BASE; _k=0; while [ $_k -lt "$1" ] && [ $_c -lt $CAP ]; do _c=$((_c * 2)); _k=$((_k + 1)); done
	[ $_c -gt $CAP ] && _c=$CAP; echo $_c; }

# follow N: the next N failures, each a disconnect, a reconnect and the
# following connecting; checks bounds and the real wait; delays appended to
# $T/delays, K counts failures since the last stable connection
bad=0 late=0 early=0 K=0
follow() {
	_fi=0
	while [ $_fi -lt "$1" ]; do
		await '"event":"disconnect"' || return 1
		[ "$(jf class)" = transient ] || { bad=$((bad + 1)); diag "not transient: $LINE"; }
		await '"event":"reconnect"' || return 1
		_fd=$(jf delay_ms) _ft=$(ms_of "$(jf ts)") _fc=$(ceiling $K)
		echo "$K $_fd $_fc" >> "$T/delays"
		if [ "$_fd" -lt 0 ] || [ "$_fd" -gt "$_fc" ]; then bad=$((bad + 1)); diag "failure $K: delay $_fd outside [0, $_fc]"; fi
		await '"event":"connecting"' || return 1
		_fw=$(( $(ms_of "$(jf ts)") - _ft ))
		[ $_fw -lt $((_fd - 1)) ] && { early=$((early + 1)); diag "failure $K: waited $_fw ms < delay $_fd"; }
		[ $_fw -gt $((_fd + 250)) ] && { late=$((late + 1)); diag "failure $K: waited $_fw ms for a delay of $_fd"; }
		K=$((K + 1)) _fi=$((_fi + 1))
	done
}

# ---- 25 refused logins, online, stable, 25 more ------------------------------

fail_logins 25
run_start "$A" --backoff ${BASE}ms,${CAP}ms --stable 1s --budget 0,0
ok "25 failures followed" follow 25
expect_event "after 25 failures: online" '"event":"online"'
is "$(jf attempt)/$(jf outage)" "25/true" "online at attempt 25, ending an outage"
# stay online past --stable: fakewa answers pings, each 200-300 ms apart
s=$(fakewa_call GET /info | fakewa_field seq)
for i in 1 2 3 4 5 6; do
	fakewa_wait "event=node&child=ping&since=$s&timeout_ms=5000" > "$T/ping" || break
	s=$(fakewa_field seq < "$T/ping")
done
is "$i" 6 "online through 6 keepalive pings (over 1 s: stable)"
fail_logins 24
fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
K=0
ok "25 more failures followed" follow 25
expect_event "after 25 more failures: online" '"event":"online"'

is "$(wc -l < "$T/delays" | tr -d ' ')" 50 "50 transient failures, each with a reconnect"
is "$bad" 0 "every delay within [0, min(cap, base * 2^n)], every disconnect transient"
is "$early" 0 "no attempt started before its delay"
is "$late" 0 "no attempt started more than 250 ms after its delay"
is "$(awk '$2 > 320' "$T/delays" | wc -l | tr -d ' ')" 0 "cap: no delay above 320 ms"
capped=$(awk '$3 == 320' "$T/delays" | wc -l | tr -d ' ')
low=$(awk '$3 == 320 && $2 < 160' "$T/delays" | wc -l | tr -d ' ')
high=$(awk '$3 == 320 && $2 >= 160' "$T/delays" | wc -l | tr -d ' ')
distinct=$(awk '$3 == 320 { print $2 }' "$T/delays" | sort -u | wc -l | tr -d ' ')
diag "$capped delays at the cap: $low below 160 ms, $high above; $distinct distinct values"
if [ "$low" -ge 5 ] && [ "$high" -ge 5 ] && [ "$distinct" -ge 20 ]; then
	pass "jitter: the capped delays spread over [0, 320] ($low low, $high high, $distinct distinct)"
else fail "jitter" "$low low, $high high, $distinct distinct"; fi
# without a reset these four would be drawn from [0, 320]: all four under
# their small ceilings by chance has odds of about 1 in 1000
is "$(sed -n 26,29p "$T/delays" | awk '$2 > 20 * 2 ^ (NR - 1)' | wc -l | tr -d ' ')" 0 \
    "reset: the 4 delays after a stable connection are within 20, 40, 80, 160 ms ($(sed -n 26,29p "$T/delays" | cut -d' ' -f2 | tr '\n' ' '))"
first=$(sed -n 1p "$T/delays" | cut -d' ' -f2)
if [ "$first" -le 20 ]; then pass "the very first delay is within the base (20 ms): $first"; else fail "first delay" "$first"; fi

# no reset after a short connection: 3 failures right after going online
fail_logins 3
fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
: > "$T/delays"
ok "4 more failures followed" follow 4
max=$(awk '{ if ($2 > m) m = $2 } END { print m + 0 }' "$T/delays")
if [ "$max" -gt 20 ]; then pass "online shorter than --stable: no reset (delays up to $max ms, ceiling 320)"; else
	fail "no reset" "max $max"; fi
expect_event "online again" '"event":"online"'
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "SIGTERM: exit 0"

# ---- idle while waiting ---------------------------------------------------------

# idle_window: CPU ticks of wa-run from now until 100 ms before the wall
# time AT_MS (a window inside the wait); adds to IDLE_MS and TICKS
IDLE_MS=0 TICKS=0
idle_window() {
	_c1=$(cputicks "$RUN_PID") _n=$(date +%s%3N)
	_left=$(( $1 - _n - 100 ))
	[ $_left -ge 200 ] || return 0
	sleep "$(awk -v m=$_left 'BEGIN { printf "%.3f", m / 1000 }')"
	_c2=$(cputicks "$RUN_PID")
	IDLE_MS=$((IDLE_MS + _left)) TICKS=$((TICKS + _c2 - _c1))
}
fail_logins 6
run_start "$A" --backoff 1500ms,1500ms --budget 0,0
i=0
while [ $i -lt 6 ]; do
	await '"event":"reconnect"' || break
	idle_window "$(ms_of "$(jf at)")"
	i=$((i + 1))
done
expect_event "slow backoff: online after 6 failures" '"event":"online"' 30
kill -TERM "$RUN_PID"
run_wait
fakewa_call POST /fault "{\"kind\":\"ban\",\"code\":101,\"expire\":3,\"jid\":\"$JID\"}" > /dev/null
run_start "$A" --ban-wait 1s,60s
await '"event":"banned"'
idle_window "$(ms_of "$(jf until)")"
expect_event "ban: online after the wait" '"event":"online"' 30
kill -TERM "$RUN_PID"
run_wait
hz=$(getconf CLK_TCK)
diag "waiting: $IDLE_MS ms measured, $TICKS ticks of CPU (1 tick = $((1000 / hz)) ms)"
if [ "$IDLE_MS" -ge 2000 ]; then pass "measured over $IDLE_MS ms of waiting"; else fail "enough waiting measured" "$IDLE_MS ms"; fi
if [ "$TICKS" -le 2 ]; then pass "CPU while waiting: $TICKS ticks in $IDLE_MS ms (idle in poll, no busy loop)"; else
	fail "CPU while waiting" "$TICKS ticks in $IDLE_MS ms"; fi
done_testing

#!/bin/sh
# 3002-wa-run-stall: a connection that goes silent (fakewa's stall fault:
# the TCP connection stays up, nothing more is answered) is found dead
# within the bound wa-run(1) documents, keepalive max + deadline, and
# handled as transient (408, backoff, online again on a new connection).
# With --keepalive 300ms,500ms,400ms the bound is 900 ms after the stall;
# measured from fakewa's own record of the fault to wa-run's disconnect
# event, five times, at different points of the ping cycle.  The default
# bound, 20-30 s + 10 s = 40 s, is the same rule with the default timers.
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
cp "$A/creds.json" "$T/creds.orig"

KMIN=300 KMAX=500 DEADLINE=400 SLACK=300
BOUND=$((KMAX + DEADLINE))
run_start "$A" --keepalive ${KMIN}ms,${KMAX}ms,${DEADLINE}ms --backoff 10ms,50ms
expect_event "online" '"event":"online"'
worst=0
for round in 1 2 3 4 5; do
	# a different point of the ping cycle each round: after 0..4 pongs
	s=$(fakewa_call GET /info | fakewa_field seq)
	k=0
	while [ $k -lt $((round - 1)) ]; do
		fakewa_wait "event=sent&attr.type=result&since=$s&timeout_ms=5000" > "$T/w" || break
		s=$(fakewa_field seq < "$T/w")
		k=$((k + 1))
	done
	r=$(fakewa_call POST /fault '{"kind":"stall"}')
	fs=$(printf '%s' "$r" | fakewa_field seq)
	t_stall=$(fakewa_call GET "/log?event=fault&since=$((fs - 1))" | fakewa_field t)
	if ! await '"event":"disconnect"' 10; then fail "round $round: stall detected"; break; fi
	is "$(jf class)/$(jf code)/$(jf action)" "transient/408/backoff" "round $round: the stall is transient, 408, backoff"
	like "$(jf reason)" "keepalive ping not answered within ${DEADLINE} ms" "round $round: found by the keepalive deadline"
	d=$(( $(ms_of "$(jf ts)") - t_stall ))
	[ $d -gt $worst ] && worst=$d
	if [ $d -ge 0 ] && [ $d -le $((BOUND + SLACK)) ]; then
		pass "round $round: detected $d ms after the stall (bound $BOUND ms)"
	else
		fail "round $round: detected within the bound" "$d ms after the stall, bound $BOUND (+$SLACK)"
	fi
	expect_event "round $round: online again on a new connection" '"event":"online".*"outage":true'
done
diag "slowest detection: $worst ms (bound $BOUND ms)"
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "SIGTERM: exit 0"
is "$(grep -c '"event":"disconnect"' "$RUN_EV")" 6 "5 stalls and the stop: 6 disconnects"
ok "creds.json byte-identical" cmp "$T/creds.orig" "$A/creds.json"

# a silent login (no <success>, no <failure>) is the login timeout's
JID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$A/creds.json")
fakewa_call POST /fault "{\"kind\":\"login-silent\",\"jid\":\"$JID\"}" > /dev/null
run_start "$A" --login-timeout 700ms --backoff 10ms,50ms
expect_event "silent login: disconnect" '"event":"disconnect"'
is "$(jf class)/$(jf code)" "transient/408" "silent login: transient 408"
like "$(jf reason)" "within 700 ms of the login" "silent login: the login timeout"
expect_event "silent login: online on the next attempt" '"event":"online"'
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "SIGTERM: exit 0"
done_testing

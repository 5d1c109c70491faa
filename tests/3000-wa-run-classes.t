#!/bin/sh
# 3000-wa-run-classes: every disconnect class of wa-run(1) against fakewa,
# each with the action taken, the exit code, the events printed (and the
# same lines in .wa/events.jsonl), the status file, what wa-check makes of
# it, and creds.json byte-identical afterwards (cmp against a copy):
#
#   restart    515 -> reconnect at once (no backoff state, outage false)
#   transient  dropped connection (428), stream:error 401 without
#              device_removed, 503, an unknown stream error, <failure 500>,
#              a silent login (timeout 408) -> backoff and reconnect
#              (outage true); the budget spent -> exit 12 retries_exhausted
#   replaced   the replaced fault, and a second client on a copy of the
#              folder -> exit 11, no fight
#   logged_out device_removed after login, <failure> 401, 403, 406 -> exit 10
#   banned     402 with a short expiry -> waited out, then online; a long
#              one -> exit 14
#   outdated   405 -> exit 13;  refused 409, downgrade_webclient -> exit 15
#   local      creds.json cannot be replaced (chattr +i) -> exit 74 failed
#   stopped    SIGTERM -> exit 0
# plus the refusals before connecting (no creds.json 66, torn 65, not
# paired 66, bad option 64), the --debug output free of key bytes, and
# wa-check on a killed wa-run (stale status: WARNING) and on silence
# beyond --max-silence (CRITICAL).
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl > /dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
export WA_RUN_BACKOFF=50ms,200ms WA_RUN_KEEPALIVE=2s,3s,2s WA_RUN_LOGIN_TIMEOUT=1s

A=$T/a
run_folder "$A" || { fail "a Baileys folder"; done_testing; exit 1; }
cp "$A/creds.json" "$T/creds.orig"
JID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$A/creds.json")
same_creds() { cmp -s "$T/creds.orig" "$1/creds.json" && pass "$2: creds.json byte-identical" ||
	fail "$2: creds.json byte-identical" "$(cmp "$T/creds.orig" "$1/creds.json" 2>&1)"; }
fault() { fakewa_call POST /fault "$1" > /dev/null || fail "fakewa takes the fault $1"; }
logins() { fakewa_call GET "/log?event=login" | grep -o '"event":"login"' | wc -l | tr -d ' '; }
# check SEV PATTERN DIR: wa-check's exit status and its line
check() {
	wa-check -v -d "$3" > "$T/chk" 2>&1
	_r=$?
	is "$_r" "$1" "wa-check exits $1 ($2)"
	like "$(cat "$T/chk")" "$2" "wa-check says: $2"
}

# ---- one wa-run through restart and the transient classes ----------------

run_start "$A" --debug
expect_event "start: pid and version" '"event":"start"'
is "$(jf pid)" "$RUN_PID" "start names the pid"
expect_event "state starting -> connecting" '"event":"state".*"state":"connecting".*"prev":"starting"'
expect_event "connecting, attempt 0" '"event":"connecting".*"attempt":0'
expect_event "state -> online" '"event":"state".*"state":"online"'
expect_event "online" '"event":"online"'
is "$(jf attempt)/$(jf downtime_ms)/$(jf outage)" "0/null/false" "online: attempt 0, no downtime, no outage"
expect_event "prekeys checked" '"event":"prekeys"'
is "$(jf uploaded)" 0 "the server holds enough pre-keys: none uploaded"
is "$(status_field state "$A")" online "status.json: online"
is "$(status_field pid "$A")" "$RUN_PID" "status.json: our pid"
like "$(cat "$A/.wa/status.json")" '"last_connected":"20' "status.json: last_connected set"

# restart: 515
fault '{"kind":"stream-error","code":515}'
expect_event "515: disconnect" '"event":"disconnect"'
is "$(jf class)/$(jf code)/$(jf action)" "restart/515/reconnect" "515: class restart, action reconnect"
expect_event "515: reconnect scheduled" '"event":"reconnect"'
is "$(jf delay_ms)/$(jf attempt)" "0/1" "515: reconnect at once (delay 0), attempt 1"
expect_event "515: state online -> connecting" '"event":"state".*"state":"connecting"'
is "$(jf prev)/$(jf class)/$(jf code)" "online/restart/515" "515: the state event names the class and code"
expect_event "515: online again" '"event":"online"'
is "$(jf attempt)/$(jf outage)" "1/false" "515: online at attempt 1, not an outage"
is "$(grep -c '"state":"backoff"' "$RUN_EV")" 0 "515: no backoff state"

# transient ones: each backs off and comes back
transient() {
	_what=$1 _code=$2
	expect_event "$_what: disconnect" '"event":"disconnect"'
	is "$(jf class)/$(jf code)/$(jf action)" "transient/$_code/backoff" "$_what: class transient, code $_code, backoff"
	expect_event "$_what: state backoff" '"event":"state".*"state":"backoff"'
	is "$(jf class)/$(jf code)" "transient/$_code" "$_what: the backoff state names the class and code"
	expect_event "$_what: reconnect scheduled" '"event":"reconnect"'
	_d=$(jf delay_ms)
	if [ "$_d" -ge 0 ] && [ "$_d" -le 200 ]; then pass "$_what: delay $_d ms within the cap (200)"; else
		fail "$_what: delay within the cap" "delay $_d"; fi
	expect_event "$_what: connecting" '"event":"connecting"'
	# the next login fails too: no online in between
	[ -n "${3:-}" ] && return
	expect_event "$_what: online again, an outage" '"event":"online".*"outage":true'
}
fault '{"kind":"drop"}'
transient "dropped connection" 428
fault '{"kind":"stream-error","code":401}'
transient "stream:error 401 without device_removed" 401
same_creds "$A" "after a transient 401"
fault '{"kind":"stream-error","code":503}'
transient "stream:error 503" 503
fault '{"kind":"stream-error","child":"xml-not-well-formed"}'
transient "an unknown stream error" 500
fault "{\"kind\":\"login-failure\",\"reason\":500,\"jid\":\"$JID\"}"
fault '{"kind":"drop"}'
transient "dropped" 428 then-fails
transient "<failure reason=500>" 500
fault "{\"kind\":\"login-silent\",\"jid\":\"$JID\"}"
fault '{"kind":"drop"}'
transient "dropped" 428 then-fails
transient "a login without answer (1 s timeout)" 408
like "$LINE" '"outage":true' "the outage ends online"
n=$(logins)
if [ "$n" -ge 10 ]; then pass "fakewa saw $n logins, every one of the same device"; else fail "logins" "$n"; fi
is "$(fakewa_call GET "/log?event=paired" | grep -c '"event":"paired"')" 0 "no re-pair"
is "$(status_field reconnects "$A")" 9 "status.json: 9 reconnects"

# stopped
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "SIGTERM: exit 0"
await '"event":"disconnect"'
is "$(jf class)/$(jf action)" "stopped/exit" "SIGTERM: disconnect class stopped, action exit"
expect_event "SIGTERM: state stopped" '"event":"state".*"state":"stopped"'
expect_event "SIGTERM: exit event" '"event":"exit".*"exit_code":0'
is "$(status_field state "$A")/$(status_field exit_code "$A")" "stopped/0" "status.json: stopped, exit_code 0"
ok "events.jsonl holds the lines printed on stdout" cmp "$RUN_EV" "$A/.wa/events.jsonl"
same_creds "$A" "after restart, transients and SIGTERM"
check 0 "paired as $JID" "$A"

# --debug: every node logged, no key bytes anywhere
like "$(cat "$RUN_LOG")" "<- <success" "--debug logs the nodes"
node -e '
const c = JSON.parse(require("fs").readFileSync(process.argv[1]));
const b = v => Buffer.from(v.data, "base64");
for (const k of [c.noiseKey.private, c.signedIdentityKey.private, c.signedPreKey.keyPair.private,
    c.pairingEphemeralKeyPair.private, c.noiseKey.public])
	console.log(b(k).toString("base64") + "\n" + b(k).toString("hex") + "\n" + b(k).toString("base64url"));
console.log(c.advSecretKey);' "$A/creds.json" > "$T/canaries"
leak=0
while read -r k; do
	[ -n "$k" ] || continue
	grep -qF -- "$k" "$RUN_LOG" "$RUN_EV" && leak=$((leak + 1))
	grep -qF -- "$(printf '%s' "$k" | cut -c1-16)" "$RUN_LOG" "$RUN_EV" && leak=$((leak + 1))
done < "$T/canaries"
is "$leak" 0 "--debug output and events hold no key (base64, hex, prefix) of creds.json"

# ---- the classes that exit ------------------------------------------------

# exit_case NAME CODE STATE CLASS DCCODE: after run_wait, the last events
exit_case() {
	is "$RC" "$2" "$1: exit $2"
	await '"event":"disconnect"' 5
	is "$(jf class)/$(jf code)/$(jf action)" "$4/$5/exit" "$1: disconnect class $4, code $5, action exit"
	expect_event "$1: state $3" "\"event\":\"state\",\"state\":\"$3\"" 5
	is "$(jf class)/$(jf code)" "$4/$5" "$1: the state event names class and code"
	expect_event "$1: exit event" "\"event\":\"exit\".*\"exit_code\":$2" 5
	is "$(status_field state "$A")/$(status_field exit_code "$A")/$(status_field class "$A")/$(status_field code "$A")" \
	    "$3/$2/$4/$5" "$1: status.json $3, exit_code $2, class $4, code $5"
	same_creds "$A" "$1"
}

# replaced: the fault
run_start "$A"
await '"event":"online"'
fault '{"kind":"replaced"}'
run_wait
exit_case "replaced" 11 replaced replaced 440
is "$(grep -c '"event":"reconnect"' "$RUN_EV")" 0 "replaced: no reconnect (no fight)"
check 2 "wa-run reports replaced" "$A"

# replaced: a second client with the same credentials
rm -rf "$T/copy"
cp -a "$A" "$T/copy" && rm -rf "$T/copy/.wa"
run_start "$A"
await '"event":"online"'
s=$(fakewa_call GET /info | fakewa_field seq)
ok "a second client logs in with a copy of the folder" wa-session-login "$T/copy"
run_wait
exit_case "replaced by a second client" 11 replaced replaced 440
is "$(fakewa_call GET "/log?event=login&since=$s" | grep -o '"event":"login"' | wc -l | tr -d ' ')" 1 \
    "no fight: wa-run did not log in again after being replaced"

# logged out: device removed after login (kept registered for the next cases)
run_start "$A"
await '"event":"online"'
fault '{"kind":"device-removed","keep":true}'
run_wait
exit_case "device_removed" 10 logged_out logged_out 401
like "$(cat "$RUN_LOG")" "pair again with wa-pair" "device_removed: stderr says what to do"
check 2 "wa-run reports logged_out" "$A"
for r in 401 403 406; do
	fault "{\"kind\":\"login-failure\",\"reason\":$r,\"jid\":\"$JID\"}"
	run_start "$A"
	run_wait
	exit_case "<failure reason=$r>" 10 logged_out logged_out $r
done

# outdated, refused
fault "{\"kind\":\"login-failure\",\"reason\":405,\"jid\":\"$JID\"}"
run_start "$A"
run_wait
exit_case "<failure reason=405>" 13 outdated outdated 405
check 2 "wa-run reports outdated" "$A"
fault "{\"kind\":\"login-failure\",\"reason\":409,\"jid\":\"$JID\"}"
run_start "$A"
run_wait
exit_case "<failure reason=409>" 15 refused refused 409
check 2 "wa-run reports refused" "$A"
run_start "$A"
await '"event":"online"'
fakewa_call POST /push '{"node":{"tag":"ib","attrs":{},"content":[{"tag":"downgrade_webclient","attrs":{}}]}}' > /dev/null
run_wait
exit_case "<downgrade_webclient/>" 15 refused refused 411

# banned: a short ban is waited out, a long one exits
fault "{\"kind\":\"ban\",\"code\":101,\"expire\":2,\"jid\":\"$JID\"}"
run_start "$A" --ban-wait 1s,60s
expect_event "ban: disconnect" '"event":"disconnect"'
is "$(jf class)/$(jf code)/$(jf action)" "banned/402/wait" "ban: class banned, code 402, action wait"
expect_event "ban: state banned" '"event":"state","state":"banned"'
expect_event "ban: banned event" '"event":"banned"'
is "$(jf ban_code)" 101 "ban: the ban code"
t0=$(ms_of "$(jf ts)")
until=$(ms_of "$(jf until)")
d=$((until - t0))
if [ "$d" -ge 1900 ] && [ "$d" -le 2100 ]; then pass "ban: until is the expiry (2 s) away ($d ms)"; else
	fail "ban: until" "$d ms"; fi
like "$(cat "$A/.wa/status.json")" '"state":"banned"' "ban: status.json says banned while waiting"
like "$(cat "$A/.wa/status.json")" '"next_attempt":"20' "ban: status.json has next_attempt"
check 2 "wa-run reports banned" "$A"
expect_event "ban: connecting after the wait" '"event":"connecting"'
d=$(( $(ms_of "$(jf ts)") - t0 ))
if [ "$d" -ge 1950 ] && [ "$d" -le 4000 ]; then pass "ban: waited the expiry out ($d ms)"; else
	fail "ban: waited" "$d ms"; fi
expect_event "ban: online after it" '"event":"online".*"outage":true'
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "ban: then SIGTERM exits 0"
same_creds "$A" "ban waited out"
fault "{\"kind\":\"ban\",\"code\":102,\"expire\":3600,\"jid\":\"$JID\"}"
run_start "$A" --ban-wait 1s,60s
run_wait
exit_case "ban longer than --ban-wait" 14 banned banned 402
check 2 "wa-run reports banned" "$A"

# the budget: --budget 3,0, four failed logins
fault "{\"kind\":\"login-failure\",\"reason\":503,\"jid\":\"$JID\",\"count\":4}"
s=$(fakewa_call GET /info | fakewa_field seq)
run_start "$A" --budget 3,0
run_wait
is "$RC" 12 "budget: exit 12"
is "$(grep -c '"event":"reconnect"' "$RUN_EV")" 3 "budget: 3 reconnects, then it gives up"
is "$(fakewa_call GET "/log?event=login&since=$s" | grep -o '"event":"login"' | wc -l | tr -d ' ')" 4 \
    "budget: 4 logins in all"
await '"event":"disconnect".*"action":"exit"'
is "$(jf class)/$(jf code)" "transient/503" "budget: the last disconnect is transient 503, action exit"
expect_event "budget: state retries_exhausted" '"event":"state","state":"retries_exhausted"'
like "$(jf reason)" "reconnect budget spent" "budget: the reason says so"
is "$(status_field state "$A")/$(status_field exit_code "$A")" "retries_exhausted/12" "budget: status.json"
check 2 "wa-run reports retries_exhausted" "$A"
same_creds "$A" "budget spent"

# local: creds.json cannot be replaced (the login brings a new me.lid)
L=$T/local
cp -a "$A" "$L" && rm -rf "$L/.wa"
node -e '
const fs = require("fs"), f = process.argv[1], c = JSON.parse(fs.readFileSync(f));
c.me.lid = "1:1@lid"; fs.writeFileSync(f, JSON.stringify(c));' "$L/creds.json"
cp "$L/creds.json" "$T/creds.local"
unfreeze() { chattr -i "$T/local/creds.json" 2> /dev/null; }
if command -v chattr > /dev/null 2>&1 && chattr +i "$L/creds.json" 2> /dev/null; then
	on_exit unfreeze
	run_start "$L"
	run_wait
	unfreeze
	is "$RC" 74 "local: a creds.json that cannot be written: exit 74"
	await '"event":"disconnect"' 5
	is "$(jf class)/$(jf action)" "local/exit" "local: class local, action exit"
	expect_event "local: state failed" '"event":"state","state":"failed"' 5
	is "$(status_field state "$L")/$(status_field exit_code "$L")" "failed/74" "local: status.json failed, 74"
	ok "local: creds.json as it was" cmp "$T/creds.local" "$L/creds.json"
	check 2 "wa-run reports failed" "$L"
else
	pass "local: # SKIP chattr +i not available here"
fi

# ---- refusals before connecting ------------------------------------------

R=$T/r
mkdir -m 700 "$R"
expect_exit 66 "no creds.json: exit 66" wa-run -d "$R"
like "$(cat "$T/err")" "$R/creds.json' does not exist" "no creds.json: the message names the file"
is "$(status_field state "$R")/$(status_field exit_code "$R")" "failed/66" "no creds.json: status.json failed, 66"
head -c 100 "$T/creds.orig" > "$R/creds.json"
cp "$R/creds.json" "$T/torn"
expect_exit 65 "a torn creds.json: exit 65" wa-run -d "$R"
like "$(cat "$T/err")" "creds.json" "torn: the message names the file"
ok "torn: creds.json untouched" cmp "$T/torn" "$R/creds.json"
node -e '
const fs = require("fs"), c = JSON.parse(fs.readFileSync(process.argv[1])); delete c.account;
fs.writeFileSync(process.argv[2], JSON.stringify(c));' "$T/creds.orig" "$R/creds.json"
expect_exit 66 "not paired: exit 66" wa-run -d "$R"
like "$(cat "$T/err")" "not paired" "not paired: says so"
expect_exit 64 "--backoff 5s,1s: exit 64" wa-run -d "$A" --backoff 5s,1s
expect_exit 64 "WA_RUN_KEEPALIVE=x: exit 64" env WA_RUN_KEEPALIVE=x wa-run -d "$A"
like "$(cat "$T/err")" "WA_RUN_KEEPALIVE" "a bad variable is named"

# ---- wa-check on a killed wa-run, and silence -------------------------------

run_start "$A"
await '"event":"online"'
kill -9 "$RUN_PID"
run_wait
check 1 "stale status: wa-run pid $RUN_PID is not running" "$A"
i=0
while wa-check -d "$A" --max-silence 1s > "$T/chk" 2>&1; [ $? -ne 2 ] && [ $i -lt 250 ]; do
	i=$((i + 1)); sleep 0.02
done
# "nothing received for ..." when wa-run wrote a last_inbound before the
# kill, "nothing received yet, ..." when the kill came first: both are
# the silence problem (a race in the test, not in wa-check)
like "$(cat "$T/chk")" "nothing received" "silence beyond --max-silence 1s: CRITICAL"
ok "restarted after the kill: online, no re-pair" sh -c '
	: > "$2"    # made here: the redirection below happens in the child
	wa-run -d "$1" >> "$2" 2>&1 &
	p=$!; i=0
	until grep -q "\"event\":\"online\"" "$2"; do i=$((i + 1)); [ $i -lt 500 ] || exit 1; sleep 0.02; done
	kill -TERM $p; wait $p' sh "$A" "$T/again"
same_creds "$A" "the end"
done_testing

#!/bin/sh
# 1002-wa-check-status: wa-run's status file, read tolerantly, with
# hand-written files (wa-run comes later): --max-silence against
# last_inbound or, before anything arrived, the last state change;
# logged_out and replaced are CRITICAL; a dead pid with a non-final state
# is a stale status (WARNING); a torn file is a WARNING; --max-silence
# without a status file is UNKNOWN.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

K32A=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=
K32B=ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=
K64=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA==
kp() { printf '{"private":{"type":"Buffer","data":"%s"},"public":{"type":"Buffer","data":"%s"}}' $K32A $K32B; }
creds() {
	printf '{"noiseKey":%s,"pairingEphemeralKeyPair":%s,"signedIdentityKey":%s,' "$(kp)" "$(kp)" "$(kp)"
	printf '"signedPreKey":{"keyPair":%s,"signature":{"type":"Buffer","data":"%s"},"keyId":1},' "$(kp)" $K64
	printf '"registrationId":1234,"advSecretKey":"%s","me":{"id":"15550001111:3@s.whatsapp.net"},' $K32A
	printf '"account":{"details":"%s","accountSignatureKey":"%s","accountSignature":"%s","deviceSignature":"%s"}}' \
	    $K32A $K32B $K64 $K64
}
mkfolder() {
	mkdir -m 700 "$1" "$1/.wa"
	creds > "$1/creds.json"
	kp > "$1/pre-key-1.json"
	chmod 600 "$1"/*
}
status() { printf '%s' "$1" > auth/.wa/status.json; chmod 600 auth/.wa/status.json; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
out() { cat "$T/out"; }

cd "$T" || exit 1
mkfolder auth
now=$(date +%s)

expect_exit 0 "no status file, no --max-silence: OK" wa-check -d auth
expect_exit 3 "--max-silence without a status file: UNKNOWN" wa-check -d auth --max-silence 10m
like "$(out)" "WA UNKNOWN - 'auth/.wa/status.json': no status file, so silence cannot be checked (is wa-run running on this folder?)" "  says why"

status "{\"state\":\"connected\",\"since\":\"$(iso $((now - 3600)))\",\"pid\":$$,\"last_inbound\":$((now - 30)),\"future\":[1,2]}"
before=$(tree_state auth)
expect_exit 0 "connected, inbound 30 s ago, --max-silence 5m: OK" wa-check -d auth --max-silence 5m
like "$(out)" ", wa-run connected since $(iso $((now - 3600)))" "  state in the summary"
like "$(out)" " silence=" "  silence in the perfdata"
like "$(out)" "s;;300" "  with the maximum"
expect_exit 0 "--json has the run object" wa-check -d auth --json
like "$(out)" "\"run\":{\"state\":\"connected\",\"since\":\"$(iso $((now - 3600)))\",\"pid\":$$,\"alive\":true,\"last_inbound\":\"$(iso $((now - 30)))\",\"last_error\":null,\"class\":null,\"silence\":" "  state, since, pid, alive, last_inbound"
is "$(tree_state auth)" "$before" "wa-check changed nothing"

status "{\"state\":\"connected\",\"since\":$((now - 7200)),\"pid\":$$,\"last_inbound\":$(((now - 5400) * 1000))}"
expect_exit 2 "nothing for 1h30m, --max-silence 1h: CRITICAL" wa-check -d auth --max-silence 1h
like "$(out)" "WA CRITICAL - 'auth/.wa/status.json': nothing received for 1h30m (last inbound $(iso $((now - 5400)))), over the maximum silence of 1h" "  how long, since when (milliseconds understood)"
expect_exit 0 "the same without --max-silence: OK" wa-check -d auth

status "{\"state\":\"connecting\",\"since\":\"$(iso $((now - 600)))\",\"pid\":$$}"
expect_exit 2 "nothing received yet, state since 10 min, --max-silence 5m: CRITICAL" wa-check -d auth --max-silence 5m
like "$(out)" "nothing received yet, and state 'connecting' since $(iso $((now - 600))) (10m" "  uses the state change"
like "$(out)" " ago), over the maximum silence of 5m |" "  and the maximum"
expect_exit 0 "... --max-silence 20m: OK" wa-check -d auth --max-silence 20m

status "{\"state\":\"logged_out\",\"since\":\"$(iso $((now - 60)))\",\"last_error\":\"401\",\"class\":\"auth\"}"
expect_exit 2 "logged_out: CRITICAL" wa-check -d auth
like "$(out)" "'auth/.wa/status.json': wa-run reports logged_out since $(iso $((now - 60))): the phone removed this device; pair again with wa-pair" "  pair again"
expect_exit 2 "--json has last_error and class" wa-check -d auth --json
like "$(out)" '"last_error":"401","class":"auth"' "  both"
status "{\"state\":\"replaced\",\"since\":$((now - 60))}"
expect_exit 2 "replaced: CRITICAL" wa-check -d auth
like "$(out)" "wa-run reports replaced since" "  says replaced"

status '{"state":"connected","since":1795256000,"pid":999999999}'
expect_exit 1 "dead pid, state connected: stale status, WARNING" wa-check -d auth
like "$(out)" "WA WARNING - 'auth/.wa/status.json': stale status: wa-run pid 999999999 is not running, but its status still says 'connected' since 2026-11-21T10:13:20Z" "  names pid and state"
status '{"state":"stopped","since":1795256000,"pid":999999999}'
expect_exit 0 "dead pid after 'stopped': OK" wa-check -d auth

status '{"state":"conn'
expect_exit 1 "torn status file: WARNING" wa-check -d auth
like "$(out)" "'auth/.wa/status.json': not valid JSON at byte 14: " "  byte offset"
like "$(out)" "; ignored" "  ignored otherwise"
status '["connected"]'
expect_exit 1 "status file not an object: WARNING" wa-check -d auth
status '{"state":42,"since":"last tuesday","pid":"12"}'
expect_exit 0 "fields of the wrong type count as absent" wa-check -d auth
expect_exit 3 "... and then silence cannot be checked: UNKNOWN" wa-check -d auth --max-silence 1h
like "$(out)" "has neither last_inbound nor since" "  says why"
rm auth/.wa/status.json
ln -s /etc/hostname auth/.wa/status.json
expect_exit 1 "a symlinked status file: WARNING, not followed" wa-check -d auth
like "$(out)" "'auth/.wa/status.json': not a regular file (a symbolic link?); ignored" "  says so"
done_testing

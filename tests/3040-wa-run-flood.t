#!/bin/sh
# 3040-wa-run-flood: what the receive benchmark (bench/recv.mjs) relies
# on, small.  fakewa's POST /floods with several senders sends message N
# from sender (N-1) mod K, encrypted first and routed in one burst; wa-run
# stores every one in its inbox once and acks them all; with -v it says at
# exit how many stanzas it committed in how many group commits and where
# the time went (the line bench/recv.mjs reads).  fakewa runs with
# logNodes=false, as the benchmark does: its events keep no stanza bodies.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl > /dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"

fakewa_start --config logNodes=false || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
A=$T/a
run_folder "$A" || { fail "a Baileys folder"; done_testing; exit 1; }
# matches TEXT ERE DESC
matches() {
	if printf '%s\n' "$1" | grep -Eq -e "$2"; then pass "$3"; else fail "$3" "/$2/ does not match:" "$1"; fi
}

run_start "$A" -v --inbox "$T/inbox"
expect_event "wa-run is online" '"event":"online"'
s=$(fakewa_call GET /info | fakewa_field seq)
fakewa_call GET "/wait?event=offline-flushed&since=0&timeout_ms=20000" > /dev/null
DEV=$(fakewa_call GET /connections | grep -o '"login":"[^"]*"' | head -n 1 | cut -d'"' -f4)
ME=${DEV%%:*}
matches "$DEV" '^[0-9]+:[0-9]+@s\.whatsapp\.net$' "fakewa has wa-run's device ($DEV)"

r=$(fakewa_call POST /floods "{\"to\":\"$ME@s.whatsapp.net\",\"count\":30,\"senders\":3,\"phone\":\"15559990100\"}")
matches "$r" '"senders":\["15559990100:1@s.whatsapp.net","15559990101:1@s.whatsapp.net","15559990102:1@s.whatsapp.net"\]' \
	"POST /floods: three senders, numbered from phone"
matches "$r" '"encryptMs":[0-9]+,"routeMs":[0-9]+' "... its two phases timed"
LAST=$(printf '%s' "$r" | fakewa_field last)
ok "wa-run acks the last of them" fakewa_call GET "/wait?event=message-acked&ev.id=$LAST&since=$s&timeout_ms=30000"
is "$(fakewa_call GET "/messages?state=acked&device=$DEV" | grep -o '"state":"acked"' | wc -l | tr -d ' ')" 30 \
	"fakewa: all 30 acked"
ev=$(fakewa_call GET "/log?event=sent&since=$s")
like "$ev" '"node":{"tag":"message","attrs":{' "logNodes=false: the sent events keep the stanza's tag and attributes ..."
unlike "$ev" '"content"' "... and not its content"
is "$(ls "$T/inbox/new" | wc -l | tr -d ' ')" 30 "the inbox holds 30 files"
cat "$T/inbox/new/"* | grep -o '"text":"flood [0-9]*"' | sort -u > "$T/texts"
is "$(wc -l < "$T/texts" | tr -d ' ')" 30 "... flood 1 to flood 30, each once"
for k in 0 1 2; do
	n=$(cat "$T/inbox/new/"* | grep -o "\"sender\":\"1555999010$k@s\.whatsapp\.net\"" | wc -l | tr -d ' ')
	is "$n" 10 "... 10 from sender 1555999010$k"
done
# message N from sender (N-1) mod 3: message 4 from the first
like "$(grep -l '"text":"flood 4"' "$T/inbox/new/"* | xargs cat)" '"sender":"15559990100@' "message 4 is the first sender's"

kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "wa-run stops: exit 0"
matches "$(cat "$RUN_LOG")" 'inbox: [0-9]+ stanzas in [0-9]+ group commits \(largest [0-9]+\); [0-9]+ ms taking them \(decrypt, stage\), [0-9]+ ms committing and replying' \
	"-v: at exit, the group commits and where the time went"
done_testing

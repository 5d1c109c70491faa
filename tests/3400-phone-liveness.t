#!/bin/sh
# 3400-phone-liveness: wa-run records when our primary phone (device 0 of
# our own account) last sent anything, in status.json's phone_seen:
#   activity   fakewa's POST /phone/activity pushes a receipt from the
#              phone (PN form, then LID form): phone_seen is written, the
#              metrics file follows it;
#   quiet      phone_seen 8 days old in the status file (time injected:
#              the test writes the previous run's status; wa-run carries
#              phone_seen and phone_pinged over a restart) and --phone-ping
#              7d: phone_offline fires once, and the ping goes out: a
#              category=peer message to our own phone, push_priority high,
#              encrypted over the session the phone made with us (fakewa's
#              phone-ping event); fakewa's phone answers (peer_msg receipt
#              from device 0): phone_seen is now, phone_pinged written;
#   silent     the phone does not answer (phoneAnswers false): the event
#              once, one ping (at most one a day), none after; the phone
#              comes back: "online again";
#   off        --phone-ping 0: neither event nor ping.
# wa-check's WARNING/CRITICAL at 12/13 days is tests/1020.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl > /dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
export WA_RUN_BACKOFF=1s,2s WA_RUN_KEEPALIVE=2s,3s,2s WA_RUN_LOGIN_TIMEOUT=2s

A=$T/a
run_folder "$A" || { fail "a Baileys folder"; done_testing; exit 1; }
JID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$A/creds.json")
PN=${JID%%:*}
M=$T/wa.prom
L="account=\"$JID\",dir=\"$A\""
metric() { node "$WA_TOP/tests/promcheck.mjs" --json "$M" 2> /dev/null |
	node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8"))[process.argv[1]]; console.log(v === undefined ? "" : v)' "$1"; }
field() { status_field "$1" "$A"; }
# poll CMD...: until CMD succeeds (20 s)
poll() { _i=0; until "$@"; do _i=$((_i + 1)); [ $_i -lt 200 ] || return 1; sleep 0.1; done; }
seen_after() { _s=$(field phone_seen); [ -n "$_s" ] && [ "$_s" != null ] && [ "$(ms_of "$_s")" -ge "$1" ]; }
metric_after() { _v=$(metric "wa_phone_last_seen_timestamp_seconds{$L}"); [ -n "$_v" ] &&
	[ "$(node -e 'console.log(process.argv[1] * 1000 >= process.argv[2] ? 1 : 0)' "$_v" "$1")" = 1 ]; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# set_phone SEEN_DAYS_AGO PINGED_DAYS_AGO|null: the status file a previous wa-run left
set_phone() {
	node -e '
const fs = require("fs"), f = process.argv[1], s = JSON.parse(fs.readFileSync(f, "utf8"));
const ago = (d) => new Date(Date.now() - d * 86400000).toISOString();
s.phone_seen = ago(Number(process.argv[2]));
s.phone_pinged = process.argv[3] === "null" ? null : ago(Number(process.argv[3]));
fs.writeFileSync(f, JSON.stringify(s) + "\n");' "$A/.wa/status.json" "$1" "$2"
}
pings() { fakewa_call GET "/log?event=phone-ping" | grep -o '"event":"phone-ping"' | wc -l | tr -d ' '; }
stop_run() { kill -TERM "$RUN_PID"; run_wait; is "$RC" 0 "$1: SIGTERM, exit 0"; }

# ---- activity recorded ---------------------------------------------------------
run_start "$A" --metrics "$M" --retry-wait 1s
expect_event "online" '"event":"online"'
is "$(field phone_seen)" null "phone_seen is null before the phone said anything"
t0=$(now_ms)
ok "fakewa: the phone reads a chat (a receipt from $PN@s.whatsapp.net)" fakewa_call POST /phone/activity "{\"jid\":\"$JID\"}"
like "$(cat "$T/out")" "\"from\":\"$PN@s.whatsapp.net\"" "  sent from device 0, PN form"
poll seen_after "$t0" && pass "phone_seen written to status.json" || fail "phone_seen written to status.json" "$(cat "$A/.wa/status.json")"
poll metric_after "$t0" && pass "  and in the metrics" || fail "  and in the metrics" "$(grep phone "$M")"
t1=$(now_ms)
ok "the phone again, from its LID" fakewa_call POST /phone/activity "{\"jid\":\"$JID\",\"form\":\"lid\"}"
like "$(cat "$T/out")" "@lid\"" "  sent from the LID"
poll metric_after "$t1" && pass "  phone_seen moves on (metrics)" || fail "  phone_seen moves on (metrics)" "$(grep phone "$M")"
unlike "$(cat "$RUN_EV")" '"event":"phone_offline"' "no phone_offline while the phone is active"
is "$(pings)" 0 "no ping while the phone is active"
stop_run activity

# ---- quiet for 8 days, --phone-ping 7d: event, ping, the phone answers --------------
set_phone 8 null
t2=$(now_ms)
run_start "$A" --metrics "$M" --retry-wait 1s --phone-ping 7d
expect_event "online" '"event":"online"'
expect_event "phone_offline fires" '"event":"phone_offline"'
is "$(jf pinged)" true "  it says the ping went out"
[ "$(jf quiet_ms)" -ge $((8 * 86400000 - 60000)) ] && pass "  quiet_ms is 8 days" || fail "  quiet_ms is 8 days" "$LINE"
fakewa_wait "event=phone-ping" > "$T/ping"
like "$(cat "$T/ping")" "\"to\":\"$PN@s.whatsapp.net\"" "fakewa: a peer message to our own phone (device 0)"
like "$(cat "$T/ping")" "\"pushPriority\":\"high\"" "  push_priority high"
like "$(cat "$T/ping")" "\"answered\":true" "  the phone answered"
grep -q '"enc":"\(msg\|pkmsg\)"' "$T/ping" && pass "  encrypted (enc msg or pkmsg)" || fail "  encrypted" "$(cat "$T/ping")"
poll seen_after "$t2" && pass "the answer (peer_msg receipt from device 0) is phone activity: phone_seen is now" ||
	fail "the answer is phone activity" "$(cat "$A/.wa/status.json")"
p=$(field phone_pinged)
[ "$p" != null ] && [ "$(ms_of "$p")" -ge "$t2" ] && pass "phone_pinged written" || fail "phone_pinged written" "$p"
poll grep -q "the phone is online again" "$RUN_LOG" && pass "the log says the phone is back" || fail "the log says the phone is back" "$(tail -3 "$RUN_LOG")"
stop_run answered
is "$(grep -c '"event":"phone_offline"' "$A/.wa/events.jsonl")" 1 "phone_offline is in the event history once"

# ---- silent: no answer; the event once, one ping ---------------------------------------
fakewa_call POST /config '{"phoneAnswers":false}' > /dev/null
set_phone 9 null
run_start "$A" --retry-wait 1s --phone-ping 7d
expect_event "online" '"event":"online"'
expect_event "phone_offline fires" '"event":"phone_offline"'
n=$(pings)
is "$n" 2 "one more ping (2 in all)"
# a negative check: nothing more over 6 ticks (500 ms each with --retry-wait 1s)
sleep 3
is "$(grep -c '"event":"phone_offline"' "$RUN_EV")" 1 "no second phone_offline over 6 ticks"
is "$(pings)" 2 "no second ping (at most one a day)"
fakewa_call POST /phone/activity "{\"jid\":\"$JID\"}" > /dev/null
poll grep -q "the phone is online again" "$RUN_LOG" && pass "the phone comes back: the log says so" || fail "the phone comes back" "$(tail -3 "$RUN_LOG")"
stop_run silent

# ---- --phone-ping 0: off ---------------------------------------------------------------
set_phone 9 null
run_start "$A" --retry-wait 1s --phone-ping 0
expect_event "online" '"event":"online"'
sleep 2
unlike "$(cat "$RUN_EV")" '"event":"phone_offline"' "--phone-ping 0: no phone_offline"
is "$(pings)" 2 "  no ping"
stop_run off
expect_exit 64 "--phone-ping x: usage" wa-run -d "$A" --phone-ping x
like "$(cat "$T/err")" "--phone-ping: 'x' is not a duration" "  says so"
done_testing

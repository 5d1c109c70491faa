#!/bin/sh
# 3008-wa-run-operator: wa-run behaves as an operator expects.
#
# - Standard output and standard error into one pipe nobody reads
#   (2>&1 | stalled reader): the session stays online across keepalives
#   (fakewa sees the pings) and reconnects; with only standard output
#   stalled, the "not being read" warning is rate-limited.
# - SIGTERM before the handlers are in place (inherited blocked, so it is
#   pending from the first instruction on), and 30 times right after
#   main begins: exit 0, status.json stopped.
# - --on-event naming a program that does not exist, is not executable
#   or is not in PATH: refused at start, exit 64, nothing touched.
# - Events carry absolute paths when -d is relative, and so does
#   WA_AUTH_DIR.
# - Notifications: an outage notified as down is notified as over
#   (online again, or the final state it ended in).
# - Wording: "not paired" once, "session ended: closed" once.
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
WARUN=$(command -v wa-run)

# stopped_ok DESC: status.json says stopped with exit code 0
stopped_ok() {
	is "$(status_field state "$A")/$(status_field exit_code "$A")" "stopped/0" "$1: status.json stopped, exit_code 0"
}
# alive PID: running (a zombie is not)
alive() {
	case $(cut -d' ' -f3 "/proc/$1/stat" 2> /dev/null) in Z|X|'') return 1 ;; esac
	return 0
}
# is_warun PID: the process has exec'd wa-run (not the forked shell, not env)
is_warun() { [ "$(readlink "/proc/$1/exe" 2> /dev/null)" = "$WARUN" ]; }
# sigterm_owned PID: SIGTERM is blocked or caught by the process (main began)
sigterm_owned() {
	awk '/^Sig(Blk|Cgt):/ { v = substr($2, length($2) - 3, 1); if (index("4567cdefCDEF", v)) f = 1 }
	    END { exit !f }' "/proc/$1/status" 2> /dev/null
}

# ---- standard output and standard error into a pipe nobody reads -----------------

mkfifo "$T/both.fifo"
sleep 600 < "$T/both.fifo" 9>&- &
echo $! >> "$T/.pids"
SLEEPER=$!
EV0=$(cat "$A/.wa/events.jsonl" 2> /dev/null | wc -l)
wa-run -d "$A" --debug --keepalive 300ms,300ms,2s --backoff 1ms,1ms > "$T/both.fifo" 2>&1 9>&- &
RUN_PID=$!
echo "$RUN_PID" >> "$T/.pids"
RUN_EV=$A/.wa/events.jsonl EV_AT=$EV0 RUN_LOG=/dev/null
await '"event":"online"'
# --debug logs every node, pings included: well over the pipe's 64 KiB
i=0
while [ $i -lt 40 ]; do
	fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
	await '"event":"online".*"outage":true' 10 || break
	i=$((i + 1))
done
is "$i" 40 "stdout and stderr nobody reads: 40 drops, each online again"
s=$(fakewa_call GET /info | fakewa_field seq)
n=0
while [ $n -lt 5 ]; do
	r=$(fakewa_wait "event=node&attr.xmlns=w:p&since=$s&timeout_ms=3000") || break
	s=$(printf '%s' "$r" | fakewa_field seq)
	n=$((n + 1))
done
is "$n" 5 "... and it keeps sending keepalives (5 pings seen by the server)"
tail -n +"$((EV0 + 1))" "$A/.wa/events.jsonl" | grep '"event":"disconnect"' > "$T/dcs"
is "$(grep -c . "$T/dcs")" 40 "... no disconnect but the 40 drops"
unlike "$(cat "$T/dcs")" "keepalive" "... no keepalive missed"
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "... SIGTERM: exit 0"
kill "$SLEEPER" 2> /dev/null

# only standard output stalled, standard error in a file: warnings are bounded
mkfifo "$T/out.fifo"
sleep 600 < "$T/out.fifo" 9>&- &
echo $! >> "$T/.pids"
SLEEPER=$!
EV0=$(wc -l < "$A/.wa/events.jsonl")
# (test builds: WA_TEST_RUN_OUT_MAX bounds the queue at 4 KiB instead of
# 1 MiB, so that lines are dropped after the pipe's 64 KiB)
WA_TEST_RUN_OUT_MAX=4096 wa-run -d "$A" --backoff 1ms,1ms > "$T/out.fifo" 2> "$T/out.err" 9>&- &
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
is "$i" 60 "stdout nobody reads: 60 drops, each online again"
kill -TERM "$RUN_PID"
run_wait
kill "$SLEEPER" 2> /dev/null
w=$(grep -c "standard output is not being read" "$T/out.err")
if [ "$w" -ge 1 ] && [ "$w" -le 2 ]; then pass "the 'not being read' warning: said, and rate-limited ($w lines)"
else fail "the 'not being read' warning is rate-limited" "$w lines"; fi
like "$(grep "standard output is not being read" "$T/out.err" | head -n 1)" "event lines dropped" \
    "... it says how many lines were dropped"

# ---- SIGTERM in the first milliseconds ---------------------------------------------

# blocked from the start (as a supervisor may leave it): the signal is
# pending before wa-run's first instruction, and delivered when its
# handlers are in place
env --block-signal=TERM,INT,HUP wa-run -d "$A" > /dev/null 2> "$T/early.err" 9>&- &
RUN_PID=$!
echo "$RUN_PID" >> "$T/.pids"
n=0
until is_warun "$RUN_PID" || ! alive "$RUN_PID" || [ $n -ge 5000 ]; do n=$((n + 1)); done
kill -TERM "$RUN_PID"
run_wait 10
is "$RC" 0 "SIGTERM pending before the handlers: exit 0"
stopped_ok "SIGTERM pending before the handlers"

# 30 times, sent the moment main has begun (SIGTERM blocked or caught)
bad=
i=0
while [ $i -lt 30 ]; do
	wa-run -d "$A" > /dev/null 2> "$T/early.err" 9>&- &
	RUN_PID=$!
	n=0
	# (the forked shell, before exec, catches SIGTERM too: wait for wa-run)
	until { is_warun "$RUN_PID" && sigterm_owned "$RUN_PID"; } || ! alive "$RUN_PID" || [ $n -ge 5000 ]
	do n=$((n + 1)); done
	kill -TERM "$RUN_PID"
	run_wait 10
	rc=$RC
	st=$(status_field state "$A")/$(status_field exit_code "$A")
	[ "$rc" = 0 ] && [ "$st" = stopped/0 ] || bad="$bad #$i:exit $rc,$st"
	i=$((i + 1))
done
is "$bad" "" "SIGTERM right after start, 30 times: exit 0 and status stopped each time"

# ---- --on-event checked at start -----------------------------------------------------

before=$(tree_state "$A")
expect_exit 64 "--on-event /nonexistent: refused, exit 64" timeout -s KILL 20 wa-run -d "$A" --on-event /nonexistent
like "$(head -n 1 "$T/err")" "wa-run: --on-event: unable to run '/nonexistent': No such file or directory" \
    "... the message names the program and the reason"
printf '#!/bin/sh\n' > "$T/noexec.sh"
chmod 644 "$T/noexec.sh"
expect_exit 64 "--on-event of a non-executable file: exit 64" timeout -s KILL 20 wa-run -d "$A" --on-event "$T/noexec.sh arg"
like "$(head -n 1 "$T/err")" "'$T/noexec.sh': not an executable file" "... the message says why"
expect_exit 64 "--on-event of a directory: exit 64" timeout -s KILL 20 wa-run -d "$A" --on-event "$T"
expect_exit 64 "--on-event of a name not in PATH: exit 64" timeout -s KILL 20 wa-run -d "$A" --on-event "wa-no-such-command-$$"
like "$(head -n 1 "$T/err")" "no such command in PATH" "... the message says so"
is "$(tree_state "$A")" "$before" "... the folder untouched"

# ---- absolute paths; outage notifications --------------------------------------------

cat > "$T/hook.sh" <<'EOF'
#!/bin/sh
printf '%s|%s\n' "$WA_AUTH_DIR" "$WA_EVENT_JSON" >> "$1"
EOF
chmod 755 "$T/hook.sh"
# a folder of its own: the login faults queued below stay with its device
B=$T/b
run_folder "$B" --seed 7 || fail "a second Baileys folder"
JIDB=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$B/creds.json")
RUN_N=$((RUN_N + 1)); RUN_EV=$T/run$RUN_N.ev; RUN_LOG=$T/run$RUN_N.log; EV_AT=0
(cd "$T" && exec wa-run -d ./b/ -v --backoff 50ms,50ms --on-event "$T/hook.sh $T/hook.log" > "$RUN_EV" \
    2> "$RUN_LOG" 9>&-) &
RUN_PID=$!
echo "$RUN_PID" >> "$T/.pids"
await '"event":"online"'
is "$(grep -o '"dir":"[^"]*"' "$RUN_EV" | sort -u)" "\"dir\":\"$B\"" "-d ./b/: every event names the folder by its absolute path"
fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
expect_event "a drop: online again" '"event":"online".*"outage":true'
# then an outage that ends with SIGTERM while it lasts
fakewa_call POST /fault "{\"kind\":\"login-failure\",\"reason\":503,\"count\":1000,\"jid\":\"$JIDB\"}" > /dev/null
fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
await '"event":"state","state":"backoff"'
await '"event":"state","state":"backoff"'
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "SIGTERM in a backoff: exit 0"
like "$(cat "$RUN_LOG")" "session ended: login refused: <failure reason=503>" "a refused login is logged"
unlike "$(cat "$RUN_LOG")" "login refused: login refused" "... without a stutter"
i=0
while [ "$(cat "$T/hook.log" 2> /dev/null | wc -l)" -lt 4 ]; do i=$((i + 1)); [ $i -lt 250 ] || break; sleep 0.02; done
is "$(cut -d'|' -f1 "$T/hook.log" | sort -u)" "$B" "WA_AUTH_DIR is absolute"
got=$(cut -d'|' -f2- "$T/hook.log" | sed -n 's/.*"event":"\([a-z]*\)","state":"\([a-z_]*\)".*"outage":\([a-z"]*\).*/\1 \2 \3/p' | tr '\n' ',')
is "$got" 'state backoff "down",online online true,state backoff "down",state stopped "end",' \
    "notified: down, recovered; down, ended (stopped)"
is "$(grep -c . "$T/hook.log")" 4 "... and nothing else"

# ---- the server runs low on pre-keys mid-session -----------------------------------

run_start "$A"
await '"event":"prekeys"'
n0=$(fakewa_call GET "/accounts/$JID/prekeys" | fakewa_field count)
next0=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).nextPreKeyId)' "$A/creds.json")
s=$(fakewa_call GET /info | fakewa_field seq)
r=$(fakewa_call POST "/accounts/$JID/prekeys/take" "{\"n\":$((n0 - 2)),\"notify\":true}")
is "$(printf '%s' "$r" | fakewa_field count)" 2 "fakewa: 2 pre-keys left, the client told"
like "$(fakewa_wait "event=node&tag=ack&attr.class=notification&since=$s&timeout_ms=5000")" '"type":"encrypt"' \
    "the encrypt notification is acknowledged"
expect_event "a prekeys event: the server had 2, 50 uploaded" '"event":"prekeys".*"server_count":2,"uploaded":50'
is "$(fakewa_call GET "/accounts/$JID/prekeys" | fakewa_field count)" 52 "fakewa now holds 52 pre-keys"
cr=$(node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1]));
	console.log(c.nextPreKeyId + " " + c.firstUnuploadedPreKeyId)' "$A/creds.json")
is "$cr" "$((next0 + 50)) $((next0 + 50))" "creds.json: nextPreKeyId and firstUnuploadedPreKeyId moved past the 50"
miss=
i=$next0
while [ $i -lt $((next0 + 50)) ]; do [ -f "$A/pre-key-$i.json" ] || miss="$miss $i"; i=$((i + 1)); done
is "$miss" "" "... and every uploaded pre-key has its file"
unlike "$(cat "$RUN_EV")" '"event":"disconnect"' "... without a reconnect"
kill -TERM "$RUN_PID"
run_wait

# ---- wording --------------------------------------------------------------------------

run_start "$A" -v
await '"event":"prekeys"'
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "online, SIGTERM: exit 0"
like "$(cat "$RUN_LOG")" "session ended: closed" "... the session's end is logged"
unlike "$(cat "$RUN_LOG")" "closed: closed" "... without a stutter"
like "$(cat "$RUN_LOG")" "state online -> stopped: SIGTERM" "the state change names the signal"
unlike "$(cat "$RUN_LOG")" "stopped: stopped" "... once"
mkdir -m 700 "$T/u"
node -e 'const fs = require("fs"); const c = JSON.parse(fs.readFileSync(process.argv[1]));
	delete c.me; delete c.account; fs.writeFileSync(process.argv[2], JSON.stringify(c), { mode: 0o600 });' \
    "$A/creds.json" "$T/u/creds.json"
expect_exit 66 "an unpaired folder: exit 66" wa-run -d "$T/u"
like "$(cat "$T/err")" "'$T/u/creds.json' is not paired: no me.id (never paired); pair it with wa-pair" \
    "... 'not paired' said once, with the reason"
unlike "$(cat "$T/err")" "not paired (not paired" "... no stutter"
done_testing

#!/bin/sh
# 3006-wa-run-notify: --webhook and --on-event deliver every notable event
# exactly once, and a dead webhook never slows the session.
#
# Notable (wa-run(1) NOTIFICATIONS): an online event that ends an outage,
# and a state event into banned, replaced, logged_out ...  Here: a dropped
# connection (online again: an outage), a 515 (not an outage: nothing), a
# short ban (banned, then online), and replaced (the end).  A loopback HTTP
# receiver in Node takes the POSTs (the first one answered 503, so one is
# retried); the on-event command, a shell script given arguments that a
# shell would interpret, appends what it got.  Both must hold exactly the
# notable lines of wa-run's standard output, byte for byte, once each.
#
# Then a webhook endpoint that accepts connections and never answers:
# reconnects after dropped connections take no longer than without it,
# and SIGTERM still ends wa-run within 2 s, a final state within the
# 3-second grace.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl > /dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
export WA_RUN_BACKOFF=50ms,50ms
A=$T/a
run_folder "$A" || { fail "a Baileys folder"; done_testing; exit 1; }
JID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$A/creds.json")

# receiver LOG MODE: an HTTP server on 127.0.0.1; its port in PORT
cat > "$T/recv.mjs" <<'EOF'
import http from 'node:http';
import fs from 'node:fs';
const [, , log, mode] = process.argv;
let n = 0;
const srv = http.createServer((req, res) => {
	let body = '';
	req.on('data', d => { body += d; });
	req.on('end', () => {
		n++;
		const code = mode === 'fail-first' && n === 1 ? 503 : 200;
		fs.appendFileSync(log, JSON.stringify({ n, code, method: req.method, ct: req.headers['content-type'],
		    ua: req.headers['user-agent'], body }) + '\n');
		if (mode === 'dead')
			return;		// never answer
		res.writeHead(code);
		res.end();
	});
});
srv.listen(0, '127.0.0.1', () => fs.writeFileSync(log + '.port', String(srv.address().port)));
EOF
receiver() {
	rm -f "$1" "$1.port"
	node "$T/recv.mjs" "$1" "$2" 9>&- &
	echo $! >> "$T/.pids"
	_i=0
	until [ -s "$1.port" ]; do _i=$((_i + 1)); [ $_i -lt 500 ] || return 1; sleep 0.02; done
	PORT=$(cat "$1.port")
}
cat > "$T/hook.sh" <<'EOF'
#!/bin/sh
log=$1; shift
printf '%s|%s|%s|%s|%s|%s|%s|%s|%s|%s\n' "$WA_EVENT" "$WA_STATE" "$WA_PREV_STATE" "$WA_CLASS" "$WA_CODE" \
    "$WA_SEQ" "$WA_AUTH_DIR" "$WA_RUN_PID" "${NOTIFY_SOCKET:-no-socket}" "$*" >> "$log"
printf '%s\n' "$WA_EVENT_JSON" >> "$log.json"
EOF
chmod 755 "$T/hook.sh"
# wait_lines FILE N: until FILE has N lines (bounded)
wait_lines() {
	_i=0
	while [ "$(cat "$1" 2> /dev/null | wc -l)" -lt "$2" ]; do _i=$((_i + 1)); [ $_i -lt 1000 ] || return 1; sleep 0.02; done
}

receiver "$T/hook-recv" fail-first || { fail "the receiver starts"; done_testing; exit 1; }
# a notify socket in wa-run's environment, to see that the command does not inherit it
export NOTIFY_SOCKET="$T/nosuch.sock"
run_start "$A" --ban-wait 1s,60s --webhook "http://127.0.0.1:$PORT/wa" --on-event "$T/hook.sh $T/hook.log a;b \$(x)"
unset NOTIFY_SOCKET
expect_event "online" '"event":"online"'
fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
expect_event "drop: online again (an outage)" '"event":"online".*"outage":true'
fakewa_call POST /fault '{"kind":"stream-error","code":515}' > /dev/null
expect_event "515: online again (not an outage)" '"event":"online".*"outage":false'
fakewa_call POST /fault "{\"kind\":\"ban\",\"code\":101,\"expire\":1,\"jid\":\"$JID\"}" > /dev/null
fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
expect_event "ban: state banned" '"event":"state","state":"banned"'
expect_event "ban: online after it (an outage)" '"event":"online".*"outage":true' 30
fakewa_call POST /fault '{"kind":"replaced"}' > /dev/null
run_wait
is "$RC" 11 "replaced: exit 11"

NOTABLE='"event":"state","state":"(logged_out|replaced|retries_exhausted|banned|outdated|refused|failed)"|"event":"state".*"outage":"(down|end)"|"event":"online".*"outage":true'
grep -E "$NOTABLE" "$RUN_EV" > "$T/notable"
is "$(wc -l < "$T/notable" | tr -d ' ')" 6 \
    "6 notable events: down and online after the drop, down, banned and online for the ban, replaced"
ok "on-event ran for each" wait_lines "$T/hook.log" 6
ok "on-event: WA_EVENT_JSON is the line printed, once per event, in order" cmp "$T/notable" "$T/hook.log.json"
is "$(cut -d'|' -f1-5 "$T/hook.log" | tr '\n' ' ')" \
    "state|backoff|online|transient|428 online|online||| state|backoff|online|transient|428 state|banned|connecting|banned|402 online|online||| state|replaced|online|replaced|440 " \
    "on-event: WA_EVENT, WA_STATE, WA_PREV_STATE, WA_CLASS, WA_CODE"
is "$(cut -d'|' -f6 "$T/hook.log" | tr '\n' ' ')" "$(sed 's/.*"seq":\([0-9]*\).*/\1/' "$T/notable" | tr '\n' ' ')" "on-event: WA_SEQ"
is "$(cut -d'|' -f7,8 "$T/hook.log" | sort -u)" "$A|$RUN_PID" "on-event: WA_AUTH_DIR and WA_RUN_PID"
is "$(cut -d'|' -f9 "$T/hook.log" | sort -u)" "no-socket" "on-event: NOTIFY_SOCKET not inherited"
is "$(cut -d'|' -f10 "$T/hook.log" | sort -u)" 'a;b $(x)' "on-event: arguments passed as they are (no shell)"

ok "the webhook got them" wait_lines "$T/hook-recv" 7
node -e '
const fs = require("fs");
const got = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").map(l => JSON.parse(l));
const ok = got.filter(r => r.code === 200);
console.log("requests=" + got.length + " ok=" + ok.length + " first=" + got[0].code +
    " retried=" + (got[0].body === got[1].body) + " method=" + [...new Set(got.map(r => r.method))] +
    " ct=" + [...new Set(got.map(r => r.ct))] + " ua=" + [...new Set(got.map(r => r.ua.replace(/[0-9.]+$/, "")))]);
fs.writeFileSync(process.argv[2], ok.map(r => r.body).join(""));' "$T/hook-recv" "$T/bodies" > "$T/recv-summary"
diag "$(cat "$T/recv-summary")"
like "$(cat "$T/recv-summary")" "requests=7 ok=6 first=503 retried=true method=POST ct=application/json ua=wa-run/" \
    "webhook: 7 POSTs, the first answered 503 and retried, JSON, wa-run's user agent"
ok "webhook: the bodies answered 200 are the notable lines, once each, in order" cmp "$T/notable" "$T/bodies"

# ---- a webhook that never answers ----------------------------------------------

receiver "$T/dead-recv" dead || { fail "the dead receiver starts"; done_testing; exit 1; }
run_start "$A" --webhook "http://127.0.0.1:$PORT/wa" --on-event "$T/hook.sh $T/hook2.log"
expect_event "dead webhook: online" '"event":"online"'
worst=0
i=0
while [ $i -lt 10 ]; do
	fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
	await '"event":"disconnect"' 10 || break
	t0=$(ms_of "$(jf ts)")
	await '"event":"online".*"outage":true' 10 || break
	d=$(( $(ms_of "$(jf ts)") - t0 ))
	[ $d -gt $worst ] && worst=$d
	i=$((i + 1))
done
is "$i" 10 "dead webhook: 10 outages, each ended online"
if [ $worst -le 1000 ]; then pass "dead webhook: each reconnect took at most $worst ms (backoff 50 ms)"; else
	fail "dead webhook does not slow the session" "a reconnect took $worst ms"; fi
ok "dead webhook: it was tried (the endpoint got a request)" test -s "$T/dead-recv"
ok "dead webhook: the on-event command still ran for each (down and online)" wait_lines "$T/hook2.log" 20
t0=$(date +%s%3N)
kill -TERM "$RUN_PID"
run_wait
t1=$(date +%s%3N)
is "$RC" 0 "dead webhook: SIGTERM exits 0"
if [ $((t1 - t0)) -le 2000 ]; then pass "dead webhook: ... within 2 s ($((t1 - t0)) ms)"; else
	fail "SIGTERM within 2 s" "$((t1 - t0)) ms"; fi
run_start "$A" --webhook "http://127.0.0.1:$PORT/wa"
await '"event":"online"'
t0=$(date +%s%3N)
fakewa_call POST /fault '{"kind":"replaced"}' > /dev/null
run_wait
t1=$(date +%s%3N)
is "$RC" 11 "dead webhook: replaced exits 11"
if [ $((t1 - t0)) -le 4500 ]; then pass "dead webhook: ... after at most the 3 s grace ($((t1 - t0)) ms)"; else
	fail "grace bounded" "$((t1 - t0)) ms"; fi
like "$(cat "$RUN_LOG")" "not delivered before exit" "dead webhook: the undelivered notification is reported"

# a command that cannot run (there at start, gone since): a warning
# event, the session goes on
cp "$T/hook.sh" "$T/gone.sh"
run_start "$A" --on-event "$T/gone.sh $T/gone.log"
await '"event":"online"'
rm "$T/gone.sh"
fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
expect_event "on-event that cannot run: online again" '"event":"online".*"outage":true'
expect_event "... and a warning event says so" '"event":"warning".*cannot run'
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "... SIGTERM: exit 0"
done_testing

#!/bin/sh
# 3401-metrics: wa-run --metrics FILE writes Prometheus text that follows
# the naming rules (tests/promcheck.mjs; `promtool check metrics` too when
# it is installed), replaced whole (a new inode each write, no temporary
# file left), and its values follow the session: online (wa_up 1, state
# online, the server's pre-key count), the inbox and outbox backlogs as
# files arrive in their new/, then fakewa killed: backoff (wa_up 0, state
# backoff, a transient reconnect counted), and at SIGTERM the final state
# stopped.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl > /dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
export WA_RUN_BACKOFF=1s,2s WA_RUN_KEEPALIVE=2s,3s,2s WA_RUN_LOGIN_TIMEOUT=1s

A=$T/a
run_folder "$A" || { fail "a Baileys folder"; done_testing; exit 1; }
JID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$A/creds.json")
mkdir -m 700 "$T/prom"
M=$T/prom/wa.prom
L="account=\"$JID\",dir=\"$A\""

# value SERIES: its value in the file ("" when absent)
value() { node "$WA_TOP/tests/promcheck.mjs" --json "$M" 2> /dev/null |
	node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8"))[process.argv[1]]; console.log(v === undefined ? "" : v)' "$1"; }
# await_metric SERIES VALUE: poll the file until SERIES has VALUE (20 s)
await_metric() {
	_i=0
	while [ "$(value "$1")" != "$2" ]; do
		_i=$((_i + 1))
		[ $_i -lt 200 ] || { fail "$3" "$1 is '$(value "$1")', want $2"; return 1; }
		sleep 0.1
	done
	pass "$3"
}
rules() {
	ok "$1: the file follows the naming rules" node "$WA_TOP/tests/promcheck.mjs" "$M"
	if command -v promtool > /dev/null 2>&1; then
		ok "$1: promtool check metrics" sh -c "promtool check metrics < '$M'"
	fi
}

expect_exit 73 "--metrics into a folder that does not exist: exit 73 (cannot create)" wa-run -d "$A" --metrics "$T/nope/wa.prom"
like "$(cat "$T/err")" "--metrics: unable to open the folder '$T/nope'" "  names the folder"
[ -e "$M" ] && fail "nothing written" || pass "nothing written"

run_start "$A" --metrics "$M"
expect_event "online" '"event":"online"'
await_metric "wa_up{$L}" 1 "online: wa_up 1"
rules online
is "$(value "wa_state{$L,state=\"online\"}")/$(value "wa_state{$L,state=\"backoff\"}")" "1/0" "  wa_state: online 1, backoff 0"
like "$(cat "$M")" "# TYPE wa_reconnects_total counter" "  reconnects is a counter"
is "$(value "wa_reconnects_total{$L,class=\"transient\"}")" 0 "  no reconnect yet"
await_metric "wa_prekeys_server{$L}" "$(fakewa_call GET "/accounts/$JID/prekeys" | fakewa_field count)" \
    "  the pre-keys on the server" || diag "$(grep prekeys "$M")"
is "$(value "wa_messages_received_total{$L}")/$(value "wa_messages_sent_total{$L}")" "0/0" "  no message in or out"
is "$(value "wa_inbox_backlog_messages{$L}")/$(value "wa_outbox_backlog_messages{$L}")" "0/0" "  empty inbox and no outbox"
is "$(value "wa_decrypt_failures_total{$L,class=\"bad_mac\"}")" 0 "  decrypt failures by class"
started=$(value "wa_start_time_seconds{$L}")
is "$(node -e 'console.log(Math.abs(Date.now() / 1000 - process.argv[1]) < 60)' "$started")" true "  start time is now"
ls -a "$T/prom" > "$T/ls"
is "$(cat "$T/ls" | tr '\n' ' ')" ". .. wa.prom " "  no temporary file beside it"
is "$(stat -c %a "$M")" 600 "  mode 0600"
ino=$(stat -c %i "$M")

# the backlogs follow the spools' new/ (the next look, within 5 s)
printf '{}' > "$A.inbox/new/1700000000.1.x"
mkdir -p "$A.outbox/new"
printf '{}' > "$A.outbox/new/a"; printf '{}' > "$A.outbox/new/b"
await_metric "wa_inbox_backlog_messages{$L}" 1 "a message waiting in the inbox: backlog 1"
await_metric "wa_outbox_backlog_messages{$L}" 2 "two jobs in the outbox: backlog 2"
isnt "$(stat -c %i "$M")" "$ino" "  the file was replaced (a new inode), not rewritten in place"
rules backlog

# fakewa gone: backoff
fakewa_stop
expect_event "fakewa killed: disconnect" '"event":"disconnect"'
expect_event "backoff" '"event":"state".*"state":"backoff"'
await_metric "wa_up{$L}" 0 "backoff: wa_up 0"
is "$(value "wa_state{$L,state=\"online\"}")/$(value "wa_state{$L,state=\"backoff\"}")" "0/1" "  wa_state: online 0, backoff 1"
reconn=$(value "wa_reconnects_total{$L,class=\"transient\"}")
[ "${reconn:-0}" -ge 1 ] && pass "  a transient reconnect counted ($reconn)" || fail "  a transient reconnect counted" "$(grep reconnects "$M")"
rules backoff

kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "SIGTERM: exit 0"
is "$(value "wa_state{$L,state=\"stopped\"}")/$(value "wa_up{$L}")" "1/0" "the final state is in the file: stopped"
rules stopped
done_testing

#!/bin/sh
# 3020-wa-run-net-causes: wa-run classifies a failed connection by its
# cause (wa-run(1): a transient network failure is 428):
#   - a refused TCP connection (a closed loopback port) and a host name
#     that does not resolve (.invalid never does; without a network the
#     resolver fails at once) are transient 428 whose reason says what
#     happened ("connection refused", "cannot resolve host"), not a 500
#     "protocol error";
#   - a frame that does not decode (fakewa's garbage fault, at the frame,
#     node and zlib layers) is a protocol error (500), never "server
#     verification failed";
#   - a certificate chain that does not verify still says verification.
# Each checked in the disconnect event and, for the first two, in
# status.json once the budget (--budget 1,0) is spent.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl > /dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"

export WA_RUN_BACKOFF=20ms,50ms WA_RUN_LOGIN_TIMEOUT=2s
A=$T/a
baileys_folder "$A" || { fail "a Baileys folder"; done_testing; exit 1; }

# net_case NAME URL REASON-ERE: wa-run against URL, one failed attempt
net_case() {
	WA_SERVER_URL=$2 run_start "$A" --budget 1,0
	run_wait
	is "$RC" 12 "$1: the budget is spent: exit 12"
	await '"event":"disconnect"' 5 || { fail "$1: a disconnect event"; return; }
	is "$(jf class)/$(jf code)/$(jf action)" "transient/428/backoff" "$1: transient, code 428, backoff"
	like "$(jf reason)" "$3" "$1: the reason says '$3'"
	is "$(jf reason | grep -c -i -e 'protocol error' -e verification)" 0 "$1: neither protocol error nor verification"
	like "$(cat "$A/.wa/status.json")" '"code":428' "$1: status.json has code 428"
	like "$(cat "$A/.wa/status.json")" "$3" "$1: status.json has the reason"
}

# a closed loopback port: bind one, note it, let it go
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
net_case "a refused connection" "ws://127.0.0.1:$port/ws/chat" "connection refused"
net_case "an unresolvable host" "ws://wa-test-no-such-host.invalid/ws/chat" "cannot resolve host"

# fakewa: garbage frames after login, and a bad certificate chain
fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
fakewa_call POST /accounts/import "{\"dir\":\"$A\"}" > /dev/null
fault() { fakewa_call POST /fault "$1" > /dev/null || fail "fakewa takes the fault $1"; }

run_start "$A"
expect_event "online" '"event":"online"'
for layer in frame node zlib; do
	fault "{\"kind\":\"garbage\",\"layer\":\"$layer\"}"
	expect_event "garbage $layer: disconnect" '"event":"disconnect"'
	is "$(jf class)/$(jf code)" "transient/500" "garbage $layer: transient, code 500"
	case $(jf reason) in
	"protocol error: "*) pass "garbage $layer: the reason is a protocol error ($(jf reason))" ;;
	*) fail "garbage $layer: the reason is a protocol error" "reason: $(jf reason)" ;;
	esac
	is "$(jf reason | grep -c verification)" 0 "garbage $layer: the reason does not say verification"
	expect_event "garbage $layer: online again" '"event":"online"'
done
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "SIGTERM: exit 0"

# a certificate fault: still verification
fault '{"kind":"cert-bad-root-sig","count":2}'
run_start "$A" --budget 1,0
run_wait
is "$RC" 12 "bad certificate twice: the budget is spent: exit 12"
await '"event":"disconnect"' 5 || fail "bad certificate: a disconnect event"
is "$(jf class)/$(jf code)" "transient/500" "bad certificate: transient, code 500"
case $(jf reason) in
"server verification failed: "*) pass "bad certificate: the reason says verification ($(jf reason))" ;;
*) fail "bad certificate: the reason says verification" "reason: $(jf reason)" ;;
esac
done_testing

#!/bin/sh
# 0200-fakewa: the simulated WhatsApp server (tests/fakewa) against a client
# made from Baileys' own noise handler (tests/fakewa/src/noiseclient.mjs):
# handshake, pings, pushes, every fault kind, every certificate fault (with
# a strict whatsmeow-like verifier and with Baileys' own checks), the
# control API's errors, and that no server process outlives its test.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"

ME=15550001111:7@s.whatsapp.net
FW=$WA_TOP/tests/fakewa

# alive PID: running and not a zombie (PID 1 here may not reap orphans)
alive() {
	_st=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -n "$_st" ] && [ "${_st#Z}" = "$_st" ]
}

# The client runs as a coprocess: one command line in, one answer line out.
client_start() {
	mkfifo "$T/cin" "$T/cout"
	node "$FW/src/noiseclient.mjs" --root "$FAKEWA_ROOT_PUB" \
		<"$T/cin" >"$T/cout" 2>"$T/client.err" 9>&- &
	CLIENT_PID=$!
	exec 7>"$T/cin" 6<"$T/cout"
}
client_stop() {
	[ -n "${CLIENT_PID:-}" ] || return 0
	exec 7>&- 6<&-
	wait "$CLIENT_PID"
	CLIENT_PID=
}
on_exit client_stop
cl() {
	printf '%s\n' "$*" >&7
	R=
	IFS= read -r R <&6
}

ping_json() {
	printf '{"tag":"iq","attrs":{"id":"%s","to":"@s.whatsapp.net","type":"get","xmlns":"w:p"},"content":[{"tag":"ping","attrs":{}}]}' "$1"
}
seq_now() { fakewa_call GET /info | fakewa_field seq; }
login() { cl connect "$FAKEWA_WS" login "$ME"; }

# ---- startup ---------------------------------------------------------------

fakewa_start --root-key-out "$T/root.hex" --state-dir "$T/srv" || {
	fail "fakewa starts"
	done_testing
	exit 1
}
on_exit fakewa_stop
pass "fakewa starts and prints its JSON line"
like "$FAKEWA_WS" "ws://127.0.0.1:" "ws URL on loopback"
like "$FAKEWA_WS" "/ws/chat" "ws URL path /ws/chat"
like "$FAKEWA_CONTROL" "http://127.0.0.1:" "control URL on loopback"
is "${#FAKEWA_ROOT_PUB}" 64 "rootPub is 32 bytes of hex"
is "$(cat "$T/root.hex")" "$FAKEWA_ROOT_PUB" "--root-key-out writes the root public key"
is "$(fakewa_call GET /info | fakewa_field pid)" "$FAKEWA_PID" "pid in the JSON line is the started process"
is "$(stat -c %a "$T/srv/keys.json")" 600 "--state-dir keeps keys.json mode 0600"

trap '' PIPE # a dead client must fail tests, not kill the shell
client_start

# ---- registration: handshake, pair-device, ping ------------------------------

cl connect "$FAKEWA_WS" register
is "$R" "ok connected" "Baileys noise handler completes the handshake (registration)"
ev=$(fakewa_wait "event=connected&timeout_ms=5000")
like "$ev" '"pairing":true' "server decoded a registration ClientPayload"
like "$ev" '"appVersion":"2.3000.1043857760"' "payload summary carries the Baileys version"
CONN=$(printf '%s' "$ev" | fakewa_field conn)
cl recv 5000
like "$R" '"xmlns":"md"},"content":[{"tag":"pair-device"' "client receives <iq xmlns=md><pair-device>"
refs=$(printf '%s' "$R" | grep -o '"tag":"ref"' | wc -l | tr -d ' ')
is "$refs" 6 "pair-device carries six refs"
iqid=$(printf '%s' "$R" | fakewa_field id)
cl send "{\"tag\":\"iq\",\"attrs\":{\"to\":\"@s.whatsapp.net\",\"type\":\"result\",\"id\":\"$iqid\"}}"
ok "server records the client's iq result" fakewa_wait "event=node&conn=$CONN&tag=iq&attr.type=result&attr.id=$iqid&timeout_ms=5000"
cl query "$(ping_json p1)"
is "$R" 'node {"tag":"iq","attrs":{"from":"@s.whatsapp.net","type":"result","id":"p1"}}' "ping answered with iq result"
cl query '{"tag":"iq","attrs":{"id":"p2","to":"@s.whatsapp.net","type":"get","xmlns":"w:p"}}'
like "$R" '"type":"result","id":"p2"' "whatsmeow-style ping without <ping/> answered too"
conns=$(fakewa_call GET /connections)
like "$conns" "\"id\":$CONN,\"state\":\"open\"" "/connections shows the connection open"
like "$conns" '"remotePort":' "/connections shows the remote port"

# ---- login with an edge-routing prefix -----------------------------------

cl connect "$FAKEWA_WS" login "$ME" routing=524f555445
is "$R" "ok connected" "handshake with Baileys' ED routing prefix"
cl recv 5000
like "$R" 'node {"tag":"success","attrs":{"t":"' "login payload gets <success t=...>"
like "$R" ':7@lid"' "<success> carries a lid for device 7"
conns=$(fakewa_call GET /connections)
like "$conns" '"routingInfo":"Uk9VVEU="' "server parsed the routing info"
like "$conns" '"username":"15550001111","device":7' "login summary: username and device"
like "$conns" '"passive":true' "login summary: passive"
cl connect "$FAKEWA_WS" login "$ME" chunk=1
is "$R" "ok connected" "handshake sent as 1-byte websocket messages"
cl query "$(ping_json c1)"
like "$R" '"id":"c1"' "... and transport frames reassembled too"
s=$(seq_now)
cl connect "$FAKEWA_WS" login "$ME" header=57410605
like "$R" "error " "wrong connection header: the server hangs up"
ev=$(fakewa_wait "event=error&since=$s&timeout_ms=5000")
like "$ev" "bad connection header" "... and records why"
login; cl recv

# ---- pushes, log, wait -----------------------------------------------------

msg='{"tag":"message","attrs":{"from":"15550002222@s.whatsapp.net","id":"ABC","type":"text"},"content":[{"tag":"body","attrs":{},"content":"hello"},{"tag":"enc","attrs":{"v":"2","type":"msg"},"content":{"base64":"AAECAwQ="}}]}'
# raw strings travel as bytes: the client sees "hello" as base64
want='node {"tag":"message","attrs":{"from":"15550002222@s.whatsapp.net","id":"ABC","type":"text"},"content":[{"tag":"body","attrs":{},"content":{"base64":"aGVsbG8="}},{"tag":"enc","attrs":{"v":"2","type":"msg"},"content":{"base64":"AAECAwQ="}}]}'
ok "POST /push" fakewa_call POST /push "{\"node\":$msg}"
cl recv 5000
is "$R" "$want" "client receives the pushed node intact"
ok "POST /push compressed" fakewa_call POST /push "{\"node\":$msg,\"compress\":true}"
cl recv 5000
is "$R" "$want" "client inflates the zlib frame (flags 0x02) to the same node"
log=$(fakewa_call GET "/log?event=sent&since=0")
like "$log" '"compressed":true' "/log records the compressed send"
like "$(fakewa_call GET "/log?conn=$CONN")" '"event":"node"' "/log?conn= has received nodes"
s=$(seq_now)
r=$(fakewa_call GET "/wait?event=closed&since=$s&timeout_ms=100" 2>/dev/null)
is "$?:$(printf '%s' "$r" | fakewa_field timeout)" "22:true" "/wait times out with 408 {timeout:true}"

# ---- connection faults -----------------------------------------------------

login; cl recv
s=$(seq_now)
fakewa_call POST /fault '{"kind":"stall"}' >/dev/null
cl query "$(ping_json s1)" 300
is "$R" timeout "stall: ping goes unanswered"
ok "stall: the server still records the ping" fakewa_wait "event=node&attr.id=s1&since=$s&timeout_ms=5000"
r=$(fakewa_call POST /push '{"node":{"tag":"ib","attrs":{}}}' 2>/dev/null)
is "$?" 22 "stall: /push is refused (409)"
fakewa_call POST /fault '{"kind":"resume"}' >/dev/null
cl query "$(ping_json s2)"
like "$R" '"id":"s2"' "resume: pings are answered again"

login; cl recv
s=$(seq_now)
fakewa_call POST /fault '{"kind":"drop"}' >/dev/null
cl recv 5000
is "$R" "closed 1006" "drop: client sees the socket die without a close frame"
ev=$(fakewa_wait "event=closed&since=$s&timeout_ms=5000")
like "$ev" '"by":"server"' "drop: server records that it closed"

login; cl recv
fakewa_call POST /fault '{"kind":"stream-error","code":515}' >/dev/null
cl recv 5000
is "$R" 'node {"tag":"stream:error","attrs":{"code":"515"}}' "stream-error code=515"
cl recv 5000
is "$R" "closed 1000" "stream-error: the server closes afterwards"

login; cl recv
fakewa_call POST /fault '{"kind":"stream-error","child":"conflict","type":"replaced"}' >/dev/null
cl recv 5000
is "$R" 'node {"tag":"stream:error","attrs":{},"content":[{"tag":"conflict","attrs":{"type":"replaced"}}]}' "stream-error <conflict type=replaced/>"

login; cl recv
fakewa_call POST /fault '{"kind":"stream-error","child":"xml-not-well-formed"}' >/dev/null
cl recv 5000
is "$R" 'node {"tag":"stream:error","attrs":{},"content":[{"tag":"xml-not-well-formed","attrs":{}}]}' "stream-error <xml-not-well-formed/>"

for layer in frame node zlib; do
	login; cl recv
	fakewa_call POST /fault "{\"kind\":\"garbage\",\"layer\":\"$layer\"}" >/dev/null
	cl recv 5000
	like "$R" "error " "garbage ($layer): Baileys' decoder fails"
done

login; cl recv
conn=$(fakewa_call GET /connections | grep -o '"id":[0-9]*,"state":"open"' | tail -n 1 | fakewa_field id)
fakewa_call POST /fault '{"kind":"oversized"}' >/dev/null
fakewa_call POST /push '{"node":{"tag":"ib","attrs":{}},"force":true}' >/dev/null
cl recv 300
is "$R" timeout "oversized: the client waits for a 16 MiB frame that never comes"
c=$(fakewa_call GET /connections | grep -o "\"id\":$conn,[^}]*")
like "$c" '"state":"open"' "oversized: the socket stays open"
like "$c" '"stalled":true' "oversized: the server stalls afterwards"

login; cl recv
r=$(fakewa_call POST /fault '{"kind":"zlib-bomb"}')
like "$r" '"inflated":33554440' "zlib-bomb: 32 MiB node in one frame"
cl recv 10000
like "$R" '"content":{"length":33554432}' "zlib-bomb: Baileys inflates it without a cap (our client must not)"

login; cl recv
fakewa_call POST /close '{}' >/dev/null
cl recv 5000
is "$R" "closed 1000" "POST /close closes the websocket"

# ---- certificate faults ----------------------------------------------------
# variant:whatsmeow check:Baileys 7.0.0-rc14 outcome.  Baileys' Curve.verify
# ignores libsignal's boolean result, so it checks no signature at all.

cl connect "$FAKEWA_WS" login "$ME" strict
is "$R" "ok connected" "strict (whatsmeow) checks accept the normal chain"

for c in \
	cert-garbage:chain-decode:reject \
	cert-missing-leaf:chain-parts:reject \
	cert-missing-intermediate:chain-parts:reject \
	cert-missing-sig:chain-parts:reject \
	cert-root-sig-length:intermediate-sig-length:reject \
	cert-leaf-sig-length:leaf-sig-length:reject \
	cert-bad-root-sig:intermediate-sig:accept \
	cert-intermediate-garbage:intermediate-decode:reject \
	cert-wrong-issuer:intermediate-issuer:reject \
	cert-intermediate-key-length:intermediate-key-length:accept \
	cert-bad-leaf-sig:leaf-sig:accept \
	cert-intermediate-expired:intermediate-validity:accept \
	cert-intermediate-not-yet-valid:intermediate-validity:accept \
	cert-leaf-garbage:leaf-decode:accept \
	cert-bad-serial:leaf-issuer:accept \
	cert-wrong-key:leaf-key:accept \
	cert-expired:leaf-validity:accept \
	cert-not-yet-valid:leaf-validity:accept
do
	kind=${c%%:*}; rest=${c#*:}; check=${rest%%:*}; baileys=${rest#*:}
	fakewa_call POST /fault "{\"kind\":\"$kind\"}" >/dev/null
	cl connect "$FAKEWA_WS" login "$ME" strict
	like "$R" "error cert $check:" "$kind: strict client rejects it at check $check"

	s=$(seq_now)
	fakewa_call POST /fault "{\"kind\":\"$kind\"}" >/dev/null
	cl connect "$FAKEWA_WS" login "$ME"
	case $R in
	"error handshake:"*)
		ev=$(fakewa_wait "event=closed&since=$s&timeout_ms=5000")
		got="reject:$(printf '%s' "$ev" | fakewa_field stateBefore)"
		;;
	"ok connected") got=accept ;;
	*) got="?$R" ;;
	esac
	want=$baileys
	[ "$baileys" = reject ] && want=reject:finish
	is "$got" "$want" "$kind: Baileys client outcome ($baileys)"
done
cl connect "$FAKEWA_WS" login "$ME" strict
is "$R" "ok connected" "a cert fault applies to one handshake only"

# ---- control API errors ----------------------------------------------------

r=$(fakewa_call POST /fault '{"kind":"no-such-fault"}' 2>/dev/null)
is "$?" 22 "unknown fault kind is refused"
like "$r" "unknown fault kind" "... with a message"
r=$(fakewa_call POST /push '{"node":{"tag":"x","attrs":{"a":1}}}' 2>/dev/null)
like "$r" "value must be a string" "non-string attribute is refused"
r=$(fakewa_call POST /push '{"conn":9999,"node":{"tag":"x"}}' 2>/dev/null)
like "$r" "no connection 9999" "unknown connection is refused"
like "$(fakewa_call GET /faults)" '"cert-wrong-key"' "/faults lists the cert variants"

# ---- shutdown and lifelines -------------------------------------------------

client_stop
is "$(alive "$CLIENT_PID" && echo up || echo gone)" gone "client process gone"
pid=$FAKEWA_PID
fakewa_stop
if alive "$pid"; then fail "fakewa_stop leaves no server process"; else pass "fakewa_stop leaves no server process"; fi
root=$FAKEWA_ROOT_PUB
fakewa_start --state-dir "$T/srv"
is "$FAKEWA_ROOT_PUB" "$root" "--state-dir: a restarted server keeps its root key"
fakewa_stop

# stdin lifeline: EOF on stdin ends the server
node "$FW/server.mjs" --stdin-lifeline </dev/null >"$T/a.out" 2>"$T/a.err" 9>&-
is "$?" 0 "--stdin-lifeline: EOF on stdin ends the server"

# parent lifeline: the server exits when its parent does (stderr EOF = exit)
mkfifo "$T/pp.out" "$T/pp.err"
timeout 10 cat "$T/pp.err" >"$T/pp.log" 9>&- &
catpid=$!
sh -c 'node "$1" >"$2" 2>"$3" </dev/null & echo $! >"$4"; IFS= read -r l <"$2"' \
	sh "$FW/server.mjs" "$T/pp.out" "$T/pp.err" "$T/pp.pid" 9>&-
wait "$catpid"
is "$?" 0 "parent gone: the server exits"
like "$(cat "$T/pp.log")" "went away" "... because its parent went away"

# a test shell killed with -9 leaves no server behind
mkfifo "$T/k9.err"
timeout 10 cat "$T/k9.err" >"$T/k9.log" 9>&- &
catpid=$!
(FAKEWA_STDERR=$T/k9.err sh -c '. "$1"; fakewa_start || exit 1; echo "$FAKEWA_PID" >"$2"; kill -9 $$' \
	sh "$WA_TOP/tests/fakewa.sh" "$T/k9.pid"; :) 9>&- 2>/dev/null
wait "$catpid"
is "$?" 0 "test shell killed with -9: the server exits"
like "$(cat "$T/k9.log")" "shutting down" "... through its lifeline"
if alive "$(cat "$T/k9.pid")"; then fail "no server left after kill -9"; else pass "no server left after kill -9"; fi

done_testing

#!/bin/sh
# 0400-noise-fakewa: the C connection (lib/ws, frame, noise, certchain,
# binary, conn through tests/helpers/wa-demo-connect) against fakewa, the
# simulated server built on Baileys: handshake with registration and login
# payloads, nodes both ways, a compressed frame from the server, every
# certificate fault rejected by its own check with one connection and no
# retry, broken frames and dropped connections ending in one clean error,
# timeouts, and the override warning.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"

DEMO=wa-demo-connect

fakewa_start || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"

seq_now() { fakewa_call GET /info | fakewa_field seq; }
# count EVENT SINCE: events of that kind after seq SINCE
count() {
	fakewa_call GET "/log?event=$1&since=$2" | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
			console.log(JSON.parse(s).events.length));'
}
# Last line of stderr (the error line) without the program name.
errline() { tail -n 1 "$T/err"; }

# ---- registration handshake, ping, presence, debug output -----------------

S=$(seq_now)
ok "registration handshake, ping answered" $DEMO --debug --presence --timeout 20000
like "$(cat "$T/out")" "handshake ok" "handshake reported"
like "$(cat "$T/out")" "ping ok" "ping result reported"
like "$(cat "$T/err")" "warning: server url $FAKEWA_WS is not WhatsApp's (from WA_SERVER_URL)" \
	"url override warned about"
like "$(cat "$T/err")" "warning: trusting root key $FAKEWA_ROOT_PUB instead of WhatsApp's" \
	"root key override warned about"
like "$(cat "$T/err")" '-> <iq to="@s.whatsapp.net" type="get" xmlns="w:p" id="' "--debug shows the ping sent"
like "$(cat "$T/err")" '<- <iq from="@s.whatsapp.net" type="set"' "--debug shows the pair-device iq received"
like "$(cat "$T/err")" '<pair-device><ref>' "... with its children"
like "$(cat "$T/err")" '<- <iq from="@s.whatsapp.net" type="result" id="' "--debug shows the ping result"
ev=$(fakewa_call GET "/wait?event=connected&since=$S&timeout_ms=5000")
like "$ev" '"pairing":true' "server decoded a registration payload"
like "$ev" '"appVersion":"2.3000.1043857760"' "with Baileys' version"
ev=$(fakewa_call GET "/wait?event=open&since=$S&timeout_ms=5000")
like "$ev" '"origin":"https://web.whatsapp.com"' "Origin header sent"
ok "server received the ping" fakewa_call GET "/wait?event=node&tag=iq&attr.xmlns=w:p&since=$S&timeout_ms=5000"
like "$(cat "$T/out")" '"tag":"ping"' "with its <ping/> child"
ok "server received the presence" fakewa_call GET "/wait?event=node&tag=presence&attr.type=available&since=$S&timeout_ms=5000"
ev=$(fakewa_call GET "/wait?event=closed&since=$S&timeout_ms=5000")
like "$ev" '"by":"client"' "the client closed the connection"
like "$ev" '"code":1000' "with a normal close frame"
is "$(count open "$S")" 1 "one connection"

# ---- login with a Baileys auth folder ----------------------------------------

if baileys_folder "$T/auth"; then
	me=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$T/auth/creds.json")
	nk=$(node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1]));
		console.log(Buffer.from(c.noiseKey.public.data, "base64").toString("hex"))' "$T/auth/creds.json")
	S=$(seq_now)
	ok "login with the folder's creds, <success> received" $DEMO -d "$T/auth" --wait-tag success --timeout 20000
	like "$(cat "$T/out")" "got <success>" "success node delivered to the caller"
	ev=$(fakewa_call GET "/wait?event=connected&since=$S&timeout_ms=5000")
	like "$ev" "\"jid\":\"$me\"" "server saw a login for $me"
	like "$ev" '"passive":true' "passive login"
	like "$ev" "\"clientStatic\":\"$nk\"" "the Noise static key is creds.noiseKey"
else
	fail "baileys_folder makes a paired folder"
fi

# ---- a compressed frame from the server ---------------------------------------

S=$(seq_now)
bg $DEMO --debug --wait-tag notification --timeout 20000 >"$T/c.out" 2>"$T/c.err"
P=$!
ev=$(fakewa_call GET "/wait?event=connected&since=$S&timeout_ms=10000")
C=$(printf '%s' "$ev" | fakewa_field conn)
ok "push a compressed node" fakewa_call POST /push \
	"{\"conn\":$C,\"compress\":true,\"node\":{\"tag\":\"notification\",\"attrs\":{\"from\":\"@s.whatsapp.net\",\"type\":\"test\",\"id\":\"n1\"},\"content\":[{\"tag\":\"x\",\"attrs\":{\"k\":\"v\"}}]}}"
like "$(fakewa_call GET "/wait?event=sent&tag=notification&since=$S&timeout_ms=5000")" '"compressed":true' \
	"fakewa sent it zlib-compressed"
wait "$P"
is "$?" 0 "client exits 0 after the compressed node"
like "$(cat "$T/c.out")" "got <notification>" "compressed node delivered"
like "$(cat "$T/c.err")" '<- <notification from="@s.whatsapp.net" type="test" id="n1"><x k="v"/></notification>' \
	"decoded exactly"

# ---- certificate faults --------------------------------------------------------

faults=$(fakewa_call GET /faults | node -e '
	let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
		for (const [k, v] of Object.entries(JSON.parse(s).cert)) console.log(k + " " + v.check);
	});')
nf=$(printf '%s\n' "$faults" | grep -c .)
if [ "$nf" -ge 14 ]; then pass "fakewa offers $nf certificate faults"; else fail "fakewa offers certificate faults" "$faults"; fi
printf '%s\n' "$faults" > "$T/faults"
while read -r kind check; do
	S=$(seq_now)
	fakewa_call POST /fault "{\"kind\":\"$kind\"}" >/dev/null
	expect_exit 1 "$kind: connection refused" $DEMO --timeout 20000
	like "$(errline)" "server certificate: $check: " "$kind: rejected by the $check check"
	is "$(count open "$S")" 1 "$kind: one connection, no retry"
	ev=$(fakewa_call GET "/wait?event=closed&since=$S&timeout_ms=5000")
	like "$ev" '"stateBefore":"finish"' "$kind: closed before any ClientFinish"
done < "$T/faults"

# A good chain under another root.
S=$(seq_now)
expect_exit 1 "chain from an untrusted root refused" env WA_SERVER_ROOT_KEY=142375574d0a587166aae71ebe516437c4a28b73e3695c6ce1f7f9545da8ee6b $DEMO --timeout 20000
like "$(errline)" "server certificate: intermediate-sig: " "WhatsApp's root does not trust fakewa's chain"
unlike "$(cat "$T/err")" "trusting root key" "no root override warning for WhatsApp's own key"
is "$(count open "$S")" 1 "one connection, no retry"

# ---- broken frames, drops, closes: one clean error each -------------------------

# broken KIND PARAMS EXPECT: connect, apply a connection fault, expect exit 1
# with EXPECT in the error line, after one connection.
broken() {
	_k=$1 _p=$2 _want=$3
	S=$(seq_now)
	bg $DEMO --wait-tag never-sent --timeout 20000 >"$T/b.out" 2>"$T/b.err"
	_pid=$!
	_c=$(fakewa_call GET "/wait?event=connected&since=$S&timeout_ms=10000" | fakewa_field conn)
	fakewa_call POST /fault "{\"conn\":$_c,\"kind\":\"$_k\"$_p}" >/dev/null
	wait "$_pid"
	is "$?" 1 "$_k$_p: client exits 1"
	like "$(tail -n 1 "$T/b.err")" "$_want" "$_k$_p: $_want"
	unlike "$(cat "$T/b.err")" "timed out" "$_k$_p: at once, not by a timeout"
	is "$(count open "$S")" 1 "$_k$_p: no reconnect"
}
broken garbage ',"layer":"frame"' "frame does not decrypt"
broken garbage ',"layer":"node"' "bad node from the server"
broken garbage ',"layer":"zlib"' "bad node from the server"
broken oversized '' "frame length over the limit"
broken zlib-bomb '' "bad node from the server"
broken drop '' "closed by the peer"
broken stream-error ',"code":"515"' "closed by the peer"

# A length under the cap with only part of the frame, then the server
# closes: the client says it was cut in the middle of a frame.
S=$(seq_now)
bg $DEMO --wait-tag never-sent --timeout 20000 >"$T/b.out" 2>"$T/b.err"
P=$!
C=$(fakewa_call GET "/wait?event=connected&since=$S&timeout_ms=10000" | fakewa_field conn)
fakewa_call POST /fault "{\"conn\":$C,\"kind\":\"oversized\",\"length\":65536,\"bytes\":100}" >/dev/null
fakewa_call POST /close "{\"conn\":$C}" >/dev/null
wait "$P"
is "$?" 1 "truncated frame: client exits 1"
like "$(tail -n 1 "$T/b.err")" "closed by the peer in the middle of a frame" "truncated frame reported"

# ---- timeouts -------------------------------------------------------------------

# An iq nobody answers: stall the server, then make the client ping.
S=$(seq_now)
bg $DEMO --wait-tag notification --ping-after-tag --iq-timeout 300 --timeout 20000 >"$T/i.out" 2>"$T/i.err"
P=$!
C=$(fakewa_call GET "/wait?event=connected&since=$S&timeout_ms=10000" | fakewa_field conn)
fakewa_call POST /fault "{\"conn\":$C,\"kind\":\"stall\"}" >/dev/null
fakewa_call POST /push "{\"conn\":$C,\"force\":true,\"node\":{\"tag\":\"notification\",\"attrs\":{\"id\":\"n2\"}}}" >/dev/null
wait "$P"
is "$?" 1 "unanswered ping: exit 1"
like "$(tail -n 1 "$T/i.err")" "ping: timed out" "unanswered ping times out"

# A websocket server that never answers the ClientHello, and a TCP server
# that never answers the upgrade.
mkfifo "$T/mute.port"
node -e '
	const { WebSocketServer } = require(process.argv[1] + "/node_modules/ws");
	const net = require("net");
	const w = new WebSocketServer({ host: "127.0.0.1", port: 0 });
	const t = net.createServer(() => {}).listen(0, "127.0.0.1", () => {
		const go = () => console.log(w.address().port + " " + t.address().port);
		if (w.address()) go(); else w.on("listening", go);
	});
' "$WA_TOP/tests/fakewa" >"$T/mute.port" 2>"$T/mute.err" 9>&- &
echo $! >> "$T/.pids"
read -r WSPORT TCPPORT < "$T/mute.port"
expect_exit 1 "no ServerHello: handshake timeout" env WA_SERVER_URL="ws://127.0.0.1:$WSPORT/" \
	$DEMO --handshake-timeout 300 --timeout 20000
like "$(errline)" "noise: no server hello in time" "handshake timeout reported"
expect_exit 1 "no upgrade answer: connect timeout" env WA_SERVER_URL="ws://127.0.0.1:$TCPPORT/" \
	$DEMO --connect-timeout 300 --timeout 20000
like "$(errline)" "websocket connect: timed out" "connect timeout reported"
expect_exit 1 "refused port: clean error" env WA_SERVER_URL="ws://127.0.0.1:1/" $DEMO --timeout 20000
like "$(errline)" "websocket connect: " "connection refused reported"
expect_exit 1 "a non-websocket URL is refused" env WA_SERVER_URL="http://127.0.0.1:$TCPPORT/" $DEMO
like "$(errline)" "is not a ws:// or wss:// url" "url scheme checked"
expect_exit 64 "a bad WA_SERVER_ROOT_KEY is refused (usage error: the tools read it, cmd/tool.c)" env WA_SERVER_ROOT_KEY=abc $DEMO
like "$(errline)" "WA_SERVER_ROOT_KEY is not 64 hex digits" "root key checked"

done_testing

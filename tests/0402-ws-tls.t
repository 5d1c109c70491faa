#!/bin/sh
# 0402-ws-tls: wss:// with full verification.  A TLS websocket front (Node,
# a throwaway certificate for "localhost") relays to fakewa: trusting its
# CA, the C client connects through it; without the CA, or with a host
# name the certificate does not name, the connection is refused before
# any byte of the handshake is sent.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
command -v openssl >/dev/null 2>&1 || skip_all "openssl missing"
. "$WA_TOP/tests/fakewa.sh"

DEMO=wa-demo-connect
fakewa_start || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=localhost -addext subjectAltName=DNS:localhost \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>"$T/openssl.err" ||
	{ fail "make a test certificate" "$(cat "$T/openssl.err")"; done_testing; exit 1; }

mkfifo "$T/front.port"
node -e '
	const fs = require("fs"), https = require("https");
	const { WebSocket, WebSocketServer } = require(process.argv[1] + "/node_modules/ws");
	const [, , key, cert, upstream] = process.argv;
	const srv = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) });
	const wss = new WebSocketServer({ server: srv });
	wss.on("connection", (c, req) => {
		const u = new WebSocket(upstream, { origin: req.headers.origin });
		const q = [];
		u.on("open", () => { q.splice(0).forEach(m => u.send(m)); });
		c.on("message", m => u.readyState === 1 ? u.send(m) : q.push(m));
		u.on("message", m => c.send(m));
		c.on("close", () => u.close());
		u.on("close", () => c.close());
	});
	srv.listen(0, "127.0.0.1", () => console.log(srv.address().port));
' "$WA_TOP/tests/fakewa" "$T/key.pem" "$T/cert.pem" "$FAKEWA_WS" >"$T/front.port" 2>"$T/front.err" 9>&- &
echo $! >> "$T/.pids"
read -r PORT < "$T/front.port"

S=$(fakewa_call GET /info | fakewa_field seq)
ok "wss:// through a verified certificate" env WA_SERVER_URL="wss://localhost:$PORT/ws/chat" \
	$DEMO --ca-file "$T/cert.pem" --timeout 20000
like "$(cat "$T/out")" "ping ok" "handshake and ping over TLS"
ok "fakewa saw the connection" fakewa_call GET "/wait?event=connected&since=$S&timeout_ms=5000"

S=$(fakewa_call GET /info | fakewa_field seq)
expect_exit 1 "an untrusted certificate is refused" env WA_SERVER_URL="wss://localhost:$PORT/ws/chat" \
	$DEMO --timeout 20000
like "$(tail -n 1 "$T/err")" "websocket connect: SSL certificate problem" "the untrusted certificate is reported"
expect_exit 1 "a certificate for another host name is refused" env WA_SERVER_URL="wss://127.0.0.1:$PORT/ws/chat" \
	$DEMO --ca-file "$T/cert.pem" --timeout 20000
like "$(tail -n 1 "$T/err")" "no alternative certificate subject name matches" "the host name mismatch is reported"
is "$(fakewa_call GET "/log?event=open&since=$S" | grep -c '"event":"open"')" 0 \
	"no websocket reached fakewa through a refused TLS connection"
done_testing

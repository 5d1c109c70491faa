#!/bin/sh
# 2010-wa-pair-qr-files: wa-pair for a dashboard.  --qr-png and --qr-svg
# hold the current QR code as an image that zbarimg decodes to the ref
# fakewa sent, rewritten on each rotation and removed when the pairing
# ends; --on-event runs a command for each event (qr with the string, ref
# and expiry; paired with the JID; failed with the reason), with the
# event line in WA_EVENT_JSON, as wa-run's --on-event does; --webhook
# POSTs the same lines.  No terminal is needed with these options.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
command -v zbarimg >/dev/null 2>&1 || skip_all "zbarimg not installed (zbar-tools)"
command -v jq >/dev/null 2>&1 || skip_all "jq missing"
. "$WA_TOP/tests/fakewa.sh"
trap '' PIPE

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
seq_now() { fakewa_call GET /info | fakewa_field seq; }

# the hook: a copy of both images as they are when the event fires, and
# the event line
cat > "$T/hook" <<EOF2
#!/bin/sh
[ -f "$T/qr.png" ] && cp "$T/qr.png" "$T/snap-\$WA_SEQ.png"
[ -f "$T/qr.svg" ] && cp "$T/qr.svg" "$T/snap-\$WA_SEQ.svg"
printf '%s|%s|%s\n' "\$WA_EVENT" "\$WA_AUTH_DIR" "\$WA_REASON" >> "$T/hook.env"
printf '%s\n' "\$WA_EVENT_JSON" >> "$T/hook.log"
EOF2
chmod +x "$T/hook"
wait_lines() {
	_i=0
	while [ "$(cat "$1" 2> /dev/null | wc -l)" -lt "$2" ]; do _i=$((_i + 1)); [ $_i -lt 1500 ] || return 1; sleep 0.02; done
}
# decode FILE: the text zbarimg finds in it.  zbarimg reads SVG only
# through an ImageMagick delegate Debian's zbar-tools lacks, so an SVG is
# rasterised first by svg2pbm below, which draws the unit squares of the
# path (what wa_qr_svg writes); 2011-wa-qr-page shows a browser's
# rendering decodes too.
cat > "$T/svg2pbm.awk" <<'EOF2'
# our SVG's unit squares (M x yhNv1h-Nz) into a PBM, s pixels a module
BEGIN { s = 4 }
/viewBox="0 0 / { v = $0; sub(/.*viewBox="0 0 /, "", v); sub(/ .*/, "", v); side = v + 0 }
/ d="/ {
	d = $0; sub(/.* d="/, "", d); sub(/".*/, "", d)
	n = split(d, seg, "M")
	for (i = 2; i <= n; i++) {
		split(seg[i], a, /[ hvz]/)
		for (k = 0; k < a[3]; k++) dark[a[2], a[1] + k] = 1
	}
}
END {
	printf "P1\n%d %d\n", side * s, side * s
	for (y = 0; y < side * s; y++) {
		line = ""
		for (x = 0; x < side * s; x++) line = line (((int(y / s), int(x / s)) in dark) ? "1 " : "0 ")
		print line
	}
}
EOF2
decode() {
	case $1 in
	*.svg) awk -f "$T/svg2pbm.awk" "$1" > "$1.pbm" && zbarimg -q --raw "$1.pbm" 2>/dev/null ;;
	*) zbarimg -q --raw "$1" 2>/dev/null ;;
	esac
}
ref_of() { printf '%s' "${1#*#}" | cut -d, -f1; }
ev() { sed -n "${1}p" "$T/hook.log"; }

# a loopback receiver for --webhook: each body, one per line
cat > "$T/recv.mjs" <<'EOF2'
import http from 'node:http';
import fs from 'node:fs';
const [, , log] = process.argv;
const srv = http.createServer((req, res) => {
	let body = '';
	req.on('data', d => { body += d; });
	req.on('end', () => {
		fs.appendFileSync(log, body.endsWith('\n') ? body : body + '\n');
		res.writeHead(200);
		res.end();
	});
});
srv.listen(0, '127.0.0.1', () => fs.writeFileSync(log + '.port', String(srv.address().port)));
EOF2
node "$T/recv.mjs" "$T/hook-recv" 9>&- &
echo $! >> "$T/.pids"
_i=0; until [ -s "$T/hook-recv.port" ]; do _i=$((_i + 1)); [ $_i -lt 500 ] || break; sleep 0.02; done
PORT=$(cat "$T/hook-recv.port")

# ---- rotation, then the scan --------------------------------------------------

fakewa_call POST /config '{"qrRefs":3,"qrFirstMs":2000,"qrNextMs":30000,"qrGraceMs":500}' >/dev/null
s=$(seq_now)
wa-pair -d "$T/a" --qr-png "$T/qr.png" --qr-svg "$T/qr.svg" --qr-time 2,30 -t 10 \
	--on-event "$T/hook" --webhook "http://127.0.0.1:$PORT/hook" > "$T/p.out" 2> "$T/p.err" 9>&- &
PID=$!
echo "$PID" >> "$T/.pids"
ok "two qr events (the first code, then the rotation)" wait_lines "$T/hook.log" 2
E1=$(ev 1); E2=$(ev 2)
is "$(printf '%s' "$E1" | jq -r '[.event, .seq, .state, .n, .total] | join(" ")')" "qr 1 connecting 1 3" "event 1: qr, seq 1, connecting, code 1 of 3"
Q1=$(printf '%s' "$E1" | jq -r .qr); Q2=$(printf '%s' "$E2" | jq -r .qr)
R1=$(printf '%s' "$E1" | jq -r .ref); R2=$(printf '%s' "$E2" | jq -r .ref)
like "$Q1" "https://wa.me/settings/linked_devices#2@" "the event holds the QR string"
is "$R1" "$(ref_of "$Q1")" "ref is the QR string's ref"
isnt "$R1" "$R2" "the rotation brings a new ref"
sent=$(fakewa_wait "event=sent&child=pair-device&since=$s&timeout_ms=5000")
like "$sent" "\"base64\":\"$(printf '%s' "$R1" | base64 -w0)\"" "ref 1 is the server's"
like "$sent" "\"base64\":\"$(printf '%s' "$R2" | base64 -w0)\"" "ref 2 is the server's"
is "$(printf '%s' "$E1" | jq -r .expires | grep -c '^20[0-9-]*T[0-9:.]*Z$')" 1 "expires is an RFC 3339 time"
is "$(printf '%s' "$E1" | jq -r .valid_ms)" 2000 "valid_ms of the first code"
is "$(printf '%s' "$E1" | jq -r .dir)" "$T/a" "dir is the folder"
is "$(decode "$T/snap-1.png")" "$Q1" "the PNG of code 1 decodes to its QR string"
is "$(decode "$T/snap-1.svg")" "$Q1" "the SVG of code 1 decodes to its QR string"
is "$(decode "$T/snap-2.png")" "$Q2" "after the rotation the PNG decodes to code 2"
is "$(decode "$T/snap-2.svg")" "$Q2" "after the rotation the SVG decodes to code 2"
is "$(ref_of "$(decode "$T/qr.png")")" "$R2" "the PNG now holds the current ref"
is "$(stat -c %a "$T/qr.png")/$(stat -c %a "$T/qr.svg")" 600/600 "the images are 0600 (they hold a secret)"
like "$(head -c 8 "$T/qr.png" | od -An -c | tr -d ' ')" "PNG" "a PNG file"
is "$(find "$T" -maxdepth 1 -name '.wa-tmp.*' | wc -l | tr -d ' ')" 0 "no temporary files left beside them"
r=$(fakewa_call POST /phone/scan "$(printf '{"qr":"%s"}' "$Q2")")
JID=$(printf '%s' "$r" | fakewa_field jid)
wait "$PID"; RC=$?
is "$RC" 0 "wa-pair links and exits 0"
ok "a paired event" wait_lines "$T/hook.log" 3
E3=$(ev 3)
is "$(printf '%s' "$E3" | jq -r '[.event, .seq, .state, .jid, .login, .platform] | join(" ")')" \
	"paired 3 online $JID true android" "paired: seq 3, state online, the JID, the first login done, the platform"
is "$(printf '%s' "$E3" | jq -r .prekeys)" 812 "paired: pre-keys uploaded"
unlike "$E3" "linked_devices" "paired does not repeat the QR string"
is "$(ls "$T"/qr.png "$T"/qr.svg 2>/dev/null)" "" "the images are removed once paired"
is "$(sed -n 3p "$T/hook.env")" "paired|$T/a|" "WA_EVENT and WA_AUTH_DIR"
like "$(cat "$T/p.out")" "linked $JID" "stdout: the summary line, no QR"
unlike "$(cat "$T/p.out") $(cat "$T/p.err")" "linked_devices" "no QR string on stdout or stderr"
ok "the webhook got the three lines" wait_lines "$T/hook-recv" 3
ok "webhook bodies are the event lines" cmp "$T/hook.log" "$T/hook-recv"

# ---- every code expires: failed --------------------------------------------------

rm -f "$T/hook.log" "$T/hook.env" "$T"/snap-*
fakewa_call POST /config '{"qrRefs":2,"qrFirstMs":1000,"qrNextMs":1000,"qrGraceMs":500}' >/dev/null
expect_exit 21 "every code expires: exit 21" wa-pair -d "$T/e" --qr-svg "$T/qr.svg" --qr-time 1,1 -t 10 --on-event "$T/hook"
ok "qr, qr, failed" wait_lines "$T/hook.log" 3
is "$(jq -r .event "$T/hook.log" | tr '\n' ' ')" "qr qr failed " "the events in order"
E=$(ev 3)
is "$(printf '%s' "$E" | jq -r '[.state, .status, .exit_code] | join(" ")')" "failed expired 21" "failed: state, status expired, exit code"
like "$(printf '%s' "$E" | jq -r .reason)" "expired" "failed: the reason"
like "$(sed -n 3p "$T/hook.env")" "failed|$T/e|all 2 QR codes expired" "WA_REASON holds the reason"
is "$(ls "$T"/qr.svg 2>/dev/null)" "" "the image is removed when the codes ran out"
is "$(cd "$T/e" && ls -A)" ".wa" "nothing written"

# ---- usage --------------------------------------------------------------------------

expect_exit 64 "--phone with --qr-png" wa-pair -d "$T/u" --phone 15550001111 --qr-png "$T/x.png"
expect_exit 73 "--qr-png into a missing folder" wa-pair -d "$T/u" --qr-png "$T/nosuch/x.png"
like "$(cat "$T/err")" "'$T/nosuch'" "the error names the folder"
expect_exit 64 "--on-event with a missing program" wa-pair -d "$T/u" --qr-svg "$T/x.svg" --on-event "$T/nosuch"
fakewa_call POST /config '{"qrRefs":6,"qrFirstMs":60000,"qrNextMs":20000,"qrGraceMs":2000}' >/dev/null

done_testing

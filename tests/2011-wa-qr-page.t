#!/bin/sh
# 2011-wa-qr-page: scripts/wa-qr-page serves wa-pair's current QR code as
# a page on 127.0.0.1 (python3 -m http.server); a headless browser
# (Debian's chromium-headless-shell or chromium) loads the page, and its
# screenshot holds a QR code that zbarimg decodes to the current QR string,
# whose ref is the one fakewa sent; after the rotation the page shows the
# new code; after the scan wa-pair links, the script exits 0 and the
# server is gone.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
command -v zbarimg >/dev/null 2>&1 || skip_all "zbarimg not installed (zbar-tools)"
command -v python3 >/dev/null 2>&1 || skip_all "python3 missing"
command -v jq >/dev/null 2>&1 || skip_all "jq missing"
browser=
for b in chromium-headless-shell chromium; do
	command -v "$b" >/dev/null 2>&1 && { browser=$b; break; }
done
[ -n "$browser" ] || skip_all "no headless browser (apt-get install chromium-headless-shell; scripts/install-deps does)"
. "$WA_TOP/tests/fakewa.sh"
trap '' PIPE

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
seq_now() { fakewa_call GET /info | fakewa_field seq; }
wait_lines() {
	_i=0
	while [ "$(cat "$1" 2> /dev/null | wc -l)" -lt "$2" ]; do _i=$((_i + 1)); [ $_i -lt 1500 ] || return 1; sleep 0.02; done
}
# shot NAME: the page in the headless browser, into $T/NAME.png
shot() {
	"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/profile" --window-size=600,700 --hide-scrollbars \
		--screenshot="$T/$1.png" "$URL" > "$T/browser.log" 2>&1
}
ref_of() { printf '%s' "${1#*#}" | cut -d, -f1; }
cat > "$T/hook" <<EOF2
#!/bin/sh
printf '%s\n' "\$WA_EVENT_JSON" >> "$T/hook.log"
EOF2
chmod +x "$T/hook"

fakewa_call POST /config '{"qrRefs":3,"qrFirstMs":8000,"qrNextMs":60000,"qrGraceMs":500}' >/dev/null
s=$(seq_now)
mkfifo "$T/page.err"
"$WA_TOP/scripts/wa-qr-page" -p 0 -d "$T/a" --qr-time 8,60 -t 10 --on-event "$T/hook" \
	> "$T/page.out" 2> "$T/page.err" 9>&- &
PID=$!
echo "$PID" >> "$T/.pids"
IFS= read -r line < "$T/page.err"
URL=$(printf '%s\n' "$line" | sed -n 's/.*at \(http:[^ ]*\)$/\1/p')
like "$URL" "http://127.0.0.1:" "the script says where the page is, on loopback"
cat "$T/page.err" > "$T/page.rest" &

ok "the first qr event" wait_lines "$T/hook.log" 1
Q1=$(sed -n 1p "$T/hook.log" | jq -r .qr)
ok "the browser takes a screenshot of the page" shot one
is "$(zbarimg -q --raw "$T/one.png" 2>/dev/null)" "$Q1" "the page shows a QR code that decodes to the current QR string"
sent=$(fakewa_wait "event=sent&child=pair-device&since=$s&timeout_ms=5000")
like "$sent" "\"base64\":\"$(printf "%s" "$(ref_of "$Q1")" | base64 -w0)\"" "... whose ref is the one fakewa sent"

ok "the rotation: a second qr event" wait_lines "$T/hook.log" 2
Q2=$(sed -n 2p "$T/hook.log" | jq -r .qr)
isnt "$Q2" "$Q1" "a new code"
ok "the browser loads the page again" shot two
is "$(zbarimg -q --raw "$T/two.png" 2>/dev/null)" "$Q2" "the page now shows the new code"

r=$(fakewa_call POST /phone/scan "$(printf '{"qr":"%s"}' "$Q2")")
JID=$(printf '%s' "$r" | fakewa_field jid)
wait "$PID"; RC=$?
is "$RC" 0 "wa-qr-page exits with wa-pair's status"
like "$(cat "$T/page.out")" "linked $JID" "wa-pair's summary on standard output"
port=${URL##*:}; port=${port%/}
if curl -s --noproxy '*' --max-time 2 "$URL" > /dev/null 2>&1; then
	fail "the server is stopped when wa-pair ends"
else
	pass "the server is stopped when wa-pair ends"
fi
is "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'wa-qr-page.*' -newer "$T/hook" 2>/dev/null | wc -l | tr -d ' ')" 0 \
	"its folder is removed"

done_testing

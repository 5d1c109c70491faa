#!/bin/sh
# 2003-wa-pair-qr-tmux: the QR code wa-pair draws, read back from a real
# terminal.  wa-pair runs in an 80x40 tmux pane against fakewa; the pane's
# text (tmux capture-pane) is turned back into modules (wa-qrtool pbm) and
# decoded by zbarimg.  The decoded string must carry the ref fakewa sent,
# the Noise key of the connection and the identity of the registration
# payload, and the simulated phone must accept it: the pairing completes.
# The code rotates in place (one QR on the screen, the second ref), the
# countdown shows, explicit colours are used, the QR leaves the screen once
# scanned, and an 80x24 terminal is refused with a hint.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
command -v tmux >/dev/null 2>&1 || skip_all "tmux not installed"
command -v zbarimg >/dev/null 2>&1 || skip_all "zbarimg not installed (zbar-tools)"
. "$WA_TOP/tests/fakewa.sh"
trap '' PIPE

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
socks=
stop_tmux() { for k in $socks; do tmux -L "$k" kill-server 2>/dev/null; done; }
on_exit stop_tmux

# show NAME COLS ROWS ARGS...: wa-pair ARGS in a COLSxROWS pane of a tmux
# server of its own (socket $sock); its stderr comes to us through a fifo
# (fd 6), its exit code into $T/NAME.rc, then the pane signals
# wa-pair-NAME and stays.
show() {
	name=$1 cols=$2 rows=$3; shift 3
	sock="wa-pair-$$-$name"
	socks="$socks $sock"
	rm -f "$T/err.fifo"; mkfifo "$T/err.fifo"
	cat > "$T/$name.sh" <<-EOF
	PATH='$PATH' WA_SERVER_URL='$FAKEWA_WS' WA_SERVER_ROOT_KEY='$FAKEWA_ROOT_PUB' \
	    wa-pair $* 2>"$T/err.fifo"
	echo \$? > "$T/$name.rc"
	tmux -L "$sock" wait-for -S wa-pair-$name
	exec cat
	EOF
	if ! LC_ALL=C.UTF-8 tmux -u -L "$sock" -f /dev/null new-session -d -x "$cols" -y "$rows" \
	    "sh $T/$name.sh 9>&-"; then
		fail "tmux starts a ${cols}x$rows pane"
		done_testing
		exit 1
	fi
	exec 6<"$T/err.fifo"
}
# errline TEXT: read wa-pair's stderr until a line holds TEXT
errline() {
	while IFS= read -r l <&6; do
		printf '%s\n' "$l" >> "$T/stderr"
		case $l in *"$1"*) return 0 ;; esac
	done
	return 1
}
# capture WANT: the pane's text into $T/pane (and with colours into
# $T/pane-e) once it shows WANT.  tmux renders what the program wrote
# asynchronously: a few retries cover that, the synchronisation is errline.
capture() {
	n=0
	while :; do
		tmux -L "$sock" capture-pane -p > "$T/pane"
		grep -q "$1" "$T/pane" && break
		n=$((n + 1))
		[ $n -ge 50 ] && return 1
		sleep 0.1
	done
	tmux -L "$sock" capture-pane -p -e > "$T/pane-e"
}
# decode: the QR in $T/pane (between the heading and the status line)
decode() {
	awk '/^Scan with WhatsApp/ { on = 1; next } /^QR code / { on = 0 } on' "$T/pane" > "$T/qr.txt"
	wa-qrtool pbm < "$T/qr.txt" > "$T/qr.pbm" 2>>"$T/qrtool.err" &&
	    zbarimg -q --raw "$T/qr.pbm" 2>/dev/null
}
b64hex() { printf '%s' "$1" | base64 -d | od -An -tx1 | tr -d ' \n'; }

# ---- rotation, decoding, scanning ----------------------------------------------

fakewa_call POST /config '{"qrRefs":2,"qrFirstMs":1000,"qrNextMs":20000,"qrGraceMs":500}' >/dev/null
s=$(fakewa_call GET /info | fakewa_field seq)
show a 80 40 -d "$T/a" --qr-time 1,20
ok "wa-pair shows the first QR code" errline "QR code 1 of 2 shown"
capture "QR code 1 of 2, expires in" || fail "the pane shows the first code and its countdown" "$(cat "$T/pane")"
like "$(cat "$T/pane")" "QR code 1 of 2, expires in" "countdown and codes left under the QR"
like "$(cat "$T/pane-e")" "[38;5;16" "explicit foreground colour (palette black)"
like "$(cat "$T/pane-e")" "[48;5;231" "explicit background colour (palette white)"
D1=$(decode)
like "$D1" "https://wa.me/settings/linked_devices#2@" "zbarimg decodes the QR drawn in the terminal"
w=$(LC_ALL=C.UTF-8 wc -L < "$T/qr.txt" | tr -d ' ')
ok "it fits in 80 columns ($w)" test "$w" -le 80

ev=$(fakewa_wait "event=sent&child=pair-device&since=$s&timeout_ms=5000")
ref1=$(printf '%s' "${D1#*#}" | cut -d, -f1)
like "$ev" "\"base64\":\"$(printf '%s' "$ref1" | base64 -w0)\"" "the decoded QR carries the first ref fakewa sent"
con=$(fakewa_wait "event=connected&since=$s&timeout_ms=5000")
noise=$(printf '%s' "$D1" | cut -d, -f2)
ident=$(printf '%s' "$D1" | cut -d, -f3)
like "$con" "\"clientStatic\":\"$(b64hex "$noise")\"" "... the connection's Noise key"
like "$con" "\"eIdent\":\"$ident\"" "... the identity key of the registration payload"

ok "the code rotates: wa-pair shows the second" errline "QR code 2 of 2 shown"
capture "QR code 2 of 2, expires in" || fail "the pane shows the second code" "$(cat "$T/pane")"
is "$(grep -c '^Scan with WhatsApp' "$T/pane")" 1 "one QR on the screen: redrawn in place"
D2=$(decode)
ref2=$(printf '%s' "${D2#*#}" | cut -d, -f1)
isnt "$ref2" "$ref1" "the second QR carries another ref"
like "$ev" "\"base64\":\"$(printf '%s' "$ref2" | base64 -w0)\"" "... the server's second"

r=$(fakewa_call POST /phone/scan "{\"qr\":\"$D2\"}")
like "$r" '"jid":"' "the simulated phone scans the string read off the terminal"
JID=$(printf '%s' "$r" | fakewa_field jid)
timeout 60 tmux -L "$sock" wait-for wa-pair-a || fail "wa-pair ended within 60 s"
is "$(cat "$T/a.rc")" 0 "the pairing completes (exit 0)"
tmux -L "$sock" capture-pane -p > "$T/pane"
like "$(cat "$T/pane")" "linked $JID" "the summary on the terminal"
unlike "$(cat "$T/pane")" "█" "the QR code is gone from the screen"
unlike "$(cat "$T/pane")" "QR code 2 of 2" "... with its status line"
fakewa_call POST /config '{"qrRefs":6,"qrFirstMs":60000,"qrNextMs":20000,"qrGraceMs":2000}' >/dev/null

# ---- a terminal too small --------------------------------------------------------

show b 80 24 -d "$T/b"
timeout 60 tmux -L "$sock" wait-for wa-pair-b || fail "wa-pair ended within 60 s"
errline "too small" >/dev/null
is "$(cat "$T/b.rc")" 28 "80x24 is too small for a version-10 QR: exit 28"
like "$(cat "$T/stderr")" "terminal (80x24) is too small" "... the message gives the size"
like "$(cat "$T/stderr")" "--qr-text" "... and the hint"
ok "... nothing created" test ! -e "$T/b"
exec 6<&-

done_testing

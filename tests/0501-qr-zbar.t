#!/bin/sh
# The terminal QR (lib/qr.h) decodes with a real QR reader: the half-block
# drawing is read back into modules (wa-qrtool pbm), written as a PBM image
# and handed to zbarimg (zbar-tools; it reads PBM through ImageMagick's pnm
# coder), which must return the exact pairing string.  Also through a real
# terminal: the drawing is shown in an 80x40 tmux pane and the pane's text
# (tmux capture-pane, with and without colour sequences) is decoded.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v zbarimg >/dev/null 2>&1 || skip_all "zbarimg not installed (zbar-tools)"

# A pairing string as wa-protocol(7) §6.2 shapes it: a 2@ ref of 90 bytes,
# three base64 keys, the platform.
b64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
qr="https://wa.me/settings/linked_devices#2@$(b64 66),$(b64 32),$(b64 32),$(b64 32),1"

decode() { # decode FILE.pbm: the text zbarimg finds, or nothing
	zbarimg -q --raw "$1" 2>/dev/null
}

# 1. straight from the renderer, colours and full quiet zone
ok "render" wa-qrtool render "$qr"
cp "$T/out" "$T/drawing"
ok "drawing to modules" sh -c 'wa-qrtool pbm < "$T/drawing" > "$T/a.pbm"'
is "$(decode "$T/a.pbm")" "$qr" "zbarimg decodes the pairing string"

# 2. plain, smallest quiet zone
wa-qrtool render -p -q 2 "$qr" > "$T/plain" 2> "$T/err"
wa-qrtool pbm -s 3 < "$T/plain" > "$T/b.pbm" 2>> "$T/err"
is "$(decode "$T/b.pbm")" "$qr" "plain drawing with a 2-module quiet zone decodes"

# 3. the decode depends on the drawing: blank ten of its rows and nothing reads
awk 'NR >= 10 && NR < 20 { gsub(/[^ ]/, ""); $0 = sprintf("%61s", "") } { print }' "$T/plain" > "$T/broken"
wa-qrtool pbm < "$T/broken" > "$T/c.pbm" 2>> "$T/err"
is "$(decode "$T/c.pbm")" "" "a drawing with ten rows blanked does not decode"

# 4. through a real terminal
if command -v tmux >/dev/null 2>&1; then
	sock="wa-qr-$$"
	stop_tmux() { tmux -L "$sock" kill-server 2>/dev/null; }
	on_exit stop_tmux
	printf '%s\n' "$qr" > "$T/qr.txt"
	cat > "$T/show.sh" <<-EOF
	wa-qrtool render "\$(cat "$T/qr.txt")"
	tmux wait-for -S wa-qr-shown
	exec cat
	EOF
	LC_ALL=C.UTF-8 tmux -u -L "$sock" -f /dev/null new-session -d -x 80 -y 40 "sh $T/show.sh"
	timeout 30 tmux -L "$sock" wait-for wa-qr-shown || fail "the drawing did not show in tmux within 30 s"
	tmux -L "$sock" capture-pane -p > "$T/pane.txt"
	tmux -L "$sock" capture-pane -p -e > "$T/pane-e.txt"
	wa-qrtool pbm < "$T/pane.txt" > "$T/d.pbm" 2>> "$T/err"
	is "$(decode "$T/d.pbm")" "$qr" "tmux capture-pane text decodes"
	wa-qrtool pbm < "$T/pane-e.txt" > "$T/e.pbm" 2>> "$T/err"
	is "$(decode "$T/e.pbm")" "$qr" "tmux capture-pane -e (with colours) decodes"
	like "$(cat "$T/pane-e.txt")" "[38;5;16" "the pane shows our explicit colours"
	stop_tmux
else
	pass "# SKIP tmux not installed"
fi

done_testing

#!/bin/sh
# The EXAMPLES of the man pages do what their text says.  An example is
# run when the line before its .Bd is the roff comment
#
#   .\" test: ID
#
# (not shown by man).  This test pulls each marked example out of the page
# source (roff escapes undone), runs it with sh as written, in a folder
# that holds a Baileys-made "auth" folder, and checks what the text
# promises; a check per ID below.  Absolute example paths (/srv/bot/auth)
# are mapped into that folder, ssh runs its command locally, and
# qrencode, when not installed, is a stand-in built on wa-qrtool.
# Every marked example must have a check here, and every check a marked
# example, so neither can go missing quietly.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

have_node || skip_all "node or tests/fakewa/node_modules missing"
umask 077   # files made here are secret like the rest of the folder

# example ID: the text of the marked example ID, into $T/ex/ID.sh
example() {
	mkdir -p "$T/ex"
	for _m in "$WA_TOP"/man/*.[1-8]; do
		awk -v id="$1" '
			$0 == ".\\\" test: " id { want = 1; next }
			want && /^\.Bd/ { on = 1; next }
			on && /^\.Ed/ { found = 1; exit }
			on { gsub(/\\e/, "\\"); gsub(/\\&/, ""); print }
			END { exit !found }
		' "$_m" > "$T/ex/$1.sh" && break
	done
	[ -s "$T/ex/$1.sh" ] || { fail "example $1 found in man/"; return 1; }
	sed -i "s|/srv/bot/auth|$W/srv/bot/auth|g" "$T/ex/$1.sh"
}

# run_example ID: run it in $W with sh; stdout, stderr, status in
# $T/ex.out, $T/ex.err, RC
run_example() {
	(cd "$W" && sh "$T/ex/$1.sh") > "$T/ex.out" 2> "$T/ex.err"
	RC=$?
}

# fresh: a new work folder $W with a Baileys folder "auth" (paired, with
# sessions and sender keys) and "srv/bot/auth", a copy of it
fresh() {
	W=$T/w$((${W_N:-0} + 1)); W_N=$((${W_N:-0} + 1))
	mkdir -p "$W/srv/bot"
	baileys_folder "$W/auth" --contacts 2 --groups 1 &&
	    cp -a "$W/auth" "$W/srv/bot/auth"
}

mkdir -p "$T/bin"
cat > "$T/bin/ssh" <<'EOF'
#!/bin/sh
# ssh HOST COMMAND: run COMMAND here (the test's "other machine")
shift
exec sh -c "$*"
EOF
if ! command -v qrencode > /dev/null 2>&1; then
	cat > "$T/bin/qrencode" <<'EOF'
#!/bin/sh
# qrencode -o FILE TEXT: a stand-in, writing a PBM image of the QR code
[ "$1" = -o ] || exit 2
wa-qrtool render -p "$3" | wa-qrtool pbm > "$2.tmp" && mv "$2.tmp" "$2"
EOF
fi
chmod 755 "$T/bin"/*
PATH=$T/bin:$PATH

ids=$(sed -n 's/^\.\\" test: \([a-z0-9-]*\)$/\1/p' "$WA_TOP"/man/*.[1-8] | sort)
known="backup-cron backup-ssh check-cron check-json-prune pair-qr-text prune-session prune-list prune-crash restore-latest restore-ssh"
for id in $ids; do
	case " $known " in *" $id "*) pass "example $id has a check" ;; *) fail "example $id has a check" "add one to $0" ;; esac
done
for id in $known; do
	case " $(printf "%s " $ids)" in *" $id "*) pass "check $id has its example in man/" ;;
	*) fail "check $id has its example in man/" "no '.\\\" test: $id' line before a .Bd in man/" ;; esac
done

archives() { find "$1" -maxdepth 1 -name 'auth-*.tar' | wc -l | tr -d ' '; }

# ---- wa-backup(1) -------------------------------------------------------------

# backup-cron: nightly from cron, keeping two weeks; cron mails any
# output, so a successful run prints nothing
if fresh && example backup-cron; then
	quiet=1 allok=1
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		run_example backup-cron
		[ "$RC" -eq 0 ] || allok=0
		[ -s "$T/ex.out" ] || [ -s "$T/ex.err" ] && { quiet=0; cp "$T/ex.out" "$T/noisy.out"; cp "$T/ex.err" "$T/noisy.err"; }
	done
	is "$allok" 1 "backup-cron: 16 nightly runs succeed"
	if [ "$quiet" -eq 1 ]; then pass "backup-cron: a successful run prints nothing (cron mails nothing)"
	else fail "backup-cron: a successful run prints nothing (cron mails nothing)" \
	    "stdout: $(cat "$T/noisy.out")" "stderr: $(cat "$T/noisy.err")"; fi
	is "$(archives "$W/srv/bot/auth.backups")" 14 "backup-cron: --keep 14 keeps 14 archives"
	printf '{"broken' > "$W/srv/bot/auth/session-15550009999.0.json"
	run_example backup-cron
	like "$(cat "$T/ex.err")" "warning" "backup-cron: a folder with a problem still mails (the warning)"
fi

# backup-ssh: the archive goes to the other machine's bot-auth.tar
if fresh && example backup-ssh; then
	run_example backup-ssh
	is "$RC" 0 "backup-ssh: exits 0"
	is "$(tar -tf "$W/bot-auth.tar" 2>/dev/null | head -n 1)" wa-manifest.json "backup-ssh: bot-auth.tar is an archive, manifest first"
	ok "backup-ssh: wa-restore accepts it" wa-restore -n -d "$W/auth" "$W/bot-auth.tar"
fi

# ---- wa-check(1) --------------------------------------------------------------

# check-cron: a crontab line (the five time fields are cron's): nothing
# while the folder is healthy, the verbose report when it is not
if fresh && example check-cron; then
	sed -i 's/^\([^ ]* \)\{5\}//' "$T/ex/check-cron.sh"
	run_example check-cron
	is "$RC.$(cat "$T/ex.out" "$T/ex.err")" "0." "check-cron: healthy folder: no output (no mail)"
	size=$(wc -c < "$W/srv/bot/auth/creds.json")
	head -c $((size / 2)) "$W/srv/bot/auth/creds.json" > "$T/cut" && cat "$T/cut" > "$W/srv/bot/auth/creds.json"
	run_example check-cron
	is "$RC" 2 "check-cron: torn creds.json: CRITICAL"
	like "$(cat "$T/ex.out")" "creds.json" "check-cron: ... and the mail names creds.json"
fi

# check-json-prune: the problem paths, then the files that do not parse
# go to quarantine
if fresh && example check-json-prune; then
	s=$(cd "$W/auth" && ls | grep '^session-' | head -n 1)
	printf '{"_sessions":{' > "$W/auth/$s"
	run_example check-json-prune
	is "$RC" 0 "check-json-prune: exits 0"
	like "$(cat "$T/ex.out")" "auth/$s" "check-json-prune: jq prints the broken file's path"
	ok "check-json-prune: the broken file left the folder" test ! -e "$W/auth/$s"
	ok "check-json-prune: ... into the quarantine" sh -c 'ls "$1"/auth/.wa/quarantine/*/"$2"' sh "$W" "$s"
	ok "check-json-prune: the folder is healthy again" wa-check -d "$W/auth"
fi

# ---- wa-prune(1) --------------------------------------------------------------

# prune-session: one contact's session goes to quarantine
if fresh && example prune-session; then
	s=$(cd "$W/auth" && ls | grep '^session-[0-9]*\.0\.json$' | head -n 1)
	cp "$W/auth/$s" "$W/auth/session-15550001111.0.json"
	run_example prune-session
	is "$RC" 0 "prune-session: exits 0"
	ok "prune-session: session-15550001111.0.json left the folder" test ! -e "$W/auth/session-15550001111.0.json"
	ok "prune-session: ... into the quarantine" sh -c 'ls "$1"/auth/.wa/quarantine/*/session-15550001111.0.json' sh "$W"
	ok "prune-session: other sessions stay" test -e "$W/auth/$s"
fi

# prune-list: the contacts named in a log, then every session
if fresh && example prune-list; then
	s=$(cd "$W/auth" && ls | grep '^session-[0-9]*\.0\.json$' | head -n 1)
	cp "$W/auth/$s" "$W/auth/session-15550001111.0.json"
	cp "$W/auth/$s" "$W/auth/session-15550002222.0.json"
	printf 'Bad MAC from 15550001111@s.whatsapp.net\nBad MAC from 15550002222@s.whatsapp.net\nBad MAC from 15550001111@s.whatsapp.net\n' > "$W/bad-mac.log"
	cp -a "$W/auth" "$W/auth.before"
	sed -n 1p "$T/ex/prune-list.sh" > "$T/ex/prune-list-1.sh"
	run_example prune-list-1
	is "$RC" 0 "prune-list: the list from bad-mac.log: exits 0"
	ok "prune-list: both listed sessions left the folder" \
	    test ! -e "$W/auth/session-15550001111.0.json" -a ! -e "$W/auth/session-15550002222.0.json"
	ok "prune-list: an unlisted session stays" test -e "$W/auth/$s"
	run_example prune-list
	is "$RC" 0 "prune-list: both lines: exits 0"
	is "$(cd "$W/auth" && ls | grep -c '^session-')" 0 "prune-list: --sessions alone: no session left"
fi

# prune-crash: leftovers and unparsable files listed, then quarantined
if fresh && example prune-crash; then
	printf 'half' > "$W/auth/.wa-tmp.creds.json.1234"
	printf '{"broken' > "$W/auth/pre-key-99.json"
	run_example prune-crash
	is "$RC" 0 "prune-crash: exits 0"
	like "$(cat "$T/ex.out")" ".wa-tmp.creds.json.1234" "prune-crash: the dry run names the leftover"
	like "$(cat "$T/ex.out")" "pre-key-99.json" "prune-crash: ... and the corrupt file"
	ok "prune-crash: both left the folder" test ! -e "$W/auth/.wa-tmp.creds.json.1234" -a ! -e "$W/auth/pre-key-99.json"
	ok "prune-crash: the folder is healthy again" wa-check -d "$W/auth"
fi

# ---- wa-restore(1) ------------------------------------------------------------

# restore-latest: the torn creds.json comes back from the newest backup
if fresh && example restore-latest; then
	cp "$W/auth/creds.json" "$T/creds.good"
	wa-backup -q -d "$W/auth" > /dev/null
	printf '{"noiseKey":' > "$W/auth/creds.json"
	run_example restore-latest
	is "$RC" 0 "restore-latest: exits 0"
	like "$(cat "$T/ex.out")" "creds.json" "restore-latest: the dry run names creds.json"
	ok "restore-latest: creds.json is the backed-up one" cmp -s "$T/creds.good" "$W/auth/creds.json"
	ok "restore-latest: the torn folder is kept beside it" sh -c 'ls -d "$1"/auth.replaced-*' sh "$W"
fi

# restore-ssh: from an archive on the other machine
if fresh && example restore-ssh; then
	cp "$W/auth/creds.json" "$T/creds.good"
	wa-backup -q -d "$W/auth" -o "$W/bot-auth.tar" > /dev/null
	printf '' > "$W/auth/creds.json"
	run_example restore-ssh
	is "$RC" 0 "restore-ssh: exits 0"
	ok "restore-ssh: creds.json is the archived one" cmp -s "$T/creds.good" "$W/auth/creds.json"
fi

# ---- wa-pair(1) ---------------------------------------------------------------

# pair-qr-text: code.png holds the current QR code, also after the final
# "linked ..." line, which is printed
if ! command -v zbarimg > /dev/null 2>&1; then
	pass "pair-qr-text # SKIP zbarimg (the phone's camera) not installed"
elif example pair-qr-text; then
	. "$WA_TOP/tests/fakewa.sh"
	W=$T/pair
	mkdir -p "$W"
	if fakewa_start; then
		on_exit fakewa_stop
		: > "$T/ex.out"; : > "$T/ex.err"
		(cd "$W" && WA_SERVER_URL=$FAKEWA_WS WA_SERVER_ROOT_KEY=$FAKEWA_ROOT_PUB \
		    sh "$T/ex/pair-qr-text.sh") >> "$T/ex.out" 2>> "$T/ex.err" 9>&- &
		ppid_=$!
		echo "$ppid_" >> "$T/.pids"
		# the phone's camera: read code.png until it holds a QR code
		qr= i=0
		while [ -z "$qr" ] && [ $i -lt 1000 ]; do
			[ -s "$W/code.png" ] && qr=$(zbarimg -q --raw "$W/code.png" 2> /dev/null)
			i=$((i + 1)); [ -n "$qr" ] || sleep 0.02
		done
		like "$qr" "https://wa.me/settings/linked_devices#" "pair-qr-text: code.png holds the QR code"
		fakewa_call POST /phone/scan "{\"qr\":\"$qr\"}" > /dev/null
		wait "$ppid_"
		is "$?" 0 "pair-qr-text: the pipeline exits 0"
		like "$(cat "$T/ex.out")" "linked " "pair-qr-text: the 'linked ...' line is printed"
		is "$(zbarimg -q --raw "$W/code.png" 2> /dev/null)" "$qr" "pair-qr-text: code.png still holds the QR code"
		ok "pair-qr-text: the folder is paired" wa-check -d "$W/auth"
	else
		fail "pair-qr-text: fakewa starts"
	fi
fi

done_testing

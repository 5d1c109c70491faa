#!/bin/sh
# 1007-wa-check-fixes: whatever wa-check calls broken, the command it
# recommends repairs.  For each kind of damage, every "fix" of wa-check
# --json is run in the order listed; each must succeed, and afterwards
# wa-check is OK (nothing of that damage is left).  Among them: a symbolic
# link as .wa/quarantine (was not reported, and wa-prune --corrupt, the
# fix named for a corrupt session beside it, exited 77), a fifo named
# session-*.json (no selector moved it) and a 100 MB session file
# (wa-prune --corrupt refused it).
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"
command -v jq > /dev/null 2>&1 || skip_all "jq missing"

cd "$T" || exit 1
A=$T/auth
n=0

# case NAME KIND DAMAGE-COMMAND: fresh folder, damage, wa-check names KIND,
# every fix succeeds, wa-check OK afterwards
case_() {
	name=$1 kind=$2; shift 2
	n=$((n + 1))
	chmod -R u+rwx "$A" 2>/dev/null; rm -rf "$A" "$T"/auth.*
	mkfolder "$A"
	mkdir -m 700 "$A/.wa"
	"$@"
	wa-check -d "$A" --json > "$T/j$n" 2>/dev/null
	is "$(jq -r '.problems[].kind' "$T/j$n" | grep -x "$kind" | head -1)" "$kind" "$name: reported as $kind"
	jq -r '.problems[] | select(.fix != null) | .fix' "$T/j$n" | awk '!seen[$0]++' > "$T/fixes$n"
	isnt "$(cat "$T/fixes$n")" "" "$name: a fix is named"
	while IFS= read -r f; do
		sh -c "$f" > "$T/fout" 2>&1
		rc=$?
		is "$rc" 0 "$name: '$f' succeeds"
	done < "$T/fixes$n"
	wa-check -d "$A" > "$T/after" 2>&1
	rc=$?
	is "$rc" 0 "$name: wa-check OK after the fixes"
	[ "$rc" -eq 0 ] || diag "$(cat "$T/after")"
}

torn_session() { printf '{"_sessions":{' > "$A/session-15550002222.0.json"; }
case_ "corrupt session" session_corrupt torn_session

fifo() { mkfifo -m 600 "$A/session-15550005555.0.json"; }
case_ "fifo named session-*.json" file_unsafe fifo

big() { truncate -s 100M "$A/session-15550006666.0.json"; chmod 600 "$A/session-15550006666.0.json"; }
case_ "100 MB session file" file_too_big big

link() { ln -s "$T/elsewhere.json" "$A/session-15550007777.0.json"; }
case_ "session file as a symbolic link" file_unsafe link

folder() { mkdir -m 700 "$A/pre-key-9.json"; }
case_ "a folder named like a pre-key" file_unsafe folder

qlink() { mkdir -m 700 "$T/q"; ln -s "$T/q" "$A/.wa/quarantine"; torn_session; }
case_ ".wa/quarantine a symbolic link, and a corrupt session" quarantine_unsafe qlink
ok "... the link's target got nothing" test -z "$(ls -A "$T/q")"

stlink() { mkdir -m 700 "$T/s"; ln -s "$T/s" "$A/.wa/tmp"; }
case_ ".wa/tmp a symbolic link" stage_unsafe stlink

lklink() { ln -s "$T/lk" "$A/.wa/lock"; }
case_ ".wa/lock a symbolic link" lock_unsafe lklink

walink() { rmdir "$A/.wa"; mkdir -m 700 "$T/w"; ln -s "$T/w" "$A/.wa"; }
case_ ".wa a symbolic link" wa_unsafe walink
ok "... the link's target is still there" test -d "$T/w"

tmp() { mkdir -m 700 "$A/.wa/tmp"; printf x > "$A/.wa/tmp/.wa-tmp.x.1"; printf x > "$A/.wa-tmp.y.2"; }
case_ "leftover temporary files" tmp_leftover tmp

mode() { chmod 644 "$A/session-15550002222.0.json"; }
case_ "a session file at 0644" file_mode mode

dmode() { chmod 755 "$A"; }
case_ "the folder at 0755" folder_mode dmode

stfile() { printf 'not a folder' > "$A/.wa/tmp"; chmod 600 "$A/.wa/tmp"; }
case_ ".wa/tmp a plain file" stage_unsafe stfile
ok "... moved aside, not deleted" grep -q 'not a folder' "$A"/.wa/tmp.moved-aside-*

torn_creds() {
	wa-backup -q -d "$A" > /dev/null 2>&1 || fail "backup for the torn creds case"
	head -c 200 "$A/creds.json" > "$T/t" && cat "$T/t" > "$A/creds.json"
}
case_ "torn creds.json, with a backup" creds_corrupt torn_creds

done_testing

#!/bin/sh
# 1240-wa-status-supersede: a stale wa-run status never keeps wa-check
# CRITICAL once the folder was fixed.  wa-run on a folder that was never
# paired ends 'failed' (exit 66, no disk error: wa-check does not call it
# one); a successful wa-pair then marks that status superseded and
# wa-check no longer reports it.  (A restore of a backup taken while
# wa-run was online is in 1210.)
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
trap '' PIPE

cd "$T" || exit 1
mkdir -m 700 u
expect_exit 66 "wa-run on a folder that was never paired: 66" wa-run -d u
wa-check -v -d u > "$T/out" 2>&1
like "$(cat "$T/out")" "wa-run reports failed" "wa-check reports the failed state"
unlike "$(cat "$T/out")" "fsync" "  without calling it a write or fsync failure (exit 66 is none)"

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"

rm -f p.fifo; mkfifo p.fifo
wa-pair -d u --qr-text -t 10 > p.fifo 2> p.err 9>&- &
PID=$!
echo "$PID" >> "$T/.pids"
exec 5< p.fifo
IFS= read -r QR <&5
r=$(fakewa_call POST /phone/scan "{\"qr\":\"$QR\"}")
like "$r" "@s.whatsapp.net" "the phone scans the QR"
cat <&5 > /dev/null
exec 5<&-
wait "$PID"
is "$?" 0 "wa-pair pairs the folder"
like "$(tr -d ' \n' < u/.wa/status.json)" '"superseded":{"by":"wa-pair","at":"20' "the old status is marked superseded"
like "$(tr -d ' \n' < u/.wa/status.json)" '"state":"failed"' "  and keeps what it said"
wa-check -v -d u > "$T/out" 2>&1
rc=$?
unlike "$(cat "$T/out")" "wa-run reports" "wa-check: the superseded state is not a problem"
is "$rc" 0 "wa-check: OK after the pairing"
[ "$rc" -eq 0 ] || diag "$(cat "$T/out")"
wa-check -v --max-silence 10m -d u > "$T/out" 2>&1
like "$(cat "$T/out")" "superseded by wa-pair" "with --max-silence: says why silence cannot be checked"

# ---- wa-pair refuses a folder that is clearly not an auth folder ----
mkdir -m 700 etcish
printf 'root:x:0:0\n' > etcish/passwd
S=$(tree_state etcish)
expect_exit 65 "wa-pair -d on a folder of other files is refused" wa-pair -d etcish --qr-text -t 2
like "$(cat "$T/err")" "'etcish' does not look like an auth folder" "  says why"
like "$(cat "$T/err")" "-f" "  and how to pair anyway"
is "$(tree_state etcish)" "$S" "  nothing created in it"

# ---- wa-pair -f keeps its backups like wa-backup (the newest 10) ----
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do wa-backup -q -d u > /dev/null 2>&1; done
# the oldest as wa-backup orders them: by stamp, then by the -N suffix
# (none is 0) as a number ("-10" is after "-9"; a plain sort is not)
oldest=$(ls u.backups | awk '{ s = $0; sub(/\.tar$/, "", s); q = 0
	if (match(s, /Z-[0-9]+$/)) { q = substr(s, RSTART + 2) + 0; s = substr(s, 1, RSTART) }
	print s, q, $0 }' | sort -k1,1 -k2,2n | head -n 1 | cut -d' ' -f3)
is "$(ls u.backups | wc -l | tr -d ' ')" 10 "(wa-backup kept 10)"
wa-pair -f -d u --qr-text --qr-time 1 -t 5 > /dev/null 2> "$T/err" < /dev/null
like "$(cat "$T/err")" "backed up 'u'" "wa-pair -f takes a backup"
like "$(cat "$T/err")" "removed old backup" "  and removes the oldest beyond 10"
is "$(ls u.backups | wc -l | tr -d ' ')" 10 "  10 remain"
ok "  the oldest is gone" test ! -e "u.backups/$oldest"
done_testing

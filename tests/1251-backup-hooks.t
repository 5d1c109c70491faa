#!/bin/sh
# 1251-backup-hooks: scripts/wa-backup-hook takes a wa-backup on the
# session's own events, against fakewa: after wa-pair links (its paired
# event), after wa-run's outage ends (online, outage true), when wa-run is
# stopped during an outage (state, outage "end"), and after any stop as
# systemd's ExecStopPost of scripts/wa-run@.service.d/backup.conf runs it
# (the drop-in's own command line, run here as systemd would after a
# SIGTERM).  Events that call for no backup (the first online, a 515
# restart) take none.  The drop-in passes systemd-analyze verify on top of
# wa-run@.service.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"
trap '' PIPE

S=$WA_TOP/scripts
HOOK=$S/wa-backup-hook
DROPIN=$S/wa-run@.service.d/backup.conf
fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
A=$T/a
B=$A.backups
# archives: how many backups of a
archives() { find "$B" -maxdepth 1 -type f -name 'a-*.tar' 2>/dev/null | wc -l | tr -d ' '; }
# wait_archives N: until there are N (bounded)
wait_archives() {
	_i=0
	while [ "$(archives)" -lt "$1" ]; do _i=$((_i + 1)); [ $_i -lt 1500 ] || return 1; sleep 0.02; done
}
# wait_grep FILE TEXT: until FILE holds TEXT (bounded)
wait_grep() {
	_i=0
	until grep -qF -e "$2" "$1" 2>/dev/null; do _i=$((_i + 1)); [ $_i -lt 1500 ] || return 1; sleep 0.02; done
}
newest() { find "$B" -maxdepth 1 -type f -name 'a-*.tar' | LC_ALL=C sort | tail -n 1; }

# ---- after pairing -----------------------------------------------------------------
rm -f "$T/p.fifo"; mkfifo "$T/p.fifo"
wa-pair -d "$A" --qr-text -t 10 --on-event "$HOOK" > "$T/p.fifo" 2> "$T/p.err" 9>&- &
PID=$!
echo "$PID" >> "$T/.pids"
exec 5< "$T/p.fifo"
IFS= read -r QR <&5
r=$(fakewa_call POST /phone/scan "$(printf '{"qr":"%s"}' "$QR")")
JID=$(printf '%s' "$r" | fakewa_field jid)
IFS= read -r SUMMARY <&5
exec 5<&-
wait "$PID"; RC=$?
is "$RC" 0 "wa-pair links"
is "$SUMMARY" "linked $JID, platform android, 812 pre-keys" "... and says so"
ok "a backup after pairing" wait_archives 1
like "$(tar -xOf "$(newest)" wa-manifest.json)" "\"me\": \"$JID\"" "... of the new pairing"
ok "... that wa-restore accepts" wa-restore -n -d "$A" "$(newest)"
like "$(cat "$T/p.err")" "wa-backup-hook: paired: backed up '$A'" "the hook says why and what (on wa-pair's stderr)"

# ---- wa-run: the first online takes none, the end of an outage does ----------------
export WA_RUN_BACKOFF=50ms,50ms
run_start "$A" --on-event "$HOOK"
expect_event "online" '"event":"online"'
fakewa_call POST /fault '{"code":515,"kind":"stream-error"}' > /dev/null
expect_event "515: online again, not an outage" '"event":"online".*"outage":false'
fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
expect_event "drop: online again after an outage" '"event":"online".*"outage":true'
ok "a backup after the outage" wait_archives 2
ok "the hook's line in wa-run's log" wait_grep "$RUN_LOG" "wa-backup-hook: online after an outage: backed up"
is "$(grep -c 'wa-backup-hook:' "$RUN_LOG")" 1 "one backup only: none for the first online or the 515"

# ---- SIGTERM: systemd's ExecStopPost from the drop-in -------------------------------
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "SIGTERM: wa-run exits 0"
is "$(archives)" 2 "a stop while online is not an outage event: no hook backup"
line=$(sed -n 's/^ExecStopPost=//p' "$DROPIN")
like "$line" "wa-backup-hook stop /var/lib/wa/%i" "the drop-in runs the hook after every stop"
cmd=$(printf '%s\n' "$line" | sed "s|/usr/local/bin/wa-backup-hook|$HOOK|; s|/var/lib/wa/%i|$A|")
# shellcheck disable=SC2086  # systemd splits the command line at blanks
EXIT_STATUS=0 $cmd > "$T/stop.out" 2> "$T/stop.err"
is "$?" 0 "ExecStopPost's command exits 0"
is "$(archives)" 3 "a backup after the stop"
like "$(cat "$T/stop.out")" "wa-backup-hook: wa-run stopped (exit 0): backed up '$A'" "... and says so"

# ---- SIGTERM during an outage: state with outage "end" -------------------------------
export WA_RUN_BACKOFF=60s,60s
run_start "$A" --on-event "$HOOK"
expect_event "online again" '"event":"online"'
fakewa_call POST /fault '{"kind":"drop"}' > /dev/null
expect_event "drop with a long backoff: the outage begins" '"event":"state".*"outage":"down"'
kill -TERM "$RUN_PID"
expect_event "SIGTERM during the outage: its end" '"event":"state".*"outage":"end"'
run_wait
ok "a backup at the stop during the outage" wait_archives 4
ok "... said in wa-run's log" wait_grep "$RUN_LOG" "wa-backup-hook: stopped during an outage: backed up"

# ---- wa-check counts them ------------------------------------------------------------
wa-check -d "$A" --max-backup-age 1h --problems > "$T/k"
is "$(grep -c '^backup_' "$T/k")" 0 "wa-check --max-backup-age 1h: no backup problem"

# ---- the hook ignores what it does not know; a missing folder is an error ------------
WA_EVENT=state WA_EVENT_JSON='{"event":"state","outage":null}' WA_AUTH_DIR=$A "$HOOK"
is "$?/$(archives)" "0/4" "another event: exit 0, no backup"
WA_EVENT=paired WA_EVENT_JSON='{}' WA_AUTH_DIR= "$HOOK" 2> "$T/e"
is "$?" 64 "no folder: exit 64"

# ---- the drop-in on top of the unit ---------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$T/units/wa-run@ci.service.d"
	sed "s|/usr/local/bin/wa-run|$WA_BIN/wa-run|" "$S/wa-run@.service" > "$T/units/wa-run@ci.service"
	sed "s|/usr/local/bin/wa-run|$WA_BIN/wa-run|; s|/usr/local/bin/wa-backup-hook|$HOOK|" "$DROPIN" \
		> "$T/units/wa-run@ci.service.d/backup.conf"
	expect_exit 0 "systemd-analyze verify accepts the unit with the drop-in" \
		systemd-analyze verify --man=no "$T/units/wa-run@ci.service"
	is "$(cat "$T/err")" "" "  without a warning"
else
	pass "# SKIP systemd-analyze not installed"
fi

done_testing

#!/bin/sh
# 3106-recv-on-message: wa-run --on-message CMD runs CMD (no shell) for each
# message once its file is durable, with WA_MSG_PATH naming that file in
# new/ and WA_MSG_ID, _CHAT, _SENDER, _TYPE, _STATUS, _FROM_ME its fields;
# --inbox DIR puts the spool there (made 0700).  A command that fails never
# loses or blocks a message: with a command that exits 1 every message is
# still stored and receipted.  A bad --on-message is refused at start.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"

recv_setup
recv_wa "$T/a"
recv_peer "$T/b" 15550000036 Dora
SB=$S

# the command: one line per message with the variables and whether the
# file existed (and was complete JSON) when it ran
cat > "$T/hook" <<'EOF'
#!/bin/sh
ok=no
[ -f "$WA_MSG_PATH" ] && node -e 'JSON.parse(require("fs").readFileSync(process.argv[1]))' "$WA_MSG_PATH" && ok=yes
printf '%s|%s|%s|%s|%s|%s|%s|%s|%s\n' "$WA_EVENT" "$WA_MSG_ID" "$WA_MSG_CHAT" "$WA_MSG_SENDER" \
    "$WA_MSG_TYPE" "$WA_MSG_STATUS" "$WA_MSG_FROM_ME" "$ok" "$WA_MSG_PATH" >> "$HOOK_OUT"
EOF
chmod 755 "$T/hook"
export HOOK_OUT="$T/hook.out"
: > "$HOOK_OUT"

expect_exit 64 "--on-message with a missing program is refused" wa-run -d "$WA_DIR" --on-message "$T/nope"
like "$(cat "$T/err")" "on-message: unable to run" "and says why"

run_start "$WA_DIR" --inbox "$T/box" --on-message "$T/hook"
await_online
INBOX=$T/box
bl send "#$SB" "$WA_USER" "first"; ID1=${R#sent }
bl send "#$SB" "$WA_USER" "second"; ID2=${R#sent }
inbox_wait "$INBOX" 2 60 || fail "two files in --inbox" "$INBOX_N"
is "$(stat -c %a "$T/box" "$T/box/new")" "700
700" "--inbox DIR made 0700"
ok "nothing in the default inbox" test ! -e "$WA_DIR.inbox/new" -o -z "$(ls "$WA_DIR.inbox/new" 2>/dev/null)"
i=0
while [ "$(lines "$HOOK_OUT")" -lt 2 ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done
is "$(lines "$HOOK_OUT")" 2 "the command ran once per message"
for id in "$ID1" "$ID2"; do
	l=$(grep "|$id|" "$HOOK_OUT")
	is "$(echo "$l" | cut -d'|' -f1)" message "$id: WA_EVENT=message"
	is "$(echo "$l" | cut -d'|' -f3)" "15550000036@s.whatsapp.net" "$id: WA_MSG_CHAT"
	matches "$(echo "$l" | cut -d'|' -f5)" "^(text|extended_text)$" "$id: WA_MSG_TYPE"
	is "$(echo "$l" | cut -d'|' -f6,7)" "ok|0" "$id: WA_MSG_STATUS ok, WA_MSG_FROM_ME 0"
	is "$(echo "$l" | cut -d'|' -f8)" yes "$id: WA_MSG_PATH was a whole file when the command ran"
	matches "$(echo "$l" | cut -d'|' -f9)" "^$T/box/new/" "$id: WA_MSG_PATH is in --inbox's new/"
done
stop_run

# a failing command: every message still stored and receipted
cat > "$T/fail" <<'EOF'
#!/bin/sh
echo ran >> "$HOOK_OUT.fail"
exit 1
EOF
chmod 755 "$T/fail"
run_start "$WA_DIR" --inbox "$T/box" --on-message "$T/fail"
await_online
bl many "#$SB" "$WA_USER" 20 failing
inbox_wait "$INBOX" 22 60 || fail "22 files" "$INBOX_N"
is "$(inbox_count "$INBOX")" 22 "a failing command: all 20 more stored"
i=0
while [ "$(acked_ids "$WA_DEV" | grep -c .)" -lt 22 ] && [ $i -lt 250 ]; do i=$((i + 1)); sleep 0.02; done
is "$(acked_ids "$WA_DEV" | grep -c .)" 22 "and every one acknowledged to the server"
like "$(cat "$RUN_LOG")" "exit" "wa-run logs the command's failure"
stop_run
done_testing

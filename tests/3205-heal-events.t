#!/bin/sh
# 3201-heal-events: what an operator hears of the self-healing (issue 12).
# wa-run with --on-event: fakewa corrupts a stanza, the real Baileys sender
# resends after the retry receipt, and the command hears decrypt_failed
# (once) and repaired; a sender whose resends keep failing ends with an
# undecryptable event.  Messages themselves are not notable (the command
# does not hear them).  status.json counts the failures by class since
# start and in the recent window, with retries, repaired and quarantined,
# and wa-check reads them (--json, --max-decrypt-failures: decrypt_storm).
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"
command -v jq > /dev/null 2>&1 || skip_all "jq missing"

recv_setup
recv_wa "$T/a"
recv_peer "$T/b" 15550000042 Frank
SB=$S
cat > "$T/hook.sh" <<'EOS'
#!/bin/sh
printf '%s %s\n' "$WA_EVENT" "$WA_EVENT_JSON" >> "$1"
EOS
chmod 755 "$T/hook.sh"
# hook_wait EVENT: until the command heard EVENT (bounded 30 s); its JSON in HL
hook_wait() {
	_i=0
	until HL=$(grep -m 1 "^$1 " "$T/hook.log" 2> /dev/null); do
		_i=$((_i + 1)); [ $_i -lt 1500 ] || { HL=; return 1; }; sleep 0.02
	done
	HL=${HL#* }
}
# status_wait JQ: until status.json satisfies the jq test (bounded 30 s)
status_wait() {
	_i=0
	until jq -e "$1" "$WA_DIR/.wa/status.json" > /dev/null 2>&1; do
		_i=$((_i + 1)); [ $_i -lt 1500 ] || return 1; sleep 0.02
	done
}

run_start "$WA_DIR" --retry-wait 2s --on-event "$T/hook.sh $T/hook.log"
await_online
bl send "#$SB" "$WA_USER" "before"
inbox_wait "$INBOX" 1 30 || fail "the first message" "$INBOX_N"

# one corrupted stanza: decrypt_failed, the resend, repaired
fakewa_call POST /messages/fault "{\"kind\":\"corrupt\",\"device\":\"$WA_DEV\",\"count\":1}" > /dev/null ||
	fail "fault accepted"
bl send "#$SB" "$WA_USER" "healed"; ID1=${R#sent }
inbox_wait "$INBOX" 2 60 || fail "the corrupted message arrives after the retry" "$INBOX_N"
hook_wait decrypt_failed && pass "--on-event hears decrypt_failed" || fail "--on-event hears decrypt_failed"
matches "$(jf class "$HL")" "^(bad_mac|invalid_message)$" "  its class"
is "$(jf id "$HL")" "$ID1" "  the message id"
hook_wait repaired && pass "--on-event hears repaired" || fail "--on-event hears repaired"
is "$(jf retries "$HL")" 1 "  after 1 retry"
ok "  the messages are not notable: the command heard none" sh -c "! grep -q '^message ' '$T/hook.log'"

# status.json: the counts, written by the next tick (--retry-wait 2s: 1 s)
status_wait '.repaired >= 1 and .retries >= 1 and ((.decrypt_failures | add) // 0) >= 1' &&
	pass "status.json: decrypt_failures, retries and repaired counted" ||
	fail "status.json: decrypt_failures, retries and repaired counted" "$(cat "$WA_DIR/.wa/status.json")"
is "$(jq -r '(.decrypt_failures_recent | add) == (.decrypt_failures | add)' "$WA_DIR/.wa/status.json")" true \
    "  all of them in the recent window"
wa-check -d "$WA_DIR" --json > "$T/j" 2> /dev/null
is "$(jq -r '.run.repaired >= 1 and (.run.decrypt_failures_recent | length) >= 1' "$T/j")" true \
    "wa-check --json: the window by class, repaired"
expect_exit 1 "wa-check --max-decrypt-failures 0: WARNING" wa-check -d "$WA_DIR" --max-decrypt-failures 0
is "$(wa-check -d "$WA_DIR" --max-decrypt-failures 0 --problems)" decrypt_storm "  --problems: decrypt_storm"

# never heals: undecryptable after --retry-wait
fakewa_call POST /messages/fault "{\"kind\":\"corrupt\",\"device\":\"$WA_DEV\",\"count\":20,\"at\":\"all\"}" > /dev/null
bl send "#$SB" "$WA_USER" "lost"; ID2=${R#sent }
inbox_wait "$INBOX" 3 90 || fail "the message that never decrypts is stored" "$INBOX_N"
hook_wait undecryptable && pass "--on-event hears undecryptable" || fail "--on-event hears undecryptable"
is "$(jf id "$HL")" "$ID2" "  the message id"
grep '^decrypt_failed ' "$T/hook.log" | cut -d' ' -f2- > "$T/df"
ok "decrypt_failed heard once per sender and class, not per retry ($(lines "$T/df") for $(jq -r .class "$T/df" | sort -u | wc -l) classes)" \
    test "$(lines "$T/df")" -eq "$(jq -r '"\(.sender) \(.class)"' "$T/df" | sort -u | wc -l)"
status_wait '.undecryptable >= 1' && pass "status.json: undecryptable 1" || fail "status.json: undecryptable 1"
stop_run
done_testing

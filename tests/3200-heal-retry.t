#!/bin/sh
# 3200-heal-retry: a message that does not decrypt is asked for again
# (issue 12).  fakewa corrupts the ciphertext of the next stanzas for
# wa-run's device; wa-run answers each with a retry receipt (count 1, then
# 2 with a <keys> bundle), the real Baileys sender resends, and the message
# arrives once, status ok, with a "repaired" event; the retry count is in
# .wa/retries.json while the repair is pending and gone after.  A sender
# whose resends keep failing gets at most 5 retry receipts for the message
# (max_retries), then the message is stored as undecryptable.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"

recv_setup
recv_wa "$T/a"
recv_peer "$T/b" 15550000041 Erin
SB=$S
PK0=$(creds_get "$WA_DIR" 'c.firstUnuploadedPreKeyId')
run_start "$WA_DIR" --retry-wait 30s
await_online

# retry_receipts ID: how many retry receipts wa-run sent for ID
retry_receipts() {
	fakewa_call GET "/log?event=node&conn=$(wa_conn)" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	const ev = JSON.parse(s).events || [];
	const n = ev.filter(e => e.node && e.node.tag === "receipt" && e.node.attrs.type === "retry" &&
	    e.node.attrs.id === process.argv[1]);
	console.log(n.length + " " + n.map(e => (e.node.content || []).some(c => c.tag === "keys") ? "k" : "-").join(""));
});' "$1"
}

# wait_id ID [SECONDS]: until a record with that id is in new/ (bounded)
wait_id() {
	_wi=0
	while :; do
		inbox_index "$INBOX"
		[ -n "$(by_id "$1")" ] && return 0
		_wi=$((_wi + 1)); [ $_wi -lt $(( ${2:-60} * 10 )) ] || return 1
		sleep 0.1
	done
}

# one corrupted stanza: one retry, the resend decrypts
bl send "#$SB" "$WA_USER" "before"
inbox_wait "$INBOX" 1 30 || fail "the first message" "$INBOX_N"
fakewa_call POST /messages/fault "{\"kind\":\"corrupt\",\"device\":\"$WA_DEV\",\"count\":1}" > /dev/null ||
	fail "fault accepted"
bl send "#$SB" "$WA_USER" "healed once"; ID1=${R#sent }
wait_id "$ID1" || fail "the corrupted message arrives after the retry" "$(ls "$INBOX/new")"
inbox_index "$INBOX"
f=$(by_id "$ID1")
is "$(printf '%s\n' "$f" | grep -c .)" 1 "stored once"
is "$(fld "$f" status)" ok "status ok"
is "$(fld "$f" text)" "healed once" "its text"
set -- $(retry_receipts "$ID1")
is "$1" 1 "one retry receipt for it"
is "$2" "-" "the first retry carries no keys"
await '"event":"decrypt_failed"' 10 && pass "a decrypt_failed event" || fail "a decrypt_failed event"
matches "$(jf class)" "^(bad_mac|invalid_message)$" "its class: the MAC or the message did not check"
await '"event":"repaired"' 10 && pass "a repaired event" || fail "a repaired event"
is "$(jf retries)" 1 "repaired after 1 retry"
ok "no pending repair left in .wa/retries.json" sh -c "! grep -q '$ID1' '$WA_DIR/.wa/retries.json'"

# two corrupted stanzas in a row: retry 1, retry 2 with a bundle, then ok
fakewa_call POST /messages/fault "{\"kind\":\"corrupt\",\"device\":\"$WA_DEV\",\"count\":2,\"at\":\"all\"}" > /dev/null
bl send "#$SB" "$WA_USER" "healed twice"; ID2=${R#sent }
wait_id "$ID2" || fail "the twice-corrupted message arrives" "$(ls "$INBOX/new")"
inbox_index "$INBOX"
f=$(by_id "$ID2")
is "$(fld "$f" status)" ok "twice: status ok"
is "$(fld "$f" text)" "healed twice" "twice: its text"

set -- $(retry_receipts "$ID2")
is "$1" 2 "twice: two retry receipts"
is "$2" "-k" "the second carries a <keys> bundle"
ok "the bundle's pre-key is marked handed out in creds.json" test \
    "$(creds_get "$WA_DIR" 'c.firstUnuploadedPreKeyId')" -gt "$PK0"

# never heals: at most 5 retries, then stored undecryptable
fakewa_call POST /messages/fault "{\"kind\":\"corrupt\",\"device\":\"$WA_DEV\",\"count\":20,\"at\":\"all\"}" > /dev/null
bl send "#$SB" "$WA_USER" "lost"; ID3=${R#sent }
wait_id "$ID3" 60 || fail "the message that never decrypts is stored" "$(ls "$INBOX/new")"
inbox_index "$INBOX"
f=$(by_id "$ID3")
is "$(printf '%s\n' "$f" | grep -c .)" 1 "never heals: stored once"
is "$(fld "$f" status)" undecryptable "status undecryptable"
set -- $(retry_receipts "$ID3")
ok "at most 5 retry receipts ($1; bundles: $2)" test "$1" -ge 1 -a "$1" -le 5
like "$(fld "$f" detail)" "no answer to retry" "stored when the sender stopped answering: the detail says so"
stop_run

# the limit, without the network: the same undecryptable stanza redelivered
# (each time by a new process, as after kill -9) gets retry receipts 1 to 5,
# then is stored undecryptable and acked; the count lives in .wa/retries.json
cp -a "$WA_DIR" "$T/f"
printf '{"tag":"message","attrs":{"id":"3EB0FEED00000000000001","from":"%s","t":"1700000000","notify":"Erin"},"content":[{"tag":"enc","attrs":{"v":"2","type":"msg"},"content":{"base64":"MwoKAAAAAAAAAAAAAA=="}}]}\n' \
    "$PEER_DEV" > "$T/bad"
: > "$T/replies"
for i in 1 2 3 4 5 6 7; do
	wa-recv-feed -r "$T/f" "$T/f.inbox" < "$T/bad" >> "$T/replies" 2> /dev/null || fail "feed run $i"
done
is "$(grep -c '"type":"retry"' "$T/replies")" 5 "redelivered 7 times: exactly 5 retry receipts"
is "$(grep -o '"count":"[0-9]*"' "$T/replies" | tr '\n' ' ')" '"count":"1" "count":"2" "count":"3" "count":"4" "count":"5" ' \
    "counted 1 to 5 across processes (the count survives a restart)"
is "$(sed -n 6p "$T/replies" | grep -c '"tag":"ack"')" 1 "the 6th: a plain ack"
is "$(inbox_count "$T/f.inbox")" 1 "stored once, as undecryptable"
grep -q '"status":"undecryptable"' "$T/f.inbox"/new/* && pass "status undecryptable" || fail "status undecryptable"
is "$(sed -n 7p "$T/replies" | grep -c '"tag":"receipt"')" 1 "the 7th: recognised as stored, receipted again"
ok "no pending retry left" sh -c "! grep -q 3EB0FEED '$T/f/.wa/retries.json'"
done_testing

#!/bin/sh
# 3310-send-kill9: sending exactly once across kill -9 (issue 13).  J jobs
# go into wa's outbox (wa-send) in K bursts: odd bursts while wa-run is
# stopped (they wait in new/), even ones while it runs (picked up through
# inotify); in every cycle wa-run is killed with SIGKILL at a random
# instant (after a random number of its "sent" events, plus a few random
# ms, or right after its start: during login, discovery, encryption, the
# sigstore commit, the send or the status writes) and started again.  The
# receiver is a real Baileys peer (tests/fakewa/peer.mjs) that writes down
# every message id it decrypts and every decryption problem its libsignal
# reports.  At the end (a last run until the outbox is empty):
#   - every job's id arrived at the peer, nothing else did;
#   - no duplicate: no id sent twice on one connection (other than a retry
#     answer), and none sent again after its status said sent (an id whose
#     job was still unacknowledged when wa-run was killed may be sent again
#     with a fresh encryption: the contract allows that, the peer dedupes
#     by id; counted as "resent");
#   - no reused message key: the peer's libsignal reported no session error
#     (old counter "Key used already or never filled", Bad MAC, ...), no
#     CIPHERTEXT stub, no nack or retry receipt from the peer at fakewa;
#   - every job has a status file in state sent, delivered or read, new/
#     and tmp/ are empty.
# Summary: "kills K, jobs J, arrived A, duplicates 0, old-counter 0".
#
# make check: J=200, K=20.  WA_LONG=1 (make check-long): J=1000, K=100.
# WA_SEND_JOBS / WA_SEND_KILLS set them directly.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"

if [ -n "${WA_LONG:-}" ]; then J=1000 K=100; else J=200 K=20; fi
J=${WA_SEND_JOBS:-$J}
K=${WA_SEND_KILLS:-$K}
recv_setup
recv_wa "$T/a"
OUT=$WA_DIR.outbox
PP=15550000331
rnd() { echo $(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % $1 )); }

# the receiving peer: a fresh Baileys folder paired through fakewa's phone
node "$WA_TOP/tests/fakewa/peer.mjs" --root "$FAKEWA_ROOT_PUB" --ws "$FAKEWA_WS" --name Pia "$T/p" \
    > "$T/peer.log" 2> "$T/peer.err" 9>&- &
echo $! >> "$T/.pids"
peer_line() { # peer_line ERE SECONDS: the first peer line matching, in PL
	_pl_i=0
	while :; do
		PL=$(grep -m 1 -E -e "$1" "$T/peer.log")
		[ -n "$PL" ] && return 0
		_pl_i=$((_pl_i + 1))
		[ "$_pl_i" -ge $(($2 * 50)) ] && return 1
		sleep 0.02
	done
}
peer_line '"ev":"qr"' 30 || { fail "the peer shows a QR" "$(tail -n 3 "$T/peer.err")"; done_testing; exit 1; }
s=$(seq_now)
QR=$(printf '%s' "$PL" | sed 's/.*"qr":"\([^"]*\)".*/\1/')
fakewa_call POST /phone/scan "{\"qr\":\"$QR\",\"phone\":\"$PP\"}" > /dev/null || fail "the phone scans the peer's QR"
peer_line '"ev":"open"' 30 || { fail "the peer logs in" "$(tail -n 3 "$T/peer.err")"; done_testing; exit 1; }
fakewa_wait "event=prekeys&since=$s&timeout_ms=10000" > /dev/null || fail "the peer uploads its pre-keys"
PEER_DEV=$(fakewa_call GET "/accounts/$PP@s.whatsapp.net" | fakewa_field jid)
pass "a Baileys peer ($PEER_DEV) online"

# enqueue N JOBS with prefix P: wa-send each, ids appended to $T/jobs
enqueue() {
	_e_i=0
	while [ "$_e_i" -lt "$1" ]; do
		_e_i=$((_e_i + 1))
		wa-send -d "$WA_DIR" "$PP" "$2 $_e_i" >> "$T/jobs" 2>> "$T/send.err" || echo "wa-send failed" >> "$T/send.fail"
	done
}
# sent_ids: ids whose status file says sent or later, sorted
sent_ids() {
	grep -l -E '"state":"(sent|delivered|read)"' "$OUT"/status/*.json 2> /dev/null | sed 's|.*/||; s|\.json$||' | sort
}

: > "$T/jobs"
: > "$T/snap"
queued=0 i=0 early=0
while [ $i -lt "$K" ]; do
	i=$((i + 1))
	n=$(( (J - queued) / (K - i + 1) ))
	if [ $((i % 2)) -eq 1 ]; then
		enqueue "$n" "k$i"
		run_start "$WA_DIR"
		EP=
	else
		run_start "$WA_DIR"
		await '"event":"online"' 30 > /dev/null 2>&1
		enqueue "$n" "k$i" 9>&- &
		EP=$!
	fi
	queued=$((queued + n))
	w=$(rnd $((n + 2)))
	if [ "$w" -eq 0 ]; then
		early=$((early + 1))
		sleep "0.$(rnd 3)$(rnd 10)"
	else
		j=0
		while [ $j -lt "$w" ] && await '"event":"sent"' 10 > /dev/null 2>&1; do j=$((j + 1)); done
		sleep "0.0$(rnd 3)$(rnd 10)"
	fi
	kill -9 "$RUN_PID" 2> /dev/null
	run_wait 10
	[ -n "$EP" ] && wait "$EP"
	wa_conn_gone || diag "cycle $i: fakewa still holds wa-run's connection"
	# what the status files said sent when wa-run died, and fakewa's seq then
	seq=$(seq_now)
	sent_ids | sed "s/^/$seq /" >> "$T/snap"
done
is "$(sort -u "$T/jobs" | wc -l | tr -d ' ')" "$J" "$J jobs queued by wa-send in $K bursts, each id once"
[ -e "$T/send.fail" ] && fail "every wa-send succeeded" "$(head -n 3 "$T/send.err")"
diag "kills right after the start (login, first job): $early"

# the last run: until the outbox is empty and the peer has every id
run_start "$WA_DIR"
await_online "after $K kills: online again"
sort -u "$T/jobs" > "$T/jobs.s"
k=0
while :; do
	left=$(ls -A "$OUT/new" 2> /dev/null | wc -l | tr -d ' ')
	sent_ids > "$T/sent"
	grep '"ev":"message"' "$T/peer.log" | sed 's/.*"id":"\([^"]*\)".*/\1/' | sort -u > "$T/arrived"
	[ "$left" -eq 0 ] && [ "$(comm -23 "$T/jobs.s" "$T/sent" | wc -l)" -eq 0 ] &&
	    [ "$(comm -23 "$T/jobs.s" "$T/arrived" | wc -l)" -eq 0 ] && break
	k=$((k + 1))
	if [ "$k" -ge 600 ]; then
		diag "after 60 s: $left in new/, $(comm -23 "$T/jobs.s" "$T/sent" | wc -l) without a sent status, $(comm -23 "$T/jobs.s" "$T/arrived" | wc -l) not at the peer"
		break
	fi
	sleep 0.1
done
stop_run
is "$RC" 0 "SIGTERM: exit 0"

arrived=$(wc -l < "$T/arrived" | tr -d ' ')
missing=$(comm -23 "$T/jobs.s" "$T/arrived" | wc -l | tr -d ' ')
foreign=$(comm -13 "$T/jobs.s" "$T/arrived" | wc -l | tr -d ' ')
is "$missing" 0 "every job's message arrived at the peer"
is "$foreign" 0 "nothing arrived that was not a job"

# duplicates, from fakewa's routing log (seq, conn, id, retry) and the snapshots
fakewa_call GET "/log?event=message-routed" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	for (const e of JSON.parse(s).events)
		if (e.from === process.argv[1])
			console.log(e.seq, e.conn, e.id, e.retry ? "retry" : "-");
});' "$WA_DEV" > "$T/routed"
same_conn=$(awk '$4 == "-" { k = $2 " " $3; if (seen[k]++) n++ } END { print n + 0 }' "$T/routed")
after_sent=$(awk 'NR == FNR { snap[$2] = snap[$2] " " $1; next }
	$4 == "-" && $3 in snap { split(snap[$3], s, " "); for (x in s) if ($1 > s[x] + 0) { n++; break } }
	END { print n + 0 }' "$T/snap" "$T/routed")
resent=$(awk '{ c[$3]++ } END { for (k in c) if (c[k] > 1) n++; print n + 0 }' "$T/routed")
copies=$(grep -c '"ev":"message"' "$T/peer.log")
dups=$((same_conn + after_sent))
is "$same_conn" 0 "no id sent twice on one connection"
is "$after_sent" 0 "no id sent again after its status said sent"
[ "$after_sent" -eq 0 ] || diag "sent again: $(awk 'NR == FNR { snap[$2] = snap[$2] " " $1; next }
	$4 == "-" && $3 in snap { split(snap[$3], s, " "); for (x in s) if ($1 > s[x] + 0) { print $3; break } }' "$T/snap" "$T/routed" | sort -u | head -n 5 | tr '\n' ' ')"
diag "resent after a kill (unacknowledged then; a fresh encryption, same id): $resent; copies decrypted by the peer: $copies for $arrived ids"

# reused keys and other decryption trouble at the peer
errs=$(grep -c -E '"ev":"(stub|decrypt-error)"|"level":"error"' "$T/peer.log")
oldctr=$(grep -c -E 'Key used already|MessageCounterError|old counter|Bad MAC|No matching sessions' "$T/peer.log")
nacks=$(fakewa_call GET "/log?event=message-nack" | grep -o "\"device\":\"$PEER_DEV\"" | wc -l | tr -d ' ')
retries=$(fakewa_call GET "/receipts?device=$PEER_DEV" | grep -o '"type":"retry"' | wc -l | tr -d ' ')
is "$oldctr" 0 "the peer's libsignal saw no reused message key (old counter, Bad MAC)"
is "$errs" 0 "no decryption error, no CIPHERTEXT stub at the peer"
[ "$errs" -eq 0 ] || diag "$(grep -E '"ev":"(stub|decrypt-error)"|"level":"error"' "$T/peer.log" | head -n 5)"
is "$nacks" 0 "no nack from the peer"
is "$retries" 0 "no retry receipt from the peer"

# statuses and the outbox
sent_ids > "$T/sent"
is "$(comm -23 "$T/jobs.s" "$T/sent" | wc -l | tr -d ' ')" 0 "every job has a status file in state sent or later"
is "$(ls -A "$OUT/new" 2> /dev/null | wc -l | tr -d ' ')" 0 "nothing left in new/"
is "$(ls -A "$OUT/tmp" 2> /dev/null | wc -l | tr -d ' ')" 0 "nothing left in tmp/ after a clean stop"
echo "# kills $K, jobs $J, arrived $arrived, duplicates $dups, old-counter $oldctr, resent $resent"

# the detector itself: one stanza fakewa delivered to the peer, pushed to it
# again (the same ciphertext: a reused message key) must show as old counter
X=$(head -n 1 "$T/jobs.s")
pc=$(fakewa_call GET /connections | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	const c = JSON.parse(s).connections.filter(c => c.state === "open" && c.login === process.argv[1]);
	console.log(c.length ? c[c.length - 1].id : "");
});' "$PEER_DEV")
fakewa_call GET "/messages?device=$PEER_DEV&id=$X" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	const e = JSON.parse(s).entries.filter(e => e.kind === "message").pop();
	console.log(JSON.stringify({ conn: Number(process.argv[1]), node: e.node }));
});' "$pc" > "$T/replay.json"
before=$(wc -l < "$T/peer.log")
fakewa_call POST /push "$(cat "$T/replay.json")" > /dev/null || fail "push a stanza to the peer again"
k=0
while ! tail -n +"$((before + 1))" "$T/peer.log" | grep -q -E 'Key used already|MessageCounterError'; do
	k=$((k + 1))
	[ "$k" -ge 250 ] && break
	sleep 0.02
done
like "$(tail -n +"$((before + 1))" "$T/peer.log")" "Key used already" "the check works: a replayed stanza is reported as a reused key"
done_testing

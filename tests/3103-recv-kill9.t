#!/bin/sh
# 3103-recv-kill9: exactly once across kill -9.  fakewa's flood sender
# (libsignal-node, POST /floods) sends N messages to wa-run's device in K
# bursts; after each burst the test kills wa-run with SIGKILL at a random
# instant (after a random number of its stored-message events, or a random
# few ms after the burst: in the middle of decrypting, committing, or
# receipting a batch, or during login and the offline backlog) and starts
# it again.  After every kill, once fakewa has read everything wa-run sent:
# every id fakewa saw acknowledged is in the spool (acked is a subset of
# durable), and no file in new/ is less than a whole JSON object.  At the
# end (a last run until nothing is pending): every flooded id in the spool
# exactly once, creds.json's keys unchanged and fakewa saw no pairing.
# Summary: "kills K, acked-but-missing 0, duplicates 0, corrupt 0, re-pairs 0".
#
# make check: K=10, N=300.  WA_LONG=1 (make check-long): K=100, N=2000.
# WA_RECV_KILLS / WA_RECV_FLOOD set them directly.
. "$(dirname "$0")/lib.sh"
. "$WA_TOP/tests/recv.sh"

if [ -n "${WA_LONG:-}" ]; then K=100 N=2000; else K=10 N=300; fi
K=${WA_RECV_KILLS:-$K}
N=${WA_RECV_FLOOD:-$N}
recv_setup
recv_wa "$T/a"
keys() {
	node -e '
const c = JSON.parse(require("fs").readFileSync(process.argv[1]));
console.log(JSON.stringify([c.noiseKey, c.signedIdentityKey, c.signedPreKey, c.registrationId,
    c.advSecretKey, c.me.id, c.account, c.signalIdentities]));' "$1/creds.json"
}
keys "$WA_DIR" > "$T/keys.orig"
rnd() { echo $(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % $1 )); }

# after a kill: acked ids missing from the spool, corrupt files
check_after_kill() {
	wa_conn_gone || diag "cycle $i: fakewa still holds wa-run's connection"
	acked_ids "$WA_DEV" > "$T/acked"
	inbox_index "$INBOX"
	ids | sort -u > "$T/durable"
	m=$(comm -23 "$T/acked" "$T/durable" | wc -l | tr -d ' ')
	c=$(grep -c '	!corrupt	' "$IDX")
	[ "$m" -eq 0 ] || diag "cycle $i: acked but not in the spool: $(comm -23 "$T/acked" "$T/durable" | head -n 3 | tr '\n' ' ')"
	[ "$c" -eq 0 ] || diag "cycle $i: $(grep '	!corrupt	' "$IDX" | head -n 2)"
	missing=$((missing + m)) corrupt=$((corrupt + c))
}

missing=0 corrupt=0 sent=0 i=0 in_backlog=0
while [ $i -lt "$K" ]; do
	i=$((i + 1))
	n=$(( (N - sent) / (K - i + 1) ))
	run_start "$WA_DIR"
	if [ $((i % 3)) -eq 1 ]; then
		# the burst while wa-run starts: it comes as the offline backlog
		fakewa_call POST /floods "{\"to\":\"$WA_DEV\",\"count\":$n,\"text\":\"k$i\"}" > /dev/null || fail "flood $i"
		sleep "0.$(rnd 8)$(rnd 10)"
		in_backlog=$((in_backlog + 1))
	else
		await '"event":"online"' 30 > /dev/null 2>&1
		fakewa_call POST /floods "{\"to\":\"$WA_DEV\",\"count\":$n,\"text\":\"k$i\"}" > /dev/null || fail "flood $i"
		w=$(( $(rnd $((n / 2 + 1))) + 1 ))
		j=0
		while [ $j -lt $w ] && await '"event":"message"' 5 > /dev/null 2>&1; do j=$((j + 1)); done
		sleep "0.0$(rnd 4)$(rnd 10)"
	fi
	sent=$((sent + n))
	kill -9 "$RUN_PID" 2> /dev/null
	run_wait 10
	check_after_kill
done
is "$sent" "$N" "$N messages flooded in $K bursts"
diag "bursts sent while wa-run was starting: $in_backlog"

# the last run: until everything is stored and acknowledged
run_start "$WA_DIR"
await_online "after $K kills: online again"
inbox_settle "$INBOX" "$N" 30
wait_pending "$WA_DEV" 0 || diag "still $PENDING pending at fakewa"
stop_run
is "$RC" 0 "SIGTERM: exit 0"
check_after_kill

routed_ids "$WA_DEV" > "$T/routed"
is "$(lines "$T/routed")" "$N" "fakewa routed $N messages to wa-run"
inbox_index "$INBOX"
ids | sort > "$T/all"
dups=$(uniq -d "$T/all" | wc -l | tr -d ' ')
absent=$(sort "$T/routed" | comm -23 - "$T/all" | wc -l | tr -d ' ')
foreign=$(sort "$T/routed" | comm -13 - "$T/all" | wc -l | tr -d ' ')
repairs=$(fakewa_call GET "/log?event=paired" | grep -o '"event":"paired"' | wc -l | tr -d ' ')
[ "$(keys "$WA_DIR")" = "$(cat "$T/keys.orig")" ] || repairs=$((repairs + 1))
is "$absent" 0 "every flooded message is in the spool"
is "$dups" 0 "no message twice (by id)"
is "$foreign" 0 "nothing in the spool that was not flooded"
is "$missing" 0 "after every kill: every acked id in the spool"
is "$corrupt" 0 "after every kill: every file in new/ a whole JSON object"
is "$repairs" 0 "no re-pair: creds.json's keys unchanged, no pairing at fakewa"
is "$(awk -F '\t' '$2 == "status" && $3 != "ok"' "$IDX" | wc -l | tr -d ' ')" 0 "every record status ok"
is "$(ls -A "$INBOX/tmp" 2>&1 | wc -l | tr -d ' ')" 0 "nothing left in tmp/ after a clean stop"
echo "# kills $K, acked-but-missing $missing, duplicates $dups, corrupt $corrupt, re-pairs $repairs"
done_testing

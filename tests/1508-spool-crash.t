#!/bin/sh
# 1508-spool-crash: the inbox spool (lib/spool) after a crash at every
# storage operation of a commit.
#
# The test build's seam WA_TEST_CRASH_AT=N (lib/store/durable.c) kills the
# process (SIGKILL, as kill -9) at its N-th storage operation: after each
# temp file's create and write, before each fsync / the syncfs barrier,
# half-way through the record append (a torn line), before and after its
# fdatasync, before each rename into new/, before the fsync of new/.  For
# N = 1, 2, ... until a run finishes, on a spool that is empty (the commit
# creates the day's record) and on one with an earlier commit, with a
# batch below and above the syncfs threshold, the state the crash left is
# opened again (open's recovery) and checked by wa-spool-tool check:
#   - no partial or unknown file in new/, no key in new/ twice;
#   - a key is seen exactly when its file is in new/ (every recorded
#     key's file is there once, no file there without its record line);
#   - nothing of ours left in tmp/ (unrecorded temps removed).
# Then the messages are delivered again (the server redelivers what was
# never acknowledged): every key is in new/ exactly once.
#
# kill -9 keeps the page cache, so this proves the order of the steps and
# the recovery, not the fsyncs (t-spool counts those; 1502 shows how a
# missing fsync is found with power cuts).
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

S=wa-spool-tool
strings "$WA_TESTBIN/$S" 2> /dev/null | grep -q WA_TEST_CRASH_AT ||
	skip_all "not a test build (no WA_TEST_CRASH_AT seam)"
unset WA_TEST_OPLOG
MAXN=${WA_SPOOL_CRASH_MAX:-400}

# scenario NAME SYNCFS_MIN PRIOR KEYS...: sweep the crash point
scenario() {
	name=$1 smin=$2 prior=$3
	shift 3
	n=0 finished=0 bad=0 redo=0 torn=0 midtmp=0 midnew=0 states=
	while [ "$n" -lt "$MAXN" ]; do
		n=$((n + 1))
		D=$T/$name.$n
		if [ -n "$prior" ]; then
			"$S" deliver "$D" $prior > /dev/null 2> "$T/err" || { fail "$name: the earlier commit" "$(cat "$T/err")"; return; }
		fi
		WA_TEST_CRASH_AT=$n ASAN_OPTIONS=detect_leaks=0 "$S" deliver -s "$smin" "$D" "$@" > /dev/null 2> "$T/err"
		rc=$?
		if [ "$rc" -eq 0 ]; then
			finished=1
			rm -rf "$D"
			break
		fi
		if [ "$rc" -ne 137 ]; then
			bad=$((bad + 1)); diag "$name crash #$n: exit $rc: $(cat "$T/err")"
		fi
		# what the crash left, before any recovery
		nt=$(ls "$D/tmp" 2> /dev/null | wc -l | tr -d ' ')
		nn=$(ls "$D/new" 2> /dev/null | wc -l | tr -d ' ')
		for f in "$D"/.wa/seen/*.log; do
			[ -s "$f" ] && [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" != '\n' ] && torn=$((torn + 1))
		done
		[ "$nt" -gt 0 ] && midtmp=$((midtmp + 1))
		[ "$nn" -gt 0 ] && [ "$nt" -gt 0 ] && midnew=$((midnew + 1))
		if ! "$S" check "$D" $prior "$@" > "$T/check" 2>&1; then
			bad=$((bad + 1)); [ "$bad" -le 3 ] && diag "$name crash #$n (tmp $nt, new $nn):" "$(cat "$T/check")"
		fi
		states="$states $(sed -n 's/^seen \([0-9]*\), files.*/\1/p' "$T/check")"
		# the redelivery: every key once
		"$S" deliver "$D" $prior "$@" > /dev/null 2> "$T/err" && "$S" check "$D" $prior "$@" > "$T/check" 2>&1 &&
			grep -qx "seen $(($# + $(echo $prior | wc -w))), files $(($# + $(echo $prior | wc -w)))" "$T/check" ||
			{ redo=$((redo + 1)); [ "$redo" -le 3 ] && diag "$name crash #$n redelivered:" "$(cat "$T/err" "$T/check")"; }
		rm -rf "$D"
	done
	is "$finished" 1 "$name: the sweep reached a run without a crash ($((n - 1)) crash points, at most $MAXN)"
	is "$bad" 0 "$name: after each of the $((n - 1)) crashes: no partial file in new/, seen matches new/, tmp/ clean"
	is "$redo" 0 "$name: after each crash the redelivery leaves every key in new/ exactly once"
	d=$(printf '%s\n' $states | sort -u | tr '\n' ' ')
	diag "$name: keys seen after recovery, by crash point: $states (distinct: $d)"
	ok "$name: crashes left temps in tmp/ ($midtmp), some with files already in new/ ($midnew), torn record lines ($torn)" \
	    test "$midtmp" -gt 0 -a "$midnew" -gt 0 -a "$torn" -gt 0
	ok "$name: some crashes left the commit undone, some done (recovered: seen counts $d)" \
	    test "$(printf '%s\n' $states | sort -u | wc -l)" -ge 2
}

scenario empty-fsync 8 "" k1 k2 k3
scenario prior-fsync 8 "k0" k1 k2 k3
scenario empty-syncfs 8 "" k1 k22 k333 k4 k5 k6 k7 k8 k9 k10
scenario prior-syncfs 2 "k0 k00" k1 k22 k333 k4444
done_testing

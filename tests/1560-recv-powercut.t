#!/bin/sh
# 1560-recv-powercut: the receive path under real power cuts (issue 11;
# RELIABILITY.md "Power cut", R2, R6).  An auth folder and its inbox live
# on an XFS image (and on ext4 mounted noauto_da_alloc), loop-mounted from
# a tmpfs inside a private mount namespace (as tests/1501-dirsync.t does).
# wa-recv-feed takes a burst of real Signal stanzas (recv-stanzas.mjs: a
# new peer's pkmsgs, a contact's msgs, group skmsgs with their sender
# keys) in small batches; after a random number of its replies, plus a
# random busy delay, the filesystem is shut down without flushing its log
# (xfs_io -x -c shutdown: XFS_IOC_GOINGDOWN / EXT4_IOC_SHUTDOWN with
# NOLOGFLUSH, the power cut: I/O returns EIO from then on, and what was
# not made durable is gone after the remount).  Then, on the remounted
# image, the checks of tests/crashsim/recv-check.mjs (the same as 1550's
# crash states):
#   a  every message whose receipt left is a complete file in new/ after
#      the spool's recovery;
#   b  no partial file in new/, no id twice;
#   c  the key store loads (wa-check OK or WARNING);
#   d  the server redelivers every stanza whose receipt had not left:
#      then each message is in new/ exactly once, with its text.
# "Left" is every line the feed wrote to its stdout (a pipe to this test,
# outside the image; the feed flushes each line before the next step), so
# a receipt printed at any time, before or after the cut, counts.  The
# feed must also notice the cut: a failed flush on stderr (same pipe, so
# in order), no receipt after it, exit 1.
#
# Needs root, unshare -m, losetup, mkfs.xfs, mkfs.ext4, xfs_io, node:
# skipped with the reason otherwise.
#
#   WA_POWERCUT_CYCLES   cuts per filesystem (default 10; WA_LONG=1: 40)
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

COUNT=48 BATCH=4
K=${WA_POWERCUT_CYCLES:-10}
[ "${WA_LONG:-0}" = 1 ] && { COUNT=120; K=${WA_POWERCUT_CYCLES:-40}; }

# rnd N: a random number 0..N-1
rnd() { echo $(($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1)); }

# ---------------------------------------------------------------------------
# Inside the private mount namespace: K cuts on one filesystem, result
# lines on stdout for the outer test.
pc_cleanup() {
	umount "$T/r/mnt" 2> /dev/null
	umount "$T/r" 2> /dev/null
}
powercut() {
	fs=$1 k=$2 D=$3	# D: the outer test's folder (snap, stanzas, expect)
	R=$T/r img=$T/r/img mnt=$T/r/mnt
	mkdir "$R"
	if ! mount -t tmpfs -o size=1g,mode=700 tmpfs "$R" 2> "$T/e"; then
		echo "skip mount -t tmpfs is not allowed here: $(head -n1 "$T/e")"; return
	fi
	on_exit pc_cleanup
	mkdir "$mnt"
	case $fs in
	xfs)  truncate -s 300m "$img" && mkfs.xfs -q "$img" > "$T/e" 2>&1; opts=loop ;;
	ext4) truncate -s 64m "$img" && mkfs.ext4 -q -F "$img" > "$T/e" 2>&1; opts=loop,noauto_da_alloc ;;
	esac || { echo "skip mkfs.$fs failed: $(head -n1 "$T/e")"; return; }
	c=0
	while [ "$c" -lt "$k" ]; do
		c=$((c + 1))
		if ! mount -o "$opts" "$img" "$mnt" 2> "$T/e"; then
			echo "skip loop mount of $fs failed: $(head -n1 "$T/e")"; return
		fi
		# the folder as the burst finds it, durable before it starts
		rm -rf "$mnt/run" && cp -a "$D/snap" "$mnt/run" && sync -f "$mnt/run" ||
			{ echo "error $fs $c: unable to set up '$mnt/run'"; return; }
		# cut after the n-th reply (1..COUNT-BATCH) and a random busy
		# delay; the last batch of stanzas is written only after the
		# cut, so something is always in flight (or waiting) when the
		# power goes
		n=$(($(rnd $((COUNT - BATCH))) + 1))
		lag=$(rnd 2000)
		: > "$R/out"
		rm -f "$R/cutfifo" && mkfifo "$R/cutfifo"
		{ head -n $((COUNT - BATCH)) "$D/stanzas"
		  timeout 120 sh -c 'read -r x < "$1"' - "$R/cutfifo"
		  tail -n "$BATCH" "$D/stanzas"; } |
		{ timeout -s KILL 120 wa-recv-feed --batch "$BATCH" "$mnt/run/auth" "$mnt/run/auth.inbox" 2>&1
		  echo "exit $?"; } | {
			got=0
			while IFS= read -r l; do
				printf '%s\n' "$l" >> "$R/out"
				case $l in '{"tag":"receipt"'*|'{"tag":"ack"'*) got=$((got + 1)) ;; *) continue ;; esac
				[ "$got" -eq "$n" ] || continue
				i=0
				while [ "$i" -lt "$lag" ]; do i=$((i + 1)); done
				xfs_io -x -c shutdown "$mnt"
				echo "cut" >> "$R/out"
				break
			done
			echo cut 1<> "$R/cutfifo"	# never blocks (read-write open)
			cat >> "$R/out"
		}
		umount "$mnt" && mount -o "$opts" "$img" "$mnt" || { echo "error $fs $c: remount failed"; return; }
		# what left: every reply the feed printed (before or after the cut)
		sed -n 's/^{"tag":"\(receipt\|ack\)","attrs":{"id":"\([^"]*\)".*/receipt \2/p' "$R/out" > "$R/marks"
		node --input-type=module -e '
			const [dir, marksFile, stanzas, expect, feed, check] = process.argv.slice(1);
			const { readFileSync } = await import("node:fs");
			const c = await import(process.env.WA_TOP + "/tests/crashsim/recv-check.mjs");
			const args = { auth: "auth", inbox: "auth.inbox", stanzas, expect, feed, check };
			await c.init(args);
			const marks = readFileSync(marksFile, "utf-8").split("\n").filter(Boolean);
			for (const p of await c.check({ dir, marks, args })) console.log(p);
		' "$mnt/run" "$R/marks" "$D/stanzas" "$D/expect" "$(command -v wa-recv-feed)" \
		    "$(command -v wa-check)" > "$R/problems" 2> "$R/check.err" ||
			echo "problem $fs $c the checker failed: $(head -c 300 "$R/check.err")" >> "$R/problems"
		# the feed after the cut: a failed flush, then no reply, exit 1
		acked=$(lines "$R/marks")
		ex=$(sed -n 's/^exit //p' "$R/out")
		ff=$(grep -c '^wa-recv-feed: flush: ' "$R/out")
		after=$(awk '/^wa-recv-feed: flush: /{f=1} f && /^\{"tag":"(receipt|ack)"/{n++} END{print n+0}' "$R/out")
		miss=$(grep -c 'receipt sent, not in new/\| in new/ 0 times' "$R/problems")
		dup=$(grep -c 'twice in new/\| in new/ [2-9][0-9]* times' "$R/problems")
		bad=$(grep -vc 'receipt sent, not in new/\| in new/ 0 times\|twice in new/\| in new/ [2-9][0-9]* times' "$R/problems")
		echo "cycle $fs $c cut_after=$n lag=$lag acked=$acked exit=$ex flushfail=$ff after=$after missing=$miss dup=$dup corrupt=$bad"
		sed "s/^/problem $fs $c /" "$R/problems" | head -n 5
		[ "$ff" -gt 0 ] && grep -m1 '^wa-recv-feed: flush: ' "$R/out" | sed "s/^/flushmsg $fs $c /"
		umount "$mnt"
	done
}
if [ "${1:-}" = --powercut ]; then
	powercut "$2" "$3" "$4"
	exit 0
fi

# ---------------------------------------------------------------------------
why=
if [ "$(id -u)" -ne 0 ]; then why="needs root (loop devices, mount)"
elif ! unshare -m true 2> /dev/null; then why="unshare -m is not allowed here"
elif ! have_node; then why="node or tests/fakewa/node_modules missing (scripts/install-deps)"
else
	for t in losetup mkfs.xfs mkfs.ext4 xfs_io truncate wa-recv-feed; do
		command -v "$t" > /dev/null 2>&1 || { why="$t is not installed (xfsprogs, e2fsprogs, util-linux; make tests)"; break; }
	done
	if [ -z "$why" ] && ! losetup -f > /dev/null 2>&1; then why="no free loop device (losetup -f failed)"; fi
fi
[ -n "$why" ] && skip_all "$why"

# the folder: paired, a contact with sessions both ways, pre-keys for the
# new peers; the burst: COUNT stanzas from two new peers, the contact and
# a group
mkdir -m 700 "$T/snap"
node "$WA_TOP/tests/fakewa/mkauth.mjs" "$T/snap/auth" --contacts 1 --groups 0 --prekeys 30 \
    --seed recv-powercut --peer-state "$T/peers.json" 2> "$T/mkauth.err" ||
	{ echo "Bail out! mkauth failed: $(cat "$T/mkauth.err")"; exit 1; }
ok "$COUNT stanzas from new peers, a contact and a group" sh -c "node '$WA_TOP/tests/fakewa/recv-stanzas.mjs' \
    '$T/snap/auth' --count $COUNT --peers 2 --peer-state '$T/peers.json' --seed recv-powercut \
    --expect '$T/expect' > '$T/stanzas'"
like "$(cat "$T/stanzas")" '"type":"pkmsg"' "pkmsg stanzas among them"
like "$(cat "$T/stanzas")" '"type":"skmsg"' "group stanzas among them"

for fs in xfs ext4; do
	name=$fs
	[ "$fs" = ext4 ] && name="ext4 noauto_da_alloc"
	res=$T/pc.$fs
	unshare -m sh "$0" --powercut "$fs" "$K" "$T" > "$res" 2> "$T/pc.err"
	if grep '^skip ' "$res" > /dev/null; then
		pass "$name: power cuts # SKIP $(sed -n 's/^skip //p' "$res" | head -n1)"
		continue
	fi
	grep '^problem \|^error ' "$res" | head -n 10 | while IFS= read -r l; do diag "$l"; done
	# cycle FS C cut_after=N lag=L acked=A exit=E flushfail=F after=X missing=M dup=D corrupt=B
	set -- $(awk '
		$1 == "cycle" {
			for (i = 4; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			cuts++; acked += v["acked"]; miss += v["missing"]; dup += v["dup"]; bad += v["corrupt"]
			stopped += (v["exit"] == "1" && v["flushfail"] > 0 && v["after"] == 0)
			inburst += (v["acked"] < count)
		}
		END { printf "%d %d %d %d %d %d %d\n", cuts, acked, miss, dup, bad, stopped, inburst }' count="$COUNT" "$res")
	if [ "$#" -ne 7 ] || [ "$1" -eq 0 ]; then
		fail "$name: the power cuts ran" "$(head -c 2000 "$res") $(head -c 2000 "$T/pc.err")"
		continue
	fi
	is "$1" "$K" "$name: $K power cuts during a burst of $COUNT stanzas"
	is "$7" "$K" "$name: every cut came while messages were still unacknowledged"
	is "$3" 0 "$name: every message whose receipt left is in new/, and every message after redelivery"
	is "$4" 0 "$name: no message twice"
	is "$5" 0 "$name: no partial file, the key store loads, every text right"
	is "$6" "$K" "$name: after each cut the feed reports a failed flush, sends no reply after it, exits 1"
	[ "$_tap_fail" -eq 0 ] || grep '^cycle ' "$res" | while IFS= read -r l; do diag "$l"; done
	diag "$name: power cuts $1, acked-but-missing $3, duplicates $4, corrupt $5 ($2 receipts had left)"
	grep -m1 '^flushmsg ' "$res" | sed 's/^flushmsg [^ ]* [^ ]* /# the feed after a cut: /'
done
done_testing

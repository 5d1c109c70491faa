#!/bin/sh
# 1501-dirsync: the durable write fsyncs the temp file before the rename
# and the folder after it, and that is what keeps the data through a power
# cut.  Fails when either fsync is removed from lib/store/durable.c (1502 proves
# it by running this test against builds without them).
#
# 1. the operation log of the test build (WA_TEST_OPLOG): every written
#    temp file is fsynced before its rename, every rename is followed by an
#    fsync of that folder before anything else happens;
# 2. the same order in the real system calls (strace -y), so removing the
#    fsync call while keeping its log line is caught too;
# 3. a real power cut: XFS and ext4 (noauto_da_alloc) images on a tmpfs,
#    loop-mounted inside a private mount namespace; the stress writer runs,
#    the filesystem is shut down with XFS_IOC_GOINGDOWN/EXT4_IOC_SHUTDOWN
#    without flushing the log (xfs_io -x -c shutdown), then remounted: every
#    file must hold a complete version, and no version whose put returned
#    before the cut may be lost.  Cuts at random instants while writing, and
#    cuts right after the writer finished (which find a missing directory
#    fsync every time).  Needs root, unshare, losetup, mkfs.xfs, mkfs.ext4,
#    xfs_io: skipped with the reason otherwise.
#
#   WA_STRESS_WRITER   writer to test (1502 passes broken variants)
#   WA_POWERCUT_CYCLES random cuts per filesystem (default 6; plus 3 after
#                      the writer finished)
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

W=${WA_STRESS_WRITER:-$WA_TESTBIN/wa-stress-writer}
export WA_STRESS_WRITER="$W"

# ---------------------------------------------------------------------------
# Inside the private mount namespace (this script runs itself again under
# unshare -m): one filesystem, result lines on stdout for the outer test.
pc_cleanup() {
	umount "$T/r/mnt" 2> /dev/null
	umount "$T/r" 2> /dev/null
}
powercut() {
	fs=$1 nr=$2 nq=$3
	R=$T/r img=$T/r/img mnt=$T/r/mnt J=$T/r/journal
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
	while [ "$c" -lt $((nr + nq)) ]; do
		c=$((c + 1))
		if ! mount -o "$opts" "$img" "$mnt" 2> "$T/e"; then
			echo "skip loop mount of $fs failed: $(head -n1 "$T/e")"; return
		fi
		if [ "$c" -le "$nr" ]; then
			mode=random
			# cut the power at a random instant while it writes
			# (timeout: a safety net; the writer stops on the first EIO)
			{ timeout -s KILL 120 "$W" -d "$mnt/auth" -f 8 -s 0:16384 -j "$J" -m r:40 2> "$R/w.err"
			  echo $? > "$R/rc"; } | {
				while read -r what pid n lag; do
					if [ "$what" = mark ]; then
						i=0
						while [ "$i" -lt "$lag" ]; do i=$((i + 1)); done
						echo "C - 0" >> "$J"
						xfs_io -x -c shutdown "$mnt"
						break
					fi
				done
			}
		else
			mode=quiesced
			# cut the power right after the last put returned
			timeout -s KILL 120 "$W" -d "$mnt/auth" -f 8 -s 0:16384 -j "$J" -n 2 > /dev/null 2> "$R/w.err"
			echo $? > "$R/rc"
			echo "C - 0" >> "$J"
			xfs_io -x -c shutdown "$mnt"
		fi
		umount "$mnt" && mount -o "$opts" "$img" "$mnt" || { echo "error remount failed"; return; }
		wa-verify-store -j "$J" "$mnt/auth" > "$R/v" 2> "$R/v.err"
		vrc=$?
		echo "cycle $fs $mode $c rc=$(cat "$R/rc") errlines=$(lines "$R/w.err") vrc=$vrc verify: $(cat "$R/v")"
		[ -s "$R/v.err" ] && sed "s/^/problem $fs $mode $c /" "$R/v.err"
		[ -s "$R/w.err" ] && sed "s/^/writer $fs $mode $c /" "$R/w.err"
		umount "$mnt"
	done
}
if [ "${1:-}" = --powercut ]; then
	powercut "$2" "$3" "$4"
	exit 0
fi

# ---------------------------------------------------------------------------
# 1. the operation log
A=$T/auth
WA_TEST_OPLOG=$T/oplog "$W" -d "$A" -f 4 -n 10 -s 0:20000 > /dev/null 2> "$T/w.err"
rc=$?
is "$rc.$(cat "$T/w.err")" "0." "the writer ran 40 puts with the operation log on"
awk -v what=oplog '
	function bad(m) { if (nbad++ < 3) print "# " m; }
	{ pid = $1; op = $2; name = $3 }
	pending[pid] != "" {
		if (op != "fsyncdir" || name != pending[pid])
			{ nodirsync++; bad("rename of " pending[pid] " followed by \"" op " " name "\", not by fsyncdir") }
		pending[pid] = ""
	}
	op == "tmp"   { cur[pid] = name; dirty[name] = 0; synced[name] = 0 }
	op == "write" { dirty[name] = 1 }
	op == "fsync" { dirty[name] = 0; synced[name] = 1 }
	op == "rename" {
		renames++
		t = cur[pid]
		if (index(t, ".wa-tmp." name ".") != 1 || !synced[t] || dirty[t])
			{ nofsync++; bad("rename of " name " from \"" t "\" whose data was not fsynced") }
		pending[pid] = name
	}
	END {
		for (p in pending) if (pending[p] != "") { nodirsync++; bad("exit after the rename of " pending[p] " without fsyncdir") }
		printf "%s renames %d nofsync %d nodirsync %d\n", what, renames, nofsync, nodirsync
	}' "$T/oplog" > "$T/check"
grep '^#' "$T/check"
set -- $(grep -v '^#' "$T/check")
is "$3" 40 "oplog: 40 renames logged"
is "$5" 0 "oplog: every temp file is fsynced after its last write, before its rename"
is "$7" 0 "oplog: every rename is followed by fsyncdir of its folder before the next operation"

# ---------------------------------------------------------------------------
# 2. the system calls themselves
check_strace() {
	# strace -y: fds print as N</path>; see the rules in the oplog check
	awk -v what=strace '
	function bad(m) { if (nbad++ < 3) print "# " m; }
	function path(s) { sub(/^[0-9]+</, "", s); sub(/>$/, "", s); return s }
	function arg(i,    a) { split(args, a, /, /); return a[i] }
	function unq(s) { gsub(/"/, "", s); return s }
	{
		line = $0
		if (!match(line, /^[a-z_0-9]+\(/)) next
		call = substr(line, 1, RLENGTH - 1)
		args = substr(line, RLENGTH + 1)
		res = args; sub(/^.*\) += /, "", res)
		sub(/\) += .*$/, "", args)
	}
	pending != "" {
		if (call != "fsync" || path(arg(1)) != pending || res != "0")
			{ nodirsync++; bad("renameat into " pending " followed by \"" line "\"") }
		pending = ""
	}
	call == "openat" && args ~ /O_EXCL/ && res ~ /^[0-9]+</ { t = path(res); tmp[t] = 1; dirty[t] = 0; synced[t] = 0 }
	call == "write" && (path(arg(1)) in tmp) { dirty[path(arg(1))] = 1 }
	(call == "fsync" || call == "fdatasync") && (path(arg(1)) in tmp) && res == "0" { t = path(arg(1)); dirty[t] = 0; synced[t] = 1 }
	call ~ /^rename/ && res == "0" {
		renames++
		src = path(arg(1)) "/" unq(arg(2))
		if (!(src in tmp) || !synced[src] || dirty[src])
			{ nofsync++; bad("renameat of " src " whose data was not fsynced") }
		pending = path(arg(3))
	}
	END {
		if (pending != "") { nodirsync++; bad("exit after a renameat into " pending " without fsync") }
		printf "%s renames %d nofsync %d nodirsync %d\n", what, renames, nofsync, nodirsync
	}' "$1"
}
if command -v strace > /dev/null 2>&1 && strace -o /dev/null true 2> /dev/null; then
	ASAN_OPTIONS=detect_leaks=0 WA_TEST_OPLOG= strace -y -o "$T/trace" \
	    -e trace=openat,write,fsync,fdatasync,rename,renameat,renameat2 \
	    "$W" -d "$T/auth2" -f 4 -n 10 -s 0:20000 > /dev/null 2> "$T/w.err"
	rc=$?
	is "$rc.$(cat "$T/w.err")" "0." "the writer ran 40 puts under strace"
	check_strace "$T/trace" > "$T/check"
	grep '^#' "$T/check"
	set -- $(grep -v '^#' "$T/check")
	is "$3" 40 "strace: 40 renameat calls"
	is "$5" 0 "strace: every temp file is fsynced after its last write, before its renameat"
	is "$7" 0 "strace: every renameat is followed by fsync of the target folder before any other call"
else
	for d in "writer under strace" "renameat count" "fsync before renameat" "fsync of the folder after renameat"; do
		pass "$d # SKIP strace cannot trace here"
	done
fi

# ---------------------------------------------------------------------------
# 3. power cuts
why=
if [ "$(id -u)" -ne 0 ]; then why="needs root (loop devices, mount)"
elif ! unshare -m true 2> /dev/null; then why="unshare -m is not allowed here"
else
	for t in losetup mkfs.xfs mkfs.ext4 xfs_io truncate; do
		command -v "$t" > /dev/null 2>&1 || { why="$t is not installed (xfsprogs, e2fsprogs, util-linux)"; break; }
	done
	if [ -z "$why" ] && ! losetup -f > /dev/null 2>&1; then why="no free loop device (losetup -f failed)"; fi
fi
nr=${WA_POWERCUT_CYCLES:-6}
nq=3
for fs in xfs ext4; do
	name=$fs
	[ "$fs" = ext4 ] && name="ext4 noauto_da_alloc"
	res=$T/pc.$fs
	d1="$name: power cut at $nr random instants: every file complete, nothing durable lost"
	d2="$name: after each cut the writer stops with exit 74 and one line on stderr"
	d3="$name: power cut right after the writer finished ($nq times): every durable version survived"
	if [ -z "$why" ]; then
		unshare -m sh "$0" --powercut "$fs" "$nr" "$nq" > "$res" 2> "$T/pc.err"
		grep '^skip ' "$res" > /dev/null && why="$fs: $(sed -n 's/^skip //p' "$res" | head -n1)"
	fi
	if [ -n "$why" ]; then
		for d in "$d1" "$d2" "$d3"; do pass "$d # SKIP $why"; done
		continue
	fi
	grep '^problem ' "$res" | head -n 5 | while IFS= read -r l; do diag "$l"; done
	# cycle FS MODE N rc=R errlines=E vrc=V verify: files F, ok O, corrupt C, torn T, lost L, phantom P, unexpected U, tmp K
	summary=$(awk -v nr="$nr" -v nq="$nq" '
		$1 == "cycle" {
			gsub(/,/, "")
			rc = $5; sub(/rc=/, "", rc); el = $6; sub(/errlines=/, "", el)
			bad = $7 != "vrc=0" || NF != 24 || $14 + $16 + $18 + $20 + $22 > 0
			if ($3 == "random") {
				r++; rbad += bad; stop += (rc == 74 && el == 1)
			} else {
				q++; qbad += bad; qrc += (rc == 0 && el == 0)
			}
			cor += $14; torn += $16; lost += $18; tmp = $24
		}
		END { printf "%d %d %d %d %d %d %d %d %d %d\n", r, rbad, stop, q, qbad, qrc, cor, torn, lost, tmp }' "$res")
	set -- $summary
	if [ "$#" -ne 10 ]; then
		fail "$name: power cut ran" "$(cat "$res" "$T/pc.err")"
		continue
	fi
	is "$1/$2" "$nr/0" "$d1"
	is "$3" "$nr" "$d2"
	is "$4/$5/$6" "$nq/0/$nq" "$d3"
	diag "$name: cuts $(($1 + $4)), corrupt $7, torn $8, lost $9, temp files left ${10}"
	grep '^writer .* random 1 ' "$res" | head -n1 | sed 's/^writer [^ ]* [^ ]* [^ ]* /# the writer after a cut: /'
done
done_testing

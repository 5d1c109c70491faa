#!/bin/sh
# 1504-strace-faults: I/O errors in the middle of a durable write.
#
# strace makes one system call of a put fail (-e inject=CALL:error=ERR:when=N,
# the N-th call being the one on the temp file or the folder, found by a
# dry run with -y): the temp file's write, its fsync, the rename, the fsync
# of the folder, each with EIO and ENOSPC.  Before the rename: the old file
# keeps its content, no temp file is left, the writer exits 74 with one line
# naming the file.  A failed folder fsync comes after the rename: the new
# content is in place (complete), and the writer still exits 74 saying it
# is not known durable (RELIABILITY.md R6).  Then faults "from then on" in a
# writing loop: it stops at the first one and the folder verifies.
#
# Injection only fires for calls in the trace set; LeakSanitizer does not
# work under ptrace, so leaks are not checked here.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v strace > /dev/null 2>&1 || skip_all "strace is not installed"
strace -o /dev/null true 2> /dev/null || skip_all "strace cannot trace here (ptrace not allowed)"
ASAN_OPTIONS=detect_leaks=0
export ASAN_OPTIONS
unset WA_TEST_OPLOG

W=wa-stress-writer
printf '{"v":1,"pad":"%s"}\n' "$(head -c 3000 /dev/zero | tr '\0' a)" > "$T/old"
printf '{"v":2,"pad":"%s"}\n' "$(head -c 9000 /dev/zero | tr '\0' b)" > "$T/new"

# fresh DIR: a folder holding the old creds.json
fresh() {
	rm -rf "$1"
	"$W" -d "$1" -P creds.json < "$T/old" || fail "setup of $1"
}

# nth CALL WHAT: in a dry run, the index among CALL calls of the first one
# on WHAT ("tmp": the temp file; "dir": the auth folder itself; "from-tmp":
# renaming the temp file)
nth() {
	fresh "$T/dry"
	strace -y -o "$T/dry.trace" -e trace="$1" "$W" -d "$T/dry" -P creds.json < "$T/new" 2> /dev/null
	case $2 in
	tmp) pat="[0-9]*<$T/dry/.wa/tmp/.wa-tmp\.[^>]*>" ;;
	dir) pat="[0-9]*<$T/dry>" ;;
	from-tmp) pat="[0-9]*<[^>]*>, \"\.wa-tmp\." ;;
	esac
	grep "^$1(" "$T/dry.trace" | grep -n "^$1($pat" | head -n1 | cut -d: -f1
}

nw=$(nth write tmp)
nf=$(nth fsync tmp)
nd=$(nth fsync dir)
nr=$(nth renameat from-tmp)
diag "dry run: temp write is write #$nw, temp fsync is fsync #$nf, folder fsync is fsync #$nd, rename is renameat #$nr"
[ -n "$nw" ] && [ -n "$nf" ] && [ -n "$nd" ] && [ -n "$nr" ] && pass "the dry run found every call" ||
	fail "the dry run found every call" "$(cat "$T/dry.trace")"

# fault CALL N ERR DESC: before the rename
fault() {
	A=$T/a.$1.$2.$3
	fresh "$A"
	expect_exit 74 "$1 #$2 fails with $3: exit 74" \
	    strace -o /dev/null -e trace="$1" -e inject="$1:error=$3:when=$2" "$W" -d "$A" -P creds.json < "$T/new"
	is "$(lines "$T/err")" 1 "$1/$3: one line on stderr"
	like "$(cat "$T/err")" "unable to write '$A/creds.json': $4" "$1/$3: it names the file and the reason"
	cmp -s "$A/creds.json" "$T/old" && pass "$1/$3: the old creds.json is intact" ||
		fail "$1/$3: the old creds.json is intact" "$(head -c 200 "$A/creds.json")"
	is "$(find "$A" -name '.wa-tmp.*' | wc -l | tr -d ' ')" 0 "$1/$3: no temp file left"
}
for e in EIO ENOSPC; do
	[ $e = EIO ] && msg="Input/output error" || msg="No space left on device"
	fault write "$nw" $e "$msg"
	fault fsync "$nf" $e "$msg"
	fault renameat "$nr" $e "$msg"
done

# the folder fsync fails: after the rename
for e in EIO ENOSPC; do
	A=$T/a.dirsync.$e
	fresh "$A"
	expect_exit 74 "folder fsync fails with $e: exit 74" \
	    strace -o /dev/null -e trace=fsync -e inject="fsync:error=$e:when=$nd" "$W" -d "$A" -P creds.json < "$T/new"
	is "$(lines "$T/err")" 1 "folder fsync/$e: one line on stderr"
	like "$(cat "$T/err")" "'$A/creds.json' replaced but not known durable" "folder fsync/$e: it says the write is not known durable"
	cmp -s "$A/creds.json" "$T/new" && pass "folder fsync/$e: creds.json holds the complete new content" ||
		fail "folder fsync/$e: creds.json holds the complete new content" "$(head -c 200 "$A/creds.json")"
	is "$(find "$A" -name '.wa-tmp.*' | wc -l | tr -d ' ')" 0 "folder fsync/$e: no temp file left"
done

# from then on, in a writing loop: stop at the first failure, all complete
for spec in fsync:EIO:7 fsync:ENOSPC:4 renameat:EIO:5 renameat:ENOSPC:2; do
	IFS=: read -r call e n <<EOF
$spec
EOF
	A=$T/loop.$call.$e J=$T/loop.$call.$e.journal
	mkdir -m 700 "$A"
	expect_exit 74 "a writing loop with $call failing with $e from call $n on stops with exit 74" \
	    strace -o /dev/null -e trace="$call" -e inject="$call:error=$e:when=$n+" "$W" -d "$A" -f 4 -n 5 -j "$J"
	is "$(lines "$T/err")" 1 "$call/$e from then on: one line on stderr"
	ok "$call/$e from then on: every file complete, nothing durable lost" wa-verify-store -j "$J" "$A"
	is "$(grep -c '^F ' "$J")" 1 "$call/$e from then on: no put after the first failure"
done
done_testing

#!/bin/sh
# 1551-crashsim: the crash-state replay (tests/crashsim/crashsim.mjs) on
# the simplest store there is: wa-stress-writer rewriting three files
# through wa_authdir_put with WA_TEST_CRASHLOG set.  Every prefix, power-cut
# and torn-write state of the run keeps every file a complete version and
# every put that returned 0 (its "done" marker) durable; the same run
# with durable.c compiled without the file fsync, or without the folder
# fsync (the switches of 1502-powercut-nofsync.t), gives violations; and a
# log that misses an operation is refused instead of replayed.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v node > /dev/null 2>&1 || skip_all "node is not installed"
LIB=$WA_TESTBIN/../libwa.a
SIM=$WA_TOP/tests/crashsim/crashsim.mjs
SCRATCH=$T/scratch
[ -d /dev/shm ] && [ -w /dev/shm ] && SCRATCH=$(mktemp -d /dev/shm/wa-crashsim.XXXXXX)
cleanup_scratch() { rm -rf "$SCRATCH"; }
on_exit cleanup_scratch

# record WRITER: one run of 8 rounds over 3 files in $T/run/auth
record() {
	rm -rf "$T/run" "$T/snap" "$T/log" "$T/journal"
	mkdir -m 700 "$T/run" "$T/run/auth" && cp -a "$T/run" "$T/snap" &&
	WA_TEST_CRASHLOG=$T/log "$1" -d "$T/run/auth" -n 8 -f 3 -s 20:300 -j "$T/journal" > /dev/null
}
replay() {
	node "$SIM" --log "$T/log" --root "$T/run" --snapshot "$T/snap" --scratch "$SCRATCH" \
	    --versions '^auth/[^/]*$' --ignore '^auth/\.wa/lock$' \
	    --checker "$WA_TOP/tests/crashsim/stress-check.mjs" --arg journal="$T/journal" \
	    --arg verify="$WA_TESTBIN/wa-verify-store" "$@"
}
summary() { sed -n 's/^crash states: //p' "$T/out"; }

ok "the writer runs with WA_TEST_CRASHLOG" record "$WA_TESTBIN/wa-stress-writer"
log=$(cat "$T/log")
for op in create write fsync close rename mkdir; do
	like "$log" "\"op\":\"$op\"" "the crash log has $op operations"
done
like "$log" '"op":"mark","text":"done creds.json 1"' "the crash log has the writer's markers"
like "$log" "\"path\":\"$(cd "$T/run" && pwd -P)/auth/.wa/tmp/.wa-tmp." "paths are absolute"

ok "the correct store: no violation" replay
diag "$(summary)"
gen=$(summary | sed -n 's/^generated \([0-9]*\),.*/\1/p')
[ "${gen:-0}" -ge 500 ] && pass "at least 500 states generated ($gen)" || fail "at least 500 states generated" "$(cat "$T/out")"

# a log that lost the last write does not account for the folder: refused
tac "$T/log" | awk '/"op":"write"/ && !d { d = 1; next } { print }' | tac > "$T/log.short"
mv "$T/log.short" "$T/log"
expect_exit 2 "a log missing one write is refused" replay
like "$(cat "$T/err")" "does not account for" "the refusal says why"

# the broken stores
[ -f "$LIB" ] || { done_testing; exit 0; }
command -v pkg-config > /dev/null 2>&1 || { done_testing; exit 0; }
CC=${CC:-cc}
pkgs=$(sed -n 's/^PKGS *= *//p' "$WA_TOP/Makefile")
san=
nm "$LIB" 2> /dev/null | grep -q __asan_ && san="-fsanitize=address,undefined -fno-sanitize-recover=all"
build() {
	# shellcheck disable=SC2086
	$CC -std=c11 -D_GNU_SOURCE -I"$WA_TOP/lib" -I"$WA_TOP/cmd" -O1 -g $san -DWA_TESTING -D"WA_TEST_$1" \
	    $(pkg-config --cflags $pkgs) -o "$T/writer-$1" \
	    "$WA_TOP/tests/helpers/wa-stress-writer.c" "$WA_TOP/lib/store/durable.c" "$LIB" \
	    $san $(pkg-config --libs $pkgs)
}
for v in NO_FSYNC NO_DIRSYNC; do
	ok "build the writer with -DWA_TEST_$v" build "$v"
	ok "the $v writer runs" record "$T/writer-$v"
	expect_exit 1 "without ${v#NO_}: crash states with violations" replay --check-max 150
	diag "$v: $(summary)"
	cp "$T/out" "$T/out.$v"
done
like "$(cat "$T/out.NO_FSYNC")" "is not a complete version (0 bytes)" "without the file fsync a file is empty"
like "$(cat "$T/out.NO_DIRSYNC")" "lost: missing, but version" "without the folder fsync a durably written version is lost"
done_testing

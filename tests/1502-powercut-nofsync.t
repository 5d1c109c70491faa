#!/bin/sh
# 1502-powercut-nofsync: the checks of 1501-dirsync.t catch a missing fsync.
#
# Builds the stress writer twice more against the test build's libwa.a,
# each time with lib/store/durable.c compiled with one fsync taken out
# (-DWA_TEST_NO_FSYNC: no fsync of the temp file before the rename;
# -DWA_TEST_NO_DIRSYNC: no fsync of the folder after it; both switches
# exist only together with WA_TESTING), runs 1501-dirsync.t against each,
# and requires it to fail on exactly the checks that guard that fsync:
# the operation log, the system-call order, and the power cuts (where the
# machine allows them; there the broken builds lose data for real: empty
# files without the file fsync, durably reported versions gone without the
# folder fsync).
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

LIB=$WA_TESTBIN/../libwa.a
[ -f "$LIB" ] || skip_all "no libwa.a beside $WA_TESTBIN (run make check)"
command -v pkg-config > /dev/null 2>&1 || skip_all "pkg-config is not installed"
CC=${CC:-cc}
pkgs=$(sed -n 's/^PKGS *= *//p' "$WA_TOP/Makefile")
san=
if nm "$LIB" 2> /dev/null | grep -q __asan_; then
	san="-fsanitize=address,undefined -fno-sanitize-recover=all"
fi

# the variant's durable.o comes before libwa.a, so the archive's is never used
build() {
	# shellcheck disable=SC2086
	$CC -std=c11 -D_GNU_SOURCE -I"$WA_TOP/lib" -I"$WA_TOP/cmd" -O1 -g $san -DWA_TESTING -D"WA_TEST_$1" \
	    $(pkg-config --cflags $pkgs) -o "$T/writer-$1" \
	    "$WA_TOP/tests/helpers/wa-stress-writer.c" "$WA_TOP/lib/store/durable.c" "$LIB" \
	    $san $(pkg-config --libs $pkgs)
}

ok "the switch needs WA_TESTING: a build without it stops" \
    sh -c "! $CC -std=c11 -D_GNU_SOURCE -I'$WA_TOP/lib' -DWA_TEST_NO_FSYNC -c -o '$T/x.o' '$WA_TOP/lib/store/durable.c'"

# expect_not_ok VARIANT PATTERN DESC: the 1501 run for VARIANT failed the
# check whose description matches PATTERN (or skipped it, if 1501 did)
expect_not_ok() {
	if grep -q "^ok [0-9]* - $2.*# SKIP" "$T/out.$1"; then
		pass "$3 # SKIP $(sed -n "s/^ok [0-9]* - $2.*# SKIP //p" "$T/out.$1" | head -n1)"
	elif grep -q "^not ok [0-9]* - $2" "$T/out.$1"; then
		pass "$3"
	else
		fail "$3" "$(grep -e "- $2" "$T/out.$1")"
	fi
}

for v in NO_FSYNC NO_DIRSYNC; do
	ok "build the writer with -DWA_TEST_$v" build "$v"
	WA_STRESS_WRITER=$T/writer-$v sh "$WA_TOP/tests/1501-dirsync.t" > "$T/out.$v" 2>&1
	rc=$?
	isnt "$rc" 0 "1501-dirsync.t fails against the $v build"
	like "$(cat "$T/out.$v")" "ok 1 - the writer ran 40 puts" "the $v writer itself runs"
done

expect_not_ok NO_FSYNC "oplog: every temp file is fsynced" "without the file fsync: the oplog check fails"
expect_not_ok NO_FSYNC "strace: every temp file is fsynced" "without the file fsync: the system-call check fails"
expect_not_ok NO_FSYNC "xfs: power cut at" "without the file fsync: XFS loses files in power cuts while writing"
expect_not_ok NO_FSYNC "ext4 noauto_da_alloc: power cut at" "without the file fsync: ext4 noauto_da_alloc loses files in power cuts while writing"
expect_not_ok NO_FSYNC "xfs: power cut right after" "without the file fsync: XFS loses files in power cuts after writing"
expect_not_ok NO_FSYNC "ext4 noauto_da_alloc: power cut right after" "without the file fsync: ext4 noauto_da_alloc loses files in power cuts after writing"

expect_not_ok NO_DIRSYNC "oplog: every rename is followed by fsyncdir" "without the folder fsync: the oplog check fails"
expect_not_ok NO_DIRSYNC "strace: every renameat is followed by fsync" "without the folder fsync: the system-call check fails"
expect_not_ok NO_DIRSYNC "xfs: power cut right after" "without the folder fsync: XFS loses durably reported versions"
expect_not_ok NO_DIRSYNC "ext4 noauto_da_alloc: power cut right after" "without the folder fsync: ext4 noauto_da_alloc loses durably reported versions"

# the checks that must keep passing: they guard something else
for v in NO_FSYNC NO_DIRSYNC; do
	grep -q "^ok [0-9]* - oplog: 40 renames logged" "$T/out.$v" &&
		pass "$v: the renames themselves are still there" ||
		fail "$v: the renames themselves are still there" "$(grep 'renames logged' "$T/out.$v")"
done
# expect_ok_other VARIANT PATTERN DESC: the 1501 run for VARIANT has the
# check whose description matches PATTERN, and it passed (a check that is
# missing or failed fails here)
expect_ok_other() {
	if grep -q "^ok [0-9]* - $2" "$T/out.$1" && ! grep -q "^not ok [0-9]* - $2" "$T/out.$1"; then
		pass "$3"
	else
		fail "$3" "$(grep -e "- $2" "$T/out.$1" || echo "no check '$2' in the output")"
	fi
}
expect_ok_other NO_FSYNC "oplog: every rename is followed by fsyncdir" "NO_FSYNC: the folder fsync check still passes"
expect_ok_other NO_DIRSYNC "oplog: every temp file is fsynced" "NO_DIRSYNC: the file fsync check still passes"

for v in NO_FSYNC NO_DIRSYNC; do
	grep '^# [a-z0-9 _]*: cuts ' "$T/out.$v" | sed "s/^# /$v, /" | while IFS= read -r l; do diag "$l"; done
done
done_testing

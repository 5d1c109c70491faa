#!/bin/sh
# A short libFuzzer run of every harness in fuzz/ (built by make check into
# build/fuzz/bin).  New inputs go to a scratch folder, never into the
# repository's corpus; a crash, leak, timeout or broken property fails the
# test and leaves the input in $T for the diagnostic.  Long runs: make fuzz.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

secs=${WA_FUZZ_SECONDS:-8}
set -- "$WA_TOP"/build/fuzz/bin/fuzz-*
[ -x "$1" ] || skip_all "fuzz harnesses not built (clang missing?)"
for b in "$@"; do
	n=${b##*/fuzz-}
	mkdir -p "$T/$n"
	if ASAN_OPTIONS=quarantine_size_mb=16:malloc_context_size=5 "$b" -max_total_time="$secs" -rss_limit_mb=256 -malloc_limit_mb=64 -max_len=65536 \
	    -timeout=10 -artifact_prefix="$T/$n-" "$T/$n" "$WA_TOP/fuzz/corpus/$n" \
	    > "$T/$n.log" 2>&1; then
		pass "fuzz-$n: $(grep -o 'Done [0-9]* runs' "$T/$n.log" | tail -1) in ${secs}s, no crash"
	else
		fail "fuzz-$n crashed or broke a property" "$(tail -30 "$T/$n.log")"
	fi
done
done_testing

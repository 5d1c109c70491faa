#!/bin/sh
# 1520-duration-overflow: a duration whose seconds do not fit (days,
# hours or minutes times the unit over LONG_MAX) is refused as too large
# by the commands that take one, never wrapped into some other value
# (cmd/tool.c tool_duration; the unit test t-tool covers the parser).
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

mkdir -m 700 "$T/auth"
big=106751991167301d   # LONG_MAX / 86400 + 1 days
expect_exit 3 "wa-check --max-silence $big is UNKNOWN (bad usage)" wa-check -d "$T/auth" --max-silence "$big"
like "$(cat "$T/err")" "wa-check: --max-silence: '$big' is too large" "  says it is too large"
expect_exit 3 "wa-check --max-silence 99999999999999999999h" wa-check -d "$T/auth" --max-silence 99999999999999999999h
like "$(cat "$T/err")" "is too large" "  too large, not malformed"
expect_exit 3 "wa-check --max-silence 5y is still malformed" wa-check -d "$T/auth" --max-silence 5y
like "$(cat "$T/err")" "'5y' is not a duration" "  says it is not a duration"

expect_exit 64 "wa-pair -t $big" wa-pair -d "$T/new" -t "$big"
like "$(cat "$T/err")" "wa-pair: -t: '$big' is too large (at most 1h)" "  says it is too large"
ok "  and creates nothing" test ! -e "$T/new"
done_testing

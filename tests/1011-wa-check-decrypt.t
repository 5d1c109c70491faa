#!/bin/sh
# 1011-wa-check-decrypt: failed decryptions (issue 12).  wa-run's status
# file counts them by class since start (decrypt_failures) and over about
# the last 10 minutes (decrypt_failures_recent), with retries, repaired
# and quarantined; wa-check shows the window by class in the summary line
# and --json, and --max-decrypt-failures N is WARNING (kind decrypt_storm,
# naming the classes over N) when one class holds more than N; off unless
# given; a status file older than the window counts nothing as recent; an
# older wa-run's file without the fields says nothing.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"
command -v jq > /dev/null 2>&1 || skip_all "jq missing"

cd "$T" || exit 1
mkfolder auth
mkdir -m 700 auth/.wa
now=$(date +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
status() { printf '%s' "$1" > auth/.wa/status.json; chmod 600 auth/.wa/status.json; }
j() { jq -r "$1" "$T/j"; }
# base UPDATED-AGO: the fields every status has, written AGO seconds ago
base() { printf '"state":"online","since":"%s","pid":%s,"last_inbound":"%s","updated":"%s"' \
    "$(iso $((now - 3600)))" $$ "$(iso $((now - 5)))" "$(iso $((now - $1)))"; }

# ---- an older wa-run: no self-healing fields ----
status "{$(base 5)}"
expect_exit 0 "an older status file: OK, even with --max-decrypt-failures 0" \
    wa-check -d auth --max-decrypt-failures 0
unlike "$(cat "$T/out")" "decrypt" "  the summary says nothing of decryption"
wa-check -d auth --json > "$T/j"
is "$(j '[.run.decrypt_failures, .run.decrypt_failures_recent, .run.retries, .run.repaired, .run.quarantined] | map(tostring) | join(" ")')" \
    "null null null null null" "  --json: the self-healing fields null"

# ---- a healthy wa-run after a repair: a few failures ----
status "{$(base 30),\"decrypt_failures\":{\"bad_mac\":7,\"no_session\":2},\"decrypt_failures_recent\":{\"bad_mac\":3,\"no_session\":1},\"retries\":9,\"repaired\":4,\"quarantined\":1}"
expect_exit 0 "a few recent failures, no threshold: OK" wa-check -d auth
like "$(cat "$T/out")" ", 4 failed decryptions in the last 10 minutes (no_session 1, bad_mac 3)" \
    "  the summary counts the window by class"
like "$(cat "$T/out")" "decrypt_failures_recent=4 retries=9c repaired=4c" "  perfdata: the window, retries, repaired"
expect_exit 0 "--max-decrypt-failures 3: OK (bad_mac 3 is not more than 3)" wa-check -d auth --max-decrypt-failures 3
wa-check -d auth --json > "$T/j"
is "$(j '.run.decrypt_failures | tojson')" '{"no_session":2,"bad_mac":7}' "  --json run.decrypt_failures by class"
is "$(j '.run.decrypt_failures_recent | tojson')" '{"no_session":1,"bad_mac":3}' "  --json run.decrypt_failures_recent by class"
is "$(j '"\(.run.retries) \(.run.repaired) \(.run.quarantined) \(.run.decrypt_failures_recent_stale)"')" "9 4 1 false" \
    "  --json run.retries 9, repaired 4, quarantined 1, the window not stale"

# ---- a storm ----
status "{$(base 30),\"decrypt_failures\":{\"bad_mac\":900,\"no_session\":40,\"no_sender_key\":3},\"decrypt_failures_recent\":{\"bad_mac\":812,\"no_session\":40,\"no_sender_key\":3},\"retries\":850,\"repaired\":0,\"quarantined\":2}"
expect_exit 0 "a storm, no threshold given: OK (off unless given)" wa-check -d auth
expect_exit 1 "--max-decrypt-failures 39: WARNING" wa-check -d auth --max-decrypt-failures 39
like "$(cat "$T/out")" "WA WARNING - 'auth/.wa/status.json': failed decryptions in the last 10 minutes over the maximum of 39 per class: no_session 40, bad_mac 812 (wa-run asks the senders" \
    "  names the classes over the maximum with their counts, not the others"
unlike "$(cat "$T/out")" "no_sender_key 3" "  a class under the maximum is not named"
is "$(wa-check -d auth --max-decrypt-failures 39 --problems)" decrypt_storm "  --problems: decrypt_storm"
wa-check -d auth --max-decrypt-failures 39 --json > "$T/j"
is "$(j '"\(.status) \(.problems[0].kind) \(.problems[0].severity)"')" "warning decrypt_storm warning" \
    "  --json: status warning, problem decrypt_storm"
expect_exit 0 "--max-decrypt-failures 812: OK" wa-check -d auth --max-decrypt-failures 812
expect_exit 1 "--max-decrypt-failures 811: WARNING" wa-check -d auth --max-decrypt-failures 811
like "$(cat "$T/out")" "per class: bad_mac 812 (" "  only bad_mac named"

# ---- the same storm in a file written 11 minutes ago: nothing recent ----
status "{$(base 660),\"decrypt_failures\":{\"bad_mac\":900},\"decrypt_failures_recent\":{\"bad_mac\":812},\"retries\":850,\"repaired\":0,\"quarantined\":2}"
expect_exit 0 "a storm in a status file older than the window: OK" wa-check -d auth --max-decrypt-failures 0
wa-check -d auth --json > "$T/j"
is "$(j '"\(.run.decrypt_failures_recent | tojson) \(.run.decrypt_failures_recent_stale) \(.run.decrypt_failures.bad_mac)"')" \
    "{} true 900" "  --json: the window empty and stale, the total kept"

# ---- a hand-written file: wrong types are skipped ----
status "{$(base 5),\"decrypt_failures\":{\"bad_mac\":\"many\"},\"decrypt_failures_recent\":{\"bad_mac\":\"x\",\"no_session\":5}}"
expect_exit 1 "wrong types skipped, the rest read: no_session 5 over 4" wa-check -d auth --max-decrypt-failures 4

# ---- usage ----
expect_exit 3 "--max-decrypt-failures -1: bad usage" wa-check -d auth --max-decrypt-failures -1
expect_exit 3 "--max-decrypt-failures x: bad usage" wa-check -d auth --max-decrypt-failures x

done_testing

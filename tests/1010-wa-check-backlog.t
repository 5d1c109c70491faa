#!/bin/sh
# 1010-wa-check-backlog: the inbox (issue 11).  wa-check finds the inbox
# wa-run names in its status file (else --inbox, else auth.inbox beside
# the folder), counts what waits in INBOX/new and how long the oldest has
# waited, and reports them (summary, --json: inbox, backlog,
# backlog_oldest_age_s, last_message); --max-backlog N is WARNING over N
# files (kind backlog), --max-backlog-age D WARNING over D and CRITICAL
# over twice D (kind backlog_age); both off unless given; a missing inbox
# is not a problem, and an older status file without the new fields says
# nothing about a backlog.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"
command -v jq > /dev/null 2>&1 || skip_all "jq missing"

cd "$T" || exit 1
mkfolder auth
mkdir -m 700 auth/.wa
now=$(date +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
status() { printf '%s' "$1" > auth/.wa/status.json; chmod 600 auth/.wa/status.json; }
maildir() { mkdir -m 700 "$1" "$1/tmp" "$1/new" "$1/cur"; }
# msg INBOX NAME AGE-SECONDS: a message file in INBOX/new stored AGE ago
msg() { printf '{"id":"%s"}\n' "$2" > "$1/new/$2"; touch -d "@$(($now - $3))" "$1/new/$2"; }
j() { jq -r "$1" "$T/j"; }

# ---- an older status file: no inbox field, no auth.inbox ----
status "{\"state\":\"online\",\"since\":\"$(iso $((now - 600)))\",\"pid\":$$,\"last_inbound\":\"$(iso $((now - 5)))\"}"
expect_exit 0 "an older status file without inbox fields: OK" wa-check -d auth --max-backlog 0 --max-backlog-age 1m
wa-check -d auth --json > "$T/j"
is "$(j '[.inbox, .backlog, .backlog_oldest_age_s, .last_message] | map(tostring) | join(" ")')" "null null null null" \
    "  --json: inbox, backlog, backlog_oldest_age_s, last_message all null"
is "$(j '.run.messages_received | tostring')" null "  run.messages_received null (not counted by that wa-run)"
is "$(wa-check -d auth --max-backlog 0 --problems)" "" "  --problems: nothing"

# ---- the status file names the inbox (elsewhere), which does not exist yet ----
mkdir -m 700 srv
in=$T/srv/inbox
status "{\"state\":\"online\",\"since\":\"$(iso $((now - 600)))\",\"pid\":$$,\"last_inbound\":\"$(iso $((now - 5)))\",\"inbox\":\"$in\",\"last_message\":\"$(iso $((now - 60)))\",\"messages_received\":12,\"undecryptable\":1}"
expect_exit 0 "the status names an inbox that does not exist: not a problem" \
    wa-check -d auth --max-backlog 0 --max-backlog-age 1m
wa-check -d auth --json > "$T/j"
is "$(j .inbox)" "$in" "  --json inbox: the status file's"
is "$(j '.backlog | tostring')" null "  backlog null (not counted)"
is "$(j .last_message)" "$(iso $((now - 60)))" "  last_message from the status file"
is "$(j '"\(.run.messages_received) \(.run.undecryptable)"')" "12 1" "  run.messages_received 12, run.undecryptable 1"

# ---- files waiting ----
maildir "$in"
msg "$in" 1795000001.000001_1.host 120
msg "$in" 1795000002.000002_1.host 60
msg "$in" 1795000003.000003_1.host 10
printf 'x' > "$in/cur/1795000000.000000_1.host:2,S"    # handled: not waiting
expect_exit 0 "3 waiting, no thresholds given: OK (off unless given)" wa-check -d auth
like "$(cat "$T/out")" ", 3 waiting in the inbox (the oldest for 1" "  the summary counts them"
like "$(cat "$T/out")" "backlog=3;" "  perfdata backlog"
expect_exit 0 "--max-backlog 3: OK (not more than 3)" wa-check -d auth --max-backlog 3
expect_exit 1 "--max-backlog 2: WARNING" wa-check -d auth --max-backlog 2
like "$(cat "$T/out")" "WA WARNING - '$in/new': 3 messages waiting, over the maximum of 2: the consumer of INBOX/new is not keeping up or has stopped" \
    "  says how many, the maximum and what to do"
is "$(wa-check -d auth --max-backlog 2 --problems)" backlog "  --problems: backlog"
expect_exit 0 "--max-backlog-age 5m: OK (the oldest waited 2m)" wa-check -d auth --max-backlog-age 5m
expect_exit 1 "--max-backlog-age 100s: WARNING (2m is over 100s, under 200s)" wa-check -d auth --max-backlog-age 100s
like "$(cat "$T/out")" "the oldest waiting message is from $(iso $((now - 120)))" "  names the oldest message's time"
is "$(wa-check -d auth --max-backlog-age 100s --problems)" backlog_age "  --problems: backlog_age"
expect_exit 2 "--max-backlog-age 50s: CRITICAL (2m is over twice 50s)" wa-check -d auth --max-backlog-age 50s
like "$(cat "$T/out")" "over twice the maximum of 50s" "  says twice"
wa-check -d auth --max-backlog 1 --max-backlog-age 50s --json > "$T/j"
is "$?" 2 "--json: the same exit status"
is "$(j '"\(.inbox) \(.backlog)"')" "$in 3" "--json: inbox and backlog 3"
age=$(j .backlog_oldest_age_s)
ok "--json: backlog_oldest_age_s is the oldest's age ($age)" test "$age" -ge 120 -a "$age" -lt 180
is "$(j '[.problems[].kind] | sort | join(" ")')" "backlog backlog_age" "--json: both kinds"
is "$(j '.problems[] | select(.kind == "backlog_age") | .severity')" critical "  backlog_age critical"
is "$(j '.problems[] | select(.kind == "backlog") | "\(.severity) \(.path)"')" "warning $in/new" "  backlog warning, path INBOX/new"

# ---- --inbox wins over the status file ----
maildir other
expect_exit 0 "--inbox names an empty inbox: OK" wa-check -d auth --inbox other --max-backlog 0 --max-backlog-age 1s
wa-check -d auth --inbox other --json > "$T/j"
is "$(j '"\(.inbox) \(.backlog) \(.backlog_oldest_age_s)"')" "other 0 null" "  --json: that inbox, backlog 0, no age"
expect_exit 3 "--max-backlog with a bad number: UNKNOWN" wa-check -d auth --max-backlog many
expect_exit 3 "--max-backlog-age with a bad duration: UNKNOWN" wa-check -d auth --max-backlog-age soon

# ---- no status file: the default auth.inbox ----
rm auth/.wa/status.json
expect_exit 0 "no status file, no auth.inbox: OK" wa-check -d auth --max-backlog 0
is "$(wa-check -d auth --json | jq -r '.inbox | tostring')" null "  --json inbox null"
maildir auth.inbox
msg auth.inbox 1795000009.000009_1.host 30
expect_exit 1 "no status file: auth.inbox beside the folder is found" wa-check -d auth --max-backlog 0
like "$(cat "$T/out")" "WA WARNING - 'auth.inbox/new': 1 message waiting, over the maximum of 0" "  and its backlog counted"
wa-check -d auth --json > "$T/j"
is "$(j '"\(.inbox) \(.backlog) \(.last_message)"')" "auth.inbox 1 null" "  --json: auth.inbox, backlog 1, no last_message"
expect_exit 0 "--max-backlog-age 1m: the message waited 30s" wa-check -d auth --max-backlog-age 1m
done_testing

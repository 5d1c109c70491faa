#!/bin/sh
# 1000-wa-check: the output of a healthy folder (the summary line, its
# perfdata, -v, --json), the file-count thresholds, and usage errors, which
# are UNKNOWN (3) in the monitoring-plugin convention.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

# the small paired folder the wa-check tests share
. "$WA_TOP/tests/helpers/authfolder.sh"

cd "$T" || exit 1
mkfolder auth
before=$(tree_state auth)

expect_exit 0 "a healthy folder is OK" wa-check -d auth
is "$(lines "$T/out")" 1 "one line on stdout"
is "$(cat "$T/err")" "" "nothing on stderr"
like "$(cat "$T/out")" "WA OK - paired as 15550001111:3@s.whatsapp.net, 6 files | files=6;; " "summary line"
like "$(cat "$T/out")" " creds=1 pre_key=2 session=2 sender_key=0 " "perfdata per type (zeros too)"
like "$(cat "$T/out")" " lid_mapping=1 " "type names with _ in perfdata"
like "$(cat "$T/out")" " tmp=0 problems=0" "perfdata: temp files and problems"
unlike "$(cat "$T/out")" "silence=" "no silence without a status file"

WA_AUTH_DIR=auth expect_exit 0 "the folder from WA_AUTH_DIR" wa-check
like "$(cat "$T/out")" "WA OK - paired as" "  same summary"
expect_exit 0 "-v on a healthy folder" wa-check -v -d auth
is "$(lines "$T/out")" 1 "  only the summary line"

expect_exit 1 "more files than --warn-files: WARNING" wa-check -d auth --warn-files 5 --crit-files 10
like "$(cat "$T/out")" "WA WARNING - 'auth': 6 files, over the warning threshold of 5" "  names the count"
like "$(cat "$T/out")" "| files=6;5;10 " "  thresholds in the perfdata"
expect_exit 2 "more files than --crit-files: CRITICAL" wa-check -d auth --warn-files 2 --crit-files 5
like "$(cat "$T/out")" "WA CRITICAL - 'auth': 6 files, over the critical threshold of 5" "  critical wins"
expect_exit 0 "at the threshold: OK" wa-check -d auth --warn-files 6 --crit-files 6

# ---- --json ----
expect_exit 0 "--json on a healthy folder" wa-check --json -d auth
J=$(cat "$T/out")
is "$(lines "$T/out")" 1 "one line of JSON"
like "$J" '{"status":"ok","folder":"auth","account":"15550001111","me":"15550001111:3@s.whatsapp.net","lid":"99990001111:3@lid","platform":"android","paired":true,"files":6,' "status, account, paired, files"
like "$J" '"counts":{"creds":1,"pre-key":2,"session":2,"sender-key":0,' "counts by type name"
like "$J" '"lock":null,"run":null,"free_bytes":' "no lock, no status"
like "$J" '"backup":null,"problems":[]}' "no backup checked, no problems"
if command -v node >/dev/null 2>&1; then
	cp "$T/out" "$T/json"
	ok "the JSON parses" node -e 'JSON.parse(require("fs").readFileSync(0, "utf8"))' < "$T/json"
fi
printf '{"_sess' > auth/session-15550002222.0.json
expect_exit 2 "--json with a problem" wa-check --json -d auth
like "$(cat "$T/out")" '"status":"critical"' "  status critical"
like "$(cat "$T/out")" '"problems":[{"severity":"critical","kind":"session_corrupt","path":"auth/session-15550002222.0.json","message":"not valid JSON at byte 7 of 7: unexpected end of input (truncated); ' "  the problem with severity, kind, path and message"
like "$(cat "$T/out")" '"fix":"wa-prune -d '"'auth'"' --corrupt"}' "  and the fix"
expect_exit 2 "-v with a problem" wa-check -v -d auth
is "$(sed -n 2p "$T/out")" "CRITICAL: 'auth/session-15550002222.0.json': not valid JSON at byte 7 of 7: unexpected end of input (truncated); that contact gets Bad MAC errors: move it away with wa-prune --corrupt" "  -v lists it"
printf '{"_sessions":{},"version":"v1"}' > auth/session-15550002222.0.json
is "$(tree_state auth)" "$before" "wa-check changed nothing"

# ---- usage: UNKNOWN ----
expect_exit 0 "-h" wa-check -h
like "$(cat "$T/out")" "usage: wa-check [-hv] [--version] [-B dir] [-d dir]" "  usage on stdout"
expect_exit 3 "a bad option is UNKNOWN" wa-check --bogus -d auth
like "$(cat "$T/out")" "WA UNKNOWN - bad usage" "  plugin line on stdout"
like "$(cat "$T/err")" "usage: wa-check" "  usage on stderr"
expect_exit 3 "--warn-files x" wa-check -d auth --warn-files x
like "$(cat "$T/err")" "wa-check: --warn-files: 'x' is not a number" "  says which"
expect_exit 3 "--max-silence 5y" wa-check -d auth --max-silence 5y
like "$(cat "$T/err")" "'5y' is not a duration" "  says which"
expect_exit 3 "an operand" wa-check -d auth extra
like "$(cat "$T/err")" "unexpected argument 'extra'" "  names it"
expect_exit 3 "no folder at all" wa-check
is "$(cat "$T/out")" "WA UNKNOWN - no auth folder: pass -d DIR or set WA_AUTH_DIR" "  plugin line"
one_line_err "no folder"
expect_exit 3 "no folder, --json" wa-check --json
is "$(cat "$T/out")" '{"status":"unknown","error":{"kind":"no_folder","message":"no auth folder: pass -d DIR or set WA_AUTH_DIR"},"problems":[{"severity":"unknown","kind":"no_folder","message":"no auth folder: pass -d DIR or set WA_AUTH_DIR","fix":null}]}' "  JSON says unknown"
done_testing

#!/bin/sh
# 1006-wa-check-names: file names from disk reach the terminal escaped.
# A name with an ESC sequence or a newline (which would inject a fake
# "WA OK" line) is printed C-style (\033, \n) in the summary and in -v;
# a name that is not UTF-8 keeps its "path" in --json (invalid bytes as
# \xNN) and its raw bytes in "path_b64".
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"

# has FILE TEXT DESC: TEXT literally in FILE
has() {
	if grep -qF -- "$2" "$1"; then pass "$3"; else fail "$3" "'$2' not in:" "$(cat "$1")"; fi
}

cd "$T" || exit 1
mkfolder auth
esc=$(printf '\033')
nl_name=$(printf 'session-1.0\nWA OK - paired.json')
touch "auth/$nl_name"
touch "auth/$(printf 'session-2.0\033[2J\033]0;x\007.json')"
touch "auth/$(printf 'session-3.0\302\233.json')"   # U+009B, a C1 CSI
chmod 600 auth/*

expect_exit 2 "damaged names: CRITICAL" wa-check -v -d auth
is "$(grep -c '^WA OK' "$T/out")" 0 "no line starts with a fake 'WA OK'"
is "$(grep -c '^WA ' "$T/out")" 1 "one summary line"
is "$(tr -d -c '\033\007' < "$T/out" | wc -c | tr -d ' ')" 0 "no ESC or BEL byte in the output"
is "$(tr -d -c '\302\233' < "$T/out" | wc -c | tr -d ' ')" 0 "no C1 control in the output"
has "$T/out" 'session-1.0\nWA OK - paired.json' "newline shown as \\n"
has "$T/out" 'session-2.0\033[2J\033]0;x\007.json' "ESC and BEL shown as \\ooo"
has "$T/out" 'session-3.0\302\233.json' "C1 control shown as \\ooo"
is "$(lines "$T/out")" 4 "summary + one line per problem"

rm -f auth/session-[123].0*
bad=$(printf 'session-4.0\377\376.json')
touch "auth/$bad"
chmod 600 "auth/$bad"
expect_exit 2 "a name that is not UTF-8: CRITICAL" wa-check --json -d auth
cp "$T/out" "$T/json"
ok "the JSON is valid" jq -e . "$T/json"
is "$(jq -r '.problems[0].path' "$T/json")" 'auth/session-4.0\xff\xfe.json' "path present, bytes as \\xNN"
is "$(jq -r '.problems[0].path_b64' "$T/json" | base64 -d)" "auth/$bad" "path_b64 holds the raw bytes"
is "$(jq -r '.problems[0].kind' "$T/json")" session_corrupt "kind"
expect_exit 2 "text output of that name" wa-check -d auth
has "$T/out" 'session-4.0\377\376.json' "invalid bytes shown as \\ooo"
done_testing

#!/bin/sh
# 1103-modes-rule: one rule for key files readable by group or others
# (wa-authdir(5)), applied by all three tools: wa-check reports it as a
# WARNING (creds_mode, file_mode) naming the fix; wa-prune and wa-run,
# which write the folder, set such files to 0600 and say so (wa-prune -n
# only says it would); nothing refuses, nothing uses a 0644 creds.json
# silently.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"

cd "$T" || exit 1
mkfolder auth
chmod 644 auth/creds.json auth/session-15550002222.0.json
expect_exit 1 "wa-check: WARNING" wa-check -d auth -v
like "$(cat "$T/out")" "WARNING: 'auth/creds.json': mode 0644 lets group or others read secret keys" "wa-check names creds.json"
like "$(cat "$T/out")" "WARNING: 'auth/session-15550002222.0.json': mode 0644" "... and the session file"
wa-check -d auth --problems > "$T/k"
is "$(tr '\n' ' ' < "$T/k")" "creds_mode file_mode " "kinds creds_mode, file_mode"

expect_exit 0 "wa-prune -n: no refusal" wa-prune -n -d auth --tmp
like "$(cat "$T/err")" "note: 'auth/creds.json': mode 0644 let group or others read secret keys; would set it to 0600" "wa-prune -n says it would fix"
is "$(stat -c %a auth/creds.json)" 644 "... and changes nothing"
expect_exit 0 "wa-prune: no refusal" wa-prune -d auth --tmp
like "$(cat "$T/err")" "note: 'auth/creds.json': mode 0644 let group or others read secret keys; set to 0600" "wa-prune says so"
is "$(stat -c %a auth/creds.json auth/session-15550002222.0.json | tr '\n' ' ')" "600 600 " "wa-prune set both to 0600"
expect_exit 0 "wa-check OK afterwards" wa-check -d auth

# wa-run: same rule before it reads creds.json (an unpaired folder, so it
# stops right after: no server needed)
rm -rf run && mkfolder run unpaired
chmod 640 run/creds.json
expect_exit 66 "wa-run on an unpaired folder exits 66" wa-run -d run
like "$(cat "$T/err")" "/run/creds.json': mode 0640 let group or others read secret keys; set to 0600" "wa-run warns"
is "$(stat -c %a run/creds.json)" 600 "wa-run set it to 0600"

# a key file whose mode cannot be changed (not ours) is refused, 77
if [ "$(id -u)" = 0 ] && command -v chattr > /dev/null 2>&1 && chattr +i auth/pre-key-1.json 2>/dev/null; then
	chattr -i auth/pre-key-1.json; chmod 644 auth/pre-key-1.json; chattr +i auth/pre-key-1.json
	expect_exit 77 "wa-prune: a mode it cannot fix is refused (77)" wa-prune -d auth --tmp
	like "$(cat "$T/err")" "unable to set the mode of 'auth/pre-key-1.json' to 0600" "... naming the file"
	chattr -i auth/pre-key-1.json
else
	pass "# SKIP chattr +i needs root and a file system that has it"
	pass "# SKIP chattr +i"
fi
done_testing

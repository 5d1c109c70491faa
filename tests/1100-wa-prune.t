#!/bin/sh
# 1100-wa-prune: each selector picks exactly its files, printed one per
# line; files move into .wa/quarantine/STAMP/ (restorable with mv); -n
# prints the same list and changes nothing; creds.json is never picked;
# a selected symbolic link moves as the link; --purge deletes old runs
# only; contacts from arguments and from stdin ('-' only); usage errors.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

K32A=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=
K32B=ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=
K64=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA==
kp() { printf '{"private":{"type":"Buffer","data":"%s"},"public":{"type":"Buffer","data":"%s"}}' $K32A $K32B; }
creds() {
	printf '{"noiseKey":%s,"pairingEphemeralKeyPair":%s,"signedIdentityKey":%s,' "$(kp)" "$(kp)" "$(kp)"
	printf '"signedPreKey":{"keyPair":%s,"signature":{"type":"Buffer","data":"%s"},"keyId":1},' "$(kp)" $K64
	printf '"registrationId":1234,"advSecretKey":"%s","nextPreKeyId":31,"firstUnuploadedPreKeyId":31,' $K32A
	printf '"me":{"id":"15550001111:3@s.whatsapp.net"},'
	printf '"account":{"details":"%s","accountSignatureKey":"%s","accountSignature":"%s","deviceSignature":"%s"}}' \
	    $K32A $K32B $K64 $K64
}
SESS='{"_sessions":{},"version":"v1"}'
# mkfolder DIR: sessions of a phone-number contact (2 devices), of a LID
# contact known by its phone number, sender keys, pre-keys (one unusable),
# a corrupt device list, leftovers in the folder and in .wa/tmp
mkfolder() {
	mkdir -m 700 "$1" "$1/.wa" "$1/.wa/tmp"
	creds > "$1/creds.json"
	kp > "$1/pre-key-1.json"
	kp > "$1/pre-key-2.json"
	kp > "$1/pre-key-40.json"
	kp > "$1/pre-key-007.json"
	printf '{"private":1}' > "$1/pre-key-3.json"
	printf '%s' "$SESS" > "$1/session-15550002222.0.json"
	printf '%s' "$SESS" > "$1/session-15550002222.5.json"
	printf '%s' "$SESS" > "$1/session-99990003333_1.0.json"
	printf '%s' "$SESS" > "$1/session-99990003333_1.2.json"
	printf '%s' "$SESS" > "$1/session-15550004444.0.json"
	printf '"99990003333"' > "$1/lid-mapping-15550003333.json"
	printf '"15550003333"' > "$1/lid-mapping-99990003333_reverse.json"
	printf '{"type":"Buffer","data":"W10="}' > "$1/sender-key-120363000000000000@g.us--15550002222--0.json"
	printf '{"15550002222:0@s.whatsapp.net":true}' > "$1/sender-key-memory-120363000000000000@g.us.json"
	printf '["0",' > "$1/device-list-15550002222.json"
	printf 'half' > "$1/.wa-tmp.session-x.json.9.aabbccddeeff"
	printf 'half' > "$1/.wa/tmp/.wa-tmp.creds.json.9.001122334455"
	printf 'not ours\n' > "$1/notes.txt"
	chmod 600 "$1"/*.json "$1"/.wa-tmp.* "$1"/.wa/tmp/.wa-tmp.*
}
q() { ls auth/.wa/quarantine; }
out() { cat "$T/out"; }
nl2sp() { tr '\n' ' ' < "$T/out"; }

cd "$T" || exit 1
export LC_ALL=C

# ---- -n lists, changes nothing (not even .wa/lock) ----
mkfolder auth
rm -rf auth/.wa
before=$(tree_state auth)
expect_exit 0 "-n --sessions" wa-prune -n -d auth --sessions
is "$(nl2sp)" "session-15550002222.0.json session-15550002222.5.json session-15550004444.0.json session-99990003333_1.0.json session-99990003333_1.2.json " "every session listed"
is "$(cat "$T/err")" "" "  nothing on stderr"
is "$(tree_state auth)" "$before" "  nothing changed, no .wa made"
rm -rf auth

# ---- --sessions ----
mkfolder auth
expect_exit 0 "--sessions (all)" wa-prune -d auth --sessions
is "$(nl2sp)" "session-15550002222.0.json session-15550002222.5.json session-15550004444.0.json session-99990003333_1.0.json session-99990003333_1.2.json " "every session printed"
is "$(ls auth | grep -c '^session-')" 0 "  none left"
is "$(q | wc -l | tr -d ' ')" 1 "  one quarantine run"
stamp=$(q)
case $stamp in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z-[0-9]*) pass "  run named YYYYmmddTHHMMSSZ-PID ($stamp)" ;; *) fail "  run named by stamp" "$stamp" ;; esac
is "$(ls auth/.wa/quarantine/$stamp | tr '\n' ' ')" "$(nl2sp)" "  the same files are in it"
is "$(cat "$T/err")" "wa-prune: moved 5 files into 'auth/.wa/quarantine/$stamp' (move them back to undo)" "  where they went, on stderr"
is "$(stat -c %a auth/.wa/quarantine auth/.wa/quarantine/$stamp | tr '\n' ' ')" "700 700 " "  quarantine folders are 0700"
test -f auth/creds.json && test -f auth/pre-key-1.json && test -f auth/.wa-tmp.session-x.json.9.aabbccddeeff
is "$?" 0 "  creds, pre-keys and leftovers stay"
wa-check --json -d auth > "$T/check"
like "$(cat "$T/check")" '"lock":{"held":false,"stale":false,"foreign":false,"pid":null' "  the lock is released"
mv auth/.wa/quarantine/$stamp/* auth/
is "$(ls auth | grep -c '^session-')" 5 "undo: mv puts them back"
rm -rf auth

mkfolder auth
expect_exit 0 "--sessions of contacts" wa-prune -d auth --sessions 15550002222@s.whatsapp.net 15550003333:2@s.whatsapp.net 15550009999@s.whatsapp.net
is "$(nl2sp)" "session-15550002222.0.json session-15550002222.5.json session-99990003333_1.2.json " "every device of the first, device 2 of the LID-mapped one"
like "$(cat "$T/err")" "wa-prune: note: no session of '15550009999@s.whatsapp.net' in 'auth'" "  a contact without sessions is noted"
expect_exit 0 "--sessions by Signal address" wa-prune -d auth --sessions 99990003333_1.0
is "$(out)" "session-99990003333_1.0.json" "  exactly that file"
expect_exit 0 "-n --sessions - (stdin)" sh -c 'printf "# bad MAC list\n\n  15550004444@s.whatsapp.net  \r\n" | wa-prune -n -d auth --sessions -'
is "$(out)" "session-15550004444.0.json" "  contacts read from stdin"
expect_exit 0 "--sessions - with empty stdin selects nothing" sh -c 'wa-prune -d auth --sessions - < /dev/null'
is "$(out)" "" "  nothing printed"
like "$(cat "$T/err")" "no contacts on stdin" "  noted"
is "$(ls auth | grep -c '^session-')" 1 "  the last session is still there"
expect_exit 0 "--sessions without '-' never reads stdin (selects all)" sh -c 'echo 15550002222@s.whatsapp.net | wa-prune -n -d auth --sessions'
is "$(out)" "session-15550004444.0.json" "  all sessions, the pipe ignored"
expect_exit 64 "a bad contact on stdin" sh -c 'printf "15550004444@s.whatsapp.net\n120363@g.us\n" | wa-prune -d auth --sessions -'
is "$(cat "$T/err")" "wa-prune: stdin line 2: '120363@g.us': not a contact's JID (server 'g.us'); group state is in sender keys: use --sender-keys" "  names the line"
test -f auth/session-15550004444.0.json
is "$?" 0 "  nothing moved"
rm -rf auth

# ---- durability at a constant cost: every move is a rename, then one
# fsync per folder involved after the last one (test builds log each
# storage operation to WA_TEST_OPLOG) ----
mkfolder auth
expect_exit 0 "--sessions --tmp with the operation log" env WA_TEST_OPLOG="$T/oplog" wa-prune -d auth --sessions --tmp
cut -d' ' -f2 "$T/oplog" | uniq -c | sed 's/^ *//' | tr '\n' ' ' > "$T/ops"
is "$(cat "$T/ops")" "1 mkdir 1 fsyncdir 1 mkdir 1 fsyncdir 7 move 3 fsyncdir " \
    "make the run folder, 7 renames, then 3 fsyncs (run folder, auth folder, .wa/tmp)"
rm -rf auth "$T/oplog"

# ---- --sender-keys, --tmp, --corrupt, --pre-keys ----
mkfolder auth
expect_exit 0 "--sender-keys" wa-prune -d auth --sender-keys
is "$(nl2sp)" "sender-key-120363000000000000@g.us--15550002222--0.json sender-key-memory-120363000000000000@g.us.json " "sender keys and sender-key memory"
expect_exit 0 "--tmp" wa-prune -d auth --tmp
is "$(nl2sp)" ".wa-tmp.session-x.json.9.aabbccddeeff .wa/tmp/.wa-tmp.creds.json.9.001122334455 " "leftovers in the folder and in .wa/tmp"
is "$(ls -A auth/.wa/tmp)" "" "  .wa/tmp is empty"
expect_exit 0 "--pre-keys" wa-prune -d auth --pre-keys
is "$(nl2sp)" "pre-key-007.json pre-key-3.json " "a name no message uses, a malformed pair; pre-key-40 (>= nextPreKeyId) kept"
printf '{"_sessions":{"BQ==":' > auth/session-15550004444.0.json
printf '' > auth/app-state-sync-version-regular.json
printf '{' > auth/other.json
chmod 600 auth/*.json
expect_exit 0 "--corrupt" wa-prune -d auth --corrupt
is "$(nl2sp)" "app-state-sync-version-regular.json device-list-15550002222.json other.json session-15550004444.0.json " "every file that does not parse"
expect_exit 0 "wa-check agrees afterwards" wa-check -d auth
is "$(q | wc -l | tr -d ' ')" 4 "four runs, four quarantine folders"
rm -rf auth

mkfolder auth
: > auth/creds.json.bak
printf '{"broken' > auth/creds.json
expect_exit 65 "--corrupt with a torn creds.json: refused" wa-prune -d auth --corrupt
is "$(cat "$T/err")" "wa-prune: 'auth/creds.json': not valid JSON at byte 8 of 8: unexpected end of input; restore it with wa-restore (wa-prune never touches creds.json)" "  points to wa-restore"
creds > auth/creds.json
rm auth/creds.json.bak

# ---- several selectors, one run ----
expect_exit 0 "--sessions --sender-keys --tmp --corrupt --pre-keys" wa-prune -d auth --sessions --sender-keys --tmp --corrupt --pre-keys
is "$(out | wc -l | tr -d ' ')" 12 "12 files (5 sessions, 2 sender keys, 2 leftovers, 1 corrupt, 2 pre-keys)"
is "$(ls -A auth | tr '\n' ' ')" ".wa creds.json lid-mapping-15550003333.json lid-mapping-99990003333_reverse.json notes.txt pre-key-1.json pre-key-2.json pre-key-40.json " "what is left"
expect_exit 0 "nothing left to prune" wa-prune -d auth --sessions --sender-keys --tmp --corrupt --pre-keys
is "$(out)" "" "  nothing printed"
is "$(q | wc -l | tr -d ' ')" 1 "  no empty quarantine run made"
rm -rf auth

# ---- a symlink is moved as the link ----
mkfolder auth
printf '{"precious":true}' > target.json
ln -s "$T/target.json" auth/session-15550007777.0.json
sum=$(sha256sum < target.json)
expect_exit 0 "--sessions with a symlinked session" wa-prune -d auth --sessions 15550007777
is "$(out)" "session-15550007777.0.json" "  the link is selected"
test -L "auth/.wa/quarantine/$(q)/session-15550007777.0.json"
is "$?" 0 "  it is a link in quarantine"
is "$(sha256sum < target.json)" "$sum" "  its target is untouched"
is "$(readlink "auth/.wa/quarantine/$(q)/session-15550007777.0.json")" "$T/target.json" "  and still points there"
rm -rf auth

# ---- --purge ----
mkfolder auth
mkdir -m 700 auth/.wa/quarantine auth/.wa/quarantine/20200101T000000Z-1 auth/.wa/quarantine/20200101T000000Z-1/sub \
    auth/.wa/quarantine/keep-me "auth/.wa/quarantine/$(date -u -d '1 hour ago' +%Y%m%dT%H%M%SZ)-2"
printf '{}' > auth/.wa/quarantine/20200101T000000Z-1/session-old.json
printf '{}' > auth/.wa/quarantine/20200101T000000Z-1/sub/x.json
ln -s "$T/target.json" auth/.wa/quarantine/20200101T000000Z-1/link.json
before=$(tree_state auth)
expect_exit 0 "-n --purge 30" wa-prune -n -d auth --purge 30
is "$(out)" ".wa/quarantine/20200101T000000Z-1" "  the old run listed"
is "$(tree_state auth)" "$before" "  nothing deleted"
expect_exit 0 "--purge 30" wa-prune -d auth --purge 30
is "$(out)" ".wa/quarantine/20200101T000000Z-1" "  the old run deleted"
is "$(ls auth/.wa/quarantine | wc -l | tr -d ' ')" 2 "  the hour-old run and the foreign folder stay"
test -d auth/.wa/quarantine/keep-me && test -f target.json
is "$?" 0 "  a folder that is not a run, and a link's target, are untouched"
expect_exit 0 "--sessions --purge 0: prunes, then purges earlier runs" wa-prune -d auth --sessions --purge 0
is "$(out | grep -c '^session-')" 5 "  five sessions moved"
is "$(out | grep -c '^.wa/quarantine/')" 1 "  the hour-old run purged"
is "$(ls auth/.wa/quarantine | wc -l | tr -d ' ')" 2 "  this run's folder is kept (and keep-me)"

# ---- usage ----
expect_exit 0 "-h" wa-prune -h
like "$(out)" "usage: wa-prune [-hn] [--version] [-d dir]" "  usage on stdout"
expect_exit 64 "no selector" wa-prune -d auth
like "$(cat "$T/err")" "wa-prune: nothing to do: give --sessions, --sender-keys, --tmp, --corrupt, --pre-keys or --purge" "  says what to give"
expect_exit 64 "contacts without --sessions" wa-prune -d auth --tmp 15550002222
like "$(cat "$T/err")" "'15550002222': contacts are only for --sessions" "  says so"
expect_exit 64 "a bad contact" wa-prune -d auth --sessions '../../etc/passwd'
like "$(cat "$T/err")" "wa-prune: '../../etc/passwd': not a contact (JID, Signal address or user)" "  names it"
expect_exit 64 "--purge x" wa-prune -d auth --purge x
expect_exit 64 "no folder" wa-prune --sessions
like "$(cat "$T/err")" "no auth folder: pass -d DIR or set WA_AUTH_DIR" "  says how"
WA_AUTH_DIR=auth expect_exit 0 "the folder from WA_AUTH_DIR" wa-prune -n --pre-keys
done_testing

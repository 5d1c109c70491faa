#!/bin/sh
# 1301-wa-send-bad: bad input to wa-send is refused with one line that
# names what and why, the exit code of cmd/exitcode.h, and nothing in the
# outbox's new/ or tmp/ afterwards: malformed numbers and JIDs, bad ids
# and emoji, empty, oversized and non-UTF-8 text, a symlinked outbox, an
# unpaired or missing auth folder.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"

cd "$T" || exit 1
mkfolder auth
OUT=auth.outbox
mkdir -m 700 "$OUT"

# refused CODE DESC WANT CMD...: exit CODE, one line on stderr holding
# WANT, and nothing queued or half-written
refused() {
	_c=$1 _d=$2 _w=$3; shift 3
	expect_exit "$_c" "$_d: exit $_c" "$@"
	one_line_err "$_d"
	like "$(cat "$T/err")" "$_w" "$_d: says $_w"
	is "$(find "$OUT" -type f | wc -l | tr -d ' ')" 0 "$_d: nothing in new/ or tmp/"
}
# usage_refused DESC WANT CMD...: a usage error: exit 64, WANT on the
# first line of stderr, then the usage
usage_refused() {
	_d=$1 _w=$2; shift 2
	expect_exit 64 "$_d: exit 64" "$@"
	like "$(head -n 1 "$T/err")" "$_w" "$_d: says $_w"
	like "$(sed -n 2p "$T/err")" "usage: wa-send" "$_d: then the usage"
	is "$(find "$OUT" -type f | wc -l | tr -d ' ')" 0 "$_d: nothing in new/ or tmp/"
}

for to in x 12345 0301234567 "+1 555 abc" "++15550002222" 1234567890123456 abc@s.whatsapp.net \
    15550002222:3@s.whatsapp.net 15550002222@broadcast @s.whatsapp.net "15550002222@g.us@x" ""; do
	refused 64 "TO '$to'" "wa-send: \"$to\": not a phone number or JID" wa-send -d auth "$to" hi
done
mkfolder fresh
expect_exit 64 "a bad TO with no outbox yet: exit 64" wa-send -d fresh 12345 hi
[ ! -e fresh.outbox ] && pass "a bad TO with no outbox yet: no outbox made" ||
    fail "a bad TO with no outbox yet: no outbox made"
expect_exit 65 "an empty text with no outbox yet: exit 65" wa-send -d fresh 15550002222 ""
[ ! -e fresh.outbox ] && pass "an empty text with no outbox yet: no outbox made" ||
    fail "an empty text with no outbox yet: no outbox made"
refused 64 "a bad --participant" '--participant "120363000000000001@g.us": not a phone number or user JID' \
    wa-send -d auth --participant 120363000000000001@g.us --reply-to A1 120363000000000001@g.us hi
refused 64 "a bad --reply-to id" '--reply-to "3EB0-1": not a message id' wa-send -d auth --reply-to 3EB0-1 15550002222 hi
refused 64 "a bad --id" '--id "../x": not a message id' wa-send -d auth --id ../x 15550002222 hi
refused 64 "an --id over 64 bytes" 'not a message id' \
    wa-send -d auth --id "$(head -c 65 /dev/zero | tr '\0' A)" 15550002222 hi
refused 64 "a bad --react id" '--react "a b": not a message id' wa-send -d auth --react "a b" 15550002222 x
refused 64 "an emoji over 32 bytes" 'not "" (remove) or 1 to 32 bytes of UTF-8' \
    wa-send -d auth --react A1 15550002222 "$(head -c 33 /dev/zero | tr '\0' x)"
refused 64 "an emoji that is not UTF-8" 'emoji "?": not' wa-send -d auth --react A1 15550002222 "$(printf '\377')"
refused 64 "a bad id in --read" '--read "B/2": not a message id' wa-send -d auth --read A1,B/2 15550002222
refused 64 "an empty --read" '--read "": not a message id' wa-send -d auth --read , 15550002222
refused 64 "--read in a group without --participant" "pass --participant" \
    wa-send -d auth --read A1 120363000000000001@g.us
usage_refused "--react and --read" "--react and --read: choose one" wa-send -d auth --react A1 --read A2 15550002222
usage_refused "--reply-to with --revoke" "--reply-to: only for a text" wa-send -d auth --reply-to A1 --revoke A2 15550002222
usage_refused "--participant with --revoke" "--participant: only with --reply-to, --react or --read" \
    wa-send -d auth --participant 15550003333 --revoke A2 120363000000000001@g.us
usage_refused "--participant without --reply-to" "--participant: only with" \
    wa-send -d auth --participant 15550003333 120363000000000001@g.us hi
usage_refused "too many operands" "too many arguments" wa-send -d auth 15550002222 hi there
usage_refused "a bad --wait" "--wait: 'soon' is not a number of seconds" wa-send -d auth --wait=soon 15550002222 hi

refused 65 "an empty text" "the text is empty" wa-send -d auth 15550002222 ""
refused 65 "an empty text on stdin" "the text is empty" sh -c 'printf "\n" | wa-send -d auth 15550002222 -'
head -c 65537 /dev/zero | tr '\0' x > "$T/big"
refused 65 "a text of 65537 bytes" "the text is over 65536 bytes" sh -c "wa-send -d auth 15550002222 - < '$T/big'"
refused 65 "a text that is not UTF-8" "the text is not valid UTF-8" wa-send -d auth 15550002222 "$(printf 'caf\351')"
refused 65 "a text with a NUL byte" "the text is not valid UTF-8" sh -c "printf 'a\\000b' | wa-send -d auth 15550002222"

# the folders
mkdir -m 700 real.outbox
ln -s real.outbox link.outbox
expect_exit 77 "a symlinked outbox: exit 77" wa-send -d auth --outbox link.outbox 15550002222 hi
one_line_err "a symlinked outbox"
like "$(cat "$T/err")" "'link.outbox' is a symbolic link" "a symlinked outbox: named, and why"
is "$(find real.outbox -type f | wc -l | tr -d ' ')" 0 "a symlinked outbox: nothing written through it"
mkdir -m 700 sub.outbox sub.outbox/elsewhere
ln -s elsewhere sub.outbox/new
expect_exit 77 "a symlinked new/: exit 77" wa-send -d auth --outbox sub.outbox 15550002222 hi
like "$(cat "$T/err")" "sub.outbox/new' is not a real folder" "a symlinked new/: named"
is "$(find sub.outbox -type f | wc -l | tr -d ' ')" 0 "a symlinked new/: nothing written"

mkfolder unpaired unpaired
expect_exit 66 "an unpaired folder: exit 66" wa-send -d unpaired 15550002222 hi
one_line_err "an unpaired folder"
like "$(cat "$T/err")" "'unpaired/creds.json' is not paired" "an unpaired folder: says so"
[ ! -e unpaired.outbox ] && pass "an unpaired folder: no outbox made" || fail "an unpaired folder: no outbox made"
expect_exit 66 "a missing folder: exit 66" wa-send -d nowhere 15550002222 hi
one_line_err "a missing folder"
like "$(cat "$T/err")" "nowhere" "a missing folder: named"
[ ! -e nowhere.outbox ] && pass "a missing folder: no outbox made" || fail "a missing folder: no outbox made"
expect_exit 66 "an outbox whose parent is missing: exit 66" wa-send -d auth --outbox no/such/outbox 15550002222 hi
like "$(cat "$T/err")" "no/such/outbox" "an outbox whose parent is missing: named"
expect_exit 64 "no folder at all: exit 64" wa-send 15550002222 hi
like "$(cat "$T/err")" "no auth folder: pass -d DIR or set WA_AUTH_DIR" "no folder at all: says so"

# a duplicate --id: refused, the first job untouched
ok "a job with --id" wa-send -d auth --id DUP1 15550002222 first
f=$(find "$OUT/new" -type f)
expect_exit 73 "the same --id again: exit 73" wa-send -d auth --id DUP1 15550002222 second
one_line_err "the same --id again"
like "$(cat "$T/err")" "a job with id DUP1 is already in" "the same --id again: says so"
is "$(find "$OUT/new" "$OUT/tmp" -type f)" "$f" "the same --id again: only the first job"
is "$(jq -r .text "$f")" first "the same --id again: the first job untouched"
done_testing

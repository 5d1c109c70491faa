#!/bin/sh
# 1300-wa-send: each form of wa-send writes one job into the outbox's
# new/ with the fields of wa-message(5) OUTBOX, prints its id (a fresh
# 3EB0... id, or --id as given), normalises TO, reads the text from the
# argument or stdin, and makes the outbox 0700 with 0600 files.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"

cd "$T" || exit 1
mkfolder auth
OUT=auth.outbox

# job ID: the job with that id as sorted compact JSON, without created_ms
job() { wa-outbox-tool find "$OUT" "$1" | sed 's/"created_ms":[0-9]*,//'; }
newcount() { find "$OUT/new" -type f | wc -l | tr -d ' '; }

before=$(($(date +%s) * 1000))
ok "a text to a phone number" wa-send -d auth "+1 (555) 000-2222" "hello there"
id=$(cat "$T/out")
is "$(lines "$T/out")" 1 "one line on stdout"
case $id in 3EB0[0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F])
	pass "the id is 3EB0 and 18 uppercase hex digits" ;;
*) fail "the id is 3EB0 and 18 uppercase hex digits" "got '$id'" ;; esac
is "$(cat "$T/err")" "" "nothing on stderr"
is "$(newcount)" 1 "one job in new/"
f=$(find "$OUT/new" -type f)
name=${f##*/}
case $name in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9].[0-9]*_[0-9][0-9][0-9][0-9][0-9][0-9].$id)
	pass "the name is MS.PID_COUNTER.ID" ;;
*) fail "the name is MS.PID_COUNTER.ID" "got '$name'" ;; esac
is "$(job "$id")" "{\"id\":\"$id\",\"text\":\"hello there\",\"to\":\"15550002222@s.whatsapp.net\",\"type\":\"text\",\"v\":1}" \
    "the text job: v, id, to normalised, type, text"
created=$(jq .created_ms "$f")
after=$(($(date +%s) * 1000 + 1000))
[ "$created" -ge "$before" ] && [ "$created" -le "$after" ] && pass "created_ms is now" ||
    fail "created_ms is now" "$before <= $created <= $after"
is "$(stat -c %a "$OUT") $(stat -c %a "$OUT/new") $(stat -c %a "$OUT/tmp") $(stat -c %a "$OUT/cur") $(stat -c %a "$OUT/status")" \
    "700 700 700 700 700" "the outbox and its folders are 0700"
is "$(stat -c %a "$f")" 600 "the job file is 0600"
is "$(find "$OUT/tmp" -type f | wc -l | tr -d ' ')" 0 "nothing left in tmp/"
[ ! -e "$OUT/.wa" ] && pass "wa-send takes no lock (no .wa)" || fail "wa-send takes no lock (no .wa)"

ok "a text from stdin (-)" sh -c 'printf "line one\nline two\n" | wa-send -d auth 15550002222@c.us -'
id=$(cat "$T/out")
is "$(job "$id")" "{\"id\":\"$id\",\"text\":\"line one\\nline two\",\"to\":\"15550002222@s.whatsapp.net\",\"type\":\"text\",\"v\":1}" \
    "stdin: the text without its final newline; c.us becomes s.whatsapp.net"
ok "a text from stdin (no operand)" sh -c 'printf "ümlaut 👍" | WA_AUTH_DIR=auth wa-send 99990002222@lid'
id=$(cat "$T/out")
is "$(job "$id")" "{\"id\":\"$id\",\"text\":\"ümlaut 👍\",\"to\":\"99990002222@lid\",\"type\":\"text\",\"v\":1}" \
    "no operand: stdin; WA_AUTH_DIR; a LID"
head -c 65536 /dev/zero | tr '\0' x > "$T/max"
ok "a text of exactly 65536 bytes" sh -c "wa-send -d auth 15550002222 - < '$T/max'"
is "$(jq -r .text "$OUT"/new/*."$(cat "$T/out")" | wc -c | tr -d ' ')" 65537 "all of it in the job"

ok "a reply in a group" wa-send -d auth --reply-to 3EB0QUOTED01 --participant "+1 555 000 3333" \
    120363000000000001@g.us "the answer"
id=$(cat "$T/out")
is "$(job "$id")" "{\"id\":\"$id\",\"reply_to\":{\"id\":\"3EB0QUOTED01\",\"participant\":\"15550003333@s.whatsapp.net\"},\"text\":\"the answer\",\"to\":\"120363000000000001@g.us\",\"type\":\"text\",\"v\":1}" \
    "reply_to with the quoted id and its author"

ok "--id is used as given" wa-send -d auth --id MYID0001 15550002222 "with my id"
is "$(cat "$T/out")" MYID0001 "--id: printed"
is "$(job MYID0001 | jq -r .id)" MYID0001 "--id: the job's id"
ls "$OUT"/new/*.MYID0001 > /dev/null 2>&1 && pass "--id: in the file name" || fail "--id: in the file name"

ok "a reaction" wa-send -d auth --react 3EB0THEIRS 15550002222 "👍"
id=$(cat "$T/out")
is "$(job "$id")" "{\"emoji\":\"👍\",\"id\":\"$id\",\"target\":{\"from_me\":false,\"id\":\"3EB0THEIRS\"},\"to\":\"15550002222@s.whatsapp.net\",\"type\":\"reaction\",\"v\":1}" \
    "the reaction job: target (not ours), emoji"
ok "a reaction to one of ours, removed" wa-send -d auth --react MYID0001 15550002222 ""
id=$(cat "$T/out")
is "$(job "$id")" "{\"emoji\":\"\",\"id\":\"$id\",\"target\":{\"from_me\":true,\"id\":\"MYID0001\"},\"to\":\"15550002222@s.whatsapp.net\",\"type\":\"reaction\",\"v\":1}" \
    "a message found in the outbox is from_me; \"\" removes"
ok "a reaction in a group" wa-send -d auth --participant 15550003333 --react 3EB0G1 120363000000000001@g.us "❤️"
is "$(job "$(cat "$T/out")" | jq -c .target)" '{"from_me":false,"id":"3EB0G1","participant":"15550003333@s.whatsapp.net"}' \
    "group reaction: the author as participant"

ok "read receipts" wa-send -d auth --read 3EB0A1,3EB0B2 --participant 99990003333@lid 120363000000000001@g.us
id=$(cat "$T/out")
is "$(job "$id")" "{\"id\":\"$id\",\"ids\":[\"3EB0A1\",\"3EB0B2\"],\"participant\":\"99990003333@lid\",\"to\":\"120363000000000001@g.us\",\"type\":\"read\",\"v\":1}" \
    "the read job: ids, participant"
ok "read receipts 1:1" wa-send -d auth --read 3EB0C3 15550002222
is "$(job "$(cat "$T/out")" | jq -c '[.type, .ids, .participant]')" '["read",["3EB0C3"],null]' "1:1: no participant"

ok "a revoke" wa-send -d auth --revoke MYID0001 15550002222
id=$(cat "$T/out")
is "$(job "$id")" "{\"id\":\"$id\",\"target\":{\"id\":\"MYID0001\"},\"to\":\"15550002222@s.whatsapp.net\",\"type\":\"revoke\",\"v\":1}" \
    "the revoke job: target"

ok "--outbox DIR" wa-send -d auth --outbox other.outbox 15550002222 "elsewhere"
is "$(find other.outbox/new -type f | wc -l | tr -d ' ')" 1 "--outbox: the job is there"
is "$(wa-outbox-tool find other.outbox "$(cat "$T/out")" | jq -r .text)" elsewhere "--outbox: its text"

ok "a text starting with a dash" wa-send -d auth 15550002222 "-5 degrees"
is "$(job "$(cat "$T/out")" | jq -r .text)" "-5 degrees" "options end at the first operand"

# every job is valid for the runner, and names sort in submission order
wa-outbox-tool queued "$OUT" > "$T/q"
is "$(lines "$T/q")" "$(newcount)" "the runner lists every job"
is "$(cat "$T/q")" "$(sort "$T/q")" "queued in name order"
bad=0
while read -r n; do wa-outbox-tool load "$OUT" "$n" > /dev/null 2>> "$T/loaderr" || bad=$((bad + 1)); done < "$T/q"
is "$bad" 0 "every job loads and passes the runner's check"
done_testing

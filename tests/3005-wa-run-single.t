#!/bin/sh
# 3005-wa-run-single: one wa-run per folder.  While one runs online, a
# second wa-run on the same folder (given as the same path, and through a
# different path to it) exits 75 at once, naming the holder (pid and
# program), without connecting and without writing anything; a writing
# tool (wa-prune) is refused the same way.  The first is undisturbed: no
# disconnect, no new login at fakewa, its status file still its own, and
# it stops cleanly afterwards, after which a new wa-run takes the folder.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl > /dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
A=$T/a
run_folder "$A" || { fail "a Baileys folder"; done_testing; exit 1; }

run_start "$A"
expect_event "the first wa-run is online" '"event":"online"'
expect_event "... and has checked the pre-keys" '"event":"prekeys"'
FIRST=$RUN_PID
FIRST_EV=$RUN_EV
s=$(fakewa_call GET /info | fakewa_field seq)
wa_state() { tree_state "$A" | grep -v -e '^\./\.wa/status\.json ' -e '^\./\.wa/events\.jsonl '; }
wa_state > "$T/before"
cp "$A/.wa/events.jsonl" "$T/events.before"

t0=$(date +%s%3N)
expect_exit 75 "a second wa-run on the folder: exit 75" wa-run -d "$A"
t1=$(date +%s%3N)
if [ $((t1 - t0)) -lt 2000 ]; then pass "... at once ($((t1 - t0)) ms)"; else fail "at once" "$((t1 - t0)) ms"; fi
one_line_err "second wa-run"
like "$(cat "$T/err")" "pid $FIRST (wa-run)" "the message names the holder: pid $FIRST (wa-run)"
like "$(cat "$T/err")" "$A" "the message names the folder"
is "$(cat "$T/out")" "" "the second printed no event"
ln -s "$T" "$T/link"
expect_exit 75 "through another path to the folder: exit 75" wa-run -d "$T/link/a"
like "$(cat "$T/err")" "pid $FIRST (wa-run)" "... naming the same holder"
expect_exit 75 "a writing tool (wa-prune --tmp): exit 75" wa-prune --tmp -d "$A"
like "$(cat "$T/err")" "pid $FIRST (wa-run)" "... naming the holder"

is "$(wa_state)" "$(cat "$T/before")" "the refused ones changed nothing in the folder"
cmp -s "$T/events.before" "$A/.wa/events.jsonl" && pass "the refused ones wrote nothing to the event history" ||
	fail "event history untouched" "$(diff "$T/events.before" "$A/.wa/events.jsonl" | head -5)"
is "$(fakewa_call GET "/log?event=open&since=$s" | grep -c '"event":"open"')" 0 "the refused ones never connected"
ok "the first is still running" kill -0 "$FIRST"
is "$(grep -c '"event":"disconnect"' "$FIRST_EV")" 0 "the first was not disconnected"
is "$(status_field pid "$A")/$(status_field state "$A")" "$FIRST/online" "status.json: still the first, online"
r=$(fakewa_call GET /connections)
like "$r" '"state":"open"' "fakewa: the first's connection is still open"

kill -TERM "$FIRST"
run_wait
is "$RC" 0 "the first stops cleanly: exit 0"
run_start "$A"
expect_event "then a new wa-run takes the folder and goes online" '"event":"online"'
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "... and stops: exit 0"
done_testing

#!/bin/sh
# 1550-recv-crashstate: crash-state replay of the receive path (issue 11;
# RELIABILITY.md "Crash-state replay", R2).  One wa-recv-feed run takes 40
# real Signal stanzas (tests/fakewa/recv-stanzas.mjs: a new peer's pkmsgs,
# a contact's msgs, and a group with its sender keys) with
# WA_TEST_CRASHLOG set; tests/crashsim/crashsim.mjs then builds every
# crash state of that run (prefix, fsync-forced, lost unforced operations
# in a window, torn last write) and in each one checks
# (tests/crashsim/recv-check.mjs): every message whose receipt left is a
# complete file in INBOX/new after the spool's recovery; no file in new/
# is partial, no id twice; the key store loads (wa-check); and after the
# server redelivers what was not acknowledged, each of the 40 messages is
# there exactly once with its text.  Every state also gets crashsim's own
# check: each file of the auth folder and each message file is a complete
# version that was once written.
#
# The full checker runs on WA_CRASH_CHECKS (default 400) of the distinct
# states, chosen evenly; WA_LONG=1 (make check-long) checks them all and
# records a longer burst.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

have_node || skip_all "node or tests/fakewa/node_modules missing (scripts/install-deps)"
if ! command -v wa-recv-feed > /dev/null 2>&1; then
	[ -f "$WA_TOP/tests/helpers/wa-recv-feed.c" ] &&
		{ echo "Bail out! wa-recv-feed is not built (make tests)"; exit 1; }
	skip_all "no tests/helpers/wa-recv-feed.c yet (the receive pipeline's driver)"
fi

COUNT=40 CHECKS=${WA_CRASH_CHECKS:-400} BATCH=8
[ "${WA_LONG:-0}" = 1 ] && { COUNT=120; CHECKS=1000000; }
SCRATCH=$T/scratch
[ -d /dev/shm ] && [ -w /dev/shm ] && SCRATCH=$(mktemp -d /dev/shm/wa-crashsim.XXXXXX)
cleanup_scratch() { rm -rf "$SCRATCH"; }
on_exit cleanup_scratch

# the folder: paired, one contact with sessions both ways (its peer state
# beside it), pre-keys; made anew each run (baileys_folder caches no peer state)
mkdir -m 700 "$T/run"
node "$WA_TOP/tests/fakewa/mkauth.mjs" "$T/run/auth" --contacts 1 --groups 0 --prekeys 30 \
    --seed recv-crash --peer-state "$T/peers.json" 2> "$T/mkauth.err" ||
	{ echo "Bail out! mkauth failed: $(cat "$T/mkauth.err")"; exit 1; }
ok "40 stanzas from two peers and a group" sh -c "node '$WA_TOP/tests/fakewa/recv-stanzas.mjs' '$T/run/auth' \
    --count $COUNT --peers 1 --peer-state '$T/peers.json' --seed recv-crash --expect '$T/expect' > '$T/stanzas'"
is "$(wc -l < "$T/stanzas" | tr -d ' ')" "$COUNT" "one stanza per message"
like "$(cat "$T/stanzas")" '"type":"skmsg"' "group stanzas among them"

cp -a "$T/run" "$T/snap"
ok "wa-recv-feed takes them with WA_TEST_CRASHLOG" sh -c \
    "WA_TEST_CRASHLOG='$T/log' wa-recv-feed --batch $BATCH '$T/run/auth' '$T/run/auth.inbox' < '$T/stanzas' > '$T/sent'"
is "$(grep -c '"tag":"receipt"' "$T/sent")" "$COUNT" "a receipt for every stanza"
is "$(grep -c '"op":"mark","text":"receipt ' "$T/log")" "$COUNT" "a receipt marker for every stanza in the crash log"
is "$(ls "$T/run/auth.inbox/new" | wc -l | tr -d ' ')" "$COUNT" "every message in the inbox"

node "$WA_TOP/tests/crashsim/crashsim.mjs" --log "$T/log" --root "$T/run" --snapshot "$T/snap" \
    --scratch "$SCRATCH" --ignore '(^|/)\.wa/lock$|(^|/)lock$' \
    --versions '^auth/[^/]*\.json$|^auth\.inbox/new/[^/]*$' \
    --checker "$WA_TOP/tests/crashsim/recv-check.mjs" --check-max "$CHECKS" --jobs 2 \
    --arg auth=auth --arg inbox=auth.inbox --arg stanzas="$T/stanzas" --arg expect="$T/expect" \
    --arg feed="$(command -v wa-recv-feed)" --arg check="$(command -v wa-check)" > "$T/sim" 2> "$T/sim.err"
rc=$?
summary=$(sed -n 's/^crash states: //p' "$T/sim")
diag "crash states: $summary"
is "$rc" 0 "no violation in any crash state" || true
[ "$rc" -eq 0 ] || diag "$(head -c 3000 "$T/sim") $(head -c 2000 "$T/sim.err")" >&2
gen=$(printf '%s' "$summary" | sed -n 's/^generated \([0-9]*\),.*/\1/p')
[ "${gen:-0}" -ge 5000 ] && pass "at least 5000 crash states generated ($gen)" ||
	fail "at least 5000 crash states generated" "$summary"
done_testing

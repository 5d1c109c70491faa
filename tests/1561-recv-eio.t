#!/bin/sh
# 1561-recv-eio: a session file that cannot be read because the disk
# failed (EIO on its open) is not a broken session: the message must not
# be stored as undecryptable, the file must not go to quarantine, and
# nothing may be acknowledged: the batch fails (wa-recv-feed: "flush: ...",
# exit 1), so the server keeps the stanza; read again later, it decrypts.
# (Found by the power-cut work: before, the read error was taken for a
# corrupt file, the message stored undecryptable and acked: lost.)
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

have_node || skip_all "node and tests/fakewa/node_modules are needed"
command -v strace > /dev/null 2>&1 || skip_all "strace is not installed"
strace -o /dev/null true 2> /dev/null || skip_all "strace cannot trace here (ptrace not allowed)"
ASAN_OPTIONS=detect_leaks=0
export ASAN_OPTIONS
unset WA_TEST_OPLOG WA_TEST_CRASHLOG

node "$WA_TOP/tests/fakewa/mkauth.mjs" "$T/auth" --contacts 1 --groups 0 --prekeys 5 --seed eio \
    --peer-state "$T/peers.json" 2> "$T/mk.err" || { echo "Bail out! mkauth: $(cat "$T/mk.err")"; exit 1; }
node "$WA_TOP/tests/fakewa/recv-stanzas.mjs" "$T/auth" --count 1 --peers 0 --peer-state "$T/peers.json" \
    --seed eio > "$T/one" 2> "$T/rs.err" || { echo "Bail out! recv-stanzas: $(cat "$T/rs.err")"; exit 1; }
like "$(cat "$T/one")" '"type":"msg"' "one msg on the contact's existing session"
cp -a "$T/auth" "$T/dry"

# the dry run: which openat opens the contact's session file
strace -f -y -o "$T/dry.trace" -e trace=openat wa-recv-feed "$T/dry" "$T/dry.inbox" < "$T/one" > /dev/null 2>&1
N=$(grep -n 'openat(' "$T/dry.trace" | grep 'session-' | head -n 1 | cut -d: -f1)
N=$(head -n "${N:-0}" "$T/dry.trace" | grep -c 'openat(')
ok "the dry run opens the session file (openat #$N)" test "${N:-0}" -gt 0

cp -a "$T/auth" "$T/a"
sess_before=$(cat "$T/a"/session-*.json | cksum)
# the store reads a session file up to twice per message (libsignal asks
# whether one exists, then loads it): both fail
strace -f -o /dev/null -e trace=openat -e inject=openat:error=EIO:when=$N..$((N + 1)) wa-recv-feed -m "$T/a" "$T/a.inbox" \
    < "$T/one" > "$T/out" 2> "$T/err"
rc=$?
is "$rc" 1 "the feed reports a failed batch (exit 1)"
like "$(cat "$T/err")" "flush: reading the key store" "and says the key store could not be read"
is "$(grep -c '"tag"' "$T/out")" 0 "nothing sent: no receipt, no ack"
is "$(ls "$T/a.inbox/new" 2> /dev/null | wc -l | tr -d ' ')" 0 "nothing stored (not as undecryptable either)"
ok "nothing quarantined" test ! -d "$T/a/.wa/quarantine" -o -z "$(ls -A "$T/a/.wa/quarantine" 2> /dev/null)"
is "$(cat "$T/a"/session-*.json | cksum)" "$sess_before" "the session files unchanged"

# the disk is back: the redelivered stanza decrypts
wa-recv-feed -m "$T/a" "$T/a.inbox" < "$T/one" > "$T/out2" 2> "$T/err2"
is "$?" 0 "redelivered later: the feed succeeds"
like "$(cat "$T/out2")" '"status":"ok"' "the message decrypts"
is "$(grep -c '"tag":"receipt"' "$T/out2")" 1 "and is receipted once"
done_testing

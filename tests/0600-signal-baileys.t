#!/bin/sh
# 0600-signal-baileys: lib/signal (through the wa-signal contract tool)
# against Baileys 7's own Signal code on the same folder.
#
# tests/fakewa/sigcases.mjs lets a simulated peer talk to a Baileys folder
# and records, around every step Baileys' repository decrypts, the folder
# before and after.  wa-signal replays each step on a copy of "before"
# and must produce the same plaintext and the same files: every
# message-key seed libsignal-node would have kept (skips in the first
# chain of a pkmsg session, inside a chain, in a new chain after a DH
# ratchet step, the previous chain filled up to the message's previous
# counter and closed), the consumed pre-key gone, the identity stored,
# sender keys with skipped iterations, a changed identity replacing the
# session, a phone-number JID whose session lives under its LID.  Then: the group commit's order on
# disk (sessions durable before the pre-key goes), each failure class,
# a corrupt file (an error naming it, nothing written), hostile JIDs,
# two wa-signal folders talking to each other, 1:1 and in a group, and
# then Baileys taking over one of those folders and talking on.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v wa-signal > /dev/null || skip_all "wa-signal not built"

baileys_folder "$T/auth" --contacts 0 --groups 0 --seed 7 --prekeys 5 || { fail "mkauth"; exit 1; }
if ! node "$WA_TOP/tests/fakewa/sigcases.mjs" "$T/auth" "$T/c" 2> "$T/cases.err"; then
	fail "sigcases.mjs runs" "$(tail -5 "$T/cases.err")"
	exit 1
fi

# --- every Baileys step, replayed -------------------------------------
node "$WA_TOP/tests/fakewa/sigreplay.mjs" "$T/c" wa-signal > "$T/replay" 2>&1
n=0
while IFS= read -r line; do
	n=$((n + 1))
	case $line in
	"ok "*) pass "same plaintext and files as Baileys: ${line#ok }" ;;
	*) fail "same plaintext and files as Baileys: ${line#not ok }" "$line" ;;
	esac
done < "$T/replay"
is "$n" 11 "all eleven Baileys steps replayed"

# req DIR: the request of case DIR (without dir, name, pt)
req() {
	node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1])).find((x) => x.dir === process.argv[2]);
		const { dir, name, pt, ...r } = c; process.stdout.write(JSON.stringify(r));' "$T/c/cases.json" "$1"
}
# run DIR LINES...: wa-signal on DIR, one request per argument; responses in $T/out
run() {
	_d=$1; shift
	printf '%s\n' "$@" | wa-signal -d "$_d" > "$T/out" 2> "$T/err"
}
field() { node -e 'const l = require("fs").readFileSync(0, "utf-8").split("\n")[+process.argv[1]]; const v = JSON.parse(l)[process.argv[2]]; process.stdout.write(String(v));' "$1" "$2"; }

# --- an identity change is reported ------------------------------------
cp -a "$T/c/10/before" "$T/idc"
run "$T/idc" "$(req 10)"
is "$(field 0 ok < "$T/out")" true "a pkmsg from a new identity decrypts (trust on first use and on change)"
like "$(cat "$T/err")" "identity key of 15550009999.1 changed" "and the change is reported"

# --- R4: the session is durable before the consumed pre-key goes -------
cp -a "$T/c/01/before" "$T/r4"
WA_TEST_OPLOG="$T/oplog" run "$T/r4" "$(req 01)"
is "$(field 0 ok < "$T/out")" true "pkmsg decrypts"
pk=$(cd "$T/c/01/before" && ls pre-key-*.json | sort -t- -k3 -n | head -1)
sess=$(awk '$2 == "rename" && $3 ~ /^session-/ { print NR; exit }' "$T/oplog")
dsync=$(awk -v s="${sess:-0}" 'NR > s && $2 == "fsyncdir" && $3 == "batch" { print NR; exit }' "$T/oplog")
unl=$(awk -v f="$pk" '$2 == "unlink" && $3 == f { print NR; exit }' "$T/oplog")
idren=$(awk '$2 == "rename" && $3 ~ /^identity-key-/ { print NR; exit }' "$T/oplog")
idsync=$(awk -v s="${idren:-0}" 'NR > s && $2 == "fsyncdir" && $3 == "batch" { print NR; exit }' "$T/oplog")
sesstmp=$(awk -v s="${sess:-0}" 'NR < s && $2 == "fsync" { n = NR } END { print n }' "$T/oplog")
ok "op log has the session rename, folder fsync and pre-key unlink" test -n "$sess" -a -n "$dsync" -a -n "$unl"
ok "the session's temporary file is fsynced before its rename" test -n "$sesstmp"
ok "what the pkmsg carried (the identity) is renamed and the folder fsynced before the session is renamed" \
    test -n "$idren" -a "${idsync:-0}" -lt "${sess:-0}"
ok "session renamed, then the folder fsynced, then $pk unlinked" test "${sess:-0}" -lt "${dsync:-0}" -a "${dsync:-0}" -lt "${unl:-0}"
ok "$pk is gone" test ! -e "$T/r4/$pk"
is "$(awk '$2 == "fsyncdir" && $3 == "batch"' "$T/oplog" | wc -l | tr -d ' ')" 2 \
    "two folder fsyncs for the renames (what the message carried, then the session), one more after the removal"

# --- failure classes -----------------------------------------------------
cp -a "$T/c/02/after" "$T/dup"
run "$T/dup" "$(req 02)" '{"op":"identity","jid":"15550009999:1@s.whatsapp.net"}'
is "$(field 0 error < "$T/out")" duplicate "a message decrypted twice: duplicate"
like "$(sed -n 2p "$T/out")" '"identityKey":"B' "the process answers the next line; the peer's identity is stored"

cp -a "$T/c/01/before" "$T/nopk"
rm -f "$T/nopk"/pre-key-*.json
run "$T/nopk" "$(req 01)"
is "$(field 0 error < "$T/out")" invalid_prekey "a pkmsg for a pre-key we no longer have: invalid_prekey"

cp -a "$T/c/01/before" "$T/nosess"
run "$T/nosess" "$(req 04)" '{"op":"encrypt","jid":"15550009999:1@s.whatsapp.net","pt":"aGk="}'
is "$(field 0 error < "$T/out")" no_session "a msg without a session: no_session"
is "$(field 1 error < "$T/out")" no_session "encrypt without a session: no_session"

cp -a "$T/c/04/before" "$T/mac"
badct=$(req 04 | node -e 'const r = JSON.parse(require("fs").readFileSync(0)); const b = Buffer.from(r.ct, "base64"); b[b.length - 1] ^= 1; process.stdout.write(b.toString("base64"))')
run "$T/mac" "{\"op\":\"decrypt\",\"jid\":\"15550009999:1@s.whatsapp.net\",\"type\":\"msg\",\"ct\":\"$badct\"}" \
	'{"op":"decrypt","jid":"15550009999:1@s.whatsapp.net","type":"msg","ct":"AAEC"}'
is "$(field 0 error < "$T/out")" bad_mac "a flipped MAC bit: bad_mac"
is "$(field 1 error < "$T/out")" invalid_message "three bytes of junk: invalid_message"
is "$(tree_state "$T/mac" | grep -v '^./.wa')" "$(tree_state "$T/c/04/before" | grep -v '^./.wa')" "failed decrypts write nothing"

cp -a "$T/c/08/before" "$T/nosk"
run "$T/nosk" "$(req 09)"
is "$(field 0 error < "$T/out")" no_sender_key "a skmsg before its SKDM: no_sender_key"

# --- a corrupt session file: an error naming it, nothing written ---------
cp -a "$T/c/04/before" "$T/bad"
printf '{"_sessions":{"x":' > "$T/bad/session-15550009999.1.json"
before=$(tree_state "$T/bad" | grep -v '^./.wa')
run "$T/bad" "$(req 04)" '{"op":"bundle"}'
is "$(field 0 error < "$T/out")" corrupt_store "a torn session file: corrupt_store"
like "$(field 0 detail < "$T/out")" "session-15550009999.1.json" "the detail names the file"
is "$(field 1 ok < "$T/out")" true "the next request is still answered"
is "$(tree_state "$T/bad" | grep -v '^./.wa')" "$before" "no file was changed"

# --- hostile JIDs never name a file outside the folder -------------------
run "$T/bad" '{"op":"identity","jid":"../../etc/passwd@s.whatsapp.net"}' \
	'{"op":"process_skdm","group":"../x@g.us","jid":"1@s.whatsapp.net","skdm":"AAAA"}' \
	'{"op":"encrypt","jid":"1:99@s.whatsapp.net","pt":"AA=="}' 'not json' '{"op":"nope"}'
is "$(cut -d, -f2 "$T/out" | tr '\n' ' ')" '"error":"bad_request" "error":"bad_request" "error":"bad_request" "error":"bad_request" "error":"bad_request" ' "bad JIDs, device 99 off hosted, junk lines and unknown ops: bad_request"

# --- two wa-signal folders talk to each other ---------------------------
baileys_folder "$T/a" --contacts 0 --groups 0 --seed 11 --prekeys 3 || fail "mkauth a"
baileys_folder "$T/b" --contacts 0 --groups 0 --seed 12 --prekeys 3 || fail "mkauth b"
meA=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$T/a/creds.json")
meB=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$T/b/creds.json")
run "$T/a" '{"op":"bundle"}'
bundle=$(sed -n 1p "$T/out" | node -e 'const r = JSON.parse(require("fs").readFileSync(0)); delete r.ok; process.stdout.write(JSON.stringify(r))')
run "$T/b" "{\"op\":\"process_bundle\",\"jid\":\"$meA\",\"bundle\":$bundle}" \
	"{\"op\":\"encrypt\",\"jid\":\"$meA\",\"pt\":\"aGVsbG8=\"}"
is "$(field 1 type < "$T/out")" pkmsg "after process_bundle the first message is a pkmsg"
ct=$(field 1 ct < "$T/out")
run "$T/a" "{\"op\":\"decrypt\",\"jid\":\"$meB\",\"type\":\"pkmsg\",\"ct\":\"$ct\"}" \
	"{\"op\":\"encrypt\",\"jid\":\"$meB\",\"pt\":\"d29ybGQ=\"}"
is "$(field 0 pt < "$T/out")" aGVsbG8= "a decrypts b's pkmsg"
is "$(field 1 type < "$T/out")" msg "a answers with a msg"
ct=$(field 1 ct < "$T/out")
run "$T/b" "{\"op\":\"decrypt\",\"jid\":\"$meA\",\"type\":\"msg\",\"ct\":\"$ct\"}" \
	"{\"op\":\"encrypt\",\"jid\":\"$meA\",\"pt\":\"YWdhaW4=\"}"
is "$(field 0 pt < "$T/out")" d29ybGQ= "b decrypts a's answer"
is "$(field 1 type < "$T/out")" msg "and then sends msgs, not pkmsgs"
G=120363000000000888@g.us
run "$T/a" "{\"op\":\"group_encrypt\",\"group\":\"$G\",\"pt\":\"Z3JvdXA=\"}" \
	"{\"op\":\"group_encrypt\",\"group\":\"$G\",\"pt\":\"dHdv\"}"
skdm=$(field 0 skdm < "$T/out"); g1=$(field 0 ct < "$T/out"); g2=$(field 1 ct < "$T/out")
WA_TEST_OPLOG="$T/oplog2" run "$T/b" "{\"op\":\"batch\",\"requests\":[{\"op\":\"process_skdm\",\"group\":\"$G\",\"jid\":\"$meA\",\"skdm\":\"$skdm\"},{\"op\":\"group_decrypt\",\"group\":\"$G\",\"jid\":\"$meA\",\"ct\":\"$g2\"},{\"op\":\"group_decrypt\",\"group\":\"$G\",\"jid\":\"$meA\",\"ct\":\"$g1\"},{\"op\":\"group_decrypt\",\"group\":\"$G\",\"jid\":\"$meA\",\"ct\":\"$g2\"}]}"
like "$(cat "$T/out")" '"responses":[{"ok":true},{"ok":true,"pt":"dHdv"},{"ok":true,"pt":"Z3JvdXA="},{"ok":false,"error":"duplicate"' \
	"a batch: SKDM, then group messages out of order, then one again (duplicate, undone alone)"
is "$(awk '$2 == "fsyncdir"' "$T/oplog2" | wc -l | tr -d ' ')" 1 "the batch is one group commit: one folder fsync"
ls "$T/b" | grep -q '^sender-key-120363000000000888@g.us--' && pass "b keeps a's sender key under Baileys' name" ||
	fail "b keeps a's sender key under Baileys' name" "$(ls "$T/b")"

# --- Baileys takes over a folder wa wrote, and they keep talking --------
# brun DIR LINES...: Baileys' repository on DIR; responses in $T/out
brun() {
	_d=$1; shift
	printf '%s\n' "$@" | node "$WA_TOP/tests/fakewa/sigbaileys.mjs" -d "$_d" > "$T/out" 2> "$T/err"
}
brun "$T/a" "{\"op\":\"encrypt\",\"jid\":\"$meB\",\"pt\":\"ZnJvbSBiYWlsZXlz\"}"
is "$(field 0 type < "$T/out")" msg "Baileys continues a's session wa wrote (a msg)"
ct=$(field 0 ct < "$T/out")
run "$T/b" "{\"op\":\"decrypt\",\"jid\":\"$meA\",\"type\":\"msg\",\"ct\":\"$ct\"}" \
	"{\"op\":\"encrypt\",\"jid\":\"$meA\",\"pt\":\"dG8gYmFpbGV5cw==\"}" \
	"{\"op\":\"group_encrypt\",\"group\":\"$G\",\"pt\":\"YiBpbiBncm91cA==\"}"
is "$(field 0 pt < "$T/out")" ZnJvbSBiYWlsZXlz "wa decrypts what Baileys sent"
ct=$(field 1 ct < "$T/out"); skdm=$(field 2 skdm < "$T/out"); g3=$(field 2 ct < "$T/out")
brun "$T/a" "{\"op\":\"decrypt\",\"jid\":\"$meB\",\"type\":\"msg\",\"ct\":\"$ct\"}" \
	"{\"op\":\"process_skdm\",\"group\":\"$G\",\"jid\":\"$meB\",\"skdm\":\"$skdm\"}" \
	"{\"op\":\"group_decrypt\",\"group\":\"$G\",\"jid\":\"$meB\",\"ct\":\"$g3\"}" \
	"{\"op\":\"group_encrypt\",\"group\":\"$G\",\"pt\":\"YSBhZ2Fpbg==\"}"
is "$(field 0 pt < "$T/out")" dG8gYmFpbGV5cw== "Baileys decrypts wa's answer on the session wa wrote"
is "$(field 2 pt < "$T/out")" YiBpbiBncm91cA== "Baileys takes wa's sender key and decrypts its group message"
g4=$(field 3 ct < "$T/out")
like "$(sed -n 4p "$T/out")" '"ok":true' "Baileys sends to the group with the sender key wa made"
run "$T/b" "{\"op\":\"group_decrypt\",\"group\":\"$G\",\"jid\":\"$meA\",\"ct\":\"$g4\"}"
is "$(field 0 pt < "$T/out")" YSBhZ2Fpbg== "wa decrypts it"

done_testing

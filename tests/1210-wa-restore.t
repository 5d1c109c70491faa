#!/bin/sh
# 1210-wa-restore: round trips.  A real Baileys folder is backed up,
# damaged (torn creds.json, sessions deleted), restored, and must then be
# byte for byte the original and load in Baileys with creds and every key
# deep-equal to a snapshot.  Also: -o - piped into wa-restore -, -n,
# --latest, the replaced folder kept and named, a restore into a folder
# that does not exist, and the fallback without an atomic exchange.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

cd "$T" || exit 1

# auth_state DIR: tree_state without wa's own sub-folder
auth_state() { tree_state "$1" | grep -v '^\./\.wa'; }
# nstate DIR: tree_state without .wa/status.json (a restore marks it
# superseded)
nstate() { tree_state "$1" | grep -v '^\./\.wa/status\.json '; }

mkfolder() {
	mkdir -m 700 "$1" "$1/.wa"
	printf '{"noiseKey":1,"signedIdentityKey":{"public":{"type":"Buffer","data":"AQI="}},"me":{"id":"%s:3@s.whatsapp.net"},"account":{}}\n' "$2" > "$1/creds.json"
	printf '{"keyId":1}\n' > "$1/pre-key-1.json"
	printf '{"_sessions":{},"version":"v1"}\n' > "$1/session-15550002222.0.json"
	printf 'kept\n' > "$1/notes.txt"
	printf '{"state":"up"}\n' > "$1/.wa/status.json"
	chmod 600 "$1"/* "$1"/.wa/*
}

# ---- hand-made folder: backup, damage, restore ----
mkfolder hand 15550001111
S0=$(nstate hand)
ok "backup" wa-backup -d hand -o hand.tar
: > hand/creds.json
rm hand/session-15550002222.0.json
printf 'new\n' > hand/stray.json
chmod 600 hand/stray.json
S1=$(tree_state hand)

ok "-n on a damaged folder" wa-restore -n -d hand hand.tar
is "$(cat "$T/out")" "added 1
changed 1
removed 1
same 3" "-n prints a count per kind, not a line per file"
ok "-n -v" wa-restore -n -v -d hand hand.tar
is "$(cat "$T/out")" "same .wa/status.json
changed creds.json
same notes.txt
same pre-key-1.json
added session-15550002222.0.json
removed stray.json
added 1
changed 1
removed 1
same 3" "-n -v lists added, changed, removed and same files, then the counts"
like "$(cat "$T/err")" "would add 1, change 1, remove 1, keep 3" "-n sums it up on stderr"
is "$(tree_state hand)" "$S1" "-n changed nothing"
ok "-n wrote nothing beside the folder" test -z "$(ls -a | grep -e '^\.hand' -e replaced)"

ok "restore" wa-restore -d hand hand.tar
R=$(cat "$T/out")
case $R in hand.replaced-[0-9]*T[0-9]*Z) pass "the replaced folder is named on stdout ($R)" ;;
*) fail "the replaced folder is named on stdout" "got '$R'" ;; esac
like "$(cat "$T/err")" "kept as '$R'" "and in the summary"
is "$(nstate hand)" "$S0" "the folder is the original again, byte for byte, modes included"
is "$(auth_state "$R")" "$(printf '%s\n' "$S1" | grep -v '^\./\.wa')" "the replaced folder is the damaged one"
is "$(stat -c %a hand)" 700 "restored folder is 0700"
is "$(ls -a | grep -c '^\.hand\.restore-')" 0 "no staging folder left"

# a second restore keeps the first replaced folder too
ok "restore again" wa-restore -d hand hand.tar
R2=$(cat "$T/out")
isnt "$R2" "$R" "a second restore gets its own replaced name"
ok "both replaced folders kept" test -d "$R" -a -d "$R2"

# ---- into a folder that does not exist ----
ok "restore into a new folder" wa-restore -d fresh hand.tar
is "$(cat "$T/out")" "" "nothing replaced, nothing named"
is "$(nstate fresh)" "$S0" "the new folder equals the original"
mkdir sub
ok "restore into sub/new with a trailing slash" wa-restore -d sub/new/ hand.tar
is "$(auth_state sub/new)" "$(auth_state hand)" "restored under sub/"
ok "restore with an absolute path" wa-restore -d "$T/sub/new" hand.tar
like "$(cat "$T/out")" "$T/sub/new.replaced-" "replaced folder named with its full path"

# ---- -o - | wa-restore - ----
rm hand/pre-key-1.json
wa-backup -d fresh -o - 2> /dev/null | wa-restore -d hand - > "$T/out" 2> "$T/err"
is "$?" 0 "wa-backup -o - | wa-restore -"
is "$(nstate hand)" "$S0" "the piped archive restored the folder"
rm hand/pre-key-1.json
S1=$(tree_state hand)
wa-restore -d hand < hand.tar > "$T/out" 2> "$T/err"
is "$?" 64 "no FILE: usage error, even with an archive on standard input (only - reads it)"
like "$(cat "$T/err")" "no archive" "  says so"
is "$(tree_state hand)" "$S1" "  nothing restored"
wa-restore -d hand < /dev/null > "$T/out" 2> "$T/err"
is "$?" 64 "no FILE, stdin /dev/null (cron): usage error, not 65"
ok "- reads standard input" sh -c 'wa-restore -d hand - < hand.tar'
is "$(nstate hand)" "$S0" "restored from stdin"
gzip -c hand.tar > hand.tar.gz
rm hand/pre-key-1.json
ok "a gzip-compressed archive" wa-restore -d hand hand.tar.gz
is "$(nstate hand)" "$S0" "restored from .tar.gz"

# ---- --latest ----
mkdir -m 700 bk
printf 'not ours' > bk/hand-99999999T999999Z.tar.old
cp hand.tar bk/hand-20200101T000000Z.tar
printf 'garbage, but oldest' > bk/hand-20190101T000000Z.tar
rm hand/pre-key-1.json
ok "--latest with -B" wa-restore --latest -B bk -d hand
is "$(nstate hand)" "$S0" "--latest picked the newest archive"
like "$(cat "$T/err")" "bk/hand-20200101T000000Z.tar" "and named it"
ok "--latest from \$WA_BACKUP_DIR" env WA_BACKUP_DIR=bk wa-restore -n --latest -d hand
ok "wa-backup into the default folder" wa-backup -q -d hand
ok "--latest from the default folder hand.backups" wa-restore -n --latest -d hand
like "$(cat "$T/err")" "hand.backups/hand-" "default backups folder used"
expect_exit 66 "--latest without backups" wa-restore --latest -d fresh
like "$(cat "$T/err")" "no backups of 'fresh'" "error says so"
one_line_err "--latest without backups"

# ---- without an atomic exchange (test builds only) ----
# test build: the seams' variable names are in the binary (a release build
# has neither the seams nor the operation log); never skipped because the
# log came out empty
testbuild=0
grep -q WA_TEST_OPLOG "$WA_BIN/wa-restore" && testbuild=1
rm hand/pre-key-1.json
S1=$(auth_state hand)
WA_TEST_NO_EXCHANGE=1 WA_TEST_OPLOG=$T/oplog wa-restore -d hand hand.tar > "$T/out" 2> "$T/err"
is "$?" 0 "restore with two renames"
R3=$(cat "$T/out")
is "$(nstate hand)" "$S0" "restored"
is "$(auth_state "$R3")" "$S1" "the replaced folder is kept"
if [ "$testbuild" -eq 1 ]; then
	is "$(grep -c ' exchange ' "$T/oplog")" 0 "no exchange was used"
	is "$(grep -c ' move ' "$T/oplog")" 2 "two moves"
else
	pass "# SKIP not a test build"
	pass "# SKIP not a test build"
fi
rm -f "$T/oplog"
WA_TEST_OPLOG=$T/oplog wa-restore -d hand hand.tar > /dev/null 2>&1
if [ "$testbuild" -eq 1 ]; then
	is "$(grep -c ' exchange ' "$T/oplog")" 1 "normally one atomic exchange"
	is "$(grep -c ' fsync ' "$T/oplog")" 6 "one fsync per restored file, one for the superseded status"
else
	pass "# SKIP"; pass "# SKIP"
fi

# ---- modes: files 0600 and folders 0700 whatever the archive or umask says ----
mkfolder loose 15550001111
chmod 644 loose/pre-key-1.json
chmod 755 loose/.wa
wa-backup -d loose -o loose.tar > /dev/null 2>&1
like "$(tar -xOf loose.tar wa-manifest.json | tr -d ' \n')" '"name":"pre-key-1.json","size":12,"mode":"0644"' \
	"the manifest records the 0644 mode"
( umask 000; wa-restore -d tight loose.tar > /dev/null 2>&1 )
is "$?" 0 "restore under umask 000"
is "$(find tight -perm /077 | wc -l | tr -d ' ')" 0 "no group or other bits anywhere in the restored folder"
is "$(stat -c %a tight/pre-key-1.json)" 600 "a 0644 key file comes back 0600"

# ---- --latest never picks an archive whose creds.json did not parse ----
mkfolder lt 15550001111
cp lt/creds.json lt-good.json
mkdir -m 700 ltb
wa-backup -q -d lt -o ltb/lt-20200101T000000Z.tar > /dev/null 2>&1
head -c 40 lt-good.json > lt/creds.json
wa-backup -q -f -d lt -o ltb/lt-20200102T000000Z.tar > /dev/null 2>&1
wa-backup -q -f -d lt -o ltb/lt-20200103T000000Z.tar > /dev/null 2>&1
like "$(tar -xOf ltb/lt-20200103T000000Z.tar wa-manifest.json | tr -d ' \n')" '"name":"creds.json","size":40,' \
	"(an archive of the torn creds.json, made with -f)"
ok "--latest skips archives whose creds.json is invalid" wa-restore --latest -B ltb -d lt
like "$(cat "$T/err")" "skipping 'ltb/lt-20200103T000000Z.tar': its creds.json did not parse" "  each skipped archive is named"
like "$(cat "$T/err")" "using 'ltb/lt-20200101T000000Z.tar'" "  and the one it chose"
ok "  the good one was restored" cmp -s lt/creds.json lt-good.json
head -c 40 lt-good.json > lt/creds.json
mkdir -m 700 ltbad
cp ltb/lt-20200102T000000Z.tar ltb/lt-20200103T000000Z.tar ltbad/
expect_exit 66 "--latest with only bad archives: 66, nothing restored" wa-restore --latest -B ltbad -d lt
like "$(cat "$T/err")" "no usable backup of 'lt'" "  says so"
expect_exit 65 "a named archive whose creds.json is invalid is refused" wa-restore -d lt ltb/lt-20200103T000000Z.tar
like "$(cat "$T/err")" "creds.json did not parse" "  says why"
like "$(cat "$T/err")" "-f" "  and how to restore it anyway"
ok "  with -f it is restored" wa-restore -f -d lt ltb/lt-20200103T000000Z.tar
is "$(wc -c < lt/creds.json | tr -d ' ')" 40 "  (the torn creds.json, as asked)"

# ---- another device or identity of the same account is foreign ----
# dev DIR DEVICE IDENTITY: a folder of account 15550001111, device DEVICE
dev() {
	mkdir -m 700 "$1"
	printf '{"noiseKey":1,"signedIdentityKey":{"public":{"type":"Buffer","data":"%s"}},"me":{"id":"15550001111:%s@s.whatsapp.net"},"account":{}}\n' "$3" "$2" > "$1/creds.json"
	printf '{"keyId":1}\n' > "$1/pre-key-1.json"
	chmod 600 "$1"/*
}
dev d3 3 AQI=
dev d4 4 AQI=
dev k3 3 BQY=
wa-backup -q -d d4 -o d4.tar > /dev/null 2>&1
wa-backup -q -d k3 -o k3.tar > /dev/null 2>&1
S=$(tree_state d3)
expect_exit 65 "a backup of another device of the same number is refused" wa-restore -d d3 d4.tar
like "$(cat "$T/err")" "device 15550001111:4@s.whatsapp.net" "  names the archive's device"
like "$(cat "$T/err")" "device 15550001111:3@s.whatsapp.net of the same account" "  and the folder's"
one_line_err "another device"
expect_exit 65 "-n refuses it too" wa-restore -n -d d3 d4.tar
expect_exit 65 "the same device with another identity key is refused" wa-restore -d d3 k3.tar
like "$(cat "$T/err")" "another identity key" "  says so"
is "$(tree_state d3)" "$S" "  nothing changed"
ok "-f restores another device anyway" wa-restore -f -d d3 d4.tar
like "$(cat "$T/err")" "warning" "  with a warning"
like "$(cat d3/creds.json)" ":4@" "  restored"

# ---- a restore marks wa-run's old status superseded ----
mkfolder st 15550001111
printf '{"state":"online","since":"2026-01-01T00:00:00Z","pid":999999999,"last_inbound":"2026-01-01T00:00:00Z","last_error":null,"class":null}\n' > st/.wa/status.json
wa-backup -q -d st -o st.tar > /dev/null 2>&1
printf '{"state":"failed","since":"2026-01-01T00:00:00Z","pid":999999999,"last_error":"something","class":"local","exit_code":70}\n' > st/.wa/status.json
wa-check -v -d st > "$T/out" 2>&1
like "$(cat "$T/out")" "wa-run reports failed" "(wa-check reports the failed state)"
unlike "$(cat "$T/out")" "fsync" "a failed state that is no disk error (exit 70) is not called a write or fsync failure"
ok "restore of a backup taken while wa-run was online" wa-restore -d st st.tar
like "$(tr -d ' \n' < st/.wa/status.json)" '"superseded":{"by":"wa-restore","at":"20' "status.json is marked superseded"
like "$(tr -d ' \n' < st/.wa/status.json)" '"state":"online"' "  and keeps its fields"
wa-check -v -d st > "$T/out" 2>&1
unlike "$(cat "$T/out")" "stale status" "wa-check: no stale status from the archive"
unlike "$(cat "$T/out")" "wa-run reports" "wa-check: no wa-run state problem"

# ---- the swap never replaces what appears meanwhile ----
if [ "$testbuild" -eq 1 ]; then
	S=$(auth_state hand)
	WA_TEST_MOVE_RACE=racy wa-restore -d racy hand.tar > "$T/out" 2> "$T/err"
	is "$?" 73 "an empty folder made at the target just before the move: refused (73)"
	like "$(cat "$T/err")" "'racy' appeared meanwhile" "  says so"
	is "$(ls -A racy | wc -l | tr -d ' ')" 0 "  the empty folder is left alone"
	is "$(ls -a | grep -c '^\.racy\.restore-')" 0 "  no staging folder left"
	# the two-move fallback: target moved aside, the second move loses the
	# race, and so does the move back: the error says where the old folder is
	WA_TEST_NO_EXCHANGE=1 WA_TEST_MOVE_RACE=hand wa-restore -d hand hand.tar > "$T/out" 2> "$T/err"
	is "$?" 73 "two moves, the second loses the race: 73"
	R4=$(sed -n "s/.*the old folder could not be moved back (the name is taken) and is now at '\([^']*\)'.*/\1/p" "$T/err")
	isnt "$R4" "" "  the error says where the old folder is ($R4)"
	is "$(auth_state "$R4")" "$S" "  and it is there, whole"
	rmdir hand && mv "$R4" hand
else
	pass "# SKIP not a test build (no WA_TEST_MOVE_RACE seam)"
fi

# ---- replaced folders: the newest --keep stay ----
mkfolder kp 15550001111
wa-backup -q -d kp -o kp.tar > /dev/null 2>&1
for s in 20200101T000000Z 20200102T000000Z 20200102T000000Z-1 20200103T000000Z; do
	mkdir -m 700 "kp.replaced-$s" "kp.replaced-$s/.wa" && printf x > "kp.replaced-$s/.wa/f"
done
ln -s kp.replaced-20200103T000000Z kp.replaced-20190101T000000Z
mkdir -m 700 kp.replaced-notours
ok "restore with --keep 2" wa-restore --keep 2 -d kp kp.tar
R5=$(cat "$T/out")
replaced_dirs() { find . -maxdepth 1 -type d -name 'kp.replaced-2*' | sed 's,^\./,,' | LC_ALL=C sort; }
is "$(replaced_dirs | tr '\n' ' ')" "kp.replaced-20200103T000000Z $R5 " \
	"the two newest replaced folders stay, the one just made among them"
like "$(cat "$T/err")" "removed old replaced folder 'kp.replaced-20200101T000000Z'" "removals are reported"
ok "links and folders not named like ours are left alone" test -L kp.replaced-20190101T000000Z -a -d kp.replaced-notours
ok "default --keep 10" sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do wa-restore -d kp kp.tar > /dev/null 2>&1 || exit 1; done'
is "$(replaced_dirs | wc -l | tr -d ' ')" 10 "  keeps 10"
expect_exit 64 "bad --keep" wa-restore --keep x -d kp kp.tar

# ---- a real Baileys folder ----
if ! have_node; then
	pass "# SKIP node or tests/fakewa/node_modules missing"
	done_testing
	exit 0
fi
baileys_folder bl --contacts 3 --groups 1 || { fail "baileys_folder"; done_testing; exit 1; }
node "$WA_TOP/tests/fakewa/verify-auth.mjs" bl --no-use --snapshot snap.json > /dev/null 2> "$T/err"
is "$?" 0 "snapshot of the Baileys folder"
B0=$(tree_state bl)
ok "backup of the Baileys folder" wa-backup -d bl -o bl.tar
unlike "$(cat "$T/err")" "warning" "no warnings on a Baileys folder"
n=$(ls bl | wc -l | tr -d ' ')
is "$(tar -tf bl.tar | wc -l | tr -d ' ')" "$((n + 1))" "every file plus the manifest"
# the classic damage: creds.json torn by a kill, sessions deleted by hand
head -c 100 bl/creds.json > bl/creds.tmp && mv bl/creds.tmp bl/creds.json
rm bl/session-*.json
ok "restore the Baileys folder" wa-restore -d bl bl.tar
R=$(cat "$T/out")
is "$(tree_state bl)" "$B0" "the restored folder equals the original byte for byte"
node "$WA_TOP/tests/fakewa/verify-auth.mjs" bl --expect snap.json > "$T/out" 2> "$T/err"
is "$?" 0 "Baileys loads it, creds and every key deep-equal to before"
[ -s "$T/err" ] && diag "$(cat "$T/err")"
ok "the damaged folder is kept" test -d "$R" -a -f "$R/creds.json"
is "$(wc -c < "$R/creds.json" | tr -d ' ')" 100 "with its torn creds.json"

# through a pipe, into a new folder, and Baileys uses it
wa-backup -d bl -o - 2> /dev/null | wa-restore -d bl2 - > /dev/null 2> "$T/err"
is "$?" 0 "Baileys folder through a pipe"
node "$WA_TOP/tests/fakewa/verify-auth.mjs" bl2 --expect snap.json > /dev/null 2> "$T/err"
is "$?" 0 "the piped copy loads in Baileys and equals the snapshot"
done_testing

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
S0=$(tree_state hand)
ok "backup" wa-backup -d hand -o hand.tar
: > hand/creds.json
rm hand/session-15550002222.0.json
printf 'new\n' > hand/stray.json
chmod 600 hand/stray.json
S1=$(tree_state hand)

ok "-n on a damaged folder" wa-restore -n -d hand hand.tar
is "$(cat "$T/out")" "same .wa/status.json
changed creds.json
same notes.txt
same pre-key-1.json
added session-15550002222.0.json
removed stray.json" "-n lists added, changed, removed and same files"
like "$(cat "$T/err")" "would add 1, change 1, remove 1, keep 3" "-n sums it up on stderr"
is "$(tree_state hand)" "$S1" "-n changed nothing"
ok "-n wrote nothing beside the folder" test -z "$(ls -a | grep -e '^\.hand' -e replaced)"

ok "restore" wa-restore -d hand hand.tar
R=$(cat "$T/out")
case $R in hand.replaced-[0-9]*T[0-9]*Z) pass "the replaced folder is named on stdout ($R)" ;;
*) fail "the replaced folder is named on stdout" "got '$R'" ;; esac
like "$(cat "$T/err")" "kept as '$R'" "and in the summary"
is "$(tree_state hand)" "$S0" "the folder is the original again, byte for byte, modes included"
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
is "$(tree_state fresh)" "$S0" "the new folder equals the original"
mkdir sub
ok "restore into sub/new with a trailing slash" wa-restore -d sub/new/ hand.tar
is "$(auth_state sub/new)" "$(auth_state hand)" "restored under sub/"
ok "restore with an absolute path" wa-restore -d "$T/sub/new" hand.tar
like "$(cat "$T/out")" "$T/sub/new.replaced-" "replaced folder named with its full path"

# ---- -o - | wa-restore - ----
rm hand/pre-key-1.json
wa-backup -d fresh -o - 2> /dev/null | wa-restore -d hand - > "$T/out" 2> "$T/err"
is "$?" 0 "wa-backup -o - | wa-restore -"
is "$(tree_state hand)" "$S0" "the piped archive restored the folder"
rm hand/pre-key-1.json
wa-restore -d hand < hand.tar > "$T/out" 2> "$T/err"
is "$?" 0 "no FILE and stdin not a terminal: read stdin"
is "$(tree_state hand)" "$S0" "restored from stdin"
gzip -c hand.tar > hand.tar.gz
rm hand/pre-key-1.json
ok "a gzip-compressed archive" wa-restore -d hand hand.tar.gz
is "$(tree_state hand)" "$S0" "restored from .tar.gz"

# ---- --latest ----
mkdir -m 700 bk
printf 'not ours' > bk/hand-99999999T999999Z.tar.old
cp hand.tar bk/hand-20200101T000000Z.tar
printf 'garbage, but oldest' > bk/hand-20190101T000000Z.tar
rm hand/pre-key-1.json
ok "--latest with -B" wa-restore --latest -B bk -d hand
is "$(tree_state hand)" "$S0" "--latest picked the newest archive"
like "$(cat "$T/err")" "bk/hand-20200101T000000Z.tar" "and named it"
ok "--latest from \$WA_BACKUP_DIR" env WA_BACKUP_DIR=bk wa-restore -n --latest -d hand
ok "wa-backup into the default folder" wa-backup -q -d hand
ok "--latest from the default folder hand.backups" wa-restore -n --latest -d hand
like "$(cat "$T/err")" "hand.backups/hand-" "default backups folder used"
expect_exit 66 "--latest without backups" wa-restore --latest -d fresh
like "$(cat "$T/err")" "no backups of 'fresh'" "error says so"
one_line_err "--latest without backups"

# ---- without an atomic exchange (test builds only) ----
rm hand/pre-key-1.json
S1=$(auth_state hand)
WA_TEST_NO_EXCHANGE=1 WA_TEST_OPLOG=$T/oplog wa-restore -d hand hand.tar > "$T/out" 2> "$T/err"
is "$?" 0 "restore with two renames"
R3=$(cat "$T/out")
is "$(tree_state hand)" "$S0" "restored"
is "$(auth_state "$R3")" "$S1" "the replaced folder is kept"
if [ -s "$T/oplog" ]; then
	is "$(grep -c ' exchange ' "$T/oplog")" 0 "no exchange was used"
	is "$(grep -c ' move ' "$T/oplog")" 2 "two moves"
else
	pass "# SKIP not a test build"
	pass "# SKIP not a test build"
fi
rm -f "$T/oplog"
WA_TEST_OPLOG=$T/oplog wa-restore -d hand hand.tar > /dev/null 2>&1
if [ -s "$T/oplog" ]; then
	is "$(grep -c ' exchange ' "$T/oplog")" 1 "normally one atomic exchange"
	is "$(grep -c ' fsync ' "$T/oplog")" 5 "one fsync per restored file"
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

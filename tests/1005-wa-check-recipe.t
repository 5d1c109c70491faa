#!/bin/sh
# 1005-wa-check-recipe: README's "Recovery in shell" recipe, taken from
# README verbatim (between "# BEGIN RECOVERY" and "# END RECOVERY"), run
# on each kind of damage.  It branches on wa-check --problems (the stable
# problem kinds of wa-check(1)), never on message text: only a torn
# creds.json restores the backup; creds.json at 0644, a folder that is not
# paired, a corrupt session file and leftover temporary files leave
# creds.json and the newer session files alone and get their own repair.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"

sed -n '/^    # BEGIN RECOVERY$/,/^    # END RECOVERY$/s/^    //p' "$WA_TOP/README" > "$T/recipe.sh"
like "$(cat "$T/recipe.sh")" "wa-check --problems" "README has the recipe between its markers"

cd "$T" || exit 1
export WA_AUTH_DIR="$T/auth"

# setup: a paired folder and its backup in auth.backups (the default), then
# a session file newer than the backup (restoring would lose it)
setup() {
	chmod -R u+rwx "$T/auth" "$T/auth.backups" "$T"/auth.* 2>/dev/null
	rm -rf "$T/auth" "$T"/auth.*
	mkfolder "$T/auth"
	wa-backup -q > /dev/null 2>&1 || fail "wa-backup for the setup"
	printf '{"_sessions":{"new":1},"version":"v1"}' > "$T/auth/session-15550004444.0.json"
	chmod 600 "$T/auth/session-15550004444.0.json"
}
recipe() { sh "$T/recipe.sh" > "$T/rout" 2> "$T/rerr"; echo $? > "$T/rc"; }
restored() { ls -d "$T"/auth.replaced* "$T"/auth-replaced* 2>/dev/null | head -1; }

# torn creds.json -> restores the backup
setup
head -c 300 "$T/auth/creds.json" > "$T/torn" && cat "$T/torn" > "$T/auth/creds.json"
is "$(wa-check --problems | grep -x creds_corrupt)" creds_corrupt "torn creds.json is kind creds_corrupt"
recipe
ok "torn: creds.json is whole again" wa-check
is "$(cmp "$T/auth/creds.json" "$T/torn" > /dev/null 2>&1 && echo same)" "" "torn: creds.json restored"
isnt "$(restored)" "" "torn: the damaged folder is kept beside it (wa-restore)"

# creds.json 0644 -> no restore, mode fixed, the newer session kept
setup
chmod 644 "$T/auth/creds.json"
cp "$T/auth/creds.json" "$T/c.before"
is "$(wa-check --problems)" creds_mode "0644 creds.json is kind creds_mode (only)"
recipe
is "$(restored)" "" "0644: nothing restored"
ok "0644: the newer session file is still there" test -f "$T/auth/session-15550004444.0.json"
is "$(stat -c %a "$T/auth/creds.json")" 600 "0644: creds.json set to 0600"
ok "0644: creds.json unchanged" cmp "$T/auth/creds.json" "$T/c.before"
ok "0644: wa-check is OK afterwards" wa-check

# not paired -> no restore, tells to pair
setup
creds unpaired > "$T/auth/creds.json"
cp "$T/auth/creds.json" "$T/c.before"
is "$(wa-check --problems)" not_paired "unpaired creds.json is kind not_paired"
recipe
is "$(restored)" "" "not paired: nothing restored"
ok "not paired: creds.json unchanged" cmp "$T/auth/creds.json" "$T/c.before"
like "$(cat "$T/rerr")" "not paired: wa-pair it" "not paired: says to pair"
ok "not paired: the newer session file is still there" test -f "$T/auth/session-15550004444.0.json"

# a corrupt session file -> moved to quarantine, nothing restored
setup
printf '{"_sessions":{' > "$T/auth/session-15550002222.0.json"
cp "$T/auth/creds.json" "$T/c.before"
is "$(wa-check --problems)" session_corrupt "a torn session file is kind session_corrupt"
recipe
is "$(restored)" "" "corrupt session: nothing restored"
ok "corrupt session: creds.json unchanged" cmp "$T/auth/creds.json" "$T/c.before"
ok "corrupt session: moved into quarantine" test -f "$(ls -d "$T"/auth/.wa/quarantine/*/ | head -1)session-15550002222.0.json"
ok "corrupt session: the newer session file is still there" test -f "$T/auth/session-15550004444.0.json"
ok "corrupt session: wa-check is OK afterwards" wa-check

# leftover temporary files -> removed, nothing restored
setup
mkdir -p "$T/auth/.wa/tmp" && chmod 700 "$T/auth/.wa" "$T/auth/.wa/tmp"
printf 'x' > "$T/auth/.wa/tmp/.wa-tmp.creds.json.1234"
printf 'x' > "$T/auth/.wa-tmp.session.5678"
cp "$T/auth/creds.json" "$T/c.before"
is "$(wa-check --problems)" tmp_leftover "leftovers are kind tmp_leftover"
recipe
is "$(restored)" "" "tmp leftovers: nothing restored"
ok "tmp leftovers: creds.json unchanged" cmp "$T/auth/creds.json" "$T/c.before"
ok "tmp leftovers: gone, wa-check OK" wa-check
ok "tmp leftovers: the newer session file is still there" test -f "$T/auth/session-15550004444.0.json"

# a message mentioning creds.json that is not about its content (wa-run's
# last error) is no reason to restore
setup
mkdir -p "$T/auth/.wa" && chmod 700 "$T/auth/.wa"
printf '{"state":"failed","since":1,"pid":0,"last_error":"unable to write creds.json: No space left on device"}' > "$T/auth/.wa/status.json"
cp "$T/auth/creds.json" "$T/c.before"
recipe
is "$(restored)" "" "wa-run's last error names creds.json: nothing restored"
ok "... creds.json unchanged" cmp "$T/auth/creds.json" "$T/c.before"

done_testing

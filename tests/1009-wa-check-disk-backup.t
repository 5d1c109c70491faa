#!/bin/sh
# 1009-wa-check-disk-backup: wa-check WARNs when the folder's file system
# is nearly full (--min-free, default 64M; --min-free-inodes, default
# 1000), and with --max-backup-age checks the newest valid backup in the
# backups folder wa-backup uses (auth.backups beside the folder, or -B):
# none at all is CRITICAL (backup_missing), older than the maximum is
# WARNING (backup_old), a damaged newer archive does not count.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"
command -v jq > /dev/null 2>&1 || skip_all "jq missing"

cd "$T" || exit 1
mkfolder auth

# ---- free space and inodes ----
expect_exit 0 "enough room (the defaults): OK" wa-check -d auth
expect_exit 1 "--min-free above what is free: WARNING" wa-check -d auth --min-free 9000T
like "$(cat "$T/out")" "WA WARNING - 'auth': only " "the summary says how much is free"
like "$(cat "$T/out")" "under the minimum of 9000T" "... and the minimum"
wa-check -d auth --min-free 9000T --problems > "$T/k"
is "$(cat "$T/k")" disk_space "kind disk_space"
expect_exit 0 "--min-free 0 turns it off" wa-check -d auth --min-free 0
wa-check -d auth --json > "$T/j"
fi_=$(jq -r .free_inodes "$T/j")
ok "free_bytes in --json" test "$(jq -r .free_bytes "$T/j")" -gt 0
if [ "$fi_" = null ]; then
	pass "# SKIP this file system has no inode limit"
else
	wa-check -d auth --min-free-inodes $((fi_ + 1000000)) --problems > "$T/k"
	is "$(cat "$T/k")" disk_inodes "--min-free-inodes above what is free: kind disk_inodes"
fi
expect_exit 3 "--min-free with a bad size: UNKNOWN" wa-check -d auth --min-free 12X

# ---- backup age ----
expect_exit 2 "--max-backup-age, no backup at all: CRITICAL" wa-check -d auth --max-backup-age 6h
like "$(cat "$T/out")" "no backup at all ('auth.backups' does not exist)" "names the default backups folder"
ok "wa-backup" wa-backup -q -d auth
expect_exit 0 "a fresh backup: OK" wa-check -d auth --max-backup-age 6h
wa-check -d auth --max-backup-age 6h --json > "$T/j"
isnt "$(jq -r .backup "$T/j")" null "--json gives its time"
f=$(ls auth.backups)
mv "auth.backups/$f" auth.backups/auth-20260101T000000Z.tar
expect_exit 1 "the newest valid backup is older than 6h: WARNING" wa-check -d auth --max-backup-age 6h
like "$(cat "$T/out")" "the newest valid backup in 'auth.backups' is from 2026-01-01T00:00:00Z" "says which and when"
wa-check -d auth --max-backup-age 6h --problems > "$T/k"
is "$(cat "$T/k")" backup_old "kind backup_old"
printf 'not a tar' > auth.backups/auth-29990101T000000Z.tar
expect_exit 1 "a damaged newer archive does not count" wa-check -d auth --max-backup-age 6h
mv auth.backups/auth-20260101T000000Z.tar auth.backups/auth-20260101T000000Z.tar.old
expect_exit 2 "only a damaged archive: CRITICAL" wa-check -d auth --max-backup-age 6h
wa-check -d auth --max-backup-age 6h --problems > "$T/k"
is "$(cat "$T/k")" backup_missing "kind backup_missing"
mkdir -m 700 elsewhere
mv auth.backups/auth-20260101T000000Z.tar.old elsewhere/auth-20260101T000000Z.tar
expect_exit 1 "-B says where the backups are" wa-check -d auth -B elsewhere --max-backup-age 1d
expect_exit 0 "... and a longer maximum accepts it" wa-check -d auth -B elsewhere --max-backup-age 999d
done_testing

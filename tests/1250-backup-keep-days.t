#!/bin/sh
# 1250-backup-keep-days: wa-backup --keep-days N removes the archives of
# the folder created more than N days ago (the stamp in the name, as
# wa-restore --latest and wa-check --max-backup-age read it; the file's
# modification time does not count), but never the newest usable archive,
# even when it is older, and an archive that is not usable (a broken
# creds.json archived with -f, or no archive at all) never stands in for
# it.  --keep-days alone keeps by age only; with --keep both limits apply.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

# mkfolder DIR: a small hand-made paired folder
mkfolder() {
	mkdir -m 700 "$1" "$1/.wa"
	printf '{"noiseKey":{"private":{"type":"Buffer","data":"AA=="},"public":{"type":"Buffer","data":"AQ=="}},"signedIdentityKey":{"private":{"type":"Buffer","data":"Ag=="},"public":{"type":"Buffer","data":"BQYHCA=="}},"registrationId":42,"me":{"id":"15550001111:3@s.whatsapp.net"},"account":{"details":"AA=="}}\n' > "$1/creds.json"
	printf '{"keyPair":{"private":"a","public":"b"},"keyId":1}\n' > "$1/pre-key-1.json"
	chmod 600 "$1"/*.json
}
stamp() { date -u -d "$1" +%Y%m%dT%H%M%SZ; }
# list: the archives of auth in auth.backups, oldest first, one line
list() { (cd auth.backups && ls | LC_ALL=C sort | tr '\n' ' '); }

cd "$T" || exit 1
mkfolder auth
ok "a first backup" wa-backup -q -d auth
good=auth.backups/$(ls auth.backups)
mv "$good" good.tar
printf 'not a tar\n' > bad.tar
old1=auth-$(stamp '40 days ago').tar
old2=auth-$(stamp '20 days ago').tar
new1=auth-$(stamp '2 days ago').tar

# ---- old ones go, recent ones stay ----
cp good.tar "auth.backups/$old1"
cp good.tar "auth.backups/$old2"
cp good.tar "auth.backups/$new1"
printf 'x\n' > "auth.backups/other-$(stamp '40 days ago').tar"
ok "wa-backup --keep-days 7" wa-backup -d auth --keep-days 7
written=$(cat "$T/out"); written=${written#auth.backups/}
is "$(list)" "$new1 $written other-$(stamp '40 days ago').tar " "the 40 and 20 days old archives are gone; 2 days old and the new one stay; not ours untouched"
like "$(cat "$T/err")" "removed old backup 'auth.backups/$old1'" "says which it removed"
rm auth.backups/*

# ---- the age is the name's stamp, not the modification time ----
cp good.tar "auth.backups/$old1"
cp good.tar "auth.backups/$new1"
touch -d '1 hour ago' "auth.backups/$old1"
touch -d '90 days ago' "auth.backups/$new1"
ok "--keep-days with fresh mtime on an old name" wa-backup -q -d auth --keep-days 7
is "$(list | grep -c "$old1")" 0 "an archive named 40 days ago goes though touched an hour ago"
is "$(list | grep -c "$new1")" 1 "an archive named 2 days ago stays though its mtime is 90 days old"
rm auth.backups/*

# ---- the newest valid archive stays, however old ----
cp good.tar "auth.backups/$old1"
cp good.tar "auth.backups/$old2"
printf 'not json' > auth/creds.json
ok "a forced backup of a broken folder with --keep-days 7" wa-backup -f -q -d auth --keep-days 7
written=$(cat "$T/out"); written=${written#auth.backups/}
is "$(list)" "$old2 $written " "the 20 days old archive stays: it is the newest usable one; the older goes"

# ---- an invalid newest does not count ----
rm auth.backups/*
cp good.tar "auth.backups/$old1"
cp bad.tar "auth.backups/$old2"
cp bad.tar "auth.backups/$new1"
ok "--keep-days 7 with damaged archives newer than the only good one" wa-backup -f -q -d auth --keep-days 7
written=$(cat "$T/out"); written=${written#auth.backups/}
is "$(list)" "$old1 $new1 $written " "the only usable archive stays though 40 days old; the old damaged one goes"

# ---- nothing usable at all: nothing goes ----
rm auth.backups/*
cp bad.tar "auth.backups/$old1"
ok "--keep-days 7 without any usable archive" wa-backup -f -q -d auth --keep-days 7
is "$(list | grep -c "$old1")" 1 "with no usable archive, even an old damaged one stays"

# ---- with --keep both limits apply ----
rm -rf auth auth.backups/*
mkfolder auth
cp good.tar "auth.backups/$old1"
cp good.tar "auth.backups/auth-$(stamp '3 days ago').tar"
cp good.tar "auth.backups/$new1"
ok "--keep 2 --keep-days 7" wa-backup -q -d auth --keep 2 --keep-days 7
written=$(cat "$T/out"); written=${written#auth.backups/}
is "$(list)" "$new1 $written " "count and age: two remain"

# ---- usage ----
expect_exit 64 "--keep-days 0 is refused" wa-backup -d auth --keep-days 0
expect_exit 64 "--keep-days x is refused" wa-backup -d auth --keep-days x
expect_exit 64 "-o with --keep-days" wa-backup -d auth -o n.tar --keep-days 2
like "$(cat "$T/err")" "--keep-days" "the refusal names --keep-days"

done_testing

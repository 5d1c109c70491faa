#!/bin/sh
# 1200-wa-backup: what an archive holds (the manifest first, every auth
# file, .wa minus lock/tmp/quarantine, unknown files), what it skips with a
# warning (symlinks, sub-folders), the output forms (-o FILE, -o -, the
# backups folder with its timestamped names), the durable write, and every
# bad input with its exit code and no change.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

# mkfolder DIR USER: a small hand-made paired folder
mkfolder() {
	mkdir -m 700 "$1" "$1/.wa" "$1/.wa/tmp" "$1/.wa/quarantine" "$1/.wa/quarantine/20260101T000000Z"
	printf '{"noiseKey":{"private":{"type":"Buffer","data":"AA=="},"public":{"type":"Buffer","data":"AQ=="}},"signedIdentityKey":{"private":{"type":"Buffer","data":"Ag=="},"public":{"type":"Buffer","data":"BQYHCA=="}},"registrationId":42,"me":{"id":"%s:3@s.whatsapp.net"},"account":{"details":"AA=="}}\n' "$2" > "$1/creds.json"
	printf '{"keyPair":{"private":"a","public":"b"},"keyId":1}\n' > "$1/pre-key-1.json"
	printf '{"keyPair":{"private":"c","public":"d"},"keyId":2}\n' > "$1/pre-key-2.json"
	printf '{"_sessions":{},"version":"v1"}\n' > "$1/session-15550002222.0.json"
	printf '"99990001111"' > "$1/lid-mapping-15550002222.json"
	printf 'not json, not ours, kept\n' > "$1/notes.txt"
	printf '{"state":"up"}\n' > "$1/.wa/status.json"
	printf '{"e":1}\n{"e":2}\n' > "$1/.wa/events.jsonl"
	printf 'pid=1 start=1 pstart=1 prog=x\n' > "$1/.wa/lock"
	printf 'half' > "$1/.wa/tmp/.wa-tmp.creds.json.1.aa"
	printf 'half' > "$1/.wa-tmp.session-x.json.1.bb"
	printf '{}' > "$1/.wa/quarantine/20260101T000000Z/session-old.json"
	chmod 600 "$1"/*.json "$1"/notes.txt "$1"/.wa/*.json* "$1/.wa/lock"
}

members() { tar -tf "$1"; }
# ours: how many of our timestamped archives (regular files) auth.backups holds
ours() {
	find auth.backups -maxdepth 1 -type f | sed 's,.*/,,' |
	    grep -c '^auth-[0-9]\{8\}T[0-9]\{6\}Z\(-[0-9]*\)\{0,1\}\.tar$'
}
manifest() { tar -xOf "$1" wa-manifest.json; }

cd "$T" || exit 1
mkfolder auth 15550001111

# ---- -o FILE ----
ok "backup to a file" wa-backup -d auth -o out.tar
is "$(cat "$T/out")" "out.tar" "the archive path is printed on stdout"
like "$(cat "$T/err")" "8 files" "summary counts the files"
like "$(cat "$T/err")" "account 15550001111" "summary names the account"
is "$(stat -c %a out.tar)" 600 "archive is 0600"
is "$(members out.tar | head -n 1)" "wa-manifest.json" "the manifest is the first member"
is "$(members out.tar | sed 1d | LC_ALL=C sort | tr '\n' ' ')" \
	".wa/events.jsonl .wa/status.json creds.json lid-mapping-15550002222.json notes.txt pre-key-1.json pre-key-2.json session-15550002222.0.json " \
	"members: every file, .wa without lock, tmp, quarantine; no temp files"
M=$(manifest out.tar)
like "$M" '"format": "wa-backup"' "manifest names its format"
like "$M" '"version": 1' "manifest has the format version"
like "$M" '"account": "15550001111"' "manifest has the account"
like "$M" '"me": "15550001111:3@s.whatsapp.net"' "manifest has me.id"
like "$M" "\"identity\": \"$(printf '\005\006\007\010' | sha256sum | cut -c1-64)\"" \
	"identity is the SHA-256 of signedIdentityKey.public"
like "$M" "\"sha256\": \"$(sha256sum < auth/creds.json | cut -c1-64)\"" "creds.json checksum in the manifest"
like "$M" '"folder": "auth"' "manifest has the folder name"
like "$M" '"created": "20' "manifest has the creation time"
like "$M" '"wa_version"' "manifest has the wa version"
unlike "$M" '"lock"' "the lock is not in the manifest"
mkdir x && tar -xf out.tar -C x
is "$(cd x && for f in creds.json notes.txt .wa/events.jsonl session-15550002222.0.json; do sha256sum "$f"; done)" \
	"$(cd auth && for f in creds.json notes.txt .wa/events.jsonl session-15550002222.0.json; do sha256sum "$f"; done)" \
	"members hold the files byte for byte"
rm -rf x

# ---- -o - ----
wa-backup -d auth -o - > piped.tar 2> "$T/err"
is "$?" 0 "backup to standard output"
is "$(members piped.tar | wc -l | tr -d ' ')" 9 "the stream is a whole archive"
like "$(cat "$T/err")" "8 files" "summary goes to stderr with -o -"

# ---- symlinks, sub-folders, invalid JSON: warnings, exit 0 ----
ln -s /etc/passwd auth/evil.json
ln -s ../outside auth/.wa/linked.json
mkdir auth/stray-folder
printf '{"truncated' > auth/session-15550003333.0.json
chmod 600 auth/session-15550003333.0.json
touch -d '2020-01-01' auth/session-15550003333.0.json
ok "backup with a symlink, a folder and a torn file exits 0" wa-backup -d auth -o warn.tar
like "$(cat "$T/err")" "'auth/evil.json' is a symbolic link" "warning names the symlink"
like "$(cat "$T/err")" "'auth/.wa/linked.json' is a symbolic link" "warning names the symlink in .wa"
like "$(cat "$T/err")" "'auth/stray-folder' is a folder" "warning names the sub-folder"
like "$(cat "$T/err")" "'auth/session-15550003333.0.json' does not parse" "warning names the torn file"
unlike "$(members warn.tar)" "evil.json" "symlink not archived"
unlike "$(members warn.tar)" "linked.json" "symlink in .wa not archived"
like "$(members warn.tar)" "session-15550003333.0.json" "the torn file is archived as found"
like "$(manifest warn.tar | tr -d ' \n')" '"name":"session-15550003333.0.json","size":11,"mode":"0600","sha256":"'"$(sha256sum < auth/session-15550003333.0.json | cut -c1-64)"'","valid":false' \
	"the torn file is marked invalid"
like "$(manifest warn.tar | tr -d ' \n')" '"name":"creds.json","size":' "creds.json listed"
like "$(manifest warn.tar | tr -d ' \n' | sed 's/.*"name":"lid-mapping-15550002222.json"//' | cut -c1-200)" '"valid":true' \
	"a JSON file holding a bare string is valid"
unlike "$(manifest warn.tar | tr -d ' \n' | sed 's/.*"name":"notes.txt"//' | cut -d'}' -f1)" '"valid"' \
	"non-JSON files carry no valid flag"
rm -rf auth/evil.json auth/.wa/linked.json auth/stray-folder auth/session-15550003333.0.json

# .wa that is a file or a symlink: refused for safety, nothing written
mkdir -m 700 odd
printf '{}' > odd/creds.json
printf 'x' > odd/.wa
expect_exit 77 "a folder where .wa is a file is refused" wa-backup -d odd -o odd.tar
like "$(cat "$T/err")" "'odd/.wa'" "the message names it"
rm odd/.wa
ln -s /tmp odd/.wa
expect_exit 77 "a folder where .wa is a symlink is refused" wa-backup -d odd -o odd.tar
ok "no archive written" test ! -e odd.tar

# a symlinked creds.json pointing outside: never followed, target untouched
mkfolder sl 15550004444
printf '{"me":{"id":"15559990000:1@s.whatsapp.net"}}' > outside.json
O=$(sha256sum < outside.json)
rm sl/creds.json
ln -s ../outside.json sl/creds.json
ok "backup of a folder whose creds.json is a symlink" wa-backup -d sl -o sl.tar
like "$(cat "$T/err")" "'sl/creds.json' is a symbolic link" "the symlinked creds.json is named"
like "$(cat "$T/err")" "not paired" "the account is not taken from the link's target"
unlike "$(manifest sl.tar)" "15559990000" "nothing from the link's target in the manifest"
unlike "$(members sl.tar)" "creds.json" "creds.json not archived"
is "$(sha256sum < outside.json)" "$O" "the link's target is untouched"

# ---- the backups folder, names, retention ----
ok "backup into the default folder" wa-backup -d auth
A1=$(cat "$T/out")
case $A1 in auth.backups/auth-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z.tar|auth.backups/auth-*Z-[0-9]*.tar)
	pass "default name auth.backups/auth-YYYYmmddTHHMMSSZ.tar ($A1)" ;;
*)	fail "default name auth.backups/auth-YYYYmmddTHHMMSSZ.tar" "got $A1" ;;
esac
is "$(stat -c %a auth.backups)" 700 "backups folder is created 0700"
ok "a second backup in the same second gets its own name" wa-backup -d auth
isnt "$(cat "$T/out")" "$A1" "two backups, two names"
ok "backup via a trailing slash and ./" wa-backup -d ./auth/
like "$(cat "$T/out")" "auth.backups/auth-" "same backups folder"
( cd auth && wa-backup -d . ) > "$T/out" 2> "$T/err"
is "$?" 0 "backup of ."
like "$(cat "$T/out")" "auth.backups/auth-" "'.' is named after the real folder"
is "$(ls auth.backups | wc -l | tr -d ' ')" 4 "four archives so far"

# old archives of ours, plus files that are not ours and must survive
for s in 20200101T000000Z 20200102T000000Z 20200103T000000Z 20200103T000000Z-1 20200103T000000Z-2; do
	printf 'old' > "auth.backups/auth-$s.tar"
done
printf 'x' > auth.backups/notes.tar
printf 'x' > auth.backups/auth-2020.tar
printf 'x' > auth.backups/auth-20200101T000000Z.tar.keep
printf 'x' > auth.backups/other-20200101T000000Z.tar
printf 'x' > auth.backups/auth-x-20200101T000000Z.tar
mkdir auth.backups/auth-20190101T000000Z.tar
ok "backup with --keep 3" wa-backup -d auth --keep 3
A=$(cat "$T/out")
like "$(cat "$T/err")" "removed old backup 'auth.backups/auth-20200101T000000Z.tar'" "removals are reported"
is "$(ours)" 3 "exactly 3 of our archives remain"
ok "the newest archive is kept" test -f "$A"
ok "files that are not ours are kept" test -f auth.backups/notes.tar -a -f auth.backups/auth-2020.tar \
	-a -f auth.backups/auth-20200101T000000Z.tar.keep -a -f auth.backups/other-20200101T000000Z.tar \
	-a -f auth.backups/auth-x-20200101T000000Z.tar -a -d auth.backups/auth-20190101T000000Z.tar
ok "the oldest were removed" test ! -e auth.backups/auth-20200101T000000Z.tar -a ! -e auth.backups/auth-20200103T000000Z-2.tar
ok "backup with --keep 1 -q" wa-backup -q -d auth --keep 1
is "$(cat "$T/err")" "" "-q: nothing on stderr"
is "$(ours)" 1 "--keep 1 keeps one"
ok "--keep 0 keeps everything" wa-backup -q -d auth --keep 0
is "$(ours)" 2 "--keep 0 removed nothing"
for i in 1 2 3 4 5 6 7 8 9 10 11; do wa-backup -q -d auth > /dev/null 2>&1; done
is "$(ours)" 10 "the default keeps 10"

expect_exit 73 "-B with a missing parent" wa-backup -d auth -B elsewhere/b
ok "-B does not create missing parents" test ! -e elsewhere
mkdir elsewhere
ok "-B into an existing parent" wa-backup -d auth -B elsewhere/b
like "$(cat "$T/out")" "elsewhere/b/auth-" "-B is used"
WA_BACKUP_DIR=$T/envb wa-backup -d auth > "$T/out" 2> "$T/err"
like "$(cat "$T/out")" "$T/envb/auth-" "\$WA_BACKUP_DIR is used"
WA_AUTH_DIR=auth wa-backup -o env.tar > "$T/out" 2> "$T/err"
is "$?" 0 "\$WA_AUTH_DIR names the folder"

# ---- durable: the archive goes through the durable write ----
# skipped on the build type only: a test build (the seam's variable name is
# in the binary) must write the log, an empty log is a failure
WA_TEST_OPLOG=$T/oplog wa-backup -d auth -o dur.tar > /dev/null 2>&1
if grep -q WA_TEST_OPLOG "$WA_BIN/wa-backup"; then
	is "$(awk '{print $2}' "$T/oplog" | uniq | tr '\n' ' ')" "tmp write fsync close rename fsyncdir " \
		"archive written as temp, fsync, rename, directory fsync"
	like "$(cat "$T/oplog")" "rename dur.tar" "renamed onto its name"
else
	pass "# SKIP not a test build (no operation log)"
	pass "# SKIP not a test build"
fi
is "$(ls -a | grep -c '^\.wa-tmp')" 0 "no temporary file left beside the archive"

# ---- it never writes into the auth folder and never takes the lock ----
S=$(tree_state auth)
ok "backup once more" wa-backup -d auth -o again.tar
is "$(tree_state auth)" "$S" "the auth folder is untouched by a backup"
exec 9>> auth/.wa/lock
flock -n 9
ok "backup while another process holds the lock (readers never block)" wa-backup -d auth -o locked.tar
exec 9>&-

# ---- bad input ----
expect_exit 66 "missing folder" wa-backup -d nosuch -o n.tar
one_line_err "missing folder"
like "$(cat "$T/err")" "'nosuch'" "error names the folder"
ok "nothing written for a missing folder" test ! -e n.tar
printf 'x' > afile
expect_exit 66 "a file where the folder should be" wa-backup -d afile -o n.tar
one_line_err "file instead of folder"
like "$(cat "$T/err")" "'afile' is not a folder" "error says so"
ln -s auth linked
expect_exit 77 "a symlinked folder is refused" wa-backup -d linked -o n.tar
like "$(cat "$T/err")" "symbolic link" "error says why"
ok "nothing written for bad folders" test ! -e n.tar -a ! -e afile.backups -a ! -e nosuch.backups
expect_exit 64 "no folder given" wa-backup -o n.tar
expect_exit 64 "bad --keep" wa-backup -d auth --keep x
expect_exit 64 "-o with --keep" wa-backup -d auth -o n.tar --keep 2
expect_exit 64 "an extra argument" wa-backup -d auth extra
mkdir adir
expect_exit 73 "-o onto a folder" wa-backup -d auth -o adir
like "$(cat "$T/err")" "'adir'" "error names the output"
expect_exit 73 "-o into a missing folder" wa-backup -d auth -o nosuch/x.tar
S=$(tree_state auth)
expect_exit 64 "-o into the auth folder is refused" wa-backup -d auth -o auth/creds.json
like "$(cat "$T/err")" "into the auth folder" "says why"
expect_exit 64 "-B the auth folder is refused" wa-backup -d auth -B ./auth/
expect_exit 64 "-B its .wa is refused" wa-backup -d auth -B auth/.wa
is "$(tree_state auth)" "$S" "the auth folder is unchanged"
expect_exit 73 "backups folder path is a file" wa-backup -d auth -B afile
ok "usage on -h" wa-backup -h
like "$(cat "$T/out")" "usage: wa-backup" "-h prints usage on stdout"

# unreadable file: the backup fails, names it, and leaves no archive
if [ "$(id -u)" != 0 ]; then
	chmod 000 auth/pre-key-2.json
	expect_exit 77 "an unreadable file fails the backup" wa-backup -d auth -o unread.tar
	like "$(cat "$T/err")" "pre-key-2.json" "error names the file"
	ok "no archive left" test ! -e unread.tar
	chmod 600 auth/pre-key-2.json
fi

# umask 000 leaves no group/other bits
( umask 000; wa-backup -q -d auth -o um.tar -q > /dev/null 2>&1; wa-backup -q -d auth -B umb > /dev/null 2>&1 )
is "$(stat -c %a um.tar) $(stat -c %a umb)" "600 700" "umask 000: archive 0600, folder 0700"
# ---- a torn creds.json: refused, and never counted by --keep (#8) ----
mkfolder tb 15550001111
cp tb/creds.json tb-good.json
ok "backup 1 (--keep 2)" wa-backup -q -d tb --keep 2
sleep 1   # the names have a 1 s resolution: two backups, two stamps
ok "backup 2 (--keep 2)" wa-backup -q -d tb --keep 2
head -c 100 tb-good.json > tb/creds.json
touch -d '2020-01-01' tb/creds.json
good=$(ls tb.backups | tr '\n' ' ')
expect_exit 65 "a torn creds.json is refused" wa-backup -d tb --keep 2
like "$(cat "$T/err")" "'tb/creds.json' does not parse" "  the error names it"
like "$(cat "$T/err")" "-f" "  and says how to archive it anyway"
one_line_err "torn creds.json"
is "$(ls tb.backups | tr '\n' ' ')" "$good" "  nothing written, nothing removed"
expect_exit 65 "refused with -o - too, before a byte is written" wa-backup -d tb -o -
is "$(wc -c < "$T/out" | tr -d ' ')" 0 "  nothing on standard output"
for i in 1 2 3; do
	sleep 1
	wa-backup -f -q -d tb --keep 2 > /dev/null 2> "$T/err" || fail "backup -f $i" "$(cat "$T/err")"
done
like "$(cat "$T/err")" "retention does not count it" "-f archives it, with a warning"
is "$(ls tb.backups | wc -l | tr -d ' ')" 5 "three archives of the torn folder did not push the two good ones out"
for a in $good; do
	ok "  $a is still there" test -f "tb.backups/$a"
done
ok "wa-restore --latest" wa-restore --latest -d tb
ok "  restores the last good creds.json" cmp -s tb/creds.json tb-good.json
ok "a good backup (--keep 2)" wa-backup -q -d tb --keep 2
first=${good%% *}
ok "  --keep 2 then removes what is older than the two newest good ones ($first)" test ! -e "tb.backups/$first"
is "$(ls tb.backups | wc -l | tr -d ' ')" 5 "  and keeps the rest (2 good, the 3 newer bad ones between them)"

# ---- not an auth folder: refused unless -f ----
mkdir -m 700 etcish
printf 'root:x:0:0\n' > etcish/passwd
printf 'x\n' > etcish/hosts.json
S=$(tree_state etcish)
expect_exit 65 "a folder with no auth file at all is refused" wa-backup -d etcish -o etc.tar
like "$(cat "$T/err")" "'etcish' does not look like an auth folder" "  says why"
ok "  nothing written" test ! -e etc.tar
is "$(tree_state etcish)" "$S" "  nothing changed"
ok "-f archives it anyway" wa-backup -f -d etcish -o etc.tar
mkdir -m 700 empty
ok "an empty folder is fine" wa-backup -d empty -o empty.tar
mkdir -m 700 keysonly
printf '{"keyId":1}' > keysonly/pre-key-1.json
ok "a folder with only a Baileys key file is fine" wa-backup -d keysonly -o keysonly.tar

# ---- one cause, one code ----
mkfolder big 15550001111
truncate -s 65M big/huge.bin
expect_exit 65 "a file over 64 MiB: 65" wa-backup -d big -o big.tar
like "$(cat "$T/err")" "huge.bin" "  names the file"
like "$(sed -n '/^\.Sh EXIT STATUS/,$p' "$WA_TOP/man/wa-backup.1" | tr '\n' ' ')" "a file over 64 MiB" \
	"  and wa-backup(1) gives 65 for it"
rm big/huge.bin
if [ "$(id -u)" = 0 ] && command -v unshare > /dev/null 2>&1 && unshare -m true 2> /dev/null; then
	mkdir ro
	unshare -m sh -c '
		mount -t tmpfs -o size=1m none ro && mkdir ro/b ro/o && mount -o remount,ro ro || exit 99
		wa-backup -d big -B ro/b > /dev/null 2> err1; echo $? > rc1
		wa-backup -d big -B ro/new > /dev/null 2> err2; echo $? > rc2
		wa-backup -d big -o ro/o/x.tar > /dev/null 2> err3; echo $? > rc3'
	is "$(cat rc1 rc2 rc3 | tr '\n' ' ')" "73 73 73 " \
		"read-only file system: 73 (archive, backups folder, -o file cannot be created)"
	like "$(cat err1)" "Read-only file system" "  says why"
	like "$(sed -n '/^\.Sh EXIT STATUS/,$p' "$WA_TOP/man/wa-backup.1" | tr '\n' ' ')" "a read-only file system" \
		"  and wa-backup(1) gives 73 for it"
else
	pass "# SKIP read-only file system: needs root and unshare -m"
fi

done_testing

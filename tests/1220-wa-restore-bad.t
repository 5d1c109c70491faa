#!/bin/sh
# 1220-wa-restore-bad: every archive wa-restore must refuse (truncated,
# flipped byte, missing or extra member, unsafe member names, links,
# folders, no manifest, foreign account), a target it must not touch (a
# file, a symlink, a locked folder), and a full disk.  Each refusal: the
# documented exit code, one line on stderr naming the archive or folder,
# and nothing changed in the folder or beside it.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

cd "$T" || exit 1
mkdir arc w

mkfolder() {
	mkdir -m 700 "$1" "$1/.wa"
	printf '{"noiseKey":"k","me":{"id":"%s:3@s.whatsapp.net"},"account":{}}\n' "$2" > "$1/creds.json"
	printf '{"keyId":1}\n' > "$1/pre-key-1.json"
	printf '{"_sessions":{},"version":"v1"}\n' > "$1/session-15550002222.0.json"
	printf '{"state":"up"}\n' > "$1/.wa/status.json"
	chmod 600 "$1"/*.json "$1"/.wa/*
}

mkfolder src 15550001111
wa-backup -d src -o arc/good.tar > /dev/null 2>&1 || { fail "backup"; exit 1; }
mkdir x y
tar -xf arc/good.tar -C x
mkfolder w/auth 15550001111
printf 'changed\n' > w/auth/pre-key-1.json
printf 'mine\n' > w/auth/local-only.json
W0=$(tree_state w)

# refuse CODE DESC ARCHIVE [options]: refused with CODE, one line naming
# the archive (or the folder), nothing changed in w/
refuse() {
	_code=$1 _desc=$2 _arc=$3; shift 3
	expect_exit "$_code" "$_desc: exit $_code" wa-restore "$@" -d w/auth "$_arc"
	one_line_err "$_desc"
	[ -n "${SHOWERR:-}" ] && diag "$(cat "$T/err")"
	like "$(cat "$T/err")" "${NAMED:-$_arc}" "$_desc: the message names '${NAMED:-$_arc}'"
	is "$(tree_state w)" "$W0" "$_desc: nothing changed in the folder or beside it"
}

# ---- damaged archives ----
size=$(wc -c < arc/good.tar)
off=$(grep -boa noiseKey arc/good.tar | head -n 1 | cut -d: -f1)
head -c "$((off + 5))" arc/good.tar > arc/trunc-member.tar
refuse 65 "archive truncated inside a member" arc/trunc-member.tar
like "$(cat "$T/err")" "damaged" "truncation is called damage"
head -c 700 arc/good.tar > arc/trunc-manifest.tar
refuse 65 "archive truncated inside the manifest" arc/trunc-manifest.tar
head -c 512 arc/good.tar > arc/trunc-header.tar
refuse 65 "archive cut after the first header" arc/trunc-header.tar

cp arc/good.tar arc/flip.tar
printf 'X' | dd of=arc/flip.tar bs=1 seek="$off" conv=notrunc 2> /dev/null
refuse 65 "a flipped byte in a member" arc/flip.tar
like "$(cat "$T/err")" "'creds.json' fails its checksum" "the member is named"

cp -r x x2
printf '{"keyId":2}\n' > x2/pre-key-1.json
tar --format=pax -cf arc/swapped.tar -C x2 wa-manifest.json creds.json pre-key-1.json session-15550002222.0.json .wa/status.json
refuse 65 "a member whose content differs from the manifest" arc/swapped.tar
printf '{"keyId":22}\n' > x2/pre-key-1.json
tar --format=pax -cf arc/resized.tar -C x2 wa-manifest.json creds.json pre-key-1.json session-15550002222.0.json .wa/status.json
refuse 65 "a member whose size differs from the manifest" arc/resized.tar
like "$(cat "$T/err")" "pre-key-1.json" "the member is named"

tar --format=pax -cf arc/absent.tar -C x wa-manifest.json creds.json pre-key-1.json .wa/status.json
refuse 65 "the manifest lists a file that is absent" arc/absent.tar
like "$(cat "$T/err")" "'session-15550002222.0.json' is in the manifest but not in the archive" "the missing file is named"

printf '{}' > y/extra.json
cp arc/good.tar arc/extra.tar
tar --format=pax -rf arc/extra.tar -C y extra.json
refuse 65 "an extra member" arc/extra.tar
like "$(cat "$T/err")" "'extra.json' is not in the manifest" "the extra member is named"

cp arc/good.tar arc/twice.tar
tar --format=pax -rf arc/twice.tar -C x creds.json
refuse 65 "a member twice" arc/twice.tar

# ---- unsafe members ----
printf '{}' > y/evil
cp arc/good.tar arc/dotdot.tar
tar --format=pax -P --transform 's,^evil,../evil,' -rf arc/dotdot.tar -C y evil
refuse 65 "a member named ../evil" arc/dotdot.tar
like "$(cat "$T/err")" "'../evil'" "the member is named"
cp arc/good.tar arc/abs.tar
tar --format=pax -P --transform 's,^evil,/etc/x,' -rf arc/abs.tar -C y evil
refuse 65 "a member named /etc/x" arc/abs.tar
cp arc/good.tar arc/sub.tar
tar --format=pax -P --transform 's,^evil,.wa/../../evil,' -rf arc/sub.tar -C y evil
refuse 65 "a member named .wa/../../evil" arc/sub.tar
cp arc/good.tar arc/lock.tar
tar --format=pax -P --transform 's,^evil,.wa/lock,' -rf arc/lock.tar -C y evil
refuse 65 "a member named .wa/lock" arc/lock.tar
ln -s /etc/passwd y/link.json
cp arc/good.tar arc/symlink.tar
tar --format=pax -rf arc/symlink.tar -C y link.json
refuse 65 "a symlink member" arc/symlink.tar
like "$(cat "$T/err")" "'link.json' is a symbolic link" "the link is named"
mkdir y2
cp x/wa-manifest.json x/creds.json y2/
ln y2/creds.json y2/pre-key-1.json
tar --format=pax -cf arc/hardlink.tar -C y2 wa-manifest.json creds.json pre-key-1.json
refuse 65 "a hard-link member" arc/hardlink.tar
like "$(cat "$T/err")" "'pre-key-1.json' is a hard link" "the link is named"
mkfifo y/fifo.json
cp arc/good.tar arc/fifo.tar
tar --format=pax -rf arc/fifo.tar -C y fifo.json
refuse 65 "a fifo member" arc/fifo.tar
like "$(cat "$T/err")" "'fifo.json' is a device or special file" "the special file is named"
if [ "$(id -u)" = 0 ] && mknod y/null.json c 1 3 2> /dev/null; then
	cp arc/good.tar arc/device.tar
	tar --format=pax -rf arc/device.tar -C y null.json
	refuse 65 "a device member" arc/device.tar
else
	pass "# SKIP mknod needs root"; pass "# SKIP"; pass "# SKIP"; pass "# SKIP"
fi
mkdir y/.wa
cp arc/good.tar arc/dir.tar
tar --format=pax -rf arc/dir.tar -C y .wa
refuse 65 "a folder member" arc/dir.tar
ok "nothing was written outside: no /tmp/../evil, no /etc/x" test ! -e "$T/evil" -a ! -e /etc/x -a ! -e "$T/w/evil"

# ---- not wa backups ----
printf 'this is not an archive at all, just some text that is long enough\n' > arc/text.tar
refuse 65 "a text file" arc/text.tar
: > arc/empty.tar
refuse 65 "an empty file" arc/empty.tar
like "$(cat "$T/err")" "empty, not an archive" "says it is empty"
tar --format=pax -cf arc/plain.tar -C x creds.json pre-key-1.json
refuse 65 "a tar without a manifest" arc/plain.tar
like "$(cat "$T/err")" "not a wa backup" "says it is not a wa backup"
tar --format=pax -cf arc/notfirst.tar -C x creds.json wa-manifest.json pre-key-1.json session-15550002222.0.json .wa/status.json
refuse 65 "the manifest not first" arc/notfirst.tar
cp -r x x3
printf '{"format": "wa-backup", "version": 1, "files": [' > x3/wa-manifest.json
tar --format=pax -cf arc/badjson.tar -C x3 wa-manifest.json creds.json
refuse 65 "a manifest that does not parse" arc/badjson.tar
sed 's/"version": 1/"version": 2/' x/wa-manifest.json > x3/wa-manifest.json
tar --format=pax -cf arc/v2.tar -C x3 wa-manifest.json creds.json pre-key-1.json session-15550002222.0.json .wa/status.json
refuse 65 "a newer format version" arc/v2.tar
like "$(cat "$T/err")" "version 2" "names the version"
sed 's/"name": "pre-key-1.json"/"name": "..\/pre-key-1.json"/' x/wa-manifest.json > x3/wa-manifest.json
tar --format=pax -cf arc/manevil.tar -C x3 wa-manifest.json creds.json
refuse 65 "a manifest listing ../pre-key-1.json" arc/manevil.tar

# ---- missing archive, bad targets ----
NAMED=nosuch.tar refuse 66 "a missing archive" arc/nosuch.tar
NAMED=arc refuse 66 "a folder instead of an archive" arc
printf 'x' > w/afile
W0=$(tree_state w)
expect_exit 73 "a file where the folder should be" wa-restore -d w/afile arc/good.tar
one_line_err "file as target"
like "$(cat "$T/err")" "'w/afile' exists and is not a folder" "the target is named"
is "$(tree_state w)" "$W0" "file target: nothing changed"
ln -s auth w/link
W0=$(tree_state w)
expect_exit 77 "a symlinked target" wa-restore -d w/link arc/good.tar
one_line_err "symlinked target"
is "$(tree_state w)" "$W0" "symlinked target: nothing changed"
expect_exit 66 "a target whose parent is missing" wa-restore -d w/nosuch/auth arc/good.tar
one_line_err "missing parent"
like "$(cat "$T/err")" "w/nosuch" "the missing parent is named"
rm w/afile w/link
W0=$(tree_state w)

# ---- usage ----
expect_exit 64 "two archives" wa-restore -d w/auth arc/good.tar arc/good.tar
expect_exit 64 "a file and --latest" wa-restore --latest -d w/auth arc/good.tar
expect_exit 64 "-B without --latest" wa-restore -B arc -d w/auth arc/good.tar
expect_exit 64 "no folder" wa-restore arc/good.tar
is "$(tree_state w)" "$W0" "usage errors change nothing"

# ---- foreign archives ----
mkfolder other 15559999999
wa-backup -d other -o arc/other.tar > /dev/null 2>&1
refuse 65 "an archive of another account" arc/other.tar
like "$(cat "$T/err")" "account 15559999999" "names the archive's account"
like "$(cat "$T/err")" "account 15550001111" "names the folder's account"
like "$(cat "$T/err")" "-f" "says how to override"
refuse 65 "-n with an archive of another account" arc/other.tar -n
mkdir -m 700 unp
printf '{"noiseKey":"k"}' > unp/creds.json
chmod 600 unp/creds.json
wa-backup -d unp -o arc/unpaired.tar > /dev/null 2>&1
refuse 65 "an unpaired archive over a paired folder" arc/unpaired.tar
cp -r w/auth w/keep
ok "-f restores another account's archive" wa-restore -f -d w/keep arc/other.tar
like "$(cat "$T/err")" "warning" "-f warns"
like "$(cat w/keep/creds.json)" "15559999999" "-f restored the other account"
rm -rf w/keep w/keep.replaced-*
printf '{"noiseKey":"new","me":{"id":"15558888888:1@s.whatsapp.net"}' > w/torn-creds.json
mkfolder w/torn 15550001111
: > w/torn/creds.json
ok "a folder whose creds.json is empty accepts any archive" wa-restore -d w/torn arc/other.tar
mkfolder w/fresh 15550001111
printf '{"noiseKey":"regenerated"}' > w/fresh/creds.json
ok "a folder with new unpaired creds (Baileys after a torn creds.json) accepts the backup" wa-restore -d w/fresh arc/good.tar
rm -rf w/torn w/torn.replaced-* w/fresh w/fresh.replaced-* w/torn-creds.json
is "$(tree_state w)" "$W0" "w is back to its state"

# ---- another process holds the lock ----
mkfifo "$T/ready"
bg sh -c 'exec 9>> "$1/.wa/lock"; flock -n 9 || exit 1
	printf "pid=%s start=%s pstart=0 prog=holder\n" $$ "$(date +%s)" > "$1/.wa/lock"
	echo ready > "$2"; exec sleep 600' sh w/auth "$T/ready"
holder=$!
read -r _ < "$T/ready"
W0=$(tree_state w)
NAMED="in use by pid $holder (holder)" refuse 75 "the lock held by another process" arc/good.tar
like "$(cat "$T/err")" "'w/auth'" "the folder is named"
ok "-n still reports while locked" wa-restore -n -d w/auth arc/good.tar
kill "$holder"
wait "$holder" 2> /dev/null
ok "restore once the holder is gone" wa-restore -d w/auth arc/good.tar
is "$(tree_state w/auth | grep -v '^\./\.wa')" "$(tree_state src | grep -v '^\./\.wa')" "restored"

# ---- a full disk: the target stays, nothing is left behind ----
if [ "$(id -u)" = 0 ] && mkdir small && mount -t tmpfs -o size=64k tmpfs small 2> /dev/null; then
	umount_small() { umount "$T/small"; }
	on_exit umount_small
	mkfolder small/auth 15550001111
	mkfolder big 15550001111
	head -c 100000 /dev/zero | tr '\0' 'a' | sed 's/^/"/; s/$/"/' > big/session-big.0.json
	wa-backup -d big -o arc/big.tar > /dev/null 2>&1
	S=$(tree_state small)
	expect_exit 74 "restore onto a full disk" wa-restore -d small/auth arc/big.tar
	one_line_err "full disk"
	like "$(cat "$T/err")" "No space left on device" "says the disk is full"
	# the lock was taken before the disk filled up: wa's lock file and
	# staging folder may now exist in .wa; everything else is as it was
	is "$(tree_state small | grep -v -e '^\./auth/\.wa/lock ' -e '^\./auth/\.wa/tmp ')" "$S" \
		"full disk: the folder unchanged, no staging folder left"
else
	pass "# SKIP tmpfs needs root"; pass "# SKIP"; pass "# SKIP"; pass "# SKIP"
fi
done_testing

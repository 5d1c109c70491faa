#!/bin/sh
# 1302-wa-send-full: wa-send on a full disk.  The outbox on a small tmpfs
# (in a private mount namespace): when the data blocks run out and when
# the inodes run out, wa-send exits 74 with one line naming the file and
# the reason, prints no id, and leaves nothing in new/ or tmp/; once the
# filesystem is grown the same command queues the job.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"

if [ "${1:-}" != --ns ]; then
	[ "$(id -u)" -eq 0 ] || skip_all "needs root to mount a tmpfs"
	unshare -m true 2> /dev/null || skip_all "unshare -m is not allowed here"
	unshare -m sh "$0" --ns
	exit $?
fi

cd "$T" || exit 1
mkfolder auth
mkdir m
mount -t tmpfs -o size=64k,nr_inodes=32,mode=700 tmpfs m 2> "$T/e" ||
	skip_all "mount -t tmpfs is not allowed here: $(head -n1 "$T/e")"
umount_m() { umount "$T/m"; }
on_exit umount_m
OUT=m/outbox

ok "a job on the small filesystem" wa-send -d auth --outbox "$OUT" 15550002222 "before"
first=$(find "$OUT/new" -type f)
jobs() { find "$OUT/new" "$OUT/tmp" -type f | LC_ALL=C sort; }

# 1. no data blocks left
dd if=/dev/zero of=m/fill bs=4096 2> /dev/null
head -c 8000 /dev/zero | tr '\0' x > "$T/text"
expect_exit 74 "blocks full: exit 74" sh -c "wa-send -d auth --outbox '$OUT' 15550002222 - < '$T/text'"
one_line_err "blocks full"
like "$(cat "$T/err")" "unable to write '$OUT/tmp/" "blocks full: names the file"
like "$(cat "$T/err")" "No space left on device" "blocks full: says the disk is full"
is "$(cat "$T/out")" "" "blocks full: no id printed"
is "$(jobs)" "$first" "blocks full: nothing in new/ or tmp/ but the first job"

# 2. no inodes left (blocks free again)
rm m/fill
i=0
while [ $i -lt 64 ] && (true > "m/i$i") 2> /dev/null; do i=$((i + 1)); done
expect_exit 74 "inodes full: exit 74" wa-send -d auth --outbox "$OUT" 15550002222 "no inode"
one_line_err "inodes full"
like "$(cat "$T/err")" "No space left on device" "inodes full: says the disk is full"
is "$(jobs)" "$first" "inodes full: nothing in new/ or tmp/ but the first job"
rm -f m/i*

# 3. room again: the same command works
mount -o remount,size=1m,nr_inodes=1024 m
ok "after growing the filesystem wa-send queues the job" sh -c "wa-send -d auth --outbox '$OUT' 15550002222 - < '$T/text'"
id=$(cat "$T/out")
is "$(wa-outbox-tool find "$OUT" "$id" | jq -r .text | wc -c | tr -d ' ')" 8001 "the whole text is in the job"
is "$(find "$OUT/tmp" -type f | wc -l | tr -d ' ')" 0 "nothing left in tmp/"
done_testing

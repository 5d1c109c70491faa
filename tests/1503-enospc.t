#!/bin/sh
# 1503-enospc: a full disk.  On a small tmpfs (mounted in a private mount
# namespace), with the writer holding the folder open as a long-running
# process would: when the data blocks run out, and when the inodes run out,
# a durable write fails with one clear line naming the file, the old file
# is intact and no temporary file is left; once the filesystem is grown
# (remount) the same process writes again.  A new writer started on the
# full disk fails cleanly and changes nothing.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

if [ "${1:-}" != --ns ]; then
	[ "$(id -u)" -eq 0 ] || skip_all "needs root to mount a tmpfs"
	unshare -m true 2> /dev/null || skip_all "unshare -m is not allowed here"
	unshare -m sh "$0" --ns
	exit $?
fi

M=$T/m
A=$M/auth
mkdir "$M"
mount -t tmpfs -o size=256k,nr_inodes=64,mode=700 tmpfs "$M" 2> "$T/e" ||
	skip_all "mount -t tmpfs is not allowed here: $(head -n1 "$T/e")"
umount_m() { umount "$M"; }
on_exit umount_m

# documents: old (in place before), new (the one the full disk refuses)
doc() { printf '{"v":%s,"pad":"%s"}\n' "$1" "$(head -c "$2" /dev/zero | tr '\0' "$3")"; }
doc 1 1500 a > "$T/old"
doc 2 6000 b > "$T/new"
doc 3 6000 c > "$T/new3"
ok "the old creds.json is written" sh -c "wa-stress-writer -d '$A' -P creds.json < '$T/old'"
oldsum=$(sha256sum < "$A/creds.json")

# a writer that keeps the folder (and its lock) open: one "put NAME FILE"
# line in, one "ok NAME" / "fail NAME" line out
mkfifo "$T/fifo.in" "$T/fifo.out"
wa-stress-writer -d "$A" -S < "$T/fifo.in" > "$T/fifo.out" 2>> "$T/w.err" &
wpid=$!
echo "$wpid" >> "$T/.pids"
exec 3> "$T/fifo.in" 4< "$T/fifo.out"
read -r ready _ <&4
is "$ready" ready "the writer holds the folder"

# put NAME FILE: ask the writer, return its answer
put() { echo "put $1 $2" >&3; read -r ans _ <&4; echo "$ans"; }
tmpcount() { find "$A/.wa/tmp" -mindepth 1 | wc -l | tr -d ' '; }

# 1. no data blocks left
dd if=/dev/zero of="$M/fill" bs=4096 2> /dev/null
is "$(put creds.json "$T/new")" fail "disk full: the durable write fails"
is "$(cat "$T/w.err")" "wa-stress-writer: unable to write '$A/creds.json': No space left on device" \
    "one line naming the file and the reason"
is "$(sha256sum < "$A/creds.json")" "$oldsum" "the old creds.json is intact"
is "$(tmpcount)" 0 "no temporary file left"
is "$(find "$A" -name '.wa-tmp.*' | wc -l | tr -d ' ')" 0 "no temporary file anywhere in the folder"

# 2. space comes back: the same process writes again
mount -o remount,size=1m "$M"
is "$(put creds.json "$T/new")" ok "after growing the filesystem the write succeeds"
cmp -s "$A/creds.json" "$T/new" && pass "creds.json holds the new content" || fail "creds.json holds the new content"
is "$(tmpcount)" 0 "no temporary file left"
newsum=$(sha256sum < "$A/creds.json")

# 3. no inodes left (the data has room)
rm -f "$M/fill"
i=0
while (: > "$M/i.$i") 2> /dev/null; do i=$((i + 1)); [ "$i" -gt 10000 ] && break; done
isnt "$i" 10001 "the inodes ran out after $i files"
: > "$T/w.err"
is "$(put creds.json "$T/new3")" fail "no inodes: the durable write fails"
is "$(cat "$T/w.err")" "wa-stress-writer: unable to write '$A/creds.json': No space left on device" \
    "one line naming the file and the reason"
is "$(sha256sum < "$A/creds.json")" "$newsum" "the previous creds.json is intact"
is "$(tmpcount)" 0 "no temporary file left"

# 4. inodes come back
mount -o remount,nr_inodes=1024 "$M"
is "$(put creds.json "$T/new3")" ok "after adding inodes the write succeeds"
cmp -s "$A/creds.json" "$T/new3" && pass "creds.json holds the newest content" || fail "creds.json holds the newest content"
is "$(tmpcount)" 0 "no temporary file left"

exec 3>&-
wait "$wpid"
is "$?" 74 "the writer exits 74 because two writes failed"
exec 4<&-

# 5. a new writer started on a full disk: one line, exit 74, nothing changed
rm -f "$M"/i.*
dd if=/dev/zero of="$M/fill" bs=4096 2> /dev/null
before=$(tree_state "$A")
expect_exit 74 "a new writer on the full disk exits 74" sh -c "wa-stress-writer -d '$A' -P creds.json < '$T/old'"
is "$(lines "$T/err")" 1 "with one line on stderr"
like "$(cat "$T/err")" "No space left on device" "saying the disk is full"
is "$(tree_state "$A")" "$before" "and changes nothing"
cmp -s "$A/creds.json" "$T/new3" && pass "creds.json still holds the newest content" || fail "creds.json still holds the newest content"
done_testing

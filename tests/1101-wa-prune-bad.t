#!/bin/sh
# 1101-wa-prune-bad: every bad input gets one line on stderr naming the
# path, its documented exit code, and no change to the folder (not even a
# .wa made): missing folder (66), a file as the folder (66), a symlinked
# folder or .wa (77), no creds.json (66), empty, truncated or garbage
# creds.json (65), a symlinked creds.json pointing outside (77, target
# untouched), an unreadable file (77), the lock held
# by another process (75, naming it).  A stale lock is taken over with a
# note; a fifo with a session name is left alone.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

K32A=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=
K32B=ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=
K64=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA==
kp() { printf '{"private":{"type":"Buffer","data":"%s"},"public":{"type":"Buffer","data":"%s"}}' $K32A $K32B; }
creds() {
	printf '{"noiseKey":%s,"pairingEphemeralKeyPair":%s,"signedIdentityKey":%s,' "$(kp)" "$(kp)" "$(kp)"
	printf '"signedPreKey":{"keyPair":%s,"signature":{"type":"Buffer","data":"%s"},"keyId":1},' "$(kp)" $K64
	printf '"registrationId":1234,"advSecretKey":"%s","me":{"id":"15550001111:3@s.whatsapp.net"},' $K32A
	printf '"account":{"details":"%s","accountSignatureKey":"%s","accountSignature":"%s","deviceSignature":"%s"}}' \
	    $K32A $K32B $K64 $K64
}
mkfolder() {
	mkdir -m 700 "$1"
	creds > "$1/creds.json"
	kp > "$1/pre-key-1.json"
	printf '{"_sessions":{},"version":"v1"}' > "$1/session-15550002222.0.json"
	printf '{"_sessions":' > "$1/session-15550002222.4.json"
	printf 'half' > "$1/.wa-tmp.session-x.json.9.aabbccddeeff"
	chmod 600 "$1"/*.json "$1"/.wa-tmp.*
}
err() { cat "$T/err"; }
# refused CODE DESC DIR ARGS...: exit CODE, one line on stderr, DIR unchanged
refused() {
	_code=$1 _desc=$2 _dir=$3
	shift 3
	_before=$(tree_state "$_dir" 2>/dev/null)
	expect_exit "$_code" "$_desc: exit $_code" wa-prune -d "$_dir" "$@"
	one_line_err "$_desc"
	is "$(cat "$T/out")" "" "$_desc: nothing on stdout"
	is "$(tree_state "$_dir" 2>/dev/null)" "$_before" "$_desc: folder unchanged"
}

cd "$T" || exit 1
export LC_ALL=C

refused 66 "missing folder" none --sessions
is "$(err)" "wa-prune: 'none': no such folder" "  names it"
printf 'x' > afile
refused 66 "a file as the folder" afile --sessions
is "$(err)" "wa-prune: 'afile' is not a folder" "  names it"
mkfolder real
ln -s real linked
refused 77 "a symlinked folder" linked --sessions
like "$(err)" "'linked' is a symbolic link" "  names it"
refused 77 "a symlinked folder given as 'linked/'" linked/ --sessions
mkfolder w
ln -s "$T/real" w/.wa
refused 77 "a symlinked .wa" w --sessions
like "$(err)" "'w/.wa': not a real folder" "  names it"

mkfolder c
rm c/creds.json
refused 66 "no creds.json" c --sessions --tmp
is "$(err)" "wa-prune: 'c/creds.json': no such file: not an auth folder (wa-prune works only where credentials are)" "  says why"
: > c/creds.json
refused 65 "empty creds.json" c --sessions
is "$(err)" "wa-prune: 'c/creds.json': empty file; restore it with wa-restore (wa-prune never touches creds.json)" "  points to wa-restore"
creds | head -c 700 > c/creds.json
refused 65 "truncated creds.json" c --corrupt
is "$(err)" "wa-prune: 'c/creds.json': not valid JSON at byte 700 of 700: unexpected end of input; restore it with wa-restore (wa-prune never touches creds.json)" "  byte offset"
printf 'garbage' > c/creds.json
refused 65 "garbage creds.json" c --tmp
like "$(err)" "'c/creds.json': not valid JSON at byte 0 of 7: unexpected character" "  byte 0"

rm c/creds.json
creds > outside.json
ln -s "$T/outside.json" c/creds.json
sum=$(sha256sum < outside.json)
refused 77 "a symlinked creds.json pointing outside" c --sessions --corrupt
like "$(err)" "'c/creds.json': is a symbolic link; refusing" "  names it"
is "$(sha256sum < outside.json)" "$sum" "  target untouched"

# 0644 key files are not refused: the mode rule of wa-authdir(5) (wa-prune
# sets them to 0600 and says so; tests/1103-modes-rule.t)

# the lock held by another process: 75 at once, naming it
mkfolder l
mkdir -m 700 l/.wa
mkfifo "$T/ready"
bg sh -c 'exec 9>>"$1/.wa/lock"; flock -x 9; printf "pid=%s start=%s prog=test-writer\n" $$ "$(date +%s)" > "$1/.wa/lock"; echo > "$2"; exec sleep 600' \
    sh "$T/l" "$T/ready"
holder=$!
read -r _ < "$T/ready"
refused 75 "the lock held by another process" l --sessions --tmp
like "$(err)" "wa-prune: 'l' is in use by pid $holder (test-writer) since 20" "  names the holder"
like "$(cat l/.wa/lock)" "pid=$holder " "  the holder's lock file untouched"
expect_exit 0 "-n works while a writer holds the lock" timeout 20 wa-prune -n -d l --sessions
is "$(cat "$T/out")" "session-15550002222.0.json
session-15550002222.4.json" "  and lists"
kill "$holder"
wait "$holder" 2>/dev/null

# a stale lock: taken over, with a note
mkfolder s
mkdir -m 700 s/.wa
printf 'pid=999999999 start=1795256113 pstart=1 prog=wa-run\n' > s/.wa/lock
chmod 600 s/.wa/lock
expect_exit 0 "a stale lock is taken over" wa-prune -d s --tmp
like "$(err)" "wa-prune: note: 's/.wa/lock' was left by pid 999999999 (wa-run) since 2026-11-21T10:15:13Z, which is no longer running; taken over" "  with a note"
is "$(cat "$T/out")" ".wa-tmp.session-x.json.9.aabbccddeeff" "  and works"

# leftovers stay unless --tmp; a fifo with a session name is never opened
# (no hang), and --corrupt moves it (wa-check calls it broken)
mkfolder f
mkfifo f/session-15550009999.0.json
expect_exit 0 "--sessions with a fifo named like a session" timeout 20 wa-prune -d f --sessions
is "$(tr '\n' ' ' < "$T/out")" "session-15550002222.0.json session-15550002222.4.json " "  regular sessions moved, the fifo left"
test -p f/session-15550009999.0.json && test -f f/.wa-tmp.session-x.json.9.aabbccddeeff
is "$?" 0 "  fifo and leftover still there"
expect_exit 0 "--corrupt moves the fifo" timeout 20 wa-prune -d f --corrupt
is "$(cat "$T/out")" "session-15550009999.0.json" "  only the fifo"
test ! -e f/session-15550009999.0.json && test -f f/.wa-tmp.session-x.json.9.aabbccddeeff
is "$?" 0 "  gone from the folder, the leftover still there"

# an unreadable file: as root everything is readable, so run as nobody
# (setpriv) on a folder nobody owns, with one session mode 000
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
    setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	chmod 711 "$T"
	mkfolder nb
	mkdir -m 700 nb/.wa
	chmod 000 nb/session-15550002222.0.json
	chown -R 65534:65534 nb
	before=$(tree_state nb)
	expect_exit 77 "an unreadable file with --corrupt: exit 77" \
	    setpriv --reuid=65534 --regid=65534 --clear-groups wa-prune -d nb --corrupt
	is "$(err)" "wa-prune: 'nb/session-15550002222.0.json': Permission denied" "  names it"
	is "$(tree_state nb)" "$before" "  folder unchanged"
	chmod 700 "$T"
else
	pass "# SKIP not root or no setpriv: unreadable-file case"
fi
done_testing

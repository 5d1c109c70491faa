#!/bin/sh
# 1001-wa-check-bad: every kind of bad folder gives its documented status
# (2 CRITICAL, 1 WARNING, 3 UNKNOWN), a summary line naming the path, and
# no change to the folder: missing folder, a file or a link as the folder,
# truncated/garbage/empty/unpaired/missing creds.json, truncated session
# files (all of them named), a symlinked creds.json pointing outside (its
# target untouched), 0644 key files, a 0755 folder, a stale lock, leftover
# temporary files (a warning only without a live writer), a lock held by
# another process (no blocking), fifos and folders with auth-file names,
# and unreadable files.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

K32A=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=
K32B=ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=
K64=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA==
kp() { printf '{"private":{"type":"Buffer","data":"%s"},"public":{"type":"Buffer","data":"%s"}}' $K32A $K32B; }
creds() {
	printf '{"noiseKey":%s,"pairingEphemeralKeyPair":%s,"signedIdentityKey":%s,' "$(kp)" "$(kp)" "$(kp)"
	printf '"signedPreKey":{"keyPair":%s,"signature":{"type":"Buffer","data":"%s"},"keyId":1},' "$(kp)" $K64
	printf '"registrationId":1234,"advSecretKey":"%s","nextPreKeyId":31,"firstUnuploadedPreKeyId":31' $K32A
	case ${1:-paired} in
	paired) printf ',"me":{"id":"15550001111:3@s.whatsapp.net"},"account":{"details":"%s","accountSignatureKey":"%s","accountSignature":"%s","deviceSignature":"%s"}' \
	    $K32A $K32B $K64 $K64 ;;
	me-only) printf ',"me":{"id":"15550001111:3@s.whatsapp.net"}' ;;
	esac
	printf '}'
}
mkfolder() {
	mkdir -m 700 "$1"
	creds > "$1/creds.json"
	kp > "$1/pre-key-1.json"
	kp > "$1/pre-key-2.json"
	printf '{"_sessions":{},"version":"v1"}' > "$1/session-15550002222.0.json"
	printf '{"_sessions":{},"version":"v1"}' > "$1/session-15550002222.4.json"
	chmod 600 "$1"/*
}
out() { cat "$T/out"; }
# unchanged DIR BEFORE DESC
unchanged() { is "$(tree_state "$1")" "$2" "$3: folder unchanged"; }

cd "$T" || exit 1
export LC_ALL=C

# ---- the folder itself ----
expect_exit 2 "missing folder: CRITICAL" wa-check -d none
is "$(out)" "WA CRITICAL - 'none': no such folder" "  summary names it"
is "$(cat "$T/err")" "" "  nothing on stderr (the plugin line is the report)"
printf 'x' > afile
expect_exit 2 "a file where the folder should be: CRITICAL" wa-check -d afile
is "$(out)" "WA CRITICAL - 'afile': not a folder" "  summary names it"
mkfolder real
ln -s real linked
expect_exit 2 "a symlinked folder: CRITICAL" wa-check -d linked
like "$(out)" "WA CRITICAL - 'linked': symbolic link to 'real': wa tools refuse a linked folder" "  names it and the target"
expect_exit 2 "... also given as 'linked/' (a trailing slash would follow it)" wa-check -d linked/
like "$(out)" "WA CRITICAL - 'linked': symbolic link to 'real'" "  same report"
chmod 755 real
before=$(tree_state real)
expect_exit 1 "folder mode 0755: WARNING" wa-check -d real
like "$(out)" "WA WARNING - 'real': folder mode 0755 lets group or others list it; fix with: chmod 700 'real'" "  with the fix"
unchanged real "$before" "0755"
chmod 700 real

# ---- creds.json ----
mkfolder c
creds > full
head -c 812 full > c/creds.json
before=$(tree_state c)
expect_exit 2 "truncated creds.json: CRITICAL" wa-check -d c
like "$(out)" "WA CRITICAL - 'c/creds.json': not valid JSON at byte 812 of 812: unexpected end of input (truncated); Baileys would start a new identity: do not start the bot, restore it with wa-restore" "  byte offset and wa-restore"
unchanged c "$before" "truncated creds"
chmod 644 c/creds.json
expect_exit 2 "truncated and 0644: the truncation is named first" wa-check -d c
like "$(out)" "WA CRITICAL - 'c/creds.json': not valid JSON at byte 812 of 812" "  the content is the news"
like "$(out)" "(and 1 other problem)" "  the mode is counted"
chmod 600 c/creds.json
printf '\000\001garbage' > c/creds.json
expect_exit 2 "garbage creds.json: CRITICAL" wa-check -d c
like "$(out)" "'c/creds.json': not valid JSON at byte 0 of 9: unexpected character" "  byte 0"
: > c/creds.json
expect_exit 2 "empty creds.json: CRITICAL" wa-check -d c
like "$(out)" "'c/creds.json': empty file (0 bytes, a torn write)" "  says empty"
creds me-only > c/creds.json
expect_exit 2 "me without account: not paired" wa-check -d c
like "$(out)" "'c/creds.json': not paired: run wa-pair (not paired: no account (me alone is not proof of pairing))" "  run wa-pair"
creds unpaired > c/creds.json
expect_exit 2 "never paired: not paired" wa-check -d c
like "$(out)" "'c/creds.json': not paired: run wa-pair" "  run wa-pair"
printf '{"me":{"id":"1@s.whatsapp.net"}}' > c/creds.json
expect_exit 2 "creds without keys: incomplete" wa-check -d c
like "$(out)" "'c/creds.json': incomplete: noiseKey missing or not a 32-byte key pair; restore it with wa-restore" "  names the field"
rm c/creds.json
before=$(tree_state c)
expect_exit 2 "no creds.json: CRITICAL" wa-check -d c
like "$(out)" "'c/creds.json': missing" "  says missing"
unchanged c "$before" "no creds"

creds > outside.json
chmod 600 outside.json
ln -s "$T/outside.json" c/creds.json
before=$(tree_state c)
sum=$(sha256sum < outside.json)
expect_exit 2 "symlinked creds.json pointing outside: CRITICAL" wa-check -d c
like "$(out)" "'c/creds.json': symbolic link to '$T/outside.json': wa never follows links in the folder" "  names the link and its target"
is "$(sha256sum < outside.json)" "$sum" "  target untouched"
unchanged c "$before" "symlinked creds"

# ---- every JSON file, not only the first bad one ----
mkfolder s
printf '{"_sessions":{"BQ==":{"registrationId":7,' > s/session-15550002222.0.json
printf '{"_sessions":' > s/session-15550002222.4.json
printf 'garbage' > s/pre-key-2.json
before=$(tree_state s)
expect_exit 2 "truncated sessions: CRITICAL" wa-check -v -d s
is "$(sed -n 1p "$T/out" | sed 's/ |.*//')" "WA CRITICAL - 's/pre-key-2.json': not valid JSON at byte 0 of 7: unexpected character; move it away with wa-prune --corrupt (and 2 other problems)" "  summary: first one and the count"
like "$(out)" "CRITICAL: 's/session-15550002222.0.json': not valid JSON at byte 41 of 41: unexpected end of input (truncated); that contact gets Bad MAC errors" "  first session named"
like "$(out)" "CRITICAL: 's/session-15550002222.4.json': not valid JSON at byte 13 of 13" "  second session named"
is "$(lines "$T/out")" 4 "  summary + 3 problems"
unchanged s "$before" "truncated sessions"

# ---- permissions ----
mkfolder p
chmod 644 p/pre-key-1.json p/session-15550002222.0.json
before=$(tree_state p)
# the mode rule (wa-authdir(5)): a WARNING, the writers set 0600
expect_exit 1 "0644 key files: WARNING" wa-check -v -d p
like "$(out)" "WA WARNING - 'p/pre-key-1.json': mode 0644 lets group or others read secret keys; the next wa-run or wa-prune sets it to 0600; fix with: chmod 600 'p/pre-key-1.json' (and 1 other problem)" "  with the chmod hint"
like "$(out)" "WARNING: 'p/session-15550002222.0.json': mode 0644" "  each file named"
unchanged p "$before" "0644"

# ---- leftovers and locks ----
mkfolder l
mkdir -m 700 l/.wa l/.wa/tmp
printf '{"half' > l/.wa/tmp/.wa-tmp.creds.json.77.0a0b0c0d0e0f
printf 'pid=999999999 start=1795256113 pstart=1 prog=wa-run\n' > l/.wa/lock
chmod 600 l/.wa/lock l/.wa/tmp/.wa-tmp.*
before=$(tree_state l)
expect_exit 1 "leftover temp file and stale lock: WARNING" wa-check -v -d l
like "$(out)" "WARNING: 'l/.wa/lock': stale lock: pid 999999999 (wa-run) since 2026-11-21T" "  stale lock named"
like "$(out)" "WARNING: 'l/.wa/tmp/.wa-tmp.creds.json.77.0a0b0c0d0e0f': leftover temporary file from an interrupted write (never data); remove it with wa-prune --tmp" "  leftover named"
like "$(out)" " tmp=1 " "  counted in perfdata"
unchanged l "$before" "leftovers"

# another process holds the lock (flock, pid written like wa's writers):
# wa-check neither blocks nor warns about the temp file, which may be its
mkfifo "$T/ready"
bg sh -c 'exec 9>>"$1/.wa/lock"; flock -x 9; printf "pid=%s start=%s prog=test-writer\n" $$ "$(date +%s)" > "$1/.wa/lock"; echo > "$2"; exec sleep 600' \
    sh "$T/l" "$T/ready"
read -r _ < "$T/ready"
before=$(tree_state l)
expect_exit 0 "lock held by a live writer: OK, no waiting" timeout 20 wa-check -d l --json
like "$(out)" '"lock":{"held":true,"stale":false,"foreign":false,"pid":' "  --json reports the holder"
like "$(out)" '"prog":"test-writer"' "  and its program"
like "$(out)" '"tmp_files":1' "  the temp file is counted, not a problem"
unchanged l "$before" "locked"

# ---- .wa not a folder ----
mkfolder x
printf 'x' > x/.wa
expect_exit 2 "a file named .wa: CRITICAL (the writers refuse the folder)" wa-check -d x
like "$(out)" "WA CRITICAL - 'x/.wa': not a real folder (something else is there): wa tools that write" "  named"

# ---- odd file kinds ----
mkfolder f
mkfifo f/session-15550009999.0.json
mkdir f/pre-key-7.json
before=$(tree_state f)
expect_exit 2 "a fifo and a folder with auth-file names: CRITICAL, no hang" timeout 20 wa-check -v -d f
like "$(out)" "CRITICAL: 'f/session-15550009999.0.json': not a regular file (a fifo, socket or device)" "  fifo named"
like "$(out)" "CRITICAL: 'f/pre-key-7.json': a folder where an auth file should be" "  folder named"
unchanged f "$before" "odd kinds"

# ---- unreadable files ----
# The tests run as root, and root reads mode 000 files.  So run wa-check
# as nobody with setpriv(1) against a folder nobody owns: an unreadable
# file of its own is CRITICAL (Baileys would take it as missing); a folder
# nobody cannot enter because root owns it is UNKNOWN (wrong user).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
    setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	chmod 711 "$T"
	mkfolder nb
	chmod 000 nb/session-15550002222.0.json
	chown -R 65534:65534 nb
	before=$(tree_state nb)
	expect_exit 2 "as the owner, an unreadable session: CRITICAL" \
	    setpriv --reuid=65534 --regid=65534 --clear-groups wa-check -d nb
	like "$(out)" "'nb/session-15550002222.0.json': its owner cannot read it (Permission denied): Baileys would take it as missing" "  named, with the consequence"
	unchanged nb "$before" "unreadable"
	expect_exit 3 "as another user, a folder it cannot open: UNKNOWN" \
	    setpriv --reuid=65534 --regid=65534 --clear-groups wa-check -d real
	like "$(out)" "WA UNKNOWN - 'real': cannot open it as uid 65534 (Permission denied): run wa-check as the folder's owner" "  says why"
	chmod 700 "$T"
else
	pass "# SKIP not root or no setpriv: unreadable-file cases"
fi
done_testing

#!/bin/sh
# 1506-security: modes and symbolic links on the write path.
#
# 1. Under umask 000 every program that writes (the stress writer in each
#    mode, and each wa tool that is built: wa-backup, wa-restore, wa-prune)
#    leaves no group/other bit: files 0600, folders 0700.
# 2. A symbolic link named creds.json (or a session file) pointing outside
#    the folder is never written through.  Decision: wa_authdir_put does
#    not refuse it; the rename that commits the new version replaces the
#    directory entry, i.e. the link itself, with the new regular file, and
#    the target outside stays byte for byte as it was (a dangling link's
#    target is not created).  That is safe (nothing outside is touched),
#    and keeps a long-running writer working; readers (wa-check, the
#    loaders) refuse such a link, so an operator still hears about it.  A
#    hard link to a file outside is likewise left alone: the new version is
#    a new inode.
# 3. Symbolic links in place of the folder, .wa or .wa/tmp are refused
#    (exit 77) and nothing is created where they point.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

cd "$T" || exit 1
W=wa-stress-writer

# loose PATH...: every file or folder under PATH with a group/other bit
loose() { find "$@" \( -type f -o -type d \) -perm /077 -printf '%m %p\n' 2> /dev/null; }

# --- 1. umask 000 -----------------------------------------------------------
(
	umask 000
	"$W" -d loop -f 4 -n 3 > /dev/null
	echo '{"p":1}' | "$W" -d oneput -P creds.json
	mkdir -p scriptdir && echo '{"s":1}' > scriptdir/in.json
	echo "put session-1.0.json $T/scriptdir/in.json" | "$W" -d script -S > /dev/null
) 2> "$T/e"
is "$(cat "$T/e")" "" "the stress writer ran under umask 000"
is "$(loose loop oneput script)" "" "stress writer under umask 000: files 0600, folders 0700 (folder, .wa, .wa/tmp, lock, data)"
is "$(stat -c %a loop loop/.wa loop/.wa/tmp loop/.wa/lock loop/creds.json | tr '\n' ' ')" "700 700 700 600 600 " \
    "the modes are exactly 0700 and 0600"

# a small paired folder, as the tools expect
mkfolder() {
	mkdir -m 700 "$1"
	printf '{"noiseKey":1,"me":{"id":"15550001111:3@s.whatsapp.net"},"account":{}}\n' > "$1/creds.json"
	printf '{"keyId":1}\n' > "$1/pre-key-1.json"
	printf '{"_sessions":{},"version":"v1"}\n' > "$1/session-15550002222.0.json"
	chmod 600 "$1"/*
}
mkfolder tools
for tool in wa-backup wa-restore wa-prune; do
	if [ ! -x "$WA_BIN/$tool" ]; then
		pass "$tool under umask 000 # SKIP $tool is not built"
		continue
	fi
	case $tool in
	wa-backup)
		( umask 000; wa-backup -q -d tools -o tools.tar && wa-backup -q -d tools -B tools.bk ) > /dev/null 2> "$T/e"
		rc=$?; made="tools.tar tools.bk" ;;
	wa-restore)
		[ -f tools.tar ] || wa-backup -q -d tools -o tools.tar > /dev/null 2>&1
		( umask 000; wa-restore -d restored tools.tar && wa-restore -d tools tools.tar ) > /dev/null 2> "$T/e"
		rc=$?; made="restored tools $(ls -d tools.replaced-* 2> /dev/null)" ;;
	wa-prune)
		( umask 000; wa-prune -d tools --sessions ) > /dev/null 2> "$T/e"
		rc=$?; made="tools" ;;
	esac
	if [ "$rc" -ne 0 ]; then
		fail "$tool under umask 000" "exit $rc: $(cat "$T/e")"
		continue
	fi
	# shellcheck disable=SC2086
	is "$(loose $made)" "" "$tool under umask 000: files 0600, folders 0700"
done
[ -d tools/.wa/quarantine ] && is "$(stat -c %a tools/.wa/quarantine)" 700 "the quarantine folder is 0700"

# --- 2. links named like auth files ----------------------------------------
mkdir -m 700 outside
printf 'OUTSIDE SECRET\n' > outside/secret.json
chmod 644 outside/secret.json
before=$(sha256sum < outside/secret.json)
mkdir -m 700 auth
ln -s "$T/outside/secret.json" auth/creds.json
ok "a put of creds.json over a symbolic link succeeds" sh -c "echo '{\"v\":2}' | $W -d auth -P creds.json"
[ -f auth/creds.json ] && [ ! -L auth/creds.json ] && pass "creds.json is now a regular file, the link is gone" ||
	fail "creds.json is now a regular file, the link is gone" "$(ls -l auth)"
is "$(cat auth/creds.json)" '{"v":2}' "holding the new content"
is "$(sha256sum < outside/secret.json)" "$before" "the target outside is byte for byte unchanged"
is "$(stat -c %a outside/secret.json)" 644 "and its mode too"

# a dangling link: its target must not be created
ln -s "$T/outside/created.json" auth/session-1.0.json
ok "a put over a dangling link succeeds" sh -c "echo '{\"s\":1}' | $W -d auth -P session-1.0.json"
[ ! -e outside/created.json ] && pass "the dangling link's target was not created" ||
	fail "the dangling link's target was not created"
[ -f auth/session-1.0.json ] && [ ! -L auth/session-1.0.json ] && pass "the link was replaced by the file" ||
	fail "the link was replaced by the file"

# the loop writer over links to session files
for i in 1 2 3; do ln -sf "$T/outside/secret.json" "auth/session-49151000000$i.0.json"; done
ok "the loop writer runs over links" "$W" -d auth -f 4 -n 2
is "$(find auth -maxdepth 1 -type l | wc -l | tr -d ' ')" 0 "every link was replaced"
is "$(sha256sum < outside/secret.json)" "$before" "the target outside is still unchanged"

# a hard link to a file outside: a new inode, the outside file unchanged
mkdir -m 700 hl
ln outside/secret.json hl/creds.json
ok "a put of a hard-linked creds.json succeeds" sh -c "echo '{\"h\":1}' | $W -d hl -P creds.json"
is "$(sha256sum < outside/secret.json)" "$before" "the hard-linked file outside is unchanged"
is "$(stat -c %h outside/secret.json)" 1 "and no longer linked into the folder"

# --- 3. links in place of folders --------------------------------------------
state=$(tree_state outside)
ln -s "$T/outside" linkdir
expect_exit 77 "a symbolic link as the auth folder is refused" sh -c "echo '{}' | $W -d linkdir -P creds.json"
like "$(cat "$T/err")" "symbolic link" "saying why"
mkdir -m 700 a2
ln -s "$T/outside" a2/.wa
expect_exit 77 "a symbolic link as .wa is refused" sh -c "echo '{}' | $W -d a2 -P creds.json"
mkdir -m 700 a3 a3/.wa
ln -s "$T/outside" a3/.wa/tmp
expect_exit 77 "a symbolic link as .wa/tmp is refused" sh -c "echo '{}' | $W -d a3 -P creds.json"
is "$(tree_state outside)" "$state" "nothing was created or changed outside"
[ ! -e a2/creds.json ] && [ ! -e a3/creds.json ] && pass "and nothing was written in those folders" ||
	fail "and nothing was written in those folders"
done_testing

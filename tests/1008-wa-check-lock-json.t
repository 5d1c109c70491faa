#!/bin/sh
# 1008-wa-check-lock-json: a lock held by a process that is not a wa tool
# (flock(1) from a shell, which writes no record) is seen as held: wa-check
# --json says lock.held true (foreign, with flock's pid), wa-prune names
# that pid and program instead of "pid 0 (?) since ?".  In JSON mode every
# usage error is JSON on stdout (still UNKNOWN, 3), in one wording per
# cause: {"status":"unknown","error":{"kind":...,"message":...},...}.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"
command -v flock > /dev/null 2>&1 || skip_all "flock(1) missing"
command -v jq > /dev/null 2>&1 || skip_all "jq missing"
[ -r /proc/locks ] || skip_all "no /proc/locks"

cd "$T" || exit 1
mkfolder auth
mkdir -m 700 auth/.wa
: > auth/.wa/lock
chmod 600 auth/.wa/lock
mkfifo "$T/go"
# flock holds the lock while cat waits on the fifo (no sleep involved)
bg flock auth/.wa/lock cat "$T/go"
FPID=$!
# wait until the kernel lists the lock (an event we can poll for, bounded)
i=0
while [ $i -lt 500 ]; do
	wa-check -d auth --json > "$T/j" 2>/dev/null
	[ "$(jq -r .lock.held "$T/j")" = true ] && break
	i=$((i + 1))
done
is "$(jq -r .lock.held "$T/j")" true "wa-check --json: lock.held is true"
is "$(jq -r .lock.foreign "$T/j")" true "... foreign (no wa record)"
is "$(jq -r .lock.pid "$T/j")" "$FPID" "... with flock's pid"
is "$(jq -r .lock.stale "$T/j")" false "... not stale"
is "$(jq -r .status "$T/j")" ok "a held lock is no problem"
expect_exit 75 "wa-prune is refused: locked" wa-prune -d auth --tmp
like "$(cat "$T/err")" "in use by pid $FPID (flock, not a wa tool)" "wa-prune names flock and its pid"
unlike "$(cat "$T/err")" "(?)" "no '(?)'"
unlike "$(cat "$T/err")" "since ?" "no 'since ?'"
echo > "$T/go"
wait "$FPID" 2>/dev/null
wa-check -d auth --json > "$T/j"
is "$(jq -r .lock.held "$T/j")" false "released: lock.held false"

# usage errors in JSON mode
for args in "--json --bogus" "--bogus --json" "--json --warn-files x" "--json --min-free" "--json extra" "--json --problems"; do
	# shellcheck disable=SC2086
	expect_exit 3 "wa-check $args: UNKNOWN" wa-check -d auth $args
	cp "$T/out" "$T/u"
	ok "wa-check $args: stdout is JSON" jq -e . "$T/u"
	is "$(jq -r .status "$T/u")/$(jq -r .error.kind "$T/u")/$(jq -r '.problems[0].kind' "$T/u")" \
	    unknown/usage/usage "wa-check $args: status unknown, kind usage"
done
expect_exit 3 "no folder, --json" env -u WA_AUTH_DIR wa-check --json
cp "$T/out" "$T/u"
is "$(jq -r .error.kind "$T/u")" no_folder "no folder: kind no_folder"
is "$(jq -r .error.message "$T/u")" "no auth folder: pass -d DIR or set WA_AUTH_DIR" "no folder: the one wording"
expect_exit 64 "wa-prune without a folder" env -u WA_AUTH_DIR wa-prune --tmp
like "$(cat "$T/err")" "no auth folder: pass -d DIR or set WA_AUTH_DIR" "wa-prune: the same wording"
expect_exit 3 "text mode keeps the plugin line" wa-check -d auth --bogus
is "$(cat "$T/out")" "WA UNKNOWN - bad usage (see wa-check -h)" "plugin line"
done_testing

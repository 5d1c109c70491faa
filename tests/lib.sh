# tests/lib.sh - sourced by every shell test (POSIX sh, TAP on stdout).
#
#   . "${WA_TOP:-.}/tests/lib.sh"
#   plan 3                     (or done_testing at the end)
#   ok "creds parse" wa-check -d "$T/auth"
#   expect_exit 66 "missing folder" wa-check -d "$T/none"   # stderr in $T/err
#   is "$(cat f)" "want" "content"
#   like "$(cat "$T/err")" "creds.json" "error names the file"
#
# Each test gets its own folder $T (removed at exit) and the built tools
# on PATH: $WA_BIN (tools), $WA_TESTBIN (test programs), set by make check
# and defaulting to the release build.  Background processes started with
# bg (pid appended to $T/.pids) are killed at exit.

set -u
: "${WA_TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${WA_BIN:=$WA_TOP/build/bin}"
: "${WA_TESTBIN:=$WA_TOP/build/tests}"
export WA_TOP WA_BIN WA_TESTBIN
PATH=$WA_BIN:$WA_TESTBIN:$PATH
export PATH
unset WA_AUTH_DIR
T=$(mktemp -d "${TMPDIR:-/tmp}/wa-test.XXXXXX")
export T
_tap_n=0
_tap_fail=0
_tap_plan=
_cleanup_hooks=

_tap_exit() {
	rc=$?
	if [ -f "$T/.pids" ]; then
		while read -r p; do kill -9 "$p" 2>/dev/null; done < "$T/.pids"
	fi
	for h in $_cleanup_hooks; do "$h" 2>/dev/null; done
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
	if [ -z "$_tap_plan" ] && [ "$_tap_n" -gt 0 ] && [ -z "${_tap_done:-}" ]; then
		echo "1..$_tap_n"
	fi
	[ "$_tap_fail" -eq 0 ] || exit 1
	exit "$rc"
}
trap _tap_exit EXIT
trap 'exit 130' INT TERM HUP

on_exit() { _cleanup_hooks="$_cleanup_hooks $1"; }
plan() { _tap_plan=$1; echo "1..$1"; }
done_testing() { [ -n "$_tap_plan" ] || echo "1..$_tap_n"; _tap_done=1; }
skip_all() { echo "1..0 # SKIP $*"; _tap_plan=0; exit 0; }
diag() { printf '# %s\n' "$*" | sed '2,$s/^/# /'; }

pass() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
fail() {
	_tap_n=$((_tap_n + 1)); _tap_fail=$((_tap_fail + 1))
	echo "not ok $_tap_n - $1"
	shift
	# diagnostics of a failure go to stderr, which prove shows without -v
	[ $# -gt 0 ] && diag "$@" >&2
	return 0
}

# ok DESC CMD...: passes when CMD exits 0; stdout in $T/out, stderr in $T/err
ok() {
	_d=$1; shift
	if "$@" > "$T/out" 2> "$T/err"; then pass "$_d"; else
		fail "$_d" "exit $? from: $*" "$(head -c 2000 "$T/err")"; fi
}

# expect_exit CODE DESC CMD...
expect_exit() {
	_c=$1; _d=$2; shift 2
	"$@" > "$T/out" 2> "$T/err"
	_r=$?
	if [ "$_r" -eq "$_c" ]; then pass "$_d"; else
		fail "$_d" "exit $_r, want $_c, from: $*" "$(head -c 2000 "$T/err")"; fi
}

is() {
	if [ "$1" = "$2" ]; then pass "$3"; else fail "$3" "got:  $1" "want: $2"; fi
}
isnt() {
	if [ "$1" != "$2" ]; then pass "$3"; else fail "$3" "both: $1"; fi
}
# like TEXT SUBSTRING DESC
like() {
	case $1 in *"$2"*) pass "$3" ;; *) fail "$3" "'$2' not in:" "$1" ;; esac
}
unlike() {
	case $1 in *"$2"*) fail "$3" "'$2' found in:" "$1" ;; *) pass "$3" ;; esac
}

# lines FILE: number of lines
lines() { wc -l < "$1" | tr -d ' '; }

# one_line_err: stderr holds exactly one line
one_line_err() {
	is "$(lines "$T/err")" 1 "$1: one line on stderr"
}

# tree_state DIR: every entry with type, mode and content hash, to assert
# that a command changed nothing
tree_state() {
	(cd "$1" && find . -print | LC_ALL=C sort | while IFS= read -r f; do
		if [ -L "$f" ]; then printf '%s L %s\n' "$f" "$(readlink "$f")"
		elif [ -f "$f" ]; then printf '%s F %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -c1-16)"
		else printf '%s D %s\n' "$f" "$(stat -c %a "$f")"; fi
	done)
}

# bg CMD...: start in the background, killed at exit; pid in $!
bg() { "$@" & echo $! >> "$T/.pids"; }

have_node() {
	command -v node >/dev/null 2>&1 && [ -d "$WA_TOP/tests/fakewa/node_modules/baileys" ]
}

# baileys_folder DIR [mkauth options]: a real Baileys auth folder in DIR,
# made once per option set and copied (generating one takes a second or
# two of Node).  Needs have_node.
baileys_folder() {
	_dst=$1; shift
	_key=$(printf '%s' "$*" | sha256sum | cut -c1-12)
	_cache="$WA_TOP/build/fixtures/baileys-$_key"
	if [ ! -d "$_cache" ]; then
		mkdir -p "$WA_TOP/build/fixtures"
		_tmp="$WA_TOP/build/fixtures/.tmp-$$-$_key"
		rm -rf "$_tmp"
		node "$WA_TOP/tests/fakewa/mkauth.mjs" "$_tmp" "$@" 2> "$T/mkauth.err" || {
			cat "$T/mkauth.err" >&2; rm -rf "$_tmp"; return 1; }
		mv -T "$_tmp" "$_cache" 2>/dev/null || rm -rf "$_tmp"
	fi
	cp -a "$_cache" "$_dst" && chmod 700 "$_dst" && find "$_dst" -type f -exec chmod 600 {} +
}

#!/bin/sh
# The docs agree with the code: every tool has a page, its usage line is
# the page's SYNOPSIS word for word, every tool page and wa(7) carry the
# current exit table from cmd/exitcode.h, every page lints clean, and every
# tool answers --version with "NAME VERSION" (lib/base/version.h).
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v mandoc >/dev/null 2>&1 || skip_all "mandoc not installed"

ok "exit tables in man/ match cmd/exitcode.h" "$WA_TOP/scripts/gen-man-exit" --check

for m in "$WA_TOP"/man/*.[1-8]; do
	ok "mandoc -Tlint -Wwarning ${m##*/}" mandoc -Tlint -Wwarning "$m"
	case $m in *.1|*/wa.7)
		ok "${m##*/} has the exit table" grep -q '^\.\\" BEGIN EXIT TABLE' "$m" ;;
	esac
done

# SYNOPSIS of a page as one line: the words after the tool name, with
# white space folded.
synopsis() {
	mandoc -Tascii -O width=1000 "$1" | col -b |
	    awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
	    tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//'
}

version=$(sed -n 's/^#define WA_VERSION "\(.*\)"$/\1/p' "$WA_TOP/lib/base/version.h")
isnt "$version" "" "lib/base/version.h defines WA_VERSION"

for c in "$WA_TOP"/cmd/wa-*.c; do
	[ -e "$c" ] || continue
	t=$(basename "$c" .c)
	if [ ! -f "$WA_TOP/man/$t.1" ]; then
		fail "$t has a man page" "no man/$t.1"
		continue
	fi
	pass "$t has a man page"
	if [ ! -x "$WA_BIN/$t" ]; then
		fail "$t is built" "no $WA_BIN/$t"
		continue
	fi
	"$WA_BIN/$t" -h > "$T/usage" 2> "$T/err"
	is "$?" 0 "$t -h exits 0"
	got=$(tr -s ' \t\n' '   ' < "$T/usage" | sed 's/^usage: //; s/ $//')
	is "$got" "$(synopsis "$WA_TOP/man/$t.1")" "$t -h equals the SYNOPSIS of $t(1)"
	like "$got" "[--version]" "$t: --version in the usage line (and so in the SYNOPSIS)"
	ok "$t(1) describes --version in its option list" grep -qx '\.It Fl -version' "$WA_TOP/man/$t.1"
	"$WA_BIN/$t" --version > "$T/out" 2> "$T/err"
	is "$?" 0 "$t --version exits 0"
	is "$(cat "$T/out")" "$t $version" "$t --version prints '$t $version'"
	is "$(cat "$T/err")" "" "$t --version: nothing on stderr"
	"$WA_BIN/$t" --version > /dev/full 2> "$T/err"
	r=$?
	if [ "$t" = wa-check ]; then want=3; else want=74; fi
	is "$r" "$want" "$t --version to a full disk exits $want"
	"$WA_BIN/$t" --no-such-option > /dev/null 2> "$T/err"
	r=$?
	if [ "$t" = wa-check ]; then want=3; else want=64; fi
	is "$r" "$want" "$t with a bad option exits $want"
	like "$(cat "$T/err")" "usage: $t" "$t with a bad option prints usage on stderr"
done
done_testing

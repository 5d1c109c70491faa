#!/bin/sh
# 1507-layers: lib/ is one library in layers, and the tree shows them.
#
#   base < store < crypto < wire < signal < spool < msg < session < ops
#
# A file in lib/LAYER/ includes headers of its own layer and the layers
# below it, never one above (ops may use everything, base nothing but
# base); cmd/ is above all of them and lib/ never includes from cmd/.  No
# two modules (a .c and its .h are one module) include each other.  Files
# sit only in the known layer folders.  The library reads no environment
# variable (systemd's NOTIFY_SOCKET/WATCHDOG_* contract in sdnotify.c and
# the test build's WA_TEST_* seams aside; notify.c hands its environment
# on to the commands it runs, unread) and names no exit code: policy is
# cmd/'s.  The checker is first shown to
# catch a planted upward include and a planted cycle.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

ORDER="base store crypto wire signal spool msg session ops"

rank() {
	_i=0
	for _l in $ORDER; do
		[ "$_l" = "$1" ] && { echo "$_i"; return; }
		_i=$((_i + 1))
	done
	echo -1
}

# edges ROOT: "FROM_LAYER/FROM_MODULE TO" for every #include "..." in ROOT/lib
edges() {
	( cd "$1" && grep -H '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' lib/*/*.[ch] ) |
	    sed -E 's|^lib/([^/]+)/([^.]+)\.[ch]:[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*|\1/\2 \3|'
}

# check ROOT: print one line per violation
check() {
	for _d in "$1"/lib/*; do
		[ -d "$_d" ] || { echo "not in a layer folder: ${_d#"$1"/}"; continue; }
		[ "$(rank "${_d##*/}")" -ge 0 ] || echo "unknown layer folder: ${_d#"$1"/}"
	done
	edges "$1" | while read -r from to; do
		fl=${from%%/*}
		case $to in
		*.pb-c.h) continue ;;  # generated from proto/, below every layer
		*/*) tl=${to%%/*} ;;
		*) echo "$from includes \"$to\": name the layer (\"LAYER/$to\")"; continue ;;
		esac
		[ -f "$1/lib/$to" ] || { echo "$from includes \"$to\", which is not in lib/"; continue; }
		if [ "$(rank "$tl")" -gt "$(rank "$fl")" ]; then
			echo "$from ($fl) includes $to: layer $tl is above $fl"
		fi
	done
	# module cycles: A includes B's header and B includes A's
	edges "$1" | sed -E 's|\.h$||' | sort -u > "$1.edges"
	while read -r from to; do
		[ "$from" = "$to" ] && continue
		grep -qx "$to $from" "$1.edges" && echo "cycle: $from <-> $to"
	done < "$1.edges"
	rm -f "$1.edges"
}

# the checker finds what it must
P=$T/planted
mkdir -p "$P/lib/base" "$P/lib/store" "$P/lib/ops" "$P/lib/misc"
printf '#include "store/b.h"\n' > "$P/lib/base/a.c"
: > "$P/lib/base/a.h"
printf '#include "base/a.h"\n#include "ops/c.h"\n' > "$P/lib/store/b.c"
: > "$P/lib/store/b.h"
printf '#include "ops/d.h"\n#include "b.h"\n' > "$P/lib/ops/c.c"
: > "$P/lib/ops/c.h"
printf '#include "ops/c.h"\n' > "$P/lib/ops/d.c"
: > "$P/lib/ops/d.h"
printf '#include "../cmd/exitcode.h"\n' > "$P/lib/misc/e.c"
check "$P" > "$T/planted.out"
like "$(cat "$T/planted.out")" 'base/a (base) includes store/b.h' "an upward include is caught"
like "$(cat "$T/planted.out")" 'store/b (store) includes ops/c.h' "an include two layers up is caught"
like "$(cat "$T/planted.out")" 'cycle: ops/c <-> ops/d' "two modules including each other are caught"
like "$(cat "$T/planted.out")" 'includes "b.h": name the layer' "an include without its layer is caught"
like "$(cat "$T/planted.out")" 'unknown layer folder: lib/misc' "a folder that is no layer is caught"
like "$(cat "$T/planted.out")" 'misc/e includes "../cmd/exitcode.h", which is not in lib/' "an include from cmd/ is caught"

# the tree
is "$(check "$WA_TOP")" "" "lib/ keeps its layers: no upward include, no cycle, every include names its layer"
n=$(edges "$WA_TOP" | wc -l | tr -d ' ')
ok "the rule is not vacuous: $n includes checked" test "$n" -gt 100
is "$(cd "$WA_TOP" && ls lib/*.[ch] 2> /dev/null)" "" "no file directly in lib/"

# getenv("NAME") anywhere in lib/: only the allowed names
envs=$(cd "$WA_TOP" && grep -o 'getenv("[A-Za-z0-9_]*")' lib/*/*.c | sed 's/getenv("\(.*\)")/\1/' | sort -u)
ok "the library's getenv calls were found" test -n "$envs"
is "$(printf '%s\n' "$envs" | sed 's/^[^:]*://' | grep -v -e '^NOTIFY_SOCKET$' -e '^WATCHDOG_USEC$' -e '^WATCHDOG_PID$' -e '^WA_TEST_')" "" \
    "no library file reads an environment variable (sd_notify's and the test seams aside)"
is "$(cd "$WA_TOP" && grep -l -E 'getenv\([^"]|secure_getenv' lib/*/*.[ch])" "" "no getenv of a computed name"
is "$(cd "$WA_TOP" && grep -l 'environ' lib/*/*.c | grep -v '^lib/ops/notify.c$')" "" "environ only where commands are spawned (notify.c)"
is "$(cd "$WA_TOP" && grep -l 'WA_EXIT_\|exitcode\.h' lib/*/*.[ch])" "" "no library file names an exit code"
done_testing

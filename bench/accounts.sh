#!/bin/sh
# bench/accounts.sh - fifty accounts on one fakewa, online and idle (issue
# 14): total PSS and idle CPU of
#   wa-run x N        one wa-run process per auth folder
#   Baileys 1 x N     one Node process holding N Baileys sockets (how
#                     gateways run many accounts)
#   Baileys N x 1     one Node process (bench/baileys-login.mjs) per folder
# and, for each, the time from the cold start of all of them until every
# account is online.  PSS (proportional set size, /proc/PID/smaps_rollup)
# counts a shared page once over all the processes that map it, so the
# sum over N processes is their real footprint.  See bench/README.
#
#	sh bench/accounts.sh
#
# Environment (defaults in brackets):
#	BENCH_ACCOUNTS       accounts [50]; 0 leaves this benchmark out
#	BENCH_ACCOUNTS_IDLE  seconds of the idle window [30]
#	BENCH_ACCOUNTS_SETTLE seconds online before it starts [3]
#	BENCH_ACCOUNTS_KINDS which rows [wa-run baileys-1 baileys-n]
#	BENCH_TIMEOUT        seconds all may take to come online [120]
#	BENCH_WA             the wa-run binary [build/bin/wa-run]
#	BENCH_OUT            results as JSON [build/bench/accounts.json]
#	BENCH_TMP            scratch folder [build/bench]
# The N auth folders are made once with tests/fakewa/mkauth.mjs (--seed
# i: distinct accounts) and kept in build/bench/accounts-N/; each run
# copies them and registers them with fakewa (POST /accounts/import, so no
# login uploads pre-keys).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
N=${BENCH_ACCOUNTS:-50}
[ "$N" = 0 ] && exit 0
IDLE=${BENCH_ACCOUNTS_IDLE:-30}
SETTLE=${BENCH_ACCOUNTS_SETTLE:-3}
KINDS=${BENCH_ACCOUNTS_KINDS:-wa-run baileys-1 baileys-n}
TIMEOUT=${BENCH_TIMEOUT:-120}
WA=${BENCH_WA:-build/bin/wa-run}
OUT=${BENCH_OUT:-build/bench/accounts.json}
die() { echo "bench/accounts: $*" >&2; exit 1; }
command -v node > /dev/null 2>&1 || die "node is missing (scripts/install-deps)"
command -v curl > /dev/null 2>&1 || die "curl is missing (scripts/install-deps)"
[ -x "$WA" ] || die "$WA is missing: make"
[ -r /proc/self/smaps_rollup ] || die "no /proc/PID/smaps_rollup (Linux 4.14 or later)"

mkdir -p "${BENCH_TMP:-build/bench}" "$(dirname "$OUT")" || exit 1
CACHE=$TOP/build/bench/accounts-$N
if [ ! -f "$CACHE/.done" ]; then
	echo "# making $N auth folders in $CACHE (once)" >&2
	rm -rf "$CACHE" && mkdir -p "$CACHE" || exit 1
	i=1
	while [ $i -le "$N" ]; do
		node tests/fakewa/mkauth.mjs "$CACHE/a$i" --seed "accounts-$i" --contacts 0 --groups 0 > /dev/null 2> "$CACHE/err" ||
			{ cat "$CACHE/err" >&2; die "mkauth failed for account $i"; }
		i=$((i + 1))
	done
	: > "$CACHE/.done"
fi

T=$(mktemp -d "$(cd "${BENCH_TMP:-build/bench}" && pwd)/accounts.XXXXXX") || exit 1
PIDS=
stop_all() {
	for p in $PIDS; do kill -TERM "$p" 2> /dev/null; done
	for p in $PIDS; do wait "$p" 2> /dev/null; done
	PIDS=
}
cleanup() { stop_all; fakewa_stop; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
export FAKEWA_QUIET=1
. "$TOP/tests/fakewa.sh"
fakewa_start --state-dir "$T/srv" || die "fakewa did not start"
fakewa_call POST /config '{"logNodes":false}' > /dev/null
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"

HZ=$(getconf CLK_TCK 2> /dev/null || echo 100)
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# pss_kb PID...: the sum of their PSS, kB
pss_kb() { for p in "$@"; do awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2> /dev/null; done | awk '{ s += $1 } END { print s + 0 }'; }
# cpu_ticks PID...: the sum of utime + stime
cpu_ticks() { for p in "$@"; do sed 's/.*) //' "/proc/$p/stat" 2> /dev/null | awk '{ print $12 + $13 }'; done | awk '{ s += $1 } END { print s + 0 }'; }

# fresh: copies of the folders, registered with fakewa
fresh() {
	rm -rf "$T/f" && mkdir -p "$T/f" && cp -a "$CACHE"/a* "$T/f/" || die "cannot copy the folders"
	for d in "$T"/f/a*; do
		fakewa_call POST /accounts/import "{\"dir\":\"$d\"}" > /dev/null || die "fakewa cannot import $d"
	done
}

# await_online COUNT-CMD: until it prints N (TIMEOUT)
await_all() {
	_lim=$((TIMEOUT * 50)); _i=0
	while [ "$("$@")" -lt "$N" ]; do
		_i=$((_i + 1)); [ $_i -lt $_lim ] || return 1
		sleep 0.02
	done
}
wa_online() { grep -l '"event":"online"' "$T"/out.* 2> /dev/null | wc -l; }
multi_online() { awk '/^open / { n++ } END { print n + 0 }' "$T/multi.out" 2> /dev/null || echo 0; }
node_online() { grep -l '^open ' "$T"/out.* 2> /dev/null | wc -l; }

ROWS=
measure() { # KIND: start, time to all online, settle, PSS, CPU over IDLE
	kind=$1
	fresh
	rm -f "$T"/out.* "$T/multi.out"
	t0=$(now_ms)
	case $kind in
	wa-run)
		i=0
		for d in "$T"/f/a*; do
			i=$((i + 1))
			"$WA" -d "$d" --phone-ping 0 > "$T/out.$i" 2> "$T/err.$i" &
			PIDS="$PIDS $!"
		done
		await_all wa_online || die "wa-run: only $(wa_online) of $N online after $TIMEOUT s"
		;;
	baileys-1)
		node bench/baileys-multi.mjs "$T"/f/a* > "$T/multi.out" 2> "$T/multi.err" &
		PIDS=$!
		await_all multi_online || die "Baileys 1 x $N: only $(multi_online) online after $TIMEOUT s: $(tail -3 "$T/multi.err")"
		;;
	baileys-n)
		i=0
		for d in "$T"/f/a*; do
			i=$((i + 1))
			node bench/baileys-login.mjs "$d" > "$T/out.$i" 2> "$T/err.$i" &
			PIDS="$PIDS $!"
		done
		await_all node_online || die "Baileys $N x 1: only $(node_online) online after $TIMEOUT s"
		;;
	esac
	t1=$(now_ms)
	sleep "$SETTLE"
	# shellcheck disable=SC2086
	c0=$(cpu_ticks $PIDS)
	sleep "$IDLE"
	# shellcheck disable=SC2086
	c1=$(cpu_ticks $PIDS)
	# shellcheck disable=SC2086
	pss=$(pss_kb $PIDS)
	# shellcheck disable=SC2086
	nproc=$(echo $PIDS | wc -w)
	stop_all
	online_ms=$((t1 - t0))
	cpu_ms=$(( (c1 - c0) * 1000 / HZ ))
	ROWS="$ROWS$kind $nproc $pss $cpu_ms $online_ms
"
	echo "# $kind: $nproc processes, PSS $pss kB, CPU $cpu_ms ms over $IDLE s, all online in $online_ms ms" >&2
}

for k in $KINDS; do measure "$k"; done

label() { case $1 in wa-run) echo "wa-run x $N" ;; baileys-1) echo "Baileys 1 x $N sockets" ;; baileys-n) echo "Baileys $N x 1" ;; esac; }
echo
echo "$N accounts on one fakewa, online and idle ($IDLE s window; $(nproc) cores)"
printf '%-24s %9s %14s %14s %16s\n' "" processes "PSS total" "idle CPU" "all online"
printf '%s' "$ROWS" | while read -r kind np pss cpu on; do
	[ -n "$kind" ] || continue
	printf '%-24s %9s %10s MiB %10s ms %13s ms\n' "$(label "$kind")" "$np" "$(awk -v k="$pss" 'BEGIN { printf "%.1f", k / 1024 }')" \
	    "$cpu" "$on"
done
printf '%s' "$ROWS" | awk -v n="$N" -v idle="$IDLE" -v wa="$WA" '
BEGIN { printf "{\"accounts\":%d,\"idle_s\":%d,\"wa\":\"%s\",\"rows\":[", n, idle, wa }
NF == 5 { printf "%s{\"kind\":\"%s\",\"processes\":%d,\"pss_kb\":%d,\"idle_cpu_ms\":%d,\"all_online_ms\":%d}", sep, $1, $2, $3, $4, $5; sep = "," }
END { print "]}" }' > "$OUT"
echo "results: $OUT"

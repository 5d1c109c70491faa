#!/bin/sh
# 1304-wa-send-parallel: many writers at once, no lock.  20 wa-send in
# parallel queue 20 distinct jobs with 20 distinct ids, all valid; and
# writers that each put many jobs (wa-outbox-tool put, one process each)
# get names that sort in the order each of them put its jobs.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"
. "$WA_TOP/tests/helpers/authfolder.sh"

cd "$T" || exit 1
mkfolder auth
OUT=auth.outbox

i=0
pids=
while [ $i -lt 20 ]; do
	wa-send -d auth 15550002222 "message $i" > "$T/id.$i" 2> "$T/err.$i" &
	pids="$pids $!"
	i=$((i + 1))
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
is "$bad" 0 "20 wa-send in parallel all exit 0"
is "$(cat "$T"/err.*)" "" "nothing on stderr"
is "$(cat "$T"/id.* | sort -u | wc -l | tr -d ' ')" 20 "20 distinct ids printed"
is "$(find "$OUT/new" -type f | wc -l | tr -d ' ')" 20 "20 jobs in new/"
is "$(find "$OUT/tmp" -type f | wc -l | tr -d ' ')" 0 "nothing left in tmp/"
is "$(for f in "$OUT"/new/*; do jq -r .text "$f"; done | sort -u | wc -l | tr -d ' ')" 20 "20 distinct texts"
is "$(for f in "$OUT"/new/*; do n=${f##*/}; [ "${n##*.}" = "$(jq -r .id "$f")" ] && echo y; done | wc -l | tr -d ' ')" 20 \
    "each name ends in its job's id"

# 5 writers putting 40 jobs each, at the same time
w=0
pids=
while [ $w -lt 5 ]; do
	set --
	i=0
	while [ $i -lt 40 ]; do
		set -- "$@" "{\"v\":1,\"id\":\"W${w}J$i\",\"to\":\"15550002222@s.whatsapp.net\",\"type\":\"text\",\"created_ms\":1,\"text\":\"$w $i\"}"
		i=$((i + 1))
	done
	wa-outbox-tool put "$OUT" "$@" > "$T/names.$w" 2> "$T/werr.$w" &
	pids="$pids $!"
	w=$((w + 1))
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
is "$bad" 0 "5 writers of 40 jobs each all succeed"
is "$(cat "$T"/werr.*)" "" "nothing on their stderr"
is "$(find "$OUT/new" -type f | wc -l | tr -d ' ')" 220 "220 jobs in new/"
# per writer: the names in sorted order are the jobs in put order
w=0
while [ $w -lt 5 ]; do
	is "$(LC_ALL=C sort "$T/names.$w")" "$(cat "$T/names.$w")" "writer $w: its names sort in the order it put them"
	is "$(wc -l < "$T/names.$w" | tr -d ' ')" 40 "writer $w: 40 names"
	w=$((w + 1))
done
# and the runner's queue holds each writer's jobs in that order
wa-outbox-tool queued "$OUT" > "$T/q"
w=0
while [ $w -lt 5 ]; do
	is "$(grep "\.W${w}J" "$T/q")" "$(cat "$T/names.$w")" "queued: writer $w's jobs in its order"
	w=$((w + 1))
done
done_testing

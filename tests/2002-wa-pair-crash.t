#!/bin/sh
# 2002-wa-pair-crash: wa-pair killed (SIGKILL) at random instants of a
# pairing, from the phone's pair-success to the end of the pre-key upload,
# many times (WA_PAIR_CRASH_RUNS, default 30).  After every kill:
#   - the folder holds no creds.json and nothing else but .wa, or a
#     complete, paired creds.json (wa-check: no CRITICAL problem, every
#     JSON file whole);
#   - every pre-key below nextPreKeyId is on disk ("files before the
#     counter"), and firstUnuploadedPreKeyId never passes what the server
#     took ("marked uploaded only after the ack");
#   - the folder logs in again through lib/session, unless the kill came
#     between creds.json and the reply (the phone never got our signature:
#     the server refuses that device, 401), and then the counters are past
#     the initial upload.
# Half the kills fall within 40 ms of the scan (where pair-success is
# checked, creds.json written and the reply sent), half anywhere in the
# time an uninterrupted pairing takes.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
trap '' PIPE

RUNS=${WA_PAIR_CRASH_RUNS:-30}
fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB" FAKEWA_QUIET=1

now_ms() { date +%s%3N; }
json_qr() { printf '{"qr":"%s"}' "$1"; }
pair() {
	rm -f "$T/p.fifo"; mkfifo "$T/p.fifo"
	wa-pair -d "$1" --qr-text -t 10 >"$T/p.fifo" 2>"$T/p.err" 9>&- &
	PID=$!
	echo "$PID" >> "$T/.pids"
	exec 5<"$T/p.fifo"
	IFS= read -r QR <&5
}
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2"; }

# How long a whole pairing takes once the phone has answered.
pair "$T/m"
t0=$(now_ms)
fakewa_call POST /phone/scan "$(json_qr "$QR")" >/dev/null
IFS= read -r line <&5
exec 5<&-
wait "$PID"
D=$(( $(now_ms) - t0 ))
like "$line" ", 812 pre-keys" "an uninterrupted pairing takes $D ms after the scan"

seed=${WA_PAIR_CRASH_SEED:-$$}
diag "seed $seed, $RUNS runs, kills spread over 0..$D ms after the scan"
none=0 paired=0 partial=0 relogin=0 refused=0 uploaded=0 bad=0
i=0
while [ "$i" -lt "$RUNS" ]; do
	i=$((i + 1))
	d=$T/c$i
	pair "$d"
	# odd runs: within 40 ms of the scan request (the phone's answer,
	# its check, creds.json, the reply); even runs: anywhere in the pairing
	delay=$(awk -v s="$seed" -v i="$i" -v d="$D" 'BEGIN { srand(s + i);
		printf "%.3f", rand() * (i % 2 ? 40 : d) / 1000 }')
	fakewa_call POST /phone/scan "$(json_qr "$QR")" >/dev/null 2>&1 9>&- &
	scan=$!
	sleep "$delay"	# the random instant (not a synchronisation)
	kill -9 "$PID" 2>/dev/null
	wait "$scan"
	exec 5<&-
	wait "$PID" 2>/dev/null

	if [ ! -e "$d/creds.json" ]; then
		if [ "$(cd "$d" && ls -A)" = .wa ]; then none=$((none + 1)); else
			partial=$((partial + 1)); diag "run $i ($delay s): no creds.json but $(cd "$d" && ls -A | head -3 | tr '\n' ' ')"; fi
		continue
	fi
	wa-check --json -d "$d" >"$T/chk" 2>&1
	rc=$?
	if [ "$rc" -gt 1 ] || ! grep -q '"paired":true' "$T/chk"; then
		partial=$((partial + 1)); diag "run $i ($delay s): wa-check $rc: $(head -c 300 "$T/chk")"
		continue
	fi
	paired=$((paired + 1))
	next=$(field nextPreKeyId "$d/creds.json")
	first=$(field firstUnuploadedPreKeyId "$d/creds.json")
	have=$(find "$d" -maxdepth 1 -name 'pre-key-*.json' | sed 's/.*pre-key-\([0-9]*\)\.json/\1/' |
	    awk -v n="$next" '$1 < n' | wc -l | tr -d ' ')
	jid=$(sed -n 's/.*"me":{"id":"\([^"]*\)".*/\1/p' "$d/creds.json")
	srv=$(fakewa_call GET "/accounts/$jid/prekeys" 2>/dev/null | fakewa_field count)
	if [ "$have" -ne $((next - 1)) ] || [ "$first" -gt "$next" ] || { [ "$first" -gt 1 ] && [ "${srv:-0}" -lt $((first - 1)) ]; }; then
		bad=$((bad + 1)); diag "run $i ($delay s): next $next, first $first, $have pre-key files, server holds ${srv:-0}"
	fi
	[ "$first" -gt 1 ] && uploaded=$((uploaded + 1))
	wa-session-login "$d" >"$T/login" 2>&1
	if [ $? -eq 0 ]; then
		relogin=$((relogin + 1))
		next=$(field nextPreKeyId "$d/creds.json")
		first=$(field firstUnuploadedPreKeyId "$d/creds.json")
		srv=$(fakewa_call GET "/accounts/$jid/prekeys" | fakewa_field count)
		if [ "$next" -lt 813 ] || [ "$srv" -lt 812 ]; then
			bad=$((bad + 1)); diag "run $i ($delay s): after the login: next $next, first $first, server holds $srv"
		fi
	elif grep -q "logged out (401)" "$T/login"; then
		refused=$((refused + 1))
	else
		bad=$((bad + 1)); diag "run $i ($delay s): login: $(tail -n 2 "$T/login")"
	fi
done

diag "kills $RUNS: no creds.json $none, paired $paired (pre-keys marked uploaded $uploaded; logged in again $relogin, unknown to the server $refused), partial $partial, inconsistent $bad"
is "$((none + paired))" "$RUNS" "every kill left no creds.json or a complete paired one"
is "$partial" 0 "never a partial folder"
is "$bad" 0 "pre-key files before nextPreKeyId, firstUnuploadedPreKeyId only after the ack; paired folders log in"
is "$((relogin + refused))" "$paired" "every paired folder logs in, or is one the phone never heard back from"
if [ "$RUNS" -ge 20 ]; then
	# with the kills spread over the whole pairing, both outcomes occur
	isnt "$none" 0 "some kills came before creds.json"
	isnt "$paired" 0 "some after"
fi
done_testing

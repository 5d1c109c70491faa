# tests/send.sh - the sending tests (33xx): wa-run sends the jobs of its
# outbox to real Baileys peers through fakewa's message router.  Source
# after tests/lib.sh and tests/recv.sh (recv_setup, recv_wa, recv_peer):
#
#   OUTBOX=$WA_DIR.outbox
#   id=$(put '{"to":"…","type":"text","text":"hi"}')   # a job (wa-outbox-put), its id
#   st_field ID state               # a field of OUTBOX/status/ID.json ("" when none)
#   st_wait ID STATE [SECONDS]      # until the job's state is STATE (bounded poll)
#   peer_next SOCK [SECONDS]        # the Baileys socket's next message event: $R
#   peer_msg SOCK ID EXPR           # a value of the WAMessage the peer stored (JS over m)
#
# Nothing here sleeps to let something happen: waits poll for the thing
# itself, bounded.

put() {
	printf '%s\n' "$1" | wa-outbox-put "$OUTBOX"
}

st_field() {
	[ -f "$OUTBOX/status/$1.json" ] || { echo; return; }
	node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1]));
const v = eval(process.argv[2]); console.log(typeof v === "object" ? JSON.stringify(v) : v ?? "");' \
	    "$OUTBOX/status/$1.json" "s.$2"
}

# the state alone, without a node process per poll
st_state() {
	sed -n 's/.*"state":"\([a-z]*\)".*/\1/p' "$OUTBOX/status/$1.json" 2> /dev/null
}

st_wait() {
	_sw_lim=$(( ${3:-20} * 50 )) _sw_i=0
	while [ "$(st_state "$1")" != "$2" ]; do
		_sw_i=$((_sw_i + 1))
		if [ "$_sw_i" -ge "$_sw_lim" ]; then
			diag "st_wait: $1 is '$(st_field "$1" state 2> /dev/null)', not $2, after ${3:-20} s" >&2
			return 1
		fi
		sleep 0.02
	done
	return 0
}

peer_next() {
	bl next "$(( ${2:-20} * 1000 ))" "#$1" message
}

peer_msg() {
	bl msg "#$1" "$2"
	printf '%s\n' "$R" | node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
const m = JSON.parse(s); const v = eval(process.argv[1]); console.log(typeof v === "object" ? JSON.stringify(v) : v ?? ""); });' "$3"
}

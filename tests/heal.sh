# tests/heal.sh - helpers of the self-healing tests (32xx, issue 12), after
# tests/lib.sh and tests/recv.sh (recv_setup, recv_wa done):
#
#   retry_count ID...        retry receipts wa-run ($WA_DEV) sent naming any
#                            of the ids (fakewa's receipt records)
#   retry_keys ID...         the same receipts as a string: "-" plain, "k"
#                            with a <keys> bundle, in the order sent
#   msg_wait ID [SECONDS]    until wa-run printed the message event of ID (any
#                            order; default bound 60 s); 1 when it did not
#   msg_field ID NAME        a field of that message event
#   key_files OUT            sha256 and name of every session and sender-key
#                            file of $WA_DIR, sorted, into OUT
#   creds_keys DIR           the fields of creds.json a re-pair would change
#                            (keys, registration id, account, me), one line
#   in_quarantine NAME       the paths below $WA_DIR/.wa/quarantine named NAME
#   peer_session LID         the name of the session file of LID's device 2
#
# Nothing here sleeps to let something happen: waits poll for the thing.

retry_receipts_json() {
	fakewa_call GET "/receipts?device=$WA_DEV"
}

retry_count() {
	retry_receipts_json | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	const want = new Set(process.argv.slice(1));
	console.log(JSON.parse(s).receipts.filter(r => r.type === "retry" && r.ids.some(i => want.has(i))).length);
});' "$@"
}

retry_keys() {
	retry_receipts_json | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	const want = new Set(process.argv.slice(1));
	console.log(JSON.parse(s).receipts.filter(r => r.type === "retry" && r.ids.some(i => want.has(i)))
	    .map(r => r.keys ? "k" : "-").join("") || "none");
});' "$@"
}

msg_wait() {
	_mw_lim=$(( ${2:-60} * 50 )) _mw_i=0
	while ! grep -q "\"event\":\"message\".*\"id\":\"$1\"" "$RUN_EV" 2> /dev/null; do
		_mw_i=$((_mw_i + 1))
		if [ "$_mw_i" -ge "$_mw_lim" ]; then
			diag "msg_wait: no message event for $1 after ${2:-60} s" >&2
			tail -n 5 "$RUN_LOG" | sed 's/^/#   log: /' >&2
			return 1
		fi
		sleep 0.02
	done
	return 0
}

msg_field() {
	grep "\"event\":\"message\".*\"id\":\"$1\"" "$RUN_EV" | head -n 1 | fakewa_field "$2"
}

key_files() {
	(cd "$WA_DIR" && for f in session-*.json sender-key-*.json; do
		[ -e "$f" ] && sha256sum "$f"
	done) | sort -k 2 > "$1"
}

creds_keys() {
	node -e '
const c = JSON.parse(require("fs").readFileSync(process.argv[1] + "/creds.json"));
console.log(JSON.stringify([c.noiseKey, c.signedIdentityKey, c.signedPreKey, c.registrationId,
    c.advSecretKey, c.account, c.me && c.me.id, c.me && c.me.lid]));' "$1"
}

in_quarantine() {
	find "$WA_DIR/.wa/quarantine" -name "$1" 2> /dev/null
}

peer_session() {
	echo "session-${1}_1.2.json"
}

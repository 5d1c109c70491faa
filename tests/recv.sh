# tests/recv.sh - the receiving tests (31xx): real Baileys peers send through
# fakewa's message router to a folder that wa-run serves, and the test reads
# the inbox spool.  Source after tests/lib.sh:
#
#   . "$WA_TOP/tests/recv.sh"
#   recv_setup                      # fakewa (state in $T/srv) + the Baileys client
#                                   # coprocess + WA_SERVER_URL/ROOT_KEY for wa-run;
#                                   # skips the test without node or curl
#   recv_wa "$T/a"                  # a Baileys folder fakewa knows: WA_DIR, WA_PHONE,
#                                   # WA_USER (PHONE@s.whatsapp.net), WA_DEV (its
#                                   # device JID), WA_LID, INBOX ($T/a.inbox)
#   recv_peer "$T/b" 15550000031 Bob  # a paired Baileys account, online with a push
#                                   # name: S (its socket), PEER_DEV, PEER_LID
#   recv_group SUBJECT OWNER_PHONE PHONE...  # a group with those members: G
#   run_start "$WA_DIR" [options]   # wa-run (tests/wa-run.sh)
#   bl send "#$SB" "$WA_USER" hi    # Baileys sends (tests/fakewa-router.sh)
#   inbox_wait "$INBOX" 3           # until new/ holds >= 3 files (bounded poll)
#   inbox_index "$INBOX"            # every record flattened into $IDX (below)
#   f=$(by_id "$ID")                # the file name(s) with that id
#   fld "$f" media.mimetype         # one field of one record
#   inbox_vs_events "$INBOX" "$RUN_EV"  # records = the stdout message events
#   acked_ids DEVICE                # ids fakewa saw that device acknowledge
#   wa_conn                         # wa-run's open connection id in fakewa
#
# The index ($IDX, made by one node run, no jq) has one line per leaf of
# each record in new/, in name order:  NAME<TAB>PATH<TAB>VALUE, PATH dotted
# (media.sha256, quoted.id, poll.options.0 ...), VALUE a JSON scalar with
# strings unquoted; "NAME<TAB>!corrupt<TAB>why" for a file that is not a
# whole JSON object, and "NAME<TAB>!mode<TAB>600" for every file's mode.
# Nothing here sleeps to let something happen: waits poll for the thing
# itself, bounded.

have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl > /dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"
trap '' PIPE

recv_setup() {
	FAKEWA_QUIET=${FAKEWA_QUIET-1} fakewa_start --state-dir "$T/srv" "$@" ||
	    { fail "fakewa starts"; done_testing; exit 1; }
	on_exit fakewa_stop
	fakewa_client_start
	on_exit fakewa_client_stop
	. "$WA_TOP/tests/fakewa-router.sh"
	WA_SERVER_URL=$FAKEWA_WS WA_SERVER_ROOT_KEY=$FAKEWA_ROOT_PUB
	export WA_SERVER_URL WA_SERVER_ROOT_KEY
	: "${WA_RUN_BACKOFF:=10ms,100ms}"
	export WA_RUN_BACKOFF
	IDX=$T/inbox.idx
}

# creds_get DIR EXPR: a value of DIR/creds.json (EXPR in JS over c)
creds_get() {
	node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1] + "/creds.json"));
console.log(eval(process.argv[2]) ?? "");' "$1" "$2"
}

recv_wa() {
	WA_DIR=$1
	run_folder "$WA_DIR" || { fail "a Baileys folder for wa-run"; done_testing; exit 1; }
	WA_DEV=$(creds_get "$WA_DIR" 'c.me.id')
	WA_PHONE=${WA_DEV%%[:@]*}
	WA_USER=$WA_PHONE@s.whatsapp.net
	WA_LID=$(creds_get "$WA_DIR" 'c.me.lid')
	INBOX=$WA_DIR.inbox
}

recv_peer() {
	pair_account "$1" "$2" || { done_testing; exit 1; }
	bl online "#$S" "${3:-peer}"
	PEER_DEV=$2:2@s.whatsapp.net
	PEER_LID=$(fakewa_call GET "/accounts/$PEER_DEV" | fakewa_field lid)
	PEER_LID=${PEER_LID%%:*}
}

recv_group() {
	_rg_s=$1 _rg_o=$2
	shift 2
	_rg_p=
	for _rg_x; do _rg_p="$_rg_p${_rg_p:+,}\"$_rg_x@s.whatsapp.net\""; done
	G=$(fakewa_call POST /groups "{\"subject\":\"$_rg_s\",\"participants\":[$_rg_p],\"owner\":\"$_rg_o@s.whatsapp.net\"}" | fakewa_field jid)
	case $G in *@g.us) ;; *) fail "POST /groups" "$G"; return 1 ;; esac
}

# inbox_count DIR: files in DIR/new (0 when it does not exist)
inbox_count() {
	if [ -d "$1/new" ]; then ls -A "$1/new" | wc -l | tr -d ' '; else echo 0; fi
}

# inbox_wait DIR N [SECONDS]: until DIR/new holds at least N files (default
# bound 30 s); the count in INBOX_N; 1 when the bound passed
inbox_wait() {
	_iw_lim=$(( ${3:-30} * 50 )) _iw_i=0
	while :; do
		INBOX_N=$(inbox_count "$1")
		[ "$INBOX_N" -ge "$2" ] && return 0
		_iw_i=$((_iw_i + 1))
		if [ "$_iw_i" -ge "$_iw_lim" ]; then
			diag "inbox_wait: $INBOX_N of $2 files in $1/new after ${3:-30} s" >&2
			[ -n "${RUN_LOG:-}" ] && tail -n 5 "$RUN_LOG" | sed 's/^/#   log: /' >&2
			return 1
		fi
		sleep 0.02
	done
}

# inbox_settle DIR N [IDLE]: like inbox_wait, but the bound is IDLE seconds
# (default 30) without a new file, for long backlogs
inbox_settle() {
	_is_last=$(inbox_count "$1")
	while :; do
		inbox_wait "$1" "$2" "${3:-30}" 2> /dev/null && return 0
		[ "$INBOX_N" -gt "$_is_last" ] || break
		_is_last=$INBOX_N
	done
	diag "inbox_settle: $INBOX_N of $2 files in $1/new, none new for ${3:-30} s" >&2
	return 1
}

# inbox_index DIR [OUT]: the flattened records (above) into OUT (default $IDX)
inbox_index() {
	node -e '
const fs = require("fs"), dir = process.argv[1] + "/new";
let names = [];
try { names = fs.readdirSync(dir).sort(); } catch (e) {}
const out = [];
const clean = s => String(s).replace(/[\t\n\r]/g, " ");
function walk(name, path, v) {
	if (v !== null && typeof v === "object") {
		for (const k of Object.keys(v))
			walk(name, path === "" ? k : path + "." + k, v[k]);
		if (!Object.keys(v).length)
			out.push(name + "\t" + path + "\t" + (Array.isArray(v) ? "[]" : "{}"));
	} else
		out.push(name + "\t" + path + "\t" + (v === null ? "null" : clean(v)));
}
for (const n of names) {
	const st = fs.lstatSync(dir + "/" + n);
	out.push(n + "\t!mode\t" + (st.mode & 0o7777).toString(8) + (st.isFile() ? "" : " notfile"));
	let o;
	try { o = JSON.parse(fs.readFileSync(dir + "/" + n, "utf8")); } catch (e) { out.push(n + "\t!corrupt\t" + clean(e.message)); continue; }
	if (o === null || typeof o !== "object" || Array.isArray(o)) { out.push(n + "\t!corrupt\tnot an object"); continue; }
	walk(n, "", o);
}
fs.writeFileSync(process.argv[2], out.length ? out.join("\n") + "\n" : "");
' "$1" "${2:-$IDX}"
}

# by_id ID [IDX]: the names of the records whose id is ID, one a line
by_id() {
	awk -F '\t' -v id="$1" '$2 == "id" && $3 == id { print $1 }' "${2:-$IDX}"
}

# fld NAME PATH [IDX]: the value of PATH in record NAME ("" when absent)
fld() {
	awk -F '\t' -v n="$1" -v p="$2" '$1 == n && $2 == p { print $3; exit }' "${3:-$IDX}"
}

# ids [IDX]: every record's id, in name order
ids() {
	awk -F '\t' '$2 == "id" { print $3 }' "${1:-$IDX}"
}

# inbox_vs_events DIR EVFILE: for every file in DIR/new, the stdout event
# {"event":"message",...,"path":P} whose path is that file holds every member
# of the record with the same value; prints one line per problem (nothing
# when all agree) and, last, "events E files F"
inbox_vs_events() {
	node -e '
const fs = require("fs"), path = require("path"), dir = process.argv[1] + "/new";
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const byPath = new Map();
let events = 0;
for (const l of fs.readFileSync(process.argv[2], "utf8").split("\n")) {
	if (!l.startsWith("{")) continue;
	let e; try { e = JSON.parse(l); } catch (x) { continue; }
	if (e.event !== "message") continue;
	events++;
	if (typeof e.path === "string") byPath.set(path.basename(e.path), e);
}
let files = 0;
for (const n of fs.readdirSync(dir).sort()) {
	files++;
	const r = JSON.parse(fs.readFileSync(dir + "/" + n, "utf8"));
	const e = byPath.get(n);
	if (!e) { console.log(n + ": no message event"); continue; }
	if (path.resolve(e.path) !== path.resolve(dir, n)) console.log(n + ": event path " + e.path);
	for (const k of Object.keys(r))
		if (!same(r[k], e[k])) console.log(n + ": " + k + " file " + JSON.stringify(r[k]).slice(0, 80) + " event " + JSON.stringify(e[k]).slice(0, 80));
}
console.log("events " + events + " files " + files);
' "$1" "$2"
}

# acked_ids DEVICE: the ids of message stanzas fakewa saw DEVICE acknowledge
# (by a receipt or an ack), one a line, sorted
acked_ids() {
	fakewa_call GET "/messages?device=$1&state=acked" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	const r = JSON.parse(s);
	for (const id of [...new Set(r.entries.filter(e => e.kind === "message" && e.state === "acked").map(e => e.id))].sort())
		console.log(id);
});'
}

# routed_ids DEVICE [FROM]: ids of message stanzas routed to DEVICE (from
# FROM's user, when given), in the order fakewa queued them
routed_ids() {
	fakewa_call GET "/messages?device=$1&kind=message" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	const r = JSON.parse(s), from = process.argv[1] || "";
	const who = new Map(r.messages.map(m => [m.id, m.from]));
	const seen = new Set(), out = [];
	for (const e of r.entries.filter(e => e.kind === "message").sort((a, b) => a.n - b.n)) {
		if (seen.has(e.id)) continue;
		if (from && !String(who.get(e.id) ?? "").startsWith(from)) continue;
		seen.add(e.id); out.push(e.id);
	}
	for (const id of out)
		console.log(id);
});' "${2:-}"
}

# wa_conn: the id of the open fakewa connection logged in as $WA_DEV
wa_conn() {
	fakewa_call GET /connections | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	const c = JSON.parse(s).connections.filter(c => c.state === "open" && c.login === process.argv[1]);
	console.log(c.length ? c[c.length - 1].id : "");
});' "$WA_DEV"
}

# wa_conn_gone: wait (bounded, 10 s) until fakewa holds no open connection
# of $WA_DEV (so every byte wa-run sent before it died has been read)
wa_conn_gone() {
	_wg_i=0
	while [ -n "$(wa_conn)" ]; do
		_wg_i=$((_wg_i + 1))
		[ "$_wg_i" -ge 200 ] && return 1
		fakewa_wait "event=closed&since=$(seq_now)&timeout_ms=50" > /dev/null 2>&1
	done
	return 0
}

# await_online [DESC]: wa-run's next online event as a test; when it does
# not come nothing else can be tested: wa-run is stopped and the test ends
await_online() {
	if await '"event":"online"' 30; then pass "${1:-wa-run online}"; return 0; fi
	fail "${1:-wa-run online}" "no online event"
	stop_run
	done_testing
	exit 1
}

# stop_run: SIGTERM wa-run and reap it (RC)
stop_run() {
	kill -TERM "$RUN_PID" 2> /dev/null
	run_wait
}

# delivered_to DEVICE: how many message stanzas fakewa has sent to DEVICE
delivered_to() {
	fakewa_call GET "/log?event=message-delivered" | grep -o "\"device\":\"$1\"" | wc -l | tr -d ' '
}

# matches TEXT ERE DESC: passes when TEXT matches the extended regex ERE
matches() {
	if printf '%s\n' "$1" | grep -Eq -e "$2"; then pass "$3"; else fail "$3" "'$1' does not match $2"; fi
}

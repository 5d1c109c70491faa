#!/bin/sh
# 3004-wa-run-kill9: wa-run killed with SIGKILL at random instants, 100
# times (WA_RUN_KILLS), and started again: it comes back online every time
# with the same credentials (no re-pair: fakewa never pairs, every login is
# the same device and accepted), and every file stays intact.
#
# The folder is a Baileys one fakewa has never seen: the first login that
# gets far enough uploads 812 pre-keys, and every third cycle the test
# takes the server's pre-keys away (as bundle fetches would), so that the
# next login uploads 50 more: kills land in the middle of pre-key files,
# creds.json, the status file and the event history being written, in the
# handshake, the login, and idle online time.  The instant: after a random
# number (1 to 6) of wa-run's events plus a random 0-60 ms.
#
# After each kill wa-check may warn (stale lock and status, a leftover
# temporary file: that is what a kill leaves) but never finds a broken
# file; while wa-run runs again it is OK (wa-run swept the leftovers).  At
# the end: creds.json's keys are the ones it started with; every pre-key
# id wa-run handed out (from the folder's first nextPreKeyId up) has its file; every pre-key the server holds is
# one of ours; wa-check OK after a clean stop.
. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl > /dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
. "$WA_TOP/tests/wa-run.sh"

K=${WA_RUN_KILLS:-100}
FAKEWA_QUIET=1 fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
export WA_SERVER_URL="$FAKEWA_WS" WA_SERVER_ROOT_KEY="$FAKEWA_ROOT_PUB"
export WA_RUN_BACKOFF=10ms,100ms
A=$T/a
baileys_folder "$A" || { fail "a Baileys folder"; done_testing; exit 1; }
JID=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).me.id)' "$A/creds.json")
# the keys of creds.json, one canonical line
keys() {
	node -e '
const c = JSON.parse(require("fs").readFileSync(process.argv[1]));
console.log(JSON.stringify([c.noiseKey, c.signedIdentityKey, c.signedPreKey, c.registrationId,
    c.advSecretKey, c.me.id, c.account, c.signalIdentities]));' "$1/creds.json"
}
keys "$A" > "$T/keys.orig"
# Baileys' own pre-keys below this id were partly used up by its contacts
FIRST=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).nextPreKeyId)' "$A/creds.json")
rnd() { echo $(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % $1 )); }

bad_check=0 not_online=0 not_ok=0 killed_in_upload=0
i=0
while [ $i -lt "$K" ]; do
	i=$((i + 1))
	if [ $((i % 3)) -eq 0 ]; then
		# leave the server 2 pre-keys: the next login uploads 50
		c=$(fakewa_call GET "/accounts/$JID/prekeys" 2> /dev/null | fakewa_field count)
		[ "${c:-0}" -gt 2 ] && fakewa_call POST "/accounts/$JID/prekeys/take" "{\"n\":$((c - 2))}" > /dev/null
	fi
	run_start "$A"
	n=$(( $(rnd 6) + 1 ))
	if [ $((i % 10)) -eq 0 ]; then
		# every tenth: it must come online, and the folder check be clean meanwhile
		n=online
		if await '"event":"online"' 30; then
			await '"event":"prekeys"' 30
			wa-check -d "$A" > "$T/chk" 2>&1 || { not_ok=$((not_ok + 1)); diag "cycle $i: wa-check while running: $(cat "$T/chk")"; }
		else
			not_online=$((not_online + 1))
		fi
	else
		await "\"seq\":$n," 30 > /dev/null 2>&1
	fi
	sleep "0.0$(rnd 6)$(rnd 10)"
	grep -q '"event":"online"' "$RUN_EV" && ! grep -q '"event":"prekeys"' "$RUN_EV" &&
	    killed_in_upload=$((killed_in_upload + 1))
	kill -9 "$RUN_PID" 2> /dev/null
	run_wait 10
	wa-check -d "$A" > "$T/chk" 2>&1
	r=$?
	if [ $r -ne 0 ] && [ $r -ne 1 ]; then
		bad_check=$((bad_check + 1))
		diag "cycle $i (killed after event $n): wa-check exit $r: $(cat "$T/chk")"
		wa-check -v -d "$A" | head -5 >&2
	fi
done
is "$bad_check" 0 "$K kills: wa-check never finds a broken file (exit 0 or 1 after each kill)"
is "$not_online" 0 "every tenth start came online"
is "$not_ok" 0 "wa-check OK while wa-run runs again"
diag "kills between online and the end of the pre-key step: $killed_in_upload"

# the last start: online, a clean stop
run_start "$A"
expect_event "after $K kills: online again" '"event":"online"' 30
expect_event "pre-keys checked" '"event":"prekeys"' 30
kill -TERM "$RUN_PID"
run_wait
is "$RC" 0 "SIGTERM: exit 0"
ok "wa-check OK after the clean stop" wa-check -d "$A"
is "$(keys "$A")" "$(cat "$T/keys.orig")" "creds.json: identity, noise, signed pre-key, registration id, ADV secret, account unchanged"
is "$(fakewa_call GET "/log?event=paired" | grep -c '"event":"paired"')" 0 "no re-pair"
logins=$(fakewa_call GET "/log?event=login")
is "$(printf '%s' "$logins" | grep -o "\"jid\":\"[^\"]*\"" | sort -u)" "\"jid\":\"$JID\"" "every login is the same device"
is "$(printf '%s' "$logins" | grep -c '"accepted":false')" 0 "every login accepted"
# pre-keys: files for every id handed out; the server holds only ours
fakewa_call GET "/accounts/$JID/prekeys" > "$T/server-prekeys"
node -e '
const fs = require("fs"), dir = process.argv[1];
const c = JSON.parse(fs.readFileSync(dir + "/creds.json"));
const server = JSON.parse(fs.readFileSync(process.argv[2]));
let missing = [], bad = [];
for (let id = Number(process.argv[3]); id < c.nextPreKeyId; id++) {
	const f = dir + "/pre-key-" + id + ".json";
	if (!fs.existsSync(f)) { missing.push(id); continue; }
	try { const k = JSON.parse(fs.readFileSync(f)); if (!k.public || !k.private) bad.push(id); } catch (e) { bad.push(id); }
}
const foreign = (server.ids || []).filter(id => !fs.existsSync(dir + "/pre-key-" + id + ".json"));
console.log("next=" + c.nextPreKeyId + " first=" + c.firstUnuploadedPreKeyId + " missing=" + missing.length +
    " bad=" + bad.length + " server=" + (server.ids || []).length + " foreign=" + foreign.length +
    " uploads=" + (server.uploads || []).length + " signed=" +
    (server.uploads || []).every(u => u.signedPreKeyValid === true && u.identityMatches !== false));
' "$A" "$T/server-prekeys" "$FIRST" > "$T/pk"
diag "$(cat "$T/pk")"
like "$(cat "$T/pk")" "missing=0 bad=0" "every pre-key id below nextPreKeyId has a whole file"
like "$(cat "$T/pk")" "foreign=0" "every pre-key the server holds is one of the folder's"
like "$(cat "$T/pk")" "signed=true" "every upload carried the folder's signed pre-key, validly signed"
done_testing

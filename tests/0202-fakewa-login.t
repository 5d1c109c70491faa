#!/bin/sh
# 0202-fakewa-login: logins against fakewa with the real Baileys client:
# a folder paired through fakewa logs in, pre-key count and upload (initial
# 812, none when enough, top-up of 5), every housekeeping iq answered, and
# each fault seen by Baileys as the expected DisconnectReason: stream
# errors 515/503/500/unknown, replaced (injected and by a second login),
# login failures 401/403/405/406/500/503, the 402 ban with its code and
# expiry, stall (keepalive loss), device_removed (and the 401 that follows),
# a wrong Noise key; folders made by mkauth.mjs: refused with
# acceptAnyLogin off, imported, adopted; logout from the client.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"

FW=$WA_TOP/tests/fakewa
trap '' PIPE

fakewa_start --state-dir "$T/srv" || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
fakewa_client_start
on_exit fakewa_client_stop

bl() { fakewa_client "$@"; R=$FAKEWA_REPLY; }
seq_now() { fakewa_call GET /info | fakewa_field seq; }
start() { bl start "$@"; S=${R#ok }; }
fault() { fakewa_call POST /fault "$1" >/dev/null || fail "fault $1 accepted"; }
# login DIR [flags]: a new socket that must reach open
login() {
	start "$@"
	bl next 10000 "#$S" open close
	case $R in open\ *) return 0 ;; esac
	fail "login of $1" "$R"
	return 1
}

# Two folders made by mkauth.mjs (cached in build/fixtures), in the background.
(baileys_folder "$T/mk" --contacts 0 --groups 0 &&
	baileys_folder "$T/mk2" --contacts 0 --groups 0 --seed 202) >"$T/mk.log" 2>&1 9>&- &
mkpid=$!

# ---- pair a folder through fakewa --------------------------------------------

start "$T/a"
bl next 10000 "#$S" qr
r=$(fakewa_call POST /phone/scan "{\"qr\":\"${R#qr }\"}")
JID=$(printf '%s' "$r" | fakewa_field jid)
LID=$(printf '%s' "$r" | fakewa_field lid)
bl next 10000 "#$S" close
is "$R" 'close 515 Stream Errored (restart required) {"tag":"stream:error","attrs":{"code":"515"}}' "pairing ends with 515"

# The same folder with another Noise key, made in the background (once
# Baileys has written what pairing gave it: a copy taken while it still
# writes creds.json can be half a file).
bl creds
cp -a "$T/a" "$T/n"
(cd "$FW" && node --input-type=module -e '
	import { readFileSync, writeFileSync } from "fs";
	import { BufferJSON } from "baileys/lib/Utils/generics.js";
	import { Curve } from "baileys/lib/Utils/crypto.js";
	const f = process.argv[1] + "/creds.json";
	const c = JSON.parse(readFileSync(f, "utf8"), BufferJSON.reviver);
	c.noiseKey = Curve.generateKeyPair();
	writeFileSync(f, JSON.stringify(c, BufferJSON.replacer));' "$T/n") 9>&- &
noisepid=$!

# ---- login, pre-keys, housekeeping ----------------------------------------------

s=$(seq_now)
login "$T/a"
is "$R" "open $JID $LID" "the paired folder logs in (success lid = the paired LID)"
ev=$(fakewa_wait "event=sent&child=count&since=$s&timeout_ms=5000")
like "$ev" '"tag":"count","attrs":{"value":"0"}' "pre-key count: 0 on the server"
ev=$(fakewa_wait "event=prekeys&since=$s&timeout_ms=5000")
like "$ev" '"count":812' "initial upload of 812 pre-keys"
ok "passive <active/> answered" fakewa_wait "event=sent&tag=iq&since=$s&timeout_ms=5000&attr.type=result&attr.id=$(fakewa_wait "event=node&child=active&since=$s&timeout_ms=5000" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)"
ok "digest answered with a <digest>" fakewa_wait "event=sent&child=digest&since=$s&timeout_ms=5000"
ok "AB props answered" fakewa_wait "event=sent&child=props&since=$s&timeout_ms=5000"
ok "privacy answered" fakewa_wait "event=sent&child=privacy&since=$s&timeout_ms=5000"
fakewa_call GET "/log?since=$s" >"$T/log.json"
unanswered=$(node -e '
	const ev = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).events;
	const sent = new Set(ev.filter(e => e.event === "sent" && e.node.tag === "iq").map(e => e.conn + "/" + e.node.attrs.id));
	const out = ev.filter(e => e.event === "node" && e.node.tag === "iq" && /^(get|set)$/.test(e.node.attrs.type) && !sent.has(e.conn + "/" + e.node.attrs.id))
		.map(e => e.node.attrs.xmlns + ":" + (e.node.content?.[0]?.tag ?? ""));
	console.log(out.join(" ") || "none");' "$T/log.json")
is "$unanswered" none "every iq Baileys sent after login was answered"

s=$(seq_now)
login "$T/a"
ev=$(fakewa_wait "event=sent&child=count&since=$s&timeout_ms=5000")
like "$ev" '"value":"812"' "second login: 812 on the server"
is "$(fakewa_call GET "/log?event=prekeys&since=$s" | grep -c '"event":"prekeys"')" 0 "... and no upload"

r=$(fakewa_call POST "/accounts/$JID/prekeys/take" '{"n":809}')
is "$(printf '%s' "$r" | fakewa_field count)" 3 "peers take 809 pre-keys: 3 left"
s=$(seq_now)
login "$T/a"
ev=$(fakewa_wait "event=prekeys&since=$s&timeout_ms=5000")
like "$ev" '"count":5,"first":813,"last":817' "low count: Baileys tops up 5 new pre-keys"
like "$ev" '"total":8' "... 8 on the server"
like "$(fakewa_call GET "/accounts/$JID/prekeys")" '"taken":809' "/accounts/JID/prekeys counts the taken ones"

# ---- stream errors on a live connection ------------------------------------------

for c in \
	'{"kind":"stream-error","code":515}|close 515 Stream Errored (restart required)' \
	'{"kind":"stream-error","code":503}|close 503 ' \
	'{"kind":"stream-error","code":500}|close 500 ' \
	'{"kind":"stream-error","code":999}|close 999 ' \
	'{"kind":"stream-error","child":"xml-not-well-formed"}|close 500 Stream Errored (xml-not-well-formed)' \
	'{"kind":"replaced"}|close 440 Stream Errored (conflict) {"tag":"conflict","attrs":{"type":"replaced"}}' \
	'{"kind":"drop"}|close 428 '
do
	f=${c%%|*}; want=${c#*|}
	login "$T/a" || continue
	fault "$f"
	bl next 10000 "#$S" close
	like "$R" "$want" "$f: Baileys ends with ${want#close }"
done

# ---- a second login of the same device replaces the first -------------------------

login "$T/a"
first=$S
s=$(seq_now)
login "$T/a" keep=1
bl next 10000 "#$first" close
is "$R" 'close 440 Stream Errored (conflict) {"tag":"conflict","attrs":{"type":"replaced"}}' "second login: the first socket gets replaced (440)"
ev=$(fakewa_wait "event=replaced&since=$s&timeout_ms=5000")
like "$ev" "\"jid\":\"$JID\"" "server records the replacement"
fault '{"kind":"stall"}'
bl end

# ---- login failures ---------------------------------------------------------------

for reason in 401 403 405 406 500 503; do
	fault "{\"kind\":\"login-failure\",\"reason\":$reason}"
	start "$T/a"
	bl next 10000 "#$S" open close
	is "$R" "close $reason Connection Failure {\"reason\":\"$reason\"}" "<failure reason=$reason>: Baileys ends with $reason"
done
fault '{"kind":"ban","code":102,"expire":7200}'
start "$T/a"
bl next 10000 "#$S" open close
is "$R" 'close 402 Connection Failure {"reason":"402","code":"102","expire":"7200"}' "temporary ban: 402 with its code and expiry (seconds)"
fault "{\"kind\":\"login-failure\",\"reason\":401,\"jid\":\"15550000000:1@s.whatsapp.net\"}"
login "$T/a" && pass "a login fault for another JID leaves this login alone"
like "$(fakewa_call GET /faults)" '"queuedLogin":[{"kind":"login-failure"' "... and stays queued"
bl end

s=$(seq_now)
fakewa_call POST /fault '{"kind":"login-silent"}' >/dev/null
start "$T/a"
bl next 800 "#$S" open close
is "$R" timeout "login-silent: no <success>, Baileys waits"
like "$(fakewa_wait "event=login&since=$s&timeout_ms=5000")" '"fault":"login-silent"' "... the server recorded it"
bl end

# ---- stall: keepalive loss --------------------------------------------------------

login "$T/a" keepalive=500
fault '{"kind":"stall"}'
bl next 20000 "#$S" close
is "$R" "close 408 Connection was lost" "stall: Baileys gives up after its keepalive window (408)"

# ---- a wrong Noise key --------------------------------------------------------------

wait "$noisepid" || fail "a copy of the folder with another Noise key"
s=$(seq_now)
start "$T/n"
bl next 10000 "#$S" open close
is "$R" 'close 401 Connection Failure {"reason":"401"}' "same device, another Noise key: 401"
like "$(fakewa_wait "event=login&since=$s&timeout_ms=5000")" 'Noise static key is not the one' "... and the server says why"

# ---- device_removed -------------------------------------------------------------------

login "$T/a"
fault '{"kind":"device-removed"}'
bl next 10000 "#$S" close
is "$R" 'close 401 Stream Errored (conflict) {"tag":"conflict","attrs":{"type":"device_removed"}}' "device_removed: Baileys ends with 401 loggedOut"
start "$T/a"
bl next 10000 "#$S" open close
is "$R" 'close 401 Connection Failure {"reason":"401"}' "the removed device's next login: <failure reason=401>"
like "$(fakewa_call GET "/accounts/$JID")" '"removed":{"t":' "/accounts shows the device removed"

# ---- folders made by mkauth.mjs ---------------------------------------------------------

wait "$mkpid" || fail "mkauth folders" "$(cat "$T/mk.log")"
mkjid=$(grep -o '"id":"[0-9:]*@s.whatsapp.net"' "$T/mk/creds.json" | cut -d'"' -f4)
mklid=$(grep -o '"lid":"[0-9:]*@lid"' "$T/mk/creds.json" | cut -d'"' -f4)

fakewa_call POST /config '{"acceptAnyLogin":false}' >/dev/null
s=$(seq_now)
start "$T/mk"
bl next 10000 "#$S" open close
is "$R" 'close 401 Connection Failure {"reason":"401"}' "acceptAnyLogin off: an mkauth folder fakewa never saw gets 401"
like "$(fakewa_wait "event=login&since=$s&timeout_ms=5000")" 'acceptAnyLogin is off' "... the server says why"

r=$(fakewa_call POST /accounts/import "{\"dir\":\"$T/mk\"}")
like "$r" "\"jid\":\"$mkjid\"" "POST /accounts/import registers the folder's device"
like "$r" '"via":"import"' "... as imported"
login "$T/mk"
is "$R" "open $mkjid $mklid" "the imported folder logs in strictly, with its own LID"

fakewa_call POST /config '{"acceptAnyLogin":true}' >/dev/null
s=$(seq_now)
login "$T/mk2"
like "$(fakewa_wait "event=login&since=$s&timeout_ms=5000")" '"accepted":true,"via":"adopted"' "acceptAnyLogin on: an unknown mkauth folder is adopted"
ok "... and uploads its pre-keys" fakewa_wait "event=prekeys&since=$s&timeout_ms=10000"

# ---- logout from the client ---------------------------------------------------------------

login "$T/mk"
s=$(seq_now)
bl logout
bl next 10000 "#$S" close
like "$R" "close 401 Intentional Logout" "Baileys logs out (remove-companion-device)"
like "$(fakewa_wait "event=logout&since=$s&timeout_ms=5000")" "\"jid\":\"$mkjid\",\"target\":\"$mkjid\",\"reason\":\"user_initiated\"" "server removes the device"
start "$T/mk"
bl next 10000 "#$S" open close
is "$R" 'close 401 Connection Failure {"reason":"401"}' "a logged-out folder gets 401"

fakewa_client_stop
fakewa_stop
done_testing

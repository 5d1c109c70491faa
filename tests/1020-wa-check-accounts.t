#!/bin/sh
# 1020-wa-check-accounts: wa-check on 50 folders at once (a shell glob and
# -d repeated), in mixed states written the way wa-run writes its status
# file: one summary line, one line per account with its account, state,
# last message in and out, reconnects of the last 24 hours (from the event
# history), backlog and problems; the exit status is the worst; --json is
# an array of 50.  The siblings a glob also matches (DIR.inbox,
# DIR.backups) are skipped.  The phone warning: phone_seen 12.5 days ago
# is a WARNING, 13.5 days a CRITICAL (kind phone_offline), thresholds as
# options.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

K32A=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=
K32B=ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=
K64=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA==
kp() { printf '{"private":{"type":"Buffer","data":"%s"},"public":{"type":"Buffer","data":"%s"}}' $K32A $K32B; }
creds() { # creds PHONE
	printf '{"noiseKey":%s,"pairingEphemeralKeyPair":%s,"signedIdentityKey":%s,' "$(kp)" "$(kp)" "$(kp)"
	printf '"signedPreKey":{"keyPair":%s,"signature":{"type":"Buffer","data":"%s"},"keyId":1},' "$(kp)" $K64
	printf '"registrationId":1234,"advSecretKey":"%s","me":{"id":"%s:3@s.whatsapp.net"},' $K32A "$1"
	printf '"account":{"details":"%s","accountSignatureKey":"%s","accountSignature":"%s","deviceSignature":"%s"}}' \
	    $K32A $K32B $K64 $K64
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
isos() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
now=$(date +%s)
# mkacct N: folder wa/aNN paired as 155500000NN
mkacct() {
	d=wa/a$1
	mkdir -m 700 "$d" "$d/.wa"
	creds "155500000$1" > "$d/creds.json"
	kp > "$d/pre-key-1.json"
	chmod 600 "$d"/*
}
# status N JSON-FIELDS: the status file wa-run writes, with the given fields after state/since/pid
status() {
	printf '{"state":"%s","since":"%s","pid":%s,"started":"%s","updated":"%s"%s}\n' "$2" "$(iso $((now - 3600)))" \
	    "$3" "$(iso $((now - 7200)))" "$(iso $now)" "$4" > "wa/a$1/.wa/status.json"
	chmod 600 "wa/a$1/.wa/status.json"
}
# reconnect events: N at T
ev() { printf '{"ts":"%s","seq":%s,"event":"reconnect","state":"backoff","delay_ms":1000,"attempt":1,"at":null}\n' "$(iso "$2")" "$1"; }

cd "$T" || exit 1
umask 077
mkdir -m 700 wa
i=1
while [ $i -le 50 ]; do mkacct "$(printf %02d $i)"; i=$((i + 1)); done
# 01..30 online, alive (our shell's pid), phone seen an hour ago, a message in 10 min ago
i=1
while [ $i -le 30 ]; do
	status "$(printf %02d $i)" online $$ ",\"last_message\":\"$(iso $((now - 600)))\",\"phone_seen\":\"$(iso $((now - 3600)))\""
	i=$((i + 1))
done
# 01 also sent a message and reconnected: 3 times in the last day, 2 older (one in the rotated file)
status 01 online $$ ",\"last_message\":\"$(iso $((now - 600)))\",\"last_sent\":\"$(iso $((now - 120)))\",\"phone_seen\":\"$(iso $((now - 3600)))\""
{ ev 1 $((now - 90000)); ev 2 $((now - 80000)); ev 3 $((now - 7000)); ev 4 $((now - 60)); } > wa/a01/.wa/events.jsonl
printf '{"ts":"%s","seq":1,"event":"start","state":"starting"}\n' "$(iso $((now - 86000)))" > wa/a01/.wa/events.jsonl.1
ev 9 $((now - 200000)) >> wa/a01/.wa/events.jsonl.1
printf '{"ts":"%s","seq":5,"event":"connecting","state":"connecting","attempt":1}\n{"ts":"torn' "$(iso $now)" >> wa/a01/.wa/events.jsonl
# 01's inbox beside it (a glob matches it): 2 messages waiting
mkdir -m 700 wa/a01.inbox wa/a01.inbox/new wa/a01.inbox/cur wa/a01.inbox/tmp wa/a02.backups
printf '{}' > wa/a01.inbox/new/1.json; printf '{}' > wa/a01.inbox/new/2.json
# 31..35 logged out: CRITICAL
for n in 31 32 33 34 35; do status $n logged_out 999999999 ',"exit_code":4'; done
# 36..40 died without updating the status: WARNING (stale)
for n in 36 37 38 39 40; do status $n online 999999999 ""; done
# 41..43 phone silent 12.5 days: WARNING; 44..45 13.5 days: CRITICAL
for n in 41 42 43; do status $n online $$ ",\"phone_seen\":\"$(iso $((now - 1080000)))\""; done
for n in 44 45; do status $n online $$ ",\"phone_seen\":\"$(iso $((now - 1166400)))\""; done
# 46..47 lost creds.json: CRITICAL
for n in 46 47; do rm "wa/a$n/creds.json"; status $n online $$ ""; done
# 48..50 never ran wa-run: OK
before=$(tree_state wa)

expect_exit 2 "50 folders by a glob: the worst is CRITICAL" wa-check wa/*
is "$(lines "$T/out")" 51 "  a summary line and 50 account lines (a01.inbox and a02.backups skipped)"
is "$(head -n 1 "$T/out")" "WA CRITICAL - 50 accounts: 9 critical, 8 warning, 33 ok | accounts=50 ok=33 warning=8 critical=9 unknown=0" "  the summary counts each status"
is "$(grep -c '^OK wa/a' "$T/out")" 33 "  33 OK lines"
like "$(cat "$T/out")" "
OK wa/a01: 15550000001:3@s.whatsapp.net, online since $(isos $((now - 3600))), last in $(isos $((now - 600))), last out $(isos $((now - 120))), 3 reconnects today, backlog 2
" "  a01: account, state since, last in, last out, 3 reconnects in 24 h (not the older ones), its inbox's backlog"
like "$(cat "$T/out")" "
OK wa/a02: 15550000002:3@s.whatsapp.net, online since $(isos $((now - 3600))), last in $(isos $((now - 600))), last out -, reconnects today -, backlog -
" "  a02: no history, no inbox: dashes"
like "$(cat "$T/out")" "
CRITICAL wa/a31: 15550000031:3@s.whatsapp.net, logged_out since $(isos $((now - 3600))), last in -, last out -, reconnects today -, backlog -; problems: logged_out
" "  a31: logged out"
like "$(cat "$T/out")" "
WARNING wa/a36: 15550000036:3@s.whatsapp.net, online since $(isos $((now - 3600))), last in -, last out -, reconnects today -, backlog -; problems: run_stale
" "  a36: stale status"
# grepl PATTERN: the lines of $T/out that match the extended regular expression
grepl() { grep -E "$1" "$T/out" | tr '\n' ' '; }
is "$(grepl '; problems: phone_offline$' | grep -o 'WARNING wa/a4[0-9]' | tr '\n' ' ')" "WARNING wa/a41 WARNING wa/a42 WARNING wa/a43 " "  a41..43: phone silent for 12.5 days: WARNING"
is "$(grepl '; problems: phone_offline$' | grep -o 'CRITICAL wa/a4[0-9]' | tr '\n' ' ')" "CRITICAL wa/a44 CRITICAL wa/a45 " "  a44..45: phone silent for 13.5 days: CRITICAL"
is "$(grep -c '^CRITICAL wa/a4[67]: ?, online since .*; problems: creds_missing$' "$T/out")" 2 "  a46..47: no creds.json"
is "$(tail -n 1 "$T/out")" "OK wa/a50: 15550000050:3@s.whatsapp.net, no wa-run status, last in -, last out -, reconnects today -, backlog -" "  a50: no status file"
is "$(tree_state wa)" "$before" "wa-check changed nothing"

expect_exit 2 "-v lists the problems under each line" wa-check -v wa/a44 wa/a01
is "$(sed -n 3p "$T/out")" "  CRITICAL: 'wa/a44/.wa/status.json': the phone has not been seen for 13d12h (last $(isos $((now - 1166400)))), over 13d: WhatsApp logs this device out after about 14 days without the phone; open WhatsApp on the phone" "  the phone problem says what to do"
like "$(sed -n 4p "$T/out")" "OK wa/a01: " "  then the next account"

# --json: an array of 50 objects
expect_exit 2 "--json on 50 folders" wa-check --json wa/*
is "$(lines "$T/out")" 1 "  one line"
if command -v python3 > /dev/null; then
	is "$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
st = {}
for o in a:
    st[o["status"]] = st.get(o["status"], 0) + 1
print(len(a), st["ok"], st["warning"], st["critical"], a[0]["folder"], a[0]["run"]["reconnects_24h"], a[0]["backlog"],
    a[0]["run"]["last_sent"] is not None, a[43]["problems"][0]["kind"], a[43]["problems"][0]["severity"])
' "$T/out")" "50 33 8 9 wa/a01 3 2 True phone_offline critical" "  json.load: 50 entries with statuses, reconnects, backlog, phone problem"
else
	is "$(node -e '
const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const c = s => a.filter(o => o.status === s).length;
console.log(a.length, c("ok"), c("warning"), c("critical"), a[0].folder, a[0].run.reconnects_24h, a[0].backlog,
    a[0].run.last_sent !== null, a[43].problems[0].kind, a[43].problems[0].severity);
' "$T/out")" "50 33 8 9 wa/a01 3 2 true phone_offline critical" "  JSON.parse: 50 entries with statuses, reconnects, backlog, phone problem"
fi

# combined status: the worst, CRITICAL > UNKNOWN > WARNING > OK
expect_exit 0 "-d repeated, all OK: 0" wa-check -d wa/a02 -d wa/a03 -d wa/a48
is "$(head -n 1 "$T/out")" "WA OK - 3 accounts: 3 ok | accounts=3 ok=3 warning=0 critical=0 unknown=0" "  summary"
expect_exit 1 "one WARNING among OKs: 1" wa-check -d wa/a02 -d wa/a41
expect_exit 3 "an UNKNOWN (silence without a status file) and a WARNING: 3" wa-check --max-silence 1d wa/a41 wa/a49
is "$(head -n 1 "$T/out")" "WA UNKNOWN - 2 accounts: 1 unknown, 1 warning | accounts=2 ok=0 warning=1 critical=0 unknown=1" "  summary"
expect_exit 2 "a CRITICAL outranks UNKNOWN: 2" wa-check --max-silence 1d wa/a41 wa/a49 wa/a31
expect_exit 2 "a missing folder among them: CRITICAL" wa-check wa/a02 wa/nope
is "$(grep -c '^CRITICAL wa/nope: ?, no wa-run status, .*; problems: folder_missing$' "$T/out")" 1 "  named"
expect_exit 2 "--problems: kind and folder" wa-check --problems wa/a31 wa/a41 wa/a02
is "$(cat "$T/out")" "logged_out wa/a31
phone_offline wa/a41" "  one line per kind and folder"

# the phone thresholds are options
expect_exit 0 "--phone-warn 20d --phone-crit 30d: the silent phones are OK" wa-check --phone-warn 20d --phone-crit 30d wa/a41 wa/a44
expect_exit 1 "--phone-crit 30d: 13.5 days is a WARNING" wa-check --phone-crit 30d wa/a44
expect_exit 1 "--phone-warn 30m --phone-crit 2h: a phone seen an hour ago is a WARNING" wa-check --phone-warn 30m --phone-crit 2h wa/a02
is "$(grep -c '^WARNING wa/a02: .*; problems: phone_offline$' "$T/out")" 1 "  30 min threshold: WARNING"
expect_exit 2 "--phone-warn 10m --phone-crit 50m: CRITICAL" wa-check --phone-warn 10m --phone-crit 50m wa/a02
expect_exit 3 "--phone-warn x: usage" wa-check --phone-warn x wa/a02
like "$(cat "$T/err")" "phone-warn: 'x' is not a duration" "  says which"

# single folder: the old output, now with the phone problem when due
expect_exit 1 "-d one folder: the single-folder line" wa-check -d wa/a41
like "$(cat "$T/out")" "WA WARNING - 'wa/a41/.wa/status.json': the phone has not been seen for 12d12h" "  phone_offline as the summary"
expect_exit 3 "folders with -d and as operands: usage" wa-check -d wa/a01 wa/a02
like "$(cat "$T/err")" "unexpected argument 'wa/a02' (give the folders with -d or as operands, not both)" "  says so"
done_testing

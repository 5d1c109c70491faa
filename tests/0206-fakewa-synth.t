#!/bin/sh
# 0206-fakewa-synth: synthetic devices (POST /synth, tests/fakewa/src/synth.mjs)
# for the sending benchmark.  Five accounts of four devices each, with
# decryption on: a real Baileys sender's usync lists their devices, its
# bundle fetch hands out their keys (one pre-key each), a 1:1 text to one
# of them reaches its four devices and a group text to all five reaches
# all 20 devices, every copy decrypted (SKDM then skmsg for the group) and
# none queued.  A second batch without decrypt: counted, not decrypted.

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v curl >/dev/null 2>&1 || skip_all "curl missing"
. "$WA_TOP/tests/fakewa.sh"
trap '' PIPE

fakewa_start || { fail "fakewa starts"; done_testing; exit 1; }
on_exit fakewa_stop
fakewa_client_start
on_exit fakewa_client_stop
. "$WA_TOP/tests/fakewa-router.sh"

# count FIELD JSON: the number after "FIELD": (the first one)
num() { printf '%s' "$2" | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2; }

PA=15550000021
pair_account "$T/a" $PA && SA=$S
bl online "#$SA" Alice

r=$(fakewa_call POST /synth '{"users":5,"devicesPerUser":4,"phone":"15557000000","decrypt":true}')
is "$(num devices "$r")" 20 "POST /synth makes 5 x 4 devices"
like "$r" '"users":["15557000000@s.whatsapp.net",' "... and names the accounts"
d=$(fakewa_call GET "/accounts/15557000000:3@s.whatsapp.net")
like "$d" '"via":"synth"' "a synthetic device is in the registry"
is "$(num preKeys "$d")" 2 "... with its 2 one-time pre-keys"
expect_exit 22 "POST /synth refuses users=0" fakewa_call POST /synth '{"users":0}'
expect_exit 22 "POST /synth refuses an account that has real devices" fakewa_call POST /synth "{\"users\":1,\"phone\":\"$PA\"}"

# 1:1 to a synthetic account: usync, bundles, four pkmsgs
s=$(seq_now)
bl send "#$SA" 15557000000@s.whatsapp.net hello synth
ID=${R#sent }
like "$R" "sent 3EB0" "Baileys sends a text to a synthetic account"
ev=$(fakewa_wait "event=usync&since=$s&timeout_ms=10000")
like "$ev" '{"jid":"15557000000@s.whatsapp.net","devices":[1,2,3,4]}' "usync lists its four devices"
ev=$(fakewa_wait "event=bundle&ev.ok=true&since=$s&timeout_ms=10000")
like "$ev" '"preKeyId":1' "a bundle of a synthetic device is handed out with a one-time pre-key"
fakewa_wait "event=message-routed&ev.id=$ID&since=$s&timeout_ms=10000" > /dev/null
info=$(fakewa_call GET "/synth?id=$ID")
is "$(num devices "$(printf '%s' "$info" | sed 's/.*"messages"//')")" 4 "fakewa counts 4 deliveries"
is "$(num pkmsg "$info")" 4 "... four pkmsgs"
is "$(num decrypted "$info")" 4 "... each decrypted by its device"
is "$(num failed "$info")" 0 "... none failed"
is "$(num preKeys "$(fakewa_call GET "/accounts/15557000000:3@s.whatsapp.net")")" 1 "the bundle fetch took one pre-key"

# a group of Alice and the five synthetic accounts: 20 devices
p=
for k in 0 1 2 3 4; do p="$p${p:+,}\"1555700000$k@s.whatsapp.net\""; done
G=$(fakewa_call POST /groups "{\"subject\":\"synth\",\"participants\":[$p],\"owner\":\"$PA@s.whatsapp.net\"}" | fakewa_field jid)
like "$G" "@g.us" "a group with the synthetic accounts"
s=$(seq_now)
bl send "#$SA" "$G" hello group
GID=${R#sent }
like "$R" "sent 3EB0" "Baileys sends a group text"
ev=$(fakewa_wait "event=message-routed&ev.id=$GID&since=$s&timeout_ms=20000")
is "$(printf '%s' "$ev" | grep -o '1555700000[0-4]:[1-4]@s.whatsapp.net' | sort -u | wc -l | tr -d ' ')" 20 "routed to the 20 synthetic devices"
info=$(fakewa_call GET "/synth?id=$GID")
is "$(num devices "$(printf '%s' "$info" | sed 's/.*"messages"//')")" 20 "fakewa counts 20 deliveries"
is "$(num skmsg "$info")" 20 "... each with the skmsg"
is "$(num decrypted "$info")" 20 "... each decrypted (SKDM, then skmsg)"
is "$(num failed "$info")" 0 "... none failed"
like "$(fakewa_call GET "/messages?id=$GID")" '"pending":{}' "nothing queued for synthetic devices"

# without decrypt: counted only
r=$(fakewa_call POST /synth '{"users":2,"devicesPerUser":2,"phone":"15557100000"}')
is "$(num devices "$r")" 4 "a second batch, no decryption"
s=$(seq_now)
bl send "#$SA" 15557100001@s.whatsapp.net counted
ID=${R#sent }
fakewa_wait "event=message-routed&ev.id=$ID&since=$s&timeout_ms=10000" > /dev/null
info=$(fakewa_call GET "/synth?id=$ID")
is "$(num devices "$(printf '%s' "$info" | sed 's/.*"messages"//')")" 2 "counted for both devices"
is "$(num decrypted "$info")" 0 "... not decrypted"
done_testing

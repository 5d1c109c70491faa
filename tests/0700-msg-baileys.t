#!/bin/sh
# 0700-msg-baileys: lib/msg against Baileys' own encoder.  Every kind of
# Message wa-message(5) names (text, replies, mentions, forwards, media,
# location, contacts, reactions, edits, revokes, polls, the wrappers,
# sender-key distributions, app-state key shares, history-sync
# notifications, and kinds wa does not type) is made by Baileys
# (tests/fakewa/msg-vectors.mjs: generateWAMessage where it can, else
# proto.Message.encode), padded as Baileys pads, and decoded by
# tests/helpers/wa-msgjson; the record fields must be the ones the page
# says, and the app-state key files byte for byte what Baileys'
# useMultiFileAuthState writes.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

have_node || skip_all "node or tests/fakewa/node_modules missing"
FW=$WA_TOP/tests/fakewa

ok "msg-vectors.mjs makes the Messages with Baileys" node "$FW/msg-vectors.mjs" gen "$T"
n=$(lines "$T/vectors.jsonl")
ok "more than 80 cases" test "$n" -gt 80
wa-msgjson < "$T/pt.b64" > "$T/got" 2> "$T/msgjson.err"
is "$?" 0 "wa-msgjson reads every case"
is "$(lines "$T/got")" "$n" "one answer per case"
node "$FW/msg-vectors.mjs" check "$T/vectors.jsonl" "$T/got" > "$T/cmp"
while IFS= read -r l; do
	case $l in
	"same "*) pass "${l#same }: the record Baileys' message should give" ;;
	"diff "*) fail "${l#diff }: the record Baileys' message should give" "$(grep -A2 -F -x "$l" "$T/cmp")" ;;
	esac
done < "$T/cmp"

# a few facts spelled out, so that the comparison above is not only
# two readings of the same rules agreeing with each other
row() { paste -d ' ' "$T/names" "$T/got" | sed -n "s/^$1 //p"; }
sed 's/^{"name":"\([^"]*\)".*/\1/' "$T/vectors.jsonl" > "$T/names"
like "$(row reply-in-group)" '"quoted":{"id":"3EB0QUOTED01","sender":"15550000002@s.whatsapp.net"}' "a reply names the quoted id and author"
like "$(row reaction)" '"reaction":{"emoji":"👍","target":{"chat":"15550000002@s.whatsapp.net","from_me":true,"id":"3EB0TARGET01"}}' "a reaction: emoji and target"
like "$(row edit)" '"text":"fixed typo","type":"edit"' "an edit carries the new text"
like "$(row revoke-group)" '"revoke":{"target":{"chat":"120363000000000001@g.us","from_me":false,"id":"3EB0TARGET02","sender":"99887766554433@lid"}}' "a revoke names its target"
like "$(row device-sent)" '"dsm":"15550000002@s.whatsapp.net"' "a device-sent copy names its chat"
like "$(row device-sent)" '"text":"sent from my phone","type":"text"' "and is typed by what it wraps"
like "$(row skdm-only)" '"content":false' "a bare sender-key distribution is not content"
like "$(row app-state-keys)" '"name":"app-state-sync-key-______+.json"' "a keyId with / is named as Baileys names it"
like "$(row history-sync)" '"history_sync":true' "a history-sync notification is recognised"
like "$(row protocol-unknown-type)" '"protocol":{"type":99}' "an unknown protocol type is its number"
is "$(paste -d ' ' "$T/names" "$T/got" | grep -c '^text-pad[0-9]* .*"text":"hello from the phone"')" 16 "every pad length 1..16 is taken off"

# what is not a padded Message is refused, with a reason
{
	printf '%s\n' "$(printf 'hello' | base64)"		# last byte 'o' > 16
	printf '%s\n' "$(printf '\012\005\000' | base64)"	# pad 0
	printf '%s\n' "$(printf 'abc\003\002\003' | base64)"	# a wrong pad byte
	printf '%s\n' "$(printf '\377\377\001' | base64)"	# not a protobuf
} > "$T/bad.b64"
wa-msgjson < "$T/bad.b64" > "$T/bad.out"
is "$(grep -c '^error bad padding' "$T/bad.out")" 3 "bad padding is refused"
like "$(sed -n 4p "$T/bad.out")" "error not a message protobuf" "bytes that are no Message are refused"
done_testing

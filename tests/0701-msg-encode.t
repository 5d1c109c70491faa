#!/bin/sh
# 0701-msg-encode: the Messages wa sends (lib/msg/msgenc.h: text, reply,
# reaction, revoke, the device-sent copy, the sender-key distribution),
# padded, read back by Baileys' own unpadding and proto.Message decoder
# (tests/fakewa/msgenc-check.mjs): each must say what wa-protocol(7)
# §13.3 and Baileys' generateWAMessageContent say.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

have_node || skip_all "node or tests/fakewa/node_modules missing"
FW=$WA_TOP/tests/fakewa

cat > "$T/specs" <<'S'
{"kind":"text","text":"hello тест 👋"}
{"kind":"text","text":"a reply","reply_id":"3EB0AAAA","participant":"15550000002@s.whatsapp.net"}
{"kind":"reaction","chat":"15550000002@s.whatsapp.net","id":"3EB0BBBB","from_me":false,"emoji":"👍","ts":1700000000123}
{"kind":"reaction","chat":"120363000000000001@g.us","id":"3EB0CCCC","from_me":true,"participant":"15550000001@s.whatsapp.net","emoji":"","ts":5}
{"kind":"revoke","chat":"15550000002@s.whatsapp.net","id":"3EB0DDDD"}
{"kind":"dsm","dest":"15550000002@s.whatsapp.net","inner":{"kind":"text","text":"copy"}}
{"kind":"skdm","group":"120363000000000001@g.us","skdm":"AQIDBA=="}
{"kind":"skdm","group":"120363000000000001@g.us","skdm":"AQIDBA==","inner":{"kind":"text","text":"with key"}}
{"kind":"text"}
S
ok "wa-msgenc encodes the specs" sh -c "wa-msgenc < '$T/specs' > '$T/enc'"
grep -v '^error' "$T/enc" > "$T/ok.b64"
node "$FW/msgenc-check.mjs" < "$T/ok.b64" > "$T/got"
row() { sed -n "${1}p" "$T/got"; }
is "$(row 1)" '{"pad":'"$(row 1 | sed 's/{"pad":\([0-9]*\).*/\1/')"',"msg":{"conversation":"hello тест 👋"}}' "text: a conversation"
like "$(row 2)" '"msg":{"extendedTextMessage":{"contextInfo":{"participant":"15550000002@s.whatsapp.net","stanzaId":"3EB0AAAA"},"text":"a reply"}}' "a reply: extendedTextMessage with stanzaId and participant"
like "$(row 3)" '"reactionMessage":{"key":{"fromMe":false,"id":"3EB0BBBB","remoteJid":"15550000002@s.whatsapp.net"},"senderTimestampMs":1700000000123,"text":"👍"}' "a reaction: key, emoji, time"
like "$(row 4)" '"reactionMessage":{"key":{"fromMe":true,"id":"3EB0CCCC","participant":"15550000001@s.whatsapp.net","remoteJid":"120363000000000001@g.us"},"senderTimestampMs":5,"text":""}' "a removed reaction in a group"
like "$(row 5)" '"protocolMessage":{"key":{"fromMe":true,"id":"3EB0DDDD","remoteJid":"15550000002@s.whatsapp.net"},"type":"REVOKE"}' "a revoke: protocolMessage REVOKE with our key"
like "$(row 6)" '"msg":{"deviceSentMessage":{"destinationJid":"15550000002@s.whatsapp.net","message":{"conversation":"copy"}}}' "the device-sent copy wraps the message with its chat"
like "$(row 7)" '"msg":{"senderKeyDistributionMessage":{"axolotlSenderKeyDistributionMessage":"AQIDBA==","groupId":"120363000000000001@g.us"}}' "a bare sender-key distribution"
like "$(row 8)" '"msg":{"conversation":"with key","senderKeyDistributionMessage":{"axolotlSenderKeyDistributionMessage":"AQIDBA==","groupId":"120363000000000001@g.us"}}' "a distribution beside the content"
is "$(sed -n 9p "$T/enc")" "error invalid argument" "a text without text is refused"
# the padding: 1..16 bytes, and not always the same length
i=0
while [ $i -lt 40 ]; do echo '{"kind":"text","text":"p"}'; i=$((i + 1)); done | wa-msgenc | node "$FW/msgenc-check.mjs" > "$T/pads"
is "$(grep -c '"msg":{"conversation":"p"}' "$T/pads")" 40 "every padding is taken off by Baileys"
ok "the pad length varies" test "$(sed 's/{"pad":\([0-9]*\).*/\1/' "$T/pads" | sort -u | wc -l)" -gt 4
ok "and stays in 1..16" sh -c "! sed 's/{\"pad\":\([0-9]*\).*/\1/' '$T/pads' | grep -qvx '[1-9]\|1[0-6]'"
done_testing

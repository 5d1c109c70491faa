#!/bin/sh
# proto/*.proto agree with WhatsApp's schema as Baileys ships it: every
# message, field number, type and enum value we declare exists in
# WAProto.proto with the same meaning (tests/fakewa/proto-check.mjs).
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

have_node || skip_all "node and tests/fakewa/node_modules are needed"
plan 2
ok "proto-check runs" node "$WA_TOP/tests/fakewa/proto-check.mjs" "$WA_TOP/proto"
checks=$(grep -c '^ok ' "$T/out")
if [ "$checks" -ge 200 ] && ! grep -q '^not ok' "$T/out"; then
	pass "every declared field and enum value matches WAProto ($checks checks)"
else
	fail "every declared field and enum value matches WAProto" "$(grep '^not ok' "$T/out" | head -20)"
fi

#!/bin/sh
# 0300-binary-conformance: lib/binary.c against Baileys' own WABinary code,
# both ways, on a few thousand hand-picked and random nodes made by
# tests/fakewa/gen-nodes.mjs (every tag kind, every JID kind, packed strings
# at their length edges, BINARY_8/20/32, LIST_8/16, deep nesting, frames
# with and without zlib).

. "$(dirname "$0")/lib.sh"
have_node || skip_all "node or tests/fakewa/node_modules missing"
FW=$WA_TOP/tests/fakewa

# same_lines DESC GOT WANT: the files are equal; else show the first
# differing line of each, cut short
same_lines() {
	if cmp -s "$2" "$3"; then pass "$1"; return; fi
	_l=$(cmp "$2" "$3" 2>&1 | sed -n 's/.* line \([0-9]*\).*/\1/p')
	[ -n "$_l" ] || _l=1
	fail "$1" "first difference on line $_l" \
		"got:  $(sed -n "${_l}p" "$2" | cut -c1-400)" \
		"want: $(sed -n "${_l}p" "$3" | cut -c1-400)"
}

ok "gen-nodes.mjs makes the cases with Baileys" node "$FW/gen-nodes.mjs" nodes "$T"
cases=$(lines "$T/nodes.hex")
same=$(grep -c '^1$' "$T/nodes.same")
diag "$cases cases; in $same Baileys writes every string faithfully"
ok "more than 3000 cases, more than 2000 of them faithful" test "$cases" -gt 3000 -a "$same" -gt 2000

# decoding Baileys' bytes (where Baileys wrote bytes it cannot read
# itself, both must refuse)
wa-nodecodec decode < "$T/nodes.hex" | sed 's/^ERR.*/ERR/' > "$T/ours.dec"
same_lines "wa decodes Baileys' bytes to Baileys' trees" "$T/ours.dec" "$T/nodes.out"
wa-nodecodec decode-frame < "$T/frames.hex" > "$T/ours.fdec"
same_lines "wa decodes Baileys' frames (flags, zlib) to Baileys' trees" "$T/ours.fdec" "$T/frames.out"

# encoding
wa-nodecodec encode < "$T/nodes.in" > "$T/ours.hex"
is "$(grep -c '^ERR' "$T/ours.hex")" 0 "wa encodes every case"
paste -d ' ' "$T/nodes.same" "$T/ours.hex" | awk '$1 == 1 { print $2 }' > "$T/ours.same"
paste -d ' ' "$T/nodes.same" "$T/nodes.hex" | awk '$1 == 1 { print $2 }' > "$T/baileys.same"
same_lines "wa's bytes are Baileys' bytes wherever Baileys is faithful" "$T/ours.same" "$T/baileys.same"
node "$FW/decode-nodes.mjs" < "$T/ours.hex" > "$T/theirs.dec"
same_lines "Baileys decodes wa's bytes to the trees meant (all cases)" "$T/theirs.dec" "$T/nodes.want"
wa-nodecodec decode < "$T/ours.hex" > "$T/ours.rt"
same_lines "wa decodes its own bytes to the trees meant" "$T/ours.rt" "$T/nodes.want"

# the worked examples of wa-protocol(7) §4.7 are the first cases
is "$(sed -n 1p "$T/ours.hex")" f8071911fa0003041408ff82123f "<iq to=@s.whatsapp.net type=result id=123>"
is "$(sed -n 2p "$T/ours.hex")" f8054c1aff05170000000076f70104ff82123f "<success t lid=123:4@lid>"
is "$(sed -n 3p "$T/ours.hex")" f802adfc04000000b3 "<registration> with 4 bytes"

# bad input: an error line, never a crash
printf '%s\n' f8 f80219f0 f80219ff811c 00 f8011900 f80219fe7fffffff > "$T/bad.hex"
wa-nodecodec decode < "$T/bad.hex" > "$T/bad.out"
is "$(grep -c '^ERR corrupt' "$T/bad.out")" 6 "malformed bodies are reported as corrupt"
like "$(sed -n 2p "$T/bad.out")" "at byte 3" "the error names the byte offset"

done_testing

#!/bin/sh
# 0601-signal-faults: the key store's group commit under EIO and ENOSPC.
#
# One pkmsg from a new contact touches three files: a new identity key, a
# new session, and the one-time pre-key it consumed (removed).  strace
# fails the Nth fsync, renameat, unlinkat or write of that commit, once, for
# every N.  Afterwards every file holds its old or its new content (each
# parses; none torn; no temporary file left in the folder), the pre-key is
# gone only if the session is there (R4), a failure is reported as an
# error (never "ok" for a commit that did not finish), and the folder still
# loads: the same request again succeeds or is recognised as a duplicate,
# never corrupt_store or internal.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

have_node || skip_all "node or tests/fakewa/node_modules missing"
command -v strace > /dev/null || skip_all "strace missing"
strace -f -o /dev/null -e trace=fsync -e inject=fsync:error=EIO:when=99 true 2> /dev/null ||
	skip_all "strace cannot inject faults here"

baileys_folder "$T/auth" --contacts 0 --groups 0 --seed 7 --prekeys 5 || { fail "mkauth"; exit 1; }
node "$WA_TOP/tests/fakewa/sigcases.mjs" "$T/auth" "$T/c" 2> "$T/cases.err" || { fail "sigcases" "$(tail -3 "$T/cases.err")"; exit 1; }
req=$(node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1]))[0]; const { dir, name, pt, ...r } = c; process.stdout.write(JSON.stringify(r));' "$T/c/cases.json")
pk=$(cd "$T/c/01/before" && ls pre-key-*.json | sort -t- -k3 -n | head -1)
sess=session-15550009999.1.json

# check DIR LABEL RESPONSE
check() {
	_d=$1 _l=$2 _r=$3
	_bad=
	for f in "$_d"/*.json; do
		node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf-8"))' "$f" 2> /dev/null || _bad="$_bad ${f##*/}"
	done
	[ -z "$_bad" ] || { fail "$_l: every file parses" "torn:$_bad"; return; }
	ls -a "$_d" | grep -q '^\.wa-tmp' && { fail "$_l: no temporary file in the folder"; return; }
	if [ ! -e "$_d/$pk" ] && [ ! -e "$_d/$sess" ]; then fail "$_l: pre-key gone without its session (R4)"; return; fi
	case $_r in
	*'"ok":true'*) [ -e "$_d/$sess" ] && [ ! -e "$_d/$pk" ] || { fail "$_l: ok, but the commit is not complete"; return; } ;;
	*'"error":"internal"'*) ;;
	*) fail "$_l: a failed commit is an internal error" "response: $_r" "$(tail -5 "$T/err")" "$(grep INJECTED "$T/strace")"; return ;;
	esac
	_again=$(printf '%s\n' "$req" | ASAN_OPTIONS=detect_leaks=0 wa-signal -d "$_d" 2> "$T/again.err")
	case $_again in
	*'"ok":true'*|*'"error":"duplicate"'*) pass "$_l: old or new files, R4 kept, still loads (${_r%%,\"detail*}; again: ${_again%%,\"detail*})" ;;
	*) fail "$_l: the folder still loads" "response: $_again" "$(tail -5 "$T/again.err")" ;;
	esac
}

total=0
for sc in fsync renameat unlinkat write; do
	n=1
	while [ $n -le 8 ]; do
		rm -rf "$T/w"
		cp -a "$T/c/01/before" "$T/w"
		: | wa-signal -d "$T/w" 2> /dev/null   # make .wa/ first: only the commit's calls count
		printf '%s\n' "$req" > "$T/req"
		ASAN_OPTIONS=detect_leaks=0 strace -f -o "$T/strace" -e trace="$sc" \
			-e inject="$sc":error=EIO:when=$n wa-signal -d "$T/w" < "$T/req" > "$T/resp" 2> "$T/err"
		grep -q 'INJECTED' "$T/strace" || break   # fewer than n such calls: done with this one
		if grep -q '^[0-9]* *write([12],.*INJECTED' "$T/strace"; then
			n=$((n + 1))   # the response line or a diagnostic, not the commit
			continue
		fi
		check "$T/w" "EIO on $sc #$n" "$(cat "$T/resp")"
		total=$((total + 1))
		n=$((n + 1))
	done
done
ok "faults injected: $total" test "$total" -ge 8

# ENOSPC on the first temporary file's write: nothing visible changes
rm -rf "$T/w"; cp -a "$T/c/01/before" "$T/w"; : | wa-signal -d "$T/w" 2> /dev/null
before=$(tree_state "$T/w" | grep -v '^./.wa')
printf '%s\n' "$req" > "$T/req"
ASAN_OPTIONS=detect_leaks=0 strace -f -o /dev/null -e trace=write -e inject=write:error=ENOSPC:when=1 \
	wa-signal -d "$T/w" < "$T/req" > "$T/resp" 2> /dev/null
like "$(cat "$T/resp")" '"error":"internal"' "ENOSPC: the request fails"
is "$(tree_state "$T/w" | grep -v '^./.wa')" "$before" "ENOSPC: no file changed"
is "$(ls "$T/w/.wa/tmp" | wc -l | tr -d ' ')" 0 "ENOSPC: no temporary file left"

done_testing

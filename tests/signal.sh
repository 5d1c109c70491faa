# tests/signal.sh - sourced by the tests/40xx-signal-*.t tests after tests/lib.sh.
#
#   . "$WA_TOP/tests/signal.sh"
#   signal_setup                 # accounts in $T/a (wa), $T/p (peer), $T/d (peer 2)
#   signal_drive SCENARIO        # tests/fakewa/signal-drive.mjs SCENARIO, results as TAP
#
# WA_SIGNAL_IMPL_A (node | c, default c) picks what serves wa's folder:
# c is wa-signal (tests/helpers/wa-signal.c, on PATH from $WA_TESTBIN),
# node is tests/fakewa/signal-node.mjs (Baileys' own repository).  The
# peers are always libsignal-node through Baileys (WA_SIGNAL_IMPL_P=node).
# WA_SIGNAL_SEED repeats a run's random choices (the driver prints it).

WA_SIGNAL_IMPL_A=${WA_SIGNAL_IMPL_A:-c}
WA_SIGNAL_IMPL_P=${WA_SIGNAL_IMPL_P:-node}
export WA_SIGNAL_IMPL_A WA_SIGNAL_IMPL_P

signal_setup() {
	have_node || skip_all "node or tests/fakewa/node_modules missing (scripts/install-deps)"
	if [ "$WA_SIGNAL_IMPL_A" = c ] || [ "$WA_SIGNAL_IMPL_P" = c ]; then
		if ! command -v wa-signal >/dev/null 2>&1; then
			# the C side (tests/helpers/wa-signal.c) is not in this tree yet
			[ -f "$WA_TOP/tests/helpers/wa-signal.c" ] &&
				{ echo "Bail out! wa-signal is not built (make tests)"; exit 1; }
			skip_all "no tests/helpers/wa-signal.c yet (WA_SIGNAL_IMPL_A=node runs this on Node alone)"
		fi
	fi
	# three paired Baileys accounts (made once, cached by baileys_folder)
	baileys_folder "$T/a" --contacts 0 --groups 0 --prekeys 80 --seed signal-wa || exit 1
	baileys_folder "$T/p" --contacts 0 --groups 0 --prekeys 80 --seed signal-peer || exit 1
	baileys_folder "$T/d" --contacts 0 --groups 0 --prekeys 80 --seed signal-peer2 || exit 1
}

# signal_drive SCENARIO [ARGS]: each "ok - D" / "not ok - D" line of the
# driver becomes one test; "# ..." lines are diagnostics; TODO lines keep
# their directive (an expected failure, see the driver).
signal_drive() {
	_sc=$1; shift
	node "$WA_TOP/tests/fakewa/signal-drive.mjs" "$_sc" --a "$T/a" --p "$T/p" --d "$T/d" --work "$T" "$@" \
		> "$T/drive.out" 2> "$T/drive.err"
	_rc=$?
	_seen=0
	while IFS= read -r _l; do
		case $_l in
		'ok - '*'# TODO '* | 'not ok - '*'# TODO '*)
			_tap_n=$((_tap_n + 1)); _seen=1
			echo "${_l%% - *} $_tap_n - ${_l#* - }" ;;
		'ok - '*) _seen=1; pass "${_l#ok - }" ;;
		'not ok - '*) _seen=1; fail "${_l#not ok - }" ;;
		'#'*) echo "$_l" ;;
		esac
	done < "$T/drive.out"
	if [ "$_rc" -ne 0 ] || [ "$_seen" -eq 0 ]; then
		fail "$_sc: the driver exits 0" "exit $_rc" "$(tail -c 2000 "$T/drive.err")"
	fi
}

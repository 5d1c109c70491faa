#!/bin/sh
# bench/heal.sh - self-healing figures (issue 12): heal latency and retry
# receipts per repaired peer, for wa-run and, on the same fakewa with the
# same fault, for a Baileys bot (the real Baileys test client as the
# receiving account).  A measurement, not a test: it prints figures and
# fails only when the setup does.  See bench/README, "Self-healing".
#
#	sh bench/heal.sh            (needs build/bin or WA_BIN, node, curl)
#
# Environment: HEAL_N rounds per case [5]; WA_BIN the tools [build/bin].
#
# Cases, each HEAL_N rounds, the sender a real Baileys peer:
#   fault    fakewa corrupts the next stanza for the receiver (at:"all"):
#            a Bad MAC on the wire
#   damage   (wa only) wa-run stopped, the peer's session file truncated
#            to half, wa-run started: the corrupt store of the report
# Figures per round: ms from the send to the message delivered as
# plaintext (the heal latency: the first copy does not decrypt), and the
# retry receipts the receiver sent for it (fakewa's receipt log).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
WA_TOP=$TOP
: "${WA_BIN:=$TOP/build/bin}"
export WA_TOP WA_BIN
. "$TOP/tests/lib.sh" > /dev/null
. "$TOP/tests/recv.sh"
. "$TOP/tests/heal.sh"
N=${HEAL_N:-5}
exec 3>&1 > "$T/tap"	# the helpers' TAP lines go to a file

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
fig() { printf '%-8s %-7s %5s ms %3s retry receipts  %s\n' "$@" >&3; }

recv_setup
recv_wa "$T/a"
recv_peer "$T/pb" 15550000091 Bert; SB=$S LB=$PEER_LID
recv_peer "$T/rx" 15550000092 Rex; SR=$S RX_DEV=$PEER_DEV
run_start "$WA_DIR" --retry-wait 10s
await '"event":"online"' 30 || { echo "wa-run did not come online" >&3; exit 1; }
bl send "#$SB" "$WA_USER" "hello"; msg_wait "${R#sent }" || exit 1
bl send "#$SB" "15550000092@s.whatsapp.net" "hello"; bl next 20000 "#$SR" message > /dev/null

printf '%-8s %-7s %8s %18s\n' client case latency retries >&3
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	# wa, fault
	fakewa_call POST /messages/fault "{\"kind\":\"corrupt\",\"device\":\"$WA_DEV\",\"count\":1,\"at\":\"all\"}" > /dev/null
	t0=$(now_ms); bl send "#$SB" "$WA_USER" "wa fault $i"; id=${R#sent }
	if msg_wait "$id" 30; then fig wa fault $(( $(now_ms) - t0 )) "$(retry_count "$id")" "$(msg_field "$id" status)"
	else fig wa fault - "$(retry_count "$id")" "not delivered in 30 s"; fi
	# Baileys, fault
	fakewa_call POST /messages/fault "{\"kind\":\"corrupt\",\"device\":\"$RX_DEV\",\"count\":1,\"at\":\"all\"}" > /dev/null
	t0=$(now_ms); bl send "#$SB" "15550000092@s.whatsapp.net" "baileys fault $i"; id=${R#sent }
	# Baileys hands the bot a stub for the copy it could not decrypt
	# (messageStubType CIPHERTEXT), then the message itself, if it comes
	stubs=0 got=
	while [ -z "$got" ]; do
		bl next 30000 "#$SR" message
		case $R in
		"message $id "*stub*) stubs=$((stubs + 1)) ;;
		"message $id "*) got=$(now_ms) ;;
		"message "*) ;;
		*) break ;;
		esac
	done
	if [ -n "$got" ]; then WA_DEV=$RX_DEV fig Baileys fault $((got - t0)) "$(WA_DEV=$RX_DEV retry_count "$id")" "ok, $stubs stub(s) first"
	else WA_DEV=$RX_DEV fig Baileys fault - "$(WA_DEV=$RX_DEV retry_count "$id")" "not delivered in 30 s, $stubs stub(s)"; fi
	# wa, damage
	kill -TERM "$RUN_PID"; run_wait
	f=$WA_DIR/$(peer_session "$LB")
	n=$(wc -c < "$f"); head -c $((n / 2)) "$f" > "$T/half"; cat "$T/half" > "$f"
	run_start "$WA_DIR" --retry-wait 10s
	await '"event":"online"' 30 || exit 1
	t0=$(now_ms); bl send "#$SB" "$WA_USER" "wa damage $i"; id=${R#sent }
	if msg_wait "$id" 30; then fig wa damage $(( $(now_ms) - t0 )) "$(retry_count "$id")" "$(msg_field "$id" status)"
	else fig wa damage - "$(retry_count "$id")" "not delivered in 30 s"; fi
done
stop_run

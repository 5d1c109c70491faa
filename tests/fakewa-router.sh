# tests/fakewa-router.sh - helpers for the router tests (0203-0205), after
# tests/fakewa.sh, fakewa_start and fakewa_client_start:
#
#   bl CMD...                 one Baileys client command, answer in $R
#   seq_now                   the current event seq (for since=)
#   start DIR [flags]         a new socket (kept next to the others): $S
#   login DIR                 start + wait for "open" (fails the test if not)
#   pair_account DIR PHONE    pair DIR as account PHONE through the fakewa
#                             phone, log in, wait for the pre-key upload: $S
#   wait_pending DEVICE N     wait (5 s) until DEVICE has N un-acked stanzas;
#                             the count in $PENDING

bl() { fakewa_client "$@"; R=$FAKEWA_REPLY; }
seq_now() { fakewa_call GET /info | fakewa_field seq; }
start() { bl start "$@" keep=1; S=${R#ok }; }
login() {
	start "$@"
	bl next 15000 "#$S" open close
	case $R in open\ *) return 0 ;; esac
	fail "login of $1" "$R"
	return 1
}

pair_account() {
	start "$1"
	bl next 10000 "#$S" qr
	case $R in qr\ *) ;; *) fail "QR for $1" "$R"; return 1 ;; esac
	fakewa_call POST /phone/scan "{\"qr\":\"${R#qr }\",\"phone\":\"$2\"}" >/dev/null || { fail "scan for $2"; return 1; }
	bl next 10000 "#$S" close
	case $R in close\ 515*) ;; *) fail "515 after pairing $2" "$R"; return 1 ;; esac
	_pa_s=$(seq_now)
	login "$1" || return 1
	fakewa_wait "event=prekeys&since=$_pa_s&timeout_ms=10000" >/dev/null || { fail "pre-key upload of $2"; return 1; }
	fakewa_wait "event=offline-flushed&since=$_pa_s&timeout_ms=10000" >/dev/null || { fail "$2 active"; return 1; }
	return 0
}

wait_pending() {
	_wp_i=0
	while :; do
		PENDING=$(fakewa_call GET "/messages?kind=all" | grep -o "\"pending\":{[^}]*}" | grep -o "\"$1\":[0-9]*" | cut -d: -f3)
		PENDING=${PENDING:-0}
		[ "$PENDING" = "$2" ] && return 0
		_wp_i=$((_wp_i + 1))
		[ $_wp_i -ge 50 ] && return 1
		fakewa_wait "event=message-acked&since=$(seq_now)&timeout_ms=100" >/dev/null 2>&1
	done
}

# tests/fakewa.sh - run the simulated WhatsApp server (tests/fakewa) from
# POSIX sh tests.  Source it after tests/lib.sh (or on its own):
#
#   . "$WA_TOP/tests/fakewa.sh"
#   fakewa_start [server options]     # e.g. --state-dir "$T/srv"
#   on_exit fakewa_stop               # with lib.sh; else: trap fakewa_stop EXIT
#   fakewa_call POST /push '{"node":{"tag":"ib","attrs":{}}}'
#   fakewa_call GET '/wait?event=connected&timeout_ms=5000'
#   fakewa_stop
#
# fakewa_start exports FAKEWA_WS, FAKEWA_CONTROL, FAKEWA_ROOT_PUB, FAKEWA_PID
# and FAKEWA_LOG (the file with the server's stderr; set FAKEWA_STDERR to a
# path beforehand to choose it, e.g. a fifo).  The server's stdin is a fifo whose
# only writer is this shell's fd 9 (FAKEWA_FD to change it): when the test
# shell goes away, even by kill -9, the server sees EOF and exits; it also
# exits when its parent pid changes.  Close the fd in long-lived background
# children you start afterwards (cmd 9>&- &) so they cannot hold it open;
# fakewa_stop does not depend on it (it signals the server and waits).
#
# Exit status: 0 on success, 1 when the server cannot start.  fakewa_call
# exits like curl --fail-with-body (22 for HTTP >= 400, body still printed).

: "${FAKEWA_FD:=9}"

fakewa_start() {
	if [ -n "${FAKEWA_PID:-}" ]; then
		echo "fakewa_start: already running (pid $FAKEWA_PID)" >&2
		return 1
	fi
	_fw_top=${WA_TOP:-$(pwd)}
	FAKEWA_DIR=$(mktemp -d "${T:-${TMPDIR:-/tmp}}/fakewa.XXXXXX") || return 1
	mkfifo "$FAKEWA_DIR/lifeline" "$FAKEWA_DIR/ready" || return 1
	FAKEWA_LOG=${FAKEWA_STDERR:-$FAKEWA_DIR/stderr}
	# The child blocks opening the lifeline until we open its write end,
	# then opening "ready" until we read the startup line from it.
	node "$_fw_top/tests/fakewa/server.mjs" --stdin-lifeline "$@" \
		<"$FAKEWA_DIR/lifeline" >"$FAKEWA_DIR/ready" 2>"$FAKEWA_LOG" &
	FAKEWA_PID=$!
	eval "exec $FAKEWA_FD>\"\$FAKEWA_DIR/lifeline\""
	IFS= read -r _fw_line <"$FAKEWA_DIR/ready"
	FAKEWA_WS=$(printf '%s\n' "$_fw_line" | fakewa_field ws)
	FAKEWA_CONTROL=$(printf '%s\n' "$_fw_line" | fakewa_field control)
	FAKEWA_ROOT_PUB=$(printf '%s\n' "$_fw_line" | fakewa_field rootPub)
	export FAKEWA_WS FAKEWA_CONTROL FAKEWA_ROOT_PUB FAKEWA_PID FAKEWA_LOG
	if [ -z "$FAKEWA_WS" ] || [ -z "$FAKEWA_CONTROL" ]; then
		echo "fakewa_start: server did not start:" >&2
		[ -f "$FAKEWA_LOG" ] && cat "$FAKEWA_LOG" >&2
		fakewa_stop
		return 1
	fi
	return 0
}

# fakewa_stop: stop the server and reap it; safe to call twice.
fakewa_stop() {
	[ -n "${FAKEWA_PID:-}" ] || return 0
	eval "exec $FAKEWA_FD>&-"
	# Not yet reaped, so the pid cannot have been reused.
	kill -TERM "$FAKEWA_PID" 2>/dev/null
	wait "$FAKEWA_PID" 2>/dev/null
	FAKEWA_PID=
	FAKEWA_WS=
	FAKEWA_CONTROL=
}

# fakewa_call METHOD PATH [JSON]: one control API request, body on stdout.
fakewa_call() {
	if [ $# -ge 3 ]; then
		printf '%s' "$3" | curl -sS --noproxy '*' --fail-with-body --max-time "${FAKEWA_CURL_MAX:-130}" \
			-X "$1" -H 'content-type: application/json' --data-binary @- "$FAKEWA_CONTROL$2"
	else
		curl -sS --noproxy '*' --fail-with-body --max-time "${FAKEWA_CURL_MAX:-130}" \
			-X "$1" "$FAKEWA_CONTROL$2"
	fi
}

# fakewa_wait QUERY: block until an event matches (GET /wait?QUERY).
fakewa_wait() {
	fakewa_call GET "/wait?$1"
}

# fakewa_field NAME: the first "NAME": scalar value in the JSON on stdin
# (strings unquoted).  Enough for seq, conn, state, ws ... without jq.
fakewa_field() {
	grep -oE "\"$1\":(\"[^\"]*\"|[^,}]*)" | head -n 1 | sed -e "s/^\"$1\"://" -e 's/^"//' -e 's/"$//'
}

# ---- the Baileys test client (tests/fakewa/src/baileysclient.mjs) ----------
#
#   fakewa_client_start               # after fakewa_start
#   fakewa_client start "$T/auth"; echo "$FAKEWA_REPLY"      # ok 1
#   fakewa_client next 5000 '#1' qr;  echo "$FAKEWA_REPLY"   # qr https://…
#   fakewa_client_stop
#
# The client runs as a coprocess on fds FAKEWA_CLIENT_FD_IN (8, our write
# end) and FAKEWA_CLIENT_FD_OUT (4, our read end); its stderr goes to
# $FAKEWA_DIR/client.err (FAKEWA_CLIENT_DEBUG=1 for Baileys' logs).
# fakewa_client sends one command line and puts the answer line in
# FAKEWA_REPLY (empty if the client died).

: "${FAKEWA_CLIENT_FD_IN:=8}"
: "${FAKEWA_CLIENT_FD_OUT:=4}"

fakewa_client_start() {
	if [ -n "${FAKEWA_CLIENT_PID:-}" ]; then
		echo "fakewa_client_start: already running (pid $FAKEWA_CLIENT_PID)" >&2
		return 1
	fi
	_fw_top=${WA_TOP:-$(pwd)}
	rm -f "$FAKEWA_DIR/bc.in" "$FAKEWA_DIR/bc.out"
	mkfifo "$FAKEWA_DIR/bc.in" "$FAKEWA_DIR/bc.out" || return 1
	node "$_fw_top/tests/fakewa/src/baileysclient.mjs" --root "$FAKEWA_ROOT_PUB" --ws "$FAKEWA_WS" \
		<"$FAKEWA_DIR/bc.in" >"$FAKEWA_DIR/bc.out" 2>"$FAKEWA_DIR/client.err" 9>&- &
	FAKEWA_CLIENT_PID=$!
	eval "exec $FAKEWA_CLIENT_FD_IN>\"\$FAKEWA_DIR/bc.in\" $FAKEWA_CLIENT_FD_OUT<\"\$FAKEWA_DIR/bc.out\""
}

# fakewa_client_stop: close its stdin (it ends its sockets and exits), reap it.
fakewa_client_stop() {
	[ -n "${FAKEWA_CLIENT_PID:-}" ] || return 0
	eval "exec $FAKEWA_CLIENT_FD_IN>&- $FAKEWA_CLIENT_FD_OUT<&-"
	wait "$FAKEWA_CLIENT_PID" 2>/dev/null
	FAKEWA_CLIENT_PID=
}

fakewa_client() {
	printf '%s\n' "$*" >&"$FAKEWA_CLIENT_FD_IN"
	FAKEWA_REPLY=
	IFS= read -r FAKEWA_REPLY <&"$FAKEWA_CLIENT_FD_OUT"
}

# tests/wa-run.sh - run wa-run against fakewa from the 30xx tests.
# Source after tests/lib.sh and tests/fakewa.sh:
#
#   run_folder "$T/a"               # a Baileys folder fakewa knows (imported: no upload at login)
#   run_start "$T/a" [options]      # wa-run in the background: pid RUN_PID,
#                                   # events in $RUN_EV (its stdout), log in $RUN_LOG
#   await '"event":"online"'        # the next event line matching an ERE, in LINE
#   jf code                         # a field of LINE ("null" for null)
#   run_wait                        # its exit status in RC (bounded: 20 s, then kill -9)
#
# await reads the event file from where the last await stopped, so a
# test sees events in the order wa-run printed them.  It polls the file
# for content (every 20 ms, up to a bound); nothing here sleeps to let
# something happen.

: "${RUN_N:=0}"

# run_folder DIR [mkauth options]: a Baileys folder, registered with fakewa
# (its pre-keys included) so a login neither adopts nor uploads.
run_folder() {
	baileys_folder "$@" || return 1
	fakewa_call POST /accounts/import "{\"dir\":\"$1\"}" > /dev/null
}

run_start() {
	_d=$1; shift
	RUN_N=$((RUN_N + 1))
	RUN_EV=$T/run$RUN_N.ev
	RUN_LOG=$T/run$RUN_N.log
	EV_AT=0
	: > "$RUN_EV"
	wa-run -d "$_d" "$@" > "$RUN_EV" 2> "$RUN_LOG" 9>&- &
	RUN_PID=$!
	echo "$RUN_PID" >> "$T/.pids"
}

# await ERE [SECONDS]
await() {
	_lim=$(( ${2:-20} * 50 )); _i=0
	while :; do
		_hit=$(tail -n +"$((EV_AT + 1))" "$RUN_EV" 2> /dev/null | grep -n -E -m 1 -e "$1")
		if [ -n "$_hit" ]; then
			EV_AT=$((EV_AT + ${_hit%%:*}))
			LINE=${_hit#*:}
			return 0
		fi
		_i=$((_i + 1))
		if [ "$_i" -ge "$_lim" ]; then
			LINE=
			diag "await: no event matching $1 after ${2:-20} s; last lines:" >&2
			tail -n 5 "$RUN_EV" | sed 's/^/#   /' >&2
			tail -n 5 "$RUN_LOG" | sed 's/^/#   log: /' >&2
			return 1
		fi
		sleep 0.02
	done
}

# expect_event DESC ERE [SECONDS]: await as a test
expect_event() {
	if await "$2" "${3:-20}"; then pass "$1"; else fail "$1" "no event matching $2"; fi
}

# jf NAME [TEXT]: the scalar field NAME of LINE (or TEXT)
jf() {
	printf '%s\n' "${2-$LINE}" | fakewa_field "$1"
}

# ms_of TS: milliseconds since the epoch of an RFC 3339 ts with milliseconds
ms_of() {
	_s=$(date -u -d "$(printf '%s' "$1" | sed 's/\.[0-9]*Z$/Z/')" +%s)
	_f=$(printf '%s' "$1" | sed -n 's/.*\.\([0-9][0-9][0-9]\)Z$/\1/p' | sed 's/^0*//')
	echo $((_s * 1000 + ${_f:-0}))
}

# run_wait [SECONDS]: wait for wa-run to exit (bounded), status in RC
run_wait() {
	_lim=$(( ${1:-20} * 50 )); _i=0
	while kill -0 "$RUN_PID" 2> /dev/null; do
		# a zombie counts as gone
		case $(cut -d' ' -f3 "/proc/$RUN_PID/stat" 2> /dev/null) in Z|X|'') break ;; esac
		_i=$((_i + 1))
		if [ "$_i" -ge "$_lim" ]; then
			diag "run_wait: wa-run $RUN_PID still running after ${1:-20} s: killing it" >&2
			kill -9 "$RUN_PID" 2> /dev/null
			break
		fi
		sleep 0.02
	done
	wait "$RUN_PID"
	RC=$?
}

# status_field NAME DIR: a field of DIR/.wa/status.json
status_field() {
	fakewa_field "$1" < "$2/.wa/status.json"
}

# cputicks PID: utime + stime of a process, in clock ticks
cputicks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

#!/bin/sh
# 1700-scripts: what scripts/ ships for running wa-run and recovering a
# folder.
#   - wa-run@.service passes systemd-analyze verify without a warning,
#     does not restart on exactly the exit codes of cmd/exitcode.h that a
#     restart cannot change (and does on 12), and is hardened;
#   - com.wa.run.plist is a well-formed plist whose sh wrapper maps those
#     codes to "no restart", passes the rest on, and forwards SIGTERM;
#   - wa-check.cron is a valid cron.d line whose command is silent on a
#     healthy folder and prints the problem on a broken one;
#   - wa-recover (shellcheck clean) restores a torn creds.json from the
#     newest backup (byte-identical afterwards), moves a corrupt session
#     into quarantine after a backup, changes nothing in a dry run, and
#     exits with the documented code for each case it cannot repair.
#   - wa-statefulset.yaml parses as Kubernetes objects: a StatefulSet with
#     one volume per account (volumeClaimTemplates), wa-run as the command
#     on the folder the liveness probe checks, and a probe that passes on an
#     OK and a WARNING folder and fails on a CRITICAL one (run for real).
# Parts whose tool is missing (systemd-analyze, python3, shellcheck, flock,
# PyYAML) are skipped.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

S=$WA_TOP/scripts
code_of() { sed -n "s/^[[:space:]]*$1 = \([0-9]*\),.*/\1/p" "$WA_TOP/cmd/exitcode.h"; }
LOGGED_OUT=$(code_of WA_EXIT_LOGGED_OUT)
REPLACED=$(code_of WA_EXIT_REPLACED)
RETRIES=$(code_of WA_EXIT_RETRIES)
OUTDATED=$(code_of WA_EXIT_OUTDATED)
BANNED=$(code_of WA_EXIT_BANNED)
REFUSED=$(code_of WA_EXIT_REFUSED)
[ -n "$LOGGED_OUT" ] && [ -n "$REPLACED" ] && [ -n "$RETRIES" ] && [ -n "$OUTDATED" ] &&
    [ -n "$BANNED" ] && [ -n "$REFUSED" ] || { echo "Bail out! exit codes not found in cmd/exitcode.h"; exit 1; }
NORESTART="$LOGGED_OUT $REPLACED $OUTDATED $BANNED $REFUSED $(code_of WA_EXIT_USAGE) $(code_of WA_EXIT_DATAERR) $(code_of WA_EXIT_NOINPUT) $(code_of WA_EXIT_NOPERM)"

# ---- systemd ----------------------------------------------------------------
unit=$S/wa-run@.service
ok "wa-run@.service exists" test -f "$unit"
prevent=$(sed -n 's/^RestartPreventExitStatus=//p' "$unit")
for c in $NORESTART; do
	case " $prevent " in *" $c "*) pass "no restart on exit $c" ;; *) fail "no restart on exit $c" "RestartPreventExitStatus=$prevent" ;; esac
done
for c in $RETRIES $(code_of WA_EXIT_LOCKED) $(code_of WA_EXIT_IOERR); do
	case " $prevent " in *" $c "*) fail "restart on exit $c" "RestartPreventExitStatus=$prevent" ;; *) pass "restart on exit $c" ;; esac
done
for k in Type=notify WatchdogSec= Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict \
    'ReadWritePaths=/var/lib/wa/%i' PrivateTmp=yes UMask=0077 'ExecStart=/usr/local/bin/wa-run -d /var/lib/wa/%i'; do
	like "$(cat "$unit")" "
$k" "unit has $k"
done
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$T/units"
	exe=/bin/true
	[ -x "$WA_BIN/wa-run" ] && exe=$WA_BIN/wa-run
	sed "s|/usr/local/bin/wa-run|$exe|" "$unit" > "$T/units/wa-run@ci.service"
	expect_exit 0 "systemd-analyze verify accepts an instance" systemd-analyze verify --man=no "$T/units/wa-run@ci.service"
	is "$(cat "$T/err")" "" "  without a warning"
	if systemd-analyze security --offline=yes "$T/units/wa-run@ci.service" > "$T/sec" 2>&1; then
		level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/sec")
		ok "hardening: exposure level $level is below 3" awk -v l="$level" 'BEGIN { exit !(l != "" && l < 3) }'
	fi
	printf '[Service]\nExecStart=/bin/true\nNoSuchKey=1\n' > "$T/units/bad@ci.service"
	systemd-analyze verify --man=no "$T/units/bad@ci.service" > "$T/out" 2> "$T/err"
	like "$(cat "$T/err")" "NoSuchKey" "  (the check does see a bad key in another unit)"
else
	pass "# SKIP systemd-analyze not installed"
fi

# ---- launchd ----------------------------------------------------------------
plist=$S/com.wa.run.plist
if command -v python3 >/dev/null 2>&1; then
	ok "com.wa.run.plist is a well-formed plist" python3 -c '
import plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
assert d["Label"] == "com.wa.run"
assert d["KeepAlive"] == {"SuccessfulExit": False}
assert d["ProgramArguments"][:2] == ["/bin/sh", "-c"]
assert d["Umask"] == 0o077
' "$plist"
	python3 -c '
import plistlib, sys
print(plistlib.load(open(sys.argv[1], "rb"))["ProgramArguments"][2])' "$plist" > "$T/wrapper"
	folder=$(python3 -c '
import plistlib, sys
print(plistlib.load(open(sys.argv[1], "rb"))["ProgramArguments"][3])' "$plist")
	like "$(cat "$T/wrapper")" "/usr/local/bin/wa-run -d \"\$0\"" "the wrapper runs wa-run on \$0 (the folder: $folder)"
	# the wrapper with a fake wa-run that exits with $FAKE_RC
	cat > "$T/fake-wa-run" <<'EOF'
#!/bin/sh
[ "$1" = -d ] && [ "$2" = "$WANT_DIR" ] || exit 99
if [ -n "${FAKE_FIFO:-}" ]; then
	sleep 60 > /dev/null 2>&1 < /dev/null &
	s=$!
	trap 'echo TERM > "$FAKE_GOT"; kill $s; exit 0' TERM
	echo $$ > "$FAKE_FIFO"
	wait $s
	exit 98
fi
exit "$FAKE_RC"
EOF
	chmod 755 "$T/fake-wa-run"
	sed "s|/usr/local/bin/wa-run|$T/fake-wa-run|" "$T/wrapper" > "$T/wrapper.sh"
	export WANT_DIR="/srv/a folder; \$(touch $T/injected)"
	for rc in 0 $NORESTART $RETRIES 75 74 1; do
		want=$rc
		case " $NORESTART " in *" $rc "*) want=0 ;; esac
		FAKE_RC=$rc sh -c "$(cat "$T/wrapper.sh")" "$WANT_DIR"
		is "$?" "$want" "launchd wrapper: wa-run exit $rc -> $want ($( [ "$want" = 0 ] && echo 'no restart' || echo restart))"
	done
	ok "the folder name is not parsed by a shell" test ! -e "$T/injected"
	mkfifo "$T/fifo"
	export FAKE_FIFO="$T/fifo" FAKE_GOT="$T/got"
	bad=0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		rm -f "$T/got"
		sh -c "$(cat "$T/wrapper.sh")" "$WANT_DIR" & wpid=$!
		read -r child < "$T/fifo"    # the fake is up and has its trap
		kill -TERM "$wpid"
		wait "$wpid"
		r=$?
		[ "$r" -eq 0 ] && [ "$(cat "$T/got" 2>/dev/null)" = TERM ] || { bad=$((bad + 1)); diag "round $i: exit $r"; }
	done
	is "$bad" 0 "launchd wrapper, 10 rounds: SIGTERM reaches wa-run (last pid $child) and its exit 0 is the wrapper's"
	unset FAKE_FIFO FAKE_GOT
else
	pass "# SKIP python3 not installed"
fi

# ---- cron ----------------------------------------------------------------------
cron=$S/wa-check.cron
line=$(grep -v -e '^#' -e '^[A-Z_]*=' -e '^[[:space:]]*$' "$cron")
is "$(printf '%s\n' "$line" | wc -l | tr -d ' ')" 1 "wa-check.cron holds one job line"
set -f
# shellcheck disable=SC2086
set -- $line
set +f
ok "five time fields, then the user" test "$1 $2 $3 $4 $5 $6" = "*/5 * * * * wa"
shift 6
cmd=$*
unlike "$(printf '%s' "$cmd" | sed 's/\\%//g')" "%" "every % is escaped (cron turns a bare % into a newline)"
cmd=$(printf '%s' "$cmd" | sed 's/\\%/%/g')     # what cron hands to sh
ok "the command is valid sh" sh -n -c "$cmd"
like "$cmd" "wa-check" "the command runs wa-check"

# ---- folders ------------------------------------------------------------------
K32A=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=
K32B=ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=
K64=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA==
kp() { printf '{"private":{"type":"Buffer","data":"%s"},"public":{"type":"Buffer","data":"%s"}}' $K32A $K32B; }
creds() {
	printf '{"noiseKey":%s,"pairingEphemeralKeyPair":%s,"signedIdentityKey":%s,' "$(kp)" "$(kp)" "$(kp)"
	printf '"signedPreKey":{"keyPair":%s,"signature":{"type":"Buffer","data":"%s"},"keyId":1},' "$(kp)" $K64
	printf '"registrationId":1234,"advSecretKey":"%s","me":{"id":"15550001111:3@s.whatsapp.net"},' $K32A
	printf '"account":{"details":"%s","accountSignatureKey":"%s","accountSignature":"%s","deviceSignature":"%s"}}' \
	    $K32A $K32B $K64 $K64
}
mkfolder() {
	mkdir -m 700 "$1" "$1/.wa"
	creds > "$1/creds.json"
	kp > "$1/pre-key-1.json"
	printf '{"_sessions":{}}' > "$1/session-15550002222.0.json"
	chmod 600 "$1"/*
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
status() {
	printf '{"state":"%s","since":"%s","pid":%s,"last_inbound":"%s","last_error":null,"class":null}' \
	    "$2" "$(iso "$(date +%s)")" "$$" "$(iso "$(date +%s)")" > "$1/.wa/status.json"
	chmod 600 "$1/.wa/status.json"
}

cd "$T" || exit 1
have_tools=1
for t in wa-check wa-backup wa-prune wa-restore; do
	[ -x "$WA_BIN/$t" ] || have_tools=0
done

if [ "$have_tools" -eq 1 ]; then
	mkfolder cron
	status cron online
	out=$(PATH="$WA_BIN:$PATH" sh -c "$(printf '%s' "$cmd" | sed "s|/var/lib/wa/bot|$T/cron|")")
	is "$?:$out" "0:" "cron job: silent on a healthy folder"
	printf '{"broken' > cron/session-15550002222.0.json
	out=$(PATH="$WA_BIN:$PATH" sh -c "$(printf '%s' "$cmd" | sed "s|/var/lib/wa/bot|$T/cron|")")
	like "$out" "WA CRITICAL" "cron job: prints the problem on a broken folder"
	like "$out" "session-15550002222.0.json" "  naming the file"
fi

# ---- wa-recover ---------------------------------------------------------------
rec=$S/wa-recover
if command -v shellcheck >/dev/null 2>&1; then
	ok "shellcheck wa-recover" shellcheck -s sh "$rec"
else
	pass "# SKIP shellcheck not installed"
fi
ok "wa-recover is valid sh" sh -n "$rec"
expect_exit 0 "wa-recover -h" "$rec" -h
is "$(cat "$T/out")" "usage: wa-recover [-hnpy] [--version] [-B dir] [-d dir]" "  prints the usage line"
like "$(sed -n '1,5p' "$rec")" "usage: wa-recover [-hnpy] [--version] [-B dir] [-d dir]" "  which is the one in its header"
if [ -x "$WA_BIN/wa-check" ]; then
	expect_exit 0 "wa-recover --version" "$rec" --version
	is "$(cat "$T/out")" "wa-recover $("$WA_BIN/wa-check" --version | sed 's/^wa-check //')" "  prints its name and the tools' version"
else
	pass "# SKIP wa-check not built"
fi
expect_exit 64 "wa-recover -x: usage" "$rec" -x
expect_exit 64 "wa-recover without a folder: usage" "$rec"

if [ "$have_tools" -eq 1 ]; then
	PATH=$WA_BIN:$PATH
	expect_exit 66 "a missing folder: 66" "$rec" -d "$T/none"

	# a torn creds.json with a backup
	mkfolder auth
	cp auth/creds.json good-creds.json
	ok "backup made" wa-backup -q -d auth
	head -c 300 good-creds.json > auth/creds.json
	before=$(tree_state auth)
	expect_exit 65 "torn creds.json, dry run: 65 (repairs needed)" "$rec" -d auth
	like "$(cat "$T/out")" "would run: wa-restore -d auth $T/auth.backups/auth-" "  says it would restore the newest backup"
	is "$(tree_state auth)" "$before" "  and changed nothing"
	expect_exit 0 "torn creds.json, -y: restored" "$rec" -y -d auth
	ok "  creds.json is byte-identical to the backed-up one" cmp -s auth/creds.json good-creds.json
	ok "  the broken folder is kept beside it" sh -c 'ls -d auth.replaced-* >/dev/null'
	expect_exit 0 "  wa-check: OK" wa-check -d auth

	# a corrupt session: backup, then quarantine
	printf '{"broken' > auth/session-15550002222.0.json
	nb=$(ls auth.backups | wc -l)
	expect_exit 0 "corrupt session, -y: pruned" "$rec" -y -d auth
	ok "  moved into quarantine" sh -c 'ls auth/.wa/quarantine/*/session-15550002222.0.json >/dev/null'
	ok "  gone from the folder" test ! -e auth/session-15550002222.0.json
	is "$(ls auth.backups | wc -l)" "$((nb + 1))" "  after a backup"
	ok "  creds.json untouched" cmp -s auth/creds.json good-creds.json
	expect_exit 0 "  wa-check: OK" wa-check -d auth
	expect_exit 0 "healthy folder: nothing to do" "$rec" -y -d auth
	like "$(cat "$T/out")" "nothing to do" "  says so"

	# a backup whose creds.json parses but is incomplete is the newest:
	# restored once, never again; the older good one is restored next
	mkfolder fb
	cp fb/creds.json fb-good.json
	ok "good backup" wa-backup -q -d fb
	creds | sed 's/"noiseKey":{"private":{[^}]*},"public":{[^}]*}},//' > fb/creds.json
	ok "newer backup of an incomplete creds.json" wa-backup -q -d fb
	head -c 300 fb-good.json > fb/creds.json
	expect_exit 0 "bad newest backup, -y: repaired from the older one" "$rec" -y -d fb
	is "$(grep -c "restoring '" "$T/out")" 2 "  two restores"
	is "$(grep "restoring '" "$T/out" | sort -u | wc -l | tr -d ' ')" 2 "  of two different archives"
	ok "  creds.json is the good one" cmp -s fb/creds.json fb-good.json
	expect_exit 0 "  wa-check: OK" wa-check -d fb

	# a torn creds.json and no backup
	mkfolder lone
	head -c 100 lone/creds.json > x && cat x > lone/creds.json
	before=$(tree_state lone)
	expect_exit 66 "torn creds.json without a backup: 66" "$rec" -y -d lone
	like "$(cat "$T/err")" "wa-pair" "  says to pair again"
	is "$(tree_state lone)" "$before" "  changed nothing"

	# states files cannot fix
	mkfolder gone
	status gone logged_out
	expect_exit "$LOGGED_OUT" "wa-run reports logged_out: $LOGGED_OUT" "$rec" -y -d gone
	like "$(cat "$T/err")" "wa-pair" "  says to pair again"
	mkdir "$T/fakebin"
	cat > "$T/fakebin/wa-pair" <<'EOF'
#!/bin/sh
printf '%s\n' "$*" > "$T/pair-args"
for a; do d=$a; done
rm -f "$d/.wa/status.json"
EOF
	chmod 755 "$T/fakebin/wa-pair"
	expect_exit 0 "logged_out with -y -p: pairs again" env PATH="$T/fakebin:$PATH" "$rec" -y -p -d gone
	is "$(cat "$T/pair-args" 2>/dev/null)" "-f -d gone" "  wa-pair -f -d DIR (it takes its own backup)"
	status gone replaced
	expect_exit "$REPLACED" "wa-run reports replaced: $REPLACED" "$rec" -y -d gone

	# a running writer holds the lock
	if command -v flock >/dev/null 2>&1; then
		mkfolder busy
		printf '{"broken' > busy/session-15550002222.0.json
		: > busy/.wa/lock
		chmod 600 busy/.wa/lock
		expect_exit 75 "a writer holds the lock: 75" flock busy/.wa/lock "$rec" -y -d busy
		like "$(cat "$T/err")" "stop it" "  says to stop it first"
		ok "  the corrupt file is still there" test -e busy/session-15550002222.0.json
	else
		pass "# SKIP flock not installed"
	fi
else
	pass "# SKIP wa-check, wa-backup, wa-prune or wa-restore not built"
fi

# ---- make install ships wa-recover and its page ---------------------------------
O=${WA_BIN%/bin}
if [ -x "$WA_BIN/wa-check" ] && make -s -C "$WA_TOP" O="$O" install DESTDIR="$T/root" PREFIX=/opt/wa > "$T/out" 2>&1; then
	ok "make install: wa-recover installed and executable" test -x "$T/root/opt/wa/bin/wa-recover"
	ok "  wa-recover(1) installed" test -f "$T/root/opt/wa/share/man/man1/wa-recover.1"
	make -s -C "$WA_TOP" O="$O" uninstall DESTDIR="$T/root" PREFIX=/opt/wa > /dev/null 2>&1
	ok "make uninstall removes it" test ! -e "$T/root/opt/wa/bin/wa-recover"
else
	fail "make install" "$(cat "$T/out")"
fi
ok "wa-recover(1) lints" sh -c 'command -v mandoc > /dev/null || exit 0; mandoc -Tlint -Wwarning "$WA_TOP/man/wa-recover.1"'
synopsis=$(mandoc -Tascii -O width=1000 "$WA_TOP/man/wa-recover.1" 2>/dev/null | col -b |
    awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' | tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//')
is "$synopsis" "$("$rec" -h | sed 's/^usage: //')" "wa-recover -h is the SYNOPSIS of wa-recover(1)"
# ---- Kubernetes -----------------------------------------------------------------
k8s=$S/wa-statefulset.yaml
ok "wa-statefulset.yaml exists" test -f "$k8s"
if command -v python3 > /dev/null 2>&1 && python3 -c 'import yaml' 2> /dev/null; then
	ok "wa-statefulset.yaml: a StatefulSet with one volume per account, wa-run, wa-check as liveness probe" python3 -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ss = [d for d in docs if d["kind"] == "StatefulSet"][0]
assert ss["apiVersion"] == "apps/v1"
spec = ss["spec"]
assert [d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == spec["serviceName"]], "headless service"
vct = spec["volumeClaimTemplates"][0]
assert vct["spec"]["accessModes"] == ["ReadWriteOnce"], "one node per volume"
c = spec["template"]["spec"]["containers"][0]
assert c["command"][0].endswith("/wa-run"), c["command"]
folder = c["command"][c["command"].index("-d") + 1]
assert any(m["name"] == vct["metadata"]["name"] and folder.startswith(m["mountPath"] + "/") for m in c["volumeMounts"]), "the folder is on the claim"
probe = " ".join(c["livenessProbe"]["exec"]["command"])
assert "wa-check -d " + folder in probe, probe
open(sys.argv[2], "w").write(c["livenessProbe"]["exec"]["command"][2])
' "$k8s" "$T/probe"
	probe=$(sed -e "s|/usr/local/bin/wa-check|wa-check|" -e "s|/var/lib/wa/auth|$T/k8s|" "$T/probe")
	mkfolder "$T/k8s"
	expect_exit 0 "the liveness probe passes on a healthy folder" sh -c "$probe"
	printf '{"state":"online","since":"%s","pid":999999999}' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$T/k8s/.wa/status.json"
	chmod 600 "$T/k8s/.wa/status.json"
	wa-check -d "$T/k8s" > /dev/null 2>&1
	is "$?" 1 "  (a stale status is a WARNING)"
	expect_exit 0 "  and passes on a WARNING (left to monitoring)" sh -c "$probe"
	printf '{"state":"logged_out","since":"2026-11-21T10:13:20Z"}' > "$T/k8s/.wa/status.json"
	expect_exit 1 "  and fails on a CRITICAL folder (logged out)" sh -c "$probe"
else
	pass "# SKIP python3 with PyYAML missing"
fi
done_testing

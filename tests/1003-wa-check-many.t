#!/bin/sh
# 1003-wa-check-many: a folder of 10,000 files (6,000 sessions of real
# size, 3,000 pre-keys, 999 sender keys, creds.json).  Correctness is
# asserted: every count, and three bad files among the 10,000 are each
# named.  Speed is measured, not asserted (the machine is shared and
# make check runs the sanitizer build): the time is printed as a TAP
# diagnostic, for the tested build and, when it exists, the release build
# in build/bin.  The goal is under 200 ms for the release build.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

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
# a session record of the size Baileys writes (about 1.1 KB)
S="{\"_sessions\":{\"$K32A\":{\"registrationId\":4711,\"currentRatchet\":{\"ephemeralKeyPair\":{\"pubKey\":\"$K32A\",\"privKey\":\"$K32B\"},\"lastRemoteEphemeralKey\":\"$K32A\",\"previousCounter\":0,\"rootKey\":\"$K32B\"},\"indexInfo\":{\"baseKey\":\"$K32A\",\"baseKeyType\":2,\"closed\":-1,\"used\":1795256113000,\"created\":1795256113000,\"remoteIdentityKey\":\"$K32A\"},\"_chains\":{\"$K32B\":{\"chainKey\":{\"counter\":3,\"key\":\"$K32A\"},\"chainType\":2,\"messageKeys\":{\"1\":\"$K32B\"}},\"$K32A\":{\"chainKey\":{\"counter\":-1,\"key\":\"$K32B\"},\"chainType\":1,\"messageKeys\":{}}}}},\"version\":\"v1\"}"
P=$(kp)
SK="{\"type\":\"Buffer\",\"data\":\"$K64$K64$K64\"}"

# timed CMD...: run CMD three times; print "wall W ms (best of 3), CPU C ms
# (user+sys, mean of 3)".  Wall time on a shared machine is mostly waiting
# for a core; CPU time (from the shell's times builtin, which counts
# finished children) is what the check costs.
# (times must run in this shell, not in a $(...) subshell, whose children
# are its own)
cpu_ms() {
	awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/);
		printf "%d\n", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }' "$1"
}
timed() {
	_best=
	times > "$T/times0"
	for _r in 1 2 3; do
		_t0=$(date +%s%N)
		"$@" > /dev/null 2>&1
		_t1=$(date +%s%N)
		_d=$(((_t1 - _t0) / 1000000))
		if [ -z "$_best" ] || [ "$_d" -lt "$_best" ]; then _best=$_d; fi
	done
	times > "$T/times1"
	echo "wall $_best ms (best of 3), CPU $((($(cpu_ms "$T/times1") - $(cpu_ms "$T/times0")) / 3)) ms (user+sys, mean of 3)"
}

cd "$T" || exit 1
umask 077
mkdir m
creds > m/creds.json
i=0
while [ $i -lt 6000 ]; do printf '%s' "$S" > "m/session-1555$((1000000 + i)).0.json"; i=$((i + 1)); done
i=1
while [ $i -le 3000 ]; do printf '%s' "$P" > "m/pre-key-$i.json"; i=$((i + 1)); done
i=0
while [ $i -lt 999 ]; do printf '%s' "$SK" > "m/sender-key-120363000000000000@g.us--1555$((1000000 + i))--0.json"; i=$((i + 1)); done
is "$(ls m | wc -l | tr -d ' ')" 10000 "10,000 files made"

expect_exit 0 "10,000 valid files: OK" wa-check -d m
like "$(cat "$T/out")" "WA OK - paired as 15550001111:3@s.whatsapp.net, 10000 files | files=10000;; creds=1 pre_key=3000 session=6000 sender_key=999 sender_key_memory=0 " "every count right"
expect_exit 2 "--crit-files 9999" wa-check -d m --crit-files 9999
like "$(cat "$T/out")" "10000 files, over the critical threshold of 9999" "  threshold on the total"

timed wa-check -d m > "$T/timing"
diag "wa-check on 10000 files: $(cat "$T/timing") [$WA_BIN/wa-check]"
if [ -x "$WA_TOP/build/bin/wa-check" ] && [ "$WA_TOP/build/bin/wa-check" != "$WA_BIN/wa-check" ]; then
	timed "$WA_TOP/build/bin/wa-check" -d m > "$T/timing"
	diag "wa-check on 10000 files: $(cat "$T/timing") [release build; goal < 200 ms]"
fi

# three bad files among 10,000: each named, the rest still counted
printf '%s' "$S" | head -c 600 > m/session-15551003000.0.json
: > m/pre-key-1500.json
printf 'garbage' > "m/sender-key-120363000000000000@g.us--15551000500--0.json"
# older than two seconds, so wa-check does not wait for a writer to finish
touch -d '1 hour ago' m/session-15551003000.0.json m/pre-key-1500.json "m/sender-key-120363000000000000@g.us--15551000500--0.json"
expect_exit 2 "three bad files: CRITICAL" wa-check -v -d m
is "$(lines "$T/out")" 4 "  summary + exactly 3 problems"
like "$(cat "$T/out")" "CRITICAL: 'm/pre-key-1500.json': empty file" "  the empty pre-key"
like "$(cat "$T/out")" "CRITICAL: 'm/sender-key-120363000000000000@g.us--15551000500--0.json': not valid JSON at byte 0 of 7" "  the garbage sender key"
like "$(cat "$T/out")" "CRITICAL: 'm/session-15551003000.0.json': not valid JSON at byte 600 of 600: unexpected end of input (truncated)" "  the truncated session"
like "$(cat "$T/out")" "| files=10000;; creds=1 pre_key=3000 session=6000 sender_key=999 " "  counts unchanged"
timed wa-check -d m > "$T/timing"
diag "wa-check on 10000 files with 3 bad ones: $(cat "$T/timing") [$WA_BIN/wa-check]"
done_testing

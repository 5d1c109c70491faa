#!/bin/sh
# 1505-only-durable-renames: lib/store/durable.c (with lib/base/compat.c for the
# platform calls) is the only code that renames or fsyncs, and nothing
# rewrites a file in place.
#
# Over lib/ and cmd/ (comments and string literals removed first, so the
# words may still be used in prose and messages):
#   - rename, renameat, renameat2, SYS_rename*, fsync, fdatasync, syncfs,
#     sync_file_range, F_FULLFSYNC: only in lib/store/durable.c and lib/base/compat.c;
#   - O_TRUNC, and fopen/freopen for writing ("w", "a", "r+"): nowhere
#     (Baileys' bug: truncate-and-write onto the final name);
#   - truncate/ftruncate: only in lib/store/lock.c (the lock file holds the
#     holder's pid, not auth data).
# The scanner is first shown to find each pattern in a planted file, so a
# broken pattern cannot pass silently.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

CC=${CC:-cc}
"$CC" -fpreprocessed -dD -E -P -x c /dev/null > /dev/null 2>&1 ||
	skip_all "$CC cannot strip comments (-fpreprocessed)"

SYNC='(^|[^A-Za-z0-9_])(rename|renameat|renameat2|fsync|fdatasync|syncfs|sync_file_range)[[:space:]]*\(|F_FULLFSYNC|SYS_rename'
TRUNC='O_TRUNC|(^|[^A-Za-z0-9_])f?truncate[[:space:]]*\('

# prep FILE...: every line of code as "FILE:LINE: text", comments removed
# (the compiler's own -fpreprocessed pass; line markers give file and line)
prep() {
	"$CC" -fpreprocessed -dD -E -x c "$@" 2> /dev/null | awk '
		/^# [0-9]+ "/ { f = $3; gsub(/"/, "", f); n = $2 - 1; next }
		{ n++; print f ":" n ": " $0 }'
}
# code FILE...: the same with string literals emptied
code() { prep "$@" | sed -E 's/"([^"\\]|\\.)*"/""/g'; }

# scan PATTERN FILE...: the lines of code that match
scan() { _p=$1; shift; code "$@" | grep -E "$_p"; }
scan_fopen() { prep "$@" | grep -E '(fopen|freopen|fdopen)[[:space:]]*\([^;]*"(w|a|r\+)'; }

# the scanner finds what it must
cat > "$T/planted.c" <<'EOF'
/* rename( and fsync( in a comment are fine */
static const char *m = "fsync(fd) failed";
int a(int fd) { return fsync (fd); }
int b(void) { return renameat(1, "x", 2, "y"); }
int c(void) { return syscall(SYS_renameat2, 1, "x", 2, "y", 0); }
int d(int fd) { return fcntl(fd, F_FULLFSYNC); }
int e(void) { return open("x", O_WRONLY | O_TRUNC); }
int f(void) { return fdatasync(3) + ftruncate(3, 0); }
void g(void) { FILE *f = fopen("creds.json", "w"); }
int wa_durable_rename(void);
int h(void) { return wa_durable_rename(); }
EOF
is "$(scan "$SYNC" "$T/planted.c" | wc -l | tr -d ' ')" 5 "the scanner finds fsync, renameat, SYS_renameat2, F_FULLFSYNC, fdatasync (not comments, strings or wa_durable_rename)"
is "$(scan "$TRUNC" "$T/planted.c" | wc -l | tr -d ' ')" 2 "the scanner finds O_TRUNC and ftruncate"
is "$(scan_fopen "$T/planted.c" | wc -l | tr -d ' ')" 1 "the scanner finds fopen for writing"

cd "$WA_TOP" || exit 1
files=$(ls lib/*/*.c lib/*/*.h cmd/*.c cmd/*.h 2> /dev/null)
diag "scanning $(echo "$files" | wc -l | tr -d ' ') files in lib/ and cmd/"
# shellcheck disable=SC2086
code $files > "$T/code"
# shellcheck disable=SC2086
prep $files > "$T/prep"
is "$(cut -d: -f1 "$T/code" | sort -u | wc -l | tr -d ' ')" "$(echo "$files" | wc -l | tr -d ' ')" "every file was read"

is "$(grep -E "$SYNC" "$T/code" | grep -v -e '^lib/store/durable\.c:' -e '^lib/base/compat\.c:')" "" \
    "no rename or fsync outside lib/store/durable.c and lib/base/compat.c"
is "$(grep -E 'O_TRUNC' "$T/code")" "" "no O_TRUNC anywhere"
is "$(grep -E '(fopen|freopen|fdopen)[[:space:]]*\([^;]*"(w|a|r\+)' "$T/prep")" "" "no fopen for writing anywhere"
is "$(grep -E "$TRUNC" "$T/code" | grep -v '^lib/store/lock\.c:')" "" "no truncate outside lib/store/lock.c"

# and durable.c does hold the calls (the rule is not vacuous)
like "$(grep -E "$SYNC" "$T/code" | grep '^lib/store/durable\.c:')" "renameat" "lib/store/durable.c renames"
like "$(grep -E "$SYNC" "$T/code" | grep '^lib/base/compat\.c:')" "fsync" "lib/base/compat.c fsyncs"
done_testing

#!/bin/sh
# 1505-only-durable-renames: lib/store/durable.c (with lib/base/compat.c for the
# platform calls) is the only code that renames, fsyncs or makes folders,
# names are removed only where listed below, and nothing rewrites a file
# in place.
#
# Over lib/ and cmd/ (comments and string literals removed first, so the
# words may still be used in prose and messages):
#   - rename, renameat, renameat2, SYS_rename*, fsync, fdatasync, syncfs,
#     sync_file_range, F_FULLFSYNC: only in lib/store/durable.c and lib/base/compat.c;
#   - mkdir, mkdirat: only in lib/store/durable.c (wa_durable_mkdir and
#     wa_durable_mkdir_path fsync the parent, so a new folder survives a
#     power cut);
#   - unlink, unlinkat, rmdir, remove: in lib/store/durable.c (a temp file
#     after a failed write; link + unlink where RENAME_NOREPLACE is missing)
#     and, as exceptions, only in
#       lib/store/stage.c       sweeps stale .wa-tmp.* files from the
#                               staging folder (never data: RELIABILITY R5)
#       lib/store/quarantine.c  wa-prune's purge of old quarantine entries,
#                               an explicit operator action on what was
#                               already moved aside
#       lib/ops/backup.c        removes an unfinished restore's staging
#                               folder, and archives beyond --keep
#       lib/ops/status.c        drops the oldest rotated event log
#                               (history, not auth data)
#       lib/spool/spool.c       drops the temps of a commit that never
#                               reached the record (never acknowledged:
#                               the server redelivers) and record files
#                               past keep_days (an index, not messages)
#     (auth files themselves are never unlinked: they go to quarantine);
#   - O_TRUNC, truncate, ftruncate, and fopen/freopen for writing ("w",
#     "a", "r+"): nowhere (Baileys' bug: truncate-and-write onto the final
#     name).
# The scanner is first shown to find each pattern in a planted file, so a
# broken pattern cannot pass silently.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

CC=${CC:-cc}
"$CC" -fpreprocessed -dD -E -P -x c /dev/null > /dev/null 2>&1 ||
	skip_all "$CC cannot strip comments (-fpreprocessed)"

SYNC='(^|[^A-Za-z0-9_])(rename|renameat|renameat2|fsync|fdatasync|syncfs|sync_file_range)[[:space:]]*\(|F_FULLFSYNC|SYS_rename'
TRUNC='O_TRUNC|(^|[^A-Za-z0-9_])f?truncate[[:space:]]*\('
MKDIR='(^|[^A-Za-z0-9_])mkdir(at)?[[:space:]]*\('
UNLINK='(^|[^A-Za-z0-9_])(unlink|unlinkat|rmdir|remove)[[:space:]]*\('
UNLINK_OK='^lib/store/(durable|stage|quarantine)\.c:|^lib/ops/(backup|status)\.c:|^lib/spool/spool\.c:'

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
int i(void) { return mkdirat(3, "x", 0700) + mkdir ("y", 0700); }
int j(void) { return unlinkat(3, "x", 0) + unlink("y") + rmdir("z") + remove("w"); }
int k(void) { return wa_durable_mkdir(3, "x") + my_unlink("y"); }
/* mkdir( and unlink( in a comment are fine */
static const char *n = "unable to unlink('x'), mkdir('y')";
EOF
is "$(scan "$SYNC" "$T/planted.c" | wc -l | tr -d ' ')" 5 "the scanner finds fsync, renameat, SYS_renameat2, F_FULLFSYNC, fdatasync (not comments, strings or wa_durable_rename)"
is "$(scan "$TRUNC" "$T/planted.c" | wc -l | tr -d ' ')" 2 "the scanner finds O_TRUNC and ftruncate"
is "$(scan_fopen "$T/planted.c" | wc -l | tr -d ' ')" 1 "the scanner finds fopen for writing"
is "$(scan "$MKDIR" "$T/planted.c" | wc -l | tr -d ' ')" 1 "the scanner finds mkdirat and mkdir (not comments, strings or wa_durable_mkdir)"
is "$(scan "$MKDIR" "$T/planted.c" | grep -o -E "$MKDIR" | wc -l | tr -d ' ')" 2 "both mkdir calls on the planted line"
is "$(scan "$UNLINK" "$T/planted.c" | wc -l | tr -d ' ')" 1 "the scanner finds unlink calls (not comments, strings or my_unlink)"
is "$(scan "$UNLINK" "$T/planted.c" | grep -o -E "$UNLINK" | wc -l | tr -d ' ')" 4 "unlinkat, unlink, rmdir and remove on the planted line"
printf 'lib/store/lock.c:1: ftruncate(fd, 0);\nlib/ops/prune.c:2: unlinkat(fd, n, 0);\nlib/store/stage.c:3: unlinkat(fd, n, 0);\n' > "$T/fake"
is "$(grep -E "$TRUNC" "$T/fake" | wc -l | tr -d ' ')" 1 "a truncate in lib/store/lock.c is not exempt"
is "$(grep -E "$UNLINK" "$T/fake" | grep -v -E "$UNLINK_OK")" "lib/ops/prune.c:2: unlinkat(fd, n, 0);" "an unlink outside the listed files is caught, a listed one is not"

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
is "$(grep -E "$TRUNC" "$T/code")" "" "no truncate or ftruncate anywhere (lib/store/lock.c included)"
is "$(grep -E "$MKDIR" "$T/code" | grep -v '^lib/store/durable\.c:')" "" "no mkdir outside lib/store/durable.c"
is "$(grep -E "$UNLINK" "$T/code" | grep -v -E "$UNLINK_OK")" "" \
    "no unlink, rmdir or remove outside lib/store/durable.c and the listed exceptions"

# and durable.c does hold the calls (the rule is not vacuous)
like "$(grep -E "$SYNC" "$T/code" | grep '^lib/store/durable\.c:')" "renameat" "lib/store/durable.c renames"
like "$(grep -E "$SYNC" "$T/code" | grep '^lib/base/compat\.c:')" "fsync" "lib/base/compat.c fsyncs"
like "$(grep -E "$MKDIR" "$T/code" | grep '^lib/store/durable\.c:')" "mkdirat" "lib/store/durable.c makes folders"
like "$(grep -E "$UNLINK" "$T/code" | grep '^lib/store/durable\.c:')" "unlinkat" "lib/store/durable.c unlinks"
done_testing

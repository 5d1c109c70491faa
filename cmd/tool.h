/*
 * tool.h - what every wa command shares: its name in messages, the one
 * way it reports, the map from library codes to the exit-status table
 * (cmd/exitcode.h), and where the auth folder comes from.
 *
 * This is command-side code (linked into each tool, not into libwa.a):
 * the library never prints or exits, the tools do, through here.
 */
#ifndef WA_TOOL_H
#define WA_TOOL_H

#include <stdio.h>

#include "base/err.h"
#include "exitcode.h"

extern const char *tool_name;

/* Set the name used in messages, umask 077, and line-buffer stderr. */
void tool_init(const char *name);

/* "NAME: message" on stderr. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tool_err, then exit(code). */
void tool_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Print "usage: USAGE" (to stdout and exit 0 for -h, else stderr and exit
 * with code).  USAGE is the man page SYNOPSIS, word for word. */
void tool_usage(const char *usage, FILE *f, int code) __attribute__((noreturn));

/* --version: "NAME VERSION" (base/version.h) on stdout, exit 0; when
 * standard output cannot be written, a message and exit failcode. */
void tool_version(int failcode) __attribute__((noreturn));

/* "NAME: message" (when fmt is not NULL), then usage on stderr, exit code. */
void tool_usage_err(const char *usage, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/*
 * Errors in JSON, one wording per cause for every tool with --json: on
 * stdout, one line,
 *   {"status":"unknown","error":{"kind":KIND,"message":MESSAGE},
 *    "problems":[{"severity":"unknown","kind":KIND,"message":MESSAGE,"fix":null}]}
 * ("status" is "unknown" for code WA_EXIT_UNKNOWN, else "error"; the
 * problems array is there so that wa-check's readers need no other case).
 * The caller still prints its message on stderr and exits.
 */
#define TOOL_ERR_USAGE "usage"            /* bad options or arguments */
#define TOOL_ERR_NO_AUTHDIR "no_folder"   /* neither -d nor WA_AUTH_DIR */
#define TOOL_ERR_NOMEM "internal"         /* out of memory, or a bug */
#define TOOL_MSG_NO_AUTHDIR "no auth folder: pass -d DIR or set WA_AUTH_DIR"
void tool_json_error(int code, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The exit code for a library return code (WA_ESYS looks at errno). */
int tool_exit_for(int rc);

struct wa_dc;
struct wa_conn_opts;

/* The server override the tests and the demo use: WA_SERVER_URL and
 * WA_SERVER_ROOT_KEY (64 hex digits) into o->url / o->root_key, with
 * their names for the warning every connection logs.  A malformed root
 * key ends the tool (usage error).  Unset or empty: WhatsApp's. */
void tool_server_opts(struct wa_conn_opts *o);

/* The exit code for a disconnect (session/disconnect.h): the class, and
 * for a local failure its WA_E* code; restart and transient (when the
 * retry budget is spent) give WA_EXIT_RETRIES, a ban being waited out 0. */
int tool_exit_for_dc(const struct wa_dc *dc);

/* The backups folder: the option, else $WA_BACKUP_DIR when set and not
 * empty, else NULL (lib/ops/backup.h: beside the auth folder). */
const char *tool_backup_dir(const char *opt);

/* The auth folder: the -d argument, else $WA_AUTH_DIR, else NULL. */
const char *tool_authdir(const char *opt);

/* Parse "30", "30s", "5m", "2h", "1d" into seconds; -1 when malformed,
 * TOOL_TOOBIG when well-formed but over LONG_MAX seconds. */
#define TOOL_TOOBIG (-2)
long tool_duration(const char *s);

/* Parse a non-negative decimal integer; -1 when malformed. */
long tool_number(const char *s);

/* --on-event "CMD ARG...": words split at blanks, no shell; a
 * NULL-terminated array (tool_free_words).  An empty command is a usage
 * error named after opt (exits). */
char **tool_split_words(const char *s, const char *opt);
void tool_free_words(char **v);

/* A command's program must exist and be executable now, as execvp would
 * find it (a name without a slash is looked up in PATH); else the error,
 * naming opt, and usage (exits 64). */
void tool_check_command(const char *prog, const char *opt, const char *usage);

/* d as an absolute path (for events and WA_AUTH_DIR: read from another
 * directory), not resolved further; the caller frees. Exits on failure. */
char *tool_absolute_dir(const char *d);

#endif

/*
 * health.h - check an auth folder and say what is wrong with it.
 *
 * wa_health_check looks at a folder without changing anything and without
 * taking the lock (it never blocks a writer) and returns a list of
 * problems, each with a severity, the path it concerns and one line of
 * text, plus the counts of files by type, the account, the lock holder
 * and wa-run's status.  wa-check prints it; wa-run can call it at start.
 *
 * Severities are the monitoring-plugin states, numbered as their exit
 * codes.  The overall status is the worst problem, where CRITICAL is worse
 * than UNKNOWN and UNKNOWN worse than WARNING: a known break outranks a
 * part that could not be checked, and not being able to vouch for a part
 * outranks a warning.
 *
 * What is checked (wa-check(1) has the full list): the folder (exists, a
 * real folder, mode); creds.json (present, a regular file, valid JSON,
 * complete, paired); every other JSON file (valid JSON, byte offset of the
 * first error); symbolic links and odd file kinds; group/other permission
 * bits on key files; leftover temporary files and a stale lock; the file
 * count against thresholds; wa-run's status file; the inbox's backlog
 * (messages waiting in INBOX/new for their consumer) against thresholds;
 * failed decryptions in the status file's recent window (a storm).
 *
 * A file that fails to parse and was modified in the last two seconds is
 * read again after a pause of 100 ms, up to three times, so that a file
 * caught in the middle of an in-place write by Baileys is not reported.
 */
#ifndef WA_HEALTH_H
#define WA_HEALTH_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include <jansson.h>

#include "base/err.h"
#include "store/fname.h"
#include "store/lock.h"
#include "ops/status.h"

enum wa_sev {
	WA_SEV_OK = 0,
	WA_SEV_WARNING = 1,
	WA_SEV_CRITICAL = 2,
	WA_SEV_UNKNOWN = 3,
};

/* "ok", "warning", "critical", "unknown". */
const char *wa_sev_name(enum wa_sev s);

/* 1 when a is worse than b (CRITICAL > UNKNOWN > WARNING > OK). */
int wa_sev_worse(enum wa_sev a, enum wa_sev b);

/*
 * Every problem has a kind: a stable word that scripts branch on (the
 * list is in wa-check(1); a kind is never renamed, new ones may come),
 * e.g. "creds_corrupt", "creds_missing", "creds_mode", "not_paired",
 * "session_corrupt", "tmp_leftover".  fix, when not NULL, is one shell
 * command (paths quoted) that repairs it: it names a tool that can do it
 * (wa-prune, wa-restore, wa-backup, chmod, mv), and after it succeeds the
 * problem is gone.
 */
struct wa_problem {
	enum wa_sev sev;
	const char *kind; /* static */
	char *path;     /* "DIR/NAME" as given, or NULL */
	char *message;  /* one line, lowercase, no trailing full stop; without the path */
	char *fix;      /* a shell command, or NULL */
};

/*
 * wa-run's status file, DIR/.wa/status.json.  The reader is tolerant:
 * unknown fields are ignored and a field of the wrong type counts as
 * absent.  Times are Unix seconds (a number; a number above 1e11 is taken
 * as milliseconds) or an RFC 3339 string ("2026-11-21T10:15:00Z",
 * optional fraction, "Z" or "+hh:mm").
 *
 *	{"state": "connected", "since": "2026-11-21T10:15:00Z", "pid": 4242,
 *	 "last_inbound": 1795256113, "last_error": "...", "class": "..."}
 */
struct wa_runstatus {
	int present;            /* the file exists and holds a JSON object */
	char state[32];         /* "" when absent */
	time_t since;           /* last state change, 0 when absent */
	long pid;               /* 0 when absent */
	int alive;              /* pid runs: 1 yes, 0 no, -1 no pid */
	time_t last_inbound;    /* last data from the server, 0 when absent */
	char last_error[256];
	char klass[32];         /* the "class" field */
	int exit_code;          /* the "exit_code" field (wa-run is exiting with it), -1 absent */
	char inbox[4096];       /* the inbox wa-run stores messages in, "" when absent */
	time_t last_message;    /* when it last stored one, 0 when absent */
	long messages_received; /* since that wa-run started, -1 absent (an older wa-run) */
	long undecryptable;     /* of those, -1 absent */
	time_t updated;         /* when the file was written, 0 when absent */
	/* Self-healing (status.h): heal_present 0 for an older wa-run's
	 * file, then the rest is 0.  recent is the file's
	 * decrypt_failures_recent; wa_health_check zeroes it (recent_stale 1)
	 * when the file was written more than the window ago: a running
	 * wa-run would have written the window's decay since. */
	int heal_present;
	unsigned long failures[WA_STATUS_CLASSES];  /* since start, by class (status.h wa_status_class_name) */
	unsigned long recent[WA_STATUS_CLASSES];    /* in the window before updated */
	int recent_stale;
	unsigned long retries, repaired, quarantined;
	time_t last_sent;       /* the "last_sent" field (a message left), 0 when absent */
	time_t phone_seen;      /* our primary phone's last stanza, 0 when absent */
	time_t phone_pinged;    /* wa-run's last ping to it, 0 when absent */
};

/* Fill st from a parsed status object (anything else: st->present = 0),
 * read by status.c's one decoder in its lenient mode (wrong or missing
 * fields count as absent).  Does not look at the process table (alive =
 * -1).  Returns 0. */
int wa_runstatus_parse(struct wa_runstatus *st, const json_t *obj);

/* States after which no process is expected to run: wa-run's final
 * states (ops/status.h wa_state_final), by name. */
int wa_runstatus_final(const char *state);

struct wa_health_opts {
	long warn_files;        /* > this many files: WARNING; -1 no threshold */
	long crit_files;        /* > this many files: CRITICAL; -1 no threshold */
	long max_silence;       /* seconds; -1 not checked */
	time_t now;             /* 0: time(NULL) */
	long long min_free;     /* bytes available to the owner below this: WARNING; -1 not checked */
	long long min_inodes;   /* inodes available below this: WARNING; -1 not checked */
	long max_backup_age;    /* seconds; -1 not checked */
	const char *backup_dir; /* the backups folder (wa_backup_dir), needed with max_backup_age */
	/* The inbox spool (spool.h): this folder when not NULL, else the
	 * status file's "inbox", else DIR.inbox when it exists.  Its backlog
	 * (files in INBOX/new) is counted whenever it exists; a missing inbox
	 * is not a problem. */
	const char *inbox;
	long max_backlog;       /* more files than this waiting: WARNING; -1 not checked */
	long max_backlog_age;   /* seconds; the oldest waiting longer: WARNING, twice: CRITICAL; -1 not checked */
	/* more failed decryptions of one class than this in the status
	 * file's recent window: WARNING, kind decrypt_storm; -1 not checked */
	long max_decrypt_failures;
	/* our primary phone silent (the status file's phone_seen) longer
	 * than this: WARNING / CRITICAL, kind phone_offline (WhatsApp logs
	 * a companion out after about 14 days); seconds, -1 not checked */
	long phone_warn, phone_crit;
};
#define WA_HEALTH_OPTS_INIT { -1, -1, -1, 0, -1, -1, -1, NULL, NULL, -1, -1, -1, -1, -1 }

struct wa_health {
	enum wa_sev status;
	struct wa_problem *problems;  /* sorted: worst first, then by path */
	size_t nproblems;

	int scanned;                  /* the folder could be listed: counts are valid */
	size_t files;                 /* regular files directly in the folder */
	size_t count[WA_FT_COUNT];    /* of those, by type */
	size_t tmpfiles;              /* leftover temporary files (folder and .wa/tmp) */

	int creds_ok;                 /* creds.json parsed and complete */
	int paired;
	char me[128], lid[128], account[64], platform[32];

	int lock_present;             /* .wa/lock exists */
	struct wa_lock_holder lock;   /* pid 0 when nobody holds or held it */

	struct wa_runstatus run;
	long long free_bytes;         /* available to the owner, -1 unknown */
	long long free_inodes;        /* -1 unknown or not limited */
	time_t backup_time;           /* newest valid backup, 0 none or not checked */
	long silence;                 /* seconds since last inbound (or state change); -1 unknown */
	char *inbox;                  /* the inbox looked at (opts, status or default), NULL none */
	long backlog;                 /* files waiting in INBOX/new, -1 not counted (no inbox) */
	long backlog_age;             /* seconds the oldest of them has waited, -1 none or not counted */
	long reconnects_24h;          /* reconnect events in the history over the last 24 hours, -1 unknown */
	long phone_silence;           /* seconds since the phone's last stanza, -1 unknown */
};

/* Check the folder at path.  Returns 0 with *out set (everything found,
 * including a missing folder, is a problem in the list), or WA_ENOMEM.
 * Free with wa_health_free. */
int wa_health_check(struct wa_health **out, const char *path, const struct wa_health_opts *opts);
void wa_health_free(struct wa_health *h);

/* The problem that decides the status (the first of the worst), or NULL. */
const struct wa_problem *wa_health_worst(const struct wa_health *h);

/*
 * Whether buf is one valid JSON text, the grammar JavaScript's JSON.parse
 * accepts (which is what Baileys reads files with), plus valid UTF-8.
 * No allocation and no recursion, so it is fast enough to check every
 * file of a 10,000-file folder and safe on hostile input (nesting is
 * capped at WA_JSON_MAX_DEPTH).  Returns 0, or WA_ECORRUPT with *pos the
 * byte offset of the error and *reason a static text ("unexpected end of
 * input" for a truncated file).  pos and reason may be NULL.
 */
#define WA_JSON_MAX_DEPTH 2048
int wa_json_check(const char *buf, size_t len, size_t *pos, const char **reason);

#endif

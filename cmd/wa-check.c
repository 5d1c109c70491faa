/*
 * wa-check - health check of an auth folder, for cron and monitoring.
 *
 * Monitoring-plugin convention: one summary line on stdout, perfdata
 * after '|', exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for bad
 * usage and when the check cannot run).  The checks are lib/health.c.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/bufjson.h"
#include "ops/backup.h"
#include "ops/health.h"
#include "store/names.h"
#include "tool.h"

#define USAGE "wa-check [-hv] [--version] [-B dir] [-d dir] [--json | --problems] [--warn-files n] [--crit-files n] " \
	"[--max-silence duration] [--min-free size] [--min-free-inodes n] [--max-backup-age duration] " \
	"[--inbox dir] [--max-backlog n] [--max-backlog-age duration] [--max-decrypt-failures n] " \
	"[--phone-warn duration] [--phone-crit duration] [dir ...]"

#define MIN_FREE_DEFAULT (64LL << 20)   /* 64M: thousands of session writes */
#define MIN_INODES_DEFAULT 1000
/* WhatsApp logs a companion out after about 14 days without its phone;
 * mautrix-whatsapp warns at 12 */
#define PHONE_WARN_DEFAULT (12L * 86400)
#define PHONE_CRIT_DEFAULT (13L * 86400)

enum { OPT_JSON = 256, OPT_WARN, OPT_CRIT, OPT_SILENCE, OPT_PROBLEMS, OPT_MIN_FREE, OPT_MIN_INODES,
	OPT_BACKUP_AGE, OPT_VERSION, OPT_INBOX, OPT_BACKLOG, OPT_BACKLOG_AGE, OPT_DECRYPT, OPT_PHONE_WARN,
	OPT_PHONE_CRIT };

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "warn-files", required_argument, NULL, OPT_WARN },
	{ "crit-files", required_argument, NULL, OPT_CRIT },
	{ "max-silence", required_argument, NULL, OPT_SILENCE },
	{ "problems", no_argument, NULL, OPT_PROBLEMS },
	{ "min-free", required_argument, NULL, OPT_MIN_FREE },
	{ "min-free-inodes", required_argument, NULL, OPT_MIN_INODES },
	{ "max-backup-age", required_argument, NULL, OPT_BACKUP_AGE },
	{ "backup-dir", required_argument, NULL, 'B' },
	{ "inbox", required_argument, NULL, OPT_INBOX },
	{ "max-backlog", required_argument, NULL, OPT_BACKLOG },
	{ "max-backlog-age", required_argument, NULL, OPT_BACKLOG_AGE },
	{ "max-decrypt-failures", required_argument, NULL, OPT_DECRYPT },
	{ "phone-warn", required_argument, NULL, OPT_PHONE_WARN },
	{ "phone-crit", required_argument, NULL, OPT_PHONE_CRIT },
	{ NULL, 0, NULL, 0 },
};

static const char *status_word[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

static int json_mode;

/* Bad usage: the plugin line (or JSON) on stdout, usage on stderr, UNKNOWN. */
#define usage_error(...) do { \
	if (json_mode) \
		tool_json_error(WA_EXIT_UNKNOWN, TOOL_ERR_USAGE, __VA_ARGS__); \
	else \
		printf("WA UNKNOWN - bad usage (see wa-check -h)\n"); \
	fflush(stdout); \
	tool_usage_err(USAGE, WA_EXIT_UNKNOWN, __VA_ARGS__); \
} while (0)

/* The length of the valid UTF-8 sequence at s (a byte >= 0x80), or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, lo = s[0] == 0xe0 ? 0xa0 : 0x80, hi = s[0] == 0xed ? 0x9f : 0xbf;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, lo = s[0] == 0xf0 ? 0x90 : 0x80, hi = s[0] == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (s[i] < lo || s[i] > hi)
			return 0;
	return n;
}

/*
 * Text for a terminal or a log: names from disk are escaped C-style, so
 * no byte can move the cursor, start an escape sequence or a new line:
 * \n \t \r \\, other control bytes, DEL, C1 controls and bytes that are
 * not valid UTF-8 as \ooo (octal).  Nagios reads '|' as the start of
 * perfdata: it becomes '/'.
 */
static void
put_text(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	while (*s) {
		if (*s == '|') {
			fputc('/', f);
		} else if (*s == '\\') {
			fputs("\\\\", f);
		} else if (*s == '\n' || *s == '\t' || *s == '\r') {
			fputc('\\', f);
			fputc(*s == '\n' ? 'n' : *s == '\t' ? 't' : 'r', f);
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\%03o", *s);
		} else if (*s >= 0x80) {
			n = utf8_len(s);
			if (n == 0 || (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)) {
				/* not UTF-8, or a C1 control (U+0080..U+009F) */
				n = n ? n : 1;
				while (n--)
					fprintf(f, "\\%03o", *s++);
				continue;
			}
			fwrite(s, 1, n, f);
			s += n;
			continue;
		} else {
			fputc(*s, f);
		}
		s++;
	}
}

/* For JSON: valid UTF-8 as it is; otherwise each byte that is not part of
 * valid UTF-8 as \xNN (and '\' as "\\"), *exact set to 0.  Caller frees. */
static char *
json_safe(const char *str, int *exact)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str), n, k = 0;
	char *out;
	int bad = 0;

	for (n = 0; n < len; n += s[n] < 0x80 ? 1 : (utf8_len(s + n) ? utf8_len(s + n) : 1))
		if (s[n] >= 0x80 && !utf8_len(s + n))
			bad = 1;
	*exact = !bad;
	if (!(out = malloc(bad ? 4 * len + 1 : len + 1)))
		tool_die(WA_EXIT_UNKNOWN, "out of memory");
	if (!bad) {
		memcpy(out, str, len + 1);
		return out;
	}
	for (n = 0; n < len;) {
		size_t u = s[n] >= 0x80 ? utf8_len(s + n) : 1;
		if (u == 0) {
			k += (size_t)sprintf(out + k, "\\x%02x", s[n]);
			n++;
		} else if (s[n] == '\\') {
			out[k++] = '\\';
			out[k++] = '\\';
			n++;
		} else {
			memcpy(out + k, s + n, u);
			k += u;
			n += u;
		}
	}
	out[k] = 0;
	return out;
}

/* Set key to a JSON string of s made safe (json_safe). */
static void
set_safe(json_t *o, const char *key, const char *s, const char *b64key)
{
	int exact;
	char *t = json_safe(s, &exact);

	json_object_set_new(o, key, json_string(t));
	free(t);
	if (!exact && b64key) {
		char *b = wa_base64_encode((const uint8_t *)s, strlen(s));
		if (!b)
			tool_die(WA_EXIT_UNKNOWN, "out of memory");
		json_object_set_new(o, b64key, json_string(b));
		free(b);
	}
}

static void
put_problem(FILE *f, const struct wa_problem *p)
{
	if (p->path) {
		fputc('\'', f);
		put_text(f, p->path);
		fputs("': ", f);
	}
	put_text(f, p->message);
}

/* The failed decryptions of the recent window, summed. */
static unsigned long
recent_total(const struct wa_health *h)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < WA_STATUS_CLASSES; i++)
		n += h->run.recent[i];
	return n;
}

/* {"bad_mac": 3, ...}: the classes with a count */
static json_t *
classes_json(const unsigned long *c)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < WA_STATUS_CLASSES; i++)
		if (c[i] && wa_status_class_name(i))
			json_object_set_new(o, wa_status_class_name(i), json_integer((json_int_t)c[i]));
	return o;
}

static void
perfdata(const struct wa_health *h, const struct wa_health_opts *o)
{
	int t;

	if (!h->scanned)
		return;
	printf(" | files=%zu;", h->files);
	if (o->warn_files >= 0)
		printf("%ld", o->warn_files);
	putchar(';');
	if (o->crit_files >= 0)
		printf("%ld", o->crit_files);
	for (t = 0; t < WA_FT_COUNT; t++) {
		const char *n = wa_ftype_name((enum wa_ftype)t);
		putchar(' ');
		for (; *n; n++)
			putchar(*n == '-' ? '_' : *n);
		printf("=%zu", h->count[t]);
	}
	printf(" tmp=%zu problems=%zu", h->tmpfiles, h->nproblems);
	if (h->silence >= 0) {
		printf(" silence=%lds;;", h->silence);
		if (o->max_silence >= 0)
			printf("%ld", o->max_silence);
	}
	if (h->backlog >= 0) {
		printf(" backlog=%ld;", h->backlog);
		if (o->max_backlog >= 0)
			printf("%ld", o->max_backlog);
		printf(" backlog_age=%lds;", h->backlog_age > 0 ? h->backlog_age : 0);
		if (o->max_backlog_age >= 0)
			printf("%ld;%ld", o->max_backlog_age, o->max_backlog_age > LONG_MAX / 2 ? LONG_MAX :
			    2 * o->max_backlog_age);
	}
	if (h->run.present && h->run.heal_present)
		printf(" decrypt_failures_recent=%lu retries=%luc repaired=%luc", recent_total(h), h->run.retries,
		    h->run.repaired);
}

static void
isotime(char *buf, size_t n, time_t t)
{
	struct tm tm;

	if (!t || !gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "?");
}

static void
print_text(const struct wa_health *h, const struct wa_health_opts *o, int verbose)
{
	const struct wa_problem *w = wa_health_worst(h);
	size_t i;

	printf("WA %s - ", status_word[h->status]);
	if (h->status == WA_SEV_OK || !w) {
		printf("paired as ");
		put_text(stdout, h->me[0] ? h->me : "?");
		printf(", %zu files", h->files);
		if (h->run.present && h->run.state[0]) {
			char when[32];
			isotime(when, sizeof when, h->run.since);
			printf(", wa-run ");
			put_text(stdout, h->run.state);
			printf(" since %s", when);
		}
		if (h->backlog >= 0) {
			printf(", %ld waiting in the inbox", h->backlog);
			if (h->backlog_age >= 0)
				printf(" (the oldest for %lds)", h->backlog_age);
		}
		if (h->run.last_message) {
			char when[32];
			isotime(when, sizeof when, h->run.last_message);
			printf(", last message %s", when);
		}
		if (recent_total(h)) {
			const char *sep = " (";
			printf(", %lu failed decryption%s in the last %d minutes", recent_total(h),
			    recent_total(h) == 1 ? "" : "s", WA_STATUS_WINDOW_MIN);
			for (i = 0; i < WA_STATUS_CLASSES; i++)
				if (h->run.recent[i] && wa_status_class_name(i)) {
					printf("%s%s %lu", sep, wa_status_class_name(i), h->run.recent[i]);
					sep = ", ";
				}
			printf(")");
		}
	} else {
		put_problem(stdout, w);
		if (h->nproblems > 1)
			printf(" (and %zu other problem%s)", h->nproblems - 1, h->nproblems > 2 ? "s" : "");
	}
	perfdata(h, o);
	putchar('\n');
	if (!verbose)
		return;
	for (i = 0; i < h->nproblems; i++) {
		const char *s = wa_sev_name(h->problems[i].sev);
		for (; *s; s++)
			putchar(*s - ('a' - 'A'));
		printf(": ");
		put_problem(stdout, &h->problems[i]);
		putchar('\n');
	}
}

static json_t *
str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *
time_or_null(time_t t)
{
	char buf[32];

	if (!t)
		return json_null();
	isotime(buf, sizeof buf, t);
	return json_string(buf);
}

static json_t *
health_json(const char *dir, const struct wa_health *h)
{
	json_t *o = json_object(), *probs = json_array(), *counts = json_object(), *lock, *run;
	size_t i;
	int t;

	json_object_set_new(o, "status", json_string(wa_sev_name(h->status)));
	set_safe(o, "folder", dir, "folder_b64");
	json_object_set_new(o, "account", str_or_null(h->account));
	json_object_set_new(o, "me", str_or_null(h->me));
	json_object_set_new(o, "lid", str_or_null(h->lid));
	json_object_set_new(o, "platform", str_or_null(h->platform));
	json_object_set_new(o, "paired", json_boolean(h->paired));
	json_object_set_new(o, "files", h->scanned ? json_integer((json_int_t)h->files) : json_null());
	if (h->scanned)
		for (t = 0; t < WA_FT_COUNT; t++)
			json_object_set_new(counts, wa_ftype_name((enum wa_ftype)t),
			    json_integer((json_int_t)h->count[t]));
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "tmp_files", json_integer((json_int_t)h->tmpfiles));

	if (h->lock_present) {
		lock = json_object();
		/* the kernel's word, or a live recorded holder (a lock table that
		 * names another device, as on some overlay file systems, is no
		 * reason to call a running writer's lock free) */
		int held = h->lock.held == 1 || (h->lock.pid > 0 && h->lock.alive);
		json_object_set_new(lock, "held", json_boolean(held));
		json_object_set_new(lock, "stale", json_boolean(!held && h->lock.pid > 0 && !h->lock.alive));
		json_object_set_new(lock, "foreign", json_boolean(h->lock.foreign));
		json_object_set_new(lock, "pid", h->lock.pid > 0 ? json_integer(h->lock.pid) : json_null());
		json_object_set_new(lock, "prog", str_or_null(h->lock.pid > 0 ? h->lock.prog : NULL));
		json_object_set_new(lock, "since", time_or_null(h->lock.pid > 0 ? h->lock.since : 0));
	} else {
		lock = json_null();
	}
	json_object_set_new(o, "lock", lock);

	if (h->run.present) {
		run = json_object();
		json_object_set_new(run, "state", str_or_null(h->run.state));
		json_object_set_new(run, "since", time_or_null(h->run.since));
		json_object_set_new(run, "pid", h->run.pid > 0 ? json_integer(h->run.pid) : json_null());
		json_object_set_new(run, "alive", h->run.alive < 0 ? json_null() : json_boolean(h->run.alive));
		json_object_set_new(run, "last_inbound", time_or_null(h->run.last_inbound));
		json_object_set_new(run, "last_error", str_or_null(h->run.last_error));
		json_object_set_new(run, "class", str_or_null(h->run.klass));
		json_object_set_new(run, "silence", h->silence >= 0 ? json_integer(h->silence) : json_null());
		json_object_set_new(run, "messages_received", h->run.messages_received >= 0 ?
		    json_integer(h->run.messages_received) : json_null());
		json_object_set_new(run, "undecryptable", h->run.undecryptable >= 0 ?
		    json_integer(h->run.undecryptable) : json_null());
		/* self-healing: null for an older wa-run's file */
		json_object_set_new(run, "decrypt_failures", h->run.heal_present ? classes_json(h->run.failures) :
		    json_null());
		json_object_set_new(run, "decrypt_failures_recent", h->run.heal_present ?
		    classes_json(h->run.recent) : json_null());
		json_object_set_new(run, "decrypt_failures_recent_stale", json_boolean(h->run.recent_stale));
		json_object_set_new(run, "retries", h->run.heal_present ? json_integer((json_int_t)h->run.retries) :
		    json_null());
		json_object_set_new(run, "repaired", h->run.heal_present ? json_integer((json_int_t)h->run.repaired) :
		    json_null());
		json_object_set_new(run, "quarantined", h->run.heal_present ?
		    json_integer((json_int_t)h->run.quarantined) : json_null());
		json_object_set_new(run, "last_sent", time_or_null(h->run.last_sent));
		json_object_set_new(run, "phone_seen", time_or_null(h->run.phone_seen));
		json_object_set_new(run, "phone_pinged", time_or_null(h->run.phone_pinged));
		json_object_set_new(run, "reconnects_24h", h->reconnects_24h >= 0 ?
		    json_integer(h->reconnects_24h) : json_null());
	} else {
		run = json_null();
	}
	json_object_set_new(o, "run", run);
	json_object_set_new(o, "free_bytes", h->free_bytes >= 0 ? json_integer(h->free_bytes) : json_null());
	json_object_set_new(o, "free_inodes", h->free_inodes >= 0 ? json_integer(h->free_inodes) : json_null());
	if (h->inbox)
		set_safe(o, "inbox", h->inbox, "inbox_b64");
	else
		json_object_set_new(o, "inbox", json_null());
	json_object_set_new(o, "backlog", h->backlog >= 0 ? json_integer(h->backlog) : json_null());
	json_object_set_new(o, "backlog_oldest_age_s", h->backlog_age >= 0 ? json_integer(h->backlog_age) :
	    json_null());
	json_object_set_new(o, "last_message", time_or_null(h->run.last_message));
	json_object_set_new(o, "backup", time_or_null(h->backup_time));

	for (i = 0; i < h->nproblems; i++) {
		const struct wa_problem *pr = &h->problems[i];
		json_t *p = json_object();
		json_object_set_new(p, "severity", json_string(wa_sev_name(pr->sev)));
		json_object_set_new(p, "kind", json_string(pr->kind));
		if (pr->path)
			set_safe(p, "path", pr->path, "path_b64");
		set_safe(p, "message", pr->message, NULL);
		json_object_set_new(p, "fix", pr->fix ? json_string(pr->fix) : json_null());
		if (pr->fix && !json_object_get(p, "fix")) {
			/* a fix holding a name that is not UTF-8: give it as base64 */
			char *b = wa_base64_encode((const uint8_t *)pr->fix, strlen(pr->fix));
			json_object_set_new(p, "fix", json_null());
			json_object_set_new(p, "fix_b64", b ? json_string(b) : json_null());
			free(b);
		}
		json_array_append_new(probs, p);
	}
	json_object_set_new(o, "problems", probs);
	return o;
}

static void
print_json(const char *dir, const struct wa_health *h)
{
	json_t *o = health_json(dir, h);

	json_dumpf(o, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
	putchar('\n');
	json_decref(o);
}

/* --problems: each kind once, worst first (the order of the list). */
static void
print_kinds(const struct wa_health *h)
{
	size_t i, j;

	for (i = 0; i < h->nproblems; i++) {
		for (j = 0; j < i && strcmp(h->problems[j].kind, h->problems[i].kind) != 0; j++)
			;
		if (j == i)
			printf("%s\n", h->problems[i].kind);
	}
}

/* The check could not run at all: say so in the requested format. */
static void __attribute__((noreturn))
unknown(int json, const char *kind, const char *msg)
{
	if (json)
		tool_json_error(WA_EXIT_UNKNOWN, kind, "%s", msg);
	else
		printf("WA UNKNOWN - %s\n", msg);
	fflush(stdout);
	tool_die(WA_EXIT_UNKNOWN, "%s", msg);
}

/* 100, 10k, 64M, 2G (powers of 1024); -1 when malformed. */
static long long
parse_size(const char *s)
{
	char *end;
	long long v;
	int shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return -1;
	}
	if (*end && end[1])
		return -1;
	if (v > (LLONG_MAX >> shift))
		return -1;
	return v << shift;
}

/* ---- several folders: one line per account -------------------------------- */

/* "-" for none */
static const char *
when_or_dash(char *buf, size_t n, time_t t)
{
	if (!t)
		return "-";
	isotime(buf, n, t);
	return buf;
}

/* FOLDER: account, state since, last in, last out, reconnects, backlog; problems */
static void
print_account(const char *dir, const struct wa_health *h, int verbose)
{
	char w1[32];
	size_t i, j;

	printf("%s ", status_word[h->status]);
	put_text(stdout, dir);
	printf(": ");
	put_text(stdout, h->me[0] ? h->me : "?");
	if (h->run.present) {
		printf(", ");
		put_text(stdout, h->run.state[0] ? h->run.state : "?");
		printf(" since %s", when_or_dash(w1, sizeof w1, h->run.since));
	} else {
		printf(", no wa-run status");
	}
	printf(", last in %s", when_or_dash(w1, sizeof w1, h->run.last_message));
	printf(", last out %s", when_or_dash(w1, sizeof w1, h->run.last_sent));
	if (h->reconnects_24h >= 0)
		printf(", %ld reconnect%s today", h->reconnects_24h, h->reconnects_24h == 1 ? "" : "s");
	else
		printf(", reconnects today -");
	if (h->backlog >= 0)
		printf(", backlog %ld", h->backlog);
	else
		printf(", backlog -");
	for (i = 0; i < h->nproblems; i++) {
		for (j = 0; j < i && strcmp(h->problems[j].kind, h->problems[i].kind) != 0; j++)
			;
		if (j == i)
			printf("%s%s", i ? ", " : "; problems: ", h->problems[i].kind);
	}
	putchar('\n');
	if (!verbose)
		return;
	for (i = 0; i < h->nproblems; i++) {
		const char *s = wa_sev_name(h->problems[i].sev);
		printf("  ");
		for (; *s; s++)
			putchar(*s - ('a' - 'A'));
		printf(": ");
		put_problem(stdout, &h->problems[i]);
		putchar('\n');
	}
}

/* The summary line (the plugin's status), then one line per account. */
static void
print_accounts(char **dirs, struct wa_health **hs, size_t n, enum wa_sev worst, int verbose)
{
	static const enum wa_sev order[] = { WA_SEV_CRITICAL, WA_SEV_UNKNOWN, WA_SEV_WARNING, WA_SEV_OK };
	size_t count[4] = { 0 }, i;
	const char *sep = ": ";

	for (i = 0; i < n; i++)
		count[hs[i]->status]++;
	printf("WA %s - %zu account%s", status_word[worst], n, n == 1 ? "" : "s");
	for (i = 0; i < 4; i++)
		if (count[order[i]]) {
			printf("%s%zu %s", sep, count[order[i]], wa_sev_name(order[i]));
			sep = ", ";
		}
	printf(" | accounts=%zu ok=%zu warning=%zu critical=%zu unknown=%zu\n", n, count[WA_SEV_OK],
	    count[WA_SEV_WARNING], count[WA_SEV_CRITICAL], count[WA_SEV_UNKNOWN]);
	for (i = 0; i < n; i++)
		print_account(dirs[i], hs[i], verbose);
}

/* The folder as the messages show it, without trailing slashes (a copy). */
static char *
normalized(const char *dir)
{
	size_t n = strlen(dir);
	char *d = strdup(dir);

	if (!d)
		tool_die(WA_EXIT_UNKNOWN, "out of memory");
	for (; n > 1 && d[n - 1] == '/'; n--)
		d[n - 1] = 0;
	return d;
}

/* A glob such as /var/lib/wa/ * also matches each account's own siblings
 * (DIR.inbox, DIR.outbox, DIR.backups): those are not accounts. */
static int
is_sibling(char **dirs, size_t n, const char *d)
{
	static const char *const suffix[] = { WA_INBOX_SUFFIX, ".outbox", WA_BACKUP_SUFFIX };
	size_t i, k, len = strlen(d), sl;

	for (k = 0; k < sizeof suffix / sizeof suffix[0]; k++) {
		sl = strlen(suffix[k]);
		if (len <= sl || strcmp(d + len - sl, suffix[k]) != 0)
			continue;
		for (i = 0; i < n; i++)
			if (strlen(dirs[i]) == len - sl && strncmp(dirs[i], d, len - sl) == 0)
				return 1;
	}
	return 0;
}

/* Check one folder: the backups folder it needs, then the checks. */
static struct wa_health *
check_one(const char *dir, struct wa_health_opts *o, const char *bopt, int json)
{
	struct wa_health *h;
	char *bdir = NULL;
	int rc;

	o->backup_dir = NULL;
	if (o->max_backup_age >= 0) {
		if ((rc = wa_backup_dir(&bdir, dir, tool_backup_dir(bopt))) < 0)
			unknown(json, TOOL_ERR_NOMEM, rc == WA_ENOMEM ? "out of memory" :
			    "cannot tell where the backups are: pass -B DIR");
		o->backup_dir = bdir;
	}
	if ((rc = wa_health_check(&h, dir, o)) < 0)
		unknown(json, TOOL_ERR_NOMEM, "out of memory");
	o->backup_dir = NULL;
	free(bdir);
	return h;
}

/* Several folders (operands, or -d more than once): one line each, the
 * worst status as the exit status; --json an array. */
static int
check_many(char **dirs, size_t n, struct wa_health_opts *o, const char *bopt, int json, int kinds, int verbose)
{
	struct wa_health **hs = calloc(n ? n : 1, sizeof *hs);
	enum wa_sev worst = WA_SEV_OK;
	size_t i, k, j;

	if (!hs)
		unknown(json, TOOL_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		hs[i] = check_one(dirs[i], o, bopt, json);
		if (wa_sev_worse(hs[i]->status, worst))
			worst = hs[i]->status;
	}
	if (json) {
		json_t *a = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(a, health_json(dirs[i], hs[i]));
		json_dumpf(a, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
		putchar('\n');
		json_decref(a);
	} else if (kinds) {
		for (i = 0; i < n; i++)
			for (k = 0; k < hs[i]->nproblems; k++) {
				for (j = 0; j < k && strcmp(hs[i]->problems[j].kind, hs[i]->problems[k].kind) != 0; j++)
					;
				if (j < k)
					continue;
				printf("%s ", hs[i]->problems[k].kind);
				put_text(stdout, dirs[i]);
				putchar('\n');
			}
	} else {
		print_accounts(dirs, hs, n, worst, verbose);
	}
	for (i = 0; i < n; i++)
		wa_health_free(hs[i]);
	free(hs);
	return (int)worst;
}

int
main(int argc, char **argv)
{
	struct wa_health_opts o = WA_HEALTH_OPTS_INIT;
	struct wa_health *h;
	const char *dir;
	const char *bopt = NULL;
	char **dopts, **dirs;
	size_t ndopt = 0, ndirs = 0;
	int c, i, verbose = 0, json = 0, kinds = 0, rc;

	tool_init("wa-check");
	/* a usage error is reported in JSON when --json is anywhere before "--" */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			json_mode = 1;
	if (!(dopts = calloc((size_t)argc + 1, sizeof *dopts)) || !(dirs = calloc((size_t)argc + 1, sizeof *dirs)))
		tool_die(WA_EXIT_UNKNOWN, "out of memory");
	o.min_free = MIN_FREE_DEFAULT;
	o.min_inodes = MIN_INODES_DEFAULT;
	o.phone_warn = PHONE_WARN_DEFAULT;
	o.phone_crit = PHONE_CRIT_DEFAULT;
	opterr = 0;   /* the messages below, in JSON too */
	while ((c = getopt_long(argc, argv, ":hvB:d:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			tool_usage(USAGE, stdout, WA_EXIT_OK);
		case OPT_VERSION:
			tool_version(WA_EXIT_UNKNOWN);
		case 'v':
			verbose = 1;
			break;
		case 'd':
			dopts[ndopt++] = optarg;
			break;
		case 'B':
			bopt = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_PROBLEMS:
			kinds = 1;
			break;
		case OPT_MIN_FREE:
			if ((o.min_free = parse_size(optarg)) < 0)
				usage_error("--min-free: '%s' is not a size (4096, 64M, 2G)", optarg);
			break;
		case OPT_MIN_INODES:
			if ((o.min_inodes = tool_number(optarg)) < 0)
				usage_error("--min-free-inodes: '%s' is not a number", optarg);
			break;
		case OPT_BACKUP_AGE:
			if ((o.max_backup_age = tool_duration(optarg)) < 0)
				usage_error("--max-backup-age: '%s' is not a duration (30s, 5m, 6h, 1d)", optarg);
			break;
		case OPT_INBOX:
			if (!*optarg)
				usage_error("--inbox: empty folder name");
			o.inbox = optarg;
			break;
		case OPT_BACKLOG:
			if ((o.max_backlog = tool_number(optarg)) < 0)
				usage_error("--max-backlog: '%s' is not a number", optarg);
			break;
		case OPT_BACKLOG_AGE:
			if ((o.max_backlog_age = tool_duration(optarg)) == TOOL_TOOBIG)
				usage_error("--max-backlog-age: '%s' is too large", optarg);
			if (o.max_backlog_age < 0)
				usage_error("--max-backlog-age: '%s' is not a duration (30s, 5m, 2h, 1d)", optarg);
			break;
		case OPT_DECRYPT:
			if ((o.max_decrypt_failures = tool_number(optarg)) < 0)
				usage_error("--max-decrypt-failures: '%s' is not a number", optarg);
			break;
		case OPT_WARN:
			if ((o.warn_files = tool_number(optarg)) < 0)
				usage_error("--warn-files: '%s' is not a number", optarg);
			break;
		case OPT_CRIT:
			if ((o.crit_files = tool_number(optarg)) < 0)
				usage_error("--crit-files: '%s' is not a number", optarg);
			break;
		case OPT_SILENCE:
			if ((o.max_silence = tool_duration(optarg)) == TOOL_TOOBIG)
				usage_error("--max-silence: '%s' is too large", optarg);
			if (o.max_silence < 0)
				usage_error("--max-silence: '%s' is not a duration (30s, 5m, 2h, 1d)", optarg);
			break;
		case OPT_PHONE_WARN:
			if ((o.phone_warn = tool_duration(optarg)) < 0)
				usage_error("--phone-warn: '%s' is not a duration (12d, 300h)", optarg);
			break;
		case OPT_PHONE_CRIT:
			if ((o.phone_crit = tool_duration(optarg)) < 0)
				usage_error("--phone-crit: '%s' is not a duration (13d, 312h)", optarg);
			break;
		case ':':
			usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc && ndopt)
		usage_error("unexpected argument '%s' (give the folders with -d or as operands, not both)", argv[optind]);
	if (json && kinds)
		usage_error("--json and --problems: give one");
	if (optind != argc || ndopt > 1) {
		/* several folders: operands (a shell glob) or -d repeated */
		char **given = ndopt ? dopts : argv + optind;
		size_t ngiven = ndopt ? ndopt : (size_t)(argc - optind), k;
		for (k = 0; k < ngiven; k++) {
			if (!*given[k])
				usage_error("an empty folder name");
			dirs[ndirs++] = normalized(given[k]);
		}
		for (k = 0, i = 0; k < ndirs; k++)
			if (!is_sibling(dirs, ndirs, dirs[k]))
				dirs[i++] = dirs[k];
			else
				free(dirs[k]);
		ndirs = (size_t)i;
		rc = check_many(dirs, ndirs, &o, bopt, json, kinds, verbose);
		for (k = 0; k < ndirs; k++)
			free(dirs[k]);
		free(dirs);
		free(dopts);
		if (fflush(stdout) != 0 || ferror(stdout))
			return WA_EXIT_UNKNOWN;
		return rc;
	}
	if (!(dir = tool_authdir(ndopt ? dopts[0] : NULL)))
		unknown(json, TOOL_ERR_NO_AUTHDIR, TOOL_MSG_NO_AUTHDIR);
	dirs[0] = normalized(dir);
	h = check_one(dirs[0], &o, bopt, json);
	if (json)
		print_json(dirs[0], h);
	else if (kinds)
		print_kinds(h);
	else
		print_text(h, &o, verbose);
	rc = (int)h->status;
	wa_health_free(h);
	free(dirs[0]);
	free(dirs);
	free(dopts);
	if (fflush(stdout) != 0 || ferror(stdout))
		return WA_EXIT_UNKNOWN;
	return rc;
}

/*
 * wa-check - health check of an auth folder, for cron and monitoring.
 *
 * Monitoring-plugin convention: one summary line on stdout, perfdata
 * after '|', exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for bad
 * usage and when the check cannot run).  The checks are lib/health.c.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ops/health.h"
#include "tool.h"

#define USAGE "wa-check [-hv] [--version] [-d dir] [--json] [--warn-files n] [--crit-files n] [--max-silence duration]"

enum { OPT_JSON = 256, OPT_WARN, OPT_CRIT, OPT_SILENCE, OPT_VERSION };

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "warn-files", required_argument, NULL, OPT_WARN },
	{ "crit-files", required_argument, NULL, OPT_CRIT },
	{ "max-silence", required_argument, NULL, OPT_SILENCE },
	{ NULL, 0, NULL, 0 },
};

static const char *status_word[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

/* Bad usage: the plugin line on stdout, usage on stderr, UNKNOWN. */
#define usage_error(...) do { \
	printf("WA UNKNOWN - bad usage (see wa-check -h)\n"); \
	fflush(stdout); \
	tool_usage_err(USAGE, WA_EXIT_UNKNOWN, __VA_ARGS__); \
} while (0)

/* Nagios reads '|' as the start of perfdata: keep it out of the text. */
static void
put_text(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == '|' ? '/' : *s, f);
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

static void
print_json(const char *dir, const struct wa_health *h)
{
	json_t *o = json_object(), *probs = json_array(), *counts = json_object(), *lock, *run;
	size_t i;
	int t;

	json_object_set_new(o, "status", json_string(wa_sev_name(h->status)));
	json_object_set_new(o, "folder", str_or_null(dir));
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
		json_object_set_new(lock, "held", json_boolean(h->lock.pid > 0 && h->lock.alive));
		json_object_set_new(lock, "stale", json_boolean(h->lock.pid > 0 && !h->lock.alive));
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
	} else {
		run = json_null();
	}
	json_object_set_new(o, "run", run);

	for (i = 0; i < h->nproblems; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "severity", json_string(wa_sev_name(h->problems[i].sev)));
		if (h->problems[i].path)
			json_object_set_new(p, "path", json_string(h->problems[i].path));
		json_object_set_new(p, "message", json_string(h->problems[i].message));
		json_array_append_new(probs, p);
	}
	json_object_set_new(o, "problems", probs);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
	putchar('\n');
	json_decref(o);
}

/* The check could not run at all: say so in the requested format. */
static void __attribute__((noreturn))
unknown(int json, const char *msg)
{
	if (json)
		printf("{\"status\":\"unknown\",\"problems\":[{\"severity\":\"unknown\",\"message\":\"%s\"}]}\n", msg);
	else
		printf("WA UNKNOWN - %s\n", msg);
	fflush(stdout);
	tool_die(WA_EXIT_UNKNOWN, "%s", msg);
}

int
main(int argc, char **argv)
{
	struct wa_health_opts o = WA_HEALTH_OPTS_INIT;
	struct wa_health *h;
	const char *dopt = NULL, *dir;
	int c, verbose = 0, json = 0, rc;

	tool_init("wa-check");
	while ((c = getopt_long(argc, argv, "hvd:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			tool_usage(USAGE, stdout, WA_EXIT_OK);
		case OPT_VERSION:
			tool_version(WA_EXIT_UNKNOWN);
		case 'v':
			verbose = 1;
			break;
		case 'd':
			dopt = optarg;
			break;
		case OPT_JSON:
			json = 1;
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
		default:
			usage_error(NULL);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!(dir = tool_authdir(dopt)))
		unknown(json, "no auth folder: pass -d DIR or set WA_AUTH_DIR");
	{
		/* the folder as the messages show it, without trailing slashes */
		size_t n = strlen(dir);
		static char norm[4096];
		if (n < sizeof norm) {
			memcpy(norm, dir, n + 1);
			for (; n > 1 && norm[n - 1] == '/'; n--)
				norm[n - 1] = 0;
			dir = norm;
		}
	}
	if ((rc = wa_health_check(&h, dir, &o)) < 0)
		unknown(json, "out of memory");
	if (json)
		print_json(dir, h);
	else
		print_text(h, &o, verbose);
	rc = (int)h->status;
	wa_health_free(h);
	if (fflush(stdout) != 0 || ferror(stdout))
		return WA_EXIT_UNKNOWN;
	return rc;
}

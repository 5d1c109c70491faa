#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/version.h"
#include "session/disconnect.h"
#include "wire/conn.h"
#include "tool.h"

const char *tool_name = "wa";

void
tool_init(const char *name)
{
	tool_name = name;
	umask(077);
	setvbuf(stderr, NULL, _IOLBF, 0);
}

static void
verr(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", tool_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
tool_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(fmt, ap);
	va_end(ap);
}

void
tool_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(fmt, ap);
	va_end(ap);
	exit(code);
}

void
tool_usage(const char *usage, FILE *f, int code)
{
	fprintf(f, "usage: %s\n", usage);
	exit(code);
}

void
tool_version(int failcode)
{
	if (printf("%s %s\n", tool_name, WA_VERSION) < 0 || fflush(stdout) != 0)
		tool_die(failcode, "standard output: %s", strerror(errno));
	exit(WA_EXIT_OK);
}

void
tool_usage_err(const char *usage, int code, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		verr(fmt, ap);
		va_end(ap);
	}
	tool_usage(usage, stderr, code);
}

void
tool_json_error(int code, const char *kind, const char *fmt, ...)
{
	json_t *o, *e, *p, *m;
	char msg[1024], *q;
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
	} else {
		snprintf(msg, sizeof msg, "bad usage (see %s -h)", tool_name);
	}
	o = json_object();
	e = json_object();
	p = json_object();
	json_object_set_new(o, "status", json_string(code == WA_EXIT_UNKNOWN ? "unknown" : "error"));
	json_object_set_new(e, "kind", json_string(kind));
	if (!(m = json_string(msg))) {
		/* not UTF-8 (an argument): keep it readable and valid */
		for (q = msg; *q; q++)
			if ((unsigned char)*q >= 0x80)
				*q = '?';
		m = json_string(msg);
	}
	json_object_set_new(e, "message", m);
	json_object_set_new(o, "error", e);
	json_object_set_new(p, "severity", json_string("unknown"));
	json_object_set_new(p, "kind", json_string(kind));
	json_object_set_new(p, "message", json_incref(json_object_get(e, "message")));
	json_object_set_new(p, "fix", json_null());
	json_object_set_new(o, "problems", json_array());
	json_array_append_new(json_object_get(o, "problems"), p);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
	putchar('\n');
	fflush(stdout);
	json_decref(o);
}

int
tool_exit_for(int rc)
{
	switch (rc) {
	case WA_OK: return WA_EXIT_OK;
	case WA_ENOTFOUND: return WA_EXIT_NOINPUT;
	case WA_ECORRUPT: case WA_EMISMATCH: case WA_EVERIFY: return WA_EXIT_DATAERR;
	case WA_ELOCKED: return WA_EXIT_LOCKED;
	case WA_EINVAL: return WA_EXIT_USAGE;
	case WA_EUNSAFE: return WA_EXIT_NOPERM;
	case WA_ETOOBIG: return WA_EXIT_DATAERR;
	case WA_ESYNC: return WA_EXIT_IOERR;
	case WA_EEXIST: return WA_EXIT_CANTCREAT;
	case WA_ESYS:
		switch (errno) {
		case ENOENT: case ENOTDIR: return WA_EXIT_NOINPUT;
		case EACCES: case EPERM: case ELOOP: return WA_EXIT_NOPERM;
		case EEXIST: return WA_EXIT_CANTCREAT;
		default: return WA_EXIT_IOERR;
		}
	default: return WA_EXIT_SOFTWARE;
	}
}

int
tool_exit_for_dc(const struct wa_dc *dc)
{
	switch (dc->klass) {
	case WA_DC_REPLACED: return WA_EXIT_REPLACED;
	case WA_DC_LOGGED_OUT: return WA_EXIT_LOGGED_OUT;
	case WA_DC_BANNED: return dc->action == WA_DC_EXIT ? WA_EXIT_BANNED : WA_EXIT_OK;
	case WA_DC_OUTDATED: return WA_EXIT_OUTDATED;
	case WA_DC_REFUSED: return WA_EXIT_REFUSED;
	case WA_DC_STOPPED: return WA_EXIT_OK;
	case WA_DC_LOCALFAIL:
		switch (dc->rc) {
		case WA_ESYS: case WA_ESYNC: return WA_EXIT_IOERR;
		case WA_EUNSAFE: return WA_EXIT_NOPERM;
		case WA_ECORRUPT: return WA_EXIT_DATAERR;
		default: return WA_EXIT_SOFTWARE;
		}
	case WA_DC_RESTART: case WA_DC_TRANSIENT: return WA_EXIT_RETRIES;
	}
	return WA_EXIT_SOFTWARE;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

void
tool_server_opts(struct wa_conn_opts *o)
{
	static unsigned char root[32];
	const char *url = getenv("WA_SERVER_URL"), *hex = getenv("WA_SERVER_ROOT_KEY");
	int i;

	if (url && *url) {
		o->url = url;
		o->url_from = "WA_SERVER_URL";
	}
	if (!hex || !*hex)
		return;
	for (i = 0; i < 32; i++) {
		int hi = strlen(hex) == 64 ? hexval(hex[2 * i]) : -1, lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			tool_die(WA_EXIT_USAGE, "WA_SERVER_ROOT_KEY is not 64 hex digits");
		root[i] = (unsigned char)(hi << 4 | lo);
	}
	o->root_key = root;
	o->root_from = "WA_SERVER_ROOT_KEY";
}

const char *
tool_backup_dir(const char *opt)
{
	const char *e;

	if (opt && *opt)
		return opt;
	if ((e = getenv("WA_BACKUP_DIR")) && *e)
		return e;
	return NULL;
}

const char *
tool_authdir(const char *opt)
{
	const char *e;

	if (opt && *opt)
		return opt;
	if ((e = getenv("WA_AUTH_DIR")) && *e)
		return e;
	return NULL;
}

long
tool_number(const char *s)
{
	char *end;
	long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end)
		return -1;
	return v;
}

long
tool_duration(const char *s)
{
	char *end;
	long v, unit;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s)
		return -1;
	if (errno == ERANGE)
		return *end && (strchr("smhd", *end) == NULL || end[1]) ? -1 : TOOL_TOOBIG;
	if (errno)
		return -1;
	switch (*end) {
	case 0: case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	default: return -1;
	}
	if (*end && end[1])
		return -1;
	if (v > LONG_MAX / unit)
		return TOOL_TOOBIG;
	return v * unit;
}

char **
tool_split_words(const char *s, const char *opt)
{
	char **v, *copy, *p, *save = NULL;
	size_t n = 0, cap = 8;

	if (!(copy = strdup(s)) || !(v = calloc(cap, sizeof *v)))
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	for (p = strtok_r(copy, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
		if (n + 2 > cap) {
			char **nv = realloc(v, (cap *= 2) * sizeof *v);
			if (!nv)
				tool_die(WA_EXIT_SOFTWARE, "out of memory");
			v = nv;
		}
		if (!(v[n++] = strdup(p)))
			tool_die(WA_EXIT_SOFTWARE, "out of memory");
	}
	v[n] = NULL;
	free(copy);
	if (!n)
		tool_die(WA_EXIT_USAGE, "%s: empty command", opt);
	return v;
}

void
tool_free_words(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

char *
tool_absolute_dir(const char *d)
{
	char cwd[4096], *out;
	size_t n;

	while (d[0] == '.' && d[1] == '/')
		for (d += 2; *d == '/'; d++)
			;
	if (d[0] == '/') {
		out = strdup(d);
	} else if (!getcwd(cwd, sizeof cwd)) {
		tool_die(WA_EXIT_IOERR, "unable to find the current directory for '%s': %s", d, strerror(errno));
	} else {
		n = strlen(cwd) + strlen(d) + 2;
		if ((out = malloc(n)))
			snprintf(out, n, "%s%s%s", strcmp(cwd, "/") ? cwd : "", !*d || !strcmp(d, ".") ? "" : "/",
			    !strcmp(d, ".") ? "" : d);
	}
	if (!out)
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = 0;
	if (!*out)
		strcpy(out, "/");
	return out;
}

void
tool_check_command(const char *prog, const char *opt, const char *usage)
{
	const char *path, *p, *colon;
	char buf[4096];
	struct stat st;
	size_t n;
	int seen = 0;

	if (strchr(prog, '/')) {
		if (stat(prog, &st) < 0) {
			tool_err("%s: unable to run '%s': %s", opt, prog, strerror(errno));
			tool_usage(usage, stderr, WA_EXIT_USAGE);
		}
		if (!S_ISREG(st.st_mode) || access(prog, X_OK) < 0) {
			tool_err("%s: unable to run '%s': %s", opt, prog,
			    S_ISDIR(st.st_mode) ? "it is a directory" : "not an executable file");
			tool_usage(usage, stderr, WA_EXIT_USAGE);
		}
		return;
	}
	if (!(path = getenv("PATH")) || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; p; p = colon ? colon + 1 : NULL) {
		colon = strchr(p, ':');
		n = colon ? (size_t)(colon - p) : strlen(p);
		if (snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? p : ".", prog) >= (int)sizeof buf)
			continue;
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
			seen = 1;
			if (access(buf, X_OK) == 0)
				return;
		}
	}
	tool_err("%s: unable to run '%s': %s", opt, prog, seen ? "not an executable file" :
	    "no such command in PATH");
	tool_usage(usage, stderr, WA_EXIT_USAGE);
}

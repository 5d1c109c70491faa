/*
 * wa-prune - move what breaks sessions out of an auth folder, into
 * .wa/quarantine/STAMP/, never creds.json.
 *
 * The selection is made twice: once read-only as a preflight (so a folder
 * that is unsafe or has a bad creds.json is refused before anything is
 * created, not even .wa), then again under the writer lock, and only that
 * second list is moved.  -n stops after the first and takes no lock.
 * Selection rules are lib/prune.c; the moves are lib/quarantine.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/authdir.h"
#include "store/names.h"
#include "ops/prune.h"
#include "store/quarantine.h"
#include "store/scan.h"
#include "tool.h"

#define USAGE "wa-prune [-hn] [--version] [-d dir] [--sessions] [--sender-keys] [--tmp] [--corrupt] [--pre-keys] [--purge days] [addr ... | -]"

enum { OPT_SESSIONS = 256, OPT_SENDER_KEYS, OPT_TMP, OPT_CORRUPT, OPT_PRE_KEYS, OPT_PURGE, OPT_VERSION };

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "sessions", no_argument, NULL, OPT_SESSIONS },
	{ "sender-keys", no_argument, NULL, OPT_SENDER_KEYS },
	{ "tmp", no_argument, NULL, OPT_TMP },
	{ "corrupt", no_argument, NULL, OPT_CORRUPT },
	{ "pre-keys", no_argument, NULL, OPT_PRE_KEYS },
	{ "purge", required_argument, NULL, OPT_PURGE },
	{ NULL, 0, NULL, 0 },
};

struct peers {
	struct wa_peer *v;
	char **spec;
	size_t n, cap;
};

#define usage_error(...) tool_usage_err(USAGE, WA_EXIT_USAGE, __VA_ARGS__)

static void
add_peer(struct peers *p, const char *spec, const char *where)
{
	struct wa_why why;

	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		if (!(p->v = realloc(p->v, p->cap * sizeof *p->v)) ||
		    !(p->spec = realloc(p->spec, p->cap * sizeof *p->spec)))
			tool_die(WA_EXIT_SOFTWARE, "out of memory");
	}
	if (wa_peer_parse(&p->v[p->n], spec, &why) < 0) {
		if (where)
			tool_die(WA_EXIT_USAGE, "%s: %s", where, why.text);
		tool_die(WA_EXIT_USAGE, "%s", why.text);
	}
	if (!(p->spec[p->n] = strdup(spec)))
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	p->n++;
}

/* One contact per line; blank lines and lines starting with '#' skipped. */
static void
read_stdin(struct peers *p)
{
	char *line = NULL, where[64];
	size_t cap = 0, lineno = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		char *s = line, *e = line + n;
		lineno++;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = 0;
		if (!*s || *s == '#')
			continue;
		snprintf(where, sizeof where, "stdin line %zu", lineno);
		add_peer(p, s, where);
	}
	if (ferror(stdin))
		tool_die(WA_EXIT_IOERR, "unable to read stdin: %s", strerror(errno));
	free(line);
}

/* Exit code for a failed wa_authdir_open. */
static int
open_exit(int rc)
{
	return rc == WA_EINVAL ? WA_EXIT_NOINPUT : tool_exit_for(rc);
}

static void
print_item(const struct wa_prune_item *it)
{
	if (it->where == WA_PRUNE_IN_STAGE)
		printf("%s/%s/%s\n", WA_SUBDIR, WA_STAGE, it->name);
	else
		printf("%s\n", it->name);
}

static void
notes(const struct wa_authdir *ad, const struct wa_prune_sel *sel, const struct peers *p)
{
	size_t k;

	for (k = 0; k < p->n; k++)
		if (!sel->peer_hits[k])
			tool_err("note: no session of '%s' in '%s'", p->spec[k], ad->path);
}

static void
mode_note(void *arg, const char *name, mode_t old)
{
	const struct wa_authdir *ad = arg;

	tool_err("note: '%s/%s': mode %04o let group or others read secret keys; %s 0600", ad->path, name,
	    (unsigned)old, ad->lock ? "set to" : "would set it to");
}

/* The mode rule (wa-authdir(5)): key files with group/other bits are set
 * to 0600, with a note each (-n: only the notes). */
static int
fix_modes(struct wa_authdir *ad)
{
	struct wa_scan *s;
	const char *failed;
	size_t n;
	int rc;

	if ((rc = wa_scan_dir(&s, ad->fd)) < 0) {
		tool_err("unable to list '%s': %s", ad->path, strerror(errno));
		return tool_exit_for(rc);
	}
	rc = wa_scan_fix_modes(&n, &failed, ad->fd, s, !ad->lock, mode_note, ad);
	if (rc < 0) {
		tool_err("unable to set the mode of '%s/%s' to 0600: %s", ad->path, failed, strerror(errno));
		rc = tool_exit_for(rc);
	}
	wa_scan_free(s);
	return rc;
}

/* --purge: list (dry) or delete quarantine runs older than days; a run
 * that is not a folder is skipped (with a message and exit 77 at the end),
 * never followed, and the others are still purged. */
static int
purge(struct wa_authdir *ad, long days, int dry, const char *keep)
{
	struct wa_quarantine_entry *v;
	time_t cutoff = time(NULL) - (time_t)days * 86400;
	size_t n, i;
	int qfd, rc, status = 0;

	if ((qfd = wa_authdir_subdir(ad, WA_QUARANTINE, 0)) == WA_ENOTFOUND)
		return 0;
	if (qfd < 0) {
		tool_err("unable to open '%s/%s/%s': %s", ad->path, WA_SUBDIR, WA_QUARANTINE,
		    qfd == WA_EUNSAFE ? "not a real folder (symbolic link?)" : wa_strerror(qfd));
		return tool_exit_for(qfd);
	}
	if ((rc = wa_quarantine_list(&v, &n, qfd)) < 0) {
		tool_err("unable to list '%s/%s/%s': %s", ad->path, WA_SUBDIR, WA_QUARANTINE, wa_strerror(rc));
		close(qfd);
		return tool_exit_for(rc);
	}
	for (i = 0; i < n; i++) {
		if (v[i].when >= cutoff || (keep && strcmp(v[i].name, keep) == 0))
			continue;
		rc = 0;
		if (!dry && (rc = wa_quarantine_purge(qfd, v[i].name)) == WA_EUNSAFE) {
			/* not ours to delete: say so, leave it, go on */
			tool_err("skipped '%s/%s/%s/%s': not a folder (a symbolic link or a file); left as it is",
			    ad->path, WA_SUBDIR, WA_QUARANTINE, v[i].name);
			status = WA_EXIT_NOPERM;
			continue;
		}
		if (!dry && rc < 0 && rc != WA_ESYNC) {
			tool_err("unable to delete '%s/%s/%s/%s': %s", ad->path, WA_SUBDIR, WA_QUARANTINE,
			    v[i].name, wa_strerror(rc));
			status = tool_exit_for(rc);
			break;
		}
		printf("%s/%s/%s\n", WA_SUBDIR, WA_QUARANTINE, v[i].name);
		fflush(stdout);
		if (rc == WA_ESYNC) {
			tool_err("deleted '%s/%s/%s/%s', but the folder fsync failed", ad->path, WA_SUBDIR,
			    WA_QUARANTINE, v[i].name);
			status = WA_EXIT_IOERR;
			break;
		}
	}
	free(v);
	close(qfd);
	return status;
}

int
main(int argc, char **argv)
{
	struct peers peers = { NULL, NULL, 0, 0, };
	struct wa_authdir *ad;
	struct wa_prune_sel *sel;
	struct wa_quarantine *q = NULL;
	struct wa_lock_holder before, holder;
	struct wa_why why;
	const char *dopt = NULL, *dir;
	unsigned what = 0;
	long days = -1;
	size_t i;
	int c, dry = 0, rc, status = 0, stdin_used = 0, synced = 1;

	tool_init("wa-prune");
	while ((c = getopt_long(argc, argv, "hnd:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			tool_usage(USAGE, stdout, WA_EXIT_OK);
		case OPT_VERSION:
			tool_version(WA_EXIT_IOERR);
		case 'n':
			dry = 1;
			break;
		case 'd':
			dopt = optarg;
			break;
		case OPT_SESSIONS: what |= WA_PRUNE_SESSIONS; break;
		case OPT_SENDER_KEYS: what |= WA_PRUNE_SENDER_KEYS; break;
		case OPT_TMP: what |= WA_PRUNE_TMP; break;
		case OPT_CORRUPT: what |= WA_PRUNE_CORRUPT; break;
		case OPT_PRE_KEYS: what |= WA_PRUNE_PRE_KEYS; break;
		case OPT_PURGE:
			if ((days = tool_number(optarg)) < 0 || days > 100000)
				usage_error("--purge: '%s' is not a number of days", optarg);
			break;
		default:
			usage_error(NULL);
		}
	}
	if (!what && days < 0)
		usage_error("nothing to do: give --sessions, --sender-keys, --tmp, --corrupt, --pre-keys or --purge");
	if (optind < argc && !(what & WA_PRUNE_SESSIONS))
		usage_error("'%s': contacts are only for --sessions", argv[optind]);
	for (i = (size_t)optind; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			if (stdin_used++)
				usage_error("'-' (stdin) given twice");
			read_stdin(&peers);
		} else {
			add_peer(&peers, argv[i], NULL);
		}
	}
	if (stdin_used && !peers.n)
		tool_err("note: no contacts on stdin: nothing selected by --sessions");
	if (!(dir = tool_authdir(dopt)))
		usage_error("no auth folder: pass -d DIR or set WA_AUTH_DIR");

	/* preflight, read-only: refuses without creating anything */
	if ((rc = wa_authdir_open(&ad, dir, 0, "wa-prune", NULL, &why)) < 0)
		tool_die(open_exit(rc), "%s", why.text);
	memset(&before, 0, sizeof before);
	if (ad->wafd >= 0)
		wa_lock_inspect(ad->wafd, &before);
	if (stdin_used && !peers.n)
		what &= ~(unsigned)WA_PRUNE_SESSIONS;
	if ((rc = wa_prune_select(&sel, ad, what, peers.v, peers.n, &why)) < 0)
		tool_die(tool_exit_for(rc), "%s", why.text);
	if (dry) {
		status = fix_modes(ad);
		for (i = 0; i < sel->n; i++)
			print_item(&sel->v[i]);
		notes(ad, sel, &peers);
		if (days >= 0 && (rc = purge(ad, days, 1, NULL)))
			status = rc;
		wa_prune_sel_free(sel);
		wa_authdir_close(ad);
		goto out;
	}
	wa_prune_sel_free(sel);
	wa_authdir_close(ad);

	/* for real: under the lock, select again and move that */
	if ((rc = wa_authdir_open(&ad, dir, WA_AUTHDIR_WRITE, "wa-prune", &holder, &why)) < 0)
		tool_die(open_exit(rc), "%s", why.text);
	if (before.pid > 0 && !before.alive) {
		char d[160];
		wa_lock_holder_describe(&before, d, sizeof d);
		tool_err("note: '%s/%s/%s' was left by %s, which is no longer running; taken over",
		    dir, WA_SUBDIR, WA_LOCK, d);
	}
	if ((rc = fix_modes(ad))) {
		wa_authdir_close(ad);
		exit(rc);
	}
	if ((rc = wa_prune_select(&sel, ad, what, peers.v, peers.n, &why)) < 0) {
		wa_authdir_close(ad);
		tool_die(tool_exit_for(rc), "%s", why.text);
	}
	if (sel->n && (rc = wa_quarantine_begin(&q, ad, time(NULL))) < 0) {
		tool_err("unable to open '%s/%s/%s': %s", dir, WA_SUBDIR, WA_QUARANTINE,
		    rc == WA_EUNSAFE ? "not a real folder (symbolic link?)" : wa_strerror(rc));
		status = tool_exit_for(rc);
	}
	for (i = 0; q && i < sel->n; i++) {
		const struct wa_prune_item *it = &sel->v[i];
		int from = it->where == WA_PRUNE_IN_STAGE ? ad->stagefd : ad->fd;
		rc = wa_quarantine_move(q, from, it->name);
		if (rc == 0) {
			print_item(it);
			continue;
		}
		if (rc == WA_ESYS && errno == ENOENT)
			continue;   /* gone since it was selected */
		tool_err("unable to move '%s%s%s' into '%s/%s/%s/%s': %s", dir,
		    it->where == WA_PRUNE_IN_STAGE ? "/" WA_SUBDIR "/" WA_STAGE "/" : "/", it->name,
		    dir, WA_SUBDIR, WA_QUARANTINE, q->name[0] ? q->name : "?", wa_strerror(rc));
		status = tool_exit_for(rc);
		break;
	}
	/* one fsync per folder for all the moves, then report them */
	if (q && (rc = wa_quarantine_commit(q)) < 0) {
		synced = 0;
		tool_err("moved %zu file%s into '%s/%s/%s/%s', but flushing the folders failed: %s; "
		    "they may be back after a power loss", q->moved, q->moved == 1 ? "" : "s",
		    dir, WA_SUBDIR, WA_QUARANTINE, q->name, strerror(errno));
		status = WA_EXIT_IOERR;
	}
	fflush(stdout);
	if (q && q->moved && synced)
		tool_err("moved %zu file%s into '%s/%s/%s/%s' (move them back to undo)", q->moved,
		    q->moved == 1 ? "" : "s", dir, WA_SUBDIR, WA_QUARANTINE, q->name);
	notes(ad, sel, &peers);
	if (!status && days >= 0)
		status = purge(ad, days, 0, q && q->name[0] ? q->name : NULL);
	wa_quarantine_end(q);
	wa_prune_sel_free(sel);
	wa_authdir_close(ad);
out:
	for (i = 0; i < peers.n; i++)
		free(peers.spec[i]);
	free(peers.spec);
	free(peers.v);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		tool_err("unable to write to stdout");
		if (!status)
			status = WA_EXIT_IOERR;
	}
	return status;
}

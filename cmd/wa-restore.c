/*
 * wa-restore - put an auth folder back from a wa-backup archive.
 *
 * The archive is read and verified completely in memory before anything
 * is written.  The restored folder is built beside the target, flushed,
 * and exchanged with the target in one atomic rename; the old folder is
 * kept under a new name; the newest --keep of those stay.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/authdir.h"
#include "ops/backup.h"
#include "base/compat.h"
#include "store/creds.h"
#include "base/file.h"
#include "store/names.h"
#include "ops/status.h"
#include "base/loop.h"
#include "tool.h"

#define USAGE "wa-restore [-fhnv] [--version] [-B dir] [-d dir] [--keep n] [--latest | file | -]"

struct counts {
	size_t added, changed, removed, same;
	int list;               /* -v: one line per file */
};

static void
show_change(void *arg, const char *what, const char *name)
{
	struct counts *c = arg;

	switch (what[0]) {
	case 'a': c->added++; break;
	case 'c': c->changed++; break;
	case 'r': c->removed++; break;
	default: c->same++; break;
	}
	if (c->list)
		printf("%s %s\n", what, name);
}

/* s made safe for a terminal (control characters become '?'). */
static const char *
clean(char *dst, size_t n, const char *s)
{
	size_t i;

	snprintf(dst, n, "%s", s);
	for (i = 0; dst[i]; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = '?';
	return dst;
}

static void
removed_replaced(void *arg, const char *name)
{
	const char *parent = arg;

	tool_err("removed old replaced folder '%s%s%s'", strcmp(parent, ".") == 0 ? "" : parent,
	    strcmp(parent, ".") == 0 ? "" : "/", name);
}

/*
 * Refuse (65) to put a backup of another account, another device of the
 * same account or another identity key in place of what the folder
 * holds, unless force.  Two folders holding the same device's keys, run
 * at the same time, replace each other at the server forever (440).  A
 * folder without an account (unpaired, or a creds.json that is missing
 * or does not parse) accepts any archive: that is what a torn creds.json
 * leaves behind.
 */
static void
check_foreign(const struct wa_backup *b, int dirfd, const char *show, const char *target, int force)
{
	char acct[64], me[128] = "", ident[65] = "", x[160], y[160], what[600];
	const json_t *meid;
	json_t *creds;

	if (wa_json_read(&creds, dirfd, WA_CREDS, NULL, NULL) < 0)
		return;
	wa_creds_account(acct, sizeof acct, creds);
	meid = json_object_get(json_object_get(creds, "me"), "id");
	if (json_is_string(meid))
		snprintf(me, sizeof me, "%s", json_string_value(meid));
	wa_backup_identity(ident, creds);
	json_decref(creds);
	if (!acct[0])
		return;
	if (strcmp(acct, b->account) != 0)
		snprintf(what, sizeof what, "is a backup of %s%s, but '%s' holds account %s",
		    b->account[0] ? "account " : "an unpaired folder", clean(x, sizeof x, b->account), target,
		    clean(y, sizeof y, acct));
	else if (me[0] && b->me[0] && strcmp(me, b->me) != 0)
		snprintf(what, sizeof what, "is a backup of device %s, but '%s' holds device %s of the same "
		    "account (two folders with one device's keys replace each other at the server)",
		    clean(x, sizeof x, b->me), target, clean(y, sizeof y, me));
	else if (ident[0] && b->identity[0] && strcmp(ident, b->identity) != 0)
		snprintf(what, sizeof what, "holds another identity key than '%s' (identity %.16s..., the folder "
		    "%.16s...): another pairing", target, clean(x, sizeof x, b->identity), ident);
	else
		return;
	if (force) {
		tool_err("warning: '%s' %s; restoring anyway (-f)", show, what);
		return;
	}
	tool_die(WA_EXIT_DATAERR, "'%s' %s; refusing to replace it (use -f to restore anyway)", show, what);
}

/* Why b would not give a usable session, or NULL. */
static const char *
unusable(const struct wa_backup *b)
{
	const struct wa_backup_file *f = wa_backup_find(b, WA_CREDS);

	if (!f)
		return "it holds no creds.json";
	if (f->valid != 1)
		return "its creds.json did not parse when it was backed up";
	return NULL;
}

/*
 * --latest: the newest of our archives in bdir that verifies and whose
 * creds.json is valid; each newer one skipped with a warning saying why.
 * Returns its path (caller frees), or exits 66 when there is none.
 */
static char *
pick_latest(const char *bdir, const char *base)
{
	char **names, *path = NULL;
	size_t n, i, skipped = 0;
	int bfd, rc;

	if ((bfd = open(bdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		tool_die(errno == ENOENT || errno == ENOTDIR ? WA_EXIT_NOINPUT : tool_exit_for(WA_ESYS),
		    "no backups of '%s': '%s': %s", base, bdir, strerror(errno));
	if ((rc = wa_backup_list(&names, &n, bfd, base)) < 0)
		tool_die(tool_exit_for(rc), "unable to list '%s': %s", bdir, wa_strerror(rc));
	if (n == 0)
		tool_die(WA_EXIT_NOINPUT, "no backups of '%s' in '%s'", base, bdir);
	for (i = n; i-- > 0 && !path;) {
		struct wa_backup *b = NULL;
		struct wa_why why = { "" };
		const char *bad = NULL;
		int fd = openat(bfd, names[i], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			tool_err("warning: skipping '%s/%s': %s", bdir, names[i], strerror(errno));
			skipped++;
			continue;
		}
		rc = wa_backup_read(&b, fd, names[i], &why);
		close(fd);
		if (rc < 0)
			bad = why.text;
		else
			bad = unusable(b);
		if (bad) {
			tool_err("warning: skipping '%s/%s': %s", bdir, names[i], bad);
			skipped++;
		} else if (asprintf(&path, "%s/%s", bdir, names[i]) < 0) {
			tool_die(WA_EXIT_SOFTWARE, "out of memory");
		}
		wa_backup_free(b);
	}
	if (!path)
		tool_die(WA_EXIT_NOINPUT, "no usable backup of '%s' in '%s': %zu archives, none verifies with a "
		    "valid creds.json", base, bdir, n);
	tool_err("using '%s'%s", path, skipped ? ", the newest usable backup" : ", the newest backup");
	wa_backup_names_free(names);
	close(bfd);
	return path;
}

/* ---- the steps of main ---------------------------------------------------------------- */

struct restore {
	/* the options */
	const char *dir, *bdir, *file;
	int force, dry, uselatest, verbose;
	long keep;
	/* the target: parent/base, the parent open, whether base exists */
	char *parent, *base;
	int pfd, exists;
	struct wa_authdir *ad;	/* a read-only look at the target */
	struct wa_authdir *lk;	/* the target's lock, held until the swap is done */
	/* the archive */
	char *latest, *show;	/* --latest's pick; the archive as named in messages */
	struct wa_backup *b;
	/* the new folder beside the target, the name the old one moves to */
	char stage[300], replaced[300], shownrep[4400];
	int used;		/* the target existed and is now under replaced */
	struct wa_why why;
};

static void
parse_options(struct restore *x, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keep", required_argument, NULL, 'k' },
		{ "latest", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dopt = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "B:d:fhnv", longopts, NULL)) != -1) {
		switch (c) {
		case 'B': x->bdir = optarg; break;
		case 'd': dopt = optarg; break;
		case 'f': x->force = 1; break;
		case 'h': tool_usage(USAGE, stdout, 0);
		case 'V': tool_version(WA_EXIT_IOERR);
		case 'n': x->dry = 1; break;
		case 'v': x->verbose = 1; break;
		case 'L': x->uselatest = 1; break;
		case 'k':
			if ((x->keep = tool_number(optarg)) < 0)
				tool_usage_err(USAGE, WA_EXIT_USAGE, "--keep: '%s' is not a number", optarg);
			break;
		default: tool_usage(USAGE, stderr, WA_EXIT_USAGE);
		}
	}
	if (argc - optind > 1 || (x->uselatest && argc - optind == 1))
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	if (x->bdir && !x->uselatest) {
		tool_err("-B only says where --latest looks");
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	}
	if (argc - optind == 1)
		x->file = argv[optind];
	if (!(x->dir = tool_authdir(dopt))) {
		tool_err("no auth folder: use -d DIR or set WA_AUTH_DIR");
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	}
	/* standard input only when asked for with -: from cron it is
	 * /dev/null or a closed pipe, never an archive */
	if (!x->file && !x->uselatest)
		tool_usage_err(USAGE, WA_EXIT_USAGE, "no archive: name a file, or use - (standard input) or --latest");
	if ((rc = wa_backup_path_split(&x->parent, &x->base, x->dir)) < 0)
		tool_die(rc == WA_ESYS ? WA_EXIT_NOINPUT : WA_EXIT_USAGE, "'%s': %s", x->dir,
		    rc == WA_EINVAL ? "not a folder that can be replaced" : wa_strerror(rc));
}

/* The archive, read and verified in memory: the file named, standard
 * input, or --latest's pick.  One that would not give a session is
 * refused unless -f. */
static void
read_archive(struct restore *x)
{
	struct stat st;
	const char *bad;
	int fd, rc;

	if (x->uselatest) {
		char *def = NULL;
		x->bdir = tool_backup_dir(x->bdir);
		if (!x->bdir) {
			if (asprintf(&def, "%s/%s%s", x->parent, x->base, WA_BACKUP_SUFFIX) < 0)
				tool_die(WA_EXIT_SOFTWARE, "out of memory");
			x->bdir = def;
		}
		x->latest = pick_latest(x->bdir, x->base);
		free(def);
		x->file = x->latest;
	}
	if (strcmp(x->file, "-") == 0) {
		if (isatty(0))
			tool_die(WA_EXIT_USAGE, "refusing to read an archive from a terminal");
		fd = 0;
		x->show = strdup("standard input");
	} else {
		if ((fd = open(x->file, O_RDONLY | O_CLOEXEC)) < 0)
			tool_die(errno == ENOENT ? WA_EXIT_NOINPUT : tool_exit_for(WA_ESYS),
			    "unable to open '%s': %s", x->file, strerror(errno));
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			tool_die(WA_EXIT_NOINPUT, "'%s' is a folder, not an archive", x->file);
		x->show = strdup(x->file);
	}
	if (!x->show)
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	if ((rc = wa_backup_read(&x->b, fd, x->show, &x->why)) < 0)
		tool_die(rc == WA_ETOOBIG ? WA_EXIT_DATAERR : tool_exit_for(rc), "%s; nothing restored", x->why.text);
	if (fd > 0)
		close(fd);
	bad = unusable(x->b);
	if (bad && !x->force)
		tool_die(WA_EXIT_DATAERR, "'%s': %s, so restoring it would not give a working session; "
		    "nothing restored (use -f to restore it anyway)", x->show, bad);
	if (bad)
		tool_err("warning: '%s': %s; restoring anyway (-f)", x->show, bad);
}

/* The target: a folder or nothing, in a parent we can open; a folder
 * must hold the archive's account (or none) unless -f. */
static void
look_at_target(struct restore *x)
{
	struct stat st;
	int rc;

	if ((x->pfd = open(x->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		tool_die(errno == ENOENT || errno == ENOTDIR ? WA_EXIT_NOINPUT : tool_exit_for(WA_ESYS),
		    "unable to restore into '%s': '%s': %s", x->dir, x->parent, strerror(errno));
	if (fstatat(x->pfd, x->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			tool_die(WA_EXIT_NOPERM, "'%s' is a symbolic link; pass the real folder", x->dir);
		if (!S_ISDIR(st.st_mode))
			tool_die(WA_EXIT_CANTCREAT, "'%s' exists and is not a folder; nothing restored", x->dir);
		x->exists = 1;
	} else if (errno == ENOENT) {
		x->exists = 0;
	} else {
		tool_die(tool_exit_for(WA_ESYS), "'%s': %s", x->dir, strerror(errno));
	}
	if (x->exists) {
		if ((rc = wa_authdir_open(&x->ad, x->dir, 0, tool_name, NULL, &x->why)) < 0)
			tool_die(rc == WA_EINVAL ? WA_EXIT_CANTCREAT : tool_exit_for(rc), "%s", x->why.text);
		check_foreign(x->b, x->ad->fd, x->show, x->dir, x->force);
	}
}

/* -n: what the restore would change, a count per kind on stdout (-v:
 * the files too, above it). */
static void
dry_run(struct restore *x)
{
	struct counts cnt = { 0, 0, 0, 0, x->verbose };
	int rc;

	if ((rc = wa_backup_diff(x->b, x->ad ? x->ad->fd : -1, show_change, &cnt, &x->why)) < 0)
		tool_die(tool_exit_for(rc), "'%s': %s", x->dir, x->why.text);
	printf("added %zu\nchanged %zu\nremoved %zu\nsame %zu\n", cnt.added, cnt.changed, cnt.removed,
	    cnt.same);
	if (fflush(stdout) != 0)
		tool_die(WA_EXIT_IOERR, "standard output: %s", strerror(errno));
	tool_err("'%s' into '%s' would add %zu, change %zu, remove %zu, keep %zu files; nothing changed (-n)",
	    x->show, x->dir, cnt.added, cnt.changed, cnt.removed, cnt.same);
}

/* One writer: hold the target's lock until the swap is done, and look at
 * its account again under it. */
static void
lock_target(struct restore *x)
{
	int rc;

	if (!x->exists)
		return;
	wa_authdir_close(x->ad);
	x->ad = NULL;
	if ((rc = wa_authdir_open(&x->lk, x->dir, WA_AUTHDIR_WRITE, tool_name, NULL, &x->why)) < 0)
		tool_die(tool_exit_for(rc), "%s; nothing restored", x->why.text);
	check_foreign(x->b, x->lk->fd, x->show, x->dir, x->force);
}

/* The restored folder, built and flushed beside the target under a
 * hidden name, wa-run's status in it marked superseded. */
static void
build_beside(struct restore *x)
{
	unsigned char r[4];
	int rc, sfd, wfd = -1;

	if (wa_compat_random(r, sizeof r) < 0)
		tool_die(WA_EXIT_IOERR, "no random bytes: %s", strerror(errno));
	snprintf(x->stage, sizeof x->stage, ".%.200s.restore-%02x%02x%02x%02x", x->base, r[0], r[1], r[2], r[3]);
	if ((rc = wa_backup_extract(x->b, x->pfd, x->stage, &x->why)) < 0)
		tool_die(rc == WA_EEXIST ? WA_EXIT_CANTCREAT : tool_exit_for(rc) == WA_EXIT_NOPERM ?
		    WA_EXIT_CANTCREAT : tool_exit_for(rc),
		    "unable to build the restored folder beside '%s': %s; '%s' is unchanged", x->dir, x->why.text,
		    x->dir);
	/* wa-run's status in the archive describes the past (an online with a
	 * pid long gone, a failure since repaired): mark it superseded in the
	 * folder being built, before anyone can see it */
	sfd = openat(x->pfd, x->stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd >= 0)
		wfd = openat(sfd, WA_SUBDIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (wfd >= 0 && (rc = wa_status_supersede(wfd, wfd, tool_name, wa_clock_wall_ms())) < 0) {
		int saved = errno;
		wa_backup_unstage(x->pfd, x->stage);
		errno = saved;
		tool_die(tool_exit_for(rc), "unable to mark '%s/%s/%s' superseded: %s; '%s' is unchanged",
		    x->dir, WA_SUBDIR, WA_STATUS, wa_strerror(rc), x->dir);
	}
	if (wfd >= 0)
		close(wfd);
	if (sfd >= 0)
		close(sfd);
}

/* The new folder in the target's place in one atomic exchange, the old
 * one kept beside it under a new name; the lock released.  Returns the
 * swap's result: 0, or WA_ESYNC (done, but not flushed). */
static int
swap_in(struct restore *x)
{
	int rc, exchanged;

	if ((rc = wa_backup_replaced_name(x->replaced, sizeof x->replaced, x->pfd, x->base, time(NULL))) < 0) {
		wa_backup_unstage(x->pfd, x->stage);
		tool_die(WA_EXIT_CANTCREAT, "unable to restore '%s': no free name for the replaced folder: %s",
		    x->dir, wa_strerror(rc));
	}
	rc = wa_backup_swap(x->pfd, x->stage, x->base, x->replaced, &exchanged, &x->used, &x->why);
	if (rc < 0 && rc != WA_ESYNC) {
		if (!exchanged)
			wa_backup_unstage(x->pfd, x->stage);
		tool_die(tool_exit_for(rc) == WA_EXIT_NOPERM ? WA_EXIT_CANTCREAT : tool_exit_for(rc),
		    "unable to restore '%s': %s", x->dir, x->why.text);
	}
	wa_authdir_close(x->lk);
	x->lk = NULL;
	return rc;
}

/* The replaced folder on stdout, the summary on stderr; then the folders
 * earlier restores replaced: the newest --keep stay.  swap_rc: swap_in's. */
static void
report(struct restore *x, int swap_rc)
{
	const struct wa_backup *b = x->b;
	const char *parent = x->parent;
	int rc;

	/* the replaced folder as a path the user can type: beside the target */
	snprintf(x->shownrep, sizeof x->shownrep, "%s%s%s",
	    strcmp(parent, ".") == 0 || strcmp(parent, "/") == 0 ? "" : parent,
	    strcmp(parent, ".") == 0 ? "" : "/", x->replaced);
	if (x->used)
		printf("%s\n", x->shownrep);
	if (fflush(stdout) != 0)
		tool_die(WA_EXIT_IOERR, "standard output: %s", strerror(errno));
	if (swap_rc == WA_ESYNC)
		tool_die(WA_EXIT_IOERR, "restored '%s', but %s: it may not survive a power cut", x->dir, x->why.text);
	tool_err("restored %zu files from '%s' (%s%s, made %s) into '%s'%s%s%s", b->n, x->show,
	    b->account[0] ? "account " : "not paired", b->account, b->created[0] ? b->created : "?", x->dir,
	    x->used ? "; the previous folder is kept as '" : "", x->used ? x->shownrep : "", x->used ? "'" : "");
	if (x->used && (rc = wa_backup_retain_replaced(x->pfd, x->base, (size_t)x->keep, x->replaced,
	    removed_replaced, (void *)x->parent)) < 0)
		tool_err("warning: unable to remove old replaced folders beside '%s': %s", x->dir, wa_strerror(rc));
}

static void
cleanup(struct restore *x)
{
	wa_authdir_close(x->ad);
	wa_backup_free(x->b);
	free(x->parent);
	free(x->base);
	free(x->latest);
	free(x->show);
	close(x->pfd);
}

int
main(int argc, char **argv)
{
	static struct restore x = { .keep = WA_BACKUP_KEEP_REPLACED };

	tool_init("wa-restore");
	parse_options(&x, argc, argv);
	read_archive(&x);
	look_at_target(&x);
	if (x.dry) {
		dry_run(&x);
	} else {
		lock_target(&x);
		build_beside(&x);
		report(&x, swap_in(&x));
	}
	cleanup(&x);
	return 0;
}

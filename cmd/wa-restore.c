/*
 * wa-restore - put an auth folder back from a wa-backup archive.
 *
 * The archive is read and verified completely in memory before anything
 * is written.  The restored folder is built beside the target, flushed,
 * and exchanged with the target in one atomic rename; the old folder is
 * kept under a new name and never deleted.
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
#include "tool.h"

#define USAGE "wa-restore [-fhn] [--version] [-B dir] [-d dir] [--latest | file | -]"

struct counts {
	size_t added, changed, removed, same;
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
	printf("%s %s\n", what, name);
}

/* The account (user part of me.id) of the folder's creds.json, "" when
 * it has none, is unpaired or does not parse. */
static void
folder_account(char *out, size_t n, int dirfd)
{
	json_t *creds;

	out[0] = 0;
	if (wa_json_read(&creds, dirfd, WA_CREDS, NULL, NULL) < 0)
		return;
	wa_creds_account(out, n, creds);
	json_decref(creds);
}

static void
check_foreign(const struct wa_backup *b, int dirfd, const char *show, const char *target, int force)
{
	char acct[64];

	folder_account(acct, sizeof acct, dirfd);
	if (!acct[0] || strcmp(acct, b->account) == 0)
		return;
	if (force) {
		tool_err("warning: '%s' is a backup of %s%s, '%s' holds account %s; restoring anyway (-f)",
		    show, b->account[0] ? "account " : "an unpaired folder", b->account, target, acct);
		return;
	}
	tool_die(WA_EXIT_DATAERR, "'%s' is a backup of %s%s, but '%s' holds account %s; "
	    "refusing to replace it (use -f to restore anyway)",
	    show, b->account[0] ? "account " : "an unpaired folder", b->account, target, acct);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "latest", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct wa_authdir *ad = NULL, *lk = NULL;
	struct wa_backup *b;
	struct wa_why why = { "" };
	struct stat st;
	const char *dir, *dopt = NULL, *bdir = NULL, *file = NULL;
	char *parent = NULL, *base = NULL, *latest = NULL, *show = NULL;
	char stage[300], replaced[300], stamp[20], shownrep[4400];
	int c, rc, fd, pfd, exists, force = 0, dry = 0, uselatest = 0, exchanged, used;

	tool_init("wa-restore");
	while ((c = getopt_long(argc, argv, "B:d:fhn", longopts, NULL)) != -1) {
		switch (c) {
		case 'B': bdir = optarg; break;
		case 'd': dopt = optarg; break;
		case 'f': force = 1; break;
		case 'h': tool_usage(USAGE, stdout, 0);
		case 'V': tool_version(WA_EXIT_IOERR);
		case 'n': dry = 1; break;
		case 'L': uselatest = 1; break;
		default: tool_usage(USAGE, stderr, WA_EXIT_USAGE);
		}
	}
	if (argc - optind > 1 || (uselatest && argc - optind == 1))
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	if (bdir && !uselatest) {
		tool_err("-B only says where --latest looks");
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	}
	if (argc - optind == 1)
		file = argv[optind];
	if (!(dir = tool_authdir(dopt))) {
		tool_err("no auth folder: use -d DIR or set WA_AUTH_DIR");
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	}
	if (!file && !uselatest) {
		if (isatty(0)) {
			tool_err("no archive: name a file, use - or --latest, or pipe one in");
			tool_usage(USAGE, stderr, WA_EXIT_USAGE);
		}
		file = "-";
	}
	if ((rc = wa_backup_path_split(&parent, &base, dir)) < 0)
		tool_die(rc == WA_ESYS ? WA_EXIT_NOINPUT : WA_EXIT_USAGE, "'%s': %s", dir,
		    rc == WA_EINVAL ? "not a folder that can be replaced" : wa_strerror(rc));

	/* the archive */
	if (uselatest) {
		char **names;
		size_t n;
		int bfd;
		char *def = NULL;
		if (!bdir && (bdir = getenv("WA_BACKUP_DIR")) && !*bdir)
			bdir = NULL;
		if (!bdir) {
			if (asprintf(&def, "%s/%s%s", parent, base, WA_BACKUP_SUFFIX) < 0)
				tool_die(WA_EXIT_SOFTWARE, "out of memory");
			bdir = def;
		}
		if ((bfd = open(bdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			tool_die(errno == ENOENT || errno == ENOTDIR ? WA_EXIT_NOINPUT : tool_exit_for(WA_ESYS),
			    "no backups of '%s': '%s': %s", base, bdir, strerror(errno));
		if ((rc = wa_backup_list(&names, &n, bfd, base)) < 0)
			tool_die(tool_exit_for(rc), "unable to list '%s': %s", bdir, wa_strerror(rc));
		if (n == 0)
			tool_die(WA_EXIT_NOINPUT, "no backups of '%s' in '%s'", base, bdir);
		if (asprintf(&latest, "%s/%s", bdir, names[n - 1]) < 0)
			tool_die(WA_EXIT_SOFTWARE, "out of memory");
		wa_backup_names_free(names);
		close(bfd);
		free(def);
		file = latest;
	}
	if (strcmp(file, "-") == 0) {
		if (isatty(0))
			tool_die(WA_EXIT_USAGE, "refusing to read an archive from a terminal");
		fd = 0;
		show = strdup("standard input");
	} else {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
			tool_die(errno == ENOENT ? WA_EXIT_NOINPUT : tool_exit_for(WA_ESYS),
			    "unable to open '%s': %s", file, strerror(errno));
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			tool_die(WA_EXIT_NOINPUT, "'%s' is a folder, not an archive", file);
		show = strdup(file);
	}
	if (!show)
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	if ((rc = wa_backup_read(&b, fd, show, &why)) < 0)
		tool_die(rc == WA_ETOOBIG ? WA_EXIT_DATAERR : tool_exit_for(rc), "%s; nothing restored", why.text);
	if (fd > 0)
		close(fd);

	/* the target */
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		tool_die(errno == ENOENT || errno == ENOTDIR ? WA_EXIT_NOINPUT : tool_exit_for(WA_ESYS),
		    "unable to restore into '%s': '%s': %s", dir, parent, strerror(errno));
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			tool_die(WA_EXIT_NOPERM, "'%s' is a symbolic link; pass the real folder", dir);
		if (!S_ISDIR(st.st_mode))
			tool_die(WA_EXIT_CANTCREAT, "'%s' exists and is not a folder; nothing restored", dir);
		exists = 1;
	} else if (errno == ENOENT) {
		exists = 0;
	} else {
		tool_die(tool_exit_for(WA_ESYS), "'%s': %s", dir, strerror(errno));
	}
	if (exists) {
		if ((rc = wa_authdir_open(&ad, dir, 0, tool_name, NULL, &why)) < 0)
			tool_die(rc == WA_EINVAL ? WA_EXIT_CANTCREAT : tool_exit_for(rc), "%s", why.text);
		check_foreign(b, ad->fd, show, dir, force);
	}

	if (dry) {
		struct counts cnt = { 0, 0, 0, 0 };
		if ((rc = wa_backup_diff(b, ad ? ad->fd : -1, show_change, &cnt, &why)) < 0)
			tool_die(tool_exit_for(rc), "'%s': %s", dir, why.text);
		if (fflush(stdout) != 0)
			tool_die(WA_EXIT_IOERR, "standard output: %s", strerror(errno));
		tool_err("'%s' into '%s' would add %zu, change %zu, remove %zu, keep %zu files; nothing changed (-n)",
		    show, dir, cnt.added, cnt.changed, cnt.removed, cnt.same);
		wa_authdir_close(ad);
		wa_backup_free(b);
		free(parent);
		free(base);
		free(latest);
		free(show);
		close(pfd);
		return 0;
	}

	/* one writer: hold the target's lock until the swap is done */
	if (exists) {
		wa_authdir_close(ad);
		ad = NULL;
		if ((rc = wa_authdir_open(&lk, dir, WA_AUTHDIR_WRITE, tool_name, NULL, &why)) < 0)
			tool_die(tool_exit_for(rc), "%s; nothing restored", why.text);
		check_foreign(b, lk->fd, show, dir, force);
	}

	/* build beside the target, then swap */
	{
		unsigned char r[4];
		if (wa_compat_random(r, sizeof r) < 0)
			tool_die(WA_EXIT_IOERR, "no random bytes: %s", strerror(errno));
		snprintf(stage, sizeof stage, ".%.200s.restore-%02x%02x%02x%02x", base, r[0], r[1], r[2], r[3]);
	}
	if ((rc = wa_backup_extract(b, pfd, stage, &why)) < 0)
		tool_die(rc == WA_EEXIST ? WA_EXIT_CANTCREAT : tool_exit_for(rc) == WA_EXIT_NOPERM ?
		    WA_EXIT_CANTCREAT : tool_exit_for(rc),
		    "unable to build the restored folder beside '%s': %s; '%s' is unchanged", dir, why.text, dir);
	wa_backup_stamp(stamp, sizeof stamp, time(NULL));
	snprintf(replaced, sizeof replaced, "%.200s.replaced-%s", base, stamp);
	{
		int n;
		for (n = 1; fstatat(pfd, replaced, &st, AT_SYMLINK_NOFOLLOW) == 0 && n < 100; n++)
			snprintf(replaced, sizeof replaced, "%.200s.replaced-%s-%d", base, stamp, n);
	}
	rc = wa_backup_swap(pfd, stage, base, replaced, &exchanged, &used, &why);
	if (rc < 0 && rc != WA_ESYNC) {
		if (!exchanged)
			wa_backup_unstage(pfd, stage);
		tool_die(tool_exit_for(rc) == WA_EXIT_NOPERM ? WA_EXIT_CANTCREAT : tool_exit_for(rc),
		    "unable to restore '%s': %s", dir, why.text);
	}
	wa_authdir_close(lk);
	/* the replaced folder as a path the user can type: beside the target */
	snprintf(shownrep, sizeof shownrep, "%s%s%s",
	    strcmp(parent, ".") == 0 || strcmp(parent, "/") == 0 ? "" : parent,
	    strcmp(parent, ".") == 0 ? "" : "/", replaced);
	if (used)
		printf("%s\n", shownrep);
	if (fflush(stdout) != 0)
		tool_die(WA_EXIT_IOERR, "standard output: %s", strerror(errno));
	if (rc == WA_ESYNC)
		tool_die(WA_EXIT_IOERR, "restored '%s', but %s: it may not survive a power cut", dir, why.text);
	tool_err("restored %zu files from '%s' (%s%s, made %s) into '%s'%s%s%s", b->n, show,
	    b->account[0] ? "account " : "not paired", b->account, b->created[0] ? b->created : "?", dir,
	    used ? "; the previous folder is kept as '" : "", used ? shownrep : "", used ? "'" : "");
	wa_backup_free(b);
	free(parent);
	free(base);
	free(latest);
	free(show);
	close(pfd);
	return 0;
}

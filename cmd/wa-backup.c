/*
 * wa-backup - write an auth folder into one verified archive.
 *
 * Reads the folder without taking its lock (a running writer is never
 * blocked), writes the archive durably, and in the backups folder keeps
 * the newest --keep archives of this folder, or those of the last
 * --keep-days days (never fewer than the newest usable one).
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
#include "store/durable.h"
#include "store/names.h"
#include "tool.h"

#define USAGE "wa-backup [-fhq] [--version] [-B dir] [-d dir] [--keep n] [--keep-days n] [-o file]"

static int quiet;

static void
warn(void *arg, const char *line)
{
	(void)arg;
	tool_err("warning: %s", line);
}

static void
removed(void *arg, const char *name)
{
	if (!quiet)
		tool_err("removed old backup '%s/%s'", (const char *)arg, name);
}

/* Exit code for a failure to create the backups folder or the archive:
 * 74 when the disk is full or failing (the table's "including a full
 * disk"), else 73, "cannot be created" (read-only file system, no
 * permission, a missing parent, something else in the way). */
static int
create_exit(int rc)
{
	if (rc == WA_ESYNC)
		return WA_EXIT_IOERR;
	if (rc == WA_ESYS && (errno == ENOSPC || errno == EDQUOT || errno == EIO))
		return WA_EXIT_IOERR;
	return WA_EXIT_CANTCREAT;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keep", required_argument, NULL, 'k' },
		{ "keep-days", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct wa_backup_report rep;
	struct wa_authdir *ad;
	struct wa_durable *w = NULL;
	struct wa_why why = { "" };
	const char *dir, *dopt = NULL, *output = NULL, *bdir = NULL;
	char *folder = NULL, *fparent = NULL, *defbdir = NULL, *oparent = NULL, *obase = NULL;
	char name[512], shown[4096];
	long keep = WA_BACKUP_KEEP, keepdays = 0;
	int c, rc, ofd = -1, keepset = 0, tostdout = 0, stdoutfd = 1, force = 0;
	unsigned flags;
	time_t now;

	tool_init("wa-backup");
	while ((c = getopt_long(argc, argv, "B:d:fhqo:", longopts, NULL)) != -1) {
		switch (c) {
		case 'B': bdir = optarg; break;
		case 'd': dopt = optarg; break;
		case 'f': force = 1; break;
		case 'h': tool_usage(USAGE, stdout, 0);
		case 'V': tool_version(WA_EXIT_IOERR);
		case 'q': quiet = 1; break;
		case 'o': output = optarg; break;
		case 'k':
			if ((keep = tool_number(optarg)) < 0) {
				tool_err("--keep: '%s' is not a number", optarg);
				tool_usage(USAGE, stderr, WA_EXIT_USAGE);
			}
			keepset = 1;
			break;
		case 'K':
			if ((keepdays = tool_number(optarg)) <= 0 || keepdays > 100000) {
				tool_err("--keep-days: '%s' is not a number of days (1 to 100000)", optarg);
				tool_usage(USAGE, stderr, WA_EXIT_USAGE);
			}
			break;
		default: tool_usage(USAGE, stderr, WA_EXIT_USAGE);
		}
	}
	if (optind != argc)
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	if (output && (bdir || keepset || keepdays)) {
		tool_err("-o writes one file: -B, --keep and --keep-days apply to the backups folder only");
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	}
	/* --keep-days alone keeps by age only: a count would cut a week of
	 * six-hourly backups down to the default ten */
	if (keepdays && !keepset)
		keep = 0;
	if (!(dir = tool_authdir(dopt))) {
		tool_err("no auth folder: use -d DIR or set WA_AUTH_DIR");
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	}
	tostdout = output && strcmp(output, "-") == 0;
	if (tostdout && isatty(1))
		tool_die(WA_EXIT_USAGE, "refusing to write an archive to a terminal; redirect the output");

	rc = wa_authdir_open(&ad, dir, 0, tool_name, NULL, &why);
	if (rc < 0)
		tool_die(rc == WA_EINVAL ? WA_EXIT_NOINPUT : tool_exit_for(rc), "%s", why.text);
	if ((rc = wa_backup_path_split(&fparent, &folder, ad->path)) < 0)
		tool_die(tool_exit_for(rc), "'%s': %s", ad->path, wa_strerror(rc));
	now = time(NULL);

	if (tostdout) {
		snprintf(shown, sizeof shown, "%s", "standard output");
	} else if (output) {
		struct stat st;
		if ((rc = wa_backup_path_split(&oparent, &obase, output)) < 0)
			tool_die(WA_EXIT_CANTCREAT, "unable to write '%s': %s", output, wa_strerror(rc));
		if ((ofd = open(oparent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			tool_die(create_exit(WA_ESYS), "unable to write '%s': '%s': %s", output, oparent, strerror(errno));
		if (fstatat(ofd, obase, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
			tool_die(WA_EXIT_CANTCREAT, "unable to write '%s': it exists and is not a regular file", output);
		snprintf(name, sizeof name, "%s", obase);
		snprintf(shown, sizeof shown, "%s", output);
	} else {
		if ((rc = wa_backup_dir(&defbdir, ad->path, tool_backup_dir(bdir))) < 0)
			tool_die(tool_exit_for(rc), "'%s': %s", ad->path, wa_strerror(rc));
		bdir = defbdir;
		if ((ofd = wa_backup_dir_open(bdir, &why)) < 0)
			tool_die(create_exit(ofd), "%s", why.text);
		if ((rc = wa_backup_new_name(name, sizeof name, ofd, folder, now)) < 0)
			tool_die(WA_EXIT_CANTCREAT, "unable to write into '%s': %s", bdir,
			    rc == WA_EEXIST ? "too many backups this second" : wa_strerror(rc));
		snprintf(shown, sizeof shown, "%s/%s", bdir, name);
	}

	if (!tostdout) {
		/* an archive inside the folder could replace an auth file */
		struct stat a, o;
		if (fstat(ofd, &o) == 0 && ((fstat(ad->fd, &a) == 0 && a.st_dev == o.st_dev && a.st_ino == o.st_ino) ||
		    (ad->wafd >= 0 && fstat(ad->wafd, &a) == 0 && a.st_dev == o.st_dev && a.st_ino == o.st_ino)))
			tool_die(WA_EXIT_USAGE, "refusing to write '%s' into the auth folder '%s'", shown, ad->path);
	}
	if (!tostdout && (rc = wa_durable_begin(&w, ofd, name, ofd)) < 0)
		tool_die(create_exit(rc), "unable to create '%s': %s", shown, wa_strerror(rc));
	/* by default, refuse what would not restore a session (-f: archive it
	 * anyway; retention never counts such an archive) */
	flags = force ? 0 : WA_BACKUP_CREDS_VALID | WA_BACKUP_AUTHLIKE;
	rc = tostdout ?
	    wa_backup_write_flags(&rep, ad->fd, ad->path, folder, now, flags, wa_backup_out_fd, &stdoutfd,
	    warn, NULL, &why) :
	    wa_backup_write_flags(&rep, ad->fd, ad->path, folder, now, flags, wa_backup_out_durable, w,
	    warn, NULL, &why);
	if (rc < 0) {
		int saved = errno;
		wa_durable_abort(w);
		errno = saved;
		/* one cause, one code: too big (a file over 64 MiB, the folder
		 * over 1 GiB) is 65, like a broken creds.json */
		if (rc == WA_ETOOBIG)
			tool_die(WA_EXIT_DATAERR, "%s; nothing written", why.text);
		if (rc == WA_ECORRUPT)
			tool_die(WA_EXIT_DATAERR, "%s; nothing written (use -f to archive it anyway)", why.text);
		tool_die(tool_exit_for(rc), "%s%s%s", why.text, tostdout ? "" : "; nothing written to ",
		    tostdout ? "" : shown);
	}
	if (w && (rc = wa_durable_commit(w)) < 0)
		tool_die(WA_EXIT_IOERR, "unable to write '%s': %s", shown, wa_strerror(rc));
	if (!output && (rc = wa_backup_retain(ofd, folder, (size_t)keep, name, removed, (void *)bdir)) < 0)
		tool_err("warning: unable to remove old backups in '%s': %s", bdir, wa_strerror(rc));
	if (!output && keepdays && (rc = wa_backup_retain_age(ofd, folder, (long long)keepdays * 86400, now, name,
	    removed, (void *)bdir)) < 0)
		tool_err("warning: unable to remove old backups in '%s': %s", bdir, wa_strerror(rc));

	if (!tostdout && printf("%s\n", shown) < 0)
		tool_die(WA_EXIT_IOERR, "standard output: %s", strerror(errno));
	if (!quiet) {
		char again[64] = "";
		if (rep.rereads)
			snprintf(again, sizeof again, "; %zu read again (changed while read)", rep.rereads);
		tool_err("'%s' -> '%s': %zu files, %llu bytes, %s%s%s%s",
		    ad->path, shown, rep.files, rep.bytes, rep.account[0] ? "account " : "not paired", rep.account,
		    rep.invalid ? " (some files did not parse: see the warnings)" : "", again);
	}
	if (rep.creds == 0)
		tool_err("warning: '%s/%s' did not parse: this archive cannot restore the session, and "
		    "retention does not count it", ad->path, WA_CREDS);
	if (fflush(stdout) != 0)
		tool_die(WA_EXIT_IOERR, "standard output: %s", strerror(errno));
	if (ofd >= 0)
		close(ofd);
	wa_authdir_close(ad);
	free(folder);
	free(fparent);
	free(defbdir);
	free(oparent);
	free(obase);
	return 0;
}

/*
 * wa-pair - link an auth folder to a WhatsApp account as a new companion
 * device: a QR code in the terminal (or QR strings for a script, or a code
 * to type on the phone), the phone's answer verified, the credentials on
 * disk before the phone is told, then the first login and the initial
 * pre-keys.
 *
 * The protocol is in lib/pairing.c (the registration connection) and
 * lib/session.c (the login that follows the 515); this file holds the
 * options, the folder checks, the screen and the exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "store/authdir.h"
#include "ops/backup.h"
#include "ops/event.h"
#include "ops/notify.h"
#include "store/creds.h"
#include "crypto/credsgen.h"
#include "store/durable.h"
#include "base/file.h"
#include "store/fname.h"
#include "store/names.h"
#include "crypto/pair.h"
#include "session/pairing.h"
#include "ops/qr.h"
#include "ops/status.h"
#include "base/loop.h"
#include "store/quarantine.h"
#include "store/scan.h"
#include "session/session.h"
#include "tool.h"

#define USAGE "wa-pair [-fhv] [--version] [-B dir] [-d dir] [-t duration] [--debug] [--phone number] " \
	"[--qr-text] [--qr-time first[,next]] [--qr-png file] [--qr-svg file] [--on-event command] " \
	"[--webhook url]"

#define HEADER "Scan with WhatsApp on your phone: Settings > Linked devices > Link a device"
#define QR_SCALE 8	/* pixels a module in the --qr-png / --qr-svg images */
#define NOTIFY_FDS 16	/* descriptors the notifications may poll */
#define GRACE_MS 3000	/* at exit: pending notifications get this long */

#define CODE_HEADER "On your phone: WhatsApp > Settings > Linked devices > Link a device >\n" \
	"Link with phone number instead, then enter this code:"

static volatile sig_atomic_t got_signal, got_winch;

static void
on_signal(int sig)
{
	if (sig == SIGWINCH)
		got_winch = 1;
	else
		got_signal = sig;
}

/* ---- the screen ------------------------------------------------------------ */

struct ui {
	int verbose;		/* 1: -v, 2: --debug */
	int text;		/* --qr-text: QR strings on stdout, one per line */
	int tty;		/* stdout is a terminal we draw on */
	int err_tty;		/* stderr is a terminal */
	int lines;		/* lines of the display above its status line; -1: none shown */
	int dirty;		/* the display was cleared for a message: draw it again */
	char *qr;		/* the current QR string (a secret: wiped) */
	char code[16];		/* the current pairing code */
	int n, total;
	long long expires;	/* monotonic ms when the current code expires */
	int phase_codes;	/* codes are being shown */
	unsigned prekeys_up;
	int prekeys_rc;
	int online;
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Remove the display (QR or code, and its status line) from the screen. */
static void
ui_clear(struct ui *u)
{
	if (!u->tty || u->lines < 0)
		return;
	if (u->lines > 0)
		printf("\r\033[%dA\033[J", u->lines);
	else
		printf("\r\033[K");
	fflush(stdout);
	u->lines = -1;
}

static void
ui_status(struct ui *u)
{
	long long left;

	if (!u->tty || u->lines < 0)
		return;
	left = (u->expires - mono_ms() + 999) / 1000;
	if (left < 0)
		left = 0;
	if (u->qr)
		printf("\r\033[KQR code %d of %d, expires in %lld s%s", u->n, u->total, left,
		    u->n < u->total ? " (a new one follows)" : "");
	else
		printf("\r\033[KThe code expires in %lld s", left);
	fflush(stdout);
}

static void
terminal_size(int *cols, int *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* Draw the current QR (or code) with its status line. */
static void
ui_draw(struct ui *u)
{
	struct wa_qr qr;
	int cols, rows, quiet, w, h;
	size_t n;
	char *buf;

	if (!u->tty || !u->phase_codes)
		return;
	ui_clear(u);
	u->dirty = 0;
	if (!u->qr) {
		printf("%s\n\n    %s\n\n", CODE_HEADER, u->code);
		u->lines = 5;
		ui_status(u);
		return;
	}
	terminal_size(&cols, &rows);
	if (wa_qr_encode(&qr, u->qr) < 0) {
		printf("(cannot draw the QR code; use --qr-text)\n");
		u->lines = 1;
		ui_status(u);
		return;
	}
	quiet = wa_qr_fits(&qr, cols, rows - 2);
	if (!quiet) {
		wa_qr_size(&qr, WA_QR_QUIET_MIN, &w, &h);
		printf("The terminal (%dx%d) is too small for the QR code (%dx%d): enlarge the window\n",
		    cols, rows, w, h + 2);
		u->lines = 1;
	} else {
		n = wa_qr_render_size(&qr, quiet, 0);
		if ((buf = malloc(n)) && wa_qr_render(buf, n, NULL, NULL, &h, &qr, quiet, 0) == 0) {
			printf("%s\n%s", HEADER, buf);
			u->lines = h + 1;
		} else {
			printf("(cannot draw the QR code; use --qr-text)\n");
			u->lines = 1;
		}
		free(buf);
	}
	wa_qr_free(&qr);
	ui_status(u);
}

/* One line on stderr, with the display out of its way. */
static void __attribute__((format(printf, 2, 3)))
ui_msg(struct ui *u, const char *fmt, ...)
{
	va_list ap;

	if (u->tty && u->lines >= 0 && u->err_tty) {
		ui_clear(u);
		u->dirty = 1;
	}
	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
ui_forget_qr(struct ui *u)
{
	if (u->qr) {
		OPENSSL_cleanse(u->qr, strlen(u->qr));
		free(u->qr);
		u->qr = NULL;
	}
}

/* The codes are over (scanned, expired, failed): take them off the screen. */
static void
ui_codes_done(struct ui *u)
{
	ui_clear(u);
	ui_forget_qr(u);
	OPENSSL_cleanse(u->code, sizeof u->code);
	u->phase_codes = 0;
	u->dirty = 0;
}


/* --qr-png / --qr-svg: one image file, rewritten durably per code */
struct qrfile {
	const char *path;	/* as given; NULL: none */
	char *base;		/* its name in dirfd */
	int dirfd;		/* its folder; -1: none */
	int png;		/* PNG, else SVG */
	int written;
};

struct run {
	struct ui *u;
	struct wa_authdir *ad;
	struct qrfile files[2];	/* --qr-png, --qr-svg */
	struct wa_notify *notify;	/* --on-event, --webhook; NULL: none */
	unsigned long seq;	/* events */
	char *absdir;		/* the folder, absolute, for the events */
	int replace;		/* -f: move the old pairing's files aside once verified */
	char quarantined[WA_QUARANTINE_NAME_MAX];
	size_t moved;
};

static void
logcb(void *arg, enum wa_log_level lv, const char *line)
{
	struct run *r = arg;

	if (lv <= WA_LOG_WARN || (lv == WA_LOG_INFO && r->u->verbose >= 1) || r->u->verbose >= 2)
		ui_msg(r->u, "%s", line);
}

/* ---- QR files and events ------------------------------------------------------ */

/* An event to --on-event and --webhook (every wa-pair event is delivered);
 * takes fields. */
static void
emit(struct run *r, enum wa_event_type t, enum wa_state st, const char *reason, json_t *fields)
{
	struct wa_event e;

	if (!r->notify) {
		json_decref(fields);
		return;
	}
	wa_event_init(&e, t, st);
	e.seq = ++r->seq;
	e.dir = r->absdir;
	e.reason = reason;
	e.fields = fields;
	if (wa_notify_event(r->notify, &e) < 0)
		tool_err("warning: out of memory: the %s event is not delivered", wa_event_name(t));
	json_decref(fields);
}

static void
notify_log(void *arg, enum wa_notify_log kind, const char *line)
{
	(void)arg;
	tool_err("%s%s", kind == WA_NOTIFY_LOST ? "warning: " : "", line);
}

/* The file's folder, opened once before pairing: a missing folder is
 * said before any code is shown. */
static void
qrfile_open(struct qrfile *f, const char *path, int png, const char *opt)
{
	char *parent = NULL;
	int rc;

	f->path = path;
	f->png = png;
	f->dirfd = -1;
	if (!path)
		return;
	if ((rc = wa_backup_path_split(&parent, &f->base, path)) < 0)
		tool_die(WA_EXIT_CANTCREAT, "%s: unable to write '%s': %s", opt, path, wa_strerror(rc));
	if ((f->dirfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		tool_die(WA_EXIT_CANTCREAT, "%s: unable to write '%s': '%s': %s", opt, path, parent, strerror(errno));
	free(parent);
}

/* The code as an image, durably over the last one: a reader sees the old
 * code or the new one, never half of either. */
static void
qrfile_write(struct qrfile *f, const struct wa_qr *qr)
{
	unsigned char *png = NULL;
	char *svg = NULL;
	size_t len;
	int rc;

	if (f->dirfd < 0)
		return;
	rc = f->png ? wa_qr_png(&png, &len, qr, QR_SCALE) : wa_qr_svg(&svg, &len, qr, QR_SCALE);
	if (rc == 0)
		rc = wa_durable_put(f->dirfd, f->base, f->dirfd, f->png ? (void *)png : (void *)svg, len);
	if (rc < 0)
		tool_err("warning: unable to write '%s': %s", f->path, rc == WA_ESYS ? strerror(errno) : wa_strerror(rc));
	else
		f->written = 1;
	if (png)
		OPENSSL_cleanse(png, len);
	if (svg)
		OPENSSL_cleanse(svg, len);
	free(png);
	free(svg);
}

/* The codes are over: the image goes (a stale code can only fail). */
static void
qrfile_done(struct qrfile *f)
{
	struct wa_durable_batch *b = NULL;
	int rc = 0;

	if (f->dirfd < 0)
		return;
	/* through the durable layer: the removal reaches the disk (a power
	 * cut cannot bring a dead code back) */
	if (f->written && (rc = wa_durable_batch_begin(&b, f->dirfd, f->dirfd)) == 0 &&
	    (rc = wa_durable_batch_unlink(b, f->base)) == 0)
		rc = wa_durable_batch_commit(b);
	else if (b)
		wa_durable_batch_abort(b);
	if (rc < 0 && !(rc == WA_ESYS && errno == ENOENT))
		tool_err("warning: unable to remove '%s': %s", f->path, rc == WA_ESYS ? strerror(errno) :
		    wa_strerror(rc));
	f->written = 0;
	close(f->dirfd);
	f->dirfd = -1;
	free(f->base);
	f->base = NULL;
}

/* A new QR code: the image files, then the qr event. */
static void
qr_outputs(struct run *r, const char *qr, int n, int total, int valid_ms)
{
	struct wa_qr sym;
	const char *hash, *comma;
	char when[40];
	int i;

	if (r->files[0].dirfd >= 0 || r->files[1].dirfd >= 0) {
		if (wa_qr_encode(&sym, qr) == 0) {
			for (i = 0; i < 2; i++)
				qrfile_write(&r->files[i], &sym);
			wa_qr_free(&sym);
		} else {
			tool_err("warning: cannot encode the QR code as an image");
		}
	}
	if (!r->notify)
		return;
	hash = strchr(qr, '#');
	hash = hash ? hash + 1 : qr;
	comma = strchr(hash, ',');
	wa_time_iso(when, sizeof when, wa_clock_wall_ms() + valid_ms);
	emit(r, WA_EV_QR, WA_ST_CONNECTING, NULL, json_pack("{s:s, s:s#, s:i, s:i, s:i, s:s}",
	    "qr", qr, "ref", hash, (int)(comma ? (size_t)(comma - hash) : strlen(hash)),
	    "n", n, "total", total, "valid_ms", valid_ms, "expires", when));
}

static void
qr_outputs_done(struct run *r)
{
	qrfile_done(&r->files[0]);
	qrfile_done(&r->files[1]);
}

/* The notifications' descriptors, after those of the connection; *t the
 * shorter of the two waits. */
static int
notify_fds(struct run *r, struct pollfd *fds, int *t)
{
	int nt = -1, m;

	if (!r->notify)
		return 0;
	m = wa_notify_pollfds(r->notify, fds, NOTIFY_FDS, &nt);
	if (nt >= 0 && (*t < 0 || nt < *t))
		*t = nt;
	return m;
}

/* At exit: the events still queued or running get GRACE_MS. */
static void
notify_finish(struct run *r)
{
	long long end = mono_ms() + GRACE_MS;
	size_t left;

	if (!r->notify)
		return;
	while (wa_notify_pending(r->notify) && mono_ms() < end) {
		struct pollfd fds[NOTIFY_FDS];
		int t = -1, m = wa_notify_pollfds(r->notify, fds, NOTIFY_FDS, &t);
		long long rest = end - mono_ms();
		if (t < 0 || t > rest)
			t = (int)rest;
		if (poll(fds, (nfds_t)m, t) < 0 && errno != EINTR)
			break;
		wa_notify_process(r->notify, fds, m);
	}
	if ((left = wa_notify_pending(r->notify)))
		tool_err("warning: %zu notifications not delivered before exit", left);
	wa_notify_free(r->notify);
	r->notify = NULL;
}

static const char *
status_word(enum wa_pairing_status st, int sig)
{
	switch (st) {
	case WA_PAIRING_EXPIRED: return "expired";
	case WA_PAIRING_TIMEOUT: return "timeout";
	case WA_PAIRING_CLOSED: return "closed";
	case WA_PAIRING_REFUSED: return "refused";
	case WA_PAIRING_FORGED: return "forged";
	case WA_PAIRING_STORAGE: return "storage";
	case WA_PAIRING_ABORTED: return sig ? "interrupted" : "aborted";
	default: return "failed";
	}
}

/* ---- pairing callbacks ---------------------------------------------------------- */

static void
on_qr(void *arg, const char *qr, int n, int total, int valid_ms)
{
	struct run *r = arg;
	struct ui *u = r->u;

	u->n = n;
	u->total = total;
	u->expires = mono_ms() + valid_ms;
	qr_outputs(r, qr, n, total, valid_ms);
	if (!u->text && !u->tty)
		return;		/* the files and events only */
	if (u->text) {
		printf("%s\n", qr);
		fflush(stdout);
		fprintf(stderr, "%s: QR code %d of %d on standard output, valid for %d s\n", tool_name,
		    n, total, (valid_ms + 999) / 1000);
		return;
	}
	ui_forget_qr(u);
	if (!(u->qr = strdup(qr)))
		return;
	u->phase_codes = 1;
	ui_draw(u);
	if (!u->err_tty)
		fprintf(stderr, "%s: QR code %d of %d shown, valid for %d s\n", tool_name, n, total,
		    (valid_ms + 999) / 1000);
}

static void
on_code(void *arg, const char *code, int valid_ms)
{
	struct run *r = arg;
	struct ui *u = r->u;

	snprintf(u->code, sizeof u->code, "%s", code);
	u->expires = mono_ms() + valid_ms;
	if (!u->tty) {
		printf("%s\n", code);
		fflush(stdout);
		fprintf(stderr, "%s: pairing code on standard output, valid for %d s: on the phone, "
		    "WhatsApp > Settings > Linked devices > Link a device > Link with phone number instead\n",
		    tool_name, (valid_ms + 999) / 1000);
		return;
	}
	u->phase_codes = 1;
	ui_draw(u);
	if (!u->err_tty)
		fprintf(stderr, "%s: pairing code shown, valid for %d s\n", tool_name, (valid_ms + 999) / 1000);
}

static void
on_scanned(void *arg)
{
	struct run *r = arg;

	ui_codes_done(r->u);
	ui_msg(r->u, "the phone answered; checking its pair-success");
}

/* Files that belong to the identity a pairing replaces (sessions, keys,
 * app state ...): everything Baileys' key store writes. */
static int
identity_file(const struct wa_scan_entry *e)
{
	if (e->kind != WA_SCAN_FILE && e->kind != WA_SCAN_SYMLINK)
		return 0;
	return e->type != WA_FT_CREDS && e->type != WA_FT_OTHER && e->type != WA_FT_OTHER_JSON;
}

static int
on_verified(void *arg, const json_t *paired, struct wa_why *why)
{
	struct run *r = arg;
	struct wa_quarantine *q = NULL;
	struct wa_scan *sc = NULL;
	size_t i;
	int rc;

	ui_msg(r->u, "pair-success verified: the phone links %s",
	    json_string_value(json_object_get(json_object_get(paired, "me"), "id")));
	if (!r->replace)
		return 0;
	/* the old identity's files go to quarantine before the new creds.json
	 * arrives: a crash in between leaves the old creds without them (the
	 * backup has everything), never new creds with old sessions */
	if ((rc = wa_scan_dir(&sc, r->ad->fd)) < 0)
		return wa_why_set(why, rc, "'%s': %s", r->ad->path, wa_strerror(rc));
	for (i = 0; i < sc->n; i++) {
		if (!identity_file(&sc->e[i]))
			continue;
		if (!q && (rc = wa_quarantine_begin(&q, r->ad, time(NULL))) < 0)
			break;
		if ((rc = wa_quarantine_move(q, r->ad->fd, sc->e[i].name)) < 0)
			break;
		r->moved++;
	}
	if (q)
		snprintf(r->quarantined, sizeof r->quarantined, "%s", q->name);
	if (rc < 0 && q)
		wa_why_set(why, rc, "unable to move '%s/%s' to quarantine: %s", r->ad->path, sc->e[i].name,
		    wa_strerror(rc));
	else if (rc < 0)
		wa_why_set(why, rc, "'%s/%s/%s': %s", r->ad->path, WA_SUBDIR, WA_QUARANTINE, wa_strerror(rc));
	/* the moves are on disk before the new creds.json is */
	else if (q && (rc = wa_quarantine_commit(q)) < 0)
		wa_why_set(why, rc, "moved the old files to '%s/%s/%s/%s', but could not flush that to disk: %s",
		    r->ad->path, WA_SUBDIR, WA_QUARANTINE, r->quarantined, wa_strerror(rc));
	wa_quarantine_end(q);
	wa_scan_free(sc);
	if (rc >= 0 && r->moved)
		ui_msg(r->u, "moved %zu files of the previous pairing to '%s/%s/%s/%s'", r->moved, r->ad->path,
		    WA_SUBDIR, WA_QUARANTINE, r->quarantined);
	return rc < 0 ? rc : 0;
}

static void
on_saved(void *arg, const json_t *paired)
{
	struct run *r = arg;

	(void)paired;
	ui_msg(r->u, "credentials saved in '%s/%s'", r->ad->path, WA_CREDS);
}

/* ---- session callbacks ------------------------------------------------------------- */

static void
on_prekeys(void *arg, struct wa_session *s, const struct wa_session_prekeys *p)
{
	struct run *r = arg;

	(void)s;
	r->u->prekeys_rc = p->rc;
	if (p->rc < 0)
		return;		/* the session logged it */
	r->u->prekeys_up += p->uploaded;
	if (p->uploaded)
		ui_msg(r->u, "%u pre-keys uploaded (%u..%u)", p->uploaded, p->first, p->last);
	else
		ui_msg(r->u, "the server already holds %ld pre-keys", p->server_count);
}

static void
on_online(void *arg, struct wa_session *s)
{
	struct run *r = arg;

	r->u->online = 1;
	wa_session_close(s);
}

/* ---- the event loop ------------------------------------------------------------------ */

/* Wait for the connection or a signal; keep the countdown going. */
static void
wait_once(struct ui *u, struct pollfd *fds, int n, int timeout, const sigset_t *mask)
{
	struct timespec ts, *tp = NULL;
	long long tick;

	if (u->tty && u->phase_codes) {
		tick = 1000 - (mono_ms() % 1000);
		if (timeout < 0 || timeout > tick)
			timeout = (int)tick;
	}
	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000;
		tp = &ts;
	}
	if (ppoll(fds, (nfds_t)n, tp, mask) < 0 && errno != EINTR)
		tool_die(WA_EXIT_SOFTWARE, "poll: %s", strerror(errno));
	if (got_winch) {
		got_winch = 0;
		u->dirty = 1;
	}
	if (u->dirty)
		ui_draw(u);
	else
		ui_status(u);
}

/* ---- the folder -------------------------------------------------------------------- */


static void
backup_warn(void *arg, const char *line)
{
	(void)arg;
	tool_err("warning: %s", line);
}

static void
backup_removed(void *arg, const char *name)
{
	tool_err("removed old backup '%s/%s'", (const char *)arg, name);
}

/* The -f backup: what wa-backup writes, where wa-backup writes it, with
 * wa-backup's default retention (the newest WA_BACKUP_KEEP usable ones). */
static void
take_backup(struct wa_authdir *ad, const char *bdir)
{
	struct wa_backup_report rep;
	struct wa_durable *w = NULL;
	struct wa_why why = { "" };
	char *folder = NULL, *fparent = NULL, *defbdir = NULL, name[512];
	time_t now = time(NULL);
	int ofd, rc;

	if ((rc = wa_backup_path_split(&fparent, &folder, ad->path)) < 0)
		tool_die(tool_exit_for(rc), "'%s': %s", ad->path, wa_strerror(rc));
	if ((rc = wa_backup_dir(&defbdir, ad->path, tool_backup_dir(bdir))) < 0)
		tool_die(tool_exit_for(rc), "'%s': %s", ad->path, wa_strerror(rc));
	bdir = defbdir;
	if ((ofd = wa_backup_dir_open(bdir, &why)) < 0)
		tool_die(ofd == WA_ESYNC ? WA_EXIT_IOERR : WA_EXIT_CANTCREAT, "backup before -f failed: %s", why.text);
	if ((rc = wa_backup_new_name(name, sizeof name, ofd, folder, now)) < 0)
		tool_die(WA_EXIT_CANTCREAT, "unable to write into '%s': %s", bdir,
		    rc == WA_EEXIST ? "too many backups this second" : wa_strerror(rc));
	if ((rc = wa_durable_begin(&w, ofd, name, ofd)) < 0)
		tool_die(WA_EXIT_CANTCREAT, "unable to create '%s/%s': %s; nothing changed", bdir, name,
		    wa_strerror(rc));
	rc = wa_backup_write(&rep, ad->fd, ad->path, folder, now, wa_backup_out_durable, w, backup_warn, NULL, &why);
	if (rc < 0) {
		int saved = errno;
		wa_durable_abort(w);
		errno = saved;
		tool_die(tool_exit_for(rc), "backup before -f failed: %s; nothing changed", why.text);
	}
	if ((rc = wa_durable_commit(w)) < 0)
		tool_die(WA_EXIT_IOERR, "backup before -f failed: unable to write '%s/%s': %s; nothing changed",
		    bdir, name, wa_strerror(rc));
	tool_err("backed up '%s' (%zu files%s%s) to '%s/%s'", ad->path, rep.files,
	    rep.account[0] ? ", account " : ", not paired", rep.account, bdir, name);
	if ((rc = wa_backup_retain(ofd, folder, WA_BACKUP_KEEP, name, backup_removed, (void *)bdir)) < 0)
		tool_err("warning: unable to remove old backups in '%s': %s", bdir, wa_strerror(rc));
	close(ofd);
	free(folder);
	free(fparent);
	free(defbdir);
}

/* Whether the folder holds auth files of some pairing (besides creds.json). */
static size_t
identity_files(struct wa_authdir *ad)
{
	struct wa_scan *sc = NULL;
	size_t i, n = 0;

	if (wa_scan_dir(&sc, ad->fd) < 0)
		tool_die(WA_EXIT_IOERR, "unable to read '%s': %s", ad->path, strerror(errno));
	for (i = 0; i < sc->n; i++)
		n += identity_file(&sc->e[i]);
	wa_scan_free(sc);
	return n;
}

/* The credentials to pair with: fresh keys, or those of an unpaired
 * creds.json (its keys have never been linked to anything).  Refusals
 * exit.  dry: only decide (on a read-only open, before anything is
 * created or locked); the decision is made again under the lock. */
static json_t *
starting_creds(struct wa_authdir *ad, int force, const char *bdir, int *replace, int dry)
{
	struct wa_creds_info info;
	struct wa_why why = { "" };
	json_t *creds = NULL;
	size_t others;
	int rc;

	*replace = 0;
	rc = wa_json_read(&creds, ad->fd, WA_CREDS, ad->path, &why);
	if (rc == WA_ENOTFOUND) {
		if ((others = identity_files(ad)) > 0 && !force)
			tool_die(WA_EXIT_DATAERR, "'%s' has no %s but holds %zu other auth files: "
			    "run wa-check to see what happened and wa-restore to bring a backup back, "
			    "or use -f to pair it anyway (a backup is taken first)", ad->path, WA_CREDS, others);
		if (others && !dry) {
			take_backup(ad, bdir);
			*replace = 1;
		}
		creds = NULL;
	} else if (rc == WA_EUNSAFE) {
		tool_die(WA_EXIT_NOPERM, "%s; refusing to touch it", why.text);
	} else if (rc < 0 && rc != WA_ECORRUPT && rc != WA_ETOOBIG) {
		tool_die(tool_exit_for(rc), "%s", why.text);
	} else {
		if (rc == 0)
			wa_creds_inspect(&info, creds);
		if (rc < 0 || !info.complete) {
			if (!force)
				tool_die(WA_EXIT_DATAERR, "'%s/%s' is unreadable (%s): wa-pair never makes new keys "
				    "over credentials it cannot read; run wa-check to see what is wrong and wa-restore "
				    "to bring a backup back, or use -f to pair anew (a backup is taken first)",
				    ad->path, WA_CREDS, rc < 0 ? why.text : info.problem);
			if (!dry)
				take_backup(ad, bdir);
			*replace = 1;
			json_decref(creds);
			creds = NULL;
		} else if (info.paired) {
			if (!force)
				tool_die(WA_EXIT_PAIR_PAIRED, "'%s' is already paired as %s; use -f to pair it again "
				    "(a backup is taken first and the old keys are set aside)", ad->path, info.me);
			if (!dry)
				take_backup(ad, bdir);
			*replace = 1;
			json_decref(creds);
			creds = NULL;
		} else if (!dry) {
			tool_err("using the unpaired keys in '%s/%s'", ad->path, WA_CREDS);
		}
	}
	if (dry) {
		json_decref(creds);
		return NULL;
	}
	if (!creds && (rc = wa_creds_generate(&creds)) < 0)
		tool_die(tool_exit_for(rc), "cannot make keys: %s", wa_strerror(rc));
	return creds;
}

/* "30" or "60,20" seconds into ms. */
static int
qr_times(const char *s, int *first, int *next)
{
	char buf[64], *comma;
	long a, b;

	if (strlen(s) >= sizeof buf)
		return -1;
	snprintf(buf, sizeof buf, "%s", s);
	if ((comma = strchr(buf, ',')))
		*comma++ = 0;
	a = tool_duration(buf);
	b = comma ? tool_duration(comma) : a;
	if (a <= 0 || b <= 0 || a > 3600 || b > 3600)
		return -1;
	*first = (int)(a * 1000);
	*next = (int)(b * 1000);
	return 0;
}

/* Digits only: "+1 (555) 000-2345" is 15550002345. */
static char *
phone_digits(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			*o++ = *s;
		else if (!strchr("+ -().", *s))
			tool_die(WA_EXIT_USAGE, "--phone: '%c' is not part of a phone number", *s);
	}
	*o = 0;
	return out;
}

/* An estimate before connecting: does a QR of the usual size fit? */
static void
check_terminal(void)
{
	static const char k44[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	char text[512];
	struct wa_qr qr;
	int cols, rows, w, h;

	/* a ref of 90 bytes (what WhatsApp sends) and three base64 keys */
	snprintf(text, sizeof text, "%s2@%.88s,%s,%s,%s,1", WA_PAIR_QR_PREFIX,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/abcdefghijklmnopqrstuvwxyzABCDEF",
	    k44, k44, k44);
	terminal_size(&cols, &rows);
	if (wa_qr_encode(&qr, text) < 0)
		return;
	if (!wa_qr_fits(&qr, cols, rows - 2)) {
		wa_qr_size(&qr, WA_QR_QUIET_MIN, &w, &h);
		wa_qr_free(&qr);
		tool_die(WA_EXIT_PAIR_TERMINAL, "the terminal (%dx%d) is too small for the QR code (it needs "
		    "about %dx%d): enlarge the window, or use --qr-text to print the QR strings, or --phone "
		    "NUMBER to get a code to type on the phone", cols, rows, w, h + 2);
	}
	wa_qr_free(&qr);
}

static int
pairing_exit(const struct wa_pairing_outcome *o, int sig)
{
	switch (o->status) {
	case WA_PAIRING_EXPIRED: return WA_EXIT_PAIR_EXPIRED;
	case WA_PAIRING_TIMEOUT: return WA_EXIT_PAIR_TIMEOUT;
	case WA_PAIRING_CLOSED: return WA_EXIT_PAIR_CLOSED;
	case WA_PAIRING_REFUSED: return WA_EXIT_PAIR_REFUSED;
	case WA_PAIRING_FORGED: return WA_EXIT_PAIR_FORGED;
	case WA_PAIRING_STORAGE: return o->rc == WA_ENOMEM ? WA_EXIT_SOFTWARE : WA_EXIT_IOERR;
	case WA_PAIRING_ABORTED: return sig ? 128 + sig : WA_EXIT_SOFTWARE;
	default: return WA_EXIT_SOFTWARE;
	}
}

static const char *
pairing_hint(const struct wa_pairing_outcome *o, int phone)
{
	switch (o->status) {
	case WA_PAIRING_EXPIRED: return "; nothing was written: run wa-pair again and scan sooner";
	case WA_PAIRING_TIMEOUT:
	case WA_PAIRING_CLOSED: return "; nothing was written: check the network and run wa-pair again";
	case WA_PAIRING_REFUSED: return phone ? "; nothing was written: check the number (country "
		"code, no leading 0) and the code, and run wa-pair again" : "; nothing was written";
	case WA_PAIRING_FORGED: return "; nothing was written (this answer did not come from your "
		"phone: run wa-pair again, and report it if it repeats)";
	case WA_PAIRING_STORAGE: return "; the phone was not told: fix the disk and run wa-pair again";
	default: return "";
	}
}

/* ---- the steps of main ---------------------------------------------------------------- */

struct opts {
	const char *dir, *bdir;
	const char *png, *svg;	/* --qr-png, --qr-svg */
	const char *on_event, *webhook;
	char *phone;		/* --phone, digits only; NULL: QR codes */
	long step;		/* -t, seconds */
	int force, qr_first, qr_next;
};

static void
parse_options(struct opts *o, struct ui *u, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "debug", no_argument, NULL, 'D' },
		{ "phone", required_argument, NULL, 'P' },
		{ "qr-text", no_argument, NULL, 'T' },
		{ "qr-time", required_argument, NULL, 'Q' },
		{ "qr-png", required_argument, NULL, 'G' },
		{ "qr-svg", required_argument, NULL, 'S' },
		{ "on-event", required_argument, NULL, 'E' },
		{ "webhook", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dopt = NULL;
	int c;

	memset(o, 0, sizeof *o);
	o->step = 20;
	while ((c = getopt_long(argc, argv, "B:d:fht:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'B': o->bdir = optarg; break;
		case 'd': dopt = optarg; break;
		case 'f': o->force = 1; break;
		case 'h': tool_usage(USAGE, stdout, 0);
		case 'V': tool_version(WA_EXIT_IOERR);
		case 'v': if (u->verbose < 1) u->verbose = 1; break;
		case 'D': u->verbose = 2; break;
		case 'P': free(o->phone); o->phone = phone_digits(optarg); break;
		case 'T': u->text = 1; break;
		case 'G': o->png = optarg; break;
		case 'S': o->svg = optarg; break;
		case 'E': o->on_event = optarg; break;
		case 'W': o->webhook = optarg; break;
		case 't':
			if ((o->step = tool_duration(optarg)) == TOOL_TOOBIG || o->step > 3600) {
				tool_err("-t: '%s' is too large (at most 1h)", optarg);
				tool_usage(USAGE, stderr, WA_EXIT_USAGE);
			}
			if (o->step <= 0) {
				tool_err("-t: '%s' is not a duration (seconds, or 30s, 2m)", optarg);
				tool_usage(USAGE, stderr, WA_EXIT_USAGE);
			}
			break;
		case 'Q':
			if (qr_times(optarg, &o->qr_first, &o->qr_next) < 0) {
				tool_err("--qr-time: '%s' is not first[,next] in seconds (1 to 3600)", optarg);
				tool_usage(USAGE, stderr, WA_EXIT_USAGE);
			}
			break;
		default: tool_usage(USAGE, stderr, WA_EXIT_USAGE);
		}
	}
	if (optind != argc)
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	if (o->phone && (u->text || o->png || o->svg)) {
		tool_err("--phone pairs with a code, %s with QR codes: choose one",
		    u->text ? "--qr-text" : o->png ? "--qr-png" : "--qr-svg");
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	}
	if (!(o->dir = tool_authdir(dopt))) {
		tool_err("no auth folder: use -d DIR or set WA_AUTH_DIR");
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	}
}

/* Where the codes go; a QR code needs a terminal it fits on. */
static void
check_screen(struct ui *u, const struct opts *o)
{
	u->err_tty = isatty(2);
	u->tty = isatty(1) && !u->text;
	if (!o->phone && !u->text) {
		/* a dashboard or a script takes the codes from the files or
		 * the qr events: no terminal needed (a terminal on standard
		 * output still shows them, or says it is too small) */
		if (o->png || o->svg || o->on_event || o->webhook)
			return;
		if (!isatty(1))
			tool_die(WA_EXIT_PAIR_TERMINAL, "standard output is not a terminal to draw the QR code on: "
			    "use --qr-text to print the QR strings (they hold a secret: keep them out of logs), "
			    "or --phone NUMBER to get a code to type on the phone");
		check_terminal();
	}
}

/* The folder: refusals first, from a read-only look that changes nothing;
 * then the lock, and the same decision again under it.  Sets r->ad and
 * r->replace; returns the credentials to pair with. */
static json_t *
open_folder(struct run *r, const struct opts *o)
{
	struct wa_authdir *ad = NULL;
	struct wa_why why = { "" };
	struct stat st;
	int rc, created;

	created = lstat(o->dir, &st) < 0 && errno == ENOENT;
	if (!created) {
		rc = wa_authdir_open(&ad, o->dir, 0, tool_name, NULL, &why);
		if (rc < 0)
			tool_die(rc == WA_EINVAL ? WA_EXIT_NOINPUT : tool_exit_for(rc), "%s", why.text);
		/* a folder of other things (-d /etc): never made an auth folder */
		if ((rc = wa_backup_authlike(ad->fd)) == 0 && !o->force)
			tool_die(WA_EXIT_DATAERR, "'%s' does not look like an auth folder (no %s and no file named "
			    "like a Baileys auth file, but other files); refusing to pair into it (use -f to pair "
			    "anyway)", ad->path, WA_CREDS);
		if (rc < 0)
			tool_die(tool_exit_for(rc), "unable to read '%s': %s", ad->path, wa_strerror(rc));
		starting_creds(ad, o->force, o->bdir, &r->replace, 1);
		wa_authdir_close(ad);
		ad = NULL;
	}
	rc = wa_authdir_open(&ad, o->dir, WA_AUTHDIR_WRITE | WA_AUTHDIR_CREATE, tool_name, NULL, &why);
	if (rc < 0)
		tool_die(rc == WA_EINVAL ? WA_EXIT_NOINPUT : rc == WA_ESYS && created ? WA_EXIT_CANTCREAT :
		    tool_exit_for(rc), "%s", why.text);
	/* (a folder it created is already flushed into its parent) */
	r->ad = ad;
	return starting_creds(ad, o->force, o->bdir, &r->replace, 0);
}

/* --qr-png, --qr-svg, --on-event, --webhook. */
static void
outputs_open(struct run *r, const struct opts *o)
{
	struct wa_notify_opts no = WA_NOTIFY_OPTS_INIT;
	struct wa_why why = { "" };
	char **cmd = NULL;
	int rc;

	qrfile_open(&r->files[0], o->png, 1, "--qr-png");
	qrfile_open(&r->files[1], o->svg, 0, "--qr-svg");
	if (!o->on_event && !o->webhook)
		return;
	r->absdir = tool_absolute_dir(r->ad->path);
	if (o->on_event) {
		cmd = tool_split_words(o->on_event, "--on-event");
		tool_check_command(cmd[0], "--on-event", USAGE);
	}
	no.argv = cmd;
	no.url = o->webhook;
	no.auth_dir = r->absdir;
	no.all_events = 1;
	no.log = notify_log;
	if ((rc = wa_notify_new(&r->notify, &no, &why)) < 0)
		tool_die(rc == WA_EINVAL ? WA_EXIT_USAGE : WA_EXIT_SOFTWARE, "%s", why.text[0] ? why.text :
		    wa_strerror(rc));
	tool_free_words(cmd);	/* notify keeps its own copy */
}

/* Signals: an orderly end (the lock released, the screen cleaned).  They
 * stay blocked except while waiting; *orig is the mask to wait with. */
static void
catch_signals(sigset_t *orig)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGWINCH);
	sigprocmask(SIG_BLOCK, &block, orig);
}

static void
pairing_opts(struct wa_pairing_opts *po, struct run *r, const struct opts *o)
{
	memset(po, 0, sizeof *po);
	po->conn.debug = r->u->verbose >= 2;
	po->conn.log = logcb;
	tool_server_opts(&po->conn);
	po->conn.connect_timeout_ms = (int)o->step * 1000;
	po->conn.handshake_timeout_ms = (int)o->step * 1000;
	po->conn.iq_timeout_ms = (int)o->step * 1000;
	po->phone = o->phone;
	po->qr_first_ms = o->qr_first;
	po->qr_next_ms = o->qr_next;
	po->step_timeout_ms = (int)o->step * 1000;
	po->on_qr = on_qr;
	po->on_code = on_code;
	po->on_scanned = on_scanned;
	po->on_verified = on_verified;
	po->on_saved = on_saved;
	po->arg = r;
}

/* 1. The registration connection, up to the 515, by QR or by code.
 * Takes creds.  Returns WA_EXIT_OK with the saved credentials in *paired
 * (the caller's reference), or the exit code, the failure reported. */
static int
pair(json_t **paired, struct run *r, const struct opts *o, json_t *creds, const sigset_t *orig)
{
	struct wa_pairing_opts po;
	struct wa_pairing *p = NULL;
	const struct wa_pairing_outcome *out;
	struct wa_why why = { "" };
	int rc, code;

	pairing_opts(&po, r, o);
	rc = wa_pairing_open(&p, r->ad, creds, &po, &why);
	if (rc < 0)
		tool_die(rc == WA_EINVAL ? WA_EXIT_USAGE : WA_EXIT_SOFTWARE, "%s", why.text);
	while (!(out = wa_pairing_outcome(p))) {
		struct pollfd fds[WA_CONN_MAXFDS + NOTIFY_FDS];
		int t, n = wa_pairing_pollfds(p, fds, WA_CONN_MAXFDS, &t);
		int m = notify_fds(r, fds + n, &t);
		wait_once(r->u, fds, n + m, t, orig);
		if (r->notify)
			wa_notify_process(r->notify, fds + n, m);
		if (got_signal)
			wa_pairing_abort(p, "interrupted");
		wa_pairing_process(p);
	}
	ui_codes_done(r->u);
	qr_outputs_done(r);
	if (out->status != WA_PAIRING_PAIRED && out->status != WA_PAIRING_SAVED) {
		code = pairing_exit(out, got_signal);
		emit(r, WA_EV_FAILED, WA_ST_FAILED, out->status == WA_PAIRING_ABORTED && got_signal ?
		    "interrupted" : out->text, json_pack("{s:s, s:i}", "status",
		    status_word(out->status, got_signal), "exit_code", code));
		if (out->status == WA_PAIRING_ABORTED && got_signal)
			tool_err("interrupted; nothing was written");
		else
			tool_err("%s%s", out->text, pairing_hint(out, o->phone != NULL));
		wa_pairing_free(p);
		json_decref(creds);
		return code;
	}
	/* new credentials are saved: what the last wa-run reported (failed on
	 * an unpaired folder, logged_out ...) no longer describes the folder */
	if ((rc = wa_status_supersede(r->ad->wafd, r->ad->stagefd, tool_name, wa_clock_wall_ms())) < 0)
		tool_err("warning: unable to mark '%s/%s/%s' superseded: %s", r->ad->path, WA_SUBDIR, WA_STATUS,
		    wa_strerror(rc));
	if (out->status == WA_PAIRING_SAVED)
		tool_err("warning: %s; trying to log in anyway", out->text);
	*paired = json_incref(out->creds);
	wa_pairing_free(p);
	json_decref(creds);
	return WA_EXIT_OK;
}

static void
session_opts(struct wa_session_opts *so, struct run *r, const struct opts *o)
{
	memset(so, 0, sizeof *so);
	so->conn.debug = r->u->verbose >= 2;
	so->conn.log = logcb;
	tool_server_opts(&so->conn);
	so->conn.connect_timeout_ms = (int)o->step * 1000;
	so->conn.handshake_timeout_ms = (int)o->step * 1000;
	so->login_timeout_ms = (int)o->step * 1000;
	so->prekey_timeout_ms = (int)o->step * 1000;
	so->passive = 1;	/* we take no messages: let wa-run ask for them */
	so->on_prekeys = on_prekeys;
	so->on_online = on_online;
	so->arg = r;
}

/* How the first login ended, on stdout (success) or stderr; the exit code. */
static int
report(struct run *r, const struct wa_session_end *end, const json_t *paired)
{
	struct wa_creds_info info;
	struct ui *u = r->u;
	int code = WA_EXIT_OK;

	wa_creds_inspect(&info, paired);
	if (u->online && u->prekeys_rc == 0) {
		printf("linked %s, platform %s, %u pre-keys\n", info.me,
		    info.platform[0] ? info.platform : "unknown", u->prekeys_up);
	} else if (u->online) {
		tool_err("linked %s and saved in '%s/%s', but the pre-keys did not reach the server: "
		    "wa-run uploads them when it logs in", info.me, r->ad->path, WA_CREDS);
		code = WA_EXIT_PAIR_UNFINISHED;
	} else if (end->kind == WA_SESSION_END_STORAGE) {
		tool_err("%s; the credentials in '%s/%s' are saved", end->text, r->ad->path, WA_CREDS);
		code = WA_EXIT_IOERR;
	} else if (end->kind == WA_SESSION_END_FAILURE ||
	    (end->kind == WA_SESSION_END_STREAM_ERROR && strcmp(end->type, "device_removed") == 0)) {
		tool_err("the server refused the first login of %s (%s): the link did not hold; "
		    "pair again with wa-pair -f", info.me, end->text);
		code = WA_EXIT_PAIR_LOGIN;
	} else {
		tool_err("linked %s and saved in '%s/%s', but the first login did not finish (%s): "
		    "wa-run will log in and upload the pre-keys", info.me, r->ad->path, WA_CREDS, end->text);
		code = got_signal ? 128 + got_signal : WA_EXIT_PAIR_UNFINISHED;
	}
	emit(r, WA_EV_PAIRED, u->online ? WA_ST_ONLINE : WA_ST_STOPPED, NULL,
	    json_pack("{s:s, s:s?, s:s?, s:b, s:i}", "jid", info.me, "lid", info.lid[0] ? info.lid : NULL,
	    "platform", info.platform[0] ? info.platform : NULL, "login", u->online && u->prekeys_rc == 0,
	    "prekeys", (int)u->prekeys_up));
	if (fflush(stdout) != 0 && code == WA_EXIT_OK)
		code = WA_EXIT_IOERR;
	return code;
}

/* 2. The first login: <success>, the initial pre-keys.  Returns the exit
 * code, the outcome reported. */
static int
first_login(struct run *r, const struct opts *o, json_t *paired, const sigset_t *orig)
{
	struct wa_session_opts so;
	struct wa_session *s = NULL;
	struct wa_why why = { "" };
	int code;

	session_opts(&so, r, o);
	r->u->prekeys_rc = 0;
	if (wa_session_open(&s, r->ad, paired, &so, &why) < 0) {
		tool_err("credentials saved in '%s/%s', but the login cannot start: %s; wa-run will log in",
		    r->ad->path, WA_CREDS, why.text);
		return WA_EXIT_PAIR_UNFINISHED;
	}
	while (wa_session_state(s) != WA_SESSION_CLOSED) {
		struct pollfd fds[WA_CONN_MAXFDS + NOTIFY_FDS];
		int t, n = wa_session_pollfds(s, fds, WA_CONN_MAXFDS, &t);
		int m = notify_fds(r, fds + n, &t);
		wait_once(r->u, fds, n + m, t, orig);
		if (r->notify)
			wa_notify_process(r->notify, fds + n, m);
		if (got_signal && wa_session_end(s)->kind == WA_SESSION_END_NONE) {
			tool_err("interrupted during the first login");
			wa_session_close(s);
		}
		wa_session_process(s);
	}
	code = report(r, wa_session_end(s), paired);
	wa_session_free(s);
	return code;
}

int
main(int argc, char **argv)
{
	struct ui u;
	struct run r;
	struct opts o;
	sigset_t orig;
	json_t *creds, *paired = NULL;
	int code;

	tool_init("wa-pair");
	memset(&u, 0, sizeof u);
	memset(&r, 0, sizeof r);
	r.u = &u;
	u.lines = -1;
	parse_options(&o, &u, argc, argv);
	check_screen(&u, &o);
	creds = open_folder(&r, &o);
	outputs_open(&r, &o);
	catch_signals(&orig);
	if ((code = pair(&paired, &r, &o, creds, &orig)) == WA_EXIT_OK)
		code = first_login(&r, &o, paired, &orig);
	json_decref(paired);
	notify_finish(&r);
	qr_outputs_done(&r);
	wa_authdir_close(r.ad);
	free(r.absdir);
	free(o.phone);
	return code;
}

/*
 * wa-send - put one message (a text, a reaction, read receipts, a revoke)
 * into the outbox for wa-run to send, print its id, and with --wait wait
 * for the server's acknowledgement.
 *
 * wa-send never connects and never locks: it writes one job durably into
 * OUT/new (lib/spool/outbox.h: maildir semantics, many writers), so the
 * message survives a stopped or crashing wa-run and is sent when it runs.
 * Everything is checked before anything is written: a bad argument leaves
 * nothing behind.  --wait then watches OUT/status/ for the job's status
 * file, which only wa-run writes.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/json.h"
#include "msg/msgid.h"
#include "spool/outbox.h"
#include "store/authdir.h"
#include "store/creds.h"
#include "store/names.h"
#include "wire/jid.h"
#include "tool.h"

#define USAGE \
	"wa-send [-h] [--version] [-d dir] [--outbox dir] [--wait [seconds]] [--reply-to id] " \
	"[--participant jid] [--id id] to [text | -]\n" \
	"       wa-send [-d dir] [--outbox dir] [--wait [seconds]] [--participant jid] [--id id] " \
	"--react id to emoji\n" \
	"       wa-send [-d dir] [--outbox dir] [--wait [seconds]] [--participant jid] [--id id] " \
	"--read id[,id...] to\n" \
	"       wa-send [-d dir] [--outbox dir] [--wait [seconds]] [--id id] --revoke id to"

#define WAIT_DEFAULT 60
#define WAIT_MAX 86400          /* so a phone number is never taken for seconds */

enum { OPT_VERSION = 256, OPT_OUTBOX, OPT_WAIT, OPT_REPLY_TO, OPT_PARTICIPANT, OPT_ID, OPT_REACT,
	OPT_READ, OPT_REVOKE };

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "outbox", required_argument, NULL, OPT_OUTBOX },
	{ "wait", optional_argument, NULL, OPT_WAIT },
	{ "reply-to", required_argument, NULL, OPT_REPLY_TO },
	{ "participant", required_argument, NULL, OPT_PARTICIPANT },
	{ "id", required_argument, NULL, OPT_ID },
	{ "react", required_argument, NULL, OPT_REACT },
	{ "read", required_argument, NULL, OPT_READ },
	{ "revoke", required_argument, NULL, OPT_REVOKE },
	{ NULL, 0, NULL, 0 },
};

enum form { F_TEXT, F_REACT, F_READ, F_REVOKE };
static const char *const form_opt[] = { "", "--react", "--read", "--revoke" };

struct opts {
	const char *dir, *outbox, *reply_to, *participant, *id, *target;
	enum form form;
	long wait;              /* -1: no --wait */
	const char *to, *arg;   /* the operands: TO, then TEXT or EMOJI */
};

#define usage_error(...) tool_usage_err(USAGE, WA_EXIT_USAGE, __VA_ARGS__)

/* s for a message: bytes outside printable ASCII as '?', cut at 80. */
static const char *
shown(const char *s)
{
	static char buf[4][96];
	static int k;
	size_t i;

	k = (k + 1) % 4;
	for (i = 0; s[i] && i < 80; i++)
		buf[k][i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
	if (s[i])
		memcpy(buf[k] + i, "...", 4);
	else
		buf[k][i] = 0;
	return buf[k];
}

static void
set_form(struct opts *o, enum form f, const char *target)
{
	if (o->form != F_TEXT)
		usage_error("%s and %s: choose one", form_opt[o->form], form_opt[f]);
	o->form = f;
	o->target = target;
}

/* --wait's seconds: "--wait=N", or the next argument when it is a
 * duration of at most a day (a phone number never is: 6 digits or more,
 * not starting with 0) and operands remain after it. */
static long
wait_seconds(const char *optval, int argc, char **argv)
{
	const char *s = optval;
	long v;

	if (!s) {
		if (optind + 1 >= argc || argv[optind][0] == '-')
			return WAIT_DEFAULT;
		v = tool_duration(argv[optind]);
		if (v < 0 || v > WAIT_MAX)
			return WAIT_DEFAULT;
		optind++;
		return v;
	}
	v = tool_duration(s);
	if (v < 0 || v > WAIT_MAX)
		usage_error("--wait: '%s' is not a number of seconds up to %d", shown(s), WAIT_MAX);
	return v;
}

static void
parse(struct opts *o, int argc, char **argv)
{
	int c, need;

	memset(o, 0, sizeof *o);
	o->wait = -1;
	o->form = F_TEXT;
	/* '+': options before the operands, so a text may start with '-' */
	while ((c = getopt_long(argc, argv, "+hd:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': tool_usage(USAGE, stdout, WA_EXIT_OK);
		case OPT_VERSION: tool_version(WA_EXIT_IOERR);
		case 'd': o->dir = optarg; break;
		case OPT_OUTBOX: o->outbox = optarg; break;
		case OPT_WAIT: o->wait = wait_seconds(optarg, argc, argv); break;
		case OPT_REPLY_TO: o->reply_to = optarg; break;
		case OPT_PARTICIPANT: o->participant = optarg; break;
		case OPT_ID: o->id = optarg; break;
		case OPT_REACT: set_form(o, F_REACT, optarg); break;
		case OPT_READ: set_form(o, F_READ, optarg); break;
		case OPT_REVOKE: set_form(o, F_REVOKE, optarg); break;
		default: usage_error(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	need = o->form == F_REACT ? 2 : 1;
	if (argc < need)
		usage_error(o->form == F_REACT ? "missing TO or EMOJI" : "missing TO");
	if (argc > need + (o->form == F_TEXT))
		usage_error("too many arguments: '%s'", shown(argv[need + (o->form == F_TEXT)]));
	o->to = argv[0];
	o->arg = argc > 1 ? argv[1] : NULL;
	if (o->reply_to && o->form != F_TEXT)
		usage_error("--reply-to: only for a text");
	if (o->participant && (o->form == F_REVOKE || (o->form == F_TEXT && !o->reply_to)))
		usage_error("--participant: only with --reply-to, --react or --read");
	if (o->outbox && !*o->outbox)
		usage_error("--outbox: empty folder name");
}

/* ---- the job ---------------------------------------------------------- */

static void
check_id(const char *what, const char *id)
{
	if (!wa_outbox_id_ok(id))
		tool_die(WA_EXIT_USAGE, "%s \"%s\": not a message id (1 to 64 of A-Z a-z 0-9)", what, shown(id));
}

/* The text: the operand, or standard input for "-" or none (one final
 * newline dropped).  Checked: 1..WA_OUTBOX_TEXT_MAX bytes of UTF-8. */
static char *
read_text(const char *arg, size_t *len)
{
	char *buf;
	size_t n = 0, cap = WA_OUTBOX_TEXT_MAX + 2;

	if (arg && strcmp(arg, "-") != 0) {
		n = strlen(arg);
		if (!(buf = strdup(arg)))
			tool_die(WA_EXIT_SOFTWARE, "out of memory");
	} else {
		if (!(buf = malloc(cap + 1)))
			tool_die(WA_EXIT_SOFTWARE, "out of memory");
		for (;;) {
			size_t r = fread(buf + n, 1, cap - n, stdin);
			n += r;
			if (r == 0 || n == cap)
				break;
		}
		if (ferror(stdin))
			tool_die(WA_EXIT_IOERR, "unable to read the text from standard input: %s", strerror(errno));
		if (n && buf[n - 1] == '\n')
			n--;
		buf[n] = 0;
	}
	if (n == 0)
		tool_die(WA_EXIT_DATAERR, "the text is empty");
	if (n > WA_OUTBOX_TEXT_MAX)
		tool_die(WA_EXIT_DATAERR, "the text is over %d bytes", WA_OUTBOX_TEXT_MAX);
	if (!wa_outbox_utf8_ok(buf, n))
		tool_die(WA_EXIT_DATAERR, "the text is not valid UTF-8");
	*len = n;
	return buf;
}

static void
set(json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v) < 0)
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
}

/* {"id":ID, "participant":JID?} */
static json_t *
ref(const char *id, const char *participant)
{
	json_t *r = json_object();

	if (!r)
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	set(r, "id", json_string(id));
	if (participant)
		set(r, "participant", json_string(participant));
	return r;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when a job with id is in the outbox out (a message of ours), 0 when
 * not or when there is no outbox yet.  Reads only. */
static int
ours(const char *out, const char *id)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_outbox *ob;
	json_t *job;
	int rc;

	if ((rc = wa_outbox_open(&ob, out, 0, WA_OUTBOX_KEEP_DAYS, &why)) == WA_ENOTFOUND)
		return 0;
	if (rc < 0)
		tool_die(tool_exit_for(rc), "%s", wa_why_text(&why, rc));
	rc = wa_outbox_find(ob, id, &job);
	json_decref(job);
	wa_outbox_free(ob);
	if (rc == WA_ENOMEM)
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	return rc == 0;
}

/* The job for the options (the id still to be set), every field checked
 * before anything is written. */
static json_t *
make_job(const struct opts *o, const char *out, char to[WA_OUTBOX_JID_MAX])
{
	char part[WA_OUTBOX_JID_MAX];
	const char *participant = NULL;
	int group, mine;
	json_t *job, *ids;

	if (wa_outbox_norm_to(to, o->to) < 0)
		tool_die(WA_EXIT_USAGE, "\"%s\": not a phone number or JID", shown(o->to));
	group = strstr(to, "@g.us") != NULL;
	if (o->participant) {
		if (wa_outbox_norm_to(part, o->participant) < 0 || !wa_outbox_jid_ok(part, 0))
			tool_die(WA_EXIT_USAGE, "--participant \"%s\": not a phone number or user JID",
			    shown(o->participant));
		participant = part;
	}
	if (!(job = json_object()))
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	set(job, "v", json_integer(1));
	set(job, "id", json_string(""));
	set(job, "to", json_string(to));
	set(job, "created_ms", json_integer(now_ms()));
	switch (o->form) {
	case F_TEXT: {
		size_t len;
		char *text = read_text(o->arg, &len);
		set(job, "type", json_string("text"));
		set(job, "text", json_stringn(text, len));
		free(text);
		if (o->reply_to) {
			check_id("--reply-to", o->reply_to);
			set(job, "reply_to", ref(o->reply_to, participant));
		}
		break;
	}
	case F_REACT: {
		json_t *t;
		size_t len = strlen(o->arg);
		check_id("--react", o->target);
		if (len > WA_OUTBOX_EMOJI_MAX || !wa_outbox_utf8_ok(o->arg, len))
			tool_die(WA_EXIT_USAGE, "emoji \"%s\": not \"\" (remove) or 1 to %d bytes of UTF-8",
			    shown(o->arg), WA_OUTBOX_EMOJI_MAX);
		t = ref(o->target, participant);
		/* a reaction to one of ours: its job is in the outbox */
		mine = ours(out, o->target);
		set(t, "from_me", json_boolean(mine));
		if (group && !participant && !mine)
			tool_die(WA_EXIT_USAGE, "--react %s in a group: pass --participant (who wrote it)",
			    o->target);
		set(job, "type", json_string("reaction"));
		set(job, "target", t);
		set(job, "emoji", json_string(o->arg));
		break;
	}
	case F_READ: {
		char *list = strdup(o->target), *p, *save = NULL;
		if (!list || !(ids = json_array()))
			tool_die(WA_EXIT_SOFTWARE, "out of memory");
		for (p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
			check_id("--read", p);
			if (json_array_append_new(ids, json_string(p)) < 0)
				tool_die(WA_EXIT_SOFTWARE, "out of memory");
		}
		free(list);
		if (json_array_size(ids) == 0)
			check_id("--read", "");
		if (json_array_size(ids) > 256)
			tool_die(WA_EXIT_USAGE, "--read: more than 256 ids");
		if (group && !participant)
			tool_die(WA_EXIT_USAGE, "--read in a group: pass --participant (who wrote them)");
		set(job, "type", json_string("read"));
		set(job, "ids", ids);
		if (participant)
			set(job, "participant", json_string(participant));
		break;
	}
	case F_REVOKE:
		check_id("--revoke", o->target);
		set(job, "type", json_string("revoke"));
		set(job, "target", ref(o->target, NULL));
		break;
	}
	return job;
}

/* ---- the folders ------------------------------------------------------ */

/* Our user (creds.json me.id), for the message id; the folder must be
 * paired.  Read only. */
static void
me_user(const char *dir, char user[WA_JID_USER_MAX + 1])
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_creds_info info;
	struct wa_authdir *ad;
	struct wa_jid j;
	json_t *creds;
	int rc;

	if ((rc = wa_authdir_open(&ad, dir, 0, "wa-send", NULL, &why)) < 0)
		tool_die(rc == WA_EINVAL ? WA_EXIT_NOINPUT : tool_exit_for(rc), "%s", wa_why_text(&why, rc));
	rc = wa_creds_read(&creds, &info, ad, &why);
	wa_authdir_close(ad);
	if (rc == WA_ENOTFOUND)
		tool_die(WA_EXIT_NOINPUT, "'%s/%s' does not exist: pair the folder first with wa-pair", dir,
		    WA_CREDS);
	if (rc < 0)
		tool_die(tool_exit_for(rc), "%s", wa_why_text(&why, rc));
	json_decref(creds);
	if (!info.paired)
		tool_die(WA_EXIT_NOINPUT, "'%s/%s' is not paired: pair it with wa-pair", dir, WA_CREDS);
	if (wa_jid_parse(&j, info.me) < 0)
		tool_die(WA_EXIT_DATAERR, "'%s/%s': me.id \"%s\" is not a JID", dir, WA_CREDS, shown(info.me));
	snprintf(user, WA_JID_USER_MAX + 1, "%s", j.user);
}

static char *
outbox_path(const struct opts *o, const char *dir)
{
	size_t n = strlen(dir);
	char *p;

	if (o->outbox)
		return strdup(o->outbox);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (!(p = malloc(n + sizeof WA_OUTBOX_SUFFIX)))
		return NULL;
	memcpy(p, dir, n);
	memcpy(p + n, WA_OUTBOX_SUFFIX, sizeof WA_OUTBOX_SUFFIX);
	return p;
}

/* ---- --wait ----------------------------------------------------------- */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until the job's status is sent or later (0), failed (30), or the time
 * is up (31).  Woken by inotify on OUT/status/; without it, every second. */
static int
wait_status(const char *out, const char *id, long seconds)
{
	int64_t deadline = mono_ms() + (int64_t)seconds * 1000;
	char sdir[4096];
	int wfd, rc;

	snprintf(sdir, sizeof sdir, "%s/status", out);
	wfd = wa_compat_watch_dir(sdir);
	for (;;) {
		struct wa_why why = WA_WHY_INIT;
		struct pollfd p;
		json_t *st;
		int64_t left;

		rc = wa_outbox_status_read(out, id, &st, &why);
		if (rc == 0) {
			const char *state = json_string_value(json_object_get(st, "state"));
			if (strcmp(state, "sent") == 0 || strcmp(state, "delivered") == 0 ||
			    strcmp(state, "read") == 0) {
				json_decref(st);
				return WA_EXIT_OK;
			}
			if (strcmp(state, "failed") == 0) {
				const char *e = json_string_value(json_object_get(st, "error"));
				tool_err("%s: not sent: %s", id, e && *e ? shown(e) : "no reason given");
				json_decref(st);
				return WA_EXIT_SEND_FAILED;
			}
			json_decref(st);
		} else if (rc != WA_ENOTFOUND) {
			tool_err("%s", wa_why_text(&why, rc));
			return tool_exit_for(rc);
		}
		if ((left = deadline - mono_ms()) <= 0)
			break;
		p.fd = wfd;
		p.events = POLLIN;
		if (wfd < 0 && left > 1000)
			left = 1000;
		if (poll(&p, wfd < 0 ? 0 : 1, (int)(left > 60000 ? 60000 : left)) > 0)
			wa_compat_watch_drain(wfd);
	}
	tool_err("%s: no server acknowledgement in %ld second%s; the job stays queued and is sent "
	    "when wa-run runs", id, seconds, seconds == 1 ? "" : "s");
	return WA_EXIT_SEND_TIMEOUT;
}

int
main(int argc, char **argv)
{
	struct wa_why why = WA_WHY_INIT;
	char user[WA_JID_USER_MAX + 1], id[WA_MSG_ID_MAX], to[WA_OUTBOX_JID_MAX];
	struct wa_outbox *ob;
	const char *dir;
	struct opts o;
	char *out;
	json_t *job;
	int rc;

	tool_init("wa-send");
	parse(&o, argc, argv);
	if (!(dir = tool_authdir(o.dir)))
		tool_die(WA_EXIT_USAGE, TOOL_MSG_NO_AUTHDIR);
	if (o.id)
		check_id("--id", o.id);
	me_user(dir, user);
	if (!(out = outbox_path(&o, dir)))
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	job = make_job(&o, out, to);
	if ((rc = wa_outbox_open(&ob, out, WA_OUTBOX_CREATE, WA_OUTBOX_KEEP_DAYS, &why)) < 0)
		tool_die(tool_exit_for(rc), "%s", wa_why_text(&why, rc));
	if (o.id)
		snprintf(id, sizeof id, "%s", o.id);
	else if ((rc = wa_msg_new_id(id, user, (int64_t)time(NULL))) < 0)
		tool_die(tool_exit_for(rc), "unable to make a message id: %s", wa_strerror(rc));
	set(job, "id", json_string(id));
	if ((rc = wa_outbox_put(ob, job, NULL, &why)) < 0)
		tool_die(tool_exit_for(rc), "%s", wa_why_text(&why, rc));
	json_decref(job);
	wa_outbox_free(ob);
	if (printf("%s\n", id) < 0 || fflush(stdout) != 0)
		tool_die(WA_EXIT_IOERR, "standard output: %s (the message is queued as %s)", strerror(errno), id);
	rc = o.wait >= 0 ? wait_status(out, id, o.wait) : WA_EXIT_OK;
	free(out);
	return rc;
}

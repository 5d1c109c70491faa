/*
 * exitcode.h - the one exit-status table for every wa tool.
 *
 * The EXIT STATUS section of every man page is generated from this table
 * by scripts/gen-man-exit (between the "BEGIN EXIT TABLE" markers), and a
 * test fails when a page is out of date.  Each line below that starts with
 * "WA_EXIT_" is parsed by that script: NAME = CODE, then the comment text.
 *
 * wa-check follows the monitoring-plugin convention and only ever exits
 * 0 to 3 (a usage error there is UNKNOWN).  The other tools use 0 and the
 * sysexits(3)-style codes from 64 up; session outcomes get their own
 * codes: wa-run 10..19, wa-pair 20..29, wa-send 30..39.
 */
#ifndef WA_EXITCODE_H
#define WA_EXITCODE_H

enum wa_exit {
	WA_EXIT_OK = 0,          /* success; wa-check: OK */
	WA_EXIT_WARNING = 1,     /* wa-check: WARNING, the folder works but needs attention */
	WA_EXIT_CRITICAL = 2,    /* wa-check: CRITICAL, the session is broken or at risk */
	WA_EXIT_UNKNOWN = 3,     /* wa-check: UNKNOWN, the check itself could not run */
	WA_EXIT_LOGGED_OUT = 10, /* wa-run: logged out (the phone removed this device, or login refused with 401, 403 or 406); creds.json is left as it was: pair again with wa-pair */
	WA_EXIT_REPLACED = 11,   /* wa-run: replaced: another client logged in with these credentials (440 conflict); wa-run does not fight it */
	WA_EXIT_RETRIES = 12,    /* wa-run: the reconnect budget is spent without a stable connection */
	WA_EXIT_OUTDATED = 13,   /* wa-run: the server says this client version is outdated (405): update wa */
	WA_EXIT_BANNED = 14,     /* wa-run: temporarily banned (402) with no expiry, or longer than it waits */
	WA_EXIT_REFUSED = 15,    /* wa-run: the server refused the login for another reason (400, 409, 411, 415, 418 or another 4xx) */
	WA_EXIT_PAIR_PAIRED = 20, /* wa-pair: the folder is already paired; -f pairs it again after taking a backup */
	WA_EXIT_PAIR_EXPIRED = 21, /* wa-pair: every QR code (or the pairing code) expired before the phone linked; run wa-pair again */
	WA_EXIT_PAIR_TIMEOUT = 22, /* wa-pair: the server did not answer in time; check the network, run wa-pair again */
	WA_EXIT_PAIR_CLOSED = 23, /* wa-pair: the connection failed or closed before the phone linked; check the network, run wa-pair again */
	WA_EXIT_PAIR_REFUSED = 24, /* wa-pair: the server refused the phone number, or the phone refused the code (typed wrong?) */
	WA_EXIT_PAIR_FORGED = 25, /* wa-pair: the phone's answer (pair-success) did not verify; nothing was written */
	WA_EXIT_PAIR_UNFINISHED = 26, /* wa-pair: linked and saved, but the first login or the pre-key upload did not finish; wa-run completes it */
	WA_EXIT_PAIR_LOGIN = 27, /* wa-pair: linked and saved, but the server refused the first login: the link did not hold; pair again with -f */
	WA_EXIT_PAIR_TERMINAL = 28, /* wa-pair: no terminal to draw the QR code on, or it is too small; enlarge it, or use --qr-text or --phone */
	WA_EXIT_SEND_FAILED = 30, /* wa-send: the message could not be sent (the reason is printed) */
	WA_EXIT_SEND_TIMEOUT = 31, /* wa-send --wait: no server acknowledgement in time; the job stays queued and will be sent when wa-run runs */
	WA_EXIT_USAGE = 64,      /* bad options or arguments */
	WA_EXIT_DATAERR = 65,    /* input is corrupt or fails verification: unparseable creds.json, damaged or foreign archive */
	WA_EXIT_NOINPUT = 66,    /* a folder, file or backup does not exist */
	WA_EXIT_SOFTWARE = 70,   /* internal error (a bug: please report it) */
	WA_EXIT_CANTCREAT = 73,  /* an output file or folder cannot be created */
	WA_EXIT_IOERR = 74,      /* read, write or fsync failed, including a full disk */
	WA_EXIT_LOCKED = 75,     /* another process holds the folder lock; try again when it has stopped */
	WA_EXIT_NOPERM = 77,     /* refused for safety: symbolic link, not a regular file, or unsafe permissions */
};

#endif

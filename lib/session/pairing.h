/*
 * pairing.h - link a new companion device (wa-protocol(7) §6, §7): one
 * registration connection, from the server's QR refs (or the phone-number
 * code) to the 515 that follows a good pair-success.
 *
 *	struct wa_pairing_opts o = { .on_qr = ..., .arg = me };
 *	wa_pairing_open(&p, ad, creds, &o, &why);	(ad: WA_AUTHDIR_WRITE)
 *	while (!wa_pairing_outcome(p)) {
 *		n = wa_pairing_pollfds(p, fds, WA_CONN_MAXFDS, &timeout);
 *		poll(fds, n, timeout);
 *		wa_pairing_process(p);
 *	}
 *	... wa_pairing_outcome(p)->status ...
 *	wa_pairing_free(p);
 *
 * The credentials (fresh from wa_creds_generate, or an unpaired
 * creds.json) stay in memory until a pair-success verifies with every
 * check of pair.h; nothing is written to the folder before that.  Then,
 * in this order:
 *
 *   1. on_verified (wa-pair moves the files of a pairing it replaces
 *      aside); a negative return ends the pairing (STORAGE), nothing sent;
 *   2. the paired credentials are written durably to creds.json;
 *   3. only then the <pair-device-sign> reply goes out (and
 *      <ib><unified_session/></ib>);
 *   4. the server's <stream:error code="515"/> ends the connection: PAIRED.
 *
 * A pair-success that fails a check is answered as whatsmeow answers it
 * (<iq type=error> with 401 hmac-mismatch or signature-mismatch, else 500
 * internal-error) and ends the pairing with FORGED; nothing is written.
 * The phone's ADV secret and every key stay in memory; the QR strings
 * handed to on_qr are wiped after the call.
 *
 * QR (§6): the server sends all its refs in one <pair-device> (answered
 * at once).  Ref i is the code for qr_first_ms (the first) or qr_next_ms
 * (each next one), the schedule both clients rotate by; on_qr is called
 * as each one becomes current.  When the last one's time is up the
 * pairing ends with EXPIRED, as Baileys does ("QR refs attempts ended");
 * so does a server close while the last code is current.
 *
 * Phone-number code (§7): after <pair-device>, companion_hello for
 * opts.phone with a fresh code; on the server's answer, on_code.  The
 * code lives as long as the QR refs would (the same schedule).  When the
 * phone's link_code_companion_reg notification comes (the user typed the
 * code), it is acknowledged and companion_finish sent; the derived ADV
 * secret, the code and registered = true go into creds (in memory, as
 * pair.h's wa_pair_code_apply), and pair-success then verifies against
 * that secret.  An <iq type=error> to either step ends with REFUSED.
 *
 * Logging as session.h (byte content redacted: no QR ref, key or
 * signature reaches a log).
 */
#ifndef WA_PAIRING_H
#define WA_PAIRING_H

#include <poll.h>
#include <jansson.h>

#include "store/authdir.h"
#include "wire/clientpayload.h"
#include "wire/conn.h"
#include "base/err.h"

enum wa_pairing_status {
	WA_PAIRING_RUNNING = 0,
	WA_PAIRING_PAIRED,	/* creds.json written, reply sent, 515 received */
	WA_PAIRING_SAVED,	/* creds.json written, reply sent, then no 515 (closed, timed out) */
	WA_PAIRING_EXPIRED,	/* every code expired before the phone linked */
	WA_PAIRING_TIMEOUT,	/* the server did not answer in time */
	WA_PAIRING_CLOSED,	/* the connection failed or closed */
	WA_PAIRING_REFUSED,	/* the server refused the phone number or the code */
	WA_PAIRING_FORGED,	/* pair-success did not verify: nothing written */
	WA_PAIRING_STORAGE,	/* on_verified or writing creds.json failed: no reply sent */
	WA_PAIRING_ABORTED,	/* wa_pairing_abort, or an internal error (text says) */
};

struct wa_pairing_outcome {
	enum wa_pairing_status status;
	int rc;			/* the WA_E* code behind it */
	char text[WA_WHY_MAX];	/* one line for people */
	json_t *creds;		/* PAIRED, SAVED: the credentials as written (owned by the pairing) */
};

struct wa_pairing;

struct wa_pairing_opts {
	/* as session.h: url, root key, timeouts, debug, log (gets arg) */
	struct wa_conn_opts conn;
	struct wa_client_config client;	/* version[0] == 0: wa_client_config_default */
	const char *phone;		/* code pairing for this number (digits); NULL: QR */
	int qr_first_ms;		/* 0: 60000 */
	int qr_next_ms;			/* 0: 20000 */
	int step_timeout_ms;		/* each answer awaited from the server; 0: 20000 */

	/* Code n (1-based) of total is current for valid_ms: show it.  qr
	 * holds the ADV secret and is wiped after the call. */
	void (*on_qr)(void *arg, const char *qr, int n, int total, int valid_ms);
	/* The 8-character code to type on the phone, valid for valid_ms. */
	void (*on_code)(void *arg, const char *code, int valid_ms);
	/* A pair-success arrived and is being checked. */
	void (*on_scanned)(void *arg);
	/* It verified; paired is what will be written.  Return 0, or a
	 * negative code with why to stop before anything is written. */
	int (*on_verified)(void *arg, const json_t *paired, struct wa_why *why);
	/* creds.json is written; the reply goes out next. */
	void (*on_saved)(void *arg, const json_t *paired);
	void *arg;
};

/* Start pairing with creds (complete, not paired; the pairing takes a
 * reference and, for code pairing, changes it in place).  WA_EINVAL
 * (creds lack a key, phone not 7 to 15 digits without a leading 0: why
 * says), WA_ENOMEM, or wa_conn_open's errors. */
int wa_pairing_open(struct wa_pairing **out, struct wa_authdir *ad, json_t *creds,
    const struct wa_pairing_opts *opts, struct wa_why *why);

int wa_pairing_pollfds(struct wa_pairing *p, struct pollfd *fds, int max, int *timeout_ms);
void wa_pairing_process(struct wa_pairing *p);

/* NULL while running; once the connection is closed, how it ended. */
const struct wa_pairing_outcome *wa_pairing_outcome(const struct wa_pairing *p);

/* End now (a signal): ABORTED unless it already ended.  Keep calling
 * wa_pairing_process until there is an outcome. */
void wa_pairing_abort(struct wa_pairing *p, const char *why);

/* "Chrome (Mac OS)": companion_platform_display for a configuration. */
void wa_pairing_display(char *out, size_t n, const struct wa_client_config *cfg);

void wa_pairing_free(struct wa_pairing *p);

#endif

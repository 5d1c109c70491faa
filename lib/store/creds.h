/*
 * creds.h - creds.json: read and write it (the only code that does), and
 * say whether it is complete and paired.
 *
 * Corrupt is not absent: loading tells "no creds.json" (WA_ENOTFOUND) from
 * "creds.json there but unusable" (WA_ECORRUPT, why names the byte offset
 * or the missing field).  Nothing here ever creates keys; only wa-pair
 * does, and never because a file was bad.
 */
#ifndef WA_CREDS_H
#define WA_CREDS_H

#include <jansson.h>

#include "base/err.h"

struct wa_creds_info {
	int complete;          /* every key Baileys' initAuthCreds() makes is there and well-formed */
	int paired;            /* complete, and account + me.id present and well-formed */
	int registered;        /* creds.registered */
	char me[128];          /* me.id, "" when absent */
	char lid[128];         /* me.lid, "" when absent */
	char platform[32];     /* "" when absent */
	char problem[256];     /* first reason it is not complete/paired, "" if none */
};

/* Check a parsed creds object.  Always returns 0; info says what it is. */
int wa_creds_inspect(struct wa_creds_info *info, const json_t *creds);

struct wa_authdir;
struct wa_why;

/* The one reader of creds.json: read DIR/creds.json and inspect it.
 * WA_ENOTFOUND no file; WA_ECORRUPT not JSON, or JSON but not complete
 * (why says what is missing); WA_EUNSAFE, WA_ESYS, WA_ETOOBIG as file.h.
 * On 0 *out is the caller's (json_decref) and info says whether it is
 * paired. */
int wa_creds_read(json_t **out, struct wa_creds_info *info, struct wa_authdir *ad, struct wa_why *why);

/* The one writer: creds durably to DIR/creds.json as compact JSON in the
 * object's key order (wa_authdir_put: needs WA_AUTHDIR_WRITE); the text is
 * cleared from memory after.  WA_ESYS (errno), WA_ESYNC, WA_ENOMEM; why
 * names the file. */
int wa_creds_write(struct wa_authdir *ad, const json_t *creds, struct wa_why *why);

/* The account's user part ("15550001111") from me.id, or "" when absent. */
void wa_creds_account(char *out, size_t n, const json_t *creds);

#endif

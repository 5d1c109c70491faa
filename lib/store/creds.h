/*
 * creds.h - creds.json: load it, and say whether it is complete and paired.
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

/* The account's user part ("15550001111") from me.id, or "" when absent. */
void wa_creds_account(char *out, size_t n, const json_t *creds);

#endif

/*
 * cipher.h - Signal encryption and decryption on a wa_sigstore, with the
 * failures sorted into the classes a caller acts on (wa-signal(7)).
 *
 *	struct wa_sigfail f;
 *	rc = wa_sigcipher_decrypt(&pt, &ptlen, st, "15550001111:2@s.whatsapp.net",
 *	    WA_SIG_MSG, ct, ctlen, &f);
 *	if (rc < 0) ... f.cls, f.detail
 *
 * Each call is one operation on the store's overlay: wrapped in
 * wa_sigstore_op_begin/op_end, so a failure leaves the overlay as it was;
 * nothing is on disk until the caller's wa_sigstore_commit.  Addresses
 * are resolved as Baileys does (LID mapping, addr.h); a pkmsg first
 * stores the sender's identity key (a change replaces the session, as
 * Baileys' saveIdentity does, and is reported through the store).
 * Plaintexts are passed through as given (padding is the caller's).
 *
 * Returns 0, or -1 with f filled: cls one of the WA_SIGF_* classes and a
 * one-line detail (naming the file for WA_SIGF_CORRUPT).
 */
#ifndef WA_SIGCIPHER_H
#define WA_SIGCIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "signal/store.h"

enum wa_sigclass {
	WA_SIGF_NONE = 0,
	WA_SIGF_NO_SESSION,      /* no session (or no open one) with that address */
	WA_SIGF_BAD_MAC,         /* the message does not verify against any session/sender key */
	WA_SIGF_INVALID_PREKEY,  /* pkmsg for a pre-key we do not have (consumed or unknown) */
	WA_SIGF_NO_SENDER_KEY,   /* no sender key (or state for its key id) */
	WA_SIGF_DUPLICATE,       /* counter or iteration already used */
	WA_SIGF_UNTRUSTED,       /* identity refused (never, with trust on first use) */
	WA_SIGF_INVALID_MESSAGE, /* not a well-formed message of that type */
	WA_SIGF_CORRUPT,         /* a store file cannot be used (detail names it) */
	WA_SIGF_BAD_REQUEST,     /* bad JID, bundle or argument */
	WA_SIGF_STORAGE,         /* a store file could not be read (EIO, EMFILE, ENOMEM):
	                            no verdict on the message or the file */
	WA_SIGF_INTERNAL,
};

struct wa_sigfail {
	enum wa_sigclass cls;
	char detail[WA_WHY_MAX];
};

/* "no_session", "bad_mac", ... (the contract's names). */
const char *wa_sigclass_name(enum wa_sigclass c);

enum { WA_SIG_MSG = 0, WA_SIG_PKMSG = 1 };

struct wa_sigbundle {
	uint32_t regid;
	uint8_t identity[33];
	uint32_t spk_id;
	uint8_t spk[33];
	uint8_t spk_sig[64];
	int has_prekey;
	uint32_t prekey_id;
	uint8_t prekey[33];
};

int wa_sigcipher_decrypt(uint8_t **pt, size_t *ptlen, struct wa_sigstore *st, const char *jid,
    int type, const uint8_t *ct, size_t ctlen, struct wa_sigfail *f);
int wa_sigcipher_encrypt(uint8_t **ct, size_t *ctlen, int *type, struct wa_sigstore *st,
    const char *jid, const uint8_t *pt, size_t ptlen, struct wa_sigfail *f);
int wa_sigcipher_process_bundle(struct wa_sigstore *st, const char *jid,
    const struct wa_sigbundle *b, struct wa_sigfail *f);

/* Groups: the sender key (group, sender's address).  group_encrypt uses
 * our own me.id as the sender and makes the key when there is none;
 * *skdm is its SenderKeyDistributionMessage. */
int wa_sigcipher_group_encrypt(uint8_t **skdm, size_t *skdmlen, uint8_t **ct, size_t *ctlen,
    struct wa_sigstore *st, const char *group, const uint8_t *pt, size_t ptlen, struct wa_sigfail *f);
int wa_sigcipher_process_skdm(struct wa_sigstore *st, const char *group, const char *jid,
    const uint8_t *skdm, size_t len, struct wa_sigfail *f);
int wa_sigcipher_group_decrypt(uint8_t **pt, size_t *ptlen, struct wa_sigstore *st,
    const char *group, const char *jid, const uint8_t *ct, size_t ctlen, struct wa_sigfail *f);

#endif

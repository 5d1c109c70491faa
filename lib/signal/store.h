/*
 * store.h - libsignal-protocol-c's key stores on a Baileys auth folder
 * (wa-signal(7), wa-authdir(5)).
 *
 * The caller opens the folder for writing (wa_authdir_open with
 * WA_AUTHDIR_WRITE: it holds the one-writer lock) and hands it over:
 *
 *	wa_sigstore_open(&st, ad, why);           reads creds.json (paired)
 *	wa_sigstore_op_begin(st);
 *	    ... libsignal-protocol-c calls with wa_sigstore_ctx(st) ...
 *	wa_sigstore_op_end(st, ok);               ok 0: undo this op's changes
 *	    ... more ops ...
 *	wa_sigstore_commit(st, why);              a group commit for all of them
 *	wa_sigstore_free(st);                     drops what was not committed
 *
 * Every file is read once and then kept in an overlay: what is on disk
 * and what it is now.  The store callbacks (session, pre-key, signed
 * pre-key, identity, sender key) read and write the overlay only;
 * sessions and sender keys go through sessjson/skjson, so the files stay
 * in Baileys' format and unknown fields survive.  A sender key also keeps
 * its libsignal-protocol-c record in the overlay, and its JSON is made
 * once, at commit or when read, not per message.  commit writes every
 * file whose content changed with two wa_durable_batch commits (each: all
 * temporary files, one barrier, renames, one folder fsync): first every
 * file but the sessions (sender keys, identities, LID mappings, app-state
 * keys), then the sessions, and only then the removals: a consumed
 * pre-key is unlinked (a one-time key must not outlive its use: that is
 * its forward secrecy), any other removed file is moved to
 * .wa/quarantine/<STAMP>/.  So what a message carried (a sender-key
 * distribution) is durable before the session that could decrypt that
 * message again moves on, and a session is durable before the pre-key it
 * consumed is gone (R4).  A failed commit leaves each file
 * old or new, whole, and forgets the overlay: the next read is from disk.
 *
 * Identity keys: trusted on first use and on change (as Baileys does);
 * a change is recorded and reported by wa_sigstore_identity_changed.
 * The signed pre-key is creds.signedPreKey whatever id is asked for
 * (Baileys' loadSignedPreKey does the same).
 *
 * A file that cannot be read or parsed makes the callback fail;
 * wa_sigstore_corrupt names it.  Nothing is written for that peer, and
 * no other file is affected.
 *
 * Not thread-safe.  Errors: WA_ECORRUPT, WA_ESYS, WA_ESYNC, WA_ENOMEM.
 */
#ifndef WA_SIGSTORE_H
#define WA_SIGSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <signal/signal_protocol.h>

#include "base/err.h"
#include "store/authdir.h"
#include "signal/addr.h"
#include "signal/keyjson.h"
#include "signal/sessjson.h"

struct wa_sigstore;

int wa_sigstore_open(struct wa_sigstore **out, struct wa_authdir *ad, struct wa_why *why);
void wa_sigstore_free(struct wa_sigstore *st);

signal_context *wa_sigstore_signal(struct wa_sigstore *st);
signal_protocol_store_context *wa_sigstore_ctx(struct wa_sigstore *st);
const struct wa_keyjson_creds *wa_sigstore_creds(struct wa_sigstore *st);

/* Savepoints: op_end(st, 0) restores every file changed since op_begin
 * and clears the op's hint, corrupt file and identity change. */
void wa_sigstore_op_begin(struct wa_sigstore *st);
void wa_sigstore_op_end(struct wa_sigstore *st, int ok);

int wa_sigstore_commit(struct wa_sigstore *st, struct wa_why *why);

/* Number of files commit would write or remove. */
size_t wa_sigstore_dirty(struct wa_sigstore *st);

/* jid -> the address Baileys would store it under (LID mapping applied). */
int wa_sigstore_resolve(struct wa_sigstore *st, struct wa_sigaddr *out, const char *jid,
    struct wa_why *why);

/* Overlay access.  get: *doc borrowed (valid until the next put of name);
 * WA_ENOTFOUND, WA_ECORRUPT (also recorded for wa_sigstore_corrupt).
 * put steals doc; NULL removes the file. */
int wa_sigstore_get(struct wa_sigstore *st, const json_t **doc, const char *name, struct wa_why *why);
int wa_sigstore_put(struct wa_sigstore *st, const char *name, json_t *doc);

/* A peer's stored identity key: 0, WA_ENOTFOUND, WA_ECORRUPT. */
int wa_sigstore_identity(struct wa_sigstore *st, uint8_t key[33], const struct wa_sigaddr *a,
    struct wa_why *why);
/* Store it (trust on first use / on change); *changed 1 when a different
 * key was stored before.  A change also removes the peer's session, as
 * Baileys' saveIdentity does: the file goes to .wa/quarantine/ with the
 * commit, also when the same op writes the new identity's session in its
 * place (moved in the first batch of the commit, the new one written in
 * the second). */
int wa_sigstore_save_identity(struct wa_sigstore *st, const struct wa_sigaddr *a,
    const uint8_t key[33], int *changed, struct wa_why *why);

/* For this op, libsignal-protocol-c's save_identity stores nothing
 * (process_bundle: libsignal-node's initOutgoing stores no identity). */
void wa_sigstore_identity_save_off(struct wa_sigstore *st);

/* The message being decrypted, for the session callback (sessjson.h). */
void wa_sigstore_hint(struct wa_sigstore *st, const struct wa_sessjson_hint *h,
    const struct wa_sessjson_bob *bob);

/* Move a session, sender key or other key file to .wa/quarantine/ with
 * the next commit, also one that cannot be read (a broken peer state
 * that keeps every message from decrypting).  Never a pre-key or
 * creds.json (WA_EINVAL).  0, WA_ENOTFOUND, WA_ENOMEM. */
int wa_sigstore_quarantine(struct wa_sigstore *st, const char *name);

/* A read that failed for a system reason (EIO, EMFILE, out of memory)
 * since the last call: WA_ESYS or WA_ENOMEM, and why; 0 when none.  The
 * file itself was not judged (it is not corrupt, just unread): callers
 * must not act on the peer's state, only fail the batch.  Clears it. */
int wa_sigstore_syserr(struct wa_sigstore *st, const char **why);

/* Drop every change not committed yet (the next read is from disk). */
void wa_sigstore_rollback(struct wa_sigstore *st);

/* Forget what the overlay holds that is on disk as it is: every file
 * found absent (a pre-key written since by someone else must be read
 * again), and every clean file when more than keep are held (a long run
 * must not keep every session it ever touched).  Changed files stay.
 * Returns how many entries are left. */
size_t wa_sigstore_trim(struct wa_sigstore *st, size_t keep);

/* Ids of the pre-key files present now, ascending.  Caller frees. */
int wa_sigstore_prekey_ids(struct wa_sigstore *st, uint32_t **ids, size_t *n);

/* The file that made the last callback fail, "" if none; and why. */
const char *wa_sigstore_corrupt(struct wa_sigstore *st, const char **why);

/* The address whose identity changed in this op, or NULL. */
const char *wa_sigstore_identity_changed(struct wa_sigstore *st);

#endif

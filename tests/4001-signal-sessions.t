#!/bin/sh
# 4001-signal-sessions: more than one session per peer.  Both sides start
# a session at once (each record keeps both, the right one decrypts); the
# peer starts a second session while a message of the first is in flight
# (the late one decrypts with the closed session, the new one stays
# intact); wa does the same; the peer, then wa, lost its session and
# starts over with a new bundle; the peer reinstalled (new identity key,
# same JID); a pre-key already consumed is invalid_prekey.
# Checks that need the receiver's trial decryption to leave the other
# sessions alone are TODO when wa's side is libsignal-node
# (WA_SIGNAL_IMPL_A=node): Baileys fails them (see signal-drive.mjs).
. "${WA_TOP:-.}/tests/lib.sh"
. "$WA_TOP/tests/signal.sh"
signal_setup
signal_drive sessions
done_testing

#!/bin/sh
# 4000-signal-1to1: libsignal-node (Baileys' repository on a peer's folder)
# encrypts and wa decrypts, and the reverse: the first messages as pkmsg
# consuming a one-time pre-key, then msg; out-of-order delivery; skipped
# message keys up to the limit both libraries have (2000 ahead: one more
# is refused and changes nothing); duplicates; the error classes of the
# contract, after each of which the process answers on.
# WA_SIGNAL_IMPL_A=node runs wa's side on signal-node.mjs too.
. "${WA_TOP:-.}/tests/lib.sh"
. "$WA_TOP/tests/signal.sh"
signal_setup
signal_drive 1to1
done_testing

#!/bin/sh
# 4020-signal-files: every file wa writes is what libsignal-node would have
# written.  Each step (a pkmsg, a msg with a DH ratchet step, a skipped key,
# encrypt, process_bundle, a second session, SKDM, skmsg, a new sender key)
# runs on two copies of one folder, one served by signal-node.mjs and one by
# wa's side; tests/fakewa/signal-check.mjs loads each file of wa's copy the
# way Baileys does and deep-compares it with Node's, masking only what
# comes from fresh randomness or the clock (listed in signal-check.mjs).
# Steps without fresh randomness must answer byte for byte alike.  The
# checker is itself checked: single fields changed in a copy are reported,
# a changed timestamp is not.
. "${WA_TOP:-.}/tests/lib.sh"
. "$WA_TOP/tests/signal.sh"
signal_setup
signal_drive files
done_testing

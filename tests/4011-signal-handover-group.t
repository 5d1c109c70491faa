#!/bin/sh
# 4011-signal-handover-group: the same 100 handovers of wa's folder for
# group messages: a libsignal-node peer sends skmsgs that wa receives and
# wa sends skmsgs the peer receives, one in ten lost on the way (its key
# stays behind in the receiver's sender-key file).  wa-signal turns hold
# some skmsgs back and decrypt them in a later wa-signal turn, after Node
# turns rewrote the sender-key file (Baileys itself cannot: see
# signal-drive.mjs, BAILEYS_SKIPPED_SENDER_KEY_BUG).  No decryption failure,
# every file loads in Baileys at the end.
. "${WA_TOP:-.}/tests/lib.sh"
. "$WA_TOP/tests/signal.sh"
signal_setup
signal_drive handover-group
done_testing

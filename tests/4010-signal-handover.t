#!/bin/sh
# 4010-signal-handover: wa's folder changes hands mid-conversation, 100
# times: served by signal-node.mjs (Baileys) for a few messages, then by
# wa-signal, then Node again ..., while two libsignal-node peers talk with
# it both ways (one started the session with wa's bundle, wa started the
# other with the peer's bundle); about a third of the messages arrive in a
# later turn than they were sent, so skipped message keys written by one
# implementation are used by the other.  No decryption failure anywhere,
# and every file of the folder loads in Baileys at the end.
# WA_SIGNAL_ALTERNATIONS changes the 100; Node turns reopen a parked Node
# process (a restart every 25th turn; WA_SIGNAL_RESTART=1 every turn).
. "${WA_TOP:-.}/tests/lib.sh"
. "$WA_TOP/tests/signal.sh"
signal_setup
signal_drive handover
done_testing

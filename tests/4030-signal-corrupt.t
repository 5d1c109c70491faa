#!/bin/sh
# 4030-signal-corrupt: what a hard power-off leaves in a Baileys folder.
# With wa's program stopped, one file is damaged and the program started
# again: the peer's session file empty, truncated, cut after one byte
# (corrupt_store for a msg from and an encrypt to that peer: Baileys itself
# would read them as absent, no_session, and start over), the session file
# one ratchet step behind (an older copy: the peer's next msg is bad_mac
# and the file is left as it was), the sender-key file truncated
# (corrupt_store), a pre-key file empty (a pkmsg naming it: corrupt_store).
# Each time every other file is unchanged (checksums before and after),
# the other peer still works both ways, and with the file restored the
# refused message decrypts.
. "${WA_TOP:-.}/tests/lib.sh"
. "$WA_TOP/tests/signal.sh"
signal_setup
signal_drive corrupt
done_testing

#!/bin/sh
# make install honours PREFIX and DESTDIR and installs every tool and page.
. "${WA_TOP:-$(dirname "$0")/..}/tests/lib.sh"

O=${WA_BIN%/bin}
ok "make install" make -s -C "$WA_TOP" O="$O" install DESTDIR="$T/root" PREFIX=/opt/wa
for b in "$WA_BIN"/wa-*; do
	[ -e "$b" ] || continue
	n=${b##*/}
	ok "$n installed and executable" test -x "$T/root/opt/wa/bin/$n"
	"$T/root/opt/wa/bin/$n" --version > "$T/v" 2>&1
	like "$?.$(cat "$T/v")" "0.$n " "the installed $n runs: --version"
	ok "$n(1) installed" test -f "$T/root/opt/wa/share/man/man1/$n.1"
done
ok "wa(7) installed" test -f "$T/root/opt/wa/share/man/man7/wa.7"
ok "wa-authdir(5) installed" test -f "$T/root/opt/wa/share/man/man5/wa-authdir.5"
ok "nothing outside DESTDIR" test ! -e /opt/wa/bin
ok "make uninstall" make -s -C "$WA_TOP" O="$O" uninstall DESTDIR="$T/root" PREFIX=/opt/wa
is "$(find "$T/root" -type f | wc -l | tr -d ' ')" 0 "uninstall removes every file"
done_testing

# wa - WhatsApp linked-device sessions that never need a re-pair.
#
#   make            build the tools into build/bin (release, no test seams)
#   make check      ASan+UBSan build in build/san, every test, man page lint
#   make check-long the long variants (WA_LONG=1) of the tests in LONG_TESTS
#   make demo       the offline tools on a Baileys-made folder
#   make bench      wa against Baileys on fakewa (bench/README)
#   make install    PREFIX=/usr/local DESTDIR=
#
# GNU make: the sanitizer variant is the same rules in another output
# folder (O=), which needs pattern rules and $(wildcard).  Files added to
# lib/LAYER/, cmd/, proto/, tests/unit/, tests/helpers/ and fuzz/ are picked up
# without editing this file.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
CC ?= cc
CFLAGS ?= -O2 -g
LDFLAGS ?=
O ?= build

PKGS = jansson libcrypto libarchive zlib libcurl libprotobuf-c libsignal-protocol-c libqrencode
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))

WARN = -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Ilib $(XINC) -I$(O)/proto $(WARN) $(CFLAGS) $(PKG_CFLAGS) $(XCFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(XLDFLAGS)

PROTO_SRC := $(wildcard proto/*.proto)
PROTO_C := $(PROTO_SRC:proto/%.proto=$(O)/proto/%.pb-c.c)
LIB_SRC := $(wildcard lib/*/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o) $(PROTO_C:.c=.o)
LIB := $(O)/libwa.a
CMD_SRC := $(wildcard cmd/wa-*.c)
BINS := $(CMD_SRC:cmd/%.c=$(O)/bin/%)
TOOL_OBJ := $(O)/cmd/tool.o
UNIT := $(patsubst tests/unit/%.c,$(O)/tests/%,$(wildcard tests/unit/t-*.c))
HELPERS := $(patsubst tests/helpers/%.c,$(O)/tests/%,$(wildcard tests/helpers/*.c))
MAN := $(wildcard man/*.[1-8])

SAN = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

.PHONY: all tests check check-long lint-man demo deps install uninstall clean fuzz fuzz-build bench
.SECONDARY:

all: $(BINS)

$(O)/proto/%.pb-c.c $(O)/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(O)/proto
	protoc-c --proto_path=proto --c_out=$(O)/proto $<

$(O)/%.o: %.c $(PROTO_C)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/proto/%.pb-c.o: $(O)/proto/%.pb-c.c
	$(CC) $(ALL_CFLAGS) -Wno-unused-parameter -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(O)/bin/%: $(O)/cmd/%.o $(TOOL_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(TOOL_OBJ) $(LIB) $(ALL_LDFLAGS) $(PKG_LIBS)

# Tests and helpers may use the commands' shared code (cmd/tool.h: the
# exit-status table and its mapping); the library may not (tests/1507).
$(O)/tests/%.o: XINC = -Icmd

$(O)/tests/%: $(O)/tests/unit/%.o $(TOOL_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(TOOL_OBJ) $(LIB) $(ALL_LDFLAGS) $(PKG_LIBS)

$(O)/tests/%: $(O)/tests/helpers/%.o $(TOOL_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(TOOL_OBJ) $(LIB) $(ALL_LDFLAGS) $(PKG_LIBS)

tests: $(BINS) $(UNIT) $(HELPERS)

# The test build: sanitizers, warnings as errors, and the test seams
# (WA_TESTING: fsync counters and the storage operation log) compiled in.
# On a fresh machine, install the packages and the Node test peers first
# (scripts/install-deps: as root it installs, otherwise it says what to run).
deps:
	@pkg-config --exists $(PKGS) && command -v mandoc >/dev/null && \
	    [ -d tests/fakewa/node_modules/baileys ] || scripts/install-deps

check: deps
	$(MAKE) O=build/san XCFLAGS="$(SAN) -Werror -DWA_TESTING" XLDFLAGS="$(SAN)" tests
	$(MAKE) fuzz-build
	$(MAKE) lint-man
	WA_TOP="$(CURDIR)" WA_BIN="$(CURDIR)/build/san/bin" WA_TESTBIN="$(CURDIR)/build/san/tests" \
	ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	prove -j2 $(PROVE_FLAGS) build/san/tests/t-* tests/[0-9]*.t

# The long variants of the tests that read WA_LONG (the issue's sizes: e.g.
# 3103 kills wa-run 100 times in a flood of 2000 messages), on the same
# sanitizer build as check.
LONG_TESTS = tests/3103-recv-kill9.t tests/3206-heal-powercut.t tests/3310-send-kill9.t

check-long: deps
	$(MAKE) O=build/san XCFLAGS="$(SAN) -Werror -DWA_TESTING" XLDFLAGS="$(SAN)" tests
	WA_LONG=1 WA_TOP="$(CURDIR)" WA_BIN="$(CURDIR)/build/san/bin" WA_TESTBIN="$(CURDIR)/build/san/tests" \
	ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	prove $(PROVE_FLAGS) $(LONG_TESTS)

lint-man:
	@for m in $(MAN); do mandoc -Tlint -Wwarning $$m || exit 1; done; echo "mandoc: $(words $(MAN)) pages clean"

demo: deps
	$(MAKE) all
	sh scripts/demo

# wa against Baileys on fakewa: start to online, memory and CPU idle
# online (bench/README).  A measurement, not a test.
bench: all
	sh bench/run
	sh bench/accounts.sh

# libFuzzer harnesses (clang, ASan+UBSan): fuzz/fuzz-NAME.c runs on
# fuzz/corpus/NAME/.  make check builds them and tests/0900-fuzz.t runs
# each for a few seconds; make fuzz runs each for FUZZ_TIME seconds and
# adds what it finds to the corpus (commit new inputs; crashers land in
# build/fuzz/crashes/, add them to the corpus once fixed).
FUZZ_SRC := $(wildcard fuzz/fuzz-*.c)
FUZZ_BINS := $(FUZZ_SRC:fuzz/%.c=build/fuzz/bin/%)
FUZZ_TIME ?= 300
FUZZ_SAN = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

fuzz-build:
	@if command -v clang >/dev/null; then \
	    $(MAKE) O=build/fuzz CC=clang XCFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link -DWA_TESTING" build/fuzz/libwa.a $(FUZZ_BINS); \
	else echo "fuzz: clang not installed, harnesses not built"; fi

build/fuzz/bin/%: fuzz/%.c build/fuzz/libwa.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ibuild/fuzz/proto -fsanitize=fuzzer -o $@ $< build/fuzz/libwa.a $(ALL_LDFLAGS) $(PKG_LIBS)

fuzz: fuzz-build
	@mkdir -p build/fuzz/crashes
	for b in $(FUZZ_BINS); do n=$${b##*/fuzz-}; mkdir -p fuzz/corpus/$$n; \
	    ASAN_OPTIONS=quarantine_size_mb=16 $$b -max_total_time=$(FUZZ_TIME) -rss_limit_mb=256 -malloc_limit_mb=64 -max_len=65536 \
	    -artifact_prefix=build/fuzz/crashes/$$n- fuzz/corpus/$$n || exit 1; done

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	for b in $(BINS); do cp -f $$b $(DESTDIR)$(BINDIR)/ && chmod 755 $(DESTDIR)$(BINDIR)/$${b##*/}; done
	for s in wa-recover wa-backup-hook wa-qr-page; do cp -f scripts/$$s $(DESTDIR)$(BINDIR)/ && chmod 755 $(DESTDIR)$(BINDIR)/$$s; done
	for m in $(MAN); do s=$${m##*.}; cp -f $$m $(DESTDIR)$(MANDIR)/man$$s/ && chmod 644 $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done

uninstall:
	for b in $(BINS); do rm -f $(DESTDIR)$(BINDIR)/$${b##*/}; done
	rm -f $(DESTDIR)$(BINDIR)/wa-recover $(DESTDIR)$(BINDIR)/wa-backup-hook $(DESTDIR)$(BINDIR)/wa-qr-page
	for m in $(MAN); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done

clean:
	rm -rf build

-include $(shell find $(O) -name '*.d' 2>/dev/null)

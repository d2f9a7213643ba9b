# SPDX-License-Identifier: LGPL-2.1-or-later
# udamon build.  GNU Make only, no configure step.
#
#   make                 library, programs, tests, benchmarks into build/
#   make SAN=asan        the same with ASan+UBSan into build-asan/
#   make SAN=tsan        the same with TSan into build-tsan/
#   make check           every test (scripts/run-tests.sh)
#   make format-check    clang-format --dry-run on every C file
#   make install         into DESTDIR/PREFIX (default /usr/local); uninstall

CC ?= gcc

# The one place the version is kept: programs print it (--version), the
# shared library is named after it, udamon.pc and the Debian changelog
# carry it (tests/pkg/run.sh checks they agree).
VERSION := 0.1.0
SO_MAJOR := 0

# Installation layout (make install PREFIX=... DESTDIR=...).  udamon looks
# for the preload library relative to its own binary first
# (../lib/udamon/), then at PKGLIBDIR as built in, so a tree moved as a
# whole still works.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
PKGLIBDIR ?= $(LIBDIR)/udamon
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install
SAN ?=
ifeq ($(SAN),)
B ?= build
else
B ?= build-$(SAN)
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-unused-parameter \
	-Wno-missing-field-initializers
CFLAGS ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc -pthread \
	-fPIC -fvisibility=hidden -DUDAMON_VERSION='"$(VERSION)"' \
	-DUDAMON_PKGLIBDIR='"$(PKGLIBDIR)"' -DUDAMON_DATADIR='"$(DATADIR)/udamon"'
# Records: zlib (CRC-32, damo's json_compressed) and json-c (damo's JSON).
RECORD_CFLAGS := $(shell pkg-config --cflags zlib json-c 2>/dev/null)
RECORD_LIBS := $(shell pkg-config --libs zlib json-c 2>/dev/null || \
	echo -lz -ljson-c)
LDLIBS := -pthread -lm $(RECORD_LIBS)

ifeq ($(SAN),asan)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
CFLAGS := -O1 -g
endif
ifeq ($(SAN),tsan)
SAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
CFLAGS := -O1 -g
endif

ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) $(SAN_FLAGS)
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)

HAVE_FUSE := $(shell pkg-config --exists fuse3 2>/dev/null && echo 1)
HAVE_CAIRO := $(shell pkg-config --exists cairo fontconfig 2>/dev/null && echo 1)
HAVE_MHD := $(shell pkg-config --exists libmicrohttpd 2>/dev/null && echo 1)
HAVE_SDT := $(shell echo "#include <sys/sdt.h>" | $(CC) -E -x c - >/dev/null 2>&1 && echo 1)
ifeq ($(HAVE_SDT),1)
BASE_CFLAGS += -DUDAMON_HAVE_SDT=1
endif

# The library: core, operations sets, system seam, records.
LIB_SRCS := $(sort $(wildcard src/core/*.c src/ops/*.c src/sys/*.c \
	src/record/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)

TAP_OBJ := $(B)/obj/tests/lib/tap.o
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(B)/bench/%)

# Programs: each is a directory of sources with one main().
DEMO_SRCS := $(wildcard tools/demo/*.c)
WORKLOAD_SRCS := $(wildcard tools/workload/*.c)
CLI_SRCS := $(wildcard src/cli/*.c)
FS_SRCS := $(wildcard src/fs/*.c)
DAEMON_SRCS := $(wildcard src/daemon/*.c)
# The metrics endpoint (udamond --metrics, udamon record --metrics).
METRICS_SRCS := $(wildcard src/metrics/*.c)
METRICS_OBJS := $(METRICS_SRCS:%.c=$(B)/obj/%.o)

PROGS :=
ifneq ($(DEMO_SRCS),)
PROGS += $(B)/bin/udamon-demo
endif
ifneq ($(WORKLOAD_SRCS),)
PROGS += $(B)/bin/udamon-workload
endif
ifneq ($(CLI_SRCS),)
PROGS += $(B)/bin/udamon
endif
# The preload library goes into programs udamon launches, which are not
# built with sanitizers, so it is built without them.
PRELOAD_SRCS := $(wildcard tools/preload/*.c)
ifneq ($(PRELOAD_SRCS),)
PROGS += $(B)/lib/libudamon-preload.so
endif
ifeq ($(HAVE_FUSE),1)
ifneq ($(DAEMON_SRCS),)
PROGS += $(B)/bin/udamond
endif
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3)
FUSE_LIBS := $(shell pkg-config --libs fuse3)
endif
# udamon status --json writes through json-c.
CLI_JSON_LIBS := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
# Plots (PNG and SVG) through cairo, in the udamon program only.
ifeq ($(HAVE_CAIRO),1)
CAIRO_CFLAGS := $(shell pkg-config --cflags cairo fontconfig) \
	-DUDAMON_HAVE_CAIRO=1
CAIRO_LIBS := $(shell pkg-config --libs cairo fontconfig)
ifeq ($(SAN),asan)
# LeakSanitizer reads src/cli/plot.c's suppressions (fontconfig's own
# leaks) only from an exported symbol.
CAIRO_LIBS += -Wl,--export-dynamic-symbol=__lsan_default_suppressions
endif
endif
ifeq ($(HAVE_MHD),1)
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd) -DUDAMON_HAVE_MHD=1
MHD_LIBS := $(shell pkg-config --libs libmicrohttpd)
endif

# Static archives drop objects nothing references; the operations sets
# register themselves from constructors, so link the whole archive.
WHOLE_LIB = -Wl,--whole-archive $(B)/libudamon.a -Wl,--no-whole-archive

.PHONY: all lib tests bench progs check format format-check clean
all: lib progs tests bench
SO_NAME := libudamon.so.$(SO_MAJOR)
SO_FILE := libudamon.so.$(VERSION)
lib: $(B)/libudamon.a $(B)/libudamon.so $(B)/udamon.pc
tests: $(UNIT_BINS)
bench: $(BENCH_BINS)
progs: $(PROGS)

$(B)/obj/%.o: %.c $(wildcard include/udamon/*.h src/*/*.h tests/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUSE_CFLAGS) $(CAIRO_CFLAGS) $(RECORD_CFLAGS) \
		$(MHD_CFLAGS) -c $< -o $@

# Objects that print the version or know the installed paths.
$(B)/obj/src/cli/main.o $(B)/obj/src/cli/record.o $(B)/obj/src/cli/ns.o \
	$(B)/obj/src/daemon/udamond.o $(B)/obj/tools/demo/udamon-demo.o \
	$(B)/obj/tools/workload/workload.o: Makefile

# Some unit tests compile the tree's sources in (#include "fs/x.c").
$(UNIT_SRCS:%.c=$(B)/obj/%.o): $(wildcard src/fs/*.c src/metrics/*.c src/daemon/*.c)

$(B)/libudamon.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# libudamon.so.X.Y.Z with SONAME libudamon.so.X, and the two links a
# program needs to link (libudamon.so) and to start (libudamon.so.X).
$(B)/$(SO_FILE): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,$(SO_NAME) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/libudamon.so: $(B)/$(SO_FILE)
	ln -sf $(SO_FILE) $(B)/$(SO_NAME)
	ln -sf $(SO_NAME) $@

# Packages the library's own objects need, for udamon.pc (a static link
# needs them; a shared one does not).
LIB_PC_REQUIRES ?=
$(B)/udamon.pc: dist/udamon.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|@REQUIRES_PRIVATE@|$(LIB_PC_REQUIRES)|g' \
		-e 's|@LIBS_PRIVATE@|$(LDLIBS)|g' $< >$@

# (test_metrics compiles the metrics endpoint in, hence MHD_LIBS.)
$(B)/tests/%: $(B)/obj/tests/unit/%.o $(TAP_OBJ) $(B)/libudamon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TAP_OBJ) $(WHOLE_LIB) $(LDLIBS) \
		$(MHD_LIBS)

# The plots' test draws with cairo, as the udamon program does.
$(B)/tests/test_plot: LDLIBS += $(CAIRO_LIBS)
$(B)/obj/tests/unit/test_plot.o: src/cli/plot.c

$(B)/bench/%: $(B)/obj/bench/%.o $(B)/libudamon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(WHOLE_LIB) $(LDLIBS)

$(B)/bin/udamon-demo: $(DEMO_SRCS:%.c=$(B)/obj/%.o) $(B)/libudamon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(WHOLE_LIB) $(LDLIBS)

$(B)/bin/udamon-workload: $(WORKLOAD_SRCS:%.c=$(B)/obj/%.o) $(B)/libudamon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(WHOLE_LIB) $(LDLIBS)

$(B)/lib/libudamon-preload.so: $(PRELOAD_SRCS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O2 -g -shared -o $@ $(PRELOAD_SRCS) -pthread -ldl

$(B)/bin/udamon: $(CLI_SRCS:%.c=$(B)/obj/%.o) $(METRICS_OBJS) $(B)/libudamon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(WHOLE_LIB) $(LDLIBS) \
		$(CAIRO_LIBS) $(CLI_JSON_LIBS) $(MHD_LIBS)

$(B)/bin/udamond: $(DAEMON_SRCS:%.c=$(B)/obj/%.o) \
		$(FS_SRCS:%.c=$(B)/obj/%.o) $(METRICS_OBJS) $(B)/libudamon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(WHOLE_LIB) $(LDLIBS) \
		$(FUSE_LIBS) $(MHD_LIBS)

# libFuzzer targets for every parser of outside input (clang only); see
# docs/fuzzing.md.  The library is compiled once with the fuzzing
# instrumentation into $(B)/fuzz/obj and linked into each target.
CLANG ?= clang
FUZZ_FLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -Iinclude -Isrc -pthread $(filter -D%,$(BASE_CFLAGS))
FUZZ_LIB_OBJS = $(LIB_SRCS:%.c=$(B)/fuzz/obj/%.o)
FUZZ_FS_OBJS = $(patsubst %.c,$(B)/fuzz/obj/%.o,\
	$(filter-out src/fs/fuse.c,$(FS_SRCS)))
FUZZERS = fuzz_parse fuzz_tree fuzz_record fuzz_masim fuzz_damo fuzz_replay
.PHONY: fuzz
fuzz: $(FUZZERS:%=$(B)/fuzz/%)
$(B)/fuzz/obj/%.o: %.c $(wildcard include/udamon/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) $(RECORD_CFLAGS) -fsanitize=fuzzer-no-link \
		-c $< -o $@
$(B)/fuzz/fuzz_parse: $(B)/fuzz/obj/fuzz/fuzz_parse.o \
		$(B)/fuzz/obj/src/fs/parse.o $(B)/fuzz/obj/src/sys/alloc.o
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^
$(B)/fuzz/fuzz_tree: $(B)/fuzz/obj/fuzz/fuzz_tree.o $(FUZZ_FS_OBJS) \
		$(FUZZ_LIB_OBJS)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^ -lm $(RECORD_LIBS)
$(B)/fuzz/fuzz_record: $(B)/fuzz/obj/fuzz/fuzz_record.o $(FUZZ_LIB_OBJS)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^ -lm $(RECORD_LIBS)
$(B)/fuzz/fuzz_masim: $(B)/fuzz/obj/fuzz/fuzz_masim.o $(FUZZ_LIB_OBJS)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^ -lm $(RECORD_LIBS)
$(B)/fuzz/fuzz_damo: $(B)/fuzz/obj/fuzz/fuzz_damo.o $(FUZZ_LIB_OBJS)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^ -lm $(RECORD_LIBS)
$(B)/fuzz/fuzz_replay: $(B)/fuzz/obj/fuzz/fuzz_replay.o $(FUZZ_LIB_OBJS)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^ -lm $(RECORD_LIBS)

check:
	bash scripts/run-tests.sh

# ---- install ----
# Programs are linked statically against libudamon (they need its
# internal symbols); libudamon.so, libudamon.a, the header and udamon.pc
# are for programs of others.  The sanitizer builds are not installable.
MAN_PAGES := $(wildcard man/*.[1-8])
INSTALL_PROGS := $(filter $(B)/bin/%,$(PROGS))
.PHONY: install uninstall
install: lib progs
	@[ -z "$(SAN)" ] || { echo "make install: not a sanitizer build" >&2; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(INCLUDEDIR)/udamon \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(DATADIR)/udamon/configs
	$(INSTALL) -m 0755 $(filter-out $(B)/bin/udamond,$(INSTALL_PROGS)) \
		$(DESTDIR)$(BINDIR)/
	if [ -x $(B)/bin/udamond ]; then \
		$(INSTALL) -d $(DESTDIR)$(SBINDIR) \
			$(DESTDIR)$(SYSTEMDUNITDIR) && \
		$(INSTALL) -m 0755 $(B)/bin/udamond $(DESTDIR)$(SBINDIR)/ && \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' dist/udamond.service.in \
			>$(DESTDIR)$(SYSTEMDUNITDIR)/udamond.service && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/udamond.service; \
	fi
	$(INSTALL) -m 0755 $(B)/lib/libudamon-preload.so $(DESTDIR)$(PKGLIBDIR)/
	$(INSTALL) -m 0644 $(B)/$(SO_FILE) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SO_FILE) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/libudamon.so
	$(INSTALL) -m 0644 $(B)/libudamon.a $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 0644 include/udamon/damon.h $(DESTDIR)$(INCLUDEDIR)/udamon/
	$(INSTALL) -m 0644 $(B)/udamon.pc $(DESTDIR)$(PKGCONFIGDIR)/
	$(INSTALL) -m 0644 dist/udamon.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/udamon
	for c in udamond udamon-workload; do \
		ln -sf udamon $(DESTDIR)$(BASHCOMPDIR)/$$c; done
	$(INSTALL) -m 0644 configs/*.cfg $(DESTDIR)$(DATADIR)/udamon/configs/
	for m in $(MAN_PAGES); do \
		s=$${m##*.}; $(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$s && \
		$(INSTALL) -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(INSTALL_PROGS)))
	rm -f $(DESTDIR)$(SBINDIR)/udamond \
		$(DESTDIR)$(SYSTEMDUNITDIR)/udamond.service
	rm -f $(DESTDIR)$(PKGLIBDIR)/libudamon-preload.so
	-rmdir $(DESTDIR)$(PKGLIBDIR)
	rm -f $(DESTDIR)$(LIBDIR)/$(SO_FILE) $(DESTDIR)$(LIBDIR)/$(SO_NAME) \
		$(DESTDIR)$(LIBDIR)/libudamon.so $(DESTDIR)$(LIBDIR)/libudamon.a
	rm -f $(DESTDIR)$(INCLUDEDIR)/udamon/damon.h
	-rmdir $(DESTDIR)$(INCLUDEDIR)/udamon
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/udamon.pc
	rm -f $(addprefix $(DESTDIR)$(BASHCOMPDIR)/,udamon udamond udamon-workload)
	rm -rf $(DESTDIR)$(DATADIR)/udamon
	for m in $(MAN_PAGES); do s=$${m##*.}; \
		rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(C_FILES)
format-check:
	clang-format --dry-run --Werror $(C_FILES)

clean:
	rm -rf build build-asan build-tsan

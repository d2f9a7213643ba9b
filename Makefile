# SPDX-License-Identifier: LGPL-2.1-or-later
# udamon build.  GNU Make only, no configure step.
#
#   make                 library, programs, tests, benchmarks into build/
#   make SAN=asan        the same with ASan+UBSan into build-asan/
#   make SAN=tsan        the same with TSan into build-tsan/
#   make check           every test (scripts/run-tests.sh)
#   make format-check    clang-format --dry-run on every C file

CC ?= gcc
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
	-fPIC -fvisibility=hidden
LDLIBS := -pthread -lm

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
HAVE_PNG := $(shell pkg-config --exists libpng 2>/dev/null && echo 1)
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
ifeq ($(HAVE_PNG),1)
PNG_CFLAGS := $(shell pkg-config --cflags libpng) -DUDAMON_HAVE_PNG=1
PNG_LIBS := $(shell pkg-config --libs libpng)
endif

# Static archives drop objects nothing references; the operations sets
# register themselves from constructors, so link the whole archive.
WHOLE_LIB = -Wl,--whole-archive $(B)/libudamon.a -Wl,--no-whole-archive

.PHONY: all lib tests bench progs check format format-check clean
all: lib progs tests bench
lib: $(B)/libudamon.a $(B)/libudamon.so
tests: $(UNIT_BINS)
bench: $(BENCH_BINS)
progs: $(PROGS)

$(B)/obj/%.o: %.c $(wildcard include/udamon/*.h src/*/*.h tests/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUSE_CFLAGS) $(PNG_CFLAGS) -c $< -o $@

# Some unit tests compile the tree's sources in (#include "fs/x.c").
$(UNIT_SRCS:%.c=$(B)/obj/%.o): $(wildcard src/fs/*.c)

$(B)/libudamon.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(B)/libudamon.so: $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libudamon.so.0 $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(TAP_OBJ) $(B)/libudamon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TAP_OBJ) $(WHOLE_LIB) $(LDLIBS)

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

$(B)/bin/udamon: $(CLI_SRCS:%.c=$(B)/obj/%.o) $(B)/libudamon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(WHOLE_LIB) $(LDLIBS) \
		$(PNG_LIBS)

$(B)/bin/udamond: $(DAEMON_SRCS:%.c=$(B)/obj/%.o) \
		$(FS_SRCS:%.c=$(B)/obj/%.o) $(B)/libudamon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(WHOLE_LIB) $(LDLIBS) \
		$(FUSE_LIBS)

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
FUZZERS = fuzz_parse fuzz_tree fuzz_record fuzz_masim
.PHONY: fuzz
fuzz: $(FUZZERS:%=$(B)/fuzz/%)
$(B)/fuzz/obj/%.o: %.c $(wildcard include/udamon/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(B)/fuzz/fuzz_parse: $(B)/fuzz/obj/fuzz/fuzz_parse.o \
		$(B)/fuzz/obj/src/fs/parse.o $(B)/fuzz/obj/src/sys/alloc.o
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^
$(B)/fuzz/fuzz_tree: $(B)/fuzz/obj/fuzz/fuzz_tree.o $(FUZZ_FS_OBJS) \
		$(FUZZ_LIB_OBJS)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^ -lm
$(B)/fuzz/fuzz_record: $(B)/fuzz/obj/fuzz/fuzz_record.o $(FUZZ_LIB_OBJS)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^ -lm
$(B)/fuzz/fuzz_masim: $(B)/fuzz/obj/fuzz/fuzz_masim.o $(FUZZ_LIB_OBJS)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $^ -lm

check:
	bash scripts/run-tests.sh

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(C_FILES)
format-check:
	clang-format --dry-run --Werror $(C_FILES)

clean:
	rm -rf build build-asan build-tsan

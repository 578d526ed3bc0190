# casie - plain GNU Makefile.  Objects in build/, the CLI in build/casie.
#   make            library + CLI          make test     setup, build, every test (C and Python)
#   make run        setup, build, extract events from the bundled sample
#   make asan       the whole suite under ASan + UBSan
#   make bench      benchmarks             make install  PREFIX=/usr/local DESTDIR=
#   make fuzz       libFuzzer targets and seed corpora in build-fuzz/fuzz/
#   make golden     re-record the golden outputs (tests/test_golden.c)
#   make valgrind   the whole suite under valgrind memcheck
#   make wheel      the self-contained Python wheel in build/wheel/ (docs/PYTHON.md)

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
BUILD   ?= build
CASIE_CORPUS ?= $(abspath ../shared/casie)
export CASIE_CORPUS

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
ifeq ($(CI),true)
WARN    += -Werror
endif
OPT     ?= -O2 -g
CFLAGS  ?= $(OPT)
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude -Isrc -MMD -MP -fPIC
# SIMD=avx2 builds the paths a CPU without AVX-512 takes (make bench measures
# both on a machine that has it; the output is the same bit for bit)
ifeq ($(SIMD),avx2)
ALL_CFLAGS += -DCASIE_NO_AVX512
endif
PKGS    := jansson libutf8proc
# the version, defined once: include/casie.h (python/setup.py reads it too)
VERSION := $(shell sed -n 's/^\#define CASIE_VERSION_STRING "\(.*\)"/\1/p' include/casie.h)
DEP_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEP_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lstemmer -lpthread -lm
TEST_LIBS  := $(shell pkg-config --libs cmocka 2>/dev/null)
TOOL_LIBS  := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)

LIB_SRC  := $(sort $(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TOOL_SRC := $(sort $(wildcard tools/*.c))
TOOL_OBJ := $(TOOL_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BIN   := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)
.SECONDARY: $(BUILD)/fuzz/replay.o

.PHONY: all lib test run asan bench install clean setup check-tests fuzz fuzz-bins valgrind golden
all: lib $(BUILD)/casie

lib: $(BUILD)/libcasie.a $(BUILD)/libcasie.so $(BUILD)/casie.pc

# where an installed casie finds its models by name
$(BUILD)/src/model_find.o $(BUILD)/src/groups.o: ALL_CFLAGS += -DCASIE_DATADIR='"$(PREFIX)/share/casie"'

# the neural kernels are loops the vectorizer should see
$(BUILD)/src/nn.o $(BUILD)/src/nn_train.o: ALL_CFLAGS += -O3
# the encoder's kernels too; no fused multiply-add anywhere, so every kernel
# and every compiler gives the same bits (encoder_grad.c: the training side, in
# float, the same on every x86-64 CPU; no trapping math: lets GCC turn the
# float selects of GELU and softmax into vector blends; the results are the same;
# encoder_tune.c: its heads and sums, for the same reason)
$(BUILD)/src/encoder.o $(BUILD)/src/encoder_kernels.o $(BUILD)/src/encoder_q8.o $(BUILD)/src/encoder_grad.o $(BUILD)/src/encoder_tune.o: ALL_CFLAGS += -O3 -ffp-contract=off -fno-trapping-math

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -DCASIE_BUILD -fvisibility=hidden -c $< -o $@

$(BUILD)/libcasie.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libcasie.so: $(LIB_OBJ) libcasie.map
	$(CC) -shared -Wl,-soname,libcasie.so.0 -Wl,--version-script=libcasie.map -o $@ $(LIB_OBJ) $(DEP_LIBS)

$(BUILD)/casie.pc: casie.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

$(BUILD)/casie: $(TOOL_OBJ) $(BUILD)/libcasie.a
	$(CC) $(ALL_CFLAGS) -o $@ $(TOOL_OBJ) $(BUILD)/libcasie.a $(DEP_LIBS) $(TOOL_LIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libcasie.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -o $@ $< $(TEST_LDFLAGS) $(BUILD)/libcasie.a $(DEP_LIBS) $(TEST_LIBS)

# test_faults counts and fails allocations: the library's calls go to its __wrap_*
$(BUILD)/tests/test_faults: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free
$(BUILD)/tests/test_faults: tests/tiny_model.h

setup:
	@bash scripts/setup.sh

# Outside CI a failed encoder fetch (no network) leaves its tests skipped; in
# CI (CI=true) it fails the run, and so does any skip not on
# tests/skips.allowed (scripts/run_tests.sh): CI tests the model that ships.
FETCH := bash scripts/fetch_encoder.sh $(if $(filter true,$(CI)),,--soft)
# the threat-group catalogue for STIX (models/casie-groups.tsv), the same way
GROUPS := bash scripts/fetch_groups.sh $(if $(filter true,$(CI)),,--soft)

check-tests: $(TEST_BIN) $(BUILD)/casie $(REPLAY_BIN)
	@BUILD=$(BUILD) bash scripts/run_tests.sh $(TEST_BIN)

# What the suites read besides the corpus: both encoders and the catalogue.
.PHONY: test-data
test-data:
	@$(FETCH) mpnet-base
	@$(FETCH) minilm-l6
	@$(GROUPS)

test: setup
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory test-data
	@bash scripts/dist_env.sh $(if $(filter true,$(CI)),,--soft)
	@$(MAKE) --no-print-directory check-tests

# The Python wheel that carries its libraries and models (scripts/build_wheel.sh)
.PHONY: wheel
wheel: setup
	@bash scripts/dist_env.sh
	@bash scripts/build_wheel.sh

# Re-records the fast model's golden outputs (tests/test_golden.c), for a
# change that is meant to change predictions; the commit says what moved.
golden: all $(BUILD)/tests/test_golden
	@CASIE_GOLDEN_UPDATE=1 BUILD=$(BUILD) $(BUILD)/tests/test_golden

run: setup
	@$(MAKE) --no-print-directory all
	@$(FETCH) mpnet-base
	@$(GROUPS)
	@bash scripts/run_sample.sh $(BUILD)/casie

asan: setup test-data
	@$(MAKE) --no-print-directory BUILD=build-asan CC=clang \
	  OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS_EXTRA= all check-tests

# Fuzz targets: fuzz/fuzz_<name>.c, each an LLVMFuzzerTestOneInput, over the
# library built with the same sanitizers (scripts/fuzz.sh runs them).
FUZZ_OPT   := -O2 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_DEFS  := -DCASIE_DEFAULT_MODEL='"$(abspath models/casie-fast.model)"' \
              -DCASIE_TINY_MODEL='"$(abspath $(BUILD)/fuzz/tiny.model)"'
FUZZ_OBJ_jsonl := $(BUILD)/tools/cli_io.o $(BUILD)/tools/out_dir.o
FUZZ_OBJ_http  := $(BUILD)/tools/serve_http.o
FUZZ_OBJ_outname := $(BUILD)/tools/out_dir.o

# the numeric kernels without coverage callbacks (fuzz/coverage_ignore.txt)
FUZZ_COV   := -fsanitize-coverage-ignorelist=$(abspath fuzz/coverage_ignore.txt)

fuzz: setup
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT="$(FUZZ_OPT) -fsanitize=fuzzer-no-link $(FUZZ_COV)" fuzz-bins

ifeq ($(BUILD),build-fuzz)
$(LIB_OBJ) $(TOOL_OBJ): fuzz/coverage_ignore.txt
endif

fuzz-bins: $(FUZZ_BIN) $(BUILD)/fuzz/tiny.model
	@bash scripts/fuzz_seeds.sh $(BUILD)/fuzz

$(BUILD)/fuzz/make_tiny_model: fuzz/make_tiny_model.c tests/tiny_model.h $(BUILD)/libcasie.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -o $@ $< $(BUILD)/libcasie.a $(DEP_LIBS)

$(BUILD)/fuzz/tiny.model: $(BUILD)/fuzz/make_tiny_model models/casie-fast.model
	$< models/casie-fast.model $@ 64

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(BUILD)/libcasie.a $(BUILD)/tools/cli_io.o $(BUILD)/tools/serve_http.o \
                      $(BUILD)/tools/out_dir.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -fsanitize=fuzzer $(FUZZ_DEFS) -o $@ $< $(FUZZ_OBJ_$*) $(BUILD)/libcasie.a $(DEP_LIBS)

# The suite under valgrind memcheck (scripts/valgrind.sh): zero errors, zero leaks.
valgrind: setup
	@$(MAKE) --no-print-directory all $(TEST_BIN) $(REPLAY_BIN)
	@BUILD=$(BUILD) bash scripts/valgrind.sh $(TEST_BIN)

# The same targets without libFuzzer (fuzz/replay.c): tests/test_fuzz_replay.c
# runs them on the reproducers in tests/data/fuzz/<target>/.
$(BUILD)/fuzz/replay_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(BUILD)/fuzz/replay.o $(BUILD)/libcasie.a \
                        $(BUILD)/tools/cli_io.o $(BUILD)/tools/serve_http.o $(BUILD)/tools/out_dir.o $(BUILD)/fuzz/tiny.model
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) $(FUZZ_DEFS) -o $@ $< $(BUILD)/fuzz/replay.o $(FUZZ_OBJ_$*) \
	  $(BUILD)/libcasie.a $(DEP_LIBS)

bench: all
	@$(FETCH) mpnet-base
	@$(FETCH) minilm-l6
	@bash bench/run.sh $(BUILD)/casie
	@bash bench/encoder.sh $(BUILD)/casie
	@# on a CPU with AVX-512, the AVX2 paths too (as an AVX2-only CPU runs):
	@# the accurate model and the encoder, where the two differ
	@if [ "$(SIMD)" != avx2 ] && grep -qw avx512f /proc/cpuinfo; then \
	  $(MAKE) --no-print-directory BUILD=$(BUILD)-avx2 SIMD=avx2 all >/dev/null && \
	  SIMD=avx2 BENCH_ACCURATE_ONLY=1 bash bench/run.sh $(BUILD)-avx2/casie && \
	  BENCH_ORT=0 bash bench/encoder.sh $(BUILD)-avx2/casie; fi

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/casie $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(BUILD)/libcasie.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libcasie.so $(DESTDIR)$(PREFIX)/lib/libcasie.so.0
	ln -sf libcasie.so.0 $(DESTDIR)$(PREFIX)/lib/libcasie.so
	install -m 644 include/casie.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' casie.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/casie.pc
	install -m 755 $(BUILD)/casie $(DESTDIR)$(PREFIX)/bin/
	install -m 644 models/casie-fast.model $(DESTDIR)$(PREFIX)/share/casie/
	[ ! -f models/casie-accurate.model ] || install -m 644 models/casie-accurate.model $(DESTDIR)$(PREFIX)/share/casie/
	[ ! -f models/casie-groups.tsv ] || install -m 644 models/casie-groups.tsv $(DESTDIR)$(PREFIX)/share/casie/
	@# the encoders (scripts/fetch_encoder.sh), when fetched
	for e in models/encoders/*.enc; do [ -f "$$e" ] || continue; \
	  install -d $(DESTDIR)$(PREFIX)/share/casie/encoders && install -m 644 "$$e" $(DESTDIR)$(PREFIX)/share/casie/encoders/; done
	install -m 644 docs/casie.1 $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf build build-avx2 build-asan build-fuzz python/build python/casie.egg-info

-include $(wildcard $(BUILD)/src/*.d $(BUILD)/tools/*.d $(BUILD)/tests/*.d $(BUILD)/fuzz/*.d)

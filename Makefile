# casie - plain GNU Makefile.  Objects in build/, the CLI in build/casie.
#   make            library + CLI          make test     setup, build, every test
#   make run        setup, build, extract events from the bundled sample
#   make asan       the whole suite under ASan + UBSan
#   make bench      benchmarks             make install  PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
BUILD   ?= build
CASIE_CORPUS ?= $(abspath ../shared/casie)
export CASIE_CORPUS

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wno-unused-parameter
ifeq ($(CI),true)
WARN    += -Werror
endif
OPT     ?= -O2 -g
CFLAGS  ?= $(OPT)
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude -Isrc -MMD -MP -fPIC
PKGS    := jansson libutf8proc
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

.PHONY: all lib test run asan bench install clean setup check-tests
all: lib $(BUILD)/casie

lib: $(BUILD)/libcasie.a $(BUILD)/libcasie.so $(BUILD)/casie.pc

# the neural kernels are loops the vectorizer should see
$(BUILD)/src/nn.o: ALL_CFLAGS += -O3

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -DCASIE_BUILD -fvisibility=hidden -c $< -o $@

$(BUILD)/libcasie.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libcasie.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libcasie.so.0 -o $@ $^ $(DEP_LIBS)

$(BUILD)/casie.pc: casie.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|0.1.0|' $< > $@

$(BUILD)/casie: $(TOOL_OBJ) $(BUILD)/libcasie.a
	$(CC) $(ALL_CFLAGS) -o $@ $(TOOL_OBJ) $(BUILD)/libcasie.a $(DEP_LIBS) $(TOOL_LIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libcasie.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -o $@ $< $(BUILD)/libcasie.a $(DEP_LIBS) $(TEST_LIBS)

setup:
	@bash scripts/setup.sh

check-tests: $(TEST_BIN) $(BUILD)/casie
	@BUILD=$(BUILD) bash scripts/run_tests.sh $(TEST_BIN)

test: setup
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory check-tests

run: setup
	@$(MAKE) --no-print-directory all
	@bash scripts/run_sample.sh $(BUILD)/casie

asan: setup
	@$(MAKE) --no-print-directory BUILD=build-asan CC=clang \
	  OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS_EXTRA= all check-tests

bench: all
	@bash bench/run.sh $(BUILD)/casie

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/casie $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(BUILD)/libcasie.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libcasie.so $(DESTDIR)$(PREFIX)/lib/libcasie.so.0
	ln -sf libcasie.so.0 $(DESTDIR)$(PREFIX)/lib/libcasie.so
	install -m 644 include/casie.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|0.1.0|' casie.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/casie.pc
	install -m 755 $(BUILD)/casie $(DESTDIR)$(PREFIX)/bin/
	install -m 644 models/casie-default.model $(DESTDIR)$(PREFIX)/share/casie/
	install -m 644 docs/casie.1 $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf build build-asan

-include $(wildcard $(BUILD)/src/*.d $(BUILD)/tools/*.d $(BUILD)/tests/*.d)

# Licheng — plain make with pkg-config. `make` builds bin/; `make test`,
# `make demo`, `make bench`, `make deps`, `make install` are described in
# README.md. SANITIZE=1 builds into build/asan/ with ASan + UBSan.

PKGS      := fcgi libmariadb openssl yaml-0.1 hiredis libqrencode
CC        ?= cc
PREFIX    ?= /usr/local
DESTDIR   ?=
SYSCONFDIR ?= /etc/licheng

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN      := -pthread -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla \
             -Wstrict-prototypes -Wmissing-prototypes
DEFS      := -D_GNU_SOURCE -DLICHENG_PREFIX='"$(PREFIX)"' \
             -DLICHENG_SYSCONFDIR='"$(SYSCONFDIR)"'

ifeq ($(SANITIZE),1)
OUT       := build/asan
OPT       := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=all
LDSAN     := -fsanitize=address,undefined
else
OUT       := build/release
OPT       := -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2
LDSAN     :=
endif
BIN       := $(if $(filter 1,$(SANITIZE)),$(OUT)/bin,bin)

CFLAGS    ?=
CPPFLAGS  += -Ilib $(DEFS)
ALL_CFLAGS = $(WARN) $(OPT) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDLIBS    := $(PKG_LIBS) -lm -pthread

LIB_SRC   := $(wildcard lib/*.c)
FCGI_SRC  := $(wildcard fcgi/*.c)
WORK_SRC  := $(wildcard workers/*.c)
CLI_SRC   := $(wildcard cli/*.c)
UNIT_SRC  := $(wildcard tests/unit/*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)

obj = $(patsubst %.c,$(OUT)/%.o,$(1))
LIB_OBJ   := $(call obj,$(LIB_SRC))

PROGS     := $(BIN)/licheng-fcgi $(BIN)/licheng-worker $(BIN)/licheng
UNITS     := $(patsubst tests/unit/%.c,$(OUT)/tests/unit/%,$(UNIT_SRC))
BENCHES   := $(patsubst tests/bench/%.c,$(OUT)/tests/bench/%,$(BENCH_SRC))

.PHONY: all deps test test-quick demo bench install lint fuzz clean units asan

all: $(PROGS) $(UNITS) $(BENCHES)

units: $(UNITS)

$(OUT)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# Rebuilt whole, so a deleted source leaves no stale member behind.
$(OUT)/liblicheng.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/licheng-fcgi: $(call obj,$(FCGI_SRC)) $(OUT)/liblicheng.a
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BIN)/licheng-worker: $(call obj,$(WORK_SRC)) $(OUT)/liblicheng.a
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BIN)/licheng: $(call obj,$(CLI_SRC)) $(OUT)/liblicheng.a
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

# Unit tests may also link the fcgi objects they test (all but main.o).
FCGI_LIBOBJ := $(filter-out $(OUT)/fcgi/main.o,$(call obj,$(FCGI_SRC)))
$(OUT)/tests/unit/%: $(OUT)/tests/unit/%.o $(FCGI_LIBOBJ) $(OUT)/liblicheng.a
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

# test_jobs links the worker's objects (all but main.o) instead: the job
# runner's backoff and its parsers.
WORK_LIBOBJ := $(filter-out $(OUT)/workers/main.o,$(call obj,$(WORK_SRC)))
$(OUT)/tests/unit/test_jobs: $(OUT)/tests/unit/test_jobs.o $(WORK_LIBOBJ) \
    $(OUT)/liblicheng.a
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

# test_scan also links the scan job it tests (workers/job_scan.c, which
# reads its payload with workers/job_hash_payload.c).
$(OUT)/tests/unit/test_scan: $(OUT)/tests/unit/test_scan.o \
    $(OUT)/workers/job_scan.o $(OUT)/workers/job_hash_payload.o \
    $(OUT)/liblicheng.a
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(OUT)/tests/bench/%: $(OUT)/tests/bench/%.o $(OUT)/liblicheng.a
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

asan:
	$(MAKE) -j$$(nproc) SANITIZE=1 all

deps:
	@deploy/install-deps

# make test: packages, both builds, a private stack per build in a temporary
# folder, every test; ends with "N passed, N failed".
test: deps
	$(MAKE) -j$$(nproc) all
	$(MAKE) -j$$(nproc) SANITIZE=1 all
	tests/run

demo: deps all
	deploy/dev demo

bench: deps all
	tests/bench/run

fuzz:
	tests/fuzz/run

install: all
	deploy/install "$(DESTDIR)" "$(PREFIX)" "$(SYSCONFDIR)"

lint:
	clang-format --dry-run --Werror lib/*.[ch] fcgi/*.[ch] cli/*.[ch] \
	    workers/*.[ch] tests/bench/*.c

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)

# vnode testbed: top-level build.
#   make            build daemons and tools (build/)
#   make check      install deps, build the ASan/UBSan variant, run unit + integration tests
#   make demo       install deps, build, run the main job
#   make fuzz       libFuzzer targets, 2 minutes each (not part of check)
#   make bench-snc  control-plane benchmark
# Everything lands in build/ (normal) or build/asan/ (sanitizers).

.DEFAULT_GOAL := all
CC      ?= cc
PKGS    := libxml-2.0 libevent libevent_openssl openssl sqlite3 libcurl libpcap libxdp libbpf
XMLRPC_CFLAGS := $(shell xmlrpc-c-config server-util --cflags 2>/dev/null)
XMLRPC_LIBS   := $(shell xmlrpc-c-config server-util --libs 2>/dev/null)
PKG_CFLAGS    := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS      := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wpointer-arith -Wundef -Wvla -Wnull-dereference -Werror
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -g $(WARN) -Ilib -I. -Ibuild/gen $(PKG_CFLAGS) $(XMLRPC_CFLAGS)
LIBS    := $(PKG_LIBS) $(XMLRPC_LIBS) -lpthread -lm

# Variant: "release" (build/) or "asan" (build/asan/).
VARIANT ?= release
ifeq ($(VARIANT),asan)
  B      := build/asan
  CFLAGS := $(BASE_CFLAGS) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
else
  B      := build
  CFLAGS := $(BASE_CFLAGS) -O2
endif

# Every daemon directory: its main files are listed; every other .c goes into
# lib<dir>.a so tests can link the logic.
DIRS       := snc redirector programmer testbed
MAINS_snc  := snc/sncd.c snc/snc.c
MAINS_redirector := redirector/redirectord.c
MAINS_programmer := programmer/programmerd.c programmer/fastpath.c
MAINS_testbed    := testbed/testbed.c

LIB_SRC    := $(wildcard lib/*.c)
SCHEMAS    := $(wildcard lib/schema/*.xsd)
GEN_SRC    := build/gen/schemas.c
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/schemas.o

DIR_LIBS   := $(foreach d,$(DIRS),$(B)/lib$(d).a)

define dir_rules
$(1)_SRC  := $$(filter-out $$(MAINS_$(1)),$$(wildcard $(1)/*.c))
$(1)_OBJ  := $$($(1)_SRC:%.c=$$(B)/%.o)
$$(B)/lib$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@
	ar rcs $$@ $$^
$$(B)/bin/%: $$(B)/$(1)/%.o $$(DIR_LIBS) $$(B)/libvnode.a
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LIBS)
endef
$(foreach d,$(DIRS),$(eval $(call dir_rules,$(d))))

PROGS      := $(foreach d,$(DIRS),$(patsubst %.c,$(B)/bin/%,$(notdir $(wildcard $(MAINS_$(d))))))
UNIT_SRC   := $(wildcard tests/*/test_*.c)
UNIT_BINS  := $(UNIT_SRC:%.c=$(B)/%)
TOOL_BINS  := $(B)/tests/redirector/gre_inject
BENCH_SRC  := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRC:%.c=$(B)/%)

.PHONY: all deps check unit integration demo fuzz bench-snc bench-slice bench-isolation clean format asan
all: $(PROGS) $(UNIT_BINS) $(TOOL_BINS) $(BENCH_BINS)

deps:
	@scripts/install-deps.sh

build/gen/schemas.c: $(SCHEMAS) scripts/embed-schemas.sh
	@mkdir -p $(@D)
	scripts/embed-schemas.sh $(SCHEMAS) > $@

$(B)/gen/schemas.o: build/gen/schemas.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(B)/%.o: %.c $(wildcard lib/*.h */*.h) build/gen/schemas.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/libvnode.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(B)/tests/%: tests/%.c $(DIR_LIBS) $(B)/libvnode.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(DIR_LIBS) $(B)/libvnode.a $(LIBS) $(CMOCKA_LIBS)

$(B)/bench/%: bench/%.c $(DIR_LIBS) $(B)/libvnode.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(DIR_LIBS) $(B)/libvnode.a $(LIBS)

asan:
	$(MAKE) VARIANT=asan all

# Tests run against the sanitizer build.
check: deps
	$(MAKE) VARIANT=asan all
	$(MAKE) all
	tests/run.sh build/asan

unit: asan
	tests/run.sh build/asan unit

integration: asan
	tests/run.sh build/asan integration

demo: deps all
	scripts/demo.sh build

# libFuzzer: clang, address sanitizer, two minutes per target.
FUZZ_SECONDS ?= 120
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
fuzz: deps build/gen/schemas.c
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o build/fuzz/fuzz_rpc fuzz/fuzz_rpc.c $(LIB_SRC) build/gen/schemas.c $(LIBS)
	clang $(FUZZ_CFLAGS) -o build/fuzz/fuzz_spec fuzz/fuzz_spec.c $(LIB_SRC) build/gen/schemas.c $(LIBS)
	clang $(FUZZ_CFLAGS) -o build/fuzz/fuzz_gre fuzz/fuzz_gre.c lib/gre.c
	scripts/run-fuzz.sh $(FUZZ_SECONDS)

bench-snc: deps all
	bench/snc.sh build

bench-slice: deps all
	bench/slice.sh build

bench-isolation: deps all
	bench/isolation.sh build

.PHONY: bench-fastpath
bench-fastpath: deps all
	bench/fastpath.sh build

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

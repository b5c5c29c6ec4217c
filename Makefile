# warmrun build. `make` builds bin/warmrun, bin/warmrun-shim, bin/warmrun-image.
# `make test` installs what the tests need and runs them (as root);
# `make asan` runs the same tests against an ASan+UBSan build;
# `make run` sets up everything and activates a container; `make bench`.

CC       ?= cc
BUILD    ?= build
BINDIR   ?= bin
PKGS     := jansson libmnl libseccomp libcap
SANITIZE ?=

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   ?= -O2 -g
# -fstack-protector-strong: Debian's gcc does not enable it by default, and
# the canary each forked shim draws afresh (shim_server.c, new_canary;
# docs/security.md) guards only the frames that check it.
override CFLAGS += -std=gnu11 -D_GNU_SOURCE $(WARN) -fno-strict-aliasing -fstack-protector-strong \
    -Iruntime -Irootfs-tools $(SANITIZE)
override LDFLAGS += -Wl,--as-needed -Wl,-O1 $(SANITIZE)

# What `warmrun --version` prints: a tag of the checkout (v1.2.3: 1.2.3, and
# -N-gHASH past it), else VERSION and the commit (VERSION-gHASH), -dirty with
# uncommitted changes; VERSION alone outside a git checkout of this tree (a
# source tarball). `make VERSION=...` sets the fallback.
VERSION  ?= 0.8.0
WR_VERSION := $(shell [ "$$(git -C '$(CURDIR)' rev-parse --show-toplevel 2>/dev/null)" = '$(CURDIR)' ] && \
    d=$$(git -C '$(CURDIR)' describe --tags --match 'v[0-9]*' --always --dirty 2>/dev/null) && \
    case $$d in (v[0-9]*) echo "$${d\#v}" ;; (*) echo "$(VERSION)-g$$d" ;; esac || echo '$(VERSION)')

pc_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)
override CFLAGS += $(call pc_cflags,$(PKGS))

# One folder per process (docs/architecture.md, "Map"): the library every
# program links, the container's pid-1 code (the shim only), the CLI, the
# daemon, the benchmarks.
# glibc_*.c: glibc's functions and texts for the programs linked with musl
# (the CLI and the shim: MUSL_STATIC), in those links only.
GLIBC_SRC     := $(wildcard runtime/lib/glibc_*.c)
LIB_SRC       := $(filter-out $(GLIBC_SRC),$(wildcard runtime/lib/*.c))
CONTAINER_SRC := $(wildcard runtime/container/*.c)
CLI_SRC       := $(wildcard runtime/cli/*.c)
DAEMON_SRC    := $(wildcard runtime/daemon/*.c)
SHIM_SRC  := $(wildcard shim/*.c)
IMAGE_SRC := $(wildcard rootfs-tools/*.c)
TEST_SRC  := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)
ATTACK_SRC := $(wildcard tests/attack/*.c)
# warmrun-bench (`warmrun bench`): its own program, so that none of it is in
# the static CLI; warmrun-probe: the static probe of `bench activation`.
BENCHTOOL_SRC := $(wildcard runtime/bench/*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CONTAINER_OBJ := $(CONTAINER_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
SHIM_OBJ  := $(SHIM_SRC:%.c=$(BUILD)/%.o)
IMAGE_OBJ := $(IMAGE_SRC:%.c=$(BUILD)/%.o)
LIBWR     := $(BUILD)/libwarmrun.a
LIBCONTAINER := $(BUILD)/libwarmrun-container.a
LIBDAEMON := $(BUILD)/libwarmrun-daemon.a
LIBIMAGE  := $(BUILD)/librootfs-tools.a
TESTS     := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCHES   := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
ATTACKS   := $(ATTACK_SRC:tests/attack/%.c=$(BUILD)/attack/%)
BENCHTOOL_OBJ := $(BENCHTOOL_SRC:%.c=$(BUILD)/%.o)

BINS := $(BINDIR)/warmrun $(BINDIR)/warmrun-daemon $(BINDIR)/warmrun-shim $(BINDIR)/warmrun-image \
        $(BINDIR)/warmrun-bench $(BINDIR)/warmrun-probe

.PHONY: all fuzz deps test unit-tests asan run bench format format-check cppcheck layout-check lint clean
all: $(BINS) $(TESTS) $(BENCHES) $(ATTACKS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The daemon's HTTP listener alone sees libmicrohttpd's headers.
$(BUILD)/runtime/daemon/%.o: override CFLAGS += $(call pc_cflags,libmicrohttpd)

$(LIBWR): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBCONTAINER): $(CONTAINER_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The daemon's modules without its main, for the daemon and the unit tests.
$(LIBDAEMON): $(filter-out %/daemon_main.o,$(DAEMON_OBJ))
	@rm -f $@
	ar rcs $@ $^

# musl-gcc's include path has musl's headers only: the kernel's UAPI
# headers (linux/, asm/, asm-generic/) and those of jansson, libseccomp and
# libcap come from a directory of links, searched after musl's own
# (-isystem). asm/ is the one of the compiler's multiarch triplet. Every
# musl object is compiled with runtime/lib/musl_compat.h forced in: the
# glibc 2.36 wrappers and constants musl 1.2.3 lacks (close_range,
# open_tree, move_mount, ...), so that the sources stay the same for both.
MUSL_CC      ?= musl-gcc
MUSL_BUILD   := $(BUILD)/musl
MUSL_INC     := $(MUSL_BUILD)/include
MUSL_CFLAGS   = $(CFLAGS) -isystem $(MUSL_INC) -include runtime/lib/musl_compat.h
JANSSON_INC  := $(shell pkg-config --variable=includedir jansson 2>/dev/null)
SECCOMP_INC  := $(shell pkg-config --variable=includedir libseccomp 2>/dev/null)
LIBCAP_INC   := $(shell pkg-config --variable=includedir libcap 2>/dev/null)
# Debian has no musl build of jansson, libseccomp or libcap: their glibc
# archives, whose members these programs link need standard C and four
# glibc fortify functions (runtime/lib/glibc_fortify.c; `nm -u` of each
# archive lists what its members need: libcap's text parser, which the
# shim does not link, would also need glibc's ctype tables).
static_lib    = $(shell pkg-config --variable=libdir $(1) 2>/dev/null)/lib$(2).a
MUSL_JANSSON := $(call static_lib,jansson,jansson)
MUSL_SECCOMP := $(call static_lib,libseccomp,seccomp)
MUSL_LIBCAP  := $(call static_lib,libcap,cap)
MUSL_LIB_OBJ := $(LIB_SRC:%.c=$(MUSL_BUILD)/%.o)
# Linked as objects, not from an archive: an archive member is taken only
# for a symbol undefined when the archive is read, and these must replace
# musl's strerror and abort and serve the glibc archives linked after it.
MUSL_GLIBC_OBJ := $(GLIBC_SRC:%.c=$(MUSL_BUILD)/%.o)
MUSL_CLI_OBJ := $(CLI_SRC:%.c=$(MUSL_BUILD)/%.o)
MUSL_SHIM_OBJ := $(SHIM_SRC:%.c=$(MUSL_BUILD)/%.o)
MUSL_CONTAINER_OBJ := $(CONTAINER_SRC:%.c=$(MUSL_BUILD)/%.o)
MUSL_LIBWR   := $(MUSL_BUILD)/libwarmrun.a
MUSL_LIBCONTAINER := $(MUSL_BUILD)/libwarmrun-container.a

# The container's pid-1 code is linked into the shim alone: the container
# is a clone of the shim. Static: no dynamic loader work per container,
# fewer mappings for clone3 to copy, and no relocated library pages of its
# own in every warm container (PSS).
#
# The CLI's and the shim's start-ups are on the activation path: the CLI is
# executed once per `warmrun activate`, the shim once per cold start
# without a daemon, per shim server (a new one every 32 fills) and per
# directly spawned shim. Both are linked statically (no dynamic loader work
# at all) and with musl: glibc's static start-up (init_cacheinfo,
# intel_check_word) issues 100+ cpuid instructions, each a VM exit on a
# virtual machine: ~0.5 ms of CPU per exec here against ~0.06 ms for musl's
# (docs/benchmarks.md, "The CLI without glibc's start-up", "The shim
# without glibc's start-up"). Their objects are built apart with musl-gcc
# under $(BUILD)/musl; every other program stays glibc. Under sanitizers
# (no ASan with musl, nor static) both are glibc builds, dynamic.
MUSL_STATIC := $(if $(SANITIZE),,-static)
# A reference musl cannot satisfy (a glibc-only function of an archive or
# of our objects) fails these static links (--no-undefined says so
# outright); none of the inputs has a weak reference, which would link as
# null.
ifeq ($(SANITIZE),)
$(BINDIR)/warmrun: $(MUSL_CLI_OBJ) $(MUSL_GLIBC_OBJ) $(MUSL_LIBWR)
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(LDFLAGS) $(MUSL_STATIC) -Wl,--no-undefined -o $@ $^ $(MUSL_JANSSON) -lm
$(BINDIR)/warmrun-shim: $(MUSL_SHIM_OBJ) $(MUSL_GLIBC_OBJ) $(MUSL_LIBCONTAINER) $(MUSL_LIBWR)
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(LDFLAGS) $(MUSL_STATIC) -Wl,--no-undefined -o $@ $^ \
	    $(MUSL_JANSSON) $(MUSL_SECCOMP) $(MUSL_LIBCAP) -lm
# The same shim linked with glibc, for the tests alone (never installed):
# 132-shim-musl.t compares the seccomp filters the two builds install,
# which must be the same to the byte.
GLIBC_SHIM := $(BUILD)/glibc-shim/warmrun-shim
all: $(GLIBC_SHIM)
$(GLIBC_SHIM): $(SHIM_OBJ) $(LIBCONTAINER) $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -static -o $@ $^ $(call pc_libs,jansson libseccomp libcap) -lm
else
$(BINDIR)/warmrun: $(CLI_OBJ) $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,jansson) -lm
# (No static link with the sanitizers' runtimes.)
$(BINDIR)/warmrun-shim: $(SHIM_OBJ) $(LIBCONTAINER) $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,jansson libseccomp libcap) -lm
endif

# No silent fall back to glibc when musl-gcc is missing: a clear failure.
MUSL_CHECK = @command -v $(MUSL_CC) >/dev/null 2>&1 || { echo "Makefile: $(MUSL_CC) not found: \
bin/warmrun and bin/warmrun-shim are linked with musl (Debian's musl-tools; scripts/install-deps installs it)" >&2; exit 1; }
$(MUSL_INC)/.links: Makefile
	$(MUSL_CHECK)
	@mkdir -p $(MUSL_INC)/sys
	ln -sfn /usr/include/linux $(MUSL_INC)/linux
	ln -sfn /usr/include/asm-generic $(MUSL_INC)/asm-generic
	ln -sfn /usr/include/$$($(MUSL_CC) -print-multiarch)/asm $(MUSL_INC)/asm
	ln -sfn $(JANSSON_INC)/jansson.h $(MUSL_INC)/jansson.h
	ln -sfn $(JANSSON_INC)/jansson_config.h $(MUSL_INC)/jansson_config.h
	ln -sfn $(SECCOMP_INC)/seccomp.h $(MUSL_INC)/seccomp.h
	ln -sfn $(SECCOMP_INC)/seccomp-syscalls.h $(MUSL_INC)/seccomp-syscalls.h
	ln -sfn $(LIBCAP_INC)/sys/capability.h $(MUSL_INC)/sys/capability.h
	@touch $@

$(MUSL_BUILD)/%.o: %.c | $(MUSL_INC)/.links
	$(MUSL_CHECK)
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(MUSL_CFLAGS) -MMD -MP -c $< -o $@

$(MUSL_LIBWR): $(MUSL_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(MUSL_LIBCONTAINER): $(MUSL_CONTAINER_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Rewritten only when the version changes: cli_version.o is rebuilt then.
$(BUILD)/version.txt: FORCE
	@mkdir -p $(dir $@)
	@echo '$(WR_VERSION)' >$@.tmp && { cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@; }
CLI_VERSION_OBJ := $(BUILD)/runtime/cli/cli_version.o $(MUSL_BUILD)/runtime/cli/cli_version.o
$(CLI_VERSION_OBJ): $(BUILD)/version.txt
$(CLI_VERSION_OBJ): override CFLAGS += -DWR_VERSION='"$(WR_VERSION)"'
.PHONY: FORCE

# The daemon (`warmrun daemon` executes it): jansson, and libmicrohttpd for
# its HTTP listener (--http). Linked dynamically: libmicrohttpd brings GnuTLS
# and p11-kit, which have no static archives here; the daemon starts once,
# so the loader's work is off every path that counts. The static CLI links
# none of it. Its network manager uses libnftables (a shared library only).
DAEMON_PKGS := jansson libmicrohttpd libnftables
$(BINDIR)/warmrun-daemon: $(BUILD)/runtime/daemon/daemon_main.o $(LIBDAEMON) $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(DAEMON_PKGS)) -lm

$(BINDIR)/warmrun-image: $(IMAGE_OBJ) $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,jansson libarchive libcrypto)

# The bench builds its busybox image with the store's own code, linked from
# an archive so that only the objects it uses come along.
$(LIBIMAGE): $(filter-out %/main.o,$(IMAGE_OBJ))
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/warmrun-bench: $(BENCHTOOL_OBJ) $(LIBIMAGE) $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,jansson libarchive libcrypto libcurl) -lm

# Static and without sanitizers: it must run inside the bench's image.
$(BINDIR)/warmrun-probe: runtime/bench/probe/probe.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 $(WARN) -static -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIBDAEMON) $(LIBCONTAINER) $(LIBWR) $(IMAGE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call pc_cflags,libarchive libcrypto) -Itests/unit $(LDFLAGS) -o $@ $< \
	    $(filter-out %/main.o,$(IMAGE_OBJ)) $(LIBDAEMON) $(LIBCONTAINER) $(LIBWR) \
	    $(call pc_libs,$(PKGS) libarchive libcrypto libmicrohttpd libnftables) -lm

# The profile's analysis is the CLI's (runtime/cli/profile_*.c): its test
# links those objects.
PROFILE_OBJ := $(filter $(BUILD)/runtime/cli/profile_%,$(CLI_OBJ))
$(BUILD)/tests/test_profile: tests/unit/test_profile.c $(PROFILE_OBJ) $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(PROFILE_OBJ) $(LIBWR) \
	    $(call pc_libs,jansson) -lm

$(BUILD)/bench/%: tests/bench/%.c $(LIBWR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBWR) -lm

# Attack helpers run inside test containers: static, no sanitizer.
$(BUILD)/attack/%: tests/attack/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -static -o $@ $<

# libFuzzer over the API request parser and the activation decoder
# (clang-14, bounded time; the corpus lives in tests/fuzz/). Not in `make test`.
FUZZ_TIME ?= 60
# The library modules the request parser and the activation decoder use.
FUZZ_LIB  := protocol protocol_resources protocol_volumes volumes exec_limits protocol_security security_profile activation error \
             container_id resources resources_check cpumask cgroup cgroup_v1 cgroup_v2 cgroup_file
FUZZ_CC   ?= clang-14
fuzz:
	@mkdir -p $(BUILD)/fuzz
	$(FUZZ_CC) -g -O1 -std=gnu11 -D_GNU_SOURCE -Iruntime -fsanitize=fuzzer,address,undefined \
	    -o $(BUILD)/fuzz/fuzz_request tests/fuzz/fuzz_request.c $(FUZZ_LIB:%=runtime/lib/%.c) \
	    $(call pc_libs,jansson)
	mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz_request -max_total_time=$(FUZZ_TIME) -max_len=65536 \
	    -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus tests/fuzz/corpus

deps:
	scripts/install-deps

test: deps
	$(MAKE) all
	$(MAKE) lint
	scripts/run-tests $(BUILD) $(BINDIR)

unit-tests: all
	prove --exec '' $(TESTS)

asan: deps
	$(MAKE) BUILD=build-asan BINDIR=build-asan/bin CFLAGS="-O1 -g" \
	    SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    scripts/run-tests build-asan build-asan/bin

run: deps
	$(MAKE) all
	scripts/run-demo $(BINDIR)

bench: deps
	$(MAKE) all
	$(BINDIR)/warmrun bench startup --setup --json $(BUILD)/bench-startup.json \
	    --svg $(BUILD)/bench-startup.svg

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

cppcheck:
	cppcheck --quiet --suppress=missingIncludeSystem --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr --std=c11 -D_GNU_SOURCE -Iruntime -Irootfs-tools \
	    runtime shim rootfs-tools tests/unit tests/bench tests/attack tests/fuzz tests/helpers

# The folder a file sits in says what it may include (scripts/check-layout).
layout-check:
	scripts/check-layout

lint: format-check cppcheck layout-check

clean:
	rm -rf build build-asan bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# trust: one entry point for building, testing, installing and benchmarking.
# `make` builds build/trust; `make check` runs every test plain and again
# under ASan+UBSan; `make deps` installs the Debian 12 packages we need.

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config

PKGS := libcrypto tss2-esys tss2-rc tss2-mu tss2-tctildr libcryptsetup libkeyutils libp11

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-missing-field-initializers \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
BASE_CFLAGS := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -Itrust
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
# libcryptsetup: trust opens it at run time (trust/target/luks.c); unit
# tests also call it directly, to make the volumes trust must refuse.
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(filter-out libcryptsetup,$(PKGS)))
TEST_LIBS = $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs libcryptsetup)
LDHARDEN := -pie -Wl,-z,relro,-z,now

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LAYERS := base formats keys target machine cli
SRCS := $(sort $(foreach l,$(LAYERS),$(wildcard trust/$(l)/*.c)))
LIB_SRCS := $(filter-out trust/cli/main.c,$(SRCS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
HDRS := $(wildcard trust/*/*.h) $(wildcard tests/unit/*.h)
MAN1 := $(sort $(wildcard trust/man/*.1))
MAN8 := $(sort $(wildcard trust/man/*.8))

# Debian 12 packages: build, test and run time (see README).
DEPS := build-essential pkg-config libssl-dev libtss2-dev libcryptsetup-dev libkeyutils-dev \
	keyutils openssl clang libclang-rt-14-dev valgrind shellcheck \
	swtpm swtpm-tools libtss2-tcti-swtpm0 tpm2-tools sbsigntool osslsigncode qemu-system-x86 qemu-utils ovmf \
	systemd-boot-efi linux-image-amd64 busybox-static cpio binutils mtools dosfstools \
	e2fsprogs fdisk util-linux mkosi debootstrap systemd-container zstd hyperfine cryptsetup-bin \
	socat groff-base efitools dpkg-dev debhelper lintian tpm2-openssl tpm2-abrmd libtss2-tcti-tabrmd0 dbus libp11-dev libengine-pkcs11-openssl softhsm2 opensc

.PHONY: all asan check check-run check-unit deps install deb bench fuzz demo clean images shellcheck

all: $(BUILD)/trust $(BUILD)/tools/memscan

define objs
$(patsubst trust/%.c,$(1)/obj/%.o,$(2))
endef

$(BUILD)/obj/%.o: trust/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(HARDEN) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/asan/obj/%.o: trust/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O1 $(SAN_FLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests $(BUILD)/asan/tests $(BUILD)/fuzz:
	mkdir -p $@

$(BUILD)/trust: $(call objs,$(BUILD),$(SRCS))
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/asan/trust: $(call objs,$(BUILD)/asan,$(SRCS))
	$(CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(call objs,$(BUILD),$(LIB_SRCS)) $(HDRS) | $(BUILD)/tests
	$(CC) $(BASE_CFLAGS) $(HARDEN) $(PKG_CFLAGS) -Itests/unit $(LDHARDEN) -o $@ $< \
		$(call objs,$(BUILD),$(LIB_SRCS)) $(TEST_LIBS)

$(BUILD)/asan/tests/%: tests/unit/%.c $(call objs,$(BUILD)/asan,$(LIB_SRCS)) $(HDRS) | $(BUILD)/asan/tests
	$(CC) $(BASE_CFLAGS) -O1 $(SAN_FLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< \
		$(call objs,$(BUILD)/asan,$(LIB_SRCS)) $(TEST_LIBS)

# Test tools (never installed): memscan stops a command in exit_group and
# dumps its memory to search for secrets (tests/tpm/test-memory.sh).
$(BUILD)/tools/memscan: tests/tools/memscan.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(HARDEN) $(CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $<

UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(UNIT_SRCS))

asan: $(BUILD)/asan/trust $(ASAN_UNIT_BINS)

# Fuzz targets (libFuzzer, clang from `make deps`): one harness per parser of
# untrusted bytes, seeded from tests/fuzz/corpus/<name>/.
# The library is compiled once (fuzzer-no-link instrumentation) and linked
# into each harness.
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Itrust -fno-sanitize-recover=all
$(BUILD)/fuzz/obj/%.o: trust/%.c $(HDRS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined $(PKG_CFLAGS) -c -o $@ $<
FUZZ_OBJS := $(call objs,$(BUILD)/fuzz,$(LIB_SRCS))
.SECONDARY: $(FUZZ_OBJS)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS) $(HDRS) | $(BUILD)/fuzz
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) -o $@ $< \
		$(FUZZ_OBJS) $(PKG_LIBS)

# TESTS selects suites (unit cli tpm vm images fuzz); FUZZ_SECONDS bounds each fuzz run.
TESTS ?= unit cli tpm fuzz vm images
FUZZ_SECONDS ?= 10
check: deps
	$(MAKE) check-run

check-run: $(BUILD)/trust $(BUILD)/tools/memscan $(UNIT_BINS) asan $(FUZZ_BINS)
	BUILD=$(BUILD) TESTS="$(TESTS)" FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh

fuzz: $(FUZZ_BINS)
	BUILD=$(BUILD) TESTS=fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-60} tests/run.sh

deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y $$missing; \
	else echo "all Debian packages present"; fi

# The installed layout (the Debian package's too, debian/rules): the binary,
# the snakeoil keyset where `trust keyset add snakeoil` finds it, the mkosi
# image configurations (images/*/mkosi.finalize find the hooks in the tree or
# in $(PREFIX)/lib/trust/mb-hooks), man pages, completion, documentation.
DOC := $(PREFIX)/share/doc/trust
install: $(BUILD)/trust
	install -D -m 0755 $(BUILD)/trust $(DESTDIR)$(PREFIX)/bin/trust
	install -d $(DESTDIR)$(PREFIX)/share/trust/keysets $(DESTDIR)$(PREFIX)/lib/trust/mb-hooks \
		$(DESTDIR)$(PREFIX)/share/trust/images $(DESTDIR)$(DOC)
	cp -R keysets/. $(DESTDIR)$(PREFIX)/share/trust/keysets/
	cp -R mb-hooks/. $(DESTDIR)$(PREFIX)/lib/trust/mb-hooks/
	cp -R images/. $(DESTDIR)$(PREFIX)/share/trust/images/
	mv $(DESTDIR)$(PREFIX)/share/trust/images/README.md $(DESTDIR)$(DOC)/images.md
	install -m 0644 vm/README.md $(DESTDIR)$(DOC)/vm.md
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(MAN8) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -D -m 0644 trust/completion/trust.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/trust
	install -D -m 0755 trust/initramfs-tools/hooks/trust \
		$(DESTDIR)$(PREFIX)/share/initramfs-tools/hooks/trust
	for s in init-premount local-top init-bottom; do \
		install -D -m 0755 trust/initramfs-tools/scripts/$$s/trust \
			$(DESTDIR)$(PREFIX)/share/initramfs-tools/scripts/$$s/trust || exit 1; \
	done
	install -D -m 0644 trust/systemd/trust-setup.service \
		$(DESTDIR)$(PREFIX)/share/trust/initrd/trust-setup.service

# The Debian package, built by dpkg-buildpackage from a copy of this tree
# (the checkout and its build/ stay as they are): $(BUILD)/deb/trust_*.deb,
# then lintian's verdict when lintian is installed.
VERSION = $(shell sed -n 's/^\#define TRUST_VERSION "\(.*\)"/\1/p' trust/cli/version.h)
deb:
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/trust-$(VERSION)
	tar --exclude=./.git --exclude=./$(BUILD) --exclude=./build --exclude=./debian/build \
		-cf - . | tar -C $(BUILD)/deb/trust-$(VERSION) -xf -
	cd $(BUILD)/deb/trust-$(VERSION) && dpkg-buildpackage -b -us -uc -j2 >../build.log 2>&1 || \
		{ tail -n 30 ../build.log; echo "make deb: dpkg-buildpackage failed ($(BUILD)/deb/build.log)" >&2; exit 1; }
	rm -rf $(BUILD)/deb/trust-$(VERSION)
	@ls $(BUILD)/deb/trust_$(VERSION)_*.deb
	@if command -v lintian >/dev/null; then lintian --fail-on error $(BUILD)/deb/trust_$(VERSION)_*.changes; \
	else echo "lintian is not installed: not checked"; fi

# Images (mkosi 14, Debian 12 inside) for a keyset: build/images/<keyset>/,
# layout in images/README.md. Needs root and network (or a warm cache).
KEYSET ?=
PROJECT ?= default
images: $(BUILD)/trust
	@[ -n "$(KEYSET)" ] || { echo "make images: set KEYSET=<keyset>, e.g. make images KEYSET=snakeoil" >&2; exit 2; }
	BUILD=$(BUILD) $(BUILD)/trust image build --keyset $(KEYSET) --project $(PROJECT)

# The README's main job: snakeoil keyset, its images, a VM launched and
# booted once, and what the guest's initrd did (vm/demo.sh).
demo: deps $(BUILD)/trust
	BUILD=$(BUILD) vm/demo.sh

bench: $(BUILD)/trust
	BUILD=$(BUILD) tests/bench/run.sh

shellcheck:
	shellcheck -x tests/*.sh tests/*/*.sh tests/data/*/*.sh mb-hooks/* .ci/run vm/*.sh \
		images/*.sh images/*/init images/*/initrd.conf images/*/mkosi.finalize \
		images/os/mkosi.extra/usr/lib/trust/trust-status \
		images/os/mkosi.extra/usr/lib/trust/trust-update trust/completion/trust.bash \
		trust/initramfs-tools/hooks/trust trust/initramfs-tools/scripts/*/trust

clean:
	rm -rf $(BUILD)

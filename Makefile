# garde - plain Makefile. `make help` lists the targets.
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
SBINDIR  = $(PREFIX)/sbin
MANDIR   = $(PREFIX)/share/man
# Where libpam looks for modules by name (Debian: /usr/lib/<triplet>/security).
PAMDIR  ?= $(or $(shell pkg-config --variable=libdir pam 2>/dev/null),$(PREFIX)/lib)/security
UNITDIR ?= $(PREFIX)/lib/systemd/system

CC      ?= cc
PKGS     = libconfig liboath libcrypto libqrencode
WARN     = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wcast-qual -Wwrite-strings -Wnull-dereference -Werror
HARDEN   = -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIC -fvisibility=hidden
CFLAGS  ?=
VERSION  = 0.1.0
CFLAGS  += -DGARDE_VERSION=\"$(VERSION)\" -std=gnu11 -g $(WARN) $(HARDEN) -Ilib \
           $(shell pkg-config --cflags $(PKGS) libcurl relp 2>/dev/null)
LDHARDEN = -Wl,-z,relro,-z,now -Wl,--as-needed
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

B        = build
LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/lib/policy_default.o
PAM_SRC  = $(wildcard pam_module/*.c)
PAM_OBJ  = $(PAM_SRC:%.c=$(B)/obj/%.o)
AGENT_SRC = $(wildcard agent/*.c)
AGENT_OBJ = $(AGENT_SRC:%.c=$(B)/obj/%.o)
AGENT_LIBS = $(shell pkg-config --libs libcurl relp libssl 2>/dev/null)
CLI_SRC  = $(wildcard cli/*.c)
CLI_OBJ  = $(CLI_SRC:%.c=$(B)/obj/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
UNIT_HELPERS = $(filter-out tests/unit/test_%.c,$(wildcard tests/unit/*.c))
MANPAGES = $(wildcard man/*.[1-8])
# The pam tier: Check programs over real libpam, and the test module they stack.
PAM_TEST_SRC = $(wildcard tests/pam/test_*.c)
PAM_TEST_BIN = $(PAM_TEST_SRC:tests/pam/%.c=$(B)/tests/pam_%)
PAM_TEST_HELPERS = tests/pam/pam_fixture.c
PAM_TEST_MOD = $(B)/tests/pam_expect_authtok.so

.PHONY: all deps test test-unit test-pam demo bench install clean help lint-man
all: $(B)/garde $(B)/pam_garde.so $(if $(AGENT_SRC),$(B)/garde-agent)

help:
	@echo "make            build $(B)/garde and $(B)/pam_garde.so"
	@echo "make deps       install build and test dependencies (Debian/Ubuntu, as root)"
	@echo "make test       run every test tier"
	@echo "make test-pam   the pam tier alone (real libpam, as root)"
	@echo "make demo       scripted tour of the embedded default policy"
	@echo "make bench      benchmarks, side by side with their anchors"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)"
	@echo "make clean"

deps:
	@sh scripts/deps.sh

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The default policy is embedded byte for byte from policies/ministry.conf.
$(B)/obj/lib/policy_default.o: lib/policy_default.S policies/ministry.conf
	@mkdir -p $(dir $@)
	$(CC) -c -o $@ lib/policy_default.S

$(B)/libgarde.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/garde: $(CLI_OBJ) $(B)/libgarde.a
	$(CC) $(CFLAGS) -pie $(LDHARDEN) -o $@ $(CLI_OBJ) $(B)/libgarde.a $(LIBS)

$(B)/garde-agent: $(AGENT_OBJ) $(B)/libgarde.a
	$(CC) $(CFLAGS) -pie $(LDHARDEN) -o $@ $(AGENT_OBJ) $(B)/libgarde.a $(LIBS) $(AGENT_LIBS)

# Exports pam_sm_* only (version script); every symbol resolved at link time.
# nodelete: a long-lived host (dovecot's auth worker) keeps the module and its
# libraries loaded between logins instead of mapping them again each time.
$(B)/pam_garde.so: $(PAM_OBJ) $(B)/libgarde.a pam_module/pam_garde.map
	$(CC) $(CFLAGS) -shared $(LDHARDEN) -Wl,--no-undefined -Wl,-z,nodelete \
		-Wl,--version-script=pam_module/pam_garde.map -o $@ $(PAM_OBJ) $(B)/libgarde.a \
		$(LIBS) -lpam

$(B)/tests/%: tests/unit/%.c $(UNIT_HELPERS) $(B)/libgarde.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(shell pkg-config --cflags check) -o $@ $< $(UNIT_HELPERS) \
		$(B)/libgarde.a $(LIBS) $(shell pkg-config --libs check)

# A module for the tests only (never installed): see its header.
$(PAM_TEST_MOD): tests/pam/pam_expect_authtok.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared $(LDHARDEN) -Wl,--no-undefined -o $@ $< -lpam

$(B)/tests/pam_%: tests/pam/%.c $(PAM_TEST_HELPERS) $(PAM_TEST_HELPERS:.c=.h) $(B)/libgarde.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags check) -o $@ $< $(PAM_TEST_HELPERS) \
		$(B)/libgarde.a $(LIBS) -lpam -ldl $(shell pkg-config --libs check)

test-pam: $(B)/pam_garde.so $(PAM_TEST_BIN) $(PAM_TEST_MOD)
	@for t in tests/pam/*.sh; do B=$(B) sh $$t || exit 1; done

test-unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

test: all $(UNIT_BIN) $(PAM_TEST_BIN) $(PAM_TEST_MOD)
	@sh tests/run-all.sh

demo: all
	@sh scripts/demo.sh

BENCH_BIN = $(B)/bench/pam_bench $(B)/bench/bench_decide $(B)/bench/bench_netset \
            $(B)/bench/bench_store $(B)/bench/pam_calls.so
# pam_garde's system calls alone, timed beside it (see its header).
$(B)/bench/pam_calls.so: bench/pam_calls.c $(B)/libgarde.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared $(LDHARDEN) -Wl,--no-undefined -Wl,-z,nodelete -o $@ $< \
		$(B)/libgarde.a $(LIBS) -lpam
$(B)/bench/pam_bench: bench/pam_bench.c $(B)/libgarde.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libgarde.a -Wl,--no-as-needed $(LIBS) -lpam
$(B)/bench/%: bench/%.c $(B)/libgarde.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libgarde.a $(LIBS)

bench: all $(BENCH_BIN)
	@B=$(B) sh bench/run.sh

lint-man:
	@for m in $(MANPAGES); do LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l $$m >/dev/null || exit 1; done

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(PREFIX)/share/garde/policies
	install -m 0755 $(B)/garde $(DESTDIR)$(BINDIR)/garde
	if [ -e $(B)/garde-agent ]; then install -d $(DESTDIR)$(SBINDIR) && \
		install -m 0755 $(B)/garde-agent $(DESTDIR)$(SBINDIR)/garde-agent; fi
	install -d $(DESTDIR)$(PAMDIR)
	install -m 0644 $(B)/pam_garde.so $(DESTDIR)$(PAMDIR)/pam_garde.so
	install -d $(DESTDIR)$(UNITDIR)
	install -m 0644 packaging/garde-agent.service $(DESTDIR)$(UNITDIR)/garde-agent.service
	install -m 0644 policies/*.conf $(DESTDIR)$(PREFIX)/share/garde/policies/
	for m in man/*.5; do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/; done
	for m in man/*.8; do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/; done

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

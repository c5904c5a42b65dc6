# doorman - build, test, demo, install.
#
# One object directory per build flavour (build/ or build-san/), binaries in bin/.
# Sources are found by folder, so a new module needs no edit here.

PREFIX	?= /usr/local
DESTDIR	?=
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc/doorman

CC	?= gcc
CFLAGS	?= -O2 -g
WARN	= -Wall -Wextra -Werror
VERSION = 0.1
CPPFLAGS += -D_GNU_SOURCE -I. -DDOORMAN_VERSION=\"$(VERSION)\"
ALL_CFLAGS = -std=gnu11 -pthread $(WARN) $(CFLAGS)
LDLIBS_SCREEN = -lev -lldns -llmdb -lhiredis -lssl -lcrypto -pthread
LDLIBS_SMTPD = -lev -lssl -lcrypto

# Sanitizer builds keep their binaries apart (build-san/bin), so that a
# SAN=1 run never leaves instrumented binaries in bin/.
ifeq ($(SAN),1)
B	?= build-san
BINDIR	?= $(B)/bin
ALL_CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
B	?= build
BINDIR	?= bin
endif

CONF_SRC	= $(wildcard conf/*.c)
RBL_SRC		= $(wildcard rbl/*.c)
CACHE_SRC	= $(wildcard cache/*.c)
HANDOFF_SRC	= backend/handoff.c
SCREEN_SRC	= $(wildcard screen/*.c)
SMTPD_SRC	= $(filter-out $(HANDOFF_SRC),$(wildcard backend/*.c))
UNIT_SRC	= $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(B)/%.o,$(1))

CONF_LIB	= $(B)/libconf.a
RBL_LIB		= $(B)/librbl.a
CACHE_LIB	= $(B)/libcache.a
HANDOFF_LIB	= $(B)/libhandoff.a
SCREEN_LIB	= $(B)/libscreen.a
SMTPD_LIB	= $(B)/libsmtpd.a
ALL_LIBS	= $(SCREEN_LIB) $(SMTPD_LIB) $(RBL_LIB) $(CACHE_LIB) $(HANDOFF_LIB) $(CONF_LIB)

UNIT_BIN	= $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))

.PHONY: all test unit integration demo install bench bench-paired fuzz clean check-deps valgrind
all: $(BINDIR)/doorman $(BINDIR)/doorman-smtpd

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(CONF_LIB): $(call obj,$(CONF_SRC))
$(RBL_LIB): $(call obj,$(RBL_SRC))
$(CACHE_LIB): $(call obj,$(CACHE_SRC))
$(HANDOFF_LIB): $(call obj,$(HANDOFF_SRC))
$(SCREEN_LIB): $(call obj,$(filter-out screen/main.c,$(SCREEN_SRC)))
$(SMTPD_LIB): $(call obj,$(filter-out backend/main.c,$(SMTPD_SRC)))
$(B)/lib%.a:
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^ $(if $^,,/dev/null) 2>/dev/null || ar rcs $@ $^

$(BINDIR)/doorman: $(B)/screen/main.o $(SCREEN_LIB) $(RBL_LIB) $(CACHE_LIB) $(HANDOFF_LIB) $(CONF_LIB)
	@mkdir -p $(BINDIR)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_SCREEN)

$(BINDIR)/doorman-smtpd: $(B)/backend/main.o $(SMTPD_LIB) $(HANDOFF_LIB) $(CONF_LIB)
	@mkdir -p $(BINDIR)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_SMTPD)

# Each unit suite links only the libraries of its module, so that one
# module being rebuilt does not hold up another's tests.
libs_for = $(strip \
	$(if $(filter test_rbl%,$(1)),$(RBL_LIB) $(CONF_LIB), \
	$(if $(filter test_cache%,$(1)),$(CACHE_LIB) $(CONF_LIB), \
	$(if $(filter test_handoff%,$(1)),$(HANDOFF_LIB) $(CONF_LIB), \
	$(if $(filter test_smtpd%,$(1)),$(SMTPD_LIB) $(HANDOFF_LIB) $(CONF_LIB), \
	$(if $(filter test_screen%,$(1)),$(ALL_LIBS), \
	$(CONF_LIB)))))))

.SECONDEXPANSION:
$(B)/tests/%: tests/unit/%.c $$(call libs_for,$$*)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(call libs_for,$*) -lcriterion $(LDLIBS_SCREEN)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t --jobs 2 --short-filename; done

integration: all
	DOORMAN_BIN=$(abspath $(BINDIR)) tests/integration/run-all

test: unit integration

demo:
	tests/integration/demo

# Every unit suite under valgrind (definite leaks and memory errors fail),
# then the daemons under valgrind (tests/integration/test_valgrind.py, also
# part of make test).  About 10 minutes: not part of make test.
VALGRIND = valgrind -q --leak-check=full --show-leak-kinds=definite \
	--errors-for-leak-kinds=definite --error-exitcode=99 --trace-children=yes \
	--trace-children-skip="*python3*,*redis-server*,*ldns-testns*,*smtp-sink*,*/sh,*/ls"
valgrind: all $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== valgrind $$t"; \
	    $(VALGRIND) $$t --jobs 1 --short-filename >/dev/null; done
	DOORMAN_BIN=$(abspath $(BINDIR)) tests/integration/run-all test_valgrind

bench: all
	tests/bench/run-all

bench-paired: all
	tests/bench/paired

fuzz:
	$(MAKE) -C tests/fuzz

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 755 bin/doorman $(DESTDIR)$(SBINDIR)/doorman
	install -m 755 bin/doorman-smtpd $(DESTDIR)$(SBINDIR)/doorman-smtpd
	test -e $(DESTDIR)$(SYSCONFDIR)/doorman.cf || \
		install -m 644 conf/doorman.cf $(DESTDIR)$(SYSCONFDIR)/doorman.cf
	for m in docs/*.8; do [ -e "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man8/; done; true
	for m in docs/*.5; do [ -e "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man5/; done; true

clean:
	rm -rf build build-san bin

-include $(shell find $(B) -name '*.d' 2>/dev/null)

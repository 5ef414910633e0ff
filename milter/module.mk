# mailward-milter: the Postfix half of the policy (libmilter daemon).

# Its message processors: S/MIME signing ($(SMIME_LIB), $(SMIME_LIBS)).
include $(srcdir)/milter/smime/module.mk

MILTER_SRCS = \
	milter/milter-main.c \
	milter/milter-daemon.c \
	milter/milter-socket.c \
	milter/milter-watchdog.c \
	milter/milter-log.c \
	milter/milter-config.c \
	milter/milter-callbacks.c \
	milter/milter-access.c \
	milter/milter-partner.c \
	milter/milter-sender.c \
	milter/milter-tlsrequired.c \
	milter/milter-reply.c \
	milter/milter-processor.c

MILTER_OBJS = $(MILTER_SRCS:%.c=$(B)/%.o)
MILTER_BIN = $(B)/mailward-milter
MILTER_LIBS = -lmilter -lpthread $(MW_MAILADDR_LIBS)

# The same daemon with a test message processor, for the tests of the
# processor hooks (tests/milter/test-processor.c).
MILTER_TEST_BIN = $(B)/tests/milter/mailward-milter-test
MILTER_TEST_OBJS = $(filter-out $(B)/milter/milter-processor.o,$(MILTER_OBJS)) \
	$(B)/tests/milter/milter-processor-test.o \
	$(B)/tests/milter/test-processor.o

ALL_TARGETS += $(MILTER_BIN) $(MILTER_TEST_BIN)
SAN_TARGETS += $(MILTER_BIN) $(MILTER_TEST_BIN)
INSTALL_TARGETS += install-milter
UNINSTALL_TARGETS += uninstall-milter

# Fast tests of the callbacks with miltertest, in both builds; the
# private-Postfix integration suite and the daemon under valgrind only in
# the normal one.
TESTS += $(srcdir)/tests/milter/miltertest.sh $(srcdir)/tests/milter/postfix.sh \
	$(srcdir)/tests/milter/daemon.sh $(srcdir)/tests/milter/outbound.sh \
	$(srcdir)/tests/milter/partner-pin.sh \
	$(srcdir)/tests/milter/valgrind.sh
SAN_TESTS += $(srcdir)/tests/milter/miltertest.sh
BENCH_TARGETS += bench-milter

# The message processors (S/MIME signing, milter/smime/module.mk) come in
# $(SMIME_LIB); the registry in milter-processor.c names them.
$(B)/milter/milter-processor.o: EXTRA_CFLAGS += -I$(srcdir)/milter

$(MILTER_BIN): $(MILTER_OBJS) $(SMIME_LIB) $(MW_POLICY_LIB) $(MW_MAILADDR_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $(MILTER_OBJS) $(SMIME_LIB) $(MW_POLICY_LIB) \
		$(MW_MAILADDR_LIB) \
		$(ALL_LDFLAGS) $(MILTER_LIBS) $(SMIME_LIBS)

$(B)/tests/milter/milter-processor-test.o: $(srcdir)/milter/milter-processor.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DMWM_TEST_PROCESSOR -MMD -MP -c $< -o $@

$(B)/tests/milter/test-processor.o: EXTRA_CFLAGS += -I$(srcdir)/milter

$(MILTER_TEST_BIN): $(MILTER_TEST_OBJS) $(MW_POLICY_LIB) $(MW_MAILADDR_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $(MILTER_TEST_OBJS) $(MW_POLICY_LIB) $(MW_MAILADDR_LIB) \
		$(ALL_LDFLAGS) $(MILTER_LIBS)

# Unit test of the address parser (shared/mw-mailaddr.c).
MILTER_UNIT_BIN = $(B)/tests/milter/test-mailaddr
ALL_TARGETS += $(MILTER_UNIT_BIN)
SAN_TARGETS += $(MILTER_UNIT_BIN)
TESTS += @B@/tests/milter/test-mailaddr
SAN_TESTS += @B@/tests/milter/test-mailaddr

$(B)/tests/milter/test-mailaddr.o: EXTRA_CFLAGS += -I$(srcdir)/tests/unit

$(MILTER_UNIT_BIN): $(B)/tests/milter/test-mailaddr.o $(B)/tests/unit/test-common.o \
		$(MW_MAILADDR_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/tests/unit/test-common.o \
		$(MW_MAILADDR_LIB) $(ALL_LDFLAGS) $(MW_MAILADDR_LIBS)

.PHONY: install-milter uninstall-milter bench-milter
install-milter: $(MILTER_BIN)
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man8
	$(INSTALL) -m 755 $(MILTER_BIN) $(DESTDIR)$(sbindir)/mailward-milter
	$(INSTALL) -m 644 $(srcdir)/doc/mailward-milter.8 $(DESTDIR)$(mandir)/man8/

uninstall-milter:
	rm -f $(DESTDIR)$(sbindir)/mailward-milter \
		$(DESTDIR)$(mandir)/man8/mailward-milter.8

bench-milter: $(MILTER_BIN)
	MW_SRCDIR=$(srcdir) MW_BUILDDIR=$(B) $(srcdir)/tests/milter/bench.sh

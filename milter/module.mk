# mailward-milter: the Postfix half of the policy (libmilter daemon).

MILTER_SRCS = \
	milter/milter-main.c \
	milter/milter-daemon.c \
	milter/milter-log.c \
	milter/milter-config.c \
	milter/milter-callbacks.c \
	milter/milter-access.c \
	milter/milter-partner.c \
	milter/milter-reply.c \
	milter/milter-processor.c

MILTER_OBJS = $(MILTER_SRCS:%.c=$(B)/%.o)
MILTER_BIN = $(B)/mailward-milter
# Message processors (milter/smime.mk) add their libraries here.
MILTER_LIBS = -lmilter -lpthread

ALL_TARGETS += $(MILTER_BIN)
SAN_TARGETS += $(MILTER_BIN)
INSTALL_TARGETS += install-milter
UNINSTALL_TARGETS += uninstall-milter

# Fast tests of the callbacks with miltertest, in both builds; the
# private-Postfix integration suite only in the normal one.
TESTS += $(srcdir)/tests/milter/miltertest.sh $(srcdir)/tests/milter/postfix.sh
SAN_TESTS += $(srcdir)/tests/milter/miltertest.sh
BENCH_TARGETS += bench-milter

# Prerequisites other than objects (the policy library) are left out of
# the link line by the filter; processors add their objects as further
# prerequisites of $(MILTER_BIN).
$(MILTER_BIN): $(MILTER_OBJS) $(MW_POLICY_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.o,$^) $(MW_POLICY_LIB) \
		$(ALL_LDFLAGS) $(MILTER_LIBS)

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

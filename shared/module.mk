# The policy module (libmwpolicy.a, position-independent so that the
# Dovecot modules can link it) and the mailward command.

POLICY_SRCS = \
	shared/mw-addr.c \
	shared/mw-addrset.c \
	shared/mw-arena.c \
	shared/mw-decide.c \
	shared/mw-decide-pending.c \
	shared/mw-decision-text.c \
	shared/mw-diag.c \
	shared/mw-glob.c \
	shared/mw-hostname.c \
	shared/mw-lexer.c \
	shared/mw-netlist.c \
	shared/mw-parser.c \
	shared/mw-policy.c \
	shared/mw-print.c \
	shared/mw-snapshot.c \
	shared/mw-util.c \
	shared/mw-validate-service.c \
	shared/mw-validate-partner.c \
	shared/mw-validate-smime-enc.c \
	shared/mw-validator.c

CLI_SRCS = \
	shared/cmd-main.c \
	shared/cmd-check.c \
	shared/cmd-test.c \
	shared/cmd-partners.c \
	$(AUDIT_SRCS)

# mailward audit: only the command links OpenSSL (certificate and cipher
# checks); the policy library stays free of it.
AUDIT_SRCS = \
	shared/cmd-audit.c \
	shared/cmd-audit-read.c \
	shared/cmd-audit-dovecot.c \
	shared/cmd-audit-postfix.c \
	shared/cmd-audit-policy.c \
	shared/cmd-audit-cert.c \
	shared/cmd-audit-output.c
AUDIT_LIBS = -lssl -lcrypto

MW_POLICY_LIB = $(B)/shared/libmwpolicy.a

# Mail addresses and canonical domains (mw-mailaddr.h), for the milter and
# its S/MIME processor: a library of its own, because IDNA needs libidn2
# and the policy module needs nothing.
MAILADDR_SRCS = shared/mw-mailaddr.c
MW_MAILADDR_LIB = $(B)/shared/libmwmailaddr.a
MW_MAILADDR_LIBS = -lidn2
ALL_TARGETS += $(MW_MAILADDR_LIB)
SAN_TARGETS += $(MW_MAILADDR_LIB)

$(MW_MAILADDR_LIB): $(MAILADDR_SRCS:%.c=$(B)/%.o)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^
MAILWARD_BIN = $(B)/mailward

POLICY_OBJS = $(POLICY_SRCS:%.c=$(B)/%.o)
CLI_OBJS = $(CLI_SRCS:%.c=$(B)/%.o)

ALL_TARGETS += $(MW_POLICY_LIB) $(MAILWARD_BIN)
SAN_TARGETS += $(MW_POLICY_LIB) $(MAILWARD_BIN)
INSTALL_TARGETS += install-mailward
UNINSTALL_TARGETS += uninstall-mailward

$(MW_POLICY_LIB): $(POLICY_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(POLICY_OBJS)

$(MAILWARD_BIN): $(CLI_OBJS) $(MW_POLICY_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJS) $(MAILWARD_SMIME_LIBS) $(MW_POLICY_LIB) $(ALL_LDFLAGS) $(AUDIT_LIBS)

.PHONY: install-mailward uninstall-mailward
install-mailward: $(MAILWARD_BIN)
	$(INSTALL) -d $(DESTDIR)$(sbindir)
	$(INSTALL) -m 755 $(MAILWARD_BIN) $(DESTDIR)$(sbindir)/mailward

uninstall-mailward:
	rm -f $(DESTDIR)$(sbindir)/mailward

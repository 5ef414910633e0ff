# S/MIME encryption (mw-smime-enc.h): part of the engine, so that the
# milter, mailward smime and the test programs share it.

# The "ldap" certificate source is smime-cert-ldap.c, over the LDAP module
# of milter/smime/ldap.mk.
MW_SMIME_ENGINE_SRCS += \
	milter/smime/smime-cert.c \
	milter/smime/smime-recip.c \
	milter/smime/smime-enc.c \
	milter/smime/smime-cert-ldap.c

# Its part of the message processor (libmilter), in $(SMIME_LIB).
MW_SMIME_ENC_PROC_OBJS = $(B)/milter/smime/smime-enc-proc.o

# mailward smime (shared/cmd-smime.c) runs the milter's own selection, so
# the command links the engine (OpenSSL only, no libmilter); a build
# without the milter has no smime subcommand.
MAILWARD_SMIME_LIBS = $(B)/shared/cmd-smime.o $(B)/milter/smime/libmwsmime-engine.a
$(MAILWARD_BIN): $(MAILWARD_SMIME_LIBS)
$(B)/shared/cmd-smime.o: EXTRA_CFLAGS += -I$(srcdir)/milter/smime
$(B)/shared/cmd-main.o: EXTRA_CFLAGS += -DMW_WITH_SMIME

# Test programs: the engine on a message file, the unit tests of the
# certificate selection, the benchmark.
MW_SMIMEENC_TEST_PROGS = mw-smime-encrypt unit-smimeenc bench-enc
MW_SMIMEENC_TEST_BINS = $(MW_SMIMEENC_TEST_PROGS:%=$(B)/tests/smimeenc/%)
ALL_TARGETS += $(MW_SMIMEENC_TEST_BINS)
SAN_TARGETS += $(MW_SMIMEENC_TEST_BINS)
$(MW_SMIMEENC_TEST_BINS:%=%.o): EXTRA_CFLAGS += -I$(srcdir)/milter/smime -I$(srcdir)/tests/smime
$(MW_SMIMEENC_TEST_BINS): %: %.o $(B)/milter/smime/libmwsmime-engine.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/milter/smime/libmwsmime-engine.a \
		$(ALL_LDFLAGS) -lssl -lcrypto -pthread

# Through a private Postfix (normal build only).
TESTS += $(srcdir)/tests/smimeenc/postfix-smimeenc.sh
TESTS += $(srcdir)/tests/smimeenc/interop-rfc9216.sh
TESTS += $(srcdir)/tests/smimeenc/run-unit.sh
SAN_TESTS += $(srcdir)/tests/smimeenc/run-unit.sh

BENCH_TARGETS += bench-smime-encrypt
.PHONY: bench-smime-encrypt
bench-smime-encrypt: $(B)/tests/smimeenc/bench-enc $(MILTER_BIN)
	MW_SRCDIR=$(srcdir) MW_BUILDDIR=$(B) $(srcdir)/tests/smimeenc/bench-enc.sh
TESTS += $(srcdir)/tests/smimeenc/policy-smimeenc.sh
SAN_TESTS += $(srcdir)/tests/smimeenc/policy-smimeenc.sh

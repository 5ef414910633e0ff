# The LDAP certificate source of S/MIME encryption (smime-ldap.h): its
# objects go into the S/MIME engine (and so into the milter), with
# libldap; its tests against a private slapd, its benchmark and its
# fuzz target.  Included from milter/smime/module.mk after encrypt.mk,
# before the engine's object list is used.

MW_SMIME_LDAP_SRCS = \
	milter/smime/smime-ldap.c \
	milter/smime/smime-ldap-conn.c \
	milter/smime/smime-ldap-cache.c \
	milter/smime/smime-ldap-filter.c \
	milter/smime/smime-ldap-value.c
MW_SMIME_LDAP_OBJS = $(MW_SMIME_LDAP_SRCS:%.c=$(B)/%.o)
MW_SMIME_ENGINE_SRCS += $(MW_SMIME_LDAP_SRCS)
# module.mk's SMIME_LIBS names them
MW_SMIME_LDAP_LIBS = -lldap -llber

# The encryption's "ldap" source (encrypt.mk) calls this module; the
# programs that link the engine without $(SMIME_LIBS) get libldap too.
$(B)/milter/smime/smime-cert-ldap.o: EXTRA_CFLAGS += -I$(srcdir)/shared
$(MAILWARD_BIN): AUDIT_LIBS += $(MW_SMIME_LDAP_LIBS)
$(MW_SMIMEENC_TEST_BINS): MW_LDFLAGS += $(MW_SMIME_LDAP_LIBS)

MW_SMIME_LDAP_TEST_PROGS = ldap-lookup ldap-unit
MW_SMIME_LDAP_TEST_BINS = $(MW_SMIME_LDAP_TEST_PROGS:%=$(B)/tests/smimeenc/%)

ALL_TARGETS += $(MW_SMIME_LDAP_TEST_BINS)
SAN_TARGETS += $(MW_SMIME_LDAP_TEST_BINS)
TESTS += @B@/tests/smimeenc/ldap-unit $(srcdir)/tests/smimeenc/ldap-source.sh
SAN_TESTS += @B@/tests/smimeenc/ldap-unit $(srcdir)/tests/smimeenc/ldap-source.sh
# End to end with Postfix and the milter (normal build only).
TESTS += $(srcdir)/tests/smimeenc/ldap-postfix.sh

$(MW_SMIME_LDAP_TEST_BINS:%=%.o): EXTRA_CFLAGS += -I$(srcdir)/milter/smime

# (the engine's archive by its path: module.mk names it after this file)
$(MW_SMIME_LDAP_TEST_BINS): %: %.o $(B)/milter/smime/libmwsmime-engine.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/milter/smime/libmwsmime-engine.a \
		$(ALL_LDFLAGS) $(SMIME_LIBS) -pthread

# LDAP lookups per second against a private slapd, cold and warm cache,
# 1 and 8 threads.
BENCH_TARGETS += bench-smime-ldap
.PHONY: bench-smime-ldap
bench-smime-ldap: $(B)/tests/smimeenc/ldap-lookup
	MW_SRCDIR=$(srcdir) MW_BUILDDIR=$(B) $(srcdir)/tests/smimeenc/bench-ldap.sh

# libFuzzer target (tests/fuzz/fuzz-ldap-attr.c): any bytes as a value
# of userSMIMECertificate or userCertificate;binary.  The corpus starts
# from a certs-only PKCS#7 and DER certificates openssl makes.
FUZZ_TARGETS += fuzz-ldap-attr
.PHONY: fuzz-ldap-attr
fuzz-ldap-attr:
	@if [ -z "$(FUZZ_CC)" ]; then \
		echo "make fuzz needs clang with libFuzzer (Debian packages clang, libclang-rt-14-dev)"; \
		exit 1; fi
	@mkdir -p build-fuzz/corpus-ldap-attr
	$(FUZZ_CC) -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-I$(srcdir)/milter/smime -o build-fuzz/fuzz-ldap-attr \
		$(srcdir)/tests/fuzz/fuzz-ldap-attr.c \
		$(srcdir)/milter/smime/smime-ldap-value.c -lcrypto
	$(srcdir)/tests/fuzz/ldap-attr-corpus.sh build-fuzz/corpus-ldap-attr
	build-fuzz/fuzz-ldap-attr -max_total_time=$(FUZZ_SECONDS) \
		-max_len=70000 -artifact_prefix=build-fuzz/ \
		build-fuzz/corpus-ldap-attr

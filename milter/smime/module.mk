# S/MIME signing for mailward-milter: the engine and the message
# processor in $(SMIME_LIB), which milter/module.mk links into the
# daemon; its unit tests and benchmark.

MW_SMIME_ENGINE_SRCS = \
	milter/smime/smime-spool.c \
	milter/smime/smime-reader.c \
	milter/smime/smime-mimehdr.c \
	milter/smime/smime-encode.c \
	milter/smime/smime-canon.c \
	milter/smime/smime-headers.c \
	milter/smime/smime-sign.c \
	milter/smime/smime-key.c \
	milter/smime/smime-keytable.c \
	milter/smime/smime-sendermap.c
MW_SMIME_ENGINE_OBJS = $(MW_SMIME_ENGINE_SRCS:%.c=$(B)/%.o)
MW_SMIME_PROC_OBJS = $(B)/milter/smime/smime-processor.o

# The engine alone (no libmilter symbols), for the test programs.
MW_SMIME_ENGINE_LIB = $(B)/milter/smime/libmwsmime-engine.a
SMIME_LIB = $(B)/milter/smime/libmwsmime.a
SMIME_LIBS = -lssl -lcrypto

MW_SMIME_TEST_PROGS = unit-smime mw-smime-sign bench-sign
MW_SMIME_TEST_BINS = $(MW_SMIME_TEST_PROGS:%=$(B)/tests/smime/%)
MW_SMIME_TEST_OBJS = $(MW_SMIME_TEST_BINS:%=%.o)

ALL_TARGETS += $(SMIME_LIB) $(MW_SMIME_TEST_BINS)
SAN_TARGETS += $(SMIME_LIB) $(B)/tests/smime/unit-smime \
	$(B)/tests/smime/mw-smime-sign
TESTS += $(srcdir)/tests/smime/run-smime-tests.sh
SAN_TESTS += $(srcdir)/tests/smime/run-smime-tests.sh \
	$(srcdir)/tests/smime/run-milter-smime.sh
BENCH_TARGETS += bench-smime-sign

$(MW_SMIME_PROC_OBJS): EXTRA_CFLAGS += -I$(srcdir)/milter
$(MW_SMIME_TEST_OBJS): EXTRA_CFLAGS += -I$(srcdir)/milter/smime

$(MW_SMIME_ENGINE_LIB): $(MW_SMIME_ENGINE_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(SMIME_LIB): $(MW_SMIME_ENGINE_OBJS) $(MW_SMIME_PROC_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(MW_SMIME_TEST_BINS): %: %.o $(MW_SMIME_ENGINE_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(MW_SMIME_ENGINE_LIB) $(ALL_LDFLAGS) \
		$(SMIME_LIBS)

.PHONY: bench-smime-sign
bench-smime-sign: $(B)/tests/smime/bench-sign
	MW_SRCDIR=$(srcdir) MW_BUILDDIR=$(B) $(srcdir)/tests/smime/bench-sign.sh

# The daemon's own tests of signing, through libmilter and through a
# private Postfix (normal build only).
TESTS += $(srcdir)/tests/smime/run-milter-smime.sh \
	$(srcdir)/tests/smime/postfix-smime.sh

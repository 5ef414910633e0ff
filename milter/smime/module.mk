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
	milter/smime/smime-keyfile.c \
	milter/smime/smime-key.c \
	milter/smime/smime-lines.c \
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

# libFuzzer target (tests/fuzz/fuzz-smime.c): any bytes as a message
# through canonicalisation and signing, built like fuzz-policy
# (tests/module.mk) from the engine's sources.  The corpus starts from the
# test corpus and a message with a line longer than the reader's buffer.
FUZZ_TARGETS += fuzz-smime
.PHONY: fuzz-smime
fuzz-smime:
	@if [ -z "$(FUZZ_CC)" ]; then \
		echo "make fuzz needs clang with libFuzzer (Debian packages clang, libclang-rt-14-dev)"; \
		exit 1; fi
	@mkdir -p build-fuzz/corpus-smime
	$(FUZZ_CC) -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-I$(srcdir)/milter/smime -o build-fuzz/fuzz-smime \
		$(srcdir)/tests/fuzz/fuzz-smime.c \
		$(addprefix $(srcdir)/,$(MW_SMIME_ENGINE_SRCS)) $(SMIME_LIBS)
	python3 $(srcdir)/tests/smime/gen-corpus.py build-fuzz/corpus-smime \
		fuzz@example.org
	python3 -c 'import sys; sys.stdout.buffer.write(b"Content-Type: text/plain\r\n\r\n" + b"x" * 70000 + b"\r\nend\r\n")' \
		>build-fuzz/corpus-smime/long-line.eml
	printf '%s\n' '"Content-Type: "' '"Content-Transfer-Encoding: "' \
		'"multipart/mixed; boundary="' '"multipart/digest"' \
		'"message/rfc822"' '"text/plain"' '"application/octet-stream"' \
		'"7bit"' '"8bit"' '"binary"' '"base64"' '"quoted-printable"' \
		'"x-uuencode"' '"--"' '"\x0d\x0a"' '"\x0d\x0a\x0d\x0a"' '"From "' \
		'"=_fuzz"' >build-fuzz/smime.dict
	build-fuzz/fuzz-smime -max_total_time=$(FUZZ_SECONDS) -max_len=131072 \
		-artifact_prefix=build-fuzz/ \
		-dict=build-fuzz/smime.dict build-fuzz/corpus-smime

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
	milter/smime/smime-sendermap.c \
	milter/smime/smime-from.c
include $(srcdir)/milter/smime/encrypt.mk
include $(srcdir)/milter/smime/ldap.mk
MW_SMIME_ENGINE_OBJS = $(MW_SMIME_ENGINE_SRCS:%.c=$(B)/%.o)
MW_SMIME_PROC_OBJS = $(B)/milter/smime/smime-processor.o $(MW_SMIME_ENC_PROC_OBJS)

# The engine alone (no libmilter symbols), for the test programs.
MW_SMIME_ENGINE_LIB = $(B)/milter/smime/libmwsmime-engine.a
SMIME_LIB = $(B)/milter/smime/libmwsmime.a
SMIME_LIBS = -lssl -lcrypto $(MW_SMIME_LDAP_LIBS)

MW_SMIME_TEST_PROGS = unit-smime mw-smime-sign bench-sign bench-milter
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
		$(SMIME_LIBS) -pthread

.PHONY: bench-smime-sign
bench-smime-sign: $(B)/tests/smime/bench-sign
	MW_SRCDIR=$(srcdir) MW_BUILDDIR=$(B) $(srcdir)/tests/smime/bench-sign.sh

# Signed messages per second through the running milter, over its
# socket, next to a bare CMS_sign() in the same run.
BENCH_TARGETS += bench-smime-milter
.PHONY: bench-smime-milter
bench-smime-milter: $(B)/tests/smime/bench-milter $(MILTER_BIN)
	MW_SRCDIR=$(srcdir) MW_BUILDDIR=$(B) $(srcdir)/tests/smime/bench-milter.sh

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

# libFuzzer target (tests/fuzz/fuzz-smime-tables.c): any bytes as the key
# table, the sender map and a From value, read the way the milter reads
# them.  The corpus starts from a few tables of each kind.
FUZZ_TARGETS += fuzz-smime-tables
.PHONY: fuzz-smime-tables
fuzz-smime-tables:
	@if [ -z "$(FUZZ_CC)" ]; then \
		echo "make fuzz needs clang with libFuzzer (Debian packages clang, libclang-rt-14-dev)"; \
		exit 1; fi
	@mkdir -p build-fuzz/corpus-smime-tables
	$(FUZZ_CC) -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-I$(srcdir)/milter/smime -o build-fuzz/fuzz-smime-tables \
		$(srcdir)/tests/fuzz/fuzz-smime-tables.c \
		$(addprefix $(srcdir)/,$(MW_SMIME_ENGINE_SRCS)) $(SMIME_LIBS)
	printf '# keys\nfuzz@example.org cert.pem key.pem\n@example.org cert.pem key.pem cert.pem\nFuzz@Example.ORG cert.pem link.pem links=follow\n' \
		>build-fuzz/corpus-smime-tables/keytable
	printf 'sales@example.org alice, bob\n@example.net carol\nfuzz@example.org fuzz@example.org,x\n' \
		>build-fuzz/corpus-smime-tables/sendermap
	printf '"Doe, John (x)" <@a.example,@b.example:"j d"@Example.ORG> (c)' \
		>build-fuzz/corpus-smime-tables/from
	printf '%s\n' '"fuzz@example.org"' '"cert.pem"' '"key.pem"' '"link.pem"' \
		'"links=follow"' '"@example.org"' '"\x0a"' '"#"' '","' '"<"' '">"' \
		'"\x22"' '"("' '")"' '":"' '";"' '"["' '"]"' '"../"' '"/"' \
		>build-fuzz/smime-tables.dict
	build-fuzz/fuzz-smime-tables -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-artifact_prefix=build-fuzz/ \
		-dict=build-fuzz/smime-tables.dict build-fuzz/corpus-smime-tables


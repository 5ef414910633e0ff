# Unit tests of the policy module, the golden parser tests, the fuzz
# target and the decision benchmark.

UNIT_TESTS = test-addrset test-decide test-match test-decide-pending test-loader \
	test-snapshot
UNIT_BINS = $(UNIT_TESTS:%=$(B)/tests/unit/%)

ALL_TARGETS += $(UNIT_BINS) $(B)/tests/bench/bench-decide $(B)/tests/bench/bench-validate \
	$(B)/tests/bench/bench-snapshot
SAN_TARGETS += $(UNIT_BINS)
TESTS += $(UNIT_TESTS:%=@B@/tests/unit/%) $(srcdir)/tests/policy/run-golden \
	$(srcdir)/tests/unit/run-valgrind $(srcdir)/tests/audit/run-audit
SAN_TESTS += $(UNIT_TESTS:%=@B@/tests/unit/%) $(srcdir)/tests/policy/run-golden \
	$(srcdir)/tests/audit/run-audit
BENCH_TARGETS += bench-decide bench-validate

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(B)/tests/unit/test-common.o $(MW_POLICY_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/tests/unit/test-common.o $(MW_POLICY_LIB) $(ALL_LDFLAGS)

$(B)/tests/bench/bench-decide: $(B)/tests/bench/bench-decide.o $(MW_POLICY_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(MW_POLICY_LIB) $(ALL_LDFLAGS)

$(B)/tests/bench/bench-validate: $(B)/tests/bench/bench-validate.o $(MW_POLICY_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(MW_POLICY_LIB) $(ALL_LDFLAGS)

$(B)/tests/bench/bench-snapshot: $(B)/tests/bench/bench-snapshot.o $(MW_POLICY_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(MW_POLICY_LIB) $(ALL_LDFLAGS)

.PHONY: bench-decide bench-validate fuzz-policy
bench-decide: $(B)/tests/bench/bench-decide
	$(B)/tests/bench/bench-decide

bench-validate: $(B)/tests/bench/bench-validate
	$(B)/tests/bench/bench-validate

# libFuzzer needs clang; the target is built in its own directory with
# its own flags, from the same sources.
FUZZ_SECONDS = 60
FUZZ_TARGETS += fuzz-policy
fuzz-policy:
	@if [ -z "$(FUZZ_CC)" ]; then \
		echo "make fuzz needs clang with libFuzzer (Debian packages clang, libclang-rt-14-dev)"; \
		exit 1; fi
	@mkdir -p build-fuzz/corpus
	$(FUZZ_CC) -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -I$(srcdir)/shared \
		-DSYSCONFDIR='"$(sysconfdir)"' -o build-fuzz/fuzz-policy \
		$(srcdir)/tests/fuzz/fuzz-policy.c $(addprefix $(srcdir)/,$(POLICY_SRCS))
	cp $(srcdir)/tests/policy/*.conf build-fuzz/corpus/
	build-fuzz/fuzz-policy -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-dict=$(srcdir)/tests/fuzz/policy.dict build-fuzz/corpus

# The net-list reader on its own: block lists are the largest input a
# policy reads, and they bypass the policy lexer.
FUZZ_TARGETS += fuzz-netlist
.PHONY: fuzz-netlist
fuzz-netlist:
	@if [ -z "$(FUZZ_CC)" ]; then \
		echo "make fuzz needs clang with libFuzzer (Debian packages clang, libclang-rt-14-dev)"; \
		exit 1; fi
	@mkdir -p build-fuzz/corpus-netlist
	$(FUZZ_CC) -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -I$(srcdir)/shared \
		-DSYSCONFDIR='"$(sysconfdir)"' -o build-fuzz/fuzz-netlist \
		$(srcdir)/tests/fuzz/fuzz-netlist.c $(addprefix $(srcdir)/,$(POLICY_SRCS))
	cp $(srcdir)/tests/policy/*.list build-fuzz/corpus-netlist/
	build-fuzz/fuzz-netlist -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-dict=$(srcdir)/tests/fuzz/netlist.dict build-fuzz/corpus-netlist

# The policy image that the Dovecot login processes map, seeded with
# small valid images that the unit test writes.
FUZZ_TARGETS += fuzz-snapshot
.PHONY: fuzz-snapshot
fuzz-snapshot: $(B)/tests/unit/test-snapshot
	@if [ -z "$(FUZZ_CC)" ]; then \
		echo "make fuzz needs clang with libFuzzer (Debian packages clang, libclang-rt-14-dev)"; \
		exit 1; fi
	@mkdir -p build-fuzz/corpus-snapshot
	$(FUZZ_CC) -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -I$(srcdir)/shared \
		-DSYSCONFDIR='"$(sysconfdir)"' -o build-fuzz/fuzz-snapshot \
		$(srcdir)/tests/fuzz/fuzz-snapshot.c $(addprefix $(srcdir)/,$(POLICY_SRCS))
	MW_SNAPSHOT_SEED_DIR=build-fuzz/corpus-snapshot $(B)/tests/unit/test-snapshot
	build-fuzz/fuzz-snapshot -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
		build-fuzz/corpus-snapshot

# The tests that need neither root nor a daemon: the Debian package build
# runs them (dh_auto_test).
ROOTLESS_TESTS = $(UNIT_TESTS:%=@B@/tests/unit/%) $(srcdir)/tests/policy/run-golden
.PHONY: check-rootless
check-rootless: $(UNIT_BINS) $(MAILWARD_BIN)
	@$(srcdir)/tests/run-tests B=$(B) $(ROOTLESS_TESTS)

# The Debian packages, installed into a throw-away Debian root.
include $(srcdir)/tests/package/module.mk

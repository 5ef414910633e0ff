# The Debian packages: built from debian/, checked with lintian, and
# installed, used, removed and purged in a throw-away Debian root made
# with debootstrap in tests/tmp (test-packages.sh); and the
# README's policy excerpt against the example the packages ship.
TESTS += $(srcdir)/tests/package/test-readme-example.sh \
	$(srcdir)/tests/package/test-packages.sh
ROOTLESS_TESTS += $(srcdir)/tests/package/test-readme-example.sh

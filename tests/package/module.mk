# The Debian packages: built from debian/, checked with lintian, and
# installed, used, removed and purged in a throw-away Debian root made
# with debootstrap in the build directory (tests/package/test-packages.sh).
TESTS += $(srcdir)/tests/package/test-packages.sh

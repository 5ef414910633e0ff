#!/bin/sh
# The encryption unit tests (unit-smimeenc) on a fresh test PKI; under
# valgrind too when it is installed and the build has no sanitizer.
set -u
bin=$MW_BUILDDIR/tests/smimeenc
T=$(mktemp -d "${TMPDIR:-/tmp}/mw-smimeenc.XXXXXX")
trap 'rm -rf "$T"' EXIT
if ! "$MW_SRCDIR/tests/smimeenc/make-enc-pki.sh" "$T/pki" >/dev/null 2>&1; then
	echo "not ok 1 - the test PKI"
	exit 1
fi
rc=0
"$bin/unit-smimeenc" "$T/pki" || rc=1
if command -v valgrind >/dev/null && ! ldd "$bin/unit-smimeenc" | grep -q libasan; then
	if valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
		--error-exitcode=99 "$bin/unit-smimeenc" "$T/pki" >"$T/vg.out" 2>"$T/vg.err"; then
		echo "ok - unit-smimeenc is clean under valgrind"
	else
		echo "not ok - unit-smimeenc under valgrind"
		sed 's/^/# /' "$T/vg.err" | head -40
		rc=1
	fi
fi
exit $rc

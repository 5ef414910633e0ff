#!/bin/sh
# make bench: S/MIME signing rates through the engine next to the bare
# CMS_sign() rate of the same key, and the peak memory for a 50 MB message
# in the engine alone and in the running milter.
set -eu
srcdir=${MW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${MW_BUILDDIR:-build}
case $B in /*) ;; *) B=$srcdir/$B ;; esac
bench=$B/tests/smime/bench-sign
T=$(mktemp -d "${TMPDIR:-/tmp}/mw-smime-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
"$srcdir/tests/smime/make-pki.sh" "$T/pki"
p=$T/pki

echo "S/MIME signing (one core; engine = spool + MIME canonicalisation + CMS + new body):"
for size in 10240 1048576; do
	"$bench" "$p/alice.pem" "$p/alice.key" "$p/inter.pem" alice@example.org "$size" 2
	"$bench" "$p/bob.pem" "$p/bob.key" "$p/inter.pem" bob@example.org "$size" 2
done
echo "Memory:"
"$bench" "$p/alice.pem" "$p/alice.key" "$p/inter.pem" alice@example.org \
	$((50 * 1024 * 1024)) 0
"$srcdir/tests/smime/bench-milter-rss.sh"

#!/bin/sh
# make bench-smime-encrypt: encrypted (and signed+encrypted) messages per
# second through the engine for 10 KB and 1 MB messages to 1 and 10
# recipients, next to a bare CMS_encrypt() (CMS_sign() + CMS_encrypt())
# of the same bytes in the same run (goal: ratio >= 0.7), and the peak
# memory for a 50 MB message.
set -eu
srcdir=${MW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${MW_BUILDDIR:-build}
case $B in /*) ;; *) B=$srcdir/$B ;; esac
bench=$B/tests/smimeenc/bench-enc
T=$(mktemp -d "${TMPDIR:-/tmp}/mw-smimeenc-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
"$srcdir/tests/smimeenc/make-enc-pki.sh" "$T/pki" >/dev/null 2>&1
echo "S/MIME encryption, AES-256-GCM (one core; recipients RSA-2048 and EC P-256 mixed;"
echo "engine = spool + canonicalisation + streamed CMS + base64 spool + read back):"
for size in 10240 1048576; do
	for n in 1 10; do
		"$bench" "$T/pki" "$size" "$n" 2
		"$bench" "$T/pki" "$size" "$n" 2 sign
	done
done
echo "Memory:"
"$bench" "$T/pki" $((50 * 1024 * 1024)) 2 0 sign
"$srcdir/tests/smimeenc/bench-milter-rss.sh"

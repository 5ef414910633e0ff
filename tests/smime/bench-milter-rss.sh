#!/bin/sh
# make bench: the peak memory of mailward-milter's worker process while
# it signs a 50 MB message received through the milter protocol, next to
# its memory before the message.  The body is spooled to a file above the
# policy's spool_threshold, so the peak should stay far below the size.
set -u
. "$(dirname "$0")/../milter/lib.sh"
here=$MW_SRCDIR/tests/smime

mwt_init
mwt_smime_keys || exit 1
cat >"$MWT_TMP/policy.conf" <<EOT
service submission {
  postfix_daemon_name = ORIGINATING
}
smime {
  sign            = authenticated
  keytable        = $MWT_TMP/smime.keys
  spool_threshold = 1M
  tmpdir          = $MWT_TMP/spool
}
EOT
chmod 644 "$MWT_TMP/policy.conf"
socket=unix:$MWT_TMP/run/milter.sock
if ! mwt_milter_start "$MWT_TMP/policy.conf" "$socket"; then
	echo "bench-milter-rss: the milter did not start" >&2
	cat "$MWT_TMP/milter.log" >&2
	exit 1
fi
python3 - "$MWT_TMP/big.eml" <<'PY'
import sys
line = "Gr\u00fc\u00dfe, a line of an 8-bit message for the memory benchmark.\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"From: alice@example.org\nSubject: big\nMIME-Version: 1.0\n"
            b"Content-Type: text/plain; charset=utf-8\n"
            b"Content-Transfer-Encoding: 8bit\n\n")
    chunk = (line * 1000).encode()
    for _ in range(50 * 1024 * 1024 // len(chunk) + 1):
        f.write(chunk)
PY
worker=$(mwt_milter_worker)
hwm() { sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$worker/status"; }
before=$(hwm)
python3 "$here/milter-client.py" "$socket" alice@example.org \
	"$MWT_TMP/big.eml" "$MWT_TMP/big.out" || {
	echo "bench-milter-rss: signing failed" >&2
	tail "$MWT_TMP/milter.log" >&2
	exit 1
}
after=$(hwm)
if ! openssl cms -verify -in "$MWT_TMP/big.out" -CAfile "$pki/root.pem" \
	-out /dev/null 2>/dev/null; then
	echo "bench-milter-rss: the signed message does not verify" >&2
	exit 1
fi
in_mb=$(($(wc -c <"$MWT_TMP/big.eml") >> 20))
out_mb=$(($(wc -c <"$MWT_TMP/big.out") >> 20))
echo "mailward-milter worker, $in_mb MB message signed ($out_mb MB out): peak RSS $after (before the message: $before)"
mwt_milter_stop

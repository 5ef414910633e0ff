#!/bin/sh
# make bench-smime-encrypt: the peak memory of mailward-milter's worker
# while it signs and encrypts a 50 MB message received through the milter
# protocol (tests/smime/milter-client.py), next to its memory before the
# message; the result must decrypt and verify.
set -u
. "$(dirname "$0")/../milter/lib.sh"

mwt_init
pki=$MWT_TMP/pki
"$MW_SRCDIR/tests/smimeenc/make-enc-pki.sh" "$pki" >/dev/null 2>&1 || exit 1
printf 'alice@example.org %s/alice.pem %s/alice.key %s/inter.pem\n' \
	"$pki" "$pki" "$pki" >"$MWT_TMP/smime.keys"
mkdir -p "$MWT_TMP/spool"
[ "$(id -u)" -ne 0 ] ||
	chown -R nobody "$pki" "$MWT_TMP/smime.keys" "$MWT_TMP/spool"
cat >"$MWT_TMP/policy.conf" <<EOT
service submission {
  postfix_daemon_name = ORIGINATING
}
smime {
  sign            = authenticated
  keytable        = $MWT_TMP/smime.keys
  spool_threshold = 1M
  tmpdir          = $MWT_TMP/spool
  encrypt         = required
  certificates    = "$pki/certs" "$pki/certs.table"
  trust           = "$pki/root.pem"
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
python3 "$MW_SRCDIR/tests/smime/milter-client.py" "$socket" alice@example.org \
	"$MWT_TMP/big.eml" "$MWT_TMP/big.out" || {
	echo "bench-milter-rss: encryption failed" >&2
	tail "$MWT_TMP/milter.log" >&2
	exit 1
}
after=$(hwm)
if ! openssl cms -decrypt -in "$MWT_TMP/big.out" -recip "$pki/netbob.pem" \
	-inkey "$pki/netbob.key" -out "$MWT_TMP/big.signed" 2>/dev/null ||
   ! openssl cms -verify -in "$MWT_TMP/big.signed" -CAfile "$pki/root.pem" \
	-out /dev/null 2>/dev/null; then
	echo "bench-milter-rss: the message does not decrypt and verify" >&2
	exit 1
fi
in_mb=$(($(wc -c <"$MWT_TMP/big.eml") >> 20))
out_mb=$(($(wc -c <"$MWT_TMP/big.out") >> 20))
echo "mailward-milter worker, $in_mb MB message signed and encrypted ($out_mb MB out): peak RSS $after (before the message: $before)"
mwt_milter_stop

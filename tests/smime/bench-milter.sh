#!/bin/sh
# make bench: signed messages per second through the running
# mailward-milter over its unix socket, with 1 and 8 concurrent clients
# playing Postfix's part, for a 10 KB message, RSA-2048 and ECDSA P-256;
# next to the bare CMS_sign() rate of the same bytes and key, measured in
# the same run with as many threads, and the CPU time the milter's worker
# spends per message.  The machine's other load counts against both.
set -u
. "$(dirname "$0")/../milter/lib.sh"
bench=$MW_BUILDDIR/tests/smime/bench-milter
seconds=${MW_BENCH_SECONDS:-5}

mwt_init
mwt_smime_keys || exit 1
printf 'bob@example.org %s/bob.pem %s/bob.key %s/inter.pem\n' \
	"$pki" "$pki" "$pki" >>"$MWT_TMP/smime.keys"
cat >"$MWT_TMP/policy.conf" <<EOT
service submission {
  postfix_daemon_name = ORIGINATING
}
smime {
  sign            = authenticated
  keytable        = $MWT_TMP/smime.keys
  tmpdir          = $MWT_TMP/spool
}
EOT
chmod 644 "$MWT_TMP/policy.conf"
socket=unix:$MWT_TMP/run/milter.sock
if ! mwt_milter_start "$MWT_TMP/policy.conf" "$socket"; then
	echo "bench-milter: the milter did not start" >&2
	cat "$MWT_TMP/milter.log" >&2
	exit 1
fi
# 10 KB of mail as users write it: 8-bit text that needs encoding.
for who in alice bob nokey; do
	python3 - "$MWT_TMP/$who.eml" "$who@example.org" <<'PY'
import sys
line = "Gr\u00fc\u00dfe aus K\u00f6ln, a line of a message for the benchmark.\n"
text = (line * 200).encode()[:10 * 1024 - 300]
with open(sys.argv[1], "wb") as f:
    f.write(("From: %s\r\nTo: bob@example.net\r\nSubject: bench\r\n"
             "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n\r\n" % sys.argv[2]).encode()
            + text.replace(b"\n", b"\r\n"))
PY
done
echo "S/MIME signing through mailward-milter's socket, 10 KB messages (${seconds} s each)"
echo "(worker CPU: the milter worker's user + system time per message;"
echo " bare: CPU per bare sign, 1 / its rate for each core in use):"
status=0
worker=$(mwt_milter_worker)
for clients in 1 8; do
	for who in alice bob; do
		"$bench" "$socket" "$who@example.org" "$MWT_TMP/$who.eml" \
			"$pki/$who.pem" "$pki/$who.key" "$pki/inter.pem" \
			"$seconds" "$clients" "$worker" || status=1
	done
	# The same protocol steps for a From without a key: what the
	# milter protocol costs without any signing.
	MW_BENCH_UNSIGNED=1 "$bench" "$socket" nokey@example.org \
		"$MWT_TMP/nokey.eml" "$pki/bob.pem" "$pki/bob.key" \
		"$pki/inter.pem" "$seconds" "$clients" "$worker" || status=1
done
mwt_milter_stop
exit $status

#!/bin/sh
# The README's demo: a private Postfix on loopback with mailward-milter on
# its submission port and a private Dovecot (with mailward's passdb) for
# its SMTP AUTH.  A plain submission is refused; the same mail over
# STARTTLS with a login is accepted, signed with the sender's S/MIME key
# and reaches the next hop (smtp-sink), where the signature is verified.
# Run as root after "make"; everything it starts is stopped at the end.
set -u
MW_SRCDIR=${MW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MW_BUILDDIR=${MW_BUILDDIR:-build}
. "$MW_SRCDIR/tests/milter/lib.sh"

if [ ! -x "$MILTER" ]; then
	echo "demo: build first (make)" >&2
	exit 1
fi
mwt_unshare_mounts "$0" "$@"
mwt_ports || { echo "demo: no free ports in 21000-21999" >&2; exit 1; }
mwt_init
mwt_make_certs "$MWT_TMP/certs"
# The example policy, with its S/MIME key table in the scratch directory
# and a certificate for alice@example.org from a CA made for the demo.
mwt_smime_keys || exit 1
policy=$MWT_TMP/mailward.conf
sed "s|\"/etc/mailward/smime.keys\"|\"$MWT_TMP/smime.keys\"|" \
	"$MW_SRCDIR/doc/mailward.conf.example" >"$policy"
chmod 644 "$policy"
mwt_dovecot_sasl_start "$policy" alice@example.org secret || exit 1
if ! mwt_sink_start ||
   ! mwt_milter_start "$policy" "unix:$MWT_TMP/run/milter.sock" ||
   ! mwt_postfix_start "unix:$MWT_TMP/run/milter.sock"; then
	echo "demo: start-up failed; the files stay in $MWT_TMP" >&2
	MW_KEEP_TMP=1	# read by the clean-up
	exit 1
fi

session() {
	echo
	echo "### $1"
	shift
	swaks --server 127.0.0.1 --port "$MWT_SUBMISSION_PORT" \
		--helo client.example --from alice@example.org \
		--to bob@example.net --h-Subject "mailward demo" \
		--suppress-data "$@" 2>&1 |
		grep -E '^( [-~]>|<[-~*]{1,2}) ' | grep -vE '^<[-~] +250-'
}

session "Plain submission: refused by mailward-milter"
session "STARTTLS and a login: accepted" --tls \
	--auth PLAIN --auth-user alice@example.org --auth-password secret

echo
echo "### mailward-milter's log"
grep -E "reject:|tempfail:|smime:" "$MWT_TMP/milter.log"

echo
echo "### Dovecot's log: mailward's passdb on Postfix's SASL login"
grep "mailward: decision=" "$MWT_TMP/dovecot/dovecot.log"

echo
printf '### The next hop received: '
msg=$MWT_TMP/received.eml
if ! mwt_wait_for 20 sh -c "cat '$MWT_TMP'/sink/* 2>/dev/null | grep -q 'Subject: mailward demo'"; then
	echo "nothing (see $MWT_TMP/postfix.log)"
	exit 1
fi
cat "$MWT_TMP"/sink/* | grep -E '^\s+\(using TLS' | head -1
# smtp-sink's dump starts with its own X-* lines; the message follows.
sed -n '/^X-Client-Addr:/,$p' "$MWT_TMP"/sink/* >"$msg"
grep -E '^(From|Subject|Content-Type):' "$msg" | head -3

echo
echo "### openssl cms -verify on the received message (the demo's CA)"
openssl cms -verify -in "$msg" -CAfile "$pki/root.pem" \
	-signer "$MWT_TMP/signer.pem" -out /dev/null 2>&1 | sed 's/^/  /'
openssl x509 -in "$MWT_TMP/signer.pem" -noout -subject -ext subjectAltName 2>/dev/null |
	sed 's/^/  /'

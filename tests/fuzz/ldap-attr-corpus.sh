#!/bin/sh
# ldap-attr-corpus.sh DIR: seeds for fuzz-ldap-attr, made fresh with
# openssl: a DER certificate, a certs-only PKCS#7 with one and with two
# certificates, and the PKCS#7 with a byte after it.
set -eu
d=$1
mkdir -p "$d"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
for n in a b; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$t/$n.key" -out "$t/$n.pem" -days 30 \
		-subj "/CN=fuzz $n" -addext subjectAltName=email:$n@example.org \
		2>/dev/null
done
openssl x509 -in "$t/a.pem" -outform DER -out "$d/cert.der"
openssl crl2pkcs7 -nocrl -certfile "$t/a.pem" -outform DER -out "$d/one.p7"
cat "$t/a.pem" "$t/b.pem" >"$t/ab.pem"
openssl crl2pkcs7 -nocrl -certfile "$t/ab.pem" -outform DER -out "$d/two.p7"
{ cat "$d/one.p7"; printf x; } >"$d/trailing.p7"

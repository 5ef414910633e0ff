#!/bin/sh
# Encryption to independent material: the RFC 9216 example certificates.
# mailward's engine (mw-smime-encrypt, the code the milter runs) encrypts
# a message to Bob (RSA) in every form the policy offers, and Bob's
# published private key opens it with OpenSSL; the CBC/PKCS#1 v1.5 form
# also with NSS cmsutil.  Dana's certificate is X25519 (RFC 9216 7):
# where the OpenSSL in use can encrypt to it, her key must open it;
# OpenSSL 3.0 cannot (BIO_new_CMS: operation not supported for this
# keytype), and the engine must then fail rather than send anything.
# Prints TAP.
set -u
here=${MW_SRCDIR:-$(dirname "$0")/../..}/tests/smimeenc
enc=$MW_BUILDDIR/tests/smimeenc/mw-smime-encrypt
rfc=$here/rfc9216
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mw-rfc9216.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0 failures=0
check() {
	what=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		failures=$((failures + 1))
	fi
}

printf 'From: alice@smime.example\r\nTo: bob@smime.example\r\nSubject: RFC 9216 interop\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHello, Bob: Gr\303\274\303\237e.\r\n' \
	>"$tmp/msg.eml"
# The entity, canonical: QP for the 8-bit text.
printf 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello, Bob: Gr=C3=BC=C3=9Fe.\r\n' \
	>"$tmp/expected"

for form in "aes-256-gcm oaep" "aes-128-gcm oaep" "aes-256-cbc oaep" \
	"aes-256-cbc pkcs1" "aes-128-cbc pkcs1"; do
	set -- $form
	name=$1-$2
	opt=
	[ "$2" = pkcs1 ] && opt=-p
	check "$name: encrypted to Bob" \
		"$enc" -c "$1" $opt "$tmp/msg.eml" "$tmp/$name.eml" "$rfc/lamps-bob.encrypt.crt"
	check "$name: Bob's published key decrypts it (openssl cms)" sh -c \
		"openssl cms -decrypt -in '$tmp/$name.eml' -recip '$rfc/lamps-bob.encrypt.crt' \
			-inkey '$rfc/lamps-bob.decrypt.p8.pem' -out '$tmp/$name.out' 2>'$tmp/$name.err' &&
		 cmp -s '$tmp/$name.out' '$tmp/expected'"
done
check "aes-256-gcm-oaep: AuthEnvelopedData with RSAES-OAEP" sh -c \
	"openssl cms -cmsout -print -in '$tmp/aes-256-gcm-oaep.eml' 2>/dev/null | grep -q 'id-smime-ct-authEnvelopedData' &&
	 openssl cms -cmsout -print -in '$tmp/aes-256-gcm-oaep.eml' 2>/dev/null | grep -q rsaesOaep"

if command -v cmsutil >/dev/null && command -v pk12util >/dev/null; then
	mkdir "$tmp/nss"
	certutil -N -d "sql:$tmp/nss" --empty-password
	openssl pkcs12 -export -legacy -certpbe NONE -in "$rfc/lamps-bob.encrypt.crt" \
		-inkey "$rfc/lamps-bob.decrypt.p8.pem" -out "$tmp/bob.p12" \
		-passout pass:x 2>/dev/null
	pk12util -i "$tmp/bob.p12" -d "sql:$tmp/nss" -W x >/dev/null 2>&1
	python3 -c "
import sys, base64
d = open(sys.argv[1], 'rb').read().split(b'\r\n\r\n', 1)[1]
open(sys.argv[2], 'wb').write(base64.b64decode(d))" \
		"$tmp/aes-256-cbc-pkcs1.eml" "$tmp/cbc.p7m"
	check "aes-256-cbc-pkcs1: NSS cmsutil -D opens it with Bob's key" sh -c \
		"cmsutil -D -i '$tmp/cbc.p7m' -d 'sql:$tmp/nss' -p '' -o '$tmp/cbc.nss' 2>/dev/null &&
		 cmp -s '$tmp/cbc.nss' '$tmp/expected'"
else
	check "NSS cmsutil and pk12util are installed" false
fi

if "$enc" "$tmp/msg.eml" "$tmp/dana.eml" "$rfc/lamps-dana.encrypt.crt" 2>"$tmp/dana.err"; then
	check "Dana (X25519): her published key decrypts it" sh -c \
		"openssl cms -decrypt -in '$tmp/dana.eml' -recip '$rfc/lamps-dana.encrypt.crt' \
			-inkey '$rfc/lamps-dana.decrypt.p8.pem' -out '$tmp/dana.out' 2>/dev/null &&
		 cmp -s '$tmp/dana.out' '$tmp/expected'"
else
	echo "# $(openssl version): $(cat "$tmp/dana.err")"
	check "Dana (X25519): this OpenSSL cannot encrypt to X25519, and nothing is written" \
		sh -c "grep -q 'not supported' '$tmp/dana.err' && [ ! -s '$tmp/dana.eml' ]"
fi
# The selection refuses her certificate for that reason, so a milter
# never accepts a recipient it cannot encrypt to.
mkdir "$tmp/dana-dir"
cp "$rfc/lamps-dana.encrypt.crt" "$tmp/dana-dir/dana.pem"
printf 'smime {\n  encrypt = opportunistic\n  certificates = "%s"\n  trust = "%s"\n}\n' \
	"$tmp/dana-dir" "$rfc/lamps-dana.encrypt.crt" >"$tmp/dana.conf"
"$MW_BUILDDIR/mailward" smime -c "$tmp/dana.conf" dana@smime.example >"$tmp/dana.smime" 2>&1
check "mailward smime: Dana's X25519 certificate is refused with the reason" \
	grep -q "rejected: .*Dana Hopper.*X25519 key agreement is not supported" "$tmp/dana.smime"
echo "1..$n"
[ "$failures" -eq 0 ]

#!/bin/sh
# make-enc-pki.sh DIR: the signing test PKI (tests/smime/make-pki.sh) and,
# from the same intermediate CA, certificates for encryption:
#   alice-enc  RSA-2048, alice@example.org, keyEncipherment (the sender's
#              own: her signing certificate allows signatures only)
#   rachel     RSA-2048, rachel@example.com, keyEncipherment
#   erin       EC P-256, erin@example.com, keyAgreement
#   brad       RSA-2048, brad@example.com (a Bcc recipient in the tests)
#   outsider   RSA-2048, outsider@example.com (never in the envelope)
#   sigonly    RSA-2048, sigonly@example.com, digitalSignature only
#   noemail    RSA-2048, keyEncipherment, serverAuth only
#   old        RSA-2048, old@example.com, expired in 2021
#   rachel2    RSA-2048, rachel@example.com, valid longer than rachel
#   stranger   RSA-2048, stranger@example.com, self-signed (untrusted)
#   netbob     RSA-2048, bob@example.net (the recipient of milter-client.py)
# Then certs/ (a directory source: the PEM files and the intermediate)
# and certs.table (a table source for alice and brad).
set -eu
d=$1
"$(dirname "$0")/../smime/make-pki.sh" "$d"
ossl() { openssl "$@" 2>/dev/null; }

# enc NAME rsa|ec KEYUSAGE EKU SAN [DAYS|STARTDATE ENDDATE]
enc() {
	name=$1 alg=$2 ku=$3 eku=$4 san=$5
	if [ "$alg" = ec ]; then
		ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
			-out "$d/$name.key"
	else
		ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
			-out "$d/$name.key"
	fi
	chmod 600 "$d/$name.key"
	ossl req -new -key "$d/$name.key" -out "$d/$name.csr" \
		-subj "/O=mailward test/CN=$name"
	cat >"$d/$name.ext" <<EOT
basicConstraints = CA:FALSE
keyUsage = critical, $ku
extendedKeyUsage = $eku
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOT
	if [ $# -gt 6 ]; then
		dates="-startdate $6 -enddate $7"
	else
		dates="-days ${6:-30}"
	fi
	# shellcheck disable=SC2086
	ossl ca -batch -notext -config "$d/ca.cnf" -in "$d/$name.csr" \
		-out "$d/$name.pem" -extfile "$d/$name.ext" $dates
}

enc alice-enc rsa keyEncipherment emailProtection email:alice@example.org
enc rachel rsa "digitalSignature, keyEncipherment" emailProtection \
	email:rachel@example.com 20
enc rachel2 rsa keyEncipherment emailProtection email:rachel@example.com 40
enc erin ec keyAgreement emailProtection email:erin@example.com
enc brad rsa keyEncipherment emailProtection email:brad@example.com
enc netbob rsa keyEncipherment emailProtection email:bob@example.net
enc outsider rsa keyEncipherment emailProtection email:outsider@example.com
enc sigonly rsa digitalSignature emailProtection email:sigonly@example.com
enc noemail rsa keyEncipherment serverAuth email:noemail@example.com
enc old rsa keyEncipherment emailProtection email:old@example.com \
	20200101000000Z 20210101000000Z
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$d/stranger.key" \
	-out "$d/stranger.pem" -days 30 -subj "/CN=stranger" \
	-addext keyUsage=critical,keyEncipherment \
	-addext extendedKeyUsage=emailProtection \
	-addext subjectAltName=email:stranger@example.com

mkdir -p "$d/certs"
for n in rachel rachel2 erin netbob outsider sigonly noemail old stranger inter; do
	cp "$d/$n.pem" "$d/certs/$n.pem"
done
cat "$d/alice-enc.pem" "$d/inter.pem" >"$d/alice-enc-chain.pem"
cat "$d/brad.pem" "$d/inter.pem" >"$d/brad-chain.pem"
printf '# address certificate\nalice@example.org alice-enc-chain.pem\nBrad@Example.COM brad-chain.pem\n' \
	>"$d/certs.table"

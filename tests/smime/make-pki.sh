#!/bin/sh
# make-pki.sh DIR: a test PKI made fresh for each run (no private key is
# ever kept in the repository): a root CA, an intermediate CA, and user
# certificates for the key table checks.
#   alice     RSA-2048, alice@example.org        valid
#   bob       ECDSA P-256, bob@example.org       valid
#   domain    RSA-2048, carol@ and dave@example.org (domain default)
#   expired   alice@example.org, expired in 2021
#   noeku     alice@example.org, extendedKeyUsage serverAuth only
#   other     mallory@example.net
#   loosekey  alice@example.org, key file mode 0644
#   dave      RSA-2048, Dave.Jones@Example.ORG (upper case, as AD CS
#             issues them)
#   locked    RSA-2048, alice@example.org, key under a passphrase
set -eu
d=$1
mkdir -p "$d/ca/new"
: >"$d/ca/index.txt"
echo 1000 >"$d/ca/serial"
ossl() { openssl "$@" 2>/dev/null; }

ossl req -x509 -newkey rsa:2048 -nodes -keyout "$d/root.key" \
	-out "$d/root.pem" -days 30 -subj "/O=mailward test/CN=Test Root CA" \
	-addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign
cat >"$d/ca-ext.cnf" <<EOT
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOT
ossl req -newkey rsa:2048 -nodes -keyout "$d/inter.key" -out "$d/inter.csr" \
	-subj "/O=mailward test/CN=Test Intermediate CA"
ossl x509 -req -in "$d/inter.csr" -CA "$d/root.pem" -CAkey "$d/root.key" \
	-CAcreateserial -days 30 -extfile "$d/ca-ext.cnf" -out "$d/inter.pem"

# The intermediate issues through "openssl ca", which can back-date.
cat >"$d/ca.cnf" <<EOT
[ca]
default_ca = test_ca
[test_ca]
database = $d/ca/index.txt
new_certs_dir = $d/ca/new
serial = $d/ca/serial
certificate = $d/inter.pem
private_key = $d/inter.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
EOT

# user NAME rsa|ec EKU SAN [STARTDATE ENDDATE]
user() {
	name=$1 alg=$2 eku=$3 san=$4
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
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = $eku
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOT
	if [ $# -gt 4 ]; then
		dates="-startdate $5 -enddate $6"
	else
		dates="-days 30"
	fi
	# shellcheck disable=SC2086
	ossl ca -batch -notext -config "$d/ca.cnf" -in "$d/$name.csr" \
		-out "$d/$name.pem" -extfile "$d/$name.ext" $dates
}

user alice rsa emailProtection email:alice@example.org
user bob ec emailProtection email:bob@example.org
user domain rsa emailProtection "email:carol@example.org, email:dave@example.org"
user expired rsa emailProtection email:alice@example.org \
	20200101000000Z 20210101000000Z
user noeku rsa serverAuth email:alice@example.org
user other rsa emailProtection email:mallory@example.net
user loosekey rsa emailProtection email:alice@example.org
chmod 644 "$d/loosekey.key"
user dave rsa emailProtection email:Dave.Jones@Example.ORG
user locked rsa emailProtection email:alice@example.org
ossl pkey -in "$d/locked.key" -aes256 -passout pass:secret -out "$d/locked.enc"
mv "$d/locked.enc" "$d/locked.key"
chmod 600 "$d/locked.key"

# Shell helpers for the tests of the LDAP certificate source: a test PKI
# and private slapd instances on loopback, each with its own slapd.conf,
# mdb database and TLS certificate, started and stopped by pid.  Built on
# tests/milter/lib.sh (TAP output, scratch directory, clean-up); the
# caller runs in its own network namespace (ldt_start), so the ports
# are free and nothing is reachable from outside.
#
# The directory, under dc=example,dc=com (ou=people):
#   alice@example.org      userSMIMECertificate (certs-only PKCS#7)
#   bob@example.org        userCertificate;binary (DER)
#   expired@example.org    userCertificate;binary, expired in 2021
#   untrusted@example.org  userCertificate;binary from another CA
#   two@example.org        two certificates in userCertificate;binary
#   nocert@example.org     an entry without a certificate
#   cn=milter,dc=example,dc=com  the bind DN; its password in
#                          $LDT/milter.secret (mode 0600).  Only bound
#                          users may read the people.

. "$MW_SRCDIR/tests/milter/lib.sh"

LDT_LOOKUP=$MW_BUILDDIR/tests/smimeenc/ldap-lookup
LDT_BASE="ou=people,dc=example,dc=com"
LDT_BIND_DN="cn=milter,dc=example,dc=com"
LDT_SLAPD=/usr/sbin/slapd
[ -x "$LDT_SLAPD" ] || LDT_SLAPD=$(command -v slapd || echo slapd)
LDT_SLAPADD=/usr/sbin/slapadd
[ -x "$LDT_SLAPADD" ] || LDT_SLAPADD=$(command -v slapadd || echo slapadd)

ldt_ossl() { openssl "$@" 2>/dev/null; }

# ldt_ca NAME: a root CA in $LDT/NAME.pem, issuing with "openssl ca"
# (which can back-date) through $LDT/NAME.cnf.
ldt_ca() {
	mkdir -p "$LDT/$1-db/new"
	: >"$LDT/$1-db/index.txt"
	echo 1000 >"$LDT/$1-db/serial"
	ldt_ossl req -x509 -newkey rsa:2048 -nodes -keyout "$LDT/$1.key" \
		-out "$LDT/$1.pem" -days 30 -subj "/O=mailward test/CN=$1" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign
	cat >"$LDT/$1.cnf" <<EOT
[ca]
default_ca = the_ca
[the_ca]
database = $LDT/$1-db/index.txt
new_certs_dir = $LDT/$1-db/new
serial = $LDT/$1-db/serial
certificate = $LDT/$1.pem
private_key = $LDT/$1.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
EOT
}

# ldt_cert CA NAME EXT_LINES [STARTDATE ENDDATE]: $LDT/NAME.{key,pem,der}
ldt_cert() {
	ca=$1 name=$2
	ldt_ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$LDT/$name.key"
	chmod 600 "$LDT/$name.key"
	ldt_ossl req -new -key "$LDT/$name.key" -out "$LDT/$name.csr" \
		-subj "/O=mailward test/CN=$name"
	printf '%s\n' "$3" >"$LDT/$name.ext"
	if [ $# -gt 3 ]; then
		dates="-startdate $4 -enddate $5"
	else
		dates="-days 30"
	fi
	# shellcheck disable=SC2086
	ldt_ossl ca -batch -notext -config "$LDT/$ca.cnf" -in "$LDT/$name.csr" \
		-out "$LDT/$name.pem" -extfile "$LDT/$name.ext" $dates
	ldt_ossl x509 -in "$LDT/$name.pem" -outform DER -out "$LDT/$name.der"
}

# ldt_user_cert CA NAME ADDRESS [STARTDATE ENDDATE]: an S/MIME
# certificate for encryption (RSA: keyEncipherment).
ldt_user_cert() {
	ca=$1 name=$2 addr=$3
	shift 3
	ldt_cert "$ca" "$name" "basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:$addr
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid" "$@"
}

# ldt_pki: the test CA and the other CA, each with a server certificate
# for 127.0.0.1 and ldap.example.com; the users' certificates.
ldt_pki() {
	ldt_ca testca
	ldt_ca otherca
	for ca in testca otherca; do
		ldt_cert "$ca" "server-$ca" "basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:ldap.example.com"
		chmod 644 "$LDT/server-$ca.key"
	done
	ldt_user_cert testca alice alice@example.org
	ldt_user_cert testca bob bob@example.org
	ldt_user_cert testca expired expired@example.org \
		20200101000000Z 20210101000000Z
	ldt_user_cert otherca untrusted untrusted@example.org
	ldt_user_cert testca two1 two@example.org
	ldt_user_cert testca two2 two@example.org
	# userSMIMECertificate: certs-only PKCS#7, as Outlook publishes it
	ldt_ossl crl2pkcs7 -nocrl -certfile "$LDT/alice.pem" -outform DER \
		-out "$LDT/alice.p7"
	printf 'milter-s3cret\n' >"$LDT/milter.secret"
	chmod 600 "$LDT/milter.secret"
}

ldt_b64() { base64 -w0 "$1"; }

ldt_ldif() {
	cat <<EOT
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
o: mailward test
dc: example

dn: cn=milter,dc=example,dc=com
objectClass: person
cn: milter
sn: milter
userPassword: milter-s3cret

dn: $LDT_BASE
objectClass: organizationalUnit
ou: people

EOT
	for u in alice bob expired untrusted two nocert; do
		echo "dn: uid=$u,$LDT_BASE"
		echo "objectClass: inetOrgPerson"
		echo "uid: $u"
		echo "cn: $u"
		echo "sn: $u"
		echo "mail: $u@example.org"
		case $u in
		alice) echo "userSMIMECertificate:: $(ldt_b64 "$LDT/alice.p7")" ;;
		bob|expired|untrusted)
			echo "userCertificate;binary:: $(ldt_b64 "$LDT/$u.der")" ;;
		two)
			echo "userCertificate;binary:: $(ldt_b64 "$LDT/two1.der")"
			echo "userCertificate;binary:: $(ldt_b64 "$LDT/two2.der")" ;;
		esac
		echo
	done
}

# ldt_slapd_setup NAME CA: $LDT/NAME with a slapd.conf serving TLS with
# the server certificate of CA, and the directory loaded.
ldt_slapd_setup() {
	sd=$LDT/$1
	mkdir -p "$sd/db"
	cat >"$sd/slapd.conf" <<EOT
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile $sd/slapd.pid
argsfile $sd/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile $LDT/$2.pem
TLSCertificateFile $LDT/server-$2.pem
TLSCertificateKeyFile $LDT/server-$2.key
database mdb
maxsize 104857600
suffix "dc=example,dc=com"
rootdn "cn=admin,dc=example,dc=com"
directory $sd/db
access to attrs=userPassword
	by anonymous auth
	by * none
access to *
	by users read
	by * none
EOT
	ldt_ldif >"$sd/data.ldif"
	"$LDT_SLAPADD" -f "$sd/slapd.conf" -l "$sd/data.ldif" >"$sd/slapadd.log" 2>&1 ||
		{ cat "$sd/slapadd.log"; return 1; }
}

# ldt_port_open PORT: something listens on 127.0.0.1:PORT.
ldt_port_open() {
	python3 -c 'import socket,sys
s = socket.socket()
s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

# ldt_slapd_start NAME LDAP_PORT LDAPS_PORT: runs slapd in the
# foreground (-d 0) in the background; its pid in $LDT/NAME.pid.
ldt_slapd_start() {
	sd=$LDT/$1
	"$LDT_SLAPD" -f "$sd/slapd.conf" -d 0 \
		-h "ldap://127.0.0.1:$2/ ldaps://127.0.0.1:$3/" \
		>>"$sd/slapd.log" 2>&1 &
	echo $! >"$LDT/$1.pid"
	mwt_pids="$mwt_pids $!"
	for _ in $(seq 100); do
		ldt_port_open "$2" && ldt_port_open "$3" && return 0
		kill -0 "$(cat "$LDT/$1.pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "# slapd $1 did not start:"
	sed 's/^/# /' "$sd/slapd.log"
	return 1
}

ldt_slapd_stop() {
	pid=$(cat "$LDT/$1.pid")
	kill "$pid" 2>/dev/null || :
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || :
}

# ldt_lookup ARGS...: the driver with the bind settings of the test
# directory; more options and the addresses in ARGS.  LDT_WRAPPER: a
# command to run it under (valgrind).
ldt_lookup() {
	# shellcheck disable=SC2086
	${LDT_WRAPPER:-} "$LDT_LOOKUP" --base "$LDT_BASE" \
		--filter "(&(objectClass=inetOrgPerson)(mail=%s))" \
		--bind-dn "$LDT_BIND_DN" --password-file "$LDT/milter.secret" \
		--ca "$LDT/testca.pem" --timeout 3000 "$@"
}

# ldt_start "$0" "$@": re-runs the calling script in network and mount
# namespaces of its own, then makes the scratch directory, the PKI and
# the main slapd's configuration and database ("main", test CA; started
# with ldt_slapd_start main 3890 6360: StartTLS and ldaps).
ldt_start() {
	MWT_UNSHARE_NET=1
	export MWT_UNSHARE_NET
	mwt_unshare_mounts "$@"
	mwt_init
	LDT=$MWT_TMP
	# names for the server's name check; wrong.example.com is not in
	# its certificate
	mwt_hosts "127.0.0.1 ldap.example.com wrong.example.com"
	ldt_pki
	ldt_slapd_setup main testca
}

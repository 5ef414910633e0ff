# Helpers of the mailward audit tests: a tree of the test configurations
# under one directory, with its certificates and files made fresh (their
# expiry dates are relative to today, so they are not kept in git).

audit_src=${audit_src:-$(cd "$(dirname "$0")" && pwd)/src}

# make_tree DIR: src/ with @DIR@ replaced by DIR, certificates, keys.
make_tree() {
	d=$1
	mkdir -p "$d/certs" "$d/keys" "$d/home"
	for f in "$audit_src"/*.conf "$audit_src"/tls_policy; do
		sed "s|@DIR@|$d|g" "$f" >"$d/$(basename "$f")"
	done
	for p in postfix-good postfix-bad; do
		mkdir -p "$d/$p"
		for f in main.cf master.cf; do
			sed "s|@DIR@|$d|g" "$audit_src/$p/$f" >"$d/$p/$f"
		done
	done
	: >"$d/passwd"
	chmod 0600 "$d/policy-good.conf"
	chmod 0664 "$d/policy-bad.conf"
	make_certs "$d/certs"
	# The bad policy's S/MIME key: readable by everyone.
	cp "$d/certs/good.key" "$d/keys/alice.key"
	cp "$d/certs/good.pem" "$d/keys/alice.pem"
	chmod 0644 "$d/keys/alice.key"
	echo "alice@example.org alice.pem alice.key" >"$d/keys/keytable"
	chmod 0644 "$d/keys/keytable"
}

# good: RSA-2048, SHA-256, a year, for mail.test.  expiring: the same for
# 10 days.  bad: RSA-1024, SHA-1, for wrong.example, expired in 2021.
make_certs() {
	c=$1
	(
	cd "$c" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 365 \
		-subj /CN=mail.test -addext subjectAltName=DNS:mail.test \
		-keyout good.key -out good.pem 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 10 \
		-subj /CN=mail.test -addext subjectAltName=DNS:mail.test \
		-keyout expiring.key -out expiring.pem 2>/dev/null
	# openssl ca is the tool that sets dates in the past.
	mkdir -p ca && : >ca/index.txt && echo 01 >ca/serial
	cat >ca/ca.cnf <<CNF
[ca]
default_ca = d
[d]
database = ca/index.txt
serial = ca/serial
new_certs_dir = ca
policy = p
[p]
commonName = supplied
CNF
	openssl req -new -newkey rsa:1024 -nodes -subj /CN=wrong.example \
		-keyout bad.key -out bad.csr 2>/dev/null
	openssl ca -batch -config ca/ca.cnf -selfsign -keyfile bad.key \
		-in bad.csr -out bad.pem -md sha1 -notext \
		-startdate 20200101000000Z -enddate 20210101000000Z 2>/dev/null
	chmod 0600 ./*.key
	)
}

#!/bin/sh
# The encryption settings of the smime section through "mailward check":
# each mistake is refused with its file:line:column and what was
# expected, and a valid section prints back in canonical form.  Prints TAP.
set -u
mw=$MW_BUILDDIR/mailward
T=$(mktemp -d "${TMPDIR:-/tmp}/mw-smimeenc-policy.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0 failures=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; failures=$((failures + 1)); }

# refused NAME EXPECTED: the policy in $T/NAME.conf fails with EXPECTED.
refused() {
	if "$mw" check -c "$T/$1.conf" >"$T/$1.out" 2>&1; then
		not_ok "$1: accepted"
	elif grep -qF -- "$2" "$T/$1.out"; then
		ok "$1: $2"
	else
		not_ok "$1: expected '$2'"
		sed 's/^/# /' "$T/$1.out"
	fi
}
conf() { cat >"$T/$1.conf"; }

conf no-trust <<'EOT'
smime {
  encrypt = required
  certificates = /etc/mailward/certs
}
EOT
refused no-trust "no-trust.conf:1:1: error: encrypt = required needs trust"

conf no-sources <<'EOT'
smime {
  encrypt = opportunistic
  trust = /etc/ssl/ca.pem
}
EOT
refused no-sources "encrypt = opportunistic needs certificates"

conf bad-mode <<'EOT'
smime {
  encrypt = always
}
EOT
refused bad-mode "bad-mode.conf:2:13:"

conf bad-cipher <<'EOT'
smime {
  cipher = aes-256-gmc
}
EOT
refused bad-cipher "unknown cipher 'aes-256-gmc'; did you mean 'aes-256-gcm'?"

conf ldap-no-block <<'EOT'
smime {
  encrypt = opportunistic
  certificates = ldap
  trust = /etc/ssl/ca.pem
}
EOT
refused ldap-no-block "certificates names ldap, but there is no ldap block"

conf ldap-twice <<'EOT'
smime {
  certificates = ldap /etc/mailward/certs ldap
}
EOT
refused ldap-twice "ldap-twice.conf:2:43: error: ldap is given twice in certificates"

conf ldap-keys <<'EOT'
smime {
  certificates = ldap
  ldap {
    uri = "http://127.0.0.1"
    base = "dc=example,dc=com"
    filter = "(mail=x)"
    bind_dn = "cn=milter"
    timout = 5s
  }
}
EOT
refused ldap-keys "ldap-keys.conf:4:11: error: uri must start with ldap:// or ldaps://"
refused ldap-keys "filter must contain %s"
refused ldap-keys "unknown ldap setting 'timout'; did you mean 'timeout'?"
refused ldap-keys "bind_dn and password_file go together"

conf ldap-dup <<'EOT'
smime {
  certificates = ldap
  ldap {
    uri = "ldap://127.0.0.1"
    base = "dc=example,dc=com"
  }
  ldap {
    uri = "ldap://127.0.0.1"
  }
}
EOT
refused ldap-dup "ldap-dup.conf:7:3: error: duplicate ldap block (first at"

conf enc-services <<'EOT'
service submission { auth = required }
smime {
  encrypt_services = submission smtps
}
EOT
refused enc-services "smime encrypt_services names 'smtps', which no service section declares"

conf good <<'EOT'
service submission { auth = required }
smime {
  encrypt = required
  certificates = "certs" ldap
  trust = "/etc/ssl/ca.pem"
  cipher = aes-128-cbc
  rsa_padding = pkcs1
  on_lookup_error = no-certificate
  ldap {
    uri = "ldaps://ldap.example.com"
    base = "ou=people,dc=example,dc=com"
    timeout = 2s
  }
}
EOT
if "$mw" check -n -c "$T/good.conf" >"$T/good.out" 2>&1; then
	ok "a valid encryption section loads"
else
	not_ok "a valid encryption section loads"
	sed 's/^/# /' "$T/good.out"
fi
for line in "  encrypt = required" "  certificates = $T/certs ldap" \
	"  cipher = aes-128-cbc" "  rsa_padding = pkcs1" \
	"  on_lookup_error = no-certificate" "    uri = ldaps://ldap.example.com" \
	'    filter = "(mail=%s)"' "    starttls = yes" "    timeout = 2s" \
	"    cache_ttl = 1h" "    negative_ttl = 5m" "    max_connections = 4"; do
	if grep -qxF -- "$line" "$T/good.out"; then
		ok "check -n prints '$line'"
	else
		not_ok "check -n prints '$line'"
	fi
done
# The canonical form reads back to itself.
if "$mw" check -n -c "$T/good.out" >"$T/good2.out" 2>&1 &&
   cmp -s "$T/good.out" "$T/good2.out"; then
	ok "the canonical form loads and prints the same"
else
	not_ok "the canonical form loads and prints the same"
	diff "$T/good.out" "$T/good2.out" | sed 's/^/# /' | head -20
fi
echo "1..$n"
[ "$failures" -eq 0 ]

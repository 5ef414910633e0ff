#!/bin/sh
# S/MIME encryption to certificates from LDAP, end to end: a private
# Postfix (submission with STARTTLS and SASL through Dovecot, relay to
# smtp-sink), mailward-milter with certificates = ldap, and a private
# slapd (tests/smimeenc/ldap-lib.sh: StartTLS with the test CA, a bind
# DN with a password file).  A message to an LDAP user arrives encrypted
# and opens with openssl cms -decrypt and that user's key; with slapd
# stopped, encrypt = required tempfails (451 4.7.0), and opportunistic
# with on_lookup_error = no-certificate sends the message unencrypted
# and says so in the log.  Prints TAP.
set -u
: "${MW_SRCDIR:?}"
. "$MW_SRCDIR/tests/smimeenc/ldap-lib.sh"

mwt_postfix_requirements slapd
ldt_start "$0" "$@"
mwt_ports || { echo "not ok 1 - no free ports in 21000-21999"; exit 1; }
mwt_make_certs "$MWT_TMP/certs" || { echo "not ok 1 - certificates"; exit 1; }
# the signing key of the sender (the signing tests' PKI)
pki=$MWT_TMP/pki
"$MW_SRCDIR/tests/smime/make-pki.sh" "$pki" >/dev/null 2>&1 ||
	{ echo "not ok 1 - the signing PKI"; exit 1; }
printf 'alice@example.org %s/alice.pem %s/alice.key %s/inter.pem\n' \
	"$pki" "$pki" "$pki" >"$MWT_TMP/smime.keys"
mkdir -p "$MWT_TMP/spool"
# the milter runs as nobody: its files are nobody's (the password file
# must not be readable by others, like a key)
chown -R nobody "$pki" "$MWT_TMP/smime.keys" "$MWT_TMP/spool" \
	"$LDT/milter.secret"

POLICY=$MWT_TMP/policy.conf
# policy MODE ON_LOOKUP_ERROR
policy() {
	cat >"$POLICY" <<EOT
service submission {
  postfix_daemon_name = ORIGINATING
  tls  = required
  auth = required
}
smime {
  sign            = authenticated
  keytable        = $MWT_TMP/smime.keys
  tmpdir          = $MWT_TMP/spool
  encrypt         = $1
  certificates    = ldap
  trust           = "$LDT/testca.pem"
  on_lookup_error = $2
  ldap {
    uri = "ldap://127.0.0.1:3890"  base = "$LDT_BASE"
    filter = "(&(objectClass=inetOrgPerson)(mail=%s))"
    bind_dn = "$LDT_BIND_DN"  password_file = "$LDT/milter.secret"
    starttls = yes  ca = "$LDT/testca.pem"
    timeout = 2s  cache_ttl = 1h  negative_ttl = 5m  max_connections = 4
  }
}
EOT
	chmod 644 "$POLICY"
}
policy required tempfail

mwt_check "slapd with the users' certificates starts" ldt_slapd_start main 3890 6360
mwt_check "a private Dovecot answers SASL for Postfix" \
	mwt_dovecot_sasl_start "$POLICY" alice@example.org secret
mwt_check "smtp-sink listens" mwt_sink_start
mwt_check "the milter starts with certificates = ldap" \
	mwt_milter_start "$POLICY" "inet:$MILTER_PORT@127.0.0.1"
mwt_check "the private Postfix starts" \
	mwt_postfix_start "inet:127.0.0.1:$MILTER_PORT"

python3 "$MW_SRCDIR/tests/smime/gen-corpus.py" "$MWT_TMP/corpus" \
	alice@example.org
msg=$MWT_TMP/corpus/alternative-attachments.eml

# submit SUBJECT RCPT,...
submit() { mwt_submit_alice "$msg" "$@"; }

# decrypts MSG NAME: NAME's key (from the LDAP test PKI) opens MSG
decrypts() {
	openssl cms -decrypt -in "$1" -recip "$LDT/$2.pem" -inkey "$LDT/$2.key" \
		-out "$1.$2" 2>"$1.$2.err" && [ -s "$1.$2" ]
}

# --- encrypted to certificates from the directory ---------------------------
submit ldap-enc "bob@example.org"
out=$MWT_TMP/ldap-enc.delivered
mwt_check "to an LDAP user: queued" grep -q "^<~  250 2.0.0 Ok: queued as" "$MWT_TMP/ldap-enc.swaks"
mwt_check "to an LDAP user: delivered" mwt_wait_for 30 mwt_sink_message ldap-enc "$out"
mwt_check "delivered encrypted (application/pkcs7-mime)" \
	grep -q "^Content-Type: application/pkcs7-mime; smime-type=" "$out"
mwt_check "bob (userCertificate;binary) decrypts with openssl cms -decrypt" \
	decrypts "$out" bob
mwt_check "the decrypted content is alice's signed message, which verifies" sh -c "
	grep -q '^Content-Type: multipart/signed' '$out.bob' &&
	openssl cms -verify -in '$out.bob' -CAfile '$pki/root.pem' -out '$out.bob.inner' 2>/dev/null &&
	python3 '$MW_SRCDIR/tests/smime/compare.py' '$msg' '$out.bob.inner'"
mwt_check "alice's copy (userSMIMECertificate in the directory) decrypts" \
	decrypts "$out" alice
mwt_check "a key outside the envelope cannot decrypt" sh -c \
	"! openssl cms -decrypt -in '$out' -recip '$LDT/two1.pem' -inkey '$LDT/two1.key' -out /dev/null 2>/dev/null"

submit ldap-two "two@example.org"
out=$MWT_TMP/ldap-two.delivered
mwt_check "to a user with two certificates in LDAP: delivered" \
	mwt_wait_for 30 mwt_sink_message ldap-two "$out"
mwt_check "the user with two certificates decrypts with one of them" sh -c "
	openssl cms -decrypt -in '$out' -recip '$LDT/two1.pem' -inkey '$LDT/two1.key' -out /dev/null 2>/dev/null ||
	openssl cms -decrypt -in '$out' -recip '$LDT/two2.pem' -inkey '$LDT/two2.key' -out /dev/null 2>/dev/null"

mwt_log_mark
submit ldap-expired "expired@example.org"
mwt_check "required, only an expired certificate in LDAP: refused 550 5.7.1" \
	grep -q "^<~\* 550 5.7.1 No usable S/MIME certificate for expired@example.org" \
	"$MWT_TMP/ldap-expired.swaks"
submit ldap-untrusted "untrusted@example.org"
mwt_check "required, a certificate from an untrusted CA in LDAP: refused 550 5.7.1" \
	grep -q "^<~\* 550 5.7.1 No usable S/MIME certificate for untrusted@example.org" \
	"$MWT_TMP/ldap-untrusted.swaks"

# --- slapd stopped ---------------------------------------------------------------
ldt_slapd_stop main
# a reload makes a new LDAP source, with nothing cached
mwt_log_mark
kill -HUP "$MILTER_PID"
mwt_check "SIGHUP: the policy reloads" mwt_wait_for 10 mwt_log_has_now "policy reloaded from"
sleep 1
mwt_log_mark
submit ldap-down "bob@example.org"
mwt_check "required, slapd stopped: tempfailed with 451 4.7.0" \
	grep -q "^<~\* 451 4.7.0 S/MIME certificate lookup failed for bob@example.org" \
	"$MWT_TMP/ldap-down.swaks"
mwt_check "the log gives the LDAP error" \
	mwt_log_has "certificate lookup failed for bob@example.org, alice@example.org (ldap: ldap://127.0.0.1:3890: StartTLS: "
mwt_check "nothing of it is delivered" sh -c \
	"! grep -rqs 'Subject: ldap-down' '$MWT_TMP/sink'"

policy opportunistic no-certificate
mwt_log_mark
kill -HUP "$MILTER_PID"
mwt_check "SIGHUP: the policy reloads" mwt_wait_for 10 mwt_log_has_now "policy reloaded from"
sleep 1
mwt_log_mark
submit ldap-down-opp "bob@example.org"
out=$MWT_TMP/ldap-down-opp.delivered
mwt_check "opportunistic, no-certificate, slapd stopped: delivered" \
	mwt_wait_for 30 mwt_sink_message ldap-down-opp "$out"
mwt_check "it went unencrypted (signed)" \
	grep -q "^Content-Type: multipart/signed" "$out"
mwt_check "with a log line naming the recipient" \
	mwt_log_has "not encrypted: no usable certificate for bob@example.org"
mwt_check "and saying that the directory did not answer" \
	mwt_log_has "(encrypt = opportunistic; a lookup failed: ldap: ldap://127.0.0.1:3890: StartTLS: "

mwt_postfix_stop
mwt_milter_stop
echo "1..$mwt_n"
mwt_done

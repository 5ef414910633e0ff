#!/bin/sh
# Partner certificates pinned by fingerprint, through a real Postfix.
# Postfix tells a milter only the common names of the client certificate
# and of its issuer, so any CA in smtpd_tls_CAfile can issue a sub-CA
# named "Contoso CA" whose mail.contoso.com certificate passes for
# contoso.com (shown first).  With cert_fingerprint, "mailward partners -s"
# prints the check_ccert_access restrictions that make Postfix refuse it,
# while the partner's own certificate still passes.  Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

mwt_postfix_requirements
mwt_unshare_mounts "$0" "$@"

if ! mwt_ports; then
	echo "not ok 1 - no free ports in 21000-21999"
	exit 1
fi

mwt_init
mwt_make_certs "$MWT_TMP/certs" || { echo "not ok 1 - certificates"; exit 1; }

# Another partner's CA, which Postfix trusts too, and under it a sub-CA
# that calls itself "Contoso CA".
(
cd "$MWT_TMP/certs" || exit 1
set -e
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
# shellcheck disable=SC2086
openssl req -x509 $ec -keyout other-ca.key -out other-ca.crt -days 2 \
	-subj "/CN=Other Partner CA" 2>/dev/null
# Key identifiers, so that OpenSSL tells the sub-CA from the real
# "Contoso CA" of the same name.
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >ca.ext
printf 'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >leaf.ext
# shellcheck disable=SC2086
openssl req $ec -keyout sub-ca.key -out sub-ca.csr -subj "/CN=Contoso CA" 2>/dev/null
openssl x509 -req -in sub-ca.csr -CA other-ca.crt -CAkey other-ca.key \
	-CAcreateserial -out sub-ca.crt -days 2 -extfile ca.ext 2>/dev/null
# shellcheck disable=SC2086
openssl req $ec -keyout impostor.key -out impostor.csr \
	-subj "/CN=mail.contoso.com" 2>/dev/null
openssl x509 -req -in impostor.csr -CA sub-ca.crt -CAkey sub-ca.key \
	-CAcreateserial -out impostor.crt -days 2 -extfile leaf.ext 2>/dev/null
cat impostor.crt sub-ca.crt >impostor-chain.crt
cat other-ca.crt >>trusted.crt
chmod 644 ./*
) || { echo "not ok 1 - the other partner's certificates"; exit 1; }

POLICY=$MWT_TMP/policy.conf
cp "$MWT_DIR/policy.conf" "$POLICY"
chmod 644 "$POLICY"

mwt_check "smtp-sink listens" mwt_sink_start
mwt_check "the milter starts" \
	mwt_milter_start "$POLICY" "inet:$MILTER_PORT@127.0.0.1"
mwt_check "the private Postfix starts" \
	mwt_postfix_start "inet:127.0.0.1:$MILTER_PORT"

# send NAME FROM CERT: a message over TLS to the MX with CERT (a file
# stem in certs/) and its chain, when it has one; the replies in
# $MWT_TMP/NAME.out.
send() {
	name=$1 from=$2 cert=$MWT_TMP/certs/$3
	chain=$cert.crt
	[ ! -f "$cert-chain.crt" ] || chain=$cert-chain.crt
	python3 "$MWT_DIR/smtp-cert.py" "$MWT_MX_PORT" "$from" "$chain" \
		"$cert.key" "mailward pin $name" >"$MWT_TMP/$name.out" 2>&1
}
queued() {
	grep -q "^DATA 250 2.0.0 Ok: queued as" "$MWT_TMP/$1.out" ||
		{ sed 's/^/# /' "$MWT_TMP/$1.out"; return 1; }
}

send impostor-unpinned ceo@contoso.com impostor
mwt_check "without a pin, a sub-CA named \"Contoso CA\" under another trusted CA passes (the CN-only risk)" \
	queued impostor-unpinned

# The pin: the fingerprint of contoso.com's own certificate.
fp=$(openssl x509 -in "$MWT_TMP/certs/partner.crt" -noout -fingerprint -sha256 |
	sed 's/.*=//')
sed "s/^  on_fail   = reject\$/  on_fail   = reject\\n  cert_fingerprint = \"$fp\"/" \
	"$MWT_DIR/policy.conf" >"$POLICY"
MAILWARD=$MW_BUILDDIR/mailward
"$MAILWARD" partners -s -c "$POLICY" >"$MWT_TMP/smtpd.cf"
mwt_check "mailward partners -s prints the restriction class with the pin" \
	grep -qx "mailward_pin_contoso_com = check_ccert_access inline:{ $fp=OK }, reject" \
	"$MWT_TMP/smtpd.cf"
mwt_check "... and the sender restriction that applies it" \
	grep -qx "smtpd_sender_restrictions = check_sender_access inline:{ contoso.com=mailward_pin_contoso_com }" \
	"$MWT_TMP/smtpd.cf"

# Into main.cf as printed; Postfix must accept every line.
apply_ok=yes
while IFS= read -r line; do
	case $line in
	"#"*|"") continue ;;
	esac
	postconf -c "$MWT_PFX_ETC" -e "$line" || apply_ok=no
done <"$MWT_TMP/smtpd.cf"
mwt_log_mark
kill -HUP "$MILTER_PID"
mwt_wait_for 10 mwt_log_has_now "policy reloaded"
postfix -c "$MWT_PFX_ETC" reload >/dev/null 2>&1 || apply_ok=no
mwt_check "Postfix takes the printed settings" [ $apply_ok = yes ]
mwt_check "... without a warning" \
	sh -c "! postconf -c '$MWT_PFX_ETC' -n 2>&1 >/dev/null | grep -q warning"

refused_at_rcpt() {
	grep -q "^RCPT 554 5.7.1 <$2>: Sender address rejected: Access denied" \
		"$MWT_TMP/$1.out" || { sed 's/^/# /' "$MWT_TMP/$1.out"; return 1; }
}
send impostor-pinned ceo@contoso.com impostor
mwt_check "with the pin, Postfix refuses the impostor's certificate" \
	refused_at_rcpt impostor-pinned ceo@contoso.com
send impostor-percent 'ceo%contoso.com' impostor
mwt_check "... also for the sender spelt ceo%contoso.com" \
	refused_at_rcpt impostor-percent 'ceo%contoso.com'
send partner-pinned ceo@contoso.com partner
mwt_check "the partner's own certificate still passes" queued partner-pinned
send other-sender someone@example.org impostor
mwt_check "senders of other domains are not affected" queued other-sender

echo "1..$mwt_n"
mwt_done

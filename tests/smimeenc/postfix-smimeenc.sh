#!/bin/sh
# S/MIME encryption through a real Postfix (the signing test's private
# instance: submission over STARTTLS with SMTP AUTH through Dovecot SASL,
# relay to smtp-sink).  The milter signs and then encrypts for every
# envelope recipient (a Bcc one included) and the sender; each recipient
# decrypts the delivered message with its own key, the inner signature
# verifies and the content is what was sent; a key outside the envelope
# cannot decrypt.  Opportunistic and required with a recipient who has no
# certificate.
#
# Decrypters: OpenSSL for the default AES-256-GCM AuthEnvelopedData with
# RSA-OAEP and ECDH; GnuPG's gpgsm and NSS cmsutil (Debian 12 and 13)
# read neither AuthEnvelopedData nor RSA-OAEP, so they check the
# cipher = aes-256-cbc, rsa_padding = pkcs1 form, and cmsutil only with
# RSA recipients (it fails to decode a message with an ECDH
# KeyAgreeRecipientInfo).  Prints TAP.
set -u
. "$(dirname "$0")/../milter/lib.sh"
here=$MW_SRCDIR/tests/smimeenc

mwt_postfix_requirements gpgsm cmsutil certutil pk12util
mwt_unshare_mounts "$0" "$@"

if ! mwt_ports; then
	echo "not ok 1 - no free ports in 21000-21999"
	exit 1
fi

mwt_init
mwt_make_certs "$MWT_TMP/certs" || { echo "not ok 1 - certificates"; exit 1; }
pki=$MWT_TMP/pki
"$here/make-enc-pki.sh" "$pki" || { echo "not ok 1 - the test PKI"; exit 1; }
printf 'alice@example.org %s/alice.pem %s/alice.key %s/inter.pem\n' \
	"$pki" "$pki" "$pki" >"$MWT_TMP/smime.keys"
mkdir -p "$MWT_TMP/spool"
[ "$(id -u)" -ne 0 ] ||
	chown -R nobody "$pki" "$MWT_TMP/smime.keys" "$MWT_TMP/spool"

POLICY=$MWT_TMP/policy.conf
# policy MODE CIPHER PADDING
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
  spool_threshold = 64K
  tmpdir          = $MWT_TMP/spool
  encrypt         = $1
  certificates    = "$pki/certs" "$pki/certs.table"
  trust           = "$pki/root.pem"
  cipher          = $2
  rsa_padding     = $3
}
EOT
	chmod 644 "$POLICY"
}
policy opportunistic aes-256-gcm oaep

mwt_check "a private Dovecot answers SASL for Postfix" \
	mwt_dovecot_sasl_start "$POLICY" alice@example.org secret
mwt_check "smtp-sink listens" mwt_sink_start
mwt_check "the milter starts" \
	mwt_milter_start "$POLICY" "inet:$MILTER_PORT@127.0.0.1"
mwt_check "it loads the certificate directory and table" \
	mwt_log_has "smime: recipient certificates from table $pki/certs.table: 2"
mwt_check "the private Postfix starts" \
	mwt_postfix_start "inet:127.0.0.1:$MILTER_PORT"

python3 "$MW_SRCDIR/tests/smime/gen-corpus.py" "$MWT_TMP/corpus" \
	alice@example.org

# delivered SUBJECT OUT: the delivered message with that subject
delivered() { mwt_sink_message "$@"; }

# submit MESSAGE SUBJECT RCPT,...: every envelope recipient is a Bcc one
submit() { mwt_submit_alice "$@"; }

# decrypts MSG NAME: NAME's key opens MSG; NAME.out is the content.
decrypts() {
	openssl cms -decrypt -in "$1" -recip "$pki/$2.pem" -inkey "$pki/$2.key" \
		-out "$1.$2" 2>"$1.$2.err" && [ -s "$1.$2" ]
}

# inner MSG.NAME: the decrypted entity is alice's signed message, which
# verifies; its content goes to MSG.NAME.inner.
inner() {
	grep -q "^Content-Type: multipart/signed" "$1" &&
	openssl cms -verify -in "$1" -CAfile "$pki/root.pem" \
		-out "$1.inner" 2>"$1.verify.err"
}

msg=$MWT_TMP/corpus/alternative-attachments.eml
submit "$msg" gcm "rachel@example.com,erin@example.com,brad@example.com"
out=$MWT_TMP/gcm.delivered
mwt_check "gcm: submitted and queued" grep -q "^<~  250 2.0.0 Ok: queued as" "$MWT_TMP/gcm.swaks"
mwt_check "gcm: delivered" mwt_wait_for 30 delivered gcm "$out"
mwt_check "gcm: application/pkcs7-mime; smime-type=authEnveloped-data" \
	grep -q "^Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data" "$out"
mwt_check "gcm: base64 body, lines within 76 characters" python3 -c "
import sys
d = open(sys.argv[1], 'rb').read().split(b'\r\n\r\n', 1)[1]
lines = d.rstrip(b'\r\n').split(b'\r\n')
assert lines and all(0 < len(l) <= 76 for l in lines), 'line lengths'
import base64; base64.b64decode(b''.join(lines), validate=True)
" "$out"
mwt_check "gcm: no envelope recipient is named in the header" sh -c \
	"! sed '/^\r\$/q' '$out' | grep -v '^X-[A-Za-z]*-Args: ' | grep -qiE 'rachel|erin|brad|^bcc:'"
mwt_check "gcm: From, To and Subject stay outside" sh -c \
	"sed '/^\r\$/q' '$out' | grep -q '^From: ' && sed '/^\r\$/q' '$out' | grep -q '^Subject: gcm'"
openssl cms -cmsout -print -in "$out" >"$out.print" 2>/dev/null
mwt_check "gcm: four RecipientInfos (three recipients and the sender)" \
	test "$(grep -c 'version: ' "$out.print")" -ge 4
mwt_check "gcm: RSA recipients use RSAES-OAEP" grep -q "rsaesOaep" "$out.print"
for who in rachel2 erin brad alice-enc; do
	mwt_check "gcm: $who decrypts with openssl cms -decrypt" decrypts "$out" "$who"
	mwt_check "gcm: $who: the inner signature verifies" inner "$out.$who"
	mwt_check "gcm: $who: the content is what was sent" \
		python3 "$MW_SRCDIR/tests/smime/compare.py" "$msg" "$out.$who.inner"
done
mwt_check "gcm: rachel's older certificate is not the one used (rachel2 expires later)" \
	sh -c "! openssl cms -decrypt -in '$out' -recip '$pki/rachel.pem' -inkey '$pki/rachel.key' -out /dev/null 2>/dev/null"
mwt_check "gcm: the sender's copy is for her encryption certificate, found in the table" \
	mwt_log_has "certificates (the sender's included, aes-256-gcm, RSA-OAEP), signed first"
mwt_check "gcm: outsider (not in the envelope) cannot decrypt" sh -c \
	"! openssl cms -decrypt -in '$out' -recip '$pki/outsider.pem' -inkey '$pki/outsider.key' -out /dev/null 2>/dev/null"

# Opportunistic, one recipient without a certificate: sent signed, not
# encrypted, and the log names the recipient.
mwt_log_mark
submit "$msg" opp-missing "rachel@example.com,nobody@example.com"
out=$MWT_TMP/opp-missing.delivered
mwt_check "opportunistic, nobody@ has no certificate: delivered" \
	mwt_wait_for 30 delivered opp-missing "$out"
mwt_check "opportunistic: sent signed, not encrypted" \
	grep -q "^Content-Type: multipart/signed" "$out"
mwt_check "opportunistic: the signature verifies" \
	openssl cms -verify -in "$out" -CAfile "$pki/root.pem" -out /dev/null
mwt_check "opportunistic: the log names the recipient without one" \
	mwt_log_has "not encrypted: no usable certificate for nobody@example.com (encrypt = opportunistic)"

# A certificate that may not encrypt (digitalSignature only) counts as none.
mwt_log_mark
submit "$msg" opp-sigonly "sigonly@example.com"
mwt_check "a signing-only certificate is not used" \
	mwt_log_has "no usable certificate for sigonly@example.com"

# required, AES-256-CBC EnvelopedData, RSA PKCS#1 v1.5: what gpgsm and
# NSS read.
policy required aes-256-cbc pkcs1
mwt_log_mark
kill -HUP "$MILTER_PID"
mwt_check "SIGHUP: the new policy loads its sources" \
	mwt_wait_for 10 mwt_log_has_now "smime: recipient certificates from table $pki/certs.table: 2"
sleep 1
mwt_log_mark
submit "$msg" req-missing "rachel@example.com,nobody@example.com,old@example.com"
mwt_check "required, recipients without certificate: refused with 550 5.7.1 naming them" \
	grep -q "^<~\* 550 5.7.1 No usable S/MIME certificate for nobody@example.com, old@example.com" \
	"$MWT_TMP/req-missing.swaks"
mwt_check "required: the log says so" \
	mwt_log_has "refused: no usable certificate for nobody@example.com, old@example.com (encrypt = required)"
mwt_check "required: nothing of it is delivered" sh -c \
	"! grep -rqs 'Subject: req-missing' '$MWT_TMP/sink'"

submit "$msg" cbc "rachel@example.com,brad@example.com"
out=$MWT_TMP/cbc.delivered
mwt_check "cbc: delivered" mwt_wait_for 30 delivered cbc "$out"
mwt_check "cbc: smime-type=enveloped-data" \
	grep -q "^Content-Type: application/pkcs7-mime; smime-type=enveloped-data" "$out"
python3 -c "
import sys, base64
d = open(sys.argv[1], 'rb').read().split(b'\r\n\r\n', 1)[1]
open(sys.argv[2], 'wb').write(base64.b64decode(d))" "$out" "$out.p7m"
for who in rachel2 brad; do
	mwt_check "cbc: $who decrypts with openssl" decrypts "$out" "$who"
done
mwt_check "cbc: brad's inner signature verifies, content as sent" sh -c \
	"openssl cms -verify -in '$out.brad' -CAfile '$pki/root.pem' -out '$out.brad.inner' 2>/dev/null &&
	 python3 '$MW_SRCDIR/tests/smime/compare.py' '$msg' '$out.brad.inner'"

# gpgsm with rachel's key (imported from PKCS#12 the way GnuPG 2.2 reads
# it).  gpgsm exits non-zero when it lacks the certificate of any other
# recipient (brad's), so its status line tells.
GNUPGHOME=$MWT_TMP/gnupg
export GNUPGHOME
mkdir -m 700 "$GNUPGHOME"
echo disable-crl-checks >"$GNUPGHOME/gpgsm.conf"
echo allow-loopback-pinentry >"$GNUPGHOME/gpg-agent.conf"
mwt_cleanups="$mwt_cleanups mwt_gpgsm_stop"
openssl pkcs12 -export -legacy -certpbe NONE -in "$pki/rachel2.pem" \
	-inkey "$pki/rachel2.key" -out "$MWT_TMP/rachel.p12" -passout pass:x 2>/dev/null
echo x | gpgsm --batch --pinentry-mode loopback --passphrase-fd 0 \
	--import "$MWT_TMP/rachel.p12" >/dev/null 2>&1
mwt_check "cbc: gpgsm --decrypt with rachel's key" sh -c \
	"echo x | gpgsm --batch --pinentry-mode loopback --passphrase-fd 0 \
		--status-fd 3 --decrypt '$out.p7m' >'$out.gpgsm' 2>'$out.gpgsm.err' \
		3>'$out.gpgsm.status';
	 grep -q '^\[GNUPG:\] DECRYPTION_OKAY' '$out.gpgsm.status' && cmp -s '$out.gpgsm' '$out.rachel2'"
mkdir -p "$MWT_TMP/nss"
certutil -N -d "sql:$MWT_TMP/nss" --empty-password
pk12util -i "$MWT_TMP/rachel.p12" -d "sql:$MWT_TMP/nss" -W x >/dev/null 2>&1
mwt_check "cbc: NSS cmsutil -D with rachel's key" sh -c \
	"cmsutil -D -i '$out.p7m' -d 'sql:$MWT_TMP/nss' -p '' -o '$out.nss' 2>'$out.nss.err' &&
	 cmp -s '$out.nss' '$out.rachel2'"
mwt_check "cbc: outsider cannot decrypt" sh -c \
	"! openssl cms -decrypt -in '$out' -recip '$pki/outsider.pem' -inkey '$pki/outsider.key' -out /dev/null 2>/dev/null"

gpgconf --kill gpg-agent >/dev/null 2>&1
mwt_postfix_stop
mwt_milter_stop
mwt_done

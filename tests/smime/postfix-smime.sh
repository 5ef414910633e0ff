#!/bin/sh
# S/MIME signing through a real Postfix: a private instance on loopback
# (the milter tests' templates), submission over STARTTLS with SMTP AUTH
# through the Dovecot SASL protocol, the milter signs, Postfix relays to
# smtp-sink; the delivered messages are read back and verified with
# OpenSSL (cms and smime), gpgsm and NSS cmsutil, and compared with what
# was sent part by part: Japanese in ISO-2022-JP, Shift_JIS and EUC-JP,
# nested multiparts, a long boundary, forwarded signed mail (whose inner
# signature must still verify).  Submissions on port 465 signs too.
# Prints TAP.
set -u
. "$(dirname "$0")/../milter/lib.sh"
here=$MW_SRCDIR/tests/smime

mwt_postfix_requirements gpgsm cmsutil certutil
mwt_unshare_mounts "$0" "$@"

if ! mwt_ports; then
	echo "not ok 1 - no free ports in 21000-21999"
	exit 1
fi

mwt_init
mwt_make_certs "$MWT_TMP/certs" || { echo "not ok 1 - certificates"; exit 1; }
mwt_smime_keys || { echo "not ok 1 - the test PKI"; exit 1; }
POLICY=$MWT_TMP/policy.conf
cat >"$POLICY" <<EOT
service submission {
  postfix_daemon_name = ORIGINATING
  tls  = required
  auth = required
}
service submissions {
  postfix_daemon_name = SUBMISSIONS
  tls  = required
  auth = required
}
smime {
  sign            = authenticated
  keytable        = $MWT_TMP/smime.keys
  digest          = sha256
  spool_threshold = 64K
  tmpdir          = $MWT_TMP/spool
}
EOT
chmod 644 "$POLICY"

mwt_check "a private Dovecot answers SASL for Postfix" \
	mwt_dovecot_sasl_start "$POLICY" alice@example.org secret

mwt_check "smtp-sink listens" mwt_sink_start
mwt_check "the milter starts" \
	mwt_milter_start "$POLICY" "inet:$MILTER_PORT@127.0.0.1"
mwt_check "the private Postfix starts" \
	mwt_postfix_start "inet:127.0.0.1:$MILTER_PORT"
# Port 465 as issue 10 found it: its own daemon name, SUBMISSIONS.
postconf -c "$MWT_PFX_ETC" -P \
	"$MWT_SUBMISSIONS_PORT/inet/milter_macro_daemon_name=SUBMISSIONS"
mwt_check "postfix reload: port 465 is SUBMISSIONS" \
	postfix -c "$MWT_PFX_ETC" reload >/dev/null 2>&1

mwt_gpgsm_trust "$pki/root.pem"
. "$here/verify-lib.sh"
mwt_check "an NSS database trusting the test root" \
	smv_nss_init "$MWT_TMP/nss" "$pki/root.pem"
smv_make_signed "$pki" "$MWT_TMP/bob-signed.eml"
python3 "$here/gen-corpus.py" "$MWT_TMP/corpus" alice@example.org \
	"$MWT_TMP/bob-signed.eml"

# delivered SUBJECT OUT: the message with that subject, as CRLF text.
delivered() {
	mwt_sink_message "$@"
}

# submit NAME PORT-OPTIONS...: swaks as a mail client, AUTH after TLS.
submit() {
	name=$1
	shift
	swaks --server 127.0.0.1 "$@" \
		--helo client.example --auth PLAIN \
		--auth-user alice@example.org --auth-password secret \
		--from alice@example.org --to bob@example.net \
		--data "@$MWT_TMP/corpus/$name.eml" --timeout 60 \
		>"$MWT_TMP/$name.swaks" 2>&1
}

for name in utf8-8bit alternative-attachments nested long-lines \
	ja-iso2022 ja-sjis ja-eucjp ja-nested long-boundary \
	forwarded-signed signed-in-mixed; do
	subject="test $name"
	case $name in
	ja-*|forwarded-signed)
		submit "$name" --port "$MWT_SUBMISSIONS_PORT" --tlsc ;;
	*)
		submit "$name" --port "$MWT_SUBMISSION_PORT" --tls ;;
	esac
	mwt_check "$name: submitted over TLS with AUTH and queued" \
		grep -q "^<~  250 2.0.0 Ok: queued as" "$MWT_TMP/$name.swaks"
	out=$MWT_TMP/$name.delivered
	mwt_check "$name: delivered to the sink" \
		mwt_wait_for 30 delivered "$subject" "$out"
	mwt_check "$name: openssl cms -verify" \
		smv_openssl_cms "$out" "$pki/root.pem" "$out.inner"
	mwt_check "$name: openssl smime -verify" \
		smv_openssl_smime "$out" "$pki/root.pem"
	mwt_check "$name: gpgsm --verify" smv_gpgsm "$out"
	mwt_check "$name: NSS cmsutil -D" smv_nss "$out" "$MWT_TMP/nss"
	mwt_check "$name: content as sent, part by part" \
		python3 "$here/compare.py" "$MWT_TMP/corpus/$name.eml" "$out.inner"
	case $name in
	forwarded-signed|signed-in-mixed)
		mwt_check "$name: the inner signature still verifies" \
			smv_inner "$out" "$pki/root.pem" ;;
	esac
done
mwt_check "port 465 (SUBMISSIONS, service submissions) signs" \
	grep -q "smime: signed as alice@example.org (login alice@example.org, sha-256, [0-9]* bytes, service submissions)" \
	"$MWT_TMP/milter.log"
if [ -f "$MW_BUILDDIR/dovecot-plugin/libauthdb_mailward.so" ]; then
	mwt_check "the logins went through Dovecot SASL and mailward's passdb" \
		mwt_dovecot_log_has "decision=allow service=smtp rip=127.0.0.1"
fi

# One byte of a delivered message changed: verification fails.
python3 - "$MWT_TMP/utf8-8bit.delivered" "$MWT_TMP/tampered" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
i = data.index(b"Gr")
data[i] = ord("K")
open(sys.argv[2], "wb").write(data)
PY
mwt_check "a changed byte makes openssl cms -verify fail" sh -c "! openssl cms \
	-verify -in '$MWT_TMP/tampered' -CAfile '$pki/root.pem' -out /dev/null 2>/dev/null"
mwt_check "a changed byte makes gpgsm --verify fail" sh -c "
	python3 '$here/split-signed.py' '$MWT_TMP/tampered' '$MWT_TMP/t.data' '$MWT_TMP/t.p7s' &&
	! gpgsm --batch --status-fd 1 --verify '$MWT_TMP/t.p7s' '$MWT_TMP/t.data' \
		2>/dev/null | grep -q GOODSIG"
cp "$MWT_TMP/tampered" "$MWT_TMP/tampered-nss"
smv_nss "$MWT_TMP/tampered-nss" "$MWT_TMP/nss"
mwt_check "a changed byte makes NSS cmsutil report a digest mismatch" \
	grep -q 'signer0.status=DigestMismatch' "$MWT_TMP/tampered-nss.nss.out"
gpgconf --kill gpg-agent >/dev/null 2>&1
mwt_postfix_stop
mwt_milter_stop
mwt_done

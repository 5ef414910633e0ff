#!/bin/sh
# S/MIME signing through a real Postfix: a private instance on loopback
# (the milter tests' templates), submission over STARTTLS with SMTP AUTH
# through the Dovecot SASL protocol, the milter signs, Postfix relays to
# smtp-sink; the delivered messages are read back and verified with
# OpenSSL and gpgsm, and compared with what was sent.  Prints TAP.
set -u
. "$(dirname "$0")/../milter/lib.sh"
here=$MW_SRCDIR/tests/smime

mwt_postfix_requirements gpgsm
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

mwt_gpgsm_trust "$pki/root.pem"
python3 "$here/gen-corpus.py" "$MWT_TMP/corpus"

# delivered SUBJECT OUT: the message with that subject from the sink's
# dumps (smtp-sink appends each message, starting with X-Client-Addr),
# as CRLF text.
delivered() {
	python3 - "$MWT_TMP/sink" "$1" "$2" <<'PY'
import os, re, sys
d, subject, out = sys.argv[1:4]
for name in os.listdir(d):
    data = open(os.path.join(d, name), "rb").read().replace(b"\r\n", b"\n")
    for msg in re.split(rb"(?m)^(?=X-Client-Addr: )", data):
        if ("\nSubject: " + subject + "\n").encode() in msg:
            open(out, "wb").write(msg.replace(b"\n", b"\r\n"))
            sys.exit(0)
sys.exit(1)
PY
}

for name in utf8-8bit alternative-attachments nested long-lines; do
	subject="test $name"
	swaks --server 127.0.0.1 --port "$MWT_SUBMISSION_PORT" \
		--helo client.example --tls --auth PLAIN \
		--auth-user alice@example.org --auth-password secret \
		--from alice@example.org --to bob@example.net \
		--data "@$MWT_TMP/corpus/$name.eml" --timeout 60 \
		>"$MWT_TMP/$name.swaks" 2>&1
	mwt_check "$name: submitted over TLS with AUTH and queued" \
		grep -q "^<~  250 2.0.0 Ok: queued as" "$MWT_TMP/$name.swaks"
	out=$MWT_TMP/$name.delivered
	mwt_check "$name: delivered to the sink" \
		mwt_wait_for 30 delivered "$subject" "$out"
	mwt_check "$name: openssl cms -verify" sh -c "openssl cms -verify \
		-in '$out' -CAfile '$pki/root.pem' -out '$out.inner' 2>/dev/null"
	mwt_check "$name: gpgsm --verify" sh -c "
		python3 '$here/split-signed.py' '$out' '$out.data' '$out.p7s' &&
		gpgsm --batch --status-fd 1 --verify '$out.p7s' '$out.data' \
			2>/dev/null | grep -q TRUST_FULLY"
	mwt_check "$name: content as sent" \
		python3 "$here/compare.py" "$MWT_TMP/corpus/$name.eml" "$out.inner"
done
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
gpgconf --kill gpg-agent >/dev/null 2>&1
mwt_postfix_stop
mwt_milter_stop
mwt_done

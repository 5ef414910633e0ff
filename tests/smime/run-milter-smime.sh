#!/bin/sh
# S/MIME signing inside mailward-milter, driven through libmilter by
# miltertest: which messages are signed, and the log line that says why
# the others are not.  Prints TAP.
set -u
. "$(dirname "$0")/../milter/lib.sh"

if ! command -v miltertest >/dev/null; then
	echo "not ok 1 - miltertest is not installed (Debian package miltertest)"
	exit 1
fi
mwt_init
mwt_smime_keys || { echo "not ok 1 - the test PKI"; exit 1; }
POLICY=$MWT_TMP/policy.conf
cat >"$POLICY" <<EOT
service submission {
  postfix_daemon_name = ORIGINATING
}
smime {
  sign            = authenticated
  keytable        = $MWT_TMP/smime.keys
  digest          = sha256
  on_error        = pass
  spool_threshold = 64K
  tmpdir          = $MWT_TMP/spool
}
EOT
chmod 644 "$POLICY"
SOCKET=unix:$MWT_TMP/run/milter.sock

mwt_check "the milter with S/MIME signing starts" \
	mwt_milter_start "$POLICY" "$SOCKET"

# case_ SCRIPT LOG-TEXT, SCRIPT from tests/smime/lua
case_() {
	mwt_miltertest_case "$MW_SRCDIR/tests/smime/lua/$1" "$2"
}

# Signed messages, read back as Postfix would store them, verified by
# OpenSSL and GnuPG against the test root.
mwt_gpgsm_trust "$pki/root.pem"
python3 "$MW_SRCDIR/tests/smime/gen-corpus.py" "$MWT_TMP/corpus"
python3 - "$MWT_TMP/corpus/large.eml" <<'PY'
import sys
line = "Gr\u00fc\u00dfe, a line of an 8-bit message big enough to spool.\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"From: Alice <alice@example.org>\nSubject: large\n"
            b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            b"Content-Transfer-Encoding: 8bit\n\n" +
            (line * 50000).encode())
PY
for name in utf8-8bit nested large; do
	mwt_log_mark
	out=$MWT_TMP/$name.out
	mwt_check "$name: the milter signs it" python3 \
		"$MW_SRCDIR/tests/smime/milter-client.py" "$SOCKET" \
		alice@example.org "$MWT_TMP/corpus/$name.eml" "$out"
	mwt_check "$name: log says signed" \
		mwt_log_has "4ABCDEF: smime: signed as alice@example.org (login alice@example.org, sha-256"
	mwt_check "$name: openssl cms -verify" openssl cms -verify -in "$out" \
		-CAfile "$pki/root.pem" -out "$out.inner"
	mwt_check "$name: gpgsm --verify" sh -c "
		python3 '$MW_SRCDIR/tests/smime/split-signed.py' '$out' '$out.data' '$out.p7s' &&
		gpgsm --batch --status-fd 1 --verify '$out.p7s' '$out.data' 2>/dev/null |
			grep -q TRUST_FULLY"
	mwt_check "$name: content as sent" python3 \
		"$MW_SRCDIR/tests/smime/compare.py" "$MWT_TMP/corpus/$name.eml" \
		"$out.inner"
done
gpgconf --kill gpg-agent >/dev/null 2>&1
case_ nokey.lua "smime: not signed: no key for the From address bob@example.org"
case_ notmine.lua "smime: not signed: login may not send as the From address alice@example.org"
case_ unauth.lua "smime: not signed: sender <alice@example.org> did not authenticate"
mwt_check "the key table load is logged" \
	grep -qF "smime: signing keys loaded from $MWT_TMP/smime.keys: 1" \
	"$MWT_TMP/milter.log"

# --- the key table follows the policy on SIGHUP -------------------------

# sign_as LOGIN MESSAGE OUT: the milter signs MESSAGE and OpenSSL verifies it.
sign_as() {
	python3 "$MW_SRCDIR/tests/smime/milter-client.py" "$SOCKET" "$1" "$2" "$3" &&
		openssl cms -verify -in "$3" -CAfile "$pki/root.pem" \
			-out /dev/null 2>/dev/null
}
python3 "$MW_SRCDIR/tests/smime/gen-corpus.py" "$MWT_TMP/corpus-bob" bob@example.org
bob_msg=$MWT_TMP/corpus-bob/utf8-8bit.eml
# A key that others can read is refused; the rest of the table loads.
printf 'bob@example.org %s/bob.pem %s/bob.key %s/inter.pem\n' \
	"$pki" "$pki" "$pki" >>"$MWT_TMP/smime.keys"
printf 'carol@example.org %s/loosekey.pem %s/loosekey.key\n' \
	"$pki" "$pki" >>"$MWT_TMP/smime.keys"
mwt_log_mark
kill -HUP "$MILTER_PID"
mwt_check "SIGHUP reloads the key table: alice and bob" \
	mwt_wait_for 10 mwt_log_has_now "smime: signing keys loaded from $MWT_TMP/smime.keys: 2"
mwt_check "a private key that others can read is refused, with file:line" \
	mwt_log_has "smime: $MWT_TMP/smime.keys:3: carol@example.org: $pki/loosekey.key: private key readable by others (mode 0644); key skipped"
mwt_check "after the reload bob's mail is signed (ECDSA P-256)" \
	sign_as bob@example.org "$bob_msg" "$MWT_TMP/bob.out"

# A key table that cannot be read fails the whole reload: the policy and
# the keys in use stay.
mv "$MWT_TMP/smime.keys" "$MWT_TMP/smime.keys.away"
mwt_log_mark
kill -HUP "$MILTER_PID"
mwt_check "an unreadable key table fails the reload and says why" \
	mwt_wait_for 10 mwt_log_has_now "reload failed, keeping the current policy"
mwt_check "the reason names the key table" \
	mwt_log_has "smime: $MWT_TMP/smime.keys"
mwt_check "after the failed reload bob's mail is still signed" \
	sign_as bob@example.org "$bob_msg" "$MWT_TMP/bob2.out"
mwt_check "mailward-milter -n fails on the unreadable key table (exit 78)" \
	sh -c "'$MILTER' -n -c '$POLICY' 2>'$MWT_TMP/n.err'; [ \$? -eq 78 ] &&
		grep -qF 'smime: $MWT_TMP/smime.keys' '$MWT_TMP/n.err'"
mv "$MWT_TMP/smime.keys.away" "$MWT_TMP/smime.keys"
mwt_check "mailward-milter -n lists the refused key and passes the table" \
	sh -c "'$MILTER' -n -c '$POLICY' 2>'$MWT_TMP/n.err' &&
		grep -qF 'private key readable by others' '$MWT_TMP/n.err'"

mwt_milter_stop
mwt_done

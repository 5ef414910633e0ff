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
# Keys under the milter's user and one in Debian's ssl-cert style.
printf 'dave.jones@example.org %s/dave.pem %s/dave.key %s/inter.pem\n' \
	"$pki" "$pki" "$pki" >>"$MWT_TMP/smime.keys"
printf 'alice@example.org assistant@example.org\n' >"$MWT_TMP/senders"
chmod 644 "$MWT_TMP/senders"
cat >"$POLICY" <<EOT
service submission {
  postfix_daemon_name = ORIGINATING
}
service submissions {
  postfix_daemon_name = SUBMISSIONS
}
service mx {
  postfix_daemon_name = MX
}
smime {
  sign            = authenticated
  keytable        = $MWT_TMP/smime.keys
  sender_map      = $MWT_TMP/senders
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
	grep -qF "smime: signing keys loaded from $MWT_TMP/smime.keys: 2" \
	"$MWT_TMP/milter.log"

# sign_as LOGIN MESSAGE OUT [CLIENT OPTIONS]: the milter signs MESSAGE
# and OpenSSL verifies it.
sign_as() {
	login=$1 msgf=$2 outf=$3
	shift 3
	python3 "$MW_SRCDIR/tests/smime/milter-client.py" "$@" "$SOCKET" \
		"$login" "$msgf" "$outf" &&
		openssl cms -verify -in "$outf" -CAfile "$pki/root.pem" \
			-out "$outf.inner" 2>/dev/null
}
# as_milter_user COMMAND...: as the user the milter runs as, which is
# whom the key files must belong to.
as_milter_user() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u nobody -g postfix -- "$@"
	else
		"$@"
	fi
}

# Issue 10 item 5: every service the smime section names signs (here
# the default, submission and submissions), and an unsigned message says
# why at info.
mwt_log_mark
mwt_check "a message through service submissions (SUBMISSIONS) is signed" \
	sign_as alice@example.org "$MWT_TMP/corpus/plain.eml" \
	"$MWT_TMP/s465.out" -d SUBMISSIONS
mwt_check "the log says signed" mwt_log_has "smime: signed as alice@example.org"
mwt_log_mark
python3 "$MW_SRCDIR/tests/smime/milter-client.py" -d MX "$SOCKET" \
	alice@example.org "$MWT_TMP/corpus/plain.eml" "$MWT_TMP/mx.out"
mwt_check "a message through service mx is not signed" \
	sh -c "! grep -q multipart/signed '$MWT_TMP/mx.out'"
mwt_check "... and the log says why at info" \
	mwt_log_has "]: 4ABCDEF: smime: not signed: service mx is not one that signs"

# Item 4: the sender map adds the assistant, alice keeps her own right.
mwt_check "sender map: the assistant may sign as alice" \
	sign_as assistant@example.org "$MWT_TMP/corpus/plain.eml" "$MWT_TMP/asst.out"
mwt_check "sender map: alice still signs as herself" \
	sign_as alice@example.org "$MWT_TMP/corpus/nested.eml" "$MWT_TMP/alice2.out"

# Item 2: a certificate for Dave.Jones@Example.ORG signs for the From
# address as the user wrote it, whatever the login's case.
sed 's/^From: .*/From: Dave Jones <Dave.Jones@Example.ORG>/' \
	"$MWT_TMP/corpus/plain.eml" >"$MWT_TMP/dave.eml"
mwt_log_mark
mwt_check "a certificate with an upper-case address signs" \
	sign_as dave.jones@example.org "$MWT_TMP/dave.eml" "$MWT_TMP/dave.out"
mwt_check "... as Dave.Jones@example.org" \
	mwt_log_has "smime: signed as Dave.Jones@example.org"

# Item 9: bare LF inside a binary part, straight through the milter
# protocol (Postfix would have made it CRLF): base64 of the exact bytes.
python3 - "$MWT_TMP/binary-lf.eml" <<'PY'
import sys
open(sys.argv[1], "wb").write(
    b"From: alice@example.org\nSubject: binary\nMIME-Version: 1.0\n"
    b"Content-Type: multipart/mixed; boundary=b\n\n"
    b"--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
    b"--b\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Transfer-Encoding: binary\r\n\r\n"
    b"line1\nline2\r\n\x00\xff\n\r\n--b--\r\n")
PY
mwt_check "a binary part with bare LF is signed" \
	sign_as alice@example.org "$MWT_TMP/binary-lf.eml" "$MWT_TMP/binary-lf.out" -r
mwt_check "... its bytes are kept exactly, as base64" python3 - \
	"$MWT_TMP/binary-lf.out.inner" <<'PY'
import email, email.policy, sys
msg = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                               policy=email.policy.compat32)
part = [p for p in msg.walk() if p.get_content_type() == "application/octet-stream"][0]
assert part["Content-Transfer-Encoding"] == "base64", part["Content-Transfer-Encoding"]
assert part.get_payload(decode=True) == b"line1\nline2\r\n\x00\xff\n", part.get_payload(decode=True)
PY

# Item 1 through the milter: a forwarded signed message keeps its
# signature.
. "$MW_SRCDIR/tests/smime/verify-lib.sh"
smv_make_signed "$pki" "$MWT_TMP/bob-signed.eml"
python3 "$MW_SRCDIR/tests/smime/gen-corpus.py" "$MWT_TMP/corpus-fwd" \
	alice@example.org "$MWT_TMP/bob-signed.eml"
for name in forwarded-signed signed-in-mixed; do
	mwt_check "$name: signed by the milter" sign_as alice@example.org \
		"$MWT_TMP/corpus-fwd/$name.eml" "$MWT_TMP/$name.out"
	mwt_check "$name: the inner signature still verifies" \
		smv_inner "$MWT_TMP/$name.out" "$pki/root.pem"
done

# --- the key table follows the policy on SIGHUP -------------------------

python3 "$MW_SRCDIR/tests/smime/gen-corpus.py" "$MWT_TMP/corpus-bob" bob@example.org
bob_msg=$MWT_TMP/corpus-bob/utf8-8bit.eml
# A key that others can read is refused; the rest of the table loads.
printf 'bob@example.org %s/bob.pem %s/bob.key %s/inter.pem\n' \
	"$pki" "$pki" "$pki" >>"$MWT_TMP/smime.keys"
printf 'carol@example.org %s/loosekey.pem %s/loosekey.key\n' \
	"$pki" "$pki" >>"$MWT_TMP/smime.keys"
mwt_log_mark
kill -HUP "$MILTER_PID"
mwt_check "SIGHUP reloads the key table: alice, dave and bob" \
	mwt_wait_for 10 mwt_log_has_now "smime: signing keys loaded from $MWT_TMP/smime.keys: 3"
mwt_check "a private key that others can read is refused, with file:line" \
	mwt_log_has "smime: $MWT_TMP/smime.keys:4: carol@example.org: $pki/loosekey.key: private key readable by others (mode 0644); key skipped"
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
as_milter_user "$MILTER" -n -c "$POLICY" 2>"$MWT_TMP/n.err"
rc=$?
mwt_check "mailward-milter -n lists the refused key and passes the table" \
	sh -c "[ $rc -eq 0 ] && grep -qF 'private key readable by others' '$MWT_TMP/n.err'"

# Item 10: Debian's root:ssl-cert 0640 keys, for a milter that runs in
# the group (here postfix); a key others of a group it is not in can
# read is still refused.
cp "$pki/alice.key" "$MWT_TMP/ssl-cert.key"
chown root:postfix "$MWT_TMP/ssl-cert.key"
chmod 640 "$MWT_TMP/ssl-cert.key"
cp "$pki/alice.key" "$MWT_TMP/other-group.key"
[ "$(id -u)" -ne 0 ] || chown nobody:daemon "$MWT_TMP/other-group.key"
chmod 640 "$MWT_TMP/other-group.key"
printf 'alice@example.org %s/alice.pem %s/ssl-cert.key\n' "$pki" "$MWT_TMP" \
	>"$MWT_TMP/group.keys"
printf 'alice@example.org %s/alice.pem %s/other-group.key\n' "$pki" "$MWT_TMP" \
	>"$MWT_TMP/other.keys"
sed "s|keytable .*|keytable = $MWT_TMP/group.keys|" "$POLICY" >"$MWT_TMP/group.conf"
sed "s|keytable .*|keytable = $MWT_TMP/other.keys|" "$POLICY" >"$MWT_TMP/other.conf"
chmod 644 "$MWT_TMP/group.keys" "$MWT_TMP/other.keys" "$MWT_TMP/group.conf" \
	"$MWT_TMP/other.conf"
mwt_check "a root:postfix 0640 key is accepted for a milter in group postfix" \
	as_milter_user "$MILTER" -n -c "$MWT_TMP/group.conf" 2>/dev/null
as_milter_user "$MILTER" -n -c "$MWT_TMP/other.conf" 2>"$MWT_TMP/n3.err"
rc=$?
mwt_check "a nobody:daemon 0640 key is refused, and -n fails (item 7)" \
	sh -c "[ $rc -eq 78 ] &&
		grep -qF 'other.keys:1: alice@example.org: $MWT_TMP/other-group.key: private key readable by group daemon, which the milter does not run in (mode 0640); key skipped' '$MWT_TMP/n3.err' &&
		grep -qF 'no usable signing key' '$MWT_TMP/n3.err'"

# smime services must name declared services.
sed "s|^  digest .*|  services = submission submisions|" "$POLICY" >"$MWT_TMP/svc.conf"
chmod 644 "$MWT_TMP/svc.conf"
"$MILTER" -n -c "$MWT_TMP/svc.conf" 2>"$MWT_TMP/svc.err"
rc=$?
mwt_check "smime services naming an undeclared service: exit 78, file:line:column" \
	sh -c "[ $rc -eq 78 ] && grep -qE '^$MWT_TMP/svc.conf:[0-9]+:[0-9]+: .*smime services names .submisions., which no service section declares' '$MWT_TMP/svc.err'"

# Item 7: a table of which no key loads fails -n, listing each key.
printf 'alice@example.org %s/expired.pem %s/expired.key\ncarol@example.org %s/loosekey.pem %s/loosekey.key\n' \
	"$pki" "$pki" "$pki" "$pki" >"$MWT_TMP/none.keys"
sed "s|keytable .*|keytable = $MWT_TMP/none.keys|" "$POLICY" >"$MWT_TMP/none.conf"
chmod 644 "$MWT_TMP/none.keys" "$MWT_TMP/none.conf"
as_milter_user "$MILTER" -n -c "$MWT_TMP/none.conf" 2>"$MWT_TMP/n4.err"
rc=$?
mwt_check "mailward-milter -n with no usable key exits 78" [ "$rc" -eq 78 ]
mwt_check "... and prints each skipped key with file:line" sh -c "
	grep -qF 'none.keys:1: alice@example.org: certificate expired; key skipped' '$MWT_TMP/n4.err' &&
	grep -qF 'none.keys:2: carol@example.org: $pki/loosekey.key: private key readable by others' '$MWT_TMP/n4.err'"

# ... and the running milter refuses a reload to such a table, keeping
# the keys it has.
cp "$POLICY" "$MWT_TMP/policy.saved"
cp "$MWT_TMP/none.conf" "$POLICY"
mwt_log_mark
kill -HUP "$MILTER_PID"
mwt_check "a reload to a table without a usable key fails" \
	mwt_wait_for 10 mwt_log_has_now "reload failed, keeping the current policy"
mwt_check "... saying why" mwt_log_has "none.keys: no usable signing key"
cp "$MWT_TMP/policy.saved" "$POLICY"
mwt_check "... and mail is still signed" \
	sign_as alice@example.org "$MWT_TMP/corpus/plain.eml" "$MWT_TMP/after-none.out"

# Item 6: a key under a passphrase is refused on a terminal too; OpenSSL
# never gets to prompt.  (script gives -n a terminal; timeout ends a hang.)
printf 'alice@example.org %s/locked.pem %s/locked.key\n' "$pki" "$pki" \
	>"$MWT_TMP/locked.keys"
sed "s|keytable .*|keytable = $MWT_TMP/locked.keys|" "$POLICY" >"$MWT_TMP/locked.conf"
chmod 644 "$MWT_TMP/locked.keys" "$MWT_TMP/locked.conf"
as_milter_user timeout 60 script -qec "'$MILTER' -n -c '$MWT_TMP/locked.conf'" \
	/dev/null </dev/null >"$MWT_TMP/n5.out" 2>&1
rc=$?
mwt_check "-n on a terminal with a passphrase key: no prompt, exit 78" \
	sh -c "[ $rc -eq 78 ] && ! grep -qi 'pass phrase' '$MWT_TMP/n5.out'"
mwt_check "... the key is refused with file:line and the reason" \
	grep -qF "locked.keys:1: alice@example.org: $pki/locked.key: private key is protected by a passphrase" "$MWT_TMP/n5.out"

mwt_milter_stop
mwt_done

#!/bin/sh
# The S/MIME engine's tests: the unit tests, then the corpus signed and
# verified by four independent implementations (OpenSSL's cms -verify and
# smime -verify, GnuPG's gpgsm --verify and NSS's cmsutil -D) against a
# test CA made for this run, signatures inside the signed content checked
# again, the advertised SMIMECapabilities, the content
# compared with what was sent, a one-byte change shown to break both
# verifications, a message large enough to spool, and the unit tests once
# under valgrind.  Prints TAP.
set -u
srcdir=${MW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${MW_BUILDDIR:-build}
case $B in /*) ;; *) B=$srcdir/$B ;; esac
here=$srcdir/tests/smime
bin=$B/tests/smime
MW_SRCDIR=$srcdir
. "$here/verify-lib.sh"

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
# check DESCRIPTION COMMAND...
check() {
	d=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then ok "$d"; else
		not_ok "$d"; sed 's/^/# /' "$T/check.out" | head -20; fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/mw-smime.XXXXXX")
GNUPGHOME=$T/gnupg
export GNUPGHOME
cleanup() {
	gpgconf --kill gpg-agent >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

if ! "$here/make-pki.sh" "$T/pki"; then
	echo "not ok 1 - making the test PKI failed"
	exit 1
fi
pki=$T/pki

# --- unit tests ------------------------------------------------------------
"$bin/unit-smime" "$pki" >"$T/unit.out" 2>&1
rc=$?
sed 's/^\(not \)\{0,1\}ok [0-9]* - /&unit: /' "$T/unit.out"
n=$(grep -c '^\(not \)\{0,1\}ok ' "$T/unit.out")
failed=$(grep -c '^not ok ' "$T/unit.out")
[ $rc -eq 0 ] || [ "$failed" -gt 0 ] || not_ok "unit-smime exited with $rc"

# --- verifiers -------------------------------------------------------------
mkdir -m 700 "$GNUPGHOME"
echo disable-crl-checks >"$GNUPGHOME/gpgsm.conf"
gpgsm --batch --import "$pki/root.pem" >/dev/null 2>&1
fpr=$(openssl x509 -in "$pki/root.pem" -noout -fingerprint -sha1 | sed 's/.*=//')
echo "$fpr S" >"$GNUPGHOME/trustlist.txt"

# verify_openssl MSG INNER
verify_openssl() {
	openssl cms -verify -in "$1" -CAfile "$pki/root.pem" -out "$2"
}
# verify_gpgsm MSG: good and fully trusted through the test root.
verify_gpgsm() {
	python3 "$here/split-signed.py" "$1" "$1.data" "$1.p7s" &&
	gpgsm --batch --status-fd 3 --verify "$1.p7s" "$1.data" \
		3>"$1.status" 2>"$1.gpgsm" &&
	grep -q '^\[GNUPG:\] GOODSIG' "$1.status" &&
	grep -q '^\[GNUPG:\] TRUST_FULLY' "$1.status"
}

smv_nss_init "$T/nss" "$pki/root.pem" >/dev/null 2>&1 ||
	not_ok "an NSS database for cmsutil"
smv_make_signed "$pki" "$T/bob-signed.eml" || not_ok "a message signed by OpenSSL"
python3 "$here/gen-corpus.py" "$T/corpus" alice@example.org "$T/bob-signed.eml"
python3 "$here/gen-corpus.py" "$T/corpus-bob" bob@example.org
mkdir "$T/out"

# sign_and_verify NAME INPUT KEYNAME DIGEST [SIGN OPTIONS]
sign_and_verify() {
	name=$1 in=$2 key=$3 digest=$4
	shift 4
	out=$T/out/$name.eml
	check "$name: signed with $key, $digest" "$bin/mw-smime-sign" \
		-d "$digest" -T "$T" "$@" "$pki/$key.pem" "$pki/$key.key" \
		"$pki/inter.pem" "$in" "$out" || return
	micalg=$(echo "$digest" | sed 's/sha/sha-/')
	check "$name: multipart/signed, micalg=$micalg" \
		grep -q "micalg=$micalg; boundary=" "$out"
	check "$name: openssl cms -verify" verify_openssl "$out" "$out.inner"
	check "$name: openssl smime -verify" smv_openssl_smime "$out" "$pki/root.pem"
	check "$name: gpgsm --verify" verify_gpgsm "$out"
	check "$name: NSS cmsutil -D" smv_nss "$out" "$T/nss"
	check "$name: entity canonical, content as sent" \
		python3 "$here/compare.py" "$in" "$out.data"
}

for f in "$T"/corpus/*.eml; do
	name=$(basename "$f" .eml)
	[ "$name" = already-signed ] && continue
	sign_and_verify "$name" "$f" alice sha256
done
CR=$(printf '\r')
for name in forwarded-signed signed-in-mixed; do
	check "$name: the inner signature still verifies" \
		smv_inner "$T/out/$name.eml" "$pki/root.pem"
	check "$name: the inner signed text is there byte for byte" \
		grep -q "^From the desk of Alice: $CR\$" "$T/out/$name.eml.inner"
done
for name in ja-sjis ja-eucjp; do
	check "$name: Japanese 8-bit text as base64, not 3x quoted-printable" \
		sh -c "grep -q '^Content-Transfer-Encoding: base64' '$T/out/$name.eml.inner' &&
			! grep -q '^Content-Transfer-Encoding: quoted-printable' '$T/out/$name.eml.inner'"
done
# ISO-2022-JP is 7-bit; its "From " lines and trailing spaces need
# quoted-printable, which stays well under 1.5 times base64 here.
check "ja-iso2022: quoted-printable, not base64" \
	sh -c "! grep -q '^Content-Transfer-Encoding: base64' '$T/out/ja-iso2022.eml.inner' &&
		grep -q '^Content-Transfer-Encoding: quoted-printable' '$T/out/ja-iso2022.eml.inner'"
check "SMIMECapabilities: AES-256-GCM, AES-128-GCM, AES-256-CBC, AES-128-CBC, in that order" \
	sh -c "openssl cms -cmsout -print -in '$T/out/plain.eml' |
		sed -n '/S\/MIME Capabilities/,/signatureAlgorithm/p' |
		sed -n 's/.*OBJECT *://p' | tr '\n' ' ' |
		grep -qx 'aes-256-gcm aes-128-gcm aes-256-cbc aes-128-cbc '"
sign_and_verify "ecdsa-utf8" "$T/corpus-bob/utf8-8bit.eml" bob sha256
sign_and_verify "ecdsa-nested" "$T/corpus-bob/nested.eml" bob sha384
sign_and_verify "rsa-sha512" "$T/corpus/alternative-attachments.eml" alice sha512

# Already signed: left alone, byte for byte.
"$bin/mw-smime-sign" "$pki/alice.pem" "$pki/alice.key" "$pki/inter.pem" \
	"$T/corpus/already-signed.eml" "$T/out/already-signed.eml"
rc=$?
check "already signed: not signed again, unchanged" \
	sh -c "[ $rc -eq 3 ] && cmp '$T/corpus/already-signed.eml' '$T/out/already-signed.eml'"

# One byte changed in the signed text: both verifiers must refuse.
python3 - "$T/out/plain.eml" "$T/tampered.eml" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
i = data.index(b"Hello Bob")
open(sys.argv[2], "wb").write(data[:i] + b"J" + data[i + 1:])
PY
check "one byte changed: openssl cms -verify fails" \
	sh -c "! openssl cms -verify -in '$T/tampered.eml' -CAfile '$pki/root.pem' -out /dev/null"
check "one byte changed: gpgsm reports BADSIG" sh -c "
	python3 '$here/split-signed.py' '$T/tampered.eml' '$T/t.data' '$T/t.p7s'
	! gpgsm --batch --status-fd 1 --verify '$T/t.p7s' '$T/t.data' 2>/dev/null |
		grep -q GOODSIG &&
	gpgsm --batch --status-fd 1 --verify '$T/t.p7s' '$T/t.data' 2>/dev/null |
		grep -q BADSIG"

# A 4 MB message through a 64 KB spool threshold: both sides in files.
python3 - "$T/large.eml" <<'PY'
import os, sys
text = "Große Datei, Zeile mit Umlauten und Länge.\n" * 40000
blob = os.urandom(2 * 1024 * 1024)
with open(sys.argv[1], "wb") as f:
    f.write(b"From: alice@example.org\nSubject: large\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=LB\n\n--LB\n"
            b"Content-Type: text/plain; charset=utf-8\n"
            b"Content-Transfer-Encoding: 8bit\n\n" + text.encode() +
            b"--LB\nContent-Type: application/octet-stream\n"
            b"Content-Transfer-Encoding: binary\n\n" + blob + b"\n--LB--\n")
PY
sign_and_verify "large, spooled" "$T/large.eml" alice sha256 -t 65536

# --- valgrind --------------------------------------------------------------
if ldd "$bin/unit-smime" | grep -q libasan; then
	:	# the sanitizer build checks memory itself
elif command -v valgrind >/dev/null; then
	check "valgrind: unit tests without leaks or errors" \
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 "$bin/unit-smime" "$pki"
	check "valgrind: signing a nested message without leaks or errors" \
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 "$bin/mw-smime-sign" -T "$T" -t 1024 \
		"$pki/alice.pem" "$pki/alice.key" "$pki/inter.pem" \
		"$T/corpus/nested.eml" "$T/out/valgrind.eml"
else
	not_ok "valgrind is not installed"
fi

[ "$failed" -eq 0 ]

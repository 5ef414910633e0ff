# Shell functions that check a signed message with four independent
# implementations, for the S/MIME tests (sourced).  Each returns the
# verifier's verdict as its status.
#   smv_nss_init DIR ROOT.pem    an NSS database in DIR trusting ROOT
#   smv_openssl_cms MSG ROOT OUT openssl cms -verify; OUT: the content
#   smv_openssl_smime MSG ROOT   openssl smime -verify
#   smv_gpgsm MSG                gpgsm --verify, good and fully trusted
#                                (GNUPGHOME set up to trust the root)
#   smv_nss MSG DIR              NSS cmsutil -D: GoodSignature
#   smv_inner MSG ROOT           the signed message carried inside MSG's
#                                signed content verifies too
smv_here=$(dirname "$0")
case $smv_here in /*) ;; *) smv_here=$(pwd)/$smv_here ;; esac
smv_here=${MW_SRCDIR:-$smv_here/../..}/tests/smime

smv_nss_init() {
	mkdir -p "$1" &&
	certutil -N -d "sql:$1" --empty-password &&
	certutil -A -d "sql:$1" -n "test root" -t "C,C,C" -i "$2"
}

smv_openssl_cms() {
	openssl cms -verify -in "$1" -CAfile "$2" -out "$3" 2>"$1.cms.err"
}

smv_openssl_smime() {
	openssl smime -verify -in "$1" -CAfile "$2" -out /dev/null \
		2>"$1.smime.err"
}

smv_split() {
	[ -f "$1.p7s" ] || python3 "$smv_here/split-signed.py" "$1" "$1.data" "$1.p7s"
}

smv_gpgsm() {
	smv_split "$1" &&
	gpgsm --batch --status-fd 3 --verify "$1.p7s" "$1.data" \
		3>"$1.gpgsm.status" 2>"$1.gpgsm.err" &&
	grep -q '^\[GNUPG:\] GOODSIG' "$1.gpgsm.status" &&
	grep -q '^\[GNUPG:\] TRUST_FULLY' "$1.gpgsm.status"
}

# cmsutil exits 0 whatever the verdict; the status line says it.
smv_nss() {
	smv_split "$1" &&
	cmsutil -D -i "$1.p7s" -c "$1.data" -d "sql:$2" -n -h 2 \
		>"$1.nss.out" 2>&1 &&
	grep -q 'signer0.status=GoodSignature' "$1.nss.out"
}

smv_inner() {
	openssl cms -verify -in "$1" -CAfile "$2" -out "$1.outer" 2>/dev/null &&
	python3 "$smv_here/extract-signed.py" "$1.outer" "$1.inner-signed" &&
	openssl cms -verify -in "$1.inner-signed" -CAfile "$2" -out /dev/null \
		2>/dev/null
}

# smv_make_signed PKI OUT: a message bob@example.org signed with OpenSSL
# (not mailward), whose text has a line starting "From " and ending in a
# space: what a re-encoding would change.
smv_make_signed() {
	printf 'From the desk of Alice: \nSecond line.\n' >"$2.txt" &&
	openssl cms -sign -in "$2.txt" -text -signer "$1/bob.pem" \
		-inkey "$1/bob.key" -certfile "$1/inter.pem" \
		-from bob@example.org -to alice@example.org \
		-subject "signed by bob" -out "$2" 2>/dev/null
}

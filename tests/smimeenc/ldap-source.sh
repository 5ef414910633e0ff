#!/bin/sh
# The LDAP certificate source (milter/smime/smime-ldap.h) against a real
# slapd on loopback, through the driver tests/smimeenc/ldap-lookup: what
# is found and what is not, the filter escaping, TLS (StartTLS and
# ldaps, the server's certificate verified), the bind, failures within
# the time-out (slapd stopped, a server that never answers), the caches,
# and concurrency against a slow server.  The certificates' validity is
# the selection's business: the source returns the expired and the
# untrusted ones like any other.
set -u
: "${MW_SRCDIR:?}"
. "$MW_SRCDIR/tests/smimeenc/ldap-lib.sh"
ldt_start "$0" "$@"

NETEM=$MW_SRCDIR/tests/smimeenc/ldap-netem.py
STARTTLS="--uri ldap://127.0.0.1:3890"
LDAPS="--uri ldaps://127.0.0.1:6360"

# fpr NAME: the SHA-256 fingerprint of $LDT/NAME.pem as the driver prints it
fpr() {
	openssl x509 -in "$LDT/$1.pem" -noout -fingerprint -sha256 |
		sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

# lookup OUTFILE ARGS...: the driver's output in $LDT/OUTFILE
lookup() {
	out=$LDT/$1
	shift
	ldt_lookup "$@" >"$out" 2>&1
	sed 's/^/# /' "$out"
}

# ms_of ADDRESS FILE: the milliseconds the lookup of ADDRESS took
ms_of() {
	sed -n "s/^$1: [a-z]* [0-9]* *(\([0-9]*\) ms).*/\1/p; s/^$1: [a-z]* (\([0-9]*\) ms).*/\1/p" "$2" | head -1
}

if ldt_slapd_start main 3890 6360; then
	mwt_ok "private slapd with StartTLS and ldaps on loopback"
else
	mwt_not_ok "private slapd with StartTLS and ldaps on loopback"
	exit 1
fi

# --- found, not found ----------------------------------------------------
lookup found.out $STARTTLS alice@example.org bob@example.org \
	expired@example.org untrusted@example.org two@example.org \
	nocert@example.org nobody@example.org Alice@EXAMPLE.org
mwt_check "userSMIMECertificate (certs-only PKCS#7) over StartTLS" \
	grep -q "^  subject=.*CN=alice .*sha256=$(fpr alice)\$" "$LDT/found.out"
mwt_check "one certificate for alice" grep -q "^alice@example.org: found 1 " "$LDT/found.out"
mwt_check "userCertificate;binary (DER)" \
	grep -q "^  subject=.*CN=bob .*sha256=$(fpr bob)\$" "$LDT/found.out"
mwt_check "the expired certificate is returned (the selection rejects it)" \
	grep -q "sha256=$(fpr expired)\$" "$LDT/found.out"
mwt_check "the untrusted CA's certificate is returned (the selection rejects it)" \
	grep -q "sha256=$(fpr untrusted)\$" "$LDT/found.out"
mwt_check "a user with two certificates: both" sh -c "
	grep -q '^two@example.org: found 2 ' '$LDT/found.out' &&
	grep -q 'sha256=$(fpr two1)\$' '$LDT/found.out' &&
	grep -q 'sha256=$(fpr two2)\$' '$LDT/found.out'"
mwt_check "an entry without a certificate: none" \
	grep -q "^nocert@example.org: none " "$LDT/found.out"
mwt_check "no entry: none" grep -q "^nobody@example.org: none " "$LDT/found.out"
mwt_check "the domain is compared without case" \
	grep -q "^Alice@EXAMPLE.org: found 1 " "$LDT/found.out"

# --- the filter ----------------------------------------------------------
lookup escape.out $STARTTLS '*)(uid=*' '*' 'alice@example.org)(mail=*' \
	'bob@example.org\'
mwt_check "an address with *)(uid=* does not widen the search" \
	grep -q '^\*)(uid=\*: none ' "$LDT/escape.out"
mwt_check "an address * is a literal asterisk" grep -q '^\*: none ' "$LDT/escape.out"
mwt_check "an address closing the filter early matches nothing" \
	grep -q '^alice@example.org)(mail=\*: none ' "$LDT/escape.out"
mwt_check "a backslash in the address is escaped" \
	grep -q '^bob@example.org\\: none ' "$LDT/escape.out"
# the control: the same filter unescaped matches every user
printf 'milter-s3cret' >"$LDT/milter.secret.nonl"
n=$(LDAPTLS_CACERT=$LDT/testca.pem ldapsearch -LLL -x -ZZ \
	-H ldap://127.0.0.1:3890 -D "$LDT_BIND_DN" -y "$LDT/milter.secret.nonl" \
	-b "$LDT_BASE" '(&(objectClass=inetOrgPerson)(mail=*)(uid=*))' dn \
	2>/dev/null | grep -c '^dn:' || :)
mwt_check "control: unescaped, the same filter would match all $n users" \
	[ "${n:-0}" -ge 6 ]
f=$("$LDT_LOOKUP" --print-filter --filter '(mail=%s)' '*)(uid=*')
mwt_check "RFC 4515 escaping: $f" [ "$f" = '(mail=\2a\29\28uid=\2a)' ]

# --- TLS -------------------------------------------------------------------
lookup ldaps.out $LDAPS alice@example.org bob@example.org
mwt_check "ldaps:// with the server certificate verified" sh -c "
	grep -q '^alice@example.org: found 1 ' '$LDT/ldaps.out' &&
	grep -q '^bob@example.org: found 1 ' '$LDT/ldaps.out'"
ldt_slapd_setup other otherca
ldt_slapd_start other 3891 6361
lookup other.out --uri ldap://127.0.0.1:3891 alice@example.org
mwt_check "StartTLS to a server with another CA's certificate refused" \
	grep -q '^alice@example.org: error (.*StartTLS.*' "$LDT/other.out"
lookup other2.out --uri ldaps://127.0.0.1:6361 alice@example.org
mwt_check "ldaps to a server with another CA's certificate refused" \
	grep -q '^alice@example.org: error (' "$LDT/other2.out"
ldt_slapd_stop other
lookup nossl.out --uri ldap://127.0.0.1:3890 --ca "$LDT/otherca.pem" alice@example.org
mwt_check "the CA file is the one given (test CA not trusted: refused)" \
	grep -q '^alice@example.org: error (.*StartTLS' "$LDT/nossl.out"
lookup name.out --uri ldap://ldap.example.com:3890 alice@example.org
mwt_check "a server name in its certificate accepted (ldap.example.com)" \
	grep -q '^alice@example.org: found 1 ' "$LDT/name.out"
lookup badname.out --uri ldap://wrong.example.com:3890 alice@example.org
mwt_check "a server name not in its certificate refused (wrong.example.com)" \
	grep -q '^alice@example.org: error (.*StartTLS' "$LDT/badname.out"
lookup badnames.out --uri ldaps://wrong.example.com:6360 alice@example.org
mwt_check "the same over ldaps" \
	grep -q '^alice@example.org: error (' "$LDT/badnames.out"

# --- bind --------------------------------------------------------------------
printf 'wrong\n' >"$LDT/wrong.secret"
chmod 600 "$LDT/wrong.secret"
lookup wrongpw.out $STARTTLS alice@example.org --password-file "$LDT/wrong.secret"
mwt_check "a wrong password fails clearly" \
	grep -q "^alice@example.org: error (.*bind as $LDT_BIND_DN: Invalid credentials" \
	"$LDT/wrongpw.out"
chmod 644 "$LDT/wrong.secret"
lookup loosepw.out $STARTTLS alice@example.org --password-file "$LDT/wrong.secret"
mwt_check "a password file readable by others is refused" \
	grep -q "^settings: .*readable by others" "$LDT/loosepw.out"
"$LDT_LOOKUP" $STARTTLS --base "$LDT_BASE" --filter '(mail=%s)' \
	--ca "$LDT/testca.pem" alice@example.org >"$LDT/anon.out" 2>&1
sed 's/^/# /' "$LDT/anon.out"
mwt_check "without the bind, the directory shows nothing (so the bind is used)" \
	sh -c "! grep -q found '$LDT/anon.out' && grep -q '^alice@example.org: ' '$LDT/anon.out'"

# --- the cache -----------------------------------------------------------------
pid=$(cat "$LDT/main.pid")
lookup cache.out $STARTTLS --rounds 2 --between "kill $pid; sleep 0.5" \
	alice@example.org nobody@example.org
mwt_check "positive cache: found again after slapd stopped" \
	[ "$(grep -c '^alice@example.org: found 1 ' "$LDT/cache.out")" -eq 2 ]
mwt_check "negative cache: none again after slapd stopped" \
	[ "$(grep -c '^nobody@example.org: none ' "$LDT/cache.out")" -eq 2 ]
mwt_check "the second round came from the cache (one hit of each kind)" \
	grep -q 'lookups=4 hits=1 negative_hits=1 failures=0' "$LDT/cache.out"
mwt_check "slapd was stopped by then" sh -c "! kill -0 $pid 2>/dev/null"

# --- failures ----------------------------------------------------------------------
lookup down.out $STARTTLS --timeout 2000 alice@example.org
ms=$(ms_of alice@example.org "$LDT/down.out")
# (libldap 2.5 says "Can't contact LDAP server", 2.6 "Connect error")
mwt_check "slapd stopped: a failure (${ms:-?} ms), within the time-out" sh -c "
	grep -qE '^alice@example.org: error \(.*(Can.t contact LDAP server|Connect error)' '$LDT/down.out' &&
	[ '${ms:-9999}' -lt 2000 ]"
mwt_check "failures are not cached" grep -q 'failures=1' "$LDT/down.out"

python3 "$NETEM" hang 3899 >"$LDT/hang.log" 2>&1 &
mwt_pids="$mwt_pids $!"
for _ in $(seq 50); do grep -q ready "$LDT/hang.log" && break; sleep 0.1; done
lookup hang.out --uri ldap://127.0.0.1:3899 --timeout 1000 alice@example.org
ms=$(ms_of alice@example.org "$LDT/hang.out")
mwt_check "a server that never answers StartTLS: failure after the time-out (${ms:-?} ms)" \
	sh -c "grep -q '^alice@example.org: error (.*time-out' '$LDT/hang.out' &&
	[ '${ms:-0}' -ge 950 ] && [ '${ms:-9999}' -lt 1500 ]"
lookup hangs.out --uri ldaps://127.0.0.1:3899 --timeout 1000 alice@example.org
ms=$(ms_of alice@example.org "$LDT/hangs.out")
mwt_check "a server that never answers the TLS handshake (ldaps): failure after the time-out (${ms:-?} ms)" \
	sh -c "grep -q '^alice@example.org: error (' '$LDT/hangs.out' &&
	[ '${ms:-0}' -ge 900 ] && [ '${ms:-9999}' -lt 1500 ]"
lookup hangn.out --uri ldap://127.0.0.1:3899 --no-starttls --timeout 1000 alice@example.org
ms=$(ms_of alice@example.org "$LDT/hangn.out")
mwt_check "a server that never answers the bind: failure after the time-out (${ms:-?} ms)" \
	sh -c "grep -q '^alice@example.org: error (.*time-out' '$LDT/hangn.out' &&
	[ '${ms:-0}' -ge 950 ] && [ '${ms:-9999}' -lt 1500 ]"

# failures are not cached: down in the first round, up in the second
sd=$LDT/main
lookup recover.out $STARTTLS --timeout 2000 --rounds 2 \
	--between "$LDT_SLAPD -f $sd/slapd.conf -h 'ldap://127.0.0.1:3890/ ldaps://127.0.0.1:6360/' && sleep 1" \
	alice@example.org
mwt_check "after a failure, the next lookup asks the server again and finds" sh -c "
	grep -q '^alice@example.org: error' '$LDT/recover.out' &&
	grep -q '^alice@example.org: found 1 ' '$LDT/recover.out'"
[ -s "$sd/slapd.pid" ] && mwt_pids="$mwt_pids $(cat "$sd/slapd.pid")"
cp "$sd/slapd.pid" "$LDT/main.pid" 2>/dev/null || :

# an idle connection the server has closed is reopened, not a failure
lookup reopen.out $STARTTLS --rounds 2 --cache-ttl 0 --negative-ttl 0 \
	--between "kill $(cat "$LDT/main.pid"); sleep 0.5; $LDT_SLAPD -f $sd/slapd.conf -h 'ldap://127.0.0.1:3890/ ldaps://127.0.0.1:6360/' && sleep 1" \
	alice@example.org
mwt_check "a pooled connection closed by a slapd restart is reopened" sh -c "
	[ \$(grep -c '^alice@example.org: found 1 ' '$LDT/reopen.out') -eq 2 ] &&
	grep -q 'connects=2' '$LDT/reopen.out'"
[ -s "$sd/slapd.pid" ] && mwt_pids="$mwt_pids $(cat "$sd/slapd.pid")"
cp "$sd/slapd.pid" "$LDT/main.pid" 2>/dev/null || :

lookup ttl.out $STARTTLS --cache-ttl 1 --negative-ttl 1 --rounds 2 \
	--between "sleep 1.2" alice@example.org nobody@example.org
mwt_check "cache entries expire after their TTL" \
	grep -q 'lookups=4 hits=0 negative_hits=0 failures=0' "$LDT/ttl.out"

# --- concurrency ---------------------------------------------------------------------
# slow_proxy PORT: a proxy to slapd holding back its answers 200 ms, of
# its own for each measurement, so that a connection of the last one
# still closing does not count; $LDT/peak-PORT is the most it had open
slow_proxy() {
	python3 "$NETEM" slow "$1" 3890 0.2 "$LDT/peak-$1" >"$LDT/slow-$1.log" 2>&1 &
	mwt_pids="$mwt_pids $!"
	for _ in $(seq 50); do grep -q ready "$LDT/slow-$1.log" && break; sleep 0.1; done
}
addrs=
for i in $(seq 16); do addrs="$addrs user$i@example.org"; done
# Started here, not in elapsed(): that runs in a command substitution,
# whose subshell could not add the proxies to mwt_pids for the clean-up.
slow_proxy 3895
slow_proxy 3896
slow_proxy 3898
# elapsed PORT ARGS...: milliseconds for 16 lookups at once through it
elapsed() {
	port=$1
	shift
	start=$(date +%s%N)
	# shellcheck disable=SC2086
	ldt_lookup --uri "ldap://127.0.0.1:$port" --timeout 20000 --cache-ttl 0 \
		--negative-ttl 0 --threads 16 "$@" $addrs >"$LDT/conc-$port.out" 2>&1
	echo $(( ($(date +%s%N) - start) / 1000000 ))
}
t1=$(elapsed 3895 --max-connections 1)
t4=$(elapsed 3896 --max-connections 4)
t16=$(elapsed 3898 --max-connections 16)
answered=$(cat "$LDT"/conc-389[568].out | grep -c ': none ')
peak4=$(sed -n 's/.*peak_connections=//p' "$LDT/conc-3896.out")
proxy4=$(cat "$LDT/peak-3896")
proxy16=$(cat "$LDT/peak-3898")
mwt_diag "16 lookups at once through a server 200 ms slow: ${t1} ms with 1 connection, ${t4} ms with 4, ${t16} ms with 16"
mwt_check "all 48 concurrent lookups answered" [ "$answered" -eq 48 ]
mwt_check "never more than max_connections (4) open: source $peak4, server saw $proxy4" \
	sh -c "[ '$peak4' -le 4 ] && [ '$proxy4' -le 4 ]"
mwt_check "4 connections serve 16 threads faster than 1 (no serialisation)" \
	[ "$t4" -lt $((t1 * 6 / 10)) ]
mwt_check "16 connections: the 16 lookups run in parallel ($proxy16 open at once)" \
	sh -c "[ '$proxy16' -ge 12 ] && [ '$t16' -lt $((t1 / 3)) ]"

lookup busy.out --uri ldap://127.0.0.1:3898 --timeout 600 --cache-ttl 0 \
	--max-connections 1 --threads 4 user1@example.org user2@example.org \
	user3@example.org user4@example.org
mwt_check "waiting for a busy pool is bounded by the time-out" \
	grep -q 'error (.*connections busy for the whole time-out' "$LDT/busy.out"

ldt_slapd_stop main
echo "1..$mwt_n"
mwt_done

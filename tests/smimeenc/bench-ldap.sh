#!/bin/sh
# bench-ldap.sh: LDAP certificate lookups per second through the LDAP
# source (tests/smimeenc/ldap-lookup --bench) against a private slapd on
# loopback (StartTLS, simple bind; tests/smimeenc/ldap-lib.sh), with a
# cold cache (cache_ttl 0: every lookup asks slapd) and a warm one (the
# addresses cached by a first pass), in 1 and 8 threads.
set -u
: "${MW_SRCDIR:?}"
. "$MW_SRCDIR/tests/smimeenc/ldap-lib.sh"
ldt_start "$0" "$@"
N=${MW_BENCH_LDAP_LOOKUPS:-4000}

ldt_slapd_start main 3890 6360 || exit 1
addrs="alice@example.org bob@example.org two@example.org nocert@example.org
	nobody@example.org expired@example.org untrusted@example.org"
for threads in 1 8; do
	# shellcheck disable=SC2086
	cold=$(ldt_lookup --uri ldap://127.0.0.1:3890 --cache-ttl 0 \
		--negative-ttl 0 --max-connections "$threads" \
		--threads "$threads" --bench "$N" $addrs | sed -n 's/^bench: //p')
	# shellcheck disable=SC2086
	warm=$(ldt_lookup --uri ldap://127.0.0.1:3890 --rounds 2 \
		--max-connections "$threads" --threads "$threads" \
		--bench $((N * 500)) $addrs | sed -n 's/^bench: //p' | tail -1)
	echo "bench-smime-ldap: cold cache, $threads thread(s): $cold"
	echo "bench-smime-ldap: warm cache, $threads thread(s): $warm"
done
mwt_ok "benchmark ran"

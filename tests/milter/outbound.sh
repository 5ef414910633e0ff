#!/bin/sh
# Outbound partner security through a real Postfix: the table that
# "mailward partners" prints is what Postfix reads (postmap, then a real
# delivery to the partner's MX over verified TLS), and a "TLS-Required:
# no" header (RFC 8689, honoured by Postfix 3.10) cannot turn that TLS
# off: the milter removes it from mail to contoso.com and refuses mail to
# fabrikam.com that has one.  The test runs in its own network namespace,
# where the private Postfix also plays contoso.com's MX on port 25.
# Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

mwt_postfix_requirements postmap ip
MWT_UNSHARE_NET=1
mwt_unshare_mounts "$0" "$@"

if ! mwt_ports; then
	echo "not ok 1 - no free ports in 21000-21999"
	exit 1
fi

mwt_init
mwt_make_certs "$MWT_TMP/certs" || { echo "not ok 1 - certificates"; exit 1; }
# Not an address in inet_interfaces, or Postfix calls it a loop.
mwt_hosts "127.0.0.2 contoso.com"
POLICY=$MWT_TMP/policy.conf
# The test policy, with contoso.com's MX named as the certificate it has.
sed 's/^  on_fail   = reject$/  on_fail   = reject\n  outbound_match = "mx.mailward.test nexthop"/' \
	"$MWT_DIR/policy.conf" >"$POLICY"
chmod 644 "$POLICY"
MAILWARD=$MW_BUILDDIR/mailward

# --- the table -------------------------------------------------------------------

"$MAILWARD" partners -c "$POLICY" >"$MWT_TMP/tls_policy" 2>"$MWT_TMP/partners.err"
mwt_check "mailward partners prints the table" [ $? -eq 0 ]
mwt_check "outbound_match is printed in Postfix's syntax" \
	grep -qx "contoso.com	secure match=mx.mailward.test:nexthop" "$MWT_TMP/tls_policy"
mwt_check "the tls_required_enable advice is printed beside the map lines" \
	grep -qx "# main.cf: tls_required_enable = no" "$MWT_TMP/tls_policy"

# A value Postfix would refuse is refused by the policy check instead.
sed 's/"mx.mailward.test nexthop"/"mx.mailward.test mx..mailward.test"/' \
	"$POLICY" >"$MWT_TMP/bad.conf"
"$MAILWARD" check -c "$MWT_TMP/bad.conf" >"$MWT_TMP/bad.out" 2>&1
line=$(grep -n outbound_match "$MWT_TMP/bad.conf" | cut -d: -f1)
mwt_check "a malformed outbound_match is an error with file:line:column" \
	grep -q "bad.conf:$line:[0-9]*: error: 'mx..mailward.test' is not a host name" \
	"$MWT_TMP/bad.out"

# --- the private Postfix: MX, partner MX on 25, smtp client with the table ----

MWT_POSTFIX_MAIN="
smtp_tls_policy_maps = texthash:$MWT_TMP/tls_policy
smtp_tls_CAfile = $MWT_TMP/certs/ca.crt
smtp_tls_loglevel = 1
smtp_connection_cache_on_demand = no
transport_maps = inline:{ contoso.com=smtp:contoso.com }"
# contoso.com's MX: TLS with the server certificate, no milter, and every
# recipient rewritten for the sink, so that nothing loops.
MWT_POSTFIX_MASTER="127.0.0.2:25 inet n - n - - smtpd
  -o myhostname=mail.contoso.com
  -o smtpd_milters=
  -o cleanup_service_name=partner-cleanup
partner-cleanup unix n - n - 0 cleanup
  -o virtual_alias_maps=static:partner-rcpt@sink.example"

mwt_check "smtp-sink listens" mwt_sink_start
mwt_check "the milter starts" \
	mwt_milter_start "$POLICY" "inet:$MILTER_PORT@127.0.0.1"
mwt_check "the private Postfix starts" \
	mwt_postfix_start "inet:127.0.0.1:$MILTER_PORT"

mwt_check "postmap reads the table: contoso.com" \
	sh -c "[ \"\$(postmap -c '$MWT_PFX_ETC' -q contoso.com texthash:'$MWT_TMP/tls_policy')\" = 'secure match=mx.mailward.test:nexthop' ]"
mwt_check "postmap reads the table: fabrikam.com" \
	sh -c "[ \"\$(postmap -c '$MWT_PFX_ETC' -q fabrikam.com texthash:'$MWT_TMP/tls_policy')\" = secure ]"

verified_count() {
	grep -c "Verified TLS connection established to contoso.com\\[127.0.0.2\\]:25" \
		"$MWT_TMP/postfix.log"
}

# send NAME PORT RCPT SWAKS-ARGS...: one message; VERIFIED_BEFORE is the
# count of verified sessions to contoso.com before it.
send() {
	name=$1 port=$2 rcpt=$3
	shift 3
	VERIFIED_BEFORE=$(verified_count)
	swaks --server 127.0.0.1 --port "$port" --helo client.example \
		--from someone@example.org --to "$rcpt" \
		--h-Subject "mailward outbound $name" --timeout 60 "$@" \
		>"$MWT_TMP/$name.out" 2>&1
}

# in_sink NAME: the message reached the sink through contoso.com's MX.
in_sink() {
	mwt_wait_for 30 sh -c "grep -qF 'Subject: mailward outbound $1' '$MWT_TMP'/sink/* 2>/dev/null"
}

# no_header NAME HEADER: the sink's copy of NAME (smtp-sink starts each
# message with X-Client-Addr) has no HEADER field.
no_header() {
	cat "$MWT_TMP"/sink/* | awk -v subject="Subject: mailward outbound $1" \
		-v header="$2" '
		/^X-Client-Addr:/ { if (mine) exit; found = 0 }
		$0 == subject { mine = 1 }
		tolower($0) ~ "^" tolower(header) ":" { found = 1 }
		END { exit !(mine && !found) }'
}

# verified NAME: Postfix's smtp client delivered NAME's queue id to
# contoso.com's MX, in a session whose TLS it verified (the connection
# cache is off, so each delivery has its own).
verified() {
	qid=$(sed -n 's/^<-  250 2.0.0 Ok: queued as \([0-9A-Z]*\).*/\1/p' "$MWT_TMP/$1.out")
	[ -n "$qid" ] &&
	mwt_wait_for 30 sh -c "grep -q '$qid: to=<bob@contoso.com>, relay=contoso.com\\[127.0.0.2\\]:25,.*status=sent' '$MWT_TMP/postfix.log'" &&
	[ "$(verified_count)" -gt "$VERIFIED_BEFORE" ]
}

# Postfix 3.10 and later know tls_required_enable (default yes).
if postconf -d tls_required_enable 2>/dev/null | grep -q "= yes"; then
	honours=yes
else
	honours=no
fi

send plain-delivery "$MWT_MX_PORT" bob@contoso.com
mwt_check "mail to contoso.com is delivered to its MX" in_sink plain-delivery
mwt_check "... over TLS that Postfix verified with the table's match=" \
	verified plain-delivery

# The default, tls_required_no = reject: refused whatever Postfix does.
send tls-required-fabrikam "$MWT_MX_PORT" bob@fabrikam.com \
	--header "TLS-Required: no"
mwt_check "mail to fabrikam.com (tls_required_no = reject) with TLS-Required: no is refused" \
	grep -q "^<\\*\\* *550 5.7.1 A TLS-Required header is not accepted on mail to this partner domain" \
	"$MWT_TMP/tls-required-fabrikam.out"
mwt_check "... and the milter logged why" \
	mwt_log_has "NOQUEUE: reject: TLS-Required header: sender=<someone@example.org>, rule=$POLICY:"

if [ $honours = yes ]; then
	# Without the milter (the benchmark's port) Postfix 3.10 obeys the
	# header: what a partner's mail must not be open to.
	send no-milter "$MWT_PLAIN_PORT" bob@contoso.com --header "TLS-Required: No"
	mwt_check "Postfix 3.10 without the milter: delivered" in_sink no-milter
	mwt_check "... but TLS-Required: No was obeyed (no verified TLS)" \
		[ "$(verified_count)" = "$VERIFIED_BEFORE" ]
	# Postfix acts on the header as it arrives, before any milter sees
	# it: removing it (tls_required_no = remove) does not bring the TLS
	# back.  That is why reject is the default, and why remove wants
	# tls_required_enable = no, as "mailward partners" advises.
	send remove-too-late "$MWT_MX_PORT" bob@contoso.com --header "TLS-Required: No"
	removed_late() {
		in_sink remove-too-late && no_header remove-too-late TLS-Required
	}
	mwt_check "Postfix 3.10, tls_required_no = remove: delivered without the header" \
		removed_late
	mwt_check "... but Postfix had already relaxed its TLS (documented)" \
		[ "$(verified_count)" = "$VERIFIED_BEFORE" ]
	postconf -c "$MWT_PFX_ETC" -e tls_required_enable=no &&
		postfix -c "$MWT_PFX_ETC" reload >/dev/null 2>&1
	mwt_check "tls_required_enable = no, as mailward partners advises" \
		mwt_wait_for 10 sh -c "grep -q 'reload -- version' '$MWT_TMP/postfix.log'"
fi

send tls-required "$MWT_MX_PORT" bob@contoso.com --header "TLS-Required: No"
mwt_check "tls_required_no = remove: mail to contoso.com with TLS-Required: No is delivered" \
	in_sink tls-required
mwt_check "... without the TLS-Required header" \
	no_header tls-required TLS-Required
mwt_check "... over verified TLS" verified tls-required
mwt_check "... and the milter logged the removal" \
	mwt_log_has "removed TLS-Required header: sender=<someone@example.org>, rule=$POLICY:"

echo "1..$mwt_n"
mwt_done

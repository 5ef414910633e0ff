#!/bin/sh
# mailward-milter in a real Postfix: a private instance on loopback (its
# own configuration and queue, no system service) with a submission port
# (STARTTLS), a submissions port (implicit TLS) and an MX that asks for
# client certificates; swaks as the client, smtp-sink as the next hop.
# Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

mwt_postfix_requirements
mwt_unshare_mounts "$0" "$@"

if ! mwt_ports; then
	echo "not ok 1 - no free ports in 21000-21999"
	exit 1
fi

mwt_init
mwt_make_certs "$MWT_TMP/certs" || { echo "not ok 1 - certificates"; exit 1; }
POLICY=$MWT_TMP/policy.conf
cp "$MWT_DIR/policy.conf" "$POLICY"
chmod 644 "$POLICY"

mwt_check "a private Dovecot answers SASL for Postfix" \
	mwt_dovecot_sasl_start "$POLICY" alice secret

mwt_check "smtp-sink listens" mwt_sink_start
mwt_check "the milter starts" \
	mwt_milter_start "$POLICY" "inet:$MILTER_PORT@127.0.0.1"
mwt_check "the private Postfix starts" \
	mwt_postfix_start "inet:127.0.0.1:$MILTER_PORT"

# The milter reads these macros; Postfix sends them by default (3.7 and
# 3.10 alike).  A release that dropped one from its defaults would leave
# the milter without that fact, so check the Postfix under test.
milter_macros_sent() {
	sent=" $(postconf -c "$MWT_TMP/postfix-etc" -h milter_connect_macros \
		milter_helo_macros milter_mail_macros | tr '\n' ' ') "
	missing=
	for m in '{daemon_name}' '{daemon_addr}' '{tls_version}' \
		 '{cipher_bits}' '{cert_subject}' '{cert_issuer}' \
		 '{auth_type}' '{auth_authen}'; do
		case $sent in
		*" $m "*) ;;
		*) missing="$missing $m" ;;
		esac
	done
	[ -z "$missing" ] || mwt_diag "not sent:$missing"
	[ -z "$missing" ]
}
mwt_check "Postfix $(postconf -c "$MWT_TMP/postfix-etc" -h mail_version) sends every macro the milter reads" \
	milter_macros_sent

# send NAME PORT SWAKS-ARGS...: one SMTP session, its transcript in
# $MWT_TMP/NAME.out.
send() {
	name=$1 port=$2
	shift 2
	swaks --server 127.0.0.1 --port "$port" --helo client.example \
		--to bob@example.net --h-Subject "mailward test $name" \
		--timeout 60 "$@" >"$MWT_TMP/$name.out" 2>&1
}
AUTH="--auth PLAIN --auth-user alice --auth-password secret"
PARTNER_CERT="--tls-cert $MWT_TMP/certs/partner.crt --tls-key $MWT_TMP/certs/partner.key"

# refused NAME "REPLY": the session got REPLY from the server (swaks
# marks errors "<**", or "<~*" inside TLS).
refused() {
	if { grep -qF -- "<** $2" "$MWT_TMP/$1.out" ||
	     grep -qF -- "<~* $2" "$MWT_TMP/$1.out"; } &&
	   ! grep -q "queued as" "$MWT_TMP/$1.out"; then
		mwt_ok "$1: $2"
	else
		mwt_not_ok "$1: $2"
		sed 's/^/# /' "$MWT_TMP/$1.out"
	fi
}

# delivered NAME: queued by Postfix and found once in the sink.
delivered() {
	if grep -q "^<[-~]  250 2.0.0 Ok: queued as" "$MWT_TMP/$1.out" &&
	   mwt_wait_for 30 sh -c "[ \"\$(cat '$MWT_TMP'/sink/* 2>/dev/null | grep -cF 'Subject: mailward test $1')\" = 1 ]"; then
		mwt_ok "$1: accepted and delivered to the sink once"
	else
		mwt_not_ok "$1: accepted and delivered to the sink once"
		sed 's/^/# /' "$MWT_TMP/$1.out"
		tail -n 20 "$MWT_TMP/postfix.log" | sed 's/^/# postfix: /'
	fi
}

# --- submission ----------------------------------------------------------------

send plain-submission "$MWT_SUBMISSION_PORT" --from alice@example.org
refused plain-submission "530 5.7.0 Must issue a STARTTLS command first"

send starttls-no-auth "$MWT_SUBMISSION_PORT" --from alice@example.org --tls
refused starttls-no-auth "530 5.7.0 Authentication required"

# shellcheck disable=SC2086
send starttls-auth "$MWT_SUBMISSION_PORT" --from alice@example.org --tls $AUTH
delivered starttls-auth

# shellcheck disable=SC2086
send implicit-tls-auth "$MWT_SUBMISSIONS_PORT" --from alice@example.org --tlsc $AUTH
delivered implicit-tls-auth

# Postfix's SASL goes through the private Dovecot, where mailward's
# passdb allows PLAIN only for service smtp.
if [ -f "$MW_BUILDDIR/dovecot-plugin/libauthdb_mailward.so" ]; then
	mwt_check "starttls-auth: Dovecot's mailward passdb allowed the login" \
		mwt_dovecot_log_has "decision=allow service=smtp rip=127.0.0.1 host=\"\" mech=PLAIN"
	send auth-login "$MWT_SUBMISSION_PORT" --from alice@example.org --tls \
		--auth LOGIN --auth-user alice --auth-password secret
	refused auth-login "535 5.7.8 Error: authentication failed"
	mwt_check "auth-login: Dovecot's mailward passdb denied LOGIN, with the rule" \
		sh -c "grep 'decision=deny service=smtp' '$MWT_TMP/dovecot/dovecot.log' |
			grep -q 'mech=LOGIN check=mechanism'"
fi

# OpenSSL no longer offers ciphers below 128 bits, so the test policy asks
# for 256 and the client is held to AES-128.
# shellcheck disable=SC2086
send weak-cipher "$MWT_SUBMISSION_PORT" --from alice@example.org --tls $AUTH \
	--tls-protocol tlsv1_2 --tls-cipher ECDHE-ECDSA-AES128-GCM-SHA256
refused weak-cipher "554 5.7.6 Encryption too weak: 128-bit cipher, at least 256 bits required"

# --- partner domains on the MX ---------------------------------------------------

# shellcheck disable=SC2086
send partner-cert "$MWT_MX_PORT" --from ceo@contoso.com --tls $PARTNER_CERT
delivered partner-cert
mwt_check "partner-cert: the sink sees the verified partner certificate" \
	sh -c "cat '$MWT_TMP'/sink/* | grep -qF 'Client CN \"mail.contoso.com\", Issuer \"Contoso CA\" (verified OK)'"

# The TLS facts come with MAIL FROM too: a client that skips the EHLO
# after STARTTLS is judged on its TLS session, not the plaintext one.
reply=$(python3 "$MWT_DIR/smtp-no-ehlo.py" "$MWT_MX_PORT" ceo@contoso.com \
	"$MWT_TMP/certs/partner.crt" "$MWT_TMP/certs/partner.key" 2>&1)
case $reply in
250\ *) mwt_ok "partner-cert without EHLO after STARTTLS: $reply" ;;
*) mwt_not_ok "partner-cert without EHLO after STARTTLS: 250 (got: $reply)" ;;
esac

send partner-no-tls "$MWT_MX_PORT" --from ceo@contoso.com
refused partner-no-tls "550 5.7.10 Mail from this sender domain requires TLS"

# Every spelling of a partner sender that Postfix queues as contoso.com
# mail is judged as contoso.com mail (swaks adds the angle brackets).
i=0
for from in 'x@(c)contoso.com' 'x@contoso.com ' 'x@contoso.com(c)' \
	'@a.example,@b.example:x@contoso.com' '"x y"@contoso.com' \
	'"x@evil.example"@contoso.com' 'X@CONTOSO.COM' 'x@contoso.com.' \
	'ceo%contoso.com' 'contoso.com!ceo' 'ceo%evil.example%contoso.com'; do
	i=$((i + 1))
	send "partner-form-$i" "$MWT_MX_PORT" --from "$from"
	if grep -qF -- "<** 550 5.7.10 Mail from this sender domain requires TLS" \
		"$MWT_TMP/partner-form-$i.out"; then
		mwt_ok "MAIL FROM:<$from> in plaintext: 550 5.7.10"
	else
		mwt_not_ok "MAIL FROM:<$from> in plaintext: 550 5.7.10"
		grep -E '^(<|->) ' "$MWT_TMP/partner-form-$i.out" | sed 's/^/# /'
	fi
done
mwt_check "none of those messages was queued" \
	sh -c "! grep -q 'queued as' '$MWT_TMP'/partner-form-*.out"

mwt_log_mark
send partner-no-cert "$MWT_MX_PORT" --from ceo@contoso.com --tls
refused partner-no-cert "550 5.7.1 Mail from this sender domain requires the partner's TLS client certificate"
line=$(grep -n "^partner contoso.com" "$POLICY" | cut -d: -f1)
# The client's name is whatever the machine's resolver calls 127.0.0.1.
logged_refusal() {
	mwt_log_has "NOQUEUE: reject: client=" &&
	mwt_log_has "[127.0.0.1], sender=<ceo@contoso.com>, service=mx, rule=$POLICY:$line \"contoso.com\": "
}
mwt_check "partner-no-cert: the milter logs client, sender, rule and reason" \
	logged_refusal

send partner-untrusted-ca "$MWT_MX_PORT" --from ceo@contoso.com --tls \
	--tls-cert "$MWT_TMP/certs/rogue.crt" --tls-key "$MWT_TMP/certs/rogue.key"
refused partner-untrusted-ca "550 5.7.1 Mail from this sender domain requires the partner's TLS client certificate"

send partner-wrong-cn "$MWT_MX_PORT" --from ceo@contoso.com --tls \
	--tls-cert "$MWT_TMP/certs/wrong-cn.crt" --tls-key "$MWT_TMP/certs/wrong-cn.key"
refused partner-wrong-cn "550 5.7.1 Mail from this sender domain requires the partner's TLS client certificate"

send partner-tempfail "$MWT_MX_PORT" --from ceo@fabrikam.com --tls
refused partner-tempfail "451 4.7.1 Mail from this sender domain requires the partner's TLS client certificate"

send non-partner "$MWT_MX_PORT" --from someone@example.org
delivered non-partner

send denied-client "$MWT_MX_PORT" --from someone@example.org \
	--local-interface 127.0.0.3
refused denied-client "554 5.7.1 Access denied"

# --- nothing lost: the milter dies while Postfix is using it -------------------

# delivered_once MESSAGE-ID: the sink has it exactly once after the queue
# has drained.
delivered_once() {
	mwt_wait_for 30 sh -c "cat '$MWT_TMP'/sink/* | grep -qF 'Message-ID: $1'"
	mwt_wait_for 10 mwt_postfix_queue_empty
	sleep 1
	count=$(cat "$MWT_TMP"/sink/* | grep -cF "Message-ID: $1")
	[ "$count" -eq 1 ]
}

# retry NAME PORT MESSAGE-ID SWAKS-ARGS...: the client's retry, accepted.
retry() {
	name=$1 port=$2 msgid=$3
	shift 3
	swaks --server 127.0.0.1 --port "$port" --helo client.example \
		--to bob@example.net --header "Message-ID: $msgid" \
		--header "Subject: interrupted" "$@" >"$MWT_TMP/$name.out" 2>&1
	grep -q "^<[-~]  250 2.0.0 Ok: queued as" "$MWT_TMP/$name.out"
}

# 1. Killed while the SMTP session is open: MAIL FROM gets a 4xx.
MSGID1="<interrupted-session.$$@client.example>"
reply=$(python3 "$MWT_DIR/smtp-interrupted.py" --kill-after ehlo \
	"$MWT_MX_PORT" someone@example.org bob@example.net "$MSGID1" \
	"$MILTER_PID" "$(mwt_milter_worker)" 2>&1)
case $reply in
"MAIL 4"[0-9][0-9]\ *) mwt_ok "milter killed during the session: $reply" ;;
*) mwt_not_ok "milter killed during the session: a 4xx at MAIL (got: $reply)" ;;
esac

# 2. Killed in the middle of a mail transaction, after RCPT TO, while it
# still has work at the end of the message: the test build's message
# processor takes part in authenticated submissions, as S/MIME signing
# will.  The end of DATA gets a 4xx.
MILTER=$MW_BUILDDIR/tests/milter/mailward-milter-test
mwt_check "the milter with a message processor starts" \
	mwt_milter_start "$POLICY" "inet:$MILTER_PORT@127.0.0.1"
MSGID2="<interrupted-transaction.$$@client.example>"
reply=$(python3 "$MWT_DIR/smtp-interrupted.py" --kill-after rcpt \
	--starttls --login alice:secret "$MWT_SUBMISSION_PORT" \
	alice@example.org bob@example.net "$MSGID2" \
	"$MILTER_PID" "$(mwt_milter_worker)" 2>&1)
case $reply in
"DATA 4"[0-9][0-9]\ *) mwt_ok "milter killed mid-transaction: $reply" ;;
*) mwt_not_ok "milter killed mid-transaction: a 4xx at the end of DATA (got: $reply)" ;;
esac

mwt_check "the milter starts again" \
	mwt_milter_start "$POLICY" "inet:$MILTER_PORT@127.0.0.1"
retry retry-session "$MWT_MX_PORT" "$MSGID1" --from someone@example.org &&
	ok1=yes || ok1=no
# shellcheck disable=SC2086
retry retry-transaction "$MWT_SUBMISSION_PORT" "$MSGID2" \
	--from alice@example.org --tls $AUTH && ok2=yes || ok2=no
mwt_check "the retried messages are accepted" [ "$ok1$ok2" = yesyes ]
mwt_check "the message of the killed session is delivered exactly once" \
	delivered_once "$MSGID1"
mwt_check "the message of the killed transaction is delivered exactly once" \
	delivered_once "$MSGID2"
mwt_check "the message processor's header came through Postfix" \
	sh -c "cat '$MWT_TMP'/sink/* | grep -qF 'X-Mailward-Test: login=alice headers='"

echo "1..$mwt_n"
mwt_done

#!/bin/sh
# Fast tests of mailward-milter without Postfix: the daemon's start-up,
# signals and reload, and its callbacks driven by miltertest (Lua scripts
# in lua/).  Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

if ! command -v miltertest >/dev/null; then
	echo "not ok 1 - miltertest is not installed (Debian package miltertest)"
	exit 1
fi

mwt_init
mkdir -p "$MWT_TMP/run"
[ "$(id -u)" -ne 0 ] || chown nobody "$MWT_TMP/run"
POLICY=$MWT_TMP/policy.conf
cp "$MWT_DIR/policy.conf" "$POLICY"
chmod 644 "$POLICY"
SOCKET=unix:$MWT_TMP/run/milter.sock

# --- start-up ------------------------------------------------------------

"$MILTER" -x >"$MWT_TMP/out" 2>&1
rc=$?
mwt_check "a bad option exits 64 with the usage" \
	sh -c "[ $rc -eq 64 ] && grep -q '^usage:' '$MWT_TMP/out'"

"$MILTER" -f -p "bogus:socket" -c "$POLICY" >"$MWT_TMP/out" 2>&1
rc=$?
mwt_check "a bad socket exits 64" \
	sh -c "[ $rc -eq 64 ] && grep -q 'invalid socket' '$MWT_TMP/out'"

printf 'service mx {\n  partners = sometimes\n}\n' >"$MWT_TMP/bad.conf"
chmod 644 "$MWT_TMP/bad.conf"
# shellcheck disable=SC2046
"$MILTER" -f -c "$MWT_TMP/bad.conf" -p "$SOCKET" $(mwt_user_args) \
	>"$MWT_TMP/out" 2>&1
rc=$?
mwt_check "an invalid policy refuses the start with file:line:column" \
	sh -c "[ $rc -eq 78 ] && grep -q 'bad.conf:2:[0-9]*: ' '$MWT_TMP/out'"
[ $rc -eq 78 ] || cat "$MWT_TMP/out"

"$MILTER" -n -c "$POLICY" >"$MWT_TMP/out" 2>&1
mwt_check "-n accepts the test policy" [ $? -eq 0 ]

if [ "$(id -u)" -eq 0 ]; then
	"$MILTER" -f -c "$POLICY" -p "$SOCKET" >"$MWT_TMP/out" 2>&1
	mwt_check "refuses to run as root without -u" \
		sh -c "[ $? -ne 0 ] && grep -q 'refusing to run as root' '$MWT_TMP/out'"
fi

mwt_check "starts in the foreground on a unix socket" \
	mwt_milter_start "$POLICY" "$SOCKET"
mwt_check "writes the supervisor's pid to the pid file" \
	sh -c "[ \"\$(cat '$MILTER_PIDFILE')\" = $MILTER_PID ]"
WORKER=$(mwt_milter_worker)
if [ "$(id -u)" -eq 0 ]; then
	mwt_check "the worker runs as the unprivileged user" \
		sh -c "[ \"\$(ps -o user= -p '$WORKER')\" = nobody ]"
	mwt_check "the socket is not open to others" \
		sh -c "[ \"\$(stat -c %A '$MWT_TMP/run/milter.sock')\" = srwxrwx--- ]"
fi

# --- callbacks -------------------------------------------------------------

# The line of the policy where TEXT is.
policy_line() {
	grep -nF -- "$1" "$MWT_DIR/policy.conf" | cut -d: -f1
}

# mt_case SCRIPT EXPECTED-LOG-TEXT ("-" for none), SCRIPT from lua/
mt_case() {
	mwt_miltertest_case "$MWT_DIR/lua/$1" "$2"
}

mt_case submission-plain.lua "reply=530 5.7.0 Must issue a STARTTLS command first"
mt_case submission-weak.lua "reply=554 5.7.6 Encryption too weak: 128-bit cipher, at least 256 bits required"
mt_case submission-noauth.lua "reply=530 5.7.0 Authentication required"
mt_case submission-ok.lua -
mt_case unknown-service.lua -
mt_case mx-deny-host.lua "NOQUEUE: reject: client=mail.spammer.example[192.0.2.9], sender=<x@spammer.example>, service=mx, rule=$POLICY:$(policy_line "deny host .spammer.example") \"deny host .spammer.example\""
mt_case mx-unverified-host.lua -
mt_case mx-host-tempfail.lua "tempfail: client=unknown[192.0.2.9], sender=<x@example.com>, service=mx, rule=$POLICY:$(policy_line "deny host .spammer.example") \"deny host .spammer.example\": host name lookup for 192.0.2.9 failed, needed by 'deny host .spammer.example'; dns on_error = tempfail; reply=451 4.7.25"
mt_case mx-deny-net.lua "reply=554 5.7.1 Access denied"
mt_case partner-ok.lua -
mt_case partner-nocert.lua "reply=550 5.7.1 Mail from this sender domain requires the partner's TLS client certificate"
mt_case partner-wrong-issuer.lua "sender=<ceo@contoso.com>, service=mx, rule=$POLICY:$(policy_line "partner contoso.com")"
mt_case partner-notls.lua "reply=550 5.7.10 Mail from this sender domain requires TLS"
mt_case partner-tempfail.lua "tempfail: client=mail.fabrikam.com[198.51.100.8], sender=<ceo@fabrikam.com>"
mt_case mx-nonpartner.lua -
mt_case tls-required.lua "NOQUEUE: reject: TLS-Required header: sender=<alice@example.org>, rule=$POLICY:$(policy_line "partner fabrikam.com") \"partner fabrikam.com\": mail to partner domain fabrikam.com must keep its TLS policy (tls_required_no = reject)"
mwt_check "tls-required.lua: the removal is logged" \
	grep -qF "removed TLS-Required header: sender=<alice@example.org>, rule=$POLICY:$(policy_line "partner contoso.com") \"partner contoso.com\"" "$MWT_TMP/milter.log"
mt_case partner-forms.lua "the sender address cannot be parsed: "
forms_refused() {
	[ "$(mwt_log_since_mark | grep -c 'sender=<[^ ]*@contoso.com>, service=mx, .*reply=550 5.7.10')" -eq 9 ] &&
	[ "$(mwt_log_since_mark | grep -c 'reply=553 5.1.7 Sender address syntax not accepted')" -eq 4 ]
}
mwt_check "partner-forms.lua: nine partner refusals (550), four syntax refusals (553)" \
	forms_refused
mt_case log-escape.lua 'sender=<\x22\x1b\x5b31m\x0d\x0aclient\x3dx\x5b192.0.2.98\x5d\x22@contoso.com>, service=mx'
mwt_check "log-escape.lua: no forged client= field and no raw control character" \
	sh -c "! grep -q 'client=x\[192' '$MWT_TMP/milter.log' && ! grep -q \"\$(printf '\\033')\" '$MWT_TMP/milter.log'"
mt_case mx-second-message.lua "sender=<ceo@contoso.com>, service=mx"
if grep -q "reject:.*sender=<someone@example.org>" "$MWT_TMP/milter.log"; then
	mwt_not_ok "accepted mail is not logged as a rejection"
else
	mwt_ok "accepted mail is not logged as a rejection"
fi

# --- reload ----------------------------------------------------------------

# A session that started before the reload keeps the old policy; a new
# one gets the new policy.
sed 's/^  deny net 127.0.0.3$/  deny net 127.0.0.3\n  deny net 192.0.2.50/' \
	"$MWT_DIR/policy.conf" >"$MWT_TMP/policy-v2.conf"
chmod 644 "$MWT_TMP/policy-v2.conf"
mwt_log_mark
if miltertest -D "socket=$SOCKET" -D "srcdir=$MW_SRCDIR" \
	-D "reload_cmd=cp '$MWT_TMP/policy-v2.conf' '$POLICY' && kill -HUP $MILTER_PID && sleep 1" \
	-s "$MWT_DIR/lua/reload.lua" >"$MWT_TMP/mt.out" 2>&1 &&
   mwt_log_has "policy reloaded from $POLICY"; then
	mwt_ok "SIGHUP reloads; sessions in flight keep the policy they started with"
else
	mwt_not_ok "SIGHUP reloads; sessions in flight keep the policy they started with"
	sed 's/^/# /' "$MWT_TMP/mt.out"
	mwt_log_since_mark | sed 's/^/# log: /'
fi
mwt_check "the worker survived SIGHUP" \
	sh -c "[ \"\$(ps -o pid= --ppid $MILTER_PID | tr -d ' ')\" = '$WORKER' ]"

# A broken file is reported with file:line:column and changes nothing.
printf 'service mx {\n  postfix_daemon_name = MX\n  deny net 300.1.2.3\n}\n' >"$POLICY"
mwt_log_mark
kill -HUP "$MILTER_PID"
mwt_check "a bad policy on reload is logged with file:line:column" \
	mwt_log_has "reload failed, keeping the current policy: $POLICY:3:"
mt_case reload-kept.lua -

# --- supervision and shutdown ------------------------------------------------

# Classic start-up: the command returns once the daemon is in the
# background, and the pid file names it.
# shellcheck disable=SC2046
"$MILTER" -c "$MWT_TMP/policy-v2.conf" -p "unix:$MWT_TMP/run/daemon.sock" \
	-P "$MWT_TMP/run/daemon.pid" $(mwt_user_args)
rc=$?
mwt_wait_for 5 test -s "$MWT_TMP/run/daemon.pid"
DAEMON_PID=$(cat "$MWT_TMP/run/daemon.pid" 2>/dev/null)
mwt_pids="$mwt_pids $DAEMON_PID"
mwt_check "without -f it detaches and writes its pid file" \
	sh -c "[ $rc -eq 0 ] && [ -n '$DAEMON_PID' ] && kill -0 '$DAEMON_PID'"
kill -TERM "$DAEMON_PID" 2>/dev/null
mwt_check "the detached daemon stops on SIGTERM and removes its pid file" \
	mwt_wait_for 10 sh -c "[ -n '$DAEMON_PID' ] && ! kill -0 '$DAEMON_PID' 2>/dev/null && [ ! -e '$MWT_TMP/run/daemon.pid' ]"

mwt_log_mark
kill -9 "$WORKER"
mwt_check "a dead worker is replaced" mwt_log_has "ready"
NEW_WORKER=$(mwt_milter_worker)
mwt_check "the new worker is a new process" \
	sh -c "[ -n '$NEW_WORKER' ] && [ '$NEW_WORKER' != '$WORKER' ]"
mt_case reload-kept.lua -

kill -TERM "$MILTER_PID"
if mwt_wait_for 10 sh -c "! kill -0 $MILTER_PID 2>/dev/null"; then
	wait "$MILTER_PID"
	rc=$?
	mwt_check "SIGTERM stops the milter with status 0" [ "$rc" -eq 0 ]
else
	mwt_not_ok "SIGTERM stops the milter with status 0"
fi
mwt_check "the pid file is removed" [ ! -e "$MILTER_PIDFILE" ]
mwt_check "no worker is left behind" \
	sh -c "! kill -0 $NEW_WORKER 2>/dev/null"

# --- message processors (the test build) --------------------------------------

MILTER=$MW_BUILDDIR/tests/milter/mailward-milter-test
cp "$MWT_DIR/policy.conf" "$POLICY"
mwt_check "the build with a test message processor starts" \
	mwt_milter_start "$POLICY" "$SOCKET"
mt_case processor.lua -
mt_case processor-fail.lua "test-processor failed; mail is tempfailed"
mt_case processor-fail-body.lua "test-processor failed: spooling failed: write: No space left on device; mail is tempfailed"
mwt_milter_stop

echo "1..$mwt_n"
mwt_done

#!/bin/sh
# mailward-milter as a daemon in front of a real Postfix, on a unix
# socket: start-up errors reach the terminal, a second instance is
# refused and harms nothing, every signal an operator may send to the
# supervisor or to the worker leaves a milter that Postfix can use (mail
# is delivered after each), and a worker that stops answering is
# replaced by the heartbeat.  Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

mwt_postfix_requirements miltertest
mwt_unshare_mounts "$0" "$@"

if ! mwt_ports; then
	echo "not ok 1 - no free ports in 21000-21999"
	exit 1
fi

mwt_init
# SIGQUIT's default action dumps core: not here.
ulimit -c 0
mwt_make_certs "$MWT_TMP/certs" || { echo "not ok 1 - certificates"; exit 1; }
POLICY=$MWT_TMP/policy.conf
cp "$MWT_DIR/policy.conf" "$POLICY"
chmod 644 "$POLICY"
mkdir -p "$MWT_TMP/run"
chown nobody "$MWT_TMP/run"
SOCK_PATH=$MWT_TMP/run/milter.sock
SOCKET=unix:$SOCK_PATH
USER_ARGS=$(mwt_user_args)

# --- start-up errors: on stderr, before detaching, with a non-zero status ---

# start_fails NAME STATUS TEXT MILTER-ARGS...: the daemon (not -f) exits
# with STATUS and says TEXT on stderr.
start_fails() {
	name=$1 want=$2 text=$3
	shift 3
	"$MILTER" "$@" >"$MWT_TMP/start.out" 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -qF -- "$text" "$MWT_TMP/start.out"; then
		mwt_ok "$name: exit $want, stderr says \"$text\""
	else
		mwt_not_ok "$name: exit $want, stderr says \"$text\" (exit $rc)"
		sed 's/^/# /' "$MWT_TMP/start.out"
	fi
}

start_fails "unknown user" 67 "unknown user mw-no-such-user" \
	-c "$POLICY" -p "$SOCKET" -u mw-no-such-user
start_fails "missing socket directory" 75 \
	"cannot open lock file $MWT_TMP/missing/milter.sock.lock: No such file or directory" \
	-c "$POLICY" -p "unix:$MWT_TMP/missing/milter.sock" $USER_ARGS
cp "$POLICY" "$MWT_TMP/private.conf"
chmod 600 "$MWT_TMP/private.conf"
start_fails "unreadable policy" 78 "$MWT_TMP/private.conf" \
	-c "$MWT_TMP/private.conf" -p "$SOCKET" $USER_ARGS
mwt_check "no socket or daemon is left after the failed starts" \
	sh -c "[ ! -e '$SOCK_PATH' ] && ! pgrep -f 'mailward-milte[r] -c $MWT_TMP' >/dev/null"

# --- the private Postfix and the milter ------------------------------------

mwt_check "smtp-sink listens" mwt_sink_start
MWT_MILTER_ARGS="-W 1"
mwt_check "the milter starts on $SOCKET" mwt_milter_start "$POLICY" "$SOCKET"
mwt_check "the private Postfix starts" mwt_postfix_start "$SOCKET"

n=0
# deliver WHAT: a message through the MX port, queued and found in the
# sink once: Postfix reached the milter.
deliver() {
	n=$((n + 1))
	swaks --server 127.0.0.1 --port "$MWT_MX_PORT" --helo client.example \
		--from someone@example.org --to bob@example.net \
		--h-Subject "mailward daemon test $n" --timeout 60 \
		>"$MWT_TMP/deliver-$n.out" 2>&1
	if grep -q "^<-  250 2.0.0 Ok: queued as" "$MWT_TMP/deliver-$n.out" &&
	   mwt_wait_for 30 sh -c "[ \"\$(cat '$MWT_TMP'/sink/* 2>/dev/null | grep -cF 'Subject: mailward daemon test $n')\" = 1 ]"; then
		mwt_ok "$1: mail is delivered"
	else
		mwt_not_ok "$1: mail is delivered"
		grep -E '^(<|->|<\*\*) ' "$MWT_TMP/deliver-$n.out" | sed 's/^/# /'
		tail -n 5 "$MWT_TMP/milter.log" | sed 's/^/# log: /'
	fi
}

deliver "at start"

# --- a second instance -------------------------------------------------------

start_fails "a second instance on the same socket, other pid file" 75 \
	"another mailward-milter serves $SOCK_PATH" \
	-c "$POLICY" -p "$SOCKET" -P "$MWT_TMP/run/second.pid" $USER_ARGS
start_fails "a second instance with the same pid file" 75 \
	"already running (pid $MILTER_PID holds $MILTER_PIDFILE)" \
	-c "$POLICY" -p "unix:$MWT_TMP/run/other.sock" -P "$MILTER_PIDFILE" \
	$USER_ARGS
mwt_check "the first instance keeps its socket and pid file" \
	sh -c "[ -S '$SOCK_PATH' ] && [ \"\$(cat '$MILTER_PIDFILE')\" = $MILTER_PID ]"
deliver "after the refused second instances"

# A socket that another live process serves is never taken over.
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(5)
open(sys.argv[1] + ".ready", "w").close()
time.sleep(120)' "$MWT_TMP/run/foreign.sock" &
FOREIGN=$!
mwt_pids="$mwt_pids $FOREIGN"
mwt_wait_for 10 test -e "$MWT_TMP/run/foreign.sock.ready"
chmod 777 "$MWT_TMP/run/foreign.sock"
start_fails "a socket another process serves" 75 \
	"$MWT_TMP/run/foreign.sock is in use by another process" \
	-c "$POLICY" -p "unix:$MWT_TMP/run/foreign.sock" $USER_ARGS
mwt_check "... and it is still there" test -S "$MWT_TMP/run/foreign.sock"
kill "$FOREIGN"

# --- signals -------------------------------------------------------------------

# signal_case SIG TARGET: TARGET is "supervisor" or "worker".  Afterwards
# the socket path exists, a worker runs, and mail is delivered.
signal_case() {
	if [ "$2" = worker ]; then
		pid=$(mwt_milter_worker)
	else
		pid=$MILTER_PID
	fi
	mwt_log_mark
	kill "-$1" "$pid"
	# A replaced worker logs "ready"; a reload "policy reloaded".
	mwt_wait_for 10 sh -c "tail -c +$((MWT_LOG_MARK + 1)) '$MWT_TMP/milter.log' |
		grep -qE ' ready|policy reloaded|ignored'"
	mwt_check "SIG$1 to the $2: the socket is still there" test -S "$SOCK_PATH"
	deliver "SIG$1 to the $2"
}

for sig in HUP USR1 USR2; do
	signal_case "$sig" supervisor
done
for sig in HUP TERM INT USR1 USR2 QUIT; do
	signal_case "$sig" worker
done
mwt_check "a worker stopped by a signal is named in the log" \
	sh -c "grep -q 'stopped on a signal sent to it; restarting' '$MWT_TMP/milter.log'"

# --- the heartbeat -----------------------------------------------------------------

OLD_WORKER=$(mwt_milter_worker)
mwt_log_mark
kill -STOP "$OLD_WORKER"
mwt_check "a stopped worker misses its heartbeat and is killed" \
	mwt_wait_for 30 mwt_log_has_now "worker $OLD_WORKER missed its heartbeat (no answer to option negotiation: Connection timed out); killing it"
mwt_check "a new worker replaces it" mwt_wait_for 30 mwt_log_has_now " ready"
mwt_check "the stopped worker is gone" \
	mwt_wait_for 10 sh -c "! kill -0 $OLD_WORKER 2>/dev/null"
deliver "after the heartbeat restart"

# --- sessions in flight across a reload ------------------------------------------

# Postfix tells the milter about a connection only with its first MAIL
# FROM (the milter asks no reply to CONNECT), so that is when a session
# takes its policy: one that has only said EHLO gets the new policy, one
# that has sent MAIL FROM keeps the old one for the rest of the session.
sed 's/^  deny net 127.0.0.3$/  deny net 127.0.0.0\/8/' "$MWT_DIR/policy.conf" \
	>"$MWT_TMP/deny-loopback.conf"
chmod 644 "$MWT_TMP/deny-loopback.conf"
mwt_log_mark
python3 "$MWT_DIR/smtp-reload.py" "$MWT_MX_PORT" someone@example.org \
	"cp '$MWT_TMP/deny-loopback.conf' '$POLICY' && kill -HUP $MILTER_PID &&
	 until tail -c +$((MWT_LOG_MARK + 1)) '$MWT_TMP/milter.log' | grep -q 'policy reloaded'; do sleep 0.1; done" \
	>"$MWT_TMP/reload.out" 2>&1
mwt_check "a session past MAIL FROM keeps the policy it started with" \
	sh -c "grep -qx 'B-before 250' '$MWT_TMP/reload.out' && grep -qx 'B 250' '$MWT_TMP/reload.out'"
mwt_check "a session that had only said EHLO gets the new policy at MAIL FROM" \
	grep -qx 'A 554' "$MWT_TMP/reload.out"
mwt_check "a new session gets the new policy" grep -qx 'C 554' "$MWT_TMP/reload.out"
sed 's/^/# /' "$MWT_TMP/reload.out"
cp "$MWT_DIR/policy.conf" "$POLICY"
mwt_log_mark
kill -HUP "$MILTER_PID"
mwt_wait_for 10 mwt_log_has_now "policy reloaded"

# --- stopping --------------------------------------------------------------------

WORKER=$(mwt_milter_worker)
kill -TERM "$MILTER_PID"
mwt_check "SIGTERM to the supervisor stops both processes" \
	mwt_wait_for 10 sh -c "! kill -0 $MILTER_PID 2>/dev/null && ! kill -0 $WORKER 2>/dev/null"
mwt_check "... and removes the socket and the pid file" \
	sh -c "[ ! -e '$SOCK_PATH' ] && [ ! -e '$MILTER_PIDFILE' ]"
n=$((n + 1))
swaks --server 127.0.0.1 --port "$MWT_MX_PORT" --helo client.example \
	--from someone@example.org --to bob@example.net \
	--h-Subject "mailward daemon test $n" >"$MWT_TMP/deliver-$n.out" 2>&1
mwt_check "with the milter stopped, Postfix tempfails the mail" \
	grep -q '^<\*\* *451 4.7.1' "$MWT_TMP/deliver-$n.out"
mwt_check "the milter starts again on the same socket" \
	mwt_milter_start "$POLICY" "$SOCKET"
deliver "after the restart"

echo "1..$mwt_n"
mwt_done

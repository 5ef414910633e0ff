# Shell helpers for the mailward-milter tests: TAP output, a scratch
# directory, certificates, and starting and stopping the milter.  Every
# process a test starts is recorded and stopped by its pid on exit.
#
# Needs MW_SRCDIR and MW_BUILDDIR (tests/run-tests sets both).

: "${MW_SRCDIR:?MW_SRCDIR is not set}"
: "${MW_BUILDDIR:=build}"
case $MW_BUILDDIR in
/*) ;;
*) MW_BUILDDIR=$MW_SRCDIR/$MW_BUILDDIR ;;
esac
MWT_DIR=$MW_SRCDIR/tests/milter
MILTER=$MW_BUILDDIR/mailward-milter

mwt_n=0
mwt_failures=0
mwt_pids=
mwt_cleanups=

mwt_ok() {
	mwt_n=$((mwt_n + 1))
	echo "ok $mwt_n - $*"
}

mwt_not_ok() {
	mwt_n=$((mwt_n + 1))
	mwt_failures=$((mwt_failures + 1))
	echo "not ok $mwt_n - $*"
}

# mwt_check DESCRIPTION COMMAND...: one TAP line for the command's status.
mwt_check() {
	desc=$1
	shift
	if "$@"; then mwt_ok "$desc"; else mwt_not_ok "$desc"; fi
}

mwt_diag() {
	echo "# $*"
}

mwt_cleanup() {
	for fn in $mwt_cleanups; do
		"$fn" || :
	done
	for pid in $mwt_pids; do
		kill "$pid" 2>/dev/null || :
	done
	sleep 0.2
	for pid in $mwt_pids; do
		kill -9 "$pid" 2>/dev/null || :
	done
	if [ -n "${MWT_TMP:-}" ] && [ -z "${MW_KEEP_TMP:-}" ]; then
		rm -rf "$MWT_TMP"
	fi
}

# Creates $MWT_TMP and arranges for the clean-up.
mwt_init() {
	MWT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mw-milter.XXXXXX")
	# The milter runs as an unprivileged user and must reach its files.
	chmod 755 "$MWT_TMP"
	trap mwt_cleanup EXIT
	trap 'exit 1' INT TERM
}

mwt_done() {
	[ "$mwt_failures" -eq 0 ]
}

# The user the milter runs as when the tests run as root.
mwt_user_args() {
	if [ "$(id -u)" -eq 0 ]; then
		echo "-u nobody:nogroup"
	fi
}

# mwt_wait_for SECONDS COMMAND...: polls until the command succeeds.
mwt_wait_for() {
	tries=$(($1 * 10))
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

mwt_port_open() {
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null
}

# mwt_milter_start POLICY SOCKET: starts the milter in the foreground,
# logging to $MWT_TMP/milter.log; sets MILTER_PID (the supervisor).
mwt_milter_start() {
	rm -f "$MWT_TMP/milter.pid"
	# shellcheck disable=SC2046
	"$MILTER" -f -c "$1" -p "$2" -P "$MWT_TMP/milter.pid" $(mwt_user_args) \
		>>"$MWT_TMP/milter.log" 2>&1 &
	MILTER_PID=$!
	mwt_pids="$mwt_pids $MILTER_PID"
	mwt_wait_for 10 grep -q "worker [0-9]* ready" "$MWT_TMP/milter.log"
}

# The worker process under the supervisor.
mwt_milter_worker() {
	ps -o pid= --ppid "$MILTER_PID" | tr -d ' '
}

mwt_milter_stop() {
	[ -n "${MILTER_PID:-}" ] || return 0
	kill -TERM "$MILTER_PID" 2>/dev/null || return 0
	mwt_wait_for 10 sh -c "! kill -0 $MILTER_PID 2>/dev/null"
}

# Log lines written since the mark.
mwt_log_mark() {
	MWT_LOG_MARK=$(wc -c <"$MWT_TMP/milter.log")
}
mwt_log_since_mark() {
	tail -c +$((MWT_LOG_MARK + 1)) "$MWT_TMP/milter.log"
}
# mwt_log_has TEXT: the log since the mark has a line with TEXT.
mwt_log_has() {
	mwt_wait_for 3 sh -c 'tail -c +$(('"$MWT_LOG_MARK"' + 1)) "$1" | grep -qF -- "$2"' \
		sh "$MWT_TMP/milter.log" "$1"
}

# mwt_make_certs DIR: a CA for the server, a partner CA ("Contoso CA"),
# a second CA that uses the same name but that Postfix does not trust,
# and the certificates they issue.  EC keys keep this fast.
mwt_make_certs() {
	d=$1
	mkdir -p "$d"
	(
	cd "$d" || exit 1
	set -e
	ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	mkca() {	# file-stem "CN"
		# shellcheck disable=SC2086
		openssl req -x509 $ec -keyout "$1.key" -out "$1.crt" -days 2 \
			-subj "/CN=$2" 2>/dev/null
	}
	mkcert() {	# file-stem "CN" ca-stem
		# shellcheck disable=SC2086
		openssl req $ec -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" \
			2>/dev/null
		openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" \
			-CAcreateserial -out "$1.crt" -days 2 2>/dev/null
	}
	mkca ca "Mailward Test CA"
	mkca contoso-ca "Contoso CA"
	mkca rogue-ca "Contoso CA"
	mkcert server mx.mailward.test ca
	mkcert partner mail.contoso.com contoso-ca
	mkcert wrong-cn intruder.example contoso-ca
	mkcert rogue mail.contoso.com rogue-ca
	cat ca.crt contoso-ca.crt >trusted.crt
	chmod 644 ./*
	)
}

# --- a private Postfix ------------------------------------------------------

# mwt_postfix_start MILTER_SOCKET: writes main.cf and master.cf from the
# templates (ports from the MWT_*_PORT variables) and starts the instance.
mwt_postfix_start() {
	MWT_PFX_ETC=$MWT_TMP/postfix-etc
	mkdir -p "$MWT_PFX_ETC" "$MWT_TMP/queue" "$MWT_TMP/data"
	for f in main.cf master.cf; do
		sed -e "s|@TMP@|$MWT_TMP|g" \
		    -e "s|@CERTS@|$MWT_TMP/certs|g" \
		    -e "s|@MILTER_SOCKET@|$1|g" \
		    -e "s|@SINK_PORT@|$MWT_SINK_PORT|g" \
		    -e "s|@MX_PORT@|$MWT_MX_PORT|g" \
		    -e "s|@SUBMISSION_PORT@|$MWT_SUBMISSION_PORT|g" \
		    -e "s|@SUBMISSIONS_PORT@|$MWT_SUBMISSIONS_PORT|g" \
		    -e "s|@PLAIN_PORT@|$MWT_PLAIN_PORT|g" \
		    "$MWT_DIR/postfix/$f.in" >"$MWT_PFX_ETC/$f"
	done
	chown postfix "$MWT_TMP/data"
	mwt_cleanups="$mwt_cleanups mwt_postfix_stop"
	postfix -c "$MWT_PFX_ETC" start >"$MWT_TMP/postfix-start.log" 2>&1 ||
		{ cat "$MWT_TMP/postfix-start.log"; return 1; }
	mwt_wait_for 10 mwt_port_open "$MWT_MX_PORT"
}

mwt_postfix_stop() {
	[ -n "${MWT_PFX_ETC:-}" ] || return 0
	pidfile=$MWT_TMP/queue/pid/master.pid
	master=$(tr -d ' ' <"$pidfile" 2>/dev/null)
	postfix -c "$MWT_PFX_ETC" stop >/dev/null 2>&1 || :
	if [ -n "$master" ]; then
		mwt_wait_for 10 sh -c "! kill -0 $master 2>/dev/null" ||
			kill -9 "$master" 2>/dev/null || :
	fi
	MWT_PFX_ETC=
}

# Messages still in the private queue.
mwt_postfix_queue_empty() {
	[ -z "$(find "$MWT_TMP/queue/incoming" "$MWT_TMP/queue/active" \
		"$MWT_TMP/queue/deferred" "$MWT_TMP/queue/maildrop" -type f 2>/dev/null)" ]
}

# mwt_sink_start: smtp-sink appending every message to $MWT_TMP/sink.mbox.
mwt_sink_start() {
	touch "$MWT_TMP/sink.mbox"
	chown nobody "$MWT_TMP/sink.mbox"
	smtp-sink -u nobody -D "$MWT_TMP/sink.mbox" "127.0.0.1:$MWT_SINK_PORT" 100 \
		>"$MWT_TMP/sink.log" 2>&1 &
	mwt_pids="$mwt_pids $!"
	mwt_wait_for 10 mwt_port_open "$MWT_SINK_PORT"
}

# mwt_sink_count TEXT: how many lines of the sink's dump contain TEXT.
mwt_sink_count() {
	grep -cF -- "$1" "$MWT_TMP/sink.mbox" || :
}

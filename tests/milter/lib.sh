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

# mwt_unshare_mounts "$0" "$@": re-runs the calling script in a mount
# namespace of its own, once.  Dovecot loads auth modules only from the
# directory it was built with; the namespace lets mwt_dovecot_sasl_start
# put the module under test there without touching the system's copy.
# With MWT_UNSHARE_NET=1, in a network namespace as well, with loopback
# up: the test may then listen on well-known ports (a partner's MX on 25).
mwt_unshare_mounts() {
	if [ -z "${MWT_UNSHARED:-}" ]; then
		if [ -n "${MWT_UNSHARE_NET:-}" ]; then
			MWT_UNSHARED=1 exec unshare -m -n "$@"
		fi
		MWT_UNSHARED=1 exec unshare -m "$@"
	fi
	mount --make-rprivate /
	[ -z "${MWT_UNSHARE_NET:-}" ] || ip link set lo up
}

# mwt_hosts "ADDR NAME..."...: an /etc/hosts of the test's own (needs
# mwt_unshare_mounts), so that Postfix's smtp client finds names without
# DNS.
mwt_hosts() {
	printf '%s\n' "127.0.0.1 localhost" "$@" >"$MWT_TMP/hosts"
	chmod 644 "$MWT_TMP/hosts"
	mount --bind "$MWT_TMP/hosts" /etc/hosts
}

MWT_DOVECOT_MODULE_DIR=/usr/lib/dovecot/modules

# mwt_dovecot_24: true if the installed Dovecot is 2.4 or later, whose
# configuration differs from 2.3's in names and shape (see
# tests/dovecot/mwdovecot.py, which writes the other tests' configurations).
mwt_dovecot_24() {
	case $(dovecot --version 2>/dev/null) in
	2.[0-3].*|1.*|"") return 1 ;;
	esac
	return 0
}

# mwt_dovecot_module_copy SUBDIR FILE: the namespace's copy of Dovecot's
# module directory SUBDIR gets the freshly built FILE.
mwt_dovecot_module_copy() {
	cp -a "$MWT_DOVECOT_MODULE_DIR/$1" "$d/modules-$1" &&
	cp "$MW_BUILDDIR/dovecot-plugin/$2" "$d/modules-$1/" &&
	mount --bind "$d/modules-$1" "$MWT_DOVECOT_MODULE_DIR/$1"
}

# mwt_dovecot_sasl_start POLICY USER PASSWORD: a private Dovecot whose
# only service is SASL for the private Postfix (smtpd_sasl_type =
# dovecot), on $MWT_TMP/auth-socket.  Its passdbs are mailward's, reading
# POLICY, in front of a passwd-file with USER: the path of a production
# Postfix that authenticates through Dovecot.  Needs mwt_unshare_mounts;
# without the module (configure --without-dovecot) the passwd-file alone.
mwt_dovecot_sasl_start() {
	d=$MWT_TMP/dovecot
	mkdir -p "$d/run" "$d/state"
	printf '%s:%s\n' "$2" "$3" >"$d/passwd"
	chmod 644 "$d/passwd"
	passdb_mailward=
	if mwt_dovecot_24; then
		header="dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0"
		cleartext="auth_allow_cleartext = yes"
		protocols="protocols ="
		passdb="passdb passwd-file {
  passwd_file_path = $d/passwd
  default_password_scheme = PLAIN
}"
		userdb="userdb static {
  fields {
    uid = dovecot
    gid = dovecot
    home = /nonexistent
  }
}"
	else
		header=
		cleartext="disable_plaintext_auth = no"
		protocols="protocols = none"
		passdb="passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/passwd
}"
		userdb="userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=/nonexistent
}"
	fi
	if [ -f "$MW_BUILDDIR/dovecot-plugin/libauthdb_mailward.so" ]; then
		mwt_dovecot_module_copy auth libauthdb_mailward.so || return 1
		if mwt_dovecot_24; then
			# the config process must know the passdb's settings
			[ -d "$MWT_DOVECOT_MODULE_DIR/settings" ] || {
				mwt_diag "no $MWT_DOVECOT_MODULE_DIR/settings to mount over"
				return 1
			}
			mwt_dovecot_module_copy settings libmailward_settings.so ||
				return 1
			passdb_mailward="passdb mailward {
  mailward_policy = $1
  mailward_nodelay = yes
}"
		else
			passdb_mailward="passdb {
  driver = mailward
  args = nodelay $1
}"
		fi
	fi
	cat >"$d/dovecot.conf" <<EOT
$header
# private test instance: SASL for the private Postfix, nothing else
base_dir = $d/run
state_dir = $d/state
instance_name = mailward-sasl-$$
log_path = $d/dovecot.log
$protocols
shutdown_clients = yes
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
ssl = no
# Postfix holds the TLS session and tells Dovecot ("secured"); the
# policy decides about cleartext.
$cleartext
auth_mechanisms = plain login
auth_verbose = yes
$passdb_mailward
$passdb
$userdb
service auth {
  unix_listener $MWT_TMP/auth-socket {
    mode = 0666
  }
}
EOT
	dovecot -F -c "$d/dovecot.conf" >"$d/stderr" 2>&1 &
	MWT_DOVECOT_PID=$!
	mwt_cleanups="$mwt_cleanups mwt_dovecot_sasl_stop"
	mwt_wait_for 15 test -S "$MWT_TMP/auth-socket"
}

mwt_dovecot_sasl_stop() {
	[ -n "${MWT_DOVECOT_PID:-}" ] || return 0
	kill -TERM "$MWT_DOVECOT_PID" 2>/dev/null || return 0
	mwt_wait_for 10 sh -c "! kill -0 $MWT_DOVECOT_PID 2>/dev/null" ||
		kill -9 "$MWT_DOVECOT_PID" 2>/dev/null || :
	MWT_DOVECOT_PID=
}

# mwt_dovecot_log_has TEXT: the private Dovecot logged TEXT.
mwt_dovecot_log_has() {
	grep -qF -- "$1" "$MWT_TMP/dovecot/dovecot.log"
}

# The user the milter runs as when the tests run as root; the group lets
# Postfix's smtpd (user postfix) use the milter's unix socket.
mwt_user_args() {
	if [ "$(id -u)" -ne 0 ]; then
		return
	elif getent group postfix >/dev/null; then
		echo "-u nobody:postfix"
	else
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
	mkdir -p "$MWT_TMP/run"
	[ "$(id -u)" -ne 0 ] || chown nobody "$MWT_TMP/run"
	MILTER_PIDFILE=$MWT_TMP/run/milter.pid
	touch "$MWT_TMP/milter.log"
	mwt_log_mark	# an earlier instance's lines do not count
	rm -f "$MILTER_PIDFILE"
	# MWT_MILTER_WRAPPER: a command to run the milter under (valgrind).
	# shellcheck disable=SC2046,SC2086
	# MWT_MILTER_ARGS: more options (-W 1).
	${MWT_MILTER_WRAPPER:-} "$MILTER" -f -c "$1" -p "$2" \
		-P "$MILTER_PIDFILE" $(mwt_user_args) ${MWT_MILTER_ARGS:-} \
		>>"$MWT_TMP/milter.log" 2>&1 &
	MILTER_PID=$!
	mwt_pids="$mwt_pids $MILTER_PID"
	mwt_wait_for "${MWT_START_SECONDS:-10}" mwt_log_has_now " ready"
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
# mwt_log_has TEXT: a line written since the mark contains TEXT (waits a
# little, as the milter logs from its own threads).
mwt_log_has() {
	mwt_wait_for 3 mwt_log_has_now "$1"
}
mwt_log_has_now() {
	mwt_log_since_mark | grep -qF -- "$1"
}

# mwt_miltertest_case SCRIPT TEXT: one TAP line for the miltertest Lua
# SCRIPT run against the milter on $SOCKET: its own checks pass, and the
# milter logs TEXT meanwhile ("-": no log check).
mwt_miltertest_case() {
	name=$(basename "$1")
	mwt_log_mark
	if ! miltertest -D "socket=$SOCKET" -D "srcdir=$MW_SRCDIR" \
		-s "$1" >"$MWT_TMP/mt.out" 2>&1; then
		mwt_not_ok "$name"
		sed 's/^/# /' "$MWT_TMP/mt.out"
		mwt_log_since_mark | sed 's/^/# log: /'
	elif [ "$2" = - ]; then
		mwt_ok "$name"
	elif ! mwt_log_has "$2"; then
		mwt_not_ok "$name: log has \"$2\""
		mwt_log_since_mark | sed 's/^/# log: /'
	else
		mwt_ok "$name: $2"
	fi
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

# mwt_smime_keys: a fresh test PKI in $pki = $MWT_TMP/pki (see
# tests/smime/make-pki.sh), the key table $MWT_TMP/smime.keys with
# alice@example.org's key, and the spool directory $MWT_TMP/spool, owned
# by the user the milter runs as: it reads the keys and nobody else may.
mwt_smime_keys() {
	pki=$MWT_TMP/pki
	"$MW_SRCDIR/tests/smime/make-pki.sh" "$pki" || return 1
	printf 'alice@example.org %s/alice.pem %s/alice.key %s/inter.pem\n' \
		"$pki" "$pki" "$pki" >"$MWT_TMP/smime.keys"
	mkdir -p "$MWT_TMP/spool"
	[ "$(id -u)" -ne 0 ] ||
		chown -R nobody "$pki" "$MWT_TMP/smime.keys" "$MWT_TMP/spool"
}

# mwt_gpgsm_trust CA.pem: a GnuPG home of the test's own, in which gpgsm
# trusts CA.pem (and checks no CRLs, which the test CA does not publish).
mwt_gpgsm_trust() {
	GNUPGHOME=$MWT_TMP/gnupg
	export GNUPGHOME
	mkdir -m 700 "$GNUPGHOME"
	echo disable-crl-checks >"$GNUPGHOME/gpgsm.conf"
	gpgsm --batch --import "$1" >/dev/null 2>&1
	echo "$(openssl x509 -in "$1" -noout -fingerprint -sha1 |
		sed 's/.*=//') S" >"$GNUPGHOME/trustlist.txt"
	mwt_cleanups="$mwt_cleanups mwt_gpgsm_stop"
}

mwt_gpgsm_stop() {
	gpgconf --kill gpg-agent >/dev/null 2>&1
}

# --- a private Postfix ------------------------------------------------------

# mwt_postfix_requirements [TOOL...]: what a test with a private Postfix
# (and a private Dovecot for its SASL) needs, and TOOLs more; a missing
# one ends the test with its TAP failure.
mwt_postfix_requirements() {
	for tool in postfix dovecot swaks smtp-sink openssl python3 "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "not ok 1 - $tool is not installed"
			exit 1
		fi
	done
	if ! swaks --support 2>&1 | grep -q "=== TLS supported"; then
		echo "not ok 1 - swaks cannot do TLS (Debian package libnet-ssleay-perl)"
		exit 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "not ok 1 - a private Postfix needs root to start"
		exit 1
	fi
}

# mwt_ports: sets the MWT_*_PORT variables and MILTER_PORT to a block of
# loopback ports in 21000-21999 that are free now, so that two runs of
# these scripts (say, make check and make bench) do not talk to each
# other's daemons.
mwt_ports() {
	base=$(python3 - <<'PY'
import random
import socket

blocks = list(range(21000, 22000, 10))
random.shuffle(blocks)
for base in blocks:
    socks = []
    try:
        for port in range(base, base + 6):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    break
PY
)
	[ -n "$base" ] || return 1
	MWT_MX_PORT=$base
	MWT_PLAIN_PORT=$((base + 1))
	MWT_SUBMISSION_PORT=$((base + 2))
	MWT_SUBMISSIONS_PORT=$((base + 3))
	MWT_SINK_PORT=$((base + 4))
	MILTER_PORT=$((base + 5))
}

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
	# MWT_POSTFIX_MAIN, MWT_POSTFIX_MASTER: a test's own lines.
	printf '%s\n' "${MWT_POSTFIX_MAIN:-}" >>"$MWT_PFX_ETC/main.cf"
	printf '%s\n' "${MWT_POSTFIX_MASTER:-}" >>"$MWT_PFX_ETC/master.cf"
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

# mwt_sink_start: smtp-sink appending every message to dump files in
# $MWT_TMP/sink (it adds a random suffix to the name).
mwt_sink_start() {
	mkdir -p "$MWT_TMP/sink"
	chown nobody "$MWT_TMP/sink"
	smtp-sink -u nobody -D "$MWT_TMP/sink/dump" "127.0.0.1:$MWT_SINK_PORT" 100 \
		>"$MWT_TMP/sink.log" 2>&1 &
	mwt_pids="$mwt_pids $!"
	mwt_wait_for 10 mwt_port_open "$MWT_SINK_PORT"
}

# mwt_submit_alice MESSAGE SUBJECT RCPT,...: MESSAGE, its Subject made
# SUBJECT, sent by swaks as alice's mail client (AUTH PLAIN after STARTTLS
# on the submission port), the transcript in $MWT_TMP/SUBJECT.swaks.  The
# header's To stays the message's, so the other recipients are Bcc ones.
mwt_submit_alice() {
	sed "s/^Subject: .*/Subject: $2/" "$1" >"$MWT_TMP/$2.eml"
	swaks --server 127.0.0.1 --port "$MWT_SUBMISSION_PORT" --tls \
		--helo client.example --auth PLAIN \
		--auth-user alice@example.org --auth-password secret \
		--from alice@example.org --to "$3" \
		--data "@$MWT_TMP/$2.eml" --timeout 60 >"$MWT_TMP/$2.swaks" 2>&1
}

# mwt_sink_message SUBJECT OUT: the message with that subject from the
# sink's dumps (smtp-sink appends each message, starting with
# X-Client-Addr) into OUT, as CRLF text; false if there is none yet.
mwt_sink_message() {
	python3 - "$MWT_TMP/sink" "$1" "$2" <<'PY'
import os, re, sys
d, subject, out = sys.argv[1:4]
for name in os.listdir(d):
    data = open(os.path.join(d, name), "rb").read().replace(b"\r\n", b"\n")
    for msg in re.split(rb"(?m)^(?=X-Client-Addr: )", data):
        if ("\nSubject: " + subject + "\n").encode() in msg:
            open(out, "wb").write(msg.replace(b"\n", b"\r\n"))
            sys.exit(0)
sys.exit(1)
PY
}

# mwt_sink_count TEXT: how many lines of the sink's dump contain TEXT.
mwt_sink_count() {
	cat "$MWT_TMP/sink/"* 2>/dev/null | grep -cF -- "$1" || :
}

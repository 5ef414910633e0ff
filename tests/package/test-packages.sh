#!/bin/bash
# The Debian packages as an administrator meets them.  Builds them from
# debian/ (which runs the unit and golden tests), checks their fields and
# lintian, then installs them into a throw-away Debian root made with
# debootstrap in the source tree's tests/tmp (never into this machine's
# own system), from the Debian mirror and suite of this machine's apt
# sources.  In that root, inside network, mount and pid namespaces of
# the test's own, Dovecot runs from its Debian configuration and is
# restarted by its own maintainer scripts and triggers:
#
#   - install, enable mailward in conf.d/05-mailward.conf, log in (allowed,
#     and denied by a rule); an upgrade with a policy that does not load
#     stops before Dovecot restarts;
#   - mailward-milter started through its unit's ExecStart line, with the
#     unit's tmpfiles entry: it answers on its socket in Postfix's chroot
#     and ExecReload reloads the policy;
#   - remove, then purge, while mailward is enabled: Dovecot restarts and
#     logins work.
#
# Needs root, network access to the mirror for the first part,
# debootstrap, dpkg-buildpackage, lintian, miltertest and python3.
# MW_PACKAGE_KEEP_BASE=1 keeps the base root (debootstrap, Dovecot,
# Postfix) for the next run of the same suite, which installs the packages
# into a fresh copy of it; otherwise a run that passes removes its roots.
set -u

: "${MW_SRCDIR:?MW_SRCDIR is not set}"
# shellcheck source=../milter/lib.sh
. "$MW_SRCDIR/tests/milter/lib.sh"
HERE=$MW_SRCDIR/tests/package
# In the source tree (make clean removes it), not under the build
# directory, where make looks for dependency files named *.d.
W=$MW_SRCDIR/tests/tmp/package
R=$W/root
BASE=$W/root-base
DEBS=$W/debs

fail_all() {
	mwt_not_ok "$*"
	exit 1
}

# --- in the namespaces: the second part ---------------------------------------

# in_root COMMAND...: runs COMMAND in the throw-away root.
in_root() {
	chroot "$R" "$@"
}

# root_deb PACKAGE: the package's file, as the root sees it.
root_deb() {
	f=$(ls "$R"/tmp/debs/"$1"_*.deb) && echo "${f#"$R"}"
}

dovecot_pid() {
	in_root cat /run/dovecot/master.pid 2>/dev/null
}

# login SOURCE: the tests' user logs in over STARTTLS from SOURCE.
login() {
	python3 "$HERE/imap-login.py" "$1" >"$W/login.out" 2>&1
}

# expect_login SOURCE DESCRIPTION / expect_refused SOURCE DESCRIPTION
expect_login() {
	if login "$1"; then
		mwt_ok "$2"
	else
		mwt_not_ok "$2"
		sed 's/^/# /' "$W/login.out"
		tail -n 20 "$R/var/log/dovecot.log" 2>/dev/null | sed 's/^/# log: /'
	fi
}
expect_refused() {
	if login "$1"; then
		mwt_not_ok "$2"
		sed 's/^/# /' "$W/login.out"
	else
		mwt_ok "$2"
	fi
}

dovecot_log_mark() {
	DOVECOT_LOG_MARK=$(wc -c <"$R/var/log/dovecot.log")
}
dovecot_log_has() {
	tail -c +$((DOVECOT_LOG_MARK + 1)) "$R/var/log/dovecot.log" |
		grep -qE -- "$1"
}

# wait_restart OLD_PID: Dovecot runs again, with a master other than
# OLD_PID, and accepts connections.
wait_restart() {
	mwt_wait_for 20 sh -c "p=\$(cat '$R/run/dovecot/master.pid' 2>/dev/null) &&
		[ -n \"\$p\" ] && [ \"\$p\" != '$1' ] && kill -0 \"\$p\"" &&
		mwt_wait_for 10 mwt_port_open 143
}

unit_file() {
	for d in usr/lib/systemd/system lib/systemd/system; do
		if [ -f "$R/$d/mailward-milter.service" ]; then
			echo "$R/$d/mailward-milter.service"
			return 0
		fi
	done
	return 1
}

# milter_mail IP WANT: an MX transaction from IP gets WANT (continue or
# reject) at MAIL FROM from the milter on its installed socket.
milter_mail() {
	miltertest -D "socket=unix:$R/var/spool/postfix/mailward/milter.sock" \
		-D "srcdir=$MW_SRCDIR" -D "ip=$1" -D "want=$2" \
		-s "$HERE/milter-mail.lua" >"$W/miltertest.out" 2>&1
}

# socket_for_postfix "MODE OWNER:GROUP": the user postfix may connect to
# the milter's socket, and others may not.
socket_for_postfix() {
	case $1 in
	s???rw?---\ mailward:postfix) ;;
	*) return 1 ;;
	esac
	in_root runuser -u postfix -- test -w /var/spool/postfix/mailward/milter.sock &&
		! in_root runuser -u nobody -- test -w /var/spool/postfix/mailward/milter.sock
}

policy_set() {
	cp "$1" "$R/etc/mailward/mailward.conf"
}

in_namespaces() {
	mwt_n=$MWT_N_BEFORE
	mount --make-rprivate /
	ip link set lo up
	mount -t proc proc "$R/proc"
	mount --rbind /dev "$R/dev"
	mount -t tmpfs tmpfs "$R/run"
	mkdir -p "$R/run/lock"
	# Stands in for an init system: Dovecot's init script may run, from
	# the test and from Dovecot's maintainer scripts; nothing else starts.
	printf '#!/bin/sh\n# the test root: only Dovecot is started\n[ "$1" = dovecot ] && exit 0\nexit 101\n' \
		>"$R/usr/sbin/policy-rc.d"
	chmod 755 "$R/usr/sbin/policy-rc.d"
	# Dovecot logs to syslog on Debian; the root has none.
	printf 'log_path = /var/log/dovecot.log\nauth_verbose = yes\n' \
		>"$R/etc/dovecot/local.conf"
	: >"$R/var/log/dovecot.log"
	in_root useradd -m "$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import mwdovecot; print(mwdovecot.USER)' "$MW_SRCDIR/tests/dovecot")" ||
		fail_all "cannot add the test user"
	python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import mwdovecot; print("%s:%s" % (mwdovecot.USER, mwdovecot.PASSWORD))' \
		"$MW_SRCDIR/tests/dovecot" | in_root chpasswd || fail_all "cannot set the test user's password"

	in_root invoke-rc.d dovecot start >"$W/dovecot-start.log" 2>&1
	mwt_wait_for 10 mwt_port_open 143 || {
		sed 's/^/# /' "$W/dovecot-start.log"
		fail_all "Dovecot starts in the root"
	}
	expect_login 127.0.0.1 "Dovecot in the root: the user logs in (STARTTLS), without mailward"

	# --- install -----------------------------------------------------------
	pid=$(dovecot_pid)
	if in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends \
		$(root_deb mailward) $(root_deb dovecot-mailward) \
		$(root_deb mailward-milter) >"$W/install.log" 2>&1; then
		mwt_ok "apt-get installs the three packages (Dovecot running)"
	else
		mwt_not_ok "apt-get installs the three packages"
		tail -n 30 "$W/install.log" | sed 's/^/# /'
		exit 1
	fi
	mwt_check "dovecot-core's trigger restarted Dovecot" wait_restart "$pid"
	expect_login 127.0.0.1 "after the installation (mailward disabled) the user logs in"

	snippet=$R/etc/dovecot/conf.d/05-mailward.conf
	include=$(sed -n 's/^#!include_try //p' "$snippet" 2>/dev/null)
	mwt_check "05-mailward.conf is managed by ucf for dovecot-mailward" \
		sh -c "chroot '$R' ucfq -w dovecot-mailward | grep -q '^/etc/dovecot/conf.d/05-mailward.conf:dovecot-mailward:'"
	mwt_check "05-mailward.conf holds only a commented !include_try of a file of dovecot-mailward ($include)" \
		sh -c "[ -n '$include' ] && ! grep -q '^[^#]' '$snippet' &&
			chroot '$R' dpkg -S '$include' | grep -q '^dovecot-mailward:'"
	mwt_check "Dovecot's configuration names no mailward module as installed" \
		sh -c "! chroot '$R' doveconf -n | grep -q mailward"
	mwt_check "/etc/mailward/mailward.conf is a conffile of mailward" \
		sh -c "chroot '$R' dpkg-query -W -f='\${Conffiles}' mailward | grep -q ' /etc/mailward/mailward.conf '"
	mwt_check "mailward check loads the installed policy" \
		in_root mailward check -c /etc/mailward/mailward.conf
	mwt_check "mailward-milter -n, as the user mailward, loads the installed policy" \
		in_root runuser -u mailward -- mailward-milter -n
	mwt_check "the example policy is in /usr/share/doc/mailward/examples and loads" \
		in_root mailward check -c /usr/share/doc/mailward/examples/mailward.conf.example
	mwt_check "the system user mailward is in the group postfix" \
		sh -c "chroot '$R' id -nG mailward | grep -qw postfix &&
			chroot '$R' getent passwd mailward | grep -q ':/nonexistent:/usr/sbin/nologin$'"
	mwt_check "/etc/mailward/keys is mode 0700, owned by mailward" \
		sh -c "[ \"\$(chroot '$R' stat -c '%a %U' /etc/mailward/keys)\" = '700 mailward' ]"
	mwt_check "/var/spool/postfix/mailward is mode 0750, mailward:postfix" \
		sh -c "[ \"\$(chroot '$R' stat -c '%a %U:%G' /var/spool/postfix/mailward)\" = '750 mailward:postfix' ]"

	# --- enable ------------------------------------------------------------
	sed -i 's/^#!include_try/!include_try/' "$snippet"
	dovecot_log_mark
	in_root doveadm reload
	mwt_check "enabled: doveconf -n shows mailward's passdb and login plugin" \
		sh -c "chroot '$R' doveconf -n | grep -Eq 'driver = mailward|^passdb mailward' &&
			chroot '$R' doveconf -n | grep -q 'mailward_login'"
	mwt_wait_for 10 mwt_port_open 143
	expect_login 127.0.0.1 "enabled: the user logs in"
	mwt_check "enabled: mailward logged the decision (allow, 127.0.0.1)" \
		dovecot_log_has "mailward: decision=allow service=imap rip=127.0.0.1"

	cp "$R/etc/mailward/mailward.conf" "$W/policy.installed"
	sed 's/^  allow any$/  deny net 127.0.0.2\n  allow any/' "$W/policy.installed" \
		>"$W/policy.deny"
	policy_set "$W/policy.deny"
	dovecot_log_mark
	in_root doveadm reload
	mwt_wait_for 10 mwt_port_open 143
	expect_refused 127.0.0.2 "enabled, with \"deny net 127.0.0.2\": 127.0.0.2 is refused"
	mwt_check "enabled: mailward logged the decision (deny, 127.0.0.2)" \
		dovecot_log_has "mailward: decision=deny service=imap rip=127.0.0.2"
	expect_login 127.0.0.1 "enabled, with \"deny net 127.0.0.2\": 127.0.0.1 logs in"

	# --- an upgrade with a policy that does not load ------------------------
	{ cat "$W/policy.deny"; printf 'service imap {\n  tls = sometimes\n}\n'; } \
		>"$W/policy.bad"
	policy_set "$W/policy.bad"
	pid=$(dovecot_pid)
	# dpkg would give unpacked files the package's time stamps.
	touch "$R"/usr/lib/dovecot/modules/*/*mailward*.so
	mtimes=$(stat -c %Y "$R"/usr/lib/dovecot/modules/*/*mailward*.so)
	if in_root dpkg -i "$(root_deb dovecot-mailward)" >"$W/upgrade.log" 2>&1; then
		mwt_not_ok "an upgrade with a policy that does not load fails"
	else
		mwt_ok "an upgrade with a policy that does not load fails"
	fi
	mwt_check "... saying why, with file:line:column" \
		sh -c "grep -q 'does not load' '$W/upgrade.log' &&
			grep -q '/etc/mailward/mailward.conf:[0-9]*:[0-9]*: error' '$W/upgrade.log'"
	sed 's/^/# /' "$W/upgrade.log"
	mwt_check "... and Dovecot was not restarted" \
		sh -c "[ \"\$(cat '$R/run/dovecot/master.pid')\" = '$pid' ]"
	mwt_check "... and dovecot-mailward stays installed and configured" \
		sh -c "chroot '$R' dpkg-query -W -f='\${Status}' dovecot-mailward | grep -qx 'install ok installed'"
	mwt_check "... and the modules were not unpacked again" \
		sh -c "[ \"\$(stat -c %Y '$R'/usr/lib/dovecot/modules/*/*mailward*.so)\" = '$mtimes' ]"
	policy_set "$W/policy.deny"

	# --- mailward audit ---------------------------------------------------
	# It reads doveconf -n, postconf -n and -M and the policy: exit 0
	# clean, 1 with a high-severity finding, 2 when it cannot read them.
	if in_root mailward 2>&1 | grep -qw audit; then
		in_root mailward audit >"$W/audit.out" 2>&1
		rc=$?
		sed 's/^/# audit: /' "$W/audit.out"
		mwt_check "mailward audit reads the installed Dovecot, Postfix and policy (exit $rc)" \
			[ "$rc" -le 1 ]
		in_root mailward audit --json >"$W/audit.json" 2>/dev/null
		mwt_check "mailward audit --json prints JSON" \
			sh -c "python3 -m json.tool '$W/audit.json' >/dev/null"
	else
		mwt_diag "mailward audit: not in this version yet"
	fi

	# --- the milter, as its unit starts it ------------------------------------
	unit=$(unit_file) || fail_all "mailward-milter.service is installed"
	exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
	exec_reload=$(sed -n 's/^ExecReload=//p' "$unit")
	mwt_check "the unit: Type=simple, the foreground flag, Restart=on-failure, sandboxed" \
		sh -c "grep -qx 'Type=simple' '$unit' && grep -qx 'Restart=on-failure' '$unit' &&
			grep -qx 'NoNewPrivileges=yes' '$unit' && grep -qx 'ProtectSystem=strict' '$unit' &&
			grep -qx 'PrivateTmp=yes' '$unit' && case '$exec_start' in *' -f '*) ;; *) false ;; esac"
	mwt_check "systemd-analyze verify accepts the unit" \
		in_root systemd-analyze verify --man=no mailward-milter.service
	mwt_check "the unit is enabled (multi-user.target)" \
		test -L "$R/etc/systemd/system/multi-user.target.wants/mailward-milter.service"
	in_root systemd-analyze security --offline=yes mailward-milter.service 2>/dev/null |
		sed -n 's/^.*Overall exposure level/# systemd-analyze security: overall exposure level/p'
	mwt_check "the tmpfiles entry, run by the installation, made /run/mailward for the user mailward" \
		sh -c "[ \"\$(chroot '$R' stat -c '%U %a' /run/mailward)\" = 'mailward 755' ]"
	# chroot executes the command: $! is the milter, systemd's $MAINPID.
	# shellcheck disable=SC2086
	chroot "$R" $exec_start >"$W/milter.log" 2>&1 &
	milter_pid=$!
	sock=$R/var/spool/postfix/mailward/milter.sock
	if mwt_wait_for 10 test -S "$sock"; then
		mwt_ok "ExecStart ($exec_start) makes the socket in Postfix's chroot"
	else
		mwt_not_ok "ExecStart ($exec_start) makes the socket in Postfix's chroot"
		sed 's/^/# /' "$W/milter.log"
	fi
	mwt_check "the pid file names the process ExecStart started" \
		sh -c "[ \"\$(cat '$R/run/mailward/mailward-milter.pid' 2>/dev/null)\" = '$milter_pid' ]"
	sock_perm=$(in_root stat -c '%A %U:%G' /var/spool/postfix/mailward/milter.sock)
	mwt_check "the socket is the group postfix's, and only the milter's and Postfix's ($sock_perm)" \
		socket_for_postfix "$sock_perm"
	mwt_check "the milter answers on its socket: 127.0.0.9 may send" \
		milter_mail 127.0.0.9 pass
	# The installed policy names no MX service: the milter lets its mail
	# through.  After the reload, the MX refuses 127.0.0.9.
	{ cat "$W/policy.deny"; printf 'service mx {\n  postfix_daemon_name = MX\n  deny net 127.0.0.9\n}\n'; } \
		>"$W/policy.mx"
	policy_set "$W/policy.mx"
	reload=${exec_reload//\$MAINPID/$milter_pid}
	# shellcheck disable=SC2086
	in_root $reload
	if mwt_wait_for 5 milter_mail 127.0.0.9 reject; then
		mwt_ok "after ExecReload ($exec_reload) with \"deny net 127.0.0.9\" on the MX, it refuses 127.0.0.9"
	else
		mwt_not_ok "after ExecReload with \"deny net 127.0.0.9\" on the MX, it refuses 127.0.0.9"
		sed 's/^/# /' "$W/miltertest.out" "$W/milter.log"
	fi
	# As systemd stops it.
	kill -TERM "$milter_pid"
	mwt_check "SIGTERM stops the milter" \
		mwt_wait_for 10 sh -c "! kill -0 $milter_pid 2>/dev/null"
	policy_set "$W/policy.deny"

	# --- remove and purge, with mailward enabled ----------------------------
	pid=$(dovecot_pid)
	dovecot_log_mark
	if in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y \
		mailward mailward-milter dovecot-mailward >"$W/remove.log" 2>&1; then
		mwt_ok "apt-get remove, with mailward enabled"
	else
		mwt_not_ok "apt-get remove, with mailward enabled"
		tail -n 30 "$W/remove.log" | sed 's/^/# /'
	fi
	mwt_check "dovecot-core's trigger restarted Dovecot" wait_restart "$pid"
	expect_login 127.0.0.1 "removed: the user logs in"
	expect_login 127.0.0.2 "removed: 127.0.0.2, denied by the policy before, logs in"
	mwt_check "removed: no login process failed (no Fatal in Dovecot's log)" \
		sh -c "! tail -c +$((DOVECOT_LOG_MARK + 1)) '$R/var/log/dovecot.log' | grep -q 'Fatal'"
	mwt_check "removed: 05-mailward.conf (enabled) stays, including nothing" \
		sh -c "grep -q '^!include_try' '$snippet' && ! chroot '$R' doveconf -n | grep -q mailward"

	pid=$(dovecot_pid)
	if in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y \
		mailward mailward-milter dovecot-mailward >"$W/purge.log" 2>&1; then
		mwt_ok "apt-get purge"
	else
		mwt_not_ok "apt-get purge"
		tail -n 30 "$W/purge.log" | sed 's/^/# /'
	fi
	mwt_check "purged: 05-mailward.conf and the ucf registration are gone" \
		sh -c "! test -e '$snippet' && [ -z \"\$(chroot '$R' ucfq -w dovecot-mailward)\" ]"
	mwt_check "purged: /etc/mailward/mailward.conf and the unit's enablement are gone" \
		sh -c "! test -e '$R/etc/mailward/mailward.conf' &&
			! test -e '$R/etc/systemd/system/multi-user.target.wants/mailward-milter.service'"
	dovecot_log_mark
	in_root invoke-rc.d dovecot restart >/dev/null 2>&1
	mwt_check "purged: Dovecot restarts" wait_restart "$pid"
	expect_login 127.0.0.1 "purged: the user logs in"
	mwt_check "purged: no Fatal in Dovecot's log" \
		sh -c "! tail -c +$((DOVECOT_LOG_MARK + 1)) '$R/var/log/dovecot.log' | grep -q 'Fatal'"

	in_root invoke-rc.d dovecot stop >/dev/null 2>&1
	mwt_done
}

if [ "${1:-}" = --in-namespaces ]; then
	in_namespaces
	exit $?
fi

# --- first part: build, check, make the root ------------------------------

if [ "$(id -u)" -ne 0 ]; then
	fail_all "the package test needs root (debootstrap, chroot, namespaces)"
fi
for tool in dpkg-buildpackage lintian debootstrap miltertest python3 unshare; do
	command -v "$tool" >/dev/null || fail_all "$tool is not installed (tests/install-deps)"
done
mkdir -p "$W"
W=$(cd "$W" && pwd)
R=$W/root
BASE=$W/root-base
DEBS=$W/debs
started=$(date +%s)

# Build from a copy of the source tree: dpkg-buildpackage writes the
# packages into the parent directory.
rm -rf "$W/src" "$DEBS"
mkdir -p "$W/src" "$DEBS"
(cd "$MW_SRCDIR" && tar --exclude=./build --exclude=./build-san \
	--exclude=./build-fuzz --exclude=./tests/tmp --exclude=./.git \
	--exclude=./Makefile -cf - .) | tar -xf - -C "$W/src"
if (cd "$W/src" && dpkg-buildpackage -us -uc -b) >"$W/build.log" 2>&1; then
	mwt_ok "dpkg-buildpackage -us -uc -b builds the packages"
else
	mwt_not_ok "dpkg-buildpackage -us -uc -b builds the packages"
	tail -n 40 "$W/build.log" | sed 's/^/# /'
	exit 1
fi
mv "$W"/*.deb "$W"/*.changes "$W"/*.buildinfo "$DEBS/"
rm -rf "$W/src"
mwt_check "dh_auto_test ran the unit and golden tests, none failed" \
	grep -qE '^[1-9][0-9]* passed, 0 failed$' "$W/build.log"
deb() { ls "$DEBS/$1"_*.deb; }
field() { dpkg-deb -f "$(deb "$1")" "$2"; }
mwt_check "three packages: mailward, dovecot-mailward, mailward-milter" \
	sh -c "ls '$DEBS'/mailward_*.deb '$DEBS'/dovecot-mailward_*.deb '$DEBS'/mailward-milter_*.deb >/dev/null"
abi=$(cat /usr/share/dovecot/dovecot-abi)
mwt_check "dovecot-mailward depends on dovecot-abi-$abi, enhances dovecot-imapd, -pop3d, -submissiond" \
	sh -c "echo '$(field dovecot-mailward Depends)' | grep -q 'dovecot-abi-$abi' &&
		[ '$(field dovecot-mailward Enhances)' = 'dovecot-imapd, dovecot-pop3d, dovecot-submissiond' ]"
mwt_check "mailward and mailward-milter need no Dovecot; mailward-milter recommends postfix" \
	sh -c "! echo '$(field mailward Depends) $(field mailward-milter Depends) $(field mailward-milter Pre-Depends)' | grep -q dovecot &&
		[ '$(field mailward-milter Recommends)' = postfix ]"
lintian "$DEBS"/*.changes >"$W/lintian.log" 2>&1
mwt_check "lintian reports no error or warning" sh -c "! grep -qE '^[EW]: ' '$W/lintian.log'"
sed 's/^/# lintian: /' "$W/lintian.log"
mwt_diag "build and lintian: $(($(date +%s) - started)) s"

# This machine's apt sources for its release, main only, one "URI SUITE"
# a line: the release's own suite, then its updates and security suites.
release_sources() {
	python3 - <<'PY'
import glob, re
codename = ""
for line in open("/etc/os-release"):
    if line.startswith("VERSION_CODENAME="):
        codename = line.split("=", 1)[1].strip().strip('"')
entries = []
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        text = open(path).read()
    except OSError:
        continue
    for line in text.splitlines():
        line = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(line) >= 4 and line[0] == "deb":
            entries.append((line[1], [line[2]], line[3:]))
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in re.split(r"\n\s*\n", open(path).read()):
        f = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[0].isspace():
                continue
            k, v = line.split(":", 1)
            f[k.strip().lower()] = v.split()
        if "deb" in f.get("types", []) and f.get("enabled", ["yes"]) != ["no"]:
            for uri in f.get("uris", []):
                entries.append((uri, f.get("suites", []), f.get("components", [])))
seen = set()
for uri, suites, comps in entries:
    for suite in suites:
        if (suite == codename or suite.startswith(codename + "-")) and \
           "main" in comps and (uri, suite) not in seen:
            seen.add((uri, suite))
            print(uri, suite)
PY
}
release_sources >"$W/sources"
read -r mirror suite <<EOF
$(awk '$2 !~ /-/' "$W/sources")
EOF
[ -n "${mirror:-}" ] || fail_all "no Debian mirror for this release in the apt sources"
mwt_diag "throw-away root: Debian $suite"

# The base root: debootstrap, then Dovecot (IMAP, POP3), Postfix and the
# snakeoil certificate Dovecot's TLS uses, with no service started.
# systemd, not running, as on a Debian server: its tmpfiles run from the
# packages' maintainer scripts, and systemd-analyze checks the unit.
BASE_PACKAGES="dovecot-imapd dovecot-pop3d postfix ssl-cert systemd"
export BASE_PACKAGES
stamp="$(cat "$W/sources") $BASE_PACKAGES postfix:local"
if [ -z "${MW_PACKAGE_KEEP_BASE:-}" ] || [ "$(cat "$BASE/.mw-base" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$BASE"
	if ! debootstrap --variant=minbase "$suite" "$BASE" "$mirror" \
		>"$W/debootstrap.log" 2>&1; then
		tail -n 20 "$W/debootstrap.log" | sed 's/^/# /'
		fail_all "debootstrap $suite"
	fi
	awk '{ print "deb " $1 " " $2 " main" }' "$W/sources" \
		>"$BASE/etc/apt/sources.list"
	printf '#!/bin/sh\nexit 101\n' >"$BASE/usr/sbin/policy-rc.d"
	chmod 755 "$BASE/usr/sbin/policy-rc.d"
	if ! unshare -m sh -c '
		mount -t proc proc "$1/proc" &&
		chroot "$1" sh -c "export DEBIAN_FRONTEND=noninteractive
			echo postfix postfix/main_mailer_type select Local only |
				debconf-set-selections
			echo postfix postfix/mailname string mail.mailward.test |
				debconf-set-selections
			apt-get update &&
			apt-get install -y --no-install-recommends $BASE_PACKAGES"' \
		sh "$BASE" \
		>"$W/base.log" 2>&1; then
		tail -n 20 "$W/base.log" | sed 's/^/# /'
		fail_all "Dovecot and Postfix install in the root"
	fi
	echo "$stamp" >"$BASE/.mw-base"
fi
mwt_ok "a throw-away Debian $suite root with Dovecot and Postfix ($(($(date +%s) - started)) s so far)"

# A fresh copy for this run, with what the packages need downloaded (the
# second part has no network).
rm -rf "$R"
cp -a "$BASE" "$R"
mkdir -p "$R/tmp/debs"
cp "$DEBS"/mailward_*.deb "$DEBS"/dovecot-mailward_*.deb "$DEBS"/mailward-milter_*.deb "$R/tmp/debs/"
if ! unshare -m sh -c '
	mount -t proc proc "$1/proc" &&
	chroot "$1" sh -c "apt-get install -y --no-install-recommends \
		--download-only /tmp/debs/*.deb"' sh "$R" >"$W/download.log" 2>&1; then
	tail -n 20 "$W/download.log" | sed 's/^/# /'
	fail_all "the packages' dependencies download into the root"
fi

MWT_N_BEFORE=$mwt_n unshare -n -m -p --fork --mount-proc \
	"$0" --in-namespaces
rc=$?
mwt_diag "package test: $(($(date +%s) - started)) s"
# The roots take some 400 MB each: kept only for looking into a failure,
# and the base root for MW_PACKAGE_KEEP_BASE.
if [ "$mwt_failures" -eq 0 ] && [ "$rc" -eq 0 ]; then
	rm -rf "$R"
	[ -n "${MW_PACKAGE_KEEP_BASE:-}" ] || rm -rf "$BASE"
	exit 0
fi
mwt_diag "the throw-away root is kept for a look: $R"
exit 1

#!/bin/sh
# The Dovecot modules under valgrind: a private Dovecot runs its auth
# process (the passdb) and its imap-login processes (the login plugin)
# under valgrind while real clients go through allowed, denied, cleartext,
# host-name and credentials-lookup decisions and two policy reloads.  An
# invalid access or a definitely or indirectly lost block with mailward
# code on its stack fails the test; what Dovecot itself loses is shown as
# TAP comments.  Same namespaces as test-dovecot.sh; needs root.
set -u

: "${MW_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${MW_BUILDDIR:=build}"
export MW_SRCDIR MW_BUILDDIR
# keep the source tree free of __pycache__
export PYTHONDONTWRITEBYTECODE=1

case $MW_BUILDDIR in
/*) ;;
*) MW_BUILDDIR=$(pwd)/$MW_BUILDDIR ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok 1 - the Dovecot tests need root (namespaces, dovecot)"
	exit 1
fi
if ! command -v valgrind >/dev/null 2>&1; then
	echo "not ok 1 - valgrind is not installed (Debian package valgrind)"
	exit 1
fi
for f in libauthdb_mailward.so lib95_mailward_login_plugin.so; do
	if [ ! -f "$MW_BUILDDIR/dovecot-plugin/$f" ]; then
		echo "not ok 1 - $MW_BUILDDIR/dovecot-plugin/$f not built"
		exit 1
	fi
done

exec unshare --net --mount --propagation private \
	python3 "$MW_SRCDIR/tests/dovecot/valgrind_dovecot.py" "$@"

#!/bin/sh
# Integration tests of the Dovecot modules against a real, private Dovecot.
# The tests run in their own network and mount namespace, so that they can
# bind the resolver files, Dovecot's auth module directory and port 53 on
# loopback without touching the machine.  Needs root.
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
for f in libauthdb_mailward.so lib95_mailward_login_plugin.so; do
	if [ ! -f "$MW_BUILDDIR/dovecot-plugin/$f" ]; then
		echo "not ok 1 - $MW_BUILDDIR/dovecot-plugin/$f not built"
		exit 1
	fi
done

# valgrind-dovecot.sh runs its own driver in the same set-up.
exec unshare --net --mount --propagation private \
	python3 "$MW_SRCDIR/tests/dovecot/${MWT_DOVECOT_DRIVER:-test_dovecot.py}" "$@"

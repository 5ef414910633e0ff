#!/bin/sh
# make bench: logins per second through a real Dovecot with and without the
# mailward modules.  Runs in its own network and mount namespace like the
# tests (see test-dovecot.sh); needs root.
set -eu

: "${MW_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${MW_BUILDDIR:=build}"
case $MW_BUILDDIR in
/*) ;;
*) MW_BUILDDIR=$(pwd)/$MW_BUILDDIR ;;
esac
export MW_SRCDIR MW_BUILDDIR
# keep the source tree free of __pycache__
export PYTHONDONTWRITEBYTECODE=1

exec unshare --net --mount --propagation private \
	python3 "$MW_SRCDIR/tests/dovecot/${MWT_BENCH_DRIVER:-bench_dovecot.py}" "$@"

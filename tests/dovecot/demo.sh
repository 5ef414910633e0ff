#!/bin/sh
# Shows mailward's decisions on a running, private Dovecot: what each client
# sees and the line logged for it.  Needs root and a build ("make").
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
	python3 "$MW_SRCDIR/tests/dovecot/demo.py" "$@"

#!/bin/sh
# The Dovecot 2.3 / 2.4 compatibility layer against the installed Dovecot
# (compat_dovecot.py), in test-dovecot.sh's namespace set-up.
MWT_DOVECOT_DRIVER=compat_dovecot.py
export MWT_DOVECOT_DRIVER
exec "$(dirname "$0")/test-dovecot.sh" "$@"

#!/bin/sh
# One policy version at a time in the auth and login processes, changed
# by doveadm reload only: the same private Dovecot as test-dovecot.sh.
MWT_DOVECOT_DRIVER=test_dovecot_reload.py
export MWT_DOVECOT_DRIVER
exec "$(dirname "$0")/test-dovecot.sh" "$@"

#!/bin/sh
# What the login process offers before the host name is known, the
# client texts, "secured" connections, one policy version at a time and
# the start-up warnings: the same private Dovecot as test-dovecot.sh.
MWT_DOVECOT_DRIVER=test_dovecot_policy.py
export MWT_DOVECOT_DRIVER
exec "$(dirname "$0")/test-dovecot.sh" "$@"

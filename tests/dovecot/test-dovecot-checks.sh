#!/bin/sh
# Start-up checks of the Dovecot modules (a passdb order that skips the
# policy, a missing passdb or login plugin, Dovecot's cleartext switch
# against the policy): the same private Dovecot as test-dovecot.sh.
MWT_DOVECOT_DRIVER=test_dovecot_checks.py
export MWT_DOVECOT_DRIVER
exec "$(dirname "$0")/test-dovecot.sh" "$@"

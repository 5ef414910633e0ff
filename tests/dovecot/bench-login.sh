#!/bin/sh
# make bench-dovecot-login: IMAP banner latency and logins per second by
# the size of the policy, with and without mailward, in the same set-up
# as bench-dovecot.sh.
MWT_BENCH_DRIVER=bench_login.py
export MWT_BENCH_DRIVER
exec "$(dirname "$0")/bench-dovecot.sh" "$@"

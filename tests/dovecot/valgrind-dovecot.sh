#!/bin/sh
# The Dovecot modules under valgrind: a private Dovecot runs its auth
# process (the passdb) and its imap-login processes (the login plugin)
# under valgrind while real clients go through allowed, denied, cleartext,
# host-name and credentials-lookup decisions and two policy reloads.  An
# invalid access or a definitely or indirectly lost block with mailward
# code on its stack fails the test; what Dovecot itself loses is shown as
# TAP comments.  Same namespaces as test-dovecot.sh; needs root.
set -u

if ! command -v valgrind >/dev/null 2>&1; then
	echo "not ok 1 - valgrind is not installed (Debian package valgrind)"
	exit 1
fi
MWT_DOVECOT_DRIVER=valgrind_dovecot.py
export MWT_DOVECOT_DRIVER
exec "$(dirname "$0")/test-dovecot.sh" "$@"

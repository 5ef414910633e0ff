#!/bin/sh
# mailward-milter under valgrind: the supervisor and its worker serve a
# rejected and an accepted MAIL FROM, partner senders in many spellings, a
# TLS-Required header removed and refused, a message signed with S/MIME,
# a reload and a failed reload (and the supervisor's heartbeats all the
# while), then stop on SIGTERM.  Any invalid access,
# or any memory definitely or indirectly lost at exit, in either process
# fails the test.  Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

for tool in valgrind miltertest openssl python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "not ok 1 - $tool is not installed"
		exit 1
	fi
done

mwt_init
mwt_smime_keys || { echo "not ok 1 - the test PKI"; exit 1; }
mkdir "$MWT_TMP/vg"
POLICY=$MWT_TMP/policy.conf
cp "$MWT_DIR/policy.conf" "$POLICY"
cat >>"$POLICY" <<EOT

smime {
  sign            = authenticated
  keytable        = $MWT_TMP/smime.keys
  spool_threshold = 16K
  tmpdir          = $MWT_TMP/spool
}
EOT
chmod 644 "$POLICY"
[ "$(id -u)" -ne 0 ] || chown nobody "$MWT_TMP/vg"
SOCKET=unix:$MWT_TMP/run/milter.sock

MWT_MILTER_WRAPPER="valgrind -q --vgdb=no --leak-check=full \
--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
--log-file=$MWT_TMP/vg/vg.%p"
MWT_START_SECONDS=60
# valgrind slows the worker down many times over on a loaded machine: a
# heartbeat that waits longer, so that it does not kill a worker that is
# only slow.
MWT_MILTER_ARGS="-W 60"
mwt_check "the milter starts under valgrind" mwt_milter_start "$POLICY" "$SOCKET"

mt() {
	miltertest -D "socket=$SOCKET" -D "srcdir=$MW_SRCDIR" \
		-s "$MWT_DIR/lua/$1" >"$MWT_TMP/mt.out" 2>&1 && return 0
	sed 's/^/# /' "$MWT_TMP/mt.out"
	tail -n 5 "$MWT_TMP/milter.log" | sed 's/^/# log: /'
	return 1
}
mwt_check "a refused plain submission" mt submission-plain.lua
mwt_check "an accepted partner" mt partner-ok.lua
mwt_check "a partner refused without its certificate" mt partner-nocert.lua
mwt_check "partner senders in every spelling, parsed" mt partner-forms.lua
mwt_check "a sender with control characters, logged escaped" mt log-escape.lua
mwt_check "TLS-Required on mail to partners: removed and refused" mt tls-required.lua

python3 "$MW_SRCDIR/tests/smime/gen-corpus.py" "$MWT_TMP/corpus" >/dev/null
mwt_check "a message signed on its way through (spooled to a file)" sh -c "
	python3 '$MW_SRCDIR/tests/smime/milter-client.py' '$SOCKET' \
		alice@example.org '$MWT_TMP/corpus/alternative-attachments.eml' \
		'$MWT_TMP/signed.eml' &&
	openssl cms -verify -in '$MWT_TMP/signed.eml' -CAfile '$pki/root.pem' \
		-out /dev/null 2>/dev/null"

mwt_log_mark
kill -HUP "$MILTER_PID"
mwt_check "a reload" mwt_wait_for 30 mwt_log_has_now "policy reloaded"
echo "service mx { partners = sometimes }" >>"$POLICY"
mwt_log_mark
kill -HUP "$MILTER_PID"
mwt_check "a failed reload" mwt_wait_for 30 mwt_log_has_now "reload failed"
mwt_check "a message after the failed reload" mt mx-nonpartner.lua

kill -TERM "$MILTER_PID"
mwt_check "stops on SIGTERM" \
	mwt_wait_for 60 sh -c "! kill -0 $MILTER_PID 2>/dev/null"

# One report per process (supervisor and worker); each is empty when
# valgrind found nothing.
reports=$(find "$MWT_TMP/vg" -name 'vg.*' | wc -l)
mwt_check "valgrind watched the supervisor and the worker ($reports reports)" \
	[ "$reports" -ge 2 ]
if cat "$MWT_TMP"/vg/vg.* | grep -q '^==[0-9]*=='; then
	mwt_not_ok "no invalid access and no memory lost"
	cat "$MWT_TMP"/vg/vg.* | sed 's/^/# /' | head -80
else
	mwt_ok "no invalid access and no memory lost"
fi
echo "1..$mwt_n"
mwt_done

-- Submission over TLS with a cipher below tls_min_bits is refused.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("ORIGINATING", "localhost", "127.0.0.1")
expect("MAIL", mw_mail(conn, "<alice@example.org>",
		       with_auth(tls_macros(128), "alice")), SMFIR_REPLYCODE)
mt.disconnect(conn)

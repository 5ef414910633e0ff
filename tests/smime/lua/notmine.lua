-- A login may not sign as someone else's From address.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("ORIGINATING", "localhost", "127.0.0.1")
expect("MAIL", mw_mail(conn, "<mallory@example.org>",
		       with_auth(tls_macros(256), "mallory@example.org")),
       SMFIR_CONTINUE)
mw_message(conn, "Alice <alice@example.org>")
if mt.eom_check(conn, MT_BODYCHANGE) then
	fail("the message was signed")
end
mt.disconnect(conn)

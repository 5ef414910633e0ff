-- A sender without a key passes unchanged.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("ORIGINATING", "localhost", "127.0.0.1")
expect("MAIL", mw_mail(conn, "<bob@example.org>",
		       with_auth(tls_macros(256), "bob@example.org")),
       SMFIR_CONTINUE)
mw_message(conn, "bob@example.org")
if mt.eom_check(conn, MT_BODYCHANGE) or
   mt.eom_check(conn, MT_HDRCHANGE, "Content-Type") then
	fail("the message was changed")
end
mt.disconnect(conn)

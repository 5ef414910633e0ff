-- A login may not sign as someone else's From address.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("ORIGINATING", "localhost", "127.0.0.1")
expect("MAIL", mw_mail(conn, "<mallory@example.org>",
		       with_auth(tls_macros(256), "mallory@example.org")),
       SMFIR_CONTINUE)
if mt.header(conn, "From", "Alice <alice@example.org>") ~= nil or
   mt.getreply(conn) ~= SMFIR_CONTINUE or
   mt.eoh(conn) ~= nil or mt.getreply(conn) ~= SMFIR_CONTINUE or
   mt.bodystring(conn, "hello\r\n") ~= nil or
   mt.getreply(conn) ~= SMFIR_CONTINUE or mt.eom(conn) ~= nil then
	fail("sending the message failed")
end
expect("end of message", mt.getreply(conn), SMFIR_CONTINUE)
if mt.eom_check(conn, MT_BODYCHANGE) then
	fail("the message was signed")
end
mt.disconnect(conn)

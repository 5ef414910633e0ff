-- A sender without a key passes unchanged.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("ORIGINATING", "localhost", "127.0.0.1")
expect("MAIL", mw_mail(conn, "<bob@example.org>",
		       with_auth(tls_macros(256), "bob@example.org")),
       SMFIR_CONTINUE)
if mt.header(conn, "From", "bob@example.org") ~= nil or
   mt.getreply(conn) ~= SMFIR_CONTINUE or
   mt.eoh(conn) ~= nil or mt.getreply(conn) ~= SMFIR_CONTINUE or
   mt.bodystring(conn, "hello\r\n") ~= nil or
   mt.getreply(conn) ~= SMFIR_CONTINUE or mt.eom(conn) ~= nil then
	fail("sending the message failed")
end
expect("end of message", mt.getreply(conn), SMFIR_CONTINUE)
if mt.eom_check(conn, MT_BODYCHANGE) or
   mt.eom_check(conn, MT_HDRCHANGE, "Content-Type") then
	fail("the message was changed")
end
mt.disconnect(conn)

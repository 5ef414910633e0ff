-- A processor that fails at the end of the message tempfails the message.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("ORIGINATING", "localhost", "127.0.0.1")
expect("MAIL", mw_mail(conn, "<alice@example.org>",
		       with_auth(tls_macros(256), "alice")), SMFIR_CONTINUE)
if mt.header(conn, "X-Test-Fail", "yes") ~= nil or
   mt.getreply(conn) ~= SMFIR_CONTINUE or
   mt.eoh(conn) ~= nil or mt.getreply(conn) ~= SMFIR_CONTINUE or
   mt.bodystring(conn, "hello\r\n") ~= nil or
   mt.getreply(conn) ~= SMFIR_CONTINUE then
	fail("sending the content failed")
end
if mt.eom(conn) ~= nil then
	fail("mt.eom() failed")
end
expect("end of message", mt.getreply(conn), SMFIR_REPLYCODE)
if not mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0",
		    "Local error in processing; try again later") then
	fail("no 451 4.3.0 reply")
end
mt.disconnect(conn)

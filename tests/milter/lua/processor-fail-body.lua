-- A processor that fails on the body (a full spool disk) tempfails the
-- message; miltertest.sh checks that the log says why.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mw_connect("ORIGINATING", "localhost", "127.0.0.1")
expect("MAIL", mw_mail(conn, "<alice@example.org>",
		       with_auth(tls_macros(256), "alice")), SMFIR_CONTINUE)
if mt.header(conn, "X-Test-Fail-Body", "yes") ~= nil or
   mt.getreply(conn) ~= SMFIR_CONTINUE or
   mt.eoh(conn) ~= nil or mt.getreply(conn) ~= SMFIR_CONTINUE or
   mt.bodystring(conn, "hello\r\n") ~= nil then
	fail("sending the content failed")
end
expect("body", mt.getreply(conn), SMFIR_REPLYCODE)
mt.disconnect(conn)

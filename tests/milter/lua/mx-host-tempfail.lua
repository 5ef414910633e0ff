-- Postfix's lookup of the client name failed for now ({client_resolve}
-- TEMP): a host rule cannot be decided, and the policy's dns on_error
-- (tempfail by default) answers.
dofile(srcdir .. "/tests/milter/lua/lib.lua")
local conn = mt.connect(socket, 40, 0.25)
if conn == nil then
	fail("cannot connect to " .. socket)
end
mt.macro(conn, SMFIC_CONNECT, "{daemon_name}", "MX",
	 "{daemon_addr}", "127.0.0.1", "{client_resolve}", "TEMP")
if mt.conninfo(conn, "[192.0.2.9]", "192.0.2.9") ~= nil then
	fail("mt.conninfo() failed")
end
mt.getreply(conn)
expect("MAIL", mw_mail(conn, "<x@example.com>", {}), SMFIR_REPLYCODE)
mt.disconnect(conn)
